#include "rgw_xo/relay.h"

#include <boost/asio/write.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/serializer.hpp>
#include <boost/beast/http/write.hpp>
#include <sys/socket.h>

#include "rgw_xo/body_pump.h"
#include "common/endpoint.h"
#include "rgw_xo/get_offload.h"
#include "common/log.h"
#include "rgw_xo/readable.h"

namespace xo::gw {

namespace http = boost::beast::http;
using boost::asio::redirect_error;
using boost::asio::use_awaitable;
using boost::system::error_code;

namespace {

constexpr std::string_view continue_line = "HTTP/1.1 100 Continue\r\n\r\n";

} // namespace

Relay::Relay(const GatewayConfig& config, const boost::asio::any_io_executor& executor, GetOffload* offload)
    : config_(config), offload_(offload), upstream_(executor), scratch_(config.relay_buffer_bytes)
{
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
    auto waiting = readable_within(upstream_.socket(), timeout);
    error_code ec = co_await std::move(waiting);
    co_return !ec;
}

/** One exchange in progress: what the steps below hand to each other. */
struct Relay::Exchange {
    Exchange(ClientSide c, RequestParser& r) : client(c), req_parser(r), req_writer(r.get()) {}

    ClientSide client;
    RequestParser& req_parser;
    http::request_serializer<http::buffer_body> req_writer;
    std::optional<ResponseParser> res;
    bool head = false;
    bool answered_early = false; ///< radosgw's final answer came before the body was sent
    bool body_sent = false;      ///< the whole request body reached radosgw
    std::optional<OffloadShaping> shaping; ///< a GET the offload path may take
    ExchangeResult result;
};

boost::asio::awaitable<void> Relay::answer_error(Exchange& x, const S3Error& err)
{
    auto res = make_error_response(err, x.req_parser.get().target(), x.client.request_id);
    error_code ec;
    x.client.stream.expires_after(config_.io_timeout);
    co_await http::async_write(x.client.stream, res, redirect_error(use_awaitable, ec));
    x.result.status = ec ? 0 : res.result_int();
    x.result.bytes_out = ec ? 0 : res.body().size();
    x.result.keep_alive = false;
    x.result.outcome = err.code;
}

/*
 * answer_upstream_failure() - radosgw did not answer (503) or answered
 * something that is not HTTP (502), before the client saw any response.
 */
boost::asio::awaitable<void> Relay::answer_upstream_failure(Exchange& x, const error_code& ec)
{
    log::warn("no response from radosgw for ", x.client.request_id, ": ", ec.message());
    close_upstream();
    co_await answer_error(x, is_http_syntax_error(ec) ? errors::bad_gateway : errors::service_unavailable);
}

boost::asio::awaitable<ExchangeResult> Relay::exchange(ClientSide client, RequestParser& req_parser)
{
    Exchange x(client, req_parser);
    x.head = req_parser.get().method() == http::verb::head;
    auto prepared = prepare_request(req_parser.get(), config_.client_addr_header, client.address,
                                    offload_ ? std::optional(offload_->threshold()) : std::nullopt,
                                    offload_ ? &offload_->small_objects() : nullptr);
    if (prepared.object)
        x.shaping.emplace(std::move(*prepared.object), prepared.narrowed, offload_->threshold(),
                          offload_->small_objects());
    x.result.offload.reason = prepared.reason;
    new_response_parser(x.res, x.head);
    if (co_await send_request(x) && co_await receive_response_header(x) && co_await undo_narrowing(x))
        co_await deliver_response(x);
    co_return x.result;
}

/*
 * undo_narrowing() - radosgw refused the gateway's Range (offload_shaping.h,
 * step 1). Return: false when the exchange ended here.
 */
boost::asio::awaitable<bool> Relay::undo_narrowing(Exchange& x)
{
    if (!x.shaping)
        co_return true;
    auto retrying = x.shaping->retry_unnarrowed(upstream_link(), x.req_parser.get(), x.res, scratch_);
    error_code ec = co_await std::move(retrying);
    if (ec) {
        co_await answer_upstream_failure(x, ec);
        co_return false;
    }
    co_return true;
}

/*
 * shape_response() - the split of an offloadable response, after making the
 * header what the client asked for (offload_shaping.h, step 2). Return:
 * nullopt when the gateway relays the whole body (x.result.offload says why).
 */
std::optional<Split> Relay::shape_response(Exchange& x)
{
    auto& response = x.res->get();
    auto& offload = x.result.offload;
    if (x.head || response.result_int() / 100 != 2 || !x.shaping) {
        if (!x.head && response.result_int() / 100 == 2 && x.req_parser.get().method() == http::verb::get)
            offload.outcome = OffloadOutcome::relayed_ineligible;
        return std::nullopt;
    }
    Shaped shaped = x.shaping->shape(*x.res);
    offload.outcome = shaped.outcome;
    if (!shaped.reason.empty())
        offload.reason = shaped.reason;
    return shaped.split;
}

/*
 * send_request() - the request header, then its body. Return: false when the
 * exchange ended here (x.result says how).
 */
boost::asio::awaitable<bool> Relay::send_request(Exchange& x)
{
    if (!co_await ensure_upstream()) {
        co_await answer_error(x, errors::service_unavailable);
        co_return false;
    }
    error_code ec;
    upstream_.expires_after(config_.io_timeout);
    co_await http::async_write_header(upstream_, x.req_writer, redirect_error(use_awaitable, ec));
    if (ec) {
        close_upstream();
        co_await answer_error(x, errors::service_unavailable);
        co_return false;
    }

    const bool has_body = !x.req_parser.is_done();
    x.body_sent = !has_body;
    if (!has_body)
        co_return true;
    if (boost::beast::iequals(x.req_parser.get()[http::field::expect], "100-continue")) {
        if (!co_await await_continue(x))
            co_return false;
        if (x.answered_early)
            co_return true;
    }

    std::span<char> scratch(scratch_);
    PumpResult pumped = x.req_parser.content_length()
        ? co_await pump_exact(x.client.stream, x.client.buffer, upstream_, *x.req_parser.content_length(), scratch,
                              config_.io_timeout)
        : co_await pump_framed(x.client.stream, x.client.buffer, x.req_parser, upstream_, x.req_writer, scratch,
                               config_.io_timeout);
    x.result.bytes_in = pumped.bytes;
    if (pumped.fault == PumpFault::source) {
        // A body that is not HTTP (bad chunk framing) still gets an answer;
        // a client that vanished or stalled does not need one.
        close_upstream();
        if (is_http_syntax_error(pumped.error))
            co_await answer_error(x, errors::bad_request);
        else
            x.result.outcome = "client_error";
        co_return false;
    }
    // A sink fault means radosgw stopped reading; it may still have answered
    // (e.g. 403 before the body), so the response is read anyway.
    x.body_sent = pumped.fault == PumpFault::none;
    co_return true;
}

/*
 * await_continue() - the client sent Expect: 100-continue. radosgw checks
 * auth before it sends its 100 Continue: relaying its answer (rather than
 * inventing one) lets a rejected upload end before its body. Without an
 * answer in time the body goes anyway, as the client itself would do.
 * Return: false when the exchange ended here.
 */
boost::asio::awaitable<bool> Relay::await_continue(Exchange& x)
{
    error_code ec;
    if (co_await upstream_readable_within(config_.continue_timeout)) {
        upstream_.expires_after(config_.io_timeout);
        co_await http::async_read_header(upstream_, upstream_buf_, *x.res, redirect_error(use_awaitable, ec));
        if (ec) {
            co_await answer_upstream_failure(x, ec);
            co_return false;
        }
        x.answered_early = x.res->get().result_int() >= 200;
        if (x.answered_early)
            co_return true;
        new_response_parser(x.res, x.head); // that was radosgw's 100 Continue
    }
    x.client.stream.expires_after(config_.io_timeout);
    co_await boost::asio::async_write(x.client.stream, boost::asio::buffer(continue_line),
                                      redirect_error(use_awaitable, ec));
    if (ec) {
        close_upstream();
        x.result.outcome = "client_error";
        co_return false;
    }
    co_return true;
}

/*
 * receive_response_header() - radosgw's final response header, unless it
 * came early. Return: false when the exchange ended here.
 */
boost::asio::awaitable<bool> Relay::receive_response_header(Exchange& x)
{
    if (x.answered_early)
        co_return true;
    auto reading = read_final_header(upstream_link(), x.res, x.head);
    error_code ec = co_await std::move(reading);
    if (ec) {
        co_await answer_upstream_failure(x, ec);
        co_return false;
    }
    co_return true;
}

/*
 * deliver_response() - radosgw's response header to the client, then the
 * body. The header write is where a GET can leave the relay: radosgw has
 * authorized it and the client knows what is coming.
 */
boost::asio::awaitable<void> Relay::deliver_response(Exchange& x)
{
    auto& response = x.res->get();
    const bool upstream_keeps = response.keep_alive() && x.body_sent && !x.res->need_eof();
    x.result.keep_alive = upstream_keeps && x.req_parser.get().keep_alive() && !x.client.draining;
    if (!x.result.keep_alive)
        response.keep_alive(false);
    const auto split = shape_response(x);
    x.result.status = response.result_int();
    error_code ec;
    http::response_serializer<http::buffer_body> res_writer{response};
    x.client.stream.expires_after(config_.io_timeout);
    co_await http::async_write_header(x.client.stream, res_writer, redirect_error(use_awaitable, ec));
    if (ec) {
        close_upstream();
        x.result.keep_alive = false;
        x.result.outcome = "client_error";
        co_return;
    }

    if (split) {
        co_await offload_rest(x, *split);
        co_return;
    }
    if (!x.res->is_done()) {
        std::span<char> scratch(scratch_);
        PumpResult pumped = x.res->content_length()
            ? co_await pump_exact(upstream_, upstream_buf_, x.client.stream, *x.res->content_length(), scratch,
                                  config_.io_timeout)
            : co_await pump_framed(upstream_, upstream_buf_, *x.res, x.client.stream, res_writer, scratch,
                                   config_.io_timeout);
        x.result.bytes_out = pumped.bytes;
        if (pumped.fault != PumpFault::none) {
            close_upstream();
            x.result.keep_alive = false;
            x.result.outcome = pumped.fault == PumpFault::source ? "upstream_error" : "client_error";
            co_return;
        }
    }
    if (!upstream_keeps)
        close_upstream();
}

/*
 * offload_rest() - relay the split's first bytes, then have a responder send
 * the rest; if the handoff does not happen, relay the rest too.
 */
boost::asio::awaitable<void> Relay::offload_rest(Exchange& x, const Split& split)
{
    std::span<char> scratch(scratch_);
    PumpResult pumped =
        co_await pump_exact(upstream_, upstream_buf_, x.client.stream, split.relay, scratch, config_.io_timeout);
    x.result.bytes_out = pumped.bytes;
    if (pumped.fault != PumpFault::none) {
        close_upstream();
        x.result.keep_alive = false;
        x.result.offload.outcome = OffloadOutcome::none;
        x.result.outcome = pumped.fault == PumpFault::source ? "upstream_error" : "client_error";
        co_return;
    }

    auto& response = x.res->get();
    rgw::ObjectName name = x.shaping->object().name;
    if (name.version_id.empty())
        name.version_id = std::string(response["x-amz-version-id"]);
    auto handed = co_await offload_->hand_off(x.client, std::move(name), std::string(response[http::field::etag]),
                                              split);
    auto& offload = x.result.offload;
    offload.handoff = handed.times;
    offload.reason = handed.reason;
    offload.responder_bytes = handed.responder_bytes;
    using Kind = HandoffResult::Kind;
    if (handed.kind != Kind::fallback) {
        if (!x.shaping->narrowed())
            close_upstream(); // radosgw is still sending the rest
        offload.outcome = handed.kind == Kind::lost ? OffloadOutcome::lost : OffloadOutcome::offloaded;
        x.result.outcome = handed.kind == Kind::lost ? "offload_lost" : "offloaded";
        x.result.keep_alive = x.result.keep_alive && handed.kind == Kind::returned;
        co_return;
    }
    offload.outcome = OffloadOutcome::fallback;
    x.result.outcome = "fallback";
    if (!co_await relay_rest(x, split)) {
        close_upstream();
        x.result.keep_alive = false;
    }
}

/*
 * relay_rest() - the handoff did not happen: send the split's remaining
 * bytes from radosgw. Its response to a request sent as the client sent it
 * is still coming; after a narrowed request the shaping asks for the rest
 * (offload_shaping.h, step 3). Return: false when the connection must close
 * (the client then sees a short body, never wrong bytes).
 */
boost::asio::awaitable<bool> Relay::relay_rest(Exchange& x, const Split& split)
{
    const std::string etag(x.res->get()[http::field::etag]);
    auto asking = x.shaping->request_rest(upstream_link(), x.req_parser.get(), x.res, split, etag);
    auto asked = co_await std::move(asking);
    if (!asked) {
        log::warn("relaying the rest of ", x.client.request_id, " after a fallback: ", asked.error().message);
        co_return false;
    }
    std::span<char> scratch(scratch_);
    PumpResult pumped = co_await pump_exact(upstream_, upstream_buf_, x.client.stream, split.offload_length, scratch,
                                            config_.io_timeout);
    x.result.bytes_out += pumped.bytes;
    if (pumped.fault != PumpFault::none)
        co_return false;
    if (!x.res->get().keep_alive())
        close_upstream();
    co_return true;
}

} // namespace xo::gw
