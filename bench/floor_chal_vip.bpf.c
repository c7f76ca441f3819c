// SPDX-License-Identifier: GPL-2.0
/*
 * Bench reference: the floor of a per-VIP SYN-ACK challenge (bench/capacity's "floor_chal_vip"
 * row): bench/floor_chal.bpf.c plus the least that any guard with the product's contract
 * (emergency mode per VIP, judged from each VIP's SYN count; a verified source let through; a
 * bound on what it reflects) must do per flood SYN, each in its cheapest form:
 *   - the VIP: one direct-mapped slot (an array read and a key compare; xl4 uses a hash map),
 *     which also holds the VIP's level;
 *   - one per-CPU value per VIP: its SYN count, its challenge budget (a token count refilled
 *     once per jiffy: no division) and its verdict count;
 *   - the verified-source check: one bit in 128 KiB, keyed by a multiply hash of the source
 *     (xl4's cookie half of xl4_gvbit_v1 at its default size).
 * What this floor is above floor_chal is what the challenge goal's limit must leave room for:
 * docs/performance.md, round ten.
 *
 * Left out, though xl4 does them: the filter, the VIP-address bits, the guard's settings, its
 * window and judge, the source sketch, the key rotation (a fixed key here, as in floor_chal),
 * the clock's calibration, the stage's call. A slot found empty is filled with the SYN's VIP
 * at the challenge level: the bench sends one VIP, so after its first SYN every SYN pays the
 * compare as a configured VIP would.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "guard_pkt.h"

#define FLOOR_VSLOTS 256 /* 4 per VIP at xl4's XL4_MAX_VIPS (64) */
#define FLOOR_VBIT_WORDS (1u << 14) /* 2^20 bits: 128 KiB */
#define FLOOR_BUDGET_PER_JIFFY 4000000u /* lifted, as bench/capacity lifts xl4's */

struct floor_vslot {
	__be32 addr[4];
	__be16 port;
	__u8 family;
	__u8 level; /* 0: not a VIP (an empty slot); 2: the challenge */
	__u32 id;
};

struct floor_vstate {
	__u64 syns;
	__u64 answered;
	__u64 tokens;
	__u64 refilled; /* the jiffy the tokens were refilled in */
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, FLOOR_VSLOTS);
	__type(key, __u32);
	__type(value, struct floor_vslot);
} vslot SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, FLOOR_VSLOTS);
	__type(key, __u32);
	__type(value, struct floor_vstate);
} vstate SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, FLOOR_VBIT_WORDS);
	__type(key, __u32);
	__type(value, __u64);
} vbits SEC(".maps");

static __always_inline int slot_is(const struct floor_vslot *s, const struct xl4_pkt *p, __u8 fam)
{
	return s->port == p->t.dport && s->family == fam && s->addr[0] == p->t.daddr[0] &&
	       s->addr[1] == p->t.daddr[1] && s->addr[2] == p->t.daddr[2] &&
	       s->addr[3] == p->t.daddr[3];
}

SEC("xdp")
int floor_chal_vip(struct xdp_md *ctx)
{
	__u64 key[2] = { 0x0123456789abcdefull, 0xfedcba9876543210ull }; /* stack: no .rodata */
	struct xl4_pkt p = { .frag_policy = XL4_FRAG_PASS };
	__u64 j = bpf_jiffies64(), *w;
	struct floor_vstate *st;
	struct floor_vslot *s;
	__u32 idx, bit;
	__u8 fam;
	int ret;

	if (xl4_parse((void *)(long)ctx->data, (void *)(long)ctx->data_end, &p) < 0)
		return XDP_ABORTED;
	if (p.t.proto != IPPROTO_TCP || !(p.t.flags & XL4_F_L4) ||
	    (p.t.tcp_flags & (XL4_TCP_SYN | XL4_TCP_ACK)) != XL4_TCP_SYN)
		return XDP_PASS;
	fam = (p.t.flags & XL4_F_IPV6) ? 6 : 4;
	idx = ((p.t.daddr[0] ^ p.t.daddr[3] ^ p.t.dport) * 2654435761u) >> 24;
	s = bpf_map_lookup_elem(&vslot, &idx);
	if (!s)
		return XDP_ABORTED;
	if (!s->level) { /* the bench's one VIP, on its first SYN */
		__builtin_memcpy(s->addr, p.t.daddr, 16);
		s->port = p.t.dport;
		s->family = fam;
		s->id = idx;
		s->level = 2;
	}
	if (!slot_is(s, &p, fam))
		return XDP_PASS;
	idx = s->id;
	st = bpf_map_lookup_elem(&vstate, &idx);
	if (!st)
		return XDP_ABORTED;
	st->syns++;
	bit = ((p.t.saddr[0] ^ p.t.saddr[1] ^ p.t.saddr[2] ^ p.t.saddr[3]) * 2654435761u) >> 12;
	idx = bit / 64;
	w = bpf_map_lookup_elem(&vbits, &idx);
	if (!w || (*w & (1ull << (bit % 64))))
		return XDP_PASS; /* verified (the bench sets no bit: every SYN goes on) */
	if (st->refilled != j) {
		st->refilled = j;
		st->tokens = FLOOR_BUDGET_PER_JIFFY;
	}
	if (!st->tokens)
		return XDP_DROP;
	st->tokens--;
	ret = guard_challenge(ctx, &p, guard_cookie(key, &p, j >> 8));
	if (ret != XDP_TX)
		return XDP_ABORTED;
	st->answered++;
	return XDP_TX;
}

char LICENSE[] SEC("license") = "GPL";
