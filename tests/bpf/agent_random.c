// SPDX-License-Identifier: GPL-2.0
/*
 * The backend agent's TC programs against random and damaged frames: agent/random/in sends
 * encapsulated packets from the balancer's prefixes and from outside them, to this host and to
 * others, with an inner header to a VIP or not, in either family or mixed, with VLAN tags,
 * options and fragments, some of them damaged (pktrand.h), and wholly random frames;
 * agent/random/out sends replies from a VIP's backend port and from other ports, likewise.
 * What each frame must get is worked out here from the agent's contract (bpf/agent.bpf.c's
 * opening comment) and the world agent_cases.c provisions (agent_cases.h), never from the
 * program's answers: the TC verdict, the one counter that moves, and the output bytes exactly
 * (unchanged; the outer header gone and nothing else; the source port restored, with a
 * checksum that still verifies if it did).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "agent_cases.h"
#include "harness.h"
#include "pktrand.h"

#define SHOW_MAX 5

static const struct in6_addr OUTSIDER6 = { { { 0x20, 0x01, 0x0d, 0xb8, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0,
					       0, 1 } } };

struct agent_want {
	int verdict; /* TC_ACT_* */
	int stat; /* the counter that moves by this frame */
	uint32_t strip; /* ingress, TC_ACT_OK: outer header bytes removed after the MAC header */
	int ce;		/* ingress, TC_ACT_OK: the outer CE mark set on the inner header too */
	uint32_t l4; /* egress, TC_ACT_OK: the transport header's offset */
	uint16_t port; /* egress, TC_ACT_OK: the source port it must leave from */
	uint8_t proto;
};

static bool ip4_csum_ok(const uint8_t *h)
{
	uint32_t s = 0;

	for (int i = 0; i < 20; i += 2)
		s += rd16(h + i);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return s == 0xffff;
}

/* An IPv4 (v6: IPv6) header at off, whole, whose destination is the world's VIP. */
static bool vip_at(const uint8_t *f, uint32_t len, uint32_t off, int v6)
{
	if (v6)
		return off + 40 <= len && f[off] >> 4 == 6 && !memcmp(f + off + 24, &VIP6, 16);
	return off + 20 <= len && f[off] >> 4 == 4 && (f[off] & 15) >= 5 &&
	       rd32(f + off + 16) == VIP4;
}

static struct agent_want shot(int stat)
{
	return (struct agent_want){ .verdict = TC_ACT_SHOT, .stat = stat };
}

/* A decapsulation, and ECN across it (RFC 6040 4.2): the outer CE goes onto an ECN-capable
 * inner header, and drops the packet when the inner one is not ECN-capable. */
static uint8_t ecn_of(const uint8_t *ip, int v6)
{
	return v6 ? (ip[1] >> 4) & 3 : ip[1] & 3;
}

static struct agent_want decap_ecn(const uint8_t *f, uint32_t strip, int v6)
{
	uint8_t o = ecn_of(f + ETH_HLEN, v6), i = ecn_of(f + ETH_HLEN + strip, v6);

	if (o == 3 && i == 0)
		return shot(XL4_AS_ECN_DROP);
	return (struct agent_want){ .verdict = TC_ACT_OK, .stat = XL4_AS_DECAP, .strip = strip,
				    .ce = o == 3 && i != 3 };
}

/* Ingress: a fragment of a tunnel packet (IPv4 protocol 4 or 41, an IPv6 Fragment header
 * with either as its next header) is dropped, whatever it carries. Otherwise
 * ours is an untagged frame with an inner header to a VIP behind an outer IPv4
 * header of any length or an IPv6 one; of those only the balancer's shape, from its prefix
 * to this host, is decapsulated, and the rest is dropped by reason. "Untagged" is the data as
 * the program sees it: on a real ingress the kernel has taken the tag off already (an ipip
 * packet on a VLAN is decapsulated there, agent_cases.c's header), while a test run leaves it
 * in, and a tag still in the data is passed. The shape's numbers (a 20-byte outer IPv4 header,
 * a total length of at least two headers, an IPv6 payload of at least one) are what "declared
 * lengths that fit the frame" comes to for a balancer that sends one whole inner packet. */
static struct agent_want want_in_at(const uint8_t *f, uint32_t len, uint32_t off);

/* A priority tag (VID 0) in the data is taken off by the kernel after TC, which then delivers
 * the packet on the same interface: what is behind it is never decapsulated, and what would be
 * ours (or a tunnel fragment) is dropped; a tag with a VID is its VLAN's, passed. */
