/*
 * status.c - the "status" handler: the server's state as JSON.
 *
 * The same facts as "metrics", from the same shared segment, shaped for
 * a person or a script: the server, each worker process, each route with
 * how it is configured, how it runs now, and what it has answered.
 */
#include "autoconfig.h"

#include <string.h>

#include "clock.h"
#include "switchyard.h"
#include "stats.h"
#include "handlers/handlers.h"

#define LOAD(x)		atomic_load_explicit(&(x), memory_order_relaxed)

/*
 * The last reload: {"seconds_ago", "ok", "result"}, or null when there
 * was none, or while the master rewrites it (the time is 0 meanwhile, and
 * changes when it is done: see master_reload_record).
 */
static json_t *
reload_json(const struct stats_master *m)
{
	char		 text[sizeof(m->reload_text)];
	uint64_t	 ms;
	int		 ok;

	if ((ms = atomic_load(&m->reload_ms)) == 0)
		return json_null();
	ok = atomic_load(&m->reload_ok);
	memcpy(text, m->reload_text, sizeof(text));
	text[sizeof(text) - 1] = '\0';
	if (atomic_load(&m->reload_ms) != ms)
		return json_null();
	return json_pack("{s:f, s:b, s:s}",
	    "seconds_ago", (double)(clock_wall_ms() - ms) / 1e3,
	    "ok", ok, "result", text);
}

static json_t *
server_json(const struct stats *s)
{
	const struct stats_master	*m = &s->master;
	json_t				*crash = NULL;
	uint64_t			 crash_ms;

	/* The master writes the crash's time last: then the rest is set. */
	if ((crash_ms = atomic_load(&m->crash_ms)) != 0)
		crash = json_pack("{s:f, s:I, s:I, s:I, s:s?, s:s?}",
		    "seconds_ago", (double)(clock_wall_ms() - crash_ms) / 1e3,
		    "pid", (json_int_t)LOAD(m->crash_pid),
		    "slot", (json_int_t)LOAD(m->crash_slot),
		    "signal", (json_int_t)LOAD(m->crash_signal),
		    "route", m->crash_route[0] ? m->crash_route : NULL,
		    "handler", m->crash_handler[0] ? m->crash_handler : NULL);
	return json_pack("{s:s, s:I, s:f, s:I, s:s, s:o, s:o, s:{s:I, s:I, "
	    "s:I}, s:b}",
	    "version", PACKAGE_VERSION,
	    "pid", (json_int_t)LOAD(m->pid),
	    "uptime_seconds",
	    (double)(clock_wall_ms() - LOAD(m->started_ms)) / 1e3,
	    "generation", (json_int_t)LOAD(m->generation),
	    "config", m->config_path,
	    "last_crash", crash != NULL ? crash : json_null(),
	    "last_reload", reload_json(m),
	    "reloads",
	    "ok", (json_int_t)LOAD(m->reloads_ok),
	    "invalid", (json_int_t)LOAD(m->reloads_invalid),
	    "failed", (json_int_t)LOAD(m->reloads_failed),
	    "draining", LOAD(m->draining) != 0);
}

/* now - then, or 0 when a heartbeat ticked after now was read. */
static uint64_t
age_ms(uint64_t now, uint64_t then)
{
	return now > then ? now - then : 0;
}

