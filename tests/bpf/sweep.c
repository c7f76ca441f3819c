// SPDX-License-Identifier: GPL-2.0
/*
 * Truncation sweep: each packet below is cut at every byte offset, and the reason each cut
 * must get is computed from the packet's header boundaries and the order of the checks in
 * bpf/parse.h, never copied from observed output:
 *
 *   cut < 14                        eth_trunc (the kernel refuses such test runs: user space)
 *   inside a VLAN tag               vlan_trunc
 *   < 20 bytes of IPv4              ip4_trunc        < 40 bytes of IPv6     ip6_trunc
 *   inside IPv4 options             ip4_opt_trunc
 *   after the IP header             ip4_len_over / ip6_len_over: the IP length still
 *                                   promises the bytes that were cut
 *
 * A second pass ("resized") rewrites the IP length to match each cut (and the IPv4 checksum),
 * so the cut reaches the extension-header and transport checks instead:
 *
 *   inside an extension header      ip6_ext_trunc
 *   < 20 bytes of TCP               tcp_trunc        inside TCP options     tcp_opt_trunc
 *   < 8 bytes of UDP / ICMP         udp_trunc / icmp_trunc / icmp6_trunc
 *   UDP header whole, data cut      udp_len_mismatch (the UDP length still says more)
 *   TCP or ICMP header whole        pass (their payload length is not checked)
 */
#include <stdio.h>
#include <linux/bpf.h>
#include <linux/ip.h>
#include <linux/ipv6.h>

#include "harness.h"
#include "xl4/abi.h"

static uint32_t expect_cut(const struct pkt *full, uint32_t n, bool resized)
{
	int end = n; /* where the IP packet ends once resized */

	if (n < ETH_HLEN)
		return XL4_R_ETH_TRUNC;
	for (int i = 0; i < full->n; i++) {
		const struct pb_layer *l = &full->l[i];
		int rem = end - l->off; /* bytes of this layer and what follows it */

		switch (l->kind) {
		case PB_ETH:
		case PB_RAW:
			break;
		case PB_VLAN:
			if (rem < 4)
				return XL4_R_VLAN_TRUNC;
			break;
		case PB_IP4:
			if (rem < 20)
				return XL4_R_IP4_TRUNC;
			if (rem < l->hlen)
				return XL4_R_IP4_OPT_TRUNC;
			if (!resized && n < full->len)
				return XL4_R_IP4_LEN_OVER;
			break;
		case PB_IP6:
			if (rem < 40)
				return XL4_R_IP6_TRUNC;
			if (!resized && n < full->len)
				return XL4_R_IP6_LEN_OVER;
			break;
		case PB_EXT:
			if (rem < 8 || rem < l->hlen)
				return XL4_R_IP6_EXT_TRUNC;
			break;
		case PB_TCP:
			if (rem < 20)
				return XL4_R_TCP_TRUNC;
			return rem < l->hlen ? XL4_R_TCP_OPT_TRUNC : XL4_R_NONE;
		case PB_UDP:
			if (rem < 8)
				return XL4_R_UDP_TRUNC;
			return (uint32_t)rem != full->len - l->off ? XL4_R_UDP_LEN_MISMATCH : XL4_R_NONE;
		case PB_ICMP:
			return rem < 8 ? XL4_R_ICMP_TRUNC : XL4_R_NONE;
		case PB_ICMP6:
			return rem < 8 ? XL4_R_ICMP6_TRUNC : XL4_R_NONE;
		}
	}
	return XL4_R_NONE;
}

/* Make the IP header's length agree with a frame cut at n bytes, when the header is whole. */
static void resize(struct pkt *p, uint32_t n)
{
	const struct pb_layer *ip4 = pkt_layer(p, PB_IP4), *ip6 = pkt_layer(p, PB_IP6);

	if (ip4 && n >= ip4->off + ip4->hlen)
		pkt_set_ip4_totlen(p, n - ip4->off, 1);
	if (ip6 && n >= ip6->off + 40u)
		pkt_set16(p, ip6->off + offsetof(struct ipv6hdr, payload_len), n - ip6->off - 40);
}

static const uint8_t ip_opts[8] = { 0x94, 0x04, 0x00, 0x00, 0x01, 0x01, 0x01, 0x00 };
static const uint8_t tcp_opts[12] = { 2, 4, 0x05, 0xb4, 4, 2, 1, 1, 1, 3, 3, 7 };

