// SPDX-License-Identifier: GPL-2.0
/*
 * Bench reference for forwarding on veth (bench/capacity): XDP_TX and nothing else. The frame
 * goes back out of the interface it came in on, unchanged, so the cost over the trivial drop is
 * the transmit itself; an xl4 l2 forward adds parsing, the VIP and conntrack lookups and the
 * MAC rewrite to it.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int xdp_tx(struct xdp_md *ctx)
{
	(void)ctx;
	return XDP_TX;
}

char LICENSE[] SEC("license") = "GPL";
