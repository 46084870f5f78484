// Helpers for the xo-gateway unit tests.
//
// Theory of operation: every network wait in these tests has a deadline, so a
// broken gateway fails a test instead of hanging ctest. Sockets are plain
// POSIX descriptors driven with poll(2) (Asio's synchronous calls ignore
// SO_RCVTIMEO), and HTTP is read with a deliberately small hand-written
// reader so that the tests see exactly the bytes that crossed the wire —
// interim 100 responses, raw header blocks, chunk framing, connection close.
//
// FakeUpstream stands in for radosgw on 127.0.0.1: one thread accepts, one
// thread per connection runs the test's handler. Gateway runs a real
// xo::gw::Worker in-process on its own thread and drains it on destruction.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "rgw_xo/access_log.h"
#include "rgw_xo/gateway_config.h"
#include "rgw_xo/worker.h"

namespace xo::test {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

/** deadline_in() - now + @d, for the read helpers below. */
inline Clock::time_point deadline_in(Clock::duration d) { return Clock::now() + d; }

/** A connected TCP socket plus the bytes read from it but not yet consumed. */
class Conn {
public:
    Conn() = default;
    explicit Conn(int fd) : fd_(fd) {}
    ~Conn();
    Conn(Conn&& other) noexcept;
    Conn& operator=(Conn&& other) noexcept;
    Conn(const Conn&) = delete;
    Conn& operator=(const Conn&) = delete;

    /** connect_to() - a connection to 127.0.0.1:@port (invalid on failure). */
    static Conn connect_to(std::uint16_t port);

    bool valid() const { return fd_ >= 0; }
    int fd() const { return fd_; }

    /** send_all() - write all of @data before @timeout; false on error/timeout. */
    bool send_all(std::string_view data, std::chrono::milliseconds timeout = 5000ms);

    enum class Fill { data, eof, timeout, error };
    /** fill() - read whatever arrives next into the buffer, waiting until @deadline. */
    Fill fill(Clock::time_point deadline);

    /** read_until() - consume up to and including @delim into @out. */
    bool read_until(std::string_view delim, std::string& out, Clock::time_point deadline);
    /** read_exact() - consume exactly @n bytes into @out. */
    bool read_exact(std::size_t n, std::string& out, Clock::time_point deadline);
    /** read_to_eof() - consume everything until the peer closes. */
    bool read_to_eof(std::string& out, Clock::time_point deadline);

    /** wait_closed() - whether the peer ends the connection (FIN or RST)
     * before @deadline; bytes that arrive first are appended to @extra. */
    bool wait_closed(Clock::time_point deadline, std::string* extra = nullptr);

    /** shutdown_both() - end the connection without releasing the descriptor
     * (safe while another thread may be polling it). */
    void shutdown_both();
    void shutdown_write();
    void close();

    std::string& buffer() { return buf_; }
    /** errno of the last failed call, 0 if none (ECONNRESET tells a reset). */
    int last_errno() const { return last_errno_; }

private:
    int fd_ = -1;
    int last_errno_ = 0;
    std::string buf_;
};

/** One HTTP message as read off the wire. */
struct Message {
    std::string start_line; ///< request line or status line, without CRLF
    std::string head;       ///< raw header block, start line through the empty line
    std::vector<std::pair<std::string, std::string>> fields; ///< in order, values trimmed
    std::string body;       ///< decoded body
    bool chunked = false;   ///< arrived with chunked framing
    std::string method, target; ///< requests
    int status = 0;             ///< responses

    /** field() - first value of @name (case-insensitive). */
    std::optional<std::string> field(std::string_view name) const;
    /** count() - how many fields are called @name. */
    std::size_t count(std::string_view name) const;
};

/** read_head() - read and parse a start line and header fields. */
bool read_head(Conn& c, Message& m, Clock::time_point deadline);
/** read_request_body() - read the body a request head announces. */
bool read_request_body(Conn& c, Message& m, Clock::time_point deadline);
bool read_request(Conn& c, Message& m, Clock::time_point deadline);
/** read_response() - head and body of one response (no body for 1xx/204/304 or after HEAD). */
bool read_response(Conn& c, Message& m, Clock::time_point deadline, bool head_request = false);

/** chunked() - @body framed as chunks of the given sizes (cycled). */
std::string chunked(std::string_view body, const std::vector<std::size_t>& sizes);
/** random_bytes() - deterministic pseudo-random bytes. */
std::string random_bytes(std::size_t n, std::uint32_t seed);
/** response_bytes() - a simple response with Content-Length. */
std::string response_bytes(int status, std::string_view reason, std::string_view body,
                           std::string_view extra_fields = "");

/** A stand-in for radosgw on 127.0.0.1:<ephemeral>. */
class FakeUpstream {
public:
    using Handler = std::function<void(FakeUpstream&, Conn&)>;
    /** A responder for serve_requests(): the raw response bytes for @req. */
    using Responder = std::function<std::string(const Message& req)>;

