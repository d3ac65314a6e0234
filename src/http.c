/*
 * http.c - the HTTP/1.x wire format, with http-parser for the request line.
 *
 * Every byte of a request's head goes through frame_scan(), a state
 * machine over the lines of the message (request line, field lines,
 * chunk-size lines, trailers) that checks them against RFC 9112, finds
 * where each line, the head and the message end, and copies each field's
 * name and value into the request's header table as it passes them.
 * http-parser then gets, in order:
 *
 *   the request line	as sent: it tokenises the method, the target and
 *			the version;
 *   the framing fields	Content-Length and Transfer-Encoding, each given
 *			again from the table as "name:value" CRLF (the name
 *			as sent, the value trimmed): it reads the length's
 *			digits and refuses a repeated or a conflicting one;
 *   the blank line	that ends its head: on_headers_complete().
 *
 * The other fields are none of its business: it would only tokenise a
 * byte at a time what the scan already has, and that was most of a
 * request's cost (3,400 of 8,700 instructions for ab's 112-byte head). A
 * streaming parser cannot tell that what it is given is not contiguous
 * on the wire.
 *
 * Debian builds http-parser lenient: a CR ends a line whatever follows,
 * SP counts as a field-name byte, "HXYZ/1.1" is a version, a chunk-size
 * line may carry anything. Each leniency is a place where a proxy in
 * front may split the stream into requests differently than we do:
 * request smuggling. So the scan runs first, http-parser only ever sees
 * bytes that passed it, and where a line, a field, the head or a message
 * ends is the scan's to say, never http-parser's. The scan is a loop per
 * state over a byte class table, values and targets eight bytes at a
 * time, not work per byte per callback: the request path runs hundreds of
 * thousands of times a second.
 *
 * The body is not http-parser's either: on_headers_complete() tells it to
 * skip the body, and http.c reads it with the same scan (chunk sizes,
 * chunk extensions, the CRLF after the data, trailers), so that one piece
 * of code decides where a message ends. Transfer-Encoding and Connection
 * are read here too, from trimmed list elements (RFC 9110, 5.6.1), never
 * from http-parser's flags, which "chunked\t" and "close\t" fool.
 *
 * Errors come in byte order, however the stream was cut into reads: the
 * scan stops at the first bad byte, and stops to hand http-parser the
 * request line at its end and each framing field at its CR, so a failure
 * there (414, a bad length) is the earlier one and wins. An empty length
 * is refused at its CR, not at the next byte http-parser is given, and a
 * length that header_bytes cuts is handed over as far as it went before
 * the 431 is answered. What is judged from the whole head (the version,
 * Transfer-Encoding, Content-Length with it, Host) comes at its end.
 *
 * The target (from http-parser's on_url) and the fields' names and
 * values (from the scan) are copied, in order, into one buffer of
 * limits.header_bytes taken for each request: that copy (and the OWS
 * before each value, counted but not copied) is what enforces the header
 * limits (431, 414) without a second pass, and the NUL-terminated
 * strings it leaves behind are what handlers read.
 *
 * Framing errors are 400 unless said otherwise, and all of them end the
 * connection after the answer, because the next request's first byte can
 * no longer be found: a bad request line, method token, target or version
 * (exactly "HTTP/" DIGIT "." DIGIT); a CR without LF or a bare LF as a
 * line end; whitespace or any non-token byte in a field name; a field
 * line starting with whitespace (obs-fold); a control byte in a value;
 * Content-Length with Transfer-Encoding, twice, or not a number (refused
 * by http-parser); chunked twice, or not last; a chunk-size line outside
 * the chunk-ext grammar; chunk data not followed by CRLF; a repeated
 * Host, or none on HTTP/1.1. A valid method token http-parser does not
 * know, CONNECT, and a transfer coding other than chunked are 501.
 */
#include "autoconfig.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/buffer.h>

#include "http.h"
#include "xmalloc.h"

/* Where frame_scan() is in the message (req->fr_state). */
enum {
	FR_START,		/* before the request line: CRLFs skipped */
	FR_START_LF,		/* CR of such an empty line seen */
	FR_METHOD,
	FR_TARGET0,		/* the target's first byte */
	FR_TARGET,
	FR_VERSION,		/* fr_count bytes of "HTTP/D.D" matched */
	FR_RL_CR,		/* the CR ending the request line */
	FR_RL_LF,		/* that CR seen: LF must follow */
	FR_LF,			/* a field line's CR seen: LF must follow */
	FR_FIELD,		/* a field line or the blank line starts */
	FR_NAME,
	FR_OWS,			/* after the colon: OWS, then the value */
	FR_VALUE,
	FR_BLANK_LF,		/* CR of the blank line seen */
	FR_HEAD_DONE,		/* the parser has the head; body next */
	FR_DATA,		/* fr_left body bytes */
	FR_SIZE0,		/* a chunk-size line starts */
	FR_SIZE,
	FR_EXT_BWS,		/* BWS before ";" */
	FR_EXT_SEMI,		/* after ";": BWS, then a name */
	FR_EXT_NAME,
	FR_EXT_NAME_BWS,	/* BWS after a name: "=" or ";" next */
	FR_EXT_EQ,		/* after "=": BWS, then a value */
	FR_EXT_TOKEN,
	FR_EXT_QUOTED,
	FR_EXT_QPAIR,		/* after a backslash in a quoted value */
	FR_EXT_AFTER,		/* after a quoted value's closing quote */
	FR_SIZE_LF,		/* CR of a chunk-size line seen */
	FR_DATA_CR,		/* chunk data read: CRLF must follow */
	FR_DATA_LF
};

/* Why frame_scan() returned. */
enum {
	SCAN_MORE,		/* every byte passed; more to come */
	SCAN_ERROR,		/* at a bad byte; status and reason set */
	SCAN_LINE,		/* just past the request line */
	SCAN_FIELD,		/* past the CR of a framing field line */
	SCAN_HEAD,		/* just past the blank line ending the head */
	SCAN_DATA,		/* at body data (fr_left bytes) */
	SCAN_DONE		/* just past the end of the message */
};

#define BODY_INITIAL		16384	/* first body buffer */
#define METHOD_MAX		32	/* no method we implement is longer */

/*
 * Byte classes (RFC 9110, 5.6.2 token, 5.5 field values, 5.6.4 qdtext;
 * RFC 9112, 3.2 request-target). obs-text (0x80-0xff) is allowed where
 * the grammar allows it.
 */
#define C_TCHAR		0x01	/* token byte */
#define C_VCHAR		0x02	/* VCHAR or obs-text */
#define C_WS		0x04	/* SP or HTAB */
#define C_HEX		0x08	/* HEXDIG */
#define C_QDTEXT	0x10	/* qdtext: inside a quoted string */

