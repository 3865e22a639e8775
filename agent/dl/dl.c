/* SPDX-License-Identifier: Apache-2.0 */
#include <dlfcn.h>
#include <pthread.h>

#include "agent/dl/dl.h"
#include "lib/log.h"

static void load(struct dl_lib *l)
{
	void *h = dlopen(l->soname, RTLD_NOW | RTLD_LOCAL);
	const char *e;

	if (!h) {
		e = dlerror();
		log_error("cannot load %s (needed by %s): %s", l->soname, l->used_by,
			  e ? e : "unknown error");
		return;
	}
	for (size_t i = 0; i < l->n; i++) {
		/* POSIX: a function pointer round-trips through void *. */
		l->fns[i] = dlsym(h, l->names[i]);
		if (!l->fns[i]) {
			log_error("%s has no %s (needed by %s); is it too old?", l->soname,
				  l->names[i], l->used_by);
			return; /* h stays loaded: harmless, and nothing half-works */
		}
	}
	l->ok = true;
}

bool dl_load(struct dl_lib *l)
{
	static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

	if (atomic_load_explicit(&l->done, memory_order_acquire))
		return l->ok;
	pthread_mutex_lock(&lock);
	if (!atomic_load_explicit(&l->done, memory_order_relaxed)) {
		load(l);
		atomic_store_explicit(&l->done, true, memory_order_release);
	}
	pthread_mutex_unlock(&lock);
	return l->ok;
}
