/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The flood guard (docs/guard.md). A DSR balancer sees only client->server packets, so the
 * signal it can measure is client SYNs against the client ACKs that complete a handshake.
 * Each CPU keeps both per VIP over a sliding window; a CPU that sees attack windows for
 * cfg.enter_ms puts the VIP into emergency mode, and the VIP leaves it once no CPU has seen
 * one for cfg.leave_ms. All of it in the kernel: protection holds while the daemon is down.
 *
 * In emergency mode a SYN from an unverified source is either dropped and greylisted
 * (First Drop: its retransmission inside the window is admitted) or answered with a SYN-ACK
 * whose ack number is a keyed cookie (the challenge: the client's stack answers with a RST
 * carrying the cookie as its sequence number). Either way the source becomes verified; no
 * state is ever inserted for an unverified source (the greylist is an array of slots).
 */
#ifndef XL4_GUARD_H
#define XL4_GUARD_H

#include <linux/bpf.h>
#include <linux/if_ether.h>

#include "compat.h"
#include "csum.h"
#include "hash.h"
#include "guard_pkt.h"
#include "maps.h"
#include "parse.h"
#include "stats.h"
#include "vip.h"

#define MS_NS 1000000ull

static __always_inline struct xl4_guard_cfg *guard_cfg(void)
{
	struct xl4_guard_cfg *c = &xl4_gcfg;

	return c->enabled ? c : NULL;
}

/* The window as it stands, summed over its buckets. */
struct guard_sums {
	__u32 syn, ack, adm;
};

/* More than ratio SYNs per completing ACK (the ACKs + 1: none at all is a ratio too). */
static __always_inline int guard_ratio_bad(const struct xl4_guard_cfg *c, __u32 syn, __u32 ack)
{
	return (__u64)syn * 100 > (__u64)c->ratio_x100 * ((__u64)ack + 1);
}

static __always_inline int guard_attack(const struct xl4_guard_cfg *c, __u32 syn, __u32 ack)
{
	return syn >= c->syn_min && guard_ratio_bad(c, syn, ack);
}

/* The effective level of a VIP now (0: normal). Leaving is lazy: whoever looks first after
 * leave_ms without an attack window clears the mode (one store: v->entered_ns is the mode). */
static __always_inline __u32 guard_level(const struct xl4_guard_cfg *c, struct xl4_guard_vip *v,
					 const struct xl4_guard_ctl *ctl, __u64 now)
{
	__u64 mode = v->entered_ns;

	if (ctl && ctl->override == XL4_GUARD_OV_OFF)
		return XL4_GUARD_NORMAL;
	if (ctl && ctl->override == XL4_GUARD_OV_ON) {
		if (ctl->level == XL4_GUARD_FIRST_DROP || ctl->level == XL4_GUARD_CHALLENGE)
			return ctl->level;
		if (mode && XL4_GUARD_MODE_LEVEL(mode) == XL4_GUARD_CHALLENGE)
			return XL4_GUARD_CHALLENGE; /* escalated while forced on */
		return c->response == XL4_GUARD_RESP_CHALLENGE ? XL4_GUARD_CHALLENGE
							       : XL4_GUARD_FIRST_DROP;
	}
	if (!mode)
		return XL4_GUARD_NORMAL;
	/* Signed: another CPU's judge may have read the clock a jiffy later than this packet did
	 * and written last_bad_ns since; unsigned, that newest window looked ~584 years old and
	 * the VIP left emergency mode in the middle of the flood. */
	if ((__s64)(now - v->last_bad_ns) > (__s64)((__u64)c->leave_ms * MS_NS)) {
		v->entered_ns = 0;
		return XL4_GUARD_NORMAL;
	}
	return XL4_GUARD_MODE_LEVEL(mode) == XL4_GUARD_CHALLENGE ? XL4_GUARD_CHALLENGE
								 : XL4_GUARD_FIRST_DROP;
}

/* Bits set in a 64-bit word (BPF has no popcount instruction). */
static __always_inline __u32 guard_popcount(__u64 x)
{
	x = x - ((x >> 1) & 0x5555555555555555ull);
	x = (x & 0x3333333333333333ull) + ((x >> 2) & 0x3333333333333333ull);
	x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0full;
	return (__u32)((x * 0x0101010101010101ull) >> 56);
}

/* The source sketch's bit for a SYN's source: an IPv4 address or an IPv6 /64, keyed. */
static __always_inline __u64 guard_src_bit(const struct xl4_guard_cfg *c, const struct xl4_pkt *p)
{
	__u32 h = c->key[0] ^ p->t.saddr[0];

	h *= 0x9e3779b1u;
	h ^= h >> 15;
	if (p->t.flags & XL4_F_IPV6) {
		h ^= p->t.saddr[1];
		h *= 0x85ebca6bu;
		h ^= h >> 13;
	}
	h ^= c->key[0] >> 7;
	h *= 0xc2b2ae35u;
	return 1ull << ((h >> 16) & 63);
}

/* This SYN's source into this CPU's sketch of bucket number bno. */
static __always_inline void guard_src_note(const struct xl4_guard_cfg *c, const struct xl4_pkt *p,
					   __u32 vip_id, __u64 bno)
{
	struct xl4_guard_srcs *sk = bpf_map_lookup_elem(&xl4_gsrc_v2, &vip_id);
	__u32 j = bno & (XL4_GUARD_BUCKETS - 1);

	if (!sk)
		return;
	if (sk->bucket[j] != bno) {
		sk->bucket[j] = bno;
		sk->bits[j] = 0;
		sk->pack[j] = 0;
	}
	sk->bits[j] |= guard_src_bit(c, p);
}

