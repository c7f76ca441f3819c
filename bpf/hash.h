/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The flow hash: Bob Jenkins' lookup3 (jhash2) over 32-bit words with a secret seed. Built for
 * both sides, so user space (tests, tools, other nodes) computes exactly what the datapath
 * does: the same config and seed give every node the same backend for a flow.
 */
#ifndef XL4_HASH_H
#define XL4_HASH_H

#include "compat.h"
#include "xl4/abi.h"

static __always_inline __u32 xl4_rol32(__u32 w, unsigned int s)
{
	return (w << s) | (w >> (32 - s));
}

#define XL4_JHASH_MIX(a, b, c)                  \
	do {                                    \
		a -= c; a ^= xl4_rol32(c, 4);  c += b; \
		b -= a; b ^= xl4_rol32(a, 6);  a += c; \
		c -= b; c ^= xl4_rol32(b, 8);  b += a; \
		a -= c; a ^= xl4_rol32(c, 16); c += b; \
		b -= a; b ^= xl4_rol32(a, 19); a += c; \
		c -= b; c ^= xl4_rol32(b, 4);  b += a; \
	} while (0)

#define XL4_JHASH_FINAL(a, b, c)                 \
	do {                                     \
		c ^= b; c -= xl4_rol32(b, 14);   \
		a ^= c; a -= xl4_rol32(c, 11);   \
		b ^= a; b -= xl4_rol32(a, 25);   \
		c ^= b; c -= xl4_rol32(b, 16);   \
		a ^= c; a -= xl4_rol32(c, 4);    \
		b ^= a; b -= xl4_rol32(a, 14);   \
		c ^= b; c -= xl4_rol32(b, 24);   \
	} while (0)

/* jhash2 over exactly 10 words (the flow key): three rounds of three, then one in final. The
 * final state's b is a second 32-bit hash of the same words (lookup3's hashlittle2 returns both
 * c and b: 64 bits), for a caller that needs bits independent of c's: *second, if not NULL. */
static __always_inline __u32 xl4_jhash_10_pair(const __u32 *k, __u32 seed, __u32 *second)
{
	__u32 a, b, c;

	a = b = c = 0xdeadbeef + (10 << 2) + seed;
	a += k[0]; b += k[1]; c += k[2];
	XL4_JHASH_MIX(a, b, c);
	a += k[3]; b += k[4]; c += k[5];
	XL4_JHASH_MIX(a, b, c);
	a += k[6]; b += k[7]; c += k[8];
	XL4_JHASH_MIX(a, b, c);
	a += k[9];
	XL4_JHASH_FINAL(a, b, c);
	if (second)
		*second = b;
	return c;
}

static __always_inline __u32 xl4_jhash_10(const __u32 *k, __u32 seed)
{
	return xl4_jhash_10_pair(k, seed, (__u32 *)0);
}

_Static_assert(sizeof(struct xl4_flow_key) == 40, "flow key is hashed as 10 words");

/* Hash of the client->VIP flow; the key's words are taken as they lie in memory, so the
 * value is the same on every little-endian node (all BPF targets xl4 runs on). */
static __always_inline __u32 xl4_flow_hash(const struct xl4_flow_key *k, __u32 seed)
{
	return xl4_jhash_10((const __u32 *)k, seed);
}

/* The flow hash and the same computation's second word (the guard's SYN slot tag: a slot is
 * picked by the hash's low bits, so its flows must be told apart by bits that are not the
 * hash's). */
static __always_inline __u32 xl4_flow_hash_pair(const struct xl4_flow_key *k, __u32 seed,
						 __u32 *second)
{
	return xl4_jhash_10_pair((const __u32 *)k, seed, second);
}

#endif /* XL4_HASH_H */
