/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Userspace shim: the fuzz targets are single-threaded, so a spinlock
 * only records that it is held, and unbalanced use trips an assertion.
 */
#ifndef _TOOLS_INCLUDE_LINUX_SPINLOCK_H
#define _TOOLS_INCLUDE_LINUX_SPINLOCK_H

#include <assert.h>
#include <linux/atomic.h>

typedef struct {
	int held;
} spinlock_t;

#define spin_lock_init(l)	((l)->held = 0)

static inline void spin_lock(spinlock_t *l)
{
	assert(!l->held);
	l->held = 1;
}

static inline void spin_unlock(spinlock_t *l)
{
	assert(l->held);
	l->held = 0;
}

#endif /* _TOOLS_INCLUDE_LINUX_SPINLOCK_H */
