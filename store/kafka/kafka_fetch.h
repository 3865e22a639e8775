/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fetch (key 1, v4-v16, on the schema framework: kmsg_fetch_*): whole
 * record batches straight from the log's segment files with sendfile() (the
 * encoder's records hook attaches each partition's slice as a file piece;
 * nothing is copied).  v12+ flexible; v13+ names topics by id (the engine's
 * topic ids; an unknown id is UNKNOWN_TOPIC_ID per partition); v15's
 * replica state and v16's node endpoints are tagged fields a consumer does
 * not send / a single broker never needs (no NOT_LEADER answers).
 * Long-poll: when fewer than min_bytes are
 * available the request parks until the log engine reports progress or
 * max_wait passes.  Limits: the response's max_bytes and each partition's
 * max_bytes, except that the first batch of the response is always sent
 * whole (KIP-74), so a consumer can make progress past a large batch.  Each
 * partition is served from one segment per request, like Kafka.  zstd
 * batches go only to Fetch v10+; an older fetcher gets the batches before
 * the first zstd one, or UNSUPPORTED_COMPRESSION_TYPE when that is the
 * first.  No fetch sessions (KIP-227): session_id 0 in every response, and a
 * request naming a session gets FETCH_SESSION_ID_NOT_FOUND.
 * read_committed: the last stable offset and aborted transactions come from
 * fetch_txn_fields() in kafka_fetch.c (no transactions yet: the high
 * watermark and a null list).
 * Event-loop thread only.
 */
#ifndef SLUICE_STORE_KAFKA_FETCH_H
#define SLUICE_STORE_KAFKA_FETCH_H

struct kafka_req;

void kafka_fetch_handle(struct kafka_req *r);

#endif
