/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: Kafka request decoding, every API.  The input is used
 * twice: as a whole frame (the bytes after the size field) through the
 * header parser and the API's body decoder, exactly as sluice-store sees a
 * request; and, so that every decoder gets bodies even when the header bytes
 * are mutated away, with its first two bytes choosing an API of the table
 * and a version in its range and the rest fed to that decoder as the body
 * (flexible or not as the version says; the schema codec for the APIs on
 * it, store/kafka/kschema.h); and, third, with the same two bytes choosing
 * any generated message (kmsg_all: every request and response spec, served
 * yet or not) for the schema codec alone.  Seeds: one real request per API
 * and version the clients send (tests/data/gen_kafka_seeds.py).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "lib/arena.h"
#include "store/kafka/kafka_api.h"
#include "store/kafka/kmsg_gen.h"
#include "store/kafka/kwire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Touch what a decoder returned so a bad pointer faults under ASan. */
static void touch(const void *p, size_t n)
{
	volatile uint8_t sink = 0;

	for (size_t i = 0; p && i < n; i++)
		sink ^= ((const uint8_t *)p)[i];
	(void)sink;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct arena a;
	struct kafka_hdr h;
	size_t n;
	const struct kafka_api *t = kafka_api_table(&n);

	/* as the server does; the arena bound is the server's for this size */
	arena_init(&a, size * 8 + 65536);
	if (kafka_api_parse_header(data, size, &a, &h) == 0) {
		void *body = kafka_api_decode_body(&h, data, size, &a);

		touch(body, 8);
		if (h.client_id)
			touch(h.client_id, strlen(h.client_id));
	}
	arena_release(&a);

	if (size >= 2) {
		const struct kafka_api *api = &t[data[0] % n];
		int16_t span = (int16_t)(api->max - api->min + 1);
		int16_t v = (int16_t)(api->min + data[1] % span);
		struct kwire_dec d;
		void *body;

		arena_init(&a, size * 8 + 65536);
		kwire_dec_init(&d, data + 2, size - 2, v >= kafka_api_flex_min(api), &a);
		if (api->req)
			body = kschema_decode(api->req, v, &d);
		else
			body = api->decode(&d, v);
		touch(body, 8);
		arena_release(&a);
	}
	if (size >= 2) {
		const struct kschema_msg *m = kmsg_all[data[0] % kmsg_all_count];
		int16_t v = (int16_t)(data[1] % (m->valid.hi + 1));
		struct kwire_dec d;

		arena_init(&a, size * 8 + 65536);
		kwire_dec_init(&d, data + 2, size - 2, false, &a);
		touch(kschema_decode(m, v, &d), 8);
		arena_release(&a);
	}
	return 0;
}
