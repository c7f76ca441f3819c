/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Subcommands, their options and their verbs are tables. An option is a typed row that says
 * where its value goes in the command's args struct (offsetof), so one parser, xl4_cli_parse(),
 * fills every command's args and checks every value; getopt_long() strings and --help text are
 * generated from the same rows, so the help can never drift from what is parsed. A command
 * with verbs ("xl4 vip add ...") lists them as rows too, dispatched once by xl4_cli_run().
 */
#ifndef XL4_CLI_H
#define XL4_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct xl4_cmd;
struct json_t;

enum xl4_opt_type {
	XL4_TYPE_NONE,	/* untyped: only xl4_cli_next() callers read it */
	XL4_TYPE_STR,	/* const char *: the value as given */
	XL4_TYPE_U32,	/* uint32_t in [min, max], through xl4_parse_uint() */
	XL4_TYPE_FLAG,	/* bool, set when given */
	XL4_TYPE_ENUM,	/* const char *: one of choices[] */
	XL4_TYPE_FUNC,	/* parse() reads it: repeated options, values of other types */
};

struct xl4_opt {
	const char *name;    /* long name, without "--" */
	int key;	     /* short letter; 0 (or a value >= 256) for long-only */
	const char *metavar; /* NULL: a flag without argument */
	const char *help;
	enum xl4_opt_type type;
	size_t offset;	     /* where the value goes in the command's args struct */
	uint32_t min, max;   /* XL4_TYPE_U32 */
	/* XL4_TYPE_U32: the error says "--NAME 'VALUE' is not MIN..MAX" and then unit, or, with
	 * range set, "is not " range */
	const char *unit, *range;
	const char *const *choices; /* XL4_TYPE_ENUM: NULL-terminated */
	/* XL4_TYPE_FUNC: 0, or 2 after printing a usage error */
	int (*parse)(const struct xl4_cmd *cmd, void *args, const char *arg);
};

/* Row makers. The field's type is checked at compile time against what the row stores. */
#define XL4_FIELD(T, f, type)                                                                  \
	(offsetof(T, f) +                                                                      \
	 0 * sizeof(char[__builtin_types_compatible_p(__typeof__(((T *)0)->f), type) ? 1 : -1]))
#define XL4_OPT_STR(name, key, meta, T, f, help)                                               \
	{ name, key, meta, help, XL4_TYPE_STR, XL4_FIELD(T, f, const char *) }
#define XL4_OPT_FLAG(name, key, T, f, help)                                                    \
	{ name, key, NULL, help, XL4_TYPE_FLAG, XL4_FIELD(T, f, bool) }
#define XL4_OPT_U32(name, key, meta, T, f, lo, hi, help, ...)                                 \
	{ name, key, meta, help, XL4_TYPE_U32, XL4_FIELD(T, f, uint32_t), lo, hi, __VA_ARGS__ }
#define XL4_OPT_ENUM(name, key, meta, T, f, list, help)                                        \
	{ name, key, meta, help, XL4_TYPE_ENUM, XL4_FIELD(T, f, const char *), .choices = list }
#define XL4_OPT_FUNC(name, key, meta, fn, help)                                                \
	{ name, key, meta, help, XL4_TYPE_FUNC, .parse = fn }

/* What most commands share; the first member of every command's args struct, so that the
 * shared rows below fit them all. NULL socket/pin_path: not given (commands pick the default). */
struct xl4_args {
	const char *socket;
	const char *pin_path;
	bool json;
};

#define XL4_SOCKET_HELP "control socket (default /run/xl4/xl4.sock, or $XL4_SOCKET)"
#define XL4_OPT_SOCKET_HELP(help) XL4_OPT_STR("socket", 's', "PATH", struct xl4_args, socket, help)
#define XL4_OPT_SOCKET XL4_OPT_SOCKET_HELP(XL4_SOCKET_HELP)
#define XL4_OPT_JSON(help) XL4_OPT_FLAG("json", 0, struct xl4_args, json, help)
#define XL4_OPT_PIN_PATH(help) XL4_OPT_STR("pin-path", 0, "DIR", struct xl4_args, pin_path, help)

