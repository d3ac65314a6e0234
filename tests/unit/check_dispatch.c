/*
 * check_dispatch.c - the modes: where a handler runs, the loop-block
 * detector, auto promotion, 500 and 503, taking a queued job back.
 *
 * Every test drives dispatch.c with a real event base, a real pool and a
 * mapped stats segment, and handlers of its own bound through the
 * registry as a plugin's would be. Where a handler ran is told by thread
 * identity, never by timing; the only clock involved is the detector's,
 * and the handler that trips it sleeps three times its threshold, which
 * a loaded machine can only lengthen.
 */
#include "autoconfig.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "api.h"
#include "config.h"
#include "dispatch.h"
#include "gate.h"
#include "http.h"
#include "log.h"
#include "pool.h"
#include "stats.h"
#include "unit.h"

#define WARN_MS		20		/* loop_block_warn_ms */
#define BLOCK_MS	(3 * WARN_MS)	/* what t_block holds the loop */

static pthread_t	loop_thread;

/* -- handlers ---------------------------------------------------------- */

/* Where the last t_where call ran: 1 the loop thread, 0 another. */
static atomic_int	where_loop = -1;
static atomic_int	where_calls;

static int
t_where(struct sy_req *req, void *state)
{
	(void)state;
	atomic_store(&where_loop, pthread_equal(pthread_self(), loop_thread));
	atomic_fetch_add(&where_calls, 1);
	return sy_resp_body(req, "ok", 2);
}

static void
sleep_ms(unsigned ms)
{
	struct timespec	 ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/* Holds its thread for BLOCK_MS when the path ends in "/block". */
static int
t_block(struct sy_req *req, void *state)
{
	const char	*p = sy_req_path(req);
	size_t		 n = strlen(p);

	if (n >= 6 && strcmp(p + n - 6, "/block") == 0)
		sleep_ms(BLOCK_MS);
	return t_where(req, state);
}

/* Builds half a response, then fails. */
static int
t_fail(struct sy_req *req, void *state)
{
	(void)state;
	(void)sy_resp_header(req, "X-Half", "built");
	(void)sy_resp_body(req, "half", 4);
	return SY_ERROR;
}

/* Returns SY_PENDING; the test finishes the request itself. */
static int
t_pending(struct sy_req *req, void *state)
{
	(void)req;
	(void)state;
	return SY_PENDING;
}

#define HANDLER(fn, fl) \
	static const struct sy_handler h_##fn = { SY_ABI_VERSION, #fn, fl, \
	    NULL, NULL, fn }
HANDLER(t_where, 0);
HANDLER(t_block, 0);
HANDLER(t_fail, 0);
HANDLER(t_pending, SY_HANDLER_LOOP_ONLY);

static const struct sy_handler *const test_handlers[] = {
	&h_t_where, &h_t_block, &gate_handler, &h_t_fail, &h_t_pending, NULL
};

/* -- the worker around dispatch.c -------------------------------------- */

static const char conf_json[] =
	"{\"threads\": 1, \"queue_limit\": 1, \"loop_block_warn_ms\": 20,"
	" \"routes\": ["
	"  {\"path\": \"/nb\", \"handler\": \"t_where\","
	"   \"mode\": \"nonblocking\"},"
	"  {\"path\": \"/b\", \"handler\": \"t_where\", \"mode\": \"blocking\"},"
	"  {\"path\": \"/auto/\", \"match\": \"prefix\", \"handler\": \"t_block\","
	"   \"mode\": \"auto\"},"
	"  {\"path\": \"/nbslow/\", \"match\": \"prefix\","
	"   \"handler\": \"t_block\", \"mode\": \"nonblocking\"},"
	"  {\"path\": \"/gate\", \"handler\": \"t_gate\", \"mode\": \"blocking\"},"
	"  {\"path\": \"/fail\", \"handler\": \"t_fail\","
	"   \"mode\": \"nonblocking\"},"
	"  {\"path\": \"/failpool\", \"handler\": \"t_fail\","
	"   \"mode\": \"blocking\"},"
	"  {\"path\": \"/pending\", \"handler\": \"t_pending\","
	"   \"mode\": \"nonblocking\"}"
	"]}";

static struct event_base	*base;
static struct pool		*pool;
static struct stats		*stats;
static struct config		*conf;
static struct dispatch		*disp;
static char			 logpath[] = "/tmp/check_dispatch.XXXXXX";

#define GENERATION	7

