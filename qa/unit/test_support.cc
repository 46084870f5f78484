#include "qa/unit/test_support.h"

#include <arpa/inet.h>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <random>
#include <sys/socket.h>
#include <unistd.h>

#include "common/log.h"

namespace xo::test {
namespace {

// Writes to a peer that went away must fail with EPIPE, not kill the test
// binary; the gateway daemon does the same in its main().
[[maybe_unused]] const bool sigpipe_ignored = [] {
    std::signal(SIGPIPE, SIG_IGN);
    xo::log::set_level(xo::log::Level::error);
    return true;
}();

int remaining_ms(Clock::time_point deadline)
{
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    return left <= 0 ? 0 : static_cast<int>(left);
}

sockaddr_in loopback(std::uint16_t port)
{
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return sa;
}

std::uint16_t bound_port(int fd)
{
    sockaddr_in sa{};
    socklen_t len = sizeof sa;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len) != 0)
        return 0;
    return ntohs(sa.sin_port);
}

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool iequal(std::string_view a, std::string_view b)
{
    if (a.size() != b.size())
        return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (lower(a[i]) != lower(b[i]))
            return false;
    }
    return true;
}

std::string_view trim(std::string_view s)
{
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
        s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
        s.remove_suffix(1);
    return s;
}

bool has_token(std::string_view list, std::string_view token)
{
    while (!list.empty()) {
        auto comma = list.find(',');
        auto item = trim(list.substr(0, comma));
        if (iequal(item, token))
            return true;
        if (comma == std::string_view::npos)
            break;
        list.remove_prefix(comma + 1);
    }
    return false;
}

bool read_chunked(Conn& c, std::string& body, Clock::time_point deadline)
{
    for (;;) {
        std::string line;
        if (!c.read_until("\r\n", line, deadline))
            return false;
        std::string_view size_text(line.data(), line.size() - 2);
        size_text = size_text.substr(0, size_text.find(';'));
        std::size_t size = 0;
        try {
            size = std::stoul(std::string(trim(size_text)), nullptr, 16);
        } catch (const std::exception&) {
            return false;
        }
        if (size == 0) {
            // Trailer fields, then the empty line.
            for (;;) {
                if (!c.read_until("\r\n", line, deadline))
                    return false;
                if (line == "\r\n")
                    return true;
            }
        }
        std::string data, crlf;
        if (!c.read_exact(size, data, deadline) || !c.read_exact(2, crlf, deadline) || crlf != "\r\n")
            return false;
        body += data;
    }
}

} // namespace

// ---------------------------------------------------------------- Conn

Conn::~Conn() { close(); }

Conn::Conn(Conn&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), last_errno_(other.last_errno_), buf_(std::move(other.buf_))
{
}

Conn& Conn::operator=(Conn&& other) noexcept
{
    if (this != &other) {
        close();
        fd_ = std::exchange(other.fd_, -1);
        last_errno_ = other.last_errno_;
        buf_ = std::move(other.buf_);
    }
    return *this;
}

Conn Conn::connect_to(std::uint16_t port)
{
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return Conn();
    // Bounded even if something goes wrong with the non-blocking I/O below.
    timeval tv{5, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    auto sa = loopback(port);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
        ::close(fd);
        return Conn();
    }
    return Conn(fd);
}

bool Conn::send_all(std::string_view data, std::chrono::milliseconds timeout)
{
    auto deadline = Clock::now() + timeout;
    while (!data.empty()) {
        pollfd p{fd_, POLLOUT, 0};
        int r = ::poll(&p, 1, remaining_ms(deadline));
        if (r <= 0) {
            last_errno_ = r == 0 ? ETIMEDOUT : errno;
            return false;
        }
        ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0) {
            if (errno == EAGAIN || errno == EINTR)
                continue;
            last_errno_ = errno;
            return false;
        }
        data.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
}

