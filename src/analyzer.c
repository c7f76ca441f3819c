// SPDX-License-Identifier: GPL-2.0
/* The flood analyzer's judgement (see analyzer.h): baselines, flash crowd vs attack, top
 * sources and prefixes. No I/O, no clock of its own: everything comes in the observations. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer.h"

struct count {
	struct xl4_prefix p;
	uint32_t n; /* 0: free slot */
};

struct an_vip {
	bool seen;
	uint32_t gen;
	uint32_t n_obs;		/* observations folded into the baseline */
	double base_syn, base_ratio;
	bool surging, flash_noted;
	uint64_t calm_since;	/* forced by us: when the attack stopped looking like one */
	bool was_emergency;
	uint64_t window_start;	/* top-N counting */
	uint32_t samples;
	struct count *src, *pfx; /* XL4_AN_TABLE each, while in emergency mode */
};

#define RECENT_BLOCKS 256

struct xl4_analyzer {
	struct xl4_analyzer_params p;
	struct an_vip v[XL4_MAX_VIPS];
	struct {
		struct xl4_prefix p;
		uint64_t until_ns;
	} blocked[RECENT_BLOCKS];
	unsigned n_blocked;
};

struct xl4_analyzer *xl4_analyzer_new(const struct xl4_analyzer_params *p)
{
	struct xl4_analyzer *a = calloc(1, sizeof(*a));

	if (a)
		a->p = *p;
	return a;
}

static void counts_clear(struct an_vip *v)
{
	free(v->src);
	free(v->pfx);
	v->src = v->pfx = NULL;
	v->samples = 0;
	v->window_start = 0;
}

void xl4_analyzer_free(struct xl4_analyzer *a)
{
	if (!a)
		return;
	for (int i = 0; i < XL4_MAX_VIPS; i++)
		counts_clear(&a->v[i]);
	free(a);
}

static uint32_t prefix_hash(const struct xl4_prefix *p)
{
	uint32_t h = 2166136261u;
	const uint8_t *b = (const uint8_t *)p->addr;

	for (int i = 0; i < 16; i++)
		h = (h ^ b[i]) * 16777619u;
	return (h ^ p->len ^ (uint32_t)p->family << 8) * 2654435761u;
}

static bool same(const struct xl4_prefix *a, const struct xl4_prefix *b)
{
	return a->family == b->family && a->len == b->len && !memcmp(a->addr, b->addr, 16);
}

/* Count one; a full table ignores new keys (the total still counts them, so a flood from
 * more sources than the table holds never reaches min_share). */
static void count_one(struct count *t, const struct xl4_prefix *p)
{
	uint32_t h = prefix_hash(p);

	for (uint32_t i = 0; i < XL4_AN_TABLE; i++) {
		struct count *c = &t[(h + i) % XL4_AN_TABLE];

		if (!c->n) {
			c->p = *p;
			c->n = 1;
			return;
		}
		if (same(&c->p, p)) {
			c->n++;
			return;
		}
	}
}

static const struct count *top(const struct count *t)
{
	const struct count *best = NULL;

	for (uint32_t i = 0; i < XL4_AN_TABLE; i++)
		if (t[i].n && (!best || t[i].n > best->n))
			best = &t[i];
	return best;
}

static void prefix_of(int family, const uint8_t src[16], uint8_t len, struct xl4_prefix *p)
{
	uint8_t *b = (uint8_t *)p->addr;

	memset(p, 0, sizeof(*p));
	p->family = family;
	p->len = len;
	memcpy(b, src, family == 6 ? 16 : 4);
	for (int i = 0; i < 16; i++) {
		int keep = (int)len - i * 8;

		b[i] &= keep >= 8 ? 0xff : keep <= 0 ? 0 : (uint8_t)(0xff << (8 - keep));
	}
}

