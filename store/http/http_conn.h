/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The socket context of one HTTP connection (libmicrohttpd's
 * MHD_OPTION_NOTIFY_CONNECTION slot), shared by the layers that keep
 * per-connection state: each has its own field, so neither overwrites the
 * other's.  Allocated by http_api's connection callback when a connection
 * starts, freed when it closes; NULL when that allocation failed (the layers
 * then keep nothing for the connection).
 */
#ifndef SLUICE_STORE_HTTP_CONN_H
#define SLUICE_STORE_HTTP_CONN_H

#include <microhttpd.h>
#include <stddef.h>

struct http_conn_ctx {
	void *limits; /* http_limits: the tracked connection */
	void *tls;    /* http_tls: the client-certificate verdict */
};

static inline struct http_conn_ctx *http_conn_ctx_of(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *i =
		MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

	return i ? i->socket_context : NULL;
}

#endif
