// SPDX-License-Identifier: GPL-2.0
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "control.h"
#include "daemon_lb.h"
#include "log.h"
#include "neigh.h"

struct health_msg {
	uint32_t id;
	uint8_t up;
	char why[96];
};

/* Called on the checker thread: hand the transition to the main loop (one atomic write,
 * smaller than PIPE_BUF). */
static void on_health_change(void *ctx, uint32_t id, bool up, const char *why)
{
	struct daemon_lb *d = ctx;
	struct health_msg m = { .id = id, .up = up };

	snprintf(m.why, sizeof(m.why), "%s", why ? why : "");
	if (write(d->hc_pipe[1], &m, sizeof(m)) != sizeof(m))
		pr_warn("health: lost a state change for backend id %u", id);
}

void daemon_lb_health_watch(struct daemon_lb *d, const struct xl4_lb_vip *v, const struct xl4_lb_backend *b)
{
	struct xl4_health_spec s;
	char err[160] = "the checker refused it";

	if (!d->hc || !d->health_on[v->id]) {
		/* Adopted as down from the pins, but nothing checks it any more: up. */
		if (b->down)
			xl4_lb_backend_set_down(&d->lb, b->id, false);
		return;
	}
	s = d->health[v->id];
	s.family = b->spec.family == 6 ? AF_INET6 : AF_INET;
	inet_ntop(s.family, b->spec.addr, s.addr, sizeof(s.addr));
	if (!s.port)
		s.port = b->spec.port ? b->spec.port : v->spec.port;
	if (xl4_health_spec_check(&s, err, sizeof(err)) ||
	    xl4_health_add(d->hc, b->id, &s, !b->down))
		pr_warn("vip %s: backend %s: no health checks: %s", v->spec.name, b->key, err);
}

int daemon_lb_add_vip(struct daemon_lb *d, const struct xl4_vip_conf *vc, char *err, size_t errlen)
{
	struct xl4_lb_vip *v;
	int ret = xl4_lb_vip_add(&d->lb, &vc->spec, err, errlen);

	if (ret)
		return ret;
	v = xl4_lb_vip_find(&d->lb, vc->spec.name);
	d->health_on[v->id] = vc->health_on;
	d->health[v->id] = vc->health;
	for (int i = 0; i < vc->n_backends; i++) {
		struct xl4_lb_backend *b;

		if ((ret = xl4_lb_backend_add(&d->lb, vc->spec.name, &vc->backends[i], err, errlen)))
			return ret;
		b = xl4_lb_backend_by_id(&d->lb, v->be[v->n_be - 1].id, NULL);
		daemon_lb_health_watch(d, v, b);
	}
	return 0;
}

int daemon_lb_start(void *state, const struct daemon_env *env)
{
	const struct xl4_config *cfg = env->cfg;
	struct xl4_engine *eng = env->eng;
	struct daemon_lb *d = state;
	struct xl4_lb_settings s;
	struct xl4_lb_globals g;
	__u32 zero = 0;
	char err[256];
	int ret;

	memset(d, 0, sizeof(*d));
	d->hc_pipe[0] = d->hc_pipe[1] = -1;
	d->ifindex = env->ifindex;
	xl4_lb_settings_from_config(cfg, &s);
	if (bpf_map_lookup_elem(eng->lb.globals, &zero, &g) || !g.ring_size)
		g.ring_size = 0; /* nothing running: no seed to keep */
	if (cfg->lb.seed_set && g.ring_size && g.seed != cfg->lb.seed)
		pr_warn("lb.seed differs from the running datapath's: every VIP's table changes "
			"(established flows keep their backends; new flows are spread anew)");
	if (!cfg->lb.seed_set && g.ring_size) {
		/* A previous daemon's random seed: keep it, or every table would move. */
		s.seed = g.seed;
		pr_info("lb.seed is not set: keeping the running datapath's seed");
	} else if (!cfg->lb.seed_set && cfg->n_vips) {
		pr_warn("lb.seed is not set: using a random Maglev seed (kept across restarts in the "
			"pinned maps). Fine for one node; every node of a cluster needs the same lb.seed");
	}
	ret = xl4_lb_init(&d->lb, &eng->lb, &s);
	if (!ret)
		ret = xl4_lb_adopt(&d->lb);
	/* an older build's VIP counters are read once, by the adoption: their map goes now */
	if (eng->lb.vstats_old >= 0)
		close(eng->lb.vstats_old);
	eng->lb.vstats_old = d->lb.maps.vstats_old = -1;
	if (ret) {
		pr_warn("load balancer: cannot initialise its maps: %s", strerror(-ret));
		return ret;
	}
	if (pipe2(d->hc_pipe, O_CLOEXEC | O_NONBLOCK)) {
		pr_warn("health checks: pipe: %s", strerror(errno));
		return -errno;
	}
	d->hc = xl4_health_new(on_health_change, d);
	if (!d->hc || xl4_health_start(d->hc)) {
		pr_warn("health checks: cannot start the checker thread");
		return -ENOMEM;
	}
	/* Every VIP's table is built once, complete, after all its backends are known: an
	 * adopted VIP never passes through a partial table. */
	xl4_lb_hold(&d->lb);
	for (int i = 0; i < cfg->n_vips; i++) {
		if ((ret = daemon_lb_add_vip(d, &cfg->vips[i], err, sizeof(err)))) {
			pr_warn("%s: %s", cfg->path, err);
			return ret;
		}
	}
	if ((ret = xl4_lb_commit(&d->lb, err, sizeof(err)))) {
		pr_warn("%s: %s", cfg->path, err);
		return ret;
	}
	d->ready = true;
	daemon_lb_tick(d);
	return 0;
}

