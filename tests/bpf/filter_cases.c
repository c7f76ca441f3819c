// SPDX-License-Identifier: GPL-2.0
/*
 * Filter fixtures: the real XDP program with its own engines (test clock on: time is what the
 * fixture writes into xl4_clock_v1), provisioned only through src/filter_state.h as the daemon
 * does. Every checked packet is compared on verdict and reason, the verdict/reason counters,
 * the allow_list / allow_rule counters, every rule's matched/dropped counters (xl4_rstats_v1)
 * and, for drops, the sampled event's reason and detail (what matched: the blocking prefix's
 * length or the rule id). Frames are never modified by the filter: output must equal input.
 *
 * Fixture names: filter/<area>/<v4|v6>/<case>. Areas: list (prefix boundaries), expiry, sweep,
 * prec (precedence), port, noport (ICMP and fragments), rule (delete, conflicts), rate,
 * global, shared (the new-source budget and its fallback bucket), batch (all or nothing), early
 * (the blocklist's front ahead of the parse's rest: spoiled packets, and random ones), rules
 * (random rule sets against the documented precedence).
 *
 * Addresses are 198.18.0.0/15 and 2001:db8::/32, except the /8 boundary cases, which need
 * 197.255.255.255 and 199.0.0.0: these frames only ever go through BPF_PROG_TEST_RUN.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "counters.h"
#include "filter_cases.h"
#include "filter_state.h"
#include "harness.h"
#include "names.h"
#include "pktrand.h"
#include "testrun.h"
#include "uparse.h"
#include "xl4.skel.h"
#include "xl4/abi.h"

#define SEC_NS 1000000000ull
#define T0 (1000 * SEC_NS) /* the test clock's start: far from 0 (budgets refill from 0) */
#define RID_MAX 96	   /* rule ids whose counters every check compares */

/* ---- a world: one engine, its filter state, its test clock --------------------------------- */

struct fworld {
	const char *tag;
	struct xl4_engine eng;
	struct xl4_filter f;
	struct ring_buffer *rb;
	int clock_fd, loaded, inited;
	uint64_t now;
};

static int ncpu;

static int clock_set(struct fworld *w, uint64_t ns)
{
	w->now = ns;
	return fx_clock_set(w->clock_fd, ns);
}

/* the last event the ring buffer gave (reason, detail), and how many */
static struct {
	int n;
	__u32 reason, detail;
	__u8 l4_flags;
	__u16 sport, dport; /* host order, with XL4_EV_L4_PORTS */
} evs;

static int on_event(void *ctx, void *data, size_t len)
{
	const struct xl4_event *ev = data;

	(void)ctx;
	if (len < sizeof(*ev))
		return 0;
	evs.n++;
	evs.reason = ev->reason;
	evs.detail = ev->detail;
	evs.l4_flags = len >= sizeof(*ev) ? ev->l4_flags : 0;
	evs.sport = ntohs(ev->sport);
	evs.dport = ntohs(ev->dport);
	return 0;
}

static bool world_fail(const char *tag, const char *what, const char *err)
{
	char name[96];

	snprintf(name, sizeof(name), "filter/%s/setup", tag);
	fx_fail(name, true, "%s: %s", what, err);
	fx_count(name, false);
	return false;
}

static uint32_t world_groups; /* the next world's filter.ipv4_groups (0: the default) */

static bool world_open(struct fworld *w, const char *tag, uint32_t budget)
{
	/* sample every drop (1000/s per CPU: far more than a checked section drops) */
	struct xl4_engine_opts o = { .pin_path = NULL, .trace = true, .sample_per_sec = 1000,
				     .frag_policy = XL4_FRAG_PASS, .rate_max = 4096, .test_clock = true,
				     .block4_groups = world_groups };
	int e;

	memset(w, 0, sizeof(*w));
	w->tag = tag;
	if ((e = xl4_engine_load(&w->eng, &o)))
		return world_fail(tag, "xl4_engine_load", strerror(-e));
	w->loaded = 1;
	w->clock_fd = bpf_map__fd(w->eng.skel->maps.data_clock);
	if ((e = xl4_filter_init(&w->f, &w->eng.filter, budget)))
		return world_fail(tag, "xl4_filter_init", strerror(-e));
	w->inited = 1;
	w->rb = ring_buffer__new(w->eng.events_fd, on_event, NULL, NULL);
	if (!w->rb)
		return world_fail(tag, "ring_buffer__new", strerror(errno));
	if ((e = clock_set(w, T0)))
		return world_fail(tag, "test clock", strerror(-e));
	return true;
}

static void world_close(struct fworld *w)
{
	if (w->rb)
		ring_buffer__free(w->rb);
	if (w->inited)
		xl4_filter_free(&w->f);
	if (w->loaded)
		xl4_engine_close(&w->eng);
	memset(w, 0, sizeof(*w));
}

/* ---- addresses, prefixes, packets ---------------------------------------------------------- */

static uint32_t ip4(const char *s) /* host order */
{
	struct in_addr a;

	if (inet_pton(AF_INET, s, &a) != 1)
		abort();
	return ntohl(a.s_addr);
}

static struct in6_addr ip6(const char *s)
{
	struct in6_addr a;

	if (inet_pton(AF_INET6, s, &a) != 1)
		abort();
	return a;
}

static struct xl4_prefix P(const char *s)
{
	struct xl4_prefix p;
	char err[128];

	if (xl4_prefix_parse(s, &p, err, sizeof(err))) {
		fprintf(stderr, "filter fixtures: bad prefix in the test itself: %s: %s\n", s, err);
		abort();
	}
	return p;
}

/* A source or destination: either family. */
struct addr {
	int v6;
	uint32_t a4;
	struct in6_addr a6;
};

static struct addr A(const char *s)
{
	struct addr a = { 0 };

	if (strchr(s, ':')) {
		a.v6 = 1;
		a.a6 = ip6(s);
	} else {
		a.a4 = ip4(s);
	}
	return a;
}

static const char *astr(const struct addr *a, char *buf, size_t n)
{
	if (a->v6) {
		inet_ntop(AF_INET6, &a->a6, buf, n);
	} else {
		struct in_addr x = { htonl(a->a4) };

		inet_ntop(AF_INET, &x, buf, n);
	}
	return buf;
}

#define PORTLESS 0xffff0000u /* pkt(): ICMP echo (v4) / ICMPv6 echo (v6) */
#define LATERFRAG 0xfffe0000u /* pkt(): a later fragment of the protocol: no ports */

/* src -> dst, TCP SYN or UDP to dport from port 40000; proto ICMP: an echo request. */
static void pkt(struct pkt *p, const struct addr *src, const struct addr *dst, uint8_t proto,
		uint32_t dport)
{
	int later = (dport & 0xffff0000u) == LATERFRAG;

	pb_init(p);
	pb_eth(p, 0);
	if (src->v6) {
		pb_ip6(p, &(struct pb_ip6){ .src = src->a6, .dst = dst->a6 });
		if (later)
			pb_frag6(p, 100, 0, 0x4242);
	} else {
		pb_ip4(p, &(struct pb_ip4){ .src = src->a4, .dst = dst->a4, .frag = later ? 100 : 0 });
	}
	if (later)
		pb_raw(p, proto, NULL, 64);
	else if (proto == IPPROTO_TCP)
		pb_tcp(p, 40000, (uint16_t)dport, TH_SYN);
	else if (proto == IPPROTO_UDP)
		pb_udp(p, 40000, (uint16_t)dport);
	else if (src->v6)
		pb_icmp6(p, 128, 0);
	else
		pb_icmp(p, 8, 0);
	pb_finish(p);
}

/* ---- the check ----------------------------------------------------------------------------- */

struct rctr {
	uint64_t m[RID_MAX], d[RID_MAX];
};

/* Through the reader rule list uses (src/filter_state.c): an unreadable id reads as zero. */
static void rctr_read(struct fworld *w, struct rctr *c)
{
	struct xl4_rule_counters t;

	for (uint32_t id = 0; id < RID_MAX; id++) {
		xl4_filter_rule_counters_read(&w->f, id, &t);
		c->m[id] = t.matched;
		c->d[id] = t.dropped;
	}
}

#define NO_EVENT_CHECK (-1)

struct want {
	uint32_t verdict, reason;
	int stat;	/* 0, XL4_STAT_ALLOW_LIST or XL4_STAT_ALLOW_RULE: must move by 1 */
	int rule;	/* rule id whose counters move (matched +1, dropped +1 on a drop), -1 none */
	long detail;	/* drops: the event's detail; NO_EVENT_CHECK to skip */
	int rule2;	/* a second rule that moves (a limit rule, then the global limit), -1 none */
	int rule2_drop;
};

/* Drop events are sampled (a per-CPU token bucket on the kernel clock): floods empty it. An
 * all-zero bucket refills to the full rate on the next drop, so a checked drop always samples. */
static void sampler_refill(struct fworld *w)
{
	struct bpf_map *m = w->eng.skel->maps.data_sampler; /* every CPU's slot (abi.h) */
	size_t sz = bpf_map__value_size(m);
	void *zero = calloc(1, sz);
	__u32 k = 0;

	if (zero)
		bpf_map__update_elem(m, &k, sizeof(k), zero, sz, BPF_ANY);
	free(zero);
}

/* Every CPU's next event due far ahead of the test clock: no drop is sampled. */
static void sampler_spend(struct fworld *w)
{
	struct bpf_map *m = w->eng.skel->maps.data_sampler;
	size_t sz = bpf_map__value_size(m);
	struct xl4_sampler *v = calloc(1, sz);
	__u32 k = 0;

	if (!v)
		return;
	for (size_t i = 0; i < sz / sizeof(*v); i++)
		v[i].due_ns = T0 + 3600 * SEC_NS;
	bpf_map__update_elem(m, &k, sizeof(k), v, sz, BPF_ANY);
	free(v);
}

static unsigned int expected_seen[XL4_REASON_MAX];

#define W_PASS ((struct want){ XDP_PASS, XL4_R_NONE, 0, -1, 0, -1, 0 })
#define W_ALIST ((struct want){ XDP_PASS, XL4_R_NONE, XL4_STAT_ALLOW_LIST, -1, 0, -1, 0 })
#define W_ARULE(id) ((struct want){ XDP_PASS, XL4_R_NONE, XL4_STAT_ALLOW_RULE, (id), 0, -1, 0 })
#define W_BLOCK(len) ((struct want){ XDP_DROP, XL4_R_FILTER_BLOCK, 0, -1, (len), -1, 0 })
#define W_RULE(id) ((struct want){ XDP_DROP, XL4_R_FILTER_RULE, 0, (id), (id), -1, 0 })
#define W_RATE(id) ((struct want){ XDP_DROP, XL4_R_FILTER_RATE, 0, (id), (id), -1, 0 })
#define W_LIMITED_PASS(id) ((struct want){ XDP_PASS, XL4_R_NONE, 0, (id), 0, -1, 0 })

static bool fcheck(struct fworld *w, const char *name, const struct pkt *in, struct want x)
{
	static uint8_t out[XL4_RUN_OUT_MAX];
	static struct xl4_totals before, after;
	static struct rctr rb, ra;
	struct xl4_run_result r;
	unsigned int ureason;
	bool ok = true;
	int err;

	if (!fx_selected(name))
		return true;
	if (x.verdict == XDP_DROP)
		expected_seen[x.reason]++;
	fx_pcap_write(in);
	sampler_refill(w);
	ring_buffer__consume(w->rb);
	evs.n = 0;
	rctr_read(w, &rb);
	if ((err = xl4_counters_read(w->eng.stats_fd, &before)) ||
	    (err = xl4_run_packet(&w->eng, in->b, in->len, out, sizeof(out), &r)) ||
	    (err = xl4_counters_read(w->eng.stats_fd, &after))) {
		fx_fail(name, true, "test run failed: %s", strerror(-err));
		fx_count(name, false);
		return false;
	}
	rctr_read(w, &ra);
	ring_buffer__consume(w->rb);

	if (r.verdict != x.verdict || r.reason != x.reason)
		ok = fx_fail(name, ok, "want %s/%s, got %s/%s", xl4_verdict_name(x.verdict),
			     xl4_reason_name(x.reason), xl4_verdict_name(r.verdict),
			     xl4_reason_name(r.reason));
	/* well-formed frames: the user-space parser finds nothing wrong (filter_* are policy) */
	ureason = fx_uparse(in->b, in->len, XL4_FRAG_PASS);
	if (ureason != XL4_R_NONE)
		ok = fx_fail(name, ok, "user-space xl4_parse gives %s for a well-formed frame",
			     xl4_reason_name(ureason));
	if (r.out_len != in->len || memcmp(out, in->b, in->len)) {
		ok = fx_fail(name, ok, "output bytes differ (the filter never rewrites)");
		fx_hexdiff(in->b, in->len, out, r.out_len);
	}
	for (unsigned int i = 0; i < XL4_STAT_MAX; i++) {
		uint64_t want = i == x.verdict || (x.stat && (int)i == x.stat) ||
				(x.verdict == XDP_DROP && i == XL4_STAT_REASON_BASE + x.reason);
		uint64_t dp = after.c[i].packets - before.c[i].packets;
		uint64_t db = after.c[i].bytes - before.c[i].bytes;
		const char *what = i == XL4_STAT_ALLOW_LIST ? "allow_list"
				   : i == XL4_STAT_ALLOW_RULE ? "allow_rule"
				   : i < XL4_VERDICT_MAX     ? xl4_verdict_name(i)
				   : i >= XL4_STAT_REASON_BASE ? xl4_reason_name(i - XL4_STAT_REASON_BASE)
							       : "unused";

		if (dp != want || db != want * in->len)
			ok = fx_fail(name, ok, "counter %s: want +%llu packets, got +%llu (+%llu bytes)", what,
				     (unsigned long long)want, (unsigned long long)dp, (unsigned long long)db);
	}
	for (int id = 0; id < RID_MAX; id++) {
		uint64_t wm = (id == x.rule) + (id == x.rule2);
		uint64_t wd = (id == x.rule && x.verdict == XDP_DROP && x.rule2 < 0) ||
			      (id == x.rule2 && x.rule2_drop);
		uint64_t gm = ra.m[id] - rb.m[id], gd = ra.d[id] - rb.d[id];

		if (gm != wm || gd != wd)
			ok = fx_fail(name, ok, "rule %d counters: want matched +%llu dropped +%llu, got +%llu +%llu",
				     id, (unsigned long long)wm, (unsigned long long)wd,
				     (unsigned long long)gm, (unsigned long long)gd);
	}
	if (x.verdict == XDP_DROP && x.detail != NO_EVENT_CHECK) {
		if (evs.n != 1)
			ok = fx_fail(name, ok, "want 1 drop event, got %d", evs.n);
		else if (evs.reason != x.reason || evs.detail != (__u32)x.detail)
			ok = fx_fail(name, ok, "event: want %s detail %ld, got %s detail %u",
				     xl4_reason_name(x.reason), x.detail, xl4_reason_name(evs.reason), evs.detail);
	}
	if (ok) {
		fx.passed++;
		if (fx.verbose)
			printf("ok   %-60s %s/%s\n", name, xl4_verdict_name(x.verdict), xl4_reason_name(x.reason));
	} else {
		fx.failed++;
	}
	return ok;
}

/* One packet, no checks: the verdict and reason (floods). */
static int send1(struct fworld *w, const struct pkt *in, __u32 *reason)
{
	static uint8_t out[XL4_RUN_OUT_MAX];
	struct xl4_run_result r;

	if (xl4_run_packet(&w->eng, in->b, in->len, out, sizeof(out), &r))
		return -1;
	*reason = r.reason;
	return (int)r.verdict;
}

/* A setup step that must work; a failure is a failed fixture of its own. */
static bool must(const char *name, int ret, const char *err)
{
	if (!ret)
		return true;
	if (fx_selected(name)) {
		fx_fail(name, true, "setup: %s (%s)", err && *err ? err : "failed", strerror(-ret));
		fx_count(name, false);
	}
	return false;
}

static bool list_add(struct fworld *w, enum xl4_list l, const char *pfx, uint64_t expires)
{
	struct xl4_prefix p = P(pfx);
	char err[256] = "", name[128];

	snprintf(name, sizeof(name), "filter/%s/setup/%s-add/%s", w->tag, l == XL4_LIST_ALLOW ? "allow" : "block", pfx);
	return must(name, xl4_filter_list_add(&w->f, l, &p, 1, expires, err, sizeof(err)), err);
}

static bool list_del(struct fworld *w, enum xl4_list l, const char *pfx)
{
	struct xl4_prefix p = P(pfx);
	char err[256] = "", name[128];

	snprintf(name, sizeof(name), "filter/%s/setup/%s-del/%s", w->tag, l == XL4_LIST_ALLOW ? "allow" : "block", pfx);
	return must(name, xl4_filter_list_del(&w->f, l, &p, 1, err, sizeof(err)), err);
}

