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
 * A ring contiguous in userspace (always, without the device IOTLB) is
 * read and written directly; one the device IOTLB maps in several pieces
 * (&ivhost_vq.ring_split) is translated access by access from its IOVA
 * (&ivhost_vq.ring_iova), and copied piece by piece (vring_access.c).
 *
 * Locking: under the vq's mutex, like every ring access.
 */
#ifndef _IVHOST_VRING_ACCESS_H
#define _IVHOST_VRING_ACCESS_H

#include <linux/bits.h>
#include <linux/build_bug.h>
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

/* The vq's pointer to @area, against which ring pointers are offsets. */
static inline const void __user *ivhost_ring_base(const struct ivhost_vq *vq,
						  enum ivhost_ring_area area)
{
	switch (area) {
	case IVHOST_RING_DESC:
		return vq->desc;
	case IVHOST_RING_DRIVER:
		return vq->avail;
	default:
		return vq->used;
	}
}

int ivhost_log_ring(struct ivhost_vq *vq, enum ivhost_ring_area area,
		    u64 offset, u64 len);
int ivhost_ring_translate(struct ivhost_vq *vq, enum ivhost_ring_area area,
			  u64 offset, u64 len, u8 perm, struct iovec *iov,
			  unsigned int max);
int ivhost_ring_copy_in(struct ivhost_vq *vq, enum ivhost_ring_area area,
			void *dst, const void __user *src, size_t len);
int ivhost_ring_copy_out(struct ivhost_vq *vq, enum ivhost_ring_area area,
			 void __user *dst, const void *src, size_t len);

/*
 * The area is one piece of userspace: its pointers are used as they are.
 * The one branch every access pays; only a ring split in the VMM's
 * memory under the device IOTLB takes the other way.
 */
static __always_inline bool ivhost_ring_direct(const struct ivhost_vq *vq,
					       enum ivhost_ring_area area)
{
	return likely(!(vq->ring_split & BIT(area)));
}

/* Read the ring field at @ptr into @x: 0 or -EFAULT (@x is then 0). */
#define ivhost_ring_get(vq, area, x, ptr)				\
({									\
	struct ivhost_vq *__ivr_vq = (vq);				\
	enum ivhost_ring_area __ivr_area = (area);			\
	__typeof__(ptr) __ivr_p = (ptr);				\
	__auto_type __ivr_x = &(x);					\
									\
	BUILD_BUG_ON(sizeof(*__ivr_x) != sizeof(*__ivr_p));		\
	ivhost_ring_direct(__ivr_vq, __ivr_area) ?			\
		get_user(*__ivr_x, __ivr_p) :				\
		ivhost_ring_copy_in(__ivr_vq, __ivr_area, __ivr_x,	\
				    __ivr_p, sizeof(*__ivr_x));		\
})

/* Write @x to the ring field at @ptr: 0 or -EFAULT. */
#define ivhost_ring_put(vq, area, x, ptr)				\
({									\
	struct ivhost_vq *__ivr_vq = (vq);				\
	enum ivhost_ring_area __ivr_area = (area);			\
	__typeof__(ptr) __ivr_p = (ptr);				\
	__typeof__(x) __ivr_x = (x);					\
									\
	BUILD_BUG_ON(sizeof(__ivr_x) != sizeof(*__ivr_p));		\
	ivhost_ring_direct(__ivr_vq, __ivr_area) ?			\
		put_user(__ivr_x, __ivr_p) :				\
		ivhost_ring_copy_out(__ivr_vq, __ivr_area, __ivr_p,	\
				     &__ivr_x, sizeof(__ivr_x));	\
})

/* Copy @len bytes of the ring at @src into @dst: 0 or -EFAULT. */
static inline int ivhost_ring_read(struct ivhost_vq *vq,
				   enum ivhost_ring_area area, void *dst,
				   const void __user *src, size_t len)
{
	if (ivhost_ring_direct(vq, area))
		return copy_from_user(dst, src, len) ? -EFAULT : 0;
	return ivhost_ring_copy_in(vq, area, dst, src, len);
}

/* Copy @len bytes from @src to the ring at @dst: 0 or -EFAULT. */
static inline int ivhost_ring_write(struct ivhost_vq *vq,
				    enum ivhost_ring_area area,
				    void __user *dst, const void *src,
				    size_t len)
{
	if (ivhost_ring_direct(vq, area))
		return copy_to_user(dst, src, len) ? -EFAULT : 0;
	return ivhost_ring_copy_out(vq, area, dst, src, len);
}

#endif /* _IVHOST_VRING_ACCESS_H */
