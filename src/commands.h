/* SPDX-License-Identifier: GPL-2.0 */
/* The subcommand table: each command is defined next to its handler (src/cmd_*.c). */
#ifndef XL4_COMMANDS_H
#define XL4_COMMANDS_H

#include <jansson.h>

#include "cli.h"

extern const struct xl4_cmd xl4_cmd_daemon, xl4_cmd_status, xl4_cmd_stats, xl4_cmd_events,
	xl4_cmd_replay, xl4_cmd_cleanup, xl4_cmd_check, xl4_cmd_reasons, xl4_cmd_agent,
	xl4_cmd_vip, xl4_cmd_backend, xl4_cmd_block, xl4_cmd_allow, xl4_cmd_rule, xl4_cmd_limit,
	xl4_cmd_top, xl4_cmd_guard, xl4_cmd_reload, xl4_cmd_detach, xl4_cmd_config,
	xl4_cmd_cluster;

/* Where client commands find the daemon and the pins: option, then environment, then default. */
const char *xl4_default_socket(void);
const char *xl4_default_pin_path(void);
/* The --socket given, or the default. */
const char *xl4_socket(const struct xl4_args *a);

/* A JSON value on one line (null for NULL). */
void xl4_print_json(json_t *v);
/* The run of a verb that lists: asks for verb->request and prints the reply's verb->reply
 * member as JSON (--json) or with verb->print. */
int xl4_verb_list(const struct xl4_cmd *cmd, const struct xl4_verb *verb, void *args, int argc,
		  char **argv);

/* VIPs with their backends, state and counters, as `xl4 vip list` and `xl4 status` show them. */
void xl4_print_vips(json_t *vips);
/* A VIP's "guard" object as text, each line starting with indent. */
void xl4_print_vip_guard(json_t *guard, const char *indent);

#endif
