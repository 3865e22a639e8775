/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Parsing of the untrusted strings an HTTP request carries besides its body:
 * query parameter values (offsets, counts, times, formats, booleans) and the
 * Authorization header.  Every function is pure (no allocation, no global
 * state), takes NUL-terminated input of any length and content, and either
 * fills its output or returns -ERR_INVALID leaving the output untouched, so
 * the handlers can answer 400 with the parameter's name.  Thread-safe.
 * tests/fuzz/fuzz_http_route.c drives all of them with arbitrary bytes.
 */
#ifndef SLUICE_STORE_HTTP_PARAM_H
#define SLUICE_STORE_HTTP_PARAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A decimal integer in [min, max]: optional '-', digits only (no spaces,
 * '+', hex or octal), at most 19 digits.  0 or -ERR_INVALID. */
int http_param_i64(const char *s, int64_t min, int64_t max, int64_t *out);

/* A point in time in ms since the epoch: RFC 3339 ("2026-11-24T10:02:00Z",
 * fractions and numeric offsets allowed) or a plain integer of milliseconds
 * since the epoch (>= 0).  0 or -ERR_INVALID. */
int http_param_time(const char *s, int64_t *ms);

/* 1/0, true/false, yes/no.  0 or -ERR_INVALID. */
int http_param_bool(const char *s, bool *out);

enum http_format {
	HTTP_FORMAT_NDJSON,
	HTTP_FORMAT_RAW,
};

/* "ndjson" or "raw".  0 or -ERR_INVALID. */
int http_param_format(const char *s, enum http_format *out);

/* The start position of a replay: a non-negative offset, or the keywords
 * "earliest" (HTTP_PARAM_EARLIEST) and "latest" (HTTP_PARAM_LATEST). */
#define HTTP_PARAM_EARLIEST (-2)
#define HTTP_PARAM_LATEST (-1)
int http_param_offset(const char *s, int64_t *out);

/* Extract the token of "Authorization: Bearer <token>" (scheme matched
 * case-insensitively, surrounding spaces ignored).  The token borrows s.
 * 0, or -ERR_INVALID when the header is missing a token or uses another
 * scheme. */
int http_param_bearer(const char *s, const char **token, size_t *len);

#endif