static struct xl4_rule_spec R(const char *dst, uint8_t proto, uint16_t lo, uint16_t hi, uint8_t action)
{
	return (struct xl4_rule_spec){ .dst = P(dst), .proto = proto, .port_lo = lo, .port_hi = hi,
				       .action = action };
}

static uint32_t rule_add(struct fworld *w, struct xl4_rule_spec s)
{
	char err[256] = "", name[128];
	uint32_t id = 0;

	snprintf(name, sizeof(name), "filter/%s/setup/rule-add", w->tag);
	if (!must(name, xl4_filter_rule_add(&w->f, &s, &id, err, sizeof(err)), err))
		return 0;
	if (id >= RID_MAX)
		must(name, -E2BIG, "rule id beyond the range the checks compare (raise RID_MAX)");
	return id;
}

static void rule_del(struct fworld *w, uint32_t id)
{
	char err[256] = "", name[128];

	snprintf(name, sizeof(name), "filter/%s/setup/rule-del/%u", w->tag, id);
	must(name, xl4_filter_rule_del(&w->f, id, err, sizeof(err)), err);
}

/* ---- prefix arithmetic for the boundary cases (independent of the datapath) ---------------- */

static struct addr pfx_first(const struct xl4_prefix *p)
{
	struct addr a = { .v6 = p->family == 6 };

	if (a.v6)
		memcpy(&a.a6, p->addr, 16);
	else
		a.a4 = ntohl(p->addr[0]);
	return a;
}

/* last address of the prefix; step: -1 the address before the first, +1 the one after the last */
static struct addr pfx_edge(const struct xl4_prefix *p, int which)
{
	struct addr a = pfx_first(p);

	if (!a.v6) {
		uint32_t host = p->len == 32 ? 0 : 0xffffffffu >> p->len;

		if (which == 0)
			a.a4 |= host;
		else if (which < 0)
			a.a4 -= 1;
		else
			a.a4 = (a.a4 | host) + 1;
		return a;
	}
	for (int bit = p->len; bit < 128 && which >= 0; bit++)
		a.a6.s6_addr[bit / 8] |= 0x80 >> (bit % 8);
	if (which < 0) { /* first - 1: borrow */
		for (int i = 15; i >= 0; i--)
			if (a.a6.s6_addr[i]-- != 0)
				break;
	} else if (which > 0) { /* last + 1: carry */
		for (int i = 15; i >= 0; i--)
			if (++a.a6.s6_addr[i] != 0)
				break;
	}
	return a;
}

/* ---- 1. prefix boundaries ----------------------------------------------------------------- */

static const char *const list_prefixes[] = {
	"198.0.0.0/8", "198.18.0.0/15", "198.18.7.0/24", "198.18.9.9/32",
	"2001:db8::/32", "2001:db8:5::/48", "2001:db8:6:7::/64", "2001:db8::99/128",
};

static void run_list_boundaries(struct fworld *w)
{
	struct addr dst4 = A("198.18.1.1"), dst6 = A("2001:db8:1::1");
	char name[160], s[64];
	struct pkt p;

	for (int l = 0; l < 2; l++) {
		const char *lname = l ? "block" : "allow";

		/* the allowlist is seen against a blocklist of everything: a hit passes (allow_list),
		 * a miss is blocked by the /0 */
		if (l == 0 && !(list_add(w, XL4_LIST_BLOCK, "0.0.0.0/0", 0) && list_add(w, XL4_LIST_BLOCK, "::/0", 0)))
			return;
		for (size_t i = 0; i < sizeof(list_prefixes) / sizeof(list_prefixes[0]); i++) {
			struct xl4_prefix px = P(list_prefixes[i]);
			int v6 = px.family == 6;
			const struct {
				const char *what;
				struct addr a;
				int hit;
			} probes[] = {
				{ "first-in", pfx_first(&px), 1 },
				{ "last-in", pfx_edge(&px, 0), 1 },
				{ "below", pfx_edge(&px, -1), 0 },
				{ "above", pfx_edge(&px, 1), 0 },
			};

			if (!list_add(w, l ? XL4_LIST_BLOCK : XL4_LIST_ALLOW, list_prefixes[i], 0))
				continue;
			for (size_t k = 0; k < 4; k++) {
				struct want x = l ? (probes[k].hit ? W_BLOCK(px.len) : W_PASS)
						  : (probes[k].hit ? W_ALIST : W_BLOCK(0));

				snprintf(name, sizeof(name), "filter/list/%s/%s/%u/%s=%s", v6 ? "v6" : "v4", lname,
					 px.len, probes[k].what, astr(&probes[k].a, s, sizeof(s)));
				pkt(&p, &probes[k].a, v6 ? &dst6 : &dst4, IPPROTO_TCP, 80);
				fcheck(w, name, &p, x);
			}
			/* deleted: the first address is back to what it was without the entry */
			if (!list_del(w, l ? XL4_LIST_BLOCK : XL4_LIST_ALLOW, list_prefixes[i]))
				continue;
			snprintf(name, sizeof(name), "filter/list/%s/%s/%u/deleted", v6 ? "v6" : "v4", lname, px.len);
			pkt(&p, &probes[0].a, v6 ? &dst6 : &dst4, IPPROTO_UDP, 53);
			fcheck(w, name, &p, l ? W_PASS : W_BLOCK(0));
		}
		if (l == 0 && !(list_del(w, XL4_LIST_BLOCK, "0.0.0.0/0") && list_del(w, XL4_LIST_BLOCK, "::/0")))
			return;
	}

	/* nested entries together: the longest match decides, and the event names its length */
	for (int v6 = 0; v6 < 2; v6++) {
		static const struct {
			const char *src;
			int len;
		} lm4[] = { { "198.18.9.9", 32 }, { "198.18.7.5", 24 }, { "198.19.0.1", 15 }, { "198.100.0.1", 8 } },
		  lm6[] = { { "2001:db8::99", 128 }, { "2001:db8:6:7::5", 64 }, { "2001:db8:5:1::1", 48 },
			    { "2001:db8:ffff::1", 32 } };
		bool ok = true;

		for (size_t i = 0; i < 4; i++)
			ok = ok && list_add(w, XL4_LIST_BLOCK, list_prefixes[v6 * 4 + i], 0);
		for (size_t i = 0; ok && i < 4; i++) {
			struct addr src = A(v6 ? lm6[i].src : lm4[i].src);

			snprintf(name, sizeof(name), "filter/list/%s/block/nested/longest-%d", v6 ? "v6" : "v4",
				 v6 ? lm6[i].len : lm4[i].len);
			pkt(&p, &src, v6 ? &dst6 : &dst4, IPPROTO_UDP, 53);
			fcheck(w, name, &p, W_BLOCK(v6 ? lm6[i].len : lm4[i].len));
		}
		for (size_t i = 0; i < 4; i++)
			list_del(w, XL4_LIST_BLOCK, list_prefixes[v6 * 4 + i]);
	}
}

/* ---- 2. expiry and the sweeper ------------------------------------------------------------- */

static void run_expiry(struct fworld *w)
{
	char name[160];
	struct pkt p;

	for (int v6 = 0; v6 < 2; v6++) {
		const char *fam = v6 ? "v6" : "v4";
		struct addr dst = A(v6 ? "2001:db8:1::1" : "198.18.1.1");
		struct addr src = A(v6 ? "2001:db8:44:1::9" : "198.18.44.9");
		const char *wide = v6 ? "2001:db8:44::/48" : "198.18.0.0/16";
		const char *mid = v6 ? "2001:db8:44::/56" : "198.18.44.0/24";
		const char *narrow = v6 ? "2001:db8:44:1::/64" : "198.18.44.8/29";
		const char *host = v6 ? "2001:db8:44:1::9/128" : "198.18.44.9/32";
		int lw = v6 ? 48 : 16, lm = v6 ? 56 : 24, ln = v6 ? 64 : 29;
		uint64_t t = w->now, dl = t + 10 * SEC_NS;

		pkt(&p, &src, &dst, IPPROTO_UDP, 53);
		/* one entry with a deadline, alone */
		if (!list_add(w, XL4_LIST_BLOCK, mid, dl))
			continue;
		snprintf(name, sizeof(name), "filter/expiry/%s/live-before-deadline", fam);
		clock_set(w, dl - 1);
		fcheck(w, name, &p, W_BLOCK(lm));
		snprintf(name, sizeof(name), "filter/expiry/%s/ignored-at-deadline", fam);
		clock_set(w, dl);
		fcheck(w, name, &p, W_PASS);
		snprintf(name, sizeof(name), "filter/expiry/%s/ignored-after-deadline", fam);
		clock_set(w, dl + 3600 * SEC_NS);
		fcheck(w, name, &p, W_PASS);

		/* an expired longer prefix does not hide a live shorter one: /mid expired, /wide live */
		if (!list_add(w, XL4_LIST_BLOCK, wide, 0))
			continue;
		snprintf(name, sizeof(name), "filter/expiry/%s/expired-longer-shows-shorter", fam);
		fcheck(w, name, &p, W_BLOCK(lw));
		/* three expired entries stacked above the live one (host, narrow, mid) */
		if (!list_add(w, XL4_LIST_BLOCK, narrow, dl) || !list_add(w, XL4_LIST_BLOCK, host, dl))
			continue;
		snprintf(name, sizeof(name), "filter/expiry/%s/three-expired-above-live", fam);
		fcheck(w, name, &p, W_BLOCK(lw));
		/* and the same on the allowlist: an expired allow /host does not hide a live allow */
		if (!list_add(w, XL4_LIST_ALLOW, host, dl) || !list_add(w, XL4_LIST_ALLOW, mid, 0))
			continue;
		snprintf(name, sizeof(name), "filter/expiry/%s/allow-expired-longer-shows-shorter", fam);
		fcheck(w, name, &p, W_ALIST);
		list_del(w, XL4_LIST_ALLOW, mid);
		snprintf(name, sizeof(name), "filter/expiry/%s/allow-expired-not-allowed", fam);
		fcheck(w, name, &p, W_BLOCK(lw));

		/* sweep: renew narrow (later deadline), then sweep at the old deadline. mid, host and
		 * the allow host go; narrow stays and is live again; wide (no deadline) stays. */
		if (!list_add(w, XL4_LIST_BLOCK, narrow, dl + 7200 * SEC_NS))
			continue;
		snprintf(name, sizeof(name), "filter/sweep/%s/renewed-entry-live", fam);
		fcheck(w, name, &p, W_BLOCK(ln));
		snprintf(name, sizeof(name), "filter/sweep/%s/removes-expired-keeps-renewed", fam);
		if (fx_selected(name)) {
			struct xl4_prefix pm = P(mid), pn = P(narrow), ph = P(host), pw = P(wide);
			int n = xl4_filter_sweep(&w->f, w->now);
			bool ok = true;
			char err[128];

			if (n != 3)
				ok = fx_fail(name, ok, "xl4_filter_sweep removed %d entries, want 3 (%s, %s, allow %s)", n, mid, host, host);
			/* what is left, as the API sees it: del of a swept entry is refused (-ENOENT) */
			if (xl4_filter_list_del(&w->f, XL4_LIST_BLOCK, &pm, 1, err, sizeof(err)) != -ENOENT)
				ok = fx_fail(name, ok, "%s still on the blocklist after the sweep", mid);
			if (xl4_filter_list_del(&w->f, XL4_LIST_BLOCK, &ph, 1, err, sizeof(err)) != -ENOENT)
				ok = fx_fail(name, ok, "%s still on the blocklist after the sweep", host);
			if (xl4_filter_list_del(&w->f, XL4_LIST_ALLOW, &ph, 1, err, sizeof(err)) != -ENOENT)
				ok = fx_fail(name, ok, "%s still on the allowlist after the sweep", host);
			if (xl4_filter_sweep(&w->f, w->now) != 0)
				ok = fx_fail(name, ok, "a second sweep at the same time removed more");
			fx_count(name, ok);
			(void)pn;
			(void)pw;
		}
		snprintf(name, sizeof(name), "filter/sweep/%s/renewed-still-blocks", fam);
		fcheck(w, name, &p, W_BLOCK(ln));
		/* the renewed entry's own deadline: it expires then, and the sweeper takes it */
		clock_set(w, dl + 7200 * SEC_NS);
		snprintf(name, sizeof(name), "filter/sweep/%s/renewed-expires-on-new-deadline", fam);
		fcheck(w, name, &p, W_BLOCK(lw));
		snprintf(name, sizeof(name), "filter/sweep/%s/renewed-swept-later", fam);
		if (fx_selected(name)) {
			int n = xl4_filter_sweep(&w->f, w->now);

			fx_count(name, n == 1 || fx_fail(name, true, "sweep removed %d, want 1 (%s)", n, narrow));
		}
		list_del(w, XL4_LIST_BLOCK, wide);
		snprintf(name, sizeof(name), "filter/sweep/%s/nothing-left", fam);
		fcheck(w, name, &p, W_PASS);
	}
}

/* Four expired entries above a live one: docs/filter.md says the datapath looks past "up to
 * four expired entries". */
static void run_expiry_depth(struct fworld *w)
{
	static const char *const stack4[] = { "198.18.45.9/32", "198.18.45.8/30", "198.18.45.0/28",
					      "198.18.45.0/24" };
	struct addr dst = A("198.18.1.1"), src = A("198.18.45.9");
	uint64_t dl = w->now + SEC_NS;
	char name[128];
	struct pkt p;

	if (!list_add(w, XL4_LIST_BLOCK, "198.18.0.0/16", 0))
		return;
	for (int i = 0; i < 4; i++)
		if (!list_add(w, XL4_LIST_BLOCK, stack4[i], dl))
			return;
	clock_set(w, dl);
	pkt(&p, &src, &dst, IPPROTO_UDP, 53);
	snprintf(name, sizeof(name), "filter/expiry/v4/four-expired-above-live");
	fcheck(w, name, &p, W_BLOCK(16));
	xl4_filter_sweep(&w->f, w->now);
	list_del(w, XL4_LIST_BLOCK, "198.18.0.0/16");
}

/* Five expired entries above a live one: more than the walk looks past. It once gave up and
 * the source was not blocked at all, though a live /16 covers it (the blocklist failed open
 * until the daemon's once-a-second sweep). An exhausted walk blocks; the event names the last
 * expired entry looked at (/24), not the live /16 it could not reach. */
static void run_expiry_depth5(struct fworld *w)
{
	static const char *const stack5[] = { "198.18.46.9/32", "198.18.46.8/31", "198.18.46.8/30",
					      "198.18.46.0/28", "198.18.46.0/24" };
	struct addr dst = A("198.18.1.1"), src = A("198.18.46.9");
	uint64_t dl = w->now + SEC_NS;
	char name[128];
	struct pkt p;

	if (!list_add(w, XL4_LIST_BLOCK, "198.18.0.0/16", 0))
		return;
	for (int i = 0; i < 5; i++)
		if (!list_add(w, XL4_LIST_BLOCK, stack5[i], dl))
			return;
	clock_set(w, dl);
	pkt(&p, &src, &dst, IPPROTO_UDP, 53);
	snprintf(name, sizeof(name), "filter/expiry/v4/five-expired-above-live-still-blocked");
	fcheck(w, name, &p, W_BLOCK(24));
	xl4_filter_sweep(&w->f, w->now);
	list_del(w, XL4_LIST_BLOCK, "198.18.0.0/16");
}

/* A budget bucket first used after hours of uptime holds its tokens. The per-CPU budget
 * bucket (xl4_bucket_take) computes (now - last_ns) * rate: a bucket never used before has
 * last_ns 0, so after 2^44 ns (4.9 h) of uptime at a budget of 2^20/s a 64-bit product wraps
 * to exactly 0: no token, and every new source would be pushed onto the shared bucket although
 * the budget is untouched. (Other values wrap to garbage.) */
static void run_budget_first_use(void)
{
	static struct fworld w;
	struct addr dst = A("198.18.95.1"), src = A("198.18.96.1");
	char name[128];
	struct pkt p;
	uint32_t id;

	if (!world_open(&w, "budget-first-use", 1u << 20))
		goto out;
	id = rule_add(&w, (struct xl4_rule_spec){ .dst = P("198.18.95.1/32"), .proto = XL4_PROTO_ANY,
						  .action = XL4_RULE_LIMIT, .rate = 10, .burst = 3 });
	if (!id)
		goto out;
	clock_set(&w, 1ull << 44);
	pkt(&p, &src, &dst, IPPROTO_UDP, 53);
	/* own bucket (burst 3): three pass, the fourth is over this source's own limit */
	for (int i = 0; i < 4; i++) {
		snprintf(name, sizeof(name), "filter/shared/v4/budget-first-use-after-4.9h/own-bucket/%d", i + 1);
		fcheck(&w, name, &p, i < 3 ? W_LIMITED_PASS((int)id) : W_RATE((int)id));
	}
out:
	world_close(&w);
}

/* ---- 3. precedence, ports, port-less packets: rows over one provisioning ------------------- */

