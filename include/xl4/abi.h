/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The one header both sides share: drop reasons, verdicts, map names, keys and values.
 * bpf/ and src/ include this file; nothing here may depend on either side.
 * Every struct has explicit padding and a size assertion: a layout change must bump the
 * versioned map name (XL4_MAP_*) so an old pin is never reused with a new layout.
 */
#ifndef XL4_ABI_H
#define XL4_ABI_H

#include <linux/types.h>

/*
 * Drop reasons, one per malformed class or policy decision. The X-macro keeps the enum and
 * the user-visible names (xl4_reason_name()) in one list. Never renumber: counters and
 * replay output are keyed by these values; append new reasons at the end.
 */
#define XL4_REASONS(X)                                                                  \
	X(NONE, "none", "no drop")                                                      \
	X(ETH_TRUNC, "eth_trunc", "frame shorter than an Ethernet header")              \
	X(VLAN_TRUNC, "vlan_trunc", "VLAN tag cut short")                               \
	X(VLAN_TOO_DEEP, "vlan_too_deep", "more than two VLAN tags")                    \
	X(IP4_TRUNC, "ip4_trunc", "IPv4 header cut short")                              \
	X(IP4_BAD_VERSION, "ip4_bad_version", "IPv4 ethertype but version is not 4")    \
	X(IP4_BAD_IHL, "ip4_bad_ihl", "IPv4 IHL below 5")                               \
	X(IP4_OPT_TRUNC, "ip4_opt_trunc", "IPv4 options run past the frame")            \
	X(IP4_LEN_SHORT, "ip4_len_short", "IPv4 total length shorter than its header")  \
	X(IP4_LEN_OVER, "ip4_len_over", "IPv4 total length longer than the frame")      \
	X(IP4_BAD_CSUM, "ip4_bad_csum", "IPv4 header checksum wrong")                   \
	X(IP4_SRC_MARTIAN, "ip4_src_martian", "IPv4 source is 0/8, loopback, multicast or broadcast") \
	X(IP4_FRAG_TINY, "ip4_frag_tiny", "IPv4 first fragment too small for its L4 header") \
	X(IP4_FRAG_OFFSET1, "ip4_frag_offset1", "IPv4 fragment at offset 8 bytes (RFC 1858 overlap attack)") \
	X(IP4_FRAG, "ip4_frag", "IPv4 fragment dropped by policy")                      \
	X(IP6_TRUNC, "ip6_trunc", "IPv6 header cut short")                              \
	X(IP6_BAD_VERSION, "ip6_bad_version", "IPv6 ethertype but version is not 6")    \
	X(IP6_LEN_OVER, "ip6_len_over", "IPv6 payload length longer than the frame")    \
	X(IP6_SRC_MARTIAN, "ip6_src_martian", "IPv6 source is multicast or loopback (`::1`; the unspecified `::` is legal: duplicate address detection sends from it)") \
	X(IP6_EXT_TRUNC, "ip6_ext_trunc", "IPv6 extension header cut short")           \
	X(IP6_EXT_CHAIN, "ip6_ext_chain", "IPv6 extension header chain too long")       \
	X(IP6_EXT_ORDER, "ip6_ext_order", "IPv6 hop-by-hop header not first")           \
	X(IP6_FRAG_TINY, "ip6_frag_tiny", "IPv6 first fragment too small for its L4 header") \
	X(IP6_FRAG, "ip6_frag", "IPv6 fragment dropped by policy")                      \
	X(TCP_TRUNC, "tcp_trunc", "TCP header cut short")                               \
	X(TCP_BAD_DOFF, "tcp_bad_doff", "TCP data offset below 5")                      \
	X(TCP_OPT_TRUNC, "tcp_opt_trunc", "TCP data offset runs past the packet")      \
	X(TCP_FLAGS_NULL, "tcp_flags_null", "TCP with no flags (null scan)")            \
	X(TCP_FLAGS_SYN_FIN, "tcp_flags_syn_fin", "TCP SYN and FIN together")           \
	X(TCP_FLAGS_SYN_RST, "tcp_flags_syn_rst", "TCP SYN and RST together")           \
	X(TCP_FLAGS_XMAS, "tcp_flags_xmas", "TCP FIN+PSH+URG (Xmas scan)")               \
	X(TCP_FLAGS_NO_ACK, "tcp_flags_no_ack", "TCP FIN, PSH or URG without ACK")      \
	X(TCP_PORT_ZERO, "tcp_port_zero", "TCP source or destination port 0")           \
	X(UDP_TRUNC, "udp_trunc", "UDP header cut short")                               \
	X(UDP_LEN_MISMATCH, "udp_len_mismatch", "UDP length differs from the IP payload length") \
	X(UDP_PORT_ZERO, "udp_port_zero", "UDP source or destination port 0")           \
	X(ICMP_TRUNC, "icmp_trunc", "ICMP header cut short")                            \
	X(ICMP6_TRUNC, "icmp6_trunc", "ICMPv6 header cut short")                        \
	X(L4_PROTO_MISMATCH, "l4_proto_mismatch", "ICMPv6 carried in IPv4, or ICMP in IPv6") \
	X(LB_NO_BACKEND, "lb_no_backend", "VIP has no usable backend")                  \
	X(LB_FRAG, "lb_frag", "fragment to a VIP (no ports to pick a backend with)")    \
	X(LB_TOO_BIG, "lb_too_big", "too big to encapsulate, and may not be fragmented or is an ICMP error") \
	X(LB_ENCAP_FAIL, "lb_encap_fail", "no headroom to encapsulate")                \
	X(LB_NOT_VIP_PORT, "lb_not_vip_port", "to a VIP address on a port or protocol it does not serve") \
	X(FILTER_BLOCK, "filter_block", "source on the blocklist")                       \
	X(FILTER_RULE, "filter_rule", "a drop rule matched the destination")             \
	X(FILTER_RATE, "filter_rate", "over a per-source rate limit")                    \
	X(FILTER_RATE_SHARED, "filter_rate_shared", "over the shared rate-limit bucket (limiter map under pressure)") \
	X(GUARD_FIRST_DROP, "guard_first_drop", "first SYN of an unverified source in emergency mode (First Drop)") \
	X(GUARD_SYN_EARLY, "guard_syn_early", "SYN repeated sooner than a real TCP retransmits (First Drop window)") \
	X(GUARD_CHALLENGE_BUDGET, "guard_challenge_budget", "SYN not challenged: this CPU's SYN-ACK challenge budget is spent") \
	X(GUARD_CHALLENGE_ANSWERED, "guard_challenge_answered", "client RST carrying our challenge cookie (consumed; source now verified)") \
	X(LB_ICMP_MISMATCH, "lb_icmp_mismatch", "ICMP error about a VIP's packet sent to another address than that VIP") \
	X(LB_ICMP_MTU, "lb_icmp_mtu", "ICMP frag-needed / packet-too-big announcing an MTU below 68 (IPv4) or 1280 (IPv6)") \
	X(LB_ICMP_NO_FLOW, "lb_icmp_no_flow", "ICMP error about a VIP flow the connection table does not hold") \
	X(LB_ICMP_RATE, "lb_icmp_rate", "ICMP error over this CPU's budget for errors steered to backends")

#define XL4_REASON_ENUM(id, name, text) XL4_R_##id,
enum xl4_reason { XL4_REASONS(XL4_REASON_ENUM) XL4_REASON_MAX };
#undef XL4_REASON_ENUM

/* Verdicts are XDP actions; counters are indexed by them. */
enum xl4_verdict {
	XL4_V_ABORTED = 0, /* XDP_ABORTED */
	XL4_V_DROP = 1,	   /* XDP_DROP */
	XL4_V_PASS = 2,	   /* XDP_PASS */
	XL4_V_TX = 3,	   /* XDP_TX */
	XL4_V_REDIRECT = 4,/* XDP_REDIRECT */
	XL4_VERDICT_MAX = 5,
};

