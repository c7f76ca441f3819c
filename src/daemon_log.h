/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The daemon's own life-cycle events as structured log lines (docs/operations-logging.md):
 * one call per event, so the loop in daemon.c reads as before.
 */
#ifndef XL4_DAEMON_LOG_H
#define XL4_DAEMON_LOG_H

#include <stdbool.h>

#include "config.h"

void daemon_log_start(const struct xl4_config *cfg);
/* A start that cannot go on: key names what (iface, socket), error says why. */
void daemon_log_start_failed(const char *key, const char *value, const char *error);
/* how: "attached", "replaced" (an old program swapped out in one step) or "running" (adopted) */
void daemon_log_attach(const char *iface, const char *mode, unsigned prog_id, const char *how);
void daemon_log_detach(const char *iface, bool failed);
void daemon_log_ready(const struct xl4_config *cfg, int n_ifs);
void daemon_log_stop(int signo, bool detaching);

#endif
