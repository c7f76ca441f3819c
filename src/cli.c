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

static bool has_short(const struct xl4_opt *o)
{
	return o->key > 0 && o->key < 256;
}

/* What getopt_long() returns for row i: its letter, its own long-only key, or 256 + i. */
static int opt_key(const struct xl4_cmd *cmd, const struct xl4_opt *o)
{
	return o->key ? o->key : 256 + (int)(o - cmd->opts);
}

static int build(const struct xl4_cmd *cmd, struct option *lo, char *so)
{
	int n = 0;
	char *p = so;

	if (cmd->stop_at_arg)
		*p++ = '+'; /* sub-commands keep their own options */
	*p++ = ':'; /* report a missing argument as ':' so we can name it */
	for (const struct xl4_opt *o = cmd->opts; o && o->name && n < MAX_OPTS - 2; o++, n++) {
		lo[n] = (struct option){ o->name, o->metavar ? required_argument : no_argument, NULL,
					 opt_key(cmd, o) };
		if (has_short(o)) {
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
		if (opt_key(cmd, o) == key)
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

		if (has_short(o))
			snprintf(left, sizeof(left), "-%c, --%s%s%s", o->key, o->name,
				 o->metavar ? " " : "", o->metavar ? o->metavar : "");
		else
			snprintf(left, sizeof(left), "    --%s%s%s", o->name, o->metavar ? " " : "",
				 o->metavar ? o->metavar : "");
		fprintf(out, "  %-28s %s\n", left, o->help);
	}
	fprintf(out, "  %-28s %s\n", "-h, --help", help_opt.help);
}

/* The names of a list ending in NULL, stride bytes apart (choices, or the verbs' rows), joined
 * by ", ", the last by last if given: "add, del or list". */
static void join(const char *const *names, size_t stride, const char *last, char *buf, size_t len)
{
	size_t n = 0, used = 0;

	while (*(const char *const *)((const char *)names + n * stride))
		n++;
	buf[0] = '\0';
	for (size_t i = 0; i < n && used < len; i++) {
		const char *name = *(const char *const *)((const char *)names + i * stride);
		const char *sep = !i ? "" : i + 1 < n || !last ? ", " : last;

		used += snprintf(buf + used, len - used, "%s%s", sep, name);
	}
}

/* One option's value into its field; 0, or -1 after a usage error. */
static int store(const struct xl4_cmd *cmd, const struct xl4_opt *o, void *args, const char *arg)
{
	void *field = (char *)args + o->offset;
	unsigned long v;
	char list[256];

	switch (o->type) {
	case XL4_TYPE_STR:
		*(const char **)field = arg;
		return 0;
	case XL4_TYPE_FLAG:
		*(bool *)field = true;
		return 0;
	case XL4_TYPE_U32:
		if (!xl4_parse_uint(arg, o->min, o->max, &v)) {
			*(uint32_t *)field = v;
			return 0;
		}
		if (o->range)
			xl4_cli_usage_error(cmd, "--%s '%s' is not %s", o->name, arg, o->range);
		else
			xl4_cli_usage_error(cmd, "--%s '%s' is not %u..%u%s", o->name, arg, o->min,
					    o->max, o->unit ?: "");
		return -1;
	case XL4_TYPE_ENUM:
		for (const char *const *c = o->choices; *c; c++) {
			if (!strcmp(arg, *c)) {
				*(const char **)field = arg;
				return 0;
			}
		}
		join(o->choices, sizeof(*o->choices), NULL, list, sizeof(list));
		xl4_cli_usage_error(cmd, "--%s '%s' is not one of: %s", o->name, arg, list);
		return -1;
	case XL4_TYPE_FUNC:
		return o->parse(cmd, args, arg) ? -1 : 0;
	case XL4_TYPE_NONE:
		break;
	}
	xl4_cli_usage_error(cmd, "option '--%s' has no type", o->name);
	return -1;
}

int xl4_cli_parse(const struct xl4_cmd *cmd, int argc, char **argv, void *args)
{
	const char *arg;
	int c;

	while ((c = xl4_cli_next(cmd, argc, argv, &arg)) != -1) {
		const struct xl4_opt *o = find_opt(cmd, c);

		if (c == XL4_OPT_HELP)
			return XL4_CLI_HELP;
		if (c == '?' || !o || store(cmd, o, args, arg))
			return XL4_CLI_USAGE;
	}
	return optind;
}

int xl4_cli_verb_usage(const struct xl4_cmd *cmd, const struct xl4_verb *verb)
{
	return xl4_cli_usage_error(cmd, "usage: xl4 %s %s %s", cmd->name, verb->name, verb->args);
}

/* "xl4 CMD VERB ...": the verb's row checks the number of arguments, then it runs. */
static int run_verb(const struct xl4_cmd *cmd, void *args, int argc, char **argv)
{
	const struct xl4_verb *v = cmd->verbs;
	char names[256];
	int rc;

	if (!argc) {
		join(&v->name, sizeof(*v), " or ", names, sizeof(names));
		return xl4_cli_usage_error(cmd, "missing action: %s", names);
	}
	while (v->name && strcmp(v->name, argv[0]))
		v++;
	if (!v->name) {
		join(&cmd->verbs->name, sizeof(*v), NULL, names, sizeof(names));
		return xl4_cli_usage_error(cmd, "unknown action '%s' (%s)", argv[0], names);
	}
	argc--, argv++;
	if (cmd->verb_check && (rc = cmd->verb_check(cmd, v, args)))
		return rc;
	if (v->max >= 0 && v->args && (argc < v->min || argc > v->max))
		return xl4_cli_verb_usage(cmd, v);
	if (v->max >= 0 && argc > v->max)
		return xl4_cli_usage_error(cmd, "unexpected argument '%s'", argv[v->max]);
	return v->run(cmd, v, args, argc, argv);
}

int xl4_cli_run(const struct xl4_cmd *cmd, int argc, char **argv)
{
	void *args;
	int first, rc;

	if (cmd->run)
		return cmd->run(cmd, argc, argv);
	args = calloc(1, cmd->args_size);
	if (!args) {
		fprintf(stderr, "xl4: out of memory\n");
		return 1;
	}
	if (cmd->defaults)
		memcpy(args, cmd->defaults, cmd->args_size);
	first = xl4_cli_parse(cmd, argc, argv, args);
	if (first == XL4_CLI_HELP)
		rc = 0;
	else if (first == XL4_CLI_USAGE)
		rc = 2;
	else if (cmd->verbs)
		rc = run_verb(cmd, args, argc - first, argv + first);
	else if (!cmd->args && first < argc)
		rc = xl4_cli_usage_error(cmd, "unexpected argument '%s'", argv[first]);
	else
		rc = cmd->exec(cmd, args, argc - first, argv + first);
	free(args);
	return rc;
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
