// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

#include "adopt.h"
#include "cluster.h"
#include "control.h"
#include "daemon_cluster.h"
#include "daemon_lb.h"
#include "log.h"

bool daemon_cluster_on(const struct daemon_cluster *c)
{
	return c->rt != NULL;
}

static void vip_route(const struct xl4_lb_vip *v, struct xl4_route *rt)
{
	*rt = (struct xl4_route){ .family = v->spec.family };
	memcpy(rt->addr, v->spec.addr, sizeof(rt->addr));
}

static int find_route(const struct xl4_route *set, int n, const struct xl4_route *rt)
{
	for (int i = 0; i < n; i++)
		if (xl4_route_eq(&set[i], rt))
			return i;
	return -1;
}

static void route_failed(struct daemon_cluster *c, const char *what, const struct xl4_route *rt,
			 int err)
{
	char a[64];

	xl4_route_str(rt, a, sizeof(a));
	snprintf(c->route_err, sizeof(c->route_err), "%s %s in table %u: %s", what, a,
		 c->conf.route_table, strerror(-err));
	c->route_errors++;
	if (strcmp(c->route_err, c->route_err_said))
		pr_warn("cluster: cannot %s (retried every second)%s", c->route_err,
			err == -EEXIST ?
				": the table holds another route for it (not protocol 76), "
				"left alone" :
				"");
	snprintf(c->route_err_said, sizeof(c->route_err_said), "%s", c->route_err);
}

/* Why a VIP is (not) announced, when its own rule does not say it all. */
static void vip_reason(const struct daemon_cluster *c, const struct daemon_cluster_vip *cv,
		       char *buf, size_t len)
{
	if (cv->announced && !cv->want)
		snprintf(buf, len, "%s; another VIP on its address is announced", cv->why);
	else if (!cv->announced && cv->want)
		snprintf(buf, len, "route refused: %s", c->route_err[0] ? c->route_err : "?");
	else
		snprintf(buf, len, "%s", cv->why);
}

/* One VIP's change, as an event: announced or withdrawn, and why. */
static void log_vip(const struct daemon_cluster *c, const char *name,
		    const struct daemon_cluster_vip *cv, const char *why)
{
	struct xl4_kv kv = XL4_KV_INIT;
	char a[64], r[256];
	bool up = cv->announced;

	xl4_route_str(&cv->rt, a, sizeof(a));
	if (!why) {
		vip_reason(c, cv, r, sizeof(r));
		why = r;
	}
	xl4_kv(&kv, "vip", "%s", name);
	xl4_kv(&kv, "route", "%s", a);
	xl4_kv(&kv, "reason", "%s", why);
	/* A VIP's first state is news, not trouble: only a withdrawal of an announced one warns. */
	xl4_log_event(up || !cv->seen ? XL4_LOG_INFO : XL4_LOG_WARN,
		      up ? "vip_announced" : "vip_withdrawn", &kv);
}

/* Whether this node has seen a backend's health: no checks configured, taken over with the
 * pinned maps (the previous daemon's checks vouched for it: a restart moves no flow), or a
 * check passed since it was added. The checker starts every backend up, so without this a
 * node that cannot reach its backends would draw traffic until the checks fail. Remembered by
 * id and generation: a reload that re-adds a VIP's checks (which start over) unproves
 * nothing, and a reused id starts unproven. */
static bool backend_proven(struct daemon_cluster *c, const struct xl4_lb_vip *v,
			   const struct xl4_lb_backend *b)
{
	struct daemon_lb *lb = c->lb;
	uint16_t gen = lb->lb.be_gen[b->id];
	struct xl4_health_state st;

	if (!lb->hc || !lb->health_on[v->id] || b->adopted)
		return true;
	if (c->proven[b->id] && c->proven_gen[b->id] == gen)
		return true;
	if (xl4_health_get(lb->hc, b->id, &st) || st.checks == st.failures)
		return false;
	c->proven[b->id] = true;
	c->proven_gen[b->id] = gen;
	return true;
}

static double mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* How long a joining node waits for a verdict on a backend before it stops waiting: its
 * checks' time to fail (fall x interval + timeout) or ARP's to give up, and a second. */
static double settle_bound_s(const struct daemon_cluster *c, const struct xl4_lb_vip *v)
{
	const struct xl4_health_spec *h = &c->lb->health[v->id];
	double hc = c->lb->health_on[v->id] ? (h->fall * h->interval_ms + h->timeout_ms) / 1e3 : 0;

	return (hc > 5 ? hc : 5) + 1;
}

