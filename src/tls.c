/*
 * tls.c - TLS with OpenSSL.
 *
 * Design note. One SSL_CTX per TLS listener of a configuration, made in
 * the master when the configuration loads; workers inherit it at fork.
 *
 * Session resumption is by tickets (RFC 5077, and TLS 1.3's), not by a
 * server-side cache. The ticket keys are made with the SSL_CTX, before
 * the fork, so every worker of a generation holds the same ones: a
 * ticket issued by one worker resumes on whichever SO_REUSEPORT socket
 * the client's next connection lands on. A session cache would live in
 * each worker's memory after the fork and miss (workers - 1) times in
 * workers; it is off. A reload makes new contexts and so new keys: the
 * first connection of a client after a reload does a full handshake.
 *
 * OpenSSL reports errors on a per-thread queue that must be empty before
 * each call whose result SSL_get_error() reads: every call here clears
 * it first. Only the loop thread uses a session.
 */
#include "autoconfig.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "log.h"
#include "stats.h"
#include "tls.h"
#include "xmalloc.h"

struct tls_ctx {
	SSL_CTX		*ssl_ctx;
};

struct tls {
	SSL		*ssl;
	int		 fatal;		/* no close_notify after this */
	char		 error[128];	/* why the last call failed */
};

static const unsigned char	alpn_http11[] = "\x08http/1.1";

/* The oldest error on the queue (the cause, not its consequences). */
static const char *
ssl_reason(void)
{
	unsigned long	 e = ERR_peek_error();
	const char	*s;

	if (e == 0)
		return errno != 0 ? strerror(errno) : "unknown error";
	/* A file that cannot be opened: the system's words for it. */
	if (ERR_GET_LIB(e) == ERR_LIB_SYS)
		return strerror(ERR_GET_REASON(e));
	if ((s = ERR_reason_error_string(e)) == NULL)
		return "unknown error";
	return s;
}

/* Encrypted keys: no prompt on the terminal, a clear failure. */
static int
tls_passwd_cb(char *buf, int size, int rwflag, void *arg)
{
	return 0;
}

/*
 * ALPN: http/1.1 when the client offers it; a client offering only
 * others (h2) gets no ALPN answer rather than a failed handshake, as
 * nginx does, and speaks HTTP/1.1 or leaves.
 */
static int
tls_alpn_cb(SSL *ssl, const unsigned char **out, unsigned char *outlen,
    const unsigned char *in, unsigned int inlen, void *arg)
{
	unsigned char	*sel;

	if (SSL_select_next_proto(&sel, outlen, alpn_http11,
	    sizeof(alpn_http11) - 1, in, inlen) != OPENSSL_NPN_NEGOTIATED)
		return SSL_TLSEXT_ERR_NOACK;
	*out = sel;
	return SSL_TLSEXT_ERR_OK;
}

/* t as "YYYY-MM-DD HH:MM:SS UTC" into buf. Returns buf. */
static const char *
asn1_time_format(const ASN1_TIME *t, char *buf, size_t bufsize)
{
	struct tm	 tm;

	if (ASN1_TIME_to_tm(t, &tm) != 1 ||
	    strftime(buf, bufsize, "%Y-%m-%d %H:%M:%S UTC", &tm) == 0)
		(void)snprintf(buf, bufsize, "(unreadable time)");
	return buf;
}

/* Warn, not fail, outside the validity period: the operator decides. */
static void
tls_check_validity(SSL_CTX *ssl_ctx, const char *cert_path)
{
	X509	*x = SSL_CTX_get0_certificate(ssl_ctx);
	char	 when[64];

	if (x == NULL)
		return;
	if (X509_cmp_current_time(X509_get0_notAfter(x)) < 0)
		log_warnx("%s: the certificate expired on %s", cert_path,
		    asn1_time_format(X509_get0_notAfter(x), when,
		    sizeof(when)));
	else if (X509_cmp_current_time(X509_get0_notBefore(x)) > 0)
		log_warnx("%s: the certificate is not valid before %s",
		    cert_path, asn1_time_format(X509_get0_notBefore(x), when,
		    sizeof(when)));
}

