// SPDX-License-Identifier: GPL-2.0
/*
 * The backend agent: two TC programs that undo on a backend what the balancer did on the way
 * in, so the backend needs no tunnel module and no NAT.
 *
 *   xl4_agent_in  (ingress) strips the outer IPv4 (protocol 4) or IPv6 (next header 41) header
 *                 of an ipip-mode packet whose INNER destination is a VIP in xl4_avips_v1.
 *   xl4_agent_out (egress)  port mode: a reply leaving from (VIP, backend port) gets its
 *                 source port set back to the VIP port from xl4_aports_v1, checksum fixed.
 *
 * Ingress decapsulates only from the balancers' outer sources (xl4_afrom_v1) and only for
 * this host's own outer destinations (xl4_alocal_v1). An encapsulated packet whose inner
 * destination is a VIP and that fails a check is dropped with TC_ACT_SHOT and counted by
 * reason: passed on, a tunnel device (tunl0, ip6tnl0) would decapsulate it from anyone.
 * Everything else passes untouched with TC_ACT_UNSPEC, so filters behind ours still run.
 * Helpers only from kernel 5.15; no kfuncs, no loops beyond a fixed unrolled VLAN walk.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/pkt_cls.h>
#include <linux/tcp.h>
#include <linux/udp.h>

#include "compat.h"
#include "eth.h"
#include "xl4/agent_abi.h"

char LICENSE[] SEC("license") = "GPL";

#define AGENT_VLAN_MAX 2
#define AGENT_IP_MF 0x2000
#define AGENT_IP_OFFSET 0x1fff
#define AGENT_IP6_OFFSET 0xfff8 /* the Fragment header's offset, above its flags */

/* VIP addresses: decapsulate when the inner destination is one. Written by `xl4 agent`. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, XL4_AGENT_MAX_VIPS);
	__type(key, struct xl4_agent_vip_key);
	__type(value, struct xl4_agent_vip);
} xl4_avips_v1 SEC(".maps");

/* Port mode: (VIP address, backend port, proto, family) -> VIP port (__be16). Written by
 * `xl4 agent`. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, XL4_AGENT_MAX_PORTS);
	__type(key, struct xl4_agent_port_key);
	__type(value, __be16);
} xl4_aports_v1 SEC(".maps");

/* Per-CPU packet/byte counters indexed by enum xl4_agent_stat. Written only here. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XL4_AS_MAX);
	__type(key, __u32);
	__type(value, struct xl4_counter);
} xl4_astats_v2 SEC(".maps");

/* What `xl4 agent` changed outside its maps (sysctls, qdisc), for --remove. User space only;
 * declared here so the object owns every map the agent pins. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xl4_agent_state);
} xl4_astate_v1 SEC(".maps");

/* The only outer sources decapsulated from (`xl4 agent --from` or -c). Empty: none. */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, XL4_AGENT_MAX_FROM);
	__type(key, struct xl4_agent_from_key);
	__type(value, __u32);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} xl4_afrom_v1 SEC(".maps");

/* The only outer destinations decapsulated for: this host's addresses (`xl4 agent --to`,
 * default IFACE's). Written by `xl4 agent`. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, XL4_AGENT_MAX_LOCAL);
	__type(key, struct xl4_agent_vip_key);
	__type(value, __u32);
} xl4_alocal_v1 SEC(".maps");

struct agent_vlan_hdr {
	__be16 tci;
	__be16 encap_proto;
};

/* Walk the VLAN tags still in the data (at most AGENT_VLAN_MAX) from *pos, *proto the
 * ethertype before them; both moved past them. The tags walked, or -1 when one is cut short
 * or, with priority_only, carries a VID (not a priority tag). */
static __always_inline int agent_walk_tags(void **pos, void *end, __be16 *proto, int priority_only)
{
	int tags = 0;

	XL4_UNROLL
	for (int i = 0; i < AGENT_VLAN_MAX; i++) {
		struct agent_vlan_hdr *vh = *pos;

		if (*proto != bpf_htons(ETH_P_8021Q) && *proto != bpf_htons(ETH_P_8021AD))
			break;
		if ((void *)(vh + 1) > end || (priority_only && (vh->tci & bpf_htons(0x0fff))))
			return -1;
		*proto = vh->encap_proto;
		*pos = vh + 1;
		tags++;
	}
	return tags;
}

