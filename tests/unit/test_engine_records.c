/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The engine's record-level admin operations (store/engine/partition_records.c):
 * DeleteRecords' durable log start offset (honoured by reads, time lookups
 * and reopen, surviving a kill -9), the max-timestamp lookup behind
 * ListOffsets -3 (exact record, compressed or not) and the producer listing
 * behind DescribeProducers.
 */
#include <signal.h>
#include <sys/wait.h>

#include "lib/codec.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "tests/unit/enginetest.h"
#include "tests/unit/unit.h"

/* 20 batches of 5 records with 300 bytes of padding each: about 30 KiB, so
 * the 16 KiB segments of lt_config roll a few times. */
static void fill(struct engine *log, const char *topic)
{
	struct buf b;

	buf_init(&b, 0);
	for (int i = 0; i < 20; i++) {
		CU_ASSERT_EQUAL_FATAL(lt_batch(&b, i * 5, 5, 1700000000000 + i * 10, -1, 0, 0, 300),
				      0);
		CU_ASSERT_EQUAL(lt_append(log, topic, 0, &b, NULL), i * 5);
	}
	buf_release(&b);
}

static const struct topic_config tc0 = {.partitions = 1};

static struct engine *open_log(const char *dir)
{
	struct engine_config c;
	struct engine *log = NULL;

	lt_config(&c, dir, ENGINE_FSYNC_ALWAYS);
	CU_ASSERT_EQUAL_FATAL(engine_open(&c, &log), 0);
	return log;
}

static void test_delete_records(void)
{
	char *dir = unit_tmpdir();
	struct engine *log = open_log(dir);
	struct engine_partition_info pi, before;
	struct engine_slice s;
	int64_t low = -9, off;

	CU_ASSERT_EQUAL(engine_topic_create(log, "d", &tc0), 0);
	fill(log, "d");
	CU_ASSERT_EQUAL(engine_partition_info(log, "d", 0, &before), 0);
	CU_ASSERT(before.segments > 2);

	/* inside a batch and past the first segments */
	CU_ASSERT_EQUAL(engine_delete_records(log, "d", 0, 77, &low), 0);
	CU_ASSERT_EQUAL(low, 77);
	CU_ASSERT_EQUAL(engine_partition_info(log, "d", 0, &pi), 0);
	CU_ASSERT_EQUAL(pi.log_start, 77);
	CU_ASSERT(pi.segments < before.segments);
	CU_ASSERT_EQUAL(engine_read(log, "d", 0, 76, 1 << 20, &s), -ERR_OUT_OF_RANGE);
	CU_ASSERT_EQUAL(engine_read(log, "d", 0, 0, 1 << 20, &s), -ERR_OUT_OF_RANGE);
	CU_ASSERT_EQUAL_FATAL(engine_read(log, "d", 0, 77, 1 << 20, &s), 0);
	CU_ASSERT_EQUAL(s.first_offset, 75); /* the batch holding 77, as Kafka */
	CU_ASSERT_EQUAL(s.log_start, 77);
	engine_slice_release(&s);
	CU_ASSERT_EQUAL(engine_offset_for_time(log, "d", 0, -2, &off), 0);
	CU_ASSERT_EQUAL(off, 77);
	CU_ASSERT_EQUAL(engine_offset_for_time(log, "d", 0, 0, &off), 0);
	CU_ASSERT_EQUAL(off, 77);

	/* backwards is a no-op; past the high watermark is refused */
	CU_ASSERT_EQUAL(engine_delete_records(log, "d", 0, 10, &low), 0);
	CU_ASSERT_EQUAL(low, 77);
	CU_ASSERT_EQUAL(engine_delete_records(log, "d", 0, 101, &low), -ERR_OUT_OF_RANGE);
	CU_ASSERT_EQUAL(engine_delete_records(log, "d", 0, -2, &low), -ERR_OUT_OF_RANGE);
	CU_ASSERT_EQUAL(engine_delete_records(log, "d", 1, 0, &low), -ERR_NOT_FOUND);
	CU_ASSERT_EQUAL(engine_delete_records(log, "nope", 0, 0, &low), -ERR_NOT_FOUND);

	/* a clean reopen keeps it */
	engine_close(log);
	log = open_log(dir);
	CU_ASSERT_EQUAL(engine_partition_info(log, "d", 0, &pi), 0);
	CU_ASSERT_EQUAL(pi.log_start, 77);
	CU_ASSERT_EQUAL(pi.end, 100);

	/* -1: everything; appends go on after it */
	CU_ASSERT_EQUAL(engine_delete_records(log, "d", 0, -1, &low), 0);
	CU_ASSERT_EQUAL(low, 100);
	CU_ASSERT_EQUAL(engine_partition_info(log, "d", 0, &pi), 0);
	CU_ASSERT_EQUAL(pi.log_start, 100);
	CU_ASSERT_EQUAL(pi.segments, 1);
	CU_ASSERT_EQUAL(lt_read_all(log, "d", 0, 100, 1 << 20, NULL, NULL), 0);
	{
		struct buf b;

		buf_init(&b, 0);
		CU_ASSERT_EQUAL(lt_batch(&b, 100, 3, 1700000009000, -1, 0, 0, 0), 0);
		CU_ASSERT_EQUAL(lt_append(log, "d", 0, &b, NULL), 100);
		buf_release(&b);
	}
	CU_ASSERT_EQUAL(lt_read_all(log, "d", 0, 100, 1 << 20, NULL, NULL), 1);

	/* a re-created topic starts from 0 again */
	CU_ASSERT_EQUAL(engine_topic_delete(log, "d"), 0);
	CU_ASSERT_EQUAL(engine_topic_create(log, "d", &tc0), 0);
	CU_ASSERT_EQUAL(engine_partition_info(log, "d", 0, &pi), 0);
	CU_ASSERT_EQUAL(pi.log_start, 0);
	engine_close(log);
	lt_rmrf(dir);
}

