// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <libconfig.h>

#include "config.h"
#include "xl4/abi.h"

static const struct xl4_config config_defaults = {
	.mode = XL4_MODE_AUTO,
	.pin_path = XL4_DEFAULT_PIN_PATH,
	.control_socket = XL4_DEFAULT_SOCKET,
	.frag_policy = XL4_FRAG_PASS,
	.sample_per_sec = 100,
};

/* Every key the file may hold, by section; anything else is a typo worth an error. */
static const char *const root_keys[] = { "interfaces", "xdp_mode", "pin_path", "control_socket",
					 "parser", "events", NULL };
static const char *const parser_keys[] = { "fragments", NULL };
static const char *const events_keys[] = { "samples_per_second", NULL };

struct ctx {
	const char *name;
	char *err;
	size_t errlen;
};

static int fail(struct ctx *c, const config_setting_t *s, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct ctx *c, const config_setting_t *s, const char *fmt, ...)
{
	char msg[384];
	va_list ap;
	const char *key = s && config_setting_name(s) ? config_setting_name(s) : "";
	const config_setting_t *parent = s ? config_setting_parent(s) : NULL;
	size_t n;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	n = snprintf(c->err, c->errlen, "%s:%d: ", c->name, s ? config_setting_source_line(s) : 0);
	if (n < c->errlen) {
		if (parent && config_setting_name(parent))
			snprintf(c->err + n, c->errlen - n, "%s.%s: %s", config_setting_name(parent),
				 key, msg);
		else
			snprintf(c->err + n, c->errlen - n, "%s: %s", key, msg);
	}
	return -EINVAL;
}

static int check_keys(struct ctx *c, const config_setting_t *group, const char *const *known)
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

static int get_string(struct ctx *c, const config_setting_t *s, const char **out)
{
	if (config_setting_type(s) != CONFIG_TYPE_STRING)
		return fail(c, s, "expected a string in double quotes");
	*out = config_setting_get_string(s);
	return 0;
}

static int copy_string(struct ctx *c, const config_setting_t *s, char *dst, size_t cap)
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

static int parse_interfaces(struct ctx *c, const config_setting_t *s, struct xl4_config *cfg)
{
	int n;

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

static int parse_parser(struct ctx *c, const config_setting_t *g, struct xl4_config *cfg)
{
	const config_setting_t *s;
	const char *v = NULL;
	int err;

	if (!config_setting_is_group(g))
		return fail(c, g, "expected a group: parser: { ... };");
	if ((err = check_keys(c, g, parser_keys)))
		return err;
	if ((s = config_setting_get_member(g, "fragments"))) {
		if ((err = get_string(c, s, &v)))
			return err;
		if (!strcmp(v, "pass"))
			cfg->frag_policy = XL4_FRAG_PASS;
		else if (!strcmp(v, "drop"))
			cfg->frag_policy = XL4_FRAG_DROP;
		else
			return fail(c, s, "'%s' is not one of: pass, drop", v);
	}
	return 0;
}

static int parse_events(struct ctx *c, const config_setting_t *g, struct xl4_config *cfg)
{
	const config_setting_t *s;
	int err;

	if (!config_setting_is_group(g))
		return fail(c, g, "expected a group: events: { ... };");
	if ((err = check_keys(c, g, events_keys)))
		return err;
	if ((s = config_setting_get_member(g, "samples_per_second"))) {
		long long v;

		if (config_setting_type(s) != CONFIG_TYPE_INT && config_setting_type(s) != CONFIG_TYPE_INT64)
			return fail(c, s, "expected an integer");
		v = config_setting_get_int64(s);
		if (v < 0 || v > 1000000)
			return fail(c, s, "%lld is out of range 0..1000000", v);
		cfg->sample_per_sec = (__u32)v;
	}
	return 0;
}

static int parse_root(struct ctx *c, config_t *lc, struct xl4_config *cfg)
{
	config_setting_t *root = config_root_setting(lc);
	const config_setting_t *s;
	const char *v = NULL;
	int err;

	if ((err = check_keys(c, root, root_keys)))
		return err;
	if ((s = config_setting_get_member(root, "interfaces")) && (err = parse_interfaces(c, s, cfg)))
		return err;
	if ((s = config_setting_get_member(root, "xdp_mode"))) {
		if ((err = get_string(c, s, &v)))
			return err;
		if (xl4_mode_parse(v, &cfg->mode))
			return fail(c, s, "'%s' is not one of: auto, native, skb", v);
	}
	if ((s = config_setting_get_member(root, "pin_path"))) {
		if ((err = copy_string(c, s, cfg->pin_path, sizeof(cfg->pin_path))))
			return err;
		if (strncmp(cfg->pin_path, "/sys/fs/bpf/", 12))
			return fail(c, s, "must be a directory under /sys/fs/bpf/");
	}
	if ((s = config_setting_get_member(root, "control_socket"))) {
		if ((err = copy_string(c, s, cfg->control_socket, sizeof(cfg->control_socket))))
			return err;
		if (cfg->control_socket[0] != '/')
			return fail(c, s, "must be an absolute path");
	}
	if ((s = config_setting_get_member(root, "parser")) && (err = parse_parser(c, s, cfg)))
		return err;
	if ((s = config_setting_get_member(root, "events")) && (err = parse_events(c, s, cfg)))
		return err;
	return 0;
}

void xl4_config_defaults(struct xl4_config *cfg)
{
	*cfg = config_defaults;
}

static int finish(config_t *lc, int read_ok, struct ctx *c, struct xl4_config *cfg)
{
	struct xl4_config next;
	int err;

	if (!read_ok) {
		if (config_error_type(lc) == CONFIG_ERR_FILE_IO)
			snprintf(c->err, c->errlen, "%s: cannot read: %s", c->name, strerror(errno));
		else
			snprintf(c->err, c->errlen, "%s:%d: %s", c->name, config_error_line(lc),
				 config_error_text(lc)); /* libconfig says "syntax error" itself */
		return -EINVAL;
	}
	xl4_config_defaults(&next);
	snprintf(next.path, sizeof(next.path), "%s", c->name);
	err = parse_root(c, lc, &next);
	if (!err)
		*cfg = next;
	return err;
}

int xl4_config_load(const char *path, struct xl4_config *cfg, char *err, size_t errlen)
{
	struct ctx c = { .name = path, .err = err, .errlen = errlen };
	config_t lc;
	int ret;

	config_init(&lc);
	ret = finish(&lc, config_read_file(&lc, path) == CONFIG_TRUE, &c, cfg);
	config_destroy(&lc);
	return ret;
}

int xl4_config_parse(const char *text, const char *name, struct xl4_config *cfg, char *err,
		     size_t errlen)
{
	struct ctx c = { .name = name, .err = err, .errlen = errlen };
	config_t lc;
	int ret;

	config_init(&lc);
	ret = finish(&lc, config_read_string(&lc, text) == CONFIG_TRUE, &c, cfg);
	config_destroy(&lc);
	return ret;
}
