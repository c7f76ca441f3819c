// SPDX-License-Identifier: GPL-2.0
/*
 * The fixture table: malformed packets, each with the one drop reason it must get, and valid
 * packets that must pass unchanged. A row runs as subtests: for each IP version in .ip and
 * each link layer in .l2 (untagged, 802.1Q, 802.1ad, QinQ 802.1ad+802.1Q, 802.1Q+802.1Q),
 * named "row/v4/dot1q" and so on. Builders get the variant and build the whole frame.
 */
#include <stdio.h>
#include <string.h>
#include <linux/bpf.h>
#include <linux/ip.h>
#include <linux/ipv6.h>

#include "harness.h"
#include "filter_cases.h"
#include "lb_cases.h"
#include "names.h"
#include "xl4/abi.h"

enum { V4 = 1, V6 = 2, V46 = 3, NOIP = 4 };
enum { L2_NONE = 1, L2_DOT1Q = 2, L2_DOT1AD = 4, L2_QINQ = 8, L2_QQ = 16, L2_ALL = 31,
       L2_UPTO1 = L2_NONE | L2_DOT1Q | L2_DOT1AD };

static const struct {
	const char *name;
	int ntags;
	uint16_t tpid[2];
} l2_variants[] = {
	{ "untagged", 0, { 0 } },
	{ "dot1q", 1, { ETH_P_8021Q } },
	{ "dot1ad", 1, { ETH_P_8021AD } },
	{ "qinq", 2, { ETH_P_8021AD, ETH_P_8021Q } },
	{ "dot1q-dot1q", 2, { ETH_P_8021Q, ETH_P_8021Q } },
};

struct fx_ctx {
	int v6;		 /* build IPv6 instead of IPv4 */
	int l2;		 /* index in l2_variants */
	unsigned long arg; /* the row's argument */
};

typedef void (*build_fn)(struct pkt *p, const struct fx_ctx *c);

struct fixture {
	const char *name;
	build_fn build;
	unsigned long arg;
	unsigned int ip;     /* V4 | V6, or NOIP */
	unsigned int l2;     /* L2_* mask; 0 means L2_ALL */
	enum fx_engine eng;  /* which frag policy */
	uint32_t verdict;    /* XDP_* */
	uint32_t r4, r6;     /* reason for the IPv4 / IPv6 subtest */
	build_fn build_out;  /* expected output; NULL: unchanged */
};

#define DROP(r) .verdict = XDP_DROP, .r4 = XL4_R_##r, .r6 = XL4_R_##r
#define DROP46(a, b) .verdict = XDP_DROP, .r4 = XL4_R_##a, .r6 = XL4_R_##b
#define PASS .verdict = XDP_PASS, .r4 = XL4_R_NONE, .r6 = XL4_R_NONE

/* ---- building blocks ---- */

/* The first 20 bytes of a plausible transport header: ports, then for TCP doff 5 and SYN. */
static const uint8_t l4_hdr20[20] = { CLIENT_PORT >> 8, CLIENT_PORT & 0xff, 0, VIP_PORT, 0, 0, 0, 1,
				      0, 0, 0, 0, 0x50, TH_SYN, 0xff, 0xff };

static void l2(struct pkt *p, const struct fx_ctx *c)
{
	pb_init(p);
	pb_eth(p, 0);
	for (int i = 0; i < l2_variants[c->l2].ntags; i++)
		pb_vlan(p, l2_variants[c->l2].tpid[i], 100 + i);
}

static void ip_frag(struct pkt *p, const struct fx_ctx *c, uint16_t frag)
{
	if (c->v6)
		pb_ip6(p, &(struct pb_ip6){ .src = CLIENT6, .dst = VIP6 });
	else
		pb_ip4(p, &(struct pb_ip4){ .src = CLIENT4, .dst = VIP4, .frag = frag });
}

static void ip(struct pkt *p, const struct fx_ctx *c)
{
	ip_frag(p, c, 0);
}

/* eth [vlans] ip tcp(flags) */
static void tcp_pkt(struct pkt *p, const struct fx_ctx *c, uint16_t sport, uint16_t dport,
		    uint8_t flags)
{
	l2(p, c);
	ip(p, c);
	pb_tcp(p, sport, dport, flags);
	pb_finish(p);
}

static void udp_pkt(struct pkt *p, const struct fx_ctx *c, uint16_t sport, uint16_t dport,
		    uint16_t payload)
{
	l2(p, c);
	ip(p, c);
	pb_udp(p, sport, dport);
	pb_payload(p, NULL, payload);
	pb_finish(p);
}

/* The ICMP of the packet's own family: echo request. */
static void echo(struct pkt *p, const struct fx_ctx *c)
{
	if (c->v6)
		pb_icmp6(p, 128, 0);
	else
		pb_icmp(p, 8, 0);
}

static uint8_t icmp_proto(const struct fx_ctx *c)
{
	return c->v6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP;
}

static void set_totlen(struct pkt *p, const struct fx_ctx *c, uint32_t l3len)
{
	if (c->v6)
		pkt_set16(p, IP6_OFF(p, payload_len), l3len - 40);
	else
		pkt_set_ip4_totlen(p, l3len, 1);
}

/* ---- link layer ---- */

static void b_short_frame(struct pkt *p, const struct fx_ctx *c)
{
	tcp_pkt(p, c, CLIENT_PORT, VIP_PORT, TH_SYN);
	pkt_truncate(p, c->arg);
}

/* One more tag than the variant has, cut after `arg` bytes of it. */
static void b_vlan_cut(struct pkt *p, const struct fx_ctx *c)
{
	l2(p, c);
	pb_vlan(p, ETH_P_8021Q, 300);
	ip(p, c);
	pb_tcp(p, CLIENT_PORT, VIP_PORT, TH_SYN);
	pb_finish(p);
	pkt_truncate(p, ETH_HLEN + 4 * l2_variants[c->l2].ntags + c->arg);
}

/* Three tags: arg packs the three TPIDs' kinds, bit i set = 802.1ad for tag i. */
static void b_vlan3(struct pkt *p, const struct fx_ctx *c)
{
	pb_init(p);
	pb_eth(p, 0);
	for (int i = 0; i < 3; i++)
		pb_vlan(p, (c->arg >> i) & 1 ? ETH_P_8021AD : ETH_P_8021Q, 10 + i);
	ip(p, c);
	pb_tcp(p, CLIENT_PORT, VIP_PORT, TH_SYN);
	pb_finish(p);
}

static void b_ethertype(struct pkt *p, const struct fx_ctx *c)
{
	static const uint8_t arp_req[28] = { 0, 1, 8, 0, 6, 4, 0, 1, 2, 0, 0, 0, 0, 1,
					     198, 18, 0, 1, 0, 0, 0, 0, 0, 0, 198, 18, 1, 1 };

	l2(p, c);
	pb_finish(p); /* nothing IP follows: pb_finish leaves the type field alone */
	pkt_set16(p, ETH_HLEN + 4 * l2_variants[c->l2].ntags - 2, c->arg);
	pb_payload(p, arp_req, sizeof(arp_req));
	pkt_pad(p, 60);
}

