// Theory of operation: the TCP state module is proven by migrating a live
// connection on one host. A client and a server talk over loopback; the
// server's socket is saved, closed in repair mode, restored from the encoded
// and decoded state on the same address and port, and taken out of repair.
// The client must then see every byte exactly once and in order, the server
// must read the bytes it had received but not read, and no RST may appear.
//
// Each kernel test runs in its own anonymous network namespace (unshare), so
// its loopback, sysctls (tcp_timestamps) and RST counters are private and the
// namespace vanishes with the test's sockets, even if the process dies.
// Between save and restore no socket owns the 4-tuple; a packet from the
// client in that gap would draw a RST from the listener. Production blocks
// the flow first; the tests instead wait until both sides have acknowledged
// everything, so the client has no reason to send during the gap.
#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <functional>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "common/handoff/handoff_messages.h"
#include "qa/unit/private_netns.h"
#include "common/tcp/tcp_state.h"
#include "common/unique_fd.h"
#include "common/wire.h"

namespace xo {
namespace {

using Clock = std::chrono::steady_clock;
constexpr int kIoTimeoutMs = 5000;

/** The byte at @offset of a test stream; varies with offset and stream. */
std::uint8_t pattern_byte(std::uint64_t offset, std::uint8_t stream)
{
    return static_cast<std::uint8_t>((offset * 131) ^ (offset >> 9) ^ stream);
}

std::vector<std::uint8_t> pattern(std::uint64_t offset, std::size_t len, std::uint8_t stream)
{
    std::vector<std::uint8_t> out(len);
    for (std::size_t i = 0; i < len; ++i)
        out[i] = pattern_byte(offset + i, stream);
    return out;
}

int ioctl_value(int fd, unsigned long request)
{
    int v = -1;
    return ::ioctl(fd, request, &v) == 0 ? v : -1;
}

bool wait_until(const std::function<bool()>& done, int timeout_ms)
{
    auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
    while (!done()) {
        if (Clock::now() > deadline)
            return false;
        ::usleep(100);
    }
    return true;
}

/** A TCP counter of this thread's network namespace (e.g. "Tcp" "OutRsts"). */
long net_counter(const char* file, const std::string& group, const std::string& name)
{
    std::ifstream in(std::string("/proc/thread-self/net/") + file);
    std::string header, values;
    while (std::getline(in, header) && std::getline(in, values)) {
        std::istringstream h(header), v(values);
        std::string key, val;
        h >> key;
        v >> val;
        if (key != group + ":")
            continue;
        while (h >> key && v >> val)
            if (key == name)
                return std::stol(val);
    }
    return -1;
}

long out_rsts() { return net_counter("snmp", "Tcp", "OutRsts"); }

/** Write as much of @data as the socket takes without blocking. */
std::size_t write_some(int fd, const std::vector<std::uint8_t>& data)
{
    std::size_t done = 0;
    while (done < data.size()) {
        ssize_t n = ::send(fd, data.data() + done, data.size() - done, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n <= 0)
            break;
        done += static_cast<std::size_t>(n);
    }
    return done;
}

/** Read exactly @len bytes within the I/O timeout; fails the test otherwise. */
void read_exact(int fd, std::size_t len, std::vector<std::uint8_t>& out)
{
    out.assign(len, 0);
    std::size_t done = 0;
    auto deadline = Clock::now() + std::chrono::milliseconds(kIoTimeoutMs);
    while (done < len) {
        ASSERT_LT(Clock::now(), deadline) << "timed out after " << done << " of " << len << " bytes";
        pollfd p{fd, POLLIN, 0};
        ::poll(&p, 1, 100);
        ssize_t n = ::recv(fd, out.data() + done, len - done, MSG_DONTWAIT);
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            continue;
        ASSERT_GT(n, 0) << "recv after " << done << " of " << len << " bytes: "
                        << (n < 0 ? std::strerror(errno) : "end of stream");
        done += static_cast<std::size_t>(n);
    }
}

/** Read and compare with the stream pattern. */
void expect_stream(int fd, std::uint64_t offset, std::size_t len, std::uint8_t stream)
{
    std::vector<std::uint8_t> got;
    ASSERT_NO_FATAL_FAILURE(read_exact(fd, len, got));
    auto want = pattern(offset, len, stream);
    auto diff = std::mismatch(got.begin(), got.end(), want.begin());
    ASSERT_TRUE(diff.first == got.end()) << "stream " << int(stream) << " differs at offset "
                                         << offset + static_cast<std::uint64_t>(diff.first - got.begin());
}

void expect_nothing_pending(int fd)
{
    pollfd p{fd, POLLIN, 0};
    EXPECT_EQ(::poll(&p, 1, 20), 0) << "unexpected extra data or end of stream";
}

void send_all(int fd, const std::vector<std::uint8_t>& data)
{
    std::size_t done = 0;
    auto deadline = Clock::now() + std::chrono::milliseconds(kIoTimeoutMs);
    while (done < data.size()) {
        ASSERT_LT(Clock::now(), deadline) << "send timed out";
        ssize_t n = ::send(fd, data.data() + done, data.size() - done, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n < 0 && errno == EAGAIN) {
            pollfd p{fd, POLLOUT, 0};
            ::poll(&p, 1, 100);
            continue;
        }
        ASSERT_GT(n, 0) << "send: " << std::strerror(errno);
        done += static_cast<std::size_t>(n);
    }
}

sockaddr_storage loopback(int family, std::uint16_t port, socklen_t& len)
{
    sockaddr_storage ss{};
    if (family == AF_INET) {
        auto& sin = reinterpret_cast<sockaddr_in&>(ss);
        sin.sin_family = AF_INET;
        sin.sin_port = htons(port);
        sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        len = sizeof sin;
    } else {
        auto& sin6 = reinterpret_cast<sockaddr_in6&>(ss);
        sin6.sin6_family = AF_INET6;
        sin6.sin6_port = htons(port);
        sin6.sin6_addr = in6addr_loopback;
        len = sizeof sin6;
    }
    return ss;
}

struct Conn {
    UniqueFd listener;
    UniqueFd client;
    UniqueFd server;
    std::uint16_t port = 0;
};

/** A connected loopback pair; @client_rcvbuf (if not 0) keeps the client's window small. */
void connect_pair(int family, int client_rcvbuf, Conn& c)
{
    c.listener.reset(::socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0));
    ASSERT_TRUE(c.listener.valid()) << std::strerror(errno);
    socklen_t len;
    auto addr = loopback(family, 0, len);
    ASSERT_EQ(::bind(c.listener.get(), reinterpret_cast<sockaddr*>(&addr), len), 0) << std::strerror(errno);
    ASSERT_EQ(::listen(c.listener.get(), 8), 0) << std::strerror(errno);
    socklen_t got = sizeof addr;
    ASSERT_EQ(::getsockname(c.listener.get(), reinterpret_cast<sockaddr*>(&addr), &got), 0);
    c.port = ntohs(family == AF_INET ? reinterpret_cast<sockaddr_in&>(addr).sin_port
                                     : reinterpret_cast<sockaddr_in6&>(addr).sin6_port);

