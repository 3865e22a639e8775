/* SPDX-License-Identifier: Apache-2.0 */
/* Store output against a libmicrohttpd server speaking the answers of
 * docs/HTTP_API.md: producer id stamping, ?partition from murmur2 over the
 * learned partition count, topic creation, de-duplication of retries by
 * (producer, partition, sequence), 503 + Retry-After backoff, 409 duplicate
 * as delivered, a refused batch quarantined in dead-letter/ with its reason,
 * and a producer reset after out_of_order_sequence. */
#include <dirent.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/agent_config.h"
#include "agent/pipeline/pipeline.h"
#include "agent/registry.h"
#include "lib/batch.h"
#include "lib/clock.h"
#include "lib/codec.h"
#include "lib/fs.h"
#include "lib/log.h"
#include "lib/murmur2.h"
#include "tests/unit/unit.h"

#define MAX_SEEN 100000

struct fake {
	pthread_mutex_t lock;
	int partitions;
	bool topic_exists;
	int fail_503;       /* answer this many batch posts with 503 */
	int dup_409;        /* answer this many with 409 duplicate */
	int out_of_order;   /* answer this many with 409 out_of_order_sequence */
	bool engine_window; /* like the log engine: old retries are out of order */
	int producers;      /* POST /v1/producers served */
	int puts;
	int posts;
	int64_t last_pid;
	int bad_partition; /* posts whose ?partition was not murmur2's */
	struct {
		int64_t pid;
		int32_t part;
		int32_t seq;
	} seen[MAX_SEEN];
	size_t nseen;
	int dup_batches;
	struct buf values; /* accepted record values, one per line */
	size_t records;
};

static struct fake fk;
static struct codec_ctx *fcc;

struct req {
	struct buf body;
};

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, const char *body,
			     const char *retry_after)
{
	struct MHD_Response *r =
		MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
	enum MHD_Result rc;

	MHD_add_response_header(r, "Content-Type", "application/json");
	if (retry_after)
		MHD_add_response_header(r, "Retry-After", retry_after);
	rc = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return rc;
}

/* 0: new, 1: a retry within the last 5 batches, 2: an older retry. */
static int seen_before(int64_t pid, int32_t part, int32_t seq)
{
	int newer = 0;

	for (size_t i = fk.nseen; i-- > 0;) {
		if (fk.seen[i].pid != pid || fk.seen[i].part != part)
			continue;
		if (fk.seen[i].seq == seq)
			return newer < 5 ? 1 : 2;
		newer++;
	}
	return 0;
}

/* Validate, de-duplicate and record every batch; answer like the store. */
static enum MHD_Result post_batches(struct MHD_Connection *c, struct buf *body, int part)
{
	struct buf ans;
	const uint8_t *p = body->data;
	size_t left = body->len, i = 0;
	enum MHD_Result rc;

