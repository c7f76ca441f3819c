// SPDX-License-Identifier: GPL-2.0
/* The flood guard's user-space logic: the kernel settings a config turns into, the effective
 * mode rule (the same as bpf/guard.h's), and the analyzer's judgement: baselines, flash crowd
 * vs attack, forcing and releasing, top sources and prefixes. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <cmocka.h>

#include "analyzer.h"
#include "config.h"
#include "guard_state.h"
#include "guard_vbits.h"

#define S 1000000000ull

static void test_cfg_build(void **state)
{
	struct xl4_config c;
	struct xl4_guard_cfg k = { .key = { 1, 2, 3, 4 } };

	(void)state;
	xl4_config_defaults(&c);
	c.guard.enabled = true;
	/* 1000 SYN/s over a 1.07 s window: ceil(1073.7) = 1074 for the VIP, however many CPUs
	 * (the kernel judges the sum of every CPU's window) */
	xl4_guard_cfg_build(&c.guard, 1 << 20, 1 << 16, &k);
	assert_int_equal(k.enabled, 1);
	assert_int_equal(k.response, XL4_GUARD_RESP_AUTO);
	assert_int_equal(k.syn_min, 1074);
	/* 20000 SYN/s: ceil(21474.8) */
	assert_int_equal(k.surge_min, 21475);
	assert_int_equal(k.ratio_x100, 300);
	assert_int_equal(k.enter_ms, 500);
	assert_int_equal(k.leave_ms, 5000);
	assert_int_equal(k.escalate_ms, 250);
	assert_int_equal(k.fd_min_ms, 500);
	assert_int_equal(k.fd_max_ms, 6000);
	assert_int_equal(k.verified_ttl_s, 3600);
	assert_int_equal(k.challenge_per_sec, 1000000);
	assert_int_equal(k.grey_mask, (1 << 20) / XL4_GUARD_GREY_WAYS - 1); /* buckets of 4 */
	assert_int_equal(k.syn_mask, (1 << 16) - 1);
	assert_int_equal(k.key[0], 1); /* the key is the writer's business */
	assert_int_equal(k.key[3], 4);
	/* min_sources 4: 64 * (1 - (63/64)^4) = 3.9 sketch bits, rounded down */
	assert_int_equal(k.src_bits_min, 3);
	/* min_sources 2: 1.98 bits would round down to the one bit a single host sets */
	c.guard.min_sources = 2;
	xl4_guard_cfg_build(&c.guard, 1 << 20, 1 << 16, &k);
	assert_int_equal(k.src_bits_min, 2);
	c.guard.min_sources = 4;
	/* 1M slots hold 0.205 * 1M / 3 s = 71.6k SYN/s for a 3 s retransmission: per window */
	assert_int_equal(k.fd_cap, (uint32_t)(0.205 * (1 << 20) * (XL4_GUARD_WINDOW_NS / 1e9) / 3.0));
	c.guard.min_sources = 1;
	c.guard.fd_hold_ms = 1000;
	xl4_guard_cfg_build(&c.guard, 1024, 1024, &k);
	assert_int_equal(k.src_bits_min, 0);
	assert_int_equal(k.fd_cap, 225); /* 0.205 * 1024 * 1.0737 */
	/* the threshold is the VIP's total: no CPU count goes into it */
	assert_int_equal(k.syn_min, 1074);
	c.guard.syn_rate = 1;
	c.guard.ratio = 2.55;
	xl4_guard_cfg_build(&c.guard, 1024, 1024, &k);
	assert_int_equal(k.syn_min, 2); /* ceil(1 * 1.07) */
	assert_int_equal(k.ratio_x100, 255);
	/* a surge is never below syn_min (a default surge_rate under a raised syn_rate), and 0
	 * turns surges off */
	c.guard.syn_rate = 50000;
	xl4_guard_cfg_build(&c.guard, 1024, 1024, &k);
	assert_int_equal(k.surge_min, k.syn_min);
	c.guard.surge_rate = 0;
	xl4_guard_cfg_build(&c.guard, 1024, 1024, &k);
	assert_int_equal(k.surge_min, 0);
	c.guard.enabled = false;
	xl4_guard_cfg_build(&c.guard, 1024, 1024, &k);
	assert_int_equal(k.enabled, 0);
}

