/*
 * metrics.c - the "metrics" handler: Prometheus text format 0.0.4.
 *
 * Everything comes from the shared stats segment (stats.h), so whichever
 * worker answers the scrape, the numbers cover the whole server: routes
 * are server-wide counters, the pool and loop series are per worker slot
 * (labelled worker="SLOT") or per process (worker and pid), and the
 * master's counters say how the server itself has been doing.
 *
 * A scrape reads counters while workers add to them: each value is read
 * once, atomically, and a histogram's count is the sum of the buckets
 * read, so _count always equals the +Inf bucket of the same scrape.
 */
#include "autoconfig.h"

#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "switchyard.h"
#include "stats.h"
#include "handlers/handlers.h"
#include "handlers/metrics.h"

#define LOAD(x)		atomic_load_explicit(&(x), memory_order_relaxed)

/* A label value with \, " and newline escaped, as the format wants. */
static const char *
label(const char *s, char *buf, size_t bufsize)
{
	size_t	 n = 0;

	for (; *s != '\0' && n + 3 < bufsize; s++) {
		if (*s == '\\' || *s == '"') {
			buf[n++] = '\\';
			buf[n++] = *s;
		} else if (*s == '\n') {
			buf[n++] = '\\';
			buf[n++] = 'n';
		} else
			buf[n++] = *s;
	}
	buf[n] = '\0';
	return buf;
}

static int
family(struct sy_req *req, const char *name, const char *type,
    const char *help)
{
	return sy_resp_printf(req, "# HELP %s %s\n# TYPE %s %s\n", name, help,
	    name, type);
}

/* The _bucket, _sum and _count lines of h; labels may be "". */
static int
histogram(struct sy_req *req, const char *name, const char *labels,
    const struct stats_hist *h)
{
	const char	*sep = labels[0] != '\0' ? "," : "";
	uint64_t	 cum = 0;
	unsigned	 i;
	int		 rc = 0;

	for (i = 0; i < STATS_BUCKETS; i++) {
		cum += LOAD(h->bucket[i]);
		if (i < STATS_BUCKETS - 1)
			rc |= sy_resp_printf(req, "%s_bucket{%s%sle=\"%g\"} "
			    "%llu\n", name, labels, sep, stats_bucket_le[i],
			    (unsigned long long)cum);
		else
			rc |= sy_resp_printf(req, "%s_bucket{%s%sle=\"+Inf\"} "
			    "%llu\n", name, labels, sep,
			    (unsigned long long)cum);
	}
	rc |= sy_resp_printf(req, "%s_sum{%s} %.6f\n%s_count{%s} %llu\n", name,
	    labels, (double)LOAD(h->sum_us) / 1e6, name, labels,
	    (unsigned long long)cum);
	return rc;
}

/* Is route slot i in use (named, or the "no route" slot with traffic)? */
static int
route_used(const struct stats *s, unsigned i)
{
	struct stats_route_hot	 hot;
	unsigned		 m, c;

	if (i > 0)
		return s->routes[i].path[0] != '\0';
	stats_route_sum(s, 0, &hot);
	for (m = 0; m < STATS_NMODES; m++)
		for (c = 0; c < STATS_NCODES; c++)
			if (LOAD(hot.requests[m][c]) != 0)
				return 1;
	return 0;
}

static const char *
route_name(const struct stats *s, unsigned i, char *buf, size_t bufsize)
{
	/* Requests no route answered: 400s, 404s, 405s... */
	if (i == 0) {
		buf[0] = '\0';		/* callers may use buf, not the return */
		return buf;
	}
	return label(s->routes[i].path, buf, bufsize);
}

