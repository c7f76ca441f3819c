/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Subcommands and their options are tables; getopt_long() strings and --help text are both
 * generated from them, so the help can never drift from what is parsed.
 */
#ifndef XL4_CLI_H
#define XL4_CLI_H

#include <stdbool.h>
#include <stdio.h>

struct xl4_opt {
	const char *name;    /* long name, without "--" */
	int key;	     /* short letter, or a value >= 256 for long-only */
	const char *metavar; /* NULL: a flag without argument */
	const char *help;
};

struct xl4_cmd {
	const char *name;
	const char *args;	 /* usage after the options, e.g. "CAPTURE" */
	const char *summary;	 /* one line for the command list */
	const char *description; /* paragraphs for --help */
	const struct xl4_opt *opts; /* terminated by { 0 } */
	int (*run)(const struct xl4_cmd *cmd, int argc, char **argv);
	bool stop_at_arg; /* options end at the first argument (commands with sub-commands) */
};

/* Iterate options like getopt_long(): returns the key, -1 at the end, or '?' after printing
 * one clear error line. --help is handled here (prints help, returns 'h' | 0x1000). */
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