static void test_effective(void **state)
{
	struct xl4_guard_vip v = { 0 };
	struct xl4_guard_ctl ctl = { 0 };
	uint64_t now = 100 * S;

	(void)state;
	/* normal */
	assert_int_equal(xl4_guard_effective(&v, &ctl, XL4_GUARD_RESP_AUTO, 5000, now), XL4_GUARD_NORMAL);
	/* kernel emergency, last bad window 4 s ago: still in it (leave_ms 5000) */
	v = (struct xl4_guard_vip){ .entered_ns = 90 * S, .last_bad_ns = 96 * S, .level = XL4_GUARD_FIRST_DROP,
				    .cause = XL4_GUARD_CAUSE_RATIO };
	assert_int_equal(xl4_guard_effective(&v, &ctl, XL4_GUARD_RESP_AUTO, 5000, now), XL4_GUARD_FIRST_DROP);
	/* ...6 s ago: left (the kernel clears it lazily) */
	v.last_bad_ns = 94 * S;
	assert_int_equal(xl4_guard_effective(&v, &ctl, XL4_GUARD_RESP_AUTO, 5000, now), XL4_GUARD_NORMAL);
	/* the kernel's clock a hair ahead of ours */
	v.last_bad_ns = now + 1000;
	v.level = XL4_GUARD_CHALLENGE;
	assert_int_equal(xl4_guard_effective(&v, &ctl, XL4_GUARD_RESP_AUTO, 5000, now), XL4_GUARD_CHALLENGE);
	/* off beats everything */
	ctl.override = XL4_GUARD_OV_OFF;
	assert_int_equal(xl4_guard_effective(&v, &ctl, XL4_GUARD_RESP_AUTO, 5000, now), XL4_GUARD_NORMAL);
	/* on: the forced level, else an escalation kept, else by response */
	ctl = (struct xl4_guard_ctl){ .override = XL4_GUARD_OV_ON, .level = XL4_GUARD_FIRST_DROP };
	assert_int_equal(xl4_guard_effective(&v, &ctl, XL4_GUARD_RESP_AUTO, 5000, now), XL4_GUARD_FIRST_DROP);
	ctl.level = 0;
	assert_int_equal(xl4_guard_effective(&v, &ctl, XL4_GUARD_RESP_AUTO, 5000, now), XL4_GUARD_CHALLENGE);
	memset(&v, 0, sizeof(v));
	assert_int_equal(xl4_guard_effective(&v, &ctl, XL4_GUARD_RESP_AUTO, 5000, now), XL4_GUARD_FIRST_DROP);
	assert_int_equal(xl4_guard_effective(&v, &ctl, XL4_GUARD_RESP_CHALLENGE, 5000, now), XL4_GUARD_CHALLENGE);
}

static void test_names(void **state)
{
	uint32_t x;

	(void)state;
	assert_int_equal(xl4_guard_override_parse("on", &x), 0);
	assert_int_equal(x, XL4_GUARD_OV_ON);
	assert_int_equal(xl4_guard_override_parse("auto", &x), 0);
	assert_int_equal(x, XL4_GUARD_OV_AUTO);
	assert_int_not_equal(xl4_guard_override_parse("On", &x), 0);
	assert_int_equal(xl4_guard_level_parse("challenge", &x), 0);
	assert_int_equal(x, XL4_GUARD_CHALLENGE);
	assert_int_not_equal(xl4_guard_level_parse("normal", &x), 0);
	assert_string_equal(xl4_guard_level_name(XL4_GUARD_FIRST_DROP), "first-drop");
	assert_null(xl4_guard_level_name(XL4_GUARD_NORMAL));
	assert_string_equal(xl4_guard_override_name(XL4_GUARD_OV_OFF), "off");
	assert_string_equal(xl4_guard_response_name(XL4_GUARD_RESP_AUTO), "auto");
}

/* ---- the analyzer ---- */

static const struct xl4_analyzer_params params = {
	.block_top = true, .block_seconds = 300, .max_blocks = 8, .min_share = 0.2, .min_samples = 50,
	.ratio = 3.0, .leave_ms = 5000,
};

/* Feed n seconds of one VIP's rates starting at *t; returns the decisions of the last one. */
static int feed(struct xl4_analyzer *a, uint64_t *t, int n, double syn, double ack, bool emergency,
		bool forced, struct xl4_an_decision *d, int *total)
{
	int k = 0;

	for (int i = 0; i < n; i++) {
		struct xl4_an_obs o = { .vip = 3, .gen = 1, .now_ns = *t, .syn_per_s = syn,
					.ack_per_s = ack, .emergency = emergency, .forced_by_us = forced };

		k = xl4_analyzer_observe(a, &o, d, 4);
		if (total)
			*total += k;
		*t += S;
	}
	return k;
}

