// Theory of operation: the TC flower RuleBackend (common/steering/
// rule_backend.h) on the gateway's public NIC, through one rtnetlink socket
// (libnl-3; no `tc` process). start() sweeps every filter a previous gateway
// left at our priority (always, even when the mode asked is off: a leftover
// rule without its eBPF entry would steer a new connection on the same
// 4-tuple), probes what the kernel and NIC offer (tc_capabilities.h),
// resolves the operator's mode and, unless that is off, returns a backend.
// Each insert() is one flower filter (flower_filter.h) with a handle of its
// own, remembered per flow; remove() deletes it by handle (libnl-route's
// rtnl_cls_delete()).
//
// auto never stops a gateway: a probe that fails is logged and means off.
// An explicit software or hardware mode that cannot be had is an error.
//
// Kernel objects: the clsact qdisc is created when the NIC has none (XDP
// mode) and then deleted again by this object, which also deletes every
// filter at its priority on destruction, so a stopped gateway leaves no rule
// behind; a killed one's rules are swept by the next start (an empty clsact
// a killed gateway created stays: it cannot be told from another's).
//
// Called from HybridSteering's one worker thread; start() and the destructor
// from the owner's.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "bpf/flower/netlink_socket.h"
#include "bpf/flower/tc_capabilities.h"
#include "common/steering/flower_mode.h"
#include "common/steering/rule_backend.h"

namespace xo::flower {

using steering::Flow;
using steering::FlowerMode;
using steering::RedirectTarget;

class FlowerRules;

/** struct FlowerSetup - what start() found and decided. */
struct FlowerSetup {
    FlowerMode requested = FlowerMode::off;
    FlowerMode mode = FlowerMode::off;  ///< off, software or hardware
    std::optional<TcCapabilities> caps; ///< none when nothing was probed (off asked, or the probe failed)
    std::string why_off;                ///< when mode is off: the reason, for the log
    std::unique_ptr<FlowerRules> rules; ///< null when mode is off
};

class FlowerRules : public steering::RuleBackend {
public:
    /** start() - sweep leftovers on @ifname, probe it, resolve @requested. */
    static Result<FlowerSetup> start(const std::string& ifname, FlowerMode requested);

    ~FlowerRules() override;
    FlowerRules(const FlowerRules&) = delete;
    FlowerRules& operator=(const FlowerRules&) = delete;

    Result<void> insert(const Flow& flow, const RedirectTarget& to) override;
    Result<void> remove(const Flow& flow) override;

private:
    FlowerRules(NetlinkSocket sock, int ifindex, bool own_qdisc, bool skip_sw);

    NetlinkSocket sock_;
    int ifindex_;
    bool own_qdisc_;
    bool skip_sw_;
    std::map<Flow, std::uint32_t, steering::FlowOrder> handles_;
    std::uint32_t next_handle_ = 1;
};

} // namespace xo::flower
