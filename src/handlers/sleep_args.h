/*
 * sleep_args.h - the args shared by "sleep" and "async_sleep".
 *
 * "ms" (required, 0..3600000) is the duration; "max_ms" (optional)
 * allows a "?ms=N" query override up to that value.
 */
#ifndef SLEEP_ARGS_H
#define SLEEP_ARGS_H

#include <stddef.h>

#include "switchyard.h"

/* sy_handler.init and .free for both handlers. */
int	sleep_args_init(const json_t *args, void **state, char *err,
	    size_t errlen);
void	sleep_args_free(void *state);

/*
 * The duration for req: args.ms, or ?ms=N when max_ms allows it. -1 when
 * the override is malformed or above max_ms. Any thread.
 */
long	sleep_args_ms(struct sy_req *req, const void *state);

/* Answer 400 for a refused ?ms=; returns what handle() should. */
int	sleep_args_refuse(struct sy_req *req, const void *state);

#endif /* SLEEP_ARGS_H */
