/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Recovery from damaged files: the torn-write test (the last batch cut at
 * every byte, or any of its bytes flipped, with and without a recovery point
 * before it: recovery keeps exactly the intact prefix), a corrupt batch in a
 * middle segment, lost or garbage index files, a recovery point that does
 * not match the data, and leftover files.
 */
#include <fcntl.h>
#include <sys/stat.h>

#include "lib/log.h"
#include "store/engine/checkpoint.h"
#include "tests/unit/enginetest.h"
#include "tests/unit/unit.h"

static char *tmp;
static char datadir[256];

static void fresh(void)
{
	tmp = unit_tmpdir();
	snprintf(datadir, sizeof(datadir), "%s/data", tmp);
}

static struct engine *open_log(void)
{
	struct engine_config c;
	struct engine *log = NULL;

	lt_config(&c, datadir, ENGINE_FSYNC_ALWAYS);
	CU_ASSERT_EQUAL_FATAL(engine_open(&c, &log), 0);
	return log;
}

static void seg_path(char *out, size_t cap, const char *topic, int64_t base, const char *ext)
{
	snprintf(out, cap, "%s/%s-0/%020lld.%s", datadir, topic, (long long)base, ext);
}

static int read_file(const char *path, struct buf *b)
{
	buf_init(b, 0);
	return fs_read_file(path, b);
}

static void write_file(const char *path, const void *p, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_EQUAL(fs_write_full(fd, p, n), 0);
	close(fd);
}

/* Replace recovery-points with one entry for t-0 (or none). */
static void set_recovery_point(const struct partition_point *pt)
{
	struct checkpoint c;
	char meta[512];

	snprintf(meta, sizeof(meta), "%s/meta", datadir);
	checkpoint_init(&c);
	if (pt)
		CU_ASSERT_EQUAL(checkpoint_add(&c, "t", 0, pt), 0);
	CU_ASSERT_EQUAL(checkpoint_save(&c, meta), 0);
	checkpoint_release(&c);
}

struct count {
	long batches;
	int64_t next_seq;
	int errors;
};

static int count_batch(const uint8_t *p, size_t n, void *arg)
{
	struct count *c = arg;
	int64_t seqs[16];
	int k = lt_seqs(p, n, seqs, 16);

	for (int i = 0; i < k; i++)
		if (seqs[i] != c->next_seq++)
			c->errors++;
	c->batches++;
	return 0;
}

/* Open, check the log holds exactly `batches` intact batches ending at
 * `end`, that recovery reported `cut` bytes, and that appends continue. */
static void expect_prefix(long batches, int64_t end, uint64_t cut)
{
	struct engine_partition_info pi;
	struct engine_stats st;
	struct count c = {0};
	struct engine *log = open_log();
	struct buf b;

	CU_ASSERT_EQUAL(engine_partition_info(log, "t", 0, &pi), 0);
	CU_ASSERT_EQUAL(pi.end, end);
	CU_ASSERT_EQUAL(lt_read_all(log, "t", 0, 0, 1 << 20, count_batch, &c), batches);
	CU_ASSERT_EQUAL(c.errors, 0);
	engine_get_stats(log, &st);
	CU_ASSERT_EQUAL(st.truncated_bytes, cut);
	buf_init(&b, 0);
	lt_batch(&b, 1000, 1, 5000, -1, -1, -1, 0);
	CU_ASSERT_EQUAL(lt_append(log, "t", 0, &b, NULL), end);
	buf_release(&b);
	engine_close(log);
}

static void test_torn_last_batch_every_byte(void)
{
	char logpath[512], idxpath[512];
	struct partition_point rp;
	struct buf full, idx;
	int64_t last_pos = 0, last_base = 0, end = 0;
	size_t last_size = 0;
	struct engine *log;
	struct buf b;

	fresh();
	log = open_log();
	buf_init(&b, 0);
	for (int i = 0; i < 6; i++) {
		lt_batch(&b, end, i == 5 ? 1 : 2, 1000 + i, -1, -1, -1, i == 5 ? 0 : 300);
		last_base = lt_append(log, "t", 0, &b, NULL);
		CU_ASSERT_EQUAL(last_base, end);
		last_size = b.len;
		end += i == 5 ? 1 : 2;
	}
	buf_release(&b);
	engine_close(log);
	seg_path(logpath, sizeof(logpath), "t", 0, "log");
	seg_path(idxpath, sizeof(idxpath), "t", 0, "index");
	CU_ASSERT_EQUAL_FATAL(read_file(logpath, &full), 0);
	CU_ASSERT_EQUAL_FATAL(read_file(idxpath, &idx), 0);
	last_pos = (int64_t)(full.len - last_size);
	rp = (struct partition_point){last_base, 0, last_pos, 1000 + 4 + 1, true};

	/* three ways to find the tail: no recovery point (validate all), a
	 * recovery point right before the last batch, and the clean-shutdown
	 * one at the end (which no longer matches the shorter file) */
	for (int variant = 0; variant < 3; variant++) {
		for (size_t k = 0; k < last_size; k++) {
			write_file(logpath, full.data, (size_t)last_pos + k);
			write_file(idxpath, idx.data, idx.len);
			if (variant == 0)
				set_recovery_point(NULL);
			else if (variant == 1)
				set_recovery_point(&rp);
			else {
				struct partition_point endp = {end, 0, (int64_t)full.len, 1005,
							       true};

				set_recovery_point(&endp);
			}
			expect_prefix(5, last_base, k);
		}
	}
	/* every flipped byte of the last batch drops it (the leader epoch is
	 * not covered by the CRC and may hold anything) */
	for (size_t k = 0; k < last_size; k++) {
		if (k >= BATCH_OFF_LEADER_EPOCH && k < BATCH_OFF_MAGIC)
			continue;
		full.data[last_pos + k] ^= 0x10;
		write_file(logpath, full.data, full.len);
		write_file(idxpath, idx.data, idx.len);
		set_recovery_point(k % 2 ? &rp : NULL);
		expect_prefix(5, last_base, last_size);
		full.data[last_pos + k] ^= 0x10;
	}
	/* and the intact file keeps everything */
	write_file(logpath, full.data, full.len);
	set_recovery_point(&rp);
	expect_prefix(6, end, 0);
	buf_release(&full);
	buf_release(&idx);
	lt_rmrf(tmp);
}

