// SPDX-License-Identifier: GPL-2.0
/*
 * The IPv4 conntrack key written as two 64-bit words (abi.h xl4_flow_key4_set(), so the
 * kernel's hash and compare read it with store forwarding) holds the very bytes the fields
 * would: every entry a build wrote field by field, and every key user space builds, is found
 * by the datapath's key, and the other way round. Random fields, and each field alone at its
 * extremes (a stray bit or a shift off by one lands in a neighbour or the padding).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "xl4/abi.h"

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint32_t rnd32(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)rng;
}

static void check(__be32 s, __be32 d, __be16 sp, __be16 dp, __u8 proto)
{
	struct xl4_flow_key4 want, got;
	struct xl4_flow_key fk;

	memset(&want, 0, sizeof(want));
	want.saddr = s;
	want.daddr = d;
	want.sport = sp;
	want.dport = dp;
	want.proto = proto;
	memset(&got, 0xa5, sizeof(got)); /* the padding must come out zero too */
	xl4_flow_key4_set(&got, s, d, sp, dp, proto);
	assert_memory_equal(&got, &want, sizeof(want));
	memset(&fk, 0, sizeof(fk));
	fk.saddr[0] = s;
	fk.daddr[0] = d;
	fk.sport = sp;
	fk.dport = dp;
	fk.proto = proto;
	fk.family = 4;
	memset(&got, 0x5a, sizeof(got));
	xl4_flow_key4_of(&got, &fk);
	assert_memory_equal(&got, &want, sizeof(want));
}

static void test_random_fields(void **state)
{
	(void)state;
	for (int i = 0; i < 100000; i++)
		check(rnd32(), rnd32(), (__be16)rnd32(), (__be16)rnd32(), (__u8)rnd32());
}

static void test_each_field_alone(void **state)
{
	(void)state;
	check(0, 0, 0, 0, 0);
	check(0xffffffffu, 0, 0, 0, 0);
	check(0, 0xffffffffu, 0, 0, 0);
	check(0, 0, 0xffff, 0, 0);
	check(0, 0, 0, 0xffff, 0);
	check(0, 0, 0, 0, 0xff);
	check(0x80000001u, 0x80000001u, 0x8001, 0x8001, 0x81);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_random_fields),
		cmocka_unit_test(test_each_field_alone),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
