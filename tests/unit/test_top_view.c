// SPDX-License-Identifier: GPL-2.0
/* The screen model of xl4 top: rates from successive samples, the guard column ("-" without a
 * guard), the SYN:ACK history, drop reasons by rate, dropped sources from new events only,
 * sparklines and the width cut. */
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "top_view.h"

static json_t *status_json(unsigned long long packets, unsigned long long bytes,
			   unsigned long long flows, const char *guard)
{
	char buf[2048];
	json_t *j;

	snprintf(buf, sizeof(buf),
		 "{\"ok\": true, \"version\": \"0.1.0\", \"pid\": 42, \"uptime_s\": 3723, \"events_sampled\": 5,"
		 " \"vips\": [{\"name\": \"web\", \"vip\": \"198.18.1.1:80/tcp\", \"mode\": \"l2\","
		 "  \"counters\": {\"packets\": %llu, \"bytes\": %llu, \"new_flows\": %llu}, %s%s"
		 "  \"backends\": [{\"address\": \"198.18.2.1\", \"state\": \"active\", \"healthy\": true,"
		 "    \"weight\": 3, \"drained\": false, \"counters\": {\"packets\": %llu, \"new_flows\": 7}},"
		 "   {\"address\": \"198.18.2.2\", \"state\": \"down\", \"healthy\": false, \"weight\": 1,"
		 "    \"drained\": true, \"counters\": {\"packets\": 0, \"new_flows\": 0},"
		 "    \"health\": {\"up\": false, \"checks\": 9, \"failures\": 4, \"last_error\": \"refused\"}}]}]}",
		 packets, bytes, flows, guard ? "\"guard\": " : "", guard ? guard : "", packets);
	/* (a guard object passed in ends with its own comma) */
	j = json_loads(buf, 0, NULL);
	assert_non_null(j);
	return j;
}

static json_t *stats_json(void)
{
	json_t *j = json_loads(
		"{\"ok\": true, \"verdicts\": {\"pass\": {\"packets\": 1, \"pps\": 1.0}, \"tx\": {\"packets\": 9, \"pps\": 1500.0},"
		" \"drop\": {\"packets\": 30, \"pps\": 12.0}, \"redirect\": {\"packets\": 0, \"pps\": 0}, \"aborted\": {\"packets\": 0, \"pps\": 0}},"
		" \"drops\": {\"tcp_flags_null\": {\"packets\": 20, \"pps\": 2.0}, \"udp_port_zero\": {\"packets\": 10, \"pps\": 10.0},"
		"            \"ip4_bad_csum\": {\"packets\": 0, \"pps\": 0}}}", 0, NULL);

	assert_non_null(j);
	return j;
}

static json_t *events_json(unsigned long long total, int n, const char *src)
{
	json_t *arr = json_array();

	for (int i = 0; i < n; i++)
		json_array_append_new(arr, json_pack("{s:s, s:s}", "src", src, "reason", "tcp_flags_null"));
	return json_pack("{s:b, s:I, s:o}", "ok", 1, "total", (json_int_t)total, "events", arr);
}

static const char *find_line(const struct top_lines *l, const char *prefix)
{
	for (int i = 0; i < l->n; i++)
		if (!strncmp(l->line[i], prefix, strlen(prefix)))
			return l->line[i];
	return NULL;
}

static void sample(struct top_model *m, json_t *st, json_t *sa, json_t *ev, double t)
{
	top_model_update(m, st, sa, ev, t);
	json_decref(st);
	json_decref(sa);
	json_decref(ev);
}

