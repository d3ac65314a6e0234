/*
 * pool.c - a worker's thread pool: bounded FIFO queue, T threads,
 * completions woken onto the event loop. Knows nothing of HTTP.
 *
 * Design note.
 *
 * Threads. One loop thread (the worker's libevent loop) and nthreads pool
 * threads. Pool threads block every signal, call no libevent function,
 * and touch only the job they run, the pool's lock-guarded lists and
 * counters, and the eventfd (write(2) only).
 *
 * One mutex, p->lock, guards the queue, the completed list, the stopping
 * and dropping flags, and the state of every job while it is in the pool.
 * A second lock for the completed list would shorten critical sections
 * that are a few pointer moves anyway, and would let pool_cancel() see a
 * job between two locks; one lock keeps every state change atomic.
 *
 * Job states (pool.h), and who moves them:
 *
 *   IDLE/DELIVERED/DROPPED --pool_submit (loop)--> QUEUED
 *   QUEUED --pool_cancel (loop)--> IDLE
 *   QUEUED --taken by a pool thread--> RUNNING --work returns--> FINISHED
 *   FINISHED --pool_wakeup_cb or pool_free (loop)--> DELIVERED, done()
 *   QUEUED --pool_free (loop)--> DROPPED, done()
 *
 * Queues. p->queue holds QUEUED jobs, FIFO: at most queue_limit of them
 * beyond the ones the idle threads are about to take.
 * p->finished holds FINISHED jobs in completion order.
 *
 * Who wakes whom.
 *   - pool_submit signals p->cond once per job: one idle thread takes it.
 *   - pool_stop and pool_free broadcast p->cond so that idle threads see
 *     the flags and exit.
 *   - A pool thread that finishes a job appends it to p->finished and
 *     writes the eventfd only if the list was empty: a non-empty list
 *     means a wake-up is already pending, so a burst of completions costs
 *     one write(2) and one loop callback, not one per job.
 *   - pool_wakeup_cb (loop) reads the eventfd, then takes the whole list
 *     under the lock and calls each done() outside it, so a done() may
 *     submit or cancel jobs.
 * Nobody spins: pool threads sleep on p->cond, the loop in epoll.
 *
 * Counters. nqueued and nbusy change only under the lock but are C11
 * atomics so that pool_queued()/pool_busy() read them without it. nbusy
 * drops before the job is put on the completed list, so when a done()
 * runs its job no longer counts as busy.
 *
 * Siblings. Each worker has its own pool, and a pool with idle threads
 * does not take the jobs queued in a sibling's. That would mean handing
 * the connection and its parsed request to another process (SCM_RIGHTS
 * and a re-parse), for a gain measured to be small: with 2 workers x 40
 * threads of 100 ms sleeps, ab -c 200, the hash's uneven split costs a
 * worker one extra 100 ms round at the end of a run while its sibling
 * idles, 1 % of an 8000-request run (97.5 % of the bound against 98.1 %
 * with the placement program; scripts/loadtest pool). In steady state
 * (wrk) both placements and one worker of 80 threads are level. What
 * this pool costs per job is small too: a thread takes its next job as
 * soon as work() returns, not once the loop has seen the last one, and
 * the loop sees a finished job 90-160 us later (median).
 *
 * Shutdown. pool_stop sets stopping: submits fail, threads drain the
 * queue and exit once it is empty. pool_free also sets dropping: threads
 * exit after the job in hand. It joins them, then delivers what finished
 * and hands what never started to done() as DROPPED (pool.h).
 */
#include "autoconfig.h"

#include <sys/eventfd.h>
#include <sys/queue.h>

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "clock.h"
#include "log.h"
#include "pool.h"
#include "xmalloc.h"

TAILQ_HEAD(pool_job_list, pool_job);

struct pool {
	pthread_mutex_t		 lock;		/* lists, flags, job states */
	pthread_cond_t		 cond;		/* queue grew, or a flag set */
	struct pool_job_list	 queue;		/* QUEUED, FIFO */
	struct pool_job_list	 finished;	/* FINISHED, in that order */
	int			 stopping;	/* no submits; drain, exit */
	int			 dropping;	/* start nothing more, exit */

