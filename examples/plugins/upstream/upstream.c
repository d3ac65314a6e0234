/*
 * upstream.c - the "upstream" plugin: answer with what another HTTP
 * service answers, called without blocking.
 *
 * The "await httpx.get(url)" case: handle() starts a GET with libevent's
 * HTTP client on the worker's own loop and returns SY_PENDING; the loop
 * serves other connections while the upstream thinks, and the callback
 * that receives the answer finishes the request. One worker holds
 * thousands of such calls at once with no thread each. (The same call
 * made with a blocking client would need a pool thread per call in
 * flight, and on a "nonblocking" route would stop the worker.)
 *
 * The answer is the upstream's status, body and Content-Type. Failures
 * are {"detail": ...}: 502 when the upstream cannot be reached or
 * answers badly (refused, reset, closed early, malformed, too large),
 * 504 when it has not answered within timeout_ms. A client that goes
 * away cancels its upstream call (sy_req_on_abort), as a 504 does: its
 * connection is closed and its memory freed at once.
 *
 * Connections. libevent's evhttp_connection carries one request at a
 * time, so concurrent calls need one connection each. A connection whose
 * call is over goes on a small per-route idle list (the "keepalive" most
 * recently used ones) and the next call reuses it, skipping the TCP
 * handshake and leaving no TIME_WAIT behind; libevent notices an idle one
 * that the upstream closes, and reconnects it when next used. A GET that
 * fails on a reused connection before any answer came (the upstream
 * closed it just as we wrote: the keep-alive race) is retried once on a
 * fresh one, as nginx does for idempotent requests. keepalive 0 opens
 * one connection per call and sends "Connection: close".
 *
 * Everything here runs on the worker's loop thread (SY_HANDLER_LOOP_ONLY:
 * the config refuses a "blocking" route), so the idle list needs no lock.
 * The state is per worker: init() runs in each.
 *
 * args:
 *   "url"             required: "http://host[:port]/path[?query]". The
 *                     host is resolved when the config is loaded (at
 *                     start, -t, and each reload), as nginx does for a
 *                     proxy_pass without a resolver: the loop must never
 *                     wait on DNS. https is refused (no TLS here).
 *   "timeout_ms"      whole-call deadline, connect included (5000)
 *   "forward_query"   append the request's query string to the URL's
 *                     (true)
 *   "keepalive"       idle connections kept per worker (128; 0: none)
 *   "max_body_bytes"  largest upstream body accepted (8388608), else 502
 */
/* getaddrinfo(3), strdup(3), with -std=c11. */
#define _POSIX_C_SOURCE 200809L

#include <sys/types.h>
#include <sys/socket.h>

#include <netdb.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include <jansson.h>

#include "switchyard.h"

#define UP_TIMEOUT_DEFAULT	5000
#define UP_KEEPALIVE_DEFAULT	128
#define UP_KEEPALIVE_MAX	65536
#define UP_BODY_DEFAULT		8388608
#define UP_BODY_MAX		1073741824
#define UP_HEADERS_MAX		65536	/* upstream response header bytes */

/* One route: where to go, and this worker's idle connections. */
struct up_state {
	char			*url;		/* as configured, for messages */
	char			*host;		/* Host: header value */
	char			*addr;		/* numeric, resolved at init */
	unsigned		 port;
	char			*target;	/* path and query, at least "/" */
	int			 has_query;	/* target has a '?' */
	int			 forward_query;
	unsigned long		 timeout_ms;
	unsigned long		 max_body_bytes;
	size_t			 keepalive;	/* idle[] capacity */

	struct event_base	*base;		/* of every connection below */
	struct evhttp_connection **idle;	/* most recently used last */
	size_t			 nidle;
	/*
	 * Connections to free. Never from within libevent's callback of
	 * that very connection (evhttp_connection_done() still uses it
	 * after the callback returns): they wait here for reap_ev.
	 */
	struct evhttp_connection **reap;
	size_t			 nreap, reap_cap;
	struct event		*reap_ev;
};

