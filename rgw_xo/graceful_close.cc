#include "rgw_xo/graceful_close.h"

#include <boost/asio/buffer.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <array>
#include <chrono>

namespace xo::gw {

namespace {

constexpr std::size_t linger_bytes = 1024 * 1024;
constexpr std::chrono::seconds linger_time{2};

} // namespace

boost::asio::awaitable<void> close_gracefully(ClientStream& client)
{
    client.expires_after(linger_time);
    co_await client.close_notify();
    auto& stream = client.tcp(); // what follows a close_notify is not read, only drained
    boost::system::error_code ec;
    stream.socket().shutdown(boost::asio::socket_base::shutdown_send, ec);
    std::array<char, 4096> sink;
    std::size_t discarded = 0;
    stream.expires_after(linger_time);
    while (!ec && discarded < linger_bytes)
        discarded += co_await stream.async_read_some(boost::asio::buffer(sink),
                                                     boost::asio::redirect_error(boost::asio::use_awaitable, ec));
    stream.close();
}

} // namespace xo::gw
