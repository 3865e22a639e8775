/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The engine's side of Kafka transactions (KIP-98): the coordinator's check
 * of transactional batches, transaction markers (control batches) written
 * through the ordinary append path, read_committed reads bounded by the last
 * stable offset, and the aborted-transactions lists.  The per-partition state
 * lives in store/engine/partition_txn.c.
 */
#include <string.h>

#include "lib/batch.h"
#include "lib/clock.h"
#include "lib/err.h"
#include "store/engine/engine_int.h"

void engine_set_txn_check(struct engine *log, engine_txn_check_fn *fn, void *arg)
{
	log->txn_check = fn;
	log->txn_check_arg = arg;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

static void put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)(v >> 32));
	put32(p + 4, (uint32_t)v);
}

/* The one record of a marker: length 16 | attributes 0 | timestampDelta 0 |
 * offsetDelta 0 | keyLen 4 | key (version 0, type) | valueLen 6 | value
 * (version 0, coordinator epoch) | 0 headers.  Varints are zigzag: 4 -> 8,
 * 6 -> 12, 16 -> 32. */
#define MARKER_RECORD_SIZE 17
#define MARKER_SIZE (BATCH_HEADER_SIZE + MARKER_RECORD_SIZE)

static void build_marker(uint8_t *b, int64_t pid, int16_t epoch, bool commit, int32_t cepoch,
			 int64_t now)
{
	uint8_t *r = b + BATCH_HEADER_SIZE;

	memset(b, 0, MARKER_SIZE);
	put32(b + BATCH_OFF_LENGTH, MARKER_SIZE - BATCH_LOG_OVERHEAD);
	put32(b + BATCH_OFF_LEADER_EPOCH, 0);
	b[BATCH_OFF_MAGIC] = 2;
	put16(b + BATCH_OFF_ATTRIBUTES, BATCH_ATTR_TRANSACTIONAL | BATCH_ATTR_CONTROL);
	put32(b + BATCH_OFF_LAST_OFFSET_DELTA, 0);
	put64(b + BATCH_OFF_FIRST_TS, (uint64_t)now);
	put64(b + BATCH_OFF_MAX_TS, (uint64_t)now);
	put64(b + BATCH_OFF_PRODUCER_ID, (uint64_t)pid);
	put16(b + BATCH_OFF_PRODUCER_EPOCH, (uint16_t)epoch);
	put32(b + BATCH_OFF_BASE_SEQUENCE, (uint32_t)-1);
	put32(b + BATCH_OFF_COUNT, 1);
	r[0] = (MARKER_RECORD_SIZE - 1) * 2; /* length varint (zigzag) */
	r[1] = 0;                            /* attributes */
	r[2] = 0;                            /* timestamp delta */
	r[3] = 0;                            /* offset delta */
	r[4] = 4 * 2;                        /* key length */
	put16(r + 5, 0);                     /* key version */
	put16(r + 7, commit ? PTXN_CONTROL_COMMIT : PTXN_CONTROL_ABORT);
	r[9] = 6 * 2; /* value length */
	put16(r + 10, 0);
	put32(r + 12, (uint32_t)cepoch);
	r[16] = 0; /* header count */
	batch_update_crc(b, MARKER_SIZE);
}

int engine_append_marker(struct engine *log, const char *topic, int32_t partition, int64_t pid,
			 int16_t epoch, bool commit, int32_t coordinator_epoch,
			 struct engine_append_result *res)
{
	uint8_t b[MARKER_SIZE];

	build_marker(b, pid, epoch, commit, coordinator_epoch, clock_wall_ms());
	return engine_append_internal(log, topic, partition, b, sizeof(b), res, true);
}

int engine_read_stable(struct engine *log, const char *topic, int32_t partition, int64_t offset,
		       size_t max_bytes, struct engine_slice *out)
{
	struct partition *p;
	int rc = engine_get_part(log, topic, partition, &p);

	if (rc < 0) {
		memset(out, 0, sizeof(*out));
		out->fd = -1;
		return rc;
	}
	rc = partition_read(p, offset, max_bytes, true, out);
	partition_unref(p);
	return rc;
}

int engine_aborted_txns(struct engine *log, const char *topic, int32_t partition, int64_t from,
			int64_t to, struct engine_aborted_txn *out, size_t max)
{
	struct partition *p;
	int rc = engine_get_part(log, topic, partition, &p);
	size_t n;

	if (rc < 0)
		return rc;
	n = partition_aborted(p, from, to, out, max);
	partition_unref(p);
	return n > INT32_MAX ? INT32_MAX : (int)n;
}
