/*
 * sleep.c - the "sleep" handler: time.sleep(ms).
 *
 * A blocking sleep. On a blocking route it occupies one pool thread and
 * nothing else; on a non-blocking route it holds the worker's loop, and
 * every other connection of that worker waits: FastAPI's "time.sleep in
 * an async def endpoint" pitfall, reproduced on purpose.
 *
 * args: "ms" (required, 0..3600000), "max_ms" (optional): when set, a
 * "?ms=N" query parameter overrides "ms" for one request, up to max_ms.
 */
#include "autoconfig.h"

#include <errno.h>
#include <time.h>

#include "switchyard.h"
#include "handlers/handlers.h"
#include "handlers/sleep_args.h"

static int
sleep_handle(struct sy_req *req, void *state)
{
	struct timespec	 ts;
	long		 ms;

	if ((ms = sleep_args_ms(req, state)) < 0)
		return sleep_args_refuse(req, state);
	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (ms % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
	sy_resp_content_type(req, "application/json");
	return sy_resp_body_static(req, "\"pong\"", 6) ? SY_ERROR : SY_DONE;
}

const struct sy_handler handler_sleep = {
	.abi = SY_ABI_VERSION,
	.name = "sleep",
	.flags = 0,
	.init = sleep_args_init,
	.free = sleep_args_free,
	.handle = sleep_handle,
};
