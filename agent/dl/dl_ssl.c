/* SPDX-License-Identifier: Apache-2.0 */
/*
 * OpenSSL's libssl on first use (see dl.h): the syslog input's TLS
 * listener (RFC 5425), and the kafka output's native client over TLS (and
 * its SCRAM: PBKDF2, HMAC, digests, random nonces, base64 of libcrypto).  libssl.so.3 brings libcrypto with it; the few
 * libcrypto functions used (the error queue, certificate error strings) are
 * resolved through the same handle, which dlsym() searches with its
 * dependencies.  Only the functions the input calls are here; OpenSSL's
 * macros over them (SSL_CTX_set_min_proto_version over SSL_CTX_ctrl) work
 * unchanged.
 */
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "agent/dl/dl.h"

/* clang-format off */
#define FNS(X)                                                                          \
	X(TLS_server_method) X(SSL_CTX_new) X(SSL_CTX_free) X(SSL_CTX_ctrl)                  \
	X(SSL_CTX_set_options) X(SSL_CTX_set_num_tickets) X(SSL_CTX_set_cipher_list)         \
	X(SSL_CTX_set_ciphersuites) X(SSL_CTX_use_certificate_chain_file)                    \
	X(SSL_CTX_use_PrivateKey_file) X(SSL_CTX_check_private_key)                          \
	X(SSL_CTX_load_verify_locations) X(SSL_CTX_set_verify) X(SSL_new) X(SSL_free)        \
	X(SSL_set_fd) X(SSL_accept) X(SSL_read) X(SSL_get_error) X(SSL_shutdown)             \
	X(SSL_has_pending) X(SSL_get_verify_result) X(ERR_get_error) X(ERR_peek_error)       \
	X(ERR_error_string_n) X(ERR_clear_error) X(X509_verify_cert_error_string)           \
	X(TLS_client_method) X(SSL_connect) X(SSL_write) X(SSL_ctrl) X(SSL_set1_host)        \
	X(SSL_CTX_set_default_verify_paths) X(PKCS5_PBKDF2_HMAC) X(HMAC) X(EVP_sha256)        \
	X(EVP_sha512) X(EVP_Digest) X(RAND_bytes) X(EVP_EncodeBlock) X(EVP_DecodeBlock)
/* clang-format on */

enum { FNS(DL_ENUM) DL_N };
static const char *const names[] = {FNS(DL_NAME)};
static void *fns[DL_N];
static struct dl_lib lib = {
	.soname = "libssl.so.3",
	.used_by = "the syslog input's tls:// listener and the kafka output's native TLS",
	.names = names,
	.fns = fns,
	.n = DL_N,
};

#define F(name) DL_FN(fns, name)
#define L() dl_load(&lib)

const SSL_METHOD *TLS_server_method(void)
{
	return L() ? F(TLS_server_method)() : NULL;
}

SSL_CTX *SSL_CTX_new(const SSL_METHOD *meth)
{
	return L() ? F(SSL_CTX_new)(meth) : NULL;
}

void SSL_CTX_free(SSL_CTX *ctx)
{
	if (L())
		F(SSL_CTX_free)(ctx);
}

long SSL_CTX_ctrl(SSL_CTX *ctx, int cmd, long larg, void *parg)
{
	return L() ? F(SSL_CTX_ctrl)(ctx, cmd, larg, parg) : 0;
}

uint64_t SSL_CTX_set_options(SSL_CTX *ctx, uint64_t op)
{
	return L() ? F(SSL_CTX_set_options)(ctx, op) : 0;
}

int SSL_CTX_set_num_tickets(SSL_CTX *ctx, size_t num_tickets)
{
	return L() ? F(SSL_CTX_set_num_tickets)(ctx, num_tickets) : 0;
}

int SSL_CTX_set_cipher_list(SSL_CTX *ctx, const char *str)
{
	return L() ? F(SSL_CTX_set_cipher_list)(ctx, str) : 0;
}

int SSL_CTX_set_ciphersuites(SSL_CTX *ctx, const char *str)
{
	return L() ? F(SSL_CTX_set_ciphersuites)(ctx, str) : 0;
}

int SSL_CTX_use_certificate_chain_file(SSL_CTX *ctx, const char *file)
{
	return L() ? F(SSL_CTX_use_certificate_chain_file)(ctx, file) : 0;
}

int SSL_CTX_use_PrivateKey_file(SSL_CTX *ctx, const char *file, int type)
{
	return L() ? F(SSL_CTX_use_PrivateKey_file)(ctx, file, type) : 0;
}

int SSL_CTX_check_private_key(const SSL_CTX *ctx)
{
	return L() ? F(SSL_CTX_check_private_key)(ctx) : 0;
}

