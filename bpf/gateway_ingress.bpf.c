// SPDX-License-Identifier: GPL-2.0
/*
 * Theory of operation: the gateway's per-flow data plane on its public NIC.
 *
 * While xo-gateway moves a client connection to a responder it first BLOCKs
 * the flow (client → VIP packets are dropped; the client retransmits them
 * later), then swaps the entry to REDIRECT: every client packet gets the
 * responder's MAC, IP and port as destination and the NIC's own MAC as source
 * and leaves through the NIC it arrived on. Everything without an entry —
 * other flows, non-TCP traffic, packets we cannot parse — passes untouched
 * to the normal stack.
 *
 * Every hit records progress for the sweep (flow_maps.h): when the client's
 * acknowledgment number moves, the responder's data is getting through, and
 * the entry's progress time is refreshed. An entry whose owner has died
 * (XO_OWNER_GONE) is taken out by the client's SYN: a new connection on the
 * same 4-tuple means the old one is over for the client, and its packets
 * must reach this host's stack, not a responder that may be gone too.
 *
 * The same decision code is built into two programs: xo_gw_xdp (native XDP,
 * rewrites in place with RFC 1624 arithmetic and returns XDP_TX) and xo_gw_tc
 * (clsact ingress, for devices without native XDP; rewrites through kernel
 * checksum helpers and bpf_redirect()s to the ingress device's egress). User
 * space attaches one of them; both share the flow table. In TC a packet
 * without an entry goes on to the next filter (TC_ACT_UNSPEC, which ends as
 * "pass" when there is none): the TC flower rules of hybrid steering
 * (steering/) sit behind this program, so an entry always wins over a rule.
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

#include "bpf/csum_helpers.h"
#include "bpf/flow_maps.h"
#include "bpf/packet_parsing.h"
#include "bpf/tc_helpers.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, XO_DEFAULT_MAX_FLOWS);
	__type(key, struct xo_flow_key);
	__type(value, struct xo_flow_entry);
} xo_gw_flows SEC(".maps");

/**
 * xo_gw_lookup() - find the flow entry of a parsed packet and count the packet.
 * @pkt: the parsed packet.
 * @len: frame length to add to the byte counter.
 *
 * Return: the entry if it holds a known action, else NULL (pass the packet).
 */
static __always_inline struct xo_flow_entry *xo_gw_lookup(struct xo_packet *pkt, __u64 len)
{
	struct xo_flow_entry *entry = bpf_map_lookup_elem(&xo_gw_flows, &pkt->key);

	if (!entry)
		return NULL;
	if (entry->action != XO_FLOW_BLOCK && entry->action != XO_FLOW_REDIRECT)
		return NULL;
	if ((entry->owner.flags & XO_OWNER_GONE) &&
	    (pkt->tcp_flags & (XO_TCP_SYN | XO_TCP_ACK)) == XO_TCP_SYN) {
		bpf_map_delete_elem(&xo_gw_flows, &pkt->key);
		return NULL;
	}
	__sync_fetch_and_add(&entry->packets, 1);
	__sync_fetch_and_add(&entry->bytes, len);
	/* Plain stores: two CPUs racing here both write a current value. */
	if ((pkt->tcp_flags & XO_TCP_ACK) && entry->ack_seq != pkt->ack_seq) {
		entry->ack_seq = pkt->ack_seq;
		entry->progress_ns = bpf_ktime_get_ns();
	}
	entry->last_seq = pkt->seq;
	return entry;
}

/**
 * xo_gw_xdp_rewrite() - turn a client frame towards the responder, in place.
 * @pkt: the parsed frame (pointers valid: no helper ran since parsing).
 * @entry: the REDIRECT entry.
 * @data_end: end of the frame's window.
 */
