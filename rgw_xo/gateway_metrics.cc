#include "rgw_xo/gateway_metrics.h"

#include "common/accept_backoff.h"

#include <string>

namespace xo::gw {

namespace {

// Handoff latency buckets, seconds: sub-millisecond to a few seconds.
const std::vector<double> handoff_buckets = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                             0.01,   0.025,   0.05,   0.1,   0.25,   0.5, 1, 2.5};

/* method_index() - @method's row in methods; unknown ones are "other", unparsed "none". */
template <std::size_t N>
std::size_t method_index(const std::array<std::string_view, N>& methods, std::string_view method)
{
    if (method.empty())
        return N - 1;
    for (std::size_t i = 0; i + 2 < N; ++i) {
        if (methods[i] == method)
            return i;
    }
    return N - 2;
}

/* status_index() - 1xx..5xx as 0..4; no response (or nonsense) as the last, "none". */
std::size_t status_index(unsigned status, std::size_t none)
{
    return status >= 100 && status < 600 ? status / 100 - 1 : none;
}

// Reasons a GET stays relayed (object_get.h, Relay::shape_response) or falls back (GetOffload).
constexpr std::string_view ineligible_reasons[] = {"disabled", "not_object", "subresource", "if_range",
                                                    "bad_escape", "response", "other"};
constexpr std::string_view fallback_reasons[] = {"locate", "no_responder", "ticket_key", "socket", "flow_table_full",
                                                  "handoff", "refused_busy", "refused_bad_ticket", "refused_unsupported",
                                                  "refused_bad_address", "refused_replayed", "refused_other",
                                                  "bad_ready", "late_go", "unserved", "tls_state", "other"};

constexpr const char* swept_help = "Flow table entries no live gateway owned, removed by the sweep.";

} // namespace

GatewayMetrics::GatewayMetrics(metrics::Registry& registry)
    : registry_(registry),
      received_body_bytes_(registry.counter("xo_gateway_received_body_bytes_total",
                                            "Request body bytes the gateway read from clients.")),
      relayed_body_bytes_(registry.counter("xo_gateway_relayed_body_bytes_total",
                                           "Response body bytes the gateway sent to clients.")),
      connections_(registry.gauge("xo_gateway_connections", "Open client connections.")),
      max_connections_(registry.gauge("xo_gateway_max_connections", "Client connections served at once at most.")),
      refused_connections_(registry.counter("xo_gateway_refused_connections_total",
                                            "Client connections refused (503 SlowDown) at the connection limit.")),
      tls_handshake_failures_(registry.counter("xo_gateway_tls_handshake_failures_total",
                                               "HTTPS connections that failed or timed out in the TLS handshake.")),
      s3_accept_backoffs_(accept_backoff_counter(registry, "s3")),
      metrics_accept_backoffs_(accept_backoff_counter(registry, "metrics")),
      handoff_seconds_(registry.histogram("xo_handoff_seconds",
                                          "Time to hand a client connection to a responder, block to GO.",
                                          handoff_buckets)),
      flow_entries_(registry.gauge("xo_flow_table_entries", "Entries in the gateway's flow table at the last sweep.")),
      flow_orphans_(registry.gauge("xo_flow_table_orphans",
                                   "REDIRECT entries of a dead gateway kept while their transfer moves.")),
      swept_dead_blocks_(registry.counter("xo_flow_table_swept_total", swept_help, {{"reason", "dead_block"}})),
      swept_idle_orphans_(registry.counter("xo_flow_table_swept_total", swept_help, {{"reason", "idle_orphan"}})),
      tc_flower_(registry)
{
    const char* step_help = "Time of each step of a handoff on the gateway: block the flow, save the TCP (and TLS) "
                            "state, the control round trip (OFFER to READY), redirect the flow, close the socket.";
    const char* steps[] = {"block", "save", "rpc", "redirect", "close"};
    for (std::size_t i = 0; i < handoff_steps_.size(); ++i)
        handoff_steps_[i] = &registry.histogram("xo_handoff_step_seconds", step_help, handoff_buckets,
                                                {{"step", steps[i]}});
    const char* help = "GET responses (2xx) by how their body reached the client.";
    auto add = [&](OffloadOutcome outcome, std::string_view label, std::string_view reason) {
        metrics::Labels labels{{"outcome", std::string(label)}};
        if (!reason.empty())
            labels.push_back({"reason", std::string(reason)});
        offload_series_.push_back({outcome, reason, &registry.counter("xo_offload_total", help, labels)});
    };
    add(OffloadOutcome::offloaded, "offloaded", "");
    add(OffloadOutcome::relayed_small, "relayed_small", "");
    for (std::string_view reason : ineligible_reasons)
        add(OffloadOutcome::relayed_ineligible, "relayed_ineligible", reason);
    for (std::string_view reason : fallback_reasons)
        add(OffloadOutcome::fallback, "fallback", reason);
    add(OffloadOutcome::lost, "lost", "");
    for (std::size_t m = 0; m < methods.size(); ++m) {
        for (std::size_t s = 0; s < status_classes.size(); ++s) {
            requests_[m][s] = &registry.counter(
                "xo_gateway_requests_total", "Client requests answered, by method and status class.",
                {{"method", std::string(methods[m])}, {"status_class", std::string(status_classes[s])}});
        }
    }
}

void GatewayMetrics::record(std::string_view method, const ExchangeResult& result)
{
    const std::size_t m = method_index(methods, method);
    requests_[m][status_index(result.status, status_classes.size() - 1)]->add();
    received_body_bytes_.add(result.bytes_in);
    relayed_body_bytes_.add(result.bytes_out);
    if (auto* counter = offload_counter(result.offload.outcome, result.offload.reason))
        counter->add();
    if (const auto& t = result.offload.handoff) {
        auto seconds = [](Clock::duration d) { return std::chrono::duration<double>(d).count(); };
        handoff_seconds_.observe(seconds(t->total));
        const Clock::duration steps[] = {t->block, t->save, t->rpc, t->redirect, t->close};
        for (std::size_t i = 0; i < handoff_steps_.size(); ++i)
            handoff_steps_[i]->observe(seconds(steps[i]));
    }
}

void GatewayMetrics::flow_table_swept(const bpf::FlowSweep& sweep)
{
    flow_entries_.set(static_cast<std::int64_t>(sweep.entries));
    flow_orphans_.set(static_cast<std::int64_t>(sweep.orphans));
    swept_dead_blocks_.add(sweep.dead_blocks);
    swept_idle_orphans_.add(sweep.idle_orphans);
}

metrics::Counter* GatewayMetrics::offload_counter(OffloadOutcome outcome, std::string_view reason)
{
    if (outcome == OffloadOutcome::none)
        return nullptr;
    const bool has_reason = outcome == OffloadOutcome::relayed_ineligible || outcome == OffloadOutcome::fallback;
    metrics::Counter* other = nullptr;
    for (auto& series : offload_series_) {
        if (series.outcome != outcome)
            continue;
        if (!has_reason || series.reason == reason)
            return series.counter;
        if (series.reason == "other")
            other = series.counter;
    }
    return other;
}

} // namespace xo::gw
