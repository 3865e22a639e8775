/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Filters.  The pattern is compiled in UTF mode with
 * PCRE2_MATCH_INVALID_UTF, so non-ASCII patterns mean characters while
 * binary or broken values are still searched (invalid sequences just never
 * match a character) instead of failing the match.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <curl/curl.h>
#include <fnmatch.h>
#include <pcre2.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli_filter.h"
#include "lib/err.h"
#include "lib/mem.h"

void cli_filter_init(struct cli_filter *f)
{
	memset(f, 0, sizeof(*f));
}

void cli_filter_release(struct cli_filter *f)
{
	pcre2_match_data_free(f->md);
	pcre2_code_free(f->re);
	mem_free(f->key);
	mem_free(f->pattern);
	mem_free(f->source);
	for (size_t i = 0; i < f->nhdrs; i++) {
		mem_free(f->hdrs[i].key);
		mem_free(f->hdrs[i].value);
	}
	memset(f, 0, sizeof(*f));
}

int cli_filter_grep(struct cli_filter *f, const char *pattern, bool icase, char *err, size_t errlen)
{
	uint32_t opts = PCRE2_UTF | PCRE2_MATCH_INVALID_UTF | (icase ? PCRE2_CASELESS : 0);
	int ec = 0;
	PCRE2_SIZE eo = 0;
	pcre2_code *re;

	re = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED, opts, &ec, &eo, NULL);
	if (!re) {
		PCRE2_UCHAR msg[256];

		pcre2_get_error_message(ec, msg, sizeof(msg));
		snprintf(err, errlen, "--grep '%s': %s at offset %zu", pattern, (char *)msg,
			 (size_t)eo);
		return -ERR_INVALID;
	}
	/* JIT is an optimisation: without it (no JIT on this CPU) matching still works */
	(void)pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);
	pcre2_match_data_free(f->md);
	pcre2_code_free(f->re);
	f->re = re;
	mem_free(f->pattern);
	f->pattern = mem_strdup(pattern);
	f->icase = icase;
	if (!f->pattern)
		return -ENOMEM;
	f->md = pcre2_match_data_create_from_pattern(re, NULL);
	if (!f->md)
		return -ENOMEM;
	return 0;
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
	char *g = mem_strdup(glob);

	if (!g)
		return -ENOMEM;
	mem_free(f->source);
	f->source = g;
	return 0;
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
	if (rc == 0 && f->source)
		rc = append_arg(out, cap, &n, "source", f->source);
	return rc;
}

bool cli_filter_active(const struct cli_filter *f)
{
	return f->re || f->key || f->nhdrs || f->source;
}

static bool glob_matches(const char *glob, const uint8_t *v, int32_t n)
{
	char tmp[1024];

	if (n < 0 || (size_t)n >= sizeof(tmp) || memchr(v, 0, (size_t)n))
		return false;
	memcpy(tmp, v, (size_t)n);
	tmp[n] = '\0';
	return fnmatch(glob, tmp, 0) == 0;
}

/* The same sources as the store's block index (key; host, path, unit). */
static bool source_matches(const char *glob, const struct record *r)
{
	struct record_header_iter it;
	struct record_header h;

	if (glob_matches(glob, r->key, r->key_len))
		return true;
	record_header_iter_init(&it, r);
	while (record_header_iter_next(&it, &h) == 1) {
		if ((h.key_len == 4 &&
		     (memcmp(h.key, "host", 4) == 0 || memcmp(h.key, "path", 4) == 0 ||
		      memcmp(h.key, "unit", 4) == 0)) &&
		    glob_matches(glob, h.value, h.value_len))
			return true;
	}
	return false;
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
	if (f->source && !source_matches(f->source, r))
		return false;
	if (f->re) {
		int rc;

		if (r->value_len < 0)
			return false;
		rc = pcre2_match(f->re, r->value_len ? r->value : (PCRE2_SPTR) "",
				 (PCRE2_SIZE)r->value_len, 0, 0, f->md, NULL);
		if (rc < 0)
			return false;
	}
	return true;
}
