// SPDX-License-Identifier: GPL-2.0
/* `xl4 vip ...` and `xl4 backend ...`: runtime load-balancer changes through the daemon. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#include "cli.h"
#include "commands.h"
#include "control.h"

/* ---- vip ---- */

struct vip_args {
	struct xl4_args common;
	const char *mode, *health;
	uint32_t mtu;
	bool reschedule;
};

static const struct xl4_opt vip_opts[] = {
	XL4_OPT_SOCKET,
	XL4_OPT_STR("mode", 'm', "MODE", struct vip_args, mode,
		    "add: forwarding mode l2 (default), port or ipip"),
	XL4_OPT_U32("mtu", 0, "BYTES", struct vip_args, mtu, 596, 9216,
		    "add: largest packet toward backends (ipip; default 1500)"),
	XL4_OPT_STR("health", 0, "KIND", struct vip_args, health,
		    "add: health checks for its backends: tcp, http or none"),
	XL4_OPT_FLAG("reschedule", 0, struct vip_args, reschedule,
		     "add: flows of a backend that goes down move on"),
	XL4_OPT_JSON("list: print JSON"),
	{ 0 },
};

void xl4_print_vips(json_t *vips)
{
	size_t i, j;
	json_t *v, *b;

	json_array_foreach(vips, i, v) {
		json_t *c = json_object_get(v, "counters");

		printf("%s  %s  mode %s  packets %lld  new flows %lld\n",
		       json_string_value(json_object_get(v, "name")),
		       json_string_value(json_object_get(v, "vip")),
		       json_string_value(json_object_get(v, "mode")),
		       json_integer_value(json_object_get(c, "packets")),
		       json_integer_value(json_object_get(c, "new_flows")));
		if (json_object_get(v, "guard"))
			xl4_print_vip_guard(json_object_get(v, "guard"), "    ");
		if (json_object_get(v, "announced")) /* a cluster node (xl4 cluster show) */
			printf("    cluster: %s (%s)  table %s\n",
			       json_is_true(json_object_get(v, "announced")) ? "announced" : "WITHDRAWN",
			       json_string_value(json_object_get(v, "announce_reason")),
			       json_string_value(json_object_get(v, "table_fingerprint")));
		json_array_foreach(json_object_get(v, "backends"), j, b) {
			json_t *bc = json_object_get(b, "counters");

			printf("    %-40s weight %-5lld %-8s packets %lld  new flows %lld\n",
			       json_string_value(json_object_get(b, "address")),
			       json_integer_value(json_object_get(b, "weight")),
			       json_string_value(json_object_get(b, "state")),
			       json_integer_value(json_object_get(bc, "packets")),
			       json_integer_value(json_object_get(bc, "new_flows")));
		}
	}
}

static int vip_add(const struct xl4_cmd *cmd, const struct xl4_verb *verb, void *args, int argc,
		   char **argv)
{
	const struct vip_args *a = args;
	json_t *req = json_pack("{s:s, s:s, s:s}", "cmd", verb->request, "name", argv[0], "address",
				argv[1]);

	(void)cmd, (void)argc;
	if (a->mode)
		json_object_set_new(req, "mode", json_string(a->mode));
	if (a->mtu)
		json_object_set_new(req, "mtu", json_integer(a->mtu));
	if (a->health)
		json_object_set_new(req, "health", json_string(a->health));
	if (a->reschedule)
		json_object_set_new(req, "reschedule", json_true());
	return xl4_control_cli_call(xl4_socket(&a->common), req, NULL);
}

static int vip_del(const struct xl4_cmd *cmd, const struct xl4_verb *verb, void *args, int argc,
		   char **argv)
{
	(void)cmd, (void)argc;
	return xl4_control_cli_call(xl4_socket(args),
				    json_pack("{s:s, s:s}", "cmd", verb->request, "name", argv[0]), NULL);
}

static const struct xl4_verb vip_verbs[] = {
	{ "add", "NAME ADDR:PORT/tcp|udp", 2, 2, vip_add, "vip-add" },
	{ "del", "NAME", 1, 1, vip_del, "vip-del" },
	{ "list", NULL, 0, 0, xl4_verb_list, "vip-list", "vips", xl4_print_vips },
	{ 0 },
};

