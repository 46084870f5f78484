#include "common/handoff/control_channel.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <algorithm>
#include <array>
#include <netinet/tcp.h>

#include "common/endpoint.h"

namespace xo::handoff {

using boost::asio::redirect_error;
using boost::asio::use_awaitable;
using boost::system::error_code;
namespace ssl = boost::asio::ssl;

namespace {

// Dead-peer detection on an idle or blocked channel (see the header).
constexpr int keepalive_idle_s = 10;
constexpr int keepalive_interval_s = 5;
constexpr int keepalive_probes = 3;
constexpr unsigned user_timeout_ms = 20000;

void tune_socket(boost::asio::ip::tcp::socket& s)
{
    int fd = s.native_handle();
    int on = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
    ::setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof on);
    ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &keepalive_idle_s, sizeof keepalive_idle_s);
    ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &keepalive_interval_s, sizeof keepalive_interval_s);
    ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &keepalive_probes, sizeof keepalive_probes);
    ::setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &user_timeout_ms, sizeof user_timeout_ms);
}

std::string peer_name(const boost::asio::ip::tcp::socket& s)
{
    error_code ec;
    auto ep = s.remote_endpoint(ec);
    return ec ? std::string("unknown peer") : to_string(ep);
}

bool peer_closed(const error_code& ec)
{
    return ec == boost::asio::error::eof || ec == ssl::error::stream_truncated ||
           ec == boost::asio::error::connection_reset || ec == boost::asio::error::broken_pipe;
}

} // namespace

/*
 * Watchdog - closes the channel when @deadline passes while it is alive. The
 * timer's handler may still be queued after the watchdog is gone; the shared
 * flag tells it to do nothing then.
 */
class ControlChannel::Watchdog {
public:
    Watchdog(ControlChannel& ch, Deadline deadline, std::string what)
        : timer_(ch.stream_.get_executor()), armed_(std::make_shared<bool>(true))
    {
        if (deadline == never)
            return;
        timer_.expires_at(deadline);
        timer_.async_wait([armed = armed_, &ch, what = std::move(what)](const error_code& ec) {
            if (!ec && *armed)
                ch.close(what + ": deadline passed");
        });
    }
    Watchdog(const Watchdog&) = delete;
    Watchdog& operator=(const Watchdog&) = delete;
    ~Watchdog()
    {
        *armed_ = false;
        timer_.cancel();
    }

private:
    boost::asio::steady_timer timer_;
    std::shared_ptr<bool> armed_;
};

ControlChannel::ControlChannel(std::shared_ptr<ControlTls> tls, boost::asio::ip::tcp::socket socket)
    : tls_(std::move(tls)), stream_(std::move(socket), tls_->context())
{
    tune_socket(stream_.next_layer());
    peer_ = peer_name(stream_.next_layer());
}

void ControlChannel::close(const std::string& reason)
{
    if (!is_open())
        return;
    close_reason_ = reason.empty() ? "closed" : reason;
    error_code ignored;
    stream_.next_layer().close(ignored);
    // Senders queued behind the current one must learn the news now.
    for (auto* waiter : send_waiters_)
        waiter->cancel();
}

Error ControlChannel::closed_error() const
{
    int code = close_reason_.find("deadline passed") != std::string::npos ? ETIMEDOUT : ENOTCONN;
    return Error{"control channel to " + peer_ + " closed: " + close_reason_, code};
}

Error ControlChannel::fail(const std::string& what, const error_code& ec)
{
    if (is_open())
        close(peer_closed(ec) ? what + ": peer closed the connection" : what + ": " + ec.message());
    return closed_error();
}

boost::asio::awaitable<Result<void>> ControlChannel::handshake(Deadline deadline)
{
    error_code ec;
    auto remote = stream_.next_layer().remote_endpoint(ec);
    if (ec)
        co_return fail("TLS handshake", ec);
    if (auto bound = tls_->bind(stream_.native_handle(), remote.address(), keys_); !bound) {
        close("no key for this peer: " + bound.error().message);
        co_return closed_error();
    }
    {
        Watchdog watchdog(*this, deadline, "TLS handshake");
        auto type = tls_->role() == ControlTls::Role::client ? ssl::stream_base::client : ssl::stream_base::server;
        co_await stream_.async_handshake(type, redirect_error(use_awaitable, ec));
    }
    if (ec.category() == boost::asio::error::get_ssl_category())
        co_return fail("TLS handshake (wrong pre-shared key or key id, or a peer without the key?)", ec);
    if (ec || !is_open())
        co_return fail("TLS handshake", ec);
    if (auto proved = ControlTls::check_proved(stream_.native_handle(), keys_); !proved) {
        close(proved.error().message);
        co_return closed_error();
    }
    co_return Result<void>{};
}

Result<void> ControlChannel::key_still_held() const
{
    error_code ec;
    auto remote = stream_.next_layer().remote_endpoint(ec);
    if (ec)
        return Error{"control channel to " + peer_ + ": " + ec.message()};
    auto ring = tls_->keys_for(remote.address());
    if (!ring)
        return ring.error();
    if (!(*ring)->find(keys_.proved))
        return Error{"key " + keys_.proved + " of the control channel to " + peer_ + " was withdrawn"};
    return {};
}

void ControlChannel::wake_next_sender()
{
    if (!send_waiters_.empty())
        send_waiters_.front()->cancel();
}

