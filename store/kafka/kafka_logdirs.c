/* SPDX-License-Identifier: Apache-2.0 */
/*
 * DescribeLogDirs (see kafka_logdirs.h) over the schema framework.  Sizes
 * come from engine_partition_info() (all segments on disk), the space from
 * statvfs() of the data directory; offset lag is 0 and there is never a
 * "future" replica (one node, one directory).  Partitions that do not exist
 * are left out, as Kafka leaves out those it does not host.
 */
#include <string.h>

#include "lib/err.h"
#include "lib/mem.h"
#include "store/engine/engine.h"
#include "store/kafka/kafka_api.h"
#include "store/kafka/kafka_authz.h"
#include "store/kafka/kafka_logdirs.h"
#include "store/kafka/kafka_req.h"
#include "store/kafka/kmsg_gen.h"

typedef struct kmsg_describe_log_dirs_resp_describe_log_dirs_topic ld_topic;
typedef struct kmsg_describe_log_dirs_resp_describe_log_dirs_partition ld_part;

/* One topic: the listed partitions that exist (all when parts is NULL).
 * 0 or -ENOMEM. */
static int fill_topic(struct kafka_req *r, const char *name, const int32_t *parts, int32_t n,
		      ld_topic *out)
{
	struct engine_partition_info pi;
	struct topic_config tc;
	ld_part *p;
	int32_t k = 0;

	if (!kafka_authz_may(r, ACL_TOPIC, name, 0) ||
	    engine_topic_config(r->ctx->log, name, &tc) < 0)
		tc.partitions = 0;
	if (!parts)
		n = tc.partitions;
	out->name = arena_strndup(&r->arena, name, strlen(name));
	p = kmsg_new(&r->arena, kmsg_describe_log_dirs_resp_describe_log_dirs_partition,
		     n > 0 ? n : 1);
	if (!out->name || !p)
		return -ENOMEM;
	for (int32_t i = 0; i < n; i++) {
		int32_t idx = parts ? parts[i] : i;

		if (idx < 0 || idx >= tc.partitions ||
		    engine_partition_info(r->ctx->log, name, idx, &pi) < 0)
			continue;
		p[k].partition_index = idx;
		p[k].partition_size = pi.bytes;
		k++;
	}
	out->n_partitions = k;
	out->partitions = p;
	return 0;
}

/* Every topic asked for (all of them for a null list) into res. */
static int fill_topics(struct kafka_req *r, const struct kmsg_describe_log_dirs_req *q,
		       struct kmsg_describe_log_dirs_resp_describe_log_dirs_result *res)
{
	char **names = NULL;
	size_t nnames = 0;
	int32_t n;
	ld_topic *t;
	int rc = 0;

	if (q->n_topics < 0) {
		rc = engine_topic_list(r->ctx->log, &names, &nnames);
		if (rc < 0)
			return rc;
	}
	n = q->n_topics < 0 ? (int32_t)nnames : q->n_topics;
	t = kmsg_new(&r->arena, kmsg_describe_log_dirs_resp_describe_log_dirs_topic, n ? n : 1);
	if (!t)
		rc = -ENOMEM;
	/* a topic (or partition) named twice is answered twice, as asked */
	for (int32_t i = 0; rc == 0 && i < n; i++)
		rc = names ? fill_topic(r, names[i], NULL, 0, &t[i])
			   : fill_topic(r, q->topics[i].topic, q->topics[i].partitions,
					q->topics[i].n_partitions, &t[i]);
	engine_names_free(names, nnames);
	res->n_topics = n;
	res->topics = t;
	return rc;
}

void kafka_logdirs_describe_handle(struct kafka_req *r)
{
	const struct kmsg_describe_log_dirs_req *q = r->body;
	struct kmsg_describe_log_dirs_resp *m = kmsg_new(&r->arena, kmsg_describe_log_dirs_resp, 1);
	struct kmsg_describe_log_dirs_resp_describe_log_dirs_result *res =
		kmsg_new(&r->arena, kmsg_describe_log_dirs_resp_describe_log_dirs_result, 1);
	uint64_t total = 0, usable = 0;
	int rc = m && res ? 0 : -ENOMEM;

	if (rc == 0)
		rc = fill_topics(r, q, res);
	if (rc < 0) {
		kafka_req_begin(r)->err = rc; /* no partial answer: the connection closes */
		kafka_req_finish(r);
		return;
	}
	res->log_dir = (char *)engine_data_dir(r->ctx->log);
	if (engine_disk_usage(r->ctx->log, &total, &usable) == 0) {
		res->total_bytes = (int64_t)total;
		res->usable_bytes = (int64_t)usable;
	}
	m->n_results = 1;
	m->results = res;
	kafka_req_note(r, KERR_NONE);
	kafka_req_respond(r, m);
}
