/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The load-balancer stage as the pipeline calls it: client->VIP packets (xl4_lb()) and ICMP
 * errors about a VIP's flows (xl4_lb_icmp(), steered to the backend that owns the flow).
 */
#ifndef XL4_LB_STAGE_H
#define XL4_LB_STAGE_H

#include "encap.h"
#include "guard.h"
#include "lb.h"

/* The frame rewritten for backend be in the VIP's forwarding mode; hash is the flow's (ipip's
 * outer source or flow label). */
static __always_inline int lb_forward(struct xdp_md *ctx, const struct xl4_pkt *p, __u8 mode,
				      const struct xl4_backend *be, __u32 hash,
				      const struct xl4_lb_globals *g)
{
	switch (mode) {
	case XL4_FWD_PORT:
		return fwd_port(ctx, p, be);
	case XL4_FWD_IPIP:
		return fwd_ipip(ctx, p, be, hash, g);
	default:
		return fwd_l2(ctx, be);
	}
}

static __always_inline struct xl4_backend *backend(__u32 id)
{
	return id < XL4_MAX_BACKENDS ? bpf_map_lookup_elem(&xl4_backends_v1, &id) : NULL;
}

/* A conntrack hit: the flow keeps its backend. The touch is coarse (a write per packet would
 * bounce the entry's cache line between CPUs for nothing), and l->hash comes from the entry
 * (computed again only for an ipip flow an older datapath wrote): a hit hashes nothing. */
static __always_inline void ct_hit_take(struct lb_ctx *l, struct xl4_flow *f, struct xl4_backend *be,
					const struct xl4_lb_globals *g)
{
	l->be = be;
	l->be_id = f->backend_id;
	if (f->last_s != (__u32)(l->now >> XL4_FLOW_TOUCH_SHIFT))
		f->last_s = l->now >> XL4_FLOW_TOUCH_SHIFT;
	l->hash = f->hash;
	if (!(f->flags & XL4_FLOW_F_HASH) && l->vip->mode == XL4_FWD_IPIP)
		l->hash = xl4_flow_hash(&l->fk, g->seed);
}

/* An entry the established path could not use (lb_ct_fast() returned -1), asked again with the
 * VIP this packet names: 1 and l set if it still serves the flow here. */
static __always_inline int lb_ct_retry(struct lb_ctx *l, const struct xl4_lb_globals *g)
{
	struct xl4_flow *f = ct_lookup(l);
	struct xl4_backend *be;

	if (!f)
		return 0;
	be = backend(f->backend_id);
	if (!be || !flow_usable(f, be, l->vip))
		return 0;
	ct_hit_take(l, f, be, g);
	return 1;
}

/* Maglev's pick for l->hash on l->vip: 0, or a negative drop reason. */
static __always_inline int lb_maglev(struct lb_ctx *l, const struct xl4_lb_globals *g)
{
	l->be_id = maglev_pick(l->vip, l->hash, g);
	l->be = backend(l->be_id);
	if (!l->be || (l->be->flags & XL4_BE_F_GONE))
		return -XL4_R_LB_NO_BACKEND;
	return 0;
}

/* The backend a flow's entry names, if the entry can be used as it stands: the backend usable
 * and its VIP (by the backend's VIP id, an array lookup: no VIP hash lookup) live; *vip is then
 * that VIP. NULL: the full path decides. Shared by the established lane and the LB stage. */
static __always_inline struct xl4_backend *ct_entry_backend(const struct xl4_flow *f,
							    struct xl4_vip **vip)
{
	struct xl4_backend *be = backend(f->backend_id);
	struct xl4_vip *v;
	__u32 vip_id;

	if (!be)
		return NULL;
	vip_id = be->vip_id;
	v = vip_id < XL4_MAX_VIPS ? bpf_map_lookup_elem(&xl4_vipid_v1, &vip_id) : NULL;
	if (!v || !(v->flags & XL4_VIP_F_LIVE) || !flow_usable(f, be, v))
		return NULL;
	*vip = v;
	return be;
}

