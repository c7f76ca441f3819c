// SPDX-License-Identifier: GPL-2.0
/*
 * xl4 XDP entry: parse -> (filter -> guard -> load balancer, as they land) -> exit.
 * Each stage returns a verdict to go on with or a negative drop reason; every packet
 * leaves through xl4_exit() in stats.h.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "parse.h"
#include "stats.h"

const volatile __u32 cfg_frag_policy = XL4_FRAG_PASS; /* enum xl4_frag_policy */

SEC("xdp")
int xl4_xdp(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct xl4_pkt pkt = { .frag_policy = cfg_frag_policy };
	int ret;

	ret = xl4_parse(data, data_end, &pkt);
	if (ret < 0)
		return xl4_drop(ctx, &pkt, ret);

	return xl4_exit(ctx, &pkt, XDP_PASS, XL4_R_NONE);
}

char LICENSE[] SEC("license") = "GPL";
