/*
 * master.c - binds the listeners, runs generations of workers, reloads.
 *
 * Design note.
 *
 * Sockets. For every listen address the master binds one SO_REUSEPORT
 * socket per worker slot and keeps it open as long as some configuration
 * wants it. Worker k of any generation inherits slot k's sockets: a
 * replacement (respawn, reload) accepts on the very same kernel queues,
 * so no queued connection is lost. A socket no longer wanted (address
 * removed, fewer workers) is closed by the master when the new generation
 * takes over; the old worker that holds the last copy accepts what is
 * queued on it before closing it.
 *
 * Generations. A reload (HUP) parses the new file first; an invalid one
 * changes nothing. A valid one starts a new generation of workers on the
 * same slots; each reports "R" on its ready pipe once it accepts. When
 * all have, the new generation serves and the old one drains (TERM: stop
 * accepting, finish what is in flight, keep-alive connections get
 * "Connection: close"). A new worker that dies before it is ready rolls
 * the reload back: the old generation never stopped serving.
 *
 * Supervision. Signals arrive as loop events (libevent's signal pipe), so
 * everything here runs in normal context. A serving worker that dies is
 * replaced in its slot, after a backoff while the slot keeps crashing.
 * Each worker ticks a heartbeat in the shared stats segment; one whose
 * loop has not ticked for worker_timeout_ms is killed and replaced.
 * Workers hold the read end of a pipe only the master writes to: when the
 * master dies, however it dies, they read EOF and drain.
 *
 * Stopping. TERM or QUIT first sets the segment's draining flag, so that
 * every worker's "health" answers 503; with timeouts.drain_delay_ms the
 * workers then go on accepting and serving that long, and balancers take
 * the instance out while nothing is refused yet. Only then do the workers
 * drain, within shutdown_ms. INT, and a second TERM or QUIT during the
 * delay, drain at once. A reload never sets the flag.
 */
#include "autoconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/file.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include <linux/capability.h>

#include "clock.h"
#include "accesslog.h"
#include "config.h"
#include "log.h"
#include "master.h"
#include "notify.h"
#include "sockets.h"
#include "stats.h"
#include "worker.h"
#include "xmalloc.h"

#define RESPAWN_MIN_MS		100
#define RESPAWN_MAX_MS		10000
#define CRASH_WINDOW_S		10	/* a worker dying sooner "crashed" */
#define STOP_GRACE_MS		1000	/* after shutdown_ms, before KILL */
#define READY_TIMEOUT_MS	10000	/* a reload's workers must be ready */
#define CHECK_TIMEOUT_MS	10000	/* the checking child (master_check) */

enum wstate {
	W_STARTING,		/* forked, not yet accepting */
	W_READY,		/* accepting */
	W_DRAINING		/* told to drain; not replaced when it exits */
};

struct master;

struct wproc {
	TAILQ_ENTRY(wproc)	 entry;
	struct master		*m;
	pid_t			 pid;
	unsigned		 slot;
	unsigned		 gen;
	enum wstate		 state;
	int			 ready_fd;	/* -1 once read or closed */
	struct event		*ready_ev;
	struct stats_cell	*cell;
	int			 stuck;		/* killed by the watchdog */
};

struct slot {
	struct master		*m;
	unsigned		 k;		/* its index */
	time_t			 started;	/* of its current worker */
	unsigned		 backoff_ms;	/* next respawn delay */
	struct event		*respawn_ev;
};

struct master {
	const char			*path;
	const struct config_overrides	*overrides;
	struct config			*conf;	/* what the serving gen runs */
	struct config			*next;	/* a reload in progress */
	unsigned			 gen;	/* serving generation */
	unsigned			 next_gen;
	unsigned			 gen_last;	/* highest ever used */
	unsigned			 nworkers; /* serving slots */
	struct event_base		*base;
	struct sockets			*socks;	/* listening, per slot */
	struct slot			*slots;	/* CONFIG_WORKERS_MAX, stable */
	unsigned			 nslots_alloc; /* with an event */
	TAILQ_HEAD(, wproc)		 procs;
	struct stats			*stats;
	int				 death[2]; /* workers read [0] */
	int				 stopping;
	int				 delaying; /* in drain_delay_ms */
	int				 announced; /* READY=1 sent */
	int				 reload_again;
	struct timespec			 reload_start;
	char				 last_reload[384];
	char				 last_crash[320];	/* STATUS= */
	char				*pid_file;
	int				 pid_fd;	/* locked while we live */
	unsigned long long		 wd_usec;	/* systemd's watchdog */
	uint64_t			 wd_last_ms;
	struct event			*sig_evs[10];
	struct event			*kill_ev;
	struct event			*drain_ev;	/* drain_delay_ms */
	struct event			*ready_timeout_ev;
	struct event			*watchdog_ev;
};

static void	master_spawn(struct master *, unsigned);
static void	master_crash(struct master *, const struct wproc *, int, char *,
		    size_t);
static void	master_pid_dir(const char *);
static int	master_check_as(struct master *, struct config *,
		    struct config_error *);
static void	master_child_close(struct master *, const int *, size_t);
static void	master_reload(struct master *);

static unsigned
master_count(const struct master *m, unsigned gen, int state)
{
	const struct wproc	*wp;
	unsigned		 n = 0;

	TAILQ_FOREACH(wp, &m->procs, entry)
		if (wp->gen == gen && (state < 0 || wp->state == (enum wstate)state))
			n++;
	return n;
}

static void
master_status(struct master *m, int ready)
{
	char	 status[896];

	(void)snprintf(status, sizeof(status), "%sgeneration %u, %u "
	    "workers%s%s%s%s", m->delaying ? "draining (health answers 503); " :
	    "", m->gen, m->nworkers,
	    m->last_reload[0] ? "; last reload: " : "", m->last_reload,
	    m->last_crash[0] ? "; last crash: " : "", m->last_crash);
	/* After STOPPING=1, systemd must not read READY=1. */
	if (ready && !m->delaying)
		notify_ready(status);
	else
		notify_status(status);
}

/*
 * Publish m->last_reload, just written, to the status handler: ok when the
 * new file serves. The time goes to 0 first and is stored last, so a
 * reader that sees the same non-zero time before and after reading the
 * text has read it whole.
 */
static void
master_reload_record(struct master *m, int ok)
{
	struct stats_master	*sm = &m->stats->master;

	atomic_store(&sm->reload_ms, 0);
	atomic_store(&sm->reload_ok, ok);
	(void)snprintf(sm->reload_text, sizeof(sm->reload_text), "%s",
	    m->last_reload);
	atomic_store(&sm->reload_ms, clock_wall_ms());
}

