/* SPDX-License-Identifier: Apache-2.0 */
/* Alert rules (lib/alert.h, lib/alert_expr.h): conditions, rule files and
 * their errors (file:line:column), windows, absence, grouping, state. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/alert.h"
#include "lib/buf.h"
#include "tests/unit/unit.h"

static void test_expr(void)
{
	struct alert_expr e;
	char why[128], back[64];
	int col = 0;

	CU_ASSERT_EQUAL(alert_expr_parse("count > 100 in 5m", &e, why, sizeof(why), &col), 0);
	CU_ASSERT(e.kind == ALERT_THRESHOLD && e.op == ALERT_GT && e.threshold == 100 &&
		  e.window_ms == 300000);
	CU_ASSERT(alert_expr_holds(&e, 101) && !alert_expr_holds(&e, 100));
	CU_ASSERT_EQUAL(alert_expr_parse("no events for 1h30m", &e, why, sizeof(why), &col), 0);
	CU_ASSERT(e.kind == ALERT_ABSENCE && e.window_ms == 5400000);
	alert_expr_format(&e, back, sizeof(back));
	CU_ASSERT_STRING_EQUAL(back, "no events for 90m");
	CU_ASSERT(alert_expr_parse("count >> 1 in 5m", &e, why, sizeof(why), &col) < 0);
	CU_ASSERT_EQUAL(col, 7);
	CU_ASSERT(alert_expr_parse("count > 1 in 5x", &e, why, sizeof(why), &col) < 0);
	CU_ASSERT_EQUAL(col, 14);
	CU_ASSERT(alert_expr_parse("count > 1 in 500ms", &e, why, sizeof(why), &col) < 0);
	CU_ASSERT(alert_expr_parse("count > 1 in 5m extra", &e, why, sizeof(why), &col) < 0);
	CU_ASSERT_EQUAL(col, 17);
}

static char *write_rules(const char *text)
{
	static char path[64];
	FILE *f;

	snprintf(path, sizeof(path), "/tmp/test_alert.%d.yaml", (int)getpid());
	f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
	return path;
}

static void test_rules_errors(void)
{
	struct alert_rules *r = NULL;
	struct cfg_error err;
	char *p;

	p = write_rules("rules:\n  - name: A\n    condition: count > x in 5m\n");
	CU_ASSERT(alert_rules_load(p, &r, &err) < 0);
	CU_ASSERT(strstr(err.msg, ":3:24:") != NULL);
	p = write_rules("rules:\n  - name: A\n    match: 'a(b'\n    condition: count > 1 in 5m\n");
	CU_ASSERT(alert_rules_load(p, &r, &err) < 0);
	CU_ASSERT(strstr(err.msg, ":3:") != NULL);
	p = write_rules("rules:\n  - name: A\n    condition: no events for 1m\n"
			"  - name: A\n    condition: no events for 1m\n");
	CU_ASSERT(alert_rules_load(p, &r, &err) < 0);
	CU_ASSERT(strstr(err.msg, "used twice") != NULL);
	unlink(p);
}

struct changes {
	int firing, resolved;
	char last[64];
};

static void on_change(void *arg, const struct alert_view *v, enum alert_change c)
{
	struct changes *ch = arg;

	if (c == ALERT_FIRING)
		ch->firing++;
	else
		ch->resolved++;
	snprintf(ch->last, sizeof(ch->last), "%s/%s", v->name, v->ngroup ? v->group_vals[0] : "");
}

static void feed(struct alert_engine *e, int64_t ts, const char *line)
{
	struct alert_event ev = {.ts = ts, .value = line, .len = strlen(line), .topic = "app"};

	alert_engine_feed(e, &ev);
}

static void test_engine(void)
{
	struct alert_rules *r = NULL;
	struct alert_engine *e, *e2;
	struct cfg_error err;
	struct changes ch = {0};
	struct buf b;
	char *p;

	p = write_rules("rules:\n  - name: Errors\n    match: 'level=error'\n"
			"    group_by: [svc]\n    condition: count > 2 in 1m\n"
			"  - name: Quiet\n    group_by: [svc]\n    condition: no events for 30s\n");
	CU_ASSERT_EQUAL_FATAL(alert_rules_load(p, &r, &err), 0);
	unlink(p);
	e = alert_engine_new(r, 100);
	for (int i = 0; i < 3; i++)
		feed(e, 1000000 + i * 1000, "{\"svc\":\"a\",\"msg\":\"level=error x\"}");
	feed(e, 1000000, "{\"svc\":\"b\",\"msg\":\"level=error y\"}");
	alert_engine_eval(e, 1003000, on_change, &ch);
	CU_ASSERT_EQUAL(ch.firing, 1);
	CU_ASSERT_STRING_EQUAL(ch.last, "Errors/a");
	/* a restart: the state carries the firing alert and the windows */
	buf_init(&b, 1 << 20);
	CU_ASSERT_EQUAL(alert_engine_save(e, &b), 0);
	e2 = alert_engine_new(r, 100);
	CU_ASSERT_EQUAL(alert_engine_load(e2, (const char *)b.data, b.len), 4);
	ch.firing = 0;
	alert_engine_eval(e2, 1004000, on_change, &ch);
	CU_ASSERT_EQUAL(ch.firing, 0); /* restored firing, not fired again */
	/* the window moves on: resolved; 30 s of silence: Quiet fires for a and b */
	alert_engine_eval(e2, 1000000 + 62000, on_change, &ch);
	CU_ASSERT_EQUAL(ch.resolved, 1);
	CU_ASSERT_EQUAL(ch.firing, 2);
	buf_release(&b);
	alert_engine_free(e);
	alert_engine_free(e2);
	alert_rules_free(r);
}

int main(void)
{
	static const struct unit_test tests[] = {
		UNIT_TEST(test_expr),
		UNIT_TEST(test_rules_errors),
		UNIT_TEST(test_engine),
		UNIT_END,
	};

	return unit_run("alert", tests);
}
