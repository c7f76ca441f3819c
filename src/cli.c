// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define MAX_OPTS 32

static const struct xl4_opt help_opt = { "help", 'h', NULL, "show this help and exit" };

static int build(const struct xl4_cmd *cmd, struct option *lo, char *so)
{
	int n = 0;
	char *p = so;

	if (cmd->stop_at_arg)
		*p++ = '+'; /* sub-commands keep their own options */
	*p++ = ':'; /* report a missing argument as ':' so we can name it */
	for (const struct xl4_opt *o = cmd->opts; o && o->name && n < MAX_OPTS - 2; o++, n++) {
		lo[n] = (struct option){ o->name, o->metavar ? required_argument : no_argument, NULL,
					 o->key };
		if (o->key < 256) {
			*p++ = (char)o->key;
			if (o->metavar)
				*p++ = ':';
		}
	}
	lo[n++] = (struct option){ "help", no_argument, NULL, 'h' };
	*p++ = 'h';
	*p = '\0';
	lo[n] = (struct option){ 0 };
	return n;
}

int xl4_cli_usage_error(const struct xl4_cmd *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "xl4 %s: ", cmd->name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "; see 'xl4 %s --help'\n", cmd->name);
	return 2;
}

static const struct xl4_opt *find_opt(const struct xl4_cmd *cmd, int key)
{
	for (const struct xl4_opt *o = cmd->opts; o && o->name; o++)
		if (o->key == key)
			return o;
	return NULL;
}

int xl4_cli_next(const struct xl4_cmd *cmd, int argc, char **argv, const char **arg)
{
	struct option lo[MAX_OPTS];
	char so[2 * MAX_OPTS + 4];
	int c, idx = -1;

	build(cmd, lo, so);
	opterr = 0;
	c = getopt_long(argc, argv, so, lo, &idx);
	*arg = optarg;
	if (c == 'h') {
		xl4_cli_help(cmd, stdout);
		return XL4_OPT_HELP;
	}
	if (c == '?') {
		const char *bad = argv[optind - 1];

		if (!strncmp(bad, "--", 2) && strchr(bad, '=') && optopt)
			xl4_cli_usage_error(cmd, "option '%.*s' takes no value", (int)(strchr(bad, '=') - bad),
					    bad);
		else if (!strncmp(bad, "--", 2))
			xl4_cli_usage_error(cmd, "unknown option '%.64s'", bad);
		else
			xl4_cli_usage_error(cmd, "unknown option '-%c'", optopt);
		return '?';
	}
	if (c == ':') {
		const struct xl4_opt *o = find_opt(cmd, optopt);

		xl4_cli_usage_error(cmd, "option '--%s' needs a value (%s)", o ? o->name : "?",
				    o && o->metavar ? o->metavar : "?");
		return '?';
	}
	return c;
}

void xl4_cli_help(const struct xl4_cmd *cmd, FILE *out)
{
	fprintf(out, "Usage: xl4 %s [OPTIONS]%s%s\n\n", cmd->name, cmd->args ? " " : "",
		cmd->args ? cmd->args : "");
	fprintf(out, "%s\n", cmd->summary);
	if (cmd->description)
		fprintf(out, "\n%s\n", cmd->description);
	fprintf(out, "\nOptions:\n");
	for (const struct xl4_opt *o = cmd->opts; o && o->name; o++) {
		char left[64];

		if (o->key < 256)
			snprintf(left, sizeof(left), "-%c, --%s%s%s", o->key, o->name,
				 o->metavar ? " " : "", o->metavar ? o->metavar : "");
		else
			snprintf(left, sizeof(left), "    --%s%s%s", o->name, o->metavar ? " " : "",
				 o->metavar ? o->metavar : "");
		fprintf(out, "  %-28s %s\n", left, o->help);
	}
	fprintf(out, "  %-28s %s\n", "-h, --help", help_opt.help);
}

int xl4_parse_int(const char *s, long long min, long long max, unsigned int flags, long long *out)
{
	const char *p = s, *tail;
	unsigned long long mag;
	bool neg = false;
	int base = 10;
	long long v;
	size_t n;

	if (!s)
		return -EINVAL;
	if (*p == '-' || *p == '+') {
		if (!(flags & XL4_NUM_SIGN))
			return -EINVAL;
		neg = *p++ == '-';
	}
	if ((flags & XL4_NUM_HEX) && p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		base = 16;
		p += 2;
	}
	/* Only digits from here: strtoull() would also take blanks, a sign or a second 0x. */
	n = strspn(p, base == 16 ? "0123456789abcdefABCDEF" : "0123456789");
	tail = p + n;
	if (!n || (*tail && !((flags & XL4_NUM_LSUFFIX) && (!strcmp(tail, "L") || !strcmp(tail, "LL")))))
		return -EINVAL;
	errno = 0;
	mag = strtoull(p, NULL, base); /* leading zeros stay decimal, as libconfig reads them */
	if (errno || mag > (unsigned long long)LLONG_MAX + neg)
		return -ERANGE;
	v = neg ? (long long)(0 - mag) : (long long)mag;
	if (v < min || v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

int xl4_parse_uint(const char *s, unsigned long min, unsigned long max, unsigned long *out)
{
	long long v;
	int err = xl4_parse_int(s, min > LLONG_MAX ? LLONG_MAX : (long long)min,
				max > LLONG_MAX ? LLONG_MAX : (long long)max, 0, &v);

	if (err)
		return err;
	*out = v;
	return 0;
}