#define o	0
#define w	(C_WS | C_QDTEXT)
#define v	C_VCHAR				/* '"' and '\\' */
#define d	(C_VCHAR | C_QDTEXT)		/* delimiters, obs-text */
#define t	(C_TCHAR | C_VCHAR | C_QDTEXT)
#define x	(C_TCHAR | C_VCHAR | C_QDTEXT | C_HEX)
static const unsigned char	 cls[256] = {
	/* 00 */ o, o, o, o, o, o, o, o, o, w, o, o, o, o, o, o,
	/* 10 */ o, o, o, o, o, o, o, o, o, o, o, o, o, o, o, o,
	/* 20 */ w, t, v, t, t, t, t, t, d, d, t, t, d, t, t, d,
	/* 30 */ x, x, x, x, x, x, x, x, x, x, d, d, d, d, d, d,
	/* 40 */ d, x, x, x, x, x, x, t, t, t, t, t, t, t, t, t,
	/* 50 */ t, t, t, t, t, t, t, t, t, t, t, d, v, d, t, t,
	/* 60 */ t, x, x, x, x, x, x, t, t, t, t, t, t, t, t, t,
	/* 70 */ t, t, t, t, t, t, t, t, t, t, t, d, t, d, t, o,
	/* 80 */ d, d, d, d, d, d, d, d, d, d, d, d, d, d, d, d,
	/* 90 */ d, d, d, d, d, d, d, d, d, d, d, d, d, d, d, d,
	/* a0 */ d, d, d, d, d, d, d, d, d, d, d, d, d, d, d, d,
	/* b0 */ d, d, d, d, d, d, d, d, d, d, d, d, d, d, d, d,
	/* c0 */ d, d, d, d, d, d, d, d, d, d, d, d, d, d, d, d,
	/* d0 */ d, d, d, d, d, d, d, d, d, d, d, d, d, d, d, d,
	/* e0 */ d, d, d, d, d, d, d, d, d, d, d, d, d, d, d, d,
	/* f0 */ d, d, d, d, d, d, d, d, d, d, d, d, d, d, d, d,
};
#undef o
#undef w
#undef v
#undef d
#undef t
#undef x

#define IS(c, class)	((cls[(unsigned char)(c)] & (class)) != 0)

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

/* -- copying the parser's pieces -------------------------------------- */

/* Append a piece of target or header text, NUL excluded. */
static int
append(struct http_req *req, const char *at, size_t len)
{
	/*
	 * The limit counts what the client sent; the NULs after each piece
	 * have room of their own in hbuf (see head_hbuf_cap).
	 */
	if (req->text_len + len > req->limits->header_bytes ||
	    req->hbuf_len + len + 1 > req->hbuf_cap)
		return -1;
	req->text_len += len;
	memcpy(req->hbuf + req->hbuf_len, at, len);
	req->hbuf_len += len;
	return 0;
}

/*
 * As much of a piece as fits under header_bytes, when append() refused
 * the whole: the head is over the limit, but what came before the limit
 * may hold an earlier error (parse_field_cut).
 */
static void
append_fit(struct http_req *req, const char *at, size_t len)
{
	size_t	 room = req->limits->header_bytes - req->text_len;

	if (len > room)
		len = room;
	if (req->hbuf_len + len + 1 > req->hbuf_cap)
		return;
	req->text_len += len;
	memcpy(req->hbuf + req->hbuf_len, at, len);
	req->hbuf_len += len;
}

/*
 * Count the len bytes of OWS before a value: not copied, but sent, as
 * the OWS after a value is (and counted with it). Uncounted, a head
 * had no bound at all: http-parser's own 80 KiB no longer sees fields.
 */
