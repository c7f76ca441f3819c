// SPDX-License-Identifier: GPL-2.0
/* The connection table from user space: per-family keys, and the IPv4 flows an older build kept
 * in xl4_ct_v1 moved to xl4_ct4_v1 (conntrack.h). */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>

#include "conntrack.h"
#include "xl4/abi.h"

#define SPLIT_BATCH 4096

int xl4_ct_lookup(int ct4_fd, int ct6_fd, const struct xl4_flow_key *k, struct xl4_flow *f)
{
	struct xl4_flow_key4 k4;

	if (k->family != 4)
		return bpf_map_lookup_elem(ct6_fd, k, f);
	xl4_flow_key4_of(&k4, k);
	return bpf_map_lookup_elem(ct4_fd, &k4, f);
}

int xl4_ct_update(int ct4_fd, int ct6_fd, const struct xl4_flow_key *k, const struct xl4_flow *f,
		  __u64 flags)
{
	struct xl4_flow_key4 k4;

	if (k->family != 4)
		return bpf_map_update_elem(ct6_fd, k, f, flags);
	xl4_flow_key4_of(&k4, k);
	return bpf_map_update_elem(ct4_fd, &k4, f, flags);
}

/* Move the IPv4 entries among n read from the IPv6 table; the number moved, or -errno. */
static long move_ipv4(int ct6_fd, int ct4_fd, const struct xl4_flow_key *keys,
		      const struct xl4_flow *vals, __u32 n)
{
	long moved = 0;

	for (__u32 i = 0; i < n; i++) {
		struct xl4_flow_key4 k4;

		if (keys[i].family != 4)
			continue;
		xl4_flow_key4_of(&k4, &keys[i]);
		/* BPF_NOEXIST: an entry this build's datapath wrote already is the newer one */
		if (bpf_map_update_elem(ct4_fd, &k4, &vals[i], BPF_NOEXIST) && errno != EEXIST)
			return -errno;
		if (bpf_map_delete_elem(ct6_fd, &keys[i]) && errno != ENOENT)
			return -errno;
		moved++;
	}
	return moved;
}

long xl4_ct_split_ipv4(int ct6_fd, int ct4_fd)
{
	struct xl4_flow_key *keys = calloc(SPLIT_BATCH, sizeof(*keys));
	struct xl4_flow *vals = calloc(SPLIT_BATCH, sizeof(*vals));
	__u64 in = 0, out = 0;
	long moved = 0, m;
	bool first = true;

	if (!keys || !vals) {
		moved = -ENOMEM;
		goto out;
	}
	/* The batch cursor is a bucket index: deleting entries of buckets already read is safe. */
	for (;;) {
		__u32 count = SPLIT_BATCH;
		int err = bpf_map_lookup_batch(ct6_fd, first ? NULL : &in, &out, keys, vals, &count,
					       NULL);

		if (err && errno != ENOENT) {
			moved = -errno;
			break;
		}
		m = move_ipv4(ct6_fd, ct4_fd, keys, vals, count);
		if (m < 0) {
			moved = m;
			break;
		}
		moved += m;
		if (err) /* ENOENT: the walk is complete */
			break;
		in = out;
		first = false;
	}
out:
	free(keys);
	free(vals);
	return moved;
}

#define CT_BATCH 4096

/* The client address of a key of either table, as 16 bytes (IPv4 in the first 4). */
static const __be32 *ct_key_client(const void *key, int family)
{
	return family == 4 ? &((const struct xl4_flow_key4 *)key)->saddr :
			     ((const struct xl4_flow_key *)key)->saddr;
}

long long xl4_ct_count_from(int ct4_fd, int ct6_fd, const struct xl4_prefix *p)
{
	int fd = p->family == 4 ? ct4_fd : ct6_fd;
	size_t ksz = p->family == 4 ? sizeof(struct xl4_flow_key4) : sizeof(struct xl4_flow_key);
	__be32 client[4] = { 0 };
	char *keys = malloc(CT_BATCH * ksz);
	struct xl4_flow *vals = malloc(CT_BATCH * sizeof(*vals));
	struct xl4_flow_key k, next; /* the larger key: room for either */
	__u64 in = 0, out = 0;
	long long n = 0;
	bool first = true, batched = true;

	if (!keys || !vals) {
		free(keys);
		free(vals);
		return -ENOMEM;
	}
	for (;;) {
		__u32 count = CT_BATCH;
		int err = bpf_map_lookup_batch(fd, first ? NULL : &in, &out, keys, vals, &count,
					       NULL);

		if (err && errno != ENOENT) {
			n = -errno;
			batched = !(errno == EINVAL || errno == ENOTSUP ||
				    errno == 524 /* ENOTSUPP */);
			break;
		}
		for (__u32 i = 0; i < count; i++) {
			memcpy(client, ct_key_client(keys + i * ksz, p->family),
			       p->family == 4 ? 4 : 16);
			n += xl4_prefix_contains(p, p->family, client) == 1;
		}
		if (err) /* ENOENT: the walk is complete */
			break;
		in = out;
		first = false;
	}
	if (!batched) { /* no batch ops here: key by key */
		n = 0;
		for (void *prev = NULL; !bpf_map_get_next_key(fd, prev, &next); prev = &k) {
			k = next;
			memcpy(client, ct_key_client(&k, p->family), p->family == 4 ? 4 : 16);
			n += xl4_prefix_contains(p, p->family, client) == 1;
		}
	}
	free(keys);
	free(vals);
	return n;
}
