// SPDX-License-Identifier: GPL-2.0
/* `xl4 check`: can this kernel run xl4? Feature probe plus a real load (nothing attached). */
#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <jansson.h>

#include "adopt.h"
#include "cli.h"
#include "commands.h"
#include "config.h"
#include "ct_lru.h"
#include "engine.h"
#include "engine_opts.h"
#include "kernel_check.h"
#include "version.h"
#include "xl4.skel.h"

struct check_args {
	struct xl4_args common;
	const char *config;
};

static const struct xl4_opt check_opts[] = {
	XL4_OPT_STR("config", 'c', "FILE", struct check_args, config,
		    "load with this configuration's load-time settings, and check its pins"),
	XL4_OPT_PIN_PATH("the pins to check (default: the configuration's daemon.pin_path, or "
			 "$XL4_PIN_PATH)"),
	XL4_OPT_JSON("print the result as one JSON object"),
	{ 0 },
};

/* Has dir any pin of ours? */
static bool has_pins(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	bool found = false;

	if (!d)
		return false;
	while (!found && (de = readdir(d)))
		found = !strncmp(de->d_name, "xl4_", 4);
	closedir(d);
	return found;
}

/* What a daemon's start would do over the pins (check_pins()); the names are the JSON's. */
enum pins_start { PINS_UNCHECKED, PINS_NONE, PINS_REFUSED, PINS_ADOPT, PINS_SWAP, PINS_LOAD };
static const char *const pins_start_name[] = {
	[PINS_UNCHECKED] = "unchecked", [PINS_NONE] = "none", [PINS_REFUSED] = "refused",
	[PINS_ADOPT] = "adopt",		[PINS_SWAP] = "swap", [PINS_LOAD] = "load",
};

/*
 * Would a daemon with cfg start over the pins at cfg->pin_path, or refuse (another map layout,
 * another size: the reasons are logged as the daemon would log them)? And over the pins,
 * would it adopt the running program (*prog_id), load its own and swap it in, or load one
 * where none runs? Nothing is loaded, pinned or removed.
 */
static enum pins_start check_pins(const struct xl4_config *cfg, __u32 *prog_id)
{
	struct xl4_engine_opts eo;
	int layout, sizes;
	bool adopt;

	*prog_id = 0;
	if (!has_pins(cfg->pin_path))
		return PINS_NONE;
	xl4_engine_opts_from_config(cfg, &eo);
	xl4_ct_lru_settle_here(&eo); /* as the daemon would, over these pins */
	/* both, so that one look names every reason (the daemon stops at the first) */
	layout = xl4_pins_check_layout(cfg->pin_path, true);
	sizes = xl4_engine_pins_fit(&eo);
	if (layout || sizes)
		return PINS_REFUSED;
	*prog_id = xl4_datapath_would_adopt(&eo, &adopt);
	return !*prog_id ? PINS_LOAD : adopt ? PINS_ADOPT : PINS_SWAP;
}

static void print_pins(enum pins_start pins, const char *path, __u32 prog_id)
{
	const char *over = "a daemon with this configuration starts over them (every flow kept)";

	switch (pins) {
	case PINS_UNCHECKED:
		break;
	case PINS_NONE:
		printf("  pins at %s: none (a daemon starts afresh)\n", path);
		break;
	case PINS_ADOPT:
		printf("  pins at %s: %s and adopts the running program (id %u): nothing reloaded\n",
		       path, over, prog_id);
		break;
	case PINS_SWAP:
		printf("  pins at %s: %s and swaps its program in for the running one (id %u: another "
		       "build or load-time setting; the guard's windows and rate buckets start afresh)\n",
		       path, over, prog_id);
		break;
	case PINS_LOAD:
		printf("  pins at %s: %s; no program of theirs is running, it attaches its own\n", path,
		       over);
		break;
	case PINS_REFUSED:
		printf("  pins at %s: a daemon with this configuration would refuse to start (above); "
		       "a running datapath would keep forwarding without one\n",
		       path);
		break;
	}
}

