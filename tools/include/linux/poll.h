/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Userspace shim: the poll() bits (glibc's, which have the kernel's
 * values, so that a user of <sys/epoll.h> sees one definition) and a
 * no-op poll_wait().
 */
#ifndef _TOOLS_INCLUDE_LINUX_POLL_H
#define _TOOLS_INCLUDE_LINUX_POLL_H

#include <linux/types.h>
#include <linux/wait.h>

#include <sys/epoll.h>

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
