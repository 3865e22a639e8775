/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Disk headroom: statvfs() sampling of the data directory's file system
 * against log.min_free_bytes / log.min_free_percent (see diskspace.h).  A
 * failing statvfs() keeps the last state: an unreadable file system is the
 * engine's own I/O errors' business, not a reason to refuse writes.
 */
#include <inttypes.h>
#include <stdatomic.h>
#include <sys/statvfs.h>

#include "lib/clock.h"
#include "lib/err.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "lib/prom.h"
#include "store/engine/diskspace.h"

struct diskspace {
	char *dir;
	uint64_t min_bytes;
	int min_percent;
	atomic_uint_fast64_t next_check_ms;
	atomic_flag sampling;
	atomic_bool low;
	atomic_uint_fast64_t free_bytes;
	atomic_uint_fast64_t threshold;
	atomic_uint_fast64_t refused;
	atomic_uint_fast64_t transitions;
};

struct diskspace *diskspace_new(const char *dir, uint64_t min_free_bytes, int min_free_percent)
{
	struct diskspace *d = mem_calloc(1, sizeof(*d));

	if (!d)
		return NULL;
	d->dir = mem_strdup(dir);
	if (!d->dir) {
		mem_free(d);
		return NULL;
	}
	d->min_bytes = min_free_bytes;
	d->min_percent = min_free_percent;
	atomic_flag_clear(&d->sampling);
	(void)diskspace_low(d);
	return d;
}

void diskspace_free(struct diskspace *d)
{
	if (!d)
		return;
	mem_free(d->dir);
	mem_free(d);
}

static void sample(struct diskspace *d)
{
	struct statvfs sv;
	uint64_t total, avail, thr, pct;
	bool was, now;

	if (statvfs(d->dir, &sv) != 0)
		return;
	total = (uint64_t)sv.f_blocks * sv.f_frsize;
	avail = (uint64_t)sv.f_bavail * sv.f_frsize;
	pct = total / 100 * (uint64_t)d->min_percent;
	thr = d->min_bytes;
	/* the smaller of the limits that are set; none set: off */
	if (d->min_percent > 0 && (thr == 0 || pct < thr))
		thr = pct;
	atomic_store(&d->free_bytes, avail);
	atomic_store(&d->threshold, thr);
	now = thr > 0 && avail < thr;
	was = atomic_exchange(&d->low, now);
	if (was == now)
		return;
	atomic_fetch_add(&d->transitions, 1);
	if (now)
		log_warn("store: %s has %" PRIu64 " bytes free, under the headroom of %" PRIu64
			 " (log.min_free_bytes / min_free_percent): refusing writes until it is"
			 " back",
			 d->dir, avail, thr);
	else
		log_info("store: %s has %" PRIu64 " bytes free again (headroom %" PRIu64
			 "): accepting writes",
			 d->dir, avail, thr);
}

bool diskspace_low(struct diskspace *d)
{
	uint64_t now;

	if (!d)
		return false;
	now = clock_mono_ms();
	if (now >= atomic_load(&d->next_check_ms) && !atomic_flag_test_and_set(&d->sampling)) {
		atomic_store(&d->next_check_ms, now + DISKSPACE_CHECK_MS);
		sample(d);
		atomic_flag_clear(&d->sampling);
	}
	return atomic_load(&d->low);
}

void diskspace_refused(struct diskspace *d)
{
	if (d)
		atomic_fetch_add(&d->refused, 1);
}

void diskspace_render(struct buf *out, void *arg)
{
	struct diskspace *d = arg;

	(void)diskspace_low(d);
	prom_family(out, "sluice_log_disk_free_bytes", "gauge",
		    "free bytes on the data directory's file system (unprivileged)");
	prom_u64(out, "sluice_log_disk_free_bytes", NULL, atomic_load(&d->free_bytes));
	prom_family(out, "sluice_log_disk_min_free_bytes", "gauge",
		    "headroom under which writes are refused (0: off)");
	prom_u64(out, "sluice_log_disk_min_free_bytes", NULL, atomic_load(&d->threshold));
	prom_family(out, "sluice_log_disk_low", "gauge",
		    "1 while free space is under the headroom and writes are refused");
	prom_u64(out, "sluice_log_disk_low", NULL, atomic_load(&d->low) ? 1 : 0);
	prom_family(out, "sluice_log_disk_refused_batches_total", "counter",
		    "batches refused (KAFKA_STORAGE_ERROR, 503 storage_full) for lack of headroom");
	prom_u64(out, "sluice_log_disk_refused_batches_total", NULL, atomic_load(&d->refused));
	prom_family(out, "sluice_log_disk_state_changes_total", "counter",
		    "times the disk went under or back over the headroom");
	prom_u64(out, "sluice_log_disk_state_changes_total", NULL, atomic_load(&d->transitions));
}