/*
 * Judge the window that ends as this CPU moves to bucket b: this CPU's buckets (numbers
 * s->bucket - i; older than b - XL4_GUARD_BUCKETS means no SYN came since: empty), published
 * in its slot of xl4_gwin_v1, then every fresh slot summed: the decision is on the VIP's
 * totals, so neither one CPU nor one source can force it (docs/guard.md).
 */
static __always_inline void guard_judge(struct xl4_guard_stats *s, __u32 vip_id, __u64 b, __u64 now)
{
	struct xl4_guard_cfg *c = guard_cfg();
	struct xl4_guard_vip *v = bpf_map_lookup_elem(&xl4_gvip_v1, &vip_id);
	struct xl4_guard_ctl *ctl = bpf_map_lookup_elem(&xl4_gctl_v1, &vip_id);
	struct xl4_guard_srcs *sk;
	struct xl4_guard_wins *all;
	struct guard_sums w = {}, t = {};
	__u32 pack = 0;
	__u64 gap, srcs = 0, mode;
	__u32 level, n_src, start;
	int beaten, overrun, early; /* early: before enter_ms, so only a surge enters */

	if (!c || !v)
		return;
	sk = bpf_map_lookup_elem(&xl4_gsrc_v2, &vip_id);
	if (!sk)
		return;
	gap = b - s->bucket;
	/* Not unrolled: the unrolled loop's spills made this frame 8 bytes bigger, and the entry
	 * program's, the guard stage's and this one's share 512 bytes (docs/verifier.md). It runs
	 * once per CPU, VIP and bucket: the loop's few instructions cost nothing that shows. */
	_Pragma("nounroll")
	for (int i = 0; i < XL4_GUARD_BUCKETS; i++) {
		__u32 j = (s->bucket - i) & (XL4_GUARD_BUCKETS - 1);

		if (gap + i <= XL4_GUARD_BUCKETS) {
			w.syn += s->syn[j];
			w.ack += s->ack[j];
			w.adm += s->adm[j];
			if (sk->bucket[j] == s->bucket - i) {
				srcs |= sk->bits[j];
				pack += sk->pack[j];
			}
		}
	}
	t = w;
	all = bpf_map_lookup_elem(&xl4_gwin_v1, &vip_id);
	if (all) {
		struct xl4_guard_win *mine =
			&all->cpu[bpf_get_smp_processor_id() & (XL4_GUARD_WIN_CPUS - 1)];

		mine->bucket = b;
		mine->syn = w.syn;
		mine->ack = w.ack;
		mine->adm = w.adm;
		mine->srcs = srcs;
		mine->pack = pack;
		t.syn = t.ack = t.adm = pack = 0;
		for (int i = 0; i < XL4_GUARD_WIN_CPUS; i++) {
			struct xl4_guard_win *o = &all->cpu[i];

			if (o->bucket + XL4_GUARD_WIN_FRESH < b || o->bucket > b + 1)
				continue; /* that CPU saw no SYN for the VIP lately */
			t.syn += o->syn;
			t.ack += o->ack;
			t.adm += o->adm;
			pack += o->pack;
			srcs |= o->srcs;
		}
	}
	n_src = guard_popcount(srcs);
	mode = v->entered_ns;
	level = guard_level(c, v, ctl, now);
	/* a flood the greylist cannot hold for a retransmission beats First Drop from the start;
	 * the slots are read without locks, so a torn one can show more admits than SYNs */
	overrun = c->fd_cap && t.syn > t.adm && t.syn - t.adm > c->fd_cap;
	/* First Drop beaten: the SYNs it lets through are an attack window against the ACKs that
	 * prove a handshake completed (from sources a cookie proved: any other ACK may be a
	 * spoofer's own blind one), from several sources (one host resending its SYNs must not
	 * force the challenge on everyone; an IPv6 /64 is one source); or the flood turns its
	 * greylist over faster than a retransmission comes back (whoever sends it). Judged even
	 * when SYNs and all ACKs look balanced: blind ACKs are how a spoofer makes them look so. */
	beaten = level == XL4_GUARD_FIRST_DROP && c->response == XL4_GUARD_RESP_AUTO &&
		 ((guard_attack(c, t.adm, pack) && n_src >= c->src_bits_min) || overrun);
	if (!guard_attack(c, t.syn, t.ack) && !beaten) {
		s->bad_since = 0;
		s->esc_since = 0;
		return;
	}
	v->last_bad_ns = now;
	if (!s->bad_since)
		s->bad_since = now;
	/* A flood of surge_min SYNs a window does not wait out enter_ms: what it would send the
	 * backends meanwhile is the harm (docs/guard.md "Surges"). */
	early = now - s->bad_since < (__u64)c->enter_ms * MS_NS;
	if (!mode && (!early || (c->surge_min && t.syn >= c->surge_min))) {
		start = c->response == XL4_GUARD_RESP_CHALLENGE ||
				(c->response == XL4_GUARD_RESP_AUTO && overrun) ?
			XL4_GUARD_CHALLENGE : XL4_GUARD_FIRST_DROP;
		v->win_syn = t.syn;
		v->win_ack = t.ack;
		v->entered_ns = XL4_GUARD_MODE(now, start,
					       start == XL4_GUARD_CHALLENGE &&
							       c->response == XL4_GUARD_RESP_AUTO ?
						       XL4_GUARD_CAUSE_OVERRUN :
					       early ? XL4_GUARD_CAUSE_SURGE :
						       XL4_GUARD_CAUSE_RATIO);
		s->emergencies++;
		return;
	}
	if (!beaten) {
		s->esc_since = 0;
		return;
	}
	if (!s->esc_since)
		s->esc_since = now;
	if (now - s->esc_since >= (__u64)c->escalate_ms * MS_NS) {
		int by_ratio = guard_attack(c, t.adm, pack) && n_src >= c->src_bits_min;

		v->win_syn = by_ratio ? t.adm : t.syn;
		v->win_ack = by_ratio ? pack : t.ack;
		v->entered_ns = XL4_GUARD_MODE(mode ? mode : now, XL4_GUARD_CHALLENGE,
					       by_ratio ? XL4_GUARD_CAUSE_ESCALATED
							: XL4_GUARD_CAUSE_OVERRUN);
	}
}

