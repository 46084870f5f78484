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
// Offload outcomes: every GET that radosgw answered 2xx counts once in
// xo_offload_total{outcome, reason}: offloaded, relayed_small (the body fit
// in what the gateway relays first), relayed_ineligible (reason: offload
// disabled, a subresource, an If-Range, a response without a usable range),
// fallback (reason: the handoff did not happen and the gateway relayed the
// rest — locate, no_responder, refused_*, handoff, flow_table_full (the
// flow table is full); late_go: the responder gave up waiting for GO and
// the gateway resumed from its own state; unserved: the responder failed
// before its first byte and gave the connection back) and lost (the
// connection failed after the handoff). Reasons are fixed lists, registered
// up front.
//
// Limits: xo_gateway_max_connections is the limit in force,
// xo_gateway_refused_connections_total counts connections answered 503
// SlowDown (or closed, beyond the refusals a worker answers at a time) at
// that limit, and xo_accept_backoff_total{listener="s3"|"metrics"} the
// accept loops' pauses when descriptors run out (accept_backoff.h).
//
// The flow table's sweep (OffloadService, every --flow-sweep-interval)
// reports the table's size, the entries of a previous gateway it keeps for
// transfers still running at a responder, and what it removed; the TC flower
// rules of hybrid steering have series of their own (tc_flower_metrics.h).
#pragma once

#include <array>
#include <cstdint>
#include <string_view>
#include <vector>

#include "bpf/flow_table.h"
#include "common/metrics.h"
#include "rgw_xo/tc_flower_metrics.h"
#include "rgw_xo/relay.h"

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
    /** connection_refused() - a connection beyond the limit was refused. */
    void connection_refused() { refused_connections_.add(); }
    /** tls_handshake_failed() - an HTTPS connection ended in (or timed out during) its handshake. */
    void tls_handshake_failed() { tls_handshake_failures_.add(); }
    /** set_max_connections() - publish the limit in force (once, at start). */
    void set_max_connections(std::size_t max) { max_connections_.add(static_cast<std::int64_t>(max)); }

    metrics::Counter& s3_accept_backoffs() { return s3_accept_backoffs_; }
    metrics::Counter& metrics_accept_backoffs() { return metrics_accept_backoffs_; }

    /** flow_table_swept() - a sweep of the flow table ended with @sweep; lock-free. */
    void flow_table_swept(const bpf::FlowSweep& sweep);

    /** tc_flower() - the TC flower rules' series. */
    TcFlowerMetrics& tc_flower() { return tc_flower_; }

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
    metrics::Gauge& max_connections_;
    metrics::Counter& refused_connections_;
    metrics::Counter& tls_handshake_failures_;
    metrics::Counter& s3_accept_backoffs_;
    metrics::Counter& metrics_accept_backoffs_;
    metrics::Counter* offload_counter(OffloadOutcome outcome, std::string_view reason);

    struct OffloadSeries {
        OffloadOutcome outcome;
        std::string_view reason;
        metrics::Counter* counter;
    };
    std::vector<OffloadSeries> offload_series_;
    metrics::Histogram& handoff_seconds_;
    /// block, save, rpc, redirect, close: HandoffTimes' steps, in order
    std::array<metrics::Histogram*, 5> handoff_steps_{};
    metrics::Gauge& flow_entries_;
    metrics::Gauge& flow_orphans_;
    metrics::Counter& swept_dead_blocks_;
    metrics::Counter& swept_idle_orphans_;
    TcFlowerMetrics tc_flower_;
};

} // namespace xo::gw
