/*
 * worker.c - one worker process: its loop, its listeners, its connections.
 *
 * Design note. The worker accepts only on its own slot's SO_REUSEPORT
 * sockets, so the kernel spreads new connections over the workers and a
 * worker that stops leaves its queue to its replacement. Accepting pauses
 * (the listening events are deleted, not polled) while max_connections
 * are open, and for ACCEPT_RETRY_MS after EMFILE and friends: a listener
 * left armed then would wake the loop for ever without progress.
 *
 * Placement (sockets.c) reads the worker's load from its slot's entry
 * in the load map: the serving worker stores its open connections there
 * after each accept and close, and adds up what it accepted, against
 * what the program placed on its socket; at each tick, when none of its
 * sockets has a connection waiting, it sets accepted to placed, so that
 * connections placed but never accepted (a SYN never answered, a full
 * queue) do not count against it for ever.
 *
 * Draining (TERM or QUIT from the master at a reload or a stop, or the
 * master's pipe reaching EOF): accept what the kernel has queued on our
 * sockets, then close them, so nothing waits on a socket nobody will
 * accept on again (a socket the next generation shares stays open in the
 * master). Then finish every request in flight, pool jobs included. A
 * keep-alive connection is never closed under a client that may be
 * sending on it: its next response says "Connection: close", and one that
 * stays idle closes at its keep-alive timeout, or at timeouts.shutdown_ms
 * with everything else. INT exits at once.
 */
#include "autoconfig.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <grp.h>
#include <malloc.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "clock.h"
#include "accesslog.h"
#include "config.h"
#include "conn.h"
#include "dispatch.h"
#include "log.h"
#include "pool.h"
#include "router.h"
#include "sockets.h"
#include "stats.h"
#include "worker.h"
#include "xmalloc.h"

/*
 * Accepts per wake-up: one, as nginx does without multi_accept. The
 * listener's event is level-triggered, so the loop comes back while more
 * are queued; a second accept4(2) would mostly find EAGAIN, a system
 * call per connection for nothing.
 */
#define ACCEPT_BATCH		1
#define ACCEPT_RETRY_MS		100	/* pause after EMFILE */
#define WORKER_TICK_MS		250	/* heartbeat, gauges, loop lag */

struct worker {
	struct event_base	*base;
	const struct config	*conf;
	struct conn_env		 env;
	struct router		*router;
	struct pool		*pool;
	struct dispatch		*dispatch;
	struct event		**accept_evs;	/* one per listener */
	const int		*fds;		/* their sockets */
	size_t			 naccept;
	struct stats_cell	*cell;
	struct event		*beat_ev;	/* heartbeat tick */
	unsigned		 beat_ms;	/* its period */
	uint64_t		 beat_due_us;	/* when it should fire next */
	struct stats_slot	*slot_stats;
	struct sockets_load	*load;		/* placement entry; NULL: none */
	int			 accepting;	/* accept events are added */
	int			 stopping;
	int			 fast;		/* INT: exit without joining */
	struct event		*retry_ev;	/* resume after EMFILE */
	struct event		*flush_ev;	/* access log, every second */
	struct event		*stop_ev;	/* shutdown_ms deadline */
	struct event		*sig_evs[5];
	struct event		*master_ev;
};

static void
worker_accept_set(struct worker *w, int on)
{
	size_t	 i;

	if (w->accepting == on)
		return;
	for (i = 0; i < w->naccept; i++) {
		if (on)
			event_add(w->accept_evs[i], NULL);
		else
			event_del(w->accept_evs[i]);
	}
	w->accepting = on;
}

/*
 * Exit the loop once the last client is answered. Handlers still running
 * for clients that are gone (orphans) are not waited for: nobody would
 * read what they make.
 */
static void
worker_check_done(struct worker *w)
{
	/*
	 * Not while worker_listeners_close() takes the queue: a connection
	 * it answers and closes at once (conn_new() reads at once) would
	 * look like the last one, with the rest of the queue still to come.
	 */
	if (w->stopping && w->naccept == 0 &&
	    w->env.nconns == w->env.norphans)
		event_base_loopbreak(w->base);
}

