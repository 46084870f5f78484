/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Theory of operation: incremental Internet checksum updates (RFC 1624,
 * equation 3: HC' = ~(~HC + ~m + m')) for programs that rewrite headers in
 * place without kernel checksum helpers — XDP, where frames come from the wire
 * with complete checksums. The one's complement sum does not depend on byte
 * order as long as every 16-bit word is loaded the same way, so all values
 * here are raw memory contents (network order loaded as host integers) and
 * no byte swapping happens anywhere.
 *
 * TC programs use bpf_l3/l4_csum_replace instead: those also keep
 * CHECKSUM_PARTIAL and CHECKSUM_COMPLETE skbs consistent, which plain
 * arithmetic on the header field cannot know about.
 *
 * Pure C with no BPF helpers, so the tests compile the same functions.
 */
#ifndef XO_BPF_CSUM_HELPERS_H
#define XO_BPF_CSUM_HELPERS_H

#include <linux/types.h>

#ifndef __always_inline
#define __always_inline inline __attribute__((always_inline))
#endif

/**
 * xo_csum_fold() - fold a 32-bit one's complement accumulator to 16 bits.
 * @sum: accumulator of 16-bit words.
 *
 * Return: the folded sum (not complemented).
 */
static __always_inline __u16 xo_csum_fold(__u32 sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)sum;
}

/**
 * xo_csum_update16() - checksum after one 16-bit word changed.
 * @check: the checksum field as stored (complemented sum).
 * @from: old word.
 * @to: new word.
 *
 * Return: the new checksum field value.
 */
static __always_inline __u16 xo_csum_update16(__u16 check, __u16 from, __u16 to)
{
	__u32 sum = (__u16)~check;

	sum += (__u16)~from;
	sum += to;
	return (__u16)~xo_csum_fold(sum);
}

/**
 * xo_csum_update32() - checksum after one 32-bit word changed.
 * @check: the checksum field as stored.
 * @from: old word.
 * @to: new word.
 *
 * Return: the new checksum field value.
 */
static __always_inline __u16 xo_csum_update32(__u16 check, __u32 from, __u32 to)
{
	__u32 sum = (__u16)~check;

	sum += (__u16)~(from & 0xffff);
	sum += (__u16)~(from >> 16);
	sum += to & 0xffff;
	sum += to >> 16;
	return (__u16)~xo_csum_fold(sum);
}

/**
 * xo_csum_update_words() - checksum after an array of 32-bit words changed.
 * @check: the checksum field as stored.
 * @from: old words.
 * @to: new words.
 * @nwords: 1 for an IPv4 address, 4 for an IPv6 address.
 *
 * Return: the new checksum field value.
 */
static __always_inline __u16 xo_csum_update_words(__u16 check, const __u32 *from,
						  const __u32 *to, int nwords)
{
	for (int i = 0; i < 4; i++) {
		if (i >= nwords)
			break;
		check = xo_csum_update32(check, from[i], to[i]);
	}
	return check;
}

#endif /* XO_BPF_CSUM_HELPERS_H */
