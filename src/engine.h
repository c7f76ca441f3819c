/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The loaded datapath: the skeleton opened with its load-time knobs, loaded, its shared maps
 * pinned (or kept private for replay and tests), and XDP attach/detach on interfaces.
 */
#ifndef XL4_ENGINE_H
#define XL4_ENGINE_H

#include <stdbool.h>
#include <linux/types.h>

#include "filter_state.h"

struct xl4_bpf;

enum xl4_xdp_mode { XL4_MODE_AUTO = 0, XL4_MODE_NATIVE, XL4_MODE_SKB };

struct xl4_engine_opts {
	const char *pin_path; /* pin and reuse maps here; NULL keeps every map private */
	__u32 frag_policy;    /* enum xl4_frag_policy */
	__u32 sample_per_sec; /* drop events per second per CPU */
	bool trace;	      /* record each run's verdict and reason (replay, fixtures) */
	__u32 ring_size;      /* Maglev table size (prime); 0 = XL4_RING_SIZE_DEFAULT */
	__u32 ct_max;	      /* connection table entries (IPv4; IPv6 too unless ct6_max); 0 = 262144 */
	__u32 ct6_max;	      /* the IPv6 connection table's entries; 0 = ct_max */
	bool ct_per_cpu_lru;  /* BPF_F_NO_COMMON_LRU: per-CPU LRU lists (scales inserts) */
	bool ct_lru_open;     /* nothing chose ct_per_cpu_lru yet: xl4_ct_lru_settle() will */
	__u32 rate_max;	      /* per-source rate buckets (xl4_rate_v1); 0 = 262144 */
	__u32 block4_groups;  /* IPv4 blocklist groups (xl4_b4grp_v2 / 256); 0 = the object's */
	bool test_clock;      /* time comes from xl4_clock_v1, not the kernel (fixtures) */
	__u32 guard_grey_slots;	 /* xl4_ggrey_v1 entries (a power of two); 0 = the object's */
	__u32 guard_syn_slots;	 /* xl4_gsyn_v1 entries (a power of two); 0 = the object's */
	__u32 guard_verified_max; /* xl4_gver_v1 entries; 0 = the object's */
	__u32 fcache_slots;	  /* the flow cache's slots per CPU (a power of two); 0 = default */
	bool fcache_off;	  /* no flow cache (lb.conntrack.flow_cache = 0) */
};

/* The flood guard's maps (docs/guard.md); grey/syn sizes are what was loaded. */
struct xl4_guard_maps {
	int cfg, ctl, vip, stats, ver, verc, grey, syn, ckey;
	int vbit; /* xl4_gvbit_v1: the verified tables' bits (src/guard_vbits.h) */
	int vnew; /* xl4_gvnew_v1: the bits proofs set since the daemon's copy */
	__u32 grey_slots, syn_slots;
};

struct xl4_engine {
	struct xl4_bpf *skel;
	int prog_fd;
	int stats_fd;
	int events_fd;
	int trace_fd;
	struct xl4_lb_maps {
		int vips, vipid, vaddr, vbits, backends, ring, globals, vstats, bstats;
		int vretired; /* removed backends' counters by VIP (src/lb_counters.c) */
		/* an older build's VIP counters (xl4_vstats_v1, which counted forwarded packets
		 * too) this start replaces: read once, by xl4_lb_adopt(); -1 when none */
		int vstats_old;
		int bevip; /* each backend's VIP (xl4_bevip_v1) */
		int vipkey, vidx; /* the VIP index (vip_index.h) */
		int ct, ct4; /* the connection table: IPv6 flows, IPv4 flows */
		int fcgen; /* the flow cache's generation: moved after writing ct4 (conntrack.h) */
		int icmp; /* xl4_icmpcfg_v1 */
		int gctl, gvip, gstat; /* the guard's per-VIP entries, reset when a VIP id is reused */
		int gwin, gsrc; /* and its windows and source sketches (not pinned: -1 if not found) */
		__u32 ring_size;
	} lb;
	struct xl4_filter_maps filter;
	struct xl4_guard_maps guard;
	bool adopted; /* fds opened from pins and a program id, not from a skeleton */
};

int xl4_engine_load(struct xl4_engine *e, const struct xl4_engine_opts *o);
/* The ids of the maps program prog_fd uses, at most max of them: their number, or -errno. */
int xl4_prog_map_ids(int prog_fd, __u32 *ids, __u32 max);
void xl4_engine_close(struct xl4_engine *e);
/* The fd of the i-th map a daemon pins (-1 if not open), or -ENOENT past the last one. */
int xl4_engine_pinned_fd(const struct xl4_engine *e, size_t i);
/* Take over a running datapath: the program by id and every pinned map by name, no load. */
int xl4_engine_adopt(struct xl4_engine *e, const char *pin_path, __u32 prog_id);
/* Identity of what xl4_engine_load() would load with o: the BPF object and its load-time
 * knobs. Equal fingerprints mean the running program is the one this build would load. */
__u64 xl4_engine_fingerprint(const struct xl4_engine_opts *o);
/* Is name one of the maps this build pins (e.g. "xl4_ct_v1")? */
bool xl4_engine_pin_name_known(const char *name);
/* May an old version's pin of that map be replaced? NULL if not (it holds state a restart
 * must keep), else what replacing it loses, for the log. */
const char *xl4_engine_pin_replaced(const char *name);
/* Would a load with o reuse the maps pinned at o->pin_path (sizes, flags, layout of each one
 * pinned)? 0, or -ESTALE with the map and the setting logged; nothing is loaded or pinned. */
int xl4_engine_pins_fit(const struct xl4_engine_opts *o);

/* Attach the engine's program to ifindex. mode AUTO tries native first, then generic with a
 * warning; *got says which mode took. Returns 0 or -errno, with the reason logged. */
int xl4_xdp_attach(int ifindex, int prog_fd, enum xl4_xdp_mode mode, enum xl4_xdp_mode *got);
/* Detach prog_fd from ifindex, only if it is still the attached program. */
int xl4_xdp_detach(int ifindex, int prog_fd, enum xl4_xdp_mode mode);
const char *xl4_mode_name(enum xl4_xdp_mode mode);
int xl4_mode_parse(const char *s, enum xl4_xdp_mode *mode);

/* Create the pin directory (mounting bpffs on /sys/fs/bpf first if nothing is mounted). */
int xl4_bpffs_prepare(const char *pin_path);
/* Is a loaded program (a daemon's, attached or not) still using the maps pinned here? */
int xl4_pins_in_use(const char *pin_path, __u32 *prog_id);
/* Remove every xl4 pin under pin_path and the directory itself. */
int xl4_unpin_all(const char *pin_path);

#endif