static __always_inline void agent_count(__u32 idx, __u32 bytes)
{
	struct xl4_counter *c = bpf_map_lookup_elem(&xl4_astats_v2, &idx);

	if (c) {
		c->packets++;
		c->bytes += bytes;
	}
}

/* Headers may sit partly in paged data (header-split drivers, GRO). Pull the first `want`
 * bytes into the linear area only when they are not there already, which is the rare case. */
static __always_inline void agent_pull(struct __sk_buff *skb, __u32 want)
{
	__u32 lin = skb->data_end - skb->data;

	if (want > skb->len)
		want = skb->len;
	if (lin < want)
		bpf_skb_pull_data(skb, want);
}

static __always_inline __u16 agent_ip4_csum(const struct iphdr *ip)
{
	const __u16 *w = (const __u16 *)ip;
	__u32 sum = 0;

	XL4_UNROLL
	for (int i = 0; i < 10; i++)
		sum += w[i];
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)~sum;
}

/* Is addr (words: 1 or 4 of them) a key of map, an address set keyed like xl4_avips_v1? */
static __always_inline int agent_addr_in(void *map, const __be32 *addr, int words, __u8 family)
{
	struct xl4_agent_vip_key k = { .family = family };

	k.addr[0] = addr[0];
	if (words == 4) {
		k.addr[1] = addr[1];
		k.addr[2] = addr[2];
		k.addr[3] = addr[3];
	}
	return bpf_map_lookup_elem(map, &k) != NULL;
}

/* Does an allowed outer source prefix hold addr? No prefix of the family: no. */
static __always_inline int agent_from_ok(const __be32 *addr, int words, __u8 family)
{
	struct xl4_agent_from_key k = { .prefixlen = 32 + 32 * words, .family = family };

	__builtin_memcpy(k.addr, addr, 4 * words);
	return bpf_map_lookup_elem(&xl4_afrom_v1, &k) != NULL;
}

/* The address checks once the inner destination is known to be a VIP and the outer header's
 * shape is right: a drop reason (a negative enum xl4_agent_stat) or hlen, the bytes to strip.
 * The source prefix (LPM) first, then the destination (hash). */
static __always_inline int agent_outer_ok(const __be32 *saddr, const __be32 *daddr, int words,
					  __u8 family, int hlen)
{
	if (!agent_from_ok(saddr, words, family))
		return -XL4_AS_FROM_REJECT;
	if (!agent_addr_in(&xl4_alocal_v1, daddr, words, family))
		return -XL4_AS_TO_REJECT;
	return hlen;
}

/* IPv6's Fragment header (RFC 8200 4.5): the uapi headers do not define it. */
struct agent_frag6 {
	__u8 nexthdr;
	__u8 reserved;
	__be16 frag_off;
	__be32 id;
};

/*
 * Does an outer header with this protocol (IPv4) or this Fragment header's next header (IPv6)
 * carry a tunnel a device on the host could decapsulate: IPv4 (protocol 4: tunl0, ip6tnl0)
 * or IPv6 (41: sit0, ip6tnl0)? A fragment of one is dropped whatever it carries: its inner
 * header, to a VIP or not, is whole only after reassembly, where a tunnel device would
 * decapsulate it unchecked; a first fragment may hold too little of it to look at, a later
 * one none. The balancer never fragments what it sends.
 */
static __always_inline int agent_tunnel_proto(__u8 proto)
{
	return proto == IPPROTO_IPIP || proto == IPPROTO_IPV6;
}

/* Is there an IPv4 (v6: IPv6) header at pos whose destination is one of our VIPs? */
static __always_inline int agent_vip_at(void *pos, void *end, int v6)
{
	struct ipv6hdr *ip6 = pos;
	struct iphdr *ip = pos;

	if (v6)
		return (void *)(ip6 + 1) <= end && ip6->version == 6 &&
		       agent_addr_in(&xl4_avips_v1, (const __be32 *)&ip6->daddr, 4, 6);
	return (void *)(ip + 1) <= end && ip->version == 4 && ip->ihl >= 5 &&
	       agent_addr_in(&xl4_avips_v1, &ip->daddr, 1, 4);
}

