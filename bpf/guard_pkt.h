/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The flood guard's per-packet pieces that touch no map: the challenge cookie and the SYN-ACK
 * built in place. Apart from guard.h so the bench's floor of the challenge
 * (bench/floor_chal.bpf.c) runs exactly this code without xl4's maps.
 */
#ifndef XL4_GUARD_PKT_H
#define XL4_GUARD_PKT_H

#include <linux/bpf.h>
#include <linux/if_ether.h>

#include "compat.h"
#include "csum.h"
#include "eth.h"
#include "parse.h"
#include "xl4/siphash.h"

/* The challenge cookie for the client->VIP flow in time slice `slice`: the low 32 bits of
 * SipHash-2-4 (128-bit key, rotated) over both addresses, both ports, the slice and the
 * family (include/xl4/siphash.h: struct xl4_cookie_msg4 for IPv4, 16 bytes; struct
 * xl4_cookie_msg for IPv6, 40). */
static __always_inline __u32 guard_cookie(const __u64 key[2], const struct xl4_pkt *p, __u64 slice)
{
	struct xl4_cookie_msg m;
	struct xl4_cookie_msg4 m4;

	if (!(p->t.flags & XL4_F_IPV6)) {
		m4.saddr = p->t.saddr[0];
		m4.daddr = p->t.daddr[0];
		m4.sport = p->t.sport;
		m4.dport = p->t.dport;
		m4.slice_family = (__u32)(slice << 1);
		return (__u32)xl4_cookie_sip4(key, &m4);
	}
	__builtin_memcpy(m.saddr, p->t.saddr, 16);
	__builtin_memcpy(m.daddr, p->t.daddr, 16);
	m.sport = p->t.sport;
	m.dport = p->t.dport;
	m.slice_family = (__u32)(slice << 1) | 1;
	return (__u32)xl4_cookie_sip(key, &m);
}

/* Turn the client's SYN into our SYN-ACK in place: MACs, addresses and ports swapped, options
 * and any payload cut off, ack = cookie. Returns XDP_TX or a negative drop reason. */
static __always_inline int guard_challenge(struct xdp_md *ctx, const struct xl4_pkt *p,
					   __u32 cookie)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	__u32 l3 = p->l3_off & XL4_L3_OFF_MASK, l4 = p->l4_off & XL4_OFF_MASK, sum;
	int v6 = p->t.flags & XL4_F_IPV6;
	__u32 iplen = v6 ? 40 : 20;
	struct ethhdr *eth = data;
	struct tcphdr *th;
	__be32 isn;
	int delta;

	th = (void *)((__u8 *)data + l4);
	if ((void *)(eth + 1) > end || (void *)(th + 1) > end)
		return -XL4_R_TCP_TRUNC;
	/* Our own ISN does not matter (the client answers with a RST); derive it from the
	 * client's so it is not constant. */
	isn = th->seq ^ bpf_htonl(cookie); /* docs/guard.md: seq = x XOR cookie */
	xl4_eth_swap(eth);

	/* Cut the frame to Ethernet (+VLAN) + IP without options + 20 bytes of TCP. */
	delta = (int)(l3 + iplen + sizeof(*th)) - (int)((long)end - (long)data);
	if (delta < 0 && bpf_xdp_adjust_tail(ctx, delta))
		return -XL4_R_TCP_TRUNC;
	data = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;

	if (v6) {
		__u8 *l3p = (__u8 *)data + l3;
		struct ipv6hdr *ip6;

		xl4_barrier_var(l3p); /* checked as is: not rebuilt from data + l3 later */
		if ((void *)(l3p + 60) > end)
			return -XL4_R_TCP_TRUNC;
		ip6 = (void *)l3p;
		th = (void *)(l3p + 40);
		*(__be32 *)ip6 = bpf_htonl(0x60000000);
		ip6->payload_len = bpf_htons(sizeof(*th));
		ip6->nexthdr = IPPROTO_TCP;
		ip6->hop_limit = 64;
		__builtin_memcpy(&ip6->saddr, p->t.daddr, 16);
		__builtin_memcpy(&ip6->daddr, p->t.saddr, 16);
		sum = xl4_csum_words(&ip6->saddr, 16) + bpf_htons(IPPROTO_TCP) +
		      bpf_htons(sizeof(*th));
	} else {
		__u8 *l3p = (__u8 *)data + l3;
		struct iphdr *ip;

		xl4_barrier_var(l3p); /* checked as is: not rebuilt from data + l3 later */
		if ((void *)(l3p + 40) > end)
			return -XL4_R_TCP_TRUNC;
		ip = (void *)l3p;
		th = (void *)(l3p + 20);
		*(__u8 *)ip = 0x45;
		ip->tos = 0;
		ip->tot_len = bpf_htons(20 + sizeof(*th));
		ip->id = 0;
		ip->frag_off = bpf_htons(0x4000); /* DF */
		ip->ttl = 64;
		ip->protocol = IPPROTO_TCP;
		ip->check = 0;
		ip->saddr = p->t.daddr[0];
		ip->daddr = p->t.saddr[0];
		ip->check = xl4_csum_fold(xl4_csum_words(ip, 10));
		sum = xl4_csum_words(&ip->saddr, 4) + bpf_htons(IPPROTO_TCP) +
		      bpf_htons(sizeof(*th));
	}
	th->source = p->t.dport;
	th->dest = p->t.sport;
	th->seq = isn;
	th->ack_seq = bpf_htonl(cookie);
	*((__u8 *)th + 12) = 5 << 4;		       /* data offset 5, no options */
	*((__u8 *)th + 13) = XL4_TCP_SYN | XL4_TCP_ACK; /* flags */
	th->window = bpf_htons(1024);
	th->check = 0;
	th->urg_ptr = 0;
	th->check = xl4_csum_fold(sum + xl4_csum_words(th, 10));
	return XDP_TX;
}

#endif /* XL4_GUARD_PKT_H */
