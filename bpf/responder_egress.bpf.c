// SPDX-License-Identifier: GPL-2.0
/*
 * Theory of operation: direct server return on the responder host.
 *
 * A connection restored by xo-responder is bound to the responder's own
 * address and a shifted port (own IP:port'), while the client believes it
 * talks to the gateway's public VIP:port. This clsact egress program gives
 * every outgoing packet of such a connection the VIP:port as source, so the
 * responder answers the client directly. The table is keyed by the packet's
 * own direction (own IP, port', client IP, client port); xo-responder inserts
 * the entry before it leaves TCP repair mode (the first packet after repair —
 * a window probe — must already carry the VIP). Other packets go out untouched.
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

#include "bpf/flow_maps.h"
#include "bpf/packet_parsing.h"
#include "bpf/tc_helpers.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, XO_DEFAULT_MAX_FLOWS);
	__type(key, struct xo_flow_key);
	__type(value, struct xo_rewrite_entry);
} xo_rsp_rewrites SEC(".maps");

/**
 * xo_rsp_egress() - clsact egress entry: rewrite the source of restored flows.
 * @skb: the outgoing packet.
 *
 * Return: TC_ACT_OK, or TC_ACT_SHOT if a rewrite failed half-way.
 */
SEC("tc")
int xo_rsp_egress(struct __sk_buff *skb)
{
	struct xo_rewrite_entry *entry;
	struct xo_packet pkt;
	__u32 saddr_off;

	if (xo_tc_parse(skb, &pkt))
		return TC_ACT_OK;
	entry = bpf_map_lookup_elem(&xo_rsp_rewrites, &pkt.key);
	if (!entry)
		return TC_ACT_OK;
	__sync_fetch_and_add(&entry->packets, 1);
	__sync_fetch_and_add(&entry->bytes, skb->len);

	saddr_off = pkt.key.family == XO_FAMILY_IPV4 ? XO_IP4_SADDR_OFF : XO_IP6_SADDR_OFF;
	if (xo_tc_rewrite_addr(skb, &pkt, saddr_off, pkt.key.saddr, entry->new_saddr))
		return TC_ACT_SHOT;
	if (xo_tc_rewrite_port(skb, &pkt, __builtin_offsetof(struct tcphdr, source),
			       pkt.key.sport, entry->new_sport))
		return TC_ACT_SHOT;
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "GPL";