static void
setup(void)
{
	struct config_error	 err;
	size_t			 i;
	int			 fd;

	loop_thread = pthread_self();
	ck_assert_int_ge(fd = mkstemp(logpath), 0);
	(void)close(fd);
	ck_assert_int_eq(log_init(logpath, LOG_LEVEL_INFO), 0);

	registry_set_builtins(test_handlers);
	conf = config_load_string(conf_json, "dispatch.json", &err);
	ck_assert_msg(conf != NULL, "config: %s", err.text);
	ck_assert_msg(config_bind(conf, &err) == 0, "bind: %s", err.text);
	ck_assert_ptr_nonnull(stats = stats_map());
	for (i = 0; i < conf->nroutes; i++)
		conf->routes[i].stats_index = stats_route_index(stats,
		    conf->routes[i].path);
	ck_assert_ptr_nonnull(base = event_base_new());
	ck_assert_ptr_nonnull(pool = pool_new(base, conf->threads,
	    conf->queue_limit));
	ck_assert_ptr_nonnull(disp = dispatch_new(conf, pool, stats, 0,
	    GENERATION));
	gate_set(0);
	gate_inside = 0;
}

static void
teardown(void)
{
	gate_set(1);		/* a pool thread may still wait there */
	dispatch_free(disp);
	pool_free(pool);
	event_base_free(base);
	config_free(conf);
	stats_unmap(stats);
	(void)unlink(logpath);
}

/* One request as conn.c runs it: parsed, routed, dispatched. */
struct treq {
	struct http_req	 http;
	struct sy_req	 req;
	int		 done;		/* done_cb calls */
};

static void
treq_done_cb(struct sy_req *req, void *arg)
{
	struct treq	*t = arg;

	ck_assert_ptr_eq(req, &t->req);
	t->done++;
}

static const struct config_route *
route_of(const char *path)
{
	size_t	 i, n;

	for (i = 0; i < conf->nroutes; i++) {
		n = strlen(conf->routes[i].path);
		if (conf->routes[i].match == CONFIG_MATCH_PREFIX ?
		    strncmp(conf->routes[i].path, path, n) == 0 :
		    strcmp(conf->routes[i].path, path) == 0)
			return &conf->routes[i];
	}
	ck_abort_msg("no route for %s", path);
	return NULL;
}

/* Start a GET of path and dispatch it; returns dispatch_run()'s result. */
static int
treq_run(struct treq *t, const char *path)
{
	char	 raw[256];
	int	 n;

	memset(t, 0, sizeof(*t));
	n = snprintf(raw, sizeof(raw), "GET %s HTTP/1.1\r\nHost: t\r\n\r\n",
	    path);
	http_req_init(&t->http, &conf->limits, NULL, NULL);
	ck_assert_uint_eq(http_req_feed(&t->http, raw, (size_t)n), (size_t)n);
	ck_assert_int_eq(t->http.state, HTTP_COMPLETE);
	ck_assert_int_eq(api_req_init(&t->req, base, pool, treq_done_cb, t),
	    0);
	api_req_start(&t->req, &t->http, route_of(path));
	t->req.stats_slot = &stats->slots[0];
	(void)snprintf(t->req.id, sizeof(t->req.id), "test-%s", path + 1);
	return dispatch_run(disp, &t->req);
}

/* Run the loop until t's done_cb has run (a pool completion). */
static void
treq_wait(struct treq *t)
{
	while (t->done == 0)
		ck_assert_int_ge(event_base_loop(base, EVLOOP_ONCE), 0);
	ck_assert_int_eq(t->done, 1);
}

static void
treq_free(struct treq *t)
{
	api_req_cleanup(&t->req);
	http_req_cleanup(&t->http);
}

static const char *
treq_body(struct treq *t)
{
	static char	 buf[512];
	size_t		 n = api_resp_body_len(&t->req);

	ck_assert_uint_lt(n, sizeof(buf));
	ck_assert_int_eq(evbuffer_copyout(api_resp_body(&t->req), buf, n),
	    (ssize_t)n);
	buf[n] = '\0';
	return buf;
}

