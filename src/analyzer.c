// SPDX-License-Identifier: GPL-2.0
/* The flood analyzer's judgement (see analyzer.h): baselines, flash crowd vs attack, top
 * sources and prefixes. No I/O, no clock of its own: everything comes in the observations. */
#include <stdarg.h>
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

#define RECENT_BLOCKS 512 /* blocks and spared prefixes remembered (their hold) */
#define PENDING_MAX 32	   /* candidates waiting out the proof window */

struct an_block {
	struct xl4_prefix p;
	uint32_t vip;
	uint64_t until_ns; /* blocked until (0: spared, not blocked) */
	uint64_t hold_ns;  /* not a candidate again for this VIP until */
};

struct an_pending {
	struct xl4_an_decision d; /* the XL4_AN_BLOCK it becomes */
	uint32_t gen;
	uint64_t due_ns;
};

struct xl4_analyzer {
	struct xl4_analyzer_params p;
	struct an_vip v[XL4_MAX_VIPS];
	struct an_block blocked[RECENT_BLOCKS];
	unsigned n_blocked;
	struct an_pending pending[PENDING_MAX];
	unsigned n_pending;
	bool cap_noted; /* the log heard that max_blocks is reached (until it no longer is) */
	uint64_t judged_ns; /* the last candidate judged */
};

/* Observations come once a second, a little early or late: 0.9 s keeps one judgement a tick. */
#define XL4_AN_JUDGE_GAP_NS 900000000ull

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

static bool held(const struct xl4_analyzer *a, const struct xl4_prefix *p, uint32_t vip, uint64_t now);

/* The most counted entry; with a, the most counted one not held for vip (one blocked or
 * spared already must not hide the next one behind it). */
