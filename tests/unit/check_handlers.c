/*
 * check_handlers.c - unit tests for the built-in handlers write_file, cpu,
 * echo, json, hash_body, health, dashboard (its args and how the page is
 * served; tests/integration/dashboard.sh renders it in Chromium) and (its
 * args and dotfiles) static. hash_body's digests (libcrypto's) are
 * checked against the NIST vectors and the padding edges end to end,
 * through the handler. static.sh covers the rest of static.
 *
 * Args are checked through unit_handler(name)->init(), with the exact
 * error texts the config prints after "routes[i].args.". Requests are
 * real: bytes fed through http.c, a struct sy_req from api.c, a route
 * built by hand, and handle() called directly, as dispatch.c would on
 * the loop. hash_body runs through a real pool on a real event_base; the
 * loop runs until the request finishes, with a timer as a safety net.
 * Jobs that must hold a pool thread wait on a gate. No test sleeps to
 * synchronise.
 */
#include "autoconfig.h"

#include <sys/resource.h>
#include <sys/stat.h>

#include <check.h>

#include "unit.h"
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <jansson.h>
#include <zlib.h>

#include "api.h"
#include "config.h"
#include "http.h"
#include "pool.h"
#include "registry.h"
#include "stats.h"
#include "xmalloc.h"

#define SAFETY_S	10	/* give up on any wait after this long */
#define MILLION		1000000

static const struct config_limits limits = {
	.max_connections = 16,
	.header_bytes = 8192,
	.uri_bytes = 1024,
	.headers = 32,
	.body_bytes = 2 * MILLION,
};

/* -- NIST vectors (FIPS 180-4 examples, NIST CAVP) ------------------- */

static const char msg448[] =
    "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
static const char msg896[] =
    "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmn"
    "hijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu";

struct vector {
	const char	*name;
	const char	*data;		/* NULL: one million 'a' */
	const char	*hex;
};

static const struct vector vectors[] = {
	{ "empty", "",
	  "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" },
	{ "abc", "abc",
	  "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" },
	{ "448 bits", msg448,
	  "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1" },
	{ "896 bits", msg896,
	  "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1" },
	{ "million a", NULL,
	  "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0" },
};

#define NVECTORS	(sizeof(vectors) / sizeof(vectors[0]))

/* The message of v; *len set. Free it. */
static char *
vector_data(const struct vector *v, size_t *len)
{
	char	*s;

	if (v->data != NULL) {
		*len = strlen(v->data);
		return xstrdup(v->data);
	}
	*len = MILLION;
	s = xmalloc(MILLION + 1);
	memset(s, 'a', MILLION);
	s[MILLION] = '\0';
	return s;
}

/* -- registry ---------------------------------------------------------- */

static const char *const my_handlers[] = {
	"cpu", "dashboard", "echo", "hash_body", "health", "json", "static",
	"write_file"
};

START_TEST(registry_has_them)
{
	const struct sy_handler	*h = unit_handler(my_handlers[_i]);

	ck_assert_ptr_nonnull(h);
	ck_assert_str_eq(h->name, my_handlers[_i]);
	ck_assert_uint_eq(h->abi, SY_ABI_VERSION);
	ck_assert_ptr_nonnull(h->handle);
	/* Only hash_body needs the loop (sy_offload); the rest: any thread. */
	ck_assert_uint_eq(h->flags, strcmp(h->name, "hash_body") == 0 ?
	    SY_HANDLER_LOOP_ONLY : 0u);
	/* No args: init is NULL, so the config refuses any args. */
	if (strcmp(h->name, "echo") == 0 ||
	    strcmp(h->name, "hash_body") == 0 ||
	    strcmp(h->name, "health") == 0)
		ck_assert_ptr_null(h->init);
	else {
		ck_assert_ptr_nonnull(h->init);
		ck_assert_ptr_nonnull(h->free);
	}
}
END_TEST

static void
collect_name(const struct sy_handler *h, void *arg)
{
	const char	**prev = arg;

	ck_assert_msg(*prev == NULL || strcmp(*prev, h->name) < 0,
	    "registry not sorted: %s before %s", *prev, h->name);
	*prev = h->name;
}

START_TEST(registry_sorted)
{
	struct registry	 reg;
	const char	*prev = NULL;
	char		 err[256];

	registry_init(&reg);
	ck_assert_int_eq(registry_add(&reg, builtin_handlers, "a built-in",
	    err, sizeof(err)), 0);
	registry_foreach(&reg, collect_name, &prev);
	ck_assert_ptr_nonnull(prev);
	ck_assert_ptr_eq(registry_find(&reg, "hello"), unit_handler("hello"));
	ck_assert_ptr_null(registry_find(&reg, "nope"));
	registry_clear(&reg);
}
END_TEST

static int
fake_handle(struct sy_req *req, void *state)
{
	(void)req;
	(void)state;
	return SY_DONE;
}

/*
 * A plugin's table goes through the same checks as the built-ins', and
 * a refused table adds nothing.
 */
START_TEST(registry_refuses)
{
	static const struct sy_handler	 ok = { SY_ABI_VERSION, "mine", 0,
					    NULL, NULL, fake_handle };
	static const struct sy_handler	 abi = { SY_ABI_VERSION + 1, "newer",
					    0, NULL, NULL, fake_handle };
	static const struct sy_handler	 bad = { SY_ABI_VERSION, "9lives", 0,
					    NULL, NULL, fake_handle };
	static const struct sy_handler	 sp = { SY_ABI_VERSION, "a b", 0,
					    NULL, NULL, fake_handle };
	static const struct sy_handler	 nohandle = { SY_ABI_VERSION, "x", 0,
					    NULL, NULL, NULL };
	static const struct sy_handler	 clash = { SY_ABI_VERSION, "hello", 0,
					    NULL, NULL, fake_handle };
	const struct sy_handler *const	 empty[] = { NULL };
	const struct sy_handler *const	 t_abi[] = { &ok, &abi, NULL };
	const struct sy_handler *const	 t_bad[] = { &bad, NULL };
	const struct sy_handler *const	 t_sp[] = { &sp, NULL };
	const struct sy_handler *const	 t_noh[] = { &nohandle, NULL };
	const struct sy_handler *const	 t_clash[] = { &clash, NULL };
	const struct sy_handler *const	 t_twice[] = { &ok, &ok, NULL };
	const struct sy_handler *const	 t_ok[] = { &ok, NULL };
	struct registry			 reg;
	char				 err[256], want[128];

	registry_init(&reg);
	ck_assert_int_eq(registry_add(&reg, builtin_handlers, "a built-in",
	    err, sizeof(err)), 0);
	ck_assert_int_eq(registry_add(&reg, empty, "e.so", err, sizeof(err)),
	    -1);
	ck_assert_str_eq(err, "sy_plugin_handlers is empty");
	ck_assert_int_eq(registry_add(&reg, t_abi, "a.so", err, sizeof(err)),
	    -1);
	(void)snprintf(want, sizeof(want), "handler 1 (newer): built for ABI "
	    "%u, this server has %u", SY_ABI_VERSION + 1, SY_ABI_VERSION);
	ck_assert_str_eq(err, want);
	ck_assert_ptr_null(registry_find(&reg, "mine"));	/* none added */
	ck_assert_int_eq(registry_add(&reg, t_bad, "b.so", err, sizeof(err)),
	    -1);
	ck_assert_ptr_nonnull(strstr(err, "name \"9lives\" is invalid"));
	ck_assert_int_eq(registry_add(&reg, t_sp, "b.so", err, sizeof(err)),
	    -1);
	ck_assert_ptr_nonnull(strstr(err, "name \"a b\" is invalid"));
	ck_assert_int_eq(registry_add(&reg, t_noh, "n.so", err, sizeof(err)),
	    -1);
	ck_assert_str_eq(err, "handler \"x\" has no handle()");
	ck_assert_int_eq(registry_add(&reg, t_clash, "c.so", err,
	    sizeof(err)), -1);
	ck_assert_str_eq(err, "handler \"hello\" is already provided by a "
	    "built-in");
	ck_assert_int_eq(registry_add(&reg, t_twice, "t.so", err,
	    sizeof(err)), -1);
	ck_assert_str_eq(err, "handler \"mine\" is listed twice");
	ck_assert_int_eq(registry_add(&reg, t_ok, "ok.so", err, sizeof(err)),
	    0);
	ck_assert_ptr_eq(registry_find(&reg, "mine"), &ok);
	ck_assert_int_eq(registry_add(&reg, t_ok, "other.so", err,
	    sizeof(err)), -1);
	ck_assert_str_eq(err, "handler \"mine\" is already provided by "
	    "ok.so");
	registry_clear(&reg);
}
END_TEST

/* -- args -------------------------------------------------------------- */

/*
 * Run name's init() on args (JSON text, or NULL for a route without
 * args). Returns the state, to be freed with args_free().
 */
static void *
args_ok(const char *name, const char *text)
{
	const struct sy_handler	*h = unit_handler(name);
	json_error_t		 jerr;
	json_t			*args = NULL;
	void			*state = NULL;
	char			 err[256] = "";

	ck_assert_ptr_nonnull(h);
	if (text != NULL) {
		args = json_loads(text, JSON_ALLOW_NUL, &jerr);
		ck_assert_msg(args != NULL, "%s: %s", text, jerr.text);
	}
	ck_assert_msg(h->init(args, &state, err, sizeof(err)) == 0,
	    "%s %s refused: %s", name, text, err);
	json_decref(args);
	return state;
}

static void
args_free(const char *name, void *state)
{
	unit_handler(name)->free(state);
}

/* name's init() must refuse args with exactly want. */
static void
args_bad(const char *name, const char *text, const char *want)
{
	const struct sy_handler	*h = unit_handler(name);
	json_error_t		 jerr;
	json_t			*args = NULL;
	void			*state = NULL;
	char			 err[256] = "";

	ck_assert_ptr_nonnull(h);
	if (text != NULL) {
		args = json_loads(text, JSON_ALLOW_NUL, &jerr);
		ck_assert_msg(args != NULL, "%s: %s", text, jerr.text);
	}
	ck_assert_msg(h->init(args, &state, err, sizeof(err)) == -1,
	    "%s %s accepted", name, text);
	ck_assert_msg(strcmp(err, want) == 0, "%s %s: got \"%s\", want "
	    "\"%s\"", name, text, err, want);
	ck_assert_ptr_null(state);
	json_decref(args);
}