/* ---- IP headers ---- */

static void b_ip_cut(struct pkt *p, const struct fx_ctx *c)
{
	tcp_pkt(p, c, CLIENT_PORT, VIP_PORT, TH_SYN);
	/* arg: bytes short of a full header; 0xff: nothing after the ethertype */
	pkt_truncate(p, c->arg == 0xff ? (uint32_t)p->l3 : p->l3 + (c->v6 ? 40 : 20) - c->arg);
}

static void b_bad_version(struct pkt *p, const struct fx_ctx *c)
{
	tcp_pkt(p, c, CLIENT_PORT, VIP_PORT, TH_SYN);
	pkt_set8(p, p->l3, (p->b[p->l3] & 0x0f) | (c->arg << 4));
	if (!c->v6)
		pkt_ip4_csum_fix(p);
}

static void b_ihl(struct pkt *p, const struct fx_ctx *c)
{
	tcp_pkt(p, c, CLIENT_PORT, VIP_PORT, TH_SYN);
	pkt_set8(p, p->l3, 0x40 | c->arg);
	if (c->arg >= 5)
		pkt_ip4_csum_fix(p);
}

static const uint8_t opts_ra[4] = { 0x94, 0x04, 0x00, 0x00 }; /* router alert */
static const uint8_t opts_nop8[8] = { 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x00 };
static uint8_t opts_40[40];

/* IPv4 with options (arg bytes), TCP SYN. */
static void b_ip4_opts(struct pkt *p, const struct fx_ctx *c)
{
	const void *o = c->arg == 4 ? (const void *)opts_ra : c->arg == 8 ? opts_nop8 : opts_40;

	memset(opts_40, 1, sizeof(opts_40)); /* NOPs */
	opts_40[39] = 0;		     /* EOL */
	l2(p, c);
	pb_ip4(p, &(struct pb_ip4){ .src = CLIENT4, .dst = VIP4, .opts = o, .optlen = c->arg });
	pb_tcp(p, CLIENT_PORT, VIP_PORT, TH_SYN);
	pb_finish(p);
}

/* 8 bytes of options, frame cut 4 bytes into them. */
static void b_ip4_opts_cut(struct pkt *p, const struct fx_ctx *c)
{
	l2(p, c);
	pb_ip4(p, &(struct pb_ip4){ .src = CLIENT4, .dst = VIP4, .opts = opts_nop8, .optlen = 8 });
	pb_finish(p);
	pkt_truncate(p, p->l3 + 24);
}

/* tot_len (or payload_len) set to arg bytes of L3 (0xffff: the largest), checksum fixed. */
static void b_l3len(struct pkt *p, const struct fx_ctx *c)
{
	uint32_t l3len = 0;

	tcp_pkt(p, c, CLIENT_PORT, VIP_PORT, TH_SYN);
	switch (c->arg) {
	case 1: /* one byte more than there is */
		l3len = p->len - p->l3 + 1;
		break;
	case 0xffff:
		l3len = c->v6 ? 0xffff + 40 : 0xffff;
		break;
	default: /* 0x10000 stands for 0 */
		l3len = c->arg & 0xffff;
	}
	set_totlen(p, c, l3len);
}

/* IPv4 with 8 bytes of options, tot_len set to arg. */
static void b_ip4_opts_len(struct pkt *p, const struct fx_ctx *c)
{
	l2(p, c);
	pb_ip4(p, &(struct pb_ip4){ .src = CLIENT4, .dst = VIP4, .opts = opts_nop8, .optlen = 8 });
	pb_tcp(p, CLIENT_PORT, VIP_PORT, TH_SYN);
	pb_finish(p);
	pkt_set_ip4_totlen(p, c->arg, 1);
}

/* Damage the IPv4 checksum: arg 0 flips a checksum bit, 1 zeroes it, 2 changes an option
 * byte (8 bytes of options) and leaves the checksum as it was. */
static void b_ip4_csum(struct pkt *p, const struct fx_ctx *c)
{
	if (c->arg == 2) {
		struct fx_ctx c2 = *c;

		c2.arg = 8;
		b_ip4_opts(p, &c2);
		pkt_set8(p, p->l3 + 22, 0x07);
		return;
	}
	tcp_pkt(p, c, CLIENT_PORT, VIP_PORT, TH_SYN);
	if (c->arg == 0)
		pkt_set8(p, IP4_OFF(p, check), p->b[IP4_OFF(p, check)] ^ 0x01);
	else
		pkt_set16(p, IP4_OFF(p, check), 0);
}

/* UDP from source address arg (host order), to VIP4:53. */
static void b_src4(struct pkt *p, const struct fx_ctx *c)
{
	l2(p, c);
	pb_ip4(p, &(struct pb_ip4){ .src = c->arg, .dst = VIP4 });
	pb_udp(p, 68, 67);
	pb_payload(p, NULL, 20);
	pb_finish(p);
}

static void b_dst4(struct pkt *p, const struct fx_ctx *c)
{
	l2(p, c);
	pb_ip4(p, &(struct pb_ip4){ .src = CLIENT4, .dst = c->arg });
	pb_udp(p, CLIENT_PORT, 5353);
	pb_payload(p, NULL, 20);
	pb_finish(p);
}

static const struct in6_addr src6_list[] = {
	{ { { 0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 } } }, /* ff02::1 */
	{ { { 0xff, 0x0e, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 } } }, /* ff0e::1 */
	{ { { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 } } },	  /* ::1 */
	{ { { 0 } } },							  /* :: */
	{ { { 0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 } } }, /* fe80::1 */
};

/* UDP from src6_list[arg]. */
static void b_src6(struct pkt *p, const struct fx_ctx *c)
{
	l2(p, c);
	pb_ip6(p, &(struct pb_ip6){ .src = src6_list[c->arg], .dst = VIP6 });
	pb_udp(p, CLIENT_PORT, 53);
	pb_payload(p, NULL, 20);
	pb_finish(p);
}

/* ICMPv6 neighbour solicitation from :: for VIP6 (duplicate address detection). */
static void b_ns_dad(struct pkt *p, const struct fx_ctx *c)
{
	static const struct in6_addr snm = { { { 0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff,
						 0, 0, 1 } } };

	l2(p, c);
	pb_ip6(p, &(struct pb_ip6){ .src = { { { 0 } } }, .dst = snm, .hop_limit = 255 });
	pb_icmp6(p, 135, 0);
	pb_payload(p, &VIP6, 16);
	pb_finish(p);
}

/* ---- fragments ---- */