static void test_corrupt_middle_segment(void)
{
	struct engine_partition_info pi;
	struct engine *log;
	struct buf b, seg;
	char path[512];
	int64_t bases[64];
	int nseg = 0;
	struct stat st;

	fresh();
	log = open_log();
	buf_init(&b, 0);
	for (int i = 0; i < 80; i++) {
		lt_batch(&b, i, 1, 1000 + i, -1, -1, -1, 700);
		CU_ASSERT_EQUAL(lt_append(log, "t", 0, &b, NULL), i);
	}
	CU_ASSERT_EQUAL(engine_partition_info(log, "t", 0, &pi), 0);
	CU_ASSERT_FATAL(pi.segments >= 4);
	engine_close(log);
	/* find segment bases by reading offsets at segment boundaries */
	for (int64_t o = 0; o < 80 && nseg < 64; o++) {
		seg_path(path, sizeof(path), "t", o, "log");
		if (stat(path, &st) == 0)
			bases[nseg++] = o;
	}
	CU_ASSERT_FATAL(nseg >= 4);
	/* a power loss could leave garbage in the middle of the unflushed
	 * range: flip a byte in the second batch of segment 2 */
	seg_path(path, sizeof(path), "t", bases[2], "log");
	CU_ASSERT_EQUAL_FATAL(read_file(path, &seg), 0);
	{
		struct batch_info bi;

		CU_ASSERT_EQUAL(batch_next(seg.data, seg.len, &bi), 0);
		seg.data[bi.size + 100] ^= 1;
	}
	write_file(path, seg.data, seg.len);
	set_recovery_point(NULL);
	log = open_log();
	CU_ASSERT_EQUAL(engine_partition_info(log, "t", 0, &pi), 0);
	CU_ASSERT_EQUAL(pi.end, bases[2] + 1);
	CU_ASSERT_EQUAL(pi.segments, 3);
	seg_path(path, sizeof(path), "t", bases[3], "log");
	CU_ASSERT_NOT_EQUAL(stat(path, &st), 0); /* later segments removed */
	{
		struct count c = {0};

		CU_ASSERT_EQUAL(lt_read_all(log, "t", 0, 0, 1 << 20, count_batch, &c),
				bases[2] + 1);
		CU_ASSERT_EQUAL(c.errors, 0);
	}
	engine_close(log);
	buf_release(&seg);
	buf_release(&b);
	lt_rmrf(tmp);
}

/* Reads and time lookups, summarised, to compare before and after damage. */
static void fingerprint(struct engine *log, int64_t *out, size_t n)
{
	struct count c = {0};

	CU_ASSERT_EQUAL(lt_read_all(log, "t", 0, 0, 3000, count_batch, &c), 300);
	CU_ASSERT_EQUAL(c.errors, 0);
	for (size_t i = 0; i < n; i++)
		CU_ASSERT_EQUAL(engine_offset_for_time(log, "t", 0, (int64_t)i * 997, &out[i]), 0);
}

static void damage_indexes(int how)
{
	for (int64_t base = 0; base < 400; base++) {
		char path[512];
		struct stat st;

		seg_path(path, sizeof(path), "t", base, "index");
		if (stat(path, &st) != 0)
			continue;
		for (int t = 0; t < 2; t++) {
			seg_path(path, sizeof(path), "t", base, t ? "timeindex" : "index");
			if (how == 0) {
				unlink(path);
			} else if (how == 1) {
				uint8_t junk[200];

				for (size_t i = 0; i < sizeof(junk); i++)
					junk[i] = (uint8_t)(i * 37 + base * 11 + t);
				write_file(path, junk, sizeof(junk));
			} else {
				/* cut inside an entry */
				if (truncate(path, st.st_size > 5 ? st.st_size - 5 : 0) != 0)
					CU_FAIL("truncate");
			}
		}
	}
}