START_TEST(args_cpu)
{
	const char	*range = "out of range 1..1000000000";
	char		 want[128];

	args_free("cpu", args_ok("cpu", "{\"rounds\": 1}"));
	args_free("cpu", args_ok("cpu", "{\"rounds\": 1000000000, "
	    "\"max_rounds\": 1000000000}"));
	args_free("cpu", args_ok("cpu", "{\"max_rounds\": 1, "
	    "\"rounds\": 5}"));

	args_bad("cpu", NULL, "rounds: required");
	args_bad("cpu", "{}", "rounds: required");
	args_bad("cpu", "{\"max_rounds\": 5}", "rounds: required");
	snprintf(want, sizeof(want), "rounds: 0 is %s", range);
	args_bad("cpu", "{\"rounds\": 0}", want);
	snprintf(want, sizeof(want), "rounds: -3 is %s", range);
	args_bad("cpu", "{\"rounds\": -3}", want);
	snprintf(want, sizeof(want), "rounds: 1000000001 is %s", range);
	args_bad("cpu", "{\"rounds\": 1000000001}", want);
	args_bad("cpu", "{\"rounds\": \"5\"}", "rounds: must be an integer, not a string");
	args_bad("cpu", "{\"rounds\": 5.0}",
	    "rounds: must be an integer, not a real number");
	args_bad("cpu", "{\"rounds\": null}",
	    "rounds: must be an integer, not null");
	snprintf(want, sizeof(want), "max_rounds: 0 is %s", range);
	args_bad("cpu", "{\"rounds\": 5, \"max_rounds\": 0}", want);
	args_bad("cpu", "{\"rounds\": 5, \"max_rounds\": true}",
	    "max_rounds: must be an integer, not a boolean");
	args_bad("cpu", "{\"rounds\": 5, \"round\": 1}",
	    "round: unknown key (known: rounds, max_rounds)");
}
END_TEST

START_TEST(args_json)
{
	args_free("json", args_ok("json", "{\"items\": 1}"));
	args_free("json", args_ok("json", "{\"items\": 10000000}"));

	args_bad("json", NULL, "items: required");
	args_bad("json", "{}", "items: required");
	args_bad("json", "{\"items\": 0}",
	    "items: 0 is out of range 1..10000000");
	args_bad("json", "{\"items\": 10000001}",
	    "items: 10000001 is out of range 1..10000000");
	args_bad("json", "{\"items\": \"10\"}",
	    "items: must be an integer, not a string");
	args_bad("json", "{\"items\": 2.5}",
	    "items: must be an integer, not a real number");
	args_bad("json", "{\"items\": 2, \"item\": 1}",
	    "item: unknown key (known: items)");
}
END_TEST

/* A fresh empty directory under /tmp; the caller rmdir()s it. */
static char *
temp_dir(void)
{
	char	*dir = xstrdup("/tmp/check_handlers.XXXXXX");

	ck_assert_ptr_nonnull(mkdtemp(dir));
	return dir;
}

/* Entries in dir besides "." and "..". */
static unsigned
dir_entries(const char *dir)
{
	struct dirent	*de;
	DIR		*d;
	unsigned	 n = 0;

	ck_assert_ptr_nonnull(d = opendir(dir));
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

START_TEST(args_write_file)
{
	char	*dir = temp_dir(), text[PATH_MAX + 128], want[PATH_MAX + 128];
	char	 file[PATH_MAX], *longdir;
	FILE	*f;

	args_free("write_file", args_ok("write_file", "{\"bytes\": 1}"));
	args_free("write_file", args_ok("write_file",
	    "{\"bytes\": 1073741824, \"fsync\": false}"));
	snprintf(text, sizeof(text), "{\"bytes\": 5, \"dir\": \"%s/\", "
	    "\"fsync\": true}", dir);
	args_free("write_file", args_ok("write_file", text));

	args_bad("write_file", NULL, "bytes: required");
	args_bad("write_file", "{}", "bytes: required");
	args_bad("write_file", "{\"dir\": \"/tmp\"}", "bytes: required");
	args_bad("write_file", "{\"bytes\": 0}",
	    "bytes: 0 is out of range 1..1073741824");
	args_bad("write_file", "{\"bytes\": 1073741825}",
	    "bytes: 1073741825 is out of range 1..1073741824");
	args_bad("write_file", "{\"bytes\": \"4000000\"}",
	    "bytes: must be an integer, not a string");
	args_bad("write_file", "{\"bytes\": 4e6}",
	    "bytes: must be an integer, not a real number");
	args_bad("write_file", "{\"bytes\": 1, \"fsync\": \"yes\"}",
	    "fsync: must be a boolean, not a string");
	args_bad("write_file", "{\"bytes\": 1, \"fsync\": 1}",
	    "fsync: must be a boolean, not an integer");
	args_bad("write_file", "{\"bytes\": 1, \"dir\": 5}",
	    "dir: must be a string, not an integer");
	args_bad("write_file", "{\"bytes\": 1, \"dir\": \"\"}",
	    "dir: must not be empty");
	args_bad("write_file", "{\"bytes\": 1, \"dir\": \"tmp\"}",
	    "dir: must be an absolute path");
	args_bad("write_file", "{\"bytes\": 1, \"dir\": \"/tmp\\u0000x\"}",
	    "dir: must not contain NUL");
	snprintf(text, sizeof(text), "{\"bytes\": 1, \"dir\": \"%s/none\"}",
	    dir);
	snprintf(want, sizeof(want), "dir: %s/none: No such file or "
	    "directory", dir);
	args_bad("write_file", text, want);

	snprintf(file, sizeof(file), "%s/file", dir);
	ck_assert_ptr_nonnull(f = fopen(file, "w"));
	fclose(f);
	snprintf(text, sizeof(text), "{\"bytes\": 1, \"dir\": \"%s\"}", file);
	snprintf(want, sizeof(want), "dir: %s: not a directory", file);
	args_bad("write_file", text, want);
	ck_assert_int_eq(unlink(file), 0);

	/* PATH_MAX less the template "/switchyard-write.XXXXXX" and NUL. */
	longdir = xmalloc(PATH_MAX + 1);
	memset(longdir, 'd', PATH_MAX);
	longdir[0] = '/';
	longdir[PATH_MAX - 24] = '\0';		/* 4072 bytes: one too many */
	snprintf(text, sizeof(text), "{\"bytes\": 1, \"dir\": \"%s\"}",
	    longdir);
	snprintf(want, sizeof(want), "dir: longer than %d bytes",
	    PATH_MAX - 25);
	args_bad("write_file", text, want);
	free(longdir);

	if (geteuid() != 0) {		/* root may write anywhere */
		ck_assert_int_eq(chmod(dir, 0500), 0);
		snprintf(text, sizeof(text), "{\"bytes\": 1, \"dir\": \"%s\"}",
		    dir);
		snprintf(want, sizeof(want), "dir: %s: not writable: "
		    "Permission denied", dir);
		args_bad("write_file", text, want);
		ck_assert_int_eq(chmod(dir, 0700), 0);
	}

	args_bad("write_file", "{\"bytes\": 1, \"size\": 1}",
	    "size: unknown key (known: bytes, dir, fsync)");
	ck_assert_int_eq(rmdir(dir), 0);
	free(dir);
}
END_TEST

START_TEST(args_static)
{
	char	*dir = temp_dir(), text[PATH_MAX + 128];

	snprintf(text, sizeof(text), "{\"root\": \"%s\"}", dir);
	args_free("static", args_ok("static", text));
	snprintf(text, sizeof(text), "{\"root\": \"%s\", \"dotfiles\": "
	    "true}", dir);
	args_free("static", args_ok("static", text));
	snprintf(text, sizeof(text), "{\"root\": \"%s\", \"dotfiles\": "
	    "false, \"index\": \".index.html\"}", dir);
	args_free("static", args_ok("static", text));

	args_bad("static", NULL, "root: required");
	snprintf(text, sizeof(text), "{\"root\": \"%s\", \"dotfiles\": 1}",
	    dir);
	args_bad("static", text, "dotfiles: must be a boolean, not an integer");
	snprintf(text, sizeof(text), "{\"root\": \"%s\", \"dotfiles\": "
	    "\"true\"}", dir);
	args_bad("static", text, "dotfiles: must be a boolean, not a string");
	snprintf(text, sizeof(text), "{\"root\": \"%s\", \"dotfile\": "
	    "true}", dir);
	args_bad("static", text,
	    "dotfile: unknown key (known: root, index, dotfiles)");
	ck_assert_int_eq(rmdir(dir), 0);
	free(dir);
}
END_TEST

START_TEST(args_dashboard)
{
	const char	*what = "must be a path of 1..127 characters starting "
			    "with '/', the path of a status route", *bad;
	char		 text[256], want[256];

	args_free("dashboard", args_ok("dashboard",
	    "{\"status\": \"/status\"}"));
	args_free("dashboard", args_ok("dashboard",
	    "{\"status\": \"/\"}"));
	args_free("dashboard", args_ok("dashboard",
	    "{\"status\": \"/ops/status;v=1:x@y~_.-!$()*+,%41\"}"));
	snprintf(text, sizeof(text), "{\"status\": \"/%0126d\"}", 0);
	args_free("dashboard", args_ok("dashboard", text));

	args_bad("dashboard", NULL, "status: required");
	args_bad("dashboard", "{}", "status: required");
	args_bad("dashboard", "{\"status\": 5}",
	    "status: must be a string, the path of a status route");
	args_bad("dashboard", "{\"status\": null}",
	    "status: must be a string, the path of a status route");
	snprintf(want, sizeof(want), "status: %s", what);
	args_bad("dashboard", "{\"status\": \"\"}", want);
	args_bad("dashboard", "{\"status\": \"status\"}", want);
	args_bad("dashboard", "{\"status\": \"http://x/status\"}", want);
	snprintf(text, sizeof(text), "{\"status\": \"/%0127d\"}", 0);
	args_bad("dashboard", text, want);
	/* What HTML or a script would read as more than text. */
	for (bad = "\"<>'&` ?#\\"; *bad != '\0'; bad++) {
		snprintf(text, sizeof(text), "{\"status\": \"/a%s%cb\"}",
		    *bad == '"' || *bad == '\\' ? "\\" : "", *bad);
		snprintf(want, sizeof(want), "status: character %#04x is not "
		    "allowed in the path (allowed: letters, digits and "
		    "-._~!$()*+,;=:@%%/)", (unsigned char)*bad);
		args_bad("dashboard", text, want);
	}
	args_bad("dashboard", "{\"status\": \"/s\", \"poll_ms\": 1}",
	    "poll_ms: unknown key (known: status)");
}
END_TEST

/* -- requests ---------------------------------------------------------- */

/* One request through http.c and api.c, as conn.c would run it. */
struct treq {
	struct http_req		 http;
	struct sy_req		 req;
	struct config_route	 route;
	char			 path[8];
	int			 finished;	/* sy_req_finish() calls */
};

/* api_done_cb: sy_req_finish() on the loop thread. */
static void
treq_finish_cb(struct sy_req *req, void *arg)
{
	struct treq	*t = arg;

	ck_assert_ptr_eq(req, &t->req);
	t->finished++;
}

/*
 * Parse raw (a whole request) and start t for handler name with state,
 * on base with pool (both may be NULL for handlers that do not offload).
 */
static void
treq_start(struct treq *t, const char *name, void *state, const char *raw,
    size_t rawlen, struct event_base *base, struct pool *pool)
{
	memset(t, 0, sizeof(*t));
	http_req_init(&t->http, &limits, NULL, NULL);
	ck_assert_uint_eq(http_req_feed(&t->http, raw, rawlen), rawlen);
	ck_assert_msg(t->http.state == HTTP_COMPLETE, "request incomplete: "
	    "state %d, %s", t->http.state, t->http.reason);
	strcpy(t->path, "/t");
	t->route.path = t->path;
	t->route.path_len = strlen(t->path);
	t->route.match = CONFIG_MATCH_EXACT;
	t->route.methods = CONFIG_METHOD_GET | CONFIG_METHOD_HEAD |
	    CONFIG_METHOD_POST;
	t->route.mode = CONFIG_MODE_NONBLOCKING;
	t->route.handler = unit_handler(name);
	t->route.state = state;
	ck_assert_ptr_nonnull(t->route.handler);
	ck_assert_int_eq(api_req_init(&t->req, base, pool, treq_finish_cb, t),
	    0);
	api_req_start(&t->req, &t->http, &t->route);
}

static void
treq_start_str(struct treq *t, const char *name, void *state,
    const char *raw)
{
	treq_start(t, name, state, raw, strlen(raw), NULL, NULL);
}

static int
treq_handle(struct treq *t)
{
	return t->route.handler->handle(&t->req, t->route.state);
}

static void
treq_cleanup(struct treq *t)
{
	api_req_cleanup(&t->req);
	http_req_cleanup(&t->http);
}

/* The response body, NUL-terminated; *len (if not NULL) its length. */
static char *
treq_body(struct treq *t, size_t *len)
{
	size_t	 n = api_resp_body_len(&t->req);
	char	*s = xmalloc(n + 1);

	ck_assert_int_eq(evbuffer_copyout(api_resp_body(&t->req), s, n),
	    (ssize_t)n);
	s[n] = '\0';
	if (len != NULL)
		*len = n;
	return s;
}

/* The response body as JSON; checks the Content-Type. json_decref it. */
static json_t *
treq_json(struct treq *t)
{
	json_error_t	 jerr;
	json_t		*j;
	size_t		 len;
	char		*s = treq_body(t, &len);

	ck_assert_str_eq(t->req.content_type, "application/json");
	j = json_loadb(s, len, 0, &jerr);
	ck_assert_msg(j != NULL, "bad JSON (%s): %.200s", jerr.text, s);
	free(s);
	return j;
}

/* The value of response header name ("" when absent). Free it. */
static char *
treq_header(struct treq *t, const char *name)
{
	const char	*p = t->req.headers, *end, *eol;
	size_t		 nlen = strlen(name);

	if (p == NULL)			/* none set */
		return xstrdup("");
	for (end = p + t->req.headers_len; p < end; p = eol + 2) {
		eol = memmem(p, (size_t)(end - p), "\r\n", 2);
		ck_assert_ptr_nonnull(eol);
		if ((size_t)(eol - p) > nlen + 2 &&
		    strncasecmp(p, name, nlen) == 0 &&
		    memcmp(p + nlen, ": ", 2) == 0)
			return strndup(p + nlen + 2,
			    (size_t)(eol - p) - nlen - 2);
	}
	return xstrdup("");
}

/* {"detail": want} with status. */
static void
expect_error(struct treq *t, int status, const char *want)
{
	json_t	*j;

	ck_assert_int_eq(t->req.status, status);
	j = treq_json(t);
	ck_assert_uint_eq(json_object_size(j), 1);
	ck_assert_str_eq(json_string_value(json_object_get(j, "detail")),
	    want);
	json_decref(j);
}

/* -- cpu --------------------------------------------------------------- */

/* The algorithm in cpu.c's header comment, written again. */
static uint64_t
cpu_reference(long rounds)
{
	uint64_t	 x = UINT64_C(0x9e3779b97f4a7c15);

	while (rounds-- > 0) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
	}
	return x;
}

