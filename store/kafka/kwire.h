/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Kafka wire primitives: the field types of the protocol's message schemas
 * (int8..int64, bool, unsigned varint, (compact) (nullable) strings and
 * bytes, (compact) arrays, tagged-field sections), read from and written to
 * bounded buffers.
 *
 * "Flexible" message versions (KIP-482) use the compact forms: lengths are
 * unsigned varints holding N+1 (0 = null) and every structure ends with a
 * tagged-field section.  A decoder or encoder is created for one message with
 * its flexible flag, so the API-specific code reads fields in schema order
 * without caring which form is on the wire.
 *
 * Decoding is sticky like struct cursor: after the first error (short input,
 * a negative or absurd length, an array whose claimed element count cannot
 * fit in the bytes left, arena exhaustion) every later read returns a zero
 * value and kwire_dec_ok() is false, so decoders check once at the end.
 * Strings are copied, NUL-terminated, into the caller's arena (topic names
 * become C strings for the log engine); bytes fields are borrowed from the
 * input.  A Kafka string is length-counted and may hold NUL bytes; so that a
 * C string never cuts it ("victim\0x" must not become "victim"), each NUL is
 * held as the two bytes C0 80, as Java's modified UTF-8 does: never valid
 * UTF-8 (so never another client's string), never a valid topic name (so
 * such names are refused), and given back as NUL by kwire_put_str(), so data
 * such as commit metadata, client and group ids reads back whole.
 *
 * Encoding appends to a struct buf; the first failure (buffer max reached,
 * out of memory) is remembered in err and later writes are no-ops.
 *
 * Not thread-safe per object; the functions are re-entrant.
 */
#ifndef SLUICE_STORE_KWIRE_H
#define SLUICE_STORE_KWIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"
#include "lib/arena.h"

/* How a NUL byte inside a decoded string is held (modified UTF-8). */
#define KWIRE_NUL0 0xC0
#define KWIRE_NUL1 0x80

struct kwire_dec {
	struct cursor c;
	struct arena *arena;
	bool flex;
};

/* Decode p[0..n) (borrowed).  arena receives strings and arrays. */
void kwire_dec_init(struct kwire_dec *d, const void *p, size_t n, bool flex, struct arena *arena);
static inline bool kwire_dec_ok(const struct kwire_dec *d)
{
	return !d->c.err;
}
static inline void kwire_dec_fail(struct kwire_dec *d)
{
	d->c.err = true;
}
static inline size_t kwire_dec_left(const struct kwire_dec *d)
{
	return cursor_left(&d->c);
}

int8_t kwire_get_i8(struct kwire_dec *d);
int16_t kwire_get_i16(struct kwire_dec *d);
int32_t kwire_get_i32(struct kwire_dec *d);
int64_t kwire_get_i64(struct kwire_dec *d);
bool kwire_get_bool(struct kwire_dec *d);
uint32_t kwire_get_uvarint(struct kwire_dec *d);
/* A string (compact when flexible) copied into the arena.  A null string is an
 * error here (the field is not nullable): use kwire_get_nstr for those. */
char *kwire_get_str(struct kwire_dec *d);
/* Nullable string: NULL for null (and on error; check kwire_dec_ok). */
char *kwire_get_nstr(struct kwire_dec *d);
/* Nullable bytes borrowed from the input: returns the length, -1 for null
 * (with *p = NULL).  Lengths past the input are errors. */
int32_t kwire_get_bytes(struct kwire_dec *d, const uint8_t **p);
/* Array header: element count, or -1 for a null array.  min_elem is the
 * fewest bytes one element can occupy on the wire (>= 1); a count that
 * cannot fit in the bytes left is an error, so hostile counts never turn into
 * big allocations. */
int32_t kwire_get_array(struct kwire_dec *d, size_t min_elem);
/* Skip a tagged-field section (flexible versions only; no-op otherwise). */
void kwire_get_tags(struct kwire_dec *d);
/* Allocate n elements of size from the decoder's arena; NULL and the sticky
 * error on failure.  n <= 0 gives a valid non-NULL pointer. */
void *kwire_alloc(struct kwire_dec *d, int32_t n, size_t size);

/* A bytes or records field (store/kafka/kschema.h): n = -1 is null.  p is
 * borrowed (from the request frame, or whatever the handler points it at);
 * ref, when set, is the handler's own handle for data that is not in memory
 * (a log file slice) and makes the encoder call records_fn instead of
 * copying p. */
struct kbytes {
	const uint8_t *p;
	int32_t n;
	const void *ref;
};

/* A uuid field (topic ids): 16 bytes in wire order; all-zero is Kafka's
 * "no id". */
struct kuuid {
	uint8_t b[16];
};

struct kwire_enc;

/* Writes a records/bytes field whose ref is set: the length prefix
 * (kwire_put_bytes_len) and the data, e.g. with kafka_req_add_slice. */
typedef void (*kwire_records_fn)(struct kwire_enc *e, const struct kbytes *r, void *ctx);

struct kwire_enc {
	struct buf *b;
	bool flex;
	int err;                     /* first failure, 0 while all is well */
	kwire_records_fn records_fn; /* NULL: ref is ignored, p/n are written */
	void *records_ctx;
};

void kwire_enc_init(struct kwire_enc *e, struct buf *b, bool flex);
static inline size_t kwire_enc_pos(const struct kwire_enc *e)
{
	return e->b->len;
}

void kwire_put_i8(struct kwire_enc *e, int8_t v);
void kwire_put_i16(struct kwire_enc *e, int16_t v);
void kwire_put_i32(struct kwire_enc *e, int32_t v);
void kwire_put_i64(struct kwire_enc *e, int64_t v);
void kwire_put_bool(struct kwire_enc *e, bool v);
void kwire_put_uvarint(struct kwire_enc *e, uint32_t v);
/* String from a C string; NULL writes a null string (nullable fields).
 * C0 80 pairs go out as the NUL bytes they stand for. */
void kwire_put_str(struct kwire_enc *e, const char *s);
/* Length on the wire of a string decoded by kwire_get_str (NULs counted once). */
size_t kwire_str_wire_len(const char *s);
void kwire_put_strn(struct kwire_enc *e, const char *s, size_t n);
/* Bytes; n < 0 writes null. */
void kwire_put_bytes(struct kwire_enc *e, const void *p, int32_t n);
/* Length prefix of a bytes field whose n bytes the caller supplies itself
 * (e.g. from a file with sendfile). */
void kwire_put_bytes_len(struct kwire_enc *e, int32_t n);
/* Array header; n < 0 writes a null array. */
void kwire_put_array(struct kwire_enc *e, int32_t n);
/* An empty tagged-field section (flexible versions only). */
void kwire_put_tags(struct kwire_enc *e);
void kwire_put_raw(struct kwire_enc *e, const void *p, size_t n);
/* Overwrite an int32 written earlier at byte offset off. */
void kwire_patch_i32(struct kwire_enc *e, size_t off, int32_t v);

#endif