/* Test addresses written once for both families: "X.Y" is 198.18.X.Y and 2001:db8:X::Y. */
static struct addr AF(const char *xy, int v6)
{
	char s[64];
	unsigned int x, y;

	if (sscanf(xy, "%u.%u", &x, &y) != 2)
		abort();
	if (v6)
		snprintf(s, sizeof(s), "2001:db8:%u::%u", x, y);
	else
		snprintf(s, sizeof(s), "198.18.%u.%u", x, y);
	return A(s);
}

#define ICMP_FAM 255 /* a row's protocol: ICMP (v4) or ICMPv6 (v6) */

static uint8_t proto_fam(uint8_t proto, int v6)
{
	return proto != ICMP_FAM ? proto : v6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP;
}

/* The lists and rules every precedence row is judged against, in both families. Each row's
 * destination is covered by the rules of its own /24 (v4) only, so the rows do not interact. */
static const struct {
	enum xl4_list list;
	const char *pfx4, *pfx6;
} prec_lists[] = {
	{ XL4_LIST_BLOCK, "198.18.51.0/24", "2001:db8:51::/48" },     /* PL_BLOCK_WIDE */
	{ XL4_LIST_ALLOW, "198.18.51.7/32", "2001:db8:51::7/128" },   /* allowlist > blocklist */
	{ XL4_LIST_ALLOW, "198.18.52.0/24", "2001:db8:52::/48" },     /* shorter allow > longer block */
	{ XL4_LIST_BLOCK, "198.18.52.5/32", "2001:db8:52::5/128" },
};
#define PL_BLOCK_WIDE 0

enum prec_rule {
	PR_HOST_ALLOW, PR_WIDE_DROP, /* 60.x: a specific destination beats a broader one */
	PR_ANY_DROP, PR_TCP_ALLOW,   /* 61.3: a named protocol beats "any" */
	PR_OUTER, PR_INNER,	     /* 62.4: nested port ranges */
	PR_EDGES, PR_SINGLE,	     /* 63.5: port range edges, a single port */
	PR_UDPALL, PR_ANYP, PR_ICMP, /* 64.x: port-less packets against every-port rules */
	PR_MAX
};

static const struct {
	const char *dst4, *dst6;
	uint8_t proto;
	uint16_t lo, hi;
	uint8_t action;
} prec_rules[PR_MAX] = {
	[PR_HOST_ALLOW] = { "198.18.60.1/32", "2001:db8:60::1/128", XL4_PROTO_ANY, 0, 0, XL4_RULE_ALLOW },
	[PR_WIDE_DROP] = { "198.18.60.0/24", "2001:db8:60::/64", IPPROTO_TCP, 80, 80, XL4_RULE_DROP },
	[PR_ANY_DROP] = { "198.18.61.3/32", "2001:db8:61::3/128", XL4_PROTO_ANY, 443, 443, XL4_RULE_DROP },
	[PR_TCP_ALLOW] = { "198.18.61.3/32", "2001:db8:61::3/128", IPPROTO_TCP, 0, 0, XL4_RULE_ALLOW },
	[PR_OUTER] = { "198.18.62.4/32", "2001:db8:62::4/128", IPPROTO_TCP, 1000, 2000, XL4_RULE_DROP },
	[PR_INNER] = { "198.18.62.4/32", "2001:db8:62::4/128", IPPROTO_TCP, 1500, 1599, XL4_RULE_ALLOW },
	[PR_EDGES] = { "198.18.63.5/32", "2001:db8:63::5/128", IPPROTO_UDP, 5000, 5010, XL4_RULE_DROP },
	[PR_SINGLE] = { "198.18.63.5/32", "2001:db8:63::5/128", IPPROTO_UDP, 53, 53, XL4_RULE_DROP },
	[PR_UDPALL] = { "198.18.64.6/32", "2001:db8:64::6/128", IPPROTO_UDP, 0, 0, XL4_RULE_DROP },
	[PR_ANYP] = { "198.18.64.6/32", "2001:db8:64::6/128", XL4_PROTO_ANY, 0, 0, XL4_RULE_ALLOW },
	[PR_ICMP] = { "198.18.64.0/24", "2001:db8:64::/64", ICMP_FAM, 0, 0, XL4_RULE_DROP },
};

/* What a row wants: the filter's decision and what it names. */
enum prec_want { P_PASS, P_ALIST, P_ARULE, P_RULE, P_BLOCK };

struct prec_case {
	const char *area, *name; /* filter/<area>/<v4|v6>/<name> */
	const char *src, *dst;	 /* "X.Y": see AF() */
	uint8_t proto;		 /* ICMP_FAM: the family's ICMP (an echo request) */
	uint32_t port;		 /* or PORTLESS / LATERFRAG */
	enum prec_want want;
	int what;		 /* P_ARULE, P_RULE: enum prec_rule; P_BLOCK: index in prec_lists */
};

static const struct prec_case prec_cases[] = {
	/* allowlist > blocklist; blocklist > an allow rule; allowlist > a drop rule */
	{ "prec", "allowlist-beats-blocklist", "51.7", "60.2", IPPROTO_TCP, 80, P_ALIST },
	{ "prec", "allowlist-shorter-beats-blocklist-longer", "52.5", "60.2", IPPROTO_TCP, 80, P_ALIST },
	{ "prec", "allowlist-beats-drop-rule", "51.7", "60.2", IPPROTO_TCP, 80, P_ALIST },
	{ "prec", "blocklist-beats-allow-rule", "51.1", "60.1", IPPROTO_TCP, 80, P_BLOCK, PL_BLOCK_WIDE },
	{ "prec", "specific-dst-beats-broader-narrower-ports", "50.1", "60.1", IPPROTO_TCP, 80, P_ARULE, PR_HOST_ALLOW },
	{ "prec", "broader-dst-rule-elsewhere", "50.1", "60.2", IPPROTO_TCP, 80, P_RULE, PR_WIDE_DROP },
	{ "prec", "broader-dst-rule-other-port", "50.1", "60.2", IPPROTO_TCP, 81, P_PASS },
	/* a named protocol beats "any" (also when "any" names the port) */
	{ "prec", "named-proto-beats-any", "50.1", "61.3", IPPROTO_TCP, 443, P_ARULE, PR_TCP_ALLOW },
	{ "prec", "any-applies-to-other-proto", "50.1", "61.3", IPPROTO_UDP, 443, P_RULE, PR_ANY_DROP },
	{ "prec", "any-with-ports-not-icmp", "50.1", "61.3", ICMP_FAM, PORTLESS, P_PASS },
	/* nested port ranges: the inner one wins inside it; edges on both */
	{ "port", "nested/999", "50.1", "62.4", IPPROTO_TCP, 999, P_PASS },
	{ "port", "nested/1000", "50.1", "62.4", IPPROTO_TCP, 1000, P_RULE, PR_OUTER },
	{ "port", "nested/1499", "50.1", "62.4", IPPROTO_TCP, 1499, P_RULE, PR_OUTER },
	{ "port", "nested/1500", "50.1", "62.4", IPPROTO_TCP, 1500, P_ARULE, PR_INNER },
	{ "port", "nested/1599", "50.1", "62.4", IPPROTO_TCP, 1599, P_ARULE, PR_INNER },
	{ "port", "nested/1600", "50.1", "62.4", IPPROTO_TCP, 1600, P_RULE, PR_OUTER },
	{ "port", "nested/2000", "50.1", "62.4", IPPROTO_TCP, 2000, P_RULE, PR_OUTER },
	{ "port", "nested/2001", "50.1", "62.4", IPPROTO_TCP, 2001, P_PASS },
	/* port range edges: lo-1, lo, hi, hi+1; a single port; the same port in another protocol */
	{ "port", "edges/udp-4999", "50.1", "63.5", IPPROTO_UDP, 4999, P_PASS },
	{ "port", "edges/udp-5000", "50.1", "63.5", IPPROTO_UDP, 5000, P_RULE, PR_EDGES },
	{ "port", "edges/udp-5010", "50.1", "63.5", IPPROTO_UDP, 5010, P_RULE, PR_EDGES },
	{ "port", "edges/udp-5011", "50.1", "63.5", IPPROTO_UDP, 5011, P_PASS },
	{ "port", "edges/udp-52", "50.1", "63.5", IPPROTO_UDP, 52, P_PASS },
	{ "port", "edges/udp-53", "50.1", "63.5", IPPROTO_UDP, 53, P_RULE, PR_SINGLE },
	{ "port", "edges/udp-54", "50.1", "63.5", IPPROTO_UDP, 54, P_PASS },
	{ "port", "edges/tcp-5000-other-proto", "50.1", "63.5", IPPROTO_TCP, 5000, P_PASS },
	/* port-less packets (ICMP, later fragments) against every-port rules */
	{ "noport", "icmp-any-proto-any-port", "50.1", "64.6", ICMP_FAM, PORTLESS, P_ARULE, PR_ANYP },
	{ "noport", "icmp-rule-broader-dst", "50.1", "64.7", ICMP_FAM, PORTLESS, P_RULE, PR_ICMP },
	{ "noport", "icmp-rule-not-udp", "50.1", "64.7", IPPROTO_UDP, 53, P_PASS },
	{ "noport", "udp-later-fragment-every-port-rule", "50.1", "64.6", IPPROTO_UDP, LATERFRAG, P_RULE, PR_UDPALL },
	{ "noport", "udp-later-fragment-port-rule", "50.1", "63.5", IPPROTO_UDP, LATERFRAG, P_PASS },
	{ "noport", "tcp-falls-to-any", "50.1", "64.6", IPPROTO_TCP, 22, P_ARULE, PR_ANYP },
};

static bool prec_provision(struct fworld *w, int v6, uint32_t ids[PR_MAX])
{
	for (size_t i = 0; i < sizeof(prec_lists) / sizeof(prec_lists[0]); i++)
		if (!list_add(w, prec_lists[i].list, v6 ? prec_lists[i].pfx6 : prec_lists[i].pfx4, 0))
			return false;
	for (int i = 0; i < PR_MAX; i++) {
		ids[i] = rule_add(w, R(v6 ? prec_rules[i].dst6 : prec_rules[i].dst4,
				       proto_fam(prec_rules[i].proto, v6), prec_rules[i].lo, prec_rules[i].hi,
				       prec_rules[i].action));
		if (!ids[i])
			return false;
	}
	return true;
}

static void prec_unprovision(struct fworld *w, int v6, const uint32_t ids[PR_MAX])
{
	for (int i = 0; i < PR_MAX; i++)
		if (ids[i])
			rule_del(w, ids[i]);
	for (size_t i = 0; i < sizeof(prec_lists) / sizeof(prec_lists[0]); i++)
		list_del(w, prec_lists[i].list, v6 ? prec_lists[i].pfx6 : prec_lists[i].pfx4);
}

static struct want prec_want(const struct prec_case *c, int v6, const uint32_t ids[PR_MAX])
{
	switch (c->want) {
	case P_ALIST:
		return W_ALIST;
	case P_ARULE:
		return W_ARULE((int)ids[c->what]);
	case P_RULE:
		return W_RULE((int)ids[c->what]);
	case P_BLOCK:
		return W_BLOCK(P(v6 ? prec_lists[c->what].pfx6 : prec_lists[c->what].pfx4).len);
	case P_PASS:
		break;
	}
	return W_PASS;
}

/* Rules that conflict with installed ones are refused, naming the rule; nothing changes. A
 * sequence: it needs PR_OUTER, PR_INNER and PR_TCP_ALLOW in place. */
static void run_rule_refused(struct fworld *w, int v6)
{
	static const struct {
		const char *what;
		uint8_t proto;
		uint16_t lo, hi;
	} bad_rules[] = {
		{ "overlap-above", IPPROTO_TCP, 1900, 2500 },
		{ "overlap-below", IPPROTO_TCP, 500, 1000 },
		{ "overlap-inner", IPPROTO_TCP, 1590, 1700 },
		{ "identical", IPPROTO_TCP, 1000, 2000 },
		{ "identical-inner", IPPROTO_TCP, 1500, 1599 },
	};
	const char *fam = v6 ? "v6" : "v4";
	struct addr cli = AF("50.1", v6), d4 = AF("62.4", v6);
	char name[160];
	struct pkt p;

	for (size_t i = 0; i < sizeof(bad_rules) / sizeof(bad_rules[0]); i++) {
		struct xl4_rule_spec s = R(v6 ? "2001:db8:62::4/128" : "198.18.62.4/32", bad_rules[i].proto,
					   bad_rules[i].lo, bad_rules[i].hi, XL4_RULE_ALLOW);
		char err[256] = "";
		uint32_t id = 0;
		int ret;

		snprintf(name, sizeof(name), "filter/rule/%s/refused/%s-%u-%u", fam, bad_rules[i].what,
			 bad_rules[i].lo, bad_rules[i].hi);
		if (!fx_selected(name))
			continue;
		ret = xl4_filter_rule_add(&w->f, &s, &id, err, sizeof(err));
		fx_count(name, (ret < 0 && strstr(err, "conflicts with rule")) ||
				       fx_fail(name, true, "xl4_filter_rule_add: want an error naming the "
						"conflicting rule, got %d '%s' (id %u)", ret, err, id));
		if (!ret)
			rule_del(w, id);
	}
	snprintf(name, sizeof(name), "filter/rule/%s/refused/two-every-port", fam);
	if (fx_selected(name)) {
		struct xl4_rule_spec s = R(v6 ? "2001:db8:61::3/128" : "198.18.61.3/32", IPPROTO_TCP, 0, 0,
					   XL4_RULE_DROP);
		char err[256] = "";
		uint32_t id = 0;
		int ret = xl4_filter_rule_add(&w->f, &s, &id, err, sizeof(err));

		fx_count(name, ret < 0 || fx_fail(name, true, "a second tcp every-port rule was accepted (id %u)", id));
		if (!ret)
			rule_del(w, id);
	}
	snprintf(name, sizeof(name), "filter/rule/%s/refused-changes-nothing", fam);
	pkt(&p, &cli, &d4, IPPROTO_TCP, 2200);
	fcheck(w, name, &p, W_PASS);
}

/* A rule delete takes effect; the others stay. A sequence: it needs PR_EDGES in place. */
static void run_rule_delete(struct fworld *w, int v6, const uint32_t ids[PR_MAX])
{
	const char *fam = v6 ? "v6" : "v4";
	struct addr cli = AF("50.1", v6), d5 = AF("63.5", v6), d7 = AF("65.9", v6);
	uint32_t r_ctl = rule_add(w, R(v6 ? "2001:db8:65::/64" : "198.18.65.0/24", XL4_PROTO_ANY, 0, 0,
				       XL4_RULE_DROP));
	char name[160];
	struct pkt p;

	if (!r_ctl)
		return;
	snprintf(name, sizeof(name), "filter/rule/%s/before-delete", fam);
	pkt(&p, &cli, &d7, IPPROTO_TCP, 80);
	fcheck(w, name, &p, W_RULE((int)r_ctl));
	rule_del(w, r_ctl);
	snprintf(name, sizeof(name), "filter/rule/%s/after-delete", fam);
	fcheck(w, name, &p, W_PASS);
	snprintf(name, sizeof(name), "filter/rule/%s/after-delete-others-stay", fam);
	pkt(&p, &cli, &d5, IPPROTO_UDP, 5000);
	fcheck(w, name, &p, W_RULE((int)ids[PR_EDGES]));
}

static void run_precedence(struct fworld *w)
{
	char name[160];
	struct pkt p;

	for (int v6 = 0; v6 < 2; v6++) {
		const char *fam = v6 ? "v6" : "v4";
		uint32_t ids[PR_MAX] = { 0 };

		if (!prec_provision(w, v6, ids))
			continue; /* the failed setup step is a failed fixture */
		for (size_t i = 0; i < sizeof(prec_cases) / sizeof(prec_cases[0]); i++) {
			const struct prec_case *c = &prec_cases[i];
			struct addr src = AF(c->src, v6), dst = AF(c->dst, v6);

			snprintf(name, sizeof(name), "filter/%s/%s/%s", c->area, fam, c->name);
			pkt(&p, &src, &dst, proto_fam(c->proto, v6), c->port);
			fcheck(w, name, &p, prec_want(c, v6, ids));
		}
		run_rule_refused(w, v6);
		run_rule_delete(w, v6, ids);

		/* every rule and list entry of this family gone: nothing left to match */
		prec_unprovision(w, v6, ids);
		snprintf(name, sizeof(name), "filter/rule/%s/all-deleted", fam);
		{
			struct addr cli = AF("50.1", v6), d2 = AF("60.2", v6);

			pkt(&p, &cli, &d2, IPPROTO_TCP, 80);
			fcheck(w, name, &p, W_PASS);
		}
	}
}

/* ---- 4. rate limits ------------------------------------------------------------------------- */

struct flood_result {
	long sent[2], passed[2], bad; /* per source; bad: an unexpected verdict or reason */
	__u32 bad_reason;
};

