/* SPDX-License-Identifier: Apache-2.0 */
/*
 * JSON text output into a struct buf: escaped strings, numbers, and a tiny
 * comma tracker for building objects and arrays without a DOM.  Also UTF-8
 * validation and base64, which the NDJSON replay format needs for values that
 * are not text.  Not thread-safe per buf; the functions themselves are pure.
 */
#ifndef SLUICE_JSON_H
#define SLUICE_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"
#include "lib/check.h"

/* Append s as a quoted JSON string.  Control characters are escaped; invalid
 * UTF-8 sequences become U+FFFD so the output is always valid JSON. */
SLUICE_MUST_CHECK int json_str(struct buf *b, const void *s, size_t n);
/* json_str() for text that must stay exact: 0 when s is valid UTF-8 (and
 * appended), 1 when it is not (nothing appended: the caller picks another
 * encoding, e.g. base64), or a negative code.  One pass instead of
 * utf8_valid() and json_str(). */
SLUICE_MUST_CHECK int json_text(struct buf *b, const void *s, size_t n);
SLUICE_MUST_CHECK int json_cstr(struct buf *b, const char *s);
/* Append "key": (quoted key and colon), preceded by a comma unless first. */
SLUICE_MUST_CHECK int json_key(struct buf *b, bool *first, const char *key);
SLUICE_MUST_CHECK int json_i64(struct buf *b, int64_t v);

bool utf8_valid(const void *p, size_t n);

/* Standard base64 (RFC 4648, with padding). */
SLUICE_MUST_CHECK int base64_encode(struct buf *b, const void *p, size_t n);
/* Decode into b; -ERR_INVALID on bad input. */
SLUICE_MUST_CHECK int base64_decode(struct buf *b, const char *s, size_t n);

#endif
