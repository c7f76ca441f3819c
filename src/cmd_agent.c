// SPDX-License-Identifier: GPL-2.0
/* `xl4 agent`: set up, inspect or remove the backend agent (src/agent.c) on one interface. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <net/if.h>

#include "agent.h"
#include "commands.h"
#include "config.h"

struct agent_args {
	struct xl4_args common;
	struct xl4_agent_config c; /* big: xl4_cli_run() keeps it off the stack */
	const char *config;
	bool no_sysctl, remove, status;
};

static bool same_addr(const struct xl4_agent_addr *a, const struct xl4_agent_addr *b)
{
	return a->family == b->family && !memcmp(a->addr, b->addr, sizeof(a->addr));
}

/* Add addr to the VIP set once; 0, or 2 after a usage error. */
static int add_vip(const struct xl4_cmd *cmd, struct xl4_agent_config *c,
		   const struct xl4_agent_addr *addr)
{
	for (int i = 0; i < c->n_vips; i++)
		if (same_addr(&c->vips[i], addr))
			return 0;
	if (c->n_vips == XL4_AGENT_VIPS_MAX)
		return xl4_cli_usage_error(cmd, "at most %d VIPs", XL4_AGENT_VIPS_MAX);
	c->vips[c->n_vips++] = *addr;
	return 0;
}

static int add_port(const struct xl4_cmd *cmd, struct xl4_agent_config *c, const char *spec,
		    const struct xl4_agent_port *p)
{
	for (int i = 0; i < c->n_ports; i++) {
		const struct xl4_agent_port *o = &c->ports[i];

		if (!same_addr(&o->vip, &p->vip) || o->bport != p->bport || o->proto != p->proto)
			continue;
		if (o->vport == p->vport)
			return 0;
		return xl4_cli_usage_error(cmd, "port spec '%s': backend port %u already restores "
					   "to %u for this VIP", spec, p->bport, o->vport);
	}
	if (c->n_ports == XL4_AGENT_PORTS_MAX)
		return xl4_cli_usage_error(cmd, "at most %d port mappings", XL4_AGENT_PORTS_MAX);
	c->ports[c->n_ports++] = *p;
	return 0;
}

static bool same_prefix(const struct xl4_prefix *a, const struct xl4_prefix *b)
{
	return a->family == b->family && a->len == b->len && !memcmp(a->addr, b->addr, sizeof(a->addr));
}

static int add_from(const struct xl4_cmd *cmd, struct xl4_agent_config *c, const struct xl4_prefix *p)
{
	for (int i = 0; i < c->n_from; i++)
		if (same_prefix(&c->from[i], p))
			return 0;
	if (c->n_from == XL4_AGENT_FROM_MAX)
		return xl4_cli_usage_error(cmd, "at most %d outer source prefixes", XL4_AGENT_FROM_MAX);
	c->from[c->n_from++] = *p;
	return 0;
}

/* -c: the balancers' outer sources as their daemon would use them (the file's values or the
 * defaults), the same file the balancers run with. */
static int add_config_sources(const struct xl4_cmd *cmd, struct xl4_agent_config *c, const char *path)
{
	static struct xl4_config cfg; /* big: keep it off the stack */
	struct xl4_prefix p4 = { .family = 4 }, p6 = { .family = 6, .len = 112 };
	char err[XL4_CONFIG_ERR_MAX];
	int rc;

	xl4_config_defaults(&cfg);
	if (xl4_config_load(path, &cfg, err, sizeof(err))) {
		xl4_config_free(&cfg);
		return xl4_cli_usage_error(cmd, "-c: %s", err);
	}
	p4.addr[0] = cfg.lb.ipip_src4;
	p4.len = 32 - __builtin_popcount(cfg.lb.ipip_src4_hostmask);
	memcpy(p6.addr, cfg.lb.ipip_src6, sizeof(p6.addr));
	xl4_config_free(&cfg);
	if ((rc = add_from(cmd, c, &p4)))
		return rc;
	return add_from(cmd, c, &p6);
}

