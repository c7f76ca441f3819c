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
#include <fcntl.h>
#include <pthread.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <cmocka.h>

#include <netinet/in.h>

#include "conf_include.h"
#include "config.h"
#include "engine_opts.h"
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
	assert_int_equal(c.lb.icmp_errors_per_sec, 1000);
	/* per-CPU LRU lists unless pins or CPUs say otherwise: not chosen by a file */
	assert_true(c.lb.ct_per_cpu_lru);
	assert_false(c.lb.ct_per_cpu_lru_set);
}

/* A file that names per_cpu_lru decides it, either way; one that does not leaves it open. */
static void test_per_cpu_lru_given(void **state)
{
	char err[XL4_CONFIG_ERR_MAX] = "";
	struct xl4_config c;

	(void)state;
	xl4_config_defaults(&c);
	assert_int_equal(xl4_config_parse("lb: { conntrack: { per_cpu_lru = false; }; };", "t", &c,
					  err, sizeof(err)), 0);
	assert_false(c.lb.ct_per_cpu_lru);
	assert_true(c.lb.ct_per_cpu_lru_set);
	xl4_config_defaults(&c);
	assert_int_equal(xl4_config_parse("lb: { conntrack: { per_cpu_lru = true; }; };", "t", &c,
					  err, sizeof(err)), 0);
	assert_true(c.lb.ct_per_cpu_lru);
	assert_true(c.lb.ct_per_cpu_lru_set);
	xl4_config_defaults(&c);
	assert_int_equal(xl4_config_parse("lb: { conntrack: { inserts_per_second = 5; }; };", "t", &c,
					  err, sizeof(err)), 0);
	assert_true(c.lb.ct_per_cpu_lru);
	assert_false(c.lb.ct_per_cpu_lru_set);
}

/* lb.conntrack.flow_cache: 4096 slots unless said; 0 turns it off (and the engine's options
 * say so); anything else is a power of two from 256 to 65536, refused otherwise by name. */
static void test_flow_cache(void **state)
{
	static const char *bad[] = { "1000", "128", "131072", "-1", "\"big\"" };
	char err[XL4_CONFIG_ERR_MAX] = "", text[128];
	struct xl4_engine_opts eo;
	struct xl4_config c;

	(void)state;
	xl4_config_defaults(&c);
	assert_int_equal(c.lb.fcache_slots, XL4_FCACHE_SLOTS_DEFAULT);
	xl4_engine_opts_from_config(&c, &eo);
	assert_int_equal(eo.fcache_slots, XL4_FCACHE_SLOTS_DEFAULT);
	assert_false(eo.fcache_off);
	assert_int_equal(xl4_config_parse("lb: { conntrack: { flow_cache = 0; }; };", "t", &c, err,
					  sizeof(err)), 0);
	assert_int_equal(c.lb.fcache_slots, 0);
	xl4_engine_opts_from_config(&c, &eo);
	assert_true(eo.fcache_off);
	xl4_config_defaults(&c);
	assert_int_equal(xl4_config_parse("lb: { conntrack: { flow_cache = 256; }; };", "t", &c, err,
					  sizeof(err)), 0);
	assert_int_equal(c.lb.fcache_slots, 256);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		xl4_config_defaults(&c);
		snprintf(text, sizeof(text), "lb: { conntrack: { flow_cache = %s; }; };", bad[i]);
		err[0] = 0;
		assert_int_not_equal(xl4_config_parse(text, "t", &c, err, sizeof(err)), 0);
		assert_non_null(strstr(err, "flow_cache"));
		assert_int_equal(c.lb.fcache_slots, XL4_FCACHE_SLOTS_DEFAULT); /* left as it was */
	}
}

