// SPDX-License-Identifier: GPL-2.0
/*
 * The datapath's clock (src/clock.c, bpf/stats.h xl4_now()): after load, jiffies scaled and
 * offset by what the loader measured read CLOCK_MONOTONIC to within one tick, and the tick is
 * one the kernel can have (a whole HZ). Read through the object's own probe, on the engine that
 * uses the kernel's clock.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "clock.h"
#include "harness.h"
#include "xl4.skel.h"


void suite_clock(void)
{
	const char *name = "clock/jiffies-track-monotonic";
	struct xl4_engine *e = &fx.eng[ENG_PASS];
	struct xl4_clock c;
	unsigned char frame[64] = { 0 }, out[64];
	unsigned long long jiffies, before, after, dp;
	__u32 zero = 0;
	bool ok = true;

	if (!fx_selected(name))
		return;
	if (bpf_map__lookup_elem(e->skel->maps.data_clock, &zero, sizeof(zero), &c, sizeof(c), 0)) {
		ok = fx_fail(name, true, "cannot read the clock map (.data.clock): %s", strerror(errno));
	} else if (!c.tick_ns || 1000000000ull % c.tick_ns > c.tick_ns / 1000 + 1 ||
		   !xl4_clock_hz(1, c.tick_ns)) {
		ok = fx_fail(name, true, "tick %llu ns is no HZ a kernel has", (unsigned long long)c.tick_ns);
	} else {
		for (int i = 0; i < 20 && ok; i++) {
			LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame, .data_size_in = sizeof(frame),
				    .data_out = out, .data_size_out = sizeof(out), .repeat = 1);

			before = xl4_mono_ns();
			if (bpf_prog_test_run_opts(bpf_program__fd(e->skel->progs.xl4_clock_probe), &o)) {
				ok = fx_fail(name, true, "probe: %s", strerror(errno));
				break;
			}
			after = xl4_mono_ns();
			memcpy(&jiffies, out, sizeof(jiffies));
			dp = jiffies * c.tick_ns + c.offset_ns;
			/* behind by less than a tick, plus however late the tick that moves jiffies
			 * runs (a VM's ticks can be a tick late); ahead by no more than the edge's
			 * measurement error */
			if (dp > after + 1000000 || dp + 2 * c.tick_ns < before)
				ok = fx_fail(name, true, "datapath time %llu, CLOCK_MONOTONIC %llu..%llu (tick %llu)",
					     dp, before, after, (unsigned long long)c.tick_ns);
			usleep(1500);
		}
	}
	fx_count(name, ok);
}
