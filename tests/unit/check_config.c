/*
 * check_config.c - unit tests for config.c.
 *
 * Most cases are data. Every tests/conf/bad/NAME.json must fail to load
 * with exactly the message in NAME.err (config_error_format(), the file
 * shown as "NAME.json": the test loads it from inside bad/). Every
 * tests/conf/good/NAME.json must load. The directories are listed once in
 * main() and each file becomes one iteration of a loop test, so a failure
 * names its file; an inventory test fails when too few files were found,
 * so a wrong TEST_CONF_DIR cannot pass by testing nothing.
 *
 * The remaining tests check parsed values: defaults, method masks with
 * the HEAD implied by GET, "workers": "auto", and the error paths that
 * need no file (a missing file, a directory, config_load_string()).
 */
#include "autoconfig.h"

#include <sys/types.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <check.h>

#include "unit.h"

#include "config.h"
#include "registry.h"

#ifndef TEST_CONF_DIR
#error "TEST_CONF_DIR must name the tests/conf directory"
#endif

#define BAD_DIR		TEST_CONF_DIR "/bad"
#define GOOD_DIR	TEST_CONF_DIR "/good"

/* Fewer files than this means the directory was not the right one. */
#define MIN_BAD_CASES	100
#define MIN_GOOD_CASES	4

struct case_list {
	char	**names;	/* "NAME.json", sorted */
	size_t	  n;
};

static struct case_list	bad_cases, good_cases;

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every *.json in dir, sorted so that loop indexes are stable. */
static void
list_cases(const char *dir, struct case_list *cl)
{
	DIR		*d;
	struct dirent	*de;
	size_t		 len;

	cl->names = NULL;
	cl->n = 0;
	if ((d = opendir(dir)) == NULL)
		return;		/* the inventory tests will fail */
	while ((de = readdir(d)) != NULL) {
		len = strlen(de->d_name);
		if (len <= 5 || strcmp(de->d_name + len - 5, ".json") != 0)
			continue;
		cl->names = realloc(cl->names, (cl->n + 1) *
		    sizeof(*cl->names));
		if (cl->names == NULL || (cl->names[cl->n] =
		    strdup(de->d_name)) == NULL)
			abort();
		cl->n++;
	}
	(void)closedir(d);
	if (cl->n > 0)
		qsort(cl->names, cl->n, sizeof(*cl->names), cmp_names);
}

static void
free_cases(struct case_list *cl)
{
	size_t	 i;

	for (i = 0; i < cl->n; i++)
		free(cl->names[i]);
	free(cl->names);
}

/* The whole file, without one trailing newline; NULL if unreadable. */
static char *
read_text(const char *path)
{
	FILE	*f;
	char	*buf;
	long	 size;
	size_t	 n;

	if ((f = fopen(path, "r")) == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) == -1 || (size = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET) == -1) {
		(void)fclose(f);
		return NULL;
	}
	if ((buf = malloc((size_t)size + 1)) == NULL)
		abort();
	n = fread(buf, 1, (size_t)size, f);
	(void)fclose(f);
	buf[n] = '\0';
	if (n > 0 && buf[n - 1] == '\n')
		buf[n - 1] = '\0';
	return buf;
}

/*
 * What the server does with a file, in one process: load (the master's
 * part), then bind (load the plugins, init the handlers: a worker's).
 */
static struct config *
bound(struct config *conf, struct config_error *err)
{
	if (conf != NULL && config_bind(conf, err) == -1) {
		config_free(conf);
		return NULL;
	}
	return conf;
}

static struct config *
load_file(const char *path, struct config_error *err)
{
	return bound(config_load(path, err), err);
}

static struct config *
load_string(const char *json, const char *file, struct config_error *err)
{
	return bound(config_load_string(json, file, err), err);
}

/* Load s (from "test.json") and return the formatted error, or NULL. */
static const char *
load_error(const char *s)
{
	static char		 buf[1024];
	struct config_error	 err;
	struct config		*conf;

	if ((conf = load_string(s, "test.json", &err)) != NULL) {
		config_free(conf);
		return NULL;
	}
	return config_error_format(&err, buf, sizeof(buf));
}

