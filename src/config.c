/*
 * config.c - JSON to a validated, immutable struct config.
 *
 * The only user of jansson's parser. The file is parsed whole, then
 * walked once: every object is first checked for unknown keys (a typo
 * must not silently become a default), then its known keys are read in
 * a fixed order, so a file with several mistakes always reports the same
 * one first. The first error stops the load; the struct config built so
 * far is freed through config_free(), the one teardown path, which is
 * why routes are counted in conf->nroutes only once their handler state
 * exists.
 *
 * Syntax errors carry jansson's line and column. jansson keeps no
 * positions for values, so semantic errors instead name the key path
 * ("timeouts.header_ms", "routes[2] (\"/ping\"): mode"), which is what
 * a person needs to find the line anyway.
 */
#include "autoconfig.h"

#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "args.h"
#include "client.h"
#include "config.h"
#include "listener.h"
#include "tls.h"
#include "plugin.h"
#include "registry.h"
#include "xmalloc.h"

#define CONFIG_FILE_MAX		(16 * 1024 * 1024)	/* bytes */
#define CONFIG_PATH_MAX		1024	/* route path, bytes */
#define CONFIG_LABEL_MAX	192	/* "routes[N] (\"/p\"): key" */
#define CONFIG_DEFAULT_LISTEN	"127.0.0.1:8080"

/* An unsigned integer key, its range and default. */
struct int_key {
	const char	*name;
	json_int_t	 lo, hi;
	json_int_t	 def;
	size_t		 off;		/* in the struct it fills */
	size_t		 size;		/* sizeof(unsigned) or sizeof(size_t) */
	int		 zero_off;	/* 0 also allowed, meaning "off" */
};

#define UINT_KEY(s, f)	offsetof(s, f), sizeof(unsigned)

static const struct int_key top_ints[] = {
	{ "threads", 1, 1024, 40, UINT_KEY(struct config, threads), 0 },
	{ "queue_limit", 1, 1000000, 1024,
	    UINT_KEY(struct config, queue_limit), 0 },
	{ "loop_block_warn_ms", 0, 60000, 100,
	    UINT_KEY(struct config, loop_block_warn_ms), 0 },
	{ "worker_timeout_ms", 100, 3600000, 30000,
	    UINT_KEY(struct config, worker_timeout_ms), 1 },
};

static const struct int_key timeout_ints[] = {
	{ "header_ms", 1, 86400000, 10000,
	    UINT_KEY(struct config_timeouts, header_ms), 0 },
	{ "body_ms", 1, 86400000, 30000,
	    UINT_KEY(struct config_timeouts, body_ms), 0 },
	{ "keepalive_ms", 0, 86400000, 5000,
	    UINT_KEY(struct config_timeouts, keepalive_ms), 0 },
	{ "send_ms", 1, 86400000, 30000,
	    UINT_KEY(struct config_timeouts, send_ms), 0 },
	{ "handler_ms", 1, 86400000, 30000,
	    UINT_KEY(struct config_timeouts, handler_ms), 0 },
	{ "shutdown_ms", 1, 86400000, 30000,
	    UINT_KEY(struct config_timeouts, shutdown_ms), 0 },
	{ "drain_delay_ms", 0, 86400000, 0,
	    UINT_KEY(struct config_timeouts, drain_delay_ms), 0 },
};

static const struct int_key limit_ints[] = {
	{ "max_connections", 1, 1000000, 10000,
	    UINT_KEY(struct config_limits, max_connections), 0 },
	{ "header_bytes", 1024, 1048576, 8192,
	    UINT_KEY(struct config_limits, header_bytes), 0 },
	{ "uri_bytes", 256, 1048576, 4096,
	    UINT_KEY(struct config_limits, uri_bytes), 0 },
	{ "headers", 1, 10000, 100,
	    UINT_KEY(struct config_limits, headers), 0 },
	{ "body_bytes", 0, 1073741824, 1048576,
	    offsetof(struct config_limits, body_bytes), sizeof(size_t), 0 },
};

#define NITEMS(a)	(sizeof(a) / sizeof((a)[0]))

static const char *const top_keys[] = {
	"listen", "workers", "threads", "queue_limit", "loop_block_warn_ms",
	"worker_timeout_ms", "timeouts", "limits", "access_log",
	"access_log_format", "error_log", "log_level", "user", "group",
	"pid_file", "plugins", "trusted_proxies", "routes", NULL
};
static const char *const listen_keys[] = {
	"address", "proxy_protocol", "deferred", "tls", NULL
};
static const char *const tls_keys[] = {	/* both required, in order */
	"certificate", "key", NULL
};
static const char *const timeout_keys[] = {
	"header_ms", "body_ms", "keepalive_ms", "send_ms", "handler_ms",
	"shutdown_ms", "drain_delay_ms", NULL
};
static const char *const limit_keys[] = {
	"max_connections", "header_bytes", "uri_bytes", "headers",
	"body_bytes", NULL
};
static const char *const route_keys[] = {
	"path", "match", "methods", "handler", "mode", "args", "compress",
	NULL
};

/* Indexed by enum config_mode. */
static const char *const mode_names[] = {
	"nonblocking", "blocking", "auto", NULL
};
/* Indexed by enum config_match. */
static const char *const match_names[] = {
	"exact", "prefix", NULL
};
/* Indexed by enum log_level. */
static const char *const level_names[] = {
	"error", "warning", "info", "debug", NULL
};
/* Indexed by enum config_access_format. */
static const char *const access_format_names[] = {
	"combined", "json", NULL
};
/* Bit i is CONFIG_METHOD_*: 1 << i. */
static const char *const method_names[] = {
	"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", NULL
};

