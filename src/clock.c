// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <time.h>
#include <bpf/bpf.h>

#include "clock.h"

unsigned long long xl4_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

/* One probe: the jiffies the program read, and when (the middle of the call). */
struct sample {
	unsigned long long jiffies, ns;
};

static int probe(int fd, struct sample *s)
{
	unsigned char frame[64] = { 0 }, out[64];
	unsigned long long t0, t1;
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame, .data_size_in = sizeof(frame),
		    .data_out = out, .data_size_out = sizeof(out), .repeat = 1);

	t0 = xl4_mono_ns();
	if (bpf_prog_test_run_opts(fd, &o))
		return -errno;
	t1 = xl4_mono_ns();
	if (o.data_size_out < sizeof(s->jiffies))
		return -EIO;
	memcpy(&s->jiffies, out, sizeof(s->jiffies));
	s->ns = t0 + (t1 - t0) / 2;
	return 0;
}

/* Two probes further apart than this (we were preempted between them) do not time an edge.
 * The first tries ask for a tight pair; on a loaded machine, where one probe alone can take
 * tens of microseconds, later tries take a looser one: an edge timed to +-150 us still puts
 * the offset well inside a tick and the rate (over XL4_CLOCK_SPAN_MS) within 0.75%. */
static const unsigned long long edge_gap_max_ns[] = { 50000, 50000, 100000, 300000, 300000 };

/* Probe until jiffies move on from a value >= `after`: the first sample of the new jiffy. The
 * edge lies between the two samples; *edge_ns is their middle, and only samples a few
 * microseconds apart count (on a busy machine the next edge is taken instead). */
static int next_edge(int fd, unsigned long long after, unsigned long long deadline,
		     unsigned long long gap_max, struct sample *s, unsigned long long *edge_ns)
{
	struct sample prev = { 0 };
	int err;

	if ((err = probe(fd, &prev)))
		return err;
	for (;;) {
		if ((err = probe(fd, s)))
			return err;
		if (s->jiffies != prev.jiffies && prev.jiffies >= after &&
		    s->ns - prev.ns <= gap_max) {
			*edge_ns = prev.ns + (s->ns - prev.ns) / 2;
			return 0;
		}
		if (s->ns > deadline)
			return -ETIMEDOUT;
		prev = *s;
	}
}

/* The HZ values kernels are built with (Kconfig's choices across architectures). A measured
 * rate within 1% of one of them is that one: the edges are found to a few microseconds, which
 * at HZ 1000 over the span is already 0.05%, too much to round to the unit. */
static const unsigned int known_hz[] = { 24, 32, 48, 64, 100, 128, 200, 250, 256, 300, 500, 512,
					 1000, 1024, 1200 };

unsigned int xl4_clock_hz(unsigned long long ticks, unsigned long long ns)
{
	if (!ns)
		return 0;
	for (size_t i = 0; i < sizeof(known_hz) / sizeof(known_hz[0]); i++) {
		/* |ticks / ns - hz / 1e9| <= 1% of hz / 1e9, in integers */
		unsigned long long want = known_hz[i] * ns, got = ticks * 1000000000ull;
		unsigned long long diff = got > want ? got - want : want - got;

		if (diff * 100 <= want)
			return known_hz[i];
	}
	return 0;
}

static int calibrate_once(int probe_fd, unsigned long long gap_max, struct xl4_clock *c)
{
	unsigned long long start = xl4_mono_ns(), deadline = start + 300000000ull, a_ns, b_ns, tick;
	struct sample a, b;
	unsigned int hz;
	int err;

	/* two edges: the first sets the phase, the second (a span later) the rate */
	if ((err = next_edge(probe_fd, 0, deadline, gap_max, &a, &a_ns)))
		return err;
	do {
		if ((err = next_edge(probe_fd, a.jiffies, deadline, gap_max, &b, &b_ns)))
			return err;
	} while (b_ns - a_ns < XL4_CLOCK_SPAN_MS * 1000000ull);
	hz = xl4_clock_hz(b.jiffies - a.jiffies, b_ns - a_ns);
	if (!hz)
		return -ERANGE;
	/* the kernel's TICK_NSEC: jiffies advance by one per this many ns of CLOCK_MONOTONIC */
	tick = (1000000000ull + hz / 2) / hz;
	c->tick_ns = tick;
	/* at the edge, jiffies became b.jiffies: now = jiffies * tick + offset is CLOCK_MONOTONIC
	 * at the start of each tick, and trails it by less than one tick in between */
	c->offset_ns = b_ns - b.jiffies * tick;
	return 0;
}

int xl4_clock_calibrate(int probe_fd, struct xl4_clock *c)
{
	int err = -ETIMEDOUT;

	/* a late tick or a preemption can spoil one measurement: five tries, looser as they go */
	for (size_t i = 0; i < sizeof(edge_gap_max_ns) / sizeof(edge_gap_max_ns[0]) && err; i++)
		err = calibrate_once(probe_fd, edge_gap_max_ns[i], c);
	return err;
}
