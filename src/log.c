/*
 * log.c - the error log.
 *
 * Every line is formatted into one buffer and written with one write(2):
 * pool threads log without a lock, and lines of the master and all
 * workers, which share the file, never interleave (O_APPEND, < PIPE_BUF).
 *
 * Rate-limited warnings (log_limit_*) keep their state in the caller's
 * struct log_limit; the ones used so far are linked on limits, so that
 * the worker's tick can tell what each has suppressed without knowing
 * where they live.
 */
#include "autoconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"

#define LOG_LINE_MAX	2048

static int		 log_fd = STDERR_FILENO;
static char		*log_path;		/* NULL: stderr */
static enum log_level	 log_level = LOG_LEVEL_INFO;
static char		 log_role[32] = "master";
static int		 log_journal;		/* stderr is journald's */
static struct log_limit	*limits;		/* used so far (loop thread) */

static const struct {
	const char	*name;
	int		 syslog;		/* sd-daemon(3) priority */
} levels[] = {
	[LOG_LEVEL_ERROR] = { "error", 3 },
	[LOG_LEVEL_WARNING] = { "warning", 4 },
	[LOG_LEVEL_INFO] = { "info", 6 },
	[LOG_LEVEL_DEBUG] = { "debug", 7 },
};

static int
open_log(const char *path)
{
	return open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
}

/* Is stderr the stream whose "device:inode" journald put in the env? */
static int
stderr_is_journal(void)
{
	const char		*v = getenv("JOURNAL_STREAM");
	unsigned long long	 dev, ino;
	struct stat		 st;
	char			 end;

	if (v == NULL || sscanf(v, "%llu:%llu%c", &dev, &ino, &end) != 2 ||
	    fstat(STDERR_FILENO, &st) == -1)
		return 0;
	return (unsigned long long)st.st_dev == dev &&
	    (unsigned long long)st.st_ino == ino;
}

int
log_init(const char *path, enum log_level level)
{
	int	 fd;

	log_level = level;
	/*
	 * journald sets JOURNAL_STREAM to "device:inode" of the stream it
	 * gave us; only when stderr is that stream do the <N> prefixes mean
	 * anything (sd-daemon(3)).
	 */
	log_journal = stderr_is_journal();
	if (path == NULL || strcmp(path, "stderr") == 0) {
		free(log_path);
		log_path = NULL;
		if (log_fd != STDERR_FILENO)
			(void)close(log_fd);
		log_fd = STDERR_FILENO;
		return 0;
	}
	if ((fd = open_log(path)) == -1)
		return -1;
	if (log_fd != STDERR_FILENO)
		(void)close(log_fd);
	log_fd = fd;
	free(log_path);
	log_path = strdup(path);
	log_journal = 0;
	return 0;
}

void
log_set_role(const char *role)
{
	(void)snprintf(log_role, sizeof(log_role), "%s", role);
}

void
log_set_level(enum log_level level)
{
	log_level = level;
}

int
log_reopen(void)
{
	int	 fd;

	if (log_path == NULL)
		return 0;
	if ((fd = open_log(log_path)) == -1)
		return -1;
	/* dup2 keeps the descriptor number, so no line is lost in between. */
	if (dup2(fd, log_fd) == -1) {
		(void)close(fd);
		return -1;
	}
	(void)close(fd);
	return 0;
}

static void __attribute__((format(printf, 3, 0)))
vlog(enum log_level level, int with_errno, const char *fmt, va_list ap)
{
	char		 line[LOG_LINE_MAX];
	size_t		 len = 0, room;
	int		 n, saved = errno;
	struct timespec	 ts;
	struct tm	 tm;

	if (level > log_level)
		return;
	if (log_journal) {
		n = snprintf(line, sizeof(line), "<%d>%s: %s: ",
		    levels[level].syslog, log_role, levels[level].name);
	} else {
		(void)clock_gettime(CLOCK_REALTIME, &ts);
		(void)localtime_r(&ts.tv_sec, &tm);
		len = strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%S", &tm);
		n = snprintf(line + len, sizeof(line) - len,
		    ".%03ld switchyard[%ld] %s: %s: ", ts.tv_nsec / 1000000,
		    (long)getpid(), log_role, levels[level].name);
	}
	len += n > 0 ? (size_t)n : 0;
	room = sizeof(line) - 1 - len;	/* keep one byte for '\n' */
	n = vsnprintf(line + len, room + 1, fmt, ap);
	if (n > 0)
		len += (size_t)n < room ? (size_t)n : room;
	if (with_errno && len < sizeof(line) - 1) {
		n = snprintf(line + len, sizeof(line) - 1 - len, ": %s",
		    strerror(saved));
		if (n > 0)
			len += (size_t)n < sizeof(line) - 1 - len ?
			    (size_t)n : sizeof(line) - 1 - len;
	}
	line[len++] = '\n';
	/* Nowhere to report a failed log write; glibc's fortify wants a look. */
	if (write(log_fd, line, len) == -1)
		errno = saved;
	errno = saved;
}

