// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <arpa/inet.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/random.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "guard_state.h"

void xl4_guard_cfg_build(const struct xl4_guard_conf *c, uint32_t grey_slots, uint32_t syn_slots,
			 struct xl4_guard_cfg *out)
{
	double window_s = (double)XL4_GUARD_WINDOW_NS / 1e9;
	double syn_min = ceil((double)c->syn_rate * window_s);
	double surge_min = ceil((double)c->surge_rate * window_s);
	/* the greylist's buckets of 4 keep an entry until 4 newer keys land in its bucket: with
	 * Poisson arrivals it outlives hold_ms 99 times in 100 while rate * hold_s stays under
	 * 0.205 * slots (P(N <= 3) >= 0.99 for a mean of 0.82 arrivals per bucket) */
	double fd_cap = 0.205 * grey_slots * window_s / ((double)c->fd_hold_ms / 1000.0);
	/* bits n distinct sources set in a 64-bit linear-counting sketch, rounded down */
	double bits = 64.0 * (1.0 - pow(63.0 / 64.0, c->min_sources));

	out->enabled = c->enabled;
	out->response = c->response;
	out->syn_min = syn_min < 1 ? 1 : syn_min > 0xffffffffu ? 0xffffffffu : (uint32_t)syn_min;
	out->ratio_x100 = (uint32_t)lround(c->ratio * 100);
	out->enter_ms = c->enter_ms;
	out->leave_ms = c->leave_ms;
	out->escalate_ms = c->escalate_ms;
	out->fd_min_ms = c->fd_min_ms;
	out->fd_max_ms = c->fd_max_ms;
	out->verified_ttl_s = c->verified_ttl_s;
	out->challenge_per_sec = c->challenge_per_sec;
	out->grey_mask = grey_slots / XL4_GUARD_GREY_WAYS - 1; /* buckets of 4 slots */
	out->syn_mask = syn_slots - 1;
	/* rounded down (collisions: n sources set fewer than n bits), but never to the one bit
	 * one host sets: min_sources 2 would mean nothing */
	out->src_bits_min = c->min_sources > 1 ? (uint32_t)fmax(2, floor(bits + 1e-9)) : 0;
	out->fd_cap = fd_cap < 1 ? 1 : fd_cap > 0xffffffffu ? 0xffffffffu : (uint32_t)fd_cap;
	out->v6_prefix = c->verify_v6_prefix;
	out->verify_per_sec = c->verify_per_sec;
	/* a surge is an attack window of at least this many SYNs: never fewer than syn_min */
	out->surge_min = !c->surge_rate ? 0 : surge_min < syn_min ? (uint32_t)out->syn_min :
					 surge_min > 0xffffffffu ? 0xffffffffu : (uint32_t)surge_min;
}

int xl4_guard_cfg_write(const struct xl4_guard_maps *m, const struct xl4_guard_conf *c, bool *kept)
{
	struct xl4_guard_cfg old = { 0 }, cfg = { 0 };
	__u32 zero = 0;

	if (bpf_map_lookup_elem(m->cfg, &zero, &old))
		memset(&old, 0, sizeof(old));
	xl4_guard_cfg_build(c, m->grey_slots, m->syn_slots, &cfg);
	*kept = old.key[0] || old.key[1] || old.key[2] || old.key[3];
	if (*kept) {
		memcpy(cfg.key, old.key, sizeof(cfg.key));
	} else if (getrandom(cfg.key, sizeof(cfg.key), 0) != sizeof(cfg.key)) {
		return -errno ? -errno : -EIO;
	}
	return bpf_map_update_elem(m->cfg, &zero, &cfg, BPF_ANY) ? -errno : 0;
}

uint32_t xl4_guard_key_slices(uint32_t period_s)
{
	uint64_t slices = ((uint64_t)period_s * 1000000000ull + (1ull << (XL4_GUARD_COOKIE_SHIFT - 1))) >>
			  XL4_GUARD_COOKIE_SHIFT;

	return slices ? (uint32_t)slices : 1;
}

static int draw_key(__u64 key[2])
{
	do {
		if (getrandom(key, 2 * sizeof(key[0]), 0) != 2 * sizeof(key[0]))
			return -errno ? -errno : -EIO;
	} while (!(key[0] | key[1])); /* all zero means "no key" to the datapath */
	return 0;
}