static void test_baseline_and_flash_crowd(void **state)
{
	struct xl4_analyzer *a = xl4_analyzer_new(&params);
	struct xl4_an_decision d[4];
	uint64_t t = 1000 * S;
	double syn, ratio;
	int total = 0;

	(void)state;
	assert_non_null(a);
	assert_int_equal(feed(a, &t, 5, 200, 190, false, false, d, &total), 0);
	assert_int_equal(xl4_analyzer_baseline(a, 3, &syn, &ratio), 0); /* warming up */
	feed(a, &t, 30, 200, 190, false, false, d, &total);
	assert_int_equal(total, 0);
	assert_int_equal(xl4_analyzer_baseline(a, 3, &syn, &ratio), 1);
	assert_true(syn > 199 && syn < 201);
	assert_true(ratio > 1.0 && ratio < 1.1);
	/* 10x the SYNs, all completing: a flash crowd, said once, and no forcing */
	assert_int_equal(feed(a, &t, 1, 2000, 1990, false, false, d, NULL), 1);
	assert_int_equal(d[0].kind, XL4_AN_FLASH_CROWD);
	assert_int_equal(d[0].vip, 3);
	assert_non_null(strstr(d[0].why, "flash crowd"));
	total = 0;
	feed(a, &t, 10, 2000, 1990, false, false, d, &total);
	assert_int_equal(total, 0);
	/* the surge did not become the baseline */
	xl4_analyzer_baseline(a, 3, &syn, &ratio);
	assert_true(syn < 201);
	xl4_analyzer_free(a);
}

static void test_force_and_release(void **state)
{
	struct xl4_analyzer *a = xl4_analyzer_new(&params);
	struct xl4_an_decision d[4];
	struct xl4_an_obs o;
	uint64_t t = 1000 * S;
	int total = 0;

	(void)state;
	feed(a, &t, 30, 100, 95, false, false, d, NULL);
	/* 8x the SYNs, handshakes not completing: an attack the kernel missed */
	assert_int_equal(feed(a, &t, 1, 800, 20, false, false, d, NULL), 1);
	assert_int_equal(d[0].kind, XL4_AN_FORCE);
	assert_non_null(strstr(d[0].why, "800 SYN/s"));
	/* forced and still attacked: nothing new */
	feed(a, &t, 10, 800, 20, true, true, d, &total);
	assert_int_equal(total, 0);
	/* calm, but not yet for leave_ms (5 s) */
	feed(a, &t, 5, 100, 95, true, true, d, &total);
	assert_int_equal(total, 0);
	assert_int_equal(feed(a, &t, 1, 100, 95, true, true, d, NULL), 1);
	assert_int_equal(d[0].kind, XL4_AN_RELEASE);
	/* the operator's say: hands off */
	feed(a, &t, 3, 100, 95, false, false, d, NULL);
	o = (struct xl4_an_obs){ .vip = 3, .gen = 1, .now_ns = t, .syn_per_s = 900, .ack_per_s = 5,
				 .hands_off = true };
	assert_int_equal(xl4_analyzer_observe(a, &o, d, 4), 0);
	/* below the absolute floor nothing is an attack, whatever the factor */
	o = (struct xl4_an_obs){ .vip = 5, .gen = 1, .now_ns = t, .syn_per_s = 1, .ack_per_s = 1 };
	for (int i = 0; i < 20; i++, o.now_ns += S)
		xl4_analyzer_observe(a, &o, d, 4);
	o.syn_per_s = 50;
	o.ack_per_s = 0;
	assert_int_equal(xl4_analyzer_observe(a, &o, d, 4), 0);
	xl4_analyzer_free(a);
}

static void sample4(struct xl4_analyzer *a, uint32_t vip, const char *addr, int n)
{
	uint8_t s[16] = { 0 };

	assert_int_equal(inet_pton(AF_INET, addr, s), 1);
	for (int i = 0; i < n; i++)
		xl4_analyzer_sample(a, vip, 4, s);
}

static void test_top_source(void **state)
{
	struct xl4_analyzer *a = xl4_analyzer_new(&params);
	struct xl4_an_decision d[4];
	uint64_t t = 1000 * S;
	char str[64];
	int total = 0;

	(void)state;
	/* samples before emergency mode are not counted */
	sample4(a, 3, "198.18.7.7", 100);
	feed(a, &t, 1, 100, 95, true, false, d, &total);
	assert_int_equal(total, 0);
	/* 40 random sources and one loud one: 30 of 70 = 43% >= 20% */
	for (int i = 0; i < 40; i++) {
		snprintf(str, sizeof(str), "198.%d.%d.1", 20 + i % 8, i);
		sample4(a, 3, str, 1);
	}
	sample4(a, 3, "198.18.7.7", 30);
	assert_int_equal(feed(a, &t, 1, 5000, 10, true, false, d, NULL), 1);
	assert_int_equal(d[0].kind, XL4_AN_BLOCK);
	xl4_prefix_str(&d[0].prefix, str, sizeof(str));
	assert_string_equal(str, "198.18.7.7/32");
	assert_int_equal(d[0].hits, 30);
	assert_int_equal(d[0].samples, 70);
	/* the same source again: blocked already, not twice */
	sample4(a, 3, "198.18.7.7", 60);
	assert_int_equal(feed(a, &t, 1, 5000, 10, true, false, d, NULL), 0);
	xl4_analyzer_free(a);
}

static uint64_t scoped_until; /* what proof_scoped() says the blocklist holds */

