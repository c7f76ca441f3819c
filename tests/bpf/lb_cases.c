// SPDX-License-Identifier: GPL-2.0
/*
 * Load-balancer fixtures: the real XDP program, with its own engines (Maglev table size
 * LB_RING, not the shared ones: the catalogue sends to 198.18.1.1 and must not be balanced),
 * provisioned only through src/lb_state.h as the daemon does.
 *
 * The expected backend of every flow comes from the test's own model: the flow key hashed with
 * bpf/hash.h's xl4_flow_hash() and the seed, indexed into a Maglev table the test builds with
 * xl4_maglev_build() from its own list of backends (keys "198.18.2.1" or "198.18.2.1:8080" as
 * xl4_backend_str() spells them). Expected frames are built with the packet builder from a
 * description (struct pspec), never copied from the program's output, and every forwarded frame
 * has its checksums verified by csum_verify() below, which shares no code with the builder.
 *
 * A "world" is one engine plus its LB state for one forwarding mode and one IP version, with a
 * VIP per scenario (vip_defs[]), so scenarios cannot disturb each other's counters and flows.
 * Fixture names: lb/<mode>/<v4|v6>/<scenario>[/<step>]; lb/<mode>/<v4|v6>/random sends random
 * and damaged packets at the world's VIPs and checks what must hold of each (run_random()).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/bpf.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "conntrack.h"
#include "counters.h"
#include "harness.h"
#include "hash.h" /* xl4_flow_hash(): the datapath's flow hash, pure C */
#include "lb_cases.h"
#include "lb_state.h"
#include "maglev.h"
#include "names.h"
#include "pktrand.h"
#include "rand_check.h"
#include "testrun.h"
#include "uparse.h"
#include "xl4/abi.h"
#include "xl4.skel.h"

#define LB_RING 1009 /* prime; small keeps table builds and ring writes fast */
#define LB_SEED 0x5eed1234u
#define LB_CT_MAX 16384
#define LB_MAX_BE 8
#define ROUTER_PORT_MTU 1400 /* the MTU a router's ICMP error announces */

/* ---- addresses -------------------------------------------------------------------------- */

/* IPv4 host order: clients 198.18.0.n, VIPs 198.18.1.k, backends 198.18.2.x, router 198.18.3.1,
 * ipip outer sources 198.18.100.0/24. IPv6: 2001:db8:<group>::<n>, group 0 clients, 1 VIPs,
 * 2 backends, 3 the router; ipip sources 2001:db8:ffff::5a00/112. */
static uint32_t a4(int group, int n)
{
	return 0xc6120000u | (uint32_t)group << 8 | (n & 0xff);
}

static struct in6_addr a6(int group, int n)
{
	struct in6_addr a = { 0 };

	a.s6_addr[0] = 0x20, a.s6_addr[1] = 0x01, a.s6_addr[2] = 0x0d, a.s6_addr[3] = 0xb8;
	a.s6_addr[4] = group >> 8, a.s6_addr[5] = group & 0xff;
	a.s6_addr[14] = n >> 8, a.s6_addr[15] = n & 0xff;
	return a;
}

#define G_CLIENT 0
#define G_VIP 1
#define G_BACKEND 2
#define G_ROUTER 3

static const uint32_t IPIP_SRC4 = 0xc6126400u; /* 198.18.100.0 */
static const uint32_t IPIP_SRC4_MASK = 0xff;
static const uint8_t IPIP_SRC6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0xff, 0xff, 0, 0,
				       0,    0,    0,    0,    0,    0,    0x5a, 0x00 };

/* ---- packet descriptions and the builder ------------------------------------------------- */

enum pkind {
	K_FLOW,	    /* client -> VIP, TCP or UDP */
	K_ICMP_ERR, /* router -> VIP: frag-needed / packet-too-big quoting a VIP -> client packet */
	K_ECHO,	    /* client -> VIP ICMP echo request */
};

struct pspec {
	int v6, vlans;	/* vlans: 0, 1 (802.1Q) or 2 (802.1ad + 802.1Q) */
	enum pkind kind;
	uint8_t proto;	/* the flow's transport: IPPROTO_TCP / IPPROTO_UDP */
	int client;	/* client number n */
	int vip;	/* VIP address number k (destination) */
	uint16_t sport, dport; /* client port, VIP port (host order) */
	uint8_t flags;	/* TCP flags */
	uint16_t payload; /* bytes after the L4 header */
	const uint8_t *pdata; /* their content (NULL: the builder's pattern) */
	uint8_t tos;	/* IPv4 TOS / IPv6 traffic class of the client's packet */
	uint32_t label; /* IPv6 flow label of the client's packet */
	uint16_t frag;	/* IPv4 frag_off (host order) */
	uint8_t frag6;	/* IPv6 fragment header: 0 none, 1 first fragment, 2 a later one */
	int csum0;	/* UDP checksum 0 */
	uint16_t qport; /* K_ICMP_ERR: the VIP-side port as quoted (0: dport) */
	uint32_t body;	/* K_ICMP_ERR: the 4 bytes after the checksum (0: ROUTER_PORT_MTU; BODY_ZERO) */
	int odst;	/* K_ICMP_ERR: outer destination address number (0: the VIP's) */
	int etime;	/* K_ICMP_ERR: time exceeded (v4 11/0, v6 3/0) instead of too-big */
	uint8_t qfrag;	/* K_ICMP_ERR: the quoted packet is a fragment: 1 the first, 2 a later one */
	const uint8_t *opts4; /* IPv4 options of the client's header (optlen4 % 4 == 0) */
	uint8_t optlen4;
	uint16_t dstopts6; /* IPv6: a destination-options header of this many bytes before L4 */
	/* what the balancer writes */
	const uint8_t *dmac, *smac;
	int encap;
	uint32_t osrc4, odst4;
	struct in6_addr osrc6, odst6;
	uint32_t olabel;
};

static void set_macs(struct pkt *p, const uint8_t *dst, const uint8_t *src)
{
	if (dst)
		memcpy(p->b, dst, ETH_ALEN);
	if (src)
		memcpy(p->b + ETH_ALEN, src, ETH_ALEN);
}

/* pspec.body for an all-zero word (an MTU of 0) */
#define BODY_ZERO 0xdead0000u

/* Every client IPv4 header carries this id: an encapsulation without DF must copy it. */
#define INNER_ID4 0x1234

static void l2_hdr(struct pkt *p, int vlans)
{
	pb_init(p);
	pb_eth(p, 0);
	for (int i = 0; i < vlans; i++)
		pb_vlan(p, vlans == 2 && i == 0 ? ETH_P_8021AD : ETH_P_8021Q, 100 + i);
}

static void build(struct pkt *p, const struct pspec *s)
{
	uint8_t quote[1600];
	uint32_t qlen = 0, inner_off, outer_off = 0;
	uint16_t qport = s->qport ? s->qport : s->dport;
	int later;

	if (s->kind == K_ICMP_ERR) {
		struct pkt q;

		pb_init(&q);
		if (s->v6) {
			pb_ip6(&q, &(struct pb_ip6){ .src = a6(G_VIP, s->vip), .dst = a6(G_CLIENT, s->client) });
			if (s->qfrag)
				pb_frag6(&q, s->qfrag == 2 ? 100 : 0, 1, 0x4343);
		} else {
			pb_ip4(&q, &(struct pb_ip4){ .src = a4(G_VIP, s->vip), .dst = a4(G_CLIENT, s->client),
						     .frag = s->qfrag ? (uint16_t)(IP4_MF | (s->qfrag == 2 ? 100 : 0)) :
									IP4_DF });
		}
		if (s->proto == IPPROTO_UDP)
			pb_udp(&q, qport, s->sport);
		else
			pb_tcp(&q, qport, s->sport, TH_SYN | TH_ACK);
		pb_payload(&q, NULL, 1500);
		pb_finish(&q);
		/* RFC 792's minimum, the IP header and 8 bytes, and s->payload more of the packet */
		qlen = (s->v6 ? 40 : 20) + (s->v6 && s->qfrag ? 8 : 0) + 8 + s->payload;
		if (qlen > sizeof(quote) || qlen > q.len)
			qlen = sizeof(quote) < q.len ? sizeof(quote) : q.len;
		memcpy(quote, q.b, qlen);
	}
	l2_hdr(p, s->vlans);
	if (s->encap) {
		outer_off = p->len;
		if (s->v6)
			pb_ip6(p, &(struct pb_ip6){ .src = s->osrc6, .dst = s->odst6 });
		else
			pb_ip4(p, &(struct pb_ip4){ .src = s->osrc4, .dst = s->odst4, .tos = s->tos,
						    .frag = s->frag & IP4_DF });
	}
	inner_off = p->len;
	if (s->v6) {
		pb_ip6(p, &(struct pb_ip6){
				  .src = s->kind == K_ICMP_ERR ? a6(G_ROUTER, 1) : a6(G_CLIENT, s->client),
				  .dst = a6(G_VIP, s->odst ? s->odst : s->vip) });
		if (s->frag6)
			pb_frag6(p, s->frag6 == 2 ? 100 : 0, s->frag6 == 1, 0x4242);
		if (s->dstopts6)
			pb_ext(p, IPPROTO_DSTOPTS, s->dstopts6);
		later = s->frag6 == 2;
	} else {
		pb_ip4(p, &(struct pb_ip4){ .src = s->kind == K_ICMP_ERR ? a4(G_ROUTER, 1) : a4(G_CLIENT, s->client),
					    .dst = a4(G_VIP, s->odst ? s->odst : s->vip), .tos = s->tos, .frag = s->frag,
					    .id = INNER_ID4, .opts = s->opts4, .optlen = s->optlen4 });
		later = (s->frag & 0x1fff) != 0;
	}
	switch (s->kind) {
	case K_FLOW:
		if (later)
			pb_raw(p, s->proto, NULL, 64);
		else if (s->proto == IPPROTO_TCP)
			pb_tcp(p, s->sport, s->dport, s->flags);
		else
			pb_udp(p, s->sport, s->dport);
		if (!later && s->payload)
			pb_payload(p, s->pdata, s->payload);
		break;
	case K_ECHO:
		s->v6 ? pb_icmp6(p, 128, 0) : pb_icmp(p, 8, 0);
		break;
	case K_ICMP_ERR:
		if (s->etime)
			s->v6 ? pb_icmp6(p, 3, 0) : pb_icmp(p, 11, 0);
		else
			s->v6 ? pb_icmp6(p, 2, 0) : pb_icmp(p, 3, 4);
		/* too-big: v4 16 unused bits and the next-hop MTU, v6 the MTU; else unused */
		pkt_set32(p, p->len - 4, s->body == BODY_ZERO ? 0 : s->body ? s->body : ROUTER_PORT_MTU);
		pb_payload(p, quote, qlen);
		break;
	}
	pb_finish(p);
	if (s->v6) {
		pkt_set32(p, inner_off, 6u << 28 | (uint32_t)s->tos << 20 | (s->label & 0xfffff));
		if (s->encap)
			pkt_set32(p, outer_off, 6u << 28 | (uint32_t)s->tos << 20 | (s->olabel & 0xfffff));
	} else if (s->encap) {
		/* outer IPv4 id: 0 with DF, the client's own id without */
		pkt_set16(p, outer_off + 4, (s->frag & IP4_DF) ? 0 : INNER_ID4);
		pkt_ip4_csum_fix(p);		/* the first IPv4 header: the outer one */
	}
	if (s->csum0)
		pkt_set16(p, p->l4 + 6, 0);
	set_macs(p, s->dmac, s->smac);
}

/* The ICMP "fragmentation needed" / ICMPv6 "packet too big" the balancer answers `in` with. */
static void build_too_big(struct pkt *p, const struct pspec *s, const struct pkt *in, uint32_t mtu)
{
	l2_hdr(p, s->vlans);
	if (s->v6) {
		pb_ip6(p, &(struct pb_ip6){ .src = a6(G_VIP, s->vip), .dst = a6(G_CLIENT, s->client),
					    .hop_limit = 255 });
		pb_icmp6(p, 2, 0);
		pkt_set32(p, p->len - 4, mtu);
		pb_payload(p, in->b + in->l3, 48);
	} else {
		pb_ip4(p, &(struct pb_ip4){ .src = a4(G_VIP, s->vip), .dst = a4(G_CLIENT, s->client),
					    .ttl = 64 });
		pb_icmp(p, 3, 4);
		pkt_set32(p, p->len - 4, mtu & 0xffff);
		/* RFC 792: the offending packet's IP header, options included, and 8 bytes more */
		pb_payload(p, in->b + in->l3, (uint16_t)((in->b[in->l3] & 15) * 4 + 8));
	}
	pb_finish(p);
	if (!s->v6) {
		pkt_set16(p, IP4_OFF(p, id), 0);
		pkt_ip4_csum_fix(p);
	}
	set_macs(p, MAC_CLIENT, MAC_NIC);
}

/* ---- independent checksum verification ---------------------------------------------------- */

static uint32_t ck_add(uint32_t s, const uint8_t *d, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		s += (i & 1) ? d[i] : (uint32_t)d[i] << 8;
	return s;
}

static int ck_ok(uint32_t s) /* the one's-complement sum over data and checksum is 0xffff */
{
	while (s > 0xffff)
		s = (s & 0xffff) + (s >> 16);
	return s == 0xffff;
}

/* Checks the IP packet at ip (cap bytes available) and what it carries, recursing into ipip.
 * Returns NULL or what is wrong. */
static const char *ck_ip(const uint8_t *ip, uint32_t cap, int v6, int depth)
{
	uint32_t hl, plen, ps;
	uint8_t proto;
	const uint8_t *l4;

	if (depth > 2)
		return "nested too deep";
	if (!v6) {
		if (cap < 20 || (ip[0] >> 4) != 4)
			return "not an IPv4 header";
		hl = (ip[0] & 15) * 4;
		if (hl < 20 || rd16(ip + 2) < hl || rd16(ip + 2) > cap)
			return "IPv4 lengths";
		if (!ck_ok(ck_add(0, ip, hl)))
			return "IPv4 header checksum";
		plen = rd16(ip + 2) - hl;
		proto = ip[9];
		if (rd16(ip + 6) & 0x3fff)
			return NULL; /* a fragment: no transport checksum to check */
		ps = ck_add(0, ip + 12, 8) + proto + plen;
	} else {
		if (cap < 40 || (ip[0] >> 4) != 6)
			return "not an IPv6 header";
		hl = 40;
		plen = rd16(ip + 4);
		if (plen + 40 > cap)
			return "IPv6 payload length";
		proto = ip[6];
		ps = ck_add(0, ip + 8, 32) + proto + plen;
	}
	l4 = ip + hl;
	switch (proto) {
	case IPPROTO_IPIP:
		return ck_ip(l4, plen, 0, depth + 1);
	case IPPROTO_IPV6:
		return ck_ip(l4, plen, 1, depth + 1);
	case IPPROTO_TCP:
		return plen >= 20 && ck_ok(ck_add(ps, l4, plen)) ? NULL : "TCP checksum";
	case IPPROTO_UDP:
		if (plen < 8 || rd16(l4 + 4) != plen)
			return "UDP length";
		if (!v6 && rd16(l4 + 6) == 0)
			return NULL; /* IPv4 UDP without a checksum */
		return ck_ok(ck_add(ps, l4, plen)) ? NULL : "UDP checksum";
	case IPPROTO_ICMP:
		if (plen < 8 || !ck_ok(ck_add(0, l4, plen)))
			return "ICMP checksum";
		/* an error's quoted IPv4 header keeps a valid checksum too */
		if ((l4[0] == 3 || l4[0] == 11) && plen >= 28 && (l4[8] & 15) * 4u <= plen - 8 &&
		    !ck_ok(ck_add(0, l4 + 8, (l4[8] & 15) * 4)))
			return "quoted IPv4 header checksum";
		return NULL;
	case IPPROTO_ICMPV6:
		return plen >= 8 && ck_ok(ck_add(ps, l4, plen)) ? NULL : "ICMPv6 checksum";
	default:
		return NULL;
	}
}

/* An IPv6 UDP datagram (after up to two VLAN tags and an IPv6 header that encapsulates it,
 * with no extension header) whose checksum is 0. */
static bool udp6_csum0(const uint8_t *b, uint32_t len)
{
	uint32_t off = 12;

	while (off + 6 <= len && (rd16(b + off) == ETH_P_8021Q || rd16(b + off) == ETH_P_8021AD))
		off += 4;
	off += 2;
	if (off + 40 > len || rd16(b + off - 2) != ETH_P_IPV6)
		return false;
	if (b[off + 6] == IPPROTO_IPV6)
		off += 40;
	return off + 48 <= len && b[off + 6] == IPPROTO_UDP && !rd16(b + off + 40 + 6);
}

static const char *csum_verify(const uint8_t *b, uint32_t len)
{
	uint32_t off = 12;
	uint16_t et;

	if (len < 14)
		return "frame too short";
	et = rd16(b + 12);
	while ((et == ETH_P_8021Q || et == ETH_P_8021AD) && off + 6 <= len) {
		off += 4;
		et = rd16(b + off);
	}
	off += 2;
	if (et != ETH_P_IP && et != ETH_P_IPV6)
		return "not IP";
	return ck_ip(b + off, len - off, et == ETH_P_IPV6, 0);
}

/* ---- the model: VIPs and backends as the test sees them ----------------------------------- */

struct mbe {
	struct xl4_backend_spec spec;
	char key[64];	/* xl4_backend_str(): the Maglev identity lb_state uses */
	uint32_t id;	/* lb_state's backend id, read back after adding */
	int gone, down;
};

struct mvip {
	int used;
	int addr; /* VIP address number k */
	int slot; /* index in vip_defs (backend addresses and MACs derive from it) */
	struct xl4_vip_spec spec;
	struct mbe be[LB_MAX_BE];
	int n;
};

/* Maglev's pick for hash, as model index into v->be, or -1 for none. */
static int model_pick(const struct mvip *v, uint32_t hash)
{
	static uint32_t table[LB_RING];
	struct xl4_maglev_backend mb[LB_MAX_BE];
	size_t n = 0;

	for (int i = 0; i < v->n; i++) {
		const struct mbe *b = &v->be[i];

		if (b->gone)
			continue;
		mb[n++] = (struct xl4_maglev_backend){
			.key = b->key, .weight = (b->spec.drained || b->down) ? 0 : b->spec.weight, .id = i };
	}
	if (xl4_maglev_build(mb, n, LB_RING, LB_SEED, table))
		return -1;
	return table[hash % LB_RING] == XL4_MAGLEV_NONE ? -1 : (int)table[hash % LB_RING];
}

/* A backend for the model: address 198.18.2.(slot*10+j) or 2001:db8:2::(slot*16+j), port in
 * port mode, MAC 02:00:00:0b:<slot>:<j> (never the builder's client or NIC MAC). */
static struct mbe *m_add(struct mvip *v, int j, uint32_t weight, uint16_t port)
{
	char s[80], a[INET6_ADDRSTRLEN], err[128];
	struct mbe *b = &v->be[v->n++];
	int n = v->slot * (v->spec.family == 6 ? 16 : 10) + j;

	memset(b, 0, sizeof(*b));
	if (v->spec.family == 6) {
		struct in6_addr x = a6(G_BACKEND, n);

		inet_ntop(AF_INET6, &x, a, sizeof(a));
		port ? snprintf(s, sizeof(s), "[%s]:%u", a, port) : snprintf(s, sizeof(s), "%s", a);
	} else {
		uint32_t x = htonl(a4(G_BACKEND, n));

		inet_ntop(AF_INET, &x, a, sizeof(a));
		port ? snprintf(s, sizeof(s), "%s:%u", a, port) : snprintf(s, sizeof(s), "%s", a);
	}
	if (xl4_parse_backend_addr(s, &b->spec, err, sizeof(err)))
		fprintf(stderr, "lb: backend %s: %s\n", s, err);
	b->spec.weight = weight;
	b->spec.has_mac = true;
	memcpy(b->spec.mac, (uint8_t[6]){ 0x02, 0, 0, 0x0b, (uint8_t)v->slot, (uint8_t)j }, 6);
	xl4_backend_str(&b->spec, b->key, sizeof(b->key));
	return b;
}

static struct mbe *m_find(struct mvip *v, int j)
{
	uint8_t mac[6] = { 0x02, 0, 0, 0x0b, (uint8_t)v->slot, (uint8_t)j };

	for (int i = 0; i < v->n; i++)
		if (!v->be[i].gone && !memcmp(v->be[i].spec.mac, mac, 6))
			return &v->be[i];
	return NULL;
}

/* ---- worlds ------------------------------------------------------------------------------- */

enum { V_MAIN, V_UDP, V_EST, V_DRAIN, V_DEL, V_DOWN, V_DOWNR, V_ICMP, V_EMPTY, V_ALLDR, V_MTU,
       V_GONE, V_SPREAD, V_RST, V_ICMPU, V_MAX };

