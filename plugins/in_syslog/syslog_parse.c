/* SPDX-License-Identifier: Apache-2.0 */
/*
 * RFC 5424 / RFC 3164 message parsing and RFC 6587 TCP framing.  Every read
 * is bounded by the length given; tokens point into the caller's bytes.
 */
#include <string.h>
#include <time.h>

#include "lib/clock.h"
#include "lib/err.h"
#include "plugins/in_syslog/syslog_parse.h"

#define MAX_OCTET_DIGITS 10

struct rd {
	const char *p;
	const char *end;
};

static int take_token(struct rd *r, struct syslog_str *s)
{
	const char *b = r->p;

	while (r->p < r->end && *r->p != ' ')
		r->p++;
	s->p = b;
	s->n = (size_t)(r->p - b);
	if (s->n == 0)
		return -1;
	if (r->p < r->end)
		r->p++; /* the space */
	if (s->n == 1 && *b == '-')
		s->n = 0; /* NILVALUE */
	return 0;
}

static int parse_pri(struct rd *r, struct syslog_msg *m)
{
	int v = 0, digits = 0;

	if (r->p >= r->end || *r->p != '<')
		return -1;
	r->p++;
	while (r->p < r->end && *r->p >= '0' && *r->p <= '9' && digits < 4) {
		v = v * 10 + (*r->p - '0');
		r->p++;
		digits++;
	}
	if (digits == 0 || digits > 3 || r->p >= r->end || *r->p != '>' || v > 191)
		return -1;
	r->p++;
	m->facility = v / 8;
	m->severity = v % 8;
	return 0;
}

static void strip_bom(struct syslog_str *s)
{
	if (s->n >= 3 && (unsigned char)s->p[0] == 0xEF && (unsigned char)s->p[1] == 0xBB &&
	    (unsigned char)s->p[2] == 0xBF) {
		s->p += 3;
		s->n -= 3;
	}
}

/* SD: "-" or one or more [ID PARAM="VALUE" ...] with \" \\ \] escapes. */
static int parse_sd(struct rd *r, struct syslog_msg *m)
{
	const char *b = r->p;

	if (r->p < r->end && *r->p == '-') {
		r->p++;
		m->sd.n = 0;
		goto done;
	}
	if (r->p >= r->end || *r->p != '[')
		return -1;
	while (r->p < r->end && *r->p == '[') {
		int inq = 0;

		r->p++;
		for (;;) {
			if (r->p >= r->end)
				return -1;
			if (inq && *r->p == '\\' && r->p + 1 < r->end) {
				r->p += 2;
				continue;
			}
			if (*r->p == '"')
				inq = !inq;
			else if (!inq && *r->p == ']')
				break;
			r->p++;
		}
		r->p++; /* ']' */
	}
	m->sd.p = b;
	m->sd.n = (size_t)(r->p - b);
done:
	if (r->p < r->end) {
		if (*r->p != ' ')
			return -1;
		r->p++;
	}
	return 0;
}

static int parse_5424(struct rd *r, struct syslog_msg *m, const char **why)
{
	struct syslog_str ts;
	char tbuf[64];

	m->version = 1;
	if (take_token(r, &ts) < 0) {
		*why = "RFC 5424: missing timestamp";
		return -1;
	}
	if (ts.n > 0) {
		if (ts.n >= sizeof(tbuf)) {
			*why = "RFC 5424: bad timestamp";
			return -1;
		}
		memcpy(tbuf, ts.p, ts.n);
		tbuf[ts.n] = '\0';
		if (clock_parse_rfc3339(tbuf, &m->ts_ms) < 0) {
			m->ts_ms = 0;
			*why = "RFC 5424: bad timestamp";
			return -1;
		}
	}
	if (take_token(r, &m->hostname) < 0 || take_token(r, &m->app) < 0 ||
	    take_token(r, &m->procid) < 0 || take_token(r, &m->msgid) < 0) {
		*why = "RFC 5424: missing header fields";
		return -1;
	}
	if (parse_sd(r, m) < 0) {
		*why = "RFC 5424: bad structured data";
		return -1;
	}
	m->msg.p = r->p;
	m->msg.n = (size_t)(r->end - r->p);
	strip_bom(&m->msg);
	return 0;
}

static int month_of(const char *p)
{
	static const char names[] = "JanFebMarAprMayJunJulAugSepOctNovDec";

	for (int i = 0; i < 12; i++)
		if (memcmp(names + i * 3, p, 3) == 0)
			return i;
	return -1;
}

static int two(const char *p)
{
	if (p[0] < '0' || p[0] > '9' || p[1] < '0' || p[1] > '9')
		return -1;
	return (p[0] - '0') * 10 + (p[1] - '0');
}

/* "Mmm dd hh:mm:ss" (15 bytes, day space-padded), in local time, in the year
 * that puts it closest to now. */
