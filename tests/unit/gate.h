/*
 * gate.h - a handler that waits, in the pool, until the test opens its
 * gate: how the dispatch and connection suites hold a pool thread busy
 * (or a job queued behind it) for exactly as long as they need, without
 * a clock. One gate per test process (check forks each test).
 */
#ifndef GATE_H
#define GATE_H

#include <pthread.h>

#include "switchyard.h"

static pthread_mutex_t	gate_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t	gate_cv = PTHREAD_COND_INITIALIZER;
static int		gate_open, gate_inside;

/* Shut (0) or open (1) the gate; opening lets every waiting call on. */
static inline void
gate_set(int open)
{
	pthread_mutex_lock(&gate_mu);
	gate_open = open;
	pthread_cond_broadcast(&gate_cv);
	pthread_mutex_unlock(&gate_mu);
}

/* Calls that came in so far, done or still waiting. */
static inline int
gate_count(void)
{
	int	 n;

	pthread_mutex_lock(&gate_mu);
	n = gate_inside;
	pthread_mutex_unlock(&gate_mu);
	return n;
}

/* Wait until n calls came in. */
static inline void
gate_wait_inside(int n)
{
	pthread_mutex_lock(&gate_mu);
	while (gate_inside < n)
		pthread_cond_wait(&gate_cv, &gate_mu);
	pthread_mutex_unlock(&gate_mu);
}

/* The handler "t_gate": in, wait for the gate, answer "gate\n". */
static int
gate_handle(struct sy_req *req, void *state)
{
	(void)state;
	pthread_mutex_lock(&gate_mu);
	gate_inside++;
	pthread_cond_broadcast(&gate_cv);
	while (!gate_open)
		pthread_cond_wait(&gate_cv, &gate_mu);
	pthread_mutex_unlock(&gate_mu);
	return sy_resp_body(req, "gate\n", 5);
}

static const struct sy_handler gate_handler = { SY_ABI_VERSION, "t_gate", 0,
					       NULL, NULL, gate_handle };

#endif /* GATE_H */
