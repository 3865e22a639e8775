/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The log engine through its public contract (store/engine/engine.h): topics and their
 * persistence, appends and reads across segment rolls, slices, time lookups,
 * retention, idempotence across reopen, visibility in each fsync mode,
 * waiting and the listener, producer ids, concurrent appenders.  Recovery
 * from damaged files is in test_recovery.c, crashes in test_log_crash.c.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <sys/stat.h>

#include "lib/clock.h"
#include "lib/log.h"
#include "tests/unit/enginetest.h"
#include "tests/unit/unit.h"

static char *tmp;
static char datadir[256];

static void fresh(void)
{
	tmp = unit_tmpdir();
	snprintf(datadir, sizeof(datadir), "%s/data", tmp);
}

static struct engine *open_log(enum engine_fsync mode)
{
	struct engine_config c;
	struct engine *log = NULL;

	lt_config(&c, datadir, mode);
	CU_ASSERT_EQUAL_FATAL(engine_open(&c, &log), 0);
	return log;
}

static void test_topics_persist(void)
{
	struct topic_config tc, got;
	struct engine_topic_alter a;
	struct engine *log;
	char **names;
	size_t n;
	char path[512];
	struct stat st;
	struct engine_config c, def;

	fresh();
	lt_config(&c, datadir, ENGINE_FSYNC_ALWAYS);
	engine_config_init(&def); /* the engine's own default retention, not lt_config's */
	c.defaults.retention_ms = def.defaults.retention_ms;
	CU_ASSERT_EQUAL_FATAL(engine_open(&c, &log), 0);
	memset(&tc, 0, sizeof(tc));
	tc.partitions = 3;
	tc.retention_ms = 1234567;
	CU_ASSERT_EQUAL(engine_topic_create(log, "zeta", &tc), 0);
	CU_ASSERT_EQUAL(engine_topic_create(log, "zeta", &tc), -ERR_EXISTS);
	CU_ASSERT_EQUAL(engine_topic_create(log, "bad/name", &tc), -ERR_INVALID);
	tc.partitions = 0;
	tc.retention_ms = 0;
	CU_ASSERT_EQUAL(engine_topic_create(log, "alpha", &tc), 0);
	tc.partitions = -3;
	CU_ASSERT_EQUAL(engine_topic_create(log, "neg", &tc), -ERR_INVALID);
	CU_ASSERT_EQUAL(engine_topic_ensure(log, "auto"), 1);
	CU_ASSERT_EQUAL(engine_topic_ensure(log, "zeta"), 3);
	CU_ASSERT_EQUAL(engine_topic_ensure(log, "x y"), -ERR_INVALID);
	CU_ASSERT_EQUAL(engine_topic_config(log, "alpha", &got), 0);
	CU_ASSERT_EQUAL(got.partitions, 1);
	CU_ASSERT_EQUAL(got.retention_ms, 7LL * 24 * 3600 * 1000);
	CU_ASSERT_EQUAL(got.segment_bytes, 16384);
	memset(&a, 0, sizeof(a));
	a.partitions = 2;
	CU_ASSERT_EQUAL(engine_topic_alter(log, "zeta", &a), -ERR_INVALID); /* cannot shrink */
	a.partitions = 5;
	a.set_retention_bytes = true;
	a.retention_bytes = 99999;
	CU_ASSERT_EQUAL(engine_topic_alter(log, "zeta", &a), 0);
	CU_ASSERT_EQUAL(engine_topic_alter(log, "nope", &a), -ERR_NOT_FOUND);
	CU_ASSERT_EQUAL(engine_topic_list(log, &names, &n), 0);
	CU_ASSERT_EQUAL_FATAL(n, 3);
	CU_ASSERT_STRING_EQUAL(names[0], "alpha");
	CU_ASSERT_STRING_EQUAL(names[1], "auto");
	CU_ASSERT_STRING_EQUAL(names[2], "zeta");
	engine_names_free(names, n);
	CU_ASSERT_EQUAL(engine_topic_delete(log, "auto"), 0);
	CU_ASSERT_EQUAL(engine_topic_delete(log, "auto"), -ERR_NOT_FOUND);
	snprintf(path, sizeof(path), "%s/auto-0", datadir);
	CU_ASSERT_NOT_EQUAL(stat(path, &st), 0);
	engine_close(log);

	/* everything as it was after a reopen */
	log = open_log(ENGINE_FSYNC_ALWAYS);
	CU_ASSERT_EQUAL(engine_topic_config(log, "zeta", &got), 0);
	CU_ASSERT_EQUAL(got.partitions, 5);
	CU_ASSERT_EQUAL(got.retention_ms, 1234567);
	CU_ASSERT_EQUAL(got.retention_bytes, 99999);
	CU_ASSERT_EQUAL(engine_topic_config(log, "auto", &got), -ERR_NOT_FOUND);
	{
		struct engine_partition_info pi;

		CU_ASSERT_EQUAL(engine_partition_info(log, "zeta", 4, &pi), 0);
		CU_ASSERT_EQUAL(engine_partition_info(log, "zeta", 5, &pi), -ERR_NOT_FOUND);
		CU_ASSERT_EQUAL(pi.end, 0);
		CU_ASSERT_EQUAL(pi.segments, 1);
		CU_ASSERT_EQUAL(pi.first_timestamp, -1);
	}
	engine_close(log);
	lt_rmrf(tmp);
}