/* Run cpu for target; expect rounds and the result hex. */
static void
cpu_expect(void *state, const char *target, long rounds, const char *hex)
{
	struct treq	 t;
	json_t		*j, *secs;
	char		 raw[256], ref[17];

	snprintf(raw, sizeof(raw), "GET %s HTTP/1.1\r\nHost: x\r\n\r\n",
	    target);
	treq_start_str(&t, "cpu", state, raw);
	ck_assert_int_eq(treq_handle(&t), SY_DONE);
	ck_assert_int_eq(t.req.status, 200);
	j = treq_json(&t);
	ck_assert_uint_eq(json_object_size(j), 3);
	ck_assert_int_eq(json_integer_value(json_object_get(j, "rounds")),
	    rounds);
	snprintf(ref, sizeof(ref), "%016llx",
	    (unsigned long long)cpu_reference(rounds));
	ck_assert_str_eq(json_string_value(json_object_get(j, "result")),
	    ref);
	if (hex != NULL)
		ck_assert_str_eq(ref, hex);
	secs = json_object_get(j, "seconds");
	ck_assert(json_is_real(secs));
	ck_assert(json_real_value(secs) >= 0 && json_real_value(secs) < 60);
	json_decref(j);
	treq_cleanup(&t);
}

static void
cpu_refused(void *state, const char *target, const char *want)
{
	struct treq	 t;
	char		 raw[256];

	snprintf(raw, sizeof(raw), "GET %s HTTP/1.1\r\nHost: x\r\n\r\n",
	    target);
	treq_start_str(&t, "cpu", state, raw);
	ck_assert_int_eq(treq_handle(&t), SY_DONE);
	expect_error(&t, 400, want);
	treq_cleanup(&t);
}

START_TEST(cpu_result)
{
	void	*s1 = args_ok("cpu", "{\"rounds\": 1}");
	void	*s = args_ok("cpu", "{\"rounds\": 1000}");

	/* Pinned values (from Python) guard the reference itself. */
	cpu_expect(s1, "/t", 1, "dc1b77ae0bf34dad");
	cpu_expect(s, "/t", 1000, "56b663219f6e38f5");
	/* Without max_rounds the query is ignored. */
	cpu_expect(s, "/t?rounds=5", 1000, "56b663219f6e38f5");
	args_free("cpu", s1);
	args_free("cpu", s);
}
END_TEST

START_TEST(cpu_override)
{
	void		*s = args_ok("cpu", "{\"rounds\": 1000, "
			    "\"max_rounds\": 200000}");
	const char	*msg = "rounds must be an integer 1..200000";

	cpu_expect(s, "/t", 1000, "56b663219f6e38f5");
	cpu_expect(s, "/t?rounds=123457", 123457, "8299caf18ff71e6a");
	cpu_expect(s, "/t?x=1&rounds=2", 2, "64f0eeb9026e6076");
	cpu_expect(s, "/t?rounds=200000", 200000, NULL);
	cpu_refused(s, "/t?rounds=200001", msg);
	cpu_refused(s, "/t?rounds=0", msg);
	cpu_refused(s, "/t?rounds=-1", msg);
	cpu_refused(s, "/t?rounds=12x", msg);
	cpu_refused(s, "/t?rounds=", msg);
	cpu_refused(s, "/t?rounds=99999999999999999999", msg);
	/* Longer than any number: refused, not silently ignored. */
	cpu_refused(s, "/t?rounds=000000000000000000000000000000000000001",
	    msg);
	args_free("cpu", s);
}
END_TEST

/* -- echo -------------------------------------------------------------- */

/* POST body (len bytes) with headers hdrs; expect ctype back. */
static void
echo_expect(const char *hdrs, const char *body, size_t len,
    const char *ctype)
{
	struct treq	 t;
	size_t		 rawlen, n;
	char		*raw, *got, *h, num[32];

	raw = xmalloc(512 + strlen(hdrs) + len);
	rawlen = (size_t)sprintf(raw, "POST /t HTTP/1.1\r\nHost: x\r\n%s"
	    "Content-Length: %zu\r\n\r\n", hdrs, len);
	memcpy(raw + rawlen, body, len);
	rawlen += len;
	treq_start(&t, "echo", NULL, raw, rawlen, NULL, NULL);
	ck_assert_int_eq(treq_handle(&t), SY_DONE);
	ck_assert_int_eq(t.req.status, 200);
	ck_assert_str_eq(t.req.content_type, ctype);
	snprintf(num, sizeof(num), "%zu", len);
	h = treq_header(&t, "X-Body-Length");
	ck_assert_str_eq(h, num);
	got = treq_body(&t, &n);
	ck_assert_uint_eq(n, len);
	ck_assert(memcmp(got, body, len) == 0);
	free(h);
	free(got);
	free(raw);
	treq_cleanup(&t);
}

