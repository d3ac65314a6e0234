/*
 * accesslog.h - one line per request.
 *
 * access_log_format "combined": the combined log format, then the
 * request time in seconds, the way the request ran (loop, pool or
 * offload), its pool queue wait in seconds, the worker pid and the
 * request id. "json": one JSON object a line with the same fields and
 * the route, named (switchyard.json(5) lists them). Lines are buffered
 * and written by whole lines, at the
 * latest by accesslog_flush(), which the worker calls once a second and at
 * exit. Writes never block the loop: when the log's reader (a pipe,
 * journald) stalls, lines wait in a bounded buffer for an EV_WRITE event,
 * and the ones that do not fit are dropped, counted in the slot's
 * accesslog_dropped and told in the error log once writing works again.
 * Loop thread only.
 */
#ifndef ACCESSLOG_H
#define ACCESSLOG_H

#include <stddef.h>
#include <time.h>

#include "config.h"

struct event_base;
struct http_req;
struct stats_slot;

struct accesslog;

struct accesslog_entry {
	const char		*peer;		/* client address text */
	const struct http_req	*http;		/* NULL fields print "-" */
	int			 status;
	size_t			 body_bytes;	/* sent, without the head */
	double			 duration_s;	/* first byte to response */
	const char		*mode;		/* "loop", "pool", "offload" */
	double			 queue_wait_s;
	time_t			 now;
	const char		*request_id;	/* NULL: "-", null */
	const char		*route;		/* its path; NULL: none */
};

/*
 * Open path ("stderr" or a file) for lines in format. Before a privilege
 * drop: stderr may be reopened (/proc/self/fd/2) for a description of the
 * worker's own. base (NULL: none) runs the event that resumes writing
 * when a stalled reader takes data again; without it, the next flush
 * retries. stats (NULL: not counted) gets the dropped lines. NULL with
 * errno on failure.
 */
struct accesslog	*accesslog_open(struct event_base *base,
			    const char *path, enum config_access_format format,
			    struct stats_slot *stats);

/*
 * Flush, waiting at most a second for a stalled reader (at exit: what
 * still does not fit is dropped and counted), and close. Accepts NULL.
 * The event base, if any, must still exist.
 */
void			 accesslog_free(struct accesslog *log);

void			 accesslog_write(struct accesslog *log,
			    const struct accesslog_entry *e);

/*
 * Write out what is buffered, as far as the reader takes it now; the
 * rest waits for the write event. Never blocks (except on a slow disk):
 * a fast exit that calls it instead of accesslog_free() loses, uncounted,
 * what a stalled reader could not take.
 */
void			 accesslog_flush(struct accesslog *log);

/*
 * Flush, then reopen the file (USR1); lines still waiting for room go to
 * the new one. Nothing to do for stderr. -1 with errno on failure.
 */
int			 accesslog_reopen(struct accesslog *log);

#endif /* ACCESSLOG_H */
