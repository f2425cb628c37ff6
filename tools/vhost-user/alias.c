// SPDX-License-Identifier: GPL-2.0
/*
 * Rings split across the frontend's memory: a ring contiguous in guest
 * address space (IOVA, or the frontend's virtual addresses) may land in
 * two or more places of the daemon's memory, when its pages lie in two
 * SET_MEM_TABLE regions (QEMU's RAM below and above a hole), or when the
 * IOTLB maps its pages to memory that is not contiguous.  The datapath
 * reads and writes rings through plain pointers, so such a ring gets a
 * contiguous local alias: address space is reserved, and each piece's
 * pages are mapped into it again from the region's shared mapping
 * (mremap() of size 0 duplicates a shared mapping, the same pages of the
 * same file).  A ring in one piece is used where it is, as before.
 *
 * Every inner boundary between pieces must be page-aligned on both
 * sides (a page cannot be in two places); a ring split elsewhere is
 * refused with a log line, and stopped.  The alias lives as long as the
 * ring's translation: dropped with it by the IOTLB's barrier, a new
 * memory table, a stop or a restart (ivu_vring_unmap_rings()).  The
 * SIGBUS handler knows the aliases (mem.c), so a frontend that shrinks
 * its memfd under one stops the rings, as under a region.
 *
 * Context: an alias is made by the ring's worker (d->lock held for
 * reading) or the control thread, and dropped only with d->lock held for
 * writing, or by the control thread for a stopped ring.
 */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "ivu.h"

#define IVU_PAGE	4096UL

static uintptr_t ivu_page_down(uintptr_t a)
{
	return a & ~(IVU_PAGE - 1);
}

static uintptr_t ivu_page_up(uintptr_t a)
{
	return (a + IVU_PAGE - 1) & ~(IVU_PAGE - 1);
}

/* Pieces meet only at page boundaries: true if so. */
static bool ivu_alias_aligned(const struct iovec *seg, unsigned int n)
{
	unsigned int i;

	for (i = 0; i + 1 < n; i++) {
		uintptr_t end = (uintptr_t)seg[i].iov_base + seg[i].iov_len;

		if ((end & (IVU_PAGE - 1)) ||
		    ((uintptr_t)seg[i + 1].iov_base & (IVU_PAGE - 1)))
			return false;
	}
	return true;
}

/**
 * ivu_alias_map() - a contiguous local view of a ring in pieces
 * @seg: the ring's local pieces, in ring order
 * @n: their number, at least 2
 * @slot: the ring's slot in the SIGBUS handler's list of aliases
 * @a: gets the alias's mapping (to drop with ivu_alias_unmap())
 * @ptr: gets the ring's address in it
 *
 * Return: 0; -EINVAL if the pieces do not meet at page boundaries, or a
 * negative errno from mmap()/mremap() (a piece no longer shared memory).
 */
int ivu_alias_map(const struct iovec *seg, unsigned int n, unsigned int slot,
		  struct ivu_alias *a, void **ptr)
{
	uintptr_t first = (uintptr_t)seg[0].iov_base, at, from, len;
	size_t total = first & (IVU_PAGE - 1);
	unsigned int i;
	char *base;

	if (!ivu_alias_aligned(seg, n))
		return -EINVAL;
	for (i = 0; i < n; i++)
		total += seg[i].iov_len;
	total = ivu_page_up(total);
	base = mmap(NULL, total, PROT_NONE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (base == MAP_FAILED)
		return -errno;
	at = (uintptr_t)base;
	for (i = 0; i < n; i++) {
		from = ivu_page_down((uintptr_t)seg[i].iov_base);
		len = ivu_page_up((uintptr_t)seg[i].iov_base +
				  seg[i].iov_len) - from;
		if (mremap((void *)from, 0, len, MREMAP_MAYMOVE | MREMAP_FIXED,
			   (void *)at) == MAP_FAILED) {
			int err = -errno;

			munmap(base, total);
			return err;
		}
		at += len;
	}
	a->base = base;
	a->len = total;
	ivu_mem_track_alias(slot, base, total);
	*ptr = base + (first & (IVU_PAGE - 1));
	return 0;
}

/**
 * ivu_alias_unmap() - drop a ring's alias, if it has one
 * @a: the alias
 * @slot: the ring's slot, as given to ivu_alias_map()
 */
void ivu_alias_unmap(struct ivu_alias *a, unsigned int slot)
{
	if (!a->base)
		return;
	ivu_mem_track_alias(slot, NULL, 0);
	munmap(a->base, a->len);
	a->base = NULL;
	a->len = 0;
}

/**
 * ivu_alias_ring() - a ring's local address, from its local pieces
 * @vq: the ring
 * @area: which of its three areas (0 desc, 1 avail, 2 used)
 * @seg: the pieces
 * @n: their number, at least 1
 * @ptr: gets the address
 *
 * One piece is used in place; more get an alias (ivu_alias_map()).
 * Return: 0, or -EINVAL (logged) if the ring cannot be made contiguous.
 */
int ivu_alias_ring(struct ivu_vring *vq, unsigned int area,
		   const struct iovec *seg, unsigned int n, void **ptr)
{
	unsigned int slot = vq->index * IVU_RING_AREAS + area;
	int err;

	ivu_alias_unmap(&vq->alias[area], slot);
	if (n == 1) {
		*ptr = seg[0].iov_base;
		return 0;
	}
	err = ivu_alias_map(seg, n, slot, &vq->alias[area], ptr);
	if (err)
		ivu_log("vq %d: ring area %u in %u pieces of memory %s: %s",
			vq->index, area, n,
			err == -EINVAL ? "not split at page boundaries" :
					 "cannot be aliased",
			strerror(-err));
	return err ? -EINVAL : 0;
}
