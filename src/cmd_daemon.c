// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "config.h"
#include "daemon.h"
#include "log.h"

struct daemon_args {
	struct xl4_args common;
	const char *config, *mode, *group;
	const char *ifaces[XL4_MAX_IFACES];
	int n_if;
	bool detach_on_exit, upgrade;
};

static int add_iface(const struct xl4_cmd *cmd, void *args, const char *arg)
{
	struct daemon_args *a = args;

	if (a->n_if == XL4_MAX_IFACES)
		return xl4_cli_usage_error(cmd, "at most %d interfaces", XL4_MAX_IFACES);
	a->ifaces[a->n_if++] = arg;
	return 0;
}

static int more_verbose(const struct xl4_cmd *cmd, void *args, const char *arg)
{
	(void)cmd, (void)args, (void)arg;
	xl4_log_init(xl4_verbosity + 1);
	return 0;
}

static const struct xl4_opt daemon_opts[] = {
	XL4_OPT_STR("config", 'c', "FILE", struct daemon_args, config,
		    "configuration file (see xl4.conf(5), examples/xl4.conf)"),
	XL4_OPT_FUNC("interface", 'i', "IFACE", add_iface,
		     "attach to IFACE (repeatable; replaces the config's list)"),
	XL4_OPT_STR("mode", 'm', "MODE", struct daemon_args, mode,
		    "XDP mode: auto (native, else generic with a warning), native, skb"),
	XL4_OPT_SOCKET,
	XL4_OPT_PIN_PATH("pin maps under DIR (default /sys/fs/bpf/xl4, or $XL4_PIN_PATH)"),
	XL4_OPT_STR("socket-group", 0, "GROUP", struct daemon_args, group,
		    "let GROUP use the control socket (0660, directory 0750); pins stay root-only"),
	XL4_OPT_FLAG("detach-on-exit", 0, struct daemon_args, detach_on_exit,
		     "on SIGTERM/SIGINT, detach (default: the program keeps handling traffic)"),
	XL4_OPT_FLAG("upgrade", 0, struct daemon_args, upgrade,
		     "swap in this build's program even if the running one matches"),
	XL4_OPT_FUNC("verbose", 'v', NULL, more_verbose, "more logging (-vv: debug and libbpf messages)"),
	{ 0 },
};

static int run_daemon(const struct xl4_cmd *cmd, void *args, int argc, char **argv)
{
	const struct daemon_args *a = args;
	struct xl4_config cfg;
	struct xl4_daemon_opts dopts = { .detach_on_exit = a->detach_on_exit, .upgrade = a->upgrade };
	const char *config = a->config, *mode = a->mode, *sock = a->common.socket;
	const char *pins = a->common.pin_path, *group = a->group;
	char err[XL4_CONFIG_ERR_MAX];

	(void)argc, (void)argv;

	/* From here on the output is the daemon's log: structured lines (docs/operations-logging.md). */
	xl4_log_set_structured(true);
	xl4_config_defaults(&cfg);
	if (config && xl4_config_load(config, &cfg, err, sizeof(err))) {
		struct xl4_kv kv = XL4_KV_INIT;

		xl4_kv(&kv, "error", "%.400s", err);
		xl4_log_event(XL4_LOG_WARN, "config_error", &kv);
		return 1;
	}
	xl4_config_from_env(&cfg);
	/* Command-line options win over the file and the environment. */
	if (a->n_if) {
		cfg.cli_set |= XL4_CLI_IFACES;
		cfg.n_ifaces = 0;
		for (int i = 0; i < a->n_if; i++)
			if (xl4_config_add_iface(&cfg, a->ifaces[i], err, sizeof(err)))
				return xl4_cli_usage_error(cmd, "%s", err);
	}
	if (mode && xl4_mode_parse(mode, &cfg.mode))
		return xl4_cli_usage_error(cmd, "mode '%s' is not one of: auto, native, skb", mode);
	if (mode)
		cfg.cli_set |= XL4_CLI_MODE;
	if (sock) {
		if (strlen(sock) >= sizeof(cfg.control_socket))
			return xl4_cli_usage_error(cmd, "socket path too long");
		if (sock[0] != '/')
			return xl4_cli_usage_error(cmd, "--socket must be an absolute path");
		strcpy(cfg.control_socket, sock);
		cfg.cli_set |= XL4_CLI_SOCKET;
	}
	if (pins) {
		if (xl4_config_set_pin_path(&cfg, pins))
			return xl4_cli_usage_error(cmd, "--pin-path must be a directory under /sys/fs/bpf/");
		cfg.cli_set |= XL4_CLI_PIN_PATH;
	}
	if (group && xl4_socket_group_parse(group, &cfg, err, sizeof(err)))
		return xl4_cli_usage_error(cmd, "--socket-group: %s", err);
	if (group)
		cfg.cli_set |= XL4_CLI_SOCKET_GROUP;
	if (cfg.n_ifaces == 0)
		return xl4_cli_usage_error(cmd, "no interface: give -i IFACE or 'interfaces' in the config");
	if (xl4_config_paths_check(&cfg, true, err, sizeof(err))) {
		struct xl4_kv kv = XL4_KV_INIT;

		xl4_kv(&kv, "error", "%.400s", err);
		xl4_log_event(XL4_LOG_WARN, "config_error", &kv);
		return 1;
	}
	return xl4_daemon_run(&cfg, &dopts);
}

const struct xl4_cmd xl4_cmd_daemon = {
	.name = "daemon",
	.summary = "Load the XDP engine, attach it to interfaces and serve the control socket.",
	.description =
		"Checks the kernel's features, mounts bpffs on /sys/fs/bpf if needed, loads the\n"
		"program, pins its shared maps (versioned names, e.g. xl4_stats_v1) under the pin\n"
		"path, attaches in native XDP mode (or generic, with a warning, when the driver has\n"
		"none) and runs in the foreground until SIGINT or SIGTERM.\n\n"
		"The program stays attached when the daemon stops (SIGTERM, SIGINT, SIGKILL, a\n"
		"crash): traffic is still handled. A new daemon adopts it and its pinned maps (the\n"
		"same build and load-time settings), or loads its own and swaps it in atomically;\n"
		"no flow is lost. Only --detach-on-exit or 'xl4 detach' stop traffic handling.\n"
		"SIGHUP and 'xl4 reload' re-read the config file. 'xl4 cleanup' removes the pins.\n"
		"See docs/operations.md.\n\n"
		"Examples:\n"
		"  xl4 daemon -i eth0\n"
		"  xl4 daemon -c /etc/xl4/xl4.conf",
	.opts = daemon_opts,
	XL4_ARGS(struct daemon_args),
	.exec = run_daemon,
};