static int
write_routes(struct sy_req *req, const struct stats *s)
{
	char		 path[2 * STATS_PATH_MAX], labels[2 * STATS_PATH_MAX + 16];
	char		 code[16];
	struct stats_route_hot hot;
	unsigned	 i, m, c;
	uint64_t	 n;
	int		 rc = 0;

	rc |= family(req, "switchyard_requests_total", "counter",
	    "Requests answered, by route (\"\": none matched), how the "
	    "handler ran (loop, pool, offload) and status code.");
	for (i = 0; i < STATS_ROUTES; i++) {
		if (!route_used(s, i))
			continue;
		route_name(s, i, path, sizeof(path));
		stats_route_sum(s, i, &hot);
		for (m = 0; m < STATS_NMODES; m++)
			for (c = 0; c < STATS_NCODES; c++) {
				if ((n = LOAD(hot.requests[m][c])) == 0)
					continue;
				if (stats_code_at(c) != 0)
					(void)snprintf(code, sizeof(code), "%d",
					    stats_code_at(c));
				else
					(void)snprintf(code, sizeof(code),
					    "other");
				rc |= sy_resp_printf(req, "switchyard_requests_"
				    "total{route=\"%s\",mode=\"%s\",code=\"%s\"} "
				    "%llu\n", path, stats_mode_name[m], code,
				    (unsigned long long)n);
			}
	}
	rc |= family(req, "switchyard_request_duration_seconds", "histogram",
	    "Time from a request's first byte to its answer, by route.");
	for (i = 0; i < STATS_ROUTES; i++) {
		if (!route_used(s, i))
			continue;
		(void)snprintf(labels, sizeof(labels), "route=\"%s\"",
		    route_name(s, i, path, sizeof(path)));
		stats_route_sum(s, i, &hot);
		rc |= histogram(req, "switchyard_request_duration_seconds",
		    labels, &hot.duration);
	}
	rc |= family(req, "switchyard_slow_loop_total", "counter",
	    "Handler calls that held the event loop longer than "
	    "loop_block_warn_ms, by route.");
	for (i = 1; i < STATS_ROUTES; i++)
		if (route_used(s, i))
			rc |= sy_resp_printf(req, "switchyard_slow_loop_total{"
			    "route=\"%s\"} %llu\n", route_name(s, i, path,
			    sizeof(path)),
			    (unsigned long long)LOAD(s->routes[i].slow_loop));
	rc |= family(req, "switchyard_auto_promotions_total", "counter",
	    "Times an auto route moved to the thread pool (once per worker).");
	for (i = 1; i < STATS_ROUTES; i++)
		if (route_used(s, i))
			rc |= sy_resp_printf(req, "switchyard_auto_promotions_"
			    "total{route=\"%s\"} %llu\n", route_name(s, i, path,
			    sizeof(path)),
			    (unsigned long long)LOAD(s->routes[i].promotions));
	return rc;
}

/* A counter of each slot that ever ran, labelled worker="SLOT". */
#define SLOT_COUNTER(field, name, help) do {				\
	rc |= family(req, name, "counter", help);			\
	for (k = 0; k < nslots; k++)					\
		rc |= sy_resp_printf(req, "%s{worker=\"%u\"} %llu\n",	\
		    name, k, (unsigned long long)LOAD(s->slots[k].field)); \
} while (0)

