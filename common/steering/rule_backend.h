// Theory of operation: a second, slower way to steer one redirected flow — a
// rule that matches the flow's packets and rewrites them towards the
// responder exactly as the eBPF table's REDIRECT does, but lives where a NIC
// can execute it (the TC flower backend, bpf/flower/flower_rules.h).
// Installing one takes milliseconds and may fail, so HybridSteering calls a
// backend only from its own worker thread, one call at a time, never on the
// handoff's path. A backend keeps no promise beyond the call: insert()
// returns once the rule is in the kernel (confirmed), remove() once it is gone.
#pragma once

#include <tuple>

#include "common/handoff/steering.h"
#include "common/result.h"

namespace xo::steering {

using handoff::Flow;
using handoff::RedirectTarget;

/** struct FlowOrder - a strict order on flows, for maps keyed by flow. */
struct FlowOrder {
    bool operator()(const Flow& a, const Flow& b) const { return std::tie(a.src, a.dst) < std::tie(b.src, b.dst); }
};

class RuleBackend {
public:
    virtual ~RuleBackend() = default;
    /** insert() - steer @flow's packets to @to by a rule of this backend; EEXIST if it has one. */
    virtual Result<void> insert(const Flow& flow, const RedirectTarget& to) = 0;
    /** remove() - delete @flow's rule; ENOENT if it has none. */
    virtual Result<void> remove(const Flow& flow) = 0;
};

} // namespace xo::steering
