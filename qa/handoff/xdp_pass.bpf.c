/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Theory of operation: the test bed's stand-in for a NIC driver's receive
 * path. Frames the gateway's native XDP program sends back out with XDP_TX
 * arrive at the peer veth, and veth delivers them only if that peer has an
 * XDP program of its own (without one they are counted as xdp_tx_errors).
 * This one lets every frame through. testbed.sh --attach xdp loads it on the
 * bridge-side peer of the gateway's veth.
 */
#include <linux/bpf.h>

#define SEC(name) __attribute__((section(name), used))

SEC("xdp")
int xo_testbed_xdp_pass(struct xdp_md *ctx)
{
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
