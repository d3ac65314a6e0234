/*
 * health.c - the "health" handler: should a balancer send traffic here?
 *
 * 200 {"status":"ok"} while the instance serves; 503 {"status":"draining"}
 * from the moment the master is told to stop (TERM, QUIT or INT), for as
 * long as any worker still answers. With timeouts.drain_delay_ms the
 * listeners keep accepting that long after TERM, so a balancer's check
 * sees the 503 and takes the instance out before a connection is refused
 * (the Kubernetes preStop pattern, built in).
 *
 * The answer is the instance's, not the worker's: the master sets the
 * flag in the shared segment, so every worker of every generation says
 * the same. A reload drains only the old generation and the instance goes
 * on serving, so an old worker finishing its keep-alive connections still
 * answers 200.
 *
 * Reads stats.h, as status and metrics do; otherwise it uses only what a
 * plugin can. One relaxed load and a constant body: cheap enough for every
 * balancer to poll every second, on the loop, and it never blocks.
 */
#include "autoconfig.h"

#include "switchyard.h"
#include "stats.h"
#include "handlers/handlers.h"

static const char health_ok[] = "{\"status\":\"ok\"}";
static const char health_draining[] = "{\"status\":\"draining\"}";

static int
health_handle(struct sy_req *req, void *state)
{
	const struct stats	*s = stats_get();
	int			 draining;

	/* No segment (unit tests): no master that could be stopping. */
	draining = s != NULL && atomic_load_explicit(&s->master.draining,
	    memory_order_relaxed);
	/*
	 * No Retry-After on the 503: this instance is going away, and a
	 * client told to come back would come back to nothing. The check's
	 * own interval says when to look again. No cache may answer for us
	 * either: a stale 200 would keep traffic coming.
	 */
	if (sy_resp_header(req, "Cache-Control", "no-store") == -1)
		return SY_ERROR;
	sy_resp_content_type(req, "application/json");
	if (draining) {
		sy_resp_status(req, 503);
		return sy_resp_body_static(req, health_draining,
		    sizeof(health_draining) - 1) ? SY_ERROR : SY_DONE;
	}
	return sy_resp_body_static(req, health_ok, sizeof(health_ok) - 1) ?
	    SY_ERROR : SY_DONE;
}

const struct sy_handler handler_health = {
	.abi = SY_ABI_VERSION,
	.name = "health",
	.flags = 0,
	.init = NULL,
	.free = NULL,
	.handle = health_handle,
};
