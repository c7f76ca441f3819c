// SPDX-License-Identifier: GPL-2.0
/* `xl4 cluster ...`: this node's VIP routes for BGP, and draining it (docs/scale-out.md). */
#include <stdio.h>
#include <jansson.h>

#include "cli.h"
#include "commands.h"
#include "control.h"

static const struct xl4_opt cluster_opts[] = {
	XL4_OPT_SOCKET,
	XL4_OPT_JSON("show: print JSON"),
	{ 0 },
};

static long long int_of(json_t *o, const char *key)
{
	return json_integer_value(json_object_get(o, key));
}

static void print_show(json_t *resp)
{
	json_t *c = json_object_get(resp, "cluster"), *v, *r;
	const char *err = json_string_value(json_object_get(c, "route_error"));
	size_t i;

	if (!json_is_true(json_object_get(c, "enabled"))) {
		printf("cluster: off (cluster.route_table not set): this node announces nothing\n");
		return;
	}
	printf("cluster: routes in table %lld (protocol %lld), min_healthy %lld, drain_ms %lld\n",
	       int_of(c, "route_table"), int_of(c, "route_protocol"), int_of(c, "min_healthy"),
	       int_of(c, "drain_ms"));
	printf("node: %s, %s\n",
	       json_is_true(json_object_get(c, "drained")) ? "DRAINED" : "serving",
	       json_is_true(json_object_get(c, "attached")) ? "program attached" :
							      "PROGRAM NOT ATTACHED");
	if (err && *err)
		printf("last route error: %s\n", err);
	printf("routes:");
	json_array_foreach(json_object_get(c, "routes"), i, r)
		printf(" %s", json_string_value(r));
	printf("%s\n", json_array_size(json_object_get(c, "routes")) ? "" : " none");
	json_array_foreach(json_object_get(resp, "vips"), i, v)
		printf("  %-16s %-28s %-9s table %s  %s\n",
		       json_string_value(json_object_get(v, "name")),
		       json_string_value(json_object_get(v, "vip")),
		       json_is_true(json_object_get(v, "announced")) ? "announced" : "withdrawn",
		       json_string_value(json_object_get(v, "table_fingerprint")),
		       json_string_value(json_object_get(v, "announce_reason")));
}

static int drain(const struct xl4_cmd *cmd, const struct xl4_verb *verb, void *args, int argc,
		 char **argv)
{
	json_t *resp;

	(void)cmd, (void)argc, (void)argv;
	if (xl4_control_cli_call(xl4_socket(args), json_pack("{s:s}", "cmd", verb->request), &resp))
		return 1;
	if (json_is_true(json_object_get(resp, "drained")))
		printf("node drained: %lld route(s) withdrawn; it stays drained over restarts until "
		       "'xl4 cluster undrain'\n",
		       int_of(resp, "withdrawn"));
	else
		printf("node serving: %lld route(s) announced\n", int_of(resp, "announced"));
	json_decref(resp);
	return 0;
}

static int check(const struct xl4_cmd *cmd, const struct xl4_verb *verb, const void *args)
{
	const struct xl4_args *a = args;

	if (a->json && verb->run != xl4_verb_list)
		return xl4_cli_usage_error(cmd, "--json goes only with show");
	return 0;
}

static const struct xl4_verb cluster_verbs[] = {
	{ "show", NULL, 0, 0, xl4_verb_list, "cluster-show", NULL, print_show },
	{ "drain", NULL, 0, 0, drain, "cluster-drain" },
	{ "undrain", NULL, 0, 0, drain, "cluster-undrain" },
	{ 0 },
};

const struct xl4_cmd xl4_cmd_cluster = {
	.name = "cluster",
	.args = "show | drain | undrain",
	.summary = "Show this node's VIP routes for BGP; drain it for maintenance and back.",
	.description =
		"With cluster.route_table set, the daemon keeps a route per VIP address in that\n"
		"table while the VIP should draw traffic to this node, for BIRD to announce over\n"
		"BGP (docs/scale-out.md). 'show' lists the routes and, per VIP, whether it is\n"
		"announced and why, with its Maglev table fingerprint (equal on every node that\n"
		"serves the same config). 'drain' withdraws every route while the program keeps\n"
		"forwarding what still arrives, so established flows move to the other nodes without\n"
		"a reset; the drain is kept over daemon restarts until 'undrain'.\n\n"
		"Examples:\n"
		"  xl4 cluster show\n"
		"  xl4 cluster drain\n"
		"  xl4 cluster undrain\n"
		"  xl4 cluster show --json",
	.opts = cluster_opts,
	XL4_ARGS_COMMON,
	.verbs = cluster_verbs,
	.verb_check = check,
};