/*
 * Source 0 sends at rate0 pps and source 1 at rate1 pps (0: silent) for secs seconds of test
 * clock, interleaved in time order. Drops must be `drop_reason`.
 */
static void flood(struct fworld *w, const struct pkt *p0, const struct pkt *p1, uint32_t rate0,
		  uint32_t rate1, uint32_t secs, __u32 drop_reason, struct flood_result *fr)
{
	uint64_t start = w->now, n0 = (uint64_t)rate0 * secs, n1 = (uint64_t)rate1 * secs;
	uint64_t i0 = 0, i1 = 0;

	memset(fr, 0, sizeof(*fr));
	while (i0 < n0 || i1 < n1) {
		/* next send times: packet i at start + i/rate */
		uint64_t t0 = i0 < n0 ? start + i0 * SEC_NS / rate0 : UINT64_MAX;
		uint64_t t1 = i1 < n1 ? start + i1 * SEC_NS / rate1 : UINT64_MAX;
		int s = t1 < t0;
		__u32 reason = 0;
		int v;

		clock_set(w, s ? t1 : t0);
		v = send1(w, s ? p1 : p0, &reason);
		fr->sent[s]++;
		if (v == XDP_PASS)
			fr->passed[s]++;
		else if (v != XDP_DROP || reason != drop_reason)
			fr->bad++, fr->bad_reason = reason;
		if (s)
			i1++;
		else
			i0++;
	}
	clock_set(w, start + (uint64_t)secs * SEC_NS);
}

static void rate_accuracy(struct fworld *w, int v6, const char *who, uint32_t rule_id, uint32_t rate,
			  uint32_t burst, const struct pkt *flooder, const struct pkt *quiet)
{
	const uint32_t secs = 20;
	double want = (double)rate * secs + burst, got, err;
	struct flood_result fr;
	char name[128];
	bool ok = true;

	snprintf(name, sizeof(name), "filter/rate/%s/%s/3x-flood-accuracy", v6 ? "v6" : "v4", who);
	if (!fx_selected(name))
		return;
	flood(w, flooder, quiet, 3 * rate, rate / 2, secs, XL4_R_FILTER_RATE, &fr);
	expected_seen[XL4_R_FILTER_RATE]++;
	got = (double)fr.passed[0];
	err = 100.0 * (got - want) / want;
	if (err < -5 || err > 5)
		ok = fx_fail(name, ok, "flooder at %u pps for %u s: %ld of %ld accepted, want %.0f (rate*T+burst) +-5%%, off by %+.2f%%",
			     3 * rate, secs, fr.passed[0], fr.sent[0], want, err);
	if (fr.bad)
		ok = fx_fail(name, ok, "%ld packets with an unexpected verdict (reason %s)", fr.bad,
			     xl4_reason_name(fr.bad_reason));
	printf("%s: %u pps limit, burst %u: flooder %ld/%ld accepted (want %.0f, %+.2f%%), quiet source %ld/%ld\n",
	       name, rate, burst, fr.passed[0], fr.sent[0], want, err, fr.passed[1], fr.sent[1]);
	fx_count(name, ok);
	snprintf(name, sizeof(name), "filter/rate/%s/%s/quiet-source-no-drops", v6 ? "v6" : "v4", who);
	fx_count(name, (fr.sent[1] > 0 && fr.passed[1] == fr.sent[1]) ||
			       fx_fail(name, true, "source under its limit (%u pps) while another floods: %ld of %ld dropped",
				       rate / 2, fr.sent[1] - fr.passed[1], fr.sent[1]));
	(void)rule_id;
}

static void run_rate(struct fworld *w)
{
	char name[160];
	struct pkt p, q;

	for (int v6 = 0; v6 < 2; v6++) {
		const char *fam = v6 ? "v6" : "v4";
		struct addr dst = A(v6 ? "2001:db8:70::1" : "198.18.70.1");
		struct addr s1 = A(v6 ? "2001:db8:71:1::1" : "198.18.71.1");
		struct addr s2 = A(v6 ? "2001:db8:71:2::1" : "198.18.71.2");
		uint32_t id;

		/* limit 100 pps, burst 10, for UDP to dst */
		id = rule_add(w, (struct xl4_rule_spec){ .dst = P(v6 ? "2001:db8:70::1/128" : "198.18.70.1/32"),
							 .proto = IPPROTO_UDP, .action = XL4_RULE_LIMIT,
							 .rate = 100, .burst = 10, .v6_prefix = 64 });
		if (!id)
			continue;
		clock_set(w, w->now + 100 * SEC_NS);
		/* the burst, exactly: 10 pass at one instant, the 11th drops, with the rule's id */
		pkt(&p, &s1, &dst, IPPROTO_UDP, 53);
		for (int i = 0; i < 10; i++) {
			snprintf(name, sizeof(name), "filter/rate/%s/burst/%d", fam, i + 1);
			fcheck(w, name, &p, W_LIMITED_PASS((int)id));
		}
		snprintf(name, sizeof(name), "filter/rate/%s/burst/11-over", fam);
		fcheck(w, name, &p, W_RATE((int)id));
		/* one packet's worth of time (10 ms at 100 pps) refills one token, 9.999 ms does not */
		clock_set(w, w->now + 9999999);
		snprintf(name, sizeof(name), "filter/rate/%s/refill/just-before-one-token", fam);
		fcheck(w, name, &p, W_RATE((int)id));
		clock_set(w, w->now + 1);
		snprintf(name, sizeof(name), "filter/rate/%s/refill/one-token", fam);
		fcheck(w, name, &p, W_LIMITED_PASS((int)id));
		/* a long idle time refills to the burst, not beyond */
		clock_set(w, w->now + 3600 * SEC_NS);
		for (int i = 0; i < 11; i++) {
			snprintf(name, sizeof(name), "filter/rate/%s/after-idle/%d", fam, i + 1);
			fcheck(w, name, &p, i < 10 ? W_LIMITED_PASS((int)id) : W_RATE((int)id));
		}
		/* a burst larger than a minute of the rate (100 at 1/s) refills whole after an
		 * hour idle: 100 pass, the 101st drops (a 60 s clamp once gave back 60) */
		{
			struct addr d2 = A(v6 ? "2001:db8:74::1" : "198.18.74.1");
			uint32_t id2 = rule_add(w, (struct xl4_rule_spec){
				.dst = P(v6 ? "2001:db8:74::1/128" : "198.18.74.1/32"), .proto = IPPROTO_UDP,
				.action = XL4_RULE_LIMIT, .rate = 1, .burst = 100, .v6_prefix = 64 });
			struct pkt b;
			bool ok = true;
			int passed = 0;
			__u32 why;

			snprintf(name, sizeof(name), "filter/rate/%s/long-idle-refills-the-whole-burst", fam);
			pkt(&b, &s1, &d2, IPPROTO_UDP, 53);
			for (int round = 0; id2 && round < 2 && fx_selected(name); round++) {
				if (round)
					clock_set(w, w->now + 3600 * SEC_NS);
				passed = 0;
				for (int i = 0; i < 101; i++)
					passed += send1(w, &b, &why) == XDP_PASS;
				if (passed != 100)
					ok = fx_fail(name, ok, "%s: %d of 101 passed a burst of 100",
						     round ? "after an hour idle" : "at first", passed);
			}
			if (id2 && fx_selected(name))
				fx_count(name, ok);
		}
		/* other protocols to the same destination are not limited by a udp rule */
		snprintf(name, sizeof(name), "filter/rate/%s/other-proto-unlimited", fam);
		pkt(&q, &s1, &dst, IPPROTO_TCP, 53);
		fcheck(w, name, &q, W_PASS);

		/* accuracy: s1 floods at 3x, s2 sends at half the limit; fresh buckets after idle */
		clock_set(w, w->now + 60 * SEC_NS);
		pkt(&p, &s1, &dst, IPPROTO_UDP, 53);
		pkt(&q, &s2, &dst, IPPROTO_UDP, 53);
		rate_accuracy(w, v6, "rule", id, 100, 10, &p, &q);

		/* a heavy flood (300x the limit, 30 kpps, one packet every 33.3 us): still the
		 * configured rate, +-5% (the bucket must keep refill fractions between packets) */
		snprintf(name, sizeof(name), "filter/rate/%s/rule/300x-flood-accuracy", fam);
		if (fx_selected(name)) {
			struct flood_result fr;
			double want = 100.0 * 1 + 10, err;

			clock_set(w, w->now + 60 * SEC_NS);
			flood(w, &p, &q, 30000, 0, 1, XL4_R_FILTER_RATE, &fr);
			err = 100.0 * ((double)fr.passed[0] - want) / want;
			printf("%s: 100 pps limit, burst 10: flooder at 30000 pps for 1 s: %ld accepted (want %.0f, %+.2f%%)\n",
			       name, fr.passed[0], want, err);
			fx_count(name, ((err >= -5 && err <= 5) && !fr.bad) ||
					       fx_fail(name, true, "%ld of %ld accepted, want %.0f (rate*T+burst) +-5%%, off by %+.2f%%",
						       fr.passed[0], fr.sent[0], want, err));
		}

		if (v6) {
			/* sources in one /64 share a bucket; another /64 has its own */
			struct addr a = A("2001:db8:72:1::1"), b = A("2001:db8:72:1:ffff:ffff:ffff:ffff"),
				    c = A("2001:db8:72:2::1");

			clock_set(w, w->now + 60 * SEC_NS);
			pkt(&p, &a, &dst, IPPROTO_UDP, 53);
			for (int i = 0; i < 10; i++) {
				snprintf(name, sizeof(name), "filter/rate/v6/prefix64/same-64-first/%d", i + 1);
				fcheck(w, name, &p, W_LIMITED_PASS((int)id));
			}
			pkt(&p, &b, &dst, IPPROTO_UDP, 53);
			snprintf(name, sizeof(name), "filter/rate/v6/prefix64/same-64-other-address-shares");
			fcheck(w, name, &p, W_RATE((int)id));
			pkt(&p, &c, &dst, IPPROTO_UDP, 53);
			for (int i = 0; i < 10; i++) {
				snprintf(name, sizeof(name), "filter/rate/v6/prefix64/other-64-own-bucket/%d", i + 1);
				fcheck(w, name, &p, W_LIMITED_PASS((int)id));
			}
		} else {
			/* IPv4: one bucket per address, even next door */
			struct addr a = A("198.18.73.1"), b = A("198.18.73.2");

			clock_set(w, w->now + 60 * SEC_NS);
			pkt(&p, &a, &dst, IPPROTO_UDP, 53);
			for (int i = 0; i < 11; i++) {
				snprintf(name, sizeof(name), "filter/rate/v4/per-address/first/%d", i + 1);
				fcheck(w, name, &p, i < 10 ? W_LIMITED_PASS((int)id) : W_RATE((int)id));
			}
			pkt(&p, &b, &dst, IPPROTO_UDP, 53);
			snprintf(name, sizeof(name), "filter/rate/v4/per-address/neighbour-own-bucket");
			fcheck(w, name, &p, W_LIMITED_PASS((int)id));
		}
		/* an allowlisted source is never limited */
		if (list_add(w, XL4_LIST_ALLOW, v6 ? "2001:db8:74::/48" : "198.18.74.0/24", 0)) {
			struct addr a = A(v6 ? "2001:db8:74::1" : "198.18.74.1");

			pkt(&p, &a, &dst, IPPROTO_UDP, 53);
			for (int i = 0; i < 12; i++) {
				snprintf(name, sizeof(name), "filter/rate/%s/allowlisted-unlimited/%d", fam, i + 1);
				fcheck(w, name, &p, W_ALIST);
			}
			list_del(w, XL4_LIST_ALLOW, v6 ? "2001:db8:74::/48" : "198.18.74.0/24");
		}
		rule_del(w, id);
		snprintf(name, sizeof(name), "filter/rate/%s/rule-deleted-unlimited", fam);
		pkt(&p, &s1, &dst, IPPROTO_UDP, 53);
		fcheck(w, name, &p, W_PASS);
	}
}

static void run_global(struct fworld *w)
{
	char name[160], err[256] = "";
	struct pkt p, q;

	if (!must("filter/global/setup", xl4_filter_limit_set(&w->f, 50, 5, 64, err, sizeof(err)), err))
		return;
	for (int v6 = 0; v6 < 2; v6++) {
		const char *fam = v6 ? "v6" : "v4";
		struct addr dst = A(v6 ? "2001:db8:80::1" : "198.18.80.1");
		struct addr s1 = A(v6 ? "2001:db8:81:1::1" : "198.18.81.1");
		struct addr s2 = A(v6 ? "2001:db8:81:2::1" : "198.18.81.2");
		struct want over = W_RATE(0);
		uint32_t id;

		clock_set(w, w->now + 100 * SEC_NS);
		pkt(&p, &s1, &dst, IPPROTO_TCP, 80);
		for (int i = 0; i < 6; i++) {
			snprintf(name, sizeof(name), "filter/global/%s/burst/%d", fam, i + 1);
			fcheck(w, name, &p, i < 5 ? W_LIMITED_PASS(0) : over);
		}
		snprintf(name, sizeof(name), "filter/global/%s/other-source-own-bucket", fam);
		pkt(&q, &s2, &dst, IPPROTO_TCP, 80);
		fcheck(w, name, &q, W_LIMITED_PASS(0));
		clock_set(w, w->now + 60 * SEC_NS);
		rate_accuracy(w, v6, "global", 0, 50, 5, &p, &q);

		/* an allow rule skips the global limit; a limit rule is followed by it */
		id = rule_add(w, R(v6 ? "2001:db8:80::1/128" : "198.18.80.1/32", IPPROTO_UDP, 0, 0, XL4_RULE_ALLOW));
		if (id) {
			clock_set(w, w->now + 60 * SEC_NS);
			pkt(&q, &s1, &dst, IPPROTO_UDP, 53);
			for (int i = 0; i < 8; i++) {
				snprintf(name, sizeof(name), "filter/global/%s/allow-rule-skips-limit/%d", fam, i + 1);
				fcheck(w, name, &q, W_ARULE((int)id));
			}
			rule_del(w, id);
		}
		id = rule_add(w, (struct xl4_rule_spec){ .dst = P(v6 ? "2001:db8:80::1/128" : "198.18.80.1/32"),
							 .proto = IPPROTO_UDP, .action = XL4_RULE_LIMIT,
							 .rate = 1000, .burst = 100, .v6_prefix = 64 });
		if (id) {
			struct want both = { XDP_PASS, XL4_R_NONE, 0, (int)id, 0, 0, 0 };
			struct want glob = { XDP_DROP, XL4_R_FILTER_RATE, 0, (int)id, 0, 0, 1 };

			clock_set(w, w->now + 60 * SEC_NS);
			pkt(&q, &s1, &dst, IPPROTO_UDP, 53);
			for (int i = 0; i < 6; i++) {
				snprintf(name, sizeof(name), "filter/global/%s/after-limit-rule/%d", fam, i + 1);
				fcheck(w, name, &q, i < 5 ? both : glob);
			}
			rule_del(w, id);
		}
	}
	if (!must("filter/global/setup-off", xl4_filter_limit_set(&w->f, 0, 0, 0, err, sizeof(err)), err))
		return;
	{
		struct addr dst = A("198.18.80.1"), s1 = A("198.18.81.1");

		pkt(&p, &s1, &dst, IPPROTO_TCP, 80);
		for (int i = 0; i < 8; i++) {
			snprintf(name, sizeof(name), "filter/global/v4/off-unlimited/%d", i + 1);
			fcheck(w, name, &p, W_PASS);
		}
	}
}

