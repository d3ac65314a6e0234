/*
 * http.c - the HTTP/1.x wire format on top of http-parser.
 *
 * http-parser hands over the request target and each header name and
 * value in pieces, as bytes arrive. The pieces are copied, in order, into
 * one buffer of limits.header_bytes allocated per connection: that copy is
 * what enforces the header limits (431, 414) without a second pass, and
 * the NUL-terminated strings it leaves behind are what handlers read.
 *
 * Framing hygiene (request smuggling): Content-Length together with
 * Transfer-Encoding, a repeated Content-Length (both refused by
 * http-parser), a repeated Host and a missing Host on HTTP/1.1 are 400;
 * a transfer coding other than chunked is 501. Any of these ends the
 * connection after the answer, because the next request's first byte can
 * no longer be found.
 */
#include "autoconfig.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/buffer.h>

#include "http.h"
#include "xmalloc.h"

/* What the parser is currently handing over, for the piece-copying. */
enum {
	PIECE_NONE,		/* before the target */
	PIECE_URL,
	PIECE_FIELD,
	PIECE_VALUE,
	PIECE_BODY		/* past the headers: trailers are ignored */
};

#define BODY_INITIAL		16384	/* first body buffer */

static struct http_req *
req_of(http_parser *p)
{
	return p->data;
}

/* Stop parsing with status; the callback's non-zero return does the rest. */
static int
fail(struct http_req *req, int status, const char *reason)
{
	req->status = status;
	req->reason = reason;
	return -1;
}

/* Append a piece of target or header text, NUL excluded. */
static int
append(struct http_req *req, const char *at, size_t len)
{
	/*
	 * The limit counts what the client sent; the NULs after each piece
	 * have room of their own in hbuf (see http_req_init).
	 */
	if (req->text_len + len > req->limits->header_bytes ||
	    req->hbuf_len + len + 1 > req->hbuf_cap)
		return -1;
	req->text_len += len;
	memcpy(req->hbuf + req->hbuf_len, at, len);
	req->hbuf_len += len;
	return 0;
}

/* NUL-terminate the current piece; returns its start. */
static char *
piece_end(struct http_req *req, size_t *len)
{
	char	*start = req->hbuf + req->piece_off;

	*len = req->hbuf_len - req->piece_off;
	req->hbuf[req->hbuf_len++] = '\0';
	req->piece_off = req->hbuf_len;
	return start;
}

static void
target_finish(struct http_req *req)
{
	char	*q, *path;

	req->target = piece_end(req, &req->target_len);
	req->path = req->target;
	req->path_len = req->target_len;
	if ((q = memchr(req->target, '?', req->target_len)) == NULL)
		return;
	req->path_len = (size_t)(q - req->target);
	req->query = q + 1;
	/*
	 * Handlers get the path as a string of its own, and the target
	 * stays whole for the log: a copy, in room http_req_init() kept
	 * for it outside the header_bytes count.
	 */
	path = req->hbuf + req->hbuf_len;
	memcpy(path, req->target, req->path_len);
	path[req->path_len] = '\0';
	req->hbuf_len += req->path_len + 1;
	req->piece_off = req->hbuf_len;
	req->path = path;
}

/* Does the comma-separated list name a coding other than "chunked"? */
static int
te_has_unknown(const char *v)
{
	const char	*end;
	size_t		 len;

	for (;;) {
		while (*v == ' ' || *v == '\t' || *v == ',')
			v++;
		if (*v == '\0')
			return 0;
		for (end = v; *end != '\0' && *end != ','; end++)
			;
		len = (size_t)(end - v);
		while (len > 0 && (v[len - 1] == ' ' || v[len - 1] == '\t'))
			len--;
		/* "chunked;foo=bar" has parameters chunked never takes. */
		if (len != 7 || strncasecmp(v, "chunked", 7) != 0)
			return 1;
		v = end;
	}
}

/* The value of the header being copied is complete. */
static int
header_finish(struct http_req *req)
{
	struct http_header	*h = &req->headers[req->nheaders - 1];
	char			*v;
	size_t			 len;

	v = piece_end(req, &len);
	while (len > 0 && (v[len - 1] == ' ' || v[len - 1] == '\t'))
		v[--len] = '\0';
	h->value = v;
	h->value_len = len;

	if (h->name_len == 4 && strcasecmp(h->name, "host") == 0) {
		if (req->seen_host)
			return fail(req, 400, "repeated Host header");
		req->seen_host = 1;
	} else if (h->name_len == 17 &&
	    strcasecmp(h->name, "transfer-encoding") == 0) {
		if (te_has_unknown(v))
			req->te_unknown = 1;
	}
	return 0;
}