enum { FR_FIRST, FR_LATER, FR_LAST, FR_OFF1, FR_OFF1_MF, FR_ATOMIC, FR_DF };

static uint16_t frag4(int kind)
{
	switch (kind) {
	case FR_FIRST:
		return IP4_MF;
	case FR_LATER:
		return IP4_MF | 185;
	case FR_LAST:
		return 370;
	case FR_OFF1:
		return 1;
	case FR_OFF1_MF:
		return IP4_MF | 1;
	case FR_DF:
		return IP4_DF;
	default:
		return 0;
	}
}

static void frag_hdr(struct pkt *p, const struct fx_ctx *c, int kind)
{
	ip_frag(p, c, frag4(kind));
	if (!c->v6 || kind == FR_DF)
		return;
	switch (kind) {
	case FR_FIRST:
		pb_frag6(p, 0, 1, 7);
		break;
	case FR_LATER:
		pb_frag6(p, 185, 1, 7);
		break;
	case FR_LAST:
		pb_frag6(p, 370, 0, 7);
		break;
	case FR_OFF1:
		pb_frag6(p, 1, 0, 7);
		break;
	case FR_OFF1_MF:
		pb_frag6(p, 1, 1, 7);
		break;
	case FR_ATOMIC:
		pb_frag6(p, 0, 0, 7);
		break;
	}
}

/* arg: fragment kind | L4 << 8 (0 TCP, 1 UDP, 2 ICMP) | L4 bytes << 16 (0: a full header).
 * Short L4 parts are opaque bytes (pb_raw), as a fragment carries them. */
#define FRAG(kind, l4, bytes) ((kind) | (l4) << 8 | (unsigned long)(bytes) << 16)
static void b_frag(struct pkt *p, const struct fx_ctx *c)
{
	int kind = c->arg & 0xff, l4 = (c->arg >> 8) & 0xff, bytes = c->arg >> 16;
	static const uint8_t proto[] = { IPPROTO_TCP, IPPROTO_UDP, 0 };
	uint8_t pr = l4 == 2 ? icmp_proto(c) : proto[l4];

	l2(p, c);
	frag_hdr(p, c, kind);
	if (bytes || kind == FR_LATER || kind == FR_LAST || kind == FR_OFF1 || kind == FR_OFF1_MF) {
		/* fragment data; for later fragments a null-flag TCP-looking header to prove
		 * nothing past the IP header is read */
		pb_raw(p, pr, NULL, bytes ? bytes : 64);
		if (!bytes)
			memset(p->b + p->len - 64, 0, 64);
		else /* the start of a real header: only the length is wrong */
			memcpy(p->b + p->len - bytes, l4_hdr20, bytes < 20 ? bytes : 20);
	} else if (l4 == 0) {
		pb_tcp(p, CLIENT_PORT, VIP_PORT, TH_ACK | TH_PSH);
		pb_payload(p, NULL, 24);
	} else if (l4 == 1) {
		pb_udp(p, CLIENT_PORT, 53);
		pb_payload(p, NULL, 24);
	} else {
		echo(p, c);
		pb_payload(p, NULL, 24);
	}
	pb_finish(p);
}

/* A first TCP fragment holding the fixed header but not the options its data offset announces
 * (40 bytes, 20 here): not its whole transport header (RFC 1858), as a shorter one is not. */
static void b_frag_tcp_opts(struct pkt *p, const struct fx_ctx *c)
{
	b_frag(p, &(struct fx_ctx){ .v6 = c->v6, .l2 = c->l2, .arg = FRAG(FR_FIRST, 0, 20) });
	p->b[p->len - 20 + 12] = 0xa0; /* doff 10 */
}

/* First UDP fragment whose UDP length is the whole datagram (arg 0: 1000 bytes, fine) or
 * shorter than this fragment's part (arg 1: 8 bytes, wrong). */
static void b_frag_udp_len(struct pkt *p, const struct fx_ctx *c)
{
	b_frag(p, &(struct fx_ctx){ .v6 = c->v6, .l2 = c->l2, .arg = FRAG(FR_FIRST, 1, 0) });
	pkt_set16(p, p->l4 + 4, c->arg ? 8 : 1000);
}

/* ---- IPv6 extension headers ---- */

/* A chain from a string: h hop-by-hop, d dstopts, r routing, a AH (12 bytes), A AH (24),
 * f atomic fragment, F first fragment; then TCP SYN (or nothing with arg2). */
static void ext_chain(struct pkt *p, const struct fx_ctx *c, const char *chain)
{
	l2(p, c);
	pb_ip6(p, &(struct pb_ip6){ .src = CLIENT6, .dst = VIP6 });
	for (const char *s = chain; *s; s++) {
		switch (*s) {
		case 'h':
			pb_ext(p, IPPROTO_HOPOPTS, 8);
			break;
		case 'H':
			pb_ext(p, IPPROTO_HOPOPTS, 24);
			break;
		case 'd':
			pb_ext(p, IPPROTO_DSTOPTS, 8);
			break;
		case 'D':
			pb_ext(p, IPPROTO_DSTOPTS, 16);
			break;
		case 'r':
			pb_ext(p, IPPROTO_ROUTING, 8);
			break;
		case 'R':
			pb_ext(p, IPPROTO_ROUTING, 24);
			break;
		case 'a':
			pb_ext(p, IPPROTO_AH, 12);
			break;
		case 'A':
			pb_ext(p, IPPROTO_AH, 24);
			break;
		case 'f':
			pb_frag6(p, 0, 0, 9);
			break;
		}
	}
}

static void b_ext(struct pkt *p, const struct fx_ctx *c)
{
	ext_chain(p, c, (const char *)c->arg);
	pb_tcp(p, CLIENT_PORT, VIP_PORT, TH_SYN);
	pb_finish(p);
}

static void b_ext_udp(struct pkt *p, const struct fx_ctx *c)
{
	ext_chain(p, c, (const char *)c->arg);
	pb_udp(p, CLIENT_PORT, 53);
	pb_payload(p, NULL, 12);
	pb_finish(p);
}

/* Extension header damage, arg:
 * 0 hop-by-hop but payload_len 4 (less than one 8-byte unit)
 * 1 hop-by-hop length field says 16 bytes, 8 in the packet
 * 2 AH length field says 40 bytes, 32 in the packet
 * 3 routing header, only 4 bytes of it
 * 4 fragment header, only 4 bytes of it
 * 5 dstopts after hop-by-hop, its length runs past payload_len (frame has more: padding) */
