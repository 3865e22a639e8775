/* SPDX-License-Identifier: Apache-2.0 */
/* Tail input through the real pipeline (batcher, writer threads, spool,
 * delivery engine) into an in-memory capture output: start-up rules,
 * rotation by rename, copytruncate, multi-line events, long lines, polling,
 * restart resume, exclude and spool-full pause; file identity (symlinks
 * re-pointed, generations rotated unseen, the position meta), the bytes a
 * truncation loses, and the health conditions. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/agent_config.h"
#include "agent/pipeline/pipeline.h"
#include "agent/plugin.h"
#include "agent/pipeline/record_format.h"
#include "lib/clock.h"
#include "lib/codec.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "plugins/in_tail/tail.h"
#include "tests/unit/unit.h"

extern const struct plugin in_tail_plugin;

/* ------------------------------------------------------------ capture */

static struct buf captured; /* raw values, one per line */
static size_t captured_records;
static bool capture_hold; /* answer RETRY instead of taking batches */

struct capture_conf {
	int64_t unused;
};

static const struct cfg_option capture_opts[] = {
	{.name = "unused", .type = CFG_INT, .offset = offsetof(struct capture_conf, unused)},
	CFG_OPT_END,
};

static int capture_init(const struct plugin_args *a, void **ctx, struct cfg_error *err)
{
	(void)a;
	(void)err;
	*ctx = codec_ctx_new();
	return *ctx ? 0 : -ENOMEM;
}

static enum flush_result capture_flush(void *ctx, struct flush *f)
{
	if (capture_hold)
		return FLUSH_RETRY;
	for (size_t i = 0; i < f->nbatches; i++) {
		int n = record_format_batch(ctx, RECORD_FORMAT_RAW, f->topic, f->partition,
					    f->body.data + f->batches[i].off, f->batches[i].len,
					    &captured);

		CU_ASSERT(n > 0);
		captured_records += (size_t)(n > 0 ? n : 0);
	}
	return FLUSH_OK;
}

static void capture_exit(void *ctx)
{
	codec_ctx_free(ctx);
}

static const struct plugin capture_plugin = {
	.name = "capture",
	.kind = PLUGIN_OUTPUT,
	.description = "test sink",
	.options = capture_opts,
	.conf_size = sizeof(struct capture_conf),
	.init = capture_init,
	.flush = capture_flush,
	.exit = capture_exit,
};

static const struct plugin *const plugins[] = {&in_tail_plugin, &capture_plugin, NULL};

/* ------------------------------------------------------------ harness */

static char top[128];
static struct evloop *loop;
static struct agent_config *conf;
static struct pipeline *pl;

static void start3(const char *input_extra, const char *agent_extra, const char *output_extra)
{
	char text[4096];
	struct cfg_error err;

	memset(&err, 0, sizeof(err));
	snprintf(text, sizeof(text),
		 "agent:\n  data_dir: %s/data\n  http: { listen: off }\n%s"
		 "inputs:\n  - id: logs\n    type: tail\n    paths: [%s/logs/*.log]\n"
		 "    refresh_interval: 200ms\n    rotate_wait: 300ms\n%s"
		 "outputs:\n  - id: cap\n    type: capture\n    batch: { max_delay_ms: 20 }\n"
		 "    retry: { initial_delay: 20ms, max_delay: 50ms }\n%s",
		 top, agent_extra ? agent_extra : "", top, input_extra ? input_extra : "",
		 output_extra ? output_extra : "");
	CU_ASSERT_EQUAL_FATAL(agent_config_load_string("test.yaml", text, plugins, &conf, &err), 0);
	if (!loop)
		loop = evloop_new();
	if (pipeline_new(conf, loop, false, &pl, &err) != 0) {
		fprintf(stderr, "pipeline_new: %s\n", err.msg);
		CU_FAIL_FATAL("pipeline_new");
	}
	CU_ASSERT_EQUAL_FATAL(pipeline_start(pl), 0);
}

static void start(const char *input_extra, const char *agent_extra)
{
	start3(input_extra, agent_extra, NULL);
}

static void stop(void)
{
	uint64_t end = clock_mono_ms() + 5000;

	pipeline_shutdown(pl);
	while (!pipeline_drained(pl) && clock_mono_ms() < end)
		evloop_run_once(loop, 10);
	pipeline_free(pl);
	pl = NULL;
	agent_config_free(conf);
	conf = NULL;
}