static void test_auto_create_off(void)
{
	struct engine_config c;
	struct engine *log;
	struct buf b;
	struct engine_append_result r;

	fresh();
	lt_config(&c, datadir, ENGINE_FSYNC_ALWAYS);
	c.auto_create = false;
	CU_ASSERT_EQUAL_FATAL(engine_open(&c, &log), 0);
	buf_init(&b, 0);
	lt_batch(&b, 0, 1, 1000, -1, -1, -1, 0);
	CU_ASSERT_EQUAL(engine_topic_ensure(log, "t"), -ERR_NOT_FOUND);
	CU_ASSERT_EQUAL(engine_append(log, "t", 0, b.data, b.len, &r), -ERR_NOT_FOUND);
	buf_release(&b);
	engine_close(log);
	lt_rmrf(tmp);
}

/* Read-back state: every seq seen once, in order. */
struct seen {
	int64_t next_seq;
	int64_t next_off;
	int errors;
};

static int check_batch(const uint8_t *p, size_t n, void *arg)
{
	struct seen *s = arg;
	int64_t seqs[64];
	struct batch_info bi;
	int k;

	batch_header_parse(p, n, &bi);
	if (bi.base_offset != s->next_off)
		s->errors++;
	k = lt_seqs(p, n, seqs, 64);
	for (int i = 0; i < k && i < 64; i++)
		if (seqs[i] != s->next_seq++)
			s->errors++;
	s->next_off = batch_last_offset(&bi) + 1;
	return 0;
}

static int64_t fill(struct engine *log, const char *topic, int nbatches, int64_t ts0)
{
	struct buf b;
	int64_t seq = 0;

	buf_init(&b, 0);
	for (int i = 0; i < nbatches; i++) {
		int n = 1 + i % 5;

		CU_ASSERT_EQUAL(
			lt_batch(&b, seq, n, ts0 + i * 1000, -1, -1, -1, (size_t)(i % 7) * 100), 0);
		CU_ASSERT_EQUAL(lt_append(log, topic, 0, &b, NULL), seq);
		seq += n;
	}
	buf_release(&b);
	return seq;
}

