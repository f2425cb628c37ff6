/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Userspace shim: wait queues.  Nothing runs concurrently with a fuzz
 * target, so waiting for a condition that is false would never end: it
 * reports -ERESTARTSYS, as an interrupted wait does.
 */
#ifndef _TOOLS_INCLUDE_LINUX_WAIT_H
#define _TOOLS_INCLUDE_LINUX_WAIT_H

#include <errno.h>

#ifndef ERESTARTSYS
#define ERESTARTSYS	512
#endif

typedef struct {
	int wakeups;
} wait_queue_head_t;

#define init_waitqueue_head(wq)	((wq)->wakeups = 0)
#define wake_up_interruptible(wq)	((wq)->wakeups++)
#define wake_up(wq)		((wq)->wakeups++)
#define wake_up_interruptible_poll(wq, m)	((void)(m), (wq)->wakeups++)

#define wait_event_interruptible(wq, cond)	((cond) ? 0 : -ERESTARTSYS)

#endif /* _TOOLS_INCLUDE_LINUX_WAIT_H */
