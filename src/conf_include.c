// SPDX-License-Identifier: GPL-2.0
/* The @include walk (conf_include.h). libconfig 1.5's scanner, reduced to what decides which
 * files it opens: four states (INITIAL, COMMENT, STRING, INCLUDE) that flex keeps across a
 * file's end, since popping an include switches the buffer, not the state. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf_include.h"

#define INCLUDE_DEPTH 10 /* libconfig's MAX_INCLUDE_DEPTH */

static const char *kind_of(mode_t m)
{
	return S_ISDIR(m)  ? "a directory" :
	       S_ISFIFO(m) ? "a FIFO" :
	       S_ISCHR(m)  ? "a character device" :
	       S_ISBLK(m)  ? "a block device" :
	       S_ISSOCK(m) ? "a socket" :
			     "not a regular file";
}

/* What is wrong with st as a config file, or NULL. */
static const char *not_config(const struct stat *st, char *buf, size_t size)
{
	if (!S_ISREG(st->st_mode)) {
		snprintf(buf, size, "%s, not a config file", kind_of(st->st_mode));
		return buf;
	}
	if (st->st_size > XL4_CONF_MAX_BYTES) {
		snprintf(buf, size, "%lld bytes, more than a config file may have (%d MiB)",
			 (long long)st->st_size, XL4_CONF_MAX_BYTES >> 20);
		return buf;
	}
	return NULL;
}

int xl4_conf_regular(const char *path, char *err, size_t errlen)
{
	char what[128];
	struct stat st;

	if (stat(path, &st) || !not_config(&st, what, sizeof(what)))
		return 0;
	snprintf(err, errlen, "%.200s: %s", path, what);
	return S_ISREG(st.st_mode) ? -EFBIG : -EINVAL;
}