static int
write_slots(struct sy_req *req, const struct stats *s)
{
	unsigned	 k, r, nslots = LOAD(s->master.slots_used);
	char		 labels[32];
	int		 rc = 0;

	if (nslots > STATS_SLOTS)
		nslots = STATS_SLOTS;
	SLOT_COUNTER(accepted, "switchyard_connections_accepted_total",
	    "Connections accepted, by worker slot.");
	rc |= family(req, "switchyard_accept_paused_total", "counter",
	    "Times accepting paused: at limits.max_connections, or out of "
	    "file descriptors.");
	for (k = 0; k < nslots; k++)
		rc |= sy_resp_printf(req, "switchyard_accept_paused_total{"
		    "worker=\"%u\",reason=\"limit\"} %llu\n"
		    "switchyard_accept_paused_total{worker=\"%u\","
		    "reason=\"emfile\"} %llu\n", k,
		    (unsigned long long)LOAD(s->slots[k].paused_limit), k,
		    (unsigned long long)LOAD(s->slots[k].paused_emfile));
	SLOT_COUNTER(rejected_503, "switchyard_pool_rejected_total",
	    "Requests answered 503 because the thread pool queue was full.");
	SLOT_COUNTER(timeouts_504, "switchyard_handler_timeouts_total",
	    "Requests answered 504 at timeouts.handler_ms.");
	SLOT_COUNTER(accesslog_dropped, "switchyard_access_log_dropped_total",
	    "Access log lines dropped because the log could not take them "
	    "(a stalled reader, a full disk).");
	SLOT_COUNTER(proxy_refused, "switchyard_proxy_protocol_refused_total",
	    "Connections closed unserved on a PROXY protocol listener: no "
	    "valid header in time.");
	SLOT_COUNTER(tls_handshakes, "switchyard_tls_handshakes_total",
	    "TLS handshakes completed.");
	SLOT_COUNTER(tls_resumed, "switchyard_tls_resumed_total",
	    "TLS handshakes that resumed a session (a ticket).");
	rc |= family(req, "switchyard_tls_handshake_failures_total", "counter",
	    "TLS connections closed before a session was up: plain HTTP, "
	    "other bytes TLS refused, no handshake within "
	    "timeouts.header_ms, the client leaving.");
	for (k = 0; k < nslots; k++)
		for (r = 0; r < STATS_TLS_NFAILS; r++)
			rc |= sy_resp_printf(req,
			    "switchyard_tls_handshake_failures_total{worker="
			    "\"%u\",reason=\"%s\"} %llu\n", k,
			    stats_tls_fail_name[r], (unsigned long long)LOAD(
			    s->slots[k].tls_failed[r]));
	rc |= family(req, "switchyard_pool_queue_wait_seconds", "histogram",
	    "Time pool jobs waited for a thread, by worker slot.");
	for (k = 0; k < nslots; k++) {
		(void)snprintf(labels, sizeof(labels), "worker=\"%u\"", k);
		rc |= histogram(req, "switchyard_pool_queue_wait_seconds",
		    labels, &s->slots[k].queue_wait);
	}
	rc |= family(req, "switchyard_pool_run_seconds", "histogram",
	    "Time pool jobs ran on their thread, by worker slot.");
	for (k = 0; k < nslots; k++) {
		(void)snprintf(labels, sizeof(labels), "worker=\"%u\"", k);
		rc |= histogram(req, "switchyard_pool_run_seconds", labels,
		    &s->slots[k].run_time);
	}
	return rc;
}

/* A gauge of each live worker process. */
#define CELL_GAUGE(name, help, fmt, expr) do {				\
	rc |= family(req, name, "gauge", help);				\
	for (i = 0; i < STATS_CELLS; i++) {				\
		const struct stats_cell *c = &s->cells[i];		\
		int	pid = LOAD(c->pid);				\
									\
		if (pid <= 0)						\
			continue;					\
		rc |= sy_resp_printf(req, "%s{worker=\"%u\",pid=\"%d\","\
		    "generation=\"%u\"} " fmt "\n", name, LOAD(c->slot),\
		    pid, LOAD(c->generation), expr);			\
	}								\
} while (0)

/*
 * now - then, or 0 when another worker's heartbeat ticked after now was
 * read: unsigned, that difference would be about 584 million years.
 */
static uint64_t
age_ms(uint64_t now, uint64_t then)
{
	return now > then ? now - then : 0;
}

