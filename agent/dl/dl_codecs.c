/* SPDX-License-Identifier: Apache-2.0 */
/*
 * snappy and LZ4 on first use (see dl.h): the agent compresses with zstd
 * unless an output asks for another codec, and libsnappy alone brings in the
 * C++ runtime.
 */
#include <lz4frame.h>
#include <snappy-c.h>

#include "agent/dl/dl.h"

/* clang-format off */
#define SNAPPY_FNS(X)                                                             \
	X(snappy_compress) X(snappy_uncompress) X(snappy_max_compressed_length)        \
	X(snappy_uncompressed_length)
/* clang-format on */

enum { SNAPPY_FNS(DL_ENUM) SNAPPY_N };
static const char *const snappy_names[] = {SNAPPY_FNS(DL_NAME)};
static void *snappy_fns[SNAPPY_N];
static struct dl_lib snappy = {
	.soname = "libsnappy.so.1",
	.used_by = "the snappy codec",
	.names = snappy_names,
	.fns = snappy_fns,
	.n = SNAPPY_N,
};

#define S(name) DL_FN(snappy_fns, name)

snappy_status snappy_compress(const char *input, size_t input_length, char *compressed,
			      size_t *compressed_length)
{
	return dl_load(&snappy)
		       ? S(snappy_compress)(input, input_length, compressed, compressed_length)
		       : SNAPPY_INVALID_INPUT;
}

snappy_status snappy_uncompress(const char *compressed, size_t compressed_length,
				char *uncompressed, size_t *uncompressed_length)
{
	return dl_load(&snappy) ? S(snappy_uncompress)(compressed, compressed_length, uncompressed,
						       uncompressed_length)
				: SNAPPY_INVALID_INPUT;
}

size_t snappy_max_compressed_length(size_t source_length)
{
	return dl_load(&snappy) ? S(snappy_max_compressed_length)(source_length) : 0;
}

snappy_status snappy_uncompressed_length(const char *compressed, size_t compressed_length,
					 size_t *result)
{
	return dl_load(&snappy)
		       ? S(snappy_uncompressed_length)(compressed, compressed_length, result)
		       : SNAPPY_INVALID_INPUT;
}

/* clang-format off */
#define LZ4_FNS(X)                                                                    \
	X(LZ4F_isError) X(LZ4F_compressFrameBound) X(LZ4F_compressFrame)                   \
	X(LZ4F_createDecompressionContext) X(LZ4F_freeDecompressionContext)                \
	X(LZ4F_decompress) X(LZ4F_resetDecompressionContext)
/* clang-format on */

enum { LZ4_FNS(DL_ENUM) LZ4_N };
static const char *const lz4_names[] = {LZ4_FNS(DL_NAME)};
static void *lz4_fns[LZ4_N];
static struct dl_lib lz4 = {
	.soname = "liblz4.so.1",
	.used_by = "the lz4 codec",
	.names = lz4_names,
	.fns = lz4_fns,
	.n = LZ4_N,
};

#define L(name) DL_FN(lz4_fns, name)
/* LZ4F's "generic error" code: every call fails without the library. */
#define LZ4_FAIL ((size_t)-1)

unsigned LZ4F_isError(LZ4F_errorCode_t code)
{
	return dl_load(&lz4) ? L(LZ4F_isError)(code) : 1;
}

size_t LZ4F_compressFrameBound(size_t src_size, const LZ4F_preferences_t *prefs)
{
	return dl_load(&lz4) ? L(LZ4F_compressFrameBound)(src_size, prefs) : 0;
}

size_t LZ4F_compressFrame(void *dst, size_t dst_capacity, const void *src, size_t src_size,
			  const LZ4F_preferences_t *prefs)
{
	return dl_load(&lz4) ? L(LZ4F_compressFrame)(dst, dst_capacity, src, src_size, prefs)
			     : LZ4_FAIL;
}

LZ4F_errorCode_t LZ4F_createDecompressionContext(LZ4F_dctx **dctx, unsigned version)
{
	if (!dl_load(&lz4)) {
		*dctx = NULL;
		return LZ4_FAIL;
	}
	return L(LZ4F_createDecompressionContext)(dctx, version);
}

LZ4F_errorCode_t LZ4F_freeDecompressionContext(LZ4F_dctx *dctx)
{
	return dl_load(&lz4) ? L(LZ4F_freeDecompressionContext)(dctx) : 0;
}

size_t LZ4F_decompress(LZ4F_dctx *dctx, void *dst, size_t *dst_size, const void *src,
		       size_t *src_size, const LZ4F_decompressOptions_t *opts)
{
	return dl_load(&lz4) ? L(LZ4F_decompress)(dctx, dst, dst_size, src, src_size, opts)
			     : LZ4_FAIL;
}

void LZ4F_resetDecompressionContext(LZ4F_dctx *dctx)
{
	if (dl_load(&lz4))
		L(LZ4F_resetDecompressionContext)(dctx);
}
