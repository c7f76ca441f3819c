/* SPDX-License-Identifier: GPL-2.0 */
/* Logging: one line per event to stderr, "xl4: level: message". -v shows info, -vv debug and
 * libbpf's own messages (demoted one level so its chatter stays out of the way). */
#ifndef XL4_LOG_H
#define XL4_LOG_H

#include <stddef.h>

enum xl4_log_level { XL4_LOG_WARN = 0, XL4_LOG_INFO = 1, XL4_LOG_DEBUG = 2 };

extern int xl4_verbosity;

void xl4_log(enum xl4_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void xl4_log_init(int verbosity);

/* Write one sentence into err (for the caller to report once, with context) and return ret. */
int xl4_errf(char *err, size_t errlen, int ret, const char *fmt, ...) __attribute__((format(printf, 4, 5)));

#define pr_warn(...) xl4_log(XL4_LOG_WARN, __VA_ARGS__)
#define pr_info(...) xl4_log(XL4_LOG_INFO, __VA_ARGS__)
#define pr_debug(...) xl4_log(XL4_LOG_DEBUG, __VA_ARGS__)

#endif