/*
 * xl4_stats_v1: per-CPU array. Index 0..XL4_VERDICT_MAX-1 counts verdicts; index
 * XL4_STAT_REASON_BASE + reason counts drops by reason. Written only by the XDP program,
 * which counts a drop once, under its reason: the XDP_DROP verdict is the sum of the reasons
 * (src/counters.c adds it up; the slot itself is left to what older datapaths counted there).
 */
#define XL4_STAT_ALLOW_LIST 5 /* packets from an allowlisted source */
#define XL4_STAT_ALLOW_RULE 6 /* packets an allow rule let through */
#define XL4_STAT_REASON_BASE 8
#define XL4_STAT_MAX (XL4_STAT_REASON_BASE + 64)
_Static_assert(XL4_REASON_MAX <= 64, "reason space exhausted: raise XL4_STAT_MAX and bump map version");

struct xl4_counter {
	__u64 packets;
	__u64 bytes;
};
_Static_assert(sizeof(struct xl4_counter) == 16, "xl4_counter layout");

/* Parse result flags (struct xl4_tuple.flags). */
#define XL4_F_IPV6 (1u << 0)     /* addresses are IPv6 */
#define XL4_F_FRAG (1u << 1)     /* a fragment (first or not) */
#define XL4_F_FRAG_LATER (1u << 2) /* non-first fragment: no L4 header, ports are 0 */
#define XL4_F_L4 (1u << 3)       /* ports and L4 offsets are valid */

/* The 5-tuple in network byte order; IPv4 addresses live in the first word of addr. */
struct xl4_tuple {
	__be32 saddr[4];
	__be32 daddr[4];
	__be16 sport;
	__be16 dport;
	__u8 proto;     /* IPPROTO_* of the transport header (after extension headers) */
	__u8 tcp_flags; /* TCP flags byte (FIN=0x01 ... CWR=0x80), 0 for non-TCP */
	__u16 flags;    /* XL4_F_* */
};
_Static_assert(sizeof(struct xl4_tuple) == 40, "xl4_tuple layout");

/* A sampled event in the xl4_events_v1 ring buffer (drops, rate-limited per CPU). */
#define XL4_SAMPLE_BYTES 64
enum xl4_event_type {
	XL4_EV_DROP = 1,
};
struct xl4_event {
	__u64 ts_ns;  /* bpf_ktime_get_ns() */
	__u32 type;   /* XL4_EV_* */
	__u32 reason; /* XL4_R_* */
	__u32 ifindex;
	__u32 pkt_len; /* bytes in the frame */
	__u32 cap_len; /* bytes copied into head[] */
	__u32 detail;  /* what matched: filter_block: the blocklist prefix's length; filter_rule
			* and filter_rate: the rule id (0: the global limit) */
	__u8 head[XL4_SAMPLE_BYTES]; /* the frame's first bytes; user space decodes addresses */
	/* The parser's transport header, filled only when the event is sampled: with IPv4
	 * options, IPv6 extension headers or two VLAN tags the ports lie past head[]. Appended
	 * after head[], so a record of an older datapath (XL4_EVENT_V1_SIZE bytes) reads as one
	 * with l4_flags 0. */
	__u16 l4_off;	/* offset of the transport header in the frame */
	__u8 l4_proto;	/* IPPROTO_* after extension headers (with XL4_EV_L4_PROTO) */
	__u8 l4_flags;	/* XL4_EV_L4_* */
	__be16 sport, dport; /* with XL4_EV_L4_PORTS */
};
#define XL4_EV_L4_PROTO (1u << 0) /* l4_proto is the parser's */
#define XL4_EV_L4_PORTS (1u << 1) /* l4_off, sport and dport are the parser's (TCP or UDP) */
#define XL4_EVENT_V1_SIZE (32 + XL4_SAMPLE_BYTES) /* records before the L4 fields */
_Static_assert(sizeof(struct xl4_event) == XL4_EVENT_V1_SIZE + 8, "xl4_event layout");

/* Last verdict per CPU, written only when the program is loaded with cfg_trace=1 (replay). */
struct xl4_trace {
	__u32 verdict;
	__u32 reason;
};

/* The drop sampler's state of one CPU (bpf/stats.h sample_allowed()), one of
 * XL4_SAMPLER_SLOTS in the datapath's ".data.sampler" map, by CPU number: CPUs whose numbers
 * differ by a multiple of XL4_SAMPLER_SLOTS share a slot, and its rate. Not pinned: a restart
 * starts every CPU with a full burst. Tests write it (tests/bpf). */
#define XL4_SAMPLER_SLOTS 1024
struct xl4_sampler {
	__u64 due_ns;	   /* when the next event may be sampled */
	__u64 due_jiffies; /* the same in jiffies, rounded up; 0: not known (read the clock) */
};

/* Policy knobs set as rodata before load (see bpf/xl4.bpf.c). */
enum xl4_frag_policy {
	XL4_FRAG_PASS = 0, /* fragments go on (non-first ones carry no ports) */
	XL4_FRAG_DROP = 1, /* every fragment dropped with ip4_frag / ip6_frag */
};

/* Pinned map names; the suffix is the layout version. Kept under 16 bytes (BPF_OBJ_NAME_LEN). */
#define XL4_MAP_STATS "xl4_stats_v1"
#define XL4_MAP_EVENTS "xl4_events_v1"
#define XL4_MAP_TRACE "xl4_trace_v1"

#define XL4_MAP_VIPS "xl4_vips_v1"
#define XL4_MAP_VIP_ADDRS "xl4_vaddr_v1"
#define XL4_MAP_VIP_BITS "xl4_vbits_v1"
#define XL4_MAP_VIP_BY_ID "xl4_vipid_v1"
#define XL4_MAP_VIP_KEYS "xl4_vipkey_v1"
#define XL4_MAP_VIP_INDEX "xl4_vidx_v1"
#define XL4_MAP_BACKENDS "xl4_backends_v1"
#define XL4_MAP_BACKEND_VIP "xl4_bevip_v1"
#define XL4_MAP_RING "xl4_ring_v1"
#define XL4_MAP_CT "xl4_ct_v1"
#define XL4_MAP_CT4 "xl4_ct4_v1"
#define XL4_MAP_LB_GLOBALS "xl4_lbglob_v1"
#define XL4_MAP_VIP_STATS "xl4_vstats_v2"
#define XL4_MAP_VIP_RETIRED "xl4_vretired_v1"
#define XL4_MAP_BE_STATS "xl4_bstats_v1"
#define XL4_MAP_CT_BUDGET "xl4_ctbudg_v1"
#define XL4_MAP_ICMP_CFG "xl4_icmpcfg_v1"

#define XL4_PIN_ROOT "/sys/fs/bpf/xl4"

/* ---- Load balancer ---------------------------------------------------------------------- */

/* Limits fixed at map creation (array sizes). The Maglev table size is a load-time setting
 * (xl4_lb_globals.ring_size, a prime <= XL4_RING_SIZE_MAX); the ring map holds two tables per
 * VIP (A/B) so a new table is written aside and switched in with one VIP update. */
#define XL4_MAX_VIPS 64
#define XL4_MAX_BACKENDS 4096
#define XL4_RING_SIZE_DEFAULT 65537
#define XL4_RING_SIZE_MAX 65537
#define XL4_BACKEND_NONE 0xffffffffu

enum xl4_fwd_mode {
	XL4_FWD_L2 = 1,	  /* destination MAC rewrite, XDP_TX */
	XL4_FWD_PORT = 2, /* l2 + destination port rewrite (backend agent restores on egress) */
	XL4_FWD_IPIP = 3, /* IPv4-in-IPv4 or IPv6-in-IPv6 to the backend (agent decapsulates) */
};

/* xl4_vips_v1 (hash): which VIP a packet is for. Written by the daemon. */
struct xl4_vip_key {
	__be32 addr[4]; /* IPv4 in addr[0], rest 0 */
	__be16 port;
	__u8 proto;  /* IPPROTO_TCP / IPPROTO_UDP */
	__u8 family; /* 4 or 6 */
};
_Static_assert(sizeof(struct xl4_vip_key) == 20, "xl4_vip_key layout");