struct tls_ctx *
tls_ctx_new(const char *cert_path, const char *key_path, char *why,
    size_t whysize)
{
	static const unsigned char	 sid_ctx[] = "switchyard";
	struct tls_ctx			*ctx;
	SSL_CTX				*c;

	ERR_clear_error();
	errno = 0;
	if ((c = SSL_CTX_new(TLS_server_method())) == NULL) {
		(void)snprintf(why, whysize, "cannot make a TLS context: %s",
		    ssl_reason());
		return NULL;
	}
	(void)SSL_CTX_set_min_proto_version(c, TLS1_2_VERSION);
	/*
	 * A FIN without close_notify is an ordinary end of input here: HTTP
	 * frames its own messages, and clients (ab, curl on errors) do it.
	 */
	(void)SSL_CTX_set_options(c, SSL_OP_NO_RENEGOTIATION |
	    SSL_OP_IGNORE_UNEXPECTED_EOF | SSL_OP_CIPHER_SERVER_PREFERENCE);
	/*
	 * Partial writes: one record per SSL_write is enough for us, and
	 * the retry after a WANT_WRITE may come from a buffer that moved
	 * (an evbuffer pulled up again). SSL_MODE_RELEASE_BUFFERS is left
	 * off: it frees and reallocates the 16 KiB buffers around every
	 * record on a busy keep-alive connection.
	 */
	(void)SSL_CTX_set_mode(c, SSL_MODE_ENABLE_PARTIAL_WRITE |
	    SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	/*
	 * Read ahead, as nginx does: one recv(2) takes what the socket has
	 * (a request's records, a handshake flight) instead of a header and
	 * a body per record. The caller then asks tls_pending(): bytes may
	 * wait in OpenSSL that the socket will not announce again.
	 */
	SSL_CTX_set_read_ahead(c, 1);
	(void)SSL_CTX_set_session_cache_mode(c, SSL_SESS_CACHE_OFF);
	(void)SSL_CTX_set_session_id_context(c, sid_ctx, sizeof(sid_ctx) - 1);
	SSL_CTX_set_alpn_select_cb(c, tls_alpn_cb, NULL);
	SSL_CTX_set_default_passwd_cb(c, tls_passwd_cb);

	ERR_clear_error();
	errno = 0;
	if (SSL_CTX_use_certificate_chain_file(c, cert_path) != 1) {
		(void)snprintf(why, whysize, "%s: %s", cert_path, ssl_reason());
		SSL_CTX_free(c);
		return NULL;
	}
	ERR_clear_error();
	errno = 0;
	if (SSL_CTX_use_PrivateKey_file(c, key_path, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(c) != 1) {
		(void)snprintf(why, whysize, "%s: %s", key_path, ssl_reason());
		SSL_CTX_free(c);
		return NULL;
	}
	ERR_clear_error();
	tls_check_validity(c, cert_path);
	ctx = xcalloc(1, sizeof(*ctx));
	ctx->ssl_ctx = c;
	return ctx;
}

void
tls_ctx_free(struct tls_ctx *ctx)
{
	if (ctx == NULL)
		return;
	SSL_CTX_free(ctx->ssl_ctx);
	free(ctx);
}

struct tls *
tls_new(struct tls_ctx *ctx, int fd)
{
	struct tls	*t;

	t = xcalloc(1, sizeof(*t));
	if ((t->ssl = SSL_new(ctx->ssl_ctx)) == NULL ||
	    SSL_set_fd(t->ssl, fd) != 1) {
		SSL_free(t->ssl);
		free(t);
		ERR_clear_error();
		return NULL;
	}
	SSL_set_accept_state(t->ssl);
	return t;
}

void
tls_free(struct tls *t)
{
	if (t == NULL)
		return;
	SSL_free(t->ssl);
	free(t);
}

/* The outcome of an SSL call that returned rc <= 0. */
static enum tls_status
tls_status(struct tls *t, int rc)
{
	switch (SSL_get_error(t->ssl, rc)) {
	case SSL_ERROR_WANT_READ:
		return TLS_WANT_READ;
	case SSL_ERROR_WANT_WRITE:
		return TLS_WANT_WRITE;
	case SSL_ERROR_ZERO_RETURN:
		return TLS_EOF;
	case SSL_ERROR_SYSCALL:
		t->fatal = 1;
		if (ERR_peek_error() == 0 && errno == 0)
			return TLS_EOF;		/* a bare FIN */
		(void)snprintf(t->error, sizeof(t->error), "%s",
		    ERR_peek_error() != 0 ? ssl_reason() : strerror(errno));
		break;
	default:
		t->fatal = 1;
		(void)snprintf(t->error, sizeof(t->error), "%s", ssl_reason());
		break;
	}
	ERR_clear_error();
	return TLS_ERROR;
}

enum tls_status
tls_handshake(struct tls *t, enum stats_tls_fail *reason)
{
	enum tls_status	 st;
	unsigned long	 e;
	int		 rc;

	ERR_clear_error();
	errno = 0;
	if ((rc = SSL_do_handshake(t->ssl)) == 1)
		return TLS_OK;
	e = ERR_peek_error();
	st = tls_status(t, rc);
	if (st == TLS_EOF) {
		/* The client left before a session was up: nothing to say. */
		t->fatal = 1;
		(void)snprintf(t->error, sizeof(t->error), "closed by the "
		    "client during the handshake");
		*reason = STATS_TLS_CLOSED;
		return TLS_ERROR;
	}
	if (st != TLS_ERROR)
		return st;
	if (ERR_GET_LIB(e) == ERR_LIB_SSL &&
	    (ERR_GET_REASON(e) == SSL_R_HTTP_REQUEST ||
	    ERR_GET_REASON(e) == SSL_R_HTTPS_PROXY_REQUEST))
		*reason = STATS_TLS_HTTP;
	else if (e == 0)
		*reason = STATS_TLS_CLOSED;	/* a reset */
	else
		*reason = STATS_TLS_PROTOCOL;
	return TLS_ERROR;
}

int
tls_resumed(const struct tls *t)
{
	return SSL_session_reused(t->ssl) == 1;
}

/* An SSL_read() or SSL_write() that returned rc: *n bytes, or why not. */
static enum tls_status
tls_io_done(struct tls *t, int rc, size_t *n)
{
	if (rc > 0) {
		*n = (size_t)rc;
		return TLS_OK;
	}
	return tls_status(t, rc);
}

enum tls_status
tls_read(struct tls *t, void *buf, size_t len, size_t *n)
{
	ERR_clear_error();
	errno = 0;
	return tls_io_done(t, SSL_read(t->ssl, buf, len > INT_MAX ? INT_MAX :
	    (int)len), n);
}

int
tls_pending(const struct tls *t)
{
	return SSL_has_pending(t->ssl) == 1;
}

enum tls_status
tls_write(struct tls *t, const void *buf, size_t len, size_t *n)
{
	ERR_clear_error();
	errno = 0;
	return tls_io_done(t, SSL_write(t->ssl, buf, len > INT_MAX ? INT_MAX :
	    (int)len), n);
}

void
tls_shutdown(struct tls *t)
{
	if (t->fatal || !SSL_is_init_finished(t->ssl))
		return;
	ERR_clear_error();
	/* Queued or not, what the socket takes now is all it gets. */
	(void)SSL_shutdown(t->ssl);
	ERR_clear_error();
	t->fatal = 1;
}

const char *
tls_error(const struct tls *t)
{
	return t->error[0] != '\0' ? t->error : "TLS error";
}
