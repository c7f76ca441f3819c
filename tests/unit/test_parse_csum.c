// SPDX-License-Identifier: GPL-2.0
/*
 * The parser's IPv4 header checksum (bpf/parse.h ip4_hdr_csum_ok, summed as 32-bit words and
 * folded twice) against the RFC 791 definition summed 16 bits at a time: random headers of
 * every length (IHL 5..15), at the offsets a frame puts them (after 0, 1 or 2 VLAN tags: not
 * 4-byte aligned), right and with one bit flipped anywhere in the header. And its two folds
 * (csum.h xl4_csum64_ok) against the full fold, over the sums where a fold could go wrong.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "parse.h"

/* RFC 791/1071, the plain way: 16-bit words, end-around carry. */
static uint16_t csum16(const uint8_t *h, int len)
{
	uint32_t sum = 0;

	for (int i = 0; i < len; i += 2)
		sum += (uint16_t)(h[i] | h[i + 1] << 8);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static uint64_t rng = 0x2545f4914f6cdd1dull;

static uint8_t rnd8(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint8_t)rng;
}

static void test_every_length_and_offset(void **state)
{
	uint8_t frame[14 + 8 + 60 + 8];

	(void)state;
	for (int round = 0; round < 2000; round++) {
		for (int ihl = 5; ihl <= 15; ihl++) {
			int off = 14 + 4 * (round % 3), len = ihl * 4;
			uint8_t *h = frame + off;
			struct iphdr *ip = (struct iphdr *)h;
			uint16_t c;

			for (size_t i = 0; i < sizeof(frame); i++)
				frame[i] = rnd8();
			h[0] = (uint8_t)(0x40 | ihl);
			h[10] = h[11] = 0;
			c = csum16(h, len);
			memcpy(h + 10, &c, 2);
			assert_int_equal(csum16(h, len), 0);
			assert_true(ip4_hdr_csum_ok(ip, h + len, len));
			/* a bit flipped anywhere but in the IHL nibble (that changes the length) */
			{
				int byte = 1 + (int)(rnd8() % (len - 1));

				h[byte] ^= (uint8_t)(1 << (rnd8() % 8));
				assert_int_not_equal(csum16(h, len), 0);
				assert_false(ip4_hdr_csum_ok(ip, h + len, len));
			}
		}
	}
}

/* The extreme sums: every byte 0xff (the carries) and all zero but the version byte. */
static void test_carries(void **state)
{
	uint8_t h[60];
	uint16_t c;

	(void)state;
	for (int ihl = 5; ihl <= 15; ihl++) {
		memset(h, 0xff, sizeof(h));
		h[0] = (uint8_t)(0x40 | ihl);
		h[10] = h[11] = 0;
		c = csum16(h, ihl * 4);
		memcpy(h + 10, &c, 2);
		assert_true(ip4_hdr_csum_ok((struct iphdr *)h, h + ihl * 4, ihl * 4));
		memset(h, 0, sizeof(h));
		h[0] = (uint8_t)(0x40 | ihl);
		c = csum16(h, ihl * 4);
		memcpy(h + 10, &c, 2);
		assert_true(ip4_hdr_csum_ok((struct iphdr *)h, h + ihl * 4, ihl * 4));
	}
}

/* The full fold: end-around carries until 16 bits are left, 0xffff for a right checksum. */
static int fold_is_ffff(uint64_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return s == 0xffff;
}

/* xl4_csum64_ok() folds twice where the full fold may take four: the same answer for every
 * sum below 2^48 it is given. Multiples of 0xffff (right) and their neighbours (wrong), where
 * a fold's carry decides, at every size; 0 and the largest sums; random sums. */
static void test_two_folds(void **state)
{
	uint64_t s;

	(void)state;
	for (uint64_t m = 0; m < (1ull << 33); m = m * 3 + 1) {
		for (int d = -2; d <= 2; d++) {
			s = m * 0xffff + (uint64_t)(int64_t)d;
			if (s >> 48)
				continue;
			assert_int_equal(xl4_csum64_ok(s), fold_is_ffff(s));
		}
	}
	for (s = 0; s < 0x40000; s++)
		assert_int_equal(xl4_csum64_ok(s), fold_is_ffff(s));
	for (s = (1ull << 48) - 0x40000; s < (1ull << 48); s++)
		assert_int_equal(xl4_csum64_ok(s), fold_is_ffff(s));
	for (int i = 0; i < 1000000; i++) {
		s = 0;
		for (int b = 0; b < 6; b++)
			s = s << 8 | rnd8();
		assert_int_equal(xl4_csum64_ok(s), fold_is_ffff(s));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_length_and_offset),
		cmocka_unit_test(test_carries),
		cmocka_unit_test(test_two_folds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
