// SPDX-License-Identifier: GPL-2.0
/* The guard's verified-source bits rebuilt from the verified tables (guard_vbits.h). */
#include <errno.h>
#include <stdlib.h>

#include <bpf/bpf.h>

#include "guard_vbits.h"
#include "xl4/abi.h"

void xl4_guard_vbits_add(struct xl4_guard_vbits *v, const struct xl4_guard_src *src)
{
	__u32 bit = xl4_guard_vbit(src);

	v->w[bit / 64] |= 1ull << (bit % 64);
}

long xl4_guard_vbits_merge(struct xl4_guard_vbits *fresh, const struct xl4_guard_vbits *before,
			   const struct xl4_guard_vbits *after)
{
	long set = 0;

	for (__u32 i = 0; i < XL4_GUARD_VBITS_WORDS; i++) {
		fresh->w[i] |= after->w[i] & ~before->w[i];
		set += __builtin_popcountll(fresh->w[i]);
	}
	return set;
}

/* Every key of one verified table into bits; the number of keys, or -errno. Bounded: a program
 * still running on the pinned table may evict the key the walk stands on, and the walk then
 * starts over from the first key; twice the table's size is enough for every key present. */
static long add_table(struct xl4_guard_vbits *v, int fd)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	struct xl4_guard_src key, next;
	long n = 0, max;
	int err;

	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return -errno;
	max = 2L * info.max_entries;
	for (err = bpf_map_get_next_key(fd, NULL, &next); !err && n < max;
	     err = bpf_map_get_next_key(fd, &key, &next)) {
		xl4_guard_vbits_add(v, &next);
		key = next;
		n++;
	}
	return err && errno != ENOENT ? -errno : n;
}

int xl4_guard_vbits_rebuild(int vbits_fd, int ver_fd, int verc_fd)
{
	struct xl4_guard_vbits *v = calloc(1, sizeof(*v));
	long a = 0, b = 0;
	__u32 zero = 0;
	int err = 0;

	if (!v)
		return -ENOMEM;
	if (bpf_map_lookup_elem(vbits_fd, &zero, v))
		err = -errno;
	if (!err && ver_fd >= 0)
		a = add_table(v, ver_fd);
	if (!err && verc_fd >= 0)
		b = add_table(v, verc_fd);
	if (!err && (a < 0 || b < 0))
		err = (int)(a < 0 ? a : b);
	if (!err && bpf_map_update_elem(vbits_fd, &zero, v, BPF_ANY))
		err = -errno;
	free(v);
	return err ? err : (int)(a + b);
}
