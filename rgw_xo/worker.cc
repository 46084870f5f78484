#include "rgw_xo/worker.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/write.hpp>
#include <chrono>
#include <cstdio>

#include "rgw_xo/client_session.h"
#include "common/endpoint.h"
#include "rgw_xo/graceful_close.h"
#include "common/log.h"
#include "rgw_xo/s3_error.h"

namespace xo::gw {

using boost::asio::redirect_error;
using boost::asio::use_awaitable;
using boost::asio::ip::tcp;
using boost::system::error_code;

namespace {

// A refused client's answer fits in the socket buffer: this only bounds a
// client that does not read at all.
constexpr std::chrono::seconds refusal_write_timeout{2};

} // namespace

Worker::Worker(const GatewayConfig& config, AccessLog& access_log, GatewayMetrics& metrics, ConnectionLimit& limit,
               unsigned index, OffloadService* offload, const TlsCertificates* certificates)
    : config_(config), access_log_(access_log), metrics_(metrics), limit_(limit), index_(index), acceptor_(ioc_),
      backoff_(ioc_.get_executor(), "S3 listener", &metrics.s3_accept_backoffs()), certificates_(certificates),
      tls_acceptor_(ioc_), tls_backoff_(ioc_.get_executor(), "S3 HTTPS listener", &metrics.s3_accept_backoffs())
{
    if (offload)
        offload_ = std::make_unique<GetOffload>(*offload);
    auto start = std::chrono::system_clock::now().time_since_epoch();
    char prefix[48];
    std::snprintf(prefix, sizeof prefix, "%llx-%x-",
                  static_cast<unsigned long long>(std::chrono::duration_cast<std::chrono::microseconds>(start).count()),
                  index_);
    id_prefix_ = prefix;
}

bool Worker::listen(std::string& error)
{
    if (auto ec = listen_on(acceptor_, config_.listen, true)) {
        error = "cannot listen on " + to_string(config_.listen) + ": " + ec.message();
        return false;
    }
    if (certificates_ && config_.ssl_endpoint) {
        if (auto ec = listen_on(tls_acceptor_, *config_.ssl_endpoint, true)) {
            error = "cannot listen on " + to_string(*config_.ssl_endpoint) + ": " + ec.message();
            return false;
        }
    }
    return true;
}

void Worker::run()
{
    auto ended = [](std::exception_ptr e) {
        if (e)
            log::error("accept loop ended by an exception");
    };
    boost::asio::co_spawn(ioc_, accept_loop(acceptor_, backoff_, false), ended);
    if (tls_acceptor_.is_open())
        boost::asio::co_spawn(ioc_, accept_loop(tls_acceptor_, tls_backoff_, true), ended);
    ioc_.run();
}

void Worker::drain()
{
    boost::asio::post(ioc_, [this] {
        draining_ = true;
        error_code ignored;
        acceptor_.close(ignored);
        backoff_.cancel();
        tls_acceptor_.close(ignored);
        tls_backoff_.cancel();
        for (ClientSession* s : sessions_)
            s->on_drain();
        close_links_when_drained();
    });
}

void Worker::stop() { ioc_.stop(); }

std::string Worker::next_request_id()
{
    char counter[24];
    std::snprintf(counter, sizeof counter, "%llx", static_cast<unsigned long long>(++id_counter_));
    return id_prefix_ + counter;
}

boost::asio::awaitable<void> Worker::accept_loop(tcp::acceptor& acceptor, AcceptBackoff& backoff, bool tls)
{
    while (!draining_) {
        error_code ec;
        tcp::socket socket = co_await acceptor.async_accept(boost::asio::redirect_error(boost::asio::use_awaitable, ec));
        if (ec) {
            if (draining_)
                break;
            // Keep serving the connections we have; pause if descriptors ran out.
            co_await backoff.after_failure(ec);
            continue;
        }
        backoff.accepted();
        if (auto slot = limit_.try_take())
            ClientSession::start(*this, std::move(socket), std::move(*slot),
                                 tls ? certificates_->current() : nullptr);
        else
            refuse(std::move(socket), tls);
    }
}

/*
 * refuse() - a connection beyond --max-connections: answer it 503 SlowDown,
 * unless this worker already answers max_refusing of them; then close it.
 */
void Worker::refuse(tcp::socket socket, bool tls)
{
    if (tls || refusing_ >= max_refusing) { // a 503 over HTTPS would cost a handshake: close instead
        metrics_.connection_refused();
        error_code ignored;
        socket.close(ignored);
        return;
    }
    ++refusing_;
    boost::asio::co_spawn(ioc_, answer_busy(std::move(socket)), [this](std::exception_ptr e) {
        --refusing_;
        if (e)
            log::error("refusing a connection ended by an exception");
    });
}

/*
 * answer_busy() - 503 SlowDown without reading the request (whatever the
 * client sends is the request it must retry), then a graceful close. The
 * refusal is logged and counted like a request the gateway answered itself.
 */
boost::asio::awaitable<void> Worker::answer_busy(tcp::socket socket)
{
    const auto started = std::chrono::steady_clock::now();
    const std::string request_id = next_request_id();
    error_code ec;
    auto peer = socket.remote_endpoint(ec);
    const std::string client = ec ? std::string("-") : to_string(peer);
    ClientStream stream(std::move(socket));
    auto res = make_error_response(errors::slow_down, "", request_id);
    stream.expires_after(refusal_write_timeout);
    co_await boost::beast::http::async_write(stream, res, redirect_error(use_awaitable, ec));
    ExchangeResult result;
    result.status = ec ? 0 : res.result_int();
    result.bytes_out = ec ? 0 : res.body().size();
    result.outcome = errors::slow_down.code;
    metrics_.connection_refused();
    metrics_.record("", result);
    access_log_.write(AccessRecord{
        .client = client,
        .request_id = request_id,
        .method = "-",
        .target = "-",
        .status = result.status,
        .bytes_in = 0,
        .bytes_out = result.bytes_out,
        .duration = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - started),
        .outcome = result.outcome,
        .offload_reason = {},
    });
    co_await close_gracefully(stream);
}

} // namespace xo::gw
