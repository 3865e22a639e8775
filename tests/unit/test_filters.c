/* SPDX-License-Identifier: Apache-2.0 */
/* Filters grep, redact, add, sample and rate_limit: what each keeps, drops
 * or rewrites, and their counters. */
#include "plugins/filters/xform.h"
#include "tests/unit/xform_harness.h"

extern const struct plugin filter_grep_plugin;
extern const struct plugin filter_redact_plugin;
extern const struct plugin filter_add_plugin;
extern const struct plugin filter_sample_plugin;
extern const struct plugin filter_rate_limit_plugin;

static void test_grep_raw(void)
{
	struct xf x;

	CU_ASSERT_EQUAL(
		xf_open(&x, &filter_grep_plugin, "include: 'ERROR|WARN'\nexclude: healthcheck\n"),
		0);
	CU_ASSERT_EQUAL(xf_run(&x, "2024 ERROR disk full"), FILTER_KEEP);
	CU_ASSERT_EQUAL(xf_run(&x, "2024 INFO all good"), FILTER_DROP);
	CU_ASSERT_EQUAL(xf_run(&x, "2024 WARN healthcheck slow"), FILTER_DROP);
	CU_ASSERT_EQUAL(xf_metric(&x, "sluice_agent_filter_grep_kept_total"), 1);
	CU_ASSERT_EQUAL(xf_metric(&x, "sluice_agent_filter_grep_dropped_total"), 2);
	xf_close(&x);
	/* neither include nor exclude, or a bad regex: config errors */
	CU_ASSERT(xf_open(&x, &filter_grep_plugin, "field: a\n") < 0);
	xf_close(&x);
	CU_ASSERT(xf_open(&x, &filter_grep_plugin, "include: '(['\n") < 0);
	xf_close(&x);
}

static void test_grep_field(void)
{
	struct xf x;
	struct record_header h = {(const uint8_t *)"level", 5, (const uint8_t *)"error", 5};

	CU_ASSERT_EQUAL(
		xf_open(&x, &filter_grep_plugin, "field: level\ninclude: '^(error|warn)$'\n"), 0);
	CU_ASSERT_EQUAL(xf_run(&x, "{\"level\":\"error\",\"msg\":\"level=info\"}"), FILTER_KEEP);
	CU_ASSERT_EQUAL(xf_run(&x, "{\"level\":\"info\",\"msg\":\"error\"}"), FILTER_DROP);
	CU_ASSERT_EQUAL(xf_run(&x, "{\"msg\":\"error\"}"), FILTER_DROP);        /* no field */
	CU_ASSERT_EQUAL(xf_run(&x, "{\"level\":\"w\\u0061rn\"}"), FILTER_KEEP); /* decoded */
	/* not JSON: a header of that name is the subject */
	memset(&x.ev, 0, sizeof(x.ev));
	x.ev.value = "raw line";
	x.ev.value_len = 8;
	x.ev.headers = &h;
	x.ev.nheaders = 1;
	CU_ASSERT_EQUAL(x.p->filter(x.ctx, &x.ev, &x.scratch), FILTER_KEEP);
	xf_close(&x);
}

static void test_redact(void)
{
	struct xf x;
	const char *clean = "nothing to hide here";

	CU_ASSERT_EQUAL(
		xf_open(&x, &filter_redact_plugin,
			"patterns: ['\\b(?:\\d{4}[- ]?){3}\\d{4}\\b', 'password=([^&\\s\"]+)']\n"
			"mask: '****'\n"),
		0);
	CU_ASSERT_EQUAL(
		xf_run(&x,
		       "card 4111-1111-1111-1111 and 5500 0000 0000 0004 user=a&password=s3cr3t&x=1"),
		FILTER_KEEP);
	CU_ASSERT(xf_value_is(&x, "card **** and **** user=a&password=****&x=1"));
	/* no match: the very same bytes go on, no copy */
	CU_ASSERT_EQUAL(xf_run(&x, clean), FILTER_KEEP);
	CU_ASSERT(x.ev.value == (const void *)clean);
	/* only the second pattern, at the end of the line */
	xf_run(&x, "{\"q\":\"password=abc\"}");
	CU_ASSERT(xf_value_is(&x, "{\"q\":\"password=****\"}"));
	CU_ASSERT_EQUAL(xf_metric(&x, "sluice_agent_filter_redact_events_total"), 2);
	CU_ASSERT_EQUAL(xf_metric(&x, "sluice_agent_filter_redact_matches_total"), 4);
	xf_close(&x);
	/* a backreference: patterns run one after the other, each on the
	 * previous result */
	CU_ASSERT_EQUAL(xf_open(&x, &filter_redact_plugin,
				"patterns: ['(\\w)\\1x', 'key=(\\w+)']\nmask: '#'\n"),
			0);
	xf_run(&x, "aax key=bbx");
	CU_ASSERT(xf_value_is(&x, "#ax key=#bx")); /* group 1 only; "#" is no \\w */
	xf_close(&x);
	/* one pass: overlapping patterns, the leftmost match wins */
	CU_ASSERT_EQUAL(xf_open(&x, &filter_redact_plugin,
				"patterns: ['secret', 'cret=(\\d+)']\nmask: '#'\n"),
			0);
	xf_run(&x, "secret=12 cret=34");
	CU_ASSERT(xf_value_is(&x, "#=12 cret=#"));
	xf_close(&x);
	/* empty matches do not loop forever */
	CU_ASSERT_EQUAL(xf_open(&x, &filter_redact_plugin, "patterns: ['x*']\n"), 0);
	xf_run(&x, "abxxc");
	CU_ASSERT(xf_value_is(&x, "ab[REDACTED]c"));
	xf_close(&x);
}