static const struct vip_def {
	const char *name;
	int addr;	 /* VIP address number */
	uint8_t proto;
	uint16_t port;
	int nbe;	 /* backends j = 1..nbe, weight 1 unless weights[] */
	uint32_t weights[3];
	int drained;	 /* every backend drained */
	uint16_t mtu;
	int resched;
	uint16_t be_port; /* port mode */
} vip_defs[V_MAX] = {
	[V_MAIN] = { "main", 1, IPPROTO_TCP, 80, 3, { 0 }, 0, 0, 0, 8080 },
	[V_UDP] = { "main-udp", 1, IPPROTO_UDP, 53, 3, { 0 }, 0, 0, 0, 5353 },
	[V_EST] = { "est", 2, IPPROTO_TCP, 80, 3, { 0 }, 0, 0, 0, 8080 },
	[V_DRAIN] = { "drain", 3, IPPROTO_TCP, 80, 3, { 0 }, 0, 0, 0, 8080 },
	[V_DEL] = { "del", 4, IPPROTO_TCP, 80, 3, { 0 }, 0, 0, 0, 8080 },
	[V_DOWN] = { "down", 5, IPPROTO_TCP, 80, 3, { 0 }, 0, 0, 0, 8080 },
	[V_DOWNR] = { "down-resched", 6, IPPROTO_TCP, 80, 3, { 0 }, 0, 0, 1, 8080 },
	[V_ICMP] = { "icmp", 7, IPPROTO_TCP, 80, 3, { 0 }, 0, 0, 0, 8080 },
	[V_EMPTY] = { "empty", 8, IPPROTO_TCP, 80, 0, { 0 }, 0, 0, 0, 8080 },
	[V_ALLDR] = { "all-drained", 9, IPPROTO_TCP, 80, 2, { 0 }, 1, 0, 0, 8080 },
	[V_MTU] = { "mtu1400", 10, IPPROTO_TCP, 80, 1, { 0 }, 0, 1400, 0, 8080 },
	[V_GONE] = { "gone", 11, IPPROTO_TCP, 80, 2, { 0 }, 0, 0, 0, 8080 },
	[V_SPREAD] = { "spread", 12, IPPROTO_TCP, 80, 3, { 1, 1, 2 }, 0, 0, 0, 8080 },
	[V_RST] = { "rst", 13, IPPROTO_TCP, 80, 3, { 0 }, 0, 0, 0, 8080 },
	[V_ICMPU] = { "icmp-udp", 14, IPPROTO_UDP, 53, 3, { 0 }, 0, 0, 0, 5353 },
};

#define ADDR_NOT_VIP 200

struct world {
	char name[32]; /* "lb/l2/v4" */
	int v6;
	uint8_t mode;
	struct xl4_engine eng;
	struct xl4_lb lb;
	int loaded, lb_ok;
	struct mvip vip[V_MAX];
};

static const char *mode_name(uint8_t m)
{
	return m == XL4_FWD_PORT ? "port" : m == XL4_FWD_IPIP ? "ipip" : "l2";
}

/* A setup step failed: that is a failed fixture of its own. */
static bool setup_fail(const struct world *w, const char *what, const char *err)
{
	char name[96];

	snprintf(name, sizeof(name), "%s/setup", w->name);
	fx_fail(name, true, "%s: %s", what, err);
	fx_count(name, false);
	return false;
}

static uint32_t be_lb_id(struct world *w, struct mvip *v, struct mbe *b)
{
	struct xl4_lb_vip *lv = xl4_lb_vip_find(&w->lb, v->spec.name);

	for (size_t i = 0; lv && i < lv->n_be; i++)
		if (xl4_backend_same(&lv->be[i].spec, &b->spec))
			return lv->be[i].id;
	return XL4_BACKEND_NONE;
}

/* Add model backend b to lb_state (xl4_lb_backend_add) and learn its id. */
static bool w_add(struct world *w, struct mvip *v, struct mbe *b)
{
	char err[160];

	if (xl4_lb_backend_add(&w->lb, v->spec.name, &b->spec, err, sizeof(err)))
		return setup_fail(w, "xl4_lb_backend_add", err);
	b->id = be_lb_id(w, v, b);
	return true;
}

/* Port mode: backend j of a VIP listens on be_port + j - 1 (each its own, so a wrong pick shows
 * in the port too); other modes name no port. */
static uint16_t be_port(const struct world *w, int slot, int j)
{
	return w->mode == XL4_FWD_PORT ? (uint16_t)(vip_defs[slot].be_port + j - 1) : 0;
}

static bool w_vip(struct world *w, int slot)
{
	const struct vip_def *d = &vip_defs[slot];
	struct mvip *v = &w->vip[slot];
	char s[96], err[160], a[INET6_ADDRSTRLEN];

	memset(v, 0, sizeof(*v));
	if (w->v6) {
		struct in6_addr x = a6(G_VIP, d->addr);

		inet_ntop(AF_INET6, &x, a, sizeof(a));
		snprintf(s, sizeof(s), "[%s]:%u/%s", a, d->port, d->proto == IPPROTO_UDP ? "udp" : "tcp");
	} else {
		uint32_t x = htonl(a4(G_VIP, d->addr));

		inet_ntop(AF_INET, &x, a, sizeof(a));
		snprintf(s, sizeof(s), "%s:%u/%s", a, d->port, d->proto == IPPROTO_UDP ? "udp" : "tcp");
	}
	if (xl4_parse_vip_addr(s, &v->spec, err, sizeof(err)) ||
	    xl4_parse_name(d->name, v->spec.name, err, sizeof(err)))
		return setup_fail(w, s, err);
	v->spec.mode = w->mode;
	v->spec.mtu = d->mtu;
	v->spec.reschedule_down = d->resched;
	if (xl4_lb_vip_add(&w->lb, &v->spec, err, sizeof(err)))
		return setup_fail(w, "xl4_lb_vip_add", err);
	v->used = 1;
	v->addr = d->addr;
	v->slot = slot;
	for (int j = 1; j <= d->nbe; j++) {
		struct mbe *b = m_add(v, j, d->weights[j - 1] ? d->weights[j - 1] : 1, be_port(w, slot, j));

		b->spec.drained = d->drained;
		if (!w_add(w, v, b))
			return false;
	}
	return true;
}

/* ICMP too-big replies and steered ICMP errors per second per CPU for the next world_open
 * (0: no cap). */
static uint32_t world_too_big_budget, world_icmp_budget;
/* The next world_open()'s time is the test clock's (0 unless a test moves it). */
static bool world_test_clock;

static bool world_open(struct world *w, uint8_t mode, int v6, uint32_t ct_budget, const char *tag)
{
	struct xl4_engine_opts o = { .pin_path = NULL, .trace = true, .ring_size = LB_RING,
				     .ct_max = LB_CT_MAX, .frag_policy = XL4_FRAG_PASS,
				     .test_clock = world_test_clock };
	struct xl4_lb_settings s = { .seed = LB_SEED, .ring_size = LB_RING,
				     .ct_inserts_per_sec = ct_budget,
				     .too_big_per_sec = world_too_big_budget,
				     .icmp_errors_per_sec = world_icmp_budget,
				     .ipip_src4 = htonl(IPIP_SRC4), .ipip_src4_mask = IPIP_SRC4_MASK };
	int e;

	memset(w, 0, sizeof(*w));
	snprintf(w->name, sizeof(w->name), "lb/%s/%s%s", mode_name(mode), v6 ? "v6" : "v4", tag);
	w->v6 = v6;
	w->mode = mode;
	memcpy(s.ipip_src6, IPIP_SRC6, 16);
	if ((e = xl4_engine_load(&w->eng, &o)))
		return setup_fail(w, "xl4_engine_load", strerror(-e));
	w->loaded = 1;
	if ((e = xl4_lb_init(&w->lb, &w->eng.lb, &s)))
		return setup_fail(w, "xl4_lb_init", strerror(-e));
	w->lb_ok = 1;
	return true;
}

static void world_close(struct world *w)
{
	if (w->lb_ok)
		xl4_lb_free(&w->lb);
	if (w->loaded)
		xl4_engine_close(&w->eng);
	w->lb_ok = w->loaded = 0;
}

/* ---- flows --------------------------------------------------------------------------------- */

static struct pspec flow(const struct world *w, const struct mvip *v, int client, uint16_t sport,
			 uint8_t flags)
{
	return (struct pspec){ .v6 = w->v6, .kind = K_FLOW, .proto = v->spec.proto, .client = client,
			       .vip = v->addr, .sport = sport, .dport = v->spec.port, .flags = flags };
}

static void flow_key(const struct pspec *s, struct xl4_flow_key *k)
{
	memset(k, 0, sizeof(*k));
	if (s->v6) {
		struct in6_addr c = a6(G_CLIENT, s->client), d = a6(G_VIP, s->vip);

		memcpy(k->saddr, &c, 16);
		memcpy(k->daddr, &d, 16);
	} else {
		k->saddr[0] = htonl(a4(G_CLIENT, s->client));
		k->daddr[0] = htonl(a4(G_VIP, s->vip));
	}
	k->sport = htons(s->sport);
	k->dport = htons(s->dport);
	k->proto = s->proto;
	k->family = s->v6 ? 6 : 4;
}

static uint32_t flow_hash(const struct pspec *s)
{
	struct xl4_flow_key k;

	flow_key(s, &k);
	return xl4_flow_hash(&k, LB_SEED);
}

/* The model's backend for the flow, or NULL. */
static struct mbe *pick(struct mvip *v, const struct pspec *s)
{
	int i = model_pick(v, flow_hash(s));

	return i < 0 ? NULL : &v->be[i];
}

/* The frame the balancer must send for `in` to backend b. */
static void expect_fwd(const struct world *w, const struct pspec *in, const struct mbe *b,
		       struct pkt *out)
{
	struct pspec o = *in;
	uint32_t hash = flow_hash(in);
	uint16_t be_port = b->spec.port ? b->spec.port : in->dport;

	o.dmac = b->spec.mac;
	o.smac = MAC_NIC;
	if (w->mode == XL4_FWD_PORT) {
		if (in->kind == K_ICMP_ERR)
			o.qport = be_port; /* the quote is turned back into what the backend sent */
		else
			o.dport = be_port;
	} else if (w->mode == XL4_FWD_IPIP) {
		o.encap = 1;
		if (w->v6) {
			memcpy(&o.osrc6, IPIP_SRC6, 16);
			/* The last 16 bits of the outer source are XORed with the low 16 bits of the
			 * hash, in network order (as IPv4 does with its host bits). */
			o.osrc6.s6_addr[14] ^= (hash >> 8) & 0xff;
			o.osrc6.s6_addr[15] ^= hash & 0xff;
			memcpy(&o.odst6, b->spec.addr, 16);
			o.olabel = hash & 0xfffff;
		} else {
			o.osrc4 = IPIP_SRC4 | (hash & IPIP_SRC4_MASK);
			o.odst4 = ntohl(b->spec.addr[0]);
		}
	}
	build(out, &o);
}

/* ---- the check ----------------------------------------------------------------------------- */

/* Which per-VIP / per-backend counters one packet must move (each by one; bytes by its size). */
enum lbc {
	LBC_NONE,     /* not a VIP's packet: no LB counter moves */
	LBC_NEW,      /* miss, inserted: VIP and backend packets, new_flows, ct_misses */
	LBC_HIT,      /* conntrack hit: VIP and backend packets, ct_hits */
	LBC_NOINS,    /* miss not inserted (RST): VIP and backend packets, ct_misses */
	LBC_CAPPED,   /* miss, insert budget spent: VIP and backend packets, ct_misses, capped */
	LBC_VIP_MISS, /* no backend: the VIP's packets and ct_misses only */
	LBC_ICMP_HIT, /* ICMP steered by conntrack: the VIP's packets and ct_hits only */
	LBC_SKIP,     /* not checked */
};

struct want {
	uint32_t verdict, reason;
	const struct pkt *out; /* NULL: unchanged */
	enum lbc ctr;
	const struct mvip *v;
	const struct mbe *b;
};

/* Through the reader vip list uses (src/lb_state.c): an unreadable id reads as zero. */
static struct xl4_lb_counters lb_ctr(int fd, uint32_t id)
{
	struct xl4_lb_counters t;

	xl4_lb_counters_read(fd, id, &t);
	return t;
}

/* A VIP's counters, as vip list shows them: its own, its backends' and its removed backends'
 * (src/lb_counters.c); all zero when unreadable. */
static struct xl4_lb_counters vip_ctr(const struct xl4_lb *lb, uint32_t id)
{
	struct xl4_lb_counters t = { 0 };

	if (id < XL4_MAX_VIPS)
		xl4_lb_vip_counters(lb, &lb->vips[id], &t, NULL);
	return t;
}

/* A VIP or backend added on a reused id starts its counters (`c`) at zero: `old` is what the
 * id's previous owner had counted (it must have counted something, or the row proves nothing). */
static void ctr_fresh(const char *name, uint32_t id, struct xl4_lb_counters c,
		      const struct xl4_lb_counters *old)
{
	bool ok;

	if (!fx_selected(name))
		return;
	ok = !c.packets && !c.bytes && !c.new_flows && !c.ct_hits && !c.ct_misses &&
	     !c.ct_insert_capped;
	if (!old->packets)
		ok = fx_fail(name, true, "precondition: id %u's previous owner counted nothing", id);
	else if (!ok)
		fx_fail(name, true, "id %u starts with %llu packets, %llu bytes, %llu new flows of its "
			"previous owner's", id, (unsigned long long)c.packets,
			(unsigned long long)c.bytes, (unsigned long long)c.new_flows);
	fx_count(name, ok);
}

#define CTR_SLOTS (V_MAX * (LB_MAX_BE + 1))

struct snap {
	struct xl4_totals g;
	struct xl4_lb_counters c[CTR_SLOTS];
};

static void snap_take(struct world *w, struct snap *s)
{
	xl4_counters_read(w->eng.stats_fd, &s->g);
	for (int i = 0; i < V_MAX; i++) {
		struct xl4_lb_vip *lv;

		if (!w->vip[i].used || !(lv = xl4_lb_vip_find(&w->lb, w->vip[i].spec.name)))
			continue;
		s->c[i * (LB_MAX_BE + 1)] = vip_ctr(&w->lb, lv->id);
		for (int j = 0; j < w->vip[i].n; j++)
			s->c[i * (LB_MAX_BE + 1) + 1 + j] = lb_ctr(w->lb.maps.bstats, w->vip[i].be[j].id);
	}
}

static struct xl4_lb_counters ctr_want(enum lbc c, int is_vip, uint32_t len)
{
	struct xl4_lb_counters z = { 0 };
	int be = c == LBC_NEW || c == LBC_HIT || c == LBC_NOINS || c == LBC_CAPPED;

	if (c == LBC_NONE || (!is_vip && !be))
		return z;
	z.packets = 1;
	z.bytes = len;
	z.new_flows = c == LBC_NEW;
	z.ct_hits = c == LBC_HIT || c == LBC_ICMP_HIT;
	z.ct_misses = !z.ct_hits;
	z.ct_insert_capped = c == LBC_CAPPED;
	return z;
}

static bool ctr_cmp(const char *name, bool ok, const char *what, const struct xl4_lb_counters *a,
		    const struct xl4_lb_counters *b, const struct xl4_lb_counters *want)
{
#define CMP(f)                                                                                   \
	if (b->f - a->f != want->f)                                                              \
		ok = fx_fail(name, ok, "%s counter " #f ": want +%llu, got +%llu", what,          \
			     (unsigned long long)want->f, (unsigned long long)(b->f - a->f));
	CMP(packets) CMP(bytes) CMP(new_flows) CMP(ct_hits) CMP(ct_misses) CMP(ct_insert_capped)
#undef CMP
	return ok;
}

static uint8_t run_out[XL4_RUN_OUT_MAX];
static uint32_t run_out_len;

static bool lb_check(struct world *w, const char *name, const struct pkt *in, const struct want *x)
{
	static struct snap before, after;
	const struct pkt *wo = x->out ? x->out : in;
	struct xl4_run_result r;
	unsigned int ureason, preason;
	const char *bad;
	bool ok = true;
	int err;

	run_out_len = 0;
	/* Not asked for (a name filter): run all the same, unchecked. A later step may build on
	 * what it leaves in the maps (the flow an ICMP error is about), and a filter that names
	 * only that later step must still see the state the whole run sees. */
	if (!fx_selected(name)) {
		if (!xl4_run_packet(&w->eng, in->b, in->len, run_out, sizeof(run_out), &r))
			run_out_len = r.out_len;
		return true;
	}
	fx_pcap_write(in);
	snap_take(w, &before);
	if ((err = xl4_run_packet(&w->eng, in->b, in->len, run_out, sizeof(run_out), &r))) {
		fx_fail(name, true, "test run failed: %s", strerror(-err));
		fx_count(name, false);
		return false;
	}
	run_out_len = r.out_len;
	snap_take(w, &after);
	if (r.verdict == XDP_ABORTED)
		ok = fx_fail(name, ok, "verdict aborted: the program must never abort");
	if (r.verdict != x->verdict || r.reason != x->reason)
		ok = fx_fail(name, ok, "want %s/%s, got %s/%s", xl4_verdict_name(x->verdict),
			     xl4_reason_name(x->reason), xl4_verdict_name(r.verdict),
			     xl4_reason_name(r.reason));
	/* The user-space parser knows no VIPs: it must find these frames well-formed (lb_* are
	 * balancer decisions, not parse results). */
	ureason = fx_uparse(in->b, in->len, XL4_FRAG_PASS);
	preason = x->reason >= XL4_R_LB_NO_BACKEND ? XL4_R_NONE : x->reason;
	if (ureason != preason)
		ok = fx_fail(name, ok, "user-space xl4_parse gives %s, want %s", xl4_reason_name(ureason),
			     xl4_reason_name(preason));
	if (r.out_len != wo->len || memcmp(run_out, wo->b, wo->len)) {
		ok = fx_fail(name, ok, "output bytes differ%s", x->out ? "" : " (want unchanged)");
		fx_hexdiff(wo->b, wo->len, run_out, r.out_len);
	}
	/* every checksum right in what leaves; the one wrong checksum that may pass is an IPv6
	 * UDP checksum of 0 (not allowed, but a zero-checksum tunnel takes it), passed on as it
	 * came (fwd_port()) */
	if (r.verdict == XDP_TX && (bad = csum_verify(run_out, r.out_len)) &&
	    !(udp6_csum0(in->b, in->len) && udp6_csum0(run_out, r.out_len) &&
	      !strcmp(bad, "UDP checksum")))
		ok = fx_fail(name, ok, "forwarded frame: %s invalid", bad);
	/* the verdict counters: exactly this packet's verdict (and reason) */
	for (unsigned int i = 0; i < XL4_STAT_MAX; i++) {
		uint64_t want = i == x->verdict || (x->verdict == XDP_DROP && i == XL4_STAT_REASON_BASE + x->reason);
		uint64_t dp = after.g.c[i].packets - before.g.c[i].packets;
		uint64_t db = after.g.c[i].bytes - before.g.c[i].bytes;

		if (dp != want || db != want * in->len)
			ok = fx_fail(name, ok, "counter %s[%s]: want +%llu packets, got +%llu (+%llu bytes)",
				     i < XL4_STAT_REASON_BASE ? "verdict" : "reason",
				     i < XL4_STAT_REASON_BASE ? xl4_verdict_name(i)
							      : xl4_reason_name(i - XL4_STAT_REASON_BASE),
				     (unsigned long long)want, (unsigned long long)dp, (unsigned long long)db);
	}
	/* the LB counters: the named VIP and backend moved as x->ctr says, every other stood still */
	if (x->ctr != LBC_SKIP) {
		for (int i = 0; i < V_MAX; i++) {
			const struct mvip *v = &w->vip[i];
			struct xl4_lb_counters want = ctr_want(v == x->v ? x->ctr : LBC_NONE, 1, in->len);
			char what[96];
			int k = i * (LB_MAX_BE + 1);

			if (!v->used)
				continue;
			snprintf(what, sizeof(what), "VIP %s", v->spec.name);
			ok = ctr_cmp(name, ok, what, &before.c[k], &after.c[k], &want);
			for (int j = 0; j < v->n; j++) {
				if (v->be[j].gone)
					continue;
				want = ctr_want(&v->be[j] == x->b ? x->ctr : LBC_NONE, 0, in->len);
				snprintf(what, sizeof(what), "backend %s (VIP %s)", v->be[j].key, v->spec.name);
				ok = ctr_cmp(name, ok, what, &before.c[k + 1 + j], &after.c[k + 1 + j], &want);
			}
		}
	}
	if (ok) {
		fx.passed++;
		if (fx.verbose)
			printf("ok   %-56s %s/%s\n", name, xl4_verdict_name(x->verdict),
			       xl4_reason_name(x->reason));
	} else {
		fx.failed++;
	}
	return ok;
}

/* The conntrack entry of the flow: 1 found (*be_id set), 0 none. */
static int ct_get(struct world *w, const struct pspec *s, uint32_t *be_id, uint16_t *gen)
{
	struct xl4_flow_key k;
	struct xl4_flow f;

	flow_key(s, &k);
	if (xl4_ct_lookup(w->lb.maps.ct4, w->lb.maps.ct, &k, &f))
		return 0;
	*be_id = f.backend_id;
	*gen = f.gen;
	return 1;
}

