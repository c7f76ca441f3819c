// SPDX-License-Identifier: GPL-2.0
/*
 * Config reload for the load balancer: the file is the truth for VIPs and backends. Only what
 * differs changes, each VIP's table through the usual idle-slot flip, so a VIP the new file
 * leaves alone keeps its table and every flow. Order: removals first (so an address can move
 * to a VIP of another name), then adds and changes, held and committed so each VIP's table is
 * written once.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "daemon_lb.h"
#include "log.h"

/* Same service: the address, port and protocol (mode, mtu, on_backend_down change in place). */
static bool same_service(const struct xl4_vip_spec *a, const struct xl4_vip_spec *b)
{
	return a->family == b->family && !memcmp(a->addr, b->addr, 16) && a->port == b->port &&
	       a->proto == b->proto;
}

static bool same_settings(const struct xl4_vip_spec *a, const struct xl4_vip_spec *b)
{
	return a->mode == b->mode && a->mtu == b->mtu && a->reschedule_down == b->reschedule_down;
}

static bool same_health(bool on_a, const struct xl4_health_spec *a, bool on_b,
			const struct xl4_health_spec *b)
{
	if (on_a != on_b)
		return false;
	return !on_a || (a->kind == b->kind && a->port == b->port &&
			 !strcmp(a->http_path, b->http_path) && !strcmp(a->http_host, b->http_host) &&
			 a->http_expect == b->http_expect && a->interval_ms == b->interval_ms &&
			 a->timeout_ms == b->timeout_ms && a->rise == b->rise && a->fall == b->fall);
}

static const struct xl4_vip_conf *conf_vip(const struct xl4_config *cfg, const char *name)
{
	for (int i = 0; i < cfg->n_vips; i++)
		if (!strcmp(cfg->vips[i].spec.name, name))
			return &cfg->vips[i];
	return NULL;
}

static const struct xl4_backend_spec *conf_backend(const struct xl4_vip_conf *vc,
						   const struct xl4_backend_spec *b)
{
	for (int i = 0; i < vc->n_backends; i++)
		if (xl4_backend_same(&vc->backends[i], b))
			return &vc->backends[i];
	return NULL;
}

static void vip_forget_health(struct daemon_lb *d, struct xl4_lb_vip *v)
{
	for (size_t i = 0; d->hc && i < v->n_be; i++)
		xl4_health_remove(d->hc, v->be[i].id);
}

/* Phase 1: VIPs the file no longer has (or has with another address: another service), and
 * backends it no longer lists. */
static int remove_stale(struct daemon_lb *d, const struct xl4_config *cfg, char *err, size_t errlen)
{
	for (int i = 0; i < XL4_MAX_VIPS; i++) {
		struct xl4_lb_vip *v = &d->lb.vips[i];
		const struct xl4_vip_conf *vc;
		char name[XL4_NAME_MAX];
		int ret;

		if (!v->used)
			continue;
		vc = conf_vip(cfg, v->spec.name);
		if (!vc || !same_service(&v->spec, &vc->spec)) {
			snprintf(name, sizeof(name), "%s", v->spec.name);
			vip_forget_health(d, v);
			if ((ret = xl4_lb_vip_del(&d->lb, name, err, errlen)))
				return ret;
			pr_info("reload: vip %s %s", name, vc ? "has another address: re-created" : "removed");
			continue;
		}
		for (size_t j = 0; j < v->n_be;) {
			struct xl4_backend_spec spec = v->be[j].spec;

			if (conf_backend(vc, &spec)) {
				j++;
				continue;
			}
			if (d->hc)
				xl4_health_remove(d->hc, v->be[j].id);
			/* del moves the last backend into slot j: look at j again */
			if ((ret = xl4_lb_backend_del(&d->lb, v->spec.name, &spec, err, errlen)))
				return ret;
		}
	}
	return 0;
}