	/* Written under lock, read without it. */
	atomic_uint		 nqueued;	/* jobs in queue */
	atomic_uint		 nbusy;		/* jobs in RUNNING */
	unsigned		 queue_limit;	/* max nqueued, >= 1 */

	pthread_t		*threads;
	unsigned		 nthreads;	/* started, to join */
	int			 wakefd;	/* eventfd, -1 if none */
	struct event		*wakeev;	/* persistent read on wakefd */
};

static void	*run_thread(void *);
static void	 pool_wakeup_cb(evutil_socket_t, short, void *);

/*
 * The pthread calls below fail only on a corrupt or misused object; the
 * pool cannot go on from there, so they are broken invariants.
 */
static void
lock_pool(struct pool *p)
{
	int	 rc;

	if ((rc = pthread_mutex_lock(&p->lock)) != 0)
		fatalx("%s: pthread_mutex_lock: %s", __func__, strerror(rc));
}

static void
unlock_pool(struct pool *p)
{
	int	 rc;

	if ((rc = pthread_mutex_unlock(&p->lock)) != 0)
		fatalx("%s: pthread_mutex_unlock: %s", __func__, strerror(rc));
}

static void
signal_pool(struct pool *p, int all)
{
	int	 rc;

	rc = all ? pthread_cond_broadcast(&p->cond) :
	    pthread_cond_signal(&p->cond);
	if (rc != 0)
		fatalx("%s: pthread_cond_%s: %s", __func__,
		    all ? "broadcast" : "signal", strerror(rc));
}

struct pool *
pool_new(struct event_base *base, unsigned nthreads, unsigned queue_limit)
{
	struct pool	*p;
	sigset_t	 all, old;
	unsigned	 i;
	int		 rc, saved_errno;

	if (base == NULL || nthreads == 0 || queue_limit == 0) {
		errno = EINVAL;
		return NULL;
	}

	p = xcalloc(1, sizeof(*p));
	if ((rc = pthread_mutex_init(&p->lock, NULL)) != 0) {
		free(p);
		errno = rc;
		return NULL;
	}
	if ((rc = pthread_cond_init(&p->cond, NULL)) != 0) {
		(void)pthread_mutex_destroy(&p->lock);
		free(p);
		errno = rc;
		return NULL;
	}
	/* From here on pool_free() undoes whatever has been set up. */
	TAILQ_INIT(&p->queue);
	TAILQ_INIT(&p->finished);
	atomic_init(&p->nqueued, 0);
	atomic_init(&p->nbusy, 0);
	p->queue_limit = queue_limit;
	p->wakefd = -1;
	p->threads = xcalloc(nthreads, sizeof(*p->threads));

	if ((p->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) == -1)
		goto fail;
	/* libevent does not promise errno; ENOMEM is its only real cause. */
	if ((p->wakeev = event_new(base, p->wakefd, EV_READ | EV_PERSIST,
	    pool_wakeup_cb, p)) == NULL) {
		errno = ENOMEM;
		goto fail;
	}
	if (event_add(p->wakeev, NULL) == -1) {
		errno = ENOMEM;
		goto fail;
	}

	/*
	 * Threads inherit the creator's mask: blocking everything around
	 * pthread_create() closes the window between a thread's birth and
	 * its own pthread_sigmask(), in which a process-directed signal
	 * could run a handler on it.
	 */
	(void)sigfillset(&all);
	if ((rc = pthread_sigmask(SIG_BLOCK, &all, &old)) != 0) {
		errno = rc;
		goto fail;
	}
	for (i = 0; i < nthreads; i++) {
		if ((rc = pthread_create(&p->threads[i], NULL, run_thread,
		    p)) != 0)
			break;
		p->nthreads++;
	}
	(void)pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		errno = rc;
		goto fail;
	}
	return p;

 fail:
	saved_errno = errno;
	pool_free(p);
	errno = saved_errno;
	return NULL;
}