static void b_ext_trunc(struct pkt *p, const struct fx_ctx *c)
{
	l2(p, c);
	pb_ip6(p, &(struct pb_ip6){ .src = CLIENT6, .dst = VIP6 });
	switch (c->arg) {
	case 0:
		pb_ext(p, IPPROTO_HOPOPTS, 8);
		pb_tcp(p, CLIENT_PORT, VIP_PORT, TH_SYN);
		pb_finish(p);
		pkt_set16(p, IP6_OFF(p, payload_len), 4);
		pkt_truncate(p, p->l3 + 44);
		break;
	case 1:
		pb_ext(p, IPPROTO_HOPOPTS, 8);
		pb_finish(p);
		pkt_set8(p, p->l3 + 41, 1);
		break;
	case 2:
		pb_ext(p, IPPROTO_AH, 12);
		pb_tcp(p, CLIENT_PORT, VIP_PORT, TH_SYN);
		pb_finish(p);
		pkt_set8(p, p->l3 + 41, 40 / 4 - 2);
		break;
	case 3:
		pb_raw(p, IPPROTO_ROUTING, NULL, 4);
		pb_finish(p);
		break;
	case 4:
		pb_raw(p, IPPROTO_FRAGMENT, NULL, 4);
		pb_finish(p);
		break;
	case 5:
		pb_ext(p, IPPROTO_HOPOPTS, 8);
		pb_ext(p, IPPROTO_DSTOPTS, 16);
		pb_finish(p);
		pkt_set16(p, IP6_OFF(p, payload_len), 16);
		break;
	}
}

/* ---- TCP ---- */

static void b_tcp(struct pkt *p, const struct fx_ctx *c)
{
	tcp_pkt(p, c, CLIENT_PORT, VIP_PORT, c->arg);
}

/* arg: 1 source port 0, 2 destination port 0, 3 both. */
static void b_tcp_port0(struct pkt *p, const struct fx_ctx *c)
{
	tcp_pkt(p, c, c->arg & 1 ? 0 : CLIENT_PORT, c->arg & 2 ? 0 : VIP_PORT, TH_SYN);
}

static void b_tcp_opts(struct pkt *p, const struct fx_ctx *c)
{
	static const uint8_t syn_opts[20] = { 2, 4, 0x05, 0xb4,		/* MSS 1460 */
					      4, 2,			/* SACK permitted */
					      8, 10, 0, 0, 0, 1, 0, 0, 0, 0, /* timestamps */
					      1, 3, 3, 7 };		/* NOP, wscale 7 */

	l2(p, c);
	ip(p, c);
	pb_tcp(p, CLIENT_PORT, VIP_PORT, TH_SYN);
	pb_tcp_opts(p, syn_opts, sizeof(syn_opts));
	pb_finish(p);
}

/* TCP with arg & 0xff payload bytes and data offset arg >> 8. */
#define DOFF(doff, payload) ((doff) << 8 | (payload))
static void b_tcp_doff(struct pkt *p, const struct fx_ctx *c)
{
	l2(p, c);
	ip(p, c);
	pb_tcp(p, CLIENT_PORT, VIP_PORT, TH_ACK);
	pb_payload(p, NULL, c->arg & 0xff);
	pb_finish(p);
	pkt_set8(p, TCP_DOFF_OFF(p), (c->arg >> 8) << 4);
}

/* Transport header of protocol arg cut to arg2 bytes (the IP length agrees: not a
 * truncated frame but a short packet). arg = proto | bytes << 8; proto 0: own ICMP. */
#define SHORT(proto, bytes) ((proto) | (bytes) << 8)
static void b_l4_short(struct pkt *p, const struct fx_ctx *c)
{
	uint8_t proto = c->arg & 0xff ? c->arg & 0xff : icmp_proto(c);
	l2(p, c);
	ip(p, c);
	pb_raw(p, proto, l4_hdr20, c->arg >> 8);
	pb_finish(p);
}

/* ---- UDP ---- */

/* UDP length field: arg 0 right, 1 one more, 2 one less, 3 zero, 4 eight (header only). */
static void b_udp_len(struct pkt *p, const struct fx_ctx *c)
{
	uint16_t ulen;

	udp_pkt(p, c, CLIENT_PORT, 53, 32);
	ulen = pkt_get16(p, p->l4 + 4);
	switch (c->arg) {
	case 1:
		ulen++;
		break;
	case 2:
		ulen--;
		break;
	case 3:
		ulen = 0;
		break;
	case 4:
		ulen = 8;
		break;
	}
	pkt_set16(p, p->l4 + 4, ulen);
}

static void b_udp_port0(struct pkt *p, const struct fx_ctx *c)
{
	udp_pkt(p, c, c->arg & 1 ? 0 : CLIENT_PORT, c->arg & 2 ? 0 : 53, 16);
}

static void b_udp(struct pkt *p, const struct fx_ctx *c)
{
	udp_pkt(p, c, CLIENT_PORT, 53, c->arg);
}

/* ---- ICMP ---- */

static void b_echo(struct pkt *p, const struct fx_ctx *c)
{
	l2(p, c);
	ip(p, c);
	if (c->arg) /* reply */
		c->v6 ? pb_icmp6(p, 129, 0) : pb_icmp(p, 0, 0);
	else
		echo(p, c);
	pb_payload(p, NULL, 56);
	pb_finish(p);
}

/* Destination unreachable quoting the start of a TCP packet. */
static void b_unreach(struct pkt *p, const struct fx_ctx *c)
{
	l2(p, c);
	ip(p, c);
	c->v6 ? pb_icmp6(p, 1, 4) : pb_icmp(p, 3, 3);
	pb_payload(p, NULL, c->v6 ? 48 : 28);
	pb_finish(p);
}

/* The other family's ICMP: ICMPv6 in IPv4, ICMP in IPv6; arg 1: with no bytes at all. */
static void b_icmp_mismatch(struct pkt *p, const struct fx_ctx *c)
{
	l2(p, c);
	ip(p, c);
	if (c->arg)
		pb_raw(p, c->v6 ? IPPROTO_ICMP : IPPROTO_ICMPV6, NULL, 0);
	else if (c->v6)
		pb_icmp(p, 8, 0);
	else
		pb_icmp6(p, 128, 0);
	pb_finish(p);
}

static void b_icmp_mismatch_ext(struct pkt *p, const struct fx_ctx *c)
{
	ext_chain(p, c, "hd");
	pb_icmp(p, 8, 0);
	pb_finish(p);
}

/* ---- other transports and padding ---- */

static void b_other_l4(struct pkt *p, const struct fx_ctx *c)
{
	static const uint8_t body[16] = { 0, 0, 0x08, 0x00 }; /* GRE: no flags, IPv4 */

	l2(p, c);
	ip(p, c);
	pb_raw(p, c->arg, body, sizeof(body));
	pb_finish(p);
}

static void b_ah_esp(struct pkt *p, const struct fx_ctx *c)
{
	ext_chain(p, c, "a");
	pb_raw(p, IPPROTO_ESP, NULL, 40);
	pb_finish(p);
}

static void b_no_next(struct pkt *p, const struct fx_ctx *c)
{
	l2(p, c);
	ip(p, c);
	pb_finish(p); /* IPv6 next header 59 (none), IPv4 protocol 255 */
}

