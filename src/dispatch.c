/*
 * dispatch.c - runs a route's handler on the loop, timing it.
 *
 * A handler on a non-blocking route that sleeps or computes freezes every
 * connection of its worker; that is the behaviour users come to measure,
 * so it is reproduced faithfully and reported, never hidden.
 */
#include "autoconfig.h"

#include <time.h>

#include <event2/buffer.h>

#include "dispatch.h"
#include "log.h"

static long long
now_ns(void)
{
	struct timespec	 ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int
dispatch_run(struct sy_req *req, unsigned warn_ms)
{
	const struct config_route	*route = req->route;
	long long			 start, ms;
	int				 rc;

	start = warn_ms ? now_ns() : 0;
	rc = route->handler->handle(req, route->state);
	if (warn_ms && (ms = (now_ns() - start) / 1000000) >= warn_ms)
		log_warnx("route %s (handler %s) blocked the event loop for "
		    "%lld ms; every connection of this worker waited: mark the "
		    "route \"mode\": \"blocking\" to run it in the thread pool",
		    route->path, route->handler->name, ms);
	if (rc == SY_ERROR) {
		log_warnx("route %s: handler %s failed", route->path,
		    route->handler->name);
		req->headers_len = 0;
		(void)sy_resp_error(req, 500, "Internal Server Error");
		return SY_ERROR;
	}
	if (rc == SY_PENDING)
		req->pending = 1;
	return rc;
}
