// SPDX-License-Identifier: GPL-2.0
#include <ctype.h>
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <libconfig.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/random.h>

#include "cli.h"
#include "conf_include.h"
#include "conf_lit.h"
#include "config.h"
#include "log.h"
#include "maglev.h"
#include "xl4/abi.h"

static const struct xl4_config config_defaults = {
	.mode = XL4_MODE_AUTO,
	.pin_path = XL4_DEFAULT_PIN_PATH,
	.control_socket = XL4_DEFAULT_SOCKET,
	.frag_policy = XL4_FRAG_PASS,
	.sample_per_sec = 100,
	.lb = {
		.table_size = XL4_RING_SIZE_DEFAULT,
		.ct_max = 262144,
		.ct_per_cpu_lru = true,
		.fcache_slots = XL4_FCACHE_SLOTS_DEFAULT,
		.too_big_per_sec = 1000,
		.icmp_errors_per_sec = 1000,
		.ipip_src4_hostmask = 0xff, /* addresses: see xl4_config_defaults() */
	},
	.metrics = {
		.listen = XL4_METRICS_LISTEN_DEFAULT,
		.family = AF_INET,
		.addr = { 127, 0, 0, 1 },
		.port = 9143,
	},
	.socket_gid = -1,
	.guard = {
		.enabled = true, /* it acts only under attack (docs/guard.md) */
		.response = XL4_GUARD_RESP_AUTO,
		.syn_rate = 1000,
		.surge_rate = 20000,
		.ratio = 3.0,
		.enter_ms = 500,
		.leave_ms = 5000,
		.escalate_ms = 250,
		.fd_min_ms = 500,
		.fd_max_ms = 6000,
		.fd_hold_ms = 3000,
		.min_sources = 4,
		.verify_v6_prefix = 64,
		.verify_per_sec = 10000,
		.verified_ttl_s = 3600,
		.challenge_per_sec = 1000000,
		.key_rotation_s = 3600,
		.grey_slots = 1 << 20,
		.syn_slots = 1 << 20,
		.verified_max = 262144,
		.analyzer = { .block_top = false, .block_seconds = 300, .max_blocks = 64,
			      .min_share = 0.2, .min_samples = 50 },
	},
	.cluster = { .min_healthy = 1, .drain_ms = 2000 },
	.filter = {
		.limit_v6_prefix = 64,
		.new_sources_per_sec = XL4_FILTER_NEW_SOURCES_DEFAULT,
		.rate_table_size = XL4_FILTER_RATE_TABLE_DEFAULT,
		.ipv4_groups = XL4_BLOCK4_GROUPS_DEFAULT,
	},
};

/* The keys of a VIP, a backend, a health check and a rule: the lists of groups are read by
 * hand (see struct xl4_conf_key). */
static const char *const vip_keys[] = { "name", "address", "mode", "mtu", "on_backend_down",
					"health", "backends", NULL };
static const char *const backend_keys[] = { "address", "weight", "mac", "drained", NULL };
static const char *const health_keys[] = { "type", "port", "path", "host", "expect",
					   "interval_ms", "timeout_ms", "rise", "fall", NULL };
static const char *const rule_keys[] = { "dst", "proto", "ports", "action", "rate", "burst",
					 "v6_prefix", NULL };

struct xl4_conf_ctx {
	const char *name;
	char *err;
	size_t errlen;
	struct xl4_conf_lits *lits; /* integers as written: libconfig wraps them */
};

