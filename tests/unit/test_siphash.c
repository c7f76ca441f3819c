// SPDX-License-Identifier: GPL-2.0
/*
 * SipHash-2-4 (include/xl4/siphash.h): the paper's reference vectors (key 00..0f, message
 * 00..len-1 for len 0..63, vectors_sip64 of the reference implementation), and the word-wise
 * cookie hash the datapath runs against the byte-defined function over the documented layout.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <cmocka.h>

#include "xl4/siphash.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static const uint64_t reference[64] = {
	0x726fdb47dd0e0e31, 0x74f839c593dc67fd, 0x0d6c8009d9a94f5a, 0x85676696d7fb7e2d,
	0xcf2794e0277187b7, 0x18765564cd99a68d, 0xcbc9466e58fee3ce, 0xab0200f58b01d137,
	0x93f5f5799a932462, 0x9e0082df0ba9e4b0, 0x7a5dbbc594ddb9f3, 0xf4b32f46226bada7,
	0x751e8fbc860ee5fb, 0x14ea5627c0843d90, 0xf723ca908e7af2ee, 0xa129ca6149be45e5,
	0x3f2acc7f57c29bdb, 0x699ae9f52cbe4794, 0x4bc1b3f0968dd39c, 0xbb6dc91da77961bd,
	0xbed65cf21aa2ee98, 0xd0f2cbb02e3b67c7, 0x93536795e3a33e88, 0xa80c038ccd5ccec8,
	0xb8ad50c6f649af94, 0xbce192de8a85b8ea, 0x17d835b85bbb15f3, 0x2f2e6163076bcfad,
	0xde4daaaca71dc9a5, 0xa6a2506687956571, 0xad87a3535c49ef28, 0x32d892fad841c342,
	0x7127512f72f27cce, 0xa7f32346f95978e3, 0x12e0b01abb051238, 0x15e034d40fa197ae,
	0x314dffbe0815a3b4, 0x027990f029623981, 0xcadcd4e59ef40c4d, 0x9abfd8766a33735c,
	0x0e3ea96b5304a7d0, 0xad0c42d6fc585992, 0x187306c89bc215a9, 0xd4a60abcf3792b95,
	0xf935451de4f21df2, 0xa9538f0419755787, 0xdb9acddff56ca510, 0xd06c98cd5c0975eb,
	0xe612a3cb9ecba951, 0xc766e62cfcadaf96, 0xee64435a9752fe72, 0xa192d576b245165a,
	0x0a8787bf8ecb74b2, 0x81b3e73d20b49b6f, 0x7fa8220ba3b2ecea, 0x245731c13ca42499,
	0xb78dbfaf3a8d83bd, 0xea1ad565322a1a0b, 0x60e61c23a3795013, 0x6606d7e446282b93,
	0x6ca4ecb15c5f91e1, 0x9f626da15c9625f3, 0xe51b38608ef25f57, 0x958a324ceb064572,
};

static void test_reference_vectors(void **state)
{
	uint8_t key[16], msg[64];

	(void)state;
	for (int i = 0; i < 16; i++)
		key[i] = i;
	for (int i = 0; i < 64; i++)
		msg[i] = i;
	for (size_t len = 0; len < ARRAY_SIZE(reference); len++) {
		uint64_t h = xl4_siphash24(key, msg, len);

		if (h != reference[len])
			fail_msg("siphash of %zu bytes: %016llx, reference %016llx", len,
				 (unsigned long long)h, (unsigned long long)reference[len]);
	}
}

/* The key matters in both halves: flipping any one key bit changes the output. */
static void test_every_key_bit_counts(void **state)
{
	uint8_t key[16] = { 0 }, msg[40] = { 1, 2, 3 };
	uint64_t base = xl4_siphash24(key, msg, sizeof(msg));

	(void)state;
	for (int bit = 0; bit < 128; bit++) {
		key[bit / 8] ^= 1 << (bit % 8);
		if (xl4_siphash24(key, msg, sizeof(msg)) == base)
			fail_msg("key bit %d does not change the hash", bit);
		key[bit / 8] ^= 1 << (bit % 8);
	}
}

/* The datapath's word-wise cookie hash is SipHash-2-4 of the 40 bytes of struct
 * xl4_cookie_msg, laid out as docs/guard.md says, under key k0 || k1 (little-endian). */
static void test_cookie_layout(void **state)
{
	__u64 k[2] = { 0x0706050403020100ull, 0x0f0e0d0c0b0a0908ull };
	uint8_t key[16], bytes[40] = { 0 };
	struct xl4_cookie_msg m = { 0 };
	uint32_t sf;

	(void)state;
	for (int i = 0; i < 16; i++)
		key[i] = i;
	inet_pton(AF_INET6, "2001:db8::7", m.saddr);
	inet_pton(AF_INET6, "2001:db8:1::80", m.daddr);
	m.sport = htons(40001);
	m.dport = htons(443);
	m.slice_family = 123456 * 2 + 1;
	memcpy(bytes, m.saddr, 16);
	memcpy(bytes + 16, m.daddr, 16);
	bytes[32] = 40001 >> 8, bytes[33] = 40001 & 0xff;
	bytes[34] = 443 >> 8, bytes[35] = 443 & 0xff;
	sf = 123456 * 2 + 1;
	for (int b = 0; b < 4; b++)
		bytes[36 + b] = (sf >> (8 * b)) & 0xff;
	assert_int_equal(xl4_cookie_sip(k, &m), xl4_siphash24(key, bytes, sizeof(bytes)));
	/* and the family bit is part of it */
	m.slice_family ^= 1;
	assert_int_not_equal(xl4_cookie_sip(k, &m), xl4_siphash24(key, bytes, sizeof(bytes)));
}

/* The IPv4 message is 16 bytes: the 4-byte addresses, the ports, le32(slice * 2). */
static void test_cookie_layout_ipv4(void **state)
{
	__u64 k[2] = { 0x0706050403020100ull, 0x0f0e0d0c0b0a0908ull };
	uint8_t key[16], bytes[16] = { 0 };
	struct xl4_cookie_msg4 m = { 0 };
	uint32_t sf = 123456 * 2;

	(void)state;
	for (int i = 0; i < 16; i++)
		key[i] = i;
	inet_pton(AF_INET, "198.18.0.7", &m.saddr);
	inet_pton(AF_INET, "198.19.1.80", &m.daddr);
	m.sport = htons(40001);
	m.dport = htons(443);
	m.slice_family = sf;
	memcpy(bytes, &m.saddr, 4);
	memcpy(bytes + 4, &m.daddr, 4);
	bytes[8] = 40001 >> 8, bytes[9] = 40001 & 0xff;
	bytes[10] = 443 >> 8, bytes[11] = 443 & 0xff;
	for (int b = 0; b < 4; b++)
		bytes[12 + b] = (sf >> (8 * b)) & 0xff;
	assert_int_equal(xl4_cookie_sip4(k, &m), xl4_siphash24(key, bytes, sizeof(bytes)));
	/* the VIP's port is part of it */
	m.dport = htons(444);
	assert_int_not_equal(xl4_cookie_sip4(k, &m), xl4_siphash24(key, bytes, sizeof(bytes)));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reference_vectors),
		cmocka_unit_test(test_every_key_bit_counts),
		cmocka_unit_test(test_cookie_layout),
		cmocka_unit_test(test_cookie_layout_ipv4),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