/* The repeated options: each value is checked and added to the set once. */
static int opt_vip(const struct xl4_cmd *cmd, void *args, const char *arg)
{
	struct xl4_agent_addr addr;
	char err[256];

	if (xl4_agent_parse_addr(arg, &addr, err, sizeof(err)))
		return xl4_cli_usage_error(cmd, "%s", err);
	return add_vip(cmd, &((struct agent_args *)args)->c, &addr);
}

static int opt_port(const struct xl4_cmd *cmd, void *args, const char *arg)
{
	struct xl4_agent_port port;
	char err[256];

	if (xl4_agent_parse_port(arg, &port, err, sizeof(err)))
		return xl4_cli_usage_error(cmd, "%s", err);
	return add_port(cmd, &((struct agent_args *)args)->c, arg, &port);
}

static int opt_from(const struct xl4_cmd *cmd, void *args, const char *arg)
{
	struct xl4_prefix pfx;
	char err[256];

	if (xl4_prefix_parse(arg, &pfx, err, sizeof(err)))
		return xl4_cli_usage_error(cmd, "--from: %s", err);
	return add_from(cmd, &((struct agent_args *)args)->c, &pfx);
}

static int opt_to(const struct xl4_cmd *cmd, void *args, const char *arg)
{
	struct xl4_agent_config *c = &((struct agent_args *)args)->c;
	struct xl4_agent_addr addr;
	char err[256];

	if (xl4_agent_parse_local(arg, &addr, err, sizeof(err)))
		return xl4_cli_usage_error(cmd, "--to: %s", err);
	if (c->n_to == XL4_AGENT_TO_MAX)
		return xl4_cli_usage_error(cmd, "at most %d --to addresses", XL4_AGENT_TO_MAX);
	c->to[c->n_to++] = addr;
	return 0;
}

static const struct xl4_opt agent_opts[] = {
	XL4_OPT_STR("interface", 'i', "IFACE", struct agent_args, c.ifname,
		    "the backend's interface toward the balancer (required)"),
	XL4_OPT_FUNC("vip", 0, "ADDR", opt_vip, "a VIP this backend serves (repeat for more)"),
	XL4_OPT_FUNC("port", 0, "SPEC", opt_port,
		     "port mode, VIP:VPORT=BPORT/tcp|udp ([VIP] for IPv6): replies leave as VIP:VPORT"),
	XL4_OPT_FUNC("from", 0, "PREFIX", opt_from,
		     "decapsulate only from these outer sources: the balancers' lb.ipip_source_v4/v6 (repeat)"),
	XL4_OPT_STR("config", 'c', "FILE", struct agent_args, config,
		    "take the outer sources from the balancers' config (lb.ipip_source_v4/v6, or their defaults)"),
	XL4_OPT_FUNC("to", 0, "ADDR", opt_to,
		     "decapsulate only packets to this outer destination (repeat; default: IFACE's addresses now)"),
	XL4_OPT_FLAG("no-decap", 0, struct agent_args, c.no_decap,
		     "l2/port-mode backend: decapsulate nothing, drop every encapsulated packet to a VIP"),
	XL4_OPT_FLAG("no-sysctl", 0, struct agent_args, no_sysctl,
		     "leave arp_ignore, arp_announce and rp_filter alone"),
	XL4_OPT_PIN_PATH("where the agent's maps are pinned (" XL4_AGENT_PIN_ROOT ")"),
	XL4_OPT_FLAG("remove", 0, struct agent_args, remove,
		     "undo the set-up: filters, VIPs on lo, sysctls, pins"),
	XL4_OPT_FLAG("status", 0, struct agent_args, status, "show what is set up and the counters"),
	XL4_OPT_JSON("--status: print one JSON object"),
	{ 0 },
};

