/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The one check of a produced batch, shared by the Kafka Produce and HTTP
 * ingest paths: batch_verify() (header, CRC, and every record, a compressed
 * batch decompressed first, as a Kafka broker does), then the maxTimestamp
 * recomputed from the records.  librdkafka writes maxTimestamp 0 for records
 * whose timestamp is -1; trusting it would date the segment 1970 and let
 * retention delete it on arrival.  When no record has a time (all < 0) the
 * batch is dated by its arrival, in the header itself: the time index,
 * ListOffsets by time, retention and recovery (which rescans headers) then
 * all see one value, and no client reads a CreateTime batch's maxTimestamp
 * as a record time.
 *
 * How much of a compressed batch is decoded is log.verify_records: "all"
 * decompresses every batch and parses every record, as Kafka does (costly:
 * the decompression itself); "head" (default) decodes the first
 * CHECK_HEAD_BYTES of each compressed batch and parses the records within,
 * which catches a codec flag that lies or a stream that is not what it
 * claims at a bounded cost, and decodes a batch whole only when its header
 * times need recomputing.  Uncompressed batches are always checked whole.
 *
 * Each thread that checks batches keeps a codec context and decompression
 * buffers (thread-specific data, freed when the thread ends) so the hot path
 * does not allocate; a buffer grown past CHECK_KEEP_BYTES by a large batch is
 * given back after it.
 */
#include <pthread.h>
#include <stdatomic.h>

#include "lib/batch.h"
#include "lib/clock.h"
#include "lib/codec.h"
#include "lib/err.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "store/engine/engine_int.h"

/* Decompressed records section of one batch checked whole (as the time
 * lookups bound theirs); past it, verify_records "all" refuses the batch
 * (MESSAGE_TOO_LARGE: a decompression bomb) and "head" dates a batch whose
 * header times are wrong by its arrival.  CHECK_HEAD_BYTES: what "head"
 * decodes of each compressed batch.  A thread keeps at most CHECK_KEEP_BYTES
 * of decompression buffer between batches. */
#define CHECK_WHOLE_BYTES (64u * 1024 * 1024)
#define CHECK_KEEP_BYTES (4u * 1024 * 1024)
#define CHECK_HEAD_BYTES (64u * 1024)

struct check_tls {
	struct codec_ctx *cc;
	struct buf head; /* cap <= max: decoding stops at CHECK_HEAD_BYTES */
	struct buf full;
};

static pthread_key_t check_key;
static pthread_once_t check_once = PTHREAD_ONCE_INIT;
static bool check_key_ok;

static void check_tls_free(void *arg)
{
	struct check_tls *t = arg;

	if (!t)
		return;
	codec_ctx_free(t->cc);
	buf_release(&t->head);
	buf_release(&t->full);
	mem_free(t);
}

static void check_key_init(void)
{
	check_key_ok = pthread_key_create(&check_key, check_tls_free) == 0;
}

static struct check_tls *check_tls_get(void)
{
	struct check_tls *t;

	pthread_once(&check_once, check_key_init);
	if (!check_key_ok)
		return NULL;
	t = pthread_getspecific(check_key);
	if (t)
		return t;
	t = mem_calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->cc = codec_ctx_new();
	buf_init(&t->head, CHECK_HEAD_BYTES);
	buf_init(&t->full, CHECK_WHOLE_BYTES);
	if (!t->cc || pthread_setspecific(check_key, t) != 0) {
		check_tls_free(t);
		return NULL;
	}
	return t;
}

int engine_batch_check(struct engine *log, uint8_t *batch, size_t len, struct batch_info *bi)
{
	struct check_tls *t = check_tls_get();
	bool all = log->cfg.verify_all_records, wrong_times;
	int64_t max_ts;
	int rc;

	if (!t)
		return -ENOMEM;
	rc = batch_header_parse(batch, len, bi);
	/* header times that cannot be right (librdkafka's FirstTimestamp -1 and
	 * MaxTimestamp 0 for records without one) need every record decoded */
	wrong_times = rc < 0 || bi->first_ts < 0 || bi->max_ts < bi->first_ts;
	rc = batch_verify(batch, len, t->cc, all || wrong_times ? &t->full : &t->head, !all, bi,
			  &max_ts);
	if (t->full.cap > CHECK_KEEP_BYTES) {
		buf_release(&t->full);
		buf_init(&t->full, CHECK_WHOLE_BYTES);
	}
	if (rc == -ERR_CORRUPT || rc == -ERR_TRUNCATED) {
		atomic_fetch_add_explicit(&log->counters.corrupt_batches, 1, memory_order_relaxed);
		return rc;
	}
	if (rc < 0)
		return rc;
	if (rc == 1 && !wrong_times)
		return 0; /* head checked; its header times are plausible and kept */
	if (rc == 1)
		max_ts = -1; /* wrong times, too large to read them all: unknown */
	if (max_ts < 0)
		max_ts = clock_wall_ms(); /* no record has a time: its arrival dates it */
	if (max_ts != bi->max_ts && !(bi->attributes & BATCH_ATTR_LOG_APPEND_TIME)) {
		batch_set_max_ts(batch, len, max_ts);
		bi->max_ts = max_ts;
		bi->crc = get_be32(batch + BATCH_OFF_CRC);
	}
	return 0;
}
