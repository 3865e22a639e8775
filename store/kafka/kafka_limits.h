/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Limits of the Kafka listener against clients that hold resources without
 * using them (docs/OPERATIONS.md, "Limits"):
 *
 *   idle timeout       kafka.idle_timeout (Kafka's connections.max.idle.ms):
 *                      a connection with no bytes in or out and no request
 *                      being worked on for that long is closed;
 *   frame timeout      kafka.frame_timeout: a request whose first bytes came
 *                      must be complete that soon (a half-sent frame no
 *                      longer holds a connection for ever); the clock stops
 *                      while the server itself has paused the reads;
 *   request memory     kafka.max_queued_request_bytes (Kafka's
 *                      queued.max.request.bytes): a frame larger than the
 *                      16 KiB input buffer reserves its declared size from
 *                      one store-wide budget when its size field is read,
 *                      until its request is freed; at the budget, a
 *                      connection starting such a frame pauses its reads
 *                      until memory is returned (one that already holds its
 *                      reservation finishes its frame: no self-deadlock).
 *                      Like Kafka's pool the check is "is anything left",
 *                      so use may pass the budget by at most one frame;
 *   mute               a quota throttle (KIP-219): reads pause until then.
 *
 * Each connection embeds a struct kafka_limits_conn; the server answers
 * state() and does close() and resume() through the callbacks, never inside
 * them synchronously freeing anything (its teardown is deferred).
 *
 * Threading: the event-loop thread only; the counters are atomics for the
 * metrics renderer.
 */
#ifndef SLUICE_STORE_KAFKA_LIMITS_H
#define SLUICE_STORE_KAFKA_LIMITS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"
#include "lib/evloop.h"
#include "lib/log.h"
#include "store/store_config.h"

/* state() bits */
#define KAFKA_LIMITS_BUSY 0x1u      /* requests being worked on, nothing to send */
#define KAFKA_LIMITS_READS_OFF 0x2u /* the server paused this connection's reads */

struct kafka_limits_conn {
	struct kafka_limits *kl;
	struct kafka_limits_conn *next;
	struct kafka_limits_conn *prev;
	struct kafka_limits_conn *wnext; /* waiting for request memory */
	struct kafka_limits_conn *wprev;
	bool mem_wait;
	uint64_t last_io_ms;
	uint64_t frame_start_ms; /* 0: no partial frame */
	size_t frame_mem;        /* reserved for the large frame being read */
	size_t req_mem;          /* large frames held by queued requests */
	uint64_t muted_until_ms;
	struct evloop_timer mute_timer;
};

struct kafka_limits {
	struct evloop *loop;
	struct evloop_timer sweep;
	struct kafka_limits_conn *conns;
	struct kafka_limits_conn *waiters;
	uint64_t idle_ms;
	uint64_t frame_ms;
	size_t mem_max;
	size_t mem_used;
	bool stopping; /* kafka_limits_release(): wake no one */
	unsigned (*state)(struct kafka_limits_conn *lc);
	/* Close the connection; false when it was already closing. */
	bool (*close)(struct kafka_limits_conn *lc, const char *why);
	/* Re-evaluate the connection's reads (memory returned, mute over). */
	void (*resume)(struct kafka_limits_conn *lc);
	atomic_uint_fast64_t idle_closed;
	atomic_uint_fast64_t frame_timeouts;
	atomic_uint_fast64_t hangups;
	atomic_uint_fast64_t mem_paused;
	atomic_uint_fast64_t mem_gauge;
	atomic_uint_fast64_t muted;
	struct log_ratelimit rl;
};

/* Start the sweep timer.  0 or a negative errno. */
int kafka_limits_init(struct kafka_limits *kl, struct evloop *loop,
		      const struct store_config *conf);
/* Stop the timers and callbacks; the connections may be released after. */
void kafka_limits_release(struct kafka_limits *kl);

void kafka_limits_conn_init(struct kafka_limits *kl, struct kafka_limits_conn *lc);
/* Returns the connection's memory to the budget (its requests are being
 * freed with it) and forgets it. */
void kafka_limits_conn_release(struct kafka_limits_conn *lc);

/* Bytes moved in either direction, or a request finished. */
void kafka_limits_io(struct kafka_limits_conn *lc);
/* Is a frame partly in (after a read or a parse)?  The frame clock starts
 * when one is and stops (0) when none is; a frame cut whole stops it. */
void kafka_limits_frame(struct kafka_limits_conn *lc, bool partial);
/* May a large frame of size bytes start?  true: reserved.  false: the budget
 * is spent; the connection now waits for memory (kafka_limits_blocked() is
 * true until resume()). */
bool kafka_limits_frame_begin(struct kafka_limits_conn *lc, size_t size);
/* The large frame (len bytes) went to a request; kafka_limits_req_freed()
 * when that request is freed before the connection is. */
void kafka_limits_frame_done(struct kafka_limits_conn *lc, size_t len);
void kafka_limits_req_freed(struct kafka_limits_conn *lc, size_t len);
/* Reads must stay off: waiting for memory or muted. */
bool kafka_limits_blocked(const struct kafka_limits_conn *lc);
/* Mute reads for ms (a quota throttle). */
void kafka_limits_mute(struct kafka_limits_conn *lc, int32_t ms);
/* Count a hang-up noticed while reads were off. */
void kafka_limits_hangup(struct kafka_limits_conn *lc);

/* Append the sluice_kafka_* families of these limits. */
void kafka_limits_render(struct buf *out, struct kafka_limits *kl);

#endif
