// SPDX-License-Identifier: GPL-2.0
/*
 * Random and mutated packets straight through the program (pktrand.h), checking invariants
 * rather than exact answers: never XDP_ABORTED, only drop or pass, a drop always names a
 * reason and a pass never does, the user-space parser agrees on the reason, and the counters
 * moved by exactly the verdicts, reasons and bytes seen.
 */
#include <stdio.h>
#include <string.h>
#include <linux/bpf.h>

#include "counters.h"
#include "harness.h"
#include "names.h"
#include "pktrand.h"
#include "testrun.h"
#include "uparse.h"

#define SHOW_MAX 5 /* offending packets printed in full per run */

static void dump(const struct pkt *p)
{
	for (uint32_t i = 0; i < p->len; i += 16) {
		printf("       %04x:", i);
		for (uint32_t j = i; j < i + 16 && j < p->len; j++)
			printf(" %02x", p->b[j]);
		printf("\n");
	}
}

static void run_random(const char *name, enum fx_engine eng, unsigned long long seed, int count)
{
	static uint8_t out[XL4_RUN_OUT_MAX];
	static struct xl4_totals want, before, after;
	struct prng r = { .s = seed };
	const struct xl4_engine *e = &fx.eng[eng];
	char cname[96];
	int bad = 0, reasons = 0, err;
	bool ok = true;

	if (!fx_selected(name))
		return;
	memset(&want, 0, sizeof(want));
	if ((err = xl4_counters_read(e->stats_fd, &before))) {
		fx_fail(name, true, "reading counters: %s", strerror(-err));
		fx_count(name, false);
		return;
	}
	for (int i = 0; i < count; i++) {
		struct xl4_run_result res;
		struct pkt p;
		unsigned int ureason;
		const char *why = NULL;

		pr_packet(&p, &r, ETH_HLEN);
		if ((err = xl4_run_packet(e, p.b, p.len, out, sizeof(out), &res))) {
			ok = fx_fail(name, ok, "packet %d: test run failed: %s", i, strerror(-err));
			break;
		}
		ureason = fx_uparse(p.b, p.len, eng == ENG_DROP ? XL4_FRAG_DROP : XL4_FRAG_PASS);
		if (res.verdict == XDP_ABORTED)
			why = "verdict aborted";
		else if (res.verdict != XDP_DROP && res.verdict != XDP_PASS)
			why = "verdict neither drop nor pass";
		else if (res.verdict == XDP_DROP && res.reason == XL4_R_NONE)
			why = "drop without a reason";
		else if (res.verdict == XDP_PASS && res.reason != XL4_R_NONE)
			why = "pass with a drop reason";
		else if (ureason != res.reason)
			why = "user-space parser disagrees";
		if (why) {
			if (bad++ < SHOW_MAX) {
				ok = fx_fail(name, ok, "packet %d (seed %llu): %s: BPF %s/%s, user space %s",
					     i, seed, why, xl4_verdict_name(res.verdict),
					     xl4_reason_name(res.reason), xl4_reason_name(ureason));
				dump(&p);
			}
		}
		if (res.verdict < XL4_STAT_REASON_BASE) {
			want.c[res.verdict].packets++;
			want.c[res.verdict].bytes += p.len;
		}
		if (res.verdict == XDP_DROP && res.reason < XL4_REASON_MAX) {
			if (!want.c[XL4_STAT_REASON_BASE + res.reason].packets)
				reasons++;
			want.c[XL4_STAT_REASON_BASE + res.reason].packets++;
			want.c[XL4_STAT_REASON_BASE + res.reason].bytes += p.len;
		}
	}
	if (bad > SHOW_MAX)
		printf("       ... %d offending packets in all\n", bad);
	fx_count(name, ok);

	/* the counters: every index moved by exactly what the runs above reported */
	snprintf(cname, sizeof(cname), "%s/counters", name);
	ok = true;
	if ((err = xl4_counters_read(e->stats_fd, &after))) {
		ok = fx_fail(cname, ok, "reading counters: %s", strerror(-err));
	} else {
		for (unsigned int i = 0; i < XL4_STAT_MAX; i++) {
			unsigned long long dp = after.c[i].packets - before.c[i].packets;
			unsigned long long db = after.c[i].bytes - before.c[i].bytes;

			if (dp != want.c[i].packets || db != want.c[i].bytes)
				ok = fx_fail(cname, ok, "counter %u (%s): want +%llu/+%llu bytes, got "
					     "+%llu/+%llu", i,
					     i < XL4_STAT_REASON_BASE ?
						     xl4_verdict_name(i) :
						     xl4_reason_name(i - XL4_STAT_REASON_BASE),
					     (unsigned long long)want.c[i].packets,
					     (unsigned long long)want.c[i].bytes, dp, db);
		}
	}
	fx_count(cname, ok);
	printf("%s: %d packets (seed %llu): %llu pass, %llu drop over %d distinct reasons\n", name,
	       count, seed, (unsigned long long)want.c[XDP_PASS].packets,
	       (unsigned long long)want.c[XDP_DROP].packets, reasons);
	if (fx.verbose)
		for (unsigned int i = 1; i < XL4_REASON_MAX; i++)
			printf("       %-20s %llu\n", xl4_reason_name(i),
			       (unsigned long long)want.c[XL4_STAT_REASON_BASE + i].packets);
}

void suite_random(unsigned long long seed, int count)
{
	run_random("random/frag-pass", ENG_PASS, seed, count);
	run_random("random/frag-drop", ENG_DROP, seed + 1, count / 4);
}