static int fail(struct xl4_conf_ctx *c, const config_setting_t *s, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* "vips[1].backends[0].address": where a setting sits, for error messages. */
static void setting_path(const config_setting_t *s, char *buf, size_t len)
{
	char tmp[256];
	const config_setting_t *parent;

	buf[0] = '\0';
	for (; s && (parent = config_setting_parent(s)); s = parent) {
		if (config_setting_name(s))
			snprintf(tmp, sizeof(tmp), "%s%s%s", config_setting_name(s),
				 buf[0] && buf[0] != '[' ? "." : "", buf);
		else
			snprintf(tmp, sizeof(tmp), "[%d]%s%s", config_setting_index(s),
				 buf[0] && buf[0] != '[' ? "." : "", buf);
		snprintf(buf, len, "%s", tmp);
	}
}

static int fail(struct xl4_conf_ctx *c, const config_setting_t *s, const char *fmt, ...)
{
	char msg[384], path[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	setting_path(s, path, sizeof(path));
	snprintf(c->err, c->errlen, "%s:%d: %s: %s", c->name, s ? config_setting_source_line(s) : 0,
		 path, msg);
	return -EINVAL;
}

static int check_keys(struct xl4_conf_ctx *c, const config_setting_t *group, const char *const *known)
{
	int n = config_setting_length(group);

	for (int i = 0; i < n; i++) {
		const config_setting_t *s = config_setting_get_elem(group, i);
		const char *name = config_setting_name(s);
		int ok = 0;

		for (const char *const *k = known; *k; k++)
			ok |= name && !strcmp(name, *k);
		if (!ok)
			return fail(c, s, "unknown key");
	}
	return 0;
}

static int get_string(struct xl4_conf_ctx *c, const config_setting_t *s, const char **out)
{
	if (config_setting_type(s) != CONFIG_TYPE_STRING)
		return fail(c, s, "expected a string in double quotes");
	*out = config_setting_get_string(s);
	return 0;
}

static int copy_string(struct xl4_conf_ctx *c, const config_setting_t *s, char *dst, size_t cap)
{
	const char *v = NULL;
	int err = get_string(c, s, &v);

	if (err)
		return err;
	if (!*v)
		return fail(c, s, "must not be empty");
	if (strlen(v) >= cap)
		return fail(c, s, "longer than %zu characters", cap - 1);
	strcpy(dst, v);
	return 0;
}

int xl4_config_add_iface(struct xl4_config *cfg, const char *name, char *err, size_t errlen)
{
	if (!*name || strlen(name) >= IF_NAMESIZE || strchr(name, '/') || strchr(name, ' ')) {
		snprintf(err, errlen, "'%s' is not a valid interface name", name);
		return -EINVAL;
	}
	for (int i = 0; i < cfg->n_ifaces; i++) {
		if (!strcmp(cfg->ifaces[i], name)) {
			snprintf(err, errlen, "interface '%s' given twice", name);
			return -EINVAL;
		}
	}
	if (cfg->n_ifaces >= XL4_MAX_IFACES) {
		snprintf(err, errlen, "more than %d interfaces", XL4_MAX_IFACES);
		return -E2BIG;
	}
	strcpy(cfg->ifaces[cfg->n_ifaces++], name);
	return 0;
}

static int parse_interfaces(struct xl4_conf_ctx *c, const struct xl4_conf_key *k,
			    const config_setting_t *s, struct xl4_config *cfg)
{
	int n;

	(void)k;

	if (config_setting_type(s) == CONFIG_TYPE_STRING)
		return xl4_config_add_iface(cfg, config_setting_get_string(s), c->err, c->errlen)
			       ? fail(c, s, "%s", "bad interface name (1-15 characters, no '/')")
			       : 0;
	if (!config_setting_is_aggregate(s) || config_setting_type(s) == CONFIG_TYPE_GROUP)
		return fail(c, s, "expected a list of interface names, e.g. [\"eth0\", \"eth1\"]");
	n = config_setting_length(s);
	for (int i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(s, i);
		char why[128];

		if (config_setting_type(e) != CONFIG_TYPE_STRING)
			return fail(c, s, "element %d is not a string", i + 1);
		if (xl4_config_add_iface(cfg, config_setting_get_string(e), why, sizeof(why)))
			return fail(c, s, "%s", why);
	}
	return 0;
}

/* An integer setting's text as written: libconfig's own value may have wrapped. */
static int int_text(struct xl4_conf_ctx *c, const config_setting_t *s, const char **text)
{
	char path[256];
	long long v;

	if (config_setting_type(s) != CONFIG_TYPE_INT && config_setting_type(s) != CONFIG_TYPE_INT64)
		return fail(c, s, "expected an integer");
	setting_path(s, path, sizeof(path));
	if (!(*text = xl4_conf_lit(c->lits, path)))
		return fail(c, s, "cannot find this integer in the file as written");
	/* The second reading must have found this very integer: libconfig's value, wrapped or
	 * not, keeps its low 32 bits. A text that disagrees came from elsewhere in the file. */
	if (!xl4_parse_int(*text, LLONG_MIN, LLONG_MAX, XL4_NUM_SIGN | XL4_NUM_HEX | XL4_NUM_LSUFFIX,
			   &v) &&
	    (uint32_t)v != (uint32_t)config_setting_get_int64(s))
		return fail(c, s, "read as %lld here, but '%s' as written: the config's layout "
				  "(comments or strings across an @include) confuses xl4's second reading",
			    config_setting_get_int64(s), *text);
	return 0;
}

static int get_int(struct xl4_conf_ctx *c, const config_setting_t *s, long long min, long long max,
		   long long *out)
{
	const char *text;
	int err = int_text(c, s, &text);

	if (err)
		return err;
	err = xl4_parse_int(text, min, max, XL4_NUM_SIGN | XL4_NUM_HEX | XL4_NUM_LSUFFIX, out);
	if (err == -ERANGE)
		return fail(c, s, "'%s' is out of range %lld..%lld", text, min, max);
	if (err)
		return fail(c, s, "'%s' is not an integer", text);
	return 0;
}

int xl4_metrics_listen_parse(const char *s, struct xl4_metrics_conf *m, char *err, size_t errlen)
{
	struct xl4_metrics_conf out = { 0 };
	char host[64];
	const char *colon;
	unsigned long port;
	size_t hlen;

	if (strlen(s) >= sizeof(out.listen))
		return xl4_errf(err, errlen, -EINVAL, "longer than %zu characters", sizeof(out.listen) - 1);
	snprintf(out.listen, sizeof(out.listen), "%s", s);
	if (!*s) {
		*m = out; /* disabled */
		return 0;
	}
	if (*s == '[') {
		const char *close = strchr(s, ']');

		if (!close || close[1] != ':')
			return xl4_errf(err, errlen, -EINVAL,
					"'%s' is not ADDRESS:PORT (IPv6 as \"[::1]:9143\")", s);
		hlen = close - s - 1;
		colon = close + 1;
		s++;
		out.family = AF_INET6;
	} else {
		colon = strrchr(s, ':');
		if (!colon || strchr(s, ':') != colon)
			return xl4_errf(err, errlen, -EINVAL,
					"'%s' is not ADDRESS:PORT (IPv6 as \"[::1]:9143\")", s);
		hlen = colon - s;
		out.family = AF_INET;
	}
	if (hlen >= sizeof(host))
		return xl4_errf(err, errlen, -EINVAL, "address too long");
	memcpy(host, s, hlen);
	host[hlen] = '\0';
	if (inet_pton(out.family, host, out.addr) != 1)
		return xl4_errf(err, errlen, -EINVAL, "'%s' is not an IPv%d address", host,
				out.family == AF_INET ? 4 : 6);
	if (xl4_parse_uint(colon + 1, 1, 65535, &port))
		return xl4_errf(err, errlen, -EINVAL, "port '%s' is not 1..65535", colon + 1);
	out.port = port;
	*m = out;
	return 0;
}

int xl4_socket_group_parse(const char *name, struct xl4_config *cfg, char *err, size_t errlen)
{
	struct group gr, *found = NULL;
	char buf[4096];

	if (!*name || strlen(name) >= sizeof(cfg->socket_group))
		return xl4_errf(err, errlen, -EINVAL, "socket group '%.64s' is not a group name", name);
	if (getgrnam_r(name, &gr, buf, sizeof(buf), &found) || !found)
		return xl4_errf(err, errlen, -ENOENT, "no group named '%.64s' (see getent group)", name);
	snprintf(cfg->socket_group, sizeof(cfg->socket_group), "%s", name);
	cfg->socket_gid = found->gr_gid;
	return 0;
}

static int get_bool(struct xl4_conf_ctx *c, const config_setting_t *s, bool *out)
{
	if (config_setting_type(s) != CONFIG_TYPE_BOOL)
		return fail(c, s, "expected true or false");
	*out = config_setting_get_bool(s);
	return 0;
}

static int group_check(struct xl4_conf_ctx *c, const config_setting_t *g, const char *const *keys,
		       const char *example)
{
	if (!config_setting_is_group(g))
		return fail(c, g, "expected a group: %s", example);
	return check_keys(c, g, keys);
}

/* "198.18.255.0/24" -> base and host mask; /16../30 so flows have outer sources to spread over. */
static int parse_src4(struct xl4_conf_ctx *c, const struct xl4_conf_key *k, const config_setting_t *s,
		      struct xl4_config *cfg)
{
	struct xl4_lb_conf *lb = &cfg->lb;
	const char *v = NULL;
	char addr[32];
	unsigned long len;
	const char *slash;
	int err = get_string(c, s, &v);

	(void)k;
	if (err)
		return err;
	slash = strchr(v, '/');
	if (!slash || (size_t)(slash - v) >= sizeof(addr) || xl4_parse_uint(slash + 1, 16, 30, &len))
		return fail(c, s, "'%s': expected an IPv4 prefix /16../30, e.g. \"198.18.255.0/24\"", v);
	memcpy(addr, v, slash - v);
	addr[slash - v] = '\0';
	if (inet_pton(AF_INET, addr, &lb->ipip_src4) != 1)
		return fail(c, s, "'%s' is not an IPv4 address", addr);
	lb->ipip_src4_hostmask = (1u << (32 - len)) - 1;
	lb->ipip_src4 &= htonl(~lb->ipip_src4_hostmask);
	return 0;
}

/* "2001:db8:ffff::/112": the low 16 bits vary per flow. */
static int parse_src6(struct xl4_conf_ctx *c, const struct xl4_conf_key *k, const config_setting_t *s,
		      struct xl4_config *cfg)
{
	struct xl4_lb_conf *lb = &cfg->lb;
	const char *v = NULL;
	char addr[64];
	const char *slash;
	int err = get_string(c, s, &v);

	(void)k;
	if (err)
		return err;
	slash = strchr(v, '/');
	if (!slash || strcmp(slash, "/112") || (size_t)(slash - v) >= sizeof(addr))
		return fail(c, s, "'%s': expected an IPv6 /112 prefix, e.g. \"2001:db8:ffff::/112\"", v);
	memcpy(addr, v, slash - v);
	addr[slash - v] = '\0';
	if (inet_pton(AF_INET6, addr, lb->ipip_src6) != 1)
		return fail(c, s, "'%s' is not an IPv6 address", addr);
	((uint16_t *)lb->ipip_src6)[7] = 0;
	return 0;
}

static int parse_health(struct xl4_conf_ctx *c, const config_setting_t *g, struct xl4_vip_conf *vc)
{
	struct xl4_health_spec *h = &vc->health;
	const config_setting_t *s;
	const char *v = NULL;
	long long n;
	int err;

	if ((err = group_check(c, g, health_keys, "health: { type = \"tcp\"; };")))
		return err;
	*h = (struct xl4_health_spec){ .kind = XL4_HC_TCP, .interval_ms = 1000, .timeout_ms = 500,
				       .rise = 2, .fall = 3 };
	vc->health_on = true;
	if ((s = config_setting_get_member(g, "type"))) {
		if ((err = get_string(c, s, &v)))
			return err;
		if (!strcmp(v, "tcp"))
			h->kind = XL4_HC_TCP;
		else if (!strcmp(v, "http"))
			h->kind = XL4_HC_HTTP;
		else if (!strcmp(v, "none"))
			vc->health_on = false;
		else
			return fail(c, s, "'%s' is not one of: tcp, http, none", v);
	}
	if ((s = config_setting_get_member(g, "port"))) {
		if ((err = get_int(c, s, 1, 65535, &n)))
			return err;
		h->port = n;
	}
	if ((s = config_setting_get_member(g, "path"))) {
		if ((err = copy_string(c, s, h->http_path, sizeof(h->http_path))))
			return err;
		if (h->http_path[0] != '/')
			return fail(c, s, "must start with '/'");
	}
	if ((s = config_setting_get_member(g, "host")) &&
	    (err = copy_string(c, s, h->http_host, sizeof(h->http_host))))
		return err;
	if ((s = config_setting_get_member(g, "expect"))) {
		if ((err = get_int(c, s, 100, 599, &n)))
			return err;
		h->http_expect = n;
	}
	if ((s = config_setting_get_member(g, "interval_ms"))) {
		if ((err = get_int(c, s, 100, 3600000, &n)))
			return err;
		h->interval_ms = n;
	}
	if ((s = config_setting_get_member(g, "timeout_ms"))) {
		if ((err = get_int(c, s, 1, 3600000, &n)))
			return err;
		h->timeout_ms = n;
	}
	if ((s = config_setting_get_member(g, "rise"))) {
		if ((err = get_int(c, s, 1, 100, &n)))
			return err;
		h->rise = n;
	}
	if ((s = config_setting_get_member(g, "fall"))) {
		if ((err = get_int(c, s, 1, 100, &n)))
			return err;
		h->fall = n;
	}
	if (h->timeout_ms >= h->interval_ms)
		return fail(c, g, "timeout_ms (%u) must be shorter than interval_ms (%u)",
			    h->timeout_ms, h->interval_ms);
	return 0;
}

static int parse_backend(struct xl4_conf_ctx *c, const config_setting_t *g, const struct xl4_vip_conf *vc,
			 struct xl4_backend_spec *b)
{
	const config_setting_t *s;
	const char *v = NULL;
	char why[160];
	long long n;
	int err;

	if ((err = group_check(c, g, backend_keys, "{ address = \"198.18.2.1\"; weight = 1; }")))
		return err;
	memset(b, 0, sizeof(*b));
	b->weight = 1;
	if (!(s = config_setting_get_member(g, "address")))
		return fail(c, g, "a backend needs an address");
	if ((err = get_string(c, s, &v)))
		return err;
	if (xl4_parse_backend_addr(v, b, why, sizeof(why)))
		return fail(c, s, "%s", why);
	if (b->family != vc->spec.family)
		return fail(c, s, "'%s' is IPv%d but the VIP is IPv%d", v, b->family, vc->spec.family);
	if (b->port && vc->spec.mode != XL4_FWD_PORT && b->port != vc->spec.port)
		return fail(c, s, "'%s': a backend port needs mode \"port\"", v);
	for (int i = 0; i < vc->n_backends; i++)
		if (xl4_backend_same(&vc->backends[i], b))
			return fail(c, s, "'%s' is listed twice", v);
	if ((s = config_setting_get_member(g, "weight"))) {
		if ((err = get_int(c, s, 1, 65535, &n)))
			return err;
		b->weight = n;
	}
	if ((s = config_setting_get_member(g, "mac"))) {
		if ((err = get_string(c, s, &v)))
			return err;
		if (xl4_parse_mac(v, b->mac))
			return fail(c, s, "'%s' is not a unicast MAC like \"02:00:00:00:00:01\"", v);
		b->has_mac = true;
	}
	if ((s = config_setting_get_member(g, "drained")) && (err = get_bool(c, s, &b->drained)))
		return err;
	return 0;
}

static int parse_vip(struct xl4_conf_ctx *c, const config_setting_t *g, struct xl4_config *cfg,
		     struct xl4_vip_conf *vc)
{
	const config_setting_t *s, *list;
	const char *v = NULL;
	char why[160];
	long long n;
	int err;

	if ((err = group_check(c, g, vip_keys, "{ name = \"web\"; address = \"198.18.1.1:80/tcp\"; ... }")))
		return err;
	vc->spec.mode = XL4_FWD_L2;
	if (!(s = config_setting_get_member(g, "name")))
		return fail(c, g, "a VIP needs a name");
	if ((err = get_string(c, s, &v)))
		return err;
	if (xl4_parse_name(v, vc->spec.name, why, sizeof(why)))
		return fail(c, s, "%s", why);
	for (int i = 0; i < cfg->n_vips; i++)
		if (!strcmp(cfg->vips[i].spec.name, vc->spec.name))
			return fail(c, s, "VIP name '%s' is used twice", v);
	if (!(s = config_setting_get_member(g, "address")))
		return fail(c, g, "VIP '%s' needs an address like \"198.18.1.1:80/tcp\"", vc->spec.name);
	if ((err = get_string(c, s, &v)))
		return err;
	if (xl4_parse_vip_addr(v, &vc->spec, why, sizeof(why)))
		return fail(c, s, "%s", why);
	for (int i = 0; i < cfg->n_vips; i++) {
		const struct xl4_vip_spec *o = &cfg->vips[i].spec;

		if (o->family == vc->spec.family && o->port == vc->spec.port &&
		    o->proto == vc->spec.proto && !memcmp(o->addr, vc->spec.addr, 16))
			return fail(c, s, "'%s' is also VIP '%s'", v, o->name);
	}
	if ((s = config_setting_get_member(g, "mode"))) {
		if ((err = get_string(c, s, &v)))
			return err;
		if (xl4_parse_mode(v, &vc->spec.mode))
			return fail(c, s, "'%s' is not one of: l2, port, ipip", v);
	}
	if ((s = config_setting_get_member(g, "mtu"))) {
		if ((err = get_int(c, s, vc->spec.family == 6 ? 1320 : 596, 9216, &n)))
			return err;
		vc->spec.mtu = n;
	}
	if ((s = config_setting_get_member(g, "on_backend_down"))) {
		if ((err = get_string(c, s, &v)))
			return err;
		if (!strcmp(v, "reschedule"))
			vc->spec.reschedule_down = true;
		else if (strcmp(v, "keep"))
			return fail(c, s, "'%s' is not one of: keep, reschedule", v);
	}
	if ((s = config_setting_get_member(g, "health")) && (err = parse_health(c, s, vc)))
		return err;
	if (!(list = config_setting_get_member(g, "backends")))
		return 0;
	if (!config_setting_is_list(list))
		return fail(c, list, "expected a list: backends = ( { address = \"...\"; }, ... );");
	n = config_setting_length(list);
	if (n > XL4_VIP_MAX_BACKENDS_CONF)
		return fail(c, list, "%lld backends; at most %d per VIP", n, XL4_VIP_MAX_BACKENDS_CONF);
	vc->backends = calloc(n ? n : 1, sizeof(*vc->backends));
	if (!vc->backends)
		return fail(c, list, "out of memory");
	for (int i = 0; i < n; i++) {
		if ((err = parse_backend(c, config_setting_get_elem(list, i), vc, &vc->backends[i])))
			return err;
		vc->n_backends++;
	}
	return 0;
}

static int parse_vips(struct xl4_conf_ctx *c, const struct xl4_conf_key *k,
		      const config_setting_t *list, struct xl4_config *cfg)
{
	int n, err;

	(void)k;

	if (!config_setting_is_list(list))
		return fail(c, list, "expected a list: vips = ( { name = \"web\"; ... }, ... );");
	n = config_setting_length(list);
	if (n > XL4_MAX_VIPS)
		return fail(c, list, "%d VIPs; at most %d", n, XL4_MAX_VIPS);
	cfg->vips = calloc(n ? n : 1, sizeof(*cfg->vips));
	if (!cfg->vips)
		return fail(c, list, "out of memory");
	for (int i = 0; i < n; i++) {
		err = parse_vip(c, config_setting_get_elem(list, i), cfg, &cfg->vips[i]);
		cfg->n_vips++; /* counted even on error: xl4_config_free() frees the half-parsed one */
		if (err)
			return err;
	}
	return 0;
}

/* ---- filter ---- */

#define XL4_RULE_RATE_MAX 10000000 /* packets/s; also bounds the datapath's refill arithmetic */
#define XL4_RULE_BURST_MAX 10000000

int xl4_rule_spec_check(const struct xl4_rule_spec *r, bool has_rate, bool has_burst,
			bool has_v6_prefix, char *err, size_t errlen)
{
	bool limit = r->action == XL4_RULE_LIMIT;

	if ((r->proto == IPPROTO_ICMP && r->dst.family == 6) ||
	    (r->proto == IPPROTO_ICMPV6 && r->dst.family == 4)) {
		snprintf(err, errlen, "icmp goes with IPv4 destinations, icmpv6 with IPv6");
		return -EINVAL;
	}

	if ((r->port_lo || r->port_hi) && r->proto != IPPROTO_TCP && r->proto != IPPROTO_UDP &&
	    r->proto != XL4_PROTO_ANY) {
		snprintf(err, errlen, "ports need proto tcp, udp or any (not %s)",
			 xl4_rule_proto_name(r->proto));
		return -EINVAL;
	}
	if (r->port_lo > r->port_hi) {
		snprintf(err, errlen, "port range %u-%u runs backwards", r->port_lo, r->port_hi);
		return -EINVAL;
	}
	if (!limit && (has_rate || has_burst || has_v6_prefix)) {
		snprintf(err, errlen, "%s is only for action \"limit\"",
			 has_rate ? "rate" : has_burst ? "burst" : "v6_prefix");
		return -EINVAL;
	}
	if (limit && (!has_rate || !has_burst)) {
		snprintf(err, errlen, "action \"limit\" needs rate and burst");
		return -EINVAL;
	}
	if (limit && (r->rate < 1 || r->rate > XL4_RULE_RATE_MAX)) {
		snprintf(err, errlen, "rate %u is out of range 1..%d", r->rate, XL4_RULE_RATE_MAX);
		return -EINVAL;
	}
	if (limit && (r->burst < 1 || r->burst > XL4_RULE_BURST_MAX)) {
		snprintf(err, errlen, "burst %u is out of range 1..%d", r->burst, XL4_RULE_BURST_MAX);
		return -EINVAL;
	}
	if (limit && (r->v6_prefix < 1 || r->v6_prefix > 128)) {
		snprintf(err, errlen, "v6_prefix %u is out of range 1..128", r->v6_prefix);
		return -EINVAL;
	}
	return 0;
}

static int prefix_cmp(const struct xl4_prefix *a, const struct xl4_prefix *b)
{
	if (a->family != b->family)
		return a->family - b->family;
	if (a->len != b->len)
		return a->len - b->len;
	return memcmp(a->addr, b->addr, sizeof(a->addr));
}

/* For finding duplicates across both lists in O(n log n): which list, which element. */
struct list_ref {
	const struct xl4_prefix *p;
	int list; /* 0 allow, 1 block */
	int idx;
};

static int list_ref_cmp(const void *a, const void *b)
{
	const struct list_ref *x = a, *y = b;
	int d = prefix_cmp(x->p, y->p);

	if (d)
		return d;
	if (x->list != y->list)
		return x->list - y->list;
	return x->idx - y->idx;
}

static int parse_prefix_list(struct xl4_conf_ctx *c, const config_setting_t *s, struct xl4_prefix **out,
			     int *n_out)
{
	int n;

	if (!config_setting_is_array(s) && !config_setting_is_list(s))
		return fail(c, s, "expected a list of prefixes, e.g. [\"198.18.6.0/24\", \"2001:db8:6::/48\"]");
	n = config_setting_length(s);
	if (n > XL4_FILTER_LIST_MAX_CONF)
		return fail(c, s, "%d prefixes; at most %d in the file (add more at runtime)", n,
			    XL4_FILTER_LIST_MAX_CONF);
	*out = calloc(n ? n : 1, sizeof(**out));
	if (!*out)
		return fail(c, s, "out of memory");
	for (int i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(s, i);
		char why[160];

		if (config_setting_type(e) != CONFIG_TYPE_STRING)
			return fail(c, e, "expected a prefix in double quotes, e.g. \"198.18.6.0/24\"");
		if (xl4_prefix_parse(config_setting_get_string(e), &(*out)[i], why, sizeof(why)))
			return fail(c, e, "%s", why);
		*n_out = i + 1;
	}
	return 0;
}

/* A prefix twice on one list, or on both lists, is a mistake worth naming. */
static int check_list_duplicates(struct xl4_conf_ctx *c, const config_setting_t *allow,
				 const config_setting_t *block, const struct xl4_filter_conf *f)
{
	size_t n = f->n_allow + f->n_block, k = 0;
	struct list_ref *refs;
	int err = 0;

	if (n < 2)
		return 0;
	refs = calloc(n, sizeof(*refs));
	if (!refs)
		return fail(c, allow ? allow : block, "out of memory");
	for (int i = 0; i < f->n_allow; i++)
		refs[k++] = (struct list_ref){ &f->allow[i], 0, i };
	for (int i = 0; i < f->n_block; i++)
		refs[k++] = (struct list_ref){ &f->block[i], 1, i };
	qsort(refs, n, sizeof(*refs), list_ref_cmp);
	for (size_t i = 1; i < n && !err; i++) {
		const struct list_ref *a = &refs[i - 1], *b = &refs[i];
		const config_setting_t *at;
		char str[64];

		if (prefix_cmp(a->p, b->p))
			continue;
		at = config_setting_get_elem(b->list ? block : allow, b->idx);
		xl4_prefix_str(b->p, str, sizeof(str));
		if (a->list == b->list)
			err = fail(c, at, "'%s' is listed twice", str);
		else
			err = fail(c, at, "'%s' is also on the allow list (allow wins; remove one)", str);
	}
	free(refs);
	return err;
}

/* Two rules for the same destination and protocol may not share a port: one on every port
 * and one on some ports is fine (the specific ports win), two port ranges must not touch. */
static void ports_str(const struct xl4_rule_spec *r, char *buf, size_t len)
{
	if (!r->port_lo)
		snprintf(buf, len, "every port");
	else if (r->port_lo == r->port_hi)
		snprintf(buf, len, "port %u", r->port_lo);
	else
		snprintf(buf, len, "ports %u-%u", r->port_lo, r->port_hi);
}

static int parse_rule(struct xl4_conf_ctx *c, const config_setting_t *g, struct xl4_filter_conf *f,
		      struct xl4_rule_spec *r)
{
	const config_setting_t *s, *rate, *burst, *v6;
	const char *v = NULL;
	char why[160];
	long long n;
	int err;

	if ((err = group_check(c, g, rule_keys,
			       "{ dst = \"198.18.1.0/24\"; proto = \"tcp\"; ports = \"80\"; action = \"drop\"; }")))
		return err;
	memset(r, 0, sizeof(*r));
	r->proto = XL4_PROTO_ANY;
	r->v6_prefix = 64;
	if (!(s = config_setting_get_member(g, "dst")))
		return fail(c, g, "a rule needs dst, e.g. dst = \"198.18.1.0/24\";");
	if ((err = get_string(c, s, &v)))
		return err;
	if (xl4_prefix_parse(v, &r->dst, why, sizeof(why)))
		return fail(c, s, "%s", why);
	if ((s = config_setting_get_member(g, "proto"))) {
		if ((err = get_string(c, s, &v)))
			return err;
		if (xl4_rule_proto_parse(v, &r->proto))
			return fail(c, s, "'%s' is not one of: tcp, udp, icmp, icmpv6, any", v);
		if ((r->proto == IPPROTO_ICMP && r->dst.family == 6) ||
		    (r->proto == IPPROTO_ICMPV6 && r->dst.family == 4))
			return fail(c, s, "icmp goes with IPv4 destinations, icmpv6 with IPv6");
	}
	if ((s = config_setting_get_member(g, "ports"))) {
		if (config_setting_type(s) == CONFIG_TYPE_INT || config_setting_type(s) == CONFIG_TYPE_INT64) {
			if ((err = get_int(c, s, 1, 65535, &n)))
				return err;
			r->port_lo = r->port_hi = n;
		} else {
			if ((err = get_string(c, s, &v)))
				return err;
			if (xl4_port_range_parse(v, &r->port_lo, &r->port_hi, why, sizeof(why)))
				return fail(c, s, "%s", why);
		}
		if (r->proto != IPPROTO_TCP && r->proto != IPPROTO_UDP && r->proto != XL4_PROTO_ANY)
			return fail(c, s, "ports need proto tcp, udp or any (not %s)",
				    xl4_rule_proto_name(r->proto));
	}
	if (!(s = config_setting_get_member(g, "action")))
		return fail(c, g, "a rule needs an action: allow, drop or limit");
	if ((err = get_string(c, s, &v)))
		return err;
	if (xl4_rule_action_parse(v, &r->action))
		return fail(c, s, "'%s' is not one of: allow, drop, limit", v);
	rate = config_setting_get_member(g, "rate");
	burst = config_setting_get_member(g, "burst");
	v6 = config_setting_get_member(g, "v6_prefix");
	if (r->action != XL4_RULE_LIMIT && (rate || burst || v6))
		return fail(c, rate ? rate : burst ? burst : v6, "only for action \"limit\"");
	if (r->action == XL4_RULE_LIMIT && (!rate || !burst))
		return fail(c, g, "action \"limit\" needs rate (packets/s) and burst (packets)");
	if (rate) {
		if ((err = get_int(c, rate, 1, XL4_RULE_RATE_MAX, &n)))
			return err;
		r->rate = n;
	}
	if (burst) {
		if ((err = get_int(c, burst, 1, XL4_RULE_BURST_MAX, &n)))
			return err;
		r->burst = n;
	}
	if (v6) {
		if ((err = get_int(c, v6, 1, 128, &n)))
			return err;
		r->v6_prefix = n;
	}
	if (xl4_rule_spec_check(r, rate, burst, v6, why, sizeof(why)))
		return fail(c, g, "%s", why);
	/* The daemon's own conflict rule (filter_state.c), asked here to name the line. */
	for (int i = 0; i < f->n_rules; i++) {
		const struct xl4_rule_spec *o = &f->rules[i];
		char mine[32], theirs[32], dst[64];

		if (prefix_cmp(&o->dst, &r->dst) || o->proto != r->proto)
			continue;
		ports_str(r, mine, sizeof(mine));
		ports_str(o, theirs, sizeof(theirs));
		xl4_prefix_str(&r->dst, dst, sizeof(dst));
		if (o->port_lo == r->port_lo && o->port_hi == r->port_hi)
			return fail(c, g, "same dst %s, proto %s and %s as rules[%d]", dst,
				    xl4_rule_proto_name(r->proto), mine, i);
		if (xl4_rule_conflict(o, r))
			return fail(c, g, "%s: overlaps rules[%d] (%s) on dst %s, proto %s: port "
				    "ranges of one destination and protocol may nest, not overlap",
				    mine, i, theirs, dst, xl4_rule_proto_name(r->proto));
	}
	return 0;
}

/* A number that may be written 3 or 3.0. */
static int get_real(struct xl4_conf_ctx *c, const config_setting_t *s, double min, double max, double *out)
{
	double v;

	if (config_setting_type(s) == CONFIG_TYPE_FLOAT) {
		v = config_setting_get_float(s);
		if (!(v >= min && v <= max))
			return fail(c, s, "%g is out of range %g..%g", v, min, max);
	} else if (config_setting_type(s) == CONFIG_TYPE_INT || config_setting_type(s) == CONFIG_TYPE_INT64) {
		const char *text;
		long long n;
		int err = int_text(c, s, &text);

		if (err)
			return err;
		if (xl4_parse_int(text, LLONG_MIN, LLONG_MAX, XL4_NUM_SIGN | XL4_NUM_HEX | XL4_NUM_LSUFFIX, &n) ||
		    !((v = (double)n) >= min && v <= max))
			return fail(c, s, "'%s' is out of range %g..%g", text, min, max);
	} else {
		return fail(c, s, "expected a number");
	}
	*out = v;
	return 0;
}

/* ---- the custom keys and the checks the rows name ---- */

/* A string key handed to a parser that explains a refusal in why. */
static int parse_text(struct xl4_conf_ctx *c, const config_setting_t *s, struct xl4_config *cfg,
		      int (*text)(const char *v, struct xl4_config *cfg, char *why, size_t len))
{
	const char *v = NULL;
	char why[160];
	int err = get_string(c, s, &v);

	if (err)
		return err;
	if (text(v, cfg, why, sizeof(why)))
		return fail(c, s, "%s", why);
	return 0;
}

static int listen_text(const char *v, struct xl4_config *cfg, char *why, size_t len)
{
	return xl4_metrics_listen_parse(v, &cfg->metrics, why, len);
}

static int parse_listen(struct xl4_conf_ctx *c, const struct xl4_conf_key *k,
			const config_setting_t *s, struct xl4_config *cfg)
{
	(void)k;
	return parse_text(c, s, cfg, listen_text);
}

static int parse_socket_group(struct xl4_conf_ctx *c, const struct xl4_conf_key *k,
			      const config_setting_t *s, struct xl4_config *cfg)
{
	(void)k;
	return parse_text(c, s, cfg, xl4_socket_group_parse);
}

/* filter.allow, filter.block */
static int parse_prefixes(struct xl4_conf_ctx *c, const struct xl4_conf_key *k,
			  const config_setting_t *s, struct xl4_config *cfg)
{
	struct xl4_filter_conf *f = &cfg->filter;
	bool allow = !strcmp(k->key, "filter.allow");
	const struct xl4_prefix *p;
	int n, ret, v4 = 0, v6 = 0, max4 = allow ? XL4_ALLOW4_MAX : XL4_BLOCK4_MAX,
		    max6 = allow ? XL4_ALLOW6_MAX : XL4_BLOCK6_MAX;

	if ((ret = parse_prefix_list(c, s, allow ? &f->allow : &f->block, allow ? &f->n_allow : &f->n_block)))
		return ret;
	/* More than the list's map holds would fail only when written, with a reload half
	 * applied (the load balancer's part before the filter's): refused here, with the file */
	p = allow ? f->allow : f->block;
	n = allow ? f->n_allow : f->n_block;
	for (int i = 0; i < n; i++)
		*(p[i].family == 6 ? &v6 : &v4) += 1;
	if (v4 > max4 || v6 > max6)
		return fail(c, s, "%d IPv%d prefixes; the %slist holds %d", v4 > max4 ? v4 : v6,
			    v4 > max4 ? 4 : 6, allow ? "allow" : "block", v4 > max4 ? max4 : max6);
	return 0;
}

static int parse_rules(struct xl4_conf_ctx *c, const struct xl4_conf_key *k,
		       const config_setting_t *s, struct xl4_config *cfg)
{
	struct xl4_filter_conf *f = &cfg->filter;
	int n, err;

	(void)k;
	if (!config_setting_is_list(s))
		return fail(c, s, "expected a list: rules = ( { dst = \"...\"; action = \"drop\"; }, ... );");
	n = config_setting_length(s);
	if (n > XL4_MAX_RULES - 1)
		return fail(c, s, "%d rules; at most %d", n, XL4_MAX_RULES - 1);
	f->rules = calloc(n ? n : 1, sizeof(*f->rules));
	if (!f->rules)
		return fail(c, s, "out of memory");
	for (int i = 0; i < n; i++) {
		if ((err = parse_rule(c, config_setting_get_elem(s, i), f, &f->rules[i])))
			return err;
		f->n_rules++;
	}
	return 0;
}

static unsigned long long load_uint(const void *field, size_t size)
{
	switch (size) {
	case 1: return *(const uint8_t *)field;
	case 2: return *(const uint16_t *)field;
	case 4: return *(const uint32_t *)field;
	default: return *(const uint64_t *)field;
	}
}

static void store_uint(void *field, size_t size, unsigned long long v)
{
	switch (size) {
	case 1: *(uint8_t *)field = v; break;
	case 2: *(uint16_t *)field = v; break;
	case 4: *(uint32_t *)field = v; break;
	default: *(uint64_t *)field = v; break;
	}
}

static unsigned long long key_uint(const struct xl4_conf_key *k, const struct xl4_config *cfg)
{
	return load_uint((const char *)cfg + k->offset, k->size);
}

/* lb.conntrack.per_cpu_lru: a file that sets it decides; left out, the pins in place and the
 * machine's CPUs do (src/ct_lru.h). */
static int per_cpu_lru_given(struct xl4_conf_ctx *c, const struct xl4_conf_key *k,
			     const config_setting_t *s, struct xl4_config *cfg)
{
	(void)c, (void)k, (void)s;
	cfg->lb.ct_per_cpu_lru_set = true;
	return 0;
}

/* lb.seed: a file that sets one keeps it over restarts and reloads (reload.c). */
static int seed_given(struct xl4_conf_ctx *c, const struct xl4_conf_key *k,
		      const config_setting_t *s, struct xl4_config *cfg)
{
	(void)c, (void)k, (void)s;
	cfg->lb.seed_set = true;
	return 0;
}

static int check_prime(struct xl4_conf_ctx *c, const struct xl4_conf_key *k,
		       const config_setting_t *s, struct xl4_config *cfg)
{
	unsigned long long v = key_uint(k, cfg);

	if (!xl4_maglev_is_prime(v))
		return fail(c, s, "%llu is not prime (Maglev needs a prime; e.g. 65537, 16381, 1021)", v);
	return 0;
}

/* The IPv6 connection table's entries: lb.conntrack.ipv6_max_entries, or max_entries if 0. */
static uint32_t ct6_entries(const struct xl4_config *cfg)
{
	return cfg->lb.ct6_max ? cfg->lb.ct6_max : cfg->lb.ct_max;
}

/* ipv6_max_entries changes when its table's size does: left at 0 on both sides it follows
 * max_entries (reported under that key); a 0 reads "0 (= N)". */
static void ct6_change(const struct xl4_config *a, const struct xl4_config *b, char *was,
		       char *now, size_t len)
{
	uint32_t ea = ct6_entries(a), eb = ct6_entries(b);

	if (ea == eb || (!a->lb.ct6_max && !b->lb.ct6_max)) {
		snprintf(was, len, "same");
		snprintf(now, len, "same");
		return;
	}
	snprintf(was, len, a->lb.ct6_max ? "%u" : "0 (= %u)", ea);
	snprintf(now, len, b->lb.ct6_max ? "%u" : "0 (= %u)", eb);
}

/* 0 (as max_entries) or a real table: the kernel's LRU needs room for its per-CPU lists. */
static int check_ct6_max(struct xl4_conf_ctx *c, const struct xl4_conf_key *k,
			 const config_setting_t *s, struct xl4_config *cfg)
{
	unsigned long long v = key_uint(k, cfg);

	if (v && v < 1024)
		return fail(c, s, "%llu is below 1024 (0 means as lb.conntrack.max_entries)", v);
	return 0;
}

/* The kernel's own tables: a blackhole there would take the VIP from local traffic. */
static int check_route_table(struct xl4_conf_ctx *c, const struct xl4_conf_key *k,
			     const config_setting_t *s, struct xl4_config *cfg)
{
	unsigned long long v = key_uint(k, cfg);

	if (v >= 253 && v <= 255)
		return fail(c, s, "%llu is one of the kernel's own tables (default, main, local); "
			    "give the VIP routes a table of their own, e.g. 100", v);
	return 0;
}

/* Nodes that announce the same VIP must pick the same backend for a flow. */
static int check_cluster(struct xl4_conf_ctx *c, const struct xl4_conf_key *k,
			 const config_setting_t *g, struct xl4_config *cfg)
{
	(void)k;
	if (cfg->cluster.route_table && !cfg->lb.seed_set)
		return fail(c, config_setting_get_member(g, "route_table"),
			    "announcing VIPs needs lb.seed: every node must build the same Maglev "
			    "tables, so set the same lb.seed on each");
	return 0;
}

/* Slot tables are indexed by a hash masked with (size - 1). */
static int check_pow2(struct xl4_conf_ctx *c, const struct xl4_conf_key *k,
		      const config_setting_t *s, struct xl4_config *cfg)
{
	unsigned long long v = key_uint(k, cfg);

	if (v & (v - 1))
		return fail(c, s, "%llu is not a power of two (e.g. 1048576)", v);
	return 0;
}

/* The flow cache's slots: 0 (off), or a power of two from XL4_FCACHE_SLOTS_MIN. */
static int check_fcache(struct xl4_conf_ctx *c, const struct xl4_conf_key *k,
			const config_setting_t *s, struct xl4_config *cfg)
{
	unsigned long long v = key_uint(k, cfg);

	if (v && !xl4_fcache_slots_ok(v))
		return fail(c, s, "%llu slots: want 0 (off) or a power of two from %u to %u (e.g. %u)",
			    v, XL4_FCACHE_SLOTS_MIN, XL4_FCACHE_SLOTS_MAX, XL4_FCACHE_SLOTS_DEFAULT);
	return 0;
}

static bool pin_path_ok(const char *path)
{
	return !strncmp(path, "/sys/fs/bpf/", 12);
}

int xl4_config_set_pin_path(struct xl4_config *cfg, const char *path)
{
	if (!pin_path_ok(path) || strlen(path) >= sizeof(cfg->pin_path))
		return -EINVAL;
	strcpy(cfg->pin_path, path);
	return 0;
}

void xl4_config_from_env(struct xl4_config *cfg)
{
	const char *sock = getenv("XL4_SOCKET"), *pins = getenv("XL4_PIN_PATH");

	/* in place of the defaults only: the file's daemon.* settings win */
	if (sock && !strcmp(cfg->control_socket, XL4_DEFAULT_SOCKET))
		snprintf(cfg->control_socket, sizeof(cfg->control_socket), "%s", sock);
	if (pins && !strcmp(cfg->pin_path, XL4_DEFAULT_PIN_PATH))
		snprintf(cfg->pin_path, sizeof(cfg->pin_path), "%s", pins);
}

/* note when value came from the environment variable name (it holds value, or a longer value
 * cut to fit), else "". */
static const char *env_note(const char *name, const char *value, const char *note)
{
	const char *e = getenv(name);

	return e && !strncmp(e, value, strlen(value)) ? note : "";
}

int xl4_config_paths_check(const struct xl4_config *cfg, bool socket, char *err, size_t errlen)
{
	const char *sock = cfg->control_socket, *pins = cfg->pin_path;

	if (!pin_path_ok(pins) || strnlen(pins, sizeof(cfg->pin_path)) >= sizeof(cfg->pin_path) - 1) {
		snprintf(err, errlen, "pin path '%.200s'%s must be a directory under /sys/fs/bpf/", pins,
			 env_note("XL4_PIN_PATH", pins, " (from XL4_PIN_PATH)"));
		return -EINVAL;
	}
	if (socket && (sock[0] != '/' ||
		       strnlen(sock, sizeof(cfg->control_socket)) >= sizeof(cfg->control_socket) - 1)) {
		snprintf(err, errlen, "control socket '%.200s'%s must be an absolute path", sock,
			 env_note("XL4_SOCKET", sock, " (from XL4_SOCKET)"));
		return -EINVAL;
	}
	return 0;
}

static int check_pin_path(struct xl4_conf_ctx *c, const struct xl4_conf_key *k,
			  const config_setting_t *s, struct xl4_config *cfg)
{
	(void)k;
	if (!pin_path_ok(cfg->pin_path))
		return fail(c, s, "must be a directory under /sys/fs/bpf/");
	return 0;
}

static int check_socket_path(struct xl4_conf_ctx *c, const struct xl4_conf_key *k,
			     const config_setting_t *s, struct xl4_config *cfg)
{
	(void)k;
	if (cfg->control_socket[0] != '/')
		return fail(c, s, "must be an absolute path");
	return 0;
}

static int check_filter(struct xl4_conf_ctx *c, const struct xl4_conf_key *k,
			const config_setting_t *g, struct xl4_config *cfg)
{
	(void)k;
	return check_list_duplicates(c, config_setting_get_member(g, "allow"),
				     config_setting_get_member(g, "block"), &cfg->filter);
}

static int check_limit(struct xl4_conf_ctx *c, const struct xl4_conf_key *k,
		       const config_setting_t *g, struct xl4_config *cfg)
{
	const config_setting_t *rate = config_setting_get_member(g, "rate");
	const config_setting_t *v6 = config_setting_get_member(g, "v6_prefix");

	(void)k, (void)cfg;
	if (!rate != !config_setting_get_member(g, "burst"))
		return fail(c, g, "the global limit needs both rate (packets/s) and burst (packets)");
	if (v6 && !rate)
		return fail(c, v6, "only with rate and burst");
	return 0;
}

static int check_first_drop(struct xl4_conf_ctx *c, const struct xl4_conf_key *k,
			    const config_setting_t *fd, struct xl4_config *cfg)
{
	const struct xl4_guard_conf *gc = &cfg->guard;

	(void)k;
	if (gc->fd_min_ms >= gc->fd_max_ms)
		return fail(c, config_setting_get_member(fd, "max_ms") ?: config_setting_get_member(fd, "min_ms"),
			    "first_drop.min_ms (%u) must be less than first_drop.max_ms (%u)",
			    gc->fd_min_ms, gc->fd_max_ms);
	if (gc->fd_hold_ms < gc->fd_min_ms || gc->fd_hold_ms > gc->fd_max_ms)
		return fail(c, config_setting_get_member(fd, "hold_ms") ?: fd,
			    "first_drop.hold_ms (%u) must lie in first_drop.min_ms..max_ms "
			    "(%u..%u): the retransmission delay First Drop must hold",
			    gc->fd_hold_ms, gc->fd_min_ms, gc->fd_max_ms);
	return 0;
}

static int check_guard(struct xl4_conf_ctx *c, const struct xl4_conf_key *k,
		       const config_setting_t *g, struct xl4_config *cfg)
{
	const struct xl4_guard_conf *gc = &cfg->guard;
	const config_setting_t *s;

	(void)k;
	if ((s = config_setting_get_member(g, "surge_rate")) && gc->surge_rate &&
	    gc->surge_rate < gc->syn_rate)
		return fail(c, s, "%u must be 0 (no surges) or at least syn_rate (%u): a surge is an "
			    "attack window, and no window under syn_rate is one", gc->surge_rate,
			    gc->syn_rate);
	if ((s = config_setting_get_member(g, "leave_ms")) && gc->leave_ms <= gc->enter_ms)
		return fail(c, s, "%u must be more than enter_ms (%u): leaving needs a quiet spell "
			    "longer than the attack it takes to enter", gc->leave_ms, gc->enter_ms);
	if (gc->leave_ms <= gc->enter_ms)
		return fail(c, config_setting_get_member(g, "enter_ms"),
			    "%u must be less than leave_ms (%u)", gc->enter_ms, gc->leave_ms);
	return 0;
}

static void show_ifaces(const struct xl4_config *cfg, char *buf, size_t len)
{
	size_t used = snprintf(buf, len, "[");

	for (int i = 0; i < cfg->n_ifaces && used < len; i++)
		used += snprintf(buf + used, len - used, "%s\"%s\"", i ? ", " : "", cfg->ifaces[i]);
	if (used < len)
		snprintf(buf + used, len - used, "]");
}

static void show_src4(const struct xl4_config *cfg, char *buf, size_t len)
{
	char a[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &cfg->lb.ipip_src4, a, sizeof(a));
	snprintf(buf, len, "\"%s/%d\"", a, 32 - __builtin_popcount(cfg->lb.ipip_src4_hostmask));
}

static void show_src6(const struct xl4_config *cfg, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	inet_ntop(AF_INET6, cfg->lb.ipip_src6, a, sizeof(a));
	snprintf(buf, len, "\"%s/112\"", a);
}

static void show_listen(const struct xl4_config *cfg, char *buf, size_t len)
{
	snprintf(buf, len, "\"%s\"", cfg->metrics.listen);
}

static void show_socket_group(const struct xl4_config *cfg, char *buf, size_t len)
{
	snprintf(buf, len, "\"%s\"", cfg->socket_group);
}

/* ---- the keys ---- */

static const struct xl4_conf_name mode_names[] = {
	{ "auto", XL4_MODE_AUTO, false }, { "native", XL4_MODE_NATIVE, false }, { "skb", XL4_MODE_SKB, false },
	{ "drv", XL4_MODE_NATIVE, true }, { "generic", XL4_MODE_SKB, true }, { 0 },
};
static const struct xl4_conf_name frag_names[] = {
	{ "pass", XL4_FRAG_PASS, false }, { "drop", XL4_FRAG_DROP, false }, { 0 },
};
static const struct xl4_conf_name response_names[] = {
	{ "first-drop", XL4_GUARD_RESP_FIRST_DROP, false }, { "challenge", XL4_GUARD_RESP_CHALLENGE, false },
	{ "auto", XL4_GUARD_RESP_AUTO, false }, { 0 },
};

#define FIELD(f) offsetof(struct xl4_config, f), sizeof(((struct xl4_config *)0)->f)
#define INT(f, lo, hi) XL4_CONF_INT, FIELD(f), .min = (lo), .max = (hi)
#define REAL(f, lo, hi) XL4_CONF_REAL, FIELD(f), .rmin = (lo), .rmax = (hi)
#define GROUP(ex) XL4_CONF_GROUP, .example = (ex)
#define CUSTOM(fn, sh) XL4_CONF_CUSTOM, .parse = (fn), .show = (sh)

/* In the order they are read and documented; a GROUP's keys follow it. A new key is a field
 * of struct xl4_config, its default in config_defaults above, and one row here; then
 * scripts/config-docs writes docs/config.md and xl4.conf(5) (test_conf_doc checks they are
 * current). */
const struct xl4_conf_key xl4_conf_keys[] = {
	{ "interfaces", CUSTOM(parse_interfaces, show_ifaces), .restart_only = true,
	  .kind = "list of strings (or one string)", .def_doc = "none",
	  .help = "interfaces to attach to; `-i` on the command line replaces the list" },
	{ "xdp_mode", XL4_CONF_ENUM, FIELD(mode), .names = mode_names, .restart_only = true,
	  .help = "native XDP; `auto` falls back to generic (skb) mode with a warning" },
	{ "pin_path", XL4_CONF_STRING, FIELD(pin_path), .parse = check_pin_path, .restart_only = true,
	  .kind = "string under `/sys/fs/bpf/`", .help = "where shared maps are pinned" },
	{ "control_socket", XL4_CONF_STRING, FIELD(control_socket), .parse = check_socket_path,
	  .restart_only = true, .kind = "absolute path",
	  .help = "Unix socket for `xl4 status`, `stats`, `events` and the other control commands "
		  "(0600, in a 0700 directory; a directory another user owns or every user may "
		  "write to, such as /tmp, is refused: that user could take the socket's name)" },
	{ "parser", GROUP("parser: { ... };") },
	{ "parser.fragments", XL4_CONF_ENUM, FIELD(frag_policy), .names = frag_names,
	  .restart_only = true, .help = "what happens to IP fragments" },
	{ "events", GROUP("events: { ... };") },
	{ "events.samples_per_second", INT(sample_per_sec, 0, 1000000), .restart_only = true,
	  .help = "sampled drop events per second per CPU; 0 turns sampling off" },

	{ "lb", GROUP("lb: { seed = 12345; ... };"), .kind = "Load balancer" },
	{ "lb.seed", INT(lb.seed, 0, 0xffffffffLL), .parse = seed_given, .restart_only = true,
	  .def_doc = "random (warns)",
	  .help = "Maglev flow-hash seed; the same on every node of a cluster. Without it the random "
		  "seed of the first start is kept in the pinned maps" },
	{ "lb.table_size", INT(lb.table_size, 3, XL4_RING_SIZE_MAX), .parse = check_prime,
	  .kind = "prime", .restart_only = true, .pinned_size = true, .help = "Maglev table slots per VIP" },
	{ "lb.conntrack", GROUP("conntrack: { max_entries = 262144; };") },
	{ "lb.conntrack.max_entries", INT(lb.ct_max, 1024, 1LL << 27), .restart_only = true, .pinned_size = true,
	  .help = "connection table entries (LRU) of the IPv4 table, and of the IPv6 table unless "
		  "`ipv6_max_entries` says otherwise" },
	{ "lb.conntrack.ipv6_max_entries", INT(lb.ct6_max, 0, 1LL << 27), .parse = check_ct6_max,
	  .change = ct6_change, .restart_only = true, .pinned_size = true,
	  .help = "entries of the IPv6 connection table (0: as `max_entries`); each slot costs ~120 "
		  "bytes of kernel memory whether used or not, so an IPv4-only site can set 1024" },
	{ "lb.conntrack.per_cpu_lru", XL4_CONF_BOOL, FIELD(lb.ct_per_cpu_lru), .parse = per_cpu_lru_given,
	  .restart_only = true, .pinned_size = true,
	  .help = "per-CPU LRU lists (`BPF_F_NO_COMMON_LRU`): an insert takes a free entry from, "
		  "and evicts from, its own CPU's list only (faster inserts on one core, no shared "
		  "lock across cores: docs/load-balancer.md); each list holds its CPU's share of the "
		  "table, whose size is rounded up to a multiple of the CPUs. Left out: per-CPU, "
		  "unless pinned tables in place have one shared list (they are kept) or the kernel "
		  "counts more possible CPUs than are online (a share would be too small). false: "
		  "one shared list, for a NIC whose flows land on fewer CPUs than the machine has" },
	{ "lb.conntrack.flow_cache", INT(lb.fcache_slots, 0, XL4_FCACHE_SLOTS_MAX), .parse = check_fcache,
	  .kind = "0, or a power of two from 256;", .restart_only = true,
	  .help = "slots per CPU (32 bytes each) of the established lane's flow cache: each CPU "
		  "keeps a copy of the IPv4 flow entries it used in the last ~268 ms and forwards "
		  "their packets without the table's lookup (~8 ns less per packet; a flow whose "
		  "slot another flow took pays the slot and its copy on top of the lookup: "
		  "docs/load-balancer.md). 0 turns it off" },
	{ "lb.conntrack.inserts_per_second", INT(lb.ct_inserts_per_sec, 0, 100000000),
	  .help = "per-CPU cap on new entries (0: none); flows above it are forwarded statelessly "
		  "to their Maglev backend" },
	{ "lb.icmp_too_big_per_second", INT(lb.too_big_per_sec, 0, 10000000),
	  .help = "per-CPU cap on ICMP \"too big\" replies (ipip; 0: none); above it the packet is "
		  "dropped (`lb_too_big`)" },
	{ "lb.icmp_errors_per_second", INT(lb.icmp_errors_per_sec, 0, 10000000),
	  .help = "per-CPU cap on ICMP errors steered to backends (0: none); above it they are dropped "
		  "(`lb_icmp_rate`). Only errors addressed to the VIP they quote, announcing an MTU of "
		  "at least 68 (IPv4) or 1280 (IPv6), about a flow in the connection table are steered "
		  "at all (see `docs/load-balancer.md`)" },
	{ "lb.ipip_source_v4", CUSTOM(parse_src4, show_src4), .kind = "IPv4 prefix /16../30",
	  .help = "outer sources for ipip (low bits vary per flow)" },
	{ "lb.ipip_source_v6", CUSTOM(parse_src6, show_src6), .kind = "IPv6 /112",
	  .help = "outer sources for IPv6-in-IPv6 (the low 16 bits vary per flow)" },

	{ "vips", CUSTOM(parse_vips, NULL), .kind = "list of groups", .def_doc = "empty",
	  .help = "the load-balanced services, one group each: their keys are listed below" },

	{ "filter", GROUP("filter: { block = [ \"198.18.6.0/24\" ]; };"), .parse = check_filter,
	  .kind = "Filter",
	  .help = "Decided in this order: allow list, block list, destination rules, global "
		  "per-source limit (`docs/filter.md`). Lists and rules change at runtime with "
		  "`xl4 allow`, `block`, `rule` and `limit`." },
	{ "filter.allow", CUSTOM(parse_prefixes, NULL), .kind = "list of prefixes", .def_doc = "empty",
	  .help = "sources always let through, IPv4 or IPv6. A bare address is a /32 or /128; host "
		  "bits set beyond the length are an error; a prefix may not be listed twice, nor on "
		  "both lists. Entries from the file never expire" },
	{ "filter.block", CUSTOM(parse_prefixes, NULL), .kind = "list of prefixes", .def_doc = "empty",
	  .help = "sources always dropped; as `filter.allow`" },
	{ "filter.rules", CUSTOM(parse_rules, NULL), .kind = "list of groups", .def_doc = "empty",
	  .help = "destination rules: `dst`, `proto`, `ports`, `action`, `rate`, `burst`, "
		  "`v6_prefix` (see `docs/filter.md`); the most specific destination wins" },
	{ "filter.limit", GROUP("limit: { rate = 1000; burst = 2000; };"), .parse = check_limit },
	{ "filter.limit.rate", INT(filter.limit_rate, 1, XL4_RULE_RATE_MAX), .def_doc = "none (off)",
	  .help = "the global per-source limit in packets per second; with `burst`, or neither" },
	{ "filter.limit.burst", INT(filter.limit_burst, 1, XL4_RULE_BURST_MAX), .def_doc = "none",
	  .help = "its bucket depth in packets" },
	{ "filter.limit.v6_prefix", INT(filter.limit_v6_prefix, 1, 128),
	  .help = "IPv6 sources share a bucket per /LEN (IPv4 sources get one each); only with `rate`" },
	{ "filter.limit.new_sources_per_second", INT(filter.new_sources_per_sec, 0, 100000000),
	  .help = "per-CPU budget of new per-source buckets, for limit rules and the global limit "
		  "(0: none); beyond it newcomers share one bucket per rule per CPU" },
	{ "filter.rate_table_size", INT(filter.rate_table_size, 1024, 1LL << 26), .restart_only = true,
	  .help = "entries in the per-source bucket map (LRU)" },
	{ "filter.ipv4_groups", INT(filter.ipv4_groups, 16, XL4_BLOCK4_GROUPS_MAX), .restart_only = true, .pinned_size = true,
	  .help = "/24s of the IPv4 blocklist that may hold two or more prefixes longer than /24 "
		  "(1 KiB each; a full index refuses the prefix that needs one more)" },

	{ "metrics", GROUP("metrics: { listen = \"127.0.0.1:9143\"; };"), .kind = "Metrics" },
	{ "metrics.listen", CUSTOM(parse_listen, show_listen), .restart_only = true,
	  .kind = "`\"ADDR:PORT\"`, `\"[V6]:PORT\"` or `\"\"`",
	  .help = "where the Prometheus endpoint `GET /metrics` listens; `\"\"` turns it off. "
		  "Loopback unless the file names another address (see `docs/metrics.md`)" },

	{ "daemon", GROUP("daemon: { socket_group = \"xl4\"; };"), .kind = "Daemon" },
	{ "daemon.socket_group", CUSTOM(parse_socket_group, show_socket_group), .kind = "group name",
	  .def_doc = "none (root only)", .restart_only = true,
	  .help = "this group may use the control socket too: the socket becomes `root:GROUP 0660` "
		  "and its directory `root:GROUP 0750` (only a directory the daemon made, or a "
		  "root-only one it made earlier; any other directory of root's is left as it is, and "
		  "a shared one such as `/tmp` is refused: `control_socket`). "
		  "Members can run every command, changes included. Pinned maps stay root-only. A group "
		  "that does not exist is an error; `--socket-group` overrides it" },

	{ "guard", GROUP("guard: { enabled = true; response = \"auto\"; };"), .parse = check_guard,
	  .kind = "Flood guard",
	  .help = "Per TCP VIP, the kernel counts client SYNs and the ACKs that complete a handshake "
		  "and enters emergency mode on its own when SYNs outrun completions; `xl4 guard` "
		  "shows and overrides the mode. See `docs/guard.md` for what each key does." },
	{ "guard.enabled", XL4_CONF_BOOL, FIELD(guard.enabled),
	  .help = "the flood guard (it acts only in emergency mode; with it on, flows enter "
		  "conntrack at their completing ACK)" },
	{ "guard.response", XL4_CONF_ENUM, FIELD(guard.response), .names = response_names,
	  .help = "what emergency mode does; `auto`: First Drop, escalating to the SYN-ACK challenge "
		  "when beaten" },
	{ "guard.syn_rate", INT(guard.syn_rate, 1, 100000000),
	  .help = "SYN/s per VIP over all CPUs below which no window is an attack" },
	{ "guard.surge_rate", INT(guard.surge_rate, 0, 100000000),
	  .help = "a surge: SYN/s per VIP from which an attack window enters emergency mode at "
		  "once, not after `enter_ms`, and per CPU from which SYNs that do not complete "
		  "meet First Drop even before (0: no surges); at least `syn_rate`" },
	{ "guard.ratio", REAL(guard.ratio, 1.0, 10000.0),
	  .help = "SYNs per completing ACK above which a window is an attack" },
	{ "guard.enter_ms", INT(guard.enter_ms, 0, 600000),
	  .help = "attack windows this long enter emergency mode (judged every 67 ms: a flood "
		  "enters within `enter_ms` + 135 ms of its first SYN)" },
	{ "guard.leave_ms", INT(guard.leave_ms, 1, 3600000),
	  .help = "no attack window this long: back to normal; more than `enter_ms`" },
	{ "guard.escalate_ms", INT(guard.escalate_ms, 0, 600000),
	  .help = "`auto`: First Drop beaten this long escalates to the challenge (to within "
		  "135 ms, as `enter_ms`)" },
	{ "guard.min_sources", INT(guard.min_sources, 1, 32),
	  .help = "distinct sources (an IPv6 /64 is one) whose repeated SYNs can beat First Drop; "
		  "fewer never escalate" },
	{ "guard.verify_v6_prefix", INT(guard.verify_v6_prefix, 32, 128),
	  .help = "IPv6 sources are verified per prefix of this length (one host owns a /64: per "
		  "address, one /64 could fill the verified tables)" },
	{ "guard.verify_per_second", INT(guard.verify_per_sec, 0, 100000000),
	  .help = "per-CPU cap on new First Drop verifications (0: none); past it a retransmission "
		  "still passes but is not remembered" },
	{ "guard.first_drop", GROUP("first_drop: { min_ms = 500; max_ms = 6000; };"),
	  .parse = check_first_drop },
	{ "guard.first_drop.min_ms", INT(guard.fd_min_ms, 1, 60000),
	  .help = "a SYN repeated this long after the first, or later, is a real retransmission" },
	{ "guard.first_drop.max_ms", INT(guard.fd_max_ms, 2, 120000),
	  .help = "...and up to this long; more than `min_ms`" },
	{ "guard.first_drop.hold_ms", INT(guard.fd_hold_ms, 1, 120000),
	  .help = "the retransmission delay the greylist must hold, within `min_ms`..`max_ms`; a "
		  "flood of more than 0.205 * `greylist_slots` / hold SYN/s overruns it, and `auto` "
		  "answers with the challenge" },
	{ "guard.verified_ttl", INT(guard.verified_ttl_s, 1, 7 * 86400), .kind = "seconds",
	  .help = "how long a source First Drop verified stays verified (a cookie proof admits one "
		  "SYN of its tuple, within 60 s or this, the shorter)" },
	{ "guard.challenge_per_second", INT(guard.challenge_per_sec, 0, 100000000),
	  .help = "per-CPU cap on SYN-ACK challenges (0: none)" },
	{ "guard.key_rotation", INT(guard.key_rotation_s, 60, 7 * 86400), .kind = "seconds",
	  .help = "a challenge cookie key serves this long (in whole 8.6 s cookie slices), then the "
		  "next one takes over; the previous one still checks answers to the cookies it made. "
		  "Changing it draws all keys anew (cookies in flight fail once)" },
	{ "guard.greylist_slots", INT(guard.grey_slots, 1024, 1 << 24), .parse = check_pow2,
	  .kind = "power of two", .restart_only = true, .pinned_size = true,
	  .help = "First Drop greylist slots (an array; 24 bytes each)" },
	{ "guard.syn_slots", INT(guard.syn_slots, 1024, 1 << 24), .parse = check_pow2,
	  .kind = "power of two", .restart_only = true, .pinned_size = true,
	  .help = "SYN table slots (an array; 24 bytes each)" },
	{ "guard.verified_max", INT(guard.verified_max, 1024, 1 << 24), .restart_only = true, .pinned_size = true,
	  .help = "verified sources kept (LRU: a full table forgets the least recently seen); "
		  "also sizes the verified-source bits: two halves of 4 bits a source, 2^20 at "
		  "least (docs/guard.md)" },
	{ "guard.analyzer", GROUP("analyzer: { block_top = true; };") },
	{ "guard.analyzer.block_top", XL4_CONF_BOOL, FIELD(guard.analyzer.block_top),
	  .help = "block new SYNs to the attacked VIP from a source or /24 (/64) that dominates its "
		  "sampled guard drops and holds no established flow or verified source" },
	{ "guard.analyzer.block_seconds", INT(guard.analyzer.block_seconds, 1, 7 * 86400),
	  .kind = "seconds",
	  .help = "for this long, never renewed; the same prefix waits as long again before another "
		  "block" },
	{ "guard.analyzer.max_blocks", INT(guard.analyzer.max_blocks, 1, XL4_ANALYZER_MAX_BLOCKS),
	  .help = "automatic blocks in force at once, at most" },
	{ "guard.analyzer.min_share", REAL(guard.analyzer.min_share, 0.01, 1.0),
	  .help = "share of the sampled guard drops it must hold..." },
	{ "guard.analyzer.min_samples", INT(guard.analyzer.min_samples, 1, 1000000),
	  .help = "...out of at least this many samples" },

	{ "cluster", GROUP("cluster: { route_table = 100; };"), .parse = check_cluster,
	  .kind = "Cluster",
	  .help = "Several nodes behind ECMP, each announcing its VIPs over BGP through BIRD: the "
		  "daemon keeps a blackhole route per VIP address in a table of its own while the "
		  "VIP should be announced, and BIRD exports that table. Needs `lb.seed`, the same on "
		  "every node. See `docs/scale-out.md`." },
	{ "cluster.route_table", INT(cluster.route_table, 1, 0xffffffffLL),
	  .parse = check_route_table, .def_doc = "none (announce nothing)",
	  .help = "the kernel routing table for the VIP routes (protocol 76, `xl4`); not 253-255" },
	{ "cluster.min_healthy", INT(cluster.min_healthy, 1, XL4_VIP_MAX_BACKENDS_CONF),
	  .help = "a VIP is announced while at least this many of its backends can take new flows "
		  "(healthy, not drained, MAC known)" },
	{ "cluster.drain_ms", INT(cluster.drain_ms, 0, 60000),
	  .help = "on stop or `xl4 detach`: after withdrawing the routes, keep forwarding this long "
		  "(the router's convergence) before detaching" },
	{ NULL },
};

/* ---- reading the rows ---- */

static const char *leaf(const struct xl4_conf_key *k)
{
	const char *dot = strrchr(k->key, '.');

	return dot ? dot + 1 : k->key;
}

/* Whether k sits right inside the group at path ("" for the top level). */
static bool in_group(const struct xl4_conf_key *k, const char *path)
{
	size_t n = strlen(path);

	if (n && (strncmp(k->key, path, n) || k->key[n] != '.'))
		return false;
	return !strchr(k->key + n + !!n, '.');
}

static int get_enum(struct xl4_conf_ctx *c, const config_setting_t *s,
		    const struct xl4_conf_key *k, uint32_t *out)
{
	const char *v = NULL;
	char all[128] = "";
	int err = get_string(c, s, &v);

	if (err)
		return err;
	for (const struct xl4_conf_name *n = k->names; n->name; n++) {
		if (!strcmp(v, n->name)) {
			*out = n->value;
			return 0;
		}
		if (!n->alias)
			snprintf(all + strlen(all), sizeof(all) - strlen(all), "%s%s", all[0] ? ", " : "",
				 n->name);
	}
	return fail(c, s, "'%s' is not one of: %s", v, all);
}

static int parse_group(struct xl4_conf_ctx *c, const config_setting_t *g,
		       const struct xl4_conf_key *gk, struct xl4_config *cfg);

static int parse_key(struct xl4_conf_ctx *c, const config_setting_t *s, const struct xl4_conf_key *k,
		     struct xl4_config *cfg)
{
	void *field = (char *)cfg + k->offset;
	long long v;
	int err = 0;

	switch (k->type) {
	case XL4_CONF_GROUP:
		return parse_group(c, s, k, cfg);
	case XL4_CONF_CUSTOM:
		return k->parse(c, k, s, cfg);
	case XL4_CONF_INT:
		if (!(err = get_int(c, s, k->min, k->max, &v)))
			store_uint(field, k->size, v);
		break;
	case XL4_CONF_BOOL:
		err = get_bool(c, s, field);
		break;
	case XL4_CONF_REAL:
		err = get_real(c, s, k->rmin, k->rmax, field);
		break;
	case XL4_CONF_ENUM:
		err = get_enum(c, s, k, field);
		break;
	case XL4_CONF_STRING:
		err = copy_string(c, s, field, k->size);
		break;
	}
	if (err || !k->parse)
		return err;
	return k->parse(c, k, s, cfg);
}

/* A group's keys in the rows' order, then its check. gk NULL: the top level. */
static int parse_group(struct xl4_conf_ctx *c, const config_setting_t *g,
		       const struct xl4_conf_key *gk, struct xl4_config *cfg)
{
	const char *path = gk ? gk->key : "";
	int n, err;

	if (!config_setting_is_group(g))
		return fail(c, g, "expected a group: %s", gk ? gk->example : "");
	/* Anything the rows do not name is a typo worth an error. */
	n = config_setting_length(g);
	for (int i = 0; i < n; i++) {
		const config_setting_t *s = config_setting_get_elem(g, i);
		const char *name = config_setting_name(s);
		const struct xl4_conf_key *k = xl4_conf_keys;

		while (k->key && !(name && in_group(k, path) && !strcmp(leaf(k), name)))
			k++;
		if (!k->key)
			return fail(c, s, "unknown key");
	}
	for (const struct xl4_conf_key *k = xl4_conf_keys; k->key; k++) {
		const config_setting_t *s;

		if (in_group(k, path) && (s = config_setting_get_member(g, leaf(k))) &&
		    (err = parse_key(c, s, k, cfg)))
			return err;
	}
	return gk && gk->parse ? gk->parse(c, gk, g, cfg) : 0;
}

void xl4_conf_value(const struct xl4_conf_key *k, const struct xl4_config *cfg, char *buf,
		    size_t len)
{
	const void *field = (const char *)cfg + k->offset;

	snprintf(buf, len, "-");
	switch (k->type) {
	case XL4_CONF_INT:
		snprintf(buf, len, "%llu", key_uint(k, cfg));
		break;
	case XL4_CONF_BOOL:
		snprintf(buf, len, "%s", *(const bool *)field ? "true" : "false");
		break;
	case XL4_CONF_REAL:
		snprintf(buf, len, "%g", *(const double *)field);
		break;
	case XL4_CONF_ENUM:
		for (const struct xl4_conf_name *n = k->names; n->name; n++) {
			if (!n->alias && n->value == *(const uint32_t *)field) {
				snprintf(buf, len, "\"%s\"", n->name);
				break;
			}
		}
		break;
	case XL4_CONF_STRING:
		snprintf(buf, len, "\"%s\"", (const char *)field);
		break;
	case XL4_CONF_CUSTOM:
		if (k->show)
			k->show(cfg, buf, len);
		break;
	case XL4_CONF_GROUP:
		break;
	}
}

void xl4_config_defaults(struct xl4_config *cfg)
{
	*cfg = config_defaults;
	/* Outer IPIP sources: 198.18.255.0/24 and 2001:db8:ffff::/112 unless configured. */
	inet_pton(AF_INET, "198.18.255.0", &cfg->lb.ipip_src4);
	inet_pton(AF_INET6, "2001:db8:ffff::", cfg->lb.ipip_src6);
}

void xl4_config_free(struct xl4_config *cfg)
{
	for (int i = 0; i < cfg->n_vips; i++)
		free(cfg->vips[i].backends);
	free(cfg->vips);
	cfg->vips = NULL;
	cfg->n_vips = 0;
	free(cfg->filter.allow);
	free(cfg->filter.block);
	free(cfg->filter.rules);
	cfg->filter.allow = cfg->filter.block = NULL;
	cfg->filter.rules = NULL;
	cfg->filter.n_allow = cfg->filter.n_block = cfg->filter.n_rules = 0;
}

static int finish(config_t *lc, int read_ok, struct xl4_conf_ctx *c, struct xl4_config *cfg)
{
	struct xl4_config next;
	int err;

	if (!read_ok) {
		if (config_error_type(lc) == CONFIG_ERR_FILE_IO)
			snprintf(c->err, c->errlen, "%.200s%s: cannot read: %s", c->name,
				 strlen(c->name) > 200 ? "..." : "", strerror(errno));
		else
			snprintf(c->err, c->errlen, "%s:%d: %s",
				 config_error_file(lc) ? config_error_file(lc) : c->name,
				 config_error_line(lc), config_error_text(lc)); /* libconfig says "syntax error" */
		return -EINVAL;
	}
	xl4_config_defaults(&next);
	snprintf(next.path, sizeof(next.path), "%s", c->name);
	err = parse_group(c, config_root_setting(lc), NULL, &next);
	if (err) {
		xl4_config_free(&next);
		return err;
	}
	if (!next.lb.seed_set) {
		/* One node can live with a random seed; a cluster needs the same one everywhere. */
		if (getrandom(&next.lb.seed, sizeof(next.lb.seed), 0) != sizeof(next.lb.seed))
			next.lb.seed = 0x9e3779b9;
	}
	xl4_config_free(cfg);
	*cfg = next;
	return 0;
}

int xl4_config_load(const char *path, struct xl4_config *cfg, char *err, size_t errlen)
{
	struct xl4_conf_ctx c = { .name = path, .err = err, .errlen = errlen };
	const char *inc = NULL;
	char dir[PATH_MAX], *text;
	config_t lc;
	size_t len;
	int ret;

	config_init(&lc);
	/* @include "x.conf" is found next to this file, whatever the working directory. */
	{
		const char *slash = strrchr(path, '/');

		if (slash && (size_t)(slash - path) < sizeof(dir)) {
			memcpy(dir, path, slash - path);
			dir[slash - path] = '\0';
			inc = slash == path ? "/" : dir;
			config_set_include_dir(&lc, inc);
		}
	}
	/* What libconfig would exit on, hang on or read forever (conf_include.h) is refused first:
	 * a reload must fail with an error, not end the daemon. */
	if ((ret = xl4_conf_regular(path, err, errlen))) {
		config_destroy(&lc);
		return ret;
	}
	text = xl4_conf_read_file(path, &len);
	if (!text && errno != ENOENT && errno != EACCES) {
		/* libconfig would open it and fail the read, and its scanner exits on that */
		ret = -errno;
		snprintf(err, errlen, "%.200s: cannot be read: %s", path, strerror(-ret));
		config_destroy(&lc);
		return ret;
	}
	if (text && (ret = xl4_conf_includes_check(text, len, path, inc, err, errlen))) {
		free(text);
		config_destroy(&lc);
		return ret;
	}
	ret = config_read_file(&lc, path) == CONFIG_TRUE;
	/* the integers as written; libconfig read the same text fine just now */
	if (ret && text)
		c.lits = xl4_conf_lits_scan(text, inc);
	free(text);
	ret = finish(&lc, ret, &c, cfg);
	xl4_conf_lits_free(c.lits);
	config_destroy(&lc);
	return ret;
}

int xl4_config_parse(const char *text, const char *name, struct xl4_config *cfg, char *err,
		     size_t errlen)
{
	struct xl4_conf_ctx c = { .name = name, .err = err, .errlen = errlen };
	config_t lc;
	int ret;

	/* config_read_string() reads up to the first NUL, as strlen() does */
	if ((ret = xl4_conf_includes_check(text, strlen(text), name, NULL, err, errlen)))
		return ret;
	config_init(&lc);
	c.lits = xl4_conf_lits_scan(text, NULL);
	ret = finish(&lc, config_read_string(&lc, text) == CONFIG_TRUE, &c, cfg);
	xl4_conf_lits_free(c.lits);
	config_destroy(&lc);
	return ret;
}
