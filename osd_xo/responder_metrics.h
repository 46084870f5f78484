// Theory of operation: xo-responder's Prometheus series, registered once at
// startup (common/metrics.h), updated lock-free from the io_context thread
// and scraped through --metrics-listen. Names are part of the interface
// (dashboards, tests); keep them stable:
//
//   xo_responder_offers_total{outcome}    OFFERs by what became of them:
//       refused_bad_address (the engine: a client or public address the
//       responder may not use, host_addresses.h), refused_bad_ticket,
//       refused_replayed (a ticket used before), refused_replay_cache_full,
//       refused_unsupported, refused_error (admission),
//       served, failed (the application, after GO), unserved (failed
//       before its first byte: the connection goes back for the gateway
//       to relay). Busy refusals happen in
//       the handoff engine before admission and are not counted here; an
//       admitted offer the gateway then abandons counts in no outcome.
//   xo_responder_sent_body_bytes_total    object bytes written to clients, as written
//       (HTTPS: the plaintext of each batch of records once it is written)
//   xo_responder_stream_errors_total      streams that ended with an error after GO
//   xo_responder_connections              connections the application is serving now
//   xo_responder_head_read_seconds        admission's head read (xattrs + stat + first bytes)
//   xo_responder_stream_seconds           from GO to the last byte written
//   xo_accept_backoff_total{listener}     pauses of the control and metrics
//       accept loops after a failed accept (accept_backoff.h)
//   xo_responder_control_rejected_total   control connections refused: the peer
//       proved no key of this responder's keyring, or a rotation withdrew its key
//   xo_responder_rewrite_entries          egress rewrite entries at the last sweep
//   xo_responder_rewrites_swept_total     rewrite entries of dead responders removed
//   xo_responder_ktls_available           1 if the kernel offers kTLS (ktls_probe.h); records
//       are sealed in user space either way
#pragma once

#include "common/metrics.h"

namespace xo::rsp {

struct ResponderMetrics {
    explicit ResponderMetrics(metrics::Registry& registry);

    metrics::Counter& served;
    metrics::Counter& failed;
    metrics::Counter& unserved;
    metrics::Counter& refused_bad_address;
    metrics::Counter& refused_bad_ticket;
    metrics::Counter& refused_replayed;
    metrics::Counter& refused_replay_cache_full;
    metrics::Counter& refused_unsupported;
    metrics::Counter& refused_error;
    metrics::Counter& control_rejected;
    metrics::Counter& sent_body_bytes;
    metrics::Counter& stream_errors;
    metrics::Gauge& connections;
    metrics::Histogram& head_read_seconds;
    metrics::Histogram& stream_seconds;
    metrics::Counter& control_accept_backoffs;
    metrics::Counter& metrics_accept_backoffs;
    metrics::Gauge& rewrite_entries;
    metrics::Counter& rewrites_swept;
    metrics::Gauge& ktls_available;
};

} // namespace xo::rsp
