/* SPDX-License-Identifier: Apache-2.0 */
/*
 * RecordBatch v2 codec: header parsing, validation without decompression,
 * record iteration, and building.  Record sizes are computed arithmetically
 * before writing so each record's length prefix is written once, in place.
 */
#include <string.h>

#include "lib/batch.h"
#include "lib/crc32c.h"
#include "lib/err.h"
#include "lib/varint.h"

/* The RecordBatch v2 header, field by field (docs/FORMATS.md, Kafka's spec). */
_Static_assert(BATCH_OFF_LENGTH == BATCH_OFF_BASE_OFFSET + 8, "baseOffset i64");
_Static_assert(BATCH_OFF_LEADER_EPOCH == BATCH_OFF_LENGTH + 4, "batchLength i32");
_Static_assert(BATCH_OFF_MAGIC == BATCH_OFF_LEADER_EPOCH + 4, "partitionLeaderEpoch i32");
_Static_assert(BATCH_OFF_CRC == BATCH_OFF_MAGIC + 1, "magic i8");
_Static_assert(BATCH_OFF_ATTRIBUTES == BATCH_OFF_CRC + 4, "crc u32");
_Static_assert(BATCH_OFF_LAST_OFFSET_DELTA == BATCH_OFF_ATTRIBUTES + 2, "attributes i16");
_Static_assert(BATCH_OFF_FIRST_TS == BATCH_OFF_LAST_OFFSET_DELTA + 4, "lastOffsetDelta i32");
_Static_assert(BATCH_OFF_MAX_TS == BATCH_OFF_FIRST_TS + 8, "baseTimestamp i64");
_Static_assert(BATCH_OFF_PRODUCER_ID == BATCH_OFF_MAX_TS + 8, "maxTimestamp i64");
_Static_assert(BATCH_OFF_PRODUCER_EPOCH == BATCH_OFF_PRODUCER_ID + 8, "producerId i64");
_Static_assert(BATCH_OFF_BASE_SEQUENCE == BATCH_OFF_PRODUCER_EPOCH + 2, "producerEpoch i16");
_Static_assert(BATCH_OFF_COUNT == BATCH_OFF_BASE_SEQUENCE + 4, "baseSequence i32");
_Static_assert(BATCH_HEADER_SIZE == BATCH_OFF_COUNT + 4, "recordCount i32 ends the header");
_Static_assert(BATCH_LOG_OVERHEAD == BATCH_OFF_LEADER_EPOCH, "baseOffset + batchLength");

int batch_header_parse(const void *data, size_t n, struct batch_info *bi)
{
	const uint8_t *p = data;
	int32_t len;

	if (n < BATCH_OFF_MAGIC + 1)
		return -ERR_TRUNCATED;
	bi->base_offset = (int64_t)get_be64(p + BATCH_OFF_BASE_OFFSET);
	len = (int32_t)get_be32(p + BATCH_OFF_LENGTH);
	bi->magic = (int8_t)p[BATCH_OFF_MAGIC];
	if (bi->magic != 2)
		return bi->magic >= 0 && bi->magic < 2 ? -ERR_UNSUPPORTED : -ERR_CORRUPT;
	if (len < BATCH_HEADER_SIZE - BATCH_LOG_OVERHEAD ||
	    (uint32_t)len > BATCH_MAX_SIZE - BATCH_LOG_OVERHEAD)
		return -ERR_CORRUPT;
	if (n < BATCH_HEADER_SIZE)
		return -ERR_TRUNCATED;
	bi->size = (uint32_t)len + BATCH_LOG_OVERHEAD;
	bi->leader_epoch = (int32_t)get_be32(p + BATCH_OFF_LEADER_EPOCH);
	bi->crc = get_be32(p + BATCH_OFF_CRC);
	bi->attributes = (int16_t)get_be16(p + BATCH_OFF_ATTRIBUTES);
	bi->last_offset_delta = (int32_t)get_be32(p + BATCH_OFF_LAST_OFFSET_DELTA);
	bi->first_ts = (int64_t)get_be64(p + BATCH_OFF_FIRST_TS);
	bi->max_ts = (int64_t)get_be64(p + BATCH_OFF_MAX_TS);
	bi->producer_id = (int64_t)get_be64(p + BATCH_OFF_PRODUCER_ID);
	bi->producer_epoch = (int16_t)get_be16(p + BATCH_OFF_PRODUCER_EPOCH);
	bi->base_sequence = (int32_t)get_be32(p + BATCH_OFF_BASE_SEQUENCE);
	bi->count = (int32_t)get_be32(p + BATCH_OFF_COUNT);
	return 0;
}