void daemon_lb_stop(void *state)
{
	struct daemon_lb *d = state;

	if (d->hc)
		xl4_health_free(d->hc);
	d->hc = NULL;
	if (d->hc_pipe[0] >= 0)
		close(d->hc_pipe[0]);
	if (d->hc_pipe[1] >= 0)
		close(d->hc_pipe[1]);
	xl4_lb_free(&d->lb);
}

int daemon_lb_health_fd(const void *state)
{
	const struct daemon_lb *d = state;

	return d->hc_pipe[0];
}

void daemon_lb_on_health(void *state)
{
	struct daemon_lb *d = state;
	struct health_msg m;
	char err[256];

	/* Every transition waiting, then one table rebuild per VIP (~20 ms at 65537 slots). */
	xl4_lb_hold(&d->lb);
	while (read(d->hc_pipe[0], &m, sizeof(m)) == sizeof(m)) {
		struct xl4_lb_vip *v;
		struct xl4_lb_backend *b = xl4_lb_backend_by_id(&d->lb, m.id, &v);

		if (!b)
			continue; /* removed meanwhile */
		m.why[sizeof(m.why) - 1] = '\0';
		{
			struct xl4_kv kv = XL4_KV_INIT;

			xl4_kv(&kv, "vip", "%s", v->spec.name);
			xl4_kv(&kv, "backend", "%s", b->key);
			if (m.why[0])
				xl4_kv(&kv, "reason", "%s", m.why);
			xl4_log_event(XL4_LOG_WARN, m.up ? "backend_up" : "backend_down", &kv);
		}
		xl4_lb_backend_set_down(&d->lb, m.id, !m.up);
	}
	/* A cluster node stops drawing traffic before the rebuild, not after it. */
	if (d->health_changed)
		d->health_changed(d->health_ctx);
	if (xl4_lb_commit(&d->lb, err, sizeof(err)))
		pr_warn("health: %s", err);
}

void daemon_lb_tick(void *state)
{
	struct daemon_lb *d = state;

	for (int i = 0; i < XL4_MAX_VIPS; i++) {
		struct xl4_lb_vip *v = &d->lb.vips[i];

		for (size_t j = 0; v->used && j < v->n_be; j++) {
			struct xl4_lb_backend *b = &v->be[j];
			uint8_t mac[6];

			if (b->mac_known)
				continue;
			if (xl4_neigh_lookup(d->ifindex, b->spec.family, b->spec.addr, mac) == 0) {
				struct xl4_kv kv = XL4_KV_INIT;

				xl4_kv(&kv, "vip", "%s", v->spec.name);
				xl4_kv(&kv, "backend", "%s", b->key);
				xl4_kv(&kv, "mac", "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1],
				       mac[2], mac[3], mac[4], mac[5]);
				xl4_log_event(XL4_LOG_INFO, "backend_mac", &kv);
				xl4_lb_backend_set_mac(&d->lb, b->id, mac);
			} else {
				xl4_neigh_provoke(b->spec.family, b->spec.addr);
			}
		}
	}
}

/* ---- control requests ---- */

/* A change made here is this node's alone: in a cluster its peers now pick other backends for
 * some flows (docs/scale-out.md). The CLI prints the warning. */
static json_t *ok(const struct daemon_lb *d)
{
	if (!d->node_local)
		return json_pack("{s:b}", "ok", 1);
	return json_pack("{s:b, s:s}", "ok", 1, "warning",
			 "node-local change: other cluster nodes keep their tables, and this one "
			 "is undone by the next reload or restart; put it in the config file of "
			 "every node");
}

