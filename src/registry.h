/*
 * registry.h - handler name to descriptor, for one configuration.
 *
 * A registry is filled from tables of the shape a plugin exports
 * (sy_plugin_handlers): first the built-in table that main() hands over
 * with registry_set_builtins(), then each plugin's, in config order. It
 * names no handler itself. Every table goes through the same checks, so a
 * built-in is held to the rules of a plugin.
 */
#ifndef REGISTRY_H
#define REGISTRY_H

#include <stddef.h>

#include "switchyard.h"

#define REGISTRY_NAME_MAX	64	/* bytes of a handler name */

struct registry_entry {
	const struct sy_handler	*handler;
	const char		*origin;	/* "built-in" or a plugin path */
};

struct registry {
	struct registry_entry	*v;
	size_t			 n, cap;
};

/* The binary's own handlers, NULL-terminated; set once, before loading. */
void	registry_set_builtins(const struct sy_handler *const *table);
const struct sy_handler *const *registry_builtins(void);

/* An empty registry. */
void	registry_init(struct registry *reg);

/* Forget every entry (the handlers belong to their tables). */
void	registry_clear(struct registry *reg);

/*
 * Add every handler of table (NULL-terminated) as coming from origin,
 * which must outlive reg. Refuses, with the reason in err and nothing
 * added: an empty table, a handler whose abi is not SY_ABI_VERSION, a
 * missing handle(), an invalid name, a name already taken (naming both
 * origins).
 */
int	registry_add(struct registry *reg, const struct sy_handler *const *table,
	    const char *origin, char *err, size_t errlen);

/* The handler called name, or NULL. */
const struct sy_handler	*registry_find(const struct registry *reg,
			    const char *name);

/* Call fn for every handler, in the order added, for error messages. */
void	registry_foreach(const struct registry *reg,
	    void (*fn)(const struct sy_handler *, void *), void *arg);

#endif /* REGISTRY_H */
