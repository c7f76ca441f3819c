// SPDX-License-Identifier: GPL-2.0
/*
 * The parser's IPv4 header checksum (bpf/parse.h ip4_hdr_csum, summed as 32-bit words) against
 * the RFC 791 definition summed 16 bits at a time: random headers of every length (IHL 5..15),
 * at the offsets a frame puts them (after 0, 1 or 2 VLAN tags: not 4-byte aligned), right and
 * with one bit flipped anywhere in the header.
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
			assert_int_equal(ip4_hdr_csum(ip, h + len), 0);
			/* a bit flipped anywhere but in the IHL nibble (that changes the length) */
			{
				int byte = 1 + (int)(rnd8() % (len - 1));

				h[byte] ^= (uint8_t)(1 << (rnd8() % 8));
				assert_int_not_equal(ip4_hdr_csum(ip, h + len), 0);
				assert_int_equal(ip4_hdr_csum(ip, h + len), csum16(h, len));
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
		assert_int_equal(ip4_hdr_csum((struct iphdr *)h, h + ihl * 4), 0);
		memset(h, 0, sizeof(h));
		h[0] = (uint8_t)(0x40 | ihl);
		c = csum16(h, ihl * 4);
		memcpy(h + 10, &c, 2);
		assert_int_equal(ip4_hdr_csum((struct iphdr *)h, h + ihl * 4), 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_length_and_offset),
		cmocka_unit_test(test_carries),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