    explicit FakeUpstream(Handler handler);
    ~FakeUpstream();
    FakeUpstream(const FakeUpstream&) = delete;
    FakeUpstream& operator=(const FakeUpstream&) = delete;

    /** serving() - a handler that reads requests until EOF, records each and
     * writes what @respond returns. */
    static Handler serving(Responder respond);

    std::uint16_t port() const { return port_; }
    int accepts() const { return accepts_.load(); }

    void record(const Message& m);
    std::vector<Message> requests() const;
    /** wait_requests() - until @n requests were recorded or @timeout passed. */
    bool wait_requests(std::size_t n, std::chrono::milliseconds timeout) const;

private:
    void accept_loop();

    Handler handler_;
    int listen_fd_ = -1;
    std::uint16_t port_ = 0;
    std::atomic<int> accepts_{0};
    std::atomic<bool> stop_{false};
    std::thread acceptor_;
    std::mutex conns_mutex_;
    std::list<Conn> conns_;
    std::vector<std::thread> conn_threads_;
    mutable std::mutex requests_mutex_;
    mutable std::condition_variable requests_cv_;
    std::vector<Message> requests_;
};

/** closed_port() - a loopback port nothing listens on. */
std::uint16_t closed_port();

/** An xo::gw::Worker on 127.0.0.1:<free port>, run on its own thread. */
class Gateway {
public:
    using Tweak = std::function<void(gw::GatewayConfig&)>;
    Gateway(std::uint16_t upstream_port, const Tweak& tweak = {}, const std::string& access_log = "/dev/null");
    ~Gateway();
    Gateway(const Gateway&) = delete;
    Gateway& operator=(const Gateway&) = delete;

    bool ok() const { return ok_; }
    const std::string& error() const { return error_; }
    std::uint16_t port() const { return config_.listen.port(); }
    Conn connect() const { return Conn::connect_to(port()); }
    /** metric() - the value of the series @series ("name{labels}") in the gateway's registry, -1 if absent. */
    double metric(std::string_view series) const;

    void drain();
    /** wait_stopped() - whether Worker::run() returned within @timeout. */
    bool wait_stopped(std::chrono::milliseconds timeout);

private:
    gw::GatewayConfig config_;
    gw::AccessLog access_log_;
    metrics::Registry registry_;
    gw::GatewayMetrics metrics_{registry_};
    std::unique_ptr<gw::ConnectionLimit> limit_;
    std::unique_ptr<gw::Worker> worker_;
    std::thread thread_;
    bool ok_ = false;
    std::string error_;
    std::mutex mutex_;
    std::condition_variable cv_;
    bool stopped_ = false;
};

/** is_valid_utf8() - strict UTF-8 (no overlongs, surrogates or > U+10FFFF). */
bool is_valid_utf8(std::string_view s, std::size_t* bad_offset = nullptr);

/**
 * parse_json_object() - parse one JSON object (strictly: RFC 8259 syntax,
 * UTF-8, no raw control characters in strings). Top-level members go to
 * @out: strings decoded (\u00XX with XX < 0x100 as that byte, which is how
 * append_json_string escapes bytes), other values as their literal text.
 */
bool parse_json_object(std::string_view text, std::map<std::string, std::string>& out, std::string& why);

/**
 * check_xml() - whether @doc is a well-formed XML document of elements and
 * text (optional <?xml?> declaration; entities and character references
 * checked; only XML 1.0 characters; UTF-8). The decoded text of each leaf
 * element goes to @leaves by element name.
 */
bool check_xml(std::string_view doc, std::map<std::string, std::string>& leaves, std::string& why);

} // namespace xo::test
