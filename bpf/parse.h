/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Strict packet parser: Ethernet, up to two VLAN tags, IPv4 / IPv6 (with a bounded walk over
 * extension headers), TCP, UDP, ICMP, ICMPv6. The result is one struct xl4_pkt.
 *
 * Contract, shared by every parse_* helper below: a helper reads the header at c->pos,
 * checks it against c->end (the frame) before touching it, checks its semantics against the
 * lengths the outer headers declared, advances c->pos past it and returns the next protocol
 * (>= 0) or a negative XL4_R_* drop reason. One exception: parse_ip4_head() reads the IPv4
 * fixed header's addresses without moving on (0 or a drop reason), and parse_ip4() continues
 * from the same position. Nothing here writes to the packet.
 *
 * Pure C over (data, data_end): built as BPF for the datapath and as user-space C for the
 * fuzzer and unit tests (see compat.h).
 */
#ifndef XL4_PARSE_H
#define XL4_PARSE_H

#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>

#include "compat.h"
#include "csum.h"
#include "eth.h"
#include "xl4/abi.h"

#define XL4_VLAN_MAX 2
/* Extension headers walked before giving up with ip6_ext_chain. Real traffic carries at most
 * two or three; eight is what the kernel's own fast paths consider generous. */
#define XL4_IP6_EXT_MAX 8

#define XL4_IP_MF 0x2000
#define XL4_IP_OFFSET 0x1fff

#define XL4_TCP_FIN 0x01
#define XL4_TCP_SYN 0x02
#define XL4_TCP_RST 0x04
#define XL4_TCP_PSH 0x08
#define XL4_TCP_ACK 0x10
#define XL4_TCP_URG 0x20

struct xl4_vlan_hdr {
	__be16 tci;
	__be16 encap_proto;
};

/* Masks that keep offsets read back from struct xl4_pkt provable to the verifier, wide
 * enough for any offset the parser hands on: an L3 header after Ethernet and two VLAN tags
 * (at most 22), an L4 header anywhere in a frame (XDP frames fit in one page). Never narrower:
 * a masked offset that cuts a real one points into the wrong bytes. */
#define XL4_L3_OFF_MASK 0x3f
#define XL4_OFF_MASK 0x3fff
/* The same for vlan_depth (at most XL4_VLAN_MAX), where a writer derives the L2 length from it. */
#define XL4_VLAN_DEPTH_MASK 3
_Static_assert(XL4_VLAN_MAX <= XL4_VLAN_DEPTH_MASK, "XL4_VLAN_DEPTH_MASK cuts a real depth");

/* Bits of xl4_pkt.absent. */
#define XL4_ABSENT_CT4 1    /* the established lane: no IPv4 conntrack entry (lb_stage.h) */
#define XL4_ABSENT_BLOCK4 2 /* the filter's front: no blocklist entry holds the source */
#define XL4_ABSENT_FILTER 4 /* the filter's front (IPv4): nothing for the stage to judge */
#define XL4_ABSENT_GUARD 8  /* the guard skipped this SYN (an allowlisted source, an allow
			     * rule): the LB keeps it out of the guard's SYN slots too */

struct xl4_pkt {
	struct xl4_tuple t;
	__u32 pkt_len;	 /* bytes in the frame */
	__u8 l3_off;	 /* offset of the IP header (0 when not IP; at most 14 + 2 tags) */
	__u8 absent;	 /* XL4_ABSENT_*: what a fast path found missing, so that the stage
			  * behind it does not ask again */
	__u16 l4_off;	 /* offset of the transport header (valid with XL4_F_L4) */
	__u16 l3_len;	 /* IP packet length as declared (tot_len / 40 + payload_len) */
	__u16 l4_len;	 /* bytes from l4_off to the end of the IP packet */
	__be16 l3_proto; /* ethertype after VLAN tags */
	__u8 vlan_depth;
	__u8 icmp_type;
	__u16 vlan_id[XL4_VLAN_MAX];
	__u8 icmp_code;
	__u8 frag_policy; /* XL4_FRAG_*, input to the parser */
	__u16 acked_vip;  /* set by the LB: VIP id + 1 when this ACK completed a handshake */
	__u16 vip_hint;	  /* set by the guard: VIP id + 1 of the VIP it looked up (the LB's is
			   * then an array lookup, not a second hash lookup) */
	__u16 too_big_mtu; /* set by the LB with XL4_NEXT_TOO_BIG: the VIP's MTU it exceeds */
	__u32 detail;	  /* set by later stages: what matched (for drop events) */
};