static json_t *req_vip_add(void *state, const struct xl4_ctl_cmd *c, json_t *req)
{
	struct xl4_vip_conf vc = { .spec.mode = XL4_FWD_L2 };
	const char *name = NULL, *addr = NULL, *mode = NULL, *health = NULL;
	long long mtu = 0;
	json_t *bad = NULL;
	char err[256];

	if (xl4_ctl_str(req, c->name, "name", &name, &bad) < 0 ||
	    xl4_ctl_str(req, c->name, "address", &addr, &bad) < 0 ||
	    xl4_ctl_str(req, c->name, "mode", &mode, &bad) < 0 ||
	    xl4_ctl_str(req, c->name, "health", &health, &bad) < 0 ||
	    xl4_ctl_int(req, c->name, "mtu", 596, 9216, &mtu, &bad) < 0 ||
	    xl4_ctl_bool(req, c->name, "reschedule", &vc.spec.reschedule_down, &bad) < 0)
		return bad;
	if (!name || !addr)
		return xl4_control_error("vip-add needs \"name\" and \"address\"");
	if (xl4_parse_name(name, vc.spec.name, err, sizeof(err)) ||
	    xl4_parse_vip_addr(addr, &vc.spec, err, sizeof(err)))
		return xl4_control_error("%s", err);
	if (mode && xl4_parse_mode(mode, &vc.spec.mode))
		return xl4_control_error("mode '%.32s' is not one of: l2, port, ipip", mode);
	vc.spec.mtu = mtu;
	if (health && strcmp(health, "none")) {
		if (strcmp(health, "tcp") && strcmp(health, "http"))
			return xl4_control_error("health '%.32s' is not one of: tcp, http, none", health);
		vc.health_on = true;
		vc.health = (struct xl4_health_spec){ .kind = strcmp(health, "http") ? XL4_HC_TCP : XL4_HC_HTTP,
						      .interval_ms = 1000, .timeout_ms = 500,
						      .rise = 2, .fall = 3 };
	}
	if (daemon_lb_add_vip(state, &vc, err, sizeof(err)))
		return xl4_control_error("%s", err);
	return ok(state);
}

static json_t *req_vip_del(void *state, const struct xl4_ctl_cmd *c, json_t *req)
{
	struct daemon_lb *d = state;
	const char *name = NULL;
	struct xl4_lb_vip *v;
	json_t *bad = NULL;
	char err[256];

	if (xl4_ctl_str(req, c->name, "name", &name, &bad) < 0)
		return bad;
	if (!name)
		return xl4_control_error("vip-del needs \"name\"");
	v = xl4_lb_vip_find(&d->lb, name);
	for (size_t i = 0; v && d->hc && i < v->n_be; i++)
		xl4_health_remove(d->hc, v->be[i].id);
	return xl4_lb_vip_del(&d->lb, name, err, sizeof(err)) ? xl4_control_error("%s", err) : ok(d);
}

enum backend_op { BACKEND_ADD, BACKEND_DEL, BACKEND_WEIGHT, BACKEND_DRAIN, BACKEND_UNDRAIN };

/* The fields of every backend-* request (those a row does not take are absent): the VIP, the
 * backend (b->weight and b->mac set when given) and *w (0: not given). NULL, or an error. */
static json_t *backend_fields(const struct xl4_ctl_cmd *c, json_t *req, const char **vip,
			      struct xl4_backend_spec *b, long long *w)
{
	const char *addr = NULL, *mac = NULL;
	json_t *bad = NULL;
	char err[256];

	if (xl4_ctl_str(req, c->name, "vip", vip, &bad) < 0 ||
	    xl4_ctl_str(req, c->name, "address", &addr, &bad) < 0 ||
	    xl4_ctl_str(req, c->name, "mac", &mac, &bad) < 0 ||
	    xl4_ctl_int(req, c->name, "weight", 1, 65535, w, &bad) < 0)
		return bad;
	if (!*vip || !addr)
		return xl4_control_error("%s needs \"vip\" and \"address\"", c->name);
	if (xl4_parse_backend_addr(addr, b, err, sizeof(err)))
		return xl4_control_error("%s", err);
	if (*w)
		b->weight = *w;
	if (mac) {
		if (xl4_parse_mac(mac, b->mac))
			return xl4_control_error("%s: \"mac\" '%.32s' is not a unicast MAC address",
						 c->name, mac);
		b->has_mac = true;
	}
	return NULL;
}

