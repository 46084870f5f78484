// Theory of operation: the testbed's request line, "GET <bytes> <seed>\n",
// parsed the same way by the gateway (from the client) and the responder
// (from the app payload the gateway forwards, which is the line itself).
#pragma once

#include <charconv>
#include <cstdint>
#include <optional>
#include <string_view>

namespace xo::testbed {

/** struct Request - one testbed request. */
struct Request {
    std::uint64_t bytes = 0;
    std::uint64_t seed = 0;
};

/** parse_request() - @line without its newline; nullopt if malformed. */
inline std::optional<Request> parse_request(std::string_view line)
{
    constexpr std::string_view verb = "GET ";
    if (!line.starts_with(verb))
        return std::nullopt;
    line.remove_prefix(verb.size());
    Request r;
    auto [p, ec] = std::from_chars(line.data(), line.data() + line.size(), r.bytes);
    if (ec != std::errc() || p == line.data() + line.size() || *p != ' ')
        return std::nullopt;
    const char* end = line.data() + line.size();
    auto [q, ec2] = std::from_chars(p + 1, end, r.seed);
    if (ec2 != std::errc() || q != end)
        return std::nullopt;
    return r;
}

} // namespace xo::testbed