static int	 fail(struct config_error *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
static int	 check_keys(const json_t *, const char *const *, const char *,
		    struct config_error *);
static int	 get_int(const json_t *, const char *, const struct int_key *,
		    void *, struct config_error *);
static int	 get_ints(const json_t *, const char *, const struct int_key *,
		    size_t, void *, struct config_error *);
static int	 get_string(const json_t *, const char *, const char **,
		    struct config_error *);
static int	 get_enum(const json_t *, const char *, const char *const *,
		    int *, struct config_error *);
static int	 parse_listen(const json_t *, struct config *,
		    struct config_error *);
static int	 parse_workers(const json_t *, struct config *,
		    struct config_error *);
static int	 parse_logs(const json_t *, struct config *,
		    struct config_error *);
static int	 parse_ids(const json_t *, struct config *,
		    struct config_error *);
static int	 parse_methods(const json_t *, const char *, unsigned *,
		    struct config_error *);
static int	 parse_plugins(const json_t *, struct config *,
		    struct config_error *);
static void	 add_handler_name(const struct sy_handler *, void *);
static int	 parse_handler(const json_t *, const char *,
		    struct config_route *, struct config_error *);
static int	 parse_path(const json_t *, const char *, struct config_route *,
		    struct config_error *);
static int	 check_duplicate(const struct config *,
		    const struct config_route *, const char *,
		    struct config_error *);
static int	 bind_route(struct config *, struct config_route *,
		    struct config_error *);
static int	 parse_route(const json_t *, unsigned, struct config *,
		    struct config_error *);
static int	 parse_routes(const json_t *, struct config *,
		    struct config_error *);
static struct config *config_build(const json_t *, const char *,
		    struct config_error *);
static void	 error_init(struct config_error *, const char *);
static struct config *config_parse(const char *, size_t, const char *,
		    struct config_error *);

/* Fill err->text for a semantic error (no position). Returns -1. */
static int
fail(struct config_error *err, const char *fmt, ...)
{
	va_list	 ap;

	err->line = 0;
	err->column = 0;
	va_start(ap, fmt);
	(void)vsnprintf(err->text, sizeof(err->text), fmt, ap);
	va_end(ap);
	return -1;
}

/*
 * The checks of args.c, with err's position cleared: these are semantic
 * errors, found after jansson has parsed the file.
 */
static int
failed(struct config_error *err)
{
	err->line = 0;
	err->column = 0;
	return -1;
}

/*
 * Refuse keys of obj not in known; where is the path of obj ("" at the
 * top level, "timeouts." for a sub-object, "routes[0] (...): " in a
 * route).
 */
static int
check_keys(const json_t *obj, const char *const *known, const char *where,
    struct config_error *err)
{
	if (args_check_keys(obj, known, where, err->text,
	    sizeof(err->text)) == -1)
		return failed(err);
	return 0;
}

/* Store v (or the default when v is NULL) as k says, at base + k->off. */
static int
get_int(const json_t *v, const char *label, const struct int_key *k,
    void *base, struct config_error *err)
{
	json_int_t	 n = k->def;
	char		*p = (char *)base + k->off;

	if (v != NULL && args_int(v, label, k->lo, k->hi, k->zero_off, &n,
	    err->text, sizeof(err->text)) == -1)
		return failed(err);
	if (k->size == sizeof(size_t))
		*(size_t *)(void *)p = (size_t)n;
	else
		*(unsigned *)(void *)p = (unsigned)n;
	return 0;
}

/* Every key of table from obj (NULL: all defaults); prefix as "limits.". */
static int
get_ints(const json_t *obj, const char *prefix, const struct int_key *table,
    size_t n, void *base, struct config_error *err)
{
	char	 label[CONFIG_LABEL_MAX];
	size_t	 i;

	for (i = 0; i < n; i++) {
		(void)snprintf(label, sizeof(label), "%s%s", prefix,
		    table[i].name);
		if (get_int(obj ? json_object_get(obj, table[i].name) : NULL,
		    label, &table[i], base, err) == -1)
			return -1;
	}
	return 0;
}

/* A non-empty string; *s borrows from v. */
static int
get_string(const json_t *v, const char *label, const char **s,
    struct config_error *err)
{
	if (args_string(v, label, s, err->text, sizeof(err->text)) == -1)
		return failed(err);
	return 0;
}

/* true or false, as 1 or 0. */
static int
get_bool(const json_t *v, const char *label, int *b, struct config_error *err)
{
	if (args_bool(v, label, b, err->text, sizeof(err->text)) == -1)
		return failed(err);
	return 0;
}

/* One of names; *val is its index. */
static int
get_enum(const json_t *v, const char *label, const char *const *names,
    int *val, struct config_error *err)
{
	if (args_enum(v, label, names, val, err->text,
	    sizeof(err->text)) == -1)
		return failed(err);
	return 0;
}

/*
 * Parse text into conf->listen[i] and refuse an address listed before it.
 * label names it in errors ("listen[1]", "-l").
 */
static int
listen_set(struct config *conf, size_t i, const char *text, const char *label,
    struct config_error *err)
{
	struct config_listen	*l = &conf->listen[i];
	char			 why[256], qbuf[ARGS_QUOTE_BUF];
	char			 qbuf2[ARGS_QUOTE_BUF];
	size_t			 j;

	args_quote(text, qbuf, sizeof(qbuf));
	if (strlen(text) >= sizeof(l->text))
		return fail(err, "%s: %s: longer than %zu bytes", label, qbuf,
		    sizeof(l->text) - 1);
	why[0] = '\0';
	if (listener_parse(text, &l->addr, &l->addrlen, why,
	    sizeof(why)) == -1)
		return fail(err, "%s: %s: %s", label, qbuf, why);
	(void)snprintf(l->text, sizeof(l->text), "%s", text);
	/*
	 * Compare addresses, not text: "*:80" and "0.0.0.0:80" are one
	 * socket, and binding it twice would fail at startup with a less
	 * helpful EADDRINUSE. listener_parse() zeroes the storage, so
	 * memcmp() sees no stale padding.
	 */
	for (j = 0; j < i; j++) {
		if (conf->listen[j].addrlen != l->addrlen ||
		    memcmp(&conf->listen[j].addr, &l->addr, l->addrlen) != 0)
			continue;
		args_quote(conf->listen[j].text, qbuf2, sizeof(qbuf2));
		if (label[0] == '-')	/* an option: no index to name */
			return fail(err, "%s: %s: same address as %s", label,
			    qbuf, qbuf2);
		return fail(err, "%s: %s: same address as listen[%zu] (%s)",
		    label, qbuf, j, qbuf2);
	}
	return 0;
}

/*
 * A path from the string v (label names it in errors) into path; a
 * relative one is taken against the directory of the config file, so
 * that a config works from wherever the server is started.
 */
static int
get_path(const json_t *v, const char *label, const struct config *conf,
    char *path, size_t pathsize, struct config_error *err)
{
	const char	*s, *slash;
	char		 qbuf[ARGS_QUOTE_BUF];
	size_t		 dirlen;
	int		 n;

	if (!json_is_string(v))
		return fail(err, "%s: must be a path (a string), not %s", label,
		    args_type_name(v));
	s = json_string_value(v);
	if (s[0] == '\0' || strlen(s) != json_string_length(v))
		return fail(err, "%s: must be a path, not %s", label,
		    args_quote(s, qbuf, sizeof(qbuf)));
	slash = strrchr(conf->path, '/');
	dirlen = slash != NULL ? (size_t)(slash - conf->path) : 0;
	if (s[0] == '/' || slash == NULL)
		n = snprintf(path, pathsize, "%s", s);
	else
		n = snprintf(path, pathsize, "%.*s/%s",
		    (int)(dirlen == 0 ? 1 : dirlen),
		    dirlen == 0 ? "/" : conf->path, s);
	if (n < 0 || (size_t)n >= pathsize)
		return fail(err, "%s: %s: path too long", label,
		    args_quote(s, qbuf, sizeof(qbuf)));
	return 0;
}

/*
 * A listener's "tls": {"certificate": PATH, "key": PATH}. The files are
 * read and checked now, so a bad one fails this load (and a reload
 * keeps the running configuration).
 */
static int
parse_tls(const json_t *v, const char *label, struct config *conf,
    struct config_listen *l, struct config_error *err)
{
	char	 where[64], path[2][PATH_MAX], why[512];
	size_t	 i;

	if (!json_is_object(v))
		return fail(err, "%s.tls: must be an object, {\"certificate\": "
		    "PATH, \"key\": PATH}, not %s", label, args_type_name(v));
	(void)snprintf(where, sizeof(where), "%s.tls.", label);
	if (check_keys(v, tls_keys, where, err) == -1)
		return -1;
	if (l->proxy_protocol)
		return fail(err, "%s: tls and proxy_protocol together are not "
		    "supported", label);
	for (i = 0; i < 2; i++) {
		(void)snprintf(where, sizeof(where), "%s.tls.%s", label,
		    tls_keys[i]);
		if (json_object_get(v, tls_keys[i]) == NULL)
			return fail(err, "%s: required", where);
		if (get_path(json_object_get(v, tls_keys[i]), where, conf,
		    path[i], sizeof(path[i]), err) == -1)
			return -1;
	}
	l->tls_certificate = xstrdup(path[0]);
	l->tls_key = xstrdup(path[1]);
	if ((l->tls = tls_ctx_new(path[0], path[1], why, sizeof(why))) == NULL)
		return fail(err, "%s.tls: %s", label, why);
	return 0;
}

/* Free what listen entries own (not the array). */
static void
listen_cleanup(struct config_listen *l, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++) {
		tls_ctx_free(l[i].tls);
		free(l[i].tls_certificate);
		free(l[i].tls_key);
	}
}

