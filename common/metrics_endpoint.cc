#include "common/metrics_endpoint.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <chrono>

#include "common/endpoint.h"
#include "common/log.h"

namespace xo {

namespace http = boost::beast::http;
using boost::asio::redirect_error;
using boost::asio::use_awaitable;
using boost::asio::ip::tcp;
using boost::system::error_code;

namespace {

constexpr std::uint32_t max_request_header_bytes = 8 * 1024;
constexpr std::chrono::seconds scrape_timeout{5};
constexpr const char* exposition_type = "text/plain; version=0.0.4; charset=utf-8";

} // namespace

MetricsEndpoint::MetricsEndpoint(const boost::asio::any_io_executor& executor, const metrics::Registry& registry,
                                 metrics::Counter* accept_backoffs)
    : acceptor_(executor), registry_(registry), backoff_(executor, "metrics listener", accept_backoffs)
{
}

bool MetricsEndpoint::listen(const tcp::endpoint& endpoint, std::string& error)
{
    if (auto ec = listen_on(acceptor_, endpoint)) {
        error = "cannot listen for metrics on " + to_string(endpoint) + ": " + ec.message();
        return false;
    }
    return true;
}

void MetricsEndpoint::start()
{
    boost::asio::co_spawn(acceptor_.get_executor(), accept_loop(), [](std::exception_ptr e) {
        if (e)
            log::error("metrics accept loop ended by an exception");
    });
}

void MetricsEndpoint::close()
{
    boost::asio::post(acceptor_.get_executor(), [this] {
        error_code ignored;
        acceptor_.close(ignored);
        backoff_.cancel();
    });
}

boost::asio::awaitable<void> MetricsEndpoint::accept_loop()
{
    for (;;) {
        error_code ec;
        tcp::socket socket = co_await acceptor_.async_accept(redirect_error(use_awaitable, ec));
        if (ec == boost::asio::error::operation_aborted || !acceptor_.is_open())
            co_return;
        if (ec) {
            co_await backoff_.after_failure(ec);
            continue;
        }
        backoff_.accepted();
        boost::asio::co_spawn(acceptor_.get_executor(), serve(std::move(socket), registry_),
                              [](std::exception_ptr e) {
                                  if (e)
                                      log::error("metrics scrape ended by an exception");
                              });
    }
}

/*
 * serve() - read one request within the scrape timeout and answer it:
 * GET /metrics gets the exposition, anything else a 404.
 */
boost::asio::awaitable<void> MetricsEndpoint::serve(tcp::socket socket, const metrics::Registry& registry)
{
    boost::beast::tcp_stream stream(std::move(socket));
    boost::beast::flat_buffer buffer;
    http::request_parser<http::empty_body> req;
    req.header_limit(max_request_header_bytes);
    error_code ec;
    stream.expires_after(scrape_timeout);
    co_await http::async_read(stream, buffer, req, redirect_error(use_awaitable, ec));
    if (ec)
        co_return;

    const auto& request = req.get();
    const bool wanted = request.method() == http::verb::get && request.target() == "/metrics";
    http::response<http::string_body> res{wanted ? http::status::ok : http::status::not_found, request.version()};
    res.set(http::field::content_type, wanted ? exposition_type : "text/plain; charset=utf-8");
    res.body() = wanted ? registry.render() : std::string("not found: only GET /metrics is served here\n");
    res.prepare_payload();
    res.keep_alive(false);
    co_await http::async_write(stream, res, redirect_error(use_awaitable, ec));
    stream.socket().shutdown(tcp::socket::shutdown_send, ec);
}

} // namespace xo
