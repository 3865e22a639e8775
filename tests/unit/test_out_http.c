/* SPDX-License-Identifier: Apache-2.0 */
/* The http output's request bodies (every format) and _bulk answers. */
#include <stdio.h>
#include <string.h>

#include "lib/batch.h"
#include "lib/codec.h"
#include "lib/jdoc.h"
#include "plugins/out_http/http_body.h"
#include "tests/unit/unit.h"

static struct codec_ctx *cc;

/* Two records: one plain, one with a newline, a quote and invalid UTF-8. */
static void make_batch(struct buf *out, int codec)
{
	struct batch_builder b;
	struct batch_params p;
	struct record_header h[3] = {
		{(const uint8_t *)"host", 4, (const uint8_t *)"web-1", 5},
		{(const uint8_t *)"input", 5, (const uint8_t *)"app", 3},
		{(const uint8_t *)"path", 4, (const uint8_t *)"/var/log/a.log", 14},
	};

	batch_builder_init(&b, 1 << 20);
	CU_ASSERT_EQUAL_FATAL(batch_builder_add(&b, 1764000000123, "web-1:/var/log/a.log", 20,
						"GET / seq=1", 11, h, 3),
			      0);
	CU_ASSERT_EQUAL_FATAL(batch_builder_add(&b, 1764000000456, "web-1:/var/log/a.log", 20,
						"trace \"x\"\n\tat y \xff seq=2", 22, h, 3),
			      0);
	batch_params_init(&p);
	p.codec = codec;
	buf_reset(out);
	CU_ASSERT_EQUAL_FATAL(batch_builder_finish(&b, cc, &p, out), 0);
	batch_builder_release(&b);
}

static struct jdoc *parse(const void *p, size_t n)
{
	struct jdoc *d = NULL;

	CU_ASSERT_EQUAL(jdoc_parse(p, n, &d, NULL), 0);
	return d;
}

static void test_ndjson_and_array(void)
{
	struct buf batch;
	struct http_body b;
	struct jdoc *d;

	buf_init(&batch, 1 << 20);
	make_batch(&batch, CODEC_ZSTD);
	http_body_init(&b, HTTP_FMT_NDJSON, "app", NULL, "h-o", 1 << 20);
	CU_ASSERT_EQUAL(http_body_add_batch(&b, cc, 7, batch.data, batch.len), 2);
	CU_ASSERT_EQUAL(http_body_add_batch(&b, cc, 8, batch.data, batch.len), 2);
	CU_ASSERT_EQUAL(http_body_finish(&b), 0);
	{
		const char *s = (const char *)b.out.data, *nl;
		int lines = 0;

		while ((nl = memchr(s, '\n', b.out.len - (size_t)(s - (const char *)b.out.data)))) {
			d = parse(s, (size_t)(nl - s));
			CU_ASSERT_STRING_EQUAL(jnode_str(jnode_get(jdoc_root(d), "topic")), "app");
			jdoc_free(d);
			s = nl + 1;
			lines++;
		}
		CU_ASSERT_EQUAL(lines, 4);
	}
	http_body_release(&b);

	http_body_init(&b, HTTP_FMT_JSON_ARRAY, "app", NULL, "h-o", 1 << 20);
	CU_ASSERT_EQUAL(http_body_finish(&b), 0);
	CU_ASSERT_EQUAL(b.out.len, 2); /* [] */
	http_body_release(&b);
	http_body_init(&b, HTTP_FMT_JSON_ARRAY, "app", NULL, "h-o", 1 << 20);
	CU_ASSERT_EQUAL(http_body_add_batch(&b, cc, 7, batch.data, batch.len), 2);
	CU_ASSERT_EQUAL(http_body_add_batch(&b, cc, 8, batch.data, batch.len), 2);
	CU_ASSERT_EQUAL(http_body_finish(&b), 0);
	d = parse(b.out.data, b.out.len);
	CU_ASSERT_EQUAL(jdoc_root(d)->type, JARR);
	CU_ASSERT_EQUAL(jdoc_root(d)->n, 4);
	CU_ASSERT_STRING_EQUAL(jnode_str(jnode_get(&jdoc_root(d)->kids[0], "value")),
			       "GET / seq=1");
	jdoc_free(d);
	http_body_release(&b);
	buf_release(&batch);
}

