// SPDX-License-Identifier: GPL-2.0
/*
 * The backend agent's TC programs (bpf/agent.bpf.c) over table-driven packets with
 * BPF_PROG_TEST_RUN: each row is {name, program, input, expected output, TC verdict, the one
 * counter that must move}. Maps are provisioned with the same wrappers `xl4 agent` uses.
 * Every rewritten packet's transport checksum is also checked with a checksum routine of this
 * file's own (not the packet builder's, not the kernel's).
 *
 * VLAN on ingress: on TC ingress the kernel has already moved a VLAN tag into skb metadata, so
 * the decap path handles untagged data only; a tag still in the data (the inner tag of QinQ,
 * or a test run, which never strips tags) is passed untouched, and a row below checks exactly
 * that. Egress walks up to two tags in the data (a device without VLAN offload).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include <linux/bpf.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf.h>

#include "agent.h"
#include "agent_cases.h"
#include "harness.h"

enum { IN, OUT };


const struct in6_addr OUTER6_SRC = { { { 0x20, 0x01, 0x0d, 0xb8, 0, 3, 0, 0, 0, 0, 0, 0, 0,
						 0, 0, 1 } } };

/* ---- ingress builders: the balancer's ipip output, and what must come out of decap ---- */

static void l4_udp(struct pkt *p, uint16_t sport, uint16_t dport)
{
	pb_udp(p, sport, dport);
	pb_payload(p, NULL, 32);
}

static void inner4(struct pkt *p, uint32_t dst)
{
	pb_ip4(p, &(struct pb_ip4){ .src = CLIENT4, .dst = dst, .frag = IP4_DF, .ttl = 63 });
	l4_udp(p, CLIENT_PORT, VIP_PORT);
}

static void inner6(struct pkt *p, const struct in6_addr *dst)
{
	pb_ip6(p, &(struct pb_ip6){ .src = CLIENT6, .dst = *dst });
	pb_tcp(p, CLIENT_PORT, VIP_PORT, TH_SYN);
}

static void outer4(struct pkt *p)
{
	pb_ip4(p, &(struct pb_ip4){ .src = OUTER4_SRC, .dst = BACKEND4, .frag = IP4_DF });
}

static void outer6(struct pkt *p)
{
	pb_ip6(p, &(struct pb_ip6){ .src = OUTER6_SRC, .dst = BACKEND6 });
}

static void b_ipip4(struct pkt *p)
{
	pb_init(p), pb_eth(p, 0), outer4(p), inner4(p, VIP4), pb_finish(p);
}

static void b_ipip4_out(struct pkt *p)
{
	pb_init(p), pb_eth(p, 0), inner4(p, VIP4), pb_finish(p);
}

static void b_ipip4_tcp(struct pkt *p)
{
	pb_init(p), pb_eth(p, 0), outer4(p);
	pb_ip4(p, &(struct pb_ip4){ .src = CLIENT4B, .dst = VIP4 });
	pb_tcp(p, CLIENT_PORT, VIP_PORT, TH_ACK | TH_PSH);
	pb_payload(p, NULL, 100);
	pb_finish(p);
}

static void b_ipip4_tcp_out(struct pkt *p)
{
	pb_init(p), pb_eth(p, 0);
	pb_ip4(p, &(struct pb_ip4){ .src = CLIENT4B, .dst = VIP4 });
	pb_tcp(p, CLIENT_PORT, VIP_PORT, TH_ACK | TH_PSH);
	pb_payload(p, NULL, 100);
	pb_finish(p);
}

/* Link padding after the outer datagram stays behind the inner one (the stack trims it). */
static void b_ipip4_padded(struct pkt *p)
{
	b_ipip4(p);
	pkt_pad(p, p->len + 6);
}

static void b_ipip4_padded_out(struct pkt *p)
{
	b_ipip4_out(p);
	pkt_pad(p, p->len + 6);
}

static void b_ip6ip6(struct pkt *p)
{
	pb_init(p), pb_eth(p, 0), outer6(p), inner6(p, &VIP6), pb_finish(p);
}

static void b_ip6ip6_out(struct pkt *p)
{
	pb_init(p), pb_eth(p, 0), inner6(p, &VIP6), pb_finish(p);
}

static void b_ipip4_vlan(struct pkt *p)
{
	pb_init(p), pb_eth(p, 0), pb_vlan(p, ETH_P_8021Q, 100), outer4(p), inner4(p, VIP4);
	pb_finish(p);
}

/* A priority tag (VID 0) left in the data: the kernel takes it off after TC and delivers the
 * packet on this interface, where a tunnel device would decapsulate it unchecked. */
static void b_ipip4_vid0(struct pkt *p)
{
	pb_init(p), pb_eth(p, 0), pb_vlan(p, ETH_P_8021Q, 0), outer4(p), inner4(p, VIP4);
	pb_finish(p);
}

static void b_ipip4_not_vip(struct pkt *p)
{
	pb_init(p), pb_eth(p, 0), outer4(p), inner4(p, BACKEND4), pb_finish(p);
}

static void b_ip6ip6_not_vip(struct pkt *p)
{
	pb_init(p), pb_eth(p, 0), outer6(p), inner6(p, &CLIENT6B), pb_finish(p);
}

static void b_plain_to_vip(struct pkt *p)
{
	pb_init(p), pb_eth(p, 0), inner4(p, VIP4), pb_finish(p);
}

