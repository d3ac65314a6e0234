/*
 * fuzz_http.c - libFuzzer target for the HTTP/1.x wire layer (src/http.c).
 *
 * Input layout:
 *
 *   byte 0        mode: bits 0-1 pieces (0/1: one, 2: two, 3: three),
 *                 bits 2-3 headers_cb (0: none, 1: returns 0,
 *                 2: 404 on every other request, 3: 404 when the path
 *                 length is odd), bit 4: after an ERROR, reset and check
 *                 that a fresh request still parses
 *   bytes 1-2     first split point, little-endian, modulo the stream size
 *   bytes 3-4     second split point, likewise
 *   bytes 5..     the byte stream a client sends
 *
 * The stream is fed the way conn.c feeds it: honouring the consumed
 * count, http_req_reset() and going on after HTTP_COMPLETE, stopping at
 * HTTP_ERROR, never feeding 0 bytes. Each finished request (and each
 * error) gets a response head written with http_resp_head_write(). The
 * invariants below abort() on violation, which libFuzzer reports.
 *
 * A stream cut into pieces is also fed whole, and both runs must tell the
 * same story (a digest of every request's fields, body and status, and of
 * the final state): where reads end must never change how the framing
 * scan and the parser split the stream into requests.
 */
#include "autoconfig.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "config.h"
#include "http.h"

#define PREFIX		5
#define FUZZ_DATE	"Thu, 01 Jan 1970 00:00:00 GMT"

static const struct config_limits limits = {
	.max_connections = 16,
	.header_bytes = 1024,
	.uri_bytes = 256,
	.headers = 16,
	.body_bytes = 4096,
};

/* Header names looked up on every request. */
static const char *const lookups[] = {
	"host", "Content-Length", "transfer-encoding", "EXPECT", "connection",
	"content-type", "", "x", NULL
};

struct run {
	struct http_req	 req;
	unsigned	 cb_mode;
	unsigned	 ncb;		/* headers_cb calls so far */
	int		 refused;	/* this request was answered 404 */
	uint64_t	 digest;	/* what was parsed, FNV-1a */
};

static void
digest_add(struct run *r, const void *p, size_t len)
{
	const unsigned char	*b = p;
	size_t			 i;

	for (i = 0; i < len; i++)
		r->digest = (r->digest ^ b[i]) * 0x100000001b3ULL;
}

static void
digest_str(struct run *r, const char *s)
{
	digest_add(r, s != NULL ? s : "(null)", s != NULL ? strlen(s) + 1 : 6);
}

/* A finished request, or an error, into the run's digest. */
static void
digest_req(struct run *r, const struct http_req *req)
{
	unsigned	 i, flags;

	digest_add(r, &req->state, sizeof(req->state));
	digest_add(r, &req->status, sizeof(req->status));
	if (req->state != HTTP_COMPLETE)
		return;
	digest_str(r, req->method);
	digest_str(r, req->target);
	digest_str(r, req->path);
	digest_str(r, req->query);
	flags = req->major << 16 | req->minor << 8 | req->keepalive << 3 |
	    req->head << 2 | req->expect_continue << 1 | req->has_body;
	digest_add(r, &flags, sizeof(flags));
	for (i = 0; i < req->nheaders; i++) {
		digest_str(r, req->headers[i].name);
		digest_str(r, req->headers[i].value);
	}
	digest_add(r, &req->body_len, sizeof(req->body_len));
	if (req->body_len > 0)
		digest_add(r, req->body, req->body_len);
}

#define CHECK(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "%s:%d: invariant failed: %s\n",	\
		    __FILE__, __LINE__, #cond);				\
		abort();						\
	}								\
} while (0)

/* What holds in every state. */
static void
check_common(const struct http_req *req)
{
	CHECK(req->state >= HTTP_IDLE && req->state <= HTTP_ERROR);
	CHECK(req->nheaders <= limits.headers);
	CHECK(req->body_len <= limits.body_bytes);
	CHECK(req->body_len <= req->body_cap || req->body_len == 0);
	CHECK(req->text_len <= limits.header_bytes);
	CHECK(req->hbuf_len <= req->hbuf_cap);
	if (req->state == HTTP_ERROR) {
		CHECK(req->status >= 400 && req->status <= 505);
		CHECK(req->reason != NULL);
	}
}