static void test_es_bulk(void)
{
	struct buf batch;
	struct http_body b;
	const char *s, *nl;
	int lines = 0;

	buf_init(&batch, 1 << 20);
	make_batch(&batch, CODEC_NONE);
	http_body_init(&b, HTTP_FMT_ES_BULK, "app", "logs-idx", "web-1-es", 1 << 20);
	CU_ASSERT_EQUAL(http_body_add_batch(&b, cc, 42, batch.data, batch.len), 2);
	CU_ASSERT_EQUAL(http_body_finish(&b), 0);
	s = (const char *)b.out.data;
	while ((nl = memchr(s, '\n', b.out.len - (size_t)(s - (const char *)b.out.data)))) {
		struct jdoc *d = parse(s, (size_t)(nl - s));
		const struct jnode *root = jdoc_root(d);

		if (lines % 2 == 0) {
			const struct jnode *c = jnode_get(root, "create");

			CU_ASSERT_STRING_EQUAL(jnode_str(jnode_get(c, "_index")), "logs-idx");
			CU_ASSERT_STRING_EQUAL(jnode_str(jnode_get(c, "_id")),
					       lines == 0 ? "web-1-es-42-0" : "web-1-es-42-1");
		} else {
			CU_ASSERT_PTR_NOT_NULL(jnode_str(jnode_get(root, "@timestamp")));
			CU_ASSERT_STRING_EQUAL(
				jnode_str(jnode_get(jnode_get(root, "sluice"), "input")), "app");
			if (lines == 1)
				CU_ASSERT_STRING_EQUAL(jnode_str(jnode_get(root, "message")),
						       "GET / seq=1");
		}
		jdoc_free(d);
		s = nl + 1;
		lines++;
	}
	CU_ASSERT_EQUAL(lines, 4);
	http_body_release(&b);
	buf_release(&batch);
}

/* Records of several sources in one batch, one with a kafka.* origin: each
 * document gets its own key, headers and id however the formatted tail of a
 * source is reused. */
static void test_es_bulk_sources(void)
{
	static const char *const want_id[] = {"p-9-0", "p-9-1", "t/3/77",
					      "p-9-3", "p-9-4", "p-9-5"};
	static const char *const want_path[] = {"/a.log", "/a.log", NULL,
						"/a.log", "/b.log", "/a.log"};
	struct record_header ha[] = {{(const uint8_t *)"path", 4, (const uint8_t *)"/a.log", 6}};
	struct record_header hb[] = {{(const uint8_t *)"path", 4, (const uint8_t *)"/b.log", 6}};
	struct record_header hk[] = {
		{(const uint8_t *)"kafka.topic", 11, (const uint8_t *)"t", 1},
		{(const uint8_t *)"kafka.partition", 15, (const uint8_t *)"3", 1},
		{(const uint8_t *)"kafka.offset", 12, (const uint8_t *)"77", 2},
	};
	const struct record_header *hs[] = {ha, ha, hk, ha, hb, ha};
	const size_t nh[] = {1, 1, 3, 1, 1, 1};
	const char *keys[] = {"h:a", "h:a", "k", "h:a", "h:b", "h:a"};
	struct batch_builder bb;
	struct batch_params p;
	struct buf batch;
	struct http_body b;
	const char *s, *nl;
	int line = 0;

	buf_init(&batch, 1 << 20);
	batch_builder_init(&bb, 1 << 20);
	for (int i = 0; i < 6; i++)
		CU_ASSERT_EQUAL_FATAL(batch_builder_add(&bb, 1764000000000 + i, keys[i],
							(int32_t)strlen(keys[i]), "v", 1, hs[i],
							nh[i]),
				      0);
	batch_params_init(&p);
	CU_ASSERT_EQUAL_FATAL(batch_builder_finish(&bb, cc, &p, &batch), 0);
	batch_builder_release(&bb);
	http_body_init(&b, HTTP_FMT_ES_BULK, "app", NULL, "p", 1 << 20);
	CU_ASSERT_EQUAL(http_body_add_batch(&b, cc, 9, batch.data, batch.len), 6);
	s = (const char *)b.out.data;
	while ((nl = memchr(s, '\n', b.out.len - (size_t)(s - (const char *)b.out.data)))) {
		struct jdoc *d = parse(s, (size_t)(nl - s));
		const struct jnode *root = jdoc_root(d);
		int i = line / 2;

		if (line % 2 == 0) {
			CU_ASSERT_STRING_EQUAL(
				jnode_str(jnode_get(jnode_get(root, "create"), "_id")), want_id[i]);
		} else {
			const struct jnode *sl = jnode_get(root, "sluice");
			const char *path = jnode_str(jnode_get(sl, "path"));
			char ts[64];

			snprintf(ts, sizeof(ts), "2025-11-24T16:00:00.00%dZ", i % 10);
			CU_ASSERT_STRING_EQUAL(jnode_str(jnode_get(root, "@timestamp")), ts);

			CU_ASSERT_STRING_EQUAL(jnode_str(jnode_get(root, "key")), keys[i]);
			CU_ASSERT_STRING_EQUAL(jnode_str(jnode_get(sl, "topic")), "app");
			if (want_path[i]) {
				CU_ASSERT(path && strcmp(path, want_path[i]) == 0);
			} else {
				CU_ASSERT_PTR_NULL(path);
			}
		}
		jdoc_free(d);
		s = nl + 1;
		line++;
	}
	CU_ASSERT_EQUAL(line, 12);
	http_body_release(&b);
	buf_release(&batch);
}