Conn::Fill Conn::fill(Clock::time_point deadline)
{
    for (;;) {
        pollfd p{fd_, POLLIN, 0};
        int r = ::poll(&p, 1, remaining_ms(deadline));
        if (r == 0) {
            last_errno_ = ETIMEDOUT;
            return Fill::timeout;
        }
        if (r < 0) {
            if (errno == EINTR)
                continue;
            last_errno_ = errno;
            return Fill::error;
        }
        char tmp[65536];
        ssize_t n = ::recv(fd_, tmp, sizeof tmp, MSG_DONTWAIT);
        if (n > 0) {
            buf_.append(tmp, static_cast<std::size_t>(n));
            return Fill::data;
        }
        if (n == 0)
            return Fill::eof;
        if (errno == EAGAIN || errno == EINTR)
            continue;
        last_errno_ = errno;
        return Fill::error;
    }
}

bool Conn::read_until(std::string_view delim, std::string& out, Clock::time_point deadline)
{
    std::size_t searched = 0;
    for (;;) {
        auto pos = buf_.find(delim, searched);
        if (pos != std::string::npos) {
            out.assign(buf_, 0, pos + delim.size());
            buf_.erase(0, pos + delim.size());
            return true;
        }
        searched = buf_.size() >= delim.size() ? buf_.size() - delim.size() + 1 : 0;
        if (fill(deadline) != Fill::data)
            return false;
    }
}

bool Conn::read_exact(std::size_t n, std::string& out, Clock::time_point deadline)
{
    while (buf_.size() < n) {
        if (fill(deadline) != Fill::data)
            return false;
    }
    out.assign(buf_, 0, n);
    buf_.erase(0, n);
    return true;
}

bool Conn::read_to_eof(std::string& out, Clock::time_point deadline)
{
    for (;;) {
        auto r = fill(deadline);
        if (r == Fill::eof) {
            out = std::move(buf_);
            buf_.clear();
            return true;
        }
        if (r != Fill::data)
            return false;
    }
}

bool Conn::wait_closed(Clock::time_point deadline, std::string* extra)
{
    for (;;) {
        auto r = fill(deadline);
        if (r == Fill::data) {
            if (extra)
                *extra += buf_;
            buf_.clear();
            continue;
        }
        return r == Fill::eof || (r == Fill::error && (last_errno_ == ECONNRESET || last_errno_ == EPIPE));
    }
}

void Conn::shutdown_both()
{
    if (fd_ >= 0)
        ::shutdown(fd_, SHUT_RDWR);
}

void Conn::shutdown_write()
{
    if (fd_ >= 0)
        ::shutdown(fd_, SHUT_WR);
}

void Conn::close()
{
    if (fd_ >= 0)
        ::close(fd_);
    fd_ = -1;
}

// ---------------------------------------------------------------- HTTP

std::optional<std::string> Message::field(std::string_view name) const
{
    for (const auto& [n, v] : fields) {
        if (iequal(n, name))
            return v;
    }
    return std::nullopt;
}

std::size_t Message::count(std::string_view name) const
{
    std::size_t n = 0;
    for (const auto& f : fields)
        n += iequal(f.first, name) ? 1 : 0;
    return n;
}

bool read_head(Conn& c, Message& m, Clock::time_point deadline)
{
    m = Message{};
    if (!c.read_until("\r\n\r\n", m.head, deadline))
        return false;
    std::string_view rest(m.head);
    auto eol = rest.find("\r\n");
    m.start_line = std::string(rest.substr(0, eol));
    rest.remove_prefix(eol + 2);
    while (rest.size() > 2) {
        eol = rest.find("\r\n");
        auto line = rest.substr(0, eol);
        rest.remove_prefix(eol + 2);
        auto colon = line.find(':');
        if (colon == std::string_view::npos)
            return false;
        m.fields.emplace_back(std::string(line.substr(0, colon)), std::string(trim(line.substr(colon + 1))));
    }
    std::string_view start(m.start_line);
    if (start.starts_with("HTTP/")) {
        auto sp = start.find(' ');
        if (sp == std::string_view::npos || start.size() < sp + 4)
            return false;
        m.status = std::stoi(std::string(start.substr(sp + 1, 3)));
    } else {
        auto sp1 = start.find(' ');
        auto sp2 = start.rfind(' ');
        if (sp1 == std::string_view::npos || sp2 == sp1)
            return false;
        m.method = std::string(start.substr(0, sp1));
        m.target = std::string(start.substr(sp1 + 1, sp2 - sp1 - 1));
    }
    auto te = m.field("Transfer-Encoding");
    m.chunked = te && has_token(*te, "chunked");
    return true;
}

