/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Error codes shared by every module.
 *
 * The project has one return contract: 0 or a count on success, a negative
 * code on failure.  Codes are negative errno values (-ENOMEM, -EIO, -ENOSPC,
 * ...) plus the domain codes below, which live above the errno range so the
 * two can never collide.  err_str() names either kind.
 */
#ifndef SLUICE_ERR_H
#define SLUICE_ERR_H

#include <errno.h>

enum {
	ERR_BASE = 10000,
	ERR_CORRUPT,      /* CRC mismatch or malformed structure */
	ERR_TRUNCATED,    /* input ends before the structure does */
	ERR_TOO_LARGE,    /* exceeds a configured or hard bound */
	ERR_UNSUPPORTED,  /* valid but not supported (version, codec, ...) */
	ERR_CONFIG,       /* configuration error; details in the error text */
	ERR_DUPLICATE,    /* idempotent producer: already appended */
	ERR_OUT_OF_ORDER, /* idempotent producer: sequence gap */
	ERR_FENCED,       /* idempotent producer: stale epoch */
	ERR_NOT_FOUND,    /* unknown topic, partition, key, ... */
	ERR_OUT_OF_RANGE, /* offset outside the log */
	ERR_EXISTS,       /* already exists */
	ERR_INVALID,      /* invalid argument from an outside party (name, value) */
	ERR_STORAGE,      /* the log engine cannot write (EIO, ENOSPC, ...) */
	ERR_AUTH,         /* authentication or authorization failed */
	ERR_TXN_STATE,    /* not allowed in the transaction's state */
	ERR_LIMIT         /* end marker, not an error */
};

/* Human-readable name of a negative error code (or of 0: "success").
 * Returns a static string; thread-safe. */
const char *err_str(int code);

/* Keep the first error of a sequence of calls that each return 0 or a
 * negative code: rc = err_first(rc, json_key(...)); every call still runs
 * (on a buffer the caller then discards), rc ends as the first failure. */
static inline int err_first(int first, int next)
{
	return first < 0 ? first : next;
}

#endif