static int backend_add(struct daemon_lb *d, const char *vip, const struct xl4_backend_spec *b,
		       char *err, size_t errlen)
{
	int ret = xl4_lb_backend_add(&d->lb, vip, b, err, errlen);
	struct xl4_lb_vip *v;

	if (!ret && (v = xl4_lb_vip_find(&d->lb, vip))) {
		daemon_lb_health_watch(d, v, &v->be[v->n_be - 1]);
		daemon_lb_tick(d);
	}
	return ret;
}

static int backend_del(struct daemon_lb *d, const char *vip, const struct xl4_backend_spec *b,
		       char *err, size_t errlen)
{
	struct xl4_lb_vip *v = xl4_lb_vip_find(&d->lb, vip);
	struct xl4_lb_backend *old = NULL;

	for (size_t i = 0; v && i < v->n_be; i++)
		if (xl4_backend_same(&v->be[i].spec, b))
			old = &v->be[i];
	if (old && d->hc)
		xl4_health_remove(d->hc, old->id);
	return xl4_lb_backend_del(&d->lb, vip, b, err, errlen);
}

/* Every backend-* row; c->arg says which (enum backend_op). */
static json_t *req_backend(void *state, const struct xl4_ctl_cmd *c, json_t *req)
{
	struct daemon_lb *d = state;
	struct xl4_backend_spec b = { .weight = 1 };
	const char *vip = NULL;
	long long w = 0;
	json_t *bad;
	char err[256];
	int ret;

	if ((bad = backend_fields(c, req, &vip, &b, &w)))
		return bad;
	switch (c->arg) {
	case BACKEND_ADD:
		ret = backend_add(d, vip, &b, err, sizeof(err));
		break;
	case BACKEND_DEL:
		ret = backend_del(d, vip, &b, err, sizeof(err));
		break;
	case BACKEND_WEIGHT:
		if (!w)
			return xl4_control_error("backend-weight needs \"weight\"");
		ret = xl4_lb_backend_set_weight(&d->lb, vip, &b, b.weight, err, sizeof(err));
		break;
	default:
		ret = xl4_lb_backend_drain(&d->lb, vip, &b, c->arg == BACKEND_DRAIN, err,
					   sizeof(err));
		break;
	}
	return ret ? xl4_control_error("%s", err) : ok(d);
}

/* "vip-list" is the daemon's (src/daemon.c): it shows each VIP's guard state too. */
const struct xl4_ctl_cmd daemon_lb_cmds[] = {
	{ "vip-add", req_vip_add, 0,
	  XL4_CTL_KEYS("name", "address", "mode", "mtu", "health", "reschedule"),
	  "add a VIP (mode l2, port or ipip; health tcp, http or none)" },
	{ "vip-del", req_vip_del, 0, XL4_CTL_KEYS("name"), "remove a VIP and its backends" },
	{ "backend-add", req_backend, BACKEND_ADD, XL4_CTL_KEYS("vip", "address", "weight", "mac"),
	  "add a backend to a VIP" },
	{ "backend-del", req_backend, BACKEND_DEL, XL4_CTL_KEYS("vip", "address"),
	  "remove a backend" },
	{ "backend-weight", req_backend, BACKEND_WEIGHT, XL4_CTL_KEYS("vip", "address", "weight"),
	  "change a backend's weight" },
	{ "backend-drain", req_backend, BACKEND_DRAIN, XL4_CTL_KEYS("vip", "address"),
	  "no new flows to a backend; its flows stay" },
	{ "backend-undrain", req_backend, BACKEND_UNDRAIN, XL4_CTL_KEYS("vip", "address"),
	  "new flows to a drained backend again" },
	{ 0 },
};

json_t *daemon_lb_json(struct daemon_lb *d)
{
	json_t *vips = xl4_lb_json(&d->lb), *v, *b;
	size_t i, j;

	/* Add the health checker's view to each backend. */
	json_array_foreach(vips, i, v) {
		json_array_foreach(json_object_get(v, "backends"), j, b) {
			struct xl4_health_state st;
			uint32_t id = json_integer_value(json_object_get(b, "id"));

			if (d->hc && xl4_health_get(d->hc, id, &st) == 0)
				json_object_set_new(b, "health",
						    json_pack("{s:b, s:I, s:I, s:i, s:s}", "up", st.up,
							      "checks", (json_int_t)st.checks,
							      "failures", (json_int_t)st.failures,
							      "latency_us", (int)st.last_latency_us,
							      "last_error", st.last_error));
		}
	}
	return vips;
}

void daemon_lb_status(void *state, json_t *status)
{
	json_object_set_new(status, "vips", daemon_lb_json(state));
}
