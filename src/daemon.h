/* SPDX-License-Identifier: GPL-2.0 */
/* `xl4 daemon`: load, attach, pin, serve the control socket, collect stats and events. */
#ifndef XL4_DAEMON_H
#define XL4_DAEMON_H

#include "config.h"

/* Runs until SIGINT/SIGTERM; returns a process exit code. */
int xl4_daemon_run(const struct xl4_config *cfg);

#endif
