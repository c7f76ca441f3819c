// SPDX-License-Identifier: GPL-2.0
/*
 * Bench reference: the floor of the SYN-ACK challenge on a spoofed SYN (bench/capacity's
 * "floor_chal" row), the work no stateless SYN-ACK challenge can skip: xl4's parser, xl4's
 * cookie (SipHash-2-4 over both addresses, both ports, the time slice and the family: a
 * fixed key here) and xl4's SYN-ACK built in place (bpf/guard_pkt.h, the same code), XDP_TX.
 * Anything not a TCP SYN passes.
 *
 * Excluded, as xl4's own additions: the VIP lookup, the guard's settings, stats and window,
 * the source sketch, the verified-source (cookie) table that a new source misses, the
 * per-CPU challenge budget, the key rotation, the counters, and the stage's call.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "guard_pkt.h"

SEC("xdp")
int floor_chal(struct xdp_md *ctx)
{
	__u64 key[2] = { 0x0123456789abcdefull, 0xfedcba9876543210ull }; /* stack: no .rodata */
	struct xl4_pkt p = { .frag_policy = XL4_FRAG_PASS };
	__u64 slice = bpf_jiffies64() >> 8;

	if (xl4_parse((void *)(long)ctx->data, (void *)(long)ctx->data_end, &p) < 0)
		return XDP_ABORTED;
	if (p.t.proto != IPPROTO_TCP || !(p.t.flags & XL4_F_L4) ||
	    (p.t.tcp_flags & (XL4_TCP_SYN | XL4_TCP_ACK)) != XL4_TCP_SYN)
		return XDP_PASS;
	return guard_challenge(ctx, &p, guard_cookie(key, &p, slice)) == XDP_TX ? XDP_TX :
										  XDP_ABORTED;
}

char LICENSE[] SEC("license") = "GPL";
