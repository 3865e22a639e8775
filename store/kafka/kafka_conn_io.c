/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Plain or TLS transport of a Kafka connection (kafka_conn_io.h).
 *
 * Writes over TLS run in OpenSSL's partial-write mode with a moving buffer
 * allowed: SSL_write returns after each record, and a write that reported
 * WANT_WRITE is retried by kafka_server.c with the same leading bytes
 * (nothing was accounted as sent), which is what OpenSSL requires.  Memory
 * pieces smaller than a record are gathered into one bounce buffer so that
 * small responses still leave in full records; larger ones are written
 * straight from the response.
 *
 * Fetch over TLS: with kernel TLS (OpenSSL 3 SSL_OP_ENABLE_KTLS, the Linux
 * tls module and an AES-GCM or ChaCha20 suite) SSL_sendfile() keeps the
 * zero-copy path; otherwise pread() 64 KiB of the piece into the bounce
 * buffer and SSL_write() it out record by record.  The bytes read stay
 * cached until all of them are sent (they all belong to the piece being
 * sent, which completes only after its last byte, so a cached range never
 * outlives its file), and a retry after WANT_WRITE is served the same bytes.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/err.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "store/kafka/kafka_conn_io.h"
#include "store/tls/tls_server.h"

#define BOUNCE_CAP (16u * 1024) /* one TLS record of plaintext: the gather size */
#define FILE_CHUNK (64u * 1024) /* file bytes read at once for the copy path */

int kafka_conn_io_init(struct kafka_conn_io *io, int fd, struct tls_server *tls, const char *peer)
{
	SSL_CTX *ctx;

	memset(io, 0, sizeof(*io));
	io->fd = fd;
	io->cache_fd = -1;
	io->peer = peer;
	if (!tls)
		return 0;
	io->tls = tls;
	ctx = tls_server_ctx(tls);
	io->ssl = SSL_new(ctx);
	SSL_CTX_free(ctx); /* the SSL holds its own reference */
	if (!io->ssl || SSL_set_fd(io->ssl, fd) != 1) {
		SSL_free(io->ssl);
		io->ssl = NULL;
		ERR_clear_error();
		return -ENOMEM;
	}
	SSL_set_accept_state(io->ssl);
	return 0;
}

void kafka_conn_io_release(struct kafka_conn_io *io)
{
	if (io->ssl) {
		/* best effort close_notify; never blocks (non-blocking socket) */
		if (io->handshaken)
			SSL_shutdown(io->ssl);
		SSL_free(io->ssl);
		ERR_clear_error();
	}
	mem_free(io->bounce);
	mem_free(io->principal);
	memset(io, 0, sizeof(*io));
	io->fd = -1;
}

/* Decrypted bytes only (SSL_pending), not SSL_has_pending(): the latter is
 * also true for the first part of a record whose rest is still on its way,
 * which SSL_read cannot return, so the caller would poll it forever.  With
 * read-ahead off OpenSSL holds no other undecrypted bytes. */
bool kafka_conn_io_pending(const struct kafka_conn_io *io)
{
	return io->ssl && io->handshaken && SSL_pending(io->ssl) > 0;
}

/* A fatal TLS error: log it once, clear OpenSSL's queue, errno for the caller. */
static ssize_t tls_fail(struct kafka_conn_io *io, int e, const char *what)
{
	char reason[160] = "connection reset";
	unsigned long q = ERR_get_error();

	if (q)
		ERR_error_string_n(q, reason, sizeof(reason));
	else if (e == SSL_ERROR_SYSCALL && errno)
		snprintf(reason, sizeof(reason), "%s", err_str(-errno));
	ERR_clear_error();
	if (!io->handshaken)
		tls_server_count_handshake(io->tls, false, io->peer, reason);
	else
		log_debug("kafka: %s: TLS %s: %s", io->peer, what, reason);
	errno = io->handshaken ? ECONNRESET : EPROTO;
	return -1;
}

/* 0 when the handshake is done, -1 with errno otherwise (EAGAIN: not yet). */
static int handshake(struct kafka_conn_io *io)
{
	int r = SSL_do_handshake(io->ssl);
	int e;
	X509 *cert;

	if (r == 1) {
		io->handshaken = true;
		io->ktls_send = BIO_get_ktls_send(SSL_get_wbio(io->ssl)) > 0;
		cert = SSL_get0_peer_certificate(io->ssl);
		if (cert) {
			char p[TLS_PRINCIPAL_MAX];

			if (tls_server_principal(cert, p, sizeof(p)) == 0)
				io->principal = mem_strdup(p);
		}
		tls_server_count_handshake(io->tls, true, io->peer, NULL);
		log_debug("kafka: %s: %s %s%s%s%s", io->peer, SSL_get_version(io->ssl),
			  SSL_get_cipher_name(io->ssl), io->ktls_send ? " (kernel TLS)" : "",
			  io->principal ? " " : "", io->principal ? io->principal : "");
		return 0;
	}
	e = SSL_get_error(io->ssl, r);
	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
		io->want_write = e == SSL_ERROR_WANT_WRITE;
		errno = EAGAIN;
		return -1;
	}
	tls_fail(io, e, "handshake");
	return -1;
}

