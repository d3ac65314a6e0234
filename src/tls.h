/*
 * tls.h - TLS with OpenSSL: a context per listener, a session per
 * connection.
 *
 * A context is built when a configuration is loaded, in the master (at
 * start, with -t, on SIGHUP), so the key is read with the master's
 * privileges and a bad certificate or key fails the load like any other
 * configuration error. Workers inherit it at fork and never open the
 * files. Every session works on a non-blocking socket: each call says
 * what it is waiting for (TLS_WANT_READ, TLS_WANT_WRITE) and the caller
 * calls it again once the socket is ready.
 */
#ifndef TLS_H
#define TLS_H

#include <stddef.h>

#include "stats.h"

struct tls_ctx;
struct tls;

/* What a session call did; < 0 is failure, as usual. */
enum tls_status {
	TLS_ERROR = -1,		/* fatal: the session is unusable */
	TLS_OK = 0,
	TLS_WANT_READ = 1,	/* again once the socket is readable */
	TLS_WANT_WRITE = 2,	/* again once it is writable */
	TLS_EOF = 3		/* the peer's close_notify or FIN */
};

/*
 * A context serving the PEM certificate chain in cert_path with the key
 * in key_path: TLS 1.2 and 1.3, ALPN http/1.1, no renegotiation, session
 * tickets. NULL with why filled ("PATH: reason") when a file cannot be
 * read or the key does not match the certificate. A certificate outside
 * its validity period is served, with a warning in the log.
 */
struct tls_ctx	*tls_ctx_new(const char *cert_path, const char *key_path,
		    char *why, size_t whysize);

/* Accepts NULL. */
void		 tls_ctx_free(struct tls_ctx *ctx);

/* A server session on the connected socket fd, or NULL (out of memory). */
struct tls	*tls_new(struct tls_ctx *ctx, int fd);

/* Accepts NULL. Leaves fd open. */
void		 tls_free(struct tls *t);

/*
 * Drive the handshake: TLS_OK once done, TLS_WANT_*, or TLS_ERROR with
 * *reason saying why for the stats.
 */
enum tls_status	 tls_handshake(struct tls *t, enum stats_tls_fail *reason);

/* Was the finished handshake a resumption (a session ticket)? */
int		 tls_resumed(const struct tls *t);

/*
 * Read up to len bytes of plaintext; on TLS_OK *n is what was read.
 * TLS_EOF: the peer will send no more (close_notify, or a FIN).
 */
enum tls_status	 tls_read(struct tls *t, void *buf, size_t len, size_t *n);

/*
 * Does the session hold input (decrypted, or records read ahead) that a
 * read would return without the socket becoming readable again?
 */
int		 tls_pending(const struct tls *t);

/*
 * Write up to len bytes (one record at most per call is fine); on TLS_OK
 * *n were taken. After TLS_WANT_*, call again with the same bytes.
 */
enum tls_status	 tls_write(struct tls *t, const void *buf, size_t len,
		    size_t *n);

/*
 * Send close_notify, once, without waiting for the peer's: the socket is
 * closed (or shut down for writing) right after. A no-op after a fatal
 * error or before the handshake finished.
 */
void		 tls_shutdown(struct tls *t);

/* Why the last call failed, for the log. */
const char	*tls_error(const struct tls *t);

#endif /* TLS_H */