static void b_ipip4_bad_csum(struct pkt *p)
{
	b_ipip4(p);
	pkt_set16(p, IP4_OFF(p, check), pkt_get16(p, IP4_OFF(p, check)) ^ 0x0101);
}

static void b_ipip4_frag(struct pkt *p)
{
	b_ipip4(p);
	pkt_set16(p, IP4_OFF(p, frag_off), IP4_MF);
	pkt_ip4_csum_fix(p);
}

static void b_ipip4_opts(struct pkt *p)
{
	static const uint8_t nop4[4] = { 1, 1, 1, 0 };

	pb_init(p), pb_eth(p, 0);
	pb_ip4(p, &(struct pb_ip4){ .src = OUTER4_SRC, .dst = BACKEND4, .opts = nop4, .optlen = 4 });
	inner4(p, VIP4);
	pb_finish(p);
}

/* Protocol 4 announced, but an IPv6 header inside: families must match. */
static void b_ipip4_inner_v6(struct pkt *p)
{
	pb_init(p), pb_eth(p, 0), outer4(p), inner6(p, &VIP6), pb_finish(p);
	pkt_set8(p, IP4_OFF(p, protocol), IPPROTO_IPIP);
	pkt_ip4_csum_fix(p);
}

static void b_ipip4_totlen_over(struct pkt *p)
{
	b_ipip4(p);
	pkt_set_ip4_totlen(p, p->len - ETH_HLEN + 1, 1);
}

/* Cut inside the inner header; the outer tot_len still claims the whole datagram. */
static void b_ipip4_cut_inner(struct pkt *p)
{
	b_ipip4(p);
	pkt_truncate(p, ETH_HLEN + 20 + 12);
}

/* Outer tot_len agrees with the cut frame: only the inner header is short. */
static void b_ipip4_short_inner(struct pkt *p)
{
	b_ipip4(p);
	pkt_truncate(p, ETH_HLEN + 20 + 12);
	pkt_set_ip4_totlen(p, 32, 1);
}

/* Runts: the kernel refuses a test run with less than an IPv4 header after the Ethernet
 * header, and on a wire a runt is padded to 60 bytes anyway; so: cut, then padded. */
static void b_ipip4_cut_outer(struct pkt *p)
{
	b_ipip4(p);
	pkt_truncate(p, ETH_HLEN + 10);
	pkt_pad(p, 60);
}

static void b_eth_only(struct pkt *p)
{
	b_ipip4(p);
	pkt_truncate(p, ETH_HLEN);
	pkt_pad(p, 60);
}

static void b_ip6ip6_cut_inner(struct pkt *p)
{
	b_ip6ip6(p);
	pkt_truncate(p, ETH_HLEN + 40 + 20);
}

static void b_ip6ip6_plen_over(struct pkt *p)
{
	b_ip6ip6(p);
	pkt_set16(p, IP6_OFF(p, payload_len), p->len - ETH_HLEN - 40 + 1);
}

/* An extension header between the two: the balancer never adds one; not ours. */
static void b_ip6ip6_ext(struct pkt *p)
{
	pb_init(p), pb_eth(p, 0), outer6(p), pb_ext(p, IPPROTO_DSTOPTS, 8), inner6(p, &VIP6);
	pb_finish(p);
}

/* The attacks: a listed source is what the balancer sends from; anything else is a spoofer
 * who reached the backend directly. */
static void ipip4_from_to(struct pkt *p, uint32_t src, uint32_t dst)
{
	pb_init(p), pb_eth(p, 0);
	pb_ip4(p, &(struct pb_ip4){ .src = src, .dst = dst, .frag = IP4_DF, .ttl = 61, .id = 0x4242 });
	inner4(p, VIP4), pb_finish(p);
}

static void ip6ip6_from_to(struct pkt *p, const struct in6_addr *src, const struct in6_addr *dst)
{
	pb_init(p), pb_eth(p, 0);
	pb_ip6(p, &(struct pb_ip6){ .src = *src, .dst = *dst });
	inner6(p, &VIP6), pb_finish(p);
}

static void b_ipip4_from_unlisted(struct pkt *p)
{
	ipip4_from_to(p, CLIENT4, BACKEND4);
}

/* One past the listed /24's end. */
static void b_ipip4_from_next_prefix(struct pkt *p)
{
	ipip4_from_to(p, OUTER4_SRC + 0x100, BACKEND4);
}

static void b_ip6ip6_from_unlisted(struct pkt *p)
{
	ip6ip6_from_to(p, &CLIENT6, &BACKEND6);
}

/* Another host's address as the outer destination (the frame still reached us). */
static void b_ipip4_to_other(struct pkt *p)
{
	ipip4_from_to(p, OUTER4_SRC, CLIENT4B);
}

/* The VIP itself as the outer destination: local (on lo), but not an address the balancers
 * send to. */
static void b_ipip4_to_vip(struct pkt *p)
{
	ipip4_from_to(p, OUTER4_SRC, VIP4);
}

static void b_ip6ip6_to_other(struct pkt *p)
{
	ip6ip6_from_to(p, &OUTER6_SRC, &CLIENT6B);
}

/* Outer options around an inner header to a non-VIP: not ours, passes. */
static void b_ipip4_opts_not_vip(struct pkt *p)
{
	static const uint8_t nop4[4] = { 1, 1, 1, 0 };

	pb_init(p), pb_eth(p, 0);
	pb_ip4(p, &(struct pb_ip4){ .src = OUTER4_SRC, .dst = BACKEND4, .opts = nop4, .optlen = 4 });
	inner4(p, BACKEND4);
	pb_finish(p);
}