struct xl4_cursor {
	void *pos;
	void *end;
	void *start;
};

static __always_inline __u16 xl4_off(const struct xl4_cursor *c, const void *p)
{
	return (__u16)((const __u8 *)p - (const __u8 *)c->start);
}

/* Ethernet and 0..2 VLAN tags (802.1Q or 802.1ad, in any order). Returns the ethertype. */
static __always_inline int parse_eth(struct xl4_cursor *c, struct xl4_pkt *p)
{
	struct ethhdr *eth = c->pos;
	__be16 proto;

	if (xl4_unlikely((void *)(eth + 1) > c->end))
		return -XL4_R_ETH_TRUNC;
	proto = xl4_eth_proto(eth);
	c->pos = eth + 1;

	XL4_UNROLL
	for (int i = 0; i < XL4_VLAN_MAX; i++) {
		struct xl4_vlan_hdr *vh = c->pos;

		if (proto != bpf_htons(ETH_P_8021Q) && proto != bpf_htons(ETH_P_8021AD))
			break;
		if (xl4_unlikely((void *)(vh + 1) > c->end))
			return -XL4_R_VLAN_TRUNC;
		p->vlan_id[i] = bpf_ntohs(vh->tci) & 0x0fff;
		p->vlan_depth = i + 1;
		proto = vh->encap_proto;
		c->pos = vh + 1;
	}
	if (xl4_unlikely(proto == bpf_htons(ETH_P_8021Q) || proto == bpf_htons(ETH_P_8021AD)))
		return -XL4_R_VLAN_TOO_DEEP;
	p->l3_proto = proto;
	return bpf_ntohs(proto);
}

/* True when the IPv4 header's checksum, options included, is right. Summed as 32-bit words into
 * 64 bits and folded twice (RFC 1071: the sum does not depend on the word size; xl4_csum64_ok):
 * five loads for the usual 20-byte header. Option words, rare, are added one by one
 * with their own bound check so every access is provable, and only when there are some: the
 * unrolled checks cost ~10 ns on every packet otherwise (bench/profile). */
static __always_inline int ip4_hdr_csum_ok(const struct iphdr *ip, const void *end, __u32 hlen)
{
	const __u32 *w = (const __u32 *)ip;
	__u64 sum = (__u64)w[0] + w[1] + w[2] + w[3] + w[4];
	__u32 opt_words = hlen / 4 - 5;

	if (hlen != sizeof(*ip)) {
		XL4_UNROLL
		for (int i = 0; i < 10; i++) {
			if ((__u32)i < opt_words && (const void *)(w + 5 + i + 1) <= end)
				sum += w[5 + i];
		}
	}
	return xl4_csum64_ok(sum);
}

/* True for sources no real host sends from: loopback, multicast, limited broadcast and 0/8.
 * 0.0.0.0 itself stays legal: DHCP clients use it before they have an address. */
static __always_inline int ip4_src_martian(__be32 saddr)
{
	__u8 first = ((const __u8 *)&saddr)[0]; /* no byte swap for the common case */
	__u32 a;

	/* Unicast sources (first octet 1..126, 128..223) hold no martian: two compares for
	 * nearly every packet instead of five. */
	if ((__u8)(first - 1) < 126 || (__u8)(first - 128) < 96)
		return 0;
	a = bpf_ntohl(saddr);
	if (a == 0)
		return 0;
	return first == 0 || first == 127 || (first & 0xf0) == 0xe0 || a == 0xffffffff;
}

/* IPv4, first part: the fixed header whole and version 4; its addresses and protocol into p.
 * Enough for the pipeline to judge the source against the blocklist before anything else is
 * checked (bpf/xl4.bpf.c); parse_ip4() goes on from here. 0 or a drop reason; c->pos stays. */
static __always_inline int parse_ip4_head(struct xl4_cursor *c, struct xl4_pkt *p)
{
	struct iphdr *ip = c->pos;

	if (xl4_unlikely((void *)(ip + 1) > c->end))
		return -XL4_R_IP4_TRUNC;
	if (xl4_unlikely(ip->version != 4))
		return -XL4_R_IP4_BAD_VERSION;
	p->l3_off = xl4_off(c, ip);
	p->t.saddr[0] = ip->saddr;
	p->t.daddr[0] = ip->daddr;
	p->t.proto = ip->protocol;
	return 0;
}

