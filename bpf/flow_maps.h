/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Theory of operation: the map layouts shared by the BPF programs and the C++
 * loaders. One key type serves every map: a TCP flow as one direction of it is
 * seen on the wire (source and destination address and port), IPv4 and IPv6
 * alike. IPv4 addresses live in word 0 of the 16-byte address fields and the
 * other words stay zero, so a key is always fully initialised (hash maps hash
 * every byte, padding included: both sides zero whole keys before filling them).
 * Addresses and ports are in network byte order, exactly as on the wire.
 *
 * The gateway's flow table maps the client → VIP direction of a connection to
 * an action: BLOCK drops it while the socket is being moved, REDIRECT bounces
 * it out of the same NIC to the responder now owning the connection. The
 * responder's rewrite table maps its own → client direction to the VIP source
 * it must carry (direct server return). Values hold per-entry counters that
 * the programs bump with atomic adds; they count packets handled under the
 * entry's current value, so replacing a value (BLOCK → REDIRECT) restarts them.
 *
 * Maps are pinned and outlive the daemon that filled them, so every value
 * names its owner: the process (pid and start time, which tells a reused pid
 * apart) that wrote it. A sweep (table_sweep.h) removes what no live process
 * owns. A gateway entry also records progress: the client's last ACK number
 * and when it last changed (CLOCK_MONOTONIC, the clock of bpf_ktime_get_ns()),
 * so a transfer still running at a responder after its gateway died can be
 * told from a dead one. XO_OWNER_GONE marks an entry whose owner the sweep
 * found dead but kept for such a transfer: a client SYN on it means the
 * client has given the old connection up, and the program deletes the entry.
 * The sequence number of the client's last packet is kept too: with the
 * acknowledgment number, where the client's stream stands, which the gateway
 * needs to reset a connection it lost track of with an RST the client accepts.
 */
#ifndef XO_BPF_FLOW_MAPS_H
#define XO_BPF_FLOW_MAPS_H

#include <linux/types.h>

#define XO_DEFAULT_MAX_FLOWS 65536

/* Address family tags used in keys (values of AF_INET / AF_INET6 on Linux). */
#define XO_FAMILY_IPV4 2
#define XO_FAMILY_IPV6 10

/** struct xo_flow_key - one direction of a TCP connection. */
struct xo_flow_key {
	__u8 family;     /* XO_FAMILY_IPV4 or XO_FAMILY_IPV6 */
	__u8 pad[3];     /* always zero */
	__be16 sport;    /* source port */
	__be16 dport;    /* destination port */
	__be32 saddr[4]; /* source address; IPv4 in saddr[0] */
	__be32 daddr[4]; /* destination address; IPv4 in daddr[0] */
};

/** enum xo_flow_action - what the gateway does with a matching packet. */
enum xo_flow_action {
	XO_FLOW_BLOCK = 1,    /* drop: the connection is being handed off */
	XO_FLOW_REDIRECT = 2, /* rewrite towards the responder, send back out */
};

/* xo_entry_owner.flags: the owner is dead (set by the sweep, see above). */
#define XO_OWNER_GONE 1u

/** struct xo_entry_owner - the process that wrote an entry. */
struct xo_entry_owner {
	__u32 pid;         /* as the daemons' /proc shows it */
	__u32 flags;       /* XO_OWNER_GONE */
	__u64 start_ticks; /* the process's start time, clock ticks after boot */
};

/** struct xo_flow_entry - gateway flow table value. */
struct xo_flow_entry {
	__u32 action;      /* enum xo_flow_action */
	__u16 pad0;        /* always zero */
	__be16 new_dport;  /* REDIRECT: responder port */
	__be32 new_daddr[4]; /* REDIRECT: responder address, same family as key */
	__u8 new_dmac[6];  /* REDIRECT: responder (or next hop) MAC */
	__u8 new_smac[6];  /* REDIRECT: the gateway NIC's own MAC */
	__u8 pad1[4];      /* always zero */
	__u64 packets;     /* packets handled under this value */
	__u64 bytes;       /* bytes handled under this value (frame length) */
	struct xo_entry_owner owner;
	__u64 progress_ns; /* when the value was written or ack_seq last changed */
	__be32 ack_seq;    /* acknowledgment number of the client's last ACK */
	__be32 last_seq;   /* sequence number of the client's last packet */
};

/** struct xo_rewrite_entry - responder egress rewrite table value. */
struct xo_rewrite_entry {
	__be32 new_saddr[4]; /* the gateway's public address (VIP) */
	__be16 new_sport;    /* the gateway's public port */
	__u8 pad[6];         /* always zero */
	__u64 packets;       /* packets rewritten */
	__u64 bytes;         /* bytes rewritten (skb length) */
	struct xo_entry_owner owner;
};

#endif /* XO_BPF_FLOW_MAPS_H */
