// The control channel's authentication: only a peer that proves a key of the
// keyring gets a channel. A server that shows a certificate instead (any
// process that took a responder's port while it was down) must get no
// channel and not one byte of a handoff; keys rotate without a restart.
#include <gtest/gtest.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cstdlib>
#include <fstream>
#include <unistd.h>

#include "qa/unit/channel_support.h"
#include "common/handoff/control_channel.h"
#include "common/handoff/psk.h"

namespace xo {
namespace {

using boost::asio::awaitable;
using boost::asio::use_awaitable;
using boost::asio::ip::tcp;
using namespace std::chrono_literals;
using test::Loopback;
using test::rethrow;

constexpr auto test_budget = 10s;

/** A temporary directory, removed with what is in it. */
struct TempDir {
    TempDir()
    {
        char tmpl[] = "/tmp/xo-tls-test.XXXXXX";
        path = ::mkdtemp(tmpl);
    }
    ~TempDir() { std::system(("rm -rf '" + path + "'").c_str()); }
    std::string write_key(const std::string& name, const std::string& lines) const
    {
        std::string file = path + "/" + name;
        std::ofstream(file) << lines;
        ::chmod(file.c_str(), 0600);
        return file;
    }
    std::string path;
};

std::string key_line(const std::string& id, char digit)
{
    return id + " " + std::string(64, digit) + "\n";
}

std::shared_ptr<handoff::ControlTls> tls_from(handoff::ControlTls::Role role, handoff::KeySource keys)
{
    auto tls = handoff::ControlTls::make(role, std::move(keys));
    EXPECT_TRUE(tls.ok()) << tls.error().message;
    return *tls;
}

/** The two ends of one connection attempt: each a channel or why there is none. */
struct Outcome {
    std::optional<Result<std::unique_ptr<handoff::ControlChannel>>> client, server;
};

/**
 * Connections of one test. The io_context outlives every channel it made
 * (declare a Connections before the Outcomes it returns): a socket destroyed
 * after its io_context would touch freed memory.
 */
struct Connections {
    /** once() - whether a client of @client_tls gets a channel to a server of @server_tls. */
    Outcome once(std::shared_ptr<handoff::ControlTls> client_tls, std::shared_ptr<handoff::ControlTls> server_tls)
    {
        Outcome out;
        Loopback lo(ioc);
        boost::asio::co_spawn(ioc, [&]() -> awaitable<void> { out.server = co_await lo.accept_one(server_tls); },
                              rethrow);
        boost::asio::co_spawn(ioc, [&]() -> awaitable<void> {
            out.client = co_await handoff::connect_channel(client_tls, lo.endpoint(), deadline_in(5s));
        }, rethrow);
        ioc.restart();
        ioc.run_for(test_budget);
        return out;
    }
    boost::asio::io_context ioc;
};

TEST(ControlTls, ServerWithOnlyACertificateGetsNoChannelAndNoBytes)
{
    TempDir dir;
    std::string cert = dir.path + "/cert.pem", key = dir.path + "/key.pem";
    ASSERT_EQ(std::system(("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=evil "
                           "-days 1 -keyout '" + key + "' -out '" + cert + "' 2>/dev/null").c_str()),
              0);
    boost::asio::ssl::context evil(boost::asio::ssl::context::tls_server);
    evil.use_certificate_chain_file(cert);
    evil.use_private_key_file(key, boost::asio::ssl::context::pem);

    auto gateway = tls_from(handoff::ControlTls::Role::client, handoff::key_dir_source(dir.path));
    std::string ip = "127.0.0.1";
    dir.write_key(ip + ".key", key_line("xo1", '7'));

    boost::asio::io_context ioc;
    tcp::acceptor acceptor(ioc, tcp::endpoint(boost::asio::ip::make_address(ip), 0));
    std::optional<Result<std::unique_ptr<handoff::ControlChannel>>> client;
    std::size_t bytes_at_evil = 0;
    bool evil_handshook = false;
    boost::asio::co_spawn(ioc, [&]() -> awaitable<void> {
        boost::asio::ssl::stream<tcp::socket> stream(co_await acceptor.async_accept(use_awaitable), evil);
        boost::system::error_code ec;
        co_await stream.async_handshake(boost::asio::ssl::stream_base::server,
                                        boost::asio::redirect_error(use_awaitable, ec));
        evil_handshook = !ec;
        std::array<char, 4096> buf;
        while (!ec)
            bytes_at_evil += co_await stream.async_read_some(boost::asio::buffer(buf),
                                                             boost::asio::redirect_error(use_awaitable, ec));
    }, rethrow);
    boost::asio::co_spawn(ioc, [&]() -> awaitable<void> {
        client = co_await handoff::connect_channel(gateway, acceptor.local_endpoint(), deadline_in(5s));
        if (*client)
            (void)co_await (**client)->send(handoff::Message{handoff::Go{.flow_id = 1}}, deadline_in(1s));
        client->ok() ? (**client)->close("test over") : void();
    }, rethrow);
    ioc.run_for(test_budget);

    ASSERT_TRUE(client.has_value());
    ASSERT_FALSE(client->ok()) << "a certificate-only server got a control channel";
    RecordProperty("client_error", client->error().message);
    EXPECT_FALSE(evil_handshook);
    EXPECT_EQ(bytes_at_evil, 0u);
}

TEST(ControlTls, GatewayWithoutAKeyForThatResponderDoesNotConnect)
{
    TempDir dir;
    auto gateway = tls_from(handoff::ControlTls::Role::client, handoff::key_dir_source(dir.path)); // no 127.0.0.1.key
    TempDir rdir;
    auto responder = tls_from(handoff::ControlTls::Role::server, handoff::key_file_source(rdir.write_key("r.key", key_line("r", '1'))));
    Connections connections;
    auto out = connections.once(gateway, responder);
    ASSERT_TRUE(out.client.has_value());
    ASSERT_FALSE(out.client->ok());
    EXPECT_NE(out.client->error().message.find("127.0.0.1.key"), std::string::npos) << out.client->error().message;
}

TEST(ControlTls, EachResponderHasItsOwnKey)
{
    TempDir gw, r1;
    gw.write_key("127.0.0.1.key", key_line("r2", '2')); // the gateway's key is another responder's
    auto responder = tls_from(handoff::ControlTls::Role::server, handoff::key_file_source(r1.write_key("r1.key", key_line("r1", '1'))));
    Connections connections;
    auto out = connections.once(tls_from(handoff::ControlTls::Role::client, handoff::key_dir_source(gw.path)), responder);
    ASSERT_TRUE(out.client.has_value());
    EXPECT_FALSE(out.client->ok());
    ASSERT_TRUE(out.server.has_value());
    EXPECT_FALSE(out.server->ok());
}

// The documented rotation: add the new key where it is checked, use it where
// it is offered, withdraw the old one. Every step without a restart.
TEST(ControlTls, KeysRotateWithoutARestart)
{
    TempDir gw, r;
    std::string gw_file = gw.write_key("127.0.0.1.key", key_line("old", '1'));
    std::string r_file = r.write_key("r.key", key_line("old", '1'));
    auto gateway = tls_from(handoff::ControlTls::Role::client, handoff::key_dir_source(gw.path));
    auto responder = tls_from(handoff::ControlTls::Role::server, handoff::key_file_source(r_file));
    Connections connections;

    auto before = connections.once(gateway, responder);
    ASSERT_TRUE(before.client && before.client->ok());
    ASSERT_TRUE(before.server && before.server->ok());
    EXPECT_EQ((**before.server)->key_id(), "old");

    r.write_key("r.key.new", key_line("new", '2') + key_line("old", '1'));
    ASSERT_EQ(::rename((r_file + ".new").c_str(), r_file.c_str()), 0);
    auto during = connections.once(gateway, responder); // the gateway still offers the old key
    ASSERT_TRUE(during.server && during.server->ok()) << during.server->error().message;
    EXPECT_EQ((**during.server)->key_id(), "old");

    gw.write_key("127.0.0.1.key.new", key_line("new", '2'));
    ASSERT_EQ(::rename((gw_file + ".new").c_str(), gw_file.c_str()), 0);
    auto switched = connections.once(gateway, responder);
    ASSERT_TRUE(switched.server && switched.server->ok()) << switched.server->error().message;
    EXPECT_EQ((**switched.server)->key_id(), "new");
    EXPECT_TRUE((**during.server)->key_still_held().ok());

    r.write_key("r.key.new", key_line("new", '2'));
    ASSERT_EQ(::rename((r_file + ".new").c_str(), r_file.c_str()), 0);
    auto withdrawn = (**during.server)->key_still_held(); // a channel that proved the old key
    ASSERT_FALSE(withdrawn.ok());
    EXPECT_NE(withdrawn.error().message.find("old"), std::string::npos) << withdrawn.error().message;
    EXPECT_TRUE((**switched.server)->key_still_held().ok());

    // An old-key gateway is now refused.
    gw.write_key("127.0.0.1.key.new", key_line("old", '1'));
    ASSERT_EQ(::rename((gw_file + ".new").c_str(), gw_file.c_str()), 0);
    auto stale = connections.once(gateway, responder);
    ASSERT_TRUE(stale.client.has_value());
    EXPECT_FALSE(stale.client->ok());
}

} // namespace
} // namespace xo
