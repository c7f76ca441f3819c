// SPDX-License-Identifier: GPL-2.0
/* The packet builder: see pktbuild.h for the model (layers now, lengths and checksums in
 * pb_finish, deliberate damage afterwards). Aborts on misuse: a fixture bug, not a test result. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/ip.h>
#include <linux/ipv6.h>

#include "pktbuild.h"

#define IN6(...) { { { __VA_ARGS__ } } }
const struct in6_addr CLIENT6 = IN6(0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1);
const struct in6_addr CLIENT6B = IN6(0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2);
const struct in6_addr VIP6 = IN6(0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1);
const struct in6_addr BACKEND6 = IN6(0x20, 0x01, 0x0d, 0xb8, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1);

const uint8_t MAC_CLIENT[ETH_ALEN] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 };
const uint8_t MAC_NIC[ETH_ALEN] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x02 };

static void die(const char *what)
{
	fprintf(stderr, "pktbuild: %s\n", what);
	abort();
}

/* Reserve n bytes at the end of the frame, zeroed, and return them. */
static uint8_t *grow(struct pkt *p, uint32_t n)
{
	uint8_t *at;

	if (p->len + n > PKT_MAX)
		die("packet larger than PKT_MAX");
	at = p->b + p->len;
	memset(at, 0, n);
	p->len += n;
	return at;
}

static struct pb_layer *add_layer(struct pkt *p, enum pb_kind kind, uint16_t hlen)
{
	struct pb_layer *l;

	if (p->n == PB_LAYERS_MAX)
		die("too many layers");
	l = &p->l[p->n++];
	*l = (struct pb_layer){ .kind = kind, .off = p->len, .hlen = hlen };
	grow(p, hlen);
	return l;
}

static void put16(uint8_t *at, uint16_t v)
{
	at[0] = v >> 8;
	at[1] = v & 0xff;
}

static void put32(uint8_t *at, uint32_t v)
{
	put16(at, v >> 16);
	put16(at + 2, v & 0xffff);
}

void pb_init(struct pkt *p)
{
	p->len = 0;
	p->n = 0;
	p->l3 = p->l4 = -1;
}

void pb_eth(struct pkt *p, uint16_t ethertype)
{
	struct pb_layer *l = add_layer(p, PB_ETH, ETH_HLEN);
	uint8_t *h = p->b + l->off;

	memcpy(h, MAC_NIC, ETH_ALEN);
	memcpy(h + ETH_ALEN, MAC_CLIENT, ETH_ALEN);
	put16(h + 12, ethertype);
}

void pb_vlan(struct pkt *p, uint16_t tpid, uint16_t vid)
{
	struct pb_layer *l = add_layer(p, PB_VLAN, 4);

	l->tpid = tpid;
	put16(p->b + l->off, vid & 0x0fff);
}

void pb_ip4(struct pkt *p, const struct pb_ip4 *s)
{
	struct pb_layer *l;
	uint8_t *h;

	if (s->optlen % 4 || s->optlen > 40)
		die("IPv4 options must be a multiple of 4, at most 40 bytes");
	l = add_layer(p, PB_IP4, 20 + s->optlen);
	h = p->b + l->off;
	h[0] = 0x40 | (l->hlen / 4);
	h[1] = s->tos;
	put16(h + 4, s->id ? s->id : 0x1234);
	put16(h + 6, s->frag);
	h[8] = s->ttl ? s->ttl : 64;
	put32(h + 12, s->src);
	put32(h + 16, s->dst);
	if (s->optlen)
		memcpy(h + 20, s->opts, s->optlen);
}

void pb_ip6(struct pkt *p, const struct pb_ip6 *s)
{
	struct pb_layer *l = add_layer(p, PB_IP6, 40);
	uint8_t *h = p->b + l->off;

	h[0] = 0x60;
	h[7] = s->hop_limit ? s->hop_limit : 64;
	memcpy(h + 8, &s->src, 16);
	memcpy(h + 24, &s->dst, 16);
}

void pb_ext(struct pkt *p, uint8_t proto, uint16_t bytes)
{
	struct pb_layer *l;
	uint8_t *h;

	if (proto == IPPROTO_AH ? (bytes % 4 || bytes < 12) : (bytes % 8 || bytes < 8))
		die("bad extension header size");
	l = add_layer(p, PB_EXT, bytes);
	l->proto = proto;
	h = p->b + l->off;
	switch (proto) {
	case IPPROTO_HOPOPTS:
	case IPPROTO_DSTOPTS:
		/* one PadN option filling the header after next-header and length */
		h[2] = 1;
		h[3] = bytes - 4;
		break;
	case IPPROTO_ROUTING:
		h[2] = 253; /* experimental routing type; segments left 0: ignored en route */
		break;
	case IPPROTO_AH:
		put32(h + 4, 0x100); /* SPI */
		put32(h + 8, 1);     /* sequence number; ICV (if any) stays zero */
		break;
	}
}

void pb_frag6(struct pkt *p, uint16_t offset, int more, uint32_t id)
{
	struct pb_layer *l = add_layer(p, PB_EXT, 8);
	uint8_t *h = p->b + l->off;

	l->proto = IPPROTO_FRAGMENT;
	put16(h + 2, (uint16_t)(offset << 3) | (more ? 1 : 0));
	put32(h + 4, id);
}