START_TEST(echo_body)
{
	static const char	 bin[] = "a\0b\r\n\r\n\xff\x00z";
	char			 longtype[300];

	echo_expect("Content-Type: text/plain; charset=utf-8\r\n", "hello",
	    5, "text/plain; charset=utf-8");
	echo_expect("", bin, sizeof(bin) - 1, "application/octet-stream");
	echo_expect("Content-Type: application/x-thing\r\n", "", 0,
	    "application/x-thing");
	/* Too long to keep: the default rather than no Content-Type. */
	memset(longtype, 'x', sizeof(longtype));
	memcpy(longtype, "Content-Type: a/", 16);
	strcpy(longtype + 200, "\r\n");
	echo_expect(longtype, "x", 1, "application/octet-stream");
}
END_TEST

/* -- api_resp_encode --------------------------------------------------- */

/*
 * POST a 4000-byte text body to echo on a "compress" route, with the
 * extra header lines extra, set a strong ETag, and encode the answer.
 */
static void
encode_start(struct treq *t, const char *method, const char *extra,
    char *text, size_t textlen)
{
	char	 raw[8192];
	size_t	 i;
	int	 n;

	for (i = 0; i < textlen; i++)
		text[i] = "switchyard "[i % 11];
	n = snprintf(raw, sizeof(raw), "%s /t HTTP/1.1\r\nHost: x\r\n"
	    "Content-Type: text/plain\r\nContent-Length: %zu\r\n%s\r\n",
	    method, textlen, extra);
	ck_assert(n > 0 && (size_t)n + textlen < sizeof(raw));
	memcpy(raw + n, text, textlen);
	treq_start(t, "echo", NULL, raw, (size_t)n + textlen, NULL, NULL);
	t->route.compress = 1;
	ck_assert_int_eq(treq_handle(t), SY_DONE);
	ck_assert_int_eq(sy_resp_header(&t->req, "ETag", "\"v1\""), 0);
}

/*
 * t's body is gzip, less than a quarter of want (text that compresses
 * well), and inflates to exactly want, with the stream's end.
 */
static void
ck_body_gunzips(struct treq *t, const char *want, size_t wantlen)
{
	z_stream	 z;
	unsigned char	*back = malloc(wantlen + 1);
	size_t		 gzlen;
	char		*gz = treq_body(t, &gzlen);

	ck_assert_ptr_nonnull(back);
	ck_assert_uint_lt(gzlen, wantlen / 4);
	memset(&z, 0, sizeof(z));
	ck_assert_int_eq(inflateInit2(&z, 15 + 16), Z_OK);
	z.next_in = (unsigned char *)(uintptr_t)gz;
	z.avail_in = (uInt)gzlen;
	z.next_out = back;
	z.avail_out = (uInt)wantlen + 1;	/* room to see one too many */
	ck_assert_int_eq(inflate(&z, Z_FINISH), Z_STREAM_END);
	ck_assert_uint_eq(z.total_out, wantlen);
	ck_assert(memcmp(back, want, wantlen) == 0);
	(void)inflateEnd(&z);
	free(back);
	free(gz);
}

/* Gzipped: Content-Encoding, Vary, a weak ETag, a body that inflates back. */
START_TEST(encode_gzip)
{
	struct treq	 t;
	char		 text[4000], *v;

	encode_start(&t, "POST", "Accept-Encoding: br, gzip\r\n", text,
	    sizeof(text));
	api_resp_encode(&t.req);
	ck_assert_str_eq(v = treq_header(&t, "Content-Encoding"), "gzip");
	free(v);
	ck_assert_str_eq(v = treq_header(&t, "Vary"), "Accept-Encoding");
	free(v);
	ck_assert_str_eq(v = treq_header(&t, "ETag"), "W/\"v1\"");
	free(v);
	ck_body_gunzips(&t, text, sizeof(text));
	treq_cleanup(&t);
}
END_TEST

/* Not gzipped, but Vary all the same; the ETag stays strong. */
static void
encode_identity(const char *method, const char *extra, int vary)
{
	struct treq	 t;
	char		 text[4000], *out, *v;
	size_t		 len;

	encode_start(&t, method, extra, text, sizeof(text));
	api_resp_encode(&t.req);
	ck_assert_str_eq(v = treq_header(&t, "Content-Encoding"), "");
	free(v);
	ck_assert_str_eq(v = treq_header(&t, "Vary"),
	    vary ? "Accept-Encoding" : "");
	free(v);
	ck_assert_str_eq(v = treq_header(&t, "ETag"), "\"v1\"");
	free(v);
	out = treq_body(&t, &len);
	ck_assert_uint_eq(len, sizeof(text));
	ck_assert(memcmp(out, text, len) == 0);
	free(out);
	treq_cleanup(&t);
}

START_TEST(encode_not)
{
	struct treq	 t;
	char		 text[4000], fill[API_HEADERS_MAX], *v;
	size_t		 n;

	encode_identity("POST", "", 1);
	encode_identity("POST", "Accept-Encoding: gzip;q=0\r\n", 1);
	encode_identity("POST", "Accept-Encoding: identity\r\n", 1);
	encode_identity("POST", "Accept-Encoding: deflate, br\r\n", 1);

	/*
	 * No room left for "Content-Encoding: gzip" once Vary is in: the
	 * answer stays identity (and right) rather than lose a header.
	 */
	encode_start(&t, "POST", "Accept-Encoding: gzip\r\n", text,
	    sizeof(text));
	n = API_HEADERS_MAX - t.req.headers_len - 10 - 23 - 10;
	memset(fill, 'a', n);
	fill[n] = '\0';
	ck_assert_int_eq(sy_resp_header(&t.req, "X-Fill", fill), 0);
	api_resp_encode(&t.req);
	ck_assert_str_eq(v = treq_header(&t, "Vary"), "Accept-Encoding");
	free(v);
	ck_assert_str_eq(v = treq_header(&t, "Content-Encoding"), "");
	free(v);
	ck_assert_uint_eq(api_resp_body_len(&t.req), sizeof(text));
	treq_cleanup(&t);
}
END_TEST

/* -- health ------------------------------------------------------------ */

/* Run health; expect status and {"status": word}, never cached. */
static void
health_expect(int status, const char *word)
{
	struct treq	 t;
	json_t		*j;
	char		*cc, *ra;

	treq_start_str(&t, "health", NULL,
	    "GET /t HTTP/1.1\r\nHost: x\r\n\r\n");
	ck_assert_int_eq(treq_handle(&t), SY_DONE);
	ck_assert_int_eq(t.req.status, status);
	j = treq_json(&t);
	ck_assert_uint_eq(json_object_size(j), 1);
	ck_assert_str_eq(json_string_value(json_object_get(j, "status")),
	    word);
	cc = treq_header(&t, "Cache-Control");
	ck_assert_str_eq(cc, "no-store");
	ra = treq_header(&t, "Retry-After");
	ck_assert_str_eq(ra, "");	/* the instance is going away */
	free(cc);
	free(ra);
	json_decref(j);
	treq_cleanup(&t);
}

/*
 * ok without a segment (no master: nothing can be stopping) and while
 * the master's flag is clear; draining once it is set, whatever else the
 * segment says (a reload bumps the generation, never the flag).
 */
START_TEST(health_follows_master)
{
	struct stats	*s;

	ck_assert_ptr_null(stats_get());
	health_expect(200, "ok");
	s = stats_map();
	ck_assert_ptr_nonnull(s);
	ck_assert_ptr_eq(stats_get(), s);
	health_expect(200, "ok");
	atomic_store(&s->master.generation, 2);
	health_expect(200, "ok");
	atomic_store(&s->master.draining, 1);
	health_expect(503, "draining");
	stats_unmap(s);
	ck_assert_ptr_null(stats_get());
	health_expect(200, "ok");
}
END_TEST

/*
 * The page: HTML that is not cached, with a policy that allows no load
 * from anywhere but its own inline code and fetches of its origin, the
 * status path written once where the page reads it, no reference to any
 * other resource, and small.
 */
START_TEST(dashboard_page)
{
	static const char *const	 loads[] = { "<link", "<img", "<iframe",
					    "src=", "@import", "url(", "https:",
					    "//cdn", NULL };
	const char *const		*l;
	void				*state;
	struct treq			 t;
	char				*body, *cc, *csp, *ns;
	size_t				 len;

	state = args_ok("dashboard", "{\"status\": \"/ops/status\"}");
	treq_start_str(&t, "dashboard", state,
	    "GET /t HTTP/1.1\r\nHost: x\r\n\r\n");
	ck_assert_int_eq(treq_handle(&t), SY_DONE);
	ck_assert_int_eq(t.req.status, 200);
	ck_assert_str_eq(t.req.content_type, "text/html; charset=utf-8");
	cc = treq_header(&t, "Cache-Control");
	ck_assert_str_eq(cc, "no-store");
	csp = treq_header(&t, "Content-Security-Policy");
	ck_assert_ptr_nonnull(strstr(csp, "default-src 'none'"));
	ck_assert_ptr_nonnull(strstr(csp, "connect-src 'self'"));
	ck_assert_ptr_nonnull(strstr(csp, "frame-ancestors 'none'"));
	/* No source but the page itself: no host, scheme or wildcard. */
	ck_assert_ptr_null(strstr(csp, "http"));
	ck_assert_ptr_null(strstr(csp, "*"));
	ck_assert_ptr_null(strstr(csp, "data:"));
	body = treq_body(&t, &len);
	ck_assert_uint_le(len, 60 * 1024);
	ck_assert_uint_eq(strlen(body), len);
	ck_assert_ptr_eq(body, strstr(body, "<!DOCTYPE html>"));
	ck_assert_ptr_nonnull(strstr(body, "</html>\n"));
	ck_assert_ptr_nonnull(strstr(body,
	    "<meta name=\"sy-status\" content=\"/ops/status\">"));
	ck_assert_ptr_null(strstr(body, "@STATUS_PATH@"));
	ck_assert_ptr_null(strstr(body, "innerHTML"));
	for (l = loads; *l != NULL; l++)
		ck_assert_msg(strstr(body, *l) == NULL, "the page has %s", *l);
	/* The one http: is SVG's namespace, a name and not a load. */
	ns = strstr(body, "http:");
	ck_assert_ptr_nonnull(ns);
	ck_assert_int_eq(strncmp(ns, "http://www.w3.org/2000/svg\"", 27), 0);
	ck_assert_ptr_null(strstr(ns + 1, "http:"));
	free(body);
	free(csp);
	free(cc);
	treq_cleanup(&t);
	args_free("dashboard", state);
}
END_TEST

