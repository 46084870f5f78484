// Theory of operation: the TC flower RuleBackend (rule_backend.h) on the
// gateway's public NIC, through one rtnetlink socket (libnl-3; no `tc`
// process). start() probes what the kernel and NIC offer (tc_capabilities.h),
// resolves the operator's mode (flower_mode.h) and, unless that is off,
// sweeps every filter a previous gateway left at our priority (one delete of
// the priority) and returns a backend. Each insert() is one flower filter
// (flower_filter.h) with a handle of its own, remembered per flow; remove()
// deletes it by handle (libnl-route's rtnl_cls_delete()).
//
// Kernel objects: the clsact qdisc is created when the NIC has none (XDP
// mode) and then deleted again by this object, which also deletes every
// filter at its priority on destruction, so a stopped gateway leaves no rule
// behind; a killed one's rules are swept by the next start. A rule swept at
// restart may belong to a transfer still running at a responder: the
// gateway's flow table keeps such flows' eBPF entries (unless the rule had
// replaced one, remove_ebpf_entry, a test setting).
//
// Called from HybridSteering's one worker thread; start() and the destructor
// from the owner's.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "steering/flower_mode.h"
#include "steering/netlink_socket.h"
#include "steering/rule_backend.h"
#include "steering/tc_capabilities.h"

namespace xo::steering {

class FlowerRules;

/** struct FlowerSetup - what start() found and decided. */
struct FlowerSetup {
    FlowerMode requested = FlowerMode::off;
    FlowerMode mode = FlowerMode::off;       ///< off, software or hardware
    std::optional<TcCapabilities> caps;      ///< none when the mode asked was off (nothing probed)
    std::unique_ptr<FlowerRules> rules;      ///< null when mode is off
};

class FlowerRules : public RuleBackend {
public:
    /** start() - probe @ifname, resolve @requested, sweep leftovers. */
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
    std::map<Flow, std::uint32_t, FlowOrder> handles_;
    std::uint32_t next_handle_ = 1;
};

} // namespace xo::steering
