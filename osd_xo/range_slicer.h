// Theory of operation: the part of an S3 object the responder owes a client
// is a byte range [first, first + length) of the object; the manifest gives
// the object as contiguous RADOS extents (whole stripes and parts), which an
// ExtentCursor makes one at a time. The RangeSlicer seeks the cursor to the
// extent holding the range's first byte and cuts the extents that overlap
// the range into read-sized pieces, each a sub-extent of exactly one RADOS
// object, in logical order: the first piece starts inside its stripe when
// the range does, the last ends inside its stripe when the range does, and
// no piece is longer than the read size (so one read is one piece). Extents
// and pieces are made on demand: a GET of a 5 TiB object (1.3 million
// stripes) holds one extent at a time, whatever its range.
#pragma once

#include <cstdint>
#include <optional>

#include "common/result.h"
#include "common/rgw/rgw_manifest.h"

namespace xo::rsp {

class RangeSlicer {
public:
    /**
     * create() - pieces of @length bytes from logical offset @first.
     * @extents:   the object's extents (any position; the slicer seeks it).
     * @max_piece: largest piece, > 0.
     *
     * Return: the slicer, or an Error when the range is not inside the
     * object @extents describe (the manifest and the plan disagree).
     */
    static Result<RangeSlicer> create(rgw::ExtentCursor extents, std::uint64_t first, std::uint64_t length,
                                      std::uint64_t max_piece);

    /** next() - the next piece, or nullopt once the range is covered. */
    std::optional<rgw::Extent> next();

    /** remaining() - bytes of the range not yet handed out as pieces. */
    std::uint64_t remaining() const { return end_ - position_; }

private:
    RangeSlicer(rgw::ExtentCursor extents, std::uint64_t first, std::uint64_t end, std::uint64_t max_piece)
        : extents_(std::move(extents)), position_(first), end_(end), max_piece_(max_piece)
    {
    }

    rgw::ExtentCursor extents_;
    std::optional<rgw::Extent> extent_; ///< the extent holding position_, once made
    std::uint64_t position_;            ///< logical offset of the next piece
    std::uint64_t end_;                 ///< logical offset after the range
    std::uint64_t max_piece_;
};

} // namespace xo::rsp
