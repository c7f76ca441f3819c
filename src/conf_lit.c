// SPDX-License-Identifier: GPL-2.0
/* A second reading of the config text, after libconfig accepted it, that keeps what libconfig
 * throws away: each scalar's text, by the path config.c names settings with. The grammar is
 * libconfig's (settings "name = value;" or "name: value", groups { }, lists ( ), arrays [ ],
 * adjacent strings, # // and C comments, @include "file" spliced in where it stands); text it
 * does not follow simply yields no entry, which config.c treats as an error. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "conf_include.h"
#include "conf_lit.h"

#define LIT_PATH_MAX 256
#define LIT_WORD_MAX 128
#define LIT_INCLUDE_DEPTH 10 /* libconfig's own limit */

struct lit {
	char *path;
	char *text;
};

struct xl4_conf_lits {
	struct lit *v;
	size_t n, cap;
};

struct src {
	char *own;		/* an included file's text, freed at its end */
	const char *p;
};

enum tok { T_EOF, T_PUNCT, T_STRING, T_WORD, T_BAD };

struct scan {
	struct xl4_conf_lits *out;
	const char *include_dir;
	struct src stack[LIT_INCLUDE_DEPTH + 1];
	int depth;
	enum tok peeked;	/* T_BAD: nothing peeked */
	char word[LIT_WORD_MAX];
	bool bad;
	bool in_comment; /* a C comment open at the end of an included file */
};

static bool push_include(struct scan *sc, const char *name)
{
	char *path, *text;

	if (sc->depth >= LIT_INCLUDE_DEPTH)
		return false;
	path = xl4_conf_include_path(sc->include_dir, name);
	text = path ? xl4_conf_read_file(path, NULL) : NULL;
	free(path);
	if (!text)
		return false;
	sc->stack[++sc->depth] = (struct src){ .own = text, .p = text };
	return true;
}

/* Skip blanks and comments; pop finished include files. A comment, like a string, runs on
 * past an included file's end into its includer: flex switches the buffer, not the state. */
static const char *skip(struct scan *sc)
{
	for (;;) {
		const char *p = sc->stack[sc->depth].p;

		if (sc->in_comment) {
			const char *e = strstr(p, "*/");

			sc->in_comment = !e;
			p = e ? e + 2 : p + strlen(p);
		} else {
			while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r' || *p == '\f')
				p++;
			if (*p == '#' || (p[0] == '/' && p[1] == '/')) {
				p += strcspn(p, "\n");
			} else if (p[0] == '/' && p[1] == '*') {
				sc->in_comment = true;
				p += 2;
			} else if (*p) {
				sc->stack[sc->depth].p = p;
				return p;
			}
		}
		if (!*p && sc->depth) {
			free(sc->stack[sc->depth].own);
			sc->depth--;
			continue;
		}
		sc->stack[sc->depth].p = p;
		if (!*p)
			return p;
	}
}

/* The rest of a string from p, past its closing quote if *closed (backslash escapes inside). */
static const char *string_rest(const char *p, bool *closed)
{
	for (; *p && *p != '"'; p++)
		if (*p == '\\' && p[1])
			p++;
	*closed = *p == '"';
	return *closed ? p + 1 : p;
}

/* One @include at p, spliced in: true, or false if libconfig would not have followed it. */
static bool lex_include(struct scan *sc, const char *p)
{
	struct xl4_conf_incname name = { 0 };
	const char *q = p + 8 + strspn(p + 8, " \t");
	bool closed, pushed;
	long used;

	if (*q != '"')
		return false;
	used = xl4_conf_include_name(&name, q + 1, strlen(q + 1), &closed);
	pushed = used >= 0 && closed && push_include(sc, name.s);
	free(name.s);
	if (pushed)
		sc->stack[sc->depth - 1].p = q + 1 + used;
	return pushed;
}

static enum tok lex(struct scan *sc)
{
	const char *p = skip(sc);
	size_t n;

	/* a loop, not a recursion per include: 10,000 includes in a row are allowed */
	while (!strncmp(p, "@include", 8)) {
		if (!lex_include(sc, p))
			return T_BAD;
		p = skip(sc);
	}
	if (!*p)
		return T_EOF;
	if (strchr("=:;,{}()[]", *p)) {
		sc->word[0] = *p;
		sc->word[1] = '\0';
		sc->stack[sc->depth].p = p + 1;
		return T_PUNCT;
	}
	if (*p == '"') {
		bool closed;

		p = string_rest(p + 1, &closed);
		while (!closed && sc->depth) { /* ends in the includer */
			free(sc->stack[sc->depth].own);
			sc->depth--;
			p = string_rest(sc->stack[sc->depth].p, &closed);
		}
		sc->stack[sc->depth].p = p;
		return T_STRING;
	}
	n = strspn(p, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-+.*");
	if (!n || n >= sizeof(sc->word))
		return T_BAD;
	memcpy(sc->word, p, n);
	sc->word[n] = '\0';
	sc->stack[sc->depth].p = p + n;
	return T_WORD;
}

static enum tok next(struct scan *sc)
{
	enum tok t = sc->peeked;

