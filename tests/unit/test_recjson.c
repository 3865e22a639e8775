/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Record to JSON line: exact output for text, binary, null and header
 * variants, decoding through real batches of every codec, and the bound of
 * the output buffer (a failed append leaves the buffer as it was).
 */
#include <string.h>

#include "lib/batch.h"
#include "lib/err.h"
#include "lib/jdoc.h"
#include "lib/recjson.h"
#include "tests/unit/unit.h"

static void one(struct buf *out, const char *topic, int64_t ts, const void *key, int32_t klen,
		const void *val, int32_t vlen, const struct record_header *h, size_t nh)
{
	struct batch_builder bb;
	struct batch_params bp;
	struct batch_iter it;
	struct record r;
	struct buf batch;

	batch_builder_init(&bb, 1 << 20);
	buf_init(&batch, 0);
	CU_ASSERT_EQUAL_FATAL(batch_builder_add(&bb, ts, key, klen, val, vlen, h, nh), 0);
	batch_params_init(&bp);
	bp.base_offset = 41;
	CU_ASSERT_EQUAL_FATAL(batch_builder_finish(&bb, NULL, &bp, &batch), 0);
	CU_ASSERT_EQUAL_FATAL(batch_iter_init(&it, batch.data, batch.len, NULL, 1 << 20, true), 0);
	CU_ASSERT_EQUAL_FATAL(batch_iter_next(&it, &r), 1);
	CU_ASSERT_EQUAL(recjson_format(out, topic, 3, &r), 0);
	batch_iter_release(&it);
	batch_builder_release(&bb);
	buf_release(&batch);
}

static void test_text_record(void)
{
	struct record_header h[2] = {
		{(const uint8_t *)"host", 4, (const uint8_t *)"web-01", 6},
		{(const uint8_t *)"path", 4, NULL, -1},
	};
	struct buf out;

	buf_init(&out, 0);
	one(&out, "nginx", 1700000000123, "web-01:/a", 9, "GET / \"x\"\n", 10, h, 2);
	CU_ASSERT_EQUAL_FATAL(buf_cstr(&out), 0);
	CU_ASSERT_STRING_EQUAL(
		(char *)out.data,
		"{\"topic\":\"nginx\",\"partition\":3,\"offset\":41,\"timestamp\":1700000000123,"
		"\"time\":\"2023-11-14T22:13:20.123Z\",\"key\":\"web-01:/a\","
		"\"headers\":[{\"key\":\"host\",\"value\":\"web-01\"},{\"key\":\"path\",\"value\":null}],"
		"\"value\":\"GET / \\\"x\\\"\\n\"}\n");
	buf_release(&out);
}

static void test_binary_and_null(void)
{
	static const uint8_t bin[4] = {0xff, 0x00, 0xfe, 0x41};
	struct record_header h = {(const uint8_t *)"b", 1, bin, 4};
	struct buf out;

	buf_init(&out, 0);
	one(&out, NULL, 0, NULL, -1, bin, 4, &h, 1);
	CU_ASSERT_EQUAL_FATAL(buf_cstr(&out), 0);
	CU_ASSERT_STRING_EQUAL(
		(char *)out.data,
		"{\"partition\":3,\"offset\":41,\"timestamp\":0,\"time\":\"1970-01-01T00:00:00.000Z\","
		"\"key\":null,\"headers\":[{\"key\":\"b\",\"value\":\"/wD+QQ==\",\"value_base64\":true}],"
		"\"value\":\"/wD+QQ==\",\"value_base64\":true}\n");
	buf_reset(&out);
	one(&out, NULL, -62135596800001LL * 2, bin, 4, NULL, -1, NULL, 0);
	CU_ASSERT_EQUAL_FATAL(buf_cstr(&out), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr((char *)out.data, "\"time\":\"0001-01-01T00:00:00.000Z\""));
	CU_ASSERT_PTR_NOT_NULL(strstr((char *)out.data,
				      "\"key\":\"/wD+QQ==\",\"key_base64\":true,\"headers\":[],"
				      "\"value\":null}"));
	buf_release(&out);
}

static void test_output_is_json_and_bounded(void)
{
	struct buf out, small;
	struct jdoc *d = NULL;
	char val[200];

	memset(val, 'v', sizeof(val));
	buf_init(&out, 0);
	one(&out, "t", 5, "k", 1, val, (int32_t)sizeof(val), NULL, 0);
	CU_ASSERT_EQUAL(jdoc_parse(out.data, out.len, &d, NULL), 0);
	CU_ASSERT_EQUAL(jnode_str(jnode_get(jdoc_root(d), "value"))[199], 'v');
	jdoc_free(d);

	buf_init(&small, 120);
	CU_ASSERT_EQUAL(buf_append_str(&small, "prefix"), 0);
	{
		struct batch_builder bb;
		struct batch_params bp;
		struct batch_iter it;
		struct record r;
		struct buf batch;

		batch_builder_init(&bb, 1 << 20);
		buf_init(&batch, 0);
		batch_builder_add(&bb, 5, "k", 1, val, (int32_t)sizeof(val), NULL, 0);
		batch_params_init(&bp);
		batch_builder_finish(&bb, NULL, &bp, &batch);
		CU_ASSERT_EQUAL(batch_iter_init(&it, batch.data, batch.len, NULL, 1 << 20, true),
				0);
		CU_ASSERT_EQUAL(batch_iter_next(&it, &r), 1);
		CU_ASSERT_EQUAL(recjson_format(&small, "t", 0, &r), -ERR_TOO_LARGE);
		CU_ASSERT_EQUAL(small.len, 6);
		batch_iter_release(&it);
		batch_builder_release(&bb);
		buf_release(&batch);
	}
	buf_release(&small);
	buf_release(&out);
}