/* The flow's conntrack entry names b (with b's current generation), or, b NULL, is absent. */
static bool ct_expect(struct world *w, const char *name, const struct pspec *s, const struct mbe *b)
{
	struct xl4_backend be;
	uint32_t id;
	uint16_t gen;
	int found = ct_get(w, s, &id, &gen);
	bool ok = true;

	if (!fx_selected(name))
		return true;
	if (!b && found)
		ok = fx_fail(name, ok, "conntrack: want no entry, got one for backend id %u", id);
	if (b && !found)
		ok = fx_fail(name, ok, "conntrack: want an entry for %s (id %u), got none", b->key, b->id);
	if (b && found && id != b->id)
		ok = fx_fail(name, ok, "conntrack: want backend id %u (%s), got %u", b->id, b->key, id);
	if (b && found && id == b->id &&
	    (bpf_map_lookup_elem(w->lb.maps.backends, &id, &be) || be.gen != gen))
		ok = fx_fail(name, ok, "conntrack: entry generation %u, backend's is %u", gen, be.gen);
	fx_count(name, ok);
	return ok;
}

/* Send `in` and expect it forwarded to b. */
static bool send_to(struct world *w, const char *name, const struct pspec *in, const struct mvip *v,
		    const struct mbe *b, enum lbc ctr)
{
	struct pkt p, out;

	if (!b) {
		fx_fail(name, true, "model: no backend to expect (test bug)");
		fx_count(name, false);
		return false;
	}
	build(&p, in);
	expect_fwd(w, in, b, &out);
	return lb_check(w, name, &p, &(struct want){ XDP_TX, XL4_R_NONE, &out, ctr, v, b });
}

/* A model precondition the scenario relies on (e.g. "Maglev would now pick another backend"). */
static bool precond(const char *name, bool cond, const char *what)
{
	if (!fx_selected(name))
		return true;
	if (!cond)
		fx_fail(name, true, "precondition: %s", what);
	fx_count(name, cond);
	return cond;
}

#define NAME(buf, w, fmt, ...) snprintf(buf, sizeof(buf), "%s/" fmt, (w)->name, ##__VA_ARGS__)

/* A client flow (client n, source port from `from` up) whose model picks satisfy pred. */
typedef bool (*flow_pred)(struct world *w, const struct pspec *s, void *arg);

static bool find_flow(struct world *w, const struct mvip *v, int client, uint16_t from, flow_pred pred,
		      void *arg, struct pspec *s)
{
	for (uint32_t port = from; port < (uint32_t)from + 4000 && port < 65536; port++) {
		*s = flow(w, v, client, (uint16_t)port, TH_SYN);
		if (pred(w, s, arg))
			return true;
	}
	return false;
}

/* ---- scenarios ------------------------------------------------------------------------------ */

static const uint8_t RA_OPT[4] = { 0x94, 0x04, 0x00, 0x00 }; /* IPv4 Router Alert (RFC 2113) */

/* Header options before the transport header: IPv4 options (a Router Alert) or an IPv6
 * destination-options header. The balancer must use the parsed L4 offset, not "IP header +
 * 20/40", and a too-big reply quotes the whole IP header, options included (RFC 792). */
static void hdr_opts(struct pspec *s, int v6)
{
	if (v6) {
		s->dstopts6 = 8;
	} else {
		s->opts4 = RA_OPT;
		s->optlen4 = sizeof(RA_OPT);
	}
}

static int hdr_opts_len(int v6)
{
	return v6 ? 8 : sizeof(RA_OPT);
}

/* Table-driven forwarding rows: every row in every mode and IP version. */
static const struct fwd_row {
	const char *name;
	const char *name6; /* the row's name in IPv6 worlds, when it differs */
	int slot;	/* which VIP */
	uint8_t flags;	/* TCP flags (UDP VIPs ignore them) */
	uint16_t payload;
	int vlans;
	uint8_t tos;
	uint32_t label;
	int csum0;	/* UDP checksum 0: IPv4's "none"; over IPv6 not allowed, and passed on as 0 */
	int v4only;
	int ffff;	/* choose a source port that makes the rewritten UDP checksum 0xffff */
	int opts;	/* hdr_opts(): IPv4 options / IPv6 destination options */
} fwd_rows[] = {
	{ "new-flow", NULL, V_MAIN, TH_SYN, 0, 0, 0, 0, 0, 0, 0, 0 },
	{ "new-flow/dot1q", NULL, V_MAIN, TH_SYN, 0, 1, 0, 0, 0, 0, 0, 0 },
	{ "new-flow/qinq", NULL, V_MAIN, TH_SYN, 0, 2, 0, 0, 0, 0, 0, 0 },
	{ "new-flow/tos-df-label", NULL, V_MAIN, TH_SYN, 0, 0, 0xb8, 0x12345, 0, 0, 0, 0 },
	{ "new-flow/payload", NULL, V_MAIN, TH_SYN | TH_ACK | TH_PSH, 1000, 0, 0x02, 0, 0, 0, 0, 0 },
	{ "new-flow/ip-options", "new-flow/dstopts", V_MAIN, TH_SYN, 32, 0, 0, 0, 0, 0, 0, 1 },
	{ "udp", NULL, V_UDP, 0, 100, 0, 0, 0, 0, 0, 0, 0 },
	{ "udp/dot1q", NULL, V_UDP, 0, 100, 1, 0, 0, 0, 0, 0, 0 },
	{ "udp/qinq", NULL, V_UDP, 0, 7, 2, 0x10, 0, 0, 0, 0, 0 },
	{ "udp/csum0", NULL, V_UDP, 0, 20, 0, 0, 0, 1, 0, 0, 0 },
	{ "udp/csum-ffff", NULL, V_UDP, 0, 20, 0, 0, 0, 0, 0, 1, 0 },
	{ "udp/ip-options", "udp/dstopts", V_UDP, 0, 32, 0, 0, 0, 0, 0, 0, 1 },
};

/* Payload for s whose forwarded frame's UDP checksum, fully recomputed, is 0xffff (a computed
 * 0): the first payload word takes up the difference. The datapath gets there incrementally
 * and must send 0xffff too, never 0 ("no checksum"). */
static bool udp_csum_ffff(struct world *w, struct pspec *s, struct mvip *v, uint8_t *buf)
{
	struct mbe *b = pick(v, s);
	struct pkt out;
	uint32_t word;

	if (!b)
		return false;
	for (int i = 0; i < s->payload; i++)
		buf[i] = 'a' + i % 26;
	s->pdata = buf;
	expect_fwd(w, s, b, &out);
	word = (uint32_t)(buf[0] << 8 | buf[1]) + pkt_get16(&out, out.l4 + 6);
	word = (word & 0xffff) + (word >> 16);
	buf[0] = word >> 8;
	buf[1] = word & 0xff;
	expect_fwd(w, s, b, &out);
	return pkt_get16(&out, out.l4 + 6) == 0xffff;
}

static void run_fwd_rows(struct world *w)
{
	char name[128];
	uint8_t buf[64];

	for (size_t i = 0; i < sizeof(fwd_rows) / sizeof(fwd_rows[0]); i++) {
		const struct fwd_row *r = &fwd_rows[i];
		const char *rname = w->v6 && r->name6 ? r->name6 : r->name;
		struct mvip *v = &w->vip[r->slot];
		struct pspec s = flow(w, v, 1, (uint16_t)(41000 + i), r->flags);
		struct mbe *b;

		if (r->v4only && w->v6)
			continue;
		s.payload = r->payload;
		s.vlans = r->vlans;
		s.tos = r->tos;
		s.label = r->label;
		s.csum0 = r->csum0;
		s.flags = r->flags;
		if (!w->v6)
			s.frag = IP4_DF; /* the usual client packet; the encap copies DF */
		if (r->opts)
			hdr_opts(&s, w->v6);
		if (r->ffff && !udp_csum_ffff(w, &s, v, buf)) {
			NAME(name, w, "%s", rname);
			precond(name, false, "cannot make the UDP checksum 0xffff");
			continue;
		}
		b = pick(v, &s);
		NAME(name, w, "%s", rname);
		if (send_to(w, name, &s, v, b, s.flags & TH_RST ? LBC_NOINS : LBC_NEW)) {
			NAME(name, w, "%s/conntrack", rname);
			ct_expect(w, name, &s, b);
		}
	}
}

/* A mid-flow packet without conntrack entry goes where a SYN goes; a RST is not remembered. */
static void run_midflow(struct world *w, struct world *peer)
{
	struct mvip *v = &w->vip[V_MAIN], *pv = &peer->vip[V_MAIN];
	struct pspec syn = flow(w, v, 2, 43000, TH_SYN), ack = syn;
	struct mbe *b = pick(v, &syn);
	char name[128];

	ack.flags = TH_ACK | TH_PSH;
	ack.payload = 100;
	NAME(name, w, "midflow-miss/syn");
	send_to(w, name, &syn, v, b, LBC_NEW);
	/* another node (same config, no state) sees the flow mid-way: same backend */
	NAME(name, w, "midflow-miss/other-node-ack");
	send_to(peer, name, &ack, pv, b ? m_find(pv, (int)(b - v->be) + 1) : NULL, LBC_NEW);
	NAME(name, w, "midflow-miss/other-node-conntrack");
	ct_expect(peer, name, &ack, b ? m_find(pv, (int)(b - v->be) + 1) : NULL);

	/* RST on an unknown flow: forwarded by Maglev, not inserted */
	v = &w->vip[V_RST];
	ack = flow(w, v, 2, 43001, TH_RST | TH_ACK);
	NAME(name, w, "midflow-miss/rst");
	send_to(w, name, &ack, v, pick(v, &ack), LBC_NOINS);
	NAME(name, w, "midflow-miss/rst-not-in-conntrack");
	ct_expect(w, name, &ack, NULL);
}

/* Maglev picks before and after a planned change of the backend set. */
struct change {
	struct mvip before, after;
	int target; /* model index the flow must pick before */
	int avoid;  /* model index the flow must not pick after (-1: none) */
};

static bool pred_moves(struct world *w, const struct pspec *s, void *arg)
{
	struct change *c = arg;
	int a = model_pick(&c->before, flow_hash(s)), b = model_pick(&c->after, flow_hash(s));

	(void)w;
	return a == c->target && b >= 0 && b != a && b != c->avoid;
}

/* Conntrack wins over a changed backend set. */
static void run_established(struct world *w)
{
	struct mvip *v = &w->vip[V_EST];
	struct change c = { .before = *v, .after = *v, .target = 0, .avoid = -1 };
	struct pspec s, ack;
	char name[128];
	struct mbe *b, *n1, *n2;
	bool ok = true;

	/* the plan: two new backends, added with weight 1, then raised to 4 */
	m_add(&c.after, 4, 4, be_port(w, V_EST, 4));
	m_add(&c.after, 5, 4, be_port(w, V_EST, 5));
	NAME(name, w, "established/find-flow");
	if (!precond(name, find_flow(w, v, 3, 44000, pred_moves, &c, &s), "no flow moves with the change"))
		return;
	b = &v->be[0];
	NAME(name, w, "established/syn");
	send_to(w, name, &s, v, b, LBC_NEW);
	NAME(name, w, "established/conntrack");
	ct_expect(w, name, &s, b);
	ack = s;
	ack.flags = TH_ACK;
	ack.payload = 50;
	NAME(name, w, "established/ack");
	send_to(w, name, &ack, v, b, LBC_HIT);

	n1 = m_add(v, 4, 1, be_port(w, V_EST, 4));
	n2 = m_add(v, 5, 1, be_port(w, V_EST, 5));
	ok = w_add(w, v, n1) && w_add(w, v, n2);
	if (ok && xl4_lb_backend_set_weight(&w->lb, v->spec.name, &n1->spec, 4, name, sizeof(name)))
		ok = setup_fail(w, "xl4_lb_backend_set_weight", name);
	if (ok && xl4_lb_backend_set_weight(&w->lb, v->spec.name, &n2->spec, 4, name, sizeof(name)))
		ok = setup_fail(w, "xl4_lb_backend_set_weight", name);
	if (!ok)
		return;
	n1->spec.weight = n2->spec.weight = 4;
	NAME(name, w, "established/maglev-moved");
	if (!precond(name, pick(v, &s) != b, "Maglev still picks the original backend"))
		return;
	NAME(name, w, "established/ack-after-change");
	send_to(w, name, &ack, v, b, LBC_HIT);
	NAME(name, w, "established/conntrack-after-change");
	ct_expect(w, name, &s, b);
	/* a new flow follows the new table */
	s.sport++;
	NAME(name, w, "established/new-flow-after-change");
	send_to(w, name, &s, v, pick(v, &s), LBC_NEW);
}

/*
 * The established lane's copy of the VIP by backend id (xl4_bevip_v1): live and equal to the
 * copy by id; cleared, not live (in another mode), or stale (naming another VIP, in another
 * mode), the flow still goes to its backend in its VIP's mode, by the stage's chain. A lane
 * that took a copy not live, or a stale one, would forward in the wrong mode.
 */
static void ct_entry_backend_vip(struct world *w, const struct pspec *ack, const struct mvip *v,
				 const struct mbe *b, __u32 be_id, const struct xl4_vip *by_id)
{
	struct xl4_vip copy = { 0 }, stale, none = { 0 };
	char name[128];
	bool ok;

	NAME(name, w, "ct-entry/backend-vip-copy-live");
	ok = !bpf_map_lookup_elem(w->lb.maps.bevip, &be_id, &copy);
	if (!ok || memcmp(&copy, by_id, sizeof(copy)))
		ok = fx_fail(name, true, "backend %u's VIP copy: flags %#x id %u mode %u mtu %u; "
			     "by id: flags %#x id %u mode %u mtu %u", be_id, copy.flags, copy.id,
			     copy.mode, copy.mtu, by_id->flags, by_id->id, by_id->mode, by_id->mtu);
	fx_count(name, ok);
	if (!ok || bpf_map_update_elem(w->lb.maps.bevip, &be_id, &none, BPF_ANY))
		return;
	NAME(name, w, "ct-entry/backend-vip-copy-cleared");
	send_to(w, name, ack, v, b, LBC_HIT);
	/* another mode the lane could take for this entry (the older-entry step left it no
	 * cached hash, which ipip needs) */
	stale = copy;
	stale.mode = copy.mode == XL4_FWD_L2 ? XL4_FWD_PORT : XL4_FWD_L2;
	stale.flags &= ~XL4_VIP_F_LIVE;
	if (bpf_map_update_elem(w->lb.maps.bevip, &be_id, &stale, BPF_ANY)) {
		setup_fail(w, "backend VIP copy not live", strerror(errno));
		return;
	}
	NAME(name, w, "ct-entry/backend-vip-copy-not-live");
	send_to(w, name, ack, v, b, LBC_HIT);
	stale.flags |= XL4_VIP_F_LIVE;
	stale.id = (copy.id + 1) % XL4_MAX_VIPS;
	if (bpf_map_update_elem(w->lb.maps.bevip, &be_id, &stale, BPF_ANY)) {
		setup_fail(w, "stale backend VIP copy", strerror(errno));
		return;
	}
	NAME(name, w, "ct-entry/backend-vip-copy-stale");
	send_to(w, name, ack, v, b, LBC_HIT);
	if (bpf_map_update_elem(w->lb.maps.bevip, &be_id, &copy, BPF_ANY))
		setup_fail(w, "backend VIP copy restore", strerror(errno));
}

/*
 * The connection table's entries as the fast path reads them: the datapath caches the flow hash
 * (ipip's outer source) in the entry; an entry an older datapath wrote has none, and must still
 * give the very same outer source; a hit whose VIP copy by id is not live (a VIP being
 * rewritten) goes the full way and still keeps the flow on its backend.
 */
static void run_ct_entries(struct world *w)
{
	struct mvip *v = &w->vip[V_MAIN];
	struct xl4_lb_vip *lv = xl4_lb_vip_find(&w->lb, v->spec.name);
	struct pspec s = flow(w, v, 5, 47000, TH_SYN), ack;
	struct xl4_vip saved = { 0 }, none = { 0 }, be_copy;
	struct mbe *b = pick(v, &s);
	struct xl4_flow_key k;
	struct xl4_flow f;
	char name[128];
	bool ok;
	__u32 id, be_id;

	NAME(name, w, "ct-entry/");
	if (!fx_selected(name)) /* its steps build on each other: all or none */
		return;
	if (!lv) {
		setup_fail(w, "xl4_lb_vip_find", "VIP main not found");
		return;
	}
	id = lv->id;
	NAME(name, w, "ct-entry/syn");
	if (!send_to(w, name, &s, v, b, LBC_NEW))
		return;
	flow_key(&s, &k);
	NAME(name, w, "ct-entry/hash-cached");
	ok = !xl4_ct_lookup(w->lb.maps.ct4, w->lb.maps.ct, &k, &f);
	if (!ok)
		fx_fail(name, true, "no conntrack entry after the SYN");
	else if (!(f.flags & XL4_FLOW_F_HASH) || f.hash != flow_hash(&s))
		ok = fx_fail(name, true, "entry flags %#x hash %#x, want flag %#x and hash %#x", f.flags,
			     f.hash, XL4_FLOW_F_HASH, flow_hash(&s));
	fx_count(name, ok);
	if (!ok)
		return;
	ack = s;
	ack.flags = TH_ACK;
	ack.payload = 20;
	/* as a datapath before the cached hash wrote it: its padding 0, a timestamp in ns */
	f.flags = 0;
	f.hash = 0x5a5a5a5a;
	f.last_s = 0x12345678;
	if (xl4_ct_update(w->lb.maps.ct4, w->lb.maps.ct, &k, &f, BPF_EXIST)) {
		setup_fail(w, "conntrack rewrite", strerror(errno));
		return;
	}
	NAME(name, w, "ct-entry/older-entry");
	send_to(w, name, &ack, v, b, LBC_HIT);

	NAME(name, w, "ct-entry/vip-copy-live");
	ok = !bpf_map_lookup_elem(w->lb.maps.vipid, &id, &saved);
	if (!ok || !(saved.flags & XL4_VIP_F_LIVE) || saved.id != id || saved.mode != w->mode)
		ok = fx_fail(name, true, "VIP copy by id %u: flags %#x id %u mode %u", id, saved.flags,
			     saved.id, saved.mode);
	fx_count(name, ok);
	/* both copies cleared (the lane's by backend id too, or the lane would serve the ACK):
	 * the stage finds the entry unusable and asks the table again */
	be_id = f.backend_id;
	if (!ok || bpf_map_lookup_elem(w->lb.maps.bevip, &be_id, &be_copy) ||
	    bpf_map_update_elem(w->lb.maps.vipid, &id, &none, BPF_ANY) ||
	    bpf_map_update_elem(w->lb.maps.bevip, &be_id, &none, BPF_ANY))
		return;
	NAME(name, w, "ct-entry/vip-copy-cleared");
	send_to(w, name, &ack, v, b, LBC_HIT);
	if (bpf_map_update_elem(w->lb.maps.vipid, &id, &saved, BPF_ANY) ||
	    bpf_map_update_elem(w->lb.maps.bevip, &be_id, &be_copy, BPF_ANY)) {
		setup_fail(w, "VIP copy restore", strerror(errno));
		return;
	}
	ct_entry_backend_vip(w, &ack, v, b, be_id, &saved);
}

/*
 * A build before the per-family tables kept IPv4 flows in xl4_ct_v1 under the 40-byte key.
 * xl4_ct_split_ipv4() copies them to xl4_ct4_v1, where the datapath looks, while the old program
 * may still serve from xl4_ct_v1 (remove false), then moves them (remove true). Here: the flow
 * of a SYN, re-pointed to a backend Maglev would not pick; more entries than one batch walk
 * reads; a key xl4_ct4_v1 holds from earlier (older: overwritten; seen later: kept); IPv6 flows,
 * which stay.
 */
#define SPLIT_EXTRA 5000
#define SPLIT_V6 10

static bool split_put(struct world *w, const struct xl4_flow_key *k, const struct xl4_flow *f,
		      const struct xl4_flow *in4)
{
	struct xl4_flow_key4 k4;

	xl4_flow_key4_of(&k4, k);
	if (bpf_map_update_elem(w->lb.maps.ct, k, f, BPF_ANY) ||
	    (in4 && bpf_map_update_elem(w->lb.maps.ct4, &k4, in4, BPF_ANY)))
		return setup_fail(w, "ct-split: plant an entry", strerror(errno));
	return true;
}

/* IPv4 entries in xl4_ct_v1 (and IPv6 ones) now; the backend xl4_ct4_v1 names for key k. */
static void split_census(struct world *w, long *v4, long *v6, const struct xl4_flow_key *k,
			 __u32 *be4)
{
	struct xl4_flow_key key, next;
	struct xl4_flow_key4 k4;
	struct xl4_flow f;

	*v4 = *v6 = 0;
	for (void *prev = NULL; !bpf_map_get_next_key(w->lb.maps.ct, prev, &next); prev = &key) {
		key = next;
		*v4 += key.family == 4;
		*v6 += key.family == 6;
	}
	xl4_flow_key4_of(&k4, k);
	*be4 = bpf_map_lookup_elem(w->lb.maps.ct4, &k4, &f) ? ~0u : f.backend_id;
}