/* One request's upstream call. */
struct up_call {
	struct sy_req		*req;
	struct up_state		*st;
	struct evhttp_connection *conn;
	struct evhttp_request	*ureq;		/* NULL: libevent is done */
	struct event		*timer;		/* timeout_ms */
	char			*uri;		/* what is asked upstream */
	int			 error;		/* evhttp_request_error + 1 */
	unsigned		 reused:1;	/* conn came from idle[] */
	unsigned		 retried:1;
	unsigned		 in_send:1;	/* inside evhttp_make_request */
	unsigned		 answered:1;	/* completion seen in_send */
	unsigned		 in_handle:1;	/* handle() has not returned */
	unsigned		 ended:1;	/* up_end() ran in handle() */
};

static void	up_settle(struct up_call *, struct evhttp_request *);

/* -- connections ---------------------------------------------------------- */

static void
up_reap_cb(evutil_socket_t fd, short what, void *arg)
{
	struct up_state	*st = arg;

	(void)fd;
	(void)what;
	while (st->nreap > 0)
		evhttp_connection_free(st->reap[--st->nreap]);
}

/* Free conn soon, outside of its own callbacks. */
static void
up_conn_drop(struct up_state *st, struct evhttp_connection *conn)
{
	struct evhttp_connection	**n;
	size_t				  cap;

	if (st->nreap == st->reap_cap) {
		cap = st->reap_cap ? st->reap_cap * 2 : 16;
		if ((n = realloc(st->reap, cap * sizeof(*n))) == NULL) {
			/*
			 * Out of memory: keep it open rather than free it
			 * under libevent's feet. It goes when the worker
			 * does; the upstream's idle timeout closes the socket.
			 */
			return;
		}
		st->reap = n;
		st->reap_cap = cap;
	}
	st->reap[st->nreap++] = conn;
	event_active(st->reap_ev, EV_TIMEOUT, 0);
}

/* A connection for one call: an idle one, else a new one. */
static struct evhttp_connection *
up_conn_get(struct up_state *st, struct event_base *base, int *reused)
{
	struct evhttp_connection	*conn;
	struct timeval			 tv;

	/* The first call of this worker: its base, its reaper. */
	if (st->base == NULL) {
		if ((st->reap_ev = event_new(base, -1, 0, up_reap_cb, st)) ==
		    NULL)
			return NULL;
		st->base = base;
	}
	if (st->nidle > 0) {
		*reused = 1;
		return st->idle[--st->nidle];
	}
	*reused = 0;
	if ((conn = evhttp_connection_base_new(base, NULL, st->addr,
	    (unsigned short)st->port)) == NULL)
		return NULL;
	/*
	 * libevent's own connect, read and write timeouts: a second later
	 * than the call's timer, which decides (504), so that libevent's
	 * (502 for a connect) never wins the race. They also close an idle
	 * connection that long unused.
	 */
	tv.tv_sec = (time_t)(st->timeout_ms / 1000 + 1);
	tv.tv_usec = (suseconds_t)(st->timeout_ms % 1000) * 1000;
	evhttp_connection_set_timeout_tv(conn, &tv);
	/* No libevent retries: a refused connect is a 502 now, not in 2 s. */
	evhttp_connection_set_retries(conn, 0);
	evhttp_connection_set_max_body_size(conn, (ev_ssize_t)st->max_body_bytes);
	evhttp_connection_set_max_headers_size(conn, UP_HEADERS_MAX);
	return conn;
}

/* A call is over with conn: keep it for the next, or let it go. */
static void
up_conn_put(struct up_state *st, struct evhttp_connection *conn)
{
	if (st->nidle < st->keepalive) {
		st->idle[st->nidle++] = conn;
		return;
	}
	up_conn_drop(st, conn);
}

/* -- a call --------------------------------------------------------------- */

/*
 * The end of a call: answer status/detail (0: the response is filled
 * already, or not wanted), give back the connection, and finish the
 * request, unless handle() is still running, which then returns SY_DONE.
 */
static void
up_end(struct up_call *c, int status, const char *detail)
{
	struct sy_req	*req = c->req;

	if (status != 0)
		(void)sy_resp_error(req, status, detail);
	if (c->conn != NULL)
		up_conn_put(c->st, c->conn);
	c->conn = NULL;
	if (c->timer != NULL)
		event_free(c->timer);
	c->timer = NULL;
	free(c->uri);
	c->uri = NULL;
	if (c->in_handle) {
		c->ended = 1;
		return;
	}
	free(c);
	sy_req_finish(req);
}

