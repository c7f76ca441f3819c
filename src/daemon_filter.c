// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "control.h"
#include "daemon_filter.h"
#include "log.h"

#define NS_PER_S 1000000000ull
#define TTL_MAX_S (10ull * 365 * 24 * 3600)  /* ten years; "never" is no --ttl at all */
#define PREFIXES_PER_REQUEST_MAX (1 << 21) /* the IPv4 blocklist's size */

static const char *list_name(enum xl4_list l)
{
	return l == XL4_LIST_ALLOW ? "allow" : "block";
}

/* The file's part of the filter, each piece all or nothing: lists (entries from the file never
 * expire; runtime entries stay), rules (one atomic swap), the global limit. err gets
 * "filter.KEY: problem". Used at start (over what a previous daemon left) and on reload. */
static int apply_config(struct daemon_filter *d, const struct xl4_filter_conf *fc, char *err,
			size_t errlen)
{
	char why[256];
	int ret;

	if ((ret = xl4_filter_set_new_sources(&d->f, fc->new_sources_per_sec)))
		return xl4_errf(err, errlen, ret, "filter.limit.new_sources_per_second: cannot write "
				"the filter settings: %s", strerror(-ret));
	d->new_sources_per_sec = fc->new_sources_per_sec;
	if ((ret = xl4_filter_lists_set_config(&d->f, fc->allow, fc->n_allow, fc->block, fc->n_block,
					       why, sizeof(why))))
		return xl4_errf(err, errlen, ret, "filter.%s", why);
	if ((ret = xl4_filter_rules_replace(&d->f, fc->rules, fc->n_rules, why, sizeof(why))))
		return xl4_errf(err, errlen, ret, "filter.%s", why);
	if ((ret = xl4_filter_limit_set(&d->f, fc->limit_rate, fc->limit_burst, fc->limit_v6_prefix,
					why, sizeof(why))))
		return xl4_errf(err, errlen, ret, "filter.limit: %s", why);
	return 0;
}

int daemon_filter_start(void *state, const struct daemon_env *env)
{
	const struct xl4_config *cfg = env->cfg;
	const struct xl4_filter_conf *fc = &cfg->filter;
	struct daemon_filter *d = state;
	char err[320];
	int ret;

	memset(d, 0, sizeof(*d));
	/* What a previous daemon left stays in force until the file's version replaces it: no
	 * moment with empty lists or no rules. */
	if ((ret = xl4_filter_init(&d->f, &env->eng->filter, fc->new_sources_per_sec)) ||
	    (ret = xl4_filter_adopt_rules(&d->f))) {
		pr_warn("filter: cannot initialise its maps: %s", strerror(-ret));
		return ret;
	}
	if ((ret = apply_config(d, fc, err, sizeof(err)))) {
		pr_warn("%s: %s", cfg->path, err);
		return ret;
	}
	d->ready = true;
	if (fc->n_allow || fc->n_block || fc->n_rules || fc->limit_rate) {
		struct xl4_kv kv = XL4_KV_INIT;

		xl4_kv(&kv, "allow", "%d", fc->n_allow);
		xl4_kv(&kv, "block", "%d", fc->n_block);
		xl4_kv(&kv, "rules", "%d", fc->n_rules);
		xl4_kv(&kv, "limit", "%s", fc->limit_rate ? "on" : "off");
		xl4_log_event(XL4_LOG_INFO, "filter_loaded", &kv);
	}
	if (d->f.n_expiring)
		pr_info("filter: %zu list entries with a deadline carried over", d->f.n_expiring);
	return 0;
}

int daemon_filter_reload(void *state, const struct xl4_config *old, const struct xl4_config *cfg,
			 char *err, size_t errlen)
{
	(void)old;
	return apply_config(state, &cfg->filter, err, errlen);
}

void daemon_filter_stop(void *state)
{
	struct daemon_filter *d = state;

	xl4_filter_free(&d->f);
	d->ready = false;
}

void daemon_filter_tick(void *state)
{
	struct daemon_filter *d = state;
	int n;

	if (!d->ready)
		return;
	n = xl4_filter_sweep(&d->f, xl4_mono_ns());
	if (n > 0) {
		struct xl4_kv kv = XL4_KV_INIT;

		xl4_kv(&kv, "entries", "%d", n);
		xl4_log_event(XL4_LOG_DEBUG, "list_expired", &kv);
	}
}

