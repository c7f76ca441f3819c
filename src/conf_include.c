// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "conf_include.h"
#include "conf_lit.h"

#define INCLUDE_DEPTH 10 /* libconfig's own limit */

static const char *kind_of(mode_t m)
{
	return S_ISDIR(m)  ? "a directory" :
	       S_ISFIFO(m) ? "a FIFO" :
	       S_ISCHR(m)  ? "a character device" :
	       S_ISBLK(m)  ? "a block device" :
	       S_ISSOCK(m) ? "a socket" :
			     "not a regular file";
}

int xl4_conf_regular(const char *path, char *err, size_t errlen)
{
	struct stat st;

	if (stat(path, &st))
		return 0;
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%.200s: %s, not a config file", path, kind_of(st.st_mode));
		return -EINVAL;
	}
	if (st.st_size > XL4_CONF_MAX_BYTES) {
		snprintf(err, errlen,
			 "%.200s: %lld bytes, more than a config file may have (%d MiB)", path,
			 (long long)st.st_size, XL4_CONF_MAX_BYTES >> 20);
		return -EFBIG;
	}
	return 0;
}

void xl4_conf_include_path(char *path, size_t size, const char *include_dir, const char *name)
{
	if (include_dir && name[0] != '/')
		snprintf(path, size, "%s/%s", include_dir, name);
	else
		snprintf(path, size, "%s", name);
}

/* The line of p in text, for the error. */
static int line_of(const char *text, const char *p)
{
	int line = 1;

	for (; text < p; text++)
		line += *text == '\n';
	return line;
}

static int check(const char *text, const char *name, const char *include_dir, int depth, char *err,
		 size_t errlen)
{
	const char *p = text;

	while (*p) {
		if (*p == '#' || (p[0] == '/' && p[1] == '/')) {
			p += strcspn(p, "\n");
		} else if (p[0] == '/' && p[1] == '*') {
			const char *e = strstr(p + 2, "*/");

			p = e ? e + 2 : p + strlen(p);
		} else if (*p == '"') {
			for (p++; *p && *p != '"'; p++)
				if (*p == '\\' && p[1])
					p++;
			p += !!*p;
		} else if (!strncmp(p, "@include", 8)) {
			const char *q = p + 8 + strspn(p + 8, " \t"), *e;
			char inc[1024], path[4096], what[512];
			char *sub;
			int ret;

			p = q;
			if (*q != '"' || !(e = strchr(q + 1, '"')) ||
			    (size_t)(e - q - 1) >= sizeof(inc))
				continue; /* not an include libconfig would follow: its error, not ours */
			memcpy(inc, q + 1, e - q - 1);
			inc[e - q - 1] = '\0';
			p = e + 1;
			xl4_conf_include_path(path, sizeof(path), include_dir, inc);
			if (xl4_conf_regular(path, what, sizeof(what))) {
				snprintf(err, errlen, "%.200s:%d: @include \"%.200s\": %s", name,
					 line_of(text, q), inc,
					 strchr(what, ':') ? strchr(what, ':') + 2 : what);
				return -EINVAL;
			}
			if (depth + 1 >= INCLUDE_DEPTH || !(sub = xl4_conf_read_text(path)))
				continue; /* too deep or unreadable: libconfig says so */
			ret = check(sub, inc, include_dir, depth + 1, err, errlen);
			free(sub);
			if (ret)
				return ret;
		} else {
			p++;
		}
	}
	return 0;
}

int xl4_conf_includes_check(const char *text, const char *name, const char *include_dir, char *err,
			    size_t errlen)
{
	return check(text, name, include_dir, 0, err, errlen);
}