const struct xl4_cmd xl4_cmd_vip = {
	.name = "vip",
	.args = "add NAME ADDR:PORT/tcp|udp | del NAME | list",
	.summary = "Add, remove or list load-balanced VIPs on the running daemon.",
	.description =
		"Examples:\n"
		"  xl4 vip add web 198.18.1.1:80/tcp --mode l2 --health http\n"
		"  xl4 vip add dns '[2001:db8:1::1]:53/udp' --mode ipip --mtu 1500\n"
		"  xl4 vip list\n"
		"  xl4 vip del web",
	.opts = vip_opts,
	XL4_ARGS(struct vip_args),
	.verbs = vip_verbs,
};

/* ---- backend ---- */

struct backend_args {
	struct xl4_args common;
	const char *mac;
	uint32_t weight;
};

static const struct xl4_opt backend_opts[] = {
	XL4_OPT_SOCKET,
	XL4_OPT_U32("weight", 'w', "N", struct backend_args, weight, 1, 65535,
		    "add: relative share of new flows, 1..65535 (default 1)"),
	XL4_OPT_STR("mac", 0, "MAC", struct backend_args, mac,
		    "add: the backend's MAC (default: from the neighbour table)"),
	{ 0 },
};

static int backend_set_weight(const struct xl4_cmd *cmd, const struct xl4_verb *verb, void *args,
			      int argc, char **argv)
{
	unsigned long weight;

	(void)argc;
	if (xl4_parse_uint(argv[2], 1, 65535, &weight))
		return xl4_cli_verb_usage(cmd, verb);
	return xl4_control_cli_call(xl4_socket(args),
				    json_pack("{s:s, s:s, s:s, s:i}", "cmd", verb->request, "vip", argv[0],
					      "address", argv[1], "weight", (int)weight), NULL);
}

/* add, del, drain, undrain: VIP ADDR[:PORT], and the options as given */
static int backend_change(const struct xl4_cmd *cmd, const struct xl4_verb *verb, void *args,
			  int argc, char **argv)
{
	const struct backend_args *a = args;
	json_t *req = json_pack("{s:s, s:s, s:s}", "cmd", verb->request, "vip", argv[0], "address",
				argv[1]);

	(void)cmd, (void)argc;
	if (a->weight)
		json_object_set_new(req, "weight", json_integer(a->weight));
	if (a->mac)
		json_object_set_new(req, "mac", json_string(a->mac));
	return xl4_control_cli_call(xl4_socket(&a->common), req, NULL);
}

static const struct xl4_verb backend_verbs[] = {
	{ "add", "VIP ADDR[:PORT]", 2, 2, backend_change, "backend-add" },
	{ "del", "VIP ADDR[:PORT]", 2, 2, backend_change, "backend-del" },
	{ "set-weight", "VIP ADDR[:PORT] 1..65535", 3, 3, backend_set_weight, "backend-weight" },
	{ "drain", "VIP ADDR[:PORT]", 2, 2, backend_change, "backend-drain" },
	{ "undrain", "VIP ADDR[:PORT]", 2, 2, backend_change, "backend-undrain" },
	{ 0 },
};
const struct xl4_cmd xl4_cmd_backend = {
	.name = "backend",
	.args = "add|del|drain|undrain VIP ADDR[:PORT] | set-weight VIP ADDR[:PORT] N",
	.summary = "Change a VIP's backends on the running daemon without breaking flows.",
	.description =
		"A drained backend gets no new flows and keeps its existing ones; a removed backend's\n"
		"flows go to the others. Only the changed backend's share of the Maglev table moves.\n\n"
		"Examples:\n"
		"  xl4 backend add web 198.18.2.4 --weight 2\n"
		"  xl4 backend drain web 198.18.2.1\n"
		"  xl4 backend set-weight web 198.18.2.2 3\n"
		"  xl4 backend del web 198.18.2.1",
	.opts = backend_opts,
	XL4_ARGS(struct backend_args),
	.verbs = backend_verbs,
};
