// SPDX-License-Identifier: GPL-2.0
/*
 * Bench reference: a floor under the established l2 flow on veth (bench/capacity's "floor_tx"
 * row), the work no forwarder that validates what it forwards can skip: xl4's parser (it reads
 * the frame, whose cache lines the generator's CPU wrote), a MAC rewrite (the source takes the
 * old destination, the destination a fixed backend's), XDP_TX. A frame the parser refuses is
 * dropped.
 *
 * Excluded, as xl4's own additions (so this floor is lower than the path's): the connection
 * table's lookup, the backend and VIP by id, the settings, the counters and the clock. The
 * group's baseline, bench/xdp_tx.bpf.c, does not read the frame at all.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "parse.h"

static const __u8 backend_mac[ETH_ALEN] = { 0x02, 0x00, 0x00, 0x00, 0x0b, 0x01 };

SEC("xdp")
int floor_tx(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct xl4_pkt p = { .frag_policy = XL4_FRAG_PASS };
	struct ethhdr *eth = data;

	if (xl4_parse(data, end, &p) < 0 || (void *)(eth + 1) > end)
		return XDP_DROP;
	__builtin_memcpy(eth->h_source, eth->h_dest, ETH_ALEN);
	__builtin_memcpy(eth->h_dest, backend_mac, ETH_ALEN);
	return XDP_TX;
}

char LICENSE[] SEC("license") = "GPL";
