// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target for the packet parser, bpf/parse.h built for user space (compat.h), under
 * ASan/UBSan. The input is one frame. Invariants, for both fragment policies:
 *   - the result is 0 or minus a real drop reason (1 .. XL4_REASON_MAX-1);
 *   - on 0 with XL4_F_L4 the transport header lies inside the frame and inside the IP packet,
 *     after the IP header, after the link layer; TCP/UDP ports are non-zero;
 *   - the declared IP length fits the frame; at most two VLAN tags;
 *   - the drop policy never passes what the pass policy flags as a fragment, and never drops
 *     with a reason the pass policy would not reach first, except ip4_frag / ip6_frag.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "parse.h"

#define CHECK(cond)                  \
	do {                         \
		if (!(cond))         \
			abort();     \
	} while (0)

static int parse(const uint8_t *data, size_t size, __u32 policy, struct xl4_pkt *p)
{
	memset(p, 0, sizeof(*p));
	p->frag_policy = policy;
	return xl4_parse((void *)data, (void *)(data + size), p);
}

static void check_result(int ret, const struct xl4_pkt *p, size_t size)
{
	CHECK(ret <= 0);
	CHECK(ret == 0 || (-ret > XL4_R_NONE && -ret < XL4_REASON_MAX));
	CHECK(p->pkt_len == size);
	CHECK(p->vlan_depth <= XL4_VLAN_MAX);
	if (ret)
		return;
	if (p->l3_off) {
		CHECK(p->l3_off >= ETH_HLEN + 4 * p->vlan_depth);
		CHECK((size_t)p->l3_off + p->l3_len <= size);
	}
	if (p->t.flags & XL4_F_L4) {
		unsigned int min = p->t.proto == IPPROTO_TCP ? 20 : 8;

		CHECK(p->l3_off >= ETH_HLEN);
		CHECK(p->l4_off >= p->l3_off + ((p->t.flags & XL4_F_IPV6) ? 40 : 20));
		CHECK((size_t)p->l4_off + min <= size);
		CHECK(p->l4_len >= min);
		CHECK((size_t)p->l4_off + p->l4_len <= (size_t)p->l3_off + p->l3_len);
		CHECK(!(p->t.flags & XL4_F_FRAG_LATER));
		if (p->t.proto == IPPROTO_TCP || p->t.proto == IPPROTO_UDP)
			CHECK(p->t.sport && p->t.dport);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct xl4_pkt pass, drop;
	uint8_t *buf, *frame;
	int rp, rd;

	if (size > 65535)
		return 0;
	/* A heap copy that ends exactly at the frame's end: one byte of over-read is an ASan
	 * report. It starts 2 bytes into an aligned block, as drivers place frames
	 * (NET_IP_ALIGN), so the IP header is 4-byte aligned: parse.h reads headers through
	 * struct pointers, which UBSan's alignment check requires to be aligned in user space
	 * (BPF on x86 does not care: XDP's own IP headers sit at 2 mod 4). */
	buf = malloc(size + 2);
	if (!buf)
		return 0;
	frame = buf + 2;
	memcpy(frame, data, size);
	rp = parse(frame, size, XL4_FRAG_PASS, &pass);
	rd = parse(frame, size, XL4_FRAG_DROP, &drop);
	check_result(rp, &pass, size);
	check_result(rd, &drop, size);

	/* the drop policy differs only by ip4_frag / ip6_frag */
	if (rd == -XL4_R_IP4_FRAG || rd == -XL4_R_IP6_FRAG)
		CHECK(rp == 0 ? (pass.t.flags & XL4_F_FRAG) != 0 : rp != -XL4_R_IP4_FRAG &&
							     rp != -XL4_R_IP6_FRAG);
	else
		CHECK(rd == rp && !(drop.t.flags & XL4_F_FRAG));
	free(buf);
	return 0;
}
