// SPDX-License-Identifier: GPL-2.0
/*
 * Flood-guard fixtures: the real XDP program with its own engine, a test clock, one TCP VIP per
 * IP version (l2 mode, one backend) provisioned through src/lb_state.h, and the guard's
 * settings written straight into xl4_gcfg_v2 / xl4_gctl_v1 as the daemon would.
 *
 * What is checked: First Drop admits a retransmission inside its window and rejects one too
 * early or too late; the SYN-ACK challenge is a well-formed frame (checksums verified here
 * with code the program does not share) carrying the cookie the test's own model computes
 * (SipHash-2-4 over the documented bytes, under the key the map holds for the slice's epoch);
 * the right RST verifies its source, a wrong or stale one does not; key rotation keeps the
 * previous key answering and retires older ones, and a missing key never verifies; verified sources and
 * established flows pass; with the guard on, SYNs stay out of the connection table and the
 * completing ACK puts the flow in; and the kernel's own hysteresis (enter, escalate, leave),
 * driven through the test clock; and random and damaged packets at a VIP forced to each level,
 * checked for what must hold of each (sc_random(): a SYN-ACK only for a bare SYN, never longer
 * than it).
 *
 * Fixture names: guard/<v4|v6>/<scenario>/<step>.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "conntrack.h"
#include "counters.h"
#include "harness.h"
#include "guard_state.h" /* xl4_guard_keys_rotate(): keys drawn as the daemon draws them */
#include "guard_vbits.h"
#include "hash.h"	 /* xl4_jhash_10(): the greylist slot model */
#include "xl4/siphash.h" /* xl4_siphash24(), byte-defined: the cookie model below */
#include "filter_state.h"
#include "lb_state.h"
#include "names.h"
#include "pktrand.h"
#include "rand_check.h"
#include "testrun.h"
#include "uparse.h"
#include "xl4.skel.h"
#include "xl4/abi.h"

#define G_SEED 0x5eed4321u
#define G_RING 1009
#define G_KEY_PERIOD_S 60 /* guard.key_rotation: 7 cookie slices per key epoch */
#define SEC_NS 1000000000ull
#define MS_NS 1000000ull
/* The test clock starts on a bucket boundary well past 0 (time 0 means "never"). */
#define T0 (1000ull << 28)
#define BUCKET_NS (1ull << XL4_GUARD_BUCKET_SHIFT)
/* The scenarios' time step: SYNs per step over STEP_NS give the rates their comments name.
 * Four guard buckets; the window judged at each step's first SYN holds four steps. */
#define STEP_NS (1ull << 28)

static const uint8_t MAC_BE[ETH_ALEN] = { 0x02, 0xbe, 0, 0, 0, 1 };

struct gworld {
	struct xl4_engine eng;
	struct xl4_lb lb;
	int loaded, lb_ok, v6;
	int clock_fd, cfg_fd, ctl_fd, vip_fd, ver_fd, verc_fd, ct_fd, ct4_fd, ckey_fd;
	uint32_t vip_id;
	struct xl4_guard_cfg cfg;
	uint64_t now;
	int ncpu;
};

static int g_ncpu;
static uint32_t g_grey_slots; /* the next world's greylist slots (0: the object's) */
#define G_GREY_SLOTS (1u << 16)	 /* the object's greylist slots */
static uint32_t g_verified_max; /* the next world's verified tables (0: the object's) */
static const char *g_pin_path;	 /* the next world's pins (NULL: none) */
static uint8_t g_vip_mode = XL4_FWD_L2; /* the next world's VIP: its mode and MTU (0: 1500) */
static uint16_t g_vip_mtu;

/* ---- setup ---- */

static void clock_set(struct gworld *w, uint64_t ns)
{
	w->now = ns;
	fx_clock_set(w->clock_fd, ns);
}

static void cfg_defaults(struct xl4_guard_cfg *c)
{
	memset(c, 0, sizeof(*c));
	c->enabled = 1;
	c->response = XL4_GUARD_RESP_FIRST_DROP;
	c->syn_min = 100;
	c->ratio_x100 = 300;
	c->enter_ms = 500;
	c->leave_ms = 5000;
	c->escalate_ms = 500;
	c->fd_min_ms = 500;
	c->fd_max_ms = 6000;
	c->verified_ttl_s = 60;
	c->challenge_per_sec = 0;
	c->grey_mask = (1u << 14) - 1; /* the object's default size */
	c->syn_mask = (1u << 16) - 1;
	c->src_bits_min = 3; /* guard.min_sources = 4 */
	c->fd_cap = 0;	     /* no greylist-capacity escalation unless a scenario asks */
	c->v6_prefix = 64;
	c->verify_per_sec = 0;
	c->key[0] = 0x11111111, c->key[1] = 0x22222222, c->key[2] = 0x33333333, c->key[3] = 0x44444444;
}

static int cfg_write(struct gworld *w)
{
	__u32 zero = 0;

	return bpf_map_update_elem(w->cfg_fd, &zero, &w->cfg, BPF_ANY) ? -errno : 0;
}

static int ctl_write(struct gworld *w, uint32_t override, uint32_t level)
{
	struct xl4_guard_ctl c = { .override = override, .level = level };

	return bpf_map_update_elem(w->ctl_fd, &w->vip_id, &c, BPF_ANY) ? -errno : 0;
}

/* A fresh world: every scenario gets its own, so no state leaks between them. */
/* The world's one backend of "web", as world_open() adds it (and as a scenario names it to
 * drain or delete it). */
static struct xl4_backend_spec web_backend(int v6)
{
	struct xl4_backend_spec b = { .weight = 1, .has_mac = true, .family = v6 ? 6 : 4 };

	if (v6)
		memcpy(b.addr, &BACKEND6, 16);
	else
		b.addr[0] = htonl(BACKEND4);
	memcpy(b.mac, MAC_BE, ETH_ALEN);
	return b;
}

static bool world_open(struct gworld *w, int v6, const char *name)
{
	struct xl4_engine_opts o = { .pin_path = g_pin_path, .trace = true, .ring_size = G_RING,
				     .ct_max = 4096, .frag_policy = XL4_FRAG_PASS, .test_clock = true,
				     .guard_grey_slots = g_grey_slots,
				     .guard_verified_max = g_verified_max };
	/* ipip's outer sources: 198.18.255.0/24, 2001:db8:ffff::/112 (used by ipip worlds only) */
	struct xl4_lb_settings s = { .seed = G_SEED, .ring_size = G_RING,
				     .ipip_src4 = htonl(0xc612ff00u), .ipip_src4_mask = 0xff,
				     .ipip_src6 = { htonl(0x20010db8u), htonl(0xffff0000u) } };
	struct xl4_vip_spec vs = { .name = "web", .port = 80, .proto = IPPROTO_TCP,
				   .mode = g_vip_mode, .mtu = g_vip_mtu };
	struct xl4_backend_spec bs = web_backend(v6);
	struct xl4_bpf *sk;
	char err[256];
	int e;

	memset(w, 0, sizeof(*w));
	w->v6 = v6;
	if ((e = xl4_engine_load(&w->eng, &o)))
		return fx_setup_fail(name, "xl4_engine_load", strerror(-e));
	w->loaded = 1;
	sk = w->eng.skel;
	w->clock_fd = bpf_map__fd(sk->maps.data_clock);
	w->cfg_fd = bpf_map__fd(sk->maps.data_gcfg);
	w->ctl_fd = bpf_map__fd(sk->maps.xl4_gctl_v1);
	w->vip_fd = bpf_map__fd(sk->maps.xl4_gvip_v1);
	w->ver_fd = bpf_map__fd(sk->maps.xl4_gver_v1);
	w->verc_fd = bpf_map__fd(sk->maps.xl4_gverc_v1);
	w->ct_fd = bpf_map__fd(sk->maps.xl4_ct_v1);
	w->ct4_fd = bpf_map__fd(sk->maps.xl4_ct4_v1);
	w->ckey_fd = bpf_map__fd(sk->maps.data_gckey);
	if ((e = xl4_lb_init(&w->lb, &w->eng.lb, &s)))
		return fx_setup_fail(name, "xl4_lb_init", strerror(-e));
	w->lb_ok = 1;
	vs.family = v6 ? 6 : 4;
	if (v6)
		memcpy(vs.addr, &VIP6, 16);
	else
		vs.addr[0] = htonl(VIP4);
	if (xl4_lb_vip_add(&w->lb, &vs, err, sizeof(err)) ||
	    xl4_lb_backend_add(&w->lb, "web", &bs, err, sizeof(err)))
		return fx_setup_fail(name, "VIP set-up", err);
	w->vip_id = xl4_lb_vip_find(&w->lb, "web")->id;
	cfg_defaults(&w->cfg);
	if (g_grey_slots)
		w->cfg.grey_mask = g_grey_slots / XL4_GUARD_GREY_WAYS - 1;
	if ((e = cfg_write(w)))
		return fx_setup_fail(name, "xl4_gcfg_v2", strerror(-e));
	/* over pins, the keys an earlier world drew are kept (as across a daemon restart) */
	if ((e = xl4_guard_keys_rotate(&w->eng.guard, G_KEY_PERIOD_S, T0)) != 1 && (e || !g_pin_path))
		return fx_setup_fail(name, "xl4_guard_keys_rotate", e < 0 ? strerror(-e) : "wrote nothing");
	clock_set(w, T0);
	return true;
}

static void world_close(struct gworld *w)
{
	if (w->lb_ok)
		xl4_lb_free(&w->lb);
	if (w->loaded)
		xl4_engine_close(&w->eng);
	w->lb_ok = w->loaded = 0;
}

/* ---- packets ---- */

/* Client n (198.18.0.n / 2001:db8:0:n::n, n < 65536) to the VIP's port 80. */
static void client_addr(const struct gworld *w, uint32_t n, __be32 out[4])
{
	memset(out, 0, 16);
	if (w->v6) {
		struct in6_addr a = CLIENT6;

		a.s6_addr[6] = n >> 8; /* each client its own /64: one /64 is one source */
		a.s6_addr[7] = n & 0xff;
		a.s6_addr[14] = n >> 8;
		a.s6_addr[15] = n & 0xff;
		memcpy(out, &a, 16);
	} else {
		out[0] = htonl((CLIENT4 & 0xffff0000u) | (n & 0xffff));
	}
}

static void tcp_csum_fix(struct pkt *p, int v6);

/* ext: with IPv6, that many bytes of destination options before the TCP header (0: none). */
static void mkpkt_ext(const struct gworld *w, struct pkt *p, uint32_t client, uint16_t sport,
		      uint8_t flags, int vlan, int opts, uint32_t seq, uint16_t ext)
{
	static const uint8_t syn_opts[] = { 2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 7 };
	__be32 src[4];

	client_addr(w, client, src);
	pb_init(p);
	pb_eth(p, 0);
	if (vlan)
		pb_vlan(p, ETH_P_8021Q, 42);
	if (w->v6) {
		struct pb_ip6 s = { .dst = VIP6 };

		memcpy(&s.src, src, 16);
		pb_ip6(p, &s);
		if (ext)
			pb_ext(p, IPPROTO_DSTOPTS, ext);
	} else {
		pb_ip4(p, &(struct pb_ip4){ .src = ntohl(src[0]), .dst = VIP4, .frag = IP4_DF });
	}
	pb_tcp(p, sport, VIP_PORT, flags);
	if (opts)
		pb_tcp_opts(p, syn_opts, sizeof(syn_opts));
	pb_finish(p);
	pkt_set32(p, p->l4 + 4, seq);
	tcp_csum_fix(p, w->v6);
}

static void mkpkt(const struct gworld *w, struct pkt *p, uint32_t client, uint16_t sport,
		  uint8_t flags, int vlan, int opts, uint32_t seq)
{
	mkpkt_ext(w, p, client, sport, flags, vlan, opts, seq, 0);
}

/* A segment with payload bytes after its TCP header (DF set), or with frag (payload 0) a first
 * fragment: IPv4 MF, IPv6 a Fragment header with M set. */
static void mkpkt_big(const struct gworld *w, struct pkt *p, uint32_t client, uint16_t sport,
		      uint8_t flags, uint32_t seq, uint16_t payload, int frag)
{
	__be32 src[4];

	client_addr(w, client, src);
	pb_init(p);
	pb_eth(p, 0);
	if (w->v6) {
		struct pb_ip6 s = { .dst = VIP6 };

		memcpy(&s.src, src, 16);
		pb_ip6(p, &s);
		if (frag)
			pb_frag6(p, 0, 1, 0x99);
	} else {
		pb_ip4(p, &(struct pb_ip4){ .src = ntohl(src[0]), .dst = VIP4,
					    .frag = frag ? IP4_MF : IP4_DF });
	}
	pb_tcp(p, sport, VIP_PORT, flags);
	if (payload)
		pb_payload(p, NULL, payload);
	pb_finish(p);
	pkt_set32(p, p->l4 + 4, seq);
	tcp_csum_fix(p, w->v6);
}

/* Internet checksum over the TCP segment with its pseudo-header: 0 when correct (written
 * here, apart from the builder and the program). */
