/*
 * check_stats.c - unit tests for stats.c (histogram maths, status code
 * table, route slots) and for the writers of the "metrics" handler
 * (metrics_render(), Prometheus text format 0.0.4) and of "status".
 *
 * The exposition is rendered from a real segment (stats_map()) filled by
 * hand, into a real struct sy_req started on a request fed through
 * http.c, as conn.c would. The text is then read back by a small strict
 * parser of the format: every family announced once by # HELP and
 * # TYPE, its samples in one group after them, label values unescaped,
 * no series twice, histograms cumulative with +Inf equal to _count; and
 * selected lines are compared byte for byte with what they must be.
 */
#include "autoconfig.h"

#include <check.h>

#include "clock.h"
#include "unit.h"
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <jansson.h>

#include "api.h"
#include "config.h"
#include "http.h"
#include "registry.h"
#include "stats.h"
#include "xmalloc.h"
#include "handlers/metrics.h"

#define STORE(x, v)	atomic_store_explicit(&(x), (v), memory_order_relaxed)
#define LOAD(x)		atomic_load_explicit(&(x), memory_order_relaxed)
#define INF_BUCKET	(STATS_BUCKETS - 1)
#define EPS		1e-12

/* The codes the server itself or a built-in handler answers. */
static const int	 served_codes[] = {
	100, 200, 301, 304, 400, 403, 404, 405, 408, 413, 414, 417, 431,
	500, 501, 503, 504, 505
};

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

/* -- histogram maths -------------------------------------------------- */

static uint64_t
bucket(const struct stats_hist *h, unsigned i)
{
	return LOAD(h->bucket[i]);
}

/* Which bucket did one observation of v land in? */
static unsigned
bucket_of(double v)
{
	struct stats_hist	 h;
	unsigned		 i, found = STATS_BUCKETS, n = 0;

	memset(&h, 0, sizeof(h));
	stats_hist_add(&h, v);
	for (i = 0; i < STATS_BUCKETS; i++)
		if (bucket(&h, i) != 0) {
			ck_assert_uint_eq(bucket(&h, i), 1);
			found = i;
			n++;
		}
	ck_assert_uint_eq(n, 1);
	return found;
}

START_TEST(hist_bounds_sorted)
{
	unsigned	 i;

	ck_assert(stats_bucket_le[0] > 0);
	for (i = 1; i < STATS_BUCKETS - 1; i++)
		ck_assert_msg(stats_bucket_le[i] > stats_bucket_le[i - 1],
		    "bound %u (%g) <= bound %u (%g)", i, stats_bucket_le[i],
		    i - 1, stats_bucket_le[i - 1]);
}
END_TEST

/* Loop test: _i is the bound; le is inclusive. */
START_TEST(hist_add_at_bounds)
{
	double	 le = stats_bucket_le[_i];

	ck_assert_uint_eq(bucket_of(le), (unsigned)_i);
	ck_assert_uint_eq(bucket_of(nextafter(le, 0)), (unsigned)_i);
	ck_assert_uint_eq(bucket_of(nextafter(le, INFINITY)),
	    (unsigned)_i + 1);
	/* Halfway to the next bound (or beyond the last one). */
	ck_assert_uint_eq(bucket_of(_i + 1 < STATS_BUCKETS - 1 ?
	    (le + stats_bucket_le[_i + 1]) / 2 : le * 2), (unsigned)_i + 1);
	if (_i > 0)
		ck_assert_uint_eq(bucket_of((le + stats_bucket_le[_i - 1]) /
		    2), (unsigned)_i);
}
END_TEST

START_TEST(hist_add_extremes)
{
	ck_assert_uint_eq(bucket_of(0), 0);
	ck_assert_uint_eq(bucket_of(-1), 0);
	ck_assert_uint_eq(bucket_of(1e-9), 0);
	ck_assert_uint_eq(bucket_of(1e9), INF_BUCKET);
	ck_assert_uint_eq(bucket_of(INFINITY), INF_BUCKET);
}
END_TEST

START_TEST(hist_sum_us)
{
	struct stats_hist	 h;

	memset(&h, 0, sizeof(h));
	stats_hist_add(&h, 0.0005);
	ck_assert_uint_eq(LOAD(h.sum_us), 500);
	stats_hist_add(&h, 1.2345674);		/* rounded: 1234567 */
	ck_assert_uint_eq(LOAD(h.sum_us), 500 + 1234567);
	stats_hist_add(&h, 0.0000006);		/* rounded up: 1 */
	ck_assert_uint_eq(LOAD(h.sum_us), 500 + 1234567 + 1);
	stats_hist_add(&h, -3);			/* nothing */
	stats_hist_add(&h, 0);
	ck_assert_uint_eq(LOAD(h.sum_us), 500 + 1234567 + 1);
	stats_hist_add(&h, 100);
	ck_assert_uint_eq(LOAD(h.sum_us), 500 + 1234567 + 1 + 100000000);
	ck_assert_uint_eq(bucket(&h, 0), 4);	/* 0.0005, 6e-7, -3, 0 */
	ck_assert_uint_eq(bucket(&h, 11), 1);	/* 1.2345674: (1, 2.5] */
	ck_assert_uint_eq(bucket(&h, INF_BUCKET), 1);	/* 100 */
}
END_TEST

static void
add_n(struct stats_hist *h, double v, unsigned n)
{
	while (n-- > 0)
		stats_hist_add(h, v);
}

static void
expect_q(const struct stats_hist *h, double q, double want)
{
	double	 got = stats_hist_quantile(h, q);

	ck_assert_msg(fabs(got - want) < EPS, "q=%g: got %.15g, want %.15g",
	    q, got, want);
}

START_TEST(hist_quantile_empty)
{
	struct stats_hist	 h;

	memset(&h, 0, sizeof(h));
	expect_q(&h, 0.5, -1);
	expect_q(&h, 0.99, -1);
	expect_q(&h, 0, -1);
	expect_q(&h, 1, -1);
}
END_TEST

START_TEST(hist_quantile_one_bucket)
{
	struct stats_hist	 h;

	/* 10 in (0.01, 0.025]: linear inside it. */
	memset(&h, 0, sizeof(h));
	add_n(&h, 0.02, 10);
	expect_q(&h, 0.5, 0.01 + 0.015 * 0.5);
	expect_q(&h, 0.1, 0.01 + 0.015 * 0.1);
	expect_q(&h, 0.99, 0.01 + 0.015 * 0.99);
	expect_q(&h, 1, 0.025);

	/* The first bucket starts at 0. */
	memset(&h, 0, sizeof(h));
	add_n(&h, 0.0001, 4);
	expect_q(&h, 0.5, 0.0005 * 0.5);
	expect_q(&h, 0.25, 0.0005 * 0.25);
	expect_q(&h, 1, 0.0005);

	/* One observation. */
	memset(&h, 0, sizeof(h));
	stats_hist_add(&h, 3);			/* (2.5, 5] */
	expect_q(&h, 0.5, 2.5 + 2.5 * 0.5);
	expect_q(&h, 0.99, 2.5 + 2.5 * 0.99);
}
END_TEST

