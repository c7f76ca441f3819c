/* SPDX-License-Identifier: GPL-2.0 */
/* Reading the per-CPU verdict/reason counters (xl4_stats_v1) as one total per index. */
#ifndef XL4_COUNTERS_H
#define XL4_COUNTERS_H

#include "xl4/abi.h"

struct xl4_totals {
	struct xl4_counter c[XL4_STAT_MAX];
};

/* Sum every CPU's counters; 0 or -errno. */
int xl4_counters_read(int stats_fd, struct xl4_totals *t);
/* Open the pinned counters map under pin_path; fd or -errno. */
int xl4_counters_open_pinned(const char *pin_path);

static inline const struct xl4_counter *xl4_verdict_ctr(const struct xl4_totals *t, unsigned v)
{
	return &t->c[v];
}

static inline const struct xl4_counter *xl4_reason_ctr(const struct xl4_totals *t, unsigned r)
{
	return &t->c[XL4_STAT_REASON_BASE + r];
}

#endif
