/* SPDX-License-Identifier: Apache-2.0 */
/*
 * librdkafka on first use (see dl.h): the consumer functions of the kafka
 * input.  A table of its own next to dl_rdkafka.c (the producer's) so the
 * two plugins can change what they call independently; both resolve from
 * the same soname, which the dynamic loader maps once.
 */
#include <librdkafka/rdkafka.h>

#include "agent/dl/dl.h"

/* clang-format off */
#define FNS(X) \
	X(rd_kafka_conf_set_rebalance_cb) X(rd_kafka_conf_set_offset_commit_cb) \
	X(rd_kafka_poll_set_consumer) X(rd_kafka_queue_get_consumer) \
	X(rd_kafka_consume_batch_queue) X(rd_kafka_message_destroy) \
	X(rd_kafka_message_headers) X(rd_kafka_header_get_all) \
	X(rd_kafka_message_timestamp) X(rd_kafka_topic_name) X(rd_kafka_subscribe) \
	X(rd_kafka_topic_partition_list_new) X(rd_kafka_topic_partition_list_add) \
	X(rd_kafka_topic_partition_list_destroy) \
	X(rd_kafka_topic_partition_list_copy) X(rd_kafka_assign) \
	X(rd_kafka_committed) X(rd_kafka_commit) X(rd_kafka_consumer_close) \
	X(rd_kafka_pause_partitions) X(rd_kafka_resume_partitions) \
	X(rd_kafka_assignment) X(rd_kafka_assignment_lost) X(rd_kafka_message_errstr)
/* clang-format on */

enum { FNS(DL_ENUM) DL_N };
static const char *const names[] = {FNS(DL_NAME)};
static void *fns[DL_N];
static struct dl_lib lib = {
	.soname = "librdkafka.so.1",
	.used_by = "the kafka input",
	.names = names,
	.fns = fns,
	.n = DL_N,
};

#define F(name) DL_FN(fns, name)
#define FAIL RD_KAFKA_RESP_ERR__FAIL

/* Every function below is only reached with an rd_kafka_t (or a list or
 * message made by the library), which cannot exist unless the library
 * loaded; the checks keep a broken install from crashing all the same. */

void rd_kafka_conf_set_rebalance_cb(rd_kafka_conf_t *conf,
				    void (*cb)(rd_kafka_t *rk, rd_kafka_resp_err_t err,
					       rd_kafka_topic_partition_list_t *partitions,
					       void *opaque))
{
	if (dl_load(&lib))
		F(rd_kafka_conf_set_rebalance_cb)(conf, cb);
}

void rd_kafka_conf_set_offset_commit_cb(rd_kafka_conf_t *conf,
					void (*cb)(rd_kafka_t *rk, rd_kafka_resp_err_t err,
						   rd_kafka_topic_partition_list_t *offsets,
						   void *opaque))
{
	if (dl_load(&lib))
		F(rd_kafka_conf_set_offset_commit_cb)(conf, cb);
}

rd_kafka_resp_err_t rd_kafka_poll_set_consumer(rd_kafka_t *rk)
{
	return dl_load(&lib) ? F(rd_kafka_poll_set_consumer)(rk) : FAIL;
}

rd_kafka_queue_t *rd_kafka_queue_get_consumer(rd_kafka_t *rk)
{
	return dl_load(&lib) ? F(rd_kafka_queue_get_consumer)(rk) : NULL;
}

ssize_t rd_kafka_consume_batch_queue(rd_kafka_queue_t *rkqu, int timeout_ms,
				     rd_kafka_message_t **rkmessages, size_t rkmessages_size)
{
	return dl_load(&lib) ? F(rd_kafka_consume_batch_queue)(rkqu, timeout_ms, rkmessages,
							       rkmessages_size)
			     : -1;
}

void rd_kafka_message_destroy(rd_kafka_message_t *rkmessage)
{
	if (dl_load(&lib))
		F(rd_kafka_message_destroy)(rkmessage);
}

rd_kafka_resp_err_t rd_kafka_message_headers(const rd_kafka_message_t *rkmessage,
					     rd_kafka_headers_t **hdrsp)
{
	return dl_load(&lib) ? F(rd_kafka_message_headers)(rkmessage, hdrsp) : FAIL;
}

