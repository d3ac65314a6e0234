/*
 * switchyard.h - the handler interface of switchyard.
 *
 * A handler is a named piece of C that answers requests for the routes that
 * name it in the config. Built-in handlers (src/handlers/) use only this
 * header, so whatever they can do a plugin can do too. A plugin is a
 * shared object named in the config's "plugins" that exports the table
 * sy_plugin_handlers (see SY_PLUGIN below); switchyard-handler(3) is the
 * manual.
 *
 * Life of a handler:
 *   1. At config load, init() validates the route's "args" object and
 *      builds a per-route state. It runs in a short-lived checking process
 *      (at start, with -t, on every reload) and again in every worker,
 *      after the privilege drop and before the pool threads start, so it
 *      must be repeatable. Errors name the key; the server adds the file
 *      and the route.
 *   2. In a worker, handle() is called once per request, either on the
 *      worker's event loop (route mode "nonblocking") or on a pool thread
 *      (mode "blocking"). A handler that needs the loop (timers, offload)
 *      sets SY_HANDLER_LOOP_ONLY; the config then refuses it on a blocking
 *      or auto route.
 *   3. handle() fills the response through sy_resp_*() and returns SY_DONE,
 *      or, on the loop only, returns SY_PENDING and later calls
 *      sy_req_finish() from a loop callback (a timer, an I/O event).
 *
 * Threads: every sy_* function may be called from the thread running
 * handle() for that request. sy_req_base(), sy_req_finish(),
 * sy_req_on_abort() and sy_offload() are loop-only.
 */
#ifndef SWITCHYARD_H
#define SWITCHYARD_H

#include <stddef.h>
#include <sys/types.h>

#include <jansson.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SY_ABI_VERSION	1

struct event_base;

/* One request and its response; owned by the server. */
struct sy_req;

/* What handle() returns. Negative means failure, as everywhere. */
enum sy_result {
	SY_ERROR = -1,		/* the server answers 500 */
	SY_DONE = 0,		/* the response is complete */
	SY_PENDING = 1		/* loop only: sy_req_finish() will follow */
};

/* Handler flags. */
#define SY_HANDLER_LOOP_ONLY	0x1	/* must run on the loop thread */

struct sy_handler {
	unsigned	 abi;		/* SY_ABI_VERSION */
	const char	*name;		/* the config's "handler" value */
	unsigned	 flags;		/* SY_HANDLER_* */

	/*
	 * Validate args (NULL when the route has none) and build the
	 * per-route state in *state (may stay NULL). On error return -1 and
	 * write "key: what is wrong" into err. Runs once per route in the
	 * checking process and in every worker (see above), never in the
	 * master; must not start threads. May be NULL when the handler takes
	 * no args; args are then refused.
	 */
	int		(*init)(const json_t *args, void **state, char *err,
			    size_t errlen);

	/* Free what init() built. May be NULL. */
	void		(*free)(void *state);

	/*
	 * Answer one request. state is what init() built for this route.
	 * Returns an enum sy_result.
	 */
	int		(*handle)(struct sy_req *req, void *state);
};

/*
 * What a plugin exports: its handlers, NULL-terminated. The server loads
 * the table with dlsym(3) and refuses a plugin without one, an empty one,
 * or a handler whose abi is not SY_ABI_VERSION or whose name is invalid
 * or taken. SY_PLUGIN(&a, &b) defines it.
 */
extern const struct sy_handler *const sy_plugin_handlers[];

#define SY_PLUGIN(...)							\
	__attribute__((visibility("default")))				\
	const struct sy_handler *const sy_plugin_handlers[] =		\
	    { __VA_ARGS__, NULL }

/* -- Arguments (for init()) --------------------------------------------- */

/*
 * Check the keys of args (NULL: none): each of required (a NULL-ended
 * list, may be NULL) must be there, "KEY: required" otherwise; then any
 * key not in known (NULL-ended) is refused with "KEY: unknown key (known:
 * a, b)". Values are checked by the caller. Returns 0 or -1 with err set.
 */
int		 sy_args_keys(const json_t *args, const char *const *known,
		    const char *const *required, char *err, size_t errlen);

/*
 * args[key] as an integer in min..max into *value. Returns 1 when set, 0
 * when absent (*value untouched; with required, -1 and "KEY: required"),
 * -1 with "KEY: must be an integer, not a string" or "KEY: N is out of
 * range MIN..MAX" in err.
 */
int		 sy_args_uint(const json_t *args, const char *key, int required,
		    unsigned long min, unsigned long max, unsigned long *value,
		    char *err, size_t errlen);