static uint16_t tcp_csum(const struct pkt *p, int v6, uint32_t l3, uint32_t l4, uint32_t len)
{
	uint32_t sum = 0;
	const uint8_t *b = p->b;

	if (v6) {
		for (int i = 0; i < 32; i += 2)
			sum += (b[l3 + 8 + i] << 8) | b[l3 + 8 + i + 1];
	} else {
		for (int i = 0; i < 8; i += 2)
			sum += (b[l3 + 12 + i] << 8) | b[l3 + 12 + i + 1];
	}
	sum += IPPROTO_TCP + len;
	for (uint32_t i = 0; i < len; i += 2)
		sum += (b[l4 + i] << 8) | (i + 1 < len ? b[l4 + i + 1] : 0);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static void tcp_csum_fix(struct pkt *p, int v6)
{
	uint32_t len = p->len - p->l4;

	pkt_set16(p, p->l4 + 16, 0);
	pkt_set16(p, p->l4 + 16, tcp_csum(p, v6, p->l3, p->l4, len));
}

/* The cookie keys as the map holds them now. */
static struct xl4_guard_ckeys ckeys(const struct gworld *w)
{
	struct xl4_guard_ckeys ck = { 0 };
	__u32 zero = 0;

	bpf_map_lookup_elem(w->ckey_fd, &zero, &ck);
	return ck;
}

/* The test's model of the challenge cookie (docs/guard.md): the low 32 bits of SipHash-2-4,
 * under the key of the slice's epoch, over client address, VIP address (16 bytes each for
 * IPv6, 4 for IPv4), client port, VIP port (as on the wire) and le32(slice * 2 + is_ipv6):
 * 40 bytes for IPv6, 16 for IPv4. */
static uint32_t cookie_with(const struct gworld *w, const __u64 key[2], uint32_t client,
			    uint16_t sport, uint64_t slice)
{
	uint8_t k[16], m[40] = { 0 };
	uint32_t sf = (uint32_t)(slice * 2 + (w->v6 ? 1 : 0));
	size_t alen = w->v6 ? 16 : 4, n = 2 * alen + 8;
	__be32 a[4];

	for (int i = 0; i < 8; i++) {
		k[i] = key[0] >> (8 * i);
		k[8 + i] = key[1] >> (8 * i);
	}
	client_addr(w, client, a);
	memcpy(m, a, alen);
	if (w->v6)
		memcpy(m + alen, &VIP6, 16);
	else
		memcpy(m + alen, (uint32_t[]){ htonl(VIP4) }, 4);
	m[2 * alen] = sport >> 8, m[2 * alen + 1] = sport & 0xff;
	m[2 * alen + 2] = VIP_PORT >> 8, m[2 * alen + 3] = VIP_PORT & 0xff;
	for (int i = 0; i < 4; i++)
		m[2 * alen + 4 + i] = sf >> (8 * i);
	return (uint32_t)xl4_siphash24(k, m, n);
}

static uint32_t cookie_model(const struct gworld *w, uint32_t client, uint16_t sport, uint64_t now)
{
	struct xl4_guard_ckeys ck = ckeys(w);
	uint64_t slice = now >> XL4_GUARD_COOKIE_SHIFT;

	return cookie_with(w, ck.key[(slice / (ck.slices ? ck.slices : 1)) % XL4_GUARD_COOKIE_KEYS],
			   client, sport, slice);
}

/* ---- running and reading state ---- */

struct out {
	struct xl4_run_result r;
	uint8_t b[XL4_RUN_OUT_MAX];
};

static struct out last;

static bool run(struct gworld *w, const char *name, const struct pkt *p, uint32_t verdict,
		uint32_t reason)
{
	bool ok = true;
	int e;

	if (!fx_selected(name))
		return true;
	e = xl4_run_packet(&w->eng, p->b, p->len, last.b, sizeof(last.b), &last.r);
	if (e) {
		ok = fx_fail(name, ok, "test run failed: %s", strerror(-e));
	} else if (last.r.verdict != verdict || last.r.reason != reason) {
		ok = fx_fail(name, ok, "want %s/%s, got %s/%s", xl4_verdict_name(verdict),
			     xl4_reason_name(reason), xl4_verdict_name(last.r.verdict),
			     xl4_reason_name(last.r.reason));
	}
	fx_count(name, ok);
	return ok;
}

static void check_syn_verified(struct gworld *w, const char *name, uint32_t c, uint16_t sport,
			       int want);

/* Through the reader guard status uses (src/guard_state.c): all zero when unreadable. */
static void stats_sum(struct gworld *w, struct xl4_guard_stats *t)
{
	struct xl4_guard_snap snap;

	xl4_guard_read(&w->eng.guard, w->vip_id, &snap);
	*t = snap.sum;
}

static void vip_state(struct gworld *w, struct xl4_guard_vip *v)
{
	memset(v, 0, sizeof(*v));
	bpf_map_lookup_elem(w->vip_fd, &w->vip_id, v);
	xl4_guard_mode_decode(v); /* the production decoder: level and cause from the mode word */
}

/* The verified tables' key for client n: IPv6 cut to its /64 (cfg.v6_prefix). */
static struct xl4_guard_src src_key(const struct gworld *w, uint32_t client)
{
	struct xl4_guard_src k = { .family = w->v6 ? 6 : 4 };

	client_addr(w, client, k.addr);
	if (w->v6)
		k.addr[2] = k.addr[3] = 0;
	return k;
}

/* 1: First Drop verified it, 2: a cookie proof for one of its ports is there, spent or not
 * (xl4_gverc_v1: keyed by the tuple), 0: neither. */
static int verified_by(struct gworld *w, uint32_t client)
{
	struct xl4_guard_src k = src_key(w, client), key, next;
	bool first = true;
	__u64 exp;

	while (!bpf_map_get_next_key(w->verc_fd, first ? NULL : &key, &next)) {
		first = false;
		key = next;
		if (key.family == k.family && !memcmp(key.addr, k.addr, sizeof(k.addr)) &&
		    !bpf_map_lookup_elem(w->verc_fd, &key, &exp) &&
		    (exp & ~XL4_GUARD_VERIFIED_FLAGS) > w->now)
			return 2;
	}
	return !bpf_map_lookup_elem(w->ver_fd, &k, &exp) && exp > w->now;
}

static int is_verified(struct gworld *w, uint32_t client)
{
	return verified_by(w, client) != 0;
}

/* The flow of client n's TCP connection from sport to the VIP's port, as the datapath keys it. */
static struct xl4_flow_key client_flow(const struct gworld *w, uint32_t client, uint16_t sport)
{
	struct xl4_flow_key k = { .proto = IPPROTO_TCP, .family = w->v6 ? 6 : 4 };

	client_addr(w, client, k.saddr);
	if (w->v6)
		memcpy(k.daddr, &VIP6, 16);
	else
		k.daddr[0] = htonl(VIP4);
	k.sport = htons(sport);
	k.dport = htons(VIP_PORT);
	return k;
}

static int in_conntrack(struct gworld *w, uint32_t client, uint16_t sport)
{
	struct xl4_flow_key k = client_flow(w, client, sport);
	struct xl4_flow f;

	return !xl4_ct_lookup(w->ct4_fd, w->ct_fd, &k, &f);
}

/* Client n's flow from sport forgotten by the connection table (as an LRU eviction would). */
static void ct_forget(struct gworld *w, uint32_t client, uint16_t sport)
{
	struct xl4_flow_key k = client_flow(w, client, sport);
	struct xl4_flow_key4 k4;

	if (w->v6) {
		bpf_map_delete_elem(w->ct_fd, &k);
		return;
	}
	xl4_flow_key4_of(&k4, &k);
	bpf_map_delete_elem(w->ct4_fd, &k4);
}

/* ---- checks on values ---- */

static void check_u64(const char *name, const char *what, uint64_t got, uint64_t want)
{
	bool ok = true;

	if (!fx_selected(name))
		return;
	if (got != want)
		ok = fx_fail(name, ok, "%s: want %llu, got %llu", what, (unsigned long long)want,
			     (unsigned long long)got);
	fx_count(name, ok);
}

#define NAME(buf, w, fmt, ...) \
	snprintf(buf, sizeof(buf), "guard/%s/" fmt, (w)->v6 ? "v6" : "v4", ##__VA_ARGS__)

/* ---- scenarios ---- */

/* Normal mode with the guard on: a SYN is forwarded but not remembered in conntrack; the ACK
 * completing it inserts the flow and counts as a completing ACK; a data packet then hits. */
static int win_publish(struct gworld *w, uint32_t syn, uint32_t adm, uint64_t age);

static void sc_normal(int v6)
{
	struct gworld w;
	struct xl4_guard_stats t;
	struct pkt p;
	char n[128];

	snprintf(n, sizeof(n), "guard/%s/normal/setup", v6 ? "v6" : "v4");
	if (!world_open(&w, v6, n))
		return;
	mkpkt(&w, &p, 1, 40001, TH_SYN, 0, 1, 1000);
	NAME(n, &w, "normal/syn-forwarded");
	run(&w, n, &p, XDP_TX, XL4_R_NONE);
	NAME(n, &w, "normal/syn-not-in-conntrack");
	check_u64(n, "conntrack entry", in_conntrack(&w, 1, 40001), 0);
	clock_set(&w, w.now + 20 * MS_NS);
	mkpkt(&w, &p, 1, 40001, TH_ACK, 0, 0, 1001);
	NAME(n, &w, "normal/completing-ack-forwarded");
	run(&w, n, &p, XDP_TX, XL4_R_NONE);
	NAME(n, &w, "normal/completing-ack-in-conntrack");
	check_u64(n, "conntrack entry", in_conntrack(&w, 1, 40001), 1);
	mkpkt(&w, &p, 1, 40001, TH_ACK | TH_PSH, 0, 0, 1001);
	NAME(n, &w, "normal/data-forwarded");
	run(&w, n, &p, XDP_TX, XL4_R_NONE);
	/* an ACK whose SYN was never seen (mid-flow, another node's) is no completing ACK */
	mkpkt(&w, &p, 2, 40002, TH_ACK, 0, 0, 1001);
	NAME(n, &w, "normal/unseen-ack-forwarded");
	run(&w, n, &p, XDP_TX, XL4_R_NONE);
	stats_sum(&w, &t);
	NAME(n, &w, "normal/counts-syn");
	check_u64(n, "SYNs", t.syns, 1);
	NAME(n, &w, "normal/counts-completing-ack");
	check_u64(n, "completing ACKs", t.acks, 1);
	/* the VIP removed and added again (its id reused): its guard counters start from zero,
	 * and so do the windows its CPUs published (a flood's, here), which the new VIP's first
	 * SYN would otherwise sum while they are fresh */
	NAME(n, &w, "normal/readded-vip-starts-clean");
	if (fx_selected(n)) {
		struct xl4_vip_spec vs = xl4_lb_vip_find(&w.lb, "web")->spec;
		char err[256];

		if (win_publish(&w, 100000, 0, 1))
			fx_fail(n, true, "cannot publish the old VIP's window");
		if (xl4_lb_vip_del(&w.lb, "web", err, sizeof(err)) ||
		    xl4_lb_vip_add(&w.lb, &vs, err, sizeof(err))) {
			fx_fail(n, true, "VIP re-add: %s", err);
			fx_count(n, false);
		} else if (xl4_lb_vip_find(&w.lb, "web")->id != w.vip_id) {
			fx_fail(n, true, "precondition: the re-added VIP took another id");
			fx_count(n, false);
		} else {
			static struct xl4_guard_wins all;
			uint64_t left = 0;

			stats_sum(&w, &t);
			check_u64(n, "SYNs + completing ACKs after the re-add", t.syns + t.acks, 0);
			if (bpf_map_lookup_elem(bpf_map__fd(w.eng.skel->maps.xl4_gwin_v1), &w.vip_id, &all))
				left = ~0ull;
			for (int c = 0; c < XL4_GUARD_WIN_CPUS; c++)
				left += all.cpu[c].syn;
			check_u64(n, "SYNs in the windows left from before the re-add", left, 0);
		}
	}
	world_close(&w);
}

/* A SYN from client 3 to the world's VIP address on port: which backend MAC it went to (0:
 * web's, 1: web-alt's, -1: neither or not forwarded) after checking verdict and reason. */
static int syn_to_port(struct gworld *w, const char *n, uint16_t port, uint16_t sport,
		       uint32_t verdict, uint32_t reason, const uint8_t *mac_alt)
{
	struct pkt p;

	mkpkt(w, &p, 3, sport, TH_SYN, 0, 0, 5000);
	pkt_set16(&p, p.l4 + 2, port);
	tcp_csum_fix(&p, w->v6);
	if (!run(w, n, &p, verdict, reason) || verdict != XDP_TX)
		return -1;
	return !memcmp(last.b, MAC_BE, 6) ? 0 : !memcmp(last.b, mac_alt, 6) ? 1 : -1;
}

static struct xl4_vip_key world_vip_key(const struct gworld *w, uint16_t port)
{
	struct xl4_vip_key k = { .port = htons(port), .proto = IPPROTO_TCP, .family = w->v6 ? 6 : 4 };

	if (w->v6)
		memcpy(k.addr, &VIP6, 16);
	else
		k.addr[0] = htonl(VIP4);
	return k;
}

/*
 * The VIP index (abi.h: struct xl4_vip_index) is a hint the datapath checks: the daemon names
 * both VIPs in it; a slot that names the other VIP's id, or an id whose copy is not live, sends
 * the packet to the hash table, never to the wrong VIP; a deleted VIP's id given to a new VIP
 * finds the new one, and the old key no VIP.
 */
static void vip_index_cases(struct gworld *w, const uint8_t *mac_alt)
{
	struct xl4_vip_key k80 = world_vip_key(w, 80), k81 = world_vip_key(w, 81);
	struct xl4_vip_index ix, saved;
	struct xl4_vip copy, none = { 0 };
	__u32 zero = 0, id80, id81;
	char n[128], err[256];

	id80 = xl4_lb_vip_find(&w->lb, "web")->id;
	id81 = xl4_lb_vip_find(&w->lb, "web-alt")->id;
	NAME(n, w, "vip-index/names-both");
	if (fx_selected(n)) {
		bool ok = !bpf_map_lookup_elem(w->eng.lb.vidx, &zero, &ix);

		if (!ok || ix.id1[xl4_vip_slot(&k80, ix.salt)] != id80 + 1 ||
		    ix.id1[xl4_vip_slot(&k81, ix.salt)] != id81 + 1)
			ok = fx_fail(n, true, "index: slot of port 80 holds %u (want %u), of 81 %u (want %u)",
				     ok ? ix.id1[xl4_vip_slot(&k80, ix.salt)] : 0, id80 + 1,
				     ok ? ix.id1[xl4_vip_slot(&k81, ix.salt)] : 0, id81 + 1);
		fx_count(n, ok);
	}
	if (bpf_map_lookup_elem(w->eng.lb.vidx, &zero, &saved)) {
		fx_setup_fail(n, "index read", strerror(errno));
		return;
	}
	/* cross-wired: each VIP's slot names the other's id */
	ix = saved;
	ix.id1[xl4_vip_slot(&k80, ix.salt)] = id81 + 1;
	ix.id1[xl4_vip_slot(&k81, ix.salt)] = id80 + 1;
	if (bpf_map_update_elem(w->eng.lb.vidx, &zero, &ix, BPF_ANY)) {
		fx_setup_fail(n, "index write", strerror(errno));
		return;
	}
	NAME(n, w, "vip-index/cross-wired-slot-port-80");
	check_u64(n, "to web's backend (0)", syn_to_port(w, n, 80, 40300, XDP_TX, XL4_R_NONE, mac_alt), 0);
	NAME(n, w, "vip-index/cross-wired-slot-port-81");
	check_u64(n, "to web-alt's backend (1)", syn_to_port(w, n, 81, 40301, XDP_TX, XL4_R_NONE, mac_alt), 1);
	bpf_map_update_elem(w->eng.lb.vidx, &zero, &saved, BPF_ANY);
	/* the slot right, the copy by id cleared: the hash table still knows the VIP */
	if (bpf_map_lookup_elem(w->eng.lb.vipid, &id80, &copy) ||
	    bpf_map_update_elem(w->eng.lb.vipid, &id80, &none, BPF_ANY)) {
		fx_setup_fail(n, "VIP copy", strerror(errno));
		return;
	}
	NAME(n, w, "vip-index/copy-not-live-port-80");
	check_u64(n, "to web's backend (0)", syn_to_port(w, n, 80, 40302, XDP_TX, XL4_R_NONE, mac_alt), 0);
	bpf_map_update_elem(w->eng.lb.vipid, &id80, &copy, BPF_ANY);
	/* web-alt deleted, web-next added on port 82: it takes web-alt's id */
	{
		struct xl4_vip_spec vs = xl4_lb_vip_find(&w->lb, "web-alt")->spec;

		snprintf(vs.name, sizeof(vs.name), "web-next");
		vs.port = 82;
		if (xl4_lb_vip_del(&w->lb, "web-alt", err, sizeof(err)) ||
		    xl4_lb_vip_add(&w->lb, &vs, err, sizeof(err))) {
			fx_setup_fail(n, "VIP replace", err);
			return;
		}
	}
	NAME(n, w, "vip-index/id-reused-by-new-vip");
	check_u64(n, "web-next's id", xl4_lb_vip_find(&w->lb, "web-next")->id, id81);
	NAME(n, w, "vip-index/rebuilt-for-new-vip");
	if (fx_selected(n)) {
		struct xl4_vip_key k82 = world_vip_key(w, 82), key;
		bool ok = !bpf_map_lookup_elem(w->eng.lb.vidx, &zero, &ix) &&
			  !bpf_map_lookup_elem(w->eng.lb.vipkey, &id81, &key);

		if (!ok || ix.id1[xl4_vip_slot(&k82, ix.salt)] != id81 + 1 ||
		    ix.id1[xl4_vip_slot(&k81, ix.salt)] == id81 + 1 || memcmp(&key, &k82, sizeof(key)))
			ok = fx_fail(n, true, "index: port 82's slot holds %u (want %u), port 81's %u; "
				     "key of id %u is port %u", ok ? ix.id1[xl4_vip_slot(&k82, ix.salt)] : 0,
				     id81 + 1, ok ? ix.id1[xl4_vip_slot(&k81, ix.salt)] : 0, id81,
				     ok ? ntohs(key.port) : 0);
		fx_count(n, ok);
	}
	NAME(n, w, "vip-index/deleted-vip-port-81");
	syn_to_port(w, n, 81, 40303, XDP_DROP, XL4_R_LB_NOT_VIP_PORT, mac_alt);
	NAME(n, w, "vip-index/new-vip-port-82");
	/* web-next has no backend: found, it drops for want of one (not "no VIP on this port") */
	syn_to_port(w, n, 82, 40304, XDP_DROP, XL4_R_LB_NO_BACKEND, mac_alt);
}

/* Two VIPs on one address: the guard hands the VIP it looked up to the load balancer by id
 * (no second hash lookup), and each SYN must still reach its own VIP's backend, whichever id
 * is live next to it. */
/* The backend whose MAC is mac: its id and generation (0: none). */
static int backend_by_mac(struct gworld *w, const uint8_t *mac, uint32_t *id, uint16_t *gen)
{
	int fd = bpf_map__fd(w->eng.skel->maps.xl4_backends_v1);
	struct xl4_backend b;

	for (uint32_t i = 0; i < XL4_MAX_BACKENDS; i++)
		if (!bpf_map_lookup_elem(fd, &i, &b) && b.family && !memcmp(b.mac, mac, ETH_ALEN)) {
			*id = i;
			*gen = b.gen;
			return 1;
		}
	return 0;
}

/* The SYN slot written at ts (the one SYN seen at that instant) pointed at backend id/gen,
 * as a tag that collided across VIPs would leave it: 0 when no slot has that time. */
static int slot_repoint(struct gworld *w, uint64_t ts, uint32_t id, uint16_t gen)
{
	int fd = bpf_map__fd(w->eng.skel->maps.xl4_gsyn_v1);
	uint32_t n = bpf_map__max_entries(w->eng.skel->maps.xl4_gsyn_v1);
	struct xl4_guard_slot s;

	for (uint32_t i = 0; i < n; i++)
		if (!bpf_map_lookup_elem(fd, &i, &s) && s.tag && s.ts_ns == ts) {
			s.backend_id = id;
			s.gen = gen;
			return !bpf_map_update_elem(fd, &i, &s, BPF_EXIST);
		}
	return 0;
}

/* Is the SYN slot written at ts still in use (its tag set)? */
static int slot_in_use(struct gworld *w, uint64_t ts)
{
	int fd = bpf_map__fd(w->eng.skel->maps.xl4_gsyn_v1);
	uint32_t n = bpf_map__max_entries(w->eng.skel->maps.xl4_gsyn_v1);
	struct xl4_guard_slot s;

	for (uint32_t i = 0; i < n; i++)
		if (!bpf_map_lookup_elem(fd, &i, &s) && s.ts_ns == ts)
			return s.tag != 0;
	return 0;
}

/* A completing ACK whose SYN slot names another VIP's backend (a tag, 31 keyed bits, that
 * collided across VIPs): not followed there, in that VIP's forwarding, into the table, nor
 * spent (it is the other VIP's SYN's); its own VIP's Maglev picks. */
static void slot_other_vip_case(struct gworld *w, const uint8_t *mac_alt)
{
	uint64_t ts = w->now + 7 * SEC_NS;
	struct pkt p;
	uint32_t id;
	uint16_t gen;
	char n[128];

	NAME(n, w, "two-vips/slot-");
	if (!fx_selected(n)) /* a run() not selected sends nothing */
		return;
	clock_set(w, ts);
	mkpkt(w, &p, 8, 40700, TH_SYN, 0, 0, 5000);
	NAME(n, w, "two-vips/slot-syn");
	if (!run(w, n, &p, XDP_TX, XL4_R_NONE))
		return;
	NAME(n, w, "two-vips/slot-repointed");
	if (!backend_by_mac(w, mac_alt, &id, &gen) || !slot_repoint(w, ts, id, gen)) {
		fx_setup_fail(n, "slot", "no backend with the other MAC, or no slot written at the SYN's time");
		return;
	}
	clock_set(w, ts + 10 * MS_NS);
	mkpkt(w, &p, 8, 40700, TH_ACK, 0, 0, 5001);
	NAME(n, w, "two-vips/slot-of-another-vips-backend-not-followed");
	if (run(w, n, &p, XDP_TX, XL4_R_NONE))
		check_u64(n, "to web's backend MAC", !memcmp(last.b, MAC_BE, 6), 1);
	NAME(n, w, "two-vips/slot-of-another-vips-backend-not-spent");
	check_u64(n, "the slot still the other SYN's", slot_in_use(w, ts), 1);
}

static void sc_two_vips(int v6)
{
	static const uint8_t MAC_ALT[ETH_ALEN] = { 0x02, 0xbe, 0, 0, 0, 9 };
	struct xl4_vip_spec vs = { .name = "web-alt", .port = 81, .proto = IPPROTO_TCP,
				   .mode = XL4_FWD_L2 };
	struct xl4_backend_spec bs = web_backend(v6);
	struct gworld w;
	struct pkt p;
	char n[128], err[256];

	snprintf(n, sizeof(n), "guard/%s/two-vips/setup", v6 ? "v6" : "v4");
	if (!world_open(&w, v6, n))
		return;
	vs.family = bs.family = v6 ? 6 : 4;
	if (v6) {
		memcpy(vs.addr, &VIP6, 16);
		memcpy(bs.addr, &BACKEND6, 16);
		((uint8_t *)bs.addr)[15] ^= 0x20;
	} else {
		vs.addr[0] = htonl(VIP4);
		bs.addr[0] = htonl(BACKEND4 + 2);
	}
	memcpy(bs.mac, MAC_ALT, ETH_ALEN);
	if (xl4_lb_vip_add(&w.lb, &vs, err, sizeof(err)) ||
	    xl4_lb_backend_add(&w.lb, "web-alt", &bs, err, sizeof(err))) {
		fx_setup_fail(n, "second VIP", err);
		world_close(&w);
		return;
	}
	for (int round = 0; round < 2; round++) {
		mkpkt(&w, &p, 3, 40100 + round, TH_SYN, 0, 0, 5000);
		NAME(n, &w, "two-vips/syn-port-80");
		if (run(&w, n, &p, XDP_TX, XL4_R_NONE))
			check_u64(n, "to web's backend MAC", !memcmp(last.b, MAC_BE, 6), 1);
		mkpkt(&w, &p, 3, 40200 + round, TH_SYN, 0, 0, 5000);
		pkt_set16(&p, p.l4 + 2, 81);
		tcp_csum_fix(&p, v6);
		NAME(n, &w, "two-vips/syn-port-81");
		if (run(&w, n, &p, XDP_TX, XL4_R_NONE))
			check_u64(n, "to web-alt's backend MAC", !memcmp(last.b, MAC_ALT, 6), 1);
	}
	slot_other_vip_case(&w, MAC_ALT);
	vip_index_cases(&w, MAC_ALT);
	world_close(&w);
}

/* A reused 5-tuple: a flow on backend 1, backend 1 drained, a new connection from the same
 * client port. Its SYN goes to backend 2 (Maglev), and so must its ACKs, not the old entry's
 * way to the drained backend; and its completing ACK counts for the guard as any new
 * connection's does (a client cycling through its ports must not look like a SYN flood).
 * REUSE_EVICTED: the old entry is gone from the table before the SYN (only the flow cache's
 * copy remembers it); REUSE_OTHER_CPU: the SYN comes on another CPU than the flow's packets. */
/* The flow cache's generation (xl4_fcgen_v1); ~0 when it cannot be read. */
static __u64 fcache_gen(struct gworld *w)
{
	struct xl4_fcache_gen g;
	__u32 zero = 0;

	return bpf_map_lookup_elem(w->eng.lb.fcgen, &zero, &g) ? ~0ull : g.gen;
}

/* The test runs from here on another CPU than this one (*back: the affinity to restore):
 * 1, or 0, said loudly, when there is none to move to. */
static int move_to_other_cpu(const char *name, cpu_set_t *back)
{
	int here = sched_getcpu();
	cpu_set_t one;

	sched_getaffinity(0, sizeof(*back), back);
	for (int c = 0; c < CPU_SETSIZE && here >= 0; c++) {
		if (c == here)
			continue;
		CPU_ZERO(&one);
		CPU_SET(c, &one);
		if (!sched_setaffinity(0, sizeof(one), &one))
			return 1;
	}
	fprintf(stderr, "fixtures: SKIP %s: no other CPU this process may run on\n", name);
	return 0;
}

enum reuse { REUSE_PLAIN, REUSE_EVICTED, REUSE_OTHER_CPU };

static void sc_reused_tuple(int v6, enum reuse how)
{
	static const uint8_t MAC_BE2[ETH_ALEN] = { 0x02, 0xbe, 0, 0, 0, 2 };
	struct xl4_backend_spec b1 = web_backend(v6), b2;
	struct xl4_guard_stats before, after;
	struct gworld w;
	struct pkt p;
	char n[128], err[256];
	const char *t = how == REUSE_EVICTED	 ? "reused-tuple-evicted" :
			how == REUSE_OTHER_CPU ? "reused-tuple-other-cpu" :
						 "reused-tuple";
	cpu_set_t back;
	int moved = 0;

	snprintf(n, sizeof(n), "guard/%s/%s/setup", v6 ? "v6" : "v4", t);
	if (!world_open(&w, v6, n))
		return;
	b2 = b1;
	if (v6)
		((uint8_t *)b2.addr)[15] ^= 0x10;
	else
		b2.addr[0] = htonl(BACKEND4 + 1);
	memcpy(b2.mac, MAC_BE2, ETH_ALEN);
	/* first: only backend 1 exists, the flow lands there */
	mkpkt(&w, &p, 1, 40001, TH_SYN, 0, 0, 1000);
	NAME(n, &w, "%s/old-syn", t);
	run(&w, n, &p, XDP_TX, XL4_R_NONE);
	mkpkt(&w, &p, 1, 40001, TH_ACK, 0, 0, 1001);
	NAME(n, &w, "%s/old-ack-to-backend-1", t);
	if (run(&w, n, &p, XDP_TX, XL4_R_NONE))
		check_u64(n, "to backend 1's MAC", !memcmp(last.b, MAC_BE, 6), 1);
	if (xl4_lb_backend_add(&w.lb, "web", &b2, err, sizeof(err)) ||
	    xl4_lb_backend_drain(&w.lb, "web", &b1, true, err, sizeof(err))) {
		fx_setup_fail(n, "backend 2 / drain", err);
		world_close(&w);
		return;
	}
	/* the clock moves before the old flow's last packet, not after: the new SYN comes in
	 * the epoch the flow cache copied the old entry in, so the copy must go with the entry */
	clock_set(&w, w.now + 60 * SEC_NS);
	mkpkt(&w, &p, 1, 40001, TH_ACK | TH_PSH, 0, 0, 1001);
	NAME(n, &w, "%s/old-flow-stays-on-drained-backend", t);
	if (run(&w, n, &p, XDP_TX, XL4_R_NONE))
		check_u64(n, "to backend 1's MAC", !memcmp(last.b, MAC_BE, 6), 1);
	/* evicted (an LRU says nothing): the SYN finds no entry to delete, and this CPU's flow
	 * cache still holds the copy the packet above took */
	if (how == REUSE_EVICTED)
		ct_forget(&w, 1, 40001);
	/* another CPU's SYN: the copy above is this CPU's, which only the generation reaches */
	NAME(n, &w, "%s/new-syn-to-backend-2", t);
	if (how == REUSE_OTHER_CPU && !(moved = move_to_other_cpu(n, &back))) {
		world_close(&w);
		return;
	}
	stats_sum(&w, &before);
	mkpkt(&w, &p, 1, 40001, TH_SYN, 0, 0, 9000);
	if (run(&w, n, &p, XDP_TX, XL4_R_NONE))
		check_u64(n, "to backend 2's MAC", !memcmp(last.b, MAC_BE2, 6), 1);
	if (moved)
		sched_setaffinity(0, sizeof(back), &back);
	mkpkt(&w, &p, 1, 40001, TH_ACK, 0, 0, 9001);
	NAME(n, &w, "%s/new-ack-follows-the-syn", t);
	if (run(&w, n, &p, XDP_TX, XL4_R_NONE))
		check_u64(n, "to backend 2's MAC", !memcmp(last.b, MAC_BE2, 6), 1);
	stats_sum(&w, &after);
	NAME(n, &w, "%s/new-ack-counted-as-completing", t);
	check_u64(n, "SYNs", after.syns - before.syns, 1);
	check_u64(n, "completing ACKs", after.acks - before.acks, 1);
	mkpkt(&w, &p, 1, 40001, TH_ACK | TH_PSH, 0, 0, 9001);
	NAME(n, &w, "%s/new-flow-data-to-backend-2", t);
	if (run(&w, n, &p, XDP_TX, XL4_R_NONE))
		check_u64(n, "to backend 2's MAC", !memcmp(last.b, MAC_BE2, 6), 1);
	stats_sum(&w, &before);
	NAME(n, &w, "%s/data-not-counted-again", t);
	check_u64(n, "completing ACKs", before.acks - after.acks, 0);
	/* the same SYN once more: the entry it deletes sends the flow where the SYN goes, so no
	 * other CPU's flow cache is emptied (a repeated or spoofed SYN must not do that) */
	if (how == REUSE_PLAIN && !v6) {
		__u64 g0 = fcache_gen(&w);

		mkpkt(&w, &p, 1, 40001, TH_SYN, 0, 0, 9100);
		NAME(n, &w, "%s/repeated-syn-keeps-the-generation", t);
		if (run(&w, n, &p, XDP_TX, XL4_R_NONE))
			check_u64(n, "flow cache generation moves", fcache_gen(&w) - g0, 0);
	}
	world_close(&w);
}

/* The flow cache's epoch (bpf/flow_cache.h): a flow's entry deleted behind the cache's back
 * (an LRU eviction says nothing) goes on serving from this CPU's copy until the epoch turns,
 * ~268 ms (2^XL4_FCACHE_EPOCH_SHIFT ns), and not after: the next ACK then misses, takes
 * Maglev's pick and is inserted again. IPv4: the cache is the IPv4 lane's. */
static void sc_flow_cache_epoch(void)
{
	const uint64_t epoch = 1ull << XL4_FCACHE_EPOCH_SHIFT;
	struct gworld w;
	struct pkt p;
	char n[128];

	snprintf(n, sizeof(n), "guard/v4/flow-cache-epoch/setup");
	if (!world_open(&w, 0, n))
		return;
	/* at the start of an epoch, so that the steps below stay inside it */
	clock_set(&w, (w.now | (epoch - 1)) + 1);
	mkpkt(&w, &p, 12, 47101, TH_SYN, 0, 0, 100);
	NAME(n, &w, "flow-cache-epoch/syn");
	run(&w, n, &p, XDP_TX, XL4_R_NONE);
	mkpkt(&w, &p, 12, 47101, TH_ACK, 0, 0, 101);
	NAME(n, &w, "flow-cache-epoch/completing-ack");
	run(&w, n, &p, XDP_TX, XL4_R_NONE);
	mkpkt(&w, &p, 12, 47101, TH_ACK | TH_PSH, 0, 0, 101);
	NAME(n, &w, "flow-cache-epoch/data-copies-the-entry");
	run(&w, n, &p, XDP_TX, XL4_R_NONE);
	ct_forget(&w, 12, 47101);
	clock_set(&w, w.now + epoch - 10 * MS_NS);
	NAME(n, &w, "flow-cache-epoch/same-epoch-served-from-the-copy");
	if (run(&w, n, &p, XDP_TX, XL4_R_NONE))
		check_u64(n, "in the connection table", in_conntrack(&w, 12, 47101), 0);
	clock_set(&w, w.now + 20 * MS_NS);
	NAME(n, &w, "flow-cache-epoch/next-epoch-asks-the-table");
	if (run(&w, n, &p, XDP_TX, XL4_R_NONE))
		check_u64(n, "in the connection table", in_conntrack(&w, 12, 47101), 1);
	world_close(&w);
}

/* An allowlisted source skips the guard: its SYN is not counted, so its ACK must not count as
 * completing one either (else a busy allowlisted client, a CDN or a partner's NAT, would hide a
 * spoofed flood of up to ratio x its own handshakes from the judge). Its SYN enters the
 * connection table at once, as with the guard off, and its ACK hits it. */
static void sc_allowlisted(int v6)
{
	struct xl4_guard_stats before, after;
	struct xl4_filter f;
	struct xl4_prefix a = { .family = v6 ? 6 : 4, .len = v6 ? 128 : 32 };
	struct gworld w;
	struct pkt p;
	char n[128], err[256];
	int e;

	snprintf(n, sizeof(n), "guard/%s/allowlisted/setup", v6 ? "v6" : "v4");
	if (!world_open(&w, v6, n))
		return;
	if ((e = xl4_filter_init(&f, &w.eng.filter, 0))) {
		fx_setup_fail(n, "xl4_filter_init", strerror(-e));
		world_close(&w);
		return;
	}
	client_addr(&w, 9, a.addr);
	if (xl4_filter_list_add(&f, XL4_LIST_ALLOW, &a, 1, 0, err, sizeof(err))) {
		fx_setup_fail(n, "allowlist", err);
		goto out;
	}
	stats_sum(&w, &before);
	mkpkt(&w, &p, 9, 40900, TH_SYN, 0, 0, 7000);
	NAME(n, &w, "allowlisted/syn-forwarded");
	run(&w, n, &p, XDP_TX, XL4_R_NONE);
	NAME(n, &w, "allowlisted/syn-in-conntrack");
	check_u64(n, "conntrack entry", in_conntrack(&w, 9, 40900), 1);
	clock_set(&w, w.now + 20 * MS_NS);
	mkpkt(&w, &p, 9, 40900, TH_ACK, 0, 0, 7001);
	NAME(n, &w, "allowlisted/ack-forwarded");
	run(&w, n, &p, XDP_TX, XL4_R_NONE);
	stats_sum(&w, &after);
	NAME(n, &w, "allowlisted/neither-counted");
	check_u64(n, "SYNs", after.syns - before.syns, 0);
	check_u64(n, "completing ACKs", after.acks - before.acks, 0);
out:
	xl4_filter_free(&f);
	world_close(&w);
}

/* The completing ACK claims its SYN's slot before any Maglev pick. When the SYN's backend is
 * gone and the VIP has none left, the ACK is dropped (lb_no_backend) and must not count as a
 * completed handshake for the guard: it reached no backend. */
static void sc_claim_no_backend(int v6)
{
	struct xl4_backend_spec b1 = web_backend(v6);
	struct xl4_guard_stats before, after;
	struct gworld w;
	struct pkt p;
	char n[128], err[256];

	snprintf(n, sizeof(n), "guard/%s/claim-no-backend/setup", v6 ? "v6" : "v4");
	if (!world_open(&w, v6, n))
		return;
	mkpkt(&w, &p, 5, 40300, TH_SYN, 0, 0, 3000);
	NAME(n, &w, "claim-no-backend/syn-forwarded");
	run(&w, n, &p, XDP_TX, XL4_R_NONE);
	if (xl4_lb_backend_del(&w.lb, "web", &b1, err, sizeof(err))) {
		fx_setup_fail(n, "backend delete", err);
		world_close(&w);
		return;
	}
	stats_sum(&w, &before);
	clock_set(&w, w.now + 20 * MS_NS);
	mkpkt(&w, &p, 5, 40300, TH_ACK, 0, 0, 3001);
	NAME(n, &w, "claim-no-backend/ack-dropped");
	run(&w, n, &p, XDP_DROP, XL4_R_LB_NO_BACKEND);
	stats_sum(&w, &after);
	NAME(n, &w, "claim-no-backend/ack-not-counted-as-completing");
	check_u64(n, "completing ACKs", after.acks - before.acks, 0);
	world_close(&w);
}

/* A SYN in a first fragment (its TCP header whole) is the load balancer's to drop (lb_frag),
 * at every level: the guard must neither count it as a SYN nor answer it with a challenge
 * (or verify it at First Drop), for a packet no backend will see. */
static void sc_syn_fragment(int v6)
{
	static const uint32_t levels[] = { XL4_GUARD_NORMAL, XL4_GUARD_FIRST_DROP, XL4_GUARD_CHALLENGE };
	struct xl4_guard_stats before, after;
	struct gworld w;
	struct pkt p;
	char n[128];

	snprintf(n, sizeof(n), "guard/%s/syn-fragment/setup", v6 ? "v6" : "v4");
	if (!world_open(&w, v6, n))
		return;
	for (int i = 0; i < 3; i++) {
		const char *lv = levels[i] == XL4_GUARD_NORMAL ? "normal" :
				 levels[i] == XL4_GUARD_FIRST_DROP ? "first-drop" : "challenge";

		if (levels[i] != XL4_GUARD_NORMAL)
			ctl_write(&w, XL4_GUARD_OV_ON, levels[i]);
		stats_sum(&w, &before);
		for (int k = 0; k < 2; k++) { /* twice: First Drop would admit the second */
			mkpkt_big(&w, &p, 30 + i, 40400, TH_SYN, 5000, 0, 1);
			NAME(n, &w, "syn-fragment/%s/dropped-as-fragment-%d", lv, k + 1);
			run(&w, n, &p, XDP_DROP, XL4_R_LB_FRAG);
		}
		stats_sum(&w, &after);
		NAME(n, &w, "syn-fragment/%s/not-counted", lv);
		check_u64(n, "SYNs", after.syns - before.syns, 0);
		NAME(n, &w, "syn-fragment/%s/not-challenged", lv);
		check_u64(n, "challenges sent", after.chal_sent - before.chal_sent, 0);
		NAME(n, &w, "syn-fragment/%s/not-verified", lv);
		check_u64(n, "verified", is_verified(&w, 30 + i), 0);
	}
	world_close(&w);
}

/* ipip: the completing ACK is the first data segment (its bare ACK lost) and too big for the
 * VIP's MTU: the client is told the MTU, and nothing reached a backend. The SYN's slot must
 * stay the SYN's, for the smaller retransmission that follows (it goes where the SYN went,
 * whatever the backends became), and the guard counts one completed handshake, for that one. */
static void sc_claim_too_big(int v6)
{
	static const uint8_t MAC_BE2[ETH_ALEN] = { 0x02, 0xbe, 0, 0, 0, 2 };
	struct xl4_backend_spec b1 = web_backend(v6), b2 = b1;
	struct xl4_guard_stats before, after;
	uint16_t mtu = v6 ? 1320 : 600;
	struct gworld w;
	struct pkt p;
	char n[128], err[256];
	int ok;

	snprintf(n, sizeof(n), "guard/%s/claim-too-big/setup", v6 ? "v6" : "v4");
	g_vip_mode = XL4_FWD_IPIP;
	g_vip_mtu = mtu;
	ok = world_open(&w, v6, n);
	g_vip_mode = XL4_FWD_L2;
	g_vip_mtu = 0;
	if (!ok)
		return;
	mkpkt(&w, &p, 6, 40500, TH_SYN, 0, 0, 6000);
	NAME(n, &w, "claim-too-big/syn-forwarded");
	run(&w, n, &p, XDP_TX, XL4_R_NONE);
	/* backend 1 drained for new flows: Maglev would now pick backend 2 */
	if (v6)
		((uint8_t *)b2.addr)[15] ^= 0x10;
	else
		b2.addr[0] = htonl(BACKEND4 + 1);
	memcpy(b2.mac, MAC_BE2, ETH_ALEN);
	if (xl4_lb_backend_add(&w.lb, "web", &b2, err, sizeof(err)) ||
	    xl4_lb_backend_drain(&w.lb, "web", &b1, true, err, sizeof(err))) {
		fx_setup_fail(n, "backend 2 / drain", err);
		world_close(&w);
		return;
	}
	stats_sum(&w, &before);
	clock_set(&w, w.now + 20 * MS_NS);
	mkpkt_big(&w, &p, 6, 40500, TH_ACK | TH_PSH, 6001, mtu, 0);
	NAME(n, &w, "claim-too-big/big-ack-answered-too-big");
	if (run(&w, n, &p, XDP_TX, XL4_R_NONE))
		check_u64(n, "an ICMP answer to the client", last.r.out_len < p.len, 1);
	stats_sum(&w, &after);
	NAME(n, &w, "claim-too-big/big-ack-not-counted");
	check_u64(n, "completing ACKs", after.acks - before.acks, 0);
	NAME(n, &w, "claim-too-big/big-ack-not-in-conntrack");
	check_u64(n, "conntrack entry", in_conntrack(&w, 6, 40500), 0);
	mkpkt_big(&w, &p, 6, 40500, TH_ACK | TH_PSH, 6001, 100, 0);
	NAME(n, &w, "claim-too-big/smaller-ack-to-the-syns-backend");
	if (run(&w, n, &p, XDP_TX, XL4_R_NONE))
		check_u64(n, "encapsulated to backend 1's MAC", !memcmp(last.b, MAC_BE, 6), 1);
	stats_sum(&w, &after);
	NAME(n, &w, "claim-too-big/smaller-ack-counted-once");
	check_u64(n, "completing ACKs", after.acks - before.acks, 1);
	world_close(&w);
}

struct flow_pick {
	uint32_t hash, client;
	uint16_t sport;
};

static int flow_pick_cmp(const void *x, const void *y)
{
	const struct flow_pick *a = x, *b = y;

	return a->hash < b->hash ? -1 : a->hash > b->hash;
}

/* Two flows (client, source port) whose flow hashes agree in the bits of mask: the first pair
 * a sort of clients 1..4 from every port finds (mask 0xffffffff, the whole hash: 258k flows hold
 * a few such pairs; a SYN-table mask: many). 0 if none. */
static int flows_meeting(const struct gworld *w, uint32_t mask, struct flow_pick *a,
			 struct flow_pick *b)
{
	size_t n = 0, cap = 4 * (65536 - 1024);
	struct flow_pick *f = calloc(cap, sizeof(*f));
	int found = 0;

	if (!f)
		return 0;
	for (uint32_t c = 1; c <= 4; c++) {
		for (uint32_t port = 1024; port < 65536; port++) {
			struct xl4_flow_key k = client_flow(w, c, port);

			f[n++] = (struct flow_pick){ xl4_flow_hash(&k, G_SEED) & mask, c, port };
		}
	}
	qsort(f, n, sizeof(*f), flow_pick_cmp);
	for (size_t i = 1; i < n && !found; i++)
		if (f[i].hash == f[i - 1].hash)
			*a = f[i - 1], *b = f[i], found = 1;
	free(f);
	return found;
}

/* Two handshakes whose flows share a SYN slot: the later SYN takes the slot, and the earlier
 * flow's ACK must not pass for its completion (the slot's tag tells the flows apart), while the
 * later flow's ACK claims it. Twice: flows that share the slot's bits of the hash, and flows
 * whose hashes are equal in all 32 bits (a tag made from the hash alone would be equal too).
 * A tag that ignored the flow fails both, one from the hash alone the second. */
static void sc_shared_syn_slot(int v6, int whole_hash)
{
	const char *what = whole_hash ? "shared-syn-slot-same-hash" : "shared-syn-slot";
	struct xl4_guard_stats before, after;
	struct flow_pick a, b;
	struct gworld w;
	struct pkt p;
	char n[128];

	snprintf(n, sizeof(n), "guard/%s/%s/setup", v6 ? "v6" : "v4", what);
	if (!world_open(&w, v6, n))
		return;
	if (!flows_meeting(&w, whole_hash ? 0xffffffffu : w.cfg.syn_mask, &a, &b)) {
		fx_setup_fail(n, "two flows in one SYN slot", "none found");
		world_close(&w);
		return;
	}
	mkpkt(&w, &p, a.client, a.sport, TH_SYN, 0, 0, 5000);
	NAME(n, &w, "%s/first-syn-forwarded", what);
	run(&w, n, &p, XDP_TX, XL4_R_NONE);
	mkpkt(&w, &p, b.client, b.sport, TH_SYN, 0, 0, 6000);
	NAME(n, &w, "%s/second-syn-forwarded", what);
	run(&w, n, &p, XDP_TX, XL4_R_NONE);
	clock_set(&w, w.now + 20 * MS_NS);
	stats_sum(&w, &before);
	mkpkt(&w, &p, a.client, a.sport, TH_ACK, 0, 0, 5001);
	NAME(n, &w, "%s/first-ack-forwarded", what);
	run(&w, n, &p, XDP_TX, XL4_R_NONE);
	stats_sum(&w, &after);
	NAME(n, &w, "%s/first-ack-not-completing", what);
	check_u64(n, "completing ACKs", after.acks - before.acks, 0);
	mkpkt(&w, &p, b.client, b.sport, TH_ACK, 0, 0, 6001);
	NAME(n, &w, "%s/second-ack-forwarded", what);
	run(&w, n, &p, XDP_TX, XL4_R_NONE);
	stats_sum(&w, &before);
	NAME(n, &w, "%s/second-ack-completing", what);
	check_u64(n, "completing ACKs", before.acks - after.acks, 1);
	world_close(&w);
}

/* First Drop, forced on: drop, too early, admitted in the window; verified afterwards;
 * too late starts over; established flows untouched. */
static void sc_first_drop(int v6)
{
	struct gworld w;
	struct xl4_guard_stats t;
	struct pkt p;
	uint64_t t1;
	char n[128];

	snprintf(n, sizeof(n), "guard/%s/first-drop/setup", v6 ? "v6" : "v4");
	if (!world_open(&w, v6, n))
		return;
	/* an established flow from before the emergency */
	mkpkt(&w, &p, 9, 41009, TH_SYN, 0, 0, 1000);
	NAME(n, &w, "first-drop/setup-established-syn");
	run(&w, n, &p, XDP_TX, XL4_R_NONE);
	mkpkt(&w, &p, 9, 41009, TH_ACK, 0, 0, 1001);
	NAME(n, &w, "first-drop/setup-established-ack");
	run(&w, n, &p, XDP_TX, XL4_R_NONE);
	ctl_write(&w, XL4_GUARD_OV_ON, XL4_GUARD_FIRST_DROP);

	t1 = w.now;
	mkpkt(&w, &p, 1, 40001, TH_SYN, 0, 1, 1000);
	NAME(n, &w, "first-drop/first-syn-dropped");
	run(&w, n, &p, XDP_DROP, XL4_R_GUARD_FIRST_DROP);
	clock_set(&w, t1 + 100 * MS_NS);
	NAME(n, &w, "first-drop/repeat-too-early");
	run(&w, n, &p, XDP_DROP, XL4_R_GUARD_SYN_EARLY);
	clock_set(&w, t1 + 499 * MS_NS);
	NAME(n, &w, "first-drop/repeat-just-too-early");
	run(&w, n, &p, XDP_DROP, XL4_R_GUARD_SYN_EARLY);
	NAME(n, &w, "first-drop/not-verified-yet");
	check_u64(n, "verified", is_verified(&w, 1), 0);
	clock_set(&w, t1 + 1000 * MS_NS); /* Linux's first SYN retransmission: 1 s */
	/* from the same source, but not the same SYN: a spoofer's repeat of an address */
	{
		struct pkt q;

		mkpkt(&w, &q, 1, 40002, TH_SYN, 0, 1, 1000);
		NAME(n, &w, "first-drop/same-source-other-port-not-admitted");
		run(&w, n, &q, XDP_DROP, XL4_R_GUARD_FIRST_DROP);
		mkpkt(&w, &q, 1, 40001, TH_SYN, 0, 1, 1001);
		NAME(n, &w, "first-drop/same-port-other-seq-not-admitted");
		run(&w, n, &q, XDP_DROP, XL4_R_GUARD_FIRST_DROP);
	}
	NAME(n, &w, "first-drop/retransmission-admitted");
	run(&w, n, &p, XDP_TX, XL4_R_NONE);
	NAME(n, &w, "first-drop/source-verified");
	check_u64(n, "verified", is_verified(&w, 1), 1);
	mkpkt(&w, &p, 1, 40111, TH_SYN, 0, 1, 5000);
	NAME(n, &w, "first-drop/verified-new-connection-passes");
	run(&w, n, &p, XDP_TX, XL4_R_NONE);
	/* at the challenge level a First-Drop proof is not enough: the SYN is challenged */
	ctl_write(&w, XL4_GUARD_OV_ON, XL4_GUARD_CHALLENGE);
	NAME(n, &w, "first-drop/verified-by-first-drop-challenged-at-challenge-level");
	run(&w, n, &p, XDP_TX, XL4_R_NONE);
	check_u64(n, "answered (to the client's MAC) rather than forwarded",
		  fx_selected(n) && !memcmp(last.b, MAC_CLIENT, 6), 1);
	ctl_write(&w, XL4_GUARD_OV_ON, XL4_GUARD_FIRST_DROP);

	/* too late: more than fd_max after the first, so it counts as a first SYN again */
	t1 = w.now;
	mkpkt(&w, &p, 2, 40002, TH_SYN, 0, 0, 1000);
	NAME(n, &w, "first-drop/late/first-syn-dropped");
	run(&w, n, &p, XDP_DROP, XL4_R_GUARD_FIRST_DROP);
	clock_set(&w, t1 + 6001 * MS_NS);
	NAME(n, &w, "first-drop/late/retransmission-too-late");
	run(&w, n, &p, XDP_DROP, XL4_R_GUARD_FIRST_DROP);
	clock_set(&w, t1 + 6001 * MS_NS + 3 * SEC_NS);
	NAME(n, &w, "first-drop/late/next-retransmission-admitted");
	run(&w, n, &p, XDP_TX, XL4_R_NONE);

	/* another VIP port is another greylist key: client 1 is verified (sources are), but
	 * client 3 greylisted on port 80 only. The established flow passes untouched. */
	mkpkt(&w, &p, 9, 41009, TH_ACK | TH_PSH, 0, 0, 1001);
	NAME(n, &w, "first-drop/established-flow-passes");
	run(&w, n, &p, XDP_TX, XL4_R_NONE);
	mkpkt(&w, &p, 9, 41010, TH_SYN, 0, 0, 1000);
	NAME(n, &w, "first-drop/established-client-new-syn-greylisted");
	run(&w, n, &p, XDP_DROP, XL4_R_GUARD_FIRST_DROP);

	stats_sum(&w, &t);
	NAME(n, &w, "first-drop/counts-dropped");
	check_u64(n, "fd_dropped", t.fd_dropped, 6);
	NAME(n, &w, "first-drop/counts-early");
	check_u64(n, "fd_early", t.fd_early, 2);
	NAME(n, &w, "first-drop/counts-admitted");
	check_u64(n, "fd_admitted", t.fd_admitted, 2);
	NAME(n, &w, "first-drop/counts-verified-pass");
	check_u64(n, "verified_pass", t.verified_pass, 1);

	/* forced off: nothing is dropped */
	ctl_write(&w, XL4_GUARD_OV_OFF, 0);
	mkpkt(&w, &p, 4, 40004, TH_SYN, 0, 0, 1000);
	NAME(n, &w, "first-drop/forced-off-passes");
	run(&w, n, &p, XDP_TX, XL4_R_NONE);
	world_close(&w);
}

/* The test's model of the greylist bucket of a SYN (client, its port 42000 and sequence 1000,
 * the VIP): bpf/guard.h guard_first_drop. */
static uint32_t grey_bucket(const struct gworld *w, uint32_t client)
{
	struct {
		__be32 a[4], b[4];
		uint32_t x, y;
	} h = { .x = w->vip_id, .y = w->v6 ? 6 : 4,
		.b = { ((uint32_t)htons(42000) << 16) | htons(VIP_PORT), htonl(1000) } };

	client_addr(w, client, h.a);
	return xl4_jhash_10((const uint32_t *)&h, w->cfg.key[2]) & w->cfg.grey_mask;
}

/* A flood that lands in one client's bucket: with three others the client's first SYN is still
 * remembered; a fourth newer one takes its place and the client's retransmission counts as a
 * first SYN again (dropped: a full greylist fails closed, never open). */
static void sc_grey_full(int v6)
{
	struct gworld w;
	struct pkt p;
	uint32_t mates[4], nm = 0, b;
	uint64_t t1;
	char n[128];

	snprintf(n, sizeof(n), "guard/%s/greylist-full/setup", v6 ? "v6" : "v4");
	if (!world_open(&w, v6, n))
		return;
	ctl_write(&w, XL4_GUARD_OV_ON, XL4_GUARD_FIRST_DROP);
	w.cfg.grey_mask = 1023; /* a smaller table: bucket mates are easy to find */
	cfg_write(&w);
	b = grey_bucket(&w, 1);
	for (uint32_t c = 2; c < 65535 && nm < 4; c++)
		if (grey_bucket(&w, c) == b)
			mates[nm++] = c;
	NAME(n, &w, "greylist-full/model-found-bucket-mates");
	check_u64(n, "clients sharing the bucket", nm, 4);
	if (nm < 4) {
		world_close(&w);
		return;
	}
	for (int round = 0; round < 2; round++) {
		/* round 0: three mates after client 1, it survives; round 1: four, it does not */
		uint32_t c1 = round ? 100 : 1;

		if (round) { /* a fresh client in the same bucket state: reuse the bucket */
			c1 = 1;
			clock_set(&w, w.now + 20 * SEC_NS); /* everything old: all ways expire */
		}
		t1 = w.now;
		mkpkt(&w, &p, c1, 42000, TH_SYN, 0, 0, 1000);
		NAME(n, &w, "greylist-full/%d-mates/first-syn", 3 + round);
		run(&w, n, &p, XDP_DROP, XL4_R_GUARD_FIRST_DROP);
		for (int i = 0; i < 3 + round; i++) {
			clock_set(&w, t1 + (i + 1) * 10 * MS_NS);
			mkpkt(&w, &p, mates[i], 42000, TH_SYN, 0, 0, 1000);
			NAME(n, &w, "greylist-full/%d-mates/mate-%d-greylisted", 3 + round, i + 1);
			run(&w, n, &p, XDP_DROP, XL4_R_GUARD_FIRST_DROP);
		}
		clock_set(&w, t1 + SEC_NS);
		mkpkt(&w, &p, c1, 42000, TH_SYN, 0, 0, 1000);
		NAME(n, &w, "greylist-full/%d-mates/retransmission", 3 + round);
		if (round == 0)
			run(&w, n, &p, XDP_TX, XL4_R_NONE);
		else
			run(&w, n, &p, XDP_DROP, XL4_R_GUARD_FIRST_DROP);
		if (round == 0) { /* forget the verification, for round 1 */
			struct xl4_guard_src k = src_key(&w, 1);

			bpf_map_delete_elem(w.ver_fd, &k);
		}
	}
	/* Client 1's first SYN greylisted by another CPU, whose clock read came a tick after this
	 * CPU's: its way looks newer than now here. It is the newest of the bucket, so the fourth
	 * mate's SYN on this CPU evicts the oldest mate, not client 1 (an unsigned age made it
	 * the oldest of all, and client 1's retransmission was dropped as a first SYN). */
	clock_set(&w, w.now + 20 * SEC_NS);
	t1 = w.now;
	for (int i = 0; i < 3; i++) {
		clock_set(&w, t1 + i * 10 * MS_NS);
		mkpkt(&w, &p, mates[i], 42000, TH_SYN, 0, 0, 1000);
		NAME(n, &w, "greylist-full/tick-ahead/mate-%d-greylisted", i + 1);
		run(&w, n, &p, XDP_DROP, XL4_R_GUARD_FIRST_DROP);
	}
	clock_set(&w, t1 + 40 * MS_NS);
	mkpkt(&w, &p, 1, 42000, TH_SYN, 0, 0, 1000);
	NAME(n, &w, "greylist-full/tick-ahead/first-syn");
	run(&w, n, &p, XDP_DROP, XL4_R_GUARD_FIRST_DROP);
	/* this CPU: two greylist ticks behind the write above */
	clock_set(&w, t1 + 40 * MS_NS - (2ull << XL4_GUARD_GREY_TICK_SHIFT));
	mkpkt(&w, &p, mates[3], 42000, TH_SYN, 0, 0, 1000);
	NAME(n, &w, "greylist-full/tick-ahead/fourth-mate-greylisted");
	run(&w, n, &p, XDP_DROP, XL4_R_GUARD_FIRST_DROP);
	clock_set(&w, t1 + 40 * MS_NS + SEC_NS);
	mkpkt(&w, &p, 1, 42000, TH_SYN, 0, 0, 1000);
	NAME(n, &w, "greylist-full/tick-ahead/retransmission-admitted");
	run(&w, n, &p, XDP_TX, XL4_R_NONE);
	/* Ways written 30 days ago (more than 2^31 ticks): the oldest, not "ahead" of now. A
	 * fresh client's way must outlive them when a fourth mate needs room. */
	{
		struct xl4_guard_src k = src_key(&w, 1);

		bpf_map_delete_elem(w.ver_fd, &k);
	}
	{
		/* an empty bucket: no way of the fourth mate's to hit, only the victim choice */
		struct xl4_guard_grey empty = { 0 };

		bpf_map_update_elem(w.eng.guard.grey, &b, &empty, BPF_ANY);
	}
	clock_set(&w, w.now + 20 * SEC_NS);
	t1 = w.now;
	for (int i = 0; i < 3; i++) {
		mkpkt(&w, &p, mates[i], 42000, TH_SYN, 0, 0, 1000);
		NAME(n, &w, "greylist-full/weeks-old/mate-%d-greylisted", i + 1);
		run(&w, n, &p, XDP_DROP, XL4_R_GUARD_FIRST_DROP);
	}
	t1 += 30ull * 86400 * SEC_NS;
	clock_set(&w, t1);
	mkpkt(&w, &p, 1, 42000, TH_SYN, 0, 0, 1000);
	NAME(n, &w, "greylist-full/weeks-old/first-syn");
	run(&w, n, &p, XDP_DROP, XL4_R_GUARD_FIRST_DROP);
	clock_set(&w, t1 + 10 * MS_NS);
	mkpkt(&w, &p, mates[3], 42000, TH_SYN, 0, 0, 1000);
	NAME(n, &w, "greylist-full/weeks-old/fourth-mate-greylisted");
	run(&w, n, &p, XDP_DROP, XL4_R_GUARD_FIRST_DROP);
	clock_set(&w, t1 + SEC_NS);
	mkpkt(&w, &p, 1, 42000, TH_SYN, 0, 0, 1000);
	NAME(n, &w, "greylist-full/weeks-old/retransmission-admitted");
	run(&w, n, &p, XDP_TX, XL4_R_NONE);
	world_close(&w);
}

/* The output frame is our SYN-ACK to the client with ack = cookie. */
static void check_synack(struct gworld *w, const char *name, const struct pkt *in, uint32_t client,
			 uint16_t sport, uint32_t want_cookie)
{
	uint32_t l3 = in->l3, l4 = l3 + (w->v6 ? 40 : 20);
	struct pkt o;
	bool ok = true;
	__be32 cl[4];

	if (!fx_selected(name))
		return;
	memset(&o, 0, sizeof(o));
	memcpy(o.b, last.b, last.r.out_len < PKT_MAX ? last.r.out_len : PKT_MAX);
	o.len = last.r.out_len;
	client_addr(w, client, cl);
	if (o.len != l4 + 20)
		ok = fx_fail(name, ok, "length: want %u, got %u", l4 + 20, o.len);
	else {
		if (memcmp(o.b, MAC_CLIENT, 6) || memcmp(o.b + 6, MAC_NIC, 6))
			ok = fx_fail(name, ok, "MACs not swapped");
		if (l3 > 14 && memcmp(o.b + 12, in->b + 12, l3 - 12))
			ok = fx_fail(name, ok, "VLAN tag not kept");
		if (w->v6) {
			if (o.b[l3] >> 4 != 6 || pkt_get16(&o, l3 + 4) != 20 || o.b[l3 + 6] != IPPROTO_TCP)
				ok = fx_fail(name, ok, "IPv6 header: version/payload length/next header");
			if (memcmp(o.b + l3 + 8, &VIP6, 16) || memcmp(o.b + l3 + 24, cl, 16))
				ok = fx_fail(name, ok, "IPv6 addresses not VIP -> client");
		} else {
			if (o.b[l3] != 0x45 || pkt_get16(&o, l3 + 2) != 40 || o.b[l3 + 9] != IPPROTO_TCP)
				ok = fx_fail(name, ok, "IPv4 header: version/IHL/total length/protocol");
			if (pb_csum(o.b + l3, 20, 0) != 0)
				ok = fx_fail(name, ok, "IPv4 header checksum wrong");
			if (memcmp(o.b + l3 + 12, (uint32_t[]){ htonl(VIP4) }, 4) ||
			    memcmp(o.b + l3 + 16, cl, 4))
				ok = fx_fail(name, ok, "IPv4 addresses not VIP -> client");
		}
		if (pkt_get16(&o, l4) != VIP_PORT || pkt_get16(&o, l4 + 2) != sport)
			ok = fx_fail(name, ok, "ports not swapped");
		if (o.b[l4 + 13] != (TH_SYN | TH_ACK) || o.b[l4 + 12] != 0x50)
			ok = fx_fail(name, ok, "flags %#x / data offset %#x: want SYN|ACK, 5",
				     o.b[l4 + 13], o.b[l4 + 12]);
		if (((uint32_t)pkt_get16(&o, l4 + 8) << 16 | pkt_get16(&o, l4 + 10)) != want_cookie)
			ok = fx_fail(name, ok, "ack number is not the cookie %#x", want_cookie);
		if (tcp_csum(&o, w->v6, l3, l4, 20) != 0)
			ok = fx_fail(name, ok, "TCP checksum wrong");
	}
	if (!ok)
		fx_hexdiff(in->b, in->len, o.b, o.len);
	fx_count(name, ok);
}

static void sc_challenge(int v6, int vlan)
{
	struct gworld w;
	struct xl4_guard_stats t;
	struct pkt p, syn;
	uint32_t ck;
	uint64_t t1;
	char n[128], tag[16];

	snprintf(tag, sizeof(tag), "%s", vlan ? "/vlan" : "");
	snprintf(n, sizeof(n), "guard/%s/challenge%s/setup", v6 ? "v6" : "v4", tag);
	if (!world_open(&w, v6, n))
		return;
	ctl_write(&w, XL4_GUARD_OV_ON, XL4_GUARD_CHALLENGE);
	t1 = w.now;
	/* a SYN with options and a payload (TFO-style): all cut off in the answer */
	mkpkt(&w, &syn, 1, 40001, TH_SYN, vlan, 1, 777777);
	ck = cookie_model(&w, 1, 40001, w.now);
	NAME(n, &w, "challenge%s/syn-answered", tag);
	if (run(&w, n, &syn, XDP_TX, XL4_R_NONE)) {
		NAME(n, &w, "challenge%s/synack-well-formed", tag);
		check_synack(&w, n, &syn, 1, 40001, ck);
	}
	NAME(n, &w, "challenge%s/not-in-conntrack", tag);
	check_u64(n, "conntrack entry", in_conntrack(&w, 1, 40001), 0);

	/* a wrong cookie: not consumed (a RST goes on to the backend), source not verified */
	mkpkt(&w, &p, 1, 40001, TH_RST, vlan, 0, ck + 1);
	NAME(n, &w, "challenge%s/wrong-rst-goes-on", tag);
	run(&w, n, &p, XDP_TX, XL4_R_NONE);
	NAME(n, &w, "challenge%s/wrong-rst-not-verified", tag);
	check_u64(n, "verified", is_verified(&w, 1), 0);
	/* the client's RST (RFC 9293 3.10.7.3): seq = our ack */
	clock_set(&w, t1 + 2 * MS_NS);
	mkpkt(&w, &p, 1, 40001, TH_RST, vlan, 0, ck);
	NAME(n, &w, "challenge%s/right-rst-consumed", tag);
	run(&w, n, &p, XDP_DROP, XL4_R_GUARD_CHALLENGE_ANSWERED);
	NAME(n, &w, "challenge%s/right-rst-verifies", tag);
	check_u64(n, "verified", is_verified(&w, 1), 1);
	clock_set(&w, t1 + 5 * MS_NS);
	NAME(n, &w, "challenge%s/retransmitted-syn-forwarded", tag);
	run(&w, n, &syn, XDP_TX, XL4_R_NONE);
	if (fx_selected(n) && last.r.verdict == XDP_TX)
		check_u64(n, "forwarded to the backend's MAC", !memcmp(last.b, MAC_BE, 6), 1);
	/*
	 * The proof is the tuple's, for one SYN. Any live host answers a SYN-ACK it did not ask
	 * for with the cookie (a closed port and a listening one alike), so an attacker who
	 * spoofs one SYN from a host has it answer: a proof for the whole source would let the
	 * attacker's flood spoofed from that host through, at any rate, for the proof's life.
	 * Here the host answered for port 40001 and its SYN there passed: the flood's next SYN
	 * on that port and on any other is challenged again.
	 */
	NAME(n, &w, "challenge%s/recruited-host-same-port-challenged-again", tag);
	check_syn_verified(&w, n, 1, 40001, 0);
	for (int i = 0; i < 3; i++) {
		NAME(n, &w, "challenge%s/recruited-host-other-port-%d-challenged", tag, i + 1);
		check_syn_verified(&w, n, 1, (uint16_t)(41000 + i), 0);
	}

	/* a cookie from the previous slice is still good; one from two slices back is stale */
	clock_set(&w, t1);
	ck = cookie_model(&w, 2, 40002, w.now);
	clock_set(&w, t1 + (1ull << XL4_GUARD_COOKIE_SHIFT));
	mkpkt(&w, &p, 2, 40002, TH_RST, vlan, 0, ck);
	NAME(n, &w, "challenge%s/previous-slice-rst-accepted", tag);
	run(&w, n, &p, XDP_DROP, XL4_R_GUARD_CHALLENGE_ANSWERED);
	clock_set(&w, t1);
	ck = cookie_model(&w, 3, 40003, w.now);
	clock_set(&w, t1 + (2ull << XL4_GUARD_COOKIE_SHIFT));
	mkpkt(&w, &p, 3, 40003, TH_RST, vlan, 0, ck);
	NAME(n, &w, "challenge%s/stale-rst-rejected", tag);
	run(&w, n, &p, XDP_TX, XL4_R_NONE);
	NAME(n, &w, "challenge%s/stale-rst-not-verified", tag);
	check_u64(n, "verified", is_verified(&w, 3), 0);
	/* the right cookie for another client's tuple does not verify this one */
	ck = cookie_model(&w, 4, 40004, w.now);
	mkpkt(&w, &p, 5, 40004, TH_RST, vlan, 0, ck);
	NAME(n, &w, "challenge%s/cookie-bound-to-source", tag);
	run(&w, n, &p, XDP_TX, XL4_R_NONE);

	/* the per-CPU budget: 2 challenges per second, the third SYN in that second is dropped */
	w.cfg.challenge_per_sec = 2;
	cfg_write(&w);
	clock_set(&w, w.now + 10 * SEC_NS);
	for (int i = 0; i < 3; i++) {
		mkpkt(&w, &p, 20 + i, 40020, TH_SYN, vlan, 0, 1000);
		NAME(n, &w, "challenge%s/budget/syn-%d", tag, i + 1);
		run(&w, n, &p, i < 2 ? XDP_TX : XDP_DROP, i < 2 ? XL4_R_NONE : XL4_R_GUARD_CHALLENGE_BUDGET);
	}
	stats_sum(&w, &t);
	NAME(n, &w, "challenge%s/counts-sent", tag);
	check_u64(n, "chal_sent", t.chal_sent, 7); /* 1 + the 4 to the recruited host + 2 */
	NAME(n, &w, "challenge%s/counts-passed", tag);
	check_u64(n, "chal_passed", t.chal_passed, 2);
	NAME(n, &w, "challenge%s/counts-failed", tag);
	check_u64(n, "chal_failed", t.chal_failed, 3);
	NAME(n, &w, "challenge%s/counts-budget", tag);
	check_u64(n, "chal_budget", t.chal_budget, 1);
	world_close(&w);
}

/* A TCP header more than 1 KiB into the frame (IPv6 destination options): the guard reads
 * the client's sequence number where it is, not at the offset cut to 10 bits. First Drop
 * must not take a new SYN (another sequence number) for the retransmission of the first,
 * and the challenge's ISN is the client's own sequence number XOR the cookie. */
static void sc_deep_l4(void)
{
	struct gworld w;
	struct pkt p;
	uint32_t ck, isn, l4;
	uint64_t t1;
	char n[128];

	if (!world_open(&w, 1, "guard/v6/deep-l4/setup"))
		return;
	ctl_write(&w, XL4_GUARD_OV_ON, XL4_GUARD_FIRST_DROP);
	t1 = w.now;
	mkpkt_ext(&w, &p, 1, 42001, TH_SYN, 0, 0, 1000, 1032);
	NAME(n, &w, "deep-l4/l4-offset-over-1k");
	check_u64(n, "TCP header offset > 1023", p.l4 > 1023, 1);
	NAME(n, &w, "deep-l4/first-syn-dropped");
	run(&w, n, &p, XDP_DROP, XL4_R_GUARD_FIRST_DROP);
	clock_set(&w, t1 + 1000 * MS_NS);
	mkpkt_ext(&w, &p, 1, 42001, TH_SYN, 0, 0, 2000, 1032);
	NAME(n, &w, "deep-l4/new-seq-not-a-retransmission");
	run(&w, n, &p, XDP_DROP, XL4_R_GUARD_FIRST_DROP);
	clock_set(&w, t1 + 2000 * MS_NS);
	mkpkt_ext(&w, &p, 1, 42001, TH_SYN, 0, 0, 2000, 1032);
	NAME(n, &w, "deep-l4/retransmission-admitted");
	run(&w, n, &p, XDP_TX, XL4_R_NONE);

	ctl_write(&w, XL4_GUARD_OV_ON, XL4_GUARD_CHALLENGE);
	mkpkt_ext(&w, &p, 2, 42002, TH_SYN, 0, 0, 0x12345678, 1032);
	ck = cookie_model(&w, 2, 42002, w.now);
	NAME(n, &w, "deep-l4/challenge-isn-from-client-seq");
	if (run(&w, n, &p, XDP_TX, XL4_R_NONE)) {
		l4 = p.l3 + 40; /* the answer has no extension headers */
		isn = (uint32_t)last.b[l4 + 4] << 24 | last.b[l4 + 5] << 16 | last.b[l4 + 6] << 8 |
		      last.b[l4 + 7];
		check_u64(n, "SYN-ACK seq == client seq ^ cookie", isn, 0x12345678u ^ ck);
	}
	world_close(&w);
}

/* Start of cookie slice `slice`, plus a millisecond. */
static uint64_t slice_ns(uint64_t slice)
{
	return (slice << XL4_GUARD_COOKIE_SHIFT) + MS_NS;
}

/* The challenge cookie's keys rotate (xl4_guard_keys_rotate() as the daemon's tick runs it):
 * a cookie made under the last key still answers after the epoch turns, the new epoch's SYNs
 * get cookies under the new key, a key two epochs old no longer verifies anything (an
 * attacker who learned it is locked out again), and with no key drawn nothing verifies. */
static void sc_key_rotation(int v6)
{
	struct gworld w;
	struct xl4_guard_ckeys before, after;
	struct pkt p;
	uint32_t per, c1, c2, e;
	uint64_t epoch;
	__u64 old_key[2];
	int rc;
	char n[128];

	snprintf(n, sizeof(n), "guard/%s/key-rotation/setup", v6 ? "v6" : "v4");
	if (!world_open(&w, v6, n))
		return;
	ctl_write(&w, XL4_GUARD_OV_ON, XL4_GUARD_CHALLENGE);
	before = ckeys(&w);
	per = before.slices;
	NAME(n, &w, "key-rotation/period-in-slices");
	check_u64(n, "slices per epoch", per, 7);
	epoch = (w.now >> XL4_GUARD_COOKIE_SHIFT) / (per ? per : 1);
	NAME(n, &w, "key-rotation/three-keys-drawn");
	check_u64(n, "slots with a key", !!(before.key[0][0] | before.key[0][1]) +
		  !!(before.key[1][0] | before.key[1][1]) + !!(before.key[2][0] | before.key[2][1]), 3);

	/* the last slice of this epoch: a challenge under this epoch's key */
	clock_set(&w, slice_ns((epoch + 1) * per - 1));
	mkpkt(&w, &p, 1, 41001, TH_SYN, 0, 0, 5000);
	c1 = cookie_model(&w, 1, 41001, w.now);
	NAME(n, &w, "key-rotation/last-slice-challenged");
	if (run(&w, n, &p, XDP_TX, XL4_R_NONE)) {
		NAME(n, &w, "key-rotation/cookie-under-epoch-key");
		check_synack(&w, n, &p, 1, 41001, c1);
	}
	memcpy(old_key, before.key[epoch % XL4_GUARD_COOKIE_KEYS], sizeof(old_key));

	/* the epoch turns; the daemon's tick draws the one after */
	clock_set(&w, slice_ns((epoch + 1) * per));
	rc = xl4_guard_keys_rotate(&w.eng.guard, G_KEY_PERIOD_S, w.now);
	after = ckeys(&w);
	e = (epoch + 2) % XL4_GUARD_COOKIE_KEYS;
	NAME(n, &w, "key-rotation/tick-draws-next-epoch-key");
	check_u64(n, "wrote / slot's epoch / keys in use unchanged",
		  rc == 1 && after.epoch[e] == epoch + 2 &&
			  memcmp(after.key[e], before.key[e], sizeof(after.key[e])) &&
			  !memcmp(after.key[epoch % 3], before.key[epoch % 3], sizeof(old_key)) &&
			  !memcmp(after.key[(epoch + 1) % 3], before.key[(epoch + 1) % 3], sizeof(old_key)),
		  1);
	NAME(n, &w, "key-rotation/idle-tick-writes-nothing");
	check_u64(n, "xl4_guard_keys_rotate", xl4_guard_keys_rotate(&w.eng.guard, G_KEY_PERIOD_S, w.now), 0);
	mkpkt(&w, &p, 1, 41001, TH_RST, 0, 0, c1);
	NAME(n, &w, "key-rotation/previous-key-cookie-answers");
	run(&w, n, &p, XDP_DROP, XL4_R_GUARD_CHALLENGE_ANSWERED);
	mkpkt(&w, &p, 2, 41002, TH_SYN, 0, 0, 6000);
	c2 = cookie_model(&w, 2, 41002, w.now);
	NAME(n, &w, "key-rotation/new-epoch-syn-challenged");
	if (run(&w, n, &p, XDP_TX, XL4_R_NONE)) {
		NAME(n, &w, "key-rotation/cookie-under-new-key");
		check_synack(&w, n, &p, 2, 41002, c2);
		NAME(n, &w, "key-rotation/new-key-differs");
		check_u64(n, "same cookie under the old key",
			  c2 == cookie_with(&w, old_key, 2, 41002, w.now >> XL4_GUARD_COOKIE_SHIFT), 0);
	}

	/* two epochs on: key `epoch` is retired. An attacker holding it forges an answer for a
	 * spoofed source in the current slice: refused, and the source stays unverified. */
	clock_set(&w, slice_ns((epoch + 2) * per));
	xl4_guard_keys_rotate(&w.eng.guard, G_KEY_PERIOD_S, w.now);
	mkpkt(&w, &p, 3, 41003, TH_RST, 0, 0,
	      cookie_with(&w, old_key, 3, 41003, w.now >> XL4_GUARD_COOKIE_SHIFT));
	NAME(n, &w, "key-rotation/retired-key-refused");
	run(&w, n, &p, XDP_TX, XL4_R_NONE);
	NAME(n, &w, "key-rotation/retired-key-not-verified");
	check_u64(n, "verified", is_verified(&w, 3), 0);

	/* a new period moves every epoch: all three keys drawn anew */
	before = ckeys(&w);
	rc = xl4_guard_keys_rotate(&w.eng.guard, 2 * G_KEY_PERIOD_S, w.now);
	after = ckeys(&w);
	NAME(n, &w, "key-rotation/new-period-draws-all");
	check_u64(n, "wrote, slices, every key new",
		  rc == 1 && after.slices == 14 && memcmp(after.key[0], before.key[0], 16) &&
			  memcmp(after.key[1], before.key[1], 16) && memcmp(after.key[2], before.key[2], 16),
		  1);

	/* no key (a datapath nobody provisioned): an answer computed under the all-zero key is
	 * refused, never taken as proof */
	memset(&after, 0, sizeof(after));
	after.slices = 1;
	bpf_map_update_elem(w.ckey_fd, &(__u32){ 0 }, &after, BPF_ANY);
	mkpkt(&w, &p, 4, 41004, TH_RST, 0, 0,
	      cookie_with(&w, (__u64[2]){ 0, 0 }, 4, 41004, w.now >> XL4_GUARD_COOKIE_SHIFT));
	NAME(n, &w, "key-rotation/zero-key-never-verifies");
	run(&w, n, &p, XDP_TX, XL4_R_NONE);
	world_close(&w);
}

/* `count` SYNs from distinct clients (from `first`), and, with acks, each one's completing
 * ACK, all at the current clock. Returns how many SYNs were forwarded. */
static int burst(struct gworld *w, uint32_t first, int count, int acks)
{
	struct pkt p;
	int fwd = 0;

	for (int i = 0; i < count; i++) {
		mkpkt(w, &p, first + i, 30000 + (i & 0x3fff), TH_SYN, 0, 0, 1000);
		if (xl4_run_packet(&w->eng, p.b, p.len, last.b, sizeof(last.b), &last.r) == 0 &&
		    last.r.verdict == XDP_TX)
			fwd++;
		if (acks) {
			mkpkt(w, &p, first + i, 30000 + (i & 0x3fff), TH_ACK, 0, 0, 1001);
			xl4_run_packet(&w->eng, p.b, p.len, last.b, sizeof(last.b), &last.r);
		}
	}
	return fwd;
}

/* `count` SYNs from one host (IPv4: one address; IPv6: addresses of one /64) on ports from
 * `port`, sequence `seq`: returns how many were forwarded. */
static int burst_one_host(struct gworld *w, int count, uint16_t port, uint32_t seq)
{
	struct pkt p;
	int fwd = 0;

	for (int i = 0; i < count; i++) {
		mkpkt(w, &p, 7, port + i, TH_SYN, 0, 0, seq);
		if (w->v6) /* another address of the same /64 for every SYN */
			pkt_set16(&p, p.l3 + 8 + 14, 0x7000 + i), tcp_csum_fix(&p, 1);
		if (xl4_run_packet(&w->eng, p.b, p.len, last.b, sizeof(last.b), &last.r) == 0 &&
		    last.r.verdict == XDP_TX)
			fwd++;
	}
	return fwd;
}

/*
 * Issue 12.4: thresholds are the VIP's, not one CPU's. With the production settings for
 * guard.syn_rate on this machine's CPUs, SYNs at 70% of the VIP's rate, all on one CPU,
 * never enter emergency (a per-CPU threshold of syn_rate / CPUs did). And in First Drop, one
 * host resending its SYNs (so First Drop admits them and they never complete) cannot force the
 * challenge on everyone; a hundred sources doing the same do, within a second.
 */
static void sc_sources(int v6)
{
	struct gworld w;
	struct xl4_guard_vip v;
	struct xl4_config c;
	uint64_t b0;
	uint32_t src = 3000;
	char n[128];

	snprintf(n, sizeof(n), "guard/%s/sources/setup", v6 ? "v6" : "v4");
	if (!world_open(&w, v6, n))
		return;
	xl4_config_defaults(&c);
	c.guard.syn_rate = 1000;
	xl4_guard_cfg_build(&c.guard, G_GREY_SLOTS, 1 << 16, &w.cfg);
	w.cfg.response = XL4_GUARD_RESP_AUTO;
	cfg_write(&w);
	/* 700 SYN/s (188 per step) on this one CPU for 2 s, from distinct sources, no ACKs */
	b0 = w.now;
	for (int i = 0; i < 8; i++) {
		clock_set(&w, b0 + i * STEP_NS);
		burst(&w, src, 188, 0), src += 188;
	}
	vip_state(&w, &v);
	NAME(n, &w, "sources/one-cpu-under-vip-rate-stays-normal");
	check_u64(n, "level", v.level, XL4_GUARD_NORMAL);
	/* over the VIP's rate (1300 SYN/s): emergency, First Drop */
	for (int i = 8; i < 14; i++) {
		clock_set(&w, b0 + i * STEP_NS);
		burst(&w, src, 350, 0), src += 350;
	}
	vip_state(&w, &v);
	NAME(n, &w, "sources/over-vip-rate-enters");
	check_u64(n, "level", v.level, XL4_GUARD_FIRST_DROP);

	/* one host sends every SYN twice, 1 s apart: First Drop admits the second, the
	 * handshakes never complete; 2 s of it */
	b0 = w.now + STEP_NS;
	for (int i = 0; i < 12; i++) {
		clock_set(&w, b0 + i * STEP_NS);
		burst_one_host(&w, 350, (uint16_t)(1024 + (i % 4) * 350), 5000 + i % 4);
	}
	vip_state(&w, &v);
	NAME(n, &w, "sources/one-host-resending-does-not-escalate");
	check_u64(n, "level", v.level, XL4_GUARD_FIRST_DROP);
	/* the same host, with a few other sources' first SYNs each step (ordinary clients, or
	 * spoofed once): First Drop drops those, so they are no sources of what it admits; the
	 * one host still cannot force the challenge (they used to count) */
	b0 = w.now + STEP_NS;
	for (int i = 0; i < 12; i++) {
		clock_set(&w, b0 + i * STEP_NS);
		burst_one_host(&w, 350, (uint16_t)(1024 + (i % 4) * 350), 5000 + i % 4);
		burst(&w, 70000 + i * 8, 8, 0);
	}
	vip_state(&w, &v);
	NAME(n, &w, "sources/one-host-resending-with-others-first-syns-does-not-escalate");
	check_u64(n, "level", v.level, XL4_GUARD_FIRST_DROP);
	/* a hundred hosts doing it (2600 SYN/s, each twice): escalated within a second of the
	 * first repeats */
	b0 = w.now + STEP_NS;
	for (int i = 0; i < 12; i++) {
		clock_set(&w, b0 + i * STEP_NS);
		for (int h = 0; h < 100; h++)
			burst(&w, 20000 + h * 100 + (i % 4) * 7, 7, 0); /* 700 per step, repeated */
		if (i >= 4) {
			vip_state(&w, &v);
			if (v.level == XL4_GUARD_CHALLENGE)
				break;
		}
	}
	vip_state(&w, &v);
	NAME(n, &w, "sources/many-hosts-resending-escalate");
	check_u64(n, "level", v.level, XL4_GUARD_CHALLENGE);
	NAME(n, &w, "sources/many-hosts-resending-escalate-in-1s");
	check_u64(n, "escalated within 1 s of the repeats (4 steps)",
		  w.now - (b0 + 4 * STEP_NS) <= SEC_NS, 1);
	NAME(n, &w, "sources/escalated-cause");
	check_u64(n, "cause", v.cause, XL4_GUARD_CAUSE_ESCALATED);
	world_close(&w);
}

/* Entries in one verified table. */
static long table_count(int fd)
{
	struct xl4_guard_src k, next;
	long n = 0;
	bool first = true;

	while (!bpf_map_get_next_key(fd, first ? NULL : &k, &next)) {
		first = false;
		k = next;
		n++;
	}
	return n;
}

/* Client c answers the challenge: its SYN gets our SYN-ACK, its RST carries the cookie. */
static void answer_challenge(struct gworld *w, uint32_t c, uint16_t sport)
{
	struct pkt p;

	mkpkt(w, &p, c, sport, TH_SYN, 0, 0, 100);
	xl4_run_packet(&w->eng, p.b, p.len, last.b, sizeof(last.b), &last.r);
	mkpkt(w, &p, c, sport, TH_RST, 0, 0, cookie_model(w, c, sport, w->now));
	xl4_run_packet(&w->eng, p.b, p.len, last.b, sizeof(last.b), &last.r);
}

/* The same at whatever level the VIP is: the answer alone (a cookie the datapath accepts at
 * any level), no SYN to be challenged first. */
static void answer_challenge_at(struct gworld *w, uint32_t c, uint16_t sport)
{
	struct pkt p;

	mkpkt(w, &p, c, sport, TH_RST, 0, 0, cookie_model(w, c, sport, w->now));
	xl4_run_packet(&w->eng, p.b, p.len, last.b, sizeof(last.b), &last.r);
}

/* Client c verified by First Drop (a proof of the whole source), written as the datapath
 * writes one, and the bits rebuilt from the tables as the loader does; a failure is counted
 * under name. */
static bool first_drop_prove(struct gworld *w, const char *name, uint32_t c)
{
	struct xl4_guard_src k = src_key(w, c);
	__u64 exp = (w->now + 600 * SEC_NS) & ~XL4_GUARD_VERIFIED_FLAGS;

	if (!bpf_map_update_elem(w->ver_fd, &k, &exp, BPF_ANY) &&
	    xl4_guard_vbits_rebuild(bpf_map__fd(w->eng.skel->maps.xl4_gvbit_v1), w->eng.guard.ver,
				    w->eng.guard.verc) >= 0)
		return true;
	if (fx_selected(name)) {
		fx_fail(name, true, "cannot write xl4_gver_v1: %s", strerror(errno));
		fx_count(name, false);
	}
	return false;
}

/*
 * Issue 12.3: the verified tables against a spoofer who reads the code.
 * (a) At First Drop, sources that send a SYN, the same SYN again, then a blind ACK look like
 *     real clients to a count of completing ACKs; only ACKs from sources a cookie proved
 *     count, so the VIP escalates.
 * (b) First Drop proofs (which such a spoofer gives at will) cannot evict a source a cookie
 *     proved: they live in another table.
 * (c) IPv6: every address of one /64 answering cookies takes one entry, not one each.
 * (d) New First Drop verifications are budgeted per CPU: the SYNs still pass, the table
 *     is not churned faster than verify_per_sec.
 */
/* The completing ACKs from cookie-proven tuples First Drop has counted (xl4_gsrc_v2.pack,
 * every CPU's buckets summed). */
static uint64_t pack_sum(struct gworld *w)
{
	int ncpu = libbpf_num_possible_cpus();
	struct xl4_guard_srcs *v = calloc((size_t)(ncpu > 0 ? ncpu : 1), sizeof(*v));
	uint64_t t = 0;

	if (v && ncpu > 0 &&
	    !bpf_map_lookup_elem(bpf_map__fd(w->eng.skel->maps.xl4_gsrc_v2), &w->vip_id, v))
		for (int c = 0; c < ncpu; c++)
			for (int j = 0; j < XL4_GUARD_BUCKETS; j++)
				t += v[c].pack[j];
	free(v);
	return t;
}

/*
 * At First Drop a completing ACK counts as a real handshake (pack) only when a cookie proof
 * admitted its SYN, once for that proof: a spoofer with one recruited answer for H:P, and a
 * First Drop proof for H (a repeated SYN), would otherwise count every blind ACK after every
 * SYN of H:P for the proof's minute, and First Drop would never look beaten.
 */
static void sc_pack_once(int v6)
{
	struct gworld w;
	struct pkt p;
	uint64_t p0;
	char n[128];

	snprintf(n, sizeof(n), "guard/%s/pack-once/setup", v6 ? "v6" : "v4");
	if (!world_open(&w, v6, n))
		return;
	ctl_write(&w, XL4_GUARD_OV_ON, XL4_GUARD_FIRST_DROP);
	answer_challenge_at(&w, 11, 47001);
	p0 = pack_sum(&w);
	mkpkt(&w, &p, 11, 47001, TH_SYN, 0, 0, 700);
	NAME(n, &w, "pack-once/proven-syn-passes");
	run(&w, n, &p, XDP_TX, XL4_R_NONE);
	mkpkt(&w, &p, 11, 47001, TH_ACK, 0, 0, 701);
	NAME(n, &w, "pack-once/its-ack-completes");
	run(&w, n, &p, XDP_TX, XL4_R_NONE);
	NAME(n, &w, "pack-once/counted");
	check_u64(n, "pack", pack_sum(&w) - p0, 1);
	NAME(n, &w, "pack-once/first-drop-proof");
	if (!first_drop_prove(&w, n, 11))
		goto out;
	for (int i = 0; i < 3; i++) {
		/* the flow evicted (a flood churns the table), so each blind ACK completes again */
		ct_forget(&w, 11, 47001);
		clock_set(&w, w.now + 20 * MS_NS);
		mkpkt(&w, &p, 11, 47001, TH_SYN, 0, 0, 800 + 10 * i);
		NAME(n, &w, "pack-once/again-syn-%d-passes", i + 1);
		run(&w, n, &p, XDP_TX, XL4_R_NONE);
		mkpkt(&w, &p, 11, 47001, TH_ACK, 0, 0, 801 + 10 * i);
		NAME(n, &w, "pack-once/again-blind-ack-%d", i + 1);
		run(&w, n, &p, XDP_TX, XL4_R_NONE);
		NAME(n, &w, "pack-once/again-blind-ack-%d-completes", i + 1);
		check_u64(n, "in the connection table", in_conntrack(&w, 11, 47001), 1);
	}
	NAME(n, &w, "pack-once/not-counted-again");
	check_u64(n, "pack", pack_sum(&w) - p0, 1);
out:
	world_close(&w);
}

static void sc_verified_abuse(int v6)
{
	struct gworld w;
	struct xl4_guard_vip v;
	uint64_t b0;
	uint32_t src = 5000;
	int fwd = 0;
	char n[128];

	snprintf(n, sizeof(n), "guard/%s/verified-abuse/setup", v6 ? "v6" : "v4");
	g_verified_max = 1024;
	if (!world_open(&w, v6, n)) {
		g_verified_max = 0;
		return;
	}
	g_verified_max = 0;
	/* (b) a real client proves itself with a cookie */
	ctl_write(&w, XL4_GUARD_OV_ON, XL4_GUARD_CHALLENGE);
	answer_challenge(&w, 1, 43001);
	NAME(n, &w, "verified-abuse/cookie-proven");
	check_u64(n, "verified by", verified_by(&w, 1), 2);
	/* a cookie proof holds at First Drop too (the cookie table is read there while a proof
	 * can be valid: xl4_gvhint_v1) */
	ctl_write(&w, XL4_GUARD_OV_ON, XL4_GUARD_FIRST_DROP);
	{
		struct pkt p;

		mkpkt(&w, &p, 1, 43001, TH_SYN, 0, 0, 200);
		NAME(n, &w, "verified-abuse/cookie-proven-passes-first-drop");
		run(&w, n, &p, XDP_TX, XL4_R_NONE);
		answer_challenge_at(&w, 1, 43003); /* a proof left unspent, for (b) below */
	}
	ctl_write(&w, XL4_GUARD_OV_ON, XL4_GUARD_CHALLENGE);
	/* (c) one /64: 3000 of its addresses answer cookies */
	if (v6) {
		for (int i = 0; i < 3000; i++) {
			struct pkt p;

			mkpkt(&w, &p, 9, (uint16_t)(44000 + i), TH_SYN, 0, 0, 100);
			pkt_set16(&p, p.l3 + 8 + 14, 0x1000 + i), tcp_csum_fix(&p, 1);
			xl4_run_packet(&w.eng, p.b, p.len, last.b, sizeof(last.b), &last.r);
			/* the RST from that same address, with the cookie for it */
			{
				uint32_t l4 = p.l3 + 40, ack = (uint32_t)last.b[l4 + 8] << 24 |
					      last.b[l4 + 9] << 16 | last.b[l4 + 10] << 8 | last.b[l4 + 11];

				mkpkt(&w, &p, 9, (uint16_t)(44000 + i), TH_RST, 0, 0, ack);
				pkt_set16(&p, p.l3 + 8 + 14, 0x1000 + i), tcp_csum_fix(&p, 1);
				xl4_run_packet(&w.eng, p.b, p.len, last.b, sizeof(last.b), &last.r);
			}
		}
		/* keyed by the /64 and the port: another address of it, on the last port
		 * answered, is admitted, once */
		NAME(n, &w, "verified-abuse/one-64-one-source");
		check_syn_verified(&w, n, 9, (uint16_t)(44000 + 2999), 1);
		NAME(n, &w, "verified-abuse/one-64-proof-spent");
		check_syn_verified(&w, n, 9, (uint16_t)(44000 + 2999), 0);
	}
	answer_challenge_at(&w, 1, 43004); /* (b): a proof left unspent, after (c)'s churn */
	/* (a) + (b): First Drop, 3000 spoofed sources each send a SYN, the same SYN 1 s later,
	 * and a blind ACK, 300 new ones per step */
	ctl_write(&w, XL4_GUARD_OV_AUTO, 0);
	w.cfg.response = XL4_GUARD_RESP_AUTO;
	cfg_write(&w);
	b0 = w.now + STEP_NS;
	for (int i = 0; i < 4; i++) { /* enter emergency: a plain flood */
		clock_set(&w, b0 + i * STEP_NS);
		burst(&w, 60000 + i * 300, 300, 0);
	}
	vip_state(&w, &v);
	NAME(n, &w, "verified-abuse/first-drop");
	check_u64(n, "level", v.level, XL4_GUARD_FIRST_DROP);
	for (int i = 4; i < 18 && v.level == XL4_GUARD_FIRST_DROP; i++) {
		clock_set(&w, b0 + i * STEP_NS);
		if (i < 14)
			burst(&w, src + (i - 4) * 300, 300, 0);	  /* first SYNs */
		if (i >= 8)
			fwd += burst(&w, src + (i - 8) * 300, 300, 1); /* again, + a blind ACK */
		vip_state(&w, &v);
	}
	NAME(n, &w, "verified-abuse/spoofed-completions-escalate");
	check_u64(n, "level", v.level, XL4_GUARD_CHALLENGE);
	NAME(n, &w, "verified-abuse/spoofed-completions-cause");
	check_u64(n, "cause", v.cause, XL4_GUARD_CAUSE_ESCALATED);
	NAME(n, &w, "verified-abuse/first-drop-proofs-filled-their-table");
	check_u64(n, "First Drop table entries >= 512", table_count(w.ver_fd) >= 512, 1);
	NAME(n, &w, "verified-abuse/cookie-proven-survives");
	check_u64(n, "verified by", verified_by(&w, 1), 2);
	world_close(&w);

	/* (d) the budget: 10 new First Drop verifications per second on this CPU */
	snprintf(n, sizeof(n), "guard/%s/verified-abuse/budget-setup", v6 ? "v6" : "v4");
	if (!world_open(&w, v6, n))
		return;
	w.cfg.verify_per_sec = 10;
	cfg_write(&w);
	ctl_write(&w, XL4_GUARD_OV_ON, XL4_GUARD_FIRST_DROP);
	b0 = w.now;
	burst(&w, 7000, 50, 0);
	clock_set(&w, b0 + SEC_NS);
	fwd = burst(&w, 7000, 50, 0);
	NAME(n, &w, "verified-abuse/budget/retransmissions-pass");
	check_u64(n, "forwarded", fwd, 50);
	NAME(n, &w, "verified-abuse/budget/verifications-capped");
	check_u64(n, "First Drop table entries", table_count(w.ver_fd), 10);
	world_close(&w);
}

/* ---- First Drop at flood rates (issue 12.2) ---- */

#define SIM_SLOTS 1024		   /* greylist slots: 1/1024 of the default 1M */
#define SIM_CLIENTS 400
#define SIM_SCALE (1048576.0 / SIM_SLOTS)

static bool vbits_set_halves(struct gworld *w, const char *name, __u64 ck, __u64 any);

/* Every word of xl4_gvbit_v1 set to word (all ones: saturated; 0: cleared); a failure is
 * counted under name. */
static bool vbits_set_all(struct gworld *w, const char *name, __u64 word)
{
	return vbits_set_halves(w, name, word, word);
}

/* The cookie proofs' half of xl4_gvbit_v1 set to words ck, the other (either proof) to any. */
static bool vbits_set_halves(struct gworld *w, const char *name, __u64 ck, __u64 any)
{
	struct xl4_gvbits v;
	int e = xl4_gvbits_map(&v, bpf_map__fd(w->eng.skel->maps.xl4_gvbit_v1), -1);

	if (!e) {
		for (__u32 i = 0; i < v.words; i++)
			v.w[i] = i < v.words / 2 ? ck : any;
		xl4_gvbits_unmap(&v);
	}
	if (e && fx_selected(name)) {
		fx_fail(name, true, "cannot write xl4_gvbit_v1: %s", strerror(-e));
		fx_count(name, false);
	}
	return !e;
}

/* Is client c's next SYN (port sport) let through as verified (1), or challenged or dropped
 * by First Drop (0), at the level in force? -1: no counter moved as one of those (a failed run). */
static int syn_verified(struct gworld *w, uint32_t c, uint16_t sport)
{
	struct xl4_guard_stats a, b;
	struct pkt p;

	stats_sum(w, &a);
	mkpkt(w, &p, c, sport, TH_SYN, 0, 0, 300);
	if (xl4_run_packet(&w->eng, p.b, p.len, last.b, sizeof(last.b), &last.r))
		return -1;
	stats_sum(w, &b);
	if (b.verified_pass == a.verified_pass + 1 && b.chal_sent == a.chal_sent &&
	    b.fd_dropped == a.fd_dropped)
		return 1;
	if (b.verified_pass == a.verified_pass &&
	    b.chal_sent + b.fd_dropped + b.fd_early == a.chal_sent + a.fd_dropped + a.fd_early + 1)
		return 0;
	return -1;
}

static void check_syn_verified(struct gworld *w, const char *name, uint32_t c, uint16_t sport,
			       int want)
{
	check_u64(name, "verified pass (1) or challenged (0)", (uint64_t)syn_verified(w, c, sport),
		  (uint64_t)want);
}

/*
 * The verified sources' bits (xl4_gvbit_v1) only let a SYN skip the tables' lookups; they
 * never verify anyone. Saturated, a source no table holds is still challenged; cleared, a
 * proven tuple is asked again (the bits are what the datapath reads first); rebuilt by the
 * loader's code from the tables, that tuple passes again (user space and the datapath hash a
 * key to the same bit). A cookie proof admits one SYN of the tuple (the source and its port)
 * it was made for, once: each check below that passes proves its tuple first.
 */
static void sc_vbits(int v6)
{
	struct gworld w;
	char n[128];
	int e;

	snprintf(n, sizeof(n), "guard/%s/vbits/setup", v6 ? "v6" : "v4");
	if (!world_open(&w, v6, n))
		return;
	ctl_write(&w, XL4_GUARD_OV_ON, XL4_GUARD_CHALLENGE);
	answer_challenge(&w, 1, 45001);
	NAME(n, &w, "vbits/cookie-proven");
	check_u64(n, "verified by", verified_by(&w, 1), 2);
	NAME(n, &w, "vbits/proven-tuple-passes");
	check_syn_verified(&w, n, 1, 45001, 1);
	NAME(n, &w, "vbits/proof-spent-by-its-syn");
	check_syn_verified(&w, n, 1, 45001, 0);
	NAME(n, &w, "vbits/proof-is-the-ports-alone");
	answer_challenge(&w, 1, 45002);
	check_syn_verified(&w, n, 1, 45003, 0);
	NAME(n, &w, "vbits/unproven-source-challenged");
	check_syn_verified(&w, n, 2, 45003, 0);

	NAME(n, &w, "vbits/saturated"); /* an unproven source */
	if (vbits_set_all(&w, n, ~0ull)) {
		check_syn_verified(&w, n, 3, 45004, 0);
		NAME(n, &w, "vbits/saturated-proven-still-passes");
		answer_challenge(&w, 1, 45005);
		check_syn_verified(&w, n, 1, 45005, 1);
	}
	NAME(n, &w, "vbits/cleared"); /* a proven tuple, its bit clear */
	answer_challenge(&w, 1, 45006);
	if (vbits_set_all(&w, n, 0))
		check_syn_verified(&w, n, 1, 45006, 0);

	NAME(n, &w, "vbits/rebuilt");
	e = xl4_guard_vbits_rebuild(bpf_map__fd(w.eng.skel->maps.xl4_gvbit_v1), w.eng.guard.ver,
				    w.eng.guard.verc);
	check_u64(n, "entries read from the verified tables", e < 0 ? 0 : (uint64_t)e,
		  (uint64_t)(table_count(w.verc_fd) + table_count(w.ver_fd)));
	NAME(n, &w, "vbits/rebuilt-proven-passes");
	check_syn_verified(&w, n, 1, 45006, 1);

	/* The challenge reads only the cookie proofs' half: First Drop's, full (what an attack
	 * repeating spoofed SYNs at First Drop leaves), neither costs it a lookup nor stands in
	 * for the cookie half, and the cookie half alone lets the proven tuple through. */
	answer_challenge(&w, 1, 45008);
	NAME(n, &w, "vbits/challenge-reads-the-cookie-half");
	if (vbits_set_halves(&w, n, 0, ~0ull))
		check_syn_verified(&w, n, 1, 45008, 0);
	NAME(n, &w, "vbits/cookie-half-alone-suffices");
	if (vbits_set_halves(&w, n, ~0ull, 0))
		check_syn_verified(&w, n, 1, 45008, 1);

	/* First Drop reads the "either" half for its own proofs (the source's: one read for a
	 * flood's SYN) and the cookies' half for a cookie proof. */
	ctl_write(&w, XL4_GUARD_OV_ON, XL4_GUARD_FIRST_DROP);
	answer_challenge_at(&w, 1, 45011);
	NAME(n, &w, "vbits/first-drop-cookie-proof-needs-the-cookie-half");
	if (vbits_set_halves(&w, n, 0, ~0ull))
		check_syn_verified(&w, n, 1, 45011, 0);
	NAME(n, &w, "vbits/first-drop-cookie-proof-passes");
	if (vbits_set_halves(&w, n, ~0ull, 0))
		check_syn_verified(&w, n, 1, 45011, 1);
	NAME(n, &w, "vbits/first-drop-proof-setup");
	if (!first_drop_prove(&w, n, 4))
		goto done;
	NAME(n, &w, "vbits/first-drop-reads-the-any-half");
	if (vbits_set_halves(&w, n, ~0ull, 0))
		check_syn_verified(&w, n, 4, 45012, 0);
	NAME(n, &w, "vbits/first-drop-proof-passes");
	if (vbits_set_halves(&w, n, 0, ~0ull))
		check_syn_verified(&w, n, 4, 45013, 1);
	/* user space's rebuild sets the "either" half where the datapath reads it */
	NAME(n, &w, "vbits/first-drop-rebuilt-passes");
	if (vbits_set_all(&w, n, 0)) {
		e = xl4_guard_vbits_rebuild(bpf_map__fd(w.eng.skel->maps.xl4_gvbit_v1), w.eng.guard.ver,
					    w.eng.guard.verc);
		check_u64(n, "entries read from the verified tables", e < 0 ? 0 : (uint64_t)e,
			  (uint64_t)(table_count(w.verc_fd) + table_count(w.ver_fd)));
		check_syn_verified(&w, n, 4, 45014, 1);
	}
done:
	world_close(&w);
}

/*
 * A new program loaded over the pins of one that verified a source (a daemon restart with a new
 * build): its bits start clear, and the loader rebuilds them from the pinned tables, so the
 * source still passes at the challenge level without proving itself again. Pins in a
 * directory of its own under /sys/fs/bpf, removed at the end.
 */
static void sc_vbits_restart(int v6)
{
	char n[128], pins[64];
	struct gworld w;

	snprintf(pins, sizeof(pins), "/sys/fs/bpf/xl4-fx-vbits-%d", (int)getpid());
	snprintf(n, sizeof(n), "guard/%s/vbits-restart/setup", v6 ? "v6" : "v4");
	g_pin_path = pins;
	if (!world_open(&w, v6, n))
		goto out;
	ctl_write(&w, XL4_GUARD_OV_ON, XL4_GUARD_CHALLENGE);
	answer_challenge(&w, 1, 46001);
	NAME(n, &w, "vbits-restart/cookie-proven");
	check_u64(n, "verified by", verified_by(&w, 1), 2);
	world_close(&w);
	snprintf(n, sizeof(n), "guard/%s/vbits-restart/reload", v6 ? "v6" : "v4");
	if (!world_open(&w, v6, n))
		goto out;
	ctl_write(&w, XL4_GUARD_OV_ON, XL4_GUARD_CHALLENGE);
	NAME(n, &w, "vbits-restart/proven-tuple-passes-after-reload");
	check_syn_verified(&w, n, 1, 46001, 1);
	NAME(n, &w, "vbits-restart/unproven-source-challenged");
	check_syn_verified(&w, n, 2, 46003, 0);
	world_close(&w);
out:
	g_pin_path = NULL;
	xl4_unpin_all(pins);
}

static uint64_t sim_rand(uint64_t *s)
{
	*s ^= *s << 13, *s ^= *s >> 7, *s ^= *s << 17;
	return *s;
}

/* A real client: its next SYN is due at `due` (0: done), tries so far, admitted or not. */
struct sim_client {
	uint64_t due;
	uint32_t seq;
	int tries, admitted;
};

/*
 * A spoofed SYN flood of `mpps` million SYNs per second at the default greylist size (run at
 * 1/1024 of the rate against 1/1024 of the slots: the same turnover per slot) for 6 s (12 s
 * with 3 s timers), and SIM_CLIENTS real clients arriving over 0.5..2.5 s, each retransmitting
 * its SYN after rto_ms and again after 2 * rto_ms (and answering a challenge with its RST, as
 * every stack does). Returns how many got in (forwarded to the backend) by their second
 * retransmission, and *level the VIP's level at the end.
 */
static int sim_flood(double mpps, uint32_t rto_ms, uint32_t fd_cap, uint32_t *level)
{
	static struct sim_client cl[SIM_CLIENTS];
	double rate = mpps * 1e6 / SIM_SCALE; /* SYN/s here */
	uint64_t seed = 0x9e3779b97f4a7c15ull, t0, end, step = MS_NS, flood_acc = 0;
	struct gworld w;
	struct xl4_guard_vip v;
	struct pkt p;
	int in = 0;

	g_grey_slots = SIM_SLOTS;
	if (!world_open(&w, 0, "guard/v4/first-drop-rate/setup")) {
		g_grey_slots = 0;
		return -1;
	}
	g_grey_slots = 0;
	w.cfg.response = XL4_GUARD_RESP_AUTO;
	w.cfg.fd_cap = fd_cap;
	w.cfg.escalate_ms = 250;
	w.cfg.syn_min = 10; /* guard.syn_rate scaled like the flood */
	cfg_write(&w);
	t0 = w.now;
	end = t0 + (uint64_t)(rto_ms >= 3000 ? 12 : 6) * SEC_NS; /* the last client's 2nd retry */
	for (int i = 0; i < SIM_CLIENTS; i++) {
		cl[i].due = t0 + SEC_NS / 2 + (uint64_t)i * (2 * SEC_NS / SIM_CLIENTS);
		cl[i].seq = 7000 + i;
		cl[i].tries = 0;
		cl[i].admitted = 0;
	}
	for (uint64_t now = t0; now < end; now += step) {
		clock_set(&w, now);
		/* this millisecond's flood SYNs: random sources, ports and sequence numbers */
		flood_acc += (uint64_t)(rate * 1000); /* in 1/1e6 SYN per ms */
		for (; flood_acc >= 1000000; flood_acc -= 1000000) {
			uint64_t r = sim_rand(&seed);

			LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = p.b, .repeat = 1);

			mkpkt(&w, &p, 1000 + (uint32_t)(r % 59000), 1024 + (uint16_t)(r >> 20) % 60000,
			      TH_SYN, 0, 0, (uint32_t)(r >> 32));
			o.data_size_in = p.len; /* a plain run: the verdict of a flood SYN is not asked */
			bpf_prog_test_run_opts(w.eng.prog_fd, &o);
		}
		for (int i = 0; i < SIM_CLIENTS; i++) {
			struct sim_client *c = &cl[i];
			uint32_t ck;

			if (!c->due || c->due > now)
				continue;
			mkpkt(&w, &p, 60001 + i % 4000, 20000 + i, TH_SYN, 0, 0, c->seq);
			ck = cookie_model(&w, 60001 + i % 4000, 20000 + i, now);
			if (xl4_run_packet(&w.eng, p.b, p.len, last.b, sizeof(last.b), &last.r))
				break;
			c->tries++;
			if (last.r.verdict == XDP_TX && !memcmp(last.b, MAC_BE, 6)) {
				c->admitted = 1;
				c->due = 0;
				in++;
				/* its handshake completes: the ACK the backend's SYN-ACK asks for */
				mkpkt(&w, &p, 60001 + i % 4000, 20000 + i, TH_ACK, 0, 0, c->seq + 1);
				xl4_run_packet(&w.eng, p.b, p.len, last.b, sizeof(last.b), &last.r);
				continue;
			}
			if (last.r.verdict == XDP_TX) { /* our challenge: the client's RST answers it */
				mkpkt(&w, &p, 60001 + i % 4000, 20000 + i, TH_RST, 0, 0, ck);
				xl4_run_packet(&w.eng, p.b, p.len, last.b, sizeof(last.b), &last.r);
			}
			c->due = c->tries >= 3 ? 0 : now + (uint64_t)rto_ms * MS_NS * (c->tries == 1 ? 1 : 2);
		}
	}
	vip_state(&w, &v);
	*level = v.level;
	world_close(&w);
	return in;
}

/* Real clients get in at any flood rate: First Drop while its greylist holds a retransmission,
 * the challenge (escalated for greylist overrun) beyond. And without the overrun escalation,
 * what the issue measured: First Drop alone loses them at high rates. */
static void sc_first_drop_rates(void)
{
	static const double rates[] = { 0.05, 0.2, 1, 2, 5 }; /* 0.05: under the greylist's hold */
	static const uint32_t rtos[] = { 1000, 3000 };
	struct xl4_guard_cfg k;
	struct xl4_config c;
	uint32_t level, cap;
	char n[128];
	int in;

	if (!fx_selected("guard/v4/first-drop-rate"))
		return;
	/* the production capacity for these slots and the default hold_ms (3 s) */
	xl4_config_defaults(&c);
	xl4_guard_cfg_build(&c.guard, SIM_SLOTS, 1 << 16, &k);
	cap = k.fd_cap;
	for (size_t r = 0; r < sizeof(rates) / sizeof(rates[0]); r++) {
		for (size_t t = 0; t < sizeof(rtos) / sizeof(rtos[0]); t++) {
			snprintf(n, sizeof(n), "guard/v4/first-drop-rate/%gMpps/rto-%us", rates[r],
				 rtos[t] / 1000);
			in = sim_flood(rates[r], rtos[t], cap, &level);
			printf("    %s: %d/%d real clients in, level %s at the end (greylist holds %u SYNs "
			       "per window)\n", n, in, SIM_CLIENTS, level == XL4_GUARD_CHALLENGE ? "challenge" :
			       level == XL4_GUARD_FIRST_DROP ? "first-drop" : "normal", cap);
			check_u64(n, "real clients in >= 99%", in * 100 >= SIM_CLIENTS * 99, 1);
			snprintf(n, sizeof(n), "guard/v4/first-drop-rate/%gMpps/rto-%us/level", rates[r],
				 rtos[t] / 1000);
			/* First Drop while its greylist holds (it costs real clients no round trip
			 * on their own stack's terms), the challenge beyond */
			check_u64(n, "level", level, rates[r] * 1e6 * (3000 / 1000.0) < 0.205 * 1048576 ?
				  XL4_GUARD_FIRST_DROP : XL4_GUARD_CHALLENGE);
		}
	}
	/* the attack the escalation answers: First Drop alone at 5 Mpps */
	in = sim_flood(5, 1000, 0, &level);
	snprintf(n, sizeof(n), "guard/v4/first-drop-rate/without-overrun-escalation-5Mpps-loses-clients");
	printf("    %s: %d/%d real clients in\n", n, in, SIM_CLIENTS);
	check_u64(n, "real clients in < 99% with First Drop alone", in >= 0 && in * 100 < SIM_CLIENTS * 99, 1);
}

/* The kernel's own judgement: enter after enter_ms of attack windows, stay while they
 * continue, leave leave_ms after the last one. A flash crowd with complete handshakes at the
 * same SYN rate never enters. Auto response: First Drop beaten escalates to the challenge. */
static void sc_hysteresis(int v6)
{
	struct gworld w;
	struct xl4_guard_vip v;
	struct xl4_guard_stats t;
	uint64_t b0;
	uint32_t src = 1000;
	int fwd;
	char n[128];

	snprintf(n, sizeof(n), "guard/%s/hysteresis/setup", v6 ? "v6" : "v4");
	if (!world_open(&w, v6, n))
		return;
	/* flash crowd: 150 complete handshakes per step (~560/s) for 3 s */
	b0 = w.now;
	for (int i = 0; i < 12; i++) {
		clock_set(&w, b0 + i * STEP_NS);
		burst(&w, src, 150, 1);
		src += 150;
	}
	vip_state(&w, &v);
	NAME(n, &w, "hysteresis/flash-crowd-stays-normal");
	check_u64(n, "entered_ns", v.entered_ns, 0);

	/* attack: 150 SYNs per step, no ACKs; the window is judged at each step (a new bucket) */
	b0 = w.now + 10 * STEP_NS;
	clock_set(&w, b0);
	burst(&w, src, 150, 0), src += 150; /* step 0 */
	clock_set(&w, b0 + STEP_NS);	      /* judged: attack (bad_since) */
	burst(&w, src, 150, 0), src += 150;
	clock_set(&w, b0 + 2 * STEP_NS);      /* 268 ms of attack windows: not yet */
	fwd = burst(&w, src, 150, 0), src += 150;
	vip_state(&w, &v);
	NAME(n, &w, "hysteresis/not-before-enter-time");
	check_u64(n, "entered_ns", v.entered_ns, 0);
	NAME(n, &w, "hysteresis/forwarding-before-enter");
	check_u64(n, "SYNs forwarded", fwd, 150);
	clock_set(&w, b0 + 3 * STEP_NS); /* 536 ms >= enter_ms: emergency */
	fwd = burst(&w, src, 150, 0), src += 150;
	vip_state(&w, &v);
	NAME(n, &w, "hysteresis/entered");
	check_u64(n, "entered_ns", v.entered_ns, b0 + 3 * STEP_NS);
	NAME(n, &w, "hysteresis/entered-level");
	check_u64(n, "level", v.level, XL4_GUARD_FIRST_DROP);
	NAME(n, &w, "hysteresis/entered-cause");
	check_u64(n, "cause", v.cause, XL4_GUARD_CAUSE_RATIO);
	/* the window that tripped it: the three steps of 150 SYNs before this one, counted once
	 * (this CPU's window, summed with every other CPU's slot: none here) */
	NAME(n, &w, "hysteresis/entered-window");
	check_u64(n, "win_syn", v.win_syn, 450);
	NAME(n, &w, "hysteresis/emergency-drops-new-sources");
	check_u64(n, "SYNs forwarded", fwd, 0);

	/* the attack stops; 4.9 s after the last attack window still in emergency, 5.1 s out */
	uint64_t last_bad = b0 + 3 * STEP_NS;

	clock_set(&w, last_bad + 4900 * MS_NS);
	fwd = burst(&w, 90000, 1, 0);
	NAME(n, &w, "hysteresis/still-emergency-before-leave");
	check_u64(n, "SYNs forwarded", fwd, 0);
	vip_state(&w, &v);
	NAME(n, &w, "hysteresis/last-bad-is-last-attack-window");
	check_u64(n, "last_bad_ns", v.last_bad_ns, last_bad);
	clock_set(&w, last_bad + 5100 * MS_NS);
	fwd = burst(&w, 90001, 1, 0);
	NAME(n, &w, "hysteresis/left-after-leave-time");
	check_u64(n, "SYNs forwarded", fwd, 1);
	vip_state(&w, &v);
	NAME(n, &w, "hysteresis/left-state-cleared");
	check_u64(n, "entered_ns", v.entered_ns, 0);

	/* Another CPU's judge read the clock a jiffy after this CPU did, and wrote that window's
	 * time before this CPU's SYN asks for the level: last_bad_ns is "in the future" here. It
	 * is the newest attack window, not one long past: an unsigned now - last_bad_ns wrapped,
	 * and the VIP left emergency mode in the middle of a flood (tests/e2e/test_guard_flood.sh
	 * (d), one run in 29: a tenth of a second of spoofed SYNs at the backends). */
	{
		struct xl4_guard_vip ahead = { 0 };

		ahead.entered_ns = XL4_GUARD_MODE(w.now, XL4_GUARD_FIRST_DROP, XL4_GUARD_CAUSE_RATIO);
		ahead.last_bad_ns = w.now + 4 * MS_NS; /* one tick of jiffies at HZ 250 */
		bpf_map_update_elem(w.vip_fd, &w.vip_id, &ahead, BPF_ANY);
		fwd = burst(&w, 90002, 1, 0);
		NAME(n, &w, "hysteresis/last-bad-ahead-of-this-cpu-stays");
		check_u64(n, "SYNs forwarded", fwd, 0);
		vip_state(&w, &v);
		NAME(n, &w, "hysteresis/last-bad-ahead-of-this-cpu-mode-kept");
		check_u64(n, "entered_ns (decoded: the time alone)", v.entered_ns,
			  ahead.entered_ns & ~31ull);
		NAME(n, &w, "hysteresis/last-bad-ahead-of-this-cpu-level-kept");
		check_u64(n, "level", v.level, XL4_GUARD_FIRST_DROP);
		memset(&ahead, 0, sizeof(ahead)); /* normal again for what follows */
		bpf_map_update_elem(w.vip_fd, &w.vip_id, &ahead, BPF_ANY);
	}

	/* escalation (auto): enter again, then admitted SYNs that never complete */
	w.cfg.response = XL4_GUARD_RESP_AUTO;
	cfg_write(&w);
	b0 = w.now + 40 * STEP_NS;
	for (int i = 0; i < 4; i++) {
		clock_set(&w, b0 + i * STEP_NS);
		burst(&w, src, 150, 0), src += 150;
	}
	vip_state(&w, &v);
	NAME(n, &w, "hysteresis/auto/entered-first-drop");
	check_u64(n, "level", v.level, XL4_GUARD_FIRST_DROP);
	/* an attacker repeating each SYN 1 s later: First Drop admits them all */
	uint32_t first = src;

	for (int i = 4; i < 12; i++) {
		clock_set(&w, b0 + i * STEP_NS);
		burst(&w, i < 8 ? src : first + (i - 8) * 150, 150, 0);
		if (i < 8)
			src += 150;
	}
	vip_state(&w, &v);
	NAME(n, &w, "hysteresis/auto/escalated-to-challenge");
	check_u64(n, "level", v.level, XL4_GUARD_CHALLENGE);
	NAME(n, &w, "hysteresis/auto/escalated-cause");
	check_u64(n, "cause", v.cause, XL4_GUARD_CAUSE_ESCALATED);
	stats_sum(&w, &t);
	NAME(n, &w, "hysteresis/auto/first-drop-was-beaten");
	check_u64(n, "fd_admitted >= 300", t.fd_admitted >= 300, 1);
	NAME(n, &w, "hysteresis/counts-emergencies");
	check_u64(n, "emergencies", t.emergencies, 2);
	world_close(&w);
}

/*
 * How soon the kernel acts (docs/guard.md, "Windows and hysteresis"): a flood that starts
 * anywhere in a bucket is in emergency mode no sooner than enter_ms after its first SYN and
 * no later than enter_ms + 135 ms (the first window judged, up to a bucket after the flood's
 * start, plus enter_ms rounded up to the next bucket edge). With 268 ms buckets this took
 * up to enter_ms + 536 ms: 804 ms for enter_ms = 300. One world per enter_ms; the flood
 * starts at the start, the middle and the last tick of a bucket, 200 SYNs every 8 ms.
 */
static void sc_enter_time(int v6)
{
	static const uint32_t enter_ms[] = { 300, 500 };
	static const uint64_t offset[] = { 0, BUCKET_NS / 2, BUCKET_NS - 4 * MS_NS };
	const uint64_t slack = 135 * MS_NS, step = 8 * MS_NS;
	struct gworld w;
	struct xl4_guard_vip v;
	uint32_t src = 100000;
	char n[160];

	for (unsigned e = 0; e < sizeof(enter_ms) / sizeof(enter_ms[0]); e++) {
		snprintf(n, sizeof(n), "guard/%s/enter-time/%ums/setup", v6 ? "v6" : "v4", enter_ms[e]);
		if (!world_open(&w, v6, n))
			return;
		w.cfg.enter_ms = enter_ms[e];
		cfg_write(&w);
		for (unsigned o = 0; o < sizeof(offset) / sizeof(offset[0]); o++) {
			/* quiet well past leave_ms and a window: normal again, no run of bad windows */
			uint64_t start = ((w.now + 10 * SEC_NS) & ~(BUCKET_NS - 1)) + offset[o];

			clock_set(&w, start - 2 * SEC_NS);
			burst(&w, 90000 + o, 1, 1);
			vip_state(&w, &v);
			snprintf(n, sizeof(n), "guard/%s/enter-time/%ums/at-%llums-into-a-bucket/normal-before",
				 v6 ? "v6" : "v4", enter_ms[e], (unsigned long long)(offset[o] / MS_NS));
			check_u64(n, "entered_ns", v.entered_ns, 0);
			for (uint64_t t = start; t <= start + enter_ms[e] * MS_NS + 4 * slack; t += step) {
				clock_set(&w, t);
				burst(&w, src, 200, 0), src += 200;
				vip_state(&w, &v);
				if (v.entered_ns)
					break;
			}
			snprintf(n, sizeof(n), "guard/%s/enter-time/%ums/at-%llums-into-a-bucket",
				 v6 ? "v6" : "v4", enter_ms[e], (unsigned long long)(offset[o] / MS_NS));
			printf("    %s: emergency %.0f ms after the flood's first SYN\n", n,
			       v.entered_ns ? (double)((v.entered_ns & ~31ull) - start) / 1e6 : -1.0);
			check_u64(n, "entered", v.entered_ns != 0, 1);
			check_u64(n, "not before enter_ms", v.entered_ns >= start + enter_ms[e] * MS_NS, 1);
			check_u64(n, "within enter_ms + 135 ms",
				  v.entered_ns <= start + enter_ms[e] * MS_NS + slack, 1);
		}
		world_close(&w);
	}
}

/* A world whose guard has surges of surge_min SYNs a window (guard.surge_rate's count). */
static bool surge_world_open(struct gworld *w, int v6, const char *name, uint32_t surge_min)
{
	if (!world_open(w, v6, name))
		return false;
	w->cfg.surge_min = surge_min;
	cfg_write(w);
	return true;
}

/*
 * guard.surge_rate: the enter-time flood (200 SYNs every 8 ms, 25k SYN/s) against a surge_min
 * it reaches within a bucket enters emergency mode at the first window judged after that, long
 * before enter_ms (500), with the cause "surge"; against one it never reaches it waits
 * enter_ms as before; and the same rate with every handshake completing is no attack at all,
 * surge or not.
 */
static void sc_surge(int v6)
{
	static const struct {
		const char *name;
		uint32_t surge_min;
		int acks;
	} cases[] = {
		{ "flood-over-surge-enters-at-once", 2000, 0 },
		{ "flood-under-surge-waits-enter-ms", 1000000, 0 },
		{ "completing-handshakes-over-surge-stay-normal", 2000, 1 },
	};
	const uint64_t step = 8 * MS_NS, enter = 500 * MS_NS;
	struct xl4_guard_vip v;
	struct gworld w;
	uint32_t src = 300000;
	char n[160];

	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t start, t;

		snprintf(n, sizeof(n), "guard/%s/surge/%s", v6 ? "v6" : "v4", cases[i].name);
		if (!surge_world_open(&w, v6, n, cases[i].surge_min))
			return;
		start = ((w.now + 10 * SEC_NS) & ~(BUCKET_NS - 1)) + BUCKET_NS / 2;
		for (t = start; t <= start + enter + 4 * BUCKET_NS; t += step) {
			clock_set(&w, t);
			burst(&w, src, 200, cases[i].acks), src += 200;
			vip_state(&w, &v);
			if (v.entered_ns)
				break;
		}
		if (cases[i].acks) {
			check_u64(n, "still normal", v.entered_ns, 0);
		} else if (cases[i].surge_min <= 2000) {
			printf("    %s: emergency %.0f ms after the flood's first SYN\n", n,
			       v.entered_ns ? (double)((v.entered_ns & ~31ull) - start) / 1e6 : -1.0);
			/* 2000 SYNs by the 10th step (80 ms), judged at the next bucket edge */
			check_u64(n, "entered within 80 ms and a bucket",
				  v.entered_ns && v.entered_ns <= start + 80 * MS_NS + BUCKET_NS, 1);
			check_u64(n, "cause surge", v.cause,
				  XL4_GUARD_CAUSE_SURGE);
			check_u64(n, "level First Drop", v.level,
				  XL4_GUARD_FIRST_DROP);
		} else {
			check_u64(n, "not before enter_ms", v.entered_ns >= start + enter, 1);
			check_u64(n, "cause ratio", v.cause,
				  XL4_GUARD_CAUSE_RATIO);
		}
		world_close(&w);
	}
}

