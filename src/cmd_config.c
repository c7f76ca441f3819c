// SPDX-License-Identifier: GPL-2.0
/* `xl4 config`: every key of the configuration file, from the rows the parser reads
 * (src/config.c); --markdown and --man print docs/config.md's tables and xl4.conf(5)'s list. */
#include <stdio.h>

#include "commands.h"
#include "config.h"

struct config_args {
	struct xl4_args common;
	bool markdown, man;
};

static const struct xl4_opt config_opts[] = {
	XL4_OPT_FLAG("markdown", 0, struct config_args, markdown,
		     "print Markdown tables (how docs/config.md's are made)"),
	XL4_OPT_FLAG("man", 0, struct config_args, man,
		     "print roff (how xl4.conf(5)'s key list is made)"),
	{ 0 },
};

static int run_config(const struct xl4_cmd *cmd, void *args, int argc, char **argv)
{
	const struct config_args *a = args;

	(void)argc, (void)argv;
	if (a->markdown && a->man)
		return xl4_cli_usage_error(cmd, "--markdown and --man: one at a time");
	(a->markdown ? xl4_conf_markdown : a->man ? xl4_conf_man : xl4_conf_text)(stdout);
	return 0;
}

const struct xl4_cmd xl4_cmd_config = {
	.name = "config",
	.summary = "List every configuration file key with its type, default and range.",
	.opts = config_opts,
	XL4_ARGS(struct config_args),
	.exec = run_config,
};
