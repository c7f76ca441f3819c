// SPDX-License-Identifier: GPL-2.0
/* The guard's verified-source bits rebuilt from the verified tables (guard_vbits.h). */
#include <errno.h>
#include <stdlib.h>

#include <bpf/bpf.h>

#include "guard_vbits.h"
#include "xl4/abi.h"

/* Every key of one verified table into bits; the number of keys, or -errno. */
static long add_table(struct xl4_guard_vbits *v, int fd)
{
	struct xl4_guard_src key, next;
	long n = 0;
	int err;

	for (err = bpf_map_get_next_key(fd, NULL, &next); !err;
	     err = bpf_map_get_next_key(fd, &key, &next)) {
		__u32 bit = xl4_guard_vbit(&next);

		v->w[bit / 64] |= 1ull << (bit % 64);
		key = next;
		n++;
	}
	return errno == ENOENT ? n : -errno;
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
