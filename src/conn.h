/*
 * conn.h - one client connection.
 *
 * A connection reads requests one at a time, hands each to its route's
 * handler and writes the answer; pipelined requests wait in the input
 * buffer, so responses leave in order whatever mode each route has.
 * Every way out goes through conn_close().
 */
#ifndef CONN_H
#define CONN_H

#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/time.h>

#include "reqid.h"

struct event_base;
struct config;
struct config_listen;
struct router;
struct accesslog;
struct dispatch;
struct pool;
struct stats;
struct stats_slot;
struct stats_cell;
struct conn;
struct conn_rq;

/*
 * Whether the read right after accept finds the request: a moving
 * average of its hits (of CONN_EARLY_ONE), and the connections since the
 * last try. See conn_early_want().
 */
#define CONN_EARLY_ONE	256
struct conn_early {
	unsigned	hits;
	unsigned	skipped;
};

/*
 * Try the first read at accept (1), or put the socket in epoll and wait
 * (0); then conn_early_note() what a try found. Tried while it finds the
 * request at least one time in three (a miss costs the read, and the
 * socket goes into epoll anyway: 3 system calls against 2), else once in
 * 16 connections to see whether the clients changed.
 */
int	conn_early_want(struct conn_early *e);
void	conn_early_note(struct conn_early *e, int hit);

/* What the connections of one worker share. Loop thread only. */
struct conn_env {
	struct event_base	*base;
	const struct config	*conf;
	const struct router	*router;
	struct accesslog	*alog;		/* NULL: access log off */
	struct dispatch		*dispatch;	/* runs handlers */
	struct pool		*pool;		/* for sy_offload() */
	struct stats		*stats;
	struct stats_slot	*stats_slot;	/* this worker's slot */
	struct stats_cell	*stats_cell;	/* this process's gauges */
	struct reqid_gen	 reqid;		/* this worker's request ids */

	/* libevent common timeouts, one queue per duration. */
	const struct timeval	*tv_proxy;
	const struct timeval	*tv_header;
	const struct timeval	*tv_body;
	const struct timeval	*tv_keepalive;
	const struct timeval	*tv_linger;
	const struct timeval	*tv_handler;
	struct timeval		 tv_send;

	/* Called after a connection has gone, e.g. to resume accepting. */
	void			(*closed_cb)(void *arg);
	void			*closed_arg;

	TAILQ_HEAD(, conn)	 conns;		/* open sockets */
	TAILQ_HEAD(, conn)	 orphans;	/* closed, handler running */
	/*
	 * Both lists: an orphan's handler still holds its request and
	 * memory, so it counts against max_connections and in the gauge.
	 */
	unsigned		 nconns;
	unsigned		 norphans;	/* length of orphans */
	int			 draining;	/* no new requests */

	/*
	 * Freed connections and request states, kept for the next ones
	 * (up to a bound): a keep-alive request, or a connection in the
	 * usual churn, allocates nothing.
	 */
	TAILQ_HEAD(, conn)	 spare_conns;
	unsigned		 nspare_conns;
	struct conn_rq		*spare_rq;
	unsigned		 nspare_rq;

	struct conn_early	 early;
	int			 read_missed;	/* a read found nothing */
};

/* What a worker hands its connections; every part but alog is required. */
struct conn_parts {
	const struct router	*router;
	struct dispatch		*dispatch;
	struct pool		*pool;
	struct accesslog	*alog;		/* NULL: access log off */
	struct stats		*stats;
	unsigned		 slot;		/* this worker's */
	struct stats_cell	*cell;		/* this process's gauges */
	void			(*closed_cb)(void *arg);	/* may be NULL */
	void			*closed_arg;
};

/*
 * The whole of env, in one place: the parts, the timeouts from conf on
 * base, and the request ids of this process (in the worker, after fork).
 * Returns -1 when libevent cannot set up its timeout queues.
 */
int	conn_env_init(struct conn_env *env, struct event_base *base,
	    const struct config *conf, const struct conn_parts *parts);

/*
 * Start serving fd, an accepted socket from peer sa on listener l (the
 * connection owns it from now on, even on failure): with l's
 * proxy_protocol, a PROXY protocol header must come first; with its tls,
 * a TLS handshake. Returns -1 when out of memory.
 */
int	conn_new(struct conn_env *env, int fd, const struct sockaddr *sa,
	    socklen_t salen, const struct config_listen *l);

/*
 * Drain: every connection closes after its next response (which says
 * Connection: close); idle ones close at their keep-alive timeout.
 */
void	conn_env_drain(struct conn_env *env);

/*
 * Close the connections waiting for a request, now. Only when nobody
 * will serve the port any more (the master is gone): a client may be
 * sending on one at this very moment.
 */
void	conn_env_close_idle(struct conn_env *env);

/* Close every connection at once (fast stop, exit). */
void	conn_env_close_all(struct conn_env *env);

/*
 * Free the connections whose handlers never finished, and the spares.
 * Only once the loop will not run again: their handlers' events must
 * never fire.
 */
void	conn_env_free_orphans(struct conn_env *env);

/*
 * End c: close its socket and free it, or, while its handler is still
 * running, free it when the handler finishes. Idempotent. reason is
 * logged at debug level.
 */
void	conn_close(struct conn *c, const char *reason);

#endif /* CONN_H */
