/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Kafka protocol encoders and decoders of the native producer (kproto.h).
 * Non-flexible versions only: int16-length strings, int32-count arrays,
 * request header v1 (api key, version, correlation id, client id) and
 * response header v0 (correlation id).  Decoders read through struct cursor,
 * whose sticky error turns any short read into one check at the end; every
 * array count is checked against the bytes left before anything is
 * allocated for it, so a hostile count cannot make a large allocation.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "lib/err.h"
#include "lib/mem.h"
#include "plugins/out_kafka/kproto.h"

#define CLIENT_ID "sluice-agent"

/* ------------------------------------------------------------ encoders */

static int put_str(struct buf *b, const char *s)
{
	size_t n = s ? strlen(s) : 0;
	int rc;

	if (!s)
		return buf_append_be16(b, 0xffff);
	if (n > 0x7fff)
		return -ERR_TOO_LARGE;
	rc = buf_append_be16(b, (uint16_t)n);
	return rc < 0 ? rc : buf_append(b, s, n);
}

int kp_begin(struct buf *b, int16_t api, int16_t version, int32_t corr, size_t *start)
{
	int rc;

	*start = b->len;
	rc = buf_append_be32(b, 0);
	if (rc == 0)
		rc = buf_append_be16(b, (uint16_t)api);
	if (rc == 0)
		rc = buf_append_be16(b, (uint16_t)version);
	if (rc == 0)
		rc = buf_append_be32(b, (uint32_t)corr);
	if (rc == 0)
		rc = put_str(b, CLIENT_ID);
	return rc;
}

void kp_end(struct buf *b, size_t start)
{
	put_be32(b->data + start, (uint32_t)(b->len - start - 4));
}

/* On failure the buffer goes back to where the request began. */
static int finish(struct buf *b, size_t start, int rc)
{
	if (rc < 0) {
		b->len = start;
		return rc;
	}
	kp_end(b, start);
	return 0;
}

int kp_api_versions_req(struct buf *b, int32_t corr)
{
	size_t start;
	int rc = kp_begin(b, KP_API_VERSIONS, 0, corr, &start);

	return finish(b, start, rc);
}

int kp_metadata_req(struct buf *b, int32_t corr, const char *const *topics, size_t n)
{
	size_t start;
	int rc = kp_begin(b, KP_METADATA, KP_METADATA_VERSION, corr, &start);

	if (rc == 0)
		rc = buf_append_be32(b, topics ? (uint32_t)n : 0xffffffffu);
	for (size_t i = 0; topics && i < n && rc == 0; i++)
		rc = put_str(b, topics[i]);
	if (rc == 0)
		rc = buf_append_u8(b, 1); /* allow_auto_topic_creation */
	return finish(b, start, rc);
}

int kp_init_pid_req(struct buf *b, int32_t corr, int32_t txn_timeout_ms)
{
	size_t start;
	int rc = kp_begin(b, KP_INIT_PRODUCER_ID, KP_INIT_PRODUCER_ID_VERSION, corr, &start);

	if (rc == 0)
		rc = put_str(b, NULL); /* no transactional id: idempotent only */
	if (rc == 0)
		rc = buf_append_be32(b, (uint32_t)txn_timeout_ms);
	return finish(b, start, rc);
}

int kp_produce_req(struct buf *b, int32_t corr, int16_t acks, int32_t timeout_ms, const char *topic,
		   int32_t partition, const void *records, size_t len)
{
	size_t start;
	int rc;

	if (len > INT32_MAX)
		return -ERR_TOO_LARGE;
	rc = kp_begin(b, KP_PRODUCE, KP_PRODUCE_VERSION, corr, &start);
	if (rc == 0)
		rc = put_str(b, NULL); /* transactional id */
	if (rc == 0)
		rc = buf_append_be16(b, (uint16_t)acks);
	if (rc == 0)
		rc = buf_append_be32(b, (uint32_t)timeout_ms);
	if (rc == 0)
		rc = buf_append_be32(b, 1); /* one topic */
	if (rc == 0)
		rc = put_str(b, topic);
	if (rc == 0)
		rc = buf_append_be32(b, 1); /* one partition */
	if (rc == 0)
		rc = buf_append_be32(b, (uint32_t)partition);
	if (rc == 0)
		rc = buf_append_be32(b, (uint32_t)len);
	if (rc == 0)
		rc = buf_append(b, records, len);
	return finish(b, start, rc);
}