START_TEST(hist_quantile_across)
{
	struct stats_hist	 h;

	/* 50 in (0.0005, 0.001], 50 in (0.05, 0.1]. */
	memset(&h, 0, sizeof(h));
	add_n(&h, 0.0008, 50);
	add_n(&h, 0.07, 50);
	expect_q(&h, 0.5, 0.001);		/* rank 50: top of the first */
	expect_q(&h, 0.25, 0.0005 + 0.0005 * 0.5);
	expect_q(&h, 0.99, 0.05 + 0.05 * (49.0 / 50));
	expect_q(&h, 0.51, 0.05 + 0.05 * (1.0 / 50));
	/* Empty buckets in between are skipped, whatever q. */
	expect_q(&h, 0.505, 0.05 + 0.05 * (0.5 / 50));

	/* 90 / 9 / 1 over three buckets. */
	memset(&h, 0, sizeof(h));
	add_n(&h, 0.003, 90);			/* (0.0025, 0.005] */
	add_n(&h, 0.2, 9);			/* (0.1, 0.25] */
	add_n(&h, 0.7, 1);			/* (0.5, 1] */
	expect_q(&h, 0.5, 0.0025 + 0.0025 * (50.0 / 90));
	expect_q(&h, 0.9, 0.005);
	expect_q(&h, 0.95, 0.1 + 0.15 * (5.0 / 9));
	expect_q(&h, 0.995, 0.5 + 0.5 * 0.5);
}
END_TEST

START_TEST(hist_quantile_inf)
{
	struct stats_hist	 h;
	double		 last = stats_bucket_le[STATS_BUCKETS - 2];

	/* All in +Inf: the last finite bound. */
	memset(&h, 0, sizeof(h));
	add_n(&h, 1000, 7);
	ck_assert_uint_eq(bucket(&h, INF_BUCKET), 7);
	expect_q(&h, 0.5, last);
	expect_q(&h, 0.99, last);

	/* 99 fast, 1 in +Inf: p99 is still inside the fast bucket. */
	memset(&h, 0, sizeof(h));
	add_n(&h, 0.0001, 99);
	stats_hist_add(&h, 60);
	expect_q(&h, 0.99, 0.0005);
	expect_q(&h, 0.5, 0.0005 * (50.0 / 99));
	expect_q(&h, 0.999, last);
}
END_TEST

/* Observations from several threads at once: none lost. */
#define HIST_THREADS	4
#define HIST_PER_THREAD	100000

static void *
hist_thread(void *arg)
{
	struct stats_hist	*h = arg;
	unsigned		 i;

	for (i = 0; i < HIST_PER_THREAD; i++)
		stats_hist_add(h, (i % 3) == 0 ? 0.0001 : 0.3);
	return NULL;
}

START_TEST(hist_threads)
{
	struct stats_hist	*h = xcalloc(1, sizeof(*h));
	pthread_t		 t[HIST_THREADS];
	uint64_t		 n0 = (HIST_PER_THREAD + 2) / 3, n1;
	unsigned		 i;

	for (i = 0; i < HIST_THREADS; i++)
		ck_assert_int_eq(pthread_create(&t[i], NULL, hist_thread, h),
		    0);
	for (i = 0; i < HIST_THREADS; i++)
		ck_assert_int_eq(pthread_join(t[i], NULL), 0);
	n1 = HIST_PER_THREAD - n0;
	ck_assert_uint_eq(bucket(h, 0), HIST_THREADS * n0);
	ck_assert_uint_eq(bucket(h, 9), HIST_THREADS * n1);	/* (0.25, 0.5] */
	ck_assert_uint_eq(LOAD(h->sum_us), HIST_THREADS * (n0 * 100 +
	    n1 * 300000));
	free(h);
}
END_TEST

/* -- status codes ----------------------------------------------------- */

START_TEST(codes_round_trip)
{
	unsigned	 i;
	int		 prev = 0;

	/* Every listed code: index and back, the table sorted. */
	for (i = 0; i < STATS_NCODES - 1; i++) {
		int	 code = stats_code_at(i);

		ck_assert_msg(code > prev, "code at %u: %d after %d", i, code,
		    prev);
		ck_assert_uint_eq(stats_code_index(code), i);
		prev = code;
	}
	ck_assert_int_eq(stats_code_at(STATS_NCODES - 1), 0);
	ck_assert_int_eq(stats_code_at(STATS_NCODES), 0);
	ck_assert_int_eq(stats_code_at(1000000), 0);
}
END_TEST

START_TEST(codes_served_are_listed)
{
	unsigned	 i, k;

	for (i = 0; i < NELEM(served_codes); i++) {
		k = stats_code_index(served_codes[i]);
		ck_assert_msg(k < STATS_NCODES - 1, "%d counted as other",
		    served_codes[i]);
		ck_assert_int_eq(stats_code_at(k), served_codes[i]);
	}
}
END_TEST

START_TEST(codes_other)
{
	static const int	 others[] = {
		418, 599, 0, -1, 1, 99, 101, 199, 202, 299, 309, 402, 429,
		506, 600, 999, 100000
	};
	unsigned		 i;

	for (i = 0; i < NELEM(others); i++)
		ck_assert_msg(stats_code_index(others[i]) == STATS_NCODES - 1,
		    "%d: index %u, not other", others[i],
		    stats_code_index(others[i]));
}
END_TEST

/* -- route slots ------------------------------------------------------ */

START_TEST(routes_same_path_same_slot)
{
	struct stats	*s = stats_map();
	unsigned	 a, b, c;

	ck_assert_ptr_nonnull(s);
	ck_assert_ptr_eq(stats_get(), s);
	a = stats_route_index(s, "/a");
	b = stats_route_index(s, "/b");
	ck_assert_uint_eq(a, 1);		/* 0 is "no route" */
	ck_assert_uint_eq(b, 2);
	ck_assert_uint_eq(stats_route_index(s, "/a"), a);
	ck_assert_uint_eq(stats_route_index(s, "/b"), b);
	/* A prefix or an extension of a path is another path. */
	c = stats_route_index(s, "/");
	ck_assert_uint_eq(c, 3);
	ck_assert_uint_eq(stats_route_index(s, "/ab"), 4);
	ck_assert_uint_eq(stats_route_index(s, "/a"), a);
	ck_assert_uint_eq(stats_route_index(s, "/"), c);
	ck_assert_str_eq(s->routes[a].path, "/a");
	ck_assert_str_eq(s->routes[0].path, "");
	stats_unmap(s);
	ck_assert_ptr_null(stats_get());
}
END_TEST

START_TEST(routes_full)
{
	struct stats	*s = stats_map();
	char		 path[32];
	unsigned	 i;

	ck_assert_ptr_nonnull(s);
	for (i = 1; i < STATS_ROUTES; i++) {
		(void)snprintf(path, sizeof(path), "/r%u", i);
		ck_assert_uint_eq(stats_route_index(s, path), i);
	}
	ck_assert_uint_eq(stats_route_index(s, "/one-too-many"), 0);
	ck_assert_uint_eq(stats_route_index(s, "/another"), 0);
	/* Known paths keep their slots. */
	ck_assert_uint_eq(stats_route_index(s, "/r1"), 1);
	(void)snprintf(path, sizeof(path), "/r%u", STATS_ROUTES - 1);
	ck_assert_uint_eq(stats_route_index(s, path), STATS_ROUTES - 1);
	stats_unmap(s);
}
END_TEST

