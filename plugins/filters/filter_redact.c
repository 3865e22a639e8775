/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Filter `redact`: every match of each pattern is replaced by `mask`.  When a
 * pattern has capture groups only group 1 is replaced, so
 * 'password=(\S+)' keeps "password=" and masks the secret.  Patterns run in
 * order over the result of the previous one.  Events with no match are
 * passed on untouched (no copy).
 */
#include <string.h>

#include "lib/mem.h"
#include "lib/regex.h"
#include "plugins/filters/xform.h"

struct filter_redact_conf {
	struct cfg_list patterns;
	char *mask;
	uint64_t max_bytes;
};

/* clang-format off */
static const struct cfg_option filter_redact_opts[] = {
	{.name = "patterns", .type = CFG_LIST, .offset = offsetof(struct filter_redact_conf, patterns),
	 .flags = CFG_REQUIRED, .check = regex_check,
	 .help = "PCRE2 regexes to mask (group 1 only, when the pattern has groups)"},
	{.name = "mask", .type = CFG_STRING, .offset = offsetof(struct filter_redact_conf, mask),
	 .def = "[REDACTED]", .help = "replacement text"},
	{.name = "max_bytes", .type = CFG_SIZE, .offset = offsetof(struct filter_redact_conf, max_bytes),
	 .def = "4MiB", .min = 1024, .max = 64 << 20,
	 .help = "largest value produced (a larger result is replaced by the mask alone, counted)"},
	CFG_OPT_END,
};
/* clang-format on */

struct filter_redact {
	const struct filter_redact_conf *conf;
	pcre2_code **re;
	uint32_t *groups;
	bool *jit; /* compiled by the JIT: use its fast entry point */
	size_t nre;
	pcre2_match_data *md;
	struct buf out[2]; /* ping-pong between patterns */
	size_t mask_len;
	uint64_t events, redactions, errors;
};

static void filter_redact_exit(void *ctx)
{
	struct filter_redact *r = ctx;

	if (!r)
		return;
	for (size_t i = 0; i < r->nre; i++)
		pcre2_code_free(r->re[i]);
	mem_free(r->re);
	mem_free(r->groups);
	mem_free(r->jit);
	pcre2_match_data_free(r->md);
	buf_release(&r->out[0]);
	buf_release(&r->out[1]);
	mem_free(r);
}

static int filter_redact_init(const struct plugin_args *a, void **ctx, struct cfg_error *err)
{
	struct filter_redact *r = mem_calloc(1, sizeof(*r));
	const struct filter_redact_conf *c = a->conf;

	*ctx = r;
	if (!r)
		return -ENOMEM;
	r->conf = c;
	if (c->patterns.n == 0) {
		cfg_error_at(err, NULL, "redact: patterns is empty");
		return -ERR_CONFIG;
	}
	r->re = mem_calloc(c->patterns.n, sizeof(*r->re));
	r->groups = mem_calloc(c->patterns.n, sizeof(*r->groups));
	r->jit = mem_calloc(c->patterns.n, sizeof(*r->jit));
	if (!r->re || !r->groups || !r->jit)
		return -ENOMEM;
	for (size_t i = 0; i < c->patterns.n; i++) {
		r->re[i] = xform_regex(c->patterns.v[i]);
		if (!r->re[i])
			return -ERR_CONFIG;
		r->nre = i + 1;
		pcre2_pattern_info(r->re[i], PCRE2_INFO_CAPTURECOUNT, &r->groups[i]);
		{
			size_t jsz = 0;

			r->jit[i] = pcre2_pattern_info(r->re[i], PCRE2_INFO_JITSIZE, &jsz) == 0 &&
				    jsz > 0;
		}
	}
	r->md = pcre2_match_data_create(16, NULL);
	buf_init(&r->out[0], c->max_bytes);
	buf_init(&r->out[1], c->max_bytes);
	r->mask_len = strlen(c->mask ? c->mask : "");
	return r->md ? 0 : -ENOMEM;
}

/* Apply pattern i to in[0..n) into out.  The count of replacements, 0 when
 * nothing matched (out untouched), or negative. */
static int apply(struct filter_redact *r, size_t i, const char *in, size_t n, struct buf *out)
{
	PCRE2_SIZE start = 0, copied = 0;
	int count = 0, rc = 0;

	for (;;) {
		PCRE2_SIZE *ov, ms, me;
		int m = r->jit[i] ? pcre2_jit_match(r->re[i], (PCRE2_SPTR)in, n, start, 0, r->md,
						    NULL)
				  : pcre2_match(r->re[i], (PCRE2_SPTR)in, n, start, 0, r->md, NULL);

		if (m < 0)
			break;
		ov = pcre2_get_ovector_pointer(r->md);
		ms = ov[0];
		me = ov[1];
		if (r->groups[i] > 0 && m > 1 && ov[2] != PCRE2_UNSET) {
			ms = ov[2];
			me = ov[3];
		}
		if (count == 0)
			buf_reset(out);
		if (ms >= copied && me > ms) {
			rc = buf_append(out, in + copied, ms - copied);
			if (rc == 0)
				rc = buf_append(out, r->conf->mask, r->mask_len);
			if (rc < 0)
				return rc;
			copied = me;
			count++;
		}
		start = ov[1] > ov[0] ? ov[1] : ov[0] + 1;
		if (start > n)
			break;
	}
	if (count == 0)
		return 0;
	rc = buf_append(out, in + copied, n - copied);
	return rc < 0 ? rc : count;
}

static enum filter_verdict filter_redact_filter(void *ctx, struct event *ev, struct buf *scratch)
{
	struct filter_redact *r = ctx;
	const char *cur = ev->value;
	size_t n = ev->value_len;
	int which = 0, total = 0;

	(void)scratch;
	for (size_t i = 0; i < r->nre; i++) {
		int k = apply(r, i, cur, n, &r->out[which]);

		if (k < 0) {
			/* Never pass on a value that may still hold a secret. */
			r->errors++;
			ev->value = r->conf->mask;
			ev->value_len = r->mask_len;
			return FILTER_KEEP;
		}
		if (k == 0)
			continue;
		total += k;
		cur = (const char *)r->out[which].data;
		n = r->out[which].len;
		which ^= 1;
		ev->value = cur;
		ev->value_len = n;
	}
	if (total) {
		r->events++;
		r->redactions += (uint64_t)total;
	}
	return FILTER_KEEP;
}

static size_t filter_redact_metrics(void *ctx, struct plugin_metric *m, size_t max)
{
	struct filter_redact *r = ctx;
	const struct plugin_metric v[] = {
		{"sluice_agent_filter_redact_events_total", "counter",
		 "Events with at least one redaction.", r->events, NULL, NULL},
		{"sluice_agent_filter_redact_matches_total", "counter",
		 "Matches replaced by the mask.", r->redactions, NULL, NULL},
		{"sluice_agent_filter_redact_errors_total", "counter",
		 "Events whose redacted value exceeded max_bytes.", r->errors, NULL, NULL},
	};

	return plugin_metrics_copy(m, max, v, sizeof(v) / sizeof(v[0]));
}

const struct plugin filter_redact_plugin = {
	.name = "redact",
	.kind = PLUGIN_FILTER,
	.description = "replace regex matches (card numbers, password=...) by a mask",
	.options = filter_redact_opts,
	.conf_size = sizeof(struct filter_redact_conf),
	.init = filter_redact_init,
	.filter = filter_redact_filter,
	.metrics = filter_redact_metrics,
	.exit = filter_redact_exit,
};
