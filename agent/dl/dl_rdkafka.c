/* SPDX-License-Identifier: Apache-2.0 */
/* librdkafka on first use (see dl.h): the kafka output, and its transactions
 * (exactly_once: plugins/out_kafka/kafka_txn.c). */
#include <librdkafka/rdkafka.h>
#include <stdio.h>

#include "agent/dl/dl.h"

/* clang-format off */
#define FNS(X)                                                                        \
	X(rd_kafka_conf_new) X(rd_kafka_conf_destroy) X(rd_kafka_conf_set)                 \
	X(rd_kafka_conf_set_dr_msg_cb) X(rd_kafka_conf_set_error_cb)                       \
	X(rd_kafka_conf_set_log_cb) X(rd_kafka_conf_set_opaque) X(rd_kafka_new)            \
	X(rd_kafka_destroy) X(rd_kafka_err2name) X(rd_kafka_err2str) X(rd_kafka_error_code) \
	X(rd_kafka_error_destroy) X(rd_kafka_fatal_error) X(rd_kafka_flush)                \
	X(rd_kafka_header_add) X(rd_kafka_headers_destroy) X(rd_kafka_headers_new)         \
	X(rd_kafka_opaque) X(rd_kafka_outq_len) X(rd_kafka_poll) X(rd_kafka_produceva)     \
	X(rd_kafka_purge) X(rd_kafka_queue_destroy) X(rd_kafka_queue_get_main)             \
	X(rd_kafka_queue_io_event_enable) X(rd_kafka_conf_dup_filter)                      \
	X(rd_kafka_init_transactions) X(rd_kafka_begin_transaction)                        \
	X(rd_kafka_commit_transaction) X(rd_kafka_abort_transaction)                       \
	X(rd_kafka_send_offsets_to_transaction) X(rd_kafka_consumer_group_metadata_new)    \
	X(rd_kafka_consumer_group_metadata_destroy) X(rd_kafka_error_string)              \
	X(rd_kafka_error_is_fatal) X(rd_kafka_error_is_retriable)                          \
	X(rd_kafka_error_txn_requires_abort)
/* clang-format on */
/* rd_kafka_topic_partition_list_* and rd_kafka_committed (exactly_once's
 * offsets and read-back) come from dl_rdkafka_consumer.c's table. */

enum { FNS(DL_ENUM) DL_N };
static const char *const names[] = {FNS(DL_NAME)};
static void *fns[DL_N];
static struct dl_lib lib = {
	.soname = "librdkafka.so.1",
	.used_by = "the kafka output",
	.names = names,
	.fns = fns,
	.n = DL_N,
};

#define F(name) DL_FN(fns, name)
#define FAIL RD_KAFKA_RESP_ERR__FAIL

rd_kafka_conf_t *rd_kafka_conf_new(void)
{
	return dl_load(&lib) ? F(rd_kafka_conf_new)() : NULL;
}

void rd_kafka_conf_destroy(rd_kafka_conf_t *conf)
{
	if (dl_load(&lib))
		F(rd_kafka_conf_destroy)(conf);
}

rd_kafka_conf_res_t rd_kafka_conf_set(rd_kafka_conf_t *conf, const char *name, const char *value,
				      char *errstr, size_t errstr_size)
{
	return dl_load(&lib) ? F(rd_kafka_conf_set)(conf, name, value, errstr, errstr_size)
			     : RD_KAFKA_CONF_UNKNOWN;
}

void rd_kafka_conf_set_dr_msg_cb(rd_kafka_conf_t *conf,
				 void (*cb)(rd_kafka_t *rk, const rd_kafka_message_t *m,
					    void *opaque))
{
	if (dl_load(&lib))
		F(rd_kafka_conf_set_dr_msg_cb)(conf, cb);
}

