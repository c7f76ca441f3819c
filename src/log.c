// SPDX-License-Identifier: GPL-2.0
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <bpf/libbpf.h>

#include "log.h"

int xl4_verbosity = XL4_LOG_INFO;
static bool structured;
static bool journal_prefix; /* stderr is journald's stream: lead each line with <N> */

static const char *const level_names[] = { "warn", "info", "debug" };

/* journald reads a leading "<N>" as the line's syslog priority (sd-daemon(3)) when stderr is
 * its stream, which JOURNAL_STREAM ("dev:ino") tells; then `journalctl -p warning` works. */
static bool stderr_is_journal(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	return js && sscanf(js, "%llu:%llu", &dev, &ino) == 2 && !fstat(STDERR_FILENO, &st) &&
	       st.st_dev == dev && st.st_ino == ino;
}

void xl4_log_set_structured(bool on)
{
	structured = on;
	journal_prefix = on && stderr_is_journal();
}

/* logfmt quotes a value that is empty or holds a space, '=', '"' or a control character. */
static bool needs_quotes(const char *v)
{
	if (!*v)
		return true;
	for (; *v; v++)
		if (*v == ' ' || *v == '=' || *v == '"' || *v == '\\' || (unsigned char)*v < 0x20)
			return true;
	return false;
}

static void put(char *buf, size_t cap, size_t *len, char c)
{
	if (*len + 1 < cap)
		buf[(*len)++] = c;
	buf[*len < cap ? *len : cap - 1] = '\0';
}

void xl4_logfmt_pair(char *buf, size_t cap, size_t *len, const char *key, const char *value)
{
	bool q = needs_quotes(value);

	if (!cap)
		return;
	if (*len)
		put(buf, cap, len, ' ');
	for (; *key; key++)
		put(buf, cap, len, *key);
	put(buf, cap, len, '=');
	if (q)
		put(buf, cap, len, '"');
	for (; *value; value++) {
		unsigned char c = *value;

		if (c == '"' || c == '\\') {
			put(buf, cap, len, '\\');
			put(buf, cap, len, c);
		} else if (c == '\n') {
			put(buf, cap, len, '\\');
			put(buf, cap, len, 'n');
		} else if (c < 0x20) {
			put(buf, cap, len, ' '); /* one line per event, always */
		} else {
			put(buf, cap, len, c);
		}
	}
	if (q)
		put(buf, cap, len, '"');
}

void xl4_kv(struct xl4_kv *kv, const char *key, const char *fmt, ...)
{
	char v[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(v, sizeof(v), fmt, ap);
	va_end(ap);
	xl4_logfmt_pair(kv->buf, sizeof(kv->buf), &kv->len, key, v);
}

size_t xl4_logfmt_line(char *out, size_t outlen, enum xl4_log_level level, const char *time,
		       const char *event, const char *kv)
{
	size_t len = 0;

	if (!outlen)
		return 0;
	out[0] = '\0';
	xl4_logfmt_pair(out, outlen, &len, "level", level_names[level]);
	xl4_logfmt_pair(out, outlen, &len, "time", time);
	xl4_logfmt_pair(out, outlen, &len, "event", event);
	if (kv && *kv) {
		put(out, outlen, &len, ' ');
		for (; *kv; kv++)
			put(out, outlen, &len, *kv);
	}
	return len;
}

/* RFC 3339 UTC with milliseconds: what journald and log shippers parse without a hint. */
static void now_utc(char *out, size_t len)
{
	struct timespec ts;
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	snprintf(out, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ts.tv_nsec / 1000000) % 1000);
}

/* One write per line: the health and HTTP threads log too, lines must not interleave. */
static void emit(enum xl4_log_level level, const char *event, const char *kv)
{
	char line[2048], t[64];
	size_t n;

	if (structured) {
		static const char prio[] = { '4', '6', '7' }; /* LOG_WARNING, LOG_INFO, LOG_DEBUG */
		size_t p = 0;

		if (journal_prefix) {
			line[0] = '<', line[1] = prio[level], line[2] = '>';
			p = 3;
		}
		now_utc(t, sizeof(t));
		n = p + xl4_logfmt_line(line + p, sizeof(line) - 1 - p, level, t, event, kv);
	} else {
		n = snprintf(line, sizeof(line) - 1, "xl4: %s: %s%s%s", level_names[level],
			     strcmp(event, "message") ? event : "",
			     strcmp(event, "message") && *kv ? " " : "", kv);
		if (n > sizeof(line) - 2)
			n = sizeof(line) - 2;
	}
	line[n++] = '\n';
	fwrite(line, 1, n, stderr);
}