/*
 * args[key] as a non-empty string into *value (borrowed from args), or a
 * boolean into *value; returns as sy_args_uint() does, the errors being
 * "KEY: must be a string, not an integer", "KEY: must not be empty" and
 * "KEY: must be a boolean, not a string".
 */
int		 sy_args_string(const json_t *args, const char *key,
		    int required, const char **value, char *err,
		    size_t errlen);
int		 sy_args_bool(const json_t *args, const char *key, int required,
		    int *value, char *err, size_t errlen);

/* -- Request ----------------------------------------------------------- */

/* "GET", "POST", ... */
const char	*sy_req_method(const struct sy_req *req);

/* The path of the request target, without the query, as sent. */
const char	*sy_req_path(const struct sy_req *req);

/* The raw query string without '?', or NULL when there is none. */
const char	*sy_req_query_string(const struct sy_req *req);

/*
 * Look up query parameter name. On success the value, decoded by
 * sy_url_decode() with SY_URL_PLUS, is written NUL-terminated into buf
 * and its length returned; -1 when the parameter is absent, -2 when its
 * value has a malformed escape or does not fit in bufsize.
 */
ssize_t		 sy_req_query(const struct sy_req *req, const char *name,
		    char *buf, size_t bufsize);

/*
 * Query parameter name as a decimal integer in min..max, into *value.
 * Returns 1 when found and valid, 0 when absent (*value untouched), -1
 * when present but not such an integer (answer 400).
 */
int		 sy_req_query_uint(const struct sy_req *req, const char *name,
		    unsigned long min, unsigned long max, unsigned long *value);

/* The first header called name (case-insensitive), or NULL. */
const char	*sy_req_header(const struct sy_req *req, const char *name);

/*
 * Does the request's Accept-Encoding accept the content coding coding
 * ("gzip")? 1 when its q-value (its own, or that of "*") is above 0 and
 * not below an explicit "identity" one, else 0, also without the header.
 * For a handler that has the coded form ready, as static has FILE.gz.
 */
int		 sy_req_accepts_encoding(const struct sy_req *req,
		    const char *coding);

/* The request body (complete, already de-chunked); *len may be 0. */
const void	*sy_req_body(const struct sy_req *req, size_t *len);

/*
 * The client's address as text, "192.0.2.7" or "2001:db8::1" ("unix:"
 * on a unix socket): the peer's, or the one a PROXY protocol header
 * carried, or, from a peer in trusted_proxies, the one X-Forwarded-For
 * (or Forwarded) names. The access log's first field. Valid until the
 * request finishes.
 */
const char	*sy_req_client(const struct sy_req *req);

/* The configured path of the route that matched, e.g. "/static/". */
const char	*sy_req_route(const struct sy_req *req);

/*
 * The request's id, which the response's X-Request-Id carries and the
 * server's logs show: the client's own X-Request-Id when it sent a valid
 * one (1 to 128 visible ASCII characters), else one the server made (26
 * characters, unique across workers and restarts). Never NULL; valid
 * until the request is finished. For a call to an upstream service, to
 * follow the request across tiers.
 */
const char	*sy_req_id(const struct sy_req *req);

/*
 * Loop only: the worker's event base, for timers and other events that
 * finish a SY_PENDING request.
 */
struct event_base *sy_req_base(const struct sy_req *req);

/*
 * Nonzero when the answer is no longer wanted: the client has gone away
 * (a reset, a failed write), or the handler's deadline passed and a 504
 * went out instead. A pending handler still calls sy_req_finish(); the
 * server then drops the response. A client that only half-closed (sent
 * its request, then FIN) is still waiting: not an abort.
 */
int		 sy_req_aborted(const struct sy_req *req);

/* Runs on the loop thread when a pending request is aborted. */
typedef void	(*sy_abort_fn)(struct sy_req *req, void *arg);

/*
 * Loop only, from a handler about to return SY_PENDING (or later, while
 * the request is pending): call cb(req, arg) once, on the loop, if the
 * request is aborted before it finishes, so that a long wait can end at
 * once and give back what it holds. cb typically cancels its timer or
 * I/O and calls sy_req_finish() (the server drops the answer); it may
 * also finish later. While work() is offloaded (sy_offload()), cb is not
 * called: done() comes all the same, with sy_req_aborted() true, and is
 * where the handler finishes. A second call replaces the first;
 * finishing clears it.
 */
void		 sy_req_on_abort(struct sy_req *req, sy_abort_fn cb, void *arg);

/* -- Response ---------------------------------------------------------- */

/* Set the status code (default 200). */
void		 sy_resp_status(struct sy_req *req, int status);

