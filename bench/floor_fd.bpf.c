// SPDX-License-Identifier: GPL-2.0
/*
 * Bench reference: the floor of First Drop on a spoofed SYN (bench/capacity's "floor_fd" row),
 * the work no First Drop can skip on a SYN from a source it has never seen: xl4's parser, one
 * keyed hash of what names the SYN (source address, ports, sequence number: the key of xl4's
 * greylist, bpf/guard.h), its 4-way bucket in a table of xl4's default size (2^20 slots, 8 MiB:
 * a random source's bucket is a cache miss, as in xl4), the tag written over the oldest way,
 * XDP_DROP (ethtool counts the drops); a SYN whose tag the bucket holds passes, as a
 * retransmission (no timing window here). Anything not a TCP SYN passes.
 *
 * Excluded, as xl4's own additions: the VIP lookup, the guard's settings, stats and window,
 * the source sketch, the verified-source tables (a lookup that misses for a new source), the
 * second hash (one hash here gives index and tag), the drop's counters and sampler, and the
 * stage's call.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "hash.h"
#include "parse.h"

#define FLOOR_GREY_BUCKETS (1u << 18) /* xl4's default guard.greylist_slots (2^20) / 4 ways */

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, FLOOR_GREY_BUCKETS);
	__type(key, __u32);
	__type(value, struct xl4_guard_grey);
} grey SEC(".maps");

SEC("xdp")
int floor_fd(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct xl4_pkt p = { .frag_policy = XL4_FRAG_PASS };
	__u32 h[10] = {}, hash, idx, tag, now_t, oldest = 0, victim = 0, age;
	struct xl4_guard_grey *bk;
	struct tcphdr *th;

	if (xl4_parse(data, end, &p) < 0)
		return XDP_ABORTED;
	if (p.t.proto != IPPROTO_TCP || !(p.t.flags & XL4_F_L4) ||
	    (p.t.tcp_flags & (XL4_TCP_SYN | XL4_TCP_ACK)) != XL4_TCP_SYN)
		return XDP_PASS;
	th = (void *)((__u8 *)data + (p.l4_off & XL4_OFF_MASK));
	if ((void *)(th + 1) > end)
		return XDP_ABORTED;
	__builtin_memcpy(h, p.t.saddr, 16);
	h[4] = ((__u32)p.t.sport << 16) | p.t.dport;
	h[5] = th->seq;
	hash = xl4_jhash_10(h, 0x5eed);
	idx = hash & (FLOOR_GREY_BUCKETS - 1);
	tag = (hash >> 18) | 1;
	bk = bpf_map_lookup_elem(&grey, &idx);
	if (!bk)
		return XDP_ABORTED;
	now_t = (__u32)(bpf_jiffies64() << 2);
	XL4_UNROLL
	for (int i = 0; i < XL4_GUARD_GREY_WAYS; i++) {
		if (bk->tag[i] == tag) /* its retransmission: admitted (no window kept here) */
			return XDP_PASS;
		age = bk->tag[i] ? now_t - bk->tick[i] : 0xffffffffu;
		if (age >= oldest) {
			oldest = age;
			victim = i;
		}
	}
	if (victim < XL4_GUARD_GREY_WAYS) {
		bk->tag[victim] = tag;
		bk->tick[victim] = now_t;
	}
	return XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
