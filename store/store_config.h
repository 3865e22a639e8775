/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sluice-store configuration: the store.yaml schema (one option table per
 * section, which also prints --help), built-in defaults so the store runs
 * without a file, and the command-line flags that override the file.
 *
 *   store:  data_dir, log_level, log_format
 *   kafka:  listen, advertised, max_request_bytes, max_connections, ...,
 *           tls { cert, key, client_ca, client_auth }, allow_insecure
 *   http:   listen, tokens_file, max_body_bytes, threads, tls, allow_insecure
 *   log:    fsync, fsync_interval, auto_create, default_partitions,
 *           retention, retention_bytes, segment_bytes, segment_age,
 *           max_batch_bytes, index_interval_bytes, min_free_bytes/percent
 *   groups: offsets_retention, min/max_session_timeout, initial_rebalance_delay
 *   quotas: produce/fetch_bytes_per_sec, produce/fetch_overrides, max_throttle
 *   auth:   users_file, acl_file (kafka.sasl turns SASL on)
 *
 * Not thread-safe; loaded once by main() before threads start.
 */
#ifndef SLUICE_STORE_CONFIG_H
#define SLUICE_STORE_CONFIG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "lib/config.h"

struct store_section {
	char *data_dir;
	char *log_level;
	int log_format; /* 0 text, 1 json */
};

/* kafka.tls and http.tls; TLS is on when cert is set. */
enum tls_client_auth { TLS_CLIENT_AUTH_NONE, TLS_CLIENT_AUTH_REQUEST, TLS_CLIENT_AUTH_REQUIRE };

struct tls_section {
	char *cert;      /* PEM chain, leaf first; NULL: plaintext */
	char *key;       /* PEM private key */
	char *client_ca; /* PEM CAs that sign client certificates (mTLS) */
	int client_auth; /* enum tls_client_auth */
};

struct kafka_section {
	char *listen;
	char *advertised; /* NULL: the listen address */
	uint64_t max_request_bytes;
	int64_t max_connections;
	uint64_t max_output_bytes;         /* per connection, before reads pause */
	int64_t max_inflight;              /* pipelined requests per connection */
	int64_t max_fetch_wait_ms;         /* cap on a Fetch's max_wait_ms */
	int64_t idle_timeout_ms;           /* connections.max.idle.ms; 0 = never */
	int64_t frame_timeout_ms;          /* a started frame must be whole by then; 0 = never */
	uint64_t max_queued_request_bytes; /* store-wide, frames over 16 KiB */
	struct cfg_list sasl;              /* SASL mechanisms; empty: no SASL (store/auth/auth.h) */
	int64_t connections_max_reauth_ms; /* KIP-368 session lifetime, 0 = unlimited */
	struct tls_section tls;
	bool allow_insecure; /* serve a non-loopback address without TLS */
};

struct http_section {
	char *listen;
	char *tokens_file; /* NULL: auth off */
	uint64_t max_body_bytes;
	int64_t threads;           /* libmicrohttpd worker threads */
	int64_t max_wait_ms;       /* cap on ?wait_ms long polls */
	int64_t idle_timeout_ms;   /* libmicrohttpd's inactivity timeout */
	int64_t header_timeout_ms; /* a request's headers must be in by then */
	int64_t max_connections;
	int64_t max_connections_per_ip; /* 0 = no per-address cap */
	struct tls_section tls;
	bool allow_insecure; /* serve a non-loopback address without TLS */
};

struct auth_section {
	char *users_file; /* SCRAM credentials (store/auth/users.h) */
	char *acl_file;   /* NULL: every principal may do everything */
};

struct log_section {
	int fsync; /* enum engine_fsync order: always, interval, never */
	int64_t fsync_interval_ms;
	bool auto_create;
	int64_t default_partitions;
	int64_t retention_ms;     /* 0 = forever */
	uint64_t retention_bytes; /* 0 = unlimited */
	uint64_t segment_bytes;
	int64_t segment_ms;
	uint64_t max_batch_bytes;
	int verify_records;      /* 0 head, 1 all */
	bool block_index;        /* run the block index worker */
	char *block_index_count; /* pattern it counts per minute; "" none */
	uint64_t index_interval_bytes;
	int64_t retention_check_ms;
	uint64_t min_free_bytes;  /* disk headroom: the smaller of this ... */
	int64_t min_free_percent; /* ... and this share of the file system */
};

struct groups_section {
	int64_t offsets_retention_ms;
	int64_t min_session_timeout_ms;
	int64_t max_session_timeout_ms;
	int64_t initial_rebalance_delay_ms;
};

struct quotas_section {
	uint64_t produce_bytes_per_sec; /* per principal; 0 = unlimited */
	uint64_t fetch_bytes_per_sec;
	struct cfg_kv produce_overrides; /* principal -> bytes/s */
	struct cfg_kv fetch_overrides;
	int64_t max_throttle_ms;
};

struct store_config {
	struct store_section store;
	struct kafka_section kafka;
	struct http_section http;
	struct log_section log;
	struct groups_section groups;
	struct quotas_section quotas;
	struct auth_section auth;
};

/* Fill every field with its built-in default.  0 or -ERR_CONFIG. */
int store_config_defaults(struct store_config *c, struct cfg_error *err);
/* Load path over the defaults.  0 or -ERR_CONFIG with err naming
 * file:line:column. */
int store_config_load(struct store_config *c, const char *path, struct cfg_error *err);
/* Apply a --flag VALUE override ("data-dir", "kafka-listen", "http-listen",
 * "advertised").  0, -ERR_NOT_FOUND (unknown flag) or -ENOMEM. */
int store_config_set_flag(struct store_config *c, const char *flag, const char *value);
void store_config_release(struct store_config *c);
void store_config_help(FILE *out);

#endif
