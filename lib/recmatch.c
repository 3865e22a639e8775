/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Record match: grep pattern and source glob (lib/recmatch.h).
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <fnmatch.h>
#include <pcre2.h>
#include <stdio.h>
#include <string.h>

#include "lib/err.h"
#include "lib/mem.h"
#include "lib/recmatch.h"

/* Longest key or header value a glob is tried on (sources are host names,
 * paths and unit names; longer ones never match). */
#define SOURCE_MAX 1024

void recmatch_init(struct recmatch *m)
{
	memset(m, 0, sizeof(*m));
}

void recmatch_release(struct recmatch *m)
{
	pcre2_match_data_free(m->md);
	pcre2_code_free(m->re);
	mem_free(m->source);
	memset(m, 0, sizeof(*m));
}

int recmatch_grep(struct recmatch *m, const char *pattern, bool icase, char *err, size_t errlen)
{
	uint32_t opts = PCRE2_UTF | PCRE2_MATCH_INVALID_UTF | (icase ? PCRE2_CASELESS : 0);
	int ec = 0;
	PCRE2_SIZE eo = 0;
	pcre2_code *re;
	pcre2_match_data *md;

	re = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED, opts, &ec, &eo, NULL);
	if (!re) {
		PCRE2_UCHAR msg[256];

		pcre2_get_error_message(ec, msg, sizeof(msg));
		snprintf(err, errlen, "bad regular expression at offset %zu: %s", (size_t)eo,
			 (char *)msg);
		return -ERR_INVALID;
	}
	/* JIT is an optimisation: without it (no JIT on this CPU) matching still works */
	(void)pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);
	md = pcre2_match_data_create_from_pattern(re, NULL);
	if (!md) {
		pcre2_code_free(re);
		return -ENOMEM;
	}
	pcre2_match_data_free(m->md);
	pcre2_code_free(m->re);
	m->re = re;
	m->md = md;
	return 0;
}

int recmatch_source(struct recmatch *m, const char *glob)
{
	char *g = mem_strdup(glob);

	if (!g)
		return -ENOMEM;
	mem_free(m->source);
	m->source = g;
	return 0;
}

bool recmatch_active(const struct recmatch *m)
{
	return m->re || m->source;
}

bool recmatch_value(const struct recmatch *m, const struct record *r)
{
	if (!m->re)
		return true;
	if (r->value_len < 0)
		return false;
	return pcre2_match(m->re, r->value_len ? r->value : (PCRE2_SPTR) "",
			   (PCRE2_SIZE)r->value_len, 0, 0, m->md, NULL) >= 0;
}

static bool glob_matches(const char *glob, const uint8_t *v, int32_t n)
{
	char tmp[SOURCE_MAX];

	if (n < 0 || (size_t)n >= sizeof(tmp) || (n > 0 && memchr(v, 0, (size_t)n)))
		return false;
	if (n > 0)
		memcpy(tmp, v, (size_t)n);
	tmp[n] = '\0';
	return fnmatch(glob, tmp, 0) == 0;
}

static bool is_source_header(const struct record_header *h)
{
	return h->key_len == 4 &&
	       (memcmp(h->key, "host", 4) == 0 || memcmp(h->key, "path", 4) == 0 ||
		memcmp(h->key, "unit", 4) == 0);
}

bool recmatch_source_of(const char *glob, const struct record *r)
{
	struct record_header_iter it;
	struct record_header h;

	if (glob_matches(glob, r->key, r->key_len))
		return true;
	record_header_iter_init(&it, r);
	/* a corrupt header section ends the search: no further source to match */
	while (record_header_iter_next(&it, &h) == 1) {
		if (is_source_header(&h) && glob_matches(glob, h.value, h.value_len))
			return true;
	}
	return false;
}

bool recmatch_record(const struct recmatch *m, const struct record *r)
{
	if (m->source && !recmatch_source_of(m->source, r))
		return false;
	return recmatch_value(m, r);
}