#define XL4_VIP_F_RESCHEDULE_DOWN (1u << 0) /* flows of a backend that went down move on */
#define XL4_VIP_F_LIVE (1u << 7) /* xl4_vipid_v1 only: the slot holds a VIP */

/* xl4_vipid_v1 (array, index = VIP id): a copy of each VIP's struct xl4_vip, flagged
 * XL4_VIP_F_LIVE, written by the daemon with every write to xl4_vips_v1 (cleared before the
 * VIP is deleted). An established flow names its backend and the backend its VIP id, so a
 * conntrack hit finds the VIP here with an array lookup instead of a hash lookup. */

struct xl4_vip {
	__u32 id;	  /* index into per-VIP arrays: stats, ring tables */
	__u8 mode;	  /* enum xl4_fwd_mode */
	__u8 ring_slot;	  /* which of the VIP's two tables is live (0/1) */
	__u8 flags;	  /* XL4_VIP_F_* */
	__u8 n_backends;  /* backends in the live table (0: drop with lb_no_backend) */
	__u16 mtu;	  /* largest packet (L3) the path to backends carries, for ipip */
	__be16 vip_port;  /* the VIP's own port (port mode rewrites from it) */
};
_Static_assert(sizeof(struct xl4_vip) == 12, "xl4_vip layout");

/* xl4_vaddr_v1 (hash, key = struct xl4_vip_key with port 0 and proto 0): every address that
 * serves as a VIP, so traffic to a VIP address on a port it does not serve is told apart from
 * traffic that is not ours (the host's own). Value: number of VIPs on that address. */

/* xl4_vbits_v1 (array, 1 entry): one bit per hash of every address in xl4_vaddr_v1, rebuilt by
 * the daemon after each change to that map. A clear bit proves "not a VIP address", and the
 * datapath passes the packet on with no hash lookup at all (the host's own traffic, floods
 * aimed elsewhere); a set bit may be a collision, and the VIP lookups decide as before. */
#define XL4_VIP_BITS_LOG2 16
#define XL4_VIP_BITS_WORDS ((1u << XL4_VIP_BITS_LOG2) / 64)
struct xl4_vip_bits {
	__u64 w[XL4_VIP_BITS_WORDS];
};

/* An address's bit (IPv4 in addr[0], the rest 0): the words folded, then a multiplicative
 * hash. Computed alike on both sides (the words as they lie in memory). */
static inline __u32 xl4_vip_bit(const __be32 *addr)
{
	__u32 x = addr[0] ^ addr[1] ^ addr[2] ^ addr[3];

	return (__u32)(x * 2654435761u) >> (32 - XL4_VIP_BITS_LOG2);
}

/*
 * Finding a VIP by its key without a hash lookup (~30 ns on every SYN, every ACK that starts a
 * flow and every emergency SYN; docs/performance.md, round fourteen), in two arrays written by
 * the daemon:
 *  - xl4_vipkey_v1 (array, index = VIP id): each VIP's struct xl4_vip_key, written before
 *    anything names the id;
 *  - xl4_vidx_v1 (array, 1 entry): struct xl4_vip_index, a direct-mapped table from
 *    xl4_vip_slot(key, salt) to the VIP's id + 1 (0: none). The daemon draws the salt so that
 *    no two VIPs share a slot when it can.
 * A slot is a hint: the datapath takes the id only if xl4_vipkey_v1 holds the packet's very
 * key for it and its xl4_vipid_v1 copy is live; otherwise xl4_vips_v1 decides, as it did
 * before the index. Slots are single bytes, so a reader never sees half of one; the key and
 * the copy are read at addresses computed from the slot's id (a dependency every CPU orders,
 * arm64's weak loads included), after the daemon wrote them in syscalls before the slot's; a
 * deleted VIP's id is given to another VIP only after every program that could have read it
 * from the index has finished (an RCU grace period: src/lb_state.c, src/vip_index.c).
 */
#define XL4_VIP_INDEX_LOG2 12
#define XL4_VIP_INDEX_SLOTS (1u << XL4_VIP_INDEX_LOG2)
struct xl4_vip_index {
	__u32 salt;
	__u8 id1[XL4_VIP_INDEX_SLOTS];
};
_Static_assert(XL4_MAX_VIPS < 256, "a VIP id + 1 fits an index slot");

static inline __u32 xl4_fmix32(__u32 x)
{
	x ^= x >> 16;
	x *= 0x85ebca6bu;
	x ^= x >> 13;
	x *= 0xc2b2ae35u;
	x ^= x >> 16;
	return x;
}

/* The address folded (each word turned, so that IPv6 addresses differing in two words do not
 * cancel out as they would in a plain XOR), salted and mixed, then the port, protocol and family
 * mixed in: murmur3's finalizer each time, so that every salt shuffles the keys afresh (a
 * multiplicative hash moves keys that differ in a few bits by the same distance under every
 * salt, and no salt would part them). */
static inline __u32 xl4_vip_slot(const struct xl4_vip_key *k, __u32 salt)
{
	__u32 a = k->addr[0] ^ ((k->addr[1] << 8) | (k->addr[1] >> 24)) ^
		  ((k->addr[2] << 16) | (k->addr[2] >> 16)) ^ ((k->addr[3] << 24) | (k->addr[3] >> 8));

	a = xl4_fmix32(a ^ salt) ^ ((__u32)k->port << 16 | (__u32)k->proto << 8 | k->family);
	return xl4_fmix32(a) >> (32 - XL4_VIP_INDEX_LOG2);
}

#define XL4_BE_F_DOWN (1u << 0) /* health checks failed: out of the ring */
#define XL4_BE_F_DRAIN (1u << 1) /* no new flows, existing flows stay */
#define XL4_BE_F_GONE (1u << 2) /* removed: conntrack entries pointing here are re-picked */

/* xl4_backends_v1 (array, index = backend id): where to send. Written by the daemon. */
/* xl4_bevip_v1 (array, index = backend id): each live backend's VIP, as xl4_vipid_v1 holds it
 * (XL4_VIP_F_LIVE set), zero for an id no VIP uses. Derived state, written by the daemon with
 * every write of a VIP's copy by id, cleared before the VIP goes and when the backend goes,
 * and rebuilt whole at start. It is what the established lane reads: a flow names its backend,
 * and the backend and its VIP are then two lookups by the same id, side by side, not one
 * after the other (backend, then its vip_id, then the VIP: ~3.5 ns of every forwarded packet,
 * docs/performance.md round twenty-four). The lane takes a copy only when its id is the
 * backend's vip_id; otherwise the LB stage decides by the chain. */

struct xl4_backend {
	__be32 addr[4];	 /* backend address (IPv4 in addr[0]); outer destination for ipip */
	__u8 mac[6];	 /* next-hop MAC toward the backend */
	__be16 port;	 /* port mode: destination port on the backend */
	__u8 family;	 /* 4 or 6 */
	__u8 flags;	 /* XL4_BE_F_* */
	__u16 gen;	 /* bumped when the id is reused, so stale conntrack entries re-pick */
	__u32 vip_id;	 /* the VIP this backend serves */
};
_Static_assert(sizeof(struct xl4_backend) == 32, "xl4_backend layout");

/* The connection table: client->VIP 5-tuple -> its flow, one LRU hash per family. IPv6 flows
 * live in xl4_ct_v1 under struct xl4_flow_key; IPv4 flows in xl4_ct4_v1 under the 16 bytes of
 * struct xl4_flow_key4, which the kernel hashes in one jhash round where the 40-byte key takes
 * three (~12 ns of every lookup and insert). struct xl4_flow_key stays the flow's identity for
 * hashing (Maglev, the SYN slots): every node and every build picks the same backend. */
struct xl4_flow_key {
	__be32 saddr[4];
	__be32 daddr[4];
	__be16 sport;
	__be16 dport;
	__u8 proto;
	__u8 family;
	__u16 _pad;
};
_Static_assert(sizeof(struct xl4_flow_key) == 40, "xl4_flow_key layout");

