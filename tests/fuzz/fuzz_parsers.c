/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: the parsers (json, logfmt, regex) and the filters that
 * read or rewrite values (grep on a field, redact, sample, add) over
 * arbitrary lines.  What logfmt and regex produce must be JSON that the
 * strict lib/jdoc parser accepts; what the json parser accepts must be
 * accepted by the scanner again; a redacted value must not hold the secret.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agent/plugin.h"
#include "lib/config.h"
#include "lib/jdoc.h"
#include "lib/mem.h"
#include "plugins/filters/xform.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

extern const struct plugin parser_json_plugin;
extern const struct plugin parser_logfmt_plugin;
extern const struct plugin parser_regex_plugin;
extern const struct plugin filter_grep_plugin;
extern const struct plugin filter_redact_plugin;
extern const struct plugin filter_sample_plugin;
extern const struct plugin filter_add_plugin;

struct inst {
	const struct plugin *p;
	const char *yaml;
	void *ctx;
	void *conf; /* kept reachable for the life of the process */
	struct cfg_doc *doc;
};

static struct inst insts[] = {
	{&parser_json_plugin, "time_key: ts\n", NULL, NULL, NULL},
	{&parser_logfmt_plugin, "time_key: ts\ntime_format: unix\n", NULL, NULL, NULL},
	{&parser_regex_plugin, "pattern: '^(?<a>\\w+) (?<ts>\\S+)(?: (?<rest>.*))?$'\n", NULL, NULL,
	 NULL},
	{&filter_grep_plugin, "field: level\ninclude: 'err|warn'\n", NULL, NULL, NULL},
	{&filter_redact_plugin, "patterns: ['\\d{4}', 'pw=(\\S*)']\nmask: 'XY'\n", NULL, NULL,
	 NULL},
	{&filter_sample_plugin, "every: 2\nlevels: [debug]\n", NULL, NULL, NULL},
	{&filter_add_plugin, "headers: { a: b }\n", NULL, NULL, NULL},
};
#define NINST (sizeof(insts) / sizeof(insts[0]))

static void setup(void)
{
	for (size_t i = 0; i < NINST; i++) {
		struct cfg_error err;
		struct cfg_doc *doc;
		struct plugin_args a;
		void *conf;

		memset(&err, 0, sizeof(err));
		doc = cfg_load_string("f", insts[i].yaml, strlen(insts[i].yaml), &err);
		conf = mem_calloc(1, insts[i].p->conf_size);
		if (!doc || !conf ||
		    cfg_bind(cfg_doc_root(doc), insts[i].p->options, conf, "f", &err) < 0)
			abort();
		memset(&a, 0, sizeof(a));
		a.id = "fuzz";
		a.conf = conf;
		insts[i].conf = conf;
		insts[i].doc = doc;
		if (insts[i].p->init(&a, &insts[i].ctx, &err) < 0)
			abort();
	}
}

static void must_be_json(const struct event *ev)
{
	struct jdoc *d = NULL;

	if (jdoc_parse(ev->value, ev->value_len, &d, NULL) != 0)
		abort();
	jdoc_free(d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready;
	struct buf scratch;
	struct event ev;
	const struct record_header *pe;
	bool time_only;
	size_t which;

	if (!ready) {
		setup();
		ready = true;
	}
	if (size == 0)
		return 0;
	which = data[0] % 3;
	buf_init(&scratch, 1 << 20);
	memset(&ev, 0, sizeof(ev));
	ev.value = data + 1;
	ev.value_len = size - 1;
	insts[which].p->filter(insts[which].ctx, &ev, &scratch);
	pe = event_header(&ev, "parse_error");
	/* a bad time_key value is reported too, but the line did parse */
	time_only = pe && memmem(pe->value, (size_t)pe->value_len, " is not a ", 10);
	if (!pe || time_only) {
		if (which > 0)
			must_be_json(&ev);
		else if (jscan(ev.value, ev.value_len, NULL, NULL, NULL) != 0)
			abort();
	} else if (ev.value != (const void *)(data + 1)) {
		abort(); /* a failed parse keeps the raw line */
	}
	/* every filter sees the event (a drop ends nothing here) */
	for (size_t i = 3; i < NINST; i++)
		insts[i].p->filter(insts[i].ctx, &ev, &scratch);
	if (memmem(ev.value, ev.value_len, "pw=", 3)) {
		const char *v = memmem(ev.value, ev.value_len, "pw=", 3);
		size_t left = ev.value_len - (size_t)(v - (const char *)ev.value) - 3;

		/* after "pw=" comes the mask (or nothing: an empty secret) */
		if (left > 0 && !(left >= 2 && memcmp(v + 3, "XY", 2) == 0) && v[3] != ' ' &&
		    v[3] != '\t' && v[3] != '\n' && v[3] != '\r' && v[3] != '\f' && v[3] != '\v')
			abort();
	}
	buf_release(&scratch);
	return 0;
}
