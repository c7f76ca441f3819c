/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ipip encapsulation itself, touching no map: the outer IPv4 or IPv6 header in front of the
 * client's packet, the Ethernet header moved down and pointed at the backend. Apart from
 * encap.h (the MTU check and the ICMP too-big answers, which use xl4's maps) so the bench's
 * floor programs (bench/floor.bpf.c) run exactly this code.
 */
#ifndef XL4_ENCAP_PKT_H
#define XL4_ENCAP_PKT_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>

#include "compat.h"
#include "csum.h"
#include "eth.h"
#include "parse.h"

#define XL4_IP_DF 0x4000
#define XL4_IPIP_TTL 64
#define XL4_L2_MAX 22 /* Ethernet + two VLAN tags */

/* Move the Ethernet header's type and the VLAN tags (depth 0..2) from src down to dst, the
 * room bpf_xdp_adjust_head() just made in front (dst < src, src - dst >= 2: 20 or 40 bytes),
 * and address the frame to `to` from the old destination. The 16-bit words go in ascending
 * order, so each is read before any store reaches it even when the two overlap (two tags are
 * 22 bytes, an IPv4 header 20): no stack buffer, which kept the LB stage's frame too big to
 * share the pipeline's 512 bytes with the filter's. The addresses are read before the move
 * and written whole after it: a word read back from the moved 16-bit stores would wait for
 * them (a store cannot forward into a wider load). */
static __always_inline int move_l2(void *dst, void *src, void *end, __u8 depth, __u64 to)
{
	__u16 *d = dst;
	const __u16 *s = src;
	__u32 words = 7 + 2 * (__u32)depth;
	__u64 from;

	if (depth > XL4_VLAN_MAX || dst >= src)
		return -1;
	if ((void *)(s + XL4_L2_MAX / 2) > end || (void *)(d + XL4_L2_MAX / 2) > end)
		return -1;
	from = xl4_eth_dst(src);
	XL4_UNROLL
	for (__u32 i = ETH_ALEN; i < XL4_L2_MAX / 2; i++) { /* word 6: past both addresses */
		if (i < words)
			d[i] = s[i];
	}
	xl4_eth_set_dst(dst, to);
	xl4_eth_set_src(dst, from);
	return 0;
}

/* Room for an outer header of hlen bytes (20 or 40, a constant) in front of the packet:
 * bpf_xdp_adjust_head, then the Ethernet header and VLAN tags moved down into it, addressed
 * to the backend's next hop. Returns the outer header's place, with the inner IP header that
 * follows it within the frame (NULL: no headroom, or a frame too short). */
static __always_inline void *encap_room(struct xdp_md *ctx, const struct xl4_pkt *p, __u32 hlen,
					const struct xl4_backend *be)
{
	__u32 l2_len = 14 + 4 * (p->vlan_depth & XL4_VLAN_DEPTH_MASK);
	void *data, *end;
	__u8 *outer;

	if (bpf_xdp_adjust_head(ctx, -(int)hlen))
		return NULL;
	data = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;
	if (move_l2(data, (__u8 *)data + hlen, end, p->vlan_depth, xl4_mac_load(be->mac)) ||
	    l2_len > XL4_L2_MAX)
		return NULL;
	outer = (__u8 *)data + l2_len;
	xl4_barrier_var(outer);
	if ((void *)(outer + 2 * hlen) > end)
		return NULL;
	return outer;
}

static __always_inline int encap_ip4(struct xdp_md *ctx, const struct xl4_pkt *p, __u32 hash,
				     const struct xl4_backend *be, __be32 src4, __u32 src4_mask)
{
	struct iphdr *outer, *inner;
	__u8 inner_tos;
	__be16 inner_df, id, tot_len, ver_tos, ttl_proto;
	__be32 saddr, daddr;
	__u32 sum;

	outer = encap_room(ctx, p, sizeof(*outer), be);
	if (!outer)
		return -XL4_R_LB_ENCAP_FAIL;
	inner = outer + 1;
	inner_tos = inner->tos;
	inner_df = inner->frag_off & bpf_htons(XL4_IP_DF);

	/* DF clear: routers may fragment the outer packet, which then needs an id unique for
	 * its (source, destination); the client's own id is (RFC 6864). With DF, 0 is fine. */
	id = inner_df ? 0 : inner->id;
	tot_len = bpf_htons(p->l3_len + sizeof(struct iphdr));
	saddr = src4 | bpf_htonl(hash & src4_mask);
	daddr = be->addr[0];
	ver_tos = bpf_htons(0x4500 | inner_tos);
	ttl_proto = bpf_htons((XL4_IPIP_TTL << 8) | IPPROTO_IPIP);
	/* The checksum from the values in registers, each 16-bit word as it lies in the
	 * header: reading back what was just stored byte by byte stalls store forwarding. */
	sum = (__u32)ver_tos + tot_len + id + inner_df + ttl_proto + (saddr & 0xffff) +
	      (saddr >> 16) + (daddr & 0xffff) + (daddr >> 16);
	*(__be16 *)outer = ver_tos;
	outer->tot_len = tot_len;
	outer->id = id;
	outer->frag_off = inner_df;
	*(__be16 *)&outer->ttl = ttl_proto;
	outer->check = xl4_csum_fold(sum);
	outer->saddr = saddr;
	outer->daddr = daddr;

	return XDP_TX;
}

static __always_inline int encap_ip6(struct xdp_md *ctx, const struct xl4_pkt *p, __u32 hash,
				     const struct xl4_backend *be, const __be32 *src6)
{
	struct ipv6hdr *outer, *inner;
	__u32 flow = hash & 0xfffff;

	outer = encap_room(ctx, p, sizeof(*outer), be);
	if (!outer)
		return -XL4_R_LB_ENCAP_FAIL;
	inner = outer + 1;

	/* Version 6, the inner traffic class, and the flow hash as flow label (RSS, ECMP). */
	*(__be32 *)outer = bpf_htonl(6u << 28 | (bpf_ntohl(*(__be32 *)inner) & 0x0ff00000) | flow);
	outer->payload_len = bpf_htons(p->l3_len);
	outer->nexthdr = IPPROTO_IPV6;
	outer->hop_limit = XL4_IPIP_TTL;
	__builtin_memcpy(&outer->saddr, src6, 16);
	outer->saddr.in6_u.u6_addr16[7] ^= bpf_htons((__u16)hash);
	__builtin_memcpy(&outer->daddr, be->addr, 16);

	return XDP_TX;
}

#endif /* XL4_ENCAP_PKT_H */
