// SPDX-License-Identifier: GPL-2.0
/* The screen model of `xl4 top` (see top_view.h): samples in, lines of text out. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "top_view.h"

int top_model_init(struct top_model *m, bool ascii, int top_n)
{
	memset(m, 0, sizeof(*m));
	m->ascii = ascii;
	m->top_n = top_n > 0 ? top_n : 8;
	m->be = calloc(TOP_MAX_BACKENDS, sizeof(*m->be));
	return m->be ? 0 : -ENOMEM;
}

void top_model_free(struct top_model *m)
{
	json_decref(m->status);
	json_decref(m->stats);
	free(m->be);
	m->status = m->stats = NULL;
	m->be = NULL;
}

void top_model_error(struct top_model *m, const char *msg)
{
	snprintf(m->error, sizeof(m->error), "%s", msg ? msg : "");
}

void top_series_push(struct top_series *s, double v)
{
	s->v[s->head] = v;
	s->head = (s->head + 1) % TOP_HISTORY;
	if (s->n < TOP_HISTORY)
		s->n++;
}

/* The i-th value, oldest first. */
static double series_at(const struct top_series *s, int i)
{
	return s->v[(s->head - s->n + i + TOP_HISTORY) % TOP_HISTORY];
}

char *top_sparkline(const struct top_series *s, double floor, bool ascii, char *out, size_t len)
{
	static const char *const blocks[] = { "▁", "▂", "▃", "▄", "▅", "▆", "▇", "█" };
	static const char ascii_levels[] = "_.-:=+*#";
	double max = floor;
	size_t o = 0;

	for (int i = 0; i < s->n; i++)
		if (!isnan(series_at(s, i)) && series_at(s, i) > max)
			max = series_at(s, i);
	for (int i = 0; i < s->n; i++) {
		double v = series_at(s, i);
		int lvl = isnan(v) || max <= 0 ? -1 : (int)lround(v / max * 7);
		const char *cell;
		char a[2] = { 0 };

		if (lvl > 7)
			lvl = 7;
		if (lvl < 0 && !isnan(v))
			lvl = 0;
		if (lvl < 0) {
			cell = " ";
		} else if (ascii) {
			a[0] = ascii_levels[lvl];
			cell = a;
		} else {
			cell = blocks[lvl];
		}
		if (o + strlen(cell) + 1 > len)
			break;
		memcpy(out + o, cell, strlen(cell));
		o += strlen(cell);
	}
	if (len)
		out[o < len ? o : len - 1] = '\0';
	return out;
}

char *top_si(double v, char *out, size_t len)
{
	static const char suffix[] = " kMGT";
	int i = 0;

	if (isnan(v)) {
		snprintf(out, len, "-");
		return out;
	}
	while (fabs(v) >= 999.5 && i < 4) {
		v /= 1000;
		i++;
	}
	if (i == 0)
		snprintf(out, len, "%.0f", v);
	else
		snprintf(out, len, "%.*f%c", fabs(v) < 9.995 ? 2 : fabs(v) < 99.95 ? 1 : 0, v, suffix[i]);
	return out;
}

/* ---- samples ---- */

static unsigned long long jull(json_t *o, const char *k)
{
	json_int_t v = json_integer_value(json_object_get(o, k));

	return v > 0 ? (unsigned long long)v : 0;
}

static double jnum(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);

	return json_is_number(v) ? json_number_value(v) : NAN;
}

static const char *jstr(json_t *o, const char *k, const char *dflt)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s ? s : dflt;
}

/* A counter's rate between two samples; a counter that went back (maps recreated) is 0. */
static double rate(unsigned long long cur, unsigned long long prev, double dt)
{
	return cur >= prev && dt > 0 ? (double)(cur - prev) / dt : 0;
}

static struct top_vip *vip_slot(struct top_model *m, const char *name)
{
	struct top_vip *free_slot = NULL;

	for (int i = 0; i < TOP_MAX_VIPS; i++) {
		if (m->vips[i].used && !strcmp(m->vips[i].name, name))
			return &m->vips[i];
		if (!m->vips[i].used && !free_slot)
			free_slot = &m->vips[i];
	}
	if (free_slot) {
		memset(free_slot, 0, sizeof(*free_slot));
		free_slot->used = true;
		snprintf(free_slot->name, sizeof(free_slot->name), "%s", name);
	}
	return free_slot;
}

