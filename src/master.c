/*
 * master.c - binds the listeners, forks the workers, supervises them.
 *
 * Design note. The master binds, for every listen address, one
 * SO_REUSEPORT socket per worker slot, and keeps them all open for its
 * whole life: worker k inherits slot k's sockets, and a worker that
 * replaces it (after a crash) inherits the very same sockets, so the
 * connections the kernel queued on them are not lost.
 *
 * Signals arrive as loop events (libevent's signal pipe), so everything
 * here runs in normal context. TERM/QUIT stop the workers gracefully and
 * wait for them; INT stops them at once; CHLD reaps and respawns in the
 * same slot, waiting RESPAWN_MIN_MS doubled up to RESPAWN_MAX_MS while a
 * slot keeps crashing. Workers also hold the read end of a pipe whose
 * write end only the master has: when the master dies, by whatever means,
 * they read EOF and stop.
 */
#include "autoconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "accesslog.h"
#include "config.h"
#include "listener.h"
#include "log.h"
#include "master.h"
#include "worker.h"
#include "xmalloc.h"

#define LISTEN_BACKLOG		4096	/* capped by net.core.somaxconn */
#define RESPAWN_MIN_MS		100
#define RESPAWN_MAX_MS		10000
#define CRASH_WINDOW_S		10	/* a worker dying sooner "crashed" */
#define STOP_GRACE_MS		1000	/* after shutdown_ms, before KILL */

struct slot {
	pid_t		 pid;		/* 0: not running */
	int		*fds;		/* one listener per listen address */
	time_t		 started;
	unsigned	 backoff_ms;	/* next respawn delay, 0: at once */
	struct event	*respawn_ev;
};

struct master {
	struct config	*conf;
	struct event_base *base;
	struct slot	*slots;
	unsigned	 nslots;
	int		 pipe[2];	/* workers read [0]; EOF = master gone */
	int		 stopping;
	struct event	*sig_evs[7];
	struct event	*kill_ev;
};

static struct master	*master_self;	/* for the respawn callbacks */

static void	master_spawn(struct master *, unsigned);

static unsigned
master_running(const struct master *m)
{
	unsigned	 i, n = 0;

	for (i = 0; i < m->nslots; i++)
		if (m->slots[i].pid > 0)
			n++;
	return n;
}

static void
master_signal_workers(struct master *m, int sig)
{
	unsigned	 i;

	for (i = 0; i < m->nslots; i++)
		if (m->slots[i].pid > 0 && kill(m->slots[i].pid, sig) == -1 &&
		    errno != ESRCH)
			log_warn("kill %ld", (long)m->slots[i].pid);
}

static void
master_respawn_cb(evutil_socket_t fd, short what, void *arg)
{
	struct slot	*s = arg;
	struct master	*m = master_self;

	if (!m->stopping)
		master_spawn(m, (unsigned)(s - m->slots));
}

static void
master_spawn(struct master *m, unsigned k)
{
	struct slot		*s = &m->slots[k];
	struct worker_params	 p;
	pid_t			 pid;

	if ((pid = fork()) == -1) {
		struct timeval	 tv = { 0, RESPAWN_MIN_MS * 1000 };

		log_warn("fork for worker %u", k);
		evtimer_add(s->respawn_ev, &tv);
		return;
	}
	if (pid == 0) {
		/* Child after fork: only this slot's sockets stay open. */
		unsigned	 i;
		size_t		 j;

		(void)close(m->pipe[1]);
		for (i = 0; i < m->nslots; i++)
			if (i != k)
				for (j = 0; j < m->conf->nlisten; j++)
					(void)close(m->slots[i].fds[j]);
		p.conf = m->conf;
		p.slot = k;
		p.fds = s->fds;
		p.nfds = m->conf->nlisten;
		p.master_fd = m->pipe[0];
		p.master_pid = getppid();
		p.inherited = m->base;
		worker_main(&p);
	}
	s->pid = pid;
	s->started = time(NULL);
	log_info("worker %u started, pid %ld", k, (long)pid);
}

