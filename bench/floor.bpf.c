// SPDX-License-Identifier: GPL-2.0
/*
 * Bench references: the floors of xl4's load-balancer paths. Each program does the work no
 * connection-tracking Maglev balancer can skip (floor_ipip_lane: and the least xl4's contract
 * adds to it), with xl4's own parser, key, hash and map types,
 * so the gap between an xl4 row and its floor row is what xl4 adds on top, measured in the same
 * round (bench/xl4-bench.c prints the floor's ratio under each goal it bounds).
 * The established floors look their flow up in the table on every packet: the floor of a
 * balancer that does. xl4's flow cache (bpf/flow_cache.h) skips that lookup for a flow whose
 * per-CPU copy is of this epoch, so its established rows can go below these floors; xl4's
 * "l2 est nocache" row is the one to hold against them.
 *
 *   floor_est     "floor l2 est": xl4_parse, the flow key (flow_key_from_pkt) and its 16-byte
 *                 IPv4 table key (xl4_flow_key4_of), one lookup in a 262144-entry shared LRU
 *                 hash of struct xl4_flow (xl4's IPv4 conntrack, default size), the backend by id (an array lookup, inlined by the verifier: the MAC
 *                 has to come from somewhere), its generation compared, the MAC rewrite of
 *                 fwd_l2, XDP_TX. A miss or a stale entry returns XDP_PASS.
 *   floor_ipip    "floor ipip est": floor_est with xl4's IPv4-in-IPv4 encapsulation
 *                 (bpf/encap_pkt.h: bpf_xdp_adjust_head, the Ethernet header moved down, the
 *                 outer header and its checksum, the source varied by the flow hash) in place
 *                 of the MAC rewrite. The hash is the entry's: no jhash on this path either.
 *   floor_ipip_lane "floor ipip lane": floor_ipip plus the least per-packet work any balancer
 *                 with xl4's contract must add to an established flow, each in its cheapest
 *                 form: the filter's "has entries" flag (a global, one load: the blocklist
 *                 applies to established flows), the backend's VIP (an array read by the
 *                 backend's id, beside the backend's, as xl4's lane does since round
 *                 twenty-four; its id checked against the backend's VIP id: a removed VIP
 *                 stops forwarding) and its MTU checked (ipip's too-big
 *                 answer), the outer source base from globals (runtime settings), the flow's
 *                 last-seen tick written when it changed (idle expiry, bpf_jiffies64), and one
 *                 per-CPU counter per backend (packets, bytes: user space would sum it into the
 *                 VIP's, the backend's and the verdict's totals). xl4's lane does each of these
 *                 with more (three counters, the VIP-address bits, the LB settings, its clock).
 *   floor_l2_lane "floor l2 lane": floor_est plus floor_ipip_lane's share of the contract but
 *                 the MTU check (l2 forwards the frame as it came).
 *   floor_insert  "floor insert" (every packet a new flow): parse, key, jhash, one Maglev read
 *                 (a 2 x 65537 u32 array, one VIP's two tables), the backend's MAC, and
 *                 bpf_map_update_elem(BPF_ANY) into the same kind of LRU (xl4-bench gives this
 *                 one and floor_conn's per-CPU LRU lists, as xl4's default); once the table is
 *                 full every insert evicts. XDP_TX, or XDP_ABORTED if the insert fails.
 *   floor_conn    "floor conn" (SYN, then its completing ACK): the SYN is parse, key, jhash,
 *                 Maglev read, a 16-byte slot written in a 65536-slot array (what the bench's
 *                 xl4 has: bpf/maps.h xl4_gsyn_v1; the daemon's default is 2^20), the MAC,
 *                 XDP_TX. The ACK is parse, key, the conntrack lookup (a miss: XDP_PASS on a
 *                 hit), jhash, the slot read and its tag and age checked (XDP_DROP if it does
 *                 not claim the SYN), the insert (XDP_ABORTED if it fails), the MAC, XDP_TX.
 *
 * Excluded, as xl4's optional work (floor_ipip_lane takes its cheapest share of it): the VIP
 * lookups (a conntrack hit names the VIP; the SYN's
 * VIP is the template's), counters of any kind, the filter, the guard's settings, levels and
 * verified sources, the insert budget, the flow's last-seen time and any clock read but
 * bpf_jiffies64 (the SYN slot's age, 4 ms ticks), and the SYN's conntrack lookup. The slot's
 * tag is the one flow hash (its high bits check what its low bits index); xl4 computes a
 * second keyed hash for a 32-bit tag. Every step feeds the verdict or a map the next packet
 * reads, so the compiler cannot drop one, and a wrong setup shows as a wrong verdict.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "parse.h"
#include "encap_pkt.h"
#include "hash.h"
#include "lb_pkt.h"

#define FLOOR_SYN_SLOTS (1u << 16)
#define FLOOR_SYN_MAX_AGE 250 /* jiffies: about a second at HZ 250 */