/*
 * The surge cap, inside one bucket (no window judged, the VIP normal): with surge_min 2000 (a
 * window's count) a CPU passes XL4_GUARD_SURGE_BURST SYNs and then 2000 per 2^30 ns of the
 * bucket straight on; past that a SYN whose bucket shows too few completed handshakes meets
 * First Drop, and its retransmission is admitted. SYNs whose handshakes complete pass at any
 * count.
 */
static void sc_surge_cap(int v6)
{
	struct xl4_guard_vip v;
	struct gworld w;
	struct pkt p;
	uint64_t t0;
	char n[160];
	int fwd;

	snprintf(n, sizeof(n), "guard/%s/surge-cap/setup", v6 ? "v6" : "v4");
	if (!surge_world_open(&w, v6, n, 2000))
		return;
	t0 = ((w.now + 10 * SEC_NS) & ~(BUCKET_NS - 1)) + 10 * MS_NS;
	clock_set(&w, t0);
	NAME(n, &w, "surge-cap/handshakes-completing-pass");
	fwd = burst(&w, 500000, 400, 1);
	check_u64(n, "SYNs forwarded", (uint64_t)fwd, 400);
	/* the next bucket: SYNs whose handshakes are still under way (a round trip can span a
	 * bucket's edge) are credited with the bucket before's */
	clock_set(&w, t0 + BUCKET_NS);
	NAME(n, &w, "surge-cap/previous-bucket-handshakes-credit");
	fwd = burst(&w, 550000, 400, 0);
	check_u64(n, "SYNs forwarded", (uint64_t)fwd, 400);
	/* two buckets on (the bucket before holds no handshakes): a flood in this bucket */
	clock_set(&w, t0 + 3 * BUCKET_NS);
	NAME(n, &w, "surge-cap/flood-past-the-cap-first-dropped");
	fwd = burst(&w, 600000, 400, 0);
	/* 10 ms into the bucket: XL4_GUARD_SURGE_BURST + 2000 * 10 ms / 2^30 ns = 32 + 18 */
	check_u64(n, "SYNs forwarded (the cap 10 ms in)", (uint64_t)fwd, 50);
	vip_state(&w, &v);
	check_u64(n, "still normal", v.entered_ns, 0);
	mkpkt(&w, &p, 600000 + 399, 30000 + 399, TH_SYN, 0, 0, 1000);
	NAME(n, &w, "surge-cap/capped-syn-dropped-by-first-drop");
	run(&w, n, &p, XDP_DROP, XL4_R_GUARD_SYN_EARLY);
	/* its retransmission in a later bucket the flood has filled past the cap again */
	clock_set(&w, t0 + 3 * BUCKET_NS + 600 * MS_NS);
	burst(&w, 700000, 200, 0);
	vip_state(&w, &v);
	NAME(n, &w, "surge-cap/capped-syn-retransmitted-admitted");
	check_u64(n, "normal", v.entered_ns, 0);
	run(&w, n, &p, XDP_TX, XL4_R_NONE);
	world_close(&w);

	/* SYNs that arrive no faster than surge_rate pass, past the burst: 50 ms into a bucket
	 * the cap is 32 + 2000 * 50 ms / 2^30 ns = 125 */
	snprintf(n, sizeof(n), "guard/%s/surge-cap/setup-2", v6 ? "v6" : "v4");
	if (!surge_world_open(&w, v6, n, 2000))
		return;
	clock_set(&w, ((w.now + 10 * SEC_NS) & ~(BUCKET_NS - 1)) + 50 * MS_NS);
	NAME(n, &w, "surge-cap/cap-grows-at-surge-rate");
	fwd = burst(&w, 800000, 100, 0);
	check_u64(n, "SYNs forwarded (100 of a cap of 125)", (uint64_t)fwd, 100);
	fwd = burst(&w, 810000, 100, 0);
	check_u64(n, "then up to the cap", (uint64_t)fwd, 25);
	/* forced off by the operator: no cap either */
	ctl_write(&w, XL4_GUARD_OV_OFF, 0);
	NAME(n, &w, "surge-cap/forced-off-not-capped");
	fwd = burst(&w, 820000, 100, 0);
	check_u64(n, "SYNs forwarded", (uint64_t)fwd, 100);
	world_close(&w);
}

