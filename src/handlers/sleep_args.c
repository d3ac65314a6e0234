/*
 * sleep_args.c - args of "sleep" and "async_sleep", validated once.
 */
#include "autoconfig.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "switchyard.h"
#include "handlers/sleep_args.h"

#define SLEEP_MS_MAX	3600000

struct sleep_args {
	unsigned	ms;		/* default duration */
	unsigned	max_ms;		/* cap of ?ms=; 0: no override */
};

int
sleep_args_init(const json_t *args, void **state, char *err, size_t errlen)
{
	static const char *const required[] = { "ms", NULL };
	static const char *const known[] = { "ms", "max_ms", NULL };
	unsigned long		 ms = 0, max_ms = 0;
	struct sleep_args	*copy;

	if (sy_args_keys(args, known, required, err, errlen) == -1 ||
	    sy_args_uint(args, "ms", 1, 0, SLEEP_MS_MAX, &ms, err,
	    errlen) == -1 ||
	    sy_args_uint(args, "max_ms", 0, 0, SLEEP_MS_MAX, &max_ms, err,
	    errlen) == -1)
		return -1;
	if ((copy = malloc(sizeof(*copy))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	copy->ms = (unsigned)ms;
	copy->max_ms = (unsigned)max_ms;
	*state = copy;
	return 0;
}

void
sleep_args_free(void *state)
{
	free(state);
}

long
sleep_args_ms(struct sy_req *req, const void *state)
{
	const struct sleep_args	*s = state;
	unsigned long		 ms = s->ms;

	if (s->max_ms != 0 &&
	    sy_req_query_uint(req, "ms", 0, s->max_ms, &ms) == -1)
		return -1;
	return (long)ms;
}

int
sleep_args_refuse(struct sy_req *req, const void *state)
{
	const struct sleep_args	*s = state;
	char				 msg[64];

	snprintf(msg, sizeof(msg), "ms must be an integer 0..%u", s->max_ms);
	return sy_resp_error(req, 400, msg) ? SY_ERROR : SY_DONE;
}