static int
write_cells(struct sy_req *req, const struct stats *s)
{
	uint64_t	 now = clock_ms();
	unsigned	 i;
	int		 rc = 0;

	CELL_GAUGE("switchyard_connections_open", "Connections open now.",
	    "%u", LOAD(c->connections));
	CELL_GAUGE("switchyard_pool_busy_threads",
	    "Pool threads running a job (sampled 4 times a second).", "%u",
	    LOAD(c->pool_busy));
	CELL_GAUGE("switchyard_pool_queued_jobs",
	    "Pool jobs waiting for a thread (sampled 4 times a second).", "%u",
	    LOAD(c->pool_queued));
	CELL_GAUGE("switchyard_loop_lag_seconds",
	    "How late the worker's periodic loop timer last fired.", "%.6f",
	    (double)LOAD(c->loop_lag_us) / 1e6);
	CELL_GAUGE("switchyard_loop_lag_max_seconds",
	    "The largest loop lag since the worker started.", "%.6f",
	    (double)LOAD(c->loop_lag_max_us) / 1e6);
	CELL_GAUGE("switchyard_heartbeat_age_seconds",
	    "Time since the worker's event loop last ticked.", "%.3f",
	    (double)age_ms(now, LOAD(c->heartbeat_ms)) / 1e3);
	return rc;
}

static int
write_master(struct sy_req *req, const struct stats *s)
{
	const struct stats_master	*m = &s->master;
	unsigned			 i, n = 0;
	int				 rc = 0;

	for (i = 0; i < STATS_CELLS; i++)
		if (LOAD(s->cells[i].pid) > 0)
			n++;
	rc |= family(req, "switchyard_workers", "gauge",
	    "Worker processes running, all generations.");
	rc |= sy_resp_printf(req, "switchyard_workers %u\n", n);
	rc |= family(req, "switchyard_generation", "gauge",
	    "The serving generation of workers (1 + successful reloads).");
	rc |= sy_resp_printf(req, "switchyard_generation %u\n",
	    LOAD(m->generation));
	rc |= family(req, "switchyard_start_time_seconds", "gauge",
	    "When the master started, seconds since the epoch.");
	rc |= sy_resp_printf(req, "switchyard_start_time_seconds %.3f\n",
	    (double)LOAD(m->started_ms) / 1e3);
	rc |= family(req, "switchyard_reloads_total", "counter",
	    "Reloads (HUP) by result: ok, invalid (the file), failed "
	    "(rolled back).");
	rc |= sy_resp_printf(req, "switchyard_reloads_total{result=\"ok\"} "
	    "%llu\nswitchyard_reloads_total{result=\"invalid\"} %llu\n"
	    "switchyard_reloads_total{result=\"failed\"} %llu\n",
	    (unsigned long long)LOAD(m->reloads_ok),
	    (unsigned long long)LOAD(m->reloads_invalid),
	    (unsigned long long)LOAD(m->reloads_failed));
	rc |= family(req, "switchyard_worker_restarts_total", "counter",
	    "Workers replaced after dying, by cause: exit, signal, watchdog.");
	rc |= sy_resp_printf(req, "switchyard_worker_restarts_total{cause="
	    "\"exit\"} %llu\nswitchyard_worker_restarts_total{cause="
	    "\"signal\"} %llu\nswitchyard_worker_restarts_total{cause="
	    "\"watchdog\"} %llu\n",
	    (unsigned long long)LOAD(m->restarts_exit),
	    (unsigned long long)LOAD(m->restarts_signal),
	    (unsigned long long)LOAD(m->restarts_watchdog));
	return rc;
}

int
metrics_render(struct sy_req *req, const struct stats *s)
{
	int	 rc = 0;

	rc |= write_routes(req, s);
	rc |= write_slots(req, s);
	rc |= write_cells(req, s);
	rc |= write_master(req, s);
	return rc ? -1 : 0;
}

static int
metrics_handle(struct sy_req *req, void *state)
{
	const struct stats	*s = stats_get();

	if (s == NULL)
		return sy_resp_error(req, 503, "no statistics in this process") ?
		    SY_ERROR : SY_DONE;
	sy_resp_content_type(req, "text/plain; version=0.0.4; charset=utf-8");
	return metrics_render(req, s) == 0 ? SY_DONE : SY_ERROR;
}

const struct sy_handler handler_metrics = {
	.abi = SY_ABI_VERSION,
	.name = "metrics",
	.flags = 0,
	.init = NULL,
	.free = NULL,
	.handle = metrics_handle,
};
