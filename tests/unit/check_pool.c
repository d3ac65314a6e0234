/*
 * check_pool.c - unit tests for pool.c.
 *
 * Every test builds its own event_base and pool. Ordering is forced with
 * gates (mutex + condition) that jobs wait on, and the loop runs until a
 * condition holds; a timer on the base and timed condition waits are only
 * safety nets that turn a bug into a failure instead of a hang. No test
 * sleeps to synchronise.
 */
#include "autoconfig.h"

#include <check.h>

#include "unit.h"
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include <event2/event.h>

#include "pool.h"
#include "xmalloc.h"

#define SAFETY_S	10	/* give up on any wait after this long */

/*
 * A gate that jobs wait on until the test opens it. It also counts the
 * jobs that have reached it, so the test can wait until N are running.
 */
struct gate {
	pthread_mutex_t	 mtx;
	pthread_cond_t	 cond;
	int		 open;
	unsigned	 arrived;
};

struct tjob {
	struct pool_job	 job;		/* first: the cast in tjob_of() */
	struct gate	*gate;		/* wait here in work, if set */
	pthread_t	 work_thread;
	pthread_t	 done_thread;
	int		 ran;		/* work calls */
	int		 done;		/* done calls */
	int		 sigs_blocked;	/* work saw TERM, INT, HUP blocked */
	unsigned	 seq;		/* start order, from start_seq */
	unsigned	 done_seq;	/* delivery order */
	int		 timed_out;	/* gate wait hit SAFETY_S */
	enum pool_job_state state_in_done;
};

static atomic_uint	 start_seq;	/* work start order */
static unsigned		 done_seq;	/* loop thread only */
static unsigned		 ndone;		/* loop thread only */

static struct tjob *
tjob_of(struct pool_job *job)
{
	return (struct tjob *)(void *)((char *)job -
	    offsetof(struct tjob, job));
}

static struct timespec
deadline(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += SAFETY_S;
	return ts;
}

static void
gate_init(struct gate *g)
{
	ck_assert_int_eq(pthread_mutex_init(&g->mtx, NULL), 0);
	ck_assert_int_eq(pthread_cond_init(&g->cond, NULL), 0);
	g->open = 0;
	g->arrived = 0;
}

static void
gate_cleanup(struct gate *g)
{
	pthread_cond_destroy(&g->cond);
	pthread_mutex_destroy(&g->mtx);
}

static void
gate_open(struct gate *g)
{
	pthread_mutex_lock(&g->mtx);
	g->open = 1;
	pthread_cond_broadcast(&g->cond);
	pthread_mutex_unlock(&g->mtx);
}

/* Test thread: wait until n jobs are waiting at the gate (or running). */
static void
gate_wait_arrived(struct gate *g, unsigned n)
{
	struct timespec	 ts = deadline();
	unsigned	 arrived;
	int		 rc = 0;

	pthread_mutex_lock(&g->mtx);
	while (g->arrived < n && rc == 0)
		rc = pthread_cond_timedwait(&g->cond, &g->mtx, &ts);
	arrived = g->arrived;
	pthread_mutex_unlock(&g->mtx);
	ck_assert_msg(rc == 0, "only %u of %u jobs reached the gate",
	    arrived, n);
}

/* Pool thread. */
static void
work_record(struct pool_job *job)
{
	struct tjob	*t = tjob_of(job);
	sigset_t	 set;

	t->seq = atomic_fetch_add(&start_seq, 1);
	t->work_thread = pthread_self();
	t->ran++;
	if (pthread_sigmask(SIG_BLOCK, NULL, &set) == 0)
		t->sigs_blocked = sigismember(&set, SIGTERM) == 1 &&
		    sigismember(&set, SIGINT) == 1 &&
		    sigismember(&set, SIGHUP) == 1;
}

/* Pool thread: record, then hold the thread until the gate opens. */
static void
work_gated(struct pool_job *job)
{
	struct tjob	*t = tjob_of(job);
	struct gate	*g = t->gate;
	struct timespec	 ts = deadline();
	int		 rc = 0;

	work_record(job);
	pthread_mutex_lock(&g->mtx);
	g->arrived++;
	pthread_cond_broadcast(&g->cond);
	while (!g->open && rc == 0)
		rc = pthread_cond_timedwait(&g->cond, &g->mtx, &ts);
	pthread_mutex_unlock(&g->mtx);
	t->timed_out = rc != 0;
}

