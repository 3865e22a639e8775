/* SPDX-License-Identifier: Apache-2.0 */
/*
 * CLI output: the three formats byte for byte (pretty escapes terminal
 * control bytes), the flush policy (per record into a pipe, buffered into a
 * file) and a vanished reader reported as -EPIPE.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli_out.h"
#include "lib/err.h"
#include "tests/unit/unit.h"

static struct buf batch;
static struct batch_iter it;
static struct record rec;

static void make(const char *key, const char *val)
{
	struct batch_builder bb;
	struct batch_params bp;
	struct record_header h = {(const uint8_t *)"host", 4, (const uint8_t *)"web-01", 6};

	batch_builder_init(&bb, 1 << 20);
	buf_init(&batch, 0);
	CU_ASSERT_EQUAL_FATAL(batch_builder_add(&bb, 1795514520123LL, key, (int32_t)strlen(key),
						val, (int32_t)strlen(val), &h, 1),
			      0);
	batch_params_init(&bp);
	bp.base_offset = 42;
	CU_ASSERT_EQUAL_FATAL(batch_builder_finish(&bb, NULL, &bp, &batch), 0);
	batch_builder_release(&bb);
	CU_ASSERT_EQUAL_FATAL(batch_iter_init(&it, batch.data, batch.len, NULL, 1 << 20, true), 0);
	CU_ASSERT_EQUAL_FATAL(batch_iter_next(&it, &rec), 1);
}

static void unmake(void)
{
	batch_iter_release(&it);
	buf_release(&batch);
}

static char *render(enum cli_format fmt)
{
	static char text[1024];
	FILE *f = tmpfile();
	struct cli_out o;
	size_t n;

	cli_out_init(&o, f, fmt);
	CU_ASSERT(!o.flush_each); /* a regular file is block-buffered */
	CU_ASSERT_EQUAL(cli_out_record(&o, "nginx", 2, &rec), 0);
	CU_ASSERT_EQUAL(cli_out_flush(&o), 0);
	CU_ASSERT_EQUAL(o.records, 1);
	rewind(f);
	n = fread(text, 1, sizeof(text) - 1, f);
	text[n] = '\0';
	cli_out_release(&o);
	fclose(f);
	return text;
}

static void test_formats(void)
{
	make("web-01:/a", "GET / 200\tok");
	CU_ASSERT_STRING_EQUAL(render(CLI_FMT_RAW), "GET / 200\tok\n");
	CU_ASSERT_STRING_EQUAL(render(CLI_FMT_PRETTY),
			       "2026-11-24T10:02:00.123Z nginx/2@42 web-01:/a  GET / 200\tok\n");
	CU_ASSERT_STRING_EQUAL(
		render(CLI_FMT_JSON),
		"{\"topic\":\"nginx\",\"partition\":2,\"offset\":42,"
		"\"timestamp\":1795514520123,\"time\":\"2026-11-24T10:02:00.123Z\","
		"\"key\":\"web-01:/a\",\"headers\":[{\"key\":\"host\",\"value\":\"web-01\"}],"
		"\"value\":\"GET / 200\\tok\"}\n");
	unmake();
	make("k", "evil \x1b]0;pwned\x07 line\x7f");
	CU_ASSERT_STRING_EQUAL(
		render(CLI_FMT_PRETTY),
		"2026-11-24T10:02:00.123Z nginx/2@42 k  evil \\x1b]0;pwned\\x07 line\\x7f\n");
	unmake();
}

static void test_parse_format(void)
{
	enum cli_format f;

	CU_ASSERT_EQUAL(cli_out_parse_format("raw", &f), 0);
	CU_ASSERT_EQUAL(f, CLI_FMT_RAW);
	CU_ASSERT_EQUAL(cli_out_parse_format("json", &f), 0);
	CU_ASSERT_EQUAL(f, CLI_FMT_JSON);
	CU_ASSERT_EQUAL(cli_out_parse_format("pretty", &f), 0);
	CU_ASSERT_EQUAL(f, CLI_FMT_PRETTY);
	CU_ASSERT_EQUAL(cli_out_parse_format("ndjson", &f), -ERR_INVALID);
}

static void test_pipe_flush_and_epipe(void)
{
	int fds[2];
	FILE *w;
	struct cli_out o;
	char got[64];
	ssize_t n;

	make("k", "line one");
	CU_ASSERT_EQUAL_FATAL(pipe(fds), 0);
	w = fdopen(fds[1], "w");
	cli_out_init(&o, w, CLI_FMT_RAW);
	CU_ASSERT(o.flush_each);
	CU_ASSERT_EQUAL(cli_out_record(&o, "t", 0, &rec), 0);
	/* already in the pipe, without an explicit flush */
	n = read(fds[0], got, sizeof(got));
	CU_ASSERT_EQUAL(n, 9);
	CU_ASSERT(memcmp(got, "line one\n", 9) == 0);
	close(fds[0]);
	signal(SIGPIPE, SIG_IGN);
	CU_ASSERT_EQUAL(cli_out_record(&o, "t", 0, &rec), -EPIPE);
	cli_out_release(&o);
	fclose(w);
	unmake();
}

int main(void)
{
	static const struct unit_test tests[] = {
		UNIT_TEST(test_formats),
		UNIT_TEST(test_parse_format),
		UNIT_TEST(test_pipe_flush_and_epipe),
		UNIT_END,
	};

	return unit_run("cli_out", tests);
}
