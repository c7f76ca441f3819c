/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The backend agent's side of the ABI, next to what abi.h already fixes for it (the
 * xl4_aports_v1 key). bpf/agent.bpf.c and src/agent.c include this file; like abi.h it depends
 * on neither. Every struct has a size assertion; a layout change bumps the map's suffix.
 */
#ifndef XL4_AGENT_ABI_H
#define XL4_AGENT_ABI_H

#include <linux/types.h>

#include "xl4/abi.h"

#define XL4_MAP_AGENT_VIPS "xl4_avips_v1"
#define XL4_MAP_AGENT_STATS "xl4_astats_v2"
#define XL4_MAP_AGENT_STATE "xl4_astate_v1"
#define XL4_MAP_AGENT_FROM "xl4_afrom_v1"
#define XL4_MAP_AGENT_LOCAL "xl4_alocal_v1"

#define XL4_AGENT_PIN_ROOT "/sys/fs/bpf/xl4-agent"

#define XL4_AGENT_MAX_VIPS 1024
#define XL4_AGENT_MAX_PORTS 1024
#define XL4_AGENT_MAX_FROM 256
#define XL4_AGENT_MAX_LOCAL 256

/* The agent's TC filters: fixed handle and priority, so a later run (or --remove) finds and
 * replaces exactly its own filter and leaves anyone else's alone. The priority is below the
 * 49152 that `tc filter add` picks by default, so the agent runs before such filters. */
#define XL4_AGENT_TC_HANDLE 0x584c
#define XL4_AGENT_TC_PRIO 0x584c

/* xl4_avips_v1 (hash): the VIP addresses this backend serves. Ingress decapsulates IPIP /
 * ip6ip6 only when the inner destination is one of them. Written by `xl4 agent`. */
struct xl4_agent_vip_key {
	__be32 addr[4]; /* IPv4 in addr[0], rest 0 */
	__u8 family;	/* 4 or 6 */
	__u8 _pad[3];
};
_Static_assert(sizeof(struct xl4_agent_vip_key) == 20, "xl4_agent_vip_key layout");

#define XL4_AVIP_F_ADDED_LO (1u << 0) /* the agent put the address on lo (and removes it) */

struct xl4_agent_vip {
	__u32 flags; /* XL4_AVIP_F_*; the datapath only tests presence */
};
_Static_assert(sizeof(struct xl4_agent_vip) == 4, "xl4_agent_vip layout");

/* xl4_afrom_v1 (LPM trie): the only outer sources this backend decapsulates from (the
 * balancers' lb.ipip_source_v4/v6 prefixes). A family with no prefix here is decapsulated from
 * nobody: an encapsulated packet to a VIP from anywhere else is dropped. prefixlen = 32 + the
 * prefix's length: the family byte and its padding lead the key. Value: unused (0). Written by
 * `xl4 agent` (--from, or -c the balancers' config). */
struct xl4_agent_from_key {
	__u32 prefixlen;
	__u8 family; /* 4 or 6 */
	__u8 _pad[3];
	__be32 addr[4]; /* IPv4 in addr[0] */
};
_Static_assert(sizeof(struct xl4_agent_from_key) == 24, "xl4_agent_from_key layout");

/* xl4_alocal_v1 (hash): the outer destinations this backend decapsulates for: its own
 * addresses the balancers send to (--to, default IFACE's addresses at set-up). Key: struct
 * xl4_agent_vip_key (an address and its family); value: unused (0). Written by `xl4 agent`. */

/* xl4_astats_v2 (per-CPU array of struct xl4_counter), written only by the TC programs. The
 * *_REJECT / *_BAD rows are drops (TC_ACT_SHOT) of encapsulated packets whose inner
 * destination is a VIP: whatever the agent will not decapsulate must not reach a tunnel device
 * (tunl0, ip6tnl0) that would decapsulate it from anyone. */
enum xl4_agent_stat {
	XL4_AS_DECAP = 0,	/* ingress: outer header stripped */
	XL4_AS_PASS_IN = 1,	/* ingress: not ours, passed untouched */
	XL4_AS_DECAP_ERR = 2,	/* ingress: ours, but bpf_skb_adjust_room failed: dropped */
	XL4_AS_PORT = 3,	/* egress: source port restored to the VIP port */
	XL4_AS_PASS_OUT = 4,	/* egress: not ours, passed untouched */
	XL4_AS_PORT_ERR = 5,	/* egress: ours, but a rewrite helper failed */
	XL4_AS_FROM_REJECT = 6, /* ingress, dropped: outer source not in xl4_afrom_v1 */
	XL4_AS_TO_REJECT = 7,	/* ingress, dropped: outer destination not in xl4_alocal_v1 */
	XL4_AS_BAD_OUTER = 8,	/* ingress, dropped: an outer header the balancer never sends
				 * (IPv4 options, a fragment, a wrong checksum or length) */
	XL4_AS_ECN_DROP = 9,	/* ingress, dropped: the outer header marked CE (congestion) over
				 * an inner one that is not ECN-capable (RFC 6040 4.2) */
	XL4_AS_MAX = 16,
};

/* xl4_astate_v1 (array, 1 entry): what `xl4 agent` changed outside its maps, so --remove can
 * put it back. Read and written only by user space; kept in a pin so it lives exactly as
 * long as the set-up it describes. */
enum xl4_agent_sysctl {
	XL4_ASC_ALL_ARP_IGNORE = 0,
	XL4_ASC_ALL_ARP_ANNOUNCE,
	XL4_ASC_ALL_RP_FILTER,
	XL4_ASC_IF_ARP_IGNORE,
	XL4_ASC_IF_ARP_ANNOUNCE,
	XL4_ASC_IF_RP_FILTER,
	XL4_ASC_MAX,
};

#define XL4_AST_SYSCTL_SAVED (1u << 0)	 /* sysctl_orig[] holds the values before the agent */
#define XL4_AST_CLSACT_CREATED (1u << 1) /* the agent created the clsact qdisc */

struct xl4_agent_state {
	__u32 ifindex;
	__u32 flags;			  /* XL4_AST_* */
	__s32 sysctl_orig[XL4_ASC_MAX];	  /* -1: not read */
	char ifname[16];
};
_Static_assert(sizeof(struct xl4_agent_state) == 48, "xl4_agent_state layout");

#endif /* XL4_AGENT_ABI_H */
