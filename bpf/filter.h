/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The filter stage, in the order it decides (docs/filter.md):
 *   1. source on the allowlist  -> allowed: skips the rest of the filter and the flood guard
 *   2. source on the blocklist  -> drop (filter_block); an analyzer entry drops only new
 *                                  SYNs to its VIP (XL4_BLOCK_SCOPE_SYN)
 *   3. destination rule         -> allow / drop (filter_rule) / per-source limit (filter_rate)
 *   4. global per-source limit  -> drop (filter_rate)
 * IPv4 lists are looked up in a DIR-24-8 index (two or three array lookups), IPv6 lists and
 * rules in LPM tries: a fixed number of lookups decides, whatever the number of entries.
 * List entries expire on their own: an expired entry is looked past to a shorter one.
 */
#ifndef XL4_FILTER_H
#define XL4_FILTER_H

#include <linux/bpf.h>

#include "compat.h"
#include "maps.h"
#include "parse.h"
#include "stats.h"
#include "vip.h"


/* The clock is read only for an entry that expires: a permanent one (what `xl4 block add`
 * makes by default) decides with no clock at all. */
static __always_inline int entry_live(const struct xl4_prefix_entry *e)
{
	return !e->expires_ns || xl4_now() < e->expires_ns;
}

/* Does a scoped blocklist entry (the analyzer's) apply to p? Only a TCP SYN without ACK to
 * the entry's VIP does: the flags are tested first, so an established flow's packets from the
 * prefix cost no more than the trie walk; a SYN pays one VIP lookup (a 20-byte hash). */
static __always_inline int scope_applies(const struct xl4_pkt *p, const struct xl4_prefix_entry *e)
{
	struct xl4_vip_key vk = { .port = p->t.dport, .proto = IPPROTO_TCP,
				  .family = (p->t.flags & XL4_F_IPV6) ? 6 : 4 };
	struct xl4_vip *v;

	if (e->scope == XL4_BLOCK_SCOPE_ALL)
		return 1;
	if (e->scope != XL4_BLOCK_SCOPE_SYN || p->t.proto != IPPROTO_TCP ||
	    (p->t.tcp_flags & (XL4_TCP_SYN | XL4_TCP_ACK)) != XL4_TCP_SYN)
		return 0;
	__builtin_memcpy(vk.addr, p->t.daddr, 16);
	v = vip_find(&vk);
	return v && (e->vip == XL4_BLOCK_VIP_ANY || v->id == e->vip);
}

/* Does index entry e's prefix hold a (host order)? */
static __always_inline int d24_holds(const struct xl4_d24_entry *e, __u32 a)
{
	return ((a ^ bpf_ntohl(e->addr)) & (__u32)(0xffffffff00000000ull >> (e->e.len & 63))) == 0;
}

enum { D24_NONE, D24_HIT, D24_WALK, D24_DIRECT };

/* The longest prefix on an IPv4 list holding saddr, from its DIR-24-8 index (abi.h): the /24
 * slot, a group leaf if the /24 has one, the entry, and (for a long prefix alone in its /24
 * that does not hold saddr) the /24's covering entry. D24_NONE: no prefix holds saddr;
 * D24_WALK: a slot read while user space moved it named an entry that does not hold saddr,
 * so the trie decides, as it did before the index; D24_DIRECT: a direct slot's /32 holds
 * saddr (permanent, every packet: no entry read, *out untouched, *direct_id its id). src/dir24.c
 * xl4_dir24_first is the same. */
static __always_inline int d24_first(__be32 saddr, void *idx, void *grp, void *ent,
				     struct xl4_prefix_entry **out, __u32 *direct_id)
{
	__u32 a = bpf_ntohl(saddr), slot = a >> 8, k = slot / XL4_D24_ROW, id;
	struct xl4_d24_entry *e;
	struct xl4_d24_row *r;

