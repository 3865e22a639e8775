/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Compile-and-discard check of a PCRE2 pattern: config checks run before any
 * plugin exists, so the compiled code is not kept; the plugin compiles the
 * pattern again (with JIT) when it starts.
 */
#include <stdio.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "lib/regex.h"

int regex_check(const char *pattern, char *why, size_t whylen)
{
	int ec;
	PCRE2_SIZE eo;
	pcre2_code *re =
		pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED, 0, &ec, &eo, NULL);

	if (!re) {
		PCRE2_UCHAR msg[160];

		pcre2_get_error_message(ec, msg, sizeof(msg));
		snprintf(why, whylen, "bad regular expression at offset %zu: %s", (size_t)eo,
			 (const char *)msg);
		return -1;
	}
	pcre2_code_free(re);
	return 0;
}
