// SPDX-License-Identifier: GPL-2.0
/* Maglev tables: the hash matches the SipHash reference, tables do not depend on input order or
 * on ids, slots are balanced and weighted shares hold to 1% of the table, removing or draining a
 * backend moves its own slots plus at most 1% of the table, bad input gives -EINVAL without a
 * write, and a build of 1000 backends is fast. */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "maglev.h"

#define M_BIG 65537u
#define SEED 0x5eed1234u
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* A backend set with its own key storage: key i is "198.18.<i/250>.<i%250+1>:8080", id 100+i. */
struct set {
	size_t n;
	struct xl4_maglev_backend *b;
	char (*keys)[48];
};

static struct set set_new(size_t n, uint32_t weight)
{
	struct set s = { .n = n };

	s.b = calloc(n ? n : 1, sizeof(*s.b));
	s.keys = calloc(n ? n : 1, sizeof(*s.keys));
	assert_non_null(s.b);
	assert_non_null(s.keys);
	for (size_t i = 0; i < n; i++) {
		snprintf(s.keys[i], sizeof(s.keys[i]), "198.18.%zu.%zu:8080", i / 250, i % 250 + 1);
		s.b[i] = (struct xl4_maglev_backend){ .key = s.keys[i], .weight = weight,
						      .id = 100 + (uint32_t)i };
	}
	return s;
}

static void set_free(struct set *s)
{
	free(s->b);
	free(s->keys);
}

static uint32_t *table_new(uint32_t size)
{
	uint32_t *t = malloc(size * sizeof(*t));

	assert_non_null(t);
	return t;
}

static uint32_t *build(const struct set *s, uint32_t size, uint32_t seed)
{
	uint32_t *t = table_new(size);
	int err = xl4_maglev_build(s->b, s->n, size, seed, t);

	if (err)
		fail_msg("build of %zu backends at size %u: %d", s->n, size, err);
	return t;
}

/* Deterministic PRNG for shuffles and random weights (xorshift64*). */
static uint64_t rnd(uint64_t *state)
{
	*state ^= *state >> 12;
	*state ^= *state << 25;
	*state ^= *state >> 27;
	return *state * 0x2545F4914F6CDD1DULL;
}

static void shuffle(struct xl4_maglev_backend *b, size_t n, uint64_t *state)
{
	for (size_t i = n; i > 1; i--) {
		size_t j = rnd(state) % i;
		struct xl4_maglev_backend x = b[i - 1];

		b[i - 1] = b[j];
		b[j] = x;
	}
}

/* Slots per backend id (ids are 100 + i, i < n). */
static size_t *count_slots(const uint32_t *t, uint32_t size, size_t n)
{
	size_t *c = calloc(n ? n : 1, sizeof(*c));

	assert_non_null(c);
	for (uint32_t i = 0; i < size; i++) {
		if (t[i] < 100 || t[i] - 100 >= n)
			fail_msg("slot %u holds %u, not an id of the set", i, t[i]);
		c[t[i] - 100]++;
	}
	return c;
}

/* ---- named checks: each says what it compared and returns whether it held ---- */

static bool check_balanced(const uint32_t *t, uint32_t size, const struct set *s, const char *what)
{
	size_t *c = count_slots(t, size, s->n), lo = SIZE_MAX, hi = 0;

	for (size_t i = 0; i < s->n; i++) {
		if (!s->b[i].weight)
			continue;
		lo = c[i] < lo ? c[i] : lo;
		hi = c[i] > hi ? c[i] : hi;
	}
	free(c);
	if (hi - lo > 1) {
		print_error("%s: slots per backend range %zu..%zu (more than one apart)\n", what, lo,
			    hi);
		return false;
	}
	return true;
}

static bool check_shares(const uint32_t *t, uint32_t size, const struct set *s, double tol_pp,
			 const char *what)
{
	size_t *c = count_slots(t, size, s->n);
	double sum = 0;
	bool ok = true;

	for (size_t i = 0; i < s->n; i++)
		sum += s->b[i].weight;
	for (size_t i = 0; i < s->n; i++) {
		double want = 100.0 * s->b[i].weight / sum, got = 100.0 * c[i] / size;

		if (got - want > tol_pp || want - got > tol_pp) {
			print_error("%s: backend %zu (weight %u) holds %.3f%% of the table, wants %.3f%%\n",
				    what, i, s->b[i].weight, got, want);
			ok = false;
		}
	}
	free(c);
	return ok;
}

