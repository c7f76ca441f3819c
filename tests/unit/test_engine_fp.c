// SPDX-License-Identifier: GPL-2.0
/* The engine's fingerprint (src/engine.c), which decides whether a restarted daemon adopts the
 * running program: the same object with the same effective settings gives the same
 * fingerprint, a setting written out at the object's default included; any size or knob the
 * loader applies differently gives another. Opens the object only: no kernel needed. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "engine.h"
#include "xl4.skel.h"

/* The object's own size of a map, read from the skeleton (not written down twice). */
static __u32 default_entries(const char *map)
{
	struct xl4_bpf *skel = xl4_bpf__open();
	__u32 n;

	assert_non_null(skel);
	n = bpf_map__max_entries(bpf_object__find_map_by_name(skel->obj, map));
	xl4_bpf__destroy(skel);
	return n;
}

static void test_defaults_written_out(void **state)
{
	struct xl4_engine_opts none = { 0 }, o = { 0 };
	__u64 base = xl4_engine_fingerprint(&none);

	(void)state;
	o.ct_max = default_entries("xl4_ct4_v1");
	assert_true(o.ct_max > 0);
	assert_int_equal(xl4_engine_fingerprint(&o), base);
	o = none;
	o.ct6_max = default_entries("xl4_ct_v1");
	assert_int_equal(xl4_engine_fingerprint(&o), base);
	o = none;
	o.ring_size = XL4_RING_SIZE_DEFAULT;
	assert_int_equal(xl4_engine_fingerprint(&o), base);
	o = none;
	o.guard_syn_slots = default_entries("xl4_gsyn_v1");
	assert_int_equal(xl4_engine_fingerprint(&o), base);
	o = none;
	o.rate_max = default_entries("xl4_rate_v1");
	assert_int_equal(xl4_engine_fingerprint(&o), base);
	o = none; /* the config always writes this one out */
	o.block4_groups = XL4_BLOCK4_GROUPS_DEFAULT;
	assert_int_equal(xl4_engine_fingerprint(&o), base);
	o = none; /* and this one */
	o.fcache_slots = XL4_FCACHE_SLOTS_DEFAULT;
	assert_int_equal(xl4_engine_fingerprint(&o), base);
}

static void test_changes_change_it(void **state)
{
	struct xl4_engine_opts none = { 0 }, o;
	__u64 base = xl4_engine_fingerprint(&none);

	(void)state;
	assert_int_equal(xl4_engine_fingerprint(&none), base); /* stable */
	o = none;
	o.ct_max = 2 * default_entries("xl4_ct4_v1");
	assert_int_not_equal(xl4_engine_fingerprint(&o), base);
	o = none;
	o.ct6_max = 2 * default_entries("xl4_ct_v1");
	assert_int_not_equal(xl4_engine_fingerprint(&o), base);
	o = none;
	o.ct_per_cpu_lru = true;
	assert_int_not_equal(xl4_engine_fingerprint(&o), base);
	o = none;
	o.ring_size = 257;
	assert_int_not_equal(xl4_engine_fingerprint(&o), base);
	/* the flow cache's size, and the cache turned off (the program then reads no slot) */
	o = none;
	o.fcache_slots = 2 * XL4_FCACHE_SLOTS_DEFAULT;
	assert_int_not_equal(xl4_engine_fingerprint(&o), base);
	o = none;
	o.fcache_off = true;
	assert_int_not_equal(xl4_engine_fingerprint(&o), base);
	o = none;
	o.sample_per_sec = 7;
	assert_int_not_equal(xl4_engine_fingerprint(&o), base);
	o = none;
	o.frag_policy = XL4_FRAG_DROP;
	assert_int_not_equal(xl4_engine_fingerprint(&o), base);
	o = none;
	o.guard_grey_slots = 2 * XL4_GUARD_GREY_WAYS * default_entries("xl4_ggrey_v1");
	assert_int_not_equal(xl4_engine_fingerprint(&o), base);
	o = none;
	o.guard_verified_max = 2 * default_entries("xl4_gver_v1");
	assert_int_not_equal(xl4_engine_fingerprint(&o), base);
	o = none;
	o.block4_groups = 4096;
	assert_int_not_equal(xl4_engine_fingerprint(&o), base);
	o = none;
	o.trace = true;
	assert_int_not_equal(xl4_engine_fingerprint(&o), base);
}

/* A flow cache size the slot index cannot use is refused before anything loads (callers
 * that do not come through the config's check: the bench, tests, the engine's own users). */
static void test_flow_cache_size_refused(void **state)
{
	static const __u32 bad[] = { 1000, 128, 2 * XL4_FCACHE_SLOTS_MAX };
	struct xl4_engine_opts o = { 0 };

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		o.fcache_slots = bad[i];
		assert_int_equal(xl4_engine_pins_fit(&o), -EINVAL);
	}
	o.fcache_slots = XL4_FCACHE_SLOTS_MIN;
	assert_int_equal(xl4_engine_pins_fit(&o), 0);
	o.fcache_slots = 1000;
	o.fcache_off = true; /* off: the size is not used */
	assert_int_equal(xl4_engine_pins_fit(&o), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults_written_out),
		cmocka_unit_test(test_changes_change_it),
		cmocka_unit_test(test_flow_cache_size_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
