/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The daemon's configuration file (libconfig syntax; see examples/xl4.conf and docs/config.md).
 * Loading validates everything and either fills a whole struct or reports one error naming the
 * file, line and key; a failed load never touches the caller's running config.
 */
#ifndef XL4_CONFIG_H
#define XL4_CONFIG_H

#include <limits.h>
#include <net/if.h>
#include <linux/types.h>

#include "engine.h"

#define XL4_MAX_IFACES 16
#define XL4_DEFAULT_SOCKET "/run/xl4/xl4.sock"
#define XL4_DEFAULT_PIN_PATH "/sys/fs/bpf/xl4"
#define XL4_CONFIG_ERR_MAX 512

struct xl4_config {
	char path[PATH_MAX];
	char ifaces[XL4_MAX_IFACES][IF_NAMESIZE];
	int n_ifaces;
	enum xl4_xdp_mode mode;
	char pin_path[PATH_MAX];
	char control_socket[108]; /* sun_path */
	__u32 frag_policy;	  /* enum xl4_frag_policy */
	__u32 sample_per_sec;
};

void xl4_config_defaults(struct xl4_config *cfg);
/* Parse and validate path into *cfg. On error returns -EINVAL (or -errno) and writes
 * "FILE:LINE: KEY: problem" into err. */
int xl4_config_load(const char *path, struct xl4_config *cfg, char *err, size_t errlen);
/* Same, from a string (tests, fuzzing); name stands in for the file name in errors. */
int xl4_config_parse(const char *text, const char *name, struct xl4_config *cfg, char *err,
		     size_t errlen);
/* Add an interface by name (from -i); checks length and duplicates. */
int xl4_config_add_iface(struct xl4_config *cfg, const char *name, char *err, size_t errlen);

#endif