	if (t != T_BAD) {
		sc->peeked = T_BAD;
		return t;
	}
	t = lex(sc);
	if (t == T_BAD)
		sc->bad = true;
	return t;
}

static enum tok peek(struct scan *sc)
{
	if (sc->peeked == T_BAD)
		sc->peeked = next(sc);
	return sc->peeked;
}

static bool peek_punct(struct scan *sc, char c)
{
	return peek(sc) == T_PUNCT && sc->word[0] == c;
}

static void record(struct scan *sc, const char *path, const char *text)
{
	struct xl4_conf_lits *l = sc->out;

	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		struct lit *v = realloc(l->v, cap * sizeof(*v));

		if (!v) {
			sc->bad = true;
			return;
		}
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n].path = strdup(path);
	l->v[l->n].text = strdup(text);
	if (!l->v[l->n].path || !l->v[l->n].text) {
		free(l->v[l->n].path);
		free(l->v[l->n].text);
		sc->bad = true;
		return;
	}
	l->n++;
}

static void parse_settings(struct scan *sc, const char *prefix, char closer, int nest);

/* One value at path; lists and arrays name their elements path[i]. */
static void parse_value(struct scan *sc, const char *path, int nest)
{
	enum tok t = next(sc);
	char sub[LIT_PATH_MAX];
	char close;

	if (nest > 64) { /* deeper than libconfig's parser stack takes */
		sc->bad = true;
		return;
	}
	if (t == T_WORD) {
		record(sc, path, sc->word);
		return;
	}
	if (t == T_STRING) {
		while (peek(sc) == T_STRING)
			next(sc);
		return;
	}
	if (t != T_PUNCT) {
		sc->bad = true;
		return;
	}
	if (sc->word[0] == '{') {
		parse_settings(sc, path, '}', nest + 1);
		return;
	}
	if (sc->word[0] != '(' && sc->word[0] != '[') {
		sc->bad = true;
		return;
	}
	close = sc->word[0] == '(' ? ')' : ']';
	for (int i = 0; !sc->bad; i++) {
		if (peek_punct(sc, close)) {
			next(sc);
			return;
		}
		snprintf(sub, sizeof(sub), "%s[%d]", path, i);
		parse_value(sc, sub, nest + 1);
		if (peek_punct(sc, ','))
			next(sc);
		else if (!peek_punct(sc, close))
			sc->bad = true;
	}
}

static void parse_settings(struct scan *sc, const char *prefix, char closer, int nest)
{
	char path[LIT_PATH_MAX];

	while (!sc->bad) {
		enum tok t = next(sc);

		if (t == T_EOF && !closer)
			return;
		if (t == T_PUNCT && sc->word[0] == closer)
			return;
		if (t != T_WORD) {
			sc->bad = true;
			return;
		}
		snprintf(path, sizeof(path), "%s%s%s", prefix, *prefix ? "." : "", sc->word);
		if (next(sc) != T_PUNCT || (sc->word[0] != '=' && sc->word[0] != ':')) {
			sc->bad = true;
			return;
		}
		parse_value(sc, path, nest);
		if (peek_punct(sc, ';') || peek_punct(sc, ','))
			next(sc);
	}
}

static int lit_cmp(const void *a, const void *b)
{
	return strcmp(((const struct lit *)a)->path, ((const struct lit *)b)->path);
}

struct xl4_conf_lits *xl4_conf_lits_scan(const char *text, const char *include_dir)
{
	struct xl4_conf_lits *l = calloc(1, sizeof(*l));
	struct scan sc = { .out = l, .include_dir = include_dir, .peeked = T_BAD };

	if (!l)
		return NULL;
	sc.stack[0].p = text;
	parse_settings(&sc, "", '\0', 0);
	while (sc.depth)
		free(sc.stack[sc.depth--].own);
	/* sorted for bsearch: 64 VIPs of 4096 backends make a quarter million weights */
	if (l->n)
		qsort(l->v, l->n, sizeof(*l->v), lit_cmp);
	return l;
}

const char *xl4_conf_lit(const struct xl4_conf_lits *l, const char *path)
{
	struct lit key = { .path = (char *)path };
	const struct lit *hit;

	if (!l || !l->n)
		return NULL;
	hit = bsearch(&key, l->v, l->n, sizeof(*l->v), lit_cmp);
	return hit ? hit->text : NULL;
}

void xl4_conf_lits_free(struct xl4_conf_lits *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].path);
		free(l->v[i].text);
	}
	free(l->v);
	free(l);
}