/* Mixed families, never sent by the balancer: 6in4 (what sit0 would take) and 4in6. */
static void b_sit_to_vip(struct pkt *p)
{
	pb_init(p), pb_eth(p, 0), outer4(p), inner6(p, &VIP6), pb_finish(p);
}

static void b_sit_not_vip(struct pkt *p)
{
	pb_init(p), pb_eth(p, 0), outer4(p), inner6(p, &CLIENT6B), pb_finish(p);
}

static void b_4in6_to_vip(struct pkt *p)
{
	pb_init(p), pb_eth(p, 0), outer6(p), inner4(p, VIP4), pb_finish(p);
}

/* 6in4 behind 40 bytes of outer options: the parse must reach it (and pull that far). */
static void b_sit_opts_to_vip(struct pkt *p)
{
	static const uint8_t nop40[40] = { 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
					   1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0 };

	pb_init(p), pb_eth(p, 0);
	pb_ip4(p, &(struct pb_ip4){ .src = OUTER4_SRC, .dst = BACKEND4, .opts = nop40, .optlen = 40 });
	inner6(p, &VIP6), pb_finish(p);
}

/* A later fragment whose payload happens to look like an inner header to a VIP. */
static void b_ipip4_later_frag(struct pkt *p)
{
	b_ipip4(p);
	pkt_set16(p, IP4_OFF(p, frag_off), 185);
	pkt_ip4_csum_fix(p);
}

/*
 * Fragments of tunnel packets, whatever they carry: reassembled, each would be a whole
 * encapsulated packet for a tunnel device (tunl0, sit0, ip6tnl0: any source), and its inner
 * header is not all there to check before (a first fragment with 8 bytes of it, a later one
 * with none).
 */
static void b_ipip4_first_frag_short(struct pkt *p)
{
	static const uint8_t head[8] = { 0x45, 0, 0, 60, 0, 0, 0x40, 0 };

	pb_init(p), pb_eth(p, 0);
	pb_ip4(p, &(struct pb_ip4){ .src = CLIENT4, .dst = BACKEND4, .frag = IP4_MF });
	pb_raw(p, IPPROTO_IPIP, head, sizeof(head)), pb_finish(p);
}

static void b_ipip4_later_frag_opaque(struct pkt *p)
{
	pb_init(p), pb_eth(p, 0);
	pb_ip4(p, &(struct pb_ip4){ .src = CLIENT4, .dst = BACKEND4, .frag = 1 });
	pb_raw(p, IPPROTO_IPIP, NULL, 40), pb_finish(p);
}

static void b_sit_frag_not_vip(struct pkt *p)
{
	pb_init(p), pb_eth(p, 0);
	pb_ip4(p, &(struct pb_ip4){ .src = OUTER4_SRC, .dst = BACKEND4, .frag = IP4_MF });
	inner6(p, &CLIENT6B), pb_finish(p);
}

static void b_ip6ip6_first_frag(struct pkt *p)
{
	pb_init(p), pb_eth(p, 0), outer6(p), pb_frag6(p, 0, 1, 7), inner6(p, &VIP6), pb_finish(p);
}

static void b_ip6ip6_later_frag(struct pkt *p)
{
	pb_init(p), pb_eth(p, 0), outer6(p), pb_frag6(p, 3, 0, 7);
	pb_raw(p, IPPROTO_IPV6, NULL, 40), pb_finish(p);
}

static void b_4in6_atomic_frag(struct pkt *p)
{
	pb_init(p), pb_eth(p, 0), outer6(p), pb_frag6(p, 0, 0, 7), inner4(p, CLIENT4B);
	pb_finish(p);
}

/* Fragments of anything else are not the agent's: the stack reassembles them. */
static void b_udp4_frag(struct pkt *p)
{
	pb_init(p), pb_eth(p, 0);
	pb_ip4(p, &(struct pb_ip4){ .src = CLIENT4, .dst = VIP4, .frag = IP4_MF });
	l4_udp(p, CLIENT_PORT, VIP_PORT), pb_finish(p);
}

static void b_udp6_frag(struct pkt *p)
{
	pb_init(p), pb_eth(p, 0), outer6(p), pb_frag6(p, 0, 1, 7);
	l4_udp(p, CLIENT_PORT, VIP_PORT), pb_finish(p);
}

/*
 * ECN across decapsulation (RFC 6040 4.2): a CE mark on the outer header goes to an
 * ECN-capable inner one (the DSCP kept: EF here), is already there on a CE one, and drops a
 * packet whose inner header is not ECN-capable; an outer ECT changes nothing.
 */
static void ecn4(struct pkt *p, int outer, uint8_t otos, uint8_t itos)
{
	pb_init(p), pb_eth(p, 0);
	if (outer)
		pb_ip4(p, &(struct pb_ip4){ .src = OUTER4_SRC, .dst = BACKEND4, .frag = IP4_DF, .tos = otos });
	pb_ip4(p, &(struct pb_ip4){ .src = CLIENT4, .dst = VIP4, .frag = IP4_DF, .ttl = 63, .tos = itos });
	l4_udp(p, CLIENT_PORT, VIP_PORT), pb_finish(p);
}

