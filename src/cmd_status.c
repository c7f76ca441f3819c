// SPDX-License-Identifier: GPL-2.0
/* Client commands that ask the daemon or read the pins: status, stats, events, cleanup. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <limits.h>
#include <sys/statfs.h>
#include <linux/magic.h>
#include <unistd.h>
#include <jansson.h>

#include "commands.h"
#include "config.h"
#include "control.h"
#include "counters.h"
#include "engine.h"
#include "stats_view.h"

const char *xl4_default_socket(void)
{
	return getenv("XL4_SOCKET") ?: XL4_DEFAULT_SOCKET;
}

const char *xl4_default_pin_path(void)
{
	return getenv("XL4_PIN_PATH") ?: XL4_DEFAULT_PIN_PATH;
}

const char *xl4_socket(const struct xl4_args *a)
{
	return a->socket ?: xl4_default_socket();
}

void xl4_print_json(json_t *v)
{
	char *s = json_dumps(v, JSON_COMPACT);

	puts(s ? s : "null");
	free(s);
}

int xl4_verb_list(const struct xl4_cmd *cmd, const struct xl4_verb *verb, void *args, int argc,
		  char **argv)
{
	const struct xl4_args *a = args;
	json_t *resp;

	(void)cmd, (void)argc, (void)argv;
	if (xl4_control_cli_call(xl4_socket(a), json_pack("{s:s}", "cmd", verb->request), &resp))
		return 1;
	json_object_del(resp, "ok");
	/* no .reply: the whole reply is the listing */
	if (a->json)
		xl4_print_json(verb->reply ? json_object_get(resp, verb->reply) : resp);
	else
		verb->print(verb->reply ? json_object_get(resp, verb->reply) : resp);
	json_decref(resp);
	return 0;
}

static void print_json_line(json_t *o)
{
	char *s = json_dumps(o, JSON_COMPACT);

	puts(s);
	free(s);
	fflush(stdout);
}

/* Ask the daemon; on failure print the reason and return NULL. */
static json_t *ask(const char *sock, const char *what, int quiet)
{
	char err[256];
	json_t *req = json_pack("{s:s}", "cmd", what), *resp = NULL;
	int ret = xl4_control_call(sock, req, &resp, err, sizeof(err));

	json_decref(req);
	if (ret) {
		if (!quiet)
			fprintf(stderr, "xl4: %s\n", err);
		return NULL;
	}
	if (!json_is_true(json_object_get(resp, "ok"))) {
		fprintf(stderr, "xl4: daemon: %s\n", json_string_value(json_object_get(resp, "error")) ?: "error");
		json_decref(resp);
		return NULL;
	}
	return resp;
}

/* ---- status ---- */

static const struct xl4_opt status_opts[] = {
	XL4_OPT_SOCKET,
	XL4_OPT_JSON("print the daemon's answer as one JSON object"),
	{ 0 },
};

/* Map pressure: entries against max_entries, as the daemon last counted them (every 10 s). */
static void print_maps(json_t *maps)
{
	json_t *m;
	size_t i;

	if (!json_array_size(maps))
		return;
	printf("\n%-20s %-16s %12s %12s %7s\n", "MAP", "TYPE", "ENTRIES", "CAPACITY", "FILL");
	json_array_foreach(maps, i, m) {
		long long n = json_integer_value(json_object_get(m, "entries"));
		long long cap = json_integer_value(json_object_get(m, "capacity"));

		printf("%-20s %-16s %12lld %12lld %6.1f%%\n", json_string_value(json_object_get(m, "name")),
		       json_string_value(json_object_get(m, "type")), n, cap, cap ? 100.0 * n / cap : 0.0);
	}
	/* a fill of the whole says little when each CPU evicts at its own share */
	json_array_foreach(maps, i, m) {
		long long lists = json_integer_value(json_object_get(m, "lru_lists"));
		long long cap = json_integer_value(json_object_get(m, "capacity"));

		if (lists > 1)
			printf("%s: per-CPU LRU lists, %lld lists of %lld entries each (a CPU's flows "
			       "evict at its share)\n", json_string_value(json_object_get(m, "name")), lists,
			       cap / lists);
	}
}