struct xl4_flow_key4 {
	__be32 saddr;
	__be32 daddr;
	__be16 sport;
	__be16 dport;
	__u8 proto;
	__u8 _pad[3];
} __attribute__((aligned(8))); /* written as two 64-bit words: xl4_flow_key4_set() */
_Static_assert(sizeof(struct xl4_flow_key4) == 16, "xl4_flow_key4 layout");

/* The key from its fields, stored as two whole 64-bit words. The kernel hashes a key by 32-bit
 * words and compares it by 64-bit ones, and a load that spans several narrower stores cannot
 * take its data from them: it waits until they reach the cache (on the Xeon VM ~3 ns of every
 * lookup; docs/performance.md, round twenty-four). The layout is little-endian's, as BPF's
 * (bpfel) and the hosts xl4 builds for. */
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
/* The key's two words (the flow cache compares them: bpf/flow_cache.h). */
static inline void xl4_flow_key4_words(__u64 w[2], __be32 saddr, __be32 daddr, __be16 sport,
				       __be16 dport, __u8 proto)
{
	w[0] = (__u64)saddr | (__u64)daddr << 32;
	w[1] = (__u64)sport | (__u64)dport << 16 | (__u64)proto << 32;
}

/* The flow cache's slot for key words w (struct xl4_fcache_slot): the high bits of their
 * multiplicative hash; shift is 64 - log2(slots). */
static inline __u32 xl4_fcache_index(const __u64 w[2], __u32 shift)
{
	return (__u32)(((w[0] ^ w[1]) * 0x9e3779b97f4a7c15ull) >> (shift & 63));
}
#endif

static inline void xl4_flow_key4_set(struct xl4_flow_key4 *k4, __be32 saddr, __be32 daddr,
				     __be16 sport, __be16 dport, __u8 proto)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	__u64 w[2];

	xl4_flow_key4_words(w, saddr, daddr, sport, dport, proto);
	__builtin_memcpy(k4, w, sizeof(w));
#else
	*k4 = (struct xl4_flow_key4){ .saddr = saddr, .daddr = daddr, .sport = sport,
				      .dport = dport, .proto = proto };
#endif
}

/* An IPv4 flow's xl4_ct4_v1 key (fk->family == 4). */
static inline void xl4_flow_key4_of(struct xl4_flow_key4 *k4, const struct xl4_flow_key *fk)
{
	xl4_flow_key4_set(k4, fk->saddr[0], fk->daddr[0], fk->sport, fk->dport, fk->proto);
}

struct xl4_flow {
	__u32 backend_id;
	__u16 gen;	/* backend generation at insert */
	__u16 flags;	/* XL4_FLOW_F_*; 0 in entries an older datapath wrote (its padding) */
	__u32 hash;	/* the flow hash (valid with XL4_FLOW_F_HASH): ipip's outer source */
	__u32 last_s;	/* last packet, in 2^30 ns units (~1.07 s) of the datapath's clock */
};
#define XL4_FLOW_F_HASH (1u << 0)
#define XL4_FLOW_TOUCH_SHIFT 30
_Static_assert(sizeof(struct xl4_flow) == 16, "xl4_flow layout");

/*
 * The established lane's flow cache, xl4_fcache_v1 (per-CPU array, direct-mapped, not
 * pinned: the program's own): a copy of an IPv4 entry of xl4_ct4_v1 under its key's two
 * words, good for one epoch, so that a flow's packets skip the table's hash lookup (~8 ns)
 * while its copy is good. An epoch is 2^XL4_FCACHE_EPOCH_SHIFT ns (~268 ms) of the datapath's
 * clock plus the generation in xl4_fcgen_v1, which whoever changes or deletes an IPv4 entry
 * moves (the datapath atomically; user space after writing the table): every copy taken
 * before goes. bpf/flow_cache.h, docs/architecture.md.
 */
#define XL4_MAP_FCACHE_GEN "xl4_fcgen_v1"
#define XL4_FCACHE_EPOCH_SHIFT 28
#define XL4_FCACHE_SLOTS_DEFAULT 16384 /* per CPU: 512 KiB (round twenty-five) */
#define XL4_FCACHE_SLOTS_MIN 256
#define XL4_FCACHE_SLOTS_MAX 65536
/* A size the cache can have (the slot index is the high bits of a hash). */
static inline int xl4_fcache_slots_ok(__u64 n)
{
	return n >= XL4_FCACHE_SLOTS_MIN && n <= XL4_FCACHE_SLOTS_MAX && !(n & (n - 1));
}

struct xl4_fcache_slot {
	__u64 key[2];	   /* the struct xl4_flow_key4 as stored (xl4_flow_key4_words()) */
	struct xl4_flow f; /* the entry as copied; f.last_s holds the epoch it was copied in */
};
_Static_assert(sizeof(struct xl4_fcache_slot) == 32, "xl4_fcache_slot layout");

struct xl4_fcache_gen {
	__u64 gen;
};

/* xl4_lbglob_v1 (array, 1 entry): deployment-wide settings, written by the daemon. */
struct xl4_lb_globals {
	__u32 seed;	     /* Maglev flow-hash seed: identical on every node of a cluster */
	__u32 ring_size;     /* Maglev table size M (prime) */
	__u32 ct_inserts_per_sec; /* per-CPU cap on new conntrack entries (0: no cap) */
	__be32 ipip_src4;    /* outer IPv4 source base (a /16 .. /24 prefix, low bits hashed) */
	__be32 ipip_src6[4]; /* outer IPv6 source base (low 16 bits hashed) */
	__u32 ipip_src4_mask; /* host bits of ipip_src4 varied per flow (RSS on backends) */
	__u32 too_big_per_sec; /* per-CPU cap on ICMP "too big" replies (0: no cap) */
};
_Static_assert(sizeof(struct xl4_lb_globals) == 40, "xl4_lb_globals layout");

/* xl4_icmpcfg_v1 (array, 1 entry): how ICMP errors about VIP flows are steered, written by
 * the daemon. (Its own map, not a field of xl4_lb_globals: a new layout of that pinned map
 * would make every upgrade refuse to start until 'xl4 cleanup'.) */
struct xl4_icmp_cfg {
	__u32 errors_per_sec; /* per-CPU cap on ICMP errors steered to backends (0: no cap) */
	__u32 _pad;
};
_Static_assert(sizeof(struct xl4_icmp_cfg) == 8, "xl4_icmp_cfg layout");

/* The smallest MTU a frag-needed / packet-too-big may announce: RFC 1191 (IPv4: 68, RFC 791's
 * minimum) and RFC 8201 (IPv6: 1280, RFC 8200's minimum link MTU). */
#define XL4_ICMP_MTU_MIN4 68
#define XL4_ICMP_MTU_MIN6 1280

/* Per-VIP (xl4_vstats_v2: what no backend counted), per-backend (xl4_bstats_v1) per-CPU counters
 * and removed backends' totals by VIP (xl4_vretired_v1; see bpf/maps.h). */
struct xl4_lb_counters {
	__u64 packets;
	__u64 bytes;
	__u64 new_flows;
	__u64 ct_hits;
	__u64 ct_misses;
	__u64 ct_insert_capped; /* misses forwarded statelessly: insert budget spent */
};
_Static_assert(sizeof(struct xl4_lb_counters) == 48, "xl4_lb_counters layout");

/* ---- Filter ------------------------------------------------------------------------------ */

#define XL4_MAP_ALLOW4 "xl4_allow4_v1"
#define XL4_MAP_ALLOW6 "xl4_allow6_v1"
#define XL4_MAP_BLOCK4 "xl4_block4_v1"
#define XL4_MAP_BLOCK6 "xl4_block6_v1"
#define XL4_MAP_RULE_DST "xl4_rdst_v1"
#define XL4_MAP_RULE_PORT "xl4_rport_v1"
#define XL4_MAP_RATE "xl4_rate_v1"
#define XL4_MAP_RULE_STATS "xl4_rstats_v1"
#define XL4_MAP_FILTER_GLOBALS "xl4_fglob_v1"

