/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Kafka request headers, request decoders and response encoders, against
 * byte sequences written out field by field from the message schemas
 * (the JSON files under clients/src/main/resources/common/message in Kafka) with a
 * writer independent of store/kwire: every API's decoder at the versions
 * the clients send, the KIP-511 ApiVersions fallback, trailing bytes, and
 * truncation at every length.
 */
#include <dirent.h>
#include <string.h>

#include "lib/err.h"
#include "lib/fs.h"
#include "store/kafka/kafka_admin.h"
#include "store/kafka/kafka_configs.h"
#include "store/kafka/kafka_api.h"
#include "store/kafka/kafka_fetch.h"
#include "store/kafka/kafka_meta.h"
#include "store/kafka/kafka_req.h"
#include "store/kafka/kafka_produce.h"
#include "store/kafka/kmsg_gen.h"
#include "store/kafka/kafka_records.h"
#include "store/kafka/kschema.h"
#include "tests/unit/unit.h"

#include "tests/unit/kreq.h"

/* ---------------------------------------------------------------- headers */

static void test_header_v1_and_v2(void)
{
	struct arena a;
	struct kafka_hdr h;

	arena_init(&a, 0);
	w_header(KAFKA_METADATA, 4, 77, "rdkafka", false);
	CU_ASSERT_EQUAL(kafka_api_parse_header(W.data, W.len, &a, &h), 0);
	CU_ASSERT_EQUAL(h.api_key, 3);
	CU_ASSERT_EQUAL(h.api_version, 4);
	CU_ASSERT_EQUAL(h.correlation_id, 77);
	CU_ASSERT_STRING_EQUAL(h.client_id, "rdkafka");
	CU_ASSERT_FALSE(h.flex);
	CU_ASSERT_EQUAL(h.body_off, 8 + 2 + 7);

	/* ApiVersions v3 is flexible: header v2 has a tag section after client_id */
	w_header(KAFKA_API_VERSIONS, 3, 1, NULL, true);
	CU_ASSERT_EQUAL(kafka_api_parse_header(W.data, W.len, &a, &h), 0);
	CU_ASSERT_TRUE(h.flex);
	CU_ASSERT_PTR_NULL(h.client_id);
	CU_ASSERT_EQUAL(h.body_off, 8 + 2 + 1);
	arena_release(&a);
}

static void test_header_unsupported(void)
{
	struct arena a;
	struct kafka_hdr h;

	arena_init(&a, 0);
	/* KIP-511: a newer ApiVersions still yields key and correlation id */
	w_header(KAFKA_API_VERSIONS, 9, 4242, "x", true);
	CU_ASSERT_EQUAL(kafka_api_parse_header(W.data, W.len, &a, &h), -ERR_UNSUPPORTED);
	CU_ASSERT_EQUAL(h.api_key, KAFKA_API_VERSIONS);
	CU_ASSERT_EQUAL(h.correlation_id, 4242);
	w_header(99, 0, 1, "x", false);
	CU_ASSERT_EQUAL(kafka_api_parse_header(W.data, W.len, &a, &h), -ERR_UNSUPPORTED);
	/* Produce < 3 carries message formats 0/1 */
	w_header(KAFKA_PRODUCE, 2, 1, "x", false);
	CU_ASSERT_EQUAL(kafka_api_parse_header(W.data, W.len, &a, &h), -ERR_UNSUPPORTED);
	w_header(KAFKA_FETCH, 17, 1, "x", true);
	CU_ASSERT_EQUAL(kafka_api_parse_header(W.data, W.len, &a, &h), -ERR_UNSUPPORTED);
	CU_ASSERT_EQUAL(kafka_api_parse_header(W.data, 7, &a, &h), -ERR_CORRUPT);
	/* client_id length past the end */
	w_header(KAFKA_METADATA, 1, 1, "abc", false);
	CU_ASSERT_EQUAL(kafka_api_parse_header(W.data, W.len - 1, &a, &h), -ERR_CORRUPT);
	arena_release(&a);
}

/* ---------------------------------------------------------------- ApiVersions */

