/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Topic configs changed while the store runs (store/engine/engine_topic.c):
 * the recorded-only configs ("extra") persisted with the topic through
 * create, alter, delete and reopen; malformed extras refused; a timestamp
 * type switched on a live topic applied to the next append (LogAppendTime:
 * attribute bit, maxTimestamp, valid CRC); partitions grown and readable at
 * once; the data directory's usage.
 */
#include <sys/stat.h>

#include "lib/clock.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "tests/unit/enginetest.h"
#include "tests/unit/unit.h"

static char *tmp;
static char datadir[256];

static struct engine *open_log(void)
{
	struct engine_config c;
	struct engine *log = NULL;

	lt_config(&c, datadir, ENGINE_FSYNC_ALWAYS);
	CU_ASSERT_EQUAL_FATAL(engine_open(&c, &log), 0);
	return log;
}

static void expect_extra(struct engine *log, const char *topic, const char *want)
{
	char *got = NULL;

	CU_ASSERT_EQUAL_FATAL(engine_topic_extra(log, topic, &got), 0);
	CU_ASSERT_STRING_EQUAL(got, want);
	mem_free(got);
}

static void test_extra_persist(void)
{
	struct topic_config tc;
	struct engine_topic_alter a;
	struct engine *log;
	char *x = NULL;

	tmp = unit_tmpdir();
	snprintf(datadir, sizeof(datadir), "%s/data", tmp);
	log = open_log();
	memset(&tc, 0, sizeof(tc));
	tc.partitions = 2;
	CU_ASSERT_EQUAL(engine_topic_create_ex(log, "t", &tc,
					       "cleanup.policy=compact\ncompression.type=lz4\n"),
			0);
	CU_ASSERT_EQUAL(engine_topic_create(log, "plain", &tc), 0);
	/* malformed: unsorted, duplicate, quote, dollar, no newline, empty key */
	CU_ASSERT_EQUAL(engine_topic_create_ex(log, "b1", &tc, "z=1\na=2\n"), -ERR_INVALID);
	CU_ASSERT_EQUAL(engine_topic_create_ex(log, "b2", &tc, "a=1\na=2\n"), -ERR_INVALID);
	CU_ASSERT_EQUAL(engine_topic_create_ex(log, "b3", &tc, "a='x'\n"), -ERR_INVALID);
	CU_ASSERT_EQUAL(engine_topic_create_ex(log, "b4", &tc, "a=${HOME}\n"), -ERR_INVALID);
	CU_ASSERT_EQUAL(engine_topic_create_ex(log, "b5", &tc, "a=1"), -ERR_INVALID);
	CU_ASSERT_EQUAL(engine_topic_create_ex(log, "b6", &tc, "=1\n"), -ERR_INVALID);
	CU_ASSERT_EQUAL(engine_topic_config(log, "b1", &tc), -ERR_NOT_FOUND);
	expect_extra(log, "t", "cleanup.policy=compact\ncompression.type=lz4\n");
	expect_extra(log, "plain", "");
	CU_ASSERT_EQUAL(engine_topic_extra(log, "nope", &x), -ERR_NOT_FOUND);
	engine_close(log);

	log = open_log();
	expect_extra(log, "t", "cleanup.policy=compact\ncompression.type=lz4\n");
	memset(&a, 0, sizeof(a));
	a.extra = "delete.retention.ms=100\nmin.insync.replicas=2\n";
	a.set_retention_ms = true;
	a.retention_ms = 5000;
	CU_ASSERT_EQUAL(engine_topic_alter(log, "t", &a), 0);
	a.extra = "b=1\na=1\n";
	CU_ASSERT_EQUAL(engine_topic_alter(log, "t", &a), -ERR_INVALID);
	/* an alter without extra keeps the recorded configs */
	memset(&a, 0, sizeof(a));
	a.set_segment_ms = true;
	a.segment_ms = 60000;
	CU_ASSERT_EQUAL(engine_topic_alter(log, "t", &a), 0);
	engine_close(log);

	log = open_log();
	expect_extra(log, "t", "delete.retention.ms=100\nmin.insync.replicas=2\n");
	CU_ASSERT_EQUAL(engine_topic_config(log, "t", &tc), 0);
	CU_ASSERT_EQUAL(tc.retention_ms, 5000);
	CU_ASSERT_EQUAL(tc.segment_ms, 60000);
	memset(&a, 0, sizeof(a));
	a.extra = "";
	CU_ASSERT_EQUAL(engine_topic_alter(log, "t", &a), 0);
	expect_extra(log, "t", "");
	/* deleted and re-created: the old recorded configs are gone */
	CU_ASSERT_EQUAL(engine_topic_create_ex(log, "gone", &tc, "x.y=1\n"), 0);
	CU_ASSERT_EQUAL(engine_topic_delete(log, "gone"), 0);
	CU_ASSERT_EQUAL(engine_topic_create(log, "gone", &tc), 0);
	expect_extra(log, "gone", "");
	engine_close(log);
	lt_rmrf(tmp);
}

