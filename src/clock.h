/*
 * clock.h - the program's clocks in one place: the monotonic clock for
 * durations, deadlines and heartbeats (it never jumps), the wall clock
 * only for what people and other hosts read, and milliseconds as the
 * struct timeval libevent takes.
 *
 * CLOCK_MONOTONIC and CLOCK_REALTIME cannot fail on Linux for a valid
 * struct: the results are not checked.
 */
#ifndef CLOCK_H
#define CLOCK_H

#include <sys/time.h>

#include <stdint.h>
#include <time.h>

/* Monotonic now, as a timespec (to keep) or in ns, us or ms. */
static inline void
clock_now(struct timespec *ts)
{
	(void)clock_gettime(CLOCK_MONOTONIC, ts);
}

static inline uint64_t
clock_ns(void)
{
	struct timespec	 ts;

	clock_now(&ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static inline uint64_t
clock_us(void)
{
	return clock_ns() / 1000u;
}

static inline uint64_t
clock_ms(void)
{
	return clock_ns() / 1000000u;
}

/* Seconds since t0, a clock_now() reading. */
static inline double
clock_since_s(const struct timespec *t0)
{
	struct timespec	 t;

	clock_now(&t);
	return (double)(t.tv_sec - t0->tv_sec) +
	    (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

/* Wall-clock milliseconds since the epoch (times shown to people). */
static inline uint64_t
clock_wall_ms(void)
{
	struct timespec	 ts;

	(void)clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* ms as a struct timeval, for event_add() and friends. */
static inline struct timeval
clock_tv(unsigned ms)
{
	struct timeval	 tv = { (time_t)(ms / 1000), (suseconds_t)(ms % 1000) *
			    1000 };

	return tv;
}

#endif /* CLOCK_H */
