/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Userspace shim: ktime_get_ns() on CLOCK_MONOTONIC, as the kernel's
 * reads the monotonic clock, and the time constants and 64-bit division
 * that go with it.
 */
#ifndef _TOOLS_INCLUDE_LINUX_TIMEKEEPING_H
#define _TOOLS_INCLUDE_LINUX_TIMEKEEPING_H

#include <time.h>
#include <linux/types.h>

#ifndef NSEC_PER_USEC
#define NSEC_PER_USEC	1000L
#endif
#ifndef NSEC_PER_MSEC
#define NSEC_PER_MSEC	1000000L
#endif
#ifndef NSEC_PER_SEC
#define NSEC_PER_SEC	1000000000L
#endif

static inline u64 ktime_get_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (u64)ts.tv_sec * NSEC_PER_SEC + ts.tv_nsec;
}

static inline u64 div_u64(u64 dividend, u32 divisor)
{
	return dividend / divisor;
}

#endif /* _TOOLS_INCLUDE_LINUX_TIMEKEEPING_H */
