/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Random and mutated packets, reproducible from a seed: valid templates from the packet
 * builder (any VLAN depth, IPv4 options and fragments, IPv6 extension chains, every
 * transport), then byte flips, truncation, wild length fields, or wholly random bytes.
 * Shared by the fixtures' random suite and tests/tools/gen-random-pcap.
 */
#ifndef XL4_TESTS_PKTRAND_H
#define XL4_TESTS_PKTRAND_H

#include <stdint.h>

#include "pktbuild.h"

struct prng {
	uint64_t s;
};

/* splitmix64: tiny, fast, and every seed (0 too) gives a full-period stream. */
static inline uint64_t prng_u64(struct prng *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static inline uint32_t prng_below(struct prng *r, uint32_t n)
{
	return n ? (uint32_t)(prng_u64(r) % n) : 0;
}

/* One element of the array arr, at random. */
#define PICK(r, arr) ((arr)[prng_below((r), sizeof(arr) / sizeof((arr)[0]))])

/* A well-formed packet (it may still be one the parser drops, e.g. a null-flag TCP). */
void pr_template(struct pkt *p, struct prng *r);
/* A template, mutated, or random bytes; at least min_len bytes long. */
void pr_packet(struct pkt *p, struct prng *r, uint32_t min_len);
/* Damage a packet as pr_packet() does (flipped bytes, a cut, a wild length field, or all
 * three); half the time its IPv4 header checksum is made right again. */
void pr_mutate(struct pkt *p, struct prng *r, uint32_t min_len);

#endif
