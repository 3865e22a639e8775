/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the parsers (json, logfmt, regex) and filters (grep, redact, add,
 * sample, rate_limit) of this folder share:
 *
 *  - jscan: a non-allocating JSON validator (RFC 8259, depth-bounded) that
 *    can also report where a top-level member's value is, so a parser
 *    validates and finds its time_key in one pass and a filter reads a parsed
 *    field without building a tree;
 *  - event headers: a filter that adds headers copies the event's into its
 *    own array (struct xhdrs), so what it hands on stays valid until its next
 *    call, whatever the filters after it do;
 *  - time values (time_key/time_format) and PCRE2 helpers.
 *
 * Loop thread only (instances are not shared).
 */
#ifndef SLUICE_PLUGINS_XFORM_H
#define SLUICE_PLUGINS_XFORM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "agent/plugin.h"
#include "lib/err.h"

#define JSCAN_MAX_DEPTH 64

struct jspan {
	const char *p; /* the value's text (a string with its quotes) */
	size_t n;
	bool found;
	bool is_string;
};

/* Validate p[0..n) as one JSON text (surrounding whitespace allowed).  When
 * key is not NULL and the text is an object, *at is the first top-level
 * member of that name.  0, or -1 with *err_off at the problem. */
int jscan(const char *p, size_t n, const char *key, struct jspan *at, size_t *err_off);

/* A string span's contents with escapes decoded into out (bounded; the
 * result is NUL-terminated).  Non-strings are copied as their text.
 * 0 or -1 (too long, bad escape). */
int jspan_text(const struct jspan *s, char *out, size_t cap, size_t *len);

/* Append s (n bytes) as a JSON string; invalid UTF-8 becomes U+FFFD. */
int xform_json_str(struct buf *b, const char *s, size_t n);

/* Event headers owned by a filter instance. */
struct xhdrs {
	struct record_header h[EVENT_MAX_HEADERS];
	size_t n;
};

/* Copy ev's headers into x, add (key, value) and point ev at x.  The
 * strings are borrowed: they must live as long as x's contents are used.
 * 0, or -1 when EVENT_MAX_HEADERS are in use (the header is left out). */
int xhdrs_add(struct xhdrs *x, struct event *ev, const char *key, const void *val, size_t len);
/* The value of header key in ev, or NULL. */
const struct record_header *event_header(const struct event *ev, const char *key);

/* time_format: "rfc3339", "unix" (seconds, may have a fraction), "unix_ms",
 * "unix_us", "unix_ns", or a strptime(3) pattern (UTC unless it has %z).
 * 0 and *ms, or -1. */
int xform_parse_time(const char *fmt, const char *v, size_t n, int64_t *ms);
/* Option check for time_format. */
int xform_check_time_format(const char *v, char *why, size_t whylen);

/* Compile a regex (PCRE2, JIT when available); its option check is
 * regex_check() (lib/regex.h). */
pcre2_code *xform_regex(const char *pattern);

/* The text a grep/sample filter looks at: the raw value, or a parsed field
 * (top-level member of a JSON value, else a header of that name).  Returns
 * false when the field is absent.  buf holds decoded strings. */
bool xform_subject(const struct event *ev, const char *field, char *buf, size_t cap, const char **p,
		   size_t *n);

/* rate_limit's clock (ms, monotonic); tests replace it. */
extern uint64_t (*filter_rate_limit_clock)(void);

#endif
