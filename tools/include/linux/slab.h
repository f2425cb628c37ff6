/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Userspace shim: slab allocations on malloc(), so ASan sees every use
 * after free, double free and leak.  tools_alloc_fail, when set by a
 * target, makes the next allocations fail (counted down).
 */
#ifndef _TOOLS_INCLUDE_LINUX_SLAB_H
#define _TOOLS_INCLUDE_LINUX_SLAB_H

#include <stdlib.h>
#include <string.h>
#include <linux/types.h>
#include <linux/err.h>
#include <linux/overflow.h>

#define GFP_KERNEL		0x1U
#define GFP_ATOMIC		0x2U
#define GFP_KERNEL_ACCOUNT	0x4U
#define GFP_NOWAIT		0x8U
#define __GFP_ZERO		0x100U
#define __GFP_ACCOUNT		0x400U
#define __GFP_NOWARN		0x200U

/* 0: never fail; n > 0: the n-th allocation from now fails. */
extern unsigned int tools_alloc_fail;

static inline bool tools_alloc_should_fail(void)
{
	if (!tools_alloc_fail)
		return false;
	return --tools_alloc_fail == 0;
}

static inline void *kmalloc(size_t size, gfp_t gfp)
{
	if (tools_alloc_should_fail())
		return NULL;
	return gfp & __GFP_ZERO ? calloc(1, size) : malloc(size);
}

static inline void *kzalloc(size_t size, gfp_t gfp)
{
	return kmalloc(size, gfp | __GFP_ZERO);
}

static inline void *kvzalloc(size_t size, gfp_t gfp)
{
	return kzalloc(size, gfp);
}

static inline void *kmemdup(const void *p, size_t size, gfp_t gfp)
{
	void *q = kmalloc(size, gfp);

	if (q)
		memcpy(q, p, size);
	return q;
}

static inline void kfree(const void *p)
{
	free((void *)p);
}

static inline void kvfree(const void *p)
{
	free((void *)p);
}

#endif /* _TOOLS_INCLUDE_LINUX_SLAB_H */
