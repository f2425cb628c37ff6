// SPDX-License-Identifier: GPL-2.0
/*
 * Dirty page logging for live migration.
 *
 * With VHOST_F_LOG_ALL negotiated and a log base set, every guest page the
 * device writes is marked in a bitmap in the owner's memory: bit n of the
 * bitmap (bit n % 8 of byte n / 8) stands for the guest-physical page at
 * n * IVHOST_LOG_PAGE.  The VMM copies and clears the bitmap while the
 * guest runs, so bits are set with atomic operations on the pinned page,
 * never with a read-modify-write through userspace that could drop a bit
 * another device set at the same moment.
 *
 * The device knows what it wrote as userspace segments (with the device
 * IOTLB, guest addresses are IOVAs and say nothing about guest-physical
 * pages), so it logs by translating each written segment back through the
 * memory table.  Every region that maps the segment's userspace memory is
 * marked, so aliases of the same memory are never missed; a segment some
 * byte of which no region maps cannot be logged, and is an error (the
 * caller stops the vq) rather than a page left unmarked.  The used ring
 * is logged at its log_guest_addr, except with the device IOTLB, where
 * that address is an IOVA: then as the buffers are.
 *
 * A page is marked before the used index that makes the write visible to
 * the guest is published: callers log, then issue the write barrier that
 * orders the used index.
 *
 * Locking: every function runs in the worker (or an ioctl) under the vq's
 * mutex, which keeps &ivhost_vq.log_base and &ivhost_vq.log_ctx stable,
 * with the owner's mm in use.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bitops.h>
#include <linux/export.h>
#include <linux/highmem.h>
#include <linux/mm.h>

#include "ivhost.h"
#include "vring_access.h"

/* Bytes of bitmap one pinned page holds. */
#define IVHOST_LOG_BYTES_PER_PAGE	PAGE_SIZE

/**
 * struct ivhost_log_cursor - the bitmap page currently pinned
 * @uaddr: userspace address of the pinned page, or 0 when none
 * @page: the page
 * @kaddr: its kernel mapping
 */
struct ivhost_log_cursor {
	unsigned long uaddr;
	struct page *page;
	u8 *kaddr;
};

static void ivhost_log_unpin(struct ivhost_log_cursor *cur)
{
	if (!cur->page)
		return;
	kunmap_local(cur->kaddr);
	unpin_user_pages_dirty_lock(&cur->page, 1, true);
	cur->page = NULL;
	cur->uaddr = 0;
}

static int ivhost_log_pin(struct ivhost_log_cursor *cur, unsigned long uaddr)
{
	unsigned long base = uaddr & PAGE_MASK;
	int ret;

	if (cur->page && cur->uaddr == base)
		return 0;
	ivhost_log_unpin(cur);
	ret = pin_user_pages_fast(base, 1, FOLL_WRITE, &cur->page);
	if (ret != 1) {
		cur->page = NULL;
		return ret < 0 ? ret : -EFAULT;
	}
	cur->uaddr = base;
	cur->kaddr = kmap_local_page(cur->page);
	return 0;
}

/* Mark one guest page; the bit lives in the byte at log_base + pfn / 8. */
static int ivhost_log_page(struct ivhost_log_cursor *cur,
			   u8 __user *log_base, u64 pfn)
{
	unsigned long byte = (unsigned long)log_base + pfn / BITS_PER_BYTE;
	unsigned long word = byte & ~(sizeof(unsigned long) - 1);
	unsigned int bit;
	int ret;

	if (byte < (unsigned long)log_base)
		return -EFAULT;
	ret = ivhost_log_pin(cur, word);
	if (ret)
		return ret;
	bit = (byte - word) * BITS_PER_BYTE + pfn % BITS_PER_BYTE;
	set_bit(bit, (unsigned long *)(cur->kaddr + (word & ~PAGE_MASK)));
	return 0;
}

/**
 * ivhost_log_range() - mark guest pages written by the device
 * @vq: the vq that wrote them
 * @gpa: guest-physical address of the first byte written
 * @len: bytes written; 0 marks nothing
 *
 * Context: under &vq->mutex, with the owner's mm in use; may sleep.
 * Return: 0, -EINVAL if the range wraps past 2^64, or -EFAULT if the
 * bitmap is not writable memory of the owner.
 */