/*
 * Pool thread: a rendezvous that only completes if all four jobs of the
 * parallelism test are running at the same time.
 */
static void
work_rendezvous(struct pool_job *job)
{
	struct tjob	*t = tjob_of(job);
	struct gate	*g = t->gate;
	struct timespec	 ts = deadline();
	int		 rc = 0;

	work_record(job);
	pthread_mutex_lock(&g->mtx);
	g->arrived++;
	pthread_cond_broadcast(&g->cond);
	while (g->arrived < 4 && rc == 0)
		rc = pthread_cond_timedwait(&g->cond, &g->mtx, &ts);
	pthread_mutex_unlock(&g->mtx);
	t->timed_out = rc != 0;
}

/* Loop thread. */
static void
done_record(struct pool_job *job)
{
	struct tjob	*t = tjob_of(job);

	t->done_thread = pthread_self();
	t->done++;
	t->done_seq = done_seq++;
	t->state_in_done = job->state;
	ndone++;
}

static void
tjob_init(struct tjob *t, pool_job_fn work, struct gate *g)
{
	*t = (struct tjob){ 0 };
	t->job.work = work;
	t->job.done = done_record;
	t->gate = g;
}

static void
safety_cb(evutil_socket_t fd, short what, void *arg)
{
	int	*fired = arg;

	*fired = 1;
}

/*
 * Run the loop until ndone reaches want. Each EVLOOP_ONCE pass blocks in
 * epoll until the pool's wake-up or the safety timer fires.
 */
static void
run_until_done(struct event_base *base, unsigned want)
{
	struct timeval	 tv = { SAFETY_S, 0 };
	struct event	*ev;
	int		 fired = 0;

	ev = evtimer_new(base, safety_cb, &fired);
	ck_assert_ptr_nonnull(ev);
	ck_assert_int_eq(evtimer_add(ev, &tv), 0);
	while (ndone < want && !fired)
		ck_assert_int_ne(event_base_loop(base, EVLOOP_ONCE), -1);
	event_free(ev);
	ck_assert_msg(!fired, "timed out: %u of %u done", ndone, want);
}

static struct event_base	*base;

static void
setup(void)
{
	atomic_store(&start_seq, 0);
	done_seq = 0;
	ndone = 0;
	base = event_base_new();
	ck_assert_ptr_nonnull(base);
}

static void
teardown(void)
{
	event_base_free(base);
	base = NULL;
}

START_TEST(test_new_bad_args)
{
	errno = 0;
	ck_assert_ptr_null(pool_new(base, 0, 1));
	ck_assert_int_eq(errno, EINVAL);
	errno = 0;
	ck_assert_ptr_null(pool_new(base, 1, 0));
	ck_assert_int_eq(errno, EINVAL);
	errno = 0;
	ck_assert_ptr_null(pool_new(NULL, 1, 1));
	ck_assert_int_eq(errno, EINVAL);
	pool_free(NULL);
}
END_TEST

START_TEST(test_one_job)
{
	struct pool	*p;
	struct tjob	 t;

	ck_assert_ptr_nonnull(p = pool_new(base, 1, 1));
	tjob_init(&t, work_record, NULL);
	ck_assert_int_eq(pool_submit(p, &t.job), 0);
	run_until_done(base, 1);

	ck_assert_int_eq(t.ran, 1);
	ck_assert_int_eq(t.done, 1);
	ck_assert(pthread_equal(t.done_thread, pthread_self()));
	ck_assert(!pthread_equal(t.work_thread, pthread_self()));
	ck_assert_int_eq(t.sigs_blocked, 1);
	ck_assert_int_eq(t.state_in_done, POOL_JOB_DELIVERED);
	ck_assert_uint_ne(t.job.submit_ns, 0);
	ck_assert_uint_le(t.job.submit_ns, t.job.start_ns);
	ck_assert_uint_le(t.job.start_ns, t.job.end_ns);
	ck_assert_uint_eq(pool_queued(p), 0);
	ck_assert_uint_eq(pool_busy(p), 0);

	/* Delivered: the job is the caller's again and may be reused. */
	errno = 0;
	ck_assert_int_eq(pool_cancel(p, &t.job), -1);
	ck_assert_int_eq(errno, ENOENT);
	ck_assert_int_eq(pool_submit(p, &t.job), 0);
	run_until_done(base, 2);
	ck_assert_int_eq(t.ran, 2);
	ck_assert_int_eq(t.done, 2);
	pool_free(p);
}
END_TEST

