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
#include "xl4/abi.h"

#define CT_BATCH 4096

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

/* One batch of a table's entries: n keys of ksz bytes, n values. 0 to go on, or -errno. */
typedef int (*ct_batch_fn)(void *ctx, const void *keys, const struct xl4_flow *vals, __u32 n);

/*
 * Every entry of a table, a batch at a time (batch lookups on hash maps: every kernel xl4
 * supports has them). The batch cursor is a bucket index: entries of buckets already read may
 * be deleted meanwhile. A bucket with more entries than a batch holds (ENOSPC) is read again
 * with room for twice as many. 0, or -errno.
 */
static int ct_walk(int fd, size_t ksz, ct_batch_fn fn, void *ctx)
{
	__u32 room = CT_BATCH;
	char *keys = malloc(room * 4 * ksz);
	struct xl4_flow *vals = malloc(room * 4 * sizeof(*vals));
	__u64 in = 0, out = 0;
	bool first = true;
	int ret = 0;

	if (!keys || !vals) {
		ret = -ENOMEM;
		goto out;
	}
	for (;;) {
		__u32 count = room;
		int err = bpf_map_lookup_batch(fd, first ? NULL : &in, &out, keys, vals, &count,
					       NULL);

		if (err && errno == ENOSPC && room < CT_BATCH * 4) {
			room *= 2;
			continue;
		}
		if (err && errno != ENOENT) {
			ret = -errno;
			break;
		}
		if (count && (ret = fn(ctx, keys, vals, count)))
			break;
		if (err) /* ENOENT: the walk is complete */
			break;
		in = out;
		first = false;
	}
out:
	free(keys);
	free(vals);
	return ret;
}

/* ---- the prefix count ---- */

struct count_ctx {
	const struct xl4_prefix *p;
	long long n;
};

static int count_v4(void *ctx, const void *keys, const struct xl4_flow *vals, __u32 n)
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

static int count_v6(void *ctx, const void *keys, const struct xl4_flow *vals, __u32 n)
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
	int err = p->family == 4 ? ct_walk(ct4_fd, sizeof(struct xl4_flow_key4), count_v4, &c) :
				   ct_walk(ct6_fd, sizeof(struct xl4_flow_key), count_v6, &c);

	return err ? err : c.n;
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

static int split_batch(void *ctx, const void *keys, const struct xl4_flow *vals, __u32 n)
{
	const struct xl4_flow_key *k = keys;
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
	ret = ct_walk(ct6_fd, sizeof(struct xl4_flow_key), split_batch, s);
	if (s->n_cpus)
		sched_setaffinity(0, sizeof(mine), &mine);
	*written = s->written;
	if (!ret)
		ret = s->seen;
	free(s);
	return ret;
}

void xl4_ct_split_pins(int ct6_fd, int ct4_fd, bool remove)
{
	long written = 0, seen = xl4_ct_split_ipv4(ct6_fd, ct4_fd, remove, &written);

	if (seen < 0)
		pr_warn("cannot %s the IPv4 flows an older build left in %s: %s (each re-picks its "
			"backend through Maglev: the same one unless its VIP's backends changed)",
			remove ? "move" : "copy", XL4_MAP_CT, strerror((int)-seen));
	else if (seen > 0)
		pr_info("conntrack: %ld IPv4 flows in %s (an older build's) %s %s, %ld of them "
			"written (the others were there, seen later)",
			seen, XL4_MAP_CT, remove ? "moved to" : "copied to", XL4_MAP_CT4, written);
}