#define ECN4(name, otos, itos, itos_out)                                                          \
	static void b_##name(struct pkt *p)                                                       \
	{                                                                                         \
		ecn4(p, 1, otos, itos);                                                           \
	}                                                                                         \
	static void b_##name##_out(struct pkt *p)                                                 \
	{                                                                                         \
		ecn4(p, 0, 0, itos_out);                                                          \
	}

ECN4(ipip4_ce_ect0, 3, 0xb8 | 2, 0xb8 | 3)
ECN4(ipip4_ce_ect1, 3, 0xb8 | 1, 0xb8 | 3)
ECN4(ipip4_ce_ce, 3, 0xb8 | 3, 0xb8 | 3)
ECN4(ipip4_ect_outer, 2, 0xb8 | 2, 0xb8 | 2)

static void b_ipip4_ce_not_ect(struct pkt *p)
{
	ecn4(p, 1, 3, 0xb8);
}

/* An IPv6 header's ECN bits (traffic class bits 0-1: byte 1, bits 4-5). */
static void ecn6_set(struct pkt *p, uint32_t l3, uint8_t ecn)
{
	pkt_set8(p, l3 + 1, (uint8_t)((p->b[l3 + 1] & 0xcf) | ecn << 4));
}

static void b_ip6ip6_ce_ect0(struct pkt *p)
{
	b_ip6ip6(p);
	ecn6_set(p, ETH_HLEN, 3);
	ecn6_set(p, ETH_HLEN + 40, 2);
}

static void b_ip6ip6_ce_ect0_out(struct pkt *p)
{
	b_ip6ip6_out(p);
	ecn6_set(p, ETH_HLEN, 3);
}

static void b_ip6ip6_ce_not_ect(struct pkt *p)
{
	b_ip6ip6(p);
	ecn6_set(p, ETH_HLEN, 3);
}

/* ---- egress builders: a reply from the backend port, and the same from the VIP port ---- */

struct reply {
	int v6, udp, vlan, ip_opts;
	int frag6; /* an IPv6 Fragment header: 1 a first fragment, 2 a later one */
	uint16_t sport;
	uint32_t src4; /* 0: VIP4 */
	int payload;
};

static void build_reply(struct pkt *p, const struct reply *r)
{
	static const uint8_t nop4[4] = { 1, 1, 1, 0 };

	pb_init(p), pb_eth(p, 0);
	if (r->vlan)
		pb_vlan(p, ETH_P_8021Q, 7);
	if (r->v6)
		pb_ip6(p, &(struct pb_ip6){ .src = VIP6, .dst = CLIENT6 });
	if (r->frag6)
		pb_frag6(p, r->frag6 == 1 ? 0 : 185, r->frag6 == 1, 0x77);
	if (!r->v6)
		pb_ip4(p, &(struct pb_ip4){ .src = r->src4 ? r->src4 : VIP4, .dst = CLIENT4,
					    .frag = IP4_DF, .opts = r->ip_opts ? nop4 : NULL,
					    .optlen = r->ip_opts ? 4 : 0 });
	if (r->udp)
		pb_udp(p, r->sport, CLIENT_PORT);
	else
		pb_tcp(p, r->sport, CLIENT_PORT, TH_SYN | TH_ACK);
	if (r->payload >= 0)
		pb_payload(p, NULL, r->payload ? r->payload : 45);
	pb_finish(p);
}

#define REPLY(name, ...)                                                                          \
	static void b_##name(struct pkt *p)                                                       \
	{                                                                                         \
		build_reply(p, &(struct reply){ .sport = BPORT, __VA_ARGS__ });                   \
	}                                                                                         \
	static void b_##name##_out(struct pkt *p)                                                 \
	{                                                                                         \
		build_reply(p, &(struct reply){ __VA_ARGS__, .sport = VIP_PORT });                \
	}

REPLY(tcp4, .v6 = 0)
REPLY(tcp6, .v6 = 1)
REPLY(udp4, .udp = 1)
REPLY(udp6, .v6 = 1, .udp = 1)
REPLY(tcp4_opts, .ip_opts = 1)
REPLY(udp4_vlan, .udp = 1, .vlan = 1)
REPLY(tcp6_nopayload, .v6 = 1, .payload = -1)
/* A UDP reply over the path MTU: the stack fragments it before egress TC, and the first
 * fragment holds the ports (its checksum covers the whole datagram: the incremental update
 * is right for it too). A later fragment has no ports: its bytes are payload, passed. */
REPLY(udp6_first_frag, .v6 = 1, .udp = 1, .frag6 = 1)
static void b_udp6_later_frag(struct pkt *p)
{
	build_reply(p, &(struct reply){ .v6 = 1, .udp = 1, .frag6 = 2, .sport = BPORT });
}

static void b_udp4_csum0(struct pkt *p)
{
	b_udp4(p);
	pkt_set16(p, p->l4 + 6, 0);
}

static void b_udp4_csum0_out(struct pkt *p)
{
	b_udp4_out(p);
	pkt_set16(p, p->l4 + 6, 0);
}

/* A payload word chosen so that the reply's UDP checksum after the rewrite computes to 0,
 * which must go out as 0xffff (0 would mean "no checksum"). Found by search at build time. */
static uint16_t zero_word;

static void udp4_zero(struct pkt *p, uint16_t sport)
{
	pb_init(p), pb_eth(p, 0);
	pb_ip4(p, &(struct pb_ip4){ .src = VIP4, .dst = CLIENT4 });
	pb_udp(p, sport, CLIENT_PORT);
	pb_payload(p, (uint8_t[2]){ zero_word >> 8, zero_word & 0xff }, 2);
	pb_finish(p);
}