	r = bpf_map_lookup_elem(idx, &k);
	if (!r)
		return D24_WALK;
	id = r->s[slot % XL4_D24_ROW];
	if (id & XL4_D24_DIRECT) {
		if (((id >> XL4_D24_HOST_SHIFT) & 0xff) != (a & 0xff))
			return D24_NONE; /* no covering prefix: that is what direct means */
		*direct_id = id & XL4_D24_ID_MASK;
		return D24_DIRECT;
	}
	if (id & XL4_D24_GROUP) {
		slot = (id & ~XL4_D24_GROUP) * XL4_D24_GROUP_LEAVES + (a & 0xff);
		k = slot / XL4_D24_ROW;
		r = bpf_map_lookup_elem(grp, &k);
		if (!r)
			return D24_WALK;
		id = r->s[slot % XL4_D24_ROW];
	}
	if (!id)
		return D24_NONE;
	e = bpf_map_lookup_elem(ent, &id);
	if (!e)
		return D24_WALK;
	if (!d24_holds(e, a)) {
		id = e->other;
		if (!id)
			return D24_NONE;
		e = bpf_map_lookup_elem(ent, &id);
		if (!e || !d24_holds(e, a))
			return D24_WALK;
	}
	*out = &e->e;
	return D24_HIT;
}

/* The live entry on a source list that covers p's source, or NULL. An IPv4 source starts at
 * the list's index (two or three array lookups whatever the list's size); the trie is walked
 * only past an entry that does not decide, from the next shorter length, exactly as a trie
 * lookup from /32 would. The v4 trie's key ({prefixlen, addr}) is the head of the v6 one, so
 * one key buffer serves both. With scoped (the blocklist), an entry whose scope does not take
 * p is looked past as an expired one is. */
static __always_inline struct xl4_prefix_entry *list_match(const struct xl4_pkt *p, void *map4,
							    void *map6, void *idx4, void *grp4,
							    void *ent4, int fail_closed, int scoped)
{
	struct xl4_lpm6_key k = { .prefixlen = 32, .addr = { p->t.saddr[0] } };
	struct xl4_prefix_entry *last = NULL, *first = NULL;
	void *map = map4;
	int hit = 0;

	if (p->t.flags & XL4_F_IPV6) {
		k.prefixlen = 128;
		__builtin_memcpy(k.addr, p->t.saddr, 16);
		map = map6;
	} else {
		__u32 id = 0;
		int r = d24_first(p->t.saddr[0], idx4, grp4, ent4, &first, &id);

		if (r == D24_NONE)
			return NULL;
		if (r == D24_DIRECT) { /* the stage wants the entry (its id for events) */
			struct xl4_d24_entry *d = bpf_map_lookup_elem(ent4, &id);

			/* as any entry found: one that does not hold the source sends it to
			 * the trie (a packet stalled past the id's reuse) */
			first = d && d24_holds(d, bpf_ntohl(p->t.saddr[0])) ? &d->e : NULL;
		}
		hit = (r == D24_HIT || r == D24_DIRECT) && first;
	}
	XL4_UNROLL
	for (int i = 0; i <= XL4_LPM_EXPIRED_MAX; i++) {
		struct xl4_prefix_entry *e = i == 0 && hit ? first : bpf_map_lookup_elem(map, &k);

		if (!e)
			return NULL;
		if (entry_live(e) && (!scoped || scope_applies(p, e)))
			return e;
		if (e->len == 0)
			return NULL;
		last = e;
		k.prefixlen = e->len - 1;
	}
	/* More expired (or scoped) entries than we look past: a shorter live one may still be
	 * there. The blocklist must not fail open (the sweeper removes expired ones within a
	 * second; the analyzer never nests its own entries this deep). */
	return fail_closed ? last : NULL;
}

/* Host-order mask of the first `bits` bits of a 32-bit word (bits may be <= 0 or >= 32). */
static __always_inline __be32 word_mask(int bits)
{
	if (bits <= 0)
		return 0;
	if (bits >= 32)
		return 0xffffffff;
	return bpf_htonl(~0u << (32 - bits));
}

