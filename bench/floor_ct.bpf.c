// SPDX-License-Identifier: GPL-2.0
/*
 * Bench reference: the floor of the established l2 flow on veth (bench/capacity's "floor_ct"
 * row), what bench/floor.bpf.c's "floor l2 est" does in the test-run rows: xl4's parser, the
 * flow key and its 16-byte IPv4 table key, one lookup in a 262144-entry shared LRU hash of
 * struct xl4_flow (xl4's IPv4 connection table, default size), the backend by id (an array
 * lookup), its generation compared, xl4's MAC rewrite (fwd_l2), XDP_TX.
 *
 * The table fills itself: a flow not yet in it (the first packet of each of the generator's
 * 1000 flows) is inserted on a backend chosen from its source, and its backend's MAC written.
 * A run sends millions of packets, so the thousand inserts are noise and every other packet is
 * a hit, as in xl4's row after its table holds the flows.
 *
 * Excluded, as xl4's own additions: the VIP by id, the settings, the counters, the touch and the
 * clock. bench/floor_tx.bpf.c is the floor under this one: no connection table at all.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "lb_pkt.h"
#include "parse.h"

#define FLOOR_NBE 10

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 262144);
	__type(key, struct xl4_flow_key4);
	__type(value, struct xl4_flow);
} ct SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, FLOOR_NBE);
	__type(key, __u32);
	__type(value, struct xl4_backend);
} backends SEC(".maps");

/* A flow the table does not hold yet: on backend (source % FLOOR_NBE), MAC 02:00:00:00:0b:id+1. */
static __always_inline int floor_ct_insert(const struct xl4_flow_key4 *k4)
{
	struct xl4_flow f = { .backend_id = bpf_ntohl(k4->saddr) % FLOOR_NBE, .gen = 1 };
	struct xl4_backend *be = bpf_map_lookup_elem(&backends, &f.backend_id);

	if (!be)
		return -1;
	if (be->gen != 1) {
		__u8 mac[ETH_ALEN] = { 0x02, 0, 0, 0, 0x0b, (__u8)(f.backend_id + 1) };

		__builtin_memcpy(be->mac, mac, ETH_ALEN);
		be->gen = 1;
	}
	return bpf_map_update_elem(&ct, k4, &f, BPF_ANY);
}

SEC("xdp")
int floor_ct(struct xdp_md *ctx)
{
	struct xl4_pkt p = { .frag_policy = XL4_FRAG_PASS };
	struct xl4_flow_key fk;
	struct xl4_flow_key4 k4;
	struct xl4_backend *be;
	struct xl4_flow *f;
	__u32 id;
	int ret;

	if (xl4_parse((void *)(long)ctx->data, (void *)(long)ctx->data_end, &p) < 0 ||
	    !(p.t.flags & XL4_F_L4))
		return XDP_DROP;
	flow_key_from_pkt(&fk, &p);
	xl4_flow_key4_of(&k4, &fk);
	f = bpf_map_lookup_elem(&ct, &k4);
	if (!f) {
		if (floor_ct_insert(&k4))
			return XDP_ABORTED;
		f = bpf_map_lookup_elem(&ct, &k4);
		if (!f)
			return XDP_ABORTED;
	}
	id = f->backend_id;
	be = bpf_map_lookup_elem(&backends, &id);
	if (!be || be->gen != f->gen)
		return XDP_DROP;
	ret = fwd_l2(ctx, be);
	return ret < 0 ? XDP_DROP : ret;
}

char LICENSE[] SEC("license") = "GPL";