/* A verb of a command: "xl4 CMD VERB ARGS...". */
struct xl4_verb {
	const char *name;
	/* usage after the verb: with it, the dispatcher wants min..max arguments ("usage: xl4 CMD
	 * VERB ARGS" otherwise); without it and max 0, none ("unexpected argument"); max < 0:
	 * the verb checks them itself */
	const char *args;
	int min, max;
	int (*run)(const struct xl4_cmd *cmd, const struct xl4_verb *verb, void *args, int argc,
		   char **argv);
	const char *request; /* the control request it sends */
	/* verbs that list (run = xl4_verb_list): the reply's member to print (NULL: the whole
	 * reply but its "ok"), as JSON with --json or else with print */
	const char *reply;
	void (*print)(struct json_t *member);
};

struct xl4_cmd {
	const char *name;
	const char *args;	 /* usage after the options, e.g. "CAPTURE"; NULL: no arguments */
	const char *summary;	 /* one line for the command list */
	const char *description; /* paragraphs for --help */
	const struct xl4_opt *opts; /* terminated by { 0 } */
	/* a command that reads its own argv with xl4_cli_next() (none of xl4's own now) */
	int (*run)(const struct xl4_cmd *cmd, int argc, char **argv);
	bool stop_at_arg; /* options end at the first argument (commands with sub-commands) */
	/* a table-driven command: its args struct (struct xl4_args first) starts as *defaults */
	size_t args_size;
	const void *defaults;
	/* after the options: argc, argv are the arguments (none unless args is set) */
	int (*exec)(const struct xl4_cmd *cmd, void *args, int argc, char **argv);
	const struct xl4_verb *verbs; /* instead of exec; terminated by { 0 } */
	/* verbs: options only some verbs take, checked before the verb's arguments */
	int (*verb_check)(const struct xl4_cmd *cmd, const struct xl4_verb *verb, const void *args);
};

/* The args struct T of a table-driven command (zeroes to start with), with XL4_DEFAULTS its
 * defaults d (a const T); a command with only the shared options takes XL4_ARGS_COMMON. */
#define XL4_ARGS(T) .args_size = sizeof(T) + 0 * sizeof(char[offsetof(T, common) == 0 ? 1 : -1])
#define XL4_DEFAULTS(T, d)                                                                     \
	XL4_ARGS(T),                                                                           \
	.defaults = &(d) +                                                                     \
		    0 * sizeof(char[__builtin_types_compatible_p(__typeof__(d), const T) ? 1 : -1])
#define XL4_ARGS_COMMON .args_size = sizeof(struct xl4_args)

/* "usage: xl4 CMD VERB ARGS" as a usage error; returns 2. */
int xl4_cli_verb_usage(const struct xl4_cmd *cmd, const struct xl4_verb *verb);
/* Run a command on its argv (argv[0] is its name): parse, dispatch; returns the exit code. */
int xl4_cli_run(const struct xl4_cmd *cmd, int argc, char **argv);

/* Parse every option into args (already holding the defaults). Returns the index of the first
 * argument, XL4_CLI_HELP after printing the help or XL4_CLI_USAGE after a usage error. */
#define XL4_CLI_HELP (-1)
#define XL4_CLI_USAGE (-2)
int xl4_cli_parse(const struct xl4_cmd *cmd, int argc, char **argv, void *args);

/* Iterate options like getopt_long(): returns the key (256 + row index for a long-only row with
 * key 0), -1 at the end, or '?' after printing one clear error line. --help is handled here
 * (prints help, returns XL4_OPT_HELP). */
#define XL4_OPT_HELP 0x1000
int xl4_cli_next(const struct xl4_cmd *cmd, int argc, char **argv, const char **arg);
void xl4_cli_help(const struct xl4_cmd *cmd, FILE *out);
/* One line on stderr: "xl4 CMD: message; see 'xl4 CMD --help'". Returns 2 (usage exit code). */
int xl4_cli_usage_error(const struct xl4_cmd *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* The one integer parser (options, config values, specs): the whole string, decimal digits (or
 * 0x hex with XL4_NUM_HEX; leading zeros stay decimal), a sign only with XL4_NUM_SIGN, an L/LL
 * suffix only with XL4_NUM_LSUFFIX (libconfig's 64-bit mark). -EINVAL when it is not such a
 * number, -ERANGE outside [min, max] (a number too long for 64 bits included). */
#define XL4_NUM_SIGN	0x1
#define XL4_NUM_HEX	0x2
#define XL4_NUM_LSUFFIX	0x4
int xl4_parse_int(const char *s, long long min, long long max, unsigned int flags, long long *out);
/* xl4_parse_int() for option values: unsigned decimal only. */
int xl4_parse_uint(const char *s, unsigned long min, unsigned long max, unsigned long *out);

#endif
