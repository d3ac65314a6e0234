/*
 * http.h - the HTTP/1.x wire format: requests in, response heads out.
 *
 * http-parser tokenises the request line and reads Content-Length and
 * Transfer-Encoding; everything else is this module's own: a scan
 * validates every byte of the head (RFC 9112 framing) before http-parser
 * sees any, builds the header table, enforces the configured limits and
 * reads the body, and every failure maps to the status code to answer.
 * It never touches a socket: the connection feeds it bytes and reads its
 * state, so tests can feed it byte streams split anywhere.
 *
 * States of one request:
 *
 *   IDLE --first byte--> HEADERS --headers done--> BODY --> COMPLETE
 *                          |                        |
 *                          +-------> ERROR <--------+
 *
 * COMPLETE consumes nothing more: pipelined bytes after the request stay
 * with the caller until http_req_reset() starts the next request. ERROR
 * means the stream can no longer be trusted: answer req->status and close.
 */
#ifndef HTTP_H
#define HTTP_H

#include <stddef.h>

#include <http_parser.h>

#include "config.h"

struct evbuffer;

enum http_state {
	HTTP_IDLE,		/* no byte of this request yet */
	HTTP_HEADERS,		/* request line and headers arriving */
	HTTP_BODY,		/* body arriving */
	HTTP_COMPLETE,		/* a whole request; the parser is paused */
	HTTP_ERROR		/* answer status, then close */
};

struct http_header {
	const char	*name;		/* NUL-terminated, as sent */
	const char	*value;		/* NUL-terminated, trimmed */
	size_t		 name_len;
	size_t		 value_len;
};

struct http_req;

/*
 * Called once the headers are in, before any body byte is read: the
 * caller routes the request and returns 0 to go on, or a status (404,
 * 405...) to answer instead. A request answered this way that has a body
 * ends in HTTP_ERROR (its body is never read, so the connection must
 * close); one without a body ends in HTTP_COMPLETE with req->status set.
 */
typedef int	(*http_headers_cb)(struct http_req *req, void *arg);

struct http_req {
	http_parser			 parser;
	const struct config_limits	*limits;
	http_headers_cb			 headers_cb;
	void				*cb_arg;
	char				*body_buf;	/* body's buffer, kept
							   for the next request
							   when small */
	size_t				 body_cap;

	/*
	 * From here on, everything is one request's: http_req_reset()
	 * zeroes it all at once.
	 */
	enum http_state	 state;
	int		 status;	/* set in ERROR, or by headers_cb */
	const char	*reason;	/* why ERROR, for the log */

	/* Request line; pointers into hbuf, valid until http_req_reset(). */
	const char	*method;	/* "GET" */
	char		*target;	/* "/path?query", NUL-terminated */
	size_t		 target_len;
	const char	*path;		/* the target's path, NUL-ended: no
					   query, no scheme and authority
					   ("/" when absolute-form has no
					   path) */
	size_t		 path_len;
	const char	*query;		/* after '?', or NULL */
	unsigned short	 major;
	unsigned short	 minor;

	struct http_header *headers;	/* nheaders used, limits->headers max */
	unsigned	 nheaders;

	char		*body;		/* de-chunked, body_len bytes; NULL
					   before the first */
	size_t		 body_len;
	size_t		 body_want;	/* Content-Length, or the limit */

	unsigned	 keepalive:1;	/* the client allows another request:
					   from the version and Connection,
					   never with Transfer-Encoding on
					   HTTP/1.0 */
	unsigned	 head:1;	/* HEAD: answer without a body */
	unsigned	 expect_continue:1;	/* wants "100 Continue" */
	unsigned	 has_body:1;	/* Content-Length > 0 or chunked */
	const char	*request_id;	/* the first X-Request-Id's value, as
					   sent (reqid_copy() checks it), or
					   NULL */