int
pool_submit(struct pool *p, struct pool_job *job)
{
	uint64_t	 now;
	int		 error = 0;

	if (job->work == NULL || job->done == NULL) {
		errno = EINVAL;
		return -1;
	}
	now = clock_ns();

	lock_pool(p);
	if (job->state == POOL_JOB_QUEUED || job->state == POOL_JOB_RUNNING ||
	    job->state == POOL_JOB_FINISHED)
		error = EINVAL;
	else if (p->stopping)
		error = ESHUTDOWN;
	/*
	 * A job counts against queue_limit only if no idle thread is about
	 * to take it: a burst submitted in one loop pass is queued before
	 * any thread wakes, and those jobs are not waiting for a thread.
	 */
	else if (atomic_load_explicit(&p->nqueued, memory_order_relaxed) >=
	    p->queue_limit + (p->nthreads -
	    atomic_load_explicit(&p->nbusy, memory_order_relaxed)))
		error = EAGAIN;
	else {
		job->submit_ns = now;
		job->start_ns = 0;
		job->end_ns = 0;
		job->state = POOL_JOB_QUEUED;
		TAILQ_INSERT_TAIL(&p->queue, job, entry);
		atomic_fetch_add_explicit(&p->nqueued, 1,
		    memory_order_relaxed);
		signal_pool(p, 0);
	}
	unlock_pool(p);

	if (error != 0) {
		errno = error;
		return -1;
	}
	return 0;
}

int
pool_cancel(struct pool *p, struct pool_job *job)
{
	int	 error = ENOENT;	/* also for a state out of range */

	lock_pool(p);
	switch (job->state) {
	case POOL_JOB_QUEUED:
		TAILQ_REMOVE(&p->queue, job, entry);
		atomic_fetch_sub_explicit(&p->nqueued, 1,
		    memory_order_relaxed);
		job->state = POOL_JOB_IDLE;
		error = 0;
		break;
	case POOL_JOB_RUNNING:
	case POOL_JOB_FINISHED:
		error = EBUSY;
		break;
	case POOL_JOB_IDLE:
	case POOL_JOB_DELIVERED:
	case POOL_JOB_DROPPED:
		break;
	}
	unlock_pool(p);

	if (error != 0) {
		errno = error;
		return -1;
	}
	return 0;
}

unsigned
pool_queued(const struct pool *p)
{
	return atomic_load_explicit(&p->nqueued, memory_order_relaxed);
}

unsigned
pool_busy(const struct pool *p)
{
	return atomic_load_explicit(&p->nbusy, memory_order_relaxed);
}

void
pool_stop(struct pool *p)
{
	lock_pool(p);
	p->stopping = 1;
	signal_pool(p, 1);
	unlock_pool(p);
}

/*
 * Loop thread: call done() for every job finished so far. The list is
 * taken whole so done() runs without the lock (it may submit or cancel)
 * and jobs finishing meanwhile wait for the next wake-up instead of
 * keeping this loop, and the event loop, busy forever.
 */
static void
deliver_finished(struct pool *p)
{
	struct pool_job_list	 batch;
	struct pool_job		*job;

	TAILQ_INIT(&batch);
	lock_pool(p);
	TAILQ_CONCAT(&batch, &p->finished, entry);
	unlock_pool(p);

	while ((job = TAILQ_FIRST(&batch)) != NULL) {
		TAILQ_REMOVE(&batch, job, entry);
		/* Pool threads are done with it: state is ours to set. */
		job->state = POOL_JOB_DELIVERED;
		job->done(job);
	}
}

static void
pool_wakeup_cb(evutil_socket_t fd, short what, void *arg)
{
	struct pool	*p = arg;
	uint64_t	 n;

	/*
	 * Read before taking the list, never after: a thread that appends
	 * to an empty list between the two writes again and we run once
	 * more for nothing, whereas reading after could swallow the write
	 * of a job we did not take and leave it undelivered.
	 */
	if (read(fd, &n, sizeof(n)) == -1 && errno != EAGAIN)
		log_warn("%s: read", __func__);
	deliver_finished(p);
}

