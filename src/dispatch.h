/*
 * dispatch.h - run a route's handler the way its mode says.
 *
 * nonblocking: on the loop thread, timed; a call that holds the loop
 * longer than loop_block_warn_ms is reported with the route, the handler
 * and a hint, as asyncio's debug mode does. blocking: on a pool thread,
 * the answer handed back to the loop. auto: on the loop until the first
 * call caught blocking it, then in the pool for the rest of the worker's
 * life.
 */
#ifndef DISPATCH_H
#define DISPATCH_H

#include "api.h"

struct dispatch;
struct pool;

/*
 * Per-worker dispatch state for conf's routes, submitting to pool. Both
 * must outlive it. stats receives slow-loop events, auto
 * promotions (stamped with generation) and 503s, the last in slot's
 * counters. Loop thread only, as every function here.
 */
struct dispatch	*dispatch_new(const struct config *conf, struct pool *pool,
		    struct stats *stats, unsigned slot, unsigned generation);

/* Accepts NULL. */
void		 dispatch_free(struct dispatch *d);

/*
 * Run req's handler. Returns SY_DONE when the response in req is ready
 * (errors already turned into 500 or 503), or SY_PENDING when req->done_cb
 * will be called later on the loop thread (a pool job, or a loop handler
 * that returned SY_PENDING and will call sy_req_finish()).
 */
int		 dispatch_run(struct dispatch *d, struct sy_req *req);

/*
 * The client of a SY_PENDING req went away. Returns 0 when req's pool job
 * was still queued and has been taken back (req is free again and
 * done_cb will not be called), -1 when a handler still holds req.
 */
int		 dispatch_cancel(struct dispatch *d, struct sy_req *req);

#endif /* DISPATCH_H */
