/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Record counts per interval: GET /v1/topics/{t}/stats (`sluice stats`).
 *
 *   from_time=T (required), to_time=T (default now), by=MS (default 60000),
 *   grep=RE [icase=1], group_by=partition|source|header:NAME, partition=N
 *
 * The range is aligned to whole intervals (from down, to up, on multiples
 * of by since the epoch) and records are counted by their timestamp
 * (untimed records are not counted).  Without grep, grouped by nothing or
 * by partition and with by a whole number of minutes, sealed segments are
 * answered from their block index alone (its per-minute counts); the
 * active segment and unindexed ones are scanned.  With grep, blocks the
 * index rules out (time or gram filter) are skipped and the rest scanned
 * with PCRE2; by source (record key) or header value, indexed blocks are
 * scanned too.  The answer says how much came from where.
 */
#include <inttypes.h>
#include <string.h>

#include "lib/batch.h"
#include "lib/clock.h"
#include "lib/codec.h"
#include "lib/err.h"
#include "lib/fs.h"
#include "lib/json.h"
#include "lib/mem.h"
#include "lib/recmatch.h"
#include "store/engine/blockindex.h"
#include "store/http/http_param.h"
#include "store/http/http_priv.h"

#define STATS_MAX_BUCKETS 20000
#define STATS_MAX_GROUPS 64
#define STATS_NAME_MAX 128
#define READ_BYTES (1u << 20)

enum group_by { GROUP_NONE, GROUP_PARTITION, GROUP_SOURCE, GROUP_HEADER };

struct stats {
	struct http_api *api;
	const char *topic;
	int32_t partition;
	int64_t from, to, by;
	size_t nb;
	enum group_by gb;
	char header[STATS_NAME_MAX];
	struct recmatch m; /* grep= (lib/recmatch.h, as the CLI and the replay match) */
	struct bidx_query q;
	bool counted; /* grep is the index's counted pattern */
	uint32_t count_id;
	char *names[STATS_MAX_GROUPS + 1]; /* the last: "(other)" */
	uint64_t *counts[STATS_MAX_GROUPS + 1];
	size_t ngroups;
	uint64_t from_index, scanned;
	struct codec_ctx *cc;
	struct buf batch;
	struct batch_iter it;
	bool iter_inited;
};

static int group_of(struct stats *s, const void *name, size_t n)
{
	size_t i;

	if (n > STATS_NAME_MAX)
		n = STATS_NAME_MAX;
	for (i = 0; i < s->ngroups; i++)
		if (strlen(s->names[i]) == n && memcmp(s->names[i], name, n) == 0)
			return (int)i;
	if (s->ngroups == STATS_MAX_GROUPS) {
		if (!s->names[STATS_MAX_GROUPS])
			s->names[STATS_MAX_GROUPS] = mem_strdup("(other)");
		i = STATS_MAX_GROUPS;
	} else {
		s->names[i] = mem_strndup(name, n);
		s->ngroups++;
	}
	if (!s->names[i])
		return -ENOMEM;
	if (!s->counts[i])
		s->counts[i] = mem_calloc(s->nb, sizeof(uint64_t));
	return s->counts[i] ? (int)i : -ENOMEM;
}

static void count(struct stats *s, int g, int64_t ts, uint64_t n)
{
	if (ts < s->from || ts >= s->to)
		return;
	s->counts[g][(ts - s->from) / s->by] += n;
}

static int record_group(struct stats *s, const struct record *r)
{
	char pn[16];
	int n;

	switch (s->gb) {
	case GROUP_PARTITION:
		n = snprintf(pn, sizeof(pn), "%" PRId32, s->partition);
		return group_of(s, pn, (size_t)n);
	case GROUP_SOURCE:
		return r->key_len < 0 ? group_of(s, "(none)", 6)
				      : group_of(s, r->key, (size_t)r->key_len);
	case GROUP_HEADER: {
		struct record_header_iter it;
		struct record_header h;
		size_t kl = strlen(s->header);

		record_header_iter_init(&it, r);
		while (record_header_iter_next(&it, &h) == 1)
			if ((size_t)h.key_len == kl && memcmp(h.key, s->header, kl) == 0 &&
			    h.value_len >= 0)
				return group_of(s, h.value, (size_t)h.value_len);
		return group_of(s, "(none)", 6);
	}
	default:
		return group_of(s, "all", 3);
	}
}

