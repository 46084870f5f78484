// Theory of operation: the client's socket as a ByteSink. A slow client is
// fine, a stalled one is not: each write_some gets the stall timeout, so a
// transfer may take as long as it takes while bytes keep leaving, and ends
// with an error once none have for that long (the host then resets the
// connection). The stall is detected by a timer that cancels the pending
// write (it never closes the socket: the host still needs the descriptor to
// send its RST). Body bytes are counted as each write_some completes, so a
// failed transfer still counts what reached the kernel.
#pragma once

#include <boost/asio/ip/tcp.hpp>

#include <chrono>
#include <memory>

#include "osd_xo/byte_sink.h"
#include "common/metrics.h"

namespace xo::rsp {

class SocketSink final : public ByteSink {
public:
    /**
     * SocketSink() - write to @socket, which outlives the sink.
     * @stall_timeout: longest time without progress.
     * @sent: counts written bytes; may be null.
     */
    SocketSink(boost::asio::ip::tcp::socket& socket, std::chrono::steady_clock::duration stall_timeout,
               metrics::Counter* sent)
        : socket_(socket), stall_timeout_(stall_timeout), sent_(sent)
    {
    }

    boost::asio::awaitable<Result<void>> write(std::span<const std::uint8_t> bytes) override;

    /** written() - bytes this sink has written so far. */
    std::uint64_t written() const { return written_; }

private:
    boost::asio::ip::tcp::socket& socket_;
    std::chrono::steady_clock::duration stall_timeout_;
    metrics::Counter* sent_;
    std::uint64_t written_ = 0;
    /// Watchdog handlers hold a weak reference: once the sink is gone they
    /// must not touch the socket (everything runs on one thread).
    std::shared_ptr<int> alive_ = std::make_shared<int>(0);
};

} // namespace xo::rsp
