/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Every map of the datapath, declared once. Names come from include/xl4/abi.h (XL4_MAP_*);
 * which maps are pinned is decided by the loader (src/engine.c), never here, so `xl4 replay`
 * can load the same object with private maps.
 */
#ifndef XL4_MAPS_H
#define XL4_MAPS_H

#include "compat.h"
#include "xl4/abi.h"

/*
 * A one-entry map (settings, the VIP index and bits, the cookie keys...) the datapath reaches
 * by its address: libbpf makes each ".data.<sec>" section a one-entry array map, and a program
 * loads from it with one instruction, no lookup and no NULL test (a one-entry array lookup
 * costs ~1.7 ns on the Xeon VM: docs/performance.md, round twenty-one). To user space it is
 * the map it always was: the loader pins it under its old name (XL4_MAP_*, src/engine.c) with
 * the old flags, so pins of an earlier build are reused, and the daemon writes it with
 * bpf_map_update_elem(). Its kernel name is ".data.<sec>" (libbpf names custom data sections
 * so; at most 15 characters).
 */
#define XL4_BY_ADDRESS(type, name, sec) type name SEC(".data." sec)

/* Verdict and drop-reason counters; written by the exit path, summed over CPUs by user space. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XL4_STAT_MAX);
	__type(key, __u32);
	__type(value, struct xl4_counter);
} xl4_stats_v1 SEC(".maps");

/* Sampled drop events for the daemon (struct xl4_event); rate-limited by xl4_sampler. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} xl4_events_v1 SEC(".maps");

/* A per-CPU token bucket (see xl4_bucket_take() in stats.h). */
struct xl4_bucket {
	__u64 last_ns;
	__u64 tokens;
};

/* How many drop events each CPU may sample per second (stats.h sample_allowed()): a slot
 * per CPU (struct xl4_sampler, include/xl4/abi.h), reached by address and the CPU's number
 * (every drop reads its slot: a per-CPU array's lookup cost ~2 ns more on the Xeon VM). */
XL4_BY_ADDRESS(struct xl4_sampler, xl4_sampler[XL4_SAMPLER_SLOTS], "sampler");

/* The last verdict and reason on this CPU; written only when cfg_trace is set (replay). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xl4_trace);
} xl4_trace_v1 SEC(".maps");

/* ---- load balancer: all written by the daemon (src/lb_state.c) unless said otherwise ---- */

/* VIP (address, port, protocol) -> struct xl4_vip. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, XL4_MAX_VIPS);
	__type(key, struct xl4_vip_key);
	__type(value, struct xl4_vip);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} xl4_vips_v1 SEC(".maps");

/* Every VIP address (port 0, proto 0) -> number of VIPs on it. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, XL4_MAX_VIPS);
	__type(key, struct xl4_vip_key);
	__type(value, __u32);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} xl4_vaddr_v1 SEC(".maps");

/* VIP id -> its struct xl4_vip (XL4_VIP_F_LIVE set while it exists): the conntrack fast path. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, XL4_MAX_VIPS);
	__type(key, __u32);
	__type(value, struct xl4_vip);
} xl4_vipid_v1 SEC(".maps");

/* VIP id -> its key, and the index from a key's slot to the id (abi.h: xl4_vip_slot()). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, XL4_MAX_VIPS);
	__type(key, __u32);
	__type(value, struct xl4_vip_key);
} xl4_vipkey_v1 SEC(".maps");

XL4_BY_ADDRESS(struct xl4_vip_index, xl4_vidx, "vidx");

/* Bits of the VIP addresses (struct xl4_vip_bits): what is surely not for a VIP. */
XL4_BY_ADDRESS(struct xl4_vip_bits, xl4_vbits, "vbits");

