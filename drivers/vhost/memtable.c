// SPDX-License-Identifier: GPL-2.0
/*
 * The memory table: guest-physical regions, each backed by a userspace
 * range, held in an interval tree of closed intervals [start, last].
 *
 * Regions are validated when the table is built and never change after:
 * no empty region, no range that wraps past 2^64 on either side, no two
 * regions overlapping.  Lookups therefore find at most one region.
 *
 * Locking: a built table is read-only, so lookups take no lock.  The owner
 * of the table (core.c) makes sure no lookup outlives it.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/errno.h>
#include <linux/interval_tree_generic.h>
#include <linux/overflow.h>
#include <linux/slab.h>

#include "memtable.h"
#include "kunit_export.h"

#define IVHOST_REGION_START(r)	((r)->start)
#define IVHOST_REGION_LAST(r)	((r)->last)

INTERVAL_TREE_DEFINE(struct ivhost_region, rb, u64, subtree_last,
		     IVHOST_REGION_START, IVHOST_REGION_LAST, static inline,
		     ivhost_region_tree);

/**
 * ivhost_region_check() - validate one region of a VHOST_SET_MEM_TABLE
 * @r: the region as userspace passed it
 *
 * Context: any.
 * Return: 0, or -EINVAL if the region is empty or its guest-physical or
 * userspace range wraps past 2^64.
 */
int ivhost_region_check(const struct vhost_memory_region *r)
{
	u64 last;

	if (!r->memory_size)
		return -EINVAL;
	if (check_add_overflow(r->guest_phys_addr, r->memory_size - 1, &last))
		return -EINVAL;
	if (check_add_overflow(r->userspace_addr, r->memory_size - 1, &last))
		return -EINVAL;
	return 0;
}
EXPORT_SYMBOL_IF_IVHOST_KUNIT(ivhost_region_check);

static bool ivhost_memtable_overlaps(struct ivhost_memtable *mt,
				     const struct ivhost_region *r)
{
	return ivhost_region_tree_iter_first(&mt->root, r->start, r->last);
}

/**
 * ivhost_memtable_build() - build a table from userspace's region array
 * @regs: the regions, already copied into the kernel
 * @nregions: number of entries in @regs; the caller bounds it
 *
 * Context: process context; may sleep.
 * Return: the new table, ERR_PTR(-EINVAL) if a region is invalid or two
 * regions overlap, or ERR_PTR(-ENOMEM).
 */
struct ivhost_memtable *
ivhost_memtable_build(const struct vhost_memory_region *regs, u32 nregions)
{
	struct ivhost_memtable *mt;
	struct ivhost_region *r;
	u32 i;
	int err;

	mt = kvzalloc(struct_size(mt, regions, nregions), GFP_KERNEL_ACCOUNT);
	if (!mt)
		return ERR_PTR(-ENOMEM);
	mt->root = RB_ROOT_CACHED;

	for (i = 0; i < nregions; i++) {
		err = ivhost_region_check(&regs[i]);
		if (err)
			goto free_table;
		r = &mt->regions[i];
		r->start = regs[i].guest_phys_addr;
		r->last = regs[i].guest_phys_addr + regs[i].memory_size - 1;
		r->uaddr = regs[i].userspace_addr;
		if (ivhost_memtable_overlaps(mt, r)) {
			err = -EINVAL;
			goto free_table;
		}
		ivhost_region_tree_insert(r, &mt->root);
		mt->nregions++;
	}
	return mt;

free_table:
	kvfree(mt);
	return ERR_PTR(err);
}
EXPORT_SYMBOL_IF_IVHOST_KUNIT(ivhost_memtable_build);

/**
 * ivhost_memtable_free() - free a table built by ivhost_memtable_build()
 * @mt: the table, or NULL
 *
 * Context: process context; no lookup may still be using @mt.
 */
void ivhost_memtable_free(struct ivhost_memtable *mt)
{
	kvfree(mt);
}
EXPORT_SYMBOL_IF_IVHOST_KUNIT(ivhost_memtable_free);

/**
 * ivhost_memtable_find() - find the region holding a guest address
 * @mt: the table
 * @gpa: guest-physical address
 *
 * Context: any; @mt must stay alive across the call.
 * Return: the region containing @gpa, or NULL.
 */
const struct ivhost_region *
ivhost_memtable_find(const struct ivhost_memtable *mt, u64 gpa)
{
	/* The tree iterators take a non-const root but do not modify it. */
	return ivhost_region_tree_iter_first((struct rb_root_cached *)&mt->root,
					     gpa, gpa);
}
EXPORT_SYMBOL_IF_IVHOST_KUNIT(ivhost_memtable_find);

/**
 * ivhost_memtable_translate() - map a guest range onto userspace segments
 * @mt: the table
 * @gpa: first guest-physical address of the range
 * @len: length of the range in bytes; 0 yields no segment
 * @iov: where to store the segments
 * @max: capacity of @iov
 *
 * The range is split wherever it crosses from one region into the next.
 *
 * Context: any; @mt must stay alive across the call.
 * Return: the number of segments stored, -EFAULT if part of the range is
 * not in any region or the range wraps past 2^64, or -ENOBUFS if it needs
 * more than @max segments.
 */
int ivhost_memtable_translate(const struct ivhost_memtable *mt, u64 gpa,
			      u64 len, struct iovec *iov, unsigned int max)
{
	const struct ivhost_region *r;
	unsigned int n = 0;
	u64 last, seg;

	if (!len)
		return 0;
	if (check_add_overflow(gpa, len - 1, &last))
		return -EFAULT;

	for (;;) {
		r = ivhost_memtable_find(mt, gpa);
		if (!r)
			return -EFAULT;
		if (n == max)
			return -ENOBUFS;
		/* Bytes left in the range and in the region, minus one. */
		seg = min(last - gpa, r->last - gpa);
		iov[n].iov_base = u64_to_user_ptr(r->uaddr + (gpa - r->start));
		iov[n].iov_len = seg + 1;
		n++;
		if (gpa + seg == last)
			return n;
		gpa += seg + 1;
	}
}
EXPORT_SYMBOL_IF_IVHOST_KUNIT(ivhost_memtable_translate);
