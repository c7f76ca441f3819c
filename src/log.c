// SPDX-License-Identifier: GPL-2.0
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <bpf/libbpf.h>

#include "log.h"

int xl4_verbosity = XL4_LOG_INFO;

static const char *const level_names[] = { "warn", "info", "debug" };

static void vlog(enum xl4_log_level level, const char *fmt, va_list ap)
{
	char buf[1024];
	size_t n;

	vsnprintf(buf, sizeof(buf), fmt, ap);
	n = strlen(buf);
	while (n && buf[n - 1] == '\n')
		buf[--n] = '\0';
	fprintf(stderr, "xl4: %s: %s\n", level_names[level], buf);
}

void xl4_log(enum xl4_log_level level, const char *fmt, ...)
{
	va_list ap;

	if ((int)level > xl4_verbosity)
		return;
	va_start(ap, fmt);
	vlog(level, fmt, ap);
	va_end(ap);
}

/* libbpf's warnings are mostly verifier logs and probe noise: show them only with -vv. */
static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	/* One libbpf warning is worth showing always: the map whose pin does not fit. */
	if (level == LIBBPF_WARN && xl4_verbosity < XL4_LOG_DEBUG && strstr(fmt, "reuse pinned map")) {
		char buf[512];

		vsnprintf(buf, sizeof(buf), fmt, ap);
		fprintf(stderr, "xl4: warn: libbpf: %s", buf);
		return 0;
	}
	if (xl4_verbosity < XL4_LOG_DEBUG)
		return 0;
	fputs("libbpf: ", stderr);
	return vfprintf(stderr, fmt, ap);
}

void xl4_log_init(int verbosity)
{
	xl4_verbosity = verbosity;
	libbpf_set_print(libbpf_print);
}

int xl4_errf(char *err, size_t errlen, int ret, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return ret;
}
