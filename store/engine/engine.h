/* SPDX-License-Identifier: Apache-2.0 */
/*
 * store/engine/: the log engine (segments, indexes, recovery, retention, topics).
 *
 * The log engine: the durable, partitioned log of RecordBatch v2 batches that
 * sluice-store is built around.  This header is the contract between the
 * engine (store/engine/engine.c, store/engine/partition.c, store/engine/segment.c, ...) and its users
 * (the Kafka protocol server, the HTTP API, the group coordinator, tests).
 *
 * On disk (docs/FORMATS.md has the byte-level layout):
 *   data_dir/meta/topics.yaml           topic registry (atomic replace)
 *   data_dir/meta/recovery-points       per-partition recovery offsets
 *   data_dir/meta/producer-ids          next producer id block
 *   data_dir/<topic>-<p>/<base:020>.log        batches exactly as received,
 *                                              baseOffset rewritten
 *   data_dir/<topic>-<p>/<base:020>.index      sparse offset index
 *   data_dir/<topic>-<p>/<base:020>.timeindex  time index
 *   data_dir/<topic>-<p>/<base:020>.snapshot   idempotent-producer state
 *
 * Offsets and visibility.  Each partition has
 *   log_start   first offset still on disk (retention moves it forward)
 *   end         next offset to assign (Kafka's log end offset)
 *   visible     offsets below it are acknowledged and readable; Kafka's
 *               high watermark.  With fsync "always" it is the durable
 *               offset (an acknowledged batch is on disk); with "interval"
 *               and "never" it equals end.
 *
 * Threading.  Every function is thread-safe: the Kafka server calls in from
 * its event-loop thread, the HTTP API from libmicrohttpd's threads.  Appends
 * to one partition are serialized by that partition's lock; the fsync for
 * durability runs on the engine's flusher thread, which group-commits: one
 * fdatasync covers every batch appended to the partition since the last one.
 * No function blocks on an fsync except engine_wait_visible().
 *
 * Return values follow the project contract: 0 (or a count) on success, a
 * negative code from lib/err.h on failure:
 *   -ERR_NOT_FOUND     unknown topic or partition
 *   -ERR_INVALID       invalid topic name or config value
 *   -ERR_EXISTS        topic already exists
 *   -ERR_CORRUPT       batch fails validation
 *   -ERR_TOO_LARGE     batch larger than the topic's max_batch_bytes
 *   -ERR_OUT_OF_RANGE  read offset below log_start or above end
 *   -ERR_OUT_OF_ORDER  idempotent producer sequence gap
 *   -ERR_FENCED        idempotent producer with a stale epoch
 *   -ERR_STORAGE       the disk refused a write (ENOSPC, EIO); nothing of
 *                      that batch was acknowledged and the partition stays
 *                      readable; later appends retry the disk
 */
#ifndef SLUICE_STORE_ENGINE_H
#define SLUICE_STORE_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "store/engine/engine_types.h"

struct batch_info;

struct engine;

struct engine_config {
	const char *data_dir; /* borrowed for engine_open() only */
	enum engine_fsync fsync;
	int64_t fsync_interval_ms;
	bool auto_create;             /* create unknown topics on first append */
	struct topic_config defaults; /* for auto-created topics and unset fields */
	int64_t index_interval_bytes; /* bytes between sparse index entries */
	int64_t retention_check_ms;   /* how often retention runs */
	uint64_t min_free_bytes;      /* disk headroom (diskspace.h); 0 and 0: off */
	int min_free_percent;
	bool verify_all_records;       /* engine_batch_check decodes every batch whole */
	bool no_block_index;           /* no block index worker (benchmarks, tools) */
	const char *block_index_count; /* pattern the index counts per minute; borrowed */
};

/* Defaults: fsync always, auto_create true, 1 partition, retention 7 days and
 * unlimited bytes, 1 GiB / 7 day segments, 8 MiB batches, index every 4 KiB,
 * retention checked every 30 s. */
void engine_config_init(struct engine_config *c);

/* Open (creating when absent) the data directory, recover every partition
 * (validate the tail past the recovery point batch by batch, truncate a torn
 * tail, rebuild missing or inconsistent indexes, reload producer state) and
 * start the flusher and retention threads.  *out owns everything. */