	buf_init(&ans, 1 << 20);
	buf_printf(&ans, "{\"topic\":\"t\",\"batches\":[");
	while (left) {
		struct batch_info bi;
		struct batch_iter it;
		struct record r;
		bool poison = false;
		int seen;

		if (batch_next(p, left, &bi) < 0 || batch_validate(p, bi.size, &bi) < 0 ||
		    bi.producer_id != fk.last_pid || bi.producer_epoch != 0) {
			buf_release(&ans);
			return reply(
				c, 400,
				"{\"error\":\"corrupt_batch\",\"message\":\"bad\",\"batch\":0}",
				NULL);
		}
		if (batch_iter_init(&it, p, bi.size, fcc, 1 << 26, true) == 0) {
			while (batch_iter_next(&it, &r) > 0) {
				if (r.value_len >= 6 &&
				    memmem(r.value, (size_t)r.value_len, "POISON", 6))
					poison = true;
				if (murmur2_partition(r.key, (size_t)r.key_len, fk.partitions) !=
				    part)
					fk.bad_partition++;
			}
		}
		batch_iter_release(&it);
		if (poison) {
			char msg[200];

			snprintf(
				msg, sizeof(msg),
				"{\"error\":\"invalid\",\"message\":\"poison\",\"failed_batch\":%zu,"
				"\"batches\":[]}",
				i);
			buf_release(&ans);
			/* Nothing before it counts as appended in this answer. */
			return reply(c, 400, msg, NULL);
		}
		seen = seen_before(bi.producer_id, part, bi.base_sequence);
		if (seen == 2 && fk.engine_window) {
			char msg[200];

			/* What the log engine answers for a retry older than its
			 * window (docs/HTTP_API.md promises 409 duplicate). */
			snprintf(msg, sizeof(msg),
				 "{\"error\":\"out_of_order_sequence\",\"message\":\"gap\","
				 "\"failed_batch\":%zu}",
				 i);
			buf_release(&ans);
			fk.dup_batches++;
			return reply(c, 409, msg, NULL);
		}
		if (seen) {
			fk.dup_batches++;
		} else if (fk.nseen < MAX_SEEN) {
			fk.seen[fk.nseen].pid = bi.producer_id;
			fk.seen[fk.nseen].part = part;
			fk.seen[fk.nseen].seq = bi.base_sequence;
			fk.nseen++;
			batch_iter_init(&it, p, bi.size, fcc, 1 << 26, true);
			while (batch_iter_next(&it, &r) > 0) {
				buf_append(&fk.values, r.value, (size_t)r.value_len);
				buf_append_u8(&fk.values, '\n');
				fk.records++;
			}
			batch_iter_release(&it);
		}
		buf_printf(&ans, "%s{\"partition\":%d,\"base_offset\":0,\"count\":%d}",
			   i ? "," : "", part, bi.count);
		p += bi.size;
		left -= bi.size;
		i++;
	}
	buf_append_str(&ans, "]}\n");
	buf_cstr(&ans);
	rc = reply(c, 200, (const char *)ans.data, NULL);
	buf_release(&ans);
	return rc;
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *c, const char *url,
			       const char *method, const char *version, const char *upload,
			       size_t *upload_size, void **con_cls)
{
	struct req *rq = *con_cls;
	enum MHD_Result rc;
	char body[256];

	(void)cls;
	(void)version;
	if (!rq) {
		rq = calloc(1, sizeof(*rq));
		buf_init(&rq->body, 64 << 20);
		*con_cls = rq;
		return MHD_YES;
	}
	if (*upload_size) {
		buf_append(&rq->body, upload, *upload_size);
		*upload_size = 0;
		return MHD_YES;
	}
	pthread_mutex_lock(&fk.lock);
	if (strcmp(url, "/v1/producers") == 0) {
		fk.producers++;
		fk.last_pid = 4000 + fk.producers;
		snprintf(body, sizeof(body), "{\"producer_id\":%lld,\"producer_epoch\":0}\n",
			 (long long)fk.last_pid);
		rc = reply(c, 200, body, NULL);
	} else if (strncmp(url, "/v1/topics/", 11) == 0 && !strstr(url, "/batches")) {
		if (strcmp(method, "PUT") == 0) {
			fk.puts++;
			fk.topic_exists = true;
		}
		if (!fk.topic_exists) {
			rc = reply(c, 404, "{\"error\":\"unknown_topic\",\"message\":\"no\"}",
				   NULL);
		} else {
			snprintf(body, sizeof(body), "{\"name\":\"t\",\"partition_count\":%d}",
				 fk.partitions);
			rc = reply(c, strcmp(method, "PUT") == 0 ? 201 : 200, body, NULL);
		}
	} else if (strstr(url, "/batches")) {
		const char *ps = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "partition");
		int part = ps ? (int)strtol(ps, NULL, 10) : -1;

		fk.posts++;
		if (fk.fail_503 > 0) {
			fk.fail_503--;
			rc = reply(c, 503, "{\"error\":\"storage_full\",\"message\":\"disk\"}",
				   "1");
		} else if (fk.out_of_order > 0) {
			fk.out_of_order--;
			rc = reply(c, 409,
				   "{\"error\":\"out_of_order_sequence\",\"message\":\"gap\","
				   "\"failed_batch\":0,\"batches\":[]}",
				   NULL);
		} else if (!fk.topic_exists) {
			rc = reply(c, 404, "{\"error\":\"unknown_topic\",\"message\":\"no\"}",
				   NULL);
		} else if (fk.dup_409 > 0) {
			/* Pretend the first batch is an old retry: nothing written. */
			fk.dup_409--;
			rc = reply(c, 409,
				   "{\"error\":\"duplicate\",\"message\":\"old\","
				   "\"failed_batch\":0,\"batches\":[]}",
				   NULL);
		} else {
			rc = post_batches(c, &rq->body, part);
		}
	} else {
		rc = reply(c, 404, "{\"error\":\"not_found\"}", NULL);
	}
	pthread_mutex_unlock(&fk.lock);
	return rc;
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls,
		      enum MHD_RequestTerminationCode toe)
{
	struct req *rq = *con_cls;