/* The new-source budget (5 per second here) and the rule's shared fallback bucket. */
static void run_shared(struct fworld *w)
{
	char name[160];
	struct pkt p;

	for (int v6 = 0; v6 < 2; v6++) {
		const char *fam = v6 ? "v6" : "v4";
		struct addr dst = A(v6 ? "2001:db8:90::1" : "198.18.90.1");
		struct want shared = { XDP_DROP, XL4_R_FILTER_RATE_SHARED, 0, -1, 0, -1, 0 };
		uint32_t id;
		int n_new = 60, passed = 0;

		id = rule_add(w, (struct xl4_rule_spec){ .dst = P(v6 ? "2001:db8:90::1/128" : "198.18.90.1/32"),
							 .proto = XL4_PROTO_ANY, .action = XL4_RULE_LIMIT,
							 .rate = 10, .burst = 3, .v6_prefix = 64 });
		if (!id)
			continue;
		shared.rule = (int)id;
		shared.detail = id;
		/* a new second: the budget bucket is full (5), the shared bucket full (burst 3) */
		clock_set(w, w->now + 100 * SEC_NS);
		for (int i = 0; i < n_new; i++) {
			char a[64];
			struct addr s;

			if (v6)
				snprintf(a, sizeof(a), "2001:db8:91:%x::1", i + 1);
			else
				snprintf(a, sizeof(a), "198.18.91.%d", i + 1);
			s = A(a);
			pkt(&p, &s, &dst, IPPROTO_UDP, 53);
			snprintf(name, sizeof(name), "filter/shared/%s/new-source-%d", fam, i + 1);
			/* 1..5 own buckets; 6..8 take the shared bucket's 3 tokens; 9.. shared drops */
			if (fcheck(w, name, &p, i < 8 ? W_LIMITED_PASS((int)id) : shared) && i < 8)
				passed++;
		}
		snprintf(name, sizeof(name), "filter/shared/%s/never-fails-open", fam);
		fx_count(name, passed <= 8 || fx_fail(name, true, "%d of %d new sources passed in one instant; "
							     "at most budget 5 + shared burst 3", passed, n_new));
		/* sources with their own bucket are unaffected by the shared one being empty */
		{
			struct addr s = A(v6 ? "2001:db8:91:1::1" : "198.18.91.1");

			pkt(&p, &s, &dst, IPPROTO_UDP, 53);
			for (int i = 0; i < 3; i++) {
				snprintf(name, sizeof(name), "filter/shared/%s/own-bucket-unaffected/%d", fam, i + 1);
				fcheck(w, name, &p, i < 2 ? W_LIMITED_PASS((int)id) : W_RATE((int)id));
			}
		}
		/* the shared bucket refills at the rule's rate: 100 ms = 1 token */
		clock_set(w, w->now + 100000000);
		{
			struct addr s = A(v6 ? "2001:db8:92::1" : "198.18.92.1");
			struct addr t = A(v6 ? "2001:db8:92:1::1" : "198.18.92.2");

			pkt(&p, &s, &dst, IPPROTO_UDP, 53);
			snprintf(name, sizeof(name), "filter/shared/%s/refilled-one-token", fam);
			fcheck(w, name, &p, W_LIMITED_PASS((int)id));
			pkt(&p, &t, &dst, IPPROTO_UDP, 53);
			snprintf(name, sizeof(name), "filter/shared/%s/refilled-only-one", fam);
			fcheck(w, name, &p, shared);
		}
		/* next second: the budget is back; a new source gets a bucket of its own */
		clock_set(w, w->now + SEC_NS);
		{
			struct addr s = A(v6 ? "2001:db8:93::1" : "198.18.93.1");

			pkt(&p, &s, &dst, IPPROTO_UDP, 53);
			for (int i = 0; i < 4; i++) {
				snprintf(name, sizeof(name), "filter/shared/%s/next-second-own-bucket/%d", fam, i + 1);
				fcheck(w, name, &p, i < 3 ? W_LIMITED_PASS((int)id) : W_RATE((int)id));
			}
		}
		/* a sustained spoofed flood: 200 new sources a second for 10 s, each sending once.
		 * Budget 5/s + the shared bucket (10/s, burst 3) bound what passes. */
		{
			long sent = 0, pass = 0, bad = 0;
			uint64_t start = w->now + 60 * SEC_NS;

			snprintf(name, sizeof(name), "filter/shared/%s/spoofed-flood-bounded", fam);
			if (fx_selected(name)) {
				for (int i = 0; i < 2000; i++) {
					char a[64];
					struct addr s;
					__u32 reason = 0;
					int v;

					if (v6)
						snprintf(a, sizeof(a), "2001:db8:a%x:%x::1", i / 1000, i % 1000 + 1);
					else
						snprintf(a, sizeof(a), "198.19.%d.%d", i / 250, i % 250 + 1);
					s = A(a);
					pkt(&p, &s, &dst, IPPROTO_UDP, 53);
					clock_set(w, start + (uint64_t)i * SEC_NS / 200);
					v = send1(w, &p, &reason);
					sent++;
					if (v == XDP_PASS)
						pass++;
					else if (v != XDP_DROP || reason != XL4_R_FILTER_RATE_SHARED)
						bad++;
				}
				/* own buckets: <= 5/s * 10 s + 5 (a full budget at the start); shared:
				 * <= 10/s * 10 s + 3 */
				fx_count(name, (pass <= 50 + 5 + 100 + 3 && pass >= 50 && !bad) ||
						       fx_fail(name, true, "%ld of %ld new sources passed (want 50..158), %ld "
								"unexpected verdicts", pass, sent, bad));
				printf("%s: %ld of %ld spoofed new sources passed over 10 s (budget 5/s, shared 10/s)\n",
				       name, pass, sent);
			}
		}
		rule_del(w, id);
	}
}

/* ---- 5. all or nothing --------------------------------------------------------------------- */

static void run_batch(struct fworld *w)
{
	struct xl4_prefix batch[6], extra;
	char name[160], err[256];
	struct pkt p;
	int small = -1;

	/* del: a batch with one prefix that is not listed removes nothing */
	batch[0] = P("198.18.100.0/24");
	batch[1] = P("198.18.101.0/24");
	batch[2] = P("198.18.102.0/24"); /* never added */
	if (list_add(w, XL4_LIST_BLOCK, "198.18.100.0/24", 0) && list_add(w, XL4_LIST_BLOCK, "198.18.101.0/24", 0)) {
		struct addr dst = A("198.18.1.1"), s0 = A("198.18.100.1"), s1 = A("198.18.101.1");
		int ret;

		snprintf(name, sizeof(name), "filter/batch/v4/del-with-missing-refused");
		if (fx_selected(name)) {
			err[0] = 0;
			ret = xl4_filter_list_del(&w->f, XL4_LIST_BLOCK, batch, 3, err, sizeof(err));
			fx_count(name, (ret == -ENOENT && strstr(err, "198.18.102.0/24")) ||
					       fx_fail(name, true, "want -ENOENT naming 198.18.102.0/24, got %d '%s'", ret, err));
		}
		pkt(&p, &s0, &dst, IPPROTO_TCP, 80);
		fcheck(w, "filter/batch/v4/del-with-missing-kept-first", &p, W_BLOCK(24));
		pkt(&p, &s1, &dst, IPPROTO_TCP, 80);
		fcheck(w, "filter/batch/v4/del-with-missing-kept-second", &p, W_BLOCK(24));
		ret = xl4_filter_list_del(&w->f, XL4_LIST_BLOCK, batch, 2, err, sizeof(err));
		must("filter/batch/v4/del-both", ret, err);
		fcheck(w, "filter/batch/v4/del-both-gone", &p, W_PASS);
	}

	/* add: a prefix twice in one batch (a feed with a line twice) is one entry, counted once:
	 * one del empties the list, and the datapath stops looking at it */
	snprintf(name, sizeof(name), "filter/batch/v4/add-repeated-prefix-counted-once");
	if (fx_selected(name)) {
		size_t had = w->f.n_entries[XL4_LIST_BLOCK][0];
		bool ok = true;
		int ret;

		batch[0] = P("198.18.103.0/24");
		batch[1] = P("198.18.104.0/24");
		batch[2] = P("198.18.103.0/24");
		ret = xl4_filter_list_add(&w->f, XL4_LIST_BLOCK, batch, 3, 0, err, sizeof(err));
		if (ret)
			ok = fx_fail(name, ok, "add: %s", err);
		if (w->f.n_entries[XL4_LIST_BLOCK][0] != had + 2)
			ok = fx_fail(name, ok, "%zu entries counted for 2 prefixes", w->f.n_entries[XL4_LIST_BLOCK][0] - had);
		ret = xl4_filter_list_del(&w->f, XL4_LIST_BLOCK, batch, 2, err, sizeof(err));
		if (ret)
			ok = fx_fail(name, ok, "del: %s", err);
		if (w->f.n_entries[XL4_LIST_BLOCK][0] != had)
			ok = fx_fail(name, ok, "%zu entries left counted after both were removed",
				     w->f.n_entries[XL4_LIST_BLOCK][0] - had);
		if (!had && (w->f.g.lists & XL4_LISTS_BLOCK4))
			ok = fx_fail(name, ok, "the blocklist's bit stays set on an empty list");
		fx_count(name, ok);
	}

	/* add: the engine's lists hold millions; a 4-entry trie with the same key and value
	 * stands in for a full list (the state API writes whatever map its fds name) */
	snprintf(name, sizeof(name), "filter/batch/v4/add-overflow");
	if (!fx_selected(name))
		return;
	{
		LIBBPF_OPTS(bpf_map_create_opts, o, .map_flags = BPF_F_NO_PREALLOC);
		struct xl4_filter sf;
		struct xl4_filter_maps m = w->eng.filter;
		struct xl4_lpm4_key k, next;
		struct xl4_prefix_entry e;
		uint64_t dl_old = w->now + 50 * SEC_NS, dl_new = w->now + 500 * SEC_NS;
		int ret, count = 0;
		bool ok = true;

		small = bpf_map_create(BPF_MAP_TYPE_LPM_TRIE, "fx_small4", sizeof(struct xl4_lpm4_key),
				       sizeof(struct xl4_prefix_entry), 4, &o);
		if (small < 0) {
			must(name, -errno, "creating a 4-entry LPM trie");
			return;
		}
		m.block4 = small;
		m.b4idx = m.b4grp = m.b4ent = -1; /* the trie alone: no index to keep beside it */
		xl4_filter_init(&sf, &m, 0);
		extra = P("198.18.110.0/24");
		if (xl4_filter_list_add(&sf, XL4_LIST_BLOCK, &extra, 1, dl_old, err, sizeof(err)) ||
		    xl4_filter_list_add(&sf, XL4_LIST_BLOCK, (struct xl4_prefix[]){ P("198.18.111.0/24") }, 1, 0, err, sizeof(err)))
			ok = fx_fail(name, ok, "setup: %s", err);
		/* renew 198.18.110.0/24 and add four more: 6 entries into 4 slots */
		batch[0] = P("198.18.112.0/24");
		batch[1] = extra;
		batch[2] = P("198.18.113.0/24");
		batch[3] = P("198.18.114.0/24");
		batch[4] = P("198.18.115.0/24");
		err[0] = 0;
		ret = xl4_filter_list_add(&sf, XL4_LIST_BLOCK, batch, 5, dl_new, err, sizeof(err));
		if (ret >= 0)
			ok = fx_fail(name, ok, "a batch overflowing a 4-entry list was accepted");
		else if (!strstr(err, "nothing was added"))
			ok = fx_fail(name, ok, "error does not say nothing was added: '%s'", err);
		/* the map holds exactly what it held: two entries, the old deadline kept */
		for (void *prev = NULL; !bpf_map_get_next_key(small, prev, &next); prev = &k) {
			k = next;
			count++;
			if (bpf_map_lookup_elem(small, &k, &e))
				continue;
			if (k.addr == htonl(ip4("198.18.110.0")) && e.expires_ns != dl_old)
				ok = fx_fail(name, ok, "198.18.110.0/24: deadline %llu after the failed batch, want %llu (restored)",
					     (unsigned long long)e.expires_ns, (unsigned long long)dl_old);
			if (k.addr != htonl(ip4("198.18.110.0")) && k.addr != htonl(ip4("198.18.111.0")))
				ok = fx_fail(name, ok, "0x%08x/%u left behind by the failed batch", ntohl(k.addr), k.prefixlen);
		}
		if (count != 2)
			ok = fx_fail(name, ok, "%d entries after the failed batch, want the 2 from before", count);
		/* the sweeper still knows the old deadline only */
		if (xl4_filter_sweep(&sf, dl_old) != 1)
			ok = fx_fail(name, ok, "sweep at the old deadline did not remove 198.18.110.0/24");
		fx_count(name, ok);

		/* a full list still renews an entry it holds (in-place update of a full trie) */
		snprintf(name, sizeof(name), "filter/batch/v4/renew-in-full-list");
		if (fx_selected(name)) {
			struct xl4_prefix fill[3] = { P("198.18.120.0/24"), P("198.18.121.0/24"), P("198.18.122.0/24") };

			ok = true;
			if (xl4_filter_list_add(&sf, XL4_LIST_BLOCK, fill, 3, 0, err, sizeof(err)))
				ok = fx_fail(name, ok, "setup: filling the list: %s", err);
			else if ((ret = xl4_filter_list_add(&sf, XL4_LIST_BLOCK, fill, 1, dl_new, err, sizeof(err))))
				ok = fx_fail(name, ok, "renewing 198.18.120.0/24 in a full list: %d '%s'", ret, err);
			fx_count(name, ok);
		}
		xl4_filter_free(&sf);
		close(small);
	}
}

/* ---- 6. events: what dropped a packet -------------------------------------------------------- */

/* the reasons this suite's fixtures expect (filter_reason_expected); checked at the end */

/* ---- restart: a second filter state over the same maps -------------------------------------- */

static size_t map_count(int fd, size_t key_size)
{
	uint8_t key[64], next[64];
	void *prev = NULL;
	size_t n = 0;

	while (key_size <= sizeof(key) && bpf_map_get_next_key(fd, prev, next) == 0) {
		memcpy(key, next, key_size);
		prev = key;
		n++;
	}
	return n;
}

static void expect_true(const char *name, bool cond, const char *what)
{
	if (!fx_selected(name))
		return;
	if (!cond)
		fx_fail(name, true, "%s", what);
	fx_count(name, cond);
}

/* Behind the index's back (another build's daemon, one that knows no index): the blocklist's
 * trie loses the /32 x and gains the /32 y, the counts unchanged and no writer's mark. Then a
 * start that loads its program (index_check) takes the filter state over: x must pass and y
 * be blocked. */
static bool stale_then_restart(struct fworld *w, const char *tag, const char *xs, const char *ys)
{
	struct addr x = A(xs), y = A(ys), dst = A("198.18.1.1");
	struct xl4_lpm4_key kx = { .prefixlen = 32, .addr = htonl(ip4(xs)) };
	struct xl4_lpm4_key ky = { .prefixlen = 32, .addr = htonl(ip4(ys)) };
	struct xl4_prefix_entry e = { .len = 32 };
	struct xl4_filter_maps m = w->eng.filter;
	struct xl4_filter f2;
	char name[96];
	struct pkt p;

	snprintf(name, sizeof(name), "filter/%s/setup/behind-its-back", tag);
	if (!must(name, bpf_map_delete_elem(w->eng.filter.block4, &kx) ||
					bpf_map_update_elem(w->eng.filter.block4, &ky, &e, BPF_ANY) ?
				-errno :
				0,
		  ""))
		return false;
	pkt(&p, &x, &dst, IPPROTO_UDP, 53);
	snprintf(name, sizeof(name), "filter/%s/before/x-still-indexed", tag);
	fcheck(w, name, &p, W_BLOCK(32));
	pkt(&p, &y, &dst, IPPROTO_UDP, 53);
	snprintf(name, sizeof(name), "filter/%s/before/y-not-indexed", tag);
	fcheck(w, name, &p, W_PASS);
	m.index_check = true;
	snprintf(name, sizeof(name), "filter/%s/init", tag);
	if (!must(name, xl4_filter_init(&f2, &m, 0), ""))
		return false;
	xl4_filter_free(&w->f);
	w->f = f2;
	pkt(&p, &x, &dst, IPPROTO_UDP, 53);
	snprintf(name, sizeof(name), "filter/%s/after/x-passes", tag);
	fcheck(w, name, &p, W_PASS);
	pkt(&p, &y, &dst, IPPROTO_UDP, 53);
	snprintf(name, sizeof(name), "filter/%s/after/y-blocked", tag);
	fcheck(w, name, &p, W_BLOCK(32));
	return true;
}

/*
 * A new program over pins another build changed (docs/operations.md: a downgrade to a build
 * that knows no index, edits there, then this build again): x's direct slot still blocks it
 * while y's /24 names nothing. Before the fresh-load compare, that restart compared nothing.
 */
static void run_stale_index(struct fworld *w)
{
	if (!fx_selected("filter/stale-index/setup") || !list_add(w, XL4_LIST_BLOCK, "198.18.78.7/32", 0))
		return;
	if (stale_then_restart(w, "stale-index", "198.18.78.7", "198.18.79.9"))
		list_del(w, XL4_LIST_BLOCK, "198.18.79.9/32");
}

/*
 * The same in a world whose 16 groups are all taken, x and y in one /24: adding y first would
 * need a group (the slot still names x), so the compare deletes the stale x first and adds y
 * after, where before it refused the start ("holds more than its index takes").
 */
static void run_stale_index_full(struct fworld *w)
{
	char pfx[32];

	if (!fx_selected("filter/stale-index-full/setup"))
		return;
	for (int g = 0; g < 16; g++) { /* two /32s in each of 16 /24s: every group in use */
		snprintf(pfx, sizeof(pfx), "198.18.%d.1/32", 100 + g);
		if (!list_add(w, XL4_LIST_BLOCK, pfx, 0))
			return;
		snprintf(pfx, sizeof(pfx), "198.18.%d.2/32", 100 + g);
		if (!list_add(w, XL4_LIST_BLOCK, pfx, 0))
			return;
	}
	if (!list_add(w, XL4_LIST_BLOCK, "198.18.78.7/32", 0))
		return;
	expect_true("filter/stale-index-full/setup/groups-full",
		    xl4_dir24_groups_used(&w->f.d24[XL4_LIST_BLOCK].t) == 16,
		    "the 16 groups are not all in use (test bug)");
	if (!stale_then_restart(w, "stale-index-full", "198.18.78.7", "198.18.78.9"))
		return;
	expect_true("filter/stale-index-full/after/groups", xl4_dir24_groups_used(&w->f.d24[XL4_LIST_BLOCK].t) == 16,
		    "the compare left another count of groups in use than the 16 of the other /24s");
}

