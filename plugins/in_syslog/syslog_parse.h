/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Syslog wire formats, for the syslog input and its fuzz target: TCP framing
 * (RFC 6587: octet counting "LEN SP MSG" or one message per line) and the
 * two message formats, RFC 5424 ("<PRI>1 TIMESTAMP HOST APP PROCID MSGID SD
 * MSG") and the BSD format of RFC 3164 ("<PRI>Mmm dd hh:mm:ss HOST TAG[PID]:
 * MSG").  Pure functions over borrowed bytes: nothing is allocated, results
 * point into the input.  Thread-safe.
 */
#ifndef SLUICE_PLUGINS_SYSLOG_PARSE_H
#define SLUICE_PLUGINS_SYSLOG_PARSE_H

#include <stddef.h>
#include <stdint.h>

struct syslog_str {
	const char *p;
	size_t n; /* 0: absent (or NILVALUE "-") */
};

struct syslog_msg {
	int facility;  /* 0..23 */
	int severity;  /* 0..7 */
	int version;   /* 1 for RFC 5424, 0 for RFC 3164 */
	int64_t ts_ms; /* 0 when the message has no usable time */
	struct syslog_str hostname;
	struct syslog_str app; /* APP-NAME, or the 3164 TAG */
	struct syslog_str procid;
	struct syslog_str msgid;
	struct syslog_str sd;  /* structured data as sent, "[...]" */
	struct syslog_str msg; /* the message (a UTF-8 BOM removed) */
};

/* Parse one message (without framing or its trailing newline).  now_ms is
 * the receive time, used to pick the year of an RFC 3164 timestamp.
 * 0, or -ERR_INVALID with *why set to a static reason; m is filled as far
 * as it got either way. */
int syslog_parse(const char *p, size_t n, int64_t now_ms, struct syslog_msg *m, const char **why);

enum syslog_frame_kind {
	SYSLOG_FRAME_NONE = 0, /* need more bytes */
	SYSLOG_FRAME_OK,       /* [msg, msg + msg_len) is one message */
	SYSLOG_FRAME_TOO_LONG, /* a message longer than max: its first max bytes */
};

struct syslog_frame {
	enum syslog_frame_kind kind;
	size_t consumed; /* bytes of the input the frame used */
	const char *msg;
	size_t msg_len;
	size_t skip;   /* TOO_LONG octet-counted: bytes still to discard */
	int malformed; /* 1: a digit-led frame without a valid length */
};

/* The next frame of a TCP stream in p[0..n).  Octet counting when the data
 * starts with a digit followed by digits and a space, else a line ended by
 * '\n'.  max bounds one message. */
void syslog_frame_next(const char *p, size_t n, size_t max, struct syslog_frame *f);

#endif
