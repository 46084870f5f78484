#include "rgw_xo/client_session.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <chrono>

#include "rgw_xo/access_log.h"
#include "common/endpoint.h"
#include "rgw_xo/graceful_close.h"
#include "common/log.h"
#include "rgw_xo/readable.h"
#include "rgw_xo/worker.h"

namespace xo::gw {

namespace http = boost::beast::http;
using boost::asio::redirect_error;
using boost::asio::use_awaitable;
using boost::system::error_code;

namespace {

constexpr std::size_t first_read_bytes = 16 * 1024;

} // namespace

void ClientSession::start(Worker& worker, boost::asio::ip::tcp::socket socket, ConnectionLimit::Slot slot,
                          std::shared_ptr<const tls::ServerContext> tls)
{
    auto executor = socket.get_executor();
    std::unique_ptr<ClientSession> session;
    try {
        session = std::make_unique<ClientSession>(worker, std::move(socket), std::move(slot), std::move(tls));
    } catch (const std::exception& e) {
        // Out of memory for one connection: drop it, keep accepting others.
        log::error("cannot set up a client session: ", e.what());
        return;
    }
    boost::asio::co_spawn(executor, serve(std::move(session)), [](std::exception_ptr e) {
        if (e)
            log::error("client session ended by an exception");
    });
}

ClientSession::ClientSession(Worker& worker, boost::asio::ip::tcp::socket socket, ConnectionLimit::Slot slot,
                             std::shared_ptr<const tls::ServerContext> tls)
    : worker_(worker), slot_(std::move(slot)), tls_(std::move(tls)), stream_(std::move(socket)),
      relay_(worker.config(), stream_.get_executor(), worker.offload())
{
    error_code ec;
    auto peer = stream_.socket().remote_endpoint(ec);
    if (!ec) {
        client_ip_ = peer.address().to_string();
        client_label_ = to_string(peer);
    }
    // Headers and bodies are separate writes: without this, Nagle and the
    // client's delayed ACK add tens of milliseconds to small responses.
    stream_.socket().set_option(boost::asio::ip::tcp::no_delay(true), ec);
    worker_.attach(this);
    worker_.metrics().connection_opened();
}

ClientSession::~ClientSession()
{
    worker_.metrics().connection_closed();
    worker_.detach(this);
}

void ClientSession::on_drain()
{
    if (idle_)
        stream_.cancel();
}

boost::asio::awaitable<void> ClientSession::serve(std::unique_ptr<ClientSession> self)
{
    if (self->tls_) {
        auto handshaking = self->stream_.handshake(std::move(self->tls_), self->worker_.config().header_timeout);
        auto shaken = co_await std::move(handshaking);
        if (!shaken) {
            self->worker_.metrics().tls_handshake_failed();
            log::debug("TLS handshake with ", self->client_label_, " failed: ", shaken.error().message);
            boost::system::error_code ignored;
            self->stream_.socket().close(ignored);
            co_return;
        }
    }
    co_await self->run();
    co_await close_gracefully(self->stream_);
}

/*
 * wait_for_request() - wait, up to the idle timeout, for the first byte of
 * the next request. Only then does the shorter header timeout start, so a
 * kept-alive connection may idle but a started request must keep coming.
 * While it waits the connection holds no buffer.
 */
boost::asio::awaitable<bool> ClientSession::wait_for_request()
{
    if (buffer_.size() > 0 || stream_.buffered())
        co_return true;
    if (worker_.draining())
        co_return false;
    relay_.release_buffers();
    buffer_.shrink_to_fit();
    idle_ = true;
    auto waiting = readable_within(stream_.socket(), worker_.config().idle_timeout);
    error_code ec = co_await std::move(waiting);
    idle_ = false;
    if (ec == boost::asio::error::timed_out) {
        stream_.socket().close(ec); // nothing unread, nothing owed: a plain FIN
        co_return false;
    }
    if (ec)
        co_return false;
    stream_.expires_after(worker_.config().header_timeout);
    std::size_t n = co_await stream_.async_read_some(buffer_.prepare(first_read_bytes),
                                                     redirect_error(use_awaitable, ec));
    buffer_.commit(n);
    co_return !ec;
}

boost::asio::awaitable<void> ClientSession::run()
{
    const auto& config = worker_.config();
    while (co_await wait_for_request()) {
        const auto started = std::chrono::steady_clock::now();
        const std::string request_id = worker_.next_request_id();

        RequestParser req;
        limit_request_head(req, config.max_header_bytes);
        error_code ec;
        stream_.expires_after(config.header_timeout);
        co_await http::async_read_header(stream_, buffer_, req, redirect_error(use_awaitable, ec));
        if (!ec)
            ec = check_request_head(req);

        ExchangeResult result = ec ? co_await reject(ec, req, request_id)
                                   : co_await relay_.exchange(
                                         ClientSide{stream_, buffer_, client_ip_, request_id, worker_.draining()}, req);

        const bool parsed = req.is_header_done();
        worker_.metrics().record(parsed ? std::string_view(req.get().method_string()) : std::string_view(), result);
        worker_.access_log().write(AccessRecord{
            .client = client_label_,
            .request_id = request_id,
            .method = parsed ? std::string_view(req.get().method_string()) : std::string_view("-"),
            .target = parsed ? std::string_view(req.get().target()) : std::string_view("-"),
            .status = result.status,
            .bytes_in = result.bytes_in,
            .bytes_out = result.bytes_out + result.offload.responder_bytes,
            .duration = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() -
                                                                              started),
            .outcome = result.outcome,
            .offload_reason = result.offload.reason,
        });
        if (!result.keep_alive || worker_.draining())
            break;
    }
}

/*
 * reject() - the request header could not be read. Syntax errors and
 * oversized headers get an S3 error; timeouts and hang-ups just end.
 */
boost::asio::awaitable<ExchangeResult> ClientSession::reject(error_code ec, RequestParser& req,
                                                             const std::string& request_id)
{
    ExchangeResult result;
    if (ec == boost::beast::error::timeout) {
        result.outcome = "header_timeout";
        co_return result;
    }
    if (!is_http_syntax_error(ec)) {
        result.outcome = "client_closed";
        co_return result;
    }
    const S3Error& err = ec == http::error::header_limit ? errors::header_too_large : errors::bad_request;
    log::debug("rejecting request from ", client_label_, ": ", ec.message());
    auto res = make_error_response(err, req.is_header_done() ? req.get().target() : "", request_id);
    stream_.expires_after(worker_.config().io_timeout);
    co_await http::async_write(stream_, res, redirect_error(use_awaitable, ec));
    result.status = ec ? 0 : res.result_int();
    result.bytes_out = ec ? 0 : res.body().size();
    result.outcome = err.code;
    co_return result;
}

} // namespace xo::gw