static void spin(uint64_t ms)
{
	uint64_t end = clock_mono_ms() + ms;

	while (clock_mono_ms() < end)
		evloop_run_once(loop, 5);
}

static bool wait_records(size_t n, uint64_t ms)
{
	uint64_t end = clock_mono_ms() + ms;

	while (captured_records < n && clock_mono_ms() < end)
		evloop_run_once(loop, 5);
	return captured_records >= n;
}

static void log_path(char *out, size_t cap, const char *name)
{
	snprintf(out, cap, "%s/logs/%s", top, name);
}

static void append(const char *name, const char *text)
{
	char path[256];
	int fd;

	log_path(path, sizeof(path), name);
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0644);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_EQUAL(fs_write_full(fd, text, strlen(text)), 0);
	close(fd);
}

static void append_lines(const char *name, int from, int to)
{
	struct buf b;

	buf_init(&b, 64 << 20);
	for (int i = from; i < to; i++)
		buf_printf(&b, "line seq=%d\n", i);
	buf_cstr(&b);
	append(name, (const char *)b.data);
	buf_release(&b);
}

/* Every seq in [from, to) but the hole [hfrom, hto) captured exactly once,
 * nothing else. */
static void expect_seqs_hole(int from, int to, int hfrom, int hto)
{
	char *seen = calloc((size_t)(to + 1), 1);
	const char *p = (const char *)captured.data, *end = p + captured.len;
	int dups = 0, other = 0, missing = 0;

	while (p && p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *s = memmem(p, (size_t)((nl ? nl : end) - p), "seq=", 4);

		if (s) {
			int v = (int)strtol(s + 4, NULL, 10);

			if (v < from || v >= to || (v >= hfrom && v < hto))
				other++;
			else if (seen[v]++)
				dups++;
		}
		p = nl ? nl + 1 : end;
	}
	for (int i = from; i < to; i++)
		missing += !seen[i] && !(i >= hfrom && i < hto);
	if (dups || missing || other)
		fprintf(stderr, "seqs [%d,%d): missing %d duplicated %d outside %d\n", from, to,
			missing, dups, other);
	CU_ASSERT_EQUAL(dups, 0);
	CU_ASSERT_EQUAL(missing, 0);
	CU_ASSERT_EQUAL(other, 0);
	free(seen);
}

static void expect_seqs(int from, int to)
{
	expect_seqs_hole(from, to, 0, 0);
}

static void setup(void)
{
	char path[256];

	snprintf(top, sizeof(top), "%s", unit_tmpdir());
	snprintf(path, sizeof(path), "%s/logs", top);
	mkdir(path, 0755);
	buf_reset(&captured);
	captured_records = 0;
	capture_hold = false;
}

static void teardown(void)
{
	fs_rmtree(top);
}

/* ------------------------------------------------------------ tests */

static void test_head_and_follow(void)
{
	setup();
	append_lines("a.log", 0, 1000);
	start("    read_from_head: true\n", NULL);
	CU_ASSERT(wait_records(1000, 5000));
	append_lines("a.log", 1000, 1500);
	append("a.log", "no newline yet");
	CU_ASSERT(wait_records(1500, 5000));
	spin(100);
	CU_ASSERT_EQUAL(captured_records, 1500u); /* the partial line waits */
	append("a.log", " seq=1500\n\nline seq=1501\n");
	CU_ASSERT(wait_records(1502, 5000));
	stop();
	expect_seqs(0, 1502);
	teardown();
}

static void test_start_from_end(void)
{
	setup();
	append_lines("a.log", 0, 100);
	append("a.log", "partial line being written");
	start(NULL, NULL);
	spin(200);
	CU_ASSERT_EQUAL(captured_records, 0u);
	/* The unfinished line is not cut: it goes out whole. */
	append("a.log", " seq=100\n");
	append_lines("a.log", 101, 200);
	/* A file that appears later is read from its beginning. */
	append_lines("b.log", 200, 300);
	CU_ASSERT(wait_records(200, 5000));
	stop();
	expect_seqs(100, 300);
	teardown();
}