/* Slots that changed between before and after although they held neither gone nor added (the
 * backend removed or added) must be at most 1% of the table. */
static bool check_disruption(const uint32_t *before, const uint32_t *after, uint32_t size,
			     uint32_t gone, uint32_t added, const char *what)
{
	size_t own = 0, others = 0;

	for (uint32_t i = 0; i < size; i++) {
		if (before[i] == after[i])
			continue;
		if (before[i] == gone || after[i] == added)
			own++;
		else
			others++;
	}
	if (others * 100 > size) {
		print_error("%s: %zu slots of other backends moved (%.2f%% > 1%%), own %zu\n", what,
			    others, 100.0 * others / size, own);
		return false;
	}
	return true;
}

static bool check_same(const uint32_t *a, const uint32_t *b, uint32_t size, const char *what)
{
	size_t d = xl4_maglev_diff(a, b, size);

	if (d) {
		print_error("%s: %zu of %u slots differ\n", what, d, size);
		return false;
	}
	return true;
}

/* ---- tests ---- */

static void test_is_prime(void **state)
{
	static const uint32_t primes[] = { 2, 3, 5, 7, 251, 1009, 65537, 655373, 16777213,
					   4294967291u };
	static const uint32_t composites[] = { 0, 1, 4, 9, 25, 49, 561, 65535, 65536, 1009 * 1013,
					       65537u * 65521u, 4294967295u };

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(primes); i++)
		if (!xl4_maglev_is_prime(primes[i]))
			fail_msg("%u is prime", primes[i]);
	for (size_t i = 0; i < ARRAY_SIZE(composites); i++)
		if (xl4_maglev_is_prime(composites[i]))
			fail_msg("%u is not prime", composites[i]);
}

/* Every rejected input: -EINVAL, and not one word of the table (or past it) written. */
static void test_errors_do_not_write(void **state)
{
	struct set s = set_new(3, 1), dup = set_new(3, 1), nokey = set_new(3, 1),
		   noneid = set_new(3, 1), dupdrained = set_new(3, 1);
	const uint32_t guard = 0xdeadbeef;
	struct {
		const char *what;
		const struct set *s;
		size_t n;
		uint32_t size;
		bool null_table;
		bool null_b;
	} cases[] = {
		{ "size 0", &s, 3, 0, false, false },
		{ "size 1", &s, 3, 1, false, false },
		{ "size 4 (not prime)", &s, 3, 4, false, false },
		{ "size 65536 (not prime)", &s, 3, 65536, false, false },
		{ "size 561 (Carmichael)", &s, 3, 561, false, false },
		{ "size prime but above XL4_MAGLEV_SIZE_MAX", &s, 3, 16777259, false, false },
		{ "3 active backends, size 3", &s, 3, 3, false, false },
		{ "2 active backends, size 2", &s, 2, 2, false, false },
		{ "NULL table", &s, 3, 251, true, false },
		{ "NULL backends, n 3", &s, 3, 251, false, true },
		{ "duplicate key", &dup, 3, 251, false, false },
		{ "duplicate key, one drained", &dupdrained, 3, 251, false, false },
		{ "NULL key", &nokey, 3, 251, false, false },
		{ "active id XL4_MAGLEV_NONE", &noneid, 3, 251, false, false },
	};
	uint32_t buf[2 + 1024];

	(void)state;
	dup.b[2].key = dup.b[0].key;
	dupdrained.b[1].key = "198.18.0.1:8080";
	dupdrained.b[1].weight = 0;
	nokey.b[1].key = NULL;
	noneid.b[2].id = XL4_MAGLEV_NONE;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		uint32_t *t = buf + 1;
		int err;

		for (size_t j = 0; j < ARRAY_SIZE(buf); j++)
			buf[j] = guard;
		if (cases[i].size > 1024) {
			/* Too big for the stack buffer: a real allocation, checked the same way. */
			uint32_t *big = malloc((size_t)cases[i].size * sizeof(*big));

			assert_non_null(big);
			for (uint32_t j = 0; j < cases[i].size; j++)
				big[j] = guard;
			err = xl4_maglev_build(cases[i].s->b, cases[i].n, cases[i].size, SEED, big);
			for (uint32_t j = 0; j < cases[i].size; j++)
				if (big[j] != guard)
					fail_msg("%s: slot %u written", cases[i].what, j);
			free(big);
		} else {
			err = xl4_maglev_build(cases[i].null_b ? NULL : cases[i].s->b, cases[i].n,
					       cases[i].size, SEED, cases[i].null_table ? NULL : t);
		}
		if (err != -EINVAL)
			fail_msg("%s: returned %d, not -EINVAL", cases[i].what, err);
		for (size_t j = 0; j < ARRAY_SIZE(buf); j++)
			if (buf[j] != guard)
				fail_msg("%s: word %zu of the buffer written", cases[i].what, j);
	}
	set_free(&s);
	set_free(&dup);
	set_free(&nokey);
	set_free(&noneid);
	set_free(&dupdrained);
}

