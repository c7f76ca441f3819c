// SPDX-License-Identifier: GPL-2.0
#include <getopt.h>
#include <stdio.h>

#include "commands.h"
#include "config.h"
#include "replay.h"

enum { OPT_JSON = 256 };

static const struct xl4_opt replay_opts[] = {
	{ "config", 'c', "FILE", "configuration to replay against (default: built-in defaults)" },
	{ "json", OPT_JSON, NULL, "one JSON object per packet (see docs/replay.md)" },
	{ "write", 'w', "FILE", "write every packet not dropped, as xl4 emits it, to a pcap FILE" },
	{ "quiet", 'q', NULL, "print only the summary" },
	{ 0 },
};

static int run_replay(const struct xl4_cmd *cmd, int argc, char **argv)
{
	struct xl4_replay_opts o = { 0 };
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
		case XL4_OPT_HELP: return 0;
		default: return 2;
		}
	}
	if (optind >= argc)
		return xl4_cli_usage_error(cmd, "missing CAPTURE (a pcap file)");
	if (optind + 1 < argc)
		return xl4_cli_usage_error(cmd, "unexpected argument '%s'", argv[optind + 1]);
	o.capture = argv[optind];
	xl4_config_defaults(&cfg);
	if (config && xl4_config_load(config, &cfg, err, sizeof(err))) {
		fprintf(stderr, "xl4: error: %s\n", err);
		return 1;
	}
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
		"  xl4 replay -w out.pcap in.pcap",
	.opts = replay_opts,
	.run = run_replay,
};
