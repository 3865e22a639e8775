/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Names for the error codes of err.h: the domain codes from a table, errno
 * codes from glibc's thread-safe strerrordesc_np().
 */
#include <string.h>

#include "lib/err.h"

static const char *const domain_names[ERR_LIMIT - ERR_BASE] = {
	[ERR_CORRUPT - ERR_BASE] = "corrupt data (CRC or structure mismatch)",
	[ERR_TRUNCATED - ERR_BASE] = "truncated data",
	[ERR_TOO_LARGE - ERR_BASE] = "too large",
	[ERR_UNSUPPORTED - ERR_BASE] = "not supported",
	[ERR_CONFIG - ERR_BASE] = "configuration error",
	[ERR_DUPLICATE - ERR_BASE] = "duplicate sequence number",
	[ERR_OUT_OF_ORDER - ERR_BASE] = "out of order sequence number",
	[ERR_FENCED - ERR_BASE] = "producer fenced (stale epoch)",
	[ERR_NOT_FOUND - ERR_BASE] = "not found",
	[ERR_OUT_OF_RANGE - ERR_BASE] = "offset out of range",
	[ERR_EXISTS - ERR_BASE] = "already exists",
	[ERR_INVALID - ERR_BASE] = "invalid argument",
	[ERR_STORAGE - ERR_BASE] = "storage error",
	[ERR_AUTH - ERR_BASE] = "not authorized",
	[ERR_TXN_STATE - ERR_BASE] = "invalid transaction state",
};

const char *err_str(int code)
{
	const char *s;
	int c = code < 0 ? -code : code;

	if (c == 0)
		return "success";
	if (c > ERR_BASE && c < ERR_LIMIT)
		return domain_names[c - ERR_BASE];
	s = strerrordesc_np(c);
	return s ? s : "unknown error";
}
