/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Spool entry codec.  Encoders append to a bounded struct buf; decoders read
 * through struct cursor, whose sticky error lets each structure be checked
 * once at its end.  Every variable-length field is bounded twice: by the
 * bytes present and by the field's own maximum.
 */
#include <string.h>

#include "agent/spool/spool_entry.h"
#include "lib/batch.h"
#include "lib/crc32c.h"
#include "lib/err.h"

/* Spool layouts as docs/FORMATS.md gives them (written byte by byte). */
_Static_assert(sizeof(SPOOL_SEG_MAGIC) - 1 == 8, "segment magic is 8 bytes");
_Static_assert(
	SPOOL_SEG_HEADER_SIZE == 8 + 4 + 4 + 8 + 4 + 4,
	"segment header: magic | version u32 | header size u32 | first id u64 | flags u32 | crc u32");
_Static_assert(SPOOL_FRAME_SIZE == 4 + 4 + 4, "frame: magic u32 | length u32 | crc u32");
_Static_assert(SPOOL_BODY_HEADER_SIZE == 1 + 1 + 2 + 8 + 8,
	       "body: type u8 | flags u8 | reserved u16 | id u64 | time i64");

static int put_str16(struct buf *b, const void *s, size_t n, size_t max)
{
	int rc;

	if (n > max || n > UINT16_MAX)
		return -ERR_TOO_LARGE;
	rc = buf_append_be16(b, (uint16_t)n);
	if (rc == 0)
		rc = buf_append(b, s, n);
	return rc;
}

int spool_pos_encode(struct buf *b, const struct spool_pos *p)
{
	size_t start = b->len;
	int rc;

	if (p->meta_len > SPOOL_MAX_META)
		return -ERR_TOO_LARGE;
	rc = buf_append_u8(b, p->flags);
	if (rc == 0)
		rc = put_str16(b, p->input, p->input_len, SPOOL_MAX_INPUT);
	if (rc == 0)
		rc = put_str16(b, p->ident, p->ident_len, SPOOL_MAX_IDENT);
	if (rc == 0)
		rc = buf_append_be64(b, p->ordinal);
	if (rc == 0)
		rc = buf_append_be64(b, p->origin);
	if (rc == 0)
		rc = buf_append_be32(b, (uint32_t)p->meta_len);
	if (rc == 0)
		rc = buf_append(b, p->meta, p->meta_len);
	if (rc < 0)
		b->len = start;
	return rc;
}

int spool_route_encode(struct buf *b, const char *input, size_t len)
{
	return put_str16(b, input, len, SPOOL_MAX_INPUT);
}

int spool_seq_encode(struct buf *b, const char *topic, size_t topic_len, int32_t partition,
		     int32_t next_seq)
{
	size_t start = b->len;
	int rc = put_str16(b, topic, topic_len, SPOOL_MAX_TOPIC);

	if (rc == 0)
		rc = buf_append_be32(b, (uint32_t)partition);
	if (rc == 0)
		rc = buf_append_be32(b, (uint32_t)next_seq);
	if (rc < 0)
		b->len = start;
	return rc;
}

int spool_seg_header_encode(struct buf *b, uint64_t first_id)
{
	size_t off;
	uint8_t *h;
	int rc = buf_append_zero(b, SPOOL_SEG_HEADER_SIZE, &off);

	if (rc < 0)
		return rc;
	h = b->data + off;
	memcpy(h, SPOOL_SEG_MAGIC, 8);
	put_be32(h + 8, SPOOL_SEG_VERSION);
	put_be32(h + 12, SPOOL_SEG_HEADER_SIZE);
	put_be64(h + 16, first_id);
	put_be32(h + 24, 0);
	put_be32(h + 28, crc32c(0, h, 28));
	return 0;
}