static struct agent_want want_in(const uint8_t *f, uint32_t len)
{
	struct agent_want pass = { .verdict = TC_ACT_UNSPEC, .stat = XL4_AS_PASS_IN }, w;

	if (rd16(f + 12) != ETH_P_8021Q && rd16(f + 12) != ETH_P_8021AD)
		return want_in_at(f, len, ETH_HLEN);
	if (len < ETH_HLEN + 4 || (rd16(f + 14) & 0x0fff))
		return pass;
	w = want_in_at(f, len, ETH_HLEN + 4);
	return w.verdict == TC_ACT_UNSPEC ? pass : shot(XL4_AS_BAD_OUTER);
}

static struct agent_want want_in_at(const uint8_t *f, uint32_t len, uint32_t off)
{
	struct agent_want pass = { .verdict = TC_ACT_UNSPEC, .stat = XL4_AS_PASS_IN };
	const uint8_t *o = f + off;
	uint32_t ihl, l3 = len - off;

	if (rd16(f + off - 2) == ETH_P_IP) {
		if (len < off + 20 || o[0] >> 4 != 4 || (o[0] & 15) < 5)
			return pass;
		ihl = (o[0] & 15) * 4u;
		if ((o[9] == IPPROTO_IPIP || o[9] == IPPROTO_IPV6) && (rd16(o + 6) & 0x3fff))
			return shot(XL4_AS_BAD_OUTER);
		if (o[9] == IPPROTO_IPV6)
			return vip_at(f, len, off + ihl, 1) ? shot(XL4_AS_BAD_OUTER) : pass;
		if (o[9] != IPPROTO_IPIP || !vip_at(f, len, off + ihl, 0))
			return pass;
		if (ihl != 20 || rd16(o + 2) < 40 || rd16(o + 2) > l3 ||
		    !ip4_csum_ok(o))
			return shot(XL4_AS_BAD_OUTER);
		if ((rd32(o + 12) & 0xffffff00u) != (OUTER4_SRC & 0xffffff00u))
			return shot(XL4_AS_FROM_REJECT);
		if (rd32(o + 16) != BACKEND4)
			return shot(XL4_AS_TO_REJECT);
		return decap_ecn(f, 20, 0);
	}
	if (rd16(f + off - 2) == ETH_P_IPV6) {
		if (len < off + 40 || o[0] >> 4 != 6)
			return pass;
		if (o[6] == IPPROTO_FRAGMENT)
			return len >= off + 48 && (o[40] == IPPROTO_IPIP || o[40] == IPPROTO_IPV6) ?
				       shot(XL4_AS_BAD_OUTER) :
				       pass;
		if (o[6] == IPPROTO_IPIP)
			return vip_at(f, len, off + 40, 0) ? shot(XL4_AS_BAD_OUTER) : pass;
		if (o[6] != IPPROTO_IPV6 || !vip_at(f, len, off + 40, 1))
			return pass;
		if (rd16(o + 4) < 40 || rd16(o + 4) + 40u > l3)
			return shot(XL4_AS_BAD_OUTER);
		if (memcmp(o + 8, &OUTER6_SRC, 8)) /* 2001:db8:3::/64 */
			return shot(XL4_AS_FROM_REJECT);
		if (memcmp(o + 24, &BACKEND6, 16))
			return shot(XL4_AS_TO_REJECT);
		return decap_ecn(f, 40, 1);
	}
	return pass;
}

/* Egress: a TCP or UDP packet (up to two VLAN tags in the data, an IPv4 header of any
 * length, not a later fragment) whose source is a mapped (VIP, backend port, protocol). The
 * transport header is where the IP header's own length puts it, whatever the IP length field
 * says: a local socket's reply always agrees with itself, and the program reads it so. */
static struct agent_want want_out(const uint8_t *f, uint32_t len)
{
	struct agent_want pass = { .verdict = TC_ACT_UNSPEC, .stat = XL4_AS_PASS_OUT };
	uint32_t pos = ETH_HLEN, l4;
	uint16_t et = rd16(f + 12), sport;
	uint8_t proto;
	int v6;