/*
 * The admission cap (auto): a flood that repeats every SYN 0.6 s later. Its first round is
 * capped, greylisted and (a surge) enters First Drop; its repeats are what First Drop admits.
 * Past the surge's pace in a bucket, from many sources, with no cookie-proven handshake
 * completing, a SYN First Drop would admit gets the challenge instead; the VIP stays at First
 * Drop (the judge escalates, later). The same from one host, or with response "first-drop",
 * is admitted as before.
 */
static void sc_admit_cap(int v6)
{
	static const struct {
		const char *name;
		uint32_t response;
		int one_host;
		int challenged;
	} cases[] = {
		{ "many-sources-past-the-pace-challenged", XL4_GUARD_RESP_AUTO, 0, 1 },
		{ "one-host-past-the-pace-admitted", XL4_GUARD_RESP_AUTO, 1, 0 },
		{ "response-first-drop-admitted", XL4_GUARD_RESP_FIRST_DROP, 0, 0 },
	};
	struct xl4_guard_stats before, after;
	struct xl4_guard_vip v;
	struct gworld w;
	uint64_t t0;
	char n[160];

	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(n, sizeof(n), "guard/%s/admit-cap/%s", v6 ? "v6" : "v4", cases[i].name);
		if (!surge_world_open(&w, v6, n, 2000))
			return;
		w.cfg.response = cases[i].response;
		cfg_write(&w);
		t0 = ((w.now + 10 * SEC_NS) & ~(BUCKET_NS - 1)) + 10 * MS_NS;
		clock_set(&w, t0);
		if (cases[i].one_host)
			burst_one_host(&w, 2400, 1024, 5000);
		else
			burst(&w, 900000, 2400, 0);
		/* the next bucket's first SYN has the window judged: a surge */
		clock_set(&w, t0 + BUCKET_NS);
		burst(&w, 990000, 1, 0);
		vip_state(&w, &v);
		check_u64(n, "entered First Drop", v.level, XL4_GUARD_FIRST_DROP);
		/* the repeats, 0.6 s later, 10 ms into a bucket */
		clock_set(&w, ((t0 + 600 * MS_NS) & ~(BUCKET_NS - 1)) + 10 * MS_NS);
		stats_sum(&w, &before);
		if (cases[i].one_host)
			burst_one_host(&w, 2400, 1024, 5000);
		else
			burst(&w, 900000, 2400, 0);
		stats_sum(&w, &after);
		check_u64(n, "admitted", after.fd_admitted > before.fd_admitted, 1);
		check_u64(n, "challenged", after.chal_sent > before.chal_sent,
			  (uint64_t)cases[i].challenged);
		/* each SYN has one outcome: a capped admission is a challenge, not both */
		check_u64(n, "outcomes of the 2400 SYNs",
			  (after.fd_admitted - before.fd_admitted) + (after.verified_pass - before.verified_pass) +
				  (after.chal_sent - before.chal_sent) + (after.chal_budget - before.chal_budget) +
				  (after.fd_dropped - before.fd_dropped) + (after.fd_early - before.fd_early),
			  2400);
		vip_state(&w, &v);
		check_u64(n, "still First Drop", v.level, XL4_GUARD_FIRST_DROP);
		world_close(&w);
	}
}

