/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One partition's record stream (see cli_source.h).
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "cli/cli_source.h"
#include "lib/clock.h"
#include "lib/err.h"
#include "lib/mem.h"

#define RX_PAUSE_BYTES (16u << 20)
#define RX_RESUME_BYTES (4u << 20)
#define RX_MAX_BYTES (BATCH_MAX_SIZE + (64u << 20))
#define ERRBODY_MAX (64u << 10)
#define FOLLOW_WAIT_MS 30000
#define MAX_RETRIES 5
#define DECOMPRESS_MIN (64u << 20)

static void fail(struct cli_source *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void fail(struct cli_source *s, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (s->failed)
		return;
	s->failed = true;
	n = snprintf(s->err, sizeof(s->err), "%s/%" PRId32 ": ", s->topic, s->partition);
	va_start(ap, fmt);
	vsnprintf(s->err + n, sizeof(s->err) - (size_t)n, fmt, ap);
	va_end(ap);
}

int cli_source_init(struct cli_source *s, struct cli_http *http, struct cli_filter *filter,
		    const char *topic, int32_t partition, int64_t first, bool by_time,
		    int64_t from_ts, int64_t to_ts, bool follow)
{
	memset(s, 0, sizeof(*s));
	if (strlen(topic) > CLI_TOPIC_MAX)
		return -ERR_INVALID;
	s->http = http;
	s->filter = filter && cli_filter_active(filter) ? filter : NULL;
	snprintf(s->topic, sizeof(s->topic), "%s", topic);
	s->partition = partition;
	s->first = first;
	s->by_time = by_time;
	s->from_ts = from_ts;
	s->to_ts = to_ts;
	s->follow = follow;
	s->next = -1;
	s->hdr_start = -1;
	s->start = first >= 0 ? first : -1;
	s->frontier = INT64_MIN;
	buf_init(&s->rx, RX_MAX_BYTES);
	buf_init(&s->errbody, ERRBODY_MAX);
	buf_init(&s->cur, BATCH_MAX_SIZE);
	s->cc = codec_ctx_new();
	return s->cc ? 0 : -ENOMEM;
}

static void stop_transfer(struct cli_source *s, CURLM *multi)
{
	if (!s->easy)
		return;
	if (s->running)
		curl_multi_remove_handle(multi, s->easy);
	curl_easy_cleanup(s->easy);
	s->easy = NULL;
	s->running = false;
	s->paused = false;
}

void cli_source_release(struct cli_source *s, CURLM *multi)
{
	stop_transfer(s, multi);
	if (s->iter_inited)
		batch_iter_release(&s->it);
	s->iter_inited = false;
	s->iter_live = false;
	buf_release(&s->rx);
	buf_release(&s->errbody);
	buf_release(&s->cur);
	codec_ctx_free(s->cc);
	s->cc = NULL;
}

static size_t on_data(char *p, size_t size, size_t nmemb, void *arg)
{
	struct cli_source *s = arg;
	size_t n = size * nmemb;

	if (s->status == 0)
		curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &s->status);
	if (s->status != 200) {
		/* keep the start of an error body for the message */
		size_t room = s->errbody.max - s->errbody.len;

		SLUICE_IGNORE(buf_append(&s->errbody, p, n < room ? n : room));
		return n;
	}
	if (s->rx.len - s->rx_off >= RX_PAUSE_BYTES) {
		s->paused = true;
		return CURL_WRITEFUNC_PAUSE;
	}
	if (s->rx_off > 0 && s->rx_off == s->rx.len) {
		buf_reset(&s->rx);
		s->rx_off = 0;
	} else if (s->rx_off >= (4u << 20)) {
		buf_consume(&s->rx, s->rx_off);
		s->rx_off = 0;
	}
	if (buf_append(&s->rx, p, n) < 0)
		return 0;
	s->bytes_in += n;
	s->last_rx_ms = clock_mono_ms();
	return n;
}

/* X-Sluice-Start-Offset: where the store resolved "latest" or a time to. */
static size_t on_header(char *p, size_t size, size_t nmemb, void *arg)
{
	static const char name[] = "x-sluice-start-offset:";
	struct cli_source *s = arg;
	size_t n = size * nmemb;

	if (n > sizeof(name) - 1 && strncasecmp(p, name, sizeof(name) - 1) == 0) {
		int64_t v = 0;
		size_t i = sizeof(name) - 1;
		bool any = false;

		while (i < n && p[i] == ' ')
			i++;
		for (; i < n && p[i] >= '0' && p[i] <= '9' && v < INT64_MAX / 10 - 10; i++) {
			v = v * 10 + (p[i] - '0');
			any = true;
		}
		if (any)
			s->hdr_start = v;
	}
	return n;
}

