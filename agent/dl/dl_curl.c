/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libcurl on first use (see dl.h): the store and http outputs.
 *
 * The three variadic functions take exactly one argument after the option;
 * its type follows from the option's number range (curl.h: CURLOPTTYPE_* for
 * options, a pointer for every CURLINFO), so it is read with that type and
 * passed on.
 */
#define CURL_DISABLE_TYPECHECK 1
#include <curl/curl.h>
#include <stdarg.h>

#include "agent/dl/dl.h"

/* clang-format off */
#define FNS(X)                                                                      \
	X(curl_global_init) X(curl_easy_init) X(curl_easy_cleanup) X(curl_easy_setopt)   \
	X(curl_easy_getinfo) X(curl_easy_perform) X(curl_easy_strerror)                  \
	X(curl_multi_init) X(curl_multi_cleanup) X(curl_multi_setopt)                    \
	X(curl_multi_add_handle) X(curl_multi_remove_handle) X(curl_multi_assign)        \
	X(curl_multi_socket_action) X(curl_multi_info_read) X(curl_slist_append)         \
	X(curl_slist_free_all)
/* clang-format on */

enum { FNS(DL_ENUM) DL_N };
static const char *const names[] = {FNS(DL_NAME)};
static void *fns[DL_N];
static struct dl_lib lib = {
	.soname = "libcurl.so.4",
	.used_by = "the store and http outputs",
	.names = names,
	.fns = fns,
	.n = DL_N,
};

#define F(name) DL_FN(fns, name)

CURLcode curl_global_init(long flags)
{
	return dl_load(&lib) ? F(curl_global_init)(flags) : CURLE_FAILED_INIT;
}

CURL *curl_easy_init(void)
{
	return dl_load(&lib) ? F(curl_easy_init)() : NULL;
}

void curl_easy_cleanup(CURL *curl)
{
	if (dl_load(&lib))
		F(curl_easy_cleanup)(curl);
}

/* One option argument of the type its number says. */
#define FORWARD_OPTION(call, opt, ap)                                   \
	((opt) < CURLOPTTYPE_OBJECTPOINT ? call(va_arg(ap, long))       \
	 : (opt) < CURLOPTTYPE_OFF_T     ? call(va_arg(ap, void *))     \
	 : (opt) < CURLOPTTYPE_BLOB      ? call(va_arg(ap, curl_off_t)) \
					 : call(va_arg(ap, void *)))

CURLcode curl_easy_setopt(CURL *curl, CURLoption option, ...)
{
	va_list ap;
	CURLcode rc;

	if (!dl_load(&lib))
		return CURLE_FAILED_INIT;
	va_start(ap, option);
#define CALL(v) F(curl_easy_setopt)(curl, option, v)
	rc = FORWARD_OPTION(CALL, option, ap);
#undef CALL
	va_end(ap);
	return rc;
}

CURLcode curl_easy_getinfo(CURL *curl, CURLINFO info, ...)
{
	va_list ap;
	CURLcode rc;

	if (!dl_load(&lib))
		return CURLE_FAILED_INIT;
	va_start(ap, info);
	rc = F(curl_easy_getinfo)(curl, info, va_arg(ap, void *));
	va_end(ap);
	return rc;
}

CURLcode curl_easy_perform(CURL *curl)
{
	return dl_load(&lib) ? F(curl_easy_perform)(curl) : CURLE_FAILED_INIT;
}

const char *curl_easy_strerror(CURLcode code)
{
	return dl_load(&lib) ? F(curl_easy_strerror)(code) : "libcurl.so.4 cannot be loaded";
}

CURLM *curl_multi_init(void)
{
	return dl_load(&lib) ? F(curl_multi_init)() : NULL;
}

CURLMcode curl_multi_cleanup(CURLM *multi)
{
	return dl_load(&lib) ? F(curl_multi_cleanup)(multi) : CURLM_INTERNAL_ERROR;
}

CURLMcode curl_multi_setopt(CURLM *multi, CURLMoption option, ...)
{
	va_list ap;
	CURLMcode rc;

	if (!dl_load(&lib))
		return CURLM_INTERNAL_ERROR;
	va_start(ap, option);
#define CALL(v) F(curl_multi_setopt)(multi, option, v)
	rc = FORWARD_OPTION(CALL, option, ap);
#undef CALL
	va_end(ap);
	return rc;
}

CURLMcode curl_multi_add_handle(CURLM *multi, CURL *curl)
{
	return dl_load(&lib) ? F(curl_multi_add_handle)(multi, curl) : CURLM_INTERNAL_ERROR;
}

CURLMcode curl_multi_remove_handle(CURLM *multi, CURL *curl)
{
	return dl_load(&lib) ? F(curl_multi_remove_handle)(multi, curl) : CURLM_INTERNAL_ERROR;
}

CURLMcode curl_multi_assign(CURLM *multi, curl_socket_t sockfd, void *sockp)
{
	return dl_load(&lib) ? F(curl_multi_assign)(multi, sockfd, sockp) : CURLM_INTERNAL_ERROR;
}

CURLMcode curl_multi_socket_action(CURLM *multi, curl_socket_t s, int ev_bitmask,
				   int *running_handles)
{
	return dl_load(&lib) ? F(curl_multi_socket_action)(multi, s, ev_bitmask, running_handles)
			     : CURLM_INTERNAL_ERROR;
}

CURLMsg *curl_multi_info_read(CURLM *multi, int *msgs_in_queue)
{
	if (!dl_load(&lib)) {
		*msgs_in_queue = 0;
		return NULL;
	}
	return F(curl_multi_info_read)(multi, msgs_in_queue);
}

struct curl_slist *curl_slist_append(struct curl_slist *list, const char *data)
{
	return dl_load(&lib) ? F(curl_slist_append)(list, data) : NULL;
}

void curl_slist_free_all(struct curl_slist *list)
{
	if (dl_load(&lib))
		F(curl_slist_free_all)(list);
}
