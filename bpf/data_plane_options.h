// Theory of operation: what both data planes are configured with. The
// instance names the pin directory (/sys/fs/bpf/xo/<instance>), so two
// daemons on one host (or two tests) never share maps by accident, and a
// restarted daemon with the same instance finds its maps again. The map size
// must stay the same across restarts: a pinned map of another size is refused.
#pragma once

#include <cstdint>
#include <string>

#include "bpf/flow_maps.h"

namespace xo::bpf {

struct DataPlaneOptions {
    std::string instance;                           ///< pin directory name
    std::uint32_t max_flows = XO_DEFAULT_MAX_FLOWS; ///< entries per map
};

} // namespace xo::bpf
