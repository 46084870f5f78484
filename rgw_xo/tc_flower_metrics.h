// xo-gateway's series for hybrid steering's TC flower rules.
//
// Theory of operation: registered up front with the gateway's other series
// (fixed label sets). started() publishes once, at start, what the probe
// found (xo_tc_flower_capability{feature}: 1 present, 0 absent or not
// probed) and the mode in force (xo_tc_flower_mode{mode}: 1 for the one in
// force). observe() runs on the flow table sweeper's thread, every
// --flow-sweep-interval: the queue's depth now and at most, the rules in the
// kernel, and the requests by outcome since the last call (the steering
// counts totals; the counters here advance by the difference).
#pragma once

#include <array>
#include <optional>
#include <string_view>

#include "bpf/flower/tc_capabilities.h"
#include "common/metrics.h"
#include "common/steering/flower_mode.h"
#include "common/steering/hybrid_steering.h"

namespace xo::gw {

class TcFlowerMetrics {
public:
    explicit TcFlowerMetrics(metrics::Registry& registry);

    /** started() - the mode in force (off, software or hardware) and the probe's findings, if any. */
    void started(steering::FlowerMode mode, const std::optional<flower::TcCapabilities>& caps);

    /** observe() - the steering's statistics now; called from one thread. */
    void observe(const steering::HybridStats& stats);

private:
    static constexpr std::array<std::string_view, 5> features = {"cls_flower", "act_pedit", "act_csum", "act_mirred",
                                                                 "hw_tc_offload"};
    static constexpr std::array<std::string_view, 3> modes = {"off", "software", "hardware"};
    static constexpr std::array<std::string_view, 7> outcomes = {"queued", "inserted", "skipped",      "dropped",
                                                                 "failed", "removed",  "remove_failed"};

    std::array<metrics::Gauge*, features.size()> capability_{};
    std::array<metrics::Gauge*, modes.size()> mode_{};
    std::array<metrics::Counter*, outcomes.size()> requests_{};
    metrics::Gauge& queue_depth_;
    metrics::Gauge& queue_max_depth_;
    metrics::Gauge& rules_;
    steering::HybridStats last_;
};

} // namespace xo::gw