START_TEST(echo_chunked)
{
	static const char	 raw[] = "POST /t HTTP/1.1\r\nHost: x\r\n"
	    "Transfer-Encoding: chunked\r\nContent-Type: text/x\r\n\r\n"
	    "5\r\nhello\r\n7\r\n, world\r\n0\r\n\r\n";
	struct treq		 t;
	char			*body, *h;

	treq_start_str(&t, "echo", NULL, raw);
	ck_assert_int_eq(treq_handle(&t), SY_DONE);
	ck_assert_str_eq(t.req.content_type, "text/x");
	ck_assert_str_eq(h = treq_header(&t, "X-Body-Length"), "12");
	ck_assert_str_eq(body = treq_body(&t, NULL), "hello, world");
	free(h);
	free(body);
	treq_cleanup(&t);
}
END_TEST

/* -- sy_url_decode ----------------------------------------------------- */

/* What the static handler's paths and sy_req_query()'s values get. */
START_TEST(url_decode_cases)
{
	static const struct {
		const char	*src;
		int		 flags;
		ssize_t		 n;	/* -1: refused */
		const char	*out;	/* n bytes */
	} cases[] = {
		{ "", 0, 0, "" },
		{ "plain/path", 0, 10, "plain/path" },
		{ "a%20b%2Fc%2fd", 0, 7, "a b/c/d" },
		{ "%41%7a%5A", 0, 3, "AzZ" },
		{ "%25", 0, 1, "%" },
		{ "%2525", 0, 3, "%25" },		/* once, not twice */
		{ "a+b", 0, 3, "a+b" },			/* a path's '+' */
		{ "a+b", SY_URL_PLUS, 3, "a b" },
		{ "%2B", SY_URL_PLUS, 1, "+" },
		{ "%ff%80", 0, 2, "\xff\x80" },
		{ "a%00b", 0, 3, "a\0b" },
		{ "a%00b", SY_URL_NONUL, -1, NULL },
		{ "%00", SY_URL_PLUS | SY_URL_NONUL, -1, NULL },
		{ "%", 0, -1, NULL },			/* truncated */
		{ "a%", 0, -1, NULL },
		{ "a%4", 0, -1, NULL },
		{ "%zz", 0, -1, NULL },
		{ "%4g", 0, -1, NULL },
		{ "%g4", 0, -1, NULL },
		{ "% 41", 0, -1, NULL },
		{ "%+41", SY_URL_PLUS, -1, NULL },
		{ "%-1", 0, -1, NULL },
	};
	char	 buf[32];
	size_t	 i;
	ssize_t	 n;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		n = sy_url_decode(cases[i].src, strlen(cases[i].src), buf,
		    sizeof(buf), cases[i].flags);
		ck_assert_msg(n == cases[i].n, "\"%s\": %zd, not %zd",
		    cases[i].src, n, cases[i].n);
		if (n >= 0) {
			ck_assert_mem_eq(buf, cases[i].out, (size_t)n);
			ck_assert_int_eq(buf[n], '\0');
		}
	}
}
END_TEST

/*
 * The length bounds the input: an escape cut by it is malformed, never
 * completed from the bytes after. The NUL needs its byte of dst.
 */
START_TEST(url_decode_bounds)
{
	char	 buf[8];

	ck_assert_int_eq(sy_url_decode("a%41", 3, buf, sizeof(buf), 0), -1);
	ck_assert_int_eq(sy_url_decode("a%41", 1, buf, sizeof(buf), 0), 1);
	ck_assert_str_eq(buf, "a");
	ck_assert_int_eq(sy_url_decode("abc", 3, buf, 4, 0), 3);
	ck_assert_str_eq(buf, "abc");
	ck_assert_int_eq(sy_url_decode("abcd", 4, buf, 4, 0), -1);
	ck_assert_int_eq(sy_url_decode("%41%42%43", 9, buf, 4, 0), 3);
	ck_assert_str_eq(buf, "ABC");
	ck_assert_int_eq(sy_url_decode("%41%42%43%44", 12, buf, 4, 0), -1);
	ck_assert_int_eq(sy_url_decode("", 0, buf, 1, 0), 0);
	ck_assert_int_eq(sy_url_decode("", 0, buf, 0, 0), -1);
	ck_assert_int_eq(sy_url_decode("x", 1, buf, 0, 0), -1);
}
END_TEST

/*
 * sy_req_id() is what the connection chose; X-Request-Id is the
 * server's header, refused to a handler in any case.
 */
START_TEST(api_request_id)
{
	struct treq	 t;

	treq_start_str(&t, "hello", NULL, "GET /t HTTP/1.1\r\nHost: x\r\n"
	    "\r\n");
	strcpy(t.req.id, "1xbsa00d8dehb5kg0000000000");
	ck_assert_str_eq(sy_req_id(&t.req), "1xbsa00d8dehb5kg0000000000");
	ck_assert_int_eq(sy_resp_header(&t.req, "X-Request-Id", "mine"), -1);
	ck_assert_int_eq(sy_resp_header(&t.req, "x-request-ID", "mine"), -1);
	ck_assert_int_eq(sy_resp_header(&t.req, "X-Request-Ids", "ok"), 0);
	ck_assert_uint_eq(t.req.headers_len, strlen("X-Request-Ids: ok\r\n"));
	/* A new request keeps the id until the connection clears it. */
	api_req_start(&t.req, &t.http, &t.route);
	ck_assert_str_eq(sy_req_id(&t.req), "1xbsa00d8dehb5kg0000000000");
	treq_cleanup(&t);
}
END_TEST

/*
 * The header buffer exists from the first header to the answer; a bad
 * Content-Type, or one too long, leaves the one set before.
 */
START_TEST(api_response_buffers)
{
	char		 type[API_CTYPE_MAX + 1];
	struct treq	 t;

	treq_start_str(&t, "hello", NULL, "GET /t HTTP/1.1\r\nHost: x\r\n"
	    "\r\n");
	ck_assert_ptr_null(t.req.headers);
	ck_assert_int_eq(sy_resp_header(&t.req, "X-A", "bad\r\nX-B: 1"), -1);
	ck_assert_ptr_null(t.req.headers);
	ck_assert_int_eq(sy_resp_header(&t.req, "X-A", "1\t\xc3\xa9"), 0);
	ck_assert_ptr_nonnull(t.req.headers);
	ck_assert_mem_eq(t.req.headers, "X-A: 1\t\xc3\xa9\r\n",
	    t.req.headers_len);
	api_req_answered(&t.req);
	ck_assert_ptr_null(t.req.headers);
	ck_assert_uint_eq(t.req.headers_len, 0);

	sy_resp_content_type(&t.req, "text/plain; charset=utf-8");
	ck_assert_str_eq(t.req.content_type, "text/plain; charset=utf-8");
	sy_resp_content_type(&t.req, "text/html\r\nX-B: 1");
	sy_resp_content_type(&t.req, "text/html; q=\"\x7f\"");
	ck_assert_str_eq(t.req.content_type, "text/plain; charset=utf-8");
	memset(type, 'a', sizeof(type));
	type[API_CTYPE_MAX] = '\0';
	sy_resp_content_type(&t.req, type);	/* no room for its NUL */
	ck_assert_str_eq(t.req.content_type, "text/plain; charset=utf-8");
	type[API_CTYPE_MAX - 1] = '\0';
	sy_resp_content_type(&t.req, type);
	ck_assert_str_eq(t.req.content_type, type);
	treq_cleanup(&t);
}
END_TEST

/* As the connection does once an answer is out: empty, and the next. */
static void
api_answer_next(struct treq *t)
{
	api_req_answered(&t->req);
	(void)evbuffer_drain(t->req.body, evbuffer_get_length(t->req.body));
	api_req_start(&t->req, &t->http, &t->route);
}

/*
 * A body of one sy_resp_body_static() stays a reference, no copy and no
 * chain; whatever else is appended keeps the order of the calls, and an
 * error answer drops it as it drops the rest.
 */
START_TEST(api_static_body)
{
	static const char	 a[] = "static,", b[] = "again";
	struct treq		 t;
	char			*s;

	treq_start_str(&t, "hello", NULL, "GET /t HTTP/1.1\r\nHost: x\r\n"
	    "\r\n");
	ck_assert_int_eq(sy_resp_body_static(&t.req, "", 0), 0);
	ck_assert_ptr_null(t.req.body_ref);
	ck_assert_int_eq(sy_resp_body_static(&t.req, a, 7), 0);
	ck_assert_ptr_eq(t.req.body_ref, a);
	ck_assert_uint_eq(evbuffer_get_length(t.req.body), 0);
	ck_assert_uint_eq(api_resp_body_len(&t.req), 7);
	ck_assert_int_eq(sy_resp_printf(&t.req, "%d,", 42), 0);
	ck_assert_ptr_null(t.req.body_ref);
	ck_assert_int_eq(sy_resp_body_static(&t.req, b, 5), 0);
	ck_assert_int_eq(sy_resp_body(&t.req, "!", 1), 0);
	ck_assert_uint_eq(api_resp_body_len(&t.req), 16);
	ck_assert_str_eq(s = treq_body(&t, NULL), "static,42,again!");
	free(s);

	/* The next answer starts empty; the reference goes with it. */
	api_answer_next(&t);
	ck_assert_int_eq(sy_resp_body_static(&t.req, a, 7), 0);
	ck_assert_int_eq(sy_resp_json(&t.req, 200, json_integer(1)), 0);
	ck_assert_str_eq(s = treq_body(&t, NULL), "static,1");
	free(s);
	api_answer_next(&t);
	ck_assert_ptr_null(t.req.body_ref);
	ck_assert_int_eq(sy_resp_body_static(&t.req, b, 5), 0);
	ck_assert_int_eq(sy_resp_error(&t.req, 500, "no"), 0);
	ck_assert_ptr_null(t.req.body_ref);
	ck_assert_str_eq(s = treq_body(&t, NULL), "{\"detail\":\"no\"}");
	free(s);
	api_answer_next(&t);
	ck_assert_int_eq(sy_resp_body_static(&t.req, b, 5), 0);
	api_req_answered(&t.req);
	ck_assert_ptr_null(t.req.body_ref);
	ck_assert_uint_eq(api_resp_body_len(&t.req), 0);
	treq_cleanup(&t);
}
END_TEST

