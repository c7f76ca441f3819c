// SPDX-License-Identifier: GPL-2.0
/* `xl4 guard ...`: the flood guard's per-VIP mode and verified sources (docs/guard.md). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#include "cli.h"
#include "commands.h"
#include "control.h"

enum { OPT_JSON = 256, OPT_LEVEL };

static const struct xl4_opt guard_opts[] = {
	{ "socket", 's', "PATH", "control socket (default /run/xl4/xl4.sock, or $XL4_SOCKET)" },
	{ "level", OPT_LEVEL, "LEVEL", "set ... on: first-drop or challenge (default: guard.response)" },
	{ "json", OPT_JSON, NULL, "show, verified: print JSON" },
	{ 0 },
};

static void print_json(json_t *o)
{
	char *s = json_dumps(o, JSON_COMPACT);

	puts(s);
	free(s);
}

/* One VIP's guard line(s), as `xl4 guard show`, `xl4 vip list` and `xl4 status` print them. */
void xl4_print_vip_guard(json_t *g, const char *indent)
{
	json_t *fd = json_object_get(g, "first_drop"), *ch = json_object_get(g, "challenge");
	const char *level = json_string_value(json_object_get(g, "level"));
	const char *cause = json_string_value(json_object_get(g, "cause"));

	if (!g)
		return;
	printf("%sguard: %s%s%s%s  override %s  for %llds  %.0f SYN/s  %.0f ACK/s  ratio %.1f\n",
	       indent, json_string_value(json_object_get(g, "mode")), level ? " (" : "",
	       level ? level : "", level ? ")" : "", json_string_value(json_object_get(g, "override")),
	       (long long)json_integer_value(json_object_get(g, "since_s")),
	       json_real_value(json_object_get(g, "syn_per_s")),
	       json_real_value(json_object_get(g, "ack_per_s")),
	       json_real_value(json_object_get(g, "ratio")));
	printf("%s  why: %s%s%s%s\n", indent, json_string_value(json_object_get(g, "reason")),
	       cause ? " [" : "", cause ? cause : "", cause ? "]" : "");
	printf("%s  first drop: dropped %lld early %lld admitted %lld  challenge: sent %lld passed %lld "
	       "failed %lld budget %lld  verified passes %lld\n",
	       indent, json_integer_value(json_object_get(fd, "dropped")),
	       json_integer_value(json_object_get(fd, "early")),
	       json_integer_value(json_object_get(fd, "admitted")),
	       json_integer_value(json_object_get(ch, "sent")),
	       json_integer_value(json_object_get(ch, "passed")),
	       json_integer_value(json_object_get(ch, "failed")),
	       json_integer_value(json_object_get(ch, "budget")),
	       json_integer_value(json_object_get(g, "verified_pass")));
}

/* --json: the daemon's reply as it came, without its "ok". */
static int print_json_reply(json_t *resp)
{
	json_object_del(resp, "ok");
	print_json(resp);
	json_decref(resp);
	return 0;
}

static int show(const char *sock, const char *vip, int json)
{
	json_t *req = json_pack("{s:s}", "cmd", "guard-show"), *resp, *v, *g;
	size_t i;

	if (vip)
		json_object_set_new(req, "vip", json_string(vip));
	if (xl4_control_cli_call(sock, req, &resp))
		return 1;
	if (json)
		return print_json_reply(resp);
	g = json_object_get(resp, "guard");
	printf("flood guard: %s, response %s, attack above %lld SYN/s per VIP and ratio %.2f; "
	       "%lld verified sources; %lld analyzer blocks\n",
	       json_is_true(json_object_get(g, "enabled")) ? "on" : "OFF",
	       json_string_value(json_object_get(g, "response")),
	       json_integer_value(json_object_get(g, "syn_rate")),
	       json_real_value(json_object_get(g, "ratio")),
	       json_integer_value(json_object_get(g, "verified_sources")),
	       json_integer_value(json_object_get(g, "analyzer_blocks")));
	json_array_foreach(json_object_get(resp, "vips"), i, v) {
		printf("%s  %s\n", json_string_value(json_object_get(v, "name")),
		       json_string_value(json_object_get(v, "vip")));
		xl4_print_vip_guard(json_object_get(v, "guard"), "    ");
	}
	json_decref(resp);
	return 0;
}

