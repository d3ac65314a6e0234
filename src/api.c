/*
 * api.c - request accessors and response builders for handlers.
 *
 * These run on whichever thread runs the handler, so they touch only the
 * sy_req itself; evbuffers are safe there because one request's buffers
 * are used by one thread at a time (the loop hands the request to a pool
 * thread and takes it back).
 */
#include "autoconfig.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <event2/buffer.h>

#include "api.h"
#include "args.h"
#include "compress.h"
#include "xmalloc.h"

int
api_req_init(struct sy_req *req, struct event_base *base, struct pool *pool,
    api_done_cb done_cb, void *done_arg)
{
	memset(req, 0, sizeof(*req));
	req->base = base;
	req->pool = pool;
	req->done_cb = done_cb;
	req->done_arg = done_arg;
	if ((req->body = evbuffer_new()) == NULL ||
	    (req->coded = evbuffer_new()) == NULL)
		return -1;
	/*
	 * File segments added to a buffer that drains to a socket stay
	 * files, sent with sendfile(2); in any other buffer libevent maps
	 * them at once.
	 */
	(void)evbuffer_set_flags(req->body, EVBUFFER_FLAG_DRAINS_TO_FD);
	return 0;
}

void
api_req_cleanup(struct sy_req *req)
{
	if (req->body != NULL)
		evbuffer_free(req->body);
	if (req->coded != NULL)
		evbuffer_free(req->coded);
	req->body = req->coded = NULL;
	free(req->files);
	req->files = NULL;
	req->nfiles = req->files_size = 0;
	api_req_answered(req);
}

/* The body is no longer a reference (gone, or moved into req->body). */
static void
body_ref_drop(struct sy_req *req)
{
	req->body_ref = NULL;
	req->body_ref_len = 0;
}

void
api_req_answered(struct sy_req *req)
{
	free(req->headers);
	req->headers = NULL;
	req->headers_len = 0;
	body_ref_drop(req);
}

void
api_req_start(struct sy_req *req, const struct http_req *http,
    const struct config_route *route)
{
	req->http = http;
	req->route = route;
	req->status = 200;
	req->content_type[0] = '\0';
	req->headers_len = 0;
	req->pending = 0;
	req->offloading = 0;
	atomic_store(&req->aborted, 0);
	req->abort_cb = NULL;
	req->abort_arg = NULL;
	req->mode = STATS_MODE_LOOP;
	/*
	 * No pool job yet: the times of the connection's previous one must
	 * not pass for this request's (access log queue wait, histograms).
	 */
	req->job.submit_ns = req->job.start_ns = req->job.end_ns = 0;
	/* The body was moved to the connection's output: it is empty. */
	req->nfiles = 0;
	body_ref_drop(req);
}

int
sy_args_keys(const json_t *args, const char *const *known,
    const char *const *required, char *err, size_t errlen)
{
	/* Presence first: a missing key is the likelier mistake. */
	if (args_required(args, required, "", err, errlen) == -1)
		return -1;
	return args_check_keys(args, known, "", err, errlen);
}

/*
 * args[key], or 0 when absent (-1 with "KEY: required" when it must be
 * there): what every sy_args_TYPE() starts with.
 */
static int
args_get(const json_t *args, const char *key, int required, json_t **v,
    char *err, size_t errlen)
{
	const char *const	 want[] = { key, NULL };

	if ((*v = args != NULL ? json_object_get(args, key) : NULL) != NULL)
		return 1;
	return required ? args_required(args, want, "", err, errlen) : 0;
}

int
sy_args_uint(const json_t *args, const char *key, int required,
    unsigned long min, unsigned long max, unsigned long *value, char *err,
    size_t errlen)
{
	json_t		*v;
	json_int_t	 n;
	int		 rc;

	if ((rc = args_get(args, key, required, &v, err, errlen)) != 1)
		return rc;
	/* JSON integers are signed 64-bit: a larger bound cannot matter. */
	if (args_int(v, key, min > LLONG_MAX ? LLONG_MAX : (json_int_t)min,
	    max > LLONG_MAX ? LLONG_MAX : (json_int_t)max, 0, &n, err,
	    errlen) == -1)
		return -1;
	*value = (unsigned long)n;
	return 1;
}

int
sy_args_string(const json_t *args, const char *key, int required,
    const char **value, char *err, size_t errlen)
{
	json_t	*v;
	int	 rc;

	if ((rc = args_get(args, key, required, &v, err, errlen)) != 1)
		return rc;
	return args_string(v, key, value, err, errlen) == -1 ? -1 : 1;
}