/* The same for the established lane: the backend and its VIP's copy by backend id
 * (xl4_bevip_v1), two lookups by one id that run side by side, where ct_entry_backend()'s
 * VIP waits for the backend's vip_id. A copy that does not name the backend's VIP (none
 * written yet, or stale) returns NULL: the LB stage decides by the chain. */
static __always_inline struct xl4_backend *ct_entry_backend_lane(const struct xl4_flow *f,
								 struct xl4_vip **vip)
{
	__u32 id = f->backend_id;
	struct xl4_backend *be = bpf_map_lookup_elem(&xl4_backends_v1, &id);
	struct xl4_vip *v = bpf_map_lookup_elem(&xl4_bevip_v1, &id);

	if (!be || !v || !(v->flags & XL4_VIP_F_LIVE) || v->id != be->vip_id ||
	    !flow_usable(f, be, v))
		return NULL;
	*vip = v;
	return be;
}

/* The stage's established path (IPv6, and IPv4 the lane left alone): 1: a hit (l->vip,
 * l->be, l->hash set); 0: no entry; -1: an entry this path cannot use (its backend gone or its
 * VIP changing): the full path decides, conntrack included. */
static __always_inline int lb_ct_fast(struct lb_ctx *l, const struct xl4_lb_globals *g)
{
	struct xl4_flow *f = ct_lookup(l);
	struct xl4_backend *be;

	if (!f)
		return 0;
	be = ct_entry_backend(f, &l->vip);
	if (!be)
		return -1;
	ct_hit_take(l, f, be, g);
	return 1;
}

/*
 * With the guard on, a SYN is not put in the connection table: it is remembered in a slot of
 * xl4_gsyn_v1 with the backend it went to, and the ACK that completes its handshake inserts
 * the flow (on that backend, even if the table changed in between). A spoofed SYN flood then
 * inserts nothing, and the completing ACK is what the guard counts against SYNs.
 */
static __always_inline int tcp_syn_only(const struct xl4_pkt *p)
{
	return p->t.proto == IPPROTO_TCP &&
	       (p->t.tcp_flags & (XL4_TCP_SYN | XL4_TCP_ACK)) == XL4_TCP_SYN;
}

/* An ACK with no SYN, RST or FIN: what completes a handshake. */
static __always_inline int tcp_ack_only(const struct xl4_pkt *p)
{
	return p->t.proto == IPPROTO_TCP &&
	       (p->t.tcp_flags & (XL4_TCP_SYN | XL4_TCP_ACK | XL4_TCP_RST | XL4_TCP_FIN)) ==
		       XL4_TCP_ACK;
}

static __always_inline void lb_syn_remember(const struct xl4_guard_cfg *c, const struct lb_ctx *l)
{
	__u32 tag;
	struct xl4_guard_slot *s = guard_syn_slot(c, l->hash, l->hash2, &tag);

	if (!s)
		return;
	s->tag = tag;
	s->backend_id = l->be_id;
	s->gen = l->be->gen;
	s->ts_ns = l->now;
}

/* A new connection on a 5-tuple the table still holds (a reused source port): its ACKs would
 * hit the old entry and follow the old flow to its backend (drained, say).
 *
 * With the guard on, the old entry is deleted: the completing ACK then misses the table, as
 * any new connection's does, claims the SYN's slot, goes to the SYN's backend, counts as a
 * completed handshake for the guard and inserts the flow. (A re-pointed entry took the ACK
 * past the claim: a client that cycles through its ports, a proxy or a NAT, looked to the
 * guard like SYNs that never complete.) A lookup, and a delete only for a reused tuple: a
 * delete that misses would still take the bucket's lock. (A spoofed SYN that guesses a live
 * flow's 5-tuple sends the flow's next ACK to Maglev's pick: where it is anyway unless the
 * table changed.) */
static __always_inline void lb_syn_forget_old(const struct lb_ctx *l)
{
	struct xl4_flow now = { .backend_id = l->be_id, .gen = l->be->gen,
				.flags = XL4_FLOW_F_HASH, .hash = l->hash };
	struct xl4_flow *f = ct_lookup(l);

	/* An entry that sends the flow where this SYN went moves no other CPU's copy: a SYN
	 * repeated on a tuple, spoofed or not, cannot empty every CPU's flow cache. */
	if (f)
		ct_delete(l, !fcache_same(f, &now));
}

