/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The load balancer's per-packet pieces that touch no map: the flow key from the parse result
 * and the l2 rewrite. Apart from lb.h so the bench's floor programs (bench/floor.bpf.c) run
 * exactly this code without xl4's maps.
 */
#ifndef XL4_LB_PKT_H
#define XL4_LB_PKT_H

#include <linux/bpf.h>
#include <linux/if_ether.h>

#include "compat.h"
#include "eth.h"
#include "parse.h"

static __always_inline void flow_key_from_pkt(struct xl4_flow_key *fk, const struct xl4_pkt *p)
{
	__builtin_memcpy(fk->saddr, p->t.saddr, 16);
	__builtin_memcpy(fk->daddr, p->t.daddr, 16);
	fk->sport = p->t.sport;
	fk->dport = p->t.dport;
	fk->proto = p->t.proto;
	fk->family = (p->t.flags & XL4_F_IPV6) ? 6 : 4;
	fk->_pad = 0;
}

/* l2: the frame goes back out with the backend's MAC as destination and ours as source
 * (the MAC the client's router addressed to us). */
static __always_inline int fwd_l2(struct xdp_md *ctx, const struct xl4_backend *be)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;

	if ((void *)(eth + 1) > end)
		return -XL4_R_ETH_TRUNC;
	xl4_eth_forward(eth, xl4_mac_load(be->mac));
	return XDP_TX;
}

#endif /* XL4_LB_PKT_H */
