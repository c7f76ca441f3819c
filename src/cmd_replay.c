// SPDX-License-Identifier: GPL-2.0
#include <stdio.h>

#include "commands.h"
#include "config.h"
#include "guard_state.h"
#include "replay.h"

struct replay_args {
	struct xl4_args common;
	const char *config, *write, *guard_force, *guard_level;
	bool quiet;
};

static const char *const guard_modes[] = { "on", "off", "auto", NULL };
static const char *const guard_levels[] = { "first-drop", "challenge", NULL };

static const struct xl4_opt replay_opts[] = {
	XL4_OPT_STR("config", 'c', "FILE", struct replay_args, config,
		    "configuration to replay against (default: built-in defaults)"),
	XL4_OPT_JSON("one JSON object per packet (see docs/replay.md)"),
	XL4_OPT_STR("write", 'w', "FILE", struct replay_args, write,
		    "write every packet not dropped, as xl4 emits it, to a pcap FILE"),
	XL4_OPT_FLAG("quiet", 'q', struct replay_args, quiet, "print only the summary"),
	XL4_OPT_ENUM("guard-force", 0, "MODE", struct replay_args, guard_force, guard_modes,
		     "turn the flood guard on, every TCP VIP in mode on (emergency), off or auto"),
	XL4_OPT_ENUM("guard-level", 0, "LEVEL", struct replay_args, guard_level, guard_levels,
		     "with --guard-force on: first-drop or challenge"),
	{ 0 },
};

static int run_replay(const struct xl4_cmd *cmd, void *args, int argc, char **argv)
{
	const struct replay_args *a = args;
	struct xl4_replay_opts o = { .guard_force = -1, .json = a->common.json,
				     .write_path = a->write, .quiet = a->quiet };
	uint32_t u;
	struct xl4_config cfg;
	char err[XL4_CONFIG_ERR_MAX];
	const char *config = a->config;

	/* the rows took only names these parsers know */
	if (a->guard_force && !xl4_guard_override_parse(a->guard_force, &u))
		o.guard_force = u;
	if (a->guard_level && !xl4_guard_level_parse(a->guard_level, &u))
		o.guard_level = u;
	if (argc < 1)
		return xl4_cli_usage_error(cmd, "missing CAPTURE (a pcap file)");
	if (argc > 1)
		return xl4_cli_usage_error(cmd, "unexpected argument '%s'", argv[1]);
	o.capture = argv[0];
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
	XL4_ARGS(struct replay_args),
	.exec = run_replay,
};