/* With the guard off, a SYN whose insert the budget refused: a reused tuple's entry is still
 * re-pointed at this SYN's pick, in place (it adds no entry, so it evicts none: what the
 * budget protects). 1 if there was one. */
static __always_inline int lb_syn_repoint(const struct lb_ctx *l)
{
	struct xl4_flow *f = ct_lookup(l);
	struct xl4_flow was;

	if (!f)
		return 0;
	was = *f;
	f->backend_id = l->be_id;
	f->gen = l->be->gen;
	f->hash = l->hash;
	f->flags |= XL4_FLOW_F_HASH;
	f->last_s = l->now >> XL4_FLOW_TOUCH_SHIFT;
	if (l->fk.family == 4 && !fcache_same(&was, f))
		fcache_invalidate();
	return 1;
}

/* An ACK that missed the table: does it complete a remembered SYN? 0: no; 1: yes, and l->be
 * names the SYN's backend; 2: yes, but that backend is no longer usable (Maglev picks). The
 * slot stays the SYN's until the ACK is forwarded (lb_syn_release()): an ACK too big to
 * encapsulate leaves it to the smaller retransmission the client's ICMP answer brings. A
 * slot whose backend serves another VIP is that VIP's SYN (a tag, 31 keyed bits, that
 * collided): not claimed, neither followed nor spent. */
static __always_inline int lb_syn_claim(const struct xl4_guard_cfg *c, struct lb_ctx *l)
{
	struct xl4_backend *be;
	__u32 tag;
	struct xl4_guard_slot *s = guard_syn_slot(c, l->hash, l->hash2, &tag);

	if (!s || s->tag != tag || l->now - s->ts_ns > XL4_GUARD_SYN_TTL_NS)
		return 0;
	be = backend(s->backend_id);
	if (be && be->vip_id != l->vip->id)
		return 0; /* another VIP's SYN: not ours to spend */
	l->claimed = s;
	if (be && be->gen == s->gen && !(be->flags & XL4_BE_F_GONE) &&
	    !((be->flags & XL4_BE_F_DOWN) && (l->vip->flags & XL4_VIP_F_RESCHEDULE_DOWN))) {
		l->be = be;
		l->be_id = s->backend_id;
		return 1;
	}
	return 2;
}

/* The flow is not in the table: find its backend. An ACK that completes a SYN the guard
 * remembered goes where the SYN went, with no Maglev read (a cache miss in a 256 KiB table).
 * 0 or a negative drop reason. */
static __always_inline int lb_pick_new(struct lb_ctx *l, const struct xl4_lb_globals *g,
				       struct xl4_pkt *p)
{
	const struct xl4_guard_cfg *gc = tcp_ack_only(p) ? guard_cfg() : NULL;
	int claim = gc ? lb_syn_claim(gc, l) : 0;

	return claim == 1 ? 0 : lb_maglev(l, g);
}

/* A claiming ACK was forwarded: its SYN's slot is spent, and p->acked_vip tells the pipeline,
 * which tells the guard (a completed handshake counts only for an ACK that went on to a
 * backend). */
static __always_inline void lb_syn_release(struct lb_ctx *l, struct xl4_pkt *p)
{
	if (!l->claimed)
		return;
	l->claimed->tag = 0;
	p->acked_vip = l->vip->id + 1;
}

/* An ipip VIP's packet that would exceed its MTU once encapsulated: the pipeline answers it
 * (xl4_stage_too_big(), its own function: the reply's header copies take more stack than this
 * stage can add to the pipeline's), with the MTU as this stage read it. */
static __always_inline int lb_too_big(struct xl4_pkt *p, const struct xl4_vip *vip)
{
	if (vip->mode != XL4_FWD_IPIP || !ipip_too_big(p, vip))
		return 0;
	p->too_big_mtu = vip->mtu;
	return 1;
}