bool read_request_body(Conn& c, Message& m, Clock::time_point deadline)
{
    if (m.chunked)
        return read_chunked(c, m.body, deadline);
    if (auto cl = m.field("Content-Length"))
        return c.read_exact(std::stoull(*cl), m.body, deadline);
    return true;
}

bool read_request(Conn& c, Message& m, Clock::time_point deadline)
{
    return read_head(c, m, deadline) && read_request_body(c, m, deadline);
}

bool read_response(Conn& c, Message& m, Clock::time_point deadline, bool head_request)
{
    if (!read_head(c, m, deadline))
        return false;
    if (head_request || m.status / 100 == 1 || m.status == 204 || m.status == 304)
        return true;
    if (m.chunked)
        return read_chunked(c, m.body, deadline);
    if (auto cl = m.field("Content-Length"))
        return c.read_exact(std::stoull(*cl), m.body, deadline);
    return c.read_to_eof(m.body, deadline);
}

std::string chunked(std::string_view body, const std::vector<std::size_t>& sizes)
{
    std::string out;
    std::size_t i = 0;
    while (!body.empty()) {
        std::size_t n = std::min(body.size(), sizes[i++ % sizes.size()]);
        char size_line[32];
        std::snprintf(size_line, sizeof size_line, "%zx\r\n", n);
        out += size_line;
        out += body.substr(0, n);
        out += "\r\n";
        body.remove_prefix(n);
    }
    out += "0\r\n\r\n";
    return out;
}

std::string random_bytes(std::size_t n, std::uint32_t seed)
{
    std::mt19937 gen(seed);
    std::string out(n, '\0');
    for (auto& ch : out)
        ch = static_cast<char>(gen() & 0xff);
    return out;
}

std::string response_bytes(int status, std::string_view reason, std::string_view body, std::string_view extra_fields)
{
    std::string out = "HTTP/1.1 " + std::to_string(status) + " " + std::string(reason) + "\r\n";
    out += extra_fields;
    out += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n";
    out += body;
    return out;
}

// ---------------------------------------------------------------- FakeUpstream

FakeUpstream::FakeUpstream(Handler handler) : handler_(std::move(handler))
{
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    auto sa = loopback(0);
    if (listen_fd_ < 0 || ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0 ||
        ::listen(listen_fd_, 64) != 0)
        return;
    port_ = bound_port(listen_fd_);
    acceptor_ = std::thread([this] { accept_loop(); });
}

FakeUpstream::~FakeUpstream()
{
    stop_ = true;
    if (acceptor_.joinable())
        acceptor_.join();
    {
        std::lock_guard lock(conns_mutex_);
        for (auto& c : conns_)
            c.shutdown_both();
    }
    for (auto& t : conn_threads_)
        t.join();
    if (listen_fd_ >= 0)
        ::close(listen_fd_);
}

void FakeUpstream::accept_loop()
{
    while (!stop_) {
        pollfd p{listen_fd_, POLLIN, 0};
        if (::poll(&p, 1, 50) <= 0)
            continue;
        int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
        if (fd < 0)
            continue;
        int one = 1;
        ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        ++accepts_;
        std::lock_guard lock(conns_mutex_);
        Conn& conn = conns_.emplace_back(fd);
        conn_threads_.emplace_back([this, &conn] { handler_(*this, conn); });
    }
}

