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

int
sleep_args_init(const json_t *args, void **state, char *err, size_t errlen)
{
	struct sleep_args	 s = { 0, 0 };
	struct sleep_args	*copy;
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