static void test_apiversions(void)
{
	struct arena a;
	struct kafka_hdr h;
	struct kmsg_api_versions_req *q;
	struct kwire_enc e;
	struct buf out;
	size_t n;
	const struct kafka_api *t = kafka_api_table(&n);

	/* librdkafka's opening request */
	w_header(KAFKA_API_VERSIONS, 3, 1, "rdkafka", true);
	wcstr("librdkafka");
	wcstr("2.0.2");
	w8(0);
	arena_init(&a, 0);
	q = decode_frame(&a, &h);
	CU_ASSERT_PTR_NOT_NULL_FATAL(q);
	CU_ASSERT_STRING_EQUAL(q->client_software_name, "librdkafka");
	CU_ASSERT_STRING_EQUAL(q->client_software_version, "2.0.2");
	arena_release(&a);
	check_truncations();

	/* v0 response: error, int32 count, (key, min, max) */
	buf_init(&out, 0);
	kwire_enc_init(&e, &out, false);
	kafka_meta_apiversions_encode(&e, 0, KERR_UNSUPPORTED_VERSION);
	CU_ASSERT_EQUAL(out.len, 2 + 4 + 6 * n);
	CU_ASSERT_EQUAL(get_be16(out.data), KERR_UNSUPPORTED_VERSION);
	CU_ASSERT_EQUAL(get_be32(out.data + 2), n);
	for (size_t i = 0; i < n; i++) {
		const uint8_t *p = out.data + 6 + 6 * i;

		CU_ASSERT_EQUAL(get_be16(p), (uint16_t)t[i].key);
		CU_ASSERT_EQUAL(get_be16(p + 2), (uint16_t)t[i].min);
		CU_ASSERT_EQUAL(get_be16(p + 4), (uint16_t)t[i].max);
		if (t[i].key == KAFKA_PRODUCE)
			CU_ASSERT(t[i].min == 3 && t[i].max == 11);
		if (t[i].key == KAFKA_API_VERSIONS)
			CU_ASSERT(t[i].min == 0 && t[i].max == 4);
	}
	/* v3: compact array (n+1), a tag byte per entry, throttle, tags */
	buf_reset(&out);
	kwire_enc_init(&e, &out, true);
	kafka_meta_apiversions_encode(&e, 3, KERR_NONE);
	CU_ASSERT_EQUAL(out.len, 2 + 1 + 7 * n + 4 + 1);
	CU_ASSERT_EQUAL(out.data[2], n + 1);
	CU_ASSERT_EQUAL(out.data[2 + 7], 0); /* first entry's tags */
	CU_ASSERT_EQUAL(out.data[out.len - 1], 0);
	buf_release(&out);
}

/* ---------------------------------------------------------------- data APIs */

static const uint8_t fake_batch[] = {1, 2, 3, 4, 5, 6, 7};

static void test_produce(void)
{
	struct arena a;
	struct kafka_hdr h;
	struct kmsg_produce_req *q;

	w_header(KAFKA_PRODUCE, 7, 5, "p", false);
	wstr(NULL); /* transactional_id */
	w16(-1);    /* acks */
	w32(30000); /* timeout_ms */
	w32(2);     /* topics */
	wstr("logs");
	w32(2);
	w32(0);
	wbytes(fake_batch, sizeof(fake_batch));
	w32(3);
	wbytes(NULL, -1);
	wstr("x");
	w32(0);
	arena_init(&a, 0);
	q = decode_frame(&a, &h);
	CU_ASSERT_PTR_NOT_NULL_FATAL(q);
	CU_ASSERT_PTR_NULL(q->transactional_id);
	CU_ASSERT_EQUAL(q->acks, -1);
	CU_ASSERT_EQUAL(q->timeout_ms, 30000);
	CU_ASSERT_EQUAL(q->n_topic_data, 2);
	CU_ASSERT_STRING_EQUAL(q->topic_data[0].name, "logs");
	CU_ASSERT_EQUAL(q->topic_data[0].n_partition_data, 2);
	CU_ASSERT_EQUAL(q->topic_data[0].partition_data[0].records.n, 7);
	CU_ASSERT(memcmp(q->topic_data[0].partition_data[0].records.p, fake_batch, 7) == 0);
	CU_ASSERT_EQUAL(q->topic_data[0].partition_data[1].index, 3);
	CU_ASSERT_EQUAL(q->topic_data[0].partition_data[1].records.n, -1);
	CU_ASSERT_EQUAL(q->topic_data[1].n_partition_data, 0);
	arena_release(&a);
	check_truncations();
}