static int proof_scoped(void *ctx, const struct xl4_prefix *p, struct xl4_an_proof *out)
{
	(void)ctx;
	(void)p;
	out->scoped_until_ns = scoped_until;
	return 0;
}

/* A prefix the blocklist holds for another VIP already: the datapath widens that entry and
 * keeps its deadline, so the analyzer's block for this VIP ends with it and the prefix may be
 * blocked again block_seconds after that, not 2 x block_seconds after this block (it used to
 * wait that long while the entry was gone). */
static void test_block_joins_another_vips(void **state)
{
	struct xl4_analyzer_params p = params;
	struct xl4_analyzer *a;
	struct xl4_an_decision d[4];
	uint64_t t = 1000 * S;
	int k;

	(void)state;
	p.proof = proof_scoped;
	a = xl4_analyzer_new(&p);
	feed(a, &t, 1, 100, 95, true, false, d, NULL);
	scoped_until = t + 10 * S;
	sample4(a, 3, "198.18.7.7", 60);
	assert_int_equal(feed(a, &t, 1, 5000, 10, true, false, d, NULL), 1);
	assert_int_equal(d[0].kind, XL4_AN_BLOCK);
	/* held until the other VIP's deadline + 300 s: one second past it, a candidate again */
	feed(a, &t, (int)((scoped_until + 300 * S - t) / S) + 1, 5000, 10, true, false, d, NULL);
	sample4(a, 3, "198.18.7.7", 60);
	k = feed(a, &t, 1, 5000, 10, true, false, d, NULL);
	assert_int_equal(k, 1);
	assert_int_equal(d[0].kind, XL4_AN_BLOCK);
	xl4_analyzer_free(a);
}

static void test_top_prefix_and_threshold(void **state)
{
	struct xl4_analyzer *a = xl4_analyzer_new(&params);
	struct xl4_an_decision d[4];
	uint64_t t = 1000 * S;
	uint8_t s6[16];
	char str[64];

	(void)state;
	feed(a, &t, 1, 100, 95, true, false, d, NULL);
	/* one /24 spread over 60 hosts (one sample each) */
	for (int i = 0; i < 60; i++) {
		snprintf(str, sizeof(str), "198.18.9.%d", i + 1);
		sample4(a, 3, str, 1);
	}
	assert_int_equal(feed(a, &t, 1, 5000, 10, true, false, d, NULL), 1);
	xl4_prefix_str(&d[0].prefix, str, sizeof(str));
	assert_string_equal(str, "198.18.9.0/24");
	/* too few samples: nothing, however concentrated */
	sample4(a, 3, "198.18.10.1", 49);
	assert_int_equal(feed(a, &t, 1, 5000, 10, true, false, d, NULL), 0);
	/* IPv6 sources group by /64 */
	xl4_analyzer_free(a);
	a = xl4_analyzer_new(&params);
	feed(a, &t, 1, 100, 95, true, false, d, NULL);
	for (int i = 0; i < 100; i++) {
		snprintf(str, sizeof(str), "2001:db8:1:2::%x", i + 1);
		inet_pton(AF_INET6, str, s6);
		xl4_analyzer_sample(a, 3, 6, s6);
	}
	assert_int_equal(feed(a, &t, 1, 5000, 10, true, false, d, NULL), 1);
	xl4_prefix_str(&d[0].prefix, str, sizeof(str));
	assert_string_equal(str, "2001:db8:1:2::/64");
	/* spread evenly over many prefixes: nobody holds 20% */
	xl4_analyzer_free(a);
	a = xl4_analyzer_new(&params);
	feed(a, &t, 1, 100, 95, true, false, d, NULL);
	for (int i = 0; i < 200; i++) {
		snprintf(str, sizeof(str), "198.%d.%d.9", 18 + i % 20, i);
		sample4(a, 3, str, 1);
	}
	assert_int_equal(feed(a, &t, 1, 5000, 10, true, false, d, NULL), 0);
	/* leaving emergency mode forgets the counts */
	feed(a, &t, 1, 100, 95, false, false, d, NULL);
	sample4(a, 3, "198.18.7.7", 100);
	feed(a, &t, 1, 100, 95, true, false, d, NULL); /* re-entered: counting starts now */
	assert_int_equal(feed(a, &t, 1, 100, 95, true, false, d, NULL), 0);
	xl4_analyzer_free(a);
}

