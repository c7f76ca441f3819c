/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The daemon's load-balancer job: VIPs from the config, runtime changes from the control
 * socket, backend MACs from the neighbour table, and health checks. Health results arrive
 * from the checker thread through a pipe and are applied on the daemon's own loop, so the LB
 * state has one writer.
 */
#ifndef XL4_DAEMON_LB_H
#define XL4_DAEMON_LB_H

#include <stdbool.h>
#include <jansson.h>

#include "config.h"
#include "daemon_job.h"
#include "engine.h"
#include "health.h"
#include "lb_state.h"

struct daemon_lb {
	struct xl4_lb lb;
	struct xl4_health *hc;
	int hc_pipe[2];			   /* checker thread -> main loop */
	struct xl4_health_spec health[XL4_MAX_VIPS]; /* per VIP id: template */
	bool health_on[XL4_MAX_VIPS];
	int ifindex;			   /* where backends' MACs are looked up */
	bool ready;
	bool node_local;		   /* in a cluster: runtime changes diverge the nodes */
	/* after health transitions are applied, before the tables are rebuilt */
	void (*health_changed)(void *ctx);
	void *health_ctx;
};

/* The LB's row of the daemon's jobs (daemon_job.h). start: set up from env->cfg (VIPs,
 * backends, health); 0 or -errno, with the reason logged. */
int daemon_lb_start(void *d, const struct daemon_env *env);
void daemon_lb_stop(void *d);
/* The fd the main loop polls for health transitions, and its handler. */
int daemon_lb_health_fd(const void *d);
void daemon_lb_on_health(void *d);
/* Once a second: resolve MACs still unknown. */
void daemon_lb_tick(void *d);
/* Control requests "vip-add", "vip-del" and "backend-*". */
extern const struct xl4_ctl_cmd daemon_lb_cmds[];
/* VIPs with their backends and health; the status object's "vips". */
json_t *daemon_lb_json(struct daemon_lb *d);
void daemon_lb_status(void *d, json_t *status);

/* Reload (src/lb_reload.c): make VIPs and backends what cfg says, changing only what
 * differs; settings that need no restart are rewritten. 0, or -errno with the reason in err. */
int daemon_lb_reload(void *d, const struct xl4_config *old, const struct xl4_config *cfg,
		     char *err, size_t errlen);

/* Shared by daemon_lb.c and lb_reload.c. */
int daemon_lb_add_vip(struct daemon_lb *d, const struct xl4_vip_conf *vc, char *err, size_t errlen);
void daemon_lb_health_watch(struct daemon_lb *d, const struct xl4_lb_vip *v,
			    const struct xl4_lb_backend *b);

#endif
