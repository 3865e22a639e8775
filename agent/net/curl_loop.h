/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libcurl's multi interface driven by the agent's event loop
 * (curl_multi_socket_action): curl tells which sockets to watch and when to
 * time out, the loop reports readiness back, completed transfers are handed
 * to their callbacks.  Connections stay in the multi handle's cache between
 * requests (keep-alive).  For outputs that speak HTTP (store, http).
 *
 * Loop thread only.
 */
#ifndef SLUICE_AGENT_CURL_LOOP_H
#define SLUICE_AGENT_CURL_LOOP_H

#include <curl/curl.h>

#include "lib/evloop.h"

struct curl_loop;

typedef void (*curl_loop_done)(CURL *easy, CURLcode result, void *arg);

int curl_loop_new(struct evloop *loop, struct curl_loop **out);
/* Every transfer still running is removed without its callback. */
void curl_loop_free(struct curl_loop *cl);
/* Start a transfer; done runs on the loop thread when it ends.  The easy
 * handle stays the caller's.  0 or -EIO. */
int curl_loop_add(struct curl_loop *cl, CURL *easy, curl_loop_done done, void *arg);
/* Abandon a transfer (its callback will not run). */
void curl_loop_remove(struct curl_loop *cl, CURL *easy);

#endif