static int
on_message_begin(http_parser *p)
{
	req_of(p)->state = HTTP_HEADERS;
	return 0;
}

static int
on_url(http_parser *p, const char *at, size_t len)
{
	struct http_req	*req = req_of(p);

	req->piece = PIECE_URL;
	if (req->hbuf_len + len > req->limits->uri_bytes ||
	    append(req, at, len) == -1)
		return fail(req, 414, "request target too long");
	return 0;
}

static int
on_header_field(http_parser *p, const char *at, size_t len)
{
	struct http_req		*req = req_of(p);
	struct http_header	*h;

	switch (req->piece) {
	case PIECE_BODY:
		return 0;		/* a chunked trailer: not kept */
	case PIECE_URL:
		target_finish(req);
		break;
	case PIECE_VALUE:
		if (header_finish(req) == -1)
			return -1;
		break;
	}
	if (req->piece != PIECE_FIELD) {
		if (req->nheaders == req->limits->headers)
			return fail(req, 431, "too many header fields");
		h = &req->headers[req->nheaders++];
		h->name = NULL;
		h->value = NULL;
		req->piece = PIECE_FIELD;
	}
	if (append(req, at, len) == -1)
		return fail(req, 431, "header section too large");
	return 0;
}

static int
on_header_value(http_parser *p, const char *at, size_t len)
{
	struct http_req		*req = req_of(p);
	struct http_header	*h;
	unsigned char		 c;
	size_t			 i;

	if (req->piece == PIECE_BODY)
		return 0;
	/*
	 * http-parser checks every byte of a value but the first: a NUL
	 * there would cut the value short for us and not for a proxy in
	 * front (RFC 9110, 5.5: reject). CR and LF never reach a piece.
	 */
	for (i = 0; i < len; i++) {
		c = (unsigned char)at[i];
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return fail(req, 400, "control character in a header "
			    "value");
	}
	if (req->piece == PIECE_FIELD) {
		h = &req->headers[req->nheaders - 1];
		h->name = piece_end(req, &h->name_len);
		req->piece = PIECE_VALUE;
	}
	if (append(req, at, len) == -1)
		return fail(req, 431, "header section too large");
	return 0;
}

static int
on_headers_complete(http_parser *p)
{
	struct http_req	*req = req_of(p);
	const char	*expect;
	int		 status;

	if (req->piece == PIECE_URL)
		target_finish(req);
	else if (req->piece == PIECE_VALUE && header_finish(req) == -1)
		return -1;
	req->piece = PIECE_BODY;
	req->method = http_method_str((enum http_method)p->method);
	req->major = p->http_major;
	req->minor = p->http_minor;
	req->head = p->method == HTTP_HEAD;
	req->keepalive = http_should_keep_alive(p) != 0;
	req->has_body = (p->flags & F_CHUNKED) != 0 ||
	    (p->content_length > 0 && p->content_length != ULLONG_MAX);

	if (p->http_major != 1)
		return fail(req, 505, "HTTP version not supported");
	/* http-parser hands CONNECT's bytes over as a tunnel: not ours. */
	if (p->method == HTTP_CONNECT)
		return fail(req, 501, "CONNECT not implemented");
	if (req->te_unknown)
		return fail(req, 501, "transfer coding not implemented");
	if (!req->seen_host && p->http_minor >= 1)
		return fail(req, 400, "missing Host header");
	if (p->content_length != ULLONG_MAX && !(p->flags & F_CHUNKED) &&
	    p->content_length > req->limits->body_bytes)
		return fail(req, 413, "request body too large");
	if ((expect = http_req_header(req, "expect")) != NULL) {
		if (strcasecmp(expect, "100-continue") != 0)
			return fail(req, 417, "unknown expectation");
		/* HTTP/1.0 clients do not know 100 (RFC 9110, 10.1.1). */
		req->expect_continue = p->http_minor >= 1 && req->has_body;
	}
	if (req->headers_cb != NULL &&
	    (status = req->headers_cb(req, req->cb_arg)) != 0) {
		req->status = status;
		/* The body stays unread, so the stream is lost after it. */
		if (req->has_body)
			return fail(req, status, "refused before the body");
		return 0;
	}
	if (req->has_body) {
		/*
		 * Memory follows the bytes that arrive, not what the client
		 * announces: a Content-Length near body_bytes on many idle
		 * connections must not reserve it all up front.
		 */
		req->body_want = (p->flags & F_CHUNKED) ?
		    req->limits->body_bytes : (size_t)p->content_length;
		req->state = HTTP_BODY;
	}
	return 0;
}

