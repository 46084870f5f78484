// Theory of operation: the persistent control connection between a gateway
// and one responder, carrying handoff messages (handoff_messages.h).
//
// Security: TLS 1.3 with an external pre-shared key, see control_tls.h.
//
// Deadlines. Every operation takes an absolute deadline. A watchdog timer
// closes the socket when it passes; the pending operation then completes with
// an error value. A deadline that passes in the middle of a frame leaves the
// TLS stream and the framing unrecoverable, so the channel is closed and every
// later call fails at once with the reason; the owner reconnects. recv()'s
// stall_limit bounds a frame once its first byte has arrived, which lets a
// reader wait indefinitely for the next message (deadline = never) yet still
// detect a peer that stops mid-frame; an idle peer that vanished is found by
// TCP keepalive and TCP_USER_TIMEOUT, set on every channel socket.
//
// Concurrency. The API is Asio C++20 coroutines: the gateway runs one
// io_context per thread with coroutine sessions, and the responder follows the
// same model, so both await sends and receives without blocking a thread. A
// channel belongs to one single-threaded executor. Any number of coroutines
// may send at once (frames are queued whole, never interleaved; a sender that
// cannot start before its deadline gets an error and the channel stays up);
// one coroutine receives at a time — FlowMux (flow_mux.h) is that reader and
// routes replies to their flows.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <list>
#include <memory>
#include <string>

#include "common/handoff/handoff_messages.h"
#include "common/handoff/control_tls.h"
#include "common/deadline.h"
#include "common/result.h"

namespace xo::handoff {

class ControlChannel {
public:
    using Stream = boost::asio::ssl::stream<boost::asio::ip::tcp::socket>;

    ControlChannel(std::shared_ptr<ControlTls> tls, boost::asio::ip::tcp::socket socket);
    ControlChannel(const ControlChannel&) = delete;
    ControlChannel& operator=(const ControlChannel&) = delete;

    /**
     * send() - write @m as one frame, completely, by @deadline.
     *
     * @m is taken by value: the coroutine starts only when awaited.
     * Waits behind other senders. Return: success once the frame is handed to
     * the kernel; an error if @m is invalid (channel stays up), if the turn to
     * send did not come by @deadline (channel stays up) or if the write failed
     * or passed @deadline (channel closed).
     */
    boost::asio::awaitable<Result<void>> send(handoff::Message m, Deadline deadline);

    /**
     * recv() - read the next message.
     * @deadline: the whole frame must have arrived by then.
     * @stall_limit: once the frame's first byte arrived, the rest must arrive
     *               within this (and by @deadline).
     *
     * Return: the message, or an error (timeout, peer closed, malformed or
     * oversized frame); after any error the channel is closed.
     */
    boost::asio::awaitable<Result<handoff::Message>> recv(Deadline deadline,
                                                          Clock::duration stall_limit = Clock::duration::max());

    /**
     * handshake() - the TLS handshake in the ControlTls's role, by @deadline,
     * with the keys for this peer; fails (and closes) unless the peer proved
     * one of them.
     */
    boost::asio::awaitable<Result<void>> handshake(Deadline deadline);

    /** key_id() - the id of the key the handshake proved. */
    const std::string& key_id() const { return keys_.proved; }

    /**
     * key_still_held() - whether this channel's key is still in the keyring
     * its ControlTls uses for this peer (a rotation may have withdrawn it).
     */
    Result<void> key_still_held() const;

    /** close() - drop the connection; pending and later calls fail with @reason. */
    void close(const std::string& reason);

    bool is_open() const { return close_reason_.empty(); }
    const std::string& peer() const { return peer_; }
    boost::asio::any_io_executor get_executor() { return stream_.get_executor(); }

private:
    class Watchdog;

    Error fail(const std::string& what, const boost::system::error_code& ec);
    Error closed_error() const;
    boost::asio::awaitable<Result<void>> wait_turn_to_send(Deadline deadline);
    void wake_next_sender();

    std::shared_ptr<ControlTls> tls_;
    Stream stream_;
    ChannelKeys keys_; ///< the handshake's keys; OpenSSL points at them while it runs
    std::string peer_;
    std::string close_reason_;
    bool sending_ = false;
    bool receiving_ = false;
    std::list<boost::asio::steady_timer*> send_waiters_;
};

/**
 * connect_channel() - open an authenticated channel to a responder.
 * @tls: a client-role ControlTls.
 * @to: the responder's control endpoint.
 * @deadline: for connect and handshake together.
 */
boost::asio::awaitable<Result<std::unique_ptr<ControlChannel>>>
connect_channel(std::shared_ptr<ControlTls> tls, boost::asio::ip::tcp::endpoint to, Deadline deadline);

/**
 * accept_channel() - authenticate an accepted connection from a gateway.
 * @tls: a server-role ControlTls.
 * @socket: the freshly accepted connection.
 * @deadline: for the handshake.
 *
 * Return: the channel, or an error saying why the peer was rejected.
 */
boost::asio::awaitable<Result<std::unique_ptr<ControlChannel>>>
accept_channel(std::shared_ptr<ControlTls> tls, boost::asio::ip::tcp::socket socket, Deadline deadline);

} // namespace xo::handoff
