/* SPDX-License-Identifier: GPL-2.0 */
/* Userspace shim: the atomic_t operations the module uses, on GCC builtins. */
#ifndef _TOOLS_INCLUDE_LINUX_ATOMIC_H
#define _TOOLS_INCLUDE_LINUX_ATOMIC_H

#include <linux/types.h>

#define ATOMIC_INIT(i)	{ (i) }

static inline int atomic_inc_return(atomic_t *v)
{
	return __atomic_add_fetch(&v->counter, 1, __ATOMIC_SEQ_CST);
}

static inline int atomic_read(const atomic_t *v)
{
	return __atomic_load_n(&v->counter, __ATOMIC_RELAXED);
}

#endif /* _TOOLS_INCLUDE_LINUX_ATOMIC_H */