/* No active backend: -ENOENT and a table of XL4_MAGLEV_NONE (also for n = 0, b = NULL). */
static void test_no_active_backend(void **state)
{
	struct set s = set_new(4, 0);
	uint32_t t[251];

	(void)state;
	memset(t, 0, sizeof(t));
	assert_int_equal(xl4_maglev_build(s.b, s.n, 251, SEED, t), -ENOENT);
	for (size_t i = 0; i < 251; i++)
		assert_int_equal(t[i], XL4_MAGLEV_NONE);
	memset(t, 0, sizeof(t));
	assert_int_equal(xl4_maglev_build(NULL, 0, 251, SEED, t), -ENOENT);
	for (size_t i = 0; i < 251; i++)
		assert_int_equal(t[i], XL4_MAGLEV_NONE);
	set_free(&s);
}

/* The smallest tables that are valid: one backend at size 2, two at size 3. */
static void test_smallest_tables(void **state)
{
	struct set s = set_new(2, 1);
	uint32_t t[3];

	(void)state;
	assert_int_equal(xl4_maglev_build(s.b, 1, 2, SEED, t), 0);
	assert_int_equal(t[0], 100);
	assert_int_equal(t[1], 100);
	assert_int_equal(xl4_maglev_build(s.b, 2, 3, SEED, t), 0);
	assert_true(check_balanced(t, 3, &s, "2 backends at size 3"));
	set_free(&s);
}

/* The same set in any order gives a byte-identical table; equal and mixed weights, drained
 * backends included. */
static void test_order_independence(void **state)
{
	static const size_t ns[] = { 2, 10, 100, 1000 };
	uint64_t r = 42;

	(void)state;
	for (size_t k = 0; k < ARRAY_SIZE(ns); k++) {
		struct set s = set_new(ns[k], 1);
		uint32_t *ref, *t = table_new(M_BIG);
		char what[64];

		for (size_t i = 0; i < s.n; i++) /* mixed weights, every 7th drained */
			s.b[i].weight = i % 7 == 3 ? 0 : 1 + rnd(&r) % 5;
		ref = build(&s, M_BIG, SEED);
		for (int round = 0; round < 5; round++) {
			shuffle(s.b, s.n, &r);
			assert_int_equal(xl4_maglev_build(s.b, s.n, M_BIG, SEED, t), 0);
			snprintf(what, sizeof(what), "%zu backends, shuffle %d", s.n, round);
			assert_true(check_same(ref, t, M_BIG, what));
			assert_memory_equal(ref, t, M_BIG * sizeof(*t));
		}
		free(ref);
		free(t);
		set_free(&s);
	}
}

/* Ids are only the values written: renumbering backends renumbers the table, slot for slot. */
static void test_ids_do_not_steer_placement(void **state)
{
	struct set s = set_new(50, 1);
	uint32_t *a, *b;

	(void)state;
	a = build(&s, M_BIG, SEED);
	for (size_t i = 0; i < s.n; i++)
		s.b[i].id = 100 + (uint32_t)(s.n - 1 - i); /* reversed */
	b = build(&s, M_BIG, SEED);
	for (uint32_t i = 0; i < M_BIG; i++)
		if (b[i] != 100 + (s.n - 1 - (a[i] - 100)))
			fail_msg("slot %u: %u under the first ids, %u under reversed ids", i, a[i], b[i]);
	free(a);
	free(b);
	set_free(&s);
}