static void test_append_read_across_segments(void)
{
	struct engine_partition_info pi;
	struct engine_slice s;
	struct engine *log;
	struct seen sn;
	int64_t total;
	static const size_t maxes[] = {1, 700, 5000, 1 << 20};
	/* recent: records older than the default retention (7 d) would be
	 * deleted by the first retention pass, a second after open */
	const int64_t ts0 = clock_wall_ms() - 3600000;

	fresh();
	log = open_log(ENGINE_FSYNC_ALWAYS);
	total = fill(log, "t", 300, ts0);
	CU_ASSERT_EQUAL(engine_partition_info(log, "t", 0, &pi), 0);
	CU_ASSERT_EQUAL(pi.end, total);
	CU_ASSERT_EQUAL(pi.visible, total);
	CU_ASSERT_EQUAL(pi.durable, total);
	CU_ASSERT_EQUAL(pi.log_start, 0);
	CU_ASSERT(pi.segments > 5);
	CU_ASSERT_EQUAL(pi.first_timestamp, ts0);
	CU_ASSERT_EQUAL(pi.last_timestamp, ts0 + 299 * 1000 + 4);
	for (size_t m = 0; m < 4; m++) {
		memset(&sn, 0, sizeof(sn));
		CU_ASSERT_EQUAL(lt_read_all(log, "t", 0, 0, maxes[m], check_batch, &sn), 300);
		CU_ASSERT_EQUAL(sn.errors, 0);
		CU_ASSERT_EQUAL(sn.next_seq, total);
	}
	/* every offset starts its read at the batch holding it */
	for (int64_t off = 0; off < total; off++) {
		struct batch_info bi;
		uint8_t h[BATCH_HEADER_SIZE];

		CU_ASSERT_EQUAL_FATAL(engine_read(log, "t", 0, off, 1, &s), 0);
		CU_ASSERT(s.len >= BATCH_HEADER_SIZE);
		CU_ASSERT_EQUAL(pread(s.fd, h, sizeof(h), s.pos), (ssize_t)sizeof(h));
		CU_ASSERT_EQUAL(batch_header_parse(h, sizeof(h), &bi), 0);
		CU_ASSERT(bi.base_offset <= off && batch_last_offset(&bi) >= off);
		CU_ASSERT_EQUAL(s.first_offset, bi.base_offset);
		CU_ASSERT_EQUAL(s.len, bi.size); /* max_bytes 1: exactly one whole batch */
		CU_ASSERT_EQUAL(s.high_watermark, total);
		engine_slice_release(&s);
	}
	CU_ASSERT_EQUAL(engine_read(log, "t", 0, total, 100, &s), 0);
	CU_ASSERT_EQUAL(s.len, 0);
	engine_slice_release(&s);
	CU_ASSERT_EQUAL(engine_read(log, "t", 0, total + 1, 100, &s), -ERR_OUT_OF_RANGE);
	CU_ASSERT_EQUAL(engine_read(log, "t", 0, -1, 100, &s), -ERR_OUT_OF_RANGE);
	CU_ASSERT_EQUAL(engine_read(log, "t", 1, 0, 100, &s), -ERR_NOT_FOUND);
	CU_ASSERT_EQUAL(engine_read(log, "nope", 0, 0, 100, &s), -ERR_NOT_FOUND);
	engine_close(log);

	/* a clean reopen: same offsets, same data, appends continue */
	log = open_log(ENGINE_FSYNC_ALWAYS);
	CU_ASSERT_EQUAL(engine_partition_info(log, "t", 0, &pi), 0);
	CU_ASSERT_EQUAL(pi.end, total);
	memset(&sn, 0, sizeof(sn));
	CU_ASSERT_EQUAL(lt_read_all(log, "t", 0, 0, 3000, check_batch, &sn), 300);
	CU_ASSERT_EQUAL(sn.errors, 0);
	{
		struct buf b;

		buf_init(&b, 0);
		lt_batch(&b, total, 2, 1800000000000, -1, -1, -1, 0);
		CU_ASSERT_EQUAL(lt_append(log, "t", 0, &b, NULL), total);
		buf_release(&b);
	}
	engine_close(log);
	lt_rmrf(tmp);
}

static void test_batch_limits(void)
{
	struct topic_config tc;
	struct engine_append_result r;
	struct engine *log;
	struct buf b;
	struct engine_slice s;

	fresh();
	log = open_log(ENGINE_FSYNC_NEVER);
	memset(&tc, 0, sizeof(tc));
	tc.max_batch_bytes = 2000;
	CU_ASSERT_EQUAL(engine_topic_create(log, "small", &tc), 0);
	buf_init(&b, 0);
	lt_batch(&b, 0, 3, 1000, -1, -1, -1, 1000);
	CU_ASSERT_EQUAL(engine_append(log, "small", 0, b.data, b.len, &r), -ERR_TOO_LARGE);
	/* a batch larger than a segment gets a segment of its own */
	lt_batch(&b, 0, 5, 1000, -1, -1, -1, 4000);
	CU_ASSERT(b.len > 16384);
	CU_ASSERT_EQUAL(engine_append(log, "big", 0, b.data, b.len, &r), 0);
	CU_ASSERT_EQUAL(engine_append(log, "big", 0, b.data, b.len, &r), 0);
	CU_ASSERT_EQUAL(r.base_offset, 5);
	CU_ASSERT_EQUAL(engine_read(log, "big", 0, 0, 10, &s), 0);
	CU_ASSERT_EQUAL(s.len, b.len); /* at least one whole batch, however small max_bytes */
	engine_slice_release(&s);
	CU_ASSERT_EQUAL(engine_read(log, "big", 0, 0, 1 << 30, &s), 0);
	CU_ASSERT_EQUAL(s.len, b.len); /* never across a segment boundary */
	engine_slice_release(&s);
	/* a batch whose length field lies is refused */
	b.data[BATCH_OFF_LENGTH + 3] ^= 1;
	CU_ASSERT_EQUAL(engine_append(log, "big", 0, b.data, b.len, &r), -ERR_CORRUPT);
	buf_release(&b);
	engine_close(log);
	lt_rmrf(tmp);
}

