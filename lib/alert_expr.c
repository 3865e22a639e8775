/* SPDX-License-Identifier: Apache-2.0 */
/* Alert rule conditions; see alert_expr.h. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "lib/alert_expr.h"

#define DUR_MIN_MS 1000
#define DUR_MAX_MS (31LL * 86400 * 1000)

struct lex {
	const char *s;
	size_t i;
};

static void skip_ws(struct lex *l)
{
	while (l->s[l->i] == ' ' || l->s[l->i] == '\t')
		l->i++;
}

/* The next word (up to whitespace) as [*p, *p + *n). */
static int word(struct lex *l, const char **p, size_t *n)
{
	skip_ws(l);
	*p = l->s + l->i;
	while (l->s[l->i] && l->s[l->i] != ' ' && l->s[l->i] != '\t')
		l->i++;
	*n = (size_t)(l->s + l->i - *p);
	return *n ? 0 : -1;
}

static bool is_word(const char *p, size_t n, const char *w)
{
	return strlen(w) == n && strncasecmp(p, w, n) == 0;
}

int alert_duration_parse(const char *s, size_t n, int64_t *ms)
{
	int64_t total = 0;
	size_t i = 0;

	if (n == 0)
		return -1;
	while (i < n) {
		int64_t v = 0, unit;
		size_t d = 0;

		while (i < n && s[i] >= '0' && s[i] <= '9') {
			if (v > DUR_MAX_MS)
				return -1;
			v = v * 10 + (s[i++] - '0');
			d++;
		}
		if (d == 0)
			return -1;
		if (i + 2 <= n && s[i] == 'm' && s[i + 1] == 's') {
			unit = 1;
			i += 2;
		} else if (i < n && s[i] == 's') {
			unit = 1000;
			i++;
		} else if (i < n && s[i] == 'm') {
			unit = 60000;
			i++;
		} else if (i < n && s[i] == 'h') {
			unit = 3600000;
			i++;
		} else if (i < n && s[i] == 'd') {
			unit = 86400000;
			i++;
		} else {
			return -1;
		}
		if (v > DUR_MAX_MS / unit)
			return -1;
		total += v * unit;
		if (total > DUR_MAX_MS)
			return -1;
	}
	if (total < DUR_MIN_MS)
		return -1;
	*ms = total;
	return 0;
}

static int fail(const struct lex *l, const char *at, char *why, size_t whylen, int *col,
		const char *msg)
{
	snprintf(why, whylen, "%s", msg);
	*col = (int)(at - l->s) + 1;
	return -1;
}

static int parse_op(const char *p, size_t n, enum alert_op *op)
{
	static const struct {
		const char *t;
		enum alert_op op;
	} ops[] = {{">", ALERT_GT},
		   {">=", ALERT_GE},
		   {"<", ALERT_LT},
		   {"<=", ALERT_LE},
		   {"==", ALERT_EQ}};

	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		if (strlen(ops[i].t) == n && !memcmp(ops[i].t, p, n)) {
			*op = ops[i].op;
			return 0;
		}
	}
	return -1;
}

static int parse_count(struct lex *l, struct alert_expr *e, char *why, size_t whylen, int *col)
{
	const char *p;
	size_t n;
	uint64_t v = 0;

	if (word(l, &p, &n) < 0 || parse_op(p, n, &e->op) < 0)
		return fail(l, p, why, whylen, col, "expected > >= < <= or == after count");
	if (word(l, &p, &n) < 0)
		return fail(l, p, why, whylen, col, "expected a number");
	for (size_t i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9' || v > 1000000000000ull)
			return fail(l, p + i, why, whylen, col, "expected a whole number");
		v = v * 10 + (uint64_t)(p[i] - '0');
	}
	e->threshold = v;
	if (word(l, &p, &n) < 0 || !is_word(p, n, "in"))
		return fail(l, p, why, whylen, col, "expected 'in DURATION'");
	if (word(l, &p, &n) < 0 || alert_duration_parse(p, n, &e->window_ms) < 0)
		return fail(l, p, why, whylen, col,
			    "expected a duration from 1s to 31d (5m, 1h30m)");
	e->kind = ALERT_THRESHOLD;
	return 0;
}

int alert_expr_parse(const char *s, struct alert_expr *e, char *why, size_t whylen, int *col)
{
	struct lex l = {s, 0};
	const char *p;
	size_t n;
	int rc;

	memset(e, 0, sizeof(*e));
	if (word(&l, &p, &n) < 0)
		return fail(&l, s, why, whylen, col, "empty condition");
	if (is_word(p, n, "count")) {
		rc = parse_count(&l, e, why, whylen, col);
	} else if (is_word(p, n, "no")) {
		if (word(&l, &p, &n) < 0 || !is_word(p, n, "events"))
			return fail(&l, p, why, whylen, col, "expected 'no events for DURATION'");
		if (word(&l, &p, &n) < 0 || !is_word(p, n, "for"))
			return fail(&l, p, why, whylen, col, "expected 'for DURATION'");
		if (word(&l, &p, &n) < 0 || alert_duration_parse(p, n, &e->window_ms) < 0)
			return fail(&l, p, why, whylen, col,
				    "expected a duration from 1s to 31d (10m, 1h)");
		e->kind = ALERT_ABSENCE;
		rc = 0;
	} else {
		return fail(&l, p, why, whylen, col,
			    "a condition is 'count OP N in DURATION' or 'no events for DURATION'");
	}
	if (rc < 0)
		return rc;
	skip_ws(&l);
	if (s[l.i])
		return fail(&l, s + l.i, why, whylen, col, "unexpected text after the condition");
	return 0;
}

bool alert_expr_holds(const struct alert_expr *e, uint64_t c)
{
	switch (e->op) {
	case ALERT_GT:
		return c > e->threshold;
	case ALERT_GE:
		return c >= e->threshold;
	case ALERT_LT:
		return c < e->threshold;
	case ALERT_LE:
		return c <= e->threshold;
	default:
		return c == e->threshold;
	}
}

static void fmt_dur(int64_t ms, char *out, size_t cap)
{
	if (ms % 86400000 == 0)
		snprintf(out, cap, "%lldd", (long long)(ms / 86400000));
	else if (ms % 3600000 == 0)
		snprintf(out, cap, "%lldh", (long long)(ms / 3600000));
	else if (ms % 60000 == 0)
		snprintf(out, cap, "%lldm", (long long)(ms / 60000));
	else if (ms % 1000 == 0)
		snprintf(out, cap, "%llds", (long long)(ms / 1000));
	else
		snprintf(out, cap, "%lldms", (long long)ms);
}

void alert_expr_format(const struct alert_expr *e, char *out, size_t cap)
{
	static const char *const ops[] = {">", ">=", "<", "<=", "=="};
	char d[32];

	fmt_dur(e->window_ms, d, sizeof(d));
	if (e->kind == ALERT_ABSENCE)
		snprintf(out, cap, "no events for %s", d);
	else
		snprintf(out, cap, "count %s %llu in %s", ops[e->op],
			 (unsigned long long)e->threshold, d);
}
