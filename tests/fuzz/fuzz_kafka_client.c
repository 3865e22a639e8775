/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: Kafka answers as the kafka output's native producer
 * decodes them (plugins/out_kafka/kproto.h): Metadata v4, Produce v7,
 * InitProducerId v1, ApiVersions v0, SaslHandshake v1 and SaslAuthenticate
 * v1, all from the same bytes; and the same bytes as a SCRAM server-first
 * and server-final message (plugins/out_kafka/knative_scram.c).  Any input
 * decodes or fails without crashing or reading past its end, and what a
 * Metadata answer yields stays within what the bytes can hold.
 */
#include <stdint.h>
#include <string.h>

#include "plugins/out_kafka/knative.h"
#include "plugins/out_kafka/kproto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void scram(const uint8_t *data, size_t size)
{
	static char user[] = "agent", pass[] = "pw";
	struct knative kn;
	struct kn_conn c;
	struct buf out;

	memset(&kn, 0, sizeof(kn));
	memset(&c, 0, sizeof(c));
	kn.sasl_user = user;
	kn.sasl_pass = pass;
	kn.sasl_mech = size % 2 ? 2 : 1;
	buf_init(&out, 1 << 16);
	if (kn_scram_first(&kn, &c, &out) == 0) {
		buf_reset(&out);
		(void)kn_scram_final(&kn, &c, data, size, &out);
		(void)kn_scram_verify(&c, data, size);
	}
	kn_scram_free(c.scram);
	buf_release(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kp_metadata md;
	struct kp_api_range a, b, c;
	int16_t e, epoch;
	int64_t pid, off;
	int32_t corr;
	char msg[64];
	const uint8_t *auth = NULL;
	size_t alen = 0;

	if (kp_metadata_parse(data, size, &md) == 0) {
		if (md.nbrokers > size / 12 || md.ntopics > size / 9)
			__builtin_trap();
		for (size_t i = 0; i < md.ntopics; i++)
			for (int32_t p = 0; p < md.topics[i].nparts; p++)
				(void)md.topics[i].parts[p].leader;
	}
	kp_metadata_release(&md);
	(void)kp_produce_parse(data, size, "logs", 0, &e, &off);
	(void)kp_init_pid_parse(data, size, &e, &pid, &epoch);
	(void)kp_api_versions_parse(data, size, &e, &a, &b, &c);
	(void)kp_resp_corr(data, size, &corr);
	(void)kp_sasl_handshake_parse(data, size, &e);
	if (kp_sasl_auth_parse(data, size, &e, msg, sizeof(msg), &auth, &alen) == 0 &&
	    (strlen(msg) >= sizeof(msg) || (auth && (auth < data || auth + alen > data + size))))
		__builtin_trap();
	if (size < 512)
		scram(data, size);
	return 0;
}