/* ---- the established lane's flow cache (bpf/flow_cache.h) ---------------------------------- */

/* The backend id this CPU's flow cache holds for s (the fixtures run on one CPU: harness.c),
 * or -1 when its slot holds another flow. */
static long fcache_backend(struct world *w, const struct pspec *s)
{
	int ncpu = libbpf_num_possible_cpus(), fd = bpf_map__fd(w->eng.skel->maps.xl4_fcache_v1);
	struct xl4_fcache_slot *slots = calloc(ncpu > 0 ? ncpu : 1, sizeof(*slots));
	struct xl4_flow_key k;
	__u64 kw[2];
	__u32 idx;
	long id = -1;
	int cpu = sched_getcpu();

	flow_key(s, &k);
	xl4_flow_key4_words(kw, k.saddr[0], k.daddr[0], k.sport, k.dport, k.proto);
	idx = xl4_fcache_index(kw, w->eng.skel->rodata->cfg_fcache_shift);
	if (slots && cpu >= 0 && cpu < ncpu && !bpf_map_lookup_elem(fd, &idx, slots) &&
	    slots[cpu].key[0] == kw[0] && slots[cpu].key[1] == kw[1])
		id = slots[cpu].f.backend_id;
	free(slots);
	return id;
}

static bool fcache_expect(struct world *w, const char *name, const struct pspec *s, long want)
{
	long got = fcache_backend(w, s);
	bool ok = got == want;

	if (!fx_selected(name))
		return true;
	if (!ok)
		fx_fail(name, true, "flow cache: want %s%ld, got %s%ld", want < 0 ? "no copy " : "backend id ",
			want, got < 0 ? "no copy " : "backend id ", got);
	fx_count(name, ok);
	return ok;
}

/* The flow cache's generation (xl4_fcgen_v1), or ~0 when it cannot be read. */
static __u64 fcache_gen(struct world *w)
{
	struct xl4_fcache_gen g;
	__u32 zero = 0;

	return bpf_map_lookup_elem(w->lb.maps.fcgen, &zero, &g) ? ~0ull : g.gen;
}

static bool gen_expect(const char *name, __u64 before, __u64 after, bool moved)
{
	bool ok = before != ~0ull && after != ~0ull && (after != before) == moved;

	if (!fx_selected(name))
		return true;
	if (!ok)
		fx_fail(name, true, "flow cache generation %llu -> %llu: want it %s",
			(unsigned long long)before, (unsigned long long)after, moved ? "moved" : "kept");
	fx_count(name, ok);
	return ok;
}

/* s's IPv4 entry deleted behind the flow cache's back, as an LRU eviction is: no generation
 * moves, no CPU forgets its copy. */
static bool ct_evict(struct world *w, const struct pspec *s)
{
	struct xl4_flow_key k;
	struct xl4_flow_key4 k4;

	flow_key(s, &k);
	xl4_flow_key4_of(&k4, &k);
	if (bpf_map_delete_elem(w->lb.maps.ct4, &k4))
		return setup_fail(w, "conntrack delete", strerror(errno));
	return true;
}

/* Write s's entry as naming b, from user space (its cache invalidated as every writer does). */
static bool ct_plant(struct world *w, const struct pspec *s, const struct mbe *b)
{
	struct xl4_flow f = { .backend_id = b->id, .flags = XL4_FLOW_F_HASH, .hash = flow_hash(s) };
	struct xl4_flow_key k;
	struct xl4_backend be;

	flow_key(s, &k);
	if (bpf_map_lookup_elem(w->lb.maps.backends, &f.backend_id, &be))
		return setup_fail(w, "backend lookup", strerror(errno));
	f.gen = be.gen;
	if (xl4_ct_update(w->lb.maps.ct4, w->lb.maps.ct, &k, &f, BPF_ANY) ||
	    xl4_ct_cache_invalidate(w->lb.maps.fcgen))
		return setup_fail(w, "conntrack plant", strerror(errno));
	return true;
}

/*
 * The cache serves a flow's ACKs from the copy its first one took; an entry deleted behind its
 * back (no invalidation) goes on being served until the generation moves; user space's
 * invalidation and the datapath's own (a SYN on a reused tuple overwrites the entry: the
 * ACKs after it must follow the new entry, not a copy of the old) take every copy away; a
 * SYN that writes what the entry held already forgets this CPU's copy and moves nothing.
 * IPv4 only: the lane and its cache are IPv4's. On one CPU and the test clock (its own
 * world): a copy is this CPU's, and good until the clock moves.
 */
static void run_flow_cache(struct world *w)
{
	struct mvip *v = &w->vip[V_EST];
	struct pspec s = flow(w, v, 5, 45000, TH_SYN), ack;
	struct mbe *b = pick(v, &s), *other;
	char name[128];
	cpu_set_t old;
	__u64 gen;
	int err;

	if (w->v6 || !b)
		return;
	fx_pin(&old);
	other = &v->be[b == &v->be[0] ? 1 : 0];
	ack = s;
	ack.flags = TH_ACK;
	ack.payload = 30;
	NAME(name, w, "flow-cache/syn");
	send_to(w, name, &s, v, b, LBC_NEW);
	NAME(name, w, "flow-cache/no-copy-before-an-ack");
	fcache_expect(w, name, &ack, -1);
	NAME(name, w, "flow-cache/first-ack");
	send_to(w, name, &ack, v, b, LBC_HIT);
	NAME(name, w, "flow-cache/copied");
	fcache_expect(w, name, &ack, b->id);

	/* deleted behind the cache's back: the copy serves (the stage would have inserted it) */
	if (!ct_evict(w, &s))
		goto out;
	NAME(name, w, "flow-cache/served-from-copy");
	send_to(w, name, &ack, v, b, LBC_HIT);
	NAME(name, w, "flow-cache/table-left-alone");
	ct_expect(w, name, &s, NULL);
	/* invalidated: the ACK misses, Maglev picks, the flow is inserted again */
	if ((err = xl4_ct_cache_invalidate(w->lb.maps.fcgen))) {
		setup_fail(w, "xl4_ct_cache_invalidate", strerror(-err));
		goto out;
	}
	NAME(name, w, "flow-cache/invalidated-ack-misses");
	send_to(w, name, &ack, v, b, LBC_NEW);
	NAME(name, w, "flow-cache/inserted-again");
	ct_expect(w, name, &s, b);

	/* the datapath's own: the entry names another backend and an ACK copies it; a SYN on the
	 * same tuple (the guard off) overwrites it with Maglev's pick; the next ACK follows it */
	if (!ct_plant(w, &s, other))
		goto out;
	NAME(name, w, "flow-cache/planted-ack");
	send_to(w, name, &ack, v, other, LBC_HIT);
	NAME(name, w, "flow-cache/planted-copied");
	fcache_expect(w, name, &ack, other->id);
	gen = fcache_gen(w);
	NAME(name, w, "flow-cache/reused-tuple-syn");
	send_to(w, name, &s, v, b, LBC_NEW);
	NAME(name, w, "flow-cache/reused-tuple-moves-the-generation");
	gen_expect(name, gen, fcache_gen(w), true);
	NAME(name, w, "flow-cache/reused-tuple-ack");
	send_to(w, name, &ack, v, b, LBC_HIT);
	NAME(name, w, "flow-cache/reused-tuple-copy");
	fcache_expect(w, name, &ack, b->id);

	/* the same SYN again: Maglev's pick is what the entry holds */
	gen = fcache_gen(w);
	NAME(name, w, "flow-cache/repeated-syn");
	send_to(w, name, &s, v, b, LBC_NEW);
	NAME(name, w, "flow-cache/repeated-syn-forgets-this-cpus-copy");
	fcache_expect(w, name, &ack, -1);
	NAME(name, w, "flow-cache/repeated-syn-keeps-the-generation");
	gen_expect(name, gen, fcache_gen(w), false);
	NAME(name, w, "flow-cache/ack-after-repeated-syn");
	send_to(w, name, &ack, v, b, LBC_HIT);
out:
	fx_unpin(&old);
}

/* The backend down (or up again) as health checks would set it, in lb_state and the model. */
static bool be_set_down(struct world *w, struct mbe *b, bool down)
{
	int err = xl4_lb_backend_set_down(&w->lb, b->id, down);

	if (err)
		return setup_fail(w, "xl4_lb_backend_set_down", strerror(-err));
	b->down = down;
	return true;
}

/*
 * An evicted entry's copy whose backend went down (the VIP reschedules): the ACK leaves the
 * copy to the stage, which inserts the flow on Maglev's pick. This CPU's copy of the old entry
 * must go with that insert: when the backend comes back up within the epoch, the next ACK
 * follows the table, not the copy. On the test clock (its own world) and one CPU.
 */
static void run_flow_cache_down(struct world *w)
{
	struct mvip *v = &w->vip[V_DOWNR];
	struct change c = { .before = *v, .after = *v, .target = 2, .avoid = 2 };
	struct pspec s, ack;
	struct mbe *b = &v->be[2], *n;
	char name[128];
	cpu_set_t old;

	if (w->v6)
		return;
	c.after.be[2].down = 1;
	NAME(name, w, "flow-cache/down/find-flow");
	if (!precond(name, find_flow(w, v, 8, 49500, pred_moves, &c, &s), "no flow on backend 3"))
		return;
	fx_pin(&old);
	ack = s;
	ack.flags = TH_ACK;
	ack.payload = 40;
	NAME(name, w, "flow-cache/down/syn");
	send_to(w, name, &s, v, b, LBC_NEW);
	NAME(name, w, "flow-cache/down/ack-copies");
	send_to(w, name, &ack, v, b, LBC_HIT);
	NAME(name, w, "flow-cache/down/copied");
	fcache_expect(w, name, &ack, b->id);
	if (!ct_evict(w, &s))
		goto out;
	if (!be_set_down(w, b, true))
		goto out;
	n = pick(v, &ack);
	NAME(name, w, "flow-cache/down/ack-inserted-on-the-pick");
	send_to(w, name, &ack, v, n, LBC_NEW);
	NAME(name, w, "flow-cache/down/insert-forgets-the-copy");
	fcache_expect(w, name, &ack, -1);
	if (!be_set_down(w, b, false))
		goto out;
	NAME(name, w, "flow-cache/down/back-up-follows-the-table");
	send_to(w, name, &ack, v, n, LBC_HIT);
out:
	fx_unpin(&old);
}

static void run_ct_split(struct world *w)
{
	struct mvip *v = &w->vip[V_MAIN];
	struct pspec s = flow(w, v, 9, 46000, TH_SYN), ack;
	struct mbe *b = pick(v, &s), *other = NULL;
	struct xl4_flow_key k, x, y, e;
	struct xl4_flow f, old, stale, newer;
	struct xl4_backend be;
	long seen, written, v4, v6;
	char name[128];
	__u32 be_x, be_y;
	bool ok = true;

	NAME(name, w, "ct-split/");
	if (!fx_selected(name) || w->v6) /* IPv4 only; its steps build on each other */
		return;
	for (int i = 0; b && i < v->n; i++)
		if (&v->be[i] != b && !v->be[i].gone && !v->be[i].down && !v->be[i].spec.drained)
			other = &v->be[i];
	NAME(name, w, "ct-split/syn");
	if (!precond(name, other != NULL, "a second live backend on the VIP") ||
	    !send_to(w, name, &s, v, b, LBC_NEW))
		return;
	flow_key(&s, &k);
	if (xl4_ct_lookup(w->lb.maps.ct4, w->lb.maps.ct, &k, &f) ||
	    bpf_map_lookup_elem(w->lb.maps.backends, &other->id, &be)) {
		setup_fail(w, "ct-split: the SYN's entry or the other backend", strerror(errno));
		return;
	}
	/* the old layout: the SYN's flow (re-pointed to other) only in xl4_ct_v1 */
	old = f;
	old.backend_id = other->id;
	old.gen = be.gen;
	{
		struct xl4_flow_key4 k4;

		xl4_flow_key4_of(&k4, &k);
		if (bpf_map_delete_elem(w->lb.maps.ct4, &k4) || !split_put(w, &k, &old, NULL))
			return;
	}
	stale = newer = f; /* on b, seen before / after the old table's entry */
	stale.last_s = old.last_s - 5;
	newer.last_s = old.last_s + 5;
	x = y = e = k;
	x.sport = htons(46001);
	y.sport = htons(46002);
	if (!split_put(w, &x, &old, &stale) || !split_put(w, &y, &old, &newer))
		return;
	for (int i = 0; i < SPLIT_EXTRA + SPLIT_V6; i++) {
		e.saddr[0] = htonl(0xc6128000u + i);
		if (i >= SPLIT_EXTRA) { /* an IPv6 flow */
			e.family = 6;
			e.saddr[1] = htonl(0x20010db8);
		}
		if (!split_put(w, &e, &old, NULL))
			return;
	}

	NAME(name, w, "ct-split/copy-while-the-old-program-serves");
	seen = xl4_ct_split_ipv4(w->lb.maps.ct, w->lb.maps.ct4, false, &written);
	split_census(w, &v4, &v6, &x, &be_x);
	split_census(w, &v4, &v6, &y, &be_y);
	if (seen != SPLIT_EXTRA + 3 || written != SPLIT_EXTRA + 2)
		ok = fx_fail(name, ok, "%ld IPv4 entries seen, %ld written; want %d and %d", seen,
			     written, SPLIT_EXTRA + 3, SPLIT_EXTRA + 2);
	if (v4 != SPLIT_EXTRA + 3 || v6 != SPLIT_V6)
		ok = fx_fail(name, ok, "xl4_ct_v1 holds %ld IPv4 and %ld IPv6 entries after the copy, "
			     "want all of them still (%d, %d)", v4, v6, SPLIT_EXTRA + 3, SPLIT_V6);
	if (be_x != other->id || be_y != b->id)
		ok = fx_fail(name, ok, "xl4_ct4_v1: the older entry's key names backend %u (want %u, "
			     "the old table's), the newer one's %u (want %u, kept)", be_x, other->id,
			     be_y, b->id);
	fx_count(name, ok);
	ack = s;
	ack.flags = TH_ACK;
	ack.payload = 20;
	NAME(name, w, "ct-split/ack-follows-the-copied-entry");
	send_to(w, name, &ack, v, other, LBC_HIT);

	NAME(name, w, "ct-split/move-once-attached");
	ok = true;
	seen = xl4_ct_split_ipv4(w->lb.maps.ct, w->lb.maps.ct4, true, &written);
	split_census(w, &v4, &v6, &y, &be_y);
	if (seen != SPLIT_EXTRA + 3 || v4 != 0 || v6 != SPLIT_V6 || be_y != b->id)
		ok = fx_fail(name, ok, "%ld IPv4 entries seen (want %d); left in xl4_ct_v1: %ld IPv4 "
			     "(want 0), %ld IPv6 (want %d); the newer key's backend %u (want %u)", seen,
			     SPLIT_EXTRA + 3, v4, v6, SPLIT_V6, be_y, b->id);
	fx_count(name, ok);
	NAME(name, w, "ct-split/ack-after-the-move");
	send_to(w, name, &ack, v, other, LBC_HIT);
	/* leave the table as the other scenarios expect it: without the planted flows */
	for (int i = 0; i < SPLIT_EXTRA + SPLIT_V6; i++) {
		struct xl4_flow_key4 k4;

		e = k;
		e.saddr[0] = htonl(0xc6128000u + i);
		if (i >= SPLIT_EXTRA) {
			e.family = 6;
			e.saddr[1] = htonl(0x20010db8);
			bpf_map_delete_elem(w->lb.maps.ct, &e);
			continue;
		}
		xl4_flow_key4_of(&k4, &e);
		bpf_map_delete_elem(w->lb.maps.ct4, &k4);
	}
}

/*
 * With per-CPU LRU lists (lb.conntrack.per_cpu_lru) each CPU's list holds its share of the
 * table and takes what is written from that CPU: moved from one CPU, the flows would evict each
 * other past that share. Three quarters of the table, moved, must all be there. (The IPv6
 * table is big enough to take them all from this one CPU.)
 */
static void run_ct_split_percpu(void)
{
	const char *name = "lb/ct-split/per-cpu-lru-spread";
	struct xl4_engine_opts o = { .ct_max = 4096, .ct6_max = 16384, .ct_per_cpu_lru = true,
				     .frag_policy = XL4_FRAG_PASS };
	struct xl4_flow f = { .backend_id = 1, .gen = 1 };
	struct xl4_flow_key k = { .daddr = { htonl(0xc6120101u) }, .dport = htons(80),
				  .proto = IPPROTO_TCP, .family = 4 };
	int possible = libbpf_num_possible_cpus(), allowed, n = 3 * 4096 / 4, in4 = 0;
	struct xl4_flow_key4 k4, next4;
	struct xl4_engine e;
	cpu_set_t mine;
	long seen, written;
	bool ok = true;

	if (!fx_selected(name))
		return;
	sched_getaffinity(0, sizeof(mine), &mine);
	allowed = CPU_COUNT(&mine);
	if (allowed < possible) {
		printf("SKIP %s: this process may run on %d of the %d possible CPUs, whose lists share "
		       "the table: the spread cannot be checked\n", name, allowed, possible);
		fx.skipped++;
		return;
	}
	if (xl4_engine_load(&e, &o)) {
		fx_setup_fail(name, "xl4_engine_load (per-CPU LRU)", strerror(errno));
		return;
	}
	for (int i = 0; i < n && ok; i++) {
		k.saddr[0] = htonl(0xc6128000u + i);
		if (bpf_map_update_elem(e.lb.ct, &k, &f, BPF_ANY))
			ok = fx_setup_fail(name, "plant an IPv4 entry in xl4_ct_v1", strerror(errno));
	}
	if (ok) {
		seen = xl4_ct_split_ipv4(e.lb.ct, e.lb.ct4, true, &written);
		for (void *prev = NULL; !bpf_map_get_next_key(e.lb.ct4, prev, &next4); prev = &k4) {
			k4 = next4;
			in4++;
		}
		if (seen != n || written != n || in4 != n)
			ok = fx_fail(name, true, "%ld seen, %ld written, %d in xl4_ct4_v1 afterwards; want "
				     "%d each (%d CPUs)", seen, written, in4, n, possible);
		fx_count(name, ok);
	}
	xl4_engine_close(&e);
}

/*
 * A per-CPU LRU table's size is rounded by the kernel to a multiple of the possible CPUs. A
 * restart asking for the configured size (4097 here) would find the pins' rounded one and be
 * refused: "cannot reuse the pinned map" after every daemon restart on such a machine. Pins in
 * a directory of their own, removed at the end.
 */
static void run_ct_percpu_restart(void)
{
	const char *name = "lb/ct-per-cpu-lru/restart-over-the-pins";
	char pins[64];
	struct xl4_engine_opts o = { .ct_max = 4097, .ct_per_cpu_lru = true,
				     .frag_policy = XL4_FRAG_PASS, .pin_path = pins };
	struct xl4_engine e;
	int err;

	if (!fx_selected(name))
		return;
	if (libbpf_num_possible_cpus() < 2)
		printf("note %s: one possible CPU, nothing to round: the check passes trivially\n", name);
	snprintf(pins, sizeof(pins), "/sys/fs/bpf/xl4-fx-ctsize-%d", (int)getpid());
	if ((err = xl4_engine_load(&e, &o))) {
		fx_setup_fail(name, "first load", strerror(-err));
	} else {
		xl4_engine_close(&e);
		err = xl4_engine_load(&e, &o);
		if (err)
			fx_fail(name, true, "a second load over the pins was refused: %s", strerror(-err));
		else
			xl4_engine_close(&e);
		fx_count(name, !err);
	}
	xl4_unpin_all(pins);
}

/* xl4_vbits_v1 holds exactly the bits of the VIP addresses the daemon has, whatever came and
 * went: a bit left clear would pass a VIP's traffic to the kernel. */
static bool vip_bits_expect(struct world *w, const char *name)
{
	struct xl4_vip_bits got, want = { { 0 } };
	__u32 zero = 0, bit;
	bool ok = true;

	for (int i = 0; i < XL4_MAX_VIPS; i++) {
		if (!w->lb.vips[i].used)
			continue;
		bit = xl4_vip_bit(w->lb.vips[i].spec.addr);
		want.w[bit / 64] |= 1ull << (bit % 64);
	}
	if (bpf_map_lookup_elem(w->lb.maps.vbits, &zero, &got))
		ok = fx_fail(name, true, "cannot read xl4_vbits_v1: %s", strerror(errno));
	for (__u32 i = 0; ok && i < XL4_VIP_BITS_WORDS; i++)
		if (got.w[i] != want.w[i])
			ok = fx_fail(name, true, "word %u: %#llx, want %#llx", i,
				     (unsigned long long)got.w[i], (unsigned long long)want.w[i]);
	fx_count(name, ok);
	return ok;
}