static const struct top_vip *vip_find(const struct top_model *m, const char *name)
{
	for (int i = 0; i < TOP_MAX_VIPS; i++)
		if (m->vips[i].used && !strcmp(m->vips[i].name, name))
			return &m->vips[i];
	return NULL;
}

static int be_index(const struct top_model *m, const char *vip, const char *addr)
{
	char key[sizeof(m->be[0].key)];

	snprintf(key, sizeof(key), "%s\n%s", vip, addr);
	for (int i = 0; i < m->n_be; i++)
		if (!strcmp(m->be[i].key, key))
			return i;
	return -1;
}

static struct top_backend *be_slot(struct top_model *m, const char *vip, const char *addr)
{
	char key[sizeof(m->be[0].key)];
	int i = be_index(m, vip, addr);

	if (i >= 0)
		return &m->be[i];
	if (m->n_be >= TOP_MAX_BACKENDS)
		return NULL;
	snprintf(key, sizeof(key), "%s\n%s", vip, addr);
	memset(&m->be[m->n_be], 0, sizeof(m->be[0]));
	snprintf(m->be[m->n_be].key, sizeof(key), "%s", key);
	return &m->be[m->n_be++];
}

/* The guard's SYN:ACK ratio: its own "ratio" if given, else syn/ack; NAN without a guard. */
static double guard_ratio(json_t *g)
{
	double r = jnum(g, "ratio"), syn = jnum(g, "syn_per_s"), ack = jnum(g, "ack_per_s");

	if (!json_is_object(g))
		return NAN;
	if (!isnan(r))
		return r;
	if (!isnan(syn) && !isnan(ack))
		return ack > 0 ? syn / ack : syn > 0 ? syn : 0;
	return NAN;
}

static void update_vips(struct top_model *m, json_t *vips, double dt)
{
	bool seen[TOP_MAX_VIPS] = { false };
	size_t i, j;
	json_t *v, *b;
	int kept = 0;

	for (int k = 0; k < m->n_be; k++)
		m->be[k].seen = false;

	json_array_foreach(vips, i, v) {
		json_t *c = json_object_get(v, "counters");
		struct top_vip *t = vip_slot(m, jstr(v, "name", "?"));
		unsigned long long p = jull(c, "packets"), by = jull(c, "bytes"), nf = jull(c, "new_flows");

		if (!t)
			continue;
		seen[t - m->vips] = true;
		if (t->have_prev && dt > 0) {
			t->pps = rate(p, t->packets, dt);
			t->bps = rate(by, t->bytes, dt) * 8;
			t->fps = rate(nf, t->new_flows, dt);
			top_series_push(&t->pps_hist, t->pps);
			top_series_push(&t->ratio, guard_ratio(json_object_get(v, "guard")));
		}
		t->packets = p;
		t->bytes = by;
		t->new_flows = nf;
		t->have_prev = true;
		json_array_foreach(json_object_get(v, "backends"), j, b) {
			struct top_backend *tb = be_slot(m, t->name, jstr(b, "address", "?"));
			unsigned long long bp = jull(json_object_get(b, "counters"), "packets");

			if (!tb)
				continue;
			tb->seen = true;
			tb->pps = tb->have_prev ? rate(bp, tb->packets, dt) : 0;
			tb->packets = bp;
			tb->have_prev = true;
		}
	}
	/* A VIP that is gone forgets its history (a new one of that name starts afresh). */
	for (int k = 0; k < TOP_MAX_VIPS; k++)
		if (m->vips[k].used && !seen[k])
			m->vips[k].used = false;
	/* Likewise a removed backend: its slot is free for new ones. */
	for (int k = 0; k < m->n_be; k++)
		if (m->be[k].seen)
			m->be[kept++] = m->be[k];
	m->n_be = kept;
}

static void note_source(struct top_model *m, json_t *e, double now)
{
	const char *addr = jstr(e, "src", "(no IP)"), *reason = jstr(e, "reason", "?");
	struct top_source *s = NULL;

	for (int i = 0; i < m->n_src && !s; i++)
		if (!strcmp(m->src[i].addr, addr) && !strcmp(m->src[i].reason, reason))
			s = &m->src[i];
	if (!s) {
		if (m->n_src == TOP_MAX_SOURCES) {
			/* full: the least recently seen makes room */
			s = &m->src[0];
			for (int i = 1; i < m->n_src; i++)
				if (m->src[i].last < s->last)
					s = &m->src[i];
		} else {
			s = &m->src[m->n_src++];
		}
		memset(s, 0, sizeof(*s));
		snprintf(s->addr, sizeof(s->addr), "%s", addr);
		snprintf(s->reason, sizeof(s->reason), "%s", reason);
	}
	s->count++;
	s->last = now;
}

