/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Logger.  Lines look like
 *   2026-11-25T10:00:00.123Z sluice-store[4242] WARN segment 00000042.log: ...
 * or, in JSON mode,
 *   {"ts":"...","level":"warn","prog":"sluice-store","pid":4242,"msg":"..."}
 * Messages longer than the line buffer are cut and marked with "...".
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/clock.h"
#include "lib/err.h"
#include "lib/json.h"
#include "lib/log.h"

#define LOG_LINE_MAX 4096

static const char *log_prog = "sluice";
static atomic_int log_level = LOG_LVL_INFO;
static atomic_bool log_json;

static const char *const level_names[] = {"error", "warn", "info", "debug"};
static const char *const level_tags[] = {"ERROR", "WARN", "INFO", "DEBUG"};

void log_init(const char *prog)
{
	const char *slash = strrchr(prog, '/');

	log_prog = slash ? slash + 1 : prog;
}

void log_set_level(enum log_level level)
{
	atomic_store(&log_level, level);
}

void log_set_json(bool json)
{
	atomic_store(&log_json, json);
}

int log_parse_level(const char *s)
{
	for (int i = 0; i <= LOG_LVL_DEBUG; i++)
		if (strcmp(s, level_names[i]) == 0)
			return i;
	if (strcmp(s, "warning") == 0)
		return LOG_LVL_WARN;
	return -ERR_INVALID;
}

bool log_enabled(enum log_level level)
{
	return (int)level <= atomic_load(&log_level);
}

static void write_all(const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(STDERR_FILENO, p, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return;
		}
		p += w;
		n -= (size_t)w;
	}
}

static void log_vwrite(enum log_level level, const char *suffix, const char *fmt, va_list ap)
{
	char msg[LOG_LINE_MAX], ts[40];
	size_t len;
	int n, saved = errno;

	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	len = n < 0 ? 0 : (size_t)n;
	if (len >= sizeof(msg)) {
		memcpy(msg + sizeof(msg) - 4, "...", 4);
		len = sizeof(msg) - 1;
	}
	if (suffix) {
		n = snprintf(msg + len, sizeof(msg) - len, "%s", suffix);
		len = n < 0 || (size_t)n >= sizeof(msg) - len ? sizeof(msg) - 1 : len + (size_t)n;
	}
	clock_fmt_rfc3339(clock_wall_ms(), ts, sizeof(ts));

	if (atomic_load(&log_json)) {
		/* A heap buffer: escaping can grow the message up to 6x. */
		struct buf b;
		bool first = true;
		int rc;

		buf_init(&b, 8 * LOG_LINE_MAX);
		rc = buf_append_u8(&b, '{');
		rc = rc ? rc : json_key(&b, &first, "ts");
		rc = rc ? rc : json_cstr(&b, ts);
		rc = rc ? rc : json_key(&b, &first, "level");
		rc = rc ? rc : json_cstr(&b, level_names[level]);
		rc = rc ? rc : json_key(&b, &first, "prog");
		rc = rc ? rc : json_cstr(&b, log_prog);
		rc = rc ? rc : json_key(&b, &first, "pid");
		rc = rc ? rc : json_i64(&b, getpid());
		rc = rc ? rc : json_key(&b, &first, "msg");
		rc = rc ? rc : json_str(&b, msg, len);
		rc = rc ? rc : buf_append_str(&b, "}\n");
		if (rc == 0)
			write_all((const char *)b.data, b.len);
		buf_release(&b);
	} else {
		char line[LOG_LINE_MAX + 256];
		int m = snprintf(line, sizeof(line), "%s %s[%d] %s %.*s\n", ts, log_prog,
				 (int)getpid(), level_tags[level], (int)len, msg);

		if (m > 0)
			write_all(line, (size_t)m < sizeof(line) ? (size_t)m : sizeof(line) - 1);
	}
	errno = saved;
}

void log_write(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	if (!log_enabled(level))
		return;
	va_start(ap, fmt);
	log_vwrite(level, NULL, fmt, ap);
	va_end(ap);
}

void log_write_rl(struct log_ratelimit *rl, uint64_t interval_ms, enum log_level level,
		  const char *fmt, ...)
{
	static pthread_mutex_t rl_lock = PTHREAD_MUTEX_INITIALIZER;
	uint64_t now = clock_mono_ms(), suppressed = 0;
	char suffix[64];
	bool emit = false;
	va_list ap;

	if (!log_enabled(level))
		return;
	pthread_mutex_lock(&rl_lock);
	if (now >= rl->next_ms) {
		emit = true;
		suppressed = rl->suppressed;
		rl->suppressed = 0;
		rl->next_ms = now + interval_ms;
	} else {
		rl->suppressed++;
	}
	pthread_mutex_unlock(&rl_lock);
	if (!emit)
		return;
	snprintf(suffix, sizeof(suffix), " (%llu similar suppressed)",
		 (unsigned long long)suppressed);
	va_start(ap, fmt);
	log_vwrite(level, suppressed ? suffix : NULL, fmt, ap);
	va_end(ap);
}
