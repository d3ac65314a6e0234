/*
 * conn.c - one client connection.
 *
 * Design note. A connection is in one of four states:
 *
 *   ACTIVE     parsing: waiting for a request or reading one.
 *   HANDLING   the handler runs in the pool or returned SY_PENDING on
 *              the loop; input waits (pipelining) and the handler's
 *              completion brings us back. Past timeouts.handler_ms the
 *              client gets a 504 and the connection closes once the
 *              handler lets go of its request.
 *   LINGERING  an error was answered before the request was fully read:
 *              our side is shut down and input is discarded until the
 *              client closes or the linger time is up, so the client reads
 *              the answer instead of a reset.
 *   CLOSED     the socket is gone. A connection closed while HANDLING
 *              (an orphan) stays allocated until its handler finishes,
 *              because the handler still holds its sy_req; it still
 *              counts against max_connections, so clients that leave
 *              cannot pile up work the worker no longer sees.
 *
 * Memory. A connection between requests is small: its socket, two
 * events and the peer's address (struct conn). Everything a request
 * needs (the parser, the handler's sy_req, input read ahead, output not
 * yet written: struct conn_rq) is taken at the request's first byte from
 * a per-worker spare list, and given back once its answer has gone and
 * nothing more is buffered. So 10,000 idle keep-alive connections cost
 * what nginx's do, and a keep-alive request allocates nothing. Input is
 * read into one buffer per worker and parsed there; only what a read
 * brings beyond what can be parsed now (pipelined requests while a
 * handler runs, a partial PROXY header) is kept, in the request's input.
 *
 * One timer follows what the connection waits for (enum conn_wait): the
 * next request (keep-alive), the rest of the header, the body, the
 * handler, the linger. It is re-armed only when that changes, which is
 * tracked explicitly, never by comparing durations. The keep-alive
 * deadline is the exception that makes keep-alive cheap: a request read
 * and answered within one callback leaves it armed, and when it fires it
 * is pushed back by the time since the last answer (conn_timer_cb()), so
 * the timer moves once per keep-alive period, not once per request.
 * While an answer is still going out, the client is what we wait for:
 * the timer is off and the write event's timeout (timeouts.send_ms) runs
 * instead, restarted by every write that makes progress, so a slow
 * reader gets a large file whole however long it takes, and one that
 * stops reading is dropped.
 *
 * End of input (the client's FIN) means "no more requests", not "gone":
 * the request in flight and every complete request already buffered are
 * still answered, then the connection closes. Only a reset or a failed
 * write is an abort.
 *
 * Responses are appended to the request's output: head and body in one
 * buffer, written with one writev(2) (sendfile(2) for file segments) as
 * soon as the callback that made them is done, so all pipelined answers
 * of one read leave together and the usual case needs no EPOLLOUT round
 * trip. The usual answer (plain, alone, its body in memory) skips the
 * buffer and its chains: its head is formatted into the request's own
 * buffer and goes with the body, from where the handler left it, in one
 * writev(2); an answer behind it, or a short write, puts it in the output
 * after all (conn_direct(), conn_out()). When the output holds more than
 * CONN_OUTPUT_MAX bytes or CONN_QUEUED_MAX answers (a client pipelining
 * faster than it reads) parsing stops until it drains: the count bounds
 * what small answers can hold that bytes do not show, such as the open
 * file of each static one.
 */
#include "autoconfig.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/event_struct.h>

#include "clock.h"
#include "accesslog.h"
#include "api.h"
#include "config.h"
#include "client.h"
#include "conn.h"
#include "date.h"
#include "dispatch.h"
#include "http.h"
#include "listener.h"
#include "log.h"
#include "reqid.h"
#include "router.h"
#include "stats.h"
#include "tls.h"
#include "xmalloc.h"

#define CONN_OUTPUT_MAX		(256 * 1024)	/* pause parsing above */
#define CONN_QUEUED_MAX		32		/* answers, the same */
#define CONN_INPUT_MAX		(64 * 1024)	/* read at most this ahead */
#define CONN_READ_SIZE		16384		/* one recv(2) */
#define CONN_LINGER_MS		2000
#define CONN_PROXY_MS		3000	/* the PROXY header (capped: header_ms) */
#define CONN_TLS_RECORD		16384	/* plaintext of one TLS record */
#define CONN_SPARE		128	/* spare conns and requests kept */
#define CONN_DIRECT_SIZE	4096	/* a direct answer's head, body copy */
#define CONN_DIRECT_COPY	1024	/* bodies copied there, at most */

enum conn_state {
	CONN_ACTIVE,
	CONN_HANDLING,
	CONN_LINGERING,
	CONN_CLOSED
};

/* What the timer is armed for. */
enum conn_wait {
	CONN_WAIT_NONE,		/* not armed: a new phase re-arms */
	CONN_WAIT_PROXY,	/* the PROXY header, before any request */
	CONN_WAIT_HANDSHAKE,	/* the TLS handshake, before any request */
	CONN_WAIT_SEND,		/* not armed: the write timeout runs */
	CONN_WAIT_KEEPALIVE,	/* the next request's first byte */
	CONN_WAIT_HEADER,	/* the rest of the header section */
	CONN_WAIT_BODY,		/* the rest of the body */
	CONN_WAIT_HANDLER,	/* the handler's answer */
	CONN_WAIT_LINGER	/* the client's close after an error */
};

/* A request, from its first byte until its answer has gone. */
struct conn_rq {
	struct conn_rq		*next;		/* on env->spare_rq */
	struct http_req		 http;
	struct sy_req		 req;
	struct evbuffer		*in;		/* read, not yet parsed */
	struct evbuffer		*out;		/* answers not yet written */
	/*
	 * The last answer, kept out of out while out is empty and the
	 * answer is plain and in memory: its head and a small body copied
	 * in direct[], a body of one sy_resp_body_static() by reference.
	 * conn_flush() writes it from there with one writev(2), no libevent
	 * chain to allocate and free. An answer queued behind it, or what
	 * a short write leaves of it, moves it into out (conn_out()).
	 */
	size_t			 direct_len;	/* bytes in direct[]; 0: none */
	size_t			 direct_off;	/* of them, written */
	const char		*direct_ref;	/* the static body, after them */
	size_t			 direct_ref_len;
	char			 direct[CONN_DIRECT_SIZE];
	/*
	 * TLS: the file segments in out, each at its position in the
	 * stream of bytes written (out_sent counts them), from
	 * files[files_head]; conn_tls_next() reads them.
	 */
	struct api_file		*files;
	size_t			 nfiles, files_head, files_size;
	size_t			 out_sent;
	const struct config_route *route;
	unsigned		 allowed;	/* Allow methods for a 405 */
	struct timespec		 start;		/* first byte of the request */
	char			 client[64];	/* X-Forwarded-For's */
};

struct conn {
	TAILQ_ENTRY(conn)	 entry;		/* env->conns, orphans, spare */
	struct conn_env		*env;
	struct conn_rq		*rq;		/* NULL between requests */
	struct tls		*tls;		/* NULL: plain */
	struct event		*wev;		/* waits to write (TLS: either
						   way); made when first needed */
	struct event		 rev;		/* reads: see conn_read_cb */
	struct event		 timer;
	evutil_socket_t		 fd;		/* -1 once closed */
	unsigned char		 state;		/* enum conn_state */
	unsigned char		 wait;		/* enum conn_wait: timer's */
	unsigned		 close_after_write:1;
	unsigned		 linger:1;	/* shut down, then drain input */
	unsigned		 write_blocked:1;	/* output over the max */
	unsigned		 in_env:1;	/* on env->conns */
	unsigned		 reading:1;	/* rev is added */
	unsigned		 timed_out:1;	/* 504 sent, handler still busy */
	unsigned		 read_eof:1;	/* the client sent all it will */
	unsigned		 proxy_wait:1;	/* a PROXY header comes first */
	unsigned		 handshaking:1;	/* TLS handshake not done */
	unsigned		 tls_read_blocked:1;	/* SSL_read wants to write */
	unsigned		 queued;	/* answers in the output */
	unsigned		 requests;	/* answered on this connection */
	uint64_t		 answered_ms;	/* the last answer, monotonic */
	char			 peer[64];	/* the socket's peer, or PROXY's */
	union {					/* the same, for trusted_proxies */
		struct sockaddr		sa;
		struct sockaddr_in	sin;
		struct sockaddr_in6	sin6;
	}			 peer_sa;
};