static int
parse_listen(const json_t *v, struct config *conf, struct config_error *err)
{
	json_t			*item, *addr, *pp, *tls;
	char			 label[32], where[48];
	size_t			 i, n;

	if (v == NULL) {
		conf->listen = xcalloc(1, sizeof(*conf->listen));
		if (listen_set(conf, 0, CONFIG_DEFAULT_LISTEN, "listen",
		    err) == -1)
			return -1;
		conf->nlisten = 1;
		return 0;
	}
	if (!json_is_array(v))
		return fail(err, "listen: must be an array of addresses, not %s",
		    args_type_name(v));
	if ((n = json_array_size(v)) == 0)
		return fail(err, "listen: must hold at least one address");
	conf->listen = xcalloc(n, sizeof(*conf->listen));
	json_array_foreach(v, i, item) {
		(void)snprintf(label, sizeof(label), "listen[%zu]", i);
		if (json_is_object(item)) {
			/* {"address": "...", "proxy_protocol": true, ...} */
			(void)snprintf(where, sizeof(where), "%s.", label);
			if (check_keys(item, listen_keys, where, err) == -1)
				return -1;
			addr = json_object_get(item, "address");
			if (addr == NULL)
				return fail(err, "%s.address: required", label);
			if (!json_is_string(addr))
				return fail(err, "%s.address: must be a string, "
				    "not %s", label, args_type_name(addr));
			(void)snprintf(where, sizeof(where), "%s.address",
			    label);
			if (listen_set(conf, i, json_string_value(addr), where,
			    err) == -1)
				return -1;
			conf->nlisten = i + 1;	/* config_free() frees it */
			(void)snprintf(where, sizeof(where), "%s.proxy_protocol",
			    label);
			if ((pp = json_object_get(item, "proxy_protocol")) !=
			    NULL && get_bool(pp, where,
			    &conf->listen[i].proxy_protocol, err) == -1)
				return -1;
			(void)snprintf(where, sizeof(where), "%s.deferred",
			    label);
			if ((pp = json_object_get(item, "deferred")) != NULL &&
			    get_bool(pp, where, &conf->listen[i].deferred,
			    err) == -1)
				return -1;
			tls = json_object_get(item, "tls");
			if (tls != NULL && parse_tls(tls, label, conf,
			    &conf->listen[i], err) == -1)
				return -1;
		} else if (json_is_string(item)) {
			if (listen_set(conf, i, json_string_value(item), label,
			    err) == -1)
				return -1;
		} else
			return fail(err, "%s: must be an address or an object, "
			    "not %s", label, args_type_name(item));
		conf->nlisten = i + 1;
	}
	return 0;
}

