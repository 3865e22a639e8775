/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Filters.  The pattern is compiled in UTF mode with
 * PCRE2_MATCH_INVALID_UTF, so non-ASCII patterns mean characters while
 * binary or broken values are still searched (invalid sequences just never
 * match a character) instead of failing the match.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
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

bool cli_filter_active(const struct cli_filter *f)
{
	return f->re || f->key || f->nhdrs;
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
