// Theory of operation: xo-testbed-client drives the test bed and checks every
// byte. Each of --connections threads opens one connection and sends
// --requests requests "GET <bytes> <seed>\n", sizes cycling through --sizes,
// seeds consecutive from --seed so that consecutive requests go to
// alternating responders. Every response byte is compared with the pattern
// (pattern.h). With --pipeline the next request is sent as soon as half of
// the current response has arrived, so it reaches whoever holds the
// connection at that moment and must travel back with the return. At the end
// the client half-closes and expects a clean EOF. Every wait is bounded by
// --timeout-ms.
//
// With --expect-drop the run succeeds only if every connection fails by an
// error or early EOF (not by the timeout): the killed-responder scenario.
// Output: one summary line
//   connections=<n> requests=<n> bytes=<n> errors=<n> drops=<n> timeouts=<n> seconds=<s>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "qa/handoff/pattern.h"

namespace {

struct Options {
    std::string host = "198.18.0.2";
    std::uint16_t port = 8080;
    unsigned connections = 1, requests = 1;
    std::vector<std::uint64_t> sizes {1};
    std::uint64_t seed = 0;
    bool pipeline = false, expect_drop = false;
    int timeout_ms = 10000;
};

enum class Outcome { ok, error, drop, timeout };

struct Totals {
    std::atomic<std::uint64_t> requests {0}, bytes {0}, errors {0}, drops {0}, timeouts {0};
};

class Connection {
public:
    Connection(const Options& o, unsigned index) : o_(o), index_(index) {}
    ~Connection()
    {
        if (fd_ >= 0)
            ::close(fd_);
    }

    Outcome run(Totals& totals);

private:
    bool send_request(unsigned i);
    /** wait() - poll @fd_ for @events; Outcome::ok when ready. */
    Outcome wait(short events);
    std::uint64_t size_of(unsigned i) const { return o_.sizes[i % o_.sizes.size()]; }
    std::uint64_t seed_of(unsigned i) const { return o_.seed + std::uint64_t(index_) * o_.requests + i; }
    void fail(const std::string& what) { std::cerr << "connection " << index_ << ": " << what << "\n"; }

    const Options& o_;
    unsigned index_;
    int fd_ = -1;
};

Outcome Connection::wait(short events)
{
    pollfd p {fd_, events, 0};
    int r = ::poll(&p, 1, o_.timeout_ms);
    if (r == 0)
        return Outcome::timeout;
    return r > 0 ? Outcome::ok : Outcome::error;
}

bool Connection::send_request(unsigned i)
{
    std::string line = "GET " + std::to_string(size_of(i)) + " " + std::to_string(seed_of(i)) + "\n";
    std::size_t off = 0;
    while (off < line.size()) {
        if (wait(POLLOUT) != Outcome::ok)
            return false;
        ssize_t n = ::send(fd_, line.data() + off, line.size() - off, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0 && errno != EAGAIN)
            return false;
        off += n > 0 ? static_cast<std::size_t>(n) : 0;
    }
    return true;
}

Outcome Connection::run(Totals& totals)
{
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in to {};
    to.sin_family = AF_INET;
    to.sin_port = htons(o_.port);
    inet_pton(AF_INET, o_.host.c_str(), &to.sin_addr);
    if (fd_ < 0 || ::connect(fd_, reinterpret_cast<sockaddr*>(&to), sizeof(to)) != 0)
        return fail(std::string("connect: ") + std::strerror(errno)), Outcome::error;
    int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));

    std::vector<std::uint8_t> buf(256 * 1024), expected(buf.size());
    unsigned sent = 0;
    if (!send_request(sent++))
        return fail("send"), Outcome::error;
    for (unsigned i = 0; i < o_.requests; ++i) {
        std::uint64_t size = size_of(i), got = 0;
        while (got < size) {
            if (o_.pipeline && sent == i + 1 && sent < o_.requests && got * 2 >= size && !send_request(sent++))
                return fail("send"), Outcome::error;
            if (auto w = wait(POLLIN); w != Outcome::ok)
                return fail("no response data within the timeout"), w;
            std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(buf.size(), size - got));
            ssize_t n = ::recv(fd_, buf.data(), want, 0);
            if (n <= 0) {
                fail(n == 0 ? "early EOF" : std::string("recv: ") + std::strerror(errno));
                return Outcome::drop;
            }
            xo::testbed::fill_pattern(seed_of(i), got, std::span(expected).first(static_cast<std::size_t>(n)));
            if (std::memcmp(buf.data(), expected.data(), static_cast<std::size_t>(n)) != 0)
                return fail("wrong bytes in response " + std::to_string(i) + " at offset " + std::to_string(got)),
                       Outcome::error;
            got += static_cast<std::uint64_t>(n);
            totals.bytes += static_cast<std::uint64_t>(n);
        }
        if (sent == i + 1 && sent < o_.requests && !send_request(sent++))
            return fail("send"), Outcome::error;
        ++totals.requests;
    }
    ::shutdown(fd_, SHUT_WR);
    if (auto w = wait(POLLIN); w != Outcome::ok)
        return fail("no EOF within the timeout"), w;
    ssize_t n = ::recv(fd_, buf.data(), buf.size(), 0);
    if (n != 0)
        return fail(n > 0 ? "bytes after the last response" : std::string("at close: ") + std::strerror(errno)),
               Outcome::error;
    return Outcome::ok;
}