static int verified(const char *sock, int json)
{
	json_t *resp, *s;
	size_t i;

	if (xl4_control_cli_call(sock, json_pack("{s:s}", "cmd", "guard-verified"), &resp))
		return 1;
	if (json)
		return print_json_reply(resp);
	printf("%lld verified sources%s\n", json_integer_value(json_object_get(resp, "count")),
	       json_is_true(json_object_get(resp, "listed")) ? "" : " (more than 100: not listed)");
	json_array_foreach(json_object_get(resp, "sources"), i, s)
		printf("  %-40s %llds left\n", json_string_value(json_object_get(s, "address")),
		       (long long)json_integer_value(json_object_get(s, "ttl_s")));
	json_decref(resp);
	return 0;
}

static int run_guard(const struct xl4_cmd *cmd, int argc, char **argv)
{
	const char *sock = xl4_default_socket(), *level = NULL, *arg, *sub;
	int json = 0, c;
	json_t *req;

	while ((c = xl4_cli_next(cmd, argc, argv, &arg)) != -1) {
		switch (c) {
		case 's': sock = arg; break;
		case OPT_LEVEL:
			if (strcmp(arg, "first-drop") && strcmp(arg, "challenge"))
				return xl4_cli_usage_error(cmd, "--level '%s' is not one of: first-drop, challenge", arg);
			level = arg;
			break;
		case OPT_JSON: json = 1; break;
		case XL4_OPT_HELP: return 0;
		default: return 2;
		}
	}
	if (optind >= argc)
		return xl4_cli_usage_error(cmd, "missing action: set, show, verified or unverify");
	sub = argv[optind++];
	if (strcmp(sub, "set") && level)
		return xl4_cli_usage_error(cmd, "--level goes only with 'set VIP on'");
	if (!strcmp(sub, "show")) {
		if (argc - optind > 1)
			return xl4_cli_usage_error(cmd, "usage: xl4 guard show [VIP]");
		return show(sock, optind < argc ? argv[optind] : NULL, json);
	}
	if (!strcmp(sub, "verified")) {
		if (optind < argc)
			return xl4_cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
		return verified(sock, json);
	}
	if (json)
		return xl4_cli_usage_error(cmd, "--json goes only with show and verified");
	if (!strcmp(sub, "set")) {
		if (argc - optind != 2)
			return xl4_cli_usage_error(cmd, "usage: xl4 guard set VIP on|off|auto [--level first-drop|challenge]");
		if (strcmp(argv[optind + 1], "on") && strcmp(argv[optind + 1], "off") &&
		    strcmp(argv[optind + 1], "auto"))
			return xl4_cli_usage_error(cmd, "mode '%s' is not one of: on, off, auto", argv[optind + 1]);
		if (level && strcmp(argv[optind + 1], "on"))
			return xl4_cli_usage_error(cmd, "--level goes only with mode 'on'");
		req = json_pack("{s:s, s:s, s:s}", "cmd", "guard-set", "vip", argv[optind], "mode",
				argv[optind + 1]);
		if (level)
			json_object_set_new(req, "level", json_string(level));
		return xl4_control_cli_call(sock, req, NULL);
	}
	if (!strcmp(sub, "unverify")) {
		if (argc - optind != 1)
			return xl4_cli_usage_error(cmd, "usage: xl4 guard unverify ADDR");
		return xl4_control_cli_call(sock, json_pack("{s:s, s:s}", "cmd", "guard-unverify", "address",
							    argv[optind]), NULL);
	}
	return xl4_cli_usage_error(cmd, "unknown action '%s' (set, show, verified, unverify)", sub);
}

const struct xl4_cmd xl4_cmd_guard = {
	.name = "guard",
	.args = "set VIP on|off|auto | show [VIP] | verified | unverify ADDR",
	.summary = "Show or force the flood guard's mode per VIP; list verified sources.",
	.description =
		"The kernel puts a TCP VIP into emergency mode on its own when client SYNs outrun\n"
		"the ACKs that complete handshakes (see docs/guard.md). 'set VIP on' forces emergency\n"
		"mode (First Drop, or the SYN-ACK challenge with --level challenge), 'off' keeps the\n"
		"VIP out of it, 'auto' gives it back to the kernel's judgement and the analyzer's.\n"
		"VIP is a name or an address as 'xl4 vip list' shows it. 'verified' lists sources\n"
		"that proved themselves, with the seconds left (only the count beyond 100).\n\n"
		"Examples:\n"
		"  xl4 guard show\n"
		"  xl4 guard set web on --level challenge\n"
		"  xl4 guard set 198.18.1.1:80/tcp auto\n"
		"  xl4 guard verified --json\n"
		"  xl4 guard unverify 198.18.7.9",
	.opts = guard_opts,
	.run = run_guard,
};