/*
 * Bytes of outer header to strip; 0 when the frame is not an encapsulated packet for one of
 * our VIPs (passed untouched); or a drop reason, -XL4_AS_*, when it is one but may not be
 * decapsulated. A fragment of a tunnel packet is dropped first (agent_tunnel_proto()).
 * Otherwise "ours" is decided on the inner header alone, found behind an outer IPv4
 * header of any length or a 40-byte IPv6 header, so an outer header the balancer never sends
 * cannot slip a packet past the checks to a tunnel device; mixed families (6in4 for sit0,
 * 4in6) to a VIP are never decapsulated and dropped likewise. Decapsulated is only the
 * balancer's shape: an untagged frame (on TC ingress the kernel has already moved a VLAN tag
 * into skb metadata; a tag still in the data is QinQ, which bpf_skb_adjust_room refuses
 * anyway, and what is behind priority tags is judged in agent_outer_len()), a 20-byte outer
 * IPv4 header with a correct checksum (protocol 4) or an
 * outer IPv6 header (next header 41), declared lengths that fit the frame, from an allowed
 * source to a local address.
 */
static __always_inline int agent_outer_at(void *l3, __be16 proto, void *end, __u32 l3_bytes)
{
	if (proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *outer = l3;
		void *inner;

		if ((void *)(outer + 1) > end || outer->version != 4 || outer->ihl < 5)
			return 0;
		if (agent_tunnel_proto(outer->protocol) &&
		    (outer->frag_off & bpf_htons(AGENT_IP_MF | AGENT_IP_OFFSET)))
			return -XL4_AS_BAD_OUTER;
		inner = (void *)outer + outer->ihl * 4;
		if (outer->protocol == IPPROTO_IPV6)
			return agent_vip_at(inner, end, 1) ? -XL4_AS_BAD_OUTER : 0;
		if (outer->protocol != IPPROTO_IPIP || !agent_vip_at(inner, end, 0))
			return 0;
		/* Ours from here on. The kernel never checks a header we strip: check it here. */
		if (outer->ihl != 5 || bpf_ntohs(outer->tot_len) < 2 * sizeof(struct iphdr) ||
		    bpf_ntohs(outer->tot_len) > l3_bytes || agent_ip4_csum(outer) != 0)
			return -XL4_AS_BAD_OUTER;
		return agent_outer_ok(&outer->saddr, &outer->daddr, 1, 4, sizeof(struct iphdr));
	}
	if (proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *outer = l3;

		if ((void *)(outer + 1) > end || outer->version != 6)
			return 0;
		if (outer->nexthdr == IPPROTO_FRAGMENT) {
			struct agent_frag6 *fh = (void *)(outer + 1);

			if ((void *)(fh + 1) > end)
				return 0;
			return agent_tunnel_proto(fh->nexthdr) ? -XL4_AS_BAD_OUTER : 0;
		}
		if (outer->nexthdr == IPPROTO_IPIP)
			return agent_vip_at(outer + 1, end, 0) ? -XL4_AS_BAD_OUTER : 0;
		if (outer->nexthdr != IPPROTO_IPV6 || !agent_vip_at(outer + 1, end, 1))
			return 0;
		if (bpf_ntohs(outer->payload_len) < sizeof(struct ipv6hdr) ||
		    bpf_ntohs(outer->payload_len) + sizeof(struct ipv6hdr) > l3_bytes)
			return -XL4_AS_BAD_OUTER;
		return agent_outer_ok((const __be32 *)&outer->saddr, (const __be32 *)&outer->daddr,
				      4, 6, sizeof(struct ipv6hdr));
	}
	return 0;
}

static __always_inline int agent_outer_len(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	void *pos = eth + 1;
	__be16 proto;
	int tags;

	if (pos > end || skb->len < sizeof(*eth))
		return 0;
	proto = xl4_eth_proto(eth);
	/* Priority tags (VID 0) still in the data: the kernel takes them off after this program
	 * and, with no VLAN device for VID 0, delivers the packet on this very interface, where
	 * TC does not look again (a tunnel device would decapsulate it unchecked). What is behind
	 * them is never decapsulated here (bpf_skb_adjust_room would not), and a tunnel packet
	 * to a VIP, or a tunnel fragment, is dropped. A tag with a VID goes to its VLAN's device
	 * (an agent there sees it untagged) and is passed. */
	tags = agent_walk_tags(&pos, end, &proto, 1);
	if (tags < 0)
		return 0;
	if (!tags)
		return agent_outer_at(pos, proto, end, skb->len - sizeof(*eth));
	return agent_outer_at(pos, proto, end, skb->len - sizeof(*eth) - tags * 4) ? -XL4_AS_BAD_OUTER :
										    0;
}

#define AGENT_ECN_CE 3

