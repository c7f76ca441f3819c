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
		if (i == XDP_DROP) /* the sum of the reasons, below */
			continue;
		for (int c = 0; c < ncpu; c++) {
			t->c[i].packets += vals[c].packets;
			t->c[i].bytes += vals[c].bytes;
		}
	}
	/* the datapath counts a drop once, under its reason (include/xl4/abi.h) */
	for (__u32 r = 0; r < XL4_REASON_MAX; r++) {
		t->c[XDP_DROP].packets += t->c[XL4_STAT_REASON_BASE + r].packets;
		t->c[XDP_DROP].bytes += t->c[XL4_STAT_REASON_BASE + r].bytes;
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
