// SPDX-License-Identifier: GPL-2.0
/* Typed option rows and verb rows: what xl4_cli_parse() stores, what it refuses and how it says
 * so, and how xl4_cli_run() dispatches verbs. */
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "cli.h"

struct t_args {
	struct xl4_args common;
	const char *name, *level;
	uint32_t rate, ttl;
	bool all;
	int n_items;
};

static const struct t_args t_defaults = { .rate = 7 };
static const char *const levels[] = { "first-drop", "challenge", NULL };

static int add_item(const struct xl4_cmd *cmd, void *args, const char *arg)
{
	struct t_args *a = args;

	if (a->n_items == 2)
		return xl4_cli_usage_error(cmd, "at most 2 items, not '%s'", arg);
	a->n_items++;
	return 0;
}

static const struct xl4_opt t_opts[] = {
	XL4_OPT_SOCKET,
	XL4_OPT_JSON("json"),
	XL4_OPT_PIN_PATH("pins"),
	XL4_OPT_STR("name", 'n', "NAME", struct t_args, name, "a name"),
	XL4_OPT_U32("rate", 0, "PPS", struct t_args, rate, 1, 4294967295u, "a rate"),
	XL4_OPT_U32("ttl", 0, "SECS", struct t_args, ttl, 1, 3600, "a ttl", .unit = " seconds"),
	XL4_OPT_ENUM("level", 0, "LEVEL", struct t_args, level, levels, "a level"),
	XL4_OPT_FLAG("all", 'a', struct t_args, all, "all"),
	XL4_OPT_FUNC("item", 'i', "ITEM", add_item, "an item"),
	{ 0 },
};

static const struct xl4_cmd t_cmd = { .name = "t", .summary = "s", .opts = t_opts };

/* What a call writes to stderr goes to a file, read back into err after. */
static FILE *capture_start(int *saved)
{
	FILE *f = tmpfile();

	fflush(stderr);
	*saved = dup(STDERR_FILENO);
	dup2(fileno(f), STDERR_FILENO);
	return f;
}

static void capture_end(FILE *f, int saved, char *err, size_t errlen)
{
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	rewind(f);
	err[fread(err, 1, errlen - 1, f)] = '\0';
	fclose(f);
}

static int count(char **argv)
{
	int argc = 0;

	while (argv[argc])
		argc++;
	optind = 1;
	return argc;
}

/* Parse argv into a fresh copy of the defaults; the stderr line lands in err. */
static int parse(struct t_args *a, char *err, size_t errlen, char **argv)
{
	int saved, rc;
	FILE *f = capture_start(&saved);

	*a = t_defaults;
	rc = xl4_cli_parse(&t_cmd, count(argv), argv, a);
	capture_end(f, saved, err, errlen);
	return rc;
}

static void test_rows_store_typed_values(void **state)
{
	char *argv[] = { "t", "-s", "/s", "--json", "--pin-path", "/p", "-n", "x", "--rate",
			 "4294967295", "--ttl=60", "--level", "challenge", "-a", "-i", "1", "-i",
			 "2", "rest", NULL };
	struct t_args a;
	char err[256];

	(void)state;
	assert_int_equal(parse(&a, err, sizeof(err), argv), 18);
	assert_string_equal(argv[18], "rest");
	assert_string_equal(err, "");
	assert_string_equal(a.common.socket, "/s");
	assert_true(a.common.json);
	assert_string_equal(a.common.pin_path, "/p");
	assert_string_equal(a.name, "x");
	assert_int_equal(a.rate, 4294967295u);
	assert_int_equal(a.ttl, 60);
	assert_string_equal(a.level, "challenge");
	assert_true(a.all);
	assert_int_equal(a.n_items, 2);
}

static void test_defaults_stay_when_not_given(void **state)
{
	char *argv[] = { "t", NULL };
	struct t_args a;
	char err[256];

	(void)state;
	assert_int_equal(parse(&a, err, sizeof(err), argv), 1);
	assert_int_equal(a.rate, 7);
	assert_null(a.common.socket);
	assert_null(a.level);
	assert_false(a.all);
}

/* Every refusal is a usage error that quotes the value as written. */
static void test_bad_values_refused_as_written(void **state)
{
	static const struct {
		const char *opt, *val, *want;
	} cases[] = {
		{ "--rate", "4294967296", "xl4 t: --rate '4294967296' is not 1..4294967295; see 'xl4 t --help'\n" },
		{ "--rate", "18446744073709551616", "xl4 t: --rate '18446744073709551616' is not 1..4294967295; see 'xl4 t --help'\n" },
		{ "--rate", "0", "xl4 t: --rate '0' is not 1..4294967295; see 'xl4 t --help'\n" },
		{ "--rate", " 5", "xl4 t: --rate ' 5' is not 1..4294967295; see 'xl4 t --help'\n" },
		{ "--rate", "", "xl4 t: --rate '' is not 1..4294967295; see 'xl4 t --help'\n" },
		{ "--ttl", "3601", "xl4 t: --ttl '3601' is not 1..3600 seconds; see 'xl4 t --help'\n" },
		{ "--ttl", "0x10", "xl4 t: --ttl '0x10' is not 1..3600 seconds; see 'xl4 t --help'\n" },
		{ "--level", "Challenge", "xl4 t: --level 'Challenge' is not one of: first-drop, challenge; see 'xl4 t --help'\n" },
		{ "--nope", NULL, "xl4 t: unknown option '--nope'; see 'xl4 t --help'\n" },
		{ "--all=1", NULL, "xl4 t: option '--all' takes no value; see 'xl4 t --help'\n" },
		{ "--level", NULL, "xl4 t: option '--level' needs a value (LEVEL); see 'xl4 t --help'\n" },
	};
	struct t_args a;
	char err[256];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *argv[] = { "t", (char *)cases[i].opt, (char *)cases[i].val, NULL };

		assert_int_equal(parse(&a, err, sizeof(err), argv), XL4_CLI_USAGE);
		if (strcmp(err, cases[i].want))
			fail_msg("%s %s: got \"%s\"", cases[i].opt, cases[i].val ?: "", err);
	}
}

