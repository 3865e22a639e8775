/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The log engine's value types (fsync mode, topic config, partition info,
 * append result, read slice, stats) without its functions, so the engine's
 * own parts (partition.h, registry.h) can use them without including
 * store/engine/engine.h, which is the engine's public API built on them.
 */
#ifndef SLUICE_STORE_ENGINE_TYPES_H
#define SLUICE_STORE_ENGINE_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "lib/topic_name.h"

enum engine_fsync {
	ENGINE_FSYNC_ALWAYS,   /* ack after fdatasync (group commit) */
	ENGINE_FSYNC_INTERVAL, /* fdatasync every fsync_interval_ms; ack at once */
	ENGINE_FSYNC_NEVER,    /* leave it to the kernel; ack at once */
};

struct topic_config {
	int32_t partitions;
	int64_t retention_ms;    /* -1: keep forever */
	int64_t retention_bytes; /* per partition; -1: unlimited */
	int64_t segment_bytes;   /* roll the active segment past this size */
	int64_t segment_ms;      /* ... or when it is older than this */
	int64_t max_batch_bytes; /* largest accepted batch (Kafka max.message.bytes) */
	int32_t timestamp_type;  /* enum engine_ts_type (message.timestamp.type) */
};

/* Who dates the records of a topic.  CreateTime: the producer (a record
 * without one, timestamp < 0, counts as appended now for retention and time
 * lookups); LogAppendTime: the store stamps each batch when appending it
 * (attributes bit 3, maxTimestamp = append time, CRC recomputed), as Kafka. */
enum engine_ts_type {
	ENGINE_TS_CREATE_TIME = 0,
	ENGINE_TS_LOG_APPEND_TIME = 1,
};

/* "CreateTime" / "LogAppendTime" (Kafka's spelling) <-> enum engine_ts_type;
 * parse gives -ERR_INVALID for anything else. */
int engine_ts_type_parse(const char *name);
const char *engine_ts_type_name(int32_t type);

struct engine_partition_info {
	int64_t log_start;
	int64_t end;
	int64_t visible; /* high watermark */
	int64_t durable; /* fsynced below this */
	int64_t bytes;   /* on-disk size of all segments */
	int32_t segments;
	int64_t first_timestamp; /* of the first batch on disk, -1 if empty */
	int64_t last_timestamp;  /* max timestamp seen, -1 if empty */
	int64_t last_stable;     /* first offset of the earliest open transaction, else visible */
};

/* One aborted transaction of a partition (KIP-98): the producer's batches
 * from first_offset up to its ABORT marker at last_offset are to be skipped
 * by read_committed consumers. */
struct engine_aborted_txn {
	int64_t producer_id;
	int64_t first_offset;
	int64_t last_offset;
};

struct engine_append_result {
	int64_t base_offset; /* assigned (or original, for a duplicate) */
	int64_t last_offset;
	int64_t log_start;
	int64_t log_append_time; /* the stamp of a LogAppendTime topic, else -1 */
	bool duplicate;          /* idempotent retry: nothing was written */
};

/* A read-only byte range of whole batches in one segment file.  file_fd stays
 * open until engine_slice_release(), even if retention or topic deletion removes
 * the segment meanwhile, so it can be sent with sendfile() from any thread. */
struct engine_slice {
	int fd;
	off_t pos;
	size_t len;             /* 0: nothing (yet) at this offset */
	int64_t first_offset;   /* base offset of the first batch in the range */
	int64_t high_watermark; /* visible offset at the time of the read */
	int64_t last_stable;    /* last stable offset at the time of the read */
	int64_t log_start;
	void *ref; /* engine-private file reference */
};

/* One idempotent producer of a partition (engine_producers()). */
struct engine_producer {
	int64_t id;
	int16_t epoch;
	int32_t last_seq;  /* of its last batch; -1: none */
	int64_t last_ms;   /* wall time of its last append */
	int64_t txn_start; /* first offset of its open transaction here; -1: none */
};

struct engine_stats {
	uint64_t appends;
	uint64_t append_bytes;
	uint64_t duplicates;
	uint64_t fsyncs;
	uint64_t fsync_errors;
	uint64_t fsync_ns_total;
	/* fsync latency histogram: counts of fsyncs taking <= bucket bound */
	uint64_t fsync_hist[12];        /* 0.1,0.25,0.5,1,2.5,5,10,25,50,100,250 ms, +Inf */
	uint64_t truncated_bytes;       /* dropped by recovery */
	uint64_t segments_deleted;      /* by retention */
	uint64_t corrupt_batches;       /* refused by engine_batch_check() */
	uint64_t early_deleted_records; /* deleted by time less than retention after arrival */
	bool writable;                  /* false after a storage error, until a write succeeds */
	char last_error[128];
};

/* The upper bounds of fsync_hist's buckets but the last (+Inf). */
extern const double engine_fsync_hist_bounds_ms[11];

#endif