/* ---- control requests ---- */

static json_t *ok(void)
{
	return json_pack("{s:b}", "ok", 1);
}

/* "prefixes": a non-empty array of prefix strings, all parsed before anything is applied. */
static json_t *parse_prefixes(json_t *req, const char *cmd, struct xl4_prefix **out, size_t *n)
{
	json_t *arr = json_object_get(req, "prefixes"), *e;
	char why[160];
	size_t i;

	if (!json_is_array(arr) || !json_array_size(arr))
		return xl4_control_error("%s needs \"prefixes\": a non-empty array of strings", cmd);
	if (json_array_size(arr) > PREFIXES_PER_REQUEST_MAX)
		return xl4_control_error("%s: %zu prefixes; at most %d per request", cmd,
					 json_array_size(arr), PREFIXES_PER_REQUEST_MAX);
	*out = calloc(json_array_size(arr), sizeof(**out));
	if (!*out)
		return xl4_control_error("%s: out of memory", cmd);
	json_array_foreach(arr, i, e) {
		if (!json_is_string(e)) {
			free(*out);
			return xl4_control_error("%s: prefixes[%zu] is not a string", cmd, i);
		}
		if (xl4_prefix_parse(json_string_value(e), &(*out)[i], why, sizeof(why))) {
			free(*out);
			return xl4_control_error("%s: prefixes[%zu]: %s; nothing was changed", cmd, i, why);
		}
	}
	*n = i;
	return NULL;
}

/* c->arg: the list (enum xl4_list) */
static json_t *req_list_show(void *state, const struct xl4_ctl_cmd *c, json_t *req)
{
	struct daemon_filter *d = state;

	(void)req;
	return json_pack("{s:b, s:s, s:o}", "ok", 1, "list", list_name(c->arg), "entries",
			 xl4_filter_list_json(&d->f, c->arg, xl4_mono_ns()));
}

/* One line in the log for a list change: list_added or list_removed. */
static void list_logged(enum xl4_list l, const char *what, size_t n, long long ttl)
{
	struct xl4_kv kv = XL4_KV_INIT;

	xl4_kv(&kv, "list", "%s", list_name(l));
	xl4_kv(&kv, "prefixes", "%zu", n);
	if (ttl)
		xl4_kv(&kv, "ttl_s", "%lld", ttl);
	xl4_log_event(XL4_LOG_INFO, what, &kv);
}

static json_t *req_list_add(void *state, const struct xl4_ctl_cmd *c, json_t *req)
{
	struct daemon_filter *d = state;
	struct xl4_prefix *p = NULL;
	json_t *bad = NULL;
	char err[256];
	long long ttl = 0;
	size_t n = 0;
	int ret;

	if (xl4_ctl_int(req, c->name, "ttl", 1, TTL_MAX_S, &ttl, &bad) < 0 ||
	    (bad = parse_prefixes(req, c->name, &p, &n)))
		return bad;
	ret = xl4_filter_list_add(&d->f, c->arg, p, n, ttl ? xl4_mono_ns() + ttl * NS_PER_S : 0,
				  err, sizeof(err));
	free(p);
	if (ret)
		return xl4_control_error("%s", err);
	list_logged(c->arg, "list_added", n, ttl);
	return json_pack("{s:b, s:I}", "ok", 1, "added", (json_int_t)n);
}

static json_t *req_list_del(void *state, const struct xl4_ctl_cmd *c, json_t *req)
{
	struct daemon_filter *d = state;
	struct xl4_prefix *p = NULL;
	json_t *bad;
	char err[256];
	size_t n = 0;
	int ret;

	if ((bad = parse_prefixes(req, c->name, &p, &n)))
		return bad;
	ret = xl4_filter_list_del(&d->f, c->arg, p, n, err, sizeof(err));
	free(p);
	if (ret)
		return xl4_control_error("%s", err);
	list_logged(c->arg, "list_removed", n, 0);
	return json_pack("{s:b, s:I}", "ok", 1, "removed", (json_int_t)n);
}

