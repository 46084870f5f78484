#include "object_get.h"

#include <algorithm>
#include <array>

#include <boost/beast/core/string.hpp>

#include "hex.h"

namespace xo::gw {

namespace http = boost::beast::http;

namespace {

// Query parameters that leave the response body the object's bytes.
constexpr std::array<std::string_view, 18> body_neutral_params = {
    "versionId",          "response-cache-control", "response-content-disposition",
    "response-content-encoding", "response-content-language", "response-content-type",
    "response-expires",   "X-Amz-Algorithm",        "X-Amz-Credential",
    "X-Amz-Date",         "X-Amz-Expires",          "X-Amz-SignedHeaders",
    "X-Amz-Signature",    "X-Amz-Security-Token",   "AWSAccessKeyId",
    "Expires",            "Signature",              "x-id",
};

} // namespace

bool percent_decode(std::string_view s, std::string& out)
{
    out.clear();
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] != '%') {
            out.push_back(s[i]);
            continue;
        }
        if (i + 2 >= s.size())
            return false;
        int hi = hex_value(s[i + 1]), lo = hex_value(s[i + 2]);
        if (hi < 0 || lo < 0)
            return false;
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
    }
    return true;
}

std::variant<ObjectGet, std::string_view> classify_get(const http::request_header<>& req)
{
    if (req.method() != http::verb::get)
        return std::string_view("not_get");
    if (req.find(http::field::if_range) != req.end())
        return std::string_view("if_range");
    std::string_view target = req.target();
    std::string_view path = target.substr(0, target.find('?'));
    std::string_view query = path.size() < target.size() ? target.substr(path.size() + 1) : std::string_view();
    if (path.size() < 4 || path[0] != '/')
        return std::string_view("not_object");
    auto slash = path.find('/', 1);
    if (slash == std::string_view::npos || slash == 1 || slash + 1 == path.size())
        return std::string_view("not_object");

    ObjectGet get;
    if (!percent_decode(path.substr(1, slash - 1), get.name.bucket) ||
        !percent_decode(path.substr(slash + 1), get.name.key))
        return std::string_view("bad_escape");
    while (!query.empty()) {
        auto amp = query.find('&');
        std::string_view param = query.substr(0, amp);
        query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
        std::string_view name = param.substr(0, param.find('='));
        if (std::find(body_neutral_params.begin(), body_neutral_params.end(), name) == body_neutral_params.end())
            return std::string_view("subresource");
        if (name == "versionId" &&
            (name.size() == param.size() || !percent_decode(param.substr(name.size() + 1), get.name.version_id)))
            return std::string_view("bad_escape");
    }
    get.client_range = req.find(http::field::range) != req.end();
    return get;
}

} // namespace xo::gw
