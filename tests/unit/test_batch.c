/* SPDX-License-Identifier: Apache-2.0 */
/*
 * RecordBatch v2 codec: byte-exact against batches built by kafka-python
 * (tests/data/batches, see gen_golden_batches.py), round trips through every
 * codec, and rejection of every corrupted or truncated variant.
 */
#include <stdlib.h>
#include <string.h>

#include "lib/batch.h"
#include "lib/crc32c.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "tests/unit/unit.h"

struct golden {
	int64_t ts;
	const char *key;   /* NULL = null key */
	const char *value; /* NULL = null value */
	struct record_header hdr[2];
	size_t nhdr;
};

static char xs[301];

static struct golden golden[4];

static void golden_init(void)
{
	memset(xs, 'x', 300);
	xs[300] = '\0';
	golden[0] = (struct golden){
		1700000000000,
		"web-01:/var/log/nginx/access.log",
		"10.0.0.1 - - \"GET / HTTP/1.1\" 200 seq=1",
		{{(const uint8_t *)"host", 4, (const uint8_t *)"web-01", 6},
		 {(const uint8_t *)"path", 4, (const uint8_t *)"/var/log/nginx/access.log", 25}},
		2};
	golden[1] = (struct golden){1700000000005, NULL, "no key here", {{0}}, 0};
	golden[2] = (struct golden){
		1699999999990, "k", NULL, {{(const uint8_t *)"h", 1, (const uint8_t *)"", 0}}, 1};
	golden[3] = (struct golden){1700000000100,
				    "",
				    xs,
				    {{(const uint8_t *)"input", 5, (const uint8_t *)"nginx", 5}},
				    1};
}

static int32_t slen(const char *s)
{
	return s ? (int32_t)strlen(s) : -1;
}

static void build_golden(struct buf *out, int codec, int64_t pid, int16_t epoch, int32_t seq)
{
	struct batch_builder bb;
	struct batch_params bp;
	struct codec_ctx *cc = codec_ctx_new();

	batch_builder_init(&bb, 1 << 20);
	for (size_t i = 0; i < 4; i++)
		CU_ASSERT_EQUAL(batch_builder_add(&bb, golden[i].ts, golden[i].key,
						  slen(golden[i].key), golden[i].value,
						  slen(golden[i].value), golden[i].hdr,
						  golden[i].nhdr),
				0);
	batch_params_init(&bp);
	bp.codec = codec;
	bp.leader_epoch = 0; /* kafka-python writes 0 */
	bp.producer_id = pid;
	bp.producer_epoch = epoch;
	bp.base_sequence = seq;
	CU_ASSERT_EQUAL(batch_builder_finish(&bb, cc, &bp, out), 0);
	batch_builder_release(&bb);
	codec_ctx_free(cc);
}

static void check_records(const uint8_t *p, size_t n, int64_t base)
{
	struct codec_ctx *cc = codec_ctx_new();
	struct batch_iter it;
	struct record r;
	int i = 0, rc;

	CU_ASSERT_EQUAL_FATAL(batch_iter_init(&it, p, n, cc, 1 << 20, true), 0);
	while ((rc = batch_iter_next(&it, &r)) == 1) {
		struct record_header_iter hi;
		struct record_header h;
		size_t k = 0;

		CU_ASSERT_FATAL(i < 4);
		CU_ASSERT_EQUAL(r.offset, base + i);
		CU_ASSERT_EQUAL(r.timestamp, golden[i].ts);
		CU_ASSERT_EQUAL(r.key_len, slen(golden[i].key));
		if (golden[i].key) {
			CU_ASSERT(memcmp(r.key, golden[i].key, (size_t)r.key_len) == 0);
		} else {
			CU_ASSERT_PTR_NULL(r.key);
		}
		CU_ASSERT_EQUAL(r.value_len, slen(golden[i].value));
		if (golden[i].value)
			CU_ASSERT(memcmp(r.value, golden[i].value, (size_t)r.value_len) == 0);
		CU_ASSERT_EQUAL(r.header_count, (int32_t)golden[i].nhdr);
		record_header_iter_init(&hi, &r);
		while (record_header_iter_next(&hi, &h) == 1) {
			CU_ASSERT_EQUAL(h.key_len, golden[i].hdr[k].key_len);
			CU_ASSERT(memcmp(h.key, golden[i].hdr[k].key, (size_t)h.key_len) == 0);
			CU_ASSERT_EQUAL(h.value_len, golden[i].hdr[k].value_len);
			k++;
		}
		CU_ASSERT_EQUAL(k, golden[i].nhdr);
		i++;
	}
	CU_ASSERT_EQUAL(rc, 0);
	CU_ASSERT_EQUAL(i, 4);
	batch_iter_release(&it);
	codec_ctx_free(cc);
}