void pb_tcp(struct pkt *p, uint16_t sport, uint16_t dport, uint8_t flags)
{
	struct pb_layer *l = add_layer(p, PB_TCP, 20);
	uint8_t *h = p->b + l->off;

	put16(h, sport);
	put16(h + 2, dport);
	put32(h + 4, 1000);
	put32(h + 8, (flags & TH_ACK) ? 2000 : 0);
	h[13] = flags;
	put16(h + 14, 65535);
}

void pb_tcp_opts(struct pkt *p, const void *opts, uint8_t n)
{
	struct pb_layer *l = &p->l[p->n - 1];

	if (!p->n || l->kind != PB_TCP || l->off + l->hlen != p->len || n % 4 || l->hlen + n > 60)
		die("pb_tcp_opts: right after pb_tcp, a multiple of 4 bytes, at most 40");
	memcpy(grow(p, n), opts, n);
	l->hlen += n;
}

void pb_udp(struct pkt *p, uint16_t sport, uint16_t dport)
{
	struct pb_layer *l = add_layer(p, PB_UDP, 8);

	put16(p->b + l->off, sport);
	put16(p->b + l->off + 2, dport);
}

static void icmp_common(struct pkt *p, enum pb_kind kind, uint8_t type, uint8_t code)
{
	struct pb_layer *l = add_layer(p, kind, 8);
	uint8_t *h = p->b + l->off;

	h[0] = type;
	h[1] = code;
	put16(h + 4, 0x1234); /* echo id */
	put16(h + 6, 1);      /* echo sequence */
}

void pb_icmp(struct pkt *p, uint8_t type, uint8_t code)
{
	icmp_common(p, PB_ICMP, type, code);
}

void pb_icmp6(struct pkt *p, uint8_t type, uint8_t code)
{
	icmp_common(p, PB_ICMP6, type, code);
	if (type == 135 || type == 136) /* neighbour solicitation/advertisement: reserved word */
		put32(p->b + p->len - 4, 0);
}

void pb_raw(struct pkt *p, uint8_t proto, const void *data, uint16_t n)
{
	struct pb_layer *l = add_layer(p, PB_RAW, n);

	l->proto = proto;
	if (data)
		memcpy(p->b + l->off, data, n);
	else
		for (uint16_t i = 0; i < n; i++)
			p->b[l->off + i] = 0xa0 + (i & 0x0f);
}

void pb_payload(struct pkt *p, const void *data, uint16_t n)
{
	uint8_t *at = grow(p, n);

	if (data)
		memcpy(at, data, n);
	else
		for (uint16_t i = 0; i < n; i++)
			at[i] = 'a' + i % 26;
}

/* ---- lengths, next-header fields and checksums ---- */

static uint32_t csum_add(uint32_t sum, const uint8_t *d, size_t len)
{
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)d[i] << 8 | d[i + 1];
	if (i < len)
		sum += (uint32_t)d[i] << 8;
	return sum;
}

static uint16_t csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

uint16_t pb_csum(const void *data, size_t len, uint32_t sum)
{
	return csum_fold(csum_add(sum, data, len));
}

static uint16_t next_ethertype(const struct pb_layer *next)
{
	if (!next)
		return 0;
	switch (next->kind) {
	case PB_VLAN:
		return next->tpid;
	case PB_IP4:
		return ETH_P_IP;
	case PB_IP6:
		return ETH_P_IPV6;
	default:
		return 0;
	}
}

static uint8_t next_proto(const struct pb_layer *next, int v6)
{
	if (!next)
		return v6 ? 59 /* IPPROTO_NONE */ : IPPROTO_RAW;
	switch (next->kind) {
	case PB_EXT:
	case PB_RAW:
		return next->proto;
	case PB_TCP:
		return IPPROTO_TCP;
	case PB_UDP:
		return IPPROTO_UDP;
	case PB_ICMP:
		return IPPROTO_ICMP;
	case PB_ICMP6:
		return IPPROTO_ICMPV6;
	case PB_IP4:
		return IPPROTO_IPIP;
	case PB_IP6:
		return IPPROTO_IPV6;
	default:
		return IPPROTO_RAW;
	}
}

/* The IP header an upper layer at index i belongs to. */
static const struct pb_layer *enclosing_ip(const struct pkt *p, int i)
{
	while (--i >= 0)
		if (p->l[i].kind == PB_IP4 || p->l[i].kind == PB_IP6)
			return &p->l[i];
	return NULL;
}

static uint32_t pseudo_sum(const struct pkt *p, const struct pb_layer *ip, uint8_t proto,
			   uint32_t len)
{
	uint32_t sum;

	if (!ip)
		return 0;
	if (ip->kind == PB_IP4)
		sum = csum_add(0, p->b + ip->off + 12, 8);
	else
		sum = csum_add(0, p->b + ip->off + 8, 32);
	return sum + proto + (len >> 16) + (len & 0xffff);
}

