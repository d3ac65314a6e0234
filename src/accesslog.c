/*
 * accesslog.c - the access log, buffered by whole lines, never blocking.
 *
 * A write(2) per request would cost more than answering /hello, so lines
 * collect in a buffer flushed when nearly full, once a second and at exit.
 * Each flush writes only whole lines, and with O_APPEND the workers'
 * flushes never interleave inside a line.
 *
 * Design note: the loop must never wait for the log's reader. With the
 * shipped "stderr", the reader is journald or whatever holds the other
 * end of a pipe; when it stalls, a blocking write(2) would freeze every
 * connection of the worker until the watchdog kills it. So every write is
 * non-blocking, what does not fit waits in the buffer (bounded: past it,
 * new lines are dropped and counted), and an EV_WRITE event resumes the
 * flush when the reader takes data again. The count goes to the error log
 * ("dropped N access log lines", at most once a second, once a write has
 * gone through again) and to switchyard_access_log_dropped_total.
 *
 * How a write is made non-blocking depends on what the log is
 * (open_out):
 *
 *   a file      write(2) as before: O_NONBLOCK means nothing to a regular
 *               file (a slow disk still blocks: only a thread would help).
 *   our own     a path the worker opened itself, or stderr reopened
 *   stream      through /proc/self/fd/2 when it is a pipe, FIFO or tty:
 *               a new open file description, so O_NONBLOCK on it is ours
 *               alone. Setting O_NONBLOCK on fd 2 itself would change the
 *               description the master, the other workers and whatever
 *               started us share: their blocking writes would start to
 *               fail with EAGAIN.
 *   a socket    stderr as journald's stream socket, which cannot be
 *               reopened: send(2) with MSG_DONTWAIT, non-blocking for this
 *               call only, leaves the shared description alone.
 *   polled      stderr a pipe we could not reopen (no /proc): poll(2)
 *               for room before each write of at most PIPE_BUF bytes. One
 *               free page of a Linux pipe takes such a write whole, but
 *               another process may fill it first: best effort.
 *
 * Except into a file, writes are whole lines of at most PIPE_BUF bytes:
 * a pipe takes those whole or not at all (EAGAIN), so lines of several
 * processes sharing one pipe or journald stream never interleave.
 *
 * The JSON format is written here, not built with jansson: a json_t per
 * request would be a dozen allocations on the request path, and jansson
 * refuses strings that are not UTF-8, which a client's target or
 * User-Agent need not be. json_escape() makes any bytes a valid JSON
 * string: UTF-8 as sent, every other byte \u00XX (see there). Each
 * field has a bounded buffer whose sizes add up to less than a line, so
 * a JSON line is never cut (a cut one would not parse).
 */
#include "autoconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "clock.h"
#include "accesslog.h"
#include "http.h"
#include "log.h"
#include "reqid.h"
#include "stats.h"
#include "xmalloc.h"

#define ACCESSLOG_BUF		65536
#define ACCESSLOG_LINE		4096	/* a longer line is cut; <= PIPE_BUF */
#define ACCESSLOG_NOTICE_MS	1000	/* one "dropped" line a second */
#define ACCESSLOG_EXIT_MS	1000	/* at exit, wait this long for room */
#define ACCESSLOG_TARGET	1024	/* a field's text, escaped, at most */
#define ACCESSLOG_HEADER	512	/* referer, user agent, route */
#define ACCESSLOG_CLIENT	(64 * 6 + 3)	/* conn.c's peer[64], escaped */
#define ACCESSLOG_ID		(REQID_MAX * 4 + 3)

enum accesslog_out {
	ACCESSLOG_OUT_FILE,		/* write(2) whole buffers */
	ACCESSLOG_OUT_STREAM,		/* our O_NONBLOCK description */
	ACCESSLOG_OUT_SOCKET,		/* shared: send(MSG_DONTWAIT) */
	ACCESSLOG_OUT_POLLED		/* shared: poll(2), then write(2) */
};

