/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Regression tests for the store's integrity fixes (issue 16, items 1-6)
 * at the engine's contract: engine_batch_check() dates records without a
 * timestamp by their arrival instead of librdkafka's maxTimestamp 0 (which
 * retention read as 1970) and refuses a batch whose codec flag lies;
 * LogAppendTime topics are stamped and persisted; records deleted by
 * retention on arrival are counted; a CreateTopics failing part-way leaves no
 * partition directory; files and directories are private whatever the umask.
 */
#include <dirent.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "lib/clock.h"
#include "lib/crc32c.h"
#include "lib/log.h"
#include "tests/unit/enginetest.h"
#include "tests/unit/unit.h"

static char *tmp;
static char datadir[256];

static struct engine *open_fresh(int64_t retention_check_ms)
{
	struct engine_config c;
	struct engine *log = NULL;

	tmp = unit_tmpdir();
	snprintf(datadir, sizeof(datadir), "%s/data", tmp);
	lt_config(&c, datadir, ENGINE_FSYNC_ALWAYS);
	c.retention_check_ms = retention_check_ms;
	CU_ASSERT_EQUAL_FATAL(engine_open(&c, &log), 0);
	return log;
}

/* n records with timestamp -1, header as librdkafka writes it: FirstTimestamp
 * -1, MaxTimestamp 0 (its max starts at 0). */
static void rdkafka_untimed_batch(struct buf *out, int n)
{
	struct batch_builder bb;
	struct batch_params bp;

	batch_builder_init(&bb, 1 << 20);
	for (int i = 0; i < n; i++)
		CU_ASSERT_EQUAL(batch_builder_add(&bb, -1, "k", 1, "v", 1, NULL, 0), 0);
	batch_params_init(&bp);
	buf_reset(out);
	CU_ASSERT_EQUAL(batch_builder_finish(&bb, NULL, &bp, out), 0);
	batch_builder_release(&bb);
	put_be64(out->data + BATCH_OFF_MAX_TS, 0);
	batch_update_crc(out->data, out->len);
}

static int64_t check_append(struct engine *log, const char *topic, struct buf *b)
{
	struct batch_info bi;
	int rc = engine_batch_check(log, b->data, b->len, &bi);

	return rc < 0 ? rc : lt_append(log, topic, 0, b, NULL);
}

/* Await a retention pass that saw topic's data: a witness topic with records
 * two hours old (retention 1 h) is created now; once retention has deleted
 * them, it has also looked at every older topic. */
static void await_retention_pass(struct engine *log, const char *witness)
{
	struct engine_partition_info pi;
	struct topic_config tc;
	struct buf b;

	memset(&tc, 0, sizeof(tc));
	tc.retention_ms = 3600000;
	CU_ASSERT_EQUAL_FATAL(engine_topic_create(log, witness, &tc), 0);
	buf_init(&b, 0);
	CU_ASSERT_EQUAL(lt_batch(&b, 0, 1, clock_wall_ms() - 7200000, -1, -1, -1, 10), 0);
	CU_ASSERT_EQUAL(lt_append(log, witness, 0, &b, NULL), 0);
	for (int i = 0; i < 1000; i++) {
		CU_ASSERT_EQUAL_FATAL(engine_partition_info(log, witness, 0, &pi), 0);
		if (pi.log_start == 1)
			break;
		usleep(10000);
	}
	CU_ASSERT_EQUAL(pi.log_start, 1);
	buf_release(&b);
}

static void test_untimed_records_survive_retention(void)
{
	struct engine *log = open_fresh(10);
	struct engine_partition_info pi;
	struct topic_config tc;
	struct batch_info bi;
	struct buf b;
	int64_t t0 = clock_wall_ms(), off = -5;

	memset(&tc, 0, sizeof(tc));
	tc.retention_ms = 3600000;
	CU_ASSERT_EQUAL_FATAL(engine_topic_create(log, "untimed", &tc), 0);
	buf_init(&b, 0);
	rdkafka_untimed_batch(&b, 10);
	CU_ASSERT_EQUAL(batch_validate(b.data, b.len, &bi), 0);
	CU_ASSERT_EQUAL(bi.max_ts, 0);
	CU_ASSERT_EQUAL(check_append(log, "untimed", &b), 0);
	/* the header now carries the arrival time, CRC still valid */
	CU_ASSERT_EQUAL(batch_validate(b.data, b.len, &bi), 0);
	CU_ASSERT(bi.max_ts >= t0 && bi.max_ts <= clock_wall_ms());
	await_retention_pass(log, "witness1");
	CU_ASSERT_EQUAL(engine_partition_info(log, "untimed", 0, &pi), 0);
	CU_ASSERT_EQUAL(pi.log_start, 0);
	CU_ASSERT_EQUAL(pi.end, 10);
	CU_ASSERT(pi.last_timestamp >= t0);
	/* ListOffsets by time finds them by the same value */
	CU_ASSERT_EQUAL(engine_offset_for_time(log, "untimed", 0, t0 - 1000, &off), 0);
	CU_ASSERT_EQUAL(off, 0);
	engine_close(log);
	/* and after a restart, which reads the times back from the files */
	{
		struct engine_config c;

		lt_config(&c, datadir, ENGINE_FSYNC_ALWAYS);
		c.retention_check_ms = 10;
		CU_ASSERT_EQUAL_FATAL(engine_open(&c, &log), 0);
	}
	await_retention_pass(log, "witness2");
	CU_ASSERT_EQUAL(engine_partition_info(log, "untimed", 0, &pi), 0);
	CU_ASSERT_EQUAL(pi.log_start, 0);
	CU_ASSERT(pi.last_timestamp >= t0);
	buf_release(&b);
	engine_close(log);
	lt_rmrf(tmp);
}