/* xl4_bevip_v1 against what the backends and the copies by id imply (abi.h): for each backend
 * id, its VIP's copy by id when the backend is live and its VIP is, else zero. */
static bool bevip_expect(struct world *w, const char *name)
{
	struct xl4_vip by_id[XL4_MAX_VIPS] = { { 0 } }, got, want;
	const struct xl4_lb_maps *m = &w->lb.maps;
	struct xl4_backend be;
	bool ok = true;

	if (!fx_selected(name))
		return true;
	for (__u32 id = 0; ok && id < XL4_MAX_VIPS; id++)
		if (bpf_map_lookup_elem(m->vipid, &id, &by_id[id]))
			ok = fx_fail(name, true, "cannot read xl4_vipid_v1: %s", strerror(errno));
	for (__u32 b = 0; ok && b < XL4_MAX_BACKENDS; b++) {
		memset(&want, 0, sizeof(want));
		if (bpf_map_lookup_elem(m->backends, &b, &be) || bpf_map_lookup_elem(m->bevip, &b, &got)) {
			ok = fx_fail(name, true, "cannot read backend %u: %s", b, strerror(errno));
			break;
		}
		if (be.family && !(be.flags & XL4_BE_F_GONE) && be.vip_id < XL4_MAX_VIPS &&
		    (by_id[be.vip_id].flags & XL4_VIP_F_LIVE))
			want = by_id[be.vip_id];
		if (memcmp(&got, &want, sizeof(got)))
			ok = fx_fail(name, true, "backend %u (VIP id %u%s): copy flags %#x id %u mode %u "
				     "mtu %u, want flags %#x id %u mode %u mtu %u", b, be.vip_id,
				     be.flags & XL4_BE_F_GONE ? ", gone" : "", got.flags, got.id,
				     got.mode, got.mtu, want.flags, want.id, want.mode, want.mtu);
	}
	fx_count(name, ok);
	return ok;
}

/* A read-only fd of the map behind fd: writes through it fail (EPERM), as a map write the
 * daemon cannot make would. -1 if it cannot be had. */
static int map_ro(int fd)
{
	LIBBPF_OPTS(bpf_get_fd_by_id_opts, o, .open_flags = BPF_F_RDONLY);
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return -1;
	return bpf_map_get_fd_by_id_opts(info.id, &o);
}

/*
 * Map writes that fail halfway (lb_state.c). A backend whose add fails after its entry was
 * written (here: the table's write refused) is released in the maps too: gone, no lane copy.
 * A VIP whose write fails after its copy by id (here: the index's keys refused) has every
 * lane copy cleared, so the lane cannot take one of the VIP as it was; the next write puts
 * them back.
 */
static void run_write_failures(struct world *w)
{
	struct mvip *v = &w->vip[V_MAIN];
	struct xl4_lb_vip *lv = xl4_lb_vip_find(&w->lb, v->spec.name);
	struct xl4_vip copy, none = { 0 };
	struct xl4_backend_spec bs;
	struct xl4_backend be = { 0 };
	struct xl4_vip_spec vs;
	char name[128], err[160];
	int ro, saved, ret;
	size_t n_be;
	__u32 id = 0;
	bool ok;

	NAME(name, w, "write-failure/");
	if (!fx_selected(name))
		return;
	if (!lv || !lv->n_be) {
		setup_fail(w, "write-failure", "VIP main not found or empty");
		return;
	}
	bs = lv->be[0].spec; /* a new address beside the VIP's first backend */
	if (bs.family == 6) {
		struct in6_addr x = a6(G_BACKEND, v->slot * 16 + 15);

		memcpy(bs.addr, &x, 16);
	} else {
		bs.addr[0] = htonl(a4(G_BACKEND, v->slot * 10 + 9));
	}
	while (id < XL4_MAX_BACKENDS && w->lb.be_used[id])
		id++; /* the id the add takes */
	n_be = lv->n_be;
	if ((ro = map_ro(w->lb.maps.ring)) < 0) {
		setup_fail(w, "write-failure: read-only ring fd", strerror(errno));
		return;
	}
	saved = w->lb.maps.ring;
	w->lb.maps.ring = ro;
	ret = xl4_lb_backend_add(&w->lb, v->spec.name, &bs, err, sizeof(err));
	w->lb.maps.ring = saved;
	close(ro);
	NAME(name, w, "write-failure/backend-add-refused");
	ok = ret != 0 && lv->n_be == n_be;
	if (!ok)
		fx_fail(name, true, "add returned %d, backends %zu (were %zu)", ret, lv->n_be, n_be);
	fx_count(name, ok);
	NAME(name, w, "write-failure/backend-add-released");
	ok = id < XL4_MAX_BACKENDS && !w->lb.be_used[id] &&
	     !bpf_map_lookup_elem(w->lb.maps.backends, &id, &be) &&
	     !bpf_map_lookup_elem(w->lb.maps.bevip, &id, &copy);
	if (ok && ((be.family && !(be.flags & XL4_BE_F_GONE)) || memcmp(&copy, &none, sizeof(copy))))
		ok = fx_fail(name, true, "backend id %u after the failed add: family %u flags %#x, "
			     "lane copy flags %#x id %u", id, be.family, be.flags, copy.flags, copy.id);
	else if (!ok)
		fx_fail(name, true, "backend id %u: cannot read its entries", id);
	fx_count(name, ok);

	vs = lv->spec;
	vs.reschedule_down = !vs.reschedule_down;
	if ((ro = map_ro(w->lb.maps.vipkey)) < 0) {
		setup_fail(w, "write-failure: read-only index keys fd", strerror(errno));
		return;
	}
	saved = w->lb.maps.vipkey;
	w->lb.maps.vipkey = ro;
	ret = xl4_lb_vip_update(&w->lb, &vs, err, sizeof(err));
	w->lb.maps.vipkey = saved;
	close(ro);
	NAME(name, w, "write-failure/vip-update-copies-cleared");
	ok = ret != 0;
	for (size_t i = 0; ok && i < lv->n_be; i++) {
		__u32 b = lv->be[i].id;

		if (bpf_map_lookup_elem(w->lb.maps.bevip, &b, &copy) ||
		    memcmp(&copy, &none, sizeof(copy)))
			ok = fx_fail(name, true, "update returned %d; backend %u's lane copy: flags %#x "
				     "id %u", ret, b, copy.flags, copy.id);
	}
	if (ret == 0)
		fx_fail(name, true, "the update did not fail");
	fx_count(name, ok);
	/* the entry named its new table slot before the index failed: that slot is live now, and
	 * the daemon's idea of the live slot must follow it (the next build goes to the other) */
	NAME(name, w, "write-failure/vip-update-slot-as-written");
	{
		__u32 vid = lv->id;
		struct xl4_vip e;

		ok = !bpf_map_lookup_elem(w->lb.maps.vipid, &vid, &e);
		if (!ok)
			fx_fail(name, true, "cannot read the VIP's entry by id");
		else if (e.ring_slot != lv->slot)
			ok = fx_fail(name, true, "the entry names table slot %u, the daemon thinks %u",
				     e.ring_slot, lv->slot);
		fx_count(name, ok);
	}
	/* the copy by id refused (written after the entry by key): the entry by key is put back
	 * to the slot the copy by id names, and the daemon stays on it */
	if ((ro = map_ro(w->lb.maps.vipid)) < 0) {
		setup_fail(w, "write-failure: read-only VIP-by-id fd", strerror(errno));
		return;
	}
	saved = w->lb.maps.vipid;
	w->lb.maps.vipid = ro;
	vs = lv->spec;
	vs.reschedule_down = !vs.reschedule_down;
	ret = xl4_lb_vip_update(&w->lb, &vs, err, sizeof(err));
	w->lb.maps.vipid = saved;
	close(ro);
	NAME(name, w, "write-failure/vip-by-id-refused-slots-agree");
	{
		__u32 vid = lv->id;
		struct xl4_vip by_id, by_key;
		struct xl4_vip_key k = { .family = lv->spec.family, .proto = lv->spec.proto };

		memcpy(k.addr, lv->spec.addr, sizeof(k.addr));
		k.port = htons(lv->spec.port);
		ok = ret != 0 && !bpf_map_lookup_elem(w->lb.maps.vipid, &vid, &by_id) &&
		     !bpf_map_lookup_elem(w->lb.maps.vips, &k, &by_key);
		if (!ok)
			fx_fail(name, true, "update returned %d, or the entries cannot be read", ret);
		else if (by_key.ring_slot != by_id.ring_slot || by_id.ring_slot != lv->slot)
			ok = fx_fail(name, true, "table slot by key %u, by id %u, the daemon's %u",
				     by_key.ring_slot, by_id.ring_slot, lv->slot);
		fx_count(name, ok);
	}
	/* the next write puts them back (the spec as it was) */
	if (xl4_lb_vip_update(&w->lb, &lv->spec, err, sizeof(err))) {
		setup_fail(w, "write-failure: VIP update", err);
		return;
	}
	NAME(name, w, "write-failure/vip-update-copies-back");
	bevip_expect(w, name);
}

static void run_vip_bits(struct world *w)
{
	struct mvip *v = &w->vip[V_RST]; /* the only VIP on its address */
	struct pspec s = flow(w, v, 6, 48000, TH_SYN);
	char name[128], err[256];
	struct pkt p;

	NAME(name, w, "vip-bits/");
	if (!fx_selected(name))
		return;
	struct xl4_lb_vip *lv = xl4_lb_vip_find(&w->lb, v->spec.name);
	struct xl4_lb_counters old;
	uint32_t old_id;

	NAME(name, w, "vip-bits/provisioned");
	if (!vip_bits_expect(w, name) || !lv)
		return;
	NAME(name, w, "vip-bits/backend-vip-copies");
	bevip_expect(w, name);
	/* something counted on the VIP, for the reused-id row below */
	NAME(name, w, "vip-bits/counted-before-delete");
	send_to(w, name, &s, v, pick(v, &s), LBC_NEW);
	old_id = lv->id;
	old = vip_ctr(&w->lb, old_id);
	if (xl4_lb_vip_del(&w->lb, v->spec.name, err, sizeof(err))) {
		setup_fail(w, "xl4_lb_vip_del", err);
		return;
	}
	v->used = 0; /* the model's too: no counter checks for it from here on */
	NAME(name, w, "vip-bits/after-delete");
	vip_bits_expect(w, name);
	NAME(name, w, "vip-bits/backend-vip-copies-after-delete");
	bevip_expect(w, name);
	/* the deleted VIP's address serves nothing now: its traffic is the host's */
	NAME(name, w, "vip-bits/deleted-vip-passes");
	build(&p, &s);
	lb_check(w, name, &p, &(struct want){ XDP_PASS, XL4_R_NONE, NULL, LBC_NONE, NULL, NULL });

	/* New VIPs (other ports on the address) until one gets the deleted VIP's id (a lower
	 * freed id, V_GONE's, goes first): it starts with no counts of its predecessor's. */
	NAME(name, w, "vip-bits/id-reused");
	if (!fx_selected(name))
		return;
	for (int i = 0; i < 4; i++) {
		struct xl4_vip_spec ns = v->spec;

		snprintf(ns.name, sizeof(ns.name), "reuse%d", i);
		ns.port = (uint16_t)(ns.port + 1000 + i);
		if (xl4_lb_vip_add(&w->lb, &ns, err, sizeof(err))) {
			setup_fail(w, "xl4_lb_vip_add", err);
			return;
		}
		if ((lv = xl4_lb_vip_find(&w->lb, ns.name)) && lv->id == old_id)
			break;
		lv = NULL;
	}
	if (!precond(name, lv != NULL, "no new VIP took the deleted VIP's id"))
		return;
	NAME(name, w, "vip-bits/reused-id-counters-start-at-zero");
	ctr_fresh(name, old_id, vip_ctr(&w->lb, old_id), &old);
}

/* Drained: no new flows, existing ones stay. */
static void run_drain(struct world *w)
{
	struct mvip *v = &w->vip[V_DRAIN];
	struct change c = { .before = *v, .after = *v, .target = 1, .avoid = 1 };
	struct pspec f1, f2, ack;
	struct mbe *b = &v->be[1];
	char name[128], err[160];
	int hits = 0, bad = 0, total = 200;

	c.after.be[1].spec.drained = true;
	NAME(name, w, "drain/find-flows");
	if (!precond(name, find_flow(w, v, 4, 45000, pred_moves, &c, &f1) &&
			   find_flow(w, v, 4, f1.sport + 1, pred_moves, &c, &f2),
		     "no flows on the backend to drain"))
		return;
	NAME(name, w, "drain/syn-before");
	send_to(w, name, &f1, v, b, LBC_NEW);
	if (xl4_lb_backend_drain(&w->lb, v->spec.name, &b->spec, true, err, sizeof(err))) {
		setup_fail(w, "xl4_lb_backend_drain", err);
		return;
	}
	b->spec.drained = true;
	NAME(name, w, "drain/new-flow-goes-elsewhere");
	send_to(w, name, &f2, v, pick(v, &f2), LBC_NEW);
	ack = f1;
	ack.flags = TH_ACK;
	NAME(name, w, "drain/existing-flow-stays");
	send_to(w, name, &ack, v, b, LBC_HIT);

	/* 200 more new flows: none reaches the drained backend, each the model's pick */
	NAME(name, w, "drain/no-new-flows");
	if (fx_selected(name)) {
		for (int i = 0; i < total; i++) {
			struct pspec s = flow(w, v, 5, (uint16_t)(46000 + i), TH_SYN);
			struct pkt p, out;
			struct xl4_run_result r;
			struct mbe *m = pick(v, &s);

			build(&p, &s);
			if (!m || xl4_run_packet(&w->eng, p.b, p.len, run_out, sizeof(run_out), &r)) {
				bad++;
				continue;
			}
			expect_fwd(w, &s, m, &out);
			hits += r.out_len >= 6 && !memcmp(run_out, b->spec.mac, 6);
			bad += r.verdict != XDP_TX || r.out_len != out.len || memcmp(run_out, out.b, out.len);
		}
		if (hits || bad)
			fx_fail(name, true, "%d of %d new flows reached the drained backend, %d differ from the model",
				hits, total, bad);
		fx_count(name, !hits && !bad);
	}
}

/* Removed: its flows re-pick; a reused id (new generation) does not inherit them. */
/* a -= b, field by field */
static void counters_sub(struct xl4_lb_counters *a, struct xl4_lb_counters b)
{
	a->packets -= b.packets;
	a->bytes -= b.bytes;
	a->new_flows -= b.new_flows;
	a->ct_hits -= b.ct_hits;
	a->ct_misses -= b.ct_misses;
	a->ct_insert_capped -= b.ct_insert_capped;
}

/* The VIP's counters are what they were (`old`, which counted something). */
static void vip_ctr_same(struct world *w, const char *name, const struct mvip *v,
			 const struct xl4_lb_counters *old)
{
	struct xl4_lb_vip *lv = xl4_lb_vip_find(&w->lb, v->spec.name);
	struct xl4_lb_counters c;
	bool ok;

	if (!fx_selected(name))
		return;
	c = vip_ctr(&w->lb, lv ? lv->id : XL4_MAX_VIPS);
	ok = lv && old->packets && !memcmp(&c, old, sizeof(c));
	if (!ok)
		fx_fail(name, true, "VIP '%s' counted %llu packets, %llu new flows; now %llu, %llu",
			v->spec.name, (unsigned long long)old->packets,
			(unsigned long long)old->new_flows, (unsigned long long)c.packets,
			(unsigned long long)c.new_flows);
	fx_count(name, ok);
}

static void run_removed(struct world *w)
{
	struct mvip *v = &w->vip[V_DEL];
	struct change c = { .before = *v, .after = *v, .target = 1, .avoid = -1 };
	struct change c2;
	struct pspec f1, f3, ack;
	struct mbe *b = &v->be[1], *d;
	uint32_t old_id = b->id;
	struct xl4_lb_counters old, vip_old;
	char name[128], err[160];

	c.after.be[1].gone = 1;
	c2 = c;
	m_add(&c2.after, 6, 1, be_port(w, V_DEL, 6)); /* D, after B is gone */
	c2.avoid = c2.after.n - 1;
	NAME(name, w, "removed/find-flows");
	if (!precond(name, find_flow(w, v, 6, 47000, pred_moves, &c, &f1) &&
			   find_flow(w, v, 6, 48000, pred_moves, &c2, &f3),
		     "no flows on the backend to remove"))
		return;
	NAME(name, w, "removed/syn-before");
	send_to(w, name, &f1, v, b, LBC_NEW);
	NAME(name, w, "removed/syn-before-2");
	send_to(w, name, &f3, v, b, LBC_NEW);
	old = lb_ctr(w->lb.maps.bstats, old_id);
	vip_old = vip_ctr(&w->lb, xl4_lb_vip_find(&w->lb, v->spec.name)->id);
	if (xl4_lb_backend_del(&w->lb, v->spec.name, &b->spec, err, sizeof(err))) {
		setup_fail(w, "xl4_lb_backend_del", err);
		return;
	}
	b->gone = 1;
	/* its packets stay the VIP's: folded into the removed backends' counters */
	NAME(name, w, "removed/vip-counters-kept");
	vip_ctr_same(w, name, v, &vip_old);
	NAME(name, w, "removed/backend-vip-copies");
	bevip_expect(w, name);
	ack = f1;
	ack.flags = TH_ACK;
	NAME(name, w, "removed/existing-flow-repicks");
	send_to(w, name, &ack, v, pick(v, &ack), LBC_NEW);
	NAME(name, w, "removed/conntrack-updated");
	ct_expect(w, name, &ack, pick(v, &ack));

	vip_old = vip_ctr(&w->lb, xl4_lb_vip_find(&w->lb, v->spec.name)->id);
	d = m_add(v, 6, 1, be_port(w, V_DEL, 6));
	if (!w_add(w, v, d))
		return;
	NAME(name, w, "removed/id-reused");
	precond(name, d->id == old_id, "lb_state did not reuse the removed backend's id");
	NAME(name, w, "removed/reused-id-counters-start-at-zero");
	ctr_fresh(name, d->id, lb_ctr(w->lb.maps.bstats, d->id), &old);
	/* and the VIP counts the removed backend's packets once: not again under its id */
	NAME(name, w, "removed/vip-counters-kept-after-reuse");
	vip_ctr_same(w, name, v, &vip_old);
	ack = f3;
	ack.flags = TH_ACK;
	NAME(name, w, "removed/reused-id-not-inherited");
	send_to(w, name, &ack, v, pick(v, &ack), LBC_NEW);
}

/* Down: with reschedule_down its flows move on, without they stay; new flows avoid it. */
static void run_down(struct world *w, int slot)
{
	struct mvip *v = &w->vip[slot];
	int resched = vip_defs[slot].resched;
	struct change c = { .before = *v, .after = *v, .target = 2, .avoid = 2 };
	struct pspec f1, f2, ack;
	struct mbe *b = &v->be[2];
	const char *tag = resched ? "down-resched" : "down";
	char name[128];

	c.after.be[2].down = 1;
	NAME(name, w, "%s/find-flows", tag);
	if (!precond(name, find_flow(w, v, 7, 49000, pred_moves, &c, &f1) &&
			   find_flow(w, v, 7, f1.sport + 1, pred_moves, &c, &f2),
		     "no flows on the backend to take down"))
		return;
	NAME(name, w, "%s/syn-before", tag);
	send_to(w, name, &f1, v, b, LBC_NEW);
	if (!be_set_down(w, b, true))
		return;
	ack = f1;
	ack.flags = TH_ACK;
	NAME(name, w, "%s/existing-flow", tag);
	if (resched) {
		send_to(w, name, &ack, v, pick(v, &ack), LBC_NEW);
		NAME(name, w, "%s/conntrack-moved", tag);
		ct_expect(w, name, &ack, pick(v, &ack));
	} else {
		send_to(w, name, &ack, v, b, LBC_HIT);
	}
	NAME(name, w, "%s/new-flow-avoids-it", tag);
	send_to(w, name, &f2, v, pick(v, &f2), LBC_NEW);
}

/*
 * ICMP errors about a VIP's flow go to the backend that owns it, and only those (docs/
 * load-balancer.md): the quoted packet (VIP -> client) must be a flow the connection table
 * holds, the error must be addressed to the VIP it quotes as source, and a frag-needed /
 * packet-too-big must announce at least the minimum MTU (RFC 1191: 68; RFC 8201: 1280).
 * Rows: variations of an error about an existing flow. MTUs are tested at the floor and one
 * below; the words after the checksum hold values that a reader of the wrong bytes would judge
 * the other way.
 */
