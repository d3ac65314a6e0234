/*
 * stats.h - the shared-memory segment of the master and its workers.
 *
 * The master maps it before forking, so every worker shares it; the
 * metrics and status handlers read it whole, so whichever worker answers
 * a scrape, the numbers cover the whole server. Every field is a C11
 * atomic, updated with relaxed operations: no lock anywhere.
 *
 * Three parts, chosen so that a reload or a respawn keeps each series
 * coherent:
 *
 *   routes  server-wide, keyed by route path: every worker of every
 *           generation adds to the same counters, so they never go back.
 *           The ones written on every request (requests, duration) are
 *           kept once per stripe of worker slots (stats_route_hot()), so
 *           that two workers never write one cache line per request;
 *           readers add the stripes up (stats_route_sum()).
 *   slots   per worker slot: a respawned worker, and the new generation
 *           of a reload, go on counting where the slot's last worker
 *           stopped (both write during a reload's overlap: atomics).
 *   cells   per worker process: gauges (connections open, pool busy,
 *           loop lag) and the heartbeat, which only that process writes;
 *           freed by the master when the process is gone.
 */
#ifndef STATS_H
#define STATS_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

/* heartbeat_ms of a worker on its way out: the watchdog leaves it be. */
#define STATS_HEARTBEAT_EXITING	UINT64_MAX

/* Worker processes alive at once, all generations (reload overlap). */
#define STATS_CELLS		2112
/*
 * One slot per worker: this is the cap on workers for the whole program
 * (config "workers", -w, TTIN: CONFIG_WORKERS_MAX; listener.c's placement
 * map), defined here alone because this table is what it sizes.
 */
#define STATS_SLOTS		1024
#define STATS_ROUTES		256	/* route paths tracked; [0]: none */
#define STATS_PATH_MAX		128
#define STATS_STRIPES		16	/* copies of the per-request counters */

/* Histogram bucket upper bounds, seconds; the last bucket is +Inf. */
#define STATS_BUCKETS		15
extern const double	stats_bucket_le[STATS_BUCKETS - 1];

/* How a request ran: the access log's words. */
enum stats_mode {
	STATS_MODE_LOOP,
	STATS_MODE_POOL,
	STATS_MODE_OFFLOAD,
	STATS_NMODES
};

/* "loop", "pool", "offload". */
extern const char *const stats_mode_name[STATS_NMODES];

/* Why a TLS handshake failed: a small fixed set, for the metrics. */
enum stats_tls_fail {
	STATS_TLS_HTTP,		/* plain HTTP on a TLS port */
	STATS_TLS_PROTOCOL,	/* anything else TLS refused: garbage,
				   versions, ciphers, alerts */
	STATS_TLS_TIMEOUT,	/* not done within timeouts.header_ms */
	STATS_TLS_CLOSED,	/* the client left in the middle */
	STATS_TLS_NFAILS
};

/* "http", "protocol", "timeout", "closed". */
extern const char *const stats_tls_fail_name[STATS_TLS_NFAILS];

/* The status codes counted one by one; the rest share "other". */
#define STATS_NCODES		25

struct stats_hist {
	_Atomic uint64_t	bucket[STATS_BUCKETS];	/* not cumulative */
	_Atomic uint64_t	sum_us;		/* of observations */
};

/* What every answered request adds to, one copy per stripe. */
struct stats_route_hot {
	_Alignas(64) _Atomic uint64_t requests[STATS_NMODES][STATS_NCODES];
	struct stats_hist	duration;
};

struct stats_route {
	char			path[STATS_PATH_MAX];	/* "" : free slot */
	char			handler[64];	/* of the serving config */
	char			mode[16];	/* "blocking"..., same */
	_Atomic uint64_t	slow_loop;	/* calls over loop_block_warn */
	_Atomic uint64_t	promotions;	/* auto: moved to the pool */
	_Atomic unsigned	promoted_gen;	/* generation of the last one */
};

struct stats_slot {
	_Atomic uint64_t	accepted;	/* connections */
	_Atomic uint64_t	paused_limit;	/* accept paused: at max_connections */
	_Atomic uint64_t	paused_emfile;	/* accept paused: out of fds */
	_Atomic uint64_t	rejected_503;	/* pool queue full */
	_Atomic uint64_t	timeouts_504;	/* handler deadline */
	_Atomic uint64_t	accesslog_dropped; /* lines: reader stalled */
	_Atomic uint64_t	proxy_refused;	/* no valid PROXY header */
	_Atomic uint64_t	tls_handshakes;	/* completed */
	_Atomic uint64_t	tls_resumed;	/* of those, by a ticket */
	_Atomic uint64_t	tls_failed[STATS_TLS_NFAILS];
	struct stats_hist	queue_wait;	/* pool jobs */
	struct stats_hist	run_time;	/* pool jobs */
};

struct stats_cell {
	_Atomic uint64_t	heartbeat_ms;	/* CLOCK_MONOTONIC, last tick */
	_Atomic int		pid;		/* 0: free, -1: being set up */
	_Atomic unsigned	slot;
	_Atomic unsigned	generation;
	_Atomic uint64_t	started_ms;	/* CLOCK_REALTIME */
	_Atomic unsigned	connections;	/* open now */
	_Atomic unsigned	pool_busy;
	_Atomic unsigned	pool_queued;
	_Atomic uint64_t	loop_lag_us;	/* last lateness of the tick */
	_Atomic uint64_t	loop_lag_max_us; /* since start */
	_Atomic unsigned	pool_threads;	/* of its config: the bound */
	_Atomic unsigned	pool_queue_limit; /* of pool_busy, pool_queued */
	/*
	 * Which handlers run now, by route (stats index): so that when the
	 * process dies of a signal, the master can say in which code
	 * (stats_running_*). Written before each call, read after a death.
	 */
	_Atomic unsigned	loop_route;	/* on the loop; 0: none */
	_Atomic uint16_t	pool_running[STATS_ROUTES]; /* pool threads */
};