int spool_seg_header_decode(const void *data, size_t n, uint64_t *first_id)
{
	const uint8_t *h = data;

	if (n < SPOOL_SEG_HEADER_SIZE)
		return -ERR_TRUNCATED;
	if (memcmp(h, SPOOL_SEG_MAGIC, 8) != 0)
		return -ERR_CORRUPT;
	if (get_be32(h + 28) != crc32c(0, h, 28))
		return -ERR_CORRUPT;
	if (get_be32(h + 8) != SPOOL_SEG_VERSION || get_be32(h + 12) != SPOOL_SEG_HEADER_SIZE)
		return -ERR_UNSUPPORTED;
	*first_id = get_be64(h + 16);
	return 0;
}

int spool_frame_begin(struct buf *b, uint8_t type, uint64_t id, int64_t time_ms, size_t *start)
{
	size_t off;
	uint8_t *h;
	int rc = buf_append_zero(b, SPOOL_FRAME_SIZE + SPOOL_BODY_HEADER_SIZE, &off);

	if (rc < 0)
		return rc;
	h = b->data + off;
	put_be32(h, SPOOL_FRAME_MAGIC);
	h += SPOOL_FRAME_SIZE;
	h[0] = type;
	put_be64(h + 4, id);
	put_be64(h + 12, (uint64_t)time_ms);
	*start = off;
	return 0;
}

int spool_batch_head_encode(struct buf *b, const char *topic, size_t topic_len, int32_t partition,
			    uint32_t npos)
{
	size_t start = b->len;
	int rc = put_str16(b, topic, topic_len, SPOOL_MAX_TOPIC);

	if (rc == 0)
		rc = buf_append_be32(b, (uint32_t)partition);
	if (rc == 0)
		rc = buf_append_be32(b, npos);
	if (rc < 0)
		b->len = start;
	return rc;
}

int spool_frame_finish(struct buf *b, size_t start, const void *extra, size_t extra_len)
{
	uint8_t *h = b->data + start;
	size_t body = b->len - start - SPOOL_FRAME_SIZE + extra_len;
	uint32_t crc;

	if (body > SPOOL_MAX_ENTRY)
		return -ERR_TOO_LARGE;
	crc = crc32c(0, h + SPOOL_FRAME_SIZE, b->len - start - SPOOL_FRAME_SIZE);
	if (extra_len)
		crc = crc32c(crc, extra, extra_len);
	put_be32(h + 4, (uint32_t)body);
	put_be32(h + 8, crc);
	return 0;
}

int spool_frame_decode(const void *data, size_t n, uint32_t *body_len, uint32_t *crc)
{
	const uint8_t *p = data;
	uint32_t len;

	if (n < SPOOL_FRAME_SIZE)
		return -ERR_TRUNCATED;
	if (get_be32(p) != SPOOL_FRAME_MAGIC)
		return -ERR_CORRUPT;
	len = get_be32(p + 4);
	if (len < SPOOL_BODY_HEADER_SIZE || len > SPOOL_MAX_ENTRY)
		return -ERR_CORRUPT;
	*body_len = len;
	*crc = get_be32(p + 8);
	return 0;
}

/* ------------------------------------------------------------ iteration */

void spool_iter_init(struct spool_iter *it, const uint8_t *p, size_t n, uint32_t count)
{
	cursor_init(&it->c, p, n);
	it->left = count;
}

static const char *take_str16(struct cursor *c, size_t *len, size_t max)
{
	uint16_t n = cursor_be16(c);

	*len = 0;
	if (!cursor_ok(c) || n > max) {
		c->err = true;
		return NULL;
	}
	*len = n;
	return (const char *)cursor_take(c, n);
}

