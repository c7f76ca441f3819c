/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The load balancer stage: VIP lookup, connection table, Maglev pick, and the l2 / port
 * forwarding modes (ipip lives in encap.h). DSR: only client->VIP packets come through here;
 * backends answer clients directly.
 *
 * A flow's backend is remembered in xl4_ct4_v1 (IPv4) or xl4_ct_v1 (IPv6). A miss, whether a
 * new flow or a mid-flow packet this node has not seen (another balancer had it, or we
 * restarted), goes through Maglev, which every node computes identically, so it lands on the
 * same backend.
 */
#ifndef XL4_LB_H
#define XL4_LB_H

#include <linux/bpf.h>
#include <linux/if_ether.h>

#include "compat.h"
#include "csum.h"
#include "flow_cache.h"
#include "hash.h"
#include "lb_pkt.h"
#include "maps.h"
#include "parse.h"
#include "stats.h"
#include "vip.h"

struct lb_ctx {
	struct xl4_flow_key fk;
	struct xl4_vip *vip;
	struct xl4_backend *be;
	__u32 be_id;
	__u32 hash;
	__u32 hash2; /* the flow hash's second word (xl4_flow_hash_pair()), where computed */
	__u64 now;
	/* the SYN slot an ACK claims (lb_syn_claim()), released once the ACK is forwarded */
	struct xl4_guard_slot *claimed;
};

static __always_inline void lb_count(void *map, __u32 idx, __u32 bytes, int new_flow, int hit,
				     int capped)
{
	struct xl4_lb_counters *c = bpf_map_lookup_elem(map, &idx);

	if (!c)
		return;
	c->packets++;
	c->bytes += bytes;
	c->new_flows += new_flow;
	c->ct_hits += hit;
	c->ct_misses += !hit;
	c->ct_insert_capped += capped;
}

/* A conntrack entry still names a backend we may use. */
static __always_inline int flow_usable(const struct xl4_flow *f, const struct xl4_backend *be,
				       const struct xl4_vip *vip)
{
	if (!be || be->gen != f->gen || (be->flags & XL4_BE_F_GONE))
		return 0;
	if ((be->flags & XL4_BE_F_DOWN) && (vip->flags & XL4_VIP_F_RESCHEDULE_DOWN))
		return 0;
	return 1;
}

/* Maglev: the VIP's live table, indexed by the flow hash. */
static __always_inline __u32 maglev_pick(const struct xl4_vip *vip, __u32 hash,
					 const struct xl4_lb_globals *g)
{
	__u32 size = g->ring_size, idx, *id;

	if (size == 0 || size > XL4_RING_SIZE_MAX || vip->id >= XL4_MAX_VIPS)
		return XL4_BACKEND_NONE;
	idx = (vip->id * 2 + (vip->ring_slot & 1)) * size + hash % size;
	id = bpf_map_lookup_elem(&xl4_ring_v1, &idx);
	return id ? *id : XL4_BACKEND_NONE;
}

/* The flow's entry in its family's connection table (include/xl4/abi.h; family 6 is IPv6,
 * anything else IPv4, as in src/conntrack.c). The verifier inlines
 * a lookup only when its call site sees one map, and clang would merge the two calls into one
 * fed by either map (a helper call through the map's ops): the two different asm statements
 * after them (one move and two of the register onto itself: no-ops) keep them apart. */
static __always_inline struct xl4_flow *ct_lookup(const struct lb_ctx *l)
{
	struct xl4_flow_key4 k4;
	struct xl4_flow *f;

	if (l->fk.family == 6) {
		f = bpf_map_lookup_elem(&xl4_ct_v1, &l->fk);
		asm volatile("%0 = %0" : "+r"(f));
		return f;
	}
	xl4_flow_key4_of(&k4, &l->fk);
	f = bpf_map_lookup_elem(&xl4_ct4_v1, &k4);
	asm volatile("%0 = %0\n\t%0 = %0" : "+r"(f));
	return f;
}

