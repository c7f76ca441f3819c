// SPDX-License-Identifier: GPL-2.0
/* The config keys as documentation, printed from the rows of src/config.c: the key tables of
 * docs/config.md (`xl4 config --markdown`) and the key list of xl4.conf(5) (`xl4 config --man`).
 * A unit test checks that both files hold what these print (scripts/config-docs splices it). */
#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "config.h"

/* A section is a group with a title (lb, filter, ...); the keys of no such group make the top
 * one (sec NULL). */
static const struct xl4_conf_key *section_of(const struct xl4_conf_key *k)
{
	for (const struct xl4_conf_key *g = xl4_conf_keys; g->key; g++) {
		size_t n = strlen(g->key);

		if (g->type == XL4_CONF_GROUP && g->kind && !strncmp(k->key, g->key, n) &&
		    k->key[n] == '.')
			return g;
	}
	return NULL;
}

static void type_text(const struct xl4_conf_key *k, char *buf, size_t len)
{
	size_t used = 0;

	switch (k->type) {
	case XL4_CONF_INT:
		snprintf(buf, len, "%s %lld..%lld", k->kind ?: "integer", k->min, k->max);
		break;
	case XL4_CONF_REAL:
		snprintf(buf, len, "%s %g..%g", k->kind ?: "number", k->rmin, k->rmax);
		break;
	case XL4_CONF_BOOL:
		snprintf(buf, len, "bool");
		break;
	case XL4_CONF_ENUM:
		buf[0] = '\0';
		for (const struct xl4_conf_name *n = k->names; n->name && used < len; n++)
			if (!n->alias)
				used += snprintf(buf + used, len - used, "%s`\"%s\"`", used ? ", " : "",
						 n->name);
		break;
	default:
		snprintf(buf, len, "%s", k->kind ?: "");
		break;
	}
}

/* The default as the docs say it: a quoted or listed value in `code`. */
static void default_text(const struct xl4_conf_key *k, const struct xl4_config *def, bool code,
			 char *buf, size_t len)
{
	char v[256];

	if (k->def_doc) {
		snprintf(buf, len, "%s", k->def_doc);
		return;
	}
	xl4_conf_value(k, def, v, sizeof(v));
	snprintf(buf, len, code && (v[0] == '"' || v[0] == '[') ? "`%s`" : "%s", v);
}

static void md_table(FILE *out, const struct xl4_conf_key *sec, const struct xl4_config *def)
{
	fprintf(out, "| key | type | default | on reload | meaning |\n|---|---|---|---|---|\n");
	for (const struct xl4_conf_key *k = xl4_conf_keys; k->key; k++) {
		char type[256], dflt[256];

		if (k->type == XL4_CONF_GROUP || section_of(k) != sec)
			continue;
		type_text(k, type, sizeof(type));
		default_text(k, def, true, dflt, sizeof(dflt));
		fprintf(out, "| `%s` | %s | %s | %s | %s |\n", k->key, type, dflt,
			k->pinned_size ? "restart, new pins" : k->restart_only ? "restart" : "applied",
			k->help);
	}
}

void xl4_conf_markdown(FILE *out)
{
	struct xl4_config def;

	xl4_config_defaults(&def);
	md_table(out, NULL, &def);
	for (const struct xl4_conf_key *g = xl4_conf_keys; g->key; g++) {
		if (g->type != XL4_CONF_GROUP || !g->kind)
			continue;
		fprintf(out, "\n### %s (`%s`)\n\n", g->kind, g->key);
		if (g->help)
			fprintf(out, "%s\n\n", g->help);
		md_table(out, g, &def);
	}
}

/* One line of roff text from Markdown with `code`: code in bold, hyphens and backslashes
 * escaped, the first letter capitalised, a period at the end. */
static void roff_line(FILE *out, const char *s)
{
	bool code = false;

	if (*s == '.' || *s == '\'')
		fputs("\\&", out);
	for (const char *p = s; *p; p++) {
		if (*p == '`')
			fputs((code = !code) ? "\\fB" : "\\fR", out);
		else if (*p == '-')
			fputs("\\-", out);
		else if (*p == '\\')
			fputs("\\e", out);
		else
			fputc(p == s ? toupper((unsigned char)*p) : *p, out);
	}
	fputs(s[0] && s[strlen(s) - 1] == '.' ? "\n" : ".\n", out);
}

static void man_section(FILE *out, const struct xl4_conf_key *sec, const struct xl4_config *def)
{
	for (const struct xl4_conf_key *k = xl4_conf_keys; k->key; k++) {
		char type[256], dflt[256], line[600];

		if (k->type == XL4_CONF_GROUP || section_of(k) != sec)
			continue;
		type_text(k, type, sizeof(type));
		default_text(k, def, true, dflt, sizeof(dflt));
		snprintf(line, sizeof(line), "%s; default %s%s", type, dflt,
			 k->pinned_size ? "; changing it needs new pins (xl4 cleanup) and a restart" :
			 k->restart_only ? "; changing it needs a restart" : "");
		fprintf(out, ".TP\n.B %s\n", k->key); /* keys hold no '-' or '\\' */
		roff_line(out, line);
		roff_line(out, k->help);
	}
}

void xl4_conf_man(FILE *out)
{
	struct xl4_config def;

	xl4_config_defaults(&def);
	fprintf(out, ".SH TOP\\-LEVEL KEYS\n");
	man_section(out, NULL, &def);
	for (const struct xl4_conf_key *g = xl4_conf_keys; g->key; g++) {
		if (g->type != XL4_CONF_GROUP || !g->kind)
			continue;
		fprintf(out, ".SH ");
		for (const char *p = g->kind; *p; p++)
			fputc(toupper((unsigned char)*p), out);
		fprintf(out, " (%s)\n", g->key);
		if (g->help)
			roff_line(out, g->help);
		man_section(out, g, &def);
	}
}

void xl4_conf_text(FILE *out)
{
	struct xl4_config def;

	xl4_config_defaults(&def);
	for (const struct xl4_conf_key *k = xl4_conf_keys; k->key; k++) {
		char type[256], dflt[256];

		if (k->type == XL4_CONF_GROUP)
			continue;
		type_text(k, type, sizeof(type));
		default_text(k, &def, false, dflt, sizeof(dflt));
		fprintf(out, "%-40s %-20s ", k->key, dflt);
		for (const char *p = type; *p; p++)
			if (*p != '`')
				fputc(*p, out);
		fprintf(out, "%s\n", k->pinned_size ? " (restart, new pins)" :
				     k->restart_only ? " (restart)" : "");
	}
}