/* Publish a window in another CPU's slot of xl4_gwin_v1, ending `age` buckets before now's, as
 * that CPU would (the slot after the pinned CPU's: the judge overwrites its own). */
static int win_publish(struct gworld *w, uint32_t syn, uint32_t adm, uint64_t age)
{
	static struct xl4_guard_wins all;
	int fd = bpf_map__fd(w->eng.skel->maps.xl4_gwin_v1), cpu = sched_getcpu();
	struct xl4_guard_win *o;

	if (bpf_map_lookup_elem(fd, &w->vip_id, &all))
		return -errno;
	o = &all.cpu[(cpu < 0 ? 1 : cpu + 1) & (XL4_GUARD_WIN_CPUS - 1)];
	memset(o, 0, sizeof(*o));
	o->bucket = (w->now >> XL4_GUARD_BUCKET_SHIFT) - age;
	o->syn = syn;
	o->adm = adm;
	return bpf_map_update_elem(fd, &w->vip_id, &all, BPF_ANY) ? -errno : 0;
}

/*
 * The slots are summed without locks, so a judge can read a slot's adm after its CPU updated
 * it and its syn before: admitted SYNs above SYNs. That is no greylist overrun (syn - adm must
 * not wrap): in First Drop under auto it must not escalate. fd_cap 1000 is above the window's
 * real SYNs; adm 40 is under syn_min, so only the overrun test could fire.
 */
