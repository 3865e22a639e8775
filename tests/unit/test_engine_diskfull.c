/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Disk full: the log on a 2 MiB tmpfs (mounted here as root; a loop-mounted
 * ext4 image when tmpfs mounts are refused; a loud skip when neither works).
 * Appends run into ENOSPC and must fail cleanly with -ERR_STORAGE and leave
 * no partial batch, stats must say the log is not writable, everything
 * acknowledged stays readable, and appends resume once space is freed, at
 * the next offset (no hole), surviving a reopen.
 */
#include <sys/mount.h>
#include <sys/stat.h>

#include "lib/log.h"
#include "tests/unit/enginetest.h"
#include "tests/unit/unit.h"

static char mnt[128];
static char image[160];
static bool mounted, looped;

static void cleanup(void)
{
	if (mounted) {
		if (looped) {
			char cmd[256];

			snprintf(cmd, sizeof(cmd), "umount %s 2>/dev/null", mnt);
			if (system(cmd) != 0)
				umount2(mnt, MNT_DETACH);
		} else {
			umount2(mnt, MNT_DETACH);
		}
		mounted = false;
	}
	if (image[0])
		unlink(image);
	if (mnt[0])
		rmdir(mnt);
}

/* 0: mounted; -1: no way to get a small file system here. */
static int mount_small_fs(void)
{
	char cmd[1024];

	snprintf(mnt, sizeof(mnt), "/tmp/sluice-full-XXXXXX");
	if (!mkdtemp(mnt))
		return -1;
	atexit(cleanup);
	if (mount("tmpfs", mnt, "tmpfs", 0, "size=2m") == 0) {
		mounted = true;
		printf("\n  tmpfs of 2 MiB on %s\n", mnt);
		return 0;
	}
	fprintf(stderr, "\n  tmpfs mount refused (%s); trying a loop-mounted ext4 image\n",
		err_str(-errno));
	snprintf(image, sizeof(image), "%s.img", mnt);
	snprintf(cmd, sizeof(cmd),
		 "fallocate -l 4M %s && mkfs.ext4 -q -F %s >/dev/null 2>&1 && "
		 "mount -o loop %s %s",
		 image, image, image, mnt);
	if (system(cmd) == 0) {
		mounted = looped = true;
		printf("  ext4 loop image of 4 MiB on %s\n", mnt);
		return 0;
	}
	return -1;
}

struct count {
	long batches;
	int64_t next_seq;
	int errors;
};

static int count_batch(const uint8_t *p, size_t n, void *arg)
{
	struct count *c = arg;
	int64_t seq = -1;

	if (lt_seqs(p, n, &seq, 1) != 1 || seq != c->next_seq)
		c->errors++;
	c->next_seq = seq + 1;
	c->batches++;
	return 0;
}

static void test_disk_full(void)
{
	struct engine_config c;
	struct engine_stats st;
	struct engine_partition_info pi;
	struct engine_append_result r;
	struct engine *log = NULL;
	struct count cnt = {0};
	char dir[256], filler[256];
	struct buf b;
	int64_t acked = 0;
	int rc = 0, failures = 0;

	if (mount_small_fs() < 0) {
		fprintf(stderr, "\n  *** SKIPPED: cannot mount a small file system here (need root "
				"and tmpfs or loop devices); the disk-full test did not run ***\n");
		return;
	}
	snprintf(dir, sizeof(dir), "%s/data", mnt);
	snprintf(filler, sizeof(filler), "%s/filler", mnt);
	/* room to give back later */
	{
		FILE *f = fopen(filler, "w");
		char blk[4096];

		memset(blk, 'f', sizeof(blk));
		for (int i = 0; f && i < 96; i++)
			fwrite(blk, 1, sizeof(blk), f);
		if (f)
			fclose(f);
	}
	lt_config(&c, dir, ENGINE_FSYNC_ALWAYS);
	c.defaults.segment_bytes = 256 * 1024;
	CU_ASSERT_EQUAL(engine_open(&c, &log), 0);
	if (!log)
		return;
	buf_init(&b, 0);
	/* fill the disk */
	for (int i = 0; i < 1000 && failures < 20; i++) {
		lt_batch(&b, acked, 1, 1000 + acked, -1, -1, -1, 7000 + (size_t)(i % 3) * 1000);
		rc = engine_append(log, "t", 0, b.data, b.len, &r);
		if (rc == 0) {
			CU_ASSERT_EQUAL(r.base_offset, acked);
			CU_ASSERT_EQUAL(engine_wait_visible(log, "t", 0, r.last_offset, 5000), 0);
			acked++;
			continue;
		}
		CU_ASSERT_EQUAL(rc, -ERR_STORAGE);
		failures++;
	}
	CU_ASSERT(failures >= 20);
	CU_ASSERT(acked > 50);
	engine_get_stats(log, &st);
	CU_ASSERT_FALSE(st.writable);
	CU_ASSERT(strstr(st.last_error, "No space") != NULL ||
		  strstr(st.last_error, "space") != NULL);
	printf("  %lld batches acknowledged before the disk filled; last error: %s\n",
	       (long long)acked, st.last_error);
	/* what was acknowledged reads back whole, nothing more, no hole */
	CU_ASSERT_EQUAL(engine_partition_info(log, "t", 0, &pi), 0);
	CU_ASSERT_EQUAL(pi.end, acked);
	CU_ASSERT_EQUAL(pi.visible, acked);
	CU_ASSERT_EQUAL(lt_read_all(log, "t", 0, 0, 100000, count_batch, &cnt), acked);
	CU_ASSERT_EQUAL(cnt.errors, 0);

	/* space comes back: appends resume at the next offset */
	CU_ASSERT_EQUAL(unlink(filler), 0);
	for (int i = 0; i < 20; i++) {
		lt_batch(&b, acked, 1, 1000 + acked, -1, -1, -1, 7000);
		rc = engine_append(log, "t", 0, b.data, b.len, &r);
		CU_ASSERT_EQUAL(rc, 0);
		if (rc < 0)
			break;
		CU_ASSERT_EQUAL(r.base_offset, acked);
		CU_ASSERT_EQUAL(engine_wait_visible(log, "t", 0, r.last_offset, 5000), 0);
		acked++;
	}
	engine_get_stats(log, &st);
	CU_ASSERT(st.writable);
	engine_close(log);
	log = NULL;
	/* and all of it survives a reopen */
	CU_ASSERT_EQUAL(engine_open(&c, &log), 0);
	if (log) {
		memset(&cnt, 0, sizeof(cnt));
		CU_ASSERT_EQUAL(lt_read_all(log, "t", 0, 0, 100000, count_batch, &cnt), acked);
		CU_ASSERT_EQUAL(cnt.errors, 0);
		engine_close(log);
	}
	buf_release(&b);
	cleanup();
}

int main(void)
{
	static const struct unit_test tests[] = {
		UNIT_TEST(test_disk_full),
		UNIT_END,
	};

	log_set_level(LOG_LVL_ERROR);
	return unit_run("log_diskfull", tests);
}