static int count_batch(struct stats *s, int64_t from, int64_t to)
{
	struct record r;
	int rc;

	while ((rc = batch_iter_next(&s->it, &r)) == 1) {
		int g;

		if (r.offset < from || r.offset >= to || r.timestamp < s->from ||
		    r.timestamp >= s->to)
			continue;
		if (!recmatch_value(&s->m, &r))
			continue;
		g = record_group(s, &r);
		if (g < 0)
			return g;
		count(s, g, r.timestamp, 1);
	}
	return rc;
}

/* The whole batch at byte at of the slice into b. */
static int read_batch(const struct engine_slice *sl, size_t at, struct buf *b,
		      struct batch_info *bi)
{
	uint8_t hdr[BATCH_HEADER_SIZE];
	ssize_t got;
	int rc;

	if (sl->len - at < sizeof(hdr))
		return -ERR_CORRUPT;
	got = fs_pread_full(sl->fd, hdr, sizeof(hdr), sl->pos + (off_t)at);
	if (got != (ssize_t)sizeof(hdr))
		return got < 0 ? (int)got : -ERR_CORRUPT;
	rc = batch_header_parse(hdr, sizeof(hdr), bi);
	if (rc < 0)
		return rc;
	if (bi->size > sl->len - at)
		return -ERR_CORRUPT;
	buf_reset(b);
	rc = buf_reserve(b, bi->size);
	if (rc < 0)
		return rc;
	got = fs_pread_full(sl->fd, b->data, bi->size, sl->pos + (off_t)at);
	if (got != (ssize_t)bi->size)
		return got < 0 ? (int)got : -ERR_CORRUPT;
	b->len = bi->size;
	return 0;
}

/* Count the records of offsets [from, to) by reading them. */
static int scan(struct stats *s, int64_t from, int64_t to)
{
	int64_t off = from;
	int rc = 0;

	while (off < to && rc == 0) {
		struct engine_slice sl;
		size_t at = 0;

		rc = engine_read(s->api->log, s->topic, s->partition, off, READ_BYTES, &sl);
		if (rc < 0 || sl.len == 0) {
			if (rc == 0)
				engine_slice_release(&sl);
			break;
		}
		while (at < sl.len && rc == 0) {
			struct batch_info bi;

			rc = read_batch(&sl, at, &s->batch, &bi);
			if (rc < 0)
				break;
			at += bi.size;
			off = batch_last_offset(&bi) + 1;
			if (bi.max_ts < s->from || batch_last_offset(&bi) < from ||
			    bi.base_offset >= to || (bi.attributes & BATCH_ATTR_CONTROL))
				continue;
			s->scanned += bi.size;
			rc = s->iter_inited ? batch_iter_reuse(&s->it, s->batch.data, bi.size,
							       s->cc, 256u << 20, false)
					    : batch_iter_init(&s->it, s->batch.data, bi.size, s->cc,
							      256u << 20, false);
			s->iter_inited = true;
			if (rc == 0)
				rc = count_batch(s, from, to);
			if (off >= to)
				break;
		}
		engine_slice_release(&sl);
	}
	return rc;
}

static bool index_only(const struct stats *s, const struct bidx_block *b)
{
	return (!s->m.re || (s->counted && b->count_id == s->count_id)) &&
	       (s->gb == GROUP_NONE || s->gb == GROUP_PARTITION) && s->by % 60000 == 0;
}

static int from_index(struct stats *s, const struct bidx_block *b)
{
	struct record fake;
	int g;

	memset(&fake, 0, sizeof(fake));
	g = record_group(s, &fake);
	if (g < 0)
		return g;
	const uint8_t *h = s->m.re ? b->match : b->hist;
	uint32_t nh = s->m.re ? b->nmatch : b->nhist;

	for (uint32_t i = 0; i < nh; i++) {
		const uint8_t *e = h + (size_t)i * 12;
		int64_t ts = (int64_t)get_be64(e) * 60000;
		uint32_t n = get_be32(e + 8);

		count(s, g, ts, n);
		if (ts >= s->from && ts < s->to)
			s->from_index += n;
	}
	return 0;
}