/*
 * Our open connections, for placement. Not once stopping: the slot's
 * next worker (a reload's, a respawn's) writes it then, and a draining
 * worker's connections are on their way out.
 */
static void
worker_load_open(struct worker *w)
{
	if (w->load != NULL && !w->stopping)
		atomic_store_explicit(&w->load->open, w->env.nconns,
		    memory_order_relaxed);
}

/*
 * At the tick: no connection waiting on any of our sockets, so none
 * placed on them is still to be accepted. One that arrives between the
 * poll and the store is forgotten until the next tick: placement's
 * figure is an estimate, and the program takes accepted > placed as 0.
 */
static void
worker_load_reset(struct worker *w)
{
	struct pollfd	 pfd[16];
	size_t		 i;

	if (w->load == NULL || w->stopping || !w->accepting ||
	    w->naccept > sizeof(pfd) / sizeof(pfd[0]))
		return;
	for (i = 0; i < w->naccept; i++) {
		pfd[i].fd = w->fds[i];
		pfd[i].events = POLLIN;
		pfd[i].revents = 0;
	}
	if (poll(pfd, w->naccept, 0) != 0)
		return;		/* something waits, or an error: next time */
	atomic_store_explicit(&w->load->accepted,
	    atomic_load_explicit(&w->load->placed, memory_order_relaxed),
	    memory_order_relaxed);
}

/* conn_env closed_cb: a connection slot is free again. */
static void
worker_conn_closed_cb(void *arg)
{
	struct worker	*w = arg;

	worker_load_open(w);
	if (w->stopping) {
		worker_check_done(w);
		return;
	}
	if (!w->accepting && w->env.nconns < w->conf->limits.max_connections &&
	    !evtimer_pending(w->retry_ev, NULL))
		worker_accept_set(w, 1);
}

/* The listener of fd (ours: in conf's listen order). */
static const struct config_listen *
worker_listener(const struct worker *w, int fd)
{
	size_t	 i;

	for (i = 0; i < w->naccept; i++)
		if (w->fds[i] == fd)
			break;
	return &w->conf->listen[i < w->naccept ? i : 0];
}

/*
 * "deferred": the kernel completes the accept only once the request's
 * first bytes are there, as nginx's "listen ... deferred". Under ab, and
 * any client that writes after its connect(2) returns, the worker is
 * otherwise woken before the request: its read finds nothing, and the
 * socket goes into epoll (and is taken out again before its close), three
 * calls where a deferred accept needs none. A connection that sends
 * nothing waits in the kernel for about timeouts.header_ms, rounded up
 * to seconds, before it is accepted and its header timeout starts.
 * Set (or cleared, after a reload) by every worker on its own sockets;
 * unix sockets refuse it and have no handshake to defer.
 */
static void
worker_defer_accept(int fd, const struct config *conf, size_t i)
{
	int	 secs = 0;

	/* header_ms is at least 1: never 0, which is off. */
	if (i < conf->nlisten && conf->listen[i].deferred)
		secs = (int)((conf->timeouts.header_ms + 999) / 1000);
	(void)setsockopt(fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, &secs,
	    sizeof(secs));
}

