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
 *
 * The formats: "json" lines, read back with jansson's parser (which
 * refuses anything but UTF-8), have every field with its type, and the
 * bytes of a hostile target, User-Agent and Referer (invalid UTF-8,
 * quotes, backslashes, controls, an encoded C1 control) come back as
 * json_escape() promises, even cut to fit; "combined" lines end with
 * the request id.
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
#include <jansson.h>

#include "accesslog.h"
#include "config.h"
#include "http.h"
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

	log = accesslog_open(base, "stderr", CONFIG_ACCESS_COMBINED, &slot);
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
	log = accesslog_open(base, "stderr", CONFIG_ACCESS_COMBINED, &slot);
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
	log = accesslog_open(NULL, path, CONFIG_ACCESS_COMBINED, &slot);
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

/* -- formats ------------------------------------------------------------ */

static const struct config_limits	 limits = {
	.max_connections = 10, .header_bytes = 65536, .uri_bytes = 16384,
	.headers = 100, .body_bytes = 1024,
};

/* Parse raw, a whole request without a body, into h. */
static void
parse(struct http_req *h, const char *raw, size_t len)
{
	http_req_init(h, &limits, NULL, NULL);
	ck_assert_uint_eq(http_req_feed(h, raw, len), len);
	ck_assert_msg(h->state == HTTP_COMPLETE, "state %d: %s", h->state,
	    h->reason);
}

/* The whole of path, NUL-terminated; *len its length. Free it. */
static char *
slurp(const char *path, size_t *len)
{
	FILE	*f = fopen(path, "rb");
	char	*buf;
	long	 n;

	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
	ck_assert_int_ge(n = ftell(f), 0);
	rewind(f);
	buf = malloc((size_t)n + 1);
	ck_assert_ptr_nonnull(buf);
	ck_assert_uint_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return buf;
}

/* Split buf into at most max lines (the newlines become NULs). */
static int
lines(char *buf, char **line, int max)
{
	int	 n = 0;
	char	*nl;

	while (*buf != '\0' && n < max) {
		ck_assert_ptr_nonnull(nl = strchr(buf, '\n'));
		*nl = '\0';
		line[n++] = buf;
		buf = nl + 1;
	}
	ck_assert_msg(*buf == '\0', "more than %d lines", max);
	return n;
}

/* The JSON line's object; every field there, of its type. */
static json_t *
json_line(const char *line, int request)
{
	static const char *const strings[] = {
		"time", "client", "method", "target", "version", "referer",
		"user_agent", "mode", "request_id", "route"
	};
	static const char *const ints[] = { "status", "bytes", "pid" };
	static const char *const reals[] = { "duration", "queue_wait" };
	json_error_t	 jerr;
	json_t		*o, *v;
	size_t		 i;

	o = json_loads(line, JSON_REJECT_DUPLICATES, &jerr);
	ck_assert_msg(o != NULL, "not JSON (%s at %d): %s", jerr.text,
	    jerr.position, line);
	ck_assert(json_is_object(o));
	ck_assert_uint_eq(json_object_size(o), 15);
	for (i = 0; i < sizeof(strings) / sizeof(strings[0]); i++) {
		ck_assert_ptr_nonnull(v = json_object_get(o, strings[i]));
		/* What only a request has is null without one. */
		ck_assert_msg(json_is_string(v) || (json_is_null(v) &&
		    strcmp(strings[i], "time") != 0 &&
		    strcmp(strings[i], "client") != 0 &&
		    strcmp(strings[i], "mode") != 0 &&
		    (!request || (strcmp(strings[i], "method") != 0 &&
		    strcmp(strings[i], "target") != 0 &&
		    strcmp(strings[i], "version") != 0))),
		    "%s: %s", strings[i], line);
	}
	for (i = 0; i < sizeof(ints) / sizeof(ints[0]); i++)
		ck_assert_msg(json_is_integer(json_object_get(o, ints[i])),
		    "%s: %s", ints[i], line);
	for (i = 0; i < sizeof(reals) / sizeof(reals[0]); i++)
		ck_assert_msg(json_is_real(json_object_get(o, reals[i])),
		    "%s: %s", reals[i], line);
	return o;
}