int spool_iter_pos(struct spool_iter *it, struct spool_pos *p)
{
	struct cursor *c = &it->c;
	uint32_t ml;

	if (it->left == 0)
		return 0;
	it->left--;
	p->flags = cursor_u8(c);
	p->input = take_str16(c, &p->input_len, SPOOL_MAX_INPUT);
	p->ident = take_str16(c, &p->ident_len, SPOOL_MAX_IDENT);
	p->ordinal = cursor_be64(c);
	p->origin = cursor_be64(c);
	ml = cursor_be32(c);
	if (!cursor_ok(c) || ml > SPOOL_MAX_META || (p->flags & ~SPOOL_POS_FLAGS_KNOWN))
		return -ERR_CORRUPT;
	p->meta_len = ml;
	p->meta = cursor_take(c, ml);
	if (!cursor_ok(c) || p->input_len == 0)
		return -ERR_CORRUPT;
	return 1;
}

int spool_iter_route(struct spool_iter *it, const char **input, size_t *len)
{
	if (it->left == 0)
		return 0;
	it->left--;
	*input = take_str16(&it->c, len, SPOOL_MAX_INPUT);
	return cursor_ok(&it->c) && *len > 0 ? 1 : -ERR_CORRUPT;
}

int spool_iter_seq(struct spool_iter *it, const char **topic, size_t *topic_len, int32_t *partition,
		   int32_t *next_seq)
{
	struct cursor *c = &it->c;

	if (it->left == 0)
		return 0;
	it->left--;
	*topic = take_str16(c, topic_len, SPOOL_MAX_TOPIC);
	*partition = (int32_t)cursor_be32(c);
	*next_seq = (int32_t)cursor_be32(c);
	if (!cursor_ok(c) || *topic_len == 0 || *partition < 0 || *next_seq < 0)
		return -ERR_CORRUPT;
	return 1;
}

/* Walk count records of one kind starting at c; set p and n to their span. */
static int walk(struct cursor *c, uint32_t count, int kind, const uint8_t **p, size_t *n)
{
	struct spool_iter it;
	int rc;

	/* Every record takes at least 3 bytes, so a count larger than the bytes
	 * left is corruption found without walking. */
	if (count > cursor_left(c) / 3 + 1)
		return -ERR_CORRUPT;
	spool_iter_init(&it, c->p, cursor_left(c), count);
	for (;;) {
		if (kind == SPOOL_POSITIONS) {
			struct spool_pos pos;

			rc = spool_iter_pos(&it, &pos);
		} else if (kind == SPOOL_ROUTES) {
			const char *s;
			size_t l;

			rc = spool_iter_route(&it, &s, &l);
		} else {
			const char *t;
			size_t tl;
			int32_t part, seq;

			rc = spool_iter_seq(&it, &t, &tl, &part, &seq);
		}
		if (rc <= 0)
			break;
	}
	if (rc < 0)
		return rc;
	*p = c->p;
	*n = (size_t)(it.c.p - c->p);
	cursor_take(c, *n);
	return 0;
}

