// SPDX-License-Identifier: GPL-2.0
/* The connection table from user space: per-family keys, the prefix count, and the IPv4 flows
 * an older build kept in xl4_ct_v1 copied to xl4_ct4_v1 (conntrack.h). */
#include <errno.h>
#include <sched.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>

#include "conntrack.h"
#include "log.h"
#include "map_walk.h"
#include "xl4/abi.h"

int xl4_ct_lookup(int ct4_fd, int ct6_fd, const struct xl4_flow_key *k, struct xl4_flow *f)
{
	struct xl4_flow_key4 k4;

	if (k->family == 6) /* as the datapath: 6 is IPv6, anything else IPv4 */
		return bpf_map_lookup_elem(ct6_fd, k, f);
	xl4_flow_key4_of(&k4, k);
	return bpf_map_lookup_elem(ct4_fd, &k4, f);
}

int xl4_ct_update(int ct4_fd, int ct6_fd, const struct xl4_flow_key *k, const struct xl4_flow *f,
		  __u64 flags)
{
	struct xl4_flow_key4 k4;

	if (k->family == 6) /* as the datapath: 6 is IPv6, anything else IPv4 */
		return bpf_map_update_elem(ct6_fd, k, f, flags);
	xl4_flow_key4_of(&k4, k);
	return bpf_map_update_elem(ct4_fd, &k4, f, flags);
}

int xl4_ct_cache_invalidate(int fcgen_fd)
{
	struct xl4_fcache_gen g;
	__u32 zero = 0;

	if (fcgen_fd < 0)
		return 0;
	/* The datapath moves it too, by one, atomically, and this read and write are not: a
	 * step of 2^20 cannot land on a value the datapath's moves reached meanwhile (copies
	 * stamped with it would be good again). */
	if (bpf_map_lookup_elem(fcgen_fd, &zero, &g))
		return -errno;
	g.gen += 1u << 20;
	return bpf_map_update_elem(fcgen_fd, &zero, &g, BPF_ANY) ? -errno : 0;
}

/* ---- the prefix count ---- */

struct count_ctx {
	const struct xl4_prefix *p;
	long long n;
};

static int count_v4(void *ctx, const void *keys, const void *vals, __u32 n)
{
	const struct xl4_flow_key4 *k = keys;
	struct count_ctx *c = ctx;
	__be32 client[4] = { 0 };

	(void)vals;
	for (__u32 i = 0; i < n; i++) {
		client[0] = k[i].saddr;
		c->n += xl4_prefix_contains(c->p, 4, client) == 1;
	}
	return 0;
}

static int count_v6(void *ctx, const void *keys, const void *vals, __u32 n)
{
	const struct xl4_flow_key *k = keys;
	struct count_ctx *c = ctx;

	(void)vals;
	for (__u32 i = 0; i < n; i++) /* an older build's IPv4 keys are no IPv6 clients */
		c->n += k[i].family == 6 && xl4_prefix_contains(c->p, 6, k[i].saddr) == 1;
	return 0;
}

long long xl4_ct_count_from(int ct4_fd, int ct6_fd, const struct xl4_prefix *p)
{
	struct count_ctx c = { .p = p };
	long long err = p->family == 4 ? xl4_map_walk(ct4_fd, sizeof(struct xl4_flow_key4),
						      sizeof(struct xl4_flow), 0, count_v4, &c) :
					 xl4_map_walk(ct6_fd, sizeof(struct xl4_flow_key),
						      sizeof(struct xl4_flow), 0, count_v6, &c);

	return err < 0 ? err : c.n;
}

/* ---- IPv4 flows out of the IPv6 table ---- */

struct split_ctx {
	int ct6_fd, ct4_fd;
	bool remove;
	int n_cpus; /* CPUs to spread writes over (per-CPU LRU lists), else 0 */
	int cpus[CPU_SETSIZE];
	long seen, written;
};