static struct config *
load_good(const char *name)
{
	struct config_error	 err;
	struct config		*conf;
	char			 path[1024], buf[1024];

	(void)snprintf(path, sizeof(path), "%s/%s", GOOD_DIR, name);
	conf = load_file(path, &err);
	ck_assert_msg(conf != NULL, "%s", config_error_format(&err, buf,
	    sizeof(buf)));
	return conf;
}

static const struct config_route *
find_route(const struct config *conf, const char *path,
    enum config_match match, unsigned method)
{
	size_t	 i;

	for (i = 0; i < conf->nroutes; i++)
		if (strcmp(conf->routes[i].path, path) == 0 &&
		    conf->routes[i].match == match &&
		    (conf->routes[i].methods & method))
			return &conf->routes[i];
	ck_abort_msg("no route %s", path);
	return NULL;
}

/* -- data-driven cases ------------------------------------------------ */

START_TEST(test_bad_inventory)
{
	char	 path[1024];
	size_t	 i;

	ck_assert_msg(bad_cases.n >= MIN_BAD_CASES, "only %zu bad cases in %s",
	    bad_cases.n, BAD_DIR);
	for (i = 0; i < bad_cases.n; i++) {
		(void)snprintf(path, sizeof(path), "%s/%.*s.err", BAD_DIR,
		    (int)(strlen(bad_cases.names[i]) - 5), bad_cases.names[i]);
		ck_assert_msg(access(path, R_OK) == 0, "%s: %s", path,
		    strerror(errno));
	}
}
END_TEST

START_TEST(test_bad_case)
{
	const char		*name = bad_cases.names[_i];
	struct config_error	 err;
	struct config		*conf;
	char			 errfile[1024], got[1024];
	char			*want;
	int			 cwd;

	ck_assert_int_ne(cwd = open(".", O_RDONLY | O_DIRECTORY), -1);
	ck_assert_int_eq(chdir(BAD_DIR), 0);
	(void)snprintf(errfile, sizeof(errfile), "%.*s.err",
	    (int)(strlen(name) - 5), name);
	want = read_text(errfile);
	ck_assert_msg(want != NULL, "%s: no %s", name, errfile);

	conf = load_file(name, &err);
	if (conf != NULL) {
		config_free(conf);
		ck_abort_msg("%s: loaded, expected: %s", name, want);
	}
	config_error_format(&err, got, sizeof(got));
	ck_assert_msg(strcmp(got, want) == 0, "%s:\n  want: %s\n  got:  %s",
	    name, want, got);
	free(want);
	ck_assert_int_eq(fchdir(cwd), 0);
	(void)close(cwd);
}
END_TEST

START_TEST(test_good_inventory)
{
	ck_assert_msg(good_cases.n >= MIN_GOOD_CASES,
	    "only %zu good cases in %s", good_cases.n, GOOD_DIR);
}
END_TEST

START_TEST(test_good_case)
{
	config_free(load_good(good_cases.names[_i]));
}
END_TEST

/* -- parsed values ---------------------------------------------------- */