static inline int
count_ows(struct http_req *req, size_t len)
{
	if (req->text_len + len > req->limits->header_bytes)
		return -1;
	req->text_len += len;
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

/*
 * Where the path starts in an absolute-form target (RFC 9112, 3.2.2), as
 * a proxy sends it: "http://host/hello?q" is routed as "/hello?q", the
 * scheme and authority only said where it was meant to go. Returns
 * target_len when there is no path (nor query), 0 when the target is not
 * an absolute URI (CONNECT's authority-form, answered 501 anyway).
 */
static size_t
target_path_off(const char *target, size_t target_len)
{
	struct http_parser_url	 u;

	http_parser_url_init(&u);
	if (http_parser_parse_url(target, target_len, 0, &u) != 0 ||
	    !(u.field_set & (1 << UF_HOST)))
		return 0;
	if (u.field_set & (1 << UF_PATH))
		return u.field_data[UF_PATH].off;
	if (u.field_set & (1 << UF_QUERY))
		return (size_t)u.field_data[UF_QUERY].off - 1;	/* the '?' */
	return target_len;
}

static void
target_finish(struct http_req *req)
{
	char	*q, *s, *path;
	size_t	 off = 0, rest, len;

	req->target = piece_end(req, &req->target_len);
	req->path = req->target;
	req->path_len = req->target_len;
	if (req->target[0] != '/' && req->target[0] != '*')
		off = target_path_off(req->target, req->target_len);
	s = req->target + off;
	rest = req->target_len - off;
	q = memchr(s, '?', rest);
	if (off == 0 && q == NULL)
		return;
	len = q != NULL ? (size_t)(q - s) : rest;
	if (q != NULL)
		req->query = q + 1;
	/*
	 * Handlers get the path as a string of its own, and the target
	 * stays whole for the log: a copy, in room http_req_init() kept
	 * for it outside the header_bytes count. An absolute URI without
	 * a path asks for "/" (RFC 9112, 3.2.1).
	 */
	path = req->hbuf + req->hbuf_len;
	if (len == 0)
		path[len++] = '/';
	else
		memcpy(path, s, len);
	path[len] = '\0';
	req->hbuf_len += len + 1;
	req->piece_off = req->hbuf_len;
	req->path = path;
	req->path_len = len;
}

/*
 * Whether the len bytes at s are lc, a literal of lower-case letters and
 * '-', in any case. Setting bit 5 of a byte maps only 'A'-'Z' onto
 * 'a'-'z', and only CR (in no name or value) onto '-': so one OR per
 * eight bytes compares exactly, with no libc call, the fields that
 * every request has.
 */
static inline int
lc_eq(const char *s, size_t len, const char *lc, size_t lc_len)
{
	uint64_t	 a, b;
	uint32_t	 a4, b4;
	uint16_t	 a2, b2;
	size_t		 i;

	/* Inlined with a constant lc_len, the steps below unroll. */
	if (len != lc_len)
		return 0;
	for (i = 0; len - i >= 8; i += 8) {
		memcpy(&a, s + i, sizeof(a));
		memcpy(&b, lc + i, sizeof(b));
		if ((a | 0x2020202020202020ULL) != b)
			return 0;
	}
	if (len - i >= 4) {
		memcpy(&a4, s + i, sizeof(a4));
		memcpy(&b4, lc + i, sizeof(b4));
		if ((a4 | 0x20202020U) != b4)
			return 0;
		i += 4;
	}
	if (len - i >= 2) {
		memcpy(&a2, s + i, sizeof(a2));
		memcpy(&b2, lc + i, sizeof(b2));
		if ((uint16_t)(a2 | 0x2020U) != b2)
			return 0;
		i += 2;
	}
	return i == len || (s[i] | 0x20) == lc[i];
}

#define LC_EQ(s, len, lit)	lc_eq((s), (len), (lit), sizeof(lit) - 1)

/*
 * The next element of the comma-separated list from *v to end (RFC 9110,
 * 5.6.1): whitespace around it trimmed, empty elements skipped. Sets
 * *elem and returns its length, 0 at the end of the list.
 */
static size_t
list_next(const char **v, const char *end, const char **elem)
{
	const char	*s = *v, *c;
	size_t		 len;

	while (s < end && (*s == ' ' || *s == '\t' || *s == ','))
		s++;
	if ((c = memchr(s, ',', (size_t)(end - s))) == NULL)
		c = end;
	len = (size_t)(c - s);
	while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
		len--;
	*elem = s;
	*v = c;
	return len;
}

/*
 * Transfer-Encoding, each header in turn as one list (RFC 9112, 6.1).
 * "chunked;foo=bar" has parameters chunked never takes: unknown.
 */
static void
te_parse(struct http_req *req, const char *v, size_t v_len)
{
	const char	*e, *end = v + v_len;
	size_t		 len;

	req->te_seen = 1;
	while ((len = list_next(&v, end, &e)) > 0) {
		if (LC_EQ(e, len, "chunked")) {
			if (req->te_chunked)
				req->te_twice = 1;
			req->te_chunked = 1;
			req->te_last_chunked = 1;
		} else {
			req->te_unknown = 1;
			req->te_last_chunked = 0;
		}
	}
}

/* Connection's options (RFC 9112, 9.3, 9.6); others are not ours. */
static void
connection_parse(struct http_req *req, const char *v, size_t v_len)
{
	const char	*e, *end = v + v_len;
	size_t		 len;

	while ((len = list_next(&v, end, &e)) > 0) {
		if (LC_EQ(e, len, "close"))
			req->conn_close = 1;
		else if (LC_EQ(e, len, "keep-alive"))
			req->conn_keepalive = 1;
	}
}

/*
 * The scan is at a field line's first byte: its entry in the table, name
 * and value NULL until each is whole.
 */
static int
field_start(struct http_req *req)
{
	struct http_header	*h;

	if (req->nheaders == req->limits->headers)
		return fail(req, 431, "too many header fields");
	h = &req->headers[req->nheaders++];
	h->name = NULL;
	h->value = NULL;
	return 0;
}

/* The scan is at the colon: the name is whole. */
static void
name_finish(struct http_req *req)
{
	struct http_header	*h = &req->headers[req->nheaders - 1];

	h->name = piece_end(req, &h->name_len);
}

/*
 * The value of the field being copied is whole (the scan is at its CR).
 * Its name passed the scan, so it is exactly the token that was sent:
 * "Host " cannot hide a second Host from the comparisons below. Returns
 * 1 for a framing field, which http-parser must be given too, 0 for the
 * others, -1 with status set for a repeated Host.
 */
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

	/*
	 * Whole names, compared without regard to case; the first letter
	 * only picks which one to compare with, since every field of every
	 * request comes here.
	 */
	switch (h->name[0] | 0x20) {
	case 'h':
		if (!LC_EQ(h->name, h->name_len, "host"))
			break;
		if (req->seen_host)
			return fail(req, 400, "repeated Host header");
		req->seen_host = 1;
		break;
	case 't':
		if (LC_EQ(h->name, h->name_len, "transfer-encoding")) {
			te_parse(req, v, len);
			return 1;
		}
		break;
	case 'c':
		if (LC_EQ(h->name, h->name_len, "content-length"))
			return 1;
		if (LC_EQ(h->name, h->name_len, "connection"))
			connection_parse(req, v, len);
		break;
	case 'e':
		if (LC_EQ(h->name, h->name_len, "expect"))
			req->seen_expect = 1;
		break;
	case 'x':
		if (req->request_id == NULL &&
		    LC_EQ(h->name, h->name_len, "x-request-id"))
			req->request_id = v;
		break;
	}
	return 0;
}

static int
on_url(http_parser *p, const char *at, size_t len)
{
	struct http_req	*req = req_of(p);

	if (req->hbuf_len + len > req->limits->uri_bytes ||
	    append(req, at, len) == -1)
		return fail(req, 414, "request target too long");
	return 0;
}

/* The head is in: decide what the request is and how its body comes. */
static int
head_finish(struct http_req *req, http_parser *p)
{
	const char	*expect;
	int		 status;

	req->method = http_method_str((enum http_method)p->method);
	req->major = p->http_major;
	req->minor = p->http_minor;
	req->head = p->method == HTTP_HEAD;
	/*
	 * From the trimmed Connection options, not http_should_keep_alive():
	 * http-parser's own matching misses "close\t". Transfer-Encoding
	 * on HTTP/1.0 is framing a 1.0 recipient may not have understood:
	 * answer, then close (RFC 9112, 6.1).
	 */
	if (req->minor >= 1)
		req->keepalive = !req->conn_close;
	else
		req->keepalive = req->conn_keepalive && !req->conn_close &&
		    !req->te_seen;

	if (p->http_major != 1)
		return fail(req, 505, "HTTP version not supported");
	/* http-parser hands CONNECT's bytes over as a tunnel: not ours. */
	if (p->method == HTTP_CONNECT)
		return fail(req, 501, "CONNECT not implemented");
	/*
	 * Content-Length with Transfer-Encoding never gets here: http-parser
	 * refuses it (error_status). An unknown coding first: "gzip" alone
	 * is also "chunked not last", but what we lack is gzip.
	 */
	if (req->te_seen) {
		if (req->te_unknown)
			return fail(req, 501,
			    "transfer coding not implemented");
		if (req->te_twice)
			return fail(req, 400, "chunked applied twice");
		if (!req->te_last_chunked)
			return fail(req, 400,
			    "chunked is not the final transfer coding");
		req->chunked = 1;
	}
	req->has_body = req->chunked ||
	    (p->content_length > 0 && p->content_length != ULLONG_MAX);
	if (!req->seen_host && p->http_minor >= 1)
		return fail(req, 400, "missing Host header");
	if (!req->chunked && p->content_length != ULLONG_MAX &&
	    p->content_length > req->limits->body_bytes)
		return fail(req, 413, "request body too large");
	if (req->seen_expect &&
	    (expect = http_req_header(req, "expect")) != NULL) {
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
		req->state = HTTP_COMPLETE;
		return 0;
	}
	if (!req->has_body) {
		req->state = HTTP_COMPLETE;
		return 0;
	}
	/*
	 * Memory follows the bytes that arrive, not what the client
	 * announces: a Content-Length near body_bytes on many idle
	 * connections must not reserve it all up front.
	 */
	req->state = HTTP_BODY;
	if (req->chunked) {
		req->body_want = req->limits->body_bytes;
		req->fr_state = FR_SIZE0;
	} else {
		req->body_want = (size_t)p->content_length;
		req->fr_left = req->body_want;
		req->fr_state = FR_DATA;
	}
	return 0;
}

