// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "counters.h"

int xl4_counters_read(int stats_fd, struct xl4_totals *t)
{
	int ncpu = libbpf_num_possible_cpus();
	struct xl4_counter *vals;

	if (ncpu <= 0)
		return -EINVAL;
	vals = calloc(ncpu, sizeof(*vals));
	if (!vals)
		return -ENOMEM;
	memset(t, 0, sizeof(*t));
	for (__u32 i = 0; i < XL4_STAT_MAX; i++) {
		if (bpf_map_lookup_elem(stats_fd, &i, vals)) {
			int err = -errno;

			free(vals);
			return err;
		}
		for (int c = 0; c < ncpu; c++) {
			t->c[i].packets += vals[c].packets;
			t->c[i].bytes += vals[c].bytes;
		}
	}
	free(vals);
	return 0;
}

int xl4_counters_open_pinned(const char *pin_path)
{
	char path[512];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", pin_path, XL4_MAP_STATS);
	fd = bpf_obj_get(path);
	return fd < 0 ? -errno : fd;
}
