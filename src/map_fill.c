// SPDX-License-Identifier: GPL-2.0
/* Entry counts of the datapath's hash, LRU and LPM maps (see map_fill.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "log.h"
#include "map_fill.h"
#include "map_walk.h"
#include "xl4/abi.h"
#include "xl4.skel.h"

static bool counted_type(__u32 t)
{
	return t == BPF_MAP_TYPE_HASH || t == BPF_MAP_TYPE_LRU_HASH || t == BPF_MAP_TYPE_PERCPU_HASH ||
	       t == BPF_MAP_TYPE_LRU_PERCPU_HASH || t == BPF_MAP_TYPE_LPM_TRIE;
}

static bool percpu(__u32 t)
{
	return t == BPF_MAP_TYPE_PERCPU_HASH || t == BPF_MAP_TYPE_LRU_PERCPU_HASH;
}

static long long count_by_key(int fd, __u32 key_size, __u64 max_walk)
{
	void *a = calloc(1, key_size), *b = calloc(1, key_size);
	long long n = 0;
	void *prev = NULL;

	if (!a || !b) {
		free(a);
		free(b);
		return -ENOMEM;
	}
	while ((__u64)n < max_walk && !bpf_map_get_next_key(fd, prev, prev == a ? b : a)) {
		prev = prev == a ? b : a;
		n++;
	}
	free(a);
	free(b);
	return n;
}

/* Batched walk; -EINVAL/-ENOTSUPP from a kernel or map type without batch ops. */
static long long count_batched(int fd, __u32 type, __u32 key_size, __u32 value_size, __u64 max_walk)
{
	int ncpu = percpu(type) ? libbpf_num_possible_cpus() : 1;
	size_t vsz = percpu(type) ? ((value_size + 7) & ~7u) * (ncpu > 0 ? ncpu : 1) : value_size;

	return xl4_map_walk(fd, key_size, vsz, max_walk, NULL, NULL);
}

long long xl4_map_count(int fd, __u32 type, __u32 key_size, __u32 value_size, __u64 max_walk)
{
	long long n = -EINVAL;

	if (type != BPF_MAP_TYPE_LPM_TRIE)
		n = count_batched(fd, type, key_size, value_size, max_walk);
	if (n == -EINVAL || n == -ENOTSUP || n == -524 /* ENOTSUPP */)
		n = count_by_key(fd, key_size, max_walk);
	return n;
}

static double mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Count one map (by fd) into the next slot of out, unless known[] already has its count. */
static int fill_one(int fd, const struct xl4_map_known *known, int n_known, struct xl4_map_fills *out)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	struct xl4_map_fill *f;
	long long n;

	if (fd < 0 || out->n == XL4_MAP_FILL_MAX || bpf_obj_get_info_by_fd(fd, &info, &len))
		return 0;
	f = &out->m[out->n];
	snprintf(f->name, sizeof(f->name), "%s", info.name);
	f->type = info.type;
	f->capacity = info.max_entries;
	f->lru_lists = 0;
	if (info.type == BPF_MAP_TYPE_LRU_HASH || info.type == BPF_MAP_TYPE_LRU_PERCPU_HASH)
		f->lru_lists = (info.map_flags & BPF_F_NO_COMMON_LRU) && libbpf_num_possible_cpus() > 0 ?
				       (__u32)libbpf_num_possible_cpus() : 1;
	f->walked = true;
	for (int k = 0; k < n_known && f->walked; k++) {
		if (!strcmp(known[k].name, f->name)) {
			f->entries = known[k].entries;
			if (known[k].capacity)
				f->capacity = known[k].capacity;
			f->walked = false;
		}
	}
	/* arrays are always full; only those the daemon counts in its own units are shown */
	if (f->walked && !counted_type(info.type))
		return 0;
	if (!f->walked) {
		out->n++;
		return 0;
	}
	/* An LRU map never holds more than max_entries; allow slack for churn mid-walk. */
	n = xl4_map_count(fd, info.type, info.key_size, info.value_size,
			  f->capacity + f->capacity / 4 + 16);
	if (n < 0)
		return (int)n;
	f->entries = (__u64)n > f->capacity ? f->capacity : (__u64)n;
	out->n++;
	return 0;
}

int xl4_map_fill_sample(const struct xl4_engine *e, const struct xl4_map_known *known, int n_known,
			struct xl4_map_fills *out)
{
	double t0 = mono_ms();
	int err = 0, e1, fd;

