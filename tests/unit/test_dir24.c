// SPDX-License-Identifier: GPL-2.0
/* The IPv4 lists' DIR-24-8 index (src/dir24.c) against a plain longest-prefix match: random
 * nested and overlapping prefixes, /0../32, with expiries, added, renewed and deleted in
 * random order; after every step the datapath's first step (xl4_dir24_first) must find exactly
 * the reference's longest prefix for addresses on and around every prefix's edges, and decide
 * from the slot alone (a direct slot, abi.h) exactly where that is safe: a /32 alone in its
 * /24 with no covering prefix, permanent, for every packet. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <cmocka.h>

#include "dir24.h"

#define MAXP 400

struct ref {
	uint32_t a[MAXP];
	uint8_t len[MAXP];
	uint64_t exp[MAXP];
	uint8_t scope[MAXP];
	int n;
};

static uint64_t rng = 0x2545f4914f6cdd1dull;

static uint32_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 16);
}

static uint32_t mask(int len)
{
	return (uint32_t)(0xffffffff00000000ull >> len);
}

static int ref_find(const struct ref *r, uint32_t a, int len)
{
	for (int i = 0; i < r->n; i++)
		if (r->a[i] == a && r->len[i] == len)
			return i;
	return -1;
}

/* Should prefix i's slot be direct: a permanent /32 for every packet, the only prefix of
 * the reference holding any address of its /24? */
static int ref_direct(const struct ref *r, int i)
{
	if (r->len[i] != 32 || r->exp[i] || r->scope[i] != XL4_BLOCK_SCOPE_ALL)
		return 0;
	for (int j = 0; j < r->n; j++)
		if (j != i && (r->len[j] <= 24 ? ((r->a[i] ^ r->a[j]) & mask(r->len[j])) == 0 :
						 (r->a[i] >> 8) == (r->a[j] >> 8)))
			return 0;
	return 1;
}

static int ref_lpm(const struct ref *r, uint32_t a)
{
	int best = -1;

	for (int i = 0; i < r->n; i++)
		if (((a ^ r->a[i]) & mask(r->len[i])) == 0 &&
		    (best < 0 || r->len[i] > r->len[best]))
			best = i;
	return best;
}

struct world {
	struct xl4_dir24 t;
	uint32_t *idx, *grp;
	struct xl4_d24_entry *ent;
	uint32_t n_groups, n_ent;
};

static void world_init(struct world *w, uint32_t n_groups, uint32_t n_ent)
{
	w->idx = calloc(XL4_D24_SLOTS, sizeof(*w->idx));
	w->grp = calloc((size_t)n_groups * XL4_D24_GROUP_LEAVES, sizeof(*w->grp));
	w->ent = calloc(n_ent, sizeof(*w->ent));
	w->n_groups = n_groups;
	w->n_ent = n_ent;
	assert_non_null(w->idx);
	assert_non_null(w->grp);
	assert_non_null(w->ent);
	assert_int_equal(xl4_dir24_init(&w->t, w->idx, w->grp, n_groups, w->ent, n_ent), 0);
	w->t.grace_ns = 0;
}

static void world_free(struct world *w)
{
	xl4_dir24_free(&w->t);
	free(w->idx);
	free(w->grp);
	free(w->ent);
}