/* Phase 2: new VIPs and backends; changed modes, health checks, weights, drains and MACs. */
static int add_and_change(struct daemon_lb *d, const struct xl4_config *cfg, char *err, size_t errlen)
{
	int ret;

	for (int i = 0; i < cfg->n_vips; i++) {
		const struct xl4_vip_conf *vc = &cfg->vips[i];
		struct xl4_lb_vip *v = xl4_lb_vip_find(&d->lb, vc->spec.name);

		if (!v) {
			if ((ret = daemon_lb_add_vip(d, vc, err, errlen)))
				return ret;
			continue;
		}
		if (!same_settings(&v->spec, &vc->spec) &&
		    (ret = xl4_lb_vip_update(&d->lb, &vc->spec, err, errlen)))
			return ret;
		if (!same_health(d->health_on[v->id], &d->health[v->id], vc->health_on, &vc->health)) {
			/* New checks from the current state: nobody goes down for the change. */
			vip_forget_health(d, v);
			d->health_on[v->id] = vc->health_on;
			d->health[v->id] = vc->health;
			for (size_t k = 0; k < v->n_be; k++)
				daemon_lb_health_watch(d, v, &v->be[k]);
		}
		for (int j = 0; j < vc->n_backends; j++) {
			const struct xl4_backend_spec *b = &vc->backends[j];
			struct xl4_lb_backend *cur = NULL;

			for (size_t k = 0; k < v->n_be && !cur; k++)
				if (xl4_backend_same(&v->be[k].spec, b))
					cur = &v->be[k];
			if (!cur) {
				if ((ret = xl4_lb_backend_add(&d->lb, v->spec.name, b, err, errlen)))
					return ret;
				daemon_lb_health_watch(d, v, &v->be[v->n_be - 1]);
				continue;
			}
			if (cur->spec.weight != b->weight &&
			    (ret = xl4_lb_backend_set_weight(&d->lb, v->spec.name, b, b->weight, err, errlen)))
				return ret;
			if (cur->spec.drained != b->drained &&
			    (ret = xl4_lb_backend_drain(&d->lb, v->spec.name, b, b->drained, err, errlen)))
				return ret;
			if (b->has_mac && (!cur->mac_known || memcmp(cur->spec.mac, b->mac, 6)) &&
			    (ret = xl4_lb_backend_set_mac(&d->lb, cur->id, b->mac)))
				return xl4_errf(err, errlen, ret, "VIP '%s': cannot set a MAC: %s",
						v->spec.name, strerror(-ret));
		}
	}
	return 0;
}

int daemon_lb_reload(void *state, const struct xl4_config *old, const struct xl4_config *cfg,
		     char *err, size_t errlen)
{
	struct daemon_lb *d = state;
	struct xl4_lb_settings s;
	int ret, n_be = 0;

	(void)old; /* the live state is compared, not the old file: runtime changes count too */
	/* Refuse before touching anything what could only fail half-way. */
	if (cfg->n_vips > XL4_MAX_VIPS)
		return xl4_errf(err, errlen, -ENOSPC, "%d VIPs: %d is the maximum", cfg->n_vips,
				XL4_MAX_VIPS);
	for (int i = 0; i < cfg->n_vips; i++)
		n_be += cfg->vips[i].n_backends;
	if (n_be > XL4_MAX_BACKENDS)
		return xl4_errf(err, errlen, -ENOSPC, "%d backends: %d is the maximum", n_be,
				XL4_MAX_BACKENDS);
	xl4_lb_settings_from_config(cfg, &s);
	if ((ret = xl4_lb_set_globals(&d->lb, &s)))
		return xl4_errf(err, errlen, ret, "cannot write the LB settings: %s", strerror(-ret));
	if ((ret = remove_stale(d, cfg, err, errlen)))
		return ret;
	xl4_lb_hold(&d->lb);
	ret = add_and_change(d, cfg, err, errlen);
	/* Commit even after an error: what was applied gets consistent tables. */
	if (xl4_lb_commit(&d->lb, ret ? NULL : err, ret ? 0 : errlen) && !ret)
		ret = -EIO;
	if (!ret)
		daemon_lb_tick(d);
	return ret;
}
