// SPDX-License-Identifier: GPL-2.0
/* xl4: one binary, subcommands in the style of ip(8) and bpftool(8). */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <jansson.h>

#include "commands.h"
#include "log.h"
#include "version.h"

static const struct xl4_cmd *const commands[] = {
	&xl4_cmd_daemon, &xl4_cmd_reload, &xl4_cmd_detach, &xl4_cmd_status, &xl4_cmd_stats, &xl4_cmd_top, &xl4_cmd_events,
	&xl4_cmd_replay, &xl4_cmd_cleanup, &xl4_cmd_check, &xl4_cmd_reasons, &xl4_cmd_config,
	&xl4_cmd_vip, &xl4_cmd_backend, &xl4_cmd_block, &xl4_cmd_allow,
	&xl4_cmd_rule, &xl4_cmd_limit, &xl4_cmd_guard, &xl4_cmd_cluster, &xl4_cmd_agent, NULL,
};

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: xl4 [-v|-vv] COMMAND [OPTIONS] [ARGS]\n\n"
		"xl4 is an inline L4 traffic engine at XDP: every packet is parsed strictly (malformed\n"
		"ones dropped with a counted reason), filtered (allow/block lists, rules, per-source\n"
		"rate limits), guarded against SYN floods and load-balanced to VIP backends with\n"
		"direct server return.\n\n"
		"Commands:\n");
	for (int i = 0; commands[i]; i++)
		fprintf(out, "  %-10s %s\n", commands[i]->name, commands[i]->summary);
	fprintf(out, "  %-10s %s\n  %-10s %s\n", "help", "'xl4 help COMMAND' shows a command's options",
		"version", "print the version");
	fprintf(out, "\nGlobal options:\n  -v, --verbose   more logging (repeat for debug)\n"
		     "  -h, --help      this help\n"
		     "\nEnvironment: XL4_SOCKET (control socket), XL4_PIN_PATH (pinned maps).\n");
}

static const struct xl4_cmd *find(const char *name)
{
	for (int i = 0; commands[i]; i++)
		if (!strcmp(commands[i]->name, name))
			return commands[i];
	return NULL;
}

int main(int argc, char **argv)
{
	const struct xl4_cmd *cmd;
	int verbosity = XL4_LOG_INFO, i = 1;

	for (; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "-v") || !strcmp(argv[i], "--verbose")) {
			verbosity++;
		} else if (!strcmp(argv[i], "-vv")) {
			verbosity += 2;
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(argv[i], "--version")) {
			printf("xl4 %s\n", XL4_VERSION);
			return 0;
		} else {
			fprintf(stderr, "xl4: unknown option '%s'; see 'xl4 --help'\n", argv[i]);
			return 2;
		}
	}
	xl4_log_init(verbosity);
	/* Arguments travel as JSON strings to the daemon: refuse what JSON cannot carry. */
	for (int a = i; a < argc; a++) {
		json_t *t = json_string(argv[a]);

		if (!t) {
			fprintf(stderr, "xl4: argument %d is not valid UTF-8\n", a);
			return 2;
		}
		json_decref(t);
	}
	if (i >= argc) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[i], "version")) {
		printf("xl4 %s\n", XL4_VERSION);
		return 0;
	}
	if (!strcmp(argv[i], "help")) {
		if (i + 1 >= argc) {
			usage(stdout);
			return 0;
		}
		cmd = find(argv[i + 1]);
		if (!cmd) {
			fprintf(stderr, "xl4: unknown command '%s'; see 'xl4 --help'\n", argv[i + 1]);
			return 2;
		}
		xl4_cli_help(cmd, stdout);
		return 0;
	}
	cmd = find(argv[i]);
	if (!cmd) {
		fprintf(stderr, "xl4: unknown command '%s'; see 'xl4 --help'\n", argv[i]);
		return 2;
	}
	optind = 1; /* the command sees argv starting at its own name */
	return xl4_cli_run(cmd, argc - i, argv + i);
}
