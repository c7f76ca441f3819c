/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ipip forwarding: IPv4-in-IPv4 (protocol 4) or IPv6-in-IPv6 (next header 41) to the backend,
 * which decapsulates with the xl4 agent (no ipip module needed). The outer source varies per
 * flow inside a configured prefix so the backend's NIC spreads flows over its queues (RSS).
 *
 * When the encapsulated packet would exceed the VIP's MTU, the client gets an ICMP
 * "fragmentation needed" (IPv4 with DF) or ICMPv6 "packet too big" naming the MTU it must use,
 * built in place from the packet and sent back with XDP_TX. The encapsulation itself, which
 * touches no map, is encap_pkt.h.
 */
#ifndef XL4_ENCAP_H
#define XL4_ENCAP_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>

#include "compat.h"
#include "csum.h"
#include "encap_pkt.h"
#include "lb.h"

/*
 * ICMP fragmentation-needed (type 3 code 4, RFC 1191) back to an IPv4 client: the reply holds
 * our IPv4 header, the ICMP header with the next-hop MTU, and the offending packet's IP header
 * (options included) plus 8 bytes, as RFC 792 asks (a receiver needs ihl * 4 + 8 bytes to find
 * its socket). Built in place while the frame is still long: save what is quoted, write the
 * new headers and the quote, checksum them, then cut the frame to size and send it back.
 * Global functions, each with its own frame, so neither adds to the pipeline's 512 bytes of
 * stack what the other needs.
 */
#define XL4_ICMP4_QUOTE_MAX 68 /* up to a 60-byte IPv4 header + 8 bytes of transport header */

__noinline int xl4_too_big_ip4(struct xdp_md *ctx, const struct xl4_pkt *p, __u16 mtu)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	__u32 l2;
	struct iphdr *ip;
	__u8 *icmp;
	__u32 qlen;
	__s64 sum;
	__be32 client, vip;
	struct ethhdr *eth = data;

	if (!p)
		return -XL4_R_LB_TOO_BIG;
	l2 = 14 + 4 * (p->vlan_depth & XL4_VLAN_DEPTH_MASK);
	if (l2 > XL4_L2_MAX)
		return -XL4_R_LB_TOO_BIG;
	ip = (void *)((__u8 *)data + l2);
	xl4_barrier_var(ip);
	icmp = (__u8 *)(ip + 1);
	/* A too-big packet is far longer than the reply (VIP mtu >= 596). */
	if ((void *)(icmp + 8 + XL4_ICMP4_QUOTE_MAX) > end || (void *)(eth + 1) > end)
		return -XL4_R_LB_TOO_BIG;
	/* Only DF packets may get "fragmentation needed"; others we cannot fragment either. */
	if (!(ip->frag_off & bpf_htons(XL4_IP_DF)))
		return -XL4_R_LB_TOO_BIG;
	qlen = (ip->ihl & 0xf) * 4 + 8; /* ihl >= 5: the parser checked */
	client = ip->saddr;
	vip = ip->daddr;
	xl4_eth_swap(eth);
	/* The quote moves 28 bytes up, to after the new IP and ICMP headers: all 68 bytes (what
	 * lies past qlen is cut off below), word by word from the top, so each word is read
	 * before the move overwrites it; the headers are written after. */
	{
		__u32 *q = (__u32 *)ip;

		XL4_UNROLL
		for (int i = XL4_ICMP4_QUOTE_MAX / 4 - 1; i >= 0; i--)
			q[i + 7] = q[i];
	}
	xl4_barrier_mem();

	ip->version = 4;
	ip->ihl = 5;
	ip->tos = 0;
	ip->tot_len = bpf_htons(sizeof(struct iphdr) + 8 + qlen);
	ip->id = 0;
	ip->frag_off = 0;
	ip->ttl = XL4_IPIP_TTL;
	ip->protocol = IPPROTO_ICMP;
	ip->check = 0;
	ip->saddr = vip;
	ip->daddr = client;
	ip->check = xl4_csum_fold(xl4_csum_words(ip, 10));

	icmp[0] = 3; /* destination unreachable */
	icmp[1] = 4; /* fragmentation needed and DF set */
	*(__u16 *)(icmp + 2) = 0;
	*(__u16 *)(icmp + 4) = 0;
	*(__be16 *)(icmp + 6) = bpf_htons(mtu);
	sum = bpf_csum_diff(NULL, 0, (__be32 *)icmp, 8 + qlen, 0);
	if (sum < 0)
		return -XL4_R_LB_TOO_BIG;
	*(__u16 *)(icmp + 2) = xl4_csum_fold((__u32)sum);

	if (bpf_xdp_adjust_tail(ctx, (int)(l2 + sizeof(struct iphdr) + 8 + qlen) - (int)p->pkt_len))
		return -XL4_R_LB_TOO_BIG;
	return XDP_TX;
}

/*
 * ICMPv6 packet too big (type 2, RFC 4443) back to an IPv6 client, quoting the offending
 * packet's IPv6 header and 8 more bytes (enough for the client to find its socket). The
 * ICMPv6 checksum covers the pseudo-header.
 */
#define XL4_ICMP6_QUOTE 48 /* 40-byte IPv6 header + 8 bytes */

