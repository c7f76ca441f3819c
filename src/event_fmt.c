// SPDX-License-Identifier: GPL-2.0
#include <arpa/inet.h>
#include <net/if.h>
#include <stdio.h>

#include "event_fmt.h"
#include "names.h"

void xl4_tuple_addr(const struct xl4_tuple *t, int dst, char *buf, size_t len)
{
	const void *a = dst ? (const void *)t->daddr : (const void *)t->saddr;

	inet_ntop(t->flags & XL4_F_IPV6 ? AF_INET6 : AF_INET, a, buf, len);
}

json_t *xl4_event_json(const struct xl4_event *ev)
{
	char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN], ifname[IF_NAMESIZE] = "";
	char hex[2 * XL4_SAMPLE_BYTES + 1];
	__u32 n = ev->cap_len < XL4_SAMPLE_BYTES ? ev->cap_len : XL4_SAMPLE_BYTES;
	json_t *o;

	for (__u32 i = 0; i < n; i++)
		snprintf(hex + 2 * i, 3, "%02x", ev->head[i]);
	hex[2 * n] = '\0';
	if_indextoname(ev->ifindex, ifname);
	o = json_pack("{s:I, s:s, s:s, s:s, s:i, s:s}", "ts_ns", (json_int_t)ev->ts_ns, "type", "drop",
		      "reason", xl4_reason_name(ev->reason), "ifname", ifname, "len", (int)ev->pkt_len,
		      "head", hex);
	if (ev->tuple.saddr[0] || ev->tuple.daddr[0] || (ev->tuple.flags & XL4_F_IPV6)) {
		xl4_tuple_addr(&ev->tuple, 0, src, sizeof(src));
		xl4_tuple_addr(&ev->tuple, 1, dst, sizeof(dst));
		json_object_set_new(o, "src", json_string(src));
		json_object_set_new(o, "dst", json_string(dst));
		json_object_set_new(o, "proto", json_integer(ev->tuple.proto));
		json_object_set_new(o, "sport", json_integer(ntohs(ev->tuple.sport)));
		json_object_set_new(o, "dport", json_integer(ntohs(ev->tuple.dport)));
	}
	return o;
}