static int parse_3164_time(const char *p, int64_t now_ms, int64_t *out)
{
	struct tm tm, nowtm;
	time_t now = (time_t)(now_ms / 1000), t;
	int mon = month_of(p), day;

	if (mon < 0 || p[3] != ' ' || p[6] != ' ' || p[9] != ':' || p[12] != ':')
		return -1;
	day = p[4] == ' ' ? two((const char[]){'0', p[5]}) : two(p + 4);
	if (day < 1 || day > 31 || two(p + 7) < 0 || two(p + 7) > 23 || two(p + 10) < 0 ||
	    two(p + 10) > 59 || two(p + 13) < 0 || two(p + 13) > 60)
		return -1;
	if (!localtime_r(&now, &nowtm))
		return -1;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = nowtm.tm_year;
	tm.tm_mon = mon;
	tm.tm_mday = day;
	tm.tm_hour = two(p + 7);
	tm.tm_min = two(p + 10);
	tm.tm_sec = two(p + 13);
	tm.tm_isdst = -1;
	/* December's messages read in January belong to last year. */
	if (mon > nowtm.tm_mon + 1)
		tm.tm_year--;
	t = mktime(&tm);
	if (t == (time_t)-1)
		return -1;
	*out = (int64_t)t * 1000;
	return 0;
}

static int parse_3164(struct rd *r, int64_t now_ms, struct syslog_msg *m, const char **why)
{
	const char *tag, *colon;

	m->version = 0;
	if (r->end - r->p >= 16 && parse_3164_time(r->p, now_ms, &m->ts_ms) == 0 &&
	    r->p[15] == ' ') {
		r->p += 16;
		/* HOSTNAME, unless what follows is already the TAG ("tag:" or "tag[") */
		const char *sp = memchr(r->p, ' ', (size_t)(r->end - r->p));
		const char *c = sp ? memchr(r->p, ':', (size_t)(sp - r->p)) : NULL;
		const char *bk = sp ? memchr(r->p, '[', (size_t)(sp - r->p)) : NULL;

		if (sp && !c && !bk)
			take_token(r, &m->hostname);
	} else {
		m->ts_ms = 0;
	}
	/* TAG: up to 32 alphanumerics and a few more, then "[PID]:" or ":". */
	tag = r->p;
	while (r->p < r->end && r->p - tag < 48 && *r->p != ':' && *r->p != '[' && *r->p != ' ')
		r->p++;
	if (r->p > tag && r->p < r->end && (*r->p == ':' || *r->p == '[')) {
		m->app.p = tag;
		m->app.n = (size_t)(r->p - tag);
		if (*r->p == '[') {
			const char *pb = r->p + 1;

			colon = memchr(pb, ']', (size_t)(r->end - pb));
			if (colon) {
				m->procid.p = pb;
				m->procid.n = (size_t)(colon - pb);
				r->p = colon + 1;
			}
		}
		if (r->p < r->end && *r->p == ':')
			r->p++;
		if (r->p < r->end && *r->p == ' ')
			r->p++;
	} else {
		r->p = tag; /* no tag: all of it is the message */
	}
	m->msg.p = r->p;
	m->msg.n = (size_t)(r->end - r->p);
	strip_bom(&m->msg);
	(void)why;
	return 0;
}

int syslog_parse(const char *p, size_t n, int64_t now_ms, struct syslog_msg *m, const char **why)
{
	struct rd r = {p, p + n};

	memset(m, 0, sizeof(*m));
	m->facility = 1; /* user.notice, RFC 3164's default */
	m->severity = 5;
	*why = NULL;
	while (r.end > r.p && (r.end[-1] == '\n' || r.end[-1] == '\r' || r.end[-1] == '\0'))
		r.end--;
	if (parse_pri(&r, m) < 0) {
		*why = "no <PRI> at the start";
		m->msg.p = p;
		m->msg.n = (size_t)(r.end - p);
		return -ERR_INVALID;
	}
	if (r.end - r.p >= 2 && r.p[0] == '1' && r.p[1] == ' ') {
		r.p += 2;
		if (parse_5424(&r, m, why) < 0) {
			m->msg.p = p;
			m->msg.n = (size_t)(r.end - p);
			return -ERR_INVALID;
		}
		return 0;
	}
	return parse_3164(&r, now_ms, m, why) < 0 ? -ERR_INVALID : 0;
}

void syslog_frame_next(const char *p, size_t n, size_t max, struct syslog_frame *f)
{
	size_t i = 0, len = 0;
	const char *nl;

	memset(f, 0, sizeof(*f));
	if (n == 0)
		return;
	if (p[0] >= '1' && p[0] <= '9') {
		while (i < n && i < MAX_OCTET_DIGITS && p[i] >= '0' && p[i] <= '9')
			len = len * 10 + (size_t)(p[i++] - '0');
		if (i == n)
			return; /* the length is not complete yet */
		if (p[i] == ' ') {
			i++;
			if (len > max) {
				f->kind = SYSLOG_FRAME_TOO_LONG;
				f->msg = p + i;
				f->msg_len = n - i < max ? n - i : max;
				if (f->msg_len < max && n - i < len)
					f->kind = SYSLOG_FRAME_NONE; /* wait for max bytes */
				else {
					f->consumed = i + f->msg_len;
					f->skip = len - f->msg_len;
				}
				return;
			}
			if (n - i < len)
				return;
			f->kind = SYSLOG_FRAME_OK;
			f->msg = p + i;
			f->msg_len = len;
			f->consumed = i + len;
			return;
		}
		f->malformed = 1; /* digits without a space: take it as a line */
	}
	nl = memchr(p, '\n', n < max + 1 ? n : max + 1);
	if (nl) {
		f->kind = SYSLOG_FRAME_OK;
		f->msg = p;
		f->msg_len = (size_t)(nl - p);
		f->consumed = f->msg_len + 1;
		return;
	}
	if (n > max) {
		f->kind = SYSLOG_FRAME_TOO_LONG;
		f->msg = p;
		f->msg_len = max;
		f->consumed = max;
	}
}