/*
 * Add a response header. The server writes Date, Server, Content-Length,
 * Transfer-Encoding, Connection and X-Request-Id itself, and Content-Type
 * comes from sy_resp_content_type(): these names are refused. Returns -1
 * when the name is not an HTTP token, the value holds a control character
 * other than tab, or the headers would be too long.
 */
int		 sy_resp_header(struct sy_req *req, const char *name,
		    const char *value);

/* Set the Content-Type header. */
void		 sy_resp_content_type(struct sy_req *req, const char *type);

/* Append to the body (copied). Returns 0 or -1 when out of memory. */
int		 sy_resp_body(struct sy_req *req, const void *data, size_t len);

/* Append data that stays valid for the life of the process (not copied). */
int		 sy_resp_body_static(struct sy_req *req, const void *data,
		    size_t len);

/* Append printf-formatted text to the body. */
int		 sy_resp_printf(struct sy_req *req, const char *fmt, ...)
		    __attribute__((format(printf, 2, 3)));

/*
 * Answer with status and json encoded compactly, Content-Type
 * application/json. Takes the reference to json. Returns -1 when it
 * cannot be encoded.
 */
int		 sy_resp_json(struct sy_req *req, int status, json_t *json);

/*
 * Answer with status and the body {"detail": message}, the shape FastAPI
 * uses for errors.
 */
int		 sy_resp_error(struct sy_req *req, int status,
		    const char *message);

/*
 * Append length bytes of the open file fd from offset to the body. The
 * server sends them with sendfile(2) where it can, and takes ownership of
 * fd (closed when sent, or on failure). Returns 0 or -1.
 */
int		 sy_resp_file(struct sy_req *req, int fd, off_t offset,
		    off_t length);

/*
 * Loop only: complete a request for which handle() returned SY_PENDING.
 * The server writes the response; req must not be used afterwards.
 */
void		 sy_req_finish(struct sy_req *req);

/* -- Text -------------------------------------------------------------- */

/* sy_url_decode() flags. */
#define SY_URL_PLUS	0x1	/* '+' is a space: a query, a form body */
#define SY_URL_NONUL	0x2	/* refuse "%00": a path, a C string */

/*
 * Percent-decode src[0..len) (RFC 3986 2.1) into dst, NUL-terminated.
 * Returns the decoded length, or -1 on a malformed escape (a '%' not
 * followed by two hex digits), on "%00" with SY_URL_NONUL, or when the
 * result and its NUL do not fit in dstsize. Without SY_URL_PLUS a '+'
 * stays itself, as it must in a path. The request's server uses it for
 * sy_req_query() (with SY_URL_PLUS) and the static handler's paths (with
 * SY_URL_NONUL).
 */
ssize_t		 sy_url_decode(const char *src, size_t len, char *dst,
		    size_t dstsize, int flags);

#define SY_HTTP_DATE_LEN	29	/* "Sun, 06 Nov 1994 08:49:37 GMT" */

/*
 * Write t as an IMF-fixdate (RFC 9110 5.6.7), English names whatever the
 * locale, NUL-terminated, into buf: SY_HTTP_DATE_LEN + 1 bytes suffice
 * for years 1000 to 9999. Returns the length written, or 0 (buf empty
 * when bufsize > 0) when it does not fit. For Last-Modified, Expires.
 */
size_t		 sy_http_date(time_t t, char *buf, size_t bufsize);

/* -- Offload (run_in_threadpool) ---------------------------------------- */

/* Runs on a pool thread: must touch only what arg points to. */
typedef void	(*sy_offload_fn)(void *arg);

/* Runs on the loop thread once work is over. */
typedef void	(*sy_offload_done_fn)(struct sy_req *req, void *arg);

/*
 * Loop only, from a non-blocking handler: run work(arg) on one of the
 * worker's pool threads, then done(req, arg) back on the loop, which
 * finishes the request with sy_req_finish(). The handler returns
 * SY_PENDING after a successful call. Starlette's run_in_threadpool,
 * asyncio's run_in_executor.
 *
 * done() is always called exactly once. When sy_req_aborted(req) is true
 * there, the client has left (work() ran all the same) or the worker is
 * stopping (work() may not have run): release arg and call
 * sy_req_finish() all the same.
 *
 * Returns 0, or -1 when the pool's queue is full (answer 503) or the
 * worker is stopping; done() is then not called.
 */
int		 sy_offload(struct sy_req *req, sy_offload_fn work,
		    sy_offload_done_fn done, void *arg);

#ifdef __cplusplus
}
#endif

#endif /* SWITCHYARD_H */