/*
 * wait_turn_to_send() - wait until no other frame is being written. A waiter
 * sleeps on its own timer set to its deadline; the finishing writer cancels
 * the first waiter's timer to wake it.
 */
boost::asio::awaitable<Result<void>> ControlChannel::wait_turn_to_send(Deadline deadline)
{
    while (sending_ && is_open()) {
        boost::asio::steady_timer turn(stream_.get_executor(), deadline);
        auto me = send_waiters_.insert(send_waiters_.end(), &turn);
        error_code ec;
        co_await turn.async_wait(redirect_error(use_awaitable, ec));
        send_waiters_.erase(me);
        if (!ec) {
            // Our wake-up may have been lost to the deadline: pass it on.
            if (!sending_)
                wake_next_sender();
            co_return Error{"send to " + peer_ + ": deadline passed waiting behind other senders", ETIMEDOUT};
        }
    }
    if (!is_open())
        co_return closed_error();
    co_return Result<void>{};
}

boost::asio::awaitable<Result<void>> ControlChannel::send(handoff::Message m, Deadline deadline)
{
    if (!is_open())
        co_return closed_error();
    auto frame = handoff::encode(m);
    if (!frame)
        co_return frame.error();
    if (auto turn = co_await wait_turn_to_send(deadline); !turn)
        co_return turn.error();

    sending_ = true;
    error_code ec;
    {
        Watchdog watchdog(*this, deadline, "send " + std::string(handoff::type_name(handoff::type_of(m))));
        co_await boost::asio::async_write(stream_, boost::asio::buffer(*frame), redirect_error(use_awaitable, ec));
    }
    sending_ = false;
    wake_next_sender();
    if (ec || !is_open())
        co_return fail("send", ec);
    co_return Result<void>{};
}

boost::asio::awaitable<Result<handoff::Message>> ControlChannel::recv(Deadline deadline,
                                                                      Clock::duration stall_limit)
{
    if (!is_open())
        co_return closed_error();
    if (receiving_)
        co_return Error{"recv on the control channel to " + peer_ + " while another recv is pending", EBUSY};
    receiving_ = true;
    struct Done {
        bool& flag;
        ~Done() { flag = false; }
    } done{receiving_};

    std::array<std::uint8_t, handoff::header_size> header{};
    std::size_t got = 0;
    error_code ec;
    {
        Watchdog watchdog(*this, deadline, "receive");
        got = co_await stream_.async_read_some(boost::asio::buffer(header), redirect_error(use_awaitable, ec));
    }
    if (ec || !is_open())
        co_return fail("receive", ec);

    // The frame has started: the rest is bounded by stall_limit as well.
    Deadline frame_deadline = stall_limit >= deadline - Clock::now() ? deadline : Clock::now() + stall_limit;
    Watchdog watchdog(*this, frame_deadline, "receive (peer stalled mid-frame)");
    co_await boost::asio::async_read(stream_, boost::asio::buffer(header.data() + got, header.size() - got),
                                     redirect_error(use_awaitable, ec));
    if (ec || !is_open())
        co_return fail("receive frame header", ec);
    auto h = handoff::decode_header(header);
    if (!h) {
        close("protocol error: " + h.error().message);
        co_return closed_error();
    }
    handoff::Bytes payload(h->payload_length);
    co_await boost::asio::async_read(stream_, boost::asio::buffer(payload), redirect_error(use_awaitable, ec));
    if (ec || !is_open())
        co_return fail("receive " + std::string(handoff::type_name(h->type)) + " payload", ec);
    auto m = handoff::decode_payload(h->type, payload);
    if (!m) {
        close("protocol error: " + m.error().message);
        co_return closed_error();
    }
    co_return m;
}

boost::asio::awaitable<Result<std::unique_ptr<ControlChannel>>>
connect_channel(std::shared_ptr<ControlTls> tls, boost::asio::ip::tcp::endpoint to, Deadline deadline)
{
    auto executor = co_await boost::asio::this_coro::executor;
    boost::asio::ip::tcp::socket socket(executor);
    error_code ec;
    {
        boost::asio::steady_timer timer(executor, deadline);
        auto armed = std::make_shared<bool>(true);
        timer.async_wait([armed, &socket](const error_code& e) {
            if (!e && *armed) {
                error_code ignored;
                socket.close(ignored);
            }
        });
        co_await socket.async_connect(to, redirect_error(use_awaitable, ec));
        *armed = false;
    }
    if (ec || !socket.is_open())
        co_return Error{"connect control channel to " + to_string(to) + ": " +
                            (socket.is_open() ? ec.message() : std::string("deadline passed")),
                        socket.is_open() ? ec.value() : ETIMEDOUT};
    auto channel = std::make_unique<ControlChannel>(std::move(tls), std::move(socket));
    if (auto ok = co_await channel->handshake(deadline); !ok)
        co_return ok.error();
    co_return channel;
}

boost::asio::awaitable<Result<std::unique_ptr<ControlChannel>>>
accept_channel(std::shared_ptr<ControlTls> tls, boost::asio::ip::tcp::socket socket, Deadline deadline)
{
    auto channel = std::make_unique<ControlChannel>(std::move(tls), std::move(socket));
    if (auto ok = co_await channel->handshake(deadline); !ok)
        co_return ok.error();
    co_return channel;
}

} // namespace xo::handoff
