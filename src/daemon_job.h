/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The daemon's jobs: each subsystem is one row of the jobs table in src/daemon.c, naming what
 * the daemon's loop calls and when. Every hook may be NULL.
 *
 *   start    at start, in table order (a job may use the jobs before it, through env);
 *            0 or -errno, with the reason logged
 *   stop     in reverse order; also for a job whose start failed half-way
 *   tick     once a second, in table order
 *   request  its control commands (control.h): a request goes to the row that names it
 *   reload   `xl4 reload` and SIGHUP, in table order (struct xl4_reloader, src/reload.h)
 *   json     adds its part to the status object (`xl4 status`, the metrics, `vip-list`)
 *   fd       an fd for the loop to poll (-1: none now; it may change on reload) ...
 *   on_fd    ... and what to do when it is readable
 */
#ifndef XL4_DAEMON_JOB_H
#define XL4_DAEMON_JOB_H

#include <stddef.h>
#include <jansson.h>

#include "config.h"
#include "control.h"
#include "engine.h"

struct daemon_lb;
struct daemon_filter;

/* What a job's start is given: the configuration and datapath, and the jobs that others lean
 * on (the guard reads the LB's VIPs and blocks through the filter). */
struct daemon_env {
	const struct xl4_config *cfg;
	struct xl4_engine *eng;
	int ifindex;			/* the first interface: backends' MACs are found there */
	struct daemon_lb *lb;
	struct daemon_filter *filter;
};

struct daemon_job {
	const char *name;		/* "lb", "filter", ... (prefixes its reload errors) */
	size_t state;			/* offsetof(struct daemon, the job's state) */
	int (*start)(void *state, const struct daemon_env *env);
	void (*stop)(void *state);
	void (*tick)(void *state);
	const struct xl4_ctl_cmd *request;
	int (*reload)(void *state, const struct xl4_config *old, const struct xl4_config *cfg,
		      char *err, size_t errlen);
	void (*json)(void *state, json_t *status);
	int (*fd)(const void *state);
	void (*on_fd)(void *state);
};

#endif
