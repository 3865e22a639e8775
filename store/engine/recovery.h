/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Partition recovery: turn whatever a partition directory holds after a
 * clean shutdown, a kill -9 or a power loss into a consistent log, in time
 * proportional to the tail written since the last recovery point.
 *
 *   segments below the recovery point   trusted; index files sanity-checked
 *                                       (rebuilt from batch headers if not)
 *   the recovery point's segment        trusted up to the checkpointed byte
 *                                       position, validated after it
 *   later segments                      validated batch by batch
 *
 * Validation means a parsable header, offsets following on exactly, and the
 * CRC-32C; the log is truncated at the first batch that fails and every later
 * segment is removed, with a warning naming the bytes and offsets dropped.
 * The producer state comes from the newest snapshot at or below the recovered
 * end plus a replay of the batch headers after it.
 *
 * Private to the engine; called with the partition's mutex held (or before
 * the partition is shared).
 */
#ifndef SLUICE_STORE_RECOVERY_H
#define SLUICE_STORE_RECOVERY_H

#include <stdint.h>

#include "store/engine/partition.h"

struct recovery {
	int64_t segments;
	int64_t validated_bytes;
	int64_t truncated_bytes;
	int64_t replayed_batches;
	int64_t snapshot_offset; /* -1: none used */
};

/* Load p->dir into p (segments, offsets, producer state).  rp: trust up to
 * this point (valid false: validate everything).  cut (may be NULL): first
 * drop everything from this point on — the repair after a failed fsync. */
int recovery_run(struct partition *p, const struct partition_point *rp,
		 const struct partition_point *cut, struct recovery *rep);

#endif