/* Backend id -> struct xl4_backend. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, XL4_MAX_BACKENDS);
	__type(key, __u32);
	__type(value, struct xl4_backend);
} xl4_backends_v1 SEC(".maps");

/* Backend id -> its VIP's struct xl4_vip (abi.h: xl4_bevip_v1), for the established lane. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, XL4_MAX_BACKENDS);
	__type(key, __u32);
	__type(value, struct xl4_vip);
} xl4_bevip_v1 SEC(".maps");

/* Maglev tables: (vip id * 2 + slot) * ring_size + hash % ring_size -> backend id.
 * max_entries is set by the loader from the configured ring size. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, XL4_MAX_VIPS * 2 * XL4_RING_SIZE_DEFAULT);
	__type(key, __u32);
	__type(value, __u32);
} xl4_ring_v1 SEC(".maps");

/* Connection table (IPv6 flows): client->VIP flow -> backend. Written by the datapath on new
 * flows; max_entries and BPF_F_NO_COMMON_LRU (per-CPU LRU lists) are set by the loader. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 262144);
	__type(key, struct xl4_flow_key);
	__type(value, struct xl4_flow);
} xl4_ct_v1 SEC(".maps");

/* The same for IPv4 flows, under the 16-byte key (include/xl4/abi.h); sized as xl4_ct_v1. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 262144);
	__type(key, struct xl4_flow_key4);
	__type(value, struct xl4_flow);
} xl4_ct4_v1 SEC(".maps");

/* The established lane's flow cache and its generation (abi.h, bpf/flow_cache.h); the slots
 * are set by the loader (lb.conntrack.flow_cache). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XL4_FCACHE_SLOTS_DEFAULT);
	__type(key, __u32);
	__type(value, struct xl4_fcache_slot);
} xl4_fcache_v1 SEC(".maps");
XL4_BY_ADDRESS(struct xl4_fcache_gen, xl4_fcgen, "fcgen");

/* Deployment-wide LB settings (seed, ring size, insert budget, IPIP sources). */
XL4_BY_ADDRESS(struct xl4_lb_globals, xl4_lbglob, "lbglob");

/* Per-VIP and per-backend counters; written by the datapath. Each packet the LB handles counts
 * once: at its backend when it was forwarded to one (xl4_bstats_v1), else at its VIP
 * (xl4_vstats_v2: refused, too big, not forwarded, an ICMP error steered). A VIP's counters,
 * as user space shows them, add its backends' and its removed backends' (xl4_vretired_v1):
 * the established lane pays one per-CPU counter, not two (src/lb_counters.c). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XL4_MAX_VIPS);
	__type(key, __u32);
	__type(value, struct xl4_lb_counters);
} xl4_vstats_v2 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XL4_MAX_BACKENDS);
	__type(key, __u32);
	__type(value, struct xl4_lb_counters);
} xl4_bstats_v1 SEC(".maps");

/* Removed backends' counters, by VIP id: user space folds a backend's in when it removes it
 * (the datapath never reads or writes this map). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, XL4_MAX_VIPS);
	__type(key, __u32);
	__type(value, struct xl4_lb_counters);
} xl4_vretired_v1 SEC(".maps");

/* Per-CPU budget of conntrack inserts (a flood of new flows must not evict live ones). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xl4_bucket);
} xl4_ctbudg_v1 SEC(".maps");

/* Per-CPU budget of ICMP "too big" replies: spoofed large DF packets must not turn the
 * balancer into a reflector. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xl4_bucket);
} xl4_tbbudg_v1 SEC(".maps");

/* How ICMP errors about VIP flows are steered (struct xl4_icmp_cfg), written by the daemon. */
XL4_BY_ADDRESS(struct xl4_icmp_cfg, xl4_icmpcfg, "icmpcfg");

/* Per-CPU budget of ICMP errors steered to backends: even errors about real flows must not
 * become a flood at a backend (or a fast way to guess a client's port). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xl4_bucket);
} xl4_icbudg_v1 SEC(".maps");

/* ---- filter: lists and rules written by the daemon (src/filter_state.c) ---- */