START_TEST(test_defaults)
{
	struct config			*conf = load_good("minimal.json");
	const struct sockaddr_in	*sin;

	ck_assert_str_eq(conf->path, GOOD_DIR "/minimal.json");
	ck_assert_uint_eq(conf->nlisten, 1);
	ck_assert_str_eq(conf->listen[0].text, "127.0.0.1:8080");
	sin = (const struct sockaddr_in *)(const void *)&conf->listen[0].addr;
	ck_assert_int_eq(sin->sin_family, AF_INET);
	ck_assert_uint_eq(ntohs(sin->sin_port), 8080);
	ck_assert_uint_eq(ntohl(sin->sin_addr.s_addr), INADDR_LOOPBACK);
	ck_assert_uint_eq(conf->listen[0].addrlen, sizeof(*sin));

	ck_assert_uint_eq(conf->workers, 1);
	ck_assert_uint_eq(conf->threads, 40);
	ck_assert_uint_eq(conf->queue_limit, 1024);
	ck_assert_uint_eq(conf->loop_block_warn_ms, 100);
	ck_assert_uint_eq(conf->worker_timeout_ms, 30000);
	ck_assert_uint_eq(conf->timeouts.header_ms, 10000);
	ck_assert_uint_eq(conf->timeouts.body_ms, 30000);
	ck_assert_uint_eq(conf->timeouts.keepalive_ms, 5000);
	ck_assert_uint_eq(conf->timeouts.send_ms, 30000);
	ck_assert_uint_eq(conf->timeouts.handler_ms, 30000);
	ck_assert_uint_eq(conf->timeouts.shutdown_ms, 30000);
	ck_assert_uint_eq(conf->timeouts.drain_delay_ms, 0);
	ck_assert_uint_eq(conf->limits.max_connections, 10000);
	ck_assert_uint_eq(conf->limits.header_bytes, 8192);
	ck_assert_uint_eq(conf->limits.uri_bytes, 4096);
	ck_assert_uint_eq(conf->limits.headers, 100);
	ck_assert_uint_eq(conf->limits.body_bytes, 1048576);
	ck_assert_ptr_null(conf->access_log);
	ck_assert_int_eq(conf->access_log_format, CONFIG_ACCESS_COMBINED);
	ck_assert_str_eq(conf->error_log, "stderr");
	ck_assert_int_eq(conf->log_level, LOG_LEVEL_INFO);
	ck_assert_ptr_null(conf->user);
	ck_assert_ptr_null(conf->group);
	ck_assert_ptr_null(conf->pid_file);

	ck_assert_uint_eq(conf->nroutes, 1);
	ck_assert_str_eq(conf->routes[0].path, "/hello");
	ck_assert_uint_eq(conf->routes[0].path_len, 6);
	ck_assert_int_eq(conf->routes[0].match, CONFIG_MATCH_EXACT);
	ck_assert_uint_eq(conf->routes[0].methods,
	    CONFIG_METHOD_GET | CONFIG_METHOD_HEAD);
	ck_assert_int_eq(conf->routes[0].mode, CONFIG_MODE_NONBLOCKING);
	ck_assert_int_eq(conf->routes[0].compress, 0);
	ck_assert_ptr_eq(conf->routes[0].handler, unit_handler("hello"));
	ck_assert_ptr_null(conf->routes[0].state);
	ck_assert_uint_eq(conf->routes[0].index, 0);
	config_free(conf);
}
END_TEST