/* Write one IPv4 entry unless xl4_ct4_v1 holds one seen later. 1 written, 0 kept, -errno. */
static int split_one(struct split_ctx *s, const struct xl4_flow_key *k, const struct xl4_flow *f)
{
	struct xl4_flow_key4 k4;
	struct xl4_flow have;

	xl4_flow_key4_of(&k4, k);
	if (!bpf_map_lookup_elem(s->ct4_fd, &k4, &have) && (__s32)(have.last_s - f->last_s) > 0)
		return 0;
	if (bpf_map_update_elem(s->ct4_fd, &k4, f, BPF_ANY))
		return -errno;
	return 1;
}

/* Move to CPU i of the spread (per-CPU LRU lists take the entries written on their CPU). */
static void split_cpu(const struct split_ctx *s, int i)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(s->cpus[i], &set);
	sched_setaffinity(0, sizeof(set), &set);
}

static int split_batch(void *ctx, const void *keys, const void *values, __u32 n)
{
	const struct xl4_flow_key *k = keys;
	const struct xl4_flow *vals = values;
	struct split_ctx *s = ctx;
	int spread = s->n_cpus ? s->n_cpus : 1;

	for (int c = 0; c < spread; c++) {
		if (s->n_cpus)
			split_cpu(s, c);
		for (__u32 i = c; i < n; i += spread) {
			int r;

			if (k[i].family != 4)
				continue;
			s->seen++;
			r = split_one(s, &k[i], &vals[i]);
			if (r < 0)
				return r;
			s->written += r;
		}
	}
	for (__u32 i = 0; s->remove && i < n; i++)
		if (k[i].family == 4 && bpf_map_delete_elem(s->ct6_fd, &k[i]) && errno != ENOENT)
			return -errno;
	return 0;
}

long xl4_ct_split_ipv4(int ct6_fd, int ct4_fd, bool remove, long *written)
{
	struct split_ctx *s = calloc(1, sizeof(*s));
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	cpu_set_t mine;
	long ret;

	if (!s)
		return -ENOMEM;
	*s = (struct split_ctx){ .ct6_fd = ct6_fd, .ct4_fd = ct4_fd, .remove = remove };
	if (bpf_obj_get_info_by_fd(ct4_fd, &info, &len)) {
		free(s);
		return -errno;
	}
	if ((info.map_flags & BPF_F_NO_COMMON_LRU) && !sched_getaffinity(0, sizeof(mine), &mine))
		for (int c = 0; c < CPU_SETSIZE; c++)
			if (CPU_ISSET(c, &mine))
				s->cpus[s->n_cpus++] = c;
	ret = xl4_map_walk(ct6_fd, sizeof(struct xl4_flow_key), sizeof(struct xl4_flow), 0,
			   split_batch, s);
	if (s->n_cpus)
		sched_setaffinity(0, sizeof(mine), &mine);
	*written = s->written;
	if (ret >= 0)
		ret = s->seen;
	free(s);
	return ret;
}

void xl4_ct_split_pins(int ct6_fd, int ct4_fd, int fcgen_fd, bool remove)
{
	long written = 0, seen = xl4_ct_split_ipv4(ct6_fd, ct4_fd, remove, &written);
	int err = written > 0 ? xl4_ct_cache_invalidate(fcgen_fd) : 0;

	if (seen < 0)
		pr_warn("cannot %s the IPv4 flows an older build left in %s: %s (each re-picks its "
			"backend through Maglev: the same one unless its VIP's backends changed)",
			remove ? "move" : "copy", XL4_MAP_CT, strerror((int)-seen));
	else if (seen > 0)
		pr_info("conntrack: %ld IPv4 flows in %s (an older build's) %s %s, %ld of them "
			"written (the others were there, seen later)",
			seen, XL4_MAP_CT, remove ? "moved to" : "copied to", XL4_MAP_CT4, written);
	if (err)
		pr_warn("cannot invalidate the flow cache after writing %ld IPv4 flows: %s (a CPU may "
			"use its copy of an entry for up to 268 ms more)",
			written, strerror(-err));
}
