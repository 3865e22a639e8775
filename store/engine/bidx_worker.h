/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The block index worker thread (bidx_worker.c), private to the engine.
 */
#ifndef SLUICE_STORE_BIDX_WORKER_H
#define SLUICE_STORE_BIDX_WORKER_H

struct engine;
struct bidx_worker;

/* Start the thread; count: the pattern whose matches are counted per
 * minute (NULL or "": none).  0, -ERR_CONFIG (bad pattern), -ENOMEM. */
int bidx_worker_start(struct engine *log, const char *count, struct bidx_worker **out);
/* Stop and free; NULL is a no-op. */
void bidx_worker_stop(struct bidx_worker *w);

#endif
