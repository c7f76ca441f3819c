// SPDX-License-Identifier: GPL-2.0
/* A map's entries, a batch at a time (map_walk.h). */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <bpf/bpf.h>

#include "map_walk.h"

#define BATCH 4096

long long xl4_map_walk(int fd, size_t key_size, size_t value_size, __u64 max, xl4_map_batch_fn fn,
		       void *ctx)
{
	void *keys = malloc(key_size * BATCH * 4), *vals = malloc(value_size * BATCH * 4);
	__u64 token_in = 0, token_out = 0; /* hash maps: a bucket index */
	__u32 chunk = BATCH;
	long long n = 0;
	bool first = true;

	if (!keys || !vals) {
		free(keys);
		free(vals);
		return -ENOMEM;
	}
	while (!max || (__u64)n < max) {
		__u32 count = chunk;
		int err = bpf_map_lookup_batch(fd, first ? NULL : &token_in, &token_out, keys, vals,
					       &count, NULL);
		int ret;

		if (err && errno == ENOSPC && chunk < BATCH * 4) {
			chunk *= 2; /* one bucket holds more than a chunk: take a bigger bite */
			continue;
		}
		if (err && errno != ENOENT) {
			n = -errno;
			break;
		}
		n += count;
		if (fn && count && (ret = fn(ctx, keys, vals, count))) {
			n = ret;
			break;
		}
		if (err) /* ENOENT: the walk is complete */
			break;
		token_in = token_out;
		first = false;
	}
	free(keys);
	free(vals);
	return n;
}
