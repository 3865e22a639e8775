/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The Kafka server in-process, on a real log engine in a temporary data
 * directory and a real socket: a produce with acks=-1 is answered only once
 * the engine reports the batch durable (through the listener wake-up), a
 * fetch returns the batch bytes as stored (sent with sendfile), responses of
 * pipelined requests keep request order even when an earlier one long-polls,
 * a bad frame closes only its connection, and the metrics registered with
 * the registry count what happened.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/batch.h"
#include "lib/clock.h"
#include "lib/fs.h"
#include "lib/mem.h"
#include "lib/prom.h"
#include "store/kafka/kafka_api.h"
#include "store/kafka/kafka_server.h"
#include "store/kafka/kwire.h"
#include "store/engine/engine.h"
#include "store/store_config.h"
#include "tests/unit/unit.h"

static struct evloop *loop;
static struct engine *lg;
static struct kafka_server *ks;
static struct prom_registry *reg;
static struct store_config conf;
static char *tmp;
static int port;

static int free_port(void)
{
	struct sockaddr_in a;
	socklen_t al = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0), p;

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	CU_ASSERT_FATAL(bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0);
	CU_ASSERT_FATAL(getsockname(fd, (struct sockaddr *)&a, &al) == 0);
	p = ntohs(a.sin_port);
	close(fd);
	return p;
}

static void setup(void)
{
	struct cfg_error err;
	struct engine_config lc;
	char listen[64];

	tmp = unit_tmpdir();
	loop = evloop_new();
	reg = prom_registry_new();
	CU_ASSERT_EQUAL_FATAL(store_config_defaults(&conf, &err), 0);
	port = free_port();
	snprintf(listen, sizeof(listen), "127.0.0.1:%d", port);
	mem_free(conf.store.data_dir);
	conf.store.data_dir = mem_strdup(tmp);
	mem_free(conf.kafka.listen);
	conf.kafka.listen = mem_strdup(listen);
	engine_config_init(&lc);
	lc.data_dir = tmp;
	lc.fsync = ENGINE_FSYNC_ALWAYS;
	CU_ASSERT_EQUAL_FATAL(engine_open(&lc, &lg), 0);
	CU_ASSERT_EQUAL_FATAL(kafka_server_new(loop, lg, reg, &conf, NULL, &ks), 0);
}

static void teardown(void)
{
	kafka_server_free(ks);
	engine_close(lg);
	prom_registry_free(reg);
	evloop_free(loop);
	store_config_release(&conf);
	fs_rmtree(tmp);
}

