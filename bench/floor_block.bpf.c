// SPDX-License-Identifier: GPL-2.0
/*
 * Bench reference: the floor of xl4's IPv4 blocklist hit ("floor block"), the work no
 * source-prefix filter with a DIR-24-8-style index can skip: the head of xl4's parser
 * (xl4_parse_head(): Ethernet, VLAN tags, the IPv4 fixed header's version and addresses, what
 * xl4 reads before it drops a blocked source since round seventeen; before, this floor parsed
 * the whole frame), the source's /24 slot in a 2^24-entry array (as xl4's index has,
 * bpf/filter.h), and either the host byte a direct slot carries (a /32 alone in its /24,
 * abi.h XL4_D24_DIRECT: the bench's probe, as in xl4 since round twenty-three) or the one
 * entry the slot names and its containment check (the prefix and its length), the drop
 * counted in a per-CPU array under a reason, XDP_DROP. A source the index does not hold
 * passes.
 *
 * Excluded, as xl4's own additions: the filter's settings (which lists have entries), the
 * allowlist, expiry (the clock), scopes, the group level of the index (a /24 holding two or
 * more longer prefixes), the drop sampler's due time, and the stage's call.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "parse.h"

struct floor_entry {
	__u32 addr; /* host order, masked to len */
	__u32 len;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1u << 24);
	__type(key, __u32);
	__type(value, __u32);
} idx SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, struct floor_entry);
} ent SEC(".maps");

struct floor_counter {
	__u64 packets;
	__u64 bytes;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, struct floor_counter);
} cnt SEC(".maps");

SEC("xdp")
int floor_block(struct xdp_md *ctx)
{
	struct xl4_cursor cur = { .pos = (void *)(long)ctx->data,
				  .end = (void *)(long)ctx->data_end,
				  .start = (void *)(long)ctx->data };
	struct xl4_pkt p = { .frag_policy = XL4_FRAG_PASS };
	struct floor_counter *c;
	struct floor_entry *e;
	__u32 a, k, id, mask, reason = 1, *slot;
	int ret;

	ret = xl4_parse_head(&cur, &p);
	if (ret < 0)
		return XDP_ABORTED;
	if (ret != ETH_P_IP)
		return XDP_PASS;
	a = bpf_ntohl(p.t.saddr[0]);
	k = a >> 8;
	slot = bpf_map_lookup_elem(&idx, &k);
	if (!slot || !*slot)
		return XDP_PASS;
	id = *slot;
	if (id & XL4_D24_DIRECT) {
		if (((id >> XL4_D24_HOST_SHIFT) & 0xff) != (a & 0xff))
			return XDP_PASS;
	} else {
		e = bpf_map_lookup_elem(&ent, &id);
		if (!e)
			return XDP_PASS;
		mask = e->len >= 32 ? ~0u : e->len ? ~0u << (32 - e->len) : 0;
		if ((a & mask) != e->addr)
			return XDP_PASS;
	}
	c = bpf_map_lookup_elem(&cnt, &reason);
	if (c) {
		c->packets++;
		c->bytes += p.pkt_len;
	}
	return XDP_DROP;
}

/*
 * The floor of a packet for no VIP ("floor pass"): the work any engine that balances some
 * addresses and counts what it passes cannot skip on the host's own traffic. xl4's whole parser
 * (what parse-then-drop runs), the destination's bit in a 65,536-bit map of the VIP addresses
 * (xl4_vip_bit(), reached by address as xl4's is), the verdict counted in the per-CPU array,
 * XDP_PASS. Excluded, as xl4's own: the filter's settings and front, and the rodata knobs.
 */
__u64 floor_vbits[XL4_VIP_BITS_WORDS];

SEC("xdp")
int floor_pass(struct xdp_md *ctx)
{
	struct xl4_pkt p = {};
	struct floor_counter *c;
	__u32 bit, verdict = XDP_PASS;

	if (xl4_parse((void *)(long)ctx->data, (void *)(long)ctx->data_end, &p) < 0)
		return XDP_ABORTED;
	bit = xl4_vip_bit(p.t.daddr);
	if ((floor_vbits[(bit / 64) & (XL4_VIP_BITS_WORDS - 1)] >> (bit % 64)) & 1)
		return XDP_ABORTED; /* a VIP: not this floor's path */
	c = bpf_map_lookup_elem(&cnt, &verdict);
	if (c) {
		c->packets++;
		c->bytes += p.pkt_len;
	}
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
