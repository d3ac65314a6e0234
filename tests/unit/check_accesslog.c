/*
 * check_accesslog.c - unit tests for the access log's writes (accesslog.c):
 * they never block the loop, whatever holds the other end.
 *
 * stderr is replaced by a pipe or a socket pair whose reader reads
 * nothing at first: writing many more lines than the pipe and the buffer
 * hold must return at once, drop and count the excess, and leave the
 * shared stderr description blocking (O_NONBLOCK is set on a description
 * of the log's own). Then the reader drains while the loop runs the
 * write event: every line is either read or counted as dropped, and the
 * error log says how many were dropped. Each test runs in check's own
 * process (CK_FORK), so replacing fd 2 there is harmless; a timeout
 * catches a write that would block. Nothing sleeps to synchronise.
 */
#include "autoconfig.h"

#include <check.h>

#include "unit.h"
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "accesslog.h"
#include "log.h"
#include "stats.h"

#define LINES		5000	/* ~100 bytes each: far past 64 + 64 KiB */
#define SAFETY_MS	10000

static char	 tmpdir[] = "/tmp/check_accesslog.XXXXXX";
static char	 errlog[sizeof(tmpdir) + 16];

static void
setup(void)
{
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	snprintf(errlog, sizeof(errlog), "%s/error", tmpdir);
	/* The notice must not go to the stderr under test. */
	ck_assert_int_eq(log_init(errlog, LOG_LEVEL_INFO), 0);
}

static void
teardown(void)
{
	char	 cmd[sizeof(tmpdir) + 16];

	(void)log_init("stderr", LOG_LEVEL_INFO);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "check_accesslog: %s failed\n", cmd);
}

