/*
 * registry.h - handler name to descriptor.
 *
 * The handlers are the built-ins compiled into registry.c's table; no
 * plugin is loaded (there is no dlopen yet, though include/switchyard.h
 * is all a handler uses). Lookups happen at config load, in the master.
 */
#ifndef REGISTRY_H
#define REGISTRY_H

#include "switchyard.h"

/* The handler called name, or NULL. */
const struct sy_handler	*registry_find(const char *name);

/*
 * Call fn for every known handler in name order, for error messages and
 * man-page checks.
 */
void	registry_foreach(void (*fn)(const struct sy_handler *, void *),
	    void *arg);

#endif /* REGISTRY_H */
