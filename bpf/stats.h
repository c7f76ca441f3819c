/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The one exit path: every packet leaves through xl4_exit(), which counts its verdict, counts
 * the drop reason, samples drops into the ring buffer (rate-limited per CPU) and, for replay,
 * records the verdict. Stages hand their verdict to the pipeline (bpf/xl4.bpf.c); only the
 * exit returns one to the kernel.
 */
#ifndef XL4_STATS_H
#define XL4_STATS_H

#include <linux/bpf.h>
#include "compat.h"
#include "maps.h"
#include "parse.h"

/* Load-time knobs (rodata, set by the loader before load; the verifier prunes what is off). */
const volatile __u32 cfg_sample_per_sec = 100; /* drop events per second per CPU; 0 = none */
const volatile __u32 cfg_trace = 0;            /* 1: write xl4_trace_v1 (replay only) */
const volatile __u32 cfg_test_clock = 0;       /* 1: time comes from xl4_clock (tests) */

/* What a stage returns when it has no verdict: the pipeline goes on. The contract every stage
 * follows is written once, at the top of bpf/xl4.bpf.c. Above every XDP action, so that a
 * stage's return is a drop reason (< 0), an action (0..XDP_REDIRECT) or one of these. */
enum xl4_next {
	XL4_NEXT = 0x100,	/* go on with the next stage */
	XL4_NEXT_SKIP_GUARD,	/* go on, past the flood guard (the filter's allowlist and allow rules) */
	XL4_NEXT_TOO_BIG,	/* the LB's packet is too big to encapsulate within p->too_big_mtu
				 * (the VIP's MTU): the pipeline answers it (xl4_stage_too_big) */
};
_Static_assert(XDP_REDIRECT < XL4_NEXT, "a stage's XL4_NEXT must not be an XDP action");

/*
 * Now, in ns: CLOCK_MONOTONIC to within one timer tick (4 ms at HZ 250), from jiffies and the
 * scale and offset the loader measured (struct xl4_clock), or the test clock fixtures drive.
 * Everything the datapath times (expiry, token buckets, the guard's windows, conntrack touches,
 * the drop sampler) is coarser than a tick. bpf_jiffies64() is inlined by the verifier: ~0 ns,
 * where bpf_ktime_get_coarse_ns() costs ~22 ns and bpf_ktime_get_ns() ~48 ns here
 * (docs/performance.md). User space writes deadlines from CLOCK_MONOTONIC.
 */
static __always_inline __u64 xl4_now(void)
{
	struct xl4_clock *c = &xl4_clock;

	if (cfg_test_clock)
		return c->test_ns;
	if (!c->tick_ns) /* not calibrated (the loader could not measure jiffies) */
		return bpf_ktime_get_coarse_ns();
	return bpf_jiffies64() * c->tick_ns + c->offset_ns;
}

static __always_inline void count(__u32 idx, __u32 bytes)
{
	struct xl4_counter *c = bpf_map_lookup_elem(&xl4_stats_v1, &idx);

	if (c) {
		c->packets++;
		c->bytes += bytes;
	}
}

/* Token bucket of `rate` tokens per second, bursting to `rate`: 1 if a token was taken.
 * A second or more since the last refill fills the bucket outright: that also keeps
 * elapsed * rate below 2^64 (a bucket never used has last_ns 0, so elapsed is the uptime).
 * The part of a token not yet earned stays in last_ns, so arrivals just under the rate's
 * spacing are not starved to half of it. */
static __always_inline int xl4_bucket_take(struct xl4_bucket *b, __u64 rate, __u64 now)
{
	__u64 elapsed, refill;

	if (!b || rate == 0)
		return 0;
	elapsed = now - b->last_ns;
	if (elapsed >= 1000000000ull) {
		b->tokens = rate;
		b->last_ns = now;
	} else if (elapsed) {
		/* elapsed is 0 for every packet within one tick of the clock (4 ms at HZ 250): no
		 * 64-bit division then (a flood's SYNs take the challenge budget's token here) */
		refill = elapsed * rate / 1000000000ull;
		if (refill) {
			b->tokens += refill;
			if (b->tokens > rate)
				b->tokens = rate;
			b->last_ns = now - (elapsed * rate % 1000000000ull) / rate;
		}
	}
	if (b->tokens == 0)
		return 0;
	b->tokens--;
	return 1;
}