int
sy_args_bool(const json_t *args, const char *key, int required, int *value,
    char *err, size_t errlen)
{
	json_t	*v;
	int	 rc;

	if ((rc = args_get(args, key, required, &v, err, errlen)) != 1)
		return rc;
	return args_bool(v, key, value, err, errlen) == -1 ? -1 : 1;
}

const char *
sy_req_method(const struct sy_req *req)
{
	return req->http->method;
}

const char *
sy_req_path(const struct sy_req *req)
{
	return req->http->path;
}

const char *
sy_req_query_string(const struct sy_req *req)
{
	return req->http->query;
}

static int
hexval(int c)
{
	/* Not isxdigit(): the locale has no say in a URL. */
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

ssize_t
sy_url_decode(const char *src, size_t len, char *dst, size_t dstsize,
    int flags)
{
	size_t	 i, n = 0;
	int	 hi, lo;

	for (i = 0; i < len; i++, n++) {
		if (n + 1 >= dstsize)
			return -1;
		if (src[i] == '%') {
			if (len - i < 3 ||
			    (hi = hexval((unsigned char)src[i + 1])) == -1 ||
			    (lo = hexval((unsigned char)src[i + 2])) == -1 ||
			    ((hi | lo) == 0 && (flags & SY_URL_NONUL)))
				return -1;
			dst[n] = (char)(hi << 4 | lo);
			i += 2;
		} else if (src[i] == '+' && (flags & SY_URL_PLUS))
			dst[n] = ' ';
		else
			dst[n] = src[i];
	}
	if (n >= dstsize)
		return -1;
	dst[n] = '\0';
	return (ssize_t)n;
}

ssize_t
sy_req_query(const struct sy_req *req, const char *name, char *buf,
    size_t bufsize)
{
	const char	*q = req->http->query, *end, *eq, *v;
	size_t		 name_len = strlen(name);
	ssize_t		 n;

	if (q == NULL || bufsize == 0)
		return -1;
	while (*q != '\0') {
		if ((end = strchr(q, '&')) == NULL)
			end = q + strlen(q);
		eq = memchr(q, '=', (size_t)(end - q));
		if (eq == NULL)
			eq = end;
		if ((size_t)(eq - q) == name_len &&
		    memcmp(q, name, name_len) == 0) {
			v = eq == end ? end : eq + 1;
			n = sy_url_decode(v, (size_t)(end - v), buf, bufsize,
			    SY_URL_PLUS);
			return n == -1 ? -2 : n;
		}
		q = *end == '&' ? end + 1 : end;
	}
	return -1;
}

int
sy_req_query_uint(const struct sy_req *req, const char *name,
    unsigned long min, unsigned long max, unsigned long *value)
{
	char		 buf[24], *end;
	unsigned long	 n;
	ssize_t		 len;

	if ((len = sy_req_query(req, name, buf, sizeof(buf))) == -1)
		return 0;
	/* strtoul takes "-1" and " 1": digits only. */
	if (len <= 0 || buf[0] < '0' || buf[0] > '9')
		return -1;
	errno = 0;
	n = strtoul(buf, &end, 10);
	if (errno != 0 || *end != '\0' || n < min || n > max)
		return -1;
	*value = n;
	return 1;
}

const char *
sy_req_header(const struct sy_req *req, const char *name)
{
	return http_req_header(req->http, name);
}

int
sy_req_accepts_encoding(const struct sy_req *req, const char *coding)
{
	const char	*v = http_req_header(req->http, "Accept-Encoding");

	return v != NULL && compress_accepts(v, strlen(v), coding);
}

const void *
sy_req_body(const struct sy_req *req, size_t *len)
{
	*len = req->http->body_len;
	return req->http->body != NULL ? req->http->body : "";
}

const char *
sy_req_route(const struct sy_req *req)
{
	return req->route->path;
}

const char *
sy_req_id(const struct sy_req *req)
{
	return req->id;
}

const char *
sy_req_client(const struct sy_req *req)
{
	return req->client != NULL && req->client[0] != '\0' ? req->client :
	    "-";
}

struct event_base *
sy_req_base(const struct sy_req *req)
{
	return req->base;
}

int
sy_req_aborted(const struct sy_req *req)
{
	return atomic_load(&req->aborted);
}

void
sy_resp_status(struct sy_req *req, int status)
{
	if (status >= 100 && status <= 999)
		req->status = status;
}

/* Header names the server owns: a handler's copy would break framing. */
static int
reserved(const char *name)
{
	static const char *const names[] = {
		"content-length", "transfer-encoding", "connection", "date",
		"server", "content-type", "x-request-id"
	};
	size_t	 i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcasecmp(name, names[i]) == 0)
			return 1;
	return 0;
}