static void test_rates_and_guard_absent(void **state)
{
	struct top_model m;
	struct top_lines l;
	const char *v;
	char field[8][32];

	(void)state;
	assert_int_equal(top_model_init(&m, false, 8), 0);
	sample(&m, status_json(1000, 100000, 10, NULL), stats_json(), events_json(3, 3, "198.18.0.9"), 10.0);
	assert_int_equal(top_view_render(&m, 200, "12:00:00", &l), 0);
	v = find_line(&l, "web ");
	assert_non_null(v);
	assert_non_null(strstr(v, " - ")); /* no rates yet, no guard */
	top_lines_free(&l);
	/* 2 s later: 400 packets, 40000 bytes, 6 flows more */
	sample(&m, status_json(1400, 140000, 16, NULL), stats_json(), events_json(3, 3, "198.18.0.9"), 12.0);
	assert_int_equal(top_view_render(&m, 200, "12:00:02", &l), 0);
	v = find_line(&l, "web ");
	assert_non_null(v);
	assert_int_equal(sscanf(v, "%31s %31s %31s %31s %31s %31s %31s %31s", field[0], field[1], field[2],
				field[3], field[4], field[5], field[6], field[7]), 8);
	assert_string_equal(field[3], "200");	  /* pps */
	assert_string_equal(field[4], "160k");	  /* bps: 40000 B * 8 / 2 s */
	assert_string_equal(field[5], "3");	  /* new flows per second */
	assert_string_equal(field[6], "-");	  /* guard */
	assert_string_equal(field[7], "-");	  /* SYN:ACK */
	assert_non_null(strstr(v, "█"));	  /* the PPS sparkline */
	assert_non_null(find_line(&l, "xl4 top - daemon 0.1.0 pid 42 up 0d01h02m03s - 12:00:02"));
	assert_non_null(find_line(&l, "packets/s: pass 1  tx 1.50k  drop 12  redirect 0  aborted 0   drop samples 5"));
	assert_non_null(strstr(find_line(&l, "    backend 198.18.2.1"), "up   active  weight 3"));
	assert_non_null(strstr(find_line(&l, "    backend 198.18.2.2"), "DOWN down    weight 1     drain"));
	assert_non_null(strstr(find_line(&l, "    backend 198.18.2.2"), "checks 9 failed 4: refused"));
	assert_non_null(strstr(find_line(&l, "    backend 198.18.2.1"), "pps 200"));
	/* drops by rate: udp_port_zero (10/s) right before tcp_flags_null (2/s); zeros hidden */
	assert_non_null(find_line(&l, "  udp_port_zero"));
	for (int i = 0; i + 1 < l.n; i++)
		if (!strncmp(l.line[i], "  udp_port_zero", 15))
			assert_non_null(strstr(l.line[i + 1], "tcp_flags_null"));
	assert_null(find_line(&l, "  ip4_bad_csum"));
	/* sources: the same 3 events seen twice count once */
	v = find_line(&l, "  198.18.0.9");
	assert_non_null(v);
	assert_non_null(strstr(v, " 3  tcp_flags_null"));
	top_lines_free(&l);
	/* VIPs and backends that are gone are forgotten */
	assert_int_equal(m.n_be, 2);
	sample(&m, json_loads("{\"vips\": []}", 0, NULL), NULL, NULL, 13.0);
	assert_int_equal(m.n_be, 0);
	for (int i = 0; i < TOP_MAX_VIPS; i++)
		assert_false(m.vips[i].used);
	top_model_free(&m);
}

static void test_guard_and_history(void **state)
{
	const char *g_norm = "{\"mode\": \"normal\", \"level\": \"first-drop\", \"override\": \"auto\","
			     " \"syn_per_s\": 100, \"ack_per_s\": 100, \"ratio\": 1.0, \"reason\": \"\"},";
	const char *g_emerg = "{\"mode\": \"emergency\", \"level\": \"challenge\", \"override\": \"auto\","
			      " \"syn_per_s\": 9000, \"ack_per_s\": 10, \"ratio\": 900.0, \"reason\": \"syn flood\"},";
	struct top_model m;
	struct top_lines l;
	const char *v;

	(void)state;
	assert_int_equal(top_model_init(&m, true, 8), 0);
	for (int i = 0; i < 40; i++)
		sample(&m, status_json(i * 100, i * 1000, i, i < 35 ? g_norm : g_emerg), NULL, NULL, i);
	assert_int_equal(top_view_render(&m, 240, "t", &l), 0);
	v = find_line(&l, "web ");
	assert_non_null(v);
	assert_non_null(strstr(v, "EMERG/challenge"));
	assert_non_null(strstr(v, "900.00"));
	/* ASCII sparkline of 30 cells: 25 low ratios then 5 at the top level */
	assert_non_null(strstr(v, "_________________________#####"));
	v = find_line(&l, "    guard: emergency level challenge");
	assert_non_null(v);
	assert_non_null(strstr(v, "syn/s 9000 ack/s 10 - syn flood"));
	top_lines_free(&l);
	top_model_free(&m);
}

