/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What a PCRE2 pattern requires of any text it matches, for the block skip
 * index: an AND of factors, each an OR of literal strings (the approach of
 * ripgrep's literal extraction, much simplified).  The walk is
 * conservative: a construct it does not understand (\Q..\E, \x{..},
 * lookarounds, inline options other than (?i), backreferences, ...) makes
 * the whole pattern require nothing, and everything optional (?, *, {0,n},
 * an alternation branch without a literal) adds nothing.  Requiring less
 * than the pattern does only costs speed; requiring more would lose
 * matches, so each rule below errs towards less.
 */
#include <errno.h>
#include <string.h>

#include "lib/mem.h"
#include "store/engine/blockindex.h"

#define RX_MAX_LITS 32
#define RX_MAX_FACTORS 64
#define RX_RUN_MAX 256
#define RX_MAX_DEPTH 32

struct rx_fac {
	size_t n;
	char *lit[RX_MAX_LITS];
	size_t len[RX_MAX_LITS];
};

struct rx_req {
	size_t n;
	struct rx_fac *f[RX_MAX_FACTORS];
};

struct rx {
	const char *p;
	size_t i, len;
	int depth;
	bool bail;  /* not understood: require nothing */
	bool icase; /* (?i) seen */
	bool oom;
};

static void fac_free(struct rx_fac *f)
{
	if (!f)
		return;
	for (size_t i = 0; i < f->n; i++)
		mem_free(f->lit[i]);
	mem_free(f);
}

static void req_release(struct rx_req *r)
{
	for (size_t i = 0; i < r->n; i++)
		fac_free(r->f[i]);
	r->n = 0;
}

static void req_push(struct rx *rx, struct rx_req *r, struct rx_fac *f)
{
	if (r->n == RX_MAX_FACTORS) {
		fac_free(f); /* fewer requirements: still correct */
		return;
	}
	r->f[r->n++] = f;
	(void)rx;
}

static bool fac_add(struct rx *rx, struct rx_fac *f, const char *s, size_t n)
{
	char *c;

	if (f->n == RX_MAX_LITS)
		return false;
	c = mem_alloc(n + 1);
	if (!c) {
		rx->oom = true;
		return false;
	}
	memcpy(c, s, n);
	c[n] = '\0';
	f->lit[f->n] = c;
	f->len[f->n++] = n;
	return true;
}

static void flush_run(struct rx *rx, struct rx_req *r, char *run, size_t *n)
{
	struct rx_fac *f;

	if (*n == 0)
		return;
	f = mem_calloc(1, sizeof(*f));
	if (!f || !fac_add(rx, f, run, *n)) {
		rx->oom = rx->oom || !f;
		fac_free(f);
	} else {
		req_push(rx, r, f);
	}
	*n = 0;
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* After an atom: 0 none, 1 optional (minimum 0), 2 at least once. */
static int quantifier(struct rx *rx)
{
	const char *p = rx->p;
	size_t i = rx->i;
	int q = 0;

	if (i >= rx->len)
		return 0;
	if (p[i] == '*' || p[i] == '?') {
		q = 1;
		i++;
	} else if (p[i] == '+') {
		q = 2;
		i++;
	} else if (p[i] == '{') {
		size_t j = i + 1;
		long min = 0;
		bool digits = false;

		while (j < rx->len && is_digit(p[j])) {
			digits = true;
			if (min < 100000)
				min = min * 10 + (p[j] - '0');
			j++;
		}
		if (j < rx->len && p[j] == ',') {
			j++;
			while (j < rx->len && is_digit(p[j]))
				j++;
		}
		if (j >= rx->len || p[j] != '}')
			return 0; /* a literal '{': the caller breaks the run there */
		q = (!digits || min == 0) ? 1 : 2;
		i = j + 1;
	} else {
		return 0;
	}
	if (i < rx->len && (p[i] == '?' || p[i] == '+'))
		i++; /* lazy or possessive */
	rx->i = i;
	return q;
}

static void parse_alt(struct rx *rx, struct rx_req *out);

/* A character class [...]: skipped (it breaks a literal). */
static void skip_class(struct rx *rx)
{
	size_t i = rx->i + 1;

	if (i < rx->len && rx->p[i] == '^')
		i++;
	if (i < rx->len && rx->p[i] == ']')
		i++;
	while (i < rx->len && rx->p[i] != ']') {
		if (rx->p[i] == '\\')
			i++;
		else if (rx->p[i] == '[' && i + 1 < rx->len && rx->p[i + 1] == ':') {
			const char *e = strstr(rx->p + i + 2, ":]");

			if (!e) {
				rx->bail = true;
				return;
			}
			i = (size_t)(e - rx->p) + 1;
		}
		i++;
	}
	if (i >= rx->len)
		rx->bail = true;
	rx->i = i + 1;
}

enum atom { ATOM_NONE, ATOM_LIT, ATOM_OTHER, ATOM_GROUP };

static enum atom parse_group(struct rx *rx, struct rx_req *sub)
{
	const char *p = rx->p;

	rx->i++;
	if (rx->i < rx->len && p[rx->i] == '?') {
		if (rx->i + 1 < rx->len && p[rx->i + 1] == ':') {
			rx->i += 2;
		} else if (rx->len - rx->i >= 3 && memcmp(p + rx->i, "?i)", 3) == 0) {
			rx->icase = true;
			rx->i += 3;
			return ATOM_NONE;
		} else {
			rx->bail = true;
			return ATOM_NONE;
		}
	}
	if (++rx->depth > RX_MAX_DEPTH) {
		rx->bail = true;
		return ATOM_NONE;
	}
	parse_alt(rx, sub);
	rx->depth--;
	if (rx->i >= rx->len || p[rx->i] != ')') {
		rx->bail = true;
		return ATOM_NONE;
	}
	rx->i++;
	return ATOM_GROUP;
}

static enum atom parse_atom(struct rx *rx, char *lit, struct rx_req *sub)
{
	const char *p = rx->p;
	unsigned char c = (unsigned char)p[rx->i];

	switch (c) {
	case '\\':
		if (rx->i + 1 >= rx->len) {
			rx->bail = true;
			return ATOM_NONE;
		}
		c = (unsigned char)p[rx->i + 1];
		rx->i += 2;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit((char)c)) {
			if (strchr("QEpPxoNgkcu0123456789", c))
				rx->bail = true;
			return ATOM_OTHER; /* \d \w \s \b \n ...: not a literal here */
		}
		if (c >= 0x80)
			return ATOM_OTHER;
		*lit = (char)c;
		return ATOM_LIT;
	case '[':
		skip_class(rx);
		return ATOM_OTHER;
	case '(':
		return parse_group(rx, sub);
	case '*':
	case '+':
	case '?':
		rx->bail = true; /* a quantifier without an atom */
		return ATOM_NONE;
	case '.':
	case '^':
	case '$':
	case '{':
	case '}':
		rx->i++;
		return ATOM_OTHER;
	default:
		rx->i++;
		if (c >= 0x80)
			return ATOM_OTHER;
		*lit = (char)c;
		return ATOM_LIT;
	}
}

static void parse_seq(struct rx *rx, struct rx_req *out)
{
	char run[RX_RUN_MAX];
	size_t n = 0;

	while (rx->i < rx->len && !rx->bail && !rx->oom) {
		struct rx_req sub = {0};
		char lit = 0;
		enum atom a;
		int q;

		if (rx->p[rx->i] == '|' || rx->p[rx->i] == ')')
			break;
		a = parse_atom(rx, &lit, &sub);
		if (a == ATOM_NONE || rx->bail) {
			req_release(&sub);
			continue;
		}
		q = quantifier(rx);
		if (a == ATOM_LIT && q != 1) {
			if (n == RX_RUN_MAX)
				flush_run(rx, out, run, &n);
			run[n++] = lit;
			if (q == 2)
				flush_run(rx, out, run, &n);
			continue;
		}
		flush_run(rx, out, run, &n);
		if (a == ATOM_GROUP && q != 1) {
			for (size_t k = 0; k < sub.n; k++)
				req_push(rx, out, sub.f[k]);
			sub.n = 0;
		}
		req_release(&sub);
	}
	flush_run(rx, out, run, &n);
}

/* The factor of a branch that filters best: the longest shortest literal. */
static struct rx_fac *best_factor(struct rx_req *r)
{
	struct rx_fac *best = NULL;
	size_t best_len = 0;

	for (size_t i = 0; i < r->n; i++) {
		size_t m = SIZE_MAX;

		for (size_t j = 0; j < r->f[i]->n; j++)
			if (r->f[i]->len[j] < m)
				m = r->f[i]->len[j];
		if (!best || m > best_len) {
			best = r->f[i];
			best_len = m;
		}
	}
	return best;
}

static void parse_alt(struct rx *rx, struct rx_req *out)
{
	struct rx_req br = {0};
	struct rx_fac *any = NULL;
	bool first = true, useless = false;

	for (;;) {
		parse_seq(rx, &br);
		if (first && (rx->i >= rx->len || rx->p[rx->i] != '|')) {
			*out = br; /* no alternation */
			return;
		}
		first = false;
		if (!any)
			any = mem_calloc(1, sizeof(*any));
		if (!any) {
			rx->oom = true;
			useless = true;
		}
		if (!useless) {
			struct rx_fac *b = best_factor(&br);

			if (!b)
				useless = true;
			for (size_t j = 0; b && j < b->n && !useless; j++)
				useless = !fac_add(rx, any, b->lit[j], b->len[j]);
		}
		req_release(&br);
		if (rx->bail || rx->i >= rx->len || rx->p[rx->i] != '|')
			break;
		rx->i++;
	}
	if (useless || rx->bail)
		fac_free(any);
	else
		req_push(rx, out, any);
}

int bidx_query_from_regex(struct bidx_query *q, const char *pattern, bool icase)
{
	struct rx rx = {.p = pattern, .len = strlen(pattern)};
	struct rx_req req = {0};
	int rc = 0;

	parse_alt(&rx, &req);
	if (rx.i < rx.len)
		rx.bail = true; /* an unbalanced ')' */
	if (rx.oom) {
		rc = -ENOMEM;
	} else if (!rx.bail) {
		for (size_t i = 0; i < req.n && rc == 0; i++)
			rc = bidx_query_add_factor(q, (const char *const *)req.f[i]->lit,
						   req.f[i]->len, req.f[i]->n, icase || rx.icase);
	}
	req_release(&req);
	return rc;
}