static void l4_csum(struct pkt *p, int i, uint8_t proto, uint32_t csum_at)
{
	const struct pb_layer *l = &p->l[i];
	uint32_t len = p->len - l->off;
	uint32_t sum = pseudo_sum(p, enclosing_ip(p, i), proto, len);
	uint16_t c;

	put16(p->b + l->off + csum_at, 0);
	c = pb_csum(p->b + l->off, len, sum);
	if (proto == IPPROTO_UDP && c == 0)
		c = 0xffff;
	put16(p->b + l->off + csum_at, c);
}

static void ip4_csum(struct pkt *p, const struct pb_layer *l)
{
	uint32_t hlen = (p->b[l->off] & 0x0f) * 4;

	put16(p->b + l->off + 10, 0);
	put16(p->b + l->off + 10, pb_csum(p->b + l->off, hlen, 0));
}

void pb_finish(struct pkt *p)
{
	p->l3 = p->l4 = -1;
	/* inside-out, so every checksum sees the final bytes of what it covers */
	for (int i = p->n - 1; i >= 0; i--) {
		struct pb_layer *l = &p->l[i];
		const struct pb_layer *next = i + 1 < p->n ? &p->l[i + 1] : NULL;
		uint8_t *h = p->b + l->off;
		uint16_t et = next_ethertype(next);

		switch (l->kind) {
		case PB_ETH:
			if (et)
				put16(h + 12, et);
			break;
		case PB_VLAN:
			if (et)
				put16(h + 2, et);
			break;
		case PB_IP4:
			h[0] = 0x40 | (l->hlen / 4);
			h[9] = next_proto(next, 0);
			put16(h + 2, p->len - l->off);
			ip4_csum(p, l);
			break;
		case PB_IP6:
			h[6] = next_proto(next, 1);
			put16(h + 4, p->len - l->off - 40);
			break;
		case PB_EXT:
			h[0] = next_proto(next, 1);
			if (l->proto == IPPROTO_AH)
				h[1] = l->hlen / 4 - 2;
			else if (l->proto != IPPROTO_FRAGMENT)
				h[1] = l->hlen / 8 - 1;
			break;
		case PB_TCP:
			h[12] = (l->hlen / 4) << 4;
			l4_csum(p, i, IPPROTO_TCP, 16);
			break;
		case PB_UDP:
			put16(h + 4, p->len - l->off);
			l4_csum(p, i, IPPROTO_UDP, 6);
			break;
		case PB_ICMP:
			put16(h + 2, 0);
			put16(h + 2, pb_csum(h, p->len - l->off, 0));
			break;
		case PB_ICMP6:
			l4_csum(p, i, IPPROTO_ICMPV6, 2);
			break;
		case PB_RAW:
			break;
		}
	}
	for (int i = 0; i < p->n; i++) {
		enum pb_kind k = p->l[i].kind;

		if (p->l3 < 0 && (k == PB_IP4 || k == PB_IP6))
			p->l3 = p->l[i].off;
		else if (p->l3 >= 0 && p->l4 < 0 && k >= PB_TCP)
			p->l4 = p->l[i].off;
	}
}

/* ---- mutators ---- */

static void check_off(const struct pkt *p, uint32_t off, uint32_t n)
{
	if (off + n > p->len)
		die("mutator writes past the frame");
}

void pkt_set8(struct pkt *p, uint32_t off, uint8_t v)
{
	check_off(p, off, 1);
	p->b[off] = v;
}

void pkt_set16(struct pkt *p, uint32_t off, uint16_t v)
{
	check_off(p, off, 2);
	put16(p->b + off, v);
}

void pkt_set32(struct pkt *p, uint32_t off, uint32_t v)
{
	check_off(p, off, 4);
	put32(p->b + off, v);
}

uint16_t pkt_get16(const struct pkt *p, uint32_t off)
{
	check_off(p, off, 2);
	return (uint16_t)(p->b[off] << 8 | p->b[off + 1]);
}

void pkt_truncate(struct pkt *p, uint32_t len)
{
	if (len < p->len)
		p->len = len;
}

void pkt_pad(struct pkt *p, uint32_t to_len)
{
	if (to_len > p->len)
		grow(p, to_len - p->len);
}

void pkt_ip4_csum_fix(struct pkt *p)
{
	const struct pb_layer *l = pkt_layer(p, PB_IP4);

	if (!l)
		die("pkt_ip4_csum_fix: no IPv4 header");
	ip4_csum(p, l);
}

void pkt_set_ip4_totlen(struct pkt *p, uint16_t tot, int fix_csum)
{
	pkt_set16(p, IP4_OFF(p, tot_len), tot);
	if (fix_csum)
		pkt_ip4_csum_fix(p);
}

void pkt_bytes(struct pkt *p, const void *data, uint32_t len)
{
	pb_init(p);
	if (len > PKT_MAX)
		die("pkt_bytes: too long");
	memcpy(p->b, data, len);
	p->len = len;
}

const struct pb_layer *pkt_layer(const struct pkt *p, enum pb_kind kind)
{
	for (int i = 0; i < p->n; i++)
		if (p->l[i].kind == kind)
			return &p->l[i];
	return NULL;
}