/* IPv4 after parse_ip4_head(): returns the transport protocol. Fragments: see the frag
 * handling below. */
static __always_inline int parse_ip4(struct xl4_cursor *c, struct xl4_pkt *p)
{
	struct iphdr *ip = c->pos;
	__u32 hlen, tot;
	__u16 frag;

	if ((void *)(ip + 1) > c->end) /* checked by parse_ip4_head(); the verifier wants it here */
		return -XL4_R_IP4_TRUNC;
	/* Nearly every packet has no options: its first byte is 0x45, one compare for both of
	 * the length's checks (parse_ip4_head() checked the version). */
	if (*(__u8 *)ip == 0x45) {
		hlen = sizeof(*ip);
	} else {
		hlen = ip->ihl * 4;
		if (xl4_unlikely(hlen < sizeof(*ip)))
			return -XL4_R_IP4_BAD_IHL;
		if (xl4_unlikely((void *)((__u8 *)ip + hlen) > c->end))
			return -XL4_R_IP4_OPT_TRUNC;
	}
	tot = bpf_ntohs(ip->tot_len);
	if (xl4_unlikely(tot < hlen))
		return -XL4_R_IP4_LEN_SHORT;
	/* Bytes past tot_len are link padding (a 60-byte minimum frame) and are ignored. */
	if (xl4_unlikely(tot > (__u32)((__u8 *)c->end - (__u8 *)ip)))
		return -XL4_R_IP4_LEN_OVER;
	if (xl4_unlikely(!ip4_hdr_csum_ok(ip, c->end, hlen)))
		return -XL4_R_IP4_BAD_CSUM;
	if (xl4_unlikely(ip4_src_martian(ip->saddr)))
		return -XL4_R_IP4_SRC_MARTIAN;

	p->l3_len = tot;
	p->l4_len = tot - hlen;

	frag = bpf_ntohs(ip->frag_off);
	if (frag & (XL4_IP_MF | XL4_IP_OFFSET)) {
		/* RFC 1858: a TCP fragment at offset 1 (8 bytes) can only rewrite the header. */
		if (xl4_unlikely((frag & XL4_IP_OFFSET) == 1 && ip->protocol == IPPROTO_TCP))
			return -XL4_R_IP4_FRAG_OFFSET1;
		if (xl4_unlikely(p->frag_policy == XL4_FRAG_DROP))
			return -XL4_R_IP4_FRAG;
		p->t.flags |= XL4_F_FRAG;
		if (frag & XL4_IP_OFFSET)
			p->t.flags |= XL4_F_FRAG_LATER;
	}
	c->pos = (__u8 *)ip + hlen;
	return ip->protocol;
}

static __always_inline int ip6_src_martian(const struct ipv6hdr *ip6)
{
	const __u32 *s = (const __u32 *)&ip6->saddr;

	if (ip6->saddr.in6_u.u6_addr8[0] == 0xff)
		return 1;
	/* ::1. The unspecified address :: stays legal: duplicate address detection uses it. */
	return s[0] == 0 && s[1] == 0 && s[2] == 0 && s[3] == bpf_htonl(1);
}

struct xl4_ip6_ext {
	__u8 nexthdr;
	__u8 len;
	__be16 frag_off; /* fragment header only: offset << 3 | M */
	__be32 word;
};

/* Extension headers we walk, as a bit set over next-header values (all of them are < 64);
 * ESP, mobility and the rest end the walk as opaque payload. */
#define XL4_IP6_EXT_BITS                                                                   \
	((1ULL << IPPROTO_HOPOPTS) | (1ULL << IPPROTO_ROUTING) | (1ULL << IPPROTO_DSTOPTS) | \
	 (1ULL << IPPROTO_AH) | (1ULL << IPPROTO_FRAGMENT))
/* Bound on the bytes of extension headers walked (8 headers of at most 2048 bytes). */
#define XL4_IP6_EXT_OFF_MASK 0x7fff

static __always_inline __u64 ip6_ext_bit(__u32 nh)
{
	return nh < 64 ? 1ULL << nh : 0;
}