static void sc_torn_window(int v6)
{
	struct gworld w;
	struct xl4_guard_vip v;
	uint64_t b0;
	int e = 0;
	char n[128];

	snprintf(n, sizeof(n), "guard/%s/torn-window/setup", v6 ? "v6" : "v4");
	if (!world_open(&w, v6, n))
		return;
	w.cfg.response = XL4_GUARD_RESP_AUTO;
	w.cfg.fd_cap = 1000;
	cfg_write(&w);
	/* 150 SYNs per step, no ACKs: First Drop at the fourth step */
	b0 = w.now;
	for (int i = 0; i < 4; i++) {
		clock_set(&w, b0 + i * STEP_NS);
		burst(&w, 1000 + i * 150, 150, 0);
	}
	vip_state(&w, &v);
	NAME(n, &w, "torn-window/entered-first-drop");
	check_u64(n, "level", v.level, XL4_GUARD_FIRST_DROP);
	/* 2 s in First Drop, one SYN per step, every window read torn */
	for (int i = 4; i < 12; i++) {
		clock_set(&w, b0 + i * STEP_NS);
		e = e ? e : win_publish(&w, 10, 40, 0);
		burst(&w, 90000 + i, 1, 0);
	}
	NAME(n, &w, "torn-window/published");
	check_u64(n, "xl4_gwin_v1 written (errno)", (uint64_t)-e, 0);
	vip_state(&w, &v);
	NAME(n, &w, "torn-window/first-drop-does-not-escalate");
	check_u64(n, "level", v.level, XL4_GUARD_FIRST_DROP);
	world_close(&w);
}