/* Could p be addressed to a VIP? A clear bit in xl4_vbits says surely not: one load (the bits
 * are read by address, bpf/maps.h) instead of the guard's and the load balancer's hash lookups
 * (two misses, ~60 ns) for the host's own traffic and for floods aimed at other addresses. */
static __always_inline int xl4_vip_addr_maybe(const struct xl4_pkt *p)
{
	__u32 bit = xl4_vip_bit(p->t.daddr);
	const struct xl4_vip_bits *b = &xl4_vbits;

	return ((b->w[(bit / 64) & (XL4_VIP_BITS_WORDS - 1)] >> (bit % 64)) & 1);
}

static __always_inline int is_vip_addr(struct xl4_vip_key *vk)
{
	vk->port = 0;
	vk->proto = 0;
	return bpf_map_lookup_elem(&xl4_vaddr_v1, vk) != NULL;
}

/* The VIP the guard looked up for this packet, by its id (an array lookup), or NULL. */
static __always_inline struct xl4_vip *vip_by_hint(const struct xl4_pkt *p)
{
	__u32 id = p->vip_hint - 1;
	struct xl4_vip *v;

	if (!p->vip_hint || id >= XL4_MAX_VIPS)
		return NULL;
	v = bpf_map_lookup_elem(&xl4_vipid_v1, &id);
	return v && (v->flags & XL4_VIP_F_LIVE) ? v : NULL;
}

/*
 * The established lane, inlined in the entry program ahead of the guard and the LB stage: an
 * IPv4 TCP or UDP packet (not one the guard wants: a SYN, a bare RST) of a flow the IPv4 table
 * holds, on a live VIP, with a usable backend, within the VIP's MTU, is forwarded here and
 * counted as the LB stage counts a hit. Anything else returns XL4_NEXT and takes the full
 * path (a miss marks the packet, so the stage does not look again). The stage's call, its VIP
 * key and its 40-byte flow key are what this lane saves (docs/performance.md, round seven).
 */
static __always_inline int xl4_lb_est4(struct xdp_md *ctx, struct xl4_pkt *p)
{
	struct xl4_lb_globals *g;
	struct xl4_backend *be;
	struct xl4_flow *f;
	struct xl4_vip *vip;
	int ret;

	if ((p->t.flags & (XL4_F_IPV6 | XL4_F_FRAG | XL4_F_L4)) != XL4_F_L4 ||
	    (p->t.proto != IPPROTO_TCP && p->t.proto != IPPROTO_UDP))
		return XL4_NEXT;
	f = ct4_lookup_cached(p, xl4_now());
	if (!f) {
		p->absent |= XL4_ABSENT_CT4;
		return XL4_NEXT;
	}
	be = ct_entry_backend_lane(f, &vip);
	if (!be ||
	    (vip->mode == XL4_FWD_IPIP && (!(f->flags & XL4_FLOW_F_HASH) || ipip_too_big(p, vip))))
		return XL4_NEXT;
	g = &xl4_lbglob;
	ret = lb_forward(ctx, p, vip->mode, be, f->hash, g);
	/* One counter per packet: the backend's when forwarded, else the VIP's own. */
	if (ret >= 0)
		lb_count(&xl4_bstats_v1, f->backend_id, p->pkt_len, 0, 1, 0);
	else
		lb_count(&xl4_vstats_v2, vip->id, p->pkt_len, 0, 1, 0);
	return ret;
}