static int run_agent(const struct xl4_cmd *cmd, void *args, int argc, char **argv)
{
	struct agent_args *a = args;
	struct xl4_agent_config *c = &a->c;
	const char *pin_env = getenv("XL4_AGENT_PIN_PATH"), *config = a->config;
	bool remove = a->remove, status = a->status, json = a->common.json;
	int rc;

	(void)argc, (void)argv;
	c->sysctl = !a->no_sysctl;
	c->pin_path = a->common.pin_path ?: (pin_env && *pin_env ? pin_env : XL4_AGENT_PIN_ROOT);
	if (!c->ifname)
		return xl4_cli_usage_error(cmd, "which interface? (-i IFACE)");
	if (strlen(c->ifname) >= IF_NAMESIZE)
		return xl4_cli_usage_error(cmd, "interface name '%s' is too long", c->ifname);
	if (c->pin_path[0] != '/')
		return xl4_cli_usage_error(cmd, "--pin-path wants an absolute path, not '%s'", c->pin_path);
	if (remove && status)
		return xl4_cli_usage_error(cmd, "--remove and --status exclude each other");
	if ((remove || status) && (c->n_vips || c->n_ports || c->n_from || c->n_to || config || c->no_decap))
		return xl4_cli_usage_error(cmd, "--%s takes no --vip, --port, --from, -c, --to or --no-decap",
					   remove ? "remove" : "status");
	if (json && !status)
		return xl4_cli_usage_error(cmd, "--json goes with --status");
	if (c->no_decap && (c->n_from || c->n_to || config))
		return xl4_cli_usage_error(cmd, "--no-decap takes no --from, -c or --to");
	if (!if_nametoindex(c->ifname))
		return xl4_cli_usage_error(cmd, "no such interface '%s'", c->ifname);
	if (status)
		return xl4_agent_status(c->ifname, c->pin_path, json, stdout) ? 1 : 0;
	if (remove)
		return xl4_agent_remove(c->ifname, c->pin_path) ? 1 : 0;

	/* a port mapping's VIP is a VIP: it must be on lo for the backend to accept packets */
	for (int i = 0; i < c->n_ports; i++)
		if ((rc = add_vip(cmd, c, &c->ports[i].vip)))
			return rc;
	if (!c->n_vips)
		return xl4_cli_usage_error(cmd, "nothing to set up: give at least one --vip or --port");
	if (config && (rc = add_config_sources(cmd, c, config)))
		return rc;
	/* Secure by default: never decapsulate from anyone. */
	if (!c->n_from && !c->no_decap)
		return xl4_cli_usage_error(cmd, "whom to decapsulate from? give --from PREFIX (the "
					   "balancers' lb.ipip_source_v4/v6), -c XL4.CONF (take them from "
					   "the balancers' config) or --no-decap (l2/port-mode backend)");
	return xl4_agent_setup(c) ? 1 : 0;
}

const struct xl4_cmd xl4_cmd_agent = {
	.name = "agent",
	.summary = "Backend side: undo what the balancer did (decapsulate, restore ports).",
	.description =
		"Sets up a backend once; the set-up stays when the command exits. Attaches two TC\n"
		"programs to IFACE (clsact): ingress strips the outer IPv4/IPv6 header of ipip-mode\n"
		"packets whose inner destination is a VIP (no tunnel module needed), egress sets the\n"
		"source port of port-mode replies back to the VIP port. Puts each VIP on lo (/32, or\n"
		"/128 nodad) and, for IPv4 VIPs, sets arp_ignore=1, arp_announce=2, rp_filter=2\n"
		"(loose) on 'all' and IFACE (the old values are kept for --remove).\n"
		"Decapsulation needs a source set: --from (the balancers' lb.ipip_source_v4/v6), -c\n"
		"(the same, from the balancers' config), or --no-decap for an l2/port-mode backend;\n"
		"with none of them the agent refuses to start. Only packets from those sources to\n"
		"this host's own addresses (--to, default IFACE's addresses at set-up) are\n"
		"decapsulated; any other encapsulated packet to a VIP is dropped and counted\n"
		"(from_rejected, to_rejected, bad_outer in --status), and so is every fragment of a\n"
		"tunnel packet; a congestion mark (CE) on the outer header goes onto the inner one\n"
		"(ecn_dropped when the inner one cannot carry it). Running it again makes the\n"
		"backend match the new command line: VIPs and ports not given any more are removed.\n"
		"Environment: XL4_AGENT_PIN_PATH (default for --pin-path). See docs/agent.md.",
	.opts = agent_opts,
	XL4_ARGS(struct agent_args),
	.exec = run_agent,
	.stop_at_arg = false,
};