FakeUpstream::Handler FakeUpstream::serving(Responder respond)
{
    return [respond = std::move(respond)](FakeUpstream& up, Conn& conn) {
        for (;;) {
            Message req;
            if (!read_request(conn, req, deadline_in(10s)))
                return;
            up.record(req);
            if (!conn.send_all(respond(req)))
                return;
            auto connection = req.field("Connection");
            if (connection && has_token(*connection, "close")) {
                conn.shutdown_write();
                return;
            }
        }
    };
}

void FakeUpstream::record(const Message& m)
{
    std::lock_guard lock(requests_mutex_);
    requests_.push_back(m);
    requests_cv_.notify_all();
}

std::vector<Message> FakeUpstream::requests() const
{
    std::lock_guard lock(requests_mutex_);
    return requests_;
}

bool FakeUpstream::wait_requests(std::size_t n, std::chrono::milliseconds timeout) const
{
    std::unique_lock lock(requests_mutex_);
    return requests_cv_.wait_for(lock, timeout, [&] { return requests_.size() >= n; });
}

std::uint16_t closed_port()
{
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    auto sa = loopback(0);
    ::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa);
    std::uint16_t port = bound_port(fd);
    ::close(fd); // bound, never listened: connecting is refused
    return port;
}

// ---------------------------------------------------------------- Gateway

