/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Userspace shim: the helpers of the kernel's <linux/kernel.h>,
 * <linux/minmax.h>, <linux/bits.h> and <linux/limits.h> the module uses.
 */
#ifndef _TOOLS_INCLUDE_LINUX_KERNEL_H
#define _TOOLS_INCLUDE_LINUX_KERNEL_H

#include <assert.h>
#include <stddef.h>
#include <linux/types.h>
#include <linux/compiler.h>

#ifndef container_of
#define container_of(ptr, type, member) \
	((type *)((char *)(ptr) - offsetof(type, member)))
#endif

#define BUILD_BUG_ON_ZERO(e)	((int)(sizeof(struct { int:(-!!(e)); })))

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

#define min(a, b)	({ typeof(a) __a = (a); typeof(b) __b = (b);	\
			   __a < __b ? __a : __b; })
#define max(a, b)	({ typeof(a) __a = (a); typeof(b) __b = (b);	\
			   __a > __b ? __a : __b; })

#define min_t(type, a, b)	min((type)(a), (type)(b))
#define max_t(type, a, b)	max((type)(a), (type)(b))

/* The index of the lowest set bit of a non-zero word. */
#define __ffs(w)	((unsigned long)__builtin_ctzl(w))

#define BIT(n)		(1UL << (n))
#define BIT_ULL(n)	(1ULL << (n))

#define U8_MAX		((u8)~0U)
#define U16_MAX		((u16)~0U)
#define U32_MAX		((u32)~0U)
#define U64_MAX		((u64)~0ULL)

#define KBUILD_MODNAME	"ivhost"

#define u64_to_user_ptr(x)	((void __user *)(uintptr_t)(x))

/* A kernel WARN is a finding: abort so libFuzzer keeps the input. */
#define WARN_ON(c)	({ int __c = !!(c); assert(!__c); __c; })
#define WARN_ON_ONCE(c)	WARN_ON(c)

#define lockdep_assert_held(l)	((void)(l))

#endif /* _TOOLS_INCLUDE_LINUX_KERNEL_H */
