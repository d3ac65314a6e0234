/*
 * check_conn.c - one connection as a worker runs it: transcripts over a
 * real loopback TCP socket, with the real router, dispatch, pool and a
 * mapped stats segment, all on this thread's event base.
 *
 * The test is the client and the loop at once: it writes a request, then
 * runs the loop until the answer it expects has arrived (a read event on
 * its own end of the socket) or a guard timer fires. Nothing waits on a
 * clock except the 504 case, whose handler is held by a gate until the
 * deadline has passed, whatever the machine's load.
 */
#include "autoconfig.h"

#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>
#include <linux/tcp.h>		/* tcpi_data_segs_out: not in glibc's */

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "config.h"
#include "conn.h"
#include "dispatch.h"
#include "gate.h"
#include "pool.h"
#include "router.h"
#include "stats.h"
#include "unit.h"
#include "xmalloc.h"

#define GUARD_S		20	/* a wait that lasts this long has failed */

/* -- handlers ---------------------------------------------------------- */

static int
t_hi(struct sy_req *req, void *state)
{
	(void)state;
	sy_resp_content_type(req, "text/plain");
	return sy_resp_body(req, "hi\n", 3);
}

static int
t_static(struct sy_req *req, void *state)
{
	(void)state;
	sy_resp_content_type(req, "text/plain");
	return sy_resp_body_static(req, "static\n", 7);
}

/* More than any socket buffer here holds: it cannot go in one write. */
static char	big[1 << 20];

static int
t_big(struct sy_req *req, void *state)
{
	(void)state;
	return sy_resp_body_static(req, big, sizeof(big));
}

static const struct sy_handler h_hi = { SY_ABI_VERSION, "t_hi", 0, NULL,
					NULL, t_hi };
static const struct sy_handler h_static = { SY_ABI_VERSION, "t_static", 0,
					NULL, NULL, t_static };
static const struct sy_handler h_big = { SY_ABI_VERSION, "t_big", 0, NULL,
					NULL, t_big };
static const struct sy_handler *const test_handlers[] = {
	&h_hi, &h_static, &h_big, &gate_handler, NULL
};

/* -- the worker around one connection ---------------------------------- */

/* Long, but for the deadline cases (setup_deadline, setup_keepalive). */
static unsigned	handler_ms = 60000;
static unsigned	keepalive_ms = 60000;

static const char conf_fmt[] =
	"{\"threads\": 1, \"queue_limit\": 1,"
	" \"timeouts\": {\"handler_ms\": %u, \"keepalive_ms\": %u},"
	" \"routes\": ["
	"  {\"path\": \"/hi\", \"handler\": \"t_hi\", \"mode\": \"nonblocking\"},"
	"  {\"path\": \"/pool\", \"handler\": \"t_hi\", \"mode\": \"blocking\"},"
	"  {\"path\": \"/static\", \"handler\": \"t_static\","
	"   \"mode\": \"nonblocking\"},"
	"  {\"path\": \"/big\", \"handler\": \"t_big\", \"mode\": \"nonblocking\"},"
	"  {\"path\": \"/gate\", \"handler\": \"t_gate\", \"mode\": \"blocking\"}"
	"]}";

static struct event_base	*base;
static struct config		*conf;
static struct router		*router;
static struct pool		*pool;
static struct dispatch		*disp;
static struct stats		*stats;
static const struct config_listen plain;	/* no PROXY header, no TLS */
static struct conn_env		 env;
static struct event		*guard, *tick;
static int			 lfd = -1, timed_out;

static void
guard_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	timed_out = 1;
}

/*
 * Wakes the loop: some conditions change on a pool thread (a handler
 * came in), which no event of the loop's would tell.
 */
static void
tick_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
}