/* Short packets padded to the 60-byte Ethernet minimum (arg: 0 TCP ACK, 1 UDP 2 bytes,
 * 2 ICMP echo); padding that is not zero (arg | 0x10). */
static void b_padded(struct pkt *p, const struct fx_ctx *c)
{
	l2(p, c);
	ip(p, c);
	switch (c->arg & 0x0f) {
	case 0:
		pb_tcp(p, CLIENT_PORT, VIP_PORT, TH_ACK);
		break;
	case 1:
		pb_udp(p, CLIENT_PORT, 53);
		pb_payload(p, NULL, 2);
		break;
	case 2:
		echo(p, c);
		break;
	}
	pb_finish(p);
	{
		uint32_t from = p->len;

		pkt_pad(p, p->len < 60 ? 60 : p->len + 6);
		if (c->arg & 0x10)
			memset(p->b + from, 0xee, p->len - from);
	}
}

/* ---- the table ---- */

#define CHAIN(s) ((unsigned long)(s))
#define SRC4(a, b, c, d) ((unsigned long)(a) << 24 | (b) << 16 | (c) << 8 | (d))

static const struct fixture fixtures[] = {
	/* link layer */
	{ "eth_trunc/13", b_short_frame, 13, NOIP, L2_NONE, DROP(ETH_TRUNC) },
	{ "eth_trunc/0", b_short_frame, 0, NOIP, L2_NONE, DROP(ETH_TRUNC) },
	{ "vlan_trunc/type-only", b_vlan_cut, 0, NOIP, L2_UPTO1, DROP(VLAN_TRUNC) },
	{ "vlan_trunc/half-tag", b_vlan_cut, 2, NOIP, L2_UPTO1, DROP(VLAN_TRUNC) },
	{ "vlan_trunc/3-of-4", b_vlan_cut, 3, NOIP, L2_UPTO1, DROP(VLAN_TRUNC) },
	{ "vlan_too_deep/q-q-q", b_vlan3, 0, V46, L2_NONE, DROP(VLAN_TOO_DEEP) },
	{ "vlan_too_deep/ad-q-q", b_vlan3, 1, V46, L2_NONE, DROP(VLAN_TOO_DEEP) },
	{ "vlan_too_deep/ad-ad-ad", b_vlan3, 7, V46, L2_NONE, DROP(VLAN_TOO_DEEP) },
	{ "pass/arp", b_ethertype, ETH_P_ARP, NOIP, 0, PASS },
	{ "pass/lldp", b_ethertype, 0x88cc, NOIP, 0, PASS },
	{ "pass/ethertype-9100", b_ethertype, 0x9100, NOIP, 0, PASS },
	{ "pass/802.3-length", b_ethertype, 46, NOIP, 0, PASS },

	/* IP header */
	{ "ip_trunc/hdr-1", b_ip_cut, 1, V46, 0, DROP46(IP4_TRUNC, IP6_TRUNC) },
	{ "ip_trunc/half", b_ip_cut, 10, V46, 0, DROP46(IP4_TRUNC, IP6_TRUNC) },
	{ "ip_trunc/empty", b_ip_cut, 0xff, V46, 0, DROP46(IP4_TRUNC, IP6_TRUNC) },
	{ "bad_version/swapped", b_bad_version, 6, V4, 0, DROP(IP4_BAD_VERSION) },
	{ "bad_version/swapped", b_bad_version, 4, V6, 0, DROP(IP6_BAD_VERSION) },
	{ "bad_version/zero", b_bad_version, 0, V46, 0, DROP46(IP4_BAD_VERSION, IP6_BAD_VERSION) },
	{ "bad_version/fifteen", b_bad_version, 15, V46, 0, DROP46(IP4_BAD_VERSION, IP6_BAD_VERSION) },
	{ "ip4_bad_ihl/4", b_ihl, 4, V4, 0, DROP(IP4_BAD_IHL) },
	{ "ip4_bad_ihl/0", b_ihl, 0, V4, 0, DROP(IP4_BAD_IHL) },
	{ "ip4_opt_trunc/ihl15", b_ihl, 15, V4, 0, DROP(IP4_OPT_TRUNC) },
	{ "ip4_opt_trunc/cut-in-options", b_ip4_opts_cut, 0, V4, 0, DROP(IP4_OPT_TRUNC) },
	{ "ip4_len_short/19", b_l3len, 19, V4, 0, DROP(IP4_LEN_SHORT) },
	{ "ip4_len_short/0", b_l3len, 0x10000, V4, 0, DROP(IP4_LEN_SHORT) },
	{ "ip4_len_short/below-options", b_ip4_opts_len, 24, V4, 0, DROP(IP4_LEN_SHORT) },
	{ "len_over/one-byte", b_l3len, 1, V46, 0, DROP46(IP4_LEN_OVER, IP6_LEN_OVER) },
	{ "len_over/max", b_l3len, 0xffff, V46, 0, DROP46(IP4_LEN_OVER, IP6_LEN_OVER) },
	{ "ip4_bad_csum/flipped", b_ip4_csum, 0, V4, 0, DROP(IP4_BAD_CSUM) },
	{ "ip4_bad_csum/zero", b_ip4_csum, 1, V4, 0, DROP(IP4_BAD_CSUM) },
	{ "ip4_bad_csum/options", b_ip4_csum, 2, V4, 0, DROP(IP4_BAD_CSUM) },
	{ "ip4_src_martian/127.0.0.1", b_src4, SRC4(127, 0, 0, 1), V4, 0, DROP(IP4_SRC_MARTIAN) },
	{ "ip4_src_martian/127.255.255.254", b_src4, SRC4(127, 255, 255, 254), V4, 0, DROP(IP4_SRC_MARTIAN) },
	{ "ip4_src_martian/224.0.0.1", b_src4, SRC4(224, 0, 0, 1), V4, 0, DROP(IP4_SRC_MARTIAN) },
	{ "ip4_src_martian/239.255.255.250", b_src4, SRC4(239, 255, 255, 250), V4, 0, DROP(IP4_SRC_MARTIAN) },
	{ "ip4_src_martian/255.255.255.255", b_src4, SRC4(255, 255, 255, 255), V4, 0, DROP(IP4_SRC_MARTIAN) },
	{ "ip4_src_martian/0.1.2.3", b_src4, SRC4(0, 1, 2, 3), V4, 0, DROP(IP4_SRC_MARTIAN) },
	{ "ip4_src_martian/0.0.0.1", b_src4, SRC4(0, 0, 0, 1), V4, 0, DROP(IP4_SRC_MARTIAN) },
	{ "pass/src-0.0.0.0-dhcp", b_src4, 0, V4, 0, PASS },
	{ "pass/src-198.18.0.1", b_src4, CLIENT4, V4, 0, PASS },
	{ "pass/dst-multicast", b_dst4, SRC4(224, 0, 0, 251), V4, 0, PASS },
	{ "pass/dst-broadcast", b_dst4, SRC4(255, 255, 255, 255), V4, 0, PASS },
	{ "ip6_src_martian/ff02::1", b_src6, 0, V6, 0, DROP(IP6_SRC_MARTIAN) },
	{ "ip6_src_martian/ff0e::1", b_src6, 1, V6, 0, DROP(IP6_SRC_MARTIAN) },
	{ "ip6_src_martian/::1", b_src6, 2, V6, 0, DROP(IP6_SRC_MARTIAN) },
	{ "pass/src-::", b_src6, 3, V6, 0, PASS },
	{ "pass/src-fe80::1", b_src6, 4, V6, 0, PASS },
	{ "pass/icmp6-ns-dad", b_ns_dad, 0, V6, 0, PASS },

	/* IPv4 options */
	{ "pass/ip4-opts-router-alert", b_ip4_opts, 4, V4, 0, PASS },
	{ "pass/ip4-opts-8", b_ip4_opts, 8, V4, 0, PASS },
	{ "pass/ip4-opts-40", b_ip4_opts, 40, V4, 0, PASS },

	/* fragments */
	{ "frag_tiny/tcp-8", b_frag, FRAG(FR_FIRST, 0, 8), V46, 0, DROP46(IP4_FRAG_TINY, IP6_FRAG_TINY) },
	{ "frag_tiny/tcp-19", b_frag, FRAG(FR_FIRST, 0, 19), V46, 0, DROP46(IP4_FRAG_TINY, IP6_FRAG_TINY) },
	{ "frag_tiny/tcp-options-split", b_frag_tcp_opts, 0, V46, 0, DROP46(IP4_FRAG_TINY, IP6_FRAG_TINY) },
	{ "frag_tiny/udp-4", b_frag, FRAG(FR_FIRST, 1, 4), V46, 0, DROP46(IP4_FRAG_TINY, IP6_FRAG_TINY) },
	{ "frag_tiny/icmp-4", b_frag, FRAG(FR_FIRST, 2, 4), V46, 0, DROP46(IP4_FRAG_TINY, IP6_FRAG_TINY) },
	{ "ip4_frag_offset1/tcp", b_frag, FRAG(FR_OFF1, 0, 0), V4, 0, DROP(IP4_FRAG_OFFSET1) },
	{ "ip4_frag_offset1/tcp-mf", b_frag, FRAG(FR_OFF1_MF, 0, 0), V4, 0, DROP(IP4_FRAG_OFFSET1) },
	{ "ip4_frag_offset1/tcp-drop-policy", b_frag, FRAG(FR_OFF1, 0, 0), V4, 0, ENG_DROP, DROP(IP4_FRAG_OFFSET1) },
	{ "pass/frag-offset1-udp", b_frag, FRAG(FR_OFF1, 1, 0), V4, 0, PASS },
	{ "pass/frag-first-tcp", b_frag, FRAG(FR_FIRST, 0, 0), V46, 0, PASS },
	{ "pass/frag-first-udp", b_frag, FRAG(FR_FIRST, 1, 0), V46, 0, PASS },
	{ "pass/frag-first-icmp", b_frag, FRAG(FR_FIRST, 2, 0), V46, 0, PASS },
	{ "pass/frag-first-tcp-exact-20", b_frag, FRAG(FR_FIRST, 0, 20), V46, 0, PASS },
	{ "pass/frag-later-tcp", b_frag, FRAG(FR_LATER, 0, 0), V46, 0, PASS },
	{ "pass/frag-later-icmp", b_frag, FRAG(FR_LATER, 2, 0), V46, 0, PASS },
	{ "pass/frag-last-udp", b_frag, FRAG(FR_LAST, 1, 0), V46, 0, PASS },
	{ "pass/frag-later-tiny", b_frag, FRAG(FR_LATER, 0, 8), V46, 0, PASS },
	{ "pass/frag-offset1-ip6", b_frag, FRAG(FR_OFF1, 0, 0), V6, 0, PASS },
	{ "pass/frag-df", b_frag, FRAG(FR_DF, 0, 0), V4, 0, PASS },
	{ "pass/frag-first-udp-whole-len", b_frag_udp_len, 0, V46, 0, PASS },
	{ "udp_len_mismatch/frag-first-short", b_frag_udp_len, 1, V46, 0, DROP(UDP_LEN_MISMATCH) },
	{ "pass/ip6-atomic-frag", b_frag, FRAG(FR_ATOMIC, 0, 0), V6, 0, PASS },
	{ "frag_policy/first", b_frag, FRAG(FR_FIRST, 0, 0), V46, 0, ENG_DROP, DROP46(IP4_FRAG, IP6_FRAG) },
	{ "frag_policy/later", b_frag, FRAG(FR_LATER, 0, 0), V46, 0, ENG_DROP, DROP46(IP4_FRAG, IP6_FRAG) },
	{ "frag_policy/last-udp", b_frag, FRAG(FR_LAST, 1, 0), V46, 0, ENG_DROP, DROP46(IP4_FRAG, IP6_FRAG) },
	{ "frag_policy/tiny-first", b_frag, FRAG(FR_FIRST, 0, 8), V46, 0, ENG_DROP, DROP46(IP4_FRAG, IP6_FRAG) },
	{ "frag_policy/pass-df", b_frag, FRAG(FR_DF, 0, 0), V4, 0, ENG_DROP, PASS },
	{ "frag_policy/pass-ip6-atomic", b_frag, FRAG(FR_ATOMIC, 0, 0), V6, 0, ENG_DROP, PASS },
	{ "frag_policy/pass-tcp-syn", b_tcp, TH_SYN, V46, 0, ENG_DROP, PASS },

	/* IPv6 extension headers */
	{ "ip6_ext_trunc/hbh-payload-4", b_ext_trunc, 0, V6, 0, DROP(IP6_EXT_TRUNC) },
	{ "ip6_ext_trunc/hbh-len-16-of-8", b_ext_trunc, 1, V6, 0, DROP(IP6_EXT_TRUNC) },
	{ "ip6_ext_trunc/ah-len-40-of-32", b_ext_trunc, 2, V6, 0, DROP(IP6_EXT_TRUNC) },
	{ "ip6_ext_trunc/routing-4", b_ext_trunc, 3, V6, 0, DROP(IP6_EXT_TRUNC) },
	{ "ip6_ext_trunc/frag-4", b_ext_trunc, 4, V6, 0, DROP(IP6_EXT_TRUNC) },
	{ "ip6_ext_trunc/past-payload-len", b_ext_trunc, 5, V6, 0, DROP(IP6_EXT_TRUNC) },
	{ "ip6_ext_chain/9-dstopts", b_ext, CHAIN("ddddddddd"), V6, 0, DROP(IP6_EXT_CHAIN) },
	{ "ip6_ext_chain/hbh+8", b_ext, CHAIN("hdrdadrdd"), V6, 0, DROP(IP6_EXT_CHAIN) },
	{ "ip6_ext_chain/10-mixed", b_ext, CHAIN("hdRDadrAdr"), V6, 0, DROP(IP6_EXT_CHAIN) },
	{ "ip6_ext_chain/9th-is-frag", b_ext, CHAIN("hdrdadrdf"), V6, 0, DROP(IP6_EXT_CHAIN) },
	{ "ip6_ext_order/dst-hbh", b_ext, CHAIN("dh"), V6, 0, DROP(IP6_EXT_ORDER) },
	{ "ip6_ext_order/hbh-hbh", b_ext, CHAIN("hh"), V6, 0, DROP(IP6_EXT_ORDER) },
	{ "ip6_ext_order/hbh-8th", b_ext, CHAIN("ddddrrrh"), V6, 0, DROP(IP6_EXT_ORDER) },
	{ "pass/ip6-hbh", b_ext, CHAIN("h"), V6, 0, PASS },
	{ "pass/ip6-hbh-24", b_ext, CHAIN("H"), V6, 0, PASS },
	{ "pass/ip6-hbh-dst-rt", b_ext, CHAIN("hdr"), V6, 0, PASS },
	{ "pass/ip6-hbh-dst-rt-ah-dst", b_ext_udp, CHAIN("hdRad"), V6, 0, PASS },
	{ "pass/ip6-ah-12", b_ext, CHAIN("a"), V6, 0, PASS },
	{ "pass/ip6-ah-24", b_ext, CHAIN("A"), V6, 0, PASS },
	{ "pass/ip6-chain-8", b_ext, CHAIN("hdrdadrd"), V6, 0, PASS },
	{ "pass/ip6-chain-8-no-hbh", b_ext_udp, CHAIN("DRAdrfad"), V6, 0, PASS },
	{ "pass/ip6-chain-8-last-atomic-frag", b_ext, CHAIN("hdrdadrf"), V6, 0, PASS },

	/* TCP */
	{ "tcp_trunc/19", b_l4_short, SHORT(IPPROTO_TCP, 19), V46, 0, DROP(TCP_TRUNC) },
	{ "tcp_trunc/8", b_l4_short, SHORT(IPPROTO_TCP, 8), V46, 0, DROP(TCP_TRUNC) },
	{ "tcp_trunc/0", b_l4_short, SHORT(IPPROTO_TCP, 0), V46, 0, DROP(TCP_TRUNC) },
	{ "tcp_bad_doff/4", b_tcp_doff, DOFF(4, 0), V46, 0, DROP(TCP_BAD_DOFF) },
	{ "tcp_bad_doff/0", b_tcp_doff, DOFF(0, 8), V46, 0, DROP(TCP_BAD_DOFF) },
	{ "tcp_opt_trunc/15", b_tcp_doff, DOFF(15, 0), V46, 0, DROP(TCP_OPT_TRUNC) },
	{ "tcp_opt_trunc/6", b_tcp_doff, DOFF(6, 0), V46, 0, DROP(TCP_OPT_TRUNC) },
	{ "tcp_opt_trunc/8-of-7", b_tcp_doff, DOFF(8, 8), V46, 0, DROP(TCP_OPT_TRUNC) },
	{ "pass/tcp-doff-8-exact", b_tcp_doff, DOFF(8, 12), V46, 0, PASS },
	{ "tcp_flags_null/0", b_tcp, 0, V46, 0, DROP(TCP_FLAGS_NULL) },
	{ "tcp_flags_null/ece-cwr", b_tcp, TH_ECE | TH_CWR, V46, 0, DROP(TCP_FLAGS_NULL) },
	{ "tcp_flags_syn_fin/sf", b_tcp, TH_SYN | TH_FIN, V46, 0, DROP(TCP_FLAGS_SYN_FIN) },
	{ "tcp_flags_syn_fin/sfa", b_tcp, TH_SYN | TH_FIN | TH_ACK, V46, 0, DROP(TCP_FLAGS_SYN_FIN) },
	{ "tcp_flags_syn_fin/all", b_tcp, 0xff, V46, 0, DROP(TCP_FLAGS_SYN_FIN) },
	{ "tcp_flags_syn_rst/sr", b_tcp, TH_SYN | TH_RST, V46, 0, DROP(TCP_FLAGS_SYN_RST) },
	{ "tcp_flags_syn_rst/sra", b_tcp, TH_SYN | TH_RST | TH_ACK, V46, 0, DROP(TCP_FLAGS_SYN_RST) },
	{ "tcp_flags_xmas/fpu", b_tcp, TH_FIN | TH_PSH | TH_URG, V46, 0, DROP(TCP_FLAGS_XMAS) },
	{ "tcp_flags_xmas/fpua", b_tcp, TH_FIN | TH_PSH | TH_URG | TH_ACK, V46, 0, DROP(TCP_FLAGS_XMAS) },
	{ "tcp_flags_no_ack/fin", b_tcp, TH_FIN, V46, 0, DROP(TCP_FLAGS_NO_ACK) },
	{ "tcp_flags_no_ack/psh", b_tcp, TH_PSH, V46, 0, DROP(TCP_FLAGS_NO_ACK) },
	{ "tcp_flags_no_ack/urg", b_tcp, TH_URG, V46, 0, DROP(TCP_FLAGS_NO_ACK) },
	{ "tcp_flags_no_ack/fin-psh", b_tcp, TH_FIN | TH_PSH, V46, 0, DROP(TCP_FLAGS_NO_ACK) },
	{ "tcp_flags_no_ack/rst-psh", b_tcp, TH_RST | TH_PSH, V46, 0, DROP(TCP_FLAGS_NO_ACK) },
	{ "tcp_port_zero/src", b_tcp_port0, 1, V46, 0, DROP(TCP_PORT_ZERO) },
	{ "tcp_port_zero/dst", b_tcp_port0, 2, V46, 0, DROP(TCP_PORT_ZERO) },
	{ "tcp_port_zero/both", b_tcp_port0, 3, V46, 0, DROP(TCP_PORT_ZERO) },
	{ "pass/tcp-syn", b_tcp, TH_SYN, V46, 0, PASS },
	{ "pass/tcp-syn-ack", b_tcp, TH_SYN | TH_ACK, V46, 0, PASS },
	{ "pass/tcp-ack", b_tcp, TH_ACK, V46, 0, PASS },
	{ "pass/tcp-psh-ack", b_tcp, TH_PSH | TH_ACK, V46, 0, PASS },
	{ "pass/tcp-fin-ack", b_tcp, TH_FIN | TH_ACK, V46, 0, PASS },
	{ "pass/tcp-rst", b_tcp, TH_RST, V46, 0, PASS },
	{ "pass/tcp-rst-ack", b_tcp, TH_RST | TH_ACK, V46, 0, PASS },
	{ "pass/tcp-urg-ack", b_tcp, TH_URG | TH_ACK, V46, 0, PASS },
	{ "pass/tcp-syn-ece-cwr", b_tcp, TH_SYN | TH_ECE | TH_CWR, V46, 0, PASS },
	{ "pass/tcp-syn-options", b_tcp_opts, 0, V46, 0, PASS },

	/* UDP */
	{ "udp_trunc/7", b_l4_short, SHORT(IPPROTO_UDP, 7), V46, 0, DROP(UDP_TRUNC) },
	{ "udp_trunc/0", b_l4_short, SHORT(IPPROTO_UDP, 0), V46, 0, DROP(UDP_TRUNC) },
	{ "udp_len_mismatch/longer", b_udp_len, 1, V46, 0, DROP(UDP_LEN_MISMATCH) },
	{ "udp_len_mismatch/shorter", b_udp_len, 2, V46, 0, DROP(UDP_LEN_MISMATCH) },
	{ "udp_len_mismatch/zero", b_udp_len, 3, V46, 0, DROP(UDP_LEN_MISMATCH) },
	{ "udp_len_mismatch/header-only", b_udp_len, 4, V46, 0, DROP(UDP_LEN_MISMATCH) },
	{ "udp_port_zero/src", b_udp_port0, 1, V46, 0, DROP(UDP_PORT_ZERO) },
	{ "udp_port_zero/dst", b_udp_port0, 2, V46, 0, DROP(UDP_PORT_ZERO) },
	{ "pass/udp", b_udp, 32, V46, 0, PASS },
	{ "pass/udp-empty", b_udp, 0, V46, 0, PASS },
	{ "pass/udp-1000", b_udp, 1000, V46, 0, PASS },

	/* ICMP */
	{ "icmp_trunc/7", b_l4_short, SHORT(0, 7), V4, 0, DROP(ICMP_TRUNC) },
	{ "icmp_trunc/0", b_l4_short, SHORT(0, 0), V4, 0, DROP(ICMP_TRUNC) },
	{ "icmp6_trunc/7", b_l4_short, SHORT(0, 7), V6, 0, DROP(ICMP6_TRUNC) },
	{ "icmp6_trunc/4", b_l4_short, SHORT(0, 4), V6, 0, DROP(ICMP6_TRUNC) },
	{ "l4_proto_mismatch/echo", b_icmp_mismatch, 0, V46, 0, DROP(L4_PROTO_MISMATCH) },
	{ "l4_proto_mismatch/empty", b_icmp_mismatch, 1, V46, 0, DROP(L4_PROTO_MISMATCH) },
	{ "l4_proto_mismatch/after-ext", b_icmp_mismatch_ext, 0, V6, 0, DROP(L4_PROTO_MISMATCH) },
	{ "pass/icmp-echo", b_echo, 0, V46, 0, PASS },
	{ "pass/icmp-echo-reply", b_echo, 1, V46, 0, PASS },
	{ "pass/icmp-unreachable", b_unreach, 0, V46, 0, PASS },
	{ "pass/icmp-exact-8", b_l4_short, SHORT(0, 8), V46, 0, PASS },

	/* other transports, padding */
	{ "pass/gre", b_other_l4, IPPROTO_GRE, V46, 0, PASS },
	{ "pass/sctp", b_other_l4, IPPROTO_SCTP, V46, 0, PASS },
	{ "pass/esp", b_other_l4, IPPROTO_ESP, V46, 0, PASS },
	{ "pass/ipip", b_other_l4, IPPROTO_IPIP, V46, 0, PASS },
	{ "pass/no-next-header", b_no_next, 0, V46, 0, PASS },
	{ "pass/ah-esp", b_ah_esp, 0, V6, 0, PASS },
	{ "pass/padded-tcp", b_padded, 0, V46, 0, PASS },
	{ "pass/padded-udp", b_padded, 1, V46, 0, PASS },
	{ "pass/padded-icmp", b_padded, 2, V46, 0, PASS },
	{ "pass/padded-nonzero", b_padded, 0x11, V46, 0, PASS },
};