/*
 * Input is read here and parsed in place: a connection keeps only what
 * could not be parsed yet (conn_keep_input()). One per worker: the loop
 * is its only reader.
 */
static char	conn_rbuf[CONN_READ_SIZE];

static void	conn_process(struct conn *);
static void	conn_process_end(struct conn *);
static void	conn_flush(struct conn *);
static void	conn_tls_flush(struct conn *);
static void	conn_wait_cb(evutil_socket_t, short, void *);
static void	conn_finish_cb(struct sy_req *, void *);
static int	conn_headers_cb(struct http_req *, void *);

static void
conn_gauge(struct conn_env *env)
{
	atomic_store_explicit(&env->stats_cell->connections, env->nconns,
	    memory_order_relaxed);
}

static size_t
conn_out_len(const struct conn *c)
{
	const struct conn_rq	*rq = c->rq;

	return rq != NULL ? evbuffer_get_length(rq->out) + rq->direct_len -
	    rq->direct_off + rq->direct_ref_len : 0;
}

/*
 * The request's output, with its direct answer moved in, for whatever
 * must come after that answer: NULL when out of memory (what could not be
 * moved stays direct, behind out, and still goes in order).
 */
static struct evbuffer *
conn_out(struct conn_rq *rq)
{
	if (rq->direct_len > 0) {
		if (evbuffer_add(rq->out, rq->direct + rq->direct_off,
		    rq->direct_len - rq->direct_off) == -1)
			return NULL;
		rq->direct_len = rq->direct_off = 0;
	}
	if (rq->direct_ref_len > 0) {
		if (evbuffer_add_reference(rq->out, rq->direct_ref,
		    rq->direct_ref_len, NULL, NULL) == -1)
			return NULL;
		rq->direct_ref = NULL;
		rq->direct_ref_len = 0;
	}
	return rq->out;
}

static enum http_state
conn_http_state(const struct conn *c)
{
	return c->rq != NULL ? c->rq->http.state : HTTP_IDLE;
}

static void
conn_rq_free(struct conn_rq *rq)
{
	http_req_cleanup(&rq->http);
	api_req_cleanup(&rq->req);
	if (rq->in != NULL)
		evbuffer_free(rq->in);
	if (rq->out != NULL)
		evbuffer_free(rq->out);
	free(rq->files);
	free(rq);
}

/*
 * c's request state, from the spare list or new: 0, or -1 when out of
 * memory. Its parser and sy_req are ready for a request.
 */
static int
conn_rq_get(struct conn *c)
{
	struct conn_env	*env = c->env;
	struct conn_rq	*rq;

	if ((rq = env->spare_rq) != NULL) {
		env->spare_rq = rq->next;
		env->nspare_rq--;
	} else {
		if ((rq = calloc(1, sizeof(*rq))) == NULL)
			return -1;
		http_req_init(&rq->http, &env->conf->limits, conn_headers_cb,
		    NULL);
		if (api_req_init(&rq->req, env->base, env->pool,
		    conn_finish_cb, NULL) == -1 ||
		    (rq->in = evbuffer_new()) == NULL ||
		    (rq->out = evbuffer_new()) == NULL) {
			conn_rq_free(rq);
			return -1;
		}
		/* File segments stay files, for sendfile(2). */
		(void)evbuffer_set_flags(rq->out, EVBUFFER_FLAG_DRAINS_TO_FD);
		rq->req.stats_slot = env->stats_slot;
		rq->req.stats_cell = env->stats_cell;
	}
	rq->next = NULL;
	rq->http.cb_arg = c;
	rq->req.done_arg = c;
	rq->req.client = c->peer;
	c->rq = rq;
	return 0;
}

/* Give c's request state back: nothing of it is in use. */
static void
conn_rq_put(struct conn *c)
{
	struct conn_env	*env = c->env;
	struct conn_rq	*rq = c->rq;

	c->rq = NULL;
	/* The head buffers go back to their own spares, in any case. */
	http_req_reset(&rq->http);
	api_req_answered(&rq->req);
	rq->route = NULL;
	rq->allowed = 0;
	rq->nfiles = rq->files_head = rq->out_sent = 0;
	/* A closed one's. */
	rq->direct_len = rq->direct_off = rq->direct_ref_len = 0;
	rq->direct_ref = NULL;
	rq->req.id[0] = '\0';
	if (env->nspare_rq >= CONN_SPARE || evbuffer_get_length(rq->in) > 0 ||
	    evbuffer_get_length(rq->out) > 0 ||
	    evbuffer_get_length(rq->req.body) > 0) {
		conn_rq_free(rq);	/* a closed connection's leftovers */
		return;
	}
	rq->next = env->spare_rq;
	env->spare_rq = rq;
	env->nspare_rq++;
}

/*
 * Between requests, once the last answer has gone: the request state
 * goes back to the spares (an idle connection holds only struct conn).
 */
static void
conn_idle(struct conn *c)
{
	if (c->rq != NULL && c->state == CONN_ACTIVE &&
	    c->rq->http.state == HTTP_IDLE && !c->close_after_write &&
	    !c->write_blocked && !c->timed_out && !c->proxy_wait &&
	    evbuffer_get_length(c->rq->in) == 0 && conn_out_len(c) == 0)
		conn_rq_put(c);
}

/* Free c (its socket is closed already) and give its slot back. */
static void
conn_free(struct conn *c)
{
	struct conn_env	*env = c->env;

	if (c->rq != NULL)
		conn_rq_put(c);
	if (c->wev != NULL)
		event_free(c->wev);
	c->wev = NULL;
	tls_free(c->tls);
	c->tls = NULL;
	/* The events are deleted: a spare is assigned again by conn_new(). */
	if (env->nspare_conns < CONN_SPARE) {
		TAILQ_INSERT_HEAD(&env->spare_conns, c, entry);
		env->nspare_conns++;
	} else
		free(c);
	env->nconns--;
	conn_gauge(env);
	if (env->closed_cb != NULL)
		env->closed_cb(env->closed_arg);
}

/* Unlink c from the open connections. */
static void
conn_detach(struct conn *c)
{
	if (!c->in_env)
		return;
	TAILQ_REMOVE(&c->env->conns, c, entry);
	c->in_env = 0;
}

/* Watch the socket for input, or stop. */
static void
conn_reading(struct conn *c, int on)
{
	if (c->reading == (unsigned)on || c->fd == -1 ||
	    (on && c->tls_read_blocked))
		return;		/* conn_tls_read_unblock() turns it on */
	if (on) {
		event_add(&c->rev, NULL);
		/* Input OpenSSL read ahead while reading was paused. */
		if (c->tls != NULL && !c->handshaking && tls_pending(c->tls))
			event_active(&c->rev, EV_READ, 1);
	} else
		event_del(&c->rev);
	c->reading = on;
}

void
conn_close(struct conn *c, const char *reason)
{
	if (c->state == CONN_CLOSED)
		return;
	log_debug("%s: %s: %s", __func__, c->peer, reason);
	/* Also a read made active by hand (conn_tls_cb). */
	event_del(&c->rev);
	c->reading = 0;
	if (c->wev != NULL)
		event_del(c->wev);
	if (c->tls != NULL)
		tls_shutdown(c->tls);	/* close_notify, if it can go */
	(void)close(c->fd);
	c->fd = -1;
	evtimer_del(&c->timer);
	c->wait = CONN_WAIT_NONE;
	conn_detach(c);
	if (c->state == CONN_HANDLING &&
	    dispatch_cancel(c->env->dispatch, &c->rq->req) == -1) {
		/*
		 * The handler holds the request: free when it finishes.
		 * Until then c still counts against max_connections. What
		 * the client sent beyond this request is nobody's now.
		 */
		struct conn_env	*env = c->env;

		c->state = CONN_CLOSED;
		TAILQ_INSERT_TAIL(&env->orphans, c, entry);
		env->norphans++;
		evbuffer_drain(c->rq->in, evbuffer_get_length(c->rq->in));
		api_req_abort(&c->rq->req);	/* may finish and free c */
		/* One client fewer to wait for: a drain may be over. */
		if (env->closed_cb != NULL)
			env->closed_cb(env->closed_arg);
		return;
	}
	c->state = CONN_CLOSED;
	conn_free(c);
}