static void
setup(void)
{
	struct config_error	 err;
	struct conn_parts	 parts = { 0 };
	struct sockaddr_in	 sin;
	char			 json[1024];
	size_t			 i;

	registry_set_builtins(test_handlers);
	for (i = 0; i < sizeof(big); i++)
		big[i] = (char)('a' + i % 26);
	(void)snprintf(json, sizeof(json), conf_fmt, handler_ms,
	    keepalive_ms);
	conf = config_load_string(json, "conn.json", &err);
	ck_assert_msg(conf != NULL, "config: %s", err.text);
	ck_assert_msg(config_bind(conf, &err) == 0, "bind: %s", err.text);
	ck_assert_ptr_nonnull(stats = stats_map());
	for (i = 0; i < conf->nroutes; i++)
		conf->routes[i].stats_index = stats_route_index(stats,
		    conf->routes[i].path);
	ck_assert_ptr_nonnull(base = event_base_new());
	ck_assert_ptr_nonnull(router = router_new(conf));
	ck_assert_ptr_nonnull(pool = pool_new(base, conf->threads,
	    conf->queue_limit));
	ck_assert_ptr_nonnull(disp = dispatch_new(conf, pool, stats, 0, 1));
	parts.router = router;
	parts.dispatch = disp;
	parts.pool = pool;
	parts.stats = stats;
	parts.slot = 0;
	parts.cell = &stats->cells[0];
	ck_assert_int_eq(conn_env_init(&env, base, conf, &parts), 0);
	ck_assert_ptr_nonnull(guard = evtimer_new(base, guard_cb, NULL));
	ck_assert_ptr_nonnull(tick = event_new(base, -1, EV_PERSIST, tick_cb,
	    NULL));

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_ge(lfd = socket(AF_INET, SOCK_STREAM, 0), 0);
	ck_assert_int_eq(bind(lfd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(listen(lfd, 16), 0);
	gate_set(0);
	gate_inside = 0;
	timed_out = 0;
}

static void
setup_deadline(void)
{
	handler_ms = 200;
	setup();
}

static void
setup_keepalive(void)
{
	/* Long enough that a loaded machine's stalls stay well inside. */
	keepalive_ms = 1000;
	setup();
}

static void
teardown(void)
{
	gate_set(1);
	conn_env_close_all(&env);
	dispatch_free(disp);
	pool_free(pool);
	conn_env_free_orphans(&env);
	event_free(guard);
	event_free(tick);
	router_free(router);
	event_base_free(base);
	config_free(conf);
	stats_unmap(stats);
	(void)close(lfd);
}

/* The client's end: what it has read so far, and whether EOF came. */
struct client {
	int		 fd;
	int		 sfd;		/* the server's end (conn's) */
	struct event	*ev;
	char		*buf;
	size_t		 len, size;	/* read, and room in buf */
	int		 eof;		/* FIN or RST */
};

static void
client_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct client	*cl = arg;
	ssize_t		 n;

	(void)what;
	n = recv(fd, cl->buf + cl->len, cl->size - 1 - cl->len, 0);
	if (n > 0) {
		cl->len += (size_t)n;
		cl->buf[cl->len] = '\0';
	} else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
		cl->eof = 1;
		event_del(cl->ev);
	}
}

/*
 * Connect, and hand the accepted socket to a new connection: a client
 * that reads up to size bytes, with small socket buffers both ways if
 * small is set (so that a large answer needs many writes).
 */
