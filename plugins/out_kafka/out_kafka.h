/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The kafka output's state, shared by its files (private to the plugin):
 * out_kafka.c (configuration, producing, delivery reports) and
 * out_kafka_eo.c (exactly_once: one transaction per flush, kafka_txn.h).
 */
#ifndef SLUICE_OUT_KAFKA_H
#define SLUICE_OUT_KAFKA_H

#include <librdkafka/rdkafka.h>

#include "agent/plugin.h"
#include "agent/spool/marks.h"
#include "lib/codec.h"
#include "plugins/out_kafka/kafka_txn.h"
#include "plugins/out_kafka/knative.h"

struct out_kafka_conf {
	struct cfg_list brokers; /* a list, or one comma-separated string */
	char *topic;             /* template; "" = the input's topic */
	int security_protocol;   /* CFG_ENUM: index into security_protocols */
	int sasl_mechanism;      /* CFG_ENUM: index into sasl_mechanisms */
	char *sasl_username;
	char *sasl_password;
	char *ssl_ca_location;
	char *ssl_certificate_location;
	char *ssl_key_location;
	char *ssl_key_password;
	struct cfg_kv librdkafka; /* any other property */
	bool exactly_once;        /* transactional producer (kafka_txn.h) */
	char *transactional_id;   /* default sluice.<agent name>.<output id> */
	int client;               /* CFG_ENUM: auto, native, librdkafka */
	int64_t request_timeout;  /* native: Produce timeout, ms */
};

struct kflush;

struct kbatch {
	struct kflush *kf;
	int32_t total; /* records produced from it */
	int32_t ok;
	int32_t failed;
	rd_kafka_resp_err_t err; /* first failure */
};

struct kflush {
	struct out_kafka *ok;
	struct flush *f; /* NULL once cancelled */
	struct kbatch *b;
	size_t nb;
	size_t next_batch;        /* produce position: batch ... */
	int32_t next_record;      /* ... and record within it */
	size_t outstanding;       /* produced, no delivery report yet */
	struct evloop_defer done; /* completes a flush refused before sending */
	bool producing;           /* not every record handed over yet */
	size_t marked;            /* batches before this one are in the marks */
	struct kflush *next_waiting;
	struct kflush *next_eo;      /* exactly_once: waiting for its transaction */
	struct evloop_defer eo_done; /* exactly_once: commit outside librdkafka's poll */
};

struct out_kafka {
	const struct out_kafka_conf *conf;
	struct output *output;
	char id[64];
	char host[256];
	rd_kafka_t *rk;
	int pipefd[2];
	struct evloop *loop;
	struct evloop_io io;
	struct evloop_timer resume_timer;
	struct evloop_timer poll_timer;
	struct codec_ctx *cc;
	int level;              /* librdkafka's compression.level; 0 = its default */
	struct kflush *waiting; /* flushes stopped by a full local queue */
	bool fatal;             /* the producer hit a fatal error: recreate */
	bool topic_static;      /* template without per-record variables */
	char *state_dir;        /* NULL: no marks (--check) */
	struct marks marks;
	bool eo; /* exactly_once */
	struct kafka_txn txn;
	struct kflush *eo_current; /* the flush of the open transaction */
	struct kflush *eo_head, *eo_tail;
	struct knative *kn; /* client: native (knative.h); rk is NULL then */
	bool native;
	/* counters */
	uint64_t produced, delivered, failed, queue_full, fatal_errors, flushes_retried;
	uint64_t skipped;       /* re-sent entries the marks say were delivered */
	uint64_t broker_errors; /* error callbacks: brokers down, failovers */
};

bool out_kafka_is_permanent(rd_kafka_resp_err_t e);
/* The destination topic of a record (r NULL: of the flush). */
const char *out_kafka_topic_for(struct out_kafka *ok, const struct flush *f, const struct record *r,
				char *out, size_t outlen);
void kflush_free(struct kflush *kf);
/* Every record has its delivery report: tell the pipeline. */
void kflush_complete(struct kflush *kf);
/* Hand records of kf over from its position; stops at a full local queue.
 * 0 or a negative code for a batch that cannot be read. */
int kflush_produce(struct kflush *kf);

enum { CLIENT_AUTO, CLIENT_NATIVE, CLIENT_LIBRDKAFKA };
int out_kafka_producer_new(struct out_kafka *ok, struct cfg_error *err);
const char *out_kafka_security_protocol(const struct out_kafka_conf *c);

/* client: native (out_kafka_native.c) */
int out_kafka_choose_client(struct out_kafka *ok, struct cfg_error *err);
/* 0, 1 (the librdkafka client after all: start it) or negative. */
int out_kafka_native_start(struct out_kafka *ok);

/* exactly_once (out_kafka_eo.c) */
int out_kafka_eo_setup(struct out_kafka *ok, rd_kafka_conf_t *kc, struct cfg_error *err);
enum flush_result out_kafka_eo_flush(struct out_kafka *ok, struct kflush *kf);
void out_kafka_eo_finish(struct evloop_defer *d);

#endif
