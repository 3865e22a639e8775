/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Committed-offsets journal: commits become visible only after their sync,
 * survive a reopen, a torn tail is cut, tombstones stick, compaction keeps
 * the live set, cancelled commits still apply, snapshots copy.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/fs.h"
#include "store/groups/offsets.h"
#include "tests/unit/unit.h"

static struct evloop *loop;
static char dir[128];
static int done_calls;
static int done_rc;

static void on_done(struct offsets_commit *c, int rc)
{
	(void)c;
	done_calls++;
	done_rc = rc;
}

static void run_until(const int *counter, int want)
{
	for (int i = 0; i < 500 && *counter < want; i++)
		evloop_run_once(loop, 10);
}

static void setup(void)
{
	snprintf(dir, sizeof(dir), "%s/meta", unit_tmpdir());
	loop = evloop_new();
	done_calls = 0;
	done_rc = 1;
}

static void teardown(void)
{
	char top[128];

	evloop_free(loop);
	snprintf(top, sizeof(top), "%.*s", (int)(strlen(dir) - 5), dir);
	fs_rmtree(top);
}

static int commit(struct offsets *o, const char *group, const char *topic, int32_t p, int64_t off,
		  const char *meta)
{
	struct offsets_record r = {topic, p, off, 3, meta};
	struct offsets_commit c = {.group = group, .records = &r, .n = 1, .done = on_done};
	int before = done_calls;
	int rc = offsets_commit(o, &c);

	if (rc < 0)
		return rc;
	run_until(&done_calls, before + 1);
	return done_calls == before + 1 ? done_rc : -1;
}

static void test_commit_and_reopen(void)
{
	struct offsets *o;
	struct offsets_value v;

	setup();
	CU_ASSERT_EQUAL_FATAL(offsets_open(loop, dir, &o), 0);
	CU_ASSERT_FALSE(offsets_get(o, "g", "t", 0, &v));
	CU_ASSERT_EQUAL(commit(o, "g", "t", 0, 42, "m1"), 0);
	CU_ASSERT_EQUAL(commit(o, "g", "t", 1, 7, NULL), 0);
	CU_ASSERT_EQUAL(commit(o, "g", "t", 0, 43, "m2"), 0);
	CU_ASSERT_EQUAL(commit(o, "h", "u", 5, 1000, ""), 0);
	CU_ASSERT_TRUE(offsets_get(o, "g", "t", 0, &v));
	CU_ASSERT_EQUAL(v.offset, 43);
	CU_ASSERT_EQUAL(v.leader_epoch, 3);
	CU_ASSERT_STRING_EQUAL(v.metadata, "m2");
	CU_ASSERT(v.commit_ms > 0);
	offsets_close(o);

	CU_ASSERT_EQUAL_FATAL(offsets_open(loop, dir, &o), 0);
	CU_ASSERT_TRUE(offsets_get(o, "g", "t", 0, &v));
	CU_ASSERT_EQUAL(v.offset, 43);
	CU_ASSERT_STRING_EQUAL(v.metadata, "m2");
	CU_ASSERT_TRUE(offsets_get(o, "g", "t", 1, &v));
	CU_ASSERT_EQUAL(v.offset, 7);
	CU_ASSERT_PTR_NULL(v.metadata);
	CU_ASSERT_TRUE(offsets_get(o, "h", "u", 5, &v));
	CU_ASSERT_STRING_EQUAL(v.metadata, "");
	CU_ASSERT_EQUAL(offsets_group_last_commit(o, "zzz"), -1);
	CU_ASSERT(offsets_group_last_commit(o, "g") > 0);
	offsets_close(o);
	teardown();
}

/* Visible only after the sync: before the loop runs the completion, a
 * reader must not see the new value. */
static void test_applied_after_sync(void)
{
	struct offsets *o;
	struct offsets_value v;
	struct offsets_record r = {"t", 0, 99, -1, NULL};
	struct offsets_commit c = {.group = "g", .records = &r, .n = 1, .done = on_done};

	setup();
	CU_ASSERT_EQUAL_FATAL(offsets_open(loop, dir, &o), 0);
	CU_ASSERT_EQUAL(offsets_commit(o, &c), 0);
	CU_ASSERT_FALSE(offsets_get(o, "g", "t", 0, &v));
	CU_ASSERT_EQUAL(done_calls, 0);
	run_until(&done_calls, 1);
	CU_ASSERT_EQUAL(done_calls, 1);
	CU_ASSERT_EQUAL(done_rc, 0);
	CU_ASSERT_TRUE(offsets_get(o, "g", "t", 0, &v));
	offsets_close(o);
	teardown();
}