/* "trusted_proxies": the peers whose forwarded headers are believed. */
static int
parse_trusted(const json_t *v, struct config *conf, struct config_error *err)
{
	const json_t	*item;
	char		 why[128], qbuf[ARGS_QUOTE_BUF];
	size_t		 i;

	if (v == NULL)
		return 0;
	if (!json_is_array(v))
		return fail(err, "trusted_proxies: must be an array of "
		    "addresses or address/bits, not %s", args_type_name(v));
	conf->trusted = xcalloc(json_array_size(v) + 1,
	    sizeof(*conf->trusted));
	json_array_foreach(v, i, item) {
		if (!json_is_string(item))
			return fail(err, "trusted_proxies[%zu]: must be a "
			    "string, not %s", i, args_type_name(item));
		if (client_cidr_parse(json_string_value(item),
		    &conf->trusted[i], why, sizeof(why)) == -1)
			return fail(err, "trusted_proxies[%zu]: %s: %s", i,
			    args_quote(json_string_value(item), qbuf, sizeof(qbuf)),
			    why);
		conf->ntrusted = i + 1;
	}
	return 0;
}

unsigned
config_workers_auto(void)
{
	/* One worker per online CPU; sysconf() may say -1. */
	long	 ncpu = sysconf(_SC_NPROCESSORS_ONLN);

	if (ncpu < 1)
		ncpu = 1;
	if (ncpu > CONFIG_WORKERS_MAX)
		ncpu = CONFIG_WORKERS_MAX;
	return (unsigned)ncpu;
}

static int
parse_workers(const json_t *v, struct config *conf, struct config_error *err)
{
	static const struct int_key	 k = { "workers", 1, CONFIG_WORKERS_MAX,
	    1, UINT_KEY(struct config, workers), 0 };
	char				 qbuf[ARGS_QUOTE_BUF];

	if (json_is_string(v)) {
		if (strcmp(json_string_value(v), "auto") != 0)
			return fail(err, "workers: must be a positive integer "
			    "or \"auto\", not %s",
			    args_quote(json_string_value(v), qbuf, sizeof(qbuf)));
		conf->workers = config_workers_auto();
		return 0;
	}
	if (v != NULL && !json_is_integer(v))
		return fail(err, "workers: must be a positive integer or "
		    "\"auto\", not %s", args_type_name(v));
	return get_int(v, k.name, &k, conf, err);
}

static int
parse_logs(const json_t *root, struct config *conf, struct config_error *err)
{
	const json_t	*v;
	const char	*s;
	int		 level, format;

	if ((v = json_object_get(root, "access_log")) != NULL) {
		if (!json_is_string(v))
			return fail(err, "access_log: must be a string, not %s",
			    args_type_name(v));
		if (json_string_length(v) == 0)
			return fail(err, "access_log: must not be empty (use "
			    "\"off\", \"stderr\" or a path)");
		s = json_string_value(v);
		if (strcmp(s, "off") != 0)
			conf->access_log = xstrdup(s);
	}
	format = CONFIG_ACCESS_COMBINED;
	if ((v = json_object_get(root, "access_log_format")) != NULL &&
	    get_enum(v, "access_log_format", access_format_names, &format,
	    err) == -1)
		return -1;
	conf->access_log_format = (enum config_access_format)format;

	if ((v = json_object_get(root, "error_log")) != NULL) {
		if (!json_is_string(v))
			return fail(err, "error_log: must be a string, not %s",
			    args_type_name(v));
		if (json_string_length(v) == 0)
			return fail(err, "error_log: must not be empty (use "
			    "\"stderr\" or a path)");
		s = json_string_value(v);
		/*
		 * Errors cannot be turned off; without this, "off" would
		 * quietly become a file called off in the working directory.
		 */
		if (strcmp(s, "off") == 0)
			return fail(err, "error_log: cannot be \"off\" (use "
			    "\"stderr\" or a path)");
		conf->error_log = xstrdup(s);
	} else
		conf->error_log = xstrdup("stderr");

	level = LOG_LEVEL_INFO;
	if ((v = json_object_get(root, "log_level")) != NULL &&
	    get_enum(v, "log_level", level_names, &level, err) == -1)
		return -1;
	conf->log_level = (enum log_level)level;
	return 0;
}

/*
 * user, group and pid_file. The names are looked up now so that a typo
 * fails the load (and a reload keeps the old config) instead of the
 * privilege drop at startup.
 */