/*
 * Give each of conf's routes its slot in the stats segment, by path, so a
 * route keeps its counters across reloads; record what the status handler
 * shows of it. Before the workers that run conf are forked.
 */
static void
master_stats_routes(struct master *m, struct config *conf)
{
	struct stats_route	*sr;
	size_t			 i;

	for (i = 0; i < conf->nroutes; i++) {
		conf->routes[i].stats_index = stats_route_index(m->stats,
		    conf->routes[i].path);
		if (conf->routes[i].stats_index == 0)
			continue;	/* table full: counted as "none" */
		sr = &m->stats->routes[conf->routes[i].stats_index];
		(void)snprintf(sr->handler, sizeof(sr->handler), "%s",
		    conf->routes[i].handler_name);
		(void)snprintf(sr->mode, sizeof(sr->mode), "%s",
		    config_mode_name(conf->routes[i].mode));
	}
}

/* -- sockets --------------------------------------------------------- */

/* -- workers --------------------------------------------------------- */

static struct stats_cell *
master_cell_get(struct master *m)
{
	unsigned	 i;
	int		 free_pid = 0;

	for (i = 0; i < STATS_CELLS; i++)
		if (atomic_compare_exchange_strong(&m->stats->cells[i].pid,
		    &free_pid, -1))
			return &m->stats->cells[i];
		else
			free_pid = 0;
	return NULL;
}

static void
master_wproc_free(struct master *m, struct wproc *wp)
{
	TAILQ_REMOVE(&m->procs, wp, entry);
	if (wp->ready_ev != NULL)
		event_free(wp->ready_ev);
	if (wp->ready_fd != -1)
		(void)close(wp->ready_fd);
	if (wp->cell != NULL)
		atomic_store(&wp->cell->pid, 0);
	free(wp);
}

static void
master_commit(struct master *m)
{
	struct config	*old = m->conf;
	struct wproc	*wp;
	unsigned	 k;

	m->conf = m->next;
	m->next = NULL;
	m->gen = m->next_gen;
	atomic_store(&m->stats->master.generation, m->gen);
	atomic_fetch_add(&m->stats->master.reloads_ok, 1);
	master_stats_routes(m, m->conf);	/* the serving config's names */
	m->nworkers = m->conf->workers;
	evtimer_del(m->ready_timeout_ev);
	sockets_prune(m->socks, m->conf, m->nworkers);
	sockets_place(m->socks, m->conf, m->nworkers);
	TAILQ_FOREACH(wp, &m->procs, entry)
		if (wp->gen != m->gen && wp->state != W_DRAINING) {
			wp->state = W_DRAINING;
			if (kill(wp->pid, SIGTERM) == -1)
				log_warn("kill %ld", (long)wp->pid);
		}
	for (k = 0; k < m->nslots_alloc; k++)
		m->slots[k].backoff_ms = 0;
	if (old->log_level != m->conf->log_level)
		log_set_level(m->conf->log_level);
	if ((old->error_log == NULL) != (m->conf->error_log == NULL) ||
	    (old->error_log != NULL &&
	    strcmp(old->error_log, m->conf->error_log) != 0)) {
		if (log_init(m->conf->error_log,
		    m->conf->log_level) == -1)
			log_warn("reload: error_log %s", m->conf->error_log);
	}
	if ((old->pid_file == NULL) != (m->conf->pid_file == NULL) ||
	    (old->pid_file != NULL &&
	    strcmp(old->pid_file, m->conf->pid_file) != 0))
		log_warnx("reload: pid_file cannot change while running; "
		    "keeping %s", m->pid_file ? m->pid_file : "none");
	(void)snprintf(m->last_reload, sizeof(m->last_reload),
	    "generation %u ready %.0f ms after HUP", m->gen,
	    (clock_since_s(&m->reload_start) * 1e3));
	master_reload_record(m, 1);
	log_info("reload: %s (%u workers); draining the previous generation",
	    m->last_reload, m->nworkers);
	master_status(m, 1);
	config_free(old);
	if (m->reload_again) {
		m->reload_again = 0;
		master_reload(m);
	}
}

static void
master_rollback(struct master *m, const char *why)
{
	struct wproc	*wp;

	evtimer_del(m->ready_timeout_ev);
	log_errorx("reload failed: %s; generation %u keeps serving", why,
	    m->gen);
	atomic_fetch_add(&m->stats->master.reloads_failed, 1);
	master_stats_routes(m, m->conf);	/* names back to the old ones */
	(void)snprintf(m->last_reload, sizeof(m->last_reload), "failed: %s",
	    why);
	master_reload_record(m, 0);
	/* They may have taken connections already: let them finish those. */
	TAILQ_FOREACH(wp, &m->procs, entry)
		if (wp->gen == m->next_gen && wp->state != W_DRAINING) {
			wp->state = W_DRAINING;
			(void)kill(wp->pid, SIGTERM);
		}
	sockets_prune(m->socks, m->conf, m->nworkers);
	sockets_place(m->socks, m->conf, m->nworkers);
	config_free(m->next);
	m->next = NULL;
	master_status(m, 1);
	/* A HUP during this reload may come with the fix: read again. */
	if (m->reload_again) {
		m->reload_again = 0;
		master_reload(m);
	}
}

/* Every worker of the generation being started is ready? */
static void
master_check_ready(struct master *m)
{
	if (m->next != NULL) {
		if (master_count(m, m->next_gen, W_READY) == m->next->workers)
			master_commit(m);
		return;
	}
	if (!m->announced &&
	    master_count(m, m->gen, W_READY) == m->nworkers) {
		m->announced = 1;
		log_info("ready: %u workers", m->nworkers);
		master_status(m, 1);
	}
}

static void
master_ready_cb(evutil_socket_t fd, short what, void *arg)
{
	struct wproc	*wp = arg;
	struct master	*m = wp->m;
	char		 c;
	ssize_t		 n;

	n = read(fd, &c, 1);
	if (n == -1 && (errno == EINTR || errno == EAGAIN))
		return;
	event_del(wp->ready_ev);
	(void)close(wp->ready_fd);
	wp->ready_fd = -1;
	if (n == 1 && c == 'R' && wp->state == W_STARTING) {
		wp->state = W_READY;
		if (!m->stopping)
			master_check_ready(m);
	}
}

