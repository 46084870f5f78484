// Reading Ceph's own binary encoding (the one behind ceph::encode/decode).
//
// Theory of operation: Ceph writes integers little-endian (unlike our own
// big-endian wire.h), a bool as one byte, a string or container as a 32-bit
// count followed by its elements, and a versioned structure as
// ENCODE_START's header — struct_v (u8), struct_compat (u8), struct_len
// (u32) — followed by struct_len bytes of body. CephReader reads those
// primitives and checks every read against what is left, so truncated or
// corrupt input becomes an Error, never an overread. begin_struct() hands
// back a reader confined to the structure's body: a field that runs past the
// declared length is an error, and end() refuses bytes left over, because
// leftover bytes mean fields of a version we do not understand.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "common/result.h"

namespace xo::rgw {

struct VersionedBody;

class CephReader {
public:
    /**
     * CephReader() - read @in; @base is @in's offset in the outermost
     * buffer, used only to say where an error is.
     */
    explicit CephReader(std::span<const std::uint8_t> in, std::size_t base = 0) : in_(in), base_(base) {}

    Result<std::uint8_t> u8(std::string_view what);
    Result<std::uint32_t> u32(std::string_view what);
    Result<std::uint64_t> u64(std::string_view what);
    /** boolean() - one byte, 0 or 1; any other value is refused as corrupt. */
    Result<bool> boolean(std::string_view what);
    /** string() - a u32 length and that many bytes, refused above @limit bytes. */
    Result<std::string> string(std::string_view what, std::size_t limit);

    /**
     * begin_struct() - read an ENCODE_START header and return the body.
     * @what:  the structure's name, for errors
     * @min_v: the oldest struct_v we decode
     * @max_v: the newest struct_v we decode
     *
     * A struct_v outside [@min_v, @max_v] is refused as unsupported, as is a
     * struct_compat above struct_v or a struct_len past the end of the input.
     * The body is skipped in this reader.
     */
    Result<VersionedBody> begin_struct(std::string_view what, std::uint8_t min_v, std::uint8_t max_v);

    /** end() - an error unless every byte has been read. */
    Result<void> end(std::string_view what) const;

    std::size_t remaining() const { return in_.size() - pos_; }
    /** offset() - the position, counted from the start of the outermost buffer. */
    std::size_t offset() const { return base_ + pos_; }

private:
    Result<std::uint64_t> get_le(std::string_view what, std::size_t n);
    Error truncated(std::string_view what, std::size_t need) const;

    std::span<const std::uint8_t> in_;
    std::size_t base_;
    std::size_t pos_ = 0;
};

/** struct VersionedBody - a structure's ENCODE_START header and its body. */
struct VersionedBody {
    std::uint8_t version = 0; ///< struct_v
    std::uint8_t compat = 0;  ///< struct_compat
    CephReader body;          ///< exactly struct_len bytes
};

} // namespace xo::rgw
