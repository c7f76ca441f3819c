// SPDX-License-Identifier: GPL-2.0
/* Config parser: valid files, and every kind of bad input gives one error naming
 * file:line: key, while the caller's config stays untouched. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "config.h"
#include "xl4/abi.h"

static void test_defaults(void **state)
{
	struct xl4_config c;

	(void)state;
	xl4_config_defaults(&c);
	assert_int_equal(c.n_ifaces, 0);
	assert_int_equal(c.mode, XL4_MODE_AUTO);
	assert_string_equal(c.pin_path, "/sys/fs/bpf/xl4");
	assert_string_equal(c.control_socket, "/run/xl4/xl4.sock");
	assert_int_equal(c.frag_policy, XL4_FRAG_PASS);
	assert_int_equal(c.sample_per_sec, 100);
}

static void test_full_config(void **state)
{
	const char *text = "# comment\n"
			   "interfaces = [\"eth0\", \"eth1\"];\n"
			   "xdp_mode = \"skb\";\n"
			   "pin_path = \"/sys/fs/bpf/xl4-b\";\n"
			   "control_socket = \"/run/xl4-b.sock\";\n"
			   "parser: { fragments = \"drop\"; };\n"
			   "events: { samples_per_second = 7; };\n";
	char err[XL4_CONFIG_ERR_MAX] = "";
	struct xl4_config c;

	(void)state;
	xl4_config_defaults(&c);
	assert_int_equal(xl4_config_parse(text, "t.conf", &c, err, sizeof(err)), 0);
	assert_int_equal(c.n_ifaces, 2);
	assert_string_equal(c.ifaces[0], "eth0");
	assert_string_equal(c.ifaces[1], "eth1");
	assert_int_equal(c.mode, XL4_MODE_SKB);
	assert_string_equal(c.pin_path, "/sys/fs/bpf/xl4-b");
	assert_string_equal(c.control_socket, "/run/xl4-b.sock");
	assert_int_equal(c.frag_policy, XL4_FRAG_DROP);
	assert_int_equal(c.sample_per_sec, 7);
}

static void test_single_interface_string(void **state)
{
	char err[XL4_CONFIG_ERR_MAX];
	struct xl4_config c;

	(void)state;
	xl4_config_defaults(&c);
	assert_int_equal(xl4_config_parse("interfaces = \"veth0\";", "t", &c, err, sizeof(err)), 0);
	assert_int_equal(c.n_ifaces, 1);
	assert_string_equal(c.ifaces[0], "veth0");
}

struct bad_case {
	const char *text;
	const char *expect; /* the error must contain this */
};