static int
parse_ids(const json_t *root, struct config *conf, struct config_error *err)
{
	const struct passwd	*pw;
	const struct group	*gr;
	const json_t	*v;
	const char	*s;
	char		 qbuf[ARGS_QUOTE_BUF];

	if ((v = json_object_get(root, "user")) != NULL) {
		if (get_string(v, "user", &s, err) == -1)
			return -1;
		if ((pw = getpwnam(s)) == NULL)
			return fail(err, "user: no such user %s",
			    args_quote(s, qbuf, sizeof(qbuf)));
		conf->user = xstrdup(s);
		conf->uid = pw->pw_uid;
		conf->gid = pw->pw_gid;		/* unless "group" says */
	}
	if ((v = json_object_get(root, "group")) != NULL) {
		if (get_string(v, "group", &s, err) == -1)
			return -1;
		if ((gr = getgrnam(s)) == NULL)
			return fail(err, "group: no such group %s",
			    args_quote(s, qbuf, sizeof(qbuf)));
		/*
		 * Alone, started as root, the workers would switch group
		 * and stay uid 0: a config that looks dropped and is not.
		 */
		if (conf->user == NULL)
			return fail(err, "group: needs \"user\" too (without "
			    "it the workers would keep the master's user)");
		conf->group = xstrdup(s);
		conf->gid = gr->gr_gid;
	}
	if ((v = json_object_get(root, "pid_file")) != NULL) {
		if (get_string(v, "pid_file", &s, err) == -1)
			return -1;
		conf->pid_file = xstrdup(s);
	}
	return 0;
}

static int
parse_methods(const json_t *v, const char *where, unsigned *mask,
    struct config_error *err)
{
	json_t		*item;
	const char	*s;
	char		 list[128], qbuf[ARGS_QUOTE_BUF];
	unsigned	 bit;
	size_t		 i;

	if (v == NULL) {
		*mask = CONFIG_METHOD_GET | CONFIG_METHOD_HEAD;
		return 0;
	}
	if (!json_is_array(v))
		return fail(err, "%smethods: must be an array of method names, "
		    "not %s", where, args_type_name(v));
	if (json_array_size(v) == 0)
		return fail(err, "%smethods: must not be empty", where);
	*mask = 0;
	json_array_foreach(v, i, item) {
		if (!json_is_string(item))
			return fail(err, "%smethods[%zu]: must be a string, "
			    "not %s", where, i, args_type_name(item));
		s = json_string_value(item);
		if ((bit = config_method_bit(s)) == 0) {
			args_list_names(method_names, list, sizeof(list));
			return fail(err, "%smethods[%zu]: %s is not one of %s",
			    where, i, args_quote(s, qbuf, sizeof(qbuf)), list);
		}
		if (*mask & bit)
			return fail(err, "%smethods[%zu]: %s is listed twice",
			    where, i, args_quote(s, qbuf, sizeof(qbuf)));
		*mask |= bit;
	}
	/* A GET route answers HEAD too, as every HTTP server does. */
	if (*mask & CONFIG_METHOD_GET)
		*mask |= CONFIG_METHOD_HEAD;
	return 0;
}

struct name_list {
	char	*buf;
	size_t	 size;
	size_t	 len;
};

static void
add_handler_name(const struct sy_handler *h, void *arg)
{
	struct name_list	*nl = arg;
	int			 r;

	if (nl->len >= nl->size)
		return;
	r = snprintf(nl->buf + nl->len, nl->size - nl->len, "%s%s",
	    nl->len ? ", " : "", h->name);
	if (r > 0)
		nl->len += (size_t)r;
}

/*
 * Only the name here: which handlers exist is known once the plugins are
 * loaded, by config_bind(), which is not done in the master.
 */
static int
parse_handler(const json_t *v, const char *where, struct config_route *r,
    struct config_error *err)
{
	if (v == NULL)
		return fail(err, "%shandler: required", where);
	if (!json_is_string(v))
		return fail(err, "%shandler: must be a string, not %s", where,
		    args_type_name(v));
	r->handler_name = xstrdup(json_string_value(v));
	return 0;
}

/*
 * "plugins": paths of shared objects, a relative one against the
 * directory of the config file. Each is pinned (opened) now, so that the
 * processes forked to run this config load the file as it is at this
 * load, whatever happens to the path later (plugin.c).
 */
static int
parse_plugins(const json_t *v, struct config *conf, struct config_error *err)
{
	const json_t	*item;
	char		 label[32], why[256], path[PATH_MAX];
	size_t		 i, j;

	if (v == NULL)
		return 0;
	if (!json_is_array(v))
		return fail(err, "plugins: must be an array of paths, not %s",
		    args_type_name(v));
	conf->plugins = xcalloc(json_array_size(v) + 1,
	    sizeof(*conf->plugins));
	json_array_foreach(v, i, item) {
		(void)snprintf(label, sizeof(label), "plugins[%zu]", i);
		if (get_path(item, label, conf, path, sizeof(path), err) == -1)
			return -1;
		for (j = 0; j < conf->nplugins; j++)
			if (strcmp(conf->plugins[j].path, path) == 0)
				return fail(err, "plugins[%zu]: %s is listed "
				    "twice (plugins[%zu])", i, path, j);
		if ((conf->plugins[i].fd = plugin_pin(path, why,
		    sizeof(why))) == -1)
			return fail(err, "plugins[%zu]: %s: %s", i, path, why);
		conf->plugins[i].path = xstrdup(path);
		conf->nplugins = i + 1;
	}
	return 0;
}

/*
 * The path must be what a request target's path can be compared with
 * byte for byte: no query or fragment, nothing a request line cannot
 * carry.
 */
static int
parse_path(const json_t *v, const char *where, struct config_route *r,
    struct config_error *err)
{
	const char	*s;
	char		 qbuf[ARGS_QUOTE_BUF];
	size_t		 i, len;

	if (v == NULL)
		return fail(err, "%spath: required", where);
	if (!json_is_string(v))
		return fail(err, "%spath: must be a string, not %s", where,
		    args_type_name(v));
	s = json_string_value(v);
	len = json_string_length(v);
	args_quote(s, qbuf, sizeof(qbuf));
	if (s[0] != '/')
		return fail(err, "%spath: %s must start with \"/\"", where,
		    qbuf);
	if (len > CONFIG_PATH_MAX)
		return fail(err, "%spath: %s is longer than %d bytes", where,
		    qbuf, CONFIG_PATH_MAX);
	for (i = 0; i < len; i++) {
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return fail(err, "%spath: %s: control characters are "
			    "not allowed", where, qbuf);
		if (s[i] == ' ')
			return fail(err, "%spath: %s: spaces are not allowed "
			    "(write %%20)", where, qbuf);
		if (s[i] == '?' || s[i] == '#')
			return fail(err, "%spath: %s: \"%c\" is not allowed "
			    "(a route matches the path only)", where, qbuf,
			    s[i]);
	}
	r->path = xstrdup(s);
	r->path_len = len;
	return 0;
}

