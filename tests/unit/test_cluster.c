// SPDX-License-Identifier: GPL-2.0
/* When a node announces a VIP (src/cluster.c): each reason to withdraw, in the order an
 * operator reads them, and the reason given either way. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "cluster.h"

static const struct xl4_announce_in serving = {
	.attached = true,
	.min_healthy = 1,
	.usable = 2,
	.backends = 3,
};

static void test_serving_node_announces(void **state)
{
	char why[96];

	(void)state;
	assert_true(xl4_announce_decide(&serving, why, sizeof(why)));
	assert_string_equal(why, "2 of 3 backends usable");
}

static void test_min_healthy(void **state)
{
	struct xl4_announce_in in = serving;
	char why[96];

	(void)state;
	in.min_healthy = 2;
	assert_true(xl4_announce_decide(&in, why, sizeof(why))); /* exactly min_healthy */
	in.min_healthy = 3;
	assert_false(xl4_announce_decide(&in, why, sizeof(why)));
	assert_string_equal(why, "2 of 3 backends usable, below min_healthy 3");
	in = serving;
	in.usable = 0;
	assert_false(xl4_announce_decide(&in, why, sizeof(why)));
	assert_string_equal(why, "0 of 3 backends usable, below min_healthy 1");
	in.backends = 0; /* a VIP without backends */
	assert_false(xl4_announce_decide(&in, why, sizeof(why)));
}

/* The node's own state wins over the backends', and stopping over everything. */
static void test_node_state_first(void **state)
{
	struct xl4_announce_in in = serving;
	char why[96];

	(void)state;
	in.drained = true;
	assert_false(xl4_announce_decide(&in, why, sizeof(why)));
	assert_string_equal(why, "node drained");
	in.attached = false;
	assert_false(xl4_announce_decide(&in, why, sizeof(why)));
	assert_string_equal(why, "program not attached");
	in.leaving = true;
	assert_false(xl4_announce_decide(&in, why, sizeof(why)));
	assert_string_equal(why, "daemon stopping");
	in = serving;
	in.usable = 0;
	in.drained = true;
	assert_false(xl4_announce_decide(&in, why, sizeof(why)));
	assert_string_equal(why, "node drained");
}

/* Joining, a node waits for a verdict on every backend; once it has served, a new backend
 * without one (a reload adding it on every node) withdraws nothing. */
static void test_joining_waits_for_every_verdict(void **state)
{
	struct xl4_announce_in in = serving;
	char why[96];

	(void)state;
	in.joining = true;
	assert_true(xl4_announce_decide(&in, why, sizeof(why))); /* all settled */
	in.unsettled = 1;
	assert_false(xl4_announce_decide(&in, why, sizeof(why)));
	assert_string_equal(why, "joining: no verdict yet on 1 of 3 backends (health check, MAC)");
	in.joining = false;
	assert_true(xl4_announce_decide(&in, why, sizeof(why)));
	in.usable = 0; /* an unproven backend is not usable: the count says so */
	assert_false(xl4_announce_decide(&in, why, sizeof(why)));
	assert_string_equal(why, "0 of 3 backends usable, below min_healthy 1");
	in.joining = true; /* the node's own state still comes first */
	in.drained = true;
	assert_false(xl4_announce_decide(&in, why, sizeof(why)));
	assert_string_equal(why, "node drained");
}

static void test_short_buffer(void **state)
{
	char why[8];

	(void)state;
	assert_true(xl4_announce_decide(&serving, why, sizeof(why)));
	assert_int_equal(strlen(why), 7); /* cut, terminated */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_serving_node_announces),
		cmocka_unit_test(test_min_healthy),
		cmocka_unit_test(test_node_state_first),
		cmocka_unit_test(test_joining_waits_for_every_verdict),
		cmocka_unit_test(test_short_buffer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