static void test_timestamp_type_live(void)
{
	struct topic_config tc;
	struct engine_topic_alter a;
	struct engine_append_result r;
	struct engine *log;
	struct batch_info bi;
	struct buf b;
	int64_t before;

	tmp = unit_tmpdir();
	snprintf(datadir, sizeof(datadir), "%s/data", tmp);
	log = open_log();
	memset(&tc, 0, sizeof(tc));
	tc.partitions = 1;
	CU_ASSERT_EQUAL(engine_topic_create(log, "ts", &tc), 0);
	buf_init(&b, 0);
	CU_ASSERT_EQUAL_FATAL(lt_batch(&b, 0, 3, 1000, -1, 0, 0, 0), 0);
	CU_ASSERT_EQUAL(engine_append(log, "ts", 0, b.data, b.len, &r), 0);
	CU_ASSERT_EQUAL(r.log_append_time, -1);

	memset(&a, 0, sizeof(a));
	a.set_timestamp_type = true;
	a.timestamp_type = ENGINE_TS_LOG_APPEND_TIME;
	CU_ASSERT_EQUAL(engine_topic_alter(log, "ts", &a), 0);
	CU_ASSERT_EQUAL_FATAL(lt_batch(&b, 3, 3, 1000, -1, 0, 0, 0), 0);
	before = clock_wall_ms();
	CU_ASSERT_EQUAL(engine_append(log, "ts", 0, b.data, b.len, &r), 0);
	CU_ASSERT(r.log_append_time >= before);
	CU_ASSERT_EQUAL(batch_header_parse(b.data, b.len, &bi), 0);
	CU_ASSERT(bi.attributes & BATCH_ATTR_LOG_APPEND_TIME);
	CU_ASSERT_EQUAL(bi.max_ts, r.log_append_time);
	CU_ASSERT_EQUAL(batch_validate(b.data, b.len, &bi), 0); /* CRC recomputed */

	a.timestamp_type = ENGINE_TS_CREATE_TIME;
	CU_ASSERT_EQUAL(engine_topic_alter(log, "ts", &a), 0);
	CU_ASSERT_EQUAL_FATAL(lt_batch(&b, 6, 3, 1000, -1, 0, 0, 0), 0);
	CU_ASSERT_EQUAL(engine_append(log, "ts", 0, b.data, b.len, &r), 0);
	CU_ASSERT_EQUAL(r.log_append_time, -1);
	CU_ASSERT_EQUAL(batch_header_parse(b.data, b.len, &bi), 0);
	CU_ASSERT_FALSE(bi.attributes & BATCH_ATTR_LOG_APPEND_TIME);
	CU_ASSERT_EQUAL(engine_wait_visible(log, "ts", 0, r.last_offset, 10000), 0);
	CU_ASSERT_EQUAL(lt_read_all(log, "ts", 0, 0, 1 << 20, NULL, NULL), 3);
	buf_release(&b);
	engine_close(log);
	lt_rmrf(tmp);
}