/* ns as a jiffies count, rounded up (jiffies >= it exactly when xl4_now() >= ns); 0 when time
 * is not jiffies (the test clock, or the loader could not calibrate them). */
static __always_inline __u64 xl4_jiffies_at(__u64 ns)
{
	struct xl4_clock *c = &xl4_clock;
	__u64 j;

	if (cfg_test_clock || !c->tick_ns)
		return 0;
	j = (ns - c->offset_ns + c->tick_ns - 1) / c->tick_ns;
	return j ? j : 1;
}

/* This CPU's slot of the drop sampler. bpf_get_smp_processor_id() is inlined by the verifier
 * (kernels since 6.10; a plain helper call before). */
static __always_inline struct xl4_sampler *sampler_slot(void)
{
	return &xl4_sampler[bpf_get_smp_processor_id() & (XL4_SAMPLER_SLOTS - 1)];
}

/*
 * The drop sampler's gate, a token bucket kept as one due time: each event moves the time the
 * next one is due by 1/rate, and a due time more than a second behind is pulled up to a second
 * behind. So a CPU samples at most rate * (T + 1) events in any T seconds: a burst of `rate`
 * after a quiet second, then one per 1/rate. The due time is kept in ns and, for the gate every
 * drop passes, in jiffies (0: not known, the gate reads the clock in ns):
 * a drop before its due time costs the CPU's number, one load, jiffies and a compare, no
 * lookup; the division that makes the jiffies runs once per sampled event.
 */
static __always_inline int sample_allowed(void)
{
	struct xl4_sampler *b;
	__u64 now, due;

	if (!cfg_sample_per_sec) /* off: no clock read, no lookup (the verifier prunes the rest) */
		return 0;
	b = sampler_slot();
	now = xl4_now();
	due = b->due_ns;
	if (now < due)
		return 0;
	if (now - due > 1000000000ull) /* quiet for a second or more: a full burst, no more */
		due = now - 1000000000ull;
	b->due_ns = due + 1000000000ull / cfg_sample_per_sec;
	b->due_jiffies = xl4_jiffies_at(b->due_ns);
	return 1;
}

/* Would sample_allowed() let an event through now? The same test, without taking the token:
 * what lets an unsampled drop be counted inline, without the call to xl4_account(). A due time
 * not known in jiffies (0: jiffies not calibrated) is compared in ns, inline: without that
 * test (tried in round twenty-one, ~0.1 ns) every drop of an uncalibrated datapath would take
 * the call and a blocked source's packet the rest of the parse. */
static __always_inline int sample_due(void)
{
	const struct xl4_sampler *b;

	if (!cfg_sample_per_sec)
		return 0;
	b = sampler_slot();
	if (!cfg_test_clock && b->due_jiffies)
		return bpf_jiffies64() >= b->due_jiffies;
	return xl4_now() >= b->due_ns;
}

/* The head of the frame and the reason go to user space, which decodes addresses from the
 * head itself; the transport header's offset, protocol and ports come from the parser, as they
 * may lie past the head. All of it is written only for a sampled drop. */
static __always_inline void sample_drop(struct xdp_md *ctx, __u32 reason, const struct xl4_pkt *p)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct xl4_event *ev;
	__u8 *src = data;
	__u32 n = 0;

	if (!sample_allowed())
		return;
	ev = bpf_ringbuf_reserve(&xl4_events_v1, sizeof(*ev), 0);
	if (!ev)
		return;
	__builtin_memset(ev, 0, sizeof(*ev) - XL4_SAMPLE_BYTES);
	ev->ts_ns = bpf_ktime_get_ns();
	ev->type = XL4_EV_DROP;
	ev->reason = reason;
	ev->ifindex = ctx->ingress_ifindex;
	ev->pkt_len = p->pkt_len;
	ev->detail = p->detail;
	ev->l4_off = p->l4_off;
	ev->l4_proto = p->t.proto;
	ev->l4_flags = p->t.proto ? XL4_EV_L4_PROTO : 0; /* 0 (hop-by-hop) is never the last */
	ev->sport = p->t.sport;
	ev->dport = p->t.dport;
	if ((p->t.flags & XL4_F_L4) && (p->t.proto == IPPROTO_TCP || p->t.proto == IPPROTO_UDP))
		ev->l4_flags |= XL4_EV_L4_PORTS;
	if ((void *)(src + XL4_SAMPLE_BYTES) <= end) {
		__builtin_memcpy(ev->head, src, XL4_SAMPLE_BYTES);
		n = XL4_SAMPLE_BYTES;
	} else {
		/* Short frames (the truncation drops): byte by byte, each access bounds-checked. */
		__builtin_memset(ev->head, 0, XL4_SAMPLE_BYTES);
		XL4_UNROLL
		for (int i = 0; i < XL4_SAMPLE_BYTES; i++) {
			if ((void *)(src + i + 1) > end)
				break;
			ev->head[i] = src[i];
			n = i + 1;
		}
	}
	ev->cap_len = n;
	bpf_ringbuf_submit(ev, 0);
}

