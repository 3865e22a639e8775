/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: the HTTP request router and every query/header value
 * parser, as they see a client's request line and parameters.  The input is
 * split at newlines: method, path, then values fed to each parser in turn.
 * Invariants checked: a matched route has a valid topic and partition, and
 * parsers leave their output alone on failure.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/err.h"
#include "store/http/http_param.h"
#include "store/http/http_route.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1), *parts[8], *p;
	int np = 0;
	struct http_route r;
	char allow[64];

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	p = s;
	while (np < 8) {
		char *nl = strchr(p, '\n');

		parts[np++] = p;
		if (!nl)
			break;
		*nl = '\0';
		p = nl + 1;
	}
	while (np < 8)
		parts[np++] = (char *)"";

	if (http_route_match(parts[0], parts[1], &r) == 0) {
		if (r.topic[0] && !http_route_topic_valid(r.topic, strlen(r.topic)))
			abort();
		if (r.id == HTTP_ROUTE_RECORDS && r.partition < 0)
			abort();
		if (!(r.allowed & r.method))
			abort();
	}
	{
		/* the unescaper: never longer, never a NUL from %00 */
		char *u = strdup(parts[1]);
		size_t before = strlen(parts[1]), n = u ? http_route_unescape(u) : 0;

		if (n > before || (u && memchr(u, 0, n)))
			abort();
		free(u);
	}
	http_route_allow_header(r.allowed, allow, sizeof(allow));
	(void)http_route_name(r.id);
	for (int i = 2; i < 8; i++) {
		int64_t v = 12345, t = 12345;
		bool b;
		enum http_format f;
		const char *tok;
		size_t tl;

		if (http_param_i64(parts[i], -1000, 1000, &v) == 0 && (v < -1000 || v > 1000))
			abort();
		if (http_param_i64(parts[i], -1000, 1000, &v) < 0 && v != 12345)
			abort();
		(void)http_param_time(parts[i], &t);
		(void)http_param_bool(parts[i], &b);
		(void)http_param_format(parts[i], &f);
		(void)http_param_offset(parts[i], &v);
		if (http_param_bearer(parts[i], &tok, &tl) == 0 &&
		    (tl == 0 || tok < parts[i] || tok + tl > parts[i] + strlen(parts[i])))
			abort();
	}
	free(s);
	return 0;
}