static int load(const char *name, struct buf *b)
{
	char path[256];

	snprintf(path, sizeof(path), "tests/data/batches/%s.bin", name);
	buf_init(b, 1 << 20);
	return fs_read_file(path, b);
}

static void test_byte_exact_with_kafka_python(void)
{
	struct buf g, ours;
	struct batch_info bi;

	CU_ASSERT_EQUAL_FATAL(load("plain", &g), 0);
	buf_init(&ours, 0);
	build_golden(&ours, CODEC_NONE, -1, -1, -1);
	CU_ASSERT_EQUAL(ours.len, g.len);
	CU_ASSERT(ours.len == g.len && memcmp(ours.data, g.data, g.len) == 0);
	CU_ASSERT_EQUAL(batch_validate(g.data, g.len, &bi), 0);
	CU_ASSERT_EQUAL(bi.count, 4);
	CU_ASSERT_EQUAL(bi.first_ts, 1700000000000);
	CU_ASSERT_EQUAL(bi.max_ts, 1700000000100);
	CU_ASSERT_EQUAL(bi.producer_id, -1);
	check_records(g.data, g.len, 0);
	buf_release(&g);
	buf_reset(&ours);

	CU_ASSERT_EQUAL_FATAL(load("idempotent", &g), 0);
	build_golden(&ours, CODEC_NONE, 4242, 3, 17);
	CU_ASSERT(ours.len == g.len && memcmp(ours.data, g.data, g.len) == 0);
	CU_ASSERT_EQUAL(batch_validate(g.data, g.len, &bi), 0);
	CU_ASSERT_EQUAL(bi.producer_id, 4242);
	CU_ASSERT_EQUAL(bi.producer_epoch, 3);
	CU_ASSERT_EQUAL(bi.base_sequence, 17);
	buf_release(&g);
	buf_release(&ours);
}

static void test_decode_kafka_python_codecs(void)
{
	static const char *const names[] = {"gzip", "snappy", "lz4", "zstd"};

	for (size_t i = 0; i < 4; i++) {
		struct buf g;
		struct batch_info bi;

		CU_ASSERT_EQUAL_FATAL(load(names[i], &g), 0);
		CU_ASSERT_EQUAL(batch_validate(g.data, g.len, &bi), 0);
		CU_ASSERT_EQUAL(batch_codec(&bi), (int)i + 1);
		check_records(g.data, g.len, 0);
		buf_release(&g);
	}
}

static void test_roundtrip_codecs_and_offsets(void)
{
	for (int c = CODEC_NONE; c <= CODEC_ZSTD; c++) {
		struct buf b;
		struct batch_info bi;
		uint32_t crc;

		buf_init(&b, 0);
		build_golden(&b, c, 7, 0, 0);
		CU_ASSERT_EQUAL(batch_validate(b.data, b.len, &bi), 0);
		CU_ASSERT_EQUAL(batch_codec(&bi), c);
		crc = bi.crc;
		/* rewriting baseOffset keeps the CRC valid */
		batch_set_base_offset(b.data, 1000);
		CU_ASSERT_EQUAL(batch_validate(b.data, b.len, &bi), 0);
		CU_ASSERT_EQUAL(bi.crc, crc);
		CU_ASSERT_EQUAL(bi.base_offset, 1000);
		CU_ASSERT_EQUAL(batch_last_offset(&bi), 1003);
		check_records(b.data, b.len, 1000);
		buf_release(&b);
	}
}

