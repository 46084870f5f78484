// The gateway process: one Worker per configured thread, and the main thread
// waiting for SIGTERM/SIGINT. The first signal drains every worker (stop
// accepting, finish in-flight requests, close idle connections) and waits up
// to the shutdown timeout; a second signal or the timeout stops what is left.
// SIGHUP reloads the HTTPS certificate and key (tls_certificates.h).
// With --metrics-listen, worker 0's io_context also serves Prometheus scrapes;
// draining closes that acceptor too. The workers share one ConnectionLimit of
// --max-connections (resolved before the server is made, see main.cc).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "access_log.h"
#include "connection_limit.h"
#include "gateway_config.h"
#include "gateway_metrics.h"
#include "metrics_endpoint.h"
#include "offload_service.h"
#include "tls_certificates.h"
#include "worker.h"

namespace xo::gw {

class Server {
public:
    /** Server() - workers for @config; @offload (null: off) and @certificates (null: no HTTPS) outlive the server. */
    Server(const GatewayConfig& config, AccessLog& access_log, GatewayMetrics& metrics, OffloadService* offload,
           TlsCertificates* certificates);

    /** listen() - bind every worker's acceptor and the metrics endpoint; false with @error on failure. */
    bool listen(std::string& error);

    /** run() - serve until signalled and drained. */
    void run();

private:
    const GatewayConfig& config_;
    TlsCertificates* certificates_;
    ConnectionLimit limit_;
    std::vector<std::unique_ptr<Worker>> workers_;
    std::unique_ptr<MetricsEndpoint> metrics_endpoint_; ///< null without --metrics-listen
    bool draining_ = false;
};

} // namespace xo::gw
