/* SPDX-License-Identifier: Apache-2.0 */
/*
 * An idempotent producer over the store's HTTP API for `sluice produce` and
 * `sluice replay`: records are batched per partition (zstd by default),
 * each batch carries a producer id from POST /v1/producers and a per
 * partition sequence, and is posted with ?partition=N.  A failed post
 * (connection refused or reset, 503) is retried with backoff for up to a
 * minute; because of the sequence, a retry of a batch the store already had
 * is answered as a duplicate, never written twice.
 *
 * Partition of a record: murmur2(key) mod partitions (Kafka's partitioner)
 * when it has a key, else the partition of the current keyless batch, which
 * moves round robin from one batch to the next.  Not thread-safe.
 */
#ifndef SLUICE_CLI_PRODUCER_H
#define SLUICE_CLI_PRODUCER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cli/cli_http.h"
#include "lib/batch.h"

struct cli_producer_part {
	struct batch_builder bb;
	int32_t seq;
};

struct cli_producer {
	struct cli_http *http;
	char topic[256];
	int32_t partitions;
	int64_t max_batch;  /* the topic's max_batch_bytes */
	size_t flush_bytes; /* post a batch once its records reach this */
	int codec;
	int64_t producer_id;
	int16_t epoch;
	int32_t rr; /* keyless partition */
	struct cli_producer_part *parts;
	struct codec_ctx *cc;
	struct buf out;
	uint64_t records;
	uint64_t batches;
	uint64_t bytes; /* batch bytes posted */
	char err[512];
};

/* Look the topic up (its partition count and batch limit; an unknown topic
 * gets one partition and is created by the store on the first post when
 * auto-create is on) and allocate a producer id.  0 or a negative code with
 * p->err set. */
int cli_producer_init(struct cli_producer *p, struct cli_http *http, const char *topic, int codec);
void cli_producer_release(struct cli_producer *p);

/* Queue one record (key_len/value_len -1 = null); posts a batch when one
 * fills.  0 or negative with p->err. */
int cli_producer_add(struct cli_producer *p, int64_t ts, const void *key, int32_t key_len,
		     const void *value, int32_t value_len, const struct record_header *hdrs,
		     size_t nhdrs);
/* Post every pending batch. */
int cli_producer_flush(struct cli_producer *p);
/* Records waiting in unsent batches. */
bool cli_producer_pending(const struct cli_producer *p);

#endif