int xl4_guard_keys_rotate(const struct xl4_guard_maps *m, uint32_t period_s, uint64_t now_ns)
{
	struct xl4_guard_ckeys ck = { 0 };
	uint32_t slices = xl4_guard_key_slices(period_s);
	uint64_t epoch = (now_ns >> XL4_GUARD_COOKIE_SHIFT) / slices;
	bool fresh, wrote = false;
	__u32 zero = 0;
	int err;

	if (bpf_map_lookup_elem(m->ckey, &zero, &ck))
		return -errno;
	/* First start, or a new period (the epochs move: every slot's key is of no epoch). */
	fresh = ck.slices != slices;
	if (fresh)
		ck.slices = slices;
	/* This epoch's key and the next one's. The next one's slot held the key of two epochs ago,
	 * which nothing reads any more; this epoch's is redrawn only when the daemon was away
	 * across the boundary (its answers in flight then fail once, and the clients retry). */
	for (int d = fresh ? -1 : 0; d <= 1; d++) {
		unsigned int i = (epoch % XL4_GUARD_COOKIE_KEYS + XL4_GUARD_COOKIE_KEYS + d) %
				 XL4_GUARD_COOKIE_KEYS;
		uint64_t e = epoch + d; /* the previous epoch of epoch 0 wraps: no epoch, harmless */

		if (!fresh && ck.epoch[i] == e && (ck.key[i][0] | ck.key[i][1]))
			continue;
		if ((err = draw_key(ck.key[i])))
			return err;
		ck.epoch[i] = e;
		wrote = true;
	}
	if (!wrote)
		return 0;
	/* One copy of the whole value: the slots in use are rewritten with their own bytes. */
	return bpf_map_update_elem(m->ckey, &zero, &ck, BPF_ANY) ? -errno : 1;
}

void xl4_guard_mode_decode(struct xl4_guard_vip *v)
{
	__u64 mode = v->entered_ns;

	v->level = mode ? XL4_GUARD_MODE_LEVEL(mode) : XL4_GUARD_NORMAL;
	v->cause = mode ? XL4_GUARD_MODE_CAUSE(mode) : XL4_GUARD_CAUSE_NONE;
	v->entered_ns = mode ? ((mode & ~31ull) ?: 32) : 0; /* non-zero while in emergency */
}

int xl4_guard_read(const struct xl4_guard_maps *m, uint32_t id, struct xl4_guard_snap *out)
{
	int ncpus = libbpf_num_possible_cpus();
	struct xl4_guard_stats *st;
	int ret = 0;

	memset(out, 0, sizeof(*out));
	if (ncpus <= 0 || !(st = calloc(ncpus, sizeof(*st))))
		return -ENOMEM;
	if (bpf_map_lookup_elem(m->vip, &id, &out->vip) || bpf_map_lookup_elem(m->ctl, &id, &out->ctl) ||
	    bpf_map_lookup_elem(m->stats, &id, st)) {
		ret = -errno;
		goto out;
	}
	xl4_guard_mode_decode(&out->vip);
	for (int i = 0; i < ncpus; i++) {
		struct xl4_guard_stats *s = &st[i], *t = &out->sum;

		t->syns += s->syns;
		t->acks += s->acks;
		t->fd_dropped += s->fd_dropped;
		t->fd_early += s->fd_early;
		t->fd_admitted += s->fd_admitted;
		t->chal_sent += s->chal_sent;
		t->chal_budget += s->chal_budget;
		t->chal_passed += s->chal_passed;
		t->chal_failed += s->chal_failed;
		t->verified_pass += s->verified_pass;
		t->emergencies += s->emergencies;
	}
out:
	free(st);
	return ret;
}

int xl4_guard_ctl_set(const struct xl4_guard_maps *m, uint32_t id, uint32_t override, uint32_t level)
{
	struct xl4_guard_ctl ctl = { .override = override, .level = level };

	return bpf_map_update_elem(m->ctl, &id, &ctl, BPF_ANY) ? -errno : 0;
}

uint32_t xl4_guard_effective(const struct xl4_guard_vip *v, const struct xl4_guard_ctl *ctl,
			     uint32_t response, uint32_t leave_ms, uint64_t now_ns)
{
	if (ctl->override == XL4_GUARD_OV_OFF)
		return XL4_GUARD_NORMAL;
	if (ctl->override == XL4_GUARD_OV_ON) {
		if (ctl->level == XL4_GUARD_FIRST_DROP || ctl->level == XL4_GUARD_CHALLENGE)
			return ctl->level;
		if (v->entered_ns && v->level == XL4_GUARD_CHALLENGE)
			return XL4_GUARD_CHALLENGE;
		return response == XL4_GUARD_RESP_CHALLENGE ? XL4_GUARD_CHALLENGE : XL4_GUARD_FIRST_DROP;
	}
	if (!v->entered_ns)
		return XL4_GUARD_NORMAL;
	/* the kernel's clock can be a hair ahead of ours: a last_bad_ns "in the future" is now */
	if (now_ns > v->last_bad_ns && now_ns - v->last_bad_ns > (uint64_t)leave_ms * 1000000ull)
		return XL4_GUARD_NORMAL;
	return v->level == XL4_GUARD_CHALLENGE ? XL4_GUARD_CHALLENGE : XL4_GUARD_FIRST_DROP;
}

/* One verified table: fn for each unexpired source; n counts them. *partial: the bound below
 * ended the walk, and some sources may not have been seen. */
