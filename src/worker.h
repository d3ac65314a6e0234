/*
 * worker.h - one worker process.
 *
 * A worker runs its own event loop over its slot's listening sockets and
 * serves connections until told to stop (TERM/QUIT: drain, INT: now) or
 * until the master goes away.
 */
#ifndef WORKER_H
#define WORKER_H

#include <stddef.h>
#include <sys/types.h>

struct config;
struct event_base;

struct worker_params {
	const struct config	*conf;
	unsigned		 slot;		/* 0..workers-1 */
	const int		*fds;		/* the slot's listeners */
	size_t			 nfds;
	int			 master_fd;	/* EOF: the master is gone */
	pid_t			 master_pid;
	struct event_base	*inherited;	/* the master's, to release */
};

/*
 * Child after fork: serve until stopped, then exit. Never returns.
 */
void	worker_main(const struct worker_params *p)
	    __attribute__((noreturn));

#endif /* WORKER_H */
