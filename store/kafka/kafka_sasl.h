/* SPDX-License-Identifier: Apache-2.0 */
/*
 * SASL on the Kafka listener: SaslHandshake (key 17, v0-v1) and
 * SaslAuthenticate (key 36, v0-v2) with PLAIN and SCRAM-SHA-256/512, the
 * per-connection session and the gate that keeps an unauthenticated
 * connection to ApiVersions, SaslHandshake and SaslAuthenticate.
 *
 * Handshake v0 (kafka-python, old clients) is followed by bare SASL tokens
 * in size-prefixed frames without a request header, answered the same way
 * (PLAIN success: an empty frame); handshake v1 by SaslAuthenticate
 * requests.  A failed authentication answers SASL_AUTHENTICATION_FAILED
 * (58) when the client can read it, then closes the connection; refusals
 * are counted in sluice_auth_failures_total{listener="kafka",reason=...}.
 * Neither passwords nor SASL bytes are ever logged.
 *
 * Re-authentication (KIP-368): with kafka.connections_max_reauth set, a
 * SaslAuthenticate v1+ success carries session_lifetime_ms; a connection
 * that sends anything but ApiVersions/SaslHandshake/SaslAuthenticate after
 * the session expires is closed.  A client may re-authenticate at any time
 * with a new handshake, as the same principal only.
 *
 * The session's `principal` is the connection's identity for ACLs and
 * producer-id ownership: "User:ANONYMOUS" until SASL succeeds, then
 * "User:NAME".  A TLS layer that verified a client certificate writes
 * "User:<subject>" there at accept (kafka_sess_set_principal); SASL, when
 * enabled on the listener, replaces it.  The session does not depend on
 * the transport.
 *
 * Event-loop thread only.
 */
#ifndef SLUICE_STORE_KAFKA_SASL_H
#define SLUICE_STORE_KAFKA_SASL_H

#include <stdbool.h>
#include <stdint.h>

#include "store/auth/auth.h"
#include "store/kafka/kwire.h"

struct kafka_req;
struct scram_server;

/* Zeroed memory is a fresh session: the first frame fills it in. */
struct kafka_sess {
	char principal[AUTH_PRINCIPAL_MAX]; /* "": not set yet (anonymous) */
	bool ready;                         /* filled in from the listener's configuration */
	unsigned mechs;                     /* enabled on the listener; 0: no SASL */
	unsigned mech;                      /* chosen by the last handshake; 0: none */
	bool authenticated;                 /* by SASL (or SASL is off) */
	bool ever_authenticated;            /* re-authentication keeps the principal */
	bool raw;                           /* after handshake v0: bare tokens follow */
	bool failed;                        /* refused: the connection is closing */
	struct scram_server *scram;         /* an exchange in progress */
	uint64_t expire_ns;                 /* monotonic end of the session; 0: never */
};

/* Free an exchange in progress (the connection closes). */
void kafka_sess_release(struct kafka_sess *s);
/* Set the principal (e.g. "User:CN=web-01" from a client certificate). */
void kafka_sess_set_principal(struct kafka_sess *s, const char *principal);

/* May a request of api_key run on this session?  0, or -ERR_AUTH when the
 * connection must close (counted in a's metrics). */
int kafka_sess_gate(struct kafka_sess *s, struct auth *a, int16_t api_key);

/* The server's hooks.  parse_header replaces kafka_api_parse_header() for
 * a connection's frames: it attaches s to r and, after a handshake v0,
 * reads the frame as a bare token (SaslAuthenticate at version -1, whose
 * decoder takes the whole frame).  handle runs the gate, then the API's
 * handler, or closes the connection (r->ctx->req_fail). */
int kafka_sasl_parse_header(struct kafka_sess *s, struct kafka_req *r);
void kafka_sasl_handle(struct kafka_req *r);

/* Handlers over the generated structs (kmsg_gen.h).  SaslAuthenticate keeps
 * a decoder of its own for the bare tokens (version -1, the whole frame);
 * every real version goes to the schema codec. */
void kafka_sasl_handshake_handle(struct kafka_req *r);
void *kafka_sasl_authenticate_decode(struct kwire_dec *d, int16_t v);
void kafka_sasl_authenticate_handle(struct kafka_req *r);

#endif
