#include "rgw_xo/client_stream.h"

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <cstring>

namespace xo::gw {

using boost::asio::redirect_error;
using boost::asio::use_awaitable;

namespace {

constexpr std::size_t read_chunk = tls::record_header_size + tls::max_record_ciphertext;

} // namespace

boost::asio::awaitable<Result<void>> ClientStream::handshake(std::shared_ptr<const tls::ServerContext> context,
                                                             std::chrono::steady_clock::duration timeout)
{
    tls::Handshake hs(std::move(context));
    std::vector<std::uint8_t> in(read_chunk);
    std::vector<std::uint8_t> out;
    tcp_.expires_after(timeout); // the whole handshake, not each read: a slow handshake is a slowloris
    while (!hs.done()) {
        error_code ec;
        std::size_t n = co_await tcp_.async_read_some(boost::asio::buffer(in), redirect_error(use_awaitable, ec));
        if (ec)
            co_return Error{"TLS handshake: reading: " + ec.message(), ec.value()};
        out.clear();
        auto fed = hs.feed(std::span(in.data(), n), out);
        if (!out.empty()) {
            co_await boost::asio::async_write(tcp_, boost::asio::buffer(out), redirect_error(use_awaitable, ec));
            if (ec && fed)
                co_return Error{"TLS handshake: writing: " + ec.message(), ec.value()};
        }
        if (!fed)
            co_return fed.error();
    }
    auto session = hs.finish();
    if (!session)
        co_return session.error();
    session_.emplace(std::move(*session));
    co_return Result<void>{};
}

boost::asio::awaitable<ClientStream::error_code> ClientStream::send(std::vector<std::uint8_t>& bytes)
{
    error_code ec;
    if (!bytes.empty())
        co_await boost::asio::async_write(tcp_, boost::asio::buffer(bytes), redirect_error(use_awaitable, ec));
    bytes.clear();
    co_return ec;
}

boost::asio::awaitable<ClientStream::error_code> ClientStream::flush()
{
    if (!session_)
        co_return error_code{};
    co_return co_await send(session_->pending_output());
}

boost::asio::awaitable<void> ClientStream::close_notify()
{
    if (!session_)
        co_return;
    std::vector<std::uint8_t> out;
    if (session_->close(out))
        co_await send(out);
}

boost::asio::awaitable<ClientStream::Transfer> ClientStream::read_tls(boost::asio::mutable_buffer into)
{
    if (into.size() == 0)
        co_return Transfer{};
    while (plain_pos_ == plain_in_.size()) {
        plain_in_.clear();
        plain_pos_ = 0;
        switch (session_->read(plain_in_)) {
        case tls::Session::ReadStatus::data:
            continue;
        case tls::Session::ReadStatus::closed:
            co_return Transfer{boost::asio::error::eof, 0};
        case tls::Session::ReadStatus::failed: {
            co_await send(session_->pending_output()); // the alert, best effort
            co_return Transfer{boost::asio::error::connection_aborted, 0};
        }
        case tls::Session::ReadStatus::need_more:
            break;
        }
        // Answer a KeyUpdate now if we are only reading (a client waiting for ours).
        if (auto ec = co_await send(session_->pending_output()))
            co_return Transfer{ec, 0};
        cipher_in_.resize(read_chunk);
        error_code ec;
        std::size_t n = co_await tcp_.async_read_some(boost::asio::buffer(cipher_in_), redirect_error(use_awaitable, ec));
        if (ec)
            co_return Transfer{ec, 0};
        session_->received(std::span(cipher_in_.data(), n));
    }
    std::size_t n = std::min(into.size(), plain_in_.size() - plain_pos_);
    std::memcpy(into.data(), plain_in_.data() + plain_pos_, n);
    plain_pos_ += n;
    co_return Transfer{error_code{}, n};
}

boost::asio::awaitable<ClientStream::Transfer> ClientStream::write_tls()
{
    out_records_.clear();
    if (auto sealed = session_->write(out_plain_, out_records_); !sealed)
        co_return Transfer{boost::asio::error::connection_aborted, 0};
    if (auto ec = co_await send(out_records_))
        co_return Transfer{ec, 0};
    co_return Transfer{error_code{}, out_plain_.size()};
}

} // namespace xo::gw