    c.client.reset(::socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0));
    ASSERT_TRUE(c.client.valid());
    if (client_rcvbuf != 0) {
        ASSERT_EQ(::setsockopt(c.client.get(), SOL_SOCKET, SO_RCVBUF, &client_rcvbuf, sizeof client_rcvbuf), 0);
    }
    ASSERT_EQ(::connect(c.client.get(), reinterpret_cast<sockaddr*>(&addr), len), 0) << std::strerror(errno);
    c.server.reset(::accept4(c.listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
    ASSERT_TRUE(c.server.valid()) << std::strerror(errno);
}

/**
 * Wait until neither side has unacknowledged data in flight (see the top
 * comment). TCP_QUICKACK flushes an ACK the kernel is holding back, so the
 * wait is not a delayed-ACK timeout (~40 ms) each time.
 */
void wait_quiet(const Conn& c)
{
    bool quiet = wait_until(
        [&] {
            int one = 1;
            ::setsockopt(c.client.get(), IPPROTO_TCP, TCP_QUICKACK, &one, sizeof one);
            ::setsockopt(c.server.get(), IPPROTO_TCP, TCP_QUICKACK, &one, sizeof one);
            return ioctl_value(c.client.get(), SIOCOUTQ) == 0 &&
                   ioctl_value(c.server.get(), SIOCOUTQ) == ioctl_value(c.server.get(), SIOCOUTQNSD);
        },
        kIoTimeoutMs);
    ASSERT_TRUE(quiet) << "connection did not settle";
}

struct Timings {
    std::vector<double> save_us, restore_us, leave_us;
};

double us_since(Clock::time_point t0)
{
    return std::chrono::duration<double, std::micro>(Clock::now() - t0).count();
}

double median(std::vector<double> v)
{
    if (v.empty())
        return 0;
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

/**
 * Move @server to a new socket on the same address and port, through the
 * wire encoding; @saved receives the state for inspection.
 */
void migrate(UniqueFd& server, tcp::TcpState& saved, Timings* t = nullptr)
{
    auto t0 = Clock::now();
    auto st = tcp::save_tcp_state(server.get());
    double save_us = us_since(t0);
    ASSERT_TRUE(st.ok()) << st.error().message;
    server.reset(); // closed in repair mode: nothing on the wire

    WireWriter w;
    encode(*st, w);
    WireReader r(w.data());
    auto decoded = tcp::decode_tcp_state(r);
    ASSERT_TRUE(decoded.ok()) << decoded.error().message;
    ASSERT_TRUE(r.at_end());
    ASSERT_EQ(*decoded, *st);

    t0 = Clock::now();
    auto restored = tcp::restore_tcp_state(*decoded, decoded->local);
    double restore_us = us_since(t0);
    ASSERT_TRUE(restored.ok()) << restored.error().message;
    ASSERT_EQ(restored->local_port, decoded->local.port);

    t0 = Clock::now();
    auto left = tcp::leave_repair(restored->fd.get(), *decoded);
    double leave_us = us_since(t0);
    ASSERT_TRUE(left.ok()) << left.error().message;
    server = std::move(restored->fd);
    saved = std::move(*decoded);
    if (t) {
        t->save_us.push_back(save_us);
        t->restore_us.push_back(restore_us);
        t->leave_us.push_back(leave_us);
    }
}

/** Each kernel test runs in a fresh network namespace with loopback up. */
class TcpRepair : public ::testing::Test {
protected:
    void SetUp() override
    {
        if (auto skip = netns_.enter())
            GTEST_SKIP() << *skip;
    }

    void TearDown() override
    {
        netns_.leave();
    }

    static void set_sysctl(const char* path, const char* value)
    {
        std::ofstream f(path);
        f << value;
        f.close();
        ASSERT_TRUE(f.good()) << "write " << path;
    }

private:
    test::PrivateNetns netns_;
};

struct MigrationCase {
    int family;
    bool timestamps;
};

class TcpRepairMigration : public TcpRepair, public ::testing::WithParamInterface<MigrationCase> {};

// Client → server bytes are stream 1, server → client bytes stream 2.
TEST_P(TcpRepairMigration, QueuedDataBothWaysSurvivesExactlyOnce)
{
    const auto [family, timestamps] = GetParam();
    if (!timestamps) {
        ASSERT_NO_FATAL_FAILURE(set_sysctl("/proc/sys/net/ipv4/tcp_timestamps", "0"));
    }
    Conn c;
    ASSERT_NO_FATAL_FAILURE(connect_pair(family, 16384, c));

    const std::size_t unread = 3000;
    ASSERT_NO_FATAL_FAILURE(send_all(c.client.get(), pattern(0, unread, 1)));
    std::size_t written = write_some(c.server.get(), pattern(0, 512 * 1024, 2));
    ASSERT_GT(written, 0u);
    ASSERT_TRUE(wait_until([&] { return ioctl_value(c.server.get(), SIOCINQ) == int(unread); }, kIoTimeoutMs));
    ASSERT_NO_FATAL_FAILURE(wait_quiet(c));
    EXPECT_GT(ioctl_value(c.server.get(), SIOCOUTQNSD), 0) << "the test needs never-sent data";

    tcp::TcpState st;
    ASSERT_NO_FATAL_FAILURE(migrate(c.server, st));
    EXPECT_EQ(st.family, family);
    EXPECT_EQ(st.timestamps, timestamps);
    EXPECT_EQ(st.recv_queue.size(), unread);
    EXPECT_GT(st.unsent_len, 0u);
    EXPECT_EQ(st.local.port, c.port);

    ASSERT_NO_FATAL_FAILURE(expect_stream(c.server.get(), 0, unread, 1));
    ASSERT_NO_FATAL_FAILURE(expect_stream(c.client.get(), 0, written, 2));
    expect_nothing_pending(c.client.get());

    ASSERT_NO_FATAL_FAILURE(send_all(c.client.get(), pattern(unread, 5000, 1)));
    ASSERT_NO_FATAL_FAILURE(expect_stream(c.server.get(), unread, 5000, 1));
    ASSERT_NO_FATAL_FAILURE(send_all(c.server.get(), pattern(written, 100000, 2)));
    ASSERT_NO_FATAL_FAILURE(expect_stream(c.client.get(), written, 100000, 2));
    expect_nothing_pending(c.server.get());
    expect_nothing_pending(c.client.get());
    EXPECT_EQ(out_rsts(), 0);
}

INSTANTIATE_TEST_SUITE_P(FamiliesAndTimestamps, TcpRepairMigration,
                         ::testing::Values(MigrationCase{AF_INET, true}, MigrationCase{AF_INET, false},
                                           MigrationCase{AF_INET6, true}, MigrationCase{AF_INET6, false}),
                         [](const auto& info) {
                             return std::string(info.param.family == AF_INET ? "v4" : "v6") +
                                    (info.param.timestamps ? "_timestamps" : "_no_timestamps");
                         });

class TcpRepairRepeated : public TcpRepair, public ::testing::WithParamInterface<int> {};

// 200 migrations of one connection with data queued both ways each time.
TEST_P(TcpRepairRepeated, TwoHundredMigrationsKeepTheByteStream)
{
    const int family = GetParam();
    constexpr int kRounds = 200;
    Conn c;
    ASSERT_NO_FATAL_FAILURE(connect_pair(family, 16384, c));
    std::uint64_t c2s = 0, s2c = 0, s2c_read = 0;
    int rounds_with_unsent = 0;
    Timings t;
    for (int i = 0; i < kRounds; ++i) {
        std::size_t up = 100 + (i * 37) % 2000;
        ASSERT_NO_FATAL_FAILURE(send_all(c.client.get(), pattern(c2s, up, 1)));
        s2c += write_some(c.server.get(), pattern(s2c, 1000 + (i * 7919) % 60000, 2));
        ASSERT_TRUE(wait_until([&] { return ioctl_value(c.server.get(), SIOCINQ) == int(up); }, kIoTimeoutMs))
            << "round " << i;
        ASSERT_NO_FATAL_FAILURE(wait_quiet(c)) << "round " << i;

        tcp::TcpState st;
        ASSERT_NO_FATAL_FAILURE(migrate(c.server, st, &t)) << "round " << i;
        ASSERT_EQ(st.recv_queue.size(), up);
        rounds_with_unsent += st.unsent_len > 0;

        ASSERT_NO_FATAL_FAILURE(expect_stream(c.server.get(), c2s, up, 1)) << "round " << i;
        c2s += up;
        ASSERT_NO_FATAL_FAILURE(expect_stream(c.client.get(), s2c_read, s2c - s2c_read, 2)) << "round " << i;
        s2c_read = s2c;
    }
    expect_nothing_pending(c.client.get());
    expect_nothing_pending(c.server.get());
    EXPECT_GT(rounds_with_unsent, 0);
    EXPECT_EQ(out_rsts(), 0);
    std::printf("[ timing   ] %s, %d migrations, medians: save %.1f us, restore %.1f us, leave_repair %.1f us;"
                " rounds with never-sent data: %d; bytes %llu up, %llu down\n",
                family == AF_INET ? "IPv4" : "IPv6", kRounds, median(t.save_us), median(t.restore_us),
                median(t.leave_us), rounds_with_unsent, static_cast<unsigned long long>(c2s),
                static_cast<unsigned long long>(s2c));
    RecordProperty("save_median_us", std::to_string(median(t.save_us)));
    RecordProperty("restore_median_us", std::to_string(median(t.restore_us)));
}

INSTANTIATE_TEST_SUITE_P(Families, TcpRepairRepeated, ::testing::Values(AF_INET, AF_INET6),
                         [](const auto& info) { return std::string(info.param == AF_INET ? "v4" : "v6"); });

// Queues larger than a default socket buffer: restore must grow the buffers
// and refill in several chunks.
TEST_F(TcpRepair, LargeQueuesAreRestored)
{
    Conn c;
    ASSERT_NO_FATAL_FAILURE(connect_pair(AF_INET, 16384, c));
    int big = 8 << 20;
    ASSERT_EQ(::setsockopt(c.server.get(), SOL_SOCKET, SO_SNDBUFFORCE, &big, sizeof big), 0);
    ASSERT_EQ(::setsockopt(c.server.get(), SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof big), 0);
    const std::size_t down = 4u << 20, up = 1u << 20;
    ASSERT_EQ(write_some(c.server.get(), pattern(0, down, 2)), down);
    ASSERT_NO_FATAL_FAILURE(send_all(c.client.get(), pattern(0, up, 1)));
    ASSERT_TRUE(wait_until([&] { return ioctl_value(c.server.get(), SIOCINQ) == int(up); }, kIoTimeoutMs));
    ASSERT_NO_FATAL_FAILURE(wait_quiet(c));

    tcp::TcpState st;
    ASSERT_NO_FATAL_FAILURE(migrate(c.server, st));
    EXPECT_EQ(st.recv_queue.size(), up);
    EXPECT_GT(st.send_queue.size(), 3u << 20);
    ASSERT_NO_FATAL_FAILURE(expect_stream(c.server.get(), 0, up, 1));
    ASSERT_NO_FATAL_FAILURE(expect_stream(c.client.get(), 0, down, 2));
    EXPECT_EQ(out_rsts(), 0);
}

/** Make @fd's kernel drop every packet it receives (classic BPF "return 0"). */
void drop_incoming(int fd, bool drop)
{
    if (!drop) {
        int unused = 0;
        ASSERT_EQ(::setsockopt(fd, SOL_SOCKET, SO_DETACH_FILTER, &unused, sizeof unused), 0) << std::strerror(errno);
        return;
    }
    sock_filter reject{BPF_RET | BPF_K, 0, 0, 0};
    sock_fprog prog{1, &reject};
    ASSERT_EQ(::setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof prog), 0) << std::strerror(errno);
}

// Data the old socket sent but the client never acknowledged (the client
// drops it) is restored as in flight and retransmitted by the new socket.
TEST_F(TcpRepair, SentButUnacknowledgedDataIsRetransmitted)
{
    Conn c;
    ASSERT_NO_FATAL_FAILURE(connect_pair(AF_INET, 0, c));
    ASSERT_NO_FATAL_FAILURE(drop_incoming(c.client.get(), true));
    const std::size_t down = 20000;
    ASSERT_EQ(write_some(c.server.get(), pattern(0, down, 2)), down);
    ASSERT_TRUE(wait_until([&] { return ioctl_value(c.server.get(), SIOCOUTQNSD) == 0; }, kIoTimeoutMs));

    tcp::TcpState st;
    ASSERT_NO_FATAL_FAILURE(migrate(c.server, st));
    EXPECT_EQ(st.send_queue.size(), down);
    EXPECT_EQ(st.unsent_len, 0u);
    ASSERT_NO_FATAL_FAILURE(drop_incoming(c.client.get(), false));
    auto t0 = Clock::now();
    ASSERT_NO_FATAL_FAILURE(expect_stream(c.client.get(), 0, down, 2));
    std::printf("[ timing   ] in-flight data delivered %.1f ms after leave_repair (retransmission)\n",
                us_since(t0) / 1000);
    ASSERT_NO_FATAL_FAILURE(send_all(c.server.get(), pattern(down, 1000, 2)));
    ASSERT_NO_FATAL_FAILURE(expect_stream(c.client.get(), down, 1000, 2));
    EXPECT_EQ(out_rsts(), 0);
}

int repair_mode(int fd)
{
    int v = -1;
    socklen_t len = sizeof v;
    return ::getsockopt(fd, IPPROTO_TCP, TCP_REPAIR, &v, &len) == 0 ? v : -1;
}

/** Let @fd queue far more than kMaxTcpQueuesBytes each way (the kernel doubles the value). */
void grow_buffers(int fd)
{
    int big = 4 * static_cast<int>(tcp::kMaxTcpQueuesBytes);
    ASSERT_EQ(::setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &big, sizeof big), 0) << std::strerror(errno);
    ASSERT_EQ(::setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof big), 0) << std::strerror(errno);
}

