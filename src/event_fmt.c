// SPDX-License-Identifier: GPL-2.0
#include <arpa/inet.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>

#include "event_fmt.h"
#include "names.h"

struct head_addrs {
	int family; /* AF_INET, AF_INET6 or 0 */
	unsigned char src[16], dst[16];
	int proto, sport, dport; /* -1 when not in the sample */
};

/* Lenient decode of a sampled frame head, for display only: the packet was dropped, maybe
 * for being malformed, so take whatever fields the captured bytes hold. */
static void decode_head(const unsigned char *h, unsigned n, struct head_addrs *a)
{
	unsigned off = 12, l4 = 0;
	unsigned proto;

	memset(a, 0, sizeof(*a));
	a->proto = a->sport = a->dport = -1;
	if (n < 14)
		return;
	proto = h[12] << 8 | h[13];
	for (int i = 0; i < 2 && (proto == 0x8100 || proto == 0x88a8) && off + 6 <= n; i++) {
		off += 4;
		proto = h[off] << 8 | h[off + 1];
	}
	off += 2;
	if (proto == 0x0800 && off + 20 <= n && (h[off] >> 4) == 4) {
		a->family = AF_INET;
		memcpy(a->src, h + off + 12, 4);
		memcpy(a->dst, h + off + 16, 4);
		a->proto = h[off + 9];
		/* a bad IHL leaves no trustworthy transport header, and a later fragment none at
		 * all (what follows its IP header is payload) */
		if ((h[off] & 0xf) >= 5 && !((h[off + 6] << 8 | h[off + 7]) & 0x1fff))
			l4 = off + (h[off] & 0xf) * 4;
	} else if (proto == 0x86dd && off + 40 <= n && (h[off] >> 4) == 6) {
		a->family = AF_INET6;
		memcpy(a->src, h + off + 8, 16);
		memcpy(a->dst, h + off + 24, 16);
		a->proto = h[off + 6];
		l4 = off + 40;
	}
	if ((a->proto == 6 || a->proto == 17) && l4 > off && l4 + 4 <= n) {
		a->sport = h[l4] << 8 | h[l4 + 1];
		a->dport = h[l4 + 2] << 8 | h[l4 + 3];
	}
}

int xl4_event_read(const void *data, size_t size, struct xl4_event *ev)
{
	if (size < XL4_EVENT_V1_SIZE)
		return 0;
	memset(ev, 0, sizeof(*ev));
	memcpy(ev, data, size < sizeof(*ev) ? size : sizeof(*ev));
	return 1;
}

json_t *xl4_event_json(const struct xl4_event *ev)
{
	char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN], ifname[IF_NAMESIZE] = "";
	char hex[2 * XL4_SAMPLE_BYTES + 1];
	__u32 n = ev->cap_len < XL4_SAMPLE_BYTES ? ev->cap_len : XL4_SAMPLE_BYTES;
	struct head_addrs a;
	json_t *o;

	for (__u32 i = 0; i < n; i++)
		snprintf(hex + 2 * i, 3, "%02x", ev->head[i]);
	hex[2 * n] = '\0';
	if_indextoname(ev->ifindex, ifname);
	o = json_pack("{s:I, s:s, s:s, s:s, s:i, s:s}", "ts_ns", (json_int_t)ev->ts_ns, "type", "drop",
		      "reason", xl4_reason_name(ev->reason), "ifname", ifname, "len", (int)ev->pkt_len,
		      "head", hex);
	decode_head(ev->head, n, &a);
	/* The parser's transport fields win: with IPv4 options, extension headers or two VLAN
	 * tags the head ends before the ports (a flood hiding there must still be seen). */
	if (a.family && (ev->l4_flags & XL4_EV_L4_PROTO))
		a.proto = ev->l4_proto;
	if (a.family && (ev->l4_flags & XL4_EV_L4_PORTS)) {
		a.sport = ntohs(ev->sport);
		a.dport = ntohs(ev->dport);
	} /* else the head's: a transport header the parser refused (bad flags, say) still shows */
	if (a.family) {
		inet_ntop(a.family, a.src, src, sizeof(src));
		inet_ntop(a.family, a.dst, dst, sizeof(dst));
		json_object_set_new(o, "src", json_string(src));
		json_object_set_new(o, "dst", json_string(dst));
		json_object_set_new(o, "proto", json_integer(a.proto));
	}
	if (ev->reason == XL4_R_FILTER_BLOCK && a.family && ev->detail <= (a.family == AF_INET ? 32u : 128u)) {
		/* detail is the matching blocklist entry's length: show the prefix itself */
		unsigned char m[16];
		char pfx[INET6_ADDRSTRLEN + 4];
		int bytes = a.family == AF_INET ? 4 : 16;

		memcpy(m, a.src, bytes);
		for (int i = 0; i < bytes; i++) {
			int keep = (int)ev->detail - i * 8;

			m[i] &= keep >= 8 ? 0xff : keep <= 0 ? 0 : (unsigned char)(0xff << (8 - keep));
		}
		inet_ntop(a.family, m, pfx, INET6_ADDRSTRLEN);
		snprintf(pfx + strlen(pfx), 5, "/%u", ev->detail);
		json_object_set_new(o, "blocked_by", json_string(pfx));
	} else if (ev->detail) {
		json_object_set_new(o, "rule", json_integer(ev->detail));
	}
	if (a.sport >= 0) {
		json_object_set_new(o, "sport", json_integer(a.sport));
		json_object_set_new(o, "dport", json_integer(a.dport));
	}
	return o;
}