/* What the connection waits for now. */
static enum conn_wait
conn_waiting_for(const struct conn *c)
{
	/* A 504 is on its way: only its sending is left to time. */
	if (c->timed_out)
		return CONN_WAIT_SEND;
	if (c->proxy_wait && c->state == CONN_ACTIVE)
		return CONN_WAIT_PROXY;
	if (c->handshaking && c->state == CONN_ACTIVE)
		return CONN_WAIT_HANDSHAKE;
	switch (c->state) {
	case CONN_HANDLING:
		return CONN_WAIT_HANDLER;
	case CONN_LINGERING:
		return CONN_WAIT_LINGER;
	case CONN_ACTIVE:
		break;
	default:
		return CONN_WAIT_NONE;
	}
	/*
	 * Nothing more to read, or reading held back until the client
	 * reads: the write timeout is the only one that applies.
	 */
	if (c->close_after_write || c->write_blocked || c->read_eof)
		return CONN_WAIT_SEND;
	switch (conn_http_state(c)) {
	case HTTP_IDLE:
		/* An answer still going out: the client is reading it. */
		if (conn_out_len(c) > 0)
			return CONN_WAIT_SEND;
		/* A new connection gets the header timeout for its first. */
		return c->requests == 0 ? CONN_WAIT_HEADER :
		    CONN_WAIT_KEEPALIVE;
	case HTTP_HEADERS:
		return CONN_WAIT_HEADER;
	case HTTP_BODY:
		return CONN_WAIT_BODY;
	default:
		return CONN_WAIT_NONE;	/* in passing: answered at once */
	}
}

/*
 * Arm the timer for what the connection waits for, if that changed: the
 * same phase keeps its deadline (re-arming would extend it), a new one
 * gets a fresh one even when the durations are equal.
 */
static void
conn_timer_update(struct conn *c)
{
	struct conn_env		*env = c->env;
	const struct timeval	*tv;
	enum conn_wait		 wait = conn_waiting_for(c);

	if (wait == c->wait || wait == CONN_WAIT_NONE)
		return;
	c->wait = wait;
	switch (wait) {
	case CONN_WAIT_PROXY:
		tv = env->tv_proxy;
		break;
	case CONN_WAIT_KEEPALIVE:
		tv = env->tv_keepalive;
		break;
	case CONN_WAIT_HANDSHAKE:	/* the client's first bytes, as HEADER */
	case CONN_WAIT_HEADER:
		tv = env->tv_header;
		break;
	case CONN_WAIT_BODY:
		tv = env->tv_body;
		break;
	case CONN_WAIT_HANDLER:
		tv = env->tv_handler;
		break;
	case CONN_WAIT_LINGER:
		tv = env->tv_linger;
		break;
	default:
		evtimer_del(&c->timer);
		return;
	}
	evtimer_add(&c->timer, tv);
}

/*
 * The one place an answer is counted and logged: its route, mode, code
 * and time in the shared stats, and its access log line; the same clock
 * reading is the keep-alive's last answer (c->answered_ms). job_times: the
 * pool job's times are ours to read (not while a handler still runs the
 * request, as for the 504 of a job that would not stop).
 */
static void
conn_account(struct conn *c, int status, size_t body_bytes, time_t now,
    int job_times)
{
	struct conn_env		*env = c->env;
	const struct conn_rq	*rq = c->rq;
	const struct sy_req	*r = &rq->req;
	struct stats_route_hot	*sr;
	struct accesslog_entry	 e;
	struct timespec		 t;
	double			 duration;
	int			 ran = job_times && r->mode != STATS_MODE_LOOP &&
				    r->job.start_ns != 0;

	clock_now(&t);
	duration = (double)(t.tv_sec - rq->start.tv_sec) +
	    (double)(t.tv_nsec - rq->start.tv_nsec) / 1e9;
	c->answered_ms = (uint64_t)t.tv_sec * 1000u +
	    (uint64_t)t.tv_nsec / 1000000u;
	sr = stats_route_hot(env->stats, env->stats_slot,
	    rq->route != NULL ? rq->route->stats_index : 0);
	atomic_fetch_add_explicit(&sr->requests[r->mode][stats_code_index(
	    status)], 1, memory_order_relaxed);
	stats_hist_add(&sr->duration, duration);
	if (ran) {
		stats_hist_add(&env->stats_slot->queue_wait,
		    (double)(r->job.start_ns - r->job.submit_ns) / 1e9);
		stats_hist_add(&env->stats_slot->run_time,
		    (double)(r->job.end_ns - r->job.start_ns) / 1e9);
	}
	if (env->alog == NULL)
		return;
	e.peer = r->client;
	e.http = &rq->http;	/* the connection's; a handler only reads it */
	e.status = status;
	e.body_bytes = rq->http.head ? 0 : body_bytes;
	e.duration_s = duration;
	e.mode = stats_mode_name[r->mode];
	e.queue_wait_s = ran && r->job.start_ns > r->job.submit_ns ?
	    (double)(r->job.start_ns - r->job.submit_ns) / 1e9 : 0;
	e.now = now;
	e.request_id = r->id;
	e.route = rq->route != NULL ? rq->route->path : NULL;
	accesslog_write(env->alog, &e);
}

/*
 * Over TLS: note where the file segments of the body will be once it is
 * appended to the output, which holds out_len bytes now.
 */
static void
conn_tls_files(struct conn_rq *rq, size_t out_len)
{
	const struct sy_req	*r = &rq->req;
	size_t			 i;

	if (rq->files_head == rq->nfiles)
		rq->files_head = rq->nfiles = 0;
	if (rq->nfiles + r->nfiles > rq->files_size) {
		rq->files_size = rq->nfiles + r->nfiles + 4;
		rq->files = xreallocarray(rq->files, rq->files_size,
		    sizeof(*rq->files));
	}
	for (i = 0; i < r->nfiles; i++) {
		rq->files[rq->nfiles] = r->files[i];
		rq->files[rq->nfiles++].at += rq->out_sent + out_len;
	}
}

/*
 * The answer is plain, in memory, and nothing waits to go before it: its
 * head goes into direct[] and its body stays where it is, a static
 * reference, or is copied behind the head when small (cheaper than a
 * chain). 0 when it cannot be so (then it goes into out).
 */
static int
conn_direct(struct conn *c, const struct http_resp_head *head, int nobody)
{
	struct conn_rq	*rq = c->rq;
	struct sy_req	*r = &rq->req;
	size_t		 copy, n;

	if (c->tls != NULL || r->nfiles > 0 || rq->direct_len > 0 ||
	    rq->direct_ref_len > 0 || evbuffer_get_length(rq->out) > 0)
		return 0;
	copy = nobody || r->body_ref != NULL ? 0 : head->body_len;
	if (copy > CONN_DIRECT_COPY || (n = http_resp_head_format(rq->direct,
	    sizeof(rq->direct) - copy, head)) == 0)
		return 0;
	if (nobody)
		;			/* conn_respond() drops the body */
	else if (r->body_ref != NULL) {
		rq->direct_ref = r->body_ref;
		rq->direct_ref_len = r->body_ref_len;
	} else if (copy > 0) {
		(void)evbuffer_remove(r->body, rq->direct + n, copy);
		n += copy;
	}
	rq->direct_len = n;
	return 1;
}