/* Sources alternating A A B A: consecutive records of one source share a
 * stream, each stream carries its own labels. */
static void test_loki_sources(void)
{
	struct record_header ha[] = {{(const uint8_t *)"path", 4, (const uint8_t *)"/a.log", 6}};
	struct record_header hb[] = {{(const uint8_t *)"path", 4, (const uint8_t *)"/b.log", 6}};
	const struct record_header *hs[] = {ha, ha, hb, ha};
	static const char *const want[] = {"/a.log", "/b.log", "/a.log"};
	struct batch_builder bb;
	struct batch_params p;
	struct buf batch;
	struct http_body b;
	struct jdoc *d;
	const struct jnode *streams;

	buf_init(&batch, 1 << 20);
	batch_builder_init(&bb, 1 << 20);
	for (int i = 0; i < 4; i++)
		CU_ASSERT_EQUAL_FATAL(
			batch_builder_add(&bb, 1764000000000 + i, "k", 1, "v", 1, hs[i], 1), 0);
	batch_params_init(&p);
	CU_ASSERT_EQUAL_FATAL(batch_builder_finish(&bb, cc, &p, &batch), 0);
	batch_builder_release(&bb);
	http_body_init(&b, HTTP_FMT_LOKI, "app", NULL, "x", 1 << 20);
	CU_ASSERT_EQUAL(http_body_add_batch(&b, cc, 1, batch.data, batch.len), 4);
	CU_ASSERT_EQUAL(http_body_finish(&b), 0);
	d = parse(b.out.data, b.out.len);
	streams = jnode_get(jdoc_root(d), "streams");
	CU_ASSERT_EQUAL_FATAL(streams->n, 3);
	for (size_t i = 0; i < 3; i++)
		CU_ASSERT_STRING_EQUAL(
			jnode_str(jnode_get(jnode_get(&streams->kids[i], "stream"), "path")),
			want[i]);
	CU_ASSERT_EQUAL(jnode_get(&streams->kids[0], "values")->n, 2);
	CU_ASSERT_STRING_EQUAL(jnode_str(&jnode_get(&streams->kids[2], "values")->kids[0].kids[0]),
			       "1764000000003000000");
	jdoc_free(d);
	http_body_release(&b);
	buf_release(&batch);
}