/* Child after fork: close what belongs to the master or other slots. */
static void
master_child_close(struct master *m, const int *keep, size_t nkeep)
{
	struct wproc	*wp;

	(void)close(m->death[1]);
	if (m->pid_fd != -1)
		(void)close(m->pid_fd);	/* the lock is the master's alone */
	TAILQ_FOREACH(wp, &m->procs, entry)
		if (wp->ready_fd != -1)
			(void)close(wp->ready_fd);
	sockets_child_close(m->socks, keep, nkeep);
}

/* Fork a worker of generation gen for slot k, running conf. */
static int
master_fork(struct master *m, struct config *conf, unsigned gen, unsigned k)
{
	struct worker_params	 p;
	struct wproc		*wp;
	struct stats_cell	*cell;
	struct sockets_load	*load;
	int			 ready[2], *fds;
	pid_t			 pid, self;
	sigset_t		 all, old;
	size_t			 i;

	if ((cell = master_cell_get(m)) == NULL) {
		log_errorx("no free stats cell for worker %u", k);
		return -1;
	}
	if (pipe2(ready, O_CLOEXEC) == -1) {
		log_error("pipe for worker %u", k);
		atomic_store(&cell->pid, 0);
		return -1;
	}
	atomic_store(&cell->heartbeat_ms, clock_ms());
	atomic_store(&cell->started_ms, clock_wall_ms());
	if (k + 1 > atomic_load(&m->stats->master.slots_used))
		atomic_store(&m->stats->master.slots_used, k + 1);
	atomic_store(&cell->slot, k);
	atomic_store(&cell->generation, gen);
	atomic_store(&cell->connections, 0);
	atomic_store(&cell->pool_busy, 0);
	atomic_store(&cell->pool_queued, 0);
	atomic_store(&cell->loop_lag_us, 0);
	atomic_store(&cell->loop_lag_max_us, 0);
	atomic_store(&cell->pool_threads, conf->threads);
	atomic_store(&cell->pool_queue_limit, conf->queue_limit);
	atomic_store(&cell->loop_route, 0);
	for (i = 0; i < STATS_ROUTES; i++)	/* a dead process's counts */
		if (atomic_load(&cell->pool_running[i]) != 0)
			atomic_store(&cell->pool_running[i], 0);
	fds = xcalloc(conf->nlisten, sizeof(int));
	sockets_slot_fds(m->socks, conf, k, fds);
	load = sockets_load_slot(m->socks, k);	/* child_close drops the map */
	/*
	 * Fork with every signal blocked: until the child has its own
	 * handlers, a signal would run the master's (libevent's, writing
	 * into the master's signal pipe) or the default one (USR1 kills).
	 */
	(void)sigfillset(&all);
	(void)sigprocmask(SIG_BLOCK, &all, &old);
	self = getpid();
	pid = fork();
	if (pid != 0)
		(void)sigprocmask(SIG_SETMASK, &old, NULL);
	if (pid == -1) {
		log_error("fork for worker %u", k);
		(void)close(ready[0]);
		(void)close(ready[1]);
		atomic_store(&cell->pid, 0);
		free(fds);
		return -1;
	}
	if (pid == 0) {
		/*
		 * Child after fork. The base still shares the master's epoll
		 * set and signal pipe: reinit it before anything else, and
		 * before closing the fds its events watch.
		 */
		if (event_reinit(m->base) == -1)
			fatalx("event_reinit failed");
		(void)close(ready[0]);
		master_child_close(m, fds, conf->nlisten);
		atomic_store(&cell->pid, (int)getpid());
		p.conf = conf;
		p.slot = k;
		p.generation = gen;
		p.fds = fds;
		p.nfds = conf->nlisten;
		p.master_fd = m->death[0];
		p.ready_fd = ready[1];
		p.master_pid = self;
		p.sigmask = old;
		p.cell = cell;
		p.load = load;
		p.inherited = m->base;
		worker_main(&p);
	}
	free(fds);
	(void)close(ready[1]);
	atomic_store(&cell->pid, (int)pid);
	wp = xcalloc(1, sizeof(*wp));
	wp->m = m;
	wp->pid = pid;
	wp->slot = k;
	wp->gen = gen;
	wp->state = W_STARTING;
	wp->cell = cell;
	wp->ready_fd = ready[0];
	wp->ready_ev = event_new(m->base, ready[0], EV_READ | EV_PERSIST,
	    master_ready_cb, wp);
	if (wp->ready_ev == NULL || event_add(wp->ready_ev, NULL) == -1)
		fatalx("cannot watch worker %u's ready pipe", k);
	TAILQ_INSERT_TAIL(&m->procs, wp, entry);
	log_info("worker %u started, pid %ld, generation %u", k, (long)pid,
	    gen);
	return 0;
}

static void	master_respawn_cb(evutil_socket_t, short, void *);

/* Give slots 0..n-1 their respawn timers. */
static void
master_slots_grow(struct master *m, unsigned n)
{
	unsigned	 k;

	for (k = m->nslots_alloc; k < n; k++) {
		m->slots[k].m = m;
		m->slots[k].k = k;
		m->slots[k].respawn_ev = evtimer_new(m->base,
		    master_respawn_cb, &m->slots[k]);
		if (m->slots[k].respawn_ev == NULL)
			fatalx("evtimer_new failed");
	}
	if (n > m->nslots_alloc)
		m->nslots_alloc = n;
}

static void
master_respawn_cb(evutil_socket_t fd, short what, void *arg)
{
	struct slot	*s = arg;

	master_spawn(s->m, s->k);
}

/* Start slot k's worker in the serving generation, unless it has one. */
static void
master_spawn(struct master *m, unsigned k)
{
	struct wproc	*wp;
	struct timeval	 tv = { 0, RESPAWN_MIN_MS * 1000 };

	if (m->stopping || k >= m->nworkers)
		return;
	TAILQ_FOREACH(wp, &m->procs, entry)
		if (wp->gen == m->gen && wp->slot == k &&
		    wp->state != W_DRAINING)
			return;
	m->slots[k].started = time(NULL);
	if (master_fork(m, m->conf, m->gen, k) == -1)
		evtimer_add(m->slots[k].respawn_ev, &tv);
}

