// SPDX-License-Identifier: GPL-2.0
/* The connection tables' LRU lists when the file leaves them out (src/ct_lru.c): per-CPU
 * lists, unless pins in place were made with one shared list (they are kept, whatever the
 * CPUs) or the kernel counts more possible CPUs than online ones. The pins are real: an LRU
 * hash pinned as xl4_ct4_v1 in a directory of its own under /sys/fs/bpf (root needed). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <errno.h>
#include <unistd.h>
#include <sys/stat.h>
#include <cmocka.h>
#include <bpf/bpf.h>

#include "ct_lru.h"
#include "xl4/abi.h"

static char dir[64];

static struct xl4_engine_opts open_opts(const char *pin_path)
{
	/* the value a file's default would leave, and nothing chose it */
	struct xl4_engine_opts o = { .pin_path = pin_path,
				     .ct_per_cpu_lru = true,
				     .ct_lru_open = true };
	return o;
}

static void test_chosen_by_the_file(void **state)
{
	struct xl4_engine_opts o = { .pin_path = "/nonexistent", .ct_per_cpu_lru = true };

	(void)state;
	xl4_ct_lru_settle(&o, 64, 2); /* the file said true: not even the CPUs change it */
	assert_true(o.ct_per_cpu_lru);
	o.ct_per_cpu_lru = false;
	xl4_ct_lru_settle(&o, 2, 2);
	assert_false(o.ct_per_cpu_lru);
}

static void test_no_pins(void **state)
{
	struct xl4_engine_opts o = open_opts("/nonexistent/xl4");

	(void)state;
	assert_int_equal(xl4_ct_lru_pinned("/nonexistent/xl4"), -ENOENT);
	xl4_ct_lru_settle(&o, 2, 2);
	assert_true(o.ct_per_cpu_lru);
	assert_false(o.ct_lru_open);
	o = open_opts(NULL);
	xl4_ct_lru_settle(&o, 4, 4);
	assert_true(o.ct_per_cpu_lru);
	/* CPUs that can never come up would hold shares of the table */
	o = open_opts("/nonexistent/xl4");
	xl4_ct_lru_settle(&o, 240, 2);
	assert_false(o.ct_per_cpu_lru);
	assert_false(o.ct_lru_open);
}

/* pin an LRU hash with flags as dir/name; 0 or -errno */
static int pin_named(const char *name, __u32 flags)
{
	LIBBPF_OPTS(bpf_map_create_opts, mo, .map_flags = flags);
	char path[128];
	int fd, err;

	fd = bpf_map_create(BPF_MAP_TYPE_LRU_HASH, name, sizeof(struct xl4_flow_key4),
			    sizeof(struct xl4_flow), 256, &mo);
	if (fd < 0)
		return -errno;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	err = bpf_obj_pin(fd, path) ? -errno : 0;
	close(fd);
	return err;
}

static int pin_table(__u32 flags)
{
	return pin_named("xl4_ct4_v1", flags);
}

static void unpin_table(void)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/xl4_ct4_v1", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/xl4_ct_v1", dir);
	unlink(path);
}

static void test_pins_decide(void **state)
{
	struct xl4_engine_opts o;

	(void)state;
	if (geteuid() != 0 || mkdir(dir, 0700)) {
		fprintf(stderr, "SKIPPED: test_pins_decide needs root and /sys/fs/bpf (%s)\n", dir);
		skip();
	}
	/* pins with one shared list are kept, though the CPUs would allow per-CPU lists */
	assert_int_equal(pin_table(0), 0);
	assert_int_equal(xl4_ct_lru_pinned(dir), 0);
	o = open_opts(dir);
	xl4_ct_lru_settle(&o, 2, 2);
	assert_false(o.ct_per_cpu_lru);
	unpin_table();
	/* pins with per-CPU lists are kept, though the CPUs alone would say shared */
	assert_int_equal(pin_table(BPF_F_NO_COMMON_LRU), 0);
	assert_int_equal(xl4_ct_lru_pinned(dir), 1);
	o = open_opts(dir);
	o.ct_per_cpu_lru = false;
	xl4_ct_lru_settle(&o, 240, 2);
	assert_true(o.ct_per_cpu_lru);
	unpin_table();
	/* pins of a build before the IPv4 table: only xl4_ct_v1, one shared list, kept */
	assert_int_equal(pin_named("xl4_ct_v1", 0), 0);
	assert_int_equal(xl4_ct_lru_pinned(dir), 0);
	o = open_opts(dir);
	xl4_ct_lru_settle(&o, 2, 2);
	assert_false(o.ct_per_cpu_lru);
	unpin_table();
	rmdir(dir);
}

static int teardown(void **state)
{
	(void)state;
	unpin_table();
	rmdir(dir);
	return 0;
}

/* A NIC with fewer receive queues than CPUs fills only that many per-CPU lists: said, with
 * what is left of the table; as many queues as CPUs or more, nothing. */
static void test_queue_note(void **state)
{
	char buf[512] = "";

	(void)state;
	assert_int_equal(xl4_ct_lru_queue_note(buf, sizeof(buf), "eth0", 16, 16, 262144), 0);
	assert_int_equal(xl4_ct_lru_queue_note(buf, sizeof(buf), "eth0", 32, 16, 262144), 0);
	assert_int_equal(xl4_ct_lru_queue_note(buf, sizeof(buf), "eth0", -ENOENT, 16, 262144), 0);
	assert_string_equal(buf, "");
	assert_true(xl4_ct_lru_queue_note(buf, sizeof(buf), "eth0", 4, 16, 262144) > 0);
	assert_non_null(strstr(buf, "eth0 has 4 receive queues for 16 CPUs"));
	assert_non_null(
		strstr(buf, "at most 4 of the 16 lists, 65536 of the table's 262144 entries"));
	assert_non_null(strstr(buf, "lb.conntrack.per_cpu_lru = false"));
	/* ct_max 0: the default size */
	assert_true(xl4_ct_lru_queue_note(buf, sizeof(buf), "eno1", 1, 2, 0) > 0);
	assert_non_null(strstr(buf, "eno1 has 1 receive queue for 2 CPUs"));
	assert_non_null(strstr(buf, "131072 of the table's 262144 entries"));
}

/* The loopback: one receive queue in sysfs, and no device behind it (not a NIC). */
static void test_rx_queues_of_lo(void **state)
{
	bool nic = true;

	(void)state;
	assert_int_equal(xl4_iface_rx_queues("lo", &nic), 1);
	assert_false(nic);
	assert_true(xl4_iface_rx_queues("xl4-no-such-if", &nic) < 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_chosen_by_the_file),
		cmocka_unit_test(test_no_pins),
		cmocka_unit_test(test_queue_note),
		cmocka_unit_test(test_rx_queues_of_lo),
		cmocka_unit_test_teardown(test_pins_decide, teardown),
	};

	snprintf(dir, sizeof(dir), "/sys/fs/bpf/xl4-test-ctlru-%d", (int)getpid());
	return cmocka_run_group_tests(tests, NULL, NULL);
}