/*
 * Move this CPU's window to bucket b: judge the window that ends, then empty the buckets it
 * moves over. A global function: verified once, and run once per CPU, VIP and bucket (67 ms),
 * never per packet, so neither the judgement nor the loops sit inlined on the SYN path.
 */
__noinline int xl4_guard_roll(__u32 vip_id, __u64 b, __u64 now)
{
	struct xl4_guard_stats *s = bpf_map_lookup_elem(&xl4_gstat_v2, &vip_id);
	__u64 gap;

	if (!s || b == s->bucket)
		return 0;
	guard_judge(s, vip_id, b, now);
	gap = b - s->bucket;
	_Pragma("nounroll")
	for (int i = 1; i <= XL4_GUARD_BUCKETS; i++) {
		__u32 j = (s->bucket + i) & (XL4_GUARD_BUCKETS - 1);

		if (gap < (__u64)i)
			break;
		s->syn[j] = 0;
		s->ack[j] = 0;
		s->adm[j] = 0;
	}
	s->bucket = b;
	return 0;
}

/* This CPU's window at now's bucket; returns the bucket's index. */
static __always_inline __u32 guard_roll(struct xl4_guard_stats *s, __u32 vip_id, __u64 now)
{
	__u64 b = now >> XL4_GUARD_BUCKET_SHIFT;

	if (b != s->bucket)
		xl4_guard_roll(vip_id, b, now);
	return b & (XL4_GUARD_BUCKETS - 1);
}

/* A VIP's guard state, looked up together. */
struct guard_ctx {
	const struct xl4_guard_cfg *cfg;
	struct xl4_guard_stats *st;
	struct xl4_guard_vip *vip;
	struct xl4_guard_ctl *ctl;
	__u64 now;
};

/* cfg: the settings when the caller already has them (NULL: looked up here). */
static __always_inline int guard_ctx_init(struct guard_ctx *g, const struct xl4_guard_cfg *cfg,
					  __u32 vip_id, __u64 now)
{
	g->cfg = cfg ? cfg : guard_cfg();
	if (!g->cfg)
		return 0;
	g->st = bpf_map_lookup_elem(&xl4_gstat_v2, &vip_id);
	g->vip = bpf_map_lookup_elem(&xl4_gvip_v1, &vip_id);
	g->ctl = bpf_map_lookup_elem(&xl4_gctl_v1, &vip_id);
	g->now = now;
	return g->st && g->vip;
}


/* ---- keyed hashes: slots and cookies ---- */

/* Ten words to hash: a source address, plus whatever names the thing (VIP id, ports). */
struct guard_hkey {
	__be32 a[4];
	__be32 b[4];
	__u32 x;
	__u32 y;
};
_Static_assert(sizeof(struct guard_hkey) == 40, "hashed as 10 words");

/* A source as the verified tables key it: an IPv4 address, or an IPv6 address cut to
 * cfg.v6_prefix bits (one host owns a /64: per address, one /64 could fill the table). */
static __always_inline void guard_src_key(const struct xl4_guard_cfg *c, struct xl4_guard_src *k,
					  const struct xl4_pkt *p)
{
	__u32 plen;

	__builtin_memcpy(k->addr, p->t.saddr, 16);
	k->family = 4;
	k->port = 0;
	if (!(p->t.flags & XL4_F_IPV6))
		return;
	k->family = 6;
	plen = c->v6_prefix ? c->v6_prefix : 128; /* 0 (not set): the whole address */
	XL4_UNROLL
	for (int i = 0; i < 4; i++) {
		__u32 keep = plen > 32u * i ? plen - 32u * i : 0;

		if (keep < 32)
			k->addr[i] &= bpf_htonl(keep ? ~0u << (32 - keep) : 0);
	}
}

static __always_inline int guard_src_in(void *map, const struct xl4_guard_src *k, __u64 now)
{
	__u64 *exp = bpf_map_lookup_elem(map, k);

	return exp && (*exp & ~XL4_GUARD_VERIFIED_FLAGS) > now;
}

/* Each half of the bits holds 2^cfg_gvbits_log2 (the loader's, with the map's: abi.h). */
const volatile __u32 cfg_gvbits_log2 = XL4_GUARD_VBITS_LOG2_MIN;