static long walk_one(int fd, bool cookie, uint64_t now_ns, xl4_guard_src_fn fn, void *ctx,
		     bool *stop, bool *partial)
{
	struct xl4_guard_src key, next;
	long n = 0, steps = 0;
	bool first = true;
	__u64 exp;

	/* An entry evicted under our feet restarts the walk from the first key: bounded. */
	while (steps++ < (1l << 25) && bpf_map_get_next_key(fd, first ? NULL : &key, &next) == 0) {
		first = false;
		key = next;
		if (bpf_map_lookup_elem(fd, &key, &exp))
			continue; /* evicted meanwhile */
		exp &= ~XL4_GUARD_VERIFIED_FLAGS; /* a cookie proof's flags (spent ones included) */
		if (exp <= now_ns)
			continue;
		n++;
		if (fn && !*stop && fn(ctx, &key, (exp - now_ns + 999999999ull) / 1000000000ull, cookie))
			*stop = true;
	}
	if (steps <= (1l << 25) && errno != ENOENT)
		return -errno;
	*partial |= steps > (1l << 25);
	return n;
}

long xl4_guard_verified_walk(const struct xl4_guard_maps *m, uint64_t now_ns, xl4_guard_src_fn fn,
			     void *ctx, bool *partial)
{
	bool stop = false, part = false;
	long a = walk_one(m->verc, true, now_ns, fn, ctx, &stop, &part), b;

	if (a < 0)
		return a;
	b = walk_one(m->ver, false, now_ns, fn, ctx, &stop, &part);
	if (partial)
		*partial = part;
	return b < 0 ? b : a + b;
}

/* The cookie proofs of source k, whatever their port: a walk that deletes behind itself.
 * 0, or -ENOENT when there were none. */
static int unverify_tuples(int fd, const struct xl4_guard_src *k)
{
	struct xl4_guard_src key, next;
	bool found = false;
	int more = !bpf_map_get_next_key(fd, NULL, &next);
	long steps = 0;

	/* the next key is taken before this one is deleted: one walk, not one per delete */
	while (more && steps++ < (1l << 25)) {
		key = next;
		more = !bpf_map_get_next_key(fd, &key, &next);
		if (key.family == k->family && !memcmp(key.addr, k->addr, sizeof(key.addr)) &&
		    !bpf_map_delete_elem(fd, &key))
			found = true;
	}
	return found ? 0 : -ENOENT;
}

int xl4_guard_unverify(const struct xl4_guard_maps *m, int family, const __be32 addr[4])
{
	struct xl4_guard_src k = { .family = family };
	struct xl4_guard_cfg cfg = { 0 };
	__u32 zero = 0, plen = 128;
	int a, b;

	memcpy(k.addr, addr, family == 6 ? 16 : 4);
	/* IPv6 sources are verified per prefix: forget the prefix the address is in */
	if (family == 6 && !bpf_map_lookup_elem(m->cfg, &zero, &cfg) && cfg.v6_prefix)
		plen = cfg.v6_prefix;
	for (int i = 0; family == 6 && i < 4; i++) {
		uint32_t keep = plen > 32u * i ? plen - 32u * i : 0;

		if (keep < 32)
			k.addr[i] &= htonl(keep ? ~0u << (32 - keep) : 0);
	}
	a = unverify_tuples(m->verc, &k);
	b = bpf_map_delete_elem(m->ver, &k) ? -errno : 0;
	if (!a || !b)
		return 0;
	return a == -ENOENT ? b : a;
}

const char *xl4_guard_level_name(uint32_t level)
{
	return level == XL4_GUARD_FIRST_DROP ? "first-drop" : level == XL4_GUARD_CHALLENGE ? "challenge" : NULL;
}

const char *xl4_guard_override_name(uint32_t ov)
{
	return ov == XL4_GUARD_OV_ON ? "on" : ov == XL4_GUARD_OV_OFF ? "off" : "auto";
}

const char *xl4_guard_response_name(uint32_t resp)
{
	return resp == XL4_GUARD_RESP_FIRST_DROP ? "first-drop" :
	       resp == XL4_GUARD_RESP_CHALLENGE ? "challenge" : "auto";
}

int xl4_guard_override_parse(const char *s, uint32_t *ov)
{
	if (!strcmp(s, "auto"))
		*ov = XL4_GUARD_OV_AUTO;
	else if (!strcmp(s, "on"))
		*ov = XL4_GUARD_OV_ON;
	else if (!strcmp(s, "off"))
		*ov = XL4_GUARD_OV_OFF;
	else
		return -EINVAL;
	return 0;
}

int xl4_guard_level_parse(const char *s, uint32_t *level)
{
	if (!strcmp(s, "first-drop"))
		*level = XL4_GUARD_FIRST_DROP;
	else if (!strcmp(s, "challenge"))
		*level = XL4_GUARD_CHALLENGE;
	else
		return -EINVAL;
	return 0;
}
