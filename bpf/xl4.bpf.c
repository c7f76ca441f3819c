// SPDX-License-Identifier: GPL-2.0
/*
 * xl4 XDP entry: parse (an IPv4 source checked against the blocklist halfway) -> filter -> flood
 * guard -> load balancer -> exit.
 *
 * One shortcut: an IPv4 packet of a flow the connection table holds (not a SYN, not a bare
 * RST: the guard's) is forwarded by the established lane (xl4_lb_est4(), lb_stage.h), inlined
 * here between the filter and the guard. It is most of a balancer's traffic, and the LB
 * stage's call and keys cost it a fifth of its time (docs/performance.md, round seven).
 *
 * Contract, shared by every stage after the parser (whose own is in parse.h): a stage judges
 * the parsed packet and returns one of
 *   < 0                  a negative XL4_R_* drop reason: the packet is dropped and counted;
 *   an XDP action        (0..XDP_REDIRECT) the verdict, when the stage has written the frame
 *                        (XDP_TX, XDP_REDIRECT) or otherwise decided it: the packet leaves;
 *   XL4_NEXT             no verdict: the pipeline goes on (after the last stage, XDP_PASS);
 *   XL4_NEXT_SKIP_GUARD  no verdict, and the flood guard is skipped (the filter's allowlist
 *                        and allow rules).
 *   XL4_NEXT_TOO_BIG     (the load balancer) the packet is too big to encapsulate: the
 *                        pipeline has xl4_stage_too_big() answer it.
 * XL4_NEXT* (enum xl4_next, stats.h) lie above every XDP action, so a verdict is never
 * mistaken for one. A stage never returns to the kernel itself: every packet leaves through
 * xl4_exit() or xl4_drop() in stats.h, which count it.
 *
 * Stages are global (__noinline, non-static) functions taking (ctx, struct xl4_pkt *): the
 * verifier checks each once against its prototype, so the cost of verification adds up over
 * stages instead of multiplying by the number of paths through the stages before it.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "filter.h"
#include "lb_stage.h"
#include "parse.h"
#include "stats.h"

const volatile __u32 cfg_frag_policy = XL4_FRAG_PASS; /* enum xl4_frag_policy */

/* Filter: XL4_NEXT, XL4_NEXT_SKIP_GUARD or a drop reason. */
__noinline int xl4_stage_filter(struct xl4_pkt *p)
{
	if (!p)
		return XL4_NEXT;
	return xl4_filter(p);
}

/* Flood guard: XL4_NEXT, XDP_TX (a SYN-ACK challenge) or a drop reason. */
__noinline int xl4_stage_guard(struct xdp_md *ctx, struct xl4_pkt *p)
{
	if (!p)
		return XL4_NEXT;
	return xl4_guard(ctx, p);
}

/* The load balancer saw a handshake complete on a VIP (see lb_syn_claim()). */
__noinline int xl4_guard_ack(struct xl4_pkt *p)
{
	if (!p || !p->acked_vip)
		return 0;
	guard_note_ack(p->acked_vip - 1, p, xl4_now());
	return 0;
}

/* Load balancer: XL4_NEXT for traffic that is not to a VIP, else an action (the frame
 * rewritten for a backend), XL4_NEXT_TOO_BIG or a drop reason. */
__noinline int xl4_stage_lb(struct xdp_md *ctx, struct xl4_pkt *p)
{
	if (!p)
		return XL4_NEXT;
	if (p->t.proto == IPPROTO_TCP || p->t.proto == IPPROTO_UDP)
		return xl4_lb(ctx, p);
	if ((p->t.flags & XL4_F_L4) && (p->t.proto == IPPROTO_ICMP || p->t.proto == IPPROTO_ICMPV6))
		return xl4_lb_icmp(ctx, p);
	return XL4_NEXT;
}

/* The ICMP "too big" answer (or a drop) to a packet the load balancer could not encapsulate
 * within its VIP's MTU (p->too_big_mtu). Called from the pipeline, not from the LB stage: the
 * answer's header copies need a stack frame the LB stage's own would push past 512 bytes. */
__noinline int xl4_stage_too_big(struct xdp_md *ctx, struct xl4_pkt *p)
{
	if (!p)
		return -XL4_R_LB_TOO_BIG;
	return ipip_reply_too_big(ctx, p, &xl4_lbglob);
}

