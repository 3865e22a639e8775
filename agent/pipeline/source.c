/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Source objects: identity, ready-made key and headers, reference counting.
 * The key and header values are built once per source, and encoded once as
 * they appear inside a record, so emitting an event costs no formatting.
 */
#include <errno.h>
#include <string.h>

#include "agent/pipeline/source.h"
#include "lib/mem.h"

struct source *source_new(struct input *in, const char *input_id, const char *host,
			  const char *ident, const char *name, size_t nout)
{
	struct source *s = mem_calloc(1, sizeof(*s) + nout * sizeof(s->out[0]));
	size_t hl = strlen(host), nl = strlen(name);

	if (!s)
		return NULL;
	s->in = in;
	s->nout = nout;
	s->refs = 1;
	s->input_id = mem_strdup(input_id);
	s->ident = mem_strdup(ident);
	s->name = mem_strdup(name);
	s->key_len = hl + 1 + nl;
	s->key = mem_alloc(s->key_len + 1);
	if (!s->input_id || !s->ident || !s->name || !s->key) {
		source_unref(s);
		return NULL;
	}
	memcpy(s->key, host, hl);
	s->key[hl] = ':';
	memcpy(s->key + hl + 1, name, nl + 1);
	/* Header values borrow the key and the names: they live as long as s. */
	s->hdrs[0] = (struct record_header){(const uint8_t *)"host", 4, (const uint8_t *)s->key,
					    (int32_t)hl};
	s->hdrs[1] = (struct record_header){(const uint8_t *)"path", 4, (const uint8_t *)s->name,
					    (int32_t)nl};
	s->hdrs[2] =
		(struct record_header){(const uint8_t *)"input", 5, (const uint8_t *)s->input_id,
				       (int32_t)strlen(s->input_id)};
	buf_init(&s->enc, 1 << 20);
	if (batch_encode_key(&s->enc, s->key, (int32_t)s->key_len) < 0) {
		source_unref(s);
		return NULL;
	}
	s->enc_key_len = s->enc.len;
	if (batch_encode_headers(&s->enc, s->hdrs, 3) < 0) {
		source_unref(s);
		return NULL;
	}
	for (size_t i = 0; i < nout; i++)
		s->out[i].slot = -1;
	return s;
}

void source_ref(struct source *s)
{
	s->refs++;
}

void source_unref(struct source *s)
{
	if (!s || --s->refs > 0)
		return;
	mem_free(s->input_id);
	mem_free(s->ident);
	mem_free(s->name);
	mem_free(s->key);
	mem_free(s->meta);
	buf_release(&s->enc);
	mem_free(s);
}

int source_set_meta(struct source *s, const void *meta, size_t len)
{
	uint8_t *m = NULL;

	if (len) {
		m = mem_alloc(len);
		if (!m)
			return -ENOMEM;
		memcpy(m, meta, len);
	}
	mem_free(s->meta);
	s->meta = m;
	s->meta_len = len;
	return 0;
}