/* Write the response in the request's sy_req; ready for the next one. */
static void
conn_respond(struct conn *c)
{
	struct conn_env		*env = c->env;
	struct conn_rq		*rq = c->rq;
	struct sy_req		*r = &rq->req;
	struct evbuffer		*out;
	struct http_resp_head	 head;
	struct timeval		 now;
	int			 keepalive, nobody;

	/* After a FIN, the last buffered request's answer says close. */
	keepalive = rq->http.state == HTTP_COMPLETE && rq->http.keepalive &&
	    !env->draining && env->conf->timeouts.keepalive_ms > 0 &&
	    !(c->read_eof && evbuffer_get_length(rq->in) == 0);
	head.status = r->status;
	head.content_type = r->content_type[0] ? r->content_type : NULL;
	head.extra = r->headers;
	head.extra_len = r->headers_len;
	head.body_len = api_resp_body_len(r);
	/* The loop's cached clock: no system call per response. */
	(void)event_base_gettimeofday_cached(env->base, &now);
	head.date = date_format(now.tv_sec);
	head.keepalive = keepalive;
	head.http10 = rq->http.minor == 0;
	head.request_id = r->id;
	/* HEAD, and statuses without a body (their head has no length). */
	nobody = rq->http.head || head.status < 200 || head.status == 204 ||
	    head.status == 304;
	if (conn_direct(c, &head, nobody))
		;
	else if ((out = conn_out(rq)) == NULL ||
	    http_resp_head_write(out, &head) == -1) {
		/* Out of memory: end the connection once the output drains. */
		c->close_after_write = 1;
		c->linger = 0;
		conn_reading(c, 0);
		return;
	} else if (!nobody) {
		if (c->tls != NULL)
			conn_tls_files(rq, evbuffer_get_length(out));
		if (r->body_ref != NULL ? evbuffer_add_reference(out,
		    r->body_ref, r->body_ref_len, NULL, NULL) == -1 :
		    evbuffer_add_buffer(out, r->body) == -1)
			keepalive = 0;	/* cut short: the close says so */
	}
	/* What was not moved is dropped (the reference with the rest). */
	if (r->body_ref == NULL && evbuffer_get_length(r->body) > 0)
		evbuffer_drain(r->body, evbuffer_get_length(r->body));
	r->nfiles = 0;

	conn_account(c, head.status, head.body_len, now.tv_sec, 1);

	c->queued++;
	r->id[0] = '\0';		/* the next request gets its own */
	api_req_answered(r);
	c->requests++;
	rq->route = NULL;
	rq->allowed = 0;
	r->client = c->peer;		/* until the next one's headers say */
	c->state = CONN_ACTIVE;
	/*
	 * That request's deadline is over. A keep-alive wait that is still
	 * armed (the request came whole in one read) stays so: its timer
	 * counts from c->answered_ms when it fires (conn_timer_cb()).
	 */
	if (c->wait != CONN_WAIT_KEEPALIVE)
		c->wait = CONN_WAIT_NONE;
	if (!keepalive) {
		/* Nothing more is read; conn_written() closes. */
		c->close_after_write = 1;
		c->linger = rq->http.state == HTTP_ERROR;
		conn_reading(c, 0);
		return;
	}
	http_req_reset(&rq->http);
}

/*
 * Start the request's sy_req. Its id, chosen once per request: the
 * client's X-Request-Id when valid, else a new one. An error answered
 * before the head was complete takes the client's id if its field was
 * read whole, and a new one for bytes that never made a request.
 */
static void
conn_req_start(struct conn *c)
{
	struct conn_rq	*rq = c->rq;
	const char	*v;

	api_req_start(&rq->req, &rq->http, rq->route);
	if (rq->req.id[0] != '\0')
		return;			/* a 504 for a job taken back */
	if ((v = rq->http.request_id) == NULL ||
	    reqid_copy(rq->req.id, v) == -1)
		reqid_next(&c->env->reqid, rq->req.id);
}

/*
 * Answer status with a FastAPI-style error body: the parser's verdict
 * (its status: 400, 413, ...; 404 and 405 from routing) or the
 * connection's own (408, 504). The parser's state is only read here.
 */
static void
conn_answer_status(struct conn *c, int status)
{
	char	 allow[80];

	conn_req_start(c);
	if (status == 405)
		(void)sy_resp_header(&c->rq->req, "Allow",
		    config_methods_format(c->rq->allowed, allow,
		    sizeof(allow)));
	(void)sy_resp_error(&c->rq->req, status, http_status_reason(status));
	conn_respond(c);
}

/* A whole request is in: run its handler. */
static void
conn_handle(struct conn *c)
{
	struct conn_env	*env = c->env;

	if (c->rq->http.status != 0) {		/* 404, 405 from routing */
		conn_answer_status(c, c->rq->http.status);
		return;
	}
	conn_req_start(c);
	if (dispatch_run(env->dispatch, &c->rq->req) == SY_PENDING) {
		c->state = CONN_HANDLING;	/* conn_flush() arms the timer */
		return;
	}
	conn_respond(c);
}

/* sy_req_finish(): a pending handler is done (loop thread). */
static void
conn_finish_cb(struct sy_req *req, void *arg)
{
	struct conn	*c = arg;
	struct conn_env	*env = c->env;

	(void)req;
	if (c->state == CONN_CLOSED) {
		/* The client left while the handler ran; drop the answer. */
		TAILQ_REMOVE(&env->orphans, c, entry);
		env->norphans--;
		conn_free(c);
		return;
	}
	c->state = CONN_ACTIVE;
	evtimer_del(&c->timer);
	c->wait = CONN_WAIT_NONE;
	if (c->timed_out) {
		/* The 504 went out instead; close once it has been sent. */
		if (conn_out_len(c) == 0)
			conn_close(c, "handler finished after its deadline");
		return;
	}
	conn_respond(c);
	conn_process(c);		/* pipelined requests, then flush */
}

/* A PROXY listener's connection without a valid header: never served. */
static void
conn_proxy_refused(struct conn *c, const char *why)
{
	atomic_fetch_add_explicit(&c->env->stats_slot->proxy_refused, 1,
	    memory_order_relaxed);
	log_warnx_limited("%s: connection closed: %s (the listener expects "
	    "the PROXY protocol)", c->peer, why);
	conn_close(c, why);
}

/*
 * The PROXY header, on a listener that asks for one, before any HTTP, at
 * the start of the len bytes at b: 1 once read (*used is its length; the
 * client address is the one it carries), 0 when more is needed, -1 when
 * the connection was closed for a bad one.
 */
static int
conn_proxy(struct conn *c, const unsigned char *b, size_t len, size_t *used)
{
	struct sockaddr_storage	 ss;
	socklen_t		 sslen;
	ssize_t			 n;

	if (len > CLIENT_PROXY_MAX)
		len = CLIENT_PROXY_MAX;
	if ((n = client_proxy_parse(b, len, &ss, &sslen)) == 0) {
		if (len < CLIENT_PROXY_MAX)
			return 0;
		n = -1;
	}
	if (n < 0) {
		conn_proxy_refused(c, "invalid PROXY header");
		return -1;
	}
	*used = (size_t)n;
	c->proxy_wait = 0;
	c->wait = CONN_WAIT_NONE;	/* the request's own deadline now */
	/* LOCAL and UNKNOWN name nobody: the balancer itself. */
	if (ss.ss_family != AF_UNSPEC) {
		if ((size_t)sslen <= sizeof(c->peer_sa))
			memcpy(&c->peer_sa, &ss, (size_t)sslen);
		else
			c->peer_sa.sa.sa_family = ss.ss_family;
		(void)listener_format_host((struct sockaddr *)&ss, c->peer,
		    sizeof(c->peer));
	}
	return 1;
}

/*
 * The request's client: from a trusted proxy, what its X-Forwarded-For
 * (or Forwarded) says; otherwise the peer. Headers from anyone else are
 * left alone for addressing: they must not choose their logged address.
 */
