// SPDX-License-Identifier: GPL-2.0
/*
 * ivhost-user: the datapath threads.
 *
 * --threads N workers run the rings; vq i belongs to worker i % N, which
 * watches its kick fd, its tap (an RX vq's pair's) and its doorbell page,
 * and alone runs its rounds.  The control thread (main.c) serves the
 * socket and the backend channel, and never runs a ring: what it changes
 * it changes under the write side of d->lock, with no round running, and
 * a ring it wants run again it marks (vq->more) and wakes the worker.
 *
 * A worker's pass: wait for its events (or a doorbell tick), take the
 * read side of d->lock, run the rounds its events call for, the rounds of
 * rings that stopped on their weight or were woken, stop its rings if
 * guest memory faulted, drop the lock, and wake the control thread if a
 * round queued IOTLB messages (MISS, ACCESS_FAIL) for the backend channel.
 * A worker never waits for the control thread, so a frontend that stalls
 * (mid-message, or by not reading its replies) never stalls the rings.
 *
 * A worker's fds are the frontend's, made non-blocking; but the frontend
 * shares their open files and can make them blocking again (a full call
 * eventfd, a kick it drains itself), and a worker would then block in a
 * round, holding the read lock, for ever.  So the control thread waits
 * for the lock at most IVU_NUDGE_MS at a time, and between the waits
 * interrupts the workers' system calls (IVU_SIG_NUDGE, a handler that
 * does nothing, without SA_RESTART): the blocked one fails with EINTR and
 * its round ends.  Only the workers take that signal.
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <time.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "ivu.h"

#define IVU_SIG_NUDGE	SIGUSR2
#define IVU_NUDGE_MS	100

/* Set by a round that queued IOTLB messages (ivu_iotlb_queued()). */
static __thread bool ivu_worker_queued;
static __thread bool ivu_worker_self;	/* this thread is a worker */

/**
 * ivu_on_worker() - is the caller a datapath worker?
 *
 * Return: true on a worker, false on the control thread.
 */
bool ivu_on_worker(void)
{
	return ivu_worker_self;
}

/**
 * ivu_iotlb_queued() - note that this round queued messages to send
 *
 * Context: a worker, in a round.  Its pass then wakes the control thread,
 * which sends them (ivu_iotlb_send()).
 */
void ivu_iotlb_queued(void)
{
	ivu_worker_queued = true;
}

/**
 * ivu_vq_worker() - the worker that serves a vq
 * @d: the device, its workers set up
 * @vq: the vq's index
 *
 * Return: the worker.
 */
struct ivu_worker *ivu_vq_worker(struct ivu_dev *d, unsigned int vq)
{
	return &d->w[vq % d->nthreads];
}

