/*
 * log.h - the error log.
 *
 * One write(2) per line, so pool threads may log and lines from several
 * processes sharing stderr never interleave. log_warn() appends
 * strerror(errno); log_warnx() does not. When stderr is the journal
 * (JOURNAL_STREAM is set) lines carry the <N> priority prefix instead of
 * a timestamp.
 */
#ifndef LOG_H
#define LOG_H

#include <stdarg.h>

enum log_level {
	LOG_LEVEL_ERROR,
	LOG_LEVEL_WARNING,
	LOG_LEVEL_INFO,
	LOG_LEVEL_DEBUG
};

/*
 * Start logging to path ("stderr" or NULL for stderr) at level. The
 * process name ("master", "worker 3") tags every line. Returns -1 with
 * errno when path cannot be opened; logging then stays on stderr.
 */
int	log_init(const char *path, enum log_level level);

/* Set the tag printed after the program name. Call after fork. */
void	log_set_role(const char *role);

void	log_set_level(enum log_level level);

/* Reopen the log file (USR1). Returns -1 with errno on failure. */
int	log_reopen(void);

void	log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_errorx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Log and exit(1). For startup and broken invariants only. */
void	fatal(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2), noreturn));
void	fatalx(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2), noreturn));

#endif /* LOG_H */