static void test_produce_response_v8(void)
{
	struct kmsg_produce_resp_partition_produce_response pr;
	struct kmsg_produce_resp_topic_produce_response tr;
	struct kmsg_produce_resp m;
	struct kwire_enc e;
	struct buf out;

	kschema_init(&kmsg_produce_resp_partition_produce_response_st, &pr);
	kschema_init(&kmsg_produce_resp_topic_produce_response_st, &tr);
	kschema_init(&kmsg_produce_resp_st, &m);
	pr.index = 2;
	pr.error_code = KERR_OUT_OF_ORDER_SEQUENCE_NUMBER;
	pr.base_offset = -1;
	pr.log_start_offset = 5;
	pr.error_message = "gap";
	tr.name = "t";
	tr.n_partition_responses = 1;
	tr.partition_responses = &pr;
	m.n_responses = 1;
	m.responses = &tr;
	buf_init(&out, 0);
	kwire_enc_init(&e, &out, false);
	kschema_encode(&kmsg_produce_resp_msg, 8, &m, &e);
	w_reset();
	w32(1);
	wstr("t");
	w32(1);
	w32(2);
	w16(45);
	w64(-1);
	w64(-1); /* log_append_time_ms */
	w64(5);  /* log_start_offset (v5+) */
	w32(0);  /* record_errors (v8+) */
	wstr("gap");
	w32(0); /* throttle */
	CU_ASSERT_EQUAL(out.len, W.len);
	CU_ASSERT(memcmp(out.data, W.data, W.len) == 0);
	/* v3: no log_start, no record errors */
	buf_reset(&out);
	kwire_enc_init(&e, &out, false);
	kschema_encode(&kmsg_produce_resp_msg, 3, &m, &e);
	CU_ASSERT_EQUAL(out.len, W.len - 8 - 4 - 5);
	/* v11, flexible: compact forms and a tag section per struct */
	buf_reset(&out);
	kwire_enc_init(&e, &out, true);
	kschema_encode(&kmsg_produce_resp_msg, 11, &m, &e);
	w_reset();
	w8(2);
	wcstr("t");
	w8(2);
	w32(2);
	w16(45);
	w64(-1);
	w64(-1);
	w64(5);
	w8(1); /* record_errors: empty */
	wcstr("gap");
	w8(0); /* partition tags: current_leader at its default */
	w8(0); /* topic tags */
	w32(0);
	w8(0); /* node_endpoints at its default */
	CU_ASSERT_EQUAL(out.len, W.len);
	CU_ASSERT(out.len == W.len && memcmp(out.data, W.data, W.len) == 0);
	buf_release(&out);
}

static void test_fetch(void)
{
	struct arena a;
	struct kafka_hdr h;
	struct kmsg_fetch_req *q;

	w_header(KAFKA_FETCH, 11, 9, "c", false);
	w32(-1);       /* replica_id */
	w32(500);      /* max_wait */
	w32(1);        /* min_bytes */
	w32(52428800); /* max_bytes */
	w8(0);         /* isolation */
	w32(0);        /* session_id */
	w32(-1);       /* session_epoch */
	w32(1);
	wstr("logs");
	w32(1);
	w32(4);       /* partition */
	w32(0);       /* current_leader_epoch (v9+) */
	w64(123);     /* fetch_offset */
	w64(-1);      /* log_start_offset (v5+) */
	w32(1048576); /* partition max_bytes */
	w32(0);       /* forgotten topics (v7+) */
	wstr("");     /* rack_id (v11+) */
	arena_init(&a, 0);
	q = decode_frame(&a, &h);
	CU_ASSERT_PTR_NOT_NULL_FATAL(q);
	CU_ASSERT_EQUAL(q->max_wait_ms, 500);
	CU_ASSERT_EQUAL(q->min_bytes, 1);
	CU_ASSERT_EQUAL(q->max_bytes, 52428800);
	CU_ASSERT_EQUAL(q->session_epoch, -1);
	CU_ASSERT_EQUAL(q->topics[0].partitions[0].partition, 4);
	CU_ASSERT_EQUAL(q->topics[0].partitions[0].fetch_offset, 123);
	CU_ASSERT_EQUAL(q->topics[0].partitions[0].partition_max_bytes, 1048576);
	CU_ASSERT_STRING_EQUAL(q->rack_id, "");
	arena_release(&a);
	check_truncations();

	/* v4 (kafka-python): no session, leader epoch, log start or rack */
	w_header(KAFKA_FETCH, 4, 9, "c", false);
	w32(-1);
	w32(100);
	w32(1);
	w32(1000);
	w8(0);
	w32(1);
	wstr("logs");
	w32(1);
	w32(0);
	w64(7);
	w32(4096);
	arena_init(&a, 0);
	q = decode_frame(&a, &h);
	CU_ASSERT_PTR_NOT_NULL_FATAL(q);
	CU_ASSERT_EQUAL(q->topics[0].partitions[0].fetch_offset, 7);
	CU_ASSERT_EQUAL(q->topics[0].partitions[0].current_leader_epoch, -1);
	arena_release(&a);
	check_truncations();
}

