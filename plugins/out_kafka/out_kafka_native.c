/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The kafka output's choice of client (`client: auto|native|librdkafka`)
 * and the start of the native one (knative.h): what the native client can
 * serve, its TLS and SASL settings, and the partition counts of the routed
 * topics learned before the first flush.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "lib/err.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "plugins/out_kafka/out_kafka.h"

/* client: native serves plaintext, idempotent (not transactional) producing
 * of a topic named per flush, with no librdkafka property to honour. */
int out_kafka_choose_client(struct out_kafka *ok, struct cfg_error *err)
{
	const struct out_kafka_conf *c = ok->conf;
	const char *why = NULL;

	if (c->ssl_key_password && *c->ssl_key_password)
		why = "ssl_key_password";
	else if (c->exactly_once)
		why = "exactly_once";
	else if (c->librdkafka.n > 0)
		why = "librdkafka properties";
	else if (!ok->topic_static)
		why = "a topic template with ${input} or ${host}";
	ok->native = !why && c->client != CLIENT_LIBRDKAFKA;
	if (why && c->client == CLIENT_NATIVE) {
		snprintf(
			err->msg, sizeof(err->msg),
			"output %s: client native cannot serve %s (use client: librdkafka or auto)",
			ok->id, why);
		return -ERR_INVALID;
	}
	return 0;
}

static int native_security(struct out_kafka *ok)
{
	const struct out_kafka_conf *c = ok->conf;
	const char *proto = out_kafka_security_protocol(c);
	char why[320] = "";
	int rc = kn_sec_init(ok->kn, strstr(proto, "ssl") != NULL, c->ssl_ca_location,
			     c->ssl_certificate_location, c->ssl_key_location,
			     !strncmp(proto, "sasl", 4) ? (c->sasl_username ? c->sasl_username : "")
							: NULL,
			     c->sasl_password, c->sasl_mechanism, why, sizeof(why));

	if (rc < 0)
		log_error("output %s: %s", ok->id, why[0] ? why : err_str(rc));
	return rc;
}

/* 1: the librdkafka client after all (one fixed topic fed from several:
 * the spool's sequences are per spooled topic, not per destination). */
int out_kafka_native_start(struct out_kafka *ok)
{
	const char *t = ok->conf->topic;
	size_t n = output_topic_count(ok->output);
	const char **names;
	int rc = 0;

	if (t && *t && !strstr(t, "${topic}") && n > 1) {
		struct cfg_error err;

		if (ok->conf->client == CLIENT_NATIVE) {
			log_error("output %s: client native: topic %s is fed from %zu topics "
				  "(use ${topic} in it, or client: librdkafka)",
				  ok->id, t, n);
			return -ERR_INVALID;
		}
		ok->native = false;
		if (out_kafka_producer_new(ok, &err) < 0) {
			log_error("%s", err.msg);
			return -ERR_INVALID;
		}
		return 1;
	}
	ok->kn = knative_new(ok, ok->loop, ok->id, ok->state_dir, ok->conf->brokers.v,
			     ok->conf->brokers.n, (int32_t)ok->conf->request_timeout);
	names = mem_calloc(n ? n : 1, sizeof(*names));
	if (!ok->kn || !names) {
		mem_free(names);
		return -ENOMEM;
	}
	rc = native_security(ok);
	if (rc < 0) {
		mem_free(names);
		return rc;
	}
	for (size_t i = 0; i < n && rc == 0; i++) {
		struct flush f = {.topic = output_topic_at(ok->output, i)};
		char tbuf[512];

		names[i] = mem_strdup(out_kafka_topic_for(ok, &f, NULL, tbuf, sizeof(tbuf)));
		if (!names[i])
			rc = -ENOMEM;
	}
	if (rc == 0)
		rc = knative_start(ok->kn, names, n);
	for (size_t i = 0; i < n; i++)
		mem_free((void *)names[i]);
	mem_free(names);
	return rc;
}
