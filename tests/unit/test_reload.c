// SPDX-License-Identifier: GPL-2.0
/* Config reload, before anything is applied: the new file is read whole, errors name
 * file:line: key, restart-only settings are refused by name, the command line and the
 * running seed carry over, and subsystems run in order, stopping at the first error. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <bpf/bpf.h>

#include "config.h"
#include "daemon_guard.h"
#include "reload.h"

static char path[64];

static void write_file(const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static const char *base =
	"interfaces = [\"eth0\"];\n"
	"vips = ( { name = \"web\"; address = \"198.18.1.1:80/tcp\";\n"
	"           backends = ( { address = \"198.18.0.11\"; } ); } );\n";

/* cur: the running config, loaded from base. */
static void load_cur(struct xl4_config *cur)
{
	char err[XL4_CONFIG_ERR_MAX];

	write_file(base);
	xl4_config_defaults(cur);
	assert_int_equal(xl4_config_load(path, cur, err, sizeof(err)), 0);
}

static int setup(void **state)
{
	int fd;

	(void)state;
	snprintf(path, sizeof(path), "/tmp/xl4-reload-XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(path);
	return 0;
}

static void test_changed_vips_accepted(void **state)
{
	struct xl4_config cur, next;
	char err[1024] = "";

	(void)state;
	load_cur(&cur);
	write_file("interfaces = [\"eth0\"];\n"
		   "vips = ( { name = \"web\"; address = \"198.18.1.1:80/tcp\";\n"
		   "           backends = ( { address = \"198.18.0.11\"; }, { address = \"198.18.0.12\"; } ); },\n"
		   "         { name = \"dns\"; address = \"198.18.1.2:53/udp\"; } );\n");
	assert_int_equal(xl4_reload_prepare(&cur, &next, err, sizeof(err)), 0);
	assert_int_equal(next.n_vips, 2);
	assert_int_equal(next.vips[0].n_backends, 2);
	/* no lb.seed in the file: the running seed stays */
	assert_int_equal(next.lb.seed, cur.lb.seed);
	xl4_config_free(&next);
	xl4_config_free(&cur);
}

static void test_error_names_line_and_key(void **state)
{
	struct xl4_config cur, next;
	char err[1024] = "", want[256];

	(void)state;
	load_cur(&cur);
	next.n_vips = 12345; /* untouched on error */
	write_file("interfaces = [\"eth0\"];\n"
		   "vips = ( { name = \"web\";\n"
		   "           address = \"198.18.1.1:99999/tcp\"; } );\n");
	assert_int_not_equal(xl4_reload_prepare(&cur, &next, err, sizeof(err)), 0);
	snprintf(want, sizeof(want), "%s:3: vips[0].address", path);
	assert_non_null(strstr(err, want));
	assert_int_equal(next.n_vips, 12345);
	xl4_config_free(&cur);
}

/* A weight libconfig would wrap (2^32 + 3 -> 3) is refused as written; nothing changes. */
static void test_wrapping_integer_refused(void **state)
{
	struct xl4_config cur, next;
	char err[1024] = "", want[256];

	(void)state;
	load_cur(&cur);
	next.n_vips = 12345; /* untouched on error */
	write_file("interfaces = [\"eth0\"];\n"
		   "vips = ( { name = \"web\"; address = \"198.18.1.1:80/tcp\";\n"
		   "           backends = ( { address = \"198.18.0.11\"; weight = 4294967299; } ); } );\n");
	assert_int_not_equal(xl4_reload_prepare(&cur, &next, err, sizeof(err)), 0);
	snprintf(want, sizeof(want), "%s:3: vips[0].backends[0].weight: '4294967299' is out of range 1..65535",
		 path);
	if (!strstr(err, want))
		fail_msg("error '%s' lacks '%s'", err, want);
	assert_int_equal(next.n_vips, 12345);
	assert_int_equal(cur.vips[0].backends[0].weight, 1);
	xl4_config_free(&cur);
}

static void test_needs_restart(void **state)
{
	struct xl4_config cur, next;
	char err[1024] = "";

	(void)state;
	load_cur(&cur);
	write_file("interfaces = [\"eth1\"];\n"
		   "lb: { table_size = 257; conntrack: { max_entries = 2048; }; };\n"
		   "events: { samples_per_second = 5; };\n");
	assert_int_not_equal(xl4_reload_prepare(&cur, &next, err, sizeof(err)), 0);
	/* map sizes the pins hold: a restart alone will not apply them, and the error says so */
	assert_non_null(strstr(err, "needs restart with new pins: "));
	assert_non_null(strstr(err, "'xl4 detach' and 'xl4 cleanup'"));
	assert_null(strstr(err, "flows are kept"));
	assert_non_null(strstr(err, "interfaces"));
	assert_non_null(strstr(err, "lb.table_size (65537 -> 257)"));
	assert_non_null(strstr(err, "lb.conntrack.max_entries (262144 -> 2048)"));
	assert_non_null(strstr(err, "events.samples_per_second (100 -> 5)"));
	/* a changed seed moves every flow's slot: restart only */
	write_file("interfaces = [\"eth0\"];\nlb: { seed = 7; };\n");
	cur.lb.seed = 8;
	assert_int_not_equal(xl4_reload_prepare(&cur, &next, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "needs restart: lb.seed (8 -> 7)"));
	assert_non_null(strstr(err, "flows are kept"));
	xl4_config_free(&cur);
}

/* Sixteen interfaces of fifteen characters write out longer than 256 characters: a change to
 * the last one is a change too. */
static void test_long_interface_list_compared_whole(void **state)
{
	struct xl4_config cur, next;
	char err[2048] = "", text[1024];
	size_t used = 0;

	(void)state;
	load_cur(&cur);
	for (int last = 0; last < 2; last++) {
		used = (size_t)snprintf(text, sizeof(text), "interfaces = [");
		for (int i = 0; i < 16; i++)
			used += (size_t)snprintf(text + used, sizeof(text) - used, "%s\"ifacenumber%04d\"",
						 i ? ", " : "", i == 15 && last ? 9999 : i);
		snprintf(text + used, sizeof(text) - used, "];\n");
		write_file(text);
		if (!last) {
			xl4_config_free(&cur);
			xl4_config_defaults(&cur);
			assert_int_equal(xl4_config_load(path, &cur, err, sizeof(err)), 0);
			continue;
		}
		assert_int_not_equal(xl4_reload_prepare(&cur, &next, err, sizeof(err)), 0);
		assert_non_null(strstr(err, "needs restart: interfaces"));
	}
	xl4_config_free(&cur);
}

/* lb.conntrack.ipv6_max_entries = 0 is a table of max_entries: writing that size out (or
 * taking it back to 0) changes no table and reloads; another size still needs new pins. */
static void test_ct6_max_compared_by_size(void **state)
{
	struct xl4_config cur, next;
	char err[1024] = "";

	(void)state;
	load_cur(&cur);
	assert_int_equal(cur.lb.ct6_max, 0);
	write_file("interfaces = [\"eth0\"];\nlb: { conntrack: { ipv6_max_entries = 262144; }; };\n");
	if (xl4_reload_prepare(&cur, &next, err, sizeof(err)))
		fail_msg("0 -> 262144 (max_entries) refused: %s", err);
	assert_int_equal(next.lb.ct6_max, 262144);
	/* and back to 0 from the explicit size */
	xl4_config_free(&cur);
	write_file("interfaces = [\"eth0\"];\n");
	if (xl4_reload_prepare(&next, &cur, err, sizeof(err)))
		fail_msg("262144 -> 0 refused: %s", err);
	assert_int_equal(cur.lb.ct6_max, 0);
	xl4_config_free(&next);
	write_file("interfaces = [\"eth0\"];\nlb: { conntrack: { ipv6_max_entries = 1024; }; };\n");
	assert_int_not_equal(xl4_reload_prepare(&cur, &next, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "needs restart with new pins: lb.conntrack.ipv6_max_entries (0 (= 262144) -> 1024)"));
	/* left at 0, it follows max_entries: that key names the change, once */
	write_file("interfaces = [\"eth0\"];\nlb: { conntrack: { max_entries = 2048; }; };\n");
	assert_int_not_equal(xl4_reload_prepare(&cur, &next, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "needs restart with new pins: lb.conntrack.max_entries (262144 -> 2048);"));
	assert_null(strstr(err, "ipv6_max_entries"));
	xl4_config_free(&cur);
}

/* Which keys need a restart is the rows' restart_only; these are the ones that must. */
static void test_restart_only_rows(void **state)
{
	static const char *const want[] = {
		"interfaces", "xdp_mode", "pin_path", "control_socket", "parser.fragments",
		"events.samples_per_second", "lb.seed", "lb.table_size", "lb.conntrack.max_entries",
		"lb.conntrack.ipv6_max_entries", "lb.conntrack.per_cpu_lru", "lb.conntrack.flow_cache",
		"filter.rate_table_size", "filter.ipv4_groups",
		"metrics.listen", "guard.greylist_slots", "guard.syn_slots", "guard.verified_max",
		"daemon.socket_group",
	};
	size_t n = 0, found = 0;
	struct xl4_config cur, next;
	char err[1024] = "";

	(void)state;
	for (const struct xl4_conf_key *k = xl4_conf_keys; k->key; k++) {
		n += k->restart_only;
		for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
			found += k->restart_only && !strcmp(k->key, want[i]);
	}
	assert_int_equal(found, sizeof(want) / sizeof(want[0]));
	assert_int_equal(n, found);
	/* of those, the sizes of pinned maps (src/engine.c's pinned_maps[] names them) */
	{
		static const char *const pinned[] = {
			"lb.table_size", "lb.conntrack.max_entries", "lb.conntrack.ipv6_max_entries",
			"lb.conntrack.per_cpu_lru", "filter.ipv4_groups", "guard.greylist_slots",
			"guard.syn_slots", "guard.verified_max",
		};
		size_t np = 0, fp = 0;

		for (const struct xl4_conf_key *k = xl4_conf_keys; k->key; k++) {
			np += k->pinned_size;
			assert_true(!k->pinned_size || k->restart_only);
			for (size_t i = 0; i < sizeof(pinned) / sizeof(pinned[0]); i++)
				fp += k->pinned_size && !strcmp(k->key, pinned[i]);
		}
		assert_int_equal(fp, sizeof(pinned) / sizeof(pinned[0]));
		assert_int_equal(np, fp);
	}
	/* values as the file writes them, whatever their type */
	load_cur(&cur);
	write_file("interfaces = [\"eth0\", \"eth1\"];\nxdp_mode = \"skb\";\n"
		   "parser: { fragments = \"drop\"; };\nmetrics: { listen = \"\"; };\n"
		   "guard: { syn_slots = 1024; };\n");
	assert_int_not_equal(xl4_reload_prepare(&cur, &next, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "needs restart with new pins: interfaces ([\"eth0\"] -> [\"eth0\", \"eth1\"]), "
				    "xdp_mode (\"auto\" -> \"skb\"), parser.fragments (\"pass\" -> \"drop\"), "
				    "metrics.listen (\"127.0.0.1:9143\" -> \"\"), "
				    "guard.syn_slots (1048576 -> 1024); nothing was changed"));
	/* and a key that is not restart-only reloads */
	write_file("interfaces = [\"eth0\"];\nguard: { syn_rate = 77; };\n");
	if (xl4_reload_prepare(&cur, &next, err, sizeof(err)))
		fail_msg("%s", err);
	assert_int_equal(next.guard.syn_rate, 77);
	xl4_config_free(&next);
	xl4_config_free(&cur);
}

/* A daemon whose file left per_cpu_lru out runs the lists the pins had (the daemon writes them
 * in its running config): a file that still leaves it out reloads; one that names the other
 * lists needs new pins. */
static void test_per_cpu_lru_as_settled(void **state)
{
	struct xl4_config cur, next;
	char err[1024] = "";

	(void)state;
	load_cur(&cur);
	assert_false(cur.lb.ct_per_cpu_lru_set);
	cur.lb.ct_per_cpu_lru = false; /* old pins, one shared list */
	write_file(base);
	if (xl4_reload_prepare(&cur, &next, err, sizeof(err)))
		fail_msg("%s", err);
	assert_false(next.lb.ct_per_cpu_lru);
	xl4_config_free(&next);
	write_file("interfaces = [\"eth0\"];\nlb: { conntrack: { per_cpu_lru = true; }; };\n");
	assert_int_not_equal(xl4_reload_prepare(&cur, &next, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "needs restart with new pins: lb.conntrack.per_cpu_lru (false -> "
				    "true)"));
	xl4_config_free(&cur);
}

static void test_command_line_wins(void **state)
{
	struct xl4_config cur, next;
	char err[1024] = "";

	(void)state;
	load_cur(&cur);
	/* started with -i veth9 and --pin-path: the file's values do not count */
	snprintf(cur.ifaces[0], sizeof(cur.ifaces[0]), "veth9");
	snprintf(cur.pin_path, sizeof(cur.pin_path), "/sys/fs/bpf/xl4-t");
	cur.cli_set = XL4_CLI_IFACES | XL4_CLI_PIN_PATH;
	write_file(base);
	assert_int_equal(xl4_reload_prepare(&cur, &next, err, sizeof(err)), 0);
	assert_string_equal(next.ifaces[0], "veth9");
	assert_string_equal(next.pin_path, "/sys/fs/bpf/xl4-t");
	xl4_config_free(&next);
	xl4_config_free(&cur);
}

/* The socket's group and mode are set when it is made: a reload cannot change them, so a
 * changed daemon.socket_group is refused, not taken and left unapplied; --socket-group wins
 * over the file, as at start. */
static void test_socket_group_needs_restart(void **state)
{
	struct xl4_config cur, next;
	char err[1024] = "";

	(void)state;
	load_cur(&cur);
	write_file("interfaces = [\"eth0\"];\ndaemon: { socket_group = \"root\"; };\n");
	assert_int_not_equal(xl4_reload_prepare(&cur, &next, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "needs restart: daemon.socket_group (\"\" -> \"root\")"));
	/* started with the group in the file, reloaded without it */
	xl4_config_free(&cur);
	xl4_config_defaults(&cur);
	assert_int_equal(xl4_config_load(path, &cur, err, sizeof(err)), 0);
	write_file(base);
	assert_int_not_equal(xl4_reload_prepare(&cur, &next, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "needs restart: daemon.socket_group (\"root\" -> \"\")"));
	/* started with --socket-group: the file's group (none here) does not count */
	cur.cli_set |= XL4_CLI_SOCKET_GROUP;
	if (xl4_reload_prepare(&cur, &next, err, sizeof(err)))
		fail_msg("%s", err);
	assert_string_equal(next.socket_group, "root");
	assert_int_equal(next.socket_gid, 0);
	xl4_config_free(&next);
	xl4_config_free(&cur);
}

static void test_no_config_file(void **state)
{
	struct xl4_config cur, next;
	char err[1024] = "";

	(void)state;
	xl4_config_defaults(&cur);
	assert_int_not_equal(xl4_reload_prepare(&cur, &next, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "without a config file"));
}

static int calls[3];

static int sub_ok(void *state, const struct xl4_config *o, const struct xl4_config *n, char *err,
		  size_t errlen)
{
	(void)o, (void)n, (void)err, (void)errlen;
	calls[*(int *)state]++;
	return 0;
}

static int sub_fail(void *state, const struct xl4_config *o, const struct xl4_config *n, char *err,
		    size_t errlen)
{
	(void)o, (void)n;
	calls[*(int *)state]++;
	snprintf(err, errlen, "rules[2]: bad");
	return -22;
}

static void test_apply_stops_at_first_error(void **state)
{
	static int i0 = 0, i1 = 1, i2 = 2;
	const struct xl4_reloader subs[] = {
		{ "lb", sub_ok, &i0 }, { "filter", sub_fail, &i1 }, { "guard", sub_ok, &i2 },
	};
	struct xl4_config cur;
	char err[1024] = "";

	(void)state;
	xl4_config_defaults(&cur);
	snprintf(cur.path, sizeof(cur.path), "x.conf");
	assert_int_equal(xl4_reload_apply(subs, 3, &cur, &cur, err, sizeof(err)), -22);
	assert_int_equal(calls[0], 1);
	assert_int_equal(calls[1], 1);
	assert_int_equal(calls[2], 0);
	assert_non_null(strstr(err, "x.conf: filter: rules[2]: bad"));
	assert_non_null(strstr(err, "applied before it: lb"));
	memset(calls, 0, sizeof(calls));
	assert_int_equal(xl4_reload_apply(subs, 1, &cur, &cur, err, sizeof(err)), 0);
	assert_int_equal(calls[0], 1);
}

/* The guard's settings as the kernel holds them (xl4_gcfg_v2's one entry). */
static struct xl4_guard_cfg kernel_guard(int fd)
{
	struct xl4_guard_cfg k = { 0 };
	__u32 zero = 0;

	assert_int_equal(bpf_map_lookup_elem(fd, &zero, &k), 0);
	return k;
}

/*
 * A reload that stops in a later subsystem keeps the old file as the daemon's, while the guard
 * has written the new settings already. The next reload of the old file must put them back:
 * the guard compares with what runs, not with the file it is handed as the old one.
 */
static void test_guard_reload_follows_live_settings(void **state)
{
	struct xl4_config a, b;
	struct daemon_guard *g;
	char err[256];
	int fd;

	(void)state;
	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "test_gcfg", sizeof(__u32), sizeof(struct xl4_guard_cfg),
			    1, NULL);
	if (fd < 0) {
		fprintf(stderr, "SKIPPED: test_guard_reload_follows_live_settings needs root for a BPF "
				"array (%s)\n", strerror(errno));
		skip();
	}
	g = calloc(1, sizeof(*g));
	assert_non_null(g);
	g->maps.cfg = fd;
	g->maps.grey_slots = 1 << 16;
	g->maps.syn_slots = 1 << 16;
	xl4_config_defaults(&a);
	snprintf(a.path, sizeof(a.path), "x.conf");
	a.guard.enabled = false; /* off in both: no analyzer thread to start */
	b = a;
	a.guard.ratio = 3.0;
	b.guard.ratio = 5.0;
	g->conf = a.guard;
	assert_int_equal(daemon_guard_reload(g, &a, &b, err, sizeof(err)), 0);
	assert_int_equal(kernel_guard(fd).ratio_x100, 500);
	/* the daemon kept a (a later subsystem failed); a is reloaded */
	assert_int_equal(daemon_guard_reload(g, &a, &a, err, sizeof(err)), 0);
	assert_int_equal(kernel_guard(fd).ratio_x100, 300);
	assert_true(g->conf.ratio == 3.0);
	/* and an unchanged reload writes nothing: the entry zeroed stays zeroed */
	assert_int_equal(bpf_map_update_elem(fd, &(__u32){ 0 }, &(struct xl4_guard_cfg){ 0 }, BPF_ANY), 0);
	assert_int_equal(daemon_guard_reload(g, &a, &a, err, sizeof(err)), 0);
	assert_int_equal(kernel_guard(fd).ratio_x100, 0);
	free(g);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_changed_vips_accepted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_error_names_line_and_key, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wrapping_integer_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_needs_restart, setup, teardown),
		cmocka_unit_test_setup_teardown(test_long_interface_list_compared_whole, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ct6_max_compared_by_size, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restart_only_rows, setup, teardown),
		cmocka_unit_test_setup_teardown(test_per_cpu_lru_as_settled, setup, teardown),
		cmocka_unit_test_setup_teardown(test_command_line_wins, setup, teardown),
		cmocka_unit_test_setup_teardown(test_socket_group_needs_restart, setup, teardown),
		cmocka_unit_test(test_no_config_file),
		cmocka_unit_test(test_apply_stops_at_first_error),
		cmocka_unit_test(test_guard_reload_follows_live_settings),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