static void test_metadata(void)
{
	struct arena a;
	struct kafka_hdr h;
	struct kmsg_metadata_req *q;

	/* v4: null topics = all, auto-creation off */
	w_header(KAFKA_METADATA, 4, 2, "c", false);
	w32(-1);
	w8(0);
	arena_init(&a, 0);
	q = decode_frame(&a, &h);
	CU_ASSERT_PTR_NOT_NULL_FATAL(q);
	CU_ASSERT_EQUAL(q->n_topics, -1);
	CU_ASSERT_FALSE(q->allow_auto_topic_creation);
	arena_release(&a);
	check_truncations();
	/* v0: an empty array also means all; topics otherwise */
	w_header(KAFKA_METADATA, 0, 2, "c", false);
	w32(0);
	arena_init(&a, 0);
	q = decode_frame(&a, &h);
	CU_ASSERT_EQUAL(q->n_topics, 0); /* the handler reads v0's empty as all */
	CU_ASSERT_TRUE(q->allow_auto_topic_creation);
	w_header(KAFKA_METADATA, 8, 2, "c", false);
	w32(2);
	wstr("a");
	wstr("b.c");
	w8(1);
	w8(0);
	w8(1);
	q = decode_frame(&a, &h);
	CU_ASSERT_PTR_NOT_NULL_FATAL(q);
	CU_ASSERT_EQUAL(q->n_topics, 2);
	CU_ASSERT_STRING_EQUAL(q->topics[1].name, "b.c");
	CU_ASSERT_TRUE(q->include_topic_authorized_operations);
	arena_release(&a);
	check_truncations();
}

static void test_metadata_response(void)
{
	static int32_t node0[1];
	struct kmsg_metadata_resp_partition parts[2];
	struct kmsg_metadata_resp_topic t[2];
	struct kmsg_metadata_resp_broker b;
	struct kmsg_metadata_resp m;
	struct kwire_enc e;
	struct buf out;

	kschema_init(&kmsg_metadata_resp_st, &m);
	kschema_init(&kmsg_metadata_resp_broker_st, &b);
	b.host = "127.0.0.1";
	b.port = 9092;
	m.n_brokers = 1;
	m.brokers = &b;
	m.cluster_id = "sluice";
	m.controller_id = 0; /* the schema's default is -1 */
	m.n_topics = 2;
	m.topics = t;
	for (int i = 0; i < 2; i++) {
		kschema_init(&kmsg_metadata_resp_topic_st, &t[i]);
		kschema_init(&kmsg_metadata_resp_partition_st, &parts[i]);
		parts[i].partition_index = i;
		parts[i].leader_epoch = 0;
		parts[i].n_replica_nodes = parts[i].n_isr_nodes = 1;
		parts[i].replica_nodes = parts[i].isr_nodes = node0;
	}
	t[0].name = "logs";
	t[0].n_partitions = 2;
	t[0].partitions = parts;
	t[1].name = "nope";
	t[1].error_code = KERR_UNKNOWN_TOPIC_OR_PARTITION;
	buf_init(&out, 0);
	for (int v = 0; v <= 8; v++) {
		buf_reset(&out);
		kwire_enc_init(&e, &out, false);
		kschema_encode(&kmsg_metadata_resp_msg, (int16_t)v, &m, &e);
		w_reset();
		if (v >= 3)
			w32(0);
		w32(1);
		w32(0);
		wstr("127.0.0.1");
		w32(9092);
		if (v >= 1)
			wstr(NULL);
		if (v >= 2)
			wstr("sluice");
		if (v >= 1)
			w32(0);
		w32(2);
		w16(0);
		wstr("logs");
		if (v >= 1)
			w8(0);
		w32(2);
		for (int p = 0; p < 2; p++) {
			w16(0);
			w32(p);
			w32(0);
			if (v >= 7)
				w32(0);
			w32(1);
			w32(0);
			w32(1);
			w32(0);
			if (v >= 5)
				w32(0);
		}
		if (v >= 8)
			w32(INT32_MIN);
		w16(3);
		wstr("nope");
		if (v >= 1)
			w8(0);
		w32(0);
		if (v >= 8)
			w32(INT32_MIN);
		if (v >= 8)
			w32(INT32_MIN);
		CU_ASSERT_EQUAL(out.len, W.len);
		CU_ASSERT(out.len == W.len && memcmp(out.data, W.data, W.len) == 0);
	}
	buf_release(&out);
}

