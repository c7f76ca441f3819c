// SPDX-License-Identifier: GPL-2.0
/* `xl4 config`: every key of the configuration file, from the rows the parser reads
 * (src/config.c); --markdown and --man print docs/config.md's tables and xl4.conf(5)'s list. */
#include <getopt.h>
#include <stdio.h>

#include "commands.h"
#include "config.h"

enum { OPT_MARKDOWN = 256, OPT_MAN };

static const struct xl4_opt config_opts[] = {
	{ "markdown", OPT_MARKDOWN, NULL, "print Markdown tables (how docs/config.md's are made)" },
	{ "man", OPT_MAN, NULL, "print roff (how xl4.conf(5)'s key list is made)" },
	{ 0 },
};

static int run_config(const struct xl4_cmd *cmd, int argc, char **argv)
{
	void (*print)(FILE *out) = xl4_conf_text;
	const char *arg;
	int c;

	while ((c = xl4_cli_next(cmd, argc, argv, &arg)) != -1) {
		switch (c) {
		case OPT_MARKDOWN: print = xl4_conf_markdown; break;
		case OPT_MAN: print = xl4_conf_man; break;
		case XL4_OPT_HELP: return 0;
		default: return 2;
		}
	}
	if (optind < argc)
		return xl4_cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
	print(stdout);
	return 0;
}

const struct xl4_cmd xl4_cmd_config = {
	.name = "config",
	.summary = "List every configuration file key with its type, default and range.",
	.opts = config_opts,
	.run = run_config,
};