START_TEST(test_full)
{
	struct config			*conf = load_good("full.json");
	const struct sockaddr_in6	*sin6;
	const struct sockaddr_in	*sin;
	const struct config_route	*r;

	ck_assert_uint_eq(conf->nlisten, 3);
	ck_assert_str_eq(conf->listen[0].text, "127.0.0.1:8081");
	ck_assert_str_eq(conf->listen[1].text, "[::1]:8082");
	sin6 = (const struct sockaddr_in6 *)(const void *)
	    &conf->listen[1].addr;
	ck_assert_int_eq(sin6->sin6_family, AF_INET6);
	ck_assert_uint_eq(ntohs(sin6->sin6_port), 8082);
	ck_assert(IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr));
	ck_assert_str_eq(conf->listen[2].text, "*:8083");
	sin = (const struct sockaddr_in *)(const void *)&conf->listen[2].addr;
	ck_assert_uint_eq(ntohl(sin->sin_addr.s_addr), INADDR_ANY);
	ck_assert_int_eq(conf->listen[0].proxy_protocol, 0);
	ck_assert_int_eq(conf->listen[2].proxy_protocol, 1);
	ck_assert_int_eq(conf->listen[0].deferred, 0);
	ck_assert_int_eq(conf->listen[2].deferred, 1);
	ck_assert_uint_eq(conf->ntrusted, 3);
	ck_assert_int_eq(conf->trusted[0].family, AF_INET);
	ck_assert_uint_eq(conf->trusted[0].prefix, 8);
	ck_assert_int_eq(conf->trusted[1].family, AF_INET6);
	ck_assert_uint_eq(conf->trusted[1].prefix, 128);
	ck_assert_int_eq(conf->trusted[2].family, AF_UNIX);

	ck_assert_uint_eq(conf->workers, 3);
	ck_assert_uint_eq(conf->threads, 8);
	ck_assert_uint_eq(conf->queue_limit, 64);
	ck_assert_uint_eq(conf->loop_block_warn_ms, 250);
	ck_assert_uint_eq(conf->worker_timeout_ms, 0);
	ck_assert_uint_eq(conf->timeouts.header_ms, 1001);
	ck_assert_uint_eq(conf->timeouts.body_ms, 1002);
	ck_assert_uint_eq(conf->timeouts.keepalive_ms, 0);
	ck_assert_uint_eq(conf->timeouts.send_ms, 1003);
	ck_assert_uint_eq(conf->timeouts.handler_ms, 1004);
	ck_assert_uint_eq(conf->timeouts.shutdown_ms, 1005);
	ck_assert_uint_eq(conf->timeouts.drain_delay_ms, 1006);
	ck_assert_uint_eq(conf->limits.max_connections, 50);
	ck_assert_uint_eq(conf->limits.header_bytes, 1024);
	ck_assert_uint_eq(conf->limits.uri_bytes, 1024);
	ck_assert_uint_eq(conf->limits.headers, 20);
	ck_assert_uint_eq(conf->limits.body_bytes, 0);
	ck_assert_str_eq(conf->access_log, "stderr");
	ck_assert_int_eq(conf->access_log_format, CONFIG_ACCESS_JSON);
	ck_assert_str_eq(conf->error_log, "/var/log/switchyard/error.log");
	ck_assert_int_eq(conf->log_level, LOG_LEVEL_DEBUG);
	ck_assert_str_eq(conf->user, "root");
	ck_assert_str_eq(conf->group, "root");
	ck_assert_str_eq(conf->pid_file, "/run/switchyard.pid");

	ck_assert_uint_eq(conf->nroutes, 5);
	r = &conf->routes[1];
	ck_assert_str_eq(r->path, "/hello_pool");
	ck_assert_int_eq(r->mode, CONFIG_MODE_BLOCKING);
	ck_assert_int_eq(r->compress, 1);
	ck_assert_int_eq(conf->routes[0].compress, 0);
	ck_assert_uint_eq(r->methods, CONFIG_METHOD_GET | CONFIG_METHOD_HEAD |
	    CONFIG_METHOD_POST);
	ck_assert_uint_eq(r->index, 1);
	ck_assert_int_eq(conf->routes[2].mode, CONFIG_MODE_AUTO);
	r = &conf->routes[3];
	ck_assert_ptr_eq(r->handler, unit_handler("async_sleep"));
	ck_assert_ptr_nonnull(r->state);	/* built by init() */
	r = &conf->routes[4];
	ck_assert_str_eq(r->path, "/static/");
	ck_assert_uint_eq(r->path_len, 8);
	ck_assert_int_eq(r->match, CONFIG_MATCH_PREFIX);
	ck_assert_uint_eq(r->methods, CONFIG_METHOD_HEAD);
	ck_assert_uint_eq(r->index, 4);
	config_free(conf);
}
END_TEST

START_TEST(test_workers_auto)
{
	struct config	*conf = load_good("workers_auto.json");
	long		 ncpu = sysconf(_SC_NPROCESSORS_ONLN);

	ck_assert_uint_eq(conf->workers, ncpu < 1 ? 1 : (unsigned)ncpu);
	ck_assert_ptr_null(conf->access_log);	/* "off" */
	config_free(conf);
}
END_TEST