/*
 * A chunk's data must be followed by CRLF. Debian's http-parser is built
 * lenient and takes any two bytes there ("3\r\nabcXX0\r\n"), which a
 * proxy in front of us may read differently: request smuggling. Check the
 * bytes after the data, here or, past the end of this feed, at the start
 * of the next one.
 */
static int
chunk_crlf_check(struct http_req *req, const char *after)
{
	static const char	 crlf[] = "\r\n";
	unsigned		 i;

	for (i = 0; i < 2; i++) {
		if (after + i >= req->feed_end) {
			req->crlf_next = (unsigned char)(2 - i);
			return 0;
		}
		if (after[i] != crlf[i])
			return fail(req, 400, "chunk data not followed by CRLF");
	}
	req->crlf_next = 0;
	return 0;
}

static int
on_body(http_parser *p, const char *at, size_t len)
{
	struct http_req	*req = req_of(p);
	size_t		 cap;

	if (req->body_len + len > req->limits->body_bytes)
		return fail(req, 413, "request body too large");
	if (req->body_len + len > req->body_cap) {
		/* Grow by doubling, never past the announced length or limit. */
		cap = req->body_cap ? req->body_cap : BODY_INITIAL;
		while (cap < req->body_len + len)
			cap *= 2;
		if (cap > req->body_want)
			cap = req->body_want;
		req->body = xreallocarray(req->body, cap, 1);
		req->body_cap = cap;
	}
	memcpy(req->body + req->body_len, at, len);
	req->body_len += len;
	if ((p->flags & F_CHUNKED) && p->content_length == 0)
		return chunk_crlf_check(req, at + len);
	return 0;
}

static int
on_message_complete(http_parser *p)
{
	struct http_req	*req = req_of(p);

	req->state = HTTP_COMPLETE;
	/* Pipelined bytes wait until this request has been answered. */
	http_parser_pause(p, 1);
	return 0;
}

static const http_parser_settings settings = {
	.on_message_begin = on_message_begin,
	.on_url = on_url,
	.on_header_field = on_header_field,
	.on_header_value = on_header_value,
	.on_headers_complete = on_headers_complete,
	.on_body = on_body,
	.on_message_complete = on_message_complete,
};

void
http_req_init(struct http_req *req, const struct config_limits *limits,
    http_headers_cb headers_cb, void *cb_arg)
{
	memset(req, 0, sizeof(*req));
	req->limits = limits;
	req->headers_cb = headers_cb;
	req->cb_arg = cb_arg;
	/*
	 * header_bytes of text, a NUL for the target and each piece, and a
	 * NUL-terminated copy of the path (at most uri_bytes).
	 */
	req->hbuf_cap = limits->header_bytes + 2 * (size_t)limits->headers + 1 +
	    limits->uri_bytes + 1;
	req->hbuf = xmalloc(req->hbuf_cap);
	req->headers = xcalloc(limits->headers, sizeof(*req->headers));
	http_parser_init(&req->parser, HTTP_REQUEST);
	req->parser.data = req;
}

void
http_req_cleanup(struct http_req *req)
{
	free(req->hbuf);
	free(req->headers);
	free(req->body);
	req->hbuf = NULL;
	req->headers = NULL;
	req->body = NULL;
}

void
http_req_reset(struct http_req *req)
{
	/* A large body is not kept around for the life of the connection. */
	if (req->body_cap > BODY_INITIAL) {
		free(req->body);
		req->body = NULL;
		req->body_cap = 0;
	}
	req->state = HTTP_IDLE;
	req->status = 0;
	req->reason = NULL;
	req->method = NULL;
	req->target = NULL;
	req->target_len = 0;
	req->path = NULL;
	req->path_len = 0;
	req->query = NULL;
	req->major = 0;
	req->minor = 0;
	req->nheaders = 0;
	req->body_len = 0;
	req->keepalive = 0;
	req->head = 0;
	req->expect_continue = 0;
	req->has_body = 0;
	req->hbuf_len = 0;
	req->text_len = 0;
	req->piece_off = 0;
	req->piece = PIECE_NONE;
	req->seen_host = 0;
	req->te_unknown = 0;
	req->crlf_next = 0;
	/* http_parser_init would also clear a pause: one call for both. */
	http_parser_init(&req->parser, HTTP_REQUEST);
	req->parser.data = req;
}

