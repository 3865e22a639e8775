/* SPDX-License-Identifier: Apache-2.0 */
/* The native kafka producer's wire code (plugins/out_kafka/kproto.h): the
 * requests laid out as the Kafka schemas say (Produce v7, Metadata v4,
 * InitProducerId v1, ApiVersions v0, header v1), and the answers decoded,
 * including every truncation of them and hostile array counts (refused
 * without a large allocation). */
#include <string.h>

#include "lib/buf.h"
#include "lib/err.h"
#include "plugins/out_kafka/kproto.h"
#include "tests/unit/unit.h"

static void w16(struct buf *b, int v)
{
	CU_ASSERT_EQUAL(buf_append_be16(b, (uint16_t)v), 0);
}
static void w32(struct buf *b, int64_t v)
{
	CU_ASSERT_EQUAL(buf_append_be32(b, (uint32_t)v), 0);
}
static void w64(struct buf *b, int64_t v)
{
	CU_ASSERT_EQUAL(buf_append_be64(b, (uint64_t)v), 0);
}
static void wstr(struct buf *b, const char *s)
{
	w16(b, (int)strlen(s));
	CU_ASSERT_EQUAL(buf_append(b, s, strlen(s)), 0);
}

/* The request header v1 through the client id; returns the cursor after it. */
static void check_header(struct cursor *c, const struct buf *b, int api, int ver, int corr)
{
	const uint8_t *p;

	cursor_init(c, b->data, b->len);
	CU_ASSERT_EQUAL(cursor_be32(c), b->len - 4);
	CU_ASSERT_EQUAL((int16_t)cursor_be16(c), api);
	CU_ASSERT_EQUAL((int16_t)cursor_be16(c), ver);
	CU_ASSERT_EQUAL((int32_t)cursor_be32(c), corr);
	CU_ASSERT_EQUAL(cursor_be16(c), 12);
	p = cursor_take(c, 12);
	CU_ASSERT(p && !memcmp(p, "sluice-agent", 12));
}

static void test_produce_request(void)
{
	struct buf b;
	struct cursor c;
	const uint8_t rec[] = {1, 2, 3, 4, 5};

	buf_init(&b, 0);
	CU_ASSERT_EQUAL(kp_produce_req(&b, 7, -1, 30000, "logs", 3, rec, sizeof(rec)), 0);
	check_header(&c, &b, KP_PRODUCE, 7, 7);
	CU_ASSERT_EQUAL((int16_t)cursor_be16(&c), -1); /* transactional id null */
	CU_ASSERT_EQUAL((int16_t)cursor_be16(&c), -1); /* acks */
	CU_ASSERT_EQUAL(cursor_be32(&c), 30000);
	CU_ASSERT_EQUAL(cursor_be32(&c), 1);
	CU_ASSERT_EQUAL(cursor_be16(&c), 4);
	CU_ASSERT(!memcmp(cursor_take(&c, 4), "logs", 4));
	CU_ASSERT_EQUAL(cursor_be32(&c), 1);
	CU_ASSERT_EQUAL(cursor_be32(&c), 3);
	CU_ASSERT_EQUAL(cursor_be32(&c), 5);
	CU_ASSERT(!memcmp(cursor_take(&c, 5), rec, 5));
	CU_ASSERT(cursor_ok(&c) && cursor_left(&c) == 0);
	buf_release(&b);

	/* a full buffer leaves nothing half-written */
	buf_init(&b, 40);
	CU_ASSERT(kp_produce_req(&b, 1, -1, 1, "logs", 0, rec, sizeof(rec)) < 0);
	CU_ASSERT_EQUAL(b.len, 0);
	buf_release(&b);
}

static void test_other_requests(void)
{
	const char *topics[] = {"a", "bc"};
	struct buf b;
	struct cursor c;

	buf_init(&b, 0);
	CU_ASSERT_EQUAL(kp_metadata_req(&b, 2, topics, 2), 0);
	check_header(&c, &b, KP_METADATA, 4, 2);
	CU_ASSERT_EQUAL(cursor_be32(&c), 2);
	CU_ASSERT_EQUAL(cursor_be16(&c), 1);
	cursor_take(&c, 1);
	CU_ASSERT_EQUAL(cursor_be16(&c), 2);
	cursor_take(&c, 2);
	CU_ASSERT_EQUAL(cursor_u8(&c), 1); /* allow_auto_topic_creation */
	CU_ASSERT(cursor_ok(&c) && cursor_left(&c) == 0);
	buf_reset(&b);
	CU_ASSERT_EQUAL(kp_init_pid_req(&b, 3, 60000), 0);
	check_header(&c, &b, KP_INIT_PRODUCER_ID, 1, 3);
	CU_ASSERT_EQUAL((int16_t)cursor_be16(&c), -1);
	CU_ASSERT_EQUAL(cursor_be32(&c), 60000);
	CU_ASSERT(cursor_ok(&c) && cursor_left(&c) == 0);
	buf_reset(&b);
	CU_ASSERT_EQUAL(kp_api_versions_req(&b, 4), 0);
	check_header(&c, &b, KP_API_VERSIONS, 0, 4);
	CU_ASSERT(cursor_ok(&c) && cursor_left(&c) == 0);
	buf_release(&b);
}

