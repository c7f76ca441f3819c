/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A small packet builder for the BPF fixtures, the random-packet generator and the tools.
 * A packet is built outside-in as a list of layers (pb_eth, pb_vlan, pb_ip4, pb_ext,
 * pb_tcp, ...); pb_finish() then fills in everything that depends on what follows: the
 * ethertypes and next-header fields, IPv4 tot_len/ihl, IPv6 payload_len, extension header
 * length fields, TCP doff, UDP len, and every checksum. After pb_finish() the mutators
 * (pkt_set8/16/32, pkt_truncate, pkt_pad, pkt_ip4_csum_fix) break what a fixture wants broken.
 *
 * Only documentation addresses are named: 198.18.0.0/15 (RFC 2544) and 2001:db8::/32.
 */
#ifndef XL4_TESTS_PKTBUILD_H
#define XL4_TESTS_PKTBUILD_H

#include <stddef.h>
#include <stdint.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/in6.h>

#define PKT_MAX 2048
#define PB_LAYERS_MAX 24

/* IPv4 addresses in host order. */
#define CLIENT4 0xc6120001u  /* 198.18.0.1 */
#define CLIENT4B 0xc6120002u /* 198.18.0.2 */
#define VIP4 0xc6120101u     /* 198.18.1.1 */
#define BACKEND4 0xc6120201u /* 198.18.2.1 */

/* IPv6 addresses: 2001:db8::1, 2001:db8::2, 2001:db8:1::1, 2001:db8:2::1. */
extern const struct in6_addr CLIENT6, CLIENT6B, VIP6, BACKEND6;

/* Fixed MACs: the client's router and our NIC. */
extern const uint8_t MAC_CLIENT[ETH_ALEN], MAC_NIC[ETH_ALEN];

#define CLIENT_PORT 40000
#define VIP_PORT 80

/* TCP flag bits (the 13th header byte). */
#define TH_FIN 0x01
#define TH_SYN 0x02
#define TH_RST 0x04
#define TH_PSH 0x08
#define TH_ACK 0x10
#define TH_URG 0x20
#define TH_ECE 0x40
#define TH_CWR 0x80

/* IPv4 frag_off field, host order. */
#define IP4_DF 0x4000
#define IP4_MF 0x2000

enum pb_kind { PB_ETH, PB_VLAN, PB_IP4, PB_IP6, PB_EXT, PB_TCP, PB_UDP, PB_ICMP, PB_ICMP6, PB_RAW };

struct pb_layer {
	enum pb_kind kind;
	uint8_t proto;	/* PB_EXT: its IPPROTO_*; PB_RAW: the protocol the IP header announces */
	uint16_t tpid;	/* PB_VLAN: the ethertype that announces this tag */
	uint16_t off;	/* where the layer starts */
	uint16_t hlen;	/* header bytes (payload appended with pb_payload is not counted) */
};

struct pkt {
	uint8_t b[PKT_MAX];
	uint32_t len;
	int n;
	struct pb_layer l[PB_LAYERS_MAX];
	int l3, l4; /* offsets of the (first) IP header and of the transport header; -1 if none */
};

struct pb_ip4 {
	uint32_t src, dst;   /* host order */
	uint16_t frag;	     /* frag_off, host order: IP4_DF | IP4_MF | offset in 8-byte units */
	uint16_t id;
	uint8_t ttl;	     /* 0 means 64 */
	uint8_t tos;
	const void *opts;    /* IPv4 options; optlen must be a multiple of 4 (<= 40) */
	uint8_t optlen;
};

struct pb_ip6 {
	struct in6_addr src, dst;
	uint8_t hop_limit; /* 0 means 64 */
};

/* Building: each call appends one layer at the end of the packet. */
void pb_init(struct pkt *p);
void pb_eth(struct pkt *p, uint16_t ethertype); /* ethertype: used when no IP/VLAN follows */
void pb_vlan(struct pkt *p, uint16_t tpid, uint16_t vid);
void pb_ip4(struct pkt *p, const struct pb_ip4 *s);
void pb_ip6(struct pkt *p, const struct pb_ip6 *s);
/* IPv6 extension header of `bytes` total length (hop-by-hop, routing, dstopts: a multiple of
 * 8; AH: a multiple of 4, >= 12). Its length field is set in the protocol's own unit. */
void pb_ext(struct pkt *p, uint8_t proto, uint16_t bytes);
/* IPv6 fragment header: offset in 8-byte units, M flag. */
void pb_frag6(struct pkt *p, uint16_t offset, int more, uint32_t id);
void pb_tcp(struct pkt *p, uint16_t sport, uint16_t dport, uint8_t flags);
void pb_tcp_opts(struct pkt *p, const void *opts, uint8_t n); /* after pb_tcp; n % 4 == 0 */
void pb_udp(struct pkt *p, uint16_t sport, uint16_t dport);
void pb_icmp(struct pkt *p, uint8_t type, uint8_t code);  /* 8 bytes: type code csum id seq */
void pb_icmp6(struct pkt *p, uint8_t type, uint8_t code); /* 8 bytes: type code csum body */
void pb_raw(struct pkt *p, uint8_t proto, const void *data, uint16_t n); /* opaque L4 */
void pb_payload(struct pkt *p, const void *data, uint16_t n); /* NULL data: a byte pattern */
void pb_finish(struct pkt *p);

/* Mutators, used after pb_finish(). Offsets are from the start of the frame; values in host
 * order are written in network order. None of them fixes a checksum. */
/* Network-order 16- and 32-bit values at b (raw bytes: no frame bounds). */
static inline uint16_t rd16(const uint8_t *b)
{
	return (uint16_t)(b[0] << 8 | b[1]);
}

static inline uint32_t rd32(const uint8_t *b)
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

void pkt_set8(struct pkt *p, uint32_t off, uint8_t v);
void pkt_set16(struct pkt *p, uint32_t off, uint16_t v);
void pkt_set32(struct pkt *p, uint32_t off, uint32_t v);
uint16_t pkt_get16(const struct pkt *p, uint32_t off);
void pkt_truncate(struct pkt *p, uint32_t len); /* cut the frame; headers keep their lengths */
void pkt_pad(struct pkt *p, uint32_t to_len);	/* link padding up to to_len bytes (zeros) */
void pkt_ip4_csum_fix(struct pkt *p);		/* recompute the first IPv4 header checksum */
void pkt_set_ip4_totlen(struct pkt *p, uint16_t tot, int fix_csum);
void pkt_bytes(struct pkt *p, const void *data, uint32_t len); /* a frame from raw bytes */

/* Queries. */
const struct pb_layer *pkt_layer(const struct pkt *p, enum pb_kind kind); /* first, or NULL */
uint16_t pb_csum(const void *data, size_t len, uint32_t sum); /* folded one's complement */

/* Field offsets inside the first layer of a kind, for the mutators. */
#define IP4_OFF(p, field) ((p)->l3 + offsetof(struct iphdr, field))
#define IP6_OFF(p, field) ((p)->l3 + offsetof(struct ipv6hdr, field))
#define TCP_FLAGS_OFF(p) ((p)->l4 + 13)
#define TCP_DOFF_OFF(p) ((p)->l4 + 12)

#endif