static void
worker_accept_cb(evutil_socket_t fd, short what, void *arg)
{
	struct worker		*w = arg;
	const struct config_listen *l;
	struct sockaddr_storage	 ss;
	socklen_t		 sslen;
	struct timeval		 tv = { 0, ACCEPT_RETRY_MS * 1000 };
	int			 cfd, i;

	l = worker_listener(w, fd);
	for (i = 0; i < ACCEPT_BATCH; i++) {
		if (w->env.nconns >= w->conf->limits.max_connections) {
			atomic_fetch_add_explicit(&w->slot_stats->paused_limit,
			    1, memory_order_relaxed);
			worker_accept_set(w, 0);
			return;
		}
		sslen = sizeof(ss);
		cfd = accept4(fd, (struct sockaddr *)&ss, &sslen,
		    SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (cfd == -1) {
			switch (errno) {
			case EAGAIN:
#if EWOULDBLOCK != EAGAIN
			case EWOULDBLOCK:
#endif
			case EINTR:
			case ECONNABORTED:
			case EPROTO:
				return;
			case EMFILE:
			case ENFILE:
			case ENOBUFS:
			case ENOMEM:
				/*
				 * Every ACCEPT_RETRY_MS while it lasts:
				 * limited to a line a second, with a count.
				 */
				log_warn_limited("accept: pausing for %d ms",
				    ACCEPT_RETRY_MS);
				atomic_fetch_add_explicit(
				    &w->slot_stats->paused_emfile, 1,
				    memory_order_relaxed);
				worker_accept_set(w, 0);
				evtimer_add(w->retry_ev, &tv);
				return;
			default:
				log_warn("accept");
				return;
			}
		}
		if (w->load != NULL)
			atomic_fetch_add_explicit(&w->load->accepted, 1,
			    memory_order_relaxed);
		(void)conn_new(&w->env, cfd, (struct sockaddr *)&ss, sslen, l);
		worker_load_open(w);
	}
}

static void
worker_retry_cb(evutil_socket_t fd, short what, void *arg)
{
	struct worker	*w = arg;

	if (!w->stopping)
		worker_accept_set(w, 1);
}

/*
 * The loop ran this timer: it is alive (the master's watchdog reads the
 * heartbeat). How late the timer fired is the loop lag: the time a ready
 * event waits for a callback that holds the loop. The pool's gauges are
 * sampled here too, for the scrapes other workers answer.
 */
static void
worker_beat_cb(evutil_socket_t fd, short what, void *arg)
{
	struct worker	*w = arg;
	uint64_t	 now_us = clock_us(), lag_us;

	atomic_store(&w->cell->heartbeat_ms, now_us / 1000);
	if (w->beat_due_us != 0) {
		lag_us = now_us > w->beat_due_us ? now_us - w->beat_due_us : 0;
		atomic_store_explicit(&w->cell->loop_lag_us, lag_us,
		    memory_order_relaxed);
		if (lag_us > atomic_load_explicit(&w->cell->loop_lag_max_us,
		    memory_order_relaxed))
			atomic_store_explicit(&w->cell->loop_lag_max_us, lag_us,
			    memory_order_relaxed);
	}
	w->beat_due_us = now_us + (uint64_t)w->beat_ms * 1000;
	/* What the rate-limited warnings held back, once their second is up. */
	log_limit_flush(0);
	atomic_store_explicit(&w->cell->pool_busy, pool_busy(w->pool),
	    memory_order_relaxed);
	atomic_store_explicit(&w->cell->pool_queued, pool_queued(w->pool),
	    memory_order_relaxed);
	worker_load_open(w);	/* ours again after a reload's overlap */
	worker_load_reset(w);
}

/*
 * Run as conf->user / conf->group when started as root. After the
 * listeners and the access log are open: those may need root.
 */
void
worker_drop_privileges(const struct config *conf)
{
	if (geteuid() != 0 || (conf->user == NULL && conf->group == NULL))
		return;
	if (setgroups(1, &conf->gid) == -1 || setgid(conf->gid) == -1)
		fatal("cannot switch to group %u", (unsigned)conf->gid);
	if (conf->user != NULL && setuid(conf->uid) == -1)
		fatal("cannot switch to user %s", conf->user);
}

static void
worker_flush_cb(evutil_socket_t fd, short what, void *arg)
{
	struct worker	*w = arg;

	accesslog_flush(w->env.alog);
}

static void
worker_stop_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct worker	*w = arg;

	log_warnx("shutdown_ms passed with %u connection%s open: closing "
	    "them", w->env.nconns, w->env.nconns == 1 ? "" : "s");
	/* Nor wait for pool jobs still running: exit without joining. */
	w->fast = 1;
	conn_env_close_all(&w->env);
	event_base_loopbreak(w->base);
}

/*
 * Take what the kernel queued on our sockets, then close them: after
 * this, connections reach only the workers that still listen.
 */
