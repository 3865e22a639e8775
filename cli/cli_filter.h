/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Record filters of `sluice consume` and `sluice replay`: --grep (a PCRE2
 * pattern, JIT-compiled, searched in the record value), --key (exact key)
 * and --header k=v / --header k (a header with that key and value, or just
 * that key) and --source GLOB.  All given filters must match.  Not thread-safe (the match
 * data is reused).
 */
#ifndef SLUICE_CLI_FILTER_H
#define SLUICE_CLI_FILTER_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/batch.h"
#include "lib/recmatch.h"

#define CLI_FILTER_MAX_HEADERS 16

struct cli_filter_header {
	char *key;
	char *value; /* NULL: only the key must be present */
};

struct cli_filter {
	struct recmatch m; /* --grep and --source, as the store matches them */
	char *key;
	size_t key_len;
	struct cli_filter_header hdrs[CLI_FILTER_MAX_HEADERS];
	size_t nhdrs;
	char *pattern; /* --grep as given, passed to the store's prefilter */
	bool icase;
};

void cli_filter_init(struct cli_filter *f);
void cli_filter_release(struct cli_filter *f);
/* Compile pattern (caseless when icase).  0, or -ERR_INVALID with the
 * PCRE2 message and position in err. */
int cli_filter_grep(struct cli_filter *f, const char *pattern, bool icase, char *err,
		    size_t errlen);
int cli_filter_key(struct cli_filter *f, const char *key);
/* "k=v" or "k".  -ERR_TOO_LARGE past CLI_FILTER_MAX_HEADERS. */
int cli_filter_header(struct cli_filter *f, const char *kv);
/* --source GLOB (fnmatch): the record key or a host, path or unit header
 * value matches. */
int cli_filter_source(struct cli_filter *f, const char *glob);
/* The store-side prefilter for a replay URL: "&grep=..&icase=1&source=.."
 * (URL-escaped) into out, "" when none.  0 or -ENOMEM / -ERR_TOO_LARGE. */
int cli_filter_query(const struct cli_filter *f, char *out, size_t cap);
bool cli_filter_active(const struct cli_filter *f);
bool cli_filter_match(struct cli_filter *f, const struct record *r);

#endif
