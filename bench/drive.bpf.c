// SPDX-License-Identifier: GPL-2.0
/*
 * Bench driver: lets BPF_PROG_TEST_RUN's `repeat` measure paths whose packet must differ (or be
 * restored) from one repetition to the next. Non-live test_run hands the same buffer to every
 * repetition, so the program under test would otherwise see its own output: a port-mode packet
 * already rewritten to the backend port, an ipip packet with one more outer header each time
 * until the headroom runs out, and a "new flow" that is established after the first repetition.
 *
 * Before every repetition the driver
 *   1. takes off any bytes the previous repetition prepended (bpf_xdp_adjust_head), or gives
 *      back the ones it cut off (bpf_xdp_adjust_tail),
 *   2. writes the template frame (first TMPL_LEN bytes) back over the packet,
 *   3. picks flow i: i = seq++ (every packet a new flow) or a pseudo-random i < nflows, and
 *      writes it as the client address 198.19.<i >> 14> and source port 0x4000 | (i & 0x3fff),
 *      fixing the IPv4 and TCP checksums incrementally (RFC 1624),
 * With pair_mode set (and seq_mode), repetitions come in pairs for one flow: 2k is flow k's
 * template (a SYN) and 2k+1 the same flow with the flags byte turned into a bare ACK (the
 * handshake's third packet), so a row measures a whole new connection as the balancer sees it.
 *
 * then tail-calls the program under test (slot 0 of `target`). The driver does the same work in
 * every mode (it always computes both the sequence and the random pick), so a driver row's
 * baseline is this driver tail-calling bpf/pass.bpf.o or bench/parse_drop.bpf.o.
 *
 * Frames are IPv4 TCP without VLAN tags or IP options: saddr at 26, sport at 34, checksums at
 * 24 (IP) and 50 (TCP). The template's saddr low 16 bits and sport low 14 bits are zero.
 *
 * With v6_src set, frames are IPv6 UDP (62 bytes and 2 of padding) and flow i is the source
 * /64 2001:db8:<i >> 16>:<i & 0xffff>::/64 (words at 26 and 28, UDP checksum at 60): up to 2^32
 * distinct sources inside 2001:db8::/32, for per-source state at scale (the rate limiter). The
 * template's source words 2 and 3 are zero.
 */
#include <linux/bpf.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#define TMPL_LEN 64

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} target SEC(".maps");

/* Written by user space (through the skeleton's mmap of .data/.bss) before each run. */
__u8 tmpl[TMPL_LEN];
__u32 frame_len = TMPL_LEN; /* the frame as handed to the test run */
__u32 seq_mode;		    /* 1: i = seq++; 0: i = random % nflows */
__u64 nflows = 1;
__u64 seq;
__u64 rng = 0x9e3779b97f4a7c15ull;
__u32 v6_src; /* 1: IPv6 UDP frames, flow i is a source /64 */
__u32 pair_mode; /* 1 (with seq_mode): repetitions 2k, 2k+1 are flow k's SYN and its ACK */

#define TCP_ACK 0x10

static __always_inline __u16 csum_upd(__u16 csum, __u16 old, __u16 new)
{
	__u32 s = (__u16)~csum + (__u16)~old + (__u32)new;

	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return (__u16)~s;
}

SEC("xdp")
int drive(struct xdp_md *ctx)
{
	__u32 len = (__u32)bpf_xdp_get_buff_len(ctx);
	__u8 *d, *end;
	__u64 r, s, i;
	__u16 w_old, w_new, p_old, p_new;

	/* 1. the previous repetition prepended an outer header: remove it */
	if (len > frame_len && len - frame_len < 256 &&
	    bpf_xdp_adjust_head(ctx, (int)(len - frame_len)))
		return XDP_ABORTED;
	/* ...or cut the frame short (a SYN-ACK challenge answers in fewer bytes): grow it back */
	len = (__u32)bpf_xdp_get_buff_len(ctx);
	if (len < frame_len && frame_len - len < 256 &&
	    bpf_xdp_adjust_tail(ctx, (int)(frame_len - len)))
		return XDP_ABORTED;
	d = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;
	if (d + TMPL_LEN > end)
		return XDP_ABORTED;
	/* 2. the template frame */
	__builtin_memcpy(d, tmpl, TMPL_LEN);
	/* 3. the flow */
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	r = nflows ? rng % nflows : 0;
	s = seq++;
	i = seq_mode ? (pair_mode ? s >> 1 : s) : r;
	if (v6_src) {
		__u16 a_old = *(__u16 *)(d + 26), a_new = bpf_htons((__u16)(i >> 16));

		w_old = *(__u16 *)(d + 28);
		w_new = bpf_htons((__u16)i);
		*(__u16 *)(d + 26) = a_new;
		*(__u16 *)(d + 28) = w_new;
		*(__u16 *)(d + 60) = csum_upd(csum_upd(*(__u16 *)(d + 60), a_old, a_new), w_old, w_new);
		bpf_tail_call(ctx, &target, 0);
		return XDP_ABORTED;
	}
	w_old = *(__u16 *)(d + 28);
	p_old = *(__u16 *)(d + 34);
	w_new = bpf_htons((__u16)(i >> 14));
	p_new = bpf_htons((__u16)(0x4000 | (i & 0x3fff)));
	*(__u16 *)(d + 28) = w_new;
	*(__u16 *)(d + 34) = p_new;
	*(__u16 *)(d + 24) = csum_upd(*(__u16 *)(d + 24), w_old, w_new);
	*(__u16 *)(d + 50) = csum_upd(csum_upd(*(__u16 *)(d + 50), w_old, w_new), p_old, p_new);
	if (pair_mode && (s & 1)) {
		/* the second of the pair: data offset and flags (word at 46) become a bare ACK */
		w_old = *(__u16 *)(d + 46);
		d[47] = TCP_ACK;
		*(__u16 *)(d + 50) = csum_upd(*(__u16 *)(d + 50), w_old, *(__u16 *)(d + 46));
	}

	bpf_tail_call(ctx, &target, 0);
	return XDP_ABORTED; /* the slot was empty */
}

char LICENSE[] SEC("license") = "GPL";