static void test_offset_for_time(void)
{
	struct engine *log;
	struct buf b;
	int64_t off, base[200];

	fresh();
	log = open_log(ENGINE_FSYNC_NEVER);
	buf_init(&b, 0);
	/* batch i holds 2 records at 10000*i and 10000*i + 1, except a few
	 * batches with late timestamps, so the max is not monotonic */
	for (int i = 0; i < 200; i++) {
		int64_t ts = i % 37 == 5 ? 10000LL * (i + 20) : 10000LL * i;

		lt_batch(&b, 2 * i, 2, ts, -1, -1, -1, 150);
		base[i] = lt_append(log, "t", 0, &b, NULL);
		CU_ASSERT_EQUAL(base[i], 2 * i);
	}
	for (int64_t t = 0; t < 10000LL * 225; t += 2500) {
		int64_t want = 400;

		/* brute force: first batch whose max timestamp >= t */
		for (int i = 0; i < 200; i++) {
			int64_t mx = (i % 37 == 5 ? 10000LL * (i + 20) : 10000LL * i) + 1;

			if (mx >= t) {
				want = base[i];
				break;
			}
		}
		CU_ASSERT_EQUAL(engine_offset_for_time(log, "t", 0, t, &off), 0);
		if (off != want)
			fprintf(stderr, "time %lld: got %lld want %lld\n", (long long)t,
				(long long)off, (long long)want);
		CU_ASSERT_EQUAL(off, want);
	}
	CU_ASSERT_EQUAL(engine_offset_for_time(log, "t", 0, -1, &off), 0);
	CU_ASSERT_EQUAL(off, 400);
	CU_ASSERT_EQUAL(engine_offset_for_time(log, "t", 0, -2, &off), 0);
	CU_ASSERT_EQUAL(off, 0);
	CU_ASSERT_EQUAL(engine_offset_for_time(log, "t", 0, -3, &off), -ERR_INVALID);
	engine_close(log);
	/* the same answers from sealed segments' mapped indexes after reopen */
	log = open_log(ENGINE_FSYNC_NEVER);
	CU_ASSERT_EQUAL(engine_offset_for_time(log, "t", 0, 10000LL * 100 + 1, &off), 0);
	CU_ASSERT_EQUAL(off, 200);
	CU_ASSERT_EQUAL(engine_offset_for_time(log, "t", 0, 10000LL * 60 + 2, &off), 0);
	CU_ASSERT_EQUAL(off, 2 * 42); /* batch 42 carries 10000 * 62 */
	buf_release(&b);
	engine_close(log);
	lt_rmrf(tmp);
}

static int wait_info(struct engine *log, const char *t, int64_t want_start, int ms)
{
	struct engine_partition_info pi;

	for (int i = 0; i < ms / 10; i++) {
		if (engine_partition_info(log, t, 0, &pi) == 0 && pi.log_start >= want_start)
			return 0;
		usleep(10000);
	}
	return -1;
}

static void test_retention(void)
{
	struct engine_config c;
	struct topic_config tc;
	struct engine_partition_info pi;
	struct engine_slice s;
	struct engine_stats st;
	struct engine *log;
	struct buf b;
	int64_t now = clock_wall_ms();

	fresh();
	lt_config(&c, datadir, ENGINE_FSYNC_ALWAYS);
	c.retention_check_ms = 20;
	CU_ASSERT_EQUAL_FATAL(engine_open(&c, &log), 0);
	memset(&tc, 0, sizeof(tc));
	tc.retention_ms = 3600000;
	CU_ASSERT_EQUAL(engine_topic_create(log, "old", &tc), 0);
	tc.retention_ms = -1;
	tc.retention_bytes = 30000;
	CU_ASSERT_EQUAL(engine_topic_create(log, "big", &tc), 0);
	buf_init(&b, 0);
	/* "old": everything two hours old, then some fresh batches */
	for (int i = 0; i < 60; i++) {
		lt_batch(&b, i, 1, now - 7200000 + i, -1, -1, -1, 800);
		CU_ASSERT_EQUAL(lt_append(log, "old", 0, &b, NULL), i);
	}
	for (int i = 0; i < 60; i++) {
		lt_batch(&b, i, 1, now + i, -1, -1, -1, 800);
		CU_ASSERT_EQUAL(lt_append(log, "big", 0, &b, NULL), i);
	}
	/* the whole old log goes, the active segment rolled first */
	CU_ASSERT_EQUAL(wait_info(log, "old", 60, 5000), 0);
	CU_ASSERT_EQUAL(engine_partition_info(log, "old", 0, &pi), 0);
	CU_ASSERT_EQUAL(pi.log_start, 60);
	CU_ASSERT_EQUAL(pi.end, 60);
	CU_ASSERT_EQUAL(pi.bytes, 0);
	CU_ASSERT_EQUAL(engine_read(log, "old", 0, 10, 100, &s), -ERR_OUT_OF_RANGE);
	lt_batch(&b, 60, 1, now, -1, -1, -1, 10);
	CU_ASSERT_EQUAL(lt_append(log, "old", 0, &b, NULL), 60);
	/* "big": trimmed to at least 30000 bytes, whole segments */
	CU_ASSERT_EQUAL(wait_info(log, "big", 1, 5000), 0);
	usleep(100000);
	CU_ASSERT_EQUAL(engine_partition_info(log, "big", 0, &pi), 0);
	CU_ASSERT(pi.bytes >= 30000);
	CU_ASSERT(pi.bytes < 30000 + 16384 + 1000);
	CU_ASSERT_EQUAL(engine_read(log, "big", 0, pi.log_start - 1, 100, &s), -ERR_OUT_OF_RANGE);
	CU_ASSERT_EQUAL(engine_read(log, "big", 0, pi.log_start, 100, &s), 0);
	CU_ASSERT_EQUAL(s.first_offset, pi.log_start);
	engine_slice_release(&s);
	engine_get_stats(log, &st);
	CU_ASSERT(st.segments_deleted > 3);
	buf_release(&b);
	engine_close(log);
	/* log_start survives a reopen */
	CU_ASSERT_EQUAL_FATAL(engine_open(&c, &log), 0);
	CU_ASSERT_EQUAL(engine_partition_info(log, "old", 0, &pi), 0);
	CU_ASSERT_EQUAL(pi.log_start, 60);
	CU_ASSERT_EQUAL(pi.end, 61);
	engine_close(log);
	lt_rmrf(tmp);
}