/* The datapath's clock (xl4_clock, a one-entry map read by address: bpf/maps.h; not pinned).
 * now = jiffies * tick_ns + offset_ns (mod 2^64), CLOCK_MONOTONIC to within one tick, both measured by the loader against
 * the kernel's jiffies (src/clock.c): bpf_jiffies64() is inlined by the verifier and costs
 * nothing, where a clock read costs 20-50 ns. With cfg_test_clock, test_ns is the time
 * (written by tests). */
struct xl4_clock {
	__u64 test_ns;
	__u64 tick_ns;	 /* 0: not calibrated; the datapath reads the coarse kernel clock */
	__u64 offset_ns;
};

#define XL4_MAX_RULES 4096
#define XL4_RULE_GLOBAL_LIMIT 0 /* rule id of the global per-source limit */

/* Allow/block lists: LPM tries keyed by source prefix. */
struct xl4_lpm4_key {
	__u32 prefixlen;
	__be32 addr;
};
struct xl4_lpm6_key {
	__u32 prefixlen;
	__be32 addr[4];
};
struct xl4_prefix_entry {
	__u64 expires_ns; /* CLOCK_MONOTONIC deadline (the datapath's clock: src/clock.c); 0 = never */
	__u32 id;	  /* shown in events: which entry matched */
	__u8 len;	  /* this entry's prefix length (to look for a shorter one if expired) */
	__u8 origin;	  /* user space only: 0 runtime, else the config generation (1/2) that
			   * wrote it, so a restart or reload removes what the file dropped */
	__u8 scope;	  /* blocklist: XL4_BLOCK_SCOPE_* (0 in entries older daemons wrote) */
	__u8 vip;	  /* XL4_BLOCK_SCOPE_SYN: the VIP id, or XL4_BLOCK_VIP_ANY */
};
/* Expired (or scoped) entries shadowing shorter ones: how many the datapath looks past before
 * giving up (XL4_LPM_EXPIRED_MAX + 1 entries at most; the blocklist then drops). */
#define XL4_LPM_EXPIRED_MAX 4

/* What a blocklist entry drops. A scoped entry that does not apply to a packet is looked past
 * (to a shorter entry), like an expired one: it never lets through what another entry blocks. */
#define XL4_BLOCK_SCOPE_ALL 0 /* every packet from the prefix (the operator's blocks) */
#define XL4_BLOCK_SCOPE_SYN 1 /* only TCP SYNs without ACK to one VIP (the analyzer's blocks):
			       * established flows, replies and other services stay untouched */
#define XL4_BLOCK_VIP_ANY 0xff /* XL4_BLOCK_SCOPE_SYN to any VIP */
_Static_assert(XL4_MAX_VIPS <= XL4_BLOCK_VIP_ANY, "a VIP id must fit xl4_prefix_entry.vip");
_Static_assert(sizeof(struct xl4_prefix_entry) == 16, "xl4_prefix_entry layout");

/*
 * The IPv4 lists' index (docs/filter.md, "How an IPv4 list is looked up"): a DIR-24-8 table
 * in three arrays user space writes through mmap (src/dir24.c), so the datapath finds the
 * longest prefix holding a source in two or three array lookups, however many there are.
 * The LPM trie stays the record (listing, restart) and is walked only past an entry that
 * does not decide (expired, or scoped elsewhere).
 *   idx[addr >> 8]: 0 (no prefix holds the /24), an entry id, or XL4_D24_GROUP | g;
 *   grp[g * 256 + (addr & 0xff)]: 0 or an entry id (the longest prefix holding the address);
 *   ent[id]: the entry. An idx slot may name a /25../32 entry alone in its /24: an address
 *   outside it takes the entry's `other` (the /24's longest covering prefix, or 0).
 *   A slot naming a /32 alone in its /24 with no covering prefix (`other` 0) that never
 *   expires and applies to every packet (scope all: the operator's host blocks) is "direct":
 *   XL4_D24_DIRECT | host byte << XL4_D24_HOST_SHIFT | id, and the datapath decides from the
 *   slot alone: the address's last byte is the host byte (a hit) or no prefix holds it. No
 *   entry is read (the blocklist's entries are 48 MiB: a cache miss saved under a flood).
 * Entry 0 is no prefix (user space keeps its high-water marks there). Every entry found is checked to hold the address; one that does not
 * (a slot read while user space moved it) sends the lookup to the trie, never to a miss.
 */
#define XL4_MAP_ALLOW4_IDX "xl4_a4idx_v2"
#define XL4_MAP_ALLOW4_GRP "xl4_a4grp_v2"
#define XL4_MAP_ALLOW4_ENT "xl4_a4ent_v2"
#define XL4_MAP_BLOCK4_IDX "xl4_b4idx_v2"
#define XL4_MAP_BLOCK4_GRP "xl4_b4grp_v2"
#define XL4_MAP_BLOCK4_ENT "xl4_b4ent_v2"
/* idx and grp are arrays of 16-slot rows: an array map's elements sit 8-byte aligned, so
 * single u32 values would not be contiguous in the mmapped view; rows are. */
#define XL4_D24_ROW 16
struct xl4_d24_row {
	__u32 s[XL4_D24_ROW];
};
#define XL4_D24_SLOTS (1u << 24)
#define XL4_D24_GROUP (1u << 31)
#define XL4_D24_DIRECT (1u << 30)
#define XL4_D24_HOST_SHIFT 22
#define XL4_D24_ID_MASK ((1u << XL4_D24_HOST_SHIFT) - 1) /* a slot's entry id or group */
#define XL4_D24_GROUP_LEAVES 256
#define XL4_ALLOW4_MAX 65536	/* entries on the IPv4 allowlist */
#define XL4_BLOCK4_MAX 2097152	/* entries on the IPv4 blocklist */
#define XL4_ALLOW6_MAX 65536	/* entries on the IPv6 allowlist */
#define XL4_BLOCK6_MAX 1048576	/* entries on the IPv6 blocklist */
#define XL4_ALLOW4_GROUPS 4096	/* /24s of the allowlist holding two or more longer prefixes */
#define XL4_BLOCK4_GROUPS_DEFAULT 65536 /* filter.ipv4_groups */
#define XL4_BLOCK4_GROUPS_MAX (1u << 22)
_Static_assert(XL4_BLOCK4_MAX < XL4_D24_ID_MASK && XL4_ALLOW4_MAX < XL4_D24_ID_MASK &&
		       XL4_BLOCK4_GROUPS_MAX - 1 <= XL4_D24_ID_MASK,
	       "entry ids and groups fit beside a direct slot's host byte");
struct xl4_d24_entry {
	struct xl4_prefix_entry e; /* as in the trie; e.id is this entry's id (0: a free slot) */
	__be32 addr;		   /* the prefix, host bits zero */
	__u32 other;		   /* see above; 0 in entries not alone in a /24 slot */
};
_Static_assert(sizeof(struct xl4_d24_entry) == 24, "xl4_d24_entry layout");

/* Destination rules, compiled in user space into two LPM lookups (src/filter_state.c):
 * the destination address selects a rule set (each set already holds the rules of every
 * shorter prefix), then (set, protocol, port prefix) selects the rule. */
struct xl4_rdst_key {
	__u32 prefixlen; /* 32 + address bits */
	__u8 family;	 /* 4 or 6 */
	__u8 _pad[3];
	__be32 addr[4];
};
_Static_assert(sizeof(struct xl4_rdst_key) == 24, "xl4_rdst_key layout");

struct xl4_rport_key {
	__u32 prefixlen; /* 48 + port bits */
	__be32 set;	 /* rule set id from xl4_rdst_v1 */
	__u8 proto;
	__u8 _pad;	 /* always 0 (inside the prefix) */
	__be16 port;
};
_Static_assert(sizeof(struct xl4_rport_key) == 12, "xl4_rport_key layout");

