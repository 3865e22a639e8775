/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Internals shared by the two halves of the log engine's public face:
 * store/engine/engine.c (open/close, flusher and maintenance threads, checkpoints, the
 * data path, stats) and store/engine/engine_topic.c (the topic table and topic
 * create/delete/alter).  Not for use outside the engine.
 *
 * Locks, outermost first: admin_mu (create/delete/alter, one at a time) ->
 * topics_lock (the table; never held across I/O on data) -> a partition's
 * mutex -> the flush queue mutex.  ckpt_mu serializes checkpoint writes and
 * takes topics_lock and partition mutexes inside it; nothing holding a
 * partition mutex ever waits for ckpt_mu.
 */
#ifndef SLUICE_STORE_ENGINE_INT_H
#define SLUICE_STORE_ENGINE_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "store/engine/checkpoint.h"
#include "store/engine/diskspace.h"
#include "store/engine/engine.h"
#include "store/engine/partition.h"
#include "store/engine/registry.h"
#include "lib/hmap.h"

#define FLUSH_THREADS 4

struct topic {
	char *name;
	struct topic_config cfg;
	struct partition **parts;
	int32_t nparts;
	uint8_t id[ENGINE_TOPIC_ID_LEN]; /* as in the registry (engine_topic_id.c) */
	struct hmap_node id_node;        /* in engine.topics_by_id */
};

struct engine {
	struct engine_config cfg;
	char *data_dir;
	char *meta_dir;
	int lock_fd;

	pthread_mutex_t admin_mu;
	struct registry persisted; /* topics.yaml as on disk (admin_mu) */
	pthread_rwlock_t topics_lock;
	struct topic **topics; /* sorted by name */
	size_t ntopics, topics_cap;
	struct hmap topics_by_id; /* the same topics by id (topics_lock) */

	struct engine_counters counters;

	pthread_mutex_t q_mu;
	pthread_cond_t q_cond;
	struct partition *q_head, *q_tail;
	bool q_stop;
	pthread_t flushers[FLUSH_THREADS];
	int nflushers;

	pthread_mutex_t m_mu;
	pthread_cond_t m_cond;
	bool m_stop;
	bool m_started;
	pthread_t maint;

	pthread_mutex_t ckpt_mu;
	uint64_t ckpt_sum; /* of the last checkpoint written */
	bool ckpt_valid;

	pthread_mutex_t l_mu;
	void (*listener)(void *);
	void *listener_arg;

	pthread_mutex_t pid_mu;
	int64_t pid_next, pid_limit;
	uint64_t trash_seq;
	struct diskspace *disk;   /* headroom watch; NULL: none */
	struct bidx_worker *bidx; /* block index builder (bidx_worker.c) */
};

/* log_topic.c: the sorted topic table (callers hold topics_lock). */
struct topic *engine_topic_find(const struct engine *log, const char *name);
int engine_topic_insert(struct engine *log, struct topic *t);
void engine_topic_remove(struct engine *log, const char *name);
/* engine_topic_id.c: the id index, kept by insert/remove (topics_lock). */
int engine_topic_index_id(struct engine *log, struct topic *t);
void engine_topic_unindex_id(struct engine *log, struct topic *t);
/* Drops the topic's partition references and frees it.  NULL is a no-op. */
void engine_topic_free(struct topic *t);
/* Fill unset (0) fields from the engine's defaults. */
void engine_topic_apply_defaults(const struct engine *log, struct topic_config *tc);
/* Move a directory into meta/trash and remove it there. */
void engine_topic_trash_dir(struct engine *log, const char *dir);
/* Without topics.yaml: rebuild the registry from partition directories. */
int engine_topic_reconstruct(struct engine *log);
/* Remove partition directories that no registered topic owns. */
void engine_topic_remove_orphans(struct engine *log);

/* log.c */
int engine_part_dir(const struct engine *log, const char *topic, int32_t p, char *out, size_t cap);
/* Open partitions [from, to) of a topic into parts (ck may be NULL). */
int engine_open_parts(struct engine *log, const char *name, int32_t from, int32_t to,
		      struct partition **parts, const struct checkpoint *ck);
/* Write recovery-points if anything moved (or always, with force). */
int engine_write_checkpoint(struct engine *log, bool force);

#endif
