/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Ethernet addresses read and written as whole words. struct ethhdr is packed (alignment 1),
 * so clang copies its 6-byte fields byte by byte: a MAC rewrite was 24 single-byte loads and
 * stores where 8 word accesses do (docs/performance.md, round twenty-three). A MAC travels as
 * the low 48 bits of a u64, byte 0 lowest (BPF here is little-endian: compat.h).
 *
 * Each access is naturally aligned wherever the IP header is (NET_IP_ALIGN leaves the frame
 * 2 bytes past a 4-byte boundary on machines without efficient unaligned access, where the
 * verifier checks alignment): the destination is a 16-bit and a 32-bit word, the source a
 * 32-bit and a 16-bit one.
 */
#ifndef XL4_ETH_H
#define XL4_ETH_H

#include <linux/if_ether.h>
#include <linux/types.h>

#include "compat.h"

static __always_inline __u64 xl4_eth_dst(const struct ethhdr *eth)
{
	const __u8 *b = (const __u8 *)eth;

	return *(const __u16 *)b | (__u64) * (const __u32 *)(b + 2) << 16;
}

static __always_inline __u64 xl4_eth_src(const struct ethhdr *eth)
{
	const __u8 *b = (const __u8 *)eth;

	return *(const __u32 *)(b + 6) | (__u64) * (const __u16 *)(b + 10) << 32;
}

static __always_inline void xl4_eth_set_dst(struct ethhdr *eth, __u64 mac)
{
	__u8 *b = (__u8 *)eth;

	*(__u16 *)b = (__u16)mac;
	*(__u32 *)(b + 2) = (__u32)(mac >> 16);
}

static __always_inline void xl4_eth_set_src(struct ethhdr *eth, __u64 mac)
{
	__u8 *b = (__u8 *)eth;

	*(__u32 *)(b + 6) = (__u32)mac;
	*(__u16 *)(b + 10) = (__u16)(mac >> 32);
}

/* The ethertype (or a VLAN tag's TPID): one 16-bit load, not two bytes. */
static __always_inline __be16 xl4_eth_proto(const struct ethhdr *eth)
{
	return *(const __be16 *)((const __u8 *)eth + 2 * ETH_ALEN);
}

/* A MAC stored 4-byte aligned (struct xl4_backend's, at offset 16 of a map value). */
static __always_inline __u64 xl4_mac_load(const __u8 *mac)
{
	return *(const __u32 *)mac | (__u64) * (const __u16 *)(mac + 4) << 32;
}

/* The frame goes out with dst as destination and its old destination (the MAC the sender's
 * router addressed to us) as source. */
static __always_inline void xl4_eth_forward(struct ethhdr *eth, __u64 dst)
{
	xl4_eth_set_src(eth, xl4_eth_dst(eth));
	xl4_eth_set_dst(eth, dst);
}

/* The frame goes back where it came from: the two addresses swapped. */
static __always_inline void xl4_eth_swap(struct ethhdr *eth)
{
	__u64 d = xl4_eth_dst(eth), s = xl4_eth_src(eth);

	xl4_eth_set_dst(eth, s);
	xl4_eth_set_src(eth, d);
}

#endif /* XL4_ETH_H */
