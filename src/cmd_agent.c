// SPDX-License-Identifier: GPL-2.0
/* Placeholder: the backend agent command is being written (src/agent.c). */
#include <stdio.h>

#include "commands.h"

static int run_agent(const struct xl4_cmd *cmd, int argc, char **argv)
{
	(void)cmd, (void)argc, (void)argv;
	fprintf(stderr, "xl4 agent: not built yet\n");
	return 1;
}

const struct xl4_cmd xl4_cmd_agent = {
	.name = "agent",
	.summary = "Backend side: undo what the balancer did (decapsulate, restore ports).",
	.run = run_agent,
};
