/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The CRI log line format and the kubelet's container log names (see
 * tail_cri.h).
 */
#include <string.h>

#include "lib/clock.h"
#include "lib/err.h"
#include "plugins/in_tail/tail_cri.h"

int tail_cri_parse(const uint8_t *p, size_t n, struct tail_cri_line *out)
{
	const uint8_t *end = p + n, *sp;
	char ts[48];
	size_t tl;

	sp = memchr(p, ' ', n);
	if (!sp)
		return -ERR_CORRUPT;
	tl = (size_t)(sp - p);
	if (tl == 0 || tl >= sizeof(ts))
		return -ERR_CORRUPT;
	memcpy(ts, p, tl);
	ts[tl] = '\0';
	if (clock_parse_rfc3339(ts, &out->ts) < 0)
		return -ERR_CORRUPT;
	p = sp + 1;
	if ((size_t)(end - p) >= 7 && memcmp(p, "stdout ", 7) == 0)
		out->stream = CRI_STDOUT;
	else if ((size_t)(end - p) >= 7 && memcmp(p, "stderr ", 7) == 0)
		out->stream = CRI_STDERR;
	else
		return -ERR_CORRUPT;
	p += 7;
	/* The tag is P or F, possibly with more flags after a ':' (CRI leaves
	 * room for them); an empty log after it may have no space. */
	if (p == end || (*p != 'P' && *p != 'F'))
		return -ERR_CORRUPT;
	out->partial = *p == 'P';
	p++;
	while (p < end && *p == ':') {
		p++;
		while (p < end && *p != ' ' && *p != ':')
			p++;
	}
	if (p < end && *p++ != ' ')
		return -ERR_CORRUPT;
	out->log = p;
	out->log_len = (size_t)(end - p);
	return 0;
}

static int copy_part(char *dst, size_t cap, const char *s, size_t n)
{
	if (n == 0 || n >= cap)
		return -ERR_INVALID;
	memcpy(dst, s, n);
	dst[n] = '\0';
	return 0;
}

int tail_k8s_name(const char *path, struct tail_k8s *k)
{
	const char *base = strrchr(path, '/'), *u1, *u2, *dash, *dot;
	size_t n;

	base = base ? base + 1 : path;
	n = strlen(base);
	if (n < 5 || memcmp(base + n - 4, ".log", 4) != 0)
		return -ERR_INVALID;
	dot = base + n - 4;
	u1 = memchr(base, '_', (size_t)(dot - base));
	if (!u1)
		return -ERR_INVALID;
	u2 = memchr(u1 + 1, '_', (size_t)(dot - u1 - 1));
	if (!u2)
		return -ERR_INVALID;
	/* The id is the last '-' part (container names may hold '-'). */
	for (dash = dot - 1; dash > u2 && *dash != '-'; dash--)
		;
	if (dash <= u2 + 1)
		return -ERR_INVALID;
	if (copy_part(k->pod, sizeof(k->pod), base, (size_t)(u1 - base)) < 0 ||
	    copy_part(k->ns, sizeof(k->ns), u1 + 1, (size_t)(u2 - u1 - 1)) < 0 ||
	    copy_part(k->container, sizeof(k->container), u2 + 1, (size_t)(dash - u2 - 1)) < 0 ||
	    copy_part(k->id, sizeof(k->id), dash + 1, (size_t)(dot - dash - 1)) < 0)
		return -ERR_INVALID;
	return 0;
}
