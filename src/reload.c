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

static bool same_ifaces(const struct xl4_config *a, const struct xl4_config *b)
{
	if (a->n_ifaces != b->n_ifaces)
		return false;
	for (int i = 0; i < a->n_ifaces; i++)
		if (strcmp(a->ifaces[i], b->ifaces[i]))
			return false;
	return true;
}

/* Settings baked into the loaded program (rodata, map sizes), or into resources the daemon
 * holds open (interfaces, socket, pins, the metrics listener). */
static void needs_restart(const struct xl4_config *a, const struct xl4_config *b, char *buf, size_t len)
{
	buf[0] = '\0';
	if (!same_ifaces(a, b))
		need(buf, len, "interfaces", "%d -> %d listed, or other names", a->n_ifaces, b->n_ifaces);
	if (a->mode != b->mode)
		need(buf, len, "xdp_mode", "%s -> %s", xl4_mode_name(a->mode), xl4_mode_name(b->mode));
	if (strcmp(a->pin_path, b->pin_path))
		need(buf, len, "pin_path", "%s -> %s", a->pin_path, b->pin_path);
	if (strcmp(a->control_socket, b->control_socket))
		need(buf, len, "control_socket", "%s -> %s", a->control_socket, b->control_socket);
	if (a->frag_policy != b->frag_policy)
		need(buf, len, "parser.fragments", "changed");
	if (a->sample_per_sec != b->sample_per_sec)
		need(buf, len, "events.samples_per_second", "%u -> %u", a->sample_per_sec, b->sample_per_sec);
	if (a->lb.seed != b->lb.seed)
		need(buf, len, "lb.seed", "%u -> %u", a->lb.seed, b->lb.seed);
	if (a->lb.table_size != b->lb.table_size)
		need(buf, len, "lb.table_size", "%u -> %u", a->lb.table_size, b->lb.table_size);
	if (a->lb.ct_max != b->lb.ct_max)
		need(buf, len, "lb.conntrack.max_entries", "%u -> %u", a->lb.ct_max, b->lb.ct_max);
	if (a->lb.ct_per_cpu_lru != b->lb.ct_per_cpu_lru)
		need(buf, len, "lb.conntrack.per_cpu_lru", "%s -> %s", a->lb.ct_per_cpu_lru ? "true" : "false",
		     b->lb.ct_per_cpu_lru ? "true" : "false");
	if (a->filter.rate_table_size != b->filter.rate_table_size)
		need(buf, len, "filter.rate_table_size", "%u -> %u", a->filter.rate_table_size,
		     b->filter.rate_table_size);
	if (a->guard.grey_slots != b->guard.grey_slots)
		need(buf, len, "guard.greylist_slots", "%u -> %u", a->guard.grey_slots, b->guard.grey_slots);
	if (a->guard.syn_slots != b->guard.syn_slots)
		need(buf, len, "guard.syn_slots", "%u -> %u", a->guard.syn_slots, b->guard.syn_slots);
	if (a->guard.verified_max != b->guard.verified_max)
		need(buf, len, "guard.verified_max", "%u -> %u", a->guard.verified_max, b->guard.verified_max);
	if (strcmp(a->metrics.listen, b->metrics.listen))
		need(buf, len, "metrics.listen", "'%s' -> '%s'", a->metrics.listen, b->metrics.listen);
}

int xl4_reload_prepare(const struct xl4_config *cur, struct xl4_config *next, char *err,
		       size_t errlen)
{
	struct xl4_config n;
	char why[768];
	int ret;

	if (!cur->path[0])
		return xl4_errf(err, errlen, -ENOENT, "the daemon was started without a config file "
				"(-c FILE): there is nothing to reload");
	xl4_config_defaults(&n);
	if ((ret = xl4_config_load(cur->path, &n, err, errlen)))
		return ret;
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
	/* No lb.seed in the file: the running (random or adopted) seed stays. */
	if (!n.lb.seed_set)
		n.lb.seed = cur->lb.seed;
	needs_restart(cur, &n, why, sizeof(why));
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