	for (int i = 0; i < 2 && (et == ETH_P_8021Q || et == ETH_P_8021AD); i++) {
		if (pos + 4 > len)
			return pass;
		et = rd16(f + pos + 2);
		pos += 4;
	}
	if (et == ETH_P_IP) {
		if (pos + 20 > len || f[pos] >> 4 != 4 || (f[pos] & 15) < 5 ||
		    (rd16(f + pos + 6) & 0x1fff))
			return pass;
		v6 = 0, proto = f[pos + 9], l4 = pos + (f[pos] & 15) * 4u;
	} else if (et == ETH_P_IPV6) {
		if (pos + 40 > len || f[pos] >> 4 != 6)
			return pass;
		v6 = 1, proto = f[pos + 6], l4 = pos + 40;
	} else {
		return pass;
	}
	if (!((proto == IPPROTO_TCP && l4 + 20 <= len) || (proto == IPPROTO_UDP && l4 + 8 <= len)))
		return pass;
	sport = rd16(f + l4);
	if (v6 ? memcmp(f + pos + 8, &VIP6, 16) : rd32(f + pos + 12) != VIP4)
		return pass;
	if (sport == BPORT)
		return (struct agent_want){ .verdict = TC_ACT_OK, .stat = XL4_AS_PORT, .l4 = l4, .port = VIP_PORT, .proto = proto };
	if (sport == UDP_ONLY_BPORT && proto == IPPROTO_UDP && !v6)
		return (struct agent_want){ .verdict = TC_ACT_OK, .stat = XL4_AS_PORT, .l4 = l4, .port = VIP_PORT + 1, .proto = proto };
	return pass;
}

/* TCP or UDP with a payload of some size; returns which. */
static uint8_t transport(struct pkt *p, struct prng *r, uint16_t sport, uint16_t dport)
{
	uint8_t proto = prng_below(r, 2) ? IPPROTO_TCP : IPPROTO_UDP;

	if (proto == IPPROTO_TCP)
		pb_tcp(p, sport, dport, TH_ACK | TH_PSH);
	else
		pb_udp(p, sport, dport);
	pb_payload(p, NULL, prng_below(r, 4) ? prng_below(r, 64) : prng_below(r, 1200));
	return proto;
}

/* What a balancer (or someone else) might send a backend: an encapsulated packet. */
static void frame_in(struct pkt *p, struct prng *r)
{
	static const uint16_t frags[] = { IP4_DF, IP4_DF, 0, IP4_MF, 185, IP4_MF | 1 };
	static const uint8_t nop4[4] = { 1, 1, 1, 1 };
	int v6o = prng_below(r, 2), v6i = prng_below(r, 8) ? v6o : !v6o;
	/* ECN: mostly none, else any of the four on either header (a CE outer among them) */
	uint8_t oecn = prng_below(r, 3) ? 0 : (uint8_t)prng_below(r, 4);
	uint8_t iecn = prng_below(r, 3) ? 0 : (uint8_t)prng_below(r, 4);
	uint8_t optlen = prng_below(r, 10) ? 0 : 4;
	uint32_t outer;

	pb_init(p);
	pb_eth(p, 0);
	if (!prng_below(r, 10))
		pb_vlan(p, ETH_P_8021Q, prng_below(r, 2) ? 100 : 0); /* a VLAN's, or a priority tag */
	outer = p->len;
	if (v6o)
		pb_ip6(p, &(struct pb_ip6){ .src = prng_below(r, 4) ? OUTER6_SRC : OUTSIDER6,
					    .dst = prng_below(r, 5) ? BACKEND6 : CLIENT6B });
	else
		pb_ip4(p,
		       &(struct pb_ip4){ .src = prng_below(r, 4) ? OUTER4_SRC + prng_below(r, 4) :
								   OUTER4_SRC + 0x100,
					 .dst = prng_below(r, 5) ? BACKEND4 : BACKEND4 + 1,
					 .frag = prng_below(r, 6) ? IP4_DF : PICK(r, frags),
					 .tos = (uint8_t)(0xb8 | oecn),
					 .opts = nop4,
					 .optlen = optlen });
	if (v6i)
		pb_ip6(p, &(struct pb_ip6){ .src = CLIENT6,
					    .dst = prng_below(r, 5) ? VIP6 : CLIENT6B });
	else
		pb_ip4(p, &(struct pb_ip4){ .src = CLIENT4,
					    .dst = prng_below(r, 5) ? VIP4 : BACKEND4,
					    .frag = IP4_DF,
					    .ttl = 63,
					    .tos = (uint8_t)(0x28 | iecn) });
	transport(p, r, CLIENT_PORT, VIP_PORT);
	pb_finish(p);
	/* IPv6's traffic class after the build (no header checksum to keep) */
	if (v6o)
		pkt_set8(p, outer + 1, (uint8_t)((p->b[outer + 1] & 0xcf) | oecn << 4));
	if (v6i) {
		uint32_t inner = outer + (v6o ? 40 : 20u + optlen);

		pkt_set8(p, inner + 1, (uint8_t)((p->b[inner + 1] & 0xcf) | iecn << 4));
	}
	if (!prng_below(r, 8))
		pkt_pad(p, p->len + 1 + prng_below(r, 8));
}

