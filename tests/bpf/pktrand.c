// SPDX-License-Identifier: GPL-2.0
#include <string.h>
#include <linux/ip.h>
#include <linux/ipv6.h>

#include "pktrand.h"


static const uint8_t tcp_flags[] = {
	TH_SYN, TH_SYN | TH_ACK, TH_ACK, TH_PSH | TH_ACK, TH_FIN | TH_ACK, TH_RST, TH_RST | TH_ACK,
	TH_ACK, TH_ACK, TH_SYN, 0, TH_FIN, TH_SYN | TH_FIN, TH_SYN | TH_RST, 0x29, 0x3f, 0xff,
	TH_PSH, TH_URG, TH_ECE | TH_CWR,
};

static uint32_t src4(struct prng *r)
{
	static const uint32_t odd[] = { 0x7f000001, 0xe0000001, 0xffffffff, 0x00010203, 0,
					0xf0000001, 0xc0a80001 };

	return prng_below(r, 16) ? CLIENT4 + prng_below(r, 256) : PICK(r, odd);
}

static struct in6_addr src6(struct prng *r)
{
	struct in6_addr a = CLIENT6;

	switch (prng_below(r, 24)) {
	case 0:
		memset(&a, 0, sizeof(a));
		a.s6_addr[15] = 1; /* ::1 */
		break;
	case 1:
		memset(&a, 0, sizeof(a)); /* :: */
		break;
	case 2:
		a.s6_addr[0] = 0xff;
		break;
	default:
		a.s6_addr[15] = prng_below(r, 256);
	}
	return a;
}

static void ip6_exts(struct pkt *p, struct prng *r)
{
	int n = prng_below(r, 3) ? 0 : prng_below(r, 11);

	for (int i = 0; i < n; i++) {
		switch (prng_below(r, 6)) {
		case 0:
			pb_ext(p, IPPROTO_HOPOPTS, 8 * (1 + prng_below(r, 3)));
			break;
		case 1:
			pb_ext(p, IPPROTO_DSTOPTS, 8 * (1 + prng_below(r, 3)));
			break;
		case 2:
			pb_ext(p, IPPROTO_ROUTING, 8 * (1 + prng_below(r, 3)));
			break;
		case 3:
			pb_ext(p, IPPROTO_AH, 12 + 4 * prng_below(r, 4));
			break;
		case 4: {
			static const uint16_t offs[] = { 0, 0, 1, 185 };

			pb_frag6(p, PICK(r, offs), prng_below(r, 2), prng_u64(r));
			break;
		}
		default:
			if (i == 0)
				pb_ext(p, IPPROTO_HOPOPTS, 8);
		}
	}
}

void pr_template(struct pkt *p, struct prng *r)
{
	static const uint32_t tag_weights[] = { 0, 0, 0, 0, 0, 1, 1, 1, 2, 2, 3 };
	static const uint8_t other_l4[] = { IPPROTO_GRE, IPPROTO_ESP, IPPROTO_SCTP, IPPROTO_IPIP,
					    59, 0xfd };
	static const uint16_t frags[] = { IP4_MF, IP4_MF | 185, 370, 1, IP4_MF | 1, IP4_DF };
	static uint8_t opts[40];
	int v6 = prng_below(r, 2), ntags = PICK(r, tag_weights), kind;

	memset(opts, 1, sizeof(opts));
	pb_init(p);
	pb_eth(p, 0);
	for (int i = 0; i < ntags; i++)
		pb_vlan(p, prng_below(r, 2) ? ETH_P_8021Q : ETH_P_8021AD, prng_below(r, 4096));

	if (prng_below(r, 16) == 0) { /* not IP at all */
		static const uint16_t types[] = { ETH_P_ARP, 0x88cc, 0x9100, 0x0060, 0x8035 };

		pb_finish(p);
		pkt_set16(p, p->len - 2, PICK(r, types));
		pb_payload(p, NULL, 28 + prng_below(r, 40));
		return;
	}
	if (v6) {
		pb_ip6(p, &(struct pb_ip6){ .src = src6(r), .dst = VIP6 });
		ip6_exts(p, r);
	} else {
		pb_ip4(p, &(struct pb_ip4){ .src = src4(r), .dst = VIP4,
					    .frag = prng_below(r, 8) ? 0 : PICK(r, frags),
					    .opts = opts,
					    .optlen = prng_below(r, 4) ? 0 : 4 * prng_below(r, 11) });
	}
	kind = prng_below(r, 12);
	if (kind < 5) {
		pb_tcp(p, prng_below(r, 32) ? CLIENT_PORT + prng_below(r, 100) : 0,
		       prng_below(r, 32) ? VIP_PORT : 0, PICK(r, tcp_flags));
		if (prng_below(r, 3) == 0) {
			static const uint8_t o[12] = { 2, 4, 5, 0xb4, 1, 3, 3, 7, 4, 2, 1, 1 };

			pb_tcp_opts(p, o, 4 * (1 + prng_below(r, 3)));
		}
	} else if (kind < 8) {
		pb_udp(p, prng_below(r, 32) ? CLIENT_PORT : 0, prng_below(r, 32) ? 53 : 0);
	} else if (kind < 11) {
		int own = prng_below(r, 10) != 0;

		if (v6 == own)
			pb_icmp6(p, 128, 0);
		else
			pb_icmp(p, 8, 0);
	} else {
		pb_raw(p, PICK(r, other_l4), NULL, prng_below(r, 24));
	}
	pb_payload(p, NULL, prng_below(r, 3) ? prng_below(r, 64) : 0);
	pb_finish(p);
	if (prng_below(r, 4) == 0)
		pkt_pad(p, p->len < 60 ? 60 : p->len + prng_below(r, 8));
}