int batch_next(const void *p, size_t n, struct batch_info *bi)
{
	int rc = batch_header_parse(p, n, bi);

	if (rc < 0)
		return rc;
	if (bi->size > n)
		return -ERR_TRUNCATED;
	return 0;
}

void batch_set_base_offset(void *p, int64_t base_offset)
{
	put_be64((uint8_t *)p + BATCH_OFF_BASE_OFFSET, (uint64_t)base_offset);
}

void batch_update_crc(void *data, size_t n)
{
	uint8_t *p = data;

	put_be32(p + BATCH_OFF_CRC, crc32c(0, p + BATCH_OFF_ATTRIBUTES, n - BATCH_OFF_ATTRIBUTES));
}

/* Parse one record from c.  offset_base/ts_base come from the batch header. */
static int record_parse(struct cursor *c, const struct batch_info *bi, struct record *r,
			int32_t *offset_delta)
{
	int32_t len = cursor_varint(c);
	struct cursor rc;
	const uint8_t *body;
	int64_t ts_delta;

	if (!cursor_ok(c) || len < 0)
		return -ERR_CORRUPT;
	body = cursor_take(c, (size_t)len);
	if (!body)
		return -ERR_CORRUPT;
	cursor_init(&rc, body, (size_t)len);
	(void)cursor_u8(&rc); /* record attributes: unused in v2 */
	ts_delta = cursor_varlong(&rc);
	*offset_delta = cursor_varint(&rc);
	r->key_len = cursor_varint(&rc);
	if (r->key_len < -1)
		return -ERR_CORRUPT;
	r->key = r->key_len >= 0 ? cursor_take(&rc, (size_t)r->key_len) : NULL;
	r->value_len = cursor_varint(&rc);
	if (r->value_len < -1)
		return -ERR_CORRUPT;
	r->value = r->value_len >= 0 ? cursor_take(&rc, (size_t)r->value_len) : NULL;
	r->header_count = cursor_varint(&rc);
	if (!cursor_ok(&rc) || r->header_count < 0)
		return -ERR_CORRUPT;
	r->headers = rc.p;
	r->headers_len = cursor_left(&rc);
	/* Walk the headers once so iteration later cannot fail half-way. */
	for (int32_t i = 0; i < r->header_count; i++) {
		int32_t kl = cursor_varint(&rc), vl;

		if (kl < 0 || !cursor_take(&rc, (size_t)kl))
			return -ERR_CORRUPT;
		vl = cursor_varint(&rc);
		if (vl < -1 || (vl > 0 && !cursor_take(&rc, (size_t)vl)))
			return -ERR_CORRUPT;
	}
	if (!cursor_ok(&rc) || cursor_left(&rc) != 0)
		return -ERR_CORRUPT;
	/* header fields and deltas are producer-controlled: an overflow is corruption */
	if (__builtin_add_overflow(bi->base_offset, (int64_t)*offset_delta, &r->offset) ||
	    __builtin_add_overflow(bi->first_ts, ts_delta, &r->timestamp))
		return -ERR_CORRUPT;
	if (bi->attributes & BATCH_ATTR_LOG_APPEND_TIME)
		r->timestamp = bi->max_ts;
	return 0;
}

static int check_header(const void *p, size_t n, struct batch_info *bi, bool check_crc)
{
	int rc = batch_header_parse(p, n, bi);

	if (rc < 0)
		return rc;
	if (bi->size != n)
		return bi->size > n ? -ERR_TRUNCATED : -ERR_CORRUPT;
	if (check_crc && crc32c(0, (const uint8_t *)p + BATCH_OFF_ATTRIBUTES,
				n - BATCH_OFF_ATTRIBUTES) != bi->crc)
		return -ERR_CORRUPT;
	if (batch_codec(bi) > CODEC_ZSTD)
		return -ERR_UNSUPPORTED;
	return 0;
}

