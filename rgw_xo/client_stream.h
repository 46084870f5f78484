// Theory of operation: the client side of one connection, plain or TLS, as
// one Asio stream that Beast reads and writes HTTP through. Plain, every call
// goes straight to the Beast tcp_stream. TLS, the stream first runs the
// server handshake (tls::Handshake over the socket), then keeps the
// tls::Session: a read opens whole records until it has plaintext (KeyUpdate
// and alerts are handled inside; a close_notify reads as EOF; a record that
// does not authenticate sends bad_record_mac and fails the read), a write
// gathers up to a few records of plaintext, seals them and completes only
// when every record is on the socket — so between two calls no ciphertext
// is half-written, which is what a handoff needs: the socket's send queue
// then holds whole records only, and the Session's send state is exact.
//
// Timeouts are the tcp_stream's (expires_after applies to the socket reads
// and writes a TLS call makes). One read and one write may be outstanding at
// a time, as for any Asio stream; the gateway never has more than one of
// either on a client connection.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <utility>
#include <vector>

#include "common/result.h"
#include "common/tls/handshake.h"
#include "common/tls/session.h"

namespace xo::gw {

class ClientStream {
public:
    using executor_type = boost::asio::any_io_executor;
    using error_code = boost::system::error_code;

    explicit ClientStream(boost::asio::ip::tcp::socket socket) : tcp_(std::move(socket)) {}

    executor_type get_executor() { return tcp_.get_executor(); }
    boost::asio::ip::tcp::socket& socket() { return tcp_.socket(); }
    boost::beast::tcp_stream& tcp() { return tcp_; }
    void expires_after(std::chrono::steady_clock::duration d) { tcp_.expires_after(d); }
    void expires_never() { tcp_.expires_never(); }
    void cancel() { tcp_.cancel(); }

    /** tls() - the TLS session once handshake() succeeded; null on a plain connection. */
    tls::Session* tls() { return session_ ? &*session_ : nullptr; }

    /** buffered() - whether TLS input is waiting here (the socket alone would not show it readable). */
    bool buffered() const { return session_ && (plain_pos_ < plain_in_.size() || session_->has_input()); }

    /**
     * handshake() - TLS server handshake with @context within @timeout.
     * Return: an error (a failed or timed-out handshake: close the connection).
     */
    boost::asio::awaitable<Result<void>> handshake(std::shared_ptr<const tls::ServerContext> context,
                                                   std::chrono::steady_clock::duration timeout);

    /** close_notify() - TLS: send our close_notify (best effort, before a FIN). */
    boost::asio::awaitable<void> close_notify();

    /** flush() - TLS: send what the session must send (a KeyUpdate before a handoff). */
    boost::asio::awaitable<error_code> flush();

    template <typename MutableBuffers, typename Token>
    auto async_read_some(const MutableBuffers& buffers, Token&& token)
    {
        return boost::asio::async_initiate<Token, void(error_code, std::size_t)>(
            [this](auto handler, const MutableBuffers& bufs) {
                if (!session_)
                    return tcp_.async_read_some(bufs, std::move(handler));
                boost::asio::co_spawn(get_executor(), read_tls(first_buffer(bufs)),
                                      [h = std::move(handler)](std::exception_ptr, Transfer t) mutable {
                                          std::move(h)(t.first, t.second);
                                      });
            },
            token, buffers);
    }

    template <typename ConstBuffers, typename Token>
    auto async_write_some(const ConstBuffers& buffers, Token&& token)
    {
        return boost::asio::async_initiate<Token, void(error_code, std::size_t)>(
            [this](auto handler, const ConstBuffers& bufs) {
                if (!session_)
                    return tcp_.async_write_some(bufs, std::move(handler));
                gather(bufs);
                boost::asio::co_spawn(get_executor(), write_tls(),
                                      [h = std::move(handler)](std::exception_ptr, Transfer t) mutable {
                                          std::move(h)(t.first, t.second);
                                      });
            },
            token, buffers);
    }

private:
    using Transfer = std::pair<error_code, std::size_t>;

    template <typename MutableBuffers>
    static boost::asio::mutable_buffer first_buffer(const MutableBuffers& buffers)
    {
        for (auto it = boost::asio::buffer_sequence_begin(buffers); it != boost::asio::buffer_sequence_end(buffers);
             ++it)
            if (boost::asio::mutable_buffer b(*it); b.size() > 0)
                return b;
        return {};
    }

    /** gather() - copy the front of @buffers (up to a few records) into the plaintext to seal. */
    template <typename ConstBuffers>
    void gather(const ConstBuffers& buffers)
    {
        out_plain_.clear();
        for (auto it = boost::asio::buffer_sequence_begin(buffers);
             it != boost::asio::buffer_sequence_end(buffers) && out_plain_.size() < max_write_plaintext; ++it) {
            boost::asio::const_buffer b(*it);
            auto take = std::min(b.size(), max_write_plaintext - out_plain_.size());
            auto* p = static_cast<const std::uint8_t*>(b.data());
            out_plain_.insert(out_plain_.end(), p, p + take);
        }
    }

    boost::asio::awaitable<Transfer> read_tls(boost::asio::mutable_buffer into);
    boost::asio::awaitable<Transfer> write_tls();
    boost::asio::awaitable<error_code> send(std::vector<std::uint8_t>& bytes);

    static constexpr std::size_t max_write_plaintext = 4 * tls::max_record_plaintext;

    boost::beast::tcp_stream tcp_;
    std::optional<tls::Session> session_;
    std::vector<std::uint8_t> plain_in_;  ///< opened, not yet given to a reader
    std::size_t plain_pos_ = 0;
    std::vector<std::uint8_t> cipher_in_; ///< read buffer for ciphertext
    std::vector<std::uint8_t> out_plain_; ///< gathered by async_write_some
    std::vector<std::uint8_t> out_records_;
};

} // namespace xo::gw
