/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Retention of one partition (store/engine/partition.h): whole segments are
 * deleted from the head once older than retention.ms (by their newest
 * batch), past retention.bytes or wholly below the log start offset
 * DeleteRecords set, never beyond what is durable; deleting
 * a segment whose records arrived recently but are dated long ago is
 * counted and logged.
 */
#include <stdatomic.h>
#include <string.h>
#include <sys/stat.h>

#include "lib/check.h"
#include "lib/fs.h"
#include "lib/log.h"
#include "store/engine/partition.h"

/* The time a segment's age is measured from: its newest batch. */
static int64_t segment_time(const struct segment *s)
{
	return s->max_ts >= 0 ? s->max_ts : s->created_ms;
}

/* A segment deleted by time whose last write is younger than retention.ms
 * held records that arrived dated long ago (an agent reading an old file from
 * its head): kept for less than retention.ms, which no one asked for.  Counted
 * and logged; LogAppendTime topics date records by arrival instead. */
static void note_early_delete(struct partition *p, const struct topic_config *tc,
			      const struct segment *s, int64_t now_ms)
{
	struct stat st;
	int64_t written_ms, n = s->next_offset - s->base;

	if (fstat(s->fd, &st) != 0)
		return;
	written_ms = (int64_t)st.st_mtim.tv_sec * 1000 + st.st_mtim.tv_nsec / 1000000;
	if (now_ms - written_ms >= tc->retention_ms || n <= 0)
		return;
	atomic_fetch_add(&p->counters->early_deleted_records, (uint64_t)n);
	log_warn("log %s-%d: retention deleted %lld records that arrived %llds ago, less than "
		 "retention.ms: their timestamps are older (message.timestamp.type=LogAppendTime "
		 "dates records by arrival)",
		 p->topic, p->index, (long long)n, (long long)((now_ms - written_ms) / 1000));
}

int partition_retention(struct partition *p, const struct topic_config *tc, int64_t now_ms)
{
	struct segment *del[64];
	bool timed[64];
	size_t nd = 0;

	pthread_mutex_lock(&p->mu);
	while (!p->deleted && !p->broken && nd < 64 && p->nsegs > 0) {
		struct segment *s = p->segs[0];
		bool last = p->nsegs == 1;
		bool by_time = tc->retention_ms >= 0 && s->size > 0 &&
			       now_ms - segment_time(s) > tc->retention_ms;
		bool by_size = tc->retention_bytes >= 0 && !last &&
			       p->bytes - s->size >= tc->retention_bytes;
		bool by_start = s->next_offset <= p->log_start && (!last || s->size > 0);

		if (!by_time && !by_size && !by_start)
			break;
		/* never delete what is not yet durable: recovery would miss it */
		if (s->next_offset > p->durable.offset)
			break;
		if (last) {
			/* the whole active segment expired: roll so it can go */
			if (partition_roll(p, now_ms) < 0)
				break;
			continue;
		}
		memmove(&p->segs[0], &p->segs[1], (p->nsegs - 1) * sizeof(p->segs[0]));
		p->nsegs--;
		p->bytes -= s->size;
		/* DeleteRecords may have put it inside the new first segment */
		if (p->segs[0]->base > p->log_start)
			p->log_start = p->segs[0]->base;
		timed[nd] = by_time;
		del[nd++] = s;
	}
	if (nd) {
		ptxn_trim(&p->txn, p->log_start);
		p->last_ts = -1;
		for (size_t i = 0; i < p->nsegs; i++)
			if (p->segs[i]->max_ts > p->last_ts)
				p->last_ts = p->segs[i]->max_ts;
	}
	pthread_mutex_unlock(&p->mu);
	/* unlinking a large file can take a while: not under the lock */
	for (size_t i = 0; i < nd; i++) {
		log_info("log %s-%d: retention deleted segment %020lld (%lld bytes)", p->topic,
			 p->index, (long long)del[i]->base, (long long)del[i]->size);
		if (timed[i])
			note_early_delete(p, tc, del[i], now_ms);
		segment_remove_files(del[i]);
		segment_unref(del[i]);
		atomic_fetch_add(&p->counters->segments_deleted, 1);
	}
	if (nd) /* a lost unlink brings back an old segment that retention deletes again */
		SLUICE_IGNORE(fs_fsync_dir(p->dir));
	return (int)nd;
}
