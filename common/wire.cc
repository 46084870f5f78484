#include "common/wire.h"

namespace xo {

void WireWriter::put_be(std::uint64_t v, int n)
{
    for (int i = n - 1; i >= 0; --i)
        out_.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}

void WireWriter::bytes(std::span<const std::uint8_t> b)
{
    u32(static_cast<std::uint32_t>(b.size()));
    raw(b);
}

void WireWriter::bytes(std::string_view s)
{
    bytes(std::span(reinterpret_cast<const std::uint8_t*>(s.data()), s.size()));
}

Result<std::uint64_t> WireReader::get_be(int n)
{
    if (remaining() < static_cast<std::size_t>(n))
        return Error{"truncated: need " + std::to_string(n) + " bytes, " + std::to_string(remaining()) + " left"};
    std::uint64_t v = 0;
    for (int i = 0; i < n; ++i)
        v = (v << 8) | in_[pos_++];
    return v;
}

Result<std::uint8_t> WireReader::u8()
{
    auto v = get_be(1);
    if (!v)
        return v.error();
    return static_cast<std::uint8_t>(*v);
}

Result<std::uint16_t> WireReader::u16()
{
    auto v = get_be(2);
    if (!v)
        return v.error();
    return static_cast<std::uint16_t>(*v);
}

Result<std::uint32_t> WireReader::u32()
{
    auto v = get_be(4);
    if (!v)
        return v.error();
    return static_cast<std::uint32_t>(*v);
}

Result<std::uint64_t> WireReader::u64() { return get_be(8); }

Result<std::span<const std::uint8_t>> WireReader::raw(std::size_t n)
{
    if (remaining() < n)
        return Error{"truncated: need " + std::to_string(n) + " bytes, " + std::to_string(remaining()) + " left"};
    auto view = in_.subspan(pos_, n);
    pos_ += n;
    return view;
}

Result<std::vector<std::uint8_t>> WireReader::bytes(std::size_t limit)
{
    auto len = u32();
    if (!len)
        return len.error();
    if (*len > limit)
        return Error{"field of " + std::to_string(*len) + " bytes exceeds its limit of " + std::to_string(limit)};
    auto view = raw(*len);
    if (!view)
        return view.error();
    return std::vector<std::uint8_t>(view->begin(), view->end());
}

Result<std::string> WireReader::string(std::size_t limit)
{
    auto b = bytes(limit);
    if (!b)
        return b.error();
    return std::string(b->begin(), b->end());
}

} // namespace xo
