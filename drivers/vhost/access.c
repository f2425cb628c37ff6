// SPDX-License-Identifier: GPL-2.0
/*
 * The one gate to guest memory.
 *
 * Every guest address the device uses (descriptor buffers, indirect
 * tables, and with the device IOTLB the rings themselves) is turned into
 * userspace segments here, and nowhere else.  Without
 * VIRTIO_F_ACCESS_PLATFORM guest addresses are guest-physical and go
 * through the memory table; with it they are IOVAs and go through the
 * device IOTLB only, which may answer that the VMM has to be asked first.
 *
 * Locking: called by the worker, or by ioctls, under the vq's mutex, which
 * keeps &ivhost_vq.mem alive (core.c swaps tables under every vq mutex).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/uaccess.h>

#include "ivhost.h"

/* Segments a small metadata read may span. */
#define IVHOST_COPY_SEGS	4

/* Whether the vq's own last translation covers [addr, addr + len - 1]. */
static bool ivhost_span_covers(const struct ivhost_devtlb_span *s, u64 addr,
			       u64 len, u8 perm)
{
	return (s->perm & perm) == perm && s->perm && addr >= s->start &&
	       addr <= s->last && len - 1 <= s->last - addr;
}

/*
 * Through the device IOTLB.  A range inside the entry the vq used last
 * is served from the vq's copy of it, without the IOTLB's lock: every
 * change that removes or replaces a translation, or evicts one, goes
 * through the vq mutex before it completes and drops the copy if it
 * touches it (ivhost_vq_forget()).
 */
static int ivhost_translate_iova(struct ivhost_vq *vq, u64 addr, u64 len,
				 u8 perm, struct iovec *iov, unsigned int max)
{
	struct ivhost_devtlb_span *s = &vq->tlbq.span;
	int n;

	if (len && max && ivhost_span_covers(s, addr, len, perm)) {
		iov->iov_base = u64_to_user_ptr(s->uaddr + (addr - s->start));
		iov->iov_len = len;
		WRITE_ONCE(vq->span_hits, vq->span_hits + 1);
		return 1;
	}
	n = ivhost_devtlb_translate(&vq->dev->tlb, vq->index, addr, len, perm,
				    iov, max, &vq->tlbq);
	return n == -EAGAIN ? -EINPROGRESS : n;
}

/**
 * ivhost_translate() - map a range of guest memory onto userspace segments
 * @vq: the vq on whose behalf the access is made
 * @addr: first guest address of the range
 * @len: length in bytes; 0 yields no segment
 * @perm: IVHOST_PERM_RO to read the range, IVHOST_PERM_WO to write it
 * @iov: where to store the segments
 * @max: capacity of @iov
 *
 * Context: under &vq->mutex.
 * Return: number of segments; -EFAULT if part of the range is not guest
 * memory; -ENOBUFS if it needs more than @max segments; with the device
 * IOTLB, -EINPROGRESS if a translation is missing (a MISS was queued and
 * the vq is woken when the VMM answers), -EACCES if the mapping does
 * not allow @perm (an ACCESS_FAIL was queued) and -ENOSPC if the frame
 * in progress would step into more than %IVHOST_FRAME_MAX_ENTRIES
 * entries (ivhost_vq_frame_begin()).
 */
int ivhost_translate(struct ivhost_vq *vq, u64 addr, u64 len, u8 perm,
		     struct iovec *iov, unsigned int max)
	__must_hold(&vq->mutex)
{
	lockdep_assert_held(&vq->mutex);
	if (ivhost_vq_iotlb(vq))
		return ivhost_translate_iova(vq, addr, len, perm, iov, max);
	if (!vq->mem)
		return -EFAULT;
	return ivhost_memtable_translate(vq->mem, addr, len, iov, max);
}

/**
 * ivhost_copy_from_guest() - read a small object from guest memory
 * @vq: the vq on whose behalf the access is made
 * @dst: kernel buffer
 * @addr: guest address
 * @len: bytes to read
 *
 * Context: the worker or the owner's thread, under &vq->mutex.
 * Return: 0, or a negative errno as from ivhost_translate(); -EFAULT if
 * the userspace memory behind the guest address cannot be read.
 */
int ivhost_copy_from_guest(struct ivhost_vq *vq, void *dst, u64 addr,
			   size_t len)
	__must_hold(&vq->mutex)
{
	struct iovec iov[IVHOST_COPY_SEGS];
	int i, n;

	lockdep_assert_held(&vq->mutex);
	n = ivhost_translate(vq, addr, len, IVHOST_PERM_RO, iov,
			     ARRAY_SIZE(iov));
	/* Metadata in more pieces than this is unreadable, not too big. */
	if (n == -ENOBUFS)
		return -EFAULT;
	if (n < 0)
		return n;
	for (i = 0; i < n; i++) {
		if (copy_from_user(dst, iov[i].iov_base, iov[i].iov_len))
			return -EFAULT;
		dst += iov[i].iov_len;
	}
	return 0;
}

/**
 * ivhost_ask_ahead() - ask the VMM now for a range the vq will need
 * @vq: the vq
 * @addr: first guest address
 * @len: bytes
 * @perm: the access it will need
 *
 * With the device IOTLB, queues a MISS for the first missing byte of
 * the range; nothing else is reported, and nothing without the IOTLB.
 *
 * Context: the worker, under &vq->mutex.
 */
void ivhost_ask_ahead(struct ivhost_vq *vq, u64 addr, u64 len, u8 perm)
	__must_hold(&vq->mutex)
{
	lockdep_assert_held(&vq->mutex);
	if (!ivhost_vq_iotlb(vq) || !len ||
	    ivhost_span_covers(&vq->tlbq.span, addr, len, perm))
		return;
	ivhost_devtlb_ask(&vq->dev->tlb, vq->index, addr, len, perm);
}
