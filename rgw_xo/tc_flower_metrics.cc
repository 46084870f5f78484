#include "rgw_xo/tc_flower_metrics.h"

#include <string>

namespace xo::gw {

TcFlowerMetrics::TcFlowerMetrics(metrics::Registry& registry)
    : queue_depth_(registry.gauge("xo_tc_flower_queue_depth", "Rule inserts and removals waiting for the worker.")),
      queue_max_depth_(registry.gauge("xo_tc_flower_queue_max_depth", "The most rule jobs that ever waited.")),
      rules_(registry.gauge("xo_tc_flower_rules", "TC flower rules in the kernel now."))
{
    for (std::size_t i = 0; i < features.size(); ++i)
        capability_[i] = &registry.gauge("xo_tc_flower_capability",
                                         "What the start-up probe found: 1 present, 0 absent or not probed.",
                                         {{"feature", std::string(features[i])}});
    for (std::size_t i = 0; i < modes.size(); ++i)
        mode_[i] = &registry.gauge("xo_tc_flower_mode", "TC flower mode in force (1) after resolving --tc-flower.",
                                   {{"mode", std::string(modes[i])}});
    for (std::size_t i = 0; i < outcomes.size(); ++i)
        requests_[i] = &registry.counter("xo_tc_flower_requests_total",
                                         "Long flows' rule requests by outcome (dropped: the queue was full; "
                                         "failed: the kernel refused, the flow stayed on eBPF).",
                                         {{"outcome", std::string(outcomes[i])}});
    mode_[0]->set(1); // off until started() says otherwise
}

void TcFlowerMetrics::started(steering::FlowerMode mode, const std::optional<flower::TcCapabilities>& caps)
{
    for (std::size_t i = 0; i < modes.size(); ++i)
        mode_[i]->set(modes[i] == steering::to_string(mode) ? 1 : 0);
    if (!caps)
        return;
    const bool found[] = {caps->cls_flower, caps->act_pedit, caps->act_csum, caps->act_mirred, caps->hw_tc_offload};
    for (std::size_t i = 0; i < features.size(); ++i)
        capability_[i]->set(found[i] ? 1 : 0);
}

void TcFlowerMetrics::observe(const steering::HybridStats& stats)
{
    queue_depth_.set(static_cast<std::int64_t>(stats.queue_depth));
    queue_max_depth_.set(static_cast<std::int64_t>(stats.max_queue_depth));
    rules_.set(static_cast<std::int64_t>(stats.rules));
    const std::uint64_t now[] = {stats.queued, stats.inserted, stats.skipped,      stats.dropped,
                                 stats.failed, stats.removed,  stats.remove_failed};
    const std::uint64_t before[] = {last_.queued, last_.inserted, last_.skipped,      last_.dropped,
                                    last_.failed, last_.removed,  last_.remove_failed};
    for (std::size_t i = 0; i < outcomes.size(); ++i)
        requests_[i]->add(now[i] - before[i]);
    last_ = stats;
}

} // namespace xo::gw
