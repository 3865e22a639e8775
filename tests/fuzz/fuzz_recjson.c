/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: the NDJSON replay formatter over records decoded from
 * arbitrary batches (stored batches were only header-validated at ingest,
 * so their compressed records are producer-controlled bytes).  Every line
 * it writes must parse back as JSON.
 */
#include <stdint.h>
#include <string.h>
#include <stdlib.h>

#include "lib/batch.h"
#include "lib/jdoc.h"
#include "lib/json.h"
#include "lib/recjson.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The escaper's two paths (16 bytes at a time into reserved room, run by
 * run into a buffer too small for that) write the same bytes, and
 * json_text() takes exactly the UTF-8 strings. */
static void check_escaping(const uint8_t *p, size_t n)
{
	struct buf a, b;
	int t;

	buf_init(&a, 0);
	if (json_str(&a, p, n) != 0)
		abort();
	buf_init(&b, a.len);
	if (json_str(&b, p, n) != 0 || b.len != a.len || memcmp(a.data, b.data, a.len) != 0)
		abort();
	b.len = 0;
	t = json_text(&b, p, n);
	if (t != (utf8_valid(p, n) ? 0 : 1) || (t == 0 && b.len != a.len) || (t == 1 && b.len))
		abort();
	buf_release(&a);
	buf_release(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct codec_ctx *cc;
	struct batch_info bi;
	struct batch_iter it;
	struct record r;
	struct recjson_cache jc;
	struct buf out, again;

	if (!cc)
		cc = codec_ctx_new();
	check_escaping(data, size < 4096 ? size : 4096);
	if (batch_next(data, size, &bi) < 0)
		return 0;
	buf_init(&out, 1 << 22);
	buf_init(&again, 1 << 22);
	recjson_cache_init(&jc);
	if (batch_iter_init(&it, data, bi.size, cc, 1 << 20, false) == 0) {
		while (batch_iter_next(&it, &r) == 1) {
			size_t mark = out.len;

			if (recjson_format(&out, "t", 0, &r) == 0) {
				struct jdoc *d = NULL;

				if (jdoc_parse(out.data + mark, out.len - mark, &d, NULL) != 0)
					abort();
				jdoc_free(d);
				/* the key/headers cache gives the same line */
				buf_reset(&again);
				if (recjson_format_cached(&again, "t", 0, &r, &jc) != 0 ||
				    again.len != out.len - mark ||
				    memcmp(again.data, out.data + mark, again.len) != 0)
					abort();
			}
			buf_reset(&out);
		}
	}
	batch_iter_release(&it);
	recjson_cache_release(&jc);
	buf_release(&again);
	buf_release(&out);
	return 0;
}
