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

#include "rgw_xo/access_log.h"
#include "rgw_xo/connection_limit.h"
#include "rgw_xo/gateway_config.h"
#include "rgw_xo/gateway_metrics.h"
#include "common/metrics_endpoint.h"
#include "rgw_xo/offload_service.h"
#include "rgw_xo/tls_certificates.h"
#include "rgw_xo/worker.h"

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
