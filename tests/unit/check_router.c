/*
 * check_router.c - unit tests for router.c.
 *
 * Configs are built by hand rather than through config_load_string() so
 * these tests pin the router alone: a config bug cannot hide or fake a
 * router bug. The large-table test checks every answer against a slow
 * reference that reads the rules straight off router.h.
 */
#include "autoconfig.h"

#include <check.h>

#include "unit.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "router.h"
#include "xmalloc.h"

#define GET	CONFIG_METHOD_GET
#define HEAD	CONFIG_METHOD_HEAD
#define POST	CONFIG_METHOD_POST
#define PUT	CONFIG_METHOD_PUT
#define DELETE	CONFIG_METHOD_DELETE
#define PATCH	CONFIG_METHOD_PATCH
#define OPTIONS	CONFIG_METHOD_OPTIONS
#define ALL	(GET | HEAD | POST | PUT | DELETE | PATCH | OPTIONS)

#define EXACT	CONFIG_MATCH_EXACT
#define PREFIX	CONFIG_MATCH_PREFIX

struct spec {
	const char		*path;
	enum config_match	 match;
	unsigned		 methods;
};

#define NSPECS(a)	(sizeof(a) / sizeof((a)[0]))

static struct config *
conf_build(const struct spec *specs, size_t n)
{
	struct config	*conf;
	size_t		 i;

	conf = xcalloc(1, sizeof(*conf));
	conf->routes = xcalloc(n, sizeof(*conf->routes));
	conf->nroutes = n;
	for (i = 0; i < n; i++) {
		conf->routes[i].path = xstrdup(specs[i].path);
		conf->routes[i].path_len = strlen(specs[i].path);
		conf->routes[i].match = specs[i].match;
		conf->routes[i].methods = specs[i].methods;
		conf->routes[i].mode = CONFIG_MODE_NONBLOCKING;
		conf->routes[i].index = (unsigned)i;
	}
	return conf;
}

static void
conf_destroy(struct config *conf)
{
	size_t	 i;

	for (i = 0; i < conf->nroutes; i++)
		free(conf->routes[i].path);
	free(conf->routes);
	free(conf);
}

static const struct config_route *
match(const struct router *router, unsigned method, const char *path,
    unsigned *allowed)
{
	/* Poison, so a result that leaves *allowed alone is caught. */
	*allowed = 0xdead;
	return router_match(router, method, path, strlen(path), allowed);
}

/* Expect route number want (by config position) for (method, path). */
#define ASSERT_HIT(conf, router, method, path, want) do {		\
	unsigned			 al_;				\
	const struct config_route	*r_;				\
									\
	r_ = match(router, method, path, &al_);				\
	ck_assert_msg(r_ == &(conf)->routes[want],			\
	    "%s: want route %d, got %d", path, (int)(want),		\
	    r_ == NULL ? -1 : (int)r_->index);				\
} while (0)

/* Expect no route, with allowed (0 for 404) as the Allow mask. */
#define ASSERT_MISS(router, method, path, want_allowed) do {		\
	unsigned			 al_;				\
	const struct config_route	*r_;				\
									\
	r_ = match(router, method, path, &al_);				\
	ck_assert_msg(r_ == NULL, "%s: want no route, got %d", path,	\
	    r_ == NULL ? -1 : (int)r_->index);				\
	ck_assert_msg(al_ == (unsigned)(want_allowed),			\
	    "%s: want allowed %#x, got %#x", path,			\
	    (unsigned)(want_allowed), al_);				\
} while (0)

START_TEST(test_exact_hit)
{
	static const struct spec specs[] = {
		{ "/hello", EXACT, GET | HEAD },
		{ "/ping", EXACT, GET },
		{ "/write", EXACT, POST },
	};
	struct config	*conf = conf_build(specs, NSPECS(specs));
	struct router	*router = router_new(conf);

	ASSERT_HIT(conf, router, GET, "/hello", 0);
	ASSERT_HIT(conf, router, HEAD, "/hello", 0);
	ASSERT_HIT(conf, router, GET, "/ping", 1);
	ASSERT_HIT(conf, router, POST, "/write", 2);
	router_free(router);
	conf_destroy(conf);
}
END_TEST