static int run_check(const struct xl4_cmd *cmd, void *args, int argc, char **argv)
{
	const struct check_args *a = args;
	struct xl4_engine_opts eo = { 0 };
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);
	char err[XL4_CONFIG_ERR_MAX];
	const char *config = a->config;
	struct xl4_config cfg;
	struct xl4_engine eng;
	struct xl4_clock clock;
	unsigned int hz;
	__u32 zero = 0;
	struct utsname u;
	int json = a->common.json;
	enum pins_start pins;
	__u32 prog_id = 0;

	(void)argc, (void)argv;
	xl4_config_defaults(&cfg);
	if (config && xl4_config_load(config, &cfg, err, sizeof(err))) {
		fprintf(stderr, "xl4: error: %s\n", err);
		return 1;
	}
	xl4_config_from_env(&cfg);
	if (a->common.pin_path && xl4_config_set_pin_path(&cfg, a->common.pin_path))
		return xl4_cli_usage_error(cmd, "--pin-path must be a directory under /sys/fs/bpf/");
	if (xl4_config_paths_check(&cfg, false, err, sizeof(err))) {
		fprintf(stderr, "xl4: error: %s\n", err);
		return 1;
	}
	if (xl4_features_check())
		return 1;
	/* the program as configured; its maps at their default sizes (the configured sizes are
	 * compared with the pins below, not allocated: beside a running daemon that could take
	 * another gigabyte) */
	eo.frag_policy = cfg.frag_policy;
	eo.sample_per_sec = cfg.sample_per_sec;
	if (xl4_engine_load(&eng, &eo))
		return 1;
	/* the pins only when asked about a configuration or a pin path: a bare `xl4 check` is
	 * about the kernel */
	pins = config || a->common.pin_path ? check_pins(&cfg, &prog_id) : PINS_UNCHECKED;
	bpf_obj_get_info_by_fd(eng.prog_fd, &info, &len);
	/* the clock the loader measured (0: it could not; the datapath reads the coarse clock) */
	if (bpf_map__lookup_elem(eng.skel->maps.data_clock, &zero, sizeof(zero), &clock,
				 sizeof(clock), 0))
		memset(&clock, 0, sizeof(clock));
	hz = clock.tick_ns ? (unsigned int)((1000000000ull + clock.tick_ns / 2) / clock.tick_ns) : 0;
	uname(&u);
	if (json) {
		json_t *o = json_pack("{s:s, s:s, s:s, s:i, s:i, s:i, s:i, s:{s:s, s:s, s:i}}", "xl4",
				      XL4_VERSION, "kernel", u.release, "program", "xl4_xdp",
				      "verified_insns", (int)info.verified_insns, "xlated_bytes",
				      (int)info.xlated_prog_len, "jited_bytes", (int)info.jited_prog_len,
				      "clock_hz", (int)hz, "pins", "path", cfg.pin_path, "start", pins_start_name[pins],
				      "prog_id", (int)prog_id);
		char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);

		puts(s);
		free(s);
		json_decref(o);
	} else {
		printf("kernel %s: xl4 %s loads\n", u.release, XL4_VERSION);
		printf("  program xl4_xdp: %u instructions processed by the verifier, %u bytes "
		       "translated, %u bytes JITed\n",
		       info.verified_insns, info.xlated_prog_len, info.jited_prog_len);
		if (hz)
			printf("  datapath clock: jiffies at HZ %u (timed decisions resolve to %.1f ms)\n",
			       hz, clock.tick_ns / 1e6);
		else
			printf("  datapath clock: the coarse kernel clock (jiffies could not be measured; "
			       "~20 ns more per packet)\n");
		print_pins(pins, cfg.pin_path, prog_id);
	}
	xl4_engine_close(&eng);
	return pins == PINS_REFUSED;
}

const struct xl4_cmd xl4_cmd_check = {
	.name = "check",
	.summary = "Check that this kernel can run xl4: feature probe and a real load, nothing attached.",
	.description = "Reports the verifier's processed-instruction count, the number docs/verifier.md\n"
		       "tracks so that growth of the program stays visible, and the datapath's clock:\n"
		       "jiffies at the kernel's HZ, measured at load (every timed decision resolves to\n"
		       "one tick), or the coarse kernel clock if jiffies could not be measured.\n"
		       "\n"
		       "With -c or --pin-path, before a restart or an upgrade: whether a daemon with\n"
		       "this build and configuration would start over the pinned maps (keeping every\n"
		       "flow) or refuse: a map of another layout or size (lb.table_size, conntrack\n"
		       "sizes...), named as the daemon would name it; and over them, whether it would\n"
		       "adopt the running program or swap its own in (another build or load-time\n"
		       "setting). Nothing is attached, pinned or removed. Exit status 1 if the kernel\n"
		       "cannot run xl4 or a start would be refused.",
	.opts = check_opts,
	XL4_ARGS(struct check_args),
	.exec = run_check,
};