/*
 * Take a token from a source's bucket. The bucket is shared by every CPU (one source's flows
 * reach several receive queues), so both steps are atomic exchanges: the refill is applied by
 * the one CPU whose exchange of last_ns succeeds (at most once a clock tick: time is jiffies),
 * and a token is taken only by an exchange of the count it read, so two CPUs never spend one
 * token twice (with plain writes the limit could be passed by up to the number of CPUs a
 * source reaches). A take that loses the exchange XL4_RATE_TRIES times drops: under contention
 * the limit errs on its own side.
 */
#define XL4_RATE_TRIES 4
static __always_inline int bucket_take(struct xl4_rate_bucket *b, const struct xl4_rule *r, __u64 now)
{
	__u64 cap = (__u64)r->burst * 1000, last = *(volatile __u64 *)&b->last_ns;

	if (now > last) {
		/* The time an empty bucket takes to fill (cap * 10^6 < 2^63 for a 32-bit burst):
		 * idle that long or longer, it is full, and elapsed * rate, which could overflow
		 * after a long idle time, is not computed. (A 60 s clamp stood here: a burst
		 * over 60 s of rate never refilled whole.) */
		__u64 elapsed = now - last, next = now, refill = cap;

		if (elapsed < cap * 1000000 / r->rate) {
			refill = elapsed * r->rate / 1000000;
			/* Keep the fraction of a milli-token not yet earned: under a fast flood the
			 * refill per packet rounds to 0, and dropping the remainder would starve
			 * the source below its rate. */
			next = now - (elapsed * r->rate % 1000000) / r->rate;
		}
		/* nothing earned yet: no exchange (an over-rate flood's packets take none, so
		 * they pay no locked instruction on the shared line) */
		if (refill && xl4_cmpxchg64(&b->last_ns, last, next) == last)
			__sync_fetch_and_add(&b->milli_tokens, refill);
	}
	XL4_UNROLL
	for (int i = 0; i < XL4_RATE_TRIES; i++) {
		__u64 have = *(volatile __u64 *)&b->milli_tokens, left;

		if (have < 1000)
			return 0;
		left = (have > cap ? cap : have) - 1000; /* a refill past the burst is cut here */
		if (xl4_cmpxchg64(&b->milli_tokens, have, left) == have)
			return 1;
	}
	return 0;
}

/* Per-source token bucket for rule r. Returns 0 to pass, or a negative drop reason. */
static __always_inline int rate_check(const struct xl4_pkt *p, const struct xl4_rule *r, __u64 now,
				      const struct xl4_filter_globals *g)
{
	struct xl4_rate_key k = { .rule = r->id, .family = (p->t.flags & XL4_F_IPV6) ? 6 : 4 };
	struct xl4_rate_bucket *b, fresh;
	__u32 zero = 0, rule = r->id;

	if (k.family == 6) {
		XL4_UNROLL
		for (int w = 0; w < 4; w++)
			k.src[w] = p->t.saddr[w] & word_mask((int)r->v6_prefix - 32 * w);
	} else {
		k.src[0] = p->t.saddr[0];
	}
	b = bpf_map_lookup_elem(&xl4_rate_v1, &k);
	if (b)
		return bucket_take(b, r, now) ? 0 : -XL4_R_FILTER_RATE;

	/* A new source. Within this CPU's budget it gets its own bucket (full, less this
	 * packet); beyond it, it shares the rule's fallback bucket with every other newcomer. */
	if (!g->rate_inserts_per_sec ||
	    xl4_bucket_take(bpf_map_lookup_elem(&xl4_rbudget_v1, &zero), g->rate_inserts_per_sec, now)) {
		fresh.last_ns = now;
		fresh.milli_tokens = (__u64)r->burst * 1000;
		if (fresh.milli_tokens < 1000)
			return -XL4_R_FILTER_RATE;
		fresh.milli_tokens -= 1000;
		/* another CPU may have made it meanwhile: then this packet takes from that one */
		if (bpf_map_update_elem(&xl4_rate_v1, &k, &fresh, BPF_NOEXIST)) {
			b = bpf_map_lookup_elem(&xl4_rate_v1, &k);
			if (b)
				return bucket_take(b, r, now) ? 0 : -XL4_R_FILTER_RATE;
		}
		return 0;
	}
	if (rule >= XL4_MAX_RULES)
		return -XL4_R_FILTER_RATE_SHARED;
	b = bpf_map_lookup_elem(&xl4_rshared_v1, &rule);
	if (!b || !bucket_take(b, r, now))
		return -XL4_R_FILTER_RATE_SHARED;
	return 0;
}

