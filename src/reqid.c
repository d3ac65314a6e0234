/*
 * reqid.c - request ids: a fixed part made once per worker and a counter
 * (the scheme, and why it is unique, are in reqid.h).
 */
#include "autoconfig.h"

#include <stdint.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "reqid.h"

#define PID_BITS	22
#define RND_BITS	34
#define TIME_BITS	24

static const char	 b32[] = "0123456789abcdefghjkmnpqrstvwxyz";

/* splitmix64's finaliser: spreads whatever entropy x has over 64 bits. */
static uint64_t
mix(uint64_t x)
{
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

void
reqid_gen_init_parts(struct reqid_gen *g, uint64_t start_s, pid_t pid,
    uint64_t rnd)
{
	uint64_t	 hi, lo;	/* the 80 bits: 16 in hi, 64 in lo */
	int		 i, shift;
	unsigned	 v;

	start_s &= (1ULL << TIME_BITS) - 1;
	hi = start_s >> 8;
	lo = (start_s & 0xff) << (PID_BITS + RND_BITS) |
	    ((uint64_t)pid & ((1ULL << PID_BITS) - 1)) << RND_BITS |
	    (rnd & ((1ULL << RND_BITS) - 1));
	/* Five bits a character, most significant first. */
	for (i = 0; i < 16; i++) {
		shift = 75 - 5 * i;		/* of the character's low bit */
		if (shift >= 64)
			v = (unsigned)(hi >> (shift - 64));
		else if (shift > 59)		/* straddles hi and lo */
			v = (unsigned)(hi << (64 - shift) | lo >> shift);
		else
			v = (unsigned)(lo >> shift);
		g->prefix[i] = b32[v & 31];
	}
	g->next = 0;
}

void
reqid_gen_init(struct reqid_gen *g)
{
	struct timespec	 rt, mt;
	uint64_t	 rnd;

	(void)clock_gettime(CLOCK_REALTIME, &rt);
	/*
	 * Never block a worker's start for entropy (early at boot): the
	 * random bits only separate hosts and namespaces, so without
	 * getrandom(2) the clocks and this stack's ASLR address will do.
	 */
	if (getrandom(&rnd, sizeof(rnd), GRND_NONBLOCK) != sizeof(rnd)) {
		(void)clock_gettime(CLOCK_MONOTONIC, &mt);
		rnd = mix((uint64_t)rt.tv_nsec ^ mix((uint64_t)mt.tv_sec << 30 ^
		    (uint64_t)mt.tv_nsec) ^ (uint64_t)(uintptr_t)&rnd);
	}
	reqid_gen_init_parts(g, (uint64_t)rt.tv_sec, getpid(), rnd);
}

void
reqid_next(struct reqid_gen *g, char *buf)
{
	uint64_t	 n = g->next++;
	int		 i;

	memcpy(buf, g->prefix, sizeof(g->prefix));
	for (i = REQID_LEN - 1; i >= (int)sizeof(g->prefix); i--) {
		buf[i] = b32[n & 31];
		n >>= 5;
	}
	buf[REQID_LEN] = '\0';
}

int
reqid_copy(char *buf, const char *s)
{
	size_t	 n;

	for (n = 0; s[n] != '\0'; n++)
		if (n == REQID_MAX || (unsigned char)s[n] < 0x21 ||
		    (unsigned char)s[n] > 0x7e)
			return -1;
	if (n == 0)
		return -1;
	memcpy(buf, s, n + 1);
	return (int)n;
}
