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
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "lb_state.h"

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
			struct xl4_lb_counters *t)
{
	struct xl4_lb_counters part;
	int err = xl4_lb_counters_read(lb->maps.vstats, v->id, t);

	if (!err && !(err = retired_read(lb, v->id, &part)))
		xl4_lb_counters_add(t, &part);
	for (size_t i = 0; !err && i < v->n_be; i++)
		if (!(err = xl4_lb_counters_read(lb->maps.bstats, v->be[i].id, &part)))
			xl4_lb_counters_add(t, &part);
	if (err) /* no partial sum: a counter that drops reads as a reset */
		memset(t, 0, sizeof(*t));
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