#define XL4_LPM_MAP(name, keytype, max)                   \
	struct {                                          \
		__uint(type, BPF_MAP_TYPE_LPM_TRIE);      \
		__uint(max_entries, max);                 \
		__type(key, keytype);                     \
		__type(value, struct xl4_prefix_entry);   \
		__uint(map_flags, BPF_F_NO_PREALLOC);     \
	} name SEC(".maps")

/* Source allow/block lists; entries carry an expiry the datapath honours on its own. */
XL4_LPM_MAP(xl4_allow4_v1, struct xl4_lpm4_key, XL4_ALLOW4_MAX);
XL4_LPM_MAP(xl4_allow6_v1, struct xl4_lpm6_key, XL4_ALLOW6_MAX);
XL4_LPM_MAP(xl4_block4_v1, struct xl4_lpm4_key, XL4_BLOCK4_MAX);
XL4_LPM_MAP(xl4_block6_v1, struct xl4_lpm6_key, XL4_BLOCK6_MAX);

/* The IPv4 lists' DIR-24-8 index (abi.h): arrays user space writes through mmap, in an order
 * that keeps every intermediate state a valid answer (src/dir24.c). */
#define XL4_D24_MAP(name, val, max)                   \
	struct {                                      \
		__uint(type, BPF_MAP_TYPE_ARRAY);     \
		__uint(max_entries, max);             \
		__type(key, __u32);                   \
		__type(value, val);                   \
		__uint(map_flags, BPF_F_MMAPABLE);    \
	} name SEC(".maps")

#define XL4_D24_ROWS(slots) ((slots) / XL4_D24_ROW)
XL4_D24_MAP(xl4_a4idx_v2, struct xl4_d24_row, XL4_D24_ROWS(XL4_D24_SLOTS));
XL4_D24_MAP(xl4_a4grp_v2, struct xl4_d24_row, XL4_D24_ROWS(XL4_ALLOW4_GROUPS * XL4_D24_GROUP_LEAVES));
XL4_D24_MAP(xl4_a4ent_v2, struct xl4_d24_entry, XL4_ALLOW4_MAX + 1);
XL4_D24_MAP(xl4_b4idx_v2, struct xl4_d24_row, XL4_D24_ROWS(XL4_D24_SLOTS));
/* filter.ipv4_groups */
XL4_D24_MAP(xl4_b4grp_v2, struct xl4_d24_row, XL4_D24_ROWS(XL4_BLOCK4_GROUPS_DEFAULT * XL4_D24_GROUP_LEAVES));
XL4_D24_MAP(xl4_b4ent_v2, struct xl4_d24_entry, XL4_BLOCK4_MAX + 1);

/* Destination rules: address -> rule set, then (set, protocol, port prefix) -> rule. */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 16384);
	__type(key, struct xl4_rdst_key);
	__type(value, __u32);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} xl4_rdst_v1 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 262144);
	__type(key, struct xl4_rport_key);
	__type(value, struct xl4_rule);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} xl4_rport_v1 SEC(".maps");

/* Per-source token buckets; written by the datapath. max_entries set by the loader. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 262144);
	__type(key, struct xl4_rate_key);
	__type(value, struct xl4_rate_bucket);
} xl4_rate_v1 SEC(".maps");

/* When new buckets come faster than the per-CPU budget (a spoofed flood filling the map),
 * unknown sources share one bucket per rule per CPU instead: never fail open. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XL4_MAX_RULES);
	__type(key, __u32);
	__type(value, struct xl4_rate_bucket);
} xl4_rshared_v1 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xl4_bucket);
} xl4_rbudget_v1 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XL4_MAX_RULES);
	__type(key, __u32);
	__type(value, struct xl4_rule_counters);
} xl4_rstats_v1 SEC(".maps");

XL4_BY_ADDRESS(struct xl4_filter_globals, xl4_fglob, "fglob");

/* ---- flood guard (bpf/guard.h) ---- */

