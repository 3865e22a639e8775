/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Functions product code must not call, refused at compile time.
 *
 * The Makefile force-includes this header (-include lib/banned.h) ahead of
 * every source file of lib/, store/, agent/, plugins/ and cli/, in the normal,
 * ASan and fuzz builds alike; tests are not product code and do not get it.
 * A call to a banned function then expands to an undeclared identifier whose
 * name says why, e.g. "sorry_strcpy_is_banned_see_lib_banned_h".
 *
 * Why each one is banned, and what to use instead:
 *   strcpy strcat strncpy strncat sprintf vsprintf gets: unbounded or
 *     silently truncating without NUL; use snprintf, buf_printf, memcpy with a
 *     known length (lib/buf.h).
 *   atoi atol atoll atof: no error reporting; use strtoll/strtoull with end
 *     checks (cfg_parse_int, lib/config.h).
 *   strtok: hidden static state; use strtok_r or a struct cursor.
 *   strerror: not thread-safe; use err_str(-errno) (lib/err.h).
 *   gmtime localtime ctime asctime: static result buffers; use the _r forms.
 *   tmpnam tempnam mktemp: racy names; use mkstemp or fs_write_atomic.
 *
 * The system headers that declare these functions are included here first,
 * so their declarations (and glibc's _FORTIFY_SOURCE inline wrappers) are
 * parsed before the macros exist and cannot be broken by them; later
 * #includes of the same headers are no-ops thanks to their include guards.
 * The macros are function-like, so only a call is refused. This works the
 * same with gcc and clang (the fuzz build).
 */
#ifndef SLUICE_BANNED_H
#define SLUICE_BANNED_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SLUICE_BANNED(func) sorry_##func##_is_banned_see_lib_banned_h

#undef strcpy
#define strcpy(...) SLUICE_BANNED(strcpy)
#undef strcat
#define strcat(...) SLUICE_BANNED(strcat)
#undef strncpy
#define strncpy(...) SLUICE_BANNED(strncpy)
#undef strncat
#define strncat(...) SLUICE_BANNED(strncat)
#undef sprintf
#define sprintf(...) SLUICE_BANNED(sprintf)
#undef vsprintf
#define vsprintf(...) SLUICE_BANNED(vsprintf)
#undef gets
#define gets(...) SLUICE_BANNED(gets)

#undef atoi
#define atoi(...) SLUICE_BANNED(atoi)
#undef atol
#define atol(...) SLUICE_BANNED(atol)
#undef atoll
#define atoll(...) SLUICE_BANNED(atoll)
#undef atof
#define atof(...) SLUICE_BANNED(atof)

#undef strtok
#define strtok(...) SLUICE_BANNED(strtok)
#undef strerror
#define strerror(...) SLUICE_BANNED(strerror)

#undef gmtime
#define gmtime(...) SLUICE_BANNED(gmtime)
#undef localtime
#define localtime(...) SLUICE_BANNED(localtime)
#undef ctime
#define ctime(...) SLUICE_BANNED(ctime)
#undef asctime
#define asctime(...) SLUICE_BANNED(asctime)

#undef tmpnam
#define tmpnam(...) SLUICE_BANNED(tmpnam)
#undef tempnam
#define tempnam(...) SLUICE_BANNED(tempnam)
#undef mktemp
#define mktemp(...) SLUICE_BANNED(mktemp)

#endif
