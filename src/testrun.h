/* SPDX-License-Identifier: GPL-2.0 */
/* Running the real XDP program over one packet with BPF_PROG_TEST_RUN: the engine behind
 * `xl4 replay` and the BPF fixtures. The engine must be loaded with trace = true. */
#ifndef XL4_TESTRUN_H
#define XL4_TESTRUN_H

#include <stdbool.h>
#include <linux/types.h>

#include "engine.h"

/* Room for encapsulation headers that later stages prepend. */
#define XL4_RUN_OUT_MAX (16384 + 256)

struct xl4_run_result {
	__u32 verdict;	/* XDP action */
	__u32 reason;	/* XL4_R_* (XL4_R_NONE unless dropped) */
	__u32 out_len;	/* bytes written to out */
	bool modified;	/* output differs from the input */
};

/* Returns 0 or -errno (the test run itself failed: no verdict). */
int xl4_run_packet(const struct xl4_engine *e, const void *pkt, __u32 len, void *out,
		   __u32 out_cap, struct xl4_run_result *r);

#endif