static int
token_ok(const char *s)
{
	/* RFC 9110 tchar, the characters a field name may use. */
	static const char	 extra[] = "!#$%&'*+-.^_`|~";

	if (*s == '\0')
		return 0;
	for (; *s != '\0'; s++)
		if (!isalnum((unsigned char)*s) && strchr(extra, *s) == NULL)
			return 0;
	return 1;
}

/* The length of s, or -1 when it is max bytes or more, or no field value. */
static ssize_t
value_len(const char *s, size_t max)
{
	size_t	 len = strlen(s);

	/* Controls break the framing; bytes >= 0x80 (UTF-8) are fine. */
	if (len >= max || !http_value_ok(s, len))
		return -1;
	return (ssize_t)len;
}

int
sy_resp_header(struct sy_req *req, const char *name, const char *value)
{
	size_t	 nlen;
	ssize_t	 vlen;

	if (!token_ok(name) || (vlen = value_len(value, API_HEADERS_MAX)) < 0 ||
	    reserved(name))
		return -1;
	nlen = strlen(name);
	if (req->headers_len + nlen + (size_t)vlen + 4 > API_HEADERS_MAX)
		return -1;
	/* Most answers have none: room is made at the first. */
	if (req->headers == NULL &&
	    (req->headers = malloc(API_HEADERS_MAX)) == NULL)
		return -1;
	memcpy(req->headers + req->headers_len, name, nlen);
	req->headers_len += nlen;
	memcpy(req->headers + req->headers_len, ": ", 2);
	req->headers_len += 2;
	memcpy(req->headers + req->headers_len, value, (size_t)vlen);
	req->headers_len += (size_t)vlen;
	memcpy(req->headers + req->headers_len, "\r\n", 2);
	req->headers_len += 2;
	return 0;
}

void
sy_resp_content_type(struct sy_req *req, const char *type)
{
	ssize_t	 len;

	/* Most handlers call this on every request: one pass, one copy. */
	if ((len = value_len(type, sizeof(req->content_type))) >= 0)
		memcpy(req->content_type, type, (size_t)len + 1);
}

size_t
api_resp_body_len(const struct sy_req *req)
{
	/* With a reference, body is empty. */
	return req->body_ref != NULL ? req->body_ref_len :
	    evbuffer_get_length(req->body);
}

struct evbuffer *
api_resp_body(struct sy_req *req)
{
	if (req->body_ref != NULL) {
		if (evbuffer_add_reference(req->body, req->body_ref,
		    req->body_ref_len, NULL, NULL) == -1)
			return NULL;
		body_ref_drop(req);
	}
	return req->body;
}

int
sy_resp_body(struct sy_req *req, const void *data, size_t len)
{
	struct evbuffer	*body;

	if ((body = api_resp_body(req)) == NULL)
		return -1;
	return evbuffer_add(body, data, len);
}

int
sy_resp_body_static(struct sy_req *req, const void *data, size_t len)
{
	struct evbuffer	*body;

	if (len == 0)
		return 0;
	/*
	 * The whole body so far: a pointer, no chain to allocate and free
	 * (a chain per request was a malloc/free pair per /hello).
	 */
	if (req->body_ref == NULL && evbuffer_get_length(req->body) == 0) {
		req->body_ref = data;
		req->body_ref_len = len;
		return 0;
	}
	if ((body = api_resp_body(req)) == NULL)
		return -1;
	return evbuffer_add_reference(body, data, len, NULL, NULL);
}

int
sy_resp_printf(struct sy_req *req, const char *fmt, ...)
{
	struct evbuffer	*body;
	va_list		 ap;
	int		 n;

	if ((body = api_resp_body(req)) == NULL)
		return -1;
	va_start(ap, fmt);
	n = evbuffer_add_vprintf(body, fmt, ap);
	va_end(ap);
	return n < 0 ? -1 : 0;
}

/* json_dump_callback sink: straight into the body, no temporary string. */
static int
dump_cb(const char *buf, size_t len, void *arg)
{
	return evbuffer_add(arg, buf, len);
}