static void b_udp4_to_zero(struct pkt *p)
{
	udp4_zero(p, BPORT);
}

static void b_udp4_to_zero_out(struct pkt *p)
{
	udp4_zero(p, VIP_PORT);
}

static void find_zero_word(void)
{
	struct pkt p;

	for (uint32_t w = 0; w <= 0xffff; w++) {
		zero_word = w;
		udp4_zero(&p, VIP_PORT);
		if (pkt_get16(&p, p.l4 + 6) == 0xffff) /* the builder's "computed 0" */
			return;
	}
}

static void b_other_port(struct pkt *p)
{
	build_reply(p, &(struct reply){ .sport = BPORT + 1 });
}

static void b_other_src(struct pkt *p)
{
	build_reply(p, &(struct reply){ .sport = BPORT, .src4 = BACKEND4 });
}

static void b_tcp_on_udp_port(struct pkt *p)
{
	build_reply(p, &(struct reply){ .sport = UDP_ONLY_BPORT });
}

static void b_udp_on_udp_port(struct pkt *p)
{
	build_reply(p, &(struct reply){ .udp = 1, .sport = UDP_ONLY_BPORT });
}

static void b_udp_on_udp_port_out(struct pkt *p)
{
	build_reply(p, &(struct reply){ .udp = 1, .sport = VIP_PORT + 1 });
}

static void b_later_frag(struct pkt *p)
{
	b_tcp4(p);
	pkt_set16(p, IP4_OFF(p, frag_off), 10);
	pkt_ip4_csum_fix(p);
}

static void b_tcp4_cut(struct pkt *p)
{
	b_tcp4(p);
	pkt_truncate(p, p->l4 + 10);
}

/* ---- the table ---- */

struct agent_case {
	const char *name;
	int prog;
	void (*build)(struct pkt *p);
	void (*build_out)(struct pkt *p); /* NULL: unchanged */
	int verdict;			  /* TC_ACT_* */
	int stat;			  /* the counter that moves by one packet */
};

#define DECAP(in, out) IN, b_##in, b_##out, TC_ACT_OK, XL4_AS_DECAP
#define PASS_IN(in) IN, b_##in, NULL, TC_ACT_UNSPEC, XL4_AS_PASS_IN
#define SHOT(in, why) IN, b_##in, NULL, TC_ACT_SHOT, XL4_AS_##why
#define RESTORE(in) OUT, b_##in, b_##in##_out, TC_ACT_OK, XL4_AS_PORT
#define PASS_OUT(in) OUT, b_##in, NULL, TC_ACT_UNSPEC, XL4_AS_PASS_OUT