static void test_rename_rotation(void)
{
	char a[256], a1[256];

	setup();
	log_path(a, sizeof(a), "app.log");
	log_path(a1, sizeof(a1), "app.log.1");
	append_lines("app.log", 0, 500);
	start("    read_from_head: true\n", NULL);
	for (int r = 0; r < 5; r++) {
		int base = 500 + r * 1000;

		append_lines("app.log", base, base + 400);
		CU_ASSERT_EQUAL(rename(a, a1), 0);
		/* The writer has not reopened yet: its last lines go to the
		 * renamed file, and still count. */
		append_lines("app.log.1", base + 400, base + 500);
		append_lines("app.log", base + 500, base + 1000);
		spin(50);
	}
	CU_ASSERT(wait_records(5500, 10000));
	spin(1000); /* rotate_wait passes; rotated files are let go */
	stop();
	expect_seqs(0, 5500);
	teardown();
}

static void test_copytruncate(void)
{
	char a[256];

	setup();
	log_path(a, sizeof(a), "app.log");
	append_lines("app.log", 0, 300);
	start("    read_from_head: true\n", NULL);
	CU_ASSERT(wait_records(300, 5000));
	CU_ASSERT_EQUAL(truncate(a, 0), 0);
	append_lines("app.log", 300, 350);
	CU_ASSERT(wait_records(350, 5000));
	stop();
	expect_seqs(0, 350);
	teardown();
}

static void test_multiline(void)
{
	static const char trace[] = "2026-11-24 10:00:00,123 ERROR failed seq=1\n"
				    "java.lang.IllegalStateException: boom\n"
				    "\tat com.example.Service.run(Service.java:1)\n"
				    "\tat java.base/java.lang.Thread.run(Thread.java:833)\n"
				    "{\"msg\":\"json\",\"seq\":2}\n"
				    "2026-11-24 10:00:01,000 ERROR again seq=3\n"
				    "\tat x.y(Z.java:9)\n";

	setup();
	append("m.log", trace);
	start("    read_from_head: true\n    multiline: { start: '^[0-9{]', flush_ms: 100 }\n",
	      NULL);
	/* The last event closes after flush_ms of quiet. */
	CU_ASSERT(wait_records(3, 5000));
	stop();
	CU_ASSERT_EQUAL(captured_records, 3u);
	buf_cstr(&captured);
	CU_ASSERT_PTR_NOT_NULL(
		strstr((const char *)captured.data,
		       "seq=1\njava.lang.IllegalStateException: boom\n\tat com.example"));
	CU_ASSERT_PTR_NOT_NULL(strstr((const char *)captured.data, "seq=3\n\tat x.y(Z.java:9)\n"));
	teardown();
}

static void long_line_case(const char *mode, size_t expect_records, size_t expect_bytes)
{
	char extra[256];
	struct buf b;

	setup();
	buf_init(&b, 1 << 20);
	buf_append_str(&b, "short seq=1\n");
	for (int i = 0; i < 2500; i++)
		buf_append_u8(&b, 'x');
	buf_append_str(&b, "\nshort seq=2\n");
	buf_cstr(&b);
	append("l.log", (const char *)b.data);
	snprintf(extra, sizeof(extra),
		 "    read_from_head: true\n    max_line_bytes: 1000\n    long_lines: %s\n"
		 "    read_chunk: 4096\n",
		 mode);
	start(extra, NULL);
	CU_ASSERT(wait_records(expect_records, 5000));
	spin(100);
	stop();
	CU_ASSERT_EQUAL(captured_records, expect_records);
	CU_ASSERT_EQUAL(captured.len, expect_bytes);
	buf_release(&b);
	teardown();
}

static void test_long_lines(void)
{
	/* 2500 x's: split into 1000+1000+500, truncated to 1000, or skipped;
	 * each record is its value plus a newline in the capture. */
	long_line_case("split", 5, 12 + 1001 + 1001 + 501 + 12);
	long_line_case("truncate", 3, 12 + 1001 + 12);
	long_line_case("skip", 2, 24);
}