static void test_lying_codec_refused(void)
{
	struct engine *log = open_fresh(3600000);
	struct engine_stats st;
	struct batch_info bi;
	struct buf b;

	buf_init(&b, 0);
	CU_ASSERT_EQUAL(lt_batch(&b, 0, 3, clock_wall_ms(), -1, -1, -1, 20), 0);
	/* flagged gzip, holding plain records: CRC recomputed, header fine */
	b.data[BATCH_OFF_ATTRIBUTES + 1] |= CODEC_GZIP;
	batch_update_crc(b.data, b.len);
	CU_ASSERT_EQUAL(batch_validate(b.data, b.len, &bi), 0);
	CU_ASSERT_EQUAL(engine_batch_check(log, b.data, b.len, &bi), -ERR_CORRUPT);
	/* a well-formed gzip stream of bytes that are not records */
	{
		struct codec_ctx *cc = codec_ctx_new();
		struct buf z;
		struct batch_info hb;

		buf_init(&z, 0);
		CU_ASSERT_EQUAL(batch_header_parse(b.data, b.len, &hb), 0);
		CU_ASSERT_EQUAL(buf_append(&z, b.data, BATCH_HEADER_SIZE), 0);
		CU_ASSERT_EQUAL(codec_compress(cc, CODEC_GZIP, 0, "not records at all", 18, &z), 0);
		put_be32(z.data + BATCH_OFF_LENGTH, (uint32_t)(z.len - BATCH_LOG_OVERHEAD));
		batch_update_crc(z.data, z.len);
		CU_ASSERT_EQUAL(engine_batch_check(log, z.data, z.len, &bi), -ERR_CORRUPT);
		buf_release(&z);
		codec_ctx_free(cc);
	}
	engine_get_stats(log, &st);
	CU_ASSERT_EQUAL(st.corrupt_batches, 2);
	buf_release(&b);
	engine_close(log);
	lt_rmrf(tmp);
}

/* A zstd stream whose records end in junk past the first 64 KiB: the default
 * head check lets it through (bounded cost), verify_all_records refuses it. */
static void test_verify_all_records(void)
{
	struct codec_ctx *cc = codec_ctx_new();
	struct engine_config c;
	struct engine *log;
	struct batch_info bi;
	struct buf plain, recs, z;
	char val[200];

	buf_init(&plain, 0);
	buf_init(&recs, 0);
	buf_init(&z, 0);
	memset(val, 'v', sizeof(val));
	{
		struct batch_builder bb;
		struct batch_params bp;

		batch_builder_init(&bb, 64u << 20);
		for (int i = 0; i < 2000; i++)
			CU_ASSERT_EQUAL(batch_builder_add(&bb, clock_wall_ms(), "k", 1, val,
							  (int32_t)sizeof(val), NULL, 0),
					0);
		batch_params_init(&bp);
		CU_ASSERT_EQUAL_FATAL(batch_builder_finish(&bb, NULL, &bp, &plain), 0);
		batch_builder_release(&bb);
	}
	CU_ASSERT_EQUAL(
		buf_append(&recs, plain.data + BATCH_HEADER_SIZE, plain.len - BATCH_HEADER_SIZE),
		0);
	CU_ASSERT_EQUAL(buf_append(&recs, "\x7f\x7f junk", 7), 0);
	CU_ASSERT_EQUAL(buf_append(&z, plain.data, BATCH_HEADER_SIZE), 0);
	CU_ASSERT_EQUAL(codec_compress(cc, CODEC_ZSTD, 0, recs.data, recs.len, &z), 0);
	put_be16(z.data + BATCH_OFF_ATTRIBUTES, CODEC_ZSTD);
	put_be32(z.data + BATCH_OFF_LENGTH, (uint32_t)(z.len - BATCH_LOG_OVERHEAD));
	batch_update_crc(z.data, z.len);
	log = open_fresh(3600000);
	CU_ASSERT_EQUAL(engine_batch_check(log, z.data, z.len, &bi), 0);
	engine_close(log);
	lt_rmrf(tmp);
	log = open_fresh(3600000);
	engine_close(log);
	lt_config(&c, datadir, ENGINE_FSYNC_ALWAYS);
	c.verify_all_records = true;
	CU_ASSERT_EQUAL_FATAL(engine_open(&c, &log), 0);
	CU_ASSERT_EQUAL(engine_batch_check(log, z.data, z.len, &bi), -ERR_CORRUPT);
	engine_close(log);
	lt_rmrf(tmp);
	buf_release(&plain);
	buf_release(&recs);
	buf_release(&z);
	codec_ctx_free(cc);
}