static int run_status(const struct xl4_cmd *cmd, void *args, int argc, char **argv)
{
	const struct xl4_args *a = args;
	json_t *st, *ifs, *i;
	size_t k;

	(void)cmd, (void)argc, (void)argv;
	st = ask(xl4_socket(a), "status", 0);
	if (!st)
		return 1;
	if (a->json) {
		print_json_line(st);
	} else {
		printf("xl4 daemon %s, pid %lld, up %llds\n", json_string_value(json_object_get(st, "version")),
		       json_integer_value(json_object_get(st, "pid")),
		       json_integer_value(json_object_get(st, "uptime_s")));
		printf("program id %lld, maps pinned in %s, config %s\n",
		       json_integer_value(json_object_get(st, "prog_id")),
		       json_string_value(json_object_get(st, "pin_path")),
		       *json_string_value(json_object_get(st, "config")) ?
			       json_string_value(json_object_get(st, "config")) : "(none)");
		printf("%-16s %8s  %-7s %s\n", "INTERFACE", "IFINDEX", "MODE", "STATE");
		ifs = json_object_get(st, "interfaces");
		json_array_foreach(ifs, k, i)
			printf("%-16s %8lld  %-7s %s\n", json_string_value(json_object_get(i, "name")),
			       json_integer_value(json_object_get(i, "ifindex")),
			       json_string_value(json_object_get(i, "mode")),
			       json_is_true(json_object_get(i, "attached")) ? "attached" : "detached");
		if ((i = json_object_get(st, "guard")))
			printf("flood guard %s, response %s, %lld verified sources, %lld analyzer blocks\n",
			       json_is_true(json_object_get(i, "enabled")) ? "on" : "off",
			       json_string_value(json_object_get(i, "response")),
			       json_integer_value(json_object_get(i, "verified_sources")),
			       json_integer_value(json_object_get(i, "analyzer_blocks")));
		if (json_is_true(json_object_get(i = json_object_get(st, "cluster"), "enabled")))
			printf("cluster node: %s, %zu VIP route(s) in table %lld%s\n",
			       json_is_true(json_object_get(i, "drained")) ? "DRAINED" : "serving",
			       json_array_size(json_object_get(i, "routes")),
			       json_integer_value(json_object_get(i, "route_table")),
			       json_is_true(json_object_get(i, "attached")) ? "" :
									     ", PROGRAM NOT ATTACHED");
		if (*(json_string_value(json_object_get(i, "route_error")) ?: ""))
			printf("cluster route error: %s\n",
			       json_string_value(json_object_get(i, "route_error")));
		if (json_array_size(json_object_get(st, "vips"))) {
			printf("\n");
			xl4_print_vips(json_object_get(st, "vips"));
		}
		print_maps(json_object_get(st, "maps"));
	}
	json_decref(st);
	return 0;
}

const struct xl4_cmd xl4_cmd_status = {
	.name = "status",
	.summary = "Show the running daemon: version, program id, interfaces, VIPs and map fill.",
	.opts = status_opts,
	XL4_ARGS_COMMON,
	.exec = run_status,
};

/* ---- stats ---- */

struct stats_args {
	struct xl4_args common;
	bool watch, all;
	uint32_t interval, count;
};

static const struct stats_args stats_defaults = { .interval = 1 };

static const struct xl4_opt stats_opts[] = {
	XL4_OPT_SOCKET,
	XL4_OPT_PIN_PATH("read pinned counters here when no daemon answers"),
	XL4_OPT_JSON("one JSON object per sample"),
	XL4_OPT_FLAG("watch", 'w', struct stats_args, watch,
		     "refresh every interval with rates between samples"),
	XL4_OPT_U32("interval", 'n', "SECS", struct stats_args, interval, 1, 3600,
		    "seconds between samples with --watch (default 1)", .unit = " seconds"),
	XL4_OPT_U32("count", 0, "N", struct stats_args, count, 1, 1u << 31,
		    "stop after N samples with --watch (default: until Ctrl-C)",
		    .range = "a positive number"),
	XL4_OPT_FLAG("all", 'a', struct stats_args, all, "list every drop reason, also those at zero"),
	{ 0 },
};