enum xl4_rule_action {
	XL4_RULE_ALLOW = 1, /* pass on (skips the flood guard; still load-balanced) */
	XL4_RULE_DROP = 2,
	XL4_RULE_LIMIT = 3, /* per-source token bucket */
};

struct xl4_rule {
	__u32 id;	/* index into xl4_rstats_v1 */
	__u8 action;	/* enum xl4_rule_action */
	__u8 v6_prefix; /* limit: IPv6 sources are grouped by this prefix length (e.g. 64) */
	__u16 _pad;
	__u32 rate;	/* limit: packets per second */
	__u32 burst;	/* limit: bucket depth in packets */
};
_Static_assert(sizeof(struct xl4_rule) == 16, "xl4_rule layout");

/* Per-source buckets (LRU hash). */
struct xl4_rate_key {
	__be32 src[4]; /* IPv4 in src[0]; IPv6 masked to the rule's v6_prefix */
	__u32 rule;
	__u8 family;
	__u8 _pad[3];
};
_Static_assert(sizeof(struct xl4_rate_key) == 24, "xl4_rate_key layout");

struct xl4_rate_bucket {
	__u64 last_ns;
	__u64 milli_tokens; /* thousandths of a packet, so slow rates refill smoothly */
};

/* Global filter settings (array, 1 entry). */
struct xl4_filter_globals {
	struct xl4_rule limit;	     /* global per-source limit (action XL4_RULE_LIMIT) or 0 */
	__u32 rate_inserts_per_sec;  /* per-CPU budget of new buckets; beyond it sources share */
	__u32 has_rules;	     /* 0: skip the rule lookups altogether */
	__u32 lists;		     /* XL4_LISTS_*: which lists hold entries (empty ones are skipped) */
	__u32 _pad;
};
_Static_assert(sizeof(struct xl4_filter_globals) == 32, "xl4_filter_globals layout");

/* Bits of xl4_filter_globals.lists. User space sets a bit before a list's first entry goes in
 * and clears it after its last one left, so skipping a list never skips an entry. */
#define XL4_LISTS_ALLOW4 (1u << 0)
#define XL4_LISTS_ALLOW6 (1u << 1)
#define XL4_LISTS_BLOCK4 (1u << 2)
#define XL4_LISTS_BLOCK6 (1u << 3)

/* Per-rule per-CPU counters (xl4_rstats_v1). */
struct xl4_rule_counters {
	__u64 matched;
	__u64 dropped;
};

/* ---- Flood guard (bpf/guard.h, docs/guard.md) ------------------------------------------------ */

#define XL4_MAP_GUARD_CFG "xl4_gcfg_v2"
#define XL4_MAP_GUARD_CTL "xl4_gctl_v1"
#define XL4_MAP_GUARD_VIP "xl4_gvip_v1"
#define XL4_MAP_GUARD_STATS "xl4_gstat_v2" /* v2: 16 buckets of 67 ms (v1: 4 of 268 ms) */
#define XL4_MAP_GUARD_GREY "xl4_ggrey_v1"
#define XL4_MAP_GUARD_SYN "xl4_gsyn_v1"
#define XL4_MAP_GUARD_VERIFIED "xl4_gver_v1"
#define XL4_MAP_GUARD_VERIFIED_COOKIE "xl4_gverc_v1"
#define XL4_MAP_GUARD_VBITS "xl4_gvbit_v1" /* not pinned: the program's own (engine.c) */
#define XL4_MAP_GUARD_VBITS_NEW "xl4_gvnew_v1" /* the same */
#define XL4_MAP_GUARD_CHAL_BUDGET "xl4_gchbud_v1"
#define XL4_MAP_GUARD_COOKIE_KEYS "xl4_gckey_v1"
#define XL4_MAP_GUARD_WINDOWS "xl4_gwin_v1"
#define XL4_MAP_GUARD_SOURCES "xl4_gsrc_v2"

/* The kernel judges each CPU's SYN and completing-ACK counts over a sliding window of
 * XL4_GUARD_BUCKETS buckets of 2^XL4_GUARD_BUCKET_SHIFT ns (16 x 67 ms: about 1.07 s), once per
 * bucket: enter_ms and escalate_ms take effect to within a bucket (docs/guard.md). */
#define XL4_GUARD_BUCKET_SHIFT 26
#define XL4_GUARD_BUCKETS 16
#define XL4_GUARD_WINDOW_NS ((__u64)XL4_GUARD_BUCKETS << XL4_GUARD_BUCKET_SHIFT)
/* In normal mode a CPU passes a VIP's SYNs that do not complete at guard.surge_rate's pace
 * from the start of each bucket, plus this many, before First Drop takes the rest (the surge
 * cap, bpf/guard.h guard_surge_capped()). */
#define XL4_GUARD_SURGE_BURST 32
/* Another CPU's published window counts while it ends at most this many buckets before the
 * judge's (268 ms): a CPU that saw no SYN for the VIP for longer has nothing to add. */
#define XL4_GUARD_WIN_FRESH 4
/* Challenge cookies are keyed by a time slice of 2^33 ns (8.6 s); the current and the previous
 * slice are accepted, so an answer is good for 8.6 to 17 s. */
#define XL4_GUARD_COOKIE_SHIFT 33
/* A SYN remembered in xl4_gsyn_v1 makes its flow's first ACK a completing ACK for this long. */
#define XL4_GUARD_SYN_TTL_NS 10000000000ull

enum xl4_guard_response {
	XL4_GUARD_RESP_FIRST_DROP = 0, /* emergency: First Drop */
	XL4_GUARD_RESP_CHALLENGE = 1,  /* emergency: SYN-ACK challenge straight away */
	XL4_GUARD_RESP_AUTO = 2,       /* First Drop, escalating to the challenge when beaten */
};

enum xl4_guard_override {
	XL4_GUARD_OV_AUTO = 0, /* the kernel's own judgement (and the analyzer's) */
	XL4_GUARD_OV_ON = 1,   /* forced into emergency mode */
	XL4_GUARD_OV_OFF = 2,  /* never in emergency mode */
};

enum xl4_guard_level {
	XL4_GUARD_NORMAL = 0,
	XL4_GUARD_FIRST_DROP = 1,
	XL4_GUARD_CHALLENGE = 2,
};

enum xl4_guard_cause {
	XL4_GUARD_CAUSE_NONE = 0,
	XL4_GUARD_CAUSE_RATIO = 1,     /* SYN rate and SYN:ACK ratio over thresholds (kernel) */
	XL4_GUARD_CAUSE_ESCALATED = 2, /* First Drop beaten: admitted SYNs did not complete */
	XL4_GUARD_CAUSE_FORCED = 3,    /* xl4 guard set VIP on, or the analyzer */
	XL4_GUARD_CAUSE_OVERRUN = 4,   /* First Drop beaten: the flood turns the greylist over
					* faster than a retransmission comes back */
	XL4_GUARD_CAUSE_SURGE = 5,     /* an attack window of surge_min SYNs, before enter_ms */
};

/* xl4_gcfg_v2 (array, 1 entry): written by the daemon, rebuilt from the config at every start
 * (an older version's pin is replaced, not refused: it holds nothing else). Thresholds are on
 * the VIP's totals: every CPU's last window summed (xl4_gwin_v1). */
