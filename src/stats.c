/*
 * stats.c - the shared-memory segment, mapped once before fork.
 *
 * MAP_SHARED|MAP_ANONYMOUS: inherited by every worker forked after it,
 * invisible to anything else, gone with the last process.
 */
#include "autoconfig.h"

#include <sys/mman.h>
#include <time.h>

#include "stats.h"

struct stats *
stats_map(void)
{
	void	*p;

	p = mmap(NULL, sizeof(struct stats), PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	return p == MAP_FAILED ? NULL : p;	/* zeroed by the kernel */
}

void
stats_unmap(struct stats *stats)
{
	if (stats != NULL)
		(void)munmap(stats, sizeof(*stats));
}

uint64_t
stats_now_ms(void)
{
	struct timespec	 ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}
