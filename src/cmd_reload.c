// SPDX-License-Identifier: GPL-2.0
/* `xl4 reload`: the daemon re-reads its config file (as on SIGHUP) and says how it went. */
#include <stdio.h>
#include <jansson.h>

#include "commands.h"
#include "control.h"

static const struct xl4_opt reload_opts[] = {
	XL4_OPT_SOCKET,
	{ 0 },
};

static int run_reload(const struct xl4_cmd *cmd, void *args, int argc, char **argv)
{
	const struct xl4_args *a = args;
	json_t *resp = NULL;
	int rc;

	(void)cmd, (void)argc, (void)argv;
	rc = xl4_control_cli_call(xl4_socket(a), json_pack("{s:s}", "cmd", "reload"), &resp);
	if (rc)
		return rc;
	printf("reloaded %s in %.1f ms: %lld VIPs, %lld rules\n",
	       json_string_value(json_object_get(resp, "config")),
	       json_real_value(json_object_get(resp, "ms")),
	       json_integer_value(json_object_get(resp, "vips")),
	       json_integer_value(json_object_get(resp, "rules")));
	json_decref(resp);
	return 0;
}

const struct xl4_cmd xl4_cmd_reload = {
	.name = "reload",
	.summary = "Re-read the daemon's config file and apply what changed, without a restart.",
	.description =
		"The daemon parses and checks the whole file first; on any error it keeps the\n"
		"running configuration and the error (FILE:LINE: KEY: problem) is printed here and\n"
		"logged. Settings that only a restart can change are refused by name (\"needs\n"
		"restart: lb.table_size\"). VIPs and backends change through the usual table flip,\n"
		"so unchanged VIPs keep every flow; lists and rules swap all at once. SIGHUP does\n"
		"the same. See docs/operations.md.\n\n"
		"Exit status: 0 applied; 1 refused (nothing changed), stopped part-way (the kernel\n"
		"refused a write: the message names what was applied before it; reloading again\n"
		"applies the rest), or no daemon; 2 usage.",
	.opts = reload_opts,
	XL4_ARGS_COMMON,
	.exec = run_reload,
};
