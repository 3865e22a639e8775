/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: Kafka answers as the kafka output's native producer
 * decodes them (plugins/out_kafka/kproto.h): Metadata v4, Produce v7,
 * InitProducerId v1, ApiVersions v0, SaslHandshake v1 and SaslAuthenticate
 * v1, all from the same bytes.  Any input
 * decodes or fails without crashing or reading past its end, and what a
 * Metadata answer yields stays within what the bytes can hold.
 */
#include <stdint.h>
#include <string.h>

#include "plugins/out_kafka/kproto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

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
	return 0;
}
