// SPDX-License-Identifier: GPL-2.0
#include <getopt.h>
#include <stdio.h>

#include "commands.h"
#include "config.h"
#include "guard_state.h"
#include "replay.h"

enum { OPT_JSON = 256, OPT_GUARD_FORCE, OPT_GUARD_LEVEL };

static const struct xl4_opt replay_opts[] = {
	{ "config", 'c', "FILE", "configuration to replay against (default: built-in defaults)" },
	{ "json", OPT_JSON, NULL, "one JSON object per packet (see docs/replay.md)" },
	{ "write", 'w', "FILE", "write every packet not dropped, as xl4 emits it, to a pcap FILE" },
	{ "quiet", 'q', NULL, "print only the summary" },
	{ "guard-force", OPT_GUARD_FORCE, "MODE", "turn the flood guard on, every TCP VIP in mode on (emergency), off or auto" },
	{ "guard-level", OPT_GUARD_LEVEL, "LEVEL", "with --guard-force on: first-drop or challenge" },
	{ 0 },
};

static int run_replay(const struct xl4_cmd *cmd, int argc, char **argv)
{
	struct xl4_replay_opts o = { .guard_force = -1 };
	uint32_t u;
	struct xl4_config cfg;
	char err[XL4_CONFIG_ERR_MAX];
	const char *config = NULL, *arg;
	int c;

	while ((c = xl4_cli_next(cmd, argc, argv, &arg)) != -1) {
		switch (c) {
		case 'c': config = arg; break;
		case OPT_JSON: o.json = true; break;
		case 'w': o.write_path = arg; break;
		case 'q': o.quiet = true; break;
		case OPT_GUARD_FORCE:
			if (xl4_guard_override_parse(arg, &u))
				return xl4_cli_usage_error(cmd, "--guard-force '%s' is not one of: on, off, auto", arg);
			o.guard_force = u;
			break;
		case OPT_GUARD_LEVEL:
			if (xl4_guard_level_parse(arg, &u))
				return xl4_cli_usage_error(cmd, "--guard-level '%s' is not one of: first-drop, challenge", arg);
			o.guard_level = u;
			break;
		case XL4_OPT_HELP: return 0;
		default: return 2;
		}
	}
	if (optind >= argc)
		return xl4_cli_usage_error(cmd, "missing CAPTURE (a pcap file)");
	if (optind + 1 < argc)
		return xl4_cli_usage_error(cmd, "unexpected argument '%s'", argv[optind + 1]);
	o.capture = argv[optind];
	if (o.guard_level && o.guard_force != XL4_GUARD_OV_ON)
		return xl4_cli_usage_error(cmd, "--guard-level goes only with --guard-force on");
	xl4_config_defaults(&cfg);
	if (config && xl4_config_load(config, &cfg, err, sizeof(err))) {
		fprintf(stderr, "xl4: error: %s\n", err);
		return 1;
	}
	/* --guard-force asks what the guard would do: it is on for this replay, whatever the
	 * file says (its other guard settings apply) */
	if (o.guard_force >= 0)
		cfg.guard.enabled = true;
	return xl4_replay(&cfg, &o);
}

const struct xl4_cmd xl4_cmd_replay = {
	.name = "replay",
	.args = "CAPTURE",
	.summary = "Run the real XDP program over every packet of a pcap capture.",
	.description =
		"Uses BPF_PROG_TEST_RUN: no interface, no daemon, private maps (nothing running is\n"
		"touched). Prints each packet's 1-based index, verdict, drop reason and, when the\n"
		"program changed the packet, the output bytes in hex. A summary goes to stderr.\n\n"
		"Examples:\n"
		"  xl4 replay suspicious.pcap\n"
		"  xl4 replay -c /etc/xl4/xl4.conf --json trace.pcap | jq 'select(.verdict==\"drop\")'\n"
		"  xl4 replay -w out.pcap in.pcap\n"
		"  xl4 replay -c xl4.conf --guard-force on --guard-level challenge syn-flood.pcap",
	.opts = replay_opts,
	.run = run_replay,
};
