// SPDX-License-Identifier: GPL-2.0
/*
 * Ring access for a ring the device IOTLB maps in several pieces of the
 * VMM's memory: contiguous in IOVA space (as the driver sees it), split
 * in userspace (a guest whose ring pages are not physically contiguous,
 * or that straddle two memory regions of the VMM).  The fast path, a
 * ring in one piece, never comes here (vring_access.h).
 *
 * Each access is translated on its own, from the area's IOVA and the
 * access's offset in it, and copied through the pieces.  The translation
 * is the IOTLB's: ivhost_vq_tlb_map_rings() checked that every piece of
 * every area translates with the access the area needs, and any change
 * of those translations takes the vq mutex first and makes the next
 * round map the rings again (ivhost_vq_forget()).  The rings'
 * translations count as a frame of their own, so they are not charged
 * to the frame in progress, and they leave the vq's last translation
 * (&ivhost_devtlb_vq.span) to the buffers.
 *
 * Locking: under the vq's mutex, with &ivhost_vq.rings_valid set.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/export.h>
#include <linux/overflow.h>
#include <linux/uaccess.h>

#include "ivhost.h"
#include "vring_access.h"

/*
 * Bytes copied per translation.  Byte-granular IOTLB entries split such
 * a chunk into at most this many pieces, so one always fits @iov.
 */
#define IVHOST_RING_CHUNK	16

/**
 * ivhost_ring_translate() - the userspace pieces of part of a ring area
 * @vq: the vq, its rings mapped with the device IOTLB
 * @area: which area
 * @offset: byte offset of the part in the area
 * @len: bytes; 0 yields no piece
 * @perm: IVHOST_PERM_RO to read the part, IVHOST_PERM_WO to write it
 * @iov: where to store the pieces
 * @max: capacity of @iov
 *
 * Context: under &vq->mutex, with &ivhost_vq.rings_valid.
 * Return: the number of pieces, or a negative errno as from
 * ivhost_devtlb_translate() (none is expected for a part of a mapped
 * ring but -ENOBUFS).
 */
int ivhost_ring_translate(struct ivhost_vq *vq, enum ivhost_ring_area area,
			  u64 offset, u64 len, u8 perm, struct iovec *iov,
			  unsigned int max)
	__must_hold(&vq->mutex)
{
	u64 iova;

	lockdep_assert_held(&vq->mutex);
	if (check_add_overflow(vq->ring_iova[area], offset, &iova))
		return -EFAULT;
	return ivhost_devtlb_translate(&vq->dev->tlb, vq->index, iova, len,
				       perm, iov, max, NULL);
}

/*
 * Copy between @buf and the area at @ptr, a chunk at a time: into @buf,
 * or from it (only read then) when @to_ring.
 */
static int ivhost_ring_copy(struct ivhost_vq *vq, enum ivhost_ring_area area,
			    const void __user *ptr, void *buf, size_t len,
			    bool to_ring)
{
	u64 offset = (u64)(uintptr_t)ptr -
		     (u64)(uintptr_t)ivhost_ring_base(vq, area);
	struct iovec iov[IVHOST_RING_CHUNK];
	size_t chunk, left;
	int i, n;

	while (len) {
		chunk = min_t(size_t, len, IVHOST_RING_CHUNK);
		n = ivhost_ring_translate(vq, area, offset, chunk,
					  to_ring ? IVHOST_PERM_WO :
						    IVHOST_PERM_RO,
					  iov, ARRAY_SIZE(iov));
		if (n < 0) {
			pr_debug("vq %u: ring area %d at %llu: error %d\n",
				 vq->index, area, offset, n);
			return -EFAULT;
		}
		for (i = 0; i < n; i++) {
			left = to_ring ? copy_to_user(iov[i].iov_base, buf,
						      iov[i].iov_len) :
					 copy_from_user(buf, iov[i].iov_base,
							iov[i].iov_len);
			if (left)
				return -EFAULT;
			buf += iov[i].iov_len;
		}
		offset += chunk;
		len -= chunk;
	}
	return 0;
}

/**
 * ivhost_ring_copy_in() - read part of a ring split in userspace
 * @vq: the vq, its rings mapped with the device IOTLB
 * @area: the area @src is in
 * @dst: kernel buffer
 * @src: the part, as an address inside the vq's pointer to @area
 * @len: bytes
 *
 * Context: under &vq->mutex, with &ivhost_vq.rings_valid.
 * Return: 0, or -EFAULT (@dst is then zeroed) if a byte does not
 * translate for reading or cannot be read.
 */
int ivhost_ring_copy_in(struct ivhost_vq *vq, enum ivhost_ring_area area,
			void *dst, const void __user *src, size_t len)
	__must_hold(&vq->mutex)
{
	int err;

	lockdep_assert_held(&vq->mutex);
	err = ivhost_ring_copy(vq, area, src, dst, len, false);
	if (err)
		memset(dst, 0, len);
	return err;
}
EXPORT_SYMBOL_GPL(ivhost_ring_copy_in);

/**
 * ivhost_ring_copy_out() - write part of a ring split in userspace
 * @vq: the vq, its rings mapped with the device IOTLB
 * @area: the area @dst is in
 * @dst: the part, as an address inside the vq's pointer to @area
 * @src: kernel buffer
 * @len: bytes
 *
 * Context: under &vq->mutex, with &ivhost_vq.rings_valid.
 * Return: 0, or -EFAULT if a byte does not translate for writing or
 * cannot be written (the bytes before it may have been).
 */
int ivhost_ring_copy_out(struct ivhost_vq *vq, enum ivhost_ring_area area,
			 void __user *dst, const void *src, size_t len)
	__must_hold(&vq->mutex)
{
	lockdep_assert_held(&vq->mutex);
	return ivhost_ring_copy(vq, area, dst, (void *)src, len, true);
}
EXPORT_SYMBOL_GPL(ivhost_ring_copy_out);
