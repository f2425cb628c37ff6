/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Userspace shim: work items.  Nothing runs asynchronously in userspace:
 * scheduling only marks the work pending, and the user (a fuzz target,
 * ivhost-user's loop) decides when to run it.
 */
#ifndef _TOOLS_INCLUDE_LINUX_WORKQUEUE_H
#define _TOOLS_INCLUDE_LINUX_WORKQUEUE_H

#include <stdbool.h>

struct work_struct;
typedef void (*work_func_t)(struct work_struct *work);

struct work_struct {
	work_func_t func;
	int pending;
};

struct delayed_work {
	struct work_struct work;
};

static inline void INIT_WORK(struct work_struct *w, work_func_t f)
{
	w->func = f;
	w->pending = 0;
}

#define INIT_DELAYED_WORK(dw, f)	INIT_WORK(&(dw)->work, f)
#define to_delayed_work(w)	container_of(w, struct delayed_work, work)

static inline bool schedule_delayed_work(struct delayed_work *dw,
					 unsigned long delay)
{
	(void)delay;
	/* Atomic: ivhost-user's workers schedule, its control thread runs. */
	return !__atomic_exchange_n(&dw->work.pending, 1, __ATOMIC_SEQ_CST);
}

/* A user that runs pending work itself checks &work_struct.pending. */
#define system_wq	((void *)0)

static inline unsigned long msecs_to_jiffies(unsigned int ms)
{
	return ms;
}

static inline bool mod_delayed_work(void *wq, struct delayed_work *dw,
				    unsigned long delay)
{
	(void)wq;
	return !schedule_delayed_work(dw, delay);
}

static inline bool cancel_delayed_work_sync(struct delayed_work *dw)
{
	return __atomic_exchange_n(&dw->work.pending, 0, __ATOMIC_SEQ_CST);
}

#endif /* _TOOLS_INCLUDE_LINUX_WORKQUEUE_H */
