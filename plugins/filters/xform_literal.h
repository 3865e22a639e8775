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
#ifndef SLUICE_PLUGINS_XFORM_LITERAL_H
#define SLUICE_PLUGINS_XFORM_LITERAL_H

#include <stdbool.h>
#include <stddef.h>

#define XFORM_LITERAL_MAX 64

struct xform_literal {
	char s[XFORM_LITERAL_MAX];
	size_t n;                   /* 0: no prefilter */
};

/* Extract the required literal of pattern (never fails; n = 0 for none). */
void xform_literal_init(struct xform_literal *l, const char *pattern);
void xform_literal_release(struct xform_literal *l);
/* False only when p[0..n) cannot match (it lacks the literal). */
bool xform_literal_may_match(const struct xform_literal *l, const char *p, size_t n);

#endif
