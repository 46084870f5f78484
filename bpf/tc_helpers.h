/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Theory of operation: TC-side packet access shared by the gateway's clsact
 * ingress program and the responder's clsact egress program.
 *
 * Parsing: TC sees skbs whose headers may not all be in the linear area
 * (direct packet access covers only that area). When a parse fails and the
 * skb is longer than its linear part, the headers are pulled in once and the
 * parse is retried; a fully linear skb that fails to parse is simply not ours.
 *
 * Rewriting goes through bpf_skb_store_bytes and bpf_l3/l4_csum_replace with
 * BPF_F_PSEUDO_HDR for address words. Those helpers know the skb's checksum
 * state: a complete checksum is updated in place (RFC 1624); with
 * CHECKSUM_PARTIAL (locally generated traffic with TX offload) the TCP field
 * holds only the pseudo-header sum and the helper updates just that part for
 * address changes and leaves it alone for port changes, which the device
 * will sum itself; with CHECKSUM_COMPLETE on ingress skb->csum is kept in
 * step. Port and IPv4 header checksum updates need no pseudo flag.
 *
 * Every helper call invalidates packet pointers, so rewrites work on offsets
 * and on copies of the old values kept in the flow key. Any helper failure
 * leaves a half-rewritten packet, which callers must drop.
 */
#ifndef XO_BPF_TC_HELPERS_H
#define XO_BPF_TC_HELPERS_H

#include <linux/pkt_cls.h>

#include "bpf/packet_parsing.h"

/* Longest header stack we parse: Ethernet + IPv4 with options + TCP with options. */
#define XO_MAX_HEADER_BYTES (ETH_HLEN + 60 + 60)

#define XO_IP4_CSUM_OFF (ETH_HLEN + __builtin_offsetof(struct iphdr, check))
#define XO_IP4_SADDR_OFF (ETH_HLEN + __builtin_offsetof(struct iphdr, saddr))
#define XO_IP4_DADDR_OFF (ETH_HLEN + __builtin_offsetof(struct iphdr, daddr))
#define XO_IP6_SADDR_OFF (ETH_HLEN + __builtin_offsetof(struct ipv6hdr, saddr))
#define XO_IP6_DADDR_OFF (ETH_HLEN + __builtin_offsetof(struct ipv6hdr, daddr))

/**
 * xo_tc_parse() - parse an skb as Ethernet/IP/TCP, pulling headers if needed.
 * @skb: the packet.
 * @pkt: filled on success.
 *
 * Return: 0 for a TCP frame we can rewrite, else nonzero.
 */
static __always_inline int xo_tc_parse(struct __sk_buff *skb, struct xo_packet *pkt)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	__u32 pull;
	int err;

	err = xo_parse_tcp_frame(data, data_end, pkt);
	if (err != XO_PARSE_SHORT)
		return err;
	pull = skb->len < XO_MAX_HEADER_BYTES ? skb->len : XO_MAX_HEADER_BYTES;
	if (bpf_skb_pull_data(skb, pull))
		return -1;
	data = (void *)(long)skb->data;
	data_end = (void *)(long)skb->data_end;
	return xo_parse_tcp_frame(data, data_end, pkt);
}

/**
 * xo_tc_rewrite_addr() - replace an IP address and fix the checksums.
 * @skb: the packet.
 * @pkt: its parse (family and TCP offset).
 * @addr_off: offset of the address field (XO_IP{4,6}_{S,D}ADDR_OFF).
 * @from: current address (from the flow key, IPv4 in word 0).
 * @to: new address, same family.
 *
 * Return: 0 on success, else a negative error (packet partly rewritten).
 */
static __always_inline int xo_tc_rewrite_addr(struct __sk_buff *skb,
					      const struct xo_packet *pkt,
					      __u32 addr_off, const __be32 *from,
					      const __be32 *to)
{
	__u32 tcp_csum_off = pkt->l4_off + __builtin_offsetof(struct tcphdr, check);
	__s64 diff;
	int err;

	if (pkt->key.family == XO_FAMILY_IPV4) {
		err = bpf_l3_csum_replace(skb, XO_IP4_CSUM_OFF, from[0], to[0], 4);
		if (err)
			return err;
		err = bpf_l4_csum_replace(skb, tcp_csum_off, from[0], to[0],
					  BPF_F_PSEUDO_HDR | 4);
		if (err)
			return err;
		return bpf_skb_store_bytes(skb, addr_off, to, 4, 0);
	}

	diff = bpf_csum_diff((__be32 *)from, 16, (__be32 *)to, 16, 0);
	if (diff < 0)
		return (int)diff;
	err = bpf_l4_csum_replace(skb, tcp_csum_off, 0, diff, BPF_F_PSEUDO_HDR);
	if (err)
		return err;
	return bpf_skb_store_bytes(skb, addr_off, to, 16, 0);
}

/**
 * xo_tc_rewrite_port() - replace a TCP port and fix the TCP checksum.
 * @skb: the packet.
 * @pkt: its parse.
 * @port_off: offset of the port within the TCP header (source or dest).
 * @from: current port.
 * @to: new port.
 *
 * Return: 0 on success, else a negative error (packet partly rewritten).
 */
static __always_inline int xo_tc_rewrite_port(struct __sk_buff *skb,
					      const struct xo_packet *pkt,
					      __u32 port_off, __be16 from, __be16 to)
{
	__u32 tcp_csum_off = pkt->l4_off + __builtin_offsetof(struct tcphdr, check);
	int err;

	err = bpf_l4_csum_replace(skb, tcp_csum_off, from, to, 2);
	if (err)
		return err;
	return bpf_skb_store_bytes(skb, pkt->l4_off + port_off, &to, 2, 0);
}

#endif /* XO_BPF_TC_HELPERS_H */