void
pool_free(struct pool *p)
{
	struct pool_job	*job;
	unsigned	 i;
	int		 rc;

	if (p == NULL)
		return;

	lock_pool(p);
	p->stopping = 1;
	p->dropping = 1;
	signal_pool(p, 1);
	unlock_pool(p);

	for (i = 0; i < p->nthreads; i++)
		if ((rc = pthread_join(p->threads[i], NULL)) != 0)
			fatalx("%s: pthread_join: %s", __func__,
			    strerror(rc));
	p->nthreads = 0;

	/*
	 * No thread is left; the lock still guards the lists because a
	 * done() called below may pool_cancel() a job still queued.
	 */
	deliver_finished(p);
	for (;;) {
		lock_pool(p);
		if ((job = TAILQ_FIRST(&p->queue)) != NULL) {
			TAILQ_REMOVE(&p->queue, job, entry);
			atomic_fetch_sub_explicit(&p->nqueued, 1,
			    memory_order_relaxed);
			job->state = POOL_JOB_DROPPED;
		}
		unlock_pool(p);
		if (job == NULL)
			break;
		job->done(job);
	}

	if (p->wakeev != NULL)
		event_free(p->wakeev);
	if (p->wakefd != -1)
		(void)close(p->wakefd);
	(void)pthread_cond_destroy(&p->cond);
	(void)pthread_mutex_destroy(&p->lock);
	free(p->threads);
	free(p);
}

/*
 * Pool thread: take jobs off the queue until told to stop. Touches only
 * its job, the lock-guarded pool fields and, write-only, the eventfd.
 */
static void *
run_thread(void *arg)
{
	struct pool	*p = arg;
	struct pool_job	*job;
	sigset_t	 all;
	uint64_t	 one = 1;
	int		 rc, wake;

	/* Inherited already (pool_new); repeated so no caller can forget. */
	(void)sigfillset(&all);
	if ((rc = pthread_sigmask(SIG_BLOCK, &all, NULL)) != 0)
		fatalx("%s: pthread_sigmask: %s", __func__, strerror(rc));

	lock_pool(p);
	for (;;) {
		while (TAILQ_EMPTY(&p->queue) && !p->stopping)
			if ((rc = pthread_cond_wait(&p->cond, &p->lock)) != 0)
				fatalx("%s: pthread_cond_wait: %s", __func__,
				    strerror(rc));
		/* stopping drains the queue first; dropping does not. */
		if (p->dropping || TAILQ_EMPTY(&p->queue))
			break;

		job = TAILQ_FIRST(&p->queue);
		TAILQ_REMOVE(&p->queue, job, entry);
		job->state = POOL_JOB_RUNNING;
		atomic_fetch_sub_explicit(&p->nqueued, 1, memory_order_relaxed);
		atomic_fetch_add_explicit(&p->nbusy, 1, memory_order_relaxed);
		unlock_pool(p);

		job->start_ns = clock_ns();
		job->work(job);
		job->end_ns = clock_ns();

		lock_pool(p);
		atomic_fetch_sub_explicit(&p->nbusy, 1, memory_order_relaxed);
		job->state = POOL_JOB_FINISHED;
		wake = TAILQ_EMPTY(&p->finished);
		TAILQ_INSERT_TAIL(&p->finished, job, entry);
		/* From here the job is the loop's: do not touch it again. */
		if (wake) {
			/*
			 * Outside the lock: the write may cost a wake-up of
			 * the loop and the loop takes this lock next.
			 */
			unlock_pool(p);
			if (write(p->wakefd, &one, sizeof(one)) == -1)
				log_warn("%s: write eventfd", __func__);
			lock_pool(p);
		}
	}
	unlock_pool(p);
	return NULL;
}