static __always_inline int xl4_lb(struct xdp_md *ctx, struct xl4_pkt *p)
{
	struct xl4_vip_key vk = { .family = (p->t.flags & XL4_F_IPV6) ? 6 : 4 };
	struct lb_ctx l = {};
	struct xl4_lb_globals *g;
	const struct xl4_guard_cfg *gc;
	int hit = 0, capped = 0, inserted = 0, ret, ct = 0, new_conn = tcp_syn_only(p);

	__builtin_memcpy(vk.addr, p->t.daddr, 16);
	vk.port = p->t.dport;
	vk.proto = p->t.proto;
	/* A fragment has no ports to choose a backend with (later ones not even a header). */
	if (p->t.flags & XL4_F_FRAG)
		return is_vip_addr(&vk) ? -XL4_R_LB_FRAG : XL4_NEXT;
	g = &xl4_lbglob;
	flow_key_from_pkt(&l.fk, p);
	/* A new connection: this CPU's copy of the tuple's last entry goes, whatever the table
	 * holds now (an entry the LRU evicted is not announced). */
	if (new_conn && l.fk.family == 4)
		fcache_forget(&l.fk);
	l.now = xl4_now();
	if (!new_conn && !(p->absent & XL4_ABSENT_CT4))
		ct = lb_ct_fast(&l, g);
	if (ct == 1) {
		hit = 1;
	} else {
		l.vip = vip_by_hint(p);
		if (!l.vip)
			l.vip = vip_find(&vk);
		if (!l.vip)
			return is_vip_addr(&vk) ? -XL4_R_LB_NOT_VIP_PORT : XL4_NEXT;
		/* A connection's first SYN skips the table: it is a new connection even when its
		 * 5-tuple was seen before (a reused source port), so it must not follow an old
		 * entry to a drained or down backend. With no entry (ct == 0) the table was asked
		 * already. */
		if (ct == -1 && !new_conn)
			hit = lb_ct_retry(&l, g);
		if (!hit) {
			l.hash = xl4_flow_hash_pair(&l.fk, g->seed, &l.hash2);
			ret = lb_pick_new(&l, g, p);
			if (ret < 0) {
				lb_count(&xl4_vstats_v2, l.vip->id, p->pkt_len, 0, 0, 0);
				return ret;
			}
		}
	}
	/* Too big to encapsulate: the client hears about it; no flow starts, no backend counts. */
	if (lb_too_big(p, l.vip)) {
		lb_count(&xl4_vstats_v2, l.vip->id, p->pkt_len, 0, hit, 0);
		return XL4_NEXT_TOO_BIG;
	}
	ret = lb_forward(ctx, p, l.vip->mode, l.be, l.hash, g);
	if (ret < 0) {
		/* Not forwarded (no headroom to encapsulate): no flow, no backend counted. */
		lb_count(&xl4_vstats_v2, l.vip->id, p->pkt_len, 0, hit, 0);
		return ret;
	}
	lb_syn_release(&l, p);
	/* Remember new flows (and mid-flow packets we had not seen), except a RST: it ends one.
	 * A SYN the guard skipped (allowlisted) enters the table now, as with the guard off: in
	 * a SYN slot its completing ACK would count for the guard against SYNs it never counted,
	 * and a busy allowlisted client would hide a spoofed flood's SYNs behind its ACKs. */
	gc = tcp_syn_only(p) && !(p->absent & XL4_ABSENT_GUARD) ? guard_cfg() : NULL;
	if (gc) {
		lb_syn_remember(gc, &l);
		lb_syn_forget_old(&l);
	} else if (!hit && !(p->t.tcp_flags & XL4_TCP_RST)) {
		capped = ct_insert(&l, g);
		/* a SYN skipped the table: over budget, a reused tuple's entry is re-pointed */
		if (capped && new_conn && lb_syn_repoint(&l))
			capped = 0;
		inserted = !capped;
	}
	lb_count(&xl4_bstats_v1, l.be_id, p->pkt_len, inserted, hit, capped);
	return ret;
}

/* The MTU a frag-needed (IPv4: 16 bits after 16 unused ones, RFC 1191) or a packet-too-big
 * (IPv6: 32 bits, RFC 8201) announces is at least the minimum link MTU: a smaller one is a lie
 * (stacks clamp it, and an old stack might fragment into tiny pieces). Other errors carry no
 * MTU. */
static __always_inline int icmp_mtu_ok(const __u8 *icmp, int v6)
{
	if (v6)
		return icmp[0] != 2 || bpf_ntohl(*(__be32 *)(icmp + 4)) >= XL4_ICMP_MTU_MIN6;
	return icmp[0] != 3 || icmp[1] != 4 || bpf_ntohs(*(__be16 *)(icmp + 6)) >= XL4_ICMP_MTU_MIN4;
}