char *xl4_conf_read_file(const char *path, size_t *len)
{
	size_t n = 0, cap = 0;
	char *buf = NULL;
	struct stat st;
	int fd, e = 0;

	/* stat first: opening a device can act (a watchdog arms, a tape rewinds on close) */
	if (stat(path, &st))
		return NULL;
	if (!S_ISREG(st.st_mode)) {
		errno = EINVAL;
		return NULL;
	}
	fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	if (fstat(fd, &st)) /* replaced meanwhile? what is open now is what counts */
		e = errno;
	else if (!S_ISREG(st.st_mode))
		e = EINVAL;
	else if (st.st_size > XL4_CONF_MAX_BYTES)
		e = EFBIG;
	/* to the end, not to st_size: /proc and /sys files say 0 or 4096 whatever they hold, and
	 * some fail the read itself (/proc/self/mem: EIO), on which libconfig's scanner exits */
	while (!e) {
		ssize_t r;

		if (n + 1 >= cap) {
			char *more;

			cap = cap ? cap * 2 : (size_t)st.st_size + 4096;
			if (cap > (size_t)XL4_CONF_MAX_BYTES + 2)
				cap = (size_t)XL4_CONF_MAX_BYTES + 2;
			if (!(more = realloc(buf, cap))) {
				e = ENOMEM;
				break;
			}
			buf = more;
		}
		r = read(fd, buf + n, cap - 1 - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			e = errno;
		else if (r == 0)
			break;
		else if ((n += (size_t)r) > XL4_CONF_MAX_BYTES)
			e = EFBIG;
	}
	close(fd);
	if (e) {
		free(buf);
		errno = e;
		return NULL;
	}
	buf[n] = '\0';
	if (len)
		*len = n;
	return buf;
}

char *xl4_conf_include_path(const char *include_dir, const char *name)
{
	char *path;

	if (!include_dir)
		return strdup(name);
	return asprintf(&path, "%s/%s", include_dir, name) < 0 ? NULL : path;
}

static int name_append(struct xl4_conf_incname *name, const char *s, size_t n)
{
	if (name->n + n + 1 > name->cap) {
		size_t cap = (name->n + n + 1) * 2;
		char *p = realloc(name->s, cap);

		if (!p)
			return -1;
		name->s = p;
		name->cap = cap;
	}
	memcpy(name->s + name->n, s, n);
	name->n += n;
	name->s[name->n] = '\0';
	return 0;
}

long xl4_conf_include_name(struct xl4_conf_incname *name, const char *p, size_t len, bool *closed)
{
	size_t i = 0;

	*closed = false;
	if (name_append(name, "", 0))
		return -1;
	while (i < len) {
		size_t run = i;

		if (p[i] == '"') {
			*closed = true;
			return (long)i + 1;
		}
		if (p[i] == '\\') {
			/* <INCLUDE>\\\\ and \\\" rules; a lone backslash matches no rule, and flex's
			 * default rule echoes it to stdout instead */
			if (i + 1 < len && (p[i + 1] == '\\' || p[i + 1] == '"')) {
				if (name_append(name, p + i + 1, 1))
					return -1;
				i += 2;
			} else {
				name->dropped = true;
				i++;
			}
			continue;
		}
		while (i < len && p[i] != '"' && p[i] != '\\')
			i++;
		/* <INCLUDE>[^\"\\]+ is appended as a C string: a NUL ends what counts */
		if (name_append(name, p + run, strnlen(p + run, i - run)))
			return -1;
	}
	return (long)i;
}

enum lc_state { LC_INITIAL, LC_COMMENT, LC_STRING, LC_INCLUDE };

struct walk {
	const char *include_dir;
	xl4_conf_include_fn visit;
	void *ctx;
	char *err;
	size_t errlen;
	enum lc_state st;
	struct xl4_conf_incname name; /* the @include being read: it may run on past a file's end */
	char where[256]; /* FILE:LINE of that @include, or of the open comment or string */
	int depth, includes;
	size_t bytes; /* read by includes so far */
};

__attribute__((format(printf, 3, 4))) static int walk_fail(struct walk *w, int ret, const char *fmt,
							   ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(w->err, w->errlen, fmt, ap);
	va_end(ap);
	return ret;
}

/* Line numbers as the walk goes: counting from the top for each include is quadratic. */
struct lines {
	const char *at;
	int line;
};

static int line_at(struct lines *l, const char *p)
{
	for (; l->at < p; l->at++)
		l->line += *l->at == '\n';
	return l->line;
}

/* include_open: ^[ \t]*@include[ \t]+\" — where the name starts, or NULL. */
static const char *include_open(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	if (end - p < 9 || memcmp(p, "@include", 8) || (p[8] != ' ' && p[8] != '\t'))
		return NULL;
	for (p += 8; p < end && (*p == ' ' || *p == '\t'); p++)
		;
	return p < end && *p == '"' ? p + 1 : NULL;
}

/* Where what starts at p stands, for an error about it. */
static void mark(struct walk *w, const char *file, struct lines *lines, const char *p)
{
	snprintf(w->where, sizeof(w->where), "%.200s:%d", file, line_at(lines, p));
}

static int walk_text(struct walk *w, const char *text, size_t len, const char *file);

/* The name is complete: libconfig opens it now, then reads on in INITIAL from the top of the
 * included file (or stops with an error, past which anything we check is extra). */
static int include(struct walk *w)
{
	char *path, *name, *sub;
	size_t n;
	int ret;

	w->st = LC_INITIAL;
	if (w->name.dropped)
		return walk_fail(
			w, -EINVAL,
			"%s: @include \"%.200s\" (as libconfig 1.5 reads it): a backslash not "
			"followed by \\ or \" is dropped; write \\\\ for a backslash",
			w->where, w->name.s);
	if (w->depth == INCLUDE_DEPTH) /* where libconfig stops, so does the walk */
		return walk_fail(
			w, -ELOOP,
			"%s: @include \"%.200s\": include file nesting too deep (libconfig "
			"1.5 stops at %d levels)",
			w->where, w->name.s, INCLUDE_DEPTH);
	if (++w->includes > XL4_CONF_MAX_INCLUDES) /* libconfig would read them all */
		return walk_fail(w, -E2BIG,
				 "%s: @include \"%.200s\": more than %d files included in all",
				 w->where, w->name.s, XL4_CONF_MAX_INCLUDES);
	if (!(path = xl4_conf_include_path(w->include_dir, w->name.s)) ||
	    !(name = strdup(w->name.s))) {
		free(path);
		return -ENOMEM;
	}
	sub = xl4_conf_read_file(path, &n);
	ret = w->visit(w->ctx, path, &w->name, w->where, sub ? 0 : errno);
	if (!ret && sub && (w->bytes += n) > XL4_CONF_MAX_BYTES) /* one big file many times */
		ret = walk_fail(
			w, -EFBIG,
			"%s: @include \"%.200s\": the files included come to more than %d MiB "
			"in all",
			w->where, w->name.s, XL4_CONF_MAX_BYTES >> 20);
	if (!ret && sub) {
		w->depth++;
		ret = walk_text(w, sub, n, name);
		w->depth--;
	}
	free(sub);
	free(path);
	free(name);
	return ret;
}

static int walk_text(struct walk *w, const char *text, size_t len, const char *file)
{
	const char *p = text, *end = text + len, *q;
	struct lines lines = { text, 1 };
	bool closed;
	long used;
	int ret;

	while (p < end) {
		switch (w->st) {
		case LC_COMMENT:
			q = memmem(p, end - p, "*/", 2);
			p = q ? q + 2 : end;
			w->st = q ? LC_INITIAL : LC_COMMENT;
			break;
		case LC_STRING:
			if (*p == '\\')
				p += end - p > 1 ? 2 : 1; /* an escape never ends the string */
			else if (*p++ == '"')
				w->st = LC_INITIAL;
			break;
		case LC_INCLUDE:
			used = xl4_conf_include_name(&w->name, p, end - p, &closed);
			if (used < 0)
				return -ENOMEM;
			p += used;
			if (closed && (ret = include(w)))
				return ret;
			break;
		case LC_INITIAL:
			/* ^ is flex's start of a line: the start of a buffer, or just after a \n that
			 * INITIAL read (COMMENT and STRING end on a quote or a slash, never on \n) */
			if ((p == text || p[-1] == '\n') && (q = include_open(p, end))) {
				mark(w, file, &lines, p);
				w->name.n = 0;
				w->name.dropped = false;
				w->st = LC_INCLUDE;
				p = q;
			} else if (*p == '"') {
				mark(w, file, &lines, p);
				w->st = LC_STRING;
				p++;
			} else if (*p == '#' || (*p == '/' && end - p > 1 && p[1] == '/')) {
				q = memchr(p, '\n', end - p); /* (#|\/\/).*$ */
				p = q ? q : end;
			} else if (*p == '/' && end - p > 1 && p[1] == '*') {
				mark(w, file, &lines, p);
				w->st = LC_COMMENT;
				p += 2;
			} else {
				p++; /* no other INITIAL token holds a quote, # or / */
			}
			break;
		}
	}
	return 0;
}

int xl4_conf_includes_walk(const char *text, size_t len, const char *name, const char *include_dir,
			   xl4_conf_include_fn visit, void *ctx, char *err, size_t errlen)
{
	struct walk w = {
		.include_dir = include_dir, .visit = visit, .ctx = ctx, .err = err, .errlen = errlen
	};
	int ret = walk_text(&w, text, len, name);

	/* libconfig ends quietly in these three, and the rest is lost without a word */
	if (!ret && w.st == LC_INCLUDE)
		ret = walk_fail(
			&w, -EINVAL,
			"%s: @include \"%.200s: the name has no closing quote (libconfig 1.5 "
			"would leave the include out)",
			w.where, w.name.s);
	else if (!ret && w.st == LC_STRING)
		ret = walk_fail(
			&w, -EINVAL,
			"%s: a string opened here is never closed (libconfig 1.5 would leave "
			"out everything after it)",
			w.where);
	else if (!ret && w.st == LC_COMMENT)
		ret = walk_fail(&w, -EINVAL,
				"%s: a /* comment is never closed (libconfig 1.5 would leave out "
				"everything after it)",
				w.where);
	if (ret == -ENOMEM)
		walk_fail(&w, ret, "%s: out of memory reading its @include files", name);
	free(w.name.s);
	return ret;
}

struct check {
	const char *include_dir;
	char *err;
	size_t errlen;
};

static int check_one(void *ctx, const char *path, const struct xl4_conf_incname *inc,
		     const char *where, int read_err)
{
	const char *name = inc->s;
	struct check *c = ctx;
	char what[128];
	struct stat st;

	if (!read_err)
		return 0;
	if (stat(path, &st)) {
		int e = errno;

		snprintf(
			c->err, c->errlen, "%s: @include \"%.200s\": %s (%.200s%s)", where, name,
			strerror(e), path,
			c->include_dir && name[0] == '/' ?
				": libconfig 1.5 puts the config's directory before every @include name, "
				"an absolute one too" :
				"");
		return -e;
	}
	if (not_config(&st, what, sizeof(what))) {
		snprintf(c->err, c->errlen, "%s: @include \"%.200s\": %s", where, name, what);
		return S_ISREG(st.st_mode) ? -EFBIG : -EINVAL;
	}
	if (read_err != EACCES) { /* EACCES: libconfig cannot open it either, and says so */
		snprintf(c->err, c->errlen, "%s: @include \"%.200s\": cannot be read: %s (%.200s)",
			 where, name, strerror(read_err), path);
		return -read_err;
	}
	return 0;
}

int xl4_conf_includes_check(const char *text, size_t len, const char *name, const char *include_dir,
			    char *err, size_t errlen)
{
	struct check c = { .include_dir = include_dir, .err = err, .errlen = errlen };

	return xl4_conf_includes_walk(text, len, name, include_dir, check_one, &c, err, errlen);
}
