// SPDX-License-Identifier: GPL-2.0
/* `xl4 block|allow|rule|limit ...`: runtime filter changes through the daemon. Input is checked
 * here first (so a bad line in a file is named by its line number) and again by the daemon,
 * which applies each request all or nothing. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#include "cli.h"
#include "commands.h"
#include "control.h"
#include "prefix.h"

#define RATE_MAX 10000000
#define TTL_MAX (10u * 365 * 24 * 3600)

/* ---- block / allow ---- */

struct list_args {
	struct xl4_args common;
	const char *file;
	uint32_t ttl;
};

static const struct xl4_opt list_opts[] = {
	XL4_OPT_SOCKET,
	XL4_OPT_STR("file", 'f', "FILE", struct list_args, file,
		    "add/del: read prefixes from FILE ('-' for stdin), one per line"),
	XL4_OPT_U32("ttl", 0, "SECS", struct list_args, ttl, 1, TTL_MAX,
		    "add: the entries expire after SECS seconds (default: never)", .unit = " seconds"),
	XL4_OPT_JSON("list: print JSON"),
	{ 0 },
};

/* Check one prefix and append it; where names its origin for the error line. */
static int push_prefix(json_t *arr, const char *s, const char *where)
{
	struct xl4_prefix p;
	char why[160];

	if (xl4_prefix_parse(s, &p, why, sizeof(why))) {
		fprintf(stderr, "xl4: %s%s\n", where, why);
		return -EINVAL;
	}
	return json_array_append_new(arr, json_string(s)) ? -ENOMEM : 0;
}

/* One prefix per line; '#' starts a comment; blank lines are skipped. */
static int read_prefix_file(json_t *arr, const char *path)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "r") : stdin;
	const char *name = strcmp(path, "-") ? path : "stdin";
	char *line = NULL, where[600];
	size_t cap = 0;
	long lineno = 0;
	int err = 0;

	if (!f) {
		fprintf(stderr, "xl4: %s: %s\n", path, strerror(errno));
		return -errno;
	}
	while (!err && getline(&line, &cap, f) >= 0) {
		char *s = line, *end;

		lineno++;
		if ((end = strchr(s, '#')))
			*end = '\0';
		s += strspn(s, " \t\r\n");
		end = s + strlen(s);
		while (end > s && strchr(" \t\r\n", end[-1]))
			*--end = '\0';
		if (!*s)
			continue;
		snprintf(where, sizeof(where), "%s:%ld: ", name, lineno);
		err = push_prefix(arr, s, where);
	}
	if (!err && ferror(f)) {
		fprintf(stderr, "xl4: %s: read error: %s\n", name, strerror(errno));
		err = -EIO;
	}
	free(line);
	if (f != stdin)
		fclose(f);
	return err;
}

static void print_entries(json_t *entries)
{
	size_t i;
	json_t *e;

	json_array_foreach(entries, i, e) {
		json_t *exp = json_object_get(e, "expires_in_s"), *vip = json_object_get(e, "vip_id");
		char scope[64] = "";

		/* the analyzer's entries drop only new SYNs to one VIP (or to any) */
		if (json_object_get(e, "scope")) {
			if (json_is_integer(vip))
				snprintf(scope, sizeof(scope), "  (new SYNs to VIP id %lld only)",
					 json_integer_value(vip));
			else
				snprintf(scope, sizeof(scope), "  (new SYNs to any VIP only)");
		}
		if (json_is_integer(exp))
			printf("%-44s expires in %lld s%s\n", json_string_value(json_object_get(e, "prefix")),
			       json_integer_value(exp), scope);
		else
			printf("%-44s never expires%s\n", json_string_value(json_object_get(e, "prefix")), scope);
	}
}

static int list_entries(const struct xl4_cmd *cmd, const struct xl4_verb *verb, void *args,
			int argc, char **argv)
{
	const struct list_args *a = args;

	if (argc || a->file || a->ttl)
		return xl4_cli_usage_error(cmd, "list takes no arguments besides --json");
	return xl4_verb_list(cmd, verb, args, argc, argv);
}