static void
client_open_with(struct client *cl, size_t size, int small)
{
	struct sockaddr_storage	 ss;
	socklen_t		 sslen = sizeof(ss);
	int			 sfd, one = 1, sz = 4096;

	memset(cl, 0, sizeof(*cl));
	cl->buf = xmalloc(cl->size = size);
	ck_assert_int_eq(getsockname(lfd, (struct sockaddr *)&ss, &sslen), 0);
	ck_assert_int_ge(cl->fd = socket(AF_INET, SOCK_STREAM, 0), 0);
	/* Before connect(2): the window it offers follows. */
	if (small)
		ck_assert_int_eq(setsockopt(cl->fd, SOL_SOCKET, SO_RCVBUF, &sz,
		    sizeof(sz)), 0);
	ck_assert_int_eq(connect(cl->fd, (struct sockaddr *)&ss, sslen), 0);
	sslen = sizeof(ss);
	ck_assert_int_ge(sfd = accept4(lfd, (struct sockaddr *)&ss, &sslen,
	    SOCK_NONBLOCK | SOCK_CLOEXEC), 0);
	/* As the worker's listeners have it: each write leaves at once. */
	ck_assert_int_eq(setsockopt(sfd, IPPROTO_TCP, TCP_NODELAY, &one,
	    sizeof(one)), 0);
	if (small)
		ck_assert_int_eq(setsockopt(sfd, SOL_SOCKET, SO_SNDBUF, &sz,
		    sizeof(sz)), 0);
	cl->sfd = sfd;
	ck_assert_int_eq(conn_new(&env, sfd, (struct sockaddr *)&ss, sslen,
	    &plain), 0);
	ck_assert_int_eq(fcntl(cl->fd, F_SETFL, O_NONBLOCK), 0);
	ck_assert_ptr_nonnull(cl->ev = event_new(base, cl->fd,
	    EV_READ | EV_PERSIST, client_read_cb, cl));
	ck_assert_int_eq(event_add(cl->ev, NULL), 0);
}

static void
client_open(struct client *cl)
{
	client_open_with(cl, 65536, 0);
}

static void
client_close(struct client *cl)
{
	event_free(cl->ev);
	(void)close(cl->fd);
	free(cl->buf);
}

static void
client_reset(struct client *cl)
{
	struct linger	 l = { 1, 0 };

	ck_assert_int_eq(setsockopt(cl->fd, SOL_SOCKET, SO_LINGER, &l,
	    sizeof(l)), 0);
	client_close(cl);
}

static void
client_send(struct client *cl, const char *s)
{
	size_t	 n = strlen(s);

	ck_assert_int_eq(send(cl->fd, s, n, MSG_NOSIGNAL), (ssize_t)n);
}

/* Run the loop until cond holds; fails after GUARD_S. */
#define RUN_UNTIL(cond) do {						\
	struct timeval	 tv_ = { GUARD_S, 0 }, tick_ = { 0, 5000 };	\
									\
	timed_out = 0;							\
	ck_assert_int_eq(evtimer_add(guard, &tv_), 0);			\
	ck_assert_int_eq(evtimer_add(tick, &tick_), 0);			\
	while (!(cond) && !timed_out)					\
		ck_assert_int_ge(event_base_loop(base, EVLOOP_ONCE), 0); \
	evtimer_del(guard);						\
	evtimer_del(tick);						\
	ck_assert_msg(!timed_out, "gave up waiting for: %s", #cond);	\
} while (0)

/* Responses whose head has arrived (every test body is one line). */
static unsigned
responses(const struct client *cl)
{
	const char	*p = cl->buf;
	unsigned	 n = 0;

	while ((p = strstr(p, "HTTP/1.1 ")) != NULL) {
		n++;
		p++;
	}
	return n;
}

/* The text of response i (from 0), up to the next one. */
static const char *
response(const struct client *cl, unsigned i)
{
	static char	 one[8192];
	const char	*p = cl->buf, *q;
	size_t		 n;

	for (;;) {
		ck_assert_ptr_nonnull(p = strstr(p, "HTTP/1.1 "));
		if (i-- == 0)
			break;
		p++;
	}
	q = strstr(p + 1, "HTTP/1.1 ");
	n = q != NULL ? (size_t)(q - p) : strlen(p);
	ck_assert_uint_lt(n, sizeof(one));
	memcpy(one, p, n);
	one[n] = '\0';
	return one;
}

/* The response i is complete: its head and Content-Length bytes. */
static int
complete(const struct client *cl, unsigned i)
{
	const char	*r, *cl_hdr, *end;

	if (responses(cl) <= i)
		return 0;
	r = response(cl, i);
	if ((end = strstr(r, "\r\n\r\n")) == NULL ||
	    (cl_hdr = strstr(r, "Content-Length: ")) == NULL)
		return 0;
	return strlen(end + 4) >= strtoul(cl_hdr + 16, NULL, 10);
}