// Queues of exactly kMaxTcpQueuesBytes are saved, and the encoded state of an
// IPv6 connection (the largest fixed part) is exactly the handoff message's
// TCP state limit: an OFFER carries it, and it migrates byte-exact.
TEST_F(TcpRepair, QueuesAtTheLimitAreSavedIntoAStateThatFitsItsMessage)
{
    Conn c;
    ASSERT_NO_FATAL_FAILURE(connect_pair(AF_INET6, 16384, c));
    ASSERT_NO_FATAL_FAILURE(grow_buffers(c.server.get()));
    const std::size_t down = 1u << 20, up = tcp::kMaxTcpQueuesBytes - down;
    ASSERT_NO_FATAL_FAILURE(send_all(c.client.get(), pattern(0, up, 1)));
    ASSERT_TRUE(wait_until([&] { return ioctl_value(c.server.get(), SIOCINQ) == int(up); }, kIoTimeoutMs));
    // The client reads nothing, so what the server writes stays queued on one side or the other.
    ASSERT_EQ(write_some(c.server.get(), pattern(0, down, 2)), down);
    ASSERT_NO_FATAL_FAILURE(wait_quiet(c));
    const std::size_t client_has = static_cast<std::size_t>(ioctl_value(c.client.get(), SIOCINQ));
    ASSERT_LT(client_has, down);
    // Top the receive queue up so that both queues hold exactly the limit.
    ASSERT_NO_FATAL_FAILURE(send_all(c.client.get(), pattern(up, client_has, 1)));
    ASSERT_TRUE(wait_until([&] { return ioctl_value(c.server.get(), SIOCINQ) == int(up + client_has); },
                           kIoTimeoutMs));
    ASSERT_NO_FATAL_FAILURE(wait_quiet(c));

    tcp::TcpState st;
    ASSERT_NO_FATAL_FAILURE(migrate(c.server, st));
    EXPECT_EQ(st.recv_queue.size() + st.send_queue.size(), tcp::kMaxTcpQueuesBytes);
    WireWriter w;
    encode(st, w);
    EXPECT_EQ(w.data().size(), handoff::max_tcp_state);
    auto offer = handoff::encode(handoff::Offer{.flow_id = 1, .tcp_state = w.take(), .read_ahead = {},
                                                .app_payload = {}, .ticket = {}});
    EXPECT_TRUE(offer.ok()) << offer.error().message;

    ASSERT_NO_FATAL_FAILURE(expect_stream(c.server.get(), 0, up + client_has, 1));
    ASSERT_NO_FATAL_FAILURE(expect_stream(c.client.get(), 0, down, 2));
    EXPECT_EQ(out_rsts(), 0);
}

