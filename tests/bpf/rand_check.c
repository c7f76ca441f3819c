// SPDX-License-Identifier: GPL-2.0
#include <string.h>
#include <linux/bpf.h>

#include "harness.h"
#include "names.h"
#include "rand_check.h"
#include "xl4/abi.h"

const char *fx_verdict_wrong(uint32_t verdict, uint32_t reason, unsigned int ureason)
{
	if (verdict != XDP_DROP && verdict != XDP_PASS && verdict != XDP_TX)
		return "verdict neither drop, pass nor transmit";
	if ((verdict == XDP_DROP) != (reason != XL4_R_NONE))
		return "a drop without a reason, or a reason without a drop";
	if (ureason && (verdict != XDP_DROP || reason != ureason))
		return "not the drop the user-space parser names";
	if (!ureason && verdict == XDP_DROP &&
	    (reason < XL4_R_LB_NO_BACKEND ||
	     (reason >= XL4_R_FILTER_BLOCK && reason <= XL4_R_FILTER_RATE_SHARED)))
		return "a parser or filter drop of a packet the parser accepts";
	return NULL;
}

int fx_tally_start(struct fx_tally *t, int stats_fd)
{
	memset(t, 0, sizeof(*t));
	return xl4_counters_read(stats_fd, &t->before);
}

void fx_tally_add(struct fx_tally *t, uint32_t verdict, uint32_t reason, uint32_t len)
{
	if (verdict < XL4_STAT_REASON_BASE) {
		t->want.c[verdict].packets++;
		t->want.c[verdict].bytes += len;
	}
	if (verdict == XDP_DROP && reason < XL4_REASON_MAX) {
		t->want.c[XL4_STAT_REASON_BASE + reason].packets++;
		t->want.c[XL4_STAT_REASON_BASE + reason].bytes += len;
	}
}

bool fx_tally_check(const struct fx_tally *t, int stats_fd, const char *name, bool ok)
{
	static struct xl4_totals after;
	int err = xl4_counters_read(stats_fd, &after);

	if (err)
		return fx_fail(name, ok, "reading counters: %s", strerror(-err));
	for (unsigned int i = 0; i < XL4_STAT_MAX; i++) {
		unsigned long long dp = after.c[i].packets - t->before.c[i].packets;
		unsigned long long db = after.c[i].bytes - t->before.c[i].bytes;

		if (dp != t->want.c[i].packets || db != t->want.c[i].bytes)
			ok = fx_fail(name, ok,
				     "counter %u (%s): want +%llu/+%llu bytes, got +%llu/+%llu", i,
				     i < XL4_STAT_REASON_BASE ?
					     xl4_verdict_name(i) :
					     xl4_reason_name(i - XL4_STAT_REASON_BASE),
				     (unsigned long long)t->want.c[i].packets,
				     (unsigned long long)t->want.c[i].bytes, dp, db);
	}
	return ok;
}