static int
on_headers_complete(http_parser *p)
{
	/* 1: the parser skips the body, which body_feed() reads. */
	return head_finish(req_of(p), p) == -1 ? -1 : 1;
}

/* No field callbacks: the table is the scan's (field_start() and on). */
static const http_parser_settings settings = {
	.on_url = on_url,
	.on_headers_complete = on_headers_complete,
};

/* -- the framing scan ------------------------------------------------- */

static const char	 no_lf[] = "CR not followed by LF";

static int
scan_fail(struct http_req *req, int status, const char *reason)
{
	req->status = status;
	req->reason = reason;
	return SCAN_ERROR;
}

/* A line end that is not CRLF, or another bad byte: which one. */
static int
scan_bad(struct http_req *req, unsigned char c, const char *reason)
{
	if (c == '\n')
		return scan_fail(req, 400, "bare LF as a line end");
	return scan_fail(req, 400, reason);
}

#define ONES		0x0101010101010101ULL
#define HIGHS		0x8080808080808080ULL

/*
 * The bytes of the 8 in x that are under lowc or DEL, as their high bits:
 * controls, and SP in a target. obs-text (high bit set) is never one.
 * On the low seven bits of each byte, adding 0x80 - lowc sets bit 7 from
 * lowc up and adding 1 sets it for DEL; neither carries into the next
 * byte, so every byte is classified on its own.
 */
static inline uint64_t
word_ctl(uint64_t x, unsigned char lowc)
{
	uint64_t	 b = x & ~HIGHS;

	return ~(((b + (0x80 - lowc) * ONES) & ~(b + ONES)) | x) & HIGHS;
}

/*
 * Which of the 8 bytes loaded at p, m = word_ctl() of them and lowc,
 * comes first. In memory order the first byte is the least significant
 * one on a little-endian machine; elsewhere a walk over the block finds
 * it (m != 0: there is one).
 */
static inline size_t
word_first(const unsigned char *p, uint64_t m, unsigned char lowc)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	(void)p;
	(void)lowc;
	return (size_t)__builtin_ctzll(m) / 8;
#else
	size_t	 i;

	(void)m;
	for (i = 0; p[i] >= lowc && p[i] != 0x7f; i++)
		;
	return i;
#endif
}

/*
 * Skip the bytes at p, up to e, that are VCHAR or obs-text, and SP and
 * HTAB too in a value (ws): the scan of targets and values, the bulk of a
 * head. Eight bytes at a time: the first control byte, DEL (or SP in a
 * target) of a block is found in the block's mask, not byte by byte, so a
 * value costs a few instructions per eight bytes and its line end is
 * found in the same pass. HTAB is a control byte to the mask: in a value
 * the scan steps over it and goes on. Only the last few bytes before e,
 * less than a block, are looked at one by one. Returns the first byte
 * that does not pass, or e.
 */
static inline const unsigned char *
skip_vchar(const unsigned char *p, const unsigned char *e, int ws)
{
	const unsigned char lowc = ws ? 0x20 : 0x21;
	const unsigned	 class = ws ? C_VCHAR | C_WS : C_VCHAR;
	uint64_t	 x, m;

	while (e - p >= 8) {
		memcpy(&x, p, sizeof(x));
		if ((m = word_ctl(x, lowc)) == 0) {
			p += 8;
			continue;
		}
		p += word_first(p, m, lowc);
		if (!ws || *p != '\t')
			return p;
		p++;
	}
	while (p < e && IS(*p, class))
		p++;
	return p;
}

/*
 * Skip the token bytes at p, up to e: method tokens and field names.
 * Token bytes are no range a mask can test, so this is the class table,
 * four bytes per bounds check: names are short, and most of the cost of
 * a byte-at-a-time loop is its bookkeeping.
 */
static inline const unsigned char *
skip_tchar(const unsigned char *p, const unsigned char *e)
{
	for (; e - p >= 4; p += 4) {
		if (!IS(p[0], C_TCHAR))
			return p;
		if (!IS(p[1], C_TCHAR))
			return p + 1;
		if (!IS(p[2], C_TCHAR))
			return p + 2;
		if (!IS(p[3], C_TCHAR))
			return p + 3;
	}
	while (p < e && IS(*p, C_TCHAR))
		p++;
	return p;
}

static unsigned
unhex(unsigned char c)
{
	if (c <= '9')
		return (unsigned)(c - '0');
	return (unsigned)((c | 0x20) - 'a' + 10);
}

/*
 * Check the bytes at *pp, up to end, against the message grammar (RFC
 * 9112: 2.2, 3, 5, 7.1), from req->fr_state on. Moves *pp past what
 * passed and returns why it stopped (SCAN_*). It never looks past the end
 * of the head or of the message: what follows belongs to the parser, to
 * body_feed() or to the next request.
 *
 * Every line ends in CRLF, exactly: a CR followed by anything else and a
 * bare LF are errors, never line ends. Pieces ending in the middle of a
 * line are fine: the state says where the next one goes on.
 */