static void start(struct pkt *p, int v6, int ntags)
{
	pb_init(p);
	pb_eth(p, 0);
	if (ntags > 0)
		pb_vlan(p, ETH_P_8021AD, 10);
	if (ntags > 1)
		pb_vlan(p, ETH_P_8021Q, 20);
	if (v6)
		pb_ip6(p, &(struct pb_ip6){ .src = CLIENT6, .dst = VIP6 });
	else
		pb_ip4(p, &(struct pb_ip4){ .src = CLIENT4, .dst = VIP4, .opts = ntags ? ip_opts : NULL,
					    .optlen = ntags ? sizeof(ip_opts) : 0 });
}

static void tcp(struct pkt *p, int v6, int ntags)
{
	start(p, v6, ntags);
	pb_tcp(p, CLIENT_PORT, VIP_PORT, TH_PSH | TH_ACK);
	pb_tcp_opts(p, tcp_opts, sizeof(tcp_opts));
	pb_payload(p, NULL, 10);
	pb_finish(p);
}

static void s_tcp4(struct pkt *p) { tcp(p, 0, 0); }
static void s_tcp6(struct pkt *p) { tcp(p, 1, 0); }
static void s_tcp4_qinq(struct pkt *p) { tcp(p, 0, 2); }

static void s_udp4(struct pkt *p)
{
	start(p, 0, 0);
	pb_udp(p, CLIENT_PORT, 53);
	pb_payload(p, NULL, 12);
	pb_finish(p);
}

static void s_udp6(struct pkt *p)
{
	start(p, 1, 0);
	pb_udp(p, CLIENT_PORT, 53);
	pb_payload(p, NULL, 12);
	pb_finish(p);
}

static void s_icmp4(struct pkt *p)
{
	start(p, 0, 0);
	pb_icmp(p, 8, 0);
	pb_payload(p, NULL, 8);
	pb_finish(p);
}

static void s_icmp6(struct pkt *p)
{
	start(p, 1, 0);
	pb_icmp6(p, 128, 0);
	pb_payload(p, NULL, 8);
	pb_finish(p);
}

static void s_ext6(struct pkt *p)
{
	start(p, 1, 1);
	pb_ext(p, IPPROTO_HOPOPTS, 8);
	pb_ext(p, IPPROTO_DSTOPTS, 16);
	pb_ext(p, IPPROTO_ROUTING, 24);
	pb_ext(p, IPPROTO_AH, 20);
	pb_frag6(p, 0, 0, 1); /* atomic */
	pb_tcp(p, CLIENT_PORT, VIP_PORT, TH_SYN);
	pb_tcp_opts(p, tcp_opts, 8);
	pb_finish(p);
}

static const struct {
	const char *name;
	void (*build)(struct pkt *p);
} sweeps[] = {
	{ "tcp4", s_tcp4 },	{ "udp4", s_udp4 },	{ "icmp4", s_icmp4 },
	{ "tcp6", s_tcp6 },	{ "udp6", s_udp6 },	{ "icmp6", s_icmp6 },
	{ "tcp4-qinq-opts", s_tcp4_qinq },		{ "ext6-dot1ad", s_ext6 },
};

void suite_sweep(void)
{
	int cuts = 0;

	for (size_t s = 0; s < sizeof(sweeps) / sizeof(sweeps[0]); s++) {
		struct pkt full, cut;

		sweeps[s].build(&full);
		for (int resized = 0; resized < 2; resized++) {
			/* every cut 0..len-1, then the whole packet, which must pass */
			for (uint32_t n = 0; n <= full.len; n++) {
				uint32_t want = expect_cut(&full, n, resized);
				char name[96];

				snprintf(name, sizeof(name), "sweep%s/%s/cut%u", resized ? "-resized" : "",
					 sweeps[s].name, n);
				if (!fx_selected(name))
					continue;
				cut = full;
				pkt_truncate(&cut, n);
				if (resized)
					resize(&cut, n);
				fx_check(name, ENG_PASS, &cut, want ? XDP_DROP : XDP_PASS, want, NULL);
				cuts++;
			}
		}
	}
	printf("sweep: %zu packets, %d cuts checked\n", sizeof(sweeps) / sizeof(sweeps[0]), cuts);
}
