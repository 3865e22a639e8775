/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Topic ids in the log engine (store/engine/engine_topic_id.c, registry.c):
 * a random v4 UUID at creation, lookups both ways, stable across reopen,
 * new after delete + re-create, given (and persisted) at open to the topics
 * of a data dir from before ids and of a rebuilt registry; bad or duplicate
 * ids in topics.yaml refuse the open.
 */
#include <stdio.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "store/engine/engine.h"
#include "store/engine/registry.h"
#include "tests/unit/enginetest.h"
#include "tests/unit/unit.h"

static char datadir[256];
static char metadir[280];
static char regpath[300];

static int write_reg(const void *p, size_t n)
{
	return fs_write_atomic(metadir, "topics.yaml", p, n);
}

static void fresh(void)
{
	char *tmp = unit_tmpdir();

	snprintf(datadir, sizeof(datadir), "%s/data", tmp);
	snprintf(metadir, sizeof(metadir), "%s/meta", datadir);
	snprintf(regpath, sizeof(regpath), "%s/topics.yaml", metadir);
}

static struct engine *open_log(void)
{
	struct engine_config c;
	struct engine *log = NULL;

	lt_config(&c, datadir, ENGINE_FSYNC_NEVER);
	CU_ASSERT_EQUAL_FATAL(engine_open(&c, &log), 0);
	return log;
}

static int try_open(void)
{
	struct engine_config c;
	struct engine *log = NULL;
	int rc;

	lt_config(&c, datadir, ENGINE_FSYNC_NEVER);
	rc = engine_open(&c, &log);
	engine_close(log);
	return rc;
}

static void create(struct engine *log, const char *name, int32_t parts)
{
	struct topic_config tc;

	memset(&tc, 0, sizeof(tc));
	tc.partitions = parts;
	CU_ASSERT_EQUAL_FATAL(engine_topic_create(log, name, &tc), 0);
}

static bool zero(const uint8_t id[16])
{
	static const uint8_t z[16];

	return memcmp(id, z, 16) == 0;
}

/* Rewrite topics.yaml without lines containing what (an old data dir). */
static void strip_lines(const char *what)
{
	struct buf in, out;
	const char *p, *end;

	buf_init(&in, 0);
	buf_init(&out, 0);
	CU_ASSERT_EQUAL_FATAL(fs_read_file(regpath, &in), 0);
	p = (const char *)in.data;
	end = p + in.len;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) + 1 : (size_t)(end - p);

		if (!memmem(p, n, what, strlen(what)))
			buf_append(&out, p, n);
		p += n;
	}
	CU_ASSERT_EQUAL_FATAL(write_reg(out.data, out.len), 0);
	buf_release(&in);
	buf_release(&out);
}

static void test_create_lookup_reopen(void)
{
	uint8_t a[16], b[16], again[16];
	char name[TOPIC_NAME_MAX + 1];
	struct engine *log;

	fresh();
	log = open_log();
	create(log, "alpha", 2);
	create(log, "beta", 1);
	CU_ASSERT_EQUAL(engine_topic_id(log, "alpha", a), 0);
	CU_ASSERT_EQUAL(engine_topic_id(log, "beta", b), 0);
	CU_ASSERT_EQUAL(engine_topic_id(log, "gamma", again), -ERR_NOT_FOUND);
	CU_ASSERT_FALSE(zero(a));
	CU_ASSERT(memcmp(a, b, 16) != 0);
	CU_ASSERT_EQUAL(a[6] >> 4, 4);      /* version 4 */
	CU_ASSERT_EQUAL(a[8] & 0xc0, 0x80); /* RFC 4122 variant */
	CU_ASSERT_EQUAL(engine_topic_by_id(log, a, name, sizeof(name)), 0);
	CU_ASSERT_STRING_EQUAL(name, "alpha");
	CU_ASSERT_EQUAL(engine_topic_by_id(log, b, name, sizeof(name)), 0);
	CU_ASSERT_STRING_EQUAL(name, "beta");
	CU_ASSERT_EQUAL(engine_topic_by_id(log, a, name, 3), -ERR_TOO_LARGE);
	memset(again, 0, sizeof(again));
	CU_ASSERT_EQUAL(engine_topic_by_id(log, again, name, sizeof(name)), -ERR_NOT_FOUND);
	engine_close(log);

	/* stable across a restart */
	log = open_log();
	CU_ASSERT_EQUAL(engine_topic_id(log, "alpha", again), 0);
	CU_ASSERT(memcmp(a, again, 16) == 0);
	CU_ASSERT_EQUAL(engine_topic_by_id(log, b, name, sizeof(name)), 0);
	CU_ASSERT_STRING_EQUAL(name, "beta");

	/* delete + re-create: a new id, the old one gone */
	CU_ASSERT_EQUAL(engine_topic_delete(log, "alpha"), 0);
	CU_ASSERT_EQUAL(engine_topic_by_id(log, a, name, sizeof(name)), -ERR_NOT_FOUND);
	create(log, "alpha", 2);
	CU_ASSERT_EQUAL(engine_topic_id(log, "alpha", again), 0);
	CU_ASSERT(memcmp(a, again, 16) != 0);
	CU_ASSERT_EQUAL(engine_topic_by_id(log, a, name, sizeof(name)), -ERR_NOT_FOUND);
	CU_ASSERT_EQUAL(engine_topic_by_id(log, again, name, sizeof(name)), 0);
	/* auto-created topics get one too */
	CU_ASSERT(engine_topic_ensure(log, "auto") > 0);
	CU_ASSERT_EQUAL(engine_topic_id(log, "auto", b), 0);
	CU_ASSERT_FALSE(zero(b));
	engine_close(log);
}

