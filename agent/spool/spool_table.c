/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Spool table: replaying entries into positions, routes and sequences, and
 * encoding the result as a snapshot.  Positions are keyed by the pair
 * (input, ident) hashed together with a separator byte so "a"+"bc" and
 * "ab"+"c" differ.
 */
#include <string.h>

#include "agent/spool/spool_table.h"
#include "lib/batch.h"
#include "lib/err.h"
#include "lib/mem.h"

void spool_table_init(struct spool_table *t)
{
	memset(t, 0, sizeof(*t));
	hmap_init(&t->pos);
	hmap_init(&t->seq);
}

static void tpos_free(struct spool_tpos *p)
{
	mem_free(p->input);
	mem_free(p->ident);
	mem_free(p->meta);
	mem_free(p);
}

static void routes_free(struct spool_table *t)
{
	for (size_t i = 0; i < t->nroutes; i++)
		mem_free(t->routes[i]);
	mem_free(t->routes);
	t->routes = NULL;
	t->nroutes = 0;
}

static void seq_clear(struct spool_table *t)
{
	struct hmap_iter it;
	struct hmap_node *n;

	hmap_iter_init(&t->seq, &it);
	while ((n = hmap_iter_next(&t->seq, &it)) != NULL) {
		struct spool_tseq *s = hmap_entry(n, struct spool_tseq, node);

		hmap_remove(&t->seq, n);
		mem_free(s->topic);
		mem_free(s);
	}
}

void spool_table_release(struct spool_table *t)
{
	struct hmap_iter it;
	struct hmap_node *n;

	hmap_iter_init(&t->pos, &it);
	while ((n = hmap_iter_next(&t->pos, &it)) != NULL) {
		hmap_remove(&t->pos, n);
		tpos_free(hmap_entry(n, struct spool_tpos, node));
	}
	seq_clear(t);
	hmap_release(&t->pos);
	hmap_release(&t->seq);
	routes_free(t);
}

static uint64_t pos_hash(const char *input, size_t il, const char *ident, size_t dl)
{
	uint64_t h = hmap_hash(HMAP_SEED, input, il);

	h = hmap_hash(h, "\0", 1);
	return hmap_hash(h, ident, dl);
}

static struct spool_tpos *pos_lookup(const struct spool_table *t, const char *input, size_t il,
				     const char *ident, size_t dl, uint64_t h)
{
	for (struct hmap_node *n = hmap_first(&t->pos, h); n; n = hmap_next(n, h)) {
		struct spool_tpos *p = hmap_entry(n, struct spool_tpos, node);

		if (strlen(p->input) == il && memcmp(p->input, input, il) == 0 &&
		    strlen(p->ident) == dl && memcmp(p->ident, ident, dl) == 0)
			return p;
	}
	return NULL;
}

const struct spool_tpos *spool_table_find(const struct spool_table *t, const char *input,
					  const char *ident)
{
	size_t il = strlen(input), dl = strlen(ident);

	return pos_lookup(t, input, il, ident, dl, pos_hash(input, il, ident, dl));
}

static int apply_pos(struct spool_table *t, const struct spool_pos *sp)
{
	uint64_t h = pos_hash(sp->input, sp->input_len, sp->ident, sp->ident_len);
	struct spool_tpos *p = pos_lookup(t, sp->input, sp->input_len, sp->ident, sp->ident_len, h);
	uint8_t *meta = NULL;

	if (sp->flags & SPOOL_POS_FORGET) {
		if (p) {
			hmap_remove(&t->pos, &p->node);
			tpos_free(p);
		}
		return 0;
	}
	if (sp->meta_len) {
		meta = mem_alloc(sp->meta_len);
		if (!meta)
			return -ENOMEM;
		memcpy(meta, sp->meta, sp->meta_len);
	}
	if (!p) {
		p = mem_calloc(1, sizeof(*p));
		if (!p)
			goto oom;
		p->input = mem_strndup(sp->input, sp->input_len);
		p->ident = mem_strndup(sp->ident, sp->ident_len);
		if (!p->input || !p->ident || hmap_insert(&t->pos, &p->node, h) < 0) {
			tpos_free(p);
			goto oom;
		}
	}
	mem_free(p->meta);
	p->meta = meta;
	p->meta_len = (uint32_t)sp->meta_len;
	p->ordinal = sp->ordinal;
	p->origin = sp->origin;
	p->flags = sp->flags;
	return 0;
oom:
	mem_free(meta);
	return -ENOMEM;
}

static uint64_t seq_hash(const char *topic, size_t tl, int32_t partition)
{
	return hmap_hash_u64(hmap_hash(HMAP_SEED, topic, tl), (uint64_t)(uint32_t)partition);
}

static struct spool_tseq *seq_lookup(const struct spool_table *t, const char *topic, size_t tl,
				     int32_t partition, uint64_t h)
{
	for (struct hmap_node *n = hmap_first(&t->seq, h); n; n = hmap_next(n, h)) {
		struct spool_tseq *s = hmap_entry(n, struct spool_tseq, node);

		if (s->partition == partition && strlen(s->topic) == tl &&
		    memcmp(s->topic, topic, tl) == 0)
			return s;
	}
	return NULL;
}