static void test_block_top_off_and_reuse(void **state)
{
	struct xl4_analyzer_params p = params;
	struct xl4_analyzer *a;
	struct xl4_an_decision d[4];
	struct xl4_an_obs o = { .vip = 3, .gen = 1, .syn_per_s = 100, .ack_per_s = 95 };
	double syn, ratio;

	(void)state;
	p.block_top = false;
	a = xl4_analyzer_new(&p);
	o.emergency = true;
	xl4_analyzer_observe(a, &o, d, 4);
	sample4(a, 3, "198.18.7.7", 500);
	o.now_ns += S;
	assert_int_equal(xl4_analyzer_observe(a, &o, d, 4), 0);
	/* a VIP id given to another VIP starts from nothing */
	o.emergency = false;
	for (int i = 0; i < 20; i++, o.now_ns += S)
		xl4_analyzer_observe(a, &o, d, 4);
	assert_int_equal(xl4_analyzer_baseline(a, 3, &syn, &ratio), 1);
	o.gen = 2;
	xl4_analyzer_observe(a, &o, d, 4);
	assert_int_equal(xl4_analyzer_baseline(a, 3, &syn, &ratio), 0);
	/* out-of-range ids are ignored */
	o.vip = XL4_MAX_VIPS;
	assert_int_equal(xl4_analyzer_observe(a, &o, d, 4), 0);
	sample4(a, XL4_MAX_VIPS, "198.18.7.7", 1);
	xl4_analyzer_free(a);
}

/* ---- automatic blocks: opt-in, proven prefixes spared, bounded ---- */

/* What the daemon's proof callback would find: flows from 198.18.7.0/24, a verified source in
 * 198.18.8.0/24, and no answer at all for 198.18.6.0/24. */
static int proof_calls;

static int fake_proof(void *ctx, const struct xl4_prefix *p, struct xl4_an_proof *out)
{
	uint8_t b[4];

	(void)ctx;
	proof_calls++;
	memcpy(b, p->addr, 4);
	memset(out, 0, sizeof(*out));
	if (p->family != 4 || b[0] != 198 || b[1] != 18)
		return 0;
	if (b[2] == 6)
		return -EIO;
	if (b[2] == 7)
		out->flows = 3;
	if (b[2] == 8)
		out->verified = 1;
	return 0;
}

/* One second of a spoofed flood on VIP 3 from the hosts of a /24 (60 samples spread over it,
 * as a random-source flood "from" a victim's prefix looks); the decisions of that second. */
static int flood_from(struct xl4_analyzer *a, uint64_t *t, const char *net, struct xl4_an_decision *d)
{
	char str[64];

	for (int i = 0; i < 60; i++) {
		snprintf(str, sizeof(str), "%s.%d", net, i + 1);
		sample4(a, 3, str, 1);
	}
	return feed(a, t, 1, 5000, 10, true, false, d, NULL);
}

static int count_kind(const struct xl4_an_decision *d, int n, uint32_t kind)
{
	int k = 0;

	for (int i = 0; i < n; i++)
		k += d[i].kind == kind;
	return k;
}

static void test_autoblock_off_by_default(void **state)
{
	struct xl4_config c;
	struct xl4_analyzer_params p = params;
	struct xl4_analyzer *a;
	struct xl4_an_decision d[4];
	uint64_t t = 1000 * S;

	(void)state;
	xl4_config_defaults(&c);
	assert_false(c.guard.analyzer.block_top);
	p.block_top = c.guard.analyzer.block_top;
	a = xl4_analyzer_new(&p);
	feed(a, &t, 1, 100, 95, true, false, d, NULL);
	for (int i = 0; i < 20; i++) {
		int n = flood_from(a, &t, "198.18.9", d);

		assert_int_equal(count_kind(d, n, XL4_AN_BLOCK), 0);
	}
	sample4(a, 3, "198.18.9.9", 1000);
	assert_int_equal(count_kind(d, feed(a, &t, 1, 5000, 10, true, false, d, NULL), XL4_AN_BLOCK), 0);
	xl4_analyzer_free(a);
}