/*
 * A restart (docs/operations.md): a new daemon's filter state takes over the pinned maps and
 * applies its file over them. The entries the new file drops go, its own are in force, a
 * runtime entry stays with its deadline (and still expires), the previous rules are swapped
 * out with no stale port entries left; then a reload of yet another file.
 */
static void run_restart(struct fworld *w)
{
	struct xl4_prefix cfg1[] = { P("198.18.70.0/24"), P("198.18.71.0/24") };
	struct xl4_prefix cfg2[] = { P("198.18.71.0/24") }, cfg3[] = { P("198.18.70.0/24") };
	struct xl4_rule_spec r1[] = { R("198.18.73.1/32", IPPROTO_TCP, 80, 80, XL4_RULE_DROP) };
	struct xl4_rule_spec r2[] = { R("198.18.73.2/32", IPPROTO_UDP, 53, 53, XL4_RULE_DROP) };
	struct addr cli = A("198.18.74.1"), s70 = A("198.18.70.1"), s71 = A("198.18.71.1");
	struct addr s72 = A("198.18.72.1"), d1 = A("198.18.73.1"), d2 = A("198.18.73.2");
	struct xl4_filter f2;
	char err[256] = "";
	struct pkt p;

	/* the first daemon: its file, and a runtime entry with a deadline */
	if (!must("filter/restart/setup/lists", xl4_filter_lists_set_config(&w->f, NULL, 0, cfg1, 2, err, sizeof(err)), err) ||
	    !list_add(w, XL4_LIST_BLOCK, "198.18.72.0/24", T0 + 100 * SEC_NS) ||
	    !must("filter/restart/setup/rules", xl4_filter_rules_replace(&w->f, r1, 1, err, sizeof(err)), err))
		return;
	pkt(&p, &s70, &d2, IPPROTO_TCP, 80);
	fcheck(w, "filter/restart/before/file-block", &p, W_BLOCK(24));
	pkt(&p, &cli, &d1, IPPROTO_TCP, 80);
	fcheck(w, "filter/restart/before/file-rule", &p, W_RULE((int)w->f.rules[0].id));

	/* and a compile the first daemon did not finish (it died in it): one destination already
	 * on the other half's set, whose port entry is there too */
	{
		struct xl4_prefix cut = P("198.18.75.0/24");
		struct xl4_rdst_key dk = { .prefixlen = 32 + cut.len, .family = 4 };
		__u32 set = htonl((w->f.gen ^ 1) << 31 | 7);
		struct xl4_rport_key pk = { .prefixlen = 32, .set = set };
		struct xl4_rule r = { .id = 90, .action = XL4_RULE_DROP };

		dk.addr[0] = cut.addr[0];
		if (!must("filter/restart/setup/cut-short", bpf_map_update_elem(w->eng.filter.rport, &pk, &r, BPF_ANY) ? -errno : 0, "") ||
		    !must("filter/restart/setup/cut-short", bpf_map_update_elem(w->eng.filter.rdst, &dk, &set, BPF_ANY) ? -errno : 0, ""))
			return;
	}
	pkt(&p, &cli, &(struct addr){ .a4 = ip4("198.18.75.1") }, IPPROTO_TCP, 80);
	expect_true("filter/restart/before/cut-short-compile-in-force", send1(w, &p, &(__u32){ 0 }) == XDP_DROP,
		    "the half-written rule set does not match (test bug)");

	/* and a daemon that died between its two writes of a runtime block: the prefix is in the
	 * trie (the record) but not in the IPv4 index, so the datapath does not see it yet */
	{
		struct xl4_lpm4_key k = { .prefixlen = 24, .addr = htonl(ip4("198.18.77.0")) };
		struct xl4_prefix_entry e = { .len = 24 };

		if (!must("filter/restart/setup/record-only", bpf_map_update_elem(w->eng.filter.block4, &k, &e, BPF_ANY) ? -errno : 0, ""))
			return;
	}
	pkt(&p, &(struct addr){ .a4 = ip4("198.18.77.1") }, &d2, IPPROTO_TCP, 80);
	fcheck(w, "filter/restart/before/record-only-not-indexed", &p, W_PASS);

	/* the second daemon: nothing cleared, its file applied over what is there */
	if (!must("filter/restart/setup/init", xl4_filter_init(&f2, &w->eng.filter, 0), "") ||
	    !must("filter/restart/setup/adopt", xl4_filter_adopt_rules(&f2), ""))
		return;
	expect_true("filter/restart/runtime-deadline-tracked", f2.n_expiring == 1,
		    "the runtime entry's deadline was not picked up from the map");
	if (!must("filter/restart/setup/lists2", xl4_filter_lists_set_config(&f2, NULL, 0, cfg2, 1, err, sizeof(err)), err) ||
	    !must("filter/restart/setup/rules2", xl4_filter_rules_replace(&f2, r2, 1, err, sizeof(err)), err)) {
		xl4_filter_free(&f2);
		return;
	}
	xl4_filter_free(&w->f);
	w->f = f2;
	pkt(&p, &s70, &d2, IPPROTO_TCP, 80);
	fcheck(w, "filter/restart/after/dropped-from-file-passes", &p, W_PASS);
	pkt(&p, &s71, &d2, IPPROTO_TCP, 80);
	fcheck(w, "filter/restart/after/file-block", &p, W_BLOCK(24));
	pkt(&p, &s72, &d2, IPPROTO_TCP, 80);
	fcheck(w, "filter/restart/after/runtime-block-kept", &p, W_BLOCK(24));
	pkt(&p, &(struct addr){ .a4 = ip4("198.18.77.1") }, &d2, IPPROTO_TCP, 80);
	fcheck(w, "filter/restart/after/record-only-indexed", &p, W_BLOCK(24));
	pkt(&p, &cli, &d1, IPPROTO_TCP, 80);
	fcheck(w, "filter/restart/after/old-rule-gone", &p, W_PASS);
	pkt(&p, &cli, &d2, IPPROTO_UDP, 53);
	fcheck(w, "filter/restart/after/new-rule", &p, W_RULE((int)w->f.rules[0].id));
	pkt(&p, &cli, &(struct addr){ .a4 = ip4("198.18.75.1") }, IPPROTO_TCP, 80);
	fcheck(w, "filter/restart/after/cut-short-compile-gone", &p, W_PASS);
	expect_true("filter/restart/after/no-stale-port-entries",
		    map_count(w->eng.filter.rport, sizeof(struct xl4_rport_key)) == w->f.n_rport_keys,
		    "the port trie holds entries no rule set uses");
	expect_true("filter/restart/after/no-stale-destinations",
		    map_count(w->eng.filter.rdst, sizeof(struct xl4_rdst_key)) == w->f.n_rdst_keys,
		    "the destination trie holds prefixes no rule names");
	/* the runtime entry still expires, and the sweep removes it */
	clock_set(w, T0 + 101 * SEC_NS);
	pkt(&p, &s72, &d2, IPPROTO_TCP, 80);
	fcheck(w, "filter/restart/after/runtime-block-expires", &p, W_PASS);
	expect_true("filter/restart/after/sweep", xl4_filter_sweep(&w->f, T0 + 101 * SEC_NS) == 1,
		    "the sweep did not remove the expired runtime entry");

	/* a reload: another file */
	if (!must("filter/restart/setup/lists3", xl4_filter_lists_set_config(&w->f, NULL, 0, cfg3, 1, err, sizeof(err)), err))
		return;
	pkt(&p, &s70, &d2, IPPROTO_TCP, 80);
	fcheck(w, "filter/restart/reload/file-block-back", &p, W_BLOCK(24));
	pkt(&p, &s71, &d2, IPPROTO_TCP, 80);
	fcheck(w, "filter/restart/reload/dropped-from-file-passes", &p, W_PASS);
	clock_set(w, T0);
}

/* ---- the IPv4 index (src/dir24.c, bpf/filter.h d24_first) against a reference ------------ */

/* A plain model of a list: the walk bpf/filter.h list_match did with the trie alone. */
struct rlist {
	uint32_t a[256];
	uint8_t len[256];
	uint64_t exp[256];
	int n;
};

static uint64_t d24_rng;

static uint32_t d24_rnd(void)
{
	d24_rng ^= d24_rng << 13;
	d24_rng ^= d24_rng >> 7;
	d24_rng ^= d24_rng << 17;
	return (uint32_t)(d24_rng >> 16);
}

static uint32_t m4(int len)
{
	return (uint32_t)(0xffffffff00000000ull >> len);
}

static int rl_find(const struct rlist *r, uint32_t a, int len)
{
	for (int i = 0; i < r->n; i++)
		if (r->a[i] == a && r->len[i] == len)
			return i;
	return -1;
}

/* The matching entry's length, or -1: the longest live prefix holding a, looking past at most
 * XL4_LPM_EXPIRED_MAX expired ones; past that the blocklist answers with the last one seen. */
static int rl_match(const struct rlist *r, uint32_t a, uint64_t now, int fail_closed)
{
	int last = -1;

	for (int want = 32, step = 0; step <= XL4_LPM_EXPIRED_MAX; step++) {
		int best = -1;

		for (int i = 0; i < r->n; i++)
			if (r->len[i] <= want && ((a ^ r->a[i]) & m4(r->len[i])) == 0 &&
			    (best < 0 || r->len[i] > r->len[best]))
				best = i;
		if (best < 0)
			return -1;
		if (!r->exp[best] || now < r->exp[best])
			return r->len[best];
		if (r->len[best] == 0)
			return -1;
		last = r->len[best];
		want = r->len[best] - 1;
	}
	return fail_closed ? last : -1;
}

/* A random prefix: most in six /24s of 198.18.200.0 (so they nest and share /24s), some
 * /17../24 and some /0../16 over them. */
static void d24_prefix(uint32_t *a, int *len)
{
	uint32_t x = 0xc612c800u | ((d24_rnd() % 6) << 8) | (d24_rnd() & 0xff);
	int k = d24_rnd() % 10;

	*len = k == 0 ? (int)(d24_rnd() % 17) : k < 3 ? 17 + (int)(d24_rnd() % 8) : 25 + (int)(d24_rnd() % 8);
	*a = x & m4(*len);
}

/* One probe: verdict, reason and (for a block) the event's prefix length against the model. */
static bool d24_probe(struct fworld *w, const char *name, bool ok, enum xl4_list l,
		      const struct rlist *r, uint32_t src, const char *step)
{
	struct addr s = { .a4 = src }, dst = A("198.18.1.1");
	int want = rl_match(r, src, w->now, l == XL4_LIST_BLOCK), v;
	__u32 reason = XL4_R_NONE;
	struct pkt p;

	/* martian sources (bpf/parse.h: 0/8, 127/8, 224/3): the parser's drop when the stage
	 * judges the list, the blocklist's when its index does first (filter/early): skipped */
	if (src >> 24 == 0 || src >> 24 == 127 || src >> 29 == 7)
		return ok;
	pkt(&p, &s, &dst, IPPROTO_UDP, 53);
	sampler_refill(w);
	ring_buffer__consume(w->rb);
	evs.n = 0;
	v = send1(w, &p, &reason);
	ring_buffer__consume(w->rb);
	if (l == XL4_LIST_ALLOW) {
		/* under a blocklist of 0.0.0.0/0: an allowlist hit passes, a miss is blocked */
		if (want >= 0 ? v != XDP_PASS : v != XDP_DROP || reason != XL4_R_FILTER_BLOCK)
			ok = fx_fail(name, ok, "%s: %08x: allowlist match /%d, got %s/%s", step, src, want,
				     xl4_verdict_name((unsigned)v), xl4_reason_name(reason));
		return ok;
	}
	if (want < 0 && v != XDP_PASS)
		ok = fx_fail(name, ok, "%s: %08x: no blocklist match, got %s/%s", step, src,
			     xl4_verdict_name((unsigned)v), xl4_reason_name(reason));
	if (want >= 0 && (v != XDP_DROP || reason != XL4_R_FILTER_BLOCK || evs.n != 1 || (int)evs.detail != want))
		ok = fx_fail(name, ok, "%s: %08x: want blocked by a /%d, got %s/%s (%d events, /%u)", step, src,
			     want, xl4_verdict_name((unsigned)v), xl4_reason_name(reason), evs.n, evs.detail);
	return ok;
}

/* Random adds (with and without deadlines), renewals, deletes, sweeps and clock steps on one
 * list, each followed by probes on and around the edges of the prefixes there. A delete that
 * left a slot on the deleted entry, or did not give it back to the covering prefix, shows as a
 * wrong length or verdict. */
static void run_d24_random(struct fworld *w, enum xl4_list l, uint32_t seed, int steps)
{
	struct rlist r = { .n = 0 };
	char name[96], step[96];
	bool ok = true;

	snprintf(name, sizeof(name), "filter/d24/v4/random-%s-%u", l == XL4_LIST_ALLOW ? "allow" : "block", seed);
	if (!fx_selected(name))
		return;
	d24_rng = 0x9e3779b97f4a7c15ull ^ seed;
	if (l == XL4_LIST_ALLOW && !list_add(w, XL4_LIST_BLOCK, "0.0.0.0/0", 0))
		return;
	for (int s = 0; s < steps && ok; s++) {
		struct xl4_prefix px = { .family = 4 };
		char err[256] = "";
		int op = d24_rnd() % 20, i, len;
		uint32_t a;

		if (op < 9 || !r.n) {
			uint64_t exp = d24_rnd() % 2 ? 0 : w->now + (1 + d24_rnd() % 4) * SEC_NS;

			d24_prefix(&a, &len);
			i = rl_find(&r, a, len);
			if (i < 0 && r.n == 256)
				continue;
			px.len = (uint8_t)len;
			px.addr[0] = htonl(a);
			snprintf(step, sizeof(step), "step %d: add %08x/%d", s, a, len);
			if (xl4_filter_list_add(&w->f, l, &px, 1, exp, err, sizeof(err))) {
				ok = fx_fail(name, ok, "%s: %s", step, err);
				break;
			}
			if (i < 0) {
				i = r.n++;
				r.a[i] = a;
				r.len[i] = (uint8_t)len;
			}
			r.exp[i] = exp;
		} else if (op < 17) {
			i = d24_rnd() % r.n;
			px.len = r.len[i];
			px.addr[0] = htonl(r.a[i]);
			snprintf(step, sizeof(step), "step %d: del %08x/%u", s, r.a[i], r.len[i]);
			if (xl4_filter_list_del(&w->f, l, &px, 1, err, sizeof(err))) {
				ok = fx_fail(name, ok, "%s: %s", step, err);
				break;
			}
			r.n--;
			r.a[i] = r.a[r.n];
			r.len[i] = r.len[r.n];
			r.exp[i] = r.exp[r.n];
		} else if (op < 19) {
			clock_set(w, w->now + SEC_NS);
			snprintf(step, sizeof(step), "step %d: clock +1 s", s);
		} else {
			int n = 0;

			xl4_filter_sweep(&w->f, w->now);
			for (i = 0; i < r.n;) {
				if (r.exp[i] && r.exp[i] <= w->now) {
					r.n--;
					r.a[i] = r.a[r.n];
					r.len[i] = r.len[r.n];
					r.exp[i] = r.exp[r.n];
					n++;
				} else {
					i++;
				}
			}
			snprintf(step, sizeof(step), "step %d: sweep (%d)", s, n);
		}
		for (int k = 0; k < 3 && r.n; k++) {
			i = d24_rnd() % r.n;
			a = r.a[i];
			ok = d24_probe(w, name, ok, l, &r, a, step);
			ok = d24_probe(w, name, ok, l, &r, a | ~m4(r.len[i]), step);
			ok = d24_probe(w, name, ok, l, &r, a - 1, step);
			ok = d24_probe(w, name, ok, l, &r, (a | ~m4(r.len[i])) + 1, step);
		}
		ok = d24_probe(w, name, ok, l, &r, 0xc612c800u | (d24_rnd() % 0x600), step);
	}
	/* leave the world as it was: every entry gone, the clock back */
	for (int i = 0; i < r.n; i++) {
		struct xl4_prefix px = { .family = 4, .len = r.len[i], .addr = { htonl(r.a[i]) } };
		char err[256];

		xl4_filter_list_del(&w->f, l, &px, 1, err, sizeof(err));
	}
	if (l == XL4_LIST_ALLOW)
		list_del(w, XL4_LIST_BLOCK, "0.0.0.0/0");
	clock_set(w, T0);
	fx_count(name, ok);
}

