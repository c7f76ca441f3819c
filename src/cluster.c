// SPDX-License-Identifier: GPL-2.0
#include <stdio.h>

#include "cluster.h"

bool xl4_announce_decide(const struct xl4_announce_in *in, char *why, size_t len)
{
	/* In the order an operator would look: what this node is doing, then the backends. */
	if (in->leaving) {
		snprintf(why, len, "daemon stopping");
		return false;
	}
	if (!in->attached) {
		snprintf(why, len, "program not attached");
		return false;
	}
	if (in->drained) {
		snprintf(why, len, "node drained");
		return false;
	}
	/* A node that has not reached its backends yet draws no traffic. */
	if (in->usable - in->unchecked < in->min_healthy) {
		if (in->usable >= in->min_healthy)
			snprintf(why, len,
				 "waiting for health checks: %zu of %zu usable backends "
				 "not checked yet",
				 in->unchecked, in->usable);
		else
			snprintf(why, len, "%zu of %zu backends usable, below min_healthy %u",
				 in->usable, in->backends, in->min_healthy);
		return false;
	}
	snprintf(why, len, "%zu of %zu backends usable", in->usable, in->backends);
	return true;
}
