// SPDX-License-Identifier: GPL-2.0
/* The Maglev table's fingerprint (src/lb_state.c): the same backends and seed give the same
 * fingerprint whatever ids a node gave them; a different backend or seed, another. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "lb_state.h"
#include "maglev.h"

#define SIZE 1021

static uint64_t fp(const char *const keys[], const uint32_t ids[], size_t n, uint32_t seed)
{
	struct xl4_maglev_backend mb[4];
	uint32_t table[SIZE];

	for (size_t i = 0; i < n; i++)
		mb[i] = (struct xl4_maglev_backend){ .key = keys[i], .weight = 1, .id = ids[i] };
	assert_int_equal(xl4_maglev_build(mb, n, SIZE, seed, table), 0);
	return xl4_lb_table_fingerprint(mb, n, table, SIZE);
}

static void test_fingerprint(void **state)
{
	static const char *const keys[] = { "198.18.0.11:80", "198.18.0.12:80", "198.18.0.13:80" };
	static const char *const other[] = { "198.18.0.11:80", "198.18.0.12:80", "198.18.0.14:80" };
	uint64_t a = fp(keys, (uint32_t[]){ 0, 1, 2 }, 3, 7);

	(void)state;
	assert_true(a != 0);
	/* another node numbered its backends differently: same table, same fingerprint */
	assert_true(fp(keys, (uint32_t[]){ 40, 7, 99 }, 3, 7) == a);
	/* another backend, or another seed: another table */
	assert_true(fp(other, (uint32_t[]){ 0, 1, 2 }, 3, 7) != a);
	assert_true(fp(keys, (uint32_t[]){ 0, 1, 2 }, 3, 8) != a);
}

int main(void)
{
	const struct CMUnitTest tests[] = { cmocka_unit_test(test_fingerprint) };

	return cmocka_run_group_tests(tests, NULL, NULL);
}