/* The reference and the table agree on address a. */
static void check_addr(const struct world *w, const struct ref *r, uint32_t a, const char *step)
{
	const struct xl4_d24_entry *e = NULL;
	int got = xl4_dir24_first(&w->t, htonl(a), &e), want = ref_lpm(r, a);

	if (want < 0) {
		if (got != XL4_D24_NONE)
			fail_msg("%s: %08x: want no prefix, got %d (%08x/%u)", step, a, got,
				 e ? ntohl(e->addr) : 0, e ? e->e.len : 0);
		return;
	}
	if (got != XL4_D24_HIT && got != XL4_D24_HIT_DIRECT)
		fail_msg("%s: %08x: want %08x/%u, got %s", step, a, r->a[want], r->len[want],
			 got == XL4_D24_NONE ? "no prefix" : "a walk (inconsistent slot)");
	if ((got == XL4_D24_HIT_DIRECT) != ref_direct(r, want))
		fail_msg("%s: %08x: %08x/%u (expires %llu, scope %u) %s", step, a, r->a[want],
			 r->len[want], (unsigned long long)r->exp[want], r->scope[want],
			 got == XL4_D24_HIT_DIRECT ?
				 "decided from a direct slot, which it must not be" :
				 "not in a direct slot, which it should be");
	if (e->e.scope != r->scope[want])
		fail_msg("%s: %08x: scope %u, want %u", step, a, e->e.scope, r->scope[want]);
	if (ntohl(e->addr) != r->a[want] || e->e.len != r->len[want] ||
	    e->e.expires_ns != r->exp[want])
		fail_msg("%s: %08x: want %08x/%u (expires %llu), got %08x/%u (expires %llu)", step,
			 a, r->a[want], r->len[want], (unsigned long long)r->exp[want],
			 ntohl(e->addr), e->e.len, (unsigned long long)e->e.expires_ns);
}

static void check_all(const struct world *w, const struct ref *r, const char *step)
{
	for (int i = 0; i < r->n; i++) {
		uint32_t lo = r->a[i], hi = lo | ~mask(r->len[i]);

		check_addr(w, r, lo, step);
		check_addr(w, r, hi, step);
		check_addr(w, r, lo - 1, step);
		check_addr(w, r, hi + 1, step);
		check_addr(w, r, lo + (rnd() & ~mask(r->len[i])), step);
	}
	for (int i = 0; i < 64; i++)
		check_addr(w, r, 0xc6120000u | (rnd() & 0x1ffff), step);
	for (int i = 0; i < 8; i++)
		check_addr(w, r, rnd(), step);
}

/* Prefixes crowd into 198.18.0.0/15 (a few /24s, so they nest and share /24s), with some
 * short ones (/0../16) covering everything. */
static void random_prefix(uint32_t *a, int *len)
{
	uint32_t x = 0xc6120000u | ((rnd() % 6) << 8) | (rnd() & 0xff);
	int l, k = rnd() % 10;

	if (k == 0)
		l = rnd() % 17;
	else if (k < 3)
		l = 17 + rnd() % 8;
	else
		l = 25 + rnd() % 8;
	if (l < 16)
		x = rnd();
	*len = l;
	*a = x & mask(l);
}

static void run_random(uint32_t seed, int steps, uint32_t n_groups)
{
	struct world w;
	struct ref r = { .n = 0 };
	char step[96];

	rng = 0x9e3779b97f4a7c15ull ^ seed;
	world_init(&w, n_groups, MAXP + 1);
	for (int s = 0; s < steps; s++) {
		uint32_t a;
		int len, i, op = rnd() % 10, ret;

		if (op < 5 || r.n == 0) { /* add (or renew, when it is there) */
			struct xl4_prefix_entry v = { .expires_ns = rnd() % 3 ? 0 : 1000 + rnd(),
						      .scope = rnd() % 5 ? XL4_BLOCK_SCOPE_ALL :
									   XL4_BLOCK_SCOPE_SYN };

			random_prefix(&a, &len);
			i = ref_find(&r, a, len);
			if (i < 0 && r.n == MAXP)
				continue;
			ret = xl4_dir24_set(&w.t, htonl(a), (uint8_t)len, &v);
			snprintf(step, sizeof(step), "seed %u step %d: add %08x/%d", seed, s, a,
				 len);
			if (ret == -ENOBUFS) {
				/* no group left: nothing may have changed */
				assert_true(i < 0);
				check_all(&w, &r, step);
				continue;
			}
			assert_int_equal(ret, 0);
			if (i < 0) {
				i = r.n++;
				r.a[i] = a;
				r.len[i] = (uint8_t)len;
			}
			r.exp[i] = v.expires_ns;
			r.scope[i] = v.scope;
		} else if (op < 9) { /* delete one that is there */
			i = rnd() % r.n;
			snprintf(step, sizeof(step), "seed %u step %d: del %08x/%u", seed, s,
				 r.a[i], r.len[i]);
			assert_int_equal(xl4_dir24_del(&w.t, htonl(r.a[i]), r.len[i]), 0);
			r.a[i] = r.a[r.n - 1];
			r.len[i] = r.len[r.n - 1];
			r.exp[i] = r.exp[r.n - 1];
			r.scope[i] = r.scope[r.n - 1];
			r.n--;
		} else { /* delete one that is not: refused, nothing changes */
			random_prefix(&a, &len);
			if (ref_find(&r, a, len) >= 0)
				continue;
			snprintf(step, sizeof(step), "seed %u step %d: del absent %08x/%d", seed, s,
				 a, len);
			assert_int_equal(xl4_dir24_del(&w.t, htonl(a), (uint8_t)len), -ENOENT);
		}
		check_all(&w, &r, step);
	}
	/* empty it: every slot and group goes back to nothing */
	while (r.n) {
		r.n--;
		assert_int_equal(xl4_dir24_del(&w.t, htonl(r.a[r.n]), r.len[r.n]), 0);
	}
	for (uint32_t s = 0; s < XL4_D24_SLOTS; s++)
		if (w.idx[s])
			fail_msg("seed %u: slot %06x holds %08x after every prefix left", seed, s,
				 w.idx[s]);
	assert_int_equal(xl4_dir24_groups_used(&w.t), 0);
	world_free(&w);
}