/*
 * Another CPU's published window counts in the VIP's totals while it ends at most
 * XL4_GUARD_WIN_FRESH buckets (268 ms) before the judge's: this CPU's own 10 SYNs are under
 * syn_min, so only the other CPU's 1000 can make the window an attack (last_bad_ns set).
 */
static void sc_window_freshness(int v6)
{
	static const uint64_t ages[] = { 1, XL4_GUARD_WIN_FRESH, XL4_GUARD_WIN_FRESH + 1, 40 };
	struct gworld w;
	struct xl4_guard_vip v;
	char n[128];
	int e;

	snprintf(n, sizeof(n), "guard/%s/window-freshness/setup", v6 ? "v6" : "v4");
	if (!world_open(&w, v6, n))
		return;
	for (unsigned i = 0; i < sizeof(ages) / sizeof(ages[0]); i++) {
		uint64_t b0 = ((w.now + 10 * SEC_NS) & ~(BUCKET_NS - 1));
		int fresh = ages[i] <= XL4_GUARD_WIN_FRESH;

		clock_set(&w, b0);
		burst(&w, 1000 + i * 10, 10, 0);
		clock_set(&w, b0 + BUCKET_NS); /* the next bucket: its first SYN judges */
		e = win_publish(&w, 1000, 0, ages[i]);
		burst(&w, 2000 + i, 1, 0);
		vip_state(&w, &v);
		snprintf(n, sizeof(n), "guard/%s/window-freshness/%llu-buckets-old-%s", v6 ? "v6" : "v4",
			 (unsigned long long)ages[i], fresh ? "counts" : "ignored");
		check_u64(n, "xl4_gwin_v1 written (errno)", (uint64_t)-e, 0);
		check_u64(n, "judged an attack window", v.last_bad_ns == w.now, fresh);
	}
	world_close(&w);
}