static int walk_cb(void *arg, int64_t from, int64_t to, const struct bidx *x)
{
	struct stats *s = arg;
	int rc = 0;

	if (!x)
		return scan(s, from, to);
	for (uint32_t i = 0; i < x->nblocks && rc == 0; i++) {
		struct bidx_block b;

		bidx_get(x, i, &b);
		if (b.min_ts < 0 || b.max_ts < s->from || b.min_ts >= s->to)
			continue; /* no record of the block is counted */
		if (index_only(s, &b))
			rc = from_index(s, &b);
		else if (bidx_block_may_match(&b, &s->q))
			rc = scan(s, b.first_offset, b.next_offset < to ? b.next_offset : to);
	}
	if (rc == 0 && x->next_offset < to)
		rc = scan(s, x->next_offset, to);
	return rc;
}

static void stats_release(struct stats *s)
{
	for (size_t i = 0; i <= STATS_MAX_GROUPS; i++) {
		mem_free(s->names[i]);
		mem_free(s->counts[i]);
	}
	recmatch_release(&s->m);
	bidx_query_release(&s->q);
	if (s->iter_inited)
		batch_iter_release(&s->it);
	codec_ctx_free(s->cc);
	buf_release(&s->batch);
}

static int render(struct stats *s, struct buf *b)
{
	const char *gb = s->gb == GROUP_PARTITION ? "partition"
			 : s->gb == GROUP_SOURCE  ? "source"
			 : s->gb == GROUP_HEADER  ? "header"
						  : "none";
	uint64_t total = 0;
	int rc;

	rc = buf_printf(b, "{\"topic\":");
	rc = rc < 0 ? rc : json_cstr(b, s->topic);
	rc = rc < 0 ? rc
		    : buf_printf(b,
				 ",\"from\":%" PRId64 ",\"to\":%" PRId64 ",\"by\":%" PRId64
				 ",\"group_by\":\"%s\",\"groups\":[",
				 s->from, s->to, s->by, gb);
	for (size_t i = 0; i <= STATS_MAX_GROUPS && rc >= 0; i++) {
		uint64_t gt = 0;

		if (!s->names[i])
			continue;
		rc = buf_printf(b, "%s{\"name\":", total || i ? "," : "");
		rc = rc < 0 ? rc : json_cstr(b, s->names[i]);
		rc = rc < 0 ? rc : buf_append_str(b, ",\"counts\":[");
		for (size_t k = 0; k < s->nb && rc >= 0; k++) {
			rc = buf_printf(b, "%s%" PRIu64, k ? "," : "", s->counts[i][k]);
			gt += s->counts[i][k];
		}
		rc = rc < 0 ? rc : buf_printf(b, "],\"total\":%" PRIu64 "}", gt);
		total += gt;
	}
	rc = rc < 0 ? rc
		    : buf_printf(b,
				 "],\"total\":%" PRIu64 ",\"from_index\":%" PRIu64
				 ",\"scanned_bytes\":%" PRIu64 "}",
				 total, s->from_index, s->scanned);
	return rc < 0 ? rc : 0;
}

static int parse_group_by(struct stats *s, const char *v)
{
	if (!v || strcmp(v, "none") == 0)
		s->gb = GROUP_NONE;
	else if (strcmp(v, "partition") == 0)
		s->gb = GROUP_PARTITION;
	else if (strcmp(v, "source") == 0)
		s->gb = GROUP_SOURCE;
	else if (strncmp(v, "header:", 7) == 0 && v[7] && strlen(v + 7) < sizeof(s->header)) {
		s->gb = GROUP_HEADER;
		memcpy(s->header, v + 7, strlen(v + 7) + 1);
	} else
		return -ERR_INVALID;
	return 0;
}

static int compile(struct stats *s, const char *grep, bool icase, char *err, size_t cap)
{
	int rc = recmatch_grep(&s->m, grep, icase, err, cap);

	if (rc < 0)
		return rc;
	return bidx_query_from_regex(&s->q, grep, icase);
}

