#include "rgw_xo/object_get.h"

#include <algorithm>
#include <array>

#include <boost/beast/core/string.hpp>

#include "common/hex.h"

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

/*
 * range_is_signed() - whether a SigV4 signature covers the Range header: it
 * is named in SignedHeaders (the Authorization header's, or the presigned
 * URL's X-Amz-SignedHeaders). SigV2 signs no Range; anything unrecognised
 * counts as signed, so it is never changed.
 */
bool range_is_signed(const http::request_header<>& req)
{
    auto covers = [](std::string_view list) {
        while (!list.empty()) {
            auto end = list.find_first_of(";,");
            if (boost::beast::iequals(list.substr(0, end), "range"))
                return true;
            list = end == std::string_view::npos ? std::string_view() : list.substr(end + 1);
        }
        return false;
    };
    std::string_view auth = req[http::field::authorization];
    if (auth.starts_with("AWS4-HMAC-SHA256")) {
        auto at = auth.find("SignedHeaders=");
        if (at == std::string_view::npos)
            return true;
        auth.remove_prefix(at + std::string_view("SignedHeaders=").size());
        return covers(auth.substr(0, auth.find_first_of(", ")));
    }
    if (auth.starts_with("AWS "))
        return false;
    std::string_view target = req.target();
    auto at = target.find("X-Amz-SignedHeaders=");
    if (at == std::string_view::npos)
        return !auth.empty(); // anonymous or SigV2 presigned: nothing signs it
    std::string list;
    auto value = target.substr(at + std::string_view("X-Amz-SignedHeaders=").size());
    if (!percent_decode(value.substr(0, value.find('&')), list))
        return true;
    return covers(list);
}

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
    get.range_signed = get.client_range && range_is_signed(req);
    return get;
}

} // namespace xo::gw
