/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Internals of the store output shared by its two files:
 *   out_store.c     the plugin table, flushes and what each answer means
 *   store_client.c  configuration, HTTP requests (agent/net/http_client.h), the
 *                   producer id and the topics' partition counts (both kept
 *                   in the output's spool directory)
 *
 * Loop thread only.
 */
#ifndef SLUICE_PLUGINS_OUT_STORE_STORE_CLIENT_H
#define SLUICE_PLUGINS_OUT_STORE_STORE_CLIENT_H

#include <stdbool.h>
#include <stdint.h>

#include "agent/net/http_client.h"
#include "agent/plugin.h"
#include "lib/buf.h"
#include "lib/log.h"

struct out_store_conf {
	char *url;
	char *token_file;
	char *ca_file;
	char *cert; /* client certificate for mTLS */
	char *key;
	bool tls_verify;
	int64_t timeout;
	int64_t connect_timeout;
	bool create_topics;
	int64_t partitions;
};

struct store_topic {
	char *name;
	int32_t partitions; /* 0: not learned yet */
	bool creating;
};

struct out_store;
struct store_req;

/* err is NULL when an answer came (status and store_req_body() say what),
 * else what went wrong before one. */
typedef void (*store_req_done)(struct store_req *r, long status, const char *err);

enum store_req_kind { REQ_BATCHES, REQ_PRODUCER, REQ_TOPIC_GET, REQ_TOPIC_PUT };

struct store_req {
	struct out_store *s;
	enum store_req_kind kind;
	struct http_client_req *h;
	char *headers; /* Content-Type and Authorization lines */
	const char *method;
	char *path;
	const void *body; /* borrowed */
	size_t len;
	store_req_done done;
	struct flush *flush; /* REQ_BATCHES */
	char *topic;         /* REQ_TOPIC_* */
	int64_t retry_after_ms;
	bool running;
	struct store_req *next; /* the output's list of running requests */
};

struct out_store_stats {
	uint64_t requests;
	uint64_t conn_errors;
	uint64_t duplicates;
	uint64_t producer_resets;
	uint64_t not_owned; /* 403 producer_id_not_owned answers */
};

struct out_store {
	const struct out_store_conf *conf;
	struct output *output;
	struct evloop *loop;
	const char *id;
	char *state_dir;
	char *base; /* url without a trailing slash */
	char *auth; /* "Authorization: Bearer ...\r\n" or NULL */
	struct http_client_opts hopts;
	struct http_client *http;
	int64_t producer_id; /* -1 until known */
	int16_t producer_epoch;
	bool producer_pending;
	void (*producer_cb)(struct out_store *s, int rc, const char *why);
	unsigned resets_in_row;
	struct flush **waiting; /* flushes waiting for the producer id */
	size_t nwaiting;
	size_t capwaiting;
	struct store_topic *topics;
	size_t ntopics;
	struct store_req *reqs;
	struct out_store_stats st;
	struct log_ratelimit rl;
};

int store_check_url(const char *v, char *why, size_t whylen);
int store_init(const struct plugin_args *a, void **ctx, struct cfg_error *err);
int store_start(void *ctx);
void store_exit(void *ctx);

struct store_req *store_req_new(struct out_store *s, enum store_req_kind kind, const char *method,
				const char *path, const void *body, size_t len, const char *ctype,
				store_req_done done);
int store_req_start(struct store_req *r);
/* The answer's body (empty before one). */
const struct buf *store_req_body(const struct store_req *r);
/* Also abandons the transfer when it is running. */
void store_req_free(struct store_req *r);

/* Get a producer id (once; concurrent calls share the request). */
void store_producer_fetch(struct out_store *s, void (*cb)(struct out_store *, int, const char *));
/* Forget the producer id (the store lost its state): the next flush asks. */
void store_producer_reset(struct out_store *s);

int32_t store_topic_partitions(struct out_store *s, const char *topic);
void store_topic_create(struct out_store *s, const char *topic);

#endif
