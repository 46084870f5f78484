#include "relay.h"

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/serializer.hpp>
#include <boost/beast/http/write.hpp>
#include <limits>
#include <sys/socket.h>

#include "body_pump.h"
#include "endpoint.h"
#include "log.h"

namespace xo::gw {

namespace http = boost::beast::http;
using boost::asio::redirect_error;
using boost::asio::use_awaitable;
using boost::system::error_code;

namespace {

// radosgw's own headers are bounded by what it writes; this only stops a
// broken upstream from growing the buffer without end.
constexpr std::uint32_t upstream_header_limit = 1024 * 1024;

constexpr std::string_view continue_line = "HTTP/1.1 100 Continue\r\n\r\n";

} // namespace

Relay::Relay(const GatewayConfig& config, const boost::asio::any_io_executor& executor)
    : config_(config), upstream_(executor), scratch_(config.relay_buffer_bytes)
{
}

void Relay::new_response_parser(std::optional<ResponseParser>& res, bool head) const
{
    res.emplace();
    res->body_limit(std::numeric_limits<std::uint64_t>::max());
    res->header_limit(upstream_header_limit);
    res->skip(head); // a HEAD response's Content-Length describes a body that never comes
}

void Relay::close_upstream()
{
    error_code ignored;
    upstream_.socket().shutdown(boost::asio::socket_base::shutdown_both, ignored);
    upstream_.close();
    upstream_open_ = false;
    upstream_buf_.clear();
}

/*
 * ensure_upstream() - a usable connection to radosgw, reusing the kept-alive
 * one unless radosgw closed it (or left stray bytes) while it sat idle.
 */
boost::asio::awaitable<bool> Relay::ensure_upstream()
{
    if (upstream_open_ && upstream_buf_.size() == 0) {
        char probe;
        ssize_t n = ::recv(upstream_.socket().native_handle(), &probe, 1, MSG_PEEK | MSG_DONTWAIT);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            co_return true;
    }
    if (upstream_open_)
        close_upstream();

    error_code ec;
    upstream_.expires_after(config_.connect_timeout);
    co_await upstream_.async_connect(config_.upstream, redirect_error(use_awaitable, ec));
    if (ec) {
        log::warn("radosgw at ", to_string(config_.upstream), " unreachable: ", ec.message());
        upstream_.close();
        co_return false;
    }
    upstream_.socket().set_option(boost::asio::ip::tcp::no_delay(true), ec);
    upstream_open_ = true;
    co_return true;
}

/*
 * upstream_readable_within() - whether radosgw says something (a 100 Continue
 * or an early final answer) within @timeout, without consuming it. Waiting
 * for readability rather than reading keeps the stream intact on timeout.
 */
boost::asio::awaitable<bool> Relay::upstream_readable_within(std::chrono::milliseconds timeout)
{
    if (upstream_buf_.size() > 0)
        co_return true;
    boost::asio::steady_timer timer(upstream_.get_executor(), timeout);
    timer.async_wait([this](error_code ec) {
        if (!ec)
            upstream_.socket().cancel();
    });
    error_code ec;
    co_await upstream_.socket().async_wait(boost::asio::socket_base::wait_read, redirect_error(use_awaitable, ec));
    timer.cancel();
    co_return !ec;
}

/*
 * read_final_header() - read response headers from radosgw into @res until a
 * final (non-1xx) one arrives; informational responses are dropped here
 * because any 100 Continue the client waits for was forwarded already.
 */
boost::asio::awaitable<error_code> Relay::read_final_header(std::optional<ResponseParser>& res, bool head)
{
    for (;;) {
        error_code ec;
        upstream_.expires_after(config_.io_timeout);
        co_await http::async_read_header(upstream_, upstream_buf_, *res, redirect_error(use_awaitable, ec));
        if (ec || res->get().result_int() >= 200)
            co_return ec;
        new_response_parser(res, head);
    }
}

boost::asio::awaitable<void> Relay::answer_error(ClientSide& client, RequestParser& req, const S3Error& err,
                                                 ExchangeResult& result)
{
    auto res = make_error_response(err, req.get().target(), client.request_id);
    error_code ec;
    client.stream.expires_after(config_.io_timeout);
    co_await http::async_write(client.stream, res, redirect_error(use_awaitable, ec));
    result.status = ec ? 0 : res.result_int();
    result.bytes_out = ec ? 0 : res.body().size();
    result.keep_alive = false;
    result.outcome = err.code;
}

boost::asio::awaitable<ExchangeResult> Relay::exchange(ClientSide client, RequestParser& req_parser)
{
    ExchangeResult result;
    auto& req = req_parser.get();
    const bool head = req.method() == http::verb::head;
    const bool has_body = !req_parser.is_done();
    const bool wants_continue = has_body && boost::beast::iequals(req[http::field::expect], "100-continue");

    // The only change to the request: radosgw learns who the client is
    // (rgw remote addr param). A client-supplied value is replaced, never trusted.
    req.set(config_.client_addr_header, client.address);

    if (!co_await ensure_upstream()) {
        co_await answer_error(client, req_parser, errors::service_unavailable, result);
        co_return result;
    }

    error_code ec;
    http::request_serializer<http::buffer_body> req_writer{req};
    upstream_.expires_after(config_.io_timeout);
    co_await http::async_write_header(upstream_, req_writer, redirect_error(use_awaitable, ec));
    if (ec) {
        close_upstream();
        co_await answer_error(client, req_parser, errors::service_unavailable, result);
        co_return result;
    }

    // radosgw checks auth before it sends 100 Continue: relaying its answer
    // (rather than inventing one) lets a rejected upload end before its body.
    std::optional<ResponseParser> res;
    new_response_parser(res, head);
    bool answered_early = false;
    if (wants_continue && co_await upstream_readable_within(config_.continue_timeout)) {
        upstream_.expires_after(config_.io_timeout);
        co_await http::async_read_header(upstream_, upstream_buf_, *res, redirect_error(use_awaitable, ec));
        answered_early = !ec && res->get().result_int() >= 200;
        if (!ec && !answered_early)
            new_response_parser(res, head); // that was radosgw's 100 Continue
    }
    // Without an answer in time the body goes anyway, as the client would do.
    if (wants_continue && !answered_early && !ec) {
        client.stream.expires_after(config_.io_timeout);
        co_await boost::asio::async_write(client.stream, boost::asio::buffer(continue_line),
                                          redirect_error(use_awaitable, ec));
        if (ec) {
            close_upstream();
            result.outcome = "client_error";
            co_return result;
        }
    }

    bool body_sent = !has_body;
    if (has_body && !answered_early && !ec) {
        std::span<char> scratch(scratch_);
        PumpResult pumped = req_parser.content_length()
            ? co_await pump_exact(client.stream, client.buffer, upstream_, *req_parser.content_length(), scratch,
                                  config_.io_timeout)
            : co_await pump_framed(client.stream, client.buffer, req_parser, upstream_, req_writer, scratch,
                                   config_.io_timeout);
        result.bytes_in = pumped.bytes;
        if (pumped.fault == PumpFault::source) {
            // A body that is not HTTP (bad chunk framing) still gets an answer;
            // a client that vanished or stalled does not need one.
            close_upstream();
            if (is_http_syntax_error(pumped.error))
                co_await answer_error(client, req_parser, errors::bad_request, result);
            else
                result.outcome = "client_error";
            co_return result;
        }
        // A sink fault means radosgw stopped reading; it may still have
        // answered (e.g. 403 before the body), so read on.
        body_sent = pumped.fault == PumpFault::none;
    }

    if (!answered_early && !ec)
        ec = co_await read_final_header(res, head);
    if (ec) {
        log::warn("no response from radosgw for ", client.request_id, ": ", ec.message());
        close_upstream();
        co_await answer_error(client, req_parser, is_http_syntax_error(ec) ? errors::bad_gateway : errors::service_unavailable,
                              result);
        co_return result;
    }

    auto& response = res->get();
    const bool upstream_keeps = response.keep_alive() && body_sent && !res->need_eof();
    result.keep_alive = upstream_keeps && req.keep_alive() && !client.draining;
    if (!result.keep_alive)
        response.keep_alive(false);
    result.status = response.result_int();

    http::response_serializer<http::buffer_body> res_writer{response};
    client.stream.expires_after(config_.io_timeout);
    co_await http::async_write_header(client.stream, res_writer, redirect_error(use_awaitable, ec));
    if (ec) {
        close_upstream();
        result.keep_alive = false;
        result.outcome = "client_error";
        co_return result;
    }

    if (!res->is_done()) {
        std::span<char> scratch(scratch_);
        PumpResult pumped = res->content_length()
            ? co_await pump_exact(upstream_, upstream_buf_, client.stream, *res->content_length(), scratch,
                                  config_.io_timeout)
            : co_await pump_framed(upstream_, upstream_buf_, *res, client.stream, res_writer, scratch,
                                   config_.io_timeout);
        result.bytes_out = pumped.bytes;
        if (pumped.fault != PumpFault::none) {
            close_upstream();
            result.keep_alive = false;
            result.outcome = pumped.fault == PumpFault::source ? "upstream_error" : "client_error";
            co_return result;
        }
    }
    if (!upstream_keeps)
        close_upstream();
    co_return result;
}

} // namespace xo::gw