static const struct agent_case cases[] = {
	{ "agent/decap/ipip4/udp", DECAP(ipip4, ipip4_out) },
	{ "agent/decap/ipip4/tcp", DECAP(ipip4_tcp, ipip4_tcp_out) },
	{ "agent/decap/ipip4/link-padding", DECAP(ipip4_padded, ipip4_padded_out) },
	{ "agent/decap/ip6ip6/tcp", DECAP(ip6ip6, ip6ip6_out) },
	{ "agent/decap/ipip4/vlan-in-data-passes", PASS_IN(ipip4_vlan) },
	{ "agent/drop/ipip4/priority-tag-in-data", SHOT(ipip4_vid0, BAD_OUTER) },
	{ "agent/decap/ipip4/ecn/ce-onto-ect0", DECAP(ipip4_ce_ect0, ipip4_ce_ect0_out) },
	{ "agent/decap/ipip4/ecn/ce-onto-ect1", DECAP(ipip4_ce_ect1, ipip4_ce_ect1_out) },
	{ "agent/decap/ipip4/ecn/ce-onto-ce", DECAP(ipip4_ce_ce, ipip4_ce_ce_out) },
	{ "agent/decap/ipip4/ecn/outer-ect-changes-nothing", DECAP(ipip4_ect_outer, ipip4_ect_outer_out) },
	{ "agent/decap/ip6ip6/ecn/ce-onto-ect0", DECAP(ip6ip6_ce_ect0, ip6ip6_ce_ect0_out) },
	{ "agent/drop/ipip4/ecn/ce-onto-not-ect", SHOT(ipip4_ce_not_ect, ECN_DROP) },
	{ "agent/drop/ip6ip6/ecn/ce-onto-not-ect", SHOT(ip6ip6_ce_not_ect, ECN_DROP) },
	{ "agent/decap/ipip4/inner-not-vip", PASS_IN(ipip4_not_vip) },
	{ "agent/decap/ip6ip6/inner-not-vip", PASS_IN(ip6ip6_not_vip) },
	{ "agent/decap/plain-to-vip", PASS_IN(plain_to_vip) },
	/* To a VIP but not the balancer's shape: dropped, never handed to a tunnel device. */
	{ "agent/drop/ipip4/outer-bad-csum", SHOT(ipip4_bad_csum, BAD_OUTER) },
	{ "agent/drop/ipip4/outer-fragment", SHOT(ipip4_frag, BAD_OUTER) },
	{ "agent/drop/ipip4/outer-later-fragment", SHOT(ipip4_later_frag, BAD_OUTER) },
	{ "agent/drop/ipip4/outer-options", SHOT(ipip4_opts, BAD_OUTER) },
	{ "agent/drop/ipip4/first-fragment-short-inner", SHOT(ipip4_first_frag_short, BAD_OUTER) },
	{ "agent/drop/ipip4/later-fragment-opaque", SHOT(ipip4_later_frag_opaque, BAD_OUTER) },
	{ "agent/drop/6in4/fragment-not-vip", SHOT(sit_frag_not_vip, BAD_OUTER) },
	{ "agent/drop/ip6ip6/first-fragment", SHOT(ip6ip6_first_frag, BAD_OUTER) },
	{ "agent/drop/ip6ip6/later-fragment", SHOT(ip6ip6_later_frag, BAD_OUTER) },
	{ "agent/drop/4in6/atomic-fragment-not-vip", SHOT(4in6_atomic_frag, BAD_OUTER) },
	{ "agent/decap/udp4-fragment-passes", PASS_IN(udp4_frag) },
	{ "agent/decap/udp6-fragment-passes", PASS_IN(udp6_frag) },
	{ "agent/decap/ipip4/outer-options-not-vip", PASS_IN(ipip4_opts_not_vip) },
	{ "agent/decap/ipip4/inner-is-v6", PASS_IN(ipip4_inner_v6) },
	{ "agent/drop/6in4/to-vip", SHOT(sit_to_vip, BAD_OUTER) },
	{ "agent/drop/6in4/options-to-vip", SHOT(sit_opts_to_vip, BAD_OUTER) },
	{ "agent/decap/6in4/not-vip", PASS_IN(sit_not_vip) },
	{ "agent/drop/4in6/to-vip", SHOT(4in6_to_vip, BAD_OUTER) },
	{ "agent/drop/ipip4/totlen-over-frame", SHOT(ipip4_totlen_over, BAD_OUTER) },
	{ "agent/decap/ipip4/cut-in-inner", PASS_IN(ipip4_cut_inner) },
	{ "agent/decap/ipip4/short-inner", PASS_IN(ipip4_short_inner) },
	{ "agent/decap/ipip4/cut-in-outer", PASS_IN(ipip4_cut_outer) },
	{ "agent/decap/eth-then-padding", PASS_IN(eth_only) },
	{ "agent/decap/ip6ip6/cut-in-inner", PASS_IN(ip6ip6_cut_inner) },
	{ "agent/drop/ip6ip6/plen-over-frame", SHOT(ip6ip6_plen_over, BAD_OUTER) },
	{ "agent/decap/ip6ip6/ext-header-between", PASS_IN(ip6ip6_ext) },
	/* Spoofers: an unlisted outer source, or an outer destination that is not ours. */
	{ "agent/drop/ipip4/from-unlisted", SHOT(ipip4_from_unlisted, FROM_REJECT) },
	{ "agent/drop/ipip4/from-next-prefix", SHOT(ipip4_from_next_prefix, FROM_REJECT) },
	{ "agent/drop/ip6ip6/from-unlisted", SHOT(ip6ip6_from_unlisted, FROM_REJECT) },
	{ "agent/drop/ipip4/to-not-local", SHOT(ipip4_to_other, TO_REJECT) },
	{ "agent/drop/ipip4/to-the-vip", SHOT(ipip4_to_vip, TO_REJECT) },
	{ "agent/drop/ip6ip6/to-not-local", SHOT(ip6ip6_to_other, TO_REJECT) },

	{ "agent/port/tcp4", RESTORE(tcp4) },
	{ "agent/port/tcp6", RESTORE(tcp6) },
	{ "agent/port/udp4", RESTORE(udp4) },
	{ "agent/port/udp6", RESTORE(udp6) },
	{ "agent/port/tcp4/ip-options", RESTORE(tcp4_opts) },
	{ "agent/port/udp4/vlan-in-data", RESTORE(udp4_vlan) },
	{ "agent/port/tcp6/no-payload", RESTORE(tcp6_nopayload) },
	{ "agent/port/udp4/csum-0-stays-0", RESTORE(udp4_csum0) },
	{ "agent/port/udp4/csum-computes-0-sent-ffff", RESTORE(udp4_to_zero) },
	{ "agent/port/udp4/other-mapping", RESTORE(udp_on_udp_port) },
	{ "agent/port/other-source-port", PASS_OUT(other_port) },
	{ "agent/port/other-source-addr", PASS_OUT(other_src) },
	{ "agent/port/tcp-on-udp-only-port", PASS_OUT(tcp_on_udp_port) },
	{ "agent/port/later-fragment", PASS_OUT(later_frag) },
	{ "agent/port/udp6/first-fragment", RESTORE(udp6_first_frag) },
	{ "agent/port/udp6/later-fragment", PASS_OUT(udp6_later_frag) },
	{ "agent/port/tcp4-cut", PASS_OUT(tcp4_cut) },
};

/* ---- an independent checksum check ---- */

static uint32_t sum16(const uint8_t *d, uint32_t n, uint32_t s)
{
	for (uint32_t i = 0; i < n; i += 2)
		s += (uint32_t)(d[i] << 8) + (i + 1 < n ? d[i + 1] : 0);
	return s;
}