struct accesslog {
	int			 fd;
	int			 own_fd;	/* fd is ours to close */
	enum accesslog_out	 out;
	char			*path;		/* NULL: stderr */
	struct event_base	*base;		/* NULL: no write event */
	struct event		*wev;		/* EV_WRITE: room again */
	int			 stalled;	/* wev is added */
	_Atomic uint64_t	*dropped_total;	/* stats, or NULL */
	uint64_t		 dropped;	/* lines not yet told of */
	uint64_t		 notice_ms;	/* the last "dropped" line */
	char			 buf[ACCESSLOG_BUF];
	size_t			 len;
	time_t			 stamp_time;	/* second that stamp shows */
	char			 stamp[40];	/* "22/Nov/2026:10:00:00 +0000",
					   json: "2026-11-22T10:00:00+00:00" */
	long			 pid;
	enum config_access_format format;
};

static void	accesslog_writable_cb(evutil_socket_t, short, void *);

static int
open_file(const char *path)
{
	return open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
}

/*
 * Set log->fd and log->out for path (NULL: stderr); see the design note.
 * -1 with errno when the file cannot be opened.
 */
static int
open_out(struct accesslog *log, const char *path)
{
	struct stat	 st;
	int		 fd, fl;

	if (path != NULL) {
		if ((fd = open_file(path)) == -1)
			return -1;
		log->fd = fd;
		log->own_fd = 1;
		log->out = ACCESSLOG_OUT_FILE;
		/* A FIFO or a device: the description is ours. */
		if (fstat(fd, &st) == 0 && !S_ISREG(st.st_mode) &&
		    (fl = fcntl(fd, F_GETFL)) != -1 &&
		    fcntl(fd, F_SETFL, fl | O_NONBLOCK) == 0)
			log->out = ACCESSLOG_OUT_STREAM;
		return 0;
	}
	log->fd = STDERR_FILENO;
	log->own_fd = 0;
	log->out = ACCESSLOG_OUT_FILE;
	if (fstat(STDERR_FILENO, &st) == -1 || S_ISREG(st.st_mode))
		return 0;	/* no stderr: writes fail, lines are counted */
	if (S_ISSOCK(st.st_mode)) {
		log->out = ACCESSLOG_OUT_SOCKET;
		return 0;
	}
	if (!S_ISFIFO(st.st_mode) && !S_ISCHR(st.st_mode))
		return 0;
	/*
	 * Opening the pipe, FIFO or terminal anew makes a description of
	 * our own. Before the privilege drop: a pipe's inode is its
	 * creator's, mode 0600. A FIFO without a reader refuses (ENXIO);
	 * so does a system without /proc.
	 */
	fd = open("/proc/self/fd/2", O_WRONLY | O_NONBLOCK | O_NOCTTY |
	    O_CLOEXEC);
	if (fd == -1) {
		log->out = ACCESSLOG_OUT_POLLED;
		return 0;
	}
	log->fd = fd;
	log->own_fd = 1;
	log->out = ACCESSLOG_OUT_STREAM;
	return 0;
}

/* A write event for log->fd, when the loop can wait for one. */
static void
write_event_new(struct accesslog *log)
{
	log->wev = NULL;
	log->stalled = 0;
	if (log->base != NULL && log->out != ACCESSLOG_OUT_FILE)
		log->wev = event_new(log->base, log->fd, EV_WRITE,
		    accesslog_writable_cb, log);
}

static void
write_event_free(struct accesslog *log)
{
	if (log->wev != NULL)
		event_free(log->wev);
	log->wev = NULL;
	log->stalled = 0;
}

struct accesslog *
accesslog_open(struct event_base *base, const char *path,
    enum config_access_format format, struct stats_slot *stats)
{
	struct accesslog	*log;
	int			 is_stderr = strcmp(path, "stderr") == 0;