static void
worker_listeners_close(struct worker *w)
{
	struct sockaddr_storage	 ss;
	socklen_t		 sslen;
	size_t			 i;
	int			 cfd;

	worker_accept_set(w, 0);
	for (i = 0; i < w->naccept; i++) {
		/*
		 * Everything queued, past max_connections and the batch size:
		 * once the last copy of a socket closes, the kernel resets
		 * whatever is still queued on it.
		 */
		for (;;) {
			sslen = sizeof(ss);
			cfd = accept4(w->fds[i], (struct sockaddr *)&ss, &sslen,
			    SOCK_NONBLOCK | SOCK_CLOEXEC);
			if (cfd == -1) {
				if (errno == EINTR || errno == ECONNABORTED)
					continue;
				break;	/* EAGAIN: empty; else as good as */
			}
			(void)conn_new(&w->env, cfd, (struct sockaddr *)&ss,
			    sslen, &w->conf->listen[i]);
		}
		event_free(w->accept_evs[i]);
		w->accept_evs[i] = NULL;
		(void)close(w->fds[i]);
	}
	w->naccept = 0;
}

/* Graceful stop: stop accepting, let busy connections finish. */
static void
worker_stop(struct worker *w, const char *why)
{
	struct timeval	 tv;
	unsigned	 ms = w->conf->timeouts.shutdown_ms;

	if (w->stopping)
		return;
	w->stopping = 1;
	worker_listeners_close(w);
	log_info("draining (%s): %u connection%s open", why, w->env.nconns,
	    w->env.nconns == 1 ? "" : "s");
	/*
	 * The pool keeps taking jobs: a keep-alive client may send one more
	 * request before it reads our Connection: close, and it must be
	 * served, not refused with a 503. pool_free() at exit stops it.
	 */
	conn_env_drain(&w->env);
	tv = clock_tv(ms);
	evtimer_add(w->stop_ev, &tv);
	worker_check_done(w);
}

static void
worker_signal_cb(evutil_socket_t sig, short what, void *arg)
{
	struct worker	*w = arg;

	switch (sig) {
	case SIGTERM:
	case SIGQUIT:
		worker_stop(w, sig == SIGTERM ? "TERM" : "QUIT");
		break;
	case SIGINT:
		w->fast = 1;
		conn_env_close_all(&w->env);
		event_base_loopbreak(w->base);
		break;
	case SIGUSR1:
		if (log_reopen() == -1)
			log_warn("reopening the error log");
		if (w->env.alog != NULL && accesslog_reopen(w->env.alog) == -1)
			log_warn("reopening the access log");
		else
			log_debug("log files reopened (USR1)");
		break;
	}
}

static void
worker_master_cb(evutil_socket_t fd, short what, void *arg)
{
	struct worker	*w = arg;
	char		 buf[64];
	ssize_t		 n;

	n = read(fd, buf, sizeof(buf));
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n > 0)
		return;
	/*
	 * EOF: the master died; nobody will supervise us or take over the
	 * port, so idle keep-alive connections have nothing to wait for.
	 */
	event_del(w->master_ev);
	worker_stop(w, "master gone");
	conn_env_close_idle(&w->env);
	worker_check_done(w);
}

static void
worker_free(struct worker *w)
{
	size_t	 i;

	for (i = 0; i < w->naccept; i++)
		event_free(w->accept_evs[i]);
	free(w->accept_evs);
	if (w->beat_ev != NULL)
		event_free(w->beat_ev);
	for (i = 0; i < sizeof(w->sig_evs) / sizeof(w->sig_evs[0]); i++)
		if (w->sig_evs[i] != NULL)
			event_free(w->sig_evs[i]);
	if (w->master_ev != NULL)
		event_free(w->master_ev);
	if (w->retry_ev != NULL)
		event_free(w->retry_ev);
	if (w->flush_ev != NULL)
		event_free(w->flush_ev);
	if (w->stop_ev != NULL)
		event_free(w->stop_ev);
	accesslog_free(w->env.alog);
	dispatch_free(w->dispatch);
	router_free(w->router);
	event_base_free(w->base);
}

