/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Internet checksum helpers: incremental update (RFC 1624) for rewritten fields, and full
 * sums over small fixed-size buffers for headers xl4 builds itself. Pure C, both sides.
 */
#ifndef XL4_CSUM_H
#define XL4_CSUM_H

#include "compat.h"

static __always_inline __u16 xl4_csum_fold(__u32 sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)~sum;
}

/* True when a sum of 16-bit or 32-bit words kept in 64 bits (below 2^48) folds to 0xffff: the
 * checksum it covers is right. Two folds where folding it to 16 bits takes four: as 2^16 = 1
 * (mod 0xffff), a + b * 2^16 + c * 2^32 and a + b + c fold alike; that is below 3 * 2^16, and
 * one more fold leaves at most 0x10001, which is 0xffff only when the full fold is (0x10000
 * and 0x10001 fold to 1 and 2; 0 comes only from a zero sum, which folds to 0 too). */
static __always_inline int xl4_csum64_ok(__u64 sum)
{
	sum = (sum & 0xffff) + ((sum >> 16) & 0xffff) + (sum >> 32);
	sum = (sum & 0xffff) + (sum >> 16);
	return sum == 0xffff;
}

/* RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m') for a 16-bit field changing from old to new. */
static __always_inline __u16 xl4_csum_replace2(__u16 check, __u16 old, __u16 new)
{
	__u32 sum = (__u16)~check;

	sum += (__u16)~old;
	sum += new;
	return xl4_csum_fold(sum);
}

/* Same for a 32-bit field (an address word), as two 16-bit halves. */
static __always_inline __u16 xl4_csum_replace4(__u16 check, __u32 old, __u32 new)
{
	__u32 sum = (__u16)~check;

	sum += (__u16)~(old & 0xffff);
	sum += (__u16)~(old >> 16);
	sum += new & 0xffff;
	sum += new >> 16;
	return xl4_csum_fold(sum);
}

/* Unfolded one's-complement sum of n 16-bit words (n a compile-time constant). */
static __always_inline __u32 xl4_csum_words(const void *buf, int n)
{
	const __u16 *w = buf;
	__u32 sum = 0;

	XL4_UNROLL
	for (int i = 0; i < n; i++)
		sum += w[i];
	return sum;
}

#endif /* XL4_CSUM_H */