	(void)cls;
	(void)c;
	(void)toe;
	if (rq) {
		buf_release(&rq->body);
		free(rq);
	}
	*con_cls = NULL;
}

/* ------------------------------------------------------------ harness */

static char top[128];
static struct MHD_Daemon *mhd;
static int port;
static struct evloop *loop;
static struct agent_config *conf;
static struct pipeline *pl;

static void fake_reset(int partitions)
{
	pthread_mutex_lock(&fk.lock);
	buf_reset(&fk.values);
	fk.records = 0;
	fk.nseen = 0;
	fk.partitions = partitions;
	fk.topic_exists = false;
	fk.fail_503 = fk.dup_409 = fk.out_of_order = 0;
	fk.producers = fk.puts = fk.posts = fk.bad_partition = fk.dup_batches = 0;
	pthread_mutex_unlock(&fk.lock);
}

static void start_agent(void)
{
	char text[2048];
	struct cfg_error err;

	memset(&err, 0, sizeof(err));
	snprintf(text, sizeof(text),
		 "agent:\n  data_dir: %s/data\n  http: { listen: off }\n"
		 "inputs:\n  - id: logs\n    type: tail\n    topic: t\n    paths: [%s/logs/*.log]\n"
		 "    read_from_head: true\n"
		 "outputs:\n  - id: central\n    type: store\n    url: http://127.0.0.1:%d/\n"
		 "    batch: { max_bytes: 8KiB, max_delay_ms: 10 }\n    max_request_bytes: 16KiB\n"
		 "    retry: { initial_delay: 10ms, max_delay: 100ms }\n",
		 top, top, port);
	CU_ASSERT_EQUAL_FATAL(
		agent_config_load_string("t.yaml", text, registry_plugins(), &conf, &err), 0);
	if (!loop)
		loop = evloop_new();
	if (pipeline_new(conf, loop, false, &pl, &err) < 0) {
		fprintf(stderr, "%s\n", err.msg);
		CU_FAIL_FATAL("pipeline_new");
	}
	CU_ASSERT_EQUAL_FATAL(pipeline_start(pl), 0);
}

static void stop_agent(void)
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

static size_t fake_records(void)
{
	size_t n;

	pthread_mutex_lock(&fk.lock);
	n = fk.records;
	pthread_mutex_unlock(&fk.lock);
	return n;
}

static bool wait_records(size_t n, uint64_t ms)
{
	uint64_t end = clock_mono_ms() + ms;

	while (fake_records() < n && clock_mono_ms() < end)
		evloop_run_once(loop, 5);
	return fake_records() >= n;
}

static void write_log(const char *name, int from, int to, const char *extra)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/logs", top);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/logs/%s", top, name);
	f = fopen(path, "a");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	for (int i = from; i < to; i++)
		fprintf(f, "%s line seq=%d %s\n", name, i, extra ? extra : "");
	fclose(f);
}

