/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The spool's on-disk records, encoded and decoded (docs/FORMATS.md, agent
 * section, has the byte layout):
 *
 *   segment header (32 bytes): "SLSPOOL1" | u32 version | u32 header size |
 *                              u64 first entry id | u32 flags | u32 crc32c
 *   entry frame:   u32 magic "SPE1" | u32 body length | u32 crc32c(body) | body
 *   entry body:    u8 type | u8 flags | u16 0 | u64 id | i64 time ms | payload
 *
 * Payload by type:
 *   BATCH      topic, partition, positions, one RecordBatch v2
 *   POSITIONS  positions only (registrations, skipped bytes, finished sources)
 *   SNAPSHOT   routes, next sequence per (topic, partition), every position:
 *              the first entry of every segment, so older segments can go
 *   ROUTES     the inputs this output takes (written at start-up when changed)
 *
 * A position says "source `ident` of input `input` is spooled up to
 * `ordinal`"; `meta` is what the input needs to find the source again (for a
 * file: device, inode, fingerprint, path).  Decoders trust nothing: every
 * length is checked against the bytes present and against the bounds below.
 * Pure functions; thread-safe.
 */
#ifndef SLUICE_AGENT_SPOOL_ENTRY_H
#define SLUICE_AGENT_SPOOL_ENTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"

#define SPOOL_SEG_MAGIC "SLSPOOL1"
#define SPOOL_SEG_VERSION 1
#define SPOOL_SEG_HEADER_SIZE 32
#define SPOOL_FRAME_MAGIC 0x53504531u /* "SPE1" */
#define SPOOL_FRAME_SIZE 12
#define SPOOL_BODY_HEADER_SIZE 20

/* Bounds on decoded fields (a longer one is corruption, not an allocation). */
#define SPOOL_MAX_TOPIC 249
#define SPOOL_MAX_INPUT 255
#define SPOOL_MAX_IDENT 4096
#define SPOOL_MAX_META 65536
#define SPOOL_MAX_ENTRY (300u * 1024 * 1024)

enum spool_entry_type {
	SPOOL_BATCH = 1,
	SPOOL_POSITIONS = 2,
	SPOOL_SNAPSHOT = 3,
	SPOOL_ROUTES = 4,
};

/* Position flags. */
#define SPOOL_POS_FINISHED 0x01 /* the input read the source to its end and let it go */
#define SPOOL_POS_FORGET 0x02   /* the source is gone: drop it from the table */
#define SPOOL_POS_FLAGS_KNOWN (SPOOL_POS_FINISHED | SPOOL_POS_FORGET)

struct spool_pos {
	uint8_t flags;
	const char *input; /* not NUL-terminated when decoded: use the lengths */
	size_t input_len;
	const char *ident;
	size_t ident_len;
	uint64_t ordinal;
	uint64_t origin; /* ordinal where the agent first picked the source up */
	const uint8_t *meta;
	size_t meta_len;
};

/* A decoded entry; pointers borrow the body it was decoded from. */
struct spool_entry {
	uint8_t type;
	uint64_t id;
	int64_t time_ms;
	const char *topic; /* BATCH */
	size_t topic_len;
	int32_t partition;
	uint32_t npos;      /* BATCH, POSITIONS, SNAPSHOT */
	const uint8_t *pos; /* encoded positions, npos of them */
	size_t pos_len;
	uint32_t nroutes; /* SNAPSHOT, ROUTES */
	const uint8_t *routes;
	size_t routes_len;
	uint32_t nseq; /* SNAPSHOT */
	const uint8_t *seq;
	size_t seq_len;
	const uint8_t *batch; /* BATCH: one RecordBatch v2 */
	size_t batch_len;
	size_t batch_off; /* offset of batch within the body */
};

/* ------------------------------------------------------------ encoding */

/* Append one position record.  0, -ERR_TOO_LARGE (field over its bound or
 * buffer max) or -ENOMEM. */
int spool_pos_encode(struct buf *b, const struct spool_pos *p);
/* Append one route (an input id) or one sequence record. */
int spool_route_encode(struct buf *b, const char *input, size_t len);
int spool_seq_encode(struct buf *b, const char *topic, size_t topic_len, int32_t partition,
		     int32_t next_seq);

/* Append the segment header. */
int spool_seg_header_encode(struct buf *b, uint64_t first_id);
/* 0 and *first_id, or -ERR_CORRUPT / -ERR_TRUNCATED / -ERR_UNSUPPORTED. */
int spool_seg_header_decode(const void *p, size_t n, uint64_t *first_id);

/* Append a frame header and the body's common header, leaving the frame's
 * length and CRC to spool_frame_finish(); *start receives the frame offset. */
int spool_frame_begin(struct buf *b, uint8_t type, uint64_t id, int64_t time_ms, size_t *start);
/* Type-specific payload heads (the caller appends the items after them). */
int spool_batch_head_encode(struct buf *b, const char *topic, size_t topic_len, int32_t partition,
			    uint32_t npos);
/* Patch length and CRC of the frame at start.  extra/extra_len are bytes that
 * follow b in the file but are not in b (a batch written with writev): they
 * count in the length and the CRC.  0 or -ERR_TOO_LARGE. */
int spool_frame_finish(struct buf *b, size_t start, const void *extra, size_t extra_len);

/* ------------------------------------------------------------ decoding */

/* Check a frame header: 0 with *body_len set, -ERR_CORRUPT (bad magic or
 * length) or -ERR_TRUNCATED (fewer than SPOOL_FRAME_SIZE bytes). */
int spool_frame_decode(const void *p, size_t n, uint32_t *body_len, uint32_t *crc);
/* Decode and validate a whole body (CRC already checked by the caller):
 * every position, route and sequence record is walked so later iteration
 * cannot fail, and a BATCH's RecordBatch header is checked.  0 or
 * -ERR_CORRUPT. */
int spool_entry_decode(const void *body, size_t n, struct spool_entry *e);

/* Decode the head of a BATCH body of full length n from its first got bytes
 * (got < n): everything up to and including the RecordBatch header, for
 * readers that fetch the batch bytes later.  e->batch points at the header
 * only; e->batch_len is the whole batch's.  The CRC cannot be checked here
 * (the batch's own CRC is, when it is sent).  0, -ERR_TRUNCATED (the head
 * does not reach the batch header: read the whole body) or -ERR_CORRUPT. */
int spool_entry_decode_head(const void *body, size_t got, size_t n, struct spool_entry *e);

/* Iterate encoded records; each returns 1 with the item, 0 at the end,
 * -ERR_CORRUPT. */
struct spool_iter {
	struct cursor c;
	uint32_t left;
};
void spool_iter_init(struct spool_iter *it, const uint8_t *p, size_t n, uint32_t count);
int spool_iter_pos(struct spool_iter *it, struct spool_pos *p);
int spool_iter_route(struct spool_iter *it, const char **input, size_t *len);
int spool_iter_seq(struct spool_iter *it, const char **topic, size_t *topic_len, int32_t *partition,
		   int32_t *next_seq);

#endif