static void test_random_many_groups(void **state)
{
	(void)state;
	for (uint32_t seed = 1; seed <= 6; seed++)
		run_random(seed, 1500, 64);
}

/* Few groups: adds that need one fail with -ENOBUFS and change nothing. */
static void test_random_few_groups(void **state)
{
	(void)state;
	for (uint32_t seed = 100; seed <= 103; seed++)
		run_random(seed, 1500, 2);
}

/* The cases a plain walk-through should name. */
static void test_nested_delete_restores_cover(void **state)
{
	struct world w;
	struct xl4_prefix_entry v = { 0 };
	const struct xl4_d24_entry *e;

	(void)state;
	world_init(&w, 4, 16);
	assert_int_equal(xl4_dir24_set(&w.t, htonl(0xc6120000), 16, &v), 0);
	assert_int_equal(xl4_dir24_set(&w.t, htonl(0xc6120100), 24, &v), 0);
	assert_int_equal(xl4_dir24_set(&w.t, htonl(0xc6120180), 25, &v), 0);
	assert_int_equal(xl4_dir24_set(&w.t, htonl(0xc6120181), 32, &v), 0);
	/* a /25 and a /32 inside it share a /24: a group */
	assert_int_equal(xl4_dir24_groups_used(&w.t), 1);
	assert_int_equal(xl4_dir24_first(&w.t, htonl(0xc6120181), &e), XL4_D24_HIT);
	assert_int_equal(e->e.len, 32);
	assert_int_equal(xl4_dir24_del(&w.t, htonl(0xc6120181), 32), 0);
	/* back to the /25 alone in its slot: the group is given back */
	assert_int_equal(xl4_dir24_groups_used(&w.t), 0);
	assert_int_equal(xl4_dir24_first(&w.t, htonl(0xc6120181), &e), XL4_D24_HIT);
	assert_int_equal(e->e.len, 25);
	assert_int_equal(xl4_dir24_first(&w.t, htonl(0xc6120101), &e), XL4_D24_HIT);
	assert_int_equal(e->e.len, 24);
	assert_int_equal(xl4_dir24_del(&w.t, htonl(0xc6120100), 24), 0);
	/* outside the /25: the /16 now, through the /25's `other` */
	assert_int_equal(xl4_dir24_first(&w.t, htonl(0xc6120101), &e), XL4_D24_HIT);
	assert_int_equal(e->e.len, 16);
	assert_int_equal(xl4_dir24_del(&w.t, htonl(0xc6120000), 16), 0);
	assert_int_equal(xl4_dir24_first(&w.t, htonl(0xc6120101), &e), XL4_D24_NONE);
	assert_int_equal(xl4_dir24_first(&w.t, htonl(0xc6120180), &e), XL4_D24_HIT);
	world_free(&w);
}