int kp_sasl_handshake_req(struct buf *b, int32_t corr, const char *mechanism)
{
	size_t start;
	int rc = kp_begin(b, KP_SASL_HANDSHAKE, 1, corr, &start);

	if (rc == 0)
		rc = put_str(b, mechanism);
	return finish(b, start, rc);
}

int kp_sasl_auth_req(struct buf *b, int32_t corr, const void *auth, size_t len)
{
	size_t start;
	int rc;

	if (len > INT32_MAX)
		return -ERR_TOO_LARGE;
	rc = kp_begin(b, KP_SASL_AUTHENTICATE, 1, corr, &start);
	if (rc == 0)
		rc = buf_append_be32(b, (uint32_t)len);
	if (rc == 0)
		rc = buf_append(b, auth, len);
	return finish(b, start, rc);
}

/* ------------------------------------------------------------ decoders */

/* A string into out (truncated to fit; a null string is ""). */
static void get_str(struct cursor *c, char *out, size_t cap)
{
	int16_t n = (int16_t)cursor_be16(c);
	const uint8_t *p;
	size_t k;

	out[0] = '\0';
	if (n < 0)
		return;
	p = cursor_take(c, (size_t)n);
	if (!p)
		return;
	k = (size_t)n < cap - 1 ? (size_t)n : cap - 1;
	memcpy(out, p, k);
	out[k] = '\0';
}

static void skip_str(struct cursor *c)
{
	int16_t n = (int16_t)cursor_be16(c);

	if (n > 0)
		cursor_take(c, (size_t)n);
}

/* An array count, at most what the bytes left can hold at min_size each. */
static int get_count(struct cursor *c, size_t min_size, size_t *n)
{
	int32_t v = (int32_t)cursor_be32(c);

	if (!cursor_ok(c))
		return -ERR_TRUNCATED;
	if (v < 0) {
		*n = 0;
		return 0;
	}
	if ((size_t)v > cursor_left(c) / min_size)
		return -ERR_CORRUPT;
	*n = (size_t)v;
	return 0;
}

int kp_resp_corr(const uint8_t *p, size_t n, int32_t *corr)
{
	if (n < 4)
		return -ERR_TRUNCATED;
	*corr = (int32_t)get_be32(p);
	return 0;
}

int kp_api_versions_parse(const uint8_t *p, size_t n, int16_t *err, struct kp_api_range *produce,
			  struct kp_api_range *metadata, struct kp_api_range *init_pid)
{
	struct cursor c;
	size_t count;
	int rc;

	produce->min = produce->max = metadata->min = metadata->max = -1;
	init_pid->min = init_pid->max = -1;
	cursor_init(&c, p, n);
	cursor_be32(&c); /* correlation id */
	*err = (int16_t)cursor_be16(&c);
	rc = get_count(&c, 6, &count);
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < count; i++) {
		int16_t key = (int16_t)cursor_be16(&c);
		struct kp_api_range r;

		r.min = (int16_t)cursor_be16(&c);
		r.max = (int16_t)cursor_be16(&c);
		if (key == KP_PRODUCE)
			*produce = r;
		else if (key == KP_METADATA)
			*metadata = r;
		else if (key == KP_INIT_PRODUCER_ID)
			*init_pid = r;
	}
	return cursor_ok(&c) ? 0 : -ERR_TRUNCATED;
}

void kp_metadata_release(struct kp_metadata *md)
{
	for (size_t i = 0; i < md->ntopics; i++)
		mem_free(md->topics[i].parts);
	mem_free(md->topics);
	mem_free(md->brokers);
	memset(md, 0, sizeof(*md));
}

