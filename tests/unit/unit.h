/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tiny harness over CUnit: each tests/unit/test_<module>.c lists its tests in
 * a table and calls unit_run(), which prints CUnit's own summary (real
 * counts) and returns non-zero when any assertion failed.
 */
#ifndef SLUICE_TESTS_UNIT_H
#define SLUICE_TESTS_UNIT_H

#include <CUnit/Basic.h>
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>

struct unit_test {
	const char *name;
	void (*fn)(void);
};

#define UNIT_TEST(f)  \
	{             \
#f, f \
	}
#define UNIT_END           \
	{                  \
		NULL, NULL \
	}

static inline int unit_run(const char *suite, const struct unit_test *tests)
{
	CU_pSuite s;
	unsigned failed;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 2;
	s = CU_add_suite(suite, NULL, NULL);
	if (!s)
		return 2;
	for (const struct unit_test *t = tests; t->name; t++)
		if (!CU_add_test(s, t->name, t->fn))
			return 2;
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
	CU_cleanup_registry();
	return failed ? 1 : 0;
}

/* A fresh temporary directory for a test; the caller removes it. */
static inline char *unit_tmpdir(void)
{
	static char path[64];

	snprintf(path, sizeof(path), "/tmp/sluice-unit-XXXXXX");
	if (!mkdtemp(path)) {
		perror("mkdtemp");
		exit(2);
	}
	return path;
}

#endif