const char *agent_l4_csum_verdict(const uint8_t *f, uint32_t len)
{
	uint32_t off = 12, l3, l4, l4len, s;
	uint16_t et = f[12] << 8 | f[13];
	uint8_t proto;

	for (int i = 0; i < 2 && (et == ETH_P_8021Q || et == ETH_P_8021AD); i++) {
		if (off + 6 > len)
			return "a VLAN tag runs past the frame";
		off += 4;
		et = f[off] << 8 | f[off + 1];
	}
	l3 = off + 2;
	if ((et != ETH_P_IP && et != ETH_P_IPV6) || l3 + (et == ETH_P_IP ? 20 : 40) > len)
		return "no whole IP header";
	if (et == ETH_P_IP) {
		uint32_t ihl = (f[l3] & 0x0f) * 4, tot = f[l3 + 2] << 8 | f[l3 + 3];

		proto = f[l3 + 9];
		l4 = l3 + ihl;
		l4len = tot >= ihl ? tot - ihl : UINT32_MAX;
		s = sum16(f + l3 + 12, 8, 0);
	} else {
		proto = f[l3 + 6];
		l4 = l3 + 40;
		l4len = f[l3 + 4] << 8 | f[l3 + 5];
		s = sum16(f + l3 + 8, 32, 0);
		/* a first fragment (the only one rewritten): this checks the datagram as if
		 * it were whole, which it is in these rows */
		if (proto == IPPROTO_FRAGMENT && l4 + 8 <= len && l4len >= 8) {
			proto = f[l4];
			l4 += 8;
			l4len -= 8;
		}
	}
	if (l4 > len || l4len > len - l4 || l4len < (proto == IPPROTO_TCP ? 20u : 8u))
		return "transport header runs past the frame, or its lengths are wrong";
	if (proto == IPPROTO_UDP && et == ETH_P_IP && !f[l4 + 6] && !f[l4 + 7])
		return NULL;
	s = sum16(f + l4, l4len, s + proto + l4len);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return s == 0xffff ? NULL : "transport checksum does not verify";
}

/* ---- running ---- */

static bool run_case(const struct xl4_agent *a, const struct agent_case *c)
{
	static uint8_t out[4096];
	struct xl4_counter before[XL4_AS_MAX], after[XL4_AS_MAX];
	struct pkt in, want;
	const char *why;
	bool ok = true;
	int err;
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_out = out, .data_size_out = sizeof(out), .repeat = 1);

	c->build(&in);
	if (c->build_out)
		c->build_out(&want);
	else
		want = in;
	fx_pcap_write(&in);
	o.data_in = in.b;
	o.data_size_in = in.len;
	if ((err = xl4_agent_counters_read(a->stats_fd, before)) ||
	    (err = bpf_prog_test_run_opts(c->prog == IN ? a->in_fd : a->out_fd, &o) ? -errno : 0) ||
	    (err = xl4_agent_counters_read(a->stats_fd, after)))
		return fx_fail(c->name, true, "test run failed: %s", strerror(-err));
	if ((int)o.retval != c->verdict)
		ok = fx_fail(c->name, ok, "want TC verdict %d, got %d", c->verdict, (int)o.retval);
	if (o.data_size_out != want.len || memcmp(out, want.b, want.len)) {
		ok = fx_fail(c->name, ok, "output bytes differ%s", c->build_out ? "" : " (want unchanged)");
		fx_hexdiff(want.b, want.len, out, o.data_size_out);
	}
	if (c->verdict == TC_ACT_OK && (why = agent_l4_csum_verdict(out, o.data_size_out)))
		ok = fx_fail(c->name, ok, "output: %s", why);
	for (int i = 0; i < XL4_AS_MAX; i++) {
		__u64 dp = after[i].packets - before[i].packets, db = after[i].bytes - before[i].bytes;
		__u64 wp = i == c->stat;

		if (dp != wp || db != wp * in.len)
			ok = fx_fail(c->name, ok, "counter %s: want +%llu packets +%llu bytes, got +%llu +%llu",
				     xl4_agent_stat_name(i) ?: "?", (unsigned long long)wp,
				     (unsigned long long)(wp * in.len), (unsigned long long)dp,
				     (unsigned long long)db);
	}
	return ok;
}

/* The balancer's sources (198.18.3.1 / 2001:db8:3::1) come from from4/from6 (NULL: none);
 * local: bit 0 BACKEND4, bit 1 BACKEND6 are this host's outer destinations. */
static int set_decap(const struct xl4_agent *a, const char *from4, const char *from6, int local)
{
	struct xl4_agent_addr to[2];
	struct xl4_prefix from[2];
	char err[128];
	int n = 0, n_to = 0, e;

	if (from4 && xl4_prefix_parse(from4, &from[n++], err, sizeof(err)))
		return -EINVAL;
	if (from6 && xl4_prefix_parse(from6, &from[n++], err, sizeof(err)))
		return -EINVAL;
	if (local & 1) {
		to[n_to] = (struct xl4_agent_addr){ .family = 4 };
		to[n_to++].addr[0] = htonl(BACKEND4);
	}
	if (local & 2) {
		to[n_to] = (struct xl4_agent_addr){ .family = 6 };
		memcpy(to[n_to++].addr, &BACKEND6, 16);
	}
	if ((e = xl4_agent_from_set(a->from_fd, from, n)))
		return e;
	return xl4_agent_local_set(a->local_fd, to, n_to);
}