static void test_every_corruption_detected(void)
{
	for (int c = CODEC_NONE; c <= CODEC_ZSTD; c += 4) {
		struct buf b;
		struct batch_info bi;

		buf_init(&b, 0);
		build_golden(&b, c, -1, -1, -1);
		/* flipping any byte from batchLength on is detected, except the
		 * partitionLeaderEpoch, which the CRC does not cover and which may
		 * hold any value */
		for (size_t i = BATCH_OFF_LENGTH; i < b.len; i++) {
			if (i >= BATCH_OFF_LEADER_EPOCH && i < BATCH_OFF_MAGIC)
				continue;
			b.data[i] ^= 0x20;
			CU_ASSERT(batch_validate(b.data, b.len, &bi) < 0);
			CU_ASSERT(batch_validate_head(b.data, b.len, &bi) < 0);
			b.data[i] ^= 0x20;
		}
		/* every truncation is detected */
		for (size_t n = 0; n < b.len; n++) {
			CU_ASSERT(batch_validate(b.data, n, &bi) < 0);
			CU_ASSERT(batch_validate_head(b.data, n, &bi) < 0);
		}
		CU_ASSERT_EQUAL(batch_validate(b.data, b.len, &bi), 0);
		CU_ASSERT_EQUAL(batch_validate_head(b.data, b.len, &bi), 0);
		CU_ASSERT_EQUAL(bi.count, 4);
		buf_release(&b);
	}
}

static void test_structure_checks(void)
{
	struct buf b, two;
	struct batch_info bi;
	uint8_t *p;

	buf_init(&b, 0);
	build_golden(&b, CODEC_NONE, -1, -1, -1);
	p = b.data;
	/* count disagreeing with lastOffsetDelta, CRC fixed up: still rejected */
	put_be32(p + BATCH_OFF_COUNT, 5);
	batch_update_crc(p, b.len);
	CU_ASSERT_EQUAL(batch_validate(p, b.len, &bi), -ERR_CORRUPT);
	put_be32(p + BATCH_OFF_LAST_OFFSET_DELTA, 4);
	batch_update_crc(p, b.len);
	CU_ASSERT_EQUAL(batch_validate(p, b.len, &bi), -ERR_CORRUPT); /* only 4 records */
	put_be32(p + BATCH_OFF_COUNT, 4);
	put_be32(p + BATCH_OFF_LAST_OFFSET_DELTA, 3);
	/* unknown codec */
	put_be16(p + BATCH_OFF_ATTRIBUTES, 6);
	batch_update_crc(p, b.len);
	CU_ASSERT_EQUAL(batch_validate(p, b.len, &bi), -ERR_UNSUPPORTED);
	put_be16(p + BATCH_OFF_ATTRIBUTES, 0);
	batch_update_crc(p, b.len);
	CU_ASSERT_EQUAL(batch_validate(p, b.len, &bi), 0);
	/* old magic */
	p[BATCH_OFF_MAGIC] = 1;
	CU_ASSERT_EQUAL(batch_validate(p, b.len, &bi), -ERR_UNSUPPORTED);
	p[BATCH_OFF_MAGIC] = 2;
	/* a huge length field is corrupt, not an allocation */
	put_be32(p + BATCH_OFF_LENGTH, 0x7fffffff);
	CU_ASSERT_EQUAL(batch_header_parse(p, b.len, &bi), -ERR_CORRUPT);
	put_be32(p + BATCH_OFF_LENGTH, (uint32_t)(b.len - BATCH_LOG_OVERHEAD));

	/* batch_next splits a concatenation */
	buf_init(&two, 0);
	buf_append(&two, b.data, b.len);
	buf_append(&two, b.data, b.len);
	CU_ASSERT_EQUAL(batch_next(two.data, two.len, &bi), 0);
	CU_ASSERT_EQUAL(bi.size, b.len);
	CU_ASSERT_EQUAL(batch_next(two.data + bi.size, two.len - bi.size, &bi), 0);
	CU_ASSERT_EQUAL(batch_next(two.data + 10, two.len - 10, &bi) < 0, 1);
	CU_ASSERT_EQUAL(batch_next(two.data, b.len - 1, &bi), -ERR_TRUNCATED);
	buf_release(&two);
	buf_release(&b);
}