int engine_open(const struct engine_config *cfg, struct engine **out);
/* Flush, checkpoint and stop.  engine_close(NULL) is a no-op. */
void engine_close(struct engine *log);

/* ---------------------------------------------------------------- topics */

/* Create a topic.  Fields of tc that are 0 take the log's defaults. */
int engine_topic_create(struct engine *log, const char *name, const struct topic_config *tc);
/* The same, also recording configs the engine keeps but does not act on
 * (Kafka's cleanup.policy, compression.type, ...): extra is "key=value\n"
 * lines sorted by key (registry_extra_valid() in registry.h: keys
 * [a-z0-9._-], values printable without ' $ \), or NULL.  -ERR_INVALID for
 * a malformed extra. */
int engine_topic_create_ex(struct engine *log, const char *name, const struct topic_config *tc,
			   const char *extra);
/* Delete a topic and its data.  Readers holding a struct engine_slice keep
 * their file open until they release it.  -ERR_INVALID for a name that breaks
 * the topic name rule, -ERR_NOT_FOUND. */
int engine_topic_delete(struct engine *log, const char *name);
/* Change a topic: grow its partition count (partitions can only grow:
 * -ERR_INVALID otherwise) and/or set the fields whose set_ flag is true.
 * The new config is persisted in the registry before this returns. */
struct engine_topic_alter {
	int32_t partitions; /* 0 = unchanged */
	bool set_retention_ms;
	int64_t retention_ms;
	bool set_retention_bytes;
	int64_t retention_bytes;
	bool set_segment_bytes;
	int64_t segment_bytes;
	bool set_max_batch_bytes;
	int64_t max_batch_bytes;
	bool set_segment_ms;
	int64_t segment_ms;
	bool set_timestamp_type;
	int32_t timestamp_type;
	const char *extra; /* non-NULL: replaces the recorded configs ("" clears) */
};
int engine_topic_alter(struct engine *log, const char *name, const struct engine_topic_alter *a);

/* The topic's config.  0 or -ERR_NOT_FOUND. */
int engine_topic_config(struct engine *log, const char *name, struct topic_config *out);
/* The defaults a topic created without settings gets (log.* settings). */
void engine_topic_defaults(const struct engine *log, struct topic_config *out);
/* The topic's recorded configs (see engine_topic_create_ex()): *out is a
 * copy the caller frees with mem_free(), "" when none.  0, -ERR_NOT_FOUND,
 * -ENOMEM. */
int engine_topic_extra(struct engine *log, const char *name, char **out);

/* The data directory (for DescribeLogDirs) and its file system's size and
 * the space an unprivileged writer may still use (statvfs).  0 or -errno. */
const char *engine_data_dir(const struct engine *log);
int engine_disk_usage(struct engine *log, uint64_t *total, uint64_t *usable);

/* Snapshot of topic names, sorted.  *names is an array of n strings, all
 * owned by the caller: free with engine_names_free(). */
int engine_topic_list(struct engine *log, char ***names, size_t *n);
void engine_names_free(char **names, size_t n);

/* Ensure the topic exists, creating it with the defaults when auto_create is
 * on.  Returns the partition count, -ERR_NOT_FOUND (auto_create off) or
 * -ERR_INVALID (bad name). */
int engine_topic_ensure(struct engine *log, const char *name);

/* Topic ids (Kafka's topic UUIDs, Metadata v10+, Fetch v13+): every topic
 * has one, a random v4 UUID given at creation (never all-zero), kept in the
 * registry (durable, stable across restarts; a data dir from before ids gets
 * them at open) and new when a topic is deleted and created again.
 * For the Kafka APIs (kafka_meta.c Metadata; Fetch v13+ in kafka_fetch.c):
 *   engine_topic_id(log, name, id)          name -> id
 *   engine_topic_by_id(log, id, name, cap)  id -> name (a copy)  */
#define ENGINE_TOPIC_ID_LEN 16
/* 0 with id filled, or -ERR_NOT_FOUND. */
int engine_topic_id(struct engine *log, const char *name, uint8_t id[ENGINE_TOPIC_ID_LEN]);
/* 0 with the topic's name copied into name[0..cap) (cap > TOPIC_NAME_MAX
 * always fits), -ERR_NOT_FOUND (also for the all-zero id), -ERR_TOO_LARGE
 * when cap is too small. */
