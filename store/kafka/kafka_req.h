/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One in-flight Kafka request and the context the API handlers run in.
 *
 * The server (store/kafka/kafka_server.c) reads a frame, parses its header and
 * body (store/kafka/kafka_api.h) and calls the API's handler with a struct
 * kafka_req.  The handler answers at once or later:
 *
 *   enc = kafka_req_begin(r);      response header written, body encoder
 *   kwire_put_...(enc, ...);       body fields in schema order
 *   kafka_req_add_slice(r, &sl);   a log slice sent with sendfile (Fetch)
 *   kafka_req_finish(r);           size patched; the server may send it
 *
 * A handler that must wait (Produce for durability, Fetch for min_bytes,
 * group joins) calls kafka_req_wait() with a poll function that the context
 * runs whenever the log engine reports progress (kafka_ctx_wake) and once
 * more when the timeout expires; poll finishes the request and returns true,
 * or returns false to keep waiting.  Responses still go out in request order
 * per connection: the server only sends a finished request once every
 * earlier request on that connection has been sent.
 *
 * If the connection dies first, the server calls r->cancel (when set) so
 * whoever holds r (the group coordinator) forgets it, then frees r.
 *
 * Memory: the frame (mutable: Produce rewrites baseOffset in place) and the
 * decoded body belong to r; r->arena holds the body, strings and any
 * handler state that lives as long as the request.
 *
 * Threading: the event-loop thread only, except struct kafka_stats, whose
 * counters are atomics read by the metrics renderer on HTTP threads.
 */
#ifndef SLUICE_STORE_KAFKA_REQ_H
#define SLUICE_STORE_KAFKA_REQ_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"
#include "lib/evloop.h"
#include "lib/arena.h"
#include "store/kafka/kafka_api.h"
#include "store/kafka/kafka_sasl.h"
#include "store/kafka/kwire.h"
#include "store/engine/engine.h"
#include "store/store_config.h"

struct auth;
struct groups;
struct kafka_conn;
struct kafka_sess;

#define KAFKA_API_SLOTS 64   /* >= entries in the API table */
#define KAFKA_LAT_BUCKETS 14 /* see kafka_lat_bounds_ms */

extern const double kafka_lat_bounds_ms[KAFKA_LAT_BUCKETS];

struct kafka_latency {
	atomic_uint_fast64_t count;
	atomic_uint_fast64_t sum_us;
	atomic_uint_fast64_t bucket[KAFKA_LAT_BUCKETS + 1]; /* last: +Inf */
};

struct kafka_stats {
	atomic_uint_fast64_t requests[KAFKA_API_SLOTS][KAFKA_ERR_BUCKETS];
	atomic_uint_fast64_t bytes_in;
	atomic_uint_fast64_t bytes_out;
	atomic_uint_fast64_t connections_accepted;
	atomic_uint_fast64_t connections_open;
	atomic_uint_fast64_t connections_rejected;
	atomic_uint_fast64_t bad_frames; /* connections closed for a bad frame */
	atomic_uint_fast64_t produce_batches;
	atomic_uint_fast64_t produce_bytes;
	atomic_uint_fast64_t fetch_bytes;
	atomic_uint_fast64_t paused_reads; /* back-pressure events */
	struct kafka_latency produce_latency;
	struct kafka_latency fetch_latency;
	struct kafka_latency request_latency;
};

/* Observe one latency. */
void kafka_latency_add(struct kafka_latency *l, uint64_t ns);

/* What the handlers need; embedded in the server. */
struct kafka_ctx {
	struct evloop *loop;
	struct engine *log;
	const struct store_config *conf;
	struct groups *groups; /* NULL: group APIs unavailable */
	struct auth *auth;     /* NULL: no SASL, no ACL (store/auth/auth.h) */
	const char *adv_host;  /* Metadata: node 0 */
	int32_t adv_port;
	const char *cluster_id;
	struct kafka_stats *stats;
	struct quota *quota;       /* byte-rate quotas; NULL: none */
	struct kafka_req *waiters; /* doubly linked through wnext/wprev */
	/* The server's hook: r finished (or needs no response) */
	void (*req_done)(struct kafka_req *r);
	/* The server's hook: r cannot be answered (encoding failed); close its
	 * connection. */
	void (*req_fail)(struct kafka_req *r);
	/* A topic was deleted through DeleteTopics (the group coordinator drops
	 * its committed offsets); NULL when nobody cares. */
	void (*on_topic_deleted)(struct kafka_ctx *ctx, const char *topic);
};

