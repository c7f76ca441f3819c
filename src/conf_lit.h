/* SPDX-License-Identifier: GPL-2.0 */
/* The scalars of a config file as written, by setting path ("vips[0].backends[1].weight").
 * libconfig 1.5 keeps only the value, and reads a plain integer with atoi(): 4294967299 comes
 * back as 3 and 99999999999 as 1215752191. config.c checks every integer from its text here. */
#ifndef XL4_CONF_LIT_H
#define XL4_CONF_LIT_H

struct xl4_conf_lits;

/* Scan text (from a file in include_dir, or NULL) after libconfig accepted it; @include is
 * followed as libconfig follows it. NULL only when out of memory. */
struct xl4_conf_lits *xl4_conf_lits_scan(const char *text, const char *include_dir);
/* The scalar at path as written, or NULL. */
const char *xl4_conf_lit(const struct xl4_conf_lits *l, const char *path);
void xl4_conf_lits_free(struct xl4_conf_lits *l);

#endif
