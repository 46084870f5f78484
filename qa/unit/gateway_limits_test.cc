// The gateway's bounded resources: the connection limit and its 503 SlowDown,
// relay buffers held only during exchanges, and the accept loop's backoff
// when descriptors run out (rgw_xo/connection_limit.h, relay_buffer.h,
// common/accept_backoff.h), with an in-process Worker (test_support.h).
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <span>

#include "common/accept_backoff.h"
#include "rgw_xo/connection_limit.h"
#include "rgw_xo/relay_buffer.h"
#include "qa/unit/test_support.h"

namespace {

using namespace xo::test;
using xo::gw::ConnectionLimit;

std::string get(std::string_view target)
{
    return "GET " + std::string(target) + " HTTP/1.1\r\nHost: gw.test\r\n\r\n";
}

FakeUpstream::Responder echo_target()
{
    return [](const Message& req) { return response_bytes(200, "OK", req.target); };
}

/** served() - a request on @c gets the fake radosgw's 200. */
bool served(Conn& c, std::string_view target)
{
    Message res;
    return c.send_all(get(target)) && read_response(c, res, deadline_in(3s)) && res.status == 200 &&
           res.body == target;
}

// ---------------------------------------------------------------- pieces

TEST(ConnectionLimit, SlotsUpToTheLimitThenNone)
{
    ConnectionLimit limit(2);
    auto a = limit.try_take();
    auto b = limit.try_take();
    ASSERT_TRUE(a && b);
    EXPECT_FALSE(limit.try_take());
    EXPECT_EQ(limit.in_use(), 2u);
    {
        auto moved = std::move(*a);
        a.reset(); // the moved-from slot gives nothing back
        EXPECT_EQ(limit.in_use(), 2u);
    }
    EXPECT_EQ(limit.in_use(), 1u);
    EXPECT_TRUE(limit.try_take());
    EXPECT_EQ(limit.in_use(), 1u);
}

TEST(ConnectionLimit, DefaultFollowsTheOpenFilesLimit)
{
    EXPECT_EQ(xo::gw::connections_for_open_files(20000), (20000u - 256) / 2);
    EXPECT_EQ(xo::gw::connections_for_open_files(1024), 384u);
    EXPECT_EQ(xo::gw::connections_for_open_files(100), 16u); // never useless
}

TEST(RelayBuffer, AllocatedOnUseReleasedOnDemand)
{
    xo::gw::RelayBuffer b(256 * 1024);
    EXPECT_FALSE(b.allocated());
    EXPECT_EQ(b.size(), 256u * 1024);
    std::span<char> s(b);
    EXPECT_TRUE(b.allocated());
    EXPECT_EQ(s.size(), 256u * 1024);
    s[0] = 'x';
    b.release();
    EXPECT_FALSE(b.allocated());
}

TEST(AcceptBackoff, ShortagesPauseLongerEachTimeUntilAnAcceptSucceeds)
{
    boost::asio::io_context ioc;
    xo::metrics::Registry registry;
    auto& pauses = xo::accept_backoff_counter(registry, "test");
    xo::AcceptBackoff backoff(ioc.get_executor(), "test listener", &pauses);
    std::vector<Clock::duration> took;
    auto failing = [&](boost::system::error_code ec) -> boost::asio::awaitable<void> {
        const auto start = Clock::now();
        co_await backoff.after_failure(ec);
        took.push_back(Clock::now() - start);
    };
    auto run = [&](int err) {
        boost::asio::co_spawn(ioc, failing(boost::system::error_code(err, boost::system::system_category())),
                              boost::asio::detached);
        ioc.restart();
        ioc.run();
    };
    run(ECONNABORTED); // one connection's problem: no pause
    EXPECT_EQ(pauses.value(), 0u);
    EXPECT_LT(took.back(), 50ms);
    run(EMFILE);
    run(ENFILE);
    run(EMFILE);
    EXPECT_EQ(pauses.value(), 3u);
    EXPECT_GE(took[1], 95ms);
    EXPECT_GE(took[2], 195ms);
    EXPECT_GE(took[3], 395ms);
    EXPECT_EQ(backoff.next_pause(), 800ms);
    backoff.accepted();
    EXPECT_EQ(backoff.next_pause(), xo::AcceptBackoff::first_pause);
}

TEST(AcceptBackoff, PausesAreCapped)
{
    boost::asio::io_context ioc;
    xo::AcceptBackoff backoff(ioc.get_executor(), "test listener", nullptr);
    auto fail = [&]() -> boost::asio::awaitable<void> {
        co_await backoff.after_failure(boost::system::error_code(ENOBUFS, boost::system::system_category()));
    };
    for (int i = 0; i < 6; ++i) {
        boost::asio::co_spawn(ioc, fail(), boost::asio::detached);
        // Cut each pause short: only the schedule is under test here.
        boost::asio::post(ioc, [&] { backoff.cancel(); });
        ioc.restart();
        ioc.run();
    }
    EXPECT_EQ(backoff.next_pause(), xo::AcceptBackoff::longest_pause);
}

// ---------------------------------------------------------------- the worker at its limits

TEST(GatewayLimits, ConnectionBeyondTheLimitGetsSlowDownAndTheLimitRecovers)
{
    FakeUpstream up(FakeUpstream::serving(echo_target()));
    Gateway gw(up.port(), [](xo::gw::GatewayConfig& c) { c.max_connections = 2; });
    ASSERT_TRUE(gw.ok()) << gw.error();
    Conn a = gw.connect();
    Conn b = gw.connect();
    ASSERT_TRUE(served(a, "/a"));
    ASSERT_TRUE(served(b, "/b")); // both hold a slot, idle now

    Conn over = gw.connect();
    ASSERT_TRUE(over.valid());
    ASSERT_TRUE(over.send_all(get("/over")));
    Message res;
    ASSERT_TRUE(read_response(over, res, deadline_in(3s)));
    EXPECT_EQ(res.status, 503);
    EXPECT_NE(res.body.find("<Code>SlowDown</Code>"), std::string::npos) << res.body;
    EXPECT_EQ(res.field("connection").value_or(""), "close");
    EXPECT_TRUE(over.wait_closed(deadline_in(3s)));
    EXPECT_EQ(gw.metric("xo_gateway_refused_connections_total"), 1);
    EXPECT_EQ(up.requests().size(), 2u) << "a refused request reached radosgw";

    b.close(); // a slot comes free once the session has ended
    bool recovered = false;
    for (auto until = deadline_in(3s); !recovered && Clock::now() < until;) {
        Conn again = gw.connect();
        recovered = served(again, "/again");
        if (!recovered)
            std::this_thread::sleep_for(50ms);
    }
    EXPECT_TRUE(recovered) << "no connection served after one of the two closed";
    EXPECT_TRUE(served(a, "/a2")) << "the connection that stayed was disturbed";
}

/** connect_fd() - connect the existing socket @fd to 127.0.0.1:@port (no new descriptor). */
bool connect_fd(int fd, std::uint16_t port)
{
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return ::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0;
}

TEST(GatewayLimits, OutOfDescriptorsTheAcceptLoopPausesThenRecovers)
{
    FakeUpstream up(FakeUpstream::serving(echo_target()));
    Gateway gw(up.port());
    ASSERT_TRUE(gw.ok()) << gw.error();
    Conn first = gw.connect();
    ASSERT_TRUE(served(first, "/first")); // its radosgw connection exists already

    // Sockets made while descriptors remain, connected once none do: the
    // gateway then cannot accept them (EMFILE) and they wait in its backlog.
    std::vector<Conn> clients;
    for (int i = 0; i < 3; ++i)
        clients.emplace_back(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    rlimit saved{};
    ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &saved), 0);
    rlimit tight = saved;
    tight.rlim_cur = std::min<rlim_t>(saved.rlim_cur, 4096);
    ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &tight), 0);
    std::vector<int> filler;
    for (int fd; (fd = ::dup(0)) >= 0;)
        filler.push_back(fd);
    for (auto& c : clients)
        EXPECT_TRUE(connect_fd(c.fd(), gw.port()));
    std::this_thread::sleep_for(1s);
    const double pauses = gw.metric("xo_accept_backoff_total{listener=\"s3\"}");
    EXPECT_TRUE(served(first, "/during")) << "a connection already open was not served";
    for (int fd : filler)
        ::close(fd);
    ::setrlimit(RLIMIT_NOFILE, &saved);
    EXPECT_GE(pauses, 1) << "the accept loop never ran out of descriptors";
    EXPECT_LE(pauses, 6) << "the accept loop spins on EMFILE";

    // Descriptors back: the clients that waited in the backlog are served.
    for (auto& c : clients)
        EXPECT_TRUE(served(c, "/waited")) << "a client that waited in the backlog was not served";
}

} // namespace
