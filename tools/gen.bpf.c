// SPDX-License-Identifier: GPL-2.0
/*
 * xl4-gen's frame writer: run by BPF_PROG_TEST_RUN in live-frames mode
 * (BPF_F_TEST_XDP_LIVE_FRAMES) with the generating veth as ingress device, it writes one whole
 * frame and returns XDP_TX, which test_run turns into a transmit out of that veth.
 *
 * Live frames come from a page pool whose pages are recycled with whatever the receiver wrote
 * into them (a forwarded frame's new MAC header, an encapsulation header), so every header
 * byte (and a UDP payload: zeros) is written again on every frame. Nothing is read from the
 * frame.
 *
 * Tuple t (source address, source port, TCP sequence/ack numbers) is a keyed hash of t, so
 * the same t gives the same packet again: frame number n carries t = n / dup, or, when user
 * space replays ranges later (--dup-gap-ms), t = tbase + (n - nbase).
 *
 * The same program is attached (generic XDP) to lo for the generator's lifetime: that keeps it
 * in the kernel's XDP dispatcher, so a test_run call does not re-patch the dispatcher (two RCU
 * waits per call). On lo, and on any device but cfg.ifindex, it returns XDP_PASS at once.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "csum.h"
#include "gen.h"

const volatile struct gen_cfg cfg;

/* Run state, written by user space between test_run calls. */
__u64 frames; /* frames written so far: frame number n */
__u64 dup; /* t = n / dup (0 counts as 1) when nbase == 0 and tbase == 0 */
__u64 tbase;
__u64 nbase;
__u64 flows; /* > 0: t modulo flows, a fixed set of flows sent round and round */
__u8 zeros[1536];

