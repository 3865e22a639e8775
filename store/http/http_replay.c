/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Record replay: GET /v1/topics/{t}/partitions/{p}/records, streamed.
 *
 * The response is produced by libmicrohttpd's content-reader callback, a
 * batch at a time, from log slices: memory per stream is one batch (and its
 * decompressed records for NDJSON) plus a small output buffer, however many
 * gigabytes are replayed.  format=raw sends the stored batches' bytes
 * (pread straight into libmicrohttpd's buffer); format=ndjson decodes every
 * codec and writes one lib/recjson.h line per record.
 *
 * Start: offset=N|earliest|latest, or time=T (the first batch whose
 * timestamp is >= T, by the engine's time index; records before T are not
 * sent).  Stop: at the high watermark, after max records, before
 * end_offset, or for to_time=T at the first batch past the time index's
 * answer for T whose first timestamp is after T (records after T are never
 * sent).  wait_ms=N turns the end of the log into a follow: the stream stays
 * open, sending new batches as they become durable, until nothing new came
 * for N ms (capped by http.max_wait).
 *
 * Errors found before the first byte get a normal error status.  Errors in
 * the middle of a stream (retention deleted the next offset, the topic was
 * deleted) end an NDJSON stream with one {"error":...} line and abort a raw
 * stream (the chunked transfer is cut, which clients report as an error).
 * Shutdown cuts every stream that way, so none looks complete when it is
 * not.
 */
#include <inttypes.h>
#include <string.h>

#include "lib/batch.h"
#include "lib/clock.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/json.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "lib/recjson.h"
#include "lib/recmatch.h"
#include "store/engine/blockindex.h"
#include "store/http/http_param.h"
#include "store/http/http_priv.h"

#define READ_BYTES (1u << 20)   /* per engine_read */
#define BLOCK_BYTES (64u << 10) /* libmicrohttpd's chunk size for us */
#define OUT_MAX (16u << 20)     /* NDJSON staging bound (one record always fits) */
#define DECOMPRESS_MIN (64u << 20)

struct replay {
	struct http_api *api;
	char principal[64]; /* charged for the bytes sent (quotas) */
	char topic[TOPIC_NAME_MAX + 1];
	int32_t partition;
	enum http_format fmt;
	int64_t next;  /* where the next engine_read starts */
	int64_t start; /* records below are not sent */
	int64_t from_ts;
	int64_t to_ts;
	int64_t to_ts_offset; /* the time index's answer for to_ts + 1 */
	int64_t end_offset;   /* exclusive */
	int64_t max;
	int64_t emitted;
	int64_t wait_ms;
	uint64_t idle_deadline;
	struct engine_slice slice;
	bool have_slice;
	size_t slice_off;
	off_t raw_pos;
	size_t raw_left;
	struct buf batch;
	struct batch_iter it;
	bool iter_inited; /* it holds its buffer, reused batch after batch */
	bool iter_live;
	struct codec_ctx *cc;
	struct buf out;
	size_t out_off;
	bool done;
	bool failed;
	struct bidx_query *q; /* grep=/source= block prefilter, or NULL */
	struct recmatch m;    /* grep=/source= record filter (NDJSON) */
	struct recjson_cache jc;
};

static void drop_slice(struct replay *st)
{
	if (st->have_slice)
		engine_slice_release(&st->slice);
	st->have_slice = false;
	st->slice_off = 0;
}

static void replay_free(void *cls)
{
	struct replay *st = cls;

	drop_slice(st);
	if (st->iter_inited)
		batch_iter_release(&st->it);
	buf_release(&st->batch);
	buf_release(&st->out);
	codec_ctx_free(st->cc);
	recmatch_release(&st->m);
	recjson_cache_release(&st->jc);
	if (st->q) {
		bidx_query_release(st->q);
		mem_free(st->q);
	}
	mem_free(st);
}

/* Position on the next batch to send: 1 with *bi and *pos, 0 when the
 * stream is over, or a negative error.  Blocks while following. */
static int next_batch(struct replay *st, struct batch_info *bi, off_t *pos)
{
	struct http_api *api = st->api;

	for (;;) {
		uint8_t hdr[BATCH_HEADER_SIZE];
		ssize_t got;
		int rc;

		/* a stream cut by shutdown must not look complete to the client */
		if (atomic_load(&api->stopping))
			return -ECANCELED;
		if (st->emitted >= st->max || st->next >= st->end_offset)
			return 0;
		if (!st->have_slice || st->slice_off >= st->slice.len) {
			uint64_t now;

			drop_slice(st);
			if (st->q) {
				int64_t to = st->next;

				rc = engine_skip(api->log, st->topic, st->partition, st->next,
						 st->q, &to);
				if (rc < 0)
					return rc;
				if (to > st->next) {
					st->next = to;
					continue;
				}
			}
			rc = engine_read(api->log, st->topic, st->partition, st->next, READ_BYTES,
					 &st->slice);
			if (rc < 0)
				return rc;
			st->have_slice = true;
			if (st->slice.len > 0)
				continue;
			drop_slice(st);
			now = clock_mono_ms();
			if (st->wait_ms <= 0 || now >= st->idle_deadline)
				return 0;
			rc = http_api_wait_visible(api, st->topic, st->partition, st->next,
						   (int)(st->idle_deadline - now));
			if (rc == -ETIMEDOUT)
				return 0;
			if (rc < 0)
				return rc;
			continue;
		}
		got = fs_pread_full(st->slice.fd, hdr, sizeof(hdr),
				    st->slice.pos + (off_t)st->slice_off);
		if (got < 0)
			return (int)got;
		if (got != (ssize_t)sizeof(hdr))
			return -ERR_CORRUPT;
		rc = batch_header_parse(hdr, sizeof(hdr), bi);
		if (rc < 0)
			return rc;
		if (bi->size > st->slice.len - st->slice_off)
			return -ERR_CORRUPT;
		*pos = st->slice.pos + (off_t)st->slice_off;
		st->slice_off += bi->size;
		if (batch_last_offset(bi) < st->next)
			continue; /* wholly before the start */
		st->next = batch_last_offset(bi) + 1;
		if (bi->base_offset >= st->to_ts_offset && bi->first_ts > st->to_ts)
			return 0;
		if (bi->max_ts < st->from_ts)
			continue;
		if (st->fmt == HTTP_FORMAT_NDJSON && (bi->attributes & BATCH_ATTR_CONTROL))
			continue;
		st->idle_deadline = clock_mono_ms() + (uint64_t)st->wait_ms;
		return 1;
	}
}

static int load_batch(struct replay *st, const struct batch_info *bi, off_t pos)
{
	size_t dmax = (size_t)bi->size * 32;
	ssize_t got;
	int rc;

	buf_reset(&st->batch);
	rc = buf_reserve(&st->batch, bi->size);
	if (rc < 0)
		return rc;
	got = fs_pread_full(st->slice.fd, st->batch.data, bi->size, pos);
	if (got < 0)
		return (int)got;
	if ((size_t)got != bi->size)
		return -ERR_CORRUPT;
	st->batch.len = bi->size;
	if (!st->cc) {
		st->cc = codec_ctx_new();
		if (!st->cc)
			return -ENOMEM;
	}
	if (dmax < DECOMPRESS_MIN)
		dmax = DECOMPRESS_MIN;
	if (dmax > BATCH_MAX_SIZE * 4ull)
		dmax = BATCH_MAX_SIZE * 4ull;
	/* one decompression buffer for the whole stream */
	rc = st->iter_inited
		     ? batch_iter_reuse(&st->it, st->batch.data, st->batch.len, st->cc, dmax, true)
		     : batch_iter_init(&st->it, st->batch.data, st->batch.len, st->cc, dmax, true);
	st->iter_inited = true;
	st->iter_live = true;
	return rc;
}

/* Format records of the live batch until want bytes are staged. */
static int ndjson_fill(struct replay *st, size_t want)
{
	struct record r;
	int rc;

	while (st->out.len < want) {
		rc = batch_iter_next(&st->it, &r);
		if (rc <= 0) {
			st->iter_live = false;
			return rc;
		}
		if (r.offset >= st->end_offset) {
			st->iter_live = false;
			st->done = true;
			return 0;
		}
		if (r.offset < st->start || r.timestamp < st->from_ts || r.timestamp > st->to_ts)
			continue;
		if (!recmatch_record(&st->m, &r))
			continue;
		rc = recjson_format_cached(&st->out, NULL, st->partition, &r, &st->jc);
		if (rc < 0)
			return rc;
		st->emitted++;
		atomic_fetch_add(&st->api->replay_records, 1);
		if (st->emitted >= st->max) {
			st->iter_live = false;
			st->done = true;
			return 0;
		}
	}
	return 0;
}

static void stream_error(struct replay *st, int rc)
{
	const char *code, *msg;
	unsigned status;

	st->done = true;
	if (st->iter_live) {
		st->iter_live = false;
	}
	http_api_map_error(rc, &status, &code, &msg);
	if (rc == -ERR_NOT_FOUND)
		msg = "the topic was deleted";
	if (rc != -ECANCELED)
		log_warn("http: replay of %s/%d stopped at offset %" PRId64 ": %s", st->topic,
			 (int)st->partition, st->next, err_str(rc));
	if (st->fmt == HTTP_FORMAT_RAW || rc == -ECANCELED) {
		/* cut the chunked transfer: the client sees an incomplete response */
		st->failed = true;
		return;
	}
	st->out.len = st->out_off = 0;
	if (buf_append_str(&st->out, "{\"error\":") < 0 || json_cstr(&st->out, code) < 0 ||
	    buf_append_str(&st->out, ",\"message\":") < 0 || json_cstr(&st->out, msg) < 0 ||
	    buf_printf(&st->out, ",\"offset\":%" PRId64 "}\n", st->next) < 0)
		st->failed = true;
}

static ssize_t replay_read(void *cls, uint64_t ignored, char *dst, size_t max)
{
	struct replay *st = cls;

	(void)ignored;
	for (;;) {
		struct batch_info bi;
		off_t pos = 0;
		int rc;

		if (st->out_off < st->out.len) {
			size_t n = st->out.len - st->out_off;

			if (n > max)
				n = max;
			memcpy(dst, st->out.data + st->out_off, n);
			st->out_off += n;
			if (st->out_off == st->out.len)
				st->out.len = st->out_off = 0;
			atomic_fetch_add(&st->api->replay_bytes, n);
			quota_charge(atomic_load(&st->api->quota), st->principal, QUOTA_FETCH, n);
			return (ssize_t)n;
		}
		if (st->raw_left > 0) {
			size_t n = st->raw_left < max ? st->raw_left : max;
			ssize_t got = fs_pread_full(st->slice.fd, dst, n, st->raw_pos);

			if (got <= 0) {
				stream_error(st, got < 0 ? (int)got : -ERR_CORRUPT);
				st->raw_left = 0;
				continue;
			}
			st->raw_pos += got;
			st->raw_left -= (size_t)got;
			atomic_fetch_add(&st->api->replay_bytes, (uint64_t)got);
			quota_charge(atomic_load(&st->api->quota), st->principal, QUOTA_FETCH,
				     (uint64_t)got);
			return got;
		}
		if (st->iter_live) {
			rc = ndjson_fill(st, max);
			if (rc < 0)
				stream_error(st, rc);
			continue;
		}
		if (st->done)
			return st->failed ? MHD_CONTENT_READER_END_WITH_ERROR
					  : MHD_CONTENT_READER_END_OF_STREAM;
		rc = next_batch(st, &bi, &pos);
		if (rc == 0) {
			st->done = true;
			continue;
		}
		if (rc < 0) {
			stream_error(st, rc);
			continue;
		}
		if (st->fmt == HTTP_FORMAT_RAW) {
			int64_t n = bi.last_offset_delta + 1;

			st->raw_pos = pos;
			st->raw_left = bi.size;
			st->emitted += n;
			atomic_fetch_add(&st->api->replay_records, (uint64_t)n);
			continue;
		}
		rc = load_batch(st, &bi, pos);
		if (rc < 0)
			stream_error(st, rc);
	}
}

/* ---------------------------------------------------------------- request */

static enum MHD_Result bad_param(struct http_api_req *req, const char *name, const char *want)
{
	return http_api_reply_error(req, MHD_HTTP_BAD_REQUEST, "bad_request", "%s must be %s", name,
				    want);
}

/* grep=RE [icase=1] and source=GLOB.  Both formats skip the blocks of the
 * block index that cannot hold a match.  format=raw sends every batch that
 * might, whole, so the client's record filter gives exactly the answer of a
 * full scan; format=ndjson filters the records here (lib/recmatch.h, the
 * CLI's own match) and sends only those that match.  0; -ERR_INVALID with
 * the reason in why (a pattern that does not compile); -ENOMEM. */
static int replay_prefilter(struct http_api_req *req, struct replay *st, char *why, size_t cap)
{
	const char *grep = http_api_arg(req, "grep"), *src = http_api_arg(req, "source");
	const char *ic = http_api_arg(req, "icase");
	bool icase = ic && (strcmp(ic, "1") == 0 || strcmp(ic, "true") == 0);
	int rc = 0;

	if (!grep && !src)
		return 0;
	if (st->fmt == HTTP_FORMAT_NDJSON) {
		if (grep)
			rc = recmatch_grep(&st->m, grep, icase, why, cap);
		if (rc == 0 && src)
			rc = recmatch_source(&st->m, src);
		if (rc < 0)
			return rc;
	}
	st->q = mem_calloc(1, sizeof(*st->q));
	if (!st->q)
		return -ENOMEM;
	bidx_query_init(st->q);
	if (grep)
		rc = bidx_query_from_regex(st->q, grep, icase);
	if (rc == 0 && src) {
		st->q->source = mem_strdup(src);
		if (!st->q->source)
			rc = -ENOMEM;
	}
	if (rc == 0 && !bidx_query_useful(st->q)) {
		bidx_query_release(st->q); /* nothing to skip by: a plain replay */
		mem_free(st->q);
		st->q = NULL;
	}
	return rc;
}

/* The query parameters into st and *off; *by_time and *to_time tell whether
 * time and to_time were given.  NULL, or the first bad parameter's name with
 * what it must be in *want. */
static const char *replay_params(struct http_api_req *req, struct replay *st, int64_t *off,
				 bool *by_time, bool *to_time, const char **want)
{
	const char *a_off = http_api_arg(req, "offset"), *a_time = http_api_arg(req, "time");
	const char *a_to = http_api_arg(req, "to_time"), *a_end = http_api_arg(req, "end_offset");
	const char *a_max = http_api_arg(req, "max"), *a_wait = http_api_arg(req, "wait_ms");
	const char *a_fmt = http_api_arg(req, "format");

	*by_time = a_time != NULL;
	*to_time = a_to != NULL;
	if (a_fmt && http_param_format(a_fmt, &st->fmt) < 0) {
		*want = "ndjson or raw";
		return "format";
	}
	if (a_off && a_time) {
		*want = "used one at a time";
		return "offset and time";
	}
	if (a_off && http_param_offset(a_off, off) < 0) {
		*want = "a non-negative integer, earliest or latest";
		return "offset";
	}
	if (a_time && http_param_time(a_time, &st->from_ts) < 0) {
		*want = "RFC 3339 or milliseconds since the epoch";
		return "time";
	}
	if (a_to && (http_param_time(a_to, &st->to_ts) < 0 || st->to_ts == INT64_MAX)) {
		*want = "RFC 3339 or milliseconds since the epoch";
		return "to_time";
	}
	if (a_end && http_param_i64(a_end, 0, INT64_MAX, &st->end_offset) < 0) {
		*want = "a non-negative integer";
		return "end_offset";
	}
	if (a_max && http_param_i64(a_max, 1, INT64_MAX, &st->max) < 0) {
		*want = "a positive integer";
		return "max";
	}
	if (a_wait && http_param_i64(a_wait, 0, INT64_MAX, &st->wait_ms) < 0) {
		*want = "a non-negative integer";
		return "wait_ms";
	}
	return NULL;
}

/* The streaming answer from offset off; takes ownership of st. */
static enum MHD_Result replay_respond(struct http_api_req *req, struct replay *st, int64_t off,
				      const struct engine_partition_info *pi)
{
	struct MHD_Response *resp;
	char hv[32];

	st->next = st->start = off;
	st->idle_deadline = clock_mono_ms() + (uint64_t)st->wait_ms;
	resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, BLOCK_BYTES, replay_read, st,
						 replay_free);
	if (!resp) {
		replay_free(st);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
				st->fmt == HTTP_FORMAT_RAW ? "application/vnd.kafka.recordbatch.v2"
							   : "application/x-ndjson");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	snprintf(hv, sizeof(hv), "%" PRId64, off);
	MHD_add_response_header(resp, "X-Sluice-Start-Offset", hv);
	snprintf(hv, sizeof(hv), "%" PRId64, pi->log_start);
	MHD_add_response_header(resp, "X-Sluice-Log-Start", hv);
	snprintf(hv, sizeof(hv), "%" PRId64, pi->visible);
	MHD_add_response_header(resp, "X-Sluice-High-Watermark", hv);
	return http_api_reply_response(req, MHD_HTTP_OK, resp);
}

