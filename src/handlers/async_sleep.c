/*
 * async_sleep.c - the "async_sleep" handler: asyncio.sleep(ms).
 *
 * Arms a timer on the worker's loop and returns SY_PENDING; the timer
 * finishes the request, or the request's abort does, at once. The loop stays free meanwhile, so one worker
 * holds any number of these at once: the "async def + await" case.
 *
 * args: "ms" (required, 0..3600000), "max_ms" (optional): when set, a
 * "?ms=N" query parameter overrides "ms" for one request, up to max_ms.
 */
#include "autoconfig.h"

#include <stdlib.h>
#include <sys/time.h>

#include <event2/event.h>

#include "clock.h"
#include "switchyard.h"
#include "handlers/handlers.h"
#include "handlers/sleep_args.h"

/* One sleeping request: its timer, freed when it ends either way. */
struct async_sleep {
	struct event	*ev;
	struct sy_req	*req;
};

static void
async_sleep_end(struct async_sleep *as)
{
	struct sy_req	*req = as->req;

	event_free(as->ev);
	free(as);
	sy_req_finish(req);
}

static void
async_sleep_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct async_sleep	*as = arg;

	sy_resp_content_type(as->req, "application/json");
	(void)sy_resp_body_static(as->req, "\"pong\"", 6);
	async_sleep_end(as);
}

/*
 * The client is gone (or the deadline passed): stop sleeping, as an
 * asyncio task is cancelled, instead of holding the request's memory and
 * its max_connections slot for the rest of the sleep.
 */
static void
async_sleep_abort_cb(struct sy_req *req, void *arg)
{
	async_sleep_end(arg);
}

static int
async_sleep_handle(struct sy_req *req, void *state)
{
	struct async_sleep	*as;
	struct timeval		 tv;
	long			 ms;

	if ((ms = sleep_args_ms(req, state)) < 0)
		return sleep_args_refuse(req, state);
	tv = clock_tv((unsigned)ms);
	if ((as = malloc(sizeof(*as))) == NULL)
		return SY_ERROR;
	as->req = req;
	if ((as->ev = evtimer_new(sy_req_base(req), async_sleep_timer_cb,
	    as)) == NULL || evtimer_add(as->ev, &tv) == -1) {
		if (as->ev != NULL)
			event_free(as->ev);
		free(as);
		return SY_ERROR;
	}
	sy_req_on_abort(req, async_sleep_abort_cb, as);
	return SY_PENDING;
}

const struct sy_handler handler_async_sleep = {
	.abi = SY_ABI_VERSION,
	.name = "async_sleep",
	.flags = SY_HANDLER_LOOP_ONLY,
	.init = sleep_args_init,
	.free = sleep_args_free,
	.handle = async_sleep_handle,
};
