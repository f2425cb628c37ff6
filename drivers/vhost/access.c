// SPDX-License-Identifier: GPL-2.0
/*
 * The one gate to guest memory.
 *
 * Every guest address the device uses (descriptor buffers, indirect
 * tables, and with the device IOTLB the rings themselves) is turned into
 * userspace segments here, and nowhere else.  Without
 * VIRTIO_F_ACCESS_PLATFORM guest addresses are guest-physical and go
 * through the memory table; with it they are IOVAs and go through the
 * vq's side of the device IOTLB only (vq_iotlb.c), which may answer that
 * the VMM has to be asked first.
 *
 * Locking: called by the worker, or by ioctls, under the vq's mutex, which
 * keeps &ivhost_vq.mem alive (core.c swaps tables under every vq mutex).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/uaccess.h>

#include "ivhost.h"

/* Segments a small metadata read may span. */
#define IVHOST_COPY_SEGS	4

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
		return ivhost_vq_tlb_translate(vq, addr, len, perm, iov, max);
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