XL4_BY_ADDRESS(struct xl4_guard_cfg, xl4_gcfg, "gcfg");

/* The challenge cookie's keys, by epoch (daemon-written, rotated). */
XL4_BY_ADDRESS(struct xl4_guard_ckeys, xl4_gckey, "gckey");

/* Per VIP id: the operator's override (daemon-written). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, XL4_MAX_VIPS);
	__type(key, __u32);
	__type(value, struct xl4_guard_ctl);
} xl4_gctl_v1 SEC(".maps");

/* Per VIP id: the mode (datapath-written, from any CPU: plain stores of idempotent values). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, XL4_MAX_VIPS);
	__type(key, __u32);
	__type(value, struct xl4_guard_vip);
} xl4_gvip_v1 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XL4_MAX_VIPS);
	__type(key, __u32);
	__type(value, struct xl4_guard_stats);
} xl4_gstat_v2 SEC(".maps");

/* Per VIP id: every CPU's last window, for the VIP's totals (each CPU writes its own slot). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, XL4_MAX_VIPS);
	__type(key, __u32);
	__type(value, struct xl4_guard_wins);
} xl4_gwin_v1 SEC(".maps");

/* Per VIP id, per CPU: the distinct-source sketch of each bucket. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XL4_MAX_VIPS);
	__type(key, __u32);
	__type(value, struct xl4_guard_srcs);
} xl4_gsrc_v2 SEC(".maps");

/* First Drop greylist (buckets) and the SYN table (slots): indexed by keyed hashes,
 * overwritten, never inserted. max_entries (a power of two) is set by the loader;
 * cfg.grey_mask/syn_mask match it. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1 << 14);
	__type(key, __u32);
	__type(value, struct xl4_guard_grey);
} xl4_ggrey_v1 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1 << 16);
	__type(key, __u32);
	__type(value, struct xl4_guard_slot);
} xl4_gsyn_v1 SEC(".maps");

/* Verified sources: inserted only for a retransmission First Drop admitted or a good cookie,
 * never for an unverified SYN. max_entries set by the loader. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct xl4_guard_src);
	__type(value, __u64);
} xl4_gver_v1 SEC(".maps");

/* Sources a cookie proved (same size as xl4_gver_v1, set by the loader). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct xl4_guard_src);
	__type(value, __u64);
} xl4_gverc_v1 SEC(".maps");

/* When a cookie last proved a source (ns, any CPU; written at most once a second): while none
 * can still be valid, First Drop skips the cookie table's lookup. */
XL4_BY_ADDRESS(__u64, xl4_gvhint, "gvhint");

/* The verified sources' presence bits (include/xl4/abi.h: xl4_gvbit_v1), in 64-bit words, two
 * halves; max_entries (2 * 2^(log2 - 6)) set by the loader with cfg_gvbits_log2 (bpf/guard.h).
 * Mappable: the daemon rewrites words in place, atomically, while the datapath sets bits. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 2u << (XL4_GUARD_VBITS_LOG2_MIN - 6));
	__type(key, __u32);
	__type(value, __u64);
} xl4_gvbit_v1 SEC(".maps");

/* The bit indexes proofs set since the daemon's last copy (include/xl4/abi.h: xl4_gvnew_v1):
 * one half's size, max_entries set by the loader with xl4_gvbit_v1's. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1u << (XL4_GUARD_VBITS_LOG2_MIN - 6));
	__type(key, __u32);
	__type(value, __u64);
} xl4_gvnew_v1 SEC(".maps");

/* Per CPU: the budget for new First Drop verifications (cfg.verify_per_sec). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xl4_bucket);
} xl4_gverbud_v1 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xl4_bucket);
} xl4_gchbud_v1 SEC(".maps");

/* The clock (struct xl4_clock): jiffies' scale and offset, or the test clock. */
XL4_BY_ADDRESS(struct xl4_clock, xl4_clock, "clock");

#endif /* XL4_MAPS_H */