static int client(void)
{
	struct sockaddr_in a;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons((uint16_t)port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	connect(fd, (struct sockaddr *)&a, sizeof(a)); /* EINPROGRESS */
	for (int i = 0; i < 20; i++)
		evloop_run_once(loop, 5);
	return fd;
}

static void send_all(int fd, const void *p, size_t n)
{
	const uint8_t *b = p;

	while (n) {
		ssize_t w = send(fd, b, n, MSG_NOSIGNAL);

		if (w > 0) {
			b += w;
			n -= (size_t)w;
		}
		evloop_run_once(loop, 1);
	}
}

/* Read one response frame (size field stripped) into out; false on timeout
 * or when the server closed the connection. */
static bool recv_frame(int fd, struct buf *out, int ms, bool *closed)
{
	uint64_t end = clock_mono_ms() + (uint64_t)ms;
	uint8_t tmpb[65536];

	buf_reset(out);
	*closed = false;
	while (clock_mono_ms() < end) {
		ssize_t n = recv(fd, tmpb, sizeof(tmpb), MSG_PEEK);

		if (n == 0) {
			*closed = true;
			return false;
		}
		if (n >= 4) {
			uint32_t size = get_be32(tmpb);

			if (n >= (ssize_t)(4 + size) || size + 4 > sizeof(tmpb)) {
				size_t want = 4 + size;

				buf_reserve(out, want);
				while (out->len < want && clock_mono_ms() < end) {
					ssize_t r =
						recv(fd, out->data + out->len, want - out->len, 0);

					if (r > 0)
						out->len += (size_t)r;
					else
						evloop_run_once(loop, 2);
				}
				buf_consume(out, 4);
				return out->len == size;
			}
		}
		evloop_run_once(loop, 2);
	}
	return false;
}

/* A request frame: size, header v1 (v2 when flex), then body written by fn. */
static void request(struct buf *b, int16_t key, int16_t ver, int32_t corr, bool flex)
{
	struct kwire_enc e;

	buf_reset(b);
	kwire_enc_init(&e, b, false);
	kwire_put_i32(&e, 0);
	kwire_put_i16(&e, key);
	kwire_put_i16(&e, ver);
	kwire_put_i32(&e, corr);
	kwire_put_str(&e, "unit");
	if (flex)
		kwire_put_uvarint(&e, 0);
}

static void finish(struct buf *b)
{
	put_be32(b->data, (uint32_t)(b->len - 4));
}

static void put_metadata_v1(struct buf *b, int32_t corr)
{
	struct kwire_enc e;

	request(b, KAFKA_METADATA, 1, corr, false);
	kwire_enc_init(&e, b, false);
	kwire_put_array(&e, -1);
	finish(b);
}

static void put_apiversions_v3(struct buf *b, int32_t corr)
{
	struct kwire_enc e;

	request(b, KAFKA_API_VERSIONS, 3, corr, true);
	kwire_enc_init(&e, b, true);
	kwire_put_str(&e, "unit");
	kwire_put_str(&e, "1");
	kwire_put_tags(&e);
	finish(b);
}

static void put_fetch_v11(struct buf *b, int32_t corr, int64_t offset, int32_t max_wait)
{
	struct kwire_enc e;

	request(b, KAFKA_FETCH, 11, corr, false);
	kwire_enc_init(&e, b, false);
	kwire_put_i32(&e, -1);
	kwire_put_i32(&e, max_wait);
	kwire_put_i32(&e, 1);
	kwire_put_i32(&e, 1 << 20);
	kwire_put_i8(&e, 0);
	kwire_put_i32(&e, 0);
	kwire_put_i32(&e, -1);
	kwire_put_array(&e, 1);
	kwire_put_str(&e, "t");
	kwire_put_array(&e, 1);
	kwire_put_i32(&e, 0);
	kwire_put_i32(&e, -1);
	kwire_put_i64(&e, offset);
	kwire_put_i64(&e, -1);
	kwire_put_i32(&e, 1 << 20);
	kwire_put_array(&e, 0);
	kwire_put_str(&e, "");
	finish(b);
}

static size_t build_batch(struct buf *out)
{
	struct batch_builder bb;
	struct batch_params bp;
	struct codec_ctx *cc = codec_ctx_new();

	batch_builder_init(&bb, 1 << 20);
	for (int i = 0; i < 10; i++) {
		char v[64];
		int n = snprintf(v, sizeof(v), "line seq=%d", i);

		batch_builder_add(&bb, 1700000000000 + i, "k", 1, v, n, NULL, 0);
	}
	batch_params_init(&bp);
	bp.codec = CODEC_ZSTD;
	buf_reset(out);
	CU_ASSERT_EQUAL(batch_builder_finish(&bb, cc, &bp, out), 0);
	batch_builder_release(&bb);
	codec_ctx_free(cc);
	return out->len;
}

static void test_produce_then_fetch(void)
{
	struct buf req, resp, batch;
	struct kwire_enc e;
	struct kwire_dec d;
	struct arena a;
	bool closed;
	const uint8_t *recs;
	int fd;

	setup();
	buf_init(&req, 0);
	buf_init(&resp, 0);
	buf_init(&batch, 0);
	arena_init(&a, 0);
	fd = client();
	build_batch(&batch);
	request(&req, KAFKA_PRODUCE, 7, 11, false);
	kwire_enc_init(&e, &req, false);
	kwire_put_str(&e, NULL);
	kwire_put_i16(&e, -1);
	kwire_put_i32(&e, 10000);
	kwire_put_array(&e, 1);
	kwire_put_str(&e, "t");
	kwire_put_array(&e, 1);
	kwire_put_i32(&e, 0);
	kwire_put_bytes(&e, batch.data, (int32_t)batch.len);
	finish(&req);
	send_all(fd, req.data, req.len);
	CU_ASSERT_FATAL(recv_frame(fd, &resp, 10000, &closed));
	kwire_dec_init(&d, resp.data, resp.len, false, &a);
	CU_ASSERT_EQUAL(kwire_get_i32(&d), 11); /* correlation id */
	CU_ASSERT_EQUAL(kwire_get_array(&d, 1), 1);
	CU_ASSERT_STRING_EQUAL(kwire_get_str(&d), "t");
	CU_ASSERT_EQUAL(kwire_get_array(&d, 1), 1);
	CU_ASSERT_EQUAL(kwire_get_i32(&d), 0); /* partition */
	CU_ASSERT_EQUAL(kwire_get_i16(&d), 0); /* error */
	CU_ASSERT_EQUAL(kwire_get_i64(&d), 0); /* base offset */
	{
		struct engine_partition_info info;

		/* acks=-1 answered: the batch is durable */
		CU_ASSERT_EQUAL(engine_partition_info(lg, "t", 0, &info), 0);
		CU_ASSERT_EQUAL(info.durable, 10);
	}
	put_fetch_v11(&req, 12, 0, 100);
	send_all(fd, req.data, req.len);
	CU_ASSERT_FATAL(recv_frame(fd, &resp, 5000, &closed));
	kwire_dec_init(&d, resp.data, resp.len, false, &a);
	CU_ASSERT_EQUAL(kwire_get_i32(&d), 12);
	CU_ASSERT_EQUAL(kwire_get_i32(&d), 0); /* throttle */
	CU_ASSERT_EQUAL(kwire_get_i16(&d), 0);
	CU_ASSERT_EQUAL(kwire_get_i32(&d), 0); /* session */
	CU_ASSERT_EQUAL(kwire_get_array(&d, 1), 1);
	CU_ASSERT_STRING_EQUAL(kwire_get_str(&d), "t");
	CU_ASSERT_EQUAL(kwire_get_array(&d, 1), 1);
	CU_ASSERT_EQUAL(kwire_get_i32(&d), 0);
	CU_ASSERT_EQUAL(kwire_get_i16(&d), 0);
	CU_ASSERT_EQUAL(kwire_get_i64(&d), 10);      /* high watermark */
	CU_ASSERT_EQUAL(kwire_get_i64(&d), 10);      /* last stable */
	CU_ASSERT_EQUAL(kwire_get_i64(&d), 0);       /* log start */
	CU_ASSERT_EQUAL(kwire_get_array(&d, 1), -1); /* aborted txns */
	CU_ASSERT_EQUAL(kwire_get_i32(&d), -1);      /* preferred replica */
	CU_ASSERT_EQUAL(kwire_get_bytes(&d, &recs), (int32_t)batch.len);
	/* as produced: the engine rewrote only baseOffset (0 here anyway) */
	CU_ASSERT(recs && memcmp(recs + 8, batch.data + 8, batch.len - 8) == 0);
	CU_ASSERT_EQUAL(kwire_dec_left(&d), 0);
	close(fd);
	arena_release(&a);
	buf_release(&req);
	buf_release(&resp);
	buf_release(&batch);
	teardown();
}

/* Metadata, a long-polling Fetch, ApiVersions in one write: three answers in
 * that order, the last two not before the poll ends. */
static void test_pipelined_order(void)
{
	struct buf req, all, resp;
	bool closed;
	uint64_t t0;
	int fd;

	setup();
	buf_init(&req, 0);
	buf_init(&all, 0);
	buf_init(&resp, 0);
	CU_ASSERT_EQUAL(engine_topic_create(lg, "t", &(struct topic_config){.partitions = 1}), 0);
	fd = client();
	put_metadata_v1(&req, 1);
	buf_append(&all, req.data, req.len);
	put_fetch_v11(&req, 2, 0, 400);
	buf_append(&all, req.data, req.len);
	put_apiversions_v3(&req, 3);
	buf_append(&all, req.data, req.len);
	t0 = clock_mono_ms();
	send_all(fd, all.data, all.len);
	for (int32_t corr = 1; corr <= 3; corr++) {
		CU_ASSERT_FATAL(recv_frame(fd, &resp, 5000, &closed));
		CU_ASSERT_EQUAL(get_be32(resp.data), (uint32_t)corr);
		if (corr >= 2)
			CU_ASSERT(clock_mono_ms() - t0 >= 350);
	}
	close(fd);
	buf_release(&req);
	buf_release(&all);
	buf_release(&resp);
	teardown();
}

static void test_bad_frame_and_metrics(void)
{
	struct buf req, resp, m;
	static const uint8_t huge[] = {0x7f, 0xff, 0xff, 0xff, 1, 2, 3};
	bool closed;
	int bad, good;

	setup();
	buf_init(&req, 0);
	buf_init(&resp, 0);
	buf_init(&m, 0);
	good = client();
	bad = client();
	send_all(bad, huge, sizeof(huge));
	CU_ASSERT_FALSE(recv_frame(bad, &resp, 2000, &closed));
	CU_ASSERT_TRUE(closed);
	put_apiversions_v3(&req, 9);
	send_all(good, req.data, req.len);
	CU_ASSERT_FATAL(recv_frame(good, &resp, 2000, &closed));
	CU_ASSERT_EQUAL(get_be32(resp.data), 9);
	/* v3 body right after the v0 header: error 0, compact array */
	CU_ASSERT_EQUAL(get_be16(resp.data + 4), 0);
	prom_registry_render(reg, &m);
	buf_cstr(&m);
	CU_ASSERT_PTR_NOT_NULL(
		strstr((char *)m.data,
		       "sluice_kafka_requests_total{api=\"ApiVersions\",error_code=\"0\"} 1\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr((char *)m.data, "sluice_kafka_bad_frames_total 1\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr((char *)m.data, "sluice_kafka_connections 1\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr((char *)m.data, "sluice_groups{state=\"Stable\"} 0\n"));
	CU_ASSERT_PTR_NOT_NULL(
		strstr((char *)m.data, "sluice_kafka_request_latency_seconds_count"));
	close(good);
	close(bad);
	buf_release(&req);
	buf_release(&resp);
	buf_release(&m);
	teardown();
}

int main(void)
{
	static const struct unit_test tests[] = {
		UNIT_TEST(test_produce_then_fetch),
		UNIT_TEST(test_pipelined_order),
		UNIT_TEST(test_bad_frame_and_metrics),
		UNIT_END,
	};

	return unit_run("kafka_server", tests);
}