/*
 * Paths may be up to 1024 bytes (the config's limit), longer than a
 * slot's name: the same long path must still find its slot again, at
 * every reload, instead of taking a new one each time.
 */
START_TEST(routes_long_path)
{
	struct stats	*s = stats_map();
	char		 path[1025];
	unsigned	 a;

	ck_assert_ptr_nonnull(s);
	memset(path, 'x', sizeof(path) - 1);
	path[0] = '/';
	path[sizeof(path) - 1] = '\0';
	a = stats_route_index(s, path);
	ck_assert_uint_ne(a, 0);
	ck_assert_uint_eq(strlen(s->routes[a].path), STATS_PATH_MAX - 1);
	ck_assert_uint_eq(stats_route_index(s, path), a);
	ck_assert_uint_eq(stats_route_index(s, path), a);
	ck_assert_uint_eq(stats_route_index(s, "/short"), a + 1);
	/* Exactly STATS_PATH_MAX - 1 bytes fits whole. */
	path[STATS_PATH_MAX - 1] = '\0';
	path[1] = 'y';
	ck_assert_uint_eq(stats_route_index(s, path), a + 2);
	ck_assert_uint_eq(stats_route_index(s, path), a + 2);
	stats_unmap(s);
}
END_TEST

/* -- a request to render into ----------------------------------------- */

static const struct config_limits limits = {
	.max_connections = 16,
	.header_bytes = 8192,
	.uri_bytes = 1024,
	.headers = 32,
	.body_bytes = 1024,
};

struct treq {
	struct http_req		 http;
	struct sy_req		 req;
	struct config_route	 route;
	char			 path[16];
};

static void
treq_finish_cb(struct sy_req *req, void *arg)
{
	(void)req;
	(void)arg;
	ck_abort_msg("sy_req_finish() called");
}

static struct treq *
treq_new(const char *handler)
{
	static const char	 raw[] = "GET /metrics HTTP/1.1\r\n"
				    "Host: x\r\n\r\n";
	struct treq		*t = xcalloc(1, sizeof(*t));

	http_req_init(&t->http, &limits, NULL, NULL);
	ck_assert_uint_eq(http_req_feed(&t->http, raw, sizeof(raw) - 1),
	    sizeof(raw) - 1);
	ck_assert_int_eq(t->http.state, HTTP_COMPLETE);
	strcpy(t->path, "/metrics");
	t->route.path = t->path;
	t->route.path_len = strlen(t->path);
	t->route.match = CONFIG_MATCH_EXACT;
	t->route.methods = CONFIG_METHOD_GET | CONFIG_METHOD_HEAD;
	t->route.mode = CONFIG_MODE_NONBLOCKING;
	t->route.handler = unit_handler(handler);
	ck_assert_ptr_nonnull(t->route.handler);
	ck_assert_int_eq(api_req_init(&t->req, NULL, NULL, treq_finish_cb, t),
	    0);
	api_req_start(&t->req, &t->http, &t->route);
	return t;
}

static void
treq_free(struct treq *t)
{
	api_req_cleanup(&t->req);
	http_req_cleanup(&t->http);
	free(t);
}

static char *
treq_body(struct treq *t)
{
	size_t	 n = api_resp_body_len(&t->req);
	char	*s = xmalloc(n + 1);

	ck_assert_int_eq(evbuffer_copyout(api_resp_body(&t->req), s, n),
	    (ssize_t)n);
	s[n] = '\0';
	ck_assert_uint_eq(strlen(s), n);	/* no NUL inside */
	return s;
}

static char *
render(const struct stats *s)
{
	struct treq	*t = treq_new("metrics");
	char		*text;

	ck_assert_int_eq(metrics_render(&t->req, s), 0);
	text = treq_body(t);
	treq_free(t);
	return text;
}

/* -- a strict reader of the text format ------------------------------- */

#define MAX_FAMILIES	64
#define MAX_SAMPLES	4096

struct family {
	char	 name[96];
	char	 type[16];
	int	 nsamples;
};

struct sample {
	int	 family;
	char	 name[96];
	char	 suffix[8];		/* "", "_bucket", "_sum", "_count" */
	char	 labels[512];		/* name=value\x1f..., le excluded */
	char	 le[32];		/* "" when none */
	double	 value;
	char	 value_text[48];
};

struct expo {
	struct family	 fam[MAX_FAMILIES];
	int		 nfam;
	struct sample	*smp;
	int		 nsmp;
};

static int
name_char(int c, int first)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
	    c == ':' || (!first && c >= '0' && c <= '9');
}

/* Read a metric or label name at *p into buf; advance. */
static void
read_name(const char **p, char *buf, size_t size, const char *line)
{
	size_t	 n = 0;

	ck_assert_msg(name_char((unsigned char)**p, 1), "bad name in: %s",
	    line);
	while (name_char((unsigned char)**p, 0)) {
		ck_assert_msg(n + 1 < size, "name too long in: %s", line);
		buf[n++] = *(*p)++;
	}
	buf[n] = '\0';
}

/* {a="x",b="y"} at *p: labels (le apart) into smp, unescaped. */
static void
read_labels(const char **p, struct sample *smp, const char *line)
{
	char	 lname[64], value[512];
	size_t	 n, len;

	ck_assert(**p == '{');
	(*p)++;
	while (**p != '}') {
		read_name(p, lname, sizeof(lname), line);
		ck_assert_msg(strncmp(*p, "=\"", 2) == 0, "no =\" in: %s",
		    line);
		*p += 2;
		n = 0;
		while (**p != '"') {
			ck_assert_msg(**p != '\0' && **p != '\n',
			    "unterminated label value in: %s", line);
			ck_assert(n + 1 < sizeof(value));
			if (**p == '\\') {
				(*p)++;
				switch (**p) {
				case '\\':	value[n++] = '\\'; break;
				case '"':	value[n++] = '"'; break;
				case 'n':	value[n++] = '\n'; break;
				default:
					ck_abort_msg("bad escape \\%c in: %s",
					    **p, line);
				}
				(*p)++;
			} else
				value[n++] = *(*p)++;
		}
		value[n] = '\0';
		(*p)++;
		if (strcmp(lname, "le") == 0) {
			ck_assert_msg(smp->le[0] == '\0', "le twice: %s", line);
			ck_assert(strlen(value) < sizeof(smp->le));
			strcpy(smp->le, value);
		} else {
			len = strlen(smp->labels);
			ck_assert(len + strlen(lname) + strlen(value) + 3 <
			    sizeof(smp->labels));
			/* Checked just above; the test keeps gcc -O1 happy. */
			ck_assert(snprintf(smp->labels + len,
			    sizeof(smp->labels) - len, "%s=%s\x1f", lname,
			    value) < (int)(sizeof(smp->labels) - len));
		}
		if (**p == ',')
			(*p)++;
		else
			ck_assert_msg(**p == '}', "expected , or } in: %s",
			    line);
	}
	(*p)++;
}