/* libevent: why the request failed; up_done_cb(NULL) comes next. */
static void
up_error_cb(enum evhttp_request_error error, void *arg)
{
	struct up_call	*c = arg;

	c->error = (int)error + 1;
}

/*
 * libevent: the answer, or the end of a failure: req is NULL after
 * up_error_cb, or has no status when the connect failed.
 */
static void
up_done_cb(struct evhttp_request *ureq, void *arg)
{
	struct up_call	*c = arg;

	c->ureq = NULL;		/* libevent frees it when we return */
	if (c->in_send) {
		/*
		 * From inside evhttp_make_request(): a connect that failed at
		 * once (no answer to copy). up_send()'s caller settles.
		 */
		c->answered = 1;
		return;
	}
	up_settle(c, ureq);
}

/*
 * Send c->uri on c->conn. Returns 0 when it is under way or already over
 * (c->answered), -1 when it could not be sent.
 */
static int
up_send(struct up_call *c)
{
	struct up_state		*st = c->st;
	struct evkeyvalq	*h;
	const char		*accept;

	if ((c->ureq = evhttp_request_new(up_done_cb, c)) == NULL)
		return -1;
	evhttp_request_set_error_cb(c->ureq, up_error_cb);
	h = evhttp_request_get_output_headers(c->ureq);
	accept = sy_req_header(c->req, "Accept");
	if (evhttp_add_header(h, "Host", st->host) == -1 ||
	    (accept != NULL && evhttp_add_header(h, "Accept", accept) == -1) ||
	    (st->keepalive == 0 &&
	    evhttp_add_header(h, "Connection", "close") == -1)) {
		evhttp_request_free(c->ureq);
		c->ureq = NULL;
		return -1;
	}
	c->error = 0;
	c->answered = 0;
	c->in_send = 1;
	/*
	 * On failure libevent has freed the request (its strdup failed) or
	 * dropped it from the connection (a bind(2) failure, impossible
	 * without a local address): either way it is no longer ours.
	 */
	if (evhttp_make_request(c->conn, c->ureq, EVHTTP_REQ_GET,
	    c->uri) == -1) {
		c->in_send = 0;
		c->ureq = NULL;
		return -1;
	}
	c->in_send = 0;
	return 0;
}

/* Copy the upstream's answer into our response. */
static void
up_answer(struct up_call *c, struct evhttp_request *ureq)
{
	struct evbuffer		*in = evhttp_request_get_input_buffer(ureq);
	struct evbuffer_iovec	*v;
	const char		*ctype;
	int			 i, n;

	sy_resp_status(c->req, evhttp_request_get_response_code(ureq));
	ctype = evhttp_find_header(evhttp_request_get_input_headers(ureq),
	    "Content-Type");
	if (ctype != NULL)
		sy_resp_content_type(c->req, ctype);
	/* Chunk by chunk: no pullup into one block first. */
	if ((n = evbuffer_peek(in, -1, NULL, NULL, 0)) <= 0)
		return;
	if ((v = calloc((size_t)n, sizeof(*v))) == NULL) {
		(void)sy_resp_error(c->req, 502, "out of memory");
		return;
	}
	n = evbuffer_peek(in, -1, NULL, v, n);
	for (i = 0; i < n; i++)
		if (sy_resp_body(c->req, v[i].iov_base, v[i].iov_len) == -1) {
			(void)sy_resp_error(c->req, 502, "out of memory");
			break;
		}
	free(v);
}

