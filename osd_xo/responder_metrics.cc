#include "osd_xo/responder_metrics.h"

#include "common/accept_backoff.h"

namespace xo::rsp {

namespace {

constexpr const char* kOffers = "xo_responder_offers_total";
constexpr const char* kOffersHelp = "Handoff OFFERs by outcome.";

} // namespace

ResponderMetrics::ResponderMetrics(metrics::Registry& r)
    : served(r.counter(kOffers, kOffersHelp, {{"outcome", "served"}})),
      failed(r.counter(kOffers, kOffersHelp, {{"outcome", "failed"}})),
      unserved(r.counter(kOffers, kOffersHelp, {{"outcome", "unserved"}})),
      refused_bad_address(r.counter(kOffers, kOffersHelp, {{"outcome", "refused_bad_address"}})),
      refused_bad_ticket(r.counter(kOffers, kOffersHelp, {{"outcome", "refused_bad_ticket"}})),
      refused_replayed(r.counter(kOffers, kOffersHelp, {{"outcome", "refused_replayed"}})),
      refused_replay_cache_full(r.counter(kOffers, kOffersHelp, {{"outcome", "refused_replay_cache_full"}})),
      refused_unsupported(r.counter(kOffers, kOffersHelp, {{"outcome", "refused_unsupported"}})),
      refused_error(r.counter(kOffers, kOffersHelp, {{"outcome", "refused_error"}})),
      control_rejected(r.counter("xo_responder_control_rejected_total",
                                 "Control connections refused: no key of this responder's keyring proved, "
                                 "or a withdrawn one.")),
      sent_body_bytes(r.counter("xo_responder_sent_body_bytes_total", "Object bytes written to clients.")),
      stream_errors(r.counter("xo_responder_stream_errors_total", "Streams that failed after GO.")),
      connections(r.gauge("xo_responder_connections", "Client connections being served now.")),
      // Head reads hit the local OSD: sub-millisecond to the admission's deadline.
      head_read_seconds(r.histogram("xo_responder_head_read_seconds", "Admission head object read latency.",
                                    {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2})),
      stream_seconds(r.histogram("xo_responder_stream_seconds", "Time from GO to the last byte written.",
                                 {0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 60})),
      control_accept_backoffs(accept_backoff_counter(r, "control")),
      metrics_accept_backoffs(accept_backoff_counter(r, "metrics")),
      rewrite_entries(r.gauge("xo_responder_rewrite_entries", "Egress rewrite entries at the last sweep.")),
      rewrites_swept(r.counter("xo_responder_rewrites_swept_total",
                               "Egress rewrite entries of dead responders removed by the sweep.")),
      ktls_available(r.gauge("xo_responder_ktls_available",
                             "1 if the kernel offers kTLS; TLS records are sealed in user space either way."))
{
}

} // namespace xo::rsp