static int
frame_scan(struct http_req *req, const char **pp, const char *end)
{
	static const char	 version[] = "HTTP/D.D";
	const unsigned char	*p = (const unsigned char *)*pp, *s;
	const unsigned char	*e = (const unsigned char *)end;
	size_t			 allow;
	unsigned		 h;
	int			 why = SCAN_MORE;

	while (p < e) {
		switch (req->fr_state) {
		case FR_START:
			/* Empty lines before a request are ignored (2.2). */
			if (*p == '\r') {
				req->fr_state = FR_START_LF;
				p++;
				break;
			}
			if (!IS(*p, C_TCHAR)) {
				why = scan_bad(req, *p, "invalid method token");
				goto out;
			}
			req->state = HTTP_HEADERS;
			req->fr_state = FR_METHOD;
			/* FALLTHROUGH */
		case FR_METHOD:
			s = p;
			p = skip_tchar(p, e);
			/*
			 * Bounded here: once http-parser has refused a method
			 * it is not there to.
			 */
			if ((size_t)(p - s) + req->fr_count > METHOD_MAX) {
				why = scan_fail(req, 501,
				    "method not implemented");
				goto out;
			}
			req->fr_count += (unsigned char)(p - s);
			if (p == e)
				goto out;
			if (*p != ' ') {
				why = scan_bad(req, *p, "invalid method token");
				goto out;
			}
			req->method_done = 1;
			req->fr_state = FR_TARGET0;
			p++;
			break;
		case FR_START_LF:
			if (*p != '\n') {
				why = scan_fail(req, 400, no_lf);
				goto out;
			}
			req->fr_state = FR_START;
			p++;
			break;
		case FR_TARGET0:
			if (!IS(*p, C_VCHAR)) {
				why = scan_bad(req, *p,
				    "invalid request target");
				goto out;
			}
			req->fr_state = FR_TARGET;
			/* FALLTHROUGH */
		case FR_TARGET:
			/* HTAB, FF and other controls too: not separators. */
			p = skip_vchar(p, e, 0);
			if (p == e)
				goto out;
			if (*p != ' ') {
				why = scan_bad(req, *p,
				    "invalid request target");
				goto out;
			}
			req->fr_state = FR_VERSION;
			req->fr_count = 0;
			p++;
			break;
		case FR_VERSION:
			/* http-parser would take "HXYZ/1.1" for HTTP/1.1. */
			if (req->fr_count == 0 && e - p > 8 &&
			    memcmp(p, "HTTP/", 5) == 0 && p[5] >= '0' &&
			    p[5] <= '9' && p[6] == '.' && p[7] >= '0' &&
			    p[7] <= '9' && p[8] == '\r') {
				/* All of it in this piece, and its CR. */
				req->fr_state = FR_RL_LF;
				p += 9;
				break;
			}
			if (version[req->fr_count] == 'D' ?
			    !(*p >= '0' && *p <= '9') :
			    *p != (unsigned char)version[req->fr_count]) {
				why = scan_bad(req, *p, "invalid HTTP version");
				goto out;
			}
			p++;
			if (++req->fr_count == sizeof(version) - 1)
				req->fr_state = FR_RL_CR;
			break;
		case FR_RL_CR:
			if (*p != '\r') {
				why = scan_bad(req, *p, "invalid HTTP version");
				goto out;
			}
			req->fr_state = FR_RL_LF;
			p++;
			break;
		case FR_RL_LF:
			if (*p != '\n') {
				why = scan_fail(req, 400, no_lf);
				goto out;
			}
			req->fr_state = FR_FIELD;
			p++;
			why = SCAN_LINE;	/* for http-parser, at once */
			goto out;
		/*
		 * A field line's states follow each other here, falling
		 * through: a whole line costs two dispatches, not five. Its
		 * name and value go into the table as they pass, but not a
		 * trailer's: trailers are read, and dropped.
		 */
		case FR_VALUE:
		value:
			s = p;
			p = skip_vchar(p, e, 1);
			if (!req->trailers && append(req, (const char *)s,
			    (size_t)(p - s)) == -1) {
				append_fit(req, (const char *)s,
				    (size_t)(p - s));
				why = scan_fail(req, 431,
				    "header section too large");
				goto out;
			}
			if (p == e)
				goto out;
			if (*p != '\r') {
				why = scan_bad(req, *p,
				    "control character in a header value");
				goto out;
			}
			req->fr_state = FR_LF;
			p++;
			if (!req->trailers) {
				switch (header_finish(req)) {
				case -1:
					why = SCAN_ERROR;
					goto out;
				case 1:
					why = SCAN_FIELD;
					goto out;
				}
			}
			if (p == e)
				goto out;
			/* FALLTHROUGH */
		case FR_LF:
			if (*p != '\n') {
				why = scan_fail(req, 400, no_lf);
				goto out;
			}
			req->fr_state = FR_FIELD;
			if (++p == e)
				goto out;
			/* FALLTHROUGH */
		case FR_FIELD:
			if (*p == '\r') {
				req->fr_state = FR_BLANK_LF;
				p++;
				break;
			}
			if (!IS(*p, C_TCHAR)) {
				/*
				 * Whitespace opening a line is obs-fold, or
				 * whitespace after the request line (5.2,
				 * 2.2): both refused.
				 */
				why = scan_bad(req, *p, IS(*p, C_WS) ?
				    "whitespace at the start of a field line" :
				    "invalid field name");
				goto out;
			}
			req->fr_state = FR_NAME;
			if (!req->trailers && field_start(req) == -1) {
				why = SCAN_ERROR;
				goto out;
			}
			/* FALLTHROUGH */
		case FR_NAME:
			s = p;
			p = skip_tchar(p, e);
			if (!req->trailers && append(req, (const char *)s,
			    (size_t)(p - s)) == -1) {
				why = scan_fail(req, 431,
				    "header section too large");
				goto out;
			}
			if (p == e)
				goto out;
			if (*p != ':') {
				/* "Content-Length : 5" was Content-Length. */
				why = scan_bad(req, *p, IS(*p, C_WS) ?
				    "whitespace in a field name" :
				    "invalid field name");
				goto out;
			}
			p++;
			if (!req->trailers)
				name_finish(req);
			req->fr_state = FR_OWS;
			/* FALLTHROUGH */
		case FR_OWS:
			/* The line goes round without a dispatch per piece. */
			s = p;
			while (p < e && (*p == ' ' || *p == '\t'))
				p++;
			if (!req->trailers &&
			    count_ows(req, (size_t)(p - s)) == -1) {
				why = scan_fail(req, 431,
				    "header section too large");
				goto out;
			}
			if (p == e)
				goto out;
			req->fr_state = FR_VALUE;
			goto value;
		case FR_BLANK_LF:
			if (*p != '\n') {
				why = scan_fail(req, 400, no_lf);
				goto out;
			}
			p++;
			req->fr_state = FR_HEAD_DONE;
			why = req->trailers ? SCAN_DONE : SCAN_HEAD;
			goto out;
		case FR_SIZE0:
			if (!IS(*p, C_HEX)) {
				why = scan_bad(req, *p, "invalid chunk size");
				goto out;
			}
			req->fr_left = 0;
			req->fr_state = FR_SIZE;
			/* FALLTHROUGH */
		case FR_SIZE:
			/*
			 * Over the body limit is 413 at the digit that goes
			 * over: the data is never waited for, and the size
			 * cannot overflow.
			 */
			allow = req->limits->body_bytes - req->body_len;
			for (; p < e && IS(*p, C_HEX); p++) {
				h = unhex(*p);
				if (req->fr_left > allow / 16 ||
				    req->fr_left * 16 + h > allow) {
					why = scan_fail(req, 413,
					    "request body too large");
					goto out;
				}
				req->fr_left = req->fr_left * 16 + h;
			}
			if (p == e)
				goto out;
			if (*p == '\r')
				req->fr_state = FR_SIZE_LF;
			else if (*p == ';')
				req->fr_state = FR_EXT_SEMI;
			else if (IS(*p, C_WS))
				req->fr_state = FR_EXT_BWS;
			else {
				why = scan_bad(req, *p, "invalid chunk size");
				goto out;
			}
			p++;
			break;
		/*
		 * chunk-ext = *( BWS ";" BWS name [ BWS "=" BWS value ] ),
		 * value a token or a quoted-string (7.1.1). Anything else
		 * on the line is junk a proxy may read otherwise.
		 */
		case FR_EXT_BWS:
			if (*p == ';')
				req->fr_state = FR_EXT_SEMI;
			else if (!IS(*p, C_WS)) {
				why = scan_bad(req, *p,
				    "invalid chunk extension");
				goto out;
			}
			p++;
			break;
		case FR_EXT_SEMI:
			if (IS(*p, C_WS)) {
				p++;
				break;
			}
			if (!IS(*p, C_TCHAR)) {
				why = scan_bad(req, *p,
				    "invalid chunk extension");
				goto out;
			}
			req->fr_state = FR_EXT_NAME;
			/* FALLTHROUGH */
		case FR_EXT_NAME:
			while (p < e && IS(*p, C_TCHAR))
				p++;
			if (p == e)
				goto out;
			if (*p == '\r')
				req->fr_state = FR_SIZE_LF;
			else if (*p == ';')
				req->fr_state = FR_EXT_SEMI;
			else if (*p == '=')
				req->fr_state = FR_EXT_EQ;
			else if (IS(*p, C_WS))
				req->fr_state = FR_EXT_NAME_BWS;
			else {
				why = scan_bad(req, *p,
				    "invalid chunk extension");
				goto out;
			}
			p++;
			break;
		case FR_EXT_NAME_BWS:
			if (*p == ';')
				req->fr_state = FR_EXT_SEMI;
			else if (*p == '=')
				req->fr_state = FR_EXT_EQ;
			else if (!IS(*p, C_WS)) {
				why = scan_bad(req, *p,
				    "invalid chunk extension");
				goto out;
			}
			p++;
			break;
		case FR_EXT_EQ:
			if (IS(*p, C_WS)) {
				p++;
				break;
			}
			if (*p == '"') {
				req->fr_state = FR_EXT_QUOTED;
				p++;
				break;
			}
			if (!IS(*p, C_TCHAR)) {
				why = scan_bad(req, *p,
				    "invalid chunk extension");
				goto out;
			}
			req->fr_state = FR_EXT_TOKEN;
			/* FALLTHROUGH */
		case FR_EXT_TOKEN:
			while (p < e && IS(*p, C_TCHAR))
				p++;
			if (p == e)
				goto out;
			if (*p == '\r')
				req->fr_state = FR_SIZE_LF;
			else if (*p == ';')
				req->fr_state = FR_EXT_SEMI;
			else if (IS(*p, C_WS))
				req->fr_state = FR_EXT_BWS;
			else {
				why = scan_bad(req, *p,
				    "invalid chunk extension");
				goto out;
			}
			p++;
			break;
		case FR_EXT_QUOTED:
			while (p < e && IS(*p, C_QDTEXT))
				p++;
			if (p == e)
				goto out;
			if (*p == '"')
				req->fr_state = FR_EXT_AFTER;
			else if (*p == '\\')
				req->fr_state = FR_EXT_QPAIR;
			else {
				/* A CR here: the quote was never closed. */
				why = scan_bad(req, *p, "unbalanced quote in "
				    "a chunk extension");
				goto out;
			}
			p++;
			break;
		case FR_EXT_QPAIR:
			if (!IS(*p, C_VCHAR | C_WS)) {
				why = scan_bad(req, *p,
				    "invalid chunk extension");
				goto out;
			}
			req->fr_state = FR_EXT_QUOTED;
			p++;
			break;
		case FR_EXT_AFTER:
			if (*p == '\r')
				req->fr_state = FR_SIZE_LF;
			else if (*p == ';')
				req->fr_state = FR_EXT_SEMI;
			else if (IS(*p, C_WS))
				req->fr_state = FR_EXT_BWS;
			else {
				why = scan_bad(req, *p,
				    "invalid chunk extension");
				goto out;
			}
			p++;
			break;
		case FR_SIZE_LF:
			if (*p != '\n') {
				why = scan_fail(req, 400, no_lf);
				goto out;
			}
			p++;
			if (req->fr_left == 0) {
				/* The last chunk: trailer fields, not kept. */
				req->trailers = 1;
				req->fr_state = FR_FIELD;
				break;
			}
			req->fr_state = FR_DATA;
			why = SCAN_DATA;
			goto out;
		case FR_DATA_CR:
		case FR_DATA_LF:
			/*
			 * The lenient parser took any two bytes here
			 * ("3\r\nabcXX0\r\n").
			 */
			if (*p != (req->fr_state == FR_DATA_CR ? '\r' : '\n')) {
				why = scan_fail(req, 400,
				    "chunk data not followed by CRLF");
				goto out;
			}
			req->fr_state = req->fr_state == FR_DATA_CR ?
			    FR_DATA_LF : FR_SIZE0;
			p++;
			break;
		default:		/* FR_HEAD_DONE, FR_DATA: not lines */
			why = SCAN_DATA;
			goto out;
		}
	}
out:
	*pp = (const char *)p;
	return why;
}

