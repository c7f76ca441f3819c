// SPDX-License-Identifier: GPL-2.0
/*
 * The daemon's refresh of the verified-source bits against a datapath that keeps proving
 * sources while it runs (src/guard_vbits.c, bpf/guard.h guard_vbits_record()): a thread plays
 * the datapath on the other CPU, setting each proof's bit in xl4_gvnew_v1 and then in the live
 * words by atomic OR, as the program does; the test thread copies the words and rewrites every
 * live word from a walk that found nothing. A bit proved after the copy must survive the
 * rewrite: a refresh that wrote a word back without compare-and-swap would lose the bits set
 * between its read and its write. Needs two CPUs to race; says so and skips with one.
 */
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <cmocka.h>

#include "guard_vbits.h"

#define LOG2 XL4_GUARD_VBITS_LOG2_MIN
#define WORDS (2u << (LOG2 - 6)) /* both halves */
#define ROUNDS 400

struct race {
	struct xl4_gvbits live;
	unsigned long started, done; /* proofs begun, proofs finished (atomic) */
	bool stop;
};

/* Source i: 198.18.0.0/16 then 198.19.0.0/16, round and round. */
static struct xl4_guard_src source(unsigned long i)
{
	struct xl4_guard_src k = { .addr = { htonl(0xc6120000u | (i & 0x1ffff)) }, .family = 4 };

	return k;
}

static void *datapath(void *arg)
{
	struct race *r = arg;

	for (unsigned long i = 0; !__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE); i++) {
		struct xl4_guard_src k = source(i);
		__u32 bit = xl4_guard_vbit(&k, LOG2);

		__atomic_store_n(&r->started, i + 1, __ATOMIC_SEQ_CST);
		__atomic_fetch_or(&r->live.fresh_set[bit / 64], 1ull << (bit % 64),
				  __ATOMIC_SEQ_CST);
		xl4_guard_vbits_add(r->live.w, LOG2, i & 1, &k);
		__atomic_store_n(&r->done, i + 1, __ATOMIC_SEQ_CST);
	}
	return NULL;
}

static void test_proofs_during_refresh_survive(void **state)
{
	static struct race r;
	__u64 *fresh = calloc(WORDS, 8), *before = calloc(WORDS, 8);
	unsigned long lost = 0, checked = 0;
	pthread_t thr;

	(void)state;
	if (sysconf(_SC_NPROCESSORS_ONLN) < 2)
		skip(); /* one CPU: the two threads never run at once */
	r.live = (struct xl4_gvbits){ .w = calloc(WORDS, 8),
				      .fresh_set = calloc(WORDS / 2, 8),
				      .words = WORDS,
				      .log2 = LOG2 };
	assert_non_null(fresh);
	assert_non_null(before);
	assert_non_null(r.live.w);
	assert_non_null(r.live.fresh_set);
	assert_int_equal(pthread_create(&thr, NULL, datapath, &r), 0);
	for (int round = 0; round < ROUNDS; round++) {
		unsigned long from, to;

		xl4_gvbits_snapshot(&r.live, before);
		/* proofs begun after the copy (the walk found none: fresh stays empty) */
		from = __atomic_load_n(&r.started, __ATOMIC_SEQ_CST);
		xl4_guard_vbits_refresh(&r.live, fresh, before);
		to = __atomic_load_n(&r.done, __ATOMIC_SEQ_CST);
		for (unsigned long i = from; i < to; i++) {
			struct xl4_guard_src k = source(i);

			checked++;
			lost += !xl4_gvbits_test(&r.live, XL4_GUARD_VBITS_ANY, &k);
		}
	}
	__atomic_store_n(&r.stop, true, __ATOMIC_RELEASE);
	pthread_join(thr, NULL);
	print_message("      %lu proofs made during %d refreshes, %lu bits lost\n", checked, ROUNDS,
		      lost);
	assert_true(checked > 1000); /* the threads did overlap */
	assert_int_equal(lost, 0);
	free(r.live.w);
	free(r.live.fresh_set);
	free(fresh);
	free(before);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_proofs_during_refresh_survive),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