// One byte over the limit in the receive queue: refused before anything is
// copied, with EMSGSIZE, and the connection keeps working both ways.
TEST_F(TcpRepair, ReceiveQueueOverTheLimitIsRefusedAndTheSocketKeepsWorking)
{
    Conn c;
    ASSERT_NO_FATAL_FAILURE(connect_pair(AF_INET, 0, c));
    ASSERT_NO_FATAL_FAILURE(grow_buffers(c.server.get()));
    const std::size_t up = tcp::kMaxTcpQueuesBytes + 1;
    ASSERT_NO_FATAL_FAILURE(send_all(c.client.get(), pattern(0, up, 1)));
    ASSERT_TRUE(wait_until([&] { return ioctl_value(c.server.get(), SIOCINQ) == int(up); }, kIoTimeoutMs));

    auto st = tcp::save_tcp_state(c.server.get());
    ASSERT_FALSE(st.ok());
    EXPECT_EQ(st.error().code, EMSGSIZE);
    EXPECT_NE(st.error().message.find("receive queue of " + std::to_string(up) + " bytes"), std::string::npos)
        << st.error().message;
    EXPECT_EQ(repair_mode(c.server.get()), 0);
    ASSERT_NO_FATAL_FAILURE(expect_stream(c.server.get(), 0, up, 1));
    ASSERT_NO_FATAL_FAILURE(send_all(c.server.get(), pattern(0, 1000, 2)));
    ASSERT_NO_FATAL_FAILURE(expect_stream(c.client.get(), 0, 1000, 2));
    EXPECT_EQ(out_rsts(), 0);
}