static const struct icmp_row {
	const char *name;
	unsigned int fams;
	uint32_t body4, body6; /* pspec.body for v4 / v6 */
	int other_dst;	       /* addressed to another VIP's address (V_MAIN's) */
	int etime;	       /* time exceeded: no MTU, the unused word is not read */
	uint32_t reason;       /* XL4_R_NONE: forwarded to the flow's backend */
} icmp_rows[] = {
	{ "mtu-at-floor", 3, 68, 1280, 0, 0, XL4_R_NONE },
	{ "mtu-below-floor", 3, 67, 1279, 0, 0, XL4_R_LB_ICMP_MTU },
	{ "mtu-40", 3, 40, 40, 0, 0, XL4_R_LB_ICMP_MTU },
	{ "mtu-0", 3, BODY_ZERO, BODY_ZERO, 0, 0, XL4_R_LB_ICMP_MTU },
	/* v4: the upper 16 bits are unused, not part of the MTU */
	{ "mtu-40-unused-bits-set", 1, 0xffff0028u, 0, 0, 0, XL4_R_LB_ICMP_MTU },
	/* v6: the MTU is 32 bits; its low 16 bits alone would read 40 */
	{ "mtu-65576", 2, 0, 0x00010028u, 0, 0, XL4_R_NONE },
	{ "outer-dst-other-vip", 3, 0, 0, 1, 0, XL4_R_LB_ICMP_MISMATCH },
	{ "time-exceeded", 3, 40, 40, 0, 1, XL4_R_NONE },
	{ "time-exceeded-other-vip", 3, 40, 40, 1, 1, XL4_R_LB_ICMP_MISMATCH },
};

/* An ICMP error e that must be refused with reason: dropped, counted, nothing inserted. */
static void icmp_refused(struct world *w, const char *name, const struct pspec *e, uint32_t reason)
{
	struct pkt p;

	build(&p, e);
	lb_check(w, name, &p, &(struct want){ XDP_DROP, reason, NULL, LBC_NONE, NULL, NULL });
}

/* ipip: an error about flow e (backend b) whose quote makes it too big to encapsulate within
 * the VIP's MTU (1500) is dropped as lb_too_big, never answered: no ICMP error about an ICMP
 * error (RFC 1122 3.2.2, RFC 4443 2.4 (e)). One that fits exactly still goes to the flow's
 * backend. A sender may quote as much as it likes; only the VIP's MTU bounds it. */
static void icmp_too_big(struct world *w, const struct pspec *e, struct mvip *v, struct mbe *b)
{
	int hdr = w->v6 ? 40 : 20;
	/* the error's IP packet: header, ICMP header, quote (header, 8 bytes, payload) */
	uint16_t fits = (uint16_t)(1500 - hdr - (hdr + 8 + hdr + 8));
	struct pspec x = *e;
	char name[128];

	if (w->mode != XL4_FWD_IPIP)
		return;
	x.payload = fits;
	NAME(name, w, "icmp/long-quote-fits-exactly");
	send_to(w, name, &x, v, b, LBC_ICMP_HIT);
	x.payload = fits + 1;
	NAME(name, w, "icmp/long-quote-too-big-dropped-not-answered");
	icmp_refused(w, name, &x, XL4_R_LB_TOO_BIG);
}

/* Errors about flow e that are not steered but passed on unchanged, for the kernel: one in a
 * first fragment (its later fragments have no ICMP header to steer by: the kernel reassembles
 * them), and one whose IP packet ends inside the quote's ports, which the frame carries on in
 * its link padding. */
static void icmp_not_steered(struct world *w, const struct pspec *e)
{
	const char *tb = w->v6 ? "ptb" : "frag-needed";
	struct want pass = { XDP_PASS, XL4_R_NONE, NULL, LBC_NONE, NULL, NULL };
	struct pspec x = *e;
	struct pkt p;
	char name[128];
	uint32_t l3;

	if (w->v6)
		x.frag6 = 1;
	else
		x.frag = IP4_MF;
	build(&p, &x);
	NAME(name, w, "icmp/%s-in-a-first-fragment-passed", tb);
	lb_check(w, name, &p, &pass);

	build(&p, e);
	l3 = (w->v6 ? 40 : 20) + 8 + (w->v6 ? 40 : 20) + 4; /* half of the quoted ports */
	if (w->v6)
		pkt_set16(&p, p.l3 + 4, (uint16_t)(l3 - 40));
	else
		pkt_set_ip4_totlen(&p, (uint16_t)l3, 1);
	NAME(name, w, "icmp/%s-ports-in-link-padding-passed", tb);
	lb_check(w, name, &p, &pass);
}

static void run_icmp(struct world *w)
{
	struct mvip *v = &w->vip[V_ICMP], *u = &w->vip[V_ICMPU];
	struct change c = { .before = *v, .after = *v, .target = 0, .avoid = -1 };
	struct pspec f1, f2, e;
	struct mbe *b = &v->be[0], *n1;
	const char *tb = w->v6 ? "ptb" : "frag-needed";
	char name[128];

	m_add(&c.after, 4, 5, be_port(w, V_ICMP, 4));
	NAME(name, w, "icmp/find-flow");
	if (!precond(name, find_flow(w, v, 8, 50000, pred_moves, &c, &f1), "no flow moves with the change"))
		return;
	NAME(name, w, "icmp/syn");
	send_to(w, name, &f1, v, b, LBC_NEW);
	n1 = m_add(v, 4, 5, be_port(w, V_ICMP, 4));
	if (!w_add(w, v, n1))
		return;
	e = f1;
	e.kind = K_ICMP_ERR;
	NAME(name, w, "icmp/%s-to-conntrack-backend", tb);
	send_to(w, name, &e, v, b, LBC_ICMP_HIT);
	for (int vl = 1; vl <= 2; vl++) {
		e.vlans = vl;
		NAME(name, w, "icmp/%s-to-conntrack-backend/%s", tb, vl == 1 ? "dot1q" : "qinq");
		send_to(w, name, &e, v, b, LBC_ICMP_HIT);
	}
	e.vlans = 0;
	for (size_t i = 0; i < sizeof(icmp_rows) / sizeof(icmp_rows[0]); i++) {
		const struct icmp_row *r = &icmp_rows[i];
		struct pspec x = e;

		if (!(r->fams & (w->v6 ? 2 : 1)))
			continue;
		x.body = w->v6 ? r->body6 : r->body4;
		x.odst = r->other_dst ? vip_defs[V_MAIN].addr : 0;
		x.etime = r->etime;
		NAME(name, w, "icmp/%s", r->name);
		if (r->reason == XL4_R_NONE)
			send_to(w, name, &x, v, b, LBC_ICMP_HIT);
		else
			icmp_refused(w, name, &x, r->reason);
	}
	icmp_too_big(w, &e, v, b);
	icmp_not_steered(w, &e);
	/* a flow never seen (Maglev would pick a backend for it): refused, nothing inserted */
	f2 = flow(w, v, 9, 50500, TH_SYN);
	e = f2;
	e.kind = K_ICMP_ERR;
	NAME(name, w, "icmp/%s-no-flow", tb);
	icmp_refused(w, name, &e, XL4_R_LB_ICMP_NO_FLOW);
	NAME(name, w, "icmp/not-in-conntrack");
	ct_expect(w, name, &f2, NULL);

	/* UDP: an error about a flow never seen would set the backend's path MTU toward any
	 * client the sender names; once the client's flow exists, its errors go through. */
	f2 = flow(w, u, 9, 50600, 0);
	e = f2;
	e.kind = K_ICMP_ERR;
	e.body = w->v6 ? 1280 : 552;
	NAME(name, w, "icmp-udp/%s-no-flow", tb);
	icmp_refused(w, name, &e, XL4_R_LB_ICMP_NO_FLOW);
	NAME(name, w, "icmp-udp/not-in-conntrack");
	ct_expect(w, name, &f2, NULL);
	NAME(name, w, "icmp-udp/flow");
	if (!send_to(w, name, &f2, u, pick(u, &f2), LBC_NEW))
		return;
	NAME(name, w, "icmp-udp/%s-to-flow-backend", tb);
	send_to(w, name, &e, u, pick(u, &f2), LBC_ICMP_HIT);
	/* a large reply left in fragments: the error quotes the first one (IPv6: its ports after
	 * the fragment header), and goes to the flow's backend; one quoting a later fragment has
	 * no ports (what is there is payload): the kernel's */
	e.qfrag = 1;
	NAME(name, w, "icmp-udp/%s-quoting-a-first-fragment", tb);
	send_to(w, name, &e, u, pick(u, &f2), LBC_ICMP_HIT);
	e.qfrag = 2;
	NAME(name, w, "icmp-udp/%s-quoting-a-later-fragment-passed", tb);
	{
		struct pkt p;

		build(&p, &e);
		lb_check(w, name, &p, &(struct want){ XDP_PASS, XL4_R_NONE, NULL, LBC_NONE, NULL, NULL });
	}
	e.qfrag = 0;
	/* the same client, another port: a guess, not its flow */
	e.sport++;
	NAME(name, w, "icmp-udp/%s-other-client-port", tb);
	icmp_refused(w, name, &e, XL4_R_LB_ICMP_NO_FLOW);
}

/* Steered ICMP errors are budgeted per CPU (budget 2 here): errors refused for another reason
 * spend nothing, so a flood of junk cannot use up the budget of real errors; the third real one
 * in the same second is dropped. */
static void run_icmp_budget(struct world *w)
{
	struct mvip *v = &w->vip[V_ICMP];
	struct pspec f = flow(w, v, 15, 55000, TH_SYN), e = f, junk;
	struct mbe *b = pick(v, &f);
	cpu_set_t old;
	char name[128];

	e.kind = K_ICMP_ERR;
	fx_pin(&old);
	NAME(name, w, "icmp-budget/syn");
	if (send_to(w, name, &f, v, b, LBC_NEW)) {
		for (int i = 0; i < 3; i++) {
			junk = e;
			junk.sport = (uint16_t)(56000 + i); /* no such flow */
			NAME(name, w, "icmp-budget/no-flow-%d", i + 1);
			icmp_refused(w, name, &junk, XL4_R_LB_ICMP_NO_FLOW);
		}
		for (int i = 0; i < 3; i++) {
			NAME(name, w, "icmp-budget/%d", i + 1);
			if (i < 2)
				send_to(w, name, &e, v, b, LBC_ICMP_HIT);
			else
				icmp_refused(w, name, &e, XL4_R_LB_ICMP_RATE);
		}
	}
	fx_unpin(&old);
}

/* ipip: too big to encapsulate. The per-VIP/backend counters are not checked here: the datapath
 * counts these packets (and the lb_too_big drops) as new flows forwarded to the backend and
 * inserts a conntrack entry before it finds them too big (lb_stage.h: lb_count and ct_insert
 * run before lb_forward). */
/* ipip only: an IP packet too big for the VIP's MTU once encapsulated is answered with a
 * "fragmentation needed" / "packet too big" quoting it (XDP_TX); one that fits exactly goes to
 * its backend. Rows: every row in both IP versions. */
#define OVER_OUTER (-1) /* over by the outer header: an IP packet of exactly the MTU */

static const struct mtu_row {
	const char *name, *name6; /* name6: in IPv6 worlds, when it differs */
	int slot;		  /* which VIP (its mtu, else 1500) */
	int vlans;
	int opts;		  /* hdr_opts() */
	int over;		  /* bytes over the MTU once encapsulated, or OVER_OUTER; 0 fits */
} mtu_rows[] = {
	{ "too-big/frag-needed", "too-big/ptb", V_MAIN, 0, 0, OVER_OUTER },
	{ "too-big/frag-needed/dot1q", "too-big/ptb/dot1q", V_MAIN, 1, 0, OVER_OUTER },
	{ "too-big/frag-needed/qinq", "too-big/ptb/qinq", V_MAIN, 2, 0, OVER_OUTER },
	{ "too-big/fits-exactly", NULL, V_MAIN, 0, 0, 0 },
	{ "too-big/one-byte-over", NULL, V_MAIN, 0, 0, 1 },
	{ "too-big/vip-mtu-1400", NULL, V_MTU, 0, 0, 1 },
	{ "too-big/ip-options", "too-big/dstopts", V_MAIN, 0, 1, OVER_OUTER },
};

/* The same too-big packet on a flow the table holds: answered the same (the established lane
 * in the entry program must not encapsulate it past the MTU), counted as a hit on the VIP only,
 * and the flow keeps its entry and its backend. */
static void mtu_established(struct world *w, const struct mtu_row *r, const struct pspec *big,
			    struct mvip *v)
{
	int hdr = w->v6 ? 40 : 20, mtu = vip_defs[r->slot].mtu ? vip_defs[r->slot].mtu : 1500;
	struct pspec s = *big, small;
	struct pkt in, out;
	struct mbe *b;
	char name[128];

	s.sport = (uint16_t)(big->sport + 1000);
	small = s;
	small.payload = 10;
	b = pick(v, &small);
	NAME(name, w, "%s/established/first", w->v6 && r->name6 ? r->name6 : r->name);
	if (!send_to(w, name, &small, v, b, LBC_NEW))
		return;
	build(&in, &s);
	build_too_big(&out, &s, &in, mtu - hdr);
	NAME(name, w, "%s/established", w->v6 && r->name6 ? r->name6 : r->name);
	lb_check(w, name, &in, &(struct want){ XDP_TX, XL4_R_NONE, &out, LBC_ICMP_HIT, v, NULL });
	NAME(name, w, "%s/established/after", w->v6 && r->name6 ? r->name6 : r->name);
	send_to(w, name, &small, v, b, LBC_HIT);
}

static void run_mtu(struct world *w)
{
	int hdr = w->v6 ? 40 : 20;
	char name[128];

	if (w->mode != XL4_FWD_IPIP)
		return;
	for (size_t i = 0; i < sizeof(mtu_rows) / sizeof(mtu_rows[0]); i++) {
		const struct mtu_row *r = &mtu_rows[i];
		struct mvip *v = &w->vip[r->slot];
		int mtu = vip_defs[r->slot].mtu ? vip_defs[r->slot].mtu : 1500;
		int over = r->over == OVER_OUTER ? hdr : r->over;
		struct pspec s = flow(w, v, 10, (uint16_t)(51000 + i), TH_ACK);
		struct pkt in, out;

		s.vlans = r->vlans;
		s.frag = w->v6 ? 0 : IP4_DF;
		if (r->opts)
			hdr_opts(&s, w->v6);
		/* the IP packet, outer header added, is mtu + over */
		s.payload = mtu - 2 * hdr - (r->opts ? hdr_opts_len(w->v6) : 0) - 20 + over;
		NAME(name, w, "%s", w->v6 && r->name6 ? r->name6 : r->name);
		if (over <= 0) {
			send_to(w, name, &s, v, pick(v, &s), LBC_NEW);
			continue;
		}
		build(&in, &s);
		build_too_big(&out, &s, &in, mtu - hdr);
		lb_check(w, name, &in, &(struct want){ XDP_TX, XL4_R_NONE, &out, LBC_SKIP, v, NULL });
		mtu_established(w, r, &s, v);
	}
}

/* ---- drops and passes: a table ------------------------------------------------------------ */

enum { F4 = 1, F6 = 2, F46 = 3 };
enum { ML2 = 1, MPORT = 2, MIPIP = 4, MALL = 7 };

static const struct drop_row {
	const char *name;
	int slot;	  /* VIP the packet is addressed to (its address and port) */
	int addr;	  /* other destination address number (0: the VIP's) */
	uint8_t proto;	  /* 0: the VIP's */
	uint16_t dport;	  /* 0: the VIP's */
	uint16_t frag;	  /* IPv4 frag_off */
	uint8_t frag6;
	uint16_t payload;
	int echo;
	unsigned int fams, modes;
	uint32_t verdict, reason;
	enum lbc ctr;	  /* on the row's VIP */
} drop_rows[] = {
	{ "no-backend/empty", V_EMPTY, 0, 0, 0, 0, 0, 0, 0, F46, MALL, XDP_DROP, XL4_R_LB_NO_BACKEND, LBC_VIP_MISS },
	{ "no-backend/all-drained", V_ALLDR, 0, 0, 0, 0, 0, 0, 0, F46, MALL, XDP_DROP, XL4_R_LB_NO_BACKEND, LBC_VIP_MISS },
	{ "frag/first", V_MAIN, 0, 0, 0, IP4_MF, 1, 0, 0, F46, MALL, XDP_DROP, XL4_R_LB_FRAG, LBC_NONE },
	{ "frag/later", V_MAIN, 0, 0, 0, 100, 2, 0, 0, F46, MALL, XDP_DROP, XL4_R_LB_FRAG, LBC_NONE },
	{ "frag/last", V_MAIN, 0, 0, 0, 200, 2, 0, 0, F46, ML2, XDP_DROP, XL4_R_LB_FRAG, LBC_NONE },
	{ "not-vip-port/tcp-81", V_MAIN, 0, 0, 81, 0, 0, 0, 0, F46, MALL, XDP_DROP, XL4_R_LB_NOT_VIP_PORT, LBC_NONE },
	{ "not-vip-port/udp-80", V_MAIN, 0, IPPROTO_UDP, 80, 0, 0, 0, 0, F46, MALL, XDP_DROP, XL4_R_LB_NOT_VIP_PORT, LBC_NONE },
	{ "not-vip-port/tcp-53", V_UDP, 0, IPPROTO_TCP, 53, 0, 0, 0, 0, F46, ML2, XDP_DROP, XL4_R_LB_NOT_VIP_PORT, LBC_NONE },
	{ "too-big/no-df", V_MAIN, 0, 0, 0, 0, 0, 1460, 0, F4, MIPIP, XDP_DROP, XL4_R_LB_TOO_BIG, LBC_SKIP },
	{ "pass/not-a-vip", V_MAIN, ADDR_NOT_VIP, 0, 0, 0, 0, 0, 0, F46, MALL, XDP_PASS, XL4_R_NONE, LBC_NONE },
	{ "pass/not-a-vip-frag", V_MAIN, ADDR_NOT_VIP, 0, 0, IP4_MF, 1, 0, 0, F46, ML2, XDP_PASS, XL4_R_NONE, LBC_NONE },
	{ "pass/echo-to-vip", V_MAIN, 0, 0, 0, 0, 0, 0, 1, F46, ML2, XDP_PASS, XL4_R_NONE, LBC_NONE },
	{ "pass/vip-deleted", V_GONE, 0, 0, 0, 0, 0, 0, 0, F46, MALL, XDP_PASS, XL4_R_NONE, LBC_NONE },
};

/* Reasons no BPF_PROG_TEST_RUN can produce, and why. */
static const struct {
	unsigned int reason;
	const char *why;
} untestable[] = {
	{ XL4_R_LB_ENCAP_FAIL,
	  "untestable with test_run: it needs bpf_xdp_adjust_head() to fail for want of headroom, and "
	  "test runs always give XDP_PACKET_HEADROOM (256 bytes, 224 with the largest metadata) while "
	  "ipip needs 40; the L2-move and bounds checks behind it cannot fail on a frame that parsed" },
};

bool lb_reason_expected(unsigned int reason, const char **why)
{
	*why = NULL;
	/* run_icmp() and run_icmp_budget() */
	if (reason == XL4_R_LB_ICMP_NO_FLOW || reason == XL4_R_LB_ICMP_RATE)
		return true;
	for (size_t i = 0; i < sizeof(icmp_rows) / sizeof(icmp_rows[0]); i++)
		if (icmp_rows[i].reason == reason && reason != XL4_R_NONE)
			return true;
	for (size_t i = 0; i < sizeof(drop_rows) / sizeof(drop_rows[0]); i++)
		if (drop_rows[i].verdict == XDP_DROP && drop_rows[i].reason == reason)
			return true;
	for (size_t i = 0; i < sizeof(untestable) / sizeof(untestable[0]); i++)
		if (untestable[i].reason == reason)
			*why = untestable[i].why;
	return false;
}

static void run_drop_rows(struct world *w)
{
	char name[128];

	for (size_t i = 0; i < sizeof(drop_rows) / sizeof(drop_rows[0]); i++) {
		const struct drop_row *r = &drop_rows[i];
		struct mvip *v = &w->vip[r->slot];
		struct pspec s = flow(w, v, 11, (uint16_t)(52000 + i), TH_SYN);
		struct pkt in;
		unsigned int mbit = w->mode == XL4_FWD_PORT ? MPORT : w->mode == XL4_FWD_IPIP ? MIPIP : ML2;

		if (!(r->fams & (w->v6 ? F6 : F4)) || !(r->modes & mbit))
			continue;
		if (r->addr)
			s.vip = r->addr;
		if (r->proto)
			s.proto = r->proto;
		if (r->dport)
			s.dport = r->dport;
		if (w->v6)
			s.frag6 = r->frag6;
		else
			s.frag = r->frag;
		s.payload = r->payload;
		if (r->echo)
			s.kind = K_ECHO;
		build(&in, &s);
		NAME(name, w, "%s", r->name);
		lb_check(w, name, &in, &(struct want){ r->verdict, r->reason, NULL, r->ctr, v, NULL });
	}
}

/* ---- Maglev spread and the conntrack insert budget ----------------------------------------- */

