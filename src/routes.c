// SPDX-License-Identifier: GPL-2.0
/* VIP host routes in the cluster's kernel table, through rtnetlink (libmnl). */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <libmnl/libmnl.h>
#include <linux/rtnetlink.h>

#include "routes.h"

struct xl4_routes {
	struct mnl_socket *nl;
	uint32_t table;
	uint32_t portid;
	uint32_t seq;
};

struct xl4_routes *xl4_routes_open(uint32_t table)
{
	struct xl4_routes *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->nl = mnl_socket_open(NETLINK_ROUTE);
	if (!r->nl || mnl_socket_bind(r->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		int e = errno;

		if (r->nl)
			mnl_socket_close(r->nl);
		free(r);
		errno = e;
		return NULL;
	}
	r->table = table;
	r->portid = mnl_socket_get_portid(r->nl);
	/* Dumps filtered by the kernel (table, protocol): a node with a full BGP table in main
	 * must not copy it every second. Kernels before 4.20 lack it: we filter below anyway. */
	{
		int one = 1;

		mnl_socket_setsockopt(r->nl, NETLINK_GET_STRICT_CHK, &one, sizeof(one));
	}
	r->seq = (uint32_t)time(NULL);
	return r;
}

void xl4_routes_close(struct xl4_routes *r)
{
	if (!r)
		return;
	mnl_socket_close(r->nl);
	free(r);
}

uint32_t xl4_routes_table(const struct xl4_routes *r)
{
	return r->table;
}

/* One request, then its answers until the ack (or the dump's end) arrive; cb sees each. */
static int transact(struct xl4_routes *r, struct nlmsghdr *nlh, mnl_cb_t cb, void *data)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	uint32_t seq = nlh->nlmsg_seq;
	int ret;

	if (mnl_socket_sendto(r->nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	while ((ret = mnl_socket_recvfrom(r->nl, buf, sizeof(buf))) > 0) {
		ret = mnl_cb_run(buf, ret, seq, r->portid, cb, data);
		if (ret <= MNL_CB_STOP)
			break;
	}
	return ret < 0 ? -errno : 0;
}

static struct nlmsghdr *route_msg(struct xl4_routes *r, char *buf, uint16_t type, uint16_t flags,
				  const struct xl4_route *rt)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct rtmsg *rtm;

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
	nlh->nlmsg_seq = ++r->seq;
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = rt->family == 6 ? AF_INET6 : AF_INET;
	rtm->rtm_dst_len = rt->family == 6 ? 128 : 32;
	/* The table goes in RTA_TABLE: rtm_table holds only 8 bits. */
	rtm->rtm_table = r->table < 256 ? r->table : RT_TABLE_UNSPEC;
	rtm->rtm_protocol = XL4_RTPROT;
	rtm->rtm_scope = RT_SCOPE_UNIVERSE;
	rtm->rtm_type = RTN_BLACKHOLE;
	mnl_attr_put(nlh, RTA_DST, rt->family == 6 ? 16 : 4, rt->addr);
	mnl_attr_put_u32(nlh, RTA_TABLE, r->table);
	return nlh;
}

int xl4_route_put(struct xl4_routes *r, const struct xl4_route *rt)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct xl4_route ours[XL4_ROUTES_LIST_MAX];
	int ret, n;

	/* EXCL: a route someone else keeps for the address is never overwritten (a REPLACE
	 * would make it ours, and the next withdraw would delete it). */
	ret = transact(r, route_msg(r, buf, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, rt), NULL,
		       NULL);
	if (ret != -EEXIST)
		return ret;
	n = xl4_routes_list(r, ours, XL4_ROUTES_LIST_MAX);
	for (int i = 0; i < n && i < XL4_ROUTES_LIST_MAX; i++)
		if (xl4_route_eq(&ours[i], rt))
			return 0; /* ours already */
	return -EEXIST;
}

int xl4_route_del(struct xl4_routes *r, const struct xl4_route *rt)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	/* The kernel deletes only a route with our protocol (it matches a non-zero one). */
	int ret = transact(r, route_msg(r, buf, RTM_DELROUTE, 0, rt), NULL, NULL);

	return ret == -ESRCH || ret == -ENOENT ? 0 : ret;
}

struct list_ctx {
	uint32_t table;
	struct xl4_route *out;
	int max, n;
};

static int attr_cb(const struct nlattr *a, void *data)
{
	const struct nlattr **tb = data;
	int type = mnl_attr_get_type(a);

	if (type <= RTA_MAX)
		tb[type] = a;
	return MNL_CB_OK;
}

static int list_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[RTA_MAX + 1] = { 0 };
	const struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);
	struct list_ctx *c = data;
	struct xl4_route rt = { .family = rtm->rtm_family == AF_INET6 ? 6 : 4 };
	uint32_t table = rtm->rtm_table;
	size_t alen = rt.family == 6 ? 16 : 4;

	if (rtm->rtm_protocol != XL4_RTPROT || rtm->rtm_dst_len != alen * 8)
		return MNL_CB_OK;
	mnl_attr_parse(nlh, sizeof(*rtm), attr_cb, tb);
	if (tb[RTA_TABLE])
		table = mnl_attr_get_u32(tb[RTA_TABLE]);
	if (table != c->table || !tb[RTA_DST] || mnl_attr_get_payload_len(tb[RTA_DST]) != alen)
		return MNL_CB_OK;
	memcpy(rt.addr, mnl_attr_get_payload(tb[RTA_DST]), alen);
	if (c->n < c->max)
		c->out[c->n] = rt;
	c->n++;
	return MNL_CB_OK;
}

int xl4_routes_list(struct xl4_routes *r, struct xl4_route *out, int max)
{
	struct list_ctx c = { .table = r->table, .out = out, .max = max };
	static const int families[] = { AF_INET, AF_INET6 };

	for (size_t i = 0; i < sizeof(families) / sizeof(families[0]); i++) {
		char buf[MNL_SOCKET_BUFFER_SIZE];
		struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
		struct rtmsg *rtm;
		int ret;

		int n0 = c.n;

		nlh->nlmsg_type = RTM_GETROUTE;
		nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
		nlh->nlmsg_seq = ++r->seq;
		rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
		rtm->rtm_family = families[i];
		rtm->rtm_protocol = XL4_RTPROT;
		rtm->rtm_table = r->table < 256 ? r->table : RT_TABLE_UNSPEC;
		mnl_attr_put_u32(nlh, RTA_TABLE, r->table);
		/* A dump the kernel interrupted (routes changed meanwhile) is read again. */
		for (int tries = 0; (ret = transact(r, nlh, list_cb, &c)) == -EINTR && tries < 3;
		     tries++) {
			c.n = n0;
			nlh->nlmsg_seq = ++r->seq;
		}
		/* A filtered dump of a table that has no route yet: "does not exist". */
		if (ret && ret != -ENOENT)
			return ret;
	}
	return c.n;
}

bool xl4_route_eq(const struct xl4_route *a, const struct xl4_route *b)
{
	return a->family == b->family && !memcmp(a->addr, b->addr, a->family == 6 ? 16 : 4);
}

void xl4_route_str(const struct xl4_route *rt, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN] = "?";

	inet_ntop(rt->family == 6 ? AF_INET6 : AF_INET, rt->addr, a, sizeof(a));
	snprintf(buf, len, "%s/%d", a, rt->family == 6 ? 128 : 32);
}
