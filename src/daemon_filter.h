/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The daemon's filter job: allow/block lists, destination rules and the global per-source
 * limit from the config at start, runtime changes from the control socket, and a once-a-second
 * sweep of expired list entries. Every change goes through src/filter_state.c, all or nothing.
 */
#ifndef XL4_DAEMON_FILTER_H
#define XL4_DAEMON_FILTER_H

#include <stdbool.h>
#include <jansson.h>

#include "config.h"
#include "daemon_job.h"
#include "engine.h"
#include "filter_state.h"

struct daemon_filter {
	struct xl4_filter f;
	uint32_t new_sources_per_sec;
	bool ready;
};

/* The filter's row of the daemon's jobs (daemon_job.h). start: take over what a previous run
 * left in the pinned filter maps, then apply env->cfg->filter over it (docs/operations.md).
 * 0 or -errno, with one line logged naming the entry refused. */
int daemon_filter_start(void *d, const struct daemon_env *env);
void daemon_filter_stop(void *d);
/* Reload: the file's lists, rules and limit replace the previous file's; runtime list entries
 * stay. 0, or -errno with "filter.KEY: problem" in err. */
int daemon_filter_reload(void *d, const struct xl4_config *old, const struct xl4_config *cfg,
			 char *err, size_t errlen);
/* Once a second: remove list entries whose expiry passed. */
void daemon_filter_tick(void *d);
/* Control requests "allow-*", "block-*", "rule-*", "limit-*". */
extern const struct xl4_ctl_cmd daemon_filter_cmds[];
/* For `xl4 status`: rules, the global limit, entries waiting to expire. */
json_t *daemon_filter_json(struct daemon_filter *d);
/* The same, as the status object's "filter". */
void daemon_filter_status(void *d, json_t *status);

#endif
