// SPDX-License-Identifier: GPL-2.0
/* `xl4 guard ...`: the flood guard's per-VIP mode and verified sources (docs/guard.md). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#include "cli.h"
#include "commands.h"
#include "control.h"

struct guard_args {
	struct xl4_args common;
	const char *level;
};

static const char *const guard_levels[] = { "first-drop", "challenge", NULL };

static const struct xl4_opt guard_opts[] = {
	XL4_OPT_SOCKET,
	XL4_OPT_ENUM("level", 0, "LEVEL", struct guard_args, level, guard_levels,
		     "set ... on: first-drop or challenge (default: guard.response)"),
	XL4_OPT_JSON("show, verified: print JSON"),
	{ 0 },
};

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
	xl4_print_json(resp);
	json_decref(resp);
	return 0;
}

static int show(const struct xl4_cmd *cmd, const struct xl4_verb *verb, void *args, int argc,
		char **argv)
{
	const struct guard_args *a = args;
	json_t *req = json_pack("{s:s}", "cmd", verb->request), *resp, *v, *g;
	size_t i;

	(void)cmd;
	if (argc)
		json_object_set_new(req, "vip", json_string(argv[0]));
	if (xl4_control_cli_call(xl4_socket(&a->common), req, &resp))
		return 1;
	if (a->common.json)
		return print_json_reply(resp);
	g = json_object_get(resp, "guard");
	printf("flood guard: %s, response %s, attack above %lld SYN/s per VIP and ratio %.2f, "
	       "surges from %lld SYN/s (0: none); %lld verified sources; %lld analyzer blocks\n",
	       json_is_true(json_object_get(g, "enabled")) ? "on" : "OFF",
	       json_string_value(json_object_get(g, "response")),
	       json_integer_value(json_object_get(g, "syn_rate")),
	       json_real_value(json_object_get(g, "ratio")),
	       json_integer_value(json_object_get(g, "surge_rate")),
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

static int verified(const struct xl4_cmd *cmd, const struct xl4_verb *verb, void *args, int argc,
		    char **argv)
{
	const struct guard_args *a = args;
	json_t *req, *resp, *s;
	size_t i;

	(void)cmd, (void)argc, (void)argv;
	req = json_pack("{s:s}", "cmd", verb->request);
	if (xl4_control_cli_call(xl4_socket(&a->common), req, &resp))
		return 1;
	if (a->common.json)
		return print_json_reply(resp);
	printf("%lld verified sources and cookie proofs%s\n", json_integer_value(json_object_get(resp, "count")),
	       json_is_true(json_object_get(resp, "listed")) ? "" : " (more than 100: not listed)");
	json_array_foreach(json_object_get(resp, "sources"), i, s) {
		char port[16] = "";

		/* a cookie proof is one port's, for one SYN; First Drop's the whole source's */
		if (json_object_get(s, "port"))
			snprintf(port, sizeof(port), " port %lld",
				 (long long)json_integer_value(json_object_get(s, "port")));
		printf("  %-40s %-10s%-11s %llds left\n", json_string_value(json_object_get(s, "address")),
		       json_string_value(json_object_get(s, "by")) ?: "", port,
		       (long long)json_integer_value(json_object_get(s, "ttl_s")));
	}
	json_decref(resp);
	return 0;
}

static int set(const struct xl4_cmd *cmd, const struct xl4_verb *verb, void *args, int argc,
	       char **argv)
{
	const struct guard_args *a = args;
	json_t *req;

	(void)argc;
	if (strcmp(argv[1], "on") && strcmp(argv[1], "off") && strcmp(argv[1], "auto"))
		return xl4_cli_usage_error(cmd, "mode '%s' is not one of: on, off, auto", argv[1]);
	if (a->level && strcmp(argv[1], "on"))
		return xl4_cli_usage_error(cmd, "--level goes only with mode 'on'");
	req = json_pack("{s:s, s:s, s:s}", "cmd", verb->request, "vip", argv[0], "mode", argv[1]);
	if (a->level)
		json_object_set_new(req, "level", json_string(a->level));
	return xl4_control_cli_call(xl4_socket(&a->common), req, NULL);
}

static int unverify(const struct xl4_cmd *cmd, const struct xl4_verb *verb, void *args, int argc,
		    char **argv)
{
	(void)cmd, (void)argc;
	return xl4_control_cli_call(xl4_socket(args), json_pack("{s:s, s:s}", "cmd", verb->request,
								"address", argv[0]), NULL);
}

/* --level only for set, --json only for what prints: before the arguments are counted */
static int check(const struct xl4_cmd *cmd, const struct xl4_verb *verb, const void *args)
{
	const struct guard_args *a = args;

	if (a->level && verb->run != set)
		return xl4_cli_usage_error(cmd, "--level goes only with 'set VIP on'");
	if (a->common.json && verb->run != show && verb->run != verified)
		return xl4_cli_usage_error(cmd, "--json goes only with show and verified");
	return 0;
}

static const struct xl4_verb guard_verbs[] = {
	{ "set", "VIP on|off|auto [--level first-drop|challenge]", 2, 2, set, "guard-set" },
	{ "show", "[VIP]", 0, 1, show, "guard-show" },
	{ "verified", NULL, 0, 0, verified, "guard-verified" },
	{ "unverify", "ADDR", 1, 1, unverify, "guard-unverify" },
	{ 0 },
};

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
	XL4_ARGS(struct guard_args),
	.verbs = guard_verbs,
	.verb_check = check,
};