static int count_seq_once(int from, int to)
{
	int bad = 0;

	buf_cstr(&fk.values);
	for (int i = from; i < to; i++) {
		char needle[32];
		const char *p = (const char *)fk.values.data, *q;
		int n = 0;

		snprintf(needle, sizeof(needle), "seq=%d ", i);
		while ((q = strstr(p, needle)) != NULL) {
			n++;
			p = q + 1;
		}
		bad += n != 1;
	}
	return bad;
}

static void test_ship_partitions_and_retries(void)
{
	snprintf(top, sizeof(top), "%s", unit_tmpdir());
	fake_reset(3);
	fk.fail_503 = 3;
	/* Three files: keys spread over the three partitions by murmur2. */
	write_log("a.log", 0, 1000, NULL);
	write_log("b.log", 1000, 2000, NULL);
	write_log("c.log", 2000, 3000, NULL);
	start_agent();
	CU_ASSERT(wait_records(3000, 10000));
	stop_agent();
	CU_ASSERT_EQUAL(fk.producers, 1);
	CU_ASSERT_EQUAL(fk.puts, 1); /* created the unknown topic */
	CU_ASSERT_EQUAL(fk.bad_partition, 0);
	CU_ASSERT_EQUAL(fk.records, 3000u);
	CU_ASSERT_EQUAL(count_seq_once(0, 3000), 0);
	/* A restart keeps the producer id: no new POST /v1/producers. */
	write_log("a.log", 3000, 3100, NULL);
	start_agent();
	CU_ASSERT(wait_records(3100, 10000));
	stop_agent();
	CU_ASSERT_EQUAL(fk.producers, 1);
	CU_ASSERT_EQUAL(count_seq_once(0, 3100), 0);
	fs_rmtree(top);
}

static void test_duplicates_and_resends(void)
{
	snprintf(top, sizeof(top), "%s", unit_tmpdir());
	fake_reset(1);
	fk.topic_exists = true;
	write_log("a.log", 0, 2000, NULL);
	start_agent();
	CU_ASSERT(wait_records(2000, 10000));
	stop_agent();
	/* Lose the acknowledged mark: everything is sent again on restart and
	 * the store's de-duplication (and 409 duplicate) absorbs it. */
	{
		char ack[256];

		snprintf(ack, sizeof(ack), "%s/data/spool/central/ack", top);
		CU_ASSERT_EQUAL(unlink(ack), 0);
	}
	fk.dup_409 = 2;
	write_log("a.log", 2000, 2100, NULL);
	start_agent();
	CU_ASSERT(wait_records(2100, 10000));
	stop_agent();
	CU_ASSERT(fk.dup_batches > 0);
	CU_ASSERT_EQUAL(count_seq_once(0, 2100), 0);
	fs_rmtree(top);
}

static size_t count_files(const char *dir, const char *suffix)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	size_t n = 0;

	if (!d)
		return 0;
	while ((de = readdir(d)) != NULL) {
		size_t l = strlen(de->d_name);

		if (l > strlen(suffix) && strcmp(de->d_name + l - strlen(suffix), suffix) == 0)
			n++;
	}
	closedir(d);
	return n;
}

/* The engine's answer to old retries: out of order.  Resent batches are
 * known to be in the log; no new producer id, no second copy. */
static void test_old_retries_out_of_order(void)
{
	snprintf(top, sizeof(top), "%s", unit_tmpdir());
	fake_reset(1);
	fk.topic_exists = true;
	fk.engine_window = true;
	write_log("a.log", 0, 3000, NULL);
	start_agent();
	CU_ASSERT(wait_records(3000, 10000));
	stop_agent();
	{
		char ack[256];

		snprintf(ack, sizeof(ack), "%s/data/spool/central/ack", top);
		CU_ASSERT_EQUAL(unlink(ack), 0);
	}
	write_log("a.log", 3000, 3100, NULL);
	start_agent();
	CU_ASSERT(wait_records(3100, 10000));
	stop_agent();
	CU_ASSERT(fk.dup_batches > 5);
	CU_ASSERT_EQUAL(fk.producers, 1);
	CU_ASSERT_EQUAL(count_seq_once(0, 3100), 0);
	fk.engine_window = false;
	fs_rmtree(top);
}

