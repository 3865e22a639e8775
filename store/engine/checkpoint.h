/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The engine's small checkpoint files under data_dir/meta/, both replaced
 * atomically (lib/fs fs_write_atomic) and protected by a CRC-32C line:
 *
 *   recovery-points   per partition, the durable point recovery may trust
 *   producer-ids      the first producer id not yet handed out
 *
 * and per partition <topic>-<p>/log-start-offset (DeleteRecords' log start).
 *
 * docs/FORMATS.md has the text formats.  struct checkpoint is a plain table
 * of recovery points; not thread-safe (the engine serializes writers).
 */
#ifndef SLUICE_STORE_CHECKPOINT_H
#define SLUICE_STORE_CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>

#include "store/engine/partition.h"

struct checkpoint_entry {
	char *topic;
	int32_t partition;
	struct partition_point pt;
};

struct checkpoint {
	struct checkpoint_entry *v;
	size_t n, cap;
};

void checkpoint_init(struct checkpoint *c);
void checkpoint_release(struct checkpoint *c);
/* Copies topic.  0 or -ENOMEM. */
int checkpoint_add(struct checkpoint *c, const char *topic, int32_t partition,
		   const struct partition_point *pt);
/* NULL when absent. */
const struct partition_point *checkpoint_find(const struct checkpoint *c, const char *topic,
					      int32_t partition);

/* Load meta_dir/recovery-points into an empty table: 0 (a missing file is
 * an empty table), -ERR_CORRUPT (the caller validates everything then) or
 * -errno. */
int checkpoint_load(struct checkpoint *c, const char *meta_dir);
int checkpoint_save(const struct checkpoint *c, const char *meta_dir);

/* meta_dir/producer-ids: 0 and *next, -ENOENT, -ERR_CORRUPT or -errno. */
int checkpoint_load_pid(const char *meta_dir, int64_t *next);
int checkpoint_save_pid(const char *meta_dir, int64_t next);

/* part_dir/log-start-offset, the durable log start offset DeleteRecords set:
 * 0 and *offset, -ENOENT (never set), -ERR_CORRUPT or -errno.  Saving
 * replaces it atomically (fsynced file and directory). */
int checkpoint_load_log_start(const char *part_dir, int64_t *offset);
int checkpoint_save_log_start(const char *part_dir, int64_t offset);

#endif
