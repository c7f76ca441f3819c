// SPDX-License-Identifier: GPL-2.0
/* Control commands as table rows: the dispatcher refuses fields a row does not name before its
 * handler runs, every command is named once across the tables, and docs/architecture.md lists
 * exactly the commands the tables hold. `test_ctl_table --markdown` prints that list. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "control.h"
#include "daemon.h"

#define DOC "docs/architecture.md"
#define BEGIN \
	"<!-- control commands: generated from the tables (xl4_daemon_commands_markdown) -->\n"
#define END "<!-- end of control commands -->\n"

static int calls;

static json_t *count_call(void *state, const struct xl4_ctl_cmd *c, json_t *req)
{
	(void)req;
	calls++;
	return json_pack("{s:b, s:s, s:i, s:i}", "ok", 1, "cmd", c->name, "arg", c->arg, "state",
			 *(int *)state);
}

static const struct xl4_ctl_cmd fake[] = {
	{ "thing-add", count_call, 7, XL4_CTL_KEYS("name", "ttl"), "add a thing" },
	{ "thing-list", count_call, 0, NULL, "list things" },
	{ 0 },
};

static json_t *run(const char *text)
{
	json_t *req = json_loads(text, 0, NULL);
	const struct xl4_ctl_cmd *c;
	static int state = 42;
	json_t *r;

	assert_non_null(req);
	c = xl4_ctl_find(fake, json_string_value(json_object_get(req, "cmd")));
	r = c ? xl4_ctl_run(c, &state, req) : NULL;
	json_decref(req);
	return r;
}

static void expect_error(json_t *r, const char *want)
{
	assert_non_null(r);
	assert_false(json_is_true(json_object_get(r, "ok")));
	assert_string_equal(json_string_value(json_object_get(r, "error")), want);
	json_decref(r);
}

static void test_dispatch_checks_fields_first(void **unused)
{
	json_t *r;

	(void)unused;
	calls = 0;
	expect_error(run("{\"cmd\":\"thing-add\",\"name\":\"a\",\"force\":1}"),
		     "thing-add: unknown field \"force\"");
	expect_error(run("{\"cmd\":\"thing-list\",\"name\":\"a\"}"),
		     "thing-list: unknown field \"name\"");
	assert_int_equal(calls, 0); /* refused before the handler saw it */
	r = run("{\"cmd\":\"thing-add\",\"name\":\"a\",\"ttl\":5}");
	assert_non_null(r);
	assert_true(json_is_true(json_object_get(r, "ok")));
	assert_string_equal(json_string_value(json_object_get(r, "cmd")), "thing-add");
	assert_int_equal(json_integer_value(json_object_get(r, "arg")), 7);
	assert_int_equal(json_integer_value(json_object_get(r, "state")), 42);
	json_decref(r);
	r = run("{\"cmd\":\"thing-list\"}");
	assert_true(json_is_true(json_object_get(r, "ok")));
	json_decref(r);
	assert_int_equal(calls, 2);
	/* whole names only: no prefix matching of the kind "thing-" + anything */
	assert_null(xl4_ctl_find(fake, "thing-"));
	assert_null(xl4_ctl_find(fake, "thing-addx"));
	assert_null(xl4_ctl_find(fake, "thing"));
	assert_null(xl4_ctl_find(NULL, "thing-add"));
}

static char *generated(void)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	xl4_daemon_commands_markdown(f);
	fclose(f);
	return buf;
}

static const char *const protocol[] = {
	"status", "stats", "events", "ping", "reload", "detach", "vip-add", "vip-del", "vip-list",
	"backend-add", "backend-del", "backend-weight", "backend-drain", "backend-undrain",
	"block-add", "block-del", "block-list", "allow-add", "allow-del", "allow-list", "rule-add",
	"rule-del", "rule-list", "limit-set", "limit-off", "limit-show", "guard-set", "guard-show",
	"guard-verified", "guard-unverify", NULL,
};

/* Every command once across all tables, each with fields or "none" and words. */
static void test_commands_named_once(void **unused)
{
	char *md = generated(), *line, *save = NULL;
	char seen[64][32];
	int n = 0;

	(void)unused;
	for (line = strtok_r(md, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char name[32], fields[256], sub[32], help[256];

		if (strncmp(line, "| `", 3))
			continue;
		assert_int_equal(sscanf(line, "| `%31[a-z-]` | %255[^|]| %31[a-z] | %255[^|]|",
					name, fields, sub, help), 4);
		for (int i = 0; i < n; i++)
			if (!strcmp(seen[i], name))
				fail_msg("control command '%s' is in two rows", name);
		assert_true(n < 64);
		snprintf(seen[n++], sizeof(seen[0]), "%s", name);
		assert_true(strlen(help) > 3);
	}
	/* every command the CLI and the e2e tests send is still somewhere */
	for (const char *const *want = protocol; *want; want++) {
		int found = 0;

		for (int i = 0; i < n && !found; i++)
			found = !strcmp(seen[i], *want);
		if (!found)
			fail_msg("control command '%s' is in no table", *want);
	}
	free(md);
}

static void test_doc_lists_the_tables(void **unused)
{
	char *md = generated(), *doc = NULL, *b, *e;
	size_t cap = 0;
	FILE *f = fopen(DOC, "r");
	ssize_t len;

	(void)unused;
	if (!f)
		fail_msg("cannot open %s (run from the source tree)", DOC);
	len = getdelim(&doc, &cap, '\0', f);
	fclose(f);
	assert_true(len > 0);
	b = strstr(doc, BEGIN);
	e = b ? strstr(b, END) : NULL;
	if (!b || !e)
		fail_msg("%s has no block between '%.40s...' and '%.30s...'", DOC, BEGIN, END);
	b += strlen(BEGIN);
	*e = '\0';
	if (strcmp(b, md)) {
		fprintf(stderr, "%s lists other control commands than the tables; the list now:\n%s"
			"(print it with: build/tests/unit/test_ctl_table --markdown)\n", DOC, md);
		fail_msg("%s is out of date", DOC);
	}
	free(doc);
	free(md);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dispatch_checks_fields_first),
		cmocka_unit_test(test_commands_named_once),
		cmocka_unit_test(test_doc_lists_the_tables),
	};

	if (argc > 1 && !strcmp(argv[1], "--markdown")) {
		xl4_daemon_commands_markdown(stdout);
		return 0;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