/* Where the interesting bytes are: everything up to a little past the transport header. */
static uint32_t header_span(const struct pkt *p)
{
	uint32_t end = (p->l4 >= 0 ? (uint32_t)p->l4 + 24 : p->l3 >= 0 ? (uint32_t)p->l3 + 64 : 40);

	return end < p->len ? end : p->len;
}

static void flip_bytes(struct pkt *p, struct prng *r)
{
	uint32_t span = header_span(p), k = 1 + prng_below(r, 4);

	for (uint32_t i = 0; i < k && span; i++) {
		uint32_t off = prng_below(r, span);

		if (prng_below(r, 2))
			p->b[off] ^= 1u << prng_below(r, 8);
		else
			p->b[off] = prng_u64(r);
	}
}

static void random_cut(struct pkt *p, struct prng *r, uint32_t min_len)
{
	if (p->len > min_len)
		pkt_truncate(p, min_len + prng_below(r, p->len - min_len + 1));
}

static void wild_field(struct pkt *p, struct prng *r)
{
	uint32_t span = header_span(p), off;
	uint16_t vals[] = { 0, 1, 0xffff, 0x8000, (uint16_t)p->len, (uint16_t)(p->len - 1),
			    (uint16_t)(p->len + 1), 8, 20, 40, 0x8100, 0x86dd, 0x0800, 0x4500,
			    (uint16_t)prng_u64(r) };

	if (span < 2)
		return;
	off = prng_below(r, span - 1);
	pkt_set16(p, off, PICK(r, vals));
}

static void fix_ip4_csum(struct pkt *p)
{
	const struct pb_layer *l = pkt_layer(p, PB_IP4);

	if (l && l->off + 20u <= p->len && l->off + (p->b[l->off] & 0x0f) * 4u <= p->len)
		pkt_ip4_csum_fix(p);
}

/* m in [20, 100): which damage (pr_packet()'s draw) */
static void mutate(struct pkt *p, struct prng *r, uint32_t min_len, uint32_t m)
{
	if (m < 50) {
		flip_bytes(p, r);
	} else if (m < 65) {
		random_cut(p, r, min_len);
	} else if (m < 85) {
		wild_field(p, r);
	} else {
		flip_bytes(p, r);
		wild_field(p, r);
		random_cut(p, r, min_len);
	}
	/* half the time make the IPv4 checksum right again, so the damage reaches deeper */
	if (prng_below(r, 2))
		fix_ip4_csum(p);
	if (p->len < min_len)
		pkt_pad(p, min_len);
}

void pr_packet(struct pkt *p, struct prng *r, uint32_t min_len)
{
	uint32_t m = prng_below(r, 100);

	if (m < 10) { /* random bytes, half of them with an IP-looking start */
		uint32_t len = min_len + prng_below(r, 200);

		pb_init(p);
		for (uint32_t i = 0; i < len; i++)
			p->b[i] = prng_u64(r);
		p->len = len;
		if (len >= 15 && prng_below(r, 2)) {
			static const uint16_t et[] = { ETH_P_IP, ETH_P_IPV6, ETH_P_8021Q, ETH_P_8021AD };
			uint16_t t = PICK(r, et);

			pkt_set16(p, 12, t);
			p->b[14] = t == ETH_P_IP ? 0x45 : t == ETH_P_IPV6 ? 0x60 : p->b[14];
		}
		return;
	}
	pr_template(p, r);
	if (m < 20)
		return; /* unmodified */
	mutate(p, r, min_len, m);
}

void pr_mutate(struct pkt *p, struct prng *r, uint32_t min_len)
{
	mutate(p, r, min_len, 20 + prng_below(r, 80));
}
