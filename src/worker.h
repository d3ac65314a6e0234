/*
 * worker.h - one worker process.
 *
 * A worker runs its own event loop over its slot's listening sockets and
 * serves connections until told to stop (TERM/QUIT: drain, INT: now) or
 * until the master goes away. It tells the master it is serving by
 * writing "R" on ready_fd, and proves its loop is alive by ticking the
 * heartbeat in its stats cell.
 */
#ifndef WORKER_H
#define WORKER_H

#include <signal.h>
#include <stddef.h>
#include <sys/types.h>

struct config;
struct event_base;
struct sockets_load;
struct stats_cell;

struct worker_params {
	struct config		*conf;		/* bound by the worker */
	unsigned		 slot;		/* 0..workers-1 */
	unsigned		 generation;	/* for the logs */
	const int		*fds;		/* the slot's listeners */
	size_t			 nfds;
	int			 master_fd;	/* EOF: the master is gone */
	int			 ready_fd;	/* write "R" once serving */
	pid_t			 master_pid;	/* before the fork */
	sigset_t		 sigmask;	/* to restore once ready */
	struct stats_cell	*cell;		/* this worker's heartbeat */
	struct sockets_load	*load;		/* placement entry, NULL: none */
	struct event_base	*inherited;	/* the master's, reinit'd */
};

/*
 * Child after fork, once event_reinit(p->inherited) has run: serve until
 * stopped, then exit. Never returns.
 */
/*
 * Become conf's user and group, when started as root and conf names
 * them; exits on failure. Workers and the checking child (master_check).
 */
void	worker_drop_privileges(const struct config *conf);

void	worker_main(const struct worker_params *p)
	    __attribute__((noreturn));

#endif /* WORKER_H */
