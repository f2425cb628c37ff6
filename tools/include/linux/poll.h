/* SPDX-License-Identifier: GPL-2.0 */
/* Userspace shim: the poll() bits and a no-op poll_wait(). */
#ifndef _TOOLS_INCLUDE_LINUX_POLL_H
#define _TOOLS_INCLUDE_LINUX_POLL_H

#include <linux/types.h>
#include <linux/wait.h>

#define EPOLLIN		((__poll_t)0x00000001)
#define EPOLLOUT	((__poll_t)0x00000004)
#define EPOLLRDNORM	((__poll_t)0x00000040)
#define EPOLLWRNORM	((__poll_t)0x00000100)

struct file;

typedef struct {
	int unused;
} poll_table;

static inline void poll_wait(struct file *f, wait_queue_head_t *wq,
			     poll_table *p)
{
	(void)f;
	(void)wq;
	(void)p;
}

#endif /* _TOOLS_INCLUDE_LINUX_POLL_H */