/* Equal weights: slots per backend differ by at most one. */
static void test_balance_equal_weights(void **state)
{
	static const struct {
		size_t n;
		uint32_t size;
	} cases[] = {
		{ 2, M_BIG },  { 3, M_BIG },  { 7, M_BIG },  { 10, M_BIG },  { 100, M_BIG },
		{ 1000, M_BIG }, { 2, 251 },  { 3, 251 },    { 7, 251 },     { 10, 251 },
		{ 100, 251 },  { 250, 251 },  { 7, 1009 },   { 100, 1009 },  { 1000, 1009 },
	};

	(void)state;
	for (size_t k = 0; k < ARRAY_SIZE(cases); k++) {
		struct set s = set_new(cases[k].n, 1);
		uint32_t *t = build(&s, cases[k].size, SEED);
		char what[64];

		snprintf(what, sizeof(what), "%zu equal backends at size %u", s.n, cases[k].size);
		assert_true(check_balanced(t, cases[k].size, &s, what));
		free(t);
		set_free(&s);
	}
}

/* Weighted: each backend's share is weight/sum to within 1 percentage point. */
static void test_weighted_shares(void **state)
{
	static const uint32_t w1[] = { 1, 2, 3, 4 }, w2[] = { 1, 10 }, w3[] = { 5, 5, 90 },
			      w4[] = { 1, 1, 1, 1000 }, w5[] = { 3000000000u, 1000000000u },
			      w6[] = { 100, 0, 100, 50 };
	static const struct {
		const uint32_t *w;
		size_t n;
	} cases[] = { { w1, 4 }, { w2, 2 }, { w3, 3 }, { w4, 4 }, { w5, 2 }, { w6, 4 } };
	static const uint32_t sizes[] = { M_BIG, 1009, 251 };
	uint64_t r = 7;

	(void)state;
	for (size_t k = 0; k < ARRAY_SIZE(cases); k++) {
		for (size_t z = 0; z < ARRAY_SIZE(sizes); z++) {
			struct set s = set_new(cases[k].n, 1);
			uint32_t *t;
			char what[64];

			for (size_t i = 0; i < s.n; i++)
				s.b[i].weight = cases[k].w[i];
			t = build(&s, sizes[z], SEED);
			snprintf(what, sizeof(what), "weights case %zu at size %u", k, sizes[z]);
			assert_true(check_shares(t, sizes[z], &s, 1.0, what));
			free(t);
			set_free(&s);
		}
	}
	/* Many backends with random weights 1..10 at the default size. */
	{
		struct set s = set_new(100, 1);
		uint32_t *t;

		for (size_t i = 0; i < s.n; i++)
			s.b[i].weight = 1 + rnd(&r) % 10;
		t = build(&s, M_BIG, SEED);
		assert_true(check_shares(t, M_BIG, &s, 1.0, "100 backends, random weights 1..10"));
		free(t);
		set_free(&s);
	}
}

/* Scaling every weight by the same factor changes nothing. */
static void test_weight_scale_invariance(void **state)
{
	struct set a = set_new(4, 1), b = set_new(4, 1);
	uint32_t *ta, *tb;

	(void)state;
	for (size_t i = 0; i < 4; i++) {
		a.b[i].weight = 1 + i;
		b.b[i].weight = 1000 * (1 + i);
	}
	ta = build(&a, M_BIG, SEED);
	tb = build(&b, M_BIG, SEED);
	assert_true(check_same(ta, tb, M_BIG, "weights 1:2:3:4 vs 1000:2000:3000:4000"));
	free(ta);
	free(tb);
	set_free(&a);
	set_free(&b);
}

/*
 * Removing one backend (first, middle, last in key order) moves its own slots and at most 1% of
 * the table besides; adding it back restores the original exactly; draining it (weight 0) is
 * the same table as removing it. Equal weights and random weights 1..10.
 */
