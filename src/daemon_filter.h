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
#include "engine.h"
#include "filter_state.h"

struct daemon_filter {
	struct xl4_filter f;
	uint32_t new_sources_per_sec;
	bool ready;
};

/* Take over what a previous run left in the pinned filter maps, then apply cfg->filter over
 * it (docs/operations.md). 0 or -errno, with one line logged naming the entry refused. */
int daemon_filter_start(struct daemon_filter *d, const struct xl4_config *cfg,
			struct xl4_engine *eng);
void daemon_filter_stop(struct daemon_filter *d);
/* Reload: the file's lists, rules and limit replace the previous file's; runtime list entries
 * stay. 0, or -errno with "filter.KEY: problem" in err. */
int daemon_filter_reload(void *d, const struct xl4_config *old, const struct xl4_config *cfg,
			 char *err, size_t errlen);
/* Once a second: remove list entries whose expiry passed. */
void daemon_filter_tick(struct daemon_filter *d);
/* Control requests "allow-*", "block-*", "rule-*", "limit-*"; NULL when cmd is not one. */
json_t *daemon_filter_request(struct daemon_filter *d, const char *cmd, json_t *req);
/* For `xl4 status`: rules, the global limit, entries waiting to expire. */
json_t *daemon_filter_json(struct daemon_filter *d);

#endif
