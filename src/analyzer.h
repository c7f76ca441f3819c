/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The flood analyzer's judgement, pure logic with no I/O (the thread around it is
 * src/analyzer_thread.c; docs/guard.md "The analyzer"). Fed once a second with each VIP's
 * SYN and completing-ACK rates and mode, and with the sources of sampled guard drops, it:
 *   - learns a baseline per VIP (EWMA of SYN/s and of the SYN:ACK ratio while normal);
 *   - tells a flash crowd (a SYN surge whose handshakes complete) from an attack (a surge
 *     whose handshakes do not), and forces a VIP into emergency mode when it sees an attack
 *     the kernel's thresholds missed, releasing it once calm for leave_ms;
 *   - in emergency mode and only when block_top is on (opt-in), finds a source or a /24 (/64)
 *     holding at least min_share of at least min_samples sampled drops. The drops are of
 *     spoofable SYNs, so that is a candidate, not a verdict: it waits proof_ms (a real client
 *     has retransmitted or answered a cookie by then), then is spared if the prefix holds
 *     established flows or verified sources (asked through params.proof), and otherwise
 *     blocked for new SYNs to that VIP only, for block_seconds, never renewed: the same
 *     prefix is not blocked again for that VIP until block_seconds after the block ended, and
 *     at most max_blocks blocks are in force at once.
 * It decides; the daemon's loop acts (one writer for filter and guard state).
 */
#ifndef XL4_ANALYZER_H
#define XL4_ANALYZER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "prefix.h"
#include "xl4/abi.h"

#define XL4_AN_SURGE_FACTOR 5.0	 /* SYN/s this many times the baseline is a surge */
#define XL4_AN_MIN_SYN 100.0	 /* ...and at least this many SYN/s (tiny baselines) */
#define XL4_AN_WARMUP 10	 /* observations before a baseline counts */
#define XL4_AN_ALPHA 0.05	 /* EWMA weight of one 1 s observation (~20 s memory) */
#define XL4_AN_SAMPLE_WINDOW_NS (10ull * 1000000000ull) /* top-N counts start over */
#define XL4_AN_TABLE 512	 /* distinct sources (and prefixes) counted per VIP */

/* What is known about a prefix before it is blocked. */
struct xl4_an_proof {
	uint64_t flows;	   /* established flows from it (the load balancer's connection table) */
	uint64_t verified; /* sources in it the guard verified */
	/* when a block of this very prefix for another VIP ends (0: none): blocked for this VIP
	 * too, the entry is widened and keeps that deadline (xl4_filter_block_syn()), so this
	 * block ends then, not block_seconds from now */
	uint64_t scoped_until_ns;
};
/* Called on the analyzer's thread: fill *out for p; < 0 when it cannot tell (nothing is then
 * blocked). */
typedef int (*xl4_an_proof_fn)(void *ctx, const struct xl4_prefix *p, struct xl4_an_proof *out);

struct xl4_analyzer_params {
	bool block_top;		/* automatic blocks at all (off unless configured) */
	uint32_t block_seconds; /* each lasts this long, and the same one waits as long again */
	uint32_t max_blocks;	/* automatic blocks in force at once, at most */
	uint32_t proof_ms;	/* a candidate waits this long before it is judged */
	double min_share;
	uint32_t min_samples;
	double ratio;	   /* guard.ratio: above it, handshakes are not completing */
	uint32_t leave_ms; /* calm this long releases a VIP the analyzer forced */
	xl4_an_proof_fn proof; /* NULL: nothing is known (every candidate is unproven) */
	void *proof_ctx;
};

/* One VIP, once a second. */
struct xl4_an_obs {
	uint32_t vip;	   /* id */
	uint32_t gen;	   /* changes when the id is given to another VIP: start over */
	uint64_t now_ns;
	double syn_per_s, ack_per_s;
	bool emergency;	   /* in emergency mode now, for whatever cause */
	bool forced_by_us; /* our override is the one in force */
	bool hands_off;	   /* the operator set on/off: the analyzer does not touch the mode */
};

enum xl4_an_kind {
	XL4_AN_FORCE = 1,   /* put vip into emergency mode (override on, cause analyzer) */
	XL4_AN_RELEASE,	    /* give vip back to the kernel's judgement (override auto) */
	XL4_AN_BLOCK,	    /* block prefix's new SYNs to vip for block_seconds */
	XL4_AN_FLASH_CROWD, /* a note for the log: surge, but handshakes complete */
	XL4_AN_SPARE,	    /* a note for the log: prefix dominated the drops but is not blocked */
};

struct xl4_an_decision {
	uint32_t kind; /* enum xl4_an_kind */
	uint32_t vip;
	struct xl4_prefix prefix; /* XL4_AN_BLOCK, XL4_AN_SPARE */
	uint32_t hits, samples;	  /* the prefix's share of the sampled drops */
	char why[200];
};

struct xl4_analyzer;

struct xl4_analyzer *xl4_analyzer_new(const struct xl4_analyzer_params *p);
void xl4_analyzer_free(struct xl4_analyzer *a);
/* Judge one observation; up to max decisions into out, returns how many. */
int xl4_analyzer_observe(struct xl4_analyzer *a, const struct xl4_an_obs *o,
			 struct xl4_an_decision *out, int max);
/* A sampled guard drop from src (family 4 or 6; IPv4 in the first 4 bytes) to vip. Counted
 * only while that VIP is in emergency mode. */
void xl4_analyzer_sample(struct xl4_analyzer *a, uint32_t vip, int family, const uint8_t src[16]);
/* The baseline learnt so far (for display and tests): 0 while warming up. */
int xl4_analyzer_baseline(const struct xl4_analyzer *a, uint32_t vip, double *syn_per_s,
			  double *ratio);

/* SYN per completing ACK as shown everywhere: syn / max(ack, 1). */
static inline double xl4_guard_ratio(double syn, double ack)
{
	return syn / (ack > 1 ? ack : 1);
}

#endif