static void test_autoblock_spares_proven_prefixes(void **state)
{
	struct xl4_analyzer_params p = params;
	struct xl4_analyzer *a;
	struct xl4_an_decision d[4];
	uint64_t t = 1000 * S;
	char str[64];
	int n;

	(void)state;
	p.proof = fake_proof;
	p.proof_ms = 2000; /* a real client retransmits or answers a cookie meanwhile */
	a = xl4_analyzer_new(&p);
	feed(a, &t, 1, 100, 95, true, false, d, NULL);
	/* a prefix with established flows: spared, said once, never blocked */
	proof_calls = 0;
	for (int i = 0; i < 10; i++) {
		n = flood_from(a, &t, "198.18.7", d);
		assert_int_equal(count_kind(d, n, XL4_AN_BLOCK), 0);
		if (count_kind(d, n, XL4_AN_SPARE)) {
			xl4_prefix_str(&d[0].prefix, str, sizeof(str));
			assert_string_equal(str, "198.18.7.0/24");
			assert_non_null(strstr(d[0].why, "3 established flows"));
		}
	}
	assert_int_equal(proof_calls, 1); /* asked once, then held for block_seconds */
	/* a prefix with a verified source: spared */
	n = 0;
	for (int i = 0; i < 5; i++) {
		int k = flood_from(a, &t, "198.18.8", d);

		assert_int_equal(count_kind(d, k, XL4_AN_BLOCK), 0);
		if (count_kind(d, k, XL4_AN_SPARE))
			assert_non_null(strstr(d[0].why, "a source in it proved itself"));
		n += count_kind(d, k, XL4_AN_SPARE);
	}
	assert_int_equal(n, 1);
	/* nobody can tell: not blocked either */
	for (int i = 0; i < 5; i++)
		assert_int_equal(count_kind(d, flood_from(a, &t, "198.18.6", d), XL4_AN_BLOCK), 0);
	/* a prefix with neither: blocked, but only once its proof window has passed */
	assert_int_equal(count_kind(d, flood_from(a, &t, "198.18.9", d), XL4_AN_BLOCK), 0);
	assert_int_equal(count_kind(d, feed(a, &t, 1, 5000, 10, true, false, d, NULL), XL4_AN_BLOCK), 0);
	n = feed(a, &t, 1, 5000, 10, true, false, d, NULL);
	assert_int_equal(count_kind(d, n, XL4_AN_BLOCK), 1);
	xl4_prefix_str(&d[0].prefix, str, sizeof(str));
	assert_string_equal(str, "198.18.9.0/24");
	assert_int_equal(d[0].vip, 3);
	/* one loud host inside the blocked prefix is blocked already: no second block */
	for (int i = 0; i < 5; i++) {
		sample4(a, 3, "198.18.9.77", 100);
		assert_int_equal(count_kind(d, feed(a, &t, 1, 5000, 10, true, false, d, NULL), XL4_AN_BLOCK), 0);
	}
	/* a candidate whose attack ends inside its window is dropped */
	flood_from(a, &t, "198.18.10", d);
	feed(a, &t, 1, 100, 95, false, false, d, NULL);
	for (int i = 0; i < 4; i++)
		assert_int_equal(count_kind(d, feed(a, &t, 1, 5000, 10, true, false, d, NULL), XL4_AN_BLOCK), 0);
	xl4_analyzer_free(a);
}

/* Candidates on several VIPs due in the same second are judged one a second (a judgement may
 * walk the whole connection table). */
static void test_autoblock_one_judgement_a_second(void **state)
{
	struct xl4_analyzer_params p = params;
	struct xl4_analyzer *a;
	struct xl4_an_decision d[4];
	uint64_t t = 1000 * S;
	char str[64];

	(void)state;
	p.proof = fake_proof;
	p.proof_ms = 3000;
	a = xl4_analyzer_new(&p);
	for (uint32_t vip = 0; vip < 4; vip++) {
		struct xl4_an_obs o = { .vip = vip, .gen = 1, .now_ns = t, .syn_per_s = 100,
					.ack_per_s = 95, .emergency = true };

		xl4_analyzer_observe(a, &o, d, 4);
	}
	t += S;
	for (uint32_t vip = 0; vip < 4; vip++) { /* four candidates in the same second */
		struct xl4_an_obs o = { .vip = vip, .gen = 1, .now_ns = t, .syn_per_s = 5000,
					.ack_per_s = 10, .emergency = true };

		snprintf(str, sizeof(str), "198.18.%u.1", 20 + vip);
		sample4(a, vip, str, 60);
		assert_int_equal(xl4_analyzer_observe(a, &o, d, 4), 0);
	}
	proof_calls = 0;
	for (int sec = 1; sec <= 8; sec++) {
		int blocks = 0;

		t += S;
		for (uint32_t vip = 0; vip < 4; vip++) {
			struct xl4_an_obs o = { .vip = vip, .gen = 1, .now_ns = t, .syn_per_s = 5000,
						.ack_per_s = 10, .emergency = true };
			int n = xl4_analyzer_observe(a, &o, d, 4);

			blocks += count_kind(d, n, XL4_AN_BLOCK);
		}
		/* due from second 3 on, then one a second */
		assert_int_equal(blocks, sec >= 3 && sec <= 6 ? 1 : 0);
		assert_int_equal(proof_calls, sec < 3 ? 0 : sec <= 6 ? sec - 2 : 4);
	}
	xl4_analyzer_free(a);
}