static int provision(const struct xl4_agent *a)
{
	struct xl4_agent_addr v4 = { .family = 4 }, v6 = { .family = 6 };
	int err = 0;

	v4.addr[0] = htonl(VIP4);
	memcpy(v6.addr, &VIP6, 16);
	err = err ?: xl4_agent_vip_set(a->vips_fd, &v4, 0);
	err = err ?: xl4_agent_vip_set(a->vips_fd, &v6, 0);
	for (int fam = 0; fam < 2; fam++) {
		const struct xl4_agent_addr *vip = fam ? &v6 : &v4;

		err = err ?: xl4_agent_port_set(a->ports_fd, &(struct xl4_agent_port){
				*vip, VIP_PORT, BPORT, IPPROTO_TCP });
		err = err ?: xl4_agent_port_set(a->ports_fd, &(struct xl4_agent_port){
				*vip, VIP_PORT, BPORT, IPPROTO_UDP });
	}
	err = err ?: xl4_agent_port_set(a->ports_fd, &(struct xl4_agent_port){
			v4, VIP_PORT + 1, UDP_ONLY_BPORT, IPPROTO_UDP });
	return err ?: set_decap(a, "198.18.3.0/24", "2001:db8:3::/64", 3);
}

/* The source and destination sets replaced step by step through the wrappers `xl4 agent`
 * uses (each step replaces both sets); the balancer sends from 198.18.3.1 / 2001:db8:3::1 to
 * BACKEND4 / BACKEND6. A family with no prefix or no local address decapsulates nothing. */
static void run_from(const struct xl4_agent *a)
{
	static const struct {
		const char *from4, *from6;
		int local;
		struct agent_case v4, v6;
	} steps[] = {
		{ "198.18.3.0/24", NULL, 3,
		  { "agent/from/v4-only/ipip4-decap", DECAP(ipip4, ipip4_out) },
		  { "agent/from/v4-only/ip6ip6-from-nobody", SHOT(ip6ip6, FROM_REJECT) } },
		{ "198.18.4.0/24", "2001:db8:4::/48", 3,
		  { "agent/from/both-other/ipip4-rejected", SHOT(ipip4, FROM_REJECT) },
		  { "agent/from/both-other/ip6ip6-rejected", SHOT(ip6ip6, FROM_REJECT) } },
		{ "198.18.3.0/32", "2001:db8:3:1::/64", 3,
		  { "agent/from/host-0-only/ipip4-rejected", SHOT(ipip4, FROM_REJECT) },
		  { "agent/from/next-64/ip6ip6-rejected", SHOT(ip6ip6, FROM_REJECT) } },
		{ "198.18.3.1", "2001:db8:3::/64", 3,
		  { "agent/from/exact/ipip4-decap", DECAP(ipip4, ipip4_out) },
		  { "agent/from/prefix/ip6ip6-decap", DECAP(ip6ip6, ip6ip6_out) } },
		{ "198.18.3.0/24", "2001:db8:3::/64", 1,
		  { "agent/to/v4-only/ipip4-decap", DECAP(ipip4, ipip4_out) },
		  { "agent/to/v4-only/ip6ip6-not-local", SHOT(ip6ip6, TO_REJECT) } },
		{ "198.18.3.0/24", "2001:db8:3::/64", 2,
		  { "agent/to/v6-only/ipip4-not-local", SHOT(ipip4, TO_REJECT) },
		  { "agent/to/v6-only/ip6ip6-decap", DECAP(ip6ip6, ip6ip6_out) } },
		{ NULL, NULL, 0,
		  { "agent/from/no-decap/ipip4-rejected", SHOT(ipip4, FROM_REJECT) },
		  { "agent/from/no-decap/ip6ip6-rejected", SHOT(ip6ip6, FROM_REJECT) } },
		{ "198.18.3.0/24", "2001:db8:3::/64", 3,
		  { "agent/from/restored/ipip4-decap", DECAP(ipip4, ipip4_out) },
		  { "agent/from/restored/ip6ip6-decap", DECAP(ip6ip6, ip6ip6_out) } },
	};

	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		int e = set_decap(a, steps[i].from4, steps[i].from6, steps[i].local);

		if (e) {
			fx_fail(steps[i].v4.name, true, "set_decap: %s", strerror(-e));
			fx_count(steps[i].v4.name, false);
			continue;
		}
		if (fx_selected(steps[i].v4.name))
			fx_count(steps[i].v4.name, run_case(a, &steps[i].v4));
		if (fx_selected(steps[i].v6.name))
			fx_count(steps[i].v6.name, run_case(a, &steps[i].v6));
	}
}

void suite_agent(void)
{
	struct xl4_agent a;
	int err;
	bool any = false;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		any |= fx_selected(cases[i].name);
	if (!any && !fx_selected("agent/from/") && !fx_selected("agent/to/") &&
	    !fx_selected("agent/random"))
		return;
	if ((err = xl4_agent_load(&a, NULL)) || (err = provision(&a))) {
		fx_fail("agent/load", true, "cannot load or provision the agent: %s", strerror(-err));
		fx_count("agent/load", false);
		if (a.skel)
			xl4_agent_close(&a);
		return;
	}
	find_zero_word();
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (!fx_selected(cases[i].name))
			continue;
		fx_count(cases[i].name, run_case(&a, &cases[i]));
	}
	run_from(&a);
	if ((err = provision(&a))) {
		fx_fail("agent/random/setup", true, "provisioning again: %s", strerror(-err));
		fx_count("agent/random/setup", false);
	} else {
		agent_random(&a, fx.seed, 8000);
	}
	xl4_agent_close(&a);
}