START_TEST(test_many_jobs)
{
	struct pool	*p;
	struct tjob	*t;
	unsigned	 i, n = 1000;

	ck_assert_ptr_nonnull(p = pool_new(base, 8, n));
	t = xcalloc(n, sizeof(*t));
	for (i = 0; i < n; i++) {
		tjob_init(&t[i], work_record, NULL);
		ck_assert_int_eq(pool_submit(p, &t[i].job), 0);
	}
	run_until_done(base, n);
	for (i = 0; i < n; i++) {
		ck_assert_int_eq(t[i].ran, 1);
		ck_assert_int_eq(t[i].done, 1);
		ck_assert_int_eq(t[i].state_in_done, POOL_JOB_DELIVERED);
	}
	ck_assert_uint_eq(ndone, n);
	ck_assert_uint_eq(atomic_load(&start_seq), n);
	ck_assert_uint_eq(pool_queued(p), 0);
	ck_assert_uint_eq(pool_busy(p), 0);
	pool_free(p);
	/* Nothing was pending: free delivered nothing more. */
	ck_assert_uint_eq(ndone, n);
	free(t);
}
END_TEST

START_TEST(test_fifo_one_thread)
{
	struct pool	*p;
	struct gate	 g;
	struct tjob	 blocker, t[50];
	unsigned	 i;

	gate_init(&g);
	ck_assert_ptr_nonnull(p = pool_new(base, 1, 64));
	tjob_init(&blocker, work_gated, &g);
	ck_assert_int_eq(pool_submit(p, &blocker.job), 0);
	/* Everything after the blocker queues up behind it. */
	for (i = 0; i < 50; i++) {
		tjob_init(&t[i], work_record, NULL);
		ck_assert_int_eq(pool_submit(p, &t[i].job), 0);
	}
	gate_open(&g);
	run_until_done(base, 51);

	ck_assert_uint_eq(blocker.seq, 0);
	ck_assert_uint_eq(blocker.done_seq, 0);
	for (i = 0; i < 50; i++) {
		ck_assert_uint_eq(t[i].seq, i + 1);
		/* One thread: completion order is start order. */
		ck_assert_uint_eq(t[i].done_seq, i + 1);
		ck_assert(pthread_equal(t[i].work_thread,
		    blocker.work_thread));
	}
	pool_free(p);
	gate_cleanup(&g);
}
END_TEST

START_TEST(test_parallel)
{
	struct pool	*p;
	struct gate	 g;
	struct tjob	 t[4];
	unsigned	 i;

	gate_init(&g);
	ck_assert_ptr_nonnull(p = pool_new(base, 4, 4));
	for (i = 0; i < 4; i++) {
		tjob_init(&t[i], work_rendezvous, &g);
		ck_assert_int_eq(pool_submit(p, &t[i].job), 0);
	}
	run_until_done(base, 4);
	for (i = 0; i < 4; i++) {
		ck_assert_msg(!t[i].timed_out, "job %u never met the others",
		    i);
		ck_assert_int_eq(t[i].done, 1);
	}
	pool_free(p);
	gate_cleanup(&g);
}
END_TEST

