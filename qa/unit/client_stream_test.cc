// ClientStream (rgw_xo/client_stream.h): Beast reads and writes HTTP through
// it, over TLS, as through any Asio stream. A real OpenSSL client (Asio's
// ssl::stream) talks to it over loopback TCP, TLS 1.2 and 1.3: two
// keep-alive exchanges with a body larger than a record batch, then a
// graceful close whose close_notify the client reads as a clean end. A
// client that never says hello fails the handshake within its deadline.
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#include <chrono>
#include <string>

#include "rgw_xo/client_stream.h"
#include "rgw_xo/graceful_close.h"
#include "qa/unit/test_pki.h"

namespace xo::gw {
namespace {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using asio::ip::tcp;
using test::Pki;

const auto* const pki_env = ::testing::AddGlobalTestEnvironment(new Pki);

std::string body_of(std::size_t n)
{
    std::string b(n, 'x');
    for (std::size_t i = 0; i < n; ++i)
        b[i] = static_cast<char>('a' + (i * 7 + i / 251) % 26);
    return b;
}

/** serve() - the gateway side: handshake, then answer @requests GETs with bodies of their path's size. */
asio::awaitable<void> serve(tcp::acceptor& acceptor, int requests, std::string& failure)
{
    auto context = tls::ServerContext::load(Pki::chain, Pki::key);
    if (!context) {
        failure = context.error().message;
        co_return;
    }
    ClientStream stream(co_await acceptor.async_accept(asio::use_awaitable));
    auto shaken = co_await stream.handshake(*context, std::chrono::seconds(5));
    if (!shaken) {
        failure = "handshake: " + shaken.error().message;
        co_return;
    }
    boost::beast::flat_buffer buffer;
    for (int i = 0; i < requests; ++i) {
        http::request<http::string_body> req;
        co_await http::async_read(stream, buffer, req, asio::use_awaitable);
        http::response<http::string_body> res{http::status::ok, 11};
        res.body() = body_of(std::stoul(std::string(req.target().substr(1))));
        res.prepare_payload();
        co_await http::async_write(stream, res, asio::use_awaitable);
    }
    co_await close_gracefully(stream);
}

class ClientStreamTls : public ::testing::TestWithParam<int> {};

TEST_P(ClientStreamTls, BeastSpeaksHttpThroughItAndItClosesWithCloseNotify)
{
    asio::io_context ioc;
    tcp::acceptor acceptor(ioc, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    std::string failure;
    const std::size_t sizes[] = {100000, 3};
    asio::co_spawn(ioc, serve(acceptor, 2, failure), asio::detached);

    asio::ssl::context client_ctx(asio::ssl::context::tls_client);
    SSL_CTX_set_min_proto_version(client_ctx.native_handle(), GetParam());
    SSL_CTX_set_max_proto_version(client_ctx.native_handle(), GetParam());
    client_ctx.load_verify_file(Pki::chain);
    client_ctx.set_verify_mode(asio::ssl::verify_peer);
    asio::ssl::stream<tcp::socket> client(ioc, client_ctx);
    std::string got_bodies[2];
    boost::system::error_code end;
    asio::co_spawn(
        ioc,
        [&]() -> asio::awaitable<void> {
            co_await client.next_layer().async_connect(acceptor.local_endpoint(), asio::use_awaitable);
            co_await client.async_handshake(asio::ssl::stream_base::client, asio::use_awaitable);
            boost::beast::flat_buffer buffer;
            for (int i = 0; i < 2; ++i) {
                http::request<http::empty_body> req{http::verb::get, "/" + std::to_string(sizes[i]), 11};
                req.set(http::field::host, "xo");
                co_await http::async_write(client, req, asio::use_awaitable);
                http::response<http::string_body> res;
                co_await http::async_read(client, buffer, res, asio::use_awaitable);
                got_bodies[i] = res.body();
            }
            char c;
            co_await client.async_read_some(asio::buffer(&c, 1), asio::redirect_error(asio::use_awaitable, end));
        },
        asio::detached);
    ioc.run_for(std::chrono::seconds(20));

    EXPECT_EQ(failure, "");
    EXPECT_EQ(got_bodies[0], body_of(sizes[0]));
    EXPECT_EQ(got_bodies[1], body_of(sizes[1]));
    // close_notify, not a bare FIN: OpenSSL reports a clean end of the stream.
    EXPECT_EQ(end, asio::error::eof) << end.message();
}

INSTANTIATE_TEST_SUITE_P(Versions, ClientStreamTls, ::testing::Values(TLS1_2_VERSION, TLS1_3_VERSION));

TEST(ClientStream, SilentClientFailsTheHandshakeWithinItsDeadline)
{
    asio::io_context ioc;
    tcp::acceptor acceptor(ioc, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    tcp::socket silent(ioc);
    silent.connect(acceptor.local_endpoint());
    auto context = tls::ServerContext::load(Pki::chain, Pki::key);
    ASSERT_TRUE(context.ok());
    std::optional<Result<void>> result;
    auto started = std::chrono::steady_clock::now();
    asio::co_spawn(
        ioc,
        [&]() -> asio::awaitable<void> {
            ClientStream stream(co_await acceptor.async_accept(asio::use_awaitable));
            auto shaking = stream.handshake(*context, std::chrono::milliseconds(300));
            result = co_await std::move(shaking);
        },
        asio::detached);
    ioc.run_for(std::chrono::seconds(5));
    ASSERT_TRUE(result.has_value());
    EXPECT_FALSE(result->ok());
    EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(2));
}

} // namespace
} // namespace xo::gw
