/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What must hold of every packet the random fixtures send the XDP program (lb_cases.c,
 * guard_cases.c), whatever the packet: the answer's shape against the user-space parser, and
 * the verdict counters against the answers, tallied as the run goes.
 */
#ifndef XL4_TESTS_RAND_CHECK_H
#define XL4_TESTS_RAND_CHECK_H

#include <stdbool.h>
#include <stdint.h>

#include "counters.h"

/* What is wrong with a verdict and reason (or NULL), given what the user-space parser said of
 * the packet (ureason: its drop reason, 0 if it accepts it), in a world without filter lists:
 * never aborted, only drop, pass or transmit; a drop names a reason and nothing else does; a
 * packet the parser refuses is that drop; one it accepts is never a parser or filter drop. */
const char *fx_verdict_wrong(uint32_t verdict, uint32_t reason, unsigned int ureason);

/* The verdict counters' expected movement: start (reads them), add each answer, then check. */
struct fx_tally {
	struct xl4_totals want, before;
};
int fx_tally_start(struct fx_tally *t, int stats_fd);
void fx_tally_add(struct fx_tally *t, uint32_t verdict, uint32_t reason, uint32_t len);
/* Every counter moved by exactly what was added; failures are reported under name. */
bool fx_tally_check(const struct fx_tally *t, int stats_fd, const char *name, bool ok);

#endif
