// Theory of operation: an accept that fails because the process or the
// system is out of descriptors or memory (EMFILE, ENFILE, ENOBUFS, ENOMEM)
// fails again at once — the connection stays in the listen backlog — so an
// accept loop that simply retries spins a core while the connections it
// already has starve. AcceptBackoff paces such a loop: the first shortage
// pauses it 100 ms, each further one twice as long up to 1.6 s, and the next
// accept that succeeds ends the streak; meanwhile new connections wait in the
// kernel's backlog (which refuses them once full). Failures that concern
// only the connection being accepted (reset before we took it, a network
// error accept(2) passes on, a firewall's EPERM) are retried at once; any
// other failure is paced like a shortage, so no error can make a loop spin.
// Each pause is counted in the daemon's xo_accept_backoff_total{listener}
// and a streak is logged once when it starts and once when it ends. The
// pause is a timer on the loop's own executor: nothing else waits, and
// cancel() cuts it short when the listener closes.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/system/error_code.hpp>

#include <chrono>
#include <cstdint>
#include <string>

#include "common/metrics.h"

namespace xo {

class AcceptBackoff {
public:
    static constexpr std::chrono::milliseconds first_pause{100};
    static constexpr std::chrono::milliseconds longest_pause{1600};

    /**
     * AcceptBackoff() - pacing for the accept loop of @listener (a name for logs).
     * @pauses: counts every pause; may be null.
     */
    AcceptBackoff(const boost::asio::any_io_executor& executor, std::string listener, metrics::Counter* pauses);

    /** concerns_one_connection() - whether @ec is about the accepted connection only (retry at once). */
    static bool concerns_one_connection(const boost::system::error_code& ec);

    /** after_failure() - an accept failed with @ec: pause unless it concerned one connection. */
    boost::asio::awaitable<void> after_failure(boost::system::error_code ec);

    /** accepted() - an accept succeeded: the streak, if any, is over. */
    void accepted();

    /** cancel() - end a pause now (the listener is closing). */
    void cancel() { timer_.cancel(); }

    /** next_pause() - how long the next shortage would pause. */
    std::chrono::milliseconds next_pause() const { return pause_; }

private:
    boost::asio::steady_timer timer_;
    std::string listener_;
    metrics::Counter* pauses_;
    std::chrono::milliseconds pause_ = first_pause;
    std::uint64_t streak_ = 0; ///< pauses since the last successful accept
};

/** accept_backoff_counter() - the series xo_accept_backoff_total{listener=@listener} in @registry. */
metrics::Counter& accept_backoff_counter(metrics::Registry& registry, const std::string& listener);

} // namespace xo