static void test_log_append_time(void)
{
	struct engine *log = open_fresh(10);
	struct engine_partition_info pi;
	struct engine_append_result ar;
	struct topic_config tc;
	struct engine_stats st;
	struct batch_iter it;
	struct batch_info bi;
	struct record r;
	struct buf b;
	int64_t t0 = clock_wall_ms(), old = t0 - 7200000;

	memset(&tc, 0, sizeof(tc));
	tc.retention_ms = 3600000;
	tc.timestamp_type = ENGINE_TS_LOG_APPEND_TIME;
	CU_ASSERT_EQUAL_FATAL(engine_topic_create(log, "lat", &tc), 0);
	tc.timestamp_type = ENGINE_TS_CREATE_TIME;
	CU_ASSERT_EQUAL_FATAL(engine_topic_create(log, "ct", &tc), 0);
	buf_init(&b, 0);
	/* records two hours old: LogAppendTime keeps them, CreateTime does not */
	CU_ASSERT_EQUAL(lt_batch(&b, 0, 5, old, -1, -1, -1, 10), 0);
	CU_ASSERT_EQUAL(engine_batch_check(log, b.data, b.len, &bi), 0);
	CU_ASSERT_EQUAL(engine_append(log, "lat", 0, b.data, b.len, &ar), 0);
	CU_ASSERT(ar.log_append_time >= t0);
	CU_ASSERT_EQUAL(batch_validate(b.data, b.len, &bi), 0); /* CRC recomputed */
	CU_ASSERT(bi.attributes & BATCH_ATTR_LOG_APPEND_TIME);
	CU_ASSERT_EQUAL(bi.max_ts, ar.log_append_time);
	CU_ASSERT_EQUAL(batch_iter_init(&it, b.data, b.len, NULL, 1 << 20, true), 0);
	CU_ASSERT_EQUAL(batch_iter_next(&it, &r), 1);
	CU_ASSERT_EQUAL(r.timestamp, ar.log_append_time);
	batch_iter_release(&it);
	CU_ASSERT_EQUAL(lt_batch(&b, 0, 5, old, -1, -1, -1, 10), 0);
	CU_ASSERT_EQUAL(check_append(log, "ct", &b), 0);
	for (int i = 0; i < 500; i++) {
		engine_get_stats(log, &st);
		if (st.early_deleted_records)
			break;
		usleep(10000);
	}
	CU_ASSERT_EQUAL(st.early_deleted_records, 5);
	CU_ASSERT_EQUAL(engine_partition_info(log, "ct", 0, &pi), 0);
	CU_ASSERT_EQUAL(pi.log_start, 5);
	CU_ASSERT_EQUAL(engine_partition_info(log, "lat", 0, &pi), 0);
	CU_ASSERT_EQUAL(pi.log_start, 0);
	engine_close(log);
	/* persisted in the registry */
	{
		struct engine_config c;

		lt_config(&c, datadir, ENGINE_FSYNC_ALWAYS);
		CU_ASSERT_EQUAL_FATAL(engine_open(&c, &log), 0);
		CU_ASSERT_EQUAL(engine_topic_config(log, "lat", &tc), 0);
		CU_ASSERT_EQUAL(tc.timestamp_type, ENGINE_TS_LOG_APPEND_TIME);
		CU_ASSERT_EQUAL(engine_topic_config(log, "ct", &tc), 0);
		CU_ASSERT_EQUAL(tc.timestamp_type, ENGINE_TS_CREATE_TIME);
		engine_close(log);
	}
	CU_ASSERT_EQUAL(engine_ts_type_parse("LogAppendTime"), ENGINE_TS_LOG_APPEND_TIME);
	CU_ASSERT_EQUAL(engine_ts_type_parse("CreateTime"), ENGINE_TS_CREATE_TIME);
	CU_ASSERT(engine_ts_type_parse("logappendtime") < 0);
	CU_ASSERT(engine_ts_type_parse(NULL) < 0);
	buf_release(&b);
	lt_rmrf(tmp);
}