static const struct bad_case bad_cases[] = {
	{ "interfaces = [\"eth0\"];\nxdp_mode = native;\n", "bad.conf:2: syntax error" },
	{ "interfaces = [\"eth0\"];\nxdpmode = \"native\";\n", "bad.conf:2: xdpmode: unknown key" },
	{ "xdp_mode = \"turbo\";\n", "bad.conf:1: xdp_mode: 'turbo' is not one of: auto, native, skb" },
	{ "xdp_mode = 3;\n", "bad.conf:1: xdp_mode: expected a string" },
	{ "\n\nparser: { fragments = \"maybe\"; };\n", "bad.conf:3: parser.fragments: 'maybe' is not one of" },
	{ "parser: { frags = \"drop\"; };\n", "bad.conf:1: parser.frags: unknown key" },
	{ "parser = 1;\n", "bad.conf:1: parser: expected a group" },
	{ "events: { samples_per_second = -1; };\n", "bad.conf:1: events.samples_per_second: -1 is out of range" },
	{ "events: { samples_per_second = \"x\"; };\n", "events.samples_per_second: expected an integer" },
	{ "interfaces = [\"eth0\", \"eth0\"];\n", "interfaces: interface 'eth0' given twice" },
	{ "interfaces = [\"a-very-long-interface-name\"];\n", "is not a valid interface name" },
	{ "interfaces = [1];\n", "interfaces: element 1 is not a string" },
	{ "pin_path = \"/tmp/x\";\n", "bad.conf:1: pin_path: must be a directory under /sys/fs/bpf/" },
	{ "control_socket = \"relative.sock\";\n", "control_socket: must be an absolute path" },
	{ "control_socket = \"\";\n", "control_socket: must not be empty" },
	{ "lb: { table_size = 65536; };\n", "bad.conf:1: lb.table_size: 65536 is not prime" },
	{ "lb: { seed = -1; };\n", "lb.seed: -1 is out of range" },
	{ "lb: { ipip_source_v4 = \"198.18.0.0/8\"; };\n", "lb.ipip_source_v4: '198.18.0.0/8': expected an IPv4 prefix" },
	{ "lb: { conntrack: { max_entries = 10; }; };\n", "conntrack.max_entries: 10 is out of range" },
	{ "vips = ( { name = \"a\"; address = \"198.18.1.1:80\"; } );\n", "bad.conf:1: vips[0].address: " },
	{ "vips = ( { name = \"a\"; address = \"198.18.1.1:80\"; } );\n", "expected ADDR:PORT/tcp" },
	{ "vips = ( { name = \"a\"; address = \"198.18.1.1:80/sctp\"; } );\n", "protocol must be tcp or udp" },
	{ "vips = ( { name = \"a\"; address = \"198.18.1.1:80/tcp\"; mode = \"nat\"; } );\n", "mode: 'nat' is not one of: l2, port, ipip" },
	{ "vips = ( { name = \"a\"; address = \"198.18.1.1:80/tcp\"; },\n { name = \"a\"; address = \"198.18.1.2:80/tcp\"; } );\n", "bad.conf:2: vips[1].name: VIP name 'a' is used twice" },
	{ "vips = ( { name = \"a\"; address = \"198.18.1.1:80/tcp\"; },\n { name = \"b\"; address = \"198.18.1.1:80/tcp\"; } );\n", "is also VIP 'a'" },
	{ "vips = ( { name = \"a\"; address = \"198.18.1.1:80/tcp\";\n backends = ( { address = \"2001:db8::5\"; } ); } );\n", "bad.conf:2: vips[0].backends[0].address: '2001:db8::5' is IPv6 but the VIP is IPv4" },
	{ "vips = ( { name = \"a\"; address = \"198.18.1.1:80/tcp\";\n backends = ( { address = \"198.18.2.1:8080\"; } ); } );\n", "a backend port needs mode \"port\"" },
	{ "vips = ( { name = \"a\"; address = \"198.18.1.1:80/tcp\";\n backends = ( { address = \"198.18.2.1\"; }, { address = \"198.18.2.1\"; } ); } );\n", "is listed twice" },
	{ "vips = ( { name = \"a\"; address = \"198.18.1.1:80/tcp\";\n backends = ( { address = \"198.18.2.1\"; weight = 0; } ); } );\n", "weight: 0 is out of range 1..65535" },
	{ "vips = ( { name = \"a\"; address = \"198.18.1.1:80/tcp\";\n backends = ( { address = \"198.18.2.1\"; mac = \"ff:ff:ff:ff:ff:ff\"; } ); } );\n", "is not a unicast MAC" },
	{ "vips = ( { name = \"a\"; address = \"198.18.1.1:80/tcp\";\n health: { interval_ms = 200; timeout_ms = 300; }; } );\n", "must be shorter than interval_ms" },
	{ "vips = ( { name = \"a b\"; address = \"198.18.1.1:80/tcp\"; } );\n", "only letters, digits" },
	{ "vips = ( { name = \"a\"; address = \"224.0.0.1:80/tcp\"; } );\n", "not a unicast address" },
};

static void test_bad_configs_leave_running_config(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		char err[XL4_CONFIG_ERR_MAX] = "";
		struct xl4_config c, before;

		xl4_config_defaults(&c);
		strcpy(c.ifaces[0], "keep0");
		c.n_ifaces = 1;
		before = c;
		if (xl4_config_parse(bad_cases[i].text, "bad.conf", &c, err, sizeof(err)) == 0)
			fail_msg("case %zu accepted: %s", i, bad_cases[i].text);
		if (!strstr(err, bad_cases[i].expect))
			fail_msg("case %zu: error '%s' lacks '%s'", i, err, bad_cases[i].expect);
		if (memcmp(&c, &before, sizeof(c)))
			fail_msg("case %zu: a failed load changed the config", i);
	}
}

static void test_missing_file(void **state)
{
	char err[XL4_CONFIG_ERR_MAX] = "";
	struct xl4_config c;

	(void)state;
	xl4_config_defaults(&c);
	assert_int_not_equal(xl4_config_load("/nonexistent/xl4.conf", &c, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "/nonexistent/xl4.conf: cannot read"));
}

static void test_file_roundtrip(void **state)
{
	char path[] = "/tmp/xl4-unit-XXXXXX", err[XL4_CONFIG_ERR_MAX] = "";
	struct xl4_config c;
	int fd = mkstemp(path);
	const char *text = "interfaces = [\"veth9\"];\n";

	(void)state;
	xl4_config_defaults(&c);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (int)strlen(text));
	close(fd);
	assert_int_equal(xl4_config_load(path, &c, err, sizeof(err)), 0);
	assert_string_equal(c.path, path);
	assert_string_equal(c.ifaces[0], "veth9");
	unlink(path);
}

static void test_example_config_loads(void **state)
{
	char err[XL4_CONFIG_ERR_MAX] = "";
	struct xl4_config c;

	(void)state;
	xl4_config_defaults(&c);
	if (xl4_config_load("examples/xl4.conf", &c, err, sizeof(err)))
		fail_msg("examples/xl4.conf: %s", err);
	assert_int_equal(c.n_vips, 2);
	assert_int_equal(c.vips[0].n_backends, 3);
	assert_true(c.lb.seed_set);
	xl4_config_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_full_config),
		cmocka_unit_test(test_single_interface_string),
		cmocka_unit_test(test_bad_configs_leave_running_config),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_file_roundtrip),
		cmocka_unit_test(test_example_config_loads),
	};

	return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