void rd_kafka_conf_set_error_cb(rd_kafka_conf_t *conf, void (*cb)(rd_kafka_t *rk, int err,
								  const char *reason, void *opaque))
{
	if (dl_load(&lib))
		F(rd_kafka_conf_set_error_cb)(conf, cb);
}

void rd_kafka_conf_set_log_cb(rd_kafka_conf_t *conf, void (*cb)(const rd_kafka_t *rk, int level,
								const char *fac, const char *buf))
{
	if (dl_load(&lib))
		F(rd_kafka_conf_set_log_cb)(conf, cb);
}

void rd_kafka_conf_set_opaque(rd_kafka_conf_t *conf, void *opaque)
{
	if (dl_load(&lib))
		F(rd_kafka_conf_set_opaque)(conf, opaque);
}

rd_kafka_t *rd_kafka_new(rd_kafka_type_t type, rd_kafka_conf_t *conf, char *errstr,
			 size_t errstr_size)
{
	if (!dl_load(&lib)) {
		if (errstr_size)
			snprintf(errstr, errstr_size, "librdkafka.so.1 cannot be loaded");
		return NULL;
	}
	return F(rd_kafka_new)(type, conf, errstr, errstr_size);
}

void rd_kafka_destroy(rd_kafka_t *rk)
{
	if (dl_load(&lib))
		F(rd_kafka_destroy)(rk);
}

const char *rd_kafka_err2name(rd_kafka_resp_err_t err)
{
	return dl_load(&lib) ? F(rd_kafka_err2name)(err) : "_FAIL";
}

const char *rd_kafka_err2str(rd_kafka_resp_err_t err)
{
	return dl_load(&lib) ? F(rd_kafka_err2str)(err) : "librdkafka.so.1 cannot be loaded";
}

rd_kafka_resp_err_t rd_kafka_error_code(const rd_kafka_error_t *error)
{
	return dl_load(&lib) ? F(rd_kafka_error_code)(error) : FAIL;
}

void rd_kafka_error_destroy(rd_kafka_error_t *error)
{
	if (dl_load(&lib))
		F(rd_kafka_error_destroy)(error);
}

rd_kafka_resp_err_t rd_kafka_fatal_error(rd_kafka_t *rk, char *errstr, size_t errstr_size)
{
	return dl_load(&lib) ? F(rd_kafka_fatal_error)(rk, errstr, errstr_size) : FAIL;
}

rd_kafka_resp_err_t rd_kafka_flush(rd_kafka_t *rk, int timeout_ms)
{
	return dl_load(&lib) ? F(rd_kafka_flush)(rk, timeout_ms) : FAIL;
}

rd_kafka_resp_err_t rd_kafka_header_add(rd_kafka_headers_t *hdrs, const char *name,
					ssize_t name_size, const void *value, ssize_t value_size)
{
	return dl_load(&lib) ? F(rd_kafka_header_add)(hdrs, name, name_size, value, value_size)
			     : FAIL;
}

void rd_kafka_headers_destroy(rd_kafka_headers_t *hdrs)
{
	if (dl_load(&lib))
		F(rd_kafka_headers_destroy)(hdrs);
}

rd_kafka_headers_t *rd_kafka_headers_new(size_t initial_count)
{
	return dl_load(&lib) ? F(rd_kafka_headers_new)(initial_count) : NULL;
}

void *rd_kafka_opaque(const rd_kafka_t *rk)
{
	return dl_load(&lib) ? F(rd_kafka_opaque)(rk) : NULL;
}

int rd_kafka_outq_len(rd_kafka_t *rk)
{
	return dl_load(&lib) ? F(rd_kafka_outq_len)(rk) : 0;
}

int rd_kafka_poll(rd_kafka_t *rk, int timeout_ms)
{
	return dl_load(&lib) ? F(rd_kafka_poll)(rk, timeout_ms) : 0;
}

