#include "range_slicer.h"

#include <algorithm>

namespace xo::rsp {

Result<RangeSlicer> RangeSlicer::create(std::span<const rgw::Extent> extents, std::uint64_t first,
                                        std::uint64_t length, std::uint64_t max_piece)
{
    if (max_piece == 0)
        return Error{"piece size must be positive", EINVAL};
    // Checked here once, so next() can trust every extent it steps onto.
    std::uint64_t covered = 0;
    for (const auto& e : extents) {
        if (e.logical_offset != covered || e.length == 0)
            return Error{"manifest extents are not contiguous at logical offset " + std::to_string(covered), EINVAL};
        covered += e.length;
    }
    if (length > covered || first > covered - length)
        return Error{"range " + std::to_string(first) + "+" + std::to_string(length) + " is outside the " +
                         std::to_string(covered) + " bytes the manifest describes",
                     ERANGE};
    // The extent holding @first: the last one starting at or before it.
    auto it = std::upper_bound(extents.begin(), extents.end(), first,
                               [](std::uint64_t ofs, const rgw::Extent& e) { return ofs < e.logical_offset; });
    std::size_t index = it == extents.begin() ? 0 : static_cast<std::size_t>(it - extents.begin()) - 1;
    return RangeSlicer(extents, index, first, first + length, max_piece);
}

std::optional<rgw::Extent> RangeSlicer::next()
{
    if (position_ >= end_)
        return std::nullopt;
    while (extents_[index_].logical_offset + extents_[index_].length <= position_)
        ++index_;
    const rgw::Extent& e = extents_[index_];
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
