// Theory of operation: what this kernel and NIC offer the TC flower backend,
// found out at start without changing anything that stays.
//
//   cls_flower   RTM_NEWTFILTER of kind "flower" at our priority without
//                options: the kernel looks the classifier up (loading its
//                module where it has modules) before it reads the options, so
//                ENOENT means "no such classifier" and EINVAL "present,
//                options missing"; nothing is created either way
//   act_pedit,   RTM_NEWACTION of that kind without options: ENOENT "no such
//   act_csum,    action" (after the module load was tried), EINVAL present;
//   act_mirred   nothing is created
//   hw-tc-offload the NIC's ethtool feature (ETHTOOL_GFEATURES, found by name
//                in the ETH_SS_FEATURES strings): the NIC can execute flower
//                rules itself
//
// Probing the classifier needs the clsact qdisc on the NIC; the caller
// (FlowerRules) creates it first when missing.
//
// resolve_flower_mode() turns the operator's choice into what runs: auto
// becomes hardware where the NIC reports hw-tc-offload, software where the
// kernel has every piece, off otherwise; an explicit software or hardware
// choice the kernel or NIC cannot honour is an error at start, never a
// silent downgrade.
#pragma once

#include <string>

#include "bpf/flower/netlink_socket.h"
#include "common/result.h"
#include "common/steering/flower_mode.h"

namespace xo::flower {

/** struct TcCapabilities - the probe's findings. */
struct TcCapabilities {
    bool cls_flower = false;
    bool act_pedit = false;
    bool act_csum = false;
    bool act_mirred = false;
    bool hw_tc_offload = false;

    /** rules() - can flower redirect rules be installed at all (in software)? */
    bool rules() const { return cls_flower && act_pedit && act_csum && act_mirred; }
    /** missing() - the kernel features absent, e.g. "cls_flower act_pedit"; empty if none. */
    std::string missing() const;
    /** describe() - one line for the log: "cls_flower=no act_pedit=no ... hw-tc-offload=no". */
    std::string describe() const;
};

/** probe_tc() - probe @ifname (index @ifindex, with a clsact qdisc) over @sock. */
Result<TcCapabilities> probe_tc(NetlinkSocket& sock, int ifindex, const std::string& ifname);

/** resolve_flower_mode() - off, software or hardware: what @requested means given @caps. */
Result<steering::FlowerMode> resolve_flower_mode(steering::FlowerMode requested, const TcCapabilities& caps);

/** nic_has_hw_tc_offload() - is @ifname's ethtool feature hw-tc-offload on? */
Result<bool> nic_has_hw_tc_offload(const std::string& ifname);

} // namespace xo::flower