/* Updates while traffic flows. Another CPU sends a packet from 198.18.210.77 over and over
 * while this thread adds and deletes prefixes holding it (a /24, /25, /26 and the /32, making
 * and unmaking a group), always under a permanent 198.18.0.0/16: the source is blocked before
 * and after every change, so no packet may pass (docs/filter.md, "Changes under traffic"). */
struct d24_sender {
	struct fworld *w;
	struct pkt p;
	volatile int stop;
	long sent, passed, other;
};

static uint64_t mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * SEC_NS + (uint64_t)ts.tv_nsec;
}

static void *d24_send_loop(void *arg)
{
	struct d24_sender *sd = arg;

	while (!sd->stop) {
		__u32 reason;
		int v = send1(sd->w, &sd->p, &reason);

		sd->sent++;
		if (v == XDP_PASS)
			sd->passed++;
		else if (v != XDP_DROP || reason != XL4_R_FILTER_BLOCK)
			sd->other++;
	}
	return NULL;
}

static void run_d24_concurrent(struct fworld *w)
{
	static const char *const nest[] = { "198.18.210.0/24", "198.18.210.0/25", "198.18.210.64/26",
					    "198.18.210.77/32", "198.18.210.76/30", "198.18.210.128/25" };
	const char *name = "filter/d24/v4/changes-under-traffic";
	static struct d24_sender sd;
	struct addr src = A("198.18.210.77"), dst = A("198.18.1.1");
	cpu_set_t other;
	pthread_t th;
	int cpu = sched_getcpu(), rounds = 0;
	bool ok = true;

	if (!fx_selected(name))
		return;
	if (ncpu < 2) {
		printf("SKIP %s: needs two CPUs (one sends, one changes the list)\n", name);
		return;
	}
	if (!list_add(w, XL4_LIST_BLOCK, "198.18.0.0/16", 0))
		return;
	memset(&sd, 0, sizeof(sd));
	sd.w = w;
	pkt(&sd.p, &src, &dst, IPPROTO_UDP, 53);
	if (pthread_create(&th, NULL, d24_send_loop, &sd)) {
		fx_fail(name, true, "pthread_create failed");
		fx_count(name, false);
		return;
	}
	CPU_ZERO(&other);
	for (int c = 0; c < ncpu && c < CPU_SETSIZE; c++)
		if (c != cpu)
			CPU_SET(c, &other);
	pthread_setaffinity_np(th, sizeof(other), &other);
	for (uint64_t t_end = mono() + 2 * SEC_NS; mono() < t_end; rounds++) {
		/* in, then out in another order, so slots go up and down and groups come and go */
		for (int i = 0; i < 6; i++)
			list_add(w, XL4_LIST_BLOCK, nest[(i * 5 + rounds) % 6], 0);
		for (int i = 0; i < 6; i++)
			list_del(w, XL4_LIST_BLOCK, nest[(i * 7 + rounds) % 6]);
	}
	sd.stop = 1;
	pthread_join(th, NULL);
	if (sd.sent < 1000)
		ok = fx_fail(name, ok, "only %ld packets sent in 2 s", sd.sent);
	if (sd.passed || sd.other)
		ok = fx_fail(name, ok, "%ld of %ld packets passed and %ld had another verdict over %d rounds of changes",
			     sd.passed, sd.sent, sd.other, rounds);
	if (fx.verbose)
		printf("       %s: %ld packets over %d rounds of 12 changes\n", name, sd.sent, rounds);
	list_del(w, XL4_LIST_BLOCK, "198.18.0.0/16");
	fx_count(name, ok);
}

/* One source's packets on two CPUs at once (RSS spreads its flows over receive queues) share
 * its bucket: with the clock frozen, a burst of 1,000 lets 1,000 pass, not more. Each CPU runs
 * the program 20,000 times in one test run, both started together; with plain writes to the
 * bucket two CPUs could spend one token twice (and both apply one refill). */
struct rate_runner {
	int prog_fd, cpu;
	const struct pkt *p;
	pthread_barrier_t *go;
	int err;
};

static void *rate_run(void *arg)
{
	struct rate_runner *r = arg;
	cpu_set_t one;

	CPU_ZERO(&one);
	CPU_SET(r->cpu, &one);
	if (pthread_setaffinity_np(pthread_self(), sizeof(one), &one)) {
		r->err = -EINVAL;
		return NULL;
	}
	pthread_barrier_wait(r->go);
	{
		LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = r->p->b, .data_size_in = r->p->len,
			    .repeat = 20000);

		r->err = bpf_prog_test_run_opts(r->prog_fd, &o) ? -errno : 0;
	}
	return NULL;
}