// Queues that fit one by one but not together: the send queue is refused,
// sized before it was selected, and every byte still reaches the client.
TEST_F(TcpRepair, SendQueueOverWhatIsLeftIsRefusedAndEveryByteStillArrives)
{
    Conn c;
    ASSERT_NO_FATAL_FAILURE(connect_pair(AF_INET, 16384, c));
    ASSERT_NO_FATAL_FAILURE(grow_buffers(c.server.get()));
    const std::size_t up = 1u << 20, down = tcp::kMaxTcpQueuesBytes;
    ASSERT_NO_FATAL_FAILURE(send_all(c.client.get(), pattern(0, up, 1)));
    ASSERT_TRUE(wait_until([&] { return ioctl_value(c.server.get(), SIOCINQ) == int(up); }, kIoTimeoutMs));
    ASSERT_EQ(write_some(c.server.get(), pattern(0, down, 2)), down);
    ASSERT_NO_FATAL_FAILURE(wait_quiet(c));
    ASSERT_GT(static_cast<std::size_t>(ioctl_value(c.server.get(), SIOCOUTQ)), tcp::kMaxTcpQueuesBytes - up);

    auto st = tcp::save_tcp_state(c.server.get());
    ASSERT_FALSE(st.ok());
    EXPECT_EQ(st.error().code, EMSGSIZE);
    EXPECT_NE(st.error().message.find("send queue"), std::string::npos) << st.error().message;
    EXPECT_EQ(repair_mode(c.server.get()), 0);
    ASSERT_NO_FATAL_FAILURE(expect_stream(c.server.get(), 0, up, 1));
    ASSERT_NO_FATAL_FAILURE(expect_stream(c.client.get(), 0, down, 2));
    EXPECT_EQ(out_rsts(), 0);
}