static void
expect(const char *r, const char *status, const char *body)
{
	const char	*end = strstr(r, "\r\n\r\n");

	ck_assert_msg(strncmp(r, status, strlen(status)) == 0,
	    "want %s, got: %s", status, r);
	ck_assert_ptr_nonnull(end);
	ck_assert_ptr_nonnull(strstr(r, "\r\nX-Request-Id: "));
	ck_assert_str_eq(end + 4, body);
}

/* a's request runs in the pool's one thread, b's waits in its queue of one. */
static void
fill_pool(struct client *a, struct client *b)
{
	client_send(a, "GET /gate HTTP/1.1\r\nHost: t\r\n\r\n");
	RUN_UNTIL(gate_count() == 1);
	client_send(b, "GET /gate HTTP/1.1\r\nHost: t\r\n\r\n");
	RUN_UNTIL(pool_queued(pool) == 1);
}

/* -- transcripts ------------------------------------------------------- */

START_TEST(keepalive_two_requests)
{
	struct client	 cl;

	client_open(&cl);
	client_send(&cl, "GET /hi HTTP/1.1\r\nHost: t\r\n\r\n");
	RUN_UNTIL(complete(&cl, 0));
	expect(response(&cl, 0), "HTTP/1.1 200 OK\r\n", "hi\n");
	ck_assert_ptr_nonnull(strstr(response(&cl, 0),
	    "\r\nContent-Type: text/plain\r\n"));
	ck_assert_ptr_null(strstr(response(&cl, 0), "Connection: close"));
	/* The same connection, a second time. */
	client_send(&cl, "GET /pool HTTP/1.1\r\nHost: t\r\n\r\n");
	RUN_UNTIL(complete(&cl, 1));
	expect(response(&cl, 1), "HTTP/1.1 200 OK\r\n", "hi\n");
	ck_assert_int_eq(cl.eof, 0);
	ck_assert_uint_eq(env.nconns, 1);
	client_close(&cl);
}
END_TEST

