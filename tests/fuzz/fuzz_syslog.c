/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: the syslog input's untrusted bytes.  The input is taken
 * as a TCP stream cut into frames (octet counting or lines, with a small
 * max so over-long frames are exercised), and every frame, and the whole
 * input as one datagram, is parsed as a message.  Every span the parser
 * returns must lie inside the bytes it was given.
 */
#include <stdint.h>
#include <stdlib.h>

#include "plugins/in_syslog/syslog_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void inside(const struct syslog_str *s, const char *p, size_t n)
{
	if (s->n && (s->p < p || s->p + s->n > p + n))
		abort();
}

static void parse(const char *p, size_t n)
{
	struct syslog_msg m;
	const char *why = NULL;
	int rc = syslog_parse(p, n, 1700000000000LL, &m, &why);

	if (rc < 0 && !why)
		abort();
	inside(&m.hostname, p, n);
	inside(&m.app, p, n);
	inside(&m.procid, p, n);
	inside(&m.msgid, p, n);
	inside(&m.sd, p, n);
	inside(&m.msg, p, n);
	if (m.facility < 0 || m.facility > 23 || m.severity < 0 || m.severity > 7)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data;
	size_t off = 0, max = 64 + (size ? data[0] : 0);
	size_t skip = 0;

	parse(p, size);
	while (off < size) {
		struct syslog_frame f;

		if (skip) {
			size_t k = size - off < skip ? size - off : skip;

			off += k;
			skip -= k;
			continue;
		}
		syslog_frame_next(p + off, size - off, max, &f);
		if (f.kind == SYSLOG_FRAME_NONE)
			break;
		if (f.consumed == 0 || f.consumed > size - off || f.msg_len > max ||
		    f.msg < p + off || f.msg + f.msg_len > p + size)
			abort();
		parse(f.msg, f.msg_len);
		skip = f.skip;
		off += f.consumed;
	}
	return 0;
}