static __always_inline void rule_count(__u32 id, int dropped)
{
	struct xl4_rule_counters *c = id < XL4_MAX_RULES ? bpf_map_lookup_elem(&xl4_rstats_v1, &id) : NULL;

	if (c) {
		c->matched++;
		c->dropped += dropped;
	}
}

/* The destination rule for this packet, or NULL: two LPM lookups. */
static __always_inline struct xl4_rule *rule_match(const struct xl4_pkt *p)
{
	struct xl4_rdst_key dk = { .family = (p->t.flags & XL4_F_IPV6) ? 6 : 4 };
	struct xl4_rport_key pk = { .prefixlen = 64, .proto = p->t.proto };
	__u32 *set;

	__builtin_memcpy(dk.addr, p->t.daddr, 16);
	dk.prefixlen = 32 + (dk.family == 6 ? 128 : 32);
	set = bpf_map_lookup_elem(&xl4_rdst_v1, &dk);
	if (!set)
		return NULL;
	pk.set = *set;
	pk.port = p->t.dport; /* 0 without ports (ICMP, later fragments): port-less rules match */
	return bpf_map_lookup_elem(&xl4_rport_v1, &pk);
}

/* The filter front's "the stage must judge": above every stage return (stats.h). */
#define XL4_FILTER_STAGE (XL4_NEXT + 0x10)

/* Does the filter have anything to apply beyond its source lists: rules, or a global limit? */
static __always_inline int filter_has_more(const struct xl4_filter_globals *g)
{
	return g->has_rules || g->limit.action == XL4_RULE_LIMIT;
}

/*
 * The filter's front for IPv4, inlined in the pipeline between the parser's two parts (only
 * the fixed header's addresses read): what it can decide from the settings and the blocklist's
 * index alone. -XL4_R_FILTER_BLOCK for a source held by a live blocklist entry for every
 * packet (the index's answer, no allowlist to win over it): what the stage would return,
 * without its call. Otherwise 0, with XL4_ABSENT_FILTER set in p->absent when there is nothing
 * for the stage to judge (no blocklist entry holds the source, no allowlist, no rule, no global
 * limit), and left clear for anything else (an allowlist, rules or a limit to apply, an expired
 * or scoped entry whose shorter prefixes the trie decides, an index read mid-move, no
 * settings: fail closed), which the stage judges from the start.
 *
 * The answer is a bit in p->absent rather than a return value for the verifier's sake: a byte
 * in the middle of the stack's xl4_pkt is not tracked as a constant, so the rest of the parse
 * is verified once, not once per answer (xl4.bpf.c reads it back with a volatile load).
 */
