/* SPDX-License-Identifier: GPL-2.0 */
/* `xl4 replay`: the real XDP program over every packet of a capture (see docs/replay.md). */
#ifndef XL4_REPLAY_H
#define XL4_REPLAY_H

#include <stdbool.h>
#include <stdint.h>
#include "config.h"

struct xl4_replay_opts {
	const char *capture;
	const char *write_path; /* NULL: no output capture */
	bool json;
	bool quiet; /* summary only */
	int guard_force;      /* -1: as configured; else enum xl4_guard_override for every TCP VIP */
	uint32_t guard_level; /* with XL4_GUARD_OV_ON: enum xl4_guard_level (0: by guard.response) */
};

/* Returns a process exit code: 0, or 1 with the reason logged. */
int xl4_replay(const struct xl4_config *cfg, const struct xl4_replay_opts *o);

#endif