/* -- feeding ---------------------------------------------------------- */

/*
 * header_bytes of text, a NUL for the target and each piece, and a
 * NUL-terminated copy of the path (at most uri_bytes).
 */
static size_t
head_hbuf_cap(const struct config_limits *limits)
{
	return limits->header_bytes + 2 * (size_t)limits->headers + 1 +
	    limits->uri_bytes + 1;
}

/* The status for a parser error that no callback explained. */
static int
error_status(struct http_req *req, enum http_errno err)
{
	switch (err) {
	case HPE_HEADER_OVERFLOW:
		req->reason = "header section too large";
		return 431;
	case HPE_UNEXPECTED_CONTENT_LENGTH:
		req->reason = "conflicting Content-Length or Transfer-Encoding";
		return 400;
	default:
		req->reason = http_errno_description(err);
		return 400;
	}
}

/*
 * Hand len (> 0) scanned bytes of the head to http-parser. Returns 0, or
 * -1 in ERROR. A method it does not know is not an error yet: whether it
 * is a token (501) or not (400) is the scan's to say.
 */
static int
parse(struct http_req *req, const char *at, size_t len)
{
	enum http_errno	 err;

	(void)http_parser_execute(&req->parser, &settings, at, len);
	err = HTTP_PARSER_ERRNO(&req->parser);
	if (err == HPE_OK)
		return 0;
	if (err == HPE_INVALID_METHOD) {
		req->method_unknown = 1;
		return 0;
	}
	req->state = HTTP_ERROR;
	/* A callback that failed has already chosen status and reason. */
	if (err < HPE_CB_message_begin || err > HPE_CB_chunk_complete)
		req->status = error_status(req, err);
	return -1;
}