/* The daemon keeps the last 64 sampled drops and a running total: the events new since the
 * previous sample are the last (total - seen) of the list. */
static void update_sources(struct top_model *m, json_t *events, double now)
{
	json_t *arr = json_object_get(events, "events");
	unsigned long long total = jull(events, "total");
	size_t len = json_array_size(arr), fresh;
	int k = 0;

	if (!m->events_init || total < m->events_seen)
		fresh = len; /* first look, or the daemon restarted: all it has is recent */
	else
		fresh = total - m->events_seen < len ? total - m->events_seen : len;
	for (size_t i = len - fresh; i < len; i++)
		note_source(m, json_array_get(arr, i), now);
	m->events_seen = total;
	m->events_init = true;
	for (int i = 0; i < m->n_src; i++)
		if (now - m->src[i].last <= TOP_SOURCE_WINDOW_S)
			m->src[k++] = m->src[i];
	m->n_src = k;
}

void top_model_update(struct top_model *m, json_t *status, json_t *stats, json_t *events, double now)
{
	double dt = m->samples ? now - m->last_t : 0;

	if (status) {
		update_vips(m, json_object_get(status, "vips"), dt);
		json_decref(m->status);
		m->status = json_incref(status);
	}
	if (stats) {
		json_decref(m->stats);
		m->stats = json_incref(stats);
	}
	if (events)
		update_sources(m, events, now);
	m->interval = dt;
	m->last_t = now;
	m->samples++;
}

/* ---- rendering ---- */

static int push(struct top_lines *l, const char *s)
{
	if (l->n == l->cap) {
		int cap = l->cap ? l->cap * 2 : 64;
		char **nl = realloc(l->line, cap * sizeof(*nl));

		if (!nl)
			return -ENOMEM;
		l->line = nl;
		l->cap = cap;
	}
	if (!(l->line[l->n] = strdup(s)))
		return -ENOMEM;
	l->n++;
	return 0;
}

/* Cut s to width columns: every UTF-8 sequence counts as one (the view uses no wide ones). */
static void cut(char *s, int width)
{
	int cols = 0;

	for (char *p = s; *p; p++) {
		if (((unsigned char)*p & 0xc0) == 0x80)
			continue;
		if (cols++ == width) {
			*p = '\0';
			return;
		}
	}
}

struct out {
	struct top_lines *l;
	int width, err;
};

static void __attribute__((format(printf, 2, 3))) line(struct out *o, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	cut(buf, o->width);
	if (!o->err)
		o->err = push(o->l, buf);
}

static void header(const struct top_model *m, struct out *o, const char *clock)
{
	json_t *st = m->status, *v = json_object_get(m->stats, "verdicts");
	long long up = json_integer_value(json_object_get(st, "uptime_s"));
	char a[16], b[16], c[16], d[16], e[16];

	if (st)
		line(o, "xl4 top - daemon %s pid %lld up %lldd%02lldh%02lldm%02llds - %s - every %.1fs - q quits",
		     jstr(st, "version", "?"), json_integer_value(json_object_get(st, "pid")),
		     up / 86400, up / 3600 % 24, up / 60 % 60, up % 60, clock,
		     m->interval > 0 ? m->interval : 0.0);
	else
		line(o, "xl4 top - %s - waiting for the daemon - q quits", clock);
	if (m->error[0])
		line(o, "!! %s", m->error);
	line(o, "packets/s: pass %s  tx %s  drop %s  redirect %s  aborted %s   drop samples %lld",
	     top_si(jnum(json_object_get(v, "pass"), "pps"), a, sizeof(a)),
	     top_si(jnum(json_object_get(v, "tx"), "pps"), b, sizeof(b)),
	     top_si(jnum(json_object_get(v, "drop"), "pps"), c, sizeof(c)),
	     top_si(jnum(json_object_get(v, "redirect"), "pps"), d, sizeof(d)),
	     top_si(jnum(json_object_get(v, "aborted"), "pps"), e, sizeof(e)),
	     json_integer_value(json_object_get(st, "events_sampled")));
}

