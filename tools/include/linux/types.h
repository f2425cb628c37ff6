/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Userspace shim: the kernel's basic types for the fuzz builds.  The
 * system's uapi <linux/types.h> gives the __u* types (u64 is unsigned
 * long long, as in the kernel); this adds the kernel-internal names.
 */
#ifndef _TOOLS_INCLUDE_LINUX_TYPES_H
#define _TOOLS_INCLUDE_LINUX_TYPES_H

#include_next <linux/types.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef __u8 u8;
typedef __u16 u16;
typedef __u32 u32;
typedef __u64 u64;
typedef __s8 s8;
typedef __s16 s16;
typedef __s32 s32;
typedef __s64 s64;

typedef unsigned int gfp_t;
typedef unsigned int __poll_t;

#define __user
#define __force
#define __must_check

typedef struct {
	int counter;
} atomic_t;

struct list_head {
	struct list_head *next, *prev;
};

struct hlist_head {
	struct hlist_node *first;
};

struct hlist_node {
	struct hlist_node *next, **pprev;
};

#endif /* _TOOLS_INCLUDE_LINUX_TYPES_H */
