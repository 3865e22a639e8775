/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The kafka output's native producer (`client: native`): the spooled
 * RecordBatch v2 of a flush go to the partition's leader as they are, in one
 * Produce request, stamped with the output's idempotent producer id and
 * epoch (the spool assigned the sequences), CRC-32C recomputed.  Everything
 * runs on the agent's event loop with non-blocking sockets, except one
 * bounded Metadata fetch at start so the first batches are placed in the
 * right partitions (as the store output learns its partition counts).
 *
 *   knative.c       flushes, answers, producer id, partition table
 *   knative_conn.c  broker connections: connect, write, read, framing
 *
 * Loop thread only.
 */
#ifndef SLUICE_OUT_KAFKA_KNATIVE_H
#define SLUICE_OUT_KAFKA_KNATIVE_H

#include <stdbool.h>
#include <stdint.h>

#include "agent/plugin.h"
#include "lib/buf.h"
#include "lib/log.h"
#include "plugins/out_kafka/kproto.h"

struct knative;
struct out_kafka;

struct kn_req {
	struct kn_req *next;
	int32_t corr;
	int16_t api;
	struct flush *f; /* Produce: NULL once cancelled */
	size_t nsent;    /* Produce: batches in the request */
	uint64_t sent_ms;
	char topic[KP_NAME_MAX]; /* Produce: the destination topic */
};

struct kn_conn {
	struct knative *kn;
	struct kn_conn *next;
	int32_t node; /* -1: a bootstrap connection */
	char host[KP_NAME_MAX];
	int32_t port;
	int fd;
	struct evloop_io io;
	bool connecting;
	bool handshaking; /* TLS */
	bool gated;       /* SASL: only out[..gate] may be written until authenticated */
	size_t gate;
	void *ssl; /* SSL *, TLS only */
	struct kn_scram *scram;
	int sasl_step;
	bool dead; /* failed: freed at the end of the loop iteration */
	uint64_t started_ms;
	struct buf out;
	size_t out_off;
	struct buf in;
	struct kn_req *head, *tail;
};

struct kn_topic {
	char *name;
	int32_t nparts; /* 0: not known */
	int32_t *leaders;
};

struct kn_stats {
	uint64_t requests, batches, records, duplicates, pid_inits, pid_resets;
	uint64_t metadata, conn_errors, retries, refused;
};

struct knative {
	struct out_kafka *ok;
	struct evloop *loop;
	const char *id;
	const char *state_dir; /* NULL: the producer id is not kept */
	int32_t timeout_ms;
	char **bootstrap; /* host:port */
	size_t nbootstrap, next_bootstrap;
	struct kn_conn *conns;
	struct kn_conn *dead; /* failed, freed by reap */
	struct kp_broker *brokers;
	size_t nbrokers;
	struct kn_topic *topics;
	size_t ntopics;
	int64_t pid;
	int16_t epoch;
	bool pid_pending;
	bool meta_pending, meta_stale;
	uint64_t meta_next_ms, meta_refreshed_ms;
	unsigned meta_failures;
	unsigned resets_in_row;
	struct flush **waiting; /* for the producer id or the metadata */
	size_t nwaiting, capwaiting;
	int32_t corr;
	struct evloop_timer tick;
	/* allocated apart: a reap still queued when the producer is freed runs
	 * later with data NULL and frees only itself (defers cannot be
	 * cancelled) */
	struct evloop_defer *reap;
	struct kn_stats st;
	struct log_ratelimit rl;
	void *ssl_ctx;               /* SSL_CTX *: TLS on */
	char *sasl_user, *sasl_pass; /* SASL on */
	int sasl_mech;               /* 0 PLAIN, 1 SCRAM-SHA-256, 2 SCRAM-SHA-512 */
	uint64_t auth_failures;
};

struct knative *knative_new(struct out_kafka *ok, struct evloop *loop, const char *id,
			    const char *state_dir, char *const *brokers, size_t nbrokers,
			    int32_t timeout_ms);
void knative_free(struct knative *kn);
/* Learn the routed topics' partitions (blocking, bounded) and start. */
int knative_start(struct knative *kn, const char *const *topics, size_t ntopics);
enum flush_result knative_flush(struct knative *kn, struct flush *f, const char *topic);
void knative_cancel(struct knative *kn, struct flush *f);
/* Partitions of the destination topic; 1 while unknown. */
int32_t knative_partitions(struct knative *kn, const char *topic);
size_t knative_metrics(struct knative *kn, struct plugin_metric *m, size_t max);

/* knative_conn.c */
struct kn_conn *kn_conn_get(struct knative *kn, int32_t node, const char *host, int32_t port);
/* Queue the request just encoded at out[start..] (its answer goes to
 * knative_answer()); r is the connection's from now on. */
void kn_conn_queue(struct kn_conn *c, struct kn_req *r);
/* Drop the connection: every pending request's answer is an error. */
void kn_conn_fail(struct kn_conn *c, const char *why);
void kn_conn_free(struct kn_conn *c);
int kn_split_hostport(const char *s, char *host, size_t cap, int32_t *port);

/* knative_sec.c: TLS (libssl through agent/dl) and SASL PLAIN */
int kn_sec_init(struct knative *kn, bool tls, const char *ca, const char *cert, const char *key,
		const char *user, const char *pass, int mech, char *why, size_t whylen);
void kn_sec_release(struct knative *kn);
/* After the TCP connect: 0, or negative with why. */
int kn_tls_start(struct kn_conn *c, char *why, size_t whylen);
/* 1 done, 0 in progress (io events set), negative with why. */
int kn_tls_step(struct kn_conn *c, char *why, size_t whylen);
/* send()/recv() through TLS when on: bytes, -EAGAIN, 0 (recv: closed) or -errno. */
long kn_io_send(struct kn_conn *c, const void *p, size_t n);
long kn_io_recv(struct kn_conn *c, void *p, size_t n);
void kn_tls_free(struct kn_conn *c);
/* Queue SaslHandshake first on a new connection (holds the rest). */
int kn_sasl_begin(struct kn_conn *c);
void kn_sasl_answer(struct kn_conn *c, int16_t api, const uint8_t *body, size_t len);

/* knative_scram.c */
struct kn_scram;
int kn_scram_first(struct knative *kn, struct kn_conn *c, struct buf *out);
int kn_scram_final(struct knative *kn, struct kn_conn *c, const uint8_t *msg, size_t n,
		   struct buf *out);
int kn_scram_verify(struct kn_conn *c, const uint8_t *msg, size_t n);
void kn_scram_free(struct kn_scram *s);

/* knative.c, called by the connection code: an answer (body NULL: the
 * connection failed with why) for r, which the caller frees. */
void knative_answer(struct knative *kn, struct kn_conn *c, struct kn_req *r, const uint8_t *body,
		    size_t len, const char *why);

#endif