static void test_minimal_disruption(void **state)
{
	static const size_t ns[] = { 3, 10, 100, 1000 };
	uint64_t r = 99;

	(void)state;
	for (int weighted = 0; weighted < 2; weighted++) {
		for (size_t k = 0; k < ARRAY_SIZE(ns); k++) {
			struct set s = set_new(ns[k], 1);
			uint32_t *full, *less = table_new(M_BIG), *drained = table_new(M_BIG),
					*again = table_new(M_BIG);
			size_t victims[3] = { 0, ns[k] / 2, ns[k] - 1 };

			if (weighted)
				for (size_t i = 0; i < s.n; i++)
					s.b[i].weight = 1 + rnd(&r) % 10;
			full = build(&s, M_BIG, SEED);
			for (size_t v = 0; v < 3; v++) {
				size_t x = victims[v];
				struct xl4_maglev_backend gone = s.b[x];
				char what[96];

				snprintf(what, sizeof(what), "%s, remove %zu of %zu",
					 weighted ? "weighted" : "equal", x, s.n);
				/* Removed: swap it to the end and build n - 1. */
				s.b[x] = s.b[s.n - 1];
				s.b[s.n - 1] = gone;
				assert_int_equal(xl4_maglev_build(s.b, s.n - 1, M_BIG, SEED, less), 0);
				for (uint32_t i = 0; i < M_BIG; i++)
					if (less[i] == gone.id)
						fail_msg("%s: slot %u still holds it", what, i);
				assert_true(check_disruption(full, less, M_BIG, gone.id,
							     XL4_MAGLEV_NONE, what));
				/* Added back (the reverse move) restores the original exactly. */
				assert_int_equal(xl4_maglev_build(s.b, s.n, M_BIG, SEED, again), 0);
				assert_true(check_same(full, again, M_BIG, what));
				assert_true(check_disruption(less, again, M_BIG, XL4_MAGLEV_NONE,
							     gone.id, what));
				/* Drained is removed. */
				s.b[s.n - 1].weight = 0;
				assert_int_equal(xl4_maglev_build(s.b, s.n, M_BIG, SEED, drained), 0);
				assert_true(check_same(less, drained, M_BIG, what));
				s.b[s.n - 1] = s.b[x];
				s.b[x] = gone;
			}
			free(full);
			free(less);
			free(drained);
			free(again);
			set_free(&s);
		}
	}
}

/* A backend that was never there joins: it takes about its share, others lose at most 1%. */
static void test_add_new_backend(void **state)
{
	static const size_t ns[] = { 3, 10, 100, 1000 };

	(void)state;
	for (size_t k = 0; k < ARRAY_SIZE(ns); k++) {
		struct set s = set_new(ns[k] + 1, 1);
		uint32_t *before = table_new(M_BIG), *after;
		char what[64];

		assert_int_equal(xl4_maglev_build(s.b, ns[k], M_BIG, SEED, before), 0);
		after = build(&s, M_BIG, SEED);
		snprintf(what, sizeof(what), "add one to %zu", ns[k]);
		assert_true(check_disruption(before, after, M_BIG, XL4_MAGLEV_NONE,
					     s.b[ns[k]].id, what));
		assert_true(check_balanced(after, M_BIG, &s, what));
		free(before);
		free(after);
		set_free(&s);
	}
}

/* The seed is the secret: other seeds give other tables, the same seed the same table. */
static void test_seed_changes_table(void **state)
{
	struct set s = set_new(10, 1);
	uint32_t *a = build(&s, M_BIG, 1), *a2 = build(&s, M_BIG, 1), *b = build(&s, M_BIG, 2),
		 *c = build(&s, M_BIG, 0x80000000u);

	(void)state;
	assert_true(check_same(a, a2, M_BIG, "seed 1 twice"));
	/* Independent tables of 10 backends agree on about 10% of slots. */
	assert_true(xl4_maglev_diff(a, b, M_BIG) > M_BIG / 2);
	assert_true(xl4_maglev_diff(a, c, M_BIG) > M_BIG / 2);
	assert_true(xl4_maglev_diff(b, c, M_BIG) > M_BIG / 2);
	free(a);
	free(a2);
	free(b);
	free(c);
	set_free(&s);
}

/*
 * A pinned table: the hash is defined on bytes and the algorithm has no float and no
 * platform-dependent step, so this must hold on every machine and every compiler. If it changes,
 * every node's table changes: bump it only together with a deliberate, documented change.
 */