static int
family_find(const struct expo *e, const char *name)
{
	int	 i;

	for (i = 0; i < e->nfam; i++)
		if (strcmp(e->fam[i].name, name) == 0)
			return i;
	return -1;
}

/*
 * Parse text; fail the test on anything the format does not allow or
 * that this exposition promises not to do.
 */
static void
parse(const char *text, struct expo *e)
{
	const char	*line = text, *eol, *p;
	char		 buf[1024], help[1024], *end;
	int		 cur = -1, i, j;
	size_t		 len;

	memset(e, 0, sizeof(*e));
	e->smp = xcalloc(MAX_SAMPLES, sizeof(*e->smp));
	ck_assert_msg(*text != '\0', "empty exposition");
	ck_assert_msg(text[strlen(text) - 1] == '\n', "no final newline");
	for (; *line != '\0'; line = eol + 1) {
		eol = strchr(line, '\n');
		len = (size_t)(eol - line);
		ck_assert_msg(len > 0, "empty line");
		ck_assert(len < sizeof(buf));
		memcpy(buf, line, len);
		buf[len] = '\0';
		if (strncmp(buf, "# HELP ", 7) == 0) {
			struct family	*f;

			ck_assert(e->nfam < MAX_FAMILIES);
			f = &e->fam[e->nfam];
			p = buf + 7;
			read_name(&p, f->name, sizeof(f->name), buf);
			ck_assert_msg(*p == ' ' && p[1] != '\0',
			    "HELP without text: %s", buf);
			ck_assert_msg(family_find(e, f->name) == -1,
			    "second # HELP for %s", f->name);
			/* The TYPE line follows at once. */
			line = eol + 1;
			eol = strchr(line, '\n');
			ck_assert_msg(eol != NULL, "no # TYPE after %s", buf);
			(void)snprintf(help, sizeof(help), "# TYPE %s ",
			    f->name);
			ck_assert_msg(strncmp(line, help, strlen(help)) == 0,
			    "not \"%s\" after %s", help, buf);
			len = (size_t)(eol - line) - strlen(help);
			ck_assert(len < sizeof(f->type));
			memcpy(f->type, line + strlen(help), len);
			f->type[len] = '\0';
			ck_assert_msg(strcmp(f->type, "counter") == 0 ||
			    strcmp(f->type, "gauge") == 0 ||
			    strcmp(f->type, "histogram") == 0,
			    "type %s of %s", f->type, f->name);
			cur = e->nfam++;
			continue;
		}
		ck_assert_msg(buf[0] != '#', "stray comment: %s", buf);

		/* A sample of the current family. */
		ck_assert_msg(cur >= 0, "sample before any family: %s", buf);
		ck_assert(e->nsmp < MAX_SAMPLES);
		struct sample	*s = &e->smp[e->nsmp];
		struct family	*f = &e->fam[cur];

		s->family = cur;
		p = buf;
		read_name(&p, s->name, sizeof(s->name), buf);
		if (*p == '{')
			read_labels(&p, s, buf);
		ck_assert_msg(*p == ' ', "no space before the value: %s", buf);
		p++;
		ck_assert(strlen(p) < sizeof(s->value_text));
		strcpy(s->value_text, p);
		s->value = strtod(p, &end);
		ck_assert_msg(end != p && *end == '\0',
		    "bad value (or a timestamp) in: %s", buf);
		ck_assert_msg(isfinite(s->value) && s->value >= 0,
		    "value %s in: %s", p, buf);
		/* Which series of the family? */
		if (strcmp(s->name, f->name) == 0)
			s->suffix[0] = '\0';
		else {
			size_t	 fl = strlen(f->name);

			ck_assert_msg(strcmp(f->type, "histogram") == 0 &&
			    strncmp(s->name, f->name, fl) == 0 &&
			    (strcmp(s->name + fl, "_bucket") == 0 ||
			    strcmp(s->name + fl, "_sum") == 0 ||
			    strcmp(s->name + fl, "_count") == 0),
			    "sample %s outside its family %s (%s)", s->name,
			    f->name, f->type);
			strcpy(s->suffix, s->name + fl);
		}
		if (strcmp(f->type, "histogram") == 0)
			ck_assert_msg(s->suffix[0] != '\0',
			    "histogram sample without a suffix: %s", buf);
		ck_assert_msg((s->le[0] != '\0') ==
		    (strcmp(s->suffix, "_bucket") == 0),
		    "le on a sample that is no bucket, or a bucket without: %s",
		    buf);
		f->nsamples++;
		e->nsmp++;
	}
	/* No series twice. */
	for (i = 0; i < e->nsmp; i++)
		for (j = i + 1; j < e->nsmp; j++)
			ck_assert_msg(strcmp(e->smp[i].name, e->smp[j].name)
			    != 0 || strcmp(e->smp[i].labels,
			    e->smp[j].labels) != 0 || strcmp(e->smp[i].le,
			    e->smp[j].le) != 0, "series twice: %s {%s} le=%s",
			    e->smp[i].name, e->smp[i].labels, e->smp[i].le);
}

static void
expo_free(struct expo *e)
{
	free(e->smp);
}

/* Every family: prefixed, counters end in _total, histograms whole. */
static void
check_families(const struct expo *e)
{
	int	 i, k, nb, ncount, nsum;

	for (i = 0; i < e->nfam; i++) {
		const struct family	*f = &e->fam[i];

		ck_assert_msg(strncmp(f->name, "switchyard_", 11) == 0,
		    "%s is not prefixed switchyard_", f->name);
		if (strcmp(f->type, "counter") == 0)
			ck_assert_msg(strlen(f->name) > 6 && strcmp(f->name +
			    strlen(f->name) - 6, "_total") == 0,
			    "counter %s does not end in _total", f->name);
		if (strcmp(f->type, "histogram") != 0)
			continue;
		/* Each label set: its buckets in order, then sum, count. */
		for (k = 0; k < e->nsmp; k++) {
			const struct sample	*s = &e->smp[k], *b;
			uint64_t		 prev = 0;
			double			 count = -1;

			if (s->family != i || strcmp(s->suffix, "_bucket") != 0 ||
			    strcmp(s->le, "+Inf") == 0 ||
			    (k > 0 && e->smp[k - 1].family == i &&
			    strcmp(e->smp[k - 1].labels, s->labels) == 0))
				continue;	/* not the first bucket */
			nb = ncount = nsum = 0;
			for (b = s; b < e->smp + e->nsmp && b->family == i &&
			    strcmp(b->labels, s->labels) == 0; b++) {
				if (strcmp(b->suffix, "_bucket") == 0) {
					ck_assert_msg(ncount == 0 && nsum == 0,
					    "%s {%s}: bucket after sum/count",
					    f->name, s->labels);
					ck_assert_msg(b->value == floor(b->value),
					    "%s: bucket %s", f->name,
					    b->value_text);
					ck_assert_msg((uint64_t)b->value >= prev,
					    "%s {%s}: le=%s %s < %llu: not "
					    "cumulative", f->name, s->labels,
					    b->le, b->value_text,
					    (unsigned long long)prev);
					prev = (uint64_t)b->value;
					if (nb < STATS_BUCKETS - 1) {
						ck_assert_msg(fabs(strtod(b->le,
						    NULL) - stats_bucket_le[nb]) <
						    EPS, "%s: bucket %d le=%s",
						    f->name, nb, b->le);
					} else
						ck_assert_str_eq(b->le, "+Inf");
					nb++;
				} else if (strcmp(b->suffix, "_sum") == 0)
					nsum++;
				else {
					ncount++;
					count = b->value;
				}
			}
			ck_assert_msg(nb == STATS_BUCKETS, "%s {%s}: %d "
			    "buckets", f->name, s->labels, nb);
			ck_assert_msg(nsum == 1 && ncount == 1, "%s {%s}: "
			    "%d sums, %d counts", f->name, s->labels, nsum,
			    ncount);
			ck_assert_msg((double)prev == count, "%s {%s}: +Inf "
			    "%llu != _count %g", f->name, s->labels,
			    (unsigned long long)prev, count);
		}
		/* And no histogram sample outside such a group. */
		for (k = 0, nb = 0; k < e->nsmp; k++)
			if (e->smp[k].family == i)
				nb++;
		ck_assert_msg(nb % (STATS_BUCKETS + 2) == 0,
		    "%s: %d samples", f->name, nb);
	}
}