START_TEST(test_exact_miss)
{
	static const struct spec specs[] = {
		{ "/hello", EXACT, GET },
		{ "/ping", EXACT, GET },
	};
	struct config	*conf = conf_build(specs, NSPECS(specs));
	struct router	*router = router_new(conf);

	ASSERT_MISS(router, GET, "/nope", 0);
	ASSERT_MISS(router, GET, "/hell", 0);
	ASSERT_MISS(router, GET, "/hello/", 0);
	ASSERT_MISS(router, GET, "/hellox", 0);
	ASSERT_MISS(router, GET, "/Hello", 0);		/* case-sensitive */
	ASSERT_MISS(router, GET, "/a", 0);		/* before every route */
	ASSERT_MISS(router, GET, "/zzz", 0);		/* after every route */
	ASSERT_MISS(router, POST, "/nope", 0);		/* 404 beats 405 */
	router_free(router);
	conf_destroy(conf);
}
END_TEST

START_TEST(test_prefix_longest)
{
	/* Listed shortest first so the router's own ordering is tested. */
	static const struct spec specs[] = {
		{ "/", PREFIX, GET },
		{ "/static/", PREFIX, GET },
		{ "/static/img/", PREFIX, GET },
		{ "/static/img/big/", PREFIX, GET },
	};
	struct config	*conf = conf_build(specs, NSPECS(specs));
	struct router	*router = router_new(conf);

	ASSERT_HIT(conf, router, GET, "/static/img/big/a.png", 3);
	ASSERT_HIT(conf, router, GET, "/static/img/a.png", 2);
	ASSERT_HIT(conf, router, GET, "/static/img/bigger", 2);
	ASSERT_HIT(conf, router, GET, "/static/css/a.css", 1);
	ASSERT_HIT(conf, router, GET, "/static/img", 1);
	ASSERT_HIT(conf, router, GET, "/other", 0);
	ASSERT_HIT(conf, router, GET, "/", 0);
	router_free(router);
	conf_destroy(conf);
}
END_TEST

START_TEST(test_exact_beats_prefix)
{
	static const struct spec specs[] = {
		{ "/static/", PREFIX, GET | HEAD },
		{ "/static/index.html", EXACT, GET },
		{ "/static/upload", EXACT, POST },
		{ "/static/", EXACT, GET },
		{ "/api/", PREFIX, GET },
		{ "/api/v1/", PREFIX, PUT },
		{ "/api/v1/x", EXACT, DELETE },
	};
	struct config	*conf = conf_build(specs, NSPECS(specs));
	struct router	*router = router_new(conf);

	ASSERT_HIT(conf, router, GET, "/static/index.html", 1);
	ASSERT_HIT(conf, router, GET, "/static/", 3);
	/* The exact route does not allow HEAD: the prefix behind it does. */
	ASSERT_HIT(conf, router, HEAD, "/static/index.html", 0);
	ASSERT_HIT(conf, router, GET, "/static/upload", 0);
	ASSERT_HIT(conf, router, POST, "/static/upload", 2);
	/* None allows PUT: Allow is the union of every matching route. */
	ASSERT_MISS(router, PUT, "/static/upload", GET | HEAD | POST);
	ASSERT_MISS(router, PUT, "/static/other", GET | HEAD);
	/* Exact, then longer prefix, then shorter prefix. */
	ASSERT_HIT(conf, router, DELETE, "/api/v1/x", 6);
	ASSERT_HIT(conf, router, PUT, "/api/v1/x", 5);
	ASSERT_HIT(conf, router, GET, "/api/v1/x", 4);
	ASSERT_MISS(router, POST, "/api/v1/x", GET | PUT | DELETE);
	ASSERT_MISS(router, POST, "/api/v1/y", GET | PUT);
	ASSERT_MISS(router, POST, "/api/v2", GET);
	router_free(router);
	conf_destroy(conf);
}
END_TEST