/* Out of entries: -ENOSPC; a full set still renews what it holds. */
static void test_full(void **state)
{
	struct world w;
	struct xl4_prefix_entry v = { .expires_ns = 5 };
	const struct xl4_d24_entry *e;

	(void)state;
	world_init(&w, 1, 3);
	assert_int_equal(xl4_dir24_set(&w.t, htonl(0xc6120001), 32, &v), 0);
	assert_int_equal(xl4_dir24_set(&w.t, htonl(0xc6120002), 32, &v), 0);
	assert_int_equal(xl4_dir24_set(&w.t, htonl(0xc6120003), 32, &v), -ENOSPC);
	assert_int_equal(xl4_dir24_first(&w.t, htonl(0xc6120003), &e), XL4_D24_NONE);
	v.expires_ns = 9;
	assert_int_equal(xl4_dir24_set(&w.t, htonl(0xc6120002), 32, &v), 0);
	assert_int_equal(xl4_dir24_first(&w.t, htonl(0xc6120002), &e), XL4_D24_HIT);
	assert_int_equal(e->e.expires_ns, 9);
	assert_int_equal(xl4_dir24_set(&w.t, htonl(0xc6120001), 31, &v), -EINVAL); /* host bits */
	world_free(&w);
}

/* A deleted entry keeps its prefix (a packet may still read it) and is reused only after the
 * grace time; a restart finds what was there. */
