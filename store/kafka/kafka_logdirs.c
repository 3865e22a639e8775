/* SPDX-License-Identifier: Apache-2.0 */
/*
 * DescribeLogDirs (see kafka_logdirs.h).  Sizes come from
 * engine_partition_info() (all segments on disk), the space from statvfs()
 * of the data directory; offset lag is 0 and there is never a "future"
 * replica (one node, one directory).  Partitions that do not exist are left
 * out, as Kafka leaves out those it does not host.
 */
#include <string.h>

#include "lib/err.h"
#include "lib/mem.h"
#include "store/engine/engine.h"
#include "store/kafka/kafka_api.h"
#include "store/kafka/kafka_authz.h"
#include "store/kafka/kafka_logdirs.h"
#include "store/kafka/kafka_req.h"

void *kafka_logdirs_describe_decode(struct kwire_dec *d, int16_t v)
{
	struct kafka_logdirs_req *q = kwire_alloc(d, 1, sizeof(*q));

	(void)v;
	if (!q)
		return NULL;
	q->ntopics = kwire_get_array(d, 2); /* nullable */
	q->topics = kwire_alloc(d, q->ntopics, sizeof(*q->topics));
	for (int32_t i = 0; i < q->ntopics && kwire_dec_ok(d); i++) {
		struct kafka_logdirs_topic *t = &q->topics[i];

		t->name = kwire_get_str(d);
		t->npartitions = kwire_get_array(d, 4);
		if (t->npartitions < 0)
			kwire_dec_fail(d);
		t->partitions = kwire_alloc(d, t->npartitions, sizeof(*t->partitions));
		for (int32_t j = 0; j < t->npartitions && kwire_dec_ok(d); j++)
			t->partitions[j] = kwire_get_i32(d);
		kwire_get_tags(d);
	}
	kwire_get_tags(d);
	return kwire_dec_ok(d) ? q : NULL;
}

static void put_partition(struct kwire_enc *e, int32_t p, int64_t bytes)
{
	kwire_put_i32(e, p);
	kwire_put_i64(e, bytes);
	kwire_put_i64(e, 0);      /* offset_lag */
	kwire_put_bool(e, false); /* is_future_key */
	kwire_put_tags(e);
}

/* One topic: the listed partitions that exist (all when parts is NULL). */
static void put_topic(struct kafka_req *r, const char *name, const int32_t *parts, int32_t n)
{
	struct kwire_enc *e = &r->enc;
	struct engine_partition_info pi;
	struct topic_config tc;
	int32_t count = 0;

	if (!kafka_authz_may(r, ACL_TOPIC, name, 0) ||
	    engine_topic_config(r->ctx->log, name, &tc) < 0)
		tc.partitions = 0;
	if (!parts)
		n = tc.partitions;
	for (int32_t i = 0; i < n; i++) {
		int32_t p = parts ? parts[i] : i;

		count += p >= 0 && p < tc.partitions &&
			 engine_partition_info(r->ctx->log, name, p, &pi) == 0;
	}
	kwire_put_str(e, name);
	kwire_put_array(e, count);
	for (int32_t i = 0, put = 0; i < n && put < count; i++) {
		int32_t p = parts ? parts[i] : i;

		if (p < 0 || p >= tc.partitions || engine_partition_info(r->ctx->log, name, p, &pi))
			continue;
		put_partition(e, p, pi.bytes);
		put++;
	}
	kwire_put_tags(e);
}

void kafka_logdirs_describe_handle(struct kafka_req *r)
{
	struct kafka_logdirs_req *q = r->body;
	int16_t v = r->hdr.api_version;
	struct kwire_enc *e = kafka_req_begin(r);
	uint64_t total = 0, usable = 0;
	char **names = NULL;
	size_t nnames = 0;
	int16_t err = KERR_NONE;
	int32_t ntopics;

	if (q->ntopics < 0 && engine_topic_list(r->ctx->log, &names, &nnames) < 0)
		err = KERR_UNKNOWN_SERVER_ERROR;
	ntopics = q->ntopics < 0 ? (int32_t)nnames : q->ntopics;
	kafka_req_note(r, err);
	kwire_put_i32(e, 0); /* throttle_time_ms */
	if (v >= 3)
		kwire_put_i16(e, err);
	kwire_put_array(e, err ? 0 : 1);
	if (!err) {
		kwire_put_i16(e, KERR_NONE);
		kwire_put_str(e, engine_data_dir(r->ctx->log));
		/* a topic that is listed twice (or a partition) is answered twice,
		 * as asked */
		kwire_put_array(e, ntopics);
		for (int32_t i = 0; i < ntopics; i++) {
			if (names)
				put_topic(r, names[i], NULL, 0);
			else
				put_topic(r, q->topics[i].name, q->topics[i].partitions,
					  q->topics[i].npartitions);
		}
		if (v >= 4) {
			if (engine_disk_usage(r->ctx->log, &total, &usable) < 0) {
				kwire_put_i64(e, -1);
				kwire_put_i64(e, -1);
			} else {
				kwire_put_i64(e, (int64_t)total);
				kwire_put_i64(e, (int64_t)usable);
			}
		}
		kwire_put_tags(e);
	}
	kwire_put_tags(e);
	engine_names_free(names, nnames);
	kafka_req_finish(r);
}
