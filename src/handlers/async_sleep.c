/*
 * async_sleep.c - the "async_sleep" handler: asyncio.sleep(ms).
 *
 * Arms a timer on the worker's loop and returns SY_PENDING; the timer
 * finishes the request. The loop stays free meanwhile, so one worker
 * holds any number of these at once: the "async def + await" case.
 *
 * args: "ms" (required, 0..3600000), "max_ms" (optional): when set, a
 * "?ms=N" query parameter overrides "ms" for one request, up to max_ms.
 */
#include "autoconfig.h"

#include <sys/time.h>

#include <event2/event.h>

#include "switchyard.h"
#include "handlers/handlers.h"
#include "handlers/sleep_args.h"

static void
async_sleep_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct sy_req	*req = arg;

	sy_resp_content_type(req, "application/json");
	(void)sy_resp_body_static(req, "\"pong\"", 6);
	sy_req_finish(req);
}

static int
async_sleep_handle(struct sy_req *req, void *state)
{
	struct timeval	 tv;
	long		 ms;

	if ((ms = sleep_args_ms(req, state)) < 0)
		return sleep_args_refuse(req, state);
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	/* event_base_once frees its event after the callback has run. */
	if (event_base_once(sy_req_base(req), -1, EV_TIMEOUT,
	    async_sleep_timer_cb, req, &tv) == -1)
		return SY_ERROR;
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