void xl4_log_event(enum xl4_log_level level, const char *event, const struct xl4_kv *kv)
{
	if ((int)level > xl4_verbosity)
		return;
	emit(level, event, kv ? kv->buf : "");
}

/* Free text: the message itself in plain mode, msg="..." in structured mode. */
static void vlog(enum xl4_log_level level, const char *event, const char *fmt, va_list ap)
{
	char raw[1024], buf[1024];
	size_t n;

	vsnprintf(raw, sizeof(raw), fmt, ap);
	n = strlen(raw);
	while (n && raw[n - 1] == '\n')
		raw[--n] = '\0';
	xl4_visible(raw, buf, sizeof(buf)); /* a config value's bytes must not reach the log raw */
	if (structured) {
		struct xl4_kv kv = XL4_KV_INIT;

		xl4_logfmt_pair(kv.buf, sizeof(kv.buf), &kv.len, "msg", buf);
		emit(level, event, kv.buf);
	} else {
		fprintf(stderr, "xl4: %s: %s%s%s\n", level_names[level],
			strcmp(event, "message") ? event : "", strcmp(event, "message") ? ": " : "", buf);
	}
}

void xl4_log(enum xl4_log_level level, const char *fmt, ...)
{
	va_list ap;

	if ((int)level > xl4_verbosity)
		return;
	va_start(ap, fmt);
	vlog(level, "message", fmt, ap);
	va_end(ap);
}

/* libbpf's warnings are mostly verifier logs and probe noise: show them only with -vv. */
static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	/* One libbpf warning is worth showing always: the map whose pin does not fit. */
	if (level == LIBBPF_WARN && xl4_verbosity < XL4_LOG_DEBUG && strstr(fmt, "reuse pinned map")) {
		vlog(XL4_LOG_WARN, "libbpf", fmt, ap);
		return 0;
	}
	if (xl4_verbosity < XL4_LOG_DEBUG)
		return 0;
	if (structured) {
		vlog(XL4_LOG_DEBUG, "libbpf", fmt, ap);
		return 0;
	}
	fputs("libbpf: ", stderr);
	return vfprintf(stderr, fmt, ap);
}

void xl4_log_init(int verbosity)
{
	xl4_verbosity = verbosity;
	libbpf_set_print(libbpf_print);
}

/* Length of the valid UTF-8 sequence at p (RFC 3629: no overlongs, no surrogates, at most
 * U+10FFFF), or 0. */
static size_t utf8_len(const unsigned char *p)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t n;

	if (*p < 0x80)
		return 1;
	if (*p >= 0xc2 && *p <= 0xdf)
		n = 2;
	else if (*p >= 0xe0 && *p <= 0xef)
		n = 3, lo = *p == 0xe0 ? 0xa0 : 0x80, hi = *p == 0xed ? 0x9f : 0xbf;
	else if (*p >= 0xf0 && *p <= 0xf4)
		n = 4, lo = *p == 0xf0 ? 0x90 : 0x80, hi = *p == 0xf4 ? 0x8f : 0xbf;
	else
		return 0;
	if (p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return n;
}

char *xl4_visible(const char *in, char *out, size_t cap)
{
	const unsigned char *p = (const unsigned char *)in;
	size_t len = 0;

	if (!cap)
		return out;
	while (*p) {
		size_t n = utf8_len(p);
		/* C0 controls, DEL and C1 controls (U+0080..U+009F) steer terminals and split logs */
		bool ctl = n == 1 ? *p < 0x20 || *p == 0x7f : n == 2 && p[0] == 0xc2 && p[1] < 0xa0;

		if (n && !ctl) {
			if (len + n >= cap)
				break;
			memcpy(out + len, p, n);
			len += n;
			p += n;
			continue;
		}
		n = n ? n : 1;
		if (len + 4 * n >= cap)
			break;
		for (size_t i = 0; i < n; i++, len += 4)
			snprintf(out + len, 5, "\\x%02x", *p++);
	}
	out[len] = '\0';
	return out;
}

int xl4_errf(char *err, size_t errlen, int ret, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return ret;
}