static void test_loki(void)
{
	struct buf batch;
	struct http_body b;
	struct jdoc *d;
	const struct jnode *streams, *vals;

	buf_init(&batch, 1 << 20);
	make_batch(&batch, CODEC_GZIP);
	http_body_init(&b, HTTP_FMT_LOKI, "app", NULL, "x", 1 << 20);
	CU_ASSERT_EQUAL(http_body_add_batch(&b, cc, 1, batch.data, batch.len), 2);
	CU_ASSERT_EQUAL(http_body_add_batch(&b, cc, 2, batch.data, batch.len), 2);
	CU_ASSERT_EQUAL(http_body_finish(&b), 0);
	d = parse(b.out.data, b.out.len);
	streams = jnode_get(jdoc_root(d), "streams");
	CU_ASSERT_EQUAL_FATAL(streams->n, 1); /* same labels: one stream */
	CU_ASSERT_STRING_EQUAL(jnode_str(jnode_get(jnode_get(&streams->kids[0], "stream"), "host")),
			       "web-1");
	vals = jnode_get(&streams->kids[0], "values");
	CU_ASSERT_EQUAL(vals->n, 4);
	CU_ASSERT_STRING_EQUAL(jnode_str(&vals->kids[0].kids[0]), "1764000000123000000");
	jdoc_free(d);
	http_body_release(&b);
	http_body_init(&b, HTTP_FMT_LOKI, "app", NULL, "x", 1 << 20);
	CU_ASSERT_EQUAL(http_body_finish(&b), 0);
	d = parse(b.out.data, b.out.len);
	jdoc_free(d);
	http_body_release(&b);
	buf_release(&batch);
}

static void test_bulk_answers(void)
{
	char why[200];
	size_t bad;
	const char *ok = "{\"took\":1,\"errors\":false,\"items\":[]}";
	const char *dup = "{\"errors\":true,\"items\":[{\"create\":{\"status\":201}},"
			  "{\"create\":{\"status\":409}}]}";
	const char *retry = "{\"errors\":true,\"items\":[{\"create\":{\"status\":201}},"
			    "{\"create\":{\"status\":429}},{\"create\":{\"status\":503}}]}";
	const char *refused = "{\"errors\":true,\"items\":[{\"create\":{\"status\":201}},"
			      "{\"create\":{\"status\":429}},{\"create\":{\"status\":400,\"error\":"
			      "{\"type\":\"mapper_parsing_exception\",\"reason\":\"bad\"}}}]}";

	CU_ASSERT_EQUAL(http_bulk_verdict(ok, strlen(ok), &bad, why, sizeof(why)), BULK_OK);
	CU_ASSERT_EQUAL(http_bulk_verdict(dup, strlen(dup), &bad, why, sizeof(why)), BULK_OK);
	CU_ASSERT_EQUAL(http_bulk_verdict(retry, strlen(retry), &bad, why, sizeof(why)),
			BULK_RETRY);
	CU_ASSERT_EQUAL(bad, 1);
	CU_ASSERT_EQUAL(http_bulk_verdict(refused, strlen(refused), &bad, why, sizeof(why)),
			BULK_REFUSED);
	CU_ASSERT_EQUAL(bad, 2);
	CU_ASSERT_PTR_NOT_NULL(strstr(why, "mapper_parsing_exception"));
	CU_ASSERT_EQUAL(http_bulk_verdict("nope", 4, &bad, why, sizeof(why)), BULK_INVALID);
	CU_ASSERT_EQUAL(http_bulk_verdict("[]", 2, &bad, why, sizeof(why)), BULK_INVALID);
	CU_ASSERT_EQUAL(http_bulk_verdict("{\"errors\":true}", 15, &bad, why, sizeof(why)),
			BULK_INVALID);
}

int main(void)
{
	static const struct unit_test tests[] = {
		UNIT_TEST(test_ndjson_and_array),
		UNIT_TEST(test_es_bulk),
		UNIT_TEST(test_es_bulk_sources),
		UNIT_TEST(test_loki),
		UNIT_TEST(test_loki_sources),
		UNIT_TEST(test_bulk_answers),
		UNIT_END,
	};
	int rc;

	cc = codec_ctx_new();
	rc = unit_run("out_http", tests);
	codec_ctx_free(cc);
	return rc;
}
