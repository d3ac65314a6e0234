/*
 * pool.h - a worker's thread pool: a bounded FIFO queue, T threads, and
 * completions handed back to the event loop through one wake-up fd.
 *
 * The pool knows nothing of HTTP. A caller embeds a struct pool_job in
 * its own structure, sets work and done, and submits it; work() runs on a
 * pool thread, then done() runs on the loop thread. The pool only links
 * the job: its memory stays the caller's.
 *
 * Every job accepted by pool_submit() gets exactly one done() call,
 * unless pool_cancel() returned 0 for it. done() finds the job in state
 * POOL_JOB_DELIVERED (work ran) or POOL_JOB_DROPPED (pool_free() threw it
 * away before it started; work never ran).
 *
 * All functions are for the loop thread of the event_base the pool was
 * made with, except work(), which runs on a pool thread. Create the pool
 * after fork(): threads do not survive it.
 */
#ifndef POOL_H
#define POOL_H

#include <sys/queue.h>

#include <stdint.h>

struct event_base;
struct pool;
struct pool_job;

/* Both callbacks get the job they were set on. */
typedef void (*pool_job_fn)(struct pool_job *);

enum pool_job_state {
	POOL_JOB_IDLE = 0,	/* not in a pool; zeroed memory is idle */
	POOL_JOB_QUEUED,	/* waiting; pool_cancel() can still take it */
	POOL_JOB_RUNNING,	/* work() is running on a pool thread */
	POOL_JOB_FINISHED,	/* work() returned; done() not called yet */
	POOL_JOB_DELIVERED,	/* done() called after work() ran */
	POOL_JOB_DROPPED	/* done() called by pool_free(); no work() */
};

/*
 * One unit of work, embedded in the caller's structure (find the outer
 * structure with offsetof). The caller sets work and done; the pool owns
 * every other field from pool_submit() until done() is called, and the
 * caller must not touch the job meanwhile, except through pool_cancel().
 * Inside done() all fields are the caller's again: done() may free the
 * job or submit it again.
 *
 * work() runs on a pool thread and may touch only the job (and what the
 * job alone owns): never a connection, a buffer, or a libevent object.
 * It runs with every signal blocked.
 */
struct pool_job {
	pool_job_fn		 work;		/* pool thread */
	pool_job_fn		 done;		/* loop thread, after work */
	TAILQ_ENTRY(pool_job)	 entry;		/* the pool's lists */
	uint64_t		 submit_ns;	/* CLOCK_MONOTONIC, submit */
	uint64_t		 start_ns;	/* work() began; 0: never ran */
	uint64_t		 end_ns;	/* work() ended; 0: never ran */
	enum pool_job_state	 state;		/* read it only in done() */
};

/*
 * Start nthreads threads, each with every signal blocked, sharing a FIFO
 * queue of at most queue_limit waiting (submitted, not yet started) jobs.
 * Completions wake the loop through an eventfd watched by a persistent
 * read event on base; base must outlive the pool. Both counts must be at
 * least 1.
 *
 * Returns the pool, owned by the caller until pool_free(), or NULL with
 * errno set (EINVAL for a bad argument) after undoing everything.
 */
struct pool	*pool_new(struct event_base *base, unsigned nthreads,
		    unsigned queue_limit);

/*
 * Queue job to run next after the jobs already waiting. job->work and
 * job->done must be set, and job must not be in a pool already. It
 * belongs to the pool until its done() is called or pool_cancel()
 * returns 0 for it. Sets submit_ns, clears start_ns and end_ns.
 *
 * Returns 0, or -1 with errno:
 *   EAGAIN     queue_limit jobs are already waiting beyond those the
 *              idle threads are about to take (answer 503);
 *   ESHUTDOWN  pool_stop() or pool_free() has begun;
 *   EINVAL     work or done is NULL, or job is queued, running or
 *              finished in a pool.
 * On -1 the job was not taken and done() will not be called.
 */
int		 pool_submit(struct pool *pool, struct pool_job *job);

/*
 * Take back a job whose client went away.
 *
 * Returns 0 if job was still waiting: it is unlinked, back in state
 * POOL_JOB_IDLE and the caller's again; work() and done() will never be
 * called. Returns -1 with errno EBUSY if job is running or has finished
 * but done() has not been called yet: done() will still be called, and
 * should discard the result. Returns -1 with errno ENOENT if job is not
 * in the pool (never submitted, cancelled, or already delivered).
 */
int		 pool_cancel(struct pool *pool, struct pool_job *job);

/*
 * Jobs waiting in the queue, and threads running a work() now. Lock-free
 * atomic reads for statistics and 503 decisions; a job counts as busy
 * from when a thread takes it until its work() returns (before its done()
 * runs).
 */
unsigned	 pool_queued(const struct pool *pool);
unsigned	 pool_busy(const struct pool *pool);

/*
 * Stop accepting: pool_submit() fails with ESHUTDOWN from now on. Jobs
 * already queued or running still run, and their done() is called from
 * the loop as usual, so a caller may keep its loop running until it has
 * seen the done() of every job it submitted, then call pool_free(). (A
 * draining worker does not call it: it keeps taking jobs for keep-alive
 * clients' last requests, worker.c.) Idle threads exit; the others exit
 * once the queue is empty. Idempotent.
 */
void		 pool_stop(struct pool *pool);

/*
 * Stop the pool (as pool_stop() if not done yet) and free it. Accepts
 * NULL. Exactly:
 *   1. jobs still queued are not started by any thread from now on;
 *   2. the call waits for every running work() to return and joins all
 *      threads (a work() that never returns hangs here: the pool cannot
 *      interrupt it);
 *   3. the done() of every finished job not yet delivered is called, in
 *      completion order, state POOL_JOB_DELIVERED;
 *   4. the done() of every job still queued is called, in queue order,
 *      state POOL_JOB_DROPPED, start_ns and end_ns 0;
 *   5. the event is freed and the eventfd closed.
 * So no job is lost: each submitted, uncancelled job gets its done()
 * before pool_free() returns. During 3 and 4, pool_submit() fails with
 * ESHUTDOWN and pool_cancel() works as documented. A done() must never
 * call pool_free() itself. Call it on the loop thread while base is still
 * alive, though the loop need not be running.
 */
void		 pool_free(struct pool *pool);

#endif /* POOL_H */
