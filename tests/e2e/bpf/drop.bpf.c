// SPDX-License-Identifier: GPL-2.0
/*
 * XDP_DROP and nothing else. The flood tests attach it to the attacker's own interface: what
 * the balancer sends back to spoofed sources (SYN-ACK challenges, a backend's SYN-ACKs) then
 * ends there, as it would in a network where those sources are not the attacker's machine,
 * instead of costing the shared CPUs a trip through the attacker's IP stack.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int xdp_drop(struct xdp_md *ctx)
{
	(void)ctx;
	return XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