static void test_every_codec(void)
{
	for (int c = CODEC_NONE; c <= CODEC_ZSTD; c++) {
		struct codec_ctx *cc = codec_ctx_new();
		struct batch_builder bb;
		struct batch_params bp;
		struct batch_iter it;
		struct record r;
		struct buf batch, out;
		int n = 0;

		batch_builder_init(&bb, 1 << 20);
		buf_init(&batch, 0);
		buf_init(&out, 0);
		for (int i = 0; i < 50; i++) {
			char line[64];
			int len = snprintf(line, sizeof(line), "line %d seq=%d", i, i);

			batch_builder_add(&bb, 1000 + i, "src", 3, line, len, NULL, 0);
		}
		batch_params_init(&bp);
		bp.codec = c;
		CU_ASSERT_EQUAL_FATAL(batch_builder_finish(&bb, cc, &bp, &batch), 0);
		CU_ASSERT_EQUAL_FATAL(
			batch_iter_init(&it, batch.data, batch.len, cc, 1 << 20, true), 0);
		while (batch_iter_next(&it, &r) == 1) {
			CU_ASSERT_EQUAL(recjson_format(&out, "t", 0, &r), 0);
			n++;
		}
		CU_ASSERT_EQUAL(n, 50);
		CU_ASSERT_EQUAL(buf_cstr(&out), 0);
		CU_ASSERT_PTR_NOT_NULL(
			strstr((char *)out.data, "\"offset\":49,\"timestamp\":1049,"));
		CU_ASSERT_PTR_NOT_NULL(strstr((char *)out.data, "\"value\":\"line 49 seq=49\"}\n"));
		batch_iter_release(&it);
		batch_builder_release(&bb);
		buf_release(&batch);
		buf_release(&out);
		codec_ctx_free(cc);
	}
}

/* The cache gives the same bytes as formatting each record alone, over
 * records whose keys and headers repeat, change, go null or binary, whose
 * times stay in a second, move to the next or go out of range (negative,
 * past year 9999), and lines whose topic and partition change. */
static void test_cache_same_bytes(void)
{
	static const char *const keys[] = {"web-1:/var/log/a.log", "web-1:/var/log/b.log", NULL,
					   "\xff\xfe"};
	struct batch_builder bb;
	struct batch_params bp;
	struct batch_iter it;
	struct recjson_cache jc;
	struct record r;
	struct buf batch, plain, cached;
	unsigned seed = 7;
	int n = 0;

	batch_builder_init(&bb, 1 << 22);
	buf_init(&batch, 0);
	buf_init(&plain, 0);
	buf_init(&cached, 0);
	for (int i = 0; i < 400; i++) {
		struct record_header h[2] = {
			{(const uint8_t *)"path", 4, (const uint8_t *)"/var/log/a.log", 14},
			{(const uint8_t *)"host", 4, (const uint8_t *)"web-1", 5},
		};
		const char *k;
		char line[64];
		int len = snprintf(line, sizeof(line), "line %d seq=%d", i, i);
		size_t nh;

		seed = seed * 1103515245u + 12345u;
		k = keys[(seed >> 16) % 4 == 3 && i % 5 ? 0 : (seed >> 16) % 4];
		nh = (seed >> 20) % 3;
		if ((seed >> 24) % 7 == 0)
			h[1].value_len = -1;
		int64_t ts = i % 11 == 5   ? -1500 - i
			     : i % 13 == 7 ? 253402300799999LL + i
					   : 1700000000000LL + i * 137;

		batch_builder_add(&bb, ts, k, k ? (int32_t)strlen(k) : -1, line, len, nh ? h : NULL,
				  nh);
	}
	batch_params_init(&bp);
	CU_ASSERT_EQUAL_FATAL(batch_builder_finish(&bb, NULL, &bp, &batch), 0);
	CU_ASSERT_EQUAL_FATAL(batch_iter_init(&it, batch.data, batch.len, NULL, 1 << 22, true), 0);
	recjson_cache_init(&jc);
	while (batch_iter_next(&it, &r) == 1) {
		static const char *const topics[] = {"t", "t", "t", "u", NULL, "q\"x"};
		const char *t = topics[n / 7 % 6];
		int32_t part = n / 30 % 2;

		CU_ASSERT_EQUAL(recjson_format(&plain, t, part, &r), 0);
		CU_ASSERT_EQUAL(recjson_format_cached(&cached, t, part, &r, &jc), 0);
		n++;
	}
	CU_ASSERT_EQUAL(n, 400);
	CU_ASSERT_EQUAL_FATAL(plain.len, cached.len);
	CU_ASSERT(memcmp(plain.data, cached.data, plain.len) == 0);
	recjson_cache_release(&jc);
	batch_iter_release(&it);
	batch_builder_release(&bb);
	buf_release(&batch);
	buf_release(&plain);
	buf_release(&cached);
}

int main(void)
{
	static const struct unit_test tests[] = {
		UNIT_TEST(test_text_record),
		UNIT_TEST(test_binary_and_null),
		UNIT_TEST(test_output_is_json_and_bounded),
		UNIT_TEST(test_every_codec),
		UNIT_TEST(test_cache_same_bytes),
		UNIT_END,
	};

	return unit_run("recjson", tests);
}
