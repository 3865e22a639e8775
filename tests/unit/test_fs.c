/* SPDX-License-Identifier: Apache-2.0 */
/* Durable file helpers, error codes and the logger. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/err.h"
#include "lib/fs.h"
#include "lib/log.h"
#include "tests/unit/unit.h"

static void test_atomic_write_and_read(void)
{
	char *dir = unit_tmpdir(), sub[256], path[300];
	struct buf b;
	struct stat st;

	snprintf(sub, sizeof(sub), "%s/a/b/c", dir);
	CU_ASSERT_EQUAL(fs_mkdirs(sub, 0755), 0);
	CU_ASSERT_EQUAL(fs_mkdirs(sub, 0755), 0); /* idempotent */
	CU_ASSERT_EQUAL(fs_write_atomic(sub, "state", "one", 3), 0);
	CU_ASSERT_EQUAL(fs_write_atomic(sub, "state", "second", 6), 0);
	snprintf(path, sizeof(path), "%s/state", sub);
	buf_init(&b, 100);
	CU_ASSERT_EQUAL(fs_read_file(path, &b), 0);
	CU_ASSERT_EQUAL(b.len, 6u);
	CU_ASSERT(memcmp(b.data, "second", 6) == 0);
	buf_release(&b);
	/* no temp file left behind */
	snprintf(path, sizeof(path), "%s/state.tmp", sub);
	CU_ASSERT_EQUAL(stat(path, &st), -1);
	/* bounded read */
	snprintf(path, sizeof(path), "%s/state", sub);
	buf_init(&b, 5);
	CU_ASSERT_EQUAL(fs_read_file(path, &b), -ERR_TOO_LARGE);
	buf_release(&b);
	buf_init(&b, 6);
	CU_ASSERT_EQUAL(fs_read_file(path, &b), 0);
	buf_release(&b);
	CU_ASSERT_EQUAL(fs_read_file("/nonexistent/x", &b), -ENOENT);
	CU_ASSERT_EQUAL(fs_write_atomic("/nonexistent", "x", "y", 1), -ENOENT);
	CU_ASSERT_EQUAL(fs_rmtree(dir), 0);
	CU_ASSERT_EQUAL(stat(dir, &st), -1);
}

static void test_pread_pwrite(void)
{
	char *dir = unit_tmpdir(), path[300], got[16];
	int fd;

	snprintf(path, sizeof(path), "%s/f", dir);
	fd = open(path, O_RDWR | O_CREAT, 0644);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_EQUAL(fs_pwrite_full(fd, "abcdef", 6, 4), 0);
	CU_ASSERT_EQUAL(fs_pread_full(fd, got, 16, 0), 10);
	CU_ASSERT(memcmp(got + 4, "abcdef", 6) == 0);
	CU_ASSERT_EQUAL(fs_pread_full(fd, got, 4, 100), 0);
	close(fd);
	fs_rmtree(dir);
}

static void test_err_names(void)
{
	CU_ASSERT_STRING_EQUAL(err_str(0), "success");
	CU_ASSERT_STRING_EQUAL(err_str(-ERR_CORRUPT), "corrupt data (CRC or structure mismatch)");
	CU_ASSERT_STRING_EQUAL(err_str(-ENOSPC), "No space left on device");
	CU_ASSERT_STRING_EQUAL(err_str(-ERR_OUT_OF_ORDER), "out of order sequence number");
	for (int c = ERR_BASE + 1; c < ERR_LIMIT; c++)
		CU_ASSERT_PTR_NOT_NULL(err_str(-c));
}

static char *capture_log(bool json)
{
	int fds[2], saved = dup(2);
	static char out[4096];
	ssize_t n;

	CU_ASSERT_EQUAL_FATAL(pipe(fds), 0);
	dup2(fds[1], 2);
	log_set_json(json);
	log_warn("disk %s at %d%%", "almost \"full\"", 97);
	log_debug("hidden at info level");
	dup2(saved, 2);
	close(saved);
	close(fds[1]);
	n = read(fds[0], out, sizeof(out) - 1);
	close(fds[0]);
	out[n > 0 ? n : 0] = '\0';
	log_set_json(false);
	return out;
}

static void test_log_formats(void)
{
	char *s;
	struct log_ratelimit rl = {0, 0};

	log_init("/usr/bin/sluice-test");
	log_set_level(LOG_LVL_INFO);
	s = capture_log(false);
	CU_ASSERT_PTR_NOT_NULL(strstr(s, " sluice-test["));
	CU_ASSERT_PTR_NOT_NULL(strstr(s, "] WARN disk almost \"full\" at 97%\n"));
	CU_ASSERT_PTR_NULL(strstr(s, "hidden"));
	s = capture_log(true);
	CU_ASSERT_PTR_NOT_NULL(strstr(s, "\"level\":\"warn\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(s, "\"prog\":\"sluice-test\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(s, "\"msg\":\"disk almost \\\"full\\\" at 97%\"}\n"));
	CU_ASSERT_EQUAL(log_parse_level("debug"), LOG_LVL_DEBUG);
	CU_ASSERT(log_parse_level("loud") < 0);
	/* rate limiting: first passes, the rest in the interval are counted */
	log_set_level(LOG_LVL_ERROR); /* keep the test output quiet */
	log_write_rl(&rl, 60000, LOG_LVL_ERROR, "first");
	log_write_rl(&rl, 60000, LOG_LVL_ERROR, "second");
	log_write_rl(&rl, 60000, LOG_LVL_ERROR, "third");
	CU_ASSERT_EQUAL(rl.suppressed, 2u);
	log_set_level(LOG_LVL_INFO);
}

int main(void)
{
	static const struct unit_test tests[] = {
		UNIT_TEST(test_atomic_write_and_read),
		UNIT_TEST(test_pread_pwrite),
		UNIT_TEST(test_err_names),
		UNIT_TEST(test_log_formats),
		UNIT_END,
	};

	return unit_run("fs", tests);
}