/*
 * Two routes with the same path and match kind that share a method make
 * the second unreachable for it: refuse instead of guessing.
 */
static int
check_duplicate(const struct config *conf, const struct config_route *r,
    const char *where, struct config_error *err)
{
	const struct config_route	*o;
	char				 methods[64];
	unsigned			 both;
	size_t				 i;

	for (i = 0; i < conf->nroutes; i++) {
		o = &conf->routes[i];
		both = o->methods & r->methods;
		if (o->match != r->match || o->path_len != r->path_len ||
		    memcmp(o->path, r->path, r->path_len) != 0 || both == 0)
			continue;
		/* A clash on HEAD alone may come from a GET the user wrote. */
		return fail(err, "%sduplicates routes[%u] for %s%s", where,
		    o->index, config_methods_format(both, methods,
		    sizeof(methods)), both == CONFIG_METHOD_HEAD &&
		    ((o->methods | r->methods) & CONFIG_METHOD_GET) ?
		    " (GET implies HEAD)" : "");
	}
	return 0;
}

/* "routes[N] (\"/path\"): ", how every message about a route starts. */
static const char *
route_where(const struct config_route *r, char *buf, size_t bufsize)
{
	char	 qbuf[ARGS_QUOTE_BUF];

	(void)snprintf(buf, bufsize, "routes[%u] (%s): ", r->index,
	    args_quote(r->path, qbuf, sizeof(qbuf)));
	return buf;
}

/*
 * Give r its handler from conf's registry and run its init(): the part
 * of a route's validation that needs the handlers themselves.
 */
static int
bind_route(struct config *conf, struct config_route *r,
    struct config_error *err)
{
	const struct sy_handler	*h;
	const json_t		*args = r->args;
	struct name_list	 nl;
	char			 where[CONFIG_LABEL_MAX], names[512];
	char			 qbuf[ARGS_QUOTE_BUF], why[256];

	route_where(r, where, sizeof(where));
	if ((h = registry_find(&conf->registry, r->handler_name)) == NULL) {
		names[0] = '\0';
		nl.buf = names;
		nl.size = sizeof(names);
		nl.len = 0;
		registry_foreach(&conf->registry, add_handler_name, &nl);
		return fail(err, "%shandler: %s is not a known handler "
		    "(known: %s)", where, args_quote(r->handler_name, qbuf,
		    sizeof(qbuf)), names);
	}
	/*
	 * "auto" starts on the loop but may be moved to the pool at any
	 * time, so it needs a handler that can run in either.
	 */
	if ((h->flags & SY_HANDLER_LOOP_ONLY) &&
	    r->mode != CONFIG_MODE_NONBLOCKING)
		return fail(err, "%smode: handler \"%s\" needs the event loop; "
		    "use \"nonblocking\"", where, h->name);
	if (h->init == NULL) {
		if (args != NULL && json_object_size(args) > 0)
			return fail(err, "%sargs: handler \"%s\" takes no args",
			    where, h->name);
		r->handler = h;
		return 0;
	}
	why[0] = '\0';
	if (h->init(args, &r->state, why, sizeof(why)) == -1) {
		r->state = NULL;
		/* The handler names its key ("ms: required"); add the path. */
		if (why[0] == '\0')
			return fail(err, "%sargs: refused by handler \"%s\"",
			    where, h->name);
		return fail(err, "%sargs.%s", where, why);
	}
	/* Only now: config_free() frees the state of a route with one. */
	r->handler = h;
	return 0;
}

/*
 * routes[i]. On success it is counted in conf->nroutes; on failure it
 * holds nothing, so config_free() need look no further than nroutes.
 */
static int
parse_route(const json_t *v, unsigned i, struct config *conf,
    struct config_error *err)
{
	struct config_route	*r = &conf->routes[i];
	const json_t		*path, *mode, *match, *compress;
	json_t			*args;
	char			 where[CONFIG_LABEL_MAX];
	char			 label[CONFIG_LABEL_MAX + 16];
	char			 qbuf[ARGS_QUOTE_BUF];
	int			 val;

	r->index = i;
	if (!json_is_object(v))
		return fail(err, "routes[%u]: must be an object, not %s", i,
		    args_type_name(v));
	/*
	 * Unknown keys first: a missing "path" or "handler" is most often
	 * a misspelt one. Every message names the route by its path once
	 * the path is known to be one.
	 */
	path = json_object_get(v, "path");
	if (json_is_string(path))
		(void)snprintf(where, sizeof(where), "routes[%u] (%s): ", i,
		    args_quote(json_string_value(path), qbuf, sizeof(qbuf)));
	else
		(void)snprintf(where, sizeof(where), "routes[%u]: ", i);
	if (check_keys(v, route_keys, where, err) == -1)
		return -1;
	(void)snprintf(label, sizeof(label), "routes[%u]: ", i);
	if (parse_path(path, label, r, err) == -1)
		return -1;

	val = CONFIG_MATCH_EXACT;
	if ((match = json_object_get(v, "match")) != NULL) {
		(void)snprintf(label, sizeof(label), "%smatch", where);
		if (get_enum(match, label, match_names, &val, err) == -1)
			goto fail;
	}
	r->match = (enum config_match)val;

	if (parse_methods(json_object_get(v, "methods"), where, &r->methods,
	    err) == -1)
		goto fail;
	if (parse_handler(json_object_get(v, "handler"), where, r, err) == -1)
		goto fail;