Gateway::Gateway(std::uint16_t upstream_port, const Tweak& tweak, const std::string& access_log)
    : access_log_(access_log)
{
    // Hold an ephemeral port with a bound (not listening) SO_REUSEPORT socket
    // while the worker binds the same port, so no other process takes it in
    // between; connections only ever go to the listening socket.
    int holder = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    ::setsockopt(holder, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    ::setsockopt(holder, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
    auto sa = loopback(0);
    ::bind(holder, reinterpret_cast<sockaddr*>(&sa), sizeof sa);
    const std::uint16_t port = bound_port(holder);

    namespace ip = boost::asio::ip;
    config_.listen = ip::tcp::endpoint(ip::make_address_v4("127.0.0.1"), port);
    config_.upstream = ip::tcp::endpoint(ip::make_address_v4("127.0.0.1"), upstream_port);
    config_.threads = 1;
    config_.access_log = access_log;
    if (tweak)
        tweak(config_);

    if (!access_log_.ok()) {
        error_ = access_log_.error();
        ::close(holder);
        return;
    }
    if (config_.max_connections == 0)
        config_.max_connections = 1000;
    limit_ = std::make_unique<gw::ConnectionLimit>(config_.max_connections);
    worker_ = std::make_unique<gw::Worker>(config_, access_log_, metrics_, *limit_, 0, nullptr, nullptr);
    ok_ = worker_->listen(error_);
    ::close(holder);
    if (!ok_)
        return;
    thread_ = std::thread([this] {
        worker_->run();
        std::lock_guard lock(mutex_);
        stopped_ = true;
        cv_.notify_all();
    });
}

Gateway::~Gateway()
{
    if (!thread_.joinable())
        return;
    worker_->drain();
    if (!wait_stopped(10s))
        worker_->stop();
    thread_.join();
}

double Gateway::metric(std::string_view series) const
{
    const std::string text = registry_.render();
    std::size_t at = 0;
    while ((at = text.find(series, at)) != std::string::npos) {
        const bool line_start = at == 0 || text[at - 1] == '\n';
        at += series.size();
        if (line_start && at < text.size() && text[at] == ' ')
            return std::stod(text.substr(at + 1, text.find('\n', at) - at - 1));
    }
    return -1;
}

void Gateway::drain()
{
    if (worker_)
        worker_->drain();
}

bool Gateway::wait_stopped(std::chrono::milliseconds timeout)
{
    std::unique_lock lock(mutex_);
    return cv_.wait_for(lock, timeout, [this] { return stopped_; });
}

// ---------------------------------------------------------------- UTF-8, JSON, XML

bool is_valid_utf8(std::string_view s, std::size_t* bad_offset)
{
    std::size_t i = 0;
    auto bad = [&] {
        if (bad_offset)
            *bad_offset = i;
        return false;
    };
    while (i < s.size()) {
        auto c = static_cast<unsigned char>(s[i]);
        if (c < 0x80) {
            ++i;
            continue;
        }
        std::size_t len;
        std::uint32_t cp;
        if (c >= 0xc2 && c <= 0xdf) {
            len = 2;
            cp = c & 0x1f;
        } else if (c >= 0xe0 && c <= 0xef) {
            len = 3;
            cp = c & 0x0f;
        } else if (c >= 0xf0 && c <= 0xf4) {
            len = 4;
            cp = c & 0x07;
        } else {
            return bad();
        }
        if (i + len > s.size())
            return bad();
        for (std::size_t k = 1; k < len; ++k) {
            auto cc = static_cast<unsigned char>(s[i + k]);
            if ((cc & 0xc0) != 0x80)
                return bad();
            cp = (cp << 6) | (cc & 0x3f);
        }
        if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10ffff ||
            (cp >= 0xd800 && cp <= 0xdfff))
            return bad();
        i += len;
    }
    return true;
}

namespace {

void append_utf8(std::string& out, std::uint32_t cp)
{
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xc0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
        out += static_cast<char>(0xe0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
        out += static_cast<char>(0x80 | (cp & 0x3f));
    } else {
        out += static_cast<char>(0xf0 | (cp >> 18));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
        out += static_cast<char>(0x80 | (cp & 0x3f));
    }
}

bool hex_value(std::string_view digits, std::uint32_t& out)
{
    if (digits.empty() || digits.size() > 6)
        return false;
    out = 0;
    for (char ch : digits) {
        out <<= 4;
        if (ch >= '0' && ch <= '9')
            out |= static_cast<std::uint32_t>(ch - '0');
        else if (ch >= 'a' && ch <= 'f')
            out |= static_cast<std::uint32_t>(ch - 'a' + 10);
        else if (ch >= 'A' && ch <= 'F')
            out |= static_cast<std::uint32_t>(ch - 'A' + 10);
        else
            return false;
    }
    return true;
}

class JsonReader {
public:
    explicit JsonReader(std::string_view s) : s_(s) {}

    bool object(std::map<std::string, std::string>* members, std::string& why)
    {
        ws();
        if (!eat('{'))
            return fail("expected '{'", why);
        ws();
        if (eat('}'))
            return true;
        for (;;) {
            ws();
            std::string key, value;
            if (!string(key, why))
                return false;
            ws();
            if (!eat(':'))
                return fail("expected ':'", why);
            ws();
            if (!this->value(value, why))
                return false;
            if (members) {
                if (members->count(key))
                    return fail("duplicate key " + key, why);
                (*members)[key] = value;
            }
            ws();
            if (eat('}'))
                return true;
            if (!eat(','))
                return fail("expected ',' or '}'", why);
        }
    }

    bool at_end()
    {
        ws();
        return pos_ == s_.size();
    }

private:
    bool fail(const std::string& what, std::string& why)
    {
        why = what + " at offset " + std::to_string(pos_);
        return false;
    }
    void ws()
    {
        while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r'))
            ++pos_;
    }
    bool eat(char c)
    {
        if (pos_ < s_.size() && s_[pos_] == c) {
            ++pos_;
            return true;
        }
        return false;
    }

    bool string(std::string& out, std::string& why)
    {
        if (!eat('"'))
            return fail("expected string", why);
        while (pos_ < s_.size()) {
            auto c = static_cast<unsigned char>(s_[pos_++]);
            if (c == '"')
                return true;
            if (c < 0x20)
                return fail("raw control character in string", why);
            if (c != '\\') {
                out += static_cast<char>(c);
                continue;
            }
            if (pos_ >= s_.size())
                break;
            char e = s_[pos_++];
            switch (e) {
            case '"': out += '"'; break;
            case '\\': out += '\\'; break;
            case '/': out += '/'; break;
            case 'b': out += '\b'; break;
            case 'f': out += '\f'; break;
            case 'n': out += '\n'; break;
            case 'r': out += '\r'; break;
            case 't': out += '\t'; break;
            case 'u': {
                std::uint32_t cp;
                if (pos_ + 4 > s_.size() || !hex_value(s_.substr(pos_, 4), cp))
                    return fail("bad \\u escape", why);
                pos_ += 4;
                if (cp < 0x100)
                    out += static_cast<char>(cp); // byte-wise escapes, as the gateway writes them
                else
                    append_utf8(out, cp);
                break;
            }
            default: return fail("bad escape", why);
            }
        }
        return fail("unterminated string", why);
    }

    bool number(std::string& out, std::string& why)
    {
        std::size_t start = pos_;
        eat('-');
        if (eat('0')) {
        } else if (pos_ < s_.size() && s_[pos_] >= '1' && s_[pos_] <= '9') {
            while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9')
                ++pos_;
        } else {
            return fail("bad number", why);
        }
        if (eat('.')) {
            std::size_t digits = pos_;
            while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9')
                ++pos_;
            if (pos_ == digits)
                return fail("bad fraction", why);
        }
        if (eat('e') || eat('E')) {
            if (!eat('+'))
                eat('-');
            std::size_t digits = pos_;
            while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9')
                ++pos_;
            if (pos_ == digits)
                return fail("bad exponent", why);
        }
        out = std::string(s_.substr(start, pos_ - start));
        return true;
    }

    bool value(std::string& out, std::string& why)
    {
        if (pos_ >= s_.size())
            return fail("expected value", why);
        char c = s_[pos_];
        if (c == '"')
            return string(out, why);
        if (c == '{')
            return object(nullptr, why);
        if (c == '[') {
            ++pos_;
            ws();
            if (eat(']'))
                return true;
            for (;;) {
                ws();
                std::string ignored;
                if (!value(ignored, why))
                    return false;
                ws();
                if (eat(']'))
                    return true;
                if (!eat(','))
                    return fail("expected ',' or ']'", why);
            }
        }
        for (std::string_view lit : {"true", "false", "null"}) {
            if (s_.substr(pos_, lit.size()) == lit) {
                pos_ += lit.size();
                out = std::string(lit);
                return true;
            }
        }
        return number(out, why);
    }

    std::string_view s_;
    std::size_t pos_ = 0;
};

bool xml_char(std::uint32_t cp)
{
    return cp == 0x9 || cp == 0xa || cp == 0xd || (cp >= 0x20 && cp <= 0xd7ff) || (cp >= 0xe000 && cp <= 0xfffd) ||
           (cp >= 0x10000 && cp <= 0x10ffff);
}

bool name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
           c == '.' || c == ':';
}

class XmlReader {
public:
    XmlReader(std::string_view s, std::map<std::string, std::string>& leaves) : s_(s), leaves_(leaves) {}

    bool document(std::string& why)
    {
        std::size_t bad = 0;
        if (!is_valid_utf8(s_, &bad)) {
            pos_ = bad;
            return fail("not UTF-8", why);
        }
        // Every raw character must be an XML 1.0 Char (multi-byte ones are
        // all allowed once UTF-8 is valid, except U+FFFE/U+FFFF).
        for (std::size_t i = 0; i < s_.size(); ++i) {
            auto c = static_cast<unsigned char>(s_[i]);
            if (c < 0x20 && c != '\t' && c != '\n' && c != '\r')
                return fail("control character", why);
            if (c == 0xef && i + 2 < s_.size() && static_cast<unsigned char>(s_[i + 1]) == 0xbf &&
                (static_cast<unsigned char>(s_[i + 2]) == 0xbe || static_cast<unsigned char>(s_[i + 2]) == 0xbf))
                return fail("U+FFFE/U+FFFF", why);
        }
        if (s_.starts_with("<?xml")) {
            auto end = s_.find("?>");
            if (end == std::string_view::npos)
                return fail("unterminated declaration", why);
            pos_ = end + 2;
        }
        ws();
        if (!element(why))
            return false;
        ws();
        if (pos_ != s_.size())
            return fail("content after the root element", why);
        return true;
    }

private:
    bool fail(const std::string& what, std::string& why)
    {
        why = what + " at offset " + std::to_string(pos_);
        return false;
    }
    void ws()
    {
        while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r'))
            ++pos_;
    }
    bool name(std::string& out)
    {
        std::size_t start = pos_;
        while (pos_ < s_.size() && name_char(s_[pos_]))
            ++pos_;
        out = std::string(s_.substr(start, pos_ - start));
        return !out.empty();
    }

    bool reference(std::string& text, std::string& why)
    {
        auto semi = s_.find(';', pos_);
        if (semi == std::string_view::npos || semi - pos_ > 12)
            return fail("bad reference", why);
        auto ref = s_.substr(pos_ + 1, semi - pos_ - 1);
        pos_ = semi + 1;
        if (ref == "amp") text += '&';
        else if (ref == "lt") text += '<';
        else if (ref == "gt") text += '>';
        else if (ref == "quot") text += '"';
        else if (ref == "apos") text += '\'';
        else if (ref.starts_with("#")) {
            std::uint32_t cp = 0;
            if (ref.starts_with("#x")) {
                if (!hex_value(ref.substr(2), cp))
                    return fail("bad character reference", why);
            } else {
                if (ref.size() < 2 || ref.size() > 8)
                    return fail("bad character reference", why);
                for (char c : ref.substr(1)) {
                    if (c < '0' || c > '9')
                        return fail("bad character reference", why);
                    cp = cp * 10 + static_cast<std::uint32_t>(c - '0');
                }
            }
            if (!xml_char(cp))
                return fail("reference to a non-XML character", why);
            append_utf8(text, cp);
        } else {
            return fail("unknown entity", why);
        }
        return true;
    }

    bool element(std::string& why)
    {
        if (pos_ >= s_.size() || s_[pos_] != '<')
            return fail("expected element", why);
        ++pos_;
        std::string tag;
        if (!name(tag))
            return fail("bad element name", why);
        ws();
        if (pos_ + 1 < s_.size() && s_[pos_] == '/' && s_[pos_ + 1] == '>') {
            pos_ += 2;
            leaves_[tag] = "";
            return true;
        }
        if (pos_ >= s_.size() || s_[pos_] != '>')
            return fail("attributes are not expected here", why);
        ++pos_;
        std::string text;
        bool has_children = false;
        while (pos_ < s_.size()) {
            char c = s_[pos_];
            if (c == '<') {
                if (pos_ + 1 < s_.size() && s_[pos_ + 1] == '/') {
                    pos_ += 2;
                    std::string closing;
                    if (!name(closing) || closing != tag)
                        return fail("mismatched end tag for " + tag, why);
                    ws();
                    if (pos_ >= s_.size() || s_[pos_] != '>')
                        return fail("bad end tag", why);
                    ++pos_;
                    if (!has_children)
                        leaves_[tag] = text;
                    return true;
                }
                has_children = true;
                if (!element(why))
                    return false;
            } else if (c == '&') {
                if (!reference(text, why))
                    return false;
            } else if (c == '>' && pos_ >= 2 && s_.substr(pos_ - 2, 2) == "]]") {
                return fail("']]>' in text", why);
            } else {
                text += c;
                ++pos_;
            }
        }
        return fail("unterminated element " + tag, why);
    }

    std::string_view s_;
    std::map<std::string, std::string>& leaves_;
    std::size_t pos_ = 0;
};

} // namespace

bool parse_json_object(std::string_view text, std::map<std::string, std::string>& out, std::string& why)
{
    std::size_t bad = 0;
    if (!is_valid_utf8(text, &bad)) {
        why = "not UTF-8 at offset " + std::to_string(bad);
        return false;
    }
    JsonReader reader(text);
    if (!reader.object(&out, why))
        return false;
    if (!reader.at_end()) {
        why = "trailing bytes after the object";
        return false;
    }
    return true;
}

bool check_xml(std::string_view doc, std::map<std::string, std::string>& leaves, std::string& why)
{
    XmlReader reader(doc, leaves);
    return reader.document(why);
}

} // namespace xo::test