/* text has this whole line. */
static void
has_line(const char *text, const char *line)
{
	size_t	 n = strlen(line);
	const char *p;

	const char *q;
	char	 near[512] = "";
	size_t	 k;

	for (p = text; (p = strstr(p, line)) != NULL; p++)
		if ((p == text || p[-1] == '\n') && p[n] == '\n')
			return;
	/* Say what the lines of that metric are, not the whole text. */
	k = strcspn(line, "{ ");
	for (p = text; *p != '\0'; p = q + 1) {
		q = strchr(p, '\n');
		if (strncmp(p, line, k) == 0 && (p[k] == '{' || p[k] == ' ') &&
		    strlen(near) + (size_t)(q - p) + 4 < sizeof(near))
			(void)snprintf(near + strlen(near),
			    sizeof(near) - strlen(near), "\n  %.*s",
			    (int)(q - p), p);
	}
	ck_abort_msg("no line \"%s\"; that metric's lines:%s", line,
	    near[0] ? near : " none");
}

/* No line of text starts with prefix. */
static void
no_line_starting(const char *text, const char *prefix)
{
	const char *p;

	for (p = text; (p = strstr(p, prefix)) != NULL; p++)
		ck_assert_msg(p != text && p[-1] != '\n',
		    "unexpected line starting \"%s\"", prefix);
}

/* The value of the one sample named name whose labels contain want. */
static double
value_of(const struct expo *e, const char *name, const char *want)
{
	int	 i, found = -1;

	for (i = 0; i < e->nsmp; i++)
		if (strcmp(e->smp[i].name, name) == 0 &&
		    strstr(e->smp[i].labels, want) != NULL) {
			ck_assert_msg(found == -1, "%s {%s}: more than one",
			    name, want);
			found = i;
		}
	ck_assert_msg(found != -1, "no %s {%s}", name, want);
	return e->smp[found].value;
}

static const char *const expected_families[][2] = {
	{ "switchyard_requests_total", "counter" },
	{ "switchyard_request_duration_seconds", "histogram" },
	{ "switchyard_slow_loop_total", "counter" },
	{ "switchyard_auto_promotions_total", "counter" },
	{ "switchyard_connections_accepted_total", "counter" },
	{ "switchyard_accept_paused_total", "counter" },
	{ "switchyard_pool_rejected_total", "counter" },
	{ "switchyard_handler_timeouts_total", "counter" },
	{ "switchyard_access_log_dropped_total", "counter" },
	{ "switchyard_proxy_protocol_refused_total", "counter" },
	{ "switchyard_tls_handshakes_total", "counter" },
	{ "switchyard_tls_resumed_total", "counter" },
	{ "switchyard_tls_handshake_failures_total", "counter" },
	{ "switchyard_pool_queue_wait_seconds", "histogram" },
	{ "switchyard_pool_run_seconds", "histogram" },
	{ "switchyard_connections_open", "gauge" },
	{ "switchyard_pool_busy_threads", "gauge" },
	{ "switchyard_pool_queued_jobs", "gauge" },
	{ "switchyard_loop_lag_seconds", "gauge" },
	{ "switchyard_loop_lag_max_seconds", "gauge" },
	{ "switchyard_heartbeat_age_seconds", "gauge" },
	{ "switchyard_workers", "gauge" },
	{ "switchyard_generation", "gauge" },
	{ "switchyard_start_time_seconds", "gauge" },
	{ "switchyard_reloads_total", "counter" },
	{ "switchyard_worker_restarts_total", "counter" },
};

static void
check_expected_families(const struct expo *e)
{
	unsigned	 i;
	int		 k;

	for (i = 0; i < NELEM(expected_families); i++) {
		k = family_find(e, expected_families[i][0]);
		ck_assert_msg(k >= 0, "no family %s", expected_families[i][0]);
		ck_assert_str_eq(e->fam[k].type, expected_families[i][1]);
	}
}

/* -- the segment, filled by hand -------------------------------------- */

/* A path that needs every escape: / x \ y " z newline w. */
static const char	 weird_path[] = "/x\\y\"z\nw";
static const char	 weird_label[] = "route=\"/x\\\\y\\\"z\\nw\"";

static uint64_t		 started_ms;

