// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "testrun.h"
#include "xl4/abi.h"

#define TRACE_UNSET 0xffffffffu

/* The trace map is per CPU and the kernel may run us on any CPU: mark every slot unset,
 * run, and take the one slot that changed. */
static int trace_reset(int fd, struct xl4_trace *vals, int ncpu)
{
	__u32 zero = 0;

	for (int i = 0; i < ncpu; i++)
		vals[i] = (struct xl4_trace){ .verdict = TRACE_UNSET, .reason = 0 };
	return bpf_map_update_elem(fd, &zero, vals, BPF_ANY) ? -errno : 0;
}

int xl4_run_packet(const struct xl4_engine *e, const void *pkt, __u32 len, void *out,
		   __u32 out_cap, struct xl4_run_result *r)
{
	int ncpu = libbpf_num_possible_cpus();
	struct xl4_trace *vals;
	__u32 zero = 0;
	int err;
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = pkt, .data_size_in = len,
		    .data_out = out, .data_size_out = out_cap, .repeat = 1);

	if (ncpu <= 0)
		return -EINVAL;
	/* The kernel refuses test runs shorter than an Ethernet header, and no driver hands
	 * XDP such a runt: report what the parser would say. */
	if (len < 14) {
		*r = (struct xl4_run_result){ .verdict = XL4_V_DROP, .reason = XL4_R_ETH_TRUNC };
		return 0;
	}
	vals = calloc(ncpu, sizeof(*vals));
	if (!vals)
		return -ENOMEM;
	err = trace_reset(e->trace_fd, vals, ncpu);
	if (err)
		goto out;
	if (bpf_prog_test_run_opts(e->prog_fd, &opts)) {
		err = -errno;
		goto out;
	}
	memset(r, 0, sizeof(*r));
	r->verdict = opts.retval;
	r->out_len = opts.data_size_out;
	r->modified = r->out_len != len || memcmp(out, pkt, len) != 0;
	if (bpf_map_lookup_elem(e->trace_fd, &zero, vals)) {
		err = -errno;
		goto out;
	}
	for (int i = 0; i < ncpu; i++) {
		if (vals[i].verdict != TRACE_UNSET) {
			r->reason = vals[i].reason;
			break;
		}
	}
out:
	free(vals);
	return err;
}