SEC("xdp")
int xl4_xdp(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	struct xl4_cursor c = { .pos = data, .end = (void *)(long)ctx->data_end, .start = data };
	struct xl4_pkt pkt = {}; /* its frag_policy is set for xl4_parse_rest(), which reads it */
	int ret;

	/* The parser is inlined, unlike the stages: every packet runs it, and a call and its
	 * return cost ~8 ns here (the return goes through the kernel's return thunk). Between its
	 * two parts the filter's front judges an IPv4 source: a blocklisted one is dropped before
	 * its header's lengths, checksum and source class and its transport header are checked
	 * (~6 ns of every blocked packet; what else is wrong with it does not matter:
	 * docs/filter.md). */
	ret = xl4_parse_head(&c, &pkt);
	if (ret == ETH_P_IP) {
		int front = xl4_filter_front4(&pkt);

		if (front < 0) {
			/* A drop an event will sample (a few per second) still reports its ports,
			 * even past the event's 64-byte head (xl4 events, xl4 top): the parse goes on
			 * for it alone, and what it finds does not change the verdict. */
			int due = sample_due();

			if (due) {
				pkt.frag_policy = cfg_frag_policy;
				xl4_parse_rest(&c, &pkt, ETH_P_IP);
			}
			return xl4_drop_due(ctx, &pkt, front, due);
		}
	}
	if (ret >= 0) {
		/* not before: a packet the filter's front drops never reads the knob */
		pkt.frag_policy = cfg_frag_policy;
		ret = xl4_parse_rest(&c, &pkt, ret);
	}
	if (xl4_unlikely(ret < 0))
		return xl4_drop(ctx, &pkt, ret);
	/* Not IP (ARP, LLDP...): nothing for the later stages to judge. */
	if (pkt.l3_proto != bpf_htons(ETH_P_IP) && pkt.l3_proto != bpf_htons(ETH_P_IPV6))
		return xl4_exit(ctx, &pkt, XDP_PASS, XL4_R_NONE);

	/* A stage is called only when it has something to judge (a call costs ~7 ns): the
	 * filter's front decides an IPv4 blocklist hit, and traffic no list holds, by itself. */
	if (pkt.t.flags & XL4_F_IPV6)
		ret = xl4_filter_front6();
	else
		ret = *(volatile __u8 *)&pkt.absent & XL4_ABSENT_FILTER ? XL4_NEXT : XL4_FILTER_STAGE;
	if (ret == XL4_FILTER_STAGE)
		ret = xl4_stage_filter(&pkt);
	if (ret < 0)
		return xl4_drop(ctx, &pkt, ret);
	if (!(pkt.t.flags & (XL4_F_L4 | XL4_F_FRAG)))
		return xl4_exit(ctx, &pkt, XDP_PASS, XL4_R_NONE);
	/* Not to a VIP address: neither the guard nor the load balancer has anything to do. */
	if (!xl4_vip_addr_maybe(&pkt))
		return xl4_exit(ctx, &pkt, XDP_PASS, XL4_R_NONE);

	/* An established flow's packet needs neither the guard nor the LB stage's full path.
	 * The lane's frame is the entry's: this frame plus the guard's and its judge's come to
	 * 488 of the 512 bytes allowed (docs/verifier.md: how to read each depth). */
	if (!xl4_guard_wants(&pkt)) {
		int est = xl4_lb_est4(ctx, &pkt);

		if (est < 0)
			return xl4_drop(ctx, &pkt, est);
		if (est != XL4_NEXT)
			return xl4_exit(ctx, &pkt, est, XL4_R_NONE);
	}

	/* Allowlisted sources and allow rules skip the flood guard: their SYNs are neither counted
	 * nor judged, so their ACKs must not count as completing any (lb_stage.h). */
	if (xl4_guard_wants(&pkt)) {
		if (ret == XL4_NEXT_SKIP_GUARD) {
			pkt.absent |= XL4_ABSENT_GUARD;
		} else {
			ret = xl4_stage_guard(ctx, &pkt);
			if (ret < 0)
				return xl4_drop(ctx, &pkt, ret);
			if (ret != XL4_NEXT)
				return xl4_exit(ctx, &pkt, ret, XL4_R_NONE);
		}
	}

	ret = xl4_stage_lb(ctx, &pkt);
	if (pkt.acked_vip)
		xl4_guard_ack(&pkt);
	if (ret == XL4_NEXT_TOO_BIG)
		ret = xl4_stage_too_big(ctx, &pkt);
	if (ret < 0)
		return xl4_drop(ctx, &pkt, ret);
	if (ret != XL4_NEXT)
		return xl4_exit(ctx, &pkt, ret, XL4_R_NONE);

	return xl4_exit(ctx, &pkt, XDP_PASS, XL4_R_NONE);
}

/* The loader's clock probe (src/clock.c), run with BPF_PROG_TEST_RUN only: jiffies into the
 * first 8 bytes of the frame it is handed. */
SEC("xdp")
int xl4_clock_probe(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;

	if (data + sizeof(__u64) > end)
		return XDP_ABORTED;
	*(__u64 *)data = bpf_jiffies64();
	return XDP_TX;
}

char LICENSE[] SEC("license") = "GPL";