/* Counters from the pins: the daemon need not be running for counters to be read. */
static int read_pinned(const char *pins, struct xl4_totals *t)
{
	int fd = xl4_counters_open_pinned(pins), err;

	if (fd < 0) {
		fprintf(stderr, "xl4: no daemon answers and no pinned counters in %s (%s)\n", pins,
			strerror(-fd));
		return fd;
	}
	err = xl4_counters_read(fd, t);
	close(fd);
	if (err)
		fprintf(stderr, "xl4: reading %s: %s\n", pins, strerror(-err));
	return err;
}

static void show(json_t *s, int json, int all, int clear)
{
	if (json) {
		json_object_set_new(s, "time", json_integer(time(NULL)));
		print_json_line(s);
		return;
	}
	if (clear)
		fputs("\033[H\033[2J", stdout);
	xl4_stats_print(stdout, s, all);
	fflush(stdout);
}

static int run_stats(const struct xl4_cmd *cmd, void *args, int argc, char **argv)
{
	const struct stats_args *a = args;
	const char *sock = xl4_socket(&a->common), *pins = a->common.pin_path;
	unsigned long interval = a->interval, count = a->count;
	int json = a->common.json, all = a->all;
	struct xl4_totals prev, cur;
	json_t *resp, *s;

	(void)cmd, (void)argc, (void)argv;

	/* The daemon knows its own pin path; ask it unless one was given. */
	if (!pins) {
		json_t *st = ask(sock, "status", 1);

		pins = st ? strdup(json_string_value(json_object_get(st, "pin_path"))) :
			    xl4_default_pin_path();
		json_decref(st);
	}
	if (!a->watch) {
		/* One shot: the daemon's snapshot has rates over its last second. */
		resp = ask(sock, "stats", 1);
		if (!resp) {
			if (read_pinned(pins, &cur))
				return 1;
			resp = xl4_stats_json(&cur, NULL, 0);
			if (!json)
				fprintf(stderr, "xl4: daemon not running; counters from %s, no rates\n", pins);
		}
		json_object_del(resp, "ok");
		show(resp, json, all, 0);
		json_decref(resp);
		return 0;
	}
	if (read_pinned(pins, &prev))
		return 1;
	for (unsigned long n = 0; !count || n < count; n++) {
		sleep(interval);
		if (read_pinned(pins, &cur))
			return 1;
		s = xl4_stats_json(&cur, &prev, (double)interval);
		show(s, json, all, isatty(STDOUT_FILENO));
		json_decref(s);
		prev = cur;
	}
	return 0;
}

const struct xl4_cmd xl4_cmd_stats = {
	.name = "stats",
	.summary = "Show verdict and drop-reason counters, summed over CPUs, with rates.",
	.description =
		"Without --watch, asks the daemon for its latest snapshot (rates over the last\n"
		"second); when no daemon runs, reads the pinned counters (no rates). With --watch,\n"
		"reads the pinned counters every interval and shows rates between samples.\n"
		"JSON shape: {\"verdicts\": {NAME: {packets, bytes, pps, bps}}, \"drops\": {REASON: ...}}.",
	.opts = stats_opts,
	XL4_DEFAULTS(struct stats_args, stats_defaults),
	.exec = run_stats,
};

/* ---- events ---- */

static const struct xl4_opt events_opts[] = {
	XL4_OPT_SOCKET,
	XL4_OPT_JSON("one JSON object per event"),
	{ 0 },
};