static void
conn_forwarded(struct conn *c)
{
	const struct config	*conf = c->env->conf;
	const struct http_req	*h = &c->rq->http;
	struct sockaddr_storage	 ss;
	const char		*xff[16], *fwd[16];
	size_t			 nxff = 0, nfwd = 0;
	unsigned		 i;

	c->rq->req.client = c->peer;
	if (conf->ntrusted == 0 || !client_cidr_match(conf->trusted,
	    conf->ntrusted, (struct sockaddr *)&c->peer_sa))
		return;
	/*
	 * The last 16 of each: the proxy's own entries come last (a client
	 * could otherwise push them out with 16 headers of its own).
	 */
	for (i = 0; i < h->nheaders; i++) {
		if (h->headers[i].name_len == 15 &&
		    strcasecmp(h->headers[i].name, "x-forwarded-for") == 0) {
			if (nxff == 16)
				memmove(xff, xff + 1, 15 * sizeof(*xff));
			xff[nxff < 16 ? nxff++ : 15] = h->headers[i].value;
		} else if (h->headers[i].name_len == 9 &&
		    strcasecmp(h->headers[i].name, "forwarded") == 0) {
			if (nfwd == 16)
				memmove(fwd, fwd + 1, 15 * sizeof(*fwd));
			fwd[nfwd < 16 ? nfwd++ : 15] = h->headers[i].value;
		}
	}
	if ((nxff > 0 || nfwd > 0) && client_forwarded(xff, nxff, fwd, nfwd,
	    conf->trusted, conf->ntrusted, &ss)) {
		(void)listener_format_host((struct sockaddr *)&ss, c->rq->client,
		    sizeof(c->rq->client));
		c->rq->req.client = c->rq->client;
	}
}
/* Routing, once the headers are in: 0, or the status to answer. */
static int
conn_headers_cb(struct http_req *http, void *arg)
{
	static const char	 cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
	struct conn		*c = arg;
	struct conn_rq		*rq = c->rq;
	struct evbuffer		*out;

	conn_forwarded(c);
	rq->route = router_match(c->env->router,
	    config_method_bit(http->method), http->path, http->path_len,
	    &rq->allowed);
	if (rq->route == NULL)
		return rq->allowed ? 405 : 404;
	/* Behind the answers before it: conn_out(). */
	if (http->expect_continue && (out = conn_out(rq)) != NULL)
		(void)evbuffer_add(out, cont, sizeof(cont) - 1);
	return 0;
}

/*
 * Parse the len bytes at p and answer every complete request, as long as
 * the connection may go on: *used says how many were taken. -1 when c
 * was closed (and is gone).
 */
static int
conn_parse(struct conn *c, const char *p, size_t len, size_t *used)
{
	struct conn_rq	*rq;
	size_t		 n;

	*used = 0;
	if (c->rq == NULL && conn_rq_get(c) == -1) {
		conn_close(c, "out of memory");
		return -1;
	}
	rq = c->rq;
	while (*used < len && c->state == CONN_ACTIVE &&
	    !c->close_after_write) {
		if (evbuffer_get_length(rq->out) > CONN_OUTPUT_MAX ||
		    c->queued >= CONN_QUEUED_MAX) {
			c->write_blocked = 1;	/* conn_written() resumes */
			break;
		}
		if (c->proxy_wait) {
			switch (conn_proxy(c, (const unsigned char *)p + *used,
			    len - *used, &n)) {
			case -1:
				return -1;	/* closed: c is gone */
			case 0:
				return 0;	/* more to come */
			default:
				*used += n;
				continue;	/* what follows it is HTTP */
			}
		}
		if (rq->http.state == HTTP_IDLE)
			clock_now(&rq->start);
		*used += http_req_feed(&rq->http, p + *used, len - *used);
		if (rq->http.state == HTTP_ERROR) {
			log_debug("%s: %s: %d: %s", __func__, c->peer,
			    rq->http.status, rq->http.reason);
			conn_answer_status(c, rq->http.status);
			break;
		}
		if (rq->http.state == HTTP_COMPLETE)
			conn_handle(c);
	}
	return 0;
}

/*
 * Parse what a read brought, in the worker's read buffer, and keep what
 * could not be parsed yet (a request waits for its handler, the output
 * for the client, a PROXY header for its end) in the request's input.
 */
static void
conn_process_read(struct conn *c, const char *p, size_t len)
{
	size_t	 used;

	if (conn_parse(c, p, len, &used) == -1)
		return;
	if (used < len && c->state != CONN_LINGERING &&
	    evbuffer_add(c->rq->in, p + used, len - used) == -1) {
		conn_close(c, "out of memory");
		return;
	}
	conn_process_end(c);
}

/* Parse what the request's input holds, and answer what is complete. */
static void
conn_process(struct conn *c)
{
	struct evbuffer_iovec	 v;
	size_t			 used;

	while (c->rq != NULL && evbuffer_get_length(c->rq->in) > 0) {
		/* A PROXY header is parsed whole: make it one piece. */
		if (c->proxy_wait && evbuffer_pullup(c->rq->in,
		    CLIENT_PROXY_MAX) == NULL && evbuffer_pullup(c->rq->in,
		    -1) == NULL) {
			conn_close(c, "out of memory");
			return;
		}
		if (evbuffer_peek(c->rq->in, -1, NULL, &v, 1) < 1)
			break;
		if (conn_parse(c, v.iov_base, v.iov_len, &used) == -1)
			return;
		evbuffer_drain(c->rq->in, used);
		if (used < v.iov_len)
			break;			/* stopped: not for want of bytes */
	}
	conn_process_end(c);
}

/* After parsing: read on if there is room, and write what was answered. */
static void
conn_process_end(struct conn *c)
{
	/*
	 * Room again after a pause for a full input buffer; and the first
	 * read's connection is watched from now on (conn_new()). While a
	 * handler runs too: its client may leave, or pipeline.
	 */
	if ((c->state == CONN_ACTIVE || c->state == CONN_HANDLING) &&
	    !c->close_after_write &&
	    !c->read_eof && (c->rq == NULL ||
	    evbuffer_get_length(c->rq->in) < CONN_INPUT_MAX))
		conn_reading(c, 1);
	conn_flush(c);			/* and arms the timer */
}

/*
 * The client sent its FIN: no more requests will come, but it may well
 * be waiting for the answers to those it sent (HTTP/1.0 tools, nc -N,
 * proxies that half-close). The one in flight and every complete one
 * buffered are answered (conn_written() closes after the last); only
 * when there is none, or only a partial one, the connection ends now.
 */
static void
conn_eof(struct conn *c)
{
	c->read_eof = 1;
	conn_reading(c, 0);
	if (c->state == CONN_LINGERING ||
	    (c->state == CONN_ACTIVE && !c->write_blocked &&
	    !c->close_after_write && conn_out_len(c) == 0)) {
		conn_close(c, "client closed");
		return;
	}
	conn_timer_update(c);
}

/*
 * The transport, the one place besides conn_flush() that knows whether
 * the connection is TLS: up to len bytes of the client's input into buf.
 * The plain one says EAGAIN as TLS_WANT_READ, so both read alike.
 */
static enum tls_status
conn_recv(struct conn *c, void *buf, size_t len, size_t *n)
{
	ssize_t	 r;

	if (c->tls != NULL)
		return tls_read(c->tls, buf, len, n);
	if ((r = recv(c->fd, buf, len, 0)) == -1)
		return errno == EAGAIN || errno == EINTR ? TLS_WANT_READ :
		    TLS_ERROR;
	if (r == 0)
		return TLS_EOF;
	*n = (size_t)r;
	return TLS_OK;
}

/* Why the transport failed, for the log. */
static const char *
conn_io_error(const struct conn *c, int err)
{
	return c->tls != NULL ? tls_error(c->tls) : strerror(err);
}

static void	conn_tls_handshake(struct conn *);
static int	conn_wait(struct conn *, short, int);

/*
 * Input: a plain recv(2), not libevent's evbuffer_read(), which asks the
 * kernel how much is readable (ioctl FIONREAD) before every read, one
 * system call per request for nothing. Into the worker's read buffer, or
 * behind what the request's input already holds. While that holds
 * CONN_INPUT_MAX unparsed bytes (a handler is running, pipelined requests
 * wait) reading pauses. Over TLS the same, with SSL_read() in place of
 * recv(2) (conn_recv()).
 */