/* The first retention pass comes retention_check_ms after open, not 1 s
 * after it whatever the interval says (data older than the retention, kept
 * by an operator who set a long check, went within a second of a restart). */
static void test_retention_first_pass(void)
{
	struct engine_config c;
	struct topic_config tc;
	struct engine_partition_info pi;
	struct engine *log;
	struct buf b;
	int64_t now = clock_wall_ms();

	fresh();
	lt_config(&c, datadir, ENGINE_FSYNC_ALWAYS);
	c.retention_check_ms = 60000;
	CU_ASSERT_EQUAL_FATAL(engine_open(&c, &log), 0);
	memset(&tc, 0, sizeof(tc));
	tc.retention_ms = 3600000;
	CU_ASSERT_EQUAL(engine_topic_create(log, "old", &tc), 0);
	buf_init(&b, 0);
	for (int i = 0; i < 3; i++) {
		lt_batch(&b, i, 1, now - 7200000 + i, -1, -1, -1, 100);
		CU_ASSERT_EQUAL(lt_append(log, "old", 0, &b, NULL), i);
	}
	engine_close(log);
	CU_ASSERT_EQUAL_FATAL(engine_open(&c, &log), 0);
	/* the old engine's pass came at 1 s: wait well past it */
	usleep(2500000);
	CU_ASSERT_EQUAL(engine_partition_info(log, "old", 0, &pi), 0);
	CU_ASSERT_EQUAL(pi.log_start, 0);
	engine_close(log);
	/* a short interval is honoured as well */
	c.retention_check_ms = 50;
	CU_ASSERT_EQUAL_FATAL(engine_open(&c, &log), 0);
	CU_ASSERT_EQUAL(wait_info(log, "old", 3, 5000), 0);
	buf_release(&b);
	engine_close(log);
	lt_rmrf(tmp);
}

static void test_slice_survives_deletion(void)
{
	struct engine_slice s;
	struct engine *log;
	struct buf b;
	uint8_t h[BATCH_HEADER_SIZE];
	struct batch_info bi;

	fresh();
	log = open_log(ENGINE_FSYNC_ALWAYS);
	buf_init(&b, 0);
	lt_batch(&b, 0, 3, 1000, -1, -1, -1, 100);
	CU_ASSERT_EQUAL(lt_append(log, "t", 0, &b, NULL), 0);
	CU_ASSERT_EQUAL(engine_read(log, "t", 0, 0, 1 << 20, &s), 0);
	CU_ASSERT_EQUAL(engine_topic_delete(log, "t"), 0);
	/* the reader still reads the bytes it was promised */
	CU_ASSERT_EQUAL(pread(s.fd, h, sizeof(h), s.pos), (ssize_t)sizeof(h));
	CU_ASSERT_EQUAL(batch_header_parse(h, sizeof(h), &bi), 0);
	CU_ASSERT_EQUAL(bi.size, b.len);
	engine_slice_release(&s);
	CU_ASSERT_EQUAL(engine_wait_visible(log, "t", 0, 0, 0), -ERR_NOT_FOUND);
	/* re-created empty, not with the old data */
	CU_ASSERT_EQUAL(lt_append(log, "t", 0, &b, NULL), 0);
	buf_release(&b);
	engine_close(log);
	lt_rmrf(tmp);
}