static __always_inline int ip6_frag(struct xl4_pkt *p, const struct xl4_ip6_ext *ext)
{
	__u16 fo = bpf_ntohs(ext->frag_off);

	/* An atomic fragment (offset 0, no M bit; RFC 6946) is a whole packet. */
	if (!(fo & 0xfff9))
		return 0;
	if (xl4_unlikely(p->frag_policy == XL4_FRAG_DROP))
		return -XL4_R_IP6_FRAG;
	p->t.flags |= XL4_F_FRAG;
	if (fo & 0xfff8)
		p->t.flags |= XL4_F_FRAG_LATER;
	return 0;
}

/* IPv6 and its extension headers. Returns the transport protocol. */
static __always_inline int parse_ip6(struct xl4_cursor *c, struct xl4_pkt *p)
{
	struct ipv6hdr *ip6 = c->pos;
	__u32 remain, nh, off = 0;

	if (xl4_unlikely((void *)(ip6 + 1) > c->end))
		return -XL4_R_IP6_TRUNC;
	if (xl4_unlikely(ip6->version != 6))
		return -XL4_R_IP6_BAD_VERSION;
	remain = bpf_ntohs(ip6->payload_len);
	if (xl4_unlikely(remain > (__u32)((__u8 *)c->end - (__u8 *)(ip6 + 1))))
		return -XL4_R_IP6_LEN_OVER;
	if (xl4_unlikely(ip6_src_martian(ip6)))
		return -XL4_R_IP6_SRC_MARTIAN;

	p->l3_off = xl4_off(c, ip6);
	p->l3_len = sizeof(*ip6) + remain;
	__builtin_memcpy(p->t.saddr, &ip6->saddr, 16);
	__builtin_memcpy(p->t.daddr, &ip6->daddr, 16);
	nh = ip6->nexthdr;

	/*
	 * Verifier economy: the walk is branch-light and keeps its position as a masked scalar
	 * offset, so the paths through one header (AH or not, fragment or not) reach the next in
	 * the same state and are verified once, not once per combination (2^8 of them).
	 */
	XL4_UNROLL
	for (int i = 0; i < XL4_IP6_EXT_MAX; i++) {
		__u64 bit = ip6_ext_bit(nh);
		struct xl4_ip6_ext *ext;
		__u32 is_ah, is_frag, len;

		if (!(bit & XL4_IP6_EXT_BITS))
			goto done;
		/* RFC 8200 4.1: hop-by-hop only directly after the IPv6 header. */
		if (xl4_unlikely(i != 0 && (bit & (1ULL << IPPROTO_HOPOPTS))))
			return -XL4_R_IP6_EXT_ORDER;
		off &= XL4_IP6_EXT_OFF_MASK;
		ext = (void *)((__u8 *)(ip6 + 1) + off);
		if (xl4_unlikely(remain < sizeof(*ext) || (void *)(ext + 1) > c->end))
			return -XL4_R_IP6_EXT_TRUNC;
		/* AH counts 4-byte units minus 2 (RFC 4302), the others 8-byte units minus 1; the
		 * fragment header's length byte is reserved: always 8 bytes. */
		is_ah = (bit >> IPPROTO_AH) & 1;
		is_frag = (bit >> IPPROTO_FRAGMENT) & 1;
		len = ((__u32)ext->len * (1 - is_frag) + 1 + is_ah) * (8 - 4 * is_ah);
		if (is_frag) {
			int ret = ip6_frag(p, ext);

			if (xl4_unlikely(ret))
				return ret;
		}
		if (xl4_unlikely(len > remain))
			return -XL4_R_IP6_EXT_TRUNC;
		remain -= len;
		off += len;
		nh = ext->nexthdr;
		if (p->t.flags & XL4_F_FRAG_LATER)
			goto done;
	}
	if (xl4_unlikely(ip6_ext_bit(nh) & XL4_IP6_EXT_BITS))
		return -XL4_R_IP6_EXT_CHAIN;
done:
	c->pos = (__u8 *)(ip6 + 1) + (off & XL4_IP6_EXT_OFF_MASK);
	p->l4_len = remain;
	p->t.proto = nh;
	p->t.flags |= XL4_F_IPV6;
	return nh;
}

/* A first fragment must hold the whole transport header (RFC 1858, RFC 7112 for IPv6). */
static __always_inline int short_l4(const struct xl4_pkt *p, int trunc_reason)
{
	if (p->t.flags & XL4_F_FRAG)
		return (p->t.flags & XL4_F_IPV6) ? -XL4_R_IP6_FRAG_TINY : -XL4_R_IP4_FRAG_TINY;
	return -trunc_reason;
}