TEST_F(TcpRepair, ListeningSocketIsRefusedAndKeepsWorking)
{
    Conn c;
    ASSERT_NO_FATAL_FAILURE(connect_pair(AF_INET, 0, c));
    auto st = tcp::save_tcp_state(c.listener.get());
    ASSERT_FALSE(st.ok());
    EXPECT_NE(st.error().message.find("not ESTABLISHED"), std::string::npos) << st.error().message;
    EXPECT_EQ(repair_mode(c.listener.get()), 0);

    UniqueFd second(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    socklen_t len;
    auto addr = loopback(AF_INET, c.port, len);
    ASSERT_EQ(::connect(second.get(), reinterpret_cast<sockaddr*>(&addr), len), 0) << std::strerror(errno);
    UniqueFd accepted(::accept4(c.listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
    EXPECT_TRUE(accepted.valid()) << std::strerror(errno);
}

TEST_F(TcpRepair, UnconnectedSocketIsRefusedAndCanStillConnect)
{
    Conn c;
    ASSERT_NO_FATAL_FAILURE(connect_pair(AF_INET6, 0, c));
    UniqueFd fresh(::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0));
    auto st = tcp::save_tcp_state(fresh.get());
    ASSERT_FALSE(st.ok());
    EXPECT_EQ(st.error().code, ENOTCONN);
    EXPECT_EQ(repair_mode(fresh.get()), 0);
    socklen_t len;
    auto addr = loopback(AF_INET6, c.port, len);
    EXPECT_EQ(::connect(fresh.get(), reinterpret_cast<sockaddr*>(&addr), len), 0) << std::strerror(errno);
}

// After the peer's FIN the connection is CLOSE_WAIT: refused, and the
// application can still read the data and the end of stream.
TEST_F(TcpRepair, HalfClosedSocketIsRefusedAndStaysReadable)
{
    Conn c;
    ASSERT_NO_FATAL_FAILURE(connect_pair(AF_INET, 0, c));
    ASSERT_NO_FATAL_FAILURE(send_all(c.client.get(), pattern(0, 100, 1)));
    ASSERT_EQ(::shutdown(c.client.get(), SHUT_WR), 0);
    ASSERT_TRUE(wait_until(
        [&] {
            tcp_info info{};
            socklen_t len = sizeof info;
            ::getsockopt(c.server.get(), IPPROTO_TCP, TCP_INFO, &info, &len);
            return info.tcpi_state == TCP_CLOSE_WAIT;
        },
        kIoTimeoutMs));
    auto st = tcp::save_tcp_state(c.server.get());
    ASSERT_FALSE(st.ok());
    EXPECT_EQ(repair_mode(c.server.get()), 0);
    ASSERT_NO_FATAL_FAILURE(expect_stream(c.server.get(), 0, 100, 1));
    char byte;
    EXPECT_EQ(::recv(c.server.get(), &byte, 1, MSG_DONTWAIT), 0);
}

// A restarted server must be able to listen on its port while a connection
// it restored there, or took back out of repair mode after an abandoned save
// (a fallback), is still open or lingering: leaving repair mode clears
// SO_REUSEADDR, repair_off() sets it again.
TEST_F(TcpRepair, ConnectionsOutOfRepairDoNotKeepTheirPortFromANewListener)
{
    for (bool restored : {true, false}) {
        for (int family : {AF_INET, AF_INET6}) {
            SCOPED_TRACE(std::string(restored ? "restored, " : "save cancelled, ") +
                         (family == AF_INET ? "IPv4" : "IPv6"));
            Conn c;
            ASSERT_NO_FATAL_FAILURE(connect_pair(family, 0, c));
            int one = 1;
            ASSERT_EQ(::setsockopt(c.server.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one), 0);
            if (restored) {
                tcp::TcpState st;
                ASSERT_NO_FATAL_FAILURE(migrate(c.server, st));
            } else {
                ASSERT_TRUE(tcp::save_tcp_state(c.server.get()).ok());
                ASSERT_TRUE(tcp::repair_off(c.server.get(), true).ok());
            }
            int reuse = 0;
            socklen_t len = sizeof reuse;
            ASSERT_EQ(::getsockopt(c.server.get(), SOL_SOCKET, SO_REUSEADDR, &reuse, &len), 0);
            EXPECT_EQ(reuse, 1);
            c.listener.reset(); // the old server is gone ...
            ASSERT_EQ(::shutdown(c.server.get(), SHUT_WR), 0); // ... its connection still closing
            UniqueFd again(::socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0));
            ASSERT_EQ(::setsockopt(again.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one), 0);
            socklen_t addr_len;
            auto addr = loopback(family, c.port, addr_len);
            EXPECT_EQ(::bind(again.get(), reinterpret_cast<sockaddr*>(&addr), addr_len), 0)
                << std::strerror(errno);
        }
    }
}

// Port 0: the kernel picks the port at the repair-mode connect; two restores
// of one connection must get different ports, neither the listener's.
TEST_F(TcpRepair, KernelChosenPortsAreDistinct)
{
    for (int family : {AF_INET, AF_INET6}) {
        SCOPED_TRACE(family == AF_INET ? "IPv4" : "IPv6");
        long rsts_before = out_rsts();
        Conn c;
        ASSERT_NO_FATAL_FAILURE(connect_pair(family, 0, c));
        auto st = tcp::save_tcp_state(c.server.get());
        ASSERT_TRUE(st.ok()) << st.error().message;
        c.server.reset();
        tcp::TcpEndpoint any_port{st->local.addr, 0};
        auto a = tcp::restore_tcp_state(*st, any_port);
        ASSERT_TRUE(a.ok()) << a.error().message;
        auto b = tcp::restore_tcp_state(*st, any_port);
        ASSERT_TRUE(b.ok()) << b.error().message;
        EXPECT_NE(a->local_port, 0);
        EXPECT_NE(b->local_port, 0);
        EXPECT_NE(a->local_port, b->local_port);
        EXPECT_NE(a->local_port, c.port);
        EXPECT_NE(b->local_port, c.port);
        EXPECT_EQ(repair_mode(a->fd.get()), 1);
        // Closing the orphaned client at the end of the loop draws a RST
        // from the listener: that one is expected, nothing before it.
        EXPECT_EQ(out_rsts(), rsts_before);
    }
}

TEST_F(TcpRepair, InconsistentStateIsRefused)
{
    tcp::TcpState st;
    st.send_queue = {1, 2, 3};
    st.unsent_len = 4;
    auto r = tcp::restore_tcp_state(st, st.local);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, EINVAL);
    st.unsent_len = 0;
    st.family = AF_UNIX;
    EXPECT_FALSE(tcp::restore_tcp_state(st, st.local).ok());
}