static int parse_brokers(struct cursor *c, struct kp_metadata *md)
{
	size_t n;
	int rc = get_count(c, 12, &n);

	if (rc < 0)
		return rc;
	md->brokers = mem_calloc(n ? n : 1, sizeof(*md->brokers));
	if (!md->brokers)
		return -ENOMEM;
	for (size_t i = 0; i < n && cursor_ok(c); i++) {
		struct kp_broker *b = &md->brokers[i];

		b->node = (int32_t)cursor_be32(c);
		get_str(c, b->host, sizeof(b->host));
		b->port = (int32_t)cursor_be32(c);
		skip_str(c); /* rack */
		md->nbrokers = i + 1;
	}
	return cursor_ok(c) ? 0 : -ERR_TRUNCATED;
}

static int skip_int32_array(struct cursor *c)
{
	size_t n;
	int rc = get_count(c, 4, &n);

	if (rc == 0)
		cursor_take(c, n * 4);
	return rc;
}

static int parse_topic(struct cursor *c, struct kp_topic *t)
{
	size_t n;
	int rc;

	t->err = (int16_t)cursor_be16(c);
	get_str(c, t->name, sizeof(t->name));
	cursor_u8(c); /* is_internal */
	rc = get_count(c, 18, &n);
	if (rc < 0)
		return rc;
	t->parts = mem_calloc(n ? n : 1, sizeof(*t->parts));
	if (!t->parts)
		return -ENOMEM;
	for (size_t i = 0; i < n && cursor_ok(c); i++) {
		struct kp_partition *pp = &t->parts[i];

		pp->err = (int16_t)cursor_be16(c);
		pp->id = (int32_t)cursor_be32(c);
		pp->leader = (int32_t)cursor_be32(c);
		rc = skip_int32_array(c); /* replicas */
		if (rc == 0)
			rc = skip_int32_array(c); /* isr */
		if (rc < 0)
			return rc;
		t->nparts = (int32_t)(i + 1);
	}
	return cursor_ok(c) ? 0 : -ERR_TRUNCATED;
}

int kp_metadata_parse(const uint8_t *p, size_t n, struct kp_metadata *md)
{
	struct cursor c;
	size_t nt;
	int rc;

	memset(md, 0, sizeof(*md));
	cursor_init(&c, p, n);
	cursor_be32(&c); /* correlation id */
	cursor_be32(&c); /* throttle_time_ms */
	rc = parse_brokers(&c, md);
	if (rc < 0)
		return rc;
	skip_str(&c);    /* cluster id */
	cursor_be32(&c); /* controller id */
	rc = get_count(&c, 9, &nt);
	if (rc < 0)
		return rc;
	md->topics = mem_calloc(nt ? nt : 1, sizeof(*md->topics));
	if (!md->topics)
		return -ENOMEM;
	for (size_t i = 0; i < nt; i++) {
		md->ntopics = i + 1;
		rc = parse_topic(&c, &md->topics[i]);
		if (rc < 0)
			return rc;
	}
	return cursor_ok(&c) ? 0 : -ERR_TRUNCATED;
}

int kp_init_pid_parse(const uint8_t *p, size_t n, int16_t *err, int64_t *pid, int16_t *epoch)
{
	struct cursor c;

	cursor_init(&c, p, n);
	cursor_be32(&c); /* correlation id */
	cursor_be32(&c); /* throttle */
	*err = (int16_t)cursor_be16(&c);
	*pid = (int64_t)cursor_be64(&c);
	*epoch = (int16_t)cursor_be16(&c);
	return cursor_ok(&c) ? 0 : -ERR_TRUNCATED;
}