static void test_upgrade_assigns_ids(void)
{
	uint8_t a[16], again[16];
	struct engine *log;

	fresh();
	log = open_log();
	create(log, "old", 1);
	CU_ASSERT_EQUAL(engine_topic_id(log, "old", a), 0);
	engine_close(log);
	strip_lines("id:"); /* as a store before topic ids wrote it */
	log = open_log();
	CU_ASSERT_EQUAL(engine_topic_id(log, "old", again), 0);
	CU_ASSERT_FALSE(zero(again));
	CU_ASSERT(memcmp(a, again, 16) != 0);
	engine_close(log);
	/* persisted at that open: the next one sees the same id */
	log = open_log();
	CU_ASSERT_EQUAL(engine_topic_id(log, "old", a), 0);
	CU_ASSERT(memcmp(a, again, 16) == 0);
	engine_close(log);

	/* a lost registry is rebuilt from the directories, ids included */
	CU_ASSERT_EQUAL(unlink(regpath), 0);
	log = open_log();
	CU_ASSERT_EQUAL(engine_topic_id(log, "old", a), 0);
	CU_ASSERT_FALSE(zero(a));
	engine_close(log);
	log = open_log();
	CU_ASSERT_EQUAL(engine_topic_id(log, "old", again), 0);
	CU_ASSERT(memcmp(a, again, 16) == 0);
	engine_close(log);
}

static void test_bad_ids_refused(void)
{
	struct buf b;

	fresh();
	engine_close(open_log());
	buf_init(&b, 0);
	buf_printf(&b, "version: 1\ntopics:\n"
		       "  - name: \"t\"\n    id: \"not-a-uuid\"\n    partitions: 1\n");
	CU_ASSERT_EQUAL(write_reg(b.data, b.len), 0);
	CU_ASSERT_EQUAL(try_open(), -ERR_CORRUPT);
	buf_reset(&b);
	buf_printf(&b, "version: 1\ntopics:\n"
		       "  - name: \"t\"\n    id: \"00000000-0000-0000-0000-000000000000\"\n");
	CU_ASSERT_EQUAL(write_reg(b.data, b.len), 0);
	CU_ASSERT_EQUAL(try_open(), -ERR_CORRUPT);
	buf_reset(&b);
	buf_printf(&b, "version: 1\ntopics:\n"
		       "  - name: \"t\"\n    id: \"0f1e2d3c-4b5a-4978-8796-a5b4c3d2e1f0\"\n"
		       "  - name: \"u\"\n    id: \"0F1E2D3C-4B5A-4978-8796-A5B4C3D2E1F0\"\n");
	CU_ASSERT_EQUAL(write_reg(b.data, b.len), 0);
	CU_ASSERT_EQUAL(try_open(), -ERR_CORRUPT); /* one id, two topics */
	buf_reset(&b);
	buf_printf(&b, "version: 1\ntopics:\n"
		       "  - name: \"t\"\n    id: \"0f1e2d3c-4b5a-4978-8796-a5b4c3d2e1f0\"\n");
	CU_ASSERT_EQUAL(write_reg(b.data, b.len), 0);
	CU_ASSERT_EQUAL(try_open(), 0);
	buf_release(&b);
}

static void test_new_id_rules(void)
{
	for (int i = 0; i < 2000; i++) {
		uint8_t id[16];

		CU_ASSERT_EQUAL_FATAL(registry_new_id(id), 0);
		CU_ASSERT_FALSE(zero(id));
		CU_ASSERT_NOT_EQUAL(id[0] >> 2, 62); /* base64 would start with '-' */
	}
}

int main(void)
{
	static const struct unit_test tests[] = {
		UNIT_TEST(test_create_lookup_reopen),
		UNIT_TEST(test_upgrade_assigns_ids),
		UNIT_TEST(test_bad_ids_refused),
		UNIT_TEST(test_new_id_rules),
		UNIT_END,
	};

	return unit_run("topic_id", tests);
}