static void ivu_wake_fd(int fd)
{
	u64 one = 1;

	/* A full eventfd is awake already. */
	if (write(fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		ivu_log("wake eventfd: %m");
}

static void ivu_drain_fd(int fd)
{
	u64 v;

	if (read(fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		ivu_log("wake eventfd: %m");
}

/**
 * ivu_ctl_wake() - wake the control thread (IOTLB messages, a tap gone)
 * @d: the device
 *
 * Context: a worker, any lock.
 */
void ivu_ctl_wake(struct ivu_dev *d)
{
	ivu_wake_fd(d->ctl_fd);
}

static void ivu_nudged(int sig)
{
	(void)sig;	/* only to interrupt a blocked system call */
}

/* CLOCK_REALTIME (what the timed waits take) IVU_NUDGE_MS from now. */
static struct timespec ivu_nudge_deadline(void)
{
	struct timespec t;

	clock_gettime(CLOCK_REALTIME, &t);
	t.tv_nsec += IVU_NUDGE_MS * 1000000L;
	if (t.tv_nsec >= 1000000000L) {
		t.tv_sec++;
		t.tv_nsec -= 1000000000L;
	}
	return t;
}

/**
 * ivu_ctl_lock() - take the device for the control thread
 * @d: the device
 *
 * Waits for the rounds running to end (bounded by their weights); a
 * worker blocked on a frontend's fd is interrupted (top of this file).
 * Until ivu_ctl_unlock() no round runs.
 * Context: the control thread, d->lock not held.
 */
void ivu_ctl_lock(struct ivu_dev *d)
{
	struct timespec t = ivu_nudge_deadline();
	unsigned int i;

	while (pthread_rwlock_timedwrlock(&d->lock, &t) == ETIMEDOUT) {
		for (i = 0; i < d->nthreads; i++)
			pthread_kill(d->w[i].th, IVU_SIG_NUDGE);
		t = ivu_nudge_deadline();
	}
}

/**
 * ivu_ctl_unlock() - give the device back to the workers and wake them
 * @d: the device
 *
 * Every worker looks at its rings again: those the control thread marked
 * (vq->more), started, enabled or re-armed run.
 * Context: the control thread, d->lock held for writing.
 */
void ivu_ctl_unlock(struct ivu_dev *d)
{
	unsigned int i;

	pthread_rwlock_unlock(&d->lock);
	for (i = 0; i < d->nthreads; i++)
		ivu_wake_fd(d->w[i].wake_fd);
}

/* Has a ring of @w been marked to run, or broken, by the control thread? */
static bool ivu_worker_marked(struct ivu_dev *d, const struct ivu_worker *w)
{
	unsigned int i;

	for (i = w->id; i < 2 * d->queues; i += d->nthreads)
		if (d->vq[i].more || d->vq[i].err_due)
			return true;
	return false;
}

/**
 * ivu_ctl_unlock_marked() - give the device back, waking only the marked
 * @d: the device
 *
 * As ivu_ctl_unlock(), but only the workers with a ring the control
 * thread marked (vq->more) or broke are woken: for what changes nothing
 * else a worker looks at between rounds (IOTLB messages, the backend
 * channel), so that each such message does not cost every worker a pass.
 * Context: the control thread, d->lock held for writing.
 */
void ivu_ctl_unlock_marked(struct ivu_dev *d)
{
	bool wake[IVU_MAX_THREADS];
	unsigned int i;

	/* Read under the lock: the workers write vq->more in their rounds. */
	for (i = 0; i < d->nthreads; i++)
		wake[i] = ivu_worker_marked(d, &d->w[i]);
	pthread_rwlock_unlock(&d->lock);
	for (i = 0; i < d->nthreads; i++)
		if (wake[i])
			ivu_wake_fd(d->w[i].wake_fd);
}

/* The tap of @qp was deleted: the control thread ends the daemon. */
static void ivu_worker_tap_gone(struct ivu_dev *d, unsigned int qp)
{
	if (__atomic_exchange_n(&d->tap_gone, true, __ATOMIC_SEQ_CST))
		return;
	ivu_log("tap %s: queue %u gone (the tap was deleted?); exiting",
		d->tap_name, qp);
	ivu_ctl_wake(d);
}

static void ivu_worker_event(struct ivu_worker *w, u64 tag, u32 events)
{
	struct ivu_dev *d = w->d;
	u32 idx = (u32)tag;

	switch (tag >> 32) {
	case IVU_EV_WAKE:
		ivu_drain_fd(w->wake_fd);
		break;
	case IVU_EV_KICK:
		if (idx < IVU_MAX_VQ && d->vq[idx].kick_fd >= 0)
			ivu_net_kick(d, &d->vq[idx]);
		break;
	case IVU_EV_TAP:
		if (idx >= d->queues)
			break;
		if (events & EPOLLERR) {
			/* Unwatched, or it would wake the worker for ever. */
			ivu_unwatch(d, d->qp[idx].tap_fd);
			ivu_worker_tap_gone(d, idx);
			break;
		}
		ivu_net_tap_ready(d, idx);
		break;
	}
}

/* Guest memory shrank under a mapping: this worker's rings are gone. */
static void ivu_worker_faulted(struct ivu_worker *w)
{
	struct ivu_dev *d = w->d;
	unsigned int gen = ivu_mem_faults(), i;

	if (gen == w->fault_gen)
		return;
	w->fault_gen = gen;
	for (i = w->id; i < 2 * d->queues; i += d->nthreads) {
		if (!d->vq[i].started)
			continue;
		ivu_vring_break(d, &d->vq[i], "guest memory gone, num",
				d->vq[i].num);
		d->vq[i].more = false;
	}
}

/* A round for every ring of @w that wants one: true if one wants more. */
static bool ivu_worker_rounds(struct ivu_worker *w)
{
	struct ivu_dev *d = w->d;
	bool any = false;
	unsigned int i;

	for (i = w->id; i < 2 * d->queues; i += d->nthreads) {
		struct ivu_vring *vq = &d->vq[i];

		/* Broken by a message: its error is signalled here. */
		if (vq->err_due && vq->published_used == vq->last_used)
			ivu_vring_flush(d, vq);
		if (vq->more)
			ivu_net_round(d, vq);
	}
	for (i = w->id; i < 2 * d->queues; i += d->nthreads)
		any |= d->vq[i].more;
	return any;
}

static void *ivu_worker_main(void *arg)
{
	struct ivu_worker *w = arg;
	struct ivu_dev *d = w->d;
	struct epoll_event ev[16];
	sigset_t nudge;
	bool more = false;
	int n, i, tmo;

	ivu_worker_self = true;
	/* Whatever mask the daemon was started with, the nudge gets in. */
	sigemptyset(&nudge);
	sigaddset(&nudge, IVU_SIG_NUDGE);
	pthread_sigmask(SIG_UNBLOCK, &nudge, NULL);
	while (!__atomic_load_n(&d->stopping, __ATOMIC_ACQUIRE)) {
		pthread_rwlock_rdlock(&d->lock);
		tmo = more ? 0 : ivu_notifier_timeout(d, w);
		pthread_rwlock_unlock(&d->lock);
		n = epoll_wait(w->epfd, ev, ARRAY_SIZE(ev), tmo);
		if (n < 0 && errno != EINTR) {
			ivu_log("worker %u: epoll: %m", w->id);
			break;
		}
		pthread_rwlock_rdlock(&d->lock);
		for (i = 0; i < n; i++) {
			ivu_worker_event(w, ev[i].data.u64, ev[i].events);
			ivu_worker_faulted(w);
		}
		ivu_notifier_poll(d, w);
		ivu_worker_faulted(w);
		more = ivu_worker_rounds(w);
		ivu_worker_faulted(w);
		pthread_rwlock_unlock(&d->lock);
		if (ivu_worker_queued) {
			ivu_worker_queued = false;
			ivu_ctl_wake(d);
		}
	}
	return NULL;
}

static int ivu_worker_init(struct ivu_dev *d, struct ivu_worker *w,
			   unsigned int id)
{
	struct epoll_event ev = { .events = EPOLLIN,
				  .data.u64 = IVU_TAG(IVU_EV_WAKE, 0) };

	w->d = d;
	w->id = id;
	w->fault_gen = ivu_mem_faults();
	w->epfd = epoll_create1(EPOLL_CLOEXEC);
	w->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (w->epfd < 0 || w->wake_fd < 0 ||
	    epoll_ctl(w->epfd, EPOLL_CTL_ADD, w->wake_fd, &ev))
		return -errno;
	return 0;
}

/* The nudge's handler: without SA_RESTART, a blocked call fails (EINTR). */
static int ivu_nudge_init(void)
{
	struct sigaction sa = { .sa_handler = ivu_nudged };

	sigemptyset(&sa.sa_mask);
	if (sigaction(IVU_SIG_NUDGE, &sa, NULL))
		return -errno;
	return 0;
}

/**
 * ivu_workers_start() - set up the lock and start the datapath threads
 * @d: the device, d->nthreads set, no ring running
 *
 * The signals the control thread takes by signalfd must be blocked
 * before: the workers inherit the mask.
 * Context: the control thread, at start.
 * Return: 0, or a negative errno (workers started are stopped).
 */
int ivu_workers_start(struct ivu_dev *d)
{
	pthread_rwlockattr_t a;
	sigset_t nudge;
	unsigned int i;
	int err;

	pthread_rwlockattr_init(&a);
	/* A control message waiting must not starve behind busy rings. */
	pthread_rwlockattr_setkind_np(&a,
				      PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	err = -pthread_rwlock_init(&d->lock, &a);
	pthread_rwlockattr_destroy(&a);
	if (err)
		return err;
	d->ctl_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (d->ctl_fd < 0)
		return -errno;
	err = ivu_nudge_init();
	if (err)
		return err;
	for (i = 0; i < d->nthreads; i++) {
		d->w[i].epfd = -1;
		d->w[i].wake_fd = -1;
	}
	for (i = 0; i < d->nthreads; i++) {
		err = ivu_worker_init(d, &d->w[i], i);
		if (!err)
			err = -pthread_create(&d->w[i].th, NULL,
					      ivu_worker_main, &d->w[i]);
		if (err)
			goto stop_started;
	}
	/* The workers unblock it (ivu_worker_main()); the control thread not. */
	sigemptyset(&nudge);
	sigaddset(&nudge, IVU_SIG_NUDGE);
	pthread_sigmask(SIG_BLOCK, &nudge, NULL);
	return 0;

stop_started:
	ivu_close(&d->w[i].epfd);
	ivu_close(&d->w[i].wake_fd);
	d->nthreads = i;	/* the ones running */
	ivu_workers_stop(d);
	return err;
}

/**
 * ivu_workers_stop() - end the datapath threads
 * @d: the device
 *
 * Context: the control thread, d->lock not held.  Afterwards it alone
 * runs, and may reset the device.
 */
void ivu_workers_stop(struct ivu_dev *d)
{
	struct timespec t;
	unsigned int i;

	__atomic_store_n(&d->stopping, true, __ATOMIC_RELEASE);
	for (i = 0; i < d->nthreads; i++)
		ivu_wake_fd(d->w[i].wake_fd);
	for (i = 0; i < d->nthreads; i++) {
		/* A worker blocked on a frontend's fd is interrupted. */
		t = ivu_nudge_deadline();
		while (pthread_timedjoin_np(d->w[i].th, NULL, &t) == ETIMEDOUT) {
			pthread_kill(d->w[i].th, IVU_SIG_NUDGE);
			t = ivu_nudge_deadline();
		}
		ivu_close(&d->w[i].epfd);
		ivu_close(&d->w[i].wake_fd);
	}
}