/* The word of map that holds bit index `bit` in half (XL4_GUARD_VBITS_*; 0 for xl4_gvnew_v1,
 * which is one half), and the bit's mask (NULL: no such word). */
static __always_inline __u64 *guard_vbit_at(void *map, __u32 bit, __u32 half, __u64 *mask)
{
	__u32 word = bit / 64 + (half << ((cfg_gvbits_log2 - 6) & 31));

	*mask = 1ull << (bit % 64);
	return bpf_map_lookup_elem(map, &word);
}

static __always_inline __u64 *guard_vbit_word(const struct xl4_guard_src *k, __u32 half,
					      __u64 *mask)
{
	return guard_vbit_at(&xl4_gvbit_v1, xl4_guard_vbit(k, cfg_gvbits_log2), half, mask);
}

/* Could a verified table hold k? A clear bit says surely not (xl4_gvbit_v1): one inlined array
 * read instead of a lookup that misses the caches, for every SYN of a spoofed flood. */
static __always_inline int guard_vbit_maybe(const struct xl4_guard_src *k, __u32 half)
{
	__u64 mask, *w = guard_vbit_word(k, half, &mask);

	return !w || (*w & mask);
}

/* Set a bit by an atomic OR, so neither another CPU's proof in the same word nor the daemon's
 * compare-and-swap rewrite of it (src/guard_vbits.h) is lost; only when the bit is clear, so a
 * source proved again does not take the word's cache line from the other CPUs. */
static __always_inline void guard_vbit_or(__u64 *w, __u64 mask)
{
	if (w && !(*w & mask))
		xl4_atomic_or64(w, mask);
}

/* A proof's bits, before its table entry is written (as xl4_guard_vbits_add() in user space):
 * first its index among those proved since the daemon's copy (xl4_gvnew_v1: the daemon reads
 * the live word first, then that one), then the "either" half and, for a cookie, the cookies'. */
static __always_inline void guard_vbits_record(const struct xl4_guard_src *k, int cookie)
{
	__u32 bit = xl4_guard_vbit(k, cfg_gvbits_log2);
	__u64 mask, *w;

	w = guard_vbit_at(&xl4_gvnew_v1, bit, 0, &mask);
	guard_vbit_or(w, mask);
	w = guard_vbit_at(&xl4_gvbit_v1, bit, XL4_GUARD_VBITS_ANY, &mask);
	guard_vbit_or(w, mask);
	if (cookie) {
		w = guard_vbit_at(&xl4_gvbit_v1, bit, XL4_GUARD_VBITS_COOKIE, &mask);
		guard_vbit_or(w, mask);
	}
}

/* Does a cookie proof for this SYN's tuple (k, the source, with its port set here) admit it?
 * Once: the proof is spent on the SYN it admits. A live host answers any SYN-ACK it did not
 * ask for with the cookie too, so a proof shows that a stack lives at the address, not that
 * it wants to connect; spent per SYN, each SYN that passes costs a spoofer an answered
 * challenge (docs/guard.md). */
static __always_inline int guard_cookie_admits(struct xl4_guard_src *k, const struct xl4_pkt *p,
					       __u64 now)
{
	__u64 *exp;

	k->port = p->t.sport;
	/* a clear bit: this tuple surely has no proof (a flood's SYN, mostly), and no lookup */
	if (!guard_vbit_maybe(k, XL4_GUARD_VBITS_COOKIE))
		return 0;
	exp = bpf_map_lookup_elem(&xl4_gverc_v1, k);
	if (!exp || (*exp & XL4_GUARD_VERIFIED_USED) || (*exp & ~XL4_GUARD_VERIFIED_FLAGS) <= now)
		return 0;
	*exp |= XL4_GUARD_VERIFIED_USED;
	return 1;
}

/* Verified: by a cookie answered for this tuple (xl4_gverc_v1), good once at every level, or
 * by First Drop for the source (xl4_gver_v1), good while First Drop is the response. Spoofed
 * sources can beat First Drop (an attacker repeats its SYNs), and that is exactly when the
 * guard escalates, so the challenge trusts only cookies; and First Drop proofs live in their
 * own table, where they cannot evict them. */
static __always_inline int guard_verified(const struct xl4_guard_cfg *c, const struct xl4_pkt *p,
					  __u64 now, __u32 level)
{
	struct xl4_guard_src k;
	__u64 last;

	guard_src_key(c, &k, p);
	if (level == XL4_GUARD_CHALLENGE)
		return guard_cookie_admits(&k, p, now);
	/* a clear bit, a source the tables surely do not hold (a flood's, mostly), and no lookup */
	if (guard_vbit_maybe(&k, XL4_GUARD_VBITS_ANY) && guard_src_in(&xl4_gver_v1, &k, now))
		return 1;
	/* the cookie table only when a cookie proof made lately can still be in it (one load) */
	last = xl4_gvhint;
	return last &&
	       now < last + (__u64)XL4_GUARD_COOKIE_PROOF_TTL_S * 1000000000ull + 1000000000ull &&
	       guard_cookie_admits(&k, p, now);
}

/* Record a proof. First Drop proofs are budgeted per CPU (cfg.verify_per_sec): a spoofer
 * that repeats its SYNs gets its SYN through, but cannot churn the table faster than that. */
