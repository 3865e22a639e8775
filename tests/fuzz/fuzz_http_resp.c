/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: HTTP answers as the agent's HTTP client reads them from
 * a server (agent/net/http_resp.h).  The first byte picks how the rest is cut
 * into reads and whether the request was HEAD; any bytes parse without
 * crashing, never consume more than they were given, keep the body within
 * its bound, and give the same answer however they are cut.
 */
#include <stdint.h>
#include <string.h>

#include "agent/net/http_resp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_BODY 4096

/* -1 failed, 0 incomplete, 1 complete; *used: bytes consumed. */
static int parse(const uint8_t *p, size_t n, size_t step, bool head, struct http_resp *r,
		 size_t *used)
{
	size_t off = 0;

	http_resp_init(r, MAX_BODY, head);
	while (off < n && !http_resp_done(r)) {
		size_t k = step && n - off > step ? step : n - off;
		long u = http_resp_feed(r, p + off, k);

		if (u < 0)
			return -1;
		if ((size_t)u > k)
			__builtin_trap();
		off += (size_t)u;
		if ((size_t)u < k && !http_resp_done(r))
			__builtin_trap(); /* stops short only at the end of the answer */
	}
	*used = off;
	if (!http_resp_done(r) && http_resp_eof(r) < 0)
		return 0;
	if (r->body.len > MAX_BODY || r->status < 200 || r->status > 599)
		__builtin_trap();
	return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http_resp a, b;
	size_t ua = 0, ub = 0;
	int ra, rb;
	bool head;

	if (size < 1)
		return 0;
	head = data[0] & 0x80;
	ra = parse(data + 1, size - 1, 0, head, &a, &ua);
	rb = parse(data + 1, size - 1, (data[0] & 0x7f) + 1, head, &b, &ub);
	if (ra != rb)
		__builtin_trap();
	if (ra == 1 && (a.status != b.status || a.keep_alive != b.keep_alive || ua != ub ||
			a.body.len != b.body.len ||
			(a.body.len && memcmp(a.body.data, b.body.data, a.body.len) != 0)))
		__builtin_trap();
	http_resp_release(&a);
	http_resp_release(&b);
	return 0;
}
