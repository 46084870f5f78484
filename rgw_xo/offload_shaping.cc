#include "rgw_xo/offload_shaping.h"

#include <algorithm>
#include <boost/beast/http/field.hpp>
#include <boost/beast/http/status.hpp>


namespace xo::gw {

namespace http = boost::beast::http;
using boost::system::error_code;

boost::asio::awaitable<error_code> OffloadShaping::retry_unnarrowed(UpstreamLink up, UpstreamRequest& req,
                                                                    std::optional<ResponseParser>& res,
                                                                    std::span<char> scratch)
{
    if (!narrowed_ || res->get().result() != http::status::range_not_satisfiable)
        co_return error_code{};
    const RangeRequest asked = *narrowed_;
    narrowed_.reset();
    if (!co_await discard_body(up, *res, scratch) || !res->get().keep_alive())
        co_return boost::asio::error::connection_reset;
    if (object_.client_range)
        req.set(http::field::range, asked.last ? range_value(asked.first, *asked.last)
                                               : "bytes=" + std::to_string(asked.first) + "-");
    else
        req.erase(http::field::range);
    auto sending = send_and_read_header(up, req, res, false);
    co_return co_await std::move(sending);
}

void OffloadShaping::learn(std::uint64_t total)
{
    if (total <= threshold_)
        small_.remember(object_.name);
    else
        small_.forget(object_.name);
}

Shaped OffloadShaping::shape(ResponseParser& res)
{
    auto& response = res.get();
    Shaped out;
    if (!res.content_length()) {
        out.reason = "response";
        return out;
    }
    ContentRange range;
    if (response.result() == http::status::ok) {
        // The whole object: a request sent as the client sent it, or one
        // whose Range radosgw ignored. Either way the rest is still coming.
        narrowed_.reset();
        const std::uint64_t total = *res.content_length();
        learn(total);
        if (total == 0) {
            out.outcome = OffloadOutcome::relayed_small;
            return out;
        }
        range = ContentRange{0, total - 1, total};
    } else if (response.result() == http::status::partial_content) {
        auto parsed = parse_content_range(response[http::field::content_range]);
        if (!parsed || parsed->length() != *res.content_length()) {
            out.reason = "response";
            return out;
        }
        range = *parsed;
        learn(range.total);
    } else {
        out.reason = "response";
        return out;
    }

    if (narrowed_ && !object_.client_range) {
        response.result(http::status::ok);
        response.erase(http::field::content_range);
        response.content_length(range.total);
        out.split = split_body(ContentRange{0, range.total - 1, range.total}, range.length());
    } else if (narrowed_) {
        const std::uint64_t last = std::min(narrowed_->last.value_or(range.total - 1), range.total - 1);
        const ContentRange wanted{narrowed_->first, last, range.total};
        response.set(http::field::content_range, "bytes " + std::to_string(wanted.first) + "-" +
                                                     std::to_string(wanted.last) + "/" + std::to_string(wanted.total));
        response.content_length(wanted.length());
        out.split = split_body(wanted, range.length());
    } else {
        out.split = split_body(range, threshold_);
    }
    if (!out.split) {
        out.outcome = OffloadOutcome::relayed_small;
        return out;
    }
    if (response[http::field::etag].empty()) {
        out.split.reset();
        out.reason = "response";
        return out;
    }
    out.outcome = OffloadOutcome::offloaded;
    return out;
}

boost::asio::awaitable<Result<void>> OffloadShaping::request_rest(UpstreamLink up, UpstreamRequest& req,
                                                                  std::optional<ResponseParser>& res,
                                                                  const Split& split, std::string_view etag)
{
    if (!narrowed_)
        co_return Result<void>{};
    req.set(http::field::range, range_of(split.offload_first, split.offload_length));
    if (req.find(http::field::if_match) == req.end())
        req.set(http::field::if_match, etag);
    auto sending = send_and_read_header(up, req, res, false);
    error_code ec = co_await std::move(sending);
    auto range = ec ? std::nullopt : parse_content_range(res->get()[http::field::content_range]);
    if (!range || range->first != split.offload_first || range->total != split.object_size ||
        res->content_length() != split.offload_length) {
        co_return Error{"asking radosgw for the rest: it answered " +
                        (ec ? ec.message() : std::to_string(res->get().result_int()))};
    }
    co_return Result<void>{};
}

} // namespace xo::gw
