/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ivhost ring access: every read and write of a ring's memory (split:
 * descriptor table, avail ring, used ring; packed: descriptor ring,
 * driver and device event suppression areas) goes through these, so that
 * a ring contiguous in IOVA space but split in the VMM's memory can be
 * reached piece by piece while a contiguous ring keeps its direct access.
 *
 * @ptr is always an address inside the ring's mapping as the vq keeps it
 * (&ivhost_vq.desc, .avail, .used, or their packed aliases): the access
 * is at offset @ptr - base of @area.
 *
 * Locking: under the vq's mutex, like every ring access.
 */
#ifndef _IVHOST_VRING_ACCESS_H
#define _IVHOST_VRING_ACCESS_H

#include <linux/uaccess.h>

#include "ivhost.h"

/**
 * enum ivhost_ring_area - the three memory areas of a ring
 * @IVHOST_RING_DESC: split descriptor table, or packed descriptor ring
 * @IVHOST_RING_DRIVER: split avail ring, or packed driver event area
 * @IVHOST_RING_DEVICE: split used ring, or packed device event area
 */
enum ivhost_ring_area {
	IVHOST_RING_DESC,
	IVHOST_RING_DRIVER,
	IVHOST_RING_DEVICE,
};

/* Read the ring field at @ptr into @x: 0 or -EFAULT. */
#define ivhost_ring_get(vq, area, x, ptr)	get_user(x, ptr)

/* Write @x to the ring field at @ptr: 0 or -EFAULT. */
#define ivhost_ring_put(vq, area, x, ptr)	put_user(x, ptr)

/* Copy @len bytes of the ring at @src into @dst: 0 or -EFAULT. */
static inline int ivhost_ring_read(struct ivhost_vq *vq,
				   enum ivhost_ring_area area, void *dst,
				   const void __user *src, size_t len)
{
	return copy_from_user(dst, src, len) ? -EFAULT : 0;
}

/* Copy @len bytes from @src to the ring at @dst: 0 or -EFAULT. */
static inline int ivhost_ring_write(struct ivhost_vq *vq,
				    enum ivhost_ring_area area,
				    void __user *dst, const void *src,
				    size_t len)
{
	return copy_to_user(dst, src, len) ? -EFAULT : 0;
}

#endif /* _IVHOST_VRING_ACCESS_H */