/* the reasons this suite's fixtures expect (guard_reason_expected); checked by the catalogue */
static const unsigned int suite_reasons[] = { XL4_R_GUARD_FIRST_DROP, XL4_R_GUARD_SYN_EARLY,
					      XL4_R_GUARD_CHALLENGE_BUDGET,
					      XL4_R_GUARD_CHALLENGE_ANSWERED };

bool guard_reason_expected(unsigned int reason)
{
	for (size_t i = 0; i < sizeof(suite_reasons) / sizeof(suite_reasons[0]); i++)
		if (suite_reasons[i] == reason)
			return true;
	return false;
}

/* A TCP packet to the VIP's port from one of 200 clients and 20 ports: mostly SYNs (a
 * client's SYN keeps its sequence number three times in four, so some are retransmissions),
 * with options, a payload (a SYN may carry data), a VLAN tag or an IPv6 destination-options
 * header at random; a third of them then damaged. */
static void rand_to_vip(const struct gworld *w, struct pkt *p, struct prng *r)
{
	static const uint8_t flags[] = { TH_SYN, TH_SYN, TH_SYN, TH_SYN, TH_SYN | TH_ECE | TH_CWR,
					 TH_ACK, TH_RST, TH_RST | TH_ACK, TH_SYN | TH_ACK, TH_FIN | TH_ACK };
	static const uint8_t opts[] = { 2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0,
					0, 1, 0, 0, 0, 0, 1, 3, 3, 7 };
	uint32_t client = 1 + prng_below(r, 200);
	uint16_t sport = 40000 + prng_below(r, 20);
	__be32 src[4];

	client_addr(w, client, src);
	pb_init(p);
	pb_eth(p, 0);
	if (!prng_below(r, 6))
		pb_vlan(p, ETH_P_8021Q, 42);
	if (w->v6) {
		struct pb_ip6 s = { .dst = VIP6 };

		memcpy(&s.src, src, 16);
		pb_ip6(p, &s);
		if (!prng_below(r, 6))
			pb_ext(p, IPPROTO_DSTOPTS, 8 * (1 + prng_below(r, 2)));
	} else {
		pb_ip4(p, &(struct pb_ip4){ .src = ntohl(src[0]), .dst = VIP4, .frag = IP4_DF });
	}
	pb_tcp(p, sport, VIP_PORT, flags[prng_below(r, sizeof(flags))]);
	if (prng_below(r, 2))
		pb_tcp_opts(p, opts, 4 * (1 + prng_below(r, 5)));
	if (!prng_below(r, 4))
		pb_payload(p, NULL, 1 + prng_below(r, 1000));
	pb_finish(p);
	pkt_set32(p, p->l4 + 4, prng_below(r, 4) ? client * 7919u + sport : (uint32_t)prng_u64(r));
	tcp_csum_fix(p, w->v6);
	if (!prng_below(r, 3))
		pr_mutate(p, r, ETH_HLEN);
}

/* What is wrong with a frame the guard sent back (or NULL), given the packet's parse u: the
 * SYN-ACK docs/guard.md gives (step 2) to a bare SYN to the VIP's port: MACs, addresses and
 * ports swapped, tags kept, IPv4 without options (DF, TTL 64) or IPv6 (hop limit 64), 20 bytes
 * of TCP (SYN|ACK, no options, window 1024, seq = the SYN's seq xor the cookie it acks),
 * checksums right, and never longer than the SYN. */
static const char *reply_wrong(const struct gworld *w, const struct fx_uparsed *u,
			       const struct pkt *in, const struct pkt *o)
{
	uint32_t l3 = u->l3, l4 = l3 + (w->v6 ? 40 : 20), alen = w->v6 ? 16 : 4;
	uint32_t src = l3 + (w->v6 ? 8 : 12), seq, ack;

	if (u->reason || u->proto != IPPROTO_TCP || !u->l4 || u->l4 + 20 > in->len ||
	    (u->tcp_flags & (TH_SYN | TH_ACK)) != TH_SYN || u->dport != VIP_PORT)
		return "an answer to something other than a bare SYN to the VIP's port";
	if (o->len != l4 + 20 || o->len > in->len)
		return "not 20 bytes of TCP behind the IP header, or longer than the SYN";
	if (memcmp(o->b, in->b + 6, 6) || memcmp(o->b + 6, in->b, 6) ||
	    memcmp(o->b + 12, in->b + 12, l3 - 12))
		return "MACs not swapped, or the tags not kept";
	if (memcmp(o->b + src, in->b + src + alen, alen) || memcmp(o->b + src + alen, in->b + src, alen))
		return "addresses not swapped";
	if (pkt_get16(o, l4) != u->dport || pkt_get16(o, l4 + 2) != u->sport)
		return "ports not swapped";
	if (o->b[l4 + 13] != (TH_SYN | TH_ACK) || o->b[l4 + 12] != 0x50 || pkt_get16(o, l4 + 14) != 1024)
		return "not a SYN-ACK without options and with window 1024";
	seq = (uint32_t)pkt_get16(o, l4 + 4) << 16 | pkt_get16(o, l4 + 6);
	ack = (uint32_t)pkt_get16(o, l4 + 8) << 16 | pkt_get16(o, l4 + 10);
	if ((seq ^ ack) != ((uint32_t)pkt_get16(in, u->l4 + 4) << 16 | pkt_get16(in, u->l4 + 6)))
		return "its sequence number is not the SYN's xor the cookie it acknowledges";
	if (!w->v6 && (o->b[l3] != 0x45 || pkt_get16(o, l3 + 2) != 40 || pkt_get16(o, l3 + 6) != 0x4000 ||
		       o->b[l3 + 8] != 64 || pb_csum(o->b + l3, 20, 0)))
		return "IPv4 header (version, length, DF, TTL, checksum)";
	if (w->v6 && (o->b[l3] >> 4 != 6 || pkt_get16(o, l3 + 4) != 20 || o->b[l3 + 6] != IPPROTO_TCP ||
		      o->b[l3 + 7] != 64))
		return "IPv6 header (version, payload length, next header, hop limit)";
	return tcp_csum(o, w->v6, l3, l4, 20) ? "TCP checksum" : NULL;
}

/* The sources (an IPv4 address, an IPv6 /64) a run has sent from: First Drop forwards no
 * source's first SYN. Open addressing over a fixed table; the runs send far fewer. */
#define RAND_SRCS 16384
static struct {
	uint32_t key[RAND_SRCS][3];
	bool used[RAND_SRCS];
} rand_srcs;

/* Was src seen before? Then remember it. */
static bool rand_src_seen(int v6, const uint32_t src[4])
{
	uint32_t k[3] = { src[0], v6 ? src[1] : 0, (uint32_t)v6 + 1 };
	uint32_t h = (k[0] * 0x9e3779b1u ^ k[1] * 0x85ebca6bu ^ k[2]) & (RAND_SRCS - 1);

	for (uint32_t n = 0; n < RAND_SRCS; n++, h = (h + 1) & (RAND_SRCS - 1)) {
		if (!rand_srcs.used[h]) {
			rand_srcs.used[h] = true;
			memcpy(rand_srcs.key[h], k, sizeof(k));
			return false;
		}
		if (!memcmp(rand_srcs.key[h], k, sizeof(k)))
			return true;
	}
	return true; /* full: never, at the runs' sizes */
}

/*
 * Random and damaged packets at a VIP forced to First Drop, then to the challenge, the clock a
 * millisecond on per packet: half of them aimed by rand_to_vip(), half from pktrand.h (every
 * VLAN depth, IPv4 options and fragments, IPv6 extension chains, any TCP flags, damaged) in
 * the world's family: what an attacker sends a VIP under attack. What must hold of each:
 * fx_verdict_wrong(); a frame sent back is the challenge's SYN-ACK to a bare SYN (reply_wrong():
 * never longer than it, so no amplification and no payload reflected), and only at the
 * challenge; a frame forwarded goes to the backend with only its MACs changed, and is never a
 * bare SYN at the challenge (no source can answer a cookie here) nor, at First Drop, the first
 * SYN from its source; the verdict counters moved by exactly what the runs returned. Each
 * level's own outcome must occur (First Drop's drops, the challenge's answers), and forwards.
 */
static void sc_random(int v6, uint32_t level, unsigned long long seed, int count)
{
	static struct fx_tally tally;
	struct prng r = { .s = seed };
	struct gworld w;
	char n[96];
	int bad = 0, replies = 0, fwd = 0, fd_drops = 0, err;
	bool ok = true;

	snprintf(n, sizeof(n), "guard/%s/random/%s", v6 ? "v6" : "v4",
		 level == XL4_GUARD_CHALLENGE ? "challenge" : "first-drop");
	if (!fx_selected(n) || !world_open(&w, v6, n))
		return;
	memset(&rand_srcs, 0, sizeof(rand_srcs));
	if ((err = ctl_write(&w, XL4_GUARD_OV_ON, level)) ||
	    (err = fx_tally_start(&tally, w.eng.stats_fd))) {
		fx_setup_fail(n, "forcing the level", strerror(-err));
		world_close(&w);
		return;
	}
	for (int i = 0; i < count; i++) {
		const char *why;
		struct fx_uparsed u;
		struct pkt p, o;
		bool syn, seen, sent_on; /* sent_on: the packet itself, only its MACs changed */

		if (prng_below(&r, 2))
			rand_to_vip(&w, &p, &r);
		else
			do /* the world's family: the other one has no VIP here */
				pr_packet(&p, &r, ETH_HLEN);
			while (p.l3 >= 0 && (pkt_layer(&p, PB_IP6) != NULL) != !!v6);
		clock_set(&w, T0 + (uint64_t)i * 1000000);
		if ((err = xl4_run_packet(&w.eng, p.b, p.len, last.b, sizeof(last.b), &last.r))) {
			ok = fx_fail(n, ok, "packet %d: test run failed: %s", i, strerror(-err));
			break;
		}
		fx_uparse_parts(p.b, p.len, XL4_FRAG_PASS, &u);
		o.len = last.r.out_len < PKT_MAX ? last.r.out_len : PKT_MAX;
		memcpy(o.b, last.b, o.len);
		sent_on = o.len == p.len && !memcmp(o.b + 12, p.b + 12, p.len - 12);
		syn = !u.reason && u.proto == IPPROTO_TCP && (u.tcp_flags & (TH_SYN | TH_ACK)) == TH_SYN;
		seen = syn && rand_src_seen(v6, u.src);
		why = fx_verdict_wrong(last.r.verdict, last.r.reason, u.reason);
		if (why)
			;
		else if (last.r.verdict == XDP_TX && !memcmp(o.b, MAC_BE, 6) &&
			 (memcmp(p.b + 6, MAC_BE, 6) || sent_on)) {
			/* to the backend's MAC: a forward, unless damage made the client's MAC
			 * the backend's too and the frame is not the packet sent on (an answer) */
			if (!sent_on)
				why = "forwarded with more than its MACs changed";
			else if (syn && level == XL4_GUARD_CHALLENGE)
				why = "a bare SYN forwarded at the challenge";
			else if (syn && !seen)
				why = "a source's first SYN forwarded at First Drop";
			fwd += !why;
		} else if (last.r.verdict == XDP_TX) {
			why = level != XL4_GUARD_CHALLENGE ? "answered at First Drop" :
							     reply_wrong(&w, &u, &p, &o);
			replies += !why;
		}
		fd_drops += last.r.verdict == XDP_DROP && last.r.reason == XL4_R_GUARD_FIRST_DROP;
		if (why && bad++ < 5) {
			ok = fx_fail(n, ok, "packet %d (seed %llu): %s: got %s/%s (parser: %s)", i, seed,
				     why, xl4_verdict_name(last.r.verdict), xl4_reason_name(last.r.reason),
				     xl4_reason_name(u.reason));
			fx_pcap_write(&p);
			fx_hexdiff(p.b, p.len, o.b, o.len);
		}
		fx_tally_add(&tally, last.r.verdict, last.r.reason, p.len);
	}
	if (bad > 5)
		printf("       ... %d offending packets in all\n", bad);
	if (!fwd || (level == XL4_GUARD_CHALLENGE ? !replies : !fd_drops))
		ok = fx_fail(n, ok, "an outcome never came: %d forwarded, %d answered, %d First Drop drops",
			     fwd, replies, fd_drops);
	ok = fx_tally_check(&tally, w.eng.stats_fd, n, ok);
	fx_count(n, ok);
	if (fx.verbose)
		printf("%s: %d packets (seed %llu): %d forwarded, %d answered, %d First Drop drops\n", n,
		       count, seed, fwd, replies, fd_drops);
	world_close(&w);
}

void suite_guard(void)
{
	int before = fx.passed + fx.failed;
	cpu_set_t old;

	if (fx.filter && strncmp(fx.filter, "guard", 5))
		return;
	g_ncpu = libbpf_num_possible_cpus();
	/* windows and budgets are per CPU: keep every test run on this one */
	fx_pin(&old);
	sc_first_drop_rates();
	sc_flow_cache_epoch();
	for (int v6 = 0; v6 <= 1; v6++) {
		sc_normal(v6);
		sc_two_vips(v6);
		sc_reused_tuple(v6, REUSE_PLAIN);
		sc_reused_tuple(v6, REUSE_EVICTED);
		sc_reused_tuple(v6, REUSE_OTHER_CPU);
		sc_allowlisted(v6);
		sc_claim_no_backend(v6);
		sc_claim_too_big(v6);
		sc_pack_once(v6);
		sc_syn_fragment(v6);
		sc_shared_syn_slot(v6, 0);
		sc_shared_syn_slot(v6, 1);
		sc_first_drop(v6);
		sc_grey_full(v6);
		sc_challenge(v6, 0);
		sc_challenge(v6, 1);
		sc_key_rotation(v6);
		if (v6)
			sc_deep_l4();
		sc_hysteresis(v6);
		sc_enter_time(v6);
		sc_surge(v6);
		sc_surge_cap(v6);
		sc_admit_cap(v6);
		sc_torn_window(v6);
		sc_window_freshness(v6);
		sc_sources(v6);
		sc_verified_abuse(v6);
		sc_vbits(v6);
		sc_vbits_restart(v6);
		sc_random(v6, XL4_GUARD_FIRST_DROP, fx.seed + 10 + v6, 6000);
		sc_random(v6, XL4_GUARD_CHALLENGE, fx.seed + 12 + v6, 6000);
	}
	fx_unpin(&old);
	printf("guard: %d checks\n", fx.passed + fx.failed - before);
}
