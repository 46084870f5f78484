// xo-gateway's Prometheus metrics: which series exist, and how one finished
// exchange updates them.
//
// Theory of operation: every series is registered up front in the constructor
// (methods and status classes are fixed lists, so cardinality is bounded and
// the request path never registers or looks anything up by string). Client
// sessions call record() once per exchange — the same place the access-log
// line is written — and open()/close() once per connection; each is a few
// relaxed atomic adds, lock-free across the workers' I/O threads.
//
// Offload outcomes: the offload path does not exist yet, so every GET whose
// response radosgw gave and the gateway relayed (access-log outcome
// "relayed") counts as xo_offload_total{outcome="relayed_ineligible"}: no GET
// can be offloaded today. GETs the gateway answered itself (503, 502) or that
// broke off are not offload candidates and are not counted there. "relayed_small", "offloaded" and
// "fallback" are registered at zero so dashboards can be written now, and
// xo_handoff_seconds stays empty until handoffs happen.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

#include "metrics.h"
#include "relay.h"

namespace xo::gw {

class GatewayMetrics {
public:
    /** GatewayMetrics() - register the gateway's series in @registry. */
    explicit GatewayMetrics(metrics::Registry& registry);

    /** record() - the exchange of a @method request (empty if unparsed) ended with @result. */
    void record(std::string_view method, const ExchangeResult& result);

    /** connection_opened() / connection_closed() - track open client connections. */
    void connection_opened() { connections_.add(1); }
    void connection_closed() { connections_.add(-1); }

    /** registry() - the registry these series live in, for the metrics endpoint. */
    const metrics::Registry& registry() const { return registry_; }

private:
    static constexpr std::array<std::string_view, 8> methods = {"GET",    "HEAD",    "PUT",  "POST",
                                                                "DELETE", "OPTIONS", "other", "none"};
    static constexpr std::array<std::string_view, 6> status_classes = {"1xx", "2xx", "3xx", "4xx", "5xx", "none"};

    const metrics::Registry& registry_;
    std::array<std::array<metrics::Counter*, status_classes.size()>, methods.size()> requests_{};
    metrics::Counter& received_body_bytes_;
    metrics::Counter& relayed_body_bytes_;
    metrics::Gauge& connections_;
    metrics::Counter& offload_relayed_ineligible_;
};

} // namespace xo::gw
