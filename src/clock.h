/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The datapath's clock: jiffies scaled and offset to CLOCK_MONOTONIC (struct xl4_clock in
 * include/xl4/abi.h), measured at load against the kernel's own jiffies through the object's
 * clock probe, so the datapath reads time with bpf_jiffies64() (free) and still means the same
 * nanoseconds as the deadlines user space writes.
 */
#ifndef XL4_CLOCK_H
#define XL4_CLOCK_H

#include "xl4/abi.h"

/* Measure HZ and the offset with the probe program (bpf/xl4.bpf.c xl4_clock_probe): two jiffy
 * edges at least XL4_CLOCK_SPAN_MS apart. Fills c (test_ns untouched) and returns 0, or -errno
 * (-ETIMEDOUT: jiffies did not move as they should; up to five tries, each taking a looser
 * pair of probes around an edge). Takes 40-50 ms, up to 1.5 s on a loaded machine. */
#define XL4_CLOCK_SPAN_MS 40
int xl4_clock_calibrate(int probe_fd, struct xl4_clock *c);

/* CLOCK_MONOTONIC in ns: the base every deadline user space writes for the datapath uses. */
unsigned long long xl4_mono_ns(void);

/* HZ from `ticks` jiffies measured over `ns`: a HZ kernels are built with, within 1%; else 0. */
unsigned int xl4_clock_hz(unsigned long long ticks, unsigned long long ns);

#endif /* XL4_CLOCK_H */