/* Bit f is set when the six flag bits f (FIN..URG: what tcp_flags_invalid() reads) make a
 * combination it refuses: one shift and test for every segment, the reason worked out only for a
 * refused one. tests/unit/test_parse_flags.c holds it to tcp_flags_invalid() for all 64. */
#define XL4_TCP_FLAGS_BAD 0xeac8ffffc8c8ffebull

static __always_inline int tcp_flags_invalid(__u8 f)
{
	if ((f & 0x3f) == 0)
		return XL4_R_TCP_FLAGS_NULL;
	if ((f & (XL4_TCP_SYN | XL4_TCP_FIN)) == (XL4_TCP_SYN | XL4_TCP_FIN))
		return XL4_R_TCP_FLAGS_SYN_FIN;
	if ((f & (XL4_TCP_SYN | XL4_TCP_RST)) == (XL4_TCP_SYN | XL4_TCP_RST))
		return XL4_R_TCP_FLAGS_SYN_RST;
	if ((f & (XL4_TCP_FIN | XL4_TCP_PSH | XL4_TCP_URG)) ==
	    (XL4_TCP_FIN | XL4_TCP_PSH | XL4_TCP_URG))
		return XL4_R_TCP_FLAGS_XMAS;
	/* After the SYN every segment carries ACK; a stack sends FIN/PSH/URG only with it. */
	if ((f & (XL4_TCP_FIN | XL4_TCP_PSH | XL4_TCP_URG)) && !(f & XL4_TCP_ACK))
		return XL4_R_TCP_FLAGS_NO_ACK;
	return 0;
}

/* The ports into the tuple as one 32-bit store (the source in the low half, as they lie in
 * memory on this little-endian target). The flow key and the flow cache read both as one word,
 * and a load that spans two narrower stores still in flight cannot take its data from them: it
 * waits for them to reach the cache (~5 ns of every established packet here; round
 * twenty-five). */
static __always_inline void tuple_ports_set(struct xl4_pkt *p, __be16 sport, __be16 dport)
{
	__u32 ports = (__u32)sport | (__u32)dport << 16;

	__builtin_memcpy(&p->t.sport, &ports, sizeof(ports));
}
_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "tuple_ports_set(): little-endian");
_Static_assert(__builtin_offsetof(struct xl4_tuple, dport) ==
			       __builtin_offsetof(struct xl4_tuple, sport) + 2 &&
		       __builtin_offsetof(struct xl4_tuple, sport) % 4 == 0,
	       "the ports are one aligned word");

static __always_inline int parse_tcp(struct xl4_cursor *c, struct xl4_pkt *p)
{
	struct tcphdr *th = c->pos;
	__u32 hlen;
	__u8 flags;

	if (xl4_unlikely(p->l4_len < sizeof(*th)))
		return short_l4(p, XL4_R_TCP_TRUNC);
	if (xl4_unlikely((void *)(th + 1) > c->end))
		return -XL4_R_TCP_TRUNC;
	hlen = th->doff * 4;
	if (xl4_unlikely(hlen < sizeof(*th)))
		return -XL4_R_TCP_BAD_DOFF;
	if (hlen > p->l4_len) /* a first fragment that splits the options: too small (RFC 1858) */
		return short_l4(p, XL4_R_TCP_OPT_TRUNC);
	flags = ((__u8 *)th)[13];
	if (xl4_unlikely((XL4_TCP_FLAGS_BAD >> (flags & 0x3f)) & 1))
		return -tcp_flags_invalid(flags);
	if (xl4_unlikely(th->source == 0 || th->dest == 0))
		return -XL4_R_TCP_PORT_ZERO;
	tuple_ports_set(p, th->source, th->dest);
	p->t.tcp_flags = flags;
	return 0;
}