START_TEST(test_queue_full)
{
	struct pool	*p;
	struct gate	 g;
	struct tjob	 blocker, q[2], extra;

	gate_init(&g);
	ck_assert_ptr_nonnull(p = pool_new(base, 1, 2));
	tjob_init(&blocker, work_gated, &g);
	ck_assert_int_eq(pool_submit(p, &blocker.job), 0);
	/* The limit counts waiting jobs: wait until the blocker runs. */
	gate_wait_arrived(&g, 1);

	tjob_init(&q[0], work_record, NULL);
	tjob_init(&q[1], work_record, NULL);
	tjob_init(&extra, work_record, NULL);
	ck_assert_int_eq(pool_submit(p, &q[0].job), 0);
	ck_assert_int_eq(pool_submit(p, &q[1].job), 0);
	errno = 0;
	ck_assert_int_eq(pool_submit(p, &extra.job), -1);
	ck_assert_int_eq(errno, EAGAIN);
	ck_assert_uint_eq(pool_queued(p), 2);
	ck_assert_uint_eq(pool_busy(p), 1);

	gate_open(&g);
	run_until_done(base, 3);
	ck_assert_int_eq(extra.ran, 0);
	ck_assert_int_eq(extra.done, 0);
	ck_assert_int_eq(extra.job.state, POOL_JOB_IDLE);

	/* Room again. */
	ck_assert_int_eq(pool_submit(p, &extra.job), 0);
	run_until_done(base, 4);
	ck_assert_int_eq(extra.done, 1);
	pool_free(p);
	gate_cleanup(&g);
}
END_TEST

START_TEST(test_cancel)
{
	struct pool	*p;
	struct gate	 g;
	struct tjob	 blocker, a, b;

	gate_init(&g);
	ck_assert_ptr_nonnull(p = pool_new(base, 1, 4));
	tjob_init(&blocker, work_gated, &g);
	tjob_init(&a, work_record, NULL);
	tjob_init(&b, work_record, NULL);

	/* Never submitted. */
	errno = 0;
	ck_assert_int_eq(pool_cancel(p, &a.job), -1);
	ck_assert_int_eq(errno, ENOENT);

	ck_assert_int_eq(pool_submit(p, &blocker.job), 0);
	gate_wait_arrived(&g, 1);
	ck_assert_int_eq(pool_submit(p, &a.job), 0);
	ck_assert_int_eq(pool_submit(p, &b.job), 0);
	ck_assert_uint_eq(pool_queued(p), 2);

	/* Queued: taken back, never run, never done. */
	ck_assert_int_eq(pool_cancel(p, &a.job), 0);
	ck_assert_int_eq(a.job.state, POOL_JOB_IDLE);
	ck_assert_uint_eq(pool_queued(p), 1);
	errno = 0;
	ck_assert_int_eq(pool_cancel(p, &a.job), -1);
	ck_assert_int_eq(errno, ENOENT);

	/* Running: refused, done still comes. */
	errno = 0;
	ck_assert_int_eq(pool_cancel(p, &blocker.job), -1);
	ck_assert_int_eq(errno, EBUSY);

	gate_open(&g);
	run_until_done(base, 2);
	ck_assert_int_eq(blocker.done, 1);
	ck_assert_int_eq(b.done, 1);
	ck_assert_int_eq(a.ran, 0);
	ck_assert_int_eq(a.done, 0);
	pool_free(p);
	/* Not even pool_free hands a cancelled job to done. */
	ck_assert_int_eq(a.done, 0);
	ck_assert_uint_eq(ndone, 2);
	gate_cleanup(&g);
}
END_TEST

/*
 * Finished but not delivered: with one thread, once the gated job after
 * it has started, the first job's work has returned, and the loop has
 * not run since, so its done() is still pending.
 */
START_TEST(test_cancel_finished)
{
	struct pool	*p;
	struct gate	 g;
	struct tjob	 a, blocker;

	gate_init(&g);
	ck_assert_ptr_nonnull(p = pool_new(base, 1, 4));
	tjob_init(&a, work_record, NULL);
	tjob_init(&blocker, work_gated, &g);
	ck_assert_int_eq(pool_submit(p, &a.job), 0);
	ck_assert_int_eq(pool_submit(p, &blocker.job), 0);
	gate_wait_arrived(&g, 1);

	errno = 0;
	ck_assert_int_eq(pool_cancel(p, &a.job), -1);
	ck_assert_int_eq(errno, EBUSY);
	ck_assert_int_eq(a.done, 0);

	gate_open(&g);
	run_until_done(base, 2);
	ck_assert_int_eq(a.ran, 1);
	ck_assert_int_eq(a.done, 1);
	ck_assert_uint_eq(a.done_seq, 0);
	pool_free(p);
	gate_cleanup(&g);
}
END_TEST

