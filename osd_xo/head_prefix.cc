#include "osd_xo/head_prefix.h"

#include <algorithm>

namespace xo::rsp {

Result<Bytes> head_prefix(const handoff::ServePlan& plan, const std::optional<rgw::Extent>& first, const HeadSnapshot& snap,
                          std::uint64_t read_length)
{
    const bool has_head = first && first->oid == plan.oid && first->rados_offset == 0;
    const std::uint64_t head_end = has_head ? first->length : 0;
    if (snap.size < head_end)
        return Error{"head object holds " + std::to_string(snap.size) + " bytes, its manifest says " +
                         std::to_string(head_end),
                     EIO};
    if (plan.first >= head_end)
        return Bytes{};
    std::uint64_t want = std::min(read_length, head_end - plan.first);
    if (snap.data.size() < want)
        return Error{"head read gave " + std::to_string(snap.data.size()) + " of " + std::to_string(want) + " bytes",
                     EIO};
    return Bytes(snap.data.begin(), snap.data.begin() + static_cast<std::ptrdiff_t>(want));
}

} // namespace xo::rsp