static void test_autoblock_cap_and_no_renewal(void **state)
{
	struct xl4_analyzer_params p = params;
	struct xl4_analyzer *a;
	struct xl4_an_decision d[4];
	uint64_t t = 1000 * S, t_first;
	int blocks = 0, n;
	char str[64];

	(void)state;
	p.max_blocks = 2;
	p.block_seconds = 30;
	a = xl4_analyzer_new(&p);
	feed(a, &t, 1, 100, 95, true, false, d, NULL);
	t_first = t;
	assert_int_equal(count_kind(d, flood_from(a, &t, "198.18.11", d), XL4_AN_BLOCK), 1);
	assert_int_equal(count_kind(d, flood_from(a, &t, "198.18.12", d), XL4_AN_BLOCK), 1);
	/* the cap: a third prefix is not blocked while two blocks are in force; said once */
	n = flood_from(a, &t, "198.18.13", d);
	assert_int_equal(count_kind(d, n, XL4_AN_BLOCK), 0);
	assert_int_equal(count_kind(d, n, XL4_AN_SPARE), 1);
	assert_non_null(strstr(d[0].why, "max_blocks"));
	for (int i = 0; i < 20; i++) {
		n = flood_from(a, &t, i % 2 ? "198.18.13" : "198.18.14", d);
		assert_int_equal(count_kind(d, n, XL4_AN_BLOCK), 0);
		assert_int_equal(count_kind(d, n, XL4_AN_SPARE), 0);
	}
	/* the first blocks end after block_seconds: the cap frees up */
	while (t < t_first + 31 * S)
		assert_int_equal(count_kind(d, feed(a, &t, 1, 5000, 10, true, false, d, NULL), XL4_AN_BLOCK), 0);
	n = flood_from(a, &t, "198.18.13", d);
	assert_int_equal(count_kind(d, n, XL4_AN_BLOCK), 1);
	xl4_prefix_str(&d[0].prefix, str, sizeof(str));
	assert_string_equal(str, "198.18.13.0/24");
	/* a blocked prefix is not blocked again until block_seconds after its block ended: a
	 * spoofer holding a victim's prefix down gets it blocked at most half of the time */
	while (t < t_first + 60 * S) {
		n = flood_from(a, &t, "198.18.11", d);
		blocks += count_kind(d, n, XL4_AN_BLOCK);
	}
	assert_int_equal(blocks, 0);
	while (t < t_first + 64 * S) {
		n = flood_from(a, &t, "198.18.11", d);
		blocks += count_kind(d, n, XL4_AN_BLOCK);
	}
	assert_int_equal(blocks, 1);
	xl4_analyzer_free(a);
}

#define VB_LOG2 XL4_GUARD_VBITS_LOG2_MIN
#define VB_WORDS (2u << (VB_LOG2 - 6)) /* both halves */
#define VB_ANY XL4_GUARD_VBITS_ANY
#define VB_CK XL4_GUARD_VBITS_COOKIE

/* The daemon's refresh of the verified-source bits (guard_vbits.h): what the walk found, plus
 * what the datapath set since the words were copied; a bit only the old map had (a source that
 * left the tables) is gone. A cookie proof in both halves, a First Drop proof in the "any"
 * half only. */

/* What the datapath does for a proof (bpf/guard.h guard_verify): the index among those proved
 * since the daemon's copy, then the bits. */
static void datapath_proof(struct xl4_gvbits *live, bool cookie, const struct xl4_guard_src *k)
{
	__u32 bit = xl4_guard_vbit(k, live->log2);

	live->fresh_set[bit / 64] |= 1ull << (bit % 64);
	xl4_guard_vbits_add(live->w, live->log2, cookie, k);
}