/* A static body is gzipped as any other. */
START_TEST(encode_static_body)
{
	static char	 text[4000];
	struct treq	 t;
	char		*v;
	size_t		 i;

	for (i = 0; i < sizeof(text); i++)
		text[i] = "switchyard "[i % 11];
	treq_start_str(&t, "hello", NULL, "GET /t HTTP/1.1\r\nHost: x\r\n"
	    "Accept-Encoding: gzip\r\n\r\n");
	t.route.compress = 1;
	sy_resp_content_type(&t.req, "text/plain");
	ck_assert_int_eq(sy_resp_body_static(&t.req, text, sizeof(text)), 0);
	api_resp_encode(&t.req);
	ck_assert_str_eq(v = treq_header(&t, "Content-Encoding"), "gzip");
	free(v);
	ck_assert_ptr_null(t.req.body_ref);
	ck_body_gunzips(&t, text, sizeof(text));
	treq_cleanup(&t);
}
END_TEST

/* -- json -------------------------------------------------------------- */

START_TEST(json_small)
{
	static const char	 want_text[] = "{\"items\": ["
	    "{\"id\": 0, \"name\": \"item 0\", \"value\": 0.0, "
	    "\"tags\": [\"a\", \"b\"]}, "
	    "{\"id\": 1, \"name\": \"item 1\", \"value\": 0.5, "
	    "\"tags\": [\"a\", \"b\"]}, "
	    "{\"id\": 2, \"name\": \"item 2\", \"value\": 1.0, "
	    "\"tags\": [\"a\", \"b\"]}], \"count\": 3}";
	void			*s = args_ok("json", "{\"items\": 3}");
	struct treq		 t;
	json_t			*j, *want;
	char			*body;

	treq_start_str(&t, "json", s, "GET /t HTTP/1.1\r\nHost: x\r\n\r\n");
	ck_assert_int_eq(treq_handle(&t), SY_DONE);
	ck_assert_int_eq(t.req.status, 200);
	j = treq_json(&t);
	ck_assert_ptr_nonnull(want = json_loads(want_text, 0, NULL));
	ck_assert_msg(json_equal(j, want), "unexpected document");
	/* Compact, and in the documented key order. */
	body = treq_body(&t, NULL);
	ck_assert_msg(strncmp(body, "{\"items\":[{\"id\":0,\"name\":\"item 0\","
	    "\"value\":0.0,\"tags\":[\"a\",\"b\"]},", 60) == 0, "%s", body);
	ck_assert_msg(strstr(body, "],\"count\":3}") != NULL, "%s", body);
	free(body);
	json_decref(want);
	json_decref(j);
	treq_cleanup(&t);
	args_free("json", s);
}
END_TEST

START_TEST(json_large)
{
	void		*s = args_ok("json", "{\"items\": 100000}");
	struct treq	 t;
	json_t		*j, *items, *last;

	treq_start_str(&t, "json", s, "GET /t HTTP/1.1\r\nHost: x\r\n\r\n");
	ck_assert_int_eq(treq_handle(&t), SY_DONE);
	j = treq_json(&t);
	ck_assert_int_eq(json_integer_value(json_object_get(j, "count")),
	    100000);
	items = json_object_get(j, "items");
	ck_assert_uint_eq(json_array_size(items), 100000);
	last = json_array_get(items, 99999);
	ck_assert_int_eq(json_integer_value(json_object_get(last, "id")),
	    99999);
	ck_assert_str_eq(json_string_value(json_object_get(last, "name")),
	    "item 99999");
	ck_assert(json_real_value(json_object_get(last, "value")) ==
	    49999.5);
	json_decref(j);
	treq_cleanup(&t);
	args_free("json", s);
}
END_TEST

/* -- write_file -------------------------------------------------------- */

/* A 200 {"waiting_time": real, "unit": "seconds"}. */
static void
write_file_expect_ok(struct treq *t)
{
	json_t	*j, *w;

	ck_assert_int_eq(t->req.status, 200);
	j = treq_json(t);
	ck_assert_uint_eq(json_object_size(j), 2);
	w = json_object_get(j, "waiting_time");
	ck_assert(json_is_real(w));
	ck_assert(json_real_value(w) >= 0 && json_real_value(w) < 60);
	ck_assert_str_eq(json_string_value(json_object_get(j, "unit")),
	    "seconds");
	json_decref(j);
}

static void
write_file_run(void *state, int want_rc)
{
	struct treq	 t;

	treq_start_str(&t, "write_file", state,
	    "GET /t HTTP/1.1\r\nHost: x\r\n\r\n");
	ck_assert_int_eq(treq_handle(&t), want_rc);
	write_file_expect_ok(&t);
	treq_cleanup(&t);
}

START_TEST(write_file_writes)
{
	char	*dir = temp_dir(), text[PATH_MAX + 128];
	void	*s;

	snprintf(text, sizeof(text), "{\"bytes\": 300000, \"dir\": \"%s\"}",
	    dir);
	s = args_ok("write_file", text);
	write_file_run(s, SY_DONE);
	ck_assert_uint_eq(dir_entries(dir), 0);	/* nothing left behind */
	args_free("write_file", s);

	snprintf(text, sizeof(text), "{\"bytes\": 1, \"dir\": \"%s\", "
	    "\"fsync\": true}", dir);
	s = args_ok("write_file", text);
	write_file_run(s, SY_DONE);
	ck_assert_uint_eq(dir_entries(dir), 0);
	args_free("write_file", s);

	ck_assert_int_eq(rmdir(dir), 0);
	free(dir);
}
END_TEST

/* Run write_file with the file size limited to limit bytes. */
static struct treq *
write_file_limited(void *state, rlim_t limit)
{
	struct treq	*t = xmalloc(sizeof(*t));
	struct rlimit	 old, rl;

	treq_start_str(t, "write_file", state,
	    "GET /t HTTP/1.1\r\nHost: x\r\n\r\n");
	ck_assert_int_eq(getrlimit(RLIMIT_FSIZE, &old), 0);
	rl = old;
	rl.rlim_cur = limit;
	ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &rl), 0);
	ck_assert_int_eq(treq_handle(t), SY_DONE);
	ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &old), 0);
	return t;
}

/*
 * Exactly `bytes` are written: a file size limit one byte short fails
 * the write (EFBIG, the "disk full" path: 500, no crash, no file left),
 * a limit of exactly `bytes` does not.
 */
START_TEST(write_file_exact_size)
{
	static const size_t	 sizes[] = { 1, 65536, 65537, 200000 };
	char			*dir = temp_dir(), text[PATH_MAX + 128];
	char			 want[PATH_MAX + 128];
	struct treq		*t;
	void			*s;
	size_t			 i;

	/* Past the limit the kernel sends SIGXFSZ before failing the write. */
	ck_assert(signal(SIGXFSZ, SIG_IGN) != SIG_ERR);
	snprintf(want, sizeof(want), "write_file: write failed in %s: File "
	    "too large", dir);
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		snprintf(text, sizeof(text), "{\"bytes\": %zu, "
		    "\"dir\": \"%s\"}", sizes[i], dir);
		s = args_ok("write_file", text);

		t = write_file_limited(s, sizes[i]);
		write_file_expect_ok(t);
		treq_cleanup(t);
		free(t);

		t = write_file_limited(s, sizes[i] - 1);
		expect_error(t, 500, want);
		treq_cleanup(t);
		free(t);

		ck_assert_uint_eq(dir_entries(dir), 0);
		args_free("write_file", s);
	}
	ck_assert_int_eq(rmdir(dir), 0);
	free(dir);
}
END_TEST

/* The directory vanished after config load: 500 with the reason. */
START_TEST(write_file_dir_gone)
{
	char		*dir = temp_dir(), text[PATH_MAX + 128];
	char		 want[PATH_MAX + 128];
	struct treq	 t;
	void		*s;

	snprintf(text, sizeof(text), "{\"bytes\": 1000, \"dir\": \"%s\"}",
	    dir);
	s = args_ok("write_file", text);
	ck_assert_int_eq(rmdir(dir), 0);
	treq_start_str(&t, "write_file", s,
	    "GET /t HTTP/1.1\r\nHost: x\r\n\r\n");
	ck_assert_int_eq(treq_handle(&t), SY_DONE);
	snprintf(want, sizeof(want), "write_file: cannot create a file in %s: "
	    "No such file or directory", dir);
	expect_error(&t, 500, want);
	treq_cleanup(&t);
	args_free("write_file", s);
	free(dir);
}
END_TEST

/* -- static: dotfiles --------------------------------------------------- */

/* GET target from static (state) on the prefix route "/s/": the status. */
static int
static_status(void *state, const char *target)
{
	struct treq	 t;
	char		 raw[256];
	int		 status;

	snprintf(raw, sizeof(raw), "GET %s HTTP/1.1\r\nHost: x\r\n\r\n",
	    target);
	treq_start_str(&t, "static", state, raw);
	strcpy(t.path, "/s/");
	t.route.path_len = strlen(t.path);
	t.route.match = CONFIG_MATCH_PREFIX;
	ck_assert_int_eq(treq_handle(&t), SY_DONE);
	status = t.req.status;
	if (status == 404)
		expect_error(&t, 404, "Not Found");
	treq_cleanup(&t);
	return status;
}

