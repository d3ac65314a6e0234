/*
 * check_log.c - unit tests for the error log's rate-limited warnings
 * (log_limit_*, src/log.c).
 *
 * The log goes to a temporary file that each test reads back. Time is
 * not waited for: a test that needs the interval to have passed moves
 * the limiter's last line back by hand (last_ms), so nothing sleeps.
 * Limiters are static, as log.h asks: log.c keeps a list of them.
 */
#include "autoconfig.h"

#include <check.h>

#include "unit.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

static char	 log_file[] = "/tmp/check_log.XXXXXX";

static void
setup(void)
{
	int	 fd;

	ck_assert_int_ne(fd = mkstemp(log_file), -1);
	(void)close(fd);
	ck_assert_int_eq(log_init(log_file, LOG_LEVEL_INFO), 0);
}

static void
teardown(void)
{
	(void)log_init("stderr", LOG_LEVEL_INFO);
	(void)unlink(log_file);
	strcpy(log_file, "/tmp/check_log.XXXXXX");
}

/* The log so far, NUL-terminated; free it. */
static char *
log_text(void)
{
	FILE	*f = fopen(log_file, "r");
	char	*s = calloc(1, 65536);
	size_t	 n;

	ck_assert_ptr_nonnull(f);
	ck_assert_ptr_nonnull(s);
	n = fread(s, 1, 65535, f);
	s[n] = '\0';
	fclose(f);
	return s;
}

/* Lines of the log containing needle. */
static unsigned
log_count(const char *needle)
{
	char		*s = log_text(), *line, *save = NULL;
	unsigned	 n = 0;

	for (line = strtok_r(s, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save))
		if (strstr(line, needle) != NULL)
			n++;
	free(s);
	return n;
}

/* Pretend the interval of l has passed since its last line. */
static void
age(struct log_limit *l)
{
	l->last_ms -= l->interval_ms;
}

/*
 * The first call is logged, the next ones within the interval are not;
 * the first after it says how many were suppressed.
 */
START_TEST(limit_counts)
{
	static struct log_limit	 l = LOG_LIMIT_INITIALIZER(60000);
	int			 i;

	log_limit_warnx(&l, "storm %d", 0);
	for (i = 1; i <= 41; i++)
		log_limit_warnx(&l, "storm %d", i);
	ck_assert_uint_eq(log_count("warning: storm"), 1);
	ck_assert_uint_eq(log_count("warning: storm 0"), 1);
	ck_assert_uint_eq(l.suppressed, 41);

	age(&l);
	log_limit_warnx(&l, "storm %d", 42);
	ck_assert_uint_eq(log_count("warning: storm"), 2);
	ck_assert_uint_eq(log_count("warning: storm 42 (41 more suppressed "
	    "in the last 600"), 1);	/* 60000 ms and what the test took */
	ck_assert_uint_eq(l.suppressed, 0);

	/* Nothing suppressed since: a plain line. */
	age(&l);
	log_limit_warnx(&l, "storm %d", 43);
	ck_assert_uint_eq(log_count("warning: storm 43"), 1);
	ck_assert_uint_eq(log_count("storm 43 ("), 0);
	ck_assert_uint_eq(log_count("suppressed"), 1);
}
END_TEST

/*
 * log_limit_flush() writes the last suppressed message once the interval
 * has passed, counting the others: every line stands for itself and the
 * ones it says were suppressed, so the counts add up to the calls.
 */
