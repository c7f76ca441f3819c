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
	/* Joining, a node waits until every backend is up here (or it has waited as long as a
	 * dead one takes to fail its checks): a backend its checker still has up (they start
	 * up) but its peers have down, one it cannot reach yet, or one whose MAC it does not
	 * know yet would give it another Maglev table than theirs, and the flows ECMP moves to
	 * it would change backend. */
	if (in->joining && in->unsettled) {
		snprintf(why, len,
			 "joining: no verdict yet on %zu of %zu backends (health check, MAC)",
			 in->unsettled, in->backends);
		return false;
	}
	if (in->usable < in->min_healthy) {
		snprintf(why, len, "%zu of %zu backends usable, below min_healthy %u", in->usable,
			 in->backends, in->min_healthy);
		return false;
	}
	snprintf(why, len, "%zu of %zu backends usable", in->usable, in->backends);
	return true;
}