static void
fill(struct stats *s)
{
	struct stats_route	*r;
	struct stats_route_hot	*h0, *h1;
	uint64_t		 now = clock_ms();
	unsigned		 i;

	started_ms = clock_wall_ms() - 5000;
	STORE(s->master.started_ms, started_ms);
	STORE(s->master.pid, 4242);
	STORE(s->master.slots_used, 2);
	STORE(s->master.generation, 3);
	STORE(s->master.reloads_ok, 2);
	STORE(s->master.reloads_invalid, 1);
	STORE(s->master.restarts_signal, 1);
	strcpy(s->master.config_path, "/etc/switchyard/test.json");

	/* An auto route: 200s on the loop, then 503s from the pool. */
	ck_assert_uint_eq(stats_route_index(s, "/auto"), 1);
	r = &s->routes[1];
	strcpy(r->handler, "sleep");
	strcpy(r->mode, "auto");
	/* Counted by both slots' stripes: the readers add them up. */
	h0 = stats_route_hot(s, &s->slots[0], 1);
	h1 = stats_route_hot(s, &s->slots[1], 1);
	ck_assert_ptr_ne(h0, h1);
	STORE(h0->requests[STATS_MODE_LOOP][stats_code_index(200)],
	    1234567890000ULL);
	STORE(h1->requests[STATS_MODE_LOOP][stats_code_index(200)], 123);
	STORE(h1->requests[STATS_MODE_POOL][stats_code_index(503)], 3);
	add_n(&h0->duration, 0.0003, 2);
	add_n(&h1->duration, 0.0003, 3);
	add_n(&h0->duration, 0.02, 3);
	stats_hist_add(&h1->duration, 100);
	STORE(r->slow_loop, 2);
	STORE(r->promotions, 1);
	STORE(r->promoted_gen, 3);

	/* No route matched: a 404. */
	STORE(s->hot[0][0].requests[STATS_MODE_LOOP][stats_code_index(404)],
	    2);
	add_n(&s->hot[0][0].duration, 0.0001, 2);

	/* A path written directly, with what must be escaped. */
	r = &s->routes[2];
	memcpy(r->path, weird_path, sizeof(weird_path));
	strcpy(r->handler, "hash_body");
	strcpy(r->mode, "nonblocking");
	STORE(s->hot[1][2].requests[STATS_MODE_OFFLOAD][stats_code_index(200)],
	    4);

	/* A route that answered nothing yet. */
	ck_assert_uint_eq(stats_route_index(s, "/idle"), 3);
	strcpy(s->routes[3].handler, "hello");
	strcpy(s->routes[3].mode, "nonblocking");

	/* A code not counted one by one. */
	ck_assert_uint_eq(stats_route_index(s, "/teapot"), 4);
	strcpy(s->routes[4].handler, "hello");
	strcpy(s->routes[4].mode, "blocking");
	STORE(s->hot[0][4].requests[STATS_MODE_POOL][stats_code_index(418)],
	    1);

	/* Two slots in use; slot 2 ran once but is beyond slots_used. */
	STORE(s->slots[0].accepted, 11);
	STORE(s->slots[0].paused_limit, 1);
	STORE(s->slots[0].rejected_503, 3);
	add_n(&s->slots[0].queue_wait, 0.001, 2);
	stats_hist_add(&s->slots[0].run_time, 0.2);
	STORE(s->slots[1].accepted, 5);
	STORE(s->slots[1].paused_emfile, 7);
	STORE(s->slots[1].timeouts_504, 1);
	STORE(s->slots[1].accesslog_dropped, 42);
	STORE(s->slots[1].tls_handshakes, 8);
	STORE(s->slots[1].tls_resumed, 3);
	STORE(s->slots[1].tls_failed[STATS_TLS_TIMEOUT], 2);
	STORE(s->slots[2].accepted, 99);

	/* Two live cells, one being set up, one free with stale data. */
	i = 0;
	STORE(s->cells[i].pid, 1234);
	STORE(s->cells[i].slot, 0);
	STORE(s->cells[i].generation, 3);
	STORE(s->cells[i].connections, 3);
	STORE(s->cells[i].pool_busy, 1);
	STORE(s->cells[i].pool_queued, 2);
	STORE(s->cells[i].loop_lag_us, 1500);
	STORE(s->cells[i].loop_lag_max_us, 250000);
	STORE(s->cells[i].heartbeat_ms, now - 1500);
	i = 7;
	STORE(s->cells[i].pid, 5678);
	STORE(s->cells[i].slot, 1);
	STORE(s->cells[i].generation, 3);
	/* Ticked after the scrape read the clock (another process). */
	STORE(s->cells[i].heartbeat_ms, now + 60000);
	STORE(s->cells[8].pid, -1);
	STORE(s->cells[8].slot, 5);
	STORE(s->cells[9].pid, 0);
	STORE(s->cells[9].slot, 6);
	STORE(s->cells[9].connections, 9);
}

