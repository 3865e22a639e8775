/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Batching idempotent producer (see cli_producer.h).
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli/cli_producer.h"
#include "lib/clock.h"
#include "lib/err.h"
#include "lib/jdoc.h"
#include "lib/mem.h"
#include "lib/murmur2.h"

#define FLUSH_BYTES (1u << 20)
#define RESPONSE_MAX (1u << 20)
#define RETRY_FOR_MS 60000
#define POST_TIMEOUT_MS 60000

static int api_json(struct cli_producer *p, const char *method, const char *path, struct jdoc **doc,
		    long *status)
{
	struct buf b;
	int rc;

	*doc = NULL;
	buf_init(&b, RESPONSE_MAX);
	rc = cli_http_request(p->http, method, path, NULL, 0, 30000, &b, status, p->err,
			      sizeof(p->err));
	if (rc == 0 && *status >= 300) {
		cli_http_error_text(*status, b.data, b.len, p->err, sizeof(p->err));
		rc = -EIO;
	}
	if (rc == 0 && jdoc_parse(b.data, b.len, doc, NULL) < 0) {
		snprintf(p->err, sizeof(p->err), "unexpected response to %s %s", method, path);
		rc = -ERR_CORRUPT;
	}
	buf_release(&b);
	return rc;
}

int cli_producer_init(struct cli_producer *p, struct cli_http *http, const char *topic, int codec)
{
	char path[512];
	struct jdoc *doc = NULL;
	long status = 0;
	int64_t v;
	int rc;

	memset(p, 0, sizeof(*p));
	p->http = http;
	snprintf(p->topic, sizeof(p->topic), "%s", topic);
	p->codec = codec;
	p->partitions = 1;
	p->max_batch = 8 << 20;
	buf_init(&p->out, 0);
	snprintf(path, sizeof(path), "/v1/topics/%s", topic);
	rc = api_json(p, "GET", path, &doc, &status);
	if (rc == 0) {
		const struct jnode *r = jdoc_root(doc);

		if (jnode_i64(jnode_get(r, "partition_count"), &v) == 0 && v > 0 && v <= 100000)
			p->partitions = (int32_t)v;
		if (jnode_i64(jnode_get(jnode_get(r, "config"), "max_batch_bytes"), &v) == 0 &&
		    v > 1024)
			p->max_batch = v;
	} else if (status != 404) {
		goto out;
	}
	jdoc_free(doc);
	doc = NULL;
	rc = api_json(p, "POST", "/v1/producers", &doc, &status);
	if (rc < 0)
		goto out;
	if (jnode_i64(jnode_get(jdoc_root(doc), "producer_id"), &p->producer_id) < 0 ||
	    jnode_i64(jnode_get(jdoc_root(doc), "producer_epoch"), &v) < 0) {
		snprintf(p->err, sizeof(p->err), "unexpected answer to POST /v1/producers");
		rc = -ERR_CORRUPT;
		goto out;
	}
	p->epoch = (int16_t)v;
	p->flush_bytes = FLUSH_BYTES;
	if ((int64_t)p->flush_bytes > p->max_batch / 2)
		p->flush_bytes = (size_t)(p->max_batch / 2);
	p->parts = mem_calloc((size_t)p->partitions, sizeof(*p->parts));
	p->cc = codec_ctx_new();
	if (!p->parts || !p->cc) {
		rc = -ENOMEM;
		goto out;
	}
	for (int32_t i = 0; i < p->partitions; i++)
		batch_builder_init(&p->parts[i].bb, (size_t)p->max_batch - BATCH_HEADER_SIZE - 64);
	p->rr = (int32_t)(clock_wall_ms() % p->partitions);
out:
	jdoc_free(doc);
	return rc;
}