int
sy_resp_json(struct sy_req *req, int status, json_t *json)
{
	struct evbuffer	*body;
	int		 rc;

	if (json == NULL)
		return -1;
	if ((body = api_resp_body(req)) == NULL) {
		json_decref(json);
		return -1;
	}
	sy_resp_status(req, status);
	sy_resp_content_type(req, "application/json");
	/* 9 digits: "0.00209295", not "0.0020929500000000001". */
	rc = json_dump_callback(json, dump_cb, body,
	    JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(9));
	json_decref(json);
	return rc;
}

int
sy_resp_error(struct sy_req *req, int status, const char *message)
{
	evbuffer_drain(req->body, evbuffer_get_length(req->body));
	body_ref_drop(req);
	req->nfiles = 0;
	return sy_resp_json(req, status, json_pack("{s:s}", "detail", message));
}

void
sy_req_finish(struct sy_req *req)
{
	req->pending = 0;
	req->abort_cb = NULL;
	api_resp_encode(req);
	req->done_cb(req, req->done_arg);
}

void
sy_req_on_abort(struct sy_req *req, sy_abort_fn cb, void *arg)
{
	req->abort_cb = cb;
	req->abort_arg = arg;
}

void
api_req_abort(struct sy_req *req)
{
	sy_abort_fn	 cb = req->abort_cb;

	atomic_store(&req->aborted, 1);
	/*
	 * A pool thread's handler polls sy_req_aborted() instead; one whose
	 * work is offloaded learns it in done(), which must still come
	 * (finishing here would free req under the pool job).
	 */
	if (!req->pending || req->offloading || cb == NULL)
		return;
	req->abort_cb = NULL;
	cb(req, req->abort_arg);
}

struct evbuffer_file_segment *
api_file_share(int fd)
{
	struct evbuffer_file_segment	*seg;

	/*
	 * A segment, not evbuffer_add_file(): the same call covers HEAD
	 * (drained unsent) and keeps the fd's life tied to the buffer.
	 */
	if ((seg = evbuffer_file_segment_new(fd, 0, -1,
	    EVBUF_FS_CLOSE_ON_FREE)) == NULL)
		(void)close(fd);
	return seg;
}

void
api_file_unshare(struct evbuffer_file_segment *seg)
{
	evbuffer_file_segment_free(seg);
}

int
api_resp_file_piece(struct sy_req *req, struct evbuffer_file_segment *seg,
    int fd, off_t offset, off_t length)
{
	struct evbuffer	*body;
	size_t		 at;
	int		 rc;

	if ((body = api_resp_body(req)) == NULL)
		return -1;
	at = evbuffer_get_length(body);
	rc = evbuffer_add_file_segment(body, seg, offset, length);
	if (rc == 0 && evbuffer_get_length(body) > at) {
		if (req->nfiles == req->files_size) {
			req->files_size = req->files_size ? req->files_size * 2 : 2;
			req->files = xreallocarray(req->files, req->files_size,
			    sizeof(*req->files));
		}
		/* What was added: a length of -1 means "to the end". */
		req->files[req->nfiles++] = (struct api_file){ .at = at,
		    .offset = offset, .length = (off_t)(evbuffer_get_length(
		    body) - at), .fd = fd };
	}
	return rc;
}

int
sy_resp_file(struct sy_req *req, int fd, off_t offset, off_t length)
{
	struct evbuffer_file_segment	*seg;
	int				 rc;

	if ((seg = api_file_share(fd)) == NULL)
		return -1;
	rc = api_resp_file_piece(req, seg, fd, offset, length);
	api_file_unshare(seg);		/* the buffer holds a reference */
	return rc;
}

/*
 * The value of the handler's header name, up to its CRLF (*len), or
 * NULL when it set none.
 */
static const char *
resp_header(const struct sy_req *req, const char *name, size_t *len)
{
	const char	*p = req->headers, *end = req->headers + req->headers_len;
	const char	*eol;
	size_t		 nlen = strlen(name);

	for (; p < end; p = eol + 2) {
		/* sy_resp_header() wrote each line, CRLF-terminated. */
		eol = memchr(p, '\r', (size_t)(end - p));
		if (eol == NULL)
			break;
		if ((size_t)(eol - p) > nlen + 1 && p[nlen] == ':' &&
		    strncasecmp(p, name, nlen) == 0) {
			p += nlen + 2;
			*len = (size_t)(eol - p);
			return p;
		}
	}
	return NULL;
}

