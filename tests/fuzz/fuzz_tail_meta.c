/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: the tail input's position meta, read back from spool
 * files at start-up.  Decoding must reject what is malformed, and what it
 * accepts must re-encode to the same bytes.
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
	f.path = mem_strndup(m.path, m.path_len);
	f.name = mem_strndup(m.name, m.name_len);
	buf_init(&b, 1 << 20);
	/* Paths with NUL bytes decode but are shorter as C strings. */
	if (f.path && f.name && strlen(f.path) == m.path_len && strlen(f.name) == m.name_len &&
	    tail_meta_encode(&f, &b) == 0 && (b.len != size || memcmp(b.data, data, size) != 0))
		__builtin_trap();
	buf_release(&b);
	mem_free(f.path);
	mem_free(f.name);
	return 0;
}