/* A completion: answer, retry once, or fail. */
static void
up_settle(struct up_call *c, struct evhttp_request *ureq)
{
	char	 msg[256];
	int	 error = c->error - 1;

	if (ureq != NULL && evhttp_request_get_response_code(ureq) != 0) {
		up_answer(c, ureq);
		up_end(c, 0, NULL);
		return;
	}
	if (c->error != 0 && error == EVREQ_HTTP_TIMEOUT) {
		(void)snprintf(msg, sizeof(msg), "upstream %s did not answer "
		    "within %lu ms", c->st->url, c->st->timeout_ms);
		up_end(c, 504, msg);
		return;
	}
	/*
	 * Closed before any answer, on a connection that had served a call
	 * already: most likely the upstream closed it while idle just as we
	 * wrote. A GET may be sent again; once, on a fresh connection
	 * (libevent reconnects this one, which it has reset).
	 */
	if (c->error != 0 && error == EVREQ_HTTP_EOF && c->reused &&
	    !c->retried) {
		c->retried = 1;
		c->reused = 0;
		if (up_send(c) == 0) {
			if (c->answered)
				up_settle(c, NULL);	/* refused at once */
			return;
		}
	}
	switch (c->error != 0 ? error : -1) {
	case -1:
		(void)snprintf(msg, sizeof(msg), "upstream %s: cannot "
		    "connect to %s port %u", c->st->url, c->st->addr,
		    c->st->port);
		break;
	case EVREQ_HTTP_EOF:
		(void)snprintf(msg, sizeof(msg), "upstream %s: connection "
		    "closed before a complete answer", c->st->url);
		break;
	case EVREQ_HTTP_INVALID_HEADER:
		(void)snprintf(msg, sizeof(msg), "upstream %s: malformed "
		    "answer", c->st->url);
		break;
	case EVREQ_HTTP_DATA_TOO_LONG:
		(void)snprintf(msg, sizeof(msg), "upstream %s: answer larger "
		    "than max_body_bytes (%lu)", c->st->url,
		    c->st->max_body_bytes);
		break;
	default:
		(void)snprintf(msg, sizeof(msg), "upstream %s: I/O error",
		    c->st->url);
		break;
	}
	up_end(c, 502, msg);
}

/*
 * Stop the upstream request in flight, if any: libevent closes the
 * connection (shutdown(2), then close(2)), which frees our side at once.
 * The upstream sees a FIN; whether it stops working is its business
 * (switchyard reads a FIN after a request as a half-close and finishes).
 */
static void
up_cancel(struct up_call *c)
{
	struct evhttp_request	*ureq = c->ureq;

	if (ureq == NULL)
		return;
	c->ureq = NULL;
	/* Calls up_error_cb (REQUEST_CANCEL) at once, and no up_done_cb. */
	evhttp_cancel_request(ureq);
}

static void
up_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct up_call	*c = arg;
	char		 msg[256];

	(void)fd;
	(void)what;
	up_cancel(c);
	(void)snprintf(msg, sizeof(msg), "upstream %s did not answer within "
	    "%lu ms", c->st->url, c->st->timeout_ms);
	up_end(c, 504, msg);
}

/* The client left (or the handler deadline passed): drop the call. */
static void
up_abort_cb(struct sy_req *req, void *arg)
{
	struct up_call	*c = arg;

	(void)req;
	up_cancel(c);
	up_end(c, 0, NULL);
}