static __always_inline void guard_verify(const struct xl4_guard_cfg *c, const struct xl4_pkt *p,
					 __u64 now, __u64 proof)
{
	struct xl4_guard_src k;
	__u32 ttl = (proof & XL4_GUARD_VERIFIED_COOKIE) && c->verified_ttl_s > XL4_GUARD_COOKIE_PROOF_TTL_S ?
			    XL4_GUARD_COOKIE_PROOF_TTL_S :
			    c->verified_ttl_s;
	__u64 exp = ((now + (__u64)ttl * 1000000000ull) & ~XL4_GUARD_VERIFIED_FLAGS) | proof;
	__u32 zero = 0;

	guard_src_key(c, &k, p);
	if (proof & XL4_GUARD_VERIFIED_COOKIE) {
		k.port = p->t.sport; /* the tuple's proof, spent by the SYN it admits */
		guard_vbits_record(&k, 1);
		bpf_map_update_elem(&xl4_gverc_v1, &k, &exp, BPF_ANY);
		if (xl4_gvhint + 1000000000ull < now) /* shared: written once a second at most */
			xl4_gvhint = now;
		return;
	}
	if (c->verify_per_sec &&
	    !xl4_bucket_take(bpf_map_lookup_elem(&xl4_gverbud_v1, &zero), c->verify_per_sec, now))
		return;
	guard_vbits_record(&k, 0);
	bpf_map_update_elem(&xl4_gver_v1, &k, &exp, BPF_ANY);
}

/* The load balancer saw the ACK that completes a handshake whose SYN it saw. At First Drop
 * it also notes whether a cookie proved the source: only such ACKs can show that the SYNs
 * First Drop admits complete (a spoofer completes its own handshakes with a blind ACK). */
static __always_inline void guard_note_ack(__u32 vip_id, const struct xl4_pkt *p, __u64 now)
{
	struct xl4_guard_srcs *sk;
	struct xl4_guard_src k;
	struct guard_ctx g;
	__u64 bno = now >> XL4_GUARD_BUCKET_SHIFT, *exp;
	__u32 b, j = bno & (XL4_GUARD_BUCKETS - 1);

	if (!guard_ctx_init(&g, NULL, vip_id, now))
		return;
	b = guard_roll(g.st, vip_id, now);
	if (b < XL4_GUARD_BUCKETS)
		g.st->ack[b]++;
	g.st->acks++;
	if (guard_level(g.cfg, g.vip, g.ctl, now) != XL4_GUARD_FIRST_DROP)
		return;
	/* the cookie proof its SYN spent, once: a proof counts one completion however many
	 * SYNs of its tuple First Drop's own proof lets through after it, each with a blind ACK */
	guard_src_key(g.cfg, &k, p);
	k.port = p->t.sport;
	exp = bpf_map_lookup_elem(&xl4_gverc_v1, &k);
	if (!exp || (*exp & (XL4_GUARD_VERIFIED_USED | XL4_GUARD_VERIFIED_ACKED)) != XL4_GUARD_VERIFIED_USED ||
	    (*exp & ~XL4_GUARD_VERIFIED_FLAGS) <= now || !(sk = bpf_map_lookup_elem(&xl4_gsrc_v2, &vip_id)))
		return;
	*exp |= XL4_GUARD_VERIFIED_ACKED;
	if (sk->bucket[j] != bno) {
		sk->bucket[j] = bno;
		sk->bits[j] = 0;
		sk->pack[j] = 0;
	}
	sk->pack[j]++;
}

/* The challenge cookie's keys. */
static __always_inline const struct xl4_guard_ckeys *guard_ckeys(void)
{
	return &xl4_gckey;
}

/* The key of the epoch `slice` falls in (include/xl4/abi.h: struct xl4_guard_ckeys). */
static __always_inline const __u64 *guard_ckey(const struct xl4_guard_ckeys *ck, __u64 slice)
{
	__u32 per = ck->slices ? ck->slices : 1;
	__u32 i = (__u32)((slice / per) % XL4_GUARD_COOKIE_KEYS);

	/* constant offsets: the verifier does not bound a modulo, and clang drops a range check
	 * it can prove */
	_Static_assert(XL4_GUARD_COOKIE_KEYS == 3, "one branch per slot");
	if (i == 1)
		return ck->key[1];
	if (i == 2)
		return ck->key[2];
	return ck->key[0];
}

/* Does seq answer a cookie of slice `slice`? Never with a key not drawn yet (all zero). */
static __always_inline int guard_cookie_ok(const struct xl4_guard_ckeys *ck, const struct xl4_pkt *p,
					   __u64 slice, __u32 seq)
{
	const __u64 *k = guard_ckey(ck, slice);

	return (k[0] | k[1]) && seq == guard_cookie(k, p, slice);
}

/* ---- the SYN table: which SYNs await their completing ACK (and on which backend) ---- */

/*
 * A flow's slot is picked by the low bits of its flow hash; the flows that share a slot are
 * told apart by a tag from the same jhash's second word (xl4_flow_hash_pair(): lookup3's b, as
 * hashlittle2 returns it), not from the hash itself: with 2^20 slots the hash's own bits left
 * over would be 12, and two flows in a slot would share a tag one time in 4096. A second
 * jhash of the 40-byte key did this before, on the SYN and again on its ACK (docs/
 * performance.md, round fourteen); the second word costs nothing. The guard's key goes in
 * through murmur3's finalizer; bit 0 marks a slot in use.
 */