static void test_idempotence_and_reopen(void)
{
	struct engine_append_result r;
	struct engine *log;
	struct buf b;
	bool dup;
	char path[512];

	fresh();
	log = open_log(ENGINE_FSYNC_ALWAYS);
	buf_init(&b, 0);
	for (int i = 0; i < 40; i++) {
		lt_batch(&b, 3 * i, 3, 1000 + i, 77, 2, 3 * i, 600);
		CU_ASSERT_EQUAL(lt_append(log, "t", 0, &b, &dup), 3 * i);
		CU_ASSERT_FALSE(dup);
	}
	/* retries of the last 5 are duplicates with their original offsets */
	for (int i = 35; i < 40; i++) {
		lt_batch(&b, 3 * i, 3, 1000 + i, 77, 2, 3 * i, 600);
		CU_ASSERT_EQUAL(engine_append(log, "t", 0, b.data, b.len, &r), 0);
		CU_ASSERT(r.duplicate);
		CU_ASSERT_EQUAL(r.base_offset, 3 * i);
		CU_ASSERT_EQUAL(r.last_offset, 3 * i + 2);
	}
	/* engine_find_duplicate: the same answer, nothing written */
	lt_batch(&b, 3 * 37, 3, 1000 + 37, 77, 2, 3 * 37, 600);
	CU_ASSERT_EQUAL(engine_find_duplicate(log, "t", 0, b.data, b.len, &r), 1);
	CU_ASSERT(r.duplicate);
	CU_ASSERT_EQUAL(r.base_offset, 3 * 37);
	CU_ASSERT_EQUAL(r.last_offset, 3 * 37 + 2);
	lt_batch(&b, 0, 3, 1000, 77, 2, 3 * 40, 0); /* the next one: not a retry */
	CU_ASSERT_EQUAL(engine_find_duplicate(log, "t", 0, b.data, b.len, &r), 0);
	lt_batch(&b, 0, 3, 1000, -1, -1, -1, 0); /* not idempotent */
	CU_ASSERT_EQUAL(engine_find_duplicate(log, "t", 0, b.data, b.len, &r), 0);
	CU_ASSERT_EQUAL(engine_find_duplicate(log, "nope", 0, b.data, b.len, &r), -ERR_NOT_FOUND);
	lt_batch(&b, 0, 3, 1000, 77, 2, 3 * 41, 0);
	CU_ASSERT_EQUAL(engine_append(log, "t", 0, b.data, b.len, &r), -ERR_OUT_OF_ORDER);
	lt_batch(&b, 0, 3, 1000, 77, 1, 3 * 40, 0);
	CU_ASSERT_EQUAL(engine_append(log, "t", 0, b.data, b.len, &r), -ERR_FENCED);
	engine_close(log);

	/* after a clean reopen (snapshot at the end) */
	log = open_log(ENGINE_FSYNC_ALWAYS);
	lt_batch(&b, 3 * 39, 3, 1000 + 39, 77, 2, 3 * 39, 600);
	CU_ASSERT_EQUAL(engine_append(log, "t", 0, b.data, b.len, &r), 0);
	CU_ASSERT(r.duplicate);
	CU_ASSERT_EQUAL(r.base_offset, 3 * 39);
	engine_close(log);

	/* without any snapshot: rebuilt from the batch headers */
	snprintf(path, sizeof(path), "rm -f %s/t-0/*.snapshot", datadir);
	CU_ASSERT_EQUAL(system(path), 0);
	log = open_log(ENGINE_FSYNC_ALWAYS);
	lt_batch(&b, 3 * 36, 3, 1000 + 36, 77, 2, 3 * 36, 600);
	CU_ASSERT_EQUAL(engine_append(log, "t", 0, b.data, b.len, &r), 0);
	CU_ASSERT(r.duplicate);
	CU_ASSERT_EQUAL(r.base_offset, 3 * 36);
	lt_batch(&b, 3 * 40, 3, 1000 + 40, 77, 2, 3 * 40, 600);
	CU_ASSERT_EQUAL(lt_append(log, "t", 0, &b, &dup), 3 * 40);
	CU_ASSERT_FALSE(dup);
	buf_release(&b);
	engine_close(log);
	lt_rmrf(tmp);
}

static void test_fsync_modes_visibility(void)
{
	static const enum engine_fsync modes[] = {ENGINE_FSYNC_INTERVAL, ENGINE_FSYNC_NEVER};

	for (int m = 0; m < 2; m++) {
		struct engine_partition_info pi;
		struct engine_append_result r;
		struct engine *log;
		struct buf b;

		fresh();
		log = open_log(modes[m]);
		buf_init(&b, 0);
		for (int i = 0; i < 50; i++) {
			lt_batch(&b, i, 1, 1000, -1, -1, -1, 900);
			CU_ASSERT_EQUAL(engine_append(log, "t", 0, b.data, b.len, &r), 0);
			/* visible at once, without waiting for a disk flush */
			CU_ASSERT_EQUAL(engine_wait_visible(log, "t", 0, r.last_offset, 0), 0);
		}
		CU_ASSERT_EQUAL(engine_partition_info(log, "t", 0, &pi), 0);
		CU_ASSERT_EQUAL(pi.visible, 50);
		if (modes[m] == ENGINE_FSYNC_INTERVAL) {
			for (int i = 0; i < 200 && pi.durable < 50; i++) {
				usleep(10000);
				engine_partition_info(log, "t", 0, &pi);
			}
			CU_ASSERT_EQUAL(pi.durable, 50);
		} else {
			/* never: rolled segments are synced in the background */
			for (int i = 0; i < 200 && pi.durable == 0; i++) {
				usleep(10000);
				engine_partition_info(log, "t", 0, &pi);
			}
			CU_ASSERT(pi.durable > 0);
		}
		buf_release(&b);
		engine_close(log);
		lt_rmrf(tmp);
	}
}