static __always_inline int addr_eq(const __be32 *a, const __be32 *b)
{
	return !((a[0] ^ b[0]) | (a[1] ^ b[1]) | (a[2] ^ b[2]) | (a[3] ^ b[3]));
}

/* The flow an error quotes, from the connection table only: the backend that sent the quoted
 * packet. No Maglev guess (an error about a flow never seen would reach a backend anyway and
 * set its path MTU toward any client the sender names), and no touch (an error is no sign that
 * the flow lives). 0, or -XL4_R_LB_ICMP_NO_FLOW. */
static __always_inline int icmp_flow(struct lb_ctx *l, const struct xl4_lb_globals *g)
{
	struct xl4_flow *f = ct_lookup(l);

	if (!f)
		return -XL4_R_LB_ICMP_NO_FLOW;
	l->be = backend(f->backend_id);
	if (!l->be || !flow_usable(f, l->be, l->vip))
		return -XL4_R_LB_ICMP_NO_FLOW;
	l->be_id = f->backend_id;
	l->hash = f->hash;
	if (!(f->flags & XL4_FLOW_F_HASH) && l->vip->mode == XL4_FWD_IPIP)
		l->hash = xl4_flow_hash(&l->fk, g->seed);
	return 0;
}

/* This CPU's budget of steered errors (lb.icmp_errors_per_second; 0: no cap). */
static __always_inline int icmp_budget_ok(void)
{
	__u32 zero = 0;
	struct xl4_icmp_cfg *c = &xl4_icmpcfg;

	if (!c->errors_per_sec)
		return 1;
	return xl4_bucket_take(bpf_map_lookup_elem(&xl4_icbudg_v1, &zero), c->errors_per_sec,
			       xl4_now());
}

/* Port mode: the quoted source port back to the backend's own, and the quoted UDP checksum with
 * it (a 0 stays 0, as in fwd_port()), so the backend reads the packet it sent before its agent
 * rewrote it; the ICMP checksum follows both. */
static __always_inline void icmp_quote_port(__u8 *icmp, __u8 *il4, __u8 proto, __be16 port)
{
	__be16 old = *(__be16 *)il4;
	__u16 sum = xl4_csum_replace2(*(__u16 *)(icmp + 2), old, port);
	__u16 qc = *(__u16 *)(il4 + 6), nc;

	*(__be16 *)il4 = port;
	if (proto == IPPROTO_UDP && qc) {
		nc = xl4_csum_replace2(qc, old, port);
		if (!nc)
			nc = 0xffff;
		*(__u16 *)(il4 + 6) = nc;
		sum = xl4_csum_replace2(sum, qc, nc);
	}
	*(__u16 *)(icmp + 2) = sum;
}

/*
 * ICMP errors (unreachable, time exceeded, parameter problem, packet too big) that a router or
 * the client sent to a VIP about a backend's reply (source VIP, destination client): the quoted
 * packet names the flow, and the error goes to the backend that owns it, so its stack learns
 * the path MTU. Only when it is consistent (addressed to the VIP it quotes as source), announces
 * a sane MTU, fits within the VIP's MTU once encapsulated (ipip), quotes a flow the connection
 * table holds, and fits this CPU's budget: checked in that order, cheapest first, so refused
 * errors spend no budget. An error about a VIP address
 * that serves no such port/protocol is not ours (the kernel's).
 */
