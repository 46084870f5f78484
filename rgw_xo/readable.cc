#include "rgw_xo/readable.h"

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <memory>

namespace xo::gw {

boost::asio::awaitable<boost::system::error_code> readable_within(boost::asio::ip::tcp::socket& socket,
                                                                  std::chrono::steady_clock::duration timeout)
{
    struct Race {
        bool over = false;      ///< the wait ended: the timer must not touch the socket
        bool timed_out = false;
    };
    auto race = std::make_shared<Race>();
    boost::asio::steady_timer timer(socket.get_executor(), timeout);
    timer.async_wait([race, &socket](boost::system::error_code ec) {
        if (ec || race->over)
            return;
        race->timed_out = true;
        boost::system::error_code ignored;
        socket.cancel(ignored);
    });
    boost::system::error_code ec;
    co_await socket.async_wait(boost::asio::socket_base::wait_read,
                               boost::asio::redirect_error(boost::asio::use_awaitable, ec));
    race->over = true;
    timer.cancel();
    if (race->timed_out)
        co_return boost::asio::error::timed_out;
    co_return ec;
}

} // namespace xo::gw