/* What a backend's socket might send: a reply, from a VIP's backend port or another. */
static void frame_out(struct pkt *p, struct prng *r)
{
	static const uint16_t sports[] = { BPORT, BPORT, BPORT, UDP_ONLY_BPORT, VIP_PORT, 22 };
	static const uint16_t frags[] = { IP4_DF, IP4_DF, 0, IP4_MF, 185 };
	int v6 = prng_below(r, 2), tags = prng_below(r, 5) ? 0 : 1 + prng_below(r, 3);
	uint8_t proto;

	pb_init(p);
	pb_eth(p, 0);
	for (int i = 0; i < tags; i++)
		pb_vlan(p, i ? ETH_P_8021Q : ETH_P_8021AD, 100 + i);
	if (v6)
		pb_ip6(p, &(struct pb_ip6){ .src = prng_below(r, 5) ? VIP6 : BACKEND6,
					    .dst = CLIENT6 });
	else
		pb_ip4(p, &(struct pb_ip4){ .src = prng_below(r, 5) ? VIP4 : BACKEND4,
					    .dst = CLIENT4,
					    .frag = prng_below(r, 8) ? IP4_DF : PICK(r, frags) });
	proto = transport(p, r, PICK(r, sports), CLIENT_PORT);
	pb_finish(p);
	if (!v6 && proto == IPPROTO_UDP && !prng_below(r, 6))
		pkt_set16(p, p->l4 + 6, 0); /* "no checksum" */
}

/* What is wrong with the output (or NULL), given the verdict was w's. */
static const char *output_wrong(const struct agent_want *w, const struct pkt *in,
				const uint8_t *out, uint32_t out_len)
{
	uint32_t csum;

	if (w->verdict != TC_ACT_OK)
		return out_len == in->len && !memcmp(out, in->b, in->len) ?
			       NULL :
			       "changed, want untouched";
	if (w->strip) { /* decapsulated: the MAC header, then the inner packet and what followed it */
		static uint8_t want[PKT_MAX];
		uint32_t n = in->len - w->strip;

		memcpy(want, in->b, ETH_HLEN);
		memcpy(want + ETH_HLEN, in->b + ETH_HLEN + w->strip, n - ETH_HLEN);
		if (w->ce && w->strip == 40) {
			want[ETH_HLEN + 1] |= 3 << 4;
		} else if (w->ce) {
			/* the TOS byte and, by RFC 1624, the header checksum with it */
			uint32_t old = rd16(want + ETH_HLEN), sum;

			want[ETH_HLEN + 1] |= 3;
			sum = (uint16_t)~rd16(want + ETH_HLEN + 10) + (uint16_t)~old + rd16(want + ETH_HLEN);
			sum = (sum & 0xffff) + (sum >> 16);
			sum = (sum & 0xffff) + (sum >> 16);
			want[ETH_HLEN + 10] = (uint8_t)(~sum >> 8);
			want[ETH_HLEN + 11] = (uint8_t)~sum;
		}
		return out_len == n && !memcmp(out, want, n) ?
			       NULL :
			       w->ce ? "not the input with its outer header removed and CE on the inner" :
				       "not the input with its outer header removed";
	}
	csum = w->l4 + (w->proto == IPPROTO_TCP ? 16 : 6);
	if (out_len != in->len || rd16(out + w->l4) != w->port)
		return "the source port is not the VIP's";
	for (uint32_t i = 0; i < out_len; i++)
		if (out[i] != in->b[i] && i != w->l4 && i != w->l4 + 1 && i != csum &&
		    i != csum + 1)
			return "bytes besides the port and its checksum changed";
	if (w->proto == IPPROTO_UDP && !rd16(in->b + csum) != !rd16(out + csum))
		return "a UDP checksum of 0 (none) changed, or one became 0";
	if (!agent_l4_csum_verdict(in->b, in->len) && agent_l4_csum_verdict(out, out_len))
		return "the checksum verified before and does not now";
	return NULL;
}

/* A frame whose ethertype names IPv4 or IPv6 but that ends inside the IP header: a TC test
 * run refuses it (EINVAL) before the program sees it, so it cannot be checked here. */
