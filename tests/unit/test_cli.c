// SPDX-License-Identifier: GPL-2.0
/* CLI tables and names: option parsing errors, number parsing, reason names. */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "cli.h"
#include "names.h"

static const struct xl4_opt opts[] = {
	{ "config", 'c', "FILE", "a file" },
	{ "json", 256, NULL, "json" },
	{ 0 },
};

static int dummy_run(const struct xl4_cmd *c, int argc, char **argv)
{
	(void)c, (void)argc, (void)argv;
	return 0;
}

static const struct xl4_cmd cmd = { .name = "t", .summary = "s", .opts = opts, .run = dummy_run };

static int parse(int argc, char **argv, const char **config, int *json)
{
	const char *arg;
	int c;

	optind = 1;
	while ((c = xl4_cli_next(&cmd, argc, argv, &arg)) != -1) {
		if (c == 'c')
			*config = arg;
		else if (c == 256)
			*json = 1;
		else
			return c;
	}
	return 0;
}

static void test_options_parse(void **state)
{
	char *argv[] = { "t", "-c", "f.conf", "--json", "rest", NULL };
	const char *config = NULL;
	int json = 0;

	(void)state;
	assert_int_equal(parse(5, argv, &config, &json), 0);
	assert_string_equal(config, "f.conf");
	assert_int_equal(json, 1);
	assert_string_equal(argv[optind], "rest");
}

static void test_unknown_and_missing(void **state)
{
	char *a1[] = { "t", "--nope", NULL };
	char *a2[] = { "t", "-c", NULL };
	char *a3[] = { "t", "-x", NULL };
	const char *config = NULL;
	int json = 0;

	(void)state;
	assert_int_equal(parse(2, a1, &config, &json), '?');
	assert_int_equal(parse(2, a2, &config, &json), '?');
	assert_int_equal(parse(2, a3, &config, &json), '?');
}

static void test_help_is_generated_from_table(void **state)
{
	char buf[2048] = "";
	FILE *f = fmemopen(buf, sizeof(buf), "w");

	(void)state;
	xl4_cli_help(&cmd, f);
	fclose(f);
	assert_non_null(strstr(buf, "-c, --config FILE"));
	assert_non_null(strstr(buf, "--json"));
	assert_non_null(strstr(buf, "-h, --help"));
}

static void test_parse_uint(void **state)
{
	unsigned long v;

	(void)state;
	assert_int_equal(xl4_parse_uint("5", 1, 10, &v), 0);
	assert_int_equal(v, 5);
	assert_int_not_equal(xl4_parse_uint("0", 1, 10, &v), 0);
	assert_int_not_equal(xl4_parse_uint("11", 1, 10, &v), 0);
	assert_int_not_equal(xl4_parse_uint("5x", 1, 10, &v), 0);
	assert_int_not_equal(xl4_parse_uint("-1", 0, 10, &v), 0);
	assert_int_not_equal(xl4_parse_uint("", 0, 10, &v), 0);
	assert_int_not_equal(xl4_parse_uint(NULL, 0, 10, &v), 0);
}

/* The one integer parser: edges of 64 bits, signs, hex, suffixes and junk. */
static void test_parse_int(void **state)
{
	const unsigned int cfg = XL4_NUM_SIGN | XL4_NUM_HEX | XL4_NUM_LSUFFIX;
	long long v = 0;
	unsigned long u = 0;

	(void)state;
	assert_int_equal(xl4_parse_int("9223372036854775807", LLONG_MIN, LLONG_MAX, cfg, &v), 0);
	assert_true(v == LLONG_MAX);
	assert_int_equal(xl4_parse_int("-9223372036854775808", LLONG_MIN, LLONG_MAX, cfg, &v), 0);
	assert_true(v == LLONG_MIN);
	assert_int_equal(xl4_parse_int("9223372036854775808", LLONG_MIN, LLONG_MAX, cfg, &v), -ERANGE);
	assert_int_equal(xl4_parse_int("-9223372036854775809", LLONG_MIN, LLONG_MAX, cfg, &v), -ERANGE);
	assert_int_equal(xl4_parse_int("18446744073709551616", LLONG_MIN, LLONG_MAX, cfg, &v), -ERANGE);
	assert_int_equal(xl4_parse_int("4294967295", 0, 4294967295LL, cfg, &v), 0);
	assert_int_equal(xl4_parse_int("4294967296", 0, 4294967295LL, cfg, &v), -ERANGE);
	assert_int_equal(xl4_parse_int("0xffffffff", 0, 4294967295LL, cfg, &v), 0);
	assert_true(v == 4294967295LL);
	assert_int_equal(xl4_parse_int("0X100000000", 0, 4294967295LL, cfg, &v), -ERANGE);
	assert_int_equal(xl4_parse_int("010", 0, 100, cfg, &v), 0);
	assert_int_equal(v, 10); /* decimal, not octal */
	assert_int_equal(xl4_parse_int("7LL", 0, 100, cfg, &v), 0);
	assert_int_equal(v, 7);
	assert_int_equal(xl4_parse_int("-0", 0, 100, cfg, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(xl4_parse_int("7L", 0, 100, 0, &v), -EINVAL);
	assert_int_equal(xl4_parse_int("0x7", 0, 100, 0, &v), -EINVAL);
	assert_int_equal(xl4_parse_int("-7", -100, 100, 0, &v), -EINVAL);
	const char *junk[] = { "", " 7", "7 ", "7x", "7LLL", "7l", "0x", "0x0x7", "--7", "+-7", "1e3",
			       "7.0", "0xg", NULL };
	for (int i = 0; junk[i]; i++)
		if (xl4_parse_int(junk[i], LLONG_MIN, LLONG_MAX, cfg, &v) != -EINVAL)
			fail_msg("'%s' taken as a number", junk[i]);
	assert_int_not_equal(xl4_parse_uint(" 5", 1, 10, &u), 0);
	assert_int_not_equal(xl4_parse_uint("+5", 1, 10, &u), 0);
	assert_int_equal(xl4_parse_uint("18446744073709551615", 0, ULONG_MAX, &u), -ERANGE);
}

static void test_reason_names_unique_and_roundtrip(void **state)
{
	(void)state;
	for (unsigned i = 0; i < XL4_REASON_MAX; i++) {
		const char *n = xl4_reason_name(i);

		assert_non_null(n);
		assert_int_equal(xl4_reason_from_name(n), (int)i);
		assert_true(strlen(xl4_reason_text(i)) > 0);
	}
	assert_int_equal(xl4_reason_from_name("no_such_reason"), -1);
	assert_string_equal(xl4_verdict_name(1), "drop");
	assert_string_equal(xl4_verdict_name(2), "pass");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_options_parse),
		cmocka_unit_test(test_unknown_and_missing),
		cmocka_unit_test(test_help_is_generated_from_table),
		cmocka_unit_test(test_parse_uint),
		cmocka_unit_test(test_parse_int),
		cmocka_unit_test(test_reason_names_unique_and_roundtrip),
	};

	return cmocka_run_group_tests_name("cli", tests, NULL, NULL);
}
