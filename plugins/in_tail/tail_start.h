/* SPDX-License-Identifier: Apache-2.0 */
/*
 * multiline.start, decided for every line read: the PCRE2 pattern plus what
 * lets most lines be decided without calling it.
 *
 * - A pattern that is `^` and one single-character atom (a literal, an
 *   escape such as \d or \S, or a [...] class), the common "a new event
 *   starts with a digit / non-blank / bracket", is decided by the line's
 *   first byte alone: PCRE2 itself fills a 256-entry table once (matching
 *   each one-byte subject), and no line calls the regex.
 * - Otherwise, an anchored pattern with a first-byte set (PCRE2's start
 *   bitmap) rules out lines starting with any other byte without a call,
 *   and the rest go to the JIT's direct entry point.
 */
#ifndef SLUICE_TAIL_START_H
#define SLUICE_TAIL_START_H

#ifndef PCRE2_CODE_UNIT_WIDTH
#define PCRE2_CODE_UNIT_WIDTH 8
#endif
#include <pcre2.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct tail_start {
	pcre2_code *re;
	pcre2_match_data *md;
	bool jit;       /* pcre2_jit_match() can be called */
	bool table;     /* decided by the first byte: bits */
	bool first_set; /* first byte outside bits: no start */
	bool empty;     /* table: does an empty line match */
	uint8_t bits[32];
};

/* Compile pattern (already checked by the option check): 0, -ERR_CONFIG,
 * -ENOMEM. */
int tail_start_init(struct tail_start *s, const char *pattern);
void tail_start_release(struct tail_start *s);
/* True when pattern is `^` followed by exactly one single-character atom. */
bool tail_start_one_char(const char *pattern);

static inline bool tail_start_match(struct tail_start *s, const uint8_t *p, size_t n)
{
	if (s->table)
		return n ? (s->bits[p[0] >> 3] >> (p[0] & 7)) & 1 : s->empty;
	if (s->first_set && n > 0 && !((s->bits[p[0] >> 3] >> (p[0] & 7)) & 1))
		return false;
	if (s->jit)
		return pcre2_jit_match(s->re, p, n, 0, 0, s->md, NULL) >= 0;
	return pcre2_match(s->re, p, n, 0, 0, s->md, NULL) >= 0;
}

#endif
