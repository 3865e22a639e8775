/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Disk headroom of the data directory (log.min_free_bytes and
 * log.min_free_percent).  The threshold is the smaller of the limits that are
 * not 0 (a percentage of the file system's size; both 0: off); below it the engine refuses new
 * batches with -ENOSPC (Kafka KAFKA_STORAGE_ERROR, HTTP 503 storage_full),
 * which producers retry, before the disk is actually full, so reads, offset
 * commits, checkpoints and recovery, which need little or no space, keep
 * working.  Free space comes from statvfs() on the data directory, sampled at
 * most every DISKSPACE_CHECK_MS by whichever thread asks; every change of
 * state is logged once.
 *
 * Threading: every function is thread-safe (atomics; one sampler at a time).
 */
#ifndef SLUICE_STORE_ENGINE_DISKSPACE_H
#define SLUICE_STORE_ENGINE_DISKSPACE_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/buf.h"

#define DISKSPACE_CHECK_MS 250

struct diskspace;

/* dir is copied.  NULL on -ENOMEM. */
struct diskspace *diskspace_new(const char *dir, uint64_t min_free_bytes, int min_free_percent);
void diskspace_free(struct diskspace *d);
/* True while free space is under the threshold (samples when the last
 * sample is older than DISKSPACE_CHECK_MS).  NULL: false. */
bool diskspace_low(struct diskspace *d);
/* Count a write refused because the disk is low. */
void diskspace_refused(struct diskspace *d);
/* Prometheus families sluice_log_disk_*: a prom_render_fn (arg: d). */
void diskspace_render(struct buf *out, void *arg);

#endif