int cli_source_start(struct cli_source *s, CURLM *multi)
{
	char path[8192];
	int n;

	stop_transfer(s, multi);
	n = snprintf(path, sizeof(path), "/v1/topics/%s/partitions/%" PRId32 "/records?format=raw",
		     s->topic, s->partition);
	if (s->next >= 0)
		n += snprintf(path + n, sizeof(path) - (size_t)n, "&offset=%" PRId64, s->next);
	else if (s->by_time)
		n += snprintf(path + n, sizeof(path) - (size_t)n, "&time=%" PRId64, s->from_ts);
	else if (s->first >= 0)
		n += snprintf(path + n, sizeof(path) - (size_t)n, "&offset=%" PRId64, s->first);
	else
		n += snprintf(path + n, sizeof(path) - (size_t)n, "&offset=%s",
			      s->first == CLI_START_LATEST ? "latest" : "earliest");
	if (s->to_ts != INT64_MAX)
		n += snprintf(path + n, sizeof(path) - (size_t)n, "&to_time=%" PRId64, s->to_ts);
	if (s->follow)
		n += snprintf(path + n, sizeof(path) - (size_t)n, "&wait_ms=%d", FOLLOW_WAIT_MS);
	/* the store skips index blocks that cannot match; records are still
	 * filtered here, so the answer is the full scan's */
	if (s->filter && (size_t)n < sizeof(path) &&
	    cli_filter_query(s->filter, path + n, sizeof(path) - (size_t)n) < 0)
		return -ERR_TOO_LARGE;
	s->easy = cli_http_stream(s->http, path, on_data, s);
	if (!s->easy)
		return -ENOMEM;
	curl_easy_setopt(s->easy, CURLOPT_PRIVATE, s);
	curl_easy_setopt(s->easy, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(s->easy, CURLOPT_HEADERDATA, s);
	s->status = 0;
	s->ended = false;
	s->restart_at = 0;
	buf_reset(&s->errbody);
	if (curl_multi_add_handle(multi, s->easy) != CURLM_OK) {
		curl_easy_cleanup(s->easy);
		s->easy = NULL;
		return -ENOMEM;
	}
	s->running = true;
	s->last_rx_ms = clock_mono_ms();
	return 0;
}

/* Drop a partial batch at the end of rx and set next after the last
 * complete one, so a re-request resumes exactly there. */
static void trim_partial(struct cli_source *s)
{
	size_t off = s->rx_off;

	if (s->next < 0 && s->hdr_start >= 0)
		s->next = s->hdr_start; /* nothing came: resume where the store started */

	while (off < s->rx.len) {
		struct batch_info bi;

		if (batch_next(s->rx.data + off, s->rx.len - off, &bi) < 0)
			break;
		if (batch_last_offset(&bi) + 1 > s->next)
			s->next = batch_last_offset(&bi) + 1;
		off += bi.size;
	}
	s->rx.len = off;
}

void cli_source_done(struct cli_source *s, CURLM *multi, CURLcode cc, uint64_t now_ms)
{
	char text[400];
	long status = s->status;

	if (status == 0 && s->easy)
		curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &status);
	stop_transfer(s, multi);
	if (cc == CURLE_OK && status == 200) {
		s->retries = 0;
		s->ended = true;
		if (s->follow) {
			trim_partial(s);
			s->restart_at = now_ms;
		}
		return;
	}
	if (cc == CURLE_OK) {
		cli_http_error_text(status, s->errbody.data, s->errbody.len, text, sizeof(text));
		if (status == 401 || status == 403)
			fail(s, "the store refused the token: %s", text);
		else
			fail(s, "%s", text);
		return;
	}
	if (s->follow || (s->retries < MAX_RETRIES && cc != CURLE_COULDNT_CONNECT &&
			  cc != CURLE_COULDNT_RESOLVE_HOST)) {
		/* cut mid-stream (or the store restarts under a follow): resume
		 * after the last complete batch; a follow never gives up */
		unsigned backoff = s->retries < 6 ? 100u << s->retries : 5000u;

		if (s->follow && s->retries == 3)
			fprintf(stderr, "sluice: %s/%d: lost the store (%s), still trying\n",
				s->topic, (int)s->partition, curl_easy_strerror(cc));
		trim_partial(s);
		s->restart_at = now_ms + (backoff > 5000 ? 5000 : backoff);
		s->retries++;
		return;
	}
	fail(s, "%s%s: %s",
	     cc == CURLE_COULDNT_CONNECT ? "cannot reach the store at " : "transfer from ",
	     s->http->base, curl_easy_strerror(cc));
}