START_TEST(render_filled)
{
	struct stats	*s = stats_map();
	struct expo	 e;
	char		*text, line[256];
	double		 v;

	ck_assert_ptr_nonnull(s);
	fill(s);
	text = render(s);
	parse(text, &e);
	check_families(&e);
	check_expected_families(&e);
	ck_assert_int_eq(e.nfam, (int)NELEM(expected_families));

	/* Routes: only what is not 0, with exact values and labels. */
	has_line(text, "switchyard_requests_total{route=\"/auto\","
	    "mode=\"loop\",code=\"200\"} 1234567890123");
	has_line(text, "switchyard_requests_total{route=\"/auto\","
	    "mode=\"pool\",code=\"503\"} 3");
	has_line(text, "switchyard_requests_total{route=\"\","
	    "mode=\"loop\",code=\"404\"} 2");
	(void)snprintf(line, sizeof(line), "switchyard_requests_total{%s,"
	    "mode=\"offload\",code=\"200\"} 4", weird_label);
	has_line(text, line);
	has_line(text, "switchyard_requests_total{route=\"/teapot\","
	    "mode=\"pool\",code=\"other\"} 1");
	ck_assert_int_eq(e.fam[family_find(&e, "switchyard_requests_total")].
	    nsamples, 5);
	ck_assert_ptr_null(strstr(text, "route=\"/idle\",mode"));
	/* The unescaped label is the path itself. */
	v = value_of(&e, "switchyard_requests_total",
	    "route=/x\\y\"z\nw\x1fmode=offload");
	ck_assert(v == 4);

	has_line(text, "switchyard_request_duration_seconds_bucket{"
	    "route=\"/auto\",le=\"0.0005\"} 5");
	has_line(text, "switchyard_request_duration_seconds_bucket{"
	    "route=\"/auto\",le=\"0.01\"} 5");
	has_line(text, "switchyard_request_duration_seconds_bucket{"
	    "route=\"/auto\",le=\"0.025\"} 8");
	has_line(text, "switchyard_request_duration_seconds_bucket{"
	    "route=\"/auto\",le=\"10\"} 8");
	has_line(text, "switchyard_request_duration_seconds_bucket{"
	    "route=\"/auto\",le=\"+Inf\"} 9");
	has_line(text, "switchyard_request_duration_seconds_sum{"
	    "route=\"/auto\"} 100.061500");
	has_line(text, "switchyard_request_duration_seconds_count{"
	    "route=\"/auto\"} 9");
	has_line(text, "switchyard_request_duration_seconds_count{"
	    "route=\"\"} 2");
	has_line(text, "switchyard_request_duration_seconds_sum{"
	    "route=\"\"} 0.000200");
	has_line(text, "switchyard_request_duration_seconds_count{"
	    "route=\"/idle\"} 0");
	(void)snprintf(line, sizeof(line),
	    "switchyard_request_duration_seconds_count{%s} 0", weird_label);
	has_line(text, line);
	has_line(text, "switchyard_slow_loop_total{route=\"/auto\"} 2");
	has_line(text, "switchyard_slow_loop_total{route=\"/idle\"} 0");
	has_line(text, "switchyard_auto_promotions_total{route=\"/auto\"} 1");
	/* The "no route" slot has no slow calls nor promotions. */
	ck_assert_ptr_null(strstr(text, "switchyard_slow_loop_total{route=\"\""));
	ck_assert_ptr_null(strstr(text,
	    "switchyard_auto_promotions_total{route=\"\""));

	/* Slots 0 and 1 only. */
	has_line(text, "switchyard_connections_accepted_total{worker=\"0\"} 11");
	has_line(text, "switchyard_connections_accepted_total{worker=\"1\"} 5");
	ck_assert_ptr_null(strstr(text, "worker=\"2\""));
	has_line(text, "switchyard_accept_paused_total{worker=\"0\","
	    "reason=\"limit\"} 1");
	has_line(text, "switchyard_accept_paused_total{worker=\"1\","
	    "reason=\"emfile\"} 7");
	has_line(text, "switchyard_pool_rejected_total{worker=\"0\"} 3");
	has_line(text, "switchyard_pool_rejected_total{worker=\"1\"} 0");
	has_line(text, "switchyard_handler_timeouts_total{worker=\"1\"} 1");
	has_line(text, "switchyard_access_log_dropped_total{worker=\"1\"} 42");
	has_line(text, "switchyard_access_log_dropped_total{worker=\"0\"} 0");
	has_line(text, "switchyard_tls_handshakes_total{worker=\"1\"} 8");
	has_line(text, "switchyard_tls_resumed_total{worker=\"1\"} 3");
	/* Every reason of every slot, so that a series never appears late. */
	has_line(text, "switchyard_tls_handshake_failures_total{worker=\"1\","
	    "reason=\"timeout\"} 2");
	has_line(text, "switchyard_tls_handshake_failures_total{worker=\"0\","
	    "reason=\"http\"} 0");
	has_line(text, "switchyard_pool_queue_wait_seconds_bucket{"
	    "worker=\"0\",le=\"0.0005\"} 0");
	has_line(text, "switchyard_pool_queue_wait_seconds_bucket{"
	    "worker=\"0\",le=\"0.001\"} 2");
	has_line(text, "switchyard_pool_queue_wait_seconds_sum{"
	    "worker=\"0\"} 0.002000");
	has_line(text, "switchyard_pool_queue_wait_seconds_count{"
	    "worker=\"1\"} 0");
	has_line(text, "switchyard_pool_run_seconds_bucket{worker=\"0\","
	    "le=\"0.1\"} 0");
	has_line(text, "switchyard_pool_run_seconds_bucket{worker=\"0\","
	    "le=\"0.25\"} 1");
	has_line(text, "switchyard_pool_run_seconds_count{worker=\"0\"} 1");

	/* Live cells only: pids 1234 and 5678. */
	has_line(text, "switchyard_connections_open{worker=\"0\","
	    "pid=\"1234\",generation=\"3\"} 3");
	has_line(text, "switchyard_connections_open{worker=\"1\","
	    "pid=\"5678\",generation=\"3\"} 0");
	ck_assert_int_eq(e.fam[family_find(&e,
	    "switchyard_connections_open")].nsamples, 2);
	ck_assert_ptr_null(strstr(text, "pid=\"-1\""));
	ck_assert_ptr_null(strstr(text, "pid=\"0\""));
	has_line(text, "switchyard_pool_busy_threads{worker=\"0\","
	    "pid=\"1234\",generation=\"3\"} 1");
	has_line(text, "switchyard_pool_queued_jobs{worker=\"0\","
	    "pid=\"1234\",generation=\"3\"} 2");
	has_line(text, "switchyard_loop_lag_seconds{worker=\"0\","
	    "pid=\"1234\",generation=\"3\"} 0.001500");
	has_line(text, "switchyard_loop_lag_max_seconds{worker=\"0\","
	    "pid=\"1234\",generation=\"3\"} 0.250000");
	v = value_of(&e, "switchyard_heartbeat_age_seconds", "pid=1234");
	ck_assert_msg(v >= 1.5 && v < 10, "heartbeat age %g", v);
	/* A heartbeat newer than the scrape's clock is 0 s old. */
	has_line(text, "switchyard_heartbeat_age_seconds{worker=\"1\","
	    "pid=\"5678\",generation=\"3\"} 0.000");

	/* The master. */
	has_line(text, "switchyard_workers 2");
	has_line(text, "switchyard_generation 3");
	(void)snprintf(line, sizeof(line),
	    "switchyard_start_time_seconds %.3f", (double)started_ms / 1e3);
	has_line(text, line);
	has_line(text, "switchyard_reloads_total{result=\"ok\"} 2");
	has_line(text, "switchyard_reloads_total{result=\"invalid\"} 1");
	has_line(text, "switchyard_reloads_total{result=\"failed\"} 0");
	has_line(text, "switchyard_worker_restarts_total{cause=\"exit\"} 0");
	has_line(text, "switchyard_worker_restarts_total{cause=\"signal\"} 1");
	has_line(text, "switchyard_worker_restarts_total{cause=\"watchdog\"} 0");

	expo_free(&e);
	free(text);
	stats_unmap(s);
}
END_TEST

/* Nothing counted yet: every family announced, no stray series. */
START_TEST(render_empty)
{
	struct stats	*s = stats_map();
	struct expo	 e;
	char		*text;

	ck_assert_ptr_nonnull(s);
	text = render(s);
	parse(text, &e);
	check_families(&e);
	check_expected_families(&e);
	ck_assert_int_eq(e.fam[family_find(&e, "switchyard_requests_total")].
	    nsamples, 0);
	ck_assert_int_eq(e.fam[family_find(&e,
	    "switchyard_request_duration_seconds")].nsamples, 0);
	ck_assert_ptr_null(strstr(text, "route=\"\""));
	no_line_starting(text, "switchyard_connections_open{");
	has_line(text, "switchyard_workers 0");
	expo_free(&e);
	free(text);

	/* One 400 on no route: the "" route appears, and only it. */
	STORE(s->hot[0][0].requests[STATS_MODE_LOOP][stats_code_index(400)],
	    1);
	stats_hist_add(&s->hot[0][0].duration, 0.00001);
	text = render(s);
	parse(text, &e);
	check_families(&e);
	has_line(text, "switchyard_requests_total{route=\"\",mode=\"loop\","
	    "code=\"400\"} 1");
	has_line(text, "switchyard_request_duration_seconds_count{"
	    "route=\"\"} 1");
	expo_free(&e);
	free(text);
	stats_unmap(s);
}
END_TEST

/* A route with a name as long as a slot holds still renders whole. */
START_TEST(render_long_label)
{
	struct stats	*s = stats_map();
	struct expo	 e;
	char		*text, want[STATS_PATH_MAX + 1];
	unsigned	 i;

	ck_assert_ptr_nonnull(s);
	/* Every byte escaped: the label is twice as long. */
	s->routes[1].path[0] = '/';
	for (i = 1; i < STATS_PATH_MAX - 1; i++)
		s->routes[1].path[i] = i % 2 ? '"' : '\\';
	s->routes[1].path[STATS_PATH_MAX - 1] = '\0';
	STORE(s->hot[0][1].requests[STATS_MODE_LOOP][stats_code_index(200)],
	    1);
	text = render(s);
	parse(text, &e);
	check_families(&e);
	memcpy(want, s->routes[1].path, STATS_PATH_MAX);
	ck_assert(value_of(&e, "switchyard_requests_total", want) == 1);
	expo_free(&e);
	free(text);
	stats_unmap(s);
}
END_TEST