static void
master_reap(struct master *m)
{
	struct wproc	*wp;
	struct slot	*s;
	struct timeval	 tv;
	char		 why[256];
	pid_t		 pid;
	int		 status;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		TAILQ_FOREACH(wp, &m->procs, entry)
			if (wp->pid == pid)
				break;
		if (wp == NULL)
			continue;
		if (WIFSIGNALED(status)) {
			(void)snprintf(why, sizeof(why), "killed by signal %d "
			    "(%s)%s", WTERMSIG(status), strsignal(WTERMSIG(status)),
			    wp->stuck ? " by the watchdog" : "");
			if (!m->stopping)
				master_crash(m, wp, WTERMSIG(status), why,
				    sizeof(why));
		} else
			(void)snprintf(why, sizeof(why), "exited with status %d",
			    WEXITSTATUS(status));
		if (wp->state == W_DRAINING || m->stopping) {
			log_info("worker %u (pid %ld, generation %u) %s",
			    wp->slot, (long)pid, wp->gen, why);
			master_wproc_free(m, wp);
			continue;
		}
		if (m->next != NULL && wp->gen == m->next_gen) {
			char	msg[320];

			(void)snprintf(msg, sizeof(msg), "new worker %u (pid "
			    "%ld) %s before it was ready", wp->slot, (long)pid,
			    why);
			master_wproc_free(m, wp);
			master_rollback(m, msg);
			continue;
		}
		log_errorx("worker %u (pid %ld) %s", wp->slot, (long)pid, why);
		atomic_fetch_add(wp->stuck ?
		    &m->stats->master.restarts_watchdog : WIFSIGNALED(status) ?
		    &m->stats->master.restarts_signal :
		    &m->stats->master.restarts_exit, 1);
		s = &m->slots[wp->slot];
		master_wproc_free(m, wp);
		/* A slot that keeps crashing must not fork in a tight loop. */
		if (time(NULL) - s->started < CRASH_WINDOW_S)
			s->backoff_ms = s->backoff_ms == 0 ? RESPAWN_MIN_MS :
			    s->backoff_ms * 2 > RESPAWN_MAX_MS ?
			    RESPAWN_MAX_MS : s->backoff_ms * 2;
		else
			s->backoff_ms = 0;
		if (s->backoff_ms > RESPAWN_MIN_MS)
			log_warnx("worker %u keeps crashing: respawning in %u "
			    "ms", (unsigned)(s - m->slots), s->backoff_ms);
		tv = clock_tv(s->backoff_ms);
		evtimer_add(s->respawn_ev, &tv);
	}
	if (m->stopping && TAILQ_EMPTY(&m->procs))
		event_base_loopbreak(m->base);
}

/* -- systemd ---------------------------------------------------------- */

/*
 * systemd's watchdog (WatchdogSec=): WATCHDOG=1 at least every half
 * interval, from this loop, and only while every serving worker's loop
 * ticks too (its heartbeat younger than half the interval). A master that
 * is wedged, or whose workers all are, stops the pings and systemd
 * restarts the service. One stuck worker among healthy ones is this
 * master's to replace (worker_timeout_ms), not a reason to restart: it
 * stops the pings only while it is stuck, for less than the interval
 * when worker_timeout_ms is shorter.
 */
static void
master_sd_watchdog(struct master *m)
{
	const struct wproc	*wp;
	uint64_t		 now, beat, half_ms;

	if (m->wd_usec == 0 || m->stopping)
		return;
	half_ms = m->wd_usec / 2000;
	TAILQ_FOREACH(wp, &m->procs, entry) {
		if (wp->state != W_READY)
			continue;
		beat = atomic_load(&wp->cell->heartbeat_ms);
		now = clock_ms();
		if (beat != STATS_HEARTBEAT_EXITING && now > beat &&
		    now - beat > half_ms)
			return;		/* wedged: let systemd see it */
	}
	now = clock_ms();
	/* The tick is 250 ms: ping when the next one could be too late. */
	if (now - m->wd_last_ms + 250 >= half_ms || m->wd_last_ms == 0) {
		notify_watchdog();
		m->wd_last_ms = now;
	}
}

/* -- checking a configuration -------------------------------------- */