START_TEST(test_methods)
{
	struct config			*conf = load_good("methods.json");
	const struct config_route	*r;

	ck_assert_uint_eq(conf->nroutes, 6);
	/* Same path, disjoint methods, and the same path as a prefix. */
	r = find_route(conf, "/a", CONFIG_MATCH_EXACT, CONFIG_METHOD_GET);
	ck_assert_uint_eq(r->methods, CONFIG_METHOD_GET | CONFIG_METHOD_HEAD);
	r = find_route(conf, "/a", CONFIG_MATCH_EXACT, CONFIG_METHOD_POST);
	ck_assert_uint_eq(r->methods, CONFIG_METHOD_POST);	/* no HEAD */
	ck_assert_uint_eq(r->index, 1);
	r = find_route(conf, "/a", CONFIG_MATCH_PREFIX, CONFIG_METHOD_GET);
	ck_assert_uint_eq(r->index, 2);
	r = find_route(conf, "/b", CONFIG_MATCH_EXACT, CONFIG_METHOD_PUT);
	ck_assert_uint_eq(r->methods, CONFIG_METHOD_PUT | CONFIG_METHOD_DELETE |
	    CONFIG_METHOD_PATCH | CONFIG_METHOD_OPTIONS);
	r = find_route(conf, "/c", CONFIG_MATCH_EXACT, CONFIG_METHOD_GET);
	ck_assert_uint_eq(r->methods, CONFIG_METHOD_GET | CONFIG_METHOD_HEAD);
	r = find_route(conf, "/", CONFIG_MATCH_PREFIX, CONFIG_METHOD_HEAD);
	ck_assert_uint_eq(r->methods, CONFIG_METHOD_HEAD);	/* no GET */
	ck_assert_uint_eq(r->path_len, 1);
	config_free(conf);
}
END_TEST

/* -- errors that need no file ------------------------------------------ */

#define NAMES_MAX	1024

static void
add_name(const struct sy_handler *h, void *arg)
{
	char	*buf = arg;
	size_t	 len = strlen(buf);

	(void)snprintf(buf + len, NAMES_MAX - len, "%s%s", len ? ", " : "",
	    h->name);
}

/*
 * Not a .err file: the message lists every registered handler, which
 * would make it change with each handler added.
 */
START_TEST(test_unknown_handler)
{
	char		 names[NAMES_MAX] = "", want[NAMES_MAX + 128];
	struct registry	 reg;
	char		 err[256];

	registry_init(&reg);
	ck_assert_int_eq(registry_add(&reg, builtin_handlers, "a built-in",
	    err, sizeof(err)), 0);
	registry_foreach(&reg, add_name, names);
	registry_clear(&reg);
	ck_assert_ptr_nonnull(strstr(names, "hello"));
	(void)snprintf(want, sizeof(want), "test.json: routes[1] (\"/x\"): "
	    "handler: \"helo\" is not a known handler (known: %s)", names);
	ck_assert_str_eq(load_error("{\"routes\": ["
	    "{\"path\": \"/\", \"handler\": \"hello\"},"
	    "{\"path\": \"/x\", \"handler\": \"helo\"}]}"), want);
}
END_TEST

START_TEST(test_missing_file)
{
	struct config_error	 err;
	char			 buf[1024], want[1024];

	ck_assert_ptr_null(load_file(TEST_CONF_DIR "/no/such.json", &err));
	(void)snprintf(want, sizeof(want), "%s/no/such.json: %s",
	    TEST_CONF_DIR, strerror(ENOENT));
	ck_assert_str_eq(config_error_format(&err, buf, sizeof(buf)), want);
	ck_assert_int_eq(err.line, 0);
	ck_assert_int_eq(err.column, 0);
}
END_TEST

START_TEST(test_directory)
{
	struct config_error	 err;
	char			 buf[1024], want[1024];

	ck_assert_ptr_null(load_file(GOOD_DIR, &err));
	(void)snprintf(want, sizeof(want), "%s: %s", GOOD_DIR,
	    strerror(EISDIR));
	ck_assert_str_eq(config_error_format(&err, buf, sizeof(buf)), want);
}
END_TEST