int kp_produce_parse(const uint8_t *p, size_t n, const char *topic, int32_t partition, int16_t *err,
		     int64_t *base_offset)
{
	struct cursor c;
	size_t nt;
	bool found = false;
	int rc;

	cursor_init(&c, p, n);
	cursor_be32(&c); /* correlation id */
	rc = get_count(&c, 6, &nt);
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < nt && cursor_ok(&c); i++) {
		char name[KP_NAME_MAX];
		bool match;
		size_t np;

		get_str(&c, name, sizeof(name));
		match = strcmp(name, topic) == 0;
		rc = get_count(&c, 30, &np);
		if (rc < 0)
			return rc;
		for (size_t j = 0; j < np && cursor_ok(&c); j++) {
			int32_t idx = (int32_t)cursor_be32(&c);
			int16_t e = (int16_t)cursor_be16(&c);
			int64_t off = (int64_t)cursor_be64(&c);

			cursor_be64(&c); /* log_append_time */
			cursor_be64(&c); /* log_start_offset */
			if (match && idx == partition && cursor_ok(&c) && !found) {
				*err = e;
				*base_offset = off;
				found = true;
			}
		}
	}
	cursor_be32(&c); /* throttle_time_ms */
	if (!cursor_ok(&c))
		return -ERR_TRUNCATED;
	return found ? 0 : -ERR_NOT_FOUND;
}

int kp_sasl_handshake_parse(const uint8_t *p, size_t n, int16_t *err)
{
	struct cursor c;

	cursor_init(&c, p, n);
	cursor_be32(&c); /* correlation id */
	*err = (int16_t)cursor_be16(&c);
	return cursor_ok(&c) ? 0 : -ERR_TRUNCATED; /* the mechanisms: not needed */
}

int kp_sasl_auth_parse(const uint8_t *p, size_t n, int16_t *err, char *msg, size_t cap,
		       const uint8_t **auth, size_t *alen)
{
	struct cursor c;
	int32_t len;

	cursor_init(&c, p, n);
	cursor_be32(&c); /* correlation id */
	*err = (int16_t)cursor_be16(&c);
	get_str(&c, msg, cap);
	len = (int32_t)cursor_be32(&c);
	*alen = len > 0 ? (size_t)len : 0;
	*auth = *alen ? cursor_take(&c, *alen) : NULL;
	if (*alen && !*auth)
		*alen = 0;
	return cursor_ok(&c) ? 0 : -ERR_TRUNCATED;
}

const char *kp_err_name(int16_t e, char *buf, size_t len)
{
	switch (e) {
	case KE_NONE:
		return "none";
	case KE_CORRUPT_MESSAGE:
		return "corrupt_message";
	case KE_UNKNOWN_TOPIC_OR_PARTITION:
		return "unknown_topic_or_partition";
	case KE_LEADER_NOT_AVAILABLE:
		return "leader_not_available";
	case KE_NOT_LEADER_OR_FOLLOWER:
		return "not_leader_or_follower";
	case KE_REQUEST_TIMED_OUT:
		return "request_timed_out";
	case KE_MESSAGE_TOO_LARGE:
		return "message_too_large";
	case KE_NETWORK_EXCEPTION:
		return "network_exception";
	case KE_RECORD_LIST_TOO_LARGE:
		return "record_list_too_large";
	case KE_NOT_ENOUGH_REPLICAS:
		return "not_enough_replicas";
	case KE_NOT_ENOUGH_REPLICAS_AFTER_APPEND:
		return "not_enough_replicas_after_append";
	case KE_TOPIC_AUTHORIZATION_FAILED:
		return "topic_authorization_failed";
	case KE_OUT_OF_ORDER_SEQUENCE:
		return "out_of_order_sequence_number";
	case KE_DUPLICATE_SEQUENCE:
		return "duplicate_sequence_number";
	case KE_INVALID_PRODUCER_EPOCH:
		return "invalid_producer_epoch";
	case KE_UNKNOWN_PRODUCER_ID:
		return "unknown_producer_id";
	case KE_INVALID_RECORD:
		return "invalid_record";
	case KE_PRODUCER_FENCED:
		return "producer_fenced";
	default:
		snprintf(buf, len, "error_%d", e);
		return buf;
	}
}