static void test_builder_limits(void)
{
	struct batch_builder bb;
	struct batch_params bp;
	struct buf out;
	char big[2000];
	int added = 0;

	memset(big, 'a', sizeof(big));
	batch_builder_init(&bb, 10000);
	while (batch_builder_add(&bb, 1, NULL, -1, big, sizeof(big), NULL, 0) == 0)
		added++;
	CU_ASSERT_EQUAL(added, 4);
	CU_ASSERT(bb.records.len <= 10000);
	CU_ASSERT_EQUAL(batch_record_size(0, 0, -1, sizeof(big), NULL, 0) * 4, bb.records.len);
	batch_params_init(&bp);
	buf_init(&out, 0);
	CU_ASSERT_EQUAL(batch_builder_finish(&bb, NULL, &bp, &out), 0);
	CU_ASSERT_EQUAL(out.len, BATCH_HEADER_SIZE + bb.records.len);
	batch_builder_reset(&bb);
	buf_reset(&out);
	CU_ASSERT_EQUAL(batch_builder_finish(&bb, NULL, &bp, &out), -EINVAL); /* empty */
	bp.codec = CODEC_ZSTD;
	CU_ASSERT_EQUAL(batch_builder_add(&bb, 5, "k", 1, "v", 1, NULL, 0), 0);
	CU_ASSERT_EQUAL(batch_builder_finish(&bb, NULL, &bp, &out), -EINVAL); /* needs a ctx */
	buf_release(&out);
	batch_builder_release(&bb);
}

/* Records added with a pre-encoded key and headers are the same bytes as
 * records added the plain way (and so as kafka-python's golden batches). */
static void test_add_encoded_same_bytes(void)
{
	struct batch_builder plain, enc;
	struct buf kh, big;

	batch_builder_init(&plain, 1 << 20);
	batch_builder_init(&enc, 1 << 20);
	buf_init(&kh, 1 << 20);
	for (size_t i = 0; i < 4; i++) {
		size_t klen;

		buf_reset(&kh);
		CU_ASSERT_EQUAL_FATAL(batch_encode_key(&kh, golden[i].key, slen(golden[i].key)), 0);
		klen = kh.len;
		CU_ASSERT_EQUAL_FATAL(batch_encode_headers(&kh, golden[i].hdr, golden[i].nhdr), 0);
		CU_ASSERT_EQUAL(batch_builder_add(&plain, golden[i].ts, golden[i].key,
						  slen(golden[i].key), golden[i].value,
						  slen(golden[i].value), golden[i].hdr,
						  golden[i].nhdr),
				0);
		CU_ASSERT_EQUAL(batch_builder_add_encoded(&enc, golden[i].ts, kh.data, klen,
							  golden[i].value, slen(golden[i].value),
							  kh.data + klen, kh.len - klen),
				0);
		CU_ASSERT_EQUAL(enc.records.len, plain.records.len);
	}
	CU_ASSERT_EQUAL(enc.count, plain.count);
	CU_ASSERT_EQUAL(enc.first_ts, plain.first_ts);
	CU_ASSERT_EQUAL(enc.max_ts, plain.max_ts);
	CU_ASSERT(memcmp(enc.records.data, plain.records.data, plain.records.len) == 0);
	/* bad arguments */
	CU_ASSERT_EQUAL(batch_encode_key(&kh, "k", -2), -EINVAL);
	CU_ASSERT_EQUAL(batch_builder_add_encoded(&enc, 1, kh.data, 0, "v", 1, kh.data, 1),
			-EINVAL);
	CU_ASSERT_EQUAL(batch_builder_add_encoded(&enc, 1, kh.data, 1, "v", -2, kh.data, 1),
			-EINVAL);
	/* a buffer at its max refuses instead of growing */
	buf_init(&big, 8);
	CU_ASSERT(batch_encode_key(&big, xs, 300) < 0);
	CU_ASSERT_EQUAL(big.len, 0);
	buf_release(&big);
	buf_release(&kh);
	batch_builder_release(&plain);
	batch_builder_release(&enc);
}