static void run_fixture(const struct fixture *f, int v6, int l2i, int *subtests)
{
	char name[160];
	struct pkt in, out;
	struct fx_ctx c = { .v6 = v6, .l2 = l2i, .arg = f->arg };

	if (f->ip & NOIP)
		snprintf(name, sizeof(name), "%s/%s", f->name, l2_variants[l2i].name);
	else
		snprintf(name, sizeof(name), "%s/%s/%s", f->name, v6 ? "v6" : "v4",
			 l2_variants[l2i].name);
	if (!fx_selected(name))
		return;
	f->build(&in, &c);
	if (f->build_out)
		f->build_out(&out, &c);
	(*subtests)++;
	fx_check(name, f->eng, &in, f->verdict, v6 ? f->r6 : f->r4, f->build_out ? &out : NULL);
}

void suite_catalogue(void)
{
	const size_t n = sizeof(fixtures) / sizeof(fixtures[0]);
	bool seen[XL4_REASON_MAX] = { false };
	int subtests = 0, classes = 0, covered = 0;

	for (size_t i = 0; i < n; i++) {
		const struct fixture *f = &fixtures[i];
		unsigned int l2mask = f->l2 ? f->l2 : L2_ALL;

		for (int v6 = 0; v6 < 2; v6++) {
			if (!(f->ip & (v6 ? V6 : V4)) && !(f->ip == NOIP && !v6))
				continue;
			for (size_t l = 0; l < sizeof(l2_variants) / sizeof(l2_variants[0]); l++)
				if (l2mask & (1u << l))
					run_fixture(f, v6, l, &subtests);
		}
		if (f->verdict == XDP_DROP) {
			classes++;
			seen[f->r4] = seen[f->r6] = true;
		}
	}
	for (int r = 1; r < XL4_REASON_MAX; r++) {
		const char *untestable;

		/* the load balancer's reasons are expected by lb_cases.c's drop table, the
		 * filter's by filter_cases.c */
		if (seen[r] || lb_reason_expected(r, &untestable) ||
		    filter_reason_expected(r, &untestable) || guard_reason_expected(r)) {
			covered++;
		} else if (untestable) {
			if (!fx.filter)
				printf("catalogue: reason %s not covered, %s\n", xl4_reason_name(r), untestable);
		} else if (!fx.filter) {
			printf("FAIL catalogue/coverage\n       no fixture expects reason %s\n",
			       xl4_reason_name(r));
			fx.failed++;
		}
	}
	printf("catalogue: %zu rows, %d malformed classes, %d subtests, %d/%d drop reasons "
	       "covered\n", n, classes, subtests, covered, XL4_REASON_MAX - 1);
}