static void __attribute__((format(printf, 2, 3)))
log_at(enum log_level level, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vlog(level, 0, fmt, ap);
	va_end(ap);
}

#define LOG_FN(fn, level, with_errno)			\
void							\
fn(const char *fmt, ...)				\
{							\
	va_list	 ap;					\
							\
	va_start(ap, fmt);				\
	vlog(level, with_errno, fmt, ap);		\
	va_end(ap);					\
}

LOG_FN(log_error, LOG_LEVEL_ERROR, 1)
LOG_FN(log_errorx, LOG_LEVEL_ERROR, 0)
LOG_FN(log_warn, LOG_LEVEL_WARNING, 1)
LOG_FN(log_warnx, LOG_LEVEL_WARNING, 0)
LOG_FN(log_info, LOG_LEVEL_INFO, 0)
LOG_FN(log_debug, LOG_LEVEL_DEBUG, 0)

/*
 * Write msg for l, with what was suppressed before it (more), and start
 * a new interval.
 */
static void
limit_emit(struct log_limit *l, enum log_level level, const char *msg,
    uint64_t more, uint64_t now)
{
	if (more > 0)
		log_at(level, "%s (%llu more suppressed in the last %llu ms)",
		    msg, (unsigned long long)more,
		    (unsigned long long)(now - l->last_ms));
	else
		log_at(level, "%s", msg);
	l->last_ms = now;
	l->suppressed = 0;
}

static void __attribute__((format(printf, 4, 0)))
vlog_limited(struct log_limit *l, enum log_level level, int with_errno,
    const char *fmt, va_list ap)
{
	char		 msg[LOG_LIMIT_TEXT];
	uint64_t	 now;
	size_t		 len;
	int		 saved = errno;

	if (level > log_level)
		return;
	if (!l->listed) {
		l->next = limits;
		limits = l;
		l->listed = 1;
	}
	/* Formatted either way: a suppressed one may be the one flushed. */
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	if (with_errno && (len = strlen(msg)) < sizeof(msg) - 1)
		(void)snprintf(msg + len, sizeof(msg) - len, ": %s",
		    strerror(saved));
	now = clock_ms();
	if (l->last_ms != 0 && now - l->last_ms < l->interval_ms) {
		l->suppressed++;
		l->level = level;
		memcpy(l->text, msg, sizeof(msg));
	} else
		limit_emit(l, level, msg, l->suppressed, now);
	errno = saved;
}

void
log_limit_warn(struct log_limit *l, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vlog_limited(l, LOG_LEVEL_WARNING, 1, fmt, ap);
	va_end(ap);
}

void
log_limit_warnx(struct log_limit *l, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vlog_limited(l, LOG_LEVEL_WARNING, 0, fmt, ap);
	va_end(ap);
}

void
log_limit_flush(int all)
{
	struct log_limit	*l;
	uint64_t		 now = clock_ms();
	int			 saved = errno;

	for (l = limits; l != NULL; l = l->next)
		if (l->suppressed > 0 &&
		    (all || now - l->last_ms >= l->interval_ms))
			/* The text is that of the last one: not "more". */
			limit_emit(l, l->level, l->text, l->suppressed - 1,
			    now);
	errno = saved;
}

void
fatal(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vlog(LOG_LEVEL_ERROR, 1, fmt, ap);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vlog(LOG_LEVEL_ERROR, 0, fmt, ap);
	va_end(ap);
	exit(1);
}
