/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A failing fsync, for real: the log lives on an ext4 image (no journal,
 * errors=continue) loop-mounted from a sparse 64 MiB file on a 12 MiB tmpfs.
 * Writes land in the page cache and succeed; writeback runs the tmpfs out of
 * space, so the loop device fails the writes and fdatasync() returns an
 * error, as a failing disk would.  With fsync "always" the engine must then
 * answer the waiting producer with -ERR_STORAGE, keep every acknowledged
 * batch readable, truncate the unacknowledged tail, skip its offsets, and
 * resume once space is freed; after a reopen the log holds exactly the
 * acknowledged batches.  Needs root and loop devices; skips loudly without.
 */
#include <sys/mount.h>
#include <sys/stat.h>

#include "lib/log.h"
#include "tests/unit/enginetest.h"
#include "tests/unit/unit.h"

static char base[128];
static char back[160], mnt[160], filler[200];
static bool tmpfs_up, loop_up;

static void cleanup(void)
{
	char cmd[512];

	if (loop_up) {
		snprintf(cmd, sizeof(cmd), "umount %s 2>/dev/null", mnt);
		if (system(cmd) != 0)
			umount2(mnt, MNT_DETACH);
		loop_up = false;
	}
	if (tmpfs_up) {
		umount2(back, MNT_DETACH);
		tmpfs_up = false;
	}
	if (base[0]) {
		rmdir(mnt);
		rmdir(back);
		rmdir(base);
	}
}

static int setup(void)
{
	char cmd[1024];
	FILE *f;

	snprintf(base, sizeof(base), "/tmp/sluice-eio-XXXXXX");
	if (!mkdtemp(base))
		return -1;
	atexit(cleanup);
	snprintf(back, sizeof(back), "%s/back", base);
	snprintf(mnt, sizeof(mnt), "%s/mnt", base);
	snprintf(filler, sizeof(filler), "%s/filler", back);
	if (mkdir(back, 0755) != 0 || mkdir(mnt, 0755) != 0)
		return -1;
	if (mount("tmpfs", back, "tmpfs", 0, "size=12m") != 0)
		return -1;
	tmpfs_up = true;
	/* 3 MiB to give back later */
	f = fopen(filler, "w");
	if (!f)
		return -1;
	for (int i = 0; i < 3 * 256; i++) {
		char blk[4096];

		memset(blk, 'f', sizeof(blk));
		fwrite(blk, 1, sizeof(blk), f);
	}
	fclose(f);
	snprintf(cmd, sizeof(cmd),
		 "truncate -s 64M %s/img && mkfs.ext4 -q -F -O ^has_journal -E lazy_itable_init=0 "
		 "%s/img >/dev/null 2>&1 && mount -o loop,errors=continue %s/img %s",
		 back, back, back, mnt);
	if (system(cmd) != 0)
		return -1;
	loop_up = true;
	return 0;
}

struct count {
	long batches;
	int64_t next_off;
	int errors;
	const int64_t *acked; /* offset -> batch number, -1 */
	size_t nacked;
};

static int count_batch(const uint8_t *p, size_t n, void *arg)
{
	struct count *c = arg;
	struct batch_info bi;
	int64_t seq = -1;

	batch_header_parse(p, n, &bi);
	if (lt_seqs(p, n, &seq, 1) != 1 || bi.base_offset < c->next_off)
		c->errors++;
	/* every batch on disk is one that was acknowledged, at its offset */
	if (bi.base_offset >= (int64_t)c->nacked || c->acked[bi.base_offset] != seq)
		c->errors++;
	c->next_off = batch_last_offset(&bi) + 1;
	c->batches++;
	return 0;
}

