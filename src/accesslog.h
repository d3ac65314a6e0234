/*
 * accesslog.h - one line per request.
 *
 * Combined log format, then the request time in seconds, the way the
 * request ran (loop, pool or offload), its pool queue wait in seconds and
 * the worker pid. Lines are buffered and written by whole lines, at the
 * latest by accesslog_flush(), which the worker calls once a second and at
 * exit. Loop thread only.
 */
#ifndef ACCESSLOG_H
#define ACCESSLOG_H

#include <stddef.h>
#include <time.h>

struct http_req;

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
};

/* Open path ("stderr" or a file). NULL with errno on failure. */
struct accesslog	*accesslog_open(const char *path);

/* Flush and close. Accepts NULL. */
void			 accesslog_free(struct accesslog *log);

void			 accesslog_write(struct accesslog *log,
			    const struct accesslog_entry *e);

/* Write out what is buffered. */
void			 accesslog_flush(struct accesslog *log);

/* Flush, then reopen the file (USR1). -1 with errno on failure. */
int			 accesslog_reopen(struct accesslog *log);

#endif /* ACCESSLOG_H */