/* Read exactly len bytes from fd within the deadline; 0, or -1. */
static int
read_deadline(int fd, void *buf, size_t len, const struct timespec *t0)
{
	struct pollfd	 pfd = { .fd = fd, .events = POLLIN };
	size_t		 got = 0;
	ssize_t		 n;
	double		 left;

	while (got < len) {
		if ((left = CHECK_TIMEOUT_MS - (clock_since_s(t0) * 1e3)) <= 0)
			return -1;
		if (poll(&pfd, 1, (int)left + 1) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (pfd.revents == 0)
			continue;
		if ((n = read(fd, (char *)buf + got, len - got)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0)
			return -1;
		got += (size_t)n;
	}
	return 0;
}

int
master_check(struct config *conf, struct config_error *err)
{
	return master_check_as(NULL, conf, err);
}

/*
 * master_check() by the master m (NULL before there is one): the child
 * closes what m holds, so that a hung init() keeps no listening socket,
 * death pipe or pid file lock, and dies with its parent.
 */
static int
master_check_as(struct master *m, struct config *conf,
    struct config_error *err)
{
	struct config_error	 cerr;
	struct timespec		 t0;
	pid_t			 parent = getpid();
	sigset_t		 all, old;
	pid_t			 pid;
	int			 fds[2], status, got;

	memset(err, 0, sizeof(*err));
	(void)snprintf(err->file, sizeof(err->file), "%s", conf->path);
	if (pipe2(fds, O_CLOEXEC) == -1) {
		(void)snprintf(err->text, sizeof(err->text), "checking the "
		    "handlers: pipe: %s", strerror(errno));
		return -1;
	}
	/* As for a worker: no master signal handler may run in the child. */
	(void)sigfillset(&all);
	(void)sigprocmask(SIG_BLOCK, &all, &old);
	clock_now(&t0);
	if ((pid = fork()) == 0) {
		/*
		 * The child binds its copy of conf and says how it went. It
		 * exits without freeing or flushing anything of the master's.
		 */
		(void)close(fds[0]);
		log_set_role("check");
		if (m != NULL)
			master_child_close(m, NULL, 0);
		worker_drop_privileges(conf);
		/* After the drop: a change of credentials clears it. */
		(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(1);
		got = config_bind(conf, &cerr);
		if (got == 0)
			memset(&cerr, 0, sizeof(cerr));
		/* A short write reads as a failure in the master. */
		if (write(fds[1], &cerr, sizeof(cerr)) != (ssize_t)sizeof(cerr))
			_exit(1);
		_exit(got == 0 ? 0 : 1);
	}
	(void)sigprocmask(SIG_SETMASK, &old, NULL);
	(void)close(fds[1]);
	if (pid == -1) {
		(void)close(fds[0]);
		(void)snprintf(err->text, sizeof(err->text), "checking the "
		    "handlers: fork: %s", strerror(errno));
		return -1;
	}
	got = read_deadline(fds[0], &cerr, sizeof(cerr), &t0);
	(void)close(fds[0]);
	if (got == -1)
		(void)kill(pid, SIGKILL);	/* hung, or already gone */
	while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
		;
	if (got == 0 && cerr.text[0] == '\0' && WIFEXITED(status) &&
	    WEXITSTATUS(status) == 0)
		return 0;
	if (got == 0 && cerr.text[0] != '\0') {
		cerr.file[sizeof(cerr.file) - 1] = '\0';
		cerr.text[sizeof(cerr.text) - 1] = '\0';
		*err = cerr;
	} else if (WIFSIGNALED(status))
		(void)snprintf(err->text, sizeof(err->text), "checking the "
		    "handlers: the checking process was killed by signal %d "
		    "(%s)%s", WTERMSIG(status), strsignal(WTERMSIG(status)),
		    got == -1 && WTERMSIG(status) == SIGKILL ? ": init() of "
		    "a plugin or handler took too long" : " in init() of a "
		    "plugin or handler");
	else
		(void)snprintf(err->text, sizeof(err->text), "checking the "
		    "handlers: the checking process exited with status %d",
		    WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	return -1;
}

/* -- crashes ---------------------------------------------------------- */

/*
 * wp died of sig: append to why what it was running ("while running
 * /crash (handler hi_crash) on a pool thread"), from what its handler
 * calls left in its stats cell, and keep it as the last crash for
 * STATUS= and /status.
 */
static void
master_crash(struct master *m, const struct wproc *wp, int sig, char *why,
    size_t whysize)
{
	struct stats_master	*sm = &m->stats->master;
	const struct stats_cell	*c = wp->cell;
	const struct stats_route *first = NULL, *sr;
	size_t			 len = strlen(why);
	unsigned		 i, n, loop;
	int			 r;

	loop = c != NULL ? atomic_load(&c->loop_route) : 0;
	for (i = 1; c != NULL && i < STATS_ROUTES; i++) {
		n = atomic_load(&c->pool_running[i]);
		if (i != loop && n == 0)
			continue;
		sr = &m->stats->routes[i];
		if (first == NULL)
			first = sr;
		r = snprintf(why + len, whysize - len, "%s %s (handler %s)%s",
		    first == sr ? " while running" : ",", sr->path, sr->handler,
		    i == loop ? " on the loop" : "");
		if (r > 0 && (size_t)r < whysize - len)
			len += (size_t)r;
		if (n > 0) {
			r = snprintf(why + len, whysize - len, "%s on %u pool "
			    "thread%s", i == loop ? " and" : "", n,
			    n == 1 ? "" : "s");
			if (r > 0 && (size_t)r < whysize - len)
				len += (size_t)r;
		}
	}
	(void)snprintf(m->last_crash, sizeof(m->last_crash), "worker %u "
	    "(pid %ld) %s", wp->slot, (long)wp->pid, why);
	(void)snprintf(sm->crash_route, sizeof(sm->crash_route), "%s",
	    first != NULL ? first->path : "");
	(void)snprintf(sm->crash_handler, sizeof(sm->crash_handler), "%s",
	    first != NULL ? first->handler : "");
	atomic_store(&sm->crash_pid, (int)wp->pid);
	atomic_store(&sm->crash_signal, sig);
	atomic_store(&sm->crash_slot, wp->slot);
	atomic_store(&sm->crash_ms, clock_wall_ms());
	master_status(m, 0);
}

/* -- reload ---------------------------------------------------------- */

static void
master_ready_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct master	*m = arg;
	char		 msg[96];

	(void)snprintf(msg, sizeof(msg), "%u of %u new workers ready after "
	    "%d ms", master_count(m, m->next_gen, W_READY), m->next->workers,
	    READY_TIMEOUT_MS);
	master_rollback(m, msg);
}

static void
master_reload(struct master *m)
{
	struct config		*conf;
	struct config_error	 err;
	struct timeval		 tv = clock_tv(READY_TIMEOUT_MS);
	char			 msg[sizeof(err.text) + PATH_MAX + 32];
	unsigned		 k;

	if (m->stopping)
		return;
	if (m->delaying) {
		log_info("reload: ignored: the server is stopping "
		    "(drain_delay_ms)");
		return;
	}
	if (m->next != NULL) {
		/* One at a time; the latest file is read once this is done. */
		log_info("reload: one is in progress; reading the file again "
		    "after it");
		m->reload_again = 1;
		return;
	}
	clock_now(&m->reload_start);
	log_info("reload: reading %s", m->path);
	if ((conf = config_load(m->path, &err)) == NULL ||
	    config_override(conf, m->overrides, &err) == -1 ||
	    master_check_as(m, conf, &err) == -1) {
		config_free(conf);
		log_errorx("reload: %s; keeping the running configuration",
		    config_error_format(&err, msg, sizeof(msg)));
		(void)snprintf(m->last_reload, sizeof(m->last_reload),
		    "failed: invalid configuration");
		master_reload_record(m, 0);
		atomic_fetch_add(&m->stats->master.reloads_invalid, 1);
		master_status(m, 0);
		return;
	}
	if (master_logs_prepare(conf) == -1) {
		config_free(conf);
		atomic_fetch_add(&m->stats->master.reloads_invalid, 1);
		(void)snprintf(m->last_reload, sizeof(m->last_reload),
		    "failed: cannot open the log files");
		master_reload_record(m, 0);
		log_errorx("reload: keeping the running configuration");
		master_status(m, 0);
		return;
	}
	if (sockets_ensure(m->socks, conf, conf->workers) == -1) {
		sockets_prune(m->socks, m->conf, m->nworkers);
		config_free(conf);
		atomic_fetch_add(&m->stats->master.reloads_failed, 1);
		(void)snprintf(m->last_reload, sizeof(m->last_reload),
		    "failed: cannot listen");
		master_reload_record(m, 0);
		log_errorx("reload: keeping the running configuration");
		master_status(m, 0);
		return;
	}
	notify_reloading();
	master_stats_routes(m, conf);
	m->next = conf;
	/* Never reuse a number, even after a rollback: logs and stats. */
	m->next_gen = ++m->gen_last;
	master_slots_grow(m, conf->workers);
	for (k = 0; k < conf->workers; k++)
		if (master_fork(m, conf, m->next_gen, k) == -1) {
			master_rollback(m, "cannot start a new worker");
			return;
		}
	evtimer_add(m->ready_timeout_ev, &tv);
}

/* -- signals --------------------------------------------------------- */

static void
master_kill_cb(evutil_socket_t fd, short what, void *arg)
{
	struct master	*m = arg;
	struct wproc	*wp;

	log_warnx("workers still running after shutdown_ms: killing them");
	TAILQ_FOREACH(wp, &m->procs, entry)
		(void)kill(wp->pid, SIGKILL);
}

static void
master_signal_all(struct master *m, int sig)
{
	struct wproc	*wp;

	TAILQ_FOREACH(wp, &m->procs, entry)
		if (kill(wp->pid, sig) == -1 && errno != ESRCH)
			log_warn("kill %ld", (long)wp->pid);
}

static void
master_stop(struct master *m, int sig)
{
	unsigned	 ms = m->conf->timeouts.shutdown_ms + STOP_GRACE_MS;
	struct timeval	 tv = clock_tv(ms);
	struct wproc	*wp;
	unsigned	 k;

	if (!m->stopping)
		log_info("%s: stopping %u workers", sig == SIGINT ?
		    "INT, fast" : "graceful", master_count(m, m->gen, -1));
	m->stopping = 1;
	evtimer_del(m->ready_timeout_ev);
	for (k = 0; k < m->nslots_alloc; k++)
		evtimer_del(m->slots[k].respawn_ev);
	TAILQ_FOREACH(wp, &m->procs, entry)
		wp->state = W_DRAINING;
	master_signal_all(m, sig);
	/*
	 * Our copies of the listening sockets go too: once the workers have
	 * taken what is queued and closed theirs, a new connection is
	 * refused at once (a balancer retries it elsewhere) instead of
	 * waiting in a queue that nobody accepts from until we exit.
	 */
	sockets_close(m->socks);
	if (sig != SIGINT)
		evtimer_add(m->kill_ev, &tv);
	if (TAILQ_EMPTY(&m->procs))
		event_base_loopbreak(m->base);
}

static void
master_drain_cb(evutil_socket_t fd, short what, void *arg)
{
	struct master	*m = arg;

	m->delaying = 0;
	log_info("drain_delay_ms is over");
	master_stop(m, SIGTERM);
}

/*
 * TERM, QUIT (sig SIGTERM) or INT. Health answers 503 from now on, in
 * every worker. A graceful stop with drain_delay_ms leaves the workers
 * accepting and serving that long, so that balancers see the 503 and
 * stop sending before any listener closes; the shutdown_ms deadline
 * starts after it. INT, or the same signal again during the delay (an
 * operator who will not wait), drains at once.
 */
static void
master_shutdown(struct master *m, int sig)
{
	unsigned	 ms = m->conf->timeouts.drain_delay_ms;
	struct timeval	 tv = clock_tv(ms);

	atomic_store(&m->stats->master.draining, 1);
	if (!m->stopping && !m->delaying) {
		notify_stopping();
		if (sig != SIGINT && ms > 0) {
			log_info("graceful: health answers 503; stopping %u "
			    "workers after drain_delay_ms (%u ms)",
			    master_count(m, m->gen, -1), ms);
			m->delaying = 1;
			evtimer_add(m->drain_ev, &tv);
			master_status(m, 0);
			return;
		}
	} else if (m->delaying) {
		log_info("%s during drain_delay_ms: stopping now",
		    sig == SIGINT ? "INT" : "TERM again");
		evtimer_del(m->drain_ev);
		m->delaying = 0;
	}
	master_stop(m, sig);
}

/* TTIN: one more worker, in a new slot. */
static void
master_add_worker(struct master *m)
{
	if (m->stopping)
		return;		/* no new sockets into a draining group */
	if (m->next != NULL || m->nworkers >= CONFIG_WORKERS_MAX) {
		log_warnx("TTIN: %s", m->next ? "a reload is in progress" :
		    "at the maximum number of workers");
		return;
	}
	if (sockets_ensure(m->socks, m->conf, m->nworkers + 1) == -1) {
		sockets_prune(m->socks, m->conf, m->nworkers);
		return;
	}
	master_slots_grow(m, m->nworkers + 1);
	m->nworkers++;
	log_info("TTIN: %u workers", m->nworkers);
	master_spawn(m, m->nworkers - 1);
	sockets_place(m->socks, m->conf, m->nworkers);
	master_status(m, 0);
}

/* TTOU: one worker fewer: the last slot drains and its sockets go. */
static void
master_remove_worker(struct master *m)
{
	if (m->stopping)
		return;
	struct wproc	*wp;

	if (m->next != NULL || m->nworkers <= 1) {
		log_warnx("TTOU: %s", m->next ? "a reload is in progress" :
		    "keeping the last worker");
		return;
	}
	m->nworkers--;
	evtimer_del(m->slots[m->nworkers].respawn_ev);
	sockets_prune(m->socks, m->conf, m->nworkers);
	sockets_place(m->socks, m->conf, m->nworkers);
	TAILQ_FOREACH(wp, &m->procs, entry)
		if (wp->slot == m->nworkers && wp->state != W_DRAINING) {
			wp->state = W_DRAINING;
			(void)kill(wp->pid, SIGTERM);
		}
	log_info("TTOU: %u workers", m->nworkers);
	master_status(m, 0);
}

static void
master_watchdog_cb(evutil_socket_t fd, short what, void *arg)
{
	struct master	*m = arg;
	struct wproc	*wp;
	uint64_t	 beat, now, age;
	unsigned	 limit = m->conf->worker_timeout_ms;

	master_sd_watchdog(m);
	if (limit == 0)
		return;
	TAILQ_FOREACH(wp, &m->procs, entry) {
		/*
		 * The beat first, then the clock: a worker ticking in between
		 * must look fresh, not 2^64 ms old.
		 */
		beat = atomic_load(&wp->cell->heartbeat_ms);
		now = clock_ms();
		if (beat == STATS_HEARTBEAT_EXITING)
			continue;	/* joining its pool on the way out */
		age = now > beat ? now - beat : 0;
		if (wp->stuck || age <= limit)
			continue;
		log_errorx("worker %u (pid %ld): event loop stuck for %llu ms "
		    "(worker_timeout_ms %u): killing it", wp->slot,
		    (long)wp->pid, (unsigned long long)age, limit);
		wp->stuck = 1;
		(void)kill(wp->pid, SIGKILL);
	}
}

static void
master_signal_cb(evutil_socket_t sig, short what, void *arg)
{
	struct master	*m = arg;

	switch (sig) {
	case SIGTERM:
	case SIGQUIT:
		master_shutdown(m, SIGTERM);
		break;
	case SIGINT:
		master_shutdown(m, SIGINT);
		break;
	case SIGCHLD:
		master_reap(m);
		break;
	case SIGHUP:
		master_reload(m);
		break;
	case SIGUSR1:
		/* Create them for the workers first: they may not be able to. */
		(void)master_logs_prepare(m->conf);
		if (log_reopen() == -1)
			log_warn("reopening the error log");
		log_info("reopening the log files (USR1)");
		master_signal_all(m, SIGUSR1);
		break;
	case SIGUSR2:
	case SIGWINCH:
		log_debug("ignoring SIG%s", sig == SIGUSR2 ? "USR2" : "WINCH");
		break;
	case SIGTTIN:
		master_add_worker(m);
		break;
	case SIGTTOU:
		master_remove_worker(m);
		break;
	}
	/* A ready pipe may have been read in the same loop pass. */
	if (!m->stopping)
		master_check_ready(m);
}

/* -- capabilities ----------------------------------------------------- */

/*
 * A master that is not root holds CAP_BPF and CAP_NET_ADMIN for one
 * thing only: loading the placement program, which the first
 * sockets_place() has done (the shipped systemd unit grants them for
 * that). Give them up before any worker is forked, so that no process
 * that reads a client's bytes ever has them; what a reload changes in
 * the placement needs none (map updates, attaching a loaded program),
 * but an address a reload adds is placed by the kernel's hash. Root
 * keeps them: it can regain them anyway, and its workers lose
 * everything when they switch user. Raw capget/capset: the only use,
 * not worth a libcap dependency.
 */
static void
master_caps_drop(void)
{
	struct __user_cap_header_struct	 h;
	struct __user_cap_data_struct	 d[_LINUX_CAPABILITY_U32S_3];
	const int			 caps[] = { CAP_BPF, CAP_NET_ADMIN };
	size_t				 i;
	int				 had = 0;

	if (geteuid() == 0)
		return;
	memset(&h, 0, sizeof(h));
	memset(d, 0, sizeof(d));
	h.version = _LINUX_CAPABILITY_VERSION_3;
	if (syscall(SYS_capget, &h, d) == -1) {
		log_warn("capget");
		return;
	}
	for (i = 0; i < sizeof(caps) / sizeof(caps[0]); i++) {
		had |= (d[CAP_TO_INDEX(caps[i])].permitted &
		    CAP_TO_MASK(caps[i])) != 0;
		d[CAP_TO_INDEX(caps[i])].effective &= ~CAP_TO_MASK(caps[i]);
		d[CAP_TO_INDEX(caps[i])].permitted &= ~CAP_TO_MASK(caps[i]);
		d[CAP_TO_INDEX(caps[i])].inheritable &= ~CAP_TO_MASK(caps[i]);
	}
	if (!had)
		return;
	/* Out of permitted, out of the ambient set too (capabilities(7)). */
	if (syscall(SYS_capset, &h, d) == -1)
		log_warn("giving up CAP_BPF and CAP_NET_ADMIN");
	else
		log_info("placement set up: CAP_BPF and CAP_NET_ADMIN given up");
}

/* -- pid file ---------------------------------------------------------- */

static int
master_pid_file_write(struct master *m)
{
	char	 buf[32];
	int	 fd, n;

	if (m->conf->pid_file == NULL)
		return 0;
	/*
	 * Locked for as long as we live, so that "-s" can tell our pid
	 * from a stale one that the system has since given to another
	 * process, and a second master with the same file stops here.
	 * Not truncated before the lock is ours: it may be another's.
	 */
	master_pid_dir(m->conf->pid_file);
	fd = open(m->conf->pid_file, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd == -1) {
		log_error("pid_file %s", m->conf->pid_file);
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		n = (int)read(fd, buf, sizeof(buf) - 1);
		buf[n > 0 ? n : 0] = '\0';
		buf[strcspn(buf, "\n")] = '\0';
		log_errorx("pid_file %s: locked by a running master%s%s%s",
		    m->conf->pid_file, buf[0] ? " (pid " : "", buf,
		    buf[0] ? ")" : "");
		(void)close(fd);
		return -1;
	}
	n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) == -1 || write(fd, buf, (size_t)n) != n) {
		log_error("pid_file %s", m->conf->pid_file);
		(void)close(fd);
		return -1;
	}
	m->pid_fd = fd;
	m->pid_file = xstrdup(m->conf->pid_file);
	return 0;
}

/* Create path (never truncating) and give it to conf's user. */
static int
master_log_prepare(const struct config *conf, const char *key,
    const char *path)
{
	struct stat	 st;
	int		 fd;

	if (path == NULL || strcmp(path, "stderr") == 0)
		return 0;
	/* A pipe or a device is the reader's business, not ours to open. */
	if (lstat(path, &st) == 0 && !S_ISREG(st.st_mode))
		return 0;
	if ((fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC |
	    O_NOFOLLOW, 0640)) == -1 || fstat(fd, &st) == -1) {
		log_error("%s %s", key, path);
		if (fd != -1)
			(void)close(fd);
		return -1;
	}
	/*
	 * Workers write these files after the privilege drop and reopen
	 * them by path on USR1: they must be able to, once logrotate has
	 * moved the old file away. As nginx does, the file is the workers'.
	 */
	/* One link only: a hard link to another file is not ours to give. */
	if (geteuid() == 0 && conf->user != NULL && S_ISREG(st.st_mode) &&
	    st.st_nlink == 1 &&
	    (st.st_uid != conf->uid || st.st_gid != conf->gid) &&
	    fchown(fd, conf->uid, conf->gid) == -1) {
		log_error("%s %s: chown to %s", key, path, conf->user);
		(void)close(fd);
		return -1;
	}
	(void)close(fd);
	return 0;
}