/* Only events newer than the last sample count; a daemon restart (total goes back) reseeds. */
static void test_sources_window(void **state)
{
	struct top_model m;

	(void)state;
	assert_int_equal(top_model_init(&m, false, 8), 0);
	sample(&m, NULL, NULL, events_json(64, 64, "198.18.0.1"), 1);
	assert_int_equal(m.n_src, 1);
	assert_int_equal(m.src[0].count, 64);
	sample(&m, NULL, NULL, events_json(70, 64, "198.18.0.1"), 2); /* 6 new */
	assert_int_equal(m.src[0].count, 70);
	sample(&m, NULL, NULL, events_json(5, 5, "198.18.0.2"), 3); /* restarted daemon */
	assert_int_equal(m.n_src, 2);
	sample(&m, NULL, NULL, events_json(5, 5, "198.18.0.2"), 3 + TOP_SOURCE_WINDOW_S + 1);
	assert_int_equal(m.n_src, 0); /* nothing new for longer than the window: forgotten */
	top_model_free(&m);
}

static void test_helpers(void **state)
{
	struct top_series s = { 0 };
	char buf[128];
	struct top_model m;
	struct top_lines l;

	(void)state;
	assert_string_equal(top_si(0, buf, sizeof(buf)), "0");
	assert_string_equal(top_si(999, buf, sizeof(buf)), "999");
	assert_string_equal(top_si(1234, buf, sizeof(buf)), "1.23k");
	assert_string_equal(top_si(45600, buf, sizeof(buf)), "45.6k");
	assert_string_equal(top_si(14880000, buf, sizeof(buf)), "14.9M");
	assert_string_equal(top_si(NAN, buf, sizeof(buf)), "-");
	top_series_push(&s, 0);
	top_series_push(&s, NAN);
	top_series_push(&s, 7);
	top_series_push(&s, 3.5);
	assert_string_equal(top_sparkline(&s, 1, false, buf, sizeof(buf)), "▁ █▅");
	assert_string_equal(top_sparkline(&s, 1, true, buf, sizeof(buf)), "_ #=");
	/* a floor keeps small values low: 1.0 against a floor of 2 is mid-height */
	memset(&s, 0, sizeof(s));
	top_series_push(&s, 1.0);
	assert_string_equal(top_sparkline(&s, 2, true, buf, sizeof(buf)), "=");
	for (int i = 0; i < 100; i++)
		top_series_push(&s, i);
	assert_int_equal(s.n, TOP_HISTORY);
	/* width: every line cut to 40 columns, counting a block character as one */
	assert_int_equal(top_model_init(&m, false, 8), 0);
	for (int i = 0; i < 5; i++)
		sample(&m, status_json(i * 1000, i * 1000, i, NULL), stats_json(), NULL, i);
	assert_int_equal(top_view_render(&m, 40, "t", &l), 0);
	for (int i = 0; i < l.n; i++) {
		int cols = 0;

		for (const char *p = l.line[i]; *p; p++)
			cols += ((unsigned char)*p & 0xc0) != 0x80;
		assert_true(cols <= 40);
	}
	top_lines_free(&l);
	top_model_error(&m, "the xl4 daemon is not running");
	assert_int_equal(top_view_render(&m, 80, "t", &l), 0);
	assert_string_equal(l.line[1], "!! the xl4 daemon is not running");
	top_lines_free(&l);
	top_model_free(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rates_and_guard_absent),
		cmocka_unit_test(test_guard_and_history),
		cmocka_unit_test(test_sources_window),
		cmocka_unit_test(test_helpers),
	};

	return cmocka_run_group_tests_name("top_view", tests, NULL, NULL);
}
