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

#include <errno.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include <event2/event.h>

#include "switchyard.h"
#include "handlers/handlers.h"

#define SLEEP_MS_MAX	3600000

struct async_sleep {
	unsigned	ms;		/* default duration */
	unsigned	max_ms;		/* cap of ?ms=; 0: no override */
};

static int
get_ms(const json_t *args, const char *key, unsigned *ms, char *err,
    size_t errlen)
{
	json_t		*v = json_object_get(args, key);
	json_int_t	 n;

	if (!json_is_integer(v)) {
		snprintf(err, errlen, "%s: must be an integer (milliseconds)",
		    key);
		return -1;
	}
	n = json_integer_value(v);
	if (n < 0 || n > SLEEP_MS_MAX) {
		snprintf(err, errlen, "%s: %lld is out of range 0..%d", key,
		    (long long)n, SLEEP_MS_MAX);
		return -1;
	}
	*ms = (unsigned)n;
	return 0;
}

static int
async_sleep_init(const json_t *args, void **state, char *err, size_t errlen)
{
	struct async_sleep	 s = { 0, 0 };
	struct async_sleep	*copy;
	const char		*key;
	json_t			*v;

	if (args == NULL || json_object_get(args, "ms") == NULL) {
		snprintf(err, errlen, "ms: required");
		return -1;
	}
	json_object_foreach((json_t *)(uintptr_t)args, key, v) {
		if (strcmp(key, "ms") == 0) {
			if (get_ms(args, key, &s.ms, err, errlen) == -1)
				return -1;
		} else if (strcmp(key, "max_ms") == 0) {
			if (get_ms(args, key, &s.max_ms, err, errlen) == -1)
				return -1;
		} else {
			snprintf(err, errlen, "%s: unknown key (known: ms, "
			    "max_ms)", key);
			return -1;
		}
	}
	if ((copy = malloc(sizeof(*copy))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	*copy = s;
	*state = copy;
	return 0;
}

static void
async_sleep_free(void *state)
{
	free(state);
}

static void
async_sleep_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct sy_req	*req = arg;

	sy_resp_content_type(req, "application/json");
	(void)sy_resp_body_static(req, "\"pong\"", 6);
	sy_req_finish(req);
}

/*
 * The duration for this request: args.ms, or ?ms=N when max_ms allows it.
 * Returns -1 when the override is malformed or above max_ms.
 */
static long
request_ms(struct sy_req *req, const struct async_sleep *s)
{
	char		 buf[16], *end;
	long		 n;

	if (s->max_ms == 0 || sy_req_query(req, "ms", buf, sizeof(buf)) < 0)
		return s->ms;
	errno = 0;
	n = strtol(buf, &end, 10);
	if (errno != 0 || end == buf || *end != '\0' || n < 0 ||
	    n > (long)s->max_ms)
		return -1;
	return n;
}

static int
async_sleep_handle(struct sy_req *req, void *state)
{
	const struct async_sleep	*s = state;
	struct timeval			 tv;
	long				 ms;
	char				 msg[64];

	if ((ms = request_ms(req, s)) < 0) {
		snprintf(msg, sizeof(msg), "ms must be an integer 0..%u",
		    s->max_ms);
		return sy_resp_error(req, 400, msg) ? SY_ERROR : SY_DONE;
	}
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
	.init = async_sleep_init,
	.free = async_sleep_free,
	.handle = async_sleep_handle,
};
