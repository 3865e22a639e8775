/* SPDX-License-Identifier: Apache-2.0 */
/* Required-literal prefilter; see re_literal.h. */
#include <string.h>

#include "lib/re_literal.h"

struct lrun {
	char cur[RE_LITERAL_MAX];
	size_t ncur;
	struct re_literal *best;
};

static void run_end(struct lrun *r)
{
	if (r->ncur > r->best->n) {
		memcpy(r->best->s, r->cur, r->ncur);
		r->best->n = r->ncur;
	}
	r->ncur = 0;
}

static void run_add(struct lrun *r, char c)
{
	if (r->ncur == RE_LITERAL_MAX)
		run_end(r);
	r->cur[r->ncur++] = c;
}

/* Past the class at p ('['); NULL if unterminated. */
static const char *skip_class(const char *p)
{
	p++;
	if (*p == '^')
		p++;
	if (*p == ']')
		p++;
	for (; *p; p++) {
		if (*p == '\\' && p[1])
			p++;
		else if (*p == ']')
			return p + 1;
	}
	return NULL;
}

/* Past the group or class at p ('(' or '['); NULL if unbalanced. */
static const char *skip_nested(const char *p)
{
	int depth = 0;

	if (*p == '[')
		return skip_class(p);
	while (*p) {
		if (*p == '\\' && p[1]) {
			p += 2;
		} else if (*p == '[') {
			p = skip_class(p);
			if (!p)
				return NULL;
		} else if (*p == '(') {
			depth++;
			p++;
		} else if (*p == ')') {
			p++;
			if (--depth == 0)
				return p;
		} else {
			p++;
		}
	}
	return NULL;
}

/* Top-level alternation or inline options: no literal can be required. */
static bool unsafe(const char *p)
{
	int depth = 0;
	bool in_class = false;

	for (; *p; p++) {
		if (*p == '\\' && p[1]) {
			p++;
		} else if (in_class) {
			in_class = *p != ']';
		} else if (*p == '[') {
			in_class = true;
			if (p[1] == ']')
				p++;
		} else if (*p == '(') {
			if (p[1] == '?' && p[2] != ':')
				return true;
			depth++;
		} else if (*p == ')') {
			depth--;
		} else if (*p == '|' && depth == 0) {
			return true;
		}
	}
	return false;
}

static bool is_plain_escape(char c)
{
	return strchr(".^$|?*+()[]{}\\/-=:#\"' <>,@!%&~", c) != NULL;
}

/* Past what an escape letter at p takes along: \x41 \x{263a} \0 \12 (octal,
 * back references) \p{L} \g{1} \k<n> \cX. */
static const char *skip_escape_args(const char *p)
{
	char c = *p++;

	if (c == 'x' || c == 'o' || c == 'p' || c == 'P' || c == 'g' || c == 'k' || c == 'N') {
		if (*p == '{' || *p == '<' || *p == '\'') {
			char close = *p == '{' ? '}' : *p == '<' ? '>' : '\'';

			while (*p && *p != close)
				p++;
			return *p ? p + 1 : p;
		}
		/* \xhh: at most two hex digits */
		for (int i = 0; c == 'x' && i < 2 &&
				((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f') ||
				 (*p >= 'A' && *p <= 'F'));
		     i++)
			p++;
		if (c == 'p' || c == 'P' || c == 'g')
			return *p ? p + 1 : p;
		return p;
	}
	if (c >= '0' && c <= '9') {
		while (*p >= '0' && *p <= '9')
			p++;
		return p;
	}
	if (c == 'c' && *p)
		return p + 1;
	return p;
}

void re_literal_init(struct re_literal *l, const char *p)
{
	struct lrun r = {.ncur = 0, .best = l};

	l->n = 0;
	if (!p || unsafe(p))
		return;
	while (*p) {
		char c = *p;

		if (c == '(' || c == '[') {
			run_end(&r);
			p = skip_nested(p);
			if (!p)
				return;
		} else if (c == '\\') {
			if (!p[1])
				return;
			if (is_plain_escape(p[1]))
				run_add(&r, p[1]);
			else
				run_end(&r); /* \d, \w, \b, ... */
			p = skip_escape_args(p + 1);
		} else if (c == '?' || c == '*' || c == '{') {
			/* the character before is optional (or counted): not required */
			if (r.ncur)
				r.ncur--;
			run_end(&r);
			p++;
			if (c == '{')
				while (*p && *p != '}')
					p++;
			if (*p == '}')
				p++;
		} else if (c == '+') {
			run_end(&r);
			p++;
		} else if (c == '.' || c == '^' || c == '$' || c == ')' || c == '|') {
			run_end(&r);
			p++;
		} else {
			run_add(&r, c);
			p++;
		}
		/* a lazy or possessive marker after a quantifier */
		if (*p == '?' && (p[-1] == '*' || p[-1] == '+' || p[-1] == '?' || p[-1] == '}'))
			p++;
	}
	run_end(&r);
}

void re_literal_release(struct re_literal *l)
{
	l->n = 0;
}

bool re_literal_may_match(const struct re_literal *l, const char *p, size_t n)
{
	return l->n == 0 || memmem(p, n, l->s, l->n) != NULL;
}
