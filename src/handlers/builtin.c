/*
 * builtin.c - the handlers compiled into switchyard, as one table of the
 * shape a plugin exports. main() registers it; nothing below the handlers
 * names one of them.
 */
#include "autoconfig.h"

#include <stddef.h>

#include "handlers/handlers.h"

/* Sorted by name: the order of "known: ..." in error messages. */
const struct sy_handler *const builtin_handlers[] = {
	&handler_async_sleep,
	&handler_cpu,
	&handler_dashboard,
	&handler_echo,
	&handler_hash_body,
	&handler_health,
	&handler_hello,
	&handler_json,
	&handler_metrics,
	&handler_sleep,
	&handler_static,
	&handler_status,
	&handler_write_file,
	NULL
};
