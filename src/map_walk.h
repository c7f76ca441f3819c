/* SPDX-License-Identifier: GPL-2.0 */
#ifndef XL4_MAP_WALK_H
#define XL4_MAP_WALK_H

#include <stddef.h>
#include <linux/types.h>

/* One batch of a map's entries: n keys, n values (each of the sizes the walk was given). 0 to
 * go on, or -errno to stop the walk with. */
typedef int (*xl4_map_batch_fn)(void *ctx, const void *keys, const void *vals, __u32 n);

/*
 * Every entry of a hash-type map (fd), BPF_MAP_LOOKUP_BATCH 4096 at a time, fn called on each
 * batch (NULL: only counted). value_size is what the kernel copies per entry (a per-CPU map's
 * value times the possible CPUs). The cursor is a bucket index: entries of buckets already
 * read may be deleted meanwhile. A bucket with more entries than a batch holds (ENOSPC) is read
 * again with room for up to four times as many. Stops once max entries were read (0: no
 * limit): a map churning under the walk cannot keep it going. Returns the entries read, or
 * -errno (-EINVAL or -ENOTSUPP: no batch operations for this map).
 */
long long xl4_map_walk(int fd, size_t key_size, size_t value_size, __u64 max, xl4_map_batch_fn fn,
		       void *ctx);

#endif /* XL4_MAP_WALK_H */