START_TEST(test_method_not_allowed)
{
	static const struct spec specs[] = {
		{ "/hello", EXACT, GET | HEAD },
		{ "/upload", EXACT, POST | PUT },
		{ "/files/", PREFIX, GET | DELETE | OPTIONS },
	};
	struct config	*conf = conf_build(specs, NSPECS(specs));
	struct router	*router = router_new(conf);

	ASSERT_MISS(router, POST, "/hello", GET | HEAD);
	ASSERT_MISS(router, PATCH, "/hello", GET | HEAD);
	ASSERT_MISS(router, GET, "/upload", POST | PUT);
	ASSERT_MISS(router, PUT, "/files/a", GET | DELETE | OPTIONS);
	ASSERT_HIT(conf, router, OPTIONS, "/files/a", 2);
	router_free(router);
	conf_destroy(conf);
}
END_TEST

START_TEST(test_same_path_disjoint_methods)
{
	/* Other paths in between, so the sort has to bring them together. */
	static const struct spec specs[] = {
		{ "/item", EXACT, GET | HEAD },
		{ "/items", EXACT, GET },
		{ "/item", EXACT, POST },
		{ "/iteM", EXACT, PUT },
		{ "/item", EXACT, DELETE },
		{ "/it", EXACT, PATCH },
	};
	struct config	*conf = conf_build(specs, NSPECS(specs));
	struct router	*router = router_new(conf);

	ASSERT_HIT(conf, router, GET, "/item", 0);
	ASSERT_HIT(conf, router, HEAD, "/item", 0);
	ASSERT_HIT(conf, router, POST, "/item", 2);
	ASSERT_HIT(conf, router, DELETE, "/item", 4);
	ASSERT_HIT(conf, router, PUT, "/iteM", 3);
	ASSERT_HIT(conf, router, GET, "/items", 1);
	ASSERT_HIT(conf, router, PATCH, "/it", 5);
	ASSERT_MISS(router, PUT, "/item", GET | HEAD | POST | DELETE);
	ASSERT_MISS(router, OPTIONS, "/items", GET);
	router_free(router);
	conf_destroy(conf);
}
END_TEST

START_TEST(test_overlap_config_order)
{
	/*
	 * The config should refuse overlapping routes, but if two do
	 * overlap the answer must be stable: the one listed first.
	 */
	static const struct spec specs[] = {
		{ "/a", EXACT, GET | POST },
		{ "/a", EXACT, GET },
		{ "/p/", PREFIX, GET },
		{ "/p/", PREFIX, GET | PUT },
	};
	struct config	*conf = conf_build(specs, NSPECS(specs));
	struct router	*router = router_new(conf);

	ASSERT_HIT(conf, router, GET, "/a", 0);
	ASSERT_HIT(conf, router, GET, "/p/x", 2);
	ASSERT_HIT(conf, router, PUT, "/p/x", 3);
	router_free(router);
	conf_destroy(conf);
}
END_TEST

START_TEST(test_method_zero)
{
	static const struct spec specs[] = {
		{ "/hello", EXACT, GET | HEAD },
		{ "/files/", PREFIX, GET },
		{ "/", PREFIX, POST },
	};
	struct config	*conf = conf_build(specs, NSPECS(specs));
	struct router	*router = router_new(conf);

	/* A method no route can allow ("BREW") is 405 once a path matches. */
	ASSERT_MISS(router, 0, "/hello", GET | HEAD | POST);
	ASSERT_MISS(router, 0, "/files/x", GET | POST);
	ASSERT_MISS(router, 0, "/zzz", POST);
	router_free(router);

	conf->nroutes = 2;		/* drop the catch-all */
	router = router_new(conf);
	ASSERT_MISS(router, 0, "/hello", GET | HEAD);
	ASSERT_MISS(router, 0, "/zzz", 0);
	router_free(router);
	conf->nroutes = 3;
	conf_destroy(conf);
}
END_TEST

START_TEST(test_prefix_trailing_slash)
{
	static const struct spec specs[] = {
		{ "/static/", PREFIX, GET },
	};
	struct config	*conf = conf_build(specs, NSPECS(specs));
	struct router	*router = router_new(conf);

	ASSERT_HIT(conf, router, GET, "/static/", 0);
	ASSERT_HIT(conf, router, GET, "/static/x", 0);
	ASSERT_HIT(conf, router, GET, "/static//x/y", 0);
	ASSERT_MISS(router, GET, "/static", 0);
	ASSERT_MISS(router, GET, "/staticx", 0);
	ASSERT_MISS(router, GET, "/Static/x", 0);
	ASSERT_MISS(router, GET, "/", 0);
	ASSERT_MISS(router, GET, "/x/static/", 0);
	router_free(router);
	conf_destroy(conf);
}
END_TEST