static int set_seq(struct spool_table *t, const char *topic, size_t tl, int32_t partition,
		   int32_t next)
{
	uint64_t h = seq_hash(topic, tl, partition);
	struct spool_tseq *s = seq_lookup(t, topic, tl, partition, h);

	if (!s) {
		s = mem_calloc(1, sizeof(*s));
		if (!s)
			return -ENOMEM;
		s->topic = mem_strndup(topic, tl);
		s->partition = partition;
		if (!s->topic || hmap_insert(&t->seq, &s->node, h) < 0) {
			mem_free(s->topic);
			mem_free(s);
			return -ENOMEM;
		}
	}
	s->next_seq = next;
	return 0;
}

int32_t spool_table_next_seq(const struct spool_table *t, const char *topic, int32_t partition)
{
	size_t tl = strlen(topic);
	struct spool_tseq *s = seq_lookup(t, topic, tl, partition, seq_hash(topic, tl, partition));

	return s ? s->next_seq : 0;
}

bool spool_table_routes_input(const struct spool_table *t, const char *input)
{
	for (size_t i = 0; i < t->nroutes; i++)
		if (strcmp(t->routes[i], input) == 0)
			return true;
	return false;
}

static int set_routes(struct spool_table *t, const struct spool_entry *e)
{
	struct spool_iter it;
	const char *s;
	size_t len;
	char **v = mem_calloc(e->nroutes ? e->nroutes : 1, sizeof(*v));
	size_t n = 0;
	struct hmap_iter hi;
	struct hmap_node *node;
	int rc;

	if (!v)
		return -ENOMEM;
	spool_iter_init(&it, e->routes, e->routes_len, e->nroutes);
	while ((rc = spool_iter_route(&it, &s, &len)) > 0) {
		v[n] = mem_strndup(s, len);
		if (!v[n]) {
			rc = -ENOMEM;
			break;
		}
		n++;
	}
	if (rc < 0) {
		for (size_t i = 0; i < n; i++)
			mem_free(v[i]);
		mem_free(v);
		return rc;
	}
	routes_free(t);
	t->routes = v;
	t->nroutes = n;
	t->have_routes = true;
	/* Sources of inputs the output no longer takes are forgotten: if the
	 * route comes back, it starts where the other outputs are. */
	hmap_iter_init(&t->pos, &hi);
	while ((node = hmap_iter_next(&t->pos, &hi)) != NULL) {
		struct spool_tpos *p = hmap_entry(node, struct spool_tpos, node);

		if (!spool_table_routes_input(t, p->input)) {
			hmap_remove(&t->pos, node);
			tpos_free(p);
		}
	}
	return 0;
}

int spool_table_apply(struct spool_table *t, const struct spool_entry *e)
{
	struct spool_iter it;
	struct spool_pos p;
	int rc;

	if (e->type == SPOOL_SNAPSHOT || e->type == SPOOL_ROUTES) {
		rc = set_routes(t, e);
		if (rc < 0)
			return rc;
	}
	if (e->type == SPOOL_SNAPSHOT) {
		const char *topic;
		size_t tl;
		int32_t part, next;

		seq_clear(t);
		spool_iter_init(&it, e->seq, e->seq_len, e->nseq);
		while ((rc = spool_iter_seq(&it, &topic, &tl, &part, &next)) > 0) {
			rc = set_seq(t, topic, tl, part, next);
			if (rc < 0)
				return rc;
		}
		if (rc < 0)
			return rc;
	}
	if (e->type == SPOOL_BATCH) {
		struct batch_info bi;

		rc = batch_header_parse(e->batch, e->batch_len, &bi);
		if (rc < 0)
			return -ERR_CORRUPT;
		if (bi.base_sequence >= 0 && bi.count > 0) {
			rc = set_seq(t, e->topic, e->topic_len, e->partition,
				     spool_seq_add(bi.base_sequence, bi.count));
			if (rc < 0)
				return rc;
		}
	}
	spool_iter_init(&it, e->pos, e->pos_len, e->npos);
	while ((rc = spool_iter_pos(&it, &p)) > 0) {
		rc = apply_pos(t, &p);
		if (rc < 0)
			return rc;
	}
	return rc;
}

int spool_table_encode(const struct spool_table *t, struct buf *b)
{
	struct hmap_iter it;
	struct hmap_node *n;
	int rc;

	rc = buf_append_be32(b, (uint32_t)t->nroutes);
	for (size_t i = 0; rc == 0 && i < t->nroutes; i++)
		rc = spool_route_encode(b, t->routes[i], strlen(t->routes[i]));
	if (rc == 0)
		rc = buf_append_be32(b, (uint32_t)t->seq.count);
	hmap_iter_init(&t->seq, &it);
	while (rc == 0 && (n = hmap_iter_next(&t->seq, &it)) != NULL) {
		struct spool_tseq *s = hmap_entry(n, struct spool_tseq, node);

		rc = spool_seq_encode(b, s->topic, strlen(s->topic), s->partition, s->next_seq);
	}
	if (rc == 0)
		rc = buf_append_be32(b, (uint32_t)t->pos.count);
	hmap_iter_init(&t->pos, &it);
	while (rc == 0 && (n = hmap_iter_next(&t->pos, &it)) != NULL) {
		struct spool_tpos *p = hmap_entry(n, struct spool_tpos, node);
		struct spool_pos sp = {
			.flags = p->flags,
			.input = p->input,
			.input_len = strlen(p->input),
			.ident = p->ident,
			.ident_len = strlen(p->ident),
			.ordinal = p->ordinal,
			.origin = p->origin,
			.meta = p->meta,
			.meta_len = p->meta_len,
		};

		rc = spool_pos_encode(b, &sp);
	}
	return rc;
}
