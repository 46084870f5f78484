#include "osd_xo/range_slicer.h"

#include <algorithm>

namespace xo::rsp {

Result<RangeSlicer> RangeSlicer::create(rgw::ExtentCursor extents, std::uint64_t first, std::uint64_t length,
                                        std::uint64_t max_piece)
{
    if (max_piece == 0)
        return Error{"piece size must be positive", EINVAL};
    const std::uint64_t size = extents.object_size();
    if (length > size || first > size - length)
        return Error{"range " + std::to_string(first) + "+" + std::to_string(length) + " is outside the " +
                         std::to_string(size) + " bytes the manifest describes",
                     ERANGE};
    if (auto r = extents.seek(first); !r)
        return r.error();
    return RangeSlicer(std::move(extents), first, first + length, max_piece);
}

std::optional<rgw::Extent> RangeSlicer::next()
{
    if (position_ >= end_)
        return std::nullopt;
    // The cursor's extents tile the object (rgw_manifest.h), so the one
    // holding position_ comes before it runs out.
    while (!extent_ || extent_->logical_offset + extent_->length <= position_) {
        extent_ = extents_.next();
        if (!extent_)
            return std::nullopt;
    }
    const rgw::Extent& e = *extent_;
    std::uint64_t into = position_ - e.logical_offset;
    std::uint64_t n = std::min({e.length - into, end_ - position_, max_piece_});
    rgw::Extent piece = e;
    piece.rados_offset = e.rados_offset + into;
    piece.logical_offset = position_;
    piece.length = n;
    position_ += n;
    return piece;
}

} // namespace xo::rsp
