/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The daemon's flood-guard job (docs/guard.md): the kernel's settings written at start; once a
 * second each VIP's guard counters into rates and its effective mode, mode changes logged as
 * events; the analyzer thread fed with those rates and with sampled guard drops, and its
 * decisions applied here on the loop (forcing a mode, blocking a prefix's new SYNs to one VIP
 * through the filter's blocklist, within guard.analyzer.max_blocks);
 * the control requests guard-set, guard-show, guard-verified and guard-unverify.
 */
#ifndef XL4_DAEMON_GUARD_H
#define XL4_DAEMON_GUARD_H

#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>

#include "analyzer_thread.h"
#include "config.h"
#include "daemon_filter.h"
#include "daemon_job.h"
#include "engine.h"
#include "guard_state.h"
#include "guard_vbits.h"
#include "lb_state.h"

#define DAEMON_GUARD_EVENTS 32

enum guard_setter { GUARD_BY_NONE = 0, GUARD_BY_OPERATOR, GUARD_BY_ANALYZER };

struct daemon_guard_vip {
	bool used;
	uint32_t gen;			/* bumped when the id names another VIP */
	char name[32], addr[96];
	struct xl4_guard_snap prev, cur;
	uint64_t t_prev, t_cur;		/* when they were read (CLOCK_MONOTONIC ns) */
	double syn, ack;		/* per second, over the last interval */
	uint32_t level;			/* effective level at the last tick */
	uint64_t since_ns;		/* in this mode since */
	uint64_t mode_changes;
	enum guard_setter set_by;	/* who wrote the override in force */
	char reason[256];		/* why it is in the mode it is in */
};

struct daemon_guard_event {
	uint64_t ts_ns;
	char vip[32];
	char text[320];
};

/* What the analyzer's thread reads to spare a prefix (fds only: the loop's state is not
 * shared). */
struct daemon_guard_proof {
	int ct_fd, ct4_fd; /* the connection table: IPv6 flows, IPv4 flows */
	int block4_fd, block6_fd; /* the blocklist's tries (a block already there: its deadline) */
	struct xl4_guard_maps maps;
};

struct daemon_guard {
	struct xl4_guard_maps maps;
	struct xl4_guard_conf conf;
	struct xl4_lb *lb;
	struct daemon_filter *filter;
	struct daemon_guard_vip v[XL4_MAX_VIPS];
	uint32_t next_gen;
	struct daemon_guard_event ev[DAEMON_GUARD_EVENTS];
	uint64_t n_ev;
	struct xl4_an_thread *an;
	uint64_t analyzer_blocks;
	struct daemon_guard_proof proof;
	long verified_sources;
	uint64_t verified_counted_ns;
	/* the verified-source bits refreshed with each count (src/guard_vbits.h): the live
	 * ones, mapped, and the walk's and the copy taken before it, allocated at the first walk
	 * (each the map's size: 256 KiB by default, include/xl4/abi.h) */
	struct xl4_gvbits vb_live;
	__u64 *vb_fresh, *vb_before;
	int vb_err; /* why the bits could not be mapped (0: they were, or not tried yet) */
	long verified_bits; /* bits set after the last refresh (0 before the first) */
	uint64_t key_drawn_ns; /* the last time a cookie key was drawn (0: not by this daemon) */
	int key_err;	       /* the last rotation's error, logged once until it clears */
	bool ready;
};

/* The guard's row of the daemon's jobs (daemon_job.h). start: write the kernel's settings and
 * the cookie keys (those of a previous run kept while their epochs last), start the analyzer;
 * it reads env->lb's VIPs and blocks through env->filter. 0 or -errno, with the reason logged. */
int daemon_guard_start(void *g, const struct daemon_env *env);
void daemon_guard_stop(void *g);
/* Reload (struct xl4_reloader): the kernel's thresholds in one update, the analyzer restarted
 * when its settings changed (its fd then changes: the loop registers it again). Slot and table
 * sizes are map sizes: reload.c refuses those as "needs restart". */
int daemon_guard_reload(void *g, const struct xl4_config *old, const struct xl4_config *cfg,
			char *err, size_t errlen);
/* Once a second: rates, modes, events, the analyzer's input. */
void daemon_guard_tick(void *g);
/* The analyzer's decisions: the fd the loop polls (-1: none) and its handler. */
int daemon_guard_analyzer_fd(const void *g);
void daemon_guard_on_analyzer(void *g);
/* A sampled drop from the ring buffer (guard reasons feed the analyzer). */
void daemon_guard_on_event(struct daemon_guard *g, const struct xl4_event *ev);
/* Add each VIP's "guard" object (by "id") to a VIP list from daemon_lb_json(). */
void daemon_guard_annotate(struct daemon_guard *g, json_t *vips);
/* Deployment-wide: enabled, response, verified sources, analyzer blocks. */
json_t *daemon_guard_json(struct daemon_guard *g);
/* The status object: each of its "vips" annotated, and "guard" (daemon_guard_json()). */
void daemon_guard_status(void *g, json_t *status);
/* Mode changes, oldest first: [{"ts_ns", "type": "guard", "vip", "message"}]. */
json_t *daemon_guard_events(struct daemon_guard *g);
/* Control requests "guard-*". */
extern const struct xl4_ctl_cmd daemon_guard_cmds[];

#endif
