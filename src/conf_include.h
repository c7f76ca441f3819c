/* SPDX-License-Identifier: GPL-2.0 */
/* What libconfig 1.5 cannot be trusted to read: its scanner calls exit() when a read fails (an
 * @include naming a directory ends the process: the daemon, on a reload), blocks on a FIFO and
 * never finishes a device. Checked before libconfig sees the text. */
#ifndef XL4_CONF_INCLUDE_H
#define XL4_CONF_INCLUDE_H

#include <stddef.h>

/* libconfig and the second reading (conf_lit.h) each hold a file whole in memory: a config,
 * its includes one by one, may be this large (3 million list entries take ~60 MiB). */
#define XL4_CONF_MAX_BYTES (256 << 20)

/* Is path, if it exists, a regular file of at most XL4_CONF_MAX_BYTES? 0, or -EINVAL with err
 * saying what it is instead, or -EFBIG with its size. */
int xl4_conf_regular(const char *path, char *err, size_t errlen);

/* Where libconfig looks for @include "name": in include_dir unless the name is absolute
 * (include_dir NULL: as given). */
void xl4_conf_include_path(char *path, size_t size, const char *include_dir, const char *name);

/* Every @include in text, and in the files those include (to libconfig's depth of 10), names a
 * regular file or nothing that exists (libconfig reports that one itself). Names are resolved
 * as libconfig resolves them: in include_dir unless absolute (include_dir NULL: as given).
 * 0, or -EINVAL with err naming the include, where it stands, and what it is. */
int xl4_conf_includes_check(const char *text, const char *name, const char *include_dir, char *err,
			    size_t errlen);

#endif
