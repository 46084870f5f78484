#include "rgw_xo/body_pump.h"

#include <boost/asio/buffer.hpp>
#include <boost/asio/write.hpp>

#include "rgw_xo/client_stream.h"

namespace xo::gw {

using boost::asio::redirect_error;
using boost::asio::use_awaitable;

template <typename From, typename To>
boost::asio::awaitable<PumpResult> pump_exact(From& from, boost::beast::flat_buffer& from_buf, To& to,
                                              std::uint64_t length, std::span<char> scratch,
                                              std::chrono::seconds io_timeout)
{
    PumpResult result;

    if (from_buf.size() > 0 && length > 0) {
        std::size_t take = static_cast<std::size_t>(std::min<std::uint64_t>(from_buf.size(), length));
        to.expires_after(io_timeout);
        co_await boost::asio::async_write(to, boost::asio::buffer(from_buf.data(), take),
                                          redirect_error(use_awaitable, result.error));
        if (result.error) {
            result.fault = PumpFault::sink;
            co_return result;
        }
        from_buf.consume(take);
        result.bytes = take;
    }

    while (result.bytes < length) {
        std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(scratch.size(), length - result.bytes));
        from.expires_after(io_timeout);
        std::size_t got = co_await from.async_read_some(boost::asio::buffer(scratch.data(), want),
                                                        redirect_error(use_awaitable, result.error));
        if (result.error) {
            result.fault = PumpFault::source;
            co_return result;
        }
        to.expires_after(io_timeout);
        co_await boost::asio::async_write(to, boost::asio::buffer(scratch.data(), got),
                                          redirect_error(use_awaitable, result.error));
        if (result.error) {
            result.fault = PumpFault::sink;
            co_return result;
        }
        result.bytes += got;
    }
    co_return result;
}

// The two directions a body moves: client → radosgw, radosgw → client.
template boost::asio::awaitable<PumpResult> pump_exact(ClientStream&, boost::beast::flat_buffer&,
                                                       boost::beast::tcp_stream&, std::uint64_t, std::span<char>,
                                                       std::chrono::seconds);
template boost::asio::awaitable<PumpResult> pump_exact(boost::beast::tcp_stream&, boost::beast::flat_buffer&,
                                                       ClientStream&, std::uint64_t, std::span<char>,
                                                       std::chrono::seconds);

} // namespace xo::gw
