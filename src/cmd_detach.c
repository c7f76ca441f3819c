// SPDX-License-Identifier: GPL-2.0
/* `xl4 detach`: stop handling traffic. The daemon's program otherwise outlives the daemon. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <bpf/bpf.h>
#include <jansson.h>

#include "adopt.h"
#include "commands.h"
#include "control.h"
#include "engine.h"

static const struct xl4_opt detach_opts[] = {
	XL4_OPT_SOCKET,
	XL4_OPT_PIN_PATH("pin directory (default /sys/fs/bpf/xl4, or $XL4_PIN_PATH)"),
	{ 0 },
};

/* No daemon: remove the program xl4_meta_v1 names from the interfaces it names, and only
 * where it is still the attached one. */
static int detach_offline(const char *pins)
{
	struct xl4_meta m;
	int n = 0, fd;

	if (xl4_meta_read(pins, &m) || !m.prog_id) {
		printf("nothing to detach: no xl4 program is recorded in %s\n", pins);
		return 0;
	}
	fd = bpf_prog_get_fd_by_id(m.prog_id);
	if (fd < 0) {
		printf("nothing to detach: program id %u is gone\n", m.prog_id);
		return 0;
	}
	for (__u32 i = 0; i < m.n_ifs && i < XL4_META_MAX_IFS; i++) {
		enum xl4_xdp_mode mode;
		char name[IF_NAMESIZE] = "?";

		if (xl4_xdp_attached(m.ifindex[i], &mode) != m.prog_id)
			continue;
		if_indextoname(m.ifindex[i], name);
		if (xl4_xdp_detach(m.ifindex[i], fd, mode)) {
			fprintf(stderr, "xl4: %s: cannot detach program id %u: %s\n", name, m.prog_id,
				strerror(errno));
			close(fd);
			return 1;
		}
		printf("%s: detached program id %u\n", name, m.prog_id);
		n++;
	}
	close(fd);
	if (!n) {
		/* Another network namespace, perhaps: the record stays for a detach run there. */
		printf("program id %u is not attached to any interface of this network namespace\n",
		       m.prog_id);
		return 0;
	}
	m.prog_id = 0;
	xl4_meta_write(pins, &m);
	return 0;
}

/* Until nobody answers on the socket (the daemon detached and exited), at most ms. */
static int wait_gone(const char *sock, long long ms)
{
	for (long long waited = 0; waited < ms; waited += 50) {
		json_t *req = json_pack("{s:s}", "cmd", "ping"), *resp = NULL;
		char err[256];
		int gone = xl4_control_call(sock, req, &resp, err, sizeof(err));

		json_decref(req);
		if (gone)
			return 0;
		json_decref(resp);
		usleep(50 * 1000);
	}
	return -1;
}

static int run_detach(const struct xl4_cmd *cmd, void *args, int argc, char **argv)
{
	const struct xl4_args *a = args;
	const char *pins = a->pin_path ?: xl4_default_pin_path();
	json_t *req = json_pack("{s:s}", "cmd", "detach"), *resp = NULL, *e;
	char err[256];
	long long ms;
	size_t i;

	(void)cmd, (void)argc, (void)argv;
	if (xl4_control_call(xl4_socket(a), req, &resp, err, sizeof(err))) {
		json_decref(req);
		return detach_offline(pins); /* no daemon answers: do it here */
	}
	json_decref(req);
	if (!json_is_true(json_object_get(resp, "ok"))) {
		fprintf(stderr, "xl4: %s\n", json_string_value(json_object_get(resp, "error")) ?: "error");
		json_decref(resp);
		return 1;
	}
	ms = json_integer_value(json_object_get(resp, "drain_ms"));
	if (ms > 0) {
		/* A cluster node withdrew its routes and forwards a while longer: wait for it. */
		printf("VIP routes withdrawn; the daemon detaches in %lld ms (cluster.drain_ms)\n", ms);
		fflush(stdout);
		if (wait_gone(xl4_socket(a), ms + 10000)) {
			fprintf(stderr, "xl4: the daemon still answers %lld ms later\n", ms + 10000);
			json_decref(resp);
			return 1;
		}
	}
	json_array_foreach(json_object_get(resp, "detached"), i, e)
		printf("%s: detached\n", json_string_value(e));
	printf("the daemon exits\n");
	json_decref(resp);
	return 0;
}

const struct xl4_cmd xl4_cmd_detach = {
	.name = "detach",
	.summary = "Stop handling traffic: detach the XDP program (and stop the daemon).",
	.description =
		"The one way, besides 'xl4 daemon --detach-on-exit', that traffic stops being\n"
		"handled: the program otherwise stays attached when the daemon stops or dies. With\n"
		"a daemon on the socket, it detaches from its interfaces and exits. Without one,\n"
		"the program recorded in the pin directory is detached from the interfaces it was\n"
		"attached to (run it in their network namespace). Pins stay: 'xl4 cleanup'.",
	.opts = detach_opts,
	XL4_ARGS_COMMON,
	.exec = run_detach,
};