static __always_inline int xl4_filter_front4(struct xl4_pkt *p)
{
	const struct xl4_filter_globals *g = &xl4_fglob;
	struct xl4_prefix_entry *e = NULL;
	__u32 id = 0;

	if (g->lists & XL4_LISTS_ALLOW4)
		return 0;
	if (g->lists & XL4_LISTS_BLOCK4) {
		switch (d24_first(p->t.saddr[0], &xl4_b4idx_v2, &xl4_b4grp_v2, &xl4_b4ent_v2, &e,
				  &id)) {
		case D24_DIRECT:
			p->detail = 32;
			return -XL4_R_FILTER_BLOCK;
		case D24_HIT:
			if (e->scope != XL4_BLOCK_SCOPE_ALL || !entry_live(e))
				return 0;
			p->detail = e->len; /* as the stage: events show the matching prefix */
			return -XL4_R_FILTER_BLOCK;
		case D24_NONE:
			p->absent |= XL4_ABSENT_BLOCK4; /* the stage (rules, a limit) skips the list */
			break;
		default:
			return 0;
		}
	}
	if (!filter_has_more(g))
		p->absent |= XL4_ABSENT_FILTER;
	return 0;
}

/* The filter's front for IPv6, after the whole parse: XL4_NEXT when no IPv6 list has an entry
 * and there is no rule and no limit, else XL4_FILTER_STAGE (the lists are tries: the stage's). */
static __always_inline int xl4_filter_front6(void)
{
	const struct xl4_filter_globals *g = &xl4_fglob;

	if (filter_has_more(g) || (g->lists & (XL4_LISTS_ALLOW6 | XL4_LISTS_BLOCK6)))
		return XL4_FILTER_STAGE;
	return XL4_NEXT;
}

static __always_inline int xl4_filter(struct xl4_pkt *p)
{
	struct xl4_filter_globals *g;
	struct xl4_prefix_entry *e;
	struct xl4_rule *r;
	__u32 lists, v6 = p->t.flags & XL4_F_IPV6;
	int ret;

	/* Called only when the filter's front could not decide (bpf/xl4.bpf.c). Empty lists are
	 * not looked up (two trie walks saved on every packet). */
	g = &xl4_fglob;
	lists = g->lists;

	if ((lists & (v6 ? XL4_LISTS_ALLOW6 : XL4_LISTS_ALLOW4)) &&
	    list_match(p, &xl4_allow4_v1, &xl4_allow6_v1, &xl4_a4idx_v2, &xl4_a4grp_v2, &xl4_a4ent_v2,
		       0, 0)) {
		count(XL4_STAT_ALLOW_LIST, p->pkt_len);
		return XL4_NEXT_SKIP_GUARD;
	}
	if ((lists & (v6 ? XL4_LISTS_BLOCK6 : XL4_LISTS_BLOCK4)) && !(p->absent & XL4_ABSENT_BLOCK4)) {
		e = list_match(p, &xl4_block4_v1, &xl4_block6_v1, &xl4_b4idx_v2, &xl4_b4grp_v2,
			       &xl4_b4ent_v2, 1, 1);
		if (e) {
			p->detail = e->len; /* events show the matching prefix: the source masked to it */
			return -XL4_R_FILTER_BLOCK;
		}
	}
	if (g->has_rules && (r = rule_match(p))) {
		p->detail = r->id;
		switch (r->action) {
		case XL4_RULE_ALLOW:
			rule_count(r->id, 0);
			count(XL4_STAT_ALLOW_RULE, p->pkt_len);
			p->detail = 0; /* a later stage's drop is not this rule's */
			return XL4_NEXT_SKIP_GUARD;
		case XL4_RULE_DROP:
			rule_count(r->id, 1);
			return -XL4_R_FILTER_RULE;
		case XL4_RULE_LIMIT:
			ret = rate_check(p, r, xl4_now(), g);
			rule_count(r->id, ret < 0);
			if (ret < 0)
				return ret;
			break;
		}
	}
	if (g->limit.action == XL4_RULE_LIMIT) {
		ret = rate_check(p, &g->limit, xl4_now(), g);
		rule_count(g->limit.id, ret < 0);
		if (ret < 0) {
			p->detail = g->limit.id;
			return ret;
		}
	}
	p->detail = 0;
	return XL4_NEXT;
}

#endif /* XL4_FILTER_H */
