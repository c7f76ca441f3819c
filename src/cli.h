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
/* Strict number parsing for option values: whole string, in [min, max]. */
int xl4_parse_uint(const char *s, unsigned long min, unsigned long max, unsigned long *out);

#endif