static int run_events(const struct xl4_cmd *cmd, void *args, int argc, char **argv)
{
	const struct xl4_args *a = args;
	int json = a->json;
	json_t *resp, *e;
	size_t i;

	(void)cmd, (void)argc, (void)argv;
	resp = ask(xl4_socket(a), "events", 0);
	if (!resp)
		return 1;
	json_array_foreach(json_object_get(resp, "events"), i, e) {
		if (json) {
			print_json_line(e);
			continue;
		}
		char src[64], dst[64];
		const char *s = json_string_value(json_object_get(e, "src")) ?: "-";

		if (!strcmp(json_string_value(json_object_get(e, "type")) ?: "", "guard")) {
			printf("%-20s %s\n", "guard", json_string_value(json_object_get(e, "message")));
			continue;
		}
		const char *d = json_string_value(json_object_get(e, "dst")) ?: "-";

		if (!json_object_get(e, "src")) {
			printf("%-20s %-12s (no IP header) len %lld\n",
			       json_string_value(json_object_get(e, "reason")),
			       json_string_value(json_object_get(e, "ifname")),
			       json_integer_value(json_object_get(e, "len")));
			continue;
		}
		if (json_object_get(e, "sport")) {
			snprintf(src, sizeof(src), "%s%s%s:%lld", strchr(s, ':') ? "[" : "", s,
				 strchr(s, ':') ? "]" : "", json_integer_value(json_object_get(e, "sport")));
			snprintf(dst, sizeof(dst), "%s%s%s:%lld", strchr(d, ':') ? "[" : "", d,
				 strchr(d, ':') ? "]" : "", json_integer_value(json_object_get(e, "dport")));
		} else {
			snprintf(src, sizeof(src), "%s", s);
			snprintf(dst, sizeof(dst), "%s", d);
		}
		printf("%-20s %-12s %s -> %s proto %lld len %lld\n",
		       json_string_value(json_object_get(e, "reason")),
		       json_string_value(json_object_get(e, "ifname")), src, dst,
		       json_integer_value(json_object_get(e, "proto")),
		       json_integer_value(json_object_get(e, "len")));
	}
	json_decref(resp);
	return 0;
}

const struct xl4_cmd xl4_cmd_events = {
	.name = "events",
	.summary = "Show the most recent sampled drop events (up to 64) and flood-guard mode changes.",
	.opts = events_opts,
	XL4_ARGS_COMMON,
	.exec = run_events,
};

/* ---- cleanup ---- */

static const struct xl4_opt cleanup_opts[] = {
	XL4_OPT_PIN_PATH("pin directory (default /sys/fs/bpf/xl4, or $XL4_PIN_PATH)"),
	XL4_OPT_SOCKET_HELP("control socket used to check that no daemon runs"),
	{ 0 },
};

static int same_dir(const char *a, const char *b)
{
	char ra[PATH_MAX], rb[PATH_MAX];

	return a && b && realpath(a, ra) && realpath(b, rb) && !strcmp(ra, rb);
}

static int run_cleanup(const struct xl4_cmd *cmd, void *args, int argc, char **argv)
{
	const struct xl4_args *a = args;
	const char *pins = a->pin_path ?: xl4_default_pin_path(), *sock = xl4_socket(a);
	json_t *st;
	int err;

	(void)cmd, (void)argc, (void)argv;
	{
		struct statfs fs;
		char real[PATH_MAX];

		/* Only ever a directory on bpffs: cleanup deletes files. */
		if (!realpath(pins, real) && errno == ENOENT && !strncmp(pins, "/sys/fs/bpf/", 12))
			return 0; /* nothing pinned there: nothing to do */
		if (!realpath(pins, real) || statfs(real, &fs) || fs.f_type != BPF_FS_MAGIC) {
			fprintf(stderr, "xl4 cleanup: %.200s is not a directory on bpffs (/sys/fs/bpf)\n", pins);
			return 1;
		}
		pins = strdup(real);
	}
	st = ask(sock, "status", 1);
	if (st && same_dir(json_string_value(json_object_get(st, "pin_path")), pins)) {
		fprintf(stderr, "xl4 cleanup: a daemon (pid %lld) is using %s; stop it first\n",
			json_integer_value(json_object_get(st, "pid")), pins);
		json_decref(st);
		return 1;
	}
	json_decref(st);
	{
		__u32 prog = 0;

		if (xl4_pins_in_use(pins, &prog)) {
			fprintf(stderr, "xl4 cleanup: the maps in %s are in use by BPF program id %u "
				"(an attached xl4 program: it keeps handling traffic after its daemon "
				"stops); 'xl4 detach' first\n", pins, prog);
			return 1;
		}
	}
	err = xl4_unpin_all(pins);
	if (err) {
		fprintf(stderr, "xl4 cleanup: %s: %s\n", pins, strerror(-err));
		return 1;
	}
	return 0;
}

const struct xl4_cmd xl4_cmd_cleanup = {
	.name = "cleanup",
	.summary = "Remove xl4's pinned maps (counters are lost). Refuses while a daemon uses them.",
	.description = "Checks the daemon behind --socket (and only that one): with several daemons, name\n"
		       "the socket of the one that used this pin path.",
	.opts = cleanup_opts,
	XL4_ARGS_COMMON,
	.exec = run_cleanup,
};