static void test_reuse_grace_and_restart(void **state)
{
	struct world w;
	struct xl4_dir24 again;
	struct xl4_prefix_entry v = { 0 };
	const struct xl4_d24_entry *e;
	struct timespec t0, t1;

	(void)state;
	world_init(&w, 2, 2);
	w.t.grace_ns = 50000000;
	assert_int_equal(xl4_dir24_set(&w.t, htonl(0xc6120100), 24, &v), 0);
	assert_int_equal(xl4_dir24_del(&w.t, htonl(0xc6120100), 24), 0);
	assert_int_equal(w.ent[1].e.len, 24);
	assert_int_equal(ntohl(w.ent[1].addr), 0xc6120100);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(xl4_dir24_set(&w.t, htonl(0xc6120200), 24, &v), 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_true((t1.tv_sec - t0.tv_sec) * 1000000000ll + (t1.tv_nsec - t0.tv_nsec) >=
		    45000000ll);
	/* a second writer takes over the arrays as they are */
	xl4_dir24_free(&w.t);
	assert_int_equal(xl4_dir24_init(&again, w.idx, w.grp, 2, w.ent, 2), 0);
	assert_int_equal(xl4_dir24_find(&again, htonl(0xc6120200), 24), 1);
	assert_int_equal(xl4_dir24_first(&again, htonl(0xc6120201), &e), XL4_D24_HIT);
	assert_int_equal(xl4_dir24_del(&again, htonl(0xc6120200), 24), 0);
	assert_int_equal(xl4_dir24_first(&again, htonl(0xc6120201), &e), XL4_D24_NONE);
	w.t = again;
	world_free(&w);
}

/* A /0 and a /8 reach every slot they cover (the whole table for /0). */
static void test_short_prefixes(void **state)
{
	struct world w;
	struct xl4_prefix_entry v = { 0 };
	const struct xl4_d24_entry *e;

	(void)state;
	world_init(&w, 2, 8);
	assert_int_equal(xl4_dir24_set(&w.t, htonl(0xc6120005), 32, &v), 0);
	assert_int_equal(xl4_dir24_set(&w.t, 0, 0, &v), 0);
	assert_int_equal(xl4_dir24_set(&w.t, htonl(0xc6000000), 8, &v), 0);
	assert_int_equal(xl4_dir24_first(&w.t, htonl(0x01020304), &e), XL4_D24_HIT);
	assert_int_equal(e->e.len, 0);
	assert_int_equal(xl4_dir24_first(&w.t, htonl(0xffffffff), &e), XL4_D24_HIT);
	assert_int_equal(e->e.len, 0);
	assert_int_equal(xl4_dir24_first(&w.t, htonl(0xc6120006), &e), XL4_D24_HIT);
	assert_int_equal(e->e.len, 8);
	assert_int_equal(xl4_dir24_first(&w.t, htonl(0xc6120005), &e), XL4_D24_HIT);
	assert_int_equal(e->e.len, 32);
	assert_int_equal(xl4_dir24_del(&w.t, htonl(0xc6000000), 8), 0);
	assert_int_equal(xl4_dir24_first(&w.t, htonl(0xc6120006), &e), XL4_D24_HIT);
	assert_int_equal(e->e.len, 0);
	assert_int_equal(xl4_dir24_del(&w.t, 0, 0), 0);
	assert_int_equal(xl4_dir24_first(&w.t, htonl(0xc6120006), &e), XL4_D24_NONE);
	assert_int_equal(xl4_dir24_first(&w.t, htonl(0x01020304), &e), XL4_D24_NONE);
	world_free(&w);
}

/* A /32 alone in its /24 is decided from its slot; a cover, a neighbour in the /24, an expiry
 * or a scope takes that away, and their end gives it back. */
static void test_direct_slot(void **state)
{
	struct world w;
	struct xl4_prefix_entry v = { 0 }, timed = { .expires_ns = 77 },
				syn = { .scope = XL4_BLOCK_SCOPE_SYN, .vip = XL4_BLOCK_VIP_ANY };
	const struct xl4_d24_entry *e;
	const uint32_t host = 0xc6120181, s = host >> 8;

	(void)state;
	world_init(&w, 4, 16);
	assert_int_equal(xl4_dir24_set(&w.t, htonl(host), 32, &v), 0);
	assert_int_equal(w.idx[s], XL4_D24_DIRECT | 0x81u << XL4_D24_HOST_SHIFT | 1);
	assert_int_equal(xl4_dir24_first(&w.t, htonl(host), &e), XL4_D24_HIT_DIRECT);
	assert_int_equal(ntohl(e->addr), host);
	assert_int_equal(xl4_dir24_first(&w.t, htonl(host + 1), &e), XL4_D24_NONE);
	/* an entry that no longer holds the host (a packet stalled past the id's reuse): the trie */
	w.ent[1].addr = htonl(host + 1);
	assert_int_equal(xl4_dir24_first(&w.t, htonl(host), &e), XL4_D24_WALK);
	w.ent[1].addr = htonl(host);
	/* a covering /24: the slot names the /32 with its `other`, not direct */
	assert_int_equal(xl4_dir24_set(&w.t, htonl(host & 0xffffff00), 24, &v), 0);
	assert_int_equal(w.idx[s], 1);
	assert_int_equal(xl4_dir24_first(&w.t, htonl(host + 1), &e), XL4_D24_HIT);
	assert_int_equal(e->e.len, 24);
	assert_int_equal(xl4_dir24_del(&w.t, htonl(host & 0xffffff00), 24), 0);
	assert_true(w.idx[s] & XL4_D24_DIRECT);
	/* an expiry, then permanent again */
	assert_int_equal(xl4_dir24_set(&w.t, htonl(host), 32, &timed), 0);
	assert_int_equal(w.idx[s], 1);
	assert_int_equal(xl4_dir24_first(&w.t, htonl(host), &e), XL4_D24_HIT);
	assert_int_equal(e->e.expires_ns, 77);
	assert_int_equal(xl4_dir24_set(&w.t, htonl(host), 32, &v), 0);
	assert_true(w.idx[s] & XL4_D24_DIRECT);
	/* the analyzer's scope: SYNs to a VIP only, so the entry must be read */
	assert_int_equal(xl4_dir24_set(&w.t, htonl(host), 32, &syn), 0);
	assert_int_equal(w.idx[s], 1);
	assert_int_equal(xl4_dir24_set(&w.t, htonl(host), 32, &v), 0);
	/* a second long prefix in the /24: a group; when it leaves, direct again */
	assert_int_equal(xl4_dir24_set(&w.t, htonl(host + 2), 32, &v), 0);
	assert_true(w.idx[s] & XL4_D24_GROUP);
	assert_int_equal(xl4_dir24_first(&w.t, htonl(host), &e), XL4_D24_HIT);
	assert_int_equal(xl4_dir24_del(&w.t, htonl(host + 2), 32), 0);
	assert_true(w.idx[s] & XL4_D24_DIRECT);
	/* a /25 alone is never direct (its host bits are not one byte) */
	assert_int_equal(xl4_dir24_set(&w.t, htonl(0xc6120200), 25, &v), 0);
	assert_int_equal(w.idx[0xc61202], xl4_dir24_find(&w.t, htonl(0xc6120200), 25));
	assert_int_equal(xl4_dir24_del(&w.t, htonl(host), 32), 0);
	assert_int_equal(w.idx[s], 0);
	world_free(&w);
}

/* A writer killed mid-change: an add of a /16 over a direct /32 stopped after half its slots
 * (the /32's slot still direct, its `other` not yet written), and a delete of a /24 stopped
 * after its slot had moved to the cover. The record (the reference, as the trie) still has
 * both; a new writer's repair of every prefix must give the reference's answers again. */
static void test_repair_after_writer_died(void **state)
{
	struct world w;
	struct xl4_dir24 again;
	struct ref r = { .n = 0 };
	struct xl4_prefix_entry v = { 0 };
	const uint32_t host = 0xc6128105, cover = 0xc6120000, lone = 0xc6124000, timed = 0xc6130909;
	uint32_t id32, direct, idt;

	(void)state;
	world_init(&w, 4, 16);
	assert_int_equal(xl4_dir24_set(&w.t, htonl(host), 32, &v), 0);
	assert_int_equal(xl4_dir24_set(&w.t, htonl(lone), 24, &v), 0);
	direct = w.idx[host >> 8];
	id32 = direct & XL4_D24_ID_MASK;
	assert_true(direct & XL4_D24_DIRECT);
	assert_int_equal(xl4_dir24_set(&w.t, htonl(cover), 16, &v), 0);
	/* the add of the /16 undone in the second half of its slots, the /32's among them */
	for (uint32_t s = (cover >> 8) + 128; s < (cover >> 8) + 256; s++)
		if (s != lone >> 8)
			w.idx[s] = 0;
	w.idx[host >> 8] = direct;
	w.ent[id32].other = 0;
	/* a renewal with a deadline stopped between the entry and its slot: still direct */
	assert_int_equal(xl4_dir24_set(&w.t, htonl(timed), 32, &v), 0);
	idt = xl4_dir24_find(&w.t, htonl(timed), 32);
	assert_true(w.idx[timed >> 8] & XL4_D24_DIRECT);
	w.ent[idt].e.expires_ns = 99;
	/* the delete of the /24 stopped after its slot moved to the cover */
	w.idx[lone >> 8] = xl4_dir24_find(&w.t, htonl(cover), 16);
	r.a[0] = host, r.len[0] = 32;
	r.a[1] = cover, r.len[1] = 16;
	r.a[2] = lone, r.len[2] = 24;
	r.a[3] = timed, r.len[3] = 32, r.exp[3] = 99;
	r.n = 4;
	xl4_dir24_free(&w.t);
	assert_int_equal(xl4_dir24_init(&again, w.idx, w.grp, 4, w.ent, 16), 0);
	again.grace_ns = 0;
	w.t = again;
	for (int i = 0; i < r.n; i++) {
		struct xl4_prefix_entry rv = { .expires_ns = r.exp[i] };

		assert_int_equal(xl4_dir24_repair(&w.t, htonl(r.a[i]), r.len[i], &rv), 0);
	}
	check_all(&w, &r, "repaired");
	for (uint32_t a = cover; a < cover + 0x10000; a += 0x35)
		check_addr(&w, &r, a, "repaired, across the /16");
	world_free(&w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nested_delete_restores_cover),
		cmocka_unit_test(test_full),
		cmocka_unit_test(test_reuse_grace_and_restart),
		cmocka_unit_test(test_short_prefixes),
		cmocka_unit_test(test_direct_slot),
		cmocka_unit_test(test_repair_after_writer_died),
		cmocka_unit_test(test_random_many_groups),
		cmocka_unit_test(test_random_few_groups),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