static bool ip_cut_short(const struct pkt *p)
{
	uint16_t et = rd16(p->b + 12);

	return (et == ETH_P_IP && p->len < ETH_HLEN + 20) ||
	       (et == ETH_P_IPV6 && p->len < ETH_HLEN + 40);
}

static void run_dir(const struct xl4_agent *a, int egress, unsigned long long seed, int count)
{
	static uint8_t out[4096];
	struct prng r = { .s = seed };
	const char *name = egress ? "agent/random/out" : "agent/random/in";
	int bad = 0, cut_short = 0, seen[3] = { 0 }; /* untouched, rewritten, dropped */
	int stats[XL4_AS_MAX] = { 0 }, vport2 = 0; /* answers per counter; VIP_PORT + 1 restores */
	bool ok = true;

	if (!fx_selected(name))
		return;
	for (int i = 0; i < count; i++) {
		struct xl4_counter before[XL4_AS_MAX], after[XL4_AS_MAX];
		LIBBPF_OPTS(bpf_test_run_opts, o, .data_out = out, .data_size_out = sizeof(out),
			    .repeat = 1);
		struct agent_want w;
		const char *why = NULL;
		struct pkt p;
		int err;

		if (prng_below(&r, 4) == 0) {
			pr_packet(&p, &r, ETH_HLEN);
		} else {
			if (egress)
				frame_out(&p, &r);
			else
				frame_in(&p, &r);
			if (prng_below(&r, 3) == 0)
				pr_mutate(&p, &r, ETH_HLEN);
		}
		w = egress ? want_out(p.b, p.len) : want_in(p.b, p.len);
		o.data_in = p.b;
		o.data_size_in = p.len;
		if ((err = xl4_agent_counters_read(a->stats_fd, before)) ||
		    (err = bpf_prog_test_run_opts(egress ? a->out_fd : a->in_fd, &o) ? -errno :
										       0) ||
		    (err = xl4_agent_counters_read(a->stats_fd, after))) {
			if (err == -EINVAL && ip_cut_short(&p)) {
				cut_short++;
				continue;
			}
			ok = fx_fail(name, ok, "packet %d (%u bytes): test run failed: %s", i,
				     p.len, strerror(-err));
			break;
		}
		if ((int)o.retval != w.verdict)
			why = "not the verdict the contract gives";
		else
			why = output_wrong(&w, &p, out, o.data_size_out);
		for (int s = 0; s < XL4_AS_MAX && !why; s++)
			if (after[s].packets - before[s].packets != (s == w.stat) ||
			    after[s].bytes - before[s].bytes != (s == w.stat) * (uint64_t)p.len)
				why = "not exactly its one counter moved";
		seen[w.verdict == TC_ACT_OK ? 1 : w.verdict == TC_ACT_SHOT ? 2 : 0]++;
		stats[w.stat]++;
		vport2 += w.stat == XL4_AS_PORT && w.port == VIP_PORT + 1;
		if (why && bad++ < SHOW_MAX) {
			ok = fx_fail(name, ok,
				     "packet %d (seed %llu): %s: want verdict %d (%s), got %d", i,
				     seed, why, w.verdict, xl4_agent_stat_name(w.stat) ?: "?",
				     (int)o.retval);
			fx_pcap_write(&p);
			fx_hexdiff(p.b, p.len, out, o.data_size_out);
		}
	}
	if (bad > SHOW_MAX)
		printf("       ... %d offending packets in all\n", bad);
	/* every answer but a helper's failure must have come, each mapping's restore too */
	for (int st = 0; st < XL4_AS_MAX; st++)
		if (!stats[st] && xl4_agent_stat_name(st) && st != XL4_AS_DECAP_ERR &&
		    st != XL4_AS_PORT_ERR &&
		    (egress ? st == XL4_AS_PORT || st == XL4_AS_PASS_OUT :
			      st != XL4_AS_PORT && st != XL4_AS_PASS_OUT))
			ok = fx_fail(name, ok, "no frame was meant to get %s",
				     xl4_agent_stat_name(st));
	if (egress && !vport2)
		ok = fx_fail(name, ok, "no reply from the UDP-only mapping");
	fx_count(name, ok);
	printf("%s: %d frames (seed %llu): %d untouched, %d rewritten, %d dropped; %d IP frames cut "
	       "inside the IP header skipped (a TC test run refuses them)\n",
	       name, count, seed, seen[0], seen[1], seen[2], cut_short);
}

void agent_random(const struct xl4_agent *a, unsigned long long seed, int count)
{
	run_dir(a, 0, seed, count);
	run_dir(a, 1, seed + 1, count);
}