void
worker_main(const struct worker_params *p)
{
	static const int	 sigs[] = { SIGTERM, SIGQUIT, SIGINT, SIGUSR1 };
	struct worker		 w;
	struct conn_parts	 parts = { 0 };
	struct timeval		 sec = { 1, 0 }, beat;
	sigset_t		 all;
	unsigned		 beat_ms;
	struct config_error	 cerr;
	char			 role[32], msg[sizeof(cerr.text) + PATH_MAX + 8];
	size_t			 i;
	int			 one = 1;

	(void)snprintf(role, sizeof(role), "worker %u", p->slot);
	log_set_role(role);

	/* The master's base, reinitialised right after fork: drop it. */
	event_base_free(p->inherited);
	(void)signal(SIGHUP, SIG_IGN);	/* the master coordinates reloads */
	/*
	 * The master's signals, and two that stop or kill by default: a
	 * "pkill -TTIN switchyard" meant for the master must not stop
	 * every worker until the watchdog kills them.
	 */
	(void)signal(SIGTTIN, SIG_IGN);
	(void)signal(SIGTTOU, SIG_IGN);
	(void)signal(SIGUSR2, SIG_IGN);
	(void)signal(SIGWINCH, SIG_IGN);
	/*
	 * This generation's logging, not the one the master still runs
	 * with: a reload that lowers log_level or moves error_log applies
	 * to the new workers from their first line.
	 */
	if (log_init(p->conf->error_log, p->conf->log_level)
	    == -1)
		log_warn("error_log %s", p->conf->error_log);

	/*
	 * Request bodies larger than this come from mmap(2) and go back to
	 * the kernel when freed. Left to itself, glibc raises the threshold
	 * to the size of the first such block freed, and the bodies of a
	 * burst of uploads then stay in the heap, which gives back only its
	 * top: a worker would keep the memory of its worst minute.
	 */
	(void)mallopt(M_MMAP_THRESHOLD, 128 * 1024);

	memset(&w, 0, sizeof(w));
	w.conf = p->conf;
	/*
	 * Four ticks a second, for fresh gauges and loop lag; more when the
	 * watchdog needs several per worker_timeout_ms.
	 */
	beat_ms = WORKER_TICK_MS;
	if (p->conf->worker_timeout_ms != 0 &&
	    p->conf->worker_timeout_ms / 4 < beat_ms)
		beat_ms = p->conf->worker_timeout_ms / 4;
	w.beat_ms = beat_ms;
	if ((w.base = event_base_new()) == NULL)
		fatalx("event_base_new failed");
	if ((w.router = router_new(p->conf)) == NULL)
		fatalx("cannot build the route table");
	/* The master mapped it before forking us. */
	if ((parts.stats = stats_get()) == NULL)
		fatalx("no shared stats segment");
	w.slot_stats = &parts.stats->slots[p->slot];
	if (p->conf->access_log != NULL &&
	    (parts.alog = accesslog_open(w.base, p->conf->access_log,
	    p->conf->access_log_format, w.slot_stats)) == NULL)
		fatal("access log %s", p->conf->access_log);
	worker_drop_privileges(p->conf);
	/*
	 * Die with the master, set only now: a change of credentials clears
	 * it. Then close the race with a death before it was set.
	 */
	(void)prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (getppid() != p->master_pid)
		exit(0);
	/*
	 * Our own handlers, from the plugin files the master pinned: after
	 * the drop, so that init() runs as handle() will, and before the
	 * pool, so that it runs alone. The checking child bound the same
	 * files; failing here is rare (an init() that depends on the time
	 * or the disk), and the master then sees a worker that exited
	 * before it was ready.
	 */
	if (config_bind(p->conf, &cerr) == -1)
		fatalx("%s", config_error_format(&cerr, msg, sizeof(msg)));
	/*
	 * Threads after fork (they would not survive it) and after the
	 * privilege drop: a thread started as root stays root unless every
	 * thread takes part in setuid(2), which glibc arranges with a signal
	 * that ThreadSanitizer's runtime, for one, holds back.
	 */
	if ((w.pool = pool_new(w.base, p->conf->threads,
	    p->conf->queue_limit)) == NULL)
		fatal("cannot start %u pool threads", p->conf->threads);
	w.dispatch = dispatch_new(p->conf, w.pool, parts.stats, p->slot,
	    p->generation);
	parts.router = w.router;
	parts.dispatch = w.dispatch;
	parts.pool = w.pool;
	parts.slot = p->slot;
	parts.cell = p->cell;
	parts.closed_cb = worker_conn_closed_cb;
	parts.closed_arg = &w;
	if (conn_env_init(&w.env, w.base, p->conf, &parts) == -1)
		fatalx("cannot set up timeouts");

	w.naccept = p->nfds;
	w.fds = p->fds;
	w.cell = p->cell;
	w.load = p->load;
	w.accept_evs = xcalloc(p->nfds, sizeof(*w.accept_evs));
	for (i = 0; i < p->nfds; i++) {
		/*
		 * Small responses must leave now, not after a delayed ACK.
		 * Set on the listener, Linux hands it down to every socket
		 * accepted from it: no system call per connection. Unix
		 * sockets refuse it, and need none.
		 */
		(void)setsockopt(p->fds[i], IPPROTO_TCP, TCP_NODELAY, &one,
		    sizeof(one));
		worker_defer_accept(p->fds[i], p->conf, i);
		if ((w.accept_evs[i] = event_new(w.base, p->fds[i],
		    EV_READ | EV_PERSIST, worker_accept_cb, &w)) == NULL)
			fatalx("event_new failed");
	}
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		w.sig_evs[i] = evsignal_new(w.base, sigs[i], worker_signal_cb,
		    &w);
		if (w.sig_evs[i] == NULL || evsignal_add(w.sig_evs[i], NULL))
			fatalx("cannot watch signal %d", sigs[i]);
	}
	/*
	 * The master forked us with every signal blocked: a USR1 or TERM
	 * sent while we were starting waited for these handlers.
	 */
	(void)sigprocmask(SIG_SETMASK, &p->sigmask, NULL);
	w.master_ev = event_new(w.base, p->master_fd, EV_READ | EV_PERSIST,
	    worker_master_cb, &w);
	w.retry_ev = evtimer_new(w.base, worker_retry_cb, &w);
	w.stop_ev = evtimer_new(w.base, worker_stop_timeout_cb, &w);
	w.flush_ev = event_new(w.base, -1, EV_PERSIST, worker_flush_cb, &w);
	if (w.master_ev == NULL || w.retry_ev == NULL || w.stop_ev == NULL ||
	    w.flush_ev == NULL || event_add(w.master_ev, NULL) == -1)
		fatalx("cannot set up the worker's events");
	if (w.env.alog != NULL)
		event_add(w.flush_ev, &sec);
	beat = clock_tv(beat_ms);
	if ((w.beat_ev = event_new(w.base, -1, EV_PERSIST, worker_beat_cb,
	    &w)) == NULL || event_add(w.beat_ev, &beat) == -1)
		fatalx("cannot start the heartbeat");
	worker_beat_cb(-1, 0, &w);
	worker_accept_set(&w, 1);

	/* Serving: the master may now retire the generation before us. */
	if (write(p->ready_fd, "R", 1) != 1)
		log_warn("telling the master we are ready");
	(void)close(p->ready_fd);

	log_debug("%s: serving on %zu sockets", __func__, p->nfds);
	(void)event_base_dispatch(w.base);
	log_limit_flush(1);	/* the counts of a storm's last second */

	/*
	 * On the way out: freeing the signal events restores the default
	 * actions, and a USR1 (log rotation) would then kill us before the
	 * access log is flushed. Nothing is waited for from here on.
	 */
	(void)sigfillset(&all);
	(void)sigprocmask(SIG_BLOCK, &all, NULL);
	conn_env_close_all(&w.env);
	if (w.fast || w.env.norphans > 0) {
		/*
		 * A fast stop must not wait for the job a pool thread has in
		 * hand (pool_free joins it: a 30 s sleep would hold the stop
		 * for 30 s), nor a drain for handlers whose clients are gone.
		 * Their connections are closed; the process ends now.
		 */
		if (w.env.alog != NULL)
			accesslog_flush(w.env.alog);
		_exit(0);
	}
	/*
	 * Waits for running jobs and delivers every done(): orphans go. The
	 * loop no longer ticks meanwhile: tell the watchdog we are exiting.
	 */
	atomic_store(&w.cell->heartbeat_ms, STATS_HEARTBEAT_EXITING);
	pool_free(w.pool);
	conn_env_free_orphans(&w.env);
	worker_free(&w);
	exit(0);
}