START_TEST(test_counters)
{
	struct pool	*p;
	struct gate	 g;
	struct tjob	 t[5];
	unsigned	 i;

	gate_init(&g);
	ck_assert_ptr_nonnull(p = pool_new(base, 2, 8));
	ck_assert_uint_eq(pool_queued(p), 0);
	ck_assert_uint_eq(pool_busy(p), 0);
	for (i = 0; i < 5; i++) {
		tjob_init(&t[i], work_gated, &g);
		ck_assert_int_eq(pool_submit(p, &t[i].job), 0);
	}
	gate_wait_arrived(&g, 2);
	ck_assert_uint_eq(pool_busy(p), 2);
	ck_assert_uint_eq(pool_queued(p), 3);

	gate_open(&g);
	run_until_done(base, 5);
	ck_assert_uint_eq(pool_busy(p), 0);
	ck_assert_uint_eq(pool_queued(p), 0);
	pool_free(p);
	gate_cleanup(&g);
}
END_TEST

START_TEST(test_stop_graceful)
{
	struct pool	*p;
	struct gate	 g;
	struct tjob	 t[6], late;
	unsigned	 i;

	gate_init(&g);
	ck_assert_ptr_nonnull(p = pool_new(base, 2, 8));
	for (i = 0; i < 6; i++) {
		tjob_init(&t[i], work_gated, &g);
		ck_assert_int_eq(pool_submit(p, &t[i].job), 0);
	}
	gate_wait_arrived(&g, 2);
	pool_stop(p);
	pool_stop(p);

	tjob_init(&late, work_record, NULL);
	errno = 0;
	ck_assert_int_eq(pool_submit(p, &late.job), -1);
	ck_assert_int_eq(errno, ESHUTDOWN);

	/* Queued jobs still run after pool_stop and are delivered. */
	gate_open(&g);
	run_until_done(base, 6);
	for (i = 0; i < 6; i++) {
		ck_assert_int_eq(t[i].ran, 1);
		ck_assert_int_eq(t[i].done, 1);
		ck_assert_int_eq(t[i].state_in_done, POOL_JOB_DELIVERED);
	}
	pool_free(p);
	ck_assert_int_eq(late.done, 0);
	ck_assert_uint_eq(ndone, 6);
	gate_cleanup(&g);
}
END_TEST

static void *
open_gate(void *arg)
{
	gate_open(arg);
	return NULL;
}

/*
 * pool_free() with jobs running and queued, the loop never run: every
 * job gets exactly one done() before pool_free() returns. Which queued
 * jobs a thread starts before pool_free() takes the lock is a race, so
 * the test checks what holds either way: ran iff DELIVERED, and the
 * DROPPED jobs are the tail of the queue.
 */
START_TEST(test_free_in_flight)
{
	struct pool	*p;
	struct gate	 g;
	struct tjob	 t[8];
	pthread_t	 opener;
	unsigned	 i, ndropped = 0;

	gate_init(&g);
	ck_assert_ptr_nonnull(p = pool_new(base, 2, 8));
	for (i = 0; i < 8; i++) {
		tjob_init(&t[i], work_gated, &g);
		ck_assert_int_eq(pool_submit(p, &t[i].job), 0);
	}
	gate_wait_arrived(&g, 2);
	pool_stop(p);
	/*
	 * Opened from another thread, which mostly loses the race to the
	 * lock in pool_free(), so the dropping path is usually taken.
	 */
	ck_assert_int_eq(pthread_create(&opener, NULL, open_gate, &g), 0);
	pool_free(p);
	ck_assert_int_eq(pthread_join(opener, NULL), 0);

	ck_assert_uint_eq(ndone, 8);
	for (i = 0; i < 8; i++) {
		ck_assert_int_eq(t[i].done, 1);
		if (t[i].state_in_done == POOL_JOB_DROPPED) {
			ck_assert_int_eq(t[i].ran, 0);
			ck_assert_uint_eq(t[i].job.start_ns, 0);
			ndropped++;
		} else {
			ck_assert_int_eq(t[i].state_in_done,
			    POOL_JOB_DELIVERED);
			ck_assert_int_eq(t[i].ran, 1);
			/* FIFO: nothing runs after a job that was dropped. */
			ck_assert_uint_eq(ndropped, 0);
		}
	}
	/* The two running when pool_free() began were not dropped. */
	ck_assert_int_eq(t[0].ran, 1);
	ck_assert_int_eq(t[1].ran, 1);
	gate_cleanup(&g);
}
END_TEST