static const char *
str(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/*
 * A hostile request: bytes that are not UTF-8 (a lone 0xff, an overlong
 * "/" as c0 af, a surrogate as ed a0 80, a lone continuation byte), valid
 * UTF-8 (e with an accent, an emoji), an encoded C1 control (c2 9b, CSI
 * to a terminal), quotes, backslashes and a tab.
 */
static const char	 hostile[] =
    "GET /t\xff\xc0\xaf\"\\%00\xc3\xa9?q=\x80 HTTP/1.1\r\n"
    "Host: x\r\n"
    "User-Agent: ua \"q\" \\ \t\xe9t\xc3\xa9 \xf0\x9f\x98\x80 \xed\xa0\x80"
    " \xc2\x9b\r\n"
    "Referer: http://r/\"x\"\r\n"
    "\r\n";

START_TEST(json_format)
{
	struct stats_slot	 slot;
	struct accesslog	*log;
	struct http_req		 h, big;
	struct accesslog_entry	 e;
	char			 path[sizeof(tmpdir) + 16], *buf, *line[8];
	char			*raw, want[64];
	json_t			*o;
	size_t			 len, i;
	int			 n;

	/* An offset with minutes: RFC 3339 writes it +05:30. */
	ck_assert_int_eq(setenv("TZ", "XXX-05:30", 1), 0);
	tzset();
	memset(&slot, 0, sizeof(slot));
	snprintf(path, sizeof(path), "%s/access.json", tmpdir);
	log = accesslog_open(NULL, path, CONFIG_ACCESS_JSON, &slot);
	ck_assert_ptr_nonnull(log);

	parse(&h, hostile, sizeof(hostile) - 1);
	memset(&e, 0, sizeof(e));
	e.peer = "127.0.0.1";
	e.http = &h;
	e.status = 404;
	e.body_bytes = 22;
	e.duration_s = 0.0015;
	e.mode = "loop";
	e.queue_wait_s = 0;
	e.now = 1795341600;		/* 2026-11-22T10:00:00Z */
	e.request_id = "id\"\\x";
	e.route = "/r\"\xc3\xa9";
	accesslog_write(log, &e);

	/* Bytes that never made a request: no request, no id, no route. */
	e.http = NULL;
	e.status = 400;
	e.request_id = NULL;
	e.route = NULL;
	e.peer = "::1";
	accesslog_write(log, &e);

	/* 5000 bytes of 0xff: six bytes each escaped, cut to fit. */
	raw = malloc(6000);
	ck_assert_ptr_nonnull(raw);
	n = snprintf(raw, 6000, "GET /");
	memset(raw + n, 0xff, 5000);
	n += 5000;
	n += snprintf(raw + n, (size_t)(6000 - n),
	    " HTTP/1.0\r\nUser-Agent: %s\r\n\r\n", "\xc3\xa9\xc3\xa9");
	parse(&big, raw, (size_t)n);
	e.http = &big;
	e.status = 200;
	e.mode = "pool";
	e.queue_wait_s = 0.25;
	e.request_id = "01";
	e.route = "/";
	accesslog_write(log, &e);
	accesslog_free(log);
	ck_assert_uint_eq(atomic_load(&slot.accesslog_dropped), 0);

	buf = slurp(path, &len);
	ck_assert_int_eq(lines(buf, line, 8), 3);

	o = json_line(line[0], 1);
	ck_assert_str_eq(str(o, "time"), "2026-11-22T15:30:00+05:30");
	ck_assert_str_eq(str(o, "client"), "127.0.0.1");
	ck_assert_str_eq(str(o, "method"), "GET");
	/* Each lone byte is U+00XX; valid UTF-8 comes through. */
	ck_assert_str_eq(str(o, "target"), "/t\xc3\xbf\xc3\x80\xc2\xaf\"\\%00"
	    "\xc3\xa9?q=\xc2\x80");
	ck_assert_str_eq(str(o, "version"), "HTTP/1.1");
	ck_assert_int_eq(json_integer_value(json_object_get(o, "status")),
	    404);
	ck_assert_int_eq(json_integer_value(json_object_get(o, "bytes")), 22);
	ck_assert_str_eq(str(o, "referer"), "http://r/\"x\"");
	ck_assert_str_eq(str(o, "user_agent"),
	    "ua \"q\" \\ \t\xc3\xa9t\xc3\xa9 \xf0\x9f\x98\x80 "
	    "\xc3\xad\xc2\xa0\xc2\x80 \xc2\x9b");
	ck_assert(json_real_value(json_object_get(o, "duration")) > 0.0014 &&
	    json_real_value(json_object_get(o, "duration")) < 0.0016);
	ck_assert_str_eq(str(o, "mode"), "loop");
	ck_assert(json_real_value(json_object_get(o, "queue_wait")) == 0);
	ck_assert_int_eq(json_integer_value(json_object_get(o, "pid")),
	    getpid());
	ck_assert_str_eq(str(o, "request_id"), "id\"\\x");
	ck_assert_str_eq(str(o, "route"), "/r\"\xc3\xa9");
	json_decref(o);
	/* The text itself: controls escaped, nothing a terminal obeys. */
	ck_assert_ptr_nonnull(strstr(line[0], "\\u0009\\u00e9t\xc3\xa9 "));
	ck_assert_ptr_nonnull(strstr(line[0], " \\u009b\""));
	for (i = 0; line[0][i] != '\0'; i++)
		ck_assert_msg((unsigned char)line[0][i] >= 0x20 &&
		    (unsigned char)line[0][i] != 0x7f, "byte %zu: %02x", i,
		    (unsigned char)line[0][i]);

	o = json_line(line[1], 0);
	ck_assert_str_eq(str(o, "client"), "::1");
	for (i = 0; i < 7; i++) {
		static const char *const nulls[] = { "method", "target",
		    "version", "referer", "user_agent", "request_id", "route" };

		ck_assert_msg(json_is_null(json_object_get(o, nulls[i])),
		    "%s: %s", nulls[i], line[1]);
	}
	ck_assert_int_eq(json_integer_value(json_object_get(o, "status")),
	    400);
	json_decref(o);

	o = json_line(line[2], 1);
	ck_assert_str_eq(str(o, "version"), "HTTP/1.0");
	ck_assert_str_eq(str(o, "user_agent"), "\xc3\xa9\xc3\xa9");
	ck_assert_str_eq(str(o, "mode"), "pool");
	ck_assert(json_real_value(json_object_get(o, "queue_wait")) == 0.25);
	/* Cut between escapes: "/" and whole U+00FF characters. */
	len = strlen(str(o, "target"));
	ck_assert_msg(len > 200 && len < 1024 && len % 2 == 1, "%zu", len);
	for (i = 1; i < len; i += 2)
		ck_assert_int_eq(memcmp(str(o, "target") + i, "\xc3\xbf", 2),
		    0);
	json_decref(o);
	snprintf(want, sizeof(want), "\"pid\":%ld,", (long)getpid());
	ck_assert_ptr_nonnull(strstr(line[2], want));

	free(buf);
	free(raw);
	http_req_cleanup(&h);
	http_req_cleanup(&big);
}
END_TEST

/* combined: today's fields, then the request id ("-" without one). */
START_TEST(combined_format)
{
	struct accesslog	*log;
	struct http_req		 h;
	struct accesslog_entry	 e;
	char			 path[sizeof(tmpdir) + 16], *buf, *line[4];
	char			 want[256];
	size_t			 len;

	ck_assert_int_eq(setenv("TZ", "UTC0", 1), 0);
	tzset();
	snprintf(path, sizeof(path), "%s/access.log", tmpdir);
	log = accesslog_open(NULL, path, CONFIG_ACCESS_COMBINED, NULL);
	ck_assert_ptr_nonnull(log);
	parse(&h, hostile, sizeof(hostile) - 1);
	memset(&e, 0, sizeof(e));
	e.peer = "127.0.0.1";
	e.http = &h;
	e.status = 404;
	e.body_bytes = 22;
	e.duration_s = 0.0015;
	e.mode = "loop";
	e.now = 1795341600;
	e.request_id = "1xbsa00d8dehb5kg0000000000";
	e.route = "/r";
	accesslog_write(log, &e);
	e.request_id = "a\"b";
	accesslog_write(log, &e);
	e.http = NULL;
	e.request_id = NULL;
	accesslog_write(log, &e);
	accesslog_free(log);

	buf = slurp(path, &len);
	ck_assert_int_eq(lines(buf, line, 4), 3);
	snprintf(want, sizeof(want), "127.0.0.1 - - [22/Nov/2026:10:00:00 "
	    "+0000] \"GET /t\\xFF\\xC0\\xAF\\x22\\x5C%%00\\xC3\\xA9?q=\\x80 "
	    "HTTP/1.1\" 404 22 \"http://r/\\x22x\\x22\" \"ua ");
	ck_assert_msg(strncmp(line[0], want, strlen(want)) == 0, "%s", line[0]);
	snprintf(want, sizeof(want), "\" 0.002 loop 0.000 %ld "
	    "1xbsa00d8dehb5kg0000000000", (long)getpid());
	ck_assert_msg(strlen(line[0]) > strlen(want) && strcmp(line[0] +
	    strlen(line[0]) - strlen(want), want) == 0, "%s", line[0]);
	snprintf(want, sizeof(want), " %ld a\\x22b", (long)getpid());
	ck_assert_msg(strcmp(line[1] + strlen(line[1]) - strlen(want), want)
	    == 0, "%s", line[1]);
	snprintf(want, sizeof(want), "127.0.0.1 - - [22/Nov/2026:10:00:00 "
	    "+0000] \"-\" 404 22 \"-\" \"-\" 0.002 loop 0.000 %ld -",
	    (long)getpid());
	ck_assert_str_eq(line[2], want);
	free(buf);
	http_req_cleanup(&h);
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
	tc = tcase_create("formats");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, json_format);
	tcase_add_test(tc, combined_format);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return unit_run(accesslog_suite());
}
