/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Kafka RecordBatch v2 (magic 2, KIP-98): the one data format of every hop.
 *
 * Layout (big-endian), 61 header bytes then the records section:
 *
 *   0 baseOffset int64       21 attributes int16       43 producerId int64
 *   8 batchLength int32      23 lastOffsetDelta int32  51 producerEpoch int16
 *  12 partitionLeaderEpoch   27 baseTimestamp int64    53 baseSequence int32
 *  16 magic int8 (= 2)       35 maxTimestamp int64     57 recordCount int32
 *  17 crc uint32 (CRC-32C of bytes 21..end)
 *
 * batchLength counts the bytes after itself, so a batch occupies
 * 12 + batchLength bytes.  The records section is compressed as a whole when
 * attributes & 7 is a codec; each record is
 *   length varint | attributes int8 | timestampDelta varlong |
 *   offsetDelta varint | keyLen varint | key | valueLen varint | value |
 *   headerCount varint | (hkeyLen varint | hkey | hvalLen varint | hval)*
 *
 * Builders, validators and iterators here never trust a length: every field
 * read from the wire is bounds-checked against the bytes actually present.
 * Nothing in this module is thread-safe per object; the functions are
 * re-entrant.
 */
#ifndef SLUICE_BATCH_H
#define SLUICE_BATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"
#include "lib/codec.h"
#include "lib/check.h"

#define BATCH_HEADER_SIZE 61
#define BATCH_LOG_OVERHEAD 12 /* baseOffset + batchLength */

#define BATCH_OFF_BASE_OFFSET 0
#define BATCH_OFF_LENGTH 8
#define BATCH_OFF_LEADER_EPOCH 12
#define BATCH_OFF_MAGIC 16
#define BATCH_OFF_CRC 17
#define BATCH_OFF_ATTRIBUTES 21
#define BATCH_OFF_LAST_OFFSET_DELTA 23
#define BATCH_OFF_FIRST_TS 27
#define BATCH_OFF_MAX_TS 35
#define BATCH_OFF_PRODUCER_ID 43
#define BATCH_OFF_PRODUCER_EPOCH 51
#define BATCH_OFF_BASE_SEQUENCE 53
#define BATCH_OFF_COUNT 57

#define BATCH_ATTR_CODEC_MASK 0x07
#define BATCH_ATTR_LOG_APPEND_TIME 0x08
#define BATCH_ATTR_TRANSACTIONAL 0x10
#define BATCH_ATTR_CONTROL 0x20

/* Hard bound on one batch, whatever the configuration says. */
#define BATCH_MAX_SIZE (256u * 1024 * 1024)

struct batch_info {
	int64_t base_offset;
	uint32_t size; /* whole batch: 12 + batchLength */
	int32_t leader_epoch;
	int8_t magic;
	uint32_t crc;
	int16_t attributes;
	int32_t last_offset_delta;
	int64_t first_ts;
	int64_t max_ts;
	int64_t producer_id;
	int16_t producer_epoch;
	int32_t base_sequence;
	int32_t count;
};

static inline int batch_codec(const struct batch_info *bi)
{
	return bi->attributes & BATCH_ATTR_CODEC_MASK;
}

static inline int64_t batch_last_offset(const struct batch_info *bi)
{
	return bi->base_offset + bi->last_offset_delta;
}

/* Parse the fixed header of the batch starting at p (n bytes available; the
 * batch may extend past n).  Checks magic and the length field's bounds, not
 * the CRC.  0, -ERR_TRUNCATED (fewer than 61 bytes), -ERR_CORRUPT. */
SLUICE_MUST_CHECK int batch_header_parse(const void *p, size_t n, struct batch_info *bi);

/* Validate exactly one batch occupying p[0..n): length field == n, magic,
 * CRC-32C, attributes, record count vs lastOffsetDelta, producer fields; for
 * uncompressed batches also every record (offset deltas 0..count-1, lengths,
 * no trailing bytes).  Never decompresses.  0, -ERR_CORRUPT, -ERR_TRUNCATED,
 * -ERR_UNSUPPORTED (unknown codec, magic < 2). */
SLUICE_MUST_CHECK int batch_validate(const void *p, size_t n, struct batch_info *bi);

/* batch_validate() without walking the records of an uncompressed batch:
 * the length, magic, CRC-32C (which covers the records) and the count.
 * For bytes this process built and checked once (a spool entry read
 * back), where the CRC is what catches the disk going wrong. */
SLUICE_MUST_CHECK int batch_validate_head(const void *p, size_t n, struct batch_info *bi);

/* batch_validate() and what needs the records themselves, as a Kafka
 * broker checks a produced batch: a compressed batch is decompressed into
 * scratch with cc (bounded by scratch->max, which must not be below
 * scratch->cap) and every record parsed as for an uncompressed one, so a
 * codec flag that lies is caught here and not by every consumer later.
 * *records_max_ts: the largest record timestamp, -1 when no record has one
 * (negative = unknown); for a LogAppendTime batch the header's.
 * With head_only, records inflating past scratch->max are not an error: the
 * records wholly within the first scratch->max bytes are checked, the rest
 * of the stream is not decoded, 1 is returned and *records_max_ts is the
 * header's (a bounded cost per batch, whatever its size).
 * 0, 1 (head_only, partly checked), -ERR_CORRUPT (also: undecodable),
 * -ERR_TRUNCATED, -ERR_UNSUPPORTED, -ERR_TOO_LARGE (past scratch->max). */
