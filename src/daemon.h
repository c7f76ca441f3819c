/* SPDX-License-Identifier: GPL-2.0 */
/* `xl4 daemon`: load, attach, pin, serve the control socket, collect stats and events. */
#ifndef XL4_DAEMON_H
#define XL4_DAEMON_H

#include <stdbool.h>
#include <stdio.h>

#include "config.h"

struct xl4_daemon_opts {
	bool detach_on_exit; /* SIGTERM/SIGINT detach; otherwise the program stays attached */
	bool upgrade;	     /* load and swap in a new program even if the running one matches */
};

/* Runs until SIGINT/SIGTERM or 'xl4 detach'; returns a process exit code. The XDP program
 * stays attached when it returns unless opts->detach_on_exit (docs/operations.md). */
int xl4_daemon_run(const struct xl4_config *cfg, const struct xl4_daemon_opts *opts);

/* Every control command the daemon answers, from its tables, as the Markdown table in
 * docs/architecture.md (tests/unit/test_ctl_table.c checks that the two agree). */
void xl4_daemon_commands_markdown(FILE *out);

#endif
