/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Logging: one line per event to stderr. Client commands print "xl4: level: message" for the
 * operator at the terminal. The daemon switches to structured lines (logfmt, journald
 * friendly; docs/operations-logging.md):
 *
 *   level=info time=2026-11-26T16:40:00.123Z event=vip_added vip=web addr=198.18.1.1:80/tcp
 *
 * Key events go through xl4_log_event() with a small key=value builder, which quotes values
 * as logfmt wants; free text (pr_warn/pr_info/pr_debug) becomes event=message msg="...".
 * -v shows info, -vv debug and libbpf's own messages (demoted one level).
 */
#ifndef XL4_LOG_H
#define XL4_LOG_H

#include <stdbool.h>
#include <stddef.h>

enum xl4_log_level { XL4_LOG_WARN = 0, XL4_LOG_INFO = 1, XL4_LOG_DEBUG = 2 };

extern int xl4_verbosity;

void xl4_log(enum xl4_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void xl4_log_init(int verbosity);
/* The daemon's format from now on: logfmt lines (true) or "xl4: level: msg" (false). */
void xl4_log_set_structured(bool on);

/* Key=value pairs for one structured line. Values are quoted when they need it; a pair that
 * does not fit is cut, the line is never longer than the buffer. */
struct xl4_kv {
	char buf[768];
	size_t len;
};
#define XL4_KV_INIT { .len = 0 }
void xl4_kv(struct xl4_kv *kv, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* One event line with kv's pairs (kv may be NULL). Without structured logging the same line
 * reads "xl4: level: EVENT k=v ...". */
void xl4_log_event(enum xl4_log_level level, const char *event, const struct xl4_kv *kv);
/* Format one logfmt line (without newline) into out; for the log and for tests. */
size_t xl4_logfmt_line(char *out, size_t outlen, enum xl4_log_level level, const char *time,
		       const char *event, const char *kv);
/* Append one key=value pair, value quoted when needed, to a NUL-terminated buf of size cap. */
void xl4_logfmt_pair(char *buf, size_t cap, size_t *len, const char *key, const char *value);

/* Write one sentence into err (for the caller to report once, with context) and return ret. */
/* in as text that is safe to show anywhere: valid UTF-8 is kept, every other byte and every
 * control character (C0, DEL, C1) becomes a visible \xNN. Never cuts a character or an escape
 * short; out always ends in NUL. Returns out. */
char *xl4_visible(const char *in, char *out, size_t cap);
int xl4_errf(char *err, size_t errlen, int ret, const char *fmt, ...) __attribute__((format(printf, 4, 5)));

#define pr_warn(...) xl4_log(XL4_LOG_WARN, __VA_ARGS__)
#define pr_info(...) xl4_log(XL4_LOG_INFO, __VA_ARGS__)
#define pr_debug(...) xl4_log(XL4_LOG_DEBUG, __VA_ARGS__)

#endif