static int ivhost_log_range(struct ivhost_vq *vq, u64 gpa, u64 len)
	__must_hold(&vq->mutex)
{
	struct ivhost_log_cursor cur = {};
	u64 last, pfn;
	int ret = 0;

	lockdep_assert_held(&vq->mutex);
	if (!len || !vq->log_base)
		return 0;
	if (check_add_overflow(gpa, len - 1, &last))
		return -EINVAL;
	for (pfn = gpa / IVHOST_LOG_PAGE; pfn <= last / IVHOST_LOG_PAGE; pfn++) {
		ret = ivhost_log_page(&cur, vq->log_base, pfn);
		if (ret)
			break;
	}
	ivhost_log_unpin(&cur);
	return ret;
}

/*
 * The last userspace address of region @r: region sizes were checked not
 * to wrap when the table was built.
 */
static u64 ivhost_log_rulast(const struct ivhost_region *r)
{
	return r->uaddr + (r->last - r->start);
}

/*
 * Whether every byte of [uaddr, ulast] lies in some region of @mt.  Each
 * step moves past the end of the region reaching furthest from @pos, so
 * there are at most as many steps as regions.
 */
static bool ivhost_log_named(const struct ivhost_memtable *mt, u64 uaddr,
			     u64 ulast)
{
	u64 pos = uaddr, reach, rulast;
	bool found;
	u32 i;

	if (!mt)
		return false;
	for (;;) {
		found = false;
		reach = 0;
		for (i = 0; i < mt->nregions; i++) {
			rulast = ivhost_log_rulast(&mt->regions[i]);
			if (pos < mt->regions[i].uaddr || pos > rulast)
				continue;
			found = true;
			reach = max(reach, rulast);
		}
		if (!found)
			return false;
		if (reach >= ulast)
			return true;
		pos = reach + 1;
	}
}

/*
 * Mark the guest pages of every region that maps [uaddr, ulast]: -EFAULT,
 * marking nothing, if a byte of it is in no region (with the device
 * IOTLB the VMM may map guest addresses to memory its memory table does
 * not name: a write there could not be marked, and must not go unmarked).
 */
static int ivhost_log_uaddr(struct ivhost_vq *vq, u64 uaddr, u64 ulast)
{
	const struct ivhost_memtable *mt = vq->mem;
	const struct ivhost_region *r;
	u64 rulast, from, to;
	u32 i;
	int ret;

	if (!ivhost_log_named(mt, uaddr, ulast))
		return -EFAULT;
	for (i = 0; i < mt->nregions; i++) {
		r = &mt->regions[i];
		rulast = ivhost_log_rulast(r);
		if (ulast < r->uaddr || uaddr > rulast)
			continue;
		from = max(uaddr, r->uaddr);
		to = min(ulast, rulast);
		ret = ivhost_log_range(vq, r->start + (from - r->uaddr),
				       to - from + 1);
		if (ret)
			return ret;
	}
	return 0;
}

/**
 * ivhost_log_write() - mark the guest pages behind written user segments
 * @vq: the vq that wrote them
 * @iov: the segments, in the order they were filled
 * @niov: number of entries in @iov
 * @len: bytes written, from the start of @iov
 *
 * Translates each written byte range back to guest-physical addresses
 * through the memory table and marks them.  Segments past @len and
 * zero-length segments mark nothing.
 *
 * Context: under &vq->mutex, with the owner's mm in use; may sleep.
 * Return: 0, a negative errno as from ivhost_log_range(), or -EFAULT if
 * a written byte is in no region of the memory table.
 */
int ivhost_log_write(struct ivhost_vq *vq, const struct iovec *iov,
		     unsigned int niov, size_t len)
	__must_hold(&vq->mutex)
{
	unsigned int i;
	size_t n;
	int ret;

	lockdep_assert_held(&vq->mutex);
	/* The data, then its mark: a VMM that sees the bit sees the data. */
	smp_wmb();
	for (i = 0; i < niov && len; i++) {
		n = min(len, iov[i].iov_len);
		len -= n;
		if (!n)
			continue;
		ret = ivhost_log_uaddr(vq, (unsigned long)iov[i].iov_base,
				       (unsigned long)iov[i].iov_base + n - 1);
		if (ret)
			return ret;
	}
	return 0;
}
EXPORT_SYMBOL_GPL(ivhost_log_write);

