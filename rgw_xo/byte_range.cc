#include "rgw_xo/byte_range.h"

#include <algorithm>
#include <charconv>
#include <limits>

namespace xo::gw {

namespace {

/** take_number() - a decimal at the start of @s, consumed. */
std::optional<std::uint64_t> take_number(std::string_view& s)
{
    std::uint64_t v = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || end == s.data())
        return std::nullopt;
    s.remove_prefix(static_cast<std::size_t>(end - s.data()));
    return v;
}

bool take(std::string_view& s, std::string_view what)
{
    if (!s.starts_with(what))
        return false;
    s.remove_prefix(what.size());
    return true;
}

} // namespace

std::optional<ContentRange> parse_content_range(std::string_view s)
{
    if (!take(s, "bytes "))
        return std::nullopt;
    auto first = take_number(s);
    if (!first || !take(s, "-"))
        return std::nullopt;
    auto last = take_number(s);
    if (!last || !take(s, "/"))
        return std::nullopt;
    auto total = take_number(s);
    if (!total || !s.empty() || *first > *last || *last >= *total)
        return std::nullopt;
    return ContentRange{*first, *last, *total};
}

std::optional<RangeRequest> parse_range_request(std::string_view s)
{
    if (!take(s, "bytes="))
        return std::nullopt;
    auto first = take_number(s);
    if (!first || !take(s, "-"))
        return std::nullopt;
    if (s.empty())
        return RangeRequest{*first, std::nullopt};
    auto last = take_number(s);
    if (!last || !s.empty() || *last < *first)
        return std::nullopt;
    return RangeRequest{*first, *last};
}

std::string range_value(std::uint64_t first, std::uint64_t last)
{
    return "bytes=" + std::to_string(first) + "-" + std::to_string(last);
}

std::string range_of(std::uint64_t first, std::uint64_t bytes)
{
    const std::uint64_t after_first = std::numeric_limits<std::uint64_t>::max() - first;
    return range_value(first, first + std::min(bytes - 1, after_first));
}

std::optional<Split> split_body(const ContentRange& range, std::uint64_t relay_limit)
{
    if (range.length() <= relay_limit)
        return std::nullopt;
    return Split{relay_limit, range.first + relay_limit, range.length() - relay_limit, range.total};
}

} // namespace xo::gw
