#include "rgw_xo/upstream_response.h"

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/serializer.hpp>
#include <boost/beast/http/write.hpp>
#include <limits>

namespace xo::gw {

namespace http = boost::beast::http;
using boost::asio::redirect_error;
using boost::asio::use_awaitable;
using boost::system::error_code;

namespace {

// radosgw's own headers are bounded by what it writes; this only stops a
// broken upstream from growing the buffer without end.
constexpr std::uint32_t upstream_header_limit = 1024 * 1024;

} // namespace

void new_response_parser(std::optional<ResponseParser>& res, bool head)
{
    res.emplace();
    res->body_limit(std::numeric_limits<std::uint64_t>::max());
    res->header_limit(upstream_header_limit);
    res->skip(head); // a HEAD response's Content-Length describes a body that never comes
}

boost::asio::awaitable<error_code> read_final_header(UpstreamLink up, std::optional<ResponseParser>& res, bool head)
{
    for (;;) {
        error_code ec;
        up.stream.expires_after(up.timeout);
        co_await http::async_read_header(up.stream, up.buffer, *res, redirect_error(use_awaitable, ec));
        if (ec || res->get().result_int() >= 200)
            co_return ec;
        new_response_parser(res, head);
    }
}

boost::asio::awaitable<error_code> send_and_read_header(UpstreamLink up, UpstreamRequest& req,
                                                        std::optional<ResponseParser>& res, bool head)
{
    http::request_serializer<http::buffer_body> writer{req};
    error_code ec;
    up.stream.expires_after(up.timeout);
    co_await http::async_write_header(up.stream, writer, redirect_error(use_awaitable, ec));
    if (ec)
        co_return ec;
    new_response_parser(res, head);
    auto reading = read_final_header(up, res, head);
    co_return co_await std::move(reading);
}

boost::asio::awaitable<bool> discard_body(UpstreamLink up, ResponseParser& res, std::span<char> scratch)
{
    while (!res.is_done()) {
        res.get().body().data = scratch.data();
        res.get().body().size = scratch.size();
        error_code ec;
        up.stream.expires_after(up.timeout);
        co_await http::async_read(up.stream, up.buffer, res, redirect_error(use_awaitable, ec));
        if (ec && ec != http::error::need_buffer)
            co_return false;
    }
    co_return true;
}

} // namespace xo::gw
