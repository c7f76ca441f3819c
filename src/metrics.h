/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The Prometheus endpoint (docs/metrics.md). The daemon's loop renders the whole exposition
 * once a second (xl4_metrics_render) and hands the text over (xl4_metrics_publish); the HTTP
 * server (libmicrohttpd, its own thread) only ever copies that text under a mutex, so it never
 * touches LB or filter state and never waits on the loop.
 */
#ifndef XL4_METRICS_H
#define XL4_METRICS_H

#include <pthread.h>
#include <stddef.h>
#include <time.h>
#include <jansson.h>

#include "config.h"
#include "counters.h"

struct MHD_Daemon;

struct xl4_metrics {
	struct MHD_Daemon *mhd;
	pthread_mutex_t lock;
	char *text; /* the last rendered exposition, owned; guarded by lock */
	size_t len;
};

/* What one rendering shows; the JSON documents are those of `xl4 status` (not consumed). */
struct xl4_metrics_input {
	const struct xl4_totals *totals;
	json_t *vips;	     /* daemon_lb_json() */
	json_t *rules;	     /* xl4_filter_rules_json() */
	json_t *filter;	     /* daemon_filter_json() */
	json_t *guard;	     /* daemon_guard_json(); per-VIP guard state is in vips[].guard */
	time_t started;	     /* daemon start, Unix time */
	unsigned long long events_sampled;
	json_t *maps;	     /* xl4_map_fill_json(), or NULL before the first walk */
	json_t *cluster;     /* the cluster job's status; per-VIP state is in vips[].announced */
};

/* Listen on c->listen (nothing when it is ""). 0, or -errno with one line logged saying
 * which address could not be used and why. */
int xl4_metrics_start(struct xl4_metrics *m, const struct xl4_metrics_conf *c);
void xl4_metrics_stop(struct xl4_metrics *m);
/* Replace the text served; takes ownership of text (malloc'd). */
void xl4_metrics_publish(struct xl4_metrics *m, char *text, size_t len);
/* The exposition text for in (malloc'd, NUL-terminated; *len without the NUL); NULL on ENOMEM. */
char *xl4_metrics_render(const struct xl4_metrics_input *in, size_t *len);

#endif