/* Whether this node has its own verdict on a backend: taken over from the pins, or up with a
 * known MAC and a passed check; or it has waited long enough. A backend down here is no
 * verdict until then: its peers may well reach it (a node-local fault, or the first checks
 * of a node that just came up), and a table without it would move their flows. */
static bool backend_settled(struct daemon_cluster *c, const struct xl4_lb_vip *v,
			    const struct xl4_lb_backend *b, double now)
{
	uint16_t gen = c->lb->lb.be_gen[b->id];

	if (b->adopted || (!b->down && b->mac_known && backend_proven(c, v, b)))
		return true;
	if (!c->seen_at[b->id] || c->seen_gen[b->id] != gen) {
		c->seen_at[b->id] = now;
		c->seen_gen[b->id] = gen;
	}
	return now - c->seen_at[b->id] > settle_bound_s(c, v);
}

/* Its usable backends (taking new flows, health seen) and those without a verdict yet; a
 * backend the config drains or weighs 0 takes no flow anywhere: nothing to wait for. */
static void count_usable(struct daemon_cluster *c, const struct xl4_lb_vip *v,
			 struct xl4_announce_in *in)
{
	double now = mono_s();

	for (size_t i = 0; i < v->n_be; i++) {
		const struct xl4_lb_backend *b = &v->be[i];

		if (b->spec.drained || !b->spec.weight)
			continue;
		in->unsettled += !backend_settled(c, v, b, now);
		in->usable += xl4_lb_backend_usable(b) && backend_proven(c, v, b);
	}
	in->backends = v->n_be;
}

/* The routes the VIPs call for: an address is announced while any VIP on it should be (a
 * route carries every port; a VIP that needs its own fate needs its own address). */
static int wanted_routes(struct daemon_cluster *c, struct xl4_route *want)
{
	struct xl4_lb *lb = &c->lb->lb;
	int n = 0;

	for (int i = 0; i < XL4_MAX_VIPS; i++) {
		const struct xl4_lb_vip *v = &lb->vips[i];
		struct xl4_announce_in in = {
			.attached = c->attached,
			.leaving = c->leaving,
			.drained = c->drained,
			.min_healthy = c->conf.min_healthy,
		};
		struct xl4_route rt;

		if (!v->used)
			continue;
		count_usable(c, v, &in);
		in.joining = !c->vip[i].ever;
		vip_route(v, &rt);
		c->vip[i].want = xl4_announce_decide(&in, c->vip[i].why, sizeof(c->vip[i].why));
		if (c->vip[i].want && find_route(want, n, &rt) < 0)
			want[n++] = rt;
	}
	return n;
}

static void apply_routes(struct daemon_cluster *c, const struct xl4_route *want, int n_want,
			 bool withdraw_only)
{
	int err;

	if (!withdraw_only) /* (a withdraw-only pass tries no add: it cannot clear an add error) */
		c->route_err[0] = '\0';
	for (int i = 0; i < n_want && !withdraw_only; i++) {
		if (find_route(c->installed, c->n_installed, &want[i]) >= 0)
			continue;
		if (c->n_installed == XL4_CLUSTER_MAX_ROUTES)
			break; /* cannot happen: VIPs are fewer */
		if ((err = xl4_route_put(c->rt, &want[i])))
			route_failed(c, "add", &want[i], err);
		else
			c->installed[c->n_installed++] = want[i];
	}
	for (int i = 0; i < c->n_installed;) {
		if (find_route(want, n_want, &c->installed[i]) >= 0) {
			i++;
		} else if ((err = xl4_route_del(c->rt, &c->installed[i]))) {
			route_failed(c, "delete", &c->installed[i], err);
			i++;
		} else {
			c->installed[i] = c->installed[--c->n_installed];
		}
	}
}

/* Each VIP's announced state is its address's route; a change (or a first state) is news. */
static void note_vips(struct daemon_cluster *c)
{
	struct xl4_lb *lb = &c->lb->lb;

	for (int i = 0; i < XL4_MAX_VIPS; i++) {
		const struct xl4_lb_vip *v = &lb->vips[i];
		struct daemon_cluster_vip *cv = &c->vip[i];
		bool up;

		if (!v->used) {
			if (cv->seen && cv->announced) {
				cv->announced = false;
				log_vip(c, c->vip_name[i], cv, "VIP removed");
			}
			*cv = (struct daemon_cluster_vip){ 0 };
			continue;
		}
		vip_route(v, &cv->rt);
		up = find_route(c->installed, c->n_installed, &cv->rt) >= 0;
		cv->ever |= up;
		if (!cv->seen || up != cv->announced) {
			cv->announced = up;
			log_vip(c, v->spec.name, cv, NULL);
		}
		cv->seen = true;
		snprintf(c->vip_name[i], sizeof(c->vip_name[i]), "%s", v->spec.name);
	}
}