int cli_source_tick(struct cli_source *s, CURLM *multi, uint64_t now_ms)
{
	if (s->failed || s->eof)
		return 0;
	if (s->restart_at && now_ms >= s->restart_at && !s->running)
		return cli_source_start(s, multi);
	if (s->paused && s->running && s->rx.len - s->rx_off < RX_RESUME_BYTES) {
		s->paused = false;
		curl_easy_pause(s->easy, CURLPAUSE_CONT);
	}
	return 0;
}

static int open_batch(struct cli_source *s, const struct batch_info *bi)
{
	size_t dmax = (size_t)bi->size * 32;
	int rc;

	buf_reset(&s->cur);
	rc = buf_append(&s->cur, s->rx.data + s->rx_off, bi->size);
	if (rc < 0)
		return rc;
	if (dmax < DECOMPRESS_MIN)
		dmax = DECOMPRESS_MIN;
	/* one decompression buffer for the whole stream */
	rc = s->iter_inited ? batch_iter_reuse(&s->it, s->cur.data, s->cur.len, s->cc, dmax, true)
			    : batch_iter_init(&s->it, s->cur.data, s->cur.len, s->cc, dmax, true);
	s->iter_inited = true;
	s->iter_live = true;
	if (rc == 0)
		s->decoded_bytes += batch_codec(bi) == CODEC_NONE ? s->cur.len : s->it.scratch.len;
	return rc;
}

int cli_source_next(struct cli_source *s)
{
	if (s->has_head)
		return 1;
	if (s->failed)
		return -EIO;
	if (s->eof)
		return 0;
	for (;;) {
		struct batch_info bi;
		size_t avail;
		int rc;

		if (s->iter_live) {
			struct record r;

			rc = batch_iter_next(&s->it, &r);
			if (rc < 0) {
				fail(s, "corrupt record in the batch at offset %" PRId64,
				     s->it.info.base_offset);
				return -EIO;
			}
			if (rc == 0) {
				s->iter_live = false;
				continue;
			}
			s->records_scanned++;
			if (r.value_len > 0)
				s->value_bytes += (uint64_t)r.value_len;
			if (r.offset < s->start)
				continue;
			if (r.timestamp > s->frontier)
				s->frontier = r.timestamp;
			if (r.timestamp < s->from_ts || r.timestamp > s->to_ts)
				continue;
			if (s->filter && !cli_filter_match(s->filter, &r))
				continue;
			s->head = r;
			s->has_head = true;
			return 1;
		}
		avail = s->rx.len - s->rx_off;
		rc = avail ? batch_next(s->rx.data + s->rx_off, avail, &bi) : -ERR_TRUNCATED;
		if (rc == -ERR_TRUNCATED) {
			if (s->ended && !s->follow) {
				if (avail) {
					fail(s, "the stream ended inside a batch");
					return -EIO;
				}
				s->eof = true;
				return 0;
			}
			return -EAGAIN;
		}
		if (rc < 0) {
			fail(s, "corrupt batch in the stream after offset %" PRId64, s->next);
			return -EIO;
		}
		s->batches++;
		/* monotonic: trim_partial may already have counted this batch */
		if (batch_last_offset(&bi) + 1 > s->next)
			s->next = batch_last_offset(&bi) + 1;
		if ((bi.attributes & BATCH_ATTR_CONTROL) || bi.max_ts < s->from_ts ||
		    batch_last_offset(&bi) < s->start) {
			if (bi.max_ts > s->frontier && !(bi.attributes & BATCH_ATTR_CONTROL))
				s->frontier = bi.max_ts;
			s->rx_off += bi.size;
			continue;
		}
		rc = open_batch(s, &bi);
		s->rx_off += bi.size;
		if (rc < 0) {
			fail(s, "cannot decode the batch at offset %" PRId64 ": %s", bi.base_offset,
			     err_str(rc));
			return -EIO;
		}
	}
}

bool cli_source_idle(const struct cli_source *s, uint64_t now_ms, uint64_t linger_ms)
{
	if (!s->follow || s->has_head || s->iter_live)
		return false;
	if (s->rx.len - s->rx_off >= BATCH_HEADER_SIZE)
		return false; /* something is arriving */
	return now_ms - s->last_rx_ms >= linger_ms;
}
