// SPDX-License-Identifier: GPL-2.0
/* The metrics text: every drop reason present, values from the totals and the status JSON,
 * label values escaped, each family's HELP and TYPE once and before its samples. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "metrics.h"
#include "names.h"

static int count(const char *hay, const char *needle)
{
	int n = 0;

	for (const char *p = hay; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

static void test_render(void **state)
{
	struct xl4_totals t = { 0 };
	json_t *vips = json_loads(
		"[{\"name\": \"web\", \"vip\": \"198.18.1.1:80/tcp\", \"mode\": \"l2\","
		"  \"counters\": {\"packets\": 7, \"bytes\": 700, \"new_flows\": 3, \"ct_hits\": 4,"
		"                 \"ct_misses\": 3, \"ct_insert_capped\": 0},"
		"  \"backends\": [{\"address\": \"a\\\"b\\\\c\\nd\", \"state\": \"drained\", \"healthy\": true,"
		"                 \"weight\": 2, \"counters\": {\"packets\": 5, \"new_flows\": 2}}]}]",
		0, NULL);
	json_t *rules = json_loads("[{\"id\": 4, \"action\": \"drop\", \"counters\": {\"matched\": 9, \"dropped\": 8}}]", 0, NULL);
	json_t *filter = json_loads("{\"rules\": 1, \"expiring_entries\": 0, \"limit\": {\"on\": false,"
				    " \"counters\": {\"matched\": 0, \"dropped\": 0}}}", 0, NULL);
	struct xl4_metrics_input in = { .totals = &t, .vips = vips, .rules = rules, .filter = filter,
					.started = 1700000000 };
	char line[256], *text;
	size_t len;

	(void)state;
	assert_non_null(vips);
	t.c[XL4_STAT_REASON_BASE + 1].packets = 11;
	t.c[XL4_V_PASS].bytes = 1234;
	text = xl4_metrics_render(&in, &len);
	assert_non_null(text);
	assert_int_equal(strlen(text), len);
	assert_int_equal(text[len - 1], '\n');
	assert_int_equal(count(text, "\nxl4_drops_total{reason=\""), XL4_REASON_MAX - 1);
	snprintf(line, sizeof(line), "\nxl4_drops_total{reason=\"%s\"} 11\n", xl4_reason_name(1));
	assert_non_null(strstr(text, line));
	assert_non_null(strstr(text, "\nxl4_bytes_total{verdict=\"pass\"} 1234\n"));
	assert_non_null(strstr(text, "\nxl4_daemon_start_time_seconds 1700000000\n"));
	assert_non_null(strstr(text, "\nxl4_vip_new_flows_total{vip=\"web\"} 3\n"));
	assert_non_null(strstr(text, "\nxl4_backend_packets_total{vip=\"web\",backend=\"a\\\"b\\\\c\\nd\"} 5\n"));
	assert_non_null(strstr(text, "backend=\"a\\\"b\\\\c\\nd\",state=\"drained\"} 1\n"));
	assert_non_null(strstr(text, "backend=\"a\\\"b\\\\c\\nd\",state=\"active\"} 0\n"));
	assert_non_null(strstr(text, "\nxl4_filter_rule_dropped_packets_total{rule=\"4\",action=\"drop\"} 8\n"));
	/* HELP and TYPE once per family, and before its first sample */
	for (const char *p = text; (p = strstr(p, "# TYPE ")); p++) {
		char name[128], help[160], *first;

		sscanf(p + 7, "%127s", name);
		snprintf(help, sizeof(help), "# HELP %s ", name);
		assert_int_equal(count(text, help), 1);
		snprintf(help, sizeof(help), "# TYPE %s ", name);
		assert_int_equal(count(text, help), 1);
		snprintf(help, sizeof(help), "\n%s", name);
		first = strstr(text, help);
		if (first)
			assert_true(first > p);
	}
	free(text);
	json_decref(vips);
	json_decref(rules);
	json_decref(filter);
}

/* xl4_conntrack_entries: the flows of both families' tables, each map still its own series */
static void test_conntrack_both_tables(void **state)
{
	struct xl4_totals t = { 0 };
	json_t *maps = json_loads(
		"[{\"name\": \"xl4_ct4_v1\", \"type\": \"lru_hash\", \"entries\": 23, \"capacity\": 262144,"
		"  \"lru_lists\": 2},"
		" {\"name\": \"xl4_ct_v1\", \"type\": \"lru_hash\", \"entries\": 5, \"capacity\": 1024},"
		" {\"name\": \"xl4_rate_v1\", \"type\": \"lru_hash\", \"entries\": 7, \"capacity\": 99,"
		"  \"lru_lists\": 1}]",
		0, NULL);
	struct xl4_metrics_input in = { .totals = &t, .maps = maps };
	char *text;
	size_t len;

	(void)state;
	assert_non_null(maps);
	text = xl4_metrics_render(&in, &len);
	assert_non_null(text);
	assert_non_null(strstr(text, "\nxl4_conntrack_entries 28\n"));
	assert_non_null(strstr(text, "\nxl4_map_entries{map=\"xl4_ct4_v1\"} 23\n"));
	assert_non_null(strstr(text, "\nxl4_map_capacity_entries{map=\"xl4_ct_v1\"} 1024\n"));
	/* the LRU lists where the map says (per-CPU: 2; shared: 1), none where it does not */
	assert_non_null(strstr(text, "\nxl4_map_lru_lists{map=\"xl4_ct4_v1\"} 2\n"));
	assert_non_null(strstr(text, "\nxl4_map_lru_lists{map=\"xl4_rate_v1\"} 1\n"));
	assert_null(strstr(text, "xl4_map_lru_lists{map=\"xl4_ct_v1\"}"));
	free(text);
	json_decref(maps);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_render),
		cmocka_unit_test(test_conntrack_both_tables),
	};

	return cmocka_run_group_tests_name("metrics", tests, NULL, NULL);
}