/* Written by the master only. */
struct stats_master {
	_Atomic uint64_t	started_ms;	/* CLOCK_REALTIME */
	_Atomic int		pid;
	_Atomic unsigned	slots_used;	/* slots that ever ran */
	_Atomic unsigned	generation;
	/*
	 * Set once TERM, QUIT or INT reached the master, never cleared: the
	 * instance is going away, and "health" answers 503 in every worker
	 * of every generation. A reload does not set it.
	 */
	_Atomic int		draining;
	_Atomic uint64_t	reloads_ok;
	_Atomic uint64_t	reloads_invalid;	/* bad file */
	_Atomic uint64_t	reloads_failed;	/* rolled back */
	_Atomic uint64_t	restarts_exit;	/* worker exited */
	_Atomic uint64_t	restarts_signal;	/* worker killed */
	_Atomic uint64_t	restarts_watchdog;	/* loop stuck */
	char			config_path[1024];
	/* The last worker killed by a signal; the time is stored last. */
	_Atomic uint64_t	crash_ms;	/* CLOCK_REALTIME, 0: none */
	_Atomic int		crash_pid;
	_Atomic int		crash_signal;
	_Atomic unsigned	crash_slot;
	char			crash_route[STATS_PATH_MAX];	/* "": none */
	char			crash_handler[64];
	/*
	 * The last reload's outcome, the words of systemd's STATUS; the
	 * time is stored last, after a 0 while the text changes.
	 */
	_Atomic uint64_t	reload_ms;	/* CLOCK_REALTIME, 0: none */
	_Atomic int		reload_ok;	/* serving the new file */
	char			reload_text[384];
};

struct stats {
	struct stats_master	master;
	struct stats_route	routes[STATS_ROUTES];
	struct stats_slot	slots[STATS_SLOTS];
	struct stats_cell	cells[STATS_CELLS];
	/*
	 * Last: only the pages of the stripes and routes in use are ever
	 * touched, so the rest costs no memory.
	 */
	struct stats_route_hot	hot[STATS_STRIPES][STATS_ROUTES];
};

/*
 * Map a zeroed shared segment and make it the process's (stats_get()).
 * NULL with errno on failure.
 */
struct stats	*stats_map(void);

/* Accepts NULL. */
void		 stats_unmap(struct stats *stats);

/* The segment this process shares, or NULL (unit tests, -t). */
struct stats	*stats_get(void);

/*
 * Master: the index of the route slot for path, allocating one the first
 * time a path is seen; the same path keeps its slot (and its counters)
 * across reloads. 0 (the "no route" slot) when the table is full.
 */
unsigned	 stats_route_index(struct stats *stats, const char *path);

/* The index of status code in requests[][]; STATS_NCODES - 1: other. */
unsigned	 stats_code_index(int code);

/* The code at index i, or 0 for "other". */
int		 stats_code_at(unsigned i);

/*
 * The per-request counters of route (a stats index) for the worker of
 * slot (NULL: stripe 0). Workers of different stripes write different
 * cache lines; those of one stripe share them, atomically.
 */
static inline struct stats_route_hot *
stats_route_hot(struct stats *stats, const struct stats_slot *slot,
    unsigned route)
{
	unsigned	 stripe = slot != NULL ?
			    (unsigned)(slot - stats->slots) % STATS_STRIPES : 0;

	return &stats->hot[stripe][route];
}

/* Add up route's stripes (those of the slots that ever ran) into sum. */
void		 stats_route_sum(const struct stats *stats, unsigned route,
		    struct stats_route_hot *sum);

/* Add an observation of seconds to h. Any thread, any process. */
void		 stats_hist_add(struct stats_hist *h, double seconds);

/*
 * Estimate quantile q (0..1) from h by linear interpolation inside the
 * bucket it falls in, as Prometheus' histogram_quantile() does. Returns
 * -1 when h is empty. For +Inf, the last finite bound.
 */
double		 stats_hist_quantile(const struct stats_hist *h, double q);

/*
 * A handler call for route (a stats index; 0 is not tracked) starts or
 * ends, on the loop thread (loop) or a pool thread. cell NULL: not
 * tracked (unit tests). Cheap: a plain store on the loop, an atomic add
 * in the pool.
 */
static inline void
stats_running_begin(struct stats_cell *cell, unsigned route, int loop)
{
	if (cell == NULL || route == 0 || route >= STATS_ROUTES)
		return;
	if (loop)
		atomic_store_explicit(&cell->loop_route, route,
		    memory_order_relaxed);
	else
		atomic_fetch_add_explicit(&cell->pool_running[route], 1,
		    memory_order_relaxed);
}

static inline void
stats_running_end(struct stats_cell *cell, unsigned route, int loop)
{
	if (cell == NULL || route == 0 || route >= STATS_ROUTES)
		return;
	if (loop)
		atomic_store_explicit(&cell->loop_route, 0,
		    memory_order_relaxed);
	else
		atomic_fetch_sub_explicit(&cell->pool_running[route], 1,
		    memory_order_relaxed);
}


#endif /* STATS_H */