/* The request line and headers, once they are all in. */
static void
check_head(const struct http_req *req)
{
	unsigned	 i;
	const char	*v;

	CHECK(req->method != NULL);
	CHECK(req->target != NULL);
	CHECK(req->path != NULL);
	CHECK(strlen(req->target) == req->target_len);
	CHECK(strlen(req->path) == req->path_len);
	CHECK(req->target_len <= limits.uri_bytes);
	CHECK(req->path_len > 0);
	if (req->query != NULL) {
		CHECK(req->query > req->target &&
		    req->query <= req->target + req->target_len);
		CHECK(req->query[-1] == '?');
	}
	/* Origin-form: the path is the target's prefix; absolute-form not. */
	if (req->target[0] == '/') {
		CHECK(memcmp(req->path, req->target, req->path_len) == 0);
		if (req->query != NULL)
			CHECK(req->query == req->target + req->path_len + 1);
		else
			CHECK(req->path_len == req->target_len);
	}
	CHECK(req->nheaders <= limits.headers);
	for (i = 0; i < req->nheaders; i++) {
		const struct http_header *h = &req->headers[i];

		CHECK(h->name != NULL && h->value != NULL);
		CHECK(strlen(h->name) == h->name_len);
		CHECK(strlen(h->value) == h->value_len);
	}
	for (i = 0; lookups[i] != NULL; i++)
		if ((v = http_req_header(req, lookups[i])) != NULL)
			CHECK(strlen(v) < limits.header_bytes + 1);
}

static int
headers_cb(struct http_req *req, void *arg)
{
	struct run	*r = arg;

	CHECK(req == &r->req);
	CHECK(req->state == HTTP_HEADERS);
	CHECK(req->body_len == 0);
	check_head(req);
	r->ncb++;
	switch (r->cb_mode) {
	case 2:
		if (r->ncb % 2 == 0)
			return r->refused = 404;
		break;
	case 3:
		if (req->path_len % 2 == 1)
			return r->refused = 404;
		break;
	}
	return 0;
}

/* Answer the request as conn.c would, and check the head's size. */
static void
respond(const struct http_req *req)
{
	struct evbuffer		*out;
	struct http_resp_head	 h;
	const char		*ct, *reason;
	size_t			 len;

	memset(&h, 0, sizeof(h));
	h.status = req->status != 0 ? req->status : 200;
	h.date = FUZZ_DATE;
	h.keepalive = req->state == HTTP_COMPLETE && req->keepalive;
	h.http10 = req->minor == 0;
	h.body_len = req->body_len;
	if (req->state == HTTP_COMPLETE) {
		/* Client text in the head: lengths must be accounted for. */
		ct = http_req_header(req, "content-type");
		h.content_type = ct;
		h.extra = req->target;
		h.extra_len = req->target_len;
	}
	reason = http_status_reason(h.status);
	CHECK(reason != NULL);
	if ((out = evbuffer_new()) == NULL)
		abort();
	CHECK(http_resp_head_write(out, &h) == 0);
	len = evbuffer_get_length(out);
	/* The space http_resp_head_write() reserves; writing past it overflows. */
	CHECK(len <= 256 + strlen(reason) +
	    (h.content_type ? strlen(h.content_type) : 0) + h.extra_len);
	CHECK(len >= 4);
	evbuffer_free(out);
}

