// SPDX-License-Identifier: GPL-2.0
/* `xl4 reasons`: every drop reason with its number and meaning (docs/drop-reasons.md). */
#include <getopt.h>
#include <stdio.h>

#include "commands.h"
#include "names.h"

enum { OPT_MARKDOWN = 256 };

static const struct xl4_opt reasons_opts[] = {
	{ "markdown", OPT_MARKDOWN, NULL, "print a Markdown table (how docs/drop-reasons.md is made)" },
	{ 0 },
};

static int run_reasons(const struct xl4_cmd *cmd, int argc, char **argv)
{
	const char *arg;
	int md = 0, c;

	while ((c = xl4_cli_next(cmd, argc, argv, &arg)) != -1) {
		switch (c) {
		case OPT_MARKDOWN: md = 1; break;
		case XL4_OPT_HELP: return 0;
		default: return 2;
		}
	}
	if (optind < argc)
		return xl4_cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
	if (md)
		printf("| # | reason | meaning |\n|---|---|---|\n");
	for (unsigned r = 1; r < XL4_REASON_MAX; r++) {
		if (md)
			printf("| %u | `%s` | %s |\n", r, xl4_reason_name(r), xl4_reason_text(r));
		else
			printf("%3u  %-22s %s\n", r, xl4_reason_name(r), xl4_reason_text(r));
	}
	return 0;
}

const struct xl4_cmd xl4_cmd_reasons = {
	.name = "reasons",
	.summary = "List every drop reason with its number and meaning.",
	.opts = reasons_opts,
	.run = run_reasons,
};