static __always_inline __u32 guard_syn_tag(const struct xl4_guard_cfg *c, __u32 hash2)
{
	return xl4_fmix32(hash2 ^ c->key[1]) | 1;
}

static __always_inline struct xl4_guard_slot *guard_syn_slot(const struct xl4_guard_cfg *c,
							     __u32 flow_hash, __u32 hash2, __u32 *tag)
{
	__u32 idx = flow_hash & c->syn_mask;

	*tag = guard_syn_tag(c, hash2);
	return bpf_map_lookup_elem(&xl4_gsyn_v1, &idx);
}

/* ---- First Drop ---- */

/* A greylist way's age in ticks. Another CPU that read the clock a jiffy after this one may
 * have written its way since: a way up to 64 ticks (67 ms) "ahead" is the newest, age 0, not
 * one 52 days old (the next victim, and its client's retransmission dropped as a first SYN).
 * Only that small lead: a way really weeks old must still age as the oldest. */
static __always_inline __u32 grey_age(__u32 now_t, __u32 tick)
{
	__u32 age = now_t - tick;

	return age > (__u32)-64 ? 0 : age;
}

/*
 * The greylist's key is the SYN itself: source address and port, VIP (its id names address
 * and port) and the client's sequence number. A TCP retransmission repeats all of them; a
 * spoofed flood from a small prefix repeats addresses but not (port, sequence), so it cannot
 * pass for a retransmission of itself (an attacker must resend the very same SYN, which
 * escalation to the challenge answers). A real client's connections each wait for their own
 * retransmission, until the first one admitted has verified its source.
 */
static __always_inline int guard_first_drop(struct guard_ctx *g, const struct xl4_pkt *p,
					    __u32 vip_id, __be32 seq)
{
	struct guard_hkey h = { .x = vip_id, .y = (p->t.flags & XL4_F_IPV6) ? 6 : 4,
				.b = { ((__u32)p->t.sport << 16) | p->t.dport, seq } };
	__u32 now_t = g->now >> XL4_GUARD_GREY_TICK_SHIFT;
	__u32 min_t = ((__u64)g->cfg->fd_min_ms * MS_NS) >> XL4_GUARD_GREY_TICK_SHIFT;
	__u32 max_t = ((__u64)g->cfg->fd_max_ms * MS_NS) >> XL4_GUARD_GREY_TICK_SHIFT;
	struct xl4_guard_grey *bk;
	__u32 idx, tag, age, oldest = 0, victim = 0;
	int hit = -1;

	__builtin_memcpy(h.a, p->t.saddr, 16);
	idx = xl4_jhash_10((const __u32 *)&h, g->cfg->key[2]) & g->cfg->grey_mask;
	tag = xl4_jhash_10((const __u32 *)&h, g->cfg->key[3]) | 1;
	bk = bpf_map_lookup_elem(&xl4_ggrey_v1, &idx);
	if (!bk) /* the mask outgrew the map: fail closed */
		return -XL4_R_GUARD_FIRST_DROP;
	XL4_UNROLL
	for (int i = 0; i < XL4_GUARD_GREY_WAYS; i++) {
		age = grey_age(now_t, bk->tick[i]);
		if (bk->tag[i] == tag)
			hit = i;
		if (!bk->tag[i])
			age = 0xffffffffu; /* empty: the first choice */
		if (age >= oldest) {
			oldest = age;
			victim = i;
		}
	}
	if (hit >= 0 && hit < XL4_GUARD_GREY_WAYS) {
		age = grey_age(now_t, bk->tick[hit]);
		if (age < min_t) {
			g->st->fd_early++;
			return -XL4_R_GUARD_SYN_EARLY;
		}
		if (age <= max_t) {
			bk->tag[hit] = 0;
			guard_verify(g->cfg, p, g->now, 0);
			g->st->fd_admitted++;
			return XL4_NEXT;
		}
		victim = hit; /* too late: it starts over in its own place */
	}
	if (victim < XL4_GUARD_GREY_WAYS) {
		bk->tag[victim] = tag;
		bk->tick[victim] = now_t;
	}
	g->st->fd_dropped++;
	return -XL4_R_GUARD_FIRST_DROP;
}

/* ---- the stage (the challenge's cookie and SYN-ACK: guard_pkt.h) ---- */

/* The client's sequence number (0 if the header is not there: cannot happen after parse). */
static __always_inline __be32 guard_syn_seq(struct xdp_md *ctx, const struct xl4_pkt *p)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct tcphdr *th = (void *)((__u8 *)data + (p->l4_off & XL4_OFF_MASK));

	return (void *)(th + 1) <= end ? th->seq : 0;
}

/* A bare RST (no ACK) to a guarded VIP: the answer to our challenge if it carries a cookie
 * of this slice or the one before. Consumed and the source verified; anything else goes on. */