/* Parse the query into s.  0, or -ERR_INVALID with the message in err. */
static int stats_params(struct http_api_req *req, struct stats *s, char *err, size_t cap)
{
	const char *a_from = http_api_arg(req, "from_time"), *a_to = http_api_arg(req, "to_time");
	const char *a_by = http_api_arg(req, "by"), *a_grep = http_api_arg(req, "grep");
	const char *a_ic = http_api_arg(req, "icase"), *a_p = http_api_arg(req, "partition");
	int64_t from, to = clock_wall_ms(), p;

	if (!a_from || http_param_time(a_from, &from) < 0 || from < 0) {
		snprintf(err, cap, "from_time must be RFC 3339 or ms since the epoch");
		return -ERR_INVALID;
	}
	if (a_to && (http_param_time(a_to, &to) < 0 || to == INT64_MAX || to < from)) {
		snprintf(err, cap, "to_time must be a time after from_time");
		return -ERR_INVALID;
	}
	if (a_by && http_param_i64(a_by, 1000, 366LL * 86400000, &s->by) < 0) {
		snprintf(err, cap, "by must be milliseconds between 1000 and a year");
		return -ERR_INVALID;
	}
	s->from = from / s->by * s->by;
	s->to = (to / s->by + 1) * s->by;
	s->nb = (size_t)((s->to - s->from) / s->by);
	if (s->nb > STATS_MAX_BUCKETS) {
		snprintf(err, cap, "at most %d intervals: use a larger by", STATS_MAX_BUCKETS);
		return -ERR_INVALID;
	}
	if (parse_group_by(s, http_api_arg(req, "group_by")) < 0) {
		snprintf(err, cap, "group_by must be none, partition, source or header:NAME");
		return -ERR_INVALID;
	}
	s->partition = -1;
	if (a_p) {
		if (http_param_i64(a_p, 0, INT32_MAX, &p) < 0) {
			snprintf(err, cap, "partition must be a non-negative integer");
			return -ERR_INVALID;
		}
		s->partition = (int32_t)p;
	}
	if (a_grep) {
		bool icase = a_ic && (strcmp(a_ic, "1") == 0 || strcmp(a_ic, "true") == 0);
		const char *counted = engine_block_index_count(req->api->log, &s->count_id);

		/* the index counted this very pattern: "(?i)error" is also
		 * grep=error&icase=1 */
		s->counted = counted && (icase ? strncmp(counted, "(?i)", 4) == 0 &&
							 strcmp(counted + 4, a_grep) == 0
					       : strcmp(counted, a_grep) == 0);
		return compile(s, a_grep, icase, err, cap);
	}
	return 0;
}

enum MHD_Result http_stats_topic(struct http_api_req *req)
{
	struct http_api *api = req->api;
	struct stats s;
	struct topic_config tc;
	struct buf body;
	char err[256];
	int32_t p0, p1;
	int rc;

	if (!http_api_allowed(req, HTTP_PERM_CONSUME, req->route.topic))
		return http_api_reply_error(req, MHD_HTTP_FORBIDDEN, "forbidden",
					    "the token may not consume topic '%s'",
					    req->route.topic);
	memset(&s, 0, sizeof(s));
	s.api = api;
	s.topic = req->route.topic;
	s.by = 60000;
	bidx_query_init(&s.q);
	buf_init(&s.batch, BATCH_MAX_SIZE);
	buf_init(&body, 64u << 20);
	s.cc = codec_ctx_new();
	rc = s.cc ? stats_params(req, &s, err, sizeof(err)) : -ENOMEM;
	if (rc == -ERR_INVALID) {
		stats_release(&s);
		return http_api_reply_error(req, MHD_HTTP_BAD_REQUEST, "bad_request", "%s", err);
	}
	if (rc == 0)
		rc = engine_topic_config(api->log, s.topic, &tc);
	if (rc == 0 && s.partition >= tc.partitions)
		rc = -ERR_NOT_FOUND;
	p0 = s.partition >= 0 ? s.partition : 0;
	p1 = s.partition >= 0 ? s.partition + 1 : (rc == 0 ? tc.partitions : 0);
	for (int32_t p = p0; rc == 0 && p < p1; p++) {
		s.partition = p;
		rc = engine_index_walk(api->log, s.topic, p, walk_cb, &s);
	}
	if (rc == 0)
		rc = render(&s, &body);
	stats_release(&s);
	if (rc < 0) {
		buf_release(&body);
		return http_api_reply_log_error(req, rc, req->route.topic);
	}
	return http_api_reply_json(req, MHD_HTTP_OK, &body);
}
