/*
 * registry.c - handler name to descriptor, for one configuration.
 *
 * A handful of tables of a few handlers each: a linear search at config
 * load is all this needs, and it keeps the order tables were added in,
 * which is the order error messages list names.
 */
#include "autoconfig.h"

#include <stdio.h>
#include <string.h>

#include "registry.h"
#include "xmalloc.h"

static const struct sy_handler *const	*builtins;

void
registry_set_builtins(const struct sy_handler *const *table)
{
	builtins = table;
}

const struct sy_handler *const *
registry_builtins(void)
{
	return builtins;
}

void
registry_init(struct registry *reg)
{
	memset(reg, 0, sizeof(*reg));
}

void
registry_clear(struct registry *reg)
{
	free(reg->v);
	registry_init(reg);
}

/*
 * A name is what a config's "handler" holds and what logs and metrics
 * labels print: a letter, then letters, digits, '_', '-' or '.'.
 */
static int
name_valid(const char *name)
{
	size_t	 i;

	if (name == NULL || !((name[0] >= 'a' && name[0] <= 'z') ||
	    (name[0] >= 'A' && name[0] <= 'Z')))
		return 0;
	for (i = 1; name[i] != '\0'; i++) {
		if (i >= REGISTRY_NAME_MAX)
			return 0;
		if (!((name[i] >= 'a' && name[i] <= 'z') ||
		    (name[i] >= 'A' && name[i] <= 'Z') ||
		    (name[i] >= '0' && name[i] <= '9') ||
		    name[i] == '_' || name[i] == '-' || name[i] == '.'))
			return 0;
	}
	return 1;
}

static const struct registry_entry *
registry_entry(const struct registry *reg, const char *name)
{
	size_t	 i;

	for (i = 0; i < reg->n; i++)
		if (strcmp(reg->v[i].handler->name, name) == 0)
			return &reg->v[i];
	return NULL;
}

int
registry_add(struct registry *reg, const struct sy_handler *const *table,
    const char *origin, char *err, size_t errlen)
{
	const struct registry_entry	*e;
	const struct sy_handler		*h;
	size_t				 i, j, n;

	for (n = 0; table[n] != NULL; n++)
		;
	if (n == 0) {
		(void)snprintf(err, errlen, "sy_plugin_handlers is empty");
		return -1;
	}
	/* All checked before any is added: a refused table adds nothing. */
	for (i = 0; i < n; i++) {
		h = table[i];
		if (h->abi != SY_ABI_VERSION) {
			/* abi and name lead the struct in every version. */
			(void)snprintf(err, errlen, "handler %zu (%s): built "
			    "for ABI %u, this server has %u", i,
			    name_valid(h->name) ? h->name : "?", h->abi,
			    SY_ABI_VERSION);
			return -1;
		}
		if (!name_valid(h->name)) {
			(void)snprintf(err, errlen, "handler %zu: name \"%.64s\""
			    " is invalid (a letter, then letters, digits, "
			    "'_', '-' or '.'; at most %d bytes)", i,
			    h->name == NULL ? "(null)" : h->name,
			    REGISTRY_NAME_MAX - 1);
			return -1;
		}
		if (h->handle == NULL) {
			(void)snprintf(err, errlen, "handler \"%s\" has no "
			    "handle()", h->name);
			return -1;
		}
		if ((e = registry_entry(reg, h->name)) != NULL) {
			(void)snprintf(err, errlen, "handler \"%s\" is already "
			    "provided by %s", h->name, e->origin);
			return -1;
		}
		for (j = 0; j < i; j++)
			if (strcmp(table[j]->name, h->name) == 0) {
				(void)snprintf(err, errlen, "handler \"%s\" is "
				    "listed twice", h->name);
				return -1;
			}
	}
	if (reg->n + n > reg->cap) {
		reg->cap = reg->n + n + 16;
		reg->v = xreallocarray(reg->v, reg->cap, sizeof(*reg->v));
	}
	for (i = 0; i < n; i++) {
		reg->v[reg->n].handler = table[i];
		reg->v[reg->n].origin = origin;
		reg->n++;
	}
	return 0;
}

const struct sy_handler *
registry_find(const struct registry *reg, const char *name)
{
	const struct registry_entry	*e;

	return (e = registry_entry(reg, name)) != NULL ? e->handler : NULL;
}

void
registry_foreach(const struct registry *reg,
    void (*fn)(const struct sy_handler *, void *), void *arg)
{
	size_t	 i;

	for (i = 0; i < reg->n; i++)
		fn(reg->v[i].handler, arg);
}
