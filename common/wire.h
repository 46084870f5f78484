// The byte layout of everything XO-Ceph puts on its control channel and in
// its saved state: integers big-endian, byte strings as a 32-bit length then
// the bytes. WireReader checks every read against what is left and against a
// caller's limit, so a bogus or truncated message becomes an error value,
// never an overread or a huge allocation.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace xo {

class WireWriter {
public:
    void u8(std::uint8_t v) { out_.push_back(v); }
    void u16(std::uint16_t v) { put_be(v, 2); }
    void u32(std::uint32_t v) { put_be(v, 4); }
    void u64(std::uint64_t v) { put_be(v, 8); }
    /** bytes() - a 32-bit length, then @b. */
    void bytes(std::span<const std::uint8_t> b);
    void bytes(std::string_view s);
    /** raw() - @b as is, no length. */
    void raw(std::span<const std::uint8_t> b) { out_.insert(out_.end(), b.begin(), b.end()); }

    const std::vector<std::uint8_t>& data() const { return out_; }
    std::vector<std::uint8_t> take() { return std::move(out_); }

private:
    void put_be(std::uint64_t v, int n);
    std::vector<std::uint8_t> out_;
};

class WireReader {
public:
    explicit WireReader(std::span<const std::uint8_t> in) : in_(in) {}

    Result<std::uint8_t> u8();
    Result<std::uint16_t> u16();
    Result<std::uint32_t> u32();
    Result<std::uint64_t> u64();
    /** bytes() - a length-prefixed byte string of at most @limit bytes. */
    Result<std::vector<std::uint8_t>> bytes(std::size_t limit);
    Result<std::string> string(std::size_t limit);
    /** raw() - the next @n bytes, no length prefix (a view into the input). */
    Result<std::span<const std::uint8_t>> raw(std::size_t n);

    std::size_t remaining() const { return in_.size() - pos_; }
    bool at_end() const { return remaining() == 0; }

private:
    Result<std::uint64_t> get_be(int n);
    std::span<const std::uint8_t> in_;
    std::size_t pos_ = 0;
};

} // namespace xo
