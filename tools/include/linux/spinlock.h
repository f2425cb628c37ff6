/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Userspace shim: a spinlock is an error-checking pthread mutex.
 * ivhost-user's datapath threads take the IOTLB core's lock concurrently;
 * the single-threaded fuzz targets get the checks: taking it twice, or
 * releasing it unheld, trips an assertion, and @held tells whether it is
 * held (read it only from the thread that may hold it).
 * ThreadSanitizer and helgrind see the mutex.
 */
#ifndef _TOOLS_INCLUDE_LINUX_SPINLOCK_H
#define _TOOLS_INCLUDE_LINUX_SPINLOCK_H

#include <assert.h>
#include <pthread.h>
#include <linux/atomic.h>

typedef struct {
	pthread_mutex_t m;
	int held;
} spinlock_t;

static inline void spin_lock_init(spinlock_t *l)
{
	pthread_mutexattr_t a;
	int err;

	pthread_mutexattr_init(&a);
	pthread_mutexattr_settype(&a, PTHREAD_MUTEX_ERRORCHECK);
	err = pthread_mutex_init(&l->m, &a);
	l->held = 0;
	pthread_mutexattr_destroy(&a);
	assert(!err);
	(void)err;
}

static inline void spin_lock(spinlock_t *l)
{
	int err = pthread_mutex_lock(&l->m);

	assert(!err);
	(void)err;
	l->held = 1;
}

static inline void spin_unlock(spinlock_t *l)
{
	int err;

	l->held = 0;
	err = pthread_mutex_unlock(&l->m);
	assert(!err);
	(void)err;
}

#endif /* _TOOLS_INCLUDE_LINUX_SPINLOCK_H */
