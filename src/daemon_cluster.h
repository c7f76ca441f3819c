/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The daemon's cluster job (docs/scale-out.md): keeps one route per announced VIP address in
 * cluster.route_table for BIRD to export, and takes it away when the VIP should not draw
 * traffic to this node: too few usable backends, the node drained, the program not attached,
 * the daemon stopping. It acts as soon as the LB's state changes (the loop calls
 * daemon_cluster_sync() after every event that can change it), not on the next tick.
 */
#ifndef XL4_DAEMON_CLUSTER_H
#define XL4_DAEMON_CLUSTER_H

#include <stdbool.h>
#include <jansson.h>

#include "config.h"
#include "daemon_job.h"
#include "routes.h"

/* Routes in the table: ours (one per VIP address) and any a killed daemon left. */
#define XL4_CLUSTER_MAX_ROUTES 256

struct daemon_cluster_vip {
	bool seen; /* logged once at least (its first state is news) */
	bool ever; /* announced since the daemon started (it joined) */
	bool want; /* its own rule says announce */
	bool announced; /* its address's route is in the table (another VIP's rule may hold it) */
	char why[96]; /* its own rule's reason */
	struct xl4_route rt;
};

struct daemon_cluster {
	struct xl4_routes *rt; /* NULL: cluster.route_table not set */
	struct daemon_lb *lb;
	struct xl4_cluster_conf conf;
	char drain_file[128]; /* the drain survives a restart: upgrades are what it is for */
	bool drained, leaving;
	bool attached; /* the daemon attached, and the program is still there */
	char detached[96]; /* why not attached */
	int ifindex[XL4_MAX_IFACES];
	int n_ifs;
	__u32 prog_id;
	struct xl4_route installed[XL4_CLUSTER_MAX_ROUTES];
	int n_installed;
	char route_err[128]; /* the last route change the kernel refused ("" none) */
	char route_err_said[128]; /* ...as last logged: a retry each second logs nothing new */
	unsigned long long route_errors; /* route changes the kernel refused */
	/* backends whose health this node has seen (daemon_cluster.c, backend_proven) */
	bool proven[XL4_MAX_BACKENDS];
	uint16_t proven_gen[XL4_MAX_BACKENDS];
	/* when this node first saw a backend without a verdict (by id and generation) */
	double seen_at[XL4_MAX_BACKENDS];
	uint16_t seen_gen[XL4_MAX_BACKENDS];
	struct daemon_cluster_vip vip[XL4_MAX_VIPS];
	char vip_name[XL4_MAX_VIPS][XL4_NAME_MAX];
};

int daemon_cluster_start(void *c, const struct daemon_env *env);
void daemon_cluster_stop(void *c);
void daemon_cluster_tick(void *c);
int daemon_cluster_reload(void *c, const struct xl4_config *old, const struct xl4_config *cfg,
			  char *err, size_t errlen);
/* "cluster": the node's state; and each of status "vips" gets announced/announce_reason. */
void daemon_cluster_status(void *c, json_t *status);
/* "cluster-drain", "cluster-undrain", "cluster-show" */
extern const struct xl4_ctl_cmd daemon_cluster_cmds[];

/* The daemon attached prog_id to these interfaces: VIPs may be announced from now on. */
void daemon_cluster_attached(struct daemon_cluster *c, const int *ifindex, int n, __u32 prog_id);
/* Make the table what the VIPs' state says (cheap when nothing changed). */
void daemon_cluster_sync(struct daemon_cluster *c);
/* Stopping: withdraw every route. Returns how many were announced (the daemon then waits
 * drain_ms before it detaches). */
int daemon_cluster_leave(struct daemon_cluster *c);
/* Whether runtime VIP and backend changes make this node differ from its peers. */
bool daemon_cluster_on(const struct daemon_cluster *c);

#endif
