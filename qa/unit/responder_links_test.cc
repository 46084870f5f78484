// ResponderLinks (rgw_xo/responder_links.h) against a real control server on
// loopback: a responder whose channel authenticates but whose MAC the
// gateway cannot read (a routed responder, or one on another NIC). "lo" has
// no neighbour entries, so the lookup for 127.0.0.1 on it fails for real.
//
// Theory of operation: the link's reader coroutine must hold the link from
// the moment it is spawned, and a link given up after its connect must be
// closed. Before that was so, the link was freed when link() returned the
// lookup's error and its reader, which co_spawn starts only afterwards, ran
// on freed memory: a heap-use-after-free that the sanitizer build
// (-DXO_SANITIZE=ON) reports here. The server side also proves the channel
// is closed at once rather than left open with nobody using it.
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <optional>

#include "qa/unit/channel_support.h"
#include "rgw_xo/responder_links.h"

namespace xo {
namespace {

using namespace std::chrono_literals;
using boost::asio::awaitable;

TEST(ResponderLinks, LinkWhoseNeighbourLookupFailsIsClosedAndFreed)
{
    auto server_tls = test::tls_with(handoff::ControlTls::Role::server, 7);
    auto client_tls = test::tls_with(handoff::ControlTls::Role::client, 7);
    std::optional<Result<handoff::Message>> at_server;
    Clock::duration server_waited{};
    boost::asio::io_context ioc;
    // I/O objects after the io_context, so that they go before its services.
    std::optional<Result<std::shared_ptr<handoff::ResponderLink>>> linked;
    test::Loopback lo(ioc);
    gw::ResponderLinks links(client_tls, lo.endpoint().port(), "lo");

    boost::asio::co_spawn(ioc, [&]() -> awaitable<void> {
        auto channel = co_await lo.accept_one(server_tls);
        if (!channel) {
            at_server = channel.error();
            co_return;
        }
        auto start = Clock::now();
        at_server = co_await (*channel)->recv(deadline_in(5s));
        server_waited = Clock::now() - start;
    }, test::rethrow);
    boost::asio::co_spawn(ioc, [&]() -> awaitable<void> {
        auto link = co_await links.link("127.0.0.1");
        linked = std::move(link);
    }, test::rethrow);
    ioc.run_for(10s);

    ASSERT_TRUE(linked.has_value()) << "link() did not finish";
    ASSERT_FALSE(linked->ok());
    EXPECT_NE(linked->error().message.find("neighbour 127.0.0.1 on lo"), std::string::npos)
        << linked->error().message;
    ASSERT_TRUE(at_server.has_value()) << "the server never saw the channel end";
    ASSERT_FALSE(at_server->ok());
    EXPECT_NE(at_server->error().message.find("peer closed"), std::string::npos) << at_server->error().message;
    EXPECT_LT(server_waited, 1s);
}

} // namespace
} // namespace xo
