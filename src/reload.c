// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "reload.h"

/* Append "KEY (a -> b)" to the list of settings that need a restart. */
static void need(char *buf, size_t len, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void need(char *buf, size_t len, const char *key, const char *fmt, ...)
{
	size_t used = strlen(buf);
	va_list ap;

	if (used + 1 >= len)
		return;
	snprintf(buf + used, len - used, "%s%s (", used ? ", " : "", key);
	used = strlen(buf);
	va_start(ap, fmt);
	vsnprintf(buf + used, len - used, fmt, ap);
	va_end(ap);
	used = strlen(buf);
	snprintf(buf + used, len - used, ")");
}

/* The rows marked restart_only (src/config.c): settings baked into the loaded program (rodata,
 * map sizes), or into resources the daemon holds open (interfaces, the socket and its group,
 * pins, the metrics listener). Values compare as the file writes them, or as a row's change()
 * says. */
static void needs_restart(const struct xl4_config *a, const struct xl4_config *b, char *buf,
			  size_t len, bool *pins)
{
	/* room for any value whole (16 interface names, a pin path of PATH_MAX): one cut short
	 * would hide a change past the cut */
	char was[8192], now[8192];

	buf[0] = '\0';
	*pins = false;
	for (const struct xl4_conf_key *k = xl4_conf_keys; k->key; k++) {
		if (!k->restart_only)
			continue;
		if (k->change) {
			k->change(a, b, was, now, sizeof(was));
		} else {
			xl4_conf_value(k, a, was, sizeof(was));
			xl4_conf_value(k, b, now, sizeof(now));
		}
		if (strcmp(was, now)) {
			need(buf, len, k->key, "%s -> %s", was, now);
			*pins |= k->pinned_size;
		}
	}
}

int xl4_reload_prepare(const struct xl4_config *cur, struct xl4_config *next, char *err,
		       size_t errlen)
{
	struct xl4_config n;
	char why[768];
	bool pins;
	int ret;

	if (!cur->path[0])
		return xl4_errf(err, errlen, -ENOENT, "the daemon was started without a config file "
				"(-c FILE): there is nothing to reload");
	xl4_config_defaults(&n);
	if ((ret = xl4_config_load(cur->path, &n, err, errlen)))
		return ret;
	xl4_config_from_env(&n); /* as at start (the daemon's environment) */
	/* The command line wins over the file, now as at start. */
	n.cli_set = cur->cli_set;
	if (cur->cli_set & XL4_CLI_IFACES) {
		memcpy(n.ifaces, cur->ifaces, sizeof(n.ifaces));
		n.n_ifaces = cur->n_ifaces;
	}
	if (cur->cli_set & XL4_CLI_MODE)
		n.mode = cur->mode;
	if (cur->cli_set & XL4_CLI_SOCKET)
		memcpy(n.control_socket, cur->control_socket, sizeof(n.control_socket));
	if (cur->cli_set & XL4_CLI_PIN_PATH)
		memcpy(n.pin_path, cur->pin_path, sizeof(n.pin_path));
	if (cur->cli_set & XL4_CLI_SOCKET_GROUP) {
		memcpy(n.socket_group, cur->socket_group, sizeof(n.socket_group));
		n.socket_gid = cur->socket_gid;
	}
	/* No lb.conntrack.per_cpu_lru in the file: the lists the running tables have stay. */
	if (!n.lb.ct_per_cpu_lru_set)
		n.lb.ct_per_cpu_lru = cur->lb.ct_per_cpu_lru;
	/* No lb.seed in the file: the running (random or adopted) seed stays. */
	if (!n.lb.seed_set)
		n.lb.seed = cur->lb.seed;
	needs_restart(cur, &n, why, sizeof(why), &pins);
	if (why[0] && pins) {
		xl4_config_free(&n);
		return xl4_errf(err, errlen, -EINVAL, "%s: needs restart with new pins: %s; nothing was "
				"changed (that size is a pinned map's, which holds the running state: a "
				"restart with another size is refused until 'xl4 detach' and 'xl4 cleanup' "
				"remove the pins, and what they hold is lost)", cur->path, why);
	}
	if (why[0]) {
		xl4_config_free(&n);
		return xl4_errf(err, errlen, -EINVAL, "%s: needs restart: %s; nothing was changed "
				"(restart the daemon to apply: flows are kept)", cur->path, why);
	}
	*next = n;
	return 0;
}

int xl4_reload_apply(const struct xl4_reloader *subs, size_t n, const struct xl4_config *cur,
		     const struct xl4_config *next, char *err, size_t errlen)
{
	char why[512], done[128] = "";

	for (size_t i = 0; i < n; i++) {
		int ret = subs[i].reload(subs[i].state, cur, next, why, sizeof(why));

		if (!ret) {
			snprintf(done + strlen(done), sizeof(done) - strlen(done), "%s%s",
				 done[0] ? ", " : "", subs[i].name);
			continue;
		}
		/* Checks before any change catch what the file can get wrong; what is left is the
		 * kernel refusing a write (a full map), which stops the reload where it happens. */
		return xl4_errf(err, errlen, ret, "%s: %s: %s; the reload stopped there (%s%s)",
				next->path, subs[i].name, why, done[0] ? "applied before it: " : "nothing applied before it",
				done);
	}
	return 0;
}
