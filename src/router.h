/*
 * router.h - (method, path) to route.
 *
 * Built once per config from its routes. Exact routes are found by
 * binary search, prefix routes by longest match. Among the routes whose
 * path matches, the most specific one that allows the method wins (exact
 * before prefix, longer prefix before shorter); when none allows it the
 * answer is 405 with the union of their methods in Allow.
 */
#ifndef ROUTER_H
#define ROUTER_H

#include <stddef.h>

#include "config.h"

struct router;

/* A router over conf's routes. conf must outlive it. */
struct router	*router_new(const struct config *conf);

/* Accepts NULL. */
void		 router_free(struct router *router);

/*
 * The route for method (a CONFIG_METHOD_* bit; 0 for a method no route can
 * allow) and path (path_len bytes, no query). NULL when nothing matches:
 * then *allowed is 0 for 404, or the methods to list in Allow for 405.
 */
const struct config_route *router_match(const struct router *router,
		    unsigned method, const char *path, size_t path_len,
		    unsigned *allowed);

#endif /* ROUTER_H */
