/*
 * cpu.c - the "cpu" handler: CPU-bound work with a checkable result.
 *
 * The FastAPI literature's "heavy computation" case: on a non-blocking
 * route it holds the worker's loop for the whole computation; on a
 * blocking route it holds one pool thread, and the other threads and the
 * loop go on (within the limits of the CPU cores, and of the GIL in
 * Python, which switchyard does not have).
 *
 * The work is `rounds` steps of Marsaglia's 64-bit xorshift (13, 7, 17),
 * from a fixed seed, so a client can recompute the answer:
 *
 *	x = 0x9e3779b97f4a7c15
 *	repeat rounds times:
 *		x ^= x << 13; x ^= x >> 7; x ^= x << 17	(mod 2^64)
 *	result = x as 16 lower-case hex digits
 *
 * Each step depends on the previous one, so no compiler can shorten it.
 *
 * args: "rounds" (required, 1..1000000000), "max_rounds" (optional,
 * 1..1000000000): when set, a "?rounds=N" query parameter overrides
 * "rounds" for one request, N in 1..max_rounds.
 *
 * Answer: {"rounds": N, "result": "<16 hex digits>", "seconds": T}, T the
 * time the loop took, a JSON real.
 */
#include "autoconfig.h"

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "switchyard.h"
#include "handlers/handlers.h"

#define CPU_ROUNDS_MAX	1000000000
#define CPU_SEED	UINT64_C(0x9e3779b97f4a7c15)

struct cpu_args {
	unsigned	rounds;		/* default work */
	unsigned	max_rounds;	/* cap of ?rounds=; 0: no override */
};

static int
cpu_init(const json_t *args, void **state, char *err, size_t errlen)
{
	static const char *const required[] = { "rounds", NULL };
	static const char *const known[] = { "rounds", "max_rounds", NULL };
	unsigned long		 rounds = 0, max_rounds = 0;
	struct cpu_args		*copy;

	if (sy_args_keys(args, known, required, err, errlen) == -1 ||
	    sy_args_uint(args, "rounds", 1, 1, CPU_ROUNDS_MAX, &rounds, err,
	    errlen) == -1 ||
	    sy_args_uint(args, "max_rounds", 0, 1, CPU_ROUNDS_MAX, &max_rounds,
	    err, errlen) == -1)
		return -1;
	if ((copy = malloc(sizeof(*copy))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	copy->rounds = (unsigned)rounds;
	copy->max_rounds = (unsigned)max_rounds;
	*state = copy;
	return 0;
}

static void
cpu_free(void *state)
{
	free(state);
}

/* The rounds for req: args.rounds, or ?rounds=N if allowed; -1: refused. */
static long
cpu_rounds(struct sy_req *req, const struct cpu_args *a)
{
	unsigned long	 n = a->rounds;

	if (a->max_rounds != 0 &&
	    sy_req_query_uint(req, "rounds", 1, a->max_rounds, &n) == -1)
		return -1;
	return (long)n;
}

static int
cpu_handle(struct sy_req *req, void *state)
{
	const struct cpu_args	*a = state;
	struct timespec		 t0;
	char			 hex[17], msg[64];
	uint64_t		 x = CPU_SEED;
	long			 i, rounds;
	double			 secs;

	if ((rounds = cpu_rounds(req, a)) < 0) {
		snprintf(msg, sizeof(msg), "rounds must be an integer 1..%u",
		    a->max_rounds);
		return sy_resp_error(req, 400, msg) ? SY_ERROR : SY_DONE;
	}
	clock_now(&t0);
	for (i = 0; i < rounds; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
	}
	secs = clock_since_s(&t0);
	snprintf(hex, sizeof(hex), "%016" PRIx64, x);
	return sy_resp_json(req, 200, json_pack("{s:I,s:s,s:f}", "rounds",
	    (json_int_t)rounds, "result", hex, "seconds", secs)) ?
	    SY_ERROR : SY_DONE;
}

const struct sy_handler handler_cpu = {
	.abi = SY_ABI_VERSION,
	.name = "cpu",
	.flags = 0,
	.init = cpu_init,
	.free = cpu_free,
	.handle = cpu_handle,
};