static void test_golden_table(void **state)
{
	static const uint32_t want[31] = {
		102, 102, 101, 101, 102, 102, 100, 102, 102, 102, 102, 102, 101, 100, 100, 100,
		100, 100, 100, 101, 100, 100, 100, 101, 101, 101, 101, 101, 101, 100, 102,
	};
	struct set s = set_new(3, 1);
	uint32_t t[31];
	uint64_t h = 0xcbf29ce484222325ULL;

	(void)state;
	assert_int_equal(xl4_maglev_build(s.b, 3, 31, 42, t), 0);
	for (int i = 0; i < 31; i++)
		if (t[i] != want[i])
			fail_msg("golden table slot %d: %u, pinned %u", i, t[i], want[i]);
	set_free(&s);
	/* And a large one, by FNV-1a over the little-endian ids. */
	s = set_new(1000, 1);
	for (size_t i = 0; i < s.n; i++)
		s.b[i].weight = 1 + i % 4;
	{
		uint32_t *big = build(&s, M_BIG, 42);

		for (uint32_t i = 0; i < M_BIG; i++)
			for (int j = 0; j < 4; j++)
				h = (h ^ ((big[i] >> (8 * j)) & 0xff)) * 0x100000001b3ULL;
		free(big);
	}
	if (h != 0xd2b779e777e0e20bULL)
		fail_msg("golden 1000-backend table: fnv %016llx", (unsigned long long)h);
	set_free(&s);
}

static double now_sec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* 1000 backends at 65537: well under a second (typically a few milliseconds). */
static void test_build_time(void **state)
{
	struct set s = set_new(1000, 1);
	uint32_t *t = table_new(M_BIG);
	double best = 1e9;

	(void)state;
	for (int i = 0; i < 3; i++) {
		double t0 = now_sec(), dt;

		assert_int_equal(xl4_maglev_build(s.b, s.n, M_BIG, SEED, t), 0);
		dt = now_sec() - t0;
		best = dt < best ? dt : best;
	}
	if (best > 0.25)
		fail_msg("1000 backends at size %u took %.3f s", M_BIG, best);
	free(t);
	set_free(&s);
}

/* Concurrent builds from several threads give the same table (no shared state). */
struct thread_arg {
	const struct set *s;
	uint32_t *t;
	int err;
};

static void *thread_build(void *p)
{
	struct thread_arg *a = p;

	for (int i = 0; i < 20 && !a->err; i++)
		a->err = xl4_maglev_build(a->s->b, a->s->n, M_BIG, SEED, a->t);
	return NULL;
}

static void test_thread_safety(void **state)
{
	struct set s = set_new(200, 1);
	uint32_t *ref;
	struct thread_arg args[4];
	pthread_t th[4];

	(void)state;
	for (size_t i = 0; i < s.n; i++)
		s.b[i].weight = 1 + i % 3;
	ref = build(&s, M_BIG, SEED);
	for (int i = 0; i < 4; i++) {
		args[i] = (struct thread_arg){ .s = &s, .t = table_new(M_BIG) };
		assert_int_equal(pthread_create(&th[i], NULL, thread_build, &args[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		assert_int_equal(pthread_join(th[i], NULL), 0);
		assert_int_equal(args[i].err, 0);
		assert_true(check_same(ref, args[i].t, M_BIG, "threaded build"));
		free(args[i].t);
	}
	free(ref);
	set_free(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_is_prime),
		cmocka_unit_test(test_errors_do_not_write),
		cmocka_unit_test(test_no_active_backend),
		cmocka_unit_test(test_smallest_tables),
		cmocka_unit_test(test_order_independence),
		cmocka_unit_test(test_ids_do_not_steer_placement),
		cmocka_unit_test(test_balance_equal_weights),
		cmocka_unit_test(test_weighted_shares),
		cmocka_unit_test(test_weight_scale_invariance),
		cmocka_unit_test(test_minimal_disruption),
		cmocka_unit_test(test_add_new_backend),
		cmocka_unit_test(test_seed_changes_table),
		cmocka_unit_test(test_golden_table),
		cmocka_unit_test(test_build_time),
		cmocka_unit_test(test_thread_safety),
	};

	return cmocka_run_group_tests_name("maglev", tests, NULL, NULL);
}