tcp::TcpState sample_state(int family)
{
    tcp::TcpState st;
    st.family = family;
    for (std::size_t i = 0; i < 16; ++i) {
        st.local.addr[i] = static_cast<std::uint8_t>(family == AF_INET && i >= 4 ? 0 : 0x10 + i);
        st.remote.addr[i] = static_cast<std::uint8_t>(family == AF_INET && i >= 4 ? 0 : 0xa0 + i);
    }
    st.local.port = 8080;
    st.remote.port = 54321;
    st.send_seq = 0xfffffff0u;
    st.recv_seq = 0x12345678u;
    st.mss = 1448;
    st.sack = true;
    st.timestamps = true;
    st.window_scaling = true;
    st.snd_wscale = 7;
    st.rcv_wscale = 14;
    st.timestamp = 0xdeadbeefu;
    st.snd_wl1 = 1;
    st.snd_wnd = 2;
    st.max_window = 3;
    st.rcv_wnd = 4;
    st.rcv_wup = 5;
    st.send_queue = pattern(0, 1000, 2);
    st.unsent_len = 600;
    st.recv_queue = pattern(0, 77, 1);
    return st;
}

std::vector<std::uint8_t> encoded(const tcp::TcpState& st)
{
    WireWriter w;
    encode(st, w);
    return w.take();
}