static atomic_int calls;

static void on_progress(void *arg)
{
	(void)arg;
	atomic_fetch_add(&calls, 1);
}

static void test_wait_and_listener(void)
{
	struct engine_append_result r;
	struct engine_stats st;
	struct engine *log;
	struct buf b;
	uint64_t t0;

	fresh();
	log = open_log(ENGINE_FSYNC_ALWAYS);
	engine_set_listener(log, on_progress, NULL);
	buf_init(&b, 0);
	lt_batch(&b, 0, 2, 1000, -1, -1, -1, 10);
	CU_ASSERT_EQUAL(engine_append(log, "t", 0, b.data, b.len, &r), 0);
	CU_ASSERT_EQUAL(engine_wait_visible(log, "t", 0, 1, 5000), 0);
	/* the flusher wakes waiters before it calls the listener: await it */
	t0 = clock_mono_ms();
	while (atomic_load(&calls) < 1 && clock_mono_ms() - t0 < 5000)
		usleep(1000);
	CU_ASSERT(atomic_load(&calls) >= 1);
	t0 = clock_mono_ms();
	CU_ASSERT_EQUAL(engine_wait_visible(log, "t", 0, 2, 100), -ETIMEDOUT);
	CU_ASSERT(clock_mono_ms() - t0 >= 95);
	CU_ASSERT_EQUAL(engine_wait_visible(log, "t", 0, 2, 0), -ETIMEDOUT);
	CU_ASSERT_EQUAL(engine_wait_visible(log, "nope", 0, 0, 0), -ERR_NOT_FOUND);
	engine_set_listener(log, NULL, NULL);
	engine_get_stats(log, &st);
	CU_ASSERT_EQUAL(st.appends, 1);
	CU_ASSERT_EQUAL(st.append_bytes, b.len);
	CU_ASSERT(st.fsyncs >= 1);
	CU_ASSERT(st.writable);
	{
		uint64_t sum = 0;

		for (int i = 0; i < 12; i++)
			sum += st.fsync_hist[i];
		CU_ASSERT_EQUAL(sum, st.fsyncs);
	}
	buf_release(&b);
	engine_close(log);
	lt_rmrf(tmp);
}

static void test_producer_ids(void)
{
	struct engine *log;
	int64_t a, b, c;

	fresh();
	log = open_log(ENGINE_FSYNC_ALWAYS);
	CU_ASSERT_EQUAL(engine_producer_id_alloc(log, &a), 0);
	CU_ASSERT_EQUAL(engine_producer_id_alloc(log, &b), 0);
	CU_ASSERT_EQUAL(b, a + 1);
	for (int i = 0; i < 2500; i++)
		CU_ASSERT_EQUAL(engine_producer_id_alloc(log, &c), 0);
	CU_ASSERT_EQUAL(c, b + 2500);
	engine_close(log);
	log = open_log(ENGINE_FSYNC_ALWAYS);
	CU_ASSERT_EQUAL(engine_producer_id_alloc(log, &a), 0);
	CU_ASSERT(a > c); /* never reused, even across restarts */
	engine_close(log);
	lt_rmrf(tmp);
}