void xl4_analyzer_sample(struct xl4_analyzer *a, uint32_t vip, int family, const uint8_t src[16])
{
	struct an_vip *v;
	struct xl4_prefix s, p;

	if (vip >= XL4_MAX_VIPS || (family != 4 && family != 6))
		return;
	v = &a->v[vip];
	if (!v->was_emergency)
		return;
	if (!v->src) {
		v->src = calloc(XL4_AN_TABLE, sizeof(*v->src));
		v->pfx = calloc(XL4_AN_TABLE, sizeof(*v->pfx));
		if (!v->src || !v->pfx) {
			counts_clear(v);
			return;
		}
	}
	prefix_of(family, src, family == 6 ? 128 : 32, &s);
	prefix_of(family, src, family == 6 ? 64 : 24, &p);
	count_one(v->src, &s);
	count_one(v->pfx, &p);
	v->samples++;
}

static bool recently_blocked(struct xl4_analyzer *a, const struct xl4_prefix *p, uint64_t now)
{
	for (unsigned i = 0; i < a->n_blocked; i++)
		if (a->blocked[i].until_ns > now && same(&a->blocked[i].p, p))
			return true;
	return false;
}

static void remember_block(struct xl4_analyzer *a, const struct xl4_prefix *p, uint64_t until)
{
	unsigned i, slot = a->n_blocked < RECENT_BLOCKS ? a->n_blocked++ : 0;

	for (i = 0; i < a->n_blocked; i++)
		if (a->blocked[i].until_ns <= a->blocked[slot].until_ns)
			slot = i; /* reuse the oldest (or an expired) entry */
	a->blocked[slot].p = *p;
	a->blocked[slot].until_ns = until;
}

/* The top source, or its /24 (/64) when the drops spread over that prefix. */
static int judge_top(struct xl4_analyzer *a, struct an_vip *v, const struct xl4_an_obs *o,
		     struct xl4_an_decision *d)
{
	const struct count *s, *p, *pick;
	double need;
	char str[64];

	if (!a->p.block_top || !v->src || v->samples < a->p.min_samples)
		return 0;
	s = top(v->src);
	p = top(v->pfx);
	need = a->p.min_share * v->samples;
	if (p && p->n >= need && (!s || p->n >= 2 * s->n))
		pick = p;
	else if (s && s->n >= need)
		pick = s;
	else
		return 0;
	if (recently_blocked(a, &pick->p, o->now_ns))
		return 0;
	memset(d, 0, sizeof(*d));
	d->kind = XL4_AN_BLOCK;
	d->vip = o->vip;
	d->prefix = pick->p;
	d->hits = pick->n;
	d->samples = v->samples;
	xl4_prefix_str(&pick->p, str, sizeof(str));
	snprintf(d->why, sizeof(d->why), "%s sent %u of %u sampled guard drops (%.0f%%)", str,
		 pick->n, v->samples, 100.0 * pick->n / v->samples);
	remember_block(a, &pick->p, o->now_ns + (uint64_t)a->p.block_seconds * 1000000000ull);
	counts_clear(v); /* the rest of the attack is judged afresh */
	return 1;
}

int xl4_analyzer_observe(struct xl4_analyzer *a, const struct xl4_an_obs *o,
			 struct xl4_an_decision *out, int max)
{
	struct an_vip *v;
	double ratio, floor_syn;
	bool bad, surge;
	int n = 0;

	if (o->vip >= XL4_MAX_VIPS || max <= 0)
		return 0;
	v = &a->v[o->vip];
	if (!v->seen || v->gen != o->gen) {
		counts_clear(v);
		memset(v, 0, sizeof(*v));
		v->seen = true;
		v->gen = o->gen;
	}
	ratio = xl4_guard_ratio(o->syn_per_s, o->ack_per_s);
	floor_syn = v->base_syn > 1 ? v->base_syn : 1;
	bad = o->syn_per_s >= XL4_AN_MIN_SYN && ratio > a->p.ratio;
	surge = v->n_obs >= XL4_AN_WARMUP && o->syn_per_s >= XL4_AN_MIN_SYN &&
		o->syn_per_s >= XL4_AN_SURGE_FACTOR * floor_syn;