void cli_producer_release(struct cli_producer *p)
{
	if (p->parts) {
		for (int32_t i = 0; i < p->partitions; i++)
			batch_builder_release(&p->parts[i].bb);
	}
	mem_free(p->parts);
	codec_ctx_free(p->cc);
	buf_release(&p->out);
	memset(p, 0, sizeof(*p));
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

/* Post p->out to partition; retry what can be retried. */
static int post(struct cli_producer *p, int32_t partition)
{
	uint64_t deadline = clock_mono_ms() + RETRY_FOR_MS;
	unsigned backoff = 100;
	char path[512], code[64];
	struct buf resp;
	int rc;

	snprintf(path, sizeof(path), "/v1/topics/%s/batches?partition=%" PRId32, p->topic,
		 partition);
	buf_init(&resp, RESPONSE_MAX);
	for (;;) {
		long status = 0;

		buf_reset(&resp);
		rc = cli_http_request(p->http, "POST", path, p->out.data, p->out.len,
				      POST_TIMEOUT_MS, &resp, &status, p->err, sizeof(p->err));
		if (rc == 0 && status == 200)
			break;
		if (rc == 0) {
			cli_http_error_code(resp.data, resp.len, code, sizeof(code));
			if (status == 409 && strcmp(code, "duplicate") == 0)
				break; /* already in the log: acknowledged */
			cli_http_error_text(status, resp.data, resp.len, p->err, sizeof(p->err));
			rc = -EIO;
			if (status != 503)
				break;
		}
		if (clock_mono_ms() + backoff > deadline)
			break;
		sleep_ms(backoff);
		backoff = backoff < 3200 ? backoff * 2 : backoff;
	}
	buf_release(&resp);
	return rc;
}

static int flush_part(struct cli_producer *p, int32_t i)
{
	struct cli_producer_part *pp = &p->parts[i];
	struct batch_params bp;
	int rc;

	if (pp->bb.count == 0)
		return 0;
	batch_params_init(&bp);
	bp.codec = p->codec;
	bp.producer_id = p->producer_id;
	bp.producer_epoch = p->epoch;
	bp.base_sequence = pp->seq;
	buf_reset(&p->out);
	rc = batch_builder_finish(&pp->bb, p->cc, &bp, &p->out);
	if (rc < 0) {
		snprintf(p->err, sizeof(p->err), "cannot build a batch: %s", err_str(rc));
		return rc;
	}
	rc = post(p, i);
	if (rc < 0)
		return rc;
	/* sequences wrap at INT32_MAX like Kafka's */
	pp->seq = (int32_t)(((int64_t)pp->seq + pp->bb.count) % ((int64_t)INT32_MAX + 1));
	p->records += (uint64_t)pp->bb.count;
	p->batches++;
	p->bytes += p->out.len;
	batch_builder_reset(&pp->bb);
	return 0;
}

int cli_producer_add(struct cli_producer *p, int64_t ts, const void *key, int32_t key_len,
		     const void *value, int32_t value_len, const struct record_header *hdrs,
		     size_t nhdrs)
{
	int32_t part;
	int rc;

	if (key_len >= 0)
		part = murmur2_partition(key_len ? key : "", (size_t)key_len, p->partitions);
	else
		part = p->rr;
	rc = batch_builder_add(&p->parts[part].bb, ts, key, key_len, value, value_len, hdrs, nhdrs);
	if (rc == -ERR_TOO_LARGE && p->parts[part].bb.count > 0) {
		rc = flush_part(p, part);
		if (rc == 0)
			rc = batch_builder_add(&p->parts[part].bb, ts, key, key_len, value,
					       value_len, hdrs, nhdrs);
	}
	if (rc == -ERR_TOO_LARGE) {
		snprintf(p->err, sizeof(p->err),
			 "a record of %d bytes does not fit the topic's max_batch_bytes (%" PRId64
			 ")",
			 value_len, p->max_batch);
		return rc;
	}
	if (rc < 0) {
		if (!p->err[0])
			snprintf(p->err, sizeof(p->err), "%s", err_str(rc));
		return rc;
	}
	if (p->parts[part].bb.records.len >= p->flush_bytes) {
		rc = flush_part(p, part);
		if (key_len < 0)
			p->rr = (p->rr + 1) % p->partitions;
	}
	return rc;
}

int cli_producer_flush(struct cli_producer *p)
{
	bool keyless_pending = p->parts[p->rr].bb.count > 0;

	for (int32_t i = 0; i < p->partitions; i++) {
		int rc = flush_part(p, i);

		if (rc < 0)
			return rc;
	}
	if (keyless_pending)
		p->rr = (p->rr + 1) % p->partitions;
	return 0;
}

bool cli_producer_pending(const struct cli_producer *p)
{
	for (int32_t i = 0; i < p->partitions; i++) {
		if (p->parts[i].bb.count > 0)
			return true;
	}
	return false;
}
