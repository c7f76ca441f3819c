/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Whether a node announces a VIP (docs/scale-out.md): the rule alone, without the daemon, so
 * the tests can walk every case.
 */
#ifndef XL4_CLUSTER_H
#define XL4_CLUSTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct xl4_announce_in {
	bool attached; /* the program runs on every interface of the node */
	bool leaving; /* the daemon is stopping or detaching */
	bool drained; /* `xl4 cluster drain` */
	uint32_t min_healthy; /* cluster.min_healthy */
	size_t usable; /* backends that take new flows, their health seen by this node */
	size_t unsettled; /* backends this node has no verdict on yet (health check, MAC) */
	bool joining; /* the VIP has not been announced since the daemon started */
	size_t backends; /* all its backends */
};

/* true: the VIP should be announced. why gets the reason either way, in a few words. */
bool xl4_announce_decide(const struct xl4_announce_in *in, char *why, size_t len);

#endif