int engine_topic_by_id(struct engine *log, const uint8_t id[ENGINE_TOPIC_ID_LEN], char *name,
		       size_t cap);

/* ---------------------------------------------------------------- partitions */

int engine_partition_info(struct engine *log, const char *topic, int32_t partition,
			  struct engine_partition_info *out);

/* ---------------------------------------------------------------- append */

/* The check every produced batch passes before engine_append(), whatever
 * the protocol: batch_verify() on the batch batch[0..len) (every record; of
 * a compressed batch the first 64 KiB of records unless verify_all_records
 * or its header times need recomputing), then its maxTimestamp rewritten
 * (CRC recomputed) when the records say otherwise, e.g. librdkafka's 0 for
 * records without a timestamp (the arrival time then: -1 is "unknown").
 * Counted in corrupt_batches when refused.  0 with *bi, or batch_verify()'s
 * error; thread-safe. */
int engine_batch_check(struct engine *log, uint8_t *batch, size_t len, struct batch_info *bi);

/* Append one batch that the caller has already checked with
 * engine_batch_check().  The engine rewrites its baseOffset in place (the CRC
 * does not cover it) and writes the bytes as they are: no decompression.
 * Idempotent producers (producerId >= 0) are checked per (producerId,
 * partition) against the last 5 batches, as a Kafka broker does: an exact
 * retry returns 0 with duplicate = true and the original offsets; a gap is
 * -ERR_OUT_OF_ORDER; an older epoch is -ERR_FENCED.  An unknown producer id is
 * accepted at any sequence.
 *
 * On success the batch is written but not necessarily durable yet: it
 * becomes visible (and may be acknowledged) once engine_partition_info().visible
 * passes res->last_offset; see engine_wait_visible() and engine_set_listener().
 * -ENOSPC, before anything is written, while the data directory's disk is
 * under its headroom (log.min_free_bytes). */
int engine_append(struct engine *log, const char *topic, int32_t partition, uint8_t *batch,
		  size_t len, struct engine_append_result *res);

/* Is batch an exact retry of one of its idempotent producer's last batches
 * in the partition (what engine_append() would answer as a duplicate)?  1
 * with *res filled as engine_append() fills it, 0 when it is not, or a
 * negative code; nothing is written.  Lets a protocol answer a retry as
 * delivered before it refuses a batch for another reason: a producer id now
 * owned by another principal (the credential was rotated) must not turn a
 * batch the store has into a refusal the client resends under a new id. */
int engine_find_duplicate(struct engine *log, const char *topic, int32_t partition,
			  const uint8_t *batch, size_t len, struct engine_append_result *res);

/* Block until offset < visible of the partition, or timeout_ms passes.
 * 0, -ETIMEDOUT, -ERR_NOT_FOUND (topic deleted meanwhile), -ERR_STORAGE
 * (the fsync failed: the batch is not acknowledged). */
int engine_wait_visible(struct engine *log, const char *topic, int32_t partition, int64_t offset,
			int timeout_ms);

/* Register the one callback run (on the engine's flusher or appending
 * thread) whenever any partition's visible offset advances or a flush fails.
 * It must not call back into the engine; an event loop posts itself a
 * wake-up (evloop_async_send) and re-checks its waiting requests. */
void engine_set_listener(struct engine *log, void (*cb)(void *arg), void *arg);

/* ---------------------------------------------------------------- transactions */

/* Whether a transactional batch of (pid, epoch) may be appended to the
 * partition: 0, -ERR_TXN_STATE (the partition is not in the producer's open
 * transaction) or -ERR_FENCED (a newer epoch exists).  Runs on the appending
 * thread, with no partition lock held; it must not call back into the
 * engine. */
typedef int engine_txn_check_fn(void *arg, const char *topic, int32_t partition, int64_t pid,
				int16_t epoch);
/* Register the transaction coordinator's check (store/txn/).  Without one,
 * every transactional batch is refused with -ERR_TXN_STATE.  Set it before
 * the first append (it is read without a lock).  Control batches
 * are refused by engine_append() (-ERR_INVALID) whatever the check. */
void engine_set_txn_check(struct engine *log, engine_txn_check_fn *fn, void *arg);

/* Append a transaction marker (a control batch: transactional and control
 * attributes, one record with key version 0 + type, value version 0 +
 * coordinator epoch) for (pid, epoch): commit or abort.  The producer's
 * open transaction on the partition closes; an abort enters the aborted
 * index.  Visible (and durable) as engine_append()'s batches are. */