int
master_logs_prepare(const struct config *conf)
{
	if (master_log_prepare(conf, "error_log", conf->error_log) == -1 ||
	    master_log_prepare(conf, "access_log", conf->access_log) == -1)
		return -1;
	return 0;
}

/* The directory dir is in can take a new entry: 0, or -1 with errno. */
static int
master_parent_writable(const char *dir)
{
	char	*parent, *slash;
	int	 rc;

	parent = xstrdup(dir);
	if ((slash = strrchr(parent, '/')) == NULL)
		rc = access(".", W_OK | X_OK);
	else {
		slash[slash == parent ? 1 : 0] = '\0';	/* "/x": "/" */
		rc = access(parent, W_OK | X_OK);
	}
	free(parent);
	return rc;
}

/*
 * The pid file's directory, made when missing and its parent exists:
 * /run/switchyard is the unit's RuntimeDirectory, and by hand there is
 * no systemd to make it.
 */
static void
master_pid_dir(const char *pid_file)
{
	char	*dir, *slash;

	dir = xstrdup(pid_file);
	if ((slash = strrchr(dir, '/')) != NULL && slash != dir) {
		*slash = '\0';
		if (mkdir(dir, 0755) == 0)
			log_info("pid_file: made the directory %s", dir);
	}
	free(dir);
}