/* The slot whose worker is pid, or NULL. */
static struct slot *
master_slot_of(struct master *m, pid_t pid)
{
	unsigned	 i;

	for (i = 0; i < m->nslots; i++)
		if (m->slots[i].pid == pid)
			return &m->slots[i];
	return NULL;
}

static void
master_reap(struct master *m)
{
	struct slot	*s;
	struct timeval	 tv;
	pid_t		 pid;
	int		 status;
	unsigned	 k;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		if ((s = master_slot_of(m, pid)) == NULL)
			continue;
		k = (unsigned)(s - m->slots);
		s->pid = 0;
		if (m->stopping) {
			log_info("worker %u (pid %ld) exited", k, (long)pid);
			continue;
		}
		if (WIFSIGNALED(status))
			log_errorx("worker %u (pid %ld) killed by signal %d "
			    "(%s)", k, (long)pid, WTERMSIG(status),
			    strsignal(WTERMSIG(status)));
		else
			log_errorx("worker %u (pid %ld) exited with status %d",
			    k, (long)pid, WEXITSTATUS(status));
		/* A slot that keeps crashing must not fork in a tight loop. */
		if (time(NULL) - s->started < CRASH_WINDOW_S)
			s->backoff_ms = s->backoff_ms == 0 ? RESPAWN_MIN_MS :
			    s->backoff_ms * 2 > RESPAWN_MAX_MS ?
			    RESPAWN_MAX_MS : s->backoff_ms * 2;
		else
			s->backoff_ms = 0;
		if (s->backoff_ms == 0) {
			master_spawn(m, k);
			continue;
		}
		log_warnx("worker %u keeps crashing: respawning in %u ms", k,
		    s->backoff_ms);
		tv.tv_sec = s->backoff_ms / 1000;
		tv.tv_usec = (s->backoff_ms % 1000) * 1000;
		evtimer_add(s->respawn_ev, &tv);
	}
	if (m->stopping && master_running(m) == 0)
		event_base_loopbreak(m->base);
}

static void
master_kill_cb(evutil_socket_t fd, short what, void *arg)
{
	struct master	*m = arg;

	log_warnx("%u workers still running after shutdown_ms: killing them",
	    master_running(m));
	master_signal_workers(m, SIGKILL);
}

static void
master_stop(struct master *m, int sig)
{
	unsigned	 i, ms = m->conf->timeouts.shutdown_ms + STOP_GRACE_MS;
	struct timeval	 tv = { ms / 1000, (ms % 1000) * 1000 };

	if (!m->stopping)
		log_info("%s: stopping %u workers", sig == SIGINT ? "INT, fast" :
		    "graceful", master_running(m));
	m->stopping = 1;
	for (i = 0; i < m->nslots; i++)
		evtimer_del(m->slots[i].respawn_ev);
	master_signal_workers(m, sig);
	if (sig != SIGINT)
		evtimer_add(m->kill_ev, &tv);
	if (master_running(m) == 0)
		event_base_loopbreak(m->base);
}

static void
master_signal_cb(evutil_socket_t sig, short what, void *arg)
{
	struct master	*m = arg;

	switch (sig) {
	case SIGTERM:
	case SIGQUIT:
		master_stop(m, SIGTERM);
		break;
	case SIGINT:
		master_stop(m, SIGINT);
		break;
	case SIGCHLD:
		master_reap(m);
		break;
	case SIGHUP:
		log_warnx("HUP: reloading is not supported yet; restart to "
		    "apply a new configuration");
		break;
	case SIGUSR1:
		if (log_reopen() == -1)
			log_warn("reopening the error log");
		master_signal_workers(m, SIGUSR1);
		break;
	}
}

