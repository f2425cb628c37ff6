/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ivhost memory table: guest-physical to userspace translation for devices
 * without VIRTIO_F_ACCESS_PLATFORM.
 *
 * A table is built once from a VHOST_SET_MEM_TABLE argument and is immutable
 * afterwards: readers need no lock of their own, only a guarantee that the
 * table outlives them (see core.c for how tables are swapped).
 */
#ifndef _IVHOST_MEMTABLE_H
#define _IVHOST_MEMTABLE_H

#include <linux/rbtree.h>
#include <linux/types.h>
#include <linux/uio.h>
#include <linux/vhost_types.h>

/**
 * struct ivhost_region - one guest memory region
 * @rb: node in &ivhost_memtable.root
 * @start: first guest-physical address of the region
 * @last: last guest-physical address of the region (closed interval)
 * @subtree_last: interval-tree bookkeeping
 * @uaddr: userspace address that @start maps to
 */
struct ivhost_region {
	struct rb_node rb;
	u64 start;
	u64 last;
	u64 subtree_last;
	u64 uaddr;
};

/**
 * struct ivhost_memtable - an immutable set of non-overlapping regions
 * @root: interval tree of @regions, keyed by [start, last]
 * @nregions: number of entries in @regions
 * @regions: the regions themselves
 */
struct ivhost_memtable {
	struct rb_root_cached root;
	u32 nregions;
	struct ivhost_region regions[];
};

int ivhost_region_check(const struct vhost_memory_region *r);
struct ivhost_memtable *
ivhost_memtable_build(const struct vhost_memory_region *regs, u32 nregions);
void ivhost_memtable_free(struct ivhost_memtable *mt);
const struct ivhost_region *
ivhost_memtable_find(const struct ivhost_memtable *mt, u64 gpa);
int ivhost_memtable_translate(const struct ivhost_memtable *mt, u64 gpa,
			      u64 len, struct iovec *iov, unsigned int max);

#endif /* _IVHOST_MEMTABLE_H */