static void test_restart_resumes(void)
{
	setup();
	append_lines("a.log", 0, 2000);
	start("    read_from_head: true\n", NULL);
	CU_ASSERT(wait_records(2000, 5000));
	stop();
	append_lines("a.log", 2000, 3000);
	append_lines("new.log", 3000, 3100); /* before the start: not shipped */
	/* Not read_from_head: a.log resumes from its position, not from its
	 * end; new.log was never seen: found at start-up, read from its end. */
	start(NULL, NULL);
	CU_ASSERT(wait_records(3000, 5000));
	append_lines("new.log", 3100, 3200);
	CU_ASSERT(wait_records(3100, 5000));
	stop();
	expect_seqs_hole(0, 3200, 3000, 3100);
	teardown();
}

static void test_polling_and_exclude(void)
{
	char a[256], a1[256];

	setup();
	log_path(a, sizeof(a), "p.log");
	log_path(a1, sizeof(a1), "p.log.1");
	append_lines("p.log", 0, 100);
	append_lines("skip.log", 100000, 100010);
	start("    read_from_head: true\n    inotify: false\n    poll_interval: 50ms\n"
	      "    exclude: ['skip*']\n",
	      NULL);
	CU_ASSERT(wait_records(100, 5000));
	append_lines("p.log", 100, 200);
	CU_ASSERT(wait_records(200, 5000));
	CU_ASSERT_EQUAL(rename(a, a1), 0);
	append_lines("p.log.1", 200, 250);
	append_lines("p.log", 250, 300);
	CU_ASSERT(wait_records(300, 5000));
	stop();
	expect_seqs(0, 300);
	teardown();
}

static void test_spool_full_pauses(void)
{
	setup();
	capture_hold = true;
	append_lines("a.log", 0, 300000);
	start3("    read_from_head: true\n",
	       "  buffer: { max_bytes: 1MiB, segment_bytes: 64KiB }\n", "    compression: none\n");
	spin(1500);
	/* Held output: the spool fills to its cap and the input stops. */
	{
		struct buf m;

		buf_init(&m, 1 << 20);
		pipeline_render_metrics(&m, pl);
		buf_cstr(&m);
		CU_ASSERT_PTR_NOT_NULL(
			strstr((char *)m.data, "sluice_agent_spool_full{output=\"cap\"} 1"));
		CU_ASSERT_PTR_NOT_NULL(
			strstr((char *)m.data, "sluice_agent_input_paused{input=\"logs\"} 1"));
		buf_release(&m);
	}
	CU_ASSERT_EQUAL(captured_records, 0u);
	capture_hold = false;
	CU_ASSERT(wait_records(300000, 30000));
	stop();
	expect_seqs(0, 300000);
	teardown();
}

static bool metric_has(const char *text);

/* A multi-line event pending when a full spool pauses the input is not cut
 * by flush_ms while its continuation lines wait unread: every event arrives
 * whole (before the fix, flush_ms fired during the pause and split it). */
static void test_multiline_paused(void)
{
	enum { N = 400000 };
	char path[256];
	FILE *fp;

	setup();
	capture_hold = true;
	log_path(path, sizeof(path), "m.log");
	fp = fopen(path, "w");
	CU_ASSERT_FATAL(fp != NULL);
	for (int i = 0; i < N; i++)
		fprintf(fp, "2026-12-02 event seq=%d\n\tat a.B.c(B.java:1)\n\tat a.B.d(B.java:2)\n",
			i);
	fclose(fp);
	start3("    read_from_head: true\n    multiline: { start: '^2026', flush_ms: 30 }\n",
	       "  buffer: { max_bytes: 1MiB, segment_bytes: 64KiB }\n", "    compression: none\n");
	spin(1000); /* paused for many flush_ms */
	CU_ASSERT(metric_has("sluice_agent_input_paused{input=\"logs\"} 1"));
	capture_hold = false;
	CU_ASSERT(wait_records(N, 30000));
	spin(200);
	stop();
	CU_ASSERT_EQUAL(captured_records, (size_t)N);
	expect_seqs(0, N);
	teardown();
}

static bool metric_has(const char *text)
{
	struct buf m;
	bool found;

	buf_init(&m, 1 << 20);
	pipeline_render_metrics(&m, pl);
	buf_cstr(&m);
	found = strstr((char *)m.data, text) != NULL;
	if (!found)
		fprintf(stderr, "no '%s' in the metrics\n", text);
	buf_release(&m);
	return found;
}