/* Write a small file at dir/rel. */
static void
put_file(const char *dir, const char *rel)
{
	char	 path[PATH_MAX];
	FILE	*f;

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	ck_assert_ptr_nonnull(f = fopen(path, "w"));
	ck_assert_int_ge(fputs("x\n", f), 0);
	ck_assert_int_eq(fclose(f), 0);
}

static void
rm_file(const char *dir, const char *rel)
{
	char	 path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	ck_assert_int_eq(remove(path), 0);
}

/*
 * A component starting with "." is 404 by default, encoded or not, in
 * any position; "dotfiles": true serves it; "." and ".." never are.
 */
START_TEST(static_dotfiles)
{
	static const char *const hidden[] = {
		"/s/.env", "/s/.git/config", "/s/.git/", "/s/.git",
		"/s/sub/.env", "/s/%2eenv", "/s/%2Egit%2Fconfig",
		"/s/sub/%2Eenv",
	};
	char		 text[PATH_MAX + 128], sub[PATH_MAX];
	char		*dir = temp_dir();
	void		*deny, *allow;
	size_t		 i;

	snprintf(sub, sizeof(sub), "%s/.git", dir);
	ck_assert_int_eq(mkdir(sub, 0700), 0);
	snprintf(sub, sizeof(sub), "%s/sub", dir);
	ck_assert_int_eq(mkdir(sub, 0700), 0);
	put_file(dir, ".env");
	put_file(dir, ".git/config");
	put_file(dir, ".git/index.html");
	put_file(dir, "sub/.env");
	put_file(dir, "sub/a.b");
	snprintf(text, sizeof(text), "{\"root\": \"%s\"}", dir);
	deny = args_ok("static", text);
	snprintf(text, sizeof(text), "{\"root\": \"%s\", \"dotfiles\": "
	    "true}", dir);
	allow = args_ok("static", text);

	for (i = 0; i < sizeof(hidden) / sizeof(hidden[0]); i++) {
		ck_assert_msg(static_status(deny, hidden[i]) == 404,
		    "%s served by default", hidden[i]);
		ck_assert_msg(static_status(allow, hidden[i]) ==
		    (strcmp(hidden[i], "/s/.git") == 0 ? 301 : 200),
		    "%s not served with dotfiles", hidden[i]);
	}
	/* A dot inside a name is no dotfile. */
	ck_assert_int_eq(static_status(deny, "/s/sub/a.b"), 200);
	/* "." and ".." stay refused either way. */
	ck_assert_int_eq(static_status(allow, "/s/./.env"), 404);
	ck_assert_int_eq(static_status(allow, "/s/sub/../.env"), 404);
	ck_assert_int_eq(static_status(allow, "/s/%2e%2e/x"), 404);

	args_free("static", deny);
	args_free("static", allow);
	rm_file(dir, "sub/a.b");
	rm_file(dir, "sub/.env");
	rm_file(dir, "sub");
	rm_file(dir, ".git/index.html");
	rm_file(dir, ".git/config");
	rm_file(dir, ".git");
	rm_file(dir, ".env");
	ck_assert_int_eq(rmdir(dir), 0);
	free(dir);
}
END_TEST

/* Pool-safe: threads share one route state, as a blocking route does. */
struct par {
	pthread_t	 thread;
	const char	*name;
	void		*state;
	int		 status;
	char		*body;
};

static void *
par_run(void *arg)
{
	struct par	*p = arg;
	struct treq	 t;

	treq_start_str(&t, p->name, p->state,
	    "GET /t HTTP/1.1\r\nHost: x\r\n\r\n");
	(void)treq_handle(&t);
	p->status = t.req.status;
	p->body = treq_body(&t, NULL);
	treq_cleanup(&t);
	return NULL;
}

START_TEST(pool_safe_in_threads)
{
	struct par	 p[8];
	char		*dir = temp_dir(), text[PATH_MAX + 128];
	void		*ws, *cs;
	json_t		*j;
	int		 i;

	snprintf(text, sizeof(text), "{\"bytes\": 500000, \"dir\": \"%s\"}",
	    dir);
	ws = args_ok("write_file", text);
	cs = args_ok("cpu", "{\"rounds\": 123457}");
	for (i = 0; i < 8; i++) {
		p[i].name = i % 2 ? "cpu" : "write_file";
		p[i].state = i % 2 ? cs : ws;
		ck_assert_int_eq(pthread_create(&p[i].thread, NULL, par_run,
		    &p[i]), 0);
	}
	for (i = 0; i < 8; i++) {
		ck_assert_int_eq(pthread_join(p[i].thread, NULL), 0);
		ck_assert_int_eq(p[i].status, 200);
		ck_assert_ptr_nonnull(j = json_loads(p[i].body, 0, NULL));
		if (i % 2)
			ck_assert_str_eq(json_string_value(json_object_get(j,
			    "result")), "8299caf18ff71e6a");
		else
			ck_assert_str_eq(json_string_value(json_object_get(j,
			    "unit")), "seconds");
		json_decref(j);
		free(p[i].body);
	}
	ck_assert_uint_eq(dir_entries(dir), 0);
	args_free("write_file", ws);
	args_free("cpu", cs);
	ck_assert_int_eq(rmdir(dir), 0);
	free(dir);
}
END_TEST

/* -- hash_body --------------------------------------------------------- */

static void
safety_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	*(int *)arg = 1;
}

/* Run base's loop until *count reaches want (loop thread counters). */
static void
loop_until(struct event_base *base, const int *count, int want)
{
	struct timeval	 tv = { SAFETY_S, 0 };
	struct event	*ev;
	int		 expired = 0;

	ck_assert_ptr_nonnull(ev = evtimer_new(base, safety_cb, &expired));
	ck_assert_int_eq(evtimer_add(ev, &tv), 0);
	while (*count < want && !expired)
		ck_assert_int_ne(event_base_loop(base, EVLOOP_ONCE), -1);
	event_free(ev);
	ck_assert_msg(!expired, "gave up after %d s: %d of %d", SAFETY_S,
	    *count, want);
}

/* A POST of body to hash_body; the caller frees the result. */
static char *
hash_request(const char *body, size_t len, size_t *rawlen)
{
	char	*raw = xmalloc(128 + len);
	size_t	 n;

	n = (size_t)sprintf(raw, "POST /t HTTP/1.1\r\nHost: x\r\n"
	    "Content-Length: %zu\r\n\r\n", len);
	memcpy(raw + n, body, len);
	*rawlen = n + len;
	return raw;
}

/* POST data to hash_body through a real pool: its digest is hex. */
static void
hash_body_check(const void *data, size_t len, const char *hex)
{
	struct event_base	*base;
	struct pool		*pool;
	struct treq		 t;
	json_t			*j;
	char			*raw;
	size_t			 rawlen;

	ck_assert_ptr_nonnull(base = event_base_new());
	ck_assert_ptr_nonnull(pool = pool_new(base, 2, 16));
	raw = hash_request(data, len, &rawlen);
	treq_start(&t, "hash_body", NULL, raw, rawlen, base, pool);
	ck_assert_int_eq(treq_handle(&t), SY_PENDING);
	ck_assert_int_eq(t.req.mode, STATS_MODE_OFFLOAD);
	ck_assert_int_eq(t.finished, 0);
	loop_until(base, &t.finished, 1);
	ck_assert_int_eq(t.finished, 1);
	ck_assert_int_eq(t.req.status, 200);
	j = treq_json(&t);
	ck_assert_uint_eq(json_object_size(j), 2);
	ck_assert_str_eq(json_string_value(json_object_get(j, "sha256")),
	    hex);
	ck_assert_int_eq(json_integer_value(json_object_get(j, "bytes")),
	    (json_int_t)len);
	json_decref(j);
	treq_cleanup(&t);
	pool_free(pool);
	event_base_free(base);
	free(raw);
}

START_TEST(hash_body_vectors)
{
	const struct vector	*v = &vectors[_i];
	char			*data;
	size_t			 len;

	data = vector_data(v, &len);
	hash_body_check(data, len, v->hex);
	free(data);
}
END_TEST

/*
 * Padding edges: the length field fits in the last block (55), just
 * does not (56), and the block boundaries around 64 and 128. Message
 * bytes 0, 1, 2, ...; digests from Python's hashlib.
 */
START_TEST(hash_body_padding_edges)
{
	static const struct {
		size_t		 len;
		const char	*hex;
	} cases[] = {
		{ 55, "463eb28e72f82e0a96c0a4cc53690c57"
		      "1281131f672aa229e0d45ae59b598b59" },
		{ 56, "da2ae4d6b36748f2a318f23e7ab1dfdf"
		      "45acdc9d049bd80e59de82a60895f562" },
		{ 63, "29af2686fd53374a36b0846694cc3421"
		      "77e428d1647515f078784d69cdb9e488" },
		{ 64, "fdeab9acf3710362bd2658cdc9a29e8f"
		      "9c757fcf9811603a8c447cd1d9151108" },
		{ 65, "4bfd2c8b6f1eec7a2afeb48b934ee4b2"
		      "694182027e6d0fc075074f2fabb31781" },
		{ 119, "da18797ed7c3a777f0847f429724a2d8"
		       "cd5138e6ed2895c3fa1a6d39d18f7ec6" },
		{ 120, "f52b23db1fbb6ded89ef42a23ce0c892"
		       "2c45f25c50b568a93bf1c075420bbb7c" },
		{ 127, "92ca0fa6651ee2f97b884b7246a562fa"
		       "71250fedefe5ebf270d31c546bfea976" },
		{ 128, "471fb943aa23c511f6f72f8d1652d9c8"
		       "80cfa392ad80503120547703e56a2be5" },
	};
	unsigned char	 msg[128];
	size_t		 i;

	for (i = 0; i < sizeof(msg); i++)
		msg[i] = (unsigned char)i;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		hash_body_check(msg, cases[i].len, cases[i].hex);
}
END_TEST


