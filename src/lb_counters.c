// SPDX-License-Identifier: GPL-2.0
/*
 * The load balancer's traffic counters as user space shows them. The datapath counts each
 * packet once (bpf/maps.h): at its backend when it forwarded it there (xl4_bstats_v1), else at
 * its VIP (xl4_vstats_v2), so the established lane pays one per-CPU counter, not two. A VIP's
 * counters are its own, its backends' and its removed backends' (xl4_vretired_v1): a backend's
 * are folded into its VIP's there when it is removed, so a VIP's counters never go down while
 * it lives, and a daemon restart keeps them (every map here is pinned).
 *
 * A run that read a backend before it was marked gone and counts after its fold is lost from
 * the VIP's counters (a few packets in flight at the removal, on a busy VIP).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "lb_state.h"
#include "log.h"

void xl4_lb_counters_add(struct xl4_lb_counters *t, const struct xl4_lb_counters *a)
{
	t->packets += a->packets;
	t->bytes += a->bytes;
	t->new_flows += a->new_flows;
	t->ct_hits += a->ct_hits;
	t->ct_misses += a->ct_misses;
	t->ct_insert_capped += a->ct_insert_capped;
}

int xl4_lb_counters_read(int fd, uint32_t id, struct xl4_lb_counters *t)
{
	int ncpu = libbpf_num_possible_cpus();
	struct xl4_lb_counters *vals = calloc(ncpu > 0 ? ncpu : 1, sizeof(*vals));
	int err = ncpu <= 0 ? (ncpu ? ncpu : -EINVAL) : !vals ? -ENOMEM : 0;

	memset(t, 0, sizeof(*t));
	if (!err && bpf_map_lookup_elem(fd, &id, vals))
		err = -errno;
	for (int c = 0; !err && c < ncpu; c++)
		xl4_lb_counters_add(t, &vals[c]);
	free(vals);
	return err;
}

static int retired_read(const struct xl4_lb *lb, uint32_t vip_id, struct xl4_lb_counters *t)
{
	memset(t, 0, sizeof(*t));
	return bpf_map_lookup_elem(lb->maps.vretired, &vip_id, t) ? -errno : 0;
}

int xl4_lb_vip_counters(const struct xl4_lb *lb, const struct xl4_lb_vip *v,
			struct xl4_lb_counters *t, struct xl4_lb_counters *per_be)
{
	struct xl4_lb_counters part;
	int err = xl4_lb_counters_read(lb->maps.vstats, v->id, t);

	if (!err && !(err = retired_read(lb, v->id, &part)))
		xl4_lb_counters_add(t, &part);
	for (size_t i = 0; !err && i < v->n_be; i++) {
		if ((err = xl4_lb_counters_read(lb->maps.bstats, v->be[i].id, &part)))
			break;
		xl4_lb_counters_add(t, &part);
		if (per_be)
			per_be[i] = part;
	}
	if (err) { /* no partial sum: a counter that drops reads as a reset */
		memset(t, 0, sizeof(*t));
		if (per_be)
			memset(per_be, 0, v->n_be * sizeof(*per_be));
	}
	return err;
}

int xl4_lb_counters_retire(struct xl4_lb *lb, uint32_t vip_id, uint32_t be_id)
{
	struct xl4_lb_counters be, sum;
	int err;

	if ((err = xl4_lb_counters_read(lb->maps.bstats, be_id, &be)) ||
	    (err = retired_read(lb, vip_id, &sum)))
		return err;
	xl4_lb_counters_add(&sum, &be);
	return bpf_map_update_elem(lb->maps.vretired, &vip_id, &sum, BPF_ANY) ? -errno : 0;
}

int xl4_lb_retired_reset(struct xl4_lb *lb, uint32_t vip_id)
{
	struct xl4_lb_counters zero = { 0 };

	return bpf_map_update_elem(lb->maps.vretired, &vip_id, &zero, BPF_ANY) ? -errno : 0;
}

/* a - b, field by field, never below zero */
static void counters_sub_floor(struct xl4_lb_counters *a, const struct xl4_lb_counters *b)
{
#define SUB(f) a->f = a->f > b->f ? a->f - b->f : 0
	SUB(packets);
	SUB(bytes);
	SUB(new_flows);
	SUB(ct_hits);
	SUB(ct_misses);
	SUB(ct_insert_capped);
#undef SUB
}

/*
 * An older build's xl4_vstats_v1 counted a VIP's forwarded packets as well as its own, and a
 * start replaced it by an empty xl4_vstats_v2: each VIP the pins hold gets, as its removed
 * backends' counters, its old total less what its live backends counted, so its counters go on
 * from where they were (a Prometheus counter must not go down). What the old program counts
 * at the VIP between this read and the new program's attach (the rest of the start: seconds
 * at most) is lost: the packets it did not forward; its backends' go on counting. Every other
 * id's entry is zeroed. A start killed before its attach leaves the older pin: the next one
 * carries over again, from it and the backends as they are then.
 */
int xl4_lb_counters_migrate(struct xl4_lb *lb, int vstats_old, const bool *vip_live,
			    const struct xl4_backend *be, const bool *be_live)
{
	struct xl4_lb_counters old, part;
	struct bpf_map_info info = { 0 };
	__u32 len = sizeof(info);
	int n = 0, err = 0;

	if (bpf_obj_get_info_by_fd(vstats_old, &info, &len) ||
	    info.type != BPF_MAP_TYPE_PERCPU_ARRAY || info.value_size != sizeof(old) ||
	    info.max_entries < XL4_MAX_VIPS) {
		pr_warn("VIP counters: the older build's xl4_vstats_v1 is not the map expected "
			"(type %u, value %u bytes, %u entries); the VIPs' counters restart from their "
			"backends'",
			info.type, info.value_size, info.max_entries);
		return -EINVAL;
	}
	for (uint32_t id = 0; id < XL4_MAX_VIPS && !err; id++) {
		if (!vip_live[id]) {
			err = xl4_lb_retired_reset(lb, id);
			continue;
		}
		if ((err = xl4_lb_counters_read(vstats_old, id, &old)))
			break;
		for (uint32_t b = 0; b < XL4_MAX_BACKENDS && !err; b++)
			if (be_live[b] && be[b].vip_id == id &&
			    !(err = xl4_lb_counters_read(lb->maps.bstats, b, &part)))
				counters_sub_floor(&old, &part);
		if (!err && bpf_map_update_elem(lb->maps.vretired, &id, &old, BPF_ANY))
			err = -errno;
		n++;
	}
	if (err)
		pr_warn("VIP counters: cannot carry over the older build's (xl4_vstats_v1): %s; the "
			"VIPs' counters restart from their backends'",
			strerror(-err));
	else
		pr_info("VIP counters: carried over from the older build's xl4_vstats_v1 (%d VIPs)",
			n);
	return err;
}