static void
conn_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn		*c = arg;
	struct evbuffer_iovec	 v;
	enum tls_status		 st;
	size_t			 n = 0;
	int			 kept;

	(void)fd;
	(void)what;
	if (c->state == CONN_CLOSED)
		return;		/* made active by hand before the close */
	if (c->handshaking) {
		conn_tls_handshake(c);
		return;
	}
	kept = c->rq != NULL && evbuffer_get_length(c->rq->in) > 0 &&
	    c->state != CONN_LINGERING;
	if (!kept) {
		v.iov_base = conn_rbuf;
		v.iov_len = sizeof(conn_rbuf);
	} else if (evbuffer_reserve_space(c->rq->in, CONN_READ_SIZE, &v,
	    1) < 1) {
		conn_close(c, "out of memory");
		return;
	}
	switch ((st = conn_recv(c, v.iov_base, v.iov_len, &n))) {
	case TLS_OK:
		break;
	case TLS_WANT_READ:
		c->env->read_missed = 1;	/* for conn_new() */
		conn_reading(c, 1);	/* on already, but after conn_new() */
		return;
	case TLS_WANT_WRITE:
		/*
		 * A TLS message to answer first: read again once it went.
		 * Until then the socket's readability means nothing to us
		 * (a level-triggered read would spin on it).
		 */
		c->tls_read_blocked = 1;
		conn_reading(c, 0);
		conn_wait(c, EV_WRITE, 0);
		return;
	case TLS_EOF:
		conn_eof(c);
		return;
	default:
		conn_close(c, conn_io_error(c, errno));
		return;
	}
	/*
	 * A read returns one record at most, and OpenSSL reads ahead: what
	 * it holds, the socket will not announce. Read again from the loop.
	 */
	if (c->tls != NULL && c->reading && tls_pending(c->tls))
		event_active(&c->rev, EV_READ, 1);
	if (c->state == CONN_LINGERING)
		return;			/* what we refused: dropped */
	if (!kept) {
		conn_process_read(c, conn_rbuf, n);
		return;
	}
	v.iov_len = n;
	(void)evbuffer_commit_space(c->rq->in, &v, 1);
	if (evbuffer_get_length(c->rq->in) >= CONN_INPUT_MAX)
		conn_reading(c, 0);
	conn_process(c);
}

/*
 * Wait for the socket to become what (EV_READ or EV_WRITE): an answer
 * that did not fit, or over TLS the handshake's messages, a record that
 * did not fit, or the answer to a message of the client's. Writing keeps
 * one rule for timeouts.send_ms: the deadline restarts only after
 * progress. -1 when c was closed (out of memory).
 */
static int
conn_wait(struct conn *c, short what, int progress)
{
	short	 pending = 0;

	if (c->wev == NULL) {
		c->wev = event_new(c->env->base, c->fd, what, conn_wait_cb, c);
		if (c->wev == NULL) {
			conn_close(c, "out of memory");
			return -1;
		}
	} else
		pending = event_pending(c->wev, EV_READ | EV_WRITE, NULL);
	if (pending != 0 && (pending | what) == pending && !progress)
		return 0;	/* the same wait: its deadline stands */
	event_del(c->wev);
	(void)event_assign(c->wev, c->env->base, c->fd, pending | what,
	    conn_wait_cb, c);
	/* During the handshake, its own deadline (the timer) runs. */
	(void)event_add(c->wev, c->handshaking ? NULL : &c->env->tv_send);
	return 0;
}

/*
 * The write a blocked SSL_read() needed has gone: watch the socket
 * again and read once from the loop (c may be gone below the caller).
 */
static void
conn_tls_read_unblock(struct conn *c)
{
	if (!c->tls_read_blocked)
		return;
	c->tls_read_blocked = 0;
	conn_reading(c, 1);
	event_active(&c->rev, EV_READ, 1);
}

static void
conn_wait_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn	*c = arg;

	(void)fd;
	if (what & EV_TIMEOUT) {
		conn_close(c, "send timeout");
		return;
	}
	if (c->handshaking) {
		conn_tls_handshake(c);
		return;
	}
	conn_tls_read_unblock(c);
	conn_flush(c);
}

/* Close a connection whose handshake failed: quietly, but counted. */
static void
conn_tls_failed(struct conn *c, enum stats_tls_fail why, const char *text)
{
	atomic_fetch_add_explicit(&c->env->stats_slot->tls_failed[why], 1,
	    memory_order_relaxed);
	log_debug("%s: %s: TLS handshake failed (%s): %s", __func__, c->peer,
	    stats_tls_fail_name[why], text);
	conn_close(c, "TLS handshake failed");
}

static void
conn_tls_handshake(struct conn *c)
{
	enum stats_tls_fail	 why = STATS_TLS_PROTOCOL;

	switch (tls_handshake(c->tls, &why)) {
	case TLS_OK:
		break;
	case TLS_WANT_READ:
		event_del(c->wev);	/* rev is on */
		return;
	case TLS_WANT_WRITE:
		(void)conn_wait(c, EV_WRITE, 0);
		return;
	default:
		conn_tls_failed(c, why, tls_error(c->tls));
		return;
	}
	c->handshaking = 0;
	event_del(c->wev);
	atomic_fetch_add_explicit(&c->env->stats_slot->tls_handshakes, 1,
	    memory_order_relaxed);
	if (tls_resumed(c->tls))
		atomic_fetch_add_explicit(&c->env->stats_slot->tls_resumed, 1,
		    memory_order_relaxed);
	/* The first request's own deadline now. */
	conn_timer_update(c);
	/* It may have come with the client's Finished. */
	event_active(&c->rev, EV_READ, 1);
}

/* The output has drained: close, linger, or go on parsing. */
static void
conn_written(struct conn *c)
{
	c->queued = 0;
	if (c->close_after_write) {
		if (!c->linger || c->read_eof) {
			conn_close(c, "response sent");
			return;
		}
		/*
		 * The client may still be sending what we refused; closing
		 * now would reset the connection and lose our answer.
		 */
		c->state = CONN_LINGERING;
		c->close_after_write = 0;
		if (c->tls != NULL)
			tls_shutdown(c->tls);
		(void)shutdown(c->fd, SHUT_WR);
		conn_reading(c, 1);
		conn_timer_update(c);
		return;
	}
	if (c->write_blocked) {
		c->write_blocked = 0;
		conn_process(c);
		return;
	}
	/* After a FIN, the last answer is out: nothing more can come. */
	if (c->read_eof && c->state == CONN_ACTIVE) {
		conn_close(c, "client closed, everything answered");
		return;
	}
	conn_idle(c);
	conn_timer_update(c);
}

/*
 * Write the direct answer (behind an empty out): 1 when all of it went,
 * 0 when the socket took only part (*progress says whether any): the rest
 * is in out now, for the EV_WRITE path. -1 when c was closed.
 */
static int
conn_direct_write(struct conn *c, int *progress)
{
	struct conn_rq	*rq = c->rq;
	struct iovec	 iov[2];
	size_t		 n;
	ssize_t		 w;
	int		 niov = 0;

	if (rq->direct_len > 0) {
		iov[niov].iov_base = rq->direct + rq->direct_off;
		iov[niov++].iov_len = rq->direct_len - rq->direct_off;
	}
	if (rq->direct_ref_len > 0) {
		/* Only read: writev(2) takes no const. */
		iov[niov].iov_base = (void *)(uintptr_t)rq->direct_ref;
		iov[niov++].iov_len = rq->direct_ref_len;
	}
	if ((w = writev(c->fd, iov, niov)) == -1) {
		if (errno != EAGAIN && errno != EINTR) {
			conn_close(c, strerror(errno));
			return -1;
		}
		w = 0;
	}
	n = (size_t)w;
	if (n == rq->direct_len - rq->direct_off + rq->direct_ref_len) {
		rq->direct_len = rq->direct_off = rq->direct_ref_len = 0;
		rq->direct_ref = NULL;
		return 1;
	}
	/* A short write: what is left goes the buffered way. */
	*progress |= n > 0;
	if (n >= rq->direct_len - rq->direct_off) {
		n -= rq->direct_len - rq->direct_off;
		rq->direct_len = rq->direct_off = 0;
		rq->direct_ref += n;
		rq->direct_ref_len -= n;
	} else
		rq->direct_off += n;
	if (conn_out(rq) == NULL) {
		conn_close(c, "out of memory");
		return -1;
	}
	return 0;
}