static void test_func_row_can_refuse(void **state)
{
	char *argv[] = { "t", "-i", "1", "-i", "2", "-i", "3", NULL };
	struct t_args a;
	char err[256];

	(void)state;
	assert_int_equal(parse(&a, err, sizeof(err), argv), XL4_CLI_USAGE);
	assert_string_equal(err, "xl4 t: at most 2 items, not '3'; see 'xl4 t --help'\n");
}

static void test_help_stops_parsing(void **state)
{
	char *argv[] = { "t", "--help", "--rate", "0", NULL };
	int saved = dup(STDOUT_FILENO), null = open("/dev/null", O_WRONLY);
	struct t_args a;
	char err[256];
	int rc;

	(void)state;
	fflush(stdout);
	dup2(null, STDOUT_FILENO);
	rc = parse(&a, err, sizeof(err), argv);
	fflush(stdout);
	dup2(saved, STDOUT_FILENO);
	close(saved);
	close(null);
	assert_int_equal(rc, XL4_CLI_HELP);
	assert_int_equal(a.rate, 7);
}

/* ---- verbs ---- */

static const struct xl4_verb *ran;
static int ran_argc;

static int record(const struct xl4_cmd *cmd, const struct xl4_verb *verb, void *args, int argc,
		  char **argv)
{
	(void)cmd, (void)args, (void)argv;
	ran = verb;
	ran_argc = argc;
	return 0;
}

static const struct xl4_verb v_verbs[] = {
	{ "add", "NAME ADDR", 2, 2, record, "v-add" },
	{ "show", "[NAME]", 0, 1, record, "v-show" },
	{ "list", NULL, 0, 0, record, "v-list" },
	{ "raw", NULL, 0, -1, record, "v-raw" },
	{ 0 },
};

static const struct xl4_cmd v_cmd = {
	.name = "v", .summary = "s", .opts = t_opts, XL4_DEFAULTS(struct t_args, t_defaults),
	.verbs = v_verbs,
};

static int run_v(char *err, size_t errlen, char **argv)
{
	int saved, rc;
	FILE *f = capture_start(&saved);

	ran = NULL;
	rc = xl4_cli_run(&v_cmd, count(argv), argv);
	capture_end(f, saved, err, errlen);
	return rc;
}

static void test_verbs_dispatched_by_row(void **state)
{
	static const struct {
		const char *argv[6];
		int rc;
		const char *verb;
		int argc;
		const char *err;
	} cases[] = {
		{ { "v", "add", "a", "b" }, 0, "add", 2, "" },
		{ { "v", "--json", "show" }, 0, "show", 0, "" },
		{ { "v", "show", "a" }, 0, "show", 1, "" },
		{ { "v", "raw", "a", "b", "c" }, 0, "raw", 3, "" },
		{ { "v" }, 2, NULL, 0, "xl4 v: missing action: add, show, list or raw; see 'xl4 v --help'\n" },
		{ { "v", "frob", "a" }, 2, NULL, 0, "xl4 v: unknown action 'frob' (add, show, list, raw); see 'xl4 v --help'\n" },
		{ { "v", "add", "a" }, 2, NULL, 0, "xl4 v: usage: xl4 v add NAME ADDR; see 'xl4 v --help'\n" },
		{ { "v", "add", "a", "b", "c" }, 2, NULL, 0, "xl4 v: usage: xl4 v add NAME ADDR; see 'xl4 v --help'\n" },
		{ { "v", "show", "a", "b" }, 2, NULL, 0, "xl4 v: usage: xl4 v show [NAME]; see 'xl4 v --help'\n" },
		{ { "v", "list", "x" }, 2, NULL, 0, "xl4 v: unexpected argument 'x'; see 'xl4 v --help'\n" },
		{ { "v", "list", "--rate", "0" }, 2, NULL, 0, "xl4 v: --rate '0' is not 1..4294967295; see 'xl4 v --help'\n" },
	};
	char err[256];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *argv[6];

		memcpy(argv, cases[i].argv, sizeof(argv));
		assert_int_equal(run_v(err, sizeof(err), argv), cases[i].rc);
		if (strcmp(err, cases[i].err))
			fail_msg("case %zu: got \"%s\"", i, err);
		if (!cases[i].verb) {
			assert_null(ran);
			continue;
		}
		assert_non_null(ran);
		assert_string_equal(ran->name, cases[i].verb);
		assert_int_equal(ran_argc, cases[i].argc);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rows_store_typed_values),
		cmocka_unit_test(test_defaults_stay_when_not_given),
		cmocka_unit_test(test_bad_values_refused_as_written),
		cmocka_unit_test(test_func_row_can_refuse),
		cmocka_unit_test(test_help_stops_parsing),
		cmocka_unit_test(test_verbs_dispatched_by_row),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
