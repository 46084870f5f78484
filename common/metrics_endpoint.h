// The metrics endpoint: a minimal HTTP/1.1 server for Prometheus scrapes of
// either daemon, on its own port (--metrics-listen).
//
// Theory of operation: one acceptor on an executor the caller chooses (the
// gateway uses worker 0's io_context, so no extra thread exists). Each
// connection gets one request: GET /metrics is answered 200 with the
// registry's text exposition, anything else 404; the connection is then
// closed. The request header is limited to 8 KiB and every connection to a
// few seconds in total, so a slow or hostile scraper costs one small
// coroutine for a bounded time and never touches S3 sessions. Out of
// descriptors, the accept loop backs off (accept_backoff.h).
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <string>

#include "common/accept_backoff.h"
#include "common/metrics.h"

namespace xo {

class MetricsEndpoint {
public:
    /** MetricsEndpoint() - serve @registry; @accept_backoffs (may be null) counts accept pauses. */
    MetricsEndpoint(const boost::asio::any_io_executor& executor, const metrics::Registry& registry,
                    metrics::Counter* accept_backoffs);

    /** listen() - bind @endpoint; false with @error on failure. */
    bool listen(const boost::asio::ip::tcp::endpoint& endpoint, std::string& error);

    /** start() - begin accepting scrapes (call before the executor runs). */
    void start();

    /** close() - from any thread: stop accepting; open scrapes end within their timeout. */
    void close();

private:
    boost::asio::awaitable<void> accept_loop();
    static boost::asio::awaitable<void> serve(boost::asio::ip::tcp::socket socket, const metrics::Registry& registry);

    boost::asio::ip::tcp::acceptor acceptor_;
    const metrics::Registry& registry_;
    AcceptBackoff backoff_;
};

} // namespace xo