static void test_registry_recovery(void)
{
	struct topic_config tc;
	struct engine *log, *second = NULL;
	struct engine_config cfg;
	struct buf b;
	char path[512];
	struct stat st;

	fresh();
	log = open_log(ENGINE_FSYNC_ALWAYS);
	/* a second store on the same directory is refused */
	lt_config(&cfg, datadir, ENGINE_FSYNC_ALWAYS);
	CU_ASSERT_EQUAL(engine_open(&cfg, &second), -EBUSY);
	memset(&tc, 0, sizeof(tc));
	tc.partitions = 2;
	CU_ASSERT_EQUAL(engine_topic_create(log, "keep", &tc), 0);
	buf_init(&b, 0);
	lt_batch(&b, 0, 1, 1000, -1, -1, -1, 0);
	CU_ASSERT_EQUAL(lt_append(log, "keep", 1, &b, NULL), 0);
	engine_close(log);
	/* a directory no topic owns (an interrupted create) is removed */
	snprintf(path, sizeof(path), "%s/ghost-0", datadir);
	CU_ASSERT_EQUAL(mkdir(path, 0755), 0);
	log = open_log(ENGINE_FSYNC_ALWAYS);
	CU_ASSERT_NOT_EQUAL(stat(path, &st), 0);
	engine_close(log);
	/* a lost registry is rebuilt from the directories, data kept */
	snprintf(path, sizeof(path), "%s/meta/topics.yaml", datadir);
	CU_ASSERT_EQUAL(unlink(path), 0);
	log = open_log(ENGINE_FSYNC_ALWAYS);
	CU_ASSERT_EQUAL(engine_topic_config(log, "keep", &tc), 0);
	CU_ASSERT_EQUAL(tc.partitions, 2);
	CU_ASSERT_EQUAL(lt_append(log, "keep", 1, &b, NULL), 1);
	engine_close(log);
	/* a damaged registry stops the store instead of dropping topics */
	{
		FILE *f = fopen(path, "w");

		fputs("version: 1\ntopics: [ {name: \"a\", partitions: x} ]\n", f);
		fclose(f);
	}
	CU_ASSERT_EQUAL(engine_open(&cfg, &second), -ERR_CORRUPT);
	buf_release(&b);
	lt_rmrf(tmp);
}

struct writer {
	struct engine *log;
	int id;
	int n;
	int64_t *offsets;
};

static void *writer_main(void *arg)
{
	struct writer *w = arg;
	struct buf b;

	buf_init(&b, 0);
	for (int i = 0; i < w->n; i++) {
		lt_batch(&b, (int64_t)w->id * 1000000 + i, 1, 1000, -1, -1, -1,
			 (size_t)(i % 5) * 50);
		w->offsets[i] = lt_append(w->log, "c", w->id % 2, &b, NULL);
	}
	buf_release(&b);
	return NULL;
}

static int collect(const uint8_t *p, size_t n, void *arg)
{
	int64_t seq;
	char *seen = arg;

	if (lt_seqs(p, n, &seq, 1) == 1 && seq % 1000000 < 300)
		seen[(seq / 1000000) * 300 + seq % 1000000]++;
	return 0;
}

static void test_concurrent_appenders(void)
{
	struct topic_config tc;
	struct writer w[4];
	pthread_t th[4];
	int64_t offs[4][300];
	char seen[4 * 300];
	struct engine *log;
	struct engine_stats st;

	fresh();
	log = open_log(ENGINE_FSYNC_ALWAYS);
	memset(&tc, 0, sizeof(tc));
	tc.partitions = 2;
	CU_ASSERT_EQUAL(engine_topic_create(log, "c", &tc), 0);
	for (int i = 0; i < 4; i++) {
		w[i] = (struct writer){log, i, 300, offs[i]};
		pthread_create(&th[i], NULL, writer_main, &w[i]);
	}
	for (int i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	memset(seen, 0, sizeof(seen));
	CU_ASSERT_EQUAL(lt_read_all(log, "c", 0, 0, 1 << 16, collect, seen), 600);
	CU_ASSERT_EQUAL(lt_read_all(log, "c", 1, 0, 1 << 16, collect, seen), 600);
	for (int i = 0; i < 4 * 300; i++)
		CU_ASSERT_EQUAL(seen[i], 1);
	for (int i = 0; i < 4; i++)
		for (int j = 1; j < 300; j++)
			CU_ASSERT(offs[i][j] > offs[i][j - 1]);
	engine_get_stats(log, &st);
	/* group commit: fewer fsyncs than batches */
	CU_ASSERT(st.fsyncs < st.appends);
	engine_close(log);
	lt_rmrf(tmp);
}

int main(void)
{
	static const struct unit_test tests[] = {
		UNIT_TEST(test_topics_persist),
		UNIT_TEST(test_auto_create_off),
		UNIT_TEST(test_append_read_across_segments),
		UNIT_TEST(test_batch_limits),
		UNIT_TEST(test_offset_for_time),
		UNIT_TEST(test_retention),
		UNIT_TEST(test_retention_first_pass),
		UNIT_TEST(test_slice_survives_deletion),
		UNIT_TEST(test_idempotence_and_reopen),
		UNIT_TEST(test_fsync_modes_visibility),
		UNIT_TEST(test_wait_and_listener),
		UNIT_TEST(test_producer_ids),
		UNIT_TEST(test_registry_recovery),
		UNIT_TEST(test_concurrent_appenders),
		UNIT_END,
	};

	log_set_level(LOG_LVL_WARN);
	return unit_run("log", tests);
}
