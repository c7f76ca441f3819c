// SPDX-License-Identifier: GPL-2.0
/* The maps the datapath reads by address (bpf/maps.h XL4_BY_ADDRESS: ".data.*" sections) are
 * the one-entry arrays earlier builds pinned: a daemon of this build must start over those
 * pins, reuse them (the program uses the pinned map, its content kept), not refuse them and
 * not start from zero. The pins are real: plain arrays made as an earlier build made them, in
 * a directory of its own under /sys/fs/bpf (root needed). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <errno.h>
#include <dirent.h>
#include <unistd.h>
#include <sys/stat.h>
#include <cmocka.h>
#include <bpf/bpf.h>

#include "adopt.h"
#include "engine.h"
#include "xl4/abi.h"

static const struct {
	const char *pin;
	__u32 value_size;
} legacy[] = {
	{ XL4_MAP_FILTER_GLOBALS, sizeof(struct xl4_filter_globals) },
	{ XL4_MAP_LB_GLOBALS, sizeof(struct xl4_lb_globals) },
	{ XL4_MAP_GUARD_CFG, sizeof(struct xl4_guard_cfg) },
	{ XL4_MAP_VIP_BITS, sizeof(struct xl4_vip_bits) },
	{ XL4_MAP_VIP_INDEX, sizeof(struct xl4_vip_index) },
	{ XL4_MAP_ICMP_CFG, sizeof(struct xl4_icmp_cfg) },
	{ XL4_MAP_GUARD_COOKIE_KEYS, sizeof(struct xl4_guard_ckeys) },
};
#define N_LEGACY (sizeof(legacy) / sizeof(legacy[0]))

static char dir[64];

static void rm_pins(void)
{
	char path[sizeof(dir) + 256];
	struct dirent *de;
	DIR *d = opendir(dir);

	if (!d)
		return;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.') {
			snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
			unlink(path);
		}
	closedir(d);
	rmdir(dir);
}

static __u32 map_id(int fd)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);

	assert_int_equal(bpf_obj_get_info_by_fd(fd, &info, &len), 0);
	return info.id;
}

static void test_earlier_pins_reused(void **state)
{
	struct xl4_engine_opts o = { 0 };
	struct xl4_engine e;
	__u32 ids[128], mark, zero = 0;
	static __u8 buf[1 << 14];
	char path[256];
	int n, err;

	(void)state;
	snprintf(dir, sizeof(dir), "/sys/fs/bpf/xl4-unit-pins-%d", (int)getpid());
	if (geteuid() != 0 || mkdir(dir, 0700)) {
		fprintf(stderr,
			"SKIPPED: test_earlier_pins_reused needs root and /sys/fs/bpf (%s)\n", dir);
		skip();
	}
	for (size_t i = 0; i < N_LEGACY; i++) {
		LIBBPF_OPTS(bpf_map_create_opts, mo);
		int fd;

		assert_true(legacy[i].value_size <= sizeof(buf));
		fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, legacy[i].pin, sizeof(__u32),
				    legacy[i].value_size, 1, &mo);
		assert_true(fd >= 0);
		memset(buf, 0, sizeof(buf));
		mark = 0x5a5a0000u + (__u32)i; /* what must survive the load */
		memcpy(buf, &mark, sizeof(mark));
		assert_int_equal(bpf_map_update_elem(fd, &zero, buf, BPF_ANY), 0);
		snprintf(path, sizeof(path), "%s/%s", dir, legacy[i].pin);
		assert_int_equal(bpf_obj_pin(fd, path), 0);
		close(fd);
	}

	o.pin_path = dir;
	err = xl4_engine_load(&e, &o);
	if (err)
		print_error("xl4_engine_load over an earlier build's pins: %s\n", strerror(-err));
	assert_int_equal(err, 0);
	n = xl4_prog_map_ids(e.prog_fd, ids, 128);
	assert_true(n > 0);
	for (size_t i = 0; i < N_LEGACY; i++) {
		int fd, used = 0;
		__u32 id;

		snprintf(path, sizeof(path), "%s/%s", dir, legacy[i].pin);
		fd = bpf_obj_get(path);
		assert_true(fd >= 0);
		id = map_id(fd);
		for (int k = 0; k < n; k++)
			used |= ids[k] == id;
		if (!used)
			print_error("%s: the program does not use the pinned map\n", legacy[i].pin);
		assert_true(used);
		assert_int_equal(bpf_map_lookup_elem(fd, &zero, buf), 0);
		memcpy(&mark, buf, sizeof(mark));
		assert_int_equal(mark, 0x5a5a0000u + (__u32)i);
		close(fd);
	}
	xl4_engine_close(&e);
}

static void pin_dummy(const char *name)
{
	LIBBPF_OPTS(bpf_map_create_opts, mo);
	char path[256];
	int fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "xl4_unit", sizeof(__u32), 4, 1, &mo);

	assert_true(fd >= 0);
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	assert_int_equal(bpf_obj_pin(fd, path), 0);
	close(fd);
}

static bool pinned(const char *name)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return access(path, F_OK) == 0;
}

/* An older pin of a map a start rebuilds (the IPv4 index's v1, before direct slots) stays until
 * the new program is attached: a start that fails before then removes only the new pin it
 * made, so the older build can start again; one that attached removes the older pin. */
static void test_replaced_pins_go_after_attach(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/sys/fs/bpf/xl4-unit-repl-%d", (int)getpid());
	if (geteuid() != 0 || mkdir(dir, 0700)) {
		fprintf(stderr,
			"SKIPPED: test_replaced_pins_go_after_attach needs root and "
			"/sys/fs/bpf (%s)\n",
			dir);
		skip();
	}
	pin_dummy("xl4_b4idx_v1");
	/* a start that fails: the older pin stays, the one it made goes */
	assert_int_equal(xl4_pins_check_layout(dir, false), 0);
	assert_true(pinned("xl4_b4idx_v1"));
	pin_dummy("xl4_b4idx_v2"); /* as the load pins it */
	xl4_pins_replaced_abort(dir);
	assert_true(pinned("xl4_b4idx_v1"));
	assert_false(pinned("xl4_b4idx_v2"));
	/* the new pin there before the start (an earlier start's) is not this start's to remove */
	pin_dummy("xl4_b4idx_v2");
	assert_int_equal(xl4_pins_check_layout(dir, false), 0);
	xl4_pins_replaced_abort(dir);
	assert_true(pinned("xl4_b4idx_v2"));
	/* a start that attached: the older pin goes, the new one stays */
	assert_int_equal(xl4_pins_check_layout(dir, false), 0);
	xl4_pins_replaced_commit(dir);
	assert_false(pinned("xl4_b4idx_v1"));
	assert_true(pinned("xl4_b4idx_v2"));
	/* a dry run (xl4 check) changes nothing, and leaves nothing for a commit to do */
	pin_dummy("xl4_b4idx_v1");
	assert_int_equal(xl4_pins_check_layout(dir, true), 0);
	xl4_pins_replaced_commit(dir);
	assert_true(pinned("xl4_b4idx_v1"));
}

static int teardown(void **state)
{
	(void)state;
	rm_pins();
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_earlier_pins_reused, teardown),
		cmocka_unit_test_teardown(test_replaced_pins_go_after_attach, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