bool parse(int argc, char** argv, Options& o)
{
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        auto value = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
        if (a == "--host") o.host = value();
        else if (a == "--port") o.port = static_cast<std::uint16_t>(std::stoul(value()));
        else if (a == "--connections") o.connections = static_cast<unsigned>(std::stoul(value()));
        else if (a == "--requests") o.requests = static_cast<unsigned>(std::stoul(value()));
        else if (a == "--seed") o.seed = std::stoull(value());
        else if (a == "--timeout-ms") o.timeout_ms = std::stoi(value());
        else if (a == "--pipeline") o.pipeline = true;
        else if (a == "--expect-drop") o.expect_drop = true;
        else if (a == "--sizes") {
            o.sizes.clear();
            std::istringstream in(value());
            for (std::string s; std::getline(in, s, ',');)
                o.sizes.push_back(std::stoull(s));
        } else {
            std::cerr << "unknown argument " << a << "\n";
            return false;
        }
    }
    return !o.sizes.empty() && o.requests > 0 && o.connections > 0;
}

} // namespace

int main(int argc, char** argv)
{
    Options o;
    try {
        if (!parse(argc, argv, o))
            return 2;
    } catch (const std::exception& e) {
        std::cerr << "bad argument: " << e.what() << "\n";
        return 2;
    }
    Totals totals;
    auto start = std::chrono::steady_clock::now();
    std::vector<std::thread> threads;
    for (unsigned c = 0; c < o.connections; ++c)
        threads.emplace_back([&, c] {
            Connection conn(o, c);
            switch (conn.run(totals)) {
            case Outcome::ok: break;
            case Outcome::error: ++totals.errors; break;
            case Outcome::drop: ++totals.drops; break;
            case Outcome::timeout: ++totals.timeouts; break;
            }
        });
    for (auto& t : threads)
        t.join();
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::printf("connections=%u requests=%llu bytes=%llu errors=%llu drops=%llu timeouts=%llu seconds=%.3f\n",
                o.connections, static_cast<unsigned long long>(totals.requests.load()),
                static_cast<unsigned long long>(totals.bytes.load()),
                static_cast<unsigned long long>(totals.errors.load()),
                static_cast<unsigned long long>(totals.drops.load()),
                static_cast<unsigned long long>(totals.timeouts.load()), seconds);
    if (o.expect_drop)
        return totals.drops == o.connections ? 0 : 1;
    return totals.errors + totals.drops + totals.timeouts == 0 ? 0 : 1;
}
