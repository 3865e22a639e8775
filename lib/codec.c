/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Codec glue over zlib, libsnappy, liblz4 and libzstd.  Decompression always
 * streams into the bounded output buffer in chunks, because Kafka producers
 * do not promise a content size in the frame (Java's ZstdOutputStream and
 * KafkaLZ4BlockOutputStream write none).
 */
#include <lz4frame.h>
#include <snappy-c.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#include "lib/codec.h"
#include "lib/err.h"
#include "lib/mem.h"

#define CHUNK (64 * 1024)

/* xerial snappy framing (snappy-java's SnappyOutputStream) */
static const uint8_t xerial_magic[8] = {0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0};
#define XERIAL_HEADER 16
#define XERIAL_BLOCK (32 * 1024)

struct codec_ctx {
	ZSTD_CCtx *zc;
	ZSTD_DCtx *zd;
	LZ4F_dctx *lz4d;
	int stream;  /* CODEC_* of the open stream, 0 = none */
	z_stream gz; /* the open gzip stream */
};

static const char *const names[] = {"none", "gzip", "snappy", "lz4", "zstd"};

const char *codec_name(int type)
{
	if (type < 0 || type > CODEC_ZSTD)
		return NULL;
	return names[type];
}

int codec_parse(const char *name)
{
	for (int i = 0; i <= CODEC_ZSTD; i++)
		if (strcmp(name, names[i]) == 0)
			return i;
	return -ERR_INVALID;
}

struct codec_ctx *codec_ctx_new(void)
{
	return mem_calloc(1, sizeof(struct codec_ctx));
}

void codec_ctx_free(struct codec_ctx *cc)
{
	if (!cc)
		return;
	codec_stream_abort(cc);
	ZSTD_freeCCtx(cc->zc);
	ZSTD_freeDCtx(cc->zd);
	if (cc->lz4d)
		LZ4F_freeDecompressionContext(cc->lz4d);
	mem_free(cc);
}

/* ---------------------------------------------------------------- gzip */

static int gzip_compress(int level, const void *in, size_t n, struct buf *out)
{
	z_stream zs;
	int rc, zrc;
	size_t bound;

	memset(&zs, 0, sizeof(zs));
	if (deflateInit2(&zs, level ? level : Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8,
			 Z_DEFAULT_STRATEGY) != Z_OK)
		return -ENOMEM;
	bound = deflateBound(&zs, (uLong)n) + 32;
	rc = buf_reserve(out, bound);
	if (rc < 0)
		goto out;
	zs.next_in = (Bytef *)(uintptr_t)in;
	zs.avail_in = (uInt)n;
	zs.next_out = out->data + out->len;
	zs.avail_out = (uInt)bound;
	zrc = deflate(&zs, Z_FINISH);
	if (zrc != Z_STREAM_END) {
		rc = -EIO;
		goto out;
	}
	out->len += zs.total_out;
	rc = 0;
out:
	deflateEnd(&zs);
	return rc;
}

static int gzip_decompress(const void *in, size_t n, struct buf *out)
{
	z_stream zs;
	int rc = 0, zrc;

	memset(&zs, 0, sizeof(zs));
	if (inflateInit2(&zs, 15 + 32) != Z_OK)
		return -ENOMEM;
	zs.next_in = (Bytef *)(uintptr_t)in;
	zs.avail_in = (uInt)n;
	for (;;) {
		size_t room;

		rc = buf_reserve(out, out->max - out->len < CHUNK ? out->max - out->len : CHUNK);
		if (rc < 0)
			goto out;
		room = out->cap - out->len;
		if (room == 0) {
			rc = -ERR_TOO_LARGE;
			goto out;
		}
		zs.next_out = out->data + out->len;
		zs.avail_out = (uInt)room;
		zrc = inflate(&zs, Z_NO_FLUSH);
		out->len += room - zs.avail_out;
		if (zrc == Z_STREAM_END) {
			if (zs.avail_in == 0)
				break;
			/* concatenated gzip members */
			if (inflateReset(&zs) != Z_OK) {
				rc = -ERR_CORRUPT;
				goto out;
			}
			continue;
		}
		if (zrc == Z_BUF_ERROR && zs.avail_out != 0) {
			rc = -ERR_CORRUPT; /* input ended mid-stream */
			goto out;
		}
		if (zrc != Z_OK && zrc != Z_BUF_ERROR) {
			rc = zrc == Z_MEM_ERROR ? -ENOMEM : -ERR_CORRUPT;
			goto out;
		}
	}
	rc = 0;
out:
	inflateEnd(&zs);
	return rc;
}

