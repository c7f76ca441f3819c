// SPDX-License-Identifier: GPL-2.0
/*
 * The parser's shortcuts held to the definitions they stand for (bpf/parse.h):
 * XL4_TCP_FLAGS_BAD, one bit per combination of the six flag bits, against tcp_flags_invalid()
 * for all 64 of them (and for the two reserved bits above, which neither reads); the unicast
 * shortcut of ip4_src_martian() against the RFC's list, for every first octet.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "parse.h"

static void test_flag_bitmap_is_tcp_flags_invalid(void **state)
{
	(void)state;
	for (unsigned int f = 0; f < 256; f++) {
		int bit = (XL4_TCP_FLAGS_BAD >> (f & 0x3f)) & 1;

		if (bit != (tcp_flags_invalid((__u8)f) != 0))
			fail_msg("flags 0x%02x: bitmap says %d, tcp_flags_invalid says %d", f, bit,
				 tcp_flags_invalid((__u8)f));
	}
	/* the combinations a stack sends */
	assert_int_equal(tcp_flags_invalid(XL4_TCP_SYN), 0);
	assert_int_equal(tcp_flags_invalid(XL4_TCP_SYN | XL4_TCP_ACK), 0);
	assert_int_equal(tcp_flags_invalid(XL4_TCP_ACK | XL4_TCP_PSH | XL4_TCP_FIN), 0);
	assert_int_equal(tcp_flags_invalid(XL4_TCP_RST), 0);
	assert_int_not_equal(tcp_flags_invalid(XL4_TCP_SYN | XL4_TCP_FIN), 0);
}

/* RFC 1122 3.2.1.3 and 1112: what ip4_src_martian() refuses, written out plainly. */
static int martian_plain(uint32_t a)
{
	uint32_t first = a >> 24;

	if (a == 0)
		return 0;
	return first == 0 || first == 127 || (first >= 224 && first <= 239) || a == 0xffffffffu;
}

static void test_martian_every_first_octet(void **state)
{
	static const uint32_t rest[] = { 0, 1, 0x00ffffff, 0x00123456, 0x00fffffe };

	(void)state;
	for (uint32_t first = 0; first < 256; first++) {
		for (unsigned int i = 0; i < sizeof(rest) / sizeof(rest[0]); i++) {
			uint32_t a = first << 24 | rest[i];

			if (ip4_src_martian(bpf_htonl(a)) != martian_plain(a))
				fail_msg("%u.%u.%u.%u: parser says %d", a >> 24, (a >> 16) & 0xff,
					 (a >> 8) & 0xff, a & 0xff, ip4_src_martian(bpf_htonl(a)));
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_flag_bitmap_is_tcp_flags_invalid),
		cmocka_unit_test(test_martian_every_first_octet),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