static void sync_routes(struct daemon_cluster *c, bool withdraw_only)
{
	struct xl4_route want[XL4_MAX_VIPS];
	int n;

	/* Before the first attach, routes a previous daemon left stay as they are: its program
	 * still forwards, and a withdraw-then-announce would move flows for nothing. */
	if (!c->rt || (!c->attached && !c->leaving && !c->prog_id))
		return;
	n = wanted_routes(c, want);
	apply_routes(c, want, n, withdraw_only);
	if (!withdraw_only && !c->route_err[0] && c->route_err_said[0]) {
		pr_info("cluster: route changes work again");
		c->route_err_said[0] = '\0';
	}
	note_vips(c);
}

void daemon_cluster_sync(struct daemon_cluster *c)
{
	sync_routes(c, false);
}

/* Between a health change and the LB's table rebuild: a VIP left without backends is
 * withdrawn at once; an announcement waits for the table that serves it (the loop's sync). */
static void health_changed(void *ctx)
{
	sync_routes(ctx, true);
}

int daemon_cluster_leave(struct daemon_cluster *c)
{
	int had = c->n_installed;

	if (!c->rt || c->leaving)
		return 0;
	c->leaving = true;
	daemon_cluster_sync(c);
	return had;
}

void daemon_cluster_attached(struct daemon_cluster *c, const int *ifindex, int n, __u32 prog_id)
{
	memcpy(c->ifindex, ifindex, n * sizeof(*ifindex));
	c->n_ifs = n;
	c->prog_id = prog_id;
	c->attached = true;
	daemon_cluster_sync(c);
}

/* The program can be taken off behind the daemon's back (ip link set dev X xdp off): then
 * the node would draw traffic it passes to the kernel unbalanced. */
static void check_attached(struct daemon_cluster *c)
{
	char name[IF_NAMESIZE] = "?";

	c->attached = c->prog_id != 0;
	for (int i = 0; c->attached && i < c->n_ifs; i++) {
		enum xl4_xdp_mode mode;

		if (xl4_xdp_attached(c->ifindex[i], &mode) != c->prog_id) {
			if_indextoname(c->ifindex[i], name);
			snprintf(c->detached, sizeof(c->detached), "%s", name);
			c->attached = false;
		}
	}
}

/* What the table really holds: a route someone deleted by hand (or `ip route flush`) is put
 * back by the sync after this, instead of being reported announced for ever. */
static void refresh_installed(struct daemon_cluster *c)
{
	struct xl4_route now[XL4_CLUSTER_MAX_ROUTES];
	int n = xl4_routes_list(c->rt, now, XL4_CLUSTER_MAX_ROUTES);
	char a[64];

	if (n < 0) {
		pr_warn("cluster: cannot read table %u: %s", c->conf.route_table, strerror(-n));
		return;
	}
	n = n < XL4_CLUSTER_MAX_ROUTES ? n : XL4_CLUSTER_MAX_ROUTES;
	for (int i = 0; i < c->n_installed; i++) {
		if (find_route(now, n, &c->installed[i]) >= 0)
			continue;
		xl4_route_str(&c->installed[i], a, sizeof(a));
		pr_warn("cluster: %s was removed from table %u behind the daemon's back; putting it "
			"back",
			a, c->conf.route_table);
	}
	memcpy(c->installed, now, n * sizeof(now[0]));
	c->n_installed = n;
}

void daemon_cluster_tick(void *state)
{
	struct daemon_cluster *c = state;

	if (!c->rt)
		return;
	check_attached(c);
	/* (before the first attach the table is a previous daemon's business) */
	if (c->prog_id && !c->leaving)
		refresh_installed(c);
	daemon_cluster_sync(c); /* also retries a refused route change */
}

/* ---- the drain, kept in a file beside the control socket ---- */