static void run_spread(struct world *w)
{
	struct mvip *v = &w->vip[V_SPREAD];
	const int clients = 200, ports = 20, total = clients * ports;
	int got[3] = { 0 }, model[3] = { 0 }, bad = 0;
	const double want[3] = { 25, 25, 50 };
	char name[128];
	bool ok = true;

	NAME(name, w, "spread/1-1-2");
	if (!fx_selected(name))
		return;
	for (int c = 1; c <= clients; c++) {
		for (int p = 0; p < ports; p++) {
			struct pspec s = flow(w, v, c, (uint16_t)(20000 + p * 997), TH_SYN);
			struct xl4_run_result r;
			struct pkt in;
			int m = model_pick(v, flow_hash(&s));

			build(&in, &s);
			if (m < 0 || xl4_run_packet(&w->eng, in.b, in.len, run_out, sizeof(run_out), &r) ||
			    r.verdict != XDP_TX) {
				bad++;
				continue;
			}
			model[m]++;
			for (int j = 0; j < 3; j++)
				if (!memcmp(run_out, v->be[j].spec.mac, 6))
					got[j]++;
			bad += memcmp(run_out, v->be[m].spec.mac, 6) != 0;
		}
	}
	if (bad)
		ok = fx_fail(name, ok, "%d of %d flows not forwarded to the model's backend", bad, total);
	for (int j = 0; j < 3; j++) {
		double pct = 100.0 * got[j] / total;

		if (pct < want[j] - 5 || pct > want[j] + 5)
			ok = fx_fail(name, ok, "backend %s: %.1f%% of flows, want %.0f%% +-5", v->be[j].key, pct,
				     want[j]);
	}
	printf("%s: %d flows: %.1f%% / %.1f%% / %.1f%% (model %d/%d/%d), want 25/25/50 +-5\n", name,
	       total, 100.0 * got[0] / total, 100.0 * got[1] / total, 100.0 * got[2] / total, model[0],
	       model[1], model[2]);
	fx_count(name, ok);
}

static void run_budget(struct world *w)
{
	struct mvip *v = &w->vip[V_MAIN];
	cpu_set_t old;
	char name[128];

	/* the budget is per CPU: keep every test run on this one */
	fx_pin(&old);
	for (int i = 0; i < 6; i++) {
		struct pspec s = flow(w, v, 12, (uint16_t)(53000 + i), TH_SYN);

		NAME(name, w, "ct-budget/flow-%d", i + 1);
		send_to(w, name, &s, v, pick(v, &s), i < 5 ? LBC_NEW : LBC_CAPPED);
		NAME(name, w, "ct-budget/flow-%d/conntrack", i + 1);
		ct_expect(w, name, &s, i < 5 ? pick(v, &s) : NULL);
	}
	/* The budget is spent. A new connection on a tuple the table holds for another backend (a
	 * reused port: the old flow's backend was chosen by an older table) must still re-point
	 * it, in place: that adds no entry, so it evicts none, and its ACKs must follow its SYN. */
	{
		struct pspec s = flow(w, v, 12, 53000, TH_SYN);
		const struct mbe *now = pick(v, &s), *other = NULL;
		struct xl4_flow_key k;
		struct xl4_flow f;

		for (int j = 0; j < v->n && !other; j++)
			if (&v->be[j] != now)
				other = &v->be[j];
		flow_key(&s, &k);
		NAME(name, w, "ct-budget/reused-tuple/setup");
		if (precond(name, now && other && !xl4_ct_lookup(w->lb.maps.ct4, w->lb.maps.ct, &k, &f),
			    "flow 1 in the table, a second backend")) {
			struct pspec ack = s;

			ack.flags = TH_ACK;
			ack.payload = 10;
			f.backend_id = other->id;
			if (xl4_ct_update(w->lb.maps.ct4, w->lb.maps.ct, &k, &f, BPF_EXIST) ||
			    xl4_ct_cache_invalidate(w->lb.maps.fcgen))
				fx_fail(name, true, "cannot write the old flow's entry");
			/* the old flow's ACK: the flow cache copies its entry (IPv4) */
			NAME(name, w, "ct-budget/reused-tuple/old-ack");
			send_to(w, name, &ack, v, other, LBC_HIT);
			__u64 gen = fcache_gen(w);

			NAME(name, w, "ct-budget/reused-tuple/syn");
			send_to(w, name, &s, v, now, LBC_NEW);
			NAME(name, w, "ct-budget/reused-tuple/re-point-moves-the-generation");
			if (!w->v6)
				gen_expect(name, gen, fcache_gen(w), true);
			NAME(name, w, "ct-budget/reused-tuple/conntrack");
			ct_expect(w, name, &s, now);
			/* re-pointed in place: the copy goes with the old entry */
			NAME(name, w, "ct-budget/reused-tuple/ack-follows-the-syn");
			send_to(w, name, &ack, v, now, LBC_HIT);
			/* the same SYN again re-points the entry to what it holds: nothing moves */
			gen = fcache_gen(w);
			NAME(name, w, "ct-budget/reused-tuple/repeated-syn");
			send_to(w, name, &s, v, now, LBC_NEW);
			NAME(name, w, "ct-budget/reused-tuple/repeated-syn-keeps-the-generation");
			if (!w->v6)
				gen_expect(name, gen, fcache_gen(w), false);
		}
	}
	fx_unpin(&old);
}

/* ICMP too-big replies are budgeted per CPU (a spoofed flood of large DF packets must not make
 * the balancer a reflector): with a budget of 2, the third in the same second is dropped.
 * IPv4 packets without DF, dropped unanswered first, spend none of it. */
static void run_too_big_budget(struct world *w)
{
	struct mvip *v = &w->vip[V_MAIN];
	int hdr = w->v6 ? 40 : 20;
	cpu_set_t old;
	char name[128];

	fx_pin(&old);
	for (int i = 0; i < (w->v6 ? 0 : 3); i++) {
		struct pspec s = flow(w, v, 10, (uint16_t)(53000 + i), TH_ACK);
		struct pkt in;

		s.payload = 1500 - hdr - 20;
		build(&in, &s);
		NAME(name, w, "too-big-budget/no-df-%d", i + 1);
		lb_check(w, name, &in, &(struct want){ XDP_DROP, XL4_R_LB_TOO_BIG, NULL, LBC_SKIP, v, NULL });
	}
	for (int i = 0; i < 3; i++) {
		struct pspec s = flow(w, v, 10, (uint16_t)(54000 + i), TH_ACK);
		struct pkt in, out;

		s.frag = w->v6 ? 0 : IP4_DF;
		s.payload = 1500 - hdr - 20;
		build(&in, &s);
		build_too_big(&out, &s, &in, 1500 - hdr);
		NAME(name, w, "too-big-budget/%d", i + 1);
		if (i < 2)
			lb_check(w, name, &in, &(struct want){ XDP_TX, XL4_R_NONE, &out, LBC_SKIP, v, NULL });
		else
			lb_check(w, name, &in, &(struct want){ XDP_DROP, XL4_R_LB_TOO_BIG, NULL, LBC_SKIP, v, NULL });
	}
	fx_unpin(&old);
}


/* ---- restart: a new daemon's lb_state over the same maps ------------------------------------ */

/* One VIP as the maps hold it: its entry, its live table and its backends' entries. */
struct vip_image {
	struct xl4_vip e;
	uint32_t table[LB_RING];
	struct xl4_backend be[LB_MAX_BE];
	uint32_t be_id[LB_MAX_BE];
	int n_be;
};

static bool vip_image(struct world *w, struct xl4_lb *lb, const char *name, struct vip_image *img)
{
	struct xl4_lb_vip *v = xl4_lb_vip_find(lb, name);
	struct xl4_vip_key k = { 0 };

	if (!v)
		return false;
	memset(img, 0, sizeof(*img));
	memcpy(k.addr, v->spec.addr, 16);
	k.family = v->spec.family;
	k.port = htons(v->spec.port);
	k.proto = v->spec.proto;
	if (bpf_map_lookup_elem(w->eng.lb.vips, &k, &img->e))
		return false;
	for (uint32_t i = 0; i < LB_RING; i++) {
		uint32_t key = (img->e.id * 2 + img->e.ring_slot) * LB_RING + i;

		if (bpf_map_lookup_elem(w->eng.lb.ring, &key, &img->table[i]))
			return false;
	}
	for (size_t i = 0; i < v->n_be && i < LB_MAX_BE; i++) {
		img->be_id[i] = v->be[i].id;
		if (bpf_map_lookup_elem(w->eng.lb.backends, &v->be[i].id, &img->be[i]))
			return false;
		img->n_be++;
	}
	return true;
}

/* The settings every world's lb_state starts with, for a restart's second one. */
static struct xl4_lb_settings restart_settings(void)
{
	struct xl4_lb_settings s = { .seed = LB_SEED, .ring_size = LB_RING,
				     .ipip_src4 = htonl(IPIP_SRC4), .ipip_src4_mask = IPIP_SRC4_MASK };

	memcpy(s.ipip_src6, IPIP_SRC6, 16);
	return s;
}

/* A restart's "configuration", into `fresh` (adopted, held): every VIP but V_EMPTY, in reverse
 * order, MACs unknown, each with its backends but `skip` (NULL: all of them). */
static bool restart_config(struct world *w, struct xl4_lb *fresh, const struct mbe *skip)
{
	char err[160];

	for (int slot = V_MAX - 1; slot >= 0; slot--) {
		struct xl4_lb_vip *old = xl4_lb_vip_find(&w->lb, w->vip[slot].spec.name);

		if (!w->vip[slot].used || slot == V_EMPTY || !old)
			continue;
		if (xl4_lb_vip_add(fresh, &old->spec, err, sizeof(err)))
			return setup_fail(w, "restart: vip add", err);
		for (size_t i = 0; i < old->n_be; i++) {
			struct xl4_backend_spec bs = old->be[i].spec;

			if (skip && old->be[i].id == skip->id)
				continue;
			memset(bs.mac, 0, 6);
			bs.has_mac = false;
			if (xl4_lb_backend_add(fresh, old->spec.name, &bs, err, sizeof(err)))
				return setup_fail(w, "restart: backend add", err);
		}
	}
	return true;
}

/*
 * Restart without moving a flow (docs/operations.md): a second lb_state over the same maps
 * adopts what they hold and is given the same VIPs and backends, without MACs (the neighbour
 * table of a fresh daemon knows none yet). Every VIP must keep its id, a table identical slot
 * for slot (now in the other slot), its backends their ids, generations and MACs; a VIP the
 * new configuration lacks is removed; an established flow keeps its backend and a new flow
 * follows the model's table.
 */
static void run_restart(struct world *w)
{
	static struct vip_image before[V_MAX], after;
	struct xl4_lb_settings s = restart_settings();
	struct mvip *mv = &w->vip[V_MAIN];
	struct xl4_lb_counters vc0 = { 0 }, bc0 = { 0 }, dc0 = { 0 };
	struct xl4_lb fresh;
	struct pspec f, ack;
	struct mbe *b;
	char name[128], err[160];
	bool ok = true;

	f = flow(w, mv, 7, 47000, TH_SYN);
	b = pick(mv, &f);
	NAME(name, w, "restart/syn-before");
	send_to(w, name, &f, mv, b, LBC_NEW);
	for (int slot = 0; slot < V_MAX; slot++)
		if (w->vip[slot].used && !vip_image(w, &w->lb, w->vip[slot].spec.name, &before[slot]))
			ok = setup_fail(w, "vip_image before", w->vip[slot].spec.name);
	if (ok) {
		vc0 = vip_ctr(&w->lb, before[V_MAIN].e.id);
		dc0 = vip_ctr(&w->lb, before[V_DEL].e.id);
		bc0 = lb_ctr(w->lb.maps.bstats, b->id);
	}
	/* what a daemon killed mid-change could leave in the lane's copies: one for an id no
	 * backend has, and a live backend's naming its VIP in another mode */
	if (ok) {
		struct xl4_vip junk = before[V_MAIN].e;
		__u32 free_id = XL4_MAX_BACKENDS - 1;

		junk.flags |= XL4_VIP_F_LIVE;
		junk.mode = junk.mode == XL4_FWD_L2 ? XL4_FWD_PORT : XL4_FWD_L2;
		if (bpf_map_update_elem(w->lb.maps.bevip, &free_id, &junk, BPF_ANY) ||
		    bpf_map_update_elem(w->lb.maps.bevip, &b->id, &junk, BPF_ANY))
			ok = setup_fail(w, "restart: plant stale copies", strerror(errno));
	}
	if (!ok || xl4_lb_init(&fresh, &w->eng.lb, &s) || xl4_lb_adopt(&fresh)) {
		setup_fail(w, "restart", "cannot set up the second lb_state");
		return;
	}
	/* The new "configuration": a new VIP first (it must not take an adopted VIP's id), then
	 * every VIP but V_EMPTY, in reverse order, MACs unknown. */
	xl4_lb_hold(&fresh);
	{
		struct xl4_vip_spec nv = mv->spec;

		snprintf(nv.name, sizeof(nv.name), "fresh");
		nv.port = 9999;
		if (xl4_lb_vip_add(&fresh, &nv, err, sizeof(err)))
			ok = setup_fail(w, "restart: new vip add", err);
		NAME(name, w, "restart/new-vip-id");
		if (ok) {
			bool clash = false;

			for (int slot = 0; slot < V_MAX; slot++)
				clash |= w->vip[slot].used &&
					 xl4_lb_vip_find(&fresh, "fresh")->id == before[slot].e.id;
			ok = precond(name, !clash, "the new VIP took an adopted VIP's id");
		}
	}
	ok = ok && restart_config(w, &fresh, NULL);
	if (ok && xl4_lb_commit(&fresh, err, sizeof(err)))
		ok = setup_fail(w, "restart: commit", err);
	NAME(name, w, "restart/backend-vip-copies");
	if (ok)
		bevip_expect(w, name);
	/* an adopted VIP and backend keep what they counted (a new one would start at zero) */
	NAME(name, w, "restart/counters-kept");
	if (ok && fx_selected(name)) {
		struct xl4_lb_counters vc = vip_ctr(&fresh, before[V_MAIN].e.id),
				       bc = lb_ctr(fresh.maps.bstats, b->id);
		bool kept = vc0.packets && bc0.packets && !memcmp(&vc, &vc0, sizeof(vc)) &&
			    !memcmp(&bc, &bc0, sizeof(bc));

		if (!kept)
			fx_fail(name, true, "VIP %llu -> %llu packets, backend %llu -> %llu",
				(unsigned long long)vc0.packets, (unsigned long long)vc.packets,
				(unsigned long long)bc0.packets, (unsigned long long)bc.packets);
		fx_count(name, kept);
	}
	/* and a VIP keeps what its removed backends counted (removed/ ran before this) */
	NAME(name, w, "restart/removed-backends-counters-kept");
	if (ok && fx_selected(name) && w->vip[V_DEL].used) {
		struct xl4_lb_counters retired = { 0 }, dc = vip_ctr(&fresh, before[V_DEL].e.id);
		__u32 id = before[V_DEL].e.id;
		bool kept = !memcmp(&dc, &dc0, sizeof(dc));

		bpf_map_lookup_elem(fresh.maps.vretired, &id, &retired);
		if (!retired.packets) {
			precond(name, false, "the VIP has no removed backend's counts");
		} else {
			if (!kept)
				fx_fail(name, true, "VIP %llu -> %llu packets",
					(unsigned long long)dc0.packets, (unsigned long long)dc.packets);
			fx_count(name, kept);
		}
	}
	for (int slot = 0; ok && slot < V_MAX; slot++) {
		const struct vip_image *x = &before[slot];
		bool good = true;

		if (!w->vip[slot].used)
			continue;
		NAME(name, w, "restart/%s", vip_defs[slot].name);
		if (!fx_selected(name))
			continue;
		if (slot == V_EMPTY) {
			if (vip_image(w, &fresh, w->vip[slot].spec.name, &after))
				good = fx_fail(name, good, "a VIP the new configuration lacks is still there");
			fx_count(name, good);
			continue;
		}
		if (!vip_image(w, &fresh, w->vip[slot].spec.name, &after)) {
			fx_fail(name, true, "the VIP is gone from the maps");
			fx_count(name, false);
			continue;
		}
		if (after.e.id != x->e.id)
			good = fx_fail(name, good, "VIP id %u, was %u", after.e.id, x->e.id);
		if (after.e.ring_slot == x->e.ring_slot)
			good = fx_fail(name, good, "the table was written into the live slot %u", x->e.ring_slot);
		if (after.e.n_backends != x->e.n_backends)
			good = fx_fail(name, good, "%u backends in the table, were %u", after.e.n_backends,
				       x->e.n_backends);
		for (uint32_t i = 0; i < LB_RING; i++)
			if (after.table[i] != x->table[i]) {
				good = fx_fail(name, good, "table slot %u: backend %u, was %u", i,
					       after.table[i], x->table[i]);
				break;
			}
		for (int i = 0; i < x->n_be; i++) {
			int j = 0;

			while (j < after.n_be && after.be_id[j] != x->be_id[i])
				j++;
			if (j == after.n_be)
				good = fx_fail(name, good, "backend id %u not kept", x->be_id[i]);
			else if (memcmp(&after.be[j], &x->be[i], sizeof(x->be[i])))
				good = fx_fail(name, good, "backend id %u: its entry changed (gen %u -> %u, "
					       "flags 0x%x -> 0x%x, MAC kept: %s)", x->be_id[i], x->be[i].gen,
					       after.be[j].gen, x->be[i].flags, after.be[j].flags,
					       memcmp(after.be[j].mac, x->be[i].mac, 6) ? "no" : "yes");
		}
		fx_count(name, good);
	}
	xl4_lb_free(&w->lb);
	w->lb = fresh;
	w->vip[V_EMPTY].used = 0;
	if (!ok)
		return;
	ack = f;
	ack.flags = TH_ACK;
	NAME(name, w, "restart/ack-after");
	send_to(w, name, &ack, mv, b, LBC_HIT);
	f.sport++;
	NAME(name, w, "restart/new-flow-after");
	send_to(w, name, &f, mv, pick(mv, &f), LBC_NEW);
}

/* An older build's xl4_vstats_v1 (it counted forwarded packets at the VIP too), as the start
 * that replaces it hands xl4_lb_adopt(): `id` holds `total` on one CPU, every other id 0. */
static int old_vstats(uint32_t id, const struct xl4_lb_counters *total)
{
	int ncpu = libbpf_num_possible_cpus(), fd;
	struct xl4_lb_counters *vals = calloc(ncpu > 0 ? ncpu : 1, sizeof(*vals));

	fd = bpf_map_create(BPF_MAP_TYPE_PERCPU_ARRAY, "xl4_vstats_v1", sizeof(__u32),
			    sizeof(*vals), XL4_MAX_VIPS, NULL);
	if (fd >= 0 && vals) {
		vals[0] = *total;
		if (bpf_map_update_elem(fd, &id, vals, BPF_ANY)) {
			close(fd);
			fd = -1;
		}
	}
	free(vals);
	return fd;
}

/* A restart over an older build's pins, whose configuration drops a backend of a VIP it
 * keeps: the VIPs' counters go on from the older build's (the part their live backends did
 * not count, never below zero: src/lb_counters.c), and the commit, removing the backend the
 * previous daemon left, keeps its counts the VIP's. */
static void run_restart_drop(struct world *w)
{
	static const struct xl4_lb_counters extra = { 1000, 64000, 10, 900, 100, 1 };
	struct xl4_lb_settings s = restart_settings();
	struct mvip *v = &w->vip[V_DEL];
	struct xl4_lb_counters vc0 = { 0 }, mc0 = { 0 }, old = { 0 }, left = { 0 };
	__u32 free_id = XL4_MAX_VIPS - 1;
	struct xl4_lb_vip *lv, *mv;
	struct xl4_lb fresh;
	struct mbe *b = NULL;
	char name[128], err[160];
	int old_fd;
	bool ok;

	NAME(name, w, "restart-drop/a-backend-counted");
	if (!v->used || !(lv = xl4_lb_vip_find(&w->lb, v->spec.name)))
		return;
	for (int i = 0; i < v->n && !b; i++)
		if (!v->be[i].gone && lb_ctr(w->lb.maps.bstats, v->be[i].id).packets)
			b = &v->be[i];
	if (!precond(name, b != NULL, "no backend of the VIP counted anything"))
		return;
	if (!(mv = xl4_lb_vip_find(&w->lb, w->vip[V_MAIN].spec.name))) {
		setup_fail(w, "restart-drop", "no main VIP");
		return;
	}
	vc0 = vip_ctr(&w->lb, lv->id);
	mc0 = vip_ctr(&w->lb, mv->id);
	/* the older build's total: all the VIP counts now (its own and its backends'), and more */
	old = vc0;
	counters_sub(&old, lb_ctr(w->lb.maps.vstats, lv->id));
	xl4_lb_counters_add(&old, &extra);
	if ((old_fd = old_vstats(lv->id, &old)) < 0) {
		setup_fail(w, "restart-drop", "cannot make an older build's VIP counters");
		return;
	}
	if (xl4_lb_init(&fresh, &w->eng.lb, &s)) {
		close(old_fd);
		setup_fail(w, "restart-drop", "cannot set up the second lb_state");
		return;
	}
	/* what an aborted start could leave on an id no VIP holds: the carry-over clears it */
	if (bpf_map_update_elem(w->lb.maps.vretired, &free_id, &extra, BPF_ANY)) {
		close(old_fd);
		setup_fail(w, "restart-drop", "cannot write a free id's removed backends' counters");
		return;
	}
	fresh.maps.vstats_old = old_fd;
	ok = !xl4_lb_adopt(&fresh);
	fresh.maps.vstats_old = -1;
	close(old_fd);
	if (!ok) {
		setup_fail(w, "restart-drop", "cannot adopt");
		return;
	}
	xl4_lb_hold(&fresh);
	ok = restart_config(w, &fresh, b);
	if (ok && xl4_lb_commit(&fresh, err, sizeof(err)))
		ok = setup_fail(w, "restart-drop: commit", err);
	xl4_lb_free(&w->lb);
	w->lb = fresh;
	b->gone = 1;
	if (!ok)
		return;
	NAME(name, w, "restart-drop/backend-removed");
	precond(name, !xl4_lb_backend_by_id(&w->lb, b->id, NULL),
		"the backend the configuration dropped is still there");
	NAME(name, w, "restart-drop/free-id-cleared");
	if (precond(name, !w->lb.vips[free_id].used, "the last VIP id is in use") &&
	    fx_selected(name)) {
		bool ok0 = !bpf_map_lookup_elem(w->lb.maps.vretired, &free_id, &left) &&
			   !left.packets && !left.bytes;

		if (!ok0)
			fx_fail(name, true, "VIP id %u (none) has %llu packets of removed backends",
				free_id, (unsigned long long)left.packets);
		fx_count(name, ok0);
	}
	NAME(name, w, "restart-drop/vip-counters-carried-over");
	xl4_lb_counters_add(&vc0, &extra);
	vip_ctr_same(w, name, v, &vc0);
	/* (V_MAIN has no removed backend before this: the carry-over sets its removed
	 * backends' part to 0, what its older total of 0 leaves) */
	NAME(name, w, "restart-drop/carried-over-floors-at-zero");
	vip_ctr_same(w, name, &w->vip[V_MAIN], &mc0);
}