	/* Parse state, private to http.c. */
	char		*hbuf;		/* target and header text */
	size_t		 hbuf_len;
	size_t		 hbuf_cap;
	size_t		 text_len;	/* client bytes in hbuf (no NULs),
					   and the OWS before values */
	size_t		 piece_off;	/* start of the piece being copied */
	size_t		 fr_left;	/* body or chunk bytes still to come */
	unsigned char	 fr_state;	/* where the framing scan is */
	unsigned char	 fr_count;	/* method bytes, or version bytes */
	unsigned	 line_done:1;	/* http-parser has the request line */
	unsigned	 framing_field:1; /* it has had CL or TE, too */
	unsigned	 method_done:1;	/* the method token has ended */
	unsigned	 method_unknown:1;	/* http-parser refused it */
	unsigned	 chunked:1;	/* the body is chunked */
	unsigned	 trailers:1;	/* the scan is in the trailer section */
	unsigned	 seen_host:1;
	unsigned	 seen_expect:1;	/* look it up: most have none */
	unsigned	 te_seen:1;	/* a Transfer-Encoding header */
	unsigned	 te_chunked:1;	/* chunked among the codings */
	unsigned	 te_twice:1;	/* chunked more than once */
	unsigned	 te_unknown:1;	/* a coding other than chunked */
	unsigned	 te_last_chunked:1;	/* chunked is the last one */
	unsigned	 conn_close:1;	/* Connection: close */
	unsigned	 conn_keepalive:1;	/* Connection: keep-alive */
};

/*
 * Prepare req for a connection, with limits (which must outlive req).
 * Allocates nothing: a request's buffers, sized from limits, are taken
 * at its first byte. headers_cb may be NULL.
 */
void	http_req_init(struct http_req *req, const struct config_limits *limits,
	    http_headers_cb headers_cb, void *cb_arg);

/* Free req's buffers. */
void	http_req_cleanup(struct http_req *req);

/*
 * Forget the current request and get ready for the next one. Its
 * buffers go back (strings of the request die with them), so an idle
 * connection holds none.
 */
void	http_req_reset(struct http_req *req);

/*
 * Parse up to len bytes of data. Returns how many were consumed; the rest
 * belongs to the next request (after COMPLETE) or is garbage (after
 * ERROR). Read req->state afterwards. Must not be called in COMPLETE or
 * ERROR.
 */
size_t	http_req_feed(struct http_req *req, const char *data, size_t len);

/* The value of the first header called name (any case), or NULL. */
const char *http_req_header(const struct http_req *req, const char *name);

/*
 * Whether the len bytes at s may make a field value: VCHAR, obs-text, SP
 * and HTAB, no control byte that would break the framing. Eight bytes
 * at a time.
 */
int	http_value_ok(const char *s, size_t len);

/* The reason phrase for status ("Not Found"), "Unknown" if none. */
const char *http_status_reason(int status);

/* What goes into a response head besides the status line. */
struct http_resp_head {
	int		 status;
	const char	*content_type;	/* NULL: no Content-Type */
	const char	*extra;		/* "Name: value\r\n"..., or NULL */
	size_t		 extra_len;
	size_t		 body_len;	/* Content-Length */
	const char	*date;		/* from date_format() */
	const char	*request_id;	/* X-Request-Id, or NULL; visible
					   ASCII (reqid.h) */
	unsigned	 keepalive:1;	/* 0: Connection: close */
	unsigned	 http10:1;	/* say "Connection: keep-alive" */
};

/*
 * Append the status line and headers (Date, Server, Content-Type,
 * Content-Length, Connection, X-Request-Id, extra) and the blank line to
 * out, in one
 * evbuffer_add. Content-Length is left out for 1xx, 204 and 304, which
 * never have a body. Returns 0, or -1 when out of memory.
 */
int	http_resp_head_write(struct evbuffer *out,
	    const struct http_resp_head *head);

/*
 * The same head, formatted into the size bytes at buf (no NUL): its
 * length, or 0 when size is less than the most it could take (then
 * http_resp_head_write() it).
 */
size_t	http_resp_head_format(char *buf, size_t size,
	    const struct http_resp_head *head);

#endif /* HTTP_H */
