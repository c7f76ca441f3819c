// SPDX-License-Identifier: GPL-2.0
/* VIP, backend, MAC, mode and name parsing shared by the config, the CLI and the socket. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <cmocka.h>

#include "lb_spec.h"
#include "xl4/abi.h"

static void test_vip_ok(void **state)
{
	struct xl4_vip_spec v = { 0 };
	char err[160], s[96];

	(void)state;
	assert_int_equal(xl4_parse_vip_addr("198.18.1.1:80/tcp", &v, err, sizeof(err)), 0);
	assert_int_equal(v.family, 4);
	assert_int_equal(v.port, 80);
	assert_int_equal(v.proto, IPPROTO_TCP);
	xl4_vip_str(&v, s, sizeof(s));
	assert_string_equal(s, "198.18.1.1:80/tcp");
	assert_int_equal(xl4_parse_vip_addr("[2001:db8:1::1]:53/udp", &v, err, sizeof(err)), 0);
	assert_int_equal(v.family, 6);
	assert_int_equal(v.proto, IPPROTO_UDP);
	xl4_vip_str(&v, s, sizeof(s));
	assert_string_equal(s, "[2001:db8:1::1]:53/udp");
}

static void test_vip_errors(void **state)
{
	static const char *const bad[] = {
		"198.18.1.1:80", "198.18.1.1/tcp", "198.18.1.1:0/tcp", "198.18.1.1:65536/tcp",
		"198.18.1.1:80/icmp", "[2001:db8::1:80/tcp", "2001:db8::1:80/tcp", "x:80/tcp",
		"224.0.0.1:80/tcp", "0.0.0.0:80/tcp", "127.0.0.1:80/tcp", "[ff02::1]:80/tcp",
		"[::1]:80/tcp", "198.18.1.1:8x/tcp", "",
	};
	struct xl4_vip_spec v;
	char err[160];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		if (xl4_parse_vip_addr(bad[i], &v, err, sizeof(err)) == 0)
			fail_msg("'%s' accepted", bad[i]);
		if (!err[0])
			fail_msg("'%s': no error text", bad[i]);
	}
}

static void test_backend(void **state)
{
	struct xl4_backend_spec a = { 0 }, b = { 0 };
	char err[160], s[64];

	(void)state;
	assert_int_equal(xl4_parse_backend_addr("198.18.2.1", &a, err, sizeof(err)), 0);
	assert_int_equal(a.port, 0);
	assert_int_equal(xl4_parse_backend_addr("198.18.2.1:8080", &b, err, sizeof(err)), 0);
	assert_int_equal(b.port, 8080);
	assert_false(xl4_backend_same(&a, &b));
	xl4_backend_str(&b, s, sizeof(s));
	assert_string_equal(s, "198.18.2.1:8080");
	assert_int_equal(xl4_parse_backend_addr("2001:db8:2::1", &a, err, sizeof(err)), 0);
	assert_int_equal(a.family, 6);
	assert_int_equal(xl4_parse_backend_addr("[2001:db8:2::1]:8080", &b, err, sizeof(err)), 0);
	assert_int_equal(b.port, 8080);
	xl4_backend_str(&b, s, sizeof(s));
	assert_string_equal(s, "[2001:db8:2::1]:8080");
	assert_int_not_equal(xl4_parse_backend_addr("198.18.2.1:", &a, err, sizeof(err)), 0);
	assert_int_not_equal(xl4_parse_backend_addr("255.255.255.255", &a, err, sizeof(err)), 0);
}

static void test_mac_mode_name(void **state)
{
	uint8_t mac[6], mode;
	char name[XL4_NAME_MAX], err[160];

	(void)state;
	assert_int_equal(xl4_parse_mac("02:00:00:00:02:03", mac), 0);
	assert_int_equal(mac[5], 3);
	assert_int_not_equal(xl4_parse_mac("01:00:5e:00:00:01", mac), 0); /* multicast */
	assert_int_not_equal(xl4_parse_mac("02:00:00:00:02", mac), 0);
	assert_int_not_equal(xl4_parse_mac("02:00:00:00:02:03:04", mac), 0);
	assert_int_not_equal(xl4_parse_mac("zz:00:00:00:02:03", mac), 0);
	/* sscanf %2x took these as 02 */
	assert_int_not_equal(xl4_parse_mac(" 2:00:00:00:02:03", mac), 0);
	assert_int_not_equal(xl4_parse_mac("+2:00:00:00:02:03", mac), 0);
	assert_int_not_equal(xl4_parse_mac("02:+0:00:00:02:03", mac), 0);
	assert_int_not_equal(xl4_parse_mac("02:00:00:00:02:03 ", mac), 0);
	assert_int_equal(xl4_parse_mode("l2", &mode), 0);
	assert_int_equal(mode, XL4_FWD_L2);
	assert_int_equal(xl4_parse_mode("ip6ip6", &mode), 0);
	assert_int_equal(mode, XL4_FWD_IPIP);
	assert_int_not_equal(xl4_parse_mode("nat", &mode), 0);
	assert_string_equal(xl4_fwd_mode_name(XL4_FWD_PORT), "port");
	assert_int_equal(xl4_parse_name("web-1.a_b", name, err, sizeof(err)), 0);
	assert_int_not_equal(xl4_parse_name("", name, err, sizeof(err)), 0);
	assert_int_not_equal(xl4_parse_name("a b", name, err, sizeof(err)), 0);
	assert_int_not_equal(xl4_parse_name("0123456789012345678901234567890123", name, err, sizeof(err)), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vip_ok),
		cmocka_unit_test(test_vip_errors),
		cmocka_unit_test(test_backend),
		cmocka_unit_test(test_mac_mode_name),
	};

	return cmocka_run_group_tests_name("lb_spec", tests, NULL, NULL);
}
