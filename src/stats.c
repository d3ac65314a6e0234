/*
 * stats.c - the shared-memory segment, mapped once before fork.
 *
 * MAP_SHARED|MAP_ANONYMOUS: inherited by every worker forked after it,
 * invisible to anything else, gone with the last process.
 */
#include "autoconfig.h"

#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "stats.h"

/* Prometheus' default buckets, widened at both ends for handlers. */
const double	stats_bucket_le[STATS_BUCKETS - 1] = {
	0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
	1, 2.5, 5, 10
};

static const int	stats_codes[STATS_NCODES - 1] = {
	100, 200, 201, 204, 206, 301, 302, 304, 400, 401, 403, 404, 405,
	408, 413, 414, 417, 431, 500, 501, 502, 503, 504, 505
};

const char *const	stats_mode_name[STATS_NMODES] = {
	"loop", "pool", "offload"
};

const char *const	stats_tls_fail_name[STATS_TLS_NFAILS] = {
	"http", "protocol", "timeout", "closed"
};

static struct stats	*stats_self;

/* dst += src, for a private dst: relaxed, no read-modify-write. */
#define ADD(dst, src)							\
	atomic_store_explicit(&(dst), atomic_load_explicit(&(dst),	\
	    memory_order_relaxed) + atomic_load_explicit(&(src),	\
	    memory_order_relaxed), memory_order_relaxed)

struct stats *
stats_map(void)
{
	void	*p;

	p = mmap(NULL, sizeof(struct stats), PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	stats_self = p;			/* zeroed by the kernel */
	return p;
}

void
stats_unmap(struct stats *stats)
{
	if (stats == NULL)
		return;
	if (stats == stats_self)
		stats_self = NULL;
	(void)munmap(stats, sizeof(*stats));
}

struct stats *
stats_get(void)
{
	return stats_self;
}

unsigned
stats_route_index(struct stats *stats, const char *path)
{
	unsigned	 i;

	for (i = 1; i < STATS_ROUTES; i++) {
		if (stats->routes[i].path[0] == '\0') {
			/*
			 * Master only, before the workers that use it exist:
			 * they see the name complete.
			 */
			(void)snprintf(stats->routes[i].path,
			    sizeof(stats->routes[i].path), "%s", path);
			return i;
		}
		/*
		 * A path longer than a slot holds is known by the bytes
		 * stored; comparing more would never match it again and
		 * take a new slot at every reload.
		 */
		if (strncmp(stats->routes[i].path, path,
		    STATS_PATH_MAX - 1) == 0)
			return i;
	}
	return 0;
}

void
stats_route_sum(const struct stats *stats, unsigned route,
    struct stats_route_hot *sum)
{
	const struct stats_route_hot	*h;
	unsigned			 k, m, c, i, n;

	n = atomic_load_explicit(&stats->master.slots_used,
	    memory_order_relaxed);
	n = n == 0 ? 1 : n < STATS_STRIPES ? n : STATS_STRIPES;
	memset(sum, 0, sizeof(*sum));
	for (k = 0; k < n; k++) {
		h = &stats->hot[k][route];
		for (m = 0; m < STATS_NMODES; m++)
			for (c = 0; c < STATS_NCODES; c++)
				ADD(sum->requests[m][c], h->requests[m][c]);
		for (i = 0; i < STATS_BUCKETS; i++)
			ADD(sum->duration.bucket[i], h->duration.bucket[i]);
		ADD(sum->duration.sum_us, h->duration.sum_us);
	}
}

unsigned
stats_code_index(int code)
{
	unsigned	 lo = 0, hi = STATS_NCODES - 1, mid;

	while (lo < hi) {		/* the table is sorted */
		mid = (lo + hi) / 2;
		if (stats_codes[mid] == code)
			return mid;
		if (stats_codes[mid] < code)
			lo = mid + 1;
		else
			hi = mid;
	}
	return STATS_NCODES - 1;
}

int
stats_code_at(unsigned i)
{
	return i < STATS_NCODES - 1 ? stats_codes[i] : 0;
}

void
stats_hist_add(struct stats_hist *h, double seconds)
{
	unsigned	 i;

	for (i = 0; i < STATS_BUCKETS - 1; i++)
		if (seconds <= stats_bucket_le[i])
			break;
	atomic_fetch_add_explicit(&h->bucket[i], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&h->sum_us,
	    seconds > 0 ? (uint64_t)(seconds * 1e6 + 0.5) : 0,
	    memory_order_relaxed);
}

double
stats_hist_quantile(const struct stats_hist *h, double q)
{
	uint64_t	 counts[STATS_BUCKETS], total = 0, seen = 0;
	double		 rank, lo, hi;
	unsigned	 i;

	for (i = 0; i < STATS_BUCKETS; i++) {
		counts[i] = atomic_load_explicit(&h->bucket[i],
		    memory_order_relaxed);
		total += counts[i];
	}
	if (total == 0)
		return -1;
	rank = q * (double)total;
	for (i = 0; i < STATS_BUCKETS; i++) {
		if (counts[i] > 0 && (double)(seen + counts[i]) >= rank)
			break;
		seen += counts[i];
	}
	if (i >= STATS_BUCKETS - 1)
		return stats_bucket_le[STATS_BUCKETS - 2];
	lo = i == 0 ? 0 : stats_bucket_le[i - 1];
	hi = stats_bucket_le[i];
	return lo + (hi - lo) * ((rank - (double)seen) / (double)counts[i]);
}

