/* SPDX-License-Identifier: GPL-2.0 */
/* What libconfig 1.5 cannot be trusted to read: its scanner calls exit() when a read fails (an
 * @include naming a directory ends the process: the daemon, on a reload), blocks on a FIFO and
 * never finishes a device. Every file libconfig would open is found and checked before
 * libconfig sees the text, by a walk that follows its scanner (lib/scanner.l, 1.5) exactly. */
#ifndef XL4_CONF_INCLUDE_H
#define XL4_CONF_INCLUDE_H

#include <stdbool.h>
#include <stddef.h>

/* libconfig and the second reading (conf_lit.h) each hold a file whole in memory: a config,
 * its includes one by one, may be this large (3 million list entries take ~60 MiB). */
#define XL4_CONF_MAX_BYTES (256 << 20)
/* @include files in all, counted as libconfig would open them (a file included 10 times by
 * each of 10 nested files is 10^10 reads: libconfig would try) */
#define XL4_CONF_MAX_INCLUDES 10000

/* Is path, if it exists, a regular file of at most XL4_CONF_MAX_BYTES? 0, or -EINVAL with err
 * saying what it is instead, or -EFBIG with its size. */
int xl4_conf_regular(const char *path, char *err, size_t errlen);

/* A regular file of at most XL4_CONF_MAX_BYTES, read to its end (malloc'd, NUL added; *len,
 * if given, its length, NULs inside included), or NULL with errno set (EINVAL: not a regular
 * file; EFBIG: too large). Never blocks: a FIFO or a device is refused, not read. */
char *xl4_conf_read_file(const char *path, size_t *len);

/* Where libconfig 1.5 opens @include "name": include_dir "/" name whenever include_dir is set,
 * even for an absolute name (include_dir NULL: name as given). malloc'd, or NULL. */
char *xl4_conf_include_path(const char *include_dir, const char *name);

/* An @include name as libconfig's scanner reads it (malloc'd growing string). */
struct xl4_conf_incname {
	char *s;
	size_t n, cap;
	bool dropped; /* a lone backslash was dropped: the name is not what it looks like */
};

/* Read an @include name from p (just past its opening quote), at most len bytes, as libconfig
 * 1.5 does: \\ and \" stand for \ and ", any other backslash is dropped, and a run of plain
 * characters ends at its first NUL. Appends to *name; returns the bytes used, the closing
 * quote included when *closed. -1 when out of memory. */
long xl4_conf_include_name(struct xl4_conf_incname *name, const char *p, size_t len, bool *closed);

/* Called for each file libconfig would open for an @include: path as it would open it, name
 * as libconfig read it, where = "FILE:LINE" of the @include, read_err 0 when the file was
 * read whole (and is walked next) or why xl4_conf_read_file() failed. Nonzero stops the walk. */
typedef int (*xl4_conf_include_fn)(void *ctx, const char *path, const struct xl4_conf_incname *name,
				   const char *where, int read_err);

/* Walk text (len bytes, named name; includes found in include_dir or as given) as libconfig's
 * scanner does, and every file it includes in turn: comments, strings and an unfinished name
 * carry over a file's end into its includer, as in libconfig, and @include counts only at
 * the start of a line. Calls visit for each include, after trying to read it. Every file
 * libconfig opens is visited (tests/fuzz/fuzz_config.c checks this); past a point where
 * libconfig stops with an error a few more may be. 0, visit's value, or -errno with err
 * saying what libconfig 1.5 would do wrong silently or fail on: a name with a backslash it
 * drops, a name or a comment never closed, nesting past its 10 levels (where it stops, so
 * does the walk), more than XL4_CONF_MAX_INCLUDES includes. */
int xl4_conf_includes_walk(const char *text, size_t len, const char *name, const char *include_dir,
			   xl4_conf_include_fn visit, void *ctx, char *err, size_t errlen);

/* The walk above, also refusing an include that does not exist, is not a regular file of at
 * most XL4_CONF_MAX_BYTES or fails to read (/proc/self/mem). 0, or -errno with err naming the
 * include, where it stands, and what is wrong. */
int xl4_conf_includes_check(const char *text, size_t len, const char *name, const char *include_dir,
			    char *err, size_t errlen);

#endif
