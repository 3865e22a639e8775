/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The byte transport of one Kafka connection: plain TCP or TLS (OpenSSL),
 * behind the calls kafka_server.c makes on a non-blocking socket.  Each
 * returns like the syscall it replaces: bytes (> 0), 0 for end of stream
 * (recv only), or -1 with errno set (EAGAIN: try again on readiness; other
 * values: the connection is over).
 *
 * TLS.  The handshake runs inside the first recv/send calls.  When TLS needs
 * the socket writable to go on (a handshake flight or session ticket that
 * did not fit), want_write() says so: poll for EPOLLOUT and call recv again.
 * TLS may hold decrypted bytes the socket no longer shows (pending()): read
 * them without waiting for EPOLLIN.  sendfile() is zero-copy when OpenSSL
 * enabled kernel TLS on the socket (SSL_sendfile); otherwise the file range
 * is read into a bounce buffer and SSL_write()n (kafka_conn_io_ktls() tells
 * which; counted in sluice_kafka_tls_sendfile_bytes_total{mode="ktls|copy"}).
 *
 * The principal is the verified client certificate's subject
 * ("User:CN=...", tls_server_principal()) once the handshake is done, NULL
 * for a plaintext connection or one without a client certificate.
 *
 * Not thread-safe: a connection belongs to the event loop's thread.
 */
#ifndef SLUICE_STORE_KAFKA_CONN_IO_H
#define SLUICE_STORE_KAFKA_CONN_IO_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <sys/uio.h>

struct tls_server;
struct ssl_st;

struct kafka_conn_io {
	int fd;             /* borrowed: the connection closes it */
	struct ssl_st *ssl; /* NULL: plaintext */
	struct tls_server *tls;
	const char *peer; /* for log lines */
	bool handshaken;
	bool want_write;
	bool ktls_send;
	unsigned char *bounce; /* TLS send buffer, allocated on first use */
	int cache_fd;          /* file bytes in bounce (copy path): fd, -1 none */
	off_t cache_pos;
	size_t cache_len;
	char *principal;
};

/* Plain when tls is NULL.  0 or -ENOMEM. */
int kafka_conn_io_init(struct kafka_conn_io *io, int fd, struct tls_server *tls, const char *peer);
void kafka_conn_io_release(struct kafka_conn_io *io);

ssize_t kafka_conn_io_recv(struct kafka_conn_io *io, void *buf, size_t len);
ssize_t kafka_conn_io_sendmsg(struct kafka_conn_io *io, const struct iovec *iov, int niov,
			      bool more);
ssize_t kafka_conn_io_sendfile(struct kafka_conn_io *io, int fd, off_t pos, size_t len);

static inline bool kafka_conn_io_want_write(const struct kafka_conn_io *io)
{
	return io->want_write;
}
bool kafka_conn_io_pending(const struct kafka_conn_io *io);
static inline const char *kafka_conn_io_principal(const struct kafka_conn_io *io)
{
	return io->principal;
}
static inline bool kafka_conn_io_ktls(const struct kafka_conn_io *io)
{
	return io->ktls_send;
}

#endif
