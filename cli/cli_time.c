/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Command-line time parsing on top of lib/clock.h.
 */
#include <string.h>

#include "cli/cli_time.h"
#include "lib/clock.h"
#include "lib/err.h"

int cli_time_parse(const char *s, int64_t now_ms, int64_t *ms)
{
	int64_t d;

	if (strcmp(s, "now") == 0) {
		*ms = now_ms;
		return 0;
	}
	if ((s[0] == '-' || s[0] == '+') && s[1] >= '0' && s[1] <= '9') {
		if (clock_parse_duration(s + 1, &d) < 0)
			return -ERR_INVALID;
		if (s[0] == '-' ? __builtin_sub_overflow(now_ms, d, ms)
				: __builtin_add_overflow(now_ms, d, ms))
			return -ERR_INVALID;
		return 0;
	}
	if (clock_parse_rfc3339(s, &d) < 0)
		return -ERR_INVALID;
	*ms = d;
	return 0;
}
