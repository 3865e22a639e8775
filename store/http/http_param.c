/* SPDX-License-Identifier: Apache-2.0 */
/*
 * HTTP parameter parsers.  Written against strict grammars on purpose: a
 * query value such as "12abc", " 12" or "0x10" is a client bug that should be
 * reported, not silently read as something else.
 */
#include <string.h>
#include <strings.h>

#include "lib/clock.h"
#include "lib/err.h"
#include "store/http/http_param.h"

int http_param_i64(const char *s, int64_t min, int64_t max, int64_t *out)
{
	bool neg = false;
	uint64_t v = 0;
	int nd = 0;

	if (*s == '-') {
		neg = true;
		s++;
	}
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -ERR_INVALID;
		if (++nd > 19)
			return -ERR_INVALID;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	if (nd == 0)
		return -ERR_INVALID;
	/* 19 digits fit in uint64_t; INT64_MIN itself is not needed by any caller */
	if (v > (uint64_t)INT64_MAX)
		return -ERR_INVALID;
	{
		int64_t r = neg ? -(int64_t)v : (int64_t)v;

		if (r < min || r > max)
			return -ERR_INVALID;
		*out = r;
	}
	return 0;
}

int http_param_time(const char *s, int64_t *ms)
{
	int64_t v;

	if (http_param_i64(s, 0, INT64_MAX, &v) == 0) {
		*ms = v;
		return 0;
	}
	if (clock_parse_rfc3339(s, &v) < 0)
		return -ERR_INVALID;
	*ms = v;
	return 0;
}

int http_param_bool(const char *s, bool *out)
{
	if (strcmp(s, "1") == 0 || strcmp(s, "true") == 0 || strcmp(s, "yes") == 0) {
		*out = true;
		return 0;
	}
	if (strcmp(s, "0") == 0 || strcmp(s, "false") == 0 || strcmp(s, "no") == 0) {
		*out = false;
		return 0;
	}
	return -ERR_INVALID;
}

int http_param_format(const char *s, enum http_format *out)
{
	if (strcmp(s, "ndjson") == 0 || strcmp(s, "json") == 0) {
		*out = HTTP_FORMAT_NDJSON;
		return 0;
	}
	if (strcmp(s, "raw") == 0) {
		*out = HTTP_FORMAT_RAW;
		return 0;
	}
	return -ERR_INVALID;
}

int http_param_offset(const char *s, int64_t *out)
{
	if (strcmp(s, "earliest") == 0) {
		*out = HTTP_PARAM_EARLIEST;
		return 0;
	}
	if (strcmp(s, "latest") == 0) {
		*out = HTTP_PARAM_LATEST;
		return 0;
	}
	return http_param_i64(s, 0, INT64_MAX, out);
}

int http_param_bearer(const char *s, const char **token, size_t *len)
{
	size_t n;

	while (*s == ' ' || *s == '\t')
		s++;
	if (strncasecmp(s, "Bearer", 6) != 0 || (s[6] != ' ' && s[6] != '\t'))
		return -ERR_INVALID;
	s += 6;
	while (*s == ' ' || *s == '\t')
		s++;
	n = strlen(s);
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	if (n == 0)
		return -ERR_INVALID;
	for (size_t i = 0; i < n; i++) {
		/* RFC 6750 b64token characters are all visible ASCII */
		if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
			return -ERR_INVALID;
	}
	*token = s;
	*len = n;
	return 0;
}