/* done() submitting a follow-up job, as a handler's offload chain does. */
struct chain {
	struct pool_job	 job;
	struct pool	*pool;
	unsigned	 left;		/* submits still to make */
	unsigned	 runs;
	int		 last_err;
};

static void
chain_work(struct pool_job *job)
{
	((struct chain *)(void *)job)->runs++;
}

static void
chain_done(struct pool_job *job)
{
	struct chain	*c = (struct chain *)(void *)job;

	if (c->left > 0) {
		c->left--;
		if (pool_submit(c->pool, job) == -1)
			c->last_err = errno;
		return;
	}
	ndone++;
}

START_TEST(test_submit_from_done)
{
	struct chain	 c = { 0 };

	ck_assert_ptr_nonnull(c.pool = pool_new(base, 2, 1));
	c.job.work = chain_work;
	c.job.done = chain_done;
	c.left = 20;
	ck_assert_int_eq(pool_submit(c.pool, &c.job), 0);
	run_until_done(base, 1);
	ck_assert_uint_eq(c.runs, 21);
	ck_assert_int_eq(c.last_err, 0);

	/* From a done() called by pool_free(), submit says ESHUTDOWN. */
	c.left = 1;
	ck_assert_int_eq(pool_submit(c.pool, &c.job), 0);
	pool_free(c.pool);
	ck_assert_int_eq(c.last_err, ESHUTDOWN);
}
END_TEST

START_TEST(test_submit_after_stop)
{
	struct pool	*p;
	struct tjob	 t;

	ck_assert_ptr_nonnull(p = pool_new(base, 3, 3));
	pool_stop(p);
	tjob_init(&t, work_record, NULL);
	errno = 0;
	ck_assert_int_eq(pool_submit(p, &t.job), -1);
	ck_assert_int_eq(errno, ESHUTDOWN);
	ck_assert_uint_eq(pool_queued(p), 0);
	pool_free(p);
	ck_assert_int_eq(t.done, 0);
	ck_assert_int_eq(t.ran, 0);
}
END_TEST

START_TEST(test_submit_invalid)
{
	struct pool	*p;
	struct gate	 g;
	struct tjob	 blocker, t;

	gate_init(&g);
	ck_assert_ptr_nonnull(p = pool_new(base, 1, 2));
	tjob_init(&t, NULL, NULL);
	errno = 0;
	ck_assert_int_eq(pool_submit(p, &t.job), -1);
	ck_assert_int_eq(errno, EINVAL);

	tjob_init(&blocker, work_gated, &g);
	ck_assert_int_eq(pool_submit(p, &blocker.job), 0);
	gate_wait_arrived(&g, 1);
	/* Twice in the pool would corrupt its lists. */
	errno = 0;
	ck_assert_int_eq(pool_submit(p, &blocker.job), -1);
	ck_assert_int_eq(errno, EINVAL);
	gate_open(&g);
	run_until_done(base, 1);
	ck_assert_int_eq(blocker.done, 1);
	pool_free(p);
	gate_cleanup(&g);
}
END_TEST

static Suite *
pool_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("pool");
	tc = tcase_create("core");
	tcase_add_checked_fixture(tc, setup, teardown);
	/* Above SAFETY_S so that our own message wins. */
	tcase_set_timeout(tc, 3 * SAFETY_S);
	tcase_add_test(tc, test_new_bad_args);
	tcase_add_test(tc, test_one_job);
	tcase_add_test(tc, test_many_jobs);
	tcase_add_test(tc, test_fifo_one_thread);
	tcase_add_test(tc, test_parallel);
	tcase_add_test(tc, test_queue_full);
	tcase_add_test(tc, test_cancel);
	tcase_add_test(tc, test_cancel_finished);
	tcase_add_test(tc, test_counters);
	tcase_add_test(tc, test_stop_graceful);
	tcase_add_test(tc, test_free_in_flight);
	tcase_add_test(tc, test_submit_from_done);
	tcase_add_test(tc, test_submit_after_stop);
	tcase_add_test(tc, test_submit_invalid);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return unit_run(pool_suite());
}