/* The whole error log so far. */
static char *
log_text(void)
{
	static char	 buf[16384];
	FILE		*f = fopen(logpath, "r");
	size_t		 n;

	ck_assert_ptr_nonnull(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	(void)fclose(f);
	return buf;
}

static uint64_t
route_counter(const char *path, size_t off)
{
	const struct stats_route *sr =
	    &stats->routes[route_of(path)->stats_index];

	return atomic_load((const _Atomic uint64_t *)
	    (const void *)((const char *)sr + off));
}
#define SLOW_LOOP(p)	route_counter(p, offsetof(struct stats_route, slow_loop))
#define PROMOTIONS(p)	route_counter(p, offsetof(struct stats_route, promotions))

/* -- the modes --------------------------------------------------------- */

START_TEST(nonblocking_runs_on_the_loop)
{
	struct treq	 t;

	ck_assert_int_eq(treq_run(&t, "/nb"), SY_DONE);
	/* Answered before dispatch_run() returned, on this thread. */
	ck_assert_int_eq(atomic_load(&where_loop), 1);
	ck_assert_int_eq(t.done, 0);
	ck_assert_int_eq(t.req.mode, STATS_MODE_LOOP);
	ck_assert_int_eq(t.req.status, 200);
	ck_assert_str_eq(treq_body(&t), "ok");
	treq_free(&t);
}
END_TEST

START_TEST(blocking_runs_in_the_pool)
{
	struct treq	 t;

	ck_assert_int_eq(treq_run(&t, "/b"), SY_PENDING);
	ck_assert_int_eq(t.req.mode, STATS_MODE_POOL);
	treq_wait(&t);			/* done_cb, on the loop */
	ck_assert_int_eq(atomic_load(&where_loop), 0);
	ck_assert_int_eq(t.req.status, 200);
	ck_assert_str_eq(treq_body(&t), "ok");
	treq_free(&t);
}
END_TEST

START_TEST(auto_moves_to_the_pool_once_caught)
{
	struct treq	 t;

	/* Fast calls stay on the loop, however many. */
	ck_assert_int_eq(treq_run(&t, "/auto/fast"), SY_DONE);
	ck_assert_int_eq(atomic_load(&where_loop), 1);
	treq_free(&t);
	ck_assert_uint_eq(PROMOTIONS("/auto/"), 0);

	/* Caught blocking: answered on the loop all the same, then moved. */
	ck_assert_int_eq(treq_run(&t, "/auto/block"), SY_DONE);
	ck_assert_int_eq(atomic_load(&where_loop), 1);
	ck_assert_int_eq(t.req.status, 200);
	treq_free(&t);
	ck_assert_uint_eq(SLOW_LOOP("/auto/"), 1);
	ck_assert_uint_eq(PROMOTIONS("/auto/"), 1);
	ck_assert_uint_eq(atomic_load(&stats->routes[
	    route_of("/auto/")->stats_index].promoted_gen), GENERATION);
	ck_assert_ptr_nonnull(strstr(log_text(), "route /auto/ (handler "
	    "t_block, mode auto) blocked the event loop for "));
	ck_assert_ptr_nonnull(strstr(log_text(), "moved to the thread pool "
	    "in this worker (request test-auto/block)"));

	/* From now on the pool runs it, fast or not. */
	ck_assert_int_eq(treq_run(&t, "/auto/fast"), SY_PENDING);
	ck_assert_int_eq(t.req.mode, STATS_MODE_POOL);
	treq_wait(&t);
	ck_assert_int_eq(atomic_load(&where_loop), 0);
	treq_free(&t);

	/* In the pool it may block as it likes: no second promotion. */
	ck_assert_int_eq(treq_run(&t, "/auto/block"), SY_PENDING);
	treq_wait(&t);
	treq_free(&t);
	ck_assert_uint_eq(PROMOTIONS("/auto/"), 1);
	ck_assert_uint_eq(SLOW_LOOP("/auto/"), 1);
}
END_TEST

START_TEST(nonblocking_that_blocks_is_reported_not_moved)
{
	struct treq	 t;
	int		 i;

	for (i = 0; i < 2; i++) {
		ck_assert_int_eq(treq_run(&t, "/nbslow/block"), SY_DONE);
		ck_assert_int_eq(atomic_load(&where_loop), 1);
		treq_free(&t);
	}
	ck_assert_uint_eq(SLOW_LOOP("/nbslow/"), 2);
	ck_assert_uint_eq(PROMOTIONS("/nbslow/"), 0);
	ck_assert_ptr_nonnull(strstr(log_text(), "route /nbslow/ (handler "
	    "t_block) blocked the event loop for "));
	ck_assert_ptr_nonnull(strstr(log_text(), "mark the route \"mode\": "
	    "\"blocking\" to run it in the thread pool (request "
	    "test-nbslow/block)"));

	/* A fast call is not reported. */
	ck_assert_int_eq(treq_run(&t, "/nbslow/fast"), SY_DONE);
	treq_free(&t);
	ck_assert_uint_eq(SLOW_LOOP("/nbslow/"), 2);
}
END_TEST

START_TEST(detector_off_at_zero)
{
	struct treq	 t;

	dispatch_free(disp);
	conf->loop_block_warn_ms = 0;
	ck_assert_ptr_nonnull(disp = dispatch_new(conf, pool, stats, 0, 1));
	ck_assert_int_eq(treq_run(&t, "/auto/block"), SY_DONE);
	treq_free(&t);
	ck_assert_int_eq(treq_run(&t, "/auto/fast"), SY_DONE);
	ck_assert_int_eq(atomic_load(&where_loop), 1);	/* not moved */
	treq_free(&t);
	ck_assert_uint_eq(SLOW_LOOP("/auto/"), 0);
	ck_assert_uint_eq(PROMOTIONS("/auto/"), 0);
}
END_TEST

/* -- failures ---------------------------------------------------------- */

static void
expect_500(struct treq *t, const char *path)
{
	ck_assert_int_eq(t->req.status, 500);
	/* The half-built answer is gone, headers and body. */
	ck_assert_uint_eq(t->req.headers_len, 0);
	ck_assert_ptr_null(strstr(treq_body(t), "half"));
	ck_assert_ptr_nonnull(strstr(log_text(), "failed (request test-"));
	ck_assert_ptr_nonnull(strstr(log_text(), path));
}

START_TEST(handler_error_is_500_on_loop_and_pool)
{
	struct treq	 t;

	ck_assert_int_eq(treq_run(&t, "/fail"), SY_DONE);
	expect_500(&t, "route /fail: handler t_fail failed");
	treq_free(&t);

	ck_assert_int_eq(treq_run(&t, "/failpool"), SY_PENDING);
	treq_wait(&t);
	expect_500(&t, "route /failpool: handler t_fail failed");
	treq_free(&t);
}
END_TEST

START_TEST(full_queue_is_503)
{
	struct treq	 a, b, c;
	uint64_t	 before = atomic_load(&stats->slots[0].rejected_503);
	char		 hdrs[API_HEADERS_MAX + 1];

	/* One thread busy, one job queued: the pool is full. */
	ck_assert_int_eq(treq_run(&a, "/gate"), SY_PENDING);
	gate_wait_inside(1);
	ck_assert_int_eq(treq_run(&b, "/gate"), SY_PENDING);
	ck_assert_uint_eq(pool_queued(pool), 1);

	ck_assert_int_eq(treq_run(&c, "/gate"), SY_DONE);
	ck_assert_int_eq(c.req.status, 503);
	memcpy(hdrs, c.req.headers, c.req.headers_len);
	hdrs[c.req.headers_len] = '\0';
	ck_assert_ptr_nonnull(strstr(hdrs, "Retry-After: 1\r\n"));
	ck_assert_uint_eq(atomic_load(&stats->slots[0].rejected_503),
	    before + 1);
	treq_free(&c);

	gate_set(1);
	treq_wait(&a);
	treq_wait(&b);
	ck_assert_int_eq(a.req.status, 200);
	ck_assert_int_eq(b.req.status, 200);
	treq_free(&a);
	treq_free(&b);
	ck_assert_ptr_nonnull(strstr(log_text(), "route /gate: request "
	    "refused with 503: the thread pool queue is full"));
}
END_TEST

/* -- taking requests back ---------------------------------------------- */

START_TEST(cancel_queued_running_and_pending)
{
	struct treq	 a, b, p;

	ck_assert_int_eq(treq_run(&a, "/gate"), SY_PENDING);
	gate_wait_inside(1);
	ck_assert_int_eq(treq_run(&b, "/gate"), SY_PENDING);

	/* Queued: taken back, its done_cb never runs. */
	ck_assert_int_eq(dispatch_cancel(disp, &b.req), 0);
	/* Running: the pool keeps it. */
	ck_assert_int_eq(dispatch_cancel(disp, &a.req), -1);

	/* A pending loop handler holds its request until it finishes. */
	ck_assert_int_eq(treq_run(&p, "/pending"), SY_PENDING);
	ck_assert_int_eq(p.req.pending, 1);
	ck_assert_int_eq(dispatch_cancel(disp, &p.req), -1);
	sy_req_finish(&p.req);
	ck_assert_int_eq(p.done, 1);
	ck_assert_int_eq(p.req.pending, 0);

	gate_set(1);
	treq_wait(&a);
	ck_assert_int_eq(gate_inside, 1);	/* b never started */
	ck_assert_int_eq(b.done, 0);
	treq_free(&a);
	treq_free(&b);
	treq_free(&p);
}
END_TEST

static Suite *
dispatch_suite(void)
{
	Suite	*s = suite_create("dispatch");
	TCase	*tc = tcase_create("modes");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, nonblocking_runs_on_the_loop);
	tcase_add_test(tc, blocking_runs_in_the_pool);
	tcase_add_test(tc, auto_moves_to_the_pool_once_caught);
	tcase_add_test(tc, nonblocking_that_blocks_is_reported_not_moved);
	tcase_add_test(tc, detector_off_at_zero);
	tcase_add_test(tc, handler_error_is_500_on_loop_and_pool);
	tcase_add_test(tc, full_queue_is_503);
	tcase_add_test(tc, cancel_queued_running_and_pending);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return unit_run(dispatch_suite());
}