/* The child deletes records and reports; the parent kills it with SIGKILL:
 * no clean shutdown, no checkpoint after the call. */
static void test_delete_records_kill9(void)
{
	char *dir = unit_tmpdir();
	struct engine_partition_info pi;
	struct engine *log;
	int fds[2], status;
	char c = 0;
	pid_t pid;

	CU_ASSERT_EQUAL_FATAL(pipe(fds), 0);
	pid = fork();
	CU_ASSERT_FATAL(pid >= 0);
	if (pid == 0) {
		int64_t low;

		close(fds[0]);
		log = open_log(dir);
		if (engine_topic_create(log, "k", &tc0) < 0)
			_exit(2);
		fill(log, "k");
		if (engine_delete_records(log, "k", 0, 52, &low) < 0 || low != 52)
			_exit(3);
		if (write(fds[1], "y", 1) != 1)
			_exit(4);
		for (;;)
			pause();
	}
	close(fds[1]);
	CU_ASSERT_EQUAL(read(fds[0], &c, 1), 1);
	CU_ASSERT_EQUAL(c, 'y');
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	close(fds[0]);

	log = open_log(dir);
	CU_ASSERT_EQUAL(engine_partition_info(log, "k", 0, &pi), 0);
	CU_ASSERT_EQUAL(pi.log_start, 52);
	CU_ASSERT_EQUAL(pi.end, 100);
	CU_ASSERT_EQUAL(lt_read_all(log, "k", 0, 52, 1 << 20, NULL, NULL), 10);
	engine_close(log);
	lt_rmrf(dir);
}

/* A batch of records with the given timestamps, compressed with codec. */
static void ts_batch(struct buf *out, const int64_t *ts, int n, int codec)
{
	struct batch_builder bb;
	struct batch_params bp;
	struct codec_ctx *cc = codec_ctx_new();

	batch_builder_init(&bb, 1 << 20);
	for (int i = 0; i < n; i++)
		CU_ASSERT_EQUAL(batch_builder_add(&bb, ts[i], "k", 1, "v", 1, NULL, 0), 0);
	batch_params_init(&bp);
	bp.codec = codec;
	buf_reset(out);
	CU_ASSERT_EQUAL(batch_builder_finish(&bb, cc, &bp, out), 0);
	batch_builder_release(&bb);
	codec_ctx_free(cc);
}

