/* SPDX-License-Identifier: Apache-2.0 */
/* The metrics filter (counter, sum, histogram, labels, overflow, rendering)
 * and the required-literal prefilter it runs before PCRE2. */
#include <string.h>

#include "plugins/filters/xform.h"
#include "lib/re_literal.h"
#include "tests/unit/xform_harness.h"

extern const struct plugin filter_metrics_plugin;

static const char *lit(const char *pattern)
{
	static struct re_literal l;

	re_literal_init(&l, pattern);
	l.s[l.n < RE_LITERAL_MAX ? l.n : RE_LITERAL_MAX - 1] = '\0';
	return l.s;
}

static void test_literal(void)
{
	CU_ASSERT_STRING_EQUAL(lit("ERROR"), "ERROR");
	CU_ASSERT_STRING_EQUAL(lit("level=error .* timeout"), "level=error ");
	CU_ASSERT_STRING_EQUAL(lit("status=5\\d\\d"), "status=5");
	CU_ASSERT_STRING_EQUAL(lit("ab?cdef"), "cdef");
	CU_ASSERT_STRING_EQUAL(lit("xy*z"), "x");
	CU_ASSERT_STRING_EQUAL(lit("GET (/api|/v2) HTTP"), " HTTP");
	CU_ASSERT_STRING_EQUAL(lit("a[bc]defg"), "defg");
	CU_ASSERT_STRING_EQUAL(lit("\\[error\\]"), "[error]");
	CU_ASSERT_STRING_EQUAL(lit("\\x41BCD"), "BCD");
	CU_ASSERT_STRING_EQUAL(lit("x{2,3}yz"), "yz");
	CU_ASSERT_STRING_EQUAL(lit("\\p{Lu}abc"), "abc");
	/* no literal can be required */
	CU_ASSERT_STRING_EQUAL(lit("ERROR|WARN"), "");
	CU_ASSERT_STRING_EQUAL(lit("(?i)error"), "");
	CU_ASSERT_STRING_EQUAL(lit("\\d+"), "");
	CU_ASSERT_STRING_EQUAL(lit("(["), "");
	/* the prefilter never rejects what the regex would match */
	{
		struct re_literal l;

		re_literal_init(&l, "status=5\\d\\d");
		CU_ASSERT(re_literal_may_match(&l, "a status=503 b", 14));
		CU_ASSERT(!re_literal_may_match(&l, "a status=200 b", 14));
	}
}

static int has_line(struct xf *x, const char *line)
{
	struct buf b;
	int found;

	buf_init(&b, 1 << 20);
	filter_metrics_plugin.render(x->ctx, &b);
	buf_append_u8(&b, 0);
	found = strstr((const char *)b.data, line) != NULL;
	if (!found)
		fprintf(stderr, "missing %s in:\n%s\n", line, (const char *)b.data);
	buf_release(&b);
	return found;
}

static void test_counter_labels(void)
{
	struct xf x;

	CU_ASSERT_EQUAL_FATAL(xf_open(&x, &filter_metrics_plugin,
				      "name: http_errors_total\nmatch: '\"status\":5\\d\\d'\n"
				      "labels: { status: status, path: path }\n"),
			      0);
	CU_ASSERT_EQUAL(xf_run(&x, "{\"status\":503,\"path\":\"/a\"}"), FILTER_KEEP);
	CU_ASSERT_EQUAL(xf_run(&x, "{\"status\":503,\"path\":\"/a\"}"), FILTER_KEEP);
	CU_ASSERT_EQUAL(xf_run(&x, "{\"status\":500,\"path\":\"/b\\\"q\"}"), FILTER_KEEP);
	CU_ASSERT_EQUAL(xf_run(&x, "{\"status\":200,\"path\":\"/a\"}"), FILTER_KEEP);
	CU_ASSERT(has_line(&x, "# TYPE http_errors_total counter\n"));
	CU_ASSERT(has_line(&x, "http_errors_total{status=\"503\",path=\"/a\"} 2\n"));
	CU_ASSERT(has_line(&x, "http_errors_total{status=\"500\",path=\"/b\\\"q\"} 1\n"));
	CU_ASSERT_EQUAL(xf_metric(&x, "sluice_agent_metrics_matched_total"), 3);
	xf_close(&x);
}

static void test_overflow(void)
{
	struct xf x;
	char line[64];

	CU_ASSERT_EQUAL_FATAL(xf_open(&x, &filter_metrics_plugin,
				      "name: by_user\nlabels: { user: user }\nmax_series: 3\n"),
			      0);
	for (int i = 0; i < 10; i++) {
		snprintf(line, sizeof(line), "{\"user\":\"u%d\"}", i);
		xf_run(&x, line);
	}
	CU_ASSERT(has_line(&x, "by_user{user=\"u2\"} 1\n"));
	CU_ASSERT(has_line(&x, "by_user{user=\"__overflow__\"} 7\n"));
	CU_ASSERT_EQUAL(xf_metric(&x, "sluice_agent_metrics_overflow_total"), 7);
	CU_ASSERT_EQUAL(xf_metric(&x, "sluice_agent_metrics_series"), 4);
	xf_close(&x);
}

static void test_sum_histogram(void)
{
	struct xf x;

	CU_ASSERT_EQUAL_FATAL(xf_open(&x, &filter_metrics_plugin,
				      "name: bytes_total\nkind: sum\nvalue_field: bytes\n"),
			      0);
	xf_run(&x, "{\"bytes\":100}");
	xf_run(&x, "{\"bytes\":\"23.5\"}");
	xf_run(&x, "{\"bytes\":\"many\"}");
	CU_ASSERT(has_line(&x, "bytes_total 123.5\n"));
	CU_ASSERT_EQUAL(xf_metric(&x, "sluice_agent_metrics_bad_values_total"), 1);
	xf_close(&x);
	CU_ASSERT_EQUAL_FATAL(xf_open(&x, &filter_metrics_plugin,
				      "name: latency\nkind: histogram\nvalue_field: ms\n"
				      "buckets: [10, 100]\n"),
			      0);
	xf_run(&x, "{\"ms\":5}");
	xf_run(&x, "{\"ms\":50}");
	xf_run(&x, "{\"ms\":500}");
	CU_ASSERT(has_line(&x, "# TYPE latency histogram\n"));
	CU_ASSERT(has_line(&x, "latency_bucket{le=\"10\"} 1\n"));
	CU_ASSERT(has_line(&x, "latency_bucket{le=\"100\"} 2\n"));
	CU_ASSERT(has_line(&x, "latency_bucket{le=\"+Inf\"} 3\n"));
	CU_ASSERT(has_line(&x, "latency_sum 555\n"));
	CU_ASSERT(has_line(&x, "latency_count 3\n"));
	xf_close(&x);
	/* config errors */
	CU_ASSERT(xf_open(&x, &filter_metrics_plugin, "name: s\nkind: sum\n") < 0);
	xf_close(&x);
	CU_ASSERT(xf_open(&x, &filter_metrics_plugin,
			  "name: h\nkind: histogram\nvalue_field: v\nbuckets: [5, 1]\n") < 0);
	xf_close(&x);
	CU_ASSERT(xf_open(&x, &filter_metrics_plugin, "name: 'bad name'\n") < 0);
	xf_close(&x);
}

int main(void)
{
	static const struct unit_test tests[] = {
		UNIT_TEST(test_literal),
		UNIT_TEST(test_counter_labels),
		UNIT_TEST(test_overflow),
		UNIT_TEST(test_sum_histogram),
		UNIT_END,
	};

	return unit_run("filter_metrics", tests);
}
