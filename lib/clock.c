/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Clock reads and RFC 3339 / duration text.  The civil-date conversions use
 * days-from-civil arithmetic so they do not depend on the TZ environment.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "lib/clock.h"
#include "lib/err.h"

uint64_t clock_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t clock_mono_ms(void)
{
	return clock_mono_ns() / 1000000u;
}

int64_t clock_wall_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t clock_wall_ms(void)
{
	return clock_wall_ns() / 1000000;
}

struct timespec clock_deadline(clockid_t clk, int64_t ms)
{
	struct timespec ts;

	if (ms < 0)
		ms = 0;
	clock_gettime(clk, &ts);
	ts.tv_sec += (time_t)(ms / 1000);
	ts.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	return ts;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
 * public-domain algorithm, re-derived). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int *y, unsigned *m, unsigned *d)
{
	int64_t era;
	unsigned doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = (unsigned)(z - era * 146097);
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int)((int64_t)yoe + era * 400 + (*m <= 2));
}

/* v as exactly w decimal digits at p (v < 10^w). */
static void put_digits(char *p, unsigned v, int w)
{
	while (w-- > 0) {
		p[w] = (char)('0' + v % 10);
		v /= 10;
	}
}

/* Digits by hand rather than snprintf: replay and the JSON outputs format a
 * time per record. */
size_t clock_fmt_rfc3339(int64_t ms, char *out, size_t cap)
{
	int64_t days = ms >= 0 ? ms / 86400000 : -((-ms + 86399999) / 86400000);
	int64_t rem = ms - days * 86400000;
	char t[32];
	size_t n = 0;
	unsigned m, d;
	int y;

	civil_from_days(days, &y, &m, &d);
	if (y < 0 || y > 9999) {
		/* outside what four digits say: the general form */
		int k = snprintf(t, sizeof(t), "%04d", y);

		if (k < 0 || (size_t)k >= sizeof(t) - 20)
			return 0;
		n = (size_t)k;
	} else {
		put_digits(t, (unsigned)y, 4);
		n = 4;
	}
	t[n] = '-';
	put_digits(t + n + 1, m, 2);
	t[n + 3] = '-';
	put_digits(t + n + 4, d, 2);
	t[n + 6] = 'T';
	put_digits(t + n + 7, (unsigned)(rem / 3600000), 2);
	t[n + 9] = ':';
	put_digits(t + n + 10, (unsigned)(rem / 60000 % 60), 2);
	t[n + 12] = ':';
	put_digits(t + n + 13, (unsigned)(rem / 1000 % 60), 2);
	t[n + 15] = '.';
	put_digits(t + n + 16, (unsigned)(rem % 1000), 3);
	t[n + 19] = 'Z';
	n += 20;
	if (cap == 0)
		return 0;
	if (n >= cap)
		n = cap - 1;
	memcpy(out, t, n);
	out[n] = '\0';
	return n;
}

static int digits(const char **s, int n, int *v)
{
	int r = 0;

	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)(*s)[i]))
			return -ERR_INVALID;
		r = r * 10 + ((*s)[i] - '0');
	}
	*s += n;
	*v = r;
	return 0;
}

int clock_parse_rfc3339(const char *s, int64_t *out)
{
	static const int mdays[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int y, mo, d, h, mi, sec, oh = 0, om = 0, sign = 0;
	int64_t frac_ms = 0, ms;

	if (digits(&s, 4, &y) || *s++ != '-' || digits(&s, 2, &mo) || *s++ != '-' ||
	    digits(&s, 2, &d))
		return -ERR_INVALID;
	if (*s != 'T' && *s != 't' && *s != ' ')
		return -ERR_INVALID;
	s++;
	if (digits(&s, 2, &h) || *s++ != ':' || digits(&s, 2, &mi) || *s++ != ':' ||
	    digits(&s, 2, &sec))
		return -ERR_INVALID;
	if (*s == '.' || *s == ',') {
		int scale = 100, n = 0;

		s++;
		while (isdigit((unsigned char)*s)) {
			if (scale) {
				frac_ms += (*s - '0') * scale;
				scale /= 10;
			}
			s++;
			n++;
		}
		if (n == 0)
			return -ERR_INVALID;
	}
	if (*s == 'Z' || *s == 'z') {
		s++;
	} else if (*s == '+' || *s == '-') {
		sign = *s == '+' ? 1 : -1;
		s++;
		if (digits(&s, 2, &oh) || *s++ != ':' || digits(&s, 2, &om))
			return -ERR_INVALID;
	} else {
		return -ERR_INVALID;
	}
	if (*s != '\0')
		return -ERR_INVALID;
	if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 || mi > 59 || sec > 60 ||
	    oh > 23 || om > 59)
		return -ERR_INVALID;
	if (mo == 2 && d == 29 && !(y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)))
		return -ERR_INVALID;
	if (sec == 60)
		sec = 59; /* leap second: clamp, the log has no :60 */
	ms = days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400000 + (int64_t)h * 3600000 +
	     (int64_t)mi * 60000 + (int64_t)sec * 1000 + frac_ms;
	ms -= sign * ((int64_t)oh * 3600000 + (int64_t)om * 60000);
	*out = ms;
	return 0;
}

int clock_parse_duration(const char *s, int64_t *out)
{
	int64_t total = 0;
	int parts = 0;

	while (*s == ' ')
		s++;
	if (strcmp(s, "0") == 0) {
		*out = 0;
		return 0;
	}
	while (*s) {
		int64_t v = 0, unit;
		int nd = 0;

		while (isdigit((unsigned char)*s)) {
			if (v > (INT64_MAX - 9) / 10)
				return -ERR_INVALID;
			v = v * 10 + (*s++ - '0');
			nd++;
		}
		if (nd == 0)
			return -ERR_INVALID;
		if (strncmp(s, "ms", 2) == 0) {
			unit = 1;
			s += 2;
		} else if (*s == 's') {
			unit = 1000;
			s++;
		} else if (*s == 'm') {
			unit = 60000;
			s++;
		} else if (*s == 'h') {
			unit = 3600000;
			s++;
		} else if (*s == 'd') {
			unit = 86400000;
			s++;
		} else if (*s == 'w') {
			unit = 7 * 86400000LL;
			s++;
		} else {
			return -ERR_INVALID;
		}
		if (v > (INT64_MAX - total) / unit)
			return -ERR_INVALID;
		total += v * unit;
		parts++;
	}
	if (parts == 0)
		return -ERR_INVALID;
	*out = total;
	return 0;
}