	log = xcalloc(1, sizeof(*log));
	if (open_out(log, is_stderr ? NULL : path) == -1) {
		free(log);
		return NULL;
	}
	log->path = is_stderr ? NULL : xstrdup(path);
	log->base = base;
	log->dropped_total = stats != NULL ? &stats->accesslog_dropped : NULL;
	log->stamp_time = (time_t)-1;
	log->pid = (long)getpid();
	log->format = format;
	write_event_new(log);
	return log;
}

/* Lines in n bytes at p. */
static uint64_t
count_lines(const char *p, size_t n)
{
	uint64_t	 lines = 0;
	const char	*nl;

	while (n > 0 && (nl = memchr(p, '\n', n)) != NULL) {
		lines++;
		n -= (size_t)(nl + 1 - p);
		p = nl + 1;
	}
	return lines;
}

static void
drop_lines(struct accesslog *log, uint64_t lines)
{
	log->dropped += lines;
	if (log->dropped_total != NULL)
		atomic_fetch_add_explicit(log->dropped_total, lines,
		    memory_order_relaxed);
}

/*
 * Tell the error log what was dropped, once a second at most (unless
 * force), and only while the log's stream has room: with both logs on
 * one stalled stderr, the error log's blocking write would hang the loop
 * on that very stream. A free page of a pipe takes the line whole.
 */
static void
tell_dropped(struct accesslog *log, int force)
{
	struct pollfd	 pfd = { .fd = log->fd, .events = POLLOUT };
	uint64_t	 now;

	if (log->dropped == 0)
		return;
	now = clock_ms();
	if (!force && log->notice_ms != 0 &&
	    now - log->notice_ms < ACCESSLOG_NOTICE_MS)
		return;
	if (log->out != ACCESSLOG_OUT_FILE &&
	    (poll(&pfd, 1, 0) != 1 || !(pfd.revents & POLLOUT)))
		return;			/* the next flush tries again */
	log_warnx("dropped %llu access log lines: %s was not writable",
	    (unsigned long long)log->dropped,
	    log->path != NULL ? log->path : "stderr");
	log->dropped = 0;
	log->notice_ms = now;
}

/* One non-blocking write of n bytes at p: as write(2). */
static ssize_t
write_some(struct accesslog *log, const char *p, size_t n)
{
	struct pollfd	 pfd;

	switch (log->out) {
	case ACCESSLOG_OUT_SOCKET:
		return send(log->fd, p, n, MSG_DONTWAIT | MSG_NOSIGNAL);
	case ACCESSLOG_OUT_POLLED:
		pfd.fd = log->fd;
		pfd.events = POLLOUT;
		if (poll(&pfd, 1, 0) == 0) {
			errno = EAGAIN;
			return -1;
		}
		break;
	default:
		break;
	}
	return write(log->fd, p, n);
}

/*
 * How much of the n bytes at p the next write takes: everything into a
 * file, else the whole lines that fit in PIPE_BUF.
 */
static size_t
chunk_len(const struct accesslog *log, const char *p, size_t n)
{
	const char	*nl;

	if (log->out == ACCESSLOG_OUT_FILE || n <= PIPE_BUF)
		return n;
	if ((nl = memrchr(p, '\n', PIPE_BUF)) == NULL)
		return PIPE_BUF;	/* cannot happen: lines fit */
	return (size_t)(nl + 1 - p);
}

/*
 * Write what the buffer holds, without waiting. Returns 0 when it is
 * empty, 1 when the rest waits for room (EAGAIN). On another error (a
 * full disk, a reader gone: EPIPE) the rest is dropped and counted: it
 * loses lines, never requests.
 */
