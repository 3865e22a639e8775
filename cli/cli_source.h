/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One partition as a stream of records for the CLI: a raw-format replay
 * request (GET .../records?format=raw) on a curl multi handle, the received
 * bytes split into batches, each batch decoded (all codecs, CRC checked)
 * and its records filtered by offset, time range and struct cli_filter.
 *
 * cli_source_next() makes the next matching record the "head" without
 * blocking; the merge (cli_merge.c) decides when to print it.  The
 * "frontier" is the largest timestamp scanned so far, matching or not: a
 * partition with no head but a frontier past another partition's head will
 * not hold that head back.
 *
 * Resilience: when a transfer fails half-way (connection reset, store
 * restart) it is re-requested from the offset after the last complete batch
 * received, up to 5 times with backoff (a follow retries for ever, so it
 * survives a store restart).  In follow mode a stream the store ended
 * (nothing new for wait_ms) is simply re-requested.
 *
 * Memory: the bytes received but not yet decoded are bounded: past 16 MiB
 * the transfer is paused until the merge catches up.  Not thread-safe.
 */
#ifndef SLUICE_CLI_SOURCE_H
#define SLUICE_CLI_SOURCE_H

#include <curl/curl.h>
#include <stdbool.h>
#include <stdint.h>

#include "cli/cli_filter.h"
#include "cli/cli_http.h"
#include "lib/batch.h"
#include "lib/buf.h"
#include "lib/topic_name.h"

/* Kafka's topic name bound (the CLI knows the store only by its API). */
#define CLI_TOPIC_MAX TOPIC_NAME_MAX

#define CLI_START_EARLIEST (-2)
#define CLI_START_LATEST (-1)

struct cli_source {
	struct cli_http *http;
	struct cli_filter *filter; /* borrowed, shared; NULL: everything */
	char topic[CLI_TOPIC_MAX + 1];
	int32_t partition;
	int64_t from_ts; /* INT64_MIN: none */
	int64_t to_ts;   /* INT64_MAX: none */
	bool follow;
	int64_t first;     /* first request: offset, or CLI_START_* */
	bool by_time;      /* first request: time=from_ts */
	int64_t next;      /* resume offset: after the last complete batch
					received (not consumed); -1 until known */
	int64_t hdr_start; /* X-Sluice-Start-Offset of the last response */
	int64_t start;     /* records below are skipped */

	CURL *easy;
	bool running; /* transfer on the multi handle */
	bool ended;   /* last transfer completed normally */
	bool paused;
	uint64_t restart_at; /* mono ms; 0: no restart pending */
	int retries;
	long status;
	struct buf rx;
	size_t rx_off;
	struct buf errbody;
	uint64_t last_rx_ms;

	struct buf cur; /* the batch being decoded (a copy: rx moves) */
	struct batch_iter it;
	bool iter_inited; /* it holds a buffer (reused batch after batch) */
	bool iter_live;   /* it is on a batch with records left */
	struct codec_ctx *cc;

	struct record head;
	bool has_head;
	int64_t frontier;
	bool eof;
	bool failed;
	char err[512];

	uint64_t bytes_in;
	uint64_t batches;
	uint64_t records_scanned;
	uint64_t value_bytes;   /* log bytes (record values) scanned */
	uint64_t decoded_bytes; /* records sections decoded (values + keys, headers, framing) */
};

/* first: an offset >= 0 or CLI_START_*; by_time: start at from_ts instead. */
int cli_source_init(struct cli_source *s, struct cli_http *http, struct cli_filter *filter,
		    const char *topic, int32_t partition, int64_t first, bool by_time,
		    int64_t from_ts, int64_t to_ts, bool follow);
void cli_source_release(struct cli_source *s, CURLM *multi);

/* Start (or restart) the transfer on multi.  0 or -ENOMEM. */
int cli_source_start(struct cli_source *s, CURLM *multi);
/* The multi handle reported the transfer finished with cc. */
void cli_source_done(struct cli_source *s, CURLM *multi, CURLcode cc, uint64_t now_ms);
/* Periodic duties: due restarts, unpausing. */
int cli_source_tick(struct cli_source *s, CURLM *multi, uint64_t now_ms);

/* 1: s->head holds the next matching record; 0: the stream is over;
 * -EAGAIN: more bytes needed; -EIO: failed (s->err says why). */
int cli_source_next(struct cli_source *s);

/* In follow mode: caught up with the log (no bytes for linger_ms and none
 * pending), so the merge need not wait for this partition. */
bool cli_source_idle(const struct cli_source *s, uint64_t now_ms, uint64_t linger_ms);

#endif