int
master_files_check(const struct config *conf)
{
	char	*dir, *slash;
	int	 rc = 0;

	if (master_logs_prepare(conf) == -1)
		return -1;
	if (conf->pid_file == NULL)
		return 0;
	/* The master writes it after binding: find out now that it cannot. */
	dir = xstrdup(conf->pid_file);
	if ((slash = strrchr(dir, '/')) == NULL) {
		free(dir);
		dir = xstrdup(".");
	} else if (slash == dir)
		slash[1] = '\0';
	else
		*slash = '\0';
	/* A missing last directory is made at start (master_pid_dir). */
	if (access(dir, W_OK | X_OK) == -1 && (errno != ENOENT ||
	    master_parent_writable(dir) == -1)) {
		log_error("pid_file %s: directory %s", conf->pid_file, dir);
		rc = -1;
	}
	free(dir);
	return rc;
}

static void
master_free(struct master *m)
{
	struct wproc	*wp;
	size_t		 i;
	unsigned	 k;

	while ((wp = TAILQ_FIRST(&m->procs)) != NULL)
		master_wproc_free(m, wp);
	sockets_free(m->socks);
	for (k = 0; k < m->nslots_alloc; k++)
		event_free(m->slots[k].respawn_ev);
	free(m->slots);
	for (i = 0; i < sizeof(m->sig_evs) / sizeof(m->sig_evs[0]); i++)
		if (m->sig_evs[i] != NULL)
			event_free(m->sig_evs[i]);
	if (m->kill_ev != NULL)
		event_free(m->kill_ev);
	if (m->drain_ev != NULL)
		event_free(m->drain_ev);
	if (m->ready_timeout_ev != NULL)
		event_free(m->ready_timeout_ev);
	if (m->watchdog_ev != NULL)
		event_free(m->watchdog_ev);
	if (m->base != NULL)
		event_base_free(m->base);
	if (m->death[0] != -1)
		(void)close(m->death[0]);
	if (m->death[1] != -1)
		(void)close(m->death[1]);
	if (m->pid_file != NULL) {
		(void)unlink(m->pid_file);	/* then let the lock go */
		free(m->pid_file);
	}
	if (m->pid_fd != -1)
		(void)close(m->pid_fd);
	stats_unmap(m->stats);
	config_free(m->next);
	config_free(m->conf);
}