static void test_icmp_errors_per_second(void **state)
{
	char err[XL4_CONFIG_ERR_MAX] = "";
	struct xl4_config c;

	(void)state;
	xl4_config_defaults(&c);
	assert_int_equal(xl4_config_parse("lb: { icmp_errors_per_second = 0; };", "t", &c, err,
					  sizeof(err)), 0);
	assert_int_equal(c.lb.icmp_errors_per_sec, 0);
	xl4_config_defaults(&c);
	assert_int_equal(xl4_config_parse("lb: { icmp_errors_per_second = 10000000; };", "t", &c, err,
					  sizeof(err)), 0);
	assert_int_equal(c.lb.icmp_errors_per_sec, 10000000);
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
	{ "events: { samples_per_second = -1; };\n", "bad.conf:1: events.samples_per_second: '-1' is out of range" },
	{ "events: { samples_per_second = \"x\"; };\n", "events.samples_per_second: expected an integer" },
	{ "interfaces = [\"eth0\", \"eth0\"];\n", "interfaces: interface 'eth0' given twice" },
	{ "interfaces = [\"a-very-long-interface-name\"];\n", "is not a valid interface name" },
	{ "interfaces = [1];\n", "interfaces: element 1 is not a string" },
	{ "pin_path = \"/tmp/x\";\n", "bad.conf:1: pin_path: must be a directory under /sys/fs/bpf/" },
	{ "control_socket = \"relative.sock\";\n", "control_socket: must be an absolute path" },
	{ "control_socket = \"\";\n", "control_socket: must not be empty" },
	{ "lb: { table_size = 65536; };\n", "bad.conf:1: lb.table_size: 65536 is not prime" },
	{ "lb: { seed = -1; };\n", "lb.seed: '-1' is out of range" },
	{ "cluster: { route_table = 100; };\n",
	  "bad.conf:1: cluster.route_table: announcing VIPs needs lb.seed" },
	{ "lb: { seed = 1; };\ncluster: { route_table = 254; };\n",
	  "bad.conf:2: cluster.route_table: 254 is one of the kernel's own tables" },
	{ "lb: { seed = 1; };\ncluster: { route_table = 0; };\n",
	  "cluster.route_table: '0' is out of range 1..4294967295" },
	{ "lb: { seed = 1; };\ncluster: { route_table = 100; min_healthy = 0; };\n",
	  "cluster.min_healthy: '0' is out of range" },
	{ "lb: { seed = 1; };\ncluster: { route_table = 100; drain_ms = 60001; };\n",
	  "cluster.drain_ms: '60001' is out of range 0..60000" },
	{ "lb: { seed = 1; };\ncluster: { table = 100; };\n", "cluster.table: unknown key" },
	{ "lb: { ipip_source_v4 = \"198.18.0.0/8\"; };\n", "lb.ipip_source_v4: '198.18.0.0/8': expected an IPv4 prefix" },
	{ "lb: { conntrack: { max_entries = 10; }; };\n", "conntrack.max_entries: '10' is out of range" },
	{ "lb: { conntrack: { ipv6_max_entries = 5; }; };\n",
	  "lb.conntrack.ipv6_max_entries: 5 is below 1024 (0 means as lb.conntrack.max_entries)" },
	{ "lb: { icmp_errors_per_second = 10000001; };\n", "lb.icmp_errors_per_second: '10000001' is out of range" },
	{ "lb: { icmp_errors_per_second = -1; };\n", "lb.icmp_errors_per_second: '-1' is out of range" },
	{ "vips = ( { name = \"a\"; address = \"198.18.1.1:80\"; } );\n", "bad.conf:1: vips[0].address: " },
	{ "vips = ( { name = \"a\"; address = \"198.18.1.1:80\"; } );\n", "expected ADDR:PORT/tcp" },
	{ "vips = ( { name = \"a\"; address = \"198.18.1.1:80/sctp\"; } );\n", "protocol must be tcp or udp" },
	{ "vips = ( { name = \"a\"; address = \"198.18.1.1:80/tcp\"; mode = \"nat\"; } );\n", "mode: 'nat' is not one of: l2, port, ipip" },
	{ "vips = ( { name = \"a\"; address = \"198.18.1.1:80/tcp\"; },\n { name = \"a\"; address = \"198.18.1.2:80/tcp\"; } );\n", "bad.conf:2: vips[1].name: VIP name 'a' is used twice" },
	{ "vips = ( { name = \"a\"; address = \"198.18.1.1:80/tcp\"; },\n { name = \"b\"; address = \"198.18.1.1:80/tcp\"; } );\n", "is also VIP 'a'" },
	{ "vips = ( { name = \"a\"; address = \"198.18.1.1:80/tcp\";\n backends = ( { address = \"2001:db8::5\"; } ); } );\n", "bad.conf:2: vips[0].backends[0].address: '2001:db8::5' is IPv6 but the VIP is IPv4" },
	{ "vips = ( { name = \"a\"; address = \"198.18.1.1:80/tcp\";\n backends = ( { address = \"198.18.2.1:8080\"; } ); } );\n", "a backend port needs mode \"port\"" },
	{ "vips = ( { name = \"a\"; address = \"198.18.1.1:80/tcp\";\n backends = ( { address = \"198.18.2.1\"; }, { address = \"198.18.2.1\"; } ); } );\n", "is listed twice" },
	{ "vips = ( { name = \"a\"; address = \"198.18.1.1:80/tcp\";\n backends = ( { address = \"198.18.2.1\"; weight = 0; } ); } );\n", "weight: '0' is out of range 1..65535" },
	{ "vips = ( { name = \"a\"; address = \"198.18.1.1:80/tcp\";\n backends = ( { address = \"198.18.2.1\"; mac = \"ff:ff:ff:ff:ff:ff\"; } ); } );\n", "is not a unicast MAC" },
	{ "vips = ( { name = \"a\"; address = \"198.18.1.1:80/tcp\";\n health: { interval_ms = 200; timeout_ms = 300; }; } );\n", "must be shorter than interval_ms" },
	{ "vips = ( { name = \"a b\"; address = \"198.18.1.1:80/tcp\"; } );\n", "only letters, digits" },
	{ "vips = ( { name = \"a\"; address = \"224.0.0.1:80/tcp\"; } );\n", "not a unicast address" },
	/* filter */
	{ "filter: { alow = [ \"198.18.5.0/24\" ]; };\n", "bad.conf:1: filter.alow: unknown key" },
	{ "filter = 1;\n", "bad.conf:1: filter: expected a group" },
	{ "filter: { block = \"198.18.6.0/24\"; };\n", "filter.block: expected a list of prefixes" },
	{ "filter: {\n block = [ \"198.18.6.0/24\", \"198.18.6.1/24\" ];\n};\n", "bad.conf:2: filter.block[1]: '198.18.6.1/24' has host bits set; did you mean 198.18.6.0/24?" },
	{ "filter: { block = [ \"198.18.6.0/33\" ]; };\n", "filter.block[0]: '198.18.6.0/33': prefix length must be 0..32" },
	{ "filter: { allow = [ \"2001:db8::/129\" ]; };\n", "filter.allow[0]: '2001:db8::/129': prefix length must be 0..128" },
	{ "filter: { block = [ \"nonsense\" ]; };\n", "filter.block[0]: 'nonsense' is not" },
	{ "filter: { block = [ 7 ]; };\n", "filter.block[0]: expected a prefix in double quotes" },
	{ "filter: { block = [ \"198.18.6.0/24\", \"2001:db8:6::/48\", \"198.18.6.0/24\" ]; };\n", "'198.18.6.0/24' is listed twice" },
	{ "filter: { allow = [ \"2001:db8:6::/48\" ];\n block = [ \"2001:db8:6::/48\" ]; };\n", "bad.conf:2: filter.block[0]: '2001:db8:6::/48' is also on the allow list" },
	{ "filter: { rules = { dst = \"198.18.1.1\"; }; };\n", "filter.rules: expected a list" },
	{ "filter: { rules = ( { proto = \"tcp\"; action = \"drop\"; } ); };\n", "bad.conf:1: filter.rules[0]: a rule needs dst" },
	{ "filter: { rules = ( { dst = \"198.18.1.1\"; } ); };\n", "filter.rules[0]: a rule needs an action" },
	{ "filter: { rules = ( { dst = \"198.18.1.1\"; action = \"reject\"; } ); };\n", "filter.rules[0].action: 'reject' is not one of: allow, drop, limit" },
	{ "filter: { rules = ( { dst = \"198.18.1.1\"; proto = \"sctp\"; action = \"drop\"; } ); };\n", "filter.rules[0].proto: 'sctp' is not one of" },
	{ "filter: { rules = ( { dst = \"198.18.1.1\"; action = \"drop\"; },\n { dst = \"198.18.1.1\"; proto = \"tcp\"; ports = \"2000-1000\"; action = \"drop\"; } ); };\n", "bad.conf:2: filter.rules[1].ports: port range '2000-1000' runs backwards" },
	{ "filter: { rules = ( { dst = \"198.18.1.1\"; proto = \"tcp\"; ports = \"0\"; action = \"drop\"; } ); };\n", "filter.rules[0].ports: '0' is not a port" },
	{ "filter: { rules = ( { dst = \"198.18.1.1\"; proto = \"tcp\"; ports = 70000; action = \"drop\"; } ); };\n", "filter.rules[0].ports: '70000' is out of range 1..65535" },
	{ "filter: { rules = ( { dst = \"198.18.1.1\"; proto = \"icmp\"; ports = \"53\"; action = \"drop\"; } ); };\n", "filter.rules[0].ports: ports need proto tcp, udp or any (not icmp)" },
	{ "filter: { rules = ( { dst = \"2001:db8:1::1\"; proto = \"icmp\"; action = \"drop\"; } ); };\n", "filter.rules[0].proto: icmp goes with IPv4 destinations" },
	{ "filter: { rules = ( { dst = \"198.18.1.1\"; proto = \"udp\"; action = \"limit\"; rate = 100; } ); };\n", "filter.rules[0]: action \"limit\" needs rate (packets/s) and burst" },
	{ "filter: { rules = ( { dst = \"198.18.1.1\"; action = \"limit\"; rate = 0; burst = 10; } ); };\n", "filter.rules[0].rate: '0' is out of range 1..10000000" },
	{ "filter: { rules = ( { dst = \"198.18.1.1\"; action = \"limit\"; rate = 10; burst = -1; } ); };\n", "filter.rules[0].burst: '-1' is out of range" },
	{ "filter: { rules = ( { dst = \"198.18.1.1\"; action = \"limit\"; rate = 10; burst = 10; v6_prefix = 129; } ); };\n", "filter.rules[0].v6_prefix: '129' is out of range 1..128" },
	{ "filter: { rules = ( { dst = \"198.18.1.1\"; action = \"drop\"; rate = 10; } ); };\n", "filter.rules[0].rate: only for action \"limit\"" },
	{ "filter: { rules = ( { dst = \"198.18.1.1\"; action = \"allow\"; v6_prefix = 48; } ); };\n", "filter.rules[0].v6_prefix: only for action \"limit\"" },
	{ "filter: { rules = ( { dst = \"198.18.1.1\"; action = \"drop\"; colour = 1; } ); };\n", "filter.rules[0].colour: unknown key" },
	{ "filter: { rules = ( { dst = \"198.18.1.0/24\"; proto = \"udp\"; ports = \"53\"; action = \"drop\"; },\n { dst = \"198.18.1.0/24\"; proto = \"udp\"; ports = \"53\"; action = \"allow\"; } ); };\n", "bad.conf:2: filter.rules[1]: same dst 198.18.1.0/24, proto udp and port 53 as rules[0]" },
	{ "filter: { rules = ( { dst = \"198.18.1.0/24\"; proto = \"tcp\"; ports = \"1000-2000\"; action = \"drop\"; },\n { dst = \"198.18.1.0/24\"; proto = \"tcp\"; ports = \"1500-2500\"; action = \"allow\"; } ); };\n", "filter.rules[1]: ports 1500-2500: overlaps rules[0] (ports 1000-2000)" },
	{ "filter: { rules = ( { dst = \"198.18.1.0/24\"; action = \"drop\"; },\n { dst = \"198.18.1.0/24\"; action = \"allow\"; } ); };\n", "filter.rules[1]: same dst 198.18.1.0/24, proto any and every port as rules[0]" },
	{ "filter: { limit: { rate = 100; }; };\n", "filter.limit: the global limit needs both rate" },
	{ "filter: { limit: { rate = 100; burst = 0; }; };\n", "filter.limit.burst: '0' is out of range" },
	{ "filter: { limit: { v6_prefix = 64; }; };\n", "filter.limit.v6_prefix: only with rate and burst" },
	{ "filter: { limit: { rate = 100; burst = 100; v6_prefix = 0; }; };\n", "filter.limit.v6_prefix: '0' is out of range 1..128" },
	{ "filter: { limit: { new_sources_per_second = -5; }; };\n", "filter.limit.new_sources_per_second: '-5' is out of range" },
	{ "filter: { limit: { rate = 1; burst = 1; per = 2; }; };\n", "filter.limit.per: unknown key" },
	{ "filter: { rate_table_size = 10; };\n", "filter.rate_table_size: '10' is out of range 1024.." },
	/* metrics */
	{ "metrics: { listen = \"127.0.0.1\"; };\n", "bad.conf:1: metrics.listen: '127.0.0.1' is not ADDRESS:PORT" },
	{ "\nmetrics: { listen = \"127.0.0.1:0\"; };\n", "bad.conf:2: metrics.listen: port '0' is not 1..65535" },
	{ "metrics: { listen = \"127.0.0.1:65536\"; };\n", "metrics.listen: port '65536' is not 1..65535" },
	{ "metrics: { listen = \"127.0.0.1:-1\"; };\n", "metrics.listen: port '-1' is not 1..65535" },
	{ "metrics: { listen = \"127.0.0.1: 9143\"; };\n", "metrics.listen: port ' 9143' is not 1..65535" },
	{ "metrics: { listen = \"127.0.0.1:\"; };\n", "metrics.listen: port '' is not 1..65535" },
	{ "metrics: { listen = \"localhost:9143\"; };\n", "metrics.listen: 'localhost' is not an IPv4 address" },
	{ "metrics: { listen = \"::1:9143\"; };\n", "metrics.listen: '::1:9143' is not ADDRESS:PORT" },
	{ "metrics: { listen = \"[::1]9143\"; };\n", "metrics.listen: '[::1]9143' is not ADDRESS:PORT" },
	{ "metrics: { listen = \"[127.0.0.1]:9143\"; };\n", "metrics.listen: '127.0.0.1' is not an IPv6 address" },
	{ "metrics: { listen = 9143; };\n", "metrics.listen: expected a string" },
	{ "metrics: { port = 9143; };\n", "bad.conf:1: metrics.port: unknown key" },
	{ "metrics = \"127.0.0.1:9143\";\n", "bad.conf:1: metrics: expected a group" },
	/* guard */
	{ "guard = true;\n", "bad.conf:1: guard: expected a group" },
	{ "guard: { enable = true; };\n", "bad.conf:1: guard.enable: unknown key" },
	{ "guard: { enabled = 1; };\n", "bad.conf:1: guard.enabled: expected true or false" },
	{ "\nguard: { response = \"syncookie\"; };\n", "bad.conf:2: guard.response: 'syncookie' is not one of: first-drop, challenge, auto" },
	{ "guard: { syn_rate = 0; };\n", "guard.syn_rate: '0' is out of range 1..100000000" },
	{ "guard: { ratio = 0.5; };\n", "bad.conf:1: guard.ratio: 0.5 is out of range 1..10000" },
	{ "guard: { ratio = \"3\"; };\n", "guard.ratio: expected a number" },
	{ "guard: {\n enter_ms = 500;\n leave_ms = 400;\n};\n", "bad.conf:3: guard.leave_ms: 400 must be more than enter_ms (500)" },
	{ "guard: { enter_ms = 6000; };\n", "guard.enter_ms: 6000 must be less than leave_ms (5000)" },
	{ "guard: { syn_rate = 5000; surge_rate = 4000; };\n",
	  "guard.surge_rate: 4000 must be 0 (no surges) or at least syn_rate (5000)" },
	{ "guard: { escalate_ms = -1; };\n", "guard.escalate_ms: '-1' is out of range" },
	{ "guard: { first_drop = { min_ms = 700; max_ms = 600; }; };\n", "guard.first_drop.max_ms: first_drop.min_ms (700) must be less than first_drop.max_ms (600)" },
	{ "guard: { first_drop = { min_ms = 0; }; };\n", "guard.first_drop.min_ms: '0' is out of range 1..60000" },
	{ "guard: { first_drop = { window = 3; }; };\n", "guard.first_drop.window: unknown key" },
	{ "guard: { verified_ttl = 0; };\n", "guard.verified_ttl: '0' is out of range" },
	{ "guard: { challenge_per_second = -1; };\n", "guard.challenge_per_second: '-1' is out of range" },
	{ "guard: { key_rotation = 59; };\n", "guard.key_rotation: '59' is out of range" },
	{ "guard: { min_sources = 0; };\n", "guard.min_sources: '0' is out of range" },
	{ "guard: { verify_v6_prefix = 31; };\n", "guard.verify_v6_prefix: '31' is out of range" },
	{ "guard: { verify_per_second = -1; };\n", "guard.verify_per_second: '-1' is out of range" },
	{ "guard: { min_sources = 33; };\n", "guard.min_sources: '33' is out of range" },
	{ "guard: { first_drop = { hold_ms = 400; }; };\n", "guard.first_drop.hold_ms: first_drop.hold_ms (400) must lie in first_drop.min_ms..max_ms (500..6000)" },
	{ "guard: { first_drop = { max_ms = 2000; }; };\n", "guard.first_drop: first_drop.hold_ms (3000) must lie in first_drop.min_ms..max_ms (500..2000)" },
	{ "guard: { greylist_slots = 1000000; };\n", "bad.conf:1: guard.greylist_slots: 1000000 is not a power of two" },
	{ "guard: { syn_slots = 512; };\n", "guard.syn_slots: '512' is out of range 1024..16777216" },
	{ "guard: { verified_max = 10; };\n", "guard.verified_max: '10' is out of range" },
	{ "guard: {\n analyzer = { min_share = 1.5; };\n};\n", "bad.conf:2: guard.analyzer.min_share: 1.5 is out of range 0.01..1" },
	{ "guard: { analyzer = { block_seconds = 0; }; };\n", "guard.analyzer.block_seconds: '0' is out of range" },
	{ "guard: { analyzer = { min_samples = 0; }; };\n", "guard.analyzer.min_samples: '0' is out of range" },
	{ "guard: { analyzer = { max_blocks = 0; }; };\n", "guard.analyzer.max_blocks: '0' is out of range" },
	{ "guard: { analyzer = { max_blocks = 257; }; };\n", "guard.analyzer.max_blocks: '257' is out of range" },
	{ "guard: { analyzer = { block_top = \"yes\"; }; };\n", "guard.analyzer.block_top: expected true or false" },
	{ "guard: { analyzer = { top = 1; }; };\n", "guard.analyzer.top: unknown key" },
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

/* More prefixes than a list's map holds: refused with the file (a reload would otherwise fail
 * only when writing them, after the load balancer's part was applied). The allowlists hold
 * 65,536 a family; 65,537 IPv4 /32s are one too many, 65,536 fit. */
static void test_allowlist_over_its_map(void **state)
{
	size_t cap = 64 + (size_t)(XL4_ALLOW4_MAX + 1) * 24;
	char *text = malloc(cap), err[XL4_CONFIG_ERR_MAX] = "";
	struct xl4_config c;
	size_t len;

	(void)state;
	assert_non_null(text);
	for (int n = XL4_ALLOW4_MAX; n <= XL4_ALLOW4_MAX + 1; n++) {
		len = (size_t)snprintf(text, cap, "filter: { allow = [ ");
		for (int i = 0; i < n; i++)
			len += (size_t)snprintf(text + len, cap - len, "%s\"10.%d.%d.%d\"", i ? ", " : "",
						(i >> 16) & 0xff, (i >> 8) & 0xff, i & 0xff);
		snprintf(text + len, cap - len, " ]; };\n");
		xl4_config_defaults(&c);
		err[0] = 0;
		if (n == XL4_ALLOW4_MAX) {
			if (xl4_config_parse(text, "big.conf", &c, err, sizeof(err)))
				fail_msg("%d allow prefixes refused: %s", n, err);
			xl4_config_free(&c);
		} else {
			assert_int_not_equal(xl4_config_parse(text, "big.conf", &c, err, sizeof(err)), 0);
			assert_non_null(strstr(err, "filter.allow: 65537 IPv4 prefixes; the allowlist holds 65536"));
		}
	}
	free(text);
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

static void test_filter_section(void **state)
{
	const char *text =
		"filter: {\n"
		"  allow = [ \"198.18.5.0/24\", \"2001:db8:5::/48\" ];\n"
		"  block = [ \"198.18.6.0/24\", \"198.18.7.7\" ];\n"
		"  rules = (\n"
		"    { dst = \"198.18.1.0/24\"; proto = \"tcp\"; ports = \"1000-2000\"; action = \"drop\"; },\n"
		"    { dst = \"198.18.1.1\"; proto = \"udp\"; ports = \"53\"; action = \"limit\"; rate = 100; burst = 200; v6_prefix = 56; },\n"
		"    { dst = \"198.18.1.1\"; proto = \"udp\"; ports = 54; action = \"drop\"; },\n"
		"    { dst = \"198.18.1.1\"; proto = \"tcp\"; ports = \"1000-2000\"; action = \"allow\"; },\n"
		"    { dst = \"198.18.1.1\"; proto = \"any\"; action = \"allow\"; },\n"
		"    { dst = \"2001:db8:1::/64\"; proto = \"icmpv6\"; action = \"drop\"; }\n"
		"  );\n"
		"  limit: { rate = 1000; burst = 2000; v6_prefix = 48; new_sources_per_second = 5000; };\n"
		"  rate_table_size = 65536;\n"
		"};\n";
	char err[XL4_CONFIG_ERR_MAX] = "", s[64];
	struct xl4_config c;
	const struct xl4_filter_conf *f = &c.filter;

	(void)state;
	xl4_config_defaults(&c);
	if (xl4_config_parse(text, "t.conf", &c, err, sizeof(err)))
		fail_msg("%s", err);
	assert_int_equal(f->n_allow, 2);
	assert_int_equal(f->n_block, 2);
	xl4_prefix_str(&f->allow[1], s, sizeof(s));
	assert_string_equal(s, "2001:db8:5::/48");
	xl4_prefix_str(&f->block[1], s, sizeof(s));
	assert_string_equal(s, "198.18.7.7/32");
	assert_int_equal(f->n_rules, 6);
	assert_int_equal(f->rules[0].proto, IPPROTO_TCP);
	assert_int_equal(f->rules[0].port_lo, 1000);
	assert_int_equal(f->rules[0].port_hi, 2000);
	assert_int_equal(f->rules[0].action, XL4_RULE_DROP);
	assert_int_equal(f->rules[1].action, XL4_RULE_LIMIT);
	assert_int_equal(f->rules[1].rate, 100);
	assert_int_equal(f->rules[1].burst, 200);
	assert_int_equal(f->rules[1].v6_prefix, 56);
	assert_int_equal(f->rules[2].port_lo, 54);
	assert_int_equal(f->rules[2].port_hi, 54);
	assert_int_equal(f->rules[4].proto, XL4_PROTO_ANY);
	assert_int_equal(f->rules[4].port_lo, 0);
	assert_int_equal(f->rules[4].port_hi, 0);
	assert_int_equal(f->rules[5].proto, IPPROTO_ICMPV6);
	assert_int_equal(f->rules[5].dst.family, 6);
	assert_int_equal(f->rules[5].dst.len, 64);
	assert_int_equal(f->limit_rate, 1000);
	assert_int_equal(f->limit_burst, 2000);
	assert_int_equal(f->limit_v6_prefix, 48);
	assert_int_equal(f->new_sources_per_sec, 5000);
	assert_int_equal(f->rate_table_size, 65536);
	xl4_config_free(&c);
	assert_null(c.filter.allow);
	assert_int_equal(c.filter.n_rules, 0);
}

static void test_filter_defaults(void **state)
{
	char err[XL4_CONFIG_ERR_MAX] = "";
	struct xl4_config c;

	(void)state;
	xl4_config_defaults(&c);
	assert_int_equal(c.filter.n_allow + c.filter.n_block + c.filter.n_rules, 0);
	assert_int_equal(c.filter.limit_rate, 0);
	assert_int_equal(c.filter.rate_table_size, XL4_FILTER_RATE_TABLE_DEFAULT);
	assert_int_equal(c.filter.new_sources_per_sec, XL4_FILTER_NEW_SOURCES_DEFAULT);
	/* An empty section, and the budget alone (it also applies to limit rules), are fine. */
	assert_int_equal(xl4_config_parse("filter: { limit: { new_sources_per_second = 0; }; };",
					  "t", &c, err, sizeof(err)), 0);
	assert_int_equal(c.filter.limit_rate, 0);
	assert_int_equal(c.filter.new_sources_per_sec, 0);
	assert_int_equal(c.filter.limit_v6_prefix, 64);
	assert_int_equal(xl4_config_parse("filter: { };", "t", &c, err, sizeof(err)), 0);
	xl4_config_free(&c);
}

/* A large list loads quickly, and a duplicate deep in it is still named by index. */
static void test_filter_big_list(void **state)
{
	size_t n = 20000, cap = n * 24 + 64, len = 0;
	char *text = malloc(cap), err[XL4_CONFIG_ERR_MAX] = "";
	struct xl4_config c;

	(void)state;
	assert_non_null(text);
	len += snprintf(text + len, cap - len, "filter: { block = [");
	for (size_t i = 0; i < n; i++)
		len += snprintf(text + len, cap - len, "%s\"198.%u.%u.%u\"", i ? "," : "",
				18 + (unsigned)(i >> 16), (unsigned)(i >> 8) & 255, (unsigned)i & 255);
	snprintf(text + len, cap - len, "]; };");
	xl4_config_defaults(&c);
	if (xl4_config_parse(text, "big.conf", &c, err, sizeof(err)))
		fail_msg("%s", err);
	assert_int_equal(c.filter.n_block, (int)n);
	/* the same list with its last entry repeating the first */
	len = strlen(text);
	len -= strlen("]; };");
	snprintf(text + len, cap - len, ",\"198.18.0.0\"]; };");
	assert_int_not_equal(xl4_config_parse(text, "big.conf", &c, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "filter.block[20000]: '198.18.0.0/32' is listed twice"));
	xl4_config_free(&c);
	free(text);
}

static void test_metrics_section(void **state)
{
	static const uint8_t lo4[4] = { 127, 0, 0, 1 }, lo6[16] = { [15] = 1 }, any4[4] = { 0 };
	char err[XL4_CONFIG_ERR_MAX] = "";
	struct xl4_config c;

	(void)state;
	/* default: on, 127.0.0.1:9143 */
	xl4_config_defaults(&c);
	assert_string_equal(c.metrics.listen, "127.0.0.1:9143");
	assert_int_equal(c.metrics.family, AF_INET);
	assert_memory_equal(c.metrics.addr, lo4, 4);
	assert_int_equal(c.metrics.port, 9143);
	/* a file without the section keeps the default */
	assert_int_equal(xl4_config_parse("xdp_mode = \"skb\";\n", "t", &c, err, sizeof(err)), 0);
	assert_string_equal(c.metrics.listen, "127.0.0.1:9143");
	assert_int_equal(c.metrics.port, 9143);
	/* IPv6 loopback */
	assert_int_equal(xl4_config_parse("metrics: { listen = \"[::1]:9200\"; };\n", "t", &c, err,
					  sizeof(err)), 0);
	assert_int_equal(c.metrics.family, AF_INET6);
	assert_memory_equal(c.metrics.addr, lo6, 16);
	assert_int_equal(c.metrics.port, 9200);
	/* a public address, when the file says so */
	assert_int_equal(xl4_config_parse("metrics: { listen = \"0.0.0.0:9143\"; };\n", "t", &c, err,
					  sizeof(err)), 0);
	assert_int_equal(c.metrics.family, AF_INET);
	assert_memory_equal(c.metrics.addr, any4, 4);
	/* "" disables */
	assert_int_equal(xl4_config_parse("metrics: { listen = \"\"; };\n", "t", &c, err, sizeof(err)), 0);
	assert_string_equal(c.metrics.listen, "");
	assert_int_equal(c.metrics.port, 0);
	/* an empty group keeps the default */
	assert_int_equal(xl4_config_parse("metrics: { };\n", "t", &c, err, sizeof(err)), 0);
	assert_string_equal(c.metrics.listen, "127.0.0.1:9143");
	xl4_config_free(&c);
}

static void test_daemon_section(void **state)
{
	char err[XL4_CONFIG_ERR_MAX] = "";
	struct xl4_config c;

	(void)state;
	xl4_config_defaults(&c);
	assert_int_equal(c.socket_gid, -1); /* root only */
	assert_string_equal(c.socket_group, "");
	assert_int_equal(xl4_config_parse("daemon: { socket_group = \"root\"; };\n", "t", &c, err,
					  sizeof(err)), 0);
	assert_string_equal(c.socket_group, "root");
	assert_int_equal(c.socket_gid, 0);
	assert_int_not_equal(xl4_config_parse("daemon: { socket_group = \"no-such-group-xl4\"; };\n", "t",
					      &c, err, sizeof(err)), 0);
	assert_string_equal(err, "t:1: daemon.socket_group: no group named 'no-such-group-xl4' (see getent group)");
	assert_int_not_equal(xl4_config_parse("daemon: { socket_group = \"\"; };\n", "t", &c, err, sizeof(err)), 0);
	assert_int_not_equal(xl4_config_parse("daemon: { socket_grp = \"root\"; };\n", "t", &c, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "socket_grp"));
	assert_int_not_equal(xl4_config_parse("daemon = 1;\n", "t", &c, err, sizeof(err)), 0);
	assert_int_equal(c.socket_gid, 0); /* failed loads left the last good config alone */
	xl4_config_free(&c);
}

static void test_cluster_section(void **state)
{
	char err[XL4_CONFIG_ERR_MAX] = "";
	struct xl4_config c;

	(void)state;
	xl4_config_defaults(&c);
	assert_int_equal(c.cluster.route_table, 0); /* off: a single node announces nothing */
	assert_int_equal(c.cluster.min_healthy, 1);
	assert_int_equal(c.cluster.drain_ms, 2000);
	assert_int_equal(xl4_config_parse("lb: { seed = 9; };\ncluster: { route_table = 4000000000; "
					  "min_healthy = 3; drain_ms = 0; };\n",
					  "t", &c, err, sizeof(err)), 0);
	assert_int_equal(c.cluster.route_table, 4000000000u);
	assert_int_equal(c.cluster.min_healthy, 3);
	assert_int_equal(c.cluster.drain_ms, 0);
	/* the seed may come after the cluster section in the file: the rows' order decides */
	assert_int_equal(xl4_config_parse("cluster: { route_table = 100; };\nlb: { seed = 9; };\n",
					  "t", &c, err, sizeof(err)), 0);
	/* a cluster section without a table announces nothing, and needs no seed */
	assert_int_equal(xl4_config_parse("cluster: { min_healthy = 2; };\n", "t", &c, err,
					  sizeof(err)), 0);
	assert_int_equal(c.cluster.route_table, 0);
	xl4_config_free(&c);
}

static void test_guard_section(void **state)
{
	char err[XL4_CONFIG_ERR_MAX] = "";
	struct xl4_config c;

	(void)state;
	xl4_config_defaults(&c);
	assert_true(c.guard.enabled);
	assert_int_equal(c.guard.response, XL4_GUARD_RESP_AUTO);
	assert_int_equal(c.guard.syn_rate, 1000);
	assert_int_equal(c.guard.surge_rate, 20000);
	assert_true(c.guard.ratio == 3.0);
	assert_int_equal(c.guard.enter_ms, 500);
	assert_int_equal(c.guard.leave_ms, 5000);
	assert_int_equal(c.guard.fd_min_ms, 500);
	assert_int_equal(c.guard.fd_max_ms, 6000);
	assert_int_equal(c.guard.grey_slots, 1 << 20);
	assert_int_equal(c.guard.verified_max, 262144);
	assert_false(c.guard.analyzer.block_top); /* automatic blocks are opt-in */
	assert_int_equal(c.guard.analyzer.max_blocks, 64);
	assert_int_equal(c.guard.analyzer.min_samples, 50);
	const char *text = "guard: {\n"
			   "  enabled = true; response = \"challenge\"; syn_rate = 5000; ratio = 4;\n"
			   "  enter_ms = 1000; leave_ms = 20000; escalate_ms = 0;\n"
			   "  first_drop = { min_ms = 800; max_ms = 3000; };\n"
			   "  verified_ttl = 60; challenge_per_second = 0; key_rotation = 120;\n"
			   "  greylist_slots = 1024; syn_slots = 2048; verified_max = 4096;\n"
			   "  analyzer = { block_top = true; block_seconds = 30; max_blocks = 9; min_share = 0.5; min_samples = 7; };\n"
			   "};\n";
	if (xl4_config_parse(text, "t", &c, err, sizeof(err)))
		fail_msg("%s", err);
	assert_true(c.guard.enabled);
	assert_int_equal(c.guard.response, XL4_GUARD_RESP_CHALLENGE);
	assert_int_equal(c.guard.syn_rate, 5000);
	assert_true(c.guard.ratio == 4.0);
	assert_int_equal(c.guard.enter_ms, 1000);
	assert_int_equal(c.guard.leave_ms, 20000);
	assert_int_equal(c.guard.escalate_ms, 0);
	assert_int_equal(c.guard.fd_min_ms, 800);
	assert_int_equal(c.guard.fd_max_ms, 3000);
	assert_int_equal(c.guard.verified_ttl_s, 60);
	assert_int_equal(c.guard.challenge_per_sec, 0);
	assert_int_equal(c.guard.key_rotation_s, 120);
	assert_int_equal(c.guard.grey_slots, 1024);
	assert_int_equal(c.guard.syn_slots, 2048);
	assert_int_equal(c.guard.verified_max, 4096);
	assert_true(c.guard.analyzer.block_top);
	assert_int_equal(c.guard.analyzer.block_seconds, 30);
	assert_int_equal(c.guard.analyzer.max_blocks, 9);
	assert_true(c.guard.analyzer.min_share == 0.5);
	assert_int_equal(c.guard.analyzer.min_samples, 7);
	/* a group with only some keys keeps the other defaults */
	assert_int_equal(xl4_config_parse("guard: { ratio = 2.5; };\n", "t", &c, err, sizeof(err)), 0);
	assert_true(c.guard.enabled);
	assert_true(c.guard.ratio == 2.5);
	assert_int_equal(c.guard.leave_ms, 5000);
	xl4_config_free(&c);
}

/* libconfig 1.5 reads a plain integer with atoi(): 4294967299 came back as 3. Every integer key
 * is checked as written, and the error quotes it as written. */
static const struct {
	const char *fmt; /* one %s: the value */
	const char *key;
	int line;
} int_keys[] = {
	{ "vips = ( { name = \"web\"; address = \"198.18.1.1:80/tcp\";\n"
	  "  backends = ( { address = \"198.18.0.11\"; }, { address = \"198.18.0.12\"; weight = %s; } ); } );\n",
	  "vips[0].backends[1].weight", 2 },
	{ "vips = ( { name = \"web\"; address = \"198.18.1.1:80/tcp\";\n\n  mtu = %s; } );\n",
	  "vips[0].mtu", 3 },
	{ "lb: { seed = %s; };\n", "lb.seed", 1 },
	{ "lb: {\n conntrack = { inserts_per_second = %s; };\n};\n",
	  "lb.conntrack.inserts_per_second", 2 },
	{ "filter: { limit = { rate = %s; burst = 10; }; };\n", "filter.limit.rate", 1 },
	{ "filter: { rules = ( { dst = \"198.18.1.1\"; action = \"limit\"; rate = 5; burst = %s; } ); };\n",
	  "filter.rules[0].burst", 1 },
	{ "guard: { syn_rate = %s; };\n", "guard.syn_rate", 1 },
	{ "events: { samples_per_second = %s; };\n", "events.samples_per_second", 1 },
};

static const char *const bad_ints[] = {
	"4294967299",		/* 2^32 + 3: was read as 3 */
	"18446744073709551616",	/* 2^64: was read as -1 */
	"99999999999",		/* was read as 1215752191 */
	"-1",
	"0x100000003",		/* hex: was read as 3 */
	"-4294967295",		/* was read as 1 */
	"18446744073709551616L",
	"0x10000000000000003L",
};

static void test_integers_as_written(void **state)
{
	(void)state;
	for (size_t k = 0; k < sizeof(int_keys) / sizeof(int_keys[0]); k++) {
		for (size_t i = 0; i < sizeof(bad_ints) / sizeof(bad_ints[0]); i++) {
			char text[512], want[128], err[XL4_CONFIG_ERR_MAX] = "";
			struct xl4_config c;

			snprintf(text, sizeof(text), int_keys[k].fmt, bad_ints[i]);
			snprintf(want, sizeof(want), "bad.conf:%d: %s: '%s' is out of range ",
				 int_keys[k].line, int_keys[k].key, bad_ints[i]);
			xl4_config_defaults(&c);
			if (xl4_config_parse(text, "bad.conf", &c, err, sizeof(err)) == 0)
				fail_msg("%s = %s accepted", int_keys[k].key, bad_ints[i]);
			if (!strstr(err, want))
				fail_msg("%s = %s: error '%s' lacks '%s'", int_keys[k].key, bad_ints[i],
					 err, want);
		}
	}
}

static void test_integers_in_range(void **state)
{
	char err[XL4_CONFIG_ERR_MAX] = "";
	struct xl4_config c;
	const char *text =
		"lb: { seed = 0xffffffff; conntrack = { inserts_per_second = 100000000; }; };\n"
		"vips = ( { name = \"web\"; address = \"198.18.1.1:80/tcp\"; mtu = 9216;\n"
		"  backends = ( { address = \"198.18.0.11\"; weight = 65535L; },\n"
		"               { address = \"198.18.0.12\"; weight = +7; } ); } );\n"
		"filter: { limit = { rate = 007; burst = 0x10; }; };\n"
		"guard: { ratio = 4; analyzer = { min_share = 1; }; };\n";

	(void)state;
	xl4_config_defaults(&c);
	if (xl4_config_parse(text, "t.conf", &c, err, sizeof(err)))
		fail_msg("%s", err);
	assert_int_equal(c.lb.seed, 0xffffffffu);
	assert_int_equal(c.lb.ct_inserts_per_sec, 100000000);
	assert_int_equal(c.vips[0].spec.mtu, 9216);
	assert_int_equal(c.vips[0].backends[0].weight, 65535);
	assert_int_equal(c.vips[0].backends[1].weight, 7);
	assert_int_equal(c.filter.limit_rate, 7); /* decimal, as libconfig reads it: not octal */
	assert_int_equal(c.filter.limit_burst, 16);
	assert_true(c.guard.ratio == 4.0);
	assert_true(c.guard.analyzer.min_share == 1.0);
	xl4_config_free(&c);
	/* one past the edge, both ends */
	assert_int_not_equal(xl4_config_parse("lb: { seed = 4294967296; };", "b", &c, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "lb.seed: '4294967296' is out of range 0..4294967295"));
	assert_int_not_equal(xl4_config_parse("guard: { ratio = 4294967299; };", "b", &c, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "guard.ratio: '4294967299' is out of range"));
}

/* Write text to dir/name. */
static void put_file(const char *dir, const char *name, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* An integer in an @include'd file is checked as written too. */
static void test_integers_in_include(void **state)
{
	char dir[] = "/tmp/xl4-inc-XXXXXX", main_path[128], inc_path[128], want[192];
	char err[XL4_CONFIG_ERR_MAX] = "";
	struct xl4_config c;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(main_path, sizeof(main_path), "%s/xl4.conf", dir);
	snprintf(inc_path, sizeof(inc_path), "%s/vips.conf", dir);
	put_file(dir, "xl4.conf", "lb: { seed = 5; };\nvips = (\n@include \"vips.conf\"\n);\n");
	put_file(dir, "vips.conf", "{ name = \"web\"; address = \"198.18.1.1:80/tcp\";\n"
		   "  backends = ( { address = \"198.18.0.11\"; weight = 4294967299; } ); }\n");
	xl4_config_defaults(&c);
	assert_int_not_equal(xl4_config_load(main_path, &c, err, sizeof(err)), 0);
	snprintf(want, sizeof(want), "vips[0].backends[0].weight: '4294967299' is out of range 1..65535");
	if (!strstr(err, want))
		fail_msg("error '%s' lacks '%s'", err, want);
	put_file(dir, "vips.conf", "{ name = \"web\"; address = \"198.18.1.1:80/tcp\";\n"
		   "  backends = ( { address = \"198.18.0.11\"; weight = 3; } ); }\n");
	if (xl4_config_load(main_path, &c, err, sizeof(err)))
		fail_msg("%s", err);
	assert_int_equal(c.vips[0].backends[0].weight, 3);
	assert_int_equal(c.lb.seed, 5);
	xl4_config_free(&c);
	/* a comment left open at the end of the include runs on into this file, as libconfig
	 * reads it: the integer is the one after it, not the one it hides */
	put_file(dir, "vips.conf", "/* open\n");
	put_file(dir, "xl4.conf", "@include \"vips.conf\"\nlb: { seed = 1; };\n*/\nlb: { seed = 2; };\n");
	xl4_config_defaults(&c);
	if (xl4_config_load(main_path, &c, err, sizeof(err)))
		fail_msg("%s", err);
	assert_int_equal(c.lb.seed, 2);
	xl4_config_free(&c);
	unlink(inc_path);
	unlink(main_path);
	rmdir(dir);
}

/* Loading path must fail with an error that says want. */
static void load_fails_with(const char *path, const char *want)
{
	char err[XL4_CONFIG_ERR_MAX] = "";
	struct xl4_config c;

	xl4_config_defaults(&c);
	assert_int_not_equal(xl4_config_load(path, &c, err, sizeof(err)), 0);
	if (!strstr(err, want))
		fail_msg("%s: error '%s' lacks '%s'", path, err, want);
	xl4_config_free(&c);
}

/* libconfig exits the process on a read error and blocks on a FIFO: an @include of anything
 * but a regular file is refused before it reads (src/conf_include.c), in a nested include too,
 * and a commented-out one is not looked at. The walk must find the name libconfig 1.5's scanner
 * finds: its escapes, its NULs, and its states, which run on past an included file's end. */
static void test_include_not_regular(void **state)
{
	static const struct {
		const char *main, *sub;
		size_t sub_len; /* 0: strlen(sub) */
		const char *want;
	} cases[] = {
		{ "@include \"d\"\n", NULL, 0, "xl4.conf:1: @include \"d\": a directory" },
		{ "\n@include \"f\"\n", NULL, 0, "xl4.conf:2: @include \"f\": a FIFO" },
		{ "@include \"sub.conf\"\n", "# nested\n@include \"d\"\n", 0, "sub.conf:2: @include \"d\": a directory" },
		{ "# @include \"d\"\nxdp_mode = \"auto\";\n", NULL, 0, NULL },
		{ "/*\n@include \"d\"\n*/\nxdp_mode = \"auto\";\n", NULL, 0, NULL },
		/* not at the start of a line: no include, a syntax error */
		{ "xdp_mode = \"auto\"; @include \"d\"\n", NULL, 0, "xl4.conf:1: syntax error" },
		/* libconfig drops a lone backslash (the fuzzer's "inc\lude" opened the directory
		 * "include"): refused, whatever it names; \\ is one */
		{ "@include \"\\d\"\n", NULL, 0, "xl4.conf:1: @include \"d\" (as libconfig 1.5 reads it): a backslash not followed by \\ or \" is dropped; write \\\\ for a backslash" },
		{ "@include \"d\\\\\"\n", NULL, 0, "xl4.conf:1: @include \"d\\\": No such file" },
		/* a missing include is named, and an absolute name is looked for in the directory */
		{ "\n\n@include \"nope.conf\"\n", NULL, 0, "xl4.conf:3: @include \"nope.conf\": No such file or directory (/tmp/xl4-incd-" },
		{ "@include \"/dev/zero\"\n", NULL, 0, "//dev/zero: libconfig 1.5 puts the config's directory before every @include name, an absolute one too)" },
		/* an included file ending inside a string, a comment or a name: the includer reads on
		 * in that state */
		{ "@include \"sub.conf\"\n\"\n@include \"d\"\n", "xdp_mode = \"auto", 0, "xl4.conf:3: @include \"d\": a directory" },
		{ "@include \"sub.conf\"\n\" */\n@include \"d\"\n", "/* open", 0, "xl4.conf:3: @include \"d\": a directory" },
		{ "@include \"sub.conf\"d\"\n", "@include \"", 0, "sub.conf:1: @include \"d\": a directory" },
		/* a NUL in an included file: in a comment it is read past, in a name it ends the run */
		{ "@include \"sub.conf\"\n", "# \0\n@include \"d\"\n", 17, "sub.conf:2: @include \"d\": a directory" },
		{ "@include \"sub.conf\"\n", "@include \"d\0zz\"\n", 16, "sub.conf:1: @include \"d\": a directory" },
		{ "@include \"sub.conf\"\n", "@include \"\0zz\\d\"\n", 17, "sub.conf:1: @include \"d\" (as libconfig" },
	};
	char dir[] = "/tmp/xl4-incd-XXXXXX", main_path[128], path[160];
	char err[XL4_CONFIG_ERR_MAX];
	struct xl4_config c;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(main_path, sizeof(main_path), "%s/xl4.conf", dir);
	snprintf(path, sizeof(path), "%s/d", dir);
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/f", dir);
	assert_int_equal(mkfifo(path, 0600), 0);
	alarm(20); /* a FIFO read would block forever: fail, do not hang */
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		FILE *f = fopen(main_path, "w");
		int ret;

		assert_non_null(f);
		fputs(cases[i].main, f);
		fclose(f);
		if (cases[i].sub) {
			snprintf(path, sizeof(path), "%s/sub.conf", dir);
			f = fopen(path, "w");
			assert_non_null(f);
			fwrite(cases[i].sub, 1,
			       cases[i].sub_len ? cases[i].sub_len : strlen(cases[i].sub), f);
			fclose(f);
		}
		err[0] = '\0';
		xl4_config_defaults(&c);
		ret = xl4_config_load(main_path, &c, err, sizeof(err));
		if (!cases[i].want) {
			if (ret)
				fail_msg("case %zu: %s", i, err);
		} else if (!ret || !strstr(err, cases[i].want)) {
			fail_msg("case %zu: error '%s' lacks '%s'", i, err, cases[i].want);
		}
		xl4_config_free(&c);
	}
	/* the file itself: a FIFO is refused before anything opens it (an open would wait for a
	 * writer), a directory likewise */
	snprintf(path, sizeof(path), "%s/f", dir);
	load_fails_with(path, "a FIFO, not a config file");
	load_fails_with(dir, "a directory, not a config file");
	/* a file larger than a config may be (sparse: no disk used), itself and included */
	snprintf(path, sizeof(path), "%s/big.conf", dir);
	{
		FILE *f = fopen(path, "w");

		assert_non_null(f);
		fclose(f);
		assert_int_equal(truncate(path, (off_t)XL4_CONF_MAX_BYTES + 1), 0);
		f = fopen(main_path, "w");
		assert_non_null(f);
		fputs("@include \"big.conf\"\n", f);
		fclose(f);
	}
	load_fails_with(path, "more than a config file may have (256 MiB)");
	load_fails_with(main_path, "xl4.conf:1: @include \"big.conf\": 268435457 bytes, more than");
	unlink(path);
	/* text parsed as given resolves names as given: "/" is a directory */
	xl4_config_defaults(&c);
	assert_int_not_equal(xl4_config_parse("@include \"/\"\n", "t", &c, err, sizeof(err)), 0);
	if (!strstr(err, "t:1: @include \"/\": a directory"))
		fail_msg("error '%s'", err);
	assert_int_not_equal(
		xl4_config_parse("\n@include \"/dev/zero\"\n", "t", &c, err, sizeof(err)), 0);
	if (!strstr(err, "t:2: @include \"/dev/zero\": a character device"))
		fail_msg("error '%s'", err);
	/* a regular file whose read fails (libconfig's scanner exits on that too): the include,
	 * and the config itself */
	assert_int_not_equal(
		xl4_config_parse("@include \"/proc/self/mem\"\n", "t", &c, err, sizeof(err)), 0);
	if (!strstr(err, "t:1: @include \"/proc/self/mem\": cannot be read: Input/output error"))
		fail_msg("error '%s'", err);
	load_fails_with("/proc/self/mem", "/proc/self/mem: cannot be read: Input/output error");
	xl4_config_free(&c);
	alarm(0);
	snprintf(path, sizeof(path), "%s/sub.conf", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/f", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/d", dir);
	rmdir(path);
	unlink(main_path);
	rmdir(dir);
}

/* xl4_config_load() on a small stack: the config path in arg, its error or NULL back. */
static void *load_on_small_stack(void *arg)
{
	static char err[XL4_CONFIG_ERR_MAX];
	static struct xl4_config c;

	xl4_config_defaults(&c);
	if (xl4_config_load(arg, &c, err, sizeof(err)))
		return err;
	if (c.lb.seed != 7) {
		snprintf(err, sizeof(err), "lb.seed %u, not 7", c.lb.seed);
		return err;
	}
	xl4_config_free(&c);
	return NULL;
}

/* What libconfig 1.5 would do silently, or without end, is refused with its reason: a name or a
 * comment never closed (it drops the include, or the rest of the file), nesting past its 10
 * levels (the walk stops there as libconfig does: ten self-includes per file were 10^10
 * reads), and more than XL4_CONF_MAX_INCLUDES includes. */
static void test_include_walk_refuses(void **state)
{
	char dir[] = "/tmp/xl4-incw-XXXXXX", main_path[128], path[160];
	char *text;
	size_t off = 0;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(main_path, sizeof(main_path), "%s/xl4.conf", dir);
	alarm(20); /* the walk must not run on with libconfig's limits gone */
	put_file(dir, "xl4.conf", "xdp_mode = \"auto\";\n@include \"a\\b"); /* \b: dropped */
	load_fails_with(main_path, "xl4.conf:2: @include \"ab: the name has no closing quote");
	put_file(dir, "xl4.conf", "xdp_mode = \"auto\";\n/* to do\nxdp_mode = 5;\n");
	load_fails_with(main_path, "xl4.conf:2: a /* comment is never closed");
	put_file(dir, "xl4.conf", "xdp_mode = \"auto\";\n\"\nlb: { seed = 7; };\n");
	load_fails_with(main_path, "xl4.conf:2: a string opened here is never closed");
	put_file(dir, "e.conf", "xdp_mode = \"auto");
	put_file(dir, "xl4.conf", "@include \"e.conf\"\nlb: { seed = 7; };\n");
	load_fails_with(main_path, "e.conf:1: a string opened here is never closed");
	put_file(dir, "xl4.conf", "@include \"xl4.conf\"\n");
	load_fails_with(main_path, "xl4.conf:1: @include \"xl4.conf\": include file nesting too "
				   "deep (libconfig 1.5 stops at 10 levels)");
	put_file(dir, "xl4.conf", "@include \"xl4.conf\"\n@include \"xl4.conf\"\n@include \"xl4.conf\"\n"
				  "@include \"xl4.conf\"\n@include \"xl4.conf\"\n@include \"xl4.conf\"\n"
				  "@include \"xl4.conf\"\n@include \"xl4.conf\"\n@include \"xl4.conf\"\n"
				  "@include \"xl4.conf\"\n");
	load_fails_with(main_path, "include file nesting too deep");
	/* one more include than allowed, of an empty file */
	put_file(dir, "e.conf", "");
	text = malloc((XL4_CONF_MAX_INCLUDES + 1) * 20 + 1);
	assert_non_null(text);
	for (int i = 0; i <= XL4_CONF_MAX_INCLUDES; i++)
		off += sprintf(text + off, "@include \"e.conf\"\n");
	put_file(dir, "xl4.conf", text);
	free(text);
	load_fails_with(main_path, "xl4.conf:10001: @include \"e.conf\": more than 10000 files "
				   "included in all");
	/* as many includes as allowed, then a setting: loaded, its value read past them all, on
	 * a 256 KiB stack (neither reading is to recurse per include; conf_lit.c's lex() did,
	 * though at -O2 the compiler turned that tail call into a jump) */
	text = malloc(XL4_CONF_MAX_INCLUDES * 20 + 32);
	assert_non_null(text);
	off = 0;
	for (int i = 0; i < XL4_CONF_MAX_INCLUDES; i++)
		off += sprintf(text + off, "@include \"e.conf\"\n");
	sprintf(text + off, "lb: { seed = 7; };\n");
	put_file(dir, "xl4.conf", text);
	free(text);
	{
		pthread_attr_t attr;
		pthread_t t;
		void *why;

		assert_int_equal(pthread_attr_init(&attr), 0);
		assert_int_equal(pthread_attr_setstacksize(&attr, 256 << 10), 0);
		assert_int_equal(pthread_create(&t, &attr, load_on_small_stack, main_path), 0);
		assert_int_equal(pthread_join(t, &why), 0);
		if (why)
			fail_msg("%s", (char *)why);
	}
	/* one large file included twice: more than a config may have, in all (sparse) */
	snprintf(path, sizeof(path), "%s/e.conf", dir);
	assert_int_equal(truncate(path, (off_t)XL4_CONF_MAX_BYTES / 2 + 1), 0);
	put_file(dir, "xl4.conf", "@include \"e.conf\"\n@include \"e.conf\"\n");
	load_fails_with(main_path, "xl4.conf:2: @include \"e.conf\": the files included come to "
				   "more than 256 MiB in all");
	/* a FIFO is refused before it is opened: a writer waiting for a reader stays waiting */
	snprintf(path, sizeof(path), "%s/f", dir);
	assert_int_equal(mkfifo(path, 0600), 0);
	{
		pid_t writer = fork();
		int status, fd;

		assert_true(writer >= 0);
		if (writer == 0) {
			alarm(10); /* never outlive a failed test */
			_exit(open(path, O_WRONLY) >= 0 ? 0 : 1);
		}
		usleep(100000); /* the writer waits in open() by now */
		put_file(dir, "xl4.conf", "@include \"f\"\n");
		load_fails_with(main_path, "xl4.conf:1: @include \"f\": a FIFO");
		usleep(100000);
		assert_int_equal(waitpid(writer, &status, WNOHANG), 0); /* still waiting */
		fd = open(path, O_RDONLY | O_NONBLOCK);			  /* let it go */
		assert_true(fd >= 0);
		assert_int_equal(waitpid(writer, &status, 0), writer);
		assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0); /* it had waited */
		close(fd);
	}
	alarm(0);
	unlink(path);
	snprintf(path, sizeof(path), "%s/e.conf", dir);
	unlink(path);
	unlink(main_path);
	rmdir(dir);
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
	assert_true(c.filter.n_block > 0);
	assert_true(c.filter.n_rules > 0);
	assert_string_equal(c.metrics.listen, "127.0.0.1:9143");
	xl4_config_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_per_cpu_lru_given),
		cmocka_unit_test(test_cluster_section),
		cmocka_unit_test(test_flow_cache),
		cmocka_unit_test(test_icmp_errors_per_second),
		cmocka_unit_test(test_full_config),
		cmocka_unit_test(test_single_interface_string),
		cmocka_unit_test(test_bad_configs_leave_running_config),
		cmocka_unit_test(test_allowlist_over_its_map),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_file_roundtrip),
		cmocka_unit_test(test_filter_section),
		cmocka_unit_test(test_filter_defaults),
		cmocka_unit_test(test_filter_big_list),
		cmocka_unit_test(test_metrics_section),
		cmocka_unit_test(test_daemon_section),
		cmocka_unit_test(test_guard_section),
		cmocka_unit_test(test_example_config_loads),
		cmocka_unit_test(test_integers_as_written),
		cmocka_unit_test(test_integers_in_range),
		cmocka_unit_test(test_integers_in_include),
		cmocka_unit_test(test_include_not_regular),
		cmocka_unit_test(test_include_walk_refuses),
	};

	return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