/* Every record of the records section p[0..n): offset deltas 0..count-1,
 * lengths, no trailing bytes; the largest timestamp in *max_ts (-1 when no
 * record has one: negative is "unknown").  With head, p holds only the
 * first bytes of the section: the records wholly inside are checked and 1
 * returned at the first one that runs past the end. */
static int check_records(const uint8_t *p, size_t n, const struct batch_info *bi, bool head,
			 int64_t *max_ts)
{
	struct cursor c;

	*max_ts = -1;
	cursor_init(&c, p, n);
	for (int32_t i = 0; i < bi->count; i++) {
		struct record r;
		int32_t od;
		int rc;

		if (head) {
			struct cursor peek = c;
			int32_t len = cursor_varint(&peek);

			if (!cursor_ok(&peek) || (len >= 0 && (size_t)len > cursor_left(&peek)))
				return 1; /* cut by the bound, not by the producer */
		}
		rc = record_parse(&c, bi, &r, &od);

		if (rc < 0)
			return rc;
		if (od != i)
			return -ERR_CORRUPT;
		if (r.timestamp > *max_ts)
			*max_ts = r.timestamp;
	}
	return cursor_left(&c) == 0 ? 0 : -ERR_CORRUPT;
}

/* batch_validate's checks; *records_max_ts as check_records for an
 * uncompressed batch, untouched for a compressed one. */
static int validate(const void *p, size_t n, struct batch_info *bi, int64_t *records_max_ts)
{
	int rc = check_header(p, n, bi, true);

	if (rc < 0)
		return rc;
	if (bi->count <= 0 || bi->last_offset_delta != bi->count - 1)
		return -ERR_CORRUPT;
	if (bi->producer_id >= 0 && (bi->producer_epoch < 0 || bi->base_sequence < 0))
		return -ERR_CORRUPT;
	if (n == BATCH_HEADER_SIZE)
		return -ERR_CORRUPT; /* records claimed, none present */
	if (batch_codec(bi) != CODEC_NONE)
		return 0;
	return check_records((const uint8_t *)p + BATCH_HEADER_SIZE, n - BATCH_HEADER_SIZE, bi,
			     false, records_max_ts);
}

int batch_validate(const void *p, size_t n, struct batch_info *bi)
{
	int64_t max_ts;

	return validate(p, n, bi, &max_ts);
}

int batch_validate_head(const void *p, size_t n, struct batch_info *bi)
{
	int rc = check_header(p, n, bi, true);

	if (rc < 0)
		return rc;
	if (bi->count <= 0 || bi->last_offset_delta != bi->count - 1 || n == BATCH_HEADER_SIZE)
		return -ERR_CORRUPT;
	return 0;
}

int batch_verify(const void *p, size_t n, struct codec_ctx *cc, struct buf *scratch, bool head_only,
		 struct batch_info *bi, int64_t *records_max_ts)
{
	int rc = validate(p, n, bi, records_max_ts);

	if (rc < 0 || batch_codec(bi) == CODEC_NONE)
		return rc;
	if (!cc)
		return -EINVAL;
	buf_reset(scratch);
	rc = codec_decompress(cc, batch_codec(bi), (const uint8_t *)p + BATCH_HEADER_SIZE,
			      n - BATCH_HEADER_SIZE, scratch);
	if (rc == -ERR_TOO_LARGE && head_only) {
		rc = check_records(scratch->data, scratch->len, bi, true, records_max_ts);
		if (rc == 0)
			return -ERR_CORRUPT; /* every record decoded, yet more bytes follow */
		*records_max_ts = bi->max_ts;
		return rc;
	}
	if (rc < 0)
		return rc == -ERR_TOO_LARGE || rc == -ENOMEM ? rc : -ERR_CORRUPT;
	return check_records(scratch->data, scratch->len, bi, false, records_max_ts);
}

void batch_set_max_ts(void *p, size_t n, int64_t ts)
{
	put_be64((uint8_t *)p + BATCH_OFF_MAX_TS, (uint64_t)ts);
	batch_update_crc(p, n);
}

