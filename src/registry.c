/*
 * registry.c - handler name to descriptor.
 *
 * The table is sorted by name so registry_foreach() lists handlers in a
 * stable order for error messages and documentation checks.
 */
#include "autoconfig.h"

#include <stddef.h>
#include <string.h>

#include "registry.h"
#include "handlers/handlers.h"

static const struct sy_handler *const builtins[] = {
	&handler_async_sleep,
	&handler_cpu,
	&handler_echo,
	&handler_hash_body,
	&handler_hello,
	&handler_json,
	&handler_metrics,
	&handler_sleep,
	&handler_static,
	&handler_status,
	&handler_write_file,
};

#define NBUILTINS	(sizeof(builtins) / sizeof(builtins[0]))

const struct sy_handler *
registry_find(const char *name)
{
	size_t	 i;

	for (i = 0; i < NBUILTINS; i++)
		if (strcmp(builtins[i]->name, name) == 0)
			return builtins[i];
	return NULL;
}

void
registry_foreach(void (*fn)(const struct sy_handler *, void *), void *arg)
{
	size_t	 i;

	for (i = 0; i < NBUILTINS; i++)
		fn(builtins[i], arg);
}
