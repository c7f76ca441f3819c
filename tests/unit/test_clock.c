// SPDX-License-Identifier: GPL-2.0
/* The datapath clock's HZ estimate (src/clock.c): a measured tick span snaps to the HZ the
 * kernel runs at, for every common HZ and for edge timings off by the probe's few microseconds;
 * implausible spans are refused rather than turned into a wrong scale. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "clock.h"

static void test_common_hz(void **state)
{
	static const unsigned int hz[] = { 100, 250, 300, 1000 };
	(void)state;

	for (size_t i = 0; i < sizeof(hz) / sizeof(hz[0]); i++) {
		unsigned long long tick = (1000000000ull + hz[i] / 2) / hz[i];
		/* the calibration spans at least XL4_CLOCK_SPAN_MS */
		unsigned long long ticks = (XL4_CLOCK_SPAN_MS * 1000000ull + tick - 1) / tick;

		assert_int_equal(xl4_clock_hz(ticks, ticks * tick), hz[i]);
		/* the edges are found within a few microseconds: 20 us either way still snaps */
		assert_int_equal(xl4_clock_hz(ticks, ticks * tick + 20000), hz[i]);
		assert_int_equal(xl4_clock_hz(ticks, ticks * tick - 20000), hz[i]);
	}
}

static void test_implausible(void **state)
{
	(void)state;
	assert_int_equal(xl4_clock_hz(1, 0), 0);		/* no time at all */
	assert_int_equal(xl4_clock_hz(0, 40000000), 0);		/* jiffies did not move */
	assert_int_equal(xl4_clock_hz(1, 1000000000ull), 0);	/* 1 Hz */
	assert_int_equal(xl4_clock_hz(1000, 40000), 0);		/* 25 MHz */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_common_hz),
		cmocka_unit_test(test_implausible),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