/* ---- the suite ----------------------------------------------------------------------------- */

/* ---- random and damaged packets ---------------------------------------------------------- */

/* A packet to one of the world's VIPs (or near one: another port, another address, the other
 * transport), any kind the builder knows, with random flags, sizes, fragments, options, VLAN
 * tags and ICMP bodies; few clients and ports, so flows repeat and find their entries. */
static void rand_spec(const struct world *w, struct prng *r, struct pspec *s)
{
	static const uint8_t flags[] = { TH_SYN, TH_SYN, TH_ACK, TH_ACK, TH_ACK | TH_PSH,
					 TH_SYN | TH_ACK, TH_RST, TH_RST | TH_ACK, TH_FIN | TH_ACK,
					 TH_SYN | TH_FIN, 0, 0xff, TH_SYN | TH_ECE | TH_CWR };
	static const uint16_t frags4[] = { IP4_MF, IP4_MF | 185, 370, 1, IP4_MF | 1 };
	static const uint32_t bodies[] = { 0, 0, BODY_ZERO, 68, 576, 1280, 1399, 1500, 9000,
					   0xffffffffu };
	static const uint8_t opts[40] = { 1, 1, 1, 1, 0x94, 4, 0, 0 };
	const struct mvip *v = &w->vip[prng_below(r, V_MAX)];
	uint32_t k = prng_below(r, 10);

	memset(s, 0, sizeof(*s));
	s->v6 = w->v6;
	s->vlans = prng_below(r, 4) ? 0 : 1 + prng_below(r, 2);
	s->kind = k < 7 ? K_FLOW : k < 9 ? K_ICMP_ERR : K_ECHO;
	s->proto = prng_below(r, 6) ? v->spec.proto :
		   v->spec.proto == IPPROTO_TCP ? IPPROTO_UDP : IPPROTO_TCP;
	s->client = 1 + prng_below(r, 6);
	s->vip = prng_below(r, 16) ? vip_defs[v->slot].addr : ADDR_NOT_VIP;
	s->sport = 40000 + prng_below(r, 12);
	s->dport = prng_below(r, 8) ? vip_defs[v->slot].port : (uint16_t)prng_u64(r);
	s->flags = PICK(r, flags);
	s->payload = prng_below(r, 4) ? prng_below(r, 80) : prng_below(r, 1460);
	if (v->slot == V_MTU && prng_below(r, 2)) /* near its MTU (1400), either side */
		s->payload = 1300 + prng_below(r, 160);
	s->tos = prng_below(r, 4) ? 0 : (uint8_t)prng_u64(r);
	s->label = prng_below(r, 2) ? (uint32_t)prng_u64(r) & 0xfffff : 0;
	if (!s->v6) {
		s->frag = prng_below(r, 10) ? (prng_below(r, 2) ? IP4_DF : 0) : PICK(r, frags4);
		if (!prng_below(r, 8))
			s->opts4 = opts, s->optlen4 = 4 * (1 + prng_below(r, 10));
		s->csum0 = s->proto == IPPROTO_UDP && !prng_below(r, 6);
	} else {
		s->frag6 = prng_below(r, 10) ? 0 : 1 + prng_below(r, 2);
		s->dstopts6 = prng_below(r, 8) ? 0 : 8 * (1 + prng_below(r, 2));
		s->csum0 = s->proto == IPPROTO_UDP && !prng_below(r, 20);
	}
	if (s->kind == K_ICMP_ERR) {
		s->qport = prng_below(r, 4) ? 0 : (uint16_t)prng_u64(r);
		s->body = PICK(r, bodies);
		s->odst = prng_below(r, 8) ? 0 : ADDR_NOT_VIP;
		s->etime = !prng_below(r, 4);
		s->payload = prng_below(r, 3) ? 0 : prng_below(r, 200);
	}
}

/* Where the IP header starts: past Ethernet and any VLAN tags (0 if the frame ends first). */
static uint32_t l3_start(const uint8_t *b, uint32_t len)
{
	uint32_t off = 12;

	while (off + 2 <= len && (rd16(b + off) == ETH_P_8021Q || rd16(b + off) == ETH_P_8021AD))
		off += 4;
	return off + 2 <= len ? off + 2 : 0;
}

/* The VIP an undamaged K_FLOW packet of spec s is for (its address, transport and port), or
 * NULL: the forward must go to one of its backends. */
static const struct mvip *spec_vip(const struct world *w, const struct pspec *s)
{
	if (s->kind != K_FLOW)
		return NULL;
	for (int slot = 0; slot < V_MAX; slot++)
		if (w->vip[slot].used && vip_defs[slot].addr == s->vip &&
		    vip_defs[slot].proto == s->proto && vip_defs[slot].port == s->dport)
			return &w->vip[slot];
	return NULL;
}

/* What is wrong with a forwarded frame (or NULL): it goes to a backend the world has (of the
 * packet's VIP, when the packet is an undamaged flow packet: v) and carries the client's packet
 * as the mode says. l2: only the MACs differ. port: for an undamaged flow packet (u: its
 * parse) the destination port is that backend's and only it and the transport checksum
 * differ; otherwise at most the 6 bytes an ICMP error's quote rewrite touches. ipip: the packet
 * whole behind one outer header to that backend's address. */
static const char *forward_wrong(const struct world *w, const struct mvip *v,
				 const struct fx_uparsed *u, const struct pkt *in, const uint8_t *out,
				 uint32_t out_len)
{
	uint32_t il3 = l3_start(in->b, in->len), ol3 = l3_start(out, out_len), olen, diff = 0;
	int slot, j;

	if (out_len < ETH_HLEN || out[0] != 0x02 || out[1] || out[2] || out[3] != 0x0b ||
	    out[4] >= V_MAX || !w->vip[out[4]].used || !m_find((struct mvip *)&w->vip[out[4]], out[5]))
		return "its destination MAC is no live backend's";
	slot = out[4], j = out[5];
	if (v && slot != v->slot)
		return "to a backend of another VIP";
	switch (w->mode) {
	case XL4_FWD_L2:
		if (out_len != in->len || memcmp(out + 12, in->b + 12, in->len - 12))
			return "l2: more than the MACs changed";
		return NULL;
	case XL4_FWD_PORT: {
		uint32_t csum = u->l4 + (u->proto == IPPROTO_TCP ? 16 : 6);

		if (out_len != in->len)
			return "port: the length changed";
		if (v && u->l4 && rd16(out + u->l4 + 2) != be_port(w, slot, j))
			return "port: not the backend's port";
		for (uint32_t i = 12; i < out_len; i++)
			if (out[i] != in->b[i] &&
			    (!v || !u->l4 || (i != u->l4 + 2 && i != u->l4 + 3 && i != csum && i != csum + 1)))
				diff++;
		return diff == 0 || (!v && diff <= 6) ? NULL :
							"port: more than the port and checksums changed";
	}
	default: {
		uint8_t want[16];
		int v6 = w->v6;

		if (!il3 || !ol3 || ol3 + 40 > out_len)
			return "ipip: no outer IP header";
		olen = v6 ? 40 : (out[ol3] & 15) * 4u;
		if (v6) {
			struct in6_addr b = a6(G_BACKEND, slot * 16 + j);

			memcpy(want, &b, 16);
		} else {
			uint32_t b = htonl(a4(G_BACKEND, slot * 10 + j));

			memcpy(want, &b, 4);
		}
		if (out[ol3 + (v6 ? 6 : 9)] != (v6 ? IPPROTO_IPV6 : IPPROTO_IPIP) ||
		    memcmp(out + ol3 + (v6 ? 24 : 16), want, v6 ? 16 : 4))
			return "ipip: the outer header is not to that backend";
		if (out_len - ol3 - olen != in->len - il3 ||
		    memcmp(out + ol3 + olen, in->b + il3, in->len - il3))
			return "ipip: the inner packet changed";
		return NULL;
	}
	}
}

/* What is wrong with a frame sent back to its sender (or NULL): only an ipip VIP answers (a
 * packet too big to encapsulate), with an ICMP too-big error from the VIP's address. */
static const char *reply_wrong(const struct world *w, const struct pkt *in, const uint8_t *out,
			       uint32_t out_len)
{
	uint32_t ol3 = l3_start(out, out_len), il3 = l3_start(in->b, in->len);

	if (w->mode != XL4_FWD_IPIP)
		return "an answer from a VIP that does not encapsulate";
	if (!ol3 || ol3 + (w->v6 ? 48 : 28) > out_len || !il3 || il3 + (w->v6 ? 40 : 20) > in->len)
		return "an answer too short for an ICMP error";
	if (w->v6 ? out[ol3 + 6] != IPPROTO_ICMPV6 || out[ol3 + 40] != 2 ||
			    memcmp(out + ol3 + 8, in->b + il3 + 24, 16) ||
			    memcmp(out + ol3 + 24, in->b + il3 + 8, 16) :
		    out[ol3 + 9] != IPPROTO_ICMP || out[ol3 + 20] != 3 || out[ol3 + 21] != 4 ||
			    memcmp(out + ol3 + 12, in->b + il3 + 16, 4) ||
			    memcmp(out + ol3 + 16, in->b + il3 + 12, 4))
		return "not a too-big error from the packet's destination to its source";
	return NULL;
}

/* docs/load-balancer.md: an IPv4 packet without DF too big to encapsulate within the VIP's
 * MTU cannot be answered with "fragmentation needed", and is dropped as lb_too_big. */
static bool ipip_too_big_no_df(const struct world *w, const struct mvip *v, const struct pspec *s,
			       const struct pkt *p, const struct xl4_run_result *res)
{
	uint32_t mtu = v->spec.mtu ? v->spec.mtu : 1500;

	return w->mode == XL4_FWD_IPIP && !w->v6 && !(s->frag & IP4_DF) &&
	       res->verdict == XDP_DROP && res->reason == XL4_R_LB_TOO_BIG &&
	       p->len - l3_start(p->b, p->len) + 20 > mtu;
}

/*
 * Random and damaged packets at the world's VIPs, after the fixed rows (flows, drains, removed
 * and down backends, ICMP errors, MTUs in place), and pktrand.h's (to "main", with IPv6
 * extension chains and odd sources): what an attacker can send, checked against
 * what must hold for every packet rather than an exact answer: fx_verdict_wrong() (never
 * aborted, the parser's drops, no parser or filter drop of a packet it accepts); a pass leaves
 * the frame as it was; a transmitted frame whose input had valid checksums has valid ones, and
 * is either an ipip VIP's too-big answer to its sender (reply_wrong()) or goes to a live
 * backend, of the packet's own VIP when it is an undamaged flow packet, as the mode says
 * (forward_wrong()); an undamaged, unfragmented flow packet the parser accepts, to a VIP the
 * model gives a usable backend, is sent on (forwarded or answered; an ipip IPv4 one without
 * DF too big for the MTU is dropped, as documented); the verdict counters moved by exactly
 * what the runs returned. Each kind
 * of outcome must occur, or the run proves little. Pinned to one CPU, as the tables are per CPU.
 */
static void run_random(struct world *w, unsigned long long seed, int count)
{
	static struct fx_tally tally;
	struct prng r = { .s = seed };
	char name[96];
	int bad = 0, fwd = 0, replies = 0, lb_drops = 0, parse_drops = 0, err;
	bool ok = true;
	cpu_set_t old;

	snprintf(name, sizeof(name), "%s/random", w->name);
	if (!fx_selected(name))
		return;
	if ((err = fx_tally_start(&tally, w->eng.stats_fd))) {
		fx_fail(name, true, "reading counters: %s", strerror(-err));
		fx_count(name, false);
		return;
	}
	fx_pin(&old);
	for (int i = 0; i < count; i++) {
		struct xl4_run_result res;
		const char *why, *in_ck;
		const struct mvip *v;
		struct fx_uparsed u;
		struct pspec s;
		struct pkt p;
		bool damaged;

		rand_spec(w, &r, &s);
		build(&p, &s);
		damaged = prng_below(&r, 3) == 0;
		if (damaged && prng_below(&r, 2))
			pr_mutate(&p, &r, ETH_HLEN);
		else if (damaged) /* pktrand's own: to VIP4/VIP6 port 80 (main), extension chains */
			pr_packet(&p, &r, ETH_HLEN);
		v = damaged ? NULL : spec_vip(w, &s);
		if ((err = xl4_run_packet(&w->eng, p.b, p.len, run_out, sizeof(run_out), &res))) {
			ok = fx_fail(name, ok, "packet %d: test run failed: %s", i, strerror(-err));
			break;
		}
		fx_uparse_parts(p.b, p.len, XL4_FRAG_PASS, &u);
		in_ck = csum_verify(p.b, p.len);
		why = fx_verdict_wrong(res.verdict, res.reason, u.reason);
		if (why)
			;
		else if (res.verdict == XDP_PASS && (res.out_len != p.len || memcmp(run_out, p.b, p.len)))
			why = "passed, but changed";
		else if (v && !u.reason && !(s.frag & (IP4_MF | 0x1fff)) && !s.frag6 &&
			 res.verdict != XDP_TX && model_pick(v, flow_hash(&s)) >= 0 &&
			 !ipip_too_big_no_df(w, v, &s, &p, &res))
			why = "an undamaged flow packet to a VIP with a usable backend, not sent on";
		else if (res.verdict == XDP_TX && !in_ck && csum_verify(run_out, res.out_len))
			why = csum_verify(run_out, res.out_len);
		else if (res.verdict == XDP_TX) {
			why = forward_wrong(w, v, &u, &p, run_out, res.out_len);
			/* back to its sender's MAC and no forward, an answer (damage can make a
			 * sender's MAC a backend's: then the frame itself says which it is) */
			if (why && res.out_len >= 12 && !memcmp(run_out, p.b + ETH_ALEN, ETH_ALEN)) {
				why = reply_wrong(w, &p, run_out, res.out_len);
				replies += !why;
			} else {
				fwd += !why;
			}
		}
		if (res.verdict == XDP_DROP)
			u.reason ? parse_drops++ : lb_drops++;
		if (why && bad++ < 5) {
			ok = fx_fail(name, ok, "packet %d (seed %llu): %s: got %s/%s (parser: %s)", i,
				     seed, why, xl4_verdict_name(res.verdict),
				     xl4_reason_name(res.reason), xl4_reason_name(u.reason));
			fx_pcap_write(&p);
			fx_hexdiff(p.b, p.len, run_out, res.out_len);
		}
		fx_tally_add(&tally, res.verdict, res.reason, p.len);
	}
	fx_unpin(&old);
	if (bad > 5)
		printf("       ... %d offending packets in all\n", bad);
	if (!fwd || (w->mode == XL4_FWD_IPIP && !replies) || !lb_drops || !parse_drops)
		ok = fx_fail(name, ok, "an outcome never came: %d forwarded, %d answered, %d "
			     "balancer drops, %d parser drops", fwd, replies, lb_drops, parse_drops);
	ok = fx_tally_check(&tally, w->eng.stats_fd, name, ok);
	fx_count(name, ok);
	if (fx.verbose)
		printf("%s: %d packets (seed %llu): %d forwarded, %d answered, %d balancer drops, %d "
		       "parser drops\n", name, count, seed, fwd, replies, lb_drops, parse_drops);
}

static bool world_provision(struct world *w)
{
	for (int slot = 0; slot < V_MAX; slot++)
		if (!w_vip(w, slot))
			return false;
	/* a VIP that existed and was removed: its address is not ours any more */
	{
		char err[160];

		if (xl4_lb_vip_del(&w->lb, w->vip[V_GONE].spec.name, err, sizeof(err)))
			return setup_fail(w, "xl4_lb_vip_del", err);
		w->vip[V_GONE].used = 0;
	}
	return true;
}

void suite_lb(void)
{
	static struct world w, peer;
	const uint8_t modes[] = { XL4_FWD_L2, XL4_FWD_PORT, XL4_FWD_IPIP };
	int before = fx.passed + fx.failed;

	for (size_t m = 0; m < sizeof(modes); m++) {
		for (int v6 = 0; v6 < 2; v6++) {
			char prefix[32];

			/* a filter naming another world: do not even load this one */
			snprintf(prefix, sizeof(prefix), "lb/%s/%s/", mode_name(modes[m]), v6 ? "v6" : "v4");
			if (fx.filter && !strncmp(fx.filter, "lb/", 3) &&
			    strncmp(prefix, fx.filter, strlen(fx.filter)) &&
			    strncmp(fx.filter, prefix, strlen(prefix)))
				continue;
			if (world_open(&w, modes[m], v6, 0, "") && world_provision(&w)) {
				run_fwd_rows(&w);
				if (world_open(&peer, modes[m], v6, 0, "") && world_provision(&peer))
					run_midflow(&w, &peer);
				world_close(&peer);
				run_established(&w);
				run_drain(&w);
				run_removed(&w);
				run_down(&w, V_DOWN);
				run_down(&w, V_DOWNR);
				run_icmp(&w);
				run_mtu(&w);
				run_drop_rows(&w);
				if (modes[m] == XL4_FWD_L2)
					run_spread(&w);
				run_restart(&w);
				run_restart_drop(&w);
				run_ct_entries(&w);
				run_ct_split(&w);
				run_write_failures(&w);
				run_vip_bits(&w);
				run_random(&w, fx.seed + m * 2 + v6, 6000);
			}
			world_close(&w);
		}
	}
	for (size_t m = 0; m < sizeof(modes); m++) {
		char prefix[32];

		snprintf(prefix, sizeof(prefix), "lb/%s/v4/fcache/", mode_name(modes[m]));
		if (fx.filter && !strncmp(fx.filter, "lb/", 3) &&
		    strncmp(prefix, fx.filter, strlen(fx.filter)) &&
		    strncmp(fx.filter, prefix, strlen(prefix)))
			continue;
		world_test_clock = true;
		if (world_open(&w, modes[m], 0, 0, "/fcache") && world_provision(&w)) {
			run_flow_cache(&w);
			run_flow_cache_down(&w);
		}
		world_test_clock = false;
		world_close(&w);
	}
	run_ct_split_percpu();
	run_ct_percpu_restart();
	for (int v6 = 0; v6 < 2; v6++) {
		world_too_big_budget = 2;
		if (world_open(&w, XL4_FWD_IPIP, v6, 0, "") && w_vip(&w, V_MAIN))
			run_too_big_budget(&w);
		world_too_big_budget = 0;
		world_close(&w);
	}
	for (int v6 = 0; v6 < 2; v6++) {
		if (world_open(&w, XL4_FWD_L2, v6, 5, "") && w_vip(&w, V_MAIN))
			run_budget(&w);
		world_close(&w);
	}
	for (int v6 = 0; v6 < 2; v6++) {
		world_icmp_budget = 2;
		if (world_open(&w, XL4_FWD_L2, v6, 0, "") && w_vip(&w, V_ICMP))
			run_icmp_budget(&w);
		world_icmp_budget = 0;
		world_close(&w);
	}
	printf("lb: %d checks, %zu forwarding rows and %zu drop/pass rows per mode and IP version\n",
	       fx.passed + fx.failed - before, sizeof(fwd_rows) / sizeof(fwd_rows[0]),
	       sizeof(drop_rows) / sizeof(drop_rows[0]));
}