static int
write_buffer(struct accesslog *log)
{
	size_t	 off = 0, n;
	ssize_t	 w;
	int	 rc = 0, wrote = 0;

	while (off < log->len) {
		n = chunk_len(log, log->buf + off, log->len - off);
		if ((w = write_some(log, log->buf + off, n)) == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				rc = 1;
				break;
			}
		}
		if (w <= 0) {
			drop_lines(log, count_lines(log->buf + off,
			    log->len - off));
			off = log->len;
			break;
		}
		off += (size_t)w;
		wrote = 1;
	}
	/* A short write may leave part of a line: the rest goes next. */
	memmove(log->buf, log->buf + off, log->len - off);
	log->len -= off;
	if (wrote)
		tell_dropped(log, 0);
	return rc;
}

void
accesslog_flush(struct accesslog *log)
{
	if (log->stalled)
		return;			/* the write event will resume */
	if (write_buffer(log) == 0) {
		/* Writable: tell of drops a rate limit held back. */
		tell_dropped(log, 0);
		return;
	}
	if (log->wev != NULL && event_add(log->wev, NULL) == 0)
		log->stalled = 1;
	/* Else the next flush, in a second at most, tries again. */
}

/* Loop thread: the log's reader took data; resume the flush. */
static void
accesslog_writable_cb(evutil_socket_t fd, short what, void *arg)
{
	struct accesslog	*log = arg;

	log->stalled = 0;
	accesslog_flush(log);
}

/*
 * At exit: flush, waiting at most ACCESSLOG_EXIT_MS for a stalled reader
 * (a slow one still gets the last lines; a stopped one does not hold the
 * exit), then count what is left as dropped.
 */
static void
drain_at_exit(struct accesslog *log)
{
	struct pollfd	 pfd = { .fd = log->fd, .events = POLLOUT };
	uint64_t	 deadline = clock_ms() + ACCESSLOG_EXIT_MS, now;

	if (log->wev != NULL)
		event_del(log->wev);
	log->stalled = 0;
	while (write_buffer(log) == 1 && (now = clock_ms()) < deadline)
		(void)poll(&pfd, 1, (int)(deadline - now));
	if (log->len > 0) {
		drop_lines(log, count_lines(log->buf, log->len));
		log->len = 0;
	}
	tell_dropped(log, 1);
}

void
accesslog_free(struct accesslog *log)
{
	if (log == NULL)
		return;
	drain_at_exit(log);
	write_event_free(log);
	if (log->own_fd)
		(void)close(log->fd);
	free(log->path);
	free(log);
}

int
accesslog_reopen(struct accesslog *log)
{
	int	 oldfd = log->fd, oldown = log->own_fd;

	accesslog_flush(log);
	if (log->path == NULL)
		return 0;
	/* What still waits for room goes to the new file. */
	if (open_out(log, log->path) == -1) {
		log->fd = oldfd;
		log->own_fd = oldown;
		return -1;
	}
	write_event_free(log);
	if (oldown)
		(void)close(oldfd);
	write_event_new(log);
	accesslog_flush(log);
	return 0;
}

/* Copy s for a quoted field: '"', '\\' and controls become \xHH. */
static size_t
escape(char *dst, size_t room, const char *s)
{
	size_t	 n = 0;

	if (s == NULL || *s == '\0')
		s = "-";
	for (; *s != '\0' && n + 4 < room; s++) {
		unsigned char	c = (unsigned char)*s;

		if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\')
			n += (size_t)snprintf(dst + n, room - n, "\\x%02X", c);
		else
			dst[n++] = (char)c;
	}
	dst[n] = '\0';
	return n;
}

/* Take a whole line of n bytes, or drop it when the reader is behind. */
static void
buffer_line(struct accesslog *log, const char *line, size_t n)
{
	if (log->len + n > sizeof(log->buf))
		accesslog_flush(log);	/* no-op while stalled */
	if (log->len + n > sizeof(log->buf)) {
		drop_lines(log, 1);	/* the reader is behind: bounded */
		return;
	}
	memcpy(log->buf + log->len, line, n);
	log->len += n;
}

