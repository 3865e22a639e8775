/* SPDX-License-Identifier: Apache-2.0 */
/* Every codec round-trips; outputs are bounded; garbage is rejected. */
#include <stdlib.h>
#include <string.h>

#include "lib/codec.h"
#include "lib/err.h"
#include "tests/unit/unit.h"

static uint8_t *sample(size_t n, int compressible)
{
	uint8_t *p = malloc(n ? n : 1);
	static const char line[] =
		"10.0.0.1 - - [24/Nov/2026:10:00:00 +0000] \"GET /api HTTP/1.1\" 200 512\n";

	srand(42);
	for (size_t i = 0; i < n; i++)
		p[i] = compressible ? (uint8_t)line[i % (sizeof(line) - 1)] : (uint8_t)rand();
	return p;
}

static void roundtrip(int type, size_t n, int compressible)
{
	struct codec_ctx *cc = codec_ctx_new();
	uint8_t *in = sample(n, compressible);
	struct buf c, d;

	buf_init(&c, 0);
	buf_init(&d, n + 1);
	CU_ASSERT_EQUAL_FATAL(codec_compress(cc, type, 0, in, n, &c), 0);
	if (compressible && n > 4096 && type != CODEC_NONE)
		CU_ASSERT(c.len < n / 4);
	CU_ASSERT_EQUAL(codec_decompress(cc, type, c.data, c.len, &d), 0);
	CU_ASSERT_EQUAL(d.len, n);
	CU_ASSERT(n == 0 || memcmp(d.data, in, n) == 0);
	/* same context again: state must reset between calls */
	buf_reset(&d);
	CU_ASSERT_EQUAL(codec_decompress(cc, type, c.data, c.len, &d), 0);
	CU_ASSERT_EQUAL(d.len, n);
	buf_release(&c);
	buf_release(&d);
	free(in);
	codec_ctx_free(cc);
}

static void test_roundtrip_all(void)
{
	static const size_t sizes[] = {1, 100, 4096, 65536 + 17, 1 << 20};

	for (int t = CODEC_NONE; t <= CODEC_ZSTD; t++)
		for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
			roundtrip(t, sizes[i], 1);
			roundtrip(t, sizes[i], 0);
		}
}

static void test_bounded_output(void)
{
	struct codec_ctx *cc = codec_ctx_new();
	uint8_t *in = sample(1 << 20, 1);

	for (int t = CODEC_GZIP; t <= CODEC_ZSTD; t++) {
		struct buf c, d;

		buf_init(&c, 0);
		buf_init(&d, 1000); /* far smaller than the payload */
		CU_ASSERT_EQUAL(codec_compress(cc, t, 0, in, 1 << 20, &c), 0);
		CU_ASSERT_EQUAL(codec_decompress(cc, t, c.data, c.len, &d), -ERR_TOO_LARGE);
		CU_ASSERT(d.len <= 1000);
		buf_release(&c);
		buf_release(&d);
	}
	free(in);
	codec_ctx_free(cc);
}

static void test_garbage_and_truncation(void)
{
	struct codec_ctx *cc = codec_ctx_new();
	uint8_t *in = sample(50000, 1);
	uint8_t junk[64];

	memset(junk, 0x5a, sizeof(junk));
	for (int t = CODEC_GZIP; t <= CODEC_ZSTD; t++) {
		struct buf c, d;

		buf_init(&c, 0);
		buf_init(&d, 1 << 20);
		CU_ASSERT(codec_decompress(cc, t, junk, sizeof(junk), &d) < 0);
		CU_ASSERT_EQUAL(codec_compress(cc, t, 0, in, 50000, &c), 0);
		buf_reset(&d);
		CU_ASSERT(codec_decompress(cc, t, c.data, c.len / 2, &d) < 0);
		buf_release(&c);
		buf_release(&d);
	}
	free(in);
	codec_ctx_free(cc);
}