/* "normal", "EMERG/challenge", with "(on)"/"(off)" when overridden; "-" without a guard. */
static void guard_text(json_t *g, char *out, size_t len)
{
	const char *mode = jstr(g, "mode", NULL), *ovr = jstr(g, "override", "auto");

	if (!json_is_object(g) || !mode) {
		snprintf(out, len, "-");
		return;
	}
	if (!strcmp(mode, "emergency"))
		snprintf(out, len, "EMERG/%s%s", jstr(g, "level", "?"),
			 !strcmp(ovr, "on") ? "(on)" : "");
	else
		snprintf(out, len, "%s%s", mode, !strcmp(ovr, "off") ? "(off)" : "");
}

static void vips_section(const struct top_model *m, struct out *o)
{
	json_t *vips = json_object_get(m->status, "vips"), *v, *b;
	size_t i, j;

	line(o, "%s", "");
	if (!json_array_size(vips)) {
		line(o, "VIPS: none configured");
		return;
	}
	line(o, "%-14s %-26s %-5s %8s %8s %7s  %-18s %7s  %-*s  %s", "VIP", "ADDRESS", "MODE", "PPS",
	     "BPS", "NEW/S", "GUARD", "SYN:ACK", TOP_HISTORY, "SYN:ACK LAST 30", "PPS LAST 30");
	json_array_foreach(vips, i, v) {
		const struct top_vip *t = vip_find(m, jstr(v, "name", "?"));
		json_t *g = json_object_get(v, "guard");
		char pps[16], bps[16], fps[16], gt[48], ratio[16], spark[TOP_HISTORY * 3 + 1];
		char pspark[TOP_HISTORY * 3 + 1];
		double r = guard_ratio(g);
		bool rated = t && t->pps_hist.n > 0;
		int pad;

		if (isnan(r))
			snprintf(ratio, sizeof(ratio), "-");
		else
			snprintf(ratio, sizeof(ratio), "%.2f", r);
		guard_text(g, gt, sizeof(gt));
		top_sparkline(t ? &t->ratio : &(struct top_series){ 0 }, 2.0, m->ascii, spark, sizeof(spark));
		top_sparkline(t ? &t->pps_hist : &(struct top_series){ 0 }, 1.0, m->ascii, pspark, sizeof(pspark));
		pad = TOP_HISTORY - (t ? t->ratio.n : 0); /* sparkline cells are 1 column, not 1 byte */
		line(o, "%-14s %-26s %-5s %8s %8s %7s  %-18s %7s  %s%*s  %s", jstr(v, "name", "?"),
		     jstr(v, "vip", "?"), jstr(v, "mode", "?"),
		     rated ? top_si(t->pps, pps, sizeof(pps)) : "-",
		     rated ? top_si(t->bps, bps, sizeof(bps)) : "-",
		     rated ? top_si(t->fps, fps, sizeof(fps)) : "-", gt, ratio, spark, pad, "", pspark);
		if (json_is_object(g) && (strcmp(jstr(g, "mode", "normal"), "normal") ||
					  *jstr(g, "reason", "")))
			line(o, "    guard: %s level %s override %s syn/s %.0f ack/s %.0f%s%s",
			     jstr(g, "mode", "?"), jstr(g, "level", "?"), jstr(g, "override", "?"),
			     jnum(g, "syn_per_s"), jnum(g, "ack_per_s"), *jstr(g, "reason", "") ? " - " : "",
			     jstr(g, "reason", ""));
		json_array_foreach(json_object_get(v, "backends"), j, b) {
			int bi = be_index(m, jstr(v, "name", "?"), jstr(b, "address", "?"));
			const struct top_backend *tb = bi >= 0 ? &m->be[bi] : NULL;
			json_t *h = json_object_get(b, "health");
			char bp[16], hc[96] = "";

			if (json_is_object(h))
				snprintf(hc, sizeof(hc), "  checks %lld failed %lld%s%s",
					 json_integer_value(json_object_get(h, "checks")),
					 json_integer_value(json_object_get(h, "failures")),
					 *jstr(h, "last_error", "") ? ": " : "", jstr(h, "last_error", ""));
			line(o, "    backend %-28s %-4s %-7s weight %-5lld %-5s pps %-8s flows %llu%s",
			     jstr(b, "address", "?"), json_is_false(json_object_get(b, "healthy")) ? "DOWN" : "up",
			     jstr(b, "state", "?"), json_integer_value(json_object_get(b, "weight")),
			     json_is_true(json_object_get(b, "drained")) ? "drain" : "",
			     tb && m->samples > 1 ? top_si(tb->pps, bp, sizeof(bp)) : "-",
			     jull(json_object_get(b, "counters"), "new_flows"), hc);
		}
	}
}

