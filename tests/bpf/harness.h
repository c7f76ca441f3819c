/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The fixture harness: the loaded engines (one per fragment policy), fx_check() which runs one
 * packet through the real XDP program with BPF_PROG_TEST_RUN and checks verdict, reason,
 * output bytes, counter deltas and agreement with the user-space parser, and the tallies
 * behind the final "fixtures: N passed, N failed" line.
 */
#ifndef XL4_TESTS_HARNESS_H
#define XL4_TESTS_HARNESS_H

#include <sched.h>
#include <stdbool.h>
#include <stdint.h>

#include "engine.h"
#include "pktbuild.h"

enum fx_engine { ENG_PASS, ENG_DROP, ENG_MAX }; /* frag_policy pass / drop */

struct fx_state {
	struct xl4_engine eng[ENG_MAX];
	const char *filter; /* substring of the fixture name, or NULL */
	int verbose;
	unsigned long long seed; /* -s: the random suites' seeds are offsets from it (default 1) */
	int passed, failed, skipped;
};

extern struct fx_state fx;

bool fx_selected(const char *name);
/* Run one packet, check everything and count the fixture. want_out NULL: output = input. */
bool fx_check(const char *name, enum fx_engine eng, const struct pkt *in, uint32_t verdict,
	      uint32_t reason, const struct pkt *want_out);
/* Count a fixture as passed or failed (failures print themselves with fx_fail). */
void fx_count(const char *name, bool ok);
/* Print one failure line, under a "FAIL name" header when first; returns false, so:
 * ok = fx_fail(name, ok, "want %d, got %d", ...). */
bool fx_fail(const char *name, bool first, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void fx_hexdiff(const uint8_t *want, uint32_t wlen, const uint8_t *got, uint32_t glen);

/* Keep this thread on the CPU it runs on (per-CPU buckets, budgets and windows must all be the
 * same CPU's across test runs); fx_unpin() restores the affinity fx_pin() saved in *old. */
void fx_pin(cpu_set_t *old);
void fx_unpin(const cpu_set_t *old);

/* Set the test clock (xl4_clock, the .data.clock map, of an engine loaded with test_clock) to
 * ns: 0 or -errno. */
int fx_clock_set(int clock_fd, uint64_t ns);
/* A scenario's set-up failed: one failure line under name, counted; returns false. */
bool fx_setup_fail(const char *name, const char *what, const char *err);

/* -w FILE: every packet fx_check runs is also written to a pcap (pcapout.c). */
int fx_pcap_open(const char *file);
void fx_pcap_write(const struct pkt *p); /* no-op unless opened */
void fx_pcap_close(void);

/* The suites, each in its own file. */
void suite_catalogue(void);
void suite_sweep(void);
void suite_random(unsigned long long seed, int count);
void suite_lb(void); /* lb_cases.c: the load balancer, with its own engines */
void suite_filter(void); /* filter_cases.c: the filter, with its own engines and test clock */
void suite_clock(void);	 /* clock_cases.c: the datapath's clock against CLOCK_MONOTONIC */
void suite_exit(void);	 /* exit_cases.c: counting without the trace, the drop sampler */
void suite_guard(void);	 /* guard_cases.c: the flood guard, with its own engines and test clock */
void suite_autoblock(void); /* autoblock_cases.c: drop events' L4 fields, the analyzer's scoped blocks */
bool guard_reason_expected(unsigned int reason);

#endif
