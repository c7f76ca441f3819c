// SPDX-License-Identifier: GPL-2.0
/* `xl4 vip ...` and `xl4 backend ...`: runtime load-balancer changes through the daemon. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#include "cli.h"
#include "commands.h"
#include "control.h"

enum { OPT_JSON = 256, OPT_MTU, OPT_HEALTH, OPT_RESCHEDULE };


/* ---- vip ---- */

static const struct xl4_opt vip_opts[] = {
	{ "socket", 's', "PATH", "control socket (default /run/xl4/xl4.sock, or $XL4_SOCKET)" },
	{ "mode", 'm', "MODE", "add: forwarding mode l2 (default), port or ipip" },
	{ "mtu", OPT_MTU, "BYTES", "add: largest packet toward backends (ipip; default 1500)" },
	{ "health", OPT_HEALTH, "KIND", "add: health checks for its backends: tcp, http or none" },
	{ "reschedule", OPT_RESCHEDULE, NULL, "add: flows of a backend that goes down move on" },
	{ "json", OPT_JSON, NULL, "list: print JSON" },
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

static int run_vip(const struct xl4_cmd *cmd, int argc, char **argv)
{
	const char *sock = xl4_default_socket(), *mode = NULL, *health = NULL, *arg, *sub;
	unsigned long mtu = 0;
	int json = 0, resched = 0, c;
	json_t *req, *resp;

	while ((c = xl4_cli_next(cmd, argc, argv, &arg)) != -1) {
		switch (c) {
		case 's': sock = arg; break;
		case 'm': mode = arg; break;
		case OPT_MTU:
			if (xl4_parse_uint(arg, 596, 9216, &mtu))
				return xl4_cli_usage_error(cmd, "--mtu '%s' is not 596..9216", arg);
			break;
		case OPT_HEALTH: health = arg; break;
		case OPT_RESCHEDULE: resched = 1; break;
		case OPT_JSON: json = 1; break;
		case XL4_OPT_HELP: return 0;
		default: return 2;
		}
	}
	if (optind >= argc)
		return xl4_cli_usage_error(cmd, "missing action: add, del or list");
	sub = argv[optind++];
	if (!strcmp(sub, "list")) {
		if (optind < argc)
			return xl4_cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
		if (xl4_control_cli_call(sock, json_pack("{s:s}", "cmd", "vip-list"), &resp))
			return 1;
		if (json) {
			char *s = json_dumps(json_object_get(resp, "vips"), JSON_COMPACT);

			puts(s);
			free(s);
		} else {
			xl4_print_vips(json_object_get(resp, "vips"));
		}
		json_decref(resp);
		return 0;
	}
	if (!strcmp(sub, "add")) {
		if (argc - optind != 2)
			return xl4_cli_usage_error(cmd, "usage: xl4 vip add NAME ADDR:PORT/tcp|udp");
		req = json_pack("{s:s, s:s, s:s}", "cmd", "vip-add", "name", argv[optind], "address",
				argv[optind + 1]);
		if (mode)
			json_object_set_new(req, "mode", json_string(mode));
		if (mtu)
			json_object_set_new(req, "mtu", json_integer(mtu));
		if (health)
			json_object_set_new(req, "health", json_string(health));
		if (resched)
			json_object_set_new(req, "reschedule", json_true());
		return xl4_control_cli_call(sock, req, NULL);
	}
	if (!strcmp(sub, "del")) {
		if (argc - optind != 1)
			return xl4_cli_usage_error(cmd, "usage: xl4 vip del NAME");
		return xl4_control_cli_call(sock, json_pack("{s:s, s:s}", "cmd", "vip-del", "name", argv[optind]), NULL);
	}
	return xl4_cli_usage_error(cmd, "unknown action '%s' (add, del, list)", sub);
}

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
	.run = run_vip,
};

/* ---- backend ---- */

static const struct xl4_opt backend_opts[] = {
	{ "socket", 's', "PATH", "control socket (default /run/xl4/xl4.sock, or $XL4_SOCKET)" },
	{ "weight", 'w', "N", "add: relative share of new flows, 1..65535 (default 1)" },
	{ "mac", OPT_MTU, "MAC", "add: the backend's MAC (default: from the neighbour table)" },
	{ 0 },
};

static int run_backend(const struct xl4_cmd *cmd, int argc, char **argv)
{
	const char *sock = xl4_default_socket(), *mac = NULL, *arg, *sub;
	unsigned long weight = 0;
	json_t *req;
	int c;

	while ((c = xl4_cli_next(cmd, argc, argv, &arg)) != -1) {
		switch (c) {
		case 's': sock = arg; break;
		case 'w':
			if (xl4_parse_uint(arg, 1, 65535, &weight))
				return xl4_cli_usage_error(cmd, "--weight '%s' is not 1..65535", arg);
			break;
		case OPT_MTU: mac = arg; break;
		case XL4_OPT_HELP: return 0;
		default: return 2;
		}
	}
	if (optind >= argc)
		return xl4_cli_usage_error(cmd, "missing action: add, del, set-weight, drain, undrain");
	sub = argv[optind++];
	if (!strcmp(sub, "set-weight")) {
		if (argc - optind != 3 || xl4_parse_uint(argv[optind + 2], 1, 65535, &weight))
			return xl4_cli_usage_error(cmd, "usage: xl4 backend set-weight VIP ADDR[:PORT] 1..65535");
		req = json_pack("{s:s, s:s, s:s, s:i}", "cmd", "backend-weight", "vip", argv[optind],
				"address", argv[optind + 1], "weight", (int)weight);
		return xl4_control_cli_call(sock, req, NULL);
	}
	if (argc - optind != 2)
		return xl4_cli_usage_error(cmd, "usage: xl4 backend %s VIP ADDR[:PORT]", sub);
	if (!strcmp(sub, "add"))
		req = json_pack("{s:s}", "cmd", "backend-add");
	else if (!strcmp(sub, "del"))
		req = json_pack("{s:s}", "cmd", "backend-del");
	else if (!strcmp(sub, "drain"))
		req = json_pack("{s:s}", "cmd", "backend-drain");
	else if (!strcmp(sub, "undrain"))
		req = json_pack("{s:s}", "cmd", "backend-undrain");
	else
		return xl4_cli_usage_error(cmd, "unknown action '%s' (add, del, set-weight, drain, undrain)", sub);
	json_object_set_new(req, "vip", json_string(argv[optind]));
	json_object_set_new(req, "address", json_string(argv[optind + 1]));
	if (weight)
		json_object_set_new(req, "weight", json_integer(weight));
	if (mac)
		json_object_set_new(req, "mac", json_string(mac));
	return xl4_control_cli_call(sock, req, NULL);
}

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
	.run = run_backend,
};