int engine_append_marker(struct engine *log, const char *topic, int32_t partition, int64_t pid,
			 int16_t epoch, bool commit, int32_t coordinator_epoch,
			 struct engine_append_result *res);

/* engine_read(), but never past the last stable offset: what a
 * read_committed consumer may see.  out->last_stable is set by both. */
int engine_read_stable(struct engine *log, const char *topic, int32_t partition, int64_t offset,
		       size_t max_bytes, struct engine_slice *out);

/* The aborted transactions of the partition overlapping [from, to): up to
 * max into out; returns how many there are in all (call again with a larger
 * array when more), or -ERR_NOT_FOUND. */
int engine_aborted_txns(struct engine *log, const char *topic, int32_t partition, int64_t from,
			int64_t to, struct engine_aborted_txn *out, size_t max);

/* Allocate a new idempotent producer id (persisted; never reused). */
int engine_producer_id_alloc(struct engine *log, int64_t *id);

/* The data directory's headroom watch (store/engine/diskspace.h), for its
 * metrics; NULL when engine_open() could not set it up. */
struct diskspace *engine_diskspace(struct engine *log);

/* ---------------------------------------------------------------- read */

/* Batches from the one containing offset, up to max_bytes (always at least
 * one whole batch when one is visible, even a larger one, as Kafka does), never
 * past the visible offset and never across a segment boundary: read again
 * from the returned end for more.  offset == visible gives len 0.
 * -ERR_OUT_OF_RANGE when offset < log_start or offset > end. */
int engine_read(struct engine *log, const char *topic, int32_t partition, int64_t offset,
		size_t max_bytes, struct engine_slice *out);
void engine_slice_release(struct engine_slice *s);

/* First offset whose batch has a timestamp >= ts (by the time index, then a
 * header scan; Kafka ListOffsets semantics).  *offset = visible when no batch
 * is that late.  ts -1 = latest (visible), -2 = earliest (log_start). */
int engine_offset_for_time(struct engine *log, const char *topic, int32_t partition, int64_t ts,
			   int64_t *offset);

/* The offset of the first record with the partition's largest timestamp, and
 * that timestamp (ListOffsets -3, KIP-734); both -1 for an empty partition. */
int engine_offset_max_timestamp(struct engine *log, const char *topic, int32_t partition,
				int64_t *offset, int64_t *ts);

/* DeleteRecords: make every record below offset (-1: the high watermark)
 * unreadable by moving the log start offset there, durably (it survives a
 * crash) before returning; segments wholly below it are deleted.  Moving it
 * back is a no-op.  *low_watermark: the log start offset after.
 * -ERR_OUT_OF_RANGE for an offset past the high watermark (or < -1). */
int engine_delete_records(struct engine *log, const char *topic, int32_t partition, int64_t offset,
			  int64_t *low_watermark);

/* The partition's idempotent producers (DescribeProducers): *out holds *n
 * entries, free it with mem_free(). */
int engine_producers(struct engine *log, const char *topic, int32_t partition,
		     struct engine_producer **out, size_t *n);

/* ---------------------------------------------------------------- block index */

/* The block skip index (store/engine/blockindex.h) of sealed segments. */
struct bidx;
struct bidx_query;

/* The first offset >= offset where a record matching q may be: blocks the
 * index rules out are skipped (never past the visible offset).  Where no
 * index exists (the active segment, one not built yet) *next = offset. */
int engine_skip(struct engine *log, const char *topic, int32_t partition, int64_t offset,
		const struct bidx_query *q, int64_t *next);
/* Call cb for every segment's offset range [from, to) below the visible
 * offset, oldest first, with its index or NULL (not indexed: scan it).
 * Stops at and returns cb's first non-zero result. */
/* The pattern the block index counts per minute (log.block_index_count),
 * or NULL; *id: what its blocks carry as count_id (0: none). */
const char *engine_block_index_count(struct engine *log, uint32_t *id);
int engine_index_walk(struct engine *log, const char *topic, int32_t partition,
		      int (*cb)(void *arg, int64_t from, int64_t to, const struct bidx *x),
		      void *arg);

/* ---------------------------------------------------------------- metrics */

void engine_get_stats(struct engine *log, struct engine_stats *out);

#endif