struct floor_slot {
	__u32 tag; /* the flow hash | 1 (0: empty) */
	__u32 backend_id;
	__u16 gen;
	__u16 _pad;
	__u32 tick; /* bpf_jiffies64() when the SYN was seen */
};
_Static_assert(sizeof(struct floor_slot) == 16, "floor_slot is 16 bytes");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 262144);
	__type(key, struct xl4_flow_key4); /* the rows are IPv4: xl4_ct4_v1's key */
	__type(value, struct xl4_flow);
} ct SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, XL4_MAX_BACKENDS);
	__type(key, __u32);
	__type(value, struct xl4_backend);
} backends SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2 * XL4_RING_SIZE_DEFAULT);
	__type(key, __u32);
	__type(value, __u32);
} ring SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, FLOOR_SYN_SLOTS);
	__type(key, __u32);
	__type(value, struct floor_slot);
} syn SEC(".maps");

/* floor_ipip_lane's VIP of each backend, by backend id (struct xl4_vip: its flags and MTU; as
 * xl4_bevip_v1), and per-backend counters. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, XL4_MAX_BACKENDS);
	__type(key, __u32);
	__type(value, struct xl4_vip);
} vips SEC(".maps");

struct floor_count {
	__u64 packets, bytes;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XL4_MAX_BACKENDS);
	__type(key, __u32);
	__type(value, struct floor_count);
} lane_count SEC(".maps");

/* floor_ipip_lane's runtime settings: globals (.bss), one load each, no lookup. */
__u32 filter_busy; /* nonzero: the filter has entries (the packet would see it first) */
__be32 lane_src4; /* the outer source base */
__u32 lane_src4_mask;

/* Read from a map as xl4 reads its LB globals, not folded into the code. */
const volatile __u32 seed = 0x5eed1234;
const volatile __u32 ring_size = XL4_RING_SIZE_DEFAULT;
const volatile __be32 ipip_src4 = 0; /* set by the bench before load: 198.18.255.0 */
const volatile __u32 ipip_src4_mask = 0xff;

static __always_inline int floor_parse(struct xdp_md *ctx, struct xl4_pkt *p,
				       struct xl4_flow_key *fk, struct xl4_flow_key4 *k4)
{
	int ret;

	p->frag_policy = XL4_FRAG_PASS;
	ret = xl4_parse((void *)(long)ctx->data, (void *)(long)ctx->data_end, p);
	if (ret < 0 || !(p->t.flags & XL4_F_L4))
		return -1;
	flow_key_from_pkt(fk, p);
	xl4_flow_key4_of(k4, fk);
	return 0;
}

/* xl4's own l2 rewrite (bpf/lb_pkt.h); its drop reason becomes XDP_ABORTED here. */
static __always_inline int floor_l2(struct xdp_md *ctx, const struct xl4_backend *be)
{
	int ret = fwd_l2(ctx, be);

	return ret < 0 ? XDP_ABORTED : ret;
}