struct kafka_piece {
	size_t off; /* memory: range of r->out */
	size_t len;
	bool file; /* file: slice.fd from slice.pos, len bytes */
	struct engine_slice slice;
};

struct kafka_req {
	struct kafka_req *next; /* the connection's queue, in arrival order */
	struct kafka_conn *conn;
	const char *peer; /* "host:port" of the client, for logs and groups */
	/* Who asks, for quotas: the authenticated principal once the connection
	 * has one (SASL/mTLS), else the request's client id; never NULL. */
	const char *principal;
	int32_t throttle_ms;       /* quota throttle: the connection mutes this long */
	struct kafka_sess *sess;   /* the connection's SASL session and principal */
	const char *tls_principal; /* the connection's verified mTLS subject, "User:CN=...";
	                              * NULL: anonymous (plaintext or no client cert) */
	struct kafka_ctx *ctx;
	struct kafka_hdr hdr;
	const struct kafka_api *api;
	uint8_t *frame; /* owned; the bytes after the size field */
	size_t frame_len;
	struct arena arena;
	void *body; /* decoded request (arena) */
	uint64_t start_ns;

	/* response */
	struct buf out;
	struct kwire_enc enc;
	struct kafka_piece *pieces;
	size_t npieces;
	size_t cappieces;
	size_t out_total; /* bytes on the wire, size field included */
	size_t piece_idx; /* send progress */
	size_t piece_off;
	bool started;
	bool done;
	bool no_response; /* acks=0 Produce */
	bool close_after; /* close the connection once this is sent (SASL failure) */
	int16_t err_code; /* first error code seen, for metrics */

	/* waiting */
	bool waiting;
	struct kafka_req *wnext;
	struct kafka_req *wprev;
	struct evloop_timer timer;
	bool (*poll)(struct kafka_req *r, bool expired);
	void (*cancel)(struct kafka_req *r);
	void *hstate; /* the handler's own state */
	/* Copied into the encoder by kafka_req_begin: how records fields with
	 * ref set are written (Fetch attaches log slices). */
	kwire_records_fn records_fn;
	void *records_ctx;
};

/* Allocate a request around a frame it takes ownership of.  NULL: -ENOMEM
 * (the frame is freed). */
struct kafka_req *kafka_req_new(struct kafka_ctx *ctx, uint8_t *frame, size_t len);
/* Release slices, stop waiting (calling cancel), free everything.  NULL ok. */
void kafka_req_free(struct kafka_req *r);

/* Begin the response: size placeholder, correlation id and (flexible
 * versions except ApiVersions) the header's tag section.  Returns the body
 * encoder, flexible as the request version is. */
struct kwire_enc *kafka_req_begin(struct kafka_req *r);
/* Answer with obj, a struct of the API's generated response type
 * (r->api->resp), encoded at the request's version: begin, encode, finish. */
void kafka_req_respond(struct kafka_req *r, const void *obj);
/* Append a file range to the response; takes ownership of *s (released when
 * sent or when the request is freed).  The caller has already written the
 * bytes field's length. */
void kafka_req_add_slice(struct kafka_req *r, struct engine_slice *s);
/* The response is complete: hand it to the server. */
void kafka_req_finish(struct kafka_req *r);
/* No response at all (acks=0); the request still keeps its place in order. */
void kafka_req_finish_silent(struct kafka_req *r);
/* Remember an error code for the request metrics (first non-zero wins). */
static inline void kafka_req_note(struct kafka_req *r, int16_t code)
{
	if (code && !r->err_code)
		r->err_code = code;
}

/* Park r until poll(r, false) returns true after a wake-up, or poll(r, true)
 * at timeout_ms (which must finish it). */
void kafka_req_wait(struct kafka_req *r, int64_t timeout_ms,
		    bool (*poll)(struct kafka_req *r, bool expired));
/* Run every waiting request's poll (the log made progress). */
void kafka_ctx_wake(struct kafka_ctx *ctx);

#endif