TEST(TcpStateWire, RoundTripIsExact)
{
    for (int family : {AF_INET, AF_INET6}) {
        auto st = sample_state(family);
        auto bytes = encoded(st);
        WireReader r(bytes);
        auto back = tcp::decode_tcp_state(r);
        ASSERT_TRUE(back.ok()) << back.error().message;
        EXPECT_EQ(*back, st);
        EXPECT_TRUE(r.at_end());
    }
    tcp::TcpState empty;
    auto bytes = encoded(empty);
    WireReader r(bytes);
    auto back = tcp::decode_tcp_state(r);
    ASSERT_TRUE(back.ok()) << back.error().message;
    EXPECT_EQ(*back, empty);
}

TEST(TcpStateWire, EveryTruncationIsAnError)
{
    auto bytes = encoded(sample_state(AF_INET6));
    for (std::size_t len = 0; len < bytes.size(); ++len) {
        WireReader r(std::span(bytes.data(), len));
        EXPECT_FALSE(tcp::decode_tcp_state(r).ok()) << "prefix of " << len << " bytes decoded";
    }
}

TEST(TcpStateWire, InvalidFieldsAreErrors)
{
    const auto good = encoded(sample_state(AF_INET)); // v4: addresses are 4 bytes
    const std::size_t flags_at = 1 + 1 + 6 + 6 + 4 + 4 + 2;
    struct Corruption {
        const char* what;
        std::size_t at;
        std::uint8_t value;
    } cases[] = {
        {"version", 0, 2},
        {"family", 1, 5},
        {"unknown flag", flags_at, 0x80},
        {"send window scale", flags_at + 1, 15},
        {"receive window scale", flags_at + 2, 200},
    };
    for (const auto& c : cases) {
        auto bad = good;
        bad[c.at] = c.value;
        WireReader r(bad);
        EXPECT_FALSE(tcp::decode_tcp_state(r).ok()) << c.what;
    }

    auto st = sample_state(AF_INET);
    st.window_scaling = false; // scales without the option are meaningless
    auto no_ws = encoded(st);
    WireReader r1(no_ws);
    EXPECT_FALSE(tcp::decode_tcp_state(r1).ok());

    st = sample_state(AF_INET);
    st.unsent_len = static_cast<std::uint32_t>(st.send_queue.size() + 1);
    auto too_much_unsent = encoded(st);
    WireReader r2(too_much_unsent);
    EXPECT_FALSE(tcp::decode_tcp_state(r2).ok());

    auto limited = encoded(sample_state(AF_INET));
    WireReader r3(limited);
    auto over = tcp::decode_tcp_state(r3, 999); // send queue is 1000 bytes
    ASSERT_FALSE(over.ok());
    EXPECT_NE(over.error().message.find("send queue"), std::string::npos) << over.error().message;
}

// The limit is on both queues together (1000 + 77 bytes in sample_state()).
TEST(TcpStateWire, QueuesAreLimitedTogether)
{
    auto bytes = encoded(sample_state(AF_INET6));
    WireReader at_limit(bytes);
    EXPECT_TRUE(tcp::decode_tcp_state(at_limit, 1077).ok());
    WireReader over(bytes);
    auto refused = tcp::decode_tcp_state(over, 1076);
    ASSERT_FALSE(refused.ok());
    EXPECT_NE(refused.error().message.find("receive queue"), std::string::npos) << refused.error().message;
}

// kTcpStateFixedBytes is what an IPv6 state costs besides its queues (IPv4 costs less),
// so queues of kMaxTcpQueuesBytes encode to exactly the message limit.
TEST(TcpStateWire, FixedPartIsWhatTheLimitsAssume)
{
    tcp::TcpState empty;
    empty.family = AF_INET6;
    EXPECT_EQ(encoded(empty).size(), tcp::kTcpStateFixedBytes);
    empty.family = AF_INET;
    EXPECT_LT(encoded(empty).size(), tcp::kTcpStateFixedBytes);
    EXPECT_EQ(tcp::kMaxTcpQueuesBytes + tcp::kTcpStateFixedBytes, handoff::max_tcp_state);
}

TEST(TcpStateWire, GarbageNeverCrashes)
{
    std::mt19937 rng(12345);
    auto good = encoded(sample_state(AF_INET6));
    int decoded = 0;
    for (int i = 0; i < 20000; ++i) {
        std::vector<std::uint8_t> buf;
        if (i % 2 == 0) {
            buf.resize(rng() % 200);
            for (auto& b : buf)
                b = static_cast<std::uint8_t>(rng());
        } else {
            buf = good; // flip a few bytes of a valid encoding
            for (int k = 0; k < 3; ++k)
                buf[rng() % buf.size()] = static_cast<std::uint8_t>(rng());
        }
        WireReader r(buf);
        auto st = tcp::decode_tcp_state(r, 4096);
        if (st.ok()) {
            ++decoded;
            EXPECT_LE(st->unsent_len, st->send_queue.size());
            EXPECT_LE(st->send_queue.size(), 4096u);
        }
    }
    EXPECT_LT(decoded, 20000);
}

} // namespace
} // namespace xo
