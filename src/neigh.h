/* SPDX-License-Identifier: GPL-2.0 */
/* Backend MAC addresses from the kernel's neighbour table (ARP / NDP), over rtnetlink. */
#ifndef XL4_NEIGH_H
#define XL4_NEIGH_H

#include <stdint.h>
#include <linux/types.h>

/* Look up family (4/6) addr in the neighbour table of ifindex (0: any interface). Returns 0
 * with mac filled for a usable entry, -ENOENT when there is none (yet), or -errno. */
int xl4_neigh_lookup(int ifindex, int family, const __be32 addr[4], uint8_t mac[6]);
/* Make the kernel resolve addr: send one empty UDP datagram to its discard port (9). */
void xl4_neigh_provoke(int family, const __be32 addr[4]);

#endif
