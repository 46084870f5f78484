#include "common/rgw/ceph_decode.h"

namespace xo::rgw {

Error CephReader::truncated(std::string_view what, std::size_t need) const
{
    return Error{"truncated " + std::string(what) + " at offset " + std::to_string(offset()) + ": need " +
                 std::to_string(need) + " bytes, " + std::to_string(remaining()) + " left"};
}

Result<std::uint64_t> CephReader::get_le(std::string_view what, std::size_t n)
{
    if (remaining() < n)
        return truncated(what, n);
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < n; ++i)
        v |= static_cast<std::uint64_t>(in_[pos_ + i]) << (8 * i);
    pos_ += n;
    return v;
}

Result<std::uint8_t> CephReader::u8(std::string_view what)
{
    auto v = get_le(what, 1);
    if (!v)
        return v.error();
    return static_cast<std::uint8_t>(*v);
}

Result<std::uint32_t> CephReader::u32(std::string_view what)
{
    auto v = get_le(what, 4);
    if (!v)
        return v.error();
    return static_cast<std::uint32_t>(*v);
}

Result<std::uint64_t> CephReader::u64(std::string_view what)
{
    return get_le(what, 8);
}

Result<bool> CephReader::boolean(std::string_view what)
{
    std::size_t at = offset();
    auto v = u8(what);
    if (!v)
        return v.error();
    if (*v > 1)
        return Error{"corrupt " + std::string(what) + " at offset " + std::to_string(at) + ": bool byte is " +
                     std::to_string(*v)};
    return *v == 1;
}

Result<std::string> CephReader::string(std::string_view what, std::size_t limit)
{
    std::size_t at = offset();
    auto len = u32(what);
    if (!len)
        return len.error();
    if (*len > limit)
        return Error{"refused " + std::string(what) + " at offset " + std::to_string(at) + ": length " +
                     std::to_string(*len) + " exceeds the limit of " + std::to_string(limit)};
    if (remaining() < *len)
        return truncated(what, *len);
    std::string s(reinterpret_cast<const char*>(in_.data() + pos_), *len);
    pos_ += *len;
    return s;
}

Result<VersionedBody> CephReader::begin_struct(std::string_view what, std::uint8_t min_v, std::uint8_t max_v)
{
    std::size_t at = offset();
    auto v = u8(what);
    if (!v)
        return v.error();
    if (*v < min_v || *v > max_v)
        return Error{"unsupported " + std::string(what) + " at offset " + std::to_string(at) + ": struct_v " +
                     std::to_string(*v) + ", only " + std::to_string(min_v) + ".." + std::to_string(max_v) +
                     " are understood"};
    auto compat = u8(what);
    if (!compat)
        return compat.error();
    if (*compat > *v)
        return Error{"corrupt " + std::string(what) + " at offset " + std::to_string(at) + ": struct_compat " +
                     std::to_string(*compat) + " above struct_v " + std::to_string(*v)};
    auto len = u32(what);
    if (!len)
        return len.error();
    if (*len > remaining())
        return truncated(what, *len);
    VersionedBody out{*v, *compat, CephReader(in_.subspan(pos_, *len), offset())};
    pos_ += *len;
    return out;
}

Result<void> CephReader::end(std::string_view what) const
{
    if (remaining() != 0)
        return Error{"unsupported " + std::string(what) + ": " + std::to_string(remaining()) +
                     " bytes after the last known field at offset " + std::to_string(offset())};
    return {};
}

} // namespace xo::rgw
