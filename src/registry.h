/*
 * registry.h - handler name to descriptor.
 *
 * Built-in handlers are compiled in; plugins (later) are added by
 * registry_load(). Lookups happen at config load, in the master.
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
