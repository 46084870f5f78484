#include "rgw_xo/request_head.h"

#include <limits>

namespace xo::gw {

namespace http = boost::beast::http;

void limit_request_head(RequestParser& req, std::size_t max_header_bytes)
{
    req.header_limit(static_cast<std::uint32_t>(
        std::min<std::size_t>(max_header_bytes, std::numeric_limits<std::uint32_t>::max())));
    req.body_limit(std::numeric_limits<std::uint64_t>::max());
}

boost::system::error_code check_request_head(const RequestParser& req)
{
    if (req.chunked() != req.get().chunked())
        return http::error::bad_transfer_encoding;
    return {};
}

PreparedRequest prepare_request(http::request_header<>& req, std::string_view addr_header,
                                std::string_view client_address, std::optional<std::uint64_t> threshold,
                                SmallObjects* small)
{
    req.set(addr_header, client_address);
    PreparedRequest prepared;
    if (req.method() != http::verb::get)
        return prepared;
    if (!threshold) {
        prepared.reason = "disabled";
        return prepared;
    }
    auto get = classify_get(req);
    if (auto* why = std::get_if<std::string_view>(&get)) {
        prepared.reason = *why;
        return prepared;
    }
    prepared.object = std::move(std::get<ObjectGet>(get));
    if (small && small->contains(prepared.object->name))
        return prepared; // nothing to offload: radosgw serves it best as sent
    if (!prepared.object->client_range) {
        prepared.narrowed = RangeRequest{0, std::nullopt};
    } else if (!prepared.object->range_signed) {
        auto wanted = parse_range_request(req[http::field::range]);
        if (wanted && (!wanted->last || *wanted->last - wanted->first >= *threshold))
            prepared.narrowed = wanted;
    }
    if (prepared.narrowed)
        req.set(http::field::range, range_of(prepared.narrowed->first, *threshold));
    return prepared;
}

} // namespace xo::gw