static json_t *
workers_json(const struct stats *s)
{
	json_t		*a = json_array(), *w;
	uint64_t	 now = clock_ms();
	unsigned	 i;
	int		 pid;

	if (a == NULL)
		return NULL;
	for (i = 0; i < STATS_CELLS; i++) {
		const struct stats_cell	*c = &s->cells[i];

		if ((pid = LOAD(c->pid)) <= 0)
			continue;
		w = json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:f, "
		    "s:f, s:f}",
		    "pid", (json_int_t)pid,
		    "slot", (json_int_t)LOAD(c->slot),
		    "generation", (json_int_t)LOAD(c->generation),
		    "connections", (json_int_t)LOAD(c->connections),
		    "pool_busy", (json_int_t)LOAD(c->pool_busy),
		    "pool_queued", (json_int_t)LOAD(c->pool_queued),
		    "threads", (json_int_t)LOAD(c->pool_threads),
		    "queue_limit", (json_int_t)LOAD(c->pool_queue_limit),
		    "loop_lag_ms", (double)LOAD(c->loop_lag_us) / 1e3,
		    "loop_lag_max_ms", (double)LOAD(c->loop_lag_max_us) / 1e3,
		    "heartbeat_age_ms", (double)age_ms(now,
		    LOAD(c->heartbeat_ms)));
		if (w == NULL || json_array_append_new(a, w) == -1) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

/*
 * How the route runs in the serving generation: an auto route that a
 * worker of this generation caught blocking the loop runs in the pool.
 */
static const char *
current_mode(const struct stats *s, const struct stats_route *r)
{
	if (strcmp(r->mode, "blocking") == 0)
		return "pool";
	if (strcmp(r->mode, "auto") == 0 && LOAD(r->promotions) != 0 &&
	    LOAD(r->promoted_gen) == LOAD(s->master.generation))
		return "pool";
	return "loop";
}

/* The mean in ms (exact: sum over count), or null while none. */
static json_t *
mean_ms(const struct stats_hist *h)
{
	uint64_t	 n = 0;
	unsigned	 i;

	for (i = 0; i < STATS_BUCKETS; i++)
		n += LOAD(h->bucket[i]);
	return n == 0 ? json_null() :
	    json_real((double)LOAD(h->sum_us) / 1e3 / (double)n);
}

/*
 * A quantile in ms, or null while the route has answered nothing: an
 * estimate, interpolated inside a histogram bucket.
 */
static json_t *
quantile_ms(const struct stats_hist *h, double q)
{
	double	 v = stats_hist_quantile(h, q);

	return v < 0 ? json_null() : json_real(v * 1e3);
}

static json_t *
routes_json(const struct stats *s)
{
	json_t		*a = json_array(), *r;
	struct stats_route_hot hot;
	uint64_t	 requests, errors, n;
	unsigned	 i, m, c;

	if (a == NULL)
		return NULL;
	for (i = 1; i < STATS_ROUTES; i++) {
		const struct stats_route	*sr = &s->routes[i];

		if (sr->path[0] == '\0')
			continue;
		requests = errors = 0;
		stats_route_sum(s, i, &hot);
		for (m = 0; m < STATS_NMODES; m++)
			for (c = 0; c < STATS_NCODES; c++) {
				n = LOAD(hot.requests[m][c]);
				requests += n;
				if (stats_code_at(c) >= 500 ||
				    stats_code_at(c) == 0)
					errors += n;
			}
		r = json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:o, "
		    "s:o, s:o}",
		    "path", sr->path,
		    "handler", sr->handler,
		    "mode", sr->mode,
		    "current_mode", current_mode(s, sr),
		    "requests", (json_int_t)requests,
		    "errors", (json_int_t)errors,
		    "slow_loop", (json_int_t)LOAD(sr->slow_loop),
		    "promotions", (json_int_t)LOAD(sr->promotions),
		    "mean_ms", mean_ms(&hot.duration),
		    "p50_ms", quantile_ms(&hot.duration, 0.5),
		    "p99_ms", quantile_ms(&hot.duration, 0.99));
		if (r == NULL || json_array_append_new(a, r) == -1) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

static int
status_handle(struct sy_req *req, void *state)
{
	const struct stats	*s = stats_get();
	json_t			*doc;

	if (s == NULL)
		return sy_resp_error(req, 503, "no statistics in this process") ?
		    SY_ERROR : SY_DONE;
	doc = json_pack("{s:o*, s:o*, s:o*}", "server", server_json(s),
	    "workers", workers_json(s), "routes", routes_json(s));
	if (doc == NULL)
		return SY_ERROR;
	return sy_resp_json(req, 200, doc) == 0 ? SY_DONE : SY_ERROR;
}

const struct sy_handler handler_status = {
	.abi = SY_ABI_VERSION,
	.name = "status",
	.flags = 0,
	.init = NULL,
	.free = NULL,
	.handle = status_handle,
};
