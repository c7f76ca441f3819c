// SPDX-License-Identifier: GPL-2.0
/* `xl4 block|allow|rule|limit ...`: runtime filter changes through the daemon. Input is checked
 * here first (so a bad line in a file is named by its line number) and again by the daemon,
 * which applies each request all or nothing. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#include "cli.h"
#include "commands.h"
#include "control.h"
#include "prefix.h"

enum { OPT_JSON = 256, OPT_TTL, OPT_PROTO, OPT_PORT, OPT_ACTION, OPT_RATE, OPT_BURST, OPT_V6 };

#define RATE_MAX 10000000
#define TTL_MAX (10ul * 365 * 24 * 3600)


static void print_json(json_t *v)
{
	char *s = json_dumps(v, JSON_COMPACT);

	puts(s ? s : "null");
	free(s);
}

/* ---- block / allow ---- */

static const struct xl4_opt list_opts[] = {
	{ "socket", 's', "PATH", "control socket (default /run/xl4/xl4.sock, or $XL4_SOCKET)" },
	{ "file", 'f', "FILE", "add/del: read prefixes from FILE ('-' for stdin), one per line" },
	{ "ttl", OPT_TTL, "SECS", "add: the entries expire after SECS seconds (default: never)" },
	{ "json", OPT_JSON, NULL, "list: print JSON" },
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

static int run_list(const struct xl4_cmd *cmd, int argc, char **argv)
{
	const char *sock = xl4_default_socket(), *file = NULL, *arg, *sub;
	unsigned long ttl = 0;
	int json = 0, c;
	char name[32];
	json_t *req, *arr, *resp;

	while ((c = xl4_cli_next(cmd, argc, argv, &arg)) != -1) {
		switch (c) {
		case 's': sock = arg; break;
		case 'f': file = arg; break;
		case OPT_TTL:
			if (xl4_parse_uint(arg, 1, TTL_MAX, &ttl))
				return xl4_cli_usage_error(cmd, "--ttl '%s' is not 1..%lu seconds", arg, TTL_MAX);
			break;
		case OPT_JSON: json = 1; break;
		case XL4_OPT_HELP: return 0;
		default: return 2;
		}
	}
	if (optind >= argc)
		return xl4_cli_usage_error(cmd, "missing action: add, del or list");
	sub = argv[optind++];
	if (!strcmp(sub, "list")) {
		if (optind < argc || file || ttl)
			return xl4_cli_usage_error(cmd, "list takes no arguments besides --json");
		snprintf(name, sizeof(name), "%s-list", cmd->name);
		if (xl4_control_cli_call(sock, json_pack("{s:s}", "cmd", name), &resp))
			return 1;
		if (json)
			print_json(json_object_get(resp, "entries"));
		else
			print_entries(json_object_get(resp, "entries"));
		json_decref(resp);
		return 0;
	}
	if (strcmp(sub, "add") && strcmp(sub, "del"))
		return xl4_cli_usage_error(cmd, "unknown action '%s' (add, del, list)", sub);
	if (!strcmp(sub, "del") && ttl)
		return xl4_cli_usage_error(cmd, "--ttl is for add");
	if (optind >= argc && !file)
		return xl4_cli_usage_error(cmd, "%s needs prefixes, or -f FILE", sub);
	arr = json_array();
	for (int i = optind; i < argc; i++) {
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
	snprintf(name, sizeof(name), "%s-%s", cmd->name, sub);
	req = json_pack("{s:s, s:o}", "cmd", name, "prefixes", arr);
	if (req && ttl)
		json_object_set_new(req, "ttl", json_integer(ttl));
	return xl4_control_cli_call(sock, req, NULL);
}

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
	.run = run_list,
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
	.run = run_list,
};

/* ---- rule ---- */

static const struct xl4_opt rule_opts[] = {
	{ "socket", 's', "PATH", "control socket (default /run/xl4/xl4.sock, or $XL4_SOCKET)" },
	{ "proto", OPT_PROTO, "PROTO", "add: tcp, udp, icmp, icmpv6 or any (default any)" },
	{ "port", OPT_PORT, "P|LO-HI", "add: destination port or range (tcp, udp or any)" },
	{ "action", OPT_ACTION, "ACTION", "add: allow, drop or limit" },
	{ "rate", OPT_RATE, "PPS", "add, limit: packets per second per source" },
	{ "burst", OPT_BURST, "N", "add, limit: bucket depth in packets" },
	{ "v6-prefix", OPT_V6, "LEN", "add, limit: IPv6 sources share a bucket per /LEN (default 64)" },
	{ "json", OPT_JSON, NULL, "list: print JSON" },
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

static int run_rule(const struct xl4_cmd *cmd, int argc, char **argv)
{
	const char *sock = xl4_default_socket(), *proto = NULL, *port = NULL, *action = NULL;
	const char *arg, *sub;
	unsigned long rate = 0, burst = 0, v6 = 0, id;
	int json = 0, c;
	json_t *req, *resp;

	while ((c = xl4_cli_next(cmd, argc, argv, &arg)) != -1) {
		switch (c) {
		case 's': sock = arg; break;
		case OPT_PROTO: proto = arg; break;
		case OPT_PORT: port = arg; break;
		case OPT_ACTION: action = arg; break;
		case OPT_RATE:
			if (xl4_parse_uint(arg, 1, RATE_MAX, &rate))
				return xl4_cli_usage_error(cmd, "--rate '%s' is not 1..%d", arg, RATE_MAX);
			break;
		case OPT_BURST:
			if (xl4_parse_uint(arg, 1, RATE_MAX, &burst))
				return xl4_cli_usage_error(cmd, "--burst '%s' is not 1..%d", arg, RATE_MAX);
			break;
		case OPT_V6:
			if (xl4_parse_uint(arg, 1, 128, &v6))
				return xl4_cli_usage_error(cmd, "--v6-prefix '%s' is not 1..128", arg);
			break;
		case OPT_JSON: json = 1; break;
		case XL4_OPT_HELP: return 0;
		default: return 2;
		}
	}
	if (optind >= argc)
		return xl4_cli_usage_error(cmd, "missing action: add, del or list");
	sub = argv[optind++];
	if (!strcmp(sub, "list")) {
		if (optind < argc)
			return xl4_cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
		if (xl4_control_cli_call(sock, json_pack("{s:s}", "cmd", "rule-list"), &resp))
			return 1;
		if (json)
			print_json(json_object_get(resp, "rules"));
		else
			print_rules(json_object_get(resp, "rules"));
		json_decref(resp);
		return 0;
	}
	if (!strcmp(sub, "del")) {
		if (argc - optind != 1 || xl4_parse_uint(argv[optind], 1, 65535, &id))
			return xl4_cli_usage_error(cmd, "usage: xl4 rule del ID (from 'xl4 rule list')");
		return xl4_control_cli_call(sock, json_pack("{s:s, s:I}", "cmd", "rule-del", "id", (json_int_t)id), NULL);
	}
	if (strcmp(sub, "add"))
		return xl4_cli_usage_error(cmd, "unknown action '%s' (add, del, list)", sub);
	if (argc - optind != 1)
		return xl4_cli_usage_error(cmd, "usage: xl4 rule add DST --action allow|drop|limit [...]");
	if (!action)
		return xl4_cli_usage_error(cmd, "add needs --action allow, drop or limit");
	req = json_pack("{s:s, s:s, s:s}", "cmd", "rule-add", "dst", argv[optind], "action", action);
	if (req && proto)
		json_object_set_new(req, "proto", json_string(proto));
	if (req && port)
		json_object_set_new(req, "ports", json_string(port));
	if (req && rate)
		json_object_set_new(req, "rate", json_integer(rate));
	if (req && burst)
		json_object_set_new(req, "burst", json_integer(burst));
	if (req && v6)
		json_object_set_new(req, "v6_prefix", json_integer(v6));
	if (xl4_control_cli_call(sock, req, &resp))
		return 1;
	printf("%lld\n", json_integer_value(json_object_get(resp, "id")));
	json_decref(resp);
	return 0;
}

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
	.run = run_rule,
};

/* ---- limit ---- */

static int run_limit(const struct xl4_cmd *cmd, int argc, char **argv)
{
	const char *sock = xl4_default_socket(), *arg, *sub;
	unsigned long rate = 0, burst = 0, v6 = 0;
	int json = 0, c;
	json_t *req, *resp, *l;

	while ((c = xl4_cli_next(cmd, argc, argv, &arg)) != -1) {
		switch (c) {
		case 's': sock = arg; break;
		case OPT_RATE:
			if (xl4_parse_uint(arg, 1, RATE_MAX, &rate))
				return xl4_cli_usage_error(cmd, "--rate '%s' is not 1..%d", arg, RATE_MAX);
			break;
		case OPT_BURST:
			if (xl4_parse_uint(arg, 1, RATE_MAX, &burst))
				return xl4_cli_usage_error(cmd, "--burst '%s' is not 1..%d", arg, RATE_MAX);
			break;
		case OPT_V6:
			if (xl4_parse_uint(arg, 1, 128, &v6))
				return xl4_cli_usage_error(cmd, "--v6-prefix '%s' is not 1..128", arg);
			break;
		case OPT_JSON: json = 1; break;
		case XL4_OPT_HELP: return 0;
		case OPT_PROTO: case OPT_PORT: case OPT_ACTION:
			return xl4_cli_usage_error(cmd, "that option is for 'xl4 rule add'");
		default: return 2;
		}
	}
	if (optind >= argc)
		return xl4_cli_usage_error(cmd, "missing action: set, off or show");
	sub = argv[optind++];
	if (optind < argc)
		return xl4_cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
	if (!strcmp(sub, "set")) {
		if (!rate || !burst)
			return xl4_cli_usage_error(cmd, "set needs --rate PPS and --burst N");
		req = json_pack("{s:s, s:I, s:I}", "cmd", "limit-set", "rate", (json_int_t)rate,
				"burst", (json_int_t)burst);
		if (req && v6)
			json_object_set_new(req, "v6_prefix", json_integer(v6));
		return xl4_control_cli_call(sock, req, NULL);
	}
	if (rate || burst || v6)
		return xl4_cli_usage_error(cmd, "--rate, --burst and --v6-prefix are for 'set'");
	if (!strcmp(sub, "off"))
		return xl4_control_cli_call(sock, json_pack("{s:s}", "cmd", "limit-off"), NULL);
	if (strcmp(sub, "show"))
		return xl4_cli_usage_error(cmd, "unknown action '%s' (set, off, show)", sub);
	if (xl4_control_cli_call(sock, json_pack("{s:s}", "cmd", "limit-show"), &resp))
		return 1;
	l = json_object_get(resp, "limit");
	if (json)
		print_json(l);
	else if (json_is_true(json_object_get(l, "on")))
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
	json_decref(resp);
	return 0;
}

static const struct xl4_opt limit_opts[] = {
	{ "socket", 's', "PATH", "control socket (default /run/xl4/xl4.sock, or $XL4_SOCKET)" },
	{ "rate", OPT_RATE, "PPS", "set: packets per second per source" },
	{ "burst", OPT_BURST, "N", "set: bucket depth in packets" },
	{ "v6-prefix", OPT_V6, "LEN", "set: IPv6 sources share a bucket per /LEN (default 64)" },
	{ "json", OPT_JSON, NULL, "show: print JSON" },
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
	.run = run_limit,
};