__noinline int xl4_too_big_ip6(struct xdp_md *ctx, const struct xl4_pkt *p, __u32 mtu)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	__u32 l2;
	__u8 quote[XL4_ICMP6_QUOTE];
	struct ipv6hdr *ip6;
	struct ethhdr *eth = data;
	__u8 *icmp;
	__u32 new_len, sum, plen = 8 + XL4_ICMP6_QUOTE;
	struct in6_addr client, vip;

	if (!p)
		return -XL4_R_LB_TOO_BIG;
	l2 = 14 + 4 * (p->vlan_depth & XL4_VLAN_DEPTH_MASK);
	if (l2 > XL4_L2_MAX)
		return -XL4_R_LB_TOO_BIG;
	ip6 = (void *)((__u8 *)data + l2);
	if ((void *)((__u8 *)ip6 + XL4_ICMP6_QUOTE) > end || (void *)(eth + 1) > end)
		return -XL4_R_LB_TOO_BIG;
	__builtin_memcpy(quote, ip6, XL4_ICMP6_QUOTE);
	__builtin_memcpy(&client, &ip6->saddr, 16);
	__builtin_memcpy(&vip, &ip6->daddr, 16);
	xl4_eth_swap(eth);

	new_len = l2 + sizeof(struct ipv6hdr) + plen;
	if (bpf_xdp_adjust_tail(ctx, (int)new_len - (int)p->pkt_len))
		return -XL4_R_LB_TOO_BIG;
	data = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;
	ip6 = (void *)((__u8 *)data + l2);
	xl4_barrier_var(ip6);
	icmp = (__u8 *)(ip6 + 1);
	if ((void *)(icmp + plen) > end)
		return -XL4_R_LB_TOO_BIG;

	*(__be32 *)ip6 = bpf_htonl(6u << 28);
	ip6->payload_len = bpf_htons(plen);
	ip6->nexthdr = IPPROTO_ICMPV6;
	ip6->hop_limit = 255;
	__builtin_memcpy(&ip6->saddr, &vip, 16);
	__builtin_memcpy(&ip6->daddr, &client, 16);

	icmp[0] = 2; /* packet too big */
	icmp[1] = 0;
	*(__u16 *)(icmp + 2) = 0;
	*(__be32 *)(icmp + 4) = bpf_htonl(mtu);
	__builtin_memcpy(icmp + 8, quote, XL4_ICMP6_QUOTE);
	/* Pseudo-header: addresses, upper-layer length, next header. */
	sum = xl4_csum_words(&ip6->saddr, 16);
	sum += bpf_htons(plen) + bpf_htons(IPPROTO_ICMPV6);
	sum += xl4_csum_words(icmp, plen / 2);
	*(__u16 *)(icmp + 2) = xl4_csum_fold(sum);
	return XDP_TX;
}

/* Would the encapsulated packet exceed the VIP's MTU? */
static __always_inline int ipip_too_big(const struct xl4_pkt *p, const struct xl4_vip *vip)
{
	__u32 hdr = (p->t.flags & XL4_F_IPV6) ? sizeof(struct ipv6hdr) : sizeof(struct iphdr);

	return vip->mtu && (__u32)p->l3_len + hdr > vip->mtu;
}

/* Does an IPv4 packet carry DF? */
static __always_inline int too_big_df4(struct xdp_md *ctx, const struct xl4_pkt *p)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct iphdr *ip = (void *)((__u8 *)data + (p->l3_off & 31));

	return (void *)(ip + 1) <= end && (ip->frag_off & bpf_htons(XL4_IP_DF));
}

/* The client's answer when it is: ICMP too big for the VIP's MTU (p->too_big_mtu, set by
 * the LB stage), or a drop when IPv4 DF is not set, or when this CPU's budget of replies for
 * the second is spent. */
static __always_inline int ipip_reply_too_big(struct xdp_md *ctx, const struct xl4_pkt *p,
					      const struct xl4_lb_globals *g)
{
	__u32 zero = 0, mtu = p->too_big_mtu;

	/* Only DF packets may get "fragmentation needed" (xl4_too_big_ip4() checks it as well):
	 * one without spends no reply from the budget. */
	if (!(p->t.flags & XL4_F_IPV6) && !too_big_df4(ctx, p))
		return -XL4_R_LB_TOO_BIG;
	if (g->too_big_per_sec &&
	    !xl4_bucket_take(bpf_map_lookup_elem(&xl4_tbbudg_v1, &zero), g->too_big_per_sec, xl4_now()))
		return -XL4_R_LB_TOO_BIG;
	if (p->t.flags & XL4_F_IPV6)
		return mtu > sizeof(struct ipv6hdr) ?
			       xl4_too_big_ip6(ctx, p, mtu - sizeof(struct ipv6hdr)) :
			       -XL4_R_LB_TOO_BIG;
	return mtu > sizeof(struct iphdr) ? xl4_too_big_ip4(ctx, p, mtu - sizeof(struct iphdr)) :
					    -XL4_R_LB_TOO_BIG;
}

/* ipip forwarding; the caller has checked the MTU (ipip_too_big()). */
static __always_inline int fwd_ipip(struct xdp_md *ctx, const struct xl4_pkt *p,
				    const struct xl4_backend *be, __u32 hash,
				    const struct xl4_lb_globals *g)
{
	return (p->t.flags & XL4_F_IPV6) ?
		       encap_ip6(ctx, p, hash, be, g->ipip_src6) :
		       encap_ip4(ctx, p, hash, be, g->ipip_src4, g->ipip_src4_mask);
}

#endif /* XL4_ENCAP_H */
