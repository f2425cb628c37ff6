/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Userspace shim: access_ok() against x86-64's user address limit
 * (TASK_SIZE_MAX with 4-level paging): [addr, addr + size) must end at
 * or below it without wrapping.
 */
#ifndef _TOOLS_INCLUDE_LINUX_UACCESS_H
#define _TOOLS_INCLUDE_LINUX_UACCESS_H

#include <stdint.h>
#include <linux/types.h>

#define FUZZ_TASK_SIZE_MAX	((1ULL << 47) - 4096)

static inline bool fuzz_access_ok(u64 addr, u64 size)
{
	return size <= FUZZ_TASK_SIZE_MAX && addr <= FUZZ_TASK_SIZE_MAX - size;
}

#define access_ok(ptr, size)	fuzz_access_ok((uintptr_t)(ptr), (size))

#endif /* _TOOLS_INCLUDE_LINUX_UACCESS_H */