/*
 * Count the verdict (and the drop reason), sample drops, trace for replay. A global function:
 * the verifier checks it once against its prototype (scalars and the packet's parse result),
 * instead of once for every distinct state in which the pipeline reaches its exit (dozens of
 * drop reasons times parse paths).
 */
__noinline int xl4_account(struct xdp_md *ctx, __u32 verdict, __u32 reason, const struct xl4_pkt *p)
{
	if (!p) /* cannot happen (the caller's stack); the verifier wants the check */
		return XDP_ABORTED;
	if (verdict >= XL4_VERDICT_MAX)
		verdict = XDP_ABORTED;
	if (reason >= XL4_REASON_MAX)
		reason = XL4_R_NONE;
	/* a drop is counted once, under its reason: user space sums the reasons into the
	 * XDP_DROP verdict (one per-CPU lookup less on every drop) */
	if (verdict == XDP_DROP) {
		count(XL4_STAT_REASON_BASE + reason, p->pkt_len);
		sample_drop(ctx, reason, p);
	} else {
		count(verdict, p->pkt_len);
	}
	if (cfg_trace) {
		__u32 zero = 0;
		struct xl4_trace *t = bpf_map_lookup_elem(&xl4_trace_v1, &zero);

		if (t) {
			t->verdict = verdict;
			t->reason = reason;
		}
	}
	return verdict;
}

/* A drop for a caller that has asked sample_due() already (due: its answer, asked once, so that
 * what the caller did for a sampled drop and the sampling agree): counted inline when no event
 * samples it, else through xl4_account(). */
static __always_inline int xl4_drop_due(struct xdp_md *ctx, const struct xl4_pkt *p, int neg_reason,
					int due)
{
	__u32 reason = -neg_reason;

	if (!cfg_trace && !due && reason < XL4_REASON_MAX) {
		count(XL4_STAT_REASON_BASE + reason, p->pkt_len);
		return XDP_DROP;
	}
	return xl4_account(ctx, XDP_DROP, reason, p);
}

/* A packet that is not dropped needs only its verdict counted, and a drop no event samples
 * only its reason: done here, inline, unless replay traces verdicts (a BPF-to-BPF call and
 * its return cost ~8 ns here; the rodata knob prunes the branch). A drop the sampler would
 * take goes through xl4_account(), which takes the token and writes the event. */
static __always_inline int xl4_exit(struct xdp_md *ctx, const struct xl4_pkt *p, int verdict,
				    __u32 reason)
{
	if (!cfg_trace && verdict >= 0 && verdict < XL4_VERDICT_MAX) {
		if (verdict != XDP_DROP) {
			count(verdict, p->pkt_len);
			return verdict;
		}
		if (reason < XL4_REASON_MAX && !sample_due()) {
			count(XL4_STAT_REASON_BASE + reason, p->pkt_len);
			return XDP_DROP;
		}
	}
	return xl4_account(ctx, verdict, reason, p);
}

/* A stage's negative return is a drop reason. */
static __always_inline int xl4_drop(struct xdp_md *ctx, const struct xl4_pkt *p, int neg_reason)
{
	return xl4_exit(ctx, p, XDP_DROP, -neg_reason);
}

#endif /* XL4_STATS_H */