/* Meta v2 carries the birth time; v1 (no birth time) still decodes. */
static void test_meta_versions(void)
{
	struct tail_file f;
	struct tail_meta m;
	struct buf b;

	memset(&f, 0, sizeof(f));
	f.dev = 7;
	f.ino = 1234;
	f.fp = 0xabcdef01u;
	f.fp_len = 1024;
	f.btime = 1764646200123456789ull;
	f.path = (char *)"/var/log/pods/a/0.log";
	f.name = (char *)"/var/log/containers/a.log";
	buf_init(&b, 4096);
	CU_ASSERT_EQUAL(tail_meta_encode(&f, &b), 0);
	CU_ASSERT_EQUAL(tail_meta_decode(b.data, b.len, &m), 0);
	CU_ASSERT_EQUAL(m.btime, f.btime);
	CU_ASSERT_EQUAL(m.ino, 1234u);
	CU_ASSERT(m.path_len == strlen(f.path) && memcmp(m.path, f.path, m.path_len) == 0);
	CU_ASSERT_EQUAL(tail_meta_decode(b.data, b.len - 1, &m), -ERR_CORRUPT);
	/* v1: the same without the 8 bytes of birth time after the fingerprint */
	b.data[0] = 1;
	memmove(b.data + 25, b.data + 33, b.len - 33);
	CU_ASSERT_EQUAL(tail_meta_decode(b.data, b.len - 8, &m), 0);
	CU_ASSERT_EQUAL(m.btime, 0u);
	CU_ASSERT_EQUAL(m.fp, 0xabcdef01u);
	CU_ASSERT(m.name_len == strlen(f.name) && memcmp(m.name, f.name, m.name_len) == 0);
	b.data[0] = 3;
	CU_ASSERT_EQUAL(tail_meta_decode(b.data, b.len - 8, &m), -ERR_CORRUPT);
	buf_release(&b);
}

/* logs/app.log -> pods/a.log, re-pointed at pods/b.log while stopped: a.log
 * is found where it is and finished (issue 19 case 1). */
static void test_symlink_repointed(void)
{
	char pods[256], a[256], b[256], link[256], tmp[256];

	setup();
	snprintf(pods, sizeof(pods), "%s/pods", top);
	mkdir(pods, 0755);
	snprintf(a, sizeof(a), "%s/pods/a.log", top);
	snprintf(b, sizeof(b), "%s/pods/b.log", top);
	log_path(link, sizeof(link), "app.log");
	log_path(tmp, sizeof(tmp), "app.tmp");
	append_lines("../pods/a.log", 0, 1000);
	CU_ASSERT_EQUAL(symlink(a, link), 0);
	start("    read_from_head: true\n", NULL);
	CU_ASSERT(wait_records(1000, 5000));
	stop();
	append_lines("../pods/a.log", 1000, 2000);
	append_lines("../pods/b.log", 2000, 3000);
	CU_ASSERT_EQUAL(symlink(b, tmp), 0);
	CU_ASSERT_EQUAL(rename(tmp, link), 0);
	start(NULL, NULL);
	CU_ASSERT(wait_records(3000, 5000));
	CU_ASSERT(metric_has("sluice_agent_tail_lost_files_total{input=\"logs\"} 0"));
	stop();
	expect_seqs(0, 3000);
	teardown();
}

/* app.log -> .1 -> .2 while stopped, rotated names excluded: every
 * generation finished (issue 19 case 4). */
static void test_generations_while_down(void)
{
	char a[256], a1[256], a2[256];

	setup();
	log_path(a, sizeof(a), "app.log");
	log_path(a1, sizeof(a1), "app.log.1");
	log_path(a2, sizeof(a2), "app.log.2");
	append_lines("app.log", 0, 500);
	start("    read_from_head: true\n    exclude: ['*.[0-9]']\n", NULL);
	CU_ASSERT(wait_records(500, 5000));
	stop();
	append_lines("app.log", 500, 1000);
	CU_ASSERT_EQUAL(rename(a, a1), 0);
	append_lines("app.log", 1000, 1500);
	CU_ASSERT_EQUAL(rename(a1, a2), 0);
	CU_ASSERT_EQUAL(rename(a, a1), 0);
	append_lines("app.log", 1500, 2000);
	start("    exclude: ['*.[0-9]']\n", NULL);
	CU_ASSERT(wait_records(2000, 5000));
	CU_ASSERT(metric_has("sluice_agent_tail_generations_total{input=\"logs\"} 1"));
	stop();
	expect_seqs(0, 2000);
	teardown();
}

