/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Parser `logfmt`: `key=value key2="quoted \"value\"" flag` becomes the JSON
 * object {"key":"value","key2":"quoted \"value\"","flag":true}; every value
 * is a string (logfmt has no types).  A line with no key, an unterminated
 * quote or a key with bad characters fails (kept raw, parse_error).
 */
#include <string.h>

#include "lib/mem.h"
#include "plugins/filters/parser_common.h"

struct parser_logfmt_conf {
	struct parser_time_conf time;
	uint64_t max_bytes;
};

/* clang-format off */
static const struct cfg_option parser_logfmt_opts[] = {
	PARSER_TIME_OPTS(struct parser_logfmt_conf),
	{.name = "max_bytes", .type = CFG_SIZE, .offset = offsetof(struct parser_logfmt_conf, max_bytes),
	 .def = "4MiB", .min = 1024, .max = 64 << 20, .help = "largest JSON value produced"},
	CFG_OPT_END,
};
/* clang-format on */

struct parser_logfmt {
	struct parser_state ps;
	struct buf out;
	char vbuf[128];
};

static int parser_logfmt_init(const struct plugin_args *a, void **ctx, struct cfg_error *err)
{
	struct parser_logfmt *p = mem_calloc(1, sizeof(*p));
	const struct parser_logfmt_conf *c = a->conf;

	(void)err;
	*ctx = p;
	if (!p)
		return -ENOMEM;
	p->ps.time = &c->time;
	p->ps.name = "logfmt";
	buf_init(&p->out, c->max_bytes);
	return 0;
}

static bool key_char(char c)
{
	return c > ' ' && c != '=' && c != '"' && c != 0x7f;
}

/* Decode a quoted value (at the opening quote) into out as a JSON string.
 * Returns bytes consumed or -1 when unterminated. */
static long quoted(struct buf *out, const char *p, const char *end)
{
	const char *q = p + 1;

	if (buf_append_u8(out, '"') < 0)
		return -1;
	while (q < end && *q != '"') {
		const char *run = q;

		while (q < end && *q != '"' && *q != '\\')
			q++;
		if (q > run) {
			/* re-escape through the JSON writer, without its quotes */
			size_t before = out->len;

			if (xform_json_str(out, run, (size_t)(q - run)) < 0)
				return -1;
			memmove(out->data + before, out->data + before + 1, out->len - before - 2);
			out->len -= 2;
		}
		if (q < end && *q == '\\') {
			if (q + 1 >= end)
				return -1;
			if (q[1] == '"' || q[1] == '\\') {
				if (buf_append(out, q[1] == '"' ? "\\\"" : "\\\\", 2) < 0)
					return -1;
			} else if (q[1] == 'n') {
				if (buf_append(out, "\\n", 2) < 0)
					return -1;
			} else if (q[1] == 't') {
				if (buf_append(out, "\\t", 2) < 0)
					return -1;
			} else {
				if (buf_append(out, "\\\\", 2) < 0)
					return -1;
				q++;
				continue;
			}
			q += 2;
		}
	}
	if (q >= end)
		return -1;
	if (buf_append_u8(out, '"') < 0)
		return -1;
	return (long)(q + 1 - p);
}

static enum filter_verdict parser_logfmt_filter(void *ctx, struct event *ev, struct buf *scratch)
{
	struct parser_logfmt *lp = ctx;
	const char *p = ev->value, *end = p + ev->value_len;
	const char *tkey = lp->ps.time->time_key;
	size_t tklen = tkey ? strlen(tkey) : 0;
	struct jspan tspan;
	size_t pairs = 0, toff = 0;
	int rc;

	(void)scratch;
	memset(&tspan, 0, sizeof(tspan));
	buf_reset(&lp->out);
	rc = buf_append_u8(&lp->out, '{');
	while (rc == 0) {
		const char *k;
		size_t vstart, klen;

		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		if (p >= end)
			break;
		k = p;
		while (p < end && key_char(*p))
			p++;
		klen = (size_t)(p - k);
		if (klen == 0) {
			parser_fail(&lp->ps, ev, "logfmt: bad key at byte %zu",
				    (size_t)(k - (const char *)ev->value));
			return FILTER_KEEP;
		}
		rc = buf_append_str(&lp->out, pairs ? "," : "");
		if (rc == 0)
			rc = xform_json_str(&lp->out, k, (size_t)(p - k));
		if (rc == 0)
			rc = buf_append_u8(&lp->out, ':');
		if (rc < 0)
			break;
		vstart = lp->out.len;
		if (p < end && *p == '=') {
			p++;
			if (p < end && *p == '"') {
				long used = quoted(&lp->out, p, end);

				if (used < 0) {
					parser_fail(&lp->ps, ev,
						    "logfmt: unterminated quote at byte %zu",
						    (size_t)(p - (const char *)ev->value));
					return FILTER_KEEP;
				}
				p += used;
			} else {
				const char *v = p;

				while (p < end && *p != ' ' && *p != '\t')
					p++;
				rc = xform_json_str(&lp->out, v, (size_t)(p - v));
			}
		} else {
			rc = buf_append_str(&lp->out, "true");
		}
		if (rc == 0 && tklen && !tspan.found && klen == tklen &&
		    memcmp(k, tkey, tklen) == 0) {
			/* an offset: the buffer may still move */
			tspan.found = true;
			tspan.is_string = lp->out.data[vstart] == '"';
			toff = vstart;
			tspan.n = lp->out.len - vstart;
		}
		pairs++;
	}
	if (rc == 0)
		rc = buf_append_u8(&lp->out, '}');
	if (rc < 0) {
		parser_fail(&lp->ps, ev, "logfmt: line too large");
		return FILTER_KEEP;
	}
	if (pairs == 0) {
		parser_fail(&lp->ps, ev, "logfmt: no key=value pairs");
		return FILTER_KEEP;
	}
	if (tspan.found)
		tspan.p = (const char *)lp->out.data + toff;
	lp->ps.parsed++;
	ev->value = lp->out.data;
	ev->value_len = lp->out.len;
	if (tklen)
		parser_time(&lp->ps, ev, &tspan);
	return FILTER_KEEP;
}

static size_t parser_logfmt_metrics(void *ctx, struct plugin_metric *m, size_t max)
{
	struct parser_logfmt *lp = ctx;

	return parser_metrics(&lp->ps, m, max);
}

static void parser_logfmt_exit(void *ctx)
{
	struct parser_logfmt *lp = ctx;

	if (!lp)
		return;
	buf_release(&lp->out);
	mem_free(lp);
}

const struct plugin parser_logfmt_plugin = {
	.name = "logfmt",
	.kind = PLUGIN_PARSER,
	.description = "key=value pairs into a JSON object",
	.options = parser_logfmt_opts,
	.conf_size = sizeof(struct parser_logfmt_conf),
	.init = parser_logfmt_init,
	.filter = parser_logfmt_filter,
	.metrics = parser_logfmt_metrics,
	.exit = parser_logfmt_exit,
};