int
master_run(struct config *conf, const char *path,
    const struct config_overrides *overrides)
{
	static const int	 sigs[] = { SIGTERM, SIGQUIT, SIGINT, SIGCHLD,
				    SIGHUP, SIGUSR1, SIGTTIN, SIGTTOU, SIGUSR2,
				    SIGWINCH };
	struct master		 m;
	struct timeval		 tick = { 0, 250000 };
	unsigned		 k;
	size_t			 i;
	int			 rc = 1;

	memset(&m, 0, sizeof(m));
	TAILQ_INIT(&m.procs);
	m.death[0] = m.death[1] = -1;
	m.pid_fd = -1;
	m.wd_usec = notify_watchdog_usec();
	m.conf = conf;
	m.path = path;
	m.overrides = overrides;
	m.gen = m.gen_last = 1;
	m.nworkers = conf->workers;

	/* A client that vanishes must cost an EPIPE, not the process. */
	(void)signal(SIGPIPE, SIG_IGN);
	if ((m.base = event_base_new()) == NULL) {
		log_errorx("event_base_new failed");
		goto done;
	}
	if ((m.stats = stats_map()) == NULL) {
		log_error("mapping the shared stats segment");
		goto done;
	}
	atomic_store(&m.stats->master.started_ms, clock_wall_ms());
	atomic_store(&m.stats->master.pid, (int)getpid());
	atomic_store(&m.stats->master.generation, m.gen);
	(void)snprintf(m.stats->master.config_path,
	    sizeof(m.stats->master.config_path), "%s", path);
	master_stats_routes(&m, conf);
	m.slots = xcalloc(CONFIG_WORKERS_MAX, sizeof(*m.slots));
	m.socks = sockets_new();
	master_slots_grow(&m, m.nworkers);
	if (master_files_check(conf) == -1 || sockets_passed_take(m.socks) == -1 ||
	    sockets_ensure(m.socks, conf, m.nworkers) == -1 ||
	    sockets_passed_check(m.socks) == -1)
		goto done;
	if (pipe2(m.death, O_CLOEXEC) == -1) {
		log_error("pipe");
		goto done;
	}
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		m.sig_evs[i] = evsignal_new(m.base, sigs[i], master_signal_cb,
		    &m);
		if (m.sig_evs[i] == NULL || evsignal_add(m.sig_evs[i], NULL)) {
			log_errorx("cannot watch signal %d", sigs[i]);
			goto done;
		}
	}
	m.kill_ev = evtimer_new(m.base, master_kill_cb, &m);
	m.drain_ev = evtimer_new(m.base, master_drain_cb, &m);
	m.ready_timeout_ev = evtimer_new(m.base, master_ready_timeout_cb, &m);
	m.watchdog_ev = event_new(m.base, -1, EV_PERSIST, master_watchdog_cb,
	    &m);
	if (m.kill_ev == NULL || m.drain_ev == NULL ||
	    m.ready_timeout_ev == NULL ||
	    m.watchdog_ev == NULL || event_add(m.watchdog_ev, &tick) == -1) {
		log_errorx("cannot set up the master's events");
		goto done;
	}
	if (master_pid_file_write(&m) == -1)
		goto done;

	sockets_place(m.socks, m.conf, m.nworkers);
	master_caps_drop();
	for (k = 0; k < m.nworkers; k++)
		master_spawn(&m, k);
	for (i = 0; i < conf->nlisten; i++)
		log_info("listening on %s with %u workers", conf->listen[i].text,
		    m.nworkers);

	(void)event_base_dispatch(m.base);
	log_info("stopped");
	rc = 0;
done:
	if (rc != 0 && !TAILQ_EMPTY(&m.procs)) {
		master_signal_all(&m, SIGKILL);
		while (wait(NULL) > 0)
			;
	}
	master_free(&m);
	return rc;
}
