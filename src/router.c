/*
 * router.c - (method, path) to route.
 *
 * router_new() splits the config's routes into two sorted arrays of
 * pointers sharing one allocation:
 *
 *   exact   by path bytes, then length, then config order. Several exact
 *           routes may share a path (GET on one handler, POST on
 *           another); the sort makes them adjacent, in config order.
 *   prefix  by length, longest first, then bytes, then config order. It
 *           falls into runs of one length ("groups"); within a run the
 *           prefixes a path can match are exactly those equal to the
 *           path's first len bytes, so each run is binary searched too.
 *
 * A lookup is one binary search in exact plus one per prefix length no
 * longer than the path, walked longest first: the first route that
 * allows the method is the most specific one, and every matching route
 * seen before it adds its methods to the Allow mask of a 405.
 *
 * router_match() runs for every request, so it allocates nothing and
 * reads only the router and the routes; nothing changes after
 * router_new(), so any thread may call it.
 */
#include "autoconfig.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "router.h"
#include "xmalloc.h"

struct router_group {
	size_t		 start;		/* index in prefix */
	size_t		 end;		/* one past the last */
	size_t		 len;		/* path_len of every route in it */
};

struct router {
	const struct config_route	**routes;	/* exact, then prefix */
	const struct config_route	**exact;	/* == routes */
	size_t				  nexact;
	const struct config_route	**prefix;	/* routes + nexact */
	size_t				  nprefix;
	struct router_group		 *groups;	/* longest first */
	size_t				  ngroups;
};

/* Byte-wise, case-sensitive; a proper prefix sorts first. */
static int
path_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
	size_t	 n = alen < blen ? alen : blen;
	int	 c;

	/* memcmp() with a NULL pointer is undefined even for 0 bytes. */
	if (n > 0 && (c = memcmp(a, b, n)) != 0)
		return c;
	return (alen > blen) - (alen < blen);
}

/*
 * Ties fall back to the position in conf->routes (the pointers point
 * into that one array) so routes sharing a path are tried in the order
 * the config lists them, whatever qsort() does with equal keys.
 */
static int
exact_cmp(const void *a, const void *b)
{
	const struct config_route	*ra, *rb;
	int				 c;

	ra = *(const struct config_route *const *)a;
	rb = *(const struct config_route *const *)b;
	c = path_cmp(ra->path, ra->path_len, rb->path, rb->path_len);
	if (c != 0)
		return c;
	return (ra > rb) - (ra < rb);
}

static int
prefix_cmp(const void *a, const void *b)
{
	const struct config_route	*ra, *rb;
	int				 c;

	ra = *(const struct config_route *const *)a;
	rb = *(const struct config_route *const *)b;
	if (ra->path_len != rb->path_len)
		return ra->path_len > rb->path_len ? -1 : 1;
	c = path_cmp(ra->path, ra->path_len, rb->path, rb->path_len);
	if (c != 0)
		return c;
	return (ra > rb) - (ra < rb);
}

/*
 * In v[lo..hi), sorted by path, the routes whose path equals key
 * (key_len bytes): the first that allows method, or NULL after adding
 * all their methods to *mask.
 */
static const struct config_route *
find_route(const struct config_route *const *v, size_t lo, size_t hi,
    const char *key, size_t key_len, unsigned method, unsigned *mask)
{
	const struct config_route	*r;
	size_t				 mid, end = hi;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		r = v[mid];
		if (path_cmp(r->path, r->path_len, key, key_len) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < end; lo++) {
		r = v[lo];
		if (path_cmp(r->path, r->path_len, key, key_len) != 0)
			break;
		if (r->methods & method)
			return r;
		*mask |= r->methods;
	}
	return NULL;
}

struct router *
router_new(const struct config *conf)
{
	struct router	*router;
	size_t		 i, nexact = 0;

	router = xcalloc(1, sizeof(*router));
	router->routes = xreallocarray(NULL, conf->nroutes,
	    sizeof(*router->routes));
	for (i = 0; i < conf->nroutes; i++)
		if (conf->routes[i].match != CONFIG_MATCH_PREFIX)
			nexact++;
	router->exact = router->routes;
	router->prefix = router->routes + nexact;
	for (i = 0; i < conf->nroutes; i++) {
		if (conf->routes[i].match == CONFIG_MATCH_PREFIX)
			router->prefix[router->nprefix++] = &conf->routes[i];
		else
			router->exact[router->nexact++] = &conf->routes[i];
	}
	if (router->nexact > 1)
		qsort(router->exact, router->nexact, sizeof(*router->exact),
		    exact_cmp);
	if (router->nprefix > 1)
		qsort(router->prefix, router->nprefix,
		    sizeof(*router->prefix), prefix_cmp);

	/* At most one group per prefix; usually far fewer. */
	router->groups = xreallocarray(NULL, router->nprefix,
	    sizeof(*router->groups));
	for (i = 0; i < router->nprefix; i++) {
		if (i == 0 || router->prefix[i]->path_len !=
		    router->prefix[i - 1]->path_len) {
			router->groups[router->ngroups].start = i;
			router->groups[router->ngroups].len =
			    router->prefix[i]->path_len;
			router->ngroups++;
		}
		router->groups[router->ngroups - 1].end = i + 1;
	}
	return router;
}

void
router_free(struct router *router)
{
	if (router == NULL)
		return;
	free(router->groups);
	free(router->routes);
	free(router);
}

const struct config_route *
router_match(const struct router *router, unsigned method, const char *path,
    size_t path_len, unsigned *allowed)
{
	const struct config_route	*r;
	const struct router_group	*g;
	size_t				 i;
	unsigned			 mask = 0;

	r = find_route(router->exact, 0, router->nexact, path, path_len, method,
	    &mask);
	for (i = 0; r == NULL && i < router->ngroups; i++) {
		g = &router->groups[i];
		/* A prefix longer than the path cannot match it. */
		if (g->len > path_len)
			continue;
		r = find_route(router->prefix, g->start, g->end, path, g->len,
		    method, &mask);
	}
	if (allowed != NULL)
		*allowed = r != NULL ? r->methods : mask;
	return r;
}