static __always_inline int parse_udp(struct xl4_cursor *c, struct xl4_pkt *p)
{
	struct udphdr *uh = c->pos;
	__u32 ulen;

	if (xl4_unlikely(p->l4_len < sizeof(*uh)))
		return short_l4(p, XL4_R_UDP_TRUNC);
	if (xl4_unlikely((void *)(uh + 1) > c->end))
		return -XL4_R_UDP_TRUNC;
	ulen = bpf_ntohs(uh->len);
	/* A first fragment's UDP length covers the whole datagram, not just this fragment. */
	if (p->t.flags & XL4_F_FRAG) {
		if (xl4_unlikely(ulen < p->l4_len))
			return -XL4_R_UDP_LEN_MISMATCH;
	} else if (ulen != p->l4_len) {
		return -XL4_R_UDP_LEN_MISMATCH;
	}
	/* RFC 768 lets a sender put 0 in the source port, but no stack does; floods do. */
	if (xl4_unlikely(uh->source == 0 || uh->dest == 0))
		return -XL4_R_UDP_PORT_ZERO;
	tuple_ports_set(p, uh->source, uh->dest);
	return 0;
}

/* ICMP and ICMPv6: every defined message has at least 8 bytes (type, code, checksum and a
 * 4-byte body), so fewer is truncation. */
static __always_inline int parse_icmp(struct xl4_cursor *c, struct xl4_pkt *p, int trunc_reason)
{
	__u8 *ih = c->pos;

	if (xl4_unlikely(p->l4_len < 8))
		return short_l4(p, trunc_reason);
	if (xl4_unlikely((void *)(ih + 8) > c->end))
		return -trunc_reason;
	p->icmp_type = ih[0];
	p->icmp_code = ih[1];
	return 0;
}

static __always_inline int parse_l4(struct xl4_cursor *c, struct xl4_pkt *p, int proto)
{
	int ipv6 = p->t.flags & XL4_F_IPV6;
	int ret;

	/* Later fragments carry no transport header: nothing more to check or read. */
	if (p->t.flags & XL4_F_FRAG_LATER)
		return 0;
	p->l4_off = xl4_off(c, c->pos);
	switch (proto) {
	case IPPROTO_TCP:
		ret = parse_tcp(c, p);
		break;
	case IPPROTO_UDP:
		ret = parse_udp(c, p);
		break;
	case IPPROTO_ICMP:
		if (xl4_unlikely(ipv6))
			return -XL4_R_L4_PROTO_MISMATCH;
		ret = parse_icmp(c, p, XL4_R_ICMP_TRUNC);
		break;
	case IPPROTO_ICMPV6:
		if (xl4_unlikely(!ipv6))
			return -XL4_R_L4_PROTO_MISMATCH;
		ret = parse_icmp(c, p, XL4_R_ICMP6_TRUNC);
		break;
	default:
		/* Other protocols (GRE, ESP, SCTP...) pass unparsed; later stages may rule on them. */
		return 0;
	}
	if (ret == 0)
		p->t.flags |= XL4_F_L4;
	return ret;
}

/*
 * A frame is parsed in two calls, so that the pipeline can judge an IPv4 source between them:
 * xl4_parse_head() reads Ethernet, the VLAN tags and, for IPv4, the fixed header's addresses
 * (parse_ip4_head()), and returns the ethertype (host order) or a negative XL4_R_* reason;
 * xl4_parse_rest() takes that ethertype and parses the rest: 0 (p filled as far as it applies;
 * non-IP frames have l3_proto set and no XL4_F_* flags) or a negative XL4_R_* reason.
 * xl4_parse() is both. p->frag_policy is an input.
 */
static __always_inline int xl4_parse_head(struct xl4_cursor *c, struct xl4_pkt *p)
{
	int proto;

	p->pkt_len = (__u32)((__u8 *)c->end - (__u8 *)c->pos);
	proto = parse_eth(c, p);
	if (proto == ETH_P_IP) {
		int ret = parse_ip4_head(c, p);

		if (xl4_unlikely(ret < 0))
			return ret;
	}
	return proto;
}

static __always_inline int xl4_parse_rest(struct xl4_cursor *c, struct xl4_pkt *p, int ethertype)
{
	int proto;

	if (ethertype == ETH_P_IP)
		proto = parse_ip4(c, p);
	else if (ethertype == ETH_P_IPV6)
		proto = parse_ip6(c, p);
	else
		return 0;
	if (proto < 0)
		return proto;
	return parse_l4(c, p, proto);
}

static __always_inline int xl4_parse(void *data, void *data_end, struct xl4_pkt *p)
{
	struct xl4_cursor c = { .pos = data, .end = data_end, .start = data };
	int ethertype = xl4_parse_head(&c, p);

	if (ethertype < 0)
		return ethertype;
	return xl4_parse_rest(&c, p, ethertype);
}

#endif /* XL4_PARSE_H */
