// SPDX-License-Identifier: GPL-2.0
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>

#include "conntrack.h"
#include "control.h"
#include "daemon_guard.h"
#include "daemon_lb.h"
#include "event_fmt.h"
#include "guard_vbits.h"
#include "log.h"

#define NS_PER_S 1000000000ull
#define VERIFIED_LIST_MAX 100

/* ---- events ---- */

static void guard_event(struct daemon_guard *g, const struct daemon_guard_vip *v, bool warn,
			const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void guard_event(struct daemon_guard *g, const struct daemon_guard_vip *v, bool warn,
			const char *fmt, ...)
{
	struct daemon_guard_event *e = &g->ev[g->n_ev++ % DAEMON_GUARD_EVENTS];
	va_list ap;

	e->ts_ns = xl4_mono_ns();
	snprintf(e->vip, sizeof(e->vip), "%s", v ? v->name : "");
	va_start(ap, fmt);
	vsnprintf(e->text, sizeof(e->text), fmt, ap);
	va_end(ap);
	if (warn)
		pr_warn("%s", e->text);
	else
		pr_info("%s", e->text);
}

json_t *daemon_guard_events(struct daemon_guard *g)
{
	json_t *arr = json_array();
	uint64_t first = g->n_ev > DAEMON_GUARD_EVENTS ? g->n_ev - DAEMON_GUARD_EVENTS : 0;

	for (uint64_t i = first; i < g->n_ev; i++) {
		const struct daemon_guard_event *e = &g->ev[i % DAEMON_GUARD_EVENTS];

		json_array_append_new(arr, json_pack("{s:I, s:s, s:s, s:s}", "ts_ns", (json_int_t)e->ts_ns,
						     "type", "guard", "vip", e->vip, "message", e->text));
	}
	return arr;
}

/* ---- start and stop ---- */

/* ---- what spares a prefix (on the analyzer's thread) ---- */

struct proved {
	const struct xl4_prefix *p;
	uint64_t n;
};

static int proved_in(void *ctx, const struct xl4_guard_src *src, uint64_t left_s, bool cookie)
{
	struct proved *pr = ctx;

	(void)left_s;
	/* a cookie answer shows only that a stack lives at the address (any live host answers a
	 * SYN-ACK it did not ask for, for whoever spoofed the SYN): not a client's proof */
	if (!cookie)
		pr->n += xl4_prefix_contains(pr->p, (int)src->family, src->addr) == 1;
	return 0;
}

static int prefix_proof(void *ctx, const struct xl4_prefix *p, struct xl4_an_proof *out)
{
	const struct daemon_guard_proof *g = ctx;
	struct proved pr = { .p = p };
	long long flows;
	long v;

	out->scoped_until_ns = xl4_filter_scoped_until(g->block4_fd, g->block6_fd, p);
	v = xl4_guard_verified_walk(&g->maps, xl4_mono_ns(), proved_in, &pr, NULL);
	if (v < 0)
		return (int)v;
	out->verified = pr.n;
	if (pr.n)
		return 0; /* proved already: the connection table need not be walked */
	flows = xl4_ct_count_from(g->ct4_fd, g->ct_fd, p);
	if (flows < 0)
		return (int)flows;
	out->flows = flows;
	return 0;
}

/* The analyzer's settings; a candidate waits until a real client has proved itself: a real
 * client opening many connections at once has one SYN dropped as first and the others "too
 * early", so for a second it looks like the top source of drops (the e2e flood test saw the
 * analyzer pick its own client that way). After fd_max_ms + 1 s it has retransmitted (First
 * Drop) or answered a cookie (the challenge) and is verified. */
static struct xl4_analyzer_params analyzer_params(struct daemon_guard *g, const struct xl4_guard_conf *c)
{
	return (struct xl4_analyzer_params){
		.block_top = c->analyzer.block_top,
		.block_seconds = c->analyzer.block_seconds,
		.max_blocks = c->analyzer.max_blocks,
		.proof_ms = c->fd_max_ms + 1000,
		.min_share = c->analyzer.min_share,
		.min_samples = c->analyzer.min_samples,
		.ratio = c->ratio,
		.leave_ms = c->leave_ms,
		.proof = prefix_proof,
		.proof_ctx = &g->proof,
	};
}

/* The cookie keys: the current epoch's and the next one's in place (xl4_guard_keys_rotate).
 * Called at start, on reload and every tick; a failure keeps the keys there are (the
 * challenge still works, with a key that lives longer than asked) and is logged once. */
static int guard_keys_tick(struct daemon_guard *g, uint64_t now)
{
	int ret = xl4_guard_keys_rotate(&g->maps, g->conf.key_rotation_s, now);

	if (ret < 0 && ret != g->key_err)
		pr_warn("guard: cannot rotate the challenge cookie key: %s (the current key stays)",
			strerror(-ret));
	if (ret >= 0 && g->key_err)
		pr_info("guard: challenge cookie keys rotate again");
	g->key_err = ret < 0 ? ret : 0;
	if (ret > 0) {
		g->key_drawn_ns = now;
		pr_debug("guard: challenge cookie key drawn for the next %u s", g->conf.key_rotation_s);
	}
	return ret < 0 ? ret : 0;
}

int daemon_guard_start(void *state, const struct daemon_env *env)
{
	const struct xl4_guard_conf *c = &env->cfg->guard;
	struct xl4_engine *eng = env->eng;
	struct daemon_guard *g = state;
	struct xl4_analyzer_params ap;
	bool kept = false;
	int ret;

	memset(g, 0, sizeof(*g));
	g->maps = eng->guard;
	g->proof = (struct daemon_guard_proof){ .ct_fd = eng->lb.ct, .ct4_fd = eng->lb.ct4,
						.block4_fd = eng->filter.block4,
						.block6_fd = eng->filter.block6, .maps = eng->guard };
	ap = analyzer_params(g, c);
	g->conf = *c;
	g->lb = &env->lb->lb;
	g->filter = env->filter;
	/* the keys before the settings: a challenge is never sent under a key not drawn yet */
	if ((ret = guard_keys_tick(g, xl4_mono_ns())))
		return ret;
	if ((ret = xl4_guard_cfg_write(&g->maps, c, &kept))) {
		pr_warn("guard: cannot write its settings: %s", strerror(-ret));
		return ret;
	}
	if (!c->enabled) {
		pr_debug("guard: off (guard.enabled = false)");
		g->ready = true;
		return 0;
	}
	pr_debug("guard: on, response %s, attack above %u SYN/s and %.2f SYN per completing ACK, "
		 "entered after %u ms (at once from %u SYN/s)%s",
		 xl4_guard_response_name(c->response), c->syn_rate, c->ratio, c->enter_ms,
		 c->surge_rate, kept ? "; cookie key kept from the previous run" : "");
	g->an = xl4_an_thread_start(&ap);
	if (!g->an)
		return -ENOMEM;
	g->ready = true;
	return 0;
}

int daemon_guard_reload(void *dg, const struct xl4_config *old, const struct xl4_config *cfg,
			char *err, size_t errlen)
{
	struct daemon_guard *g = dg;
	const struct xl4_guard_conf *c = &cfg->guard;
	/* Compared with what runs (g->conf, the analyzer thread), not with the old file: a
	 * reload that stopped part-way in a later subsystem kept the old file as the daemon's,
	 * while this one had applied the new settings already. */
	struct xl4_guard_conf live = g->conf;
	struct xl4_analyzer_params was = analyzer_params(g, &live), now = analyzer_params(g, c);
	bool kept = false, an_stale;
	int ret;

	(void)old;
	if (!memcmp(&live, c, sizeof(*c)) && c->enabled == (g->an != NULL))
		return 0;
	an_stale = c->enabled != (g->an != NULL) || memcmp(&was, &now, sizeof(now));
	/* the kernel's settings: one array update, the key kept (cookies stay valid) */
	if ((ret = xl4_guard_cfg_write(&g->maps, c, &kept)))
		return xl4_errf(err, errlen, ret, "guard: cannot write its settings: %s", strerror(-ret));
	g->conf = *c; /* what the kernel has now, whatever fails below */
	/* the analyzer holds its own copy of its settings: a new thread takes the new ones (the
	 * loop re-registers its fd; its counts start over, as after a restart) */
	if (an_stale) {
		xl4_an_thread_stop(g->an);
		g->an = c->enabled ? xl4_an_thread_start(&now) : NULL;
		if (c->enabled && !g->an)
			return xl4_errf(err, errlen, -ENOMEM, "guard: cannot restart the analyzer");
	}
	if (live.key_rotation_s != c->key_rotation_s && (ret = guard_keys_tick(g, xl4_mono_ns())))
		return xl4_errf(err, errlen, ret, "guard: cannot draw the challenge cookie keys: %s",
				strerror(-ret));
	pr_info("guard: settings reloaded (%s, response %s, attack above %u SYN/s and %.2f SYN per "
		"completing ACK)", c->enabled ? "on" : "off", xl4_guard_response_name(c->response),
		c->syn_rate, c->ratio);
	return 0;
}

void daemon_guard_stop(void *state)
{
	struct daemon_guard *g = state;

	xl4_an_thread_stop(g->an);
	g->an = NULL;
	xl4_gvbits_unmap(&g->vb_live);
	free(g->vb_fresh);
	free(g->vb_before);
	g->vb_fresh = g->vb_before = NULL;
	g->ready = false;
}

int daemon_guard_analyzer_fd(const void *state)
{
	const struct daemon_guard *g = state;

	return xl4_an_thread_fd(g->an);
}

/* ---- once a second ---- */

static const char *cause_name(const struct daemon_guard_vip *v)
{
	if (v->level == XL4_GUARD_NORMAL)
		return NULL;
	if (v->cur.ctl.override == XL4_GUARD_OV_ON) {
		if (v->set_by == GUARD_BY_ANALYZER)
			return "analyzer";
		if (v->cur.vip.entered_ns && v->cur.vip.cause == XL4_GUARD_CAUSE_ESCALATED)
			return "escalated";
		if (v->cur.vip.entered_ns && v->cur.vip.cause == XL4_GUARD_CAUSE_OVERRUN)
			return "overrun";
		return "forced";
	}
	return v->cur.vip.cause == XL4_GUARD_CAUSE_ESCALATED ? "escalated" :
	       v->cur.vip.cause == XL4_GUARD_CAUSE_OVERRUN   ? "overrun" :
	       v->cur.vip.cause == XL4_GUARD_CAUSE_SURGE     ? "surge" : "ratio";
}

/* The window that tripped the kernel, in the words of the log. */
static void window_words(const struct daemon_guard_vip *v, char *buf, size_t len)
{
	double w = (double)XL4_GUARD_WINDOW_NS / 1e9;
	const struct xl4_guard_vip *gv = &v->cur.vip;

	snprintf(buf, len, "%.0f SYN/s, %.0f ACK/s, ratio %.0f over %.2f s (all CPUs)",
		 gv->win_syn / w, gv->win_ack / w, xl4_guard_ratio(gv->win_syn, gv->win_ack), w);
}

/* The analyzer's blocks name a VIP by id: when the id stops naming that VIP, they go (else
 * they would drop SYNs to whichever VIP gets the id next). */
static void vip_unscope(struct daemon_guard *g, uint32_t id, const char *was)
{
	int n = g->filter ? xl4_filter_unscope_vip(&g->filter->f, (uint8_t)id) : 0;

	if (n > 0)
		pr_info("guard: analyzer: %d automatic blocks of VIP %s lifted: the VIP is gone", n, was);
}

static void vip_sync_identity(struct daemon_guard *g, struct daemon_guard_vip *gv,
			      const struct xl4_lb_vip *lv)
{
	char addr[96];

	xl4_vip_str(&lv->spec, addr, sizeof(addr));
	if (gv->used && !strcmp(gv->name, lv->spec.name) && !strcmp(gv->addr, addr))
		return;
	if (gv->used)
		vip_unscope(g, lv->id, gv->addr); /* the id names another VIP now */
	memset(gv, 0, sizeof(*gv));
	gv->used = true;
	gv->gen = ++g->next_gen;
	snprintf(gv->name, sizeof(gv->name), "%s", lv->spec.name);
	snprintf(gv->addr, sizeof(gv->addr), "%s", addr);
	gv->since_ns = xl4_mono_ns();
	snprintf(gv->reason, sizeof(gv->reason), "no attack seen");
}

static double rate(uint64_t now, uint64_t before, double dt)
{
	return now >= before && dt > 0 ? (now - before) / dt : 0;
}

static void vip_tick(struct daemon_guard *g, uint32_t id, uint64_t now)
{
	struct daemon_guard_vip *v = &g->v[id];
	uint32_t level, old = v->level;
	char words[160];
	double dt;

	v->prev = v->cur;
	v->t_prev = v->t_cur;
	if (xl4_guard_read(&g->maps, id, &v->cur))
		return;
	v->t_cur = now;
	dt = v->t_prev ? (now - v->t_prev) / 1e9 : 0;
	v->syn = v->t_prev ? rate(v->cur.sum.syns, v->prev.sum.syns, dt) : 0;
	v->ack = v->t_prev ? rate(v->cur.sum.acks, v->prev.sum.acks, dt) : 0;
	level = g->conf.enabled ? xl4_guard_effective(&v->cur.vip, &v->cur.ctl, g->conf.response,
						      g->conf.leave_ms, now) : XL4_GUARD_NORMAL;
	if (v->cur.ctl.override == XL4_GUARD_OV_AUTO && v->set_by == GUARD_BY_OPERATOR)
		v->set_by = GUARD_BY_NONE;
	if (level == old)
		return;
	v->level = level;
	v->mode_changes++;
	if (old == XL4_GUARD_NORMAL) {
		v->since_ns = v->cur.vip.entered_ns && v->cur.ctl.override == XL4_GUARD_OV_AUTO &&
				      v->cur.vip.entered_ns < now ? v->cur.vip.entered_ns : now;
		if (v->cur.ctl.override == XL4_GUARD_OV_ON) {
			if (v->set_by != GUARD_BY_ANALYZER)
				snprintf(v->reason, sizeof(v->reason), "forced on by the operator (xl4 guard set)");
		} else if (v->cur.vip.cause == XL4_GUARD_CAUSE_ESCALATED) {
			window_words(v, words, sizeof(words));
			snprintf(v->reason, sizeof(v->reason), "First Drop beaten: %s", words);
		} else if (v->cur.vip.cause == XL4_GUARD_CAUSE_OVERRUN) {
			window_words(v, words, sizeof(words));
			snprintf(v->reason, sizeof(v->reason), "more than First Drop's greylist holds: %.90s",
				 words);
		} else if (v->cur.vip.cause == XL4_GUARD_CAUSE_SURGE) {
			window_words(v, words, sizeof(words));
			snprintf(v->reason, sizeof(v->reason), "a surge, not waiting out enter_ms: %.90s",
				 words);
		} else {
			window_words(v, words, sizeof(words));
			snprintf(v->reason, sizeof(v->reason), "%s", words);
		}
		guard_event(g, v, true, "guard: VIP %s (%s) entered emergency (%s): %s", v->addr, v->name,
			    xl4_guard_level_name(level), v->reason);
	} else if (level == XL4_GUARD_NORMAL) {
		double was = (now - v->since_ns) / 1e9;

		if (v->cur.ctl.override == XL4_GUARD_OV_OFF)
			snprintf(v->reason, sizeof(v->reason), "forced off by the operator (xl4 guard set)");
		else if (v->prev.ctl.override == XL4_GUARD_OV_ON)
			snprintf(v->reason, sizeof(v->reason), "no longer forced on, and the kernel sees no attack");
		else
			snprintf(v->reason, sizeof(v->reason),
				 "no attack window for %.1f s: %.0f SYN/s, %.0f ACK/s", g->conf.leave_ms / 1e3,
				 v->syn, v->ack);
		v->since_ns = now;
		guard_event(g, v, false, "guard: VIP %s (%s) left emergency after %.0f s: %s", v->addr,
			    v->name, was, v->reason);
	} else {
		if (level == XL4_GUARD_CHALLENGE && v->cur.vip.cause == XL4_GUARD_CAUSE_ESCALATED) {
			window_words(v, words, sizeof(words));
			snprintf(v->reason, sizeof(v->reason),
				 "First Drop beaten: the SYNs it admitted did not complete: %s", words);
		} else if (level == XL4_GUARD_CHALLENGE && v->cur.vip.cause == XL4_GUARD_CAUSE_OVERRUN) {
			window_words(v, words, sizeof(words));
			snprintf(v->reason, sizeof(v->reason),
				 "First Drop beaten: its greylist turns over before a retransmission: %.90s",
				 words);
		} else {
			snprintf(v->reason, sizeof(v->reason), "%s at level %s",
				 v->set_by == GUARD_BY_OPERATOR ? "forced on by the operator (xl4 guard set)" :
				 "level changed", xl4_guard_level_name(level));
		}
		guard_event(g, v, true, "guard: VIP %s (%s) now %s: %s", v->addr, v->name,
			    xl4_guard_level_name(level), v->reason);
	}
}

static int count_nothing(void *ctx, const struct xl4_guard_src *s, uint64_t left, bool cookie)
{
	(void)ctx, (void)s, (void)left, (void)cookie;
	return 0;
}

static int note_bit(void *ctx, const struct xl4_guard_src *s, uint64_t left, bool cookie)
{
	struct daemon_guard *g = ctx;

	(void)left;
	xl4_guard_vbits_add(g->vb_fresh, g->vb_live.log2, cookie, s);
	return 0;
}

/* The live bits mapped and the buffers allocated, once; false (the bits left as they are) if
 * the map cannot be mapped (said once) or memory is short. */
static bool vbits_ready(struct daemon_guard *g)
{
	size_t len;
	int err;

	if (!g->vb_live.w && !g->vb_err) {
		err = xl4_gvbits_map(&g->vb_live, g->maps.vbit, g->maps.vnew);
		if (err) {
			g->vb_err = err;
			pr_warn("guard: cannot map the verified-source bits (%s): they are not "
				"refreshed, and sources an attack got verified keep their bits until "
				"the program is reloaded", strerror(-err));
		}
	}
	if (!g->vb_live.w)
		return false;
	len = (size_t)g->vb_live.words * sizeof(__u64);
	if (!g->vb_fresh)
		g->vb_fresh = malloc(len);
	if (!g->vb_before)
		g->vb_before = malloc(len);
	return g->vb_fresh && g->vb_before;
}

/*
 * Counting walks the tables: every 5 s is enough for a gauge. The same walk refreshes the
 * verified-source bits (src/guard_vbits.h): the bits of the unexpired sources it found, plus
 * whatever the datapath set since they were copied, replace the map's. So the bits a flood SYN
 * reads are never more than the tables' own sources, 5 s stale: at most guard.verified_max in
 * each half, a quarter of the bits the loader sized for it (include/xl4/abi.h), however long
 * an attack lasts.
 */
static void daemon_guard_tick_verified(struct daemon_guard *g, uint64_t now)
{
	bool bits, partial = false;
	long n;

	if (g->verified_counted_ns && now - g->verified_counted_ns < 5 * NS_PER_S)
		return;
	g->verified_counted_ns = now;
	bits = g->maps.vbit >= 0 && vbits_ready(g);
	if (bits) {
		size_t len = (size_t)g->vb_live.words * sizeof(__u64);

		memset(g->vb_fresh, 0, len);
		xl4_gvbits_snapshot(&g->vb_live, g->vb_before);
	}
	n = xl4_guard_verified_walk(&g->maps, now, bits ? note_bit : count_nothing, g, &partial);
	if (n < 0)
		return;
	g->verified_sources = n;
	/* a walk cut short may have missed sources: clearing their bits would send them to prove
	 * themselves again, so the bits stay as they are until a walk completes */
	if (bits && !partial)
		g->verified_bits = xl4_guard_vbits_refresh(&g->vb_live, g->vb_fresh, g->vb_before);
}

void daemon_guard_tick(void *state)
{
	struct daemon_guard *g = state;
	uint64_t now = xl4_mono_ns();

	if (!g->ready)
		return;
	for (uint32_t id = 0; id < XL4_MAX_VIPS; id++) {
		const struct xl4_lb_vip *lv = &g->lb->vips[id];
		struct daemon_guard_vip *v = &g->v[id];

		if (!lv->used) {
			if (v->used)
				vip_unscope(g, id, v->addr);
			v->used = false;
			continue;
		}
		vip_sync_identity(g, v, lv);
		vip_tick(g, id, now);
		if (g->an && v->t_prev) {
			struct xl4_an_obs o = {
				.vip = id, .gen = v->gen, .now_ns = now, .syn_per_s = v->syn,
				.ack_per_s = v->ack, .emergency = v->level != XL4_GUARD_NORMAL,
				.forced_by_us = v->set_by == GUARD_BY_ANALYZER &&
						v->cur.ctl.override == XL4_GUARD_OV_ON,
				.hands_off = v->set_by == GUARD_BY_OPERATOR,
			};

			xl4_an_thread_observe(g->an, &o);
		}
	}
	daemon_guard_tick_verified(g, now);
	guard_keys_tick(g, now);
}

/* ---- the analyzer ---- */

/* A prefix's new SYNs to one VIP dropped for block_seconds (xl4_filter_block_syn()): its
 * established flows, its traffic to other VIPs and to the host's own services are untouched.
 * Never renewed; at most max_blocks such entries (the filter counts them, across restarts). */
static void analyzer_block(struct daemon_guard *g, struct daemon_guard_vip *v,
			   const struct xl4_an_decision *d)
{
	uint64_t now = xl4_mono_ns(), until = now + (uint64_t)g->conf.analyzer.block_seconds * NS_PER_S;
	uint64_t secs = g->conf.analyzer.block_seconds;
	char str[64], err[256];
	int ret;

	xl4_prefix_str(&d->prefix, str, sizeof(str));
	if (xl4_filter_list_covers(&g->filter->f, XL4_LIST_ALLOW, &d->prefix, NULL)) {
		guard_event(g, v, true, "guard: analyzer: not blocking %s: it is on the allowlist (%s)",
			    str, d->why);
		return;
	}
	if (g->filter->f.n_scoped >= g->conf.analyzer.max_blocks) {
		guard_event(g, v, true, "guard: analyzer: not blocking %s: %zu automatic blocks are on the "
			    "blocklist (guard.analyzer.max_blocks = %u) (%s)", str, g->filter->f.n_scoped,
			    g->conf.analyzer.max_blocks, d->why);
		return;
	}
	ret = xl4_filter_block_syn(&g->filter->f, &d->prefix, (uint8_t)d->vip, now, until, err, sizeof(err));
	if (ret == -EEXIST)
		return; /* blocked already, for at least these SYNs */
	if (ret) {
		guard_event(g, v, true, "guard: analyzer: cannot block %s: %s", str, err);
		return;
	}
	g->analyzer_blocks++;
	/* a block of the prefix for another VIP was widened, with its deadline: say the one in
	 * force */
	if (xl4_filter_list_covers(&g->filter->f, XL4_LIST_BLOCK, &d->prefix, &until) && until > now)
		secs = (until - now + NS_PER_S / 2) / NS_PER_S;
	guard_event(g, v, true, "guard: analyzer blocked %s for %llu s, new SYNs to VIP %s only (under "
		    "attack): %s", str, (unsigned long long)secs, v->addr, d->why);
}

void daemon_guard_on_analyzer(void *state)
{
	struct daemon_guard *g = state;
	struct xl4_an_decision d;

	while (g->an && xl4_an_thread_read(g->an, &d)) {
		struct daemon_guard_vip *v = d.vip < XL4_MAX_VIPS ? &g->v[d.vip] : NULL;
		int ret;

		if (!v || !v->used)
			continue; /* removed meanwhile */
		d.why[sizeof(d.why) - 1] = '\0';
		switch (d.kind) {
		case XL4_AN_FORCE:
			/* the operator's word wins, and so does a mode set since */
			if (v->set_by == GUARD_BY_OPERATOR || v->cur.ctl.override != XL4_GUARD_OV_AUTO)
				break;
			if ((ret = xl4_guard_ctl_set(&g->maps, d.vip, XL4_GUARD_OV_ON, 0))) {
				pr_warn("guard: analyzer: cannot force VIP %s: %s", v->addr, strerror(-ret));
				break;
			}
			v->set_by = GUARD_BY_ANALYZER;
			v->cur.ctl.override = XL4_GUARD_OV_ON;
			snprintf(v->reason, sizeof(v->reason), "%s", d.why);
			break;
		case XL4_AN_RELEASE:
			if (v->set_by != GUARD_BY_ANALYZER)
				break;
			if ((ret = xl4_guard_ctl_set(&g->maps, d.vip, XL4_GUARD_OV_AUTO, 0))) {
				pr_warn("guard: analyzer: cannot release VIP %s: %s", v->addr, strerror(-ret));
				break;
			}
			v->set_by = GUARD_BY_NONE;
			guard_event(g, v, false, "guard: analyzer released VIP %s (%s): %s", v->addr, v->name,
				    d.why);
			break;
		case XL4_AN_BLOCK:
			analyzer_block(g, v, &d);
			break;
		case XL4_AN_SPARE: {
			char str[64];

			xl4_prefix_str(&d.prefix, str, sizeof(str));
			guard_event(g, v, false, "guard: analyzer: not blocking %s: %s", str, d.why);
			break;
		}
		case XL4_AN_FLASH_CROWD:
			guard_event(g, v, false, "guard: VIP %s (%s): %s", v->addr, v->name, d.why);
			break;
		}
	}
}

void daemon_guard_on_event(struct daemon_guard *g, const struct xl4_event *ev)
{
	json_t *o;
	const char *src, *dst;
	uint8_t s[16] = { 0 }, dd[16] = { 0 };
	int family, dport;

	if (!g->an || (ev->reason != XL4_R_GUARD_FIRST_DROP && ev->reason != XL4_R_GUARD_SYN_EARLY &&
		       ev->reason != XL4_R_GUARD_CHALLENGE_BUDGET))
		return;
	o = xl4_event_json(ev);
	src = json_string_value(json_object_get(o, "src"));
	dst = json_string_value(json_object_get(o, "dst"));
	dport = json_integer_value(json_object_get(o, "dport"));
	family = src && strchr(src, ':') ? 6 : 4;
	if (src && dst && json_object_get(o, "dport") &&
	    inet_pton(family == 6 ? AF_INET6 : AF_INET, src, s) == 1 &&
	    inet_pton(family == 6 ? AF_INET6 : AF_INET, dst, dd) == 1) {
		for (uint32_t id = 0; id < XL4_MAX_VIPS; id++) {
			const struct xl4_lb_vip *lv = &g->lb->vips[id];

			if (lv->used && lv->spec.family == family && lv->spec.port == dport &&
			    lv->spec.proto == IPPROTO_TCP && !memcmp(lv->spec.addr, dd, family == 6 ? 16 : 4)) {
				xl4_an_thread_sample(g->an, id, family, s);
				break;
			}
		}
	}
	json_decref(o);
}

/* ---- JSON ---- */

/* Counters are read fresh (a request right after a packet sees it); rates and the mode are
 * the last tick's. */
static json_t *vip_guard_json(struct daemon_guard *g, uint32_t id, const struct xl4_guard_stats *s)
{
	struct daemon_guard_vip *v = &g->v[id];
	const char *cause = cause_name(v), *level = xl4_guard_level_name(v->level);
	uint64_t now = xl4_mono_ns();

	return json_pack(
		"{s:s, s:o, s:s, s:o, s:I, s:f, s:f, s:f, s:{s:I, s:I, s:I}, s:{s:I, s:I, s:I, s:I},"
		" s:I, s:I, s:s}",
		"mode", v->level ? "emergency" : "normal", "level", level ? json_string(level) : json_null(),
		"override", xl4_guard_override_name(v->cur.ctl.override), "cause",
		cause ? json_string(cause) : json_null(), "since_s",
		(json_int_t)(v->since_ns && now > v->since_ns ? (now - v->since_ns) / NS_PER_S : 0),
		"syn_per_s", v->syn, "ack_per_s", v->ack, "ratio", xl4_guard_ratio(v->syn, v->ack),
		"first_drop", "dropped", (json_int_t)s->fd_dropped, "early", (json_int_t)s->fd_early,
		"admitted", (json_int_t)s->fd_admitted, "challenge", "sent", (json_int_t)s->chal_sent,
		"passed", (json_int_t)s->chal_passed, "failed", (json_int_t)s->chal_failed, "budget",
		(json_int_t)s->chal_budget, "verified_pass", (json_int_t)s->verified_pass, "mode_changes",
		(json_int_t)v->mode_changes, "reason", v->reason);
}

/* Totals for metrics; rates need a second sample. */
static void vip_guard_totals(const struct xl4_guard_stats *s, json_t *o)
{
	json_object_set_new(o, "syn_total", json_integer(s->syns));
	json_object_set_new(o, "completing_ack_total", json_integer(s->acks));
}

void daemon_guard_annotate(struct daemon_guard *g, json_t *vips)
{
	size_t i;
	json_t *v;

	json_array_foreach(vips, i, v) {
		json_int_t id = json_integer_value(json_object_get(v, "id"));
		struct xl4_guard_snap snap;
		json_t *o;

		if (id < 0 || id >= XL4_MAX_VIPS)
			continue;
		if (!g->v[id].used) {
			/* added since the last tick: read it now */
			vip_sync_identity(g, &g->v[id], &g->lb->vips[id]);
			if (g->ready)
				vip_tick(g, id, xl4_mono_ns());
		}
		if (xl4_guard_read(&g->maps, id, &snap))
			snap = g->v[id].cur;
		o = vip_guard_json(g, id, &snap.sum);
		vip_guard_totals(&snap.sum, o);
		json_object_set_new(v, "guard", o);
	}
}

json_t *daemon_guard_json(struct daemon_guard *g)
{
	const struct xl4_guard_conf *c = &g->conf;

	uint64_t period = (uint64_t)xl4_guard_key_slices(c->key_rotation_s) << XL4_GUARD_COOKIE_SHIFT;
	uint64_t now = xl4_mono_ns();

	return json_pack("{s:b, s:s, s:i, s:i, s:f, s:i, s:i, s:I, s:I, s:I, s:I, s:I, s:{s:I, s:I, s:b}}",
			 "enabled", c->enabled, "response", xl4_guard_response_name(c->response),
			 "syn_rate", (int)c->syn_rate, "surge_rate", (int)c->surge_rate, "ratio",
			 c->ratio, "enter_ms", (int)c->enter_ms,
			 "leave_ms", (int)c->leave_ms, "verified_sources",
			 (json_int_t)(g->verified_sources > 0 ? g->verified_sources : 0),
			 "verified_bits", (json_int_t)g->verified_bits, "verified_bits_size",
			 (json_int_t)g->vb_live.words * 64,
			 "analyzer_blocks", (json_int_t)g->analyzer_blocks, "analyzer_lost",
			 (json_int_t)xl4_an_thread_lost(g->an), "cookie_key", "period_s",
			 (json_int_t)(period / NS_PER_S), "next_rotation_s",
			 (json_int_t)((period - now % period) / NS_PER_S), "rotating", !g->key_err);
}

void daemon_guard_status(void *state, json_t *status)
{
	daemon_guard_annotate(state, json_object_get(status, "vips"));
	json_object_set_new(status, "guard", daemon_guard_json(state));
}

/* ---- control requests ---- */

/* A VIP by name or by address ("198.18.1.1:80/tcp"). */
static struct xl4_lb_vip *vip_lookup(struct daemon_guard *g, const char *s, char *err, size_t len)
{
	struct xl4_vip_spec spec;
	char why[160];

	for (int i = 0; i < XL4_MAX_VIPS; i++)
		if (g->lb->vips[i].used && !strcmp(g->lb->vips[i].spec.name, s))
			return &g->lb->vips[i];
	if (!strchr(s, ':')) {
		snprintf(err, len, "no VIP named '%.64s'", s);
		return NULL;
	}
	if (xl4_parse_vip_addr(s, &spec, why, sizeof(why))) {
		snprintf(err, len, "'%.64s' is neither a VIP name nor a VIP address: %.120s", s, why);
		return NULL;
	}
	for (int i = 0; i < XL4_MAX_VIPS; i++) {
		struct xl4_lb_vip *v = &g->lb->vips[i];

		if (v->used && v->spec.family == spec.family && v->spec.port == spec.port &&
		    v->spec.proto == spec.proto && !memcmp(v->spec.addr, spec.addr, 16))
			return v;
	}
	snprintf(err, len, "no VIP at %.64s", s);
	return NULL;
}

static json_t *req_set(void *state, const struct xl4_ctl_cmd *c, json_t *req)
{
	struct daemon_guard *g = state;
	const char *vip = NULL, *mode = NULL, *level = NULL;
	uint32_t ov, lvl = 0;
	struct xl4_lb_vip *lv;
	struct daemon_guard_vip *v;
	json_t *bad = NULL;
	char err[256];
	int ret;

	if (xl4_ctl_str(req, c->name, "vip", &vip, &bad) < 0 ||
	    xl4_ctl_str(req, c->name, "mode", &mode, &bad) < 0 ||
	    xl4_ctl_str(req, c->name, "level", &level, &bad) < 0)
		return bad;
	if (!vip || !mode)
		return xl4_control_error("guard-set needs \"vip\" and \"mode\"");
	if (xl4_guard_override_parse(mode, &ov))
		return xl4_control_error("guard-set: mode '%.32s' is not one of: on, off, auto", mode);
	if (level && xl4_guard_level_parse(level, &lvl))
		return xl4_control_error("guard-set: level '%.32s' is not one of: first-drop, challenge", level);
	if (level && ov != XL4_GUARD_OV_ON)
		return xl4_control_error("guard-set: a level goes only with mode \"on\"");
	if (!g->conf.enabled)
		return xl4_control_error("the flood guard is off (guard.enabled = false in %s)",
					 "the configuration");
	if (!(lv = vip_lookup(g, vip, err, sizeof(err))))
		return xl4_control_error("%s", err);
	if (lv->spec.proto != IPPROTO_TCP)
		return xl4_control_error("VIP '%s' is UDP: the flood guard protects TCP VIPs", lv->spec.name);
	if ((ret = xl4_guard_ctl_set(&g->maps, lv->id, ov, lvl)))
		return xl4_control_error("cannot write the guard override: %s", strerror(-ret));
	v = &g->v[lv->id];
	vip_sync_identity(g, v, lv);
	v->set_by = ov == XL4_GUARD_OV_AUTO ? GUARD_BY_NONE : GUARD_BY_OPERATOR;
	/* the reason now; a mode change below words it anew */
	if (ov == XL4_GUARD_OV_OFF)
		snprintf(v->reason, sizeof(v->reason), "forced off by the operator (xl4 guard set)");
	else if (ov == XL4_GUARD_OV_AUTO)
		snprintf(v->reason, sizeof(v->reason), "given back to the kernel's judgement (xl4 guard set auto)");
	pr_info("guard: VIP %s (%s): override %s%s%s by the operator", v->addr, v->name,
		xl4_guard_override_name(ov), level ? ", level " : "", level ? level : "");
	vip_tick(g, lv->id, xl4_mono_ns()); /* the new mode shows (and logs) at once */
	return json_pack("{s:b}", "ok", 1);
}

static json_t *req_show(void *state, const struct xl4_ctl_cmd *c, json_t *req)
{
	struct daemon_guard *g = state;
	const char *vip = NULL;
	struct xl4_lb_vip *lv = NULL;
	json_t *bad = NULL, *out, *v, *vips;
	char err[256];
	size_t i;

	if (xl4_ctl_str(req, c->name, "vip", &vip, &bad) < 0)
		return bad;
	if (vip && !(lv = vip_lookup(g, vip, err, sizeof(err))))
		return xl4_control_error("%s", err);
	vips = xl4_lb_json(g->lb);
	g->verified_counted_ns = 0; /* count afresh: a person is asking */
	daemon_guard_tick_verified(g, xl4_mono_ns());
	daemon_guard_annotate(g, vips);
	out = json_array();
	json_array_foreach(vips, i, v) {
		if (lv && json_integer_value(json_object_get(v, "id")) != lv->id)
			continue;
		json_array_append_new(out, json_pack("{s:O, s:O, s:O, s:O}", "name", json_object_get(v, "name"),
						     "vip", json_object_get(v, "vip"), "id",
						     json_object_get(v, "id"), "guard", json_object_get(v, "guard")));
	}
	json_decref(vips);
	return json_pack("{s:b, s:o, s:o}", "ok", 1, "guard", daemon_guard_json(g), "vips", out);
}

struct verified_ctx {
	json_t *arr;
};

static int list_one(void *ctx, const struct xl4_guard_src *s, uint64_t left_s, bool cookie)
{
	struct verified_ctx *c = ctx;
	char a[INET6_ADDRSTRLEN];

	if (json_array_size(c->arr) > VERIFIED_LIST_MAX)
		return 1;
	inet_ntop(s->family == 6 ? AF_INET6 : AF_INET, s->addr, a, sizeof(a));
	/* a cookie proof is for one port of the source (and admits one SYN), First Drop's for all */
	json_array_append_new(c->arr, cookie ? json_pack("{s:s, s:i, s:s, s:I}", "address", a, "port",
							 (int)ntohs(s->port), "by", "cookie", "ttl_s",
							 (json_int_t)left_s) :
					       json_pack("{s:s, s:s, s:I}", "address", a, "by",
							 "first-drop", "ttl_s", (json_int_t)left_s));
	return 0;
}

static json_t *req_verified(void *state, const struct xl4_ctl_cmd *cmd, json_t *req)
{
	struct daemon_guard *g = state;
	struct verified_ctx c = { .arr = json_array() };
	long n;

	(void)cmd, (void)req;
	n = xl4_guard_verified_walk(&g->maps, xl4_mono_ns(), list_one, &c, NULL);
	if (n < 0) {
		json_decref(c.arr);
		return xl4_control_error("cannot read the verified sources: %s", strerror((int)-n));
	}
	g->verified_sources = n;
	if (n > VERIFIED_LIST_MAX) /* only the count: a list this long helps nobody */
		json_array_clear(c.arr);
	return json_pack("{s:b, s:I, s:b, s:o}", "ok", 1, "count", (json_int_t)n, "listed",
			 n <= VERIFIED_LIST_MAX, "sources", c.arr);
}

static json_t *req_unverify(void *state, const struct xl4_ctl_cmd *c, json_t *req)
{
	struct daemon_guard *g = state;
	const char *addr = NULL;
	__be32 a[4] = { 0 };
	json_t *bad = NULL;
	int family, ret;

	if (xl4_ctl_str(req, c->name, "address", &addr, &bad) < 0)
		return bad;
	if (!addr)
		return xl4_control_error("guard-unverify needs \"address\"");
	family = strchr(addr, ':') ? 6 : 4;
	if (inet_pton(family == 6 ? AF_INET6 : AF_INET, addr, a) != 1)
		return xl4_control_error("'%.64s' is not an IPv4 or IPv6 address", addr);
	ret = xl4_guard_unverify(&g->maps, family, a);
	if (ret == -ENOENT)
		return xl4_control_error("%.64s is not a verified source", addr);
	if (ret)
		return xl4_control_error("cannot remove %.64s: %s", addr, strerror(-ret));
	pr_info("guard: %s is no longer a verified source (by the operator)", addr);
	return json_pack("{s:b}", "ok", 1);
}

const struct xl4_ctl_cmd daemon_guard_cmds[] = {
	{ "guard-set", req_set, 0, XL4_CTL_KEYS("vip", "mode", "level"),
	  "force a VIP's emergency mode on (at a level: first-drop or challenge), off, or auto" },
	{ "guard-show", req_show, 0, XL4_CTL_KEYS("vip"),
	  "the guard's settings and each VIP's mode, rates and counters" },
	{ "guard-verified", req_verified, 0, NULL,
	  "the verified sources (listed up to 100) and their count" },
	{ "guard-unverify", req_unverify, 0, XL4_CTL_KEYS("address"), "forget a verified source" },
	{ 0 },
};