/* Feed one piece; returns 0 to go on, -1 once the stream is lost. */
static int
feed_piece(struct run *r, const char *data, size_t len)
{
	size_t	 n;

	while (len > 0) {
		CHECK(r->req.state != HTTP_COMPLETE &&
		    r->req.state != HTTP_ERROR);
		n = http_req_feed(&r->req, data, len);
		CHECK(n <= len);
		check_common(&r->req);
		switch (r->req.state) {
		case HTTP_ERROR:
			digest_req(r, &r->req);
			respond(&r->req);
			return -1;
		case HTTP_COMPLETE:
			/* No progress here would spin conn.c forever. */
			CHECK(n > 0);
			check_head(&r->req);
			CHECK(r->req.status == 0 || r->req.status == 404);
			CHECK(r->refused || r->req.status == 0);
			if (r->req.body_len > 0)
				CHECK(r->req.body != NULL);
			if (r->refused)
				CHECK(r->req.body_len == 0);
			digest_req(r, &r->req);
			respond(&r->req);
			http_req_reset(&r->req);
			r->refused = 0;
			CHECK(r->req.state == HTTP_IDLE);
			break;
		default:
			/* Unfinished: the parser must have taken it all. */
			CHECK(n == len);
			break;
		}
		data += n;
		len -= n;
	}
	return 0;
}

/*
 * Feed s in pieces ending at cuts[0..ncuts] (the last one is len) into a
 * fresh r, then check the state it ends in. r is left initialised.
 */
static void
run_stream(struct run *r, unsigned cb_mode, const char *s,
    const size_t *cuts, size_t ncuts)
{
	size_t	 i, off, end;

	memset(r, 0, sizeof(*r));
	r->cb_mode = cb_mode;
	r->digest = 0xcbf29ce484222325ULL;
	http_req_init(&r->req, &limits, cb_mode ? headers_cb : NULL, r);
	check_common(&r->req);
	for (i = 0, off = 0; i <= ncuts; i++) {
		end = cuts[i];
		if (end == off)
			continue;
		if (feed_piece(r, s + off, end - off) == -1)
			break;
		off = end;
	}
	check_common(&r->req);
	if (r->req.state == HTTP_BODY)
		check_head(&r->req);
	digest_add(r, &r->req.state, sizeof(r->req.state));
}

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char	 fresh[] = "GET /ok HTTP/1.0\r\n\r\n";
	struct run		 r;
	const char		*s;
	size_t			 len, cuts[3], ncuts;
	unsigned		 mode, npieces;
	uint64_t		 digest;

	if (size < PREFIX)
		return 0;
	mode = data[0];
	npieces = (mode & 3) == 0 ? 1 : (mode & 3);
	s = (const char *)data + PREFIX;
	len = size - PREFIX;

	/* Split points, sorted; empty pieces are skipped, never fed. */
	ncuts = 0;
	if (npieces >= 2)
		cuts[ncuts++] = (data[1] | (size_t)data[2] << 8) % (len + 1);
	if (npieces >= 3)
		cuts[ncuts++] = (data[3] | (size_t)data[4] << 8) % (len + 1);
	if (ncuts == 2 && cuts[0] > cuts[1]) {
		size_t t = cuts[0];

		cuts[0] = cuts[1];
		cuts[1] = t;
	}
	cuts[ncuts] = len;

	/* Whole first, then in pieces: the same story both times. */
	if (ncuts > 0) {
		run_stream(&r, (mode >> 2) & 3, s, &cuts[ncuts], 0);
		digest = r.digest;
		http_req_cleanup(&r.req);
		run_stream(&r, (mode >> 2) & 3, s, cuts, ncuts);
		CHECK(r.digest == digest);
	} else
		run_stream(&r, (mode >> 2) & 3, s, cuts, 0);

	/* After an error, a reset parser takes a fresh request. */
	if ((mode & 0x10) && r.req.state == HTTP_ERROR) {
		http_req_reset(&r.req);
		r.refused = 0;
		r.cb_mode = 1;
		CHECK(http_req_feed(&r.req, fresh, sizeof(fresh) - 1) ==
		    sizeof(fresh) - 1);
		CHECK(r.req.state == HTTP_COMPLETE);
		check_head(&r.req);
		CHECK(strcmp(r.req.path, "/ok") == 0);
	}
	http_req_cleanup(&r.req);
	return 0;
}
