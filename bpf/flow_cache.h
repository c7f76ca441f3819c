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
 *   - every change or delete of an IPv4 entry, here or in user space, moves the generation
 *     (fcache_invalidate(); src/conntrack.c xl4_ct_cache_invalidate()): every copy on every
 *     CPU goes. They are rare (a SYN on a reused tuple, an entry re-pointed), so copies are
 *     not tracked one by one;
 *   - what can change under a copy without touching the table (the backend's generation,
 *     state and VIP) is read from the backend on every packet, as for the table's entry.
 * An entry the LRU evicts is not announced: its copies live out their epoch, sending the flow
 * where it went (docs/architecture.md).
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
	__u32 now_s = now >> XL4_FLOW_TOUCH_SHIFT, idx, epoch;
	struct xl4_fcache_slot *s;
	struct xl4_flow *f;
	__u64 w[2];

	xl4_flow_key4_words(w, p->t.saddr[0], p->t.daddr[0], p->t.sport, p->t.dport, p->t.proto);
	if (!cfg_fcache_shift)
		return ct4_lookup_touch(w, now_s);
	idx = xl4_fcache_index(w, cfg_fcache_shift);
	s = bpf_map_lookup_elem(&xl4_fcache_v1, &idx);
	if (!s)
		return ct4_lookup_touch(w, now_s);
	epoch = fcache_epoch(now);
	if (s->key[0] == w[0] && s->key[1] == w[1] && s->f.last_s == epoch)
		return &s->f;
	f = ct4_lookup_touch(w, now_s);
	if (!f)
		return NULL;
	s->key[0] = w[0];
	s->key[1] = w[1];
	s->f = *f;
	s->f.last_s = epoch;
	return f;
}

#endif /* XL4_FLOW_CACHE_H */
