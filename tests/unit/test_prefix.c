// SPDX-License-Identifier: GPL-2.0
/* Prefix and port-range parsing, and range-to-prefix expansion (checked exhaustively). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include <cmocka.h>

#include "prefix.h"

static void test_parse_ok(void **state)
{
	struct xl4_prefix p;
	char err[128], s[64];

	(void)state;
	assert_int_equal(xl4_prefix_parse("198.18.0.0/15", &p, err, sizeof(err)), 0);
	assert_int_equal(p.family, 4);
	assert_int_equal(p.len, 15);
	xl4_prefix_str(&p, s, sizeof(s));
	assert_string_equal(s, "198.18.0.0/15");
	assert_int_equal(xl4_prefix_parse("198.18.0.7", &p, err, sizeof(err)), 0);
	assert_int_equal(p.len, 32);
	assert_int_equal(xl4_prefix_parse("2001:db8::/32", &p, err, sizeof(err)), 0);
	assert_int_equal(p.family, 6);
	assert_int_equal(p.len, 32);
	assert_int_equal(xl4_prefix_parse("0.0.0.0/0", &p, err, sizeof(err)), 0);
	assert_int_equal(p.len, 0);
}

static void test_parse_errors(void **state)
{
	struct xl4_prefix p;
	char err[128];

	(void)state;
	assert_int_not_equal(xl4_prefix_parse("198.18.0.1/15", &p, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "did you mean 198.18.0.0/15?"));
	/* lengths and ports through the one integer parser: no blanks, signs or junk */
	assert_int_not_equal(xl4_prefix_parse("198.18.0.0/ 15", &p, err, sizeof(err)), 0);
	assert_int_not_equal(xl4_prefix_parse("198.18.0.0/+15", &p, err, sizeof(err)), 0);
	assert_int_not_equal(xl4_prefix_parse("198.18.0.0/15x", &p, err, sizeof(err)), 0);
	assert_int_not_equal(xl4_prefix_parse("198.18.0.0/4294967311", &p, err, sizeof(err)), 0);
	assert_int_not_equal(xl4_prefix_parse("198.18.0.0/33", &p, err, sizeof(err)), 0);
	assert_int_not_equal(xl4_prefix_parse("2001:db8::1/32", &p, err, sizeof(err)), 0);
	assert_int_not_equal(xl4_prefix_parse("2001:db8::/129", &p, err, sizeof(err)), 0);
	assert_int_not_equal(xl4_prefix_parse("198.18.0.0/", &p, err, sizeof(err)), 0);
	assert_int_not_equal(xl4_prefix_parse("hello", &p, err, sizeof(err)), 0);
	assert_int_not_equal(xl4_prefix_parse("", &p, err, sizeof(err)), 0);
	assert_int_not_equal(xl4_prefix_parse("198.18.0.0/1x", &p, err, sizeof(err)), 0);
}

static void test_contains(void **state)
{
	struct xl4_prefix p;
	char err[128];
	__be32 a[4] = { 0 };

	(void)state;
	xl4_prefix_parse("198.18.0.0/15", &p, err, sizeof(err));
	inet_pton(AF_INET, "198.19.255.255", a);
	assert_true(xl4_prefix_contains(&p, 4, a));
	inet_pton(AF_INET, "198.20.0.0", a);
	assert_false(xl4_prefix_contains(&p, 4, a));
	assert_false(xl4_prefix_contains(&p, 6, a));
}

static void test_port_ranges(void **state)
{
	uint16_t lo, hi;
	char err[128];

	(void)state;
	assert_int_equal(xl4_port_range_parse("80", &lo, &hi, err, sizeof(err)), 0);
	assert_int_equal(lo, 80);
	assert_int_equal(hi, 80);
	assert_int_equal(xl4_port_range_parse("1000-2000", &lo, &hi, err, sizeof(err)), 0);
	assert_int_equal(hi, 2000);
	assert_int_not_equal(xl4_port_range_parse("0", &lo, &hi, err, sizeof(err)), 0);
	assert_int_not_equal(xl4_port_range_parse(" 80", &lo, &hi, err, sizeof(err)), 0);
	assert_int_not_equal(xl4_port_range_parse("65616", &lo, &hi, err, sizeof(err)), 0); /* 80 + 2^16 */
	assert_int_not_equal(xl4_port_range_parse("80-4294967376", &lo, &hi, err, sizeof(err)), 0);
	assert_int_not_equal(xl4_port_range_parse("2000-1000", &lo, &hi, err, sizeof(err)), 0);
	assert_int_not_equal(xl4_port_range_parse("65536", &lo, &hi, err, sizeof(err)), 0);
	assert_int_not_equal(xl4_port_range_parse("1-", &lo, &hi, err, sizeof(err)), 0);
	assert_int_not_equal(xl4_port_range_parse("a-b", &lo, &hi, err, sizeof(err)), 0);
}

/* Every port in [lo, hi] is covered exactly once and nothing outside is. */
static void check_cover(uint16_t lo, uint16_t hi)
{
	struct xl4_port_prefix pp[32];
	int n = xl4_port_range_prefixes(lo, hi, pp, 32);

	assert_true(n >= 1 && n <= 30);
	for (uint32_t port = 1; port <= 65535; port++) {
		int hits = 0;

		for (int i = 0; i < n; i++) {
			uint16_t mask = pp[i].len ? (uint16_t)(0xffff << (16 - pp[i].len)) : 0;

			hits += (port & mask) == pp[i].port;
		}
		if (hits != (port >= lo && port <= hi))
			fail_msg("range %u-%u: port %u covered %d times", lo, hi, port, hits);
	}
}

static void test_range_expansion(void **state)
{
	(void)state;
	check_cover(80, 80);
	check_cover(1000, 2000);
	check_cover(1, 65535);
	check_cover(1024, 65535);
	check_cover(2, 65534); /* the worst case: 30 prefixes */
	check_cover(32768, 32768 + 255);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_ok),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_contains),
		cmocka_unit_test(test_port_ranges),
		cmocka_unit_test(test_range_expansion),
	};

	return cmocka_run_group_tests_name("prefix", tests, NULL, NULL);
}