/* A record timestamp or offset that overflows int64 is corruption, not
 * undefined behaviour (found by fuzz_recjson). */
static void test_iter_rejects_overflowing_fields(void)
{
	struct batch_builder bb;
	struct batch_params bp;
	struct batch_iter it;
	struct record r;
	struct buf b;

	batch_builder_init(&bb, 1 << 20);
	buf_init(&b, 0);
	CU_ASSERT_EQUAL(batch_builder_add(&bb, 1000, "k", 1, "a", 1, NULL, 0), 0);
	CU_ASSERT_EQUAL(batch_builder_add(&bb, 1010, "k", 1, "b", 1, NULL, 0), 0);
	batch_params_init(&bp);
	CU_ASSERT_EQUAL_FATAL(batch_builder_finish(&bb, NULL, &bp, &b), 0);
	put_be64(b.data + BATCH_OFF_FIRST_TS, (uint64_t)INT64_MAX - 5);
	batch_update_crc(b.data, b.len);
	CU_ASSERT_EQUAL_FATAL(batch_iter_init(&it, b.data, b.len, NULL, 1 << 20, true), 0);
	CU_ASSERT_EQUAL(batch_iter_next(&it, &r), 1);
	CU_ASSERT_EQUAL(r.timestamp, INT64_MAX - 5);
	CU_ASSERT_EQUAL(batch_iter_next(&it, &r), -ERR_CORRUPT);
	batch_iter_release(&it);

	put_be64(b.data + BATCH_OFF_FIRST_TS, 1000);
	batch_set_base_offset(b.data, INT64_MAX);
	batch_update_crc(b.data, b.len);
	CU_ASSERT_EQUAL_FATAL(batch_iter_init(&it, b.data, b.len, NULL, 1 << 20, true), 0);
	CU_ASSERT_EQUAL(batch_iter_next(&it, &r), 1);
	CU_ASSERT_EQUAL(batch_iter_next(&it, &r), -ERR_CORRUPT);
	batch_iter_release(&it);
	batch_builder_release(&bb);
	buf_release(&b);
}

/* batch_iter_reuse decodes batch after batch (any codec, then none, then
 * compressed again) with one decompression buffer. */
static void test_iter_reuse_keeps_buffer(void)
{
	struct codec_ctx *cc = codec_ctx_new();
	struct batch_iter it;
	struct buf b[3];
	const int codecs[3] = {CODEC_ZSTD, CODEC_NONE, CODEC_LZ4};
	uint8_t *kept = NULL;

	for (int i = 0; i < 3; i++) {
		buf_init(&b[i], 0);
		build_golden(&b[i], codecs[i], -1, -1, -1);
	}
	CU_ASSERT_EQUAL_FATAL(batch_iter_init(&it, b[0].data, b[0].len, cc, 1 << 20, true), 0);
	for (int round = 0; round < 4; round++) {
		int i = round % 3;
		struct record r;
		int n = 0;

		if (round > 0)
			CU_ASSERT_EQUAL_FATAL(
				batch_iter_reuse(&it, b[i].data, b[i].len, cc, 1 << 20, true), 0);
		if (round == 0)
			kept = it.scratch.data;
		CU_ASSERT_PTR_EQUAL(it.scratch.data, kept);
		while (batch_iter_next(&it, &r) == 1) {
			CU_ASSERT_EQUAL(r.timestamp, golden[n].ts);
			n++;
		}
		CU_ASSERT_EQUAL(n, 4);
	}
	/* a bound too small for the next batch is still enforced */
	CU_ASSERT_EQUAL(batch_iter_reuse(&it, b[0].data, b[0].len, cc, 16, true), -ERR_TOO_LARGE);
	batch_iter_release(&it);
	for (int i = 0; i < 3; i++)
		buf_release(&b[i]);
	codec_ctx_free(cc);
}

/* Issue 16: batch_verify decodes what batch_validate cannot, and takes the
 * max timestamp from the records. */
