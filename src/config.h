/*
 * config.h - the validated, immutable configuration.
 *
 * config_load() reads one JSON file with jansson, checks every key (type,
 * range, known names) and builds a struct config. Nothing in it points
 * into jansson's tree. A worker keeps the config it was started with for
 * its whole life; a reload builds a new one and never edits the old.
 */
#ifndef CONFIG_H
#define CONFIG_H

#include <limits.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <jansson.h>

#include "client.h"
#include "log.h"
#include "registry.h"
#include "stats.h"
#include "switchyard.h"

enum config_mode {
	CONFIG_MODE_NONBLOCKING,	/* handler runs on the loop thread */
	CONFIG_MODE_BLOCKING,		/* handler runs on a pool thread */
	CONFIG_MODE_AUTO		/* loop until caught blocking it */
};

enum config_match {
	CONFIG_MATCH_EXACT,
	CONFIG_MATCH_PREFIX
};

/* Bits of config_route.methods. */
enum config_method {
	CONFIG_METHOD_GET	= 1 << 0,
	CONFIG_METHOD_HEAD	= 1 << 1,
	CONFIG_METHOD_POST	= 1 << 2,
	CONFIG_METHOD_PUT	= 1 << 3,
	CONFIG_METHOD_DELETE	= 1 << 4,
	CONFIG_METHOD_PATCH	= 1 << 5,
	CONFIG_METHOD_OPTIONS	= 1 << 6
};

/* The bit for an HTTP method name ("GET"), or 0 when not routable. */
unsigned	config_method_bit(const char *name);

/*
 * Write the names of the methods in mask, comma-separated in the order
 * above ("GET, HEAD"), into buf. Returns buf.
 */
char		*config_methods_format(unsigned mask, char *buf, size_t bufsize);

struct tls_ctx;

struct config_listen {
	char			 text[128];	/* as written: "127.0.0.1:8080" */
	struct sockaddr_storage	 addr;
	socklen_t		 addrlen;
	int			 proxy_protocol;	/* PROXY header first */
	int			 deferred;	/* TCP_DEFER_ACCEPT */
	/*
	 * "tls": the files, resolved against the config's directory, and
	 * the context built from them at load (tls.c). NULL: plain HTTP.
	 * The config owns them: a copy of this struct (the master's
	 * sockets) must not use them past config_free().
	 */
	char			*tls_certificate;
	char			*tls_key;
	struct tls_ctx		*tls;
};

/* A plugin file, pinned open at load (plugin.c). */
struct config_plugin {
	char	*path;		/* resolved against the config's directory */
	int	 fd;
};

struct config_route {
	char			*path;		/* starts with '/' */
	size_t			 path_len;
	enum config_match	 match;
	unsigned		 methods;	/* CONFIG_METHOD_* bits */
	enum config_mode	 mode;
	int			 compress;	/* gzip answers (api.c) */
	char			*handler_name;	/* as the config says */
	json_t			*args;		/* NULL: none */
	const struct sy_handler	*handler;	/* config_bind(); else NULL */
	void			*state;		/* from handler->init() */
	unsigned		 index;		/* position in "routes" */
	unsigned		 stats_index;	/* in stats->routes, 0: none */
};

struct config_timeouts {
	unsigned	header_ms;	/* first byte to end of headers */
	unsigned	body_ms;	/* end of headers to end of body */
	unsigned	keepalive_ms;	/* idle between requests */
	unsigned	send_ms;	/* response write stalls this long */
	unsigned	handler_ms;	/* blocking handler deadline (504) */
	unsigned	shutdown_ms;	/* graceful drain before a kill */
	unsigned	drain_delay_ms;	/* TERM: health 503, still serving */
};

struct config_limits {
	unsigned	max_connections;	/* per worker */
	unsigned	header_bytes;	/* request line + headers */
	unsigned	uri_bytes;	/* request target */
	unsigned	headers;	/* header count */
	size_t		body_bytes;	/* request body, de-chunked */
};

/* access_log_format. */
enum config_access_format {
	CONFIG_ACCESS_COMBINED,		/* combined log format + fields */
	CONFIG_ACCESS_JSON		/* one JSON object a line */
};

struct config {
	char			*path;		/* the file it came from */
	struct config_listen	*listen;
	size_t			 nlisten;
	unsigned		 workers;	/* resolved: "auto" = CPUs */
	unsigned		 threads;	/* pool threads per worker */
	unsigned		 queue_limit;	/* pool queue per worker */
	unsigned		 loop_block_warn_ms;
	unsigned		 worker_timeout_ms;	/* 0 = no watchdog */
	struct config_timeouts	 timeouts;
	struct config_limits	 limits;
	char			*access_log;	/* path, "stderr" or NULL (off) */
	enum config_access_format access_log_format;
	char			*error_log;	/* path or "stderr" */
	enum log_level		 log_level;
	char			*user;		/* NULL: keep the master's */
	char			*group;
	uid_t			 uid;		/* of user, when set */
	gid_t			 gid;		/* of group, else user's */
	char			*pid_file;	/* NULL: none */
	struct config_plugin	*plugins;
	size_t			 nplugins;
	struct client_cidr	*trusted;	/* trusted_proxies */
	size_t			 ntrusted;
	struct config_route	*routes;
	size_t			 nroutes;
	struct registry		 registry;	/* config_bind() fills it */
};

/*
 * Where and why loading failed. line and column are 0 when the error is
 * not a JSON syntax error; text then names the route and the key.
 */
struct config_error {
	char	file[PATH_MAX];
	int	line;
	int	column;
	char	text[512];
};

/*
 * Load and validate path. Returns a new config, or NULL with err filled.
 * Pins the plugin files but loads none: no handler code runs, so the
 * master can load a config (see config_bind()). Main thread only.
 */
struct config	*config_load(const char *path, struct config_error *err);

/* Same, from a string; file names the source in errors. For tests. */
struct config	*config_load_string(const char *json, const char *file,
		    struct config_error *err);

/* "FILE:LINE:COLUMN: text" or "FILE: text", into buf. Returns buf. */
char		*config_error_format(const struct config_error *err, char *buf,
		    size_t bufsize);

/* Command-line settings that win over the file's, on every (re)load. */
struct config_overrides {
	unsigned	  workers;	/* 0: the file's */
	char		**listen;	/* -l values; nlisten 0: the file's */
	size_t		  nlisten;
};

/*
 * Apply o to a config just loaded, before anything uses it. On error
 * (a bad -l address) conf is unchanged and err says why.
 */
int		 config_override(struct config *conf,
		    const struct config_overrides *o, struct config_error *err);

/*
 * Load conf's plugins, register them after the built-ins, and give every
 * route its handler and state (handler init()). Errors name the plugin
 * or the route, with err->file the config's path. On failure, what was
 * built is freed by config_free(). Once per config, in the process that
 * will run its handlers (a worker, the checking child, -t), never in the
 * master (plugin.c).
 */
int		 config_bind(struct config *conf, struct config_error *err);

/* Free a config and its handler states. Accepts NULL. */
void		 config_free(struct config *conf);

#define CONFIG_WORKERS_MAX	STATS_SLOTS

/* What "workers": "auto" means: online CPUs, 1..CONFIG_WORKERS_MAX. */
unsigned	 config_workers_auto(void);

/* "blocking", "nonblocking" or "auto". */
const char	*config_mode_name(enum config_mode mode);

#endif /* CONFIG_H */