rd_kafka_resp_err_t rd_kafka_header_get_all(const rd_kafka_headers_t *hdrs, size_t idx,
					    const char **namep, const void **valuep, size_t *sizep)
{
	return dl_load(&lib) ? F(rd_kafka_header_get_all)(hdrs, idx, namep, valuep, sizep) : FAIL;
}

int64_t rd_kafka_message_timestamp(const rd_kafka_message_t *rkmessage,
				   rd_kafka_timestamp_type_t *tstype)
{
	return dl_load(&lib) ? F(rd_kafka_message_timestamp)(rkmessage, tstype) : -1;
}

const char *rd_kafka_topic_name(const rd_kafka_topic_t *rkt)
{
	return dl_load(&lib) ? F(rd_kafka_topic_name)(rkt) : "";
}

rd_kafka_resp_err_t rd_kafka_subscribe(rd_kafka_t *rk,
				       const rd_kafka_topic_partition_list_t *topics)
{
	return dl_load(&lib) ? F(rd_kafka_subscribe)(rk, topics) : FAIL;
}

rd_kafka_topic_partition_list_t *rd_kafka_topic_partition_list_new(int size)
{
	return dl_load(&lib) ? F(rd_kafka_topic_partition_list_new)(size) : NULL;
}

rd_kafka_topic_partition_t *
rd_kafka_topic_partition_list_add(rd_kafka_topic_partition_list_t *rktparlist, const char *topic,
				  int32_t partition)
{
	return dl_load(&lib) ? F(rd_kafka_topic_partition_list_add)(rktparlist, topic, partition)
			     : NULL;
}

void rd_kafka_topic_partition_list_destroy(rd_kafka_topic_partition_list_t *rkparlist)
{
	if (dl_load(&lib))
		F(rd_kafka_topic_partition_list_destroy)(rkparlist);
}

rd_kafka_topic_partition_list_t *
rd_kafka_topic_partition_list_copy(const rd_kafka_topic_partition_list_t *src)
{
	return dl_load(&lib) ? F(rd_kafka_topic_partition_list_copy)(src) : NULL;
}

rd_kafka_resp_err_t rd_kafka_assign(rd_kafka_t *rk,
				    const rd_kafka_topic_partition_list_t *partitions)
{
	return dl_load(&lib) ? F(rd_kafka_assign)(rk, partitions) : FAIL;
}

rd_kafka_resp_err_t rd_kafka_committed(rd_kafka_t *rk, rd_kafka_topic_partition_list_t *partitions,
				       int timeout_ms)
{
	return dl_load(&lib) ? F(rd_kafka_committed)(rk, partitions, timeout_ms) : FAIL;
}

rd_kafka_resp_err_t rd_kafka_commit(rd_kafka_t *rk, const rd_kafka_topic_partition_list_t *offsets,
				    int async)
{
	return dl_load(&lib) ? F(rd_kafka_commit)(rk, offsets, async) : FAIL;
}

rd_kafka_resp_err_t rd_kafka_consumer_close(rd_kafka_t *rk)
{
	return dl_load(&lib) ? F(rd_kafka_consumer_close)(rk) : FAIL;
}

rd_kafka_resp_err_t rd_kafka_pause_partitions(rd_kafka_t *rk,
					      rd_kafka_topic_partition_list_t *partitions)
{
	return dl_load(&lib) ? F(rd_kafka_pause_partitions)(rk, partitions) : FAIL;
}

rd_kafka_resp_err_t rd_kafka_resume_partitions(rd_kafka_t *rk,
					       rd_kafka_topic_partition_list_t *partitions)
{
	return dl_load(&lib) ? F(rd_kafka_resume_partitions)(rk, partitions) : FAIL;
}

rd_kafka_resp_err_t rd_kafka_assignment(rd_kafka_t *rk,
					rd_kafka_topic_partition_list_t **partitions)
{
	return dl_load(&lib) ? F(rd_kafka_assignment)(rk, partitions) : FAIL;
}

int rd_kafka_assignment_lost(rd_kafka_t *rk)
{
	return dl_load(&lib) ? F(rd_kafka_assignment_lost)(rk) : 0;
}

const char *rd_kafka_message_errstr(const rd_kafka_message_t *rkmessage)
{
	return dl_load(&lib) ? F(rd_kafka_message_errstr)(rkmessage) : "librdkafka.so.1 missing";
}