static void test_verify_records(void)
{
	struct codec_ctx *cc = codec_ctx_new();
	struct batch_builder bb;
	struct batch_params bp;
	struct batch_info bi;
	struct buf out, scratch;
	int64_t max;
	static const int64_t ts[] = {-1, 1700000000500, -1, 1700000000100};

	buf_init(&out, 0);
	buf_init(&scratch, 1 << 20);
	batch_params_init(&bp);
	for (int codec = CODEC_NONE; codec <= CODEC_ZSTD; codec++) {
		batch_builder_init(&bb, 1 << 20);
		for (int i = 0; i < 4; i++)
			CU_ASSERT_EQUAL(batch_builder_add(&bb, ts[i], "k", 1, "v", 1, NULL, 0), 0);
		bp.codec = codec;
		buf_reset(&out);
		CU_ASSERT_EQUAL_FATAL(batch_builder_finish(&bb, cc, &bp, &out), 0);
		batch_builder_release(&bb);
		/* a header that lies about the max (librdkafka: 0) */
		put_be64(out.data + BATCH_OFF_MAX_TS, 0);
		batch_update_crc(out.data, out.len);
		CU_ASSERT_EQUAL(batch_verify(out.data, out.len, cc, &scratch, false, &bi, &max), 0);
		CU_ASSERT_EQUAL(bi.max_ts, 0);
		CU_ASSERT_EQUAL(max, 1700000000500);
		/* every record without a time: -1 */
		batch_builder_init(&bb, 1 << 20);
		CU_ASSERT_EQUAL(batch_builder_add(&bb, -1, "k", 1, "v", 1, NULL, 0), 0);
		CU_ASSERT_EQUAL(batch_builder_add(&bb, -1, "k", 1, "v", 1, NULL, 0), 0);
		buf_reset(&out);
		CU_ASSERT_EQUAL_FATAL(batch_builder_finish(&bb, cc, &bp, &out), 0);
		batch_builder_release(&bb);
		CU_ASSERT_EQUAL(batch_verify(out.data, out.len, cc, &scratch, false, &bi, &max), 0);
		CU_ASSERT_EQUAL(max, -1);
		batch_set_max_ts(out.data, out.len, 42);
		CU_ASSERT_EQUAL(batch_validate(out.data, out.len, &bi), 0);
		CU_ASSERT_EQUAL(bi.max_ts, 42);
		if (codec == CODEC_NONE)
			continue;
		/* the same bytes flagged with every other codec: undecodable */
		for (int other = CODEC_GZIP; other <= CODEC_ZSTD; other++) {
			if (other == codec)
				continue;
			out.data[BATCH_OFF_ATTRIBUTES + 1] = (uint8_t)other;
			batch_update_crc(out.data, out.len);
			CU_ASSERT_EQUAL(batch_validate(out.data, out.len, &bi), 0);
			CU_ASSERT_EQUAL(
				batch_verify(out.data, out.len, cc, &scratch, false, &bi, &max),
				-ERR_CORRUPT);
		}
	}
	/* decompression bounded by scratch->max */
	{
		struct buf tiny;
		char big[4096];

		memset(big, 'a', sizeof(big));
		batch_builder_init(&bb, 1 << 20);
		CU_ASSERT_EQUAL(batch_builder_add(&bb, 1, "k", 1, big, sizeof(big), NULL, 0), 0);
		bp.codec = CODEC_ZSTD;
		buf_reset(&out);
		CU_ASSERT_EQUAL_FATAL(batch_builder_finish(&bb, cc, &bp, &out), 0);
		batch_builder_release(&bb);
		buf_init(&tiny, 1024);
		CU_ASSERT_EQUAL(batch_verify(out.data, out.len, cc, &tiny, false, &bi, &max),
				-ERR_TOO_LARGE);
		/* head only: nothing wholly inside the bound, the stream starts right */
		CU_ASSERT_EQUAL(batch_verify(out.data, out.len, cc, &tiny, true, &bi, &max), 1);
		buf_release(&tiny);
	}
	buf_release(&out);
	buf_release(&scratch);
	codec_ctx_free(cc);
}

