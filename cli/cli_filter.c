/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Filters.  --grep and --source are lib/recmatch.h's, the same match the
 * store applies to an NDJSON replay and its stats.
 */
#include <curl/curl.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli_filter.h"
#include "lib/err.h"
#include "lib/mem.h"

void cli_filter_init(struct cli_filter *f)
{
	memset(f, 0, sizeof(*f));
	recmatch_init(&f->m);
}

void cli_filter_release(struct cli_filter *f)
{
	recmatch_release(&f->m);
	mem_free(f->key);
	mem_free(f->pattern);
	for (size_t i = 0; i < f->nhdrs; i++) {
		mem_free(f->hdrs[i].key);
		mem_free(f->hdrs[i].value);
	}
	memset(f, 0, sizeof(*f));
}

int cli_filter_grep(struct cli_filter *f, const char *pattern, bool icase, char *err, size_t errlen)
{
	char why[300];
	int rc = recmatch_grep(&f->m, pattern, icase, why, sizeof(why));

	if (rc == -ERR_INVALID)
		snprintf(err, errlen, "--grep '%s': %s", pattern, why);
	if (rc < 0)
		return rc;
	mem_free(f->pattern);
	f->pattern = mem_strdup(pattern);
	f->icase = icase;
	return f->pattern ? 0 : -ENOMEM;
}

int cli_filter_key(struct cli_filter *f, const char *key)
{
	char *k = mem_strdup(key);

	if (!k)
		return -ENOMEM;
	mem_free(f->key);
	f->key = k;
	f->key_len = strlen(k);
	return 0;
}

int cli_filter_header(struct cli_filter *f, const char *kv)
{
	const char *eq = strchr(kv, '=');
	struct cli_filter_header *h;

	if (f->nhdrs == CLI_FILTER_MAX_HEADERS)
		return -ERR_TOO_LARGE;
	if (kv[0] == '\0' || eq == kv)
		return -ERR_INVALID;
	h = &f->hdrs[f->nhdrs];
	h->key = eq ? mem_strndup(kv, (size_t)(eq - kv)) : mem_strdup(kv);
	h->value = eq ? mem_strdup(eq + 1) : NULL;
	if (!h->key || (eq && !h->value)) {
		mem_free(h->key);
		mem_free(h->value);
		return -ENOMEM;
	}
	f->nhdrs++;
	return 0;
}

int cli_filter_source(struct cli_filter *f, const char *glob)
{
	return recmatch_source(&f->m, glob);
}

static int append_arg(char *out, size_t cap, size_t *n, const char *name, const char *v)
{
	char *esc = curl_easy_escape(NULL, v, 0);
	int k;

	if (!esc)
		return -ENOMEM;
	k = snprintf(out + *n, cap - *n, "&%s=%s", name, esc);
	curl_free(esc);
	if (k < 0 || (size_t)k >= cap - *n)
		return -ERR_TOO_LARGE;
	*n += (size_t)k;
	return 0;
}

int cli_filter_query(const struct cli_filter *f, char *out, size_t cap)
{
	size_t n = 0;
	int rc = 0;

	if (cap == 0)
		return -ERR_TOO_LARGE;
	out[0] = '\0';
	if (f->pattern)
		rc = append_arg(out, cap, &n, "grep", f->pattern);
	if (rc == 0 && f->pattern && f->icase)
		rc = append_arg(out, cap, &n, "icase", "1");
	if (rc == 0 && f->m.source)
		rc = append_arg(out, cap, &n, "source", f->m.source);
	return rc;
}

bool cli_filter_active(const struct cli_filter *f)
{
	return recmatch_active(&f->m) || f->key || f->nhdrs;
}

static bool header_matches(const struct cli_filter_header *want, const struct record *r)
{
	struct record_header_iter it;
	struct record_header h;
	size_t kl = strlen(want->key), vl = want->value ? strlen(want->value) : 0;

	record_header_iter_init(&it, r);
	while (record_header_iter_next(&it, &h) == 1) {
		if ((size_t)h.key_len != kl || memcmp(h.key, want->key, kl) != 0)
			continue;
		if (!want->value)
			return true;
		if (h.value_len >= 0 && (size_t)h.value_len == vl &&
		    (vl == 0 || memcmp(h.value, want->value, vl) == 0))
			return true;
	}
	return false;
}

bool cli_filter_match(struct cli_filter *f, const struct record *r)
{
	if (f->key) {
		if (r->key_len < 0 || (size_t)r->key_len != f->key_len ||
		    (f->key_len && memcmp(r->key, f->key, f->key_len) != 0))
			return false;
	}
	for (size_t i = 0; i < f->nhdrs; i++) {
		if (!header_matches(&f->hdrs[i], r))
			return false;
	}
	return recmatch_record(&f->m, r);
}