static int count_dirs(const char *dir, const char *prefix)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)) != NULL)
		n += strncmp(e->d_name, prefix, strlen(prefix)) == 0;
	closedir(d);
	return n;
}

static void test_create_rolls_back(void)
{
	struct engine *log = open_fresh(3600000);
	struct topic_config tc;
	struct rlimit old, low;
	int rc;

	memset(&tc, 0, sizeof(tc));
	tc.partitions = 1500;
	CU_ASSERT_EQUAL_FATAL(getrlimit(RLIMIT_NOFILE, &old), 0);
	low = old;
	low.rlim_cur = 200; /* far fewer than 1,500 partitions need */
	CU_ASSERT_EQUAL_FATAL(setrlimit(RLIMIT_NOFILE, &low), 0);
	rc = engine_topic_create(log, "many", &tc);
	CU_ASSERT_EQUAL(setrlimit(RLIMIT_NOFILE, &old), 0);
	CU_ASSERT(rc < 0);
	CU_ASSERT_EQUAL(count_dirs(datadir, "many-"), 0);
	CU_ASSERT_EQUAL(engine_topic_config(log, "many", &tc), -ERR_NOT_FOUND);
	/* growing a topic part-way likewise */
	tc.partitions = 1;
	CU_ASSERT_EQUAL(engine_topic_create(log, "grow", &tc), 0);
	{
		struct engine_topic_alter a;

		memset(&a, 0, sizeof(a));
		a.partitions = 1500;
		CU_ASSERT_EQUAL_FATAL(setrlimit(RLIMIT_NOFILE, &low), 0);
		rc = engine_topic_alter(log, "grow", &a);
		CU_ASSERT_EQUAL(setrlimit(RLIMIT_NOFILE, &old), 0);
		CU_ASSERT(rc < 0);
		CU_ASSERT_EQUAL(count_dirs(datadir, "grow-"), 1);
	}
	engine_close(log);
	lt_rmrf(tmp);
}

static void expect_mode(const char *path, mode_t want)
{
	struct stat st;

	CU_ASSERT_EQUAL_FATAL(stat(path, &st), 0);
	if ((st.st_mode & 07777) != want)
		fprintf(stderr, "%s: mode %o, want %o\n", path, st.st_mode & 07777, want);
	CU_ASSERT_EQUAL(st.st_mode & 07777, want);
}

static void test_private_modes(void)
{
	mode_t um = umask(0);
	struct engine *log = open_fresh(3600000);
	struct topic_config tc;
	char p[512];
	struct buf b;

	memset(&tc, 0, sizeof(tc));
	CU_ASSERT_EQUAL_FATAL(engine_topic_create(log, "modes", &tc), 0);
	buf_init(&b, 0);
	CU_ASSERT_EQUAL(lt_batch(&b, 0, 2, clock_wall_ms(), -1, -1, -1, 10), 0);
	CU_ASSERT_EQUAL(check_append(log, "modes", &b), 0);
	engine_close(log);
	umask(um);
	expect_mode(datadir, 0750);
	snprintf(p, sizeof(p), "%s/meta", datadir);
	expect_mode(p, 0750);
	snprintf(p, sizeof(p), "%s/meta/topics.yaml", datadir);
	expect_mode(p, 0640);
	snprintf(p, sizeof(p), "%s/modes-0", datadir);
	expect_mode(p, 0750);
	snprintf(p, sizeof(p), "%s/modes-0/00000000000000000000.log", datadir);
	expect_mode(p, 0640);
	snprintf(p, sizeof(p), "%s/modes-0/00000000000000000000.index", datadir);
	expect_mode(p, 0640);
	buf_release(&b);
	lt_rmrf(tmp);
}

int main(void)
{
	static const struct unit_test tests[] = {
		UNIT_TEST(test_untimed_records_survive_retention),
		UNIT_TEST(test_lying_codec_refused),
		UNIT_TEST(test_verify_all_records),
		UNIT_TEST(test_log_append_time),
		UNIT_TEST(test_create_rolls_back),
		UNIT_TEST(test_private_modes),
		UNIT_END,
	};

	log_set_level(LOG_LVL_ERROR);
	return unit_run("engine_integrity", tests);
}