static void test_snappy_raw_and_names(void)
{
	/* raw snappy (no xerial header), as some producers send: literal "abc" */
	static const uint8_t raw[] = {0x03, 0x08, 'a', 'b', 'c'};
	struct codec_ctx *cc = codec_ctx_new();
	struct buf d;

	buf_init(&d, 100);
	CU_ASSERT_EQUAL(codec_decompress(cc, CODEC_SNAPPY, raw, sizeof(raw), &d), 0);
	CU_ASSERT_EQUAL(d.len, 3u);
	CU_ASSERT(memcmp(d.data, "abc", 3) == 0);
	buf_release(&d);
	codec_ctx_free(cc);
	CU_ASSERT_EQUAL(codec_parse("zstd"), CODEC_ZSTD);
	CU_ASSERT_EQUAL(codec_parse("lz4"), CODEC_LZ4);
	CU_ASSERT(codec_parse("brotli") < 0);
	CU_ASSERT_STRING_EQUAL(codec_name(CODEC_GZIP), "gzip");
	CU_ASSERT_PTR_NULL(codec_name(9));
	CU_ASSERT_EQUAL(codec_compress(NULL, 7, 0, "x", 1, &d), -ERR_UNSUPPORTED);
}

/* A stream fed in uneven pieces decompresses to their concatenation, for
 * gzip and zstd at two levels; other codecs are refused; a zstd
 * codec_compress() in the middle ends the stream. */
static void test_stream(void)
{
	static const int types[] = {CODEC_GZIP, CODEC_ZSTD};
	struct codec_ctx *cc = codec_ctx_new();
	size_t n = 3 << 20;
	uint8_t *in = malloc(n);
	struct buf z, back, tmp;

	CU_ASSERT_FATAL(cc != NULL && in != NULL);
	for (size_t i = 0; i < n; i++)
		in[i] = (uint8_t)("log line seq=%d\n"[i % 16] + (i / 4096) % 7);
	for (size_t t = 0; t < 2; t++) {
		for (int level = 1; level <= 3; level += 2) {
			size_t off = 0, piece = 1;

			buf_init(&z, 0);
			buf_init(&back, 0);
			CU_ASSERT_EQUAL(codec_stream_begin(cc, types[t], level), 0);
			while (off < n) {
				size_t k = piece < n - off ? piece : n - off;

				CU_ASSERT_EQUAL(codec_stream_write(cc, in + off, k, &z), 0);
				off += k;
				piece = piece * 3 + 1;
			}
			CU_ASSERT_EQUAL(codec_stream_end(cc, &z), 0);
			CU_ASSERT(z.len > 0 && z.len < n / 4);
			CU_ASSERT_EQUAL(codec_decompress(cc, types[t], z.data, z.len, &back), 0);
			CU_ASSERT_EQUAL(back.len, n);
			CU_ASSERT(back.len == n && memcmp(back.data, in, n) == 0);
			buf_release(&z);
			buf_release(&back);
		}
	}
	CU_ASSERT_EQUAL(codec_stream_begin(cc, CODEC_LZ4, 0), -ERR_UNSUPPORTED);
	buf_init(&z, 0);
	buf_init(&tmp, 0);
	CU_ASSERT_EQUAL(codec_stream_write(cc, in, 10, &z), -ERR_INVALID);
	CU_ASSERT_EQUAL(codec_stream_begin(cc, CODEC_ZSTD, 1), 0);
	CU_ASSERT_EQUAL(codec_compress(cc, CODEC_ZSTD, 1, in, 100, &tmp), 0);
	CU_ASSERT_EQUAL(codec_stream_write(cc, in, 10, &z), -ERR_INVALID);
	buf_release(&z);
	buf_release(&tmp);
	/* a stream left open is freed with its context */
	CU_ASSERT_EQUAL(codec_stream_begin(cc, CODEC_GZIP, 1), 0);
	codec_ctx_free(cc);
	free(in);
}

int main(void)
{
	static const struct unit_test tests[] = {
		UNIT_TEST(test_roundtrip_all),
		UNIT_TEST(test_bounded_output),
		UNIT_TEST(test_garbage_and_truncation),
		UNIT_TEST(test_snappy_raw_and_names),
		UNIT_TEST(test_stream),
		UNIT_END,
	};

	return unit_run("codec", tests);
}