static void metadata_answer(struct buf *b)
{
	w32(b, 9); /* correlation id */
	w32(b, 0); /* throttle */
	w32(b, 2); /* brokers */
	w32(b, 1);
	wstr(b, "k1.example");
	w32(b, 9092);
	w16(b, -1); /* rack */
	w32(b, 2);
	wstr(b, "k2");
	w32(b, 9093);
	wstr(b, "r1");
	wstr(b, "cluster");
	w32(b, 1); /* controller */
	w32(b, 2); /* topics */
	w16(b, 0);
	wstr(b, "logs");
	CU_ASSERT_EQUAL(buf_append_u8(b, 0), 0);
	w32(b, 2); /* partitions, out of order */
	for (int p = 1; p >= 0; p--) {
		w16(b, p ? KE_LEADER_NOT_AVAILABLE : 0);
		w32(b, p);
		w32(b, p ? -1 : 2);
		w32(b, 2); /* replicas */
		w32(b, 1);
		w32(b, 2);
		w32(b, 1); /* isr */
		w32(b, 2);
	}
	w16(b, KE_UNKNOWN_TOPIC_OR_PARTITION);
	wstr(b, "gone");
	CU_ASSERT_EQUAL(buf_append_u8(b, 0), 0);
	w32(b, 0);
}

static void test_metadata_answer(void)
{
	struct kp_metadata md;
	struct buf b;

	buf_init(&b, 0);
	metadata_answer(&b);
	CU_ASSERT_EQUAL(kp_metadata_parse(b.data, b.len, &md), 0);
	CU_ASSERT_EQUAL(md.nbrokers, 2);
	CU_ASSERT_STRING_EQUAL(md.brokers[0].host, "k1.example");
	CU_ASSERT_EQUAL(md.brokers[1].port, 9093);
	CU_ASSERT_EQUAL(md.ntopics, 2);
	CU_ASSERT_STRING_EQUAL(md.topics[0].name, "logs");
	CU_ASSERT_EQUAL(md.topics[0].nparts, 2);
	CU_ASSERT_EQUAL(md.topics[0].parts[0].id, 1);
	CU_ASSERT_EQUAL(md.topics[0].parts[0].err, KE_LEADER_NOT_AVAILABLE);
	CU_ASSERT_EQUAL(md.topics[0].parts[1].leader, 2);
	CU_ASSERT_EQUAL(md.topics[1].err, KE_UNKNOWN_TOPIC_OR_PARTITION);
	kp_metadata_release(&md);
	/* every truncation fails cleanly */
	for (size_t n = 0; n < b.len; n++) {
		CU_ASSERT(kp_metadata_parse(b.data, n, &md) < 0);
		kp_metadata_release(&md);
	}
	/* a hostile broker count: refused before any allocation for it */
	put_be32(b.data + 8, 0x7fffffff);
	CU_ASSERT_EQUAL(kp_metadata_parse(b.data, b.len, &md), -ERR_CORRUPT);
	kp_metadata_release(&md);
	buf_release(&b);
}

static void test_produce_answer(void)
{
	struct buf b;
	int16_t e = -1;
	int64_t off = -1;

	buf_init(&b, 0);
	w32(&b, 5);
	w32(&b, 2);
	wstr(&b, "other");
	w32(&b, 1);
	w32(&b, 3);
	w16(&b, KE_NOT_LEADER_OR_FOLLOWER);
	w64(&b, -1);
	w64(&b, -1);
	w64(&b, 0);
	wstr(&b, "logs");
	w32(&b, 1);
	w32(&b, 3);
	w16(&b, KE_DUPLICATE_SEQUENCE);
	w64(&b, 1234);
	w64(&b, -1);
	w64(&b, 0);
	w32(&b, 0); /* throttle */
	CU_ASSERT_EQUAL(kp_produce_parse(b.data, b.len, "logs", 3, &e, &off), 0);
	CU_ASSERT_EQUAL(e, KE_DUPLICATE_SEQUENCE);
	CU_ASSERT_EQUAL(off, 1234);
	CU_ASSERT_EQUAL(kp_produce_parse(b.data, b.len, "logs", 4, &e, &off), -ERR_NOT_FOUND);
	for (size_t n = 0; n < b.len; n++)
		CU_ASSERT(kp_produce_parse(b.data, n, "logs", 3, &e, &off) < 0);
	buf_release(&b);
}