/*
 * Give http-parser the framing field the scan has just put in the table,
 * as "name:value" CRLF. An HTAB around the value would be OWS to us (RFC
 * 9110, 5.6.3) and a bad length to it: it gets the trimmed value.
 */
static int
parse_field(struct http_req *req)
{
	const struct http_header *h = &req->headers[req->nheaders - 1];

	/*
	 * http-parser refuses an empty length only at the next byte it is
	 * given: the next framing field or the blank line, after any
	 * number of other fields that could cross a limit first (431).
	 * Refused here, at its own CR, as it would be. Of the two framing
	 * fields, only Content-Length starts with 'c'.
	 */
	if (h->value_len == 0 && (h->name[0] | 0x20) == 'c') {
		req->state = HTTP_ERROR;
		req->status = error_status(req, HPE_INVALID_CONTENT_LENGTH);
		return -1;
	}
	if (parse(req, h->name, h->name_len) == -1 || parse(req, ":", 1) == -1)
		return -1;
	if (h->value_len > 0 && parse(req, h->value, h->value_len) == -1)
		return -1;
	return parse(req, "\r\n", 2);
}

/*
 * The head crossed header_bytes inside a value (431). If that is a
 * Content-Length, http-parser judges it first as far as it went under
 * the limit: a byte it refuses ("1x", a repeated length) came before
 * the limit was crossed, so its 400 wins. OWS at the cut is left out:
 * it may yet be the OWS after a good length. Transfer-Encoding needs
 * nothing of the kind: its verdicts, like a missing Host, are the
 * head's, given at its end (head_finish), which a limit comes before.
 */
static void
parse_field_cut(struct http_req *req)
{
	const struct http_header *h = &req->headers[req->nheaders - 1];
	const char		*v = req->hbuf + req->piece_off;
	size_t			 len = req->hbuf_len - req->piece_off;

	if (!LC_EQ(h->name, h->name_len, "content-length"))
		return;
	while (len > 0 && (v[len - 1] == ' ' || v[len - 1] == '\t'))
		len--;
	if (parse(req, h->name, h->name_len) == 0 && parse(req, ":", 1) == 0 &&
	    len > 0)
		(void)parse(req, v, len);
}

/* Scan and parse the head from p; returns how far it got. */
static const char *
head_feed(struct http_req *req, const char *p, const char *end)
{
	const char	*q = p;
	int		 why;

	why = frame_scan(req, &q, end);
	/*
	 * The request line goes to the parser as it passes, up to the
	 * first bad byte: its verdict on those bytes comes first.
	 */
	if (!req->line_done && !req->method_unknown && q > p &&
	    parse(req, p, (size_t)(q - p)) == -1)
		return q;
	if (req->method_unknown) {
		/* http-parser is done; the scan reads the method's end. */
		if (req->method_done) {
			req->state = HTTP_ERROR;
			(void)fail(req, 501, "method not implemented");
		} else if (why == SCAN_ERROR)
			req->state = HTTP_ERROR;
		return q;
	}
	switch (why) {
	case SCAN_ERROR:
		req->state = HTTP_ERROR;
		/* Only the value's copy refuses with 431 in FR_VALUE. */
		if (req->status == 431 && req->fr_state == FR_VALUE)
			parse_field_cut(req);
		break;
	case SCAN_LINE:
		req->line_done = 1;
		target_finish(req);
		break;
	case SCAN_FIELD:
		req->framing_field = 1;
		(void)parse_field(req);
		break;
	case SCAN_HEAD:
		/*
		 * With no Content-Length or Transfer-Encoding, the blank line
		 * would only take http-parser to on_headers_complete(): it
		 * has no framing of its own to check (upgrade is CONNECT's,
		 * which head_finish() refuses). Going there directly saves a
		 * fifth of what the parser costs a request.
		 */
		if (!req->framing_field) {
			if (head_finish(req, &req->parser) == -1)
				req->state = HTTP_ERROR;
			break;
		}
		if (parse(req, "\r\n", 2) == -1)
			break;
		/* Unreachable: the parser has its head's every line. */
		if (req->state == HTTP_HEADERS) {
			req->state = HTTP_ERROR;
			(void)fail(req, 400, "incomplete head");
		}
		break;
	}
	return q;
}

/* Append body bytes; the limit was checked where the length was read. */
static void
body_append(struct http_req *req, const char *at, size_t len)
{
	size_t	 cap;

	if (req->body_len + len > req->body_cap) {
		/* Double, never past the announced length or the limit. */
		cap = req->body_cap ? req->body_cap : BODY_INITIAL;
		while (cap < req->body_len + len)
			cap *= 2;
		if (cap > req->body_want)
			cap = req->body_want;
		req->body_buf = xreallocarray(req->body_buf, cap, 1);
		req->body_cap = cap;
	}
	memcpy(req->body_buf + req->body_len, at, len);
	req->body_len += len;
	req->body = req->body_buf;
}

/* Read the body from p: data, and for chunked the lines around it. */
static const char *
body_feed(struct http_req *req, const char *p, const char *end)
{
	size_t	 n;

	if (req->fr_state == FR_DATA) {
		n = (size_t)(end - p) < req->fr_left ? (size_t)(end - p) :
		    req->fr_left;
		body_append(req, p, n);
		req->fr_left -= n;
		if (req->fr_left == 0) {
			if (req->chunked)
				req->fr_state = FR_DATA_CR;
			else
				req->state = HTTP_COMPLETE;
		}
		return p + n;
	}
	switch (frame_scan(req, &p, end)) {
	case SCAN_ERROR:
		req->state = HTTP_ERROR;
		break;
	case SCAN_DONE:
		req->state = HTTP_COMPLETE;
		break;
	}
	return p;
}

/*
 * The head buffers (the header table, then hbuf) are one block, taken at
 * a request's first byte and given back when it is answered: an idle
 * keep-alive connection holds none, nginx's way with its header buffers.
 * Given-back blocks wait in a small stack for the next request, so a busy
 * connection takes and returns one for a few instructions, never a
 * malloc. Every http_req of a process is fed and reset on its loop
 * thread: the stack needs no lock. Under ASan each block is freed, so
 * that a pointer kept past http_req_reset() is caught.
 */
#ifdef __SANITIZE_ADDRESS__
#define HEAD_SPARE	0
#else
#define HEAD_SPARE	16
#endif

static struct {
	void	*block[HEAD_SPARE + 1];
	size_t	 size[HEAD_SPARE + 1];
	unsigned n;
} head_spare;

static size_t
head_size(const struct config_limits *limits)
{
	return (size_t)limits->headers * sizeof(struct http_header) +
	    head_hbuf_cap(limits);
}

