// SPDX-License-Identifier: GPL-2.0
#include <string.h>
#include <unistd.h>

#include "daemon_log.h"
#include "log.h"
#include "version.h"

void daemon_log_start(const struct xl4_config *cfg)
{
	struct xl4_kv kv = XL4_KV_INIT;

	xl4_kv(&kv, "version", "%s", XL4_VERSION);
	xl4_kv(&kv, "pid", "%d", (int)getpid());
	xl4_kv(&kv, "config", "%s", cfg->path[0] ? cfg->path : "-");
	xl4_log_event(XL4_LOG_INFO, "start", &kv);
}

void daemon_log_start_failed(const char *key, const char *value, const char *error)
{
	struct xl4_kv kv = XL4_KV_INIT;

	xl4_kv(&kv, key, "%s", value);
	xl4_kv(&kv, "error", "%s", error);
	xl4_log_event(XL4_LOG_WARN, "start_failed", &kv);
}

void daemon_log_attach(const char *iface, const char *mode, unsigned prog_id, const char *how)
{
	struct xl4_kv kv = XL4_KV_INIT;

	xl4_kv(&kv, "iface", "%s", iface);
	xl4_kv(&kv, "mode", "%s", mode);
	xl4_kv(&kv, "prog_id", "%u", prog_id);
	xl4_kv(&kv, "how", "%s", how);
	xl4_log_event(XL4_LOG_INFO, "attach", &kv);
}

void daemon_log_detach(const char *iface, bool failed)
{
	struct xl4_kv kv = XL4_KV_INIT;

	xl4_kv(&kv, "iface", "%s", iface);
	if (failed)
		xl4_kv(&kv, "error", "detach failed (already replaced or removed?)");
	xl4_log_event(failed ? XL4_LOG_WARN : XL4_LOG_INFO, failed ? "detach_failed" : "detach", &kv);
}

void daemon_log_ready(const struct xl4_config *cfg, int n_ifs)
{
	struct xl4_kv kv = XL4_KV_INIT;

	xl4_kv(&kv, "interfaces", "%d", n_ifs);
	xl4_kv(&kv, "socket", "%s", cfg->control_socket);
	if (cfg->socket_group[0])
		xl4_kv(&kv, "socket_group", "%s", cfg->socket_group);
	xl4_kv(&kv, "pin_path", "%s", cfg->pin_path);
	xl4_log_event(XL4_LOG_INFO, "ready", &kv);
}

void daemon_log_stop(int signo, bool detaching)
{
	struct xl4_kv kv = XL4_KV_INIT;

	xl4_kv(&kv, "signal", "%s", strsignal(signo));
	/* without --detach-on-exit the program keeps handling traffic */
	xl4_kv(&kv, "program", "%s", detaching ? "detaching" : "stays_attached");
	xl4_log_event(XL4_LOG_INFO, "stop", &kv);
}