static void test_max_timestamp(void)
{
	static const int64_t a[] = {1000, 1001, 1002, 1003};
	static const int64_t m[] = {1500, 9000, 1600, 9000, 1700};
	static const int64_t z[] = {2000, 2001};
	char *dir = unit_tmpdir();
	struct engine *log = open_log(dir);
	int64_t off = 0, ts = 0;
	struct buf b;

	buf_init(&b, 0);
	for (int codec = CODEC_NONE; codec <= CODEC_ZSTD; codec += CODEC_ZSTD) {
		const char *t = codec ? "mz" : "m";

		CU_ASSERT_EQUAL(engine_topic_create(log, t, &tc0), 0);
		CU_ASSERT_EQUAL(engine_offset_max_timestamp(log, t, 0, &off, &ts), 0);
		CU_ASSERT_EQUAL(off, -1);
		CU_ASSERT_EQUAL(ts, -1);
		ts_batch(&b, a, 4, codec);
		CU_ASSERT_EQUAL(lt_append(log, t, 0, &b, NULL), 0);
		ts_batch(&b, m, 5, codec);
		CU_ASSERT_EQUAL(lt_append(log, t, 0, &b, NULL), 4);
		ts_batch(&b, z, 2, codec);
		CU_ASSERT_EQUAL(lt_append(log, t, 0, &b, NULL), 9);
		/* the first record carrying 9000: offset 4 + 1 */
		CU_ASSERT_EQUAL(engine_offset_max_timestamp(log, t, 0, &off, &ts), 0);
		CU_ASSERT_EQUAL(off, 5);
		CU_ASSERT_EQUAL(ts, 9000);
		/* deleted up to past it: the second one */
		CU_ASSERT_EQUAL(engine_delete_records(log, t, 0, 6, &off), 0);
		CU_ASSERT_EQUAL(engine_offset_max_timestamp(log, t, 0, &off, &ts), 0);
		CU_ASSERT_EQUAL(off, 7);
		CU_ASSERT_EQUAL(ts, 9000);
		/* both gone, the segment's max with them: the largest left */
		CU_ASSERT_EQUAL(engine_delete_records(log, t, 0, 8, &off), 0);
		CU_ASSERT_EQUAL(engine_offset_max_timestamp(log, t, 0, &off, &ts), 0);
		CU_ASSERT_EQUAL(off, 10);
		CU_ASSERT_EQUAL(ts, 2001);
	}
	CU_ASSERT_EQUAL(engine_offset_max_timestamp(log, "m", 1, &off, &ts), -ERR_NOT_FOUND);
	buf_release(&b);
	engine_close(log);
	lt_rmrf(dir);
}

static void test_producers(void)
{
	char *dir = unit_tmpdir();
	struct engine *log = open_log(dir);
	struct engine_producer *v = NULL;
	size_t n = 9;
	struct buf b;

	buf_init(&b, 0);
	CU_ASSERT_EQUAL(engine_topic_create(log, "p", &tc0), 0);
	CU_ASSERT_EQUAL(engine_producers(log, "p", 0, &v, &n), 0);
	CU_ASSERT_EQUAL(n, 0);
	CU_ASSERT_PTR_NULL(v);
	CU_ASSERT_EQUAL(lt_batch(&b, 0, 5, 1700000000000, 7, 2, 0, 0), 0);
	CU_ASSERT_EQUAL(lt_append(log, "p", 0, &b, NULL), 0);
	CU_ASSERT_EQUAL(lt_batch(&b, 5, 4, 1700000000000, 7, 2, 5, 0), 0);
	CU_ASSERT_EQUAL(lt_append(log, "p", 0, &b, NULL), 5);
	CU_ASSERT_EQUAL(lt_batch(&b, 9, 1, 1700000000000, -1, 0, 0, 0), 0);
	CU_ASSERT_EQUAL(lt_append(log, "p", 0, &b, NULL), 9);
	CU_ASSERT_EQUAL(engine_producers(log, "p", 0, &v, &n), 0);
	CU_ASSERT_EQUAL_FATAL(n, 1);
	CU_ASSERT_EQUAL(v[0].id, 7);
	CU_ASSERT_EQUAL(v[0].epoch, 2);
	CU_ASSERT_EQUAL(v[0].last_seq, 8);
	CU_ASSERT(v[0].last_ms > 0);
	mem_free(v);
	CU_ASSERT_EQUAL(engine_producers(log, "p", 3, &v, &n), -ERR_NOT_FOUND);
	buf_release(&b);
	engine_close(log);
	lt_rmrf(dir);
}

int main(void)
{
	static const struct unit_test tests[] = {
		UNIT_TEST(test_delete_records),
		UNIT_TEST(test_delete_records_kill9),
		UNIT_TEST(test_max_timestamp),
		UNIT_TEST(test_producers),
		UNIT_END,
	};

	log_set_level(LOG_LVL_ERROR);
	return unit_run("engine_records", tests);
}