int SSL_CTX_load_verify_locations(SSL_CTX *ctx, const char *file, const char *path)
{
	return L() ? F(SSL_CTX_load_verify_locations)(ctx, file, path) : 0;
}

void SSL_CTX_set_verify(SSL_CTX *ctx, int mode, SSL_verify_cb cb)
{
	if (L())
		F(SSL_CTX_set_verify)(ctx, mode, cb);
}

SSL *SSL_new(SSL_CTX *ctx)
{
	return L() ? F(SSL_new)(ctx) : NULL;
}

void SSL_free(SSL *ssl)
{
	if (L())
		F(SSL_free)(ssl);
}

int SSL_set_fd(SSL *s, int fd)
{
	return L() ? F(SSL_set_fd)(s, fd) : 0;
}

int SSL_accept(SSL *ssl)
{
	return L() ? F(SSL_accept)(ssl) : -1;
}

int SSL_read(SSL *ssl, void *buf, int num)
{
	return L() ? F(SSL_read)(ssl, buf, num) : -1;
}

int SSL_get_error(const SSL *s, int ret_code)
{
	return L() ? F(SSL_get_error)(s, ret_code) : SSL_ERROR_SSL;
}

int SSL_shutdown(SSL *s)
{
	return L() ? F(SSL_shutdown)(s) : -1;
}

int SSL_has_pending(const SSL *s)
{
	return L() ? F(SSL_has_pending)(s) : 0;
}

long SSL_get_verify_result(const SSL *ssl)
{
	return L() ? F(SSL_get_verify_result)(ssl) : X509_V_ERR_UNSPECIFIED;
}

unsigned long ERR_get_error(void)
{
	return L() ? F(ERR_get_error)() : 0;
}

unsigned long ERR_peek_error(void)
{
	return L() ? F(ERR_peek_error)() : 0;
}

void ERR_error_string_n(unsigned long e, char *buf, size_t len)
{
	if (L())
		F(ERR_error_string_n)(e, buf, len);
	else if (len)
		buf[0] = '\0';
}

void ERR_clear_error(void)
{
	if (L())
		F(ERR_clear_error)();
}

const char *X509_verify_cert_error_string(long n)
{
	return L() ? F(X509_verify_cert_error_string)(n) : "libssl.so.3 cannot be loaded";
}

const SSL_METHOD *TLS_client_method(void)
{
	return L() ? F(TLS_client_method)() : NULL;
}

int SSL_connect(SSL *ssl)
{
	return L() ? F(SSL_connect)(ssl) : -1;
}

int SSL_write(SSL *ssl, const void *buf, int num)
{
	return L() ? F(SSL_write)(ssl, buf, num) : -1;
}

long SSL_ctrl(SSL *ssl, int cmd, long larg, void *parg)
{
	return L() ? F(SSL_ctrl)(ssl, cmd, larg, parg) : 0;
}

int SSL_set1_host(SSL *s, const char *hostname)
{
	return L() ? F(SSL_set1_host)(s, hostname) : 0;
}

int SSL_CTX_set_default_verify_paths(SSL_CTX *ctx)
{
	return L() ? F(SSL_CTX_set_default_verify_paths)(ctx) : 0;
}

int PKCS5_PBKDF2_HMAC(const char *pass, int passlen, const unsigned char *salt, int saltlen,
		      int iter, const EVP_MD *digest, int keylen, unsigned char *out)
{
	return L() ? F(PKCS5_PBKDF2_HMAC)(pass, passlen, salt, saltlen, iter, digest, keylen, out)
		   : 0;
}

unsigned char *HMAC(const EVP_MD *evp_md, const void *key, int key_len, const unsigned char *d,
		    size_t n, unsigned char *md, unsigned int *md_len)
{
	return L() ? F(HMAC)(evp_md, key, key_len, d, n, md, md_len) : NULL;
}

const EVP_MD *EVP_sha256(void)
{
	return L() ? F(EVP_sha256)() : NULL;
}

const EVP_MD *EVP_sha512(void)
{
	return L() ? F(EVP_sha512)() : NULL;
}

int EVP_Digest(const void *data, size_t count, unsigned char *md, unsigned int *size,
	       const EVP_MD *type, ENGINE *impl)
{
	return L() ? F(EVP_Digest)(data, count, md, size, type, impl) : 0;
}

int RAND_bytes(unsigned char *buf, int num)
{
	return L() ? F(RAND_bytes)(buf, num) : 0;
}

int EVP_EncodeBlock(unsigned char *t, const unsigned char *f, int n)
{
	return L() ? F(EVP_EncodeBlock)(t, f, n) : -1;
}

int EVP_DecodeBlock(unsigned char *t, const unsigned char *f, int n)
{
	return L() ? F(EVP_DecodeBlock)(t, f, n) : -1;
}