/* head_only decodes a bounded prefix: a lying codec is still caught, a
 * stream garbled past the prefix is only caught by the whole check. */
static void test_verify_head_only(void)
{
	struct codec_ctx *cc = codec_ctx_new();
	struct batch_builder bb;
	struct batch_params bp;
	struct batch_info bi;
	struct buf plain, recs, z, head, full;
	int64_t max;
	char val[200];

	buf_init(&plain, 0);
	buf_init(&recs, 0);
	buf_init(&z, 0);
	buf_init(&head, 64 * 1024);
	buf_init(&full, 64u << 20);
	memset(val, 'v', sizeof(val));
	batch_builder_init(&bb, 64u << 20);
	for (int i = 0; i < 2000; i++) /* ~430 KiB of records */
		CU_ASSERT_EQUAL(batch_builder_add(&bb, 1700000000000 + i, "k", 1, val,
						  (int32_t)sizeof(val), NULL, 0),
				0);
	batch_params_init(&bp);
	CU_ASSERT_EQUAL_FATAL(batch_builder_finish(&bb, cc, &bp, &plain), 0);
	batch_builder_release(&bb);
	/* the same records zstd-compressed, then junk after them in the stream */
	for (int junk = 0; junk < 2; junk++) {
		buf_reset(&recs);
		buf_reset(&z);
		CU_ASSERT_EQUAL(buf_append(&recs, plain.data + BATCH_HEADER_SIZE,
					   plain.len - BATCH_HEADER_SIZE),
				0);
		if (junk)
			CU_ASSERT_EQUAL(buf_append(&recs, "\x7f\x7f\x7f junk", 8), 0);
		CU_ASSERT_EQUAL(buf_append(&z, plain.data, BATCH_HEADER_SIZE), 0);
		CU_ASSERT_EQUAL(codec_compress(cc, CODEC_ZSTD, 0, recs.data, recs.len, &z), 0);
		put_be16(z.data + BATCH_OFF_ATTRIBUTES, CODEC_ZSTD);
		put_be32(z.data + BATCH_OFF_LENGTH, (uint32_t)(z.len - BATCH_LOG_OVERHEAD));
		batch_update_crc(z.data, z.len);
		CU_ASSERT_EQUAL(batch_verify(z.data, z.len, cc, &head, true, &bi, &max), 1);
		CU_ASSERT_EQUAL(max, bi.max_ts);
		CU_ASSERT_EQUAL(batch_verify(z.data, z.len, cc, &full, false, &bi, &max),
				junk ? -ERR_CORRUPT : 0);
		if (!junk)
			CU_ASSERT_EQUAL(max, 1700000000000 + 1999);
		CU_ASSERT(head.cap <= 64 * 1024);
	}
	/* flagged gzip: caught by the head check too */
	put_be16(z.data + BATCH_OFF_ATTRIBUTES, CODEC_GZIP);
	batch_update_crc(z.data, z.len);
	CU_ASSERT_EQUAL(batch_verify(z.data, z.len, cc, &head, true, &bi, &max), -ERR_CORRUPT);
	buf_release(&plain);
	buf_release(&recs);
	buf_release(&z);
	buf_release(&head);
	buf_release(&full);
	codec_ctx_free(cc);
}

int main(void)
{
	static const struct unit_test tests[] = {
		UNIT_TEST(test_byte_exact_with_kafka_python),
		UNIT_TEST(test_decode_kafka_python_codecs),
		UNIT_TEST(test_roundtrip_codecs_and_offsets),
		UNIT_TEST(test_every_corruption_detected),
		UNIT_TEST(test_structure_checks),
		UNIT_TEST(test_builder_limits),
		UNIT_TEST(test_add_encoded_same_bytes),
		UNIT_TEST(test_iter_rejects_overflowing_fields),
		UNIT_TEST(test_iter_reuse_keeps_buffer),
		UNIT_TEST(test_verify_records),
		UNIT_TEST(test_verify_head_only),
		UNIT_END,
	};

	golden_init();
	return unit_run("batch", tests);
}