/* ---------------------------------------------------------------- snappy */

static int snappy_block_compress(const uint8_t *in, size_t n, struct buf *out)
{
	size_t clen = snappy_max_compressed_length(n);
	int rc = buf_reserve(out, clen);

	if (rc < 0)
		return rc;
	if (snappy_compress((const char *)in, n, (char *)out->data + out->len, &clen) != SNAPPY_OK)
		return -EIO;
	out->len += clen;
	return 0;
}

static int snappy_xerial_compress(const void *in, size_t n, struct buf *out)
{
	const uint8_t *p = in;
	uint8_t hdr[XERIAL_HEADER];
	int rc;

	memcpy(hdr, xerial_magic, 8);
	put_be32(hdr + 8, 1);  /* version */
	put_be32(hdr + 12, 1); /* minimum compatible version */
	rc = buf_append(out, hdr, sizeof(hdr));
	while (rc == 0 && n > 0) {
		size_t chunk = n < XERIAL_BLOCK ? n : XERIAL_BLOCK;
		size_t at;

		rc = buf_append_zero(out, 4, &at);
		if (rc < 0)
			break;
		rc = snappy_block_compress(p, chunk, out);
		if (rc < 0)
			break;
		put_be32(out->data + at, (uint32_t)(out->len - at - 4));
		p += chunk;
		n -= chunk;
	}
	return rc;
}

static int snappy_block_decompress(const uint8_t *in, size_t n, struct buf *out)
{
	size_t ulen;
	int rc;

	if (snappy_uncompressed_length((const char *)in, n, &ulen) != SNAPPY_OK)
		return -ERR_CORRUPT;
	rc = buf_reserve(out, ulen);
	if (rc < 0)
		return rc;
	if (snappy_uncompress((const char *)in, n, (char *)out->data + out->len, &ulen) !=
	    SNAPPY_OK)
		return -ERR_CORRUPT;
	out->len += ulen;
	return 0;
}