static void
head_take(struct http_req *req)
{
	size_t	 size = head_size(req->limits);
	char	*block = NULL;

	while (block == NULL && head_spare.n > 0) {
		head_spare.n--;
		if (head_spare.size[head_spare.n] == size)
			block = head_spare.block[head_spare.n];
		else		/* another generation's limits */
			free(head_spare.block[head_spare.n]);
	}
	if (block == NULL)
		block = xmalloc(size);
	req->headers = (struct http_header *)(void *)block;
	req->hbuf = block + (size_t)req->limits->headers *
	    sizeof(struct http_header);
	req->hbuf_cap = head_hbuf_cap(req->limits);
}

static void
head_give_back(struct http_req *req)
{
	if (req->headers == NULL)
		return;
#if HEAD_SPARE > 0
	if (head_spare.n < HEAD_SPARE) {
		head_spare.block[head_spare.n] = req->headers;
		head_spare.size[head_spare.n++] = head_size(req->limits);
	} else
#endif
		free(req->headers);
	req->headers = NULL;
	req->hbuf = NULL;
	req->hbuf_cap = 0;
}

void
http_req_init(struct http_req *req, const struct config_limits *limits,
    http_headers_cb headers_cb, void *cb_arg)
{
	memset(req, 0, sizeof(*req));
	req->limits = limits;
	req->headers_cb = headers_cb;
	req->cb_arg = cb_arg;
	http_parser_init(&req->parser, HTTP_REQUEST);
	req->parser.data = req;
}

void
http_req_cleanup(struct http_req *req)
{
	head_give_back(req);
	free(req->body_buf);
	req->body_buf = req->body = NULL;
	req->body_cap = 0;
}

void
http_req_reset(struct http_req *req)
{
	/*
	 * Not a byte since the last reset (the first takes the head
	 * buffers), nor a verdict from outside: nothing to undo. The
	 * connection resets once more when it goes idle.
	 */
	if (req->headers == NULL && req->state == HTTP_IDLE)
		return;
	/* A large body is not kept around for the life of the connection. */
	if (req->body_cap > BODY_INITIAL) {
		free(req->body_buf);
		req->body_buf = NULL;
		req->body_cap = 0;
	}
	head_give_back(req);
	/*
	 * One memset for what one request set: field by field, this was
	 * forty stores on every request, and a field added later and not
	 * reset here would have leaked into the next request.
	 */
	_Static_assert(HTTP_IDLE == 0 && FR_START == 0,
	    "a zeroed request is a fresh one");
	memset(&req->state, 0, sizeof(*req) - offsetof(struct http_req, state));
	http_parser_init(&req->parser, HTTP_REQUEST);
	req->parser.data = req;
}

size_t
http_req_feed(struct http_req *req, const char *data, size_t len)
{
	const char	*p = data, *end = data + len;

	if (req->headers == NULL && len > 0)
		head_take(req);
	while (p < end && (req->state == HTTP_IDLE ||
	    req->state == HTTP_HEADERS || req->state == HTTP_BODY))
		p = req->state == HTTP_BODY ? body_feed(req, p, end) :
		    head_feed(req, p, end);
	return (size_t)(p - data);
}

const char *
http_req_header(const struct http_req *req, const char *name)
{
	size_t		 len = strlen(name);
	unsigned	 i;

	/* The lengths first: most fields are not the one asked for. */
	for (i = 0; i < req->nheaders; i++)
		if (req->headers[i].name != NULL &&
		    req->headers[i].name_len == len &&
		    strcasecmp(req->headers[i].name, name) == 0)
			return req->headers[i].value;
	return NULL;
}

int
http_value_ok(const char *s, size_t len)
{
	const unsigned char	*p = (const unsigned char *)s;

	return skip_vchar(p, p + len, 1) == p + len;
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

/*
 * The status line of every status http-parser names, "HTTP/1.1 200 OK",
 * as a literal: no number to format nor reason to measure per response.
 * Returns its length, 0 for a status not in the table.
 */
static size_t
status_line(int status, const char **line)
{
	switch (status) {
#define XX(num, name, string)						\
	case num:							\
		*line = "HTTP/1.1 " #num " " #string;			\
		return sizeof("HTTP/1.1 " #num " " #string) - 1;
	HTTP_STATUS_MAP(XX)
#undef XX
	default:
		return 0;
	}
}

/* The head at p, which has room for it (head_max); returns its end. */
static char *
head_format(char *p, const struct http_resp_head *h, size_t ctype_len,
    size_t id_len)
{
	const char	*line, *reason;
	size_t		 len;

	if ((len = status_line(h->status, &line)) > 0)
		p = put(p, line, len);
	else {
		reason = http_status_reason(h->status);
		p = PUT_LIT(p, "HTTP/1.1 ");
		p = put_uint(p, h->status > 0 ? (size_t)h->status : 0);
		*p++ = ' ';
		p = put(p, reason, strlen(reason));
	}
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
	if (h->request_id != NULL) {
		p = PUT_LIT(p, "\r\nX-Request-Id: ");
		p = put(p, h->request_id, id_len);
	}
	p = PUT_LIT(p, "\r\n");
	if (h->extra_len > 0)
		p = put(p, h->extra, h->extra_len);
	return PUT_LIT(p, "\r\n");
}

/* Heads up to this size are built on the stack: all but large extras. */
#define HEAD_STACK	1024

/*
 * The most the head can take, and the lengths head_format() needs. Fixed
 * text, date and two numbers fit in 256 generously; the reason phrase is
 * at most 31 ("Network Authentication Required").
 */
static size_t
head_max(const struct http_resp_head *h, size_t *ctype_len, size_t *id_len)
{
	*ctype_len = h->content_type ? strlen(h->content_type) : 0;
	*id_len = h->request_id ? strlen(h->request_id) : 0;
	return 256 + 32 + *ctype_len + *id_len + h->extra_len;
}

size_t
http_resp_head_format(char *buf, size_t size, const struct http_resp_head *h)
{
	size_t	 ctype_len, id_len;

	if (head_max(h, &ctype_len, &id_len) > size)
		return 0;
	return (size_t)(head_format(buf, h, ctype_len, id_len) - buf);
}

int
http_resp_head_write(struct evbuffer *out, const struct http_resp_head *h)
{
	struct evbuffer_iovec	 v;
	char			 buf[HEAD_STACK], *p;
	size_t			 ctype_len, id_len, max;

	max = head_max(h, &ctype_len, &id_len);
	/*
	 * One evbuffer_add() of a head built on the stack costs a copy of
	 * two hundred bytes; reserving and committing space in the buffer
	 * costs two locked calls into libevent.
	 */
	if (max <= sizeof(buf)) {
		p = head_format(buf, h, ctype_len, id_len);
		return evbuffer_add(out, buf, (size_t)(p - buf));
	}
	if (evbuffer_reserve_space(out, (ev_ssize_t)max, &v, 1) < 1)
		return -1;
	p = head_format(v.iov_base, h, ctype_len, id_len);
	v.iov_len = (size_t)(p - (char *)v.iov_base);
	return evbuffer_commit_space(out, &v, 1);
}