/* The ECN field (RFC 3168) of the IP header at ip: IPv4's TOS low bits, IPv6's traffic class
 * low bits (byte 1, bits 4-5); -1 when the header is not there. */
static __always_inline int agent_ecn_at(const __u8 *ip, void *end, int v6)
{
	if ((void *)(ip + 2) > end)
		return -1;
	return v6 ? (ip[1] >> 4) & 3 : ip[1] & 3;
}

/*
 * RFC 6040 4.2, decapsulation: a congestion mark (CE) a router set on the outer header between
 * the balancer and here is kept on the inner one when that is ECN-capable (ECT(0), ECT(1)):
 * dropped with the outer header, the sender would never slow down. Called after the outer
 * header is gone, the inner one at the MAC header's end. 0, or -1 when it cannot be written.
 */
static __always_inline int agent_ce_to_inner(struct __sk_buff *skb, int v6)
{
	void *data = (void *)(long)skb->data;
	void *end = (void *)(long)skb->data_end;
	__u8 *ip = (__u8 *)data + sizeof(struct ethhdr);
	__u8 b1;
	__be16 from, to;

	if ((void *)(ip + 2) > end)
		return -1;
	if (v6) {
		/* no header checksum: RECOMPUTE keeps a CHECKSUM_COMPLETE sum right */
		b1 = ip[1] | (AGENT_ECN_CE << 4);
		return bpf_skb_store_bytes(skb, sizeof(struct ethhdr) + 1, &b1, 1, BPF_F_RECOMPUTE_CSUM) ?
			       -1 :
			       0;
	}
	/* the header's checksum follows the TOS byte, so the header's sum (what a
	 * CHECKSUM_COMPLETE sum holds of it) is unchanged: no recompute */
	from = *(__be16 *)ip;
	b1 = ip[1] | AGENT_ECN_CE;
	to = from;
	((__u8 *)&to)[1] = b1;
	if (bpf_skb_store_bytes(skb, sizeof(struct ethhdr) + 1, &b1, 1, 0))
		return -1;
	return bpf_l3_csum_replace(skb, sizeof(struct ethhdr) + offsetof(struct iphdr, check), from,
				   to, sizeof(__u16)) ?
		       -1 :
		       0;
}

SEC("tc")
int xl4_agent_in(struct __sk_buff *skb)
{
	__u32 len = skb->len;
	int hlen, v6, outer_ecn, inner_ecn;
	void *data, *end;

	/* The most the parse reads: an IPv4 header with 40 bytes of options, then IPv6 (6in4). */
	agent_pull(skb, sizeof(struct ethhdr) + 60 + sizeof(struct ipv6hdr));
	hlen = agent_outer_len(skb);
	if (hlen == 0) {
		agent_count(XL4_AS_PASS_IN, len);
		return TC_ACT_UNSPEC;
	}
	if (hlen < 0) {
		agent_count(-hlen, len);
		return TC_ACT_SHOT;
	}
	data = (void *)(long)skb->data;
	end = (void *)(long)skb->data_end;
	v6 = hlen == sizeof(struct ipv6hdr);
	outer_ecn = agent_ecn_at((__u8 *)data + sizeof(struct ethhdr), end, v6);
	inner_ecn = agent_ecn_at((__u8 *)data + sizeof(struct ethhdr) + (hlen & 0x3f), end, v6);
	/* CE over a sender that did not ask for ECN: no way to pass the mark on (RFC 6040 4.2) */
	if (outer_ecn == AGENT_ECN_CE && inner_ecn == 0) {
		agent_count(XL4_AS_ECN_DROP, len);
		return TC_ACT_SHOT;
	}
	/* Strip the outer header right after the MAC header. FIXED_GSO: a GRO'd packet's
	 * segments carry as much payload after decapsulation as before, so gso_size must not
	 * grow by the header length (the flag-0 default), and a UDP GSO packet is refused
	 * without it. The MAC header stays: same family inside and out, same ethertype. */
	if (bpf_skb_adjust_room(skb, -hlen, BPF_ADJ_ROOM_MAC, BPF_F_ADJ_ROOM_FIXED_GSO) ||
	    (outer_ecn == AGENT_ECN_CE && inner_ecn > 0 && inner_ecn != AGENT_ECN_CE &&
	     agent_ce_to_inner(skb, v6))) {
		agent_count(XL4_AS_DECAP_ERR, len);
		return TC_ACT_SHOT;
	}
	agent_count(XL4_AS_DECAP, len);
	return TC_ACT_OK;
}

