#include "osd_xo/socket_sink.h"

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace xo::rsp {

boost::asio::awaitable<Result<void>> SocketSink::write(std::span<const std::uint8_t> bytes)
{
    boost::asio::steady_timer watchdog(socket_.get_executor());
    while (!bytes.empty()) {
        // Shared with the handler, which may still run after this iteration.
        auto stalled = std::make_shared<bool>(false);
        watchdog.expires_after(stall_timeout_);
        watchdog.async_wait([this, alive = std::weak_ptr<int>(alive_), stalled](boost::system::error_code ec) {
            if (ec || alive.expired())
                return;
            *stalled = true;
            boost::system::error_code ignored;
            socket_.cancel(ignored);
        });
        boost::system::error_code ec;
        std::size_t n = co_await socket_.async_write_some(
            boost::asio::buffer(bytes.data(), bytes.size()), boost::asio::redirect_error(boost::asio::use_awaitable, ec));
        watchdog.cancel();
        written_ += n;
        if (sent_)
            sent_->add(n);
        if (*stalled)
            co_return Error{"client made no progress for " +
                                std::to_string(std::chrono::duration_cast<std::chrono::seconds>(stall_timeout_).count()) +
                                " s (" + std::to_string(written_) + " bytes written)",
                            ETIMEDOUT};
        if (ec)
            co_return Error{"writing to the client: " + ec.message(), ec.value()};
        bytes = bytes.subspan(n);
    }
    co_return Result<void>();
}

} // namespace xo::rsp