/* Bytes in the valid UTF-8 sequence at p (RFC 3629), 0 if there is none. */
static size_t
utf8_len(const unsigned char *p)
{
	unsigned char	 lo = 0x80, hi = 0xbf;	/* the second byte's range */
	size_t		 len, i;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		len = 2;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		len = 3;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		len = 4;
	else
		return 0;		/* a continuation byte, C0, C1, F5.. */
	/* No overlong forms, no surrogates, nothing above U+10FFFF. */
	if (p[0] == 0xe0)
		lo = 0xa0;
	else if (p[0] == 0xed)
		hi = 0x9f;
	else if (p[0] == 0xf0)
		lo = 0x90;
	else if (p[0] == 0xf4)
		hi = 0x8f;
	if (p[1] < lo || p[1] > hi)
		return 0;
	/* A NUL is no continuation byte: nothing past it is read. */
	for (i = 2; i < len; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return len;
}

/*
 * s as a JSON string into dst (room bytes, at least 8): quoted, or null
 * for NULL. Valid UTF-8 is copied as sent; '"' and '\\' are escaped;
 * controls (C0, DEL and, encoded, C1: what a terminal showing the log
 * would obey) become \u00XX; so does each byte that is not part of a
 * valid UTF-8 sequence: the character U+00XX, the byte as ISO-8859-1
 * reads it. The line stays valid JSON (RFC 8259, UTF-8) whatever the
 * client sent and the byte's value stays visible; a U+0080..U+00FF in
 * the value may stand for such a byte (the combined format keeps the
 * bytes exactly). Text that does not fit is cut between characters.
 * Returns the length written.
 */
static size_t
json_escape(char *dst, size_t room, const char *s)
{
	static const char	 hex[] = "0123456789abcdef";
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 n = 0, len, i;
	unsigned		 c;

	if (s == NULL) {
		memcpy(dst, "null", 5);
		return 4;
	}
	dst[n++] = '"';
	for (; *p != '\0'; p += len) {
		len = utf8_len(p);
		c = len == 2 ? (unsigned)(p[0] & 0x1f) << 6 | (p[1] & 0x3f) :
		    p[0];
		if (len == 1 && (c == '"' || c == '\\')) {
			if (n + 4 > room)	/* 2, the quote, the NUL */
				break;
			dst[n++] = '\\';
			dst[n++] = (char)c;
		} else if (len == 0 || c < 0x20 || c == 0x7f ||
		    (len == 2 && c < 0xa0)) {
			if (n + 8 > room)
				break;
			memcpy(dst + n, "\\u00", 4);
			dst[n + 4] = hex[c >> 4];
			dst[n + 5] = hex[c & 15];
			n += 6;
			len = len == 0 ? 1 : len;
		} else {
			if (n + len + 2 > room)
				break;
			for (i = 0; i < len; i++)
				dst[n++] = (char)p[i];
		}
	}
	dst[n++] = '"';
	dst[n] = '\0';
	return n;
}

/* One JSON object: every field, named; see switchyard.json(5). */
static void
write_json(struct accesslog *log, const struct accesslog_entry *e)
{
	const struct http_req	*h = e->http;
	int			 req = h != NULL && h->method != NULL;
	char			 line[ACCESSLOG_LINE], client[ACCESSLOG_CLIENT];
	char			 method[64], target[ACCESSLOG_TARGET];
	char			 version[24], referer[ACCESSLOG_HEADER];
	char			 agent[ACCESSLOG_HEADER], id[ACCESSLOG_ID];
	char			 route[ACCESSLOG_HEADER];
	int			 n;

	/* Each field fits its buffer, and all of them one line. */
	_Static_assert(ACCESSLOG_CLIENT + 64 + ACCESSLOG_TARGET + 24 +
	    3 * ACCESSLOG_HEADER + ACCESSLOG_ID + 400 < ACCESSLOG_LINE,
	    "a JSON access log line could be cut");
	(void)json_escape(client, sizeof(client), e->peer);
	(void)json_escape(method, sizeof(method), req ? h->method : NULL);
	(void)json_escape(target, sizeof(target), req ? h->target : NULL);
	if (req)
		(void)snprintf(version, sizeof(version), "\"HTTP/%u.%u\"",
		    h->major, h->minor);
	else
		memcpy(version, "null", 5);
	(void)json_escape(referer, sizeof(referer),
	    req ? http_req_header(h, "referer") : NULL);
	(void)json_escape(agent, sizeof(agent),
	    req ? http_req_header(h, "user-agent") : NULL);
	(void)json_escape(id, sizeof(id), e->request_id);
	(void)json_escape(route, sizeof(route), e->route);
	n = snprintf(line, sizeof(line), "{\"time\":\"%s\",\"client\":%s,"
	    "\"method\":%s,\"target\":%s,\"version\":%s,\"status\":%d,"
	    "\"bytes\":%zu,\"referer\":%s,\"user_agent\":%s,"
	    "\"duration\":%.6f,\"mode\":\"%s\",\"queue_wait\":%.6f,"
	    "\"pid\":%ld,\"request_id\":%s,\"route\":%s}\n", log->stamp,
	    client, method, target, version, e->status, e->body_bytes,
	    referer, agent, e->duration_s, e->mode, e->queue_wait_s, log->pid,
	    id, route);
	if (n > 0 && (size_t)n < sizeof(line))
		buffer_line(log, line, (size_t)n);
}

void
accesslog_write(struct accesslog *log, const struct accesslog_entry *e)
{
	const struct http_req	*h = e->http;
	char			 line[ACCESSLOG_LINE], target[ACCESSLOG_TARGET];
	char			 referer[ACCESSLOG_HEADER];
	char			 agent[ACCESSLOG_HEADER], id[ACCESSLOG_ID];
	struct tm		 tm;
	size_t			 len;
	int			 n;

	if (e->now != log->stamp_time) {
		(void)localtime_r(&e->now, &tm);
		if (log->format == CONFIG_ACCESS_JSON &&
		    (len = strftime(log->stamp, sizeof(log->stamp),
		    "%Y-%m-%dT%H:%M:%S%z", &tm)) > 2) {
			/* RFC 3339 wants the offset's colon: +01:00. */
			memmove(log->stamp + len - 1, log->stamp + len - 2, 3);
			log->stamp[len - 2] = ':';
		} else
			(void)strftime(log->stamp, sizeof(log->stamp),
			    "%d/%b/%Y:%H:%M:%S %z", &tm);
		log->stamp_time = e->now;
	}
	if (log->format == CONFIG_ACCESS_JSON) {
		write_json(log, e);
		return;
	}
	(void)escape(target, sizeof(target), h && h->target ? h->target : NULL);
	(void)escape(referer, sizeof(referer),
	    h && h->method ? http_req_header(h, "referer") : NULL);
	(void)escape(agent, sizeof(agent),
	    h && h->method ? http_req_header(h, "user-agent") : NULL);
	(void)escape(id, sizeof(id), e->request_id);
	if (h != NULL && h->method != NULL)
		n = snprintf(line, sizeof(line), "%s - - [%s] \"%s %s HTTP/%u.%u\" "
		    "%d %zu \"%s\" \"%s\" %.3f %s %.3f %ld %s\n", e->peer,
		    log->stamp, h->method, target, h->major, h->minor,
		    e->status, e->body_bytes, referer, agent, e->duration_s,
		    e->mode, e->queue_wait_s, log->pid, id);
	else
		n = snprintf(line, sizeof(line), "%s - - [%s] \"-\" %d %zu "
		    "\"-\" \"-\" %.3f %s %.3f %ld %s\n", e->peer, log->stamp,
		    e->status, e->body_bytes, e->duration_s, e->mode,
		    e->queue_wait_s, log->pid, id);
	if (n <= 0)
		return;
	if ((size_t)n >= sizeof(line)) {
		n = sizeof(line) - 1;
		line[n - 1] = '\n';
	}
	buffer_line(log, line, (size_t)n);
}
