/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Idempotent-producer state of one partition, as a Kafka broker keeps it: per
 * producer id the current epoch and the last 5 batches (first/last sequence,
 * base/last offset), so a retried batch is recognised and answered with its
 * original offsets, a sequence gap is refused and a stale epoch is fenced.
 *
 * The state is rebuilt on open from the latest snapshot at or below the
 * recovered log end plus a replay of the batch headers after it
 * (producer_state_update() with the header of every batch).  Snapshots are a
 * small binary file (docs/FORMATS.md, "producer snapshot") written by the
 * partition at segment roll and at clean shutdown.
 *
 * Not thread-safe: the owning partition's lock protects it.  No allocation on
 * the append path except for a new producer id (its entry, and the table
 * when it grows).
 */
#ifndef SLUICE_STORE_PRODUCER_STATE_H
#define SLUICE_STORE_PRODUCER_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/batch.h"
#include "lib/buf.h"
#include "lib/hmap.h"

#define PRODUCER_STATE_BATCHES 5

struct producer_batch {
	int32_t first_seq;
	int32_t last_seq;
	int64_t base_offset;
	int64_t last_offset;
};

struct producer_entry {
	struct hmap_node node; /* in producer_state.map, by pid */
	int64_t pid;
	int16_t epoch;
	uint8_t nbatches; /* oldest first */
	int64_t last_ms;  /* wall time of the last append (expiry) */
	struct producer_batch batches[PRODUCER_STATE_BATCHES];
};

struct producer_state {
	struct hmap map; /* struct producer_entry by pid */
	size_t count;
};

void producer_state_init(struct producer_state *ps);
void producer_state_release(struct producer_state *ps);
void producer_state_clear(struct producer_state *ps);

/* Check a batch about to be appended (bi from batch_header_parse).
 *   0                  append it (not idempotent, new producer, in sequence)
 *   1                  an exact retry: *dup holds the original offsets
 *   -ERR_OUT_OF_ORDER  sequence gap, or a new epoch not starting at 0
 *   -ERR_FENCED        epoch older than the producer's current one */
int producer_state_check(const struct producer_state *ps, const struct batch_info *bi,
			 struct producer_batch *dup);

/* Record a batch that is now in the log at base_offset (bi->base_offset is
 * ignored).  Also used to replay headers on recovery.  0 or -ENOMEM. */
int producer_state_update(struct producer_state *ps, const struct batch_info *bi,
			  int64_t base_offset, int64_t now_ms);

/* Forget producers whose last append is older than now_ms - max_age_ms, as
 * Kafka does after producer.id.expiration.ms.  Returns how many. */
size_t producer_state_expire(struct producer_state *ps, int64_t now_ms, int64_t max_age_ms);

/* Snapshot of the state as it is after every batch below offset. */
int producer_state_serialize(const struct producer_state *ps, int64_t offset, struct buf *out);
/* Replace the state with a snapshot's; *offset is the snapshot's offset.
 * 0, -ERR_CORRUPT (bad magic, CRC, structure) or -ENOMEM.  On failure the
 * state is empty. */
int producer_state_load(struct producer_state *ps, const void *data, size_t len, int64_t *offset);

/* Sequence arithmetic with Kafka's wrap at INT32_MAX. */
int32_t producer_seq_add(int32_t seq, int32_t delta);

#endif