static void test_add(void)
{
	struct xf x;
	struct record_header h = {(const uint8_t *)"unit", 4, (const uint8_t *)"a.service", 9};
	char v[64];

	CU_ASSERT_EQUAL(xf_open(&x, &filter_add_plugin, "headers: { env: prod, team: payments }\n"),
			0);
	memset(&x.ev, 0, sizeof(x.ev));
	x.ev.value = "v";
	x.ev.value_len = 1;
	x.ev.headers = &h;
	x.ev.nheaders = 1;
	CU_ASSERT_EQUAL(x.p->filter(x.ctx, &x.ev, &x.scratch), FILTER_KEEP);
	CU_ASSERT_EQUAL(x.ev.nheaders, 3);
	CU_ASSERT(xf_header(&x, "unit", v, sizeof(v)) && strcmp(v, "a.service") == 0);
	CU_ASSERT(xf_header(&x, "env", v, sizeof(v)) && strcmp(v, "prod") == 0);
	CU_ASSERT(xf_header(&x, "team", v, sizeof(v)) && strcmp(v, "payments") == 0);
	CU_ASSERT_EQUAL(xf_metric(&x, "sluice_agent_filter_add_events_total"), 1);
	xf_close(&x);
	CU_ASSERT(xf_open(&x, &filter_add_plugin, "headers: {}\n") < 0);
	xf_close(&x);
}

static void test_sample(void)
{
	struct xf x;
	int kept = 0;

	CU_ASSERT_EQUAL(xf_open(&x, &filter_sample_plugin, "every: 3\nlevels: [debug, TRACE]\n"),
			0);
	for (int i = 0; i < 9; i++)
		kept += xf_run(&x, "{\"level\":\"DEBUG\"}") == FILTER_KEEP;
	CU_ASSERT_EQUAL(kept, 3);
	kept = 0;
	for (int i = 0; i < 5; i++)
		kept += xf_run(&x, "{\"level\":\"error\"}") == FILTER_KEEP;
	CU_ASSERT_EQUAL(kept, 5); /* other levels pass */
	CU_ASSERT_EQUAL(xf_run(&x, "no level at all"), FILTER_KEEP);
	CU_ASSERT_EQUAL(xf_metric(&x, "sluice_agent_filter_sample_kept_total"), 3);
	CU_ASSERT_EQUAL(xf_metric(&x, "sluice_agent_filter_sample_dropped_total"), 6);
	xf_close(&x);
	CU_ASSERT_EQUAL(xf_open(&x, &filter_sample_plugin, "every: 2\n"), 0);
	CU_ASSERT_EQUAL(xf_run(&x, "a"), FILTER_KEEP);
	CU_ASSERT_EQUAL(xf_run(&x, "b"), FILTER_DROP);
	CU_ASSERT_EQUAL(xf_run(&x, "c"), FILTER_KEEP);
	xf_close(&x);
	CU_ASSERT(xf_open(&x, &filter_sample_plugin, "every: 0\n") < 0);
	xf_close(&x);
}

static uint64_t fake_ms;
static uint64_t fake_clock(void)
{
	return fake_ms;
}

static int run_keyed(struct xf *x, const char *key)
{
	memset(&x->ev, 0, sizeof(x->ev));
	x->ev.value = "v";
	x->ev.value_len = 1;
	x->ev.key = key;
	x->ev.key_len = strlen(key);
	return x->p->filter(x->ctx, &x->ev, &x->scratch) == FILTER_KEEP;
}

static void test_rate_limit(void)
{
	uint64_t (*saved)(void) = filter_rate_limit_clock;
	struct xf x;
	int kept = 0;

	filter_rate_limit_clock = fake_clock;
	fake_ms = 1000000;
	CU_ASSERT_EQUAL(xf_open(&x, &filter_rate_limit_plugin,
				"events_per_second: 10\nburst: 5\nmax_sources: 2\n"),
			0);
	for (int i = 0; i < 20; i++)
		kept += run_keyed(&x, "h:a");
	CU_ASSERT_EQUAL(kept, 5); /* the burst */
	/* another source has its own bucket */
	CU_ASSERT(run_keyed(&x, "h:b"));
	/* 300 ms later: 3 more tokens */
	fake_ms += 300;
	kept = 0;
	for (int i = 0; i < 10; i++)
		kept += run_keyed(&x, "h:a");
	CU_ASSERT_EQUAL(kept, 3);
	/* a long pause refills up to the burst only */
	fake_ms += 60000;
	kept = 0;
	for (int i = 0; i < 10; i++)
		kept += run_keyed(&x, "h:a");
	CU_ASSERT_EQUAL(kept, 5);
	CU_ASSERT_EQUAL(xf_metric(&x, "sluice_agent_filter_rate_limit_passed_total"), 14);
	CU_ASSERT_EQUAL(xf_metric(&x, "sluice_agent_filter_rate_limit_dropped_total"), 27);
	/* a third source with max_sources 2: the idle bucket (h:b) goes */
	CU_ASSERT(run_keyed(&x, "h:c"));
	CU_ASSERT_EQUAL(xf_metric(&x, "sluice_agent_filter_rate_limit_sources"), 2);
	xf_close(&x);
	filter_rate_limit_clock = saved;
}

int main(void)
{
	static const struct unit_test tests[] = {
		UNIT_TEST(test_grep_raw),
		UNIT_TEST(test_grep_field),
		UNIT_TEST(test_redact),
		UNIT_TEST(test_add),
		UNIT_TEST(test_sample),
		UNIT_TEST(test_rate_limit),
		UNIT_END,
	};

	return unit_run("filters", tests);
}