/*
 * Bytes of a ring area split in userspace translated at a time: such a
 * chunk is in at most this many pieces, whatever the IOTLB entries.
 */
#define IVHOST_LOG_RING_CHUNK	16

/* A ring area split in userspace: mark each piece the bytes are in. */
static int ivhost_log_ring_pieces(struct ivhost_vq *vq,
				  enum ivhost_ring_area area, u64 offset,
				  u64 len)
{
	struct iovec iov[IVHOST_LOG_RING_CHUNK];
	u64 chunk, first;
	int i, n, ret;

	for (; len; offset += chunk, len -= chunk) {
		chunk = min_t(u64, len, IVHOST_LOG_RING_CHUNK);
		n = ivhost_ring_translate(vq, area, offset, chunk,
					  IVHOST_PERM_WO, iov,
					  ARRAY_SIZE(iov));
		if (n < 0)
			return -EFAULT;
		for (i = 0; i < n; i++) {
			first = (u64)(uintptr_t)iov[i].iov_base;
			ret = ivhost_log_uaddr(vq, first,
					       first + iov[i].iov_len - 1);
			if (ret)
				return ret;
		}
	}
	return 0;
}

/*
 * The ring area's bytes [offset, offset + len - 1], by the userspace
 * address they are at (by each piece, for an area the device IOTLB maps
 * split in userspace), translated back through the memory table.
 */
static int ivhost_log_ring_uaddr(struct ivhost_vq *vq,
				 enum ivhost_ring_area area, u64 offset,
				 u64 len)
{
	u64 first, last;

	if (!ivhost_ring_direct(vq, area))
		return ivhost_log_ring_pieces(vq, area, offset, len);
	if (check_add_overflow((u64)(uintptr_t)ivhost_ring_base(vq, area),
			       offset, &first) ||
	    check_add_overflow(first, len - 1, &last))
		return -EINVAL;
	return ivhost_log_uaddr(vq, first, last);
}

/**
 * ivhost_log_ring() - mark the part of a ring area the device wrote
 * @vq: the vq, its rings usable (&ivhost_vq.rings_valid)
 * @area: %IVHOST_RING_DEVICE (the split used ring, the packed device
 *	area) or %IVHOST_RING_DESC (a packed ring's used descriptors)
 * @offset: byte offset of the write in the area
 * @len: bytes written
 *
 * Logs when the vq was configured with VHOST_VRING_F_LOG.  The device
 * area is logged at the guest-physical address given in
 * VHOST_SET_VRING_ADDR (log_guest_addr).  With the device IOTLB, where
 * that address is an IOVA (QEMU gives the ring's), and for the packed
 * descriptor ring, which has no such address, the area's userspace
 * memory (each piece of it, when the IOTLB maps it split) is translated
 * back through the memory table, as RX buffers are logged.
 *
 * Context: under &vq->mutex, with the owner's mm in use; may sleep.
 * Return: 0 or a negative errno as from ivhost_log_range(); -EFAULT if a
 * written byte is in no region of the memory table.
 */
int ivhost_log_ring(struct ivhost_vq *vq, enum ivhost_ring_area area,
		    u64 offset, u64 len)
	__must_hold(&vq->mutex)
{
	u64 gpa;

	lockdep_assert_held(&vq->mutex);
	if (!(vq->addr_flags & BIT(VHOST_VRING_F_LOG)) || !len)
		return 0;
	/* The write, then its mark, as in ivhost_log_write(). */
	smp_wmb();
	if (ivhost_vq_iotlb(vq) || area != IVHOST_RING_DEVICE)
		return ivhost_log_ring_uaddr(vq, area, offset, len);
	if (check_add_overflow(vq->log_addr, offset, &gpa))
		return -EINVAL;
	return ivhost_log_range(vq, gpa, len);
}

/**
 * ivhost_log_done() - tell the VMM the bitmap changed
 * @vq: the vq that logged
 *
 * Signals the eventfd given with VHOST_SET_LOG_FD, if logging is on.
 *
 * Context: under &vq->mutex.
 */
void ivhost_log_done(struct ivhost_vq *vq)
	__must_hold(&vq->mutex)
{
	lockdep_assert_held(&vq->mutex);
	if (vq->log_base && vq->log_ctx)
		eventfd_signal(vq->log_ctx, 1);
}
EXPORT_SYMBOL_GPL(ivhost_log_done);
