// SPDX-License-Identifier: GPL-2.0
/* Structured log lines: logfmt quoting and escaping, field order, one line whatever the value. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "log.h"

static void test_quoting(void **state)
{
	struct xl4_kv kv = XL4_KV_INIT;

	(void)state;
	xl4_kv(&kv, "vip", "%s", "198.18.1.1:80/tcp");
	xl4_kv(&kv, "backends", "%d", 3);
	xl4_kv(&kv, "reason", "%s", "connect: Connection refused");
	xl4_kv(&kv, "empty", "%s", "");
	xl4_kv(&kv, "q", "%s", "a\"b\\c=d");
	xl4_kv(&kv, "nl", "%s", "one\ntwo\tthree");
	assert_string_equal(kv.buf, "vip=198.18.1.1:80/tcp backends=3 reason=\"connect: Connection refused\" "
				    "empty=\"\" q=\"a\\\"b\\\\c=d\" nl=\"one\\ntwo three\"");
}

static void test_line(void **state)
{
	struct xl4_kv kv = XL4_KV_INIT;
	char line[256];

	(void)state;
	xl4_kv(&kv, "vip", "%s", "web");
	xl4_logfmt_line(line, sizeof(line), XL4_LOG_INFO, "2026-11-26T16:40:00.123Z", "vip_added", kv.buf);
	assert_string_equal(line, "level=info time=2026-11-26T16:40:00.123Z event=vip_added vip=web");
	xl4_logfmt_line(line, sizeof(line), XL4_LOG_WARN, "t", "message", "msg=\"x y\"");
	assert_string_equal(line, "level=warn time=t event=message msg=\"x y\"");
}

/* A value longer than the buffer is cut, never overflows, and the buffer stays a C string. */
static void test_overflow(void **state)
{
	struct xl4_kv kv = XL4_KV_INIT;
	char big[2000], small[32];
	size_t len = 0;

	(void)state;
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	for (int i = 0; i < 4; i++)
		xl4_kv(&kv, "k", "%s", big);
	assert_true(strlen(kv.buf) < sizeof(kv.buf));
	small[0] = '\0';
	xl4_logfmt_pair(small, sizeof(small), &len, "key", big);
	assert_int_equal(strlen(small), sizeof(small) - 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_quoting),
		cmocka_unit_test(test_line),
		cmocka_unit_test(test_overflow),
	};

	return cmocka_run_group_tests_name("log", tests, NULL, NULL);
}
