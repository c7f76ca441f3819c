/* SPDX-License-Identifier: GPL-2.0 */
/* Counters as JSON (the one shape used by the control socket, `xl4 stats --json` and metrics)
 * and as a table for people. */
#ifndef XL4_STATS_VIEW_H
#define XL4_STATS_VIEW_H

#include <stdbool.h>
#include <stdio.h>
#include <jansson.h>

#include "counters.h"

/* {"verdicts": {name: {packets, bytes[, pps, bps]}}, "drops": {reason: {...}}}.
 * Rates are included when prev is given and dt > 0. Every verdict and reason is present. */
json_t *xl4_stats_json(const struct xl4_totals *cur, const struct xl4_totals *prev, double dt);
/* Print the table; zero drop reasons are left out unless all is set. */
void xl4_stats_print(FILE *out, json_t *stats, bool all);

#endif
