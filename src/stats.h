/*
 * stats.h - the shared-memory segment of the master and its workers.
 *
 * The master maps it before forking, so every worker shares it. Each
 * worker process owns one cell (given by the master, reused after the
 * worker is gone) and is its only writer; the master and, later, the
 * status and metrics handlers only read. Fields are C11 atomics: no lock
 * anywhere.
 */
#ifndef STATS_H
#define STATS_H

#include <stdatomic.h>
#include <stdint.h>

/* Worker processes alive at once, all generations (reload overlap). */
#define STATS_CELLS	2112

struct stats_cell {
	_Atomic uint64_t	heartbeat_ms;	/* CLOCK_MONOTONIC, last tick */
	_Atomic int		pid;		/* 0: cell free */
	_Atomic unsigned	slot;
	_Atomic unsigned	generation;
};

struct stats {
	struct stats_cell	cells[STATS_CELLS];
};

/* Map a zeroed shared segment. NULL with errno on failure. */
struct stats	*stats_map(void);

/* Accepts NULL. */
void		 stats_unmap(struct stats *stats);

/* CLOCK_MONOTONIC in milliseconds. Any thread, any process. */
uint64_t	 stats_now_ms(void);

#endif /* STATS_H */