START_TEST(test_root_prefix)
{
	static const struct spec specs[] = {
		{ "/", PREFIX, GET | HEAD },
		{ "/hello", EXACT, POST },
	};
	struct config	*conf = conf_build(specs, NSPECS(specs));
	struct router	*router = router_new(conf);

	ASSERT_HIT(conf, router, GET, "/", 0);
	ASSERT_HIT(conf, router, GET, "/anything", 0);
	ASSERT_HIT(conf, router, HEAD, "/deep/er/path/", 0);
	ASSERT_HIT(conf, router, GET, "/hello", 0);	/* falls through */
	ASSERT_HIT(conf, router, POST, "/hello", 1);
	ASSERT_MISS(router, POST, "/other", GET | HEAD);
	ASSERT_MISS(router, GET, "", 0);		/* not even "/" */
	ASSERT_MISS(router, GET, "x", 0);
	router_free(router);
	conf_destroy(conf);
}
END_TEST

START_TEST(test_empty_paths)
{
	static const struct spec specs[] = {
		{ "/", EXACT, GET },
		{ "/a", EXACT, GET },
		{ "/a/", PREFIX, GET },
	};
	struct config			*conf;
	struct router			*router;
	const struct config_route	*r;
	unsigned			 allowed;

	conf = conf_build(specs, NSPECS(specs));
	router = router_new(conf);
	ASSERT_HIT(conf, router, GET, "/", 0);
	ASSERT_MISS(router, GET, "", 0);
	ASSERT_MISS(router, GET, "//", 0);
	ASSERT_MISS(router, GET, " /", 0);

	/* A zero-length path may come with a NULL pointer. */
	allowed = 0xdead;
	r = router_match(router, GET, NULL, 0, &allowed);
	ck_assert_ptr_null(r);
	ck_assert_uint_eq(allowed, 0);

	/* path_len counts, not the NUL: "/a/b" cut to 2 bytes is "/a". */
	r = router_match(router, GET, "/a/b", 2, &allowed);
	ck_assert_ptr_eq(r, &conf->routes[1]);
	r = router_match(router, GET, "/a/b", 3, &allowed);
	ck_assert_ptr_eq(r, &conf->routes[2]);
	r = router_match(router, GET, "/", 0, &allowed);
	ck_assert_ptr_null(r);

	/* Bytes after an embedded NUL still count. */
	r = router_match(router, GET, "/a\0b", 4, &allowed);
	ck_assert_ptr_null(r);
	ck_assert_uint_eq(allowed, 0);
	r = router_match(router, GET, "/a/\0b", 5, &allowed);
	ck_assert_ptr_eq(r, &conf->routes[2]);

	/* allowed may be NULL for a caller that only wants the route. */
	ck_assert_ptr_eq(router_match(router, GET, "/a", 2, NULL),
	    &conf->routes[1]);
	ck_assert_ptr_null(router_match(router, POST, "/a", 2, NULL));
	router_free(router);
	conf_destroy(conf);
}
END_TEST

START_TEST(test_no_routes)
{
	struct config	*conf = conf_build(NULL, 0);
	struct router	*router = router_new(conf);

	ASSERT_MISS(router, GET, "/", 0);
	ASSERT_MISS(router, 0, "/x", 0);
	router_free(router);
	router_free(NULL);
	conf_destroy(conf);
}
END_TEST

/*
 * The reference: router.h's rules read literally. Exact routes in config
 * order, then prefixes longest first, equal lengths in config order (a
 * stable insertion sort, done once per config).
 */
static const struct config_route	*ref_prefix[1024];
static size_t				 ref_nprefix;

static void
ref_init(const struct config *conf)
{
	const struct config_route	*r;
	size_t				 i, j;

	ck_assert_uint_le(conf->nroutes, NSPECS(ref_prefix));
	ref_nprefix = 0;
	for (i = 0; i < conf->nroutes; i++) {
		r = &conf->routes[i];
		if (r->match != PREFIX)
			continue;
		for (j = ref_nprefix++; j > 0 &&
		    ref_prefix[j - 1]->path_len < r->path_len; j--)
			ref_prefix[j] = ref_prefix[j - 1];
		ref_prefix[j] = r;
	}
}

