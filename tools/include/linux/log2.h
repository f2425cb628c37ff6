/* SPDX-License-Identifier: GPL-2.0 */
/* Userspace shim: ilog2() of a non-zero value, on a GCC builtin. */
#ifndef _TOOLS_INCLUDE_LINUX_LOG2_H
#define _TOOLS_INCLUDE_LINUX_LOG2_H

#include <linux/types.h>

#define ilog2(n)	(63 - __builtin_clzll((u64)(n)))

#endif /* _TOOLS_INCLUDE_LINUX_LOG2_H */