static int
master_bind(struct master *m)
{
	struct config	*conf = m->conf;
	unsigned	 k;
	size_t		 j;
	int		 fd;

	for (k = 0; k < m->nslots; k++) {
		m->slots[k].fds = xcalloc(conf->nlisten, sizeof(int));
		for (j = 0; j < conf->nlisten; j++)
			m->slots[k].fds[j] = -1;
		for (j = 0; j < conf->nlisten; j++) {
			fd = listener_bind((struct sockaddr *)&conf->listen[j].addr,
			    conf->listen[j].addrlen, LISTEN_BACKLOG);
			if (fd == -1) {
				log_error("cannot listen on %s",
				    conf->listen[j].text);
				return -1;
			}
			/*
			 * Workers inherit these through fork, and a CGI-like
			 * exec must not: close-on-exec stays set.
			 */
			m->slots[k].fds[j] = fd;
		}
	}
	return 0;
}

/*
 * Workers open the access log after fork; a path they cannot open would
 * make every one of them die at start, over and over. Find out now.
 */
static int
master_check_logs(struct master *m)
{
	struct accesslog	*alog;

	if (m->conf->access_log == NULL)
		return 0;
	if ((alog = accesslog_open(m->conf->access_log)) == NULL) {
		log_error("access_log %s", m->conf->access_log);
		return -1;
	}
	accesslog_free(alog);
	return 0;
}

static void
master_free(struct master *m)
{
	unsigned	 k;
	size_t		 j;

	for (k = 0; k < m->nslots; k++) {
		if (m->slots[k].fds != NULL)
			for (j = 0; j < m->conf->nlisten; j++)
				if (m->slots[k].fds[j] != -1)
					(void)close(m->slots[k].fds[j]);
		free(m->slots[k].fds);
		if (m->slots[k].respawn_ev != NULL)
			event_free(m->slots[k].respawn_ev);
	}
	free(m->slots);
	for (k = 0; k < sizeof(m->sig_evs) / sizeof(m->sig_evs[0]); k++)
		if (m->sig_evs[k] != NULL)
			event_free(m->sig_evs[k]);
	if (m->kill_ev != NULL)
		event_free(m->kill_ev);
	if (m->base != NULL)
		event_base_free(m->base);
	if (m->pipe[0] != -1)
		(void)close(m->pipe[0]);
	if (m->pipe[1] != -1)
		(void)close(m->pipe[1]);
	config_free(m->conf);
}

int
master_run(struct config *conf)
{
	static const int	 sigs[] = { SIGTERM, SIGQUIT, SIGINT, SIGCHLD,
				    SIGHUP, SIGUSR1 };
	struct master		 m;
	unsigned		 k;
	size_t			 i;
	int			 rc = 1;

	memset(&m, 0, sizeof(m));
	m.pipe[0] = m.pipe[1] = -1;
	m.conf = conf;
	m.nslots = conf->workers;
	m.slots = xcalloc(m.nslots, sizeof(*m.slots));
	master_self = &m;

	/* A client that vanishes must cost an EPIPE, not the process. */
	(void)signal(SIGPIPE, SIG_IGN);
	if (master_check_logs(&m) == -1 || master_bind(&m) == -1)
		goto done;
	if (pipe2(m.pipe, O_CLOEXEC) == -1) {
		log_error("pipe");
		goto done;
	}
	if ((m.base = event_base_new()) == NULL) {
		log_errorx("event_base_new failed");
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
	for (k = 0; k < m.nslots; k++)
		m.slots[k].respawn_ev = evtimer_new(m.base, master_respawn_cb,
		    &m.slots[k]);

	for (k = 0; k < m.nslots; k++)
		master_spawn(&m, k);
	for (i = 0; i < conf->nlisten; i++)
		log_info("listening on %s with %u workers", conf->listen[i].text,
		    m.nslots);

	(void)event_base_dispatch(m.base);
	log_info("stopped");
	rc = 0;
done:
	if (rc != 0 && master_running(&m) > 0) {
		master_signal_workers(&m, SIGKILL);
		while (wait(NULL) > 0)
			;
	}
	master_free(&m);
	master_self = NULL;
	return rc;
}
