/*
 * accesslog.c - the access log, buffered by whole lines.
 *
 * A write(2) per request would cost more than answering /hello, so lines
 * collect in a buffer flushed when nearly full, once a second and at exit.
 * Each flush writes only whole lines, and with O_APPEND the workers'
 * flushes never interleave inside a line.
 */
#include "autoconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "accesslog.h"
#include "http.h"
#include "xmalloc.h"

#define ACCESSLOG_BUF	65536
#define ACCESSLOG_LINE	4096	/* a longer line is cut */

struct accesslog {
	int	 fd;
	char	*path;			/* NULL: stderr */
	char	 buf[ACCESSLOG_BUF];
	size_t	 len;
	time_t	 stamp_time;		/* second that stamp shows */
	char	 stamp[40];		/* "22/Nov/2026:10:00:00 +0000" */
	long	 pid;
};

static int
open_file(const char *path)
{
	return open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
}

struct accesslog *
accesslog_open(const char *path)
{
	struct accesslog	*log;
	int			 fd = STDERR_FILENO;

	if (strcmp(path, "stderr") != 0 && (fd = open_file(path)) == -1)
		return NULL;
	log = xcalloc(1, sizeof(*log));
	log->fd = fd;
	log->path = fd == STDERR_FILENO ? NULL : xstrdup(path);
	log->stamp_time = (time_t)-1;
	log->pid = (long)getpid();
	return log;
}

void
accesslog_flush(struct accesslog *log)
{
	size_t	 off = 0;
	ssize_t	 n;

	while (off < log->len) {
		n = write(log->fd, log->buf + off, log->len - off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;		/* a full disk loses lines, not requests */
		off += (size_t)n;
	}
	log->len = 0;
}

void
accesslog_free(struct accesslog *log)
{
	if (log == NULL)
		return;
	accesslog_flush(log);
	if (log->fd != STDERR_FILENO)
		(void)close(log->fd);
	free(log->path);
	free(log);
}

int
accesslog_reopen(struct accesslog *log)
{
	int	 fd;

	accesslog_flush(log);
	if (log->path == NULL)
		return 0;
	if ((fd = open_file(log->path)) == -1)
		return -1;
	(void)close(log->fd);
	log->fd = fd;
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

void
accesslog_write(struct accesslog *log, const struct accesslog_entry *e)
{
	const struct http_req	*h = e->http;
	char			 line[ACCESSLOG_LINE], target[1024];
	char			 referer[512], agent[512];
	struct tm		 tm;
	int			 n;

	if (e->now != log->stamp_time) {
		(void)localtime_r(&e->now, &tm);
		(void)strftime(log->stamp, sizeof(log->stamp),
		    "%d/%b/%Y:%H:%M:%S %z", &tm);
		log->stamp_time = e->now;
	}
	(void)escape(target, sizeof(target), h && h->target ? h->target : NULL);
	(void)escape(referer, sizeof(referer),
	    h && h->method ? http_req_header(h, "referer") : NULL);
	(void)escape(agent, sizeof(agent),
	    h && h->method ? http_req_header(h, "user-agent") : NULL);
	if (h != NULL && h->method != NULL)
		n = snprintf(line, sizeof(line), "%s - - [%s] \"%s %s HTTP/%u.%u\" "
		    "%d %zu \"%s\" \"%s\" %.3f %s %.3f %ld\n", e->peer,
		    log->stamp, h->method, target, h->major, h->minor,
		    e->status, e->body_bytes, referer, agent, e->duration_s,
		    e->mode, e->queue_wait_s, log->pid);
	else
		n = snprintf(line, sizeof(line), "%s - - [%s] \"-\" %d %zu "
		    "\"-\" \"-\" %.3f %s %.3f %ld\n", e->peer, log->stamp,
		    e->status, e->body_bytes, e->duration_s, e->mode,
		    e->queue_wait_s, log->pid);
	if (n <= 0)
		return;
	if ((size_t)n >= sizeof(line)) {
		n = sizeof(line) - 1;
		line[n - 1] = '\n';
	}
	if (log->len + (size_t)n > sizeof(log->buf))
		accesslog_flush(log);
	memcpy(log->buf + log->len, line, (size_t)n);
	log->len += (size_t)n;
}
