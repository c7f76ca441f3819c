// SPDX-License-Identifier: GPL-2.0
/*
 * Bench reference: xl4's own parser (bpf/parse.h, exactly what the datapath runs) and then
 * XDP_DROP, whatever the verdict. The gap between this and a trivial XDP_PASS is what strict
 * parsing costs; the gap between this and an xl4 path is what the stages after parsing cost.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "parse.h"

/* The parse result goes somewhere the compiler cannot see through, so it is not optimised
 * away (one store per packet, like the stats write every real path does). */
__u32 sink;

SEC("xdp")
int parse_drop(struct xdp_md *ctx)
{
	struct xl4_pkt p = { .frag_policy = XL4_FRAG_PASS };
	int ret;

	ret = xl4_parse((void *)(long)ctx->data, (void *)(long)ctx->data_end, &p);
	sink = (__u32)ret ^ p.t.sport ^ p.t.dport ^ p.t.flags ^ p.t.saddr[0];
	return XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