/* add, del: prefixes from the arguments and from --file, all sent at once */
static int list_change(const struct xl4_cmd *cmd, const struct xl4_verb *verb, void *args,
		       int argc, char **argv)
{
	const struct list_args *a = args;
	const char *file = a->file;
	json_t *req, *arr;

	if (a->ttl && strcmp(verb->name, "add"))
		return xl4_cli_usage_error(cmd, "--ttl is for add");
	if (!argc && !file)
		return xl4_cli_usage_error(cmd, "%s needs prefixes, or -f FILE", verb->name);
	arr = json_array();
	for (int i = 0; i < argc; i++) {
		if (push_prefix(arr, argv[i], "")) {
			json_decref(arr);
			return 1;
		}
	}
	if (file && read_prefix_file(arr, file)) {
		json_decref(arr);
		return 1;
	}
	if (!json_array_size(arr)) {
		json_decref(arr);
		fprintf(stderr, "xl4: %s: no prefixes in it\n", strcmp(file, "-") ? file : "stdin");
		return 1;
	}
	req = json_pack("{s:s, s:o}", "cmd", verb->request, "prefixes", arr);
	if (req && a->ttl)
		json_object_set_new(req, "ttl", json_integer(a->ttl));
	return xl4_control_cli_call(xl4_socket(&a->common), req, NULL);
}

/* The arguments are prefixes (add, del) or none (list): the verbs check them. */
static const struct xl4_verb block_verbs[] = {
	{ "add", NULL, 0, -1, list_change, "block-add" },
	{ "del", NULL, 0, -1, list_change, "block-del" },
	{ "list", NULL, 0, -1, list_entries, "block-list", "entries", print_entries },
	{ 0 },
};

static const struct xl4_verb allow_verbs[] = {
	{ "add", NULL, 0, -1, list_change, "allow-add" },
	{ "del", NULL, 0, -1, list_change, "allow-del" },
	{ "list", NULL, 0, -1, list_entries, "allow-list", "entries", print_entries },
	{ 0 },
};

const struct xl4_cmd xl4_cmd_block = {
	.name = "block",
	.args = "add PREFIX... [--ttl SECS] | add -f FILE|- | del PREFIX... [-f FILE|-] | list",
	.summary = "Drop traffic from source prefixes (IPv4 and IPv6), for good or for a while.",
	.description =
		"The allowlist wins over the blocklist (docs/filter.md). A prefix already listed\n"
		"gets the new expiry. Each command is applied all or nothing: one bad prefix or a\n"
		"full map changes nothing, and the error names the entry.\n\n"
		"Examples:\n"
		"  xl4 block add 198.18.6.0/24 2001:db8:6::/48\n"
		"  xl4 block add 198.18.7.7 --ttl 600\n"
		"  xl4 block add -f bad-networks.txt      # one prefix per line, '#' comments\n"
		"  feed | xl4 block add -f -\n"
		"  xl4 block del 198.18.6.0/24\n"
		"  xl4 block list --json",
	.opts = list_opts,
	XL4_ARGS(struct list_args),
	.verbs = block_verbs,
};

const struct xl4_cmd xl4_cmd_allow = {
	.name = "allow",
	.args = "add PREFIX... [--ttl SECS] | add -f FILE|- | del PREFIX... [-f FILE|-] | list",
	.summary = "Let source prefixes skip the filter and the flood guard (still load-balanced).",
	.description =
		"Allowlisted sources pass the blocklist, rules and rate limits (docs/filter.md).\n"
		"Each command is applied all or nothing.\n\n"
		"Examples:\n"
		"  xl4 allow add 198.18.5.0/24 2001:db8:5::/48\n"
		"  xl4 allow add -f monitoring.txt --ttl 3600\n"
		"  xl4 allow list",
	.opts = list_opts,
	XL4_ARGS(struct list_args),
	.verbs = allow_verbs,
};

/* ---- rule ---- */

/* rule and limit: rule takes all of these, limit the rate's */
struct rule_args {
	struct xl4_args common;
	const char *proto, *port, *action;
	uint32_t rate, burst, v6_prefix;
};

#define OPT_RATE(help)                                                                         \
	XL4_OPT_U32("rate", 0, "PPS", struct rule_args, rate, 1, RATE_MAX, help)
#define OPT_BURST(help)                                                                        \
	XL4_OPT_U32("burst", 0, "N", struct rule_args, burst, 1, RATE_MAX, help)
#define OPT_V6_PREFIX(help)                                                                    \
	XL4_OPT_U32("v6-prefix", 0, "LEN", struct rule_args, v6_prefix, 1, 128, help)

