/*
 * api.h - the server side of include/switchyard.h.
 *
 * struct sy_req is what a handler sees: the parsed request (owned by the
 * connection) and the response being built. The connection embeds one and
 * reuses it for each request; api.c knows nothing of connections and
 * reaches back through done_cb when a pending request finishes.
 */
#ifndef API_H
#define API_H

#include <stdatomic.h>
#include <stddef.h>

#include "switchyard.h"
#include "config.h"
#include "http.h"
#include "pool.h"
#include "reqid.h"
#include "stats.h"

struct evbuffer;

#define API_HEADERS_MAX		2048	/* bytes of handler headers */
#define API_CTYPE_MAX		128

typedef void	(*api_done_cb)(struct sy_req *req, void *arg);

/* A file segment in a response body. */
struct api_file {
	size_t	 at;		/* where its first byte is in the body */
	off_t	 offset;	/* in the file */
	off_t	 length;
	int	 fd;		/* open while the segment is buffered */
};

struct sy_req {
	const struct http_req		*http;	/* the request, read-only */
	const struct config_route	*route;
	struct event_base		*base;
	const char			*client;	/* the connection's, text */

	int		 status;		/* default 200 */
	char		 content_type[API_CTYPE_MAX];	/* "" when unset */
	char		*headers;	/* "Name: v\r\n"..., API_HEADERS_MAX
					   bytes from the first one to the
					   answer; else NULL */
	size_t		 headers_len;
	struct evbuffer	*body;		/* empty while body_ref is set */
	/*
	 * A body that is one sy_resp_body_static() alone (most fixed
	 * answers) stays a reference here, without a libevent chain: the
	 * connection writes it from where it is. Whatever else is appended
	 * moves it into body first (api_resp_body()), so bytes keep their
	 * order.
	 */
	const void	*body_ref;	/* NULL: the body is all in body */
	size_t		 body_ref_len;
	struct evbuffer	*coded;		/* api_resp_encode()'s output; empty
					   between calls */
	/*
	 * The file segments sy_resp_file() put in body, in order. Over TLS
	 * the connection must read them itself (libevent keeps them for
	 * sendfile(2), and only it can see them in the buffer).
	 */
	struct api_file	*files;
	size_t		 nfiles;
	size_t		 files_size;	/* allocated */

	unsigned	 pending:1;	/* handle() returned SY_PENDING */
	unsigned	 offloading:1;	/* sy_offload() work not yet done */
	atomic_int	 aborted;	/* the client is gone; any thread reads */
	sy_abort_fn	 abort_cb;	/* sy_req_on_abort(), loop thread */
	void		*abort_arg;

	/* Running in the pool: the job, and how it went. */
	struct pool	*pool;		/* the worker's */
	struct stats_slot *stats_slot;	/* NULL: not counted */
	struct stats_cell *stats_cell;	/* NULL: running calls not tracked */
	struct pool_job	 job;
	int		 result;	/* handle()'s return, pool thread */
	enum stats_mode	 mode;		/* how it ran */
	sy_offload_fn	 offload_work;	/* sy_offload() in progress */
	sy_offload_done_fn offload_done;
	void		*offload_arg;

	api_done_cb	 done_cb;	/* sy_req_finish() and pool jobs */
	void		*done_arg;

	/*
	 * sy_req_id(). The connection sets it once per request and clears
	 * it once the answer is written; api_req_start() leaves it alone,
	 * so a 504 for a job taken back keeps the id its warning named.
	 */
	char		 id[REQID_MAX + 1];	/* "": not chosen yet */
};

/*
 * Prepare req for a connection on base, offloading to pool. done_cb runs
 * when a pending request calls sy_req_finish(). Returns -1 when out of
 * memory.
 */
int	api_req_init(struct sy_req *req, struct event_base *base,
	    struct pool *pool, api_done_cb done_cb, void *done_arg);

/* Free what api_req_init() allocated. */
void	api_req_cleanup(struct sy_req *req);

/*
 * Start a response to http for route: status 200, no headers, empty body.
 */
void	api_req_start(struct sy_req *req, const struct http_req *http,
	    const struct config_route *route);

/*
 * The answer to req is written: what only it needed is freed, so that an
 * idle connection holds no response buffers.
 */
void	api_req_answered(struct sy_req *req);

/*
 * Loop thread: the answer to req is no longer wanted. Marks it aborted
 * and, while a loop handler holds it, runs its sy_req_on_abort()
 * callback, once, last: that may finish req (done_cb) at once.
 */
void	api_req_abort(struct sy_req *req);

/* The length of req's response body, so far. */
size_t	api_resp_body_len(const struct sy_req *req);

/*
 * req's response body, all of it in req->body (a reference moved in), for
 * whoever needs it as an evbuffer: NULL when out of memory (the body is
 * then as it was). The thread that holds req.
 */
struct evbuffer	*api_resp_body(struct sy_req *req);

/*
 * The response is complete: apply the route's content coding. On a
 * "compress" route every answer gets "Vary: Accept-Encoding", and one
 * worth it is gzipped in place (compress.c): the client accepts gzip,
 * the body is at least COMPRESS_MIN_BYTES in
 * memory (not a file), its type compressible, no Content-Encoding set,
 * not a HEAD, 204, 206 or 304. Runs on the thread that ran the handler
 * (a pool thread for a blocking route), once per response, before the
 * loop writes it.
 */
void	api_resp_encode(struct sy_req *req);

/*
 * Several pieces of one file in one response (multipart/byteranges):
 * api_file_share() makes fd, owned from then on, one segment over the
 * whole file (NULL, fd closed, on failure); api_resp_file_piece() appends
 * offset..offset+length of it to req's body, as sy_resp_file() does;
 * api_file_unshare() drops the caller's reference (the body holds its
 * own). However many pieces, the response holds one descriptor.
 */
struct evbuffer_file_segment	*api_file_share(int fd);
int	api_resp_file_piece(struct sy_req *req,
	    struct evbuffer_file_segment *seg, int fd, off_t offset,
	    off_t length);
void	api_file_unshare(struct evbuffer_file_segment *seg);

/* The request whose embedded job is job (pool callbacks). */
struct sy_req	*api_req_of_job(struct pool_job *job);

#endif /* API_H */