/* One Maglev read: the VIP's live table (slot 0 of its two), indexed by the flow hash. */
static __always_inline struct xl4_backend *floor_maglev(__u32 hash, __u32 *id)
{
	__u32 size = ring_size, idx, *bid;

	if (!size)
		return NULL;
	idx = hash % size;
	bid = bpf_map_lookup_elem(&ring, &idx);
	if (!bid)
		return NULL;
	*id = *bid;
	return bpf_map_lookup_elem(&backends, id);
}

/* The established floors' part: parse, the flow's entry, its backend. An XDP action when the
 * packet ends here (XDP_ABORTED: not parsed; XDP_PASS: a miss or a stale entry), else -1 with
 * *f and *be set. */
static __always_inline int floor_hit(struct xdp_md *ctx, struct xl4_pkt *p, struct xl4_flow **f,
				     struct xl4_backend **be)
{
	struct xl4_flow_key fk;
	struct xl4_flow_key4 k4;
	__u32 id;

	if (floor_parse(ctx, p, &fk, &k4))
		return XDP_ABORTED;
	*f = bpf_map_lookup_elem(&ct, &k4);
	if (!*f)
		return XDP_PASS;
	id = (*f)->backend_id;
	*be = bpf_map_lookup_elem(&backends, &id);
	if (!*be || (*be)->gen != (*f)->gen)
		return XDP_PASS;
	return -1;
}

SEC("xdp")
int floor_est(struct xdp_md *ctx)
{
	struct xl4_pkt p = {};
	struct xl4_backend *be;
	struct xl4_flow *f;
	int ret = floor_hit(ctx, &p, &f, &be);

	return ret >= 0 ? ret : floor_l2(ctx, be);
}

SEC("xdp")
int floor_ipip(struct xdp_md *ctx)
{
	struct xl4_pkt p = {};
	struct xl4_backend *be;
	struct xl4_flow *f;
	int ret = floor_hit(ctx, &p, &f, &be);

	if (ret >= 0)
		return ret;
	ret = encap_ip4(ctx, &p, f->hash, be, ipip_src4, ipip_src4_mask);
	return ret < 0 ? XDP_ABORTED : ret;
}

/* The lanes' share of the contract before forwarding: the filter's flag, the backend's VIP (by
 * the backend id, beside the backend) live and the backend's, the MTU when it has one (ipip's),
 * the last-seen tick. -1 to go on, else the action. */
static __always_inline int floor_lane_check(const struct xl4_pkt *p, struct xl4_flow *f,
					    const struct xl4_backend *be, __u32 hdr)
{
	__u32 be_id = f->backend_id, tick;
	struct xl4_vip *vip = bpf_map_lookup_elem(&vips, &be_id);

	if (!vip || !(vip->flags & XL4_VIP_F_LIVE) || vip->id != be->vip_id ||
	    (hdr && vip->mtu && p->l3_len + hdr > vip->mtu))
		return XDP_PASS;
	tick = (__u32)bpf_jiffies64();
	if (f->last_s != tick)
		f->last_s = tick;
	return -1;
}

/* The lanes' start: the filter's flag, the flow's hit, the contract's checks. -1 to forward,
 * else the action. */
static __always_inline int floor_lane_start(struct xdp_md *ctx, struct xl4_pkt *p,
					    struct xl4_flow **f, struct xl4_backend **be, __u32 hdr)
{
	int ret;

	if (filter_busy)
		return XDP_PASS;
	ret = floor_hit(ctx, p, f, be);
	if (ret >= 0)
		return ret;
	return floor_lane_check(p, *f, *be, hdr);
}

/* And after it: one per-CPU counter per backend. */
static __always_inline int floor_lane_count(__u32 be_id, const struct xl4_pkt *p, int ret)
{
	struct floor_count *c;

	if (ret < 0)
		return XDP_ABORTED;
	c = bpf_map_lookup_elem(&lane_count, &be_id);
	if (!c)
		return XDP_ABORTED; /* a backend id past the counters: a wrong setup */
	c->packets++;
	c->bytes += p->pkt_len;
	return ret;
}