static void test_fsync_failure(void)
{
	static int64_t acked[100000]; /* offset -> seq of the batch acknowledged there */
	struct engine_config c;
	struct engine_stats st;
	struct engine_partition_info pi;
	struct engine *log = NULL;
	struct buf b;
	char dir[256];
	int64_t seq = 0, nacked = 0, failed_at = -1;
	int storage_errors = 0;

	if (setup() < 0) {
		fprintf(stderr,
			"\n  *** SKIPPED: cannot build a failing disk here (need root, tmpfs, "
			"loop devices and mkfs.ext4); the fsync-failure test did not run ***\n");
		return;
	}
	memset(acked, 0xff, sizeof(acked));
	snprintf(dir, sizeof(dir), "%s/data", mnt);
	lt_config(&c, dir, ENGINE_FSYNC_ALWAYS);
	c.defaults.segment_bytes = 1 << 20;
	CU_ASSERT_EQUAL(engine_open(&c, &log), 0);
	if (!log)
		return;
	buf_init(&b, 0);
	/* write until the disk fails an fsync, then a few more times */
	for (int i = 0; i < 400 && storage_errors < 3; i++, seq++) {
		struct engine_append_result r;
		int rc;

		lt_batch(&b, seq, 1, 1000 + seq, -1, -1, -1, 60000);
		rc = engine_append(log, "t", 0, b.data, b.len, &r);
		if (rc == 0)
			rc = engine_wait_visible(log, "t", 0, r.last_offset, 10000);
		if (rc == 0) {
			CU_ASSERT(r.base_offset < 100000);
			acked[r.base_offset] = seq;
			nacked = r.base_offset + 1;
			continue;
		}
		CU_ASSERT_EQUAL(rc, -ERR_STORAGE);
		if (failed_at < 0)
			failed_at = seq;
		storage_errors++;
	}
	engine_get_stats(log, &st);
	printf("\n  %lld batches acknowledged, first storage error at batch %lld; %llu fsync errors; "
	       "last error: %s\n",
	       (long long)nacked, (long long)failed_at, (unsigned long long)st.fsync_errors,
	       st.last_error);
	CU_ASSERT(failed_at > 10);
	CU_ASSERT(st.fsync_errors >= 1);
	CU_ASSERT_FALSE(st.writable);
	/* nothing unacknowledged is visible; everything acknowledged reads back */
	CU_ASSERT_EQUAL(engine_partition_info(log, "t", 0, &pi), 0);
	CU_ASSERT_EQUAL(pi.visible, pi.durable);
	{
		struct count cnt = {0, 0, 0, acked, 100000};

		CU_ASSERT(lt_read_all(log, "t", 0, 0, 1 << 20, count_batch, &cnt) > 10);
		CU_ASSERT_EQUAL(cnt.errors, 0);
	}

	/* space comes back: appends resume, after the failed offsets */
	CU_ASSERT_EQUAL(unlink(filler), 0);
	for (int i = 0; i < 10; i++, seq++) {
		struct engine_append_result r;
		int rc;

		lt_batch(&b, seq, 1, 1000 + seq, -1, -1, -1, 1000);
		rc = engine_append(log, "t", 0, b.data, b.len, &r);
		if (rc == 0)
			rc = engine_wait_visible(log, "t", 0, r.last_offset, 10000);
		CU_ASSERT_EQUAL(rc, 0);
		if (rc < 0)
			break;
		CU_ASSERT(r.base_offset >= nacked);
		acked[r.base_offset] = seq;
		nacked = r.base_offset + 1;
	}
	engine_get_stats(log, &st);
	CU_ASSERT(st.writable);
	engine_close(log);
	log = NULL;

	/* after a reopen: exactly the acknowledged batches */
	CU_ASSERT_EQUAL(engine_open(&c, &log), 0);
	if (log) {
		struct count cnt = {0, 0, 0, acked, 100000};
		long n = lt_read_all(log, "t", 0, 0, 1 << 20, count_batch, &cnt);
		long want = 0;

		for (int64_t o = 0; o < nacked; o++)
			want += acked[o] >= 0;
		CU_ASSERT_EQUAL(n, want);
		CU_ASSERT_EQUAL(cnt.errors, 0);
		engine_close(log);
	}
	buf_release(&b);
	cleanup();
}

int main(void)
{
	static const struct unit_test tests[] = {
		UNIT_TEST(test_fsync_failure),
		UNIT_END,
	};

	log_set_level(LOG_LVL_ERROR);
	return unit_run("log_eio", tests);
}