static __always_inline void xo_gw_xdp_rewrite(struct xo_packet *pkt,
					      const struct xo_flow_entry *entry, void *data_end)
{
	struct tcphdr *tcp = pkt->tcp;

	__builtin_memcpy(pkt->eth->h_dest, entry->new_dmac, ETH_ALEN);
	__builtin_memcpy(pkt->eth->h_source, entry->new_smac, ETH_ALEN);

	/* The IP header is found again from the Ethernet header, with its bound
	 * checked again for the verifier: testing a saved pointer for NULL is a
	 * pointer comparison, which needs CAP_PERFMON.
	 */
	if (pkt->key.family == XO_FAMILY_IPV4) {
		struct iphdr *ip4 = (void *)(pkt->eth + 1);

		if ((void *)(ip4 + 1) > data_end)
			return;
		ip4->check = xo_csum_update32(ip4->check, pkt->key.daddr[0], entry->new_daddr[0]);
		tcp->check = xo_csum_update32(tcp->check, pkt->key.daddr[0],
					      entry->new_daddr[0]);
		ip4->daddr = entry->new_daddr[0];
	} else {
		struct ipv6hdr *ip6 = (void *)(pkt->eth + 1);

		if ((void *)(ip6 + 1) > data_end)
			return;
		tcp->check = xo_csum_update_words(tcp->check, pkt->key.daddr,
						  entry->new_daddr, 4);
		__builtin_memcpy(&ip6->daddr, entry->new_daddr, 16);
	}
	tcp->check = xo_csum_update16(tcp->check, tcp->dest, entry->new_dport);
	tcp->dest = entry->new_dport;
}

/**
 * xo_gw_xdp() - XDP entry: drop BLOCKed flows, bounce REDIRECTed ones.
 * @ctx: the frame.
 *
 * Return: XDP_DROP, XDP_TX or XDP_PASS.
 */
SEC("xdp")
int xo_gw_xdp(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct xo_flow_entry *entry;
	struct xo_packet pkt;

	if (xo_parse_tcp_frame(data, data_end, &pkt))
		return XDP_PASS;
	entry = xo_gw_lookup(&pkt, bpf_xdp_get_buff_len(ctx)); /* not data_end - data: pointer subtraction needs CAP_PERFMON */
	if (!entry)
		return XDP_PASS;
	if (entry->action == XO_FLOW_BLOCK)
		return XDP_DROP;
	xo_gw_xdp_rewrite(&pkt, entry, data_end);
	return XDP_TX;
}

/**
 * xo_gw_tc() - clsact ingress entry: same decisions as xo_gw_xdp().
 * @skb: the packet.
 *
 * Return: TC_ACT_SHOT, the bpf_redirect() verdict, or TC_ACT_UNSPEC (next filter).
 */
SEC("tc")
int xo_gw_tc(struct __sk_buff *skb)
{
	struct xo_flow_entry *entry;
	struct xo_packet pkt;
	__u32 daddr_off;

	if (xo_tc_parse(skb, &pkt))
		return TC_ACT_UNSPEC;
	entry = xo_gw_lookup(&pkt, skb->len);
	if (!entry)
		return TC_ACT_UNSPEC;
	if (entry->action == XO_FLOW_BLOCK)
		return TC_ACT_SHOT;

	if (bpf_skb_store_bytes(skb, __builtin_offsetof(struct ethhdr, h_dest),
				entry->new_dmac, ETH_ALEN, 0) ||
	    bpf_skb_store_bytes(skb, __builtin_offsetof(struct ethhdr, h_source),
				entry->new_smac, ETH_ALEN, 0))
		return TC_ACT_SHOT;
	daddr_off = pkt.key.family == XO_FAMILY_IPV4 ? XO_IP4_DADDR_OFF : XO_IP6_DADDR_OFF;
	if (xo_tc_rewrite_addr(skb, &pkt, daddr_off, pkt.key.daddr, entry->new_daddr))
		return TC_ACT_SHOT;
	if (xo_tc_rewrite_port(skb, &pkt, __builtin_offsetof(struct tcphdr, dest),
			       pkt.key.dport, entry->new_dport))
		return TC_ACT_SHOT;
	return bpf_redirect(skb->ifindex, 0);
}

char LICENSE[] SEC("license") = "GPL";
