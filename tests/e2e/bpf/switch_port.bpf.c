// SPDX-License-Identifier: GPL-2.0
/*
 * The software switch's port towards the balancer (p-lb), in the flood tests: frames the
 * balancer sends to the attacker's MAC end here, everything else goes on to the bridge.
 *
 * What the balancer sends to the attacker is its answers to spoofed sources (SYN-ACK
 * challenges). In a network those leave through a hardware switch towards addresses that are
 * not the attacker's; on this harness each would cost an skb, the bridge and the attacker's
 * veth on the CPUs the balancer shares, so the harness would measure its own switch. The
 * balancer's work (the XDP_TX) is unchanged. The tests give the attacker's eth0 this MAC.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_helpers.h>

/* tests/e2e/lb_topo.sh LB_ATK_MAC: 02:00:5e:a7:7a:c0 */
static const unsigned char atk_mac[ETH_ALEN] = { 0x02, 0x00, 0x5e, 0xa7, 0x7a, 0xc0 };

SEC("xdp")
int xdp_switch_port(struct xdp_md *ctx)
{
	const unsigned char *data = (const unsigned char *)(long)ctx->data;
	const unsigned char *end = (const unsigned char *)(long)ctx->data_end;
	int i;

	if (data + ETH_ALEN > end)
		return XDP_PASS;
	for (i = 0; i < ETH_ALEN; i++)
		if (data[i] != atk_mac[i])
			return XDP_PASS;
	return XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