static void test_torn_tail(void)
{
	struct offsets *o;
	struct offsets_value v;
	char path[256];
	struct stat st1, st2;
	int fd;
	static const uint8_t junk[] = {0, 0, 0, 40, 1, 2, 3, 4, 5};

	setup();
	CU_ASSERT_EQUAL_FATAL(offsets_open(loop, dir, &o), 0);
	CU_ASSERT_EQUAL(commit(o, "g", "t", 0, 5, "x"), 0);
	offsets_close(o);
	snprintf(path, sizeof(path), "%s/%s", dir, OFFSETS_FILE);
	CU_ASSERT_EQUAL(stat(path, &st1), 0);
	/* a half-written record, as a crash mid-append leaves it */
	fd = open(path, O_WRONLY | O_APPEND);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_EQUAL(write(fd, junk, sizeof(junk)), (ssize_t)sizeof(junk));
	close(fd);
	CU_ASSERT_EQUAL_FATAL(offsets_open(loop, dir, &o), 0);
	CU_ASSERT_TRUE(offsets_get(o, "g", "t", 0, &v));
	CU_ASSERT_EQUAL(v.offset, 5);
	CU_ASSERT_EQUAL(stat(path, &st2), 0);
	CU_ASSERT_EQUAL(st2.st_size, st1.st_size);
	/* appends after the cut are readable again */
	CU_ASSERT_EQUAL(commit(o, "g", "t", 0, 6, "y"), 0);
	offsets_close(o);
	CU_ASSERT_EQUAL_FATAL(offsets_open(loop, dir, &o), 0);
	CU_ASSERT_TRUE(offsets_get(o, "g", "t", 0, &v));
	CU_ASSERT_EQUAL(v.offset, 6);
	offsets_close(o);
	/* a flipped bit fails the CRC: that record and later ones are dropped */
	fd = open(path, O_RDWR);
	{
		uint8_t byte;
		off_t at = (off_t)st1.st_size + 20;

		CU_ASSERT_EQUAL(pread(fd, &byte, 1, at), 1);
		byte ^= 0x40;
		CU_ASSERT_EQUAL(pwrite(fd, &byte, 1, at), 1);
	}
	close(fd);
	CU_ASSERT_EQUAL_FATAL(offsets_open(loop, dir, &o), 0);
	CU_ASSERT_TRUE(offsets_get(o, "g", "t", 0, &v));
	CU_ASSERT_EQUAL(v.offset, 5);
	offsets_close(o);
	teardown();
}

static void test_not_a_journal(void)
{
	struct offsets *o;
	char path[256];

	setup();
	CU_ASSERT_EQUAL(fs_mkdirs(dir, 0755), 0);
	snprintf(path, sizeof(path), "%s/%s", dir, OFFSETS_FILE);
	CU_ASSERT_EQUAL(fs_write_atomic(dir, OFFSETS_FILE, "garbage!garbage!", 16), 0);
	CU_ASSERT(offsets_open(loop, dir, &o) < 0);
	teardown();
}

static void test_tombstones(void)
{
	struct offsets *o;
	struct offsets_value v;

	setup();
	CU_ASSERT_EQUAL_FATAL(offsets_open(loop, dir, &o), 0);
	CU_ASSERT_EQUAL(commit(o, "g1", "a", 0, 1, NULL), 0);
	CU_ASSERT_EQUAL(commit(o, "g1", "b", 0, 2, NULL), 0);
	CU_ASSERT_EQUAL(commit(o, "g2", "a", 0, 3, NULL), 0);
	CU_ASSERT_EQUAL(commit(o, "g2", "b", 1, 4, NULL), 0);
	CU_ASSERT_EQUAL(offsets_delete_topic(o, "a"), 2);
	CU_ASSERT_EQUAL(offsets_delete_group(o, "g2"), 1);
	CU_ASSERT_FALSE(offsets_get(o, "g1", "a", 0, &v));
	CU_ASSERT_TRUE(offsets_get(o, "g1", "b", 0, &v));
	/* tombstones become durable with the next sync */
	CU_ASSERT_EQUAL(commit(o, "g3", "c", 0, 9, NULL), 0);
	offsets_close(o);
	CU_ASSERT_EQUAL_FATAL(offsets_open(loop, dir, &o), 0);
	CU_ASSERT_FALSE(offsets_get(o, "g1", "a", 0, &v));
	CU_ASSERT_FALSE(offsets_get(o, "g2", "a", 0, &v));
	CU_ASSERT_FALSE(offsets_get(o, "g2", "b", 1, &v));
	CU_ASSERT_TRUE(offsets_get(o, "g1", "b", 0, &v));
	CU_ASSERT_TRUE(offsets_get(o, "g3", "c", 0, &v));
	offsets_close(o);
	teardown();
}

