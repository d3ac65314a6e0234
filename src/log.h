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
#include <stdint.h>

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

/*
 * Rate-limited warnings, for a warning that can repeat thousands of times
 * a second (a storm of 503s or 504s, accept(2) out of descriptors): at
 * most one line per interval_ms for each struct log_limit. The calls in
 * between are counted and their text kept, and the next line ends with
 * " (N more suppressed in the last M ms)": every line stands for itself
 * and the N before it, so the counts of all lines add up to the calls.
 * log_limit_flush() writes the last suppressed one with its count once
 * the interval has passed, so the end of a storm is told too.
 *
 * The state is not locked: loop thread only (pool threads use the plain
 * functions above). Once used, a struct log_limit is on log.c's list for
 * log_limit_flush(): it must live as long as the process (static, as the
 * ones log_warnx_limited() declares).
 */
#define LOG_LIMIT_MS		1000	/* one line a second at most */
#define LOG_LIMIT_TEXT		512	/* a longer message is cut */

struct log_limit {
	unsigned		 interval_ms;
	uint64_t		 last_ms;	/* CLOCK_MONOTONIC of the last
						   line; 0: none yet */
	uint64_t		 suppressed;	/* calls since that line */
	enum log_level		 level;		/* of text */
	char			 text[LOG_LIMIT_TEXT];	/* the latest of them */
	struct log_limit	*next;		/* on the flush list */
	int			 listed;	/* is on it */
};

#define LOG_LIMIT_INITIALIZER(ms)	{ .interval_ms = (ms) }

/* As log_warn() and log_warnx(), at most once per l->interval_ms. */
void	log_limit_warn(struct log_limit *l, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
void	log_limit_warnx(struct log_limit *l, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

/*
 * Write the last suppressed message of every struct log_limit used so
 * far whose interval has passed, or of every one when all is set (at
 * exit). Called by the worker's periodic tick.
 */
void	log_limit_flush(int all);

/*
 * log_warn() and log_warnx() limited to a line a second at this call
 * site, whose own static struct log_limit needs no home in a caller's
 * structure (as Linux's printk_ratelimited() keeps one per call site).
 */
#define log_warn_limited(...) do {					\
	static struct log_limit log_limit_site_ =			\
	    LOG_LIMIT_INITIALIZER(LOG_LIMIT_MS);			\
									\
	log_limit_warn(&log_limit_site_, __VA_ARGS__);			\
} while (0)
#define log_warnx_limited(...) do {					\
	static struct log_limit log_limit_site_ =			\
	    LOG_LIMIT_INITIALIZER(LOG_LIMIT_MS);			\
									\
	log_limit_warnx(&log_limit_site_, __VA_ARGS__);			\
} while (0)

/* Log and exit(1). For startup and broken invariants only. */
void	fatal(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2), noreturn));
void	fatalx(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2), noreturn));

#endif /* LOG_H */
