// SPDX-License-Identifier: GPL-2.0
/* libFuzzer target: arbitrary bytes as a config file. Invariants: no crash, no leak, and an
 * accepted config is within every documented bound; a rejected one leaves the caller's
 * config untouched and names a line. And every file libconfig opens for an @include was
 * visited first by conf_include.c's walk, which is what keeps a directory or a FIFO from
 * libconfig's scanner: fopen() is interposed here to see what libconfig opens. */
#include <assert.h>
#include <dlfcn.h>
#include <errno.h>
#include <libconfig.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf_include.h"
#include "config.h"
#include "xl4/abi.h"

#define MAX_SEEN 64

static struct {
	bool on;
	int n;
	char *path[MAX_SEEN];
} seen, opened;

static void note(const char *path)
{
	if (opened.n < MAX_SEEN)
		opened.path[opened.n++] = strdup(path);
}

/* libconfig 1.5 opens an include with fopen(path, "rt"); xl4 itself never asks for "rt". */
FILE *fopen(const char *path, const char *mode)
{
	static FILE *(*real)(const char *, const char *);

	if (!real)
		real = (FILE * (*)(const char *, const char *)) dlsym(RTLD_NEXT, "fopen");
	if (opened.on && !strcmp(mode, "rt"))
		note(path);
	return real(path, mode);
}

/* The walk's visitor: remember the path; let the walk go on only where libconfig may safely
 * follow (a regular file, or nothing). */
static int visit(void *ctx, const char *path, const struct xl4_conf_incname *name,
		 const char *where, int read_err)
{
	(void)name;
	(void)where;
	*(bool *)ctx |= read_err && read_err != ENOENT;
	/* the walk goes on past a missing file (libconfig stops there): more to compare */
	if (seen.n < MAX_SEEN)
		seen.path[seen.n++] = strdup(path);
	return 0;
}

static void free_paths(int *n, char **path)
{
	for (int i = 0; i < *n; i++)
		free(path[i]);
	*n = 0;
}

/* Run libconfig on text when the walk found nothing it must not read, and check that each file
 * it opened is one the walk visited. */
static void walk_covers_libconfig(const char *text)
{
	/* names as given (xl4_config_parse), or with a directory before them (xl4_config_load) */
	const char *include_dir = text[0] & 1 ? "." : NULL;
	char err[XL4_CONFIG_ERR_MAX];
	bool unsafe = false;
	config_t lc;

	/* libconfig runs only on what the walk accepts, as in xl4_config_parse() */
	if (!xl4_conf_includes_walk(text, strlen(text), "fuzz.conf", include_dir, visit, &unsafe,
				    err, sizeof(err)) &&
	    !unsafe && seen.n < MAX_SEEN) {
		config_init(&lc);
		if (include_dir)
			config_set_include_dir(&lc, include_dir);
		opened.on = true;
		config_read_string(&lc, text);
		opened.on = false;
		config_destroy(&lc);
		for (int i = 0; i < opened.n; i++) {
			int j = 0;

			while (j < seen.n && strcmp(seen.path[j], opened.path[i]))
				j++;
			if (j == seen.n) {
				fprintf(stderr, "libconfig opened \"%s\", the walk never saw it\n",
					opened.path[i]);
				abort();
			}
		}
	}
	free_paths(&seen.n, seen.path);
	free_paths(&opened.n, opened.path);
}

/* "FILE:LINE: ...": the config itself, or the file it includes where the error is. */
static bool names_a_line(const char *err)
{
	for (const char *colon = strchr(err, ':'); colon && colon > err;
	     colon = strchr(colon + 1, ':')) {
		size_t digits = strspn(colon + 1, "0123456789");

		if (digits && colon[1 + digits] == ':')
			return true;
	}
	return false;
}

/* libconfig echoes a lone backslash in an @include name to stdout; keep the log readable */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return freopen("/dev/null", "w", stdout) ? 0 : 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[XL4_CONFIG_ERR_MAX] = "";
	struct xl4_config cfg, before;
	char *text = malloc(size + 1);

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	walk_covers_libconfig(text);
	xl4_config_defaults(&cfg);
	before = cfg;
	if (xl4_config_parse(text, "fuzz.conf", &cfg, err, sizeof(err)) == 0) {
		assert(cfg.n_ifaces >= 0 && cfg.n_ifaces <= XL4_MAX_IFACES);
		for (int i = 0; i < cfg.n_ifaces; i++)
			assert(strlen(cfg.ifaces[i]) > 0 && strlen(cfg.ifaces[i]) < IF_NAMESIZE);
		assert(cfg.mode <= XL4_MODE_SKB);
		assert(cfg.frag_policy == XL4_FRAG_PASS || cfg.frag_policy == XL4_FRAG_DROP);
		assert(cfg.sample_per_sec <= 1000000);
		assert(!strncmp(cfg.pin_path, "/sys/fs/bpf/", 12));
		assert(cfg.control_socket[0] == '/');
		/* integers as written, never wrapped into range by libconfig's 32-bit read */
		for (int i = 0; i < cfg.n_vips; i++) {
			assert(!cfg.vips[i].spec.mtu || (cfg.vips[i].spec.mtu >= 596 && cfg.vips[i].spec.mtu <= 9216));
			for (int j = 0; j < cfg.vips[i].n_backends; j++)
				assert(cfg.vips[i].backends[j].weight >= 1 && cfg.vips[i].backends[j].weight <= 65535);
		}
		assert(cfg.lb.ct_inserts_per_sec <= 100000000);
		assert(cfg.filter.limit_rate <= 10000000); /* XL4_RULE_RATE_MAX, config.c */
		xl4_config_free(&cfg);
	} else {
		assert(memcmp(&cfg, &before, sizeof(cfg)) == 0);
		assert(names_a_line(err));
	}
	free(text);
	return 0;
}
