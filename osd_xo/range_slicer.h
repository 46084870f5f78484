// Theory of operation: the part of an S3 object the responder owes a client
// is a byte range [first, first + length) of the object; the manifest gives
// the object as contiguous RADOS extents (whole stripes and parts). The
// RangeSlicer walks the extents that overlap the range and cuts them into
// read-sized pieces, each a sub-extent of exactly one RADOS object, in
// logical order: the first piece starts inside its stripe when the range
// does, the last ends inside its stripe when the range does, and no piece is
// longer than the read size (so one read is one piece). Pieces are made on
// demand: a 5 TiB object is 1.3 million stripes, which need not all exist as
// pieces at once.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "result.h"
#include "rgw_manifest.h"

namespace xo::rsp {

class RangeSlicer {
public:
    /**
     * create() - pieces of @length bytes from logical offset @first.
     * @extents:   contiguous from logical offset 0, in order (manifest_extents());
     *             must outlive the slicer.
     * @max_piece: largest piece, > 0.
     *
     * Return: the slicer, or an Error when the range is not covered by @extents
     * or the extents have holes (the manifest and the plan disagree).
     */
    static Result<RangeSlicer> create(std::span<const rgw::Extent> extents, std::uint64_t first,
                                      std::uint64_t length, std::uint64_t max_piece);

    /** next() - the next piece, or nullopt once the range is covered. */
    std::optional<rgw::Extent> next();

    /** remaining() - bytes of the range not yet handed out as pieces. */
    std::uint64_t remaining() const { return end_ - position_; }

private:
    RangeSlicer(std::span<const rgw::Extent> extents, std::size_t index, std::uint64_t first, std::uint64_t end,
                std::uint64_t max_piece)
        : extents_(extents), index_(index), position_(first), end_(end), max_piece_(max_piece)
    {
    }

    std::span<const rgw::Extent> extents_;
    std::size_t index_;          ///< extent holding position_
    std::uint64_t position_;     ///< logical offset of the next piece
    std::uint64_t end_;          ///< logical offset after the range
    std::uint64_t max_piece_;
};

} // namespace xo::rsp