START_TEST(pipelined_answers_keep_order_across_modes)
{
	struct client	 cl;

	client_open(&cl);
	/* The pool's answer is held back; /hi, ready at once, waits. */
	client_send(&cl, "GET /gate HTTP/1.1\r\nHost: t\r\n\r\n"
	    "GET /hi HTTP/1.1\r\nHost: t\r\n\r\n"
	    "GET /pool HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
	RUN_UNTIL(gate_count() == 1);
	/* Let the loop do whatever it would with the two behind it. */
	(void)event_base_loop(base, EVLOOP_NONBLOCK);
	ck_assert_msg(responses(&cl) == 0, "early: %s", cl.buf);
	gate_set(1);
	RUN_UNTIL(cl.eof);
	ck_assert_uint_eq(responses(&cl), 3);
	expect(response(&cl, 0), "HTTP/1.1 200 OK\r\n", "gate\n");
	expect(response(&cl, 1), "HTTP/1.1 200 OK\r\n", "hi\n");
	expect(response(&cl, 2), "HTTP/1.1 200 OK\r\n", "hi\n");
	ck_assert_ptr_nonnull(strstr(response(&cl, 2),
	    "\r\nConnection: close\r\n"));
	client_close(&cl);
}
END_TEST

/* Data segments the server's end has sent: with TCP_NODELAY, its writes. */
static unsigned
segments_out(const struct client *cl)
{
	struct tcp_info	 ti;
	socklen_t	 len = sizeof(ti);

	memset(&ti, 0, sizeof(ti));
	ck_assert_int_eq(getsockopt(cl->sfd, IPPROTO_TCP, TCP_INFO, &ti, &len),
	    0);
	ck_assert_uint_ge(len, offsetof(struct tcp_info, tcpi_data_segs_out) +
	    sizeof(ti.tcpi_data_segs_out));
	return ti.tcpi_data_segs_out;
}

/*
 * Answers to the requests of one read leave together, in order, in one
 * write: the first (alone, it would have gone from where it is, its
 * static body by reference) moved into the output when the second was
 * queued behind it. A HEAD's body is dropped, its length kept.
 */
START_TEST(pipelined_answers_leave_in_one_write)
{
	struct client	 cl;
	unsigned	 before;

	client_open(&cl);
	client_send(&cl, "GET /static HTTP/1.1\r\nHost: t\r\n\r\n");
	RUN_UNTIL(complete(&cl, 0));
	expect(response(&cl, 0), "HTTP/1.1 200 OK\r\n", "static\n");
	before = segments_out(&cl);
	client_send(&cl, "GET /static HTTP/1.1\r\nHost: t\r\n\r\n"
	    "GET /hi HTTP/1.1\r\nHost: t\r\n\r\n"
	    "HEAD /static HTTP/1.1\r\nHost: t\r\n\r\n"
	    "GET /static HTTP/1.1\r\nHost: t\r\n\r\n");
	RUN_UNTIL(complete(&cl, 4));
	ck_assert_uint_eq(segments_out(&cl) - before, 1);
	ck_assert_uint_eq(responses(&cl), 5);
	expect(response(&cl, 1), "HTTP/1.1 200 OK\r\n", "static\n");
	expect(response(&cl, 2), "HTTP/1.1 200 OK\r\n", "hi\n");
	expect(response(&cl, 3), "HTTP/1.1 200 OK\r\n", "");
	ck_assert_ptr_nonnull(strstr(response(&cl, 3),
	    "\r\nContent-Length: 7\r\n"));
	expect(response(&cl, 4), "HTTP/1.1 200 OK\r\n", "static\n");
	/* Everything went: the request state is given back. */
	RUN_UNTIL(env.nspare_rq == 1);
	ck_assert_int_eq(cl.eof, 0);
	client_close(&cl);
}
END_TEST

/*
 * A static body larger than the socket takes: the first write is short,
 * the rest goes out from the output as the client reads, and a request
 * sent meanwhile is answered after it, not in the middle.
 */
START_TEST(short_write_leaves_the_rest_buffered)
{
	struct client	 cl;
	const char	*head, *end, *next;
	size_t		 first;

	client_open_with(&cl, sizeof(big) + 4096, 1);
	/* Not read until the server has written what the socket took. */
	event_del(cl.ev);
	client_send(&cl, "GET /big HTTP/1.1\r\nHost: t\r\n\r\n");
	RUN_UNTIL(segments_out(&cl) > 0);
	ck_assert_int_eq(event_add(cl.ev, NULL), 0);
	RUN_UNTIL(cl.len > 0);
	first = cl.len;
	ck_assert_uint_lt(first, sizeof(big));
	client_send(&cl, "GET /static HTTP/1.1\r\nHost: t\r\n\r\n");
	RUN_UNTIL(complete(&cl, 1));
	ck_assert_uint_eq(responses(&cl), 2);

	head = cl.buf;
	ck_assert_ptr_nonnull(end = strstr(head, "\r\n\r\n"));
	ck_assert_int_eq(strncmp(head, "HTTP/1.1 200 OK\r\n", 17), 0);
	ck_assert_ptr_nonnull(strstr(head, "\r\nContent-Length: 1048576\r\n"));
	ck_assert_ptr_nonnull(next = strstr(end, "HTTP/1.1 "));
	ck_assert_uint_eq((size_t)(next - (end + 4)), sizeof(big));
	ck_assert(memcmp(end + 4, big, sizeof(big)) == 0);
	expect(next, "HTTP/1.1 200 OK\r\n", "static\n");
	RUN_UNTIL(env.nspare_rq == 1);
	ck_assert_int_eq(cl.eof, 0);
	client_close(&cl);
}
END_TEST

START_TEST(half_close_still_answered)
{
	struct client	 cl;

	client_open(&cl);
	client_send(&cl, "GET /pool HTTP/1.1\r\nHost: t\r\n\r\n");
	ck_assert_int_eq(shutdown(cl.fd, SHUT_WR), 0);
	RUN_UNTIL(cl.eof);
	ck_assert_uint_eq(responses(&cl), 1);
	expect(response(&cl, 0), "HTTP/1.1 200 OK\r\n", "hi\n");
	client_close(&cl);
}
END_TEST

START_TEST(malformed_is_400_and_closed)
{
	struct client	 cl;

	client_open(&cl);
	client_send(&cl, "GET /hi HTTP/1.1\r\nHost: t\r\nBad Header: x\r\n\r\n");
	RUN_UNTIL(cl.eof);
	ck_assert_uint_eq(responses(&cl), 1);
	ck_assert_int_eq(strncmp(response(&cl, 0), "HTTP/1.1 400 ", 13), 0);
	ck_assert_ptr_nonnull(strstr(response(&cl, 0),
	    "\r\nConnection: close\r\n"));
	client_close(&cl);
	RUN_UNTIL(env.nconns == 0);
}
END_TEST

START_TEST(full_queue_is_503_and_connection_stays)
{
	struct client	 a, b, c;
	uint64_t	 before = atomic_load(&stats->slots[0].rejected_503);

	client_open(&a);
	client_open(&b);
	client_open(&c);
	fill_pool(&a, &b);
	client_send(&c, "GET /gate HTTP/1.1\r\nHost: t\r\n\r\n");
	RUN_UNTIL(complete(&c, 0));
	ck_assert_int_eq(strncmp(response(&c, 0), "HTTP/1.1 503 ", 13), 0);
	ck_assert_ptr_nonnull(strstr(response(&c, 0), "\r\nRetry-After: 1\r\n"));
	ck_assert_uint_eq(atomic_load(&stats->slots[0].rejected_503),
	    before + 1);
	/* A 503 is an answer, not a failure: the connection serves on. */
	client_send(&c, "GET /hi HTTP/1.1\r\nHost: t\r\n\r\n");
	RUN_UNTIL(complete(&c, 1));
	expect(response(&c, 1), "HTTP/1.1 200 OK\r\n", "hi\n");

	gate_set(1);
	RUN_UNTIL(complete(&a, 0) && complete(&b, 0));
	expect(response(&a, 0), "HTTP/1.1 200 OK\r\n", "gate\n");
	expect(response(&b, 0), "HTTP/1.1 200 OK\r\n", "gate\n");
	client_close(&a);
	client_close(&b);
	client_close(&c);
}
END_TEST

START_TEST(deadline_is_504_for_running_and_queued)
{
	struct client	 a, b;
	uint64_t	 before = atomic_load(&stats->slots[0].timeouts_504);

	client_open(&a);
	client_open(&b);
	fill_pool(&a, &b);

	/* The gate stays shut past handler_ms: both are answered 504. */
	RUN_UNTIL(complete(&a, 0) && complete(&b, 0));
	ck_assert_int_eq(strncmp(response(&a, 0), "HTTP/1.1 504 ", 13), 0);
	ck_assert_int_eq(strncmp(response(&b, 0), "HTTP/1.1 504 ", 13), 0);
	ck_assert_uint_eq(atomic_load(&stats->slots[0].timeouts_504),
	    before + 2);
	/* The running one closes (its handler still holds the request)... */
	ck_assert_ptr_nonnull(strstr(response(&a, 0),
	    "\r\nConnection: close\r\n"));
	RUN_UNTIL(a.eof);
	/* ...the queued one was taken back and never ran: it serves on. */
	ck_assert_ptr_null(strstr(response(&b, 0), "Connection: close"));
	client_send(&b, "GET /hi HTTP/1.1\r\nHost: t\r\n\r\n");
	RUN_UNTIL(complete(&b, 1));
	expect(response(&b, 1), "HTTP/1.1 200 OK\r\n", "hi\n");
	ck_assert_int_eq(gate_count(), 1);

	/* The late handler ends: its orphaned request is freed. */
	ck_assert_uint_eq(env.norphans, 1);
	gate_set(1);
	RUN_UNTIL(env.norphans == 0);
	client_close(&a);
	client_close(&b);
}
END_TEST

START_TEST(vanished_client_takes_its_queued_job_back)
{
	struct client	 a, b;

	client_open(&a);
	client_open(&b);
	fill_pool(&a, &b);
	/*
	 * Gone before its job started: a reset, since a FIN only means no
	 * more requests (conn.c) and would still be answered.
	 */
	client_reset(&b);
	RUN_UNTIL(pool_queued(pool) == 0 && env.nconns == 1);
	gate_set(1);
	RUN_UNTIL(complete(&a, 0));
	expect(response(&a, 0), "HTTP/1.1 200 OK\r\n", "gate\n");
	ck_assert_int_eq(gate_count(), 1);	/* b's never ran */
	client_close(&a);
}
END_TEST

START_TEST(drain_closes_after_the_next_answer)
{
	struct client	 a, idle;

	client_open(&a);
	client_open(&idle);
	client_send(&a, "GET /gate HTTP/1.1\r\nHost: t\r\n\r\n");
	RUN_UNTIL(gate_count() == 1);
	conn_env_drain(&env);
	/* The busy one gets its answer, with Connection: close. */
	gate_set(1);
	RUN_UNTIL(a.eof);
	expect(response(&a, 0), "HTTP/1.1 200 OK\r\n", "gate\n");
	ck_assert_ptr_nonnull(strstr(response(&a, 0),
	    "\r\nConnection: close\r\n"));
	/* The idle one is closed without an answer once nobody serves. */
	conn_env_close_idle(&env);
	RUN_UNTIL(idle.eof);
	ck_assert_uint_eq(idle.len, 0);
	client_close(&a);
	client_close(&idle);
}
END_TEST

/*
 * An idle keep-alive connection holds no request state: what one request
 * needed is taken at its first byte and given back once it is answered,
 * so the three connections below share the one the first one made.
 */
START_TEST(idle_connections_hold_no_request_state)
{
	struct client	 cl[3];
	unsigned	 i;

	for (i = 0; i < 3; i++) {
		client_open(&cl[i]);
		client_send(&cl[i], "GET /hi HTTP/1.1\r\nHost: t\r\n\r\n");
		RUN_UNTIL(complete(&cl[i], 0));
		ck_assert_uint_eq(env.nspare_rq, 1);
	}
	/* A request's first bytes take it; its answer gives it back. */
	client_send(&cl[1], "GET /hi HTTP/1.1\r\n");
	RUN_UNTIL(env.nspare_rq == 0);
	client_send(&cl[1], "Host: t\r\n\r\n");
	RUN_UNTIL(complete(&cl[1], 1));
	ck_assert_uint_eq(env.nspare_rq, 1);
	ck_assert_uint_eq(env.nconns, 3);
	for (i = 0; i < 3; i++) {
		ck_assert_int_eq(cl[i].eof, 0);
		client_close(&cl[i]);
	}
}
END_TEST

static double
now_s(void)
{
	struct timespec	 ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * The keep-alive deadline counts from the last answer: requests answered
 * while it is armed leave it alone (it moves when it fires), so a request
 * half-way through it must push the close back by a whole keepalive_ms.
 */
START_TEST(keepalive_counts_from_the_last_answer)
{
	struct client	 cl;
	double		 first, last, ka = keepalive_ms / 1000.0;

	client_open(&cl);
	client_send(&cl, "GET /hi HTTP/1.1\r\nHost: t\r\n\r\n");
	RUN_UNTIL(complete(&cl, 0));
	first = now_s();
	/* A second request half-way through the first deadline. */
	RUN_UNTIL(now_s() - first >= ka / 2);
	last = now_s();		/* its answer comes later: a lower bound */
	client_send(&cl, "GET /hi HTTP/1.1\r\nHost: t\r\n\r\n");
	RUN_UNTIL(complete(&cl, 1));
	RUN_UNTIL(cl.eof);
	/* Never before a whole keepalive_ms after the last answer. */
	ck_assert_msg(now_s() - last >= ka - 0.005,
	    "closed %.3f s after the last request, keepalive is %.3f s",
	    now_s() - last, ka);
	client_close(&cl);
}
END_TEST

/*
 * A request read in the same loop iteration as its connection's
 * keep-alive deadline fires is answered first (libevent runs I/O before
 * timers), and that answer is the last: the deadline moves on. Both see
 * one cached clock, so the answer reads as no time idle at all, not as
 * a clock gone back.
 */
/*
 * The read at accept: tried while it finds the request one time in
 * three or more, else once in 16 connections; the estimate follows the
 * clients both ways.
 */
static unsigned
early_tries(struct conn_early *e, unsigned n, unsigned hit_every)
{
	unsigned	 i, tries = 0, k = 0;

	for (i = 0; i < n; i++)
		if (conn_early_want(e)) {
			tries++;
			conn_early_note(e, hit_every > 0 && ++k % hit_every == 0);
		}
	return tries;
}

START_TEST(early_read_follows_its_hit_rate)
{
	struct conn_early	 e = { CONN_EARLY_ONE, 0 };

	/* Every read finds the request: every connection tries. */
	ck_assert_uint_eq(early_tries(&e, 1000, 1), 1000);
	/* Half of them: still worth it. */
	ck_assert_uint_eq(early_tries(&e, 1000, 2), 1000);
	/* None: a few tries to learn it, then one in 16. */
	ck_assert_uint_le(early_tries(&e, 1600, 0), 100 + 20);
	ck_assert_uint_ge(early_tries(&e, 1600, 0), 100);
	/* One in five is below the third: still mostly skipped. */
	ck_assert_uint_le(early_tries(&e, 1600, 5), 200);
	/* The clients change: hits bring the tries back within 16 + 8. */
	ck_assert_uint_ge(early_tries(&e, 1000, 1), 1000 - 24);
	ck_assert(conn_early_want(&e));
}
END_TEST

START_TEST(keepalive_answer_in_the_deadline_iteration)
{
	struct client	 cl;
	double		 last, ka = keepalive_ms / 1000.0;

	client_open(&cl);
	client_send(&cl, "GET /hi HTTP/1.1\r\nHost: t\r\n\r\n");
	RUN_UNTIL(complete(&cl, 0));
	/* Past the deadline, with the loop stopped: both come due at once. */
	(void)usleep((useconds_t)(keepalive_ms + 100) * 1000);
	client_send(&cl, "GET /hi HTTP/1.1\r\nHost: t\r\n\r\n");
	RUN_UNTIL(complete(&cl, 1) || cl.eof);
	ck_assert_msg(complete(&cl, 1), "no answer to the second request");
	last = now_s();
	RUN_UNTIL(now_s() - last >= ka / 2 || cl.eof);
	ck_assert_msg(!cl.eof, "closed %.3f s after its last answer",
	    now_s() - last);
	client_close(&cl);
}
END_TEST

static Suite *
conn_suite(void)
{
	Suite	*s = suite_create("conn");
	TCase	*tc = tcase_create("transcripts");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, keepalive_two_requests);
	tcase_add_test(tc, pipelined_answers_keep_order_across_modes);
	tcase_add_test(tc, pipelined_answers_leave_in_one_write);
	tcase_add_test(tc, short_write_leaves_the_rest_buffered);
	tcase_add_test(tc, half_close_still_answered);
	tcase_add_test(tc, malformed_is_400_and_closed);
	tcase_add_test(tc, full_queue_is_503_and_connection_stays);
	tcase_add_test(tc, vanished_client_takes_its_queued_job_back);
	tcase_add_test(tc, drain_closes_after_the_next_answer);
	tcase_add_test(tc, idle_connections_hold_no_request_state);
	suite_add_tcase(s, tc);

	tc = tcase_create("deadline");
	tcase_add_checked_fixture(tc, setup_deadline, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, deadline_is_504_for_running_and_queued);
	suite_add_tcase(s, tc);

	tc = tcase_create("keepalive");
	tcase_add_checked_fixture(tc, setup_keepalive, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, keepalive_counts_from_the_last_answer);
	tcase_add_test(tc, keepalive_answer_in_the_deadline_iteration);
	suite_add_tcase(s, tc);

	tc = tcase_create("early");
	tcase_add_test(tc, early_read_follows_its_hit_rate);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return unit_run(conn_suite());
}