static void run_rate_two_cpus(struct fworld *w)
{
	const char *name = "filter/rate/v4/two-cpus-one-burst";
	struct addr src = A("198.18.73.9"), dst = A("198.18.73.1");
	struct xl4_totals before, after;
	struct rate_runner r[2];
	pthread_barrier_t go;
	pthread_t th[2];
	uint64_t passed;
	uint32_t id;
	struct pkt p;
	bool ok = true;

	if (!fx_selected(name))
		return;
	if (ncpu < 2) {
		printf("SKIP %s: needs two CPUs (one source's packets on both at once)\n", name);
		return;
	}
	id = rule_add(w, (struct xl4_rule_spec){ .dst = P("198.18.73.1/32"), .proto = IPPROTO_UDP,
						 .action = XL4_RULE_LIMIT, .rate = 1, .burst = 1000 });
	if (!id)
		return;
	clock_set(w, w->now + 100 * SEC_NS);
	pkt(&p, &src, &dst, IPPROTO_UDP, 53);
	if (xl4_counters_read(w->eng.stats_fd, &before)) {
		fx_fail(name, true, "cannot read the counters");
		fx_count(name, false);
		return;
	}
	pthread_barrier_init(&go, NULL, 2);
	for (int i = 0; i < 2; i++) {
		r[i] = (struct rate_runner){ .prog_fd = w->eng.prog_fd, .cpu = i, .p = &p, .go = &go };
		if (pthread_create(&th[i], NULL, rate_run, &r[i])) {
			/* the first runner waits at the barrier for ever: let it through */
			if (i == 1)
				pthread_barrier_wait(&go), pthread_join(th[0], NULL);
			pthread_barrier_destroy(&go);
			fx_fail(name, true, "pthread_create failed");
			fx_count(name, false);
			return;
		}
	}
	for (int i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	pthread_barrier_destroy(&go);
	if (r[0].err || r[1].err || xl4_counters_read(w->eng.stats_fd, &after)) {
		ok = fx_fail(name, ok, "test runs: %s / %s", strerror(-r[0].err), strerror(-r[1].err));
	} else {
		passed = after.c[XDP_PASS].packets - before.c[XDP_PASS].packets;
		/* a take that loses its exchange four times in a row drops: a few may, never more
		 * than the burst pass */
		if (passed > 1000 || passed < 990)
			ok = fx_fail(name, ok, "%llu of 40000 packets passed a burst of 1000",
				     (unsigned long long)passed);
		if (fx.verbose)
			printf("       %s: %llu of 40000 passed\n", name, (unsigned long long)passed);
	}
	fx_count(name, ok);
}

/* A full index is an error naming the setting, and nothing of the batch is added: with 16
 * groups, the 17th /24 holding two /32s finds none left. */
static void run_d24_full(struct fworld *w)
{
	const char *name = "filter/d24/v4/groups-full-refused";
	struct xl4_prefix p[2];
	char err[256] = "", s[64];
	bool ok = true;
	int ret = 0, g;

	if (!fx_selected(name))
		return;
	for (g = 0; g < 17 && !ret; g++) {
		snprintf(s, sizeof(s), "198.18.%d.1", 220 + g);
		p[0] = P(s);
		snprintf(s, sizeof(s), "198.18.%d.2", 220 + g);
		p[1] = P(s);
		ret = xl4_filter_list_add(&w->f, XL4_LIST_BLOCK, p, 2, 0, err, sizeof(err));
	}
	if (g != 17 || !ret)
		ok = fx_fail(name, ok, "with 16 groups, pair %d was refused (%d), want the 17th", g, ret);
	else if (!strstr(err, "filter.ipv4_groups") || !strstr(err, "nothing was added"))
		ok = fx_fail(name, ok, "the error does not name filter.ipv4_groups and say nothing was added: '%s'", err);
	fx_count(name, ok);
	{
		struct addr dst = A("198.18.1.1"), a = A("198.18.236.1"), b = A("198.18.235.2");
		struct pkt q;

		/* the refused pair's first /32 went in and came out again: not blocked */
		pkt(&q, &a, &dst, IPPROTO_UDP, 53);
		fcheck(w, "filter/d24/v4/groups-full-nothing-added", &q, W_PASS);
		pkt(&q, &b, &dst, IPPROTO_UDP, 53);
		fcheck(w, "filter/d24/v4/groups-full-earlier-blocked", &q, W_BLOCK(32));
	}
}

/* ---- a blocklisted IPv4 source is dropped before the rest of its parse ----------------------- */

enum bad_kind { BAD_NONE, BAD_IP_CSUM, BAD_TCP_FLAGS, BAD_TCP_DOFF };

/* A TCP SYN from src to dst, spoiled as `bad` says. */
static void bad_pkt(struct pkt *p, const struct addr *src, const struct addr *dst, enum bad_kind bad)
{
	pb_init(p);
	pb_eth(p, 0);
	pb_ip4(p, &(struct pb_ip4){ .src = src->a4, .dst = dst->a4 });
	pb_tcp(p, 40000, 80, bad == BAD_TCP_FLAGS ? TH_SYN | TH_FIN : TH_SYN);
	pb_finish(p);
	if (bad == BAD_IP_CSUM)
		p->b[p->l3 + 10] ^= 0x5a;
	if (bad == BAD_TCP_DOFF) /* a 16-byte TCP header: shorter than the fixed one */
		p->b[p->l4 + 12] = 4 << 4;
}

/* One spoiled packet: its verdict, reason, the reason's counter and its one event; with
 * want_detail UNSAMPLED, the sampler is spent first and no event may come. */
#define UNSAMPLED 0xffffffffu
static bool early_check(struct fworld *w, const char *name, const struct pkt *in, __u32 want_reason,
			__u32 want_detail)
{
	int want_events = want_detail == UNSAMPLED ? 0 : 1;

	struct xl4_totals before, after;
	__u32 reason = 0;
	int verdict, err;
	bool ok = true;

	if (!fx_selected(name))
		return true;
	expected_seen[want_reason]++;
	fx_pcap_write(in);
	if (want_events)
		sampler_refill(w);
	else
		sampler_spend(w);
	ring_buffer__consume(w->rb);
	evs.n = 0;
	if ((err = xl4_counters_read(w->eng.stats_fd, &before)))
		return fx_fail(name, true, "counters: %s", strerror(-err)), fx_count(name, false), false;
	verdict = send1(w, in, &reason);
	if ((err = xl4_counters_read(w->eng.stats_fd, &after)))
		return fx_fail(name, true, "counters: %s", strerror(-err)), fx_count(name, false), false;
	ring_buffer__consume(w->rb);
	if (verdict != XDP_DROP || reason != want_reason)
		ok = fx_fail(name, ok, "want drop/%s, got %d/%s", xl4_reason_name(want_reason), verdict,
			     xl4_reason_name(reason));
	if (xl4_reason_ctr(&after, want_reason)->packets - xl4_reason_ctr(&before, want_reason)->packets != 1)
		ok = fx_fail(name, ok, "the %s counter did not count it once", xl4_reason_name(want_reason));
	if (evs.n != want_events ||
	    (want_events && (evs.reason != want_reason || (want_detail && evs.detail != want_detail))))
		ok = fx_fail(name, ok, "want %d %s event(s) (detail %u), got %d (%s, detail %u)",
			     want_events, xl4_reason_name(want_reason), want_detail, evs.n,
			     xl4_reason_name(evs.reason), evs.detail);
	fx_count(name, ok);
	return ok;
}

/*
 * The pipeline judges an IPv4 source against the blocklist's index as soon as the fixed header
 * is read (bpf/xl4.bpf.c): a blocked source's packet is a blocklist drop whatever else is wrong
 * with it, and an unblocked source's spoiled packet is still refused for what is wrong. With an
 * IPv4 allowlist the front leaves the source to the stage, which runs after the whole parse: the
 * spoiled packet is then refused by the parser first.
 */
static void run_early_block(struct fworld *w)
{
	static const struct {
		enum bad_kind bad;
		const char *what;
		__u32 reason;
	} bads[] = {
		{ BAD_IP_CSUM, "ip-checksum", XL4_R_IP4_BAD_CSUM },
		{ BAD_TCP_FLAGS, "syn-fin", XL4_R_TCP_FLAGS_SYN_FIN },
		{ BAD_TCP_DOFF, "tcp-doff-4", XL4_R_TCP_BAD_DOFF },
	};
	struct addr blocked = A("198.18.70.9"), other = A("198.18.71.9"), dst = A("198.19.0.1");
	char name[128];
	struct pkt p;

	if (!list_add(w, XL4_LIST_BLOCK, "198.18.70.0/24", 0))
		return;
	for (size_t i = 0; i < sizeof(bads) / sizeof(bads[0]); i++) {
		bad_pkt(&p, &blocked, &dst, bads[i].bad);
		snprintf(name, sizeof(name), "filter/early/v4/%s/blocked-source", bads[i].what);
		early_check(w, name, &p, XL4_R_FILTER_BLOCK, 24);
		/* the same again, the sampler spent: the drop no event samples */
		snprintf(name, sizeof(name), "filter/early/v4/%s/blocked-source-unsampled", bads[i].what);
		early_check(w, name, &p, XL4_R_FILTER_BLOCK, UNSAMPLED);
		bad_pkt(&p, &other, &dst, bads[i].bad);
		snprintf(name, sizeof(name), "filter/early/v4/%s/other-source", bads[i].what);
		early_check(w, name, &p, bads[i].reason, 0);
	}
	if (list_add(w, XL4_LIST_ALLOW, "198.18.72.0/24", 0)) {
		for (size_t i = 0; i < sizeof(bads) / sizeof(bads[0]); i++) {
			bad_pkt(&p, &blocked, &dst, bads[i].bad);
			snprintf(name, sizeof(name), "filter/early/v4/%s/blocked-source-with-allowlist",
				 bads[i].what);
			early_check(w, name, &p, bads[i].reason, 0);
		}
		list_del(w, XL4_LIST_ALLOW, "198.18.72.0/24");
	}
	/* and a well-formed packet from the blocked source: the front's plain answer */
	bad_pkt(&p, &blocked, &dst, BAD_NONE);
	early_check(w, "filter/early/v4/well-formed/blocked-source", &p, XL4_R_FILTER_BLOCK, 24);
	list_del(w, XL4_LIST_BLOCK, "198.18.70.0/24");
}

/* The sources run_early_random() blocks, and the prefix length each holds a source by: written
 * from the prefixes, not from the filter's code. */
static const char *const early_rand_block[] = { "198.18.0.0/25", "198.18.0.200/32",
						"224.0.0.1/32", "2001:db8::/121" };

static unsigned int early_rand_len(int v6, const uint32_t src[4])
{
	static const uint8_t v6net[15] = { 0x20, 0x01, 0x0d, 0xb8 };
	uint32_t a = ntohl(src[0]);

	if (v6)
		return !memcmp(src, v6net, sizeof(v6net)) && ((const uint8_t *)src)[15] < 128 ? 121 : 0;
	return (a & 0xffffff80u) == 0xc6120000u ? 25 : a == 0xc61200c8u || a == 0xe0000001u ? 32 : 0;
}

/* docs/filter.md's condition for judging an IPv4 source early, from the frame's bytes: an IPv4
 * ethertype behind at most two VLAN tags, and 20 bytes of header there with version 4. */
static bool ip4_head_whole(const uint8_t *b, uint32_t len, uint32_t *src)
{
	uint32_t off = 12;
	uint16_t et = (uint16_t)(b[12] << 8 | b[13]);

	for (int i = 0; i < 2 && (et == ETH_P_8021Q || et == ETH_P_8021AD); i++) {
		if (off + 6 > len)
			return false;
		off += 4;
		et = (uint16_t)(b[off] << 8 | b[off + 1]);
	}
	if (et != ETH_P_IP || off + 2 + 20 > len || b[off + 2] >> 4 != 4)
		return false;
	memcpy(src, b + off + 2 + 12, 4);
	return true;
}

/*
 * Random and mutated packets (pktrand.h, the random suite's) against a blocklist that holds
 * about half their sources: what each must get follows from the order docs/filter.md gives,
 * with the parser run in user space (uparse.h) for what it refuses. An IPv4 source the list
 * holds is a filter_block drop once its fixed header is whole, whatever the rest of the packet
 * is (a martian source among them); anything else is first the parser's to refuse; an IPv6
 * source is judged after the whole parse; the rest passes (this world has no VIPs). Before each
 * packet the drop sampler is either refilled or spent, at random: a drop then has exactly one
 * event or none, with the drop's reason and, for the blocklist, the holding prefix's length.
 * The run must also have met each order at least once: a blocked IPv4 packet the parser would
 * refuse (sampled and not), and a blocked IPv6 one it does refuse.
 */
static void run_early_random(struct fworld *w, unsigned long long seed, int count)
{
	static const char name[] = "filter/early/random";
	struct prng r = { .s = seed };
	int bad = 0, early4[2] = { 0 }, late6 = 0, ported = 0;
	size_t added = 0, n = sizeof(early_rand_block) / sizeof(early_rand_block[0]);
	bool ok = true;

	if (!fx_selected(name))
		return;
	while (added < n && list_add(w, XL4_LIST_BLOCK, early_rand_block[added], 0))
		added++;
	if (added < n)
		goto out;
	for (int i = 0; i < count; i++) {
		struct fx_uparsed u;
		__u32 reason = 0, want_reason, detail = 0, src4[4] = { 0 };
		int verdict, want, sampled = (int)prng_below(&r, 2);
		const char *why = NULL;
		struct pkt p;

		pr_packet(&p, &r, ETH_HLEN);
		fx_uparse_parts(p.b, p.len, XL4_FRAG_PASS, &u);
		if (ip4_head_whole(p.b, p.len, src4) && (detail = early_rand_len(0, src4))) {
			want_reason = XL4_R_FILTER_BLOCK;
			early4[sampled] += !!u.reason;
			ported += sampled && !u.reason && u.l4 &&
				  (u.proto == IPPROTO_TCP || u.proto == IPPROTO_UDP);
		} else if (u.reason) {
			want_reason = u.reason;
			late6 += u.head == ETH_P_IPV6 && early_rand_len(1, u.src);
		} else {
			detail = u.head == ETH_P_IPV6 ? early_rand_len(1, u.src) : 0;
			want_reason = detail ? XL4_R_FILTER_BLOCK : XL4_R_NONE;
		}
		want = want_reason == XL4_R_NONE ? XDP_PASS : XDP_DROP;
		if (sampled)
			sampler_refill(w);
		else
			sampler_spend(w);
		evs.n = 0;
		verdict = send1(w, &p, &reason);
		ring_buffer__consume(w->rb);
		if (verdict != want || reason != want_reason)
			why = "not the verdict and reason the order gives";
		else if (evs.n != (want == XDP_DROP && sampled))
			why = sampled ? "a sampled drop without its one event" : "an event the sampler did not allow";
		else if (evs.n && (evs.reason != reason ||
				   (reason == XL4_R_FILTER_BLOCK && evs.detail != detail)))
			why = "the event's reason, or its prefix length, is not the drop's";
		else if (evs.n && !u.reason && (u.proto == IPPROTO_TCP || u.proto == IPPROTO_UDP) &&
			 u.l4 && (!(evs.l4_flags & XL4_EV_L4_PORTS) || evs.sport != u.sport ||
				  evs.dport != u.dport))
			why = "the event of a whole TCP or UDP packet lacks its ports";
		if (why && bad++ < 5) {
			ok = fx_fail(name, ok, "packet %d (seed %llu): %s: want %s/%s (prefix /%u), got "
				     "%d/%s, %d event(s) (%s, detail %u)", i, seed, why,
				     want == XDP_PASS ? "pass" : "drop", xl4_reason_name(want_reason),
				     detail, verdict, xl4_reason_name(reason), evs.n,
				     xl4_reason_name(evs.reason), evs.detail);
			fx_pcap_write(&p);
		}
	}
	if (bad > 5)
		printf("       ... %d offending packets in all\n", bad);
	if (!early4[0] || !early4[1] || !late6 || !ported)
		ok = fx_fail(name, ok, "the packets did not meet each order (%d/%d blocked IPv4 ones the "
			     "parser would refuse, unsampled/sampled; %d blocked IPv6 ones it refused; "
			     "%d sampled whole ones with ports)", early4[0], early4[1], late6, ported);
	fx_count(name, ok);
	printf("%s: %d packets (seed %llu): %d/%d blocked IPv4 ones the parser would refuse "
	       "(unsampled/sampled), %d blocked IPv6 ones it refused, %d sampled whole ones with "
	       "ports\n", name, count, seed, early4[0], early4[1], late6, ported);
out:
	ring_buffer__consume(w->rb);
	while (added--)
		list_del(w, XL4_LIST_BLOCK, early_rand_block[added]);
}

/* ---- random rule sets against the documented precedence ---------------------------------- */

struct rrule {
	struct xl4_rule_spec spec;
	uint32_t id;
};

/* Does prefix x hold the address a (network order, x's family)? */
static bool rand_prefix_holds(const struct xl4_prefix *x, const __be32 a[4])
{
	for (int i = 0, bits = x->len; bits > 0; i++, bits -= 32) {
		uint32_t mask = bits >= 32 ? ~0u : ~0u << (32 - bits);

		if ((ntohl(a[i]) & mask) != (ntohl(x->addr[i]) & mask))
			return false;
	}
	return true;
}

/* docs/filter.md "Precedence", step 3, for one packet (dport 0: no ports): among the rules
 * whose destination holds it, whose protocol is the packet's (or any: with ports, TCP and UDP
 * only) and whose ports hold its port (a rule on every port also holds a port-less packet), the
 * most specific destination, then a protocol's over any's, then the narrowest port range. */
static const struct rrule *rand_rule_pick(const struct rrule *rs, int n, const __be32 daddr[4],
					  uint8_t proto, uint16_t dport)
{
	const struct rrule *best = NULL;

	for (int i = 0; i < n; i++) {
		const struct xl4_rule_spec *r = &rs[i].spec;
		bool every = !r->port_lo && !r->port_hi;
		uint32_t w, bw;

		if (!rand_prefix_holds(&r->dst, daddr))
			continue;
		if (r->proto != XL4_PROTO_ANY ? r->proto != proto :
						!every && proto != IPPROTO_TCP && proto != IPPROTO_UDP)
			continue;
		if (!every && (!dport || dport < r->port_lo || dport > r->port_hi))
			continue;
		if (!best) {
			best = &rs[i];
			continue;
		}
		w = every ? 65536 : r->port_hi - r->port_lo + 1u;
		bw = !best->spec.port_lo && !best->spec.port_hi ? 65536 :
								  best->spec.port_hi - best->spec.port_lo + 1u;
		if (r->dst.len != best->spec.dst.len ? r->dst.len > best->spec.dst.len :
		    (r->proto == XL4_PROTO_ANY) != (best->spec.proto == XL4_PROTO_ANY) ?
						       r->proto != XL4_PROTO_ANY :
						       w < bw)
			best = &rs[i];
	}
	return best;
}

/*
 * Random rule sets (two to eight rules over nested destinations around 198.18.1.1, any of the
 * protocols, a port, a range or every port, allow or drop; a rule the filter refuses as a
 * conflict is left out) and packets to those destinations (TCP, UDP, ICMP, later fragments
 * without ports), each checked against rand_rule_pick(): the verdict, the reason, which rule's
 * counters moved, and the drop event's rule id.
 */
static void run_rules_random(struct fworld *w, int v6, unsigned long long seed, int sets)
{
	static const char *const dsts4[] = { "198.18.0.0/16", "198.18.1.0/24", "198.18.1.0/28",
					     "198.18.1.1", "198.18.1.2", "198.18.2.0/24" };
	static const char *const dsts6[] = { "2001:db8::/32", "2001:db8:1::/48", "2001:db8:1::/120",
					     "2001:db8:1::1", "2001:db8:1::2", "2001:db8:2::/48" };
	static const char *const daddrs6[] = { "2001:db8:1::1", "2001:db8:1::2", "2001:db8:1::9",
					       "2001:db8:1::1:0", "2001:db8:2::5", "2001:db8:3::1" };
	const char *const *dsts = v6 ? dsts6 : dsts4;
	uint8_t icmp = v6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP;
	const uint8_t protos[] = { IPPROTO_TCP, IPPROTO_UDP, icmp, XL4_PROTO_ANY };
	static const uint16_t ranges[][2] = { { 0, 0 }, { 0, 0 }, { 53, 53 }, { 80, 80 }, { 80, 81 },
					      { 1000, 2000 }, { 1500, 1599 }, { 1000, 1000 } };
	static const uint32_t daddrs[] = { 0xc6120101u, 0xc6120102u, 0xc6120109u, 0xc61201c8u,
					   0xc6120205u, 0xc6120301u };
	static const uint16_t ports[] = { 53, 80, 81, 999, 1000, 1499, 1500, 1599, 1600, 2000, 2001 };
	const char *name = v6 ? "filter/rules/v6/random" : "filter/rules/v4/random";
	struct prng r = { .s = seed };
	int bad = 0, picked = 0, none = 0, dropped = 0;
	bool ok = true;

	if (!fx_selected(name))
		return;
	for (int set = 0; set < sets; set++) {
		struct rrule rs[8];
		int n = 0, want_n = 2 + (int)prng_below(&r, 7);

		for (int i = 0; i < want_n; i++) {
			char err[256];
			uint8_t proto = PICK(&r, protos);
			const uint16_t *pr = ranges[prng_below(&r, 8)];
			struct xl4_rule_spec sp = R(dsts[prng_below(&r, 6)], proto, proto == icmp ? 0 : pr[0],
						    proto == icmp ? 0 : pr[1],
						    prng_below(&r, 2) ? XL4_RULE_DROP : XL4_RULE_ALLOW);

			if (!xl4_filter_rule_add(&w->f, &sp, &rs[n].id, err, sizeof(err)))
				rs[n++].spec = sp;
		}
		for (int k = 0; k < 40; k++) {
			uint32_t d4 = PICK(&r, daddrs), reason = 0, kind = prng_below(&r, 4);
			struct addr dst = v6 ? A(PICK(&r, daddrs6)) : (struct addr){ 0 };
			__be32 daddr[4] = { htonl(d4) };
			uint16_t dport = PICK(&r, ports);
			uint8_t proto = kind < 2 ? IPPROTO_TCP : kind == 2 ? IPPROTO_UDP : icmp;
			bool later = proto != icmp && !prng_below(&r, 8);
			const struct rrule *want;
			struct xl4_rule_counters before[8], after[8];
			const char *why = NULL;
			int verdict;
			struct pkt p;

			pb_init(&p);
			pb_eth(&p, 0);
			if (v6) {
				memcpy(daddr, &dst.a6, 16);
				pb_ip6(&p, &(struct pb_ip6){ .src = CLIENT6, .dst = dst.a6 });
				if (later)
					pb_frag6(&p, 100, 0, 0x4242);
			} else {
				pb_ip4(&p, &(struct pb_ip4){ .src = CLIENT4, .dst = d4,
							    .frag = later ? 100 : 0 });
			}
			if (later)
				pb_raw(&p, proto, NULL, 32);
			else if (proto == IPPROTO_TCP)
				pb_tcp(&p, CLIENT_PORT, dport, TH_ACK);
			else if (proto == IPPROTO_UDP)
				pb_udp(&p, CLIENT_PORT, dport);
			else if (v6)
				pb_icmp6(&p, 128, 0);
			else
				pb_icmp(&p, 8, 0);
			pb_finish(&p);
			want = rand_rule_pick(rs, n, daddr, proto, later || proto == icmp ? 0 : dport);
			for (int i = 0; i < n; i++)
				xl4_filter_rule_counters_read(&w->f, rs[i].id, &before[i]);
			sampler_refill(w);
			evs.n = 0;
			verdict = send1(w, &p, &reason);
			ring_buffer__consume(w->rb);
			for (int i = 0; i < n; i++)
				xl4_filter_rule_counters_read(&w->f, rs[i].id, &after[i]);
			if (want && want->spec.action == XL4_RULE_DROP ?
				    verdict != XDP_DROP || reason != XL4_R_FILTER_RULE || evs.n != 1 ||
					    evs.detail != want->id :
				    verdict != XDP_PASS)
				why = "not the verdict, reason or rule id the precedence gives";
			for (int i = 0; i < n && !why; i++)
				if (after[i].matched - before[i].matched != (&rs[i] == want) ||
				    after[i].dropped - before[i].dropped !=
					    (&rs[i] == want && want->spec.action == XL4_RULE_DROP))
					why = "not exactly the chosen rule's counters moved";
			picked += !!want, none += !want;
			dropped += want && want->spec.action == XL4_RULE_DROP;
			if (why && bad++ < 5) {
				char da[INET6_ADDRSTRLEN];

				inet_ntop(v6 ? AF_INET6 : AF_INET, daddr, da, sizeof(da));
				ok = fx_fail(name, ok, "set %d packet %d (seed %llu): %s: to %s proto %u "
					     "port %u%s: want rule %u, got %d/%s (event rule %u)", set, k,
					     seed, why, da, proto, dport,
					     later ? " (a later fragment)" : "", want ? want->id : 0,
					     verdict, xl4_reason_name(reason), evs.n ? evs.detail : 0);
				for (int i = 0; i < n; i++) {
					char a[INET6_ADDRSTRLEN];

					inet_ntop(v6 ? AF_INET6 : AF_INET, rs[i].spec.dst.addr, a,
						  sizeof(a));
					printf("       rule %u: dst %s/%u proto %u ports %u-%u %s\n",
					       rs[i].id, a, rs[i].spec.dst.len, rs[i].spec.proto,
					       rs[i].spec.port_lo, rs[i].spec.port_hi,
					       rs[i].spec.action == XL4_RULE_DROP ? "drop" : "allow");
				}
			}
		}
		while (n--)
			rule_del(w, rs[n].id);
	}
	if (bad > 5)
		printf("       ... %d offending packets in all\n", bad);
	if (!picked || !none || !dropped)
		ok = fx_fail(name, ok, "an outcome never came: %d packets a rule decided (%d drops), %d "
			     "no rule did", picked, dropped, none);
	fx_count(name, ok);
	if (fx.verbose)
		printf("%s: %d rule sets (seed %llu): %d packets a rule decided (%d drops), %d none\n",
		       name, sets, seed, picked, dropped, none);
}

static const unsigned int suite_reasons[] = { XL4_R_FILTER_BLOCK, XL4_R_FILTER_RULE, XL4_R_FILTER_RATE,
					      XL4_R_FILTER_RATE_SHARED };

bool filter_reason_expected(unsigned int reason, const char **untestable)
{
	(void)untestable; /* every filter reason is testable: left as the LB check set it */
	for (size_t i = 0; i < sizeof(suite_reasons) / sizeof(suite_reasons[0]); i++)
		if (suite_reasons[i] == reason)
			return true;
	return false;
}

void suite_filter(void)
{
	static struct fworld w;
	int before = fx.passed + fx.failed;
	cpu_set_t old;

	if (fx.filter && (!strncmp(fx.filter, "lb/", 3) || !strncmp(fx.filter, "agent", 5)))
		return; /* a filter naming another suite: do not even load the engines */
	ncpu = libbpf_num_possible_cpus();
	/* budgets and the shared bucket are per CPU: keep every test run on this one */
	fx_pin(&old);

	if (world_open(&w, "main", 0)) {
		run_list_boundaries(&w);
		run_expiry(&w);
		run_expiry_depth(&w);
		run_expiry_depth5(&w);
		run_precedence(&w);
		run_batch(&w);
		run_rate(&w);
		run_global(&w);
	}
	world_close(&w);
	if (world_open(&w, "budget", 5))
		run_shared(&w);
	world_close(&w);
	if (world_open(&w, "restart", 0))
		run_restart(&w);
	world_close(&w);
	if (world_open(&w, "stale-index", 0))
		run_stale_index(&w);
	world_close(&w);
	if (world_open(&w, "early", 0)) {
		run_early_block(&w);
		run_early_random(&w, fx.seed, 20000);
		run_rules_random(&w, 0, fx.seed, 200);
		run_rules_random(&w, 1, fx.seed + 1, 200);
	}
	world_close(&w);
	if (world_open(&w, "d24", 0)) {
		for (uint32_t seed = 1; seed <= 3; seed++) {
			run_d24_random(&w, XL4_LIST_BLOCK, seed, 400);
			run_d24_random(&w, XL4_LIST_ALLOW, seed, 400);
		}
		run_d24_concurrent(&w);
		run_rate_two_cpus(&w);
	}
	world_close(&w);
	world_groups = 16;
	if (world_open(&w, "d24-full", 0))
		run_d24_full(&w);
	world_close(&w);
	if (world_open(&w, "stale-index-full", 0))
		run_stale_index_full(&w);
	world_close(&w);
	world_groups = 0;
	run_budget_first_use();
	fx_unpin(&old);

	if (!fx.filter) {
		for (size_t i = 0; i < sizeof(suite_reasons) / sizeof(suite_reasons[0]); i++) {
			if (expected_seen[suite_reasons[i]])
				continue;
			printf("FAIL filter/coverage\n       no filter fixture expected %s\n",
			       xl4_reason_name(suite_reasons[i]));
			fx.failed++;
		}
	}
	printf("filter: %d checks\n", fx.passed + fx.failed - before);
}
