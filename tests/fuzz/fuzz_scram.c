/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: the SCRAM messages a SASL client sends.  The first byte
 * picks the client-first parser, the client-final parser, or a whole
 * server exchange (client-first, a newline, client-final) against a fixed
 * credential.  Nothing may crash, and a forged final message must never
 * authenticate.
 */
#include <stdint.h>
#include <string.h>

#include "lib/err.h"
#include "store/auth/scram.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct scram_cred cred;
	static bool ready;
	struct scram_client_first f;
	struct scram_client_final fin;
	struct scram_server s;
	struct buf out;
	const uint8_t *nl;

	if (!ready) {
		static const uint8_t salt[16] = "fuzz-salt-123456";

		if (scram_cred_derive(SCRAM_SHA256, "pw", 2, salt, sizeof(salt), 1, &cred) < 0)
			__builtin_trap();
		ready = true;
	}
	if (size < 1)
		return 0;
	switch (data[0] % 3) {
	case 0:
		scram_parse_client_first((const char *)data + 1, size - 1, &f);
		break;
	case 1:
		scram_parse_client_final((const char *)data + 1, size - 1, &fin);
		break;
	default:
		nl = memchr(data + 1, '\n', size - 1);
		if (!nl)
			return 0;
		scram_server_init(&s, SCRAM_SHA256);
		buf_init(&out, 1 << 16);
		if (scram_server_first(&s, data + 1, (size_t)(nl - data - 1)) == 0 &&
		    scram_server_challenge(&s, &cred, &out) == 0) {
			buf_reset(&out);
			/* the server nonce is random: a fuzzed proof cannot match it */
			if (scram_server_final(&s, nl + 1, size - (size_t)(nl + 1 - data), &out) ==
			    0)
				__builtin_trap();
		}
		buf_release(&out);
		scram_server_release(&s);
		break;
	}
	return 0;
}
