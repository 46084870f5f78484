#include "rgw_xo/connection_limit.h"

#include <algorithm>

namespace xo::gw {

namespace {

// Listeners, the access log, responder control channels (one per worker and
// responder host), librados' monitor and OSD connections, refusals in progress.
constexpr std::uint64_t reserved_files = 256;
// Below this the gateway would be useless; the accept loops' backoff copes
// if the descriptors really run out.
constexpr std::size_t fewest_connections = 16;

} // namespace

std::size_t connections_for_open_files(std::uint64_t open_files)
{
    const std::uint64_t usable = open_files > reserved_files ? open_files - reserved_files : 0;
    return std::max<std::size_t>(fewest_connections, static_cast<std::size_t>(usable / 2));
}

} // namespace xo::gw