enum MHD_Result http_replay_records(struct http_api_req *req)
{
	struct http_api *api = req->api;
	const char *topic = req->route.topic;
	int32_t p = req->route.partition;
	struct topic_config tc;
	struct engine_partition_info pi;
	struct replay *st;
	const char *bad, *want = NULL;
	char why[300];
	bool by_time, to_time;
	int64_t off = HTTP_PARAM_EARLIEST;
	int rc;

	if (!http_api_allowed(req, HTTP_PERM_CONSUME, topic))
		return http_api_reply_error(req, MHD_HTTP_FORBIDDEN, "forbidden",
					    "the token may not consume topic '%s'", topic);
	st = mem_calloc(1, sizeof(*st));
	if (!st)
		return http_api_reply_log_error(req, -ENOMEM, "replay");
	st->api = api;
	memcpy(st->principal, req->quota_key, sizeof(st->principal));
	memcpy(st->topic, topic, strlen(topic) + 1);
	st->partition = p;
	st->from_ts = INT64_MIN;
	st->to_ts = INT64_MAX;
	st->to_ts_offset = INT64_MAX;
	st->end_offset = INT64_MAX;
	st->max = INT64_MAX;
	recmatch_init(&st->m);
	recjson_cache_init(&st->jc);
	buf_init(&st->batch, BATCH_MAX_SIZE);
	buf_init(&st->out, OUT_MAX);
	bad = replay_params(req, st, &off, &by_time, &to_time, &want);
	if (bad) {
		replay_free(st);
		return bad_param(req, bad, want);
	}
	why[0] = '\0';
	rc = replay_prefilter(req, st, why, sizeof(why));
	if (rc < 0) {
		replay_free(st);
		if (rc == -ERR_INVALID && why[0])
			return http_api_reply_error(req, MHD_HTTP_BAD_REQUEST, "bad_request",
						    "grep: %s", why);
		return http_api_reply_log_error(req, rc, "replay filter");
	}
	if (st->wait_ms > api->conf->http.max_wait_ms)
		st->wait_ms = api->conf->http.max_wait_ms;
	rc = engine_topic_config(api->log, topic, &tc);
	if (rc < 0) {
		replay_free(st);
		return http_api_reply_log_error(req, rc, topic);
	}
	if (p >= tc.partitions) {
		replay_free(st);
		return http_api_reply_error(req, MHD_HTTP_NOT_FOUND, "unknown_partition",
					    "topic '%s' has %d partitions", topic,
					    (int)tc.partitions);
	}
	rc = engine_partition_info(api->log, topic, p, &pi);
	if (rc == 0 && by_time)
		rc = engine_offset_for_time(api->log, topic, p, st->from_ts, &off);
	if (rc == 0 && to_time)
		rc = engine_offset_for_time(api->log, topic, p,
					    st->to_ts < INT64_MAX - 1 ? st->to_ts + 1 : st->to_ts,
					    &st->to_ts_offset);
	if (rc < 0) {
		replay_free(st);
		return http_api_reply_log_error(req, rc, topic);
	}
	if (off == HTTP_PARAM_EARLIEST)
		off = pi.log_start;
	else if (off == HTTP_PARAM_LATEST)
		off = pi.visible;
	if (off < pi.log_start || off > pi.end) {
		char extra[96];

		replay_free(st);
		snprintf(extra, sizeof(extra), "\"log_start\":%" PRId64 ",\"end\":%" PRId64,
			 pi.log_start, pi.end);
		return http_api_reply_error_x(
			req, MHD_HTTP_RANGE_NOT_SATISFIABLE, "offset_out_of_range", extra,
			"offset %" PRId64 " is outside [%" PRId64 ", %" PRId64 "]", off,
			pi.log_start, pi.end);
	}
	return replay_respond(req, st, off, &pi);
}