int batch_verify(const void *p, size_t n, struct codec_ctx *cc, struct buf *scratch, bool head_only,
		 struct batch_info *bi, int64_t *records_max_ts);

/* The first batch of a concatenation: header in *bi, its size in bi->size.
 * 0, -ERR_TRUNCATED (batch extends past n) or -ERR_CORRUPT. */
SLUICE_MUST_CHECK int batch_next(const void *p, size_t n, struct batch_info *bi);

/* Rewrite baseOffset (not covered by the CRC). */
void batch_set_base_offset(void *p, int64_t base_offset);
/* Recompute the CRC over bytes 21..end after editing covered fields. */
void batch_update_crc(void *p, size_t n);
/* Rewrite maxTimestamp of the whole batch p[0..n) and its CRC. */
void batch_set_max_ts(void *p, size_t n, int64_t ts);

/* ---------------------------------------------------------------- records */

struct record_header {
	const uint8_t *key;
	int32_t key_len;
	const uint8_t *value;
	int32_t value_len; /* -1 = null */
};

struct record {
	int64_t offset;
	int64_t timestamp;
	const uint8_t *key; /* NULL when key_len == -1 */
	int32_t key_len;
	const uint8_t *value;
	int32_t value_len;
	int32_t header_count;
	const uint8_t *headers; /* encoded headers, header_count of them */
	size_t headers_len;
};

/* Iterate the headers of a record (pointers borrow the batch). */
struct record_header_iter {
	struct cursor c;
	int32_t left;
};
void record_header_iter_init(struct record_header_iter *it, const struct record *r);
/* 1 and *h filled, 0 at the end, -ERR_CORRUPT. */
SLUICE_MUST_CHECK int record_header_iter_next(struct record_header_iter *it,
					      struct record_header *h);

struct batch_iter {
	struct batch_info info;
	struct cursor c;
	int32_t index;
	struct buf scratch; /* decompressed records */
};

/* Start iterating the batch p[0..n) (which must hold the whole batch).
 * Decompresses into it->scratch using cc (may be NULL for uncompressed
 * batches), bounded by max_decompressed bytes.  Checks the CRC when
 * check_crc.  Release with batch_iter_release() even on failure. */
SLUICE_MUST_CHECK int batch_iter_init(struct batch_iter *it, const void *p, size_t n,
				      struct codec_ctx *cc, size_t max_decompressed,
				      bool check_crc);
/* The same for an iterator that was initialised before and not released:
 * its decompression buffer keeps its memory, so a reader going through many
 * batches does not allocate and fault in a new one for each batch. */
SLUICE_MUST_CHECK int batch_iter_reuse(struct batch_iter *it, const void *p, size_t n,
				       struct codec_ctx *cc, size_t max_decompressed,
				       bool check_crc);
/* 1 with *r filled (pointers borrow the batch or the scratch buffer),
 * 0 at the end, -ERR_CORRUPT. */
SLUICE_MUST_CHECK int batch_iter_next(struct batch_iter *it, struct record *r);
void batch_iter_release(struct batch_iter *it);

/* ---------------------------------------------------------------- building */

struct batch_builder {
	struct buf records; /* uncompressed records section */
	int32_t count;
	int64_t first_ts;
	int64_t max_ts;
};

struct batch_params {
	int codec;
	int level; /* 0 = codec default */
	int64_t base_offset;
	int32_t leader_epoch; /* -1 when unknown */
	int64_t producer_id;  /* -1: not idempotent */
	int16_t producer_epoch;
	int32_t base_sequence;
	bool log_append_time;
};

/* Defaults: no compression, no producer id, base offset 0. */
void batch_params_init(struct batch_params *p);

/* max_bytes bounds the uncompressed records section. */
void batch_builder_init(struct batch_builder *b, size_t max_bytes);
void batch_builder_release(struct batch_builder *b);
void batch_builder_reset(struct batch_builder *b);
/* Append one record.  key_len/value_len -1 = null.  0, -ERR_TOO_LARGE
 * (the batch would pass max_bytes; nothing was appended) or -ENOMEM. */
SLUICE_MUST_CHECK int batch_builder_add(struct batch_builder *b, int64_t ts, const void *key,
					int32_t key_len, const void *value, int32_t value_len,
					const struct record_header *hdrs, size_t nhdrs);
/* A record's key and headers as they appear inside a record, for callers
 * that add many records with the same ones (a log source): varint length and
 * the key (-1 = null); varint count and each header.  Appended to out. */
SLUICE_MUST_CHECK int batch_encode_key(struct buf *out, const void *key, int32_t key_len);
SLUICE_MUST_CHECK int batch_encode_headers(struct buf *out, const struct record_header *hdrs,
					   size_t nhdrs);
/* batch_builder_add with the key and headers encoded by the above: the same
 * bytes, without sizing and encoding them again for every record. */
SLUICE_MUST_CHECK int batch_builder_add_encoded(struct batch_builder *b, int64_t ts,
						const void *key_enc, size_t key_enc_len,
						const void *value, int32_t value_len,
						const void *hdrs_enc, size_t hdrs_enc_len);
/* Bytes one record would add (to decide whether it fits). */
size_t batch_record_size(int64_t ts_delta, int32_t offset_delta, int32_t key_len, int32_t value_len,
			 const struct record_header *hdrs, size_t nhdrs);
/* Append the finished batch (header, compressed records, CRC) to out. */
SLUICE_MUST_CHECK int batch_builder_finish(const struct batch_builder *b, struct codec_ctx *cc,
					   const struct batch_params *p, struct buf *out);

#endif