void record_header_iter_init(struct record_header_iter *it, const struct record *r)
{
	cursor_init(&it->c, r->headers, r->headers_len);
	it->left = r->header_count;
}

int record_header_iter_next(struct record_header_iter *it, struct record_header *h)
{
	if (it->left <= 0)
		return 0;
	it->left--;
	h->key_len = cursor_varint(&it->c);
	if (h->key_len < 0)
		return -ERR_CORRUPT;
	h->key = cursor_take(&it->c, (size_t)h->key_len);
	h->value_len = cursor_varint(&it->c);
	if (h->value_len < -1)
		return -ERR_CORRUPT;
	h->value = h->value_len >= 0 ? cursor_take(&it->c, (size_t)h->value_len) : NULL;
	return cursor_ok(&it->c) ? 1 : -ERR_CORRUPT;
}

/* The part of batch_iter_init after the scratch buffer is set up. */
static int iter_start(struct batch_iter *it, const void *p, size_t n, struct codec_ctx *cc,
		      bool check_crc)
{
	const uint8_t *recs = (const uint8_t *)p + BATCH_HEADER_SIZE;
	int rc;

	rc = check_header(p, n, &it->info, check_crc);
	if (rc < 0)
		return rc;
	if (it->info.count < 0)
		return -ERR_CORRUPT;
	if (batch_codec(&it->info) == CODEC_NONE) {
		cursor_init(&it->c, recs, n - BATCH_HEADER_SIZE);
		return 0;
	}
	if (!cc)
		return -EINVAL;
	rc = codec_decompress(cc, batch_codec(&it->info), recs, n - BATCH_HEADER_SIZE,
			      &it->scratch);
	if (rc < 0)
		return rc;
	cursor_init(&it->c, it->scratch.data, it->scratch.len);
	return 0;
}

int batch_iter_init(struct batch_iter *it, const void *p, size_t n, struct codec_ctx *cc,
		    size_t max_decompressed, bool check_crc)
{
	memset(it, 0, sizeof(*it));
	buf_init(&it->scratch, max_decompressed);
	return iter_start(it, p, n, cc, check_crc);
}

int batch_iter_reuse(struct batch_iter *it, const void *p, size_t n, struct codec_ctx *cc,
		     size_t max_decompressed, bool check_crc)
{
	struct buf scratch = it->scratch;

	memset(it, 0, sizeof(*it));
	if (max_decompressed && scratch.cap > max_decompressed) {
		/* codecs fill up to the capacity: a smaller bound needs a smaller buffer */
		buf_release(&scratch);
		buf_init(&scratch, max_decompressed);
	}
	it->scratch = scratch;
	buf_reset(&it->scratch);
	it->scratch.max = max_decompressed ? max_decompressed : SIZE_MAX / 2; /* as buf_init */
	return iter_start(it, p, n, cc, check_crc);
}

int batch_iter_next(struct batch_iter *it, struct record *r)
{
	int32_t od;
	int rc;

	if (it->index >= it->info.count)
		return 0;
	rc = record_parse(&it->c, &it->info, r, &od);
	if (rc < 0)
		return rc;
	it->index++;
	return 1;
}

void batch_iter_release(struct batch_iter *it)
{
	buf_release(&it->scratch);
}

/* ---------------------------------------------------------------- building */

void batch_params_init(struct batch_params *p)
{
	memset(p, 0, sizeof(*p));
	p->codec = CODEC_NONE;
	p->leader_epoch = -1;
	p->producer_id = -1;
	p->producer_epoch = -1;
	p->base_sequence = -1;
}

void batch_builder_init(struct batch_builder *b, size_t max_bytes)
{
	buf_init(&b->records, max_bytes);
	b->count = 0;
	b->first_ts = 0;
	b->max_ts = 0;
}

void batch_builder_release(struct batch_builder *b)
{
	buf_release(&b->records);
}

void batch_builder_reset(struct batch_builder *b)
{
	buf_reset(&b->records);
	b->count = 0;
	b->first_ts = 0;
	b->max_ts = 0;
}