START_TEST(test_load_string)
{
	struct config_error	 err;
	struct config		*conf;
	char			 buf[1024];

	conf = load_string("{\"workers\": 2, \"routes\": "
	    "[{\"path\": \"/p\", \"handler\": \"hello\"}]}", "inline", &err);
	ck_assert_ptr_nonnull(conf);
	ck_assert_str_eq(conf->path, "inline");
	ck_assert_uint_eq(conf->workers, 2);
	config_free(conf);

	/* Line and column of a syntax error, counted from 1. */
	conf = load_string("{\n  \"workers\": 2,\n  \"threads\" 4\n}",
	    "inline", &err);
	ck_assert_ptr_null(conf);
	ck_assert_str_eq(err.file, "inline");
	ck_assert_int_eq(err.line, 3);
	ck_assert_int_eq(err.column, 13);
	ck_assert_str_eq(config_error_format(&err, buf, sizeof(buf)),
	    "inline:3:13: ':' expected near '4'");

	/* No name: a placeholder, never an empty "FILE:". */
	ck_assert_ptr_null(load_string("[]", NULL, &err));
	ck_assert_str_eq(config_error_format(&err, buf, sizeof(buf)),
	    "<string>: the top level must be an object, not an array");
}
END_TEST

/* Values that must not reach the user unescaped or uncut. */
START_TEST(test_quoting)
{
	char	 big[4096], want[256];

	ck_assert_str_eq(load_error("{\"routes\": [{\"path\": \"/a\\\"b\\\\\","
	    " \"handler\": \"hello\", \"mode\": \"x\\ty\"}]}"),
	    "test.json: routes[0] (\"/a\\\"b\\\\\"): mode: \"x\\u0009y\" is "
	    "not one of nonblocking, blocking, auto");
	ck_assert_str_eq(load_error("{\"\": 1}"),
	    "test.json: \"\": unknown key (known: listen, workers, threads, "
	    "queue_limit, loop_block_warn_ms, worker_timeout_ms, timeouts, "
	    "limits, access_log, access_log_format, error_log, log_level, "
	    "user, group, pid_file, plugins, trusted_proxies, routes)");

	/* A long value is cut, and the message still fits. */
	(void)snprintf(big, sizeof(big), "{\"log_level\": \"%0*d\"}", 2000, 0);
	(void)snprintf(want, sizeof(want), "test.json: log_level: \"%0*d...\" "
	    "is not one of error, warning, info, debug", 64, 0);
	ck_assert_str_eq(load_error(big), want);
}
END_TEST

/* Boundaries of the ranges, accepted. */
START_TEST(test_ranges)
{
	ck_assert_ptr_null(load_error("{\"workers\": 1024, \"threads\": 1, "
	    "\"queue_limit\": 1000000, \"loop_block_warn_ms\": 60000, "
	    "\"worker_timeout_ms\": 100, \"timeouts\": {\"header_ms\": 1, "
	    "\"keepalive_ms\": 86400000}, \"limits\": {\"header_bytes\": "
	    "1048576, \"uri_bytes\": 256, \"body_bytes\": 1073741824, "
	    "\"headers\": 10000, \"max_connections\": 1000000}, "
	    "\"listen\": [\"0.0.0.0:65535\", \"[::]:1\"], "
	    "\"routes\": [{\"path\": \"/\", \"handler\": \"hello\"}]}"));
	ck_assert_ptr_null(load_error("{\"worker_timeout_ms\": 3600000, "
	    "\"routes\": [{\"path\": \"/\", \"handler\": \"hello\"}]}"));
}
END_TEST

