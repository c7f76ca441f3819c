/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The established lane's flow cache (include/xl4/abi.h: struct xl4_fcache_slot): each CPU
 * keeps, in a direct-mapped slot, a copy of the IPv4 entry its last packet of a flow found,
 * and uses it for that flow's packets until the epoch changes. A hit costs the key's slot
 * (an inlined per-CPU array read and two compares); a miss adds that to the table's lookup.
 *
 * What keeps a copy true to the table:
 *   - an epoch is ~268 ms of the datapath's clock plus the generation in xl4_fcgen_v1, so a
 *     copy is taken again at least that often: the table's entry is touched then (its
 *     last_s, its LRU reference), as the lane touched it on every packet before;
 *   - the stage forgets this CPU's copy of a key it writes, deletes or re-points, and of
 *     every IPv4 SYN's (fcache_forget()): a flow's packets come to one CPU (RSS), so that is
 *     where its copy is, including the copy of an entry the LRU evicted, which nothing
 *     announces;
 *   - a write or delete of an entry that held something else than the flow's new backend
 *     (backend, generation, flags, hash), and user space writing the table (src/conntrack.c
 *     xl4_ct_cache_invalidate()) move the generation too, for the copies other CPUs hold: every copy on every CPU goes. An
 *     insert that writes what the entry held already moves nothing, so repeating a SYN does
 *     not empty every CPU's cache;
 *   - what can change under a copy without touching the table (the backend's generation,
 *     state and VIP) is read from the backend on every packet, as for the table's entry.
 * docs/load-balancer.md says what is coarser than without the cache.
 */
#ifndef XL4_FLOW_CACHE_H
#define XL4_FLOW_CACHE_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "maps.h"
#include "parse.h"

/* 64 - log2(slots), the slot index's shift (the loader's, from lb.conntrack.flow_cache);
 * 0: no cache, and the verifier prunes it. */
const volatile __u32 cfg_fcache_shift = 0;

static __always_inline __u32 fcache_epoch(__u64 now)
{
	return (__u32)(now >> XL4_FCACHE_EPOCH_SHIFT) + (__u32)xl4_fcgen.gen;
}

/* An IPv4 entry was changed or deleted: no CPU uses a copy taken before. */
static __always_inline void fcache_invalidate(void)
{
	if (cfg_fcache_shift)
		__sync_fetch_and_add(&xl4_fcgen.gen, 1);
}

/* What a copy holds of an entry is the same in a and b (its last_s is the table's own). */
static __always_inline int fcache_same(const struct xl4_flow *a, const struct xl4_flow *b)
{
	return a->backend_id == b->backend_id && a->gen == b->gen && a->flags == b->flags &&
	       a->hash == b->hash;
}

/* This CPU's slot for the key words w (NULL: cannot happen, the index is below the slots). */
static __always_inline struct xl4_fcache_slot *fcache_slot(const __u64 w[2])
{
	__u32 idx = xl4_fcache_index(w, cfg_fcache_shift);

	return bpf_map_lookup_elem(&xl4_fcache_v1, &idx);
}

/* This CPU's copy of the IPv4 flow fk's entry, if it holds one, goes. */
static __always_inline void fcache_forget(const struct xl4_flow_key *fk)
{
	struct xl4_fcache_slot *s;
	__u64 w[2];

	if (!cfg_fcache_shift)
		return;
	xl4_flow_key4_words(w, fk->saddr[0], fk->daddr[0], fk->sport, fk->dport, fk->proto);
	s = fcache_slot(w);
	if (s && s->key[0] == w[0] && s->key[1] == w[1])
		s->key[0] = 0;
}

/* The table's entry for key, touched (last_s in 2^30 ns units). */
static __always_inline struct xl4_flow *ct4_lookup_touch(const void *key, __u32 now_s)
{
	struct xl4_flow *f = bpf_map_lookup_elem(&xl4_ct4_v1, key);

	if (f && f->last_s != now_s)
		f->last_s = now_s;
	return f;
}

/*
 * The IPv4 flow's entry as the established lane uses it: this CPU's copy when it is of this
 * epoch, else the table's (touched, and copied into the slot). NULL: the table has none.
 * A slot never written holds key words 0, which no packet has (the parser drops a source of
 * 0.0.0.0).
 */
static __always_inline struct xl4_flow *ct4_lookup_cached(const struct xl4_pkt *p, __u64 now)
{
	__u32 now_s = now >> XL4_FLOW_TOUCH_SHIFT, epoch;
	struct xl4_fcache_slot *s;
	struct xl4_flow *f;
	__u64 w[2];

	xl4_flow_key4_words(w, p->t.saddr[0], p->t.daddr[0], p->t.sport, p->t.dport, p->t.proto);
	if (!cfg_fcache_shift)
		return ct4_lookup_touch(w, now_s);
	s = fcache_slot(w);
	if (!s)
		return ct4_lookup_touch(w, now_s);
	epoch = fcache_epoch(now);
	if (s->key[0] == w[0] && s->key[1] == w[1] && s->f.last_s == epoch)
		return &s->f;
	f = ct4_lookup_touch(w, now_s);
	if (!f)
		return NULL;
	/* The stamp last, and a stale one first: a run that preempts this one between the
	 * stores (possible where softirqs run in threads, PREEMPT_RT) finds a stale stamp, not a
	 * new key with an old copy. (A run that refills the slot while this one is preempted is
	 * not covered: outside PREEMPT_RT, XDP runs on a CPU do not preempt one another.) */
	s->f.last_s = ~epoch;
	asm volatile("" ::: "memory");
	s->key[0] = w[0];
	s->key[1] = w[1];
	s->f.backend_id = f->backend_id;
	s->f.gen = f->gen;
	s->f.flags = f->flags;
	s->f.hash = f->hash;
	asm volatile("" ::: "memory");
	s->f.last_s = epoch;
	return f;
}

#endif /* XL4_FLOW_CACHE_H */