/* The unfinished last line seen before a truncation is counted as lost. */
static void test_truncated_lost_bytes(void)
{
	char a[256], want[128];
	static const char partial[] = "line seq=100 never finished";

	setup();
	log_path(a, sizeof(a), "t.log");
	append_lines("t.log", 0, 100);
	append("t.log", partial);
	start("    read_from_head: true\n", NULL);
	CU_ASSERT(wait_records(100, 5000));
	spin(100); /* the read that saw the unfinished line is done */
	CU_ASSERT_EQUAL(truncate(a, 0), 0);
	append_lines("t.log", 101, 200);
	CU_ASSERT(wait_records(199, 5000));
	snprintf(want, sizeof(want),
		 "sluice_agent_tail_truncated_lost_bytes_total{input=\"logs\"} %zu",
		 strlen(partial));
	CU_ASSERT(metric_has(want));
	stop();
	expect_seqs_hole(0, 200, 100, 101);
	teardown();
}

/* An output that takes nothing while it has data: unhealthy past
 * output_stall, with the reason; healthy again once it delivers. */
static void test_health_output_stall(void)
{
	struct buf why;

	setup();
	buf_init(&why, 1 << 16);
	capture_hold = true;
	append_lines("h.log", 0, 100);
	start("    read_from_head: true\n",
	      "  health: { output_stall: 300ms, input_paused: 0s }\n");
	spin(100);
	CU_ASSERT(pipeline_healthy(pl, NULL));
	spin(600);
	CU_ASSERT_FALSE(pipeline_healthy(pl, &why));
	buf_cstr(&why);
	CU_ASSERT_PTR_NOT_NULL(strstr((char *)why.data, "output cap: nothing delivered for"));
	capture_hold = false;
	CU_ASSERT(wait_records(100, 5000));
	spin(300);
	buf_reset(&why);
	CU_ASSERT(pipeline_healthy(pl, &why));
	CU_ASSERT_EQUAL(why.len, 0u);
	stop();
	buf_release(&why);
	teardown();
}

/* An idle file renamed away still gets the writer's lines written before it
 * reopens: rotate_wait runs from the rotation, not only from the last
 * change (it was released at the first poll, and those lines were lost). */
static void test_idle_file_rotated(void)
{
	char a[256], a1[256];

	setup();
	log_path(a, sizeof(a), "idle.log");
	log_path(a1, sizeof(a1), "idle.log.1");
	append_lines("idle.log", 0, 100);
	start("    read_from_head: true\n    poll_interval: 20ms\n", NULL);
	CU_ASSERT(wait_records(100, 5000));
	spin(600); /* idle for twice rotate_wait */
	CU_ASSERT_EQUAL(rename(a, a1), 0);
	spin(150);
	append_lines("idle.log.1", 100, 200);
	CU_ASSERT(wait_records(200, 5000));
	stop();
	expect_seqs(0, 200);
	teardown();
}

static bool metric_quiet(const char *text)
{
	struct buf m;
	bool found;

	buf_init(&m, 1 << 20);
	pipeline_render_metrics(&m, pl);
	buf_cstr(&m);
	found = strstr((char *)m.data, text) != NULL;
	buf_release(&m);
	return found;
}

static bool wait_metric(const char *text, uint64_t ms)
{
	uint64_t end = clock_mono_ms() + ms;

	while (!metric_quiet(text) && clock_mono_ms() < end)
		evloop_run_once(loop, 5);
	return metric_has(text);
}

#define OPEN0 "sluice_agent_tail_open_files{input=\"logs\"} 0"

/* close_inactive (issue 19): a file read to its end gives its descriptor
 * back when idle and is opened again when it changes, at its position;
 * closed, it is still followed through a rename, a copytruncate and its
 * deletion, every line exactly once. */
