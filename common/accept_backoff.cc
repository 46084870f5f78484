#include "common/accept_backoff.h"

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>

#include "common/log.h"

namespace xo {

AcceptBackoff::AcceptBackoff(const boost::asio::any_io_executor& executor, std::string listener,
                             metrics::Counter* pauses)
    : timer_(executor), listener_(std::move(listener)), pauses_(pauses)
{
}

bool AcceptBackoff::concerns_one_connection(const boost::system::error_code& ec)
{
    if (ec.category() != boost::system::system_category())
        return false;
    switch (ec.value()) {
    case ECONNABORTED:
    case EPERM: // a firewall rule refused this connection
    case EAGAIN:
    case EINTR:
    // Errors of the new connection that accept(2) passes on (its man page: retry).
    case EPROTO:
    case ENOPROTOOPT:
    case ENETDOWN:
    case ENETUNREACH:
    case EHOSTDOWN:
    case EHOSTUNREACH:
    case ENONET:
    case EOPNOTSUPP:
        return true;
    default:
        return false;
    }
}

boost::asio::awaitable<void> AcceptBackoff::after_failure(boost::system::error_code ec)
{
    if (concerns_one_connection(ec)) {
        log::debug(listener_, ": accept failed: ", ec.message());
        co_return;
    }
    if (streak_++ == 0)
        log::warn(listener_, ": accept failed: ", ec.message(), "; pausing accepts from ", first_pause.count(),
                  " ms, up to ", longest_pause.count(), " ms, until one succeeds");
    if (pauses_)
        pauses_->add();
    timer_.expires_after(pause_);
    pause_ = std::min(pause_ * 2, longest_pause);
    boost::system::error_code ignored;
    co_await timer_.async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, ignored));
}

metrics::Counter& accept_backoff_counter(metrics::Registry& registry, const std::string& listener)
{
    return registry.counter("xo_accept_backoff_total",
                            "Pauses of an accept loop after a failed accept (out of descriptors or memory).",
                            {{"listener", listener}});
}

void AcceptBackoff::accepted()
{
    if (streak_ == 0)
        return;
    log::info(listener_, ": accepting again after ", streak_, " failed accepts");
    streak_ = 0;
    pause_ = first_pause;
}

} // namespace xo