static __always_inline void ct_update(const struct lb_ctx *l, const struct xl4_flow *f)
{
	struct xl4_flow_key4 k4;
	struct xl4_flow *old;

	if (l->fk.family == 6) {
		bpf_map_update_elem(&xl4_ct_v1, &l->fk, f, BPF_ANY);
		return;
	}
	xl4_flow_key4_of(&k4, &l->fk);
	fcache_forget(&l->fk);
	/* A new flow's insert is one call as before. An entry already there may have copies in
	 * other CPUs' flow caches: they go when this one says otherwise. */
	if (!bpf_map_update_elem(&xl4_ct4_v1, &k4, f, BPF_NOEXIST))
		return;
	old = bpf_map_lookup_elem(&xl4_ct4_v1, &k4);
	if (old && fcache_same(old, f)) {
		old->last_s = f->last_s;
		return;
	}
	bpf_map_update_elem(&xl4_ct4_v1, &k4, f, BPF_ANY);
	fcache_invalidate();
}

/* moved: the entry held what a copy of it does not (another backend, generation or hash than
 * the flow goes to now), so other CPUs' copies go too. */
static __always_inline void ct_delete(const struct lb_ctx *l, int moved)
{
	struct xl4_flow_key4 k4;

	if (l->fk.family == 6) {
		bpf_map_delete_elem(&xl4_ct_v1, &l->fk);
		return;
	}
	xl4_flow_key4_of(&k4, &l->fk);
	fcache_forget(&l->fk);
	if (!bpf_map_delete_elem(&xl4_ct4_v1, &k4) && moved)
		fcache_invalidate();
}

/* Insert a new flow unless this CPU's insert budget for the second is spent. Returns 1 when
 * the insert was skipped for budget (the packet is still forwarded: Maglev is stateless). */
static __always_inline int ct_insert(struct lb_ctx *l, const struct xl4_lb_globals *g)
{
	struct xl4_flow f = { .backend_id = l->be_id, .gen = l->be->gen, .flags = XL4_FLOW_F_HASH,
			      .hash = l->hash, .last_s = l->now >> XL4_FLOW_TOUCH_SHIFT };
	__u32 zero = 0;

	if (g->ct_inserts_per_sec &&
	    !xl4_bucket_take(bpf_map_lookup_elem(&xl4_ctbudg_v1, &zero), g->ct_inserts_per_sec, l->now))
		return 1;
	ct_update(l, &f);
	return 0;
}

/* port: l2 plus destination-port rewrite with an incremental checksum update (RFC 1624).
 * A UDP checksum of 0 stays 0: over IPv4 it means "none"; over IPv6 it is not allowed, but
 * a zero-checksum tunnel socket takes it (RFC 6935), and an update would only make it wrong.
 * A computed 0 is sent as 0xffff. */
static __always_inline int fwd_port(struct xdp_md *ctx, const struct xl4_pkt *p,
				    const struct xl4_backend *be)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	__u8 *l4 = (__u8 *)data + (p->l4_off & XL4_OFF_MASK);
	__be16 old = p->t.dport, new = be->port;

	if ((void *)(l4 + 8) > end)
		return -XL4_R_TCP_TRUNC;
	if (p->t.proto == IPPROTO_TCP) {
		struct tcphdr *th = (void *)l4;

		if ((void *)(th + 1) > end)
			return -XL4_R_TCP_TRUNC;
		th->dest = new;
		th->check = xl4_csum_replace2(th->check, old, new);
	} else {
		struct udphdr *uh = (void *)l4;

		uh->dest = new;
		if (uh->check) {
			uh->check = xl4_csum_replace2(uh->check, old, new);
			if (!uh->check)
				uh->check = 0xffff;
		}
	}
	return fwd_l2(ctx, be);
}

#endif /* XL4_LB_H */
