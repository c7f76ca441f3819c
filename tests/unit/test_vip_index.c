// SPDX-License-Identifier: GPL-2.0
/* The VIP index's builder (src/vip_index.c): every VIP in the slot xl4_vip_slot() names, no two
 * in one slot when a salt can part them, the salt in use kept while it does. */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "vip_index.h"

/* n VIPs: IPv4 198.18.0.0/16 and IPv6 2001:db8::/32 addresses on a few ports. */
static void keys_make(struct xl4_vip_key *k, __u32 *ids, int n)
{
	for (int i = 0; i < n; i++) {
		memset(&k[i], 0, sizeof(k[i]));
		k[i].proto = i % 3 ? 6 : 17;
		k[i].port = htons(80 + i % 4);
		if (i % 2) {
			k[i].family = 6;
			k[i].addr[0] = htonl(0x20010db8);
			k[i].addr[3] = htonl(i);
		} else {
			k[i].family = 4;
			k[i].addr[0] = htonl(0xc6120000 | i);
		}
		ids[i] = (i * 7) % XL4_MAX_VIPS; /* ids in any order */
	}
}

static int slots_used(const struct xl4_vip_index *ix)
{
	int n = 0;

	for (__u32 i = 0; i < XL4_VIP_INDEX_SLOTS; i++)
		n += ix->id1[i] != 0;
	return n;
}

static void test_every_vip_in_its_slot(void **state)
{
	static struct xl4_vip_index ix;
	struct xl4_vip_key k[XL4_MAX_VIPS];
	__u32 ids[XL4_MAX_VIPS];

	(void)state;
	keys_make(k, ids, XL4_MAX_VIPS);
	assert_int_equal(xl4_vip_index_build(&ix, k, ids, XL4_MAX_VIPS, 0), 0);
	for (int i = 0; i < XL4_MAX_VIPS; i++)
		assert_int_equal(ix.id1[xl4_vip_slot(&k[i], ix.salt)], ids[i] + 1);
	assert_int_equal(slots_used(&ix), XL4_MAX_VIPS);
}

/* Two VIPs that meet in a slot under salt 0: fill leaves the second to the hash table, build
 * finds a salt that parts them. */
static void test_clash_parted_by_another_salt(void **state)
{
	static struct xl4_vip_index ix;
	struct xl4_vip_key k[2], probe;
	__u32 ids[2] = { 3, 9 }, id;
	int found = 0;

	(void)state;
	keys_make(k, &id, 1);
	for (__u32 a = 1; a < 1u << 20 && !found; a++) {
		probe = k[0];
		probe.addr[0] = htonl(0xc6120000 | a);
		found = xl4_vip_slot(&probe, 0) == xl4_vip_slot(&k[0], 0);
	}
	assert_true(found);
	k[1] = probe;
	assert_int_equal(xl4_vip_index_fill(&ix, k, ids, 2, 0), 1);
	assert_int_equal(ix.id1[xl4_vip_slot(&k[0], 0)], 4);
	assert_int_equal(slots_used(&ix), 1);
	assert_int_equal(xl4_vip_index_build(&ix, k, ids, 2, 0), 0);
	assert_int_not_equal(ix.salt, 0);
	assert_int_equal(ix.id1[xl4_vip_slot(&k[0], ix.salt)], 4);
	assert_int_equal(ix.id1[xl4_vip_slot(&k[1], ix.salt)], 10);
}

/* A salt that parts every VIP is kept: adding a VIP moves no other. */
static void test_salt_in_use_kept(void **state)
{
	static struct xl4_vip_index ix;
	struct xl4_vip_key k[XL4_MAX_VIPS];
	__u32 ids[XL4_MAX_VIPS], salt;

	(void)state;
	keys_make(k, ids, XL4_MAX_VIPS);
	assert_int_equal(xl4_vip_index_build(&ix, k, ids, 8, 0), 0);
	salt = ix.salt ^ 0x5a5a5a5a;
	if (xl4_vip_index_fill(&ix, k, ids, 9, salt))
		skip(); /* that salt does not part 9 VIPs: nothing to show with it */
	assert_int_equal(xl4_vip_index_build(&ix, k, ids, 9, salt), 0);
	assert_int_equal(ix.salt, salt);
}

/* An id out of range is never written to a slot (it would name no VIP copy). */
static void test_bad_id_left_out(void **state)
{
	static struct xl4_vip_index ix;
	struct xl4_vip_key k[1];
	__u32 ids[1];

	(void)state;
	keys_make(k, ids, 1);
	ids[0] = XL4_MAX_VIPS;
	assert_int_equal(xl4_vip_index_fill(&ix, k, ids, 1, 0), 1);
	assert_int_equal(slots_used(&ix), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_vip_in_its_slot),
		cmocka_unit_test(test_clash_parted_by_another_salt),
		cmocka_unit_test(test_salt_in_use_kept),
		cmocka_unit_test(test_bad_id_left_out),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