SEC("xdp")
int floor_ipip_lane(struct xdp_md *ctx)
{
	struct xl4_pkt p = {};
	struct xl4_backend *be;
	struct xl4_flow *f;
	int ret = floor_lane_start(ctx, &p, &f, &be, sizeof(struct iphdr));

	if (ret >= 0)
		return ret;
	ret = encap_ip4(ctx, &p, f->hash, be, lane_src4, lane_src4_mask);
	return floor_lane_count(f->backend_id, &p, ret);
}

SEC("xdp")
int floor_l2_lane(struct xdp_md *ctx)
{
	struct xl4_pkt p = {};
	struct xl4_backend *be;
	struct xl4_flow *f;
	int ret = floor_lane_start(ctx, &p, &f, &be, 0);

	if (ret >= 0)
		return ret;
	return floor_lane_count(f->backend_id, &p, fwd_l2(ctx, be));
}

SEC("xdp")
int floor_insert(struct xdp_md *ctx)
{
	struct xl4_pkt p = {};
	struct xl4_flow_key fk;
	struct xl4_flow_key4 k4;
	struct xl4_backend *be;
	struct xl4_flow f = {};
	__u32 hash, id;

	if (floor_parse(ctx, &p, &fk, &k4))
		return XDP_ABORTED;
	hash = xl4_flow_hash(&fk, seed);
	be = floor_maglev(hash, &id);
	if (!be)
		return XDP_ABORTED;
	f.backend_id = id;
	f.gen = be->gen;
	f.flags = XL4_FLOW_F_HASH;
	f.hash = hash;
	if (bpf_map_update_elem(&ct, &k4, &f, BPF_ANY))
		return XDP_ABORTED;
	return floor_l2(ctx, be);
}

SEC("xdp")
int floor_conn(struct xdp_md *ctx)
{
	struct xl4_pkt p = {};
	struct xl4_flow_key fk;
	struct xl4_flow_key4 k4;
	struct xl4_backend *be;
	struct floor_slot *s;
	struct xl4_flow f = {};
	__u32 hash, idx, id;

	if (floor_parse(ctx, &p, &fk, &k4))
		return XDP_ABORTED;
	if (p.t.proto == IPPROTO_TCP &&
	    (p.t.tcp_flags & (XL4_TCP_SYN | XL4_TCP_ACK)) == XL4_TCP_SYN) {
		hash = xl4_flow_hash(&fk, seed);
		be = floor_maglev(hash, &id);
		idx = hash & (FLOOR_SYN_SLOTS - 1);
		s = bpf_map_lookup_elem(&syn, &idx);
		if (!be || !s)
			return XDP_ABORTED;
		s->tag = hash | 1;
		s->backend_id = id;
		s->gen = be->gen;
		s->tick = (__u32)bpf_jiffies64();
		return floor_l2(ctx, be);
	}
	if (bpf_map_lookup_elem(&ct, &k4))
		return XDP_PASS; /* established: not what this row measures */
	hash = xl4_flow_hash(&fk, seed);
	idx = hash & (FLOOR_SYN_SLOTS - 1);
	s = bpf_map_lookup_elem(&syn, &idx);
	if (!s || s->tag != (hash | 1) || (__u32)bpf_jiffies64() - s->tick > FLOOR_SYN_MAX_AGE)
		return XDP_DROP; /* no SYN awaits this ACK */
	id = s->backend_id;
	be = bpf_map_lookup_elem(&backends, &id);
	if (!be || be->gen != s->gen)
		return XDP_DROP;
	s->tag = 0;
	f.backend_id = id;
	f.gen = s->gen;
	f.flags = XL4_FLOW_F_HASH;
	f.hash = hash;
	if (bpf_map_update_elem(&ct, &k4, &f, BPF_ANY))
		return XDP_ABORTED;
	return floor_l2(ctx, be);
}

char LICENSE[] SEC("license") = "GPL";
