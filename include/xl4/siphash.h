/* SPDX-License-Identifier: GPL-2.0 */
/*
 * SipHash-2-4 (Aumasson and Bernstein, "SipHash: a fast short-input PRF", 2012): a keyed PRF
 * with a 128-bit key, for whatever an attacker must not be able to predict or forge (the
 * guard's challenge cookie; Maglev's backend permutations use it for its spread). Built for
 * both sides like bpf/hash.h: the datapath, the daemon and the tests compute the same values.
 * Words are loaded little-endian, as the reference does (and as every BPF target xl4 runs on
 * lays them out), so the word-wise form used in BPF equals the byte-defined one below.
 */
#ifndef XL4_SIPHASH_H
#define XL4_SIPHASH_H

#include <linux/types.h>

/* Self-contained (no bpf/compat.h): user space includes it from include/ as it does abi.h. */
#define XL4_SIP_INLINE static inline __attribute__((always_inline))

struct xl4_sip {
	__u64 v0, v1, v2, v3;
};

XL4_SIP_INLINE __u64 xl4_rol64(__u64 x, unsigned int b)
{
	return (x << b) | (x >> (64 - b));
}

XL4_SIP_INLINE void xl4_sip_round(struct xl4_sip *s)
{
	s->v0 += s->v1;
	s->v1 = xl4_rol64(s->v1, 13);
	s->v1 ^= s->v0;
	s->v0 = xl4_rol64(s->v0, 32);
	s->v2 += s->v3;
	s->v3 = xl4_rol64(s->v3, 16);
	s->v3 ^= s->v2;
	s->v0 += s->v3;
	s->v3 = xl4_rol64(s->v3, 21);
	s->v3 ^= s->v0;
	s->v2 += s->v1;
	s->v1 = xl4_rol64(s->v1, 17);
	s->v1 ^= s->v2;
	s->v2 = xl4_rol64(s->v2, 32);
}

XL4_SIP_INLINE void xl4_sip_init(struct xl4_sip *s, __u64 k0, __u64 k1)
{
	s->v0 = 0x736f6d6570736575ULL ^ k0;
	s->v1 = 0x646f72616e646f6dULL ^ k1;
	s->v2 = 0x6c7967656e657261ULL ^ k0;
	s->v3 = 0x7465646279746573ULL ^ k1;
}

/* One 8-byte message word: two compression rounds. */
XL4_SIP_INLINE void xl4_sip_word(struct xl4_sip *s, __u64 m)
{
	s->v3 ^= m;
	xl4_sip_round(s);
	xl4_sip_round(s);
	s->v0 ^= m;
}

/* The last block (message length in the top byte, the 0..7 tail bytes below it), then the
 * four finalisation rounds. */
XL4_SIP_INLINE __u64 xl4_sip_final(struct xl4_sip *s, __u64 last)
{
	xl4_sip_word(s, last);
	s->v2 ^= 0xff;
	xl4_sip_round(s);
	xl4_sip_round(s);
	xl4_sip_round(s);
	xl4_sip_round(s);
	return s->v0 ^ s->v1 ^ s->v2 ^ s->v3;
}

/*
 * The challenge cookie's message for IPv6, 40 bytes (five words): the client's address, the
 * VIP address (16 bytes each), the client's and the VIP's port as on the wire, and
 * le32(slice * 2 + 1). The slice is now >> XL4_GUARD_COOKIE_SHIFT (well under 2^31 for any
 * uptime). docs/guard.md.
 */
struct xl4_cookie_msg {
	__be32 saddr[4];
	__be32 daddr[4];
	__be16 sport;
	__be16 dport;
	__u32 slice_family;
};
_Static_assert(sizeof(struct xl4_cookie_msg) == 40, "hashed as 5 words");

/*
 * The same for IPv4 in 16 bytes (two words): addresses of 4 bytes, then the ports and
 * le32(slice * 2 + 0). Ten SipRounds instead of the 40-byte message's sixteen, on every
 * challenged SYN and every answer checked (docs/performance.md, round eight); the length,
 * which SipHash hashes, keeps the two families' messages apart as the family bit does.
 */
struct xl4_cookie_msg4 {
	__be32 saddr;
	__be32 daddr;
	__be16 sport;
	__be16 dport;
	__u32 slice_family;
};
_Static_assert(sizeof(struct xl4_cookie_msg4) == 16, "hashed as 2 words");

/* SipHash-2-4 of an IPv4 cookie message under key k; the cookie is its low 32 bits. */
XL4_SIP_INLINE __u64 xl4_cookie_sip4(const __u64 k[2], const struct xl4_cookie_msg4 *m)
{
	const __u64 *w = (const __u64 *)m;
	struct xl4_sip s;

	xl4_sip_init(&s, k[0], k[1]);
	xl4_sip_word(&s, w[0]);
	xl4_sip_word(&s, w[1]);
	return xl4_sip_final(&s, (__u64)sizeof(*m) << 56);
}

/* SipHash-2-4 of an IPv6 cookie message under key k; the cookie is its low 32 bits. */
XL4_SIP_INLINE __u64 xl4_cookie_sip(const __u64 k[2], const struct xl4_cookie_msg *m)
{
	const __u64 *w = (const __u64 *)m;
	struct xl4_sip s;

	xl4_sip_init(&s, k[0], k[1]);
	xl4_sip_word(&s, w[0]);
	xl4_sip_word(&s, w[1]);
	xl4_sip_word(&s, w[2]);
	xl4_sip_word(&s, w[3]);
	xl4_sip_word(&s, w[4]);
	return xl4_sip_final(&s, (__u64)sizeof(*m) << 56);
}

#ifndef __bpf__
#include <stddef.h>
#include <stdint.h>

/* SipHash-2-4 as the paper defines it, over bytes: key bytes 0-7 and 8-15 as little-endian k0,
 * k1. User space only (Maglev's permutations, the tests' reference). */
static inline uint64_t xl4_siphash24(const uint8_t key[16], const void *msg, size_t len)
{
	const uint8_t *in = msg;
	uint64_t k0 = 0, k1 = 0, m, last = (uint64_t)len << 56;
	struct xl4_sip s;
	size_t i = 0;

	for (int b = 7; b >= 0; b--) {
		k0 = k0 << 8 | key[b];
		k1 = k1 << 8 | key[8 + b];
	}
	xl4_sip_init(&s, k0, k1);
	for (; i + 8 <= len; i += 8) {
		m = 0;
		for (int b = 7; b >= 0; b--)
			m = m << 8 | in[i + b];
		xl4_sip_word(&s, m);
	}
	for (size_t j = 0; i + j < len; j++)
		last |= (uint64_t)in[i + j] << (8 * j);
	return xl4_sip_final(&s, last);
}
#endif

#endif /* XL4_SIPHASH_H */