static void test_admin(void)
{
	struct arena a;
	struct kafka_hdr h;
	struct kmsg_create_topics_req *ct;
	struct kmsg_delete_topics_req *dt;
	struct kmsg_describe_configs_req *dc;
	struct kmsg_init_producer_id_req *ip;

	arena_init(&a, 0);
	w_header(KAFKA_CREATE_TOPICS, 4, 1, "admin", false);
	w32(1);
	wstr("new");
	w32(-1);
	w16(-1);
	w32(1); /* one assignment */
	w32(0);
	w32(1);
	w32(0);
	w32(2); /* configs */
	wstr("retention.ms");
	wstr("60000");
	wstr("cleanup.policy");
	wstr(NULL);
	w32(5000);
	w8(1);
	ct = decode_frame(&a, &h);
	CU_ASSERT_PTR_NOT_NULL_FATAL(ct);
	CU_ASSERT_EQUAL(ct->topics[0].num_partitions, -1);
	CU_ASSERT_EQUAL(ct->topics[0].n_assignments, 1);
	CU_ASSERT_EQUAL(ct->topics[0].assignments[0].broker_ids[0], 0);
	CU_ASSERT_STRING_EQUAL(ct->topics[0].configs[0].value, "60000");
	CU_ASSERT_PTR_NULL(ct->topics[0].configs[1].value);
	CU_ASSERT_TRUE(ct->validate_only);
	check_truncations();

	w_header(KAFKA_DELETE_TOPICS, 3, 1, "admin", false);
	w32(2);
	wstr("a");
	wstr("b");
	w32(1000);
	dt = decode_frame(&a, &h);
	CU_ASSERT_PTR_NOT_NULL_FATAL(dt);
	CU_ASSERT_EQUAL(dt->n_topic_names, 2);
	CU_ASSERT_STRING_EQUAL(dt->topic_names[1], "b");
	check_truncations();

	w_header(KAFKA_DESCRIBE_CONFIGS, 3, 1, "admin", false);
	w32(2);
	w8(2);
	wstr("logs");
	w32(-1);
	w8(4);
	wstr("0");
	w32(1);
	wstr("x");
	w8(1);
	w8(0);
	dc = decode_frame(&a, &h);
	CU_ASSERT_PTR_NOT_NULL_FATAL(dc);
	CU_ASSERT_EQUAL(dc->resources[0].n_configuration_keys, -1);
	CU_ASSERT_EQUAL(dc->resources[1].resource_type, 4);
	CU_ASSERT_TRUE(dc->include_synonyms);
	check_truncations();

	w_header(KAFKA_INIT_PRODUCER_ID, 1, 1, "p", false);
	wstr(NULL);
	w32(60000);
	ip = decode_frame(&a, &h);
	CU_ASSERT_PTR_NOT_NULL_FATAL(ip);
	CU_ASSERT_PTR_NULL(ip->transactional_id);
	CU_ASSERT_EQUAL(ip->producer_id, -1); /* v3+ only: the schema default */
	arena_release(&a);
	check_truncations();
}

