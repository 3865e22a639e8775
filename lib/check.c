/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The failure path of SLUICE_ASSERT (lib/check.h), for the debug builds: name
 * the broken invariant on stderr and abort, so ASan, the fuzzer or a core
 * dump shows where.  Release builds compile the assertions out but keep this
 * function, so that objects of either kind link against one libsluice.
 */
#include <stdio.h>
#include <stdlib.h>

#include "lib/check.h"

_Noreturn void sluice_assert_fail(const char *expr, const char *file, int line, const char *func);

_Noreturn void sluice_assert_fail(const char *expr, const char *file, int line, const char *func)
{
	fprintf(stderr, "%s:%d: %s: assertion failed: %s\n", file, line, func, expr);
	abort();
}