/* The client left while the pool hashed: finish, answer nothing. */
START_TEST(hash_body_aborted)
{
	struct event_base	*base;
	struct pool		*pool;
	struct treq		 t;
	char			*raw;
	size_t			 rawlen;

	ck_assert_ptr_nonnull(base = event_base_new());
	ck_assert_ptr_nonnull(pool = pool_new(base, 1, 4));
	raw = hash_request("abc", 3, &rawlen);
	treq_start(&t, "hash_body", NULL, raw, rawlen, base, pool);
	ck_assert_int_eq(treq_handle(&t), SY_PENDING);
	atomic_store(&t.req.aborted, 1);	/* what conn_close() does */
	loop_until(base, &t.finished, 1);
	ck_assert_int_eq(t.finished, 1);
	ck_assert_uint_eq(api_resp_body_len(&t.req), 0);
	ck_assert_str_eq(t.req.content_type, "");
	ck_assert_uint_eq(t.req.headers_len, 0);
	treq_cleanup(&t);
	pool_free(pool);
	event_base_free(base);
	free(raw);
}
END_TEST

/* What conn_close() does to a pending request whose client reset. */
START_TEST(async_sleep_abort)
{
	static const char	 raw[] = "GET /t HTTP/1.1\r\nHost: x\r\n\r\n";
	void			*s = args_ok("async_sleep", "{\"ms\": 60000}");
	struct event_base	*base;
	struct treq		 t;

	ck_assert_ptr_nonnull(base = event_base_new());
	treq_start(&t, "async_sleep", s, raw, strlen(raw), base, NULL);
	ck_assert_int_eq(treq_handle(&t), SY_PENDING);
	t.req.pending = 1;			/* as dispatch_run() marks it */
	ck_assert_int_eq(event_base_get_num_events(base,
	    EVENT_BASE_COUNT_ADDED), 1);	/* its timer */
	api_req_abort(&t.req);
	/* Finished at once, not in 60 s, and the timer is gone. */
	ck_assert_int_eq(t.finished, 1);
	ck_assert(sy_req_aborted(&t.req));
	ck_assert_int_eq(event_base_get_num_events(base,
	    EVENT_BASE_COUNT_ADDED), 0);
	/* The callback runs once; finishing cleared it. */
	api_req_abort(&t.req);
	ck_assert_int_eq(t.finished, 1);
	treq_cleanup(&t);
	event_base_free(base);
	args_free("async_sleep", s);
}
END_TEST

static int	 abort_calls;

static void
count_abort_cb(struct sy_req *req, void *arg)
{
	abort_calls++;
}

/* Only a request a loop handler holds gets the callback. */
START_TEST(abort_callback_rules)
{
	static const char	 raw[] = "GET /t HTTP/1.1\r\nHost: x\r\n\r\n";
	void			*s = args_ok("async_sleep", "{\"ms\": 1}");
	struct event_base	*base;
	struct treq		 t;

	ck_assert_ptr_nonnull(base = event_base_new());
	treq_start(&t, "async_sleep", s, raw, strlen(raw), base, NULL);
	/* A pool job (not pending on the loop) only sees the flag. */
	abort_calls = 0;
	sy_req_on_abort(&t.req, count_abort_cb, NULL);
	api_req_abort(&t.req);
	ck_assert(sy_req_aborted(&t.req));
	ck_assert_int_eq(abort_calls, 0);
	/* A new request starts with neither flag nor callback. */
	api_req_start(&t.req, &t.http, &t.route);
	ck_assert(!sy_req_aborted(&t.req));
	ck_assert_int_eq(treq_handle(&t), SY_PENDING);
	t.req.pending = 1;
	loop_until(base, &t.finished, 1);	/* the 1 ms sleep ends */
	ck_assert_int_eq(t.finished, 1);
	ck_assert(!sy_req_aborted(&t.req));
	ck_assert_ptr_null(t.req.abort_cb);	/* finishing cleared it */
	treq_cleanup(&t);
	event_base_free(base);
	args_free("async_sleep", s);
}
END_TEST

/* A job that holds the pool's only thread until the gate opens. */
struct gjob {
	struct pool_job	 job;		/* first: the cast in gjob_of() */
	pthread_mutex_t	*mtx;
	pthread_cond_t	*cond;
	int		*arrived;	/* under mtx */
	int		*open;		/* under mtx */
	int		*ndone;		/* loop thread */
};

static struct gjob *
gjob_of(struct pool_job *job)
{
	return (struct gjob *)(void *)((char *)job -
	    offsetof(struct gjob, job));
}

/* Pool thread. */
static void
gjob_work(struct pool_job *job)
{
	struct gjob	*g = gjob_of(job);
	struct timespec	 ts;

	if (g->mtx == NULL)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += SAFETY_S;
	pthread_mutex_lock(g->mtx);
	*g->arrived = 1;
	pthread_cond_broadcast(g->cond);
	while (!*g->open &&
	    pthread_cond_timedwait(g->cond, g->mtx, &ts) == 0)
		;
	pthread_mutex_unlock(g->mtx);
}

/* Loop thread. */
static void
gjob_done(struct pool_job *job)
{
	(*gjob_of(job)->ndone)++;
}

START_TEST(hash_body_queue_full)
{
	pthread_mutex_t		 mtx = PTHREAD_MUTEX_INITIALIZER;
	pthread_cond_t		 cond = PTHREAD_COND_INITIALIZER;
	struct event_base	*base;
	struct pool		*pool;
	struct gjob		 gate, filler;
	struct timespec		 ts;
	struct treq		 t;
	char			*raw, *h;
	size_t			 rawlen;
	int			 arrived = 0, open = 0, ndone = 0, rc = 0;

	ck_assert_ptr_nonnull(base = event_base_new());
	ck_assert_ptr_nonnull(pool = pool_new(base, 1, 1));

	/* The only thread: held at the gate. */
	memset(&gate, 0, sizeof(gate));
	gate.job.work = gjob_work;
	gate.job.done = gjob_done;
	gate.mtx = &mtx;
	gate.cond = &cond;
	gate.arrived = &arrived;
	gate.open = &open;
	gate.ndone = &ndone;
	ck_assert_int_eq(pool_submit(pool, &gate.job), 0);
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += SAFETY_S;
	pthread_mutex_lock(&mtx);
	while (!arrived && rc == 0)
		rc = pthread_cond_timedwait(&cond, &mtx, &ts);
	pthread_mutex_unlock(&mtx);
	ck_assert_msg(rc == 0, "the gated job never started");

	/* The queue's only place: taken. */
	memset(&filler, 0, sizeof(filler));
	filler.job.work = gjob_work;
	filler.job.done = gjob_done;
	filler.ndone = &ndone;
	ck_assert_int_eq(pool_submit(pool, &filler.job), 0);
	ck_assert_uint_eq(pool_queued(pool), 1);

	raw = hash_request("abc", 3, &rawlen);
	treq_start(&t, "hash_body", NULL, raw, rawlen, base, pool);
	ck_assert_int_eq(treq_handle(&t), SY_DONE);
	expect_error(&t, 503, "Service Unavailable: thread pool queue full");
	ck_assert_str_eq(h = treq_header(&t, "Retry-After"), "1");
	free(h);
	ck_assert_int_eq(t.finished, 0);

	pthread_mutex_lock(&mtx);
	open = 1;
	pthread_cond_broadcast(&cond);
	pthread_mutex_unlock(&mtx);
	loop_until(base, &ndone, 2);
	ck_assert_int_eq(t.finished, 0);	/* done() was never called */

	treq_cleanup(&t);
	pool_free(pool);
	event_base_free(base);
	free(raw);
}
END_TEST

static Suite *
handlers_suite(void)
{
	Suite	*s = suite_create("handlers");
	TCase	*tc;

	tc = tcase_create("registry");
	tcase_add_loop_test(tc, registry_has_them, 0,
	    sizeof(my_handlers) / sizeof(my_handlers[0]));
	tcase_add_test(tc, registry_sorted);
	tcase_add_test(tc, registry_refuses);
	suite_add_tcase(s, tc);

	tc = tcase_create("url_decode");
	tcase_add_test(tc, url_decode_cases);
	tcase_add_test(tc, url_decode_bounds);
	suite_add_tcase(s, tc);

	tc = tcase_create("args");
	tcase_add_test(tc, args_cpu);
	tcase_add_test(tc, args_json);
	tcase_add_test(tc, args_write_file);
	tcase_add_test(tc, args_static);
	tcase_add_test(tc, args_dashboard);
	suite_add_tcase(s, tc);

	tc = tcase_create("handle");
	tcase_set_timeout(tc, 3 * SAFETY_S);
	tcase_add_test(tc, cpu_result);
	tcase_add_test(tc, cpu_override);
	tcase_add_test(tc, echo_body);
	tcase_add_test(tc, echo_chunked);
	tcase_add_test(tc, encode_gzip);
	tcase_add_test(tc, encode_not);
	tcase_add_test(tc, encode_static_body);
	tcase_add_test(tc, api_request_id);
	tcase_add_test(tc, api_response_buffers);
	tcase_add_test(tc, api_static_body);
	tcase_add_test(tc, health_follows_master);
	tcase_add_test(tc, dashboard_page);
	tcase_add_test(tc, json_small);
	tcase_add_test(tc, json_large);
	tcase_add_test(tc, write_file_writes);
	tcase_add_test(tc, write_file_exact_size);
	tcase_add_test(tc, write_file_dir_gone);
	tcase_add_test(tc, static_dotfiles);
	tcase_add_test(tc, pool_safe_in_threads);
	suite_add_tcase(s, tc);

	tc = tcase_create("hash_body");
	tcase_set_timeout(tc, 3 * SAFETY_S);
	tcase_add_loop_test(tc, hash_body_vectors, 0, NVECTORS);
	tcase_add_test(tc, hash_body_padding_edges);
	tcase_add_test(tc, hash_body_aborted);
	tcase_add_test(tc, async_sleep_abort);
	tcase_add_test(tc, abort_callback_rules);
	tcase_add_test(tc, hash_body_queue_full);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return unit_run(handlers_suite());
}
