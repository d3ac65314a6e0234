/*
 * dispatch.c - runs a route's handler on the loop or in the pool.
 *
 * Design note. A non-blocking route's handler runs right here, on the
 * loop thread; a handler that sleeps or computes there freezes every
 * connection of its worker. That is the behaviour users come to measure,
 * so it is reproduced faithfully and reported, never hidden: each such
 * call longer than loop_block_warn_ms is logged with a hint.
 *
 * A blocking route's request is handed to the pool as the pool_job
 * embedded in its sy_req. From pool_submit() until dispatch_done_cb() the
 * request belongs to the pool thread: the loop does not touch it. A
 * connection that times out or loses its client takes a job that is
 * still queued back (dispatch_cancel), else waits for it to end. The
 * completion runs on the loop and hands the request back to its owner
 * through req->done_cb, the same way sy_req_finish() does for a pending
 * loop handler.
 *
 * An auto route starts on the loop; the first call caught blocking it
 * moves the route to the pool in this worker (promoted[route->index]).
 */
#include "autoconfig.h"

#include <errno.h>
#include <stdlib.h>
#include <time.h>

#include "clock.h"
#include "dispatch.h"
#include "log.h"
#include "pool.h"
#include "stats.h"
#include "xmalloc.h"

struct dispatch {
	struct pool		*pool;
	unsigned		 warn_ms;	/* 0: detector off */
	unsigned char		*promoted;	/* per route index */
	size_t			 nroutes;
	struct stats		*stats;
	struct stats_slot	*slot;
	unsigned		 generation;
};

struct dispatch *
dispatch_new(const struct config *conf, struct pool *pool,
    struct stats *stats, unsigned slot, unsigned generation)
{
	struct dispatch	*d = xcalloc(1, sizeof(*d));

	d->stats = stats;
	d->slot = &stats->slots[slot];
	d->generation = generation;
	d->pool = pool;
	d->warn_ms = conf->loop_block_warn_ms;
	d->nroutes = conf->nroutes;
	d->promoted = xcalloc(conf->nroutes, 1);
	return d;
}

void
dispatch_free(struct dispatch *d)
{
	if (d == NULL)
		return;
	free(d->promoted);
	free(d);
}

/* Replace whatever the handler built with a 500. */
static void
fail(struct sy_req *req)
{
	log_warnx("route %s: handler %s failed (request %s)",
	    req->route->path, req->route->handler->name, req->id);
	req->headers_len = 0;
	req->content_type[0] = '\0';
	(void)sy_resp_error(req, 500, "Internal Server Error");
}

/* Pool thread: run the handler. Touches only req. */
static void
dispatch_work_cb(struct pool_job *job)
{
	struct sy_req	*req = api_req_of_job(job);
	unsigned	 si = req->route->stats_index;

	stats_running_begin(req->stats_cell, si, 0);
	req->result = req->route->handler->handle(req, req->route->state);
	stats_running_end(req->stats_cell, si, 0);
	/* Here, not on the loop: compressing is the thread's work too. */
	if (req->result == SY_DONE)
		api_resp_encode(req);
}

/* Loop thread: the job is back; so is req. */
static void
dispatch_done_cb(struct pool_job *job)
{
	struct sy_req	*req = api_req_of_job(job);

	if (job->state == POOL_JOB_DROPPED)
		atomic_store(&req->aborted, 1);	/* the worker is exiting */
	else if (req->result != SY_DONE) {
		fail(req);		/* SY_PENDING is loop-only */
		api_resp_encode(req);
	}
	req->done_cb(req, req->done_arg);
}

/*
 * Count a 503 for a full queue; say so in the log at most once a second,
 * with how many were not logged: a storm is one line a second, not
 * thousands, and the worker's tick (log_limit_flush) tells its end.
 */
static void
dispatch_refused(struct dispatch *d, const struct sy_req *req)
{
	atomic_fetch_add_explicit(&d->slot->rejected_503, 1,
	    memory_order_relaxed);
	log_warnx_limited("route %s: request refused with 503: the thread "
	    "pool queue is full (threads, queue_limit) (request %s)",
	    req->route->path, req->id);
}

static int
dispatch_submit(struct dispatch *d, struct sy_req *req)
{
	req->mode = STATS_MODE_POOL;
	req->job.work = dispatch_work_cb;
	req->job.done = dispatch_done_cb;
	if (pool_submit(d->pool, &req->job) == 0)
		return SY_PENDING;
	/* Full queue (or stopping): refuse now, memory stays bounded. */
	if (errno != EAGAIN && errno != ESHUTDOWN)
		log_warn("route %s: pool_submit (request %s)",
		    req->route->path, req->id);
	dispatch_refused(d, req);
	(void)sy_resp_header(req, "Retry-After", "1");
	(void)sy_resp_error(req, 503, "Service Unavailable: thread pool "
	    "queue full");
	api_resp_encode(req);
	return SY_DONE;
}

int
dispatch_run(struct dispatch *d, struct sy_req *req)
{
	const struct config_route	*route = req->route;
	long long			 start, ms;
	int				 rc;

	if (route->mode == CONFIG_MODE_BLOCKING ||
	    (route->mode == CONFIG_MODE_AUTO && d->promoted[route->index]))
		return dispatch_submit(d, req);

	req->mode = STATS_MODE_LOOP;
	start = d->warn_ms ? (long long)clock_ns() : 0;
	stats_running_begin(req->stats_cell, route->stats_index, 1);
	rc = route->handler->handle(req, route->state);
	stats_running_end(req->stats_cell, route->stats_index, 1);
	if (rc != SY_PENDING) {
		if (rc != SY_DONE)
			fail(req);
		/* Inside the detector's window: it blocks the loop too. */
		api_resp_encode(req);
	}
	if (d->warn_ms && (ms = ((long long)clock_ns() - start) / 1000000) >= d->warn_ms) {
		struct stats_route	*sr =
					    &d->stats->routes[route->stats_index];

		atomic_fetch_add_explicit(&sr->slow_loop, 1,
		    memory_order_relaxed);
		if (route->mode == CONFIG_MODE_AUTO) {
			d->promoted[route->index] = 1;
			atomic_fetch_add_explicit(&sr->promotions, 1,
			    memory_order_relaxed);
			atomic_store(&sr->promoted_gen, d->generation);
			log_warnx("route %s (handler %s, mode auto) blocked the "
			    "event loop for %lld ms: moved to the thread pool "
			    "in this worker (request %s)", route->path,
			    route->handler->name, ms, req->id);
		} else
			log_warnx("route %s (handler %s) blocked the event loop "
			    "for %lld ms; every connection of this worker "
			    "waited: mark the route \"mode\": \"blocking\" to "
			    "run it in the thread pool (request %s)",
			    route->path, route->handler->name, ms, req->id);
	}
	if (rc == SY_PENDING) {
		req->pending = 1;
		return SY_PENDING;
	}
	return SY_DONE;
}

int
dispatch_cancel(struct dispatch *d, struct sy_req *req)
{
	if (req->pending)
		return -1;		/* a loop handler holds it */
	return pool_cancel(d->pool, &req->job);
}