struct xl4_guard_cfg {
	__u32 enabled;	     /* 0: the guard neither counts nor acts */
	__u32 response;	     /* enum xl4_guard_response */
	__u32 syn_min;	     /* per VIP per window: fewer SYNs than this are never an attack */
	__u32 ratio_x100;    /* a window is an attack when SYN * 100 > ratio_x100 * (ACK + 1) */
	__u32 enter_ms;	     /* attack windows this long enter emergency mode */
	__u32 leave_ms;	     /* no attack window this long: back to normal */
	__u32 escalate_ms;   /* auto: First Drop beaten this long escalates to the challenge */
	__u32 fd_min_ms;     /* First Drop: a repeat sooner than this is not a retransmission */
	__u32 fd_max_ms;     /* ...and later than this starts over */
	__u32 verified_ttl_s;	 /* a verified source stays verified this long */
	__u32 challenge_per_sec; /* per CPU cap on SYN-ACK challenges (0: none) */
	__u32 grey_mask;     /* xl4_ggrey_v1 entries (buckets of XL4_GUARD_GREY_WAYS) - 1, a power of 2 */
	__u32 syn_mask;	     /* xl4_gsyn_v1 entries - 1 (a power of two) */
	__u32 src_bits_min;  /* First Drop counts as beaten by SYNs that do not complete only with
			      * this many sketch bits set (guard.min_sources; xl4_guard_srcs) */
	__u32 fd_cap;	     /* unverified SYNs per window the greylist holds for first_drop.hold_ms;
			      * more and First Drop is beaten (auto escalates) */
	__u32 v6_prefix;     /* IPv6 sources are verified per prefix of this length (one host
			      * owns a /64: per address, one /64 could fill the table) */
	__u32 verify_per_sec; /* per CPU cap on new First Drop verifications (0: none) */
	__u32 surge_min;     /* an attack window of this many SYNs enters emergency mode at once,
			      * not after enter_ms (guard.surge_rate; 0: never; at least syn_min) */
	__u32 key[4];	     /* secret: [0] the source sketch's hash, [1..3] slot hashes (greylist,
			      * SYN table) */
};
_Static_assert(sizeof(struct xl4_guard_cfg) == 88, "xl4_guard_cfg layout");

/*
 * xl4_gwin_v1 (array, per VIP id): each CPU's last complete window, published by that CPU when
 * it rolls to a new bucket (in its own 64-byte slot: CPU id & (XL4_GUARD_WIN_CPUS - 1)), so the
 * CPU judging can sum the VIP's totals. A slot more than XL4_GUARD_WIN_FRESH buckets older than
 * the judge's is stale (that CPU saw no SYN for the VIP since) and counts as empty. With more than
 * XL4_GUARD_WIN_CPUS CPUs, CPUs share slots and the totals undercount (by the sharers' share).
 */
#define XL4_GUARD_WIN_CPUS 128
struct xl4_guard_win {
	__u64 bucket; /* the bucket the window ends before (now >> XL4_GUARD_BUCKET_SHIFT) */
	__u32 syn, ack, adm;
	__u32 pack;   /* completing ACKs at First Drop from sources a cookie proved */
	__u64 srcs;   /* the window's source sketch (xl4_guard_srcs) */
	__u64 _line[4];
};
_Static_assert(sizeof(struct xl4_guard_win) == 64, "one cache line per CPU");
struct xl4_guard_wins {
	struct xl4_guard_win cpu[XL4_GUARD_WIN_CPUS];
};

/*
 * xl4_gsrc_v2 (per-CPU array, per VIP id): how many distinct sources sent SYNs, per bucket, as
 * a 64-bit linear-counting sketch: each SYN sets bit (keyed hash of its source) & 63, the
 * source being an IPv4 address or an IPv6 /64 (one host owns a /64). n distinct sources set
 * about 64 * (1 - (63/64)^n) bits: 8 sources ~7.6 bits, 64 ~40. Keyed (cfg.key[0]), so
 * spoofed sources cannot be chosen to land on one bit and pass for a single host.
 */
struct xl4_guard_srcs {
	__u64 bucket[XL4_GUARD_BUCKETS];
	__u64 bits[XL4_GUARD_BUCKETS];
	/* completing ACKs seen at First Drop from sources a cookie proved: the only ones that
	 * say a handshake really completed (the balancer never sees the backend's ISN, so a
	 * spoofer can complete its own), per bucket like bits */
	__u32 pack[XL4_GUARD_BUCKETS];
};

/*
 * xl4_gckey_v1 (array, 1 entry): the challenge cookie's SipHash-2-4 keys, rotated by the
 * daemon. Time is cut into epochs of `slices` cookie slices; epoch E's key sits in key[E % 3].
 * A cookie is checked against its own slice's key, so the previous epoch's key keeps answering
 * while the last cookies it made are still good. The daemon draws epoch E+1's key into the
 * slot nobody reads (E+1 == E-2 mod 3) during epoch E, so a reader never sees a key change
 * under it. epoch[] says which epoch each slot's key was drawn for (the daemon's bookkeeping).
 * No key yet (all zero, before the daemon's first start): the challenge fails closed.
 */
#define XL4_GUARD_COOKIE_KEYS 3
struct xl4_guard_ckeys {
	__u32 slices; /* cookie slices per key epoch (>= 1) */
	__u32 _pad;
	__u64 key[XL4_GUARD_COOKIE_KEYS][2];
	__u64 epoch[XL4_GUARD_COOKIE_KEYS];
};
_Static_assert(sizeof(struct xl4_guard_ckeys) == 80, "xl4_guard_ckeys layout");

/* xl4_gctl_v1 (array, per VIP id): the operator's (or analyzer's) say; written by the daemon. */
struct xl4_guard_ctl {
	__u32 override; /* enum xl4_guard_override */
	__u32 level;	/* forced on: enum xl4_guard_level to use (0: by cfg.response) */
};
_Static_assert(sizeof(struct xl4_guard_ctl) == 8, "xl4_guard_ctl layout");

/* xl4_gvip_v1 (array, per VIP id): the mode, written by the datapath (any CPU). Emergency
 * while entered_ns != 0 and now - last_bad_ns < leave_ms (the kernel clears it lazily; user
 * space applies the same rule when it reads). entered_ns is the mode in one word, so that one
 * 8-byte store changes it whole: the level in bits 0-1, the cause in bits 2-4
 * (XL4_GUARD_MODE_*); the datapath leaves `level` and `cause` 0;
 * xl4_guard_mode_decode() (src/guard_state.c) fills them from the word for user space. */
#define XL4_GUARD_MODE(t, level, cause) (((t) & ~31ull) | ((__u64)(cause) << 2) | (level))
#define XL4_GUARD_MODE_LEVEL(m) ((__u32)(m) & 3)
#define XL4_GUARD_MODE_CAUSE(m) (((__u32)(m) >> 2) & 7)
struct xl4_guard_vip {
	__u64 entered_ns;  /* the mode word: when emergency began, level and cause in the low bits; 0: normal */
	__u64 last_bad_ns; /* the last window any CPU judged an attack */
	__u32 level;	   /* 0 in the map; decoded from entered_ns by user space */
	__u32 cause;	   /* likewise */
	__u32 win_syn;	   /* the window that tripped it (the VIP's totals over all CPUs), for "why" */
	__u32 win_ack;
};
_Static_assert(sizeof(struct xl4_guard_vip) == 32, "xl4_guard_vip layout");

/* xl4_gstat_v2 (per-CPU array, per VIP id): the sliding window and counters. */
struct xl4_guard_stats {
	__u64 bucket;	 /* current bucket number: now >> XL4_GUARD_BUCKET_SHIFT */
	__u64 bad_since; /* start of this CPU's run of attack windows (0: none) */
	__u64 esc_since; /* start of this CPU's run of "First Drop beaten" windows */
	__u32 syn[XL4_GUARD_BUCKETS]; /* client SYNs */
	__u32 ack[XL4_GUARD_BUCKETS]; /* completing ACKs */
	__u32 adm[XL4_GUARD_BUCKETS]; /* SYNs let through in emergency mode */
	/* totals (monotonic), for rates and metrics */
	__u64 syns;
	__u64 acks;
	__u64 fd_dropped;    /* first SYNs dropped */
	__u64 fd_early;	     /* repeats too early */
	__u64 fd_admitted;   /* retransmissions admitted (source verified) */
	__u64 chal_sent;     /* SYN-ACK challenges sent */
	__u64 chal_budget;   /* SYNs dropped, challenge budget spent */
	__u64 chal_passed;   /* RSTs with a good cookie (source verified) */
	__u64 chal_failed;   /* RSTs in challenge mode with a wrong or stale cookie */
	__u64 verified_pass; /* SYNs from verified sources in emergency mode */
	__u64 emergencies;   /* times this CPU put the VIP into emergency mode */
};
_Static_assert(sizeof(struct xl4_guard_stats) == 304, "xl4_guard_stats layout");

