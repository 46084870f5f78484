// Theory of operation: the TC flower filter that steers one redirected flow
// the way gateway_ingress.bpf.c's REDIRECT does, as an rtnetlink message.
//
//   match   on the NIC's clsact ingress: TCP, the client → gateway 4-tuple
//           (source and destination address and port, exact)
//   pedit   Ethernet destination := the responder's (or next hop's) MAC,
//           Ethernet source := the gateway NIC's own MAC, IP destination :=
//           the responder's address, TCP destination port := the restored
//           socket's port — the four fields the eBPF program rewrites
//   csum    IPv4 header and TCP checksums recomputed (the eBPF program
//           updates them incrementally; here they are recomputed whole)
//   mirred  egress redirect to the same NIC (the eBPF program's
//           bpf_redirect(ifindex, 0))
//
// Where the TCP port is, depends on who executes the rule. The kernel's
// pedit finds a TCP header type key through the skb's transport header,
// which at ingress still points at the IP header, so software rules rewrite
// the port at a fixed offset behind the IP header instead (20 bytes for
// IPv4, 40 for IPv6; a client packet with IPv4 options or IPv6 extension
// headers would be rewritten at the wrong place, and TCP clients do not send
// those mid-connection). A NIC parses the packet itself and its driver
// accepts pedit keys only on header fields it knows, so hardware rules use
// the TCP header type, offset 0.
//
// libnl 3.7 builds neither pedit nor csum actions (and its flower lacks TCP
// ports), so the filter is assembled with libnl's own nlmsg/nla calls and
// sent on the one rtnetlink socket; deleting one is libnl-route's
// rtnl_cls_delete() (flower_rules.cc). Every filter of ours sits at one
// priority on the hook, behind the eBPF program's (tc_attach.cc), with
// protocol "all" (the kernel wants one protocol per priority), so deleting
// that priority deletes them all (a restart's sweep).
#pragma once

#include <cstdint>
#include <vector>

#include "bpf/flower/netlink_socket.h"
#include "common/steering/rule_backend.h"

namespace xo::flower {

using steering::Flow;
using steering::RedirectTarget;

/** Our priority on clsact ingress: right behind the eBPF program's 0x7830. */
inline constexpr std::uint16_t flower_priority = 0x7831;

/** struct FilterSlot - where one filter lives. */
struct FilterSlot {
    int ifindex = 0;
    std::uint32_t handle = 0;
};

/** enum class PeditBase - what a pedit key's offset counts from (TCA_PEDIT_KEY_EX_HDR_TYPE_*). */
enum class PeditBase : std::uint16_t { ethernet = 1, ipv4 = 2, ipv6 = 3, tcp = 4 };

/** struct PeditKey - set the 32-bit word at @offset to (word & @mask) ^ @value (bytes in wire order). */
struct PeditKey {
    PeditBase base = PeditBase::ethernet;
    std::uint32_t offset = 0;
    std::uint32_t mask = 0;  ///< bits kept, as the word's bytes in memory
    std::uint32_t value = 0; ///< bits set, as the word's bytes in memory
};

/** redirect_rewrite() - the pedit keys that turn @flow's packets towards @to; @hardware: for a NIC. */
std::vector<PeditKey> redirect_rewrite(const Flow& flow, const RedirectTarget& to, bool hardware);

/**
 * flower_filter_message() - RTM_NEWTFILTER creating @slot's filter for @flow.
 * @skip_sw: the NIC alone executes it (hardware mode); else the kernel alone.
 *
 * Return: the message, or an error (a flow mixing IPv4 and IPv6).
 */
Result<NlMsg> flower_filter_message(const FilterSlot& slot, const Flow& flow, const RedirectTarget& to, bool skip_sw);

} // namespace xo::flower
