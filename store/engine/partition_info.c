/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What a partition reports under its lock (partition.h): its offsets, sizes
 * and times for engine_partition_info(), the aborted transactions of a
 * range for read_committed Fetch, and the expiry of idle producers.
 */
#include <pthread.h>

#include "store/engine/engine.h"
#include "store/engine/partition.h"
#include "store/engine/partition_txn.h"
#include "store/engine/producer_state.h"
#include "store/engine/segment.h"

void partition_info(struct partition *p, struct engine_partition_info *out)
{
	pthread_mutex_lock(&p->mu);
	out->log_start = p->log_start;
	out->end = p->end;
	out->visible = p->visible;
	out->durable = p->durable.offset;
	out->bytes = p->bytes;
	out->segments = (int32_t)p->nsegs;
	out->first_timestamp = -1;
	for (size_t i = 0; i < p->nsegs; i++) {
		if (p->segs[i]->size > 0) {
			out->first_timestamp = p->segs[i]->first_ts;
			break;
		}
	}
	out->last_timestamp = p->bytes > 0 ? p->last_ts : -1;
	out->last_stable = ptxn_lso(&p->txn, p->visible);
	pthread_mutex_unlock(&p->mu);
}

size_t partition_aborted(struct partition *p, int64_t from, int64_t to,
			 struct engine_aborted_txn *out, size_t max)
{
	size_t n;

	pthread_mutex_lock(&p->mu);
	n = ptxn_aborted(&p->txn, from, to, out, max);
	pthread_mutex_unlock(&p->mu);
	return n;
}

void partition_expire_producers(struct partition *p, int64_t now_ms)
{
	pthread_mutex_lock(&p->mu);
	producer_state_expire(&p->producers, now_ms, PARTITION_PRODUCER_EXPIRY_MS);
	pthread_mutex_unlock(&p->mu);
}
