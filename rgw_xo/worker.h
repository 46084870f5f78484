// One I/O thread of the gateway: an io_context run by exactly one thread, its
// own SO_REUSEPORT acceptors on the public endpoints — HTTP, and HTTPS when
// configured (the kernel spreads new connections across workers) — and the
// client sessions it accepted. Nothing
// here is shared between threads except the config, the access log and the
// metrics (lock-free atomics) and the connection limit (one atomic count), so sessions need no locks; the only
// cross-thread call is drain(), which is posted onto the worker's own thread. A connection beyond the limit is
// answered 503 SlowDown and closed (connection_limit.h; an HTTPS one is just
// closed, as a 503 would first cost a handshake); out of descriptors, the accept loop pauses
// (accept_backoff.h).
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_set>

#include "common/accept_backoff.h"
#include "rgw_xo/access_log.h"
#include "rgw_xo/connection_limit.h"
#include "rgw_xo/gateway_config.h"
#include "rgw_xo/gateway_metrics.h"
#include "rgw_xo/get_offload.h"
#include "rgw_xo/tls_certificates.h"

namespace xo::gw {

class ClientSession;

class Worker {
public:
    /**
     * Worker() - worker @index; @limit, @offload (null: off) and @certificates
     * (null: no HTTPS) are shared by all workers.
     */
    Worker(const GatewayConfig& config, AccessLog& access_log, GatewayMetrics& metrics, ConnectionLimit& limit,
           unsigned index, OffloadService* offload, const TlsCertificates* certificates);

    /** listen() - bind this worker's acceptor; false with @error on failure. */
    bool listen(std::string& error);

    /** run() - serve until drained and every session has ended (thread body). */
    void run();

    /** drain() - from any thread: stop accepting, close idle connections,
     * let in-flight requests finish and close their connections after. */
    void drain();

    /** stop() - from any thread: abandon whatever is still running. */
    void stop();

    const GatewayConfig& config() const { return config_; }
    AccessLog& access_log() { return access_log_; }
    GatewayMetrics& metrics() { return metrics_; }
    /** offload() - this worker's offload path, or null when offload is off. */
    GetOffload* offload() { return offload_.get(); }
    boost::asio::any_io_executor executor() { return ioc_.get_executor(); }
    const bool& draining() const { return draining_; }

    /** next_request_id() - an id unique across workers and restarts. */
    std::string next_request_id();

    void attach(ClientSession* s) { sessions_.insert(s); }
    void detach(ClientSession* s)
    {
        sessions_.erase(s);
        close_links_when_drained();
    }

private:
    /** accept_loop() - accept on @acceptor; @tls: its connections start with a TLS handshake. */
    boost::asio::awaitable<void> accept_loop(boost::asio::ip::tcp::acceptor& acceptor, AcceptBackoff& backoff,
                                             bool tls);
    void refuse(boost::asio::ip::tcp::socket socket, bool tls);
    boost::asio::awaitable<void> answer_busy(boost::asio::ip::tcp::socket socket);

    const GatewayConfig& config_;
    AccessLog& access_log_;
    GatewayMetrics& metrics_;
    ConnectionLimit& limit_;
    unsigned index_;
    boost::asio::io_context ioc_{1};
    boost::asio::ip::tcp::acceptor acceptor_;
    AcceptBackoff backoff_;
    const TlsCertificates* certificates_;
    boost::asio::ip::tcp::acceptor tls_acceptor_;
    AcceptBackoff tls_backoff_;
    std::size_t refusing_ = 0; ///< refused connections being answered
    bool draining_ = false;
    std::unordered_set<ClientSession*> sessions_;

    /** close_links_when_drained() - draining and no session left: the responder links go too. */
    void close_links_when_drained()
    {
        if (draining_ && sessions_.empty() && offload_)
            offload_->close_links();
    }
    std::unique_ptr<GetOffload> offload_; ///< its responder links live on this worker's io_context
    std::string id_prefix_;
    std::uint64_t id_counter_ = 0;
};

} // namespace xo::gw