static json_t *req_rule_add(void *state, const struct xl4_ctl_cmd *c, json_t *req)
{
	struct daemon_filter *d = state;
	const char *cmd = c->name, *dst = NULL, *proto = NULL, *ports = NULL, *action = NULL;
	struct xl4_rule_spec r = { .proto = XL4_PROTO_ANY, .v6_prefix = 64 };
	long long rate = 0, burst = 0, v6 = 0;
	int has_rate, has_burst, has_v6;
	json_t *bad = NULL;
	char err[256];
	uint32_t id;

	if (xl4_ctl_str(req, cmd, "dst", &dst, &bad) < 0 ||
	    xl4_ctl_str(req, cmd, "proto", &proto, &bad) < 0 ||
	    xl4_ctl_str(req, cmd, "ports", &ports, &bad) < 0 ||
	    xl4_ctl_str(req, cmd, "action", &action, &bad) < 0 ||
	    (has_rate = xl4_ctl_int(req, cmd, "rate", 1, 10000000, &rate, &bad)) < 0 ||
	    (has_burst = xl4_ctl_int(req, cmd, "burst", 1, 10000000, &burst, &bad)) < 0 ||
	    (has_v6 = xl4_ctl_int(req, cmd, "v6_prefix", 1, 128, &v6, &bad)) < 0)
		return bad;
	if (!dst || !action)
		return xl4_control_error("rule-add needs \"dst\" and \"action\"");
	if (xl4_prefix_parse(dst, &r.dst, err, sizeof(err)))
		return xl4_control_error("%s", err);
	if (proto && xl4_rule_proto_parse(proto, &r.proto))
		return xl4_control_error("proto '%s' is not one of: tcp, udp, icmp, icmpv6, any", proto);
	if (ports && xl4_port_range_parse(ports, &r.port_lo, &r.port_hi, err, sizeof(err)))
		return xl4_control_error("%s", err);
	if (xl4_rule_action_parse(action, &r.action))
		return xl4_control_error("action '%s' is not one of: allow, drop, limit", action);
	r.rate = rate;
	r.burst = burst;
	if (has_v6)
		r.v6_prefix = v6;
	if (xl4_rule_spec_check(&r, has_rate, has_burst, has_v6, err, sizeof(err)) ||
	    xl4_filter_rule_add(&d->f, &r, &id, err, sizeof(err)))
		return xl4_control_error("%s", err);
	{
		struct xl4_kv kv = XL4_KV_INIT;

		xl4_kv(&kv, "rule", "%u", id);
		xl4_kv(&kv, "action", "%s", action);
		xl4_kv(&kv, "dst", "%s", dst);
		xl4_log_event(XL4_LOG_INFO, "rule_added", &kv);
	}
	return json_pack("{s:b, s:i}", "ok", 1, "id", (int)id);
}

static json_t *limit_json(struct daemon_filter *d)
{
	const struct xl4_rule *l = &d->f.g.limit;
	json_t *o = json_pack("{s:b, s:I}", "on", l->action == XL4_RULE_LIMIT,
			      "new_sources_per_second", (json_int_t)d->new_sources_per_sec);

	if (l->action == XL4_RULE_LIMIT) {
		json_object_set_new(o, "rate", json_integer(l->rate));
		json_object_set_new(o, "burst", json_integer(l->burst));
		json_object_set_new(o, "v6_prefix", json_integer(l->v6_prefix));
	}
	json_object_set_new(o, "counters",
			    xl4_filter_rule_counters_json(&d->f, XL4_RULE_GLOBAL_LIMIT));
	return o;
}

static json_t *req_limit_show(void *state, const struct xl4_ctl_cmd *c, json_t *req)
{
	(void)c, (void)req;
	return json_pack("{s:b, s:o}", "ok", 1, "limit", limit_json(state));
}

static json_t *req_limit_off(void *state, const struct xl4_ctl_cmd *c, json_t *req)
{
	struct daemon_filter *d = state;
	char err[256];

	(void)c, (void)req;
	if (xl4_filter_limit_set(&d->f, 0, 0, 0, err, sizeof(err)))
		return xl4_control_error("%s", err);
	xl4_log_event(XL4_LOG_INFO, "limit_off", NULL);
	return ok();
}

