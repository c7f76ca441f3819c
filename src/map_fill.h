/* SPDX-License-Identifier: GPL-2.0 */
/*
 * How full the datapath's hash, LRU and LPM maps are (docs/metrics.md, "Map pressure").
 * Maps only the daemon writes (filter lists and rules) are counted by the daemon as it writes
 * them, for free. The others (conntrack and rate buckets, written by the datapath) are
 * walked, because the kernel keeps no entry count user space can read: hash and LRU maps with
 * batched lookups (BPF_MAP_LOOKUP_BATCH, thousands of entries per syscall), the rest key by
 * key (get_next_key). The daemon does this at most every XL4_MAP_FILL_PERIOD_S and serves
 * the last result.
 */
#ifndef XL4_MAP_FILL_H
#define XL4_MAP_FILL_H

#include <stdbool.h>
#include <linux/types.h>
#include <jansson.h>

#include "engine.h"

#define XL4_MAP_FILL_PERIOD_S 10
#define XL4_MAP_FILL_MAX 48

struct xl4_map_fill {
	char name[32];
	__u32 type;	     /* BPF_MAP_TYPE_* */
	__u64 entries, capacity;
	__u32 lru_lists;     /* an LRU map's lists: 1 shared, or one per possible CPU
			      * (BPF_F_NO_COMMON_LRU), each holding capacity / lru_lists; else 0 */
	bool walked;	     /* counted by a walk (else: the daemon's own count) */
};

/* A map whose entries the caller knows (it is their only writer). */
struct xl4_map_known {
	const char *name;
	__u64 entries;
	__u64 capacity; /* 0: the map's max_entries; else in the unit entries counts (groups) */
};

struct xl4_map_fills {
	struct xl4_map_fill m[XL4_MAP_FILL_MAX];
	int n;
	double walk_ms;	     /* what the last walk of all maps took */
	double at;	     /* when (the caller's clock) */
	bool valid;
};

/* Count the entries of every hash, LRU and LPM map of the engine; known[] (n_known of them)
 * are taken as given, not walked. 0 or -errno. */
int xl4_map_fill_sample(const struct xl4_engine *e, const struct xl4_map_known *known, int n_known,
			struct xl4_map_fills *out);
/* The daemon's tick: count again if XL4_MAP_FILL_PERIOD_S have passed since f->at (now on the
 * same clock), the filter's maps from its own counts (filter may be NULL before it started). */
void xl4_map_fill_tick(struct xl4_map_fills *f, const struct xl4_engine *e,
		       const struct xl4_filter *filter, double now);
/* Entries in one map by fd: batched for hash types, key by key otherwise; at most max_walk
 * entries are counted (a map churning under us cannot keep the walk going). */
long long xl4_map_count(int fd, __u32 type, __u32 key_size, __u32 value_size, __u64 max_walk);
/* [{"name", "type", "entries", "capacity", "counted": "walk"|"daemon"}...] */
json_t *xl4_map_fill_json(const struct xl4_map_fills *f);
/* Is name one of the connection table's maps (xl4_ct4_v1: IPv4 flows, xl4_ct_v1: IPv6)? */
bool xl4_map_is_conntrack(const char *name);

#endif