ssize_t kafka_conn_io_recv(struct kafka_conn_io *io, void *buf, size_t len)
{
	size_t got = 0;

	if (!io->ssl)
		return recv(io->fd, buf, len, 0);
	io->want_write = false;
	if (!io->handshaken && handshake(io) < 0)
		return -1;
	while (got < len) {
		size_t n = 0;
		int r = SSL_read_ex(io->ssl, (char *)buf + got, len - got, &n);
		int e;

		if (r == 1) {
			got += n;
			continue;
		}
		e = SSL_get_error(io->ssl, r);
		if (e == SSL_ERROR_WANT_WRITE)
			io->want_write = true;
		if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE || got > 0)
			break; /* an error is reported by the next call */
		if (e == SSL_ERROR_ZERO_RETURN) {
			ERR_clear_error();
			return 0;
		}
		return tls_fail(io, e, "read");
	}
	if (got == 0) {
		errno = EAGAIN;
		return -1;
	}
	/* A client that writes one request as several TLS records (librdkafka:
	 * header and payload) with Nagle on waits for our ACK before the last
	 * one; a delayed ACK would cost it 40 ms per request.  Linux clears
	 * quick-ack mode by itself, so it is set again after each read. */
	setsockopt(io->fd, IPPROTO_TCP, TCP_QUICKACK, &(int){1}, sizeof(int));
	return (ssize_t)got;
}

static ssize_t tls_write(struct kafka_conn_io *io, const void *p, size_t n)
{
	size_t w = 0;
	int r, e;

	r = SSL_write_ex(io->ssl, p, n, &w);
	if (r == 1)
		return (ssize_t)w;
	e = SSL_get_error(io->ssl, r);
	if (e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ) {
		errno = EAGAIN;
		return -1;
	}
	return tls_fail(io, e, "write");
}

/* Nothing in the bounce buffer is needed any more: give it back, so that an
 * idle TLS connection costs only what OpenSSL keeps (it releases its own
 * record buffers too, SSL_MODE_RELEASE_BUFFERS). */
static void bounce_done(struct kafka_conn_io *io)
{
	io->cache_fd = -1;
	mem_free(io->bounce);
	io->bounce = NULL;
}

static int bounce_get(struct kafka_conn_io *io)
{
	if (!io->bounce)
		io->bounce = mem_alloc(FILE_CHUNK);
	if (!io->bounce) {
		errno = ENOMEM;
		return -1;
	}
	return 0;
}

ssize_t kafka_conn_io_sendmsg(struct kafka_conn_io *io, const struct iovec *iov, int niov,
			      bool more)
{
	size_t n = 0;
	ssize_t w;

	if (!io->ssl) {
		struct msghdr mh;

		memset(&mh, 0, sizeof(mh));
		mh.msg_iov = (struct iovec *)iov;
		mh.msg_iovlen = (size_t)niov;
		return sendmsg(io->fd, &mh, MSG_NOSIGNAL | (more ? MSG_MORE : 0));
	}
	if (!io->handshaken && handshake(io) < 0)
		return -1;
	if (niov == 1 || iov[0].iov_len >= BOUNCE_CAP)
		return tls_write(io, iov[0].iov_base, iov[0].iov_len);
	if (bounce_get(io) < 0)
		return -1;
	io->cache_fd = -1; /* (never set here: a file piece is sent to its end first) */
	for (int i = 0; i < niov && n < BOUNCE_CAP; i++) {
		size_t take = iov[i].iov_len;

		if (take > BOUNCE_CAP - n)
			take = BOUNCE_CAP - n;
		memcpy(io->bounce + n, iov[i].iov_base, take);
		n += take;
	}
	w = tls_write(io, io->bounce, n);
	if (w == (ssize_t)n)
		bounce_done(io); /* a retry after WANT_WRITE gathers the same bytes again */
	return w;
}

ssize_t kafka_conn_io_sendfile(struct kafka_conn_io *io, int fd, off_t pos, size_t len)
{
	ssize_t n;

	if (!io->ssl)
		return sendfile(io->fd, fd, &pos, len);
	if (!io->handshaken && handshake(io) < 0)
		return -1;
	if (io->ktls_send) {
		n = SSL_sendfile(io->ssl, fd, pos, len, 0);
		if (n < 0) {
			int e = SSL_get_error(io->ssl, (int)n);

			if (e == SSL_ERROR_WANT_WRITE) {
				errno = EAGAIN;
				return -1;
			}
			return tls_fail(io, e, "sendfile");
		}
		tls_server_count_sendfile(io->tls, true, (size_t)n);
		return n;
	}
	if (io->cache_fd != fd || pos < io->cache_pos ||
	    pos >= io->cache_pos + (off_t)io->cache_len) {
		if (bounce_get(io) < 0)
			return -1;
		if (len > FILE_CHUNK)
			len = FILE_CHUNK;
		do {
			n = pread(fd, io->bounce, len, pos);
		} while (n < 0 && errno == EINTR);
		if (n <= 0)
			return n;
		io->cache_fd = fd;
		io->cache_pos = pos;
		io->cache_len = (size_t)n;
	}
	len = io->cache_len - (size_t)(pos - io->cache_pos);
	n = tls_write(io, io->bounce + (pos - io->cache_pos), len);
	if (n > 0) {
		tls_server_count_sendfile(io->tls, false, (size_t)n);
		if ((size_t)n == len)
			bounce_done(io); /* all sent: the piece may end and its fd close */
	}
	return n;
}