rd_kafka_error_t *rd_kafka_produceva(rd_kafka_t *rk, const rd_kafka_vu_t *vus, size_t cnt)
{
	/* Without the library there is no rk to produce with. */
	return F(rd_kafka_produceva)(rk, vus, cnt);
}

rd_kafka_resp_err_t rd_kafka_purge(rd_kafka_t *rk, int purge_flags)
{
	return dl_load(&lib) ? F(rd_kafka_purge)(rk, purge_flags) : FAIL;
}

void rd_kafka_queue_destroy(rd_kafka_queue_t *rkqu)
{
	if (dl_load(&lib))
		F(rd_kafka_queue_destroy)(rkqu);
}

rd_kafka_queue_t *rd_kafka_queue_get_main(rd_kafka_t *rk)
{
	return dl_load(&lib) ? F(rd_kafka_queue_get_main)(rk) : NULL;
}

void rd_kafka_queue_io_event_enable(rd_kafka_queue_t *rkqu, int fd, const void *payload,
				    size_t size)
{
	if (dl_load(&lib))
		F(rd_kafka_queue_io_event_enable)(rkqu, fd, payload, size);
}

/* Transactions (exactly_once).  Every caller holds a handle made by
 * rd_kafka_new() above, so the library is loaded. */

rd_kafka_conf_t *rd_kafka_conf_dup_filter(const rd_kafka_conf_t *conf, size_t filter_cnt,
					  const char **filter)
{
	return dl_load(&lib) ? F(rd_kafka_conf_dup_filter)(conf, filter_cnt, filter) : NULL;
}

rd_kafka_error_t *rd_kafka_init_transactions(rd_kafka_t *rk, int timeout_ms)
{
	return F(rd_kafka_init_transactions)(rk, timeout_ms);
}

rd_kafka_error_t *rd_kafka_begin_transaction(rd_kafka_t *rk)
{
	return F(rd_kafka_begin_transaction)(rk);
}

rd_kafka_error_t *rd_kafka_commit_transaction(rd_kafka_t *rk, int timeout_ms)
{
	return F(rd_kafka_commit_transaction)(rk, timeout_ms);
}

rd_kafka_error_t *rd_kafka_abort_transaction(rd_kafka_t *rk, int timeout_ms)
{
	return F(rd_kafka_abort_transaction)(rk, timeout_ms);
}

rd_kafka_error_t *
rd_kafka_send_offsets_to_transaction(rd_kafka_t *rk, const rd_kafka_topic_partition_list_t *offsets,
				     const rd_kafka_consumer_group_metadata_t *cgmetadata,
				     int timeout_ms)
{
	return F(rd_kafka_send_offsets_to_transaction)(rk, offsets, cgmetadata, timeout_ms);
}

rd_kafka_consumer_group_metadata_t *rd_kafka_consumer_group_metadata_new(const char *group_id)
{
	return dl_load(&lib) ? F(rd_kafka_consumer_group_metadata_new)(group_id) : NULL;
}

void rd_kafka_consumer_group_metadata_destroy(rd_kafka_consumer_group_metadata_t *cgmd)
{
	if (dl_load(&lib))
		F(rd_kafka_consumer_group_metadata_destroy)(cgmd);
}

const char *rd_kafka_error_string(const rd_kafka_error_t *error)
{
	return dl_load(&lib) ? F(rd_kafka_error_string)(error) : "librdkafka.so.1 cannot be loaded";
}

int rd_kafka_error_is_fatal(const rd_kafka_error_t *error)
{
	return dl_load(&lib) ? F(rd_kafka_error_is_fatal)(error) : 0;
}

int rd_kafka_error_is_retriable(const rd_kafka_error_t *error)
{
	return dl_load(&lib) ? F(rd_kafka_error_is_retriable)(error) : 0;
}

int rd_kafka_error_txn_requires_abort(const rd_kafka_error_t *error)
{
	return dl_load(&lib) ? F(rd_kafka_error_txn_requires_abort)(error) : 0;
}
