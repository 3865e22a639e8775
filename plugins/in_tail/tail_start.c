/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <string.h>

#include "lib/err.h"
#include "plugins/in_tail/tail_start.h"

/* Escapes that stand for one character (or one of a set of characters). */
static bool one_char_escape(char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return strchr("dDwWsShHvVtnrfae", c) != NULL;
	return c != '\0'; /* an escaped punctuation character is itself */
}

bool tail_start_one_char(const char *p)
{
	if (*p++ != '^')
		return false;
	if (*p == '\\') {
		if (!one_char_escape(p[1]))
			return false;
		p += 2;
	} else if (*p == '[') {
		p++;
		if (*p == '^')
			p++;
		if (*p == ']')
			p++; /* a leading ] is a literal */
		for (; *p && *p != ']'; p++) {
			if (*p == '[')
				return false; /* [:posix:] classes: not worth parsing */
			if (*p == '\\') {
				if (p[1] == 'Q' || p[1] == 'E' || p[1] == '\0')
					return false;
				p++;
			}
		}
		if (*p != ']')
			return false;
		p++;
	} else if (*p && !strchr(".^$|()*+?{}]", *p)) {
		p++;
	} else {
		return false;
	}
	return *p == '\0';
}

int tail_start_init(struct tail_start *s, const char *pattern)
{
	uint32_t opts = 0;
	const uint8_t *bitmap = NULL;
	PCRE2_SIZE eo;
	int ec;

	memset(s, 0, sizeof(*s));
	s->re = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED, 0, &ec, &eo, NULL);
	if (!s->re)
		return -ERR_CONFIG;
	s->jit = pcre2_jit_compile(s->re, PCRE2_JIT_COMPLETE) == 0; /* else interpreted */
	s->md = pcre2_match_data_create_from_pattern(s->re, NULL);
	if (!s->md)
		return -ENOMEM;
	if (tail_start_one_char(pattern)) {
		for (int c = 0; c < 256; c++) {
			uint8_t b = (uint8_t)c;

			if (pcre2_match(s->re, &b, 1, 0, 0, s->md, NULL) >= 0)
				s->bits[c >> 3] |= (uint8_t)(1u << (c & 7));
		}
		s->empty = pcre2_match(s->re, (PCRE2_SPTR) "", 0, 0, 0, s->md, NULL) >= 0;
		s->table = true;
	} else if (pcre2_pattern_info(s->re, PCRE2_INFO_ALLOPTIONS, &opts) == 0 &&
		   (opts & PCRE2_ANCHORED) &&
		   pcre2_pattern_info(s->re, PCRE2_INFO_FIRSTBITMAP, &bitmap) == 0 && bitmap) {
		memcpy(s->bits, bitmap, sizeof(s->bits));
		s->first_set = true;
	}
	return 0;
}

void tail_start_release(struct tail_start *s)
{
	pcre2_match_data_free(s->md);
	pcre2_code_free(s->re);
	memset(s, 0, sizeof(*s));
}
