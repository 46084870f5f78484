/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Theory of operation: bounds-checked parsing of Ethernet → IPv4/IPv6 → TCP
 * for XDP and TC alike (both hand us a linear [data, data_end) window). The
 * parser accepts only what the data plane can rewrite safely and says "not
 * mine" for everything else, which the callers pass on untouched:
 *   - EtherTypes other than IPv4/IPv6 (ARP, VLAN tags, ...);
 *   - IPv4 with a bad version or IHL, fragments (no TCP header in later ones,
 *     and a rewrite of the first would not cover the rest), non-TCP protocols;
 *   - IPv6 whose next header is not TCP: extension headers are not walked
 *     (TCP clients do not send them in practice);
 *   - TCP headers that are shorter than 20 bytes, claim a data offset below 5,
 *     or run past the end of the window.
 * A successful parse records header offsets (TC helpers take offsets),
 * builds the flow key of the packet's direction and copies the TCP flags and
 * acknowledgment number (what the gateway's progress tracking reads).
 */
#ifndef XO_BPF_PACKET_PARSING_H
#define XO_BPF_PACKET_PARSING_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "bpf/flow_maps.h"

#define XO_IP_FRAG_MASK 0x3fff /* IPv4 MF flag and fragment offset */

/* Parse results besides 0: not a TCP frame we handle (-1), or the headers
 * run past the linear window (XO_PARSE_SHORT: TC may pull more and retry).
 */
#define XO_PARSE_SHORT (-2)

/* TCP flag bits in byte 13 of the TCP header. */
#define XO_TCP_SYN 0x02
#define XO_TCP_ACK 0x10

/** struct xo_packet - where the headers of a parsed TCP frame are. */
struct xo_packet {
	struct ethhdr *eth;
	struct tcphdr *tcp;
	__u32 l4_off;        /* offset of the TCP header from the frame start */
	struct xo_flow_key key;
	__be32 seq;          /* the TCP sequence number */
	__be32 ack_seq;      /* the TCP acknowledgment number */
	__u8 tcp_flags;      /* byte 13 of the TCP header (XO_TCP_*) */
};

/**
 * xo_parse_ipv4() - parse an IPv4 header and locate TCP behind it.
 * @ip: start of the IPv4 header.
 * @data_end: end of the linear window.
 * @pkt: filled on success.
 *
 * Return: 0 if this is an unfragmented TCP/IPv4 packet, XO_PARSE_SHORT if the
 * window ends too early, else -1.
 */
static __always_inline int xo_parse_ipv4(struct iphdr *ip, void *data_end,
					 struct xo_packet *pkt)
{
	int found = 0;
	__u8 ihl;

	if ((void *)(ip + 1) > data_end)
		return XO_PARSE_SHORT;
	if (ip->version != 4 || ip->ihl < 5)
		return -1;
	if (ip->protocol != IPPROTO_TCP)
		return -1;
	if (ip->frag_off & bpf_htons(XO_IP_FRAG_MASK))
		return -1;
	/* One branch per header length, so every packet offset is a constant:
	 * an offset computed from packet data is variable pointer arithmetic,
	 * which the verifier allows only with CAP_PERFMON, and the daemons
	 * hold CAP_BPF and CAP_NET_ADMIN alone.
	 */
	ihl = ip->ihl;
#pragma unroll
	for (int words = 5; words <= 15; words++) {
		if (ihl == words) {
			if ((void *)ip + words * 4 > data_end)
				return XO_PARSE_SHORT;
			pkt->tcp = (void *)ip + words * 4;
			pkt->l4_off = sizeof(struct ethhdr) + words * 4;
			found = 1;
		}
	}
	if (!found)
		return -1;
	pkt->key.family = XO_FAMILY_IPV4;
	pkt->key.saddr[0] = ip->saddr;
	pkt->key.daddr[0] = ip->daddr;
	return 0;
}

/**
 * xo_parse_ipv6() - parse an IPv6 header directly followed by TCP.
 * @ip6: start of the IPv6 header.
 * @data_end: end of the linear window.
 * @pkt: filled on success.
 *
 * Return: 0 if TCP follows the fixed header, XO_PARSE_SHORT if the window
 * ends too early, else -1.
 */
static __always_inline int xo_parse_ipv6(struct ipv6hdr *ip6, void *data_end,
					 struct xo_packet *pkt)
{
	if ((void *)(ip6 + 1) > data_end)
		return XO_PARSE_SHORT;
	if (ip6->version != 6 || ip6->nexthdr != IPPROTO_TCP)
		return -1;
	pkt->tcp = (void *)(ip6 + 1);
	pkt->l4_off = sizeof(struct ethhdr) + sizeof(*ip6);
	pkt->key.family = XO_FAMILY_IPV6;
	__builtin_memcpy(pkt->key.saddr, &ip6->saddr, sizeof(pkt->key.saddr));
	__builtin_memcpy(pkt->key.daddr, &ip6->daddr, sizeof(pkt->key.daddr));
	return 0;
}

/**
 * xo_parse_tcp_frame() - parse Ethernet/IP/TCP and build the flow key.
 * @data: first byte of the frame.
 * @data_end: end of the linear window.
 * @pkt: zeroed and filled; meaningful only on success.
 *
 * Return: 0 for a complete TCP header over IPv4 or IPv6, XO_PARSE_SHORT if
 * the window ends too early, else -1.
 */
static __always_inline int xo_parse_tcp_frame(void *data, void *data_end,
					      struct xo_packet *pkt)
{
	struct ethhdr *eth = data;
	struct tcphdr *tcp;
	int err;

	__builtin_memset(pkt, 0, sizeof(*pkt));
	if ((void *)(eth + 1) > data_end)
		return XO_PARSE_SHORT;
	pkt->eth = eth;
	if (eth->h_proto == bpf_htons(ETH_P_IP))
		err = xo_parse_ipv4((void *)(eth + 1), data_end, pkt);
	else if (eth->h_proto == bpf_htons(ETH_P_IPV6))
		err = xo_parse_ipv6((void *)(eth + 1), data_end, pkt);
	else
		err = -1;
	if (err)
		return err;

	tcp = pkt->tcp;
	if ((void *)(tcp + 1) > data_end)
		return XO_PARSE_SHORT;
	if (tcp->doff < 5)
		return -1;
	/* The options must be in the window too; constant offsets as above. */
#pragma unroll
	for (int words = 6; words <= 15; words++) {
		if (tcp->doff == words && (void *)tcp + words * 4 > data_end)
			return XO_PARSE_SHORT;
	}
	pkt->key.sport = tcp->source;
	pkt->key.dport = tcp->dest;
	pkt->seq = tcp->seq;
	pkt->ack_seq = tcp->ack_seq;
	pkt->tcp_flags = ((__u8 *)tcp)[13];
	return 0;
}

#endif /* XO_BPF_PACKET_PARSING_H */