/* Does a Vary the handler set already name Accept-Encoding? */
static int
varies_by_encoding(const struct sy_req *req)
{
	const char	*v;
	size_t		 len, i;

	if ((v = resp_header(req, "Vary", &len)) == NULL)
		return 0;
	for (i = 0; i + 15 <= len; i++)
		if (strncasecmp(v + i, "accept-encoding", 15) == 0)
			return 1;
	return len == 1 && v[0] == '*';
}

/*
 * The gzip form is not byte-for-byte the identity one: a strong ETag the
 * handler set becomes weak, as nginx's gzip filter makes it (RFC 9110
 * 8.8.1). The caller made room for the "W/".
 */
static void
etag_weaken(struct sy_req *req)
{
	const char	*v;
	size_t		 len, at;

	if ((v = resp_header(req, "ETag", &len)) == NULL || *v != '"')
		return;
	at = (size_t)(v - req->headers);
	memmove(req->headers + at + 2, req->headers + at,
	    req->headers_len - at);
	memcpy(req->headers + at, "W/", 2);
	req->headers_len += 2;
}

#define API_CODED_HEADER	"Content-Encoding: gzip\r\n"

void
api_resp_encode(struct sy_req *req)
{
	struct evbuffer	*body;
	const char	*ae;
	size_t		 len;
	int		 status = req->status;

	if (req->route == NULL || !req->route->compress)
		return;
	/* A cache must know the answer depends on it, coded or not. */
	if (!varies_by_encoding(req) &&
	    sy_resp_header(req, "Vary", "Accept-Encoding") == -1)
		return;
	if (req->http->head || status < 200 || status == 204 ||
	    status == 206 || status == 304 || req->nfiles > 0 ||
	    atomic_load(&req->aborted) ||
	    api_resp_body_len(req) < COMPRESS_MIN_BYTES ||
	    !compress_type_ok(req->content_type) ||
	    resp_header(req, "Content-Encoding", &len) != NULL ||
	    (ae = http_req_header(req->http, "Accept-Encoding")) == NULL ||
	    !compress_accepts(ae, strlen(ae), "gzip"))
		return;
	/*
	 * Identity it stays when anything fails: still a right answer. So
	 * room for the new header and a "W/" first, then nothing can fail
	 * once the body is coded.
	 */
	if (req->headers == NULL ||	/* the Vary above allocated it */
	    req->headers_len + sizeof(API_CODED_HEADER) - 1 + 2 >
	    API_HEADERS_MAX || (body = api_resp_body(req)) == NULL ||
	    compress_gzip(body, req->coded) == -1)
		return;
	memcpy(req->headers + req->headers_len, API_CODED_HEADER,
	    sizeof(API_CODED_HEADER) - 1);
	req->headers_len += sizeof(API_CODED_HEADER) - 1;
	etag_weaken(req);
	(void)evbuffer_drain(body, evbuffer_get_length(body));
	/* Moves the chains: no copy. */
	(void)evbuffer_add_buffer(body, req->coded);
}

struct sy_req *
api_req_of_job(struct pool_job *job)
{
	return (struct sy_req *)(void *)((char *)job -
	    offsetof(struct sy_req, job));
}

/* Pool thread: the offloaded function, nothing else. */
static void
offload_work_cb(struct pool_job *job)
{
	struct sy_req	*req = api_req_of_job(job);
	unsigned	 si = req->route->stats_index;

	/* Set before the job was queued; the loop leaves them alone. */
	stats_running_begin(req->stats_cell, si, 0);
	req->offload_work(req->offload_arg);
	stats_running_end(req->stats_cell, si, 0);
}

/* Loop thread: hand the request back to its handler. */
static void
offload_done_cb(struct pool_job *job)
{
	struct sy_req	*req = api_req_of_job(job);

	req->offloading = 0;
	if (job->state == POOL_JOB_DROPPED)
		atomic_store(&req->aborted, 1);	/* work() never ran */
	req->offload_done(req, req->offload_arg);
}

int
sy_offload(struct sy_req *req, sy_offload_fn work, sy_offload_done_fn done,
    void *arg)
{
	req->offload_work = work;
	req->offload_done = done;
	req->offload_arg = arg;
	req->job.work = offload_work_cb;
	req->job.done = offload_done_cb;
	if (pool_submit(req->pool, &req->job) == -1) {
		/* The handler answers 503; the pool's refusals count it. */
		if (errno == EAGAIN && req->stats_slot != NULL)
			atomic_fetch_add_explicit(&req->stats_slot->rejected_503,
			    1, memory_order_relaxed);
		return -1;
	}
	req->mode = STATS_MODE_OFFLOAD;
	req->offloading = 1;
	return 0;
}