static const struct count *top(const struct xl4_analyzer *a, const struct count *t, uint32_t vip,
			       uint64_t now)
{
	const struct count *best = NULL;

	for (uint32_t i = 0; i < XL4_AN_TABLE; i++)
		if (t[i].n && (!best || t[i].n > best->n) && (!a || !held(a, &t[i].p, vip, now)))
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

/* Blocked, spared or waiting for this VIP, or inside a prefix blocked for it: not a candidate
 * (again) yet. */
static bool held(const struct xl4_analyzer *a, const struct xl4_prefix *p, uint32_t vip, uint64_t now)
{
	for (unsigned i = 0; i < a->n_blocked; i++) {
		const struct an_block *b = &a->blocked[i];

		if (b->vip != vip || b->hold_ns <= now)
			continue;
		if (same(&b->p, p) || (b->until_ns > now && b->p.family == p->family &&
				       b->p.len <= p->len && xl4_prefix_contains(&b->p, p->family, p->addr) == 1))
			return true;
	}
	for (unsigned i = 0; i < a->n_pending; i++)
		if (a->pending[i].d.vip == vip && same(&a->pending[i].d.prefix, p))
			return true;
	return false;
}

static unsigned blocks_in_force(const struct xl4_analyzer *a, uint64_t now)
{
	unsigned n = 0;

	for (unsigned i = 0; i < a->n_blocked; i++)
		n += a->blocked[i].until_ns > now;
	return n;
}

static void remember(struct xl4_analyzer *a, const struct xl4_prefix *p, uint32_t vip,
		     uint64_t until, uint64_t hold)
{
	unsigned i, slot = a->n_blocked < RECENT_BLOCKS ? a->n_blocked++ : 0;

	for (i = 0; i < a->n_blocked; i++)
		if (a->blocked[i].hold_ns <= a->blocked[slot].hold_ns)
			slot = i; /* reuse the oldest (or a finished) entry */
	a->blocked[slot] = (struct an_block){ .p = *p, .vip = vip, .until_ns = until, .hold_ns = hold };
}

static int note(struct xl4_an_decision *d, uint32_t kind, uint32_t vip, const struct xl4_prefix *p,
		const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static int note(struct xl4_an_decision *d, uint32_t kind, uint32_t vip, const struct xl4_prefix *p,
		const char *fmt, ...)
{
	va_list ap;

	memset(d, 0, sizeof(*d));
	d->kind = kind;
	d->vip = vip;
	if (p)
		d->prefix = *p;
	va_start(ap, fmt);
	vsnprintf(d->why, sizeof(d->why), fmt, ap);
	va_end(ap);
	return 1;
}

/* The top source, or its /24 (/64) when the drops spread over that prefix, becomes a
 * candidate (see pending_due()); 1 with a note in *d when the cap keeps it from being one. */
static int judge_top(struct xl4_analyzer *a, struct an_vip *v, const struct xl4_an_obs *o,
		     struct xl4_an_decision *d)
{
	const struct count *s, *s_all, *p, *pick;
	struct an_pending *c;
	double need;
	char str[64];

	if (!a->p.block_top || !v->src || v->samples < a->p.min_samples)
		return 0;
	s = top(a, v->src, o->vip, o->now_ns);
	s_all = top(NULL, v->src, o->vip, o->now_ns);
	p = top(a, v->pfx, o->vip, o->now_ns);
	need = a->p.min_share * v->samples;
	/* a prefix when no one source (held or not) explains its drops */
	if (p && p->n >= need && (!s_all || p->n >= 2 * s_all->n))
		pick = p;
	else if (s && s->n >= need)
		pick = s;
	else
		return 0;
	xl4_prefix_str(&pick->p, str, sizeof(str));
	if (blocks_in_force(a, o->now_ns) + a->n_pending >= a->p.max_blocks ||
	    a->n_pending == PENDING_MAX) {
		counts_clear(v);
		if (a->cap_noted)
			return 0;
		a->cap_noted = true;
		return note(d, XL4_AN_SPARE, o->vip, &pick->p,
			    "%u automatic blocks are in force or waiting (guard.analyzer.max_blocks = %u)",
			    blocks_in_force(a, o->now_ns) + a->n_pending, a->p.max_blocks);
	}
	c = &a->pending[a->n_pending++];
	note(&c->d, XL4_AN_BLOCK, o->vip, &pick->p, "%s sent %u of %u sampled guard drops (%.0f%%)",
	     str, pick->n, v->samples, 100.0 * pick->n / v->samples);
	c->d.hits = pick->n;
	c->d.samples = v->samples;
	c->gen = o->gen;
	c->due_ns = o->now_ns + (uint64_t)a->p.proof_ms * 1000000ull;
	counts_clear(v); /* the rest of the attack is judged afresh */
	return 0;
}

/* A candidate whose proof window passed: spared when its prefix holds established flows or
 * verified sources (or nobody can tell), blocked otherwise, within the cap. */
static int judge_one(struct xl4_analyzer *a, const struct an_pending *c, uint64_t now,
		     struct xl4_an_decision *d)
{
	struct xl4_an_proof pr = { 0 };
	uint64_t bs = (uint64_t)a->p.block_seconds * 1000000000ull, until;
	int err = a->p.proof ? a->p.proof(a->p.proof_ctx, &c->d.prefix, &pr) : 0;

	if (err < 0 || pr.verified || pr.flows) {
		remember(a, &c->d.prefix, c->d.vip, 0, now + bs);
		if (err < 0)
			return note(d, XL4_AN_SPARE, c->d.vip, &c->d.prefix,
				    "cannot tell whether it holds established flows or verified sources (%s); %s",
				    strerror(-err), c->d.why);
		if (pr.verified)
			return note(d, XL4_AN_SPARE, c->d.vip, &c->d.prefix,
				    "a source in it proved itself (%llu verified); %s",
				    (unsigned long long)pr.verified, c->d.why);
		return note(d, XL4_AN_SPARE, c->d.vip, &c->d.prefix,
			    "it holds %llu established flows; %s", (unsigned long long)pr.flows, c->d.why);
	}
	if (blocks_in_force(a, now) >= a->p.max_blocks)
		return note(d, XL4_AN_SPARE, c->d.vip, &c->d.prefix,
			    "%u automatic blocks are in force (guard.analyzer.max_blocks); %s",
			    a->p.max_blocks, c->d.why);
	*d = c->d;
	/* what the datapath will hold: a block this prefix has for another VIP is widened, with
	 * its deadline, so this one ends with it (and is held as long again after) */
	until = pr.scoped_until_ns > now && pr.scoped_until_ns < now + bs ? pr.scoped_until_ns :
									      now + bs;
	remember(a, &c->d.prefix, c->d.vip, until, until + bs);
	return 1;
}

/* This VIP's candidates that are due, one judgement a second over all VIPs (one may walk the
 * whole connection table: a spoofer making candidates on many VIPs must not keep this thread
 * walking); one of a VIP that changed or left emergency mode meanwhile is dropped (its attack
 * is over). */
static int pending_due(struct xl4_analyzer *a, const struct xl4_an_obs *o, struct xl4_an_decision *out,
		       int max)
{
	int n = 0;

	for (unsigned i = 0; i < a->n_pending && n < max;) {
		struct an_pending *c = &a->pending[i];
		bool live = c->gen == o->gen && o->emergency;

		if (c->d.vip != o->vip ||
		    (live && (c->due_ns > o->now_ns || o->now_ns < a->judged_ns + XL4_AN_JUDGE_GAP_NS))) {
			i++;
			continue;
		}
		if (live) {
			n += judge_one(a, c, o->now_ns, &out[n]);
			a->judged_ns = o->now_ns;
		}
		*c = a->pending[--a->n_pending];
	}
	return n;
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
		return n + pending_due(a, o, out + n, max - n); /* drops this VIP's candidates */
	}
	if (!v->was_emergency) {
		v->was_emergency = true;
		v->window_start = o->now_ns;
	}
	if (blocks_in_force(a, o->now_ns) + a->n_pending < a->p.max_blocks)
		a->cap_noted = false;
	if (n < max && judge_top(a, v, o, &out[n]))
		n++;
	n += pending_due(a, o, out + n, max - n);
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