static const struct xl4_opt rule_opts[] = {
	XL4_OPT_SOCKET,
	XL4_OPT_STR("proto", 0, "PROTO", struct rule_args, proto,
		    "add: tcp, udp, icmp, icmpv6 or any (default any)"),
	XL4_OPT_STR("port", 0, "P|LO-HI", struct rule_args, port,
		    "add: destination port or range (tcp, udp or any)"),
	XL4_OPT_STR("action", 0, "ACTION", struct rule_args, action, "add: allow, drop or limit"),
	OPT_RATE("add, limit: packets per second per source"),
	OPT_BURST("add, limit: bucket depth in packets"),
	OPT_V6_PREFIX("add, limit: IPv6 sources share a bucket per /LEN (default 64)"),
	XL4_OPT_JSON("list: print JSON"),
	{ 0 },
};

static void print_rules(json_t *rules)
{
	size_t i;
	json_t *r;

	json_array_foreach(rules, i, r) {
		json_t *c = json_object_get(r, "counters");
		char extra[96] = "";

		if (json_object_get(r, "rate"))
			snprintf(extra, sizeof(extra), " %lld/s burst %lld v6 /%lld",
				 json_integer_value(json_object_get(r, "rate")),
				 json_integer_value(json_object_get(r, "burst")),
				 json_integer_value(json_object_get(r, "v6_prefix")));
		printf("%-5lld %-40s %-6s %-11s %s%s  matched %lld dropped %lld\n",
		       json_integer_value(json_object_get(r, "id")),
		       json_string_value(json_object_get(r, "dst")),
		       json_string_value(json_object_get(r, "proto")),
		       json_string_value(json_object_get(r, "ports")),
		       json_string_value(json_object_get(r, "action")), extra,
		       json_integer_value(json_object_get(c, "matched")),
		       json_integer_value(json_object_get(c, "dropped")));
	}
}

static int rule_del(const struct xl4_cmd *cmd, const struct xl4_verb *verb, void *args, int argc,
		    char **argv)
{
	unsigned long id;

	(void)argc;
	if (xl4_parse_uint(argv[0], 1, 65535, &id))
		return xl4_cli_verb_usage(cmd, verb);
	return xl4_control_cli_call(xl4_socket(args), json_pack("{s:s, s:I}", "cmd", verb->request,
								"id", (json_int_t)id), NULL);
}

static int rule_add(const struct xl4_cmd *cmd, const struct xl4_verb *verb, void *args, int argc,
		    char **argv)
{
	const struct rule_args *a = args;
	json_t *req, *resp;

	(void)argc;
	if (!a->action)
		return xl4_cli_usage_error(cmd, "add needs --action allow, drop or limit");
	req = json_pack("{s:s, s:s, s:s}", "cmd", verb->request, "dst", argv[0], "action", a->action);
	if (req && a->proto)
		json_object_set_new(req, "proto", json_string(a->proto));
	if (req && a->port)
		json_object_set_new(req, "ports", json_string(a->port));
	if (req && a->rate)
		json_object_set_new(req, "rate", json_integer(a->rate));
	if (req && a->burst)
		json_object_set_new(req, "burst", json_integer(a->burst));
	if (req && a->v6_prefix)
		json_object_set_new(req, "v6_prefix", json_integer(a->v6_prefix));
	if (xl4_control_cli_call(xl4_socket(&a->common), req, &resp))
		return 1;
	printf("%lld\n", json_integer_value(json_object_get(resp, "id")));
	json_decref(resp);
	return 0;
}

static const struct xl4_verb rule_verbs[] = {
	{ "add", "DST --action allow|drop|limit [...]", 1, 1, rule_add, "rule-add" },
	{ "del", "ID (from 'xl4 rule list')", 1, 1, rule_del, "rule-del" },
	{ "list", NULL, 0, 0, xl4_verb_list, "rule-list", "rules", print_rules },
	{ 0 },
};

const struct xl4_cmd xl4_cmd_rule = {
	.name = "rule",
	.args = "add DST --action allow|drop|limit [...] | del ID | list",
	.summary = "Allow, drop or rate-limit traffic by destination prefix, protocol and port.",
	.description =
		"The most specific destination prefix wins; for one destination and protocol no port\n"
		"may belong to two rules. 'add' prints the new rule's id. A limit rule gives each\n"
		"source (IPv4 address, or IPv6 /LEN) its own token bucket (docs/filter.md).\n\n"
		"Examples:\n"
		"  xl4 rule add 198.18.1.0/24 --proto tcp --port 1000-2000 --action drop\n"
		"  xl4 rule add 198.18.1.1 --proto udp --port 53 --action limit --rate 100 --burst 200\n"
		"  xl4 rule add 2001:db8:1::/64 --action allow\n"
		"  xl4 rule list\n"
		"  xl4 rule del 2",
	.opts = rule_opts,
	XL4_ARGS(struct rule_args),
	.verbs = rule_verbs,
};