static void test_compaction(void)
{
	struct offsets *o;
	struct offsets_value v;
	struct offsets_stats st;
	char meta[1000];

	setup();
	memset(meta, 'm', sizeof(meta) - 1);
	meta[sizeof(meta) - 1] = '\0';
	CU_ASSERT_EQUAL_FATAL(offsets_open(loop, dir, &o), 0);
	/* ~1.1 KB per record over 4 keys: past 1 MiB and 4x the live size */
	for (int i = 0; i < 1500; i++)
		CU_ASSERT_EQUAL(commit(o, "g", "t", i % 4, i, meta), 0);
	offsets_get_stats(o, &st);
	CU_ASSERT(st.compactions >= 1);
	CU_ASSERT(st.journal_bytes < 1100 * 1500 / 2);
	CU_ASSERT_EQUAL(st.entries, 4);
	offsets_close(o);
	CU_ASSERT_EQUAL_FATAL(offsets_open(loop, dir, &o), 0);
	for (int p = 0; p < 4; p++) {
		CU_ASSERT_TRUE(offsets_get(o, "g", "t", p, &v));
		CU_ASSERT_EQUAL(v.offset, 1496 + p);
		CU_ASSERT_STRING_EQUAL(v.metadata, meta);
	}
	offsets_close(o);
	teardown();
}

static void test_cancel_and_snapshot(void)
{
	struct offsets *o;
	struct offsets_value v;
	struct offsets_record r[2] = {{"t", 0, 10, -1, NULL}, {"t", 1, 11, -1, NULL}};
	struct offsets_commit c = {.group = "g", .records = r, .n = 2, .done = on_done};
	struct offsets_snap_entry *snap;
	size_t n;

	setup();
	CU_ASSERT_EQUAL_FATAL(offsets_open(loop, dir, &o), 0);
	CU_ASSERT_EQUAL(offsets_commit(o, &c), 0);
	offsets_cancel(o, &c);
	/* a later commit's completion proves the earlier sync happened */
	CU_ASSERT_EQUAL(commit(o, "h", "t", 0, 1, NULL), 0);
	CU_ASSERT_EQUAL(done_calls, 1);
	CU_ASSERT_TRUE(offsets_get(o, "g", "t", 1, &v));
	CU_ASSERT_EQUAL(v.offset, 11);
	CU_ASSERT_EQUAL(offsets_snapshot(o, &snap, &n), 0);
	CU_ASSERT_EQUAL(n, 3);
	for (size_t i = 0; i < n; i++)
		CU_ASSERT(strcmp(snap[i].group, "g") == 0 || strcmp(snap[i].group, "h") == 0);
	offsets_snapshot_free(snap, n);
	offsets_close(o);
	teardown();
}

/* A journal written by tests/data/gen_offsets_journal.py from the format
 * in docs/FORMATS.md, not by this code: the documented format is the one
 * replayed. */
static void test_documented_format(void)
{
	struct offsets *o;
	struct offsets_value v;
	struct buf b;

	setup();
	buf_init(&b, 1 << 20);
	CU_ASSERT_EQUAL_FATAL(fs_read_file("tests/data/offsets/documented.journal", &b), 0);
	CU_ASSERT_EQUAL(fs_mkdirs(dir, 0755), 0);
	CU_ASSERT_EQUAL(fs_write_atomic(dir, OFFSETS_FILE, b.data, b.len), 0);
	buf_release(&b);
	CU_ASSERT_EQUAL_FATAL(offsets_open(loop, dir, &o), 0);
	CU_ASSERT_TRUE(offsets_get(o, "billing", "logs", 0, &v));
	CU_ASSERT_EQUAL(v.offset, 42);
	CU_ASSERT_EQUAL(v.leader_epoch, 0);
	CU_ASSERT_STRING_EQUAL(v.metadata, "host=b");
	CU_ASSERT_EQUAL(v.commit_ms, 1700000000003LL);
	CU_ASSERT_TRUE(offsets_get(o, "billing", "logs", 1, &v));
	CU_ASSERT_EQUAL(v.offset, 7);
	CU_ASSERT_PTR_NULL(v.metadata);
	CU_ASSERT_FALSE(offsets_get(o, "search", "logs", 0, &v));
	CU_ASSERT_TRUE(offsets_get(o, "search", "nginx", 2, &v));
	CU_ASSERT_EQUAL(v.offset, 5);
	/* and what this code appends, that reader reads back */
	CU_ASSERT_EQUAL(commit(o, "search", "logs", 0, 101, NULL), 0);
	offsets_close(o);
	CU_ASSERT_EQUAL_FATAL(offsets_open(loop, dir, &o), 0);
	CU_ASSERT_TRUE(offsets_get(o, "search", "logs", 0, &v));
	CU_ASSERT_EQUAL(v.offset, 101);
	offsets_close(o);
	teardown();
}

int main(void)
{
	static const struct unit_test tests[] = {
		UNIT_TEST(test_commit_and_reopen),
		UNIT_TEST(test_applied_after_sync),
		UNIT_TEST(test_torn_tail),
		UNIT_TEST(test_not_a_journal),
		UNIT_TEST(test_tombstones),
		UNIT_TEST(test_compaction),
		UNIT_TEST(test_cancel_and_snapshot),
		UNIT_TEST(test_documented_format),
		UNIT_END,
	};

	return unit_run("offsets", tests);
}