static __always_inline int xl4_lb_icmp(struct xdp_md *ctx, struct xl4_pkt *p)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	__u8 *icmp = (__u8 *)data + (p->l4_off & XL4_OFF_MASK);
	int v6 = p->t.flags & XL4_F_IPV6;
	struct xl4_vip_key vk = { .family = v6 ? 6 : 4 };
	struct lb_ctx l = { .fk.family = v6 ? 6 : 4 };
	struct xl4_lb_globals *g;
	__u8 *inner, *il4, type;
	int ret;

	/* An error in fragments is the kernel's, as its later fragments are (they have no ICMP
	 * header to steer by): it reassembles them. */
	if ((void *)(icmp + 8) > end || (p->t.flags & XL4_F_FRAG))
		return XL4_NEXT;
	type = icmp[0];
	if (v6 ? (type < 1 || type > 4) : (type != 3 && type != 11 && type != 12))
		return XL4_NEXT;
	/* The quote (its IP header and the ports after it) must lie inside the IP packet, not in
	 * the link padding after it, which forwarding would keep (encapsulation would cut it). */
	if (p->l4_len < 8 + (v6 ? sizeof(struct ipv6hdr) : sizeof(struct iphdr)) + 8)
		return XL4_NEXT;
	inner = icmp + 8;
	if (v6) {
		struct ipv6hdr *ip6 = (void *)inner;

		if ((void *)(ip6 + 1) > end)
			return XL4_NEXT;
		l.fk.proto = ip6->nexthdr;
		__builtin_memcpy(l.fk.saddr, &ip6->daddr, 16);
		__builtin_memcpy(l.fk.daddr, &ip6->saddr, 16);
		il4 = (__u8 *)(ip6 + 1);
		/* A backend's reply too big for the path leaves in fragments (a large UDP answer:
		 * the agent lets them out), and the error about it quotes the first one: its ports
		 * follow the fragment header. A later fragment's quote has no ports (the kernel's). */
		if (l.fk.proto == IPPROTO_FRAGMENT) {
			if ((void *)(il4 + 8) > end || (*(__be16 *)(il4 + 2) & bpf_htons(0xfff8)) ||
			    p->l4_len < 8 + sizeof(struct ipv6hdr) + 8 + 8)
				return XL4_NEXT;
			l.fk.proto = il4[0];
			il4 += 8;
		}
	} else {
		struct iphdr *ip = (void *)inner;

		/* a later fragment's quote has payload where the ports would be: the kernel's */
		if ((void *)(ip + 1) > end || ip->ihl != 5 || (ip->frag_off & bpf_htons(0x1fff)))
			return XL4_NEXT;
		l.fk.proto = ip->protocol;
		l.fk.saddr[0] = ip->daddr;
		l.fk.daddr[0] = ip->saddr;
		il4 = (__u8 *)(ip + 1);
	}
	if ((void *)(il4 + 8) > end || (l.fk.proto != IPPROTO_TCP && l.fk.proto != IPPROTO_UDP))
		return XL4_NEXT;
	/* The quoted packet went VIP -> client: swap it into the client -> VIP flow. */
	l.fk.sport = *(__be16 *)(il4 + 2);
	l.fk.dport = *(__be16 *)il4;
	__builtin_memcpy(vk.addr, l.fk.daddr, 16);
	vk.port = l.fk.dport;
	vk.proto = l.fk.proto;
	l.vip = vip_find(&vk);
	if (!l.vip)
		return XL4_NEXT;
	/* The error goes back to the quoted packet's source: that VIP, not some other address. */
	if (!addr_eq(p->t.daddr, l.fk.daddr))
		return -XL4_R_LB_ICMP_MISMATCH;
	if (!icmp_mtu_ok(icmp, v6))
		return -XL4_R_LB_ICMP_MTU;
	/* Too big to encapsulate: dropped, not answered (no ICMP error about an ICMP error:
	 * RFC 1122 3.2.2, RFC 4443 2.4 (e)). */
	if (l.vip->mode == XL4_FWD_IPIP && ipip_too_big(p, l.vip))
		return -XL4_R_LB_TOO_BIG;
	g = &xl4_lbglob;
	if ((ret = icmp_flow(&l, g)) < 0)
		return ret;
	if (!icmp_budget_ok())
		return -XL4_R_LB_ICMP_RATE;
	lb_count(&xl4_vstats_v2, l.vip->id, p->pkt_len, 0, 1, 0);
	if (l.vip->mode == XL4_FWD_PORT) {
		icmp_quote_port(icmp, il4, l.fk.proto, l.be->port);
		/* fwd_l2, not fwd_port: the outer packet's own ports are not the flow's. */
		return fwd_l2(ctx, l.be);
	}
	return lb_forward(ctx, p, l.vip->mode, l.be, l.hash, g);
}

#endif /* XL4_LB_STAGE_H */