START_TEST(test_error_format)
{
	struct config_error	 err;
	char			 buf[64], tiny[8];

	memset(&err, 0, sizeof(err));
	(void)snprintf(err.file, sizeof(err.file), "a.json");
	(void)snprintf(err.text, sizeof(err.text), "threads: bad");
	ck_assert_str_eq(config_error_format(&err, buf, sizeof(buf)),
	    "a.json: threads: bad");
	err.line = 2;
	err.column = 5;
	ck_assert_str_eq(config_error_format(&err, buf, sizeof(buf)),
	    "a.json:2:5: threads: bad");
	ck_assert_str_eq(config_error_format(&err, tiny, sizeof(tiny)),
	    "a.json:");
	ck_assert_ptr_eq(config_error_format(&err, tiny, 0), tiny);
}
END_TEST

START_TEST(test_method_bit)
{
	ck_assert_uint_eq(config_method_bit("GET"), CONFIG_METHOD_GET);
	ck_assert_uint_eq(config_method_bit("HEAD"), CONFIG_METHOD_HEAD);
	ck_assert_uint_eq(config_method_bit("POST"), CONFIG_METHOD_POST);
	ck_assert_uint_eq(config_method_bit("PUT"), CONFIG_METHOD_PUT);
	ck_assert_uint_eq(config_method_bit("DELETE"), CONFIG_METHOD_DELETE);
	ck_assert_uint_eq(config_method_bit("PATCH"), CONFIG_METHOD_PATCH);
	ck_assert_uint_eq(config_method_bit("OPTIONS"), CONFIG_METHOD_OPTIONS);
	/* HTTP methods are case-sensitive. */
	ck_assert_uint_eq(config_method_bit("get"), 0);
	ck_assert_uint_eq(config_method_bit("TRACE"), 0);
	ck_assert_uint_eq(config_method_bit("CONNECT"), 0);
	ck_assert_uint_eq(config_method_bit(""), 0);
	ck_assert_uint_eq(config_method_bit("GETX"), 0);
}
END_TEST

START_TEST(test_methods_format)
{
	char	 buf[128], small[8];

	ck_assert_str_eq(config_methods_format(CONFIG_METHOD_POST |
	    CONFIG_METHOD_GET | CONFIG_METHOD_HEAD, buf, sizeof(buf)),
	    "GET, HEAD, POST");
	ck_assert_str_eq(config_methods_format(0x7f, buf, sizeof(buf)),
	    "GET, HEAD, POST, PUT, DELETE, PATCH, OPTIONS");
	ck_assert_str_eq(config_methods_format(CONFIG_METHOD_OPTIONS, buf,
	    sizeof(buf)), "OPTIONS");
	ck_assert_str_eq(config_methods_format(0, buf, sizeof(buf)), "");
	/* Bits past OPTIONS name no method. */
	ck_assert_str_eq(config_methods_format(1U << 7 | CONFIG_METHOD_PUT,
	    buf, sizeof(buf)), "PUT");
	/* Truncated, still terminated. */
	ck_assert_str_eq(config_methods_format(0x7f, small, sizeof(small)),
	    "GET, HE");
}
END_TEST

START_TEST(test_mode_name)
{
	ck_assert_str_eq(config_mode_name(CONFIG_MODE_NONBLOCKING),
	    "nonblocking");
	ck_assert_str_eq(config_mode_name(CONFIG_MODE_BLOCKING), "blocking");
	ck_assert_str_eq(config_mode_name(CONFIG_MODE_AUTO), "auto");
}
END_TEST

START_TEST(test_free_null)
{
	config_free(NULL);
}
END_TEST

/*
 * "tls" with real files, made with the openssl command in a temporary
 * directory: a pair loads (relative paths against the config's
 * directory) and builds a context; a key of another pair is refused with
 * the key's path and OpenSSL's reason; -l listeners are plain.
 */
static void
make_pair(const char *dir, const char *name)
{
	char	 cmd[1024];

	(void)snprintf(cmd, sizeof(cmd), "openssl req -x509 -newkey ec "
	    "-pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=t "
	    "-keyout %s/%s.key -out %s/%s.crt >/dev/null 2>&1", dir, name,
	    dir, name);
	ck_assert_msg(system(cmd) == 0, "openssl req failed: %s", cmd);
}

