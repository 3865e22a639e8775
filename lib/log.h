/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Logging with levels to stderr, as text lines or one JSON object per line.
 * Each message is formatted into a bounded stack buffer and written with one
 * write(2), so lines from different threads never interleave.  Thread-safe.
 */
#ifndef SLUICE_LOG_H
#define SLUICE_LOG_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/check.h"

enum log_level {
	LOG_LVL_ERROR,
	LOG_LVL_WARN,
	LOG_LVL_INFO,
	LOG_LVL_DEBUG,
};

/* prog is borrowed (a string literal or argv[0] basename). */
void log_init(const char *prog);
void log_set_level(enum log_level level);
void log_set_json(bool json);
/* "error", "warn", "info", "debug" -> level, or -ERR_INVALID. */
SLUICE_MUST_CHECK int log_parse_level(const char *s);
bool log_enabled(enum log_level level);

void log_write(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Rate limiting for warnings that can repeat in a tight loop (spool full,
 * connection refused): at most one line per interval, then the number
 * suppressed.  Embed one struct per call site (zero-initialized). */
struct log_ratelimit {
	uint64_t next_ms;
	uint64_t suppressed;
};
void log_write_rl(struct log_ratelimit *rl, uint64_t interval_ms, enum log_level level,
		  const char *fmt, ...) __attribute__((format(printf, 4, 5)));

#define log_error(...) log_write(LOG_LVL_ERROR, __VA_ARGS__)
#define log_warn(...) log_write(LOG_LVL_WARN, __VA_ARGS__)
#define log_info(...) log_write(LOG_LVL_INFO, __VA_ARGS__)
#define log_debug(...)                                         \
	do {                                                   \
		if (log_enabled(LOG_LVL_DEBUG))                \
			log_write(LOG_LVL_DEBUG, __VA_ARGS__); \
	} while (0)

#endif
