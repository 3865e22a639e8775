/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Required-literal prefilter for regexes: from a simple pattern, the
 * longest run of plain characters every match must contain ("ERROR" in
 * `level=ERROR .* timeout`), searched with memmem() before the regex runs.
 * Most log lines lack it and never reach PCRE2.
 *
 * Extraction is conservative: a pattern with a top-level alternation, an
 * inline option or anything not understood yields no literal (every subject
 * goes to the regex).  Characters made optional by ?, * or {0,..} are not
 * required; escaped punctuation counts as the character itself.
 */
#ifndef SLUICE_RE_LITERAL_H
#define SLUICE_RE_LITERAL_H

#include <stdbool.h>
#include <stddef.h>

#define RE_LITERAL_MAX 64

struct re_literal {
	char s[RE_LITERAL_MAX];
	size_t n; /* 0: no prefilter */
};

/* Extract the required literal of pattern (never fails; n = 0 for none). */
void re_literal_init(struct re_literal *l, const char *pattern);
void re_literal_release(struct re_literal *l);
/* False only when p[0..n) cannot match (it lacks the literal). */
bool re_literal_may_match(const struct re_literal *l, const char *p, size_t n);

#endif
