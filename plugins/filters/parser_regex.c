/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Parser `regex`: a PCRE2 pattern with named groups; a matching line becomes
 * a JSON object of its named groups (groups that did not take part are left
 * out), e.g. '^(?<ip>\S+) \S+ \S+ \[(?<time>[^\]]+)\] "(?<req>[^"]*)"'.  A
 * line that does not match is kept raw with a parse_error header.
 */
#include <stdio.h>
#include <string.h>

#include "lib/mem.h"
#include "lib/regex.h"
#include "plugins/filters/parser_common.h"

struct parser_regex_conf {
	struct parser_time_conf time;
	char *pattern;
	uint64_t max_bytes;
};

static int check_named(const char *v, char *why, size_t whylen)
{
	pcre2_code *re;
	uint32_t names = 0;
	int rc = regex_check(v, why, whylen);

	if (rc < 0)
		return rc;
	re = xform_regex(v);
	if (re)
		pcre2_pattern_info(re, PCRE2_INFO_NAMECOUNT, &names);
	pcre2_code_free(re);
	if (names == 0) {
		snprintf(why, whylen, "the pattern has no named groups (?<name>...)");
		return -1;
	}
	return 0;
}

/* clang-format off */
static const struct cfg_option parser_regex_opts[] = {
	{.name = "pattern", .type = CFG_STRING, .offset = offsetof(struct parser_regex_conf, pattern),
	 .flags = CFG_REQUIRED, .check = check_named,
	 .help = "PCRE2 regex; its named groups become the JSON fields"},
	PARSER_TIME_OPTS(struct parser_regex_conf),
	{.name = "max_bytes", .type = CFG_SIZE, .offset = offsetof(struct parser_regex_conf, max_bytes),
	 .def = "4MiB", .min = 1024, .max = 64 << 20, .help = "largest JSON value produced"},
	CFG_OPT_END,
};
/* clang-format on */

struct parser_regex {
	struct parser_state ps;
	pcre2_code *re;
	pcre2_match_data *md;
	uint32_t nnames;
	uint32_t entry;
	PCRE2_SPTR table;
	struct buf out;
};

static void parser_regex_exit(void *ctx)
{
	struct parser_regex *r = ctx;

	if (!r)
		return;
	pcre2_match_data_free(r->md);
	pcre2_code_free(r->re);
	buf_release(&r->out);
	mem_free(r);
}

static int parser_regex_init(const struct plugin_args *a, void **ctx, struct cfg_error *err)
{
	struct parser_regex *r = mem_calloc(1, sizeof(*r));
	const struct parser_regex_conf *c = a->conf;

	(void)err;
	*ctx = r;
	if (!r)
		return -ENOMEM;
	r->ps.time = &c->time;
	r->ps.name = "regex";
	buf_init(&r->out, c->max_bytes);
	r->re = xform_regex(c->pattern);
	if (!r->re)
		return -ERR_CONFIG; /* the option check reported it */
	r->md = pcre2_match_data_create_from_pattern(r->re, NULL);
	if (!r->md)
		return -ENOMEM;
	pcre2_pattern_info(r->re, PCRE2_INFO_NAMECOUNT, &r->nnames);
	pcre2_pattern_info(r->re, PCRE2_INFO_NAMEENTRYSIZE, &r->entry);
	pcre2_pattern_info(r->re, PCRE2_INFO_NAMETABLE, &r->table);
	return 0;
}

static enum filter_verdict parser_regex_filter(void *ctx, struct event *ev, struct buf *scratch)
{
	struct parser_regex *r = ctx;
	PCRE2_SIZE *ov;
	const char *tkey = r->ps.time->time_key;
	struct jspan tspan;
	size_t toff = 0;
	bool first = true;
	int rc;

	(void)scratch;
	memset(&tspan, 0, sizeof(tspan));
	rc = pcre2_match(r->re, ev->value, ev->value_len, 0, 0, r->md, NULL);
	if (rc < 0) {
		if (rc == PCRE2_ERROR_NOMATCH)
			parser_fail(&r->ps, ev, "regex: no match");
		else
			parser_fail(&r->ps, ev, "regex: match error %d", rc);
		return FILTER_KEEP;
	}
	ov = pcre2_get_ovector_pointer(r->md);
	buf_reset(&r->out);
	rc = buf_append_u8(&r->out, '{');
	for (uint32_t i = 0; i < r->nnames && rc == 0; i++) {
		PCRE2_SPTR e = r->table + (size_t)i * r->entry;
		uint32_t g = (uint32_t)(e[0] << 8 | e[1]);
		const char *name = (const char *)e + 2;
		size_t vs;

		if (ov[2 * g] == PCRE2_UNSET)
			continue;
		rc = buf_append_str(&r->out, first ? "" : ",");
		first = false;
		if (rc == 0)
			rc = xform_json_str(&r->out, name, strlen(name));
		if (rc == 0)
			rc = buf_append_u8(&r->out, ':');
		vs = r->out.len;
		if (rc == 0)
			rc = xform_json_str(&r->out, (const char *)ev->value + ov[2 * g],
					    ov[2 * g + 1] - ov[2 * g]);
		if (rc == 0 && tkey && !tspan.found && strcmp(tkey, name) == 0) {
			tspan.found = true;
			tspan.is_string = true;
			toff = vs;
			tspan.n = r->out.len - vs;
		}
	}
	if (rc == 0)
		rc = buf_append_u8(&r->out, '}');
	if (rc < 0) {
		parser_fail(&r->ps, ev, "regex: line too large");
		return FILTER_KEEP;
	}
	if (tspan.found)
		tspan.p = (const char *)r->out.data + toff;
	r->ps.parsed++;
	ev->value = r->out.data;
	ev->value_len = r->out.len;
	if (tkey && *tkey)
		parser_time(&r->ps, ev, &tspan);
	return FILTER_KEEP;
}

static size_t parser_regex_metrics(void *ctx, struct plugin_metric *m, size_t max)
{
	struct parser_regex *r = ctx;

	return parser_metrics(&r->ps, m, max);
}

const struct plugin parser_regex_plugin = {
	.name = "regex",
	.kind = PLUGIN_PARSER,
	.description = "PCRE2 named groups into a JSON object",
	.options = parser_regex_opts,
	.conf_size = sizeof(struct parser_regex_conf),
	.init = parser_regex_init,
	.filter = parser_regex_filter,
	.metrics = parser_regex_metrics,
	.exit = parser_regex_exit,
};
