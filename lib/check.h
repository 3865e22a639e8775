/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Checks the compiler and the debug builds make for us.
 *
 * SLUICE_MUST_CHECK marks a fallible function (one that returns a negative
 * error code, lib/err.h): ignoring its result is a compile error under
 * -Werror.  gcc does not accept a (void) cast as "checked", so a caller that
 * really has nothing to do on failure writes SLUICE_IGNORE(call) and says
 * why in a comment next to it.
 *
 * SLUICE_ASSERT(cond) checks an invariant of our own code (never input from
 * outside: that is an error return).  It is compiled in when SLUICE_DEBUG is
 * defined, which the ASan (SAN=1) and fuzz builds do, and aborts with the
 * expression, file and line; in release builds it evaluates nothing.
 */
#ifndef SLUICE_CHECK_H
#define SLUICE_CHECK_H

#define SLUICE_MUST_CHECK __attribute__((warn_unused_result))

/* The ! makes the value "used" for gcc's warn_unused_result. */
#define SLUICE_IGNORE(call) ((void)!(call))

#ifdef SLUICE_DEBUG
_Noreturn void sluice_assert_fail(const char *expr, const char *file, int line, const char *func);
#define SLUICE_ASSERT(cond) \
	((cond) ? (void)0 : sluice_assert_fail(#cond, __FILE__, __LINE__, __func__))
#else
/* sizeof: the expression is still type-checked, never evaluated. */
#define SLUICE_ASSERT(cond) ((void)sizeof(!(cond)))
#endif

#endif