static json_t *req_limit_set(void *state, const struct xl4_ctl_cmd *c, json_t *req)
{
	struct daemon_filter *d = state;
	long long rate = 0, burst = 0, v6 = 64;
	json_t *bad = NULL;
	char err[256];

	if (xl4_ctl_int(req, c->name, "rate", 1, 10000000, &rate, &bad) < 0 ||
	    xl4_ctl_int(req, c->name, "burst", 1, 10000000, &burst, &bad) < 0 ||
	    xl4_ctl_int(req, c->name, "v6_prefix", 1, 128, &v6, &bad) < 0)
		return bad;
	if (!rate || !burst)
		return xl4_control_error("limit-set needs \"rate\" and \"burst\"");
	if (xl4_filter_limit_set(&d->f, rate, burst, v6, err, sizeof(err)))
		return xl4_control_error("%s", err);
	{
		struct xl4_kv kv = XL4_KV_INIT;

		xl4_kv(&kv, "rate", "%lld", rate);
		xl4_kv(&kv, "burst", "%lld", burst);
		xl4_kv(&kv, "v6_prefix", "%lld", v6);
		xl4_log_event(XL4_LOG_INFO, "limit_set", &kv);
	}
	return ok();
}

static json_t *req_rule_del(void *state, const struct xl4_ctl_cmd *c, json_t *req)
{
	struct daemon_filter *d = state;
	json_t *bad = NULL;
	char err[256];
	long long id = 0;

	if (xl4_ctl_int(req, c->name, "id", 1, XL4_MAX_RULES - 1, &id, &bad) < 0)
		return bad;
	if (!id)
		return xl4_control_error("rule-del needs \"id\"");
	if (xl4_filter_rule_del(&d->f, id, err, sizeof(err)))
		return xl4_control_error("%s", err);
	{
		struct xl4_kv kv = XL4_KV_INIT;

		xl4_kv(&kv, "rule", "%lld", id);
		xl4_log_event(XL4_LOG_INFO, "rule_removed", &kv);
	}
	return ok();
}

static json_t *req_rule_list(void *state, const struct xl4_ctl_cmd *c, json_t *req)
{
	struct daemon_filter *d = state;

	(void)c, (void)req;
	return json_pack("{s:b, s:o}", "ok", 1, "rules", xl4_filter_rules_json(&d->f));
}

const struct xl4_ctl_cmd daemon_filter_cmds[] = {
	{ "block-add", req_list_add, XL4_LIST_BLOCK, XL4_CTL_KEYS("prefixes", "ttl"),
	  "add prefixes to the blocklist (ttl: seconds until they expire)" },
	{ "block-del", req_list_del, XL4_LIST_BLOCK, XL4_CTL_KEYS("prefixes"),
	  "remove prefixes from the blocklist" },
	{ "block-list", req_list_show, XL4_LIST_BLOCK, NULL, "the blocklist's entries" },
	{ "allow-add", req_list_add, XL4_LIST_ALLOW, XL4_CTL_KEYS("prefixes", "ttl"),
	  "add prefixes to the allowlist (ttl: seconds until they expire)" },
	{ "allow-del", req_list_del, XL4_LIST_ALLOW, XL4_CTL_KEYS("prefixes"),
	  "remove prefixes from the allowlist" },
	{ "allow-list", req_list_show, XL4_LIST_ALLOW, NULL, "the allowlist's entries" },
	{ "rule-add", req_rule_add, 0,
	  XL4_CTL_KEYS("dst", "proto", "ports", "action", "rate", "burst", "v6_prefix"),
	  "add a destination rule (allow, drop or limit); replies with its id" },
	{ "rule-del", req_rule_del, 0, XL4_CTL_KEYS("id"), "remove a rule by id" },
	{ "rule-list", req_rule_list, 0, NULL, "the rules with their counters" },
	{ "limit-set", req_limit_set, 0, XL4_CTL_KEYS("rate", "burst", "v6_prefix"),
	  "set the global per-source rate limit" },
	{ "limit-off", req_limit_off, 0, NULL, "turn the global per-source limit off" },
	{ "limit-show", req_limit_show, 0, NULL, "the global per-source limit and its counters" },
	{ 0 },
};

json_t *daemon_filter_json(struct daemon_filter *d)
{
	return json_pack("{s:I, s:I, s:o}", "rules", (json_int_t)d->f.n_rules, "expiring_entries",
			 (json_int_t)d->f.n_expiring, "limit", limit_json(d));
}

void daemon_filter_status(void *state, json_t *status)
{
	json_object_set_new(status, "filter", daemon_filter_json(state));
}
