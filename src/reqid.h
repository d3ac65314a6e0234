/*
 * reqid.h - request ids: the client's own X-Request-Id, or a new one.
 *
 * A generated id is 26 characters of lower-case Crockford base32
 * (0-9 a-z without i, l, o, u): 16 for a part fixed at worker start, 10
 * for a counter of that worker's requests, so making one is ten table
 * look-ups and no system call. The fixed part is 80 bits:
 *
 *   24 bits  the worker's start time, seconds since the epoch, mod 2^24
 *            (194 days)
 *   22 bits  the worker's pid (Linux's pid_max is at most 2^22)
 *   34 bits  random, from one getrandom(2) at worker start
 *
 * and the counter has 50 bits, starting at 0: at a million requests a
 * second a worker would need 35 years to wrap it.
 *
 * Why that is unique. Within a worker, the counter never repeats. Two
 * workers alive at the same time on one host (every worker of every
 * generation of a master, and of the other masters there) have different
 * pids. A worker that replaced one with the same pid (a respawn, a
 * reload, a restart of the service) started in another second, unless
 * the kernel handed the pid out twice within one second; that case, a
 * clock set back, and workers on other hosts or in other pid namespaces
 * (containers of one deployment start with the same pids, often in the
 * same second) are told apart by the 34 random bits: a collision then
 * needs the same second, pid and random value: for 100 workers started
 * in one second with one pid, a chance of 3 in 10 million.
 * The master's start time and the generation would add nothing that the
 * worker's own start time and pid do not already say.
 *
 * As with Apache's mod_unique_id, an id tells who has the source which
 * worker made it and roughly when (the first 16 characters are the same
 * for every request of one worker: grep finds them all).
 *
 * A client's id is kept when it is 1 to REQID_MAX visible ASCII
 * characters (0x21 to 0x7e: no space, no control, no byte >= 0x80);
 * anything else is replaced by a new one, never echoed.
 */
#ifndef REQID_H
#define REQID_H

#include <stdint.h>
#include <sys/types.h>

#define REQID_MAX	128	/* the longest id a client may send */
#define REQID_LEN	26	/* a generated id: 16 + 10 characters */

/* One worker's id maker. Loop thread only: no lock. */
struct reqid_gen {
	char		 prefix[16];	/* the 80 fixed bits, in base32 */
	uint64_t	 next;		/* the next counter value */
};

/*
 * Set g up for the calling process: its pid, the time now and a random
 * value from getrandom(2) (or, should that fail, from the clocks and
 * addresses at hand: the pid and time still make the id unique on this
 * host). Once per worker, after fork.
 */
void	reqid_gen_init(struct reqid_gen *g);

/*
 * The same from given parts (tests): start_s seconds since the epoch
 * (only its low 24 bits count), pid (low 22 bits), rnd (low 34 bits).
 */
void	reqid_gen_init_parts(struct reqid_gen *g, uint64_t start_s,
	    pid_t pid, uint64_t rnd);

/*
 * Write the next id and a NUL into buf, which holds REQID_LEN + 1
 * bytes. Makes no system call.
 */
void	reqid_next(struct reqid_gen *g, char *buf);

/*
 * Copy s and a NUL into buf (REQID_MAX + 1 bytes) when s is a valid
 * client id, and return its length; -1 (buf unchanged) otherwise.
 */
int	reqid_copy(char *buf, const char *s);

#endif /* REQID_H */