/*
 * Port mode. Returns the offset of the transport header and fills key for a TCP/UDP packet
 * whose source could be a VIP's, or returns 0. VLAN tags in the data (a device without VLAN
 * offload) are walked; of IPv6's extension headers only a Fragment header right after the
 * fixed one (what the stack adds to a local socket's datagram over the path MTU).
 */
static __always_inline __u32 agent_reply_key(struct __sk_buff *skb, struct xl4_agent_port_key *k)
{
	void *data = (void *)(long)skb->data;
	void *end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	void *pos = eth + 1;
	__be16 proto;
	__u8 l4proto;

	if (pos > end)
		return 0;
	proto = xl4_eth_proto(eth);
	if (agent_walk_tags(&pos, end, &proto, 0) < 0)
		return 0;
	if (proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = pos;

		if ((void *)(ip + 1) > end || ip->version != 4 || ip->ihl < 5)
			return 0;
		/* Later fragments carry no ports. A first fragment does, and its checksum covers the
		 * whole datagram: the incremental update below is right for it too. */
		if (ip->frag_off & bpf_htons(AGENT_IP_OFFSET))
			return 0;
		l4proto = ip->protocol;
		k->addr[0] = ip->saddr;
		k->family = 4;
		pos = (__u8 *)ip + ip->ihl * 4;
	} else if (proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = pos;

		if ((void *)(ip6 + 1) > end || ip6->version != 6)
			return 0;
		l4proto = ip6->nexthdr;
		__builtin_memcpy(k->addr, &ip6->saddr, sizeof(k->addr));
		k->family = 6;
		pos = ip6 + 1;
		/* A UDP reply over the path MTU leaves as fragments (the stack adds this header).
		 * As for IPv4, only the first fragment has ports to rewrite. */
		if (l4proto == IPPROTO_FRAGMENT) {
			struct agent_frag6 *fh = pos;

			if ((void *)(fh + 1) > end || (fh->frag_off & bpf_htons(AGENT_IP6_OFFSET)))
				return 0;
			l4proto = fh->nexthdr;
			pos = fh + 1;
		}
	} else {
		return 0;
	}
	if (l4proto == IPPROTO_TCP) {
		if (pos + sizeof(struct tcphdr) > end)
			return 0;
	} else if (l4proto == IPPROTO_UDP) {
		if (pos + sizeof(struct udphdr) > end)
			return 0;
	} else {
		return 0;
	}
	k->proto = l4proto;
	k->port = *(__be16 *)pos; /* source port: first field of both TCP and UDP */
	return (__u32)(pos - data);
}

SEC("tc")
int xl4_agent_out(struct __sk_buff *skb)
{
	struct xl4_agent_port_key k = {};
	__u32 len = skb->len, l4_off, csum_off, flags;
	__be16 *vport, from, to;

	/* Ethernet + two tags + IPv4 with options + TCP: the most the parse reads. */
	agent_pull(skb, sizeof(struct ethhdr) + 8 + 60 + sizeof(struct tcphdr));
	l4_off = agent_reply_key(skb, &k);
	vport = l4_off ? bpf_map_lookup_elem(&xl4_aports_v1, &k) : NULL;
	if (!vport) {
		agent_count(XL4_AS_PASS_OUT, len);
		return TC_ACT_UNSPEC;
	}
	from = k.port;
	to = *vport;
	if (k.proto == IPPROTO_TCP) {
		csum_off = l4_off + offsetof(struct tcphdr, check);
		flags = sizeof(__be16);
	} else {
		/* A UDP checksum of 0 means "none" and must stay 0; a computed 0 becomes 0xffff. */
		csum_off = l4_off + offsetof(struct udphdr, check);
		flags = sizeof(__be16) | BPF_F_MARK_MANGLED_0;
	}
	/* The port is not in the pseudo header: for CHECKSUM_PARTIAL (veth, TSO) the helper
	 * leaves the field alone and whoever completes the checksum sums the new port. */
	if (bpf_l4_csum_replace(skb, csum_off, from, to, flags) ||
	    bpf_skb_store_bytes(skb, l4_off, &to, sizeof(to), 0)) {
		agent_count(XL4_AS_PORT_ERR, len);
		return TC_ACT_UNSPEC;
	}
	agent_count(XL4_AS_PORT, len);
	return TC_ACT_OK;
}
