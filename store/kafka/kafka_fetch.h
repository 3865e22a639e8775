/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fetch (key 1, v4-v12; v12 flexible, its tagged fields ignored / not
 * sent): whole record batches straight from the log's
 * segment files with sendfile().  Long-poll: when fewer than min_bytes are
 * available the request parks until the log engine reports progress or
 * max_wait passes.  Limits: the response's max_bytes and each partition's
 * max_bytes, except that the first batch of the response is always sent
 * whole (KIP-74), so a consumer can make progress past a large batch.  Each
 * partition is served from one segment per request, like Kafka.  zstd
 * batches go only to Fetch v10+; an older fetcher gets the batches before
 * the first zstd one, or UNSUPPORTED_COMPRESSION_TYPE when that is the
 * first.  No fetch sessions (KIP-227): session_id 0 in every response, and a
 * request naming a session gets FETCH_SESSION_ID_NOT_FOUND.
 * Event-loop thread only.
 */
#ifndef SLUICE_STORE_KAFKA_FETCH_H
#define SLUICE_STORE_KAFKA_FETCH_H

#include <stdint.h>

#include "store/kafka/kwire.h"

struct kafka_req;

struct kafka_fetch_partition {
	int32_t index;
	int32_t current_leader_epoch; /* v9+ */
	int64_t fetch_offset;
	int32_t last_fetched_epoch; /* v12+, followers only */
	int64_t log_start_offset;   /* v5+, followers only */
	int32_t max_bytes;
};

struct kafka_fetch_topic {
	char *name;
	int32_t npartitions;
	struct kafka_fetch_partition *partitions;
};

struct kafka_fetch_req {
	int32_t replica_id;
	int32_t max_wait_ms;
	int32_t min_bytes;
	int32_t max_bytes;      /* v3+ */
	int8_t isolation_level; /* v4+ */
	int32_t session_id;     /* v7+ */
	int32_t session_epoch;  /* v7+ */
	int32_t ntopics;
	struct kafka_fetch_topic *topics;
	int32_t nforgotten; /* v7+, ignored: no sessions */
	char *rack_id;      /* v11+ */
};

void *kafka_fetch_decode(struct kwire_dec *d, int16_t v);
void kafka_fetch_handle(struct kafka_req *r);

#endif
