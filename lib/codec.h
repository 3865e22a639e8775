/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Compression codecs with Kafka's framing: gzip (zlib, gzip header), snappy
 * (xerial framing when compressing, both xerial and raw when decompressing),
 * lz4 (LZ4 frame format, as Kafka's record batch v2 uses) and zstd.
 *
 * A codec_ctx caches compressor state (zstd contexts, zlib streams) so hot
 * paths do not allocate per batch.  One context per thread; not thread-safe.
 * Outputs are appended to a struct buf and bounded by its max, so a
 * decompression bomb ends in -ERR_TOO_LARGE, not an allocation.
 */
#ifndef SLUICE_CODEC_H
#define SLUICE_CODEC_H

#include <stddef.h>

#include "lib/buf.h"
#include "lib/check.h"

enum codec_type {
	CODEC_NONE = 0,
	CODEC_GZIP = 1,
	CODEC_SNAPPY = 2,
	CODEC_LZ4 = 3,
	CODEC_ZSTD = 4,
};

/* "none", "gzip", ...; NULL for an unknown code. */
const char *codec_name(int type);
/* Name -> code, or -ERR_INVALID. */
SLUICE_MUST_CHECK int codec_parse(const char *name);

struct codec_ctx;

struct codec_ctx *codec_ctx_new(void);
void codec_ctx_free(struct codec_ctx *cc);

/* Append the compressed form of in[0..n) to out.  level 0 = the codec's
 * default (zstd 1 would be explicit).  0 or a negative code. */
SLUICE_MUST_CHECK int codec_compress(struct codec_ctx *cc, int type, int level, const void *in,
				     size_t n, struct buf *out);
/* Append the decompressed form to out; -ERR_CORRUPT on bad input,
 * -ERR_TOO_LARGE when the output would pass out->max. */
SLUICE_MUST_CHECK int codec_decompress(struct codec_ctx *cc, int type, const void *in, size_t n,
				       struct buf *out);

/* Streaming compression (gzip, zstd) into a growing buffer, for a body
 * written in pieces whose uncompressed whole is never held: begin, any
 * number of writes, then end (which closes the frame) or abort.  One stream
 * per context at a time; a zstd codec_compress() on the same context in
 * between ends it (later writes: -ERR_INVALID).  0 or a negative code; -ERR_UNSUPPORTED for other codecs. */
SLUICE_MUST_CHECK int codec_stream_begin(struct codec_ctx *cc, int type, int level);
SLUICE_MUST_CHECK int codec_stream_write(struct codec_ctx *cc, const void *in, size_t n,
					 struct buf *out);
SLUICE_MUST_CHECK int codec_stream_end(struct codec_ctx *cc, struct buf *out);
void codec_stream_abort(struct codec_ctx *cc);

#endif