/*
 * Write what the output holds now, straight from the callback that made
 * it: all pipelined answers of one read leave in one writev(2) (each one
 * behind the first went into out, and the first with it: conn_out()), and
 * the usual case needs no EPOLLOUT round trip. A lone answer in memory
 * goes from where it is (conn_direct_write()). Only a short write waits
 * for the socket (EV_WRITE, with timeouts.send_ms). c may be freed on
 * return.
 */
static void
conn_flush(struct conn *c)
{
	struct conn_rq	*rq = c->rq;
	struct evbuffer	*out;
	int		 n, progress = 0;

	if (c->tls != NULL) {
		conn_tls_flush(c);
		return;
	}
	if (rq == NULL) {
		conn_written(c);
		return;
	}
	if (evbuffer_get_length(out = rq->out) > 0) {
		if ((n = evbuffer_write(out, c->fd)) == -1 &&
		    errno != EAGAIN && errno != EINTR) {
			conn_close(c, strerror(errno));
			return;
		}
		if (n == 0) {
			/* sendfile(2) at the end of a file that shrank. */
			conn_close(c, "file shrank under its response");
			return;
		}
		progress = n > 0;
		if (evbuffer_get_length(out) > 0)
			goto wait;
	}
	/* Behind out only when moving it in ran out of memory. */
	if (rq->direct_len > 0 || rq->direct_ref_len > 0) {
		switch (conn_direct_write(c, &progress)) {
		case -1:
			return;		/* closed */
		case 0:
			goto wait;
		default:
			break;
		}
	}
	if (c->wev != NULL)
		event_del(c->wev);
	conn_written(c);
	return;
wait:
	if (conn_wait(c, EV_WRITE, progress) == -1)
		return;
	conn_timer_update(c);
}

/*
 * The next bytes of the output for one SSL_write(), at most a record's
 * worth, in *len: bytes in memory in place (pulled up when they span
 * chains, so small and pipelined answers still leave in one record),
 * bytes of a file segment read into a buffer (libevent keeps those for
 * sendfile(2): in the buffer they cannot be seen). So a large file goes
 * out a record at a time whatever its size, never whole in memory.
 * NULL with *why set when that fails. The buffer is rebuilt before each
 * write, retries too: the bytes are the same, and OpenSSL is told it
 * may move (SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER). Loop thread only.
 */
static unsigned char *
conn_tls_next(struct conn_rq *rq, size_t *len, const char **why)
{
	static unsigned char	 buf[CONN_TLS_RECORD];
	struct api_file		*f = NULL;
	size_t			 skip, want;
	ssize_t			 n;

	while (rq->files_head < rq->nfiles && rq->files[rq->files_head].at +
	    (size_t)rq->files[rq->files_head].length <= rq->out_sent)
		rq->files_head++;
	if (rq->files_head < rq->nfiles)
		f = &rq->files[rq->files_head];
	if (*len > CONN_TLS_RECORD)
		*len = CONN_TLS_RECORD;
	if (f == NULL || f->at > rq->out_sent) {
		/* Memory, up to the next file if any. */
		if (f != NULL && f->at - rq->out_sent < *len)
			*len = f->at - rq->out_sent;
		*why = "out of memory";
		return evbuffer_pullup(rq->out, (ssize_t)*len);
	}
	skip = rq->out_sent - f->at;
	want = (size_t)f->length - skip;
	if (want > *len)
		want = *len;
	if ((n = pread(f->fd, buf, want, f->offset + (off_t)skip)) <= 0) {
		/* As sendfile(2) on plain: the answer cannot finish. */
		*why = n == 0 ? "file shrank under its response" :
		    strerror(errno);
		return NULL;
	}
	*len = (size_t)n;
	return buf;
}
/*
 * conn_flush() over TLS: SSL_write() a record's worth at a time from the
 * front of the output (conn_tls_next()); what cannot go now waits on
 * wev (conn_wait()).
 */
static void
conn_tls_flush(struct conn *c)
{
	struct conn_rq	*rq = c->rq;
	enum tls_status	 st = TLS_OK;
	unsigned char	*p;
	const char	*why;
	size_t		 len, n, sent = 0;

	while (rq != NULL && (len = evbuffer_get_length(rq->out)) > 0) {
		if ((p = conn_tls_next(rq, &len, &why)) == NULL) {
			conn_close(c, why);
			return;
		}
		if ((st = tls_write(c->tls, p, len, &n)) != TLS_OK)
			break;
		evbuffer_drain(rq->out, n);
		rq->out_sent += n;
		sent += n;
	}
	switch (st) {
	case TLS_OK:
		event_del(c->wev);
		/* The output went: so did what a blocked read waited for. */
		conn_tls_read_unblock(c);
		conn_written(c);
		break;
	case TLS_WANT_READ:
	case TLS_WANT_WRITE:
		if (conn_wait(c, st == TLS_WANT_READ ? EV_READ : EV_WRITE,
		    sent > 0) == -1)
			return;
		conn_timer_update(c);
		break;
	default:
		conn_close(c, tls_error(c->tls));
		break;
	}
}

/*
 * timeouts.handler_ms has passed. A job still queued is taken back and
 * answered 504 as usual. Otherwise the handler still holds the request,
 * so the 504 is written without it and the connection closes after it.
 */
static void
conn_handler_timeout(struct conn *c)
{
	static const char	 body[] =
	    "{\"detail\":\"Gateway Timeout: handler deadline passed\"}";
	struct conn_rq		*rq = c->rq;
	struct evbuffer		*out;
	struct http_resp_head	 head;
	struct timeval		 now;

	log_warnx_limited("route %s (handler %s): no answer after %u ms: 504 "
	    "(request %s)", rq->route->path, rq->route->handler->name,
	    c->env->conf->timeouts.handler_ms, rq->req.id);
	atomic_fetch_add_explicit(&c->env->stats_slot->timeouts_504, 1,
	    memory_order_relaxed);
	if (dispatch_cancel(c->env->dispatch, &rq->req) == 0) {
		c->state = CONN_ACTIVE;
		conn_answer_status(c, 504);
		conn_process(c);
		return;
	}
	(void)event_base_gettimeofday_cached(c->env->base, &now);
	memset(&head, 0, sizeof(head));
	head.status = 504;
	head.content_type = "application/json";
	head.body_len = sizeof(body) - 1;
	head.date = date_format(now.tv_sec);
	/* Set before the job was queued; the handler only reads it too. */
	head.request_id = rq->req.id;
	head.keepalive = 0;
	/* HEAD: the length a GET would have had, and no body. */
	if ((out = conn_out(rq)) == NULL ||
	    http_resp_head_write(out, &head) == -1 || (!rq->http.head &&
	    evbuffer_add(out, body, sizeof(body) - 1) == -1)) {
		conn_close(c, "out of memory");
		return;
	}
	/* The handler still owns the sy_req: its job's times are not ours. */
	conn_account(c, 504, sizeof(body) - 1, now.tv_sec, 0);
	c->timed_out = 1;
	c->close_after_write = 1;
	c->linger = 0;
	conn_reading(c, 0);
	/*
	 * The answer is no longer wanted: a pending handler that listens
	 * may stop now (its sy_req_finish() lands in conn_finish_cb(),
	 * which waits for the 504 to leave).
	 */
	api_req_abort(&rq->req);
	conn_flush(c);
}

/*
 * The keep-alive deadline fired. It was armed when the connection first
 * went idle and left alone by the requests since (conn_respond()): 1
 * with *tv set to what is left of keep-alive after the last answer, 0 when
 * the connection has been idle that long.
 */
static int
conn_keepalive_left(const struct conn *c, struct timeval *tv)
{
	uint64_t	 idle = clock_ms() - c->answered_ms;
	unsigned	 ka = c->env->conf->timeouts.keepalive_ms;

	if (idle >= ka)
		return 0;
	*tv = clock_tv(ka - (unsigned)idle);
	return 1;
}

