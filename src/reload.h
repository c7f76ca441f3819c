/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Config reload (`xl4 reload`, SIGHUP): the whole new file is parsed and validated first;
 * settings that only a restart can change are refused by name ("needs restart: KEY"); then
 * each subsystem applies its part as one change (docs/operations.md). On any error the
 * running configuration stays and the error says exactly what was wrong.
 *
 * A subsystem joins through its row in the daemon's jobs table (src/daemon.c, daemon_job.h),
 * whose reload(state, old, new, err, errlen) makes its state what new says, all or nothing,
 * or leaves it as it was and explains why in err; the daemon hands these on as reloaders.
 */
#ifndef XL4_RELOAD_H
#define XL4_RELOAD_H

#include <stddef.h>

#include "config.h"

struct xl4_reloader {
	const char *name; /* "lb", "filter", ... (prefixes its errors) */
	int (*reload)(void *state, const struct xl4_config *old, const struct xl4_config *cfg,
		      char *err, size_t errlen);
	void *state;
};

/* Read cur->path again into *next, keeping what the command line set and the running Maglev
 * seed when the file sets none. 0, or -errno with "FILE:LINE: KEY: problem" or
 * "needs restart: KEY (old -> new)" in err; *next is then untouched. */
int xl4_reload_prepare(const struct xl4_config *cur, struct xl4_config *next, char *err,
		       size_t errlen);

/* Run each reloader in order; stops at the first error ("FILE: NAME: problem; the reload
 * stopped there (applied before it: ...)"). */
int xl4_reload_apply(const struct xl4_reloader *subs, size_t n, const struct xl4_config *cur,
		     const struct xl4_config *next, char *err, size_t errlen);

#endif