static void test_index_damage(void)
{
	int64_t before[300], after[300];
	struct engine *log;
	struct buf b;

	for (int how = 0; how < 3; how++) {
		for (int rp = 0; rp < 2; rp++) {
			fresh();
			log = open_log();
			buf_init(&b, 0);
			for (int i = 0; i < 300; i++) {
				/* timestamps wander so the time index matters */
				int64_t ts = 1000LL * i + (i % 10 == 3 ? 50000 : 0);

				lt_batch(&b, i, 1, ts, -1, -1, -1, (size_t)(i % 4) * 100);
				CU_ASSERT_EQUAL(lt_append(log, "t", 0, &b, NULL), i);
			}
			buf_release(&b);
			fingerprint(log, before, 300);
			engine_close(log);
			damage_indexes(how);
			if (rp == 0)
				set_recovery_point(NULL); /* validate everything too */
			log = open_log();
			fingerprint(log, after, 300);
			CU_ASSERT(memcmp(before, after, sizeof(before)) == 0);
			engine_close(log);
			/* and the rebuilt files are good for the next open */
			log = open_log();
			fingerprint(log, after, 300);
			CU_ASSERT(memcmp(before, after, sizeof(before)) == 0);
			engine_close(log);
			lt_rmrf(tmp);
		}
	}
}

static void test_mismatched_recovery_point_and_leftovers(void)
{
	struct engine_partition_info pi;
	struct partition_point rp;
	struct engine *log;
	struct buf b;
	char path[512];
	struct stat st;
	struct count c = {0};

	fresh();
	log = open_log();
	buf_init(&b, 0);
	for (int i = 0; i < 10; i++) {
		lt_batch(&b, i, 1, 1000 + i, 5, 0, i, 100);
		CU_ASSERT_EQUAL(lt_append(log, "t", 0, &b, NULL), i);
	}
	engine_close(log);
	/* a recovery point in the middle of a batch: validate it all instead */
	rp = (struct partition_point){3, 0, 17, 0, true};
	set_recovery_point(&rp);
	/* leftovers: a temp file, an index whose log is gone, a snapshot
	 * beyond the end (it would claim batches that are not there) */
	snprintf(path, sizeof(path), "%s/t-0/00000000000000000000.log.tmp", datadir);
	write_file(path, "x", 1);
	seg_path(path, sizeof(path), "t", 500, "index");
	write_file(path, "12345678", 8);
	{
		char snap[512];
		struct buf sb;

		seg_path(snap, sizeof(snap), "t", 10, "snapshot");
		CU_ASSERT_EQUAL(read_file(snap, &sb), 0);
		seg_path(path, sizeof(path), "t", 20, "snapshot");
		write_file(path, sb.data, sb.len);
		buf_release(&sb);
	}
	log = open_log();
	CU_ASSERT_EQUAL(engine_partition_info(log, "t", 0, &pi), 0);
	CU_ASSERT_EQUAL(pi.end, 10);
	CU_ASSERT_EQUAL(lt_read_all(log, "t", 0, 0, 1 << 20, count_batch, &c), 10);
	seg_path(path, sizeof(path), "t", 500, "index");
	CU_ASSERT_NOT_EQUAL(stat(path, &st), 0);
	seg_path(path, sizeof(path), "t", 20, "snapshot");
	CU_ASSERT_NOT_EQUAL(stat(path, &st), 0);
	snprintf(path, sizeof(path), "%s/t-0/00000000000000000000.log.tmp", datadir);
	CU_ASSERT_NOT_EQUAL(stat(path, &st), 0);
	/* the producer state came from the right snapshot */
	{
		struct engine_append_result r;

		lt_batch(&b, 9, 1, 1009, 5, 0, 9, 100);
		CU_ASSERT_EQUAL(engine_append(log, "t", 0, b.data, b.len, &r), 0);
		CU_ASSERT(r.duplicate);
		CU_ASSERT_EQUAL(r.base_offset, 9);
		lt_batch(&b, 10, 1, 1010, 5, 0, 10, 100);
		CU_ASSERT_EQUAL(engine_append(log, "t", 0, b.data, b.len, &r), 0);
		CU_ASSERT_FALSE(r.duplicate);
	}
	buf_release(&b);
	engine_close(log);
	lt_rmrf(tmp);
}

int main(void)
{
	static const struct unit_test tests[] = {
		UNIT_TEST(test_torn_last_batch_every_byte),
		UNIT_TEST(test_corrupt_middle_segment),
		UNIT_TEST(test_index_damage),
		UNIT_TEST(test_mismatched_recovery_point_and_leftovers),
		UNIT_END,
	};

	log_set_level(LOG_LVL_ERROR);
	return unit_run("recovery", tests);
}