struct reason_row {
	const char *name;
	double pps;
	unsigned long long packets;
};

static int by_rate(const void *a, const void *b)
{
	const struct reason_row *x = a, *y = b;

	if (x->pps != y->pps)
		return x->pps < y->pps ? 1 : -1;
	return x->packets < y->packets ? 1 : x->packets > y->packets ? -1 : strcmp(x->name, y->name);
}

static void drops_section(const struct top_model *m, struct out *o)
{
	json_t *drops = json_object_get(m->stats, "drops"), *e;
	struct reason_row rows[256];
	const char *name;
	int n = 0;

	json_object_foreach(drops, name, e) {
		unsigned long long p = jull(e, "packets");
		double pps = jnum(e, "pps");

		if (!p || n == 256)
			continue;
		rows[n++] = (struct reason_row){ name, isnan(pps) ? 0 : pps, p };
	}
	qsort(rows, n, sizeof(rows[0]), by_rate);
	line(o, "%s", "");
	line(o, "DROPS BY REASON (top %d of %d)        %10s %14s", m->top_n, n, "PPS", "TOTAL");
	if (!n)
		line(o, "  (no drops)");
	for (int i = 0; i < n && i < m->top_n; i++) {
		char r[16];

		line(o, "  %-34s %10s %14llu", rows[i].name, top_si(rows[i].pps, r, sizeof(r)), rows[i].packets);
	}
}

static int by_count(const void *a, const void *b)
{
	const struct top_source *x = a, *y = b;

	if (x->count != y->count)
		return x->count < y->count ? 1 : -1;
	return x->last < y->last ? 1 : x->last > y->last ? -1 : 0;
}

static void sources_section(const struct top_model *m, struct out *o)
{
	struct top_source *s = malloc(sizeof(*s) * (m->n_src ? m->n_src : 1));

	line(o, "%s", "");
	line(o, "TOP DROPPED SOURCES (sampled drops, last %.0f s)  %8s  %s", TOP_SOURCE_WINDOW_S,
	     "SAMPLES", "REASON");
	if (!s) {
		o->err = -ENOMEM;
		return;
	}
	memcpy(s, m->src, sizeof(*s) * m->n_src);
	qsort(s, m->n_src, sizeof(*s), by_count);
	if (!m->n_src)
		line(o, "  (no sampled drops)");
	for (int i = 0; i < m->n_src && i < m->top_n; i++)
		line(o, "  %-45s  %8lu  %s", s[i].addr, s[i].count, s[i].reason);
	free(s);
}

static void maps_section(const struct top_model *m, struct out *o)
{
	json_t *maps = json_object_get(m->status, "maps"), *e;
	size_t i;

	if (!json_array_size(maps))
		return;
	line(o, "%s", "");
	line(o, "MAPS %-22s %12s %12s %6s", "", "ENTRIES", "CAPACITY", "FILL");
	json_array_foreach(maps, i, e)
		line(o, "  %-25s %12llu %12llu %5.1f%%", jstr(e, "name", "?"), jull(e, "entries"),
		     jull(e, "capacity"), jull(e, "capacity") ?
			100.0 * jull(e, "entries") / jull(e, "capacity") : 0.0);
}

int top_view_render(const struct top_model *m, int width, const char *clock, struct top_lines *out)
{
	struct out o = { .l = out, .width = width > 0 ? width : 80 };

	memset(out, 0, sizeof(*out));
	header(m, &o, clock);
	vips_section(m, &o);
	drops_section(m, &o);
	sources_section(m, &o);
	maps_section(m, &o);
	if (o.err)
		top_lines_free(out);
	return o.err;
}

void top_lines_free(struct top_lines *l)
{
	for (int i = 0; i < l->n; i++)
		free(l->line[i]);
	free(l->line);
	memset(l, 0, sizeof(*l));
}