	val = CONFIG_MODE_NONBLOCKING;
	if ((mode = json_object_get(v, "mode")) != NULL) {
		(void)snprintf(label, sizeof(label), "%smode", where);
		if (get_enum(mode, label, mode_names, &val, err) == -1)
			goto fail;
	}
	r->mode = (enum config_mode)val;
	/* The detector is what moves an auto route: without it, never. */
	if (r->mode == CONFIG_MODE_AUTO && conf->loop_block_warn_ms == 0) {
		fail(err, "%smode: \"auto\" needs loop_block_warn_ms > 0 to "
		    "notice a blocked loop", where);
		goto fail;
	}

	if ((compress = json_object_get(v, "compress")) != NULL) {
		(void)snprintf(label, sizeof(label), "%scompress", where);
		if (get_bool(compress, label, &r->compress, err) == -1)
			goto fail;
	}

	if (check_duplicate(conf, r, where, err) == -1)
		goto fail;
	/* Checked by the handler's init(), in config_bind(). */
	if ((args = json_object_get(v, "args")) != NULL) {
		if (!json_is_object(args)) {
			fail(err, "%sargs: must be an object, not %s", where,
			    args_type_name(args));
			goto fail;
		}
		r->args = json_incref(args);
	}
	conf->nroutes = i + 1;
	return 0;

 fail:
	free(r->handler_name);
	r->handler_name = NULL;
	free(r->path);
	r->path = NULL;
	return -1;
}

static int
parse_routes(const json_t *v, struct config *conf, struct config_error *err)
{
	json_t	*item;
	size_t	 i, n;

	if (v == NULL)
		return fail(err, "routes: required (at least one route)");
	if (!json_is_array(v))
		return fail(err, "routes: must be an array of routes, not %s",
		    args_type_name(v));
	if ((n = json_array_size(v)) == 0)
		return fail(err, "routes: must hold at least one route");
	if (n > UINT_MAX)
		return fail(err, "routes: too many routes");
	conf->routes = xcalloc(n, sizeof(*conf->routes));
	json_array_foreach(v, i, item)
		if (parse_route(item, (unsigned)i, conf, err) == -1)
			return -1;
	return 0;
}

/* The whole tree; file only names the source. */
static struct config *
config_build(const json_t *root, const char *file, struct config_error *err)
{
	struct config	*conf;
	const json_t	*v;

	conf = xcalloc(1, sizeof(*conf));
	conf->path = xstrdup(file);

	if (!json_is_object(root)) {
		fail(err, "the top level must be an object, not %s",
		    args_type_name(root));
		goto fail;
	}
	if (check_keys(root, top_keys, "", err) == -1)
		goto fail;
	if (parse_listen(json_object_get(root, "listen"), conf, err) == -1)
		goto fail;
	if (parse_workers(json_object_get(root, "workers"), conf, err) == -1)
		goto fail;
	if (get_ints(root, "", top_ints, NITEMS(top_ints), conf, err) == -1)
		goto fail;

	if ((v = json_object_get(root, "timeouts")) != NULL) {
		if (!json_is_object(v)) {
			fail(err, "timeouts: must be an object, not %s",
			    args_type_name(v));
			goto fail;
		}
		if (check_keys(v, timeout_keys, "timeouts.", err) == -1)
			goto fail;
	}
	if (get_ints(v, "timeouts.", timeout_ints, NITEMS(timeout_ints),
	    &conf->timeouts, err) == -1)
		goto fail;

	if ((v = json_object_get(root, "limits")) != NULL) {
		if (!json_is_object(v)) {
			fail(err, "limits: must be an object, not %s",
			    args_type_name(v));
			goto fail;
		}
		if (check_keys(v, limit_keys, "limits.", err) == -1)
			goto fail;
	}
	if (get_ints(v, "limits.", limit_ints, NITEMS(limit_ints),
	    &conf->limits, err) == -1)
		goto fail;
	/* The request target is part of the request line, hence the head. */
	if (conf->limits.uri_bytes > conf->limits.header_bytes) {
		fail(err, "limits.uri_bytes: %u is larger than "
		    "limits.header_bytes (%u)", conf->limits.uri_bytes,
		    conf->limits.header_bytes);
		goto fail;
	}

	if (parse_logs(root, conf, err) == -1)
		goto fail;
	if (parse_ids(root, conf, err) == -1)
		goto fail;
	if (parse_plugins(json_object_get(root, "plugins"), conf, err) == -1)
		goto fail;
	if (parse_trusted(json_object_get(root, "trusted_proxies"), conf,
	    err) == -1)
		goto fail;
	if (parse_routes(json_object_get(root, "routes"), conf, err) == -1)
		goto fail;
	return conf;

 fail:
	config_free(conf);
	return NULL;
}

static void
error_init(struct config_error *err, const char *file)
{
	memset(err, 0, sizeof(*err));
	(void)snprintf(err->file, sizeof(err->file), "%s", file);
}

/* Parse len bytes of buf and build the config. */
static struct config *
config_parse(const char *buf, size_t len, const char *file,
    struct config_error *err)
{
	struct config	*conf;
	json_t		*root;
	json_error_t	 jerr;

	/*
	 * JSON_DECODE_ANY so that a bare 1 or "x" at the top gets the same
	 * "must be an object" message as an array, not a syntax error.
	 */
	root = json_loadb(buf, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY,
	    &jerr);
	if (root == NULL) {
		/*
		 * jansson says line -1 when there is no position (out of
		 * memory), and column 0 at the start of a line (an end of
		 * file after a newline), where editors count from 1.
		 */
		err->line = jerr.line > 0 ? jerr.line : 0;
		err->column = jerr.line > 0 ? (jerr.column > 0 ?
		    jerr.column : 1) : 0;
		(void)snprintf(err->text, sizeof(err->text), "%s", jerr.text);
		return NULL;
	}
	conf = config_build(root, file, err);
	json_decref(root);
	return conf;
}