static uint64_t
ms_now(void)
{
	struct timespec	 ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void
put(struct accesslog *log, int i)
{
	struct accesslog_entry	 e = {
		.peer = "127.0.0.1", .http = NULL, .status = 200 + i % 3,
		.body_bytes = (size_t)i, .duration_s = 0.001, .mode = "loop",
		.queue_wait_s = 0, .now = time(NULL),
	};

	accesslog_write(log, &e);
}

/* Lines of the error log containing needle. */
static unsigned
errlog_count(const char *needle)
{
	FILE		*f = fopen(errlog, "r");
	char		 line[4096];
	unsigned	 n = 0;

	ck_assert_ptr_nonnull(f);
	while (fgets(line, sizeof(line), f) != NULL)
		if (strstr(line, needle) != NULL)
			n++;
	fclose(f);
	return n;
}

/* The total of N in the error log's "dropped N access log lines". */
static uint64_t
errlog_dropped(void)
{
	FILE			*f = fopen(errlog, "r");
	char			 line[4096], *p;
	unsigned long long	 n, sum = 0;

	ck_assert_ptr_nonnull(f);
	while (fgets(line, sizeof(line), f) != NULL)
		if ((p = strstr(line, "warning: dropped ")) != NULL &&
		    sscanf(p, "warning: dropped %llu access log lines", &n) ==
		    1)
			sum += n;
	fclose(f);
	return sum;
}

/* Read what is there on fd (non-blocking); the lines read. */
static unsigned
drain(int fd)
{
	char		 buf[65536];
	unsigned	 lines = 0;
	ssize_t		 n, i;

	while ((n = read(fd, buf, sizeof(buf))) > 0)
		for (i = 0; i < n; i++)
			lines += buf[i] == '\n';
	return lines;
}

/*
 * stderr is wfd (the reader holds rfd): write LINES entries without
 * reading, then drain while the loop runs.
 */
static void
stalled_reader(int rfd, int wfd)
{
	struct stats_slot	 slot;
	struct event_base	*base = event_base_new();
	struct accesslog	*log;
	uint64_t		 t0, dropped;
	unsigned		 got = 0;
	int			 saved, fl, i;

	memset(&slot, 0, sizeof(slot));
	ck_assert_ptr_nonnull(base);
	ck_assert_int_ne(saved = dup(STDERR_FILENO), -1);
	ck_assert_int_eq(dup2(wfd, STDERR_FILENO), STDERR_FILENO);
	(void)close(wfd);
	ck_assert_int_eq(fcntl(rfd, F_SETFL, O_NONBLOCK), 0);

	log = accesslog_open(base, "stderr", &slot);
	ck_assert_ptr_nonnull(log);
	t0 = ms_now();
	for (i = 0; i < LINES; i++)
		put(log, i);
	accesslog_flush(log);
	/* A blocking write would still be waiting: check's timeout. */
	ck_assert_msg(ms_now() - t0 < 2000, "writing took %llu ms",
	    (unsigned long long)(ms_now() - t0));
	dropped = atomic_load(&slot.accesslog_dropped);
	ck_assert_msg(dropped > 0 && dropped < LINES, "dropped %llu of %d",
	    (unsigned long long)dropped, LINES);
	/* fd 2's description, shared with the master, stays blocking. */
	ck_assert_int_ne(fl = fcntl(STDERR_FILENO, F_GETFL), -1);
	ck_assert_msg(!(fl & O_NONBLOCK), "O_NONBLOCK set on stderr");
	ck_assert_uint_eq(errlog_count("dropped"), 0);	/* still stalled */

	/* The reader catches up: each line is read or was dropped. */
	while (got + atomic_load(&slot.accesslog_dropped) < LINES) {
		ck_assert_msg(ms_now() - t0 < SAFETY_MS, "read %u, dropped "
		    "%llu of %d", got, (unsigned long long)
		    atomic_load(&slot.accesslog_dropped), LINES);
		got += drain(rfd);
		(void)event_base_loop(base, EVLOOP_NONBLOCK);
	}
	ck_assert_uint_eq(got + atomic_load(&slot.accesslog_dropped), LINES);
	ck_assert_uint_eq(atomic_load(&slot.accesslog_dropped), dropped);
	/*
	 * The notice: the drops, told once writing worked again (by the
	 * write event, or as here by the worker's next periodic flush if
	 * the pipe was full just then).
	 */
	accesslog_flush(log);
	ck_assert_uint_eq(errlog_count("was not writable"), 1);
	ck_assert_uint_eq(errlog_dropped(), dropped);

	/* Writable again: a new line goes straight through. */
	put(log, 0);
	accesslog_flush(log);
	ck_assert_uint_eq(drain(rfd), 1);
	accesslog_free(log);
	ck_assert_int_eq(dup2(saved, STDERR_FILENO), STDERR_FILENO);
	(void)close(saved);
	(void)close(rfd);
	event_base_free(base);
}

START_TEST(stderr_pipe)
{
	int	 p[2];

	ck_assert_int_eq(pipe(p), 0);
	stalled_reader(p[0], p[1]);
}
END_TEST

/* journald's stream: a socket, which /proc cannot reopen. */
START_TEST(stderr_socket)
{
	int	 sv[2], small = 4096;

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	(void)setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
	stalled_reader(sv[0], sv[1]);
}
END_TEST

/*
 * At exit with the reader still stalled: accesslog_free() gives up after
 * about a second and counts what it could not write.
 */
START_TEST(free_bounded)
{
	struct stats_slot	 slot;
	struct event_base	*base = event_base_new();
	struct accesslog	*log;
	uint64_t		 t0, took;
	unsigned		 got;
	int			 p[2], i;

	memset(&slot, 0, sizeof(slot));
	ck_assert_int_eq(pipe(p), 0);
	ck_assert_int_eq(dup2(p[1], STDERR_FILENO), STDERR_FILENO);
	(void)close(p[1]);
	ck_assert_int_eq(fcntl(p[0], F_SETFL, O_NONBLOCK), 0);
	log = accesslog_open(base, "stderr", &slot);
	ck_assert_ptr_nonnull(log);
	for (i = 0; i < LINES; i++)
		put(log, i);
	t0 = ms_now();
	accesslog_free(log);
	took = ms_now() - t0;
	ck_assert_msg(took >= 900 && took < 3000, "free took %llu ms",
	    (unsigned long long)took);
	got = drain(p[0]);
	ck_assert_uint_eq(got + atomic_load(&slot.accesslog_dropped), LINES);
	(void)close(p[0]);
	event_base_free(base);
}
END_TEST

/* A file: every line, and a reopen (USR1) after a rename. */
START_TEST(file_reopen)
{
	struct stats_slot	 slot;
	struct accesslog	*log;
	char			 path[sizeof(tmpdir) + 16];
	char			 moved[sizeof(tmpdir) + 16], cmd[256];
	FILE			*f;
	int			 i, n;

	memset(&slot, 0, sizeof(slot));
	snprintf(path, sizeof(path), "%s/access", tmpdir);
	snprintf(moved, sizeof(moved), "%s/access.1", tmpdir);
	log = accesslog_open(NULL, path, &slot);
	ck_assert_ptr_nonnull(log);
	for (i = 0; i < LINES; i++)
		put(log, i);
	ck_assert_int_eq(rename(path, moved), 0);
	ck_assert_int_eq(accesslog_reopen(log), 0);	/* flushes first */
	put(log, 0);
	put(log, 1);
	accesslog_free(log);
	ck_assert_uint_eq(atomic_load(&slot.accesslog_dropped), 0);
	snprintf(cmd, sizeof(cmd), "wc -l <%s", moved);
	ck_assert_ptr_nonnull(f = popen(cmd, "r"));
	ck_assert_int_eq(fscanf(f, "%d", &n), 1);
	pclose(f);
	ck_assert_int_eq(n, LINES);
	snprintf(cmd, sizeof(cmd), "wc -l <%s", path);
	ck_assert_ptr_nonnull(f = popen(cmd, "r"));
	ck_assert_int_eq(fscanf(f, "%d", &n), 1);
	pclose(f);
	ck_assert_int_eq(n, 2);
}
END_TEST

static Suite *
accesslog_suite(void)
{
	Suite	*s = suite_create("accesslog");
	TCase	*tc = tcase_create("write");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 20);
	tcase_add_test(tc, stderr_pipe);
	tcase_add_test(tc, stderr_socket);
	tcase_add_test(tc, free_bounded);
	tcase_add_test(tc, file_reopen);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return unit_run(accesslog_suite());
}