static __always_inline int guard_rst(struct xdp_md *ctx, struct guard_ctx *g, const struct xl4_pkt *p,
				     __u32 level)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct tcphdr *th = (void *)((__u8 *)data + (p->l4_off & XL4_OFF_MASK));
	const struct xl4_guard_ckeys *ck = guard_ckeys();
	__u64 slice = g->now >> XL4_GUARD_COOKIE_SHIFT;
	__u32 seq;

	if ((void *)(th + 1) > end || !ck)
		return XL4_NEXT;
	seq = bpf_ntohl(th->seq);
	if (guard_cookie_ok(ck, p, slice, seq) || (slice && guard_cookie_ok(ck, p, slice - 1, seq))) {
		guard_verify(g->cfg, p, g->now, XL4_GUARD_VERIFIED_COOKIE);
		g->st->chal_passed++;
		return -XL4_R_GUARD_CHALLENGE_ANSWERED;
	}
	if (level == XL4_GUARD_CHALLENGE)
		g->st->chal_failed++;
	return XL4_NEXT;
}

/* An unverified SYN at the challenge level: answered with a SYN-ACK carrying this slice's
 * cookie, within the per-CPU budget. */
static __always_inline int guard_send_challenge(struct xdp_md *ctx, struct guard_ctx *g,
						const struct xl4_pkt *p)
{
	const struct xl4_guard_ckeys *ck = guard_ckeys();
	__u64 slice = g->now >> XL4_GUARD_COOKIE_SHIFT;
	__u32 zero = 0;

	if (g->cfg->challenge_per_sec &&
	    !xl4_bucket_take(bpf_map_lookup_elem(&xl4_gchbud_v1, &zero), g->cfg->challenge_per_sec,
			     g->now)) {
		g->st->chal_budget++;
		return -XL4_R_GUARD_CHALLENGE_BUDGET;
	}
	if (!ck) /* no key map: cannot happen once loaded */
		return -XL4_R_GUARD_CHALLENGE_BUDGET;
	g->st->chal_sent++;
	return guard_challenge(ctx, p, guard_cookie(guard_ckey(ck, slice), p, slice));
}

/* Has this CPU's count of the current bucket (b) run past what a surge's pace allows since the
 * bucket began: XL4_GUARD_SURGE_BURST, then surge_min per window (16 buckets:
 * 2^(XL4_GUARD_BUCKET_SHIFT + 4) ns)? Never without surges. */
static __always_inline int guard_past_pace(const struct xl4_guard_cfg *c, const __u32 *count,
					   __u32 b, __u64 now)
{
	__u64 in_bucket = now & ((1ull << XL4_GUARD_BUCKET_SHIFT) - 1);

	return c->surge_min && b < XL4_GUARD_BUCKETS &&
	       count[b] > XL4_GUARD_SURGE_BURST + (((__u64)c->surge_min * in_bucket) >>
						    (XL4_GUARD_BUCKET_SHIFT + 4));
}

/*
 * Normal mode, before any window is judged: this CPU's part of a surge. While the SYNs of this
 * CPU's current bucket run ahead of surge_rate's pace since the bucket began (by more than
 * XL4_GUARD_SURGE_BURST) and fewer than 1 in ratio of them have completed (the bucket's and
 * the bucket before's completing ACKs: a handshake takes a round trip), a SYN meets First
 * Drop. So a flood is not forwarded to the backends for the bucket or two it takes the judge
 * to see it (docs/guard.md "Surges"), not even a bucket's allowance in one burst at its start;
 * traffic whose handshakes complete is never capped, at any rate.
 */
static __always_inline int guard_surge_capped(const struct xl4_guard_cfg *c,
					      const struct xl4_guard_stats *s, __u32 b, __u64 now)
{
	return guard_past_pace(c, s->syn, b, now) &&
	       guard_ratio_bad(c, s->syn[b & (XL4_GUARD_BUCKETS - 1)],
			       s->ack[b & (XL4_GUARD_BUCKETS - 1)] +
				       s->ack[(b - 1) & (XL4_GUARD_BUCKETS - 1)]);
}

/*
 * At First Drop under `auto`, the same for what it admits (a retransmission, or a source a
 * retransmission verified): past a surge's pace in this CPU's bucket, from at least
 * src_bits_min sources (one host's repeats must not put everyone through the challenge),
 * while fewer than 1 in ratio of the admitted completed their handshake (the completing ACKs
 * from cookie-proven sources, this bucket's and the one before: any other ACK a spoofer can
 * send itself), a SYN First Drop would admit is answered with the challenge instead. So an
 * attacker who repeats every spoofed SYN is not forwarded at its rate until the judge
 * escalates (docs/guard.md "Surges"). A global function: only a SYN past the pace calls it
 * (guard_past_pace()), and inlined its frame did not fit the guard stage's.
 */
__noinline int xl4_guard_admit_capped(__u32 vip_id, __u32 b, __u64 now)
{
	struct xl4_guard_ctl *ctl = bpf_map_lookup_elem(&xl4_gctl_v1, &vip_id);
	__u64 bno = now >> XL4_GUARD_BUCKET_SHIFT;
	__u32 j = b & (XL4_GUARD_BUCKETS - 1), jp = (b - 1) & (XL4_GUARD_BUCKETS - 1), adm, pack;
	struct xl4_guard_stats *st;
	struct xl4_guard_srcs *sk;
	struct xl4_guard_cfg *c;
	struct xl4_guard_vip *v;

	/* First Drop, the kernel's own (not forced): what escalates under `auto`. A forced
	 * level is the common way here in the bench and costs one read. */
	if (ctl && ctl->override != XL4_GUARD_OV_AUTO)
		return 0;
	c = guard_cfg();
	st = bpf_map_lookup_elem(&xl4_gstat_v2, &vip_id);
	sk = bpf_map_lookup_elem(&xl4_gsrc_v2, &vip_id);
	v = bpf_map_lookup_elem(&xl4_gvip_v1, &vip_id);
	if (!c || !st || !sk || !v || c->response != XL4_GUARD_RESP_AUTO ||
	    guard_level(c, v, ctl, now) != XL4_GUARD_FIRST_DROP)
		return 0;
	adm = st->adm[j];
	if (sk->bucket[j] != bno || guard_popcount(sk->bits[j]) < c->src_bits_min)
		return 0;
	pack = sk->pack[j] + (sk->bucket[jp] == bno - 1 ? sk->pack[jp] : 0);
	return guard_ratio_bad(c, adm, pack);
}

