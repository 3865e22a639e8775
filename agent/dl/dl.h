/* SPDX-License-Identifier: Apache-2.0 */
/*
 * agent/dl/: optional libraries (curl, rdkafka, systemd, codecs) loaded on first use.
 *
 * Optional libraries loaded on first use.
 *
 * sluice-agent links only what every configuration needs (libc, zstd, zlib,
 * libyaml, PCRE2).  libcurl (store and http outputs), librdkafka (kafka
 * output), libsystemd (journald input) and the snappy/LZ4 codecs bring some
 * forty shared libraries between them; mapped at start-up they cost an idle
 * agent several MiB of resident memory whether it uses them or not.  The
 * files in agent/dl/ define the functions the agent calls from those
 * libraries with their real names and prototypes; each forwards to the
 * library, dlopen()ed by its soname the first time any of its functions is
 * called.  Callers are unchanged, and the unit tests link the real libraries
 * instead of these files.
 *
 * When a library cannot be loaded its functions fail the way the library
 * itself reports failure (NULL handle, error code), and one log line names
 * the library, dlerror() and what needs it.
 */
#ifndef SLUICE_AGENT_DL_H
#define SLUICE_AGENT_DL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

struct dl_lib {
	const char *soname;       /* e.g. "libcurl.so.4" */
	const char *used_by;      /* for the log line: "the store and http outputs" */
	const char *const *names; /* the functions to resolve */
	void **fns;               /* filled in the order of names */
	size_t n;
	atomic_bool done; /* loaded or failed: ok says which */
	bool ok;
};

/* Load l once (thread-safe); true when every function resolved. */
bool dl_load(struct dl_lib *l);

#define DL_ENUM(name) DL_I_##name,
#define DL_NAME(name) #name,
/* The resolved function, typed from the library's own prototype. */
#define DL_FN(fns, name) ((__typeof__(&name))(fns)[DL_I_##name])

#endif