static void test_idle_close_reopen(void)
{
	char a[256], a1[256];

	setup();
	log_path(a, sizeof(a), "a.log");
	log_path(a1, sizeof(a1), "a.log.1");
	append_lines("a.log", 0, 50);
	start("    read_from_head: true\n    close_inactive: 100ms\n    poll_interval: 20ms\n",
	      NULL);
	CU_ASSERT(wait_records(50, 5000));
	CU_ASSERT(wait_metric(OPEN0, 3000));
	CU_ASSERT(metric_has("sluice_agent_tail_files{input=\"logs\"} 1"));
	CU_ASSERT(
		metric_has("sluice_agent_tail_closes_total{input=\"logs\",reason=\"inactive\"} 1"));
	append_lines("a.log", 50, 100);
	CU_ASSERT(wait_records(100, 5000));
	CU_ASSERT(metric_has("sluice_agent_tail_reopens_total{input=\"logs\"} 1"));
	/* closed, renamed, written to under its new name; a new file at the name */
	CU_ASSERT(wait_metric(OPEN0, 3000));
	CU_ASSERT_EQUAL(rename(a, a1), 0);
	append_lines("a.log.1", 100, 150);
	append_lines("a.log", 150, 200);
	CU_ASSERT(wait_records(200, 5000));
	/* the rotated one let go, the new one closed: then copytruncate */
	CU_ASSERT(wait_metric("sluice_agent_tail_files{input=\"logs\"} 1", 3000));
	CU_ASSERT(wait_metric(OPEN0, 3000));
	CU_ASSERT_EQUAL(truncate(a, 0), 0);
	append_lines("a.log", 200, 210);
	CU_ASSERT(wait_records(210, 5000));
	CU_ASSERT(metric_has("sluice_agent_tail_truncations_total{input=\"logs\"} 1"));
	/* closed and deleted: finished and forgotten */
	CU_ASSERT(wait_metric(OPEN0, 3000));
	CU_ASSERT_EQUAL(unlink(a), 0);
	CU_ASSERT(wait_metric("sluice_agent_tail_files{input=\"logs\"} 0", 3000));
	CU_ASSERT(metric_has("sluice_agent_tail_closed_gone_total{input=\"logs\"} 1"));
	stop();
	expect_seqs(0, 210);
	teardown();
}

/* Without inotify a closed file is found changed by stat of its path. */
static void test_idle_close_polled(void)
{
	setup();
	append_lines("p.log", 0, 20);
	start("    read_from_head: true\n    close_inactive: 50ms\n    poll_interval: 20ms\n"
	      "    inotify: false\n",
	      NULL);
	CU_ASSERT(wait_records(20, 5000));
	CU_ASSERT(wait_metric(OPEN0, 3000));
	append_lines("p.log", 20, 40);
	CU_ASSERT(wait_records(40, 5000));
	CU_ASSERT(wait_metric(OPEN0, 3000));
	append_lines("p.log", 40, 60);
	CU_ASSERT(wait_records(60, 5000));
	CU_ASSERT(metric_has("sluice_agent_tail_reopens_total{input=\"logs\"} 2"));
	stop();
	expect_seqs(0, 60);
	teardown();
}

int main(void)
{
	static const struct unit_test tests[] = {
		UNIT_TEST(test_head_and_follow),
		UNIT_TEST(test_start_from_end),
		UNIT_TEST(test_rename_rotation),
		UNIT_TEST(test_copytruncate),
		UNIT_TEST(test_multiline),
		UNIT_TEST(test_long_lines),
		UNIT_TEST(test_restart_resumes),
		UNIT_TEST(test_polling_and_exclude),
		UNIT_TEST(test_spool_full_pauses),
		UNIT_TEST(test_multiline_paused),
		UNIT_TEST(test_meta_versions),
		UNIT_TEST(test_symlink_repointed),
		UNIT_TEST(test_generations_while_down),
		UNIT_TEST(test_truncated_lost_bytes),
		UNIT_TEST(test_health_output_stall),
		UNIT_TEST(test_idle_file_rotated),
		UNIT_TEST(test_idle_close_reopen),
		UNIT_TEST(test_idle_close_polled),
		UNIT_END,
	};
	int rc;

	log_set_level(LOG_LVL_WARN);
	buf_init(&captured, 1u << 30);
	rc = unit_run("in_tail", tests);
	buf_release(&captured);
	evloop_free(loop);
	return rc;
}