START_TEST(test_tls)
{
	struct config			*conf;
	struct config_error		 err;
	struct config_overrides		 o = { 0 };
	char				 dir[] = "/tmp/check_config.XXXXXX";
	char				 file[PATH_MAX], want[PATH_MAX + 64];
	char				*l[] = { "127.0.0.1:9443" };
	static const char		 json[] = "{\"listen\": ["
	    "{\"address\": \"127.0.0.1:8443\", \"tls\": {\"certificate\": "
	    "\"a.crt\", \"key\": \"%s.key\"}}, \"127.0.0.1:8080\"], "
	    "\"routes\": [{\"path\": \"/\", \"handler\": \"hello\"}]}";
	char				 text[512];

	ck_assert_ptr_nonnull(mkdtemp(dir));
	make_pair(dir, "a");
	make_pair(dir, "b");
	(void)snprintf(file, sizeof(file), "%s/switchyard.json", dir);

	(void)snprintf(text, sizeof(text), json, "a");
	conf = config_load_string(text, file, &err);
	ck_assert_msg(conf != NULL, "%s", err.text);
	ck_assert_ptr_nonnull(conf->listen[0].tls);
	(void)snprintf(want, sizeof(want), "%s/a.crt", dir);
	ck_assert_str_eq(conf->listen[0].tls_certificate, want);
	ck_assert_ptr_null(conf->listen[1].tls);
	o.listen = l;
	o.nlisten = 1;
	ck_assert_int_eq(config_override(conf, &o, &err), 0);
	ck_assert_ptr_null(conf->listen[0].tls);
	config_free(conf);

	(void)snprintf(text, sizeof(text), json, "b");
	ck_assert_ptr_null(config_load_string(text, file, &err));
	(void)snprintf(want, sizeof(want), "listen[0].tls: %s/b.key: key "
	    "values mismatch", dir);
	ck_assert_str_eq(err.text, want);

	(void)snprintf(text, sizeof(text), json, "missing");
	ck_assert_ptr_null(config_load_string(text, file, &err));
	(void)snprintf(want, sizeof(want), "listen[0].tls: %s/missing.key: "
	    "No such file or directory", dir);
	ck_assert_str_eq(err.text, want);

	(void)snprintf(text, sizeof(text), "rm -rf %s", dir);
	ck_assert_int_eq(system(text), 0);
}
END_TEST

static Suite *
config_suite(void)
{
	Suite	*s = suite_create("config");
	TCase	*tc;

	tc = tcase_create("bad");
	tcase_add_test(tc, test_bad_inventory);
	tcase_add_loop_test(tc, test_bad_case, 0, (int)bad_cases.n);
	suite_add_tcase(s, tc);

	tc = tcase_create("good");
	tcase_add_test(tc, test_good_inventory);
	tcase_add_loop_test(tc, test_good_case, 0, (int)good_cases.n);
	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_full);
	tcase_add_test(tc, test_workers_auto);
	tcase_add_test(tc, test_methods);
	tcase_add_test(tc, test_ranges);
	suite_add_tcase(s, tc);

	tc = tcase_create("api");
	tcase_add_test(tc, test_unknown_handler);
	tcase_add_test(tc, test_missing_file);
	tcase_add_test(tc, test_directory);
	tcase_add_test(tc, test_load_string);
	tcase_add_test(tc, test_quoting);
	tcase_add_test(tc, test_error_format);
	tcase_add_test(tc, test_method_bit);
	tcase_add_test(tc, test_methods_format);
	tcase_add_test(tc, test_mode_name);
	tcase_add_test(tc, test_free_null);
	tcase_add_test(tc, test_tls);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	int	 rc;

	list_cases(BAD_DIR, &bad_cases);
	list_cases(GOOD_DIR, &good_cases);
	rc = unit_run(config_suite());
	free_cases(&bad_cases);
	free_cases(&good_cases);
	return rc;
}