static void test_small_answers(void)
{
	struct kp_api_range pr, mr, ir;
	struct buf b;
	int16_t e = -1, epoch = -1;
	int64_t pid = -1;
	int32_t corr = 0;

	buf_init(&b, 0);
	w32(&b, 1);
	w16(&b, 0);
	w32(&b, 3);
	w16(&b, KP_PRODUCE);
	w16(&b, 3);
	w16(&b, 12);
	w16(&b, KP_METADATA);
	w16(&b, 0);
	w16(&b, 13);
	w16(&b, 99);
	w16(&b, 0);
	w16(&b, 1);
	CU_ASSERT_EQUAL(kp_api_versions_parse(b.data, b.len, &e, &pr, &mr, &ir), 0);
	CU_ASSERT_EQUAL(e, 0);
	CU_ASSERT(pr.min == 3 && pr.max == 12 && mr.max == 13 && ir.max == -1);
	CU_ASSERT(kp_api_versions_parse(b.data, b.len - 1, &e, &pr, &mr, &ir) < 0);
	CU_ASSERT_EQUAL(kp_resp_corr(b.data, b.len, &corr), 0);
	CU_ASSERT_EQUAL(corr, 1);
	buf_reset(&b);
	w32(&b, 2);
	w32(&b, 0);
	w16(&b, 0);
	w64(&b, 4242);
	w16(&b, 3);
	CU_ASSERT_EQUAL(kp_init_pid_parse(b.data, b.len, &e, &pid, &epoch), 0);
	CU_ASSERT(e == 0 && pid == 4242 && epoch == 3);
	CU_ASSERT(kp_init_pid_parse(b.data, b.len - 1, &e, &pid, &epoch) < 0);
	buf_release(&b);
}

static void test_sasl(void)
{
	struct buf b;
	struct cursor c;
	char msg[64];
	int16_t e = -1;
	const uint8_t *auth = NULL;
	size_t alen = 9;

	buf_init(&b, 0);
	CU_ASSERT_EQUAL(kp_sasl_handshake_req(&b, 5, "PLAIN"), 0);
	check_header(&c, &b, KP_SASL_HANDSHAKE, 1, 5);
	CU_ASSERT_EQUAL(cursor_be16(&c), 5);
	CU_ASSERT(!memcmp(cursor_take(&c, 5), "PLAIN", 5));
	CU_ASSERT(cursor_ok(&c) && cursor_left(&c) == 0);
	buf_reset(&b);
	CU_ASSERT_EQUAL(kp_sasl_auth_req(&b, 6, "\0u\0p", 4), 0);
	check_header(&c, &b, KP_SASL_AUTHENTICATE, 1, 6);
	CU_ASSERT_EQUAL(cursor_be32(&c), 4);
	CU_ASSERT(!memcmp(cursor_take(&c, 4), "\0u\0p", 4));
	CU_ASSERT(cursor_ok(&c) && cursor_left(&c) == 0);
	buf_reset(&b);
	w32(&b, 6);
	w16(&b, 58); /* SASL_AUTHENTICATION_FAILED */
	wstr(&b, "Authentication failed: Invalid username or password");
	w32(&b, 0);
	w64(&b, 0);
	CU_ASSERT_EQUAL(kp_sasl_auth_parse(b.data, b.len - 8, &e, msg, sizeof(msg), &auth, &alen),
			0);
	CU_ASSERT_EQUAL(e, 58);
	CU_ASSERT(!strncmp(msg, "Authentication failed", 21));
	CU_ASSERT(!auth && alen == 0);
	CU_ASSERT(kp_sasl_auth_parse(b.data, 8, &e, msg, sizeof(msg), &auth, &alen) < 0);
	/* SCRAM's server-first in the auth bytes, borrowed */
	buf_reset(&b);
	w32(&b, 7);
	w16(&b, 0);
	w16(&b, -1); /* no message */
	w32(&b, 5);
	CU_ASSERT_EQUAL(buf_append(&b, "r=abc", 5), 0);
	w64(&b, 0); /* session lifetime */
	CU_ASSERT_EQUAL(kp_sasl_auth_parse(b.data, b.len, &e, msg, sizeof(msg), &auth, &alen), 0);
	CU_ASSERT(e == 0 && msg[0] == 0 && alen == 5 && auth && !memcmp(auth, "r=abc", 5));
	buf_reset(&b);
	w32(&b, 5);
	w16(&b, 33); /* UNSUPPORTED_SASL_MECHANISM */
	w32(&b, 1);
	wstr(&b, "SCRAM-SHA-512");
	CU_ASSERT_EQUAL(kp_sasl_handshake_parse(b.data, b.len, &e), 0);
	CU_ASSERT_EQUAL(e, 33);
	CU_ASSERT(kp_sasl_handshake_parse(b.data, 5, &e) < 0);
	buf_release(&b);
}

int main(void)
{
	static const struct unit_test tests[] = {
		UNIT_TEST(test_produce_request),
		UNIT_TEST(test_other_requests),
		UNIT_TEST(test_metadata_answer),
		UNIT_TEST(test_produce_answer),
		UNIT_TEST(test_small_answers),
		UNIT_TEST(test_sasl),
		UNIT_END,
	};
	return unit_run("kafka_native", tests);
}