int spool_entry_decode(const void *body, size_t n, struct spool_entry *e)
{
	struct cursor c;
	struct batch_info bi;
	uint32_t len;
	int rc = 0;

	memset(e, 0, sizeof(*e));
	cursor_init(&c, body, n);
	e->type = cursor_u8(&c);
	(void)cursor_u8(&c); /* flags: none defined */
	(void)cursor_be16(&c);
	e->id = cursor_be64(&c);
	e->time_ms = (int64_t)cursor_be64(&c);
	if (!cursor_ok(&c))
		return -ERR_CORRUPT;
	switch (e->type) {
	case SPOOL_BATCH:
		e->topic = take_str16(&c, &e->topic_len, SPOOL_MAX_TOPIC);
		e->partition = (int32_t)cursor_be32(&c);
		e->npos = cursor_be32(&c);
		if (!cursor_ok(&c) || e->topic_len == 0 || e->partition < 0)
			return -ERR_CORRUPT;
		rc = walk(&c, e->npos, SPOOL_POSITIONS, &e->pos, &e->pos_len);
		if (rc < 0)
			return rc;
		len = cursor_be32(&c);
		e->batch_off = (size_t)(c.p - (const uint8_t *)body);
		e->batch = cursor_take(&c, len);
		if (!cursor_ok(&c))
			return -ERR_CORRUPT;
		e->batch_len = len;
		/* Header only: the entry CRC already covers the bytes, and the
		 * output checks the batch's own CRC before sending it. */
		if (batch_header_parse(e->batch, e->batch_len, &bi) < 0 ||
		    bi.size != e->batch_len || bi.count <= 0)
			return -ERR_CORRUPT;
		break;
	case SPOOL_POSITIONS:
		e->npos = cursor_be32(&c);
		if (!cursor_ok(&c))
			return -ERR_CORRUPT;
		rc = walk(&c, e->npos, SPOOL_POSITIONS, &e->pos, &e->pos_len);
		break;
	case SPOOL_SNAPSHOT:
		e->nroutes = cursor_be32(&c);
		if (!cursor_ok(&c))
			return -ERR_CORRUPT;
		rc = walk(&c, e->nroutes, SPOOL_ROUTES, &e->routes, &e->routes_len);
		if (rc < 0)
			return rc;
		e->nseq = cursor_be32(&c);
		if (!cursor_ok(&c))
			return -ERR_CORRUPT;
		rc = walk(&c, e->nseq, SPOOL_SNAPSHOT, &e->seq, &e->seq_len);
		if (rc < 0)
			return rc;
		e->npos = cursor_be32(&c);
		if (!cursor_ok(&c))
			return -ERR_CORRUPT;
		rc = walk(&c, e->npos, SPOOL_POSITIONS, &e->pos, &e->pos_len);
		break;
	case SPOOL_ROUTES:
		e->nroutes = cursor_be32(&c);
		if (!cursor_ok(&c))
			return -ERR_CORRUPT;
		rc = walk(&c, e->nroutes, SPOOL_ROUTES, &e->routes, &e->routes_len);
		break;
	default:
		return -ERR_CORRUPT;
	}
	if (rc < 0)
		return rc;
	return cursor_left(&c) == 0 ? 0 : -ERR_CORRUPT;
}

int spool_entry_decode_head(const void *body, size_t got, size_t n, struct spool_entry *e)
{
	struct cursor c;
	struct batch_info bi;
	uint32_t len;
	int rc;

	memset(e, 0, sizeof(*e));
	cursor_init(&c, body, got);
	e->type = cursor_u8(&c);
	(void)cursor_u8(&c);
	(void)cursor_be16(&c);
	e->id = cursor_be64(&c);
	e->time_ms = (int64_t)cursor_be64(&c);
	if (!cursor_ok(&c) || e->type != SPOOL_BATCH)
		return cursor_ok(&c) ? -ERR_TRUNCATED : -ERR_CORRUPT;
	e->topic = take_str16(&c, &e->topic_len, SPOOL_MAX_TOPIC);
	e->partition = (int32_t)cursor_be32(&c);
	e->npos = cursor_be32(&c);
	if (!cursor_ok(&c))
		return -ERR_TRUNCATED;
	if (e->topic_len == 0 || e->partition < 0)
		return -ERR_CORRUPT;
	rc = walk(&c, e->npos, SPOOL_POSITIONS, &e->pos, &e->pos_len);
	if (rc < 0)
		return -ERR_TRUNCATED; /* positions past the head: read it all */
	len = cursor_be32(&c);
	e->batch_off = (size_t)(c.p - (const uint8_t *)body);
	if (!cursor_ok(&c) || cursor_left(&c) < BATCH_HEADER_SIZE)
		return -ERR_TRUNCATED;
	if (e->batch_off + len != n)
		return -ERR_CORRUPT;
	e->batch = c.p;
	e->batch_len = len;
	if (batch_header_parse(e->batch, BATCH_HEADER_SIZE, &bi) < 0 || bi.size != len ||
	    bi.count <= 0)
		return -ERR_CORRUPT;
	return 0;
}