/* What the guard judges: TCP SYNs without ACK, and bare RSTs (answers to its challenge).
 * Everything else (established flows above all) never reaches the stage, nor does a
 * fragment: the load balancer drops it (lb_frag), so it must neither count as a SYN nor earn
 * a challenge or a proof. */
static __always_inline int xl4_guard_wants(const struct xl4_pkt *p)
{
	__u8 fl = p->t.tcp_flags;

	return p->t.proto == IPPROTO_TCP && (p->t.flags & (XL4_F_L4 | XL4_F_FRAG)) == XL4_F_L4 &&
	       ((fl & (XL4_TCP_SYN | XL4_TCP_ACK)) == XL4_TCP_SYN ||
		(fl & (XL4_TCP_RST | XL4_TCP_ACK)) == XL4_TCP_RST);
}

static __always_inline int xl4_guard(struct xdp_md *ctx, struct xl4_pkt *p)
{
	__u8 fl = p->t.tcp_flags;
	int rst = (fl & (XL4_TCP_RST | XL4_TCP_ACK)) == XL4_TCP_RST;
	struct xl4_vip_key vk = { .family = (p->t.flags & XL4_F_IPV6) ? 6 : 4 };
	struct guard_ctx g;
	const struct xl4_guard_cfg *cfg;
	struct xl4_vip *vip;
	__u64 *counted; /* the outcome counter an admitted SYN moved */
	__u32 level, b;
	int ret;

	if (!xl4_guard_wants(p))
		return XL4_NEXT;
	cfg = guard_cfg(); /* off: no VIP lookup either */
	if (!cfg)
		return XL4_NEXT;
	__builtin_memcpy(vk.addr, p->t.daddr, 16);
	vk.port = p->t.dport;
	vk.proto = IPPROTO_TCP;
	vip = vip_find(&vk);
	if (!vip)
		return XL4_NEXT;
	p->vip_hint = vip->id + 1;
	if (!guard_ctx_init(&g, cfg, vip->id, xl4_now()))
		return XL4_NEXT;

	b = guard_roll(g.st, vip->id, g.now);
	level = guard_level(g.cfg, g.vip, g.ctl, g.now);
	if (rst)
		return guard_rst(ctx, &g, p, level);

	if (b < XL4_GUARD_BUCKETS)
		g.st->syn[b]++;
	g.st->syns++;
	if (level == XL4_GUARD_NORMAL) {
		/* not counted as admitted: adm is what emergency mode lets through; a VIP the
		 * operator forced off is left alone */
		if ((g.ctl && g.ctl->override == XL4_GUARD_OV_OFF) ||
		    !guard_surge_capped(g.cfg, g.st, b, g.now))
			return XL4_NEXT;
		return guard_verified(g.cfg, p, g.now, XL4_GUARD_FIRST_DROP) ?
			       XL4_NEXT :
			       guard_first_drop(&g, p, vip->id, guard_syn_seq(ctx, p));
	}
	if (guard_verified(g.cfg, p, g.now, level)) {
		g.st->verified_pass++;
		counted = &g.st->verified_pass;
		ret = XL4_NEXT;
	} else if (level == XL4_GUARD_CHALLENGE) {
		return guard_send_challenge(ctx, &g, p);
	} else {
		ret = guard_first_drop(&g, p, vip->id, guard_syn_seq(ctx, p));
		counted = &g.st->fd_admitted; /* what an admission counted (only then read) */
	}
	if (ret == XL4_NEXT && b < XL4_GUARD_BUCKETS)
		g.st->adm[b]++;
	/* The sources of the SYNs emergency mode lets through, and only those: they are what
	 * min_sources counts, for the judge (is First Drop beaten?) and the admission cap. A
	 * dropped SYN's source counted too let one verified host plus any three others' first
	 * SYNs (dropped) pass for a many-source flood and force the challenge on everyone. */
	if (ret == XL4_NEXT)
		guard_src_note(g.cfg, p, vip->id, g.now >> XL4_GUARD_BUCKET_SHIFT);
	/* Counted as admitted either way: what First Drop would admit is the judge's evidence
	 * that it is beaten. The VIP's id from the packet, not vip: one value less live across
	 * First Drop (the stage's frame is what the chain of 512 bytes has least room for). */
	if (ret == XL4_NEXT && guard_past_pace(g.cfg, g.st->adm, b, g.now) &&
	    xl4_guard_admit_capped(p->vip_hint - 1, b, g.now)) {
		/* not let through after all: its outcome is the challenge's, counted there, not
		 * also the admission counted above (adm[b] stays: the judge's evidence) */
		(*counted)--;
		return guard_send_challenge(ctx, &g, p);
	}
	return ret;
}

#endif /* XL4_GUARD_H */
