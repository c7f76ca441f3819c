/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The VIP routes a cluster node announces (docs/scale-out.md): one blackhole host route per
 * VIP address in a kernel routing table of its own, tagged with protocol XL4_RTPROT so the
 * daemon finds and removes exactly its own (a route someone else put in the table is never
 * touched). BIRD learns the table and exports it over BGP; the route itself carries no
 * traffic (XDP takes the VIP's packets before the kernel's routing sees them, and no rule
 * points at the table).
 */
#ifndef XL4_ROUTES_H
#define XL4_ROUTES_H

#include <stdbool.h>
#include <stdint.h>
#include <linux/types.h>

/* "xl4" in /etc/iproute2/rt_protos.d/xl4.conf; unused by the kernel and the routing daemons
 * iproute2 names. */
#define XL4_RTPROT 76

struct xl4_route {
	int family; /* 4 or 6 */
	__be32 addr[4];
};

struct xl4_routes;

#define XL4_ROUTES_LIST_MAX 256

/* A netlink socket for the table; NULL with errno set. */
struct xl4_routes *xl4_routes_open(uint32_t table);
void xl4_routes_close(struct xl4_routes *r);
uint32_t xl4_routes_table(const struct xl4_routes *r);
/* Put (ours already there: no error; someone else's route for the address: -EEXIST, left
 * alone) or take away (a route already gone is no error) the host route for one address.
 * 0 or -errno. */
int xl4_route_put(struct xl4_routes *r, const struct xl4_route *rt);
int xl4_route_del(struct xl4_routes *r, const struct xl4_route *rt);
/* The host routes with protocol XL4_RTPROT in the table, up to max of them. The count
 * (which may exceed max) or -errno. */
int xl4_routes_list(struct xl4_routes *r, struct xl4_route *out, int max);

bool xl4_route_eq(const struct xl4_route *a, const struct xl4_route *b);
/* "198.18.1.1/32", "2001:db8::1/128" */
void xl4_route_str(const struct xl4_route *rt, char *buf, size_t len);

#endif