static void test_vbits_refresh_merge(void **state)
{
	__u64 *fresh = calloc(VB_WORDS, 8), *before = calloc(VB_WORDS, 8), *w = calloc(VB_WORDS, 8);
	struct xl4_gvbits live = { .w = w, .fresh_set = calloc(VB_WORDS / 2, 8), .words = VB_WORDS,
				   .log2 = VB_LOG2 };
	struct xl4_guard_src walked = { .addr = { htonl(0xc6120001) }, .family = 4 },
			     stale = { .addr = { htonl(0xc6120002) }, .family = 4 },
			     proven_meanwhile = { .addr = { htonl(0xc6120003) }, .family = 4 },
			     v6 = { .addr = { htonl(0x20010db8), htonl(7) }, .family = 6 },
			     reproven = { .addr = { htonl(0xc6120004) }, .family = 4 };

	(void)state;
	assert_non_null(fresh);
	assert_non_null(before);
	assert_non_null(w);
	assert_non_null(live.fresh_set);
	/* four distinct bits, or the test proves nothing */
	assert_int_not_equal(xl4_guard_vbit(&walked, VB_LOG2), xl4_guard_vbit(&stale, VB_LOG2));
	assert_int_not_equal(xl4_guard_vbit(&walked, VB_LOG2),
			     xl4_guard_vbit(&proven_meanwhile, VB_LOG2));
	assert_int_not_equal(xl4_guard_vbit(&stale, VB_LOG2),
			     xl4_guard_vbit(&proven_meanwhile, VB_LOG2));
	assert_int_not_equal(xl4_guard_vbit(&v6, VB_LOG2), xl4_guard_vbit(&stale, VB_LOG2));
	assert_int_not_equal(xl4_guard_vbit(&reproven, VB_LOG2), xl4_guard_vbit(&stale, VB_LOG2));
	assert_int_not_equal(xl4_guard_vbit(&reproven, VB_LOG2), xl4_guard_vbit(&walked, VB_LOG2));
	datapath_proof(&live, false, &walked);
	datapath_proof(&live, true, &stale);
	/* an earlier proof whose entry has since left the table: its bit is set, stale */
	datapath_proof(&live, false, &reproven);
	xl4_gvbits_snapshot(&live, before); /* the daemon's copy: the proofs since are cleared */
	for (__u32 i = 0; i < VB_WORDS / 2; i++)
		assert_int_equal(live.fresh_set[i], 0);
	assert_memory_equal(before, w, VB_WORDS * 8);
	datapath_proof(&live, true, &proven_meanwhile); /* during the walk */
	/* proven again during the walk, after the walk passed its entry: its bit was already set
	 * in the copy, and only the proofs' record tells it from a stale one */
	datapath_proof(&live, false, &reproven);
	xl4_guard_vbits_add(fresh, VB_LOG2, false, &walked);
	xl4_guard_vbits_add(fresh, VB_LOG2, true, &v6);
	assert_int_equal(xl4_guard_vbits_refresh(&live, fresh, before), 6);
	assert_true(xl4_gvbits_test(&live, VB_ANY, &reproven));
	assert_true(xl4_gvbits_test(&live, VB_ANY, &walked));
	assert_true(xl4_gvbits_test(&live, VB_ANY, &v6));
	assert_true(xl4_gvbits_test(&live, VB_CK, &v6));
	assert_true(xl4_gvbits_test(&live, VB_ANY, &proven_meanwhile));
	assert_true(xl4_gvbits_test(&live, VB_CK, &proven_meanwhile));
	assert_false(xl4_gvbits_test(&live, VB_ANY, &stale));
	assert_false(xl4_gvbits_test(&live, VB_CK, &stale));
	/* a First Drop proof is no reason for the challenge to ask the cookie table */
	assert_false(xl4_gvbits_test(&live, VB_CK, &walked));
	free(live.fresh_set);
	free(fresh);
	free(before);
	free(w);
}

/* Each half follows guard.verified_max: 4 bits per source its table may hold, so a full table
 * asks for at most a quarter of a half; within the sizes the map may have. */
static void test_vbits_size(void **state)
{
	(void)state;
	assert_int_equal(xl4_guard_vbits_log2(1024), XL4_GUARD_VBITS_LOG2_MIN);
	assert_int_equal(xl4_guard_vbits_log2(262144), 20); /* the config's default */
	assert_int_equal(xl4_guard_vbits_log2(262145), 21);
	assert_int_equal(xl4_guard_vbits_log2(1u << 24), XL4_GUARD_VBITS_LOG2_MAX);
	for (__u32 n = 1024; n <= (1u << 24); n = n * 3 + 1)
		assert_true(4ull * n <= 1ull << xl4_guard_vbits_log2(n));
}

/* Sources spread over a half: 2^16 distinct sources (a /16 of IPv4) in 2^20 bits set close
 * to the 1 - e^(-1/16) a uniform hash would (6.06%), and, First Drop's, none in the cookies'
 * half; a hash that
 * clustered them would let a few verified sources shadow many unverified ones. */
static void test_vbits_spread(void **state)
{
	__u64 *w = calloc(VB_WORDS, 8);
	long set = 0, other = 0;

	(void)state;
	assert_non_null(w);
	for (__u32 i = 0; i < 65536; i++) {
		struct xl4_guard_src k = { .addr = { htonl(0xc6120000u | i) }, .family = 4 };

		xl4_guard_vbits_add(w, VB_LOG2, false, &k); /* First Drop proofs */
	}
	for (__u32 i = 0; i < VB_WORDS; i++)
		*(i < VB_WORDS / 2 ? &other : &set) += __builtin_popcountll(w[i]);
	assert_in_range(set, 61000, 65536);
	assert_int_equal(other, 0);
	free(w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cfg_build),
		cmocka_unit_test(test_vbits_refresh_merge),
		cmocka_unit_test(test_vbits_size),
		cmocka_unit_test(test_vbits_spread),
		cmocka_unit_test(test_effective),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_baseline_and_flash_crowd),
		cmocka_unit_test(test_force_and_release),
		cmocka_unit_test(test_top_source),
		cmocka_unit_test(test_block_joins_another_vips),
		cmocka_unit_test(test_top_prefix_and_threshold),
		cmocka_unit_test(test_block_top_off_and_reuse),
		cmocka_unit_test(test_autoblock_off_by_default),
		cmocka_unit_test(test_autoblock_spares_proven_prefixes),
		cmocka_unit_test(test_autoblock_cap_and_no_renewal),
		cmocka_unit_test(test_autoblock_one_judgement_a_second),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
