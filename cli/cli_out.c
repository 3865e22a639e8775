/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Record output formats and the flush policy.
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli_out.h"
#include "lib/clock.h"
#include "lib/err.h"
#include "lib/recjson.h"

#define LINE_MAX_BYTES (512u << 20)

int cli_out_parse_format(const char *s, enum cli_format *fmt)
{
	if (strcmp(s, "raw") == 0)
		*fmt = CLI_FMT_RAW;
	else if (strcmp(s, "json") == 0)
		*fmt = CLI_FMT_JSON;
	else if (strcmp(s, "pretty") == 0)
		*fmt = CLI_FMT_PRETTY;
	else
		return -ERR_INVALID;
	return 0;
}

void cli_out_init(struct cli_out *o, FILE *f, enum cli_format fmt)
{
	struct stat st;

	memset(o, 0, sizeof(*o));
	o->f = f;
	o->fmt = fmt;
	buf_init(&o->line, LINE_MAX_BYTES);
	o->flush_each = true;
	if (fstat(fileno(f), &st) == 0 &&
	    (S_ISREG(st.st_mode) || (S_ISCHR(st.st_mode) && !isatty(fileno(f)))))
		o->flush_each = false;
}

void cli_out_release(struct cli_out *o)
{
	buf_release(&o->line);
}

/* Append bytes, escaping C0 controls (but tab and newline) and DEL. */
static int append_safe(struct buf *b, const uint8_t *p, size_t n)
{
	size_t run = 0;
	int rc = 0;

	for (size_t i = 0; i < n && rc == 0; i++) {
		uint8_t c = p[i];

		if ((c >= 0x20 && c != 0x7f) || c == '\t' || c == '\n') {
			run++;
			continue;
		}
		rc = buf_append(b, p + i - run, run);
		run = 0;
		if (rc == 0)
			rc = buf_printf(b, "\\x%02x", c);
	}
	if (rc == 0)
		rc = buf_append(b, p + n - run, run);
	return rc;
}

static int format_pretty(struct buf *b, const char *topic, int32_t partition,
			 const struct record *r)
{
	char ts[40];
	int rc;

	clock_fmt_rfc3339(r->timestamp < 0                   ? 0
			  : r->timestamp > 253402300799999LL ? 253402300799999LL
							     : r->timestamp,
			  ts, sizeof(ts));
	rc = buf_printf(b, "%s %s/%" PRId32 "@%" PRId64 " ", ts, topic, partition, r->offset);
	if (rc == 0 && r->key_len > 0)
		rc = append_safe(b, r->key, (size_t)r->key_len);
	if (rc == 0)
		rc = buf_append_str(b, r->key_len > 0 ? "  " : "-  ");
	if (rc == 0 && r->value_len > 0)
		rc = append_safe(b, r->value, (size_t)r->value_len);
	if (rc == 0)
		rc = buf_append_u8(b, '\n');
	return rc;
}

int cli_out_record(struct cli_out *o, const char *topic, int32_t partition, const struct record *r)
{
	int rc = 0;

	buf_reset(&o->line);
	switch (o->fmt) {
	case CLI_FMT_RAW:
		if (r->value_len > 0)
			rc = buf_append(&o->line, r->value, (size_t)r->value_len);
		if (rc == 0)
			rc = buf_append_u8(&o->line, '\n');
		break;
	case CLI_FMT_JSON:
		rc = recjson_format(&o->line, topic, partition, r);
		break;
	case CLI_FMT_PRETTY:
		rc = format_pretty(&o->line, topic, partition, r);
		break;
	}
	if (rc < 0)
		return rc;
	if (fwrite(o->line.data, 1, o->line.len, o->f) != o->line.len)
		return errno == EPIPE ? -EPIPE : -EIO;
	o->records++;
	o->bytes += o->line.len;
	if (o->flush_each)
		return cli_out_flush(o);
	return 0;
}

int cli_out_flush(struct cli_out *o)
{
	if (fflush(o->f) != 0)
		return errno == EPIPE ? -EPIPE : -EIO;
	return 0;
}