static void test_dead_letter_and_producer_reset(void)
{
	char dl[256], note[512];
	struct buf b;

	snprintf(top, sizeof(top), "%s", unit_tmpdir());
	fake_reset(1);
	fk.topic_exists = true;
	fk.out_of_order = 1;
	write_log("a.log", 0, 500, NULL);
	write_log("a.log", 500, 501, "POISON");
	write_log("a.log", 501, 1000, NULL);
	start_agent();
	/* Everything but the refused batch arrives. */
	{
		uint64_t end = clock_mono_ms() + 10000;

		snprintf(dl, sizeof(dl), "%s/data/dead-letter/central", top);
		while ((fake_records() < 900 || count_files(dl, ".json") == 0) &&
		       clock_mono_ms() < end)
			evloop_run_once(loop, 5);
		evloop_run_once(loop, 50);
	}
	stop_agent();
	CU_ASSERT_EQUAL(fk.producers, 2); /* out_of_order: a new producer id */
	CU_ASSERT_EQUAL(count_files(dl, ".batch"), 1u);
	CU_ASSERT_EQUAL(count_files(dl, ".json"), 1u);
	{
		DIR *d = opendir(dl);
		struct dirent *de;

		buf_init(&b, 1 << 20);
		while (d && (de = readdir(d)) != NULL) {
			if (strstr(de->d_name, ".json")) {
				snprintf(note, sizeof(note), "%s/%s", dl, de->d_name);
				CU_ASSERT_EQUAL(fs_read_file(note, &b), 0);
			}
		}
		if (d)
			closedir(d);
		buf_cstr(&b);
		CU_ASSERT_PTR_NOT_NULL(strstr((const char *)b.data, "\"code\":\"invalid\""));
		CU_ASSERT_PTR_NOT_NULL(strstr((const char *)b.data, "\"reason\":\"poison\""));
		buf_release(&b);
	}
	/* Everything else exactly once; the quarantined batch's records are
	 * in the dead-letter file, not lost. */
	{
		int missing = 0;

		buf_cstr(&fk.values);
		for (int i = 0; i < 1000; i++) {
			char needle[32];

			snprintf(needle, sizeof(needle), "seq=%d ", i);
			missing += strstr((const char *)fk.values.data, needle) == NULL;
		}
		CU_ASSERT(missing > 0 && missing < 200);
	}
	fs_rmtree(top);
}

int main(void)
{
	static const struct unit_test tests[] = {
		UNIT_TEST(test_ship_partitions_and_retries),
		UNIT_TEST(test_duplicates_and_resends),
		UNIT_TEST(test_old_retries_out_of_order),
		UNIT_TEST(test_dead_letter_and_producer_reset),
		UNIT_END,
	};
	int rc;

	log_set_level(LOG_LVL_ERROR);
	pthread_mutex_init(&fk.lock, NULL);
	buf_init(&fk.values, 1u << 30);
	fcc = codec_ctx_new();
	mhd = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, 0, NULL, NULL,
			       handler, NULL, MHD_OPTION_NOTIFY_COMPLETED, completed, NULL,
			       MHD_OPTION_END);
	if (!mhd) {
		fprintf(stderr, "cannot start libmicrohttpd\n");
		return 2;
	}
	port = MHD_get_daemon_info(mhd, MHD_DAEMON_INFO_BIND_PORT)->port;
	rc = unit_run("out_store", tests);
	MHD_stop_daemon(mhd);
	evloop_free(loop);
	codec_ctx_free(fcc);
	buf_release(&fk.values);
	return rc;
}