struct config *
config_load(const char *path, struct config_error *err)
{
	struct config	*conf = NULL;
	struct stat	 st;
	char		*buf = NULL;
	size_t		 len = 0, size = 0;
	ssize_t		 n;
	int		 fd, saved;

	error_init(err, path);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		fail(err, "%s", strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) == -1) {
		fail(err, "%s", strerror(errno));
		goto done;
	}
	/* read(2) on a directory fails only later, with a vaguer message. */
	if (S_ISDIR(st.st_mode)) {
		fail(err, "%s", strerror(EISDIR));
		goto done;
	}
	/* Not st_size alone: the file may be a pipe or change under us. */
	for (;;) {
		if (len == size) {
			if (size >= CONFIG_FILE_MAX) {
				fail(err, "larger than %d bytes",
				    CONFIG_FILE_MAX);
				goto done;
			}
			size = size ? size * 2 : 8192;
			buf = xreallocarray(buf, size, 1);
		}
		if ((n = read(fd, buf + len, size - len)) == -1) {
			if (errno == EINTR)
				continue;
			fail(err, "%s", strerror(errno));
			goto done;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	conf = config_parse(buf, len, path, err);

 done:
	saved = errno;
	free(buf);
	(void)close(fd);
	errno = saved;
	return conf;
}

struct config *
config_load_string(const char *json, const char *file,
    struct config_error *err)
{
	if (file == NULL)
		file = "<string>";
	error_init(err, file);
	return config_parse(json, strlen(json), file, err);
}

char *
config_error_format(const struct config_error *err, char *buf,
    size_t bufsize)
{
	if (bufsize == 0)
		return buf;
	if (err->line > 0)
		(void)snprintf(buf, bufsize, "%s:%d:%d: %s", err->file,
		    err->line, err->column, err->text);
	else if (err->file[0] != '\0')
		(void)snprintf(buf, bufsize, "%s: %s", err->file, err->text);
	else
		(void)snprintf(buf, bufsize, "%s", err->text);
	return buf;
}

int
config_bind(struct config *conf, struct config_error *err)
{
	const struct sy_handler *const	*table;
	char				 why[512];
	size_t				 i;

	error_init(err, conf->path);
	if (registry_add(&conf->registry, registry_builtins(), "a built-in",
	    why, sizeof(why)) == -1)
		return fail(err, "built-in handlers: %s", why);
	for (i = 0; i < conf->nplugins; i++) {
		if ((table = plugin_load(conf->plugins[i].fd, why,
		    sizeof(why))) == NULL ||
		    registry_add(&conf->registry, table, conf->plugins[i].path,
		    why, sizeof(why)) == -1)
			return fail(err, "plugins[%zu] (%s): %s", i,
			    conf->plugins[i].path, why);
	}
	for (i = 0; i < conf->nroutes; i++)
		if (bind_route(conf, &conf->routes[i], err) == -1)
			return -1;
	return 0;
}

void
config_free(struct config *conf)
{
	struct config_route	*r;
	size_t			 i;

	if (conf == NULL)
		return;
	for (i = 0; i < conf->nroutes; i++) {
		r = &conf->routes[i];
		if (r->handler != NULL && r->handler->free != NULL &&
		    r->state != NULL)
			r->handler->free(r->state);
		json_decref(r->args);
		free(r->handler_name);
		free(r->path);
	}
	free(conf->routes);
	for (i = 0; i < conf->nplugins; i++) {
		(void)close(conf->plugins[i].fd);
		free(conf->plugins[i].path);
	}
	free(conf->plugins);
	free(conf->trusted);
	registry_clear(&conf->registry);
	listen_cleanup(conf->listen, conf->nlisten);
	free(conf->listen);
	free(conf->access_log);
	free(conf->error_log);
	free(conf->user);
	free(conf->group);
	free(conf->pid_file);
	free(conf->path);
	free(conf);
}

const char *
config_mode_name(enum config_mode mode)
{
	if ((unsigned)mode >= NITEMS(mode_names) - 1)
		return "unknown";
	return mode_names[mode];
}

unsigned
config_method_bit(const char *name)
{
	size_t	 i;

	for (i = 0; method_names[i] != NULL; i++)
		if (strcmp(name, method_names[i]) == 0)
			return 1U << i;
	return 0;
}

char *
config_methods_format(unsigned mask, char *buf, size_t bufsize)
{
	size_t	 i, n = 0;
	int	 r;

	if (bufsize == 0)
		return buf;
	buf[0] = '\0';
	for (i = 0; method_names[i] != NULL && n < bufsize; i++) {
		if ((mask & (1U << i)) == 0)
			continue;
		r = snprintf(buf + n, bufsize - n, "%s%s", n ? ", " : "",
		    method_names[i]);
		if (r < 0)
			break;
		n += (size_t)r;
	}
	return buf;
}

int
config_override(struct config *conf, const struct config_overrides *o,
    struct config_error *err)
{
	struct config_listen	*old = conf->listen;
	size_t			 nold = conf->nlisten, i;

	if (o->workers != 0)
		conf->workers = o->workers;
	if (o->nlisten == 0)
		return 0;
	conf->listen = xcalloc(o->nlisten, sizeof(*conf->listen));
	for (i = 0; i < o->nlisten; i++)
		if (listen_set(conf, i, o->listen[i], "-l", err) == -1) {
			free(conf->listen);
			conf->listen = old;
			conf->nlisten = nold;
			return -1;
		}
	/* -l addresses are plain: what the file said about TLS goes. */
	listen_cleanup(old, nold);
	free(old);
	conf->nlisten = o->nlisten;
	return 0;
}