/* xl4_ggrey_v1 (First Drop greylist): an array of buckets indexed by a keyed hash, each
 * holding XL4_GUARD_GREY_WAYS (tag, first-seen) pairs; a new key takes its bucket's oldest
 * pair. Nothing is inserted, so there is nothing to fill: a flood only shortens how long a
 * first SYN is remembered, and with four ways a real client's entry outlives a flood of
 * buckets x 0.8 SYNs per second for its 1 s retransmission 99 times in 100. */
#define XL4_GUARD_GREY_WAYS 4
#define XL4_GUARD_GREY_TICK_SHIFT 20 /* first-seen times in units of 2^20 ns (1.05 ms) */
struct xl4_guard_grey {
	__u32 tag[XL4_GUARD_GREY_WAYS];	 /* a second keyed hash of the key (0: empty) */
	__u32 tick[XL4_GUARD_GREY_WAYS]; /* first SYN seen: (ns >> TICK_SHIFT), mod 2^32 */
};
_Static_assert(sizeof(struct xl4_guard_grey) == 32, "xl4_guard_grey layout");

/* xl4_gsyn_v1 (SYNs awaiting their completing ACK): an array indexed by the flow hash; a slot
 * is overwritten, never inserted. */
struct xl4_guard_slot {
	__u32 tag;	  /* a second keyed hash of the key (0: empty) */
	__u32 backend_id; /* xl4_gsyn_v1: the backend the SYN went to */
	__u16 gen;	  /* ...and its generation */
	__u16 _pad;
	__u32 _pad2;
	__u64 ts_ns;	  /* when the SYN was seen */
};
_Static_assert(sizeof(struct xl4_guard_slot) == 24, "xl4_guard_slot layout");

/* xl4_gver_v1 (LRU hash): sources First Drop verified -> expiry (ns, the datapath's clock);
 * xl4_gverc_v1 (LRU hash, the same size): the tuples (source and its port) whose challenge
 * cookie was answered, apart so that First Drop proofs (which a spoofer repeating its SYNs can
 * give) never evict them; their expiry has bit 0 set (XL4_GUARD_VERIFIED_COOKIE), and bit 1
 * (XL4_GUARD_VERIFIED_USED) once the proof has admitted its SYN: a cookie proof admits one SYN
 * of the tuple it was made for, since any live host answers a SYN-ACK it did not ask for
 * (docs/guard.md: an attacker who spoofs one SYN from it would otherwise have the whole
 * source verified), and bit 2 (XL4_GUARD_VERIFIED_ACKED) once that SYN's completing ACK has
 * counted for First Drop's escalation test. The challenge level trusts only those. The
 * expiry's low three bits are flags: compare (exp & ~XL4_GUARD_VERIFIED_FLAGS) with the clock. IPv6 keys are the source's cfg.v6_prefix (the
 * rest zero). port is 0 in xl4_gver_v1 (a First Drop proof is the source's). */
#define XL4_GUARD_VERIFIED_COOKIE 1ull
#define XL4_GUARD_VERIFIED_USED 2ull
#define XL4_GUARD_VERIFIED_ACKED 4ull /* its SYN's completing ACK was counted (guard_note_ack) */
#define XL4_GUARD_VERIFIED_FLAGS 7ull
#define XL4_GUARD_COOKIE_PROOF_TTL_S 60 /* a proof waits this long for its SYN (at most) */
struct xl4_guard_src {
	__be32 addr[4]; /* IPv4 in addr[0] */
	__u16 family;	/* 4 or 6 */
	__be16 port;	/* xl4_gverc_v1: the client's port the cookie was for; else 0 */
};
_Static_assert(sizeof(struct xl4_guard_src) == 20, "xl4_guard_src layout");

/* xl4_gvbit_v1 (array of 64-bit words, BPF_F_MMAPABLE, not pinned): one bit per source either
 * verified table may hold, set by the datapath with each proof and rebuilt from both tables by
 * the loader. A clear bit proves "not verified", and a SYN from a source never seen (a spoofed
 * flood) is judged without the tables' lookups, each a cache miss in a table sized for a flood;
 * a set bit may be a collision, and the tables decide as before. The daemon rewrites the bits
 * from the tables every 5 s (src/guard_vbits.h), so an expired or evicted source's bit goes
 * then (a false positive meanwhile costs the lookups it would have cost anyway). The hash is
 * not keyed: whoever aims a flood at the bits of sources it knows are verified gets the
 * lookups back, never a pass.
 *
 * Two halves of 2^log2 bits each: first the cookie-proven sources' (xl4_gverc_v1), then
 * those of either table. The challenge level asks only the first, which a spoofer cannot fill
 * (it would have to answer cookies from the addresses it forges), so however many sources an
 * attack gets verified at First Drop (verify_per_second lets it fill that table in seconds), a
 * challenged flood SYN still skips the lookup; First Drop, which trusts both tables, asks the
 * second. One read a SYN either way. Each half is sized by guard.verified_max
 * (xl4_guard_vbits_log2()): 4 bits per source a table may hold, at least 2^20, so a full
 * cookie table sets at most ~22% of its half (two full tables ~39% of the other). The loader
 * sets the map (max_entries: 2 * 2^(log2 - 6) words) and the program's cfg_gvbits_log2
 * together; user space reads the size from the map.
 *
 * xl4_gvnew_v1 (array of 2^(log2 - 6) words, BPF_F_MMAPABLE, not pinned): each proof also sets
 * its source's bit index here. The daemon clears it when it copies the bits before a walk of
 * the tables, so at the refresh it names every bit a proof set since, even one a stale source
 * already held (which the copy cannot tell apart): the refresh keeps those. On the datapath
 * only a proof touches it, never a flood's SYN. */
#define XL4_GUARD_VBITS_LOG2_MIN 20 /* 128 KiB a half: 262,144 sources (the config's default) */
#define XL4_GUARD_VBITS_LOG2_MAX 26 /* 8 MiB a half: 2^24 sources, verified_max's maximum */
#define XL4_GUARD_VBITS_COOKIE 0u /* the halves: cookie proofs */
#define XL4_GUARD_VBITS_ANY 1u	  /* proofs of either kind */

static inline __u32 xl4_guard_vbits_log2(__u32 verified_max)
{
	__u32 log2 = XL4_GUARD_VBITS_LOG2_MIN;

	while (log2 < XL4_GUARD_VBITS_LOG2_MAX && (1ull << log2) < 4ull * verified_max)
		log2++;
	return log2;
}

/* A source key's bit among 2^log2: its five words mixed, then a multiplicative hash (its top
 * bits); computed alike on both sides (the words as they lie in memory). A cookie proof's port
 * is in it (a flood spoofing a proven source from other ports finds its bits clear); a
 * First Drop proof's is 0, which leaves its bit where it always was. */
static inline __u32 xl4_guard_vbit(const struct xl4_guard_src *k, __u32 log2)
{
	__u32 h = ((__u32)k->family | (__u32)k->port << 16) * 0x9e3779b1u;

	for (int i = 0; i < 4; i++) {
		h ^= k->addr[i];
		h *= 0x85ebca6bu;
		h ^= h >> 13;
	}
	return (__u32)(h * 2654435761u) >> ((32 - log2) & 31);
}

/* ---- Backend agent (TC) -------------------------------------------------------------------- */

#define XL4_MAP_AGENT_PORTS "xl4_aports_v1"

/* xl4_aports_v1 (hash), port mode on a backend: replies from (VIP address, backend port,
 * proto) get their source port rewritten back to the VIP port. */
struct xl4_agent_port_key {
	__be32 addr[4]; /* the VIP address (the reply's source) */
	__be16 port;	/* backend port (the reply's source port before rewrite) */
	__u8 proto;
	__u8 family;
};
_Static_assert(sizeof(struct xl4_agent_port_key) == 20, "xl4_agent_port_key layout");
/* value: __be16 VIP port */

#endif /* XL4_ABI_H */
