// SPDX-License-Identifier: GPL-2.0
/* `xl4 reasons`: every drop reason with its number and meaning (docs/drop-reasons.md). */
#include <stdio.h>

#include "commands.h"
#include "names.h"

struct reasons_args {
	struct xl4_args common;
	bool markdown;
};

static const struct xl4_opt reasons_opts[] = {
	XL4_OPT_FLAG("markdown", 0, struct reasons_args, markdown,
		     "print a Markdown table (how docs/drop-reasons.md is made)"),
	{ 0 },
};

static int run_reasons(const struct xl4_cmd *cmd, void *args, int argc, char **argv)
{
	bool md = ((const struct reasons_args *)args)->markdown;

	(void)cmd, (void)argc, (void)argv;
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
	XL4_ARGS(struct reasons_args),
	.exec = run_reasons,
};