static void test_grow_and_usage(void)
{
	struct topic_config tc;
	struct engine_topic_alter a;
	struct engine_partition_info pi;
	struct engine *log;
	struct buf b;
	uint64_t total = 0, usable = 0;

	tmp = unit_tmpdir();
	snprintf(datadir, sizeof(datadir), "%s/data", tmp);
	log = open_log();
	memset(&tc, 0, sizeof(tc));
	tc.partitions = 1;
	CU_ASSERT_EQUAL(engine_topic_create(log, "g", &tc), 0);
	memset(&a, 0, sizeof(a));
	a.partitions = 3;
	CU_ASSERT_EQUAL(engine_topic_alter(log, "g", &a), 0);
	buf_init(&b, 0);
	CU_ASSERT_EQUAL_FATAL(lt_batch(&b, 0, 2, 1000, -1, 0, 0, 100), 0);
	CU_ASSERT_EQUAL(lt_append(log, "g", 2, &b, NULL), 0);
	CU_ASSERT_EQUAL(engine_partition_info(log, "g", 2, &pi), 0);
	CU_ASSERT(pi.bytes >= (int64_t)b.len);
	a.partitions = 3; /* unchanged is fine, fewer is not */
	CU_ASSERT_EQUAL(engine_topic_alter(log, "g", &a), 0);
	a.partitions = 2;
	CU_ASSERT_EQUAL(engine_topic_alter(log, "g", &a), -ERR_INVALID);
	CU_ASSERT_EQUAL(engine_disk_usage(log, &total, &usable), 0);
	CU_ASSERT(total > 0 && usable <= total);
	CU_ASSERT_STRING_EQUAL(engine_data_dir(log), datadir);
	engine_close(log);

	log = open_log();
	CU_ASSERT_EQUAL(engine_partition_info(log, "g", 2, &pi), 0);
	CU_ASSERT_EQUAL(pi.end, 2);
	buf_release(&b);
	engine_close(log);
	lt_rmrf(tmp);
}

static void write_registry(const char *body)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/meta/topics.yaml", datadir);
	f = fopen(path, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fputs(body, f);
	fclose(f);
}

/* A registry edited by hand (the store stopped): the configs map is read
 * back; an unsorted one makes the open fail rather than guess. */
static void test_registry_configs_by_hand(void)
{
	struct engine_config c;
	struct topic_config tc;
	struct engine *log = NULL;

	tmp = unit_tmpdir();
	snprintf(datadir, sizeof(datadir), "%s/data", tmp);
	log = open_log();
	memset(&tc, 0, sizeof(tc));
	CU_ASSERT_EQUAL(engine_topic_create(log, "h", &tc), 0);
	engine_close(log);
	write_registry("version: 1\ntopics:\n  - name: \"h\"\n    partitions: 1\n"
		       "    configs:\n      cleanup.policy: 'compact'\n"
		       "      min.insync.replicas: 2\n");
	log = open_log();
	expect_extra(log, "h", "cleanup.policy=compact\nmin.insync.replicas=2\n");
	engine_close(log);
	write_registry("version: 1\ntopics:\n  - name: \"h\"\n    partitions: 1\n"
		       "    configs:\n      z.z: '1'\n      a.a: '2'\n");
	lt_config(&c, datadir, ENGINE_FSYNC_ALWAYS);
	log = NULL;
	CU_ASSERT_NOT_EQUAL(engine_open(&c, &log), 0);
	engine_close(log);
	lt_rmrf(tmp);
}

int main(void)
{
	static const struct unit_test tests[] = {
		UNIT_TEST(test_extra_persist),
		UNIT_TEST(test_timestamp_type_live),
		UNIT_TEST(test_grow_and_usage),
		UNIT_TEST(test_registry_configs_by_hand),
		UNIT_END,
	};

	log_set_level(LOG_LVL_WARN);
	return unit_run("engine_topiccfg", tests);
}