	/* Learn only from normal seconds: an attack must not become the new normal. */
	if (!o->emergency && !surge && !bad) {
		if (!v->n_obs) {
			v->base_syn = o->syn_per_s;
			v->base_ratio = ratio;
		} else {
			v->base_syn += XL4_AN_ALPHA * (o->syn_per_s - v->base_syn);
			v->base_ratio += XL4_AN_ALPHA * (ratio - v->base_ratio);
		}
		v->n_obs++;
	}

	if (surge && !bad && !o->emergency) {
		if (!v->flash_noted && n < max) {
			struct xl4_an_decision *d = &out[n++];

			memset(d, 0, sizeof(*d));
			d->kind = XL4_AN_FLASH_CROWD;
			d->vip = o->vip;
			snprintf(d->why, sizeof(d->why),
				 "flash crowd, not an attack: %.0f SYN/s (%.1fx the baseline of %.0f) "
				 "with %.0f completing ACK/s (ratio %.1f)",
				 o->syn_per_s, o->syn_per_s / floor_syn, v->base_syn, o->ack_per_s, ratio);
			v->flash_noted = true;
		}
	} else if (!surge) {
		v->flash_noted = false;
	}

	if (surge && bad && !o->emergency && !o->hands_off && n < max) {
		struct xl4_an_decision *d = &out[n++];

		memset(d, 0, sizeof(*d));
		d->kind = XL4_AN_FORCE;
		d->vip = o->vip;
		snprintf(d->why, sizeof(d->why),
			 "the analyzer saw %.0f SYN/s (%.1fx the baseline of %.0f) with %.0f "
			 "completing ACK/s (ratio %.1f, attack above %.1f)",
			 o->syn_per_s, o->syn_per_s / floor_syn, v->base_syn, o->ack_per_s, ratio,
			 a->p.ratio);
		v->calm_since = 0;
	} else if (o->forced_by_us && !o->hands_off) {
		if (surge && bad) {
			v->calm_since = 0;
		} else if (!v->calm_since) {
			v->calm_since = o->now_ns;
		} else if (o->now_ns - v->calm_since >= (uint64_t)a->p.leave_ms * 1000000ull && n < max) {
			struct xl4_an_decision *d = &out[n++];

			memset(d, 0, sizeof(*d));
			d->kind = XL4_AN_RELEASE;
			d->vip = o->vip;
			snprintf(d->why, sizeof(d->why),
				 "calm for %.1f s: %.0f SYN/s, %.0f completing ACK/s (ratio %.1f)",
				 (o->now_ns - v->calm_since) / 1e9, o->syn_per_s, o->ack_per_s, ratio);
			v->calm_since = 0;
		}
	}

	/* Top sources: counted while in emergency mode, judged every second. */
	if (!o->emergency) {
		if (v->was_emergency)
			counts_clear(v);
		v->was_emergency = false;
		return n;
	}
	if (!v->was_emergency) {
		v->was_emergency = true;
		v->window_start = o->now_ns;
	}
	if (n < max && judge_top(a, v, o, &out[n]))
		n++;
	if (!v->window_start)
		v->window_start = o->now_ns;
	else if (o->now_ns - v->window_start >= XL4_AN_SAMPLE_WINDOW_NS) {
		counts_clear(v);
		v->window_start = o->now_ns;
	}
	return n;
}

int xl4_analyzer_baseline(const struct xl4_analyzer *a, uint32_t vip, double *syn_per_s,
			  double *ratio)
{
	const struct an_vip *v;

	if (vip >= XL4_MAX_VIPS)
		return -1;
	v = &a->v[vip];
	if (v->n_obs < XL4_AN_WARMUP) {
		*syn_per_s = *ratio = 0;
		return 0;
	}
	*syn_per_s = v->base_syn;
	*ratio = v->base_ratio;
	return 1;
}