static size_t body_size(int64_t ts_delta, int32_t offset_delta, int32_t key_len, int32_t value_len,
			const struct record_header *hdrs, size_t nhdrs)
{
	size_t s = 1 + varint_len_i64(ts_delta) + varint_len_i64(offset_delta) +
		   varint_len_i64(key_len) + (key_len > 0 ? (size_t)key_len : 0) +
		   varint_len_i64(value_len) + (value_len > 0 ? (size_t)value_len : 0) +
		   varint_len_i64((int64_t)nhdrs);

	for (size_t i = 0; i < nhdrs; i++)
		s += varint_len_i64(hdrs[i].key_len) + (size_t)hdrs[i].key_len +
		     varint_len_i64(hdrs[i].value_len) +
		     (hdrs[i].value_len > 0 ? (size_t)hdrs[i].value_len : 0);
	return s;
}

size_t batch_record_size(int64_t ts_delta, int32_t offset_delta, int32_t key_len, int32_t value_len,
			 const struct record_header *hdrs, size_t nhdrs)
{
	size_t s = body_size(ts_delta, offset_delta, key_len, value_len, hdrs, nhdrs);

	return s + varint_len_i64((int64_t)s);
}

static uint8_t *put_bytes(uint8_t *o, const void *p, int32_t len)
{
	o += varint_put_i64(o, len);
	if (len > 0) {
		memcpy(o, p, (size_t)len);
		o += len;
	}
	return o;
}

int batch_builder_add(struct batch_builder *b, int64_t ts, const void *key, int32_t key_len,
		      const void *value, int32_t value_len, const struct record_header *hdrs,
		      size_t nhdrs)
{
	int64_t first = b->count ? b->first_ts : ts;
	size_t body, total;
	uint8_t *o;
	int rc;

	if (key_len < -1 || value_len < -1 || nhdrs > INT32_MAX || b->count == INT32_MAX)
		return -EINVAL;
	for (size_t i = 0; i < nhdrs; i++)
		if (hdrs[i].key_len < 0 || hdrs[i].value_len < -1)
			return -EINVAL;
	body = body_size(ts - first, b->count, key_len, value_len, hdrs, nhdrs);
	if (body > INT32_MAX)
		return -ERR_TOO_LARGE;
	total = body + varint_len_i64((int64_t)body);
	rc = buf_reserve(&b->records, total);
	if (rc < 0)
		return rc;
	o = b->records.data + b->records.len;
	o += varint_put_i64(o, (int64_t)body);
	*o++ = 0; /* attributes */
	o += varint_put_i64(o, ts - first);
	o += varint_put_i64(o, b->count);
	o = put_bytes(o, key, key_len);
	o = put_bytes(o, value, value_len);
	o += varint_put_i64(o, (int64_t)nhdrs);
	for (size_t i = 0; i < nhdrs; i++) {
		o = put_bytes(o, hdrs[i].key, hdrs[i].key_len);
		o = put_bytes(o, hdrs[i].value, hdrs[i].value_len);
	}
	b->records.len += total;
	if (b->count == 0) {
		b->first_ts = ts;
		b->max_ts = ts;
	} else if (ts > b->max_ts) {
		b->max_ts = ts;
	}
	b->count++;
	return 0;
}

int batch_encode_key(struct buf *out, const void *key, int32_t key_len)
{
	uint8_t *o;
	int rc;

	if (key_len < -1)
		return -EINVAL;
	rc = buf_reserve(out, VARINT_MAX_BYTES + (key_len > 0 ? (size_t)key_len : 0));
	if (rc < 0)
		return rc;
	o = put_bytes(out->data + out->len, key, key_len);
	out->len = (size_t)(o - out->data);
	return 0;
}

int batch_encode_headers(struct buf *out, const struct record_header *hdrs, size_t nhdrs)
{
	size_t need = VARINT_MAX_BYTES;
	uint8_t *o;
	int rc;

	if (nhdrs > INT32_MAX)
		return -EINVAL;
	for (size_t i = 0; i < nhdrs; i++) {
		if (hdrs[i].key_len < 0 || hdrs[i].value_len < -1)
			return -EINVAL;
		need += 2 * VARINT_MAX_BYTES + (size_t)hdrs[i].key_len +
			(hdrs[i].value_len > 0 ? (size_t)hdrs[i].value_len : 0);
	}
	rc = buf_reserve(out, need);
	if (rc < 0)
		return rc;
	o = out->data + out->len;
	o += varint_put_i64(o, (int64_t)nhdrs);
	for (size_t i = 0; i < nhdrs; i++) {
		o = put_bytes(o, hdrs[i].key, hdrs[i].key_len);
		o = put_bytes(o, hdrs[i].value, hdrs[i].value_len);
	}
	out->len = (size_t)(o - out->data);
	return 0;
}