static int
up_handle(struct sy_req *req, void *state)
{
	struct up_state	*st = state;
	struct up_call	*c;
	struct timeval	 tv;
	const char	*m = sy_req_method(req), *q;
	size_t		 len;
	int		 reused;

	/* GET, HEAD too (the server drops the body): a GET upstream. */
	if (strcmp(m, "GET") != 0 && strcmp(m, "HEAD") != 0) {
		if (sy_resp_header(req, "Allow", "GET, HEAD") == -1 ||
		    sy_resp_error(req, 405, "method not allowed") == -1)
			return SY_ERROR;
		return SY_DONE;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return SY_ERROR;
	c->req = req;
	c->st = st;
	q = st->forward_query ? sy_req_query_string(req) : NULL;
	if (q != NULL && *q == '\0')
		q = NULL;
	len = strlen(st->target) + (q != NULL ? strlen(q) + 1 : 0) + 1;
	if ((c->uri = malloc(len)) == NULL)
		goto fail;
	(void)snprintf(c->uri, len, "%s%s%s", st->target,
	    q == NULL ? "" : st->has_query ? "&" : "?", q == NULL ? "" : q);
	if ((c->timer = evtimer_new(sy_req_base(req), up_timeout_cb, c)) ==
	    NULL)
		goto fail;
	if ((c->conn = up_conn_get(st, sy_req_base(req), &reused)) == NULL)
		goto fail;
	c->reused = reused != 0;
	c->in_handle = 1;
	if (up_send(c) == -1) {
		c->in_handle = 0;
		goto fail;
	}
	if (c->answered)
		up_settle(c, NULL);	/* refused inside up_send() */
	c->in_handle = 0;
	if (c->ended) {
		/* Over already (a refused connect): answered, not pending. */
		free(c);
		return SY_DONE;
	}
	tv.tv_sec = (time_t)(st->timeout_ms / 1000);
	tv.tv_usec = (suseconds_t)(st->timeout_ms % 1000) * 1000;
	if (evtimer_add(c->timer, &tv) == -1) {
		up_cancel(c);
		c->in_handle = 1;
		up_end(c, 500, "cannot arm the upstream timer");
		free(c);
		return SY_DONE;
	}
	sy_req_on_abort(req, up_abort_cb, c);
	return SY_PENDING;

fail:
	if (c->conn != NULL)
		up_conn_put(st, c->conn);
	if (c->timer != NULL)
		event_free(c->timer);
	free(c->uri);
	free(c);
	return SY_ERROR;
}

/* -- args ----------------------------------------------------------------- */

/* The numeric address of host (first answer), for evhttp without DNS. */
static int
up_resolve(struct up_state *st, const char *host, char *err, size_t errlen)
{
	struct addrinfo	 hints, *res;
	char		 buf[INET6_ADDRSTRLEN];
	int		 rc;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	if ((rc = getaddrinfo(host, NULL, &hints, &res)) != 0) {
		(void)snprintf(err, errlen, "url: cannot resolve %s: %s", host,
		    gai_strerror(rc));
		return -1;
	}
	rc = getnameinfo(res->ai_addr, res->ai_addrlen, buf, sizeof(buf), NULL,
	    0, NI_NUMERICHOST);
	freeaddrinfo(res);
	if (rc != 0 || (st->addr = strdup(buf)) == NULL) {
		(void)snprintf(err, errlen, "url: cannot resolve %s: %s", host,
		    rc != 0 ? gai_strerror(rc) : "out of memory");
		return -1;
	}
	return 0;
}

static int
up_parse_url(struct up_state *st, const char *url, char *err, size_t errlen)
{
	struct evhttp_uri	*u;
	const char		*scheme, *host, *path, *query;
	char			 hostbuf[300];
	size_t			 len;
	int			 port, rc = -1;

	if ((u = evhttp_uri_parse_with_flags(url, 0)) == NULL) {
		(void)snprintf(err, errlen, "url: not a valid URL");
		return -1;
	}
	scheme = evhttp_uri_get_scheme(u);
	host = evhttp_uri_get_host(u);
	if (scheme != NULL && strcasecmp(scheme, "https") == 0) {
		(void)snprintf(err, errlen, "url: https is not supported "
		    "(plain http only)");
		goto done;
	}
	if (scheme == NULL || strcasecmp(scheme, "http") != 0 ||
	    host == NULL || *host == '\0') {
		(void)snprintf(err, errlen, "url: must be "
		    "http://host[:port]/path");
		goto done;
	}
	if (evhttp_uri_get_userinfo(u) != NULL ||
	    evhttp_uri_get_fragment(u) != NULL) {
		(void)snprintf(err, errlen, "url: no user@ or #fragment");
		goto done;
	}
	if ((port = evhttp_uri_get_port(u)) == -1)
		port = 80;
	if (port <= 0 || port > 65535) {
		(void)snprintf(err, errlen, "url: port out of range 1..65535");
		goto done;
	}
	st->port = (unsigned)port;
	/* An IPv6 literal comes bracketed: connect without, Host: with. */
	len = strlen(host);
	if (len >= sizeof(hostbuf) - 8) {
		(void)snprintf(err, errlen, "url: host name too long");
		goto done;
	}
	if (host[0] == '[' && host[len - 1] == ']') {
		memcpy(hostbuf, host + 1, len - 2);
		hostbuf[len - 2] = '\0';
	} else
		memcpy(hostbuf, host, len + 1);
	if (up_resolve(st, hostbuf, err, errlen) == -1)
		goto done;
	if (port == 80)
		(void)snprintf(hostbuf, sizeof(hostbuf), "%s", host);
	else
		(void)snprintf(hostbuf, sizeof(hostbuf), "%s:%d", host, port);
	path = evhttp_uri_get_path(u);
	query = evhttp_uri_get_query(u);
	if (path == NULL || *path == '\0')
		path = "/";
	len = strlen(path) + (query != NULL ? strlen(query) + 1 : 0) + 1;
	if ((st->host = strdup(hostbuf)) == NULL ||
	    (st->url = strdup(url)) == NULL ||
	    (st->target = malloc(len)) == NULL) {
		(void)snprintf(err, errlen, "out of memory");
		goto done;
	}
	(void)snprintf(st->target, len, "%s%s%s", path, query ? "?" : "",
	    query ? query : "");
	st->has_query = query != NULL;
	rc = 0;

done:
	evhttp_uri_free(u);
	return rc;
}

static void
up_free(void *state)
{
	struct up_state	*st = state;

	if (st == NULL)
		return;
	/* Only in a process that served: needs its base, still alive. */
	while (st->nidle > 0)
		evhttp_connection_free(st->idle[--st->nidle]);
	while (st->nreap > 0)
		evhttp_connection_free(st->reap[--st->nreap]);
	if (st->reap_ev != NULL)
		event_free(st->reap_ev);
	free(st->reap);
	free(st->idle);
	free(st->url);
	free(st->host);
	free(st->addr);
	free(st->target);
	free(st);
}

static int
up_init(const json_t *args, void **state, char *err, size_t errlen)
{
	static const char *const known[] = { "url", "timeout_ms",
	    "forward_query", "keepalive", "max_body_bytes", NULL };
	static const char *const required[] = { "url", NULL };
	struct up_state	*st;
	const json_t	*v;
	unsigned long	 keepalive = UP_KEEPALIVE_DEFAULT;

	if (sy_args_keys(args, known, required, err, errlen) == -1)
		return -1;
	v = json_object_get(args, "url");
	if (!json_is_string(v)) {
		(void)snprintf(err, errlen, "url: must be a string");
		return -1;
	}
	if ((st = calloc(1, sizeof(*st))) == NULL) {
		(void)snprintf(err, errlen, "out of memory");
		return -1;
	}
	st->timeout_ms = UP_TIMEOUT_DEFAULT;
	st->max_body_bytes = UP_BODY_DEFAULT;
	st->forward_query = 1;
	if ((v = json_object_get(args, "forward_query")) != NULL) {
		if (!json_is_boolean(v)) {
			(void)snprintf(err, errlen, "forward_query: must be "
			    "true or false");
			goto fail;
		}
		st->forward_query = json_is_true(v);
	}
	if (sy_args_uint(args, "timeout_ms", 0, 1, 3600000, &st->timeout_ms,
	    err, errlen) == -1 ||
	    sy_args_uint(args, "keepalive", 0, 0, UP_KEEPALIVE_MAX,
	    &keepalive, err, errlen) == -1 ||
	    sy_args_uint(args, "max_body_bytes", 0, 0, UP_BODY_MAX,
	    &st->max_body_bytes, err, errlen) == -1)
		goto fail;
	st->keepalive = keepalive;
	if (up_parse_url(st, json_string_value(json_object_get(args, "url")),
	    err, errlen) == -1)
		goto fail;
	if (keepalive > 0 && (st->idle = calloc(keepalive,
	    sizeof(*st->idle))) == NULL) {
		(void)snprintf(err, errlen, "out of memory");
		goto fail;
	}
	*state = st;
	return 0;

fail:
	up_free(st);
	return -1;
}

static const struct sy_handler up_handler = {
	.abi = SY_ABI_VERSION,
	.name = "upstream",
	.flags = SY_HANDLER_LOOP_ONLY,	/* libevent objects of the loop */
	.init = up_init,
	.free = up_free,
	.handle = up_handle,
};

/* The symbol the server looks up after dlopen(). */
#ifdef SY_PLUGIN
SY_PLUGIN(&up_handler);
#else
__attribute__((visibility("default")))
const struct sy_handler *const sy_plugin_handlers[] = { &up_handler, NULL };
#endif
