// SPDX-License-Identifier: GPL-2.0
/*
 * XDP_PASS and nothing else. Test topologies attach it to the veth peer of an interface that
 * sends with XDP_TX (a veth drops XDP frames unless its peer runs XDP), and benchmarks use it
 * as the cheapest possible program for their baselines.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int xdp_pass(struct xdp_md *ctx)
{
	(void)ctx;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