/* The status for a parser error that no callback explained. */
static int
error_status(struct http_req *req, enum http_errno err)
{
	switch (err) {
	case HPE_HEADER_OVERFLOW:
		req->reason = "header section too large";
		return 431;
	case HPE_INVALID_TRANSFER_ENCODING:
		req->reason = "chunked is not the final transfer coding";
		return 400;
	case HPE_UNEXPECTED_CONTENT_LENGTH:
		req->reason = "conflicting Content-Length or Transfer-Encoding";
		return 400;
	default:
		req->reason = http_errno_description(err);
		return 400;
	}
}

size_t
http_req_feed(struct http_req *req, const char *data, size_t len)
{
	size_t		 n, i;
	enum http_errno	 err;

	/*
	 * The rest of a chunk's CRLF that the previous feed did not hold:
	 * checked here, consumed by the parser below.
	 */
	for (i = 0; req->crlf_next > 0 && i < len; i++, req->crlf_next--)
		if (data[i] != "\r\n"[2 - req->crlf_next]) {
			req->state = HTTP_ERROR;
			req->status = 400;
			req->reason = "chunk data not followed by CRLF";
			return 0;
		}
	req->feed_end = data + len;
	n = http_parser_execute(&req->parser, &settings, data, len);
	err = HTTP_PARSER_ERRNO(&req->parser);
	if (err == HPE_OK || (err == HPE_PAUSED && req->state == HTTP_COMPLETE))
		return n;
	req->state = HTTP_ERROR;
	/* A callback that failed has already chosen status and reason. */
	if (err < HPE_CB_message_begin || err > HPE_CB_chunk_complete ||
	    req->status == 0)
		req->status = error_status(req, err);
	return n;
}

const char *
http_req_header(const struct http_req *req, const char *name)
{
	unsigned	 i;

	for (i = 0; i < req->nheaders; i++)
		if (req->headers[i].name != NULL &&
		    strcasecmp(req->headers[i].name, name) == 0)
			return req->headers[i].value;
	return NULL;
}

const char *
http_status_reason(int status)
{
	switch (status) {
#define XX(num, name, string) case num: return #string;
	HTTP_STATUS_MAP(XX)
#undef XX
	default:
		return "Unknown";
	}
}

static char *
put(char *p, const char *s, size_t len)
{
	memcpy(p, s, len);
	return p + len;
}

#define PUT_LIT(p, lit)	put((p), (lit), sizeof(lit) - 1)

/* Decimal v at p: the head is built on every response, without printf. */
static char *
put_uint(char *p, size_t v)
{
	char	 tmp[24];
	size_t	 n = sizeof(tmp);

	do {
		tmp[--n] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	return put(p, tmp + n, sizeof(tmp) - n);
}

int
http_resp_head_write(struct evbuffer *out, const struct http_resp_head *h)
{
	struct evbuffer_iovec	 v;
	const char		*reason = http_status_reason(h->status);
	size_t			 reason_len = strlen(reason);
	size_t			 ctype_len = h->content_type ?
				    strlen(h->content_type) : 0;
	size_t			 max;
	char			*p;

	/* Fixed text + reason + type + extra + two numbers, generously. */
	max = 256 + reason_len + ctype_len + h->extra_len;
	if (evbuffer_reserve_space(out, (ev_ssize_t)max, &v, 1) < 1)
		return -1;
	p = v.iov_base;
	p = PUT_LIT(p, "HTTP/1.1 ");
	p = put_uint(p, h->status > 0 ? (size_t)h->status : 0);
	*p++ = ' ';
	p = put(p, reason, reason_len);
	p = PUT_LIT(p, "\r\nServer: " PACKAGE_NAME "/" PACKAGE_VERSION
	    "\r\nDate: ");
	p = put(p, h->date, strlen(h->date));
	if (h->content_type != NULL) {
		p = PUT_LIT(p, "\r\nContent-Type: ");
		p = put(p, h->content_type, ctype_len);
	}
	/* 1xx, 204 and 304 have no body and no length (RFC 9110, 8.6). */
	if (h->status >= 200 && h->status != 204 && h->status != 304) {
		p = PUT_LIT(p, "\r\nContent-Length: ");
		p = put_uint(p, h->body_len);
	}
	if (!h->keepalive)
		p = PUT_LIT(p, "\r\nConnection: close");
	else if (h->http10)
		p = PUT_LIT(p, "\r\nConnection: keep-alive");
	p = PUT_LIT(p, "\r\n");
	if (h->extra_len > 0)
		p = put(p, h->extra, h->extra_len);
	p = PUT_LIT(p, "\r\n");
	v.iov_len = (size_t)(p - (char *)v.iov_base);
	return evbuffer_commit_space(out, &v, 1);
}