int batch_builder_add_encoded(struct batch_builder *b, int64_t ts, const void *key_enc,
			      size_t key_enc_len, const void *value, int32_t value_len,
			      const void *hdrs_enc, size_t hdrs_enc_len)
{
	int64_t first = b->count ? b->first_ts : ts;
	size_t body, total;
	uint8_t *o;
	int rc;

	if (value_len < -1 || b->count == INT32_MAX || key_enc_len == 0 || hdrs_enc_len == 0)
		return -EINVAL;
	body = 1 + varint_len_i64(ts - first) + varint_len_i64(b->count) + key_enc_len +
	       varint_len_i64(value_len) + (value_len > 0 ? (size_t)value_len : 0) + hdrs_enc_len;
	if (body > INT32_MAX)
		return -ERR_TOO_LARGE;
	total = body + varint_len_i64((int64_t)body);
	rc = buf_reserve(&b->records, total);
	if (rc < 0)
		return rc;
	o = b->records.data + b->records.len;
	o += varint_put_i64(o, (int64_t)body);
	*o++ = 0; /* attributes */
	o += varint_put_i64(o, ts - first);
	o += varint_put_i64(o, b->count);
	memcpy(o, key_enc, key_enc_len);
	o += key_enc_len;
	o = put_bytes(o, value, value_len);
	memcpy(o, hdrs_enc, hdrs_enc_len);
	b->records.len += total;
	if (b->count == 0) {
		b->first_ts = ts;
		b->max_ts = ts;
	} else if (ts > b->max_ts) {
		b->max_ts = ts;
	}
	b->count++;
	return 0;
}

int batch_builder_finish(const struct batch_builder *b, struct codec_ctx *cc,
			 const struct batch_params *p, struct buf *out)
{
	size_t start = out->len, size;
	uint8_t *h;
	int rc;

	if (b->count == 0)
		return -EINVAL;
	if (p->codec != CODEC_NONE && !cc)
		return -EINVAL;
	rc = buf_append_zero(out, BATCH_HEADER_SIZE, NULL);
	if (rc < 0)
		return rc;
	rc = codec_compress(cc, p->codec, p->level, b->records.data, b->records.len, out);
	if (rc < 0)
		goto fail;
	size = out->len - start;
	if (size > BATCH_MAX_SIZE) {
		rc = -ERR_TOO_LARGE;
		goto fail;
	}
	h = out->data + start;
	put_be64(h + BATCH_OFF_BASE_OFFSET, (uint64_t)p->base_offset);
	put_be32(h + BATCH_OFF_LENGTH, (uint32_t)(size - BATCH_LOG_OVERHEAD));
	put_be32(h + BATCH_OFF_LEADER_EPOCH, (uint32_t)p->leader_epoch);
	h[BATCH_OFF_MAGIC] = 2;
	put_be16(h + BATCH_OFF_ATTRIBUTES,
		 (uint16_t)(p->codec | (p->log_append_time ? BATCH_ATTR_LOG_APPEND_TIME : 0)));
	put_be32(h + BATCH_OFF_LAST_OFFSET_DELTA, (uint32_t)(b->count - 1));
	put_be64(h + BATCH_OFF_FIRST_TS, (uint64_t)b->first_ts);
	put_be64(h + BATCH_OFF_MAX_TS, (uint64_t)b->max_ts);
	put_be64(h + BATCH_OFF_PRODUCER_ID, (uint64_t)p->producer_id);
	put_be16(h + BATCH_OFF_PRODUCER_EPOCH, (uint16_t)p->producer_epoch);
	put_be32(h + BATCH_OFF_BASE_SEQUENCE, (uint32_t)p->base_sequence);
	put_be32(h + BATCH_OFF_COUNT, (uint32_t)b->count);
	batch_update_crc(h, size);
	return 0;
fail:
	out->len = start;
	return rc;
}
