/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: the tail input's position meta, read back from spool
 * files at start-up.  Decoding must reject what is malformed, and what it
 * accepts must re-encode to the same bytes (a version 1 meta, without the
 * birth time, re-encodes as the current version: it must decode back to the
 * same fields).
 */
#include <stdint.h>
#include <string.h>

#include "lib/mem.h"
#include "plugins/in_tail/tail.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tail_meta m;
	struct tail_file f;
	struct buf b;

	if (tail_meta_decode(data, size, &m) < 0)
		return 0;
	memset(&f, 0, sizeof(f));
	f.dev = m.dev;
	f.ino = m.ino;
	f.fp = m.fp;
	f.fp_len = m.fp_len;
	f.btime = m.btime;
	f.path = mem_strndup(m.path, m.path_len);
	f.name = mem_strndup(m.name, m.name_len);
	buf_init(&b, 1 << 20);
	/* Paths with NUL bytes decode but are shorter as C strings. */
	if (f.path && f.name && strlen(f.path) == m.path_len && strlen(f.name) == m.name_len &&
	    tail_meta_encode(&f, &b) == 0) {
		struct tail_meta m2;

		if (data[0] == TAIL_META_VERSION &&
		    (b.len != size || memcmp(b.data, data, size) != 0))
			__builtin_trap();
		if (tail_meta_decode(b.data, b.len, &m2) != 0 || m2.dev != m.dev ||
		    m2.ino != m.ino || m2.fp != m.fp || m2.fp_len != m.fp_len ||
		    m2.btime != m.btime || m2.path_len != m.path_len || m2.name_len != m.name_len)
			__builtin_trap();
	}
	buf_release(&b);
	mem_free(f.path);
	mem_free(f.name);
	return 0;
}