static __always_inline __u64 mix(__u64 x)
{
	/* splitmix64's finaliser: every input bit moves every output bit */
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

SEC("xdp")
int gen(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	__u32 src[4], l4len, l3len, sum;
	__u64 n, t, h1, h2, h3;
	__u16 sport;
	__u8 l4proto = cfg.proto == GEN_UDP ? IPPROTO_UDP : IPPROTO_TCP;
	void *l4;

	if (ctx->ingress_ifindex != cfg.ifindex)
		return XDP_PASS;
	n = frames++;
	t = tbase + (n - nbase) / (dup ? dup : 1);
	if (flows)
		t %= flows;
	h1 = mix(t ^ cfg.seed);
	h2 = mix(h1);
	h3 = mix(h2);
	src[0] = cfg.src_net[0] | ((__u32)h1 & ~cfg.src_mask[0]);
	src[1] = cfg.src_net[1] | ((__u32)(h1 >> 32) & ~cfg.src_mask[1]);
	src[2] = cfg.src_net[2] | ((__u32)h2 & ~cfg.src_mask[2]);
	src[3] = cfg.src_net[3] | ((__u32)(h2 >> 32) & ~cfg.src_mask[3]);
	sport = 1024 + (__u16)((h3 & 0xffff) % 64512);

	if ((void *)(eth + 1) > end)
		return XDP_ABORTED;
	/* byte by byte: a memcpy from the rodata would cast away its volatile, and clang would
	 * copy the zeros it was initialised with */
	for (int i = 0; i < ETH_ALEN; i++) {
		eth->h_dest[i] = cfg.dmac[i];
		eth->h_source[i] = cfg.smac[i];
	}

	l4len = cfg.proto == GEN_UDP ? sizeof(struct udphdr) : sizeof(struct tcphdr);
	if (cfg.family == 4) {
		struct iphdr *ip = (void *)(eth + 1);

		if ((void *)(ip + 1) > end)
			return XDP_ABORTED;
		l3len = sizeof(*ip);
		if (cfg.proto == GEN_UDP)
			l4len = cfg.frame_len - ETH_HLEN - l3len;
		eth->h_proto = bpf_htons(ETH_P_IP);
		ip->version = 4;
		ip->ihl = 5;
		ip->tos = 0;
		ip->tot_len = bpf_htons(l3len + l4len);
		ip->id = bpf_htons((__u16)n);
		ip->frag_off = 0;
		ip->ttl = 64;
		ip->protocol = l4proto;
		ip->check = 0;
		ip->saddr = src[0];
		ip->daddr = cfg.dst[0];
		ip->check = xl4_csum_fold(xl4_csum_words(ip, 10));
		l4 = ip + 1;
		/* pseudo header: addresses, protocol, L4 length */
		sum = (src[0] & 0xffff) + (src[0] >> 16) + (cfg.dst[0] & 0xffff) + (cfg.dst[0] >> 16);
	} else {
		struct ipv6hdr *ip6 = (void *)(eth + 1);

		if ((void *)(ip6 + 1) > end)
			return XDP_ABORTED;
		l3len = sizeof(*ip6);
		if (cfg.proto == GEN_UDP)
			l4len = cfg.frame_len - ETH_HLEN - l3len;
		eth->h_proto = bpf_htons(ETH_P_IPV6);
		*(__be32 *)ip6 = bpf_htonl(0x60000000);
		ip6->payload_len = bpf_htons(l4len);
		ip6->nexthdr = l4proto;
		ip6->hop_limit = 64;
		sum = 0;
		for (int i = 0; i < 4; i++) {
			ip6->saddr.in6_u.u6_addr32[i] = src[i];
			ip6->daddr.in6_u.u6_addr32[i] = cfg.dst[i];
			sum += (src[i] & 0xffff) + (src[i] >> 16);
			sum += (cfg.dst[i] & 0xffff) + (cfg.dst[i] >> 16);
		}
		l4 = ip6 + 1;
	}
	sum += bpf_htons(l4proto) + bpf_htons((__u16)l4len);

	if (cfg.proto == GEN_UDP) {
		struct udphdr *udp = l4;
		__u32 plen = l4len - sizeof(*udp);
		__u16 c;

		if ((void *)(udp + 1) > end)
			return XDP_ABORTED;
		/* the payload first: zeros, so it adds nothing to the checksum */
		if (plen > sizeof(zeros))
			return XDP_ABORTED;
		if (plen > 0 && bpf_xdp_store_bytes(ctx, ETH_HLEN + l3len + sizeof(*udp), zeros, plen))
			return XDP_ABORTED;
		data = (void *)(long)ctx->data;
		end = (void *)(long)ctx->data_end;
		udp = data + ETH_HLEN + l3len;
		if ((void *)(udp + 1) > end)
			return XDP_ABORTED;
		udp->source = bpf_htons(sport);
		udp->dest = bpf_htons(cfg.dport);
		udp->len = bpf_htons((__u16)l4len);
		udp->check = 0;
		c = xl4_csum_fold(sum + xl4_csum_words(udp, 4));
		udp->check = c ? c : 0xffff;
	} else {
		struct tcphdr *tcp = l4;

		if ((void *)(tcp + 1) > end)
			return XDP_ABORTED;
		tcp->source = bpf_htons(sport);
		tcp->dest = bpf_htons(cfg.dport);
		tcp->seq = (__u32)(h3 >> 32);
		tcp->ack_seq = cfg.proto == GEN_ACK ? (__u32)(h3 >> 16) : 0;
		/* doff 5, flags */
		((__u8 *)tcp)[12] = 5 << 4;
		((__u8 *)tcp)[13] = cfg.proto == GEN_SYN ? 0x02 : cfg.proto == GEN_ACK ? 0x10 : 0x04;
		tcp->window = bpf_htons(cfg.proto == GEN_RST ? 0 : 64240);
		tcp->check = 0;
		tcp->urg_ptr = 0;
		tcp->check = xl4_csum_fold(sum + xl4_csum_words(tcp, 10));
	}
	return XDP_TX;
}

char LICENSE[] SEC("license") = "GPL";
