/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The record match of incident search: a grep pattern (PCRE2, searched in
 * the record value) and a source glob (fnmatch over the record key and its
 * host, path and unit headers: the same sources the store's block index
 * keeps).  One definition for `sluice consume`, the HTTP replay's NDJSON
 * filter and `GET .../stats`, so the CLI and the store agree on what
 * matches.
 *
 * The pattern is compiled in UTF mode with PCRE2_MATCH_INVALID_UTF: a
 * non-ASCII pattern means characters, while binary or broken values are
 * still searched (invalid sequences just never match a character) instead of
 * failing the match.  JIT is used when the CPU has it.
 *
 * A binary that uses this links -lpcre2-8.  Not thread-safe per object (the
 * match data is reused); the functions are re-entrant.
 */
#ifndef SLUICE_RECMATCH_H
#define SLUICE_RECMATCH_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/batch.h"
#include "lib/check.h"

struct recmatch {
	void *re;     /* pcre2_code_8 *, NULL: no grep */
	void *md;     /* pcre2_match_data_8 * */
	char *source; /* fnmatch glob, NULL: any source */
};

void recmatch_init(struct recmatch *m);
void recmatch_release(struct recmatch *m);
/* Compile pattern (caseless when icase).  0; -ERR_INVALID with "bad regular
 * expression at offset N: <PCRE2's message>" in err; -ENOMEM. */
SLUICE_MUST_CHECK int recmatch_grep(struct recmatch *m, const char *pattern, bool icase, char *err,
				    size_t errlen);
/* Match only records with a source matching glob.  0 or -ENOMEM. */
SLUICE_MUST_CHECK int recmatch_source(struct recmatch *m, const char *glob);
/* Is any condition set? */
bool recmatch_active(const struct recmatch *m);
/* Does the record's value match the pattern (true without one)?  A null
 * value never matches a pattern. */
bool recmatch_value(const struct recmatch *m, const struct record *r);
/* Does the key or a host/path/unit header match glob? */
bool recmatch_source_of(const char *glob, const struct record *r);
/* Both conditions. */
bool recmatch_record(const struct recmatch *m, const struct record *r);

#endif
