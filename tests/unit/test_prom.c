/* SPDX-License-Identifier: Apache-2.0 */
/* Prometheus text output and the render registry. */
#include <string.h>

#include "lib/prom.h"
#include "tests/unit/unit.h"

static void render_a(struct buf *out, void *arg)
{
	char l[128];

	prom_family(out, "sluice_test_total", "counter", "A test counter.");
	prom_u64(out, "sluice_test_total",
		 prom_labels(l, sizeof(l), "topic", "a\"b", "p", "0", NULL), *(uint64_t *)arg);
}

static void render_b(struct buf *out, void *arg)
{
	(void)arg;
	prom_family(out, "sluice_up", "gauge", "Up.");
	prom_i64(out, "sluice_up", NULL, 1);
	prom_f64(out, "sluice_ratio", "x=\"1\"", 0.5);
}

static void test_render(void)
{
	struct prom_registry *r = prom_registry_new();
	uint64_t v = 42;
	struct buf b;

	buf_init(&b, 0);
	CU_ASSERT_EQUAL(prom_registry_add(r, render_a, &v), 0);
	CU_ASSERT_EQUAL(prom_registry_add(r, render_b, NULL), 0);
	prom_registry_render(r, &b);
	buf_cstr(&b);
	CU_ASSERT_STRING_EQUAL((char *)b.data,
			       "# HELP sluice_test_total A test counter.\n"
			       "# TYPE sluice_test_total counter\n"
			       "sluice_test_total{topic=\"a\\\"b\",p=\"0\"} 42\n"
			       "# HELP sluice_up Up.\n# TYPE sluice_up gauge\nsluice_up 1\n"
			       "sluice_ratio{x=\"1\"} 0.5\n");
	prom_registry_remove(r, render_a, &v);
	buf_reset(&b);
	prom_registry_render(r, &b);
	CU_ASSERT_PTR_NULL(memmem(b.data, b.len, "test_total", 10));
	buf_release(&b);
	prom_registry_free(r);
}

int main(void)
{
	static const struct unit_test tests[] = {
		UNIT_TEST(test_render),
		UNIT_END,
	};

	return unit_run("prom", tests);
}
