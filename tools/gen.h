/* SPDX-License-Identifier: GPL-2.0 */
/*
 * xl4-gen: what user space (tools/xl4-gen.c) tells the frame-writing program (tools/gen.bpf.c).
 * The configuration is load-time rodata; the run state is .bss, written by user space between
 * BPF_PROG_TEST_RUN calls (never while one runs).
 */
#ifndef XL4_GEN_H
#define XL4_GEN_H

#include <linux/types.h>

enum gen_proto {
	GEN_SYN = 0,
	GEN_UDP = 1,
	GEN_ACK = 2,
	GEN_RST = 3,
};

/* Rodata: fixed for the program's lifetime. Addresses are network order, 32-bit words; an IPv4
 * address is word 0. A source is src_net | (random & ~src_mask), word by word. */
struct gen_cfg {
	__u32 ifindex;	   /* frames for any other ingress (the lo attachment) pass untouched */
	__u32 family;	   /* 4 or 6 */
	__u32 proto;	   /* enum gen_proto */
	__u32 frame_len;   /* bytes of Ethernet frame (no FCS), the length test_run was given */
	__u32 src_net[4];
	__u32 src_mask[4];
	__u32 dst[4];
	__u64 seed;	   /* keys the tuple hash: another seed, other tuples */
	__u16 dport;	   /* host order */
	__u8 smac[6];
	__u8 dmac[6];
	__u8 pad[2];
};
_Static_assert(sizeof(struct gen_cfg) == 88, "struct gen_cfg layout");

#endif /* XL4_GEN_H */