static int snappy_any_decompress(const void *in, size_t n, struct buf *out)
{
	const uint8_t *p = in;
	struct cursor c;

	if (n < XERIAL_HEADER || memcmp(p, xerial_magic, 8) != 0)
		return snappy_block_decompress(p, n, out);
	cursor_init(&c, p + XERIAL_HEADER, n - XERIAL_HEADER);
	while (cursor_left(&c) > 0) {
		uint32_t blen = cursor_be32(&c);
		const uint8_t *blk = cursor_take(&c, blen);
		int rc;

		if (!blk)
			return -ERR_CORRUPT;
		rc = snappy_block_decompress(blk, blen, out);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* ---------------------------------------------------------------- lz4 */

static int lz4_compress(int level, const void *in, size_t n, struct buf *out)
{
	LZ4F_preferences_t prefs;
	size_t bound, r;
	int rc;

	memset(&prefs, 0, sizeof(prefs));
	prefs.frameInfo.blockSizeID = LZ4F_max64KB;
	prefs.frameInfo.blockMode = LZ4F_blockIndependent;
	prefs.compressionLevel = level;
	bound = LZ4F_compressFrameBound(n, &prefs);
	rc = buf_reserve(out, bound);
	if (rc < 0)
		return rc;
	r = LZ4F_compressFrame(out->data + out->len, bound, in, n, &prefs);
	if (LZ4F_isError(r))
		return -EIO;
	out->len += r;
	return 0;
}

static int lz4_decompress(struct codec_ctx *cc, const void *in, size_t n, struct buf *out)
{
	const uint8_t *p = in;
	size_t left = n;

	if (!cc->lz4d && LZ4F_isError(LZ4F_createDecompressionContext(&cc->lz4d, LZ4F_VERSION)))
		return -ENOMEM;
	LZ4F_resetDecompressionContext(cc->lz4d);
	for (;;) {
		size_t room, src = left, r;
		int rc =
			buf_reserve(out, out->max - out->len < CHUNK ? out->max - out->len : CHUNK);

		if (rc < 0)
			return rc;
		room = out->cap - out->len;
		if (room == 0)
			return -ERR_TOO_LARGE;
		r = LZ4F_decompress(cc->lz4d, out->data + out->len, &room, p, &src, NULL);
		if (LZ4F_isError(r))
			return -ERR_CORRUPT;
		out->len += room;
		p += src;
		left -= src;
		if (r == 0)
			return left == 0 ? 0 : -ERR_CORRUPT;
		if (left == 0 && room == 0)
			return -ERR_CORRUPT; /* frame incomplete */
	}
}

/* ---------------------------------------------------------------- zstd */

static void zstd_params(ZSTD_CCtx *zc, int level);

static int zstd_compress(struct codec_ctx *cc, int level, const void *in, size_t n, struct buf *out)
{
	size_t bound = ZSTD_compressBound(n), r;
	int rc;

	if (!cc->zc) {
		cc->zc = ZSTD_createCCtx();
		if (!cc->zc)
			return -ENOMEM;
	}
	rc = buf_reserve(out, bound);
	if (rc < 0)
		return rc;
	if (cc->stream == CODEC_ZSTD)
		cc->stream = CODEC_NONE; /* the reset below ends it */
	zstd_params(cc->zc, level);
	r = ZSTD_compress2(cc->zc, out->data + out->len, bound, in, n);
	if (ZSTD_isError(r))
		return -EIO;
	out->len += r;
	return 0;
}

static void zstd_params(ZSTD_CCtx *zc, int level)
{
	if (level == 0)
		level = ZSTD_CLEVEL_DEFAULT;
	ZSTD_CCtx_reset(zc, ZSTD_reset_session_and_parameters);
	ZSTD_CCtx_setParameter(zc, ZSTD_c_compressionLevel, level);
	if (level <= 1) {
		/* The fast strategy on record batches (log lines with the same
		 * key and headers in every record): a 4096-entry hash table
		 * stays in L1/L2 and 7-byte minimum matches skip the short
		 * ones that cost more than they save.  Measured on the bench
		 * corpus as records, 1 MiB batches: 15% less CPU than zstd's
		 * level-1 table (hashLog 13, minMatch 6), ratio 4.15 vs 4.08
		 * (bench/RESULTS.md). */
		ZSTD_CCtx_setParameter(zc, ZSTD_c_hashLog, 12);
		ZSTD_CCtx_setParameter(zc, ZSTD_c_minMatch, 7);
	}
}

static int zstd_decompress(struct codec_ctx *cc, const void *in, size_t n, struct buf *out)
{
	ZSTD_inBuffer ib = {in, n, 0};
	size_t r = 1;

	if (!cc->zd) {
		cc->zd = ZSTD_createDCtx();
		if (!cc->zd)
			return -ENOMEM;
	}
	ZSTD_DCtx_reset(cc->zd, ZSTD_reset_session_only);
	while (ib.pos < ib.size || r != 0) {
		ZSTD_outBuffer ob;
		int rc =
			buf_reserve(out, out->max - out->len < CHUNK ? out->max - out->len : CHUNK);

		if (rc < 0)
			return rc;
		if (out->cap == out->len)
			return -ERR_TOO_LARGE;
		ob.dst = out->data + out->len;
		ob.size = out->cap - out->len;
		ob.pos = 0;
		r = ZSTD_decompressStream(cc->zd, &ob, &ib);
		if (ZSTD_isError(r))
			return -ERR_CORRUPT;
		out->len += ob.pos;
		if (ib.pos == ib.size && r != 0 && ob.pos < ob.size)
			return -ERR_CORRUPT; /* frame truncated */
	}
	return 0;
}

int codec_compress(struct codec_ctx *cc, int type, int level, const void *in, size_t n,
		   struct buf *out)
{
	switch (type) {
	case CODEC_NONE:
		return buf_append(out, in, n);
	case CODEC_GZIP:
		return gzip_compress(level, in, n, out);
	case CODEC_SNAPPY:
		return snappy_xerial_compress(in, n, out);
	case CODEC_LZ4:
		return lz4_compress(level, in, n, out);
	case CODEC_ZSTD:
		return zstd_compress(cc, level, in, n, out);
	}
	return -ERR_UNSUPPORTED;
}

int codec_decompress(struct codec_ctx *cc, int type, const void *in, size_t n, struct buf *out)
{
	switch (type) {
	case CODEC_NONE:
		return buf_append(out, in, n);
	case CODEC_GZIP:
		return gzip_decompress(in, n, out);
	case CODEC_SNAPPY:
		return snappy_any_decompress(in, n, out);
	case CODEC_LZ4:
		return lz4_decompress(cc, in, n, out);
	case CODEC_ZSTD:
		return zstd_decompress(cc, in, n, out);
	}
	return -ERR_UNSUPPORTED;
}

/* ---------------------------------------------------------------- streams */

void codec_stream_abort(struct codec_ctx *cc)
{
	if (cc->stream == CODEC_GZIP)
		deflateEnd(&cc->gz);
	cc->stream = CODEC_NONE;
}

int codec_stream_begin(struct codec_ctx *cc, int type, int level)
{
	codec_stream_abort(cc);
	switch (type) {
	case CODEC_GZIP:
		memset(&cc->gz, 0, sizeof(cc->gz));
		if (deflateInit2(&cc->gz, level ? level : Z_DEFAULT_COMPRESSION, Z_DEFLATED,
				 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
			return -ENOMEM;
		break;
	case CODEC_ZSTD:
		if (!cc->zc) {
			cc->zc = ZSTD_createCCtx();
			if (!cc->zc)
				return -ENOMEM;
		}
		zstd_params(cc->zc, level);
		break;
	default:
		return -ERR_UNSUPPORTED;
	}
	cc->stream = type;
	return 0;
}

static int zstd_feed(struct codec_ctx *cc, ZSTD_inBuffer *ib, bool end, struct buf *out)
{
	for (;;) {
		ZSTD_outBuffer ob;
		size_t r;
		int rc = buf_reserve(out, CHUNK);

		if (rc < 0)
			return rc;
		ob.dst = out->data + out->len;
		ob.size = CHUNK;
		ob.pos = 0;
		r = ZSTD_compressStream2(cc->zc, &ob, ib, end ? ZSTD_e_end : ZSTD_e_continue);
		if (ZSTD_isError(r))
			return -EIO;
		out->len += ob.pos;
		if (end ? r == 0 : ib->pos == ib->size)
			return 0;
	}
}

static int gzip_feed(struct codec_ctx *cc, const void *in, size_t n, bool end, struct buf *out)
{
	cc->gz.next_in = (Bytef *)(uintptr_t)in;
	cc->gz.avail_in = (uInt)n;
	for (;;) {
		int zrc, rc = buf_reserve(out, CHUNK);

		if (rc < 0)
			return rc;
		cc->gz.next_out = out->data + out->len;
		cc->gz.avail_out = CHUNK;
		zrc = deflate(&cc->gz, end ? Z_FINISH : Z_NO_FLUSH);
		if (zrc == Z_STREAM_ERROR)
			return -EIO;
		out->len += CHUNK - cc->gz.avail_out;
		if (end ? zrc == Z_STREAM_END : cc->gz.avail_in == 0 && cc->gz.avail_out != 0)
			return 0;
	}
}

int codec_stream_write(struct codec_ctx *cc, const void *in, size_t n, struct buf *out)
{
	ZSTD_inBuffer ib = {in, n, 0};

	if (n > UINT32_MAX)
		return -ERR_TOO_LARGE;
	if (cc->stream == CODEC_ZSTD)
		return zstd_feed(cc, &ib, false, out);
	if (cc->stream == CODEC_GZIP)
		return gzip_feed(cc, in, n, false, out);
	return -ERR_INVALID;
}

int codec_stream_end(struct codec_ctx *cc, struct buf *out)
{
	ZSTD_inBuffer ib = {NULL, 0, 0};
	int rc = -ERR_INVALID;

	if (cc->stream == CODEC_ZSTD)
		rc = zstd_feed(cc, &ib, true, out);
	else if (cc->stream == CODEC_GZIP)
		rc = gzip_feed(cc, NULL, 0, true, out);
	codec_stream_abort(cc);
	return rc;
}