/* 0, or -errno with the problem in err (the drain holds, but not over a restart). */
static int drain_save(struct daemon_cluster *c, char *err, size_t errlen)
{
	int fd, ret;

	if (!c->drained) {
		if (unlink(c->drain_file) && errno != ENOENT)
			goto fail;
		return 0;
	}
	/* never through a link: the mark is a file of our own (src/control.c keeps the
	 * directory root's) */
	fd = open(c->drain_file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		goto fail;
	close(fd);
	return 0;
fail:
	ret = -errno;
	snprintf(err, errlen, "cannot %s %s (%s): a restart will %s",
		 c->drained ? "write" : "remove", c->drain_file, strerror(-ret),
		 c->drained ? "serve again" : "find the node drained");
	pr_warn("cluster: %s", err);
	return ret;
}

/* The table's socket in *rt, and the routes of ours already there (what a daemon killed
 * before it could withdraw left: ours to keep or take away) in found. 0 or -errno. */
static int open_table(uint32_t table, struct xl4_routes **rt, struct xl4_route *found, int *n_found)
{
	int n;

	*rt = xl4_routes_open(table);
	if (!*rt)
		return -errno;
	n = xl4_routes_list(*rt, found, XL4_CLUSTER_MAX_ROUTES);
	if (n < 0) {
		xl4_routes_close(*rt);
		*rt = NULL;
		return n;
	}
	*n_found = n < XL4_CLUSTER_MAX_ROUTES ? n : XL4_CLUSTER_MAX_ROUTES;
	if (n)
		pr_info("cluster: %d route(s) in table %u from a previous daemon", n, table);
	return 0;
}

static void close_table(struct daemon_cluster *c)
{
	xl4_routes_close(c->rt);
	c->rt = NULL;
	c->n_installed = 0;
	/* (ever stays: a VIP that served does not join again because its table moved) */
	for (int i = 0; i < XL4_MAX_VIPS; i++)
		c->vip[i] = (struct daemon_cluster_vip){ .ever = c->vip[i].ever };
}

/* Is the node's drain mark there: a regular file of root's (or ours)? Anything else is
 * ignored, and said. */
static bool drain_mark(const char *path)
{
	struct stat st;

	if (lstat(path, &st))
		return false;
	if (S_ISREG(st.st_mode) && (st.st_uid == 0 || st.st_uid == geteuid()))
		return true;
	pr_warn("cluster: %s is not a drain mark of this daemon's (not a regular file of root's): "
		"ignored",
		path);
	return false;
}

int daemon_cluster_start(void *state, const struct daemon_env *env)
{
	struct daemon_cluster *c = state;
	int err;

	c->lb = env->lb;
	c->conf = env->cfg->cluster;
	snprintf(c->drain_file, sizeof(c->drain_file), "%s.drained", env->cfg->control_socket);
	c->drained = drain_mark(c->drain_file);
	if (!c->conf.route_table)
		return 0;
	if ((err = open_table(c->conf.route_table, &c->rt, c->installed, &c->n_installed))) {
		pr_warn("cluster: cannot use routing table %u: %s", c->conf.route_table,
			strerror(-err));
		return err;
	}
	c->lb->node_local = true;
	c->lb->health_changed = health_changed;
	c->lb->health_ctx = c;
	pr_info("cluster: VIP routes in table %u (min_healthy %u, drain_ms %u)%s",
		c->conf.route_table, c->conf.min_healthy, c->conf.drain_ms,
		c->drained ? "; node drained ('xl4 cluster undrain' to serve)" : "");
	return 0;
}

void daemon_cluster_stop(void *state)
{
	struct daemon_cluster *c = state;

	daemon_cluster_leave(c);
	close_table(c);
}

int daemon_cluster_reload(void *state, const struct xl4_config *old, const struct xl4_config *cfg,
			  char *err, size_t errlen)
{
	struct daemon_cluster *c = state;
	int ret;

	(void)old;
	if (cfg->cluster.route_table != c->conf.route_table) {
		struct xl4_route found[XL4_CLUSTER_MAX_ROUTES];
		struct xl4_routes *rt = NULL;
		int n = 0;

		/* The new table first: if it cannot be used, nothing changed. */
		if (cfg->cluster.route_table &&
		    (ret = open_table(cfg->cluster.route_table, &rt, found, &n))) {
			snprintf(err, errlen, "cannot use routing table %u: %s",
				 cfg->cluster.route_table, strerror(-ret));
			return ret;
		}
		if (c->rt) {
			/* Out of the old table, then into the new one. */
			bool was = c->leaving;

			c->leaving = true;
			daemon_cluster_sync(c);
			c->leaving = was;
			close_table(c);
		}
		c->rt = rt;
		c->n_installed = n;
		memcpy(c->installed, found, n * sizeof(found[0]));
	}
	c->conf = cfg->cluster;
	c->lb->node_local = c->rt != NULL;
	c->lb->health_changed = c->rt ? health_changed : NULL;
	c->lb->health_ctx = c;
	daemon_cluster_sync(c);
	return 0;
}

/* ---- status and control ---- */

static json_t *cluster_json(struct daemon_cluster *c)
{
	json_t *routes = json_array();
	char a[64];

	for (int i = 0; i < c->n_installed; i++) {
		xl4_route_str(&c->installed[i], a, sizeof(a));
		json_array_append_new(routes, json_string(a));
	}
	return json_pack("{s:b, s:i, s:i, s:i, s:i, s:b, s:b, s:s, s:o, s:s, s:I}", "enabled",
			 c->rt != NULL, "route_table", (int)c->conf.route_table, "route_protocol",
			 XL4_RTPROT, "min_healthy", (int)c->conf.min_healthy, "drain_ms",
			 (int)c->conf.drain_ms, "drained", c->drained, "attached", c->attached,
			 "not_attached_on", c->attached ? "" : c->detached, "routes", routes,
			 "route_error", c->route_err, "route_errors", (json_int_t)c->route_errors);
}

/* Each VIP object of status "vips" (the LB's, by name) gets its announced state. */
static void annotate_vips(struct daemon_cluster *c, json_t *vips)
{
	struct xl4_lb *lb = &c->lb->lb;
	char why[256];
	json_t *o;
	size_t j;

	json_array_foreach(vips, j, o) {
		const char *name = json_string_value(json_object_get(o, "name"));
		int i;

		for (i = 0; i < XL4_MAX_VIPS; i++)
			if (lb->vips[i].used && name && !strcmp(lb->vips[i].spec.name, name))
				break;
		if (i == XL4_MAX_VIPS)
			continue;
		vip_reason(c, &c->vip[i], why, sizeof(why));
		json_object_set_new(o, "announced", json_boolean(c->vip[i].announced));
		json_object_set_new(o, "announce_reason", json_string(why));
	}
}

void daemon_cluster_status(void *state, json_t *status)
{
	struct daemon_cluster *c = state;

	json_object_set_new(status, "cluster", cluster_json(c));
	/* A single node announces nothing: no announced state to show (absent, not false). */
	if (c->rt)
		annotate_vips(c, json_object_get(status, "vips"));
}

static json_t *req_drain(void *state, const struct xl4_ctl_cmd *cmd, json_t *req)
{
	struct daemon_cluster *c = state;
	struct xl4_kv kv = XL4_KV_INIT;
	bool drain = cmd->arg;
	int before = c->n_installed;
	char warn[256] = "";
	json_t *r;

	(void)req;
	if (!c->rt)
		return xl4_control_error("cluster.route_table is not set: this node announces "
					 "nothing to drain");
	if (c->drained != drain) {
		c->drained = drain;
		drain_save(c, warn, sizeof(warn));
		xl4_kv(&kv, "table", "%u", c->conf.route_table);
		xl4_log_event(XL4_LOG_WARN, drain ? "cluster_drained" : "cluster_undrained", &kv);
	}
	daemon_cluster_sync(c);
	r = json_pack("{s:b, s:b, s:i, s:i}", "ok", 1, "drained", c->drained, "withdrawn",
		      drain ? before - c->n_installed : 0, "announced", c->n_installed);
	if (warn[0])
		json_object_set_new(r, "warning", json_string(warn));
	return r;
}

static json_t *req_show(void *state, const struct xl4_ctl_cmd *cmd, json_t *req)
{
	struct daemon_cluster *c = state;
	json_t *st = json_object(), *r;

	(void)cmd, (void)req;
	json_object_set_new(st, "vips", daemon_lb_json(c->lb));
	daemon_cluster_status(c, st);
	r = json_pack("{s:b, s:O, s:O}", "ok", 1, "cluster", json_object_get(st, "cluster"), "vips",
		      json_object_get(st, "vips"));
	json_decref(st);
	return r;
}

const struct xl4_ctl_cmd daemon_cluster_cmds[] = {
	{ "cluster-drain", req_drain, 1, NULL,
	  "withdraw every VIP route of this node (kept over restarts) until cluster-undrain" },
	{ "cluster-undrain", req_drain, 0, NULL, "announce this node's VIPs again" },
	{ "cluster-show", req_show, 0, NULL,
	  "the node's routes, drain state and each VIP's announced state with its reason" },
	{ 0 },
};