static void test_error_mapping(void)
{
	CU_ASSERT_EQUAL(kafka_api_error(0), 0);
	CU_ASSERT_EQUAL(kafka_api_error(-ERR_NOT_FOUND), 3);
	CU_ASSERT_EQUAL(kafka_api_error(-ERR_CORRUPT), 2);
	CU_ASSERT_EQUAL(kafka_api_error(-ERR_TOO_LARGE), 10);
	CU_ASSERT_EQUAL(kafka_api_error(-ERR_INVALID), 17);
	CU_ASSERT_EQUAL(kafka_api_error(-ERR_OUT_OF_RANGE), 1);
	CU_ASSERT_EQUAL(kafka_api_error(-ERR_OUT_OF_ORDER), 45);
	CU_ASSERT_EQUAL(kafka_api_error(-ERR_FENCED), 47);
	CU_ASSERT_EQUAL(kafka_api_error(-ERR_STORAGE), 56);
	CU_ASSERT_EQUAL(kafka_api_error(-ENOSPC), 56);
	CU_ASSERT_EQUAL(kafka_api_error(-ERR_EXISTS), 36);
	CU_ASSERT_EQUAL(kafka_api_error(-ENOMEM), -1);
}

/* The fuzz seeds are real requests, mostly encoded by kafka-python's
 * protocol classes: every one must decode (KIP-511's excepted). */
static void test_seed_frames_decode(void)
{
	const char *dir = "tests/data/fuzz/fuzz_kafka_request";
	DIR *d = opendir(dir);
	struct dirent *de;
	int seen = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	while ((de = readdir(d)) != NULL) {
		char path[512];
		struct buf f;
		struct arena a;
		struct kafka_hdr h;
		int rc;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		buf_init(&f, 1 << 20);
		CU_ASSERT_EQUAL_FATAL(fs_read_file(path, &f), 0);
		arena_init(&a, 0);
		rc = kafka_api_parse_header(f.data, f.len, &a, &h);
		if (strstr(de->d_name, "kip511")) {
			CU_ASSERT_EQUAL(rc, -ERR_UNSUPPORTED);
		} else {
			CU_ASSERT_EQUAL(rc, 0);
			if (rc == 0 && !kafka_api_decode_body(&h, f.data, f.len, &a)) {
				fprintf(stderr, "seed %s does not decode\n", de->d_name);
				CU_FAIL("seed does not decode");
			}
		}
		seen++;
		arena_release(&a);
		buf_release(&f);
	}
	closedir(d);
	CU_ASSERT(seen >= 30);
}

static void test_table_consistent(void)
{
	size_t n;
	const struct kafka_api *t = kafka_api_table(&n);

	CU_ASSERT(n <= KAFKA_API_SLOTS); /* per-API metric slots */
	for (size_t i = 0; i < n; i++) {
		CU_ASSERT(t[i].min <= t[i].max);
		if (t[i].req) { /* schema framework: both messages, versions they know */
			CU_ASSERT_PTR_NOT_NULL(t[i].resp);
			CU_ASSERT(t[i].req->api_key == t[i].key && t[i].resp->api_key == t[i].key);
			CU_ASSERT(t[i].max <= t[i].req->valid.hi &&
				  t[i].max <= t[i].resp->valid.hi);
			CU_ASSERT(t[i].req->flex_min == t[i].resp->flex_min);
			/* only SaslAuthenticate keeps one (bare tokens, v-1) */
			if (t[i].key != KAFKA_SASL_AUTHENTICATE)
				CU_ASSERT_PTR_NULL(t[i].decode);
		} else {
			/* hand-written codecs (Produce, Fetch until converted) may
			 * serve flexible versions through kwire's compact forms */
			CU_ASSERT(t[i].flex_min >= 0);
			CU_ASSERT_PTR_NOT_NULL(t[i].decode);
		}
		CU_ASSERT_PTR_NOT_NULL(t[i].handle);
		CU_ASSERT_EQUAL(kafka_api_index(t[i].key), (int)i);
		for (size_t j = 0; j < i; j++)
			CU_ASSERT_NOT_EQUAL(t[i].key, t[j].key);
	}
}

int main(void)
{
	static const struct unit_test tests[] = {
		UNIT_TEST(test_header_v1_and_v2),
		UNIT_TEST(test_header_unsupported),
		UNIT_TEST(test_apiversions),
		UNIT_TEST(test_produce),
		UNIT_TEST(test_produce_response_v8),
		UNIT_TEST(test_fetch),
		UNIT_TEST(test_metadata),
		UNIT_TEST(test_metadata_response),
		UNIT_TEST(test_admin),
		UNIT_TEST(test_error_mapping),
		UNIT_TEST(test_seed_frames_decode),
		UNIT_TEST(test_table_consistent),
		UNIT_END,
	};
	int rc;

	buf_init(&W, 0);
	rc = unit_run("kafka_api", tests);
	buf_release(&W);
	return rc;
}