static void
conn_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn	*c = arg;
	struct timeval	 tv;
	enum conn_wait	 wait = c->wait;

	(void)fd;
	(void)what;
	c->wait = CONN_WAIT_NONE;
	switch (wait) {
	case CONN_WAIT_HANDLER:
		conn_handler_timeout(c);
		break;
	case CONN_WAIT_LINGER:
		conn_close(c, "linger time over");
		break;
	case CONN_WAIT_HEADER:
	case CONN_WAIT_BODY:
		if (conn_http_state(c) == HTTP_HEADERS ||
		    conn_http_state(c) == HTTP_BODY) {
			/* The stream is cut mid-request: nothing after it. */
			c->rq->http.state = HTTP_ERROR;
			log_debug("%s: %s: request timeout", __func__, c->peer);
			conn_answer_status(c, 408);
			conn_flush(c);
			break;
		}
		/* Not a byte of a first request: nobody to answer. */
		conn_close(c, "header timeout");
		break;
	case CONN_WAIT_KEEPALIVE:
		if (conn_keepalive_left(c, &tv)) {
			c->wait = CONN_WAIT_KEEPALIVE;
			evtimer_add(&c->timer, &tv);
			break;
		}
		conn_close(c, "keep-alive timeout");
		break;
	case CONN_WAIT_PROXY:
		conn_proxy_refused(c, "no PROXY header in time");
		break;
	case CONN_WAIT_HANDSHAKE:
		conn_tls_failed(c, STATS_TLS_TIMEOUT, "no handshake in time");
		break;
	default:
		break;
	}
}

int
conn_new(struct conn_env *env, int fd, const struct sockaddr *sa,
    socklen_t salen, const struct config_listen *l)
{
	struct conn	*c;

	/* TCP_NODELAY comes from the listener (worker_main). */
	if ((c = TAILQ_FIRST(&env->spare_conns)) != NULL) {
		TAILQ_REMOVE(&env->spare_conns, c, entry);
		env->nspare_conns--;
		memset(c, 0, sizeof(*c));
	} else if ((c = calloc(1, sizeof(*c))) == NULL) {
		(void)close(fd);
		return -1;
	}
	c->env = env;
	c->fd = fd;
	env->nconns++;		/* conn_free() gives it back */
	(void)event_assign(&c->rev, env->base, fd, EV_READ | EV_PERSIST,
	    conn_read_cb, c);
	(void)evtimer_assign(&c->timer, env->base, conn_timer_cb, c);
	if (l->tls != NULL) {
		c->tls = tls_new(l->tls, fd);
		c->wev = event_new(env->base, fd, EV_WRITE, conn_wait_cb, c);
		c->handshaking = 1;
		if (c->tls == NULL || c->wev == NULL) {
			(void)close(fd);
			conn_free(c);
			return -1;
		}
	}
	/* Handlers may ask (sy_req_client()), not only the access log. */
	(void)listener_format_host(sa, c->peer, sizeof(c->peer));
	if ((size_t)salen <= sizeof(c->peer_sa))
		memcpy(&c->peer_sa, sa, (size_t)salen);
	else
		c->peer_sa.sa.sa_family = sa->sa_family;	/* AF_UNIX */
	c->proxy_wait = l->proxy_protocol != 0;
	c->state = CONN_ACTIVE;
	TAILQ_INSERT_TAIL(&env->conns, c, entry);
	c->in_env = 1;
	conn_gauge(env);
	atomic_fetch_add_explicit(&env->stats_slot->accepted, 1,
	    memory_order_relaxed);
	conn_timer_update(c);
	/*
	 * A client writes its request right after connect(2), so it is
	 * often here already: read it now rather than after a trip through
	 * epoll_wait(2), and watch the socket only if the connection goes
	 * on (conn_read_cb() turns reading on). One answered and closed
	 * within this call (HTTP/1.0, Connection: close) never reaches the
	 * epoll set: no epoll_ctl(2) at all. Clients that write only once
	 * their own loop sees the connect done (ab) are not there yet: for
	 * them the read is skipped (conn_early_want()).
	 */
	if (c->tls == NULL && conn_early_want(&env->early)) {
		env->read_missed = 0;
		conn_read_cb(fd, EV_READ, c);	/* may free c */
		conn_early_note(&env->early, !env->read_missed);
	} else
		conn_reading(c, 1);
	return 0;
}

int
conn_early_want(struct conn_early *e)
{
	if (e->hits * 3 >= CONN_EARLY_ONE || ++e->skipped >= 16) {
		e->skipped = 0;
		return 1;
	}
	return 0;
}

void
conn_early_note(struct conn_early *e, int hit)
{
	/* A moving average over about the last 8 tries. */
	e->hits = e->hits - e->hits / 8 + (hit ? CONN_EARLY_ONE / 8 : 0);
}

static const struct timeval *
common_timeout(struct event_base *base, unsigned ms)
{
	struct timeval	 tv = clock_tv(ms);

	/* One O(1) queue per distinct duration instead of heap inserts. */
	return event_base_init_common_timeout(base, &tv);
}

int
conn_env_init(struct conn_env *env, struct event_base *base,
    const struct config *conf, const struct conn_parts *parts)
{
	const struct config_timeouts	*t = &conf->timeouts;

	memset(env, 0, sizeof(*env));
	env->base = base;
	env->conf = conf;
	env->router = parts->router;
	env->dispatch = parts->dispatch;
	env->pool = parts->pool;
	env->alog = parts->alog;
	env->stats = parts->stats;
	env->stats_slot = &parts->stats->slots[parts->slot];
	env->stats_cell = parts->cell;
	env->closed_cb = parts->closed_cb;
	env->closed_arg = parts->closed_arg;
	TAILQ_INIT(&env->conns);
	TAILQ_INIT(&env->orphans);
	TAILQ_INIT(&env->spare_conns);
	env->early.hits = CONN_EARLY_ONE;	/* try, until it misses */
	env->tv_header = common_timeout(base, t->header_ms);
	/* A balancer sends its PROXY header at once: a short deadline. */
	env->tv_proxy = common_timeout(base, t->header_ms < CONN_PROXY_MS ?
	    t->header_ms : CONN_PROXY_MS);
	env->tv_body = common_timeout(base, t->body_ms);
	env->tv_keepalive = common_timeout(base, t->keepalive_ms);
	env->tv_linger = common_timeout(base, CONN_LINGER_MS);
	env->tv_handler = common_timeout(base, t->handler_ms);
	env->tv_send = clock_tv(t->send_ms);
	reqid_gen_init(&env->reqid);
	if (env->tv_header == NULL || env->tv_proxy == NULL ||
	    env->tv_body == NULL || env->tv_keepalive == NULL ||
	    env->tv_linger == NULL || env->tv_handler == NULL)
		return -1;
	return 0;
}

void
conn_env_drain(struct conn_env *env)
{
	/*
	 * Idle keep-alive connections are left alone: the client may be
	 * sending on one right now, and closing it under that request is
	 * what makes reloads lose requests. Each answers its next request
	 * with "Connection: close" (conn_respond() sees draining), or
	 * closes at its keep-alive timeout.
	 */
	env->draining = 1;
}

void
conn_env_close_idle(struct conn_env *env)
{
	struct conn	*c, *next;

	for (c = TAILQ_FIRST(&env->conns); c != NULL; c = next) {
		next = TAILQ_NEXT(c, entry);
		if (c->state == CONN_ACTIVE && conn_http_state(c) ==
		    HTTP_IDLE && !c->close_after_write && conn_out_len(c) == 0)
			conn_close(c, "idle, closing");
	}
}

void
conn_env_close_all(struct conn_env *env)
{
	struct conn	*c;

	while ((c = TAILQ_FIRST(&env->conns)) != NULL)
		conn_close(c, "shutting down");
}

void
conn_env_free_orphans(struct conn_env *env)
{
	struct conn	*c;
	struct conn_rq	*rq;

	while ((c = TAILQ_FIRST(&env->orphans)) != NULL) {
		TAILQ_REMOVE(&env->orphans, c, entry);
		env->norphans--;
		conn_free(c);
	}
	/* And the spares, which conn_free() just added to. */
	while ((c = TAILQ_FIRST(&env->spare_conns)) != NULL) {
		TAILQ_REMOVE(&env->spare_conns, c, entry);
		free(c);
	}
	env->nspare_conns = 0;
	while ((rq = env->spare_rq) != NULL) {
		env->spare_rq = rq->next;
		conn_rq_free(rq);
	}
	env->nspare_rq = 0;
}