/* ---- limit ---- */

static int limit_set(const struct xl4_cmd *cmd, const struct xl4_verb *verb, void *args, int argc,
		     char **argv)
{
	const struct rule_args *a = args;
	json_t *req;

	(void)argc, (void)argv;
	if (!a->rate || !a->burst)
		return xl4_cli_usage_error(cmd, "set needs --rate PPS and --burst N");
	req = json_pack("{s:s, s:I, s:I}", "cmd", verb->request, "rate", (json_int_t)a->rate, "burst",
			(json_int_t)a->burst);
	if (req && a->v6_prefix)
		json_object_set_new(req, "v6_prefix", json_integer(a->v6_prefix));
	return xl4_control_cli_call(xl4_socket(&a->common), req, NULL);
}

/* off and show take no rate */
static int limit_rate_for_set(const struct xl4_cmd *cmd, const struct rule_args *a)
{
	if (a->rate || a->burst || a->v6_prefix)
		return xl4_cli_usage_error(cmd, "--rate, --burst and --v6-prefix are for 'set'");
	return 0;
}

static int limit_off(const struct xl4_cmd *cmd, const struct xl4_verb *verb, void *args, int argc,
		     char **argv)
{
	(void)argc, (void)argv;
	if (limit_rate_for_set(cmd, args))
		return 2;
	return xl4_control_cli_call(xl4_socket(args), json_pack("{s:s}", "cmd", verb->request),
				    NULL);
}

static void print_limit(json_t *l)
{
	if (json_is_true(json_object_get(l, "on")))
		printf("global per-source limit: %lld packets/s, burst %lld, IPv6 sources per /%lld\n"
		       "new sources per second per CPU before sharing a bucket: %lld\n"
		       "matched %lld dropped %lld\n",
		       json_integer_value(json_object_get(l, "rate")),
		       json_integer_value(json_object_get(l, "burst")),
		       json_integer_value(json_object_get(l, "v6_prefix")),
		       json_integer_value(json_object_get(l, "new_sources_per_second")),
		       json_integer_value(json_object_get(json_object_get(l, "counters"), "matched")),
		       json_integer_value(json_object_get(json_object_get(l, "counters"), "dropped")));
	else
		printf("global per-source limit: off\n");
}

static int limit_show(const struct xl4_cmd *cmd, const struct xl4_verb *verb, void *args, int argc,
		      char **argv)
{
	if (limit_rate_for_set(cmd, args))
		return 2;
	return xl4_verb_list(cmd, verb, args, argc, argv);
}

static const struct xl4_opt limit_opts[] = {
	XL4_OPT_SOCKET,
	OPT_RATE("set: packets per second per source"),
	OPT_BURST("set: bucket depth in packets"),
	OPT_V6_PREFIX("set: IPv6 sources share a bucket per /LEN (default 64)"),
	XL4_OPT_JSON("show: print JSON"),
	{ 0 },
};

static const struct xl4_verb limit_verbs[] = {
	{ "set", NULL, 0, 0, limit_set, "limit-set" },
	{ "off", NULL, 0, 0, limit_off, "limit-off" },
	{ "show", NULL, 0, 0, limit_show, "limit-show", "limit", print_limit },
	{ 0 },
};

const struct xl4_cmd xl4_cmd_limit = {
	.name = "limit",
	.args = "set --rate PPS --burst N [--v6-prefix LEN] | off | show",
	.summary = "Set, clear or show the global per-source rate limit.",
	.description =
		"Applies to every packet that no allow rule or list entry let through first\n"
		"(docs/filter.md).\n\n"
		"Examples:\n"
		"  xl4 limit set --rate 1000 --burst 2000 --v6-prefix 64\n"
		"  xl4 limit show\n"
		"  xl4 limit off",
	.opts = limit_opts,
	XL4_ARGS(struct rule_args),
	.verbs = limit_verbs,
};