static const struct config_route *
ref_match(const struct config *conf, unsigned method, const char *path,
    size_t path_len, unsigned *allowed)
{
	const struct config_route	*r;
	size_t				 i;
	unsigned			 mask = 0;

	for (i = 0; i < conf->nroutes; i++) {
		r = &conf->routes[i];
		if (r->match != EXACT || r->path_len != path_len ||
		    memcmp(r->path, path, path_len) != 0)
			continue;
		if (r->methods & method) {
			*allowed = r->methods;
			return r;
		}
		mask |= r->methods;
	}
	for (i = 0; i < ref_nprefix; i++) {
		r = ref_prefix[i];
		if (r->path_len > path_len ||
		    memcmp(r->path, path, r->path_len) != 0)
			continue;
		if (r->methods & method) {
			*allowed = r->methods;
			return r;
		}
		mask |= r->methods;
	}
	*allowed = mask;
	return NULL;
}

/* A small deterministic generator: the same table on every run. */
static unsigned long	rng_state = 12345;

static unsigned
rng(unsigned n)
{
	rng_state = rng_state * 6364136223846793005UL + 1442695040888963407UL;
	return (unsigned)((rng_state >> 33) % n);
}

#define MANY_EXACT	500
#define MANY_PREFIX	50

START_TEST(test_many_routes)
{
	static const char *const words[] = {
		"a", "b", "api", "v1", "v2", "users", "items", "static", "img",
		"x", "",
	};
	static const unsigned methods[] = {
		GET, GET | HEAD, POST, PUT | PATCH, DELETE, GET | POST, ALL,
		OPTIONS,
	};
	struct spec	 specs[MANY_EXACT + MANY_PREFIX];
	char		 paths[MANY_EXACT + MANY_PREFIX][64];
	char		 probe[96];
	struct config	*conf;
	struct router	*router;
	const struct config_route *got, *want;
	unsigned	 m, got_allowed, want_allowed, n404 = 0, n405 = 0;
	unsigned	 nhit = 0;
	size_t		 i, j, nwords = sizeof(words) / sizeof(words[0]);

	/*
	 * Exact routes: distinct numbered paths plus some from a small
	 * vocabulary, so paths repeat (same path, several routes) and share
	 * prefixes with the prefix routes.
	 */
	for (i = 0; i < MANY_EXACT; i++) {
		if (i % 5 == 0)
			(void)snprintf(paths[i], sizeof(paths[i]), "/%s/%s",
			    words[rng(nwords)], words[rng(nwords)]);
		else
			(void)snprintf(paths[i], sizeof(paths[i]), "/r/%03zu",
			    i);
		specs[i].path = paths[i];
		specs[i].match = EXACT;
		specs[i].methods = methods[rng(NSPECS(methods))];
	}
	/* Prefixes: nested chains of several lengths, and the root. */
	for (j = 0; j < MANY_PREFIX; j++) {
		i = MANY_EXACT + j;
		if (j == 0)
			(void)snprintf(paths[i], sizeof(paths[i]), "/");
		else if (j < 20)
			(void)snprintf(paths[i], sizeof(paths[i]), "/%s/",
			    words[rng(nwords)]);
		else
			(void)snprintf(paths[i], sizeof(paths[i]), "/%s/%s/",
			    words[rng(nwords)], words[rng(nwords)]);
		specs[i].path = paths[i];
		specs[i].match = PREFIX;
		specs[i].methods = methods[rng(NSPECS(methods))];
	}
	/* Shuffle so the config order tells the router nothing. */
	for (i = NSPECS(specs) - 1; i > 0; i--) {
		struct spec	 t;

		j = rng((unsigned)i + 1);
		t = specs[i];
		specs[i] = specs[j];
		specs[j] = t;
	}
	conf = conf_build(specs, NSPECS(specs));
	router = router_new(conf);
	ref_init(conf);

	/* Every route's own path, with every method and with none. */
	for (i = 0; i < conf->nroutes; i++) {
		for (m = 0; m <= OPTIONS; m = m == 0 ? 1 : m << 1) {
			want = ref_match(conf, m, conf->routes[i].path,
			    conf->routes[i].path_len, &want_allowed);
			got = router_match(router, m, conf->routes[i].path,
			    conf->routes[i].path_len, &got_allowed);
			ck_assert_msg(got == want && (got == NULL ?
			    got_allowed == want_allowed : 1),
			    "%s method %#x: got %d/%#x want %d/%#x",
			    conf->routes[i].path, m,
			    got ? (int)got->index : -1, got_allowed,
			    want ? (int)want->index : -1, want_allowed);
			if (got != NULL)
				ck_assert_uint_eq(got->methods & m, m);
		}
		/* The exact route is found among 500 by binary search. */
		if (conf->routes[i].match == EXACT) {
			got = router_match(router, conf->routes[i].methods,
			    conf->routes[i].path, conf->routes[i].path_len,
			    &got_allowed);
			ck_assert_ptr_nonnull(got);
			ck_assert_int_eq(got->match, EXACT);
		}
	}

	/* Random paths built from the same words, hits and misses alike. */
	for (i = 0; i < 20000; i++) {
		size_t	 len = 0, nseg = rng(4);

		probe[len++] = '/';
		for (j = 0; j < nseg; j++) {
			const char	*w = words[rng(nwords)];

			memcpy(probe + len, w, strlen(w));
			len += strlen(w);
			if (j + 1 < nseg || rng(2))
				probe[len++] = '/';
		}
		if (rng(4) == 0)
			len += (size_t)snprintf(probe + len,
			    sizeof(probe) - len, "r/%03u",
			    rng(MANY_EXACT + 20));
		m = rng(8) == 0 ? 0 : 1U << rng(7);
		want = ref_match(conf, m, probe, len, &want_allowed);
		got = router_match(router, m, probe, len, &got_allowed);
		ck_assert_msg(got == want && (got == NULL ?
		    got_allowed == want_allowed : 1),
		    "%.*s method %#x: got %d/%#x want %d/%#x", (int)len,
		    probe, m, got ? (int)got->index : -1, got_allowed,
		    want ? (int)want->index : -1, want_allowed);
		if (got != NULL)
			nhit++;
		else if (got_allowed == 0)
			n404++;
		else
			n405++;
	}
	/* The probes must exercise all three answers to mean anything. */
	ck_assert_uint_gt(nhit, 1000);
	ck_assert_uint_gt(n405, 1000);
	router_free(router);

	/* Without the root prefix some probes must come back 404 too. */
	for (i = 0; i < conf->nroutes; i++)
		if (strcmp(conf->routes[i].path, "/") == 0)
			conf->routes[i].match = EXACT;
	router = router_new(conf);
	ref_init(conf);
	for (i = 0; i < 2000; i++) {
		(void)snprintf(probe, sizeof(probe), "/%s%s",
		    words[rng(nwords)], rng(2) ? "/" : "");
		m = 1U << rng(7);
		want = ref_match(conf, m, probe, strlen(probe), &want_allowed);
		got = router_match(router, m, probe, strlen(probe),
		    &got_allowed);
		ck_assert_ptr_eq(got, want);
		if (got == NULL) {
			ck_assert_uint_eq(got_allowed, want_allowed);
			if (got_allowed == 0)
				n404++;
		}
	}
	ck_assert_uint_gt(n404, 10);
	router_free(router);
	conf_destroy(conf);
}
END_TEST

static Suite *
router_suite(void)
{
	Suite	*s = suite_create("router");
	TCase	*tc = tcase_create("match");

	tcase_add_test(tc, test_exact_hit);
	tcase_add_test(tc, test_exact_miss);
	tcase_add_test(tc, test_prefix_longest);
	tcase_add_test(tc, test_exact_beats_prefix);
	tcase_add_test(tc, test_method_not_allowed);
	tcase_add_test(tc, test_same_path_disjoint_methods);
	tcase_add_test(tc, test_overlap_config_order);
	tcase_add_test(tc, test_method_zero);
	tcase_add_test(tc, test_prefix_trailing_slash);
	tcase_add_test(tc, test_root_prefix);
	tcase_add_test(tc, test_empty_paths);
	tcase_add_test(tc, test_no_routes);
	tcase_add_test(tc, test_many_routes);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return unit_run(router_suite());
}
