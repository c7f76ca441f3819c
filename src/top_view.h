/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The screen model of `xl4 top`: the daemon's replies (status, stats, events) go in, one
 * sample a refresh; lines of text come out. No terminal I/O here (that is cmd_top.c), so the
 * whole screen is unit-testable (tests/unit/test_top_view.c).
 *
 * Rates per VIP and backend come from successive samples of their counters (the daemon's
 * replies carry totals); the SYN:ACK history and the top dropped sources are kept here too.
 */
#ifndef XL4_TOP_VIEW_H
#define XL4_TOP_VIEW_H

#include <stdbool.h>
#include <jansson.h>

#define TOP_HISTORY 30	   /* samples in a sparkline: ~30 s at the default refresh */
#define TOP_MAX_VIPS 256
#define TOP_MAX_BACKENDS 4096
#define TOP_MAX_SOURCES 512
#define TOP_SOURCE_WINDOW_S 60.0 /* a dropped source is forgotten after this long unseen */

struct top_series {
	double v[TOP_HISTORY]; /* ring; NAN = no value in that sample */
	int head, n;
};

struct top_vip {
	char name[64];
	bool used, have_prev;
	unsigned long long packets, bytes, new_flows;
	double pps, bps, fps;
	struct top_series ratio, pps_hist;
};

struct top_backend {
	char key[160]; /* "vip\naddress" */
	bool have_prev, seen;
	unsigned long long packets;
	double pps;
};

struct top_source {
	char addr[48], reason[40];
	unsigned long count;
	double last;
};

struct top_model {
	bool ascii;		/* ASCII sparklines instead of Unicode blocks */
	int top_n;		/* rows in the drop-reason and source tables */
	double last_t, interval; /* time of the last sample; seconds between the last two */
	struct top_vip vips[TOP_MAX_VIPS];
	struct top_backend *be; /* TOP_MAX_BACKENDS */
	int n_be;
	struct top_source src[TOP_MAX_SOURCES];
	int n_src;
	unsigned long long events_seen;
	bool events_init;
	json_t *status, *stats; /* the latest replies (owned references) */
	char error[256];	/* the last fetch problem, shown on the first line ("" = none) */
	int samples;
};

struct top_lines {
	char **line;
	int n, cap;
};

int top_model_init(struct top_model *m, bool ascii, int top_n);
void top_model_free(struct top_model *m);
/* One sample at time now (seconds, monotonic). Any reply may be NULL (not fetched or
 * failed); the references are not consumed. */
void top_model_update(struct top_model *m, json_t *status, json_t *stats, json_t *events, double now);
/* Say why the last fetch failed (NULL or "" clears it). */
void top_model_error(struct top_model *m, const char *msg);

/* The screen, each line cut to width columns (UTF-8 aware). clock is the wall time shown in
 * the header ("16:40:01"). 0 or -ENOMEM. */
int top_view_render(const struct top_model *m, int width, const char *clock, struct top_lines *out);
void top_lines_free(struct top_lines *l);

/* Helpers, exposed for the tests. */
void top_series_push(struct top_series *s, double v);
/* The series as a sparkline of s->n cells (oldest first), scaled to [0, max(values, floor)].
 * Cells without a value are ' '. Returns out. */
char *top_sparkline(const struct top_series *s, double floor, bool ascii, char *out, size_t len);
/* 1234567 -> "1.23M", with SI suffixes (k, M, G, T) */
char *top_si(double v, char *out, size_t len);

#endif