	out->n = 0;
	if (e->skel) {
		struct bpf_map *map;

		bpf_object__for_each_map(map, e->skel->obj)
			if ((e1 = fill_one(bpf_map__fd(map), known, n_known, out)))
				err = e1;
	} else {
		/* an adopted datapath: the pinned maps the engine opened (private ones, such as the
		 * rate-limit buckets, belong to the program and are out of reach) */
		for (size_t i = 0; (fd = xl4_engine_pinned_fd(e, i)) != -ENOENT; i++)
			if ((e1 = fill_one(fd, known, n_known, out)))
				err = e1;
	}
	out->walk_ms = mono_ms() - t0;
	out->valid = true;
	return err;
}

static __u64 d24_groups(const struct xl4_filter *filter, enum xl4_list l)
{
	return filter && filter->d24[l].on ? xl4_dir24_groups_used(&filter->d24[l].t) : 0;
}

static __u64 d24_groups_max(const struct xl4_filter *filter, enum xl4_list l)
{
	return filter && filter->d24[l].on ? filter->d24[l].t.n_groups : 1;
}

void xl4_map_fill_tick(struct xl4_map_fills *f, const struct xl4_engine *e,
		       const struct xl4_filter *filter, double now)
{
	/* The filter's maps have one writer, the daemon, which counts as it writes: no walk. */
	const struct xl4_map_known known[] = {
		{ "xl4_allow4_v1", filter ? filter->n_entries[XL4_LIST_ALLOW][0] : 0 },
		{ "xl4_allow6_v1", filter ? filter->n_entries[XL4_LIST_ALLOW][1] : 0 },
		{ "xl4_block4_v1", filter ? filter->n_entries[XL4_LIST_BLOCK][0] : 0 },
		{ "xl4_block6_v1", filter ? filter->n_entries[XL4_LIST_BLOCK][1] : 0 },
		{ "xl4_rdst_v1", filter ? filter->n_rdst_keys : 0 },
		{ "xl4_rport_v1", filter ? filter->n_rport_keys : 0 },
		/* the IPv4 index's second-level groups, counted in groups */
		{ "xl4_a4grp_v2", d24_groups(filter, XL4_LIST_ALLOW), d24_groups_max(filter, XL4_LIST_ALLOW) },
		{ "xl4_b4grp_v2", d24_groups(filter, XL4_LIST_BLOCK), d24_groups_max(filter, XL4_LIST_BLOCK) },
	};
	int err;

	if (f->valid && now - f->at < XL4_MAP_FILL_PERIOD_S)
		return;
	f->at = now;
	err = xl4_map_fill_sample(e, known, filter ? sizeof(known) / sizeof(known[0]) : 0, f);
	if (err)
		pr_warn("map fill: cannot count a map's entries: %s", strerror(-err));
	pr_debug("map fill: %d maps counted in %.1f ms", f->n, f->walk_ms);
}

static const char *type_name(__u32 t)
{
	switch (t) {
	case BPF_MAP_TYPE_HASH: return "hash";
	case BPF_MAP_TYPE_LRU_HASH: return "lru_hash";
	case BPF_MAP_TYPE_PERCPU_HASH: return "percpu_hash";
	case BPF_MAP_TYPE_LRU_PERCPU_HASH: return "lru_percpu_hash";
	case BPF_MAP_TYPE_LPM_TRIE: return "lpm_trie";
	default: return "other";
	}
}

json_t *xl4_map_fill_json(const struct xl4_map_fills *f)
{
	json_t *a = json_array();

	for (int i = 0; f->valid && i < f->n; i++) {
		json_t *m = json_pack("{s:s, s:s, s:I, s:I, s:s}", "name", f->m[i].name, "type",
				      type_name(f->m[i].type), "entries", (json_int_t)f->m[i].entries,
				      "capacity", (json_int_t)f->m[i].capacity, "counted",
				      f->m[i].walked ? "walk" : "daemon");

		/* per-CPU lists: a CPU's flows evict at its share, whatever the total's fill */
		if (m && f->m[i].lru_lists)
			json_object_set_new(m, "lru_lists", json_integer(f->m[i].lru_lists));
		json_array_append_new(a, m);
	}
	return a;
}

bool xl4_map_is_conntrack(const char *name)
{
	return !strcmp(name, XL4_MAP_CT4) || !strcmp(name, XL4_MAP_CT);
}