/* -- the handlers ----------------------------------------------------- */

START_TEST(metrics_handler)
{
	struct stats	*s = stats_map();
	struct treq	*t;
	char		*text;

	ck_assert_ptr_nonnull(s);
	fill(s);
	t = treq_new("metrics");
	ck_assert_int_eq(t->route.handler->handle(&t->req, NULL), SY_DONE);
	ck_assert_int_eq(t->req.status, 200);
	ck_assert_str_eq(t->req.content_type,
	    "text/plain; version=0.0.4; charset=utf-8");
	text = treq_body(t);
	has_line(text, "switchyard_generation 3");
	free(text);
	treq_free(t);

	/* No segment in this process: 503, not a crash. */
	stats_unmap(s);
	ck_assert_ptr_null(stats_get());
	t = treq_new("metrics");
	ck_assert_int_eq(t->route.handler->handle(&t->req, NULL), SY_DONE);
	ck_assert_int_eq(t->req.status, 503);
	treq_free(t);
}
END_TEST

static json_t *
route_of(json_t *routes, const char *path)
{
	size_t	 i;
	json_t	*r;

	json_array_foreach(routes, i, r)
		if (strcmp(json_string_value(json_object_get(r, "path")),
		    path) == 0)
			return r;
	ck_abort_msg("no route %s in status", path);
	return NULL;
}

static double
num(json_t *o, const char *key)
{
	json_t	*v = json_object_get(o, key);

	ck_assert_msg(json_is_number(v), "%s is not a number", key);
	return json_number_value(v);
}

START_TEST(status_handler)
{
	struct stats	*s = stats_map();
	struct treq	*t;
	json_error_t	 jerr;
	json_t		*doc, *srv, *workers, *routes, *w, *r;
	char		*text;
	size_t		 i;

	ck_assert_ptr_nonnull(s);
	fill(s);
	t = treq_new("status");
	ck_assert_int_eq(t->route.handler->handle(&t->req, NULL), SY_DONE);
	ck_assert_int_eq(t->req.status, 200);
	text = treq_body(t);
	doc = json_loads(text, 0, &jerr);
	ck_assert_msg(doc != NULL, "bad JSON (%s): %s", jerr.text, text);
	ck_assert_uint_eq(json_object_size(doc), 3);
	srv = json_object_get(doc, "server");
	ck_assert(json_is_string(json_object_get(srv, "version")));
	ck_assert(num(srv, "pid") == 4242);
	ck_assert(num(srv, "uptime_seconds") >= 5);
	ck_assert(num(srv, "generation") == 3);
	ck_assert_str_eq(json_string_value(json_object_get(srv, "config")),
	    "/etc/switchyard/test.json");
	ck_assert(json_is_false(json_object_get(srv, "draining")));

	workers = json_object_get(doc, "workers");
	ck_assert_uint_eq(json_array_size(workers), 2);
	json_array_foreach(workers, i, w) {
		ck_assert(num(w, "pid") == (i == 0 ? 1234 : 5678));
		ck_assert(num(w, "slot") == i);
		ck_assert(num(w, "generation") == 3);
		(void)num(w, "pool_busy");
		(void)num(w, "pool_queued");
		(void)num(w, "loop_lag_ms");
	}
	w = json_array_get(workers, 0);
	ck_assert(num(w, "connections") == 3);
	ck_assert(num(w, "loop_lag_ms") == 1.5);
	ck_assert(num(w, "heartbeat_age_ms") >= 1500);
	ck_assert(num(json_array_get(workers, 1), "heartbeat_age_ms") == 0);

	routes = json_object_get(doc, "routes");
	ck_assert_uint_eq(json_array_size(routes), 4);	/* not "" */
	r = route_of(routes, "/auto");
	ck_assert(num(r, "requests") == 1234567890126.0);
	ck_assert(num(r, "errors") == 3);
	ck_assert_str_eq(json_string_value(json_object_get(r, "mode")), "auto");
	ck_assert_str_eq(json_string_value(json_object_get(r,
	    "current_mode")), "pool");
	ck_assert(fabs(num(r, "p50_ms") - 0.45) < 1e-9);
	ck_assert(fabs(num(r, "p99_ms") - 10000) < 1e-9);
	r = route_of(routes, weird_path);
	ck_assert_str_eq(json_string_value(json_object_get(r,
	    "current_mode")), "loop");
	r = route_of(routes, "/idle");
	ck_assert(num(r, "requests") == 0);
	ck_assert(json_is_null(json_object_get(r, "p50_ms")));
	ck_assert(json_is_null(json_object_get(r, "p99_ms")));
	r = route_of(routes, "/teapot");
	ck_assert(num(r, "errors") == 1);	/* "other" counts */
	ck_assert_str_eq(json_string_value(json_object_get(r,
	    "current_mode")), "pool");

	/* A promotion of an older generation is not the current mode. */
	json_decref(doc);
	free(text);
	treq_free(t);
	STORE(s->master.generation, 4);
	STORE(s->master.draining, 1);
	t = treq_new("status");
	ck_assert_int_eq(t->route.handler->handle(&t->req, NULL), SY_DONE);
	text = treq_body(t);
	doc = json_loads(text, 0, &jerr);
	ck_assert_ptr_nonnull(doc);
	r = route_of(json_object_get(doc, "routes"), "/auto");
	ck_assert_str_eq(json_string_value(json_object_get(r,
	    "current_mode")), "loop");
	ck_assert(json_is_true(json_object_get(json_object_get(doc, "server"),
	    "draining")));
	json_decref(doc);
	free(text);
	treq_free(t);
	stats_unmap(s);
}
END_TEST

static Suite *
stats_suite(void)
{
	Suite	*s = suite_create("stats");
	TCase	*tc;

	tc = tcase_create("histogram");
	tcase_add_test(tc, hist_bounds_sorted);
	tcase_add_loop_test(tc, hist_add_at_bounds, 0, STATS_BUCKETS - 1);
	tcase_add_test(tc, hist_add_extremes);
	tcase_add_test(tc, hist_sum_us);
	tcase_add_test(tc, hist_quantile_empty);
	tcase_add_test(tc, hist_quantile_one_bucket);
	tcase_add_test(tc, hist_quantile_across);
	tcase_add_test(tc, hist_quantile_inf);
	tcase_add_test(tc, hist_threads);
	suite_add_tcase(s, tc);

	tc = tcase_create("codes");
	tcase_add_test(tc, codes_round_trip);
	tcase_add_test(tc, codes_served_are_listed);
	tcase_add_test(tc, codes_other);
	suite_add_tcase(s, tc);

	tc = tcase_create("routes");
	tcase_add_test(tc, routes_same_path_same_slot);
	tcase_add_test(tc, routes_full);
	tcase_add_test(tc, routes_long_path);
	suite_add_tcase(s, tc);

	tc = tcase_create("exposition");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, render_filled);
	tcase_add_test(tc, render_empty);
	tcase_add_test(tc, render_long_label);
	tcase_add_test(tc, metrics_handler);
	tcase_add_test(tc, status_handler);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return unit_run(stats_suite());
}
