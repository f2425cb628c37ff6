// SPDX-License-Identifier: GPL-2.0
/*
 * The per-device worker thread, its work items, and file polling that
 * feeds it.
 *
 * Each device has one kernel thread, created by VHOST_SET_OWNER and bound
 * to the owner's address space, so that processing functions reach guest
 * memory with the ordinary uaccess helpers.  Work items are queued from
 * any context (wait-queue callbacks included) onto a lock-free list and
 * run in the order queued.  A work item is on the list at most once: a
 * second queueing while it waits is a no-op, and one that happens while it
 * runs queues it again.
 *
 * Locking: the work list is lock-free.  &ivhost_dev.worker is written only
 * under &ivhost_dev.mutex, by ivhost_worker_start() and
 * ivhost_worker_stop(), and read under RCU by ivhost_work_queue(): the
 * stop unpublishes the worker and waits for every reader before it ends
 * the thread, so work may be queued from any context without the device
 * mutex; work queued after the stop is dropped.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/export.h>
#include <linux/kthread.h>
#include <linux/rcupdate.h>
#include <linux/sched/mm.h>

#include "ivhost.h"

/**
 * ivhost_work_init() - prepare a work item
 * @work: the item
 * @fn: the function the worker calls for it
 *
 * Context: any; @work must not be queued.
 */
static void ivhost_work_init(struct ivhost_work *work, ivhost_work_fn_t fn)
{
	work->flags = 0;
	work->fn = fn;
}

/**
 * ivhost_work_queue() - have the worker run a work item
 * @dev: the device
 * @work: the item
 *
 * Does nothing if @dev has no worker, or its worker is being stopped.
 *
 * Context: any, including atomic.
 */
void ivhost_work_queue(struct ivhost_dev *dev, struct ivhost_work *work)
{
	struct task_struct *worker;

	rcu_read_lock();
	worker = rcu_dereference(dev->worker);
	if (worker && !test_and_set_bit(IVHOST_WORK_QUEUED, &work->flags)) {
		llist_add(&work->node, &dev->work_list);
		wake_up_process(worker);
	}
	rcu_read_unlock();
}
EXPORT_SYMBOL_GPL(ivhost_work_queue);

static void ivhost_worker_run(struct llist_node *list)
{
	struct ivhost_work *work, *next;

	list = llist_reverse_order(list);
	llist_for_each_entry_safe(work, next, list, node) {
		clear_bit(IVHOST_WORK_QUEUED, &work->flags);
		/* Clear before fn reads state: a later queueing re-adds it. */
		smp_mb__after_atomic();
		work->fn(work);
		cond_resched();
	}
}

static int ivhost_worker_fn(void *data)
{
	struct ivhost_dev *dev = data;
	struct llist_node *list;

	kthread_use_mm(dev->mm);
	for (;;) {
		set_current_state(TASK_INTERRUPTIBLE);
		list = llist_del_all(&dev->work_list);
		if (list) {
			__set_current_state(TASK_RUNNING);
			ivhost_worker_run(list);
			continue;
		}
		/* Stop only once the list is drained. */
		if (kthread_should_stop()) {
			__set_current_state(TASK_RUNNING);
			break;
		}
		schedule();
	}
	kthread_unuse_mm(dev->mm);
	return 0;
}

/**
 * ivhost_worker_start() - create the worker of a device
 * @dev: the device; &ivhost_dev.mm must be set
 *
 * Context: process context, under &ivhost_dev.mutex.
 * Return: 0, or a negative errno from thread creation.
 */
int ivhost_worker_start(struct ivhost_dev *dev)
	__must_hold(&dev->mutex)
{
	struct task_struct *worker;

	lockdep_assert_held(&dev->mutex);
	worker = kthread_create(ivhost_worker_fn, dev, "ivhost-%d",
				task_pid_nr(current));
	if (IS_ERR(worker))
		return PTR_ERR(worker);
	rcu_assign_pointer(dev->worker, worker);
	wake_up_process(worker);
	return 0;
}

/**
 * ivhost_worker_stop() - run what is queued, then end the worker
 * @dev: the device
 *
 * Every source of work (polls, ioctls) must be stopped first.
 *
 * Context: process context, under &ivhost_dev.mutex.
 */
void ivhost_worker_stop(struct ivhost_dev *dev)
	__must_hold(&dev->mutex)
{
	struct task_struct *worker;

	lockdep_assert_held(&dev->mutex);
	worker = rcu_dereference_protected(dev->worker,
					   lockdep_is_held(&dev->mutex));
	if (!worker)
		return;
	/* No ivhost_work_queue() still holds it once the grace period ends. */
	RCU_INIT_POINTER(dev->worker, NULL);
	synchronize_rcu();
	kthread_stop(worker);
}

static int ivhost_poll_wakeup(wait_queue_entry_t *wait, unsigned int mode,
			      int sync, void *key)
{
	struct ivhost_poll *poll = container_of(wait, struct ivhost_poll, wait);

	if (key && !(key_to_poll(key) & poll->mask))
		return 0;
	ivhost_work_queue(poll->dev, &poll->work);
	return 0;
}

static void ivhost_poll_enqueue(struct file *file, wait_queue_head_t *wqh,
				poll_table *pt)
{
	struct ivhost_poll *poll = container_of(pt, struct ivhost_poll, table);

	poll->wqh = wqh;
	add_wait_queue(wqh, &poll->wait);
}

/**
 * ivhost_poll_init() - prepare a poll that queues work on file events
 * @poll: the poll
 * @fn: work function to run when the file is ready
 * @mask: events that count as ready
 * @dev: device whose worker runs @fn
 *
 * Context: any.
 */
void ivhost_poll_init(struct ivhost_poll *poll, ivhost_work_fn_t fn,
		      __poll_t mask, struct ivhost_dev *dev)
{
	init_waitqueue_func_entry(&poll->wait, ivhost_poll_wakeup);
	init_poll_funcptr(&poll->table, ivhost_poll_enqueue);
	poll->wqh = NULL;
	poll->mask = mask;
	poll->dev = dev;
	ivhost_work_init(&poll->work, fn);
}
EXPORT_SYMBOL_GPL(ivhost_poll_init);

/**
 * ivhost_poll_start() - start watching a file
 * @poll: the poll, not yet started
 * @file: the file; the caller keeps a reference until ivhost_poll_stop()
 *
 * Queues the work at once if @file is already ready.
 *
 * Context: process context.
 * Return: 0, or -EINVAL if @file cannot be polled or reports an error.
 */
int ivhost_poll_start(struct ivhost_poll *poll, struct file *file)
{
	__poll_t mask;

	if (poll->wqh)
		return 0;
	mask = vfs_poll(file, &poll->table);
	if (mask & EPOLLERR) {
		ivhost_poll_stop(poll);
		return -EINVAL;
	}
	if (!poll->wqh)
		return -EINVAL;
	if (mask & poll->mask)
		ivhost_work_queue(poll->dev, &poll->work);
	return 0;
}
EXPORT_SYMBOL_GPL(ivhost_poll_start);

/**
 * ivhost_poll_stop() - stop watching the file, if watching
 * @poll: the poll
 *
 * Work already queued may still run.
 *
 * Context: process context.
 */
void ivhost_poll_stop(struct ivhost_poll *poll)
{
	if (!poll->wqh)
		return;
	remove_wait_queue(poll->wqh, &poll->wait);
	poll->wqh = NULL;
}
EXPORT_SYMBOL_GPL(ivhost_poll_stop);