START_TEST(limit_flush)
{
	static struct log_limit	 l = LOG_LIMIT_INITIALIZER(60000);
	int			 i;

	for (i = 0; i < 10; i++)
		log_limit_warnx(&l, "route /r%d: busy", i);
	ck_assert_uint_eq(log_count("busy"), 1);
	log_limit_flush(0);		/* the interval has not passed */
	ck_assert_uint_eq(log_count("busy"), 1);
	age(&l);
	log_limit_flush(0);
	ck_assert_uint_eq(log_count("busy"), 2);
	/* 1 + 8 + the line itself (/r9) = 10 calls. */
	ck_assert_uint_eq(log_count("route /r9: busy (8 more suppressed in "
	    "the last 600"), 1);
	age(&l);
	log_limit_flush(0);		/* nothing held back: no line */
	ck_assert_uint_eq(log_count("busy"), 2);

	/* One suppressed: it is logged as it was, without a count. */
	log_limit_warnx(&l, "route /single: busy");
	log_limit_warnx(&l, "route /last: busy");
	ck_assert_uint_eq(log_count("busy"), 3);
	log_limit_flush(1);		/* at exit: whatever the interval */
	ck_assert_uint_eq(log_count("busy"), 4);
	ck_assert_uint_eq(log_count("route /last: busy"), 1);
	ck_assert_uint_eq(log_count("suppressed"), 1);
}
END_TEST

/* log_limit_warn() adds strerror(errno) and leaves errno alone. */
START_TEST(limit_errno)
{
	static struct log_limit	 l = LOG_LIMIT_INITIALIZER(60000);

	errno = EMFILE;
	log_limit_warn(&l, "accept: pausing for %d ms", 100);
	ck_assert_int_eq(errno, EMFILE);
	errno = EMFILE;
	log_limit_warn(&l, "accept: pausing for %d ms", 100);
	errno = ENFILE;
	log_limit_warn(&l, "accept: pausing for %d ms", 100);
	age(&l);
	log_limit_flush(0);
	ck_assert_uint_eq(log_count("accept: pausing"), 2);
	ck_assert_uint_eq(log_count("accept: pausing for 100 ms: Too many "
	    "open files in system (1 more suppressed in the last 600"), 1);
}
END_TEST

/* A message longer than LOG_LIMIT_TEXT is cut; its count is not. */
START_TEST(limit_long)
{
	static struct log_limit	 l = LOG_LIMIT_INITIALIZER(60000);
	char			*big = malloc(3000);

	ck_assert_ptr_nonnull(big);
	memset(big, 'x', 2999);
	big[2999] = '\0';
	log_limit_warnx(&l, "%s", big);
	log_limit_warnx(&l, "%s", big);
	log_limit_warnx(&l, "%s", big);
	age(&l);
	log_limit_warnx(&l, "%s", big);
	ck_assert_uint_eq(log_count("xxx (2 more suppressed in the last "
	    "600"), 1);
	free(big);
}
END_TEST

/* Each call site of log_warnx_limited() has a limiter of its own. */
static void
site_a(int i)
{
	log_warnx_limited("site a %d", i);
}

static void
site_b(int i)
{
	log_warnx_limited("site b %d", i);
}

START_TEST(limit_sites)
{
	int	 i;

	for (i = 0; i < 5; i++) {
		site_a(i);
		site_b(i);
	}
	ck_assert_uint_eq(log_count("site a 0"), 1);
	ck_assert_uint_eq(log_count("site b 0"), 1);
	ck_assert_uint_eq(log_count("site "), 2);
	log_limit_flush(1);
	ck_assert_uint_eq(log_count("site a 4 (3 more suppressed"), 1);
	ck_assert_uint_eq(log_count("site b 4 (3 more suppressed"), 1);
}
END_TEST

/* Below the log level nothing is logged, counted or kept. */
START_TEST(limit_level)
{
	static struct log_limit	 l = LOG_LIMIT_INITIALIZER(60000);

	log_set_level(LOG_LEVEL_ERROR);
	log_limit_warnx(&l, "hidden");
	log_limit_warnx(&l, "hidden");
	log_set_level(LOG_LEVEL_INFO);
	ck_assert_uint_eq(l.suppressed, 0);
	log_limit_flush(1);
	ck_assert_uint_eq(log_count("hidden"), 0);
}
END_TEST

static Suite *
log_suite(void)
{
	Suite	*s = suite_create("log");
	TCase	*tc = tcase_create("limit");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, limit_counts);
	tcase_add_test(tc, limit_flush);
	tcase_add_test(tc, limit_errno);
	tcase_add_test(tc, limit_long);
	tcase_add_test(tc, limit_sites);
	tcase_add_test(tc, limit_level);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return unit_run(log_suite());
}
