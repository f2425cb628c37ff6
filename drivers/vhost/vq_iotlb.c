// SPDX-License-Identifier: GPL-2.0
/*
 * The device IOTLB as the vqs and the device file see it: everything
 * between the vhost core (core.c, vring.c, access.c, net.c) and the
 * device's IOTLB (devtlb.c, devtlb_msg.c).
 *
 * - the device's side of struct ivhost_devtlb_ops: waking the vqs a
 *   change answered, and the barrier (sync), which drops what the vqs
 *   kept of a translation that changed;
 * - per-vq translation: the translation the vq used last (its span),
 *   served without the IOTLB's lock, and asking the VMM ahead for what
 *   the next chains will need;
 * - the rings' translations, made before a round, counted as used by
 *   the eviction clock, dropped when the IOTLB changes under them;
 * - the device file's IOTLB side: read(), write() and poll() of IOTLB
 *   messages, backend features, the counters.
 *
 * Locking: see ivhost.h and Documentation/driver-api/ivhost.rst.  A vq
 * translates, and keeps translations, only under its vq mutex; the
 * barrier takes every vq mutex in turn, never two at once.  Nothing here
 * holds the IOTLB's spinlock: devtlb.c and devtlb_msg.c take it and call
 * back only after dropping it.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/export.h>
#include <linux/moduleparam.h>
#include <linux/nospec.h>
#include <linux/overflow.h>
#include <linux/uaccess.h>
#include <linux/vhost.h>

#include "ivhost.h"
#include "vring_access.h"

static unsigned int iotlb_entries = 2048;
module_param(iotlb_entries, uint, 0444);
MODULE_PARM_DESC(iotlb_entries,
		 "Most device IOTLB entries a device caches (default 2048, at least 1536)");

/*
 * Every queue of a device may have a frame in progress, of up to
 * IVHOST_FRAME_MAX_ENTRIES entries, and rings of up to 213 (a
 * 32768-entry ring's three parts, in 4 KiB pages), and ask ahead some
 * more; the cache holds all of it for two queues, so answering one
 * frame's misses never evicts what a frame in progress still needs.
 * ivhost-net has two queues per device.
 */
#define IVHOST_IOTLB_MIN_ENTRIES	1536U
static_assert(IVHOST_IOTLB_MIN_ENTRIES >=
	      2 * (IVHOST_FRAME_MAX_ENTRIES + 213 + 16));

/*
 * On a miss, chains after the missing one whose first buffer is asked
 * for.
 */
#define IVHOST_ASK_AHEAD	16

/* The rings' sizes in bytes, with the EVENT_IDX fields if negotiated. */
static u64 ivhost_vq_event_size(struct ivhost_vq *vq)
{
	return ivhost_has_feature(vq, VIRTIO_RING_F_EVENT_IDX) ?
	       sizeof(__virtio16) : 0;
}

static u64 ivhost_vq_desc_size(struct ivhost_vq *vq)
{
	/* Split and packed descriptors are both 16 bytes. */
	return (u64)vq->num * sizeof(struct vring_desc);
}

/* Packed: the driver and device areas are 4 bytes each. */
static u64 ivhost_vq_avail_size(struct ivhost_vq *vq)
{
	if (ivhost_vq_packed(vq))
		return sizeof(struct vring_packed_desc_event);
	return struct_size(vq->avail, ring, vq->num) +
	       ivhost_vq_event_size(vq);
}

static u64 ivhost_vq_used_size(struct ivhost_vq *vq)
{
	if (ivhost_vq_packed(vq))
		return sizeof(struct vring_packed_desc_event);
	return struct_size(vq->used, ring, vq->num) +
	       ivhost_vq_event_size(vq);
}

/* Packed: used descriptors are written in the descriptor ring. */
static u8 ivhost_vq_desc_perm(struct ivhost_vq *vq)
{
	return ivhost_vq_packed(vq) ? IVHOST_PERM_RW : IVHOST_PERM_RO;
}

/*
 * Run the vqs in @vqs (a bit per index), which the IOTLB woke: from
 * read(), write() and its deferred work, with no lock needed (the worker
 * is found under RCU).
 */
static void ivhost_dev_tlb_wake(struct ivhost_devtlb *tlb, unsigned long vqs)
{
	struct ivhost_dev *dev = container_of(tlb, struct ivhost_dev, tlb);
	unsigned int i;

	for_each_set_bit(i, &vqs, dev->nvqs)
		ivhost_work_queue(dev, &dev->vqs[i]->kick_poll.work);
}

/* Whether [addr, addr + size - 1] meets [start, last]; size >= 1. */
static bool ivhost_range_meets(u64 addr, u64 size, u64 start, u64 last)
{
	u64 end;

	if (check_add_overflow(addr, size - 1, &end))
		end = U64_MAX;
	return addr <= last && end >= start;
}

/**
 * ivhost_vq_forget() - drop the vq's own translations in a range
 * @vq: the vq
 * @start: first IOVA whose translation changed
 * @last: last IOVA whose translation changed
 *
 * With the device IOTLB, if a ring lies in [@start, @last], the next
 * round translates the rings again before touching them, and if the
 * vq's last translation meets the range it is dropped.  Without the
 * device IOTLB the rings are userspace addresses and stay valid.
 *
 * Context: under &vq->mutex.
 */
static void ivhost_vq_forget(struct ivhost_vq *vq, u64 start, u64 last)
	__must_hold(&vq->mutex)
{
	lockdep_assert_held(&vq->mutex);
	ivhost_devtlb_span_drop(&vq->tlbq.span, start, last);
	if (!ivhost_vq_iotlb(vq) || !vq->rings_valid)
		return;
	if (ivhost_range_meets(vq->desc_addr, ivhost_vq_desc_size(vq),
			       start, last) ||
	    ivhost_range_meets(vq->avail_addr, ivhost_vq_avail_size(vq),
			       start, last) ||
	    ivhost_range_meets(vq->used_addr, ivhost_vq_used_size(vq),
			       start, last))
		vq->rings_valid = false;
}

/*
 * Translations of [start, last] changed: wait for every round in progress
 * (rounds hold their vq's mutex and translate only inside it; one that
 * sees us waiting ends after its frame), and make the next one translate
 * its rings again if they lie in the range.
 */
static void ivhost_dev_tlb_sync(struct ivhost_devtlb *tlb, u64 start,
				u64 last)
{
	struct ivhost_dev *dev = container_of(tlb, struct ivhost_dev, tlb);
	struct ivhost_vq *vq;
	unsigned int i;

	for (i = 0; i < dev->nvqs; i++) {
		vq = dev->vqs[i];
		ivhost_vq_lock(vq);
		ivhost_vq_forget(vq, start, last);
		mutex_unlock(&vq->mutex);
	}
}

static const struct ivhost_devtlb_ops ivhost_dev_tlb_ops = {
	.wake = ivhost_dev_tlb_wake,
	.sync = ivhost_dev_tlb_sync,
};

/**
 * ivhost_dev_tlb_init() - initialise a device's IOTLB
 * @dev: the device, with &ivhost_dev.vqs and &ivhost_dev.nvqs set
 *
 * Sizes the cache from the iotlb_entries parameter, never below what
 * the frames and rings of two queues need at once.
 *
 * Context: process context, from ivhost_dev_init().
 */
void ivhost_dev_tlb_init(struct ivhost_dev *dev)
{
	ivhost_devtlb_init(&dev->tlb,
			   max_t(u32, iotlb_entries, IVHOST_IOTLB_MIN_ENTRIES),
			   &ivhost_dev_tlb_ops);
}

/**
 * ivhost_dev_tlb_flush() - empty the IOTLB under running queues
 * @dev: the device, whose vqs already have the new features
 *
 * Drops every translation, waits for every round (the barrier over all
 * IOVAs), and runs every queue so that it asks again for the misses it
 * waited for, which are gone with the cache.
 *
 * Context: process context, under &dev->mutex; takes each vq's mutex in
 * turn.
 */
void ivhost_dev_tlb_flush(struct ivhost_dev *dev)
	__must_hold(&dev->mutex)
{
	lockdep_assert_held(&dev->mutex);
	ivhost_devtlb_reset(&dev->tlb);
	ivhost_dev_tlb_sync(&dev->tlb, 0, U64_MAX);
	ivhost_dev_tlb_wake(&dev->tlb, GENMASK(dev->nvqs - 1, 0));
}

/**
 * ivhost_vq_tlb_forget_misses() - a queue's backend is detached
 * @vq: the vq
 *
 * Whatever the queue asked the VMM for is stale now: it is forgotten,
 * and the queues the room that frees lets ask again are woken.
 *
 * Context: process context, under the device's mutex and &vq->mutex.
 */
void ivhost_vq_tlb_forget_misses(struct ivhost_vq *vq)
	__must_hold(&vq->mutex)
{
	struct ivhost_dev *dev = vq->dev;

	lockdep_assert_held(&dev->mutex);
	lockdep_assert_held(&vq->mutex);
	ivhost_dev_tlb_wake(&dev->tlb,
			    ivhost_devtlb_forget_vq(&dev->tlb, vq->index));
}
EXPORT_SYMBOL_GPL(ivhost_vq_tlb_forget_misses);

/**
 * ivhost_vq_tlb_translate() - translate an IOVA range for a vq
 * @vq: the vq, with the device IOTLB on
 * @addr: first IOVA of the range
 * @len: length in bytes; 0 yields no segment
 * @perm: IVHOST_PERM_RO or IVHOST_PERM_WO
 * @iov: where to store the segments
 * @max: capacity of @iov
 *
 * A range inside the entry the vq used last is served from the vq's copy
 * of it, without the IOTLB's lock: every change that removes or replaces
 * a translation, or evicts one, goes through the vq mutex before it
 * completes and drops the copy if it touches it (the barrier).
 *
 * Context: under &vq->mutex.
 * Return: as ivhost_translate() with the device IOTLB.
 */
int ivhost_vq_tlb_translate(struct ivhost_vq *vq, u64 addr, u64 len, u8 perm,
			    struct iovec *iov, unsigned int max)
	__must_hold(&vq->mutex)
{
	struct ivhost_devtlb_span *s = &vq->tlbq.span;
	int n;

	lockdep_assert_held(&vq->mutex);
	if (len && max && ivhost_devtlb_span_covers(s, addr, len, perm)) {
		iov->iov_base = u64_to_user_ptr(s->uaddr + (addr - s->start));
		iov->iov_len = len;
		WRITE_ONCE(vq->span_hits, vq->span_hits + 1);
		return 1;
	}
	n = ivhost_devtlb_translate(&vq->dev->tlb, vq->index, addr, len, perm,
				    iov, max, &vq->tlbq);
	return n == -EAGAIN ? -EINPROGRESS : n;
}

/*
 * Ask the VMM now for a range the vq will need: with the device IOTLB,
 * queues a MISS for the first missing byte of the range; nothing else is
 * reported, and nothing without the IOTLB.
 */
static void ivhost_ask_ahead(struct ivhost_vq *vq, u64 addr, u64 len, u8 perm)
{
	if (!ivhost_vq_iotlb(vq) || !len ||
	    ivhost_devtlb_span_covers(&vq->tlbq.span, addr, len, perm))
		return;
	ivhost_devtlb_ask(&vq->dev->tlb, vq->index, addr, len, perm);
}

/**
 * ivhost_vq_tlb_ask_ahead() - ask for what the next chains start with
 * @vq: the vq, whose chain at last_avail_idx waits for a MISS
 *
 * Asks now for the buffer of each later chain's head descriptor, or its
 * indirect table.  The VMM reads all the queued MISS messages at once,
 * so one round trip serves many chains instead of one round trip per
 * chain.  One translation per chain keeps the work bounded whatever the
 * chains look like; only misses are asked for: a malformed chain, or a
 * mapping that forbids the access, is left for its turn, which reports
 * it and stops the queue.
 *
 * Context: the worker, under &vq->mutex.
 */
void ivhost_vq_tlb_ask_ahead(struct ivhost_vq *vq)
	__must_hold(&vq->mutex)
{
	u16 avail = vq->avail_idx - vq->last_avail_idx;
	struct vring_desc d;
	__virtio16 raw;
	u16 i, n, head, flags;
	u32 slot;

	lockdep_assert_held(&vq->mutex);
	if (ivhost_vq_packed(vq)) {
		ivhost_packed_ask_ahead(vq);
		return;
	}
	n = min_t(u16, avail, IVHOST_ASK_AHEAD + 1);
	for (i = 1; i < n; i++) {
		slot = array_index_nospec((vq->last_avail_idx + i) &
					  (vq->num - 1), vq->num);
		if (ivhost_ring_get(vq, IVHOST_RING_DRIVER, raw,
				    &vq->avail->ring[slot]))
			return;
		head = ivhost16_to_cpu(vq, raw);
		if (head >= vq->num)
			continue;
		head = array_index_nospec(head, vq->num);
		if (ivhost_ring_read(vq, IVHOST_RING_DESC, &d, vq->desc + head,
				     sizeof(d)))
			return;
		flags = ivhost16_to_cpu(vq, d.flags);
		ivhost_ask_ahead(vq, ivhost64_to_cpu(vq, d.addr),
				 ivhost32_to_cpu(vq, d.len),
				 (flags & VRING_DESC_F_WRITE) &&
				 !(flags & VRING_DESC_F_INDIRECT) ?
				 IVHOST_PERM_WO : IVHOST_PERM_RO);
	}
}

/**
 * ivhost_vq_tlb_ask() - ask the VMM now for a range the vq will need
 * @vq: the vq
 * @addr: first IOVA of the range
 * @len: its length
 * @perm: the access the vq will make
 *
 * A hint, as in ivhost_vq_tlb_ask_ahead(): nothing is reported.
 *
 * Context: the worker, under &vq->mutex.
 */
void ivhost_vq_tlb_ask(struct ivhost_vq *vq, u64 addr, u64 len, u8 perm)
	__must_hold(&vq->mutex)
{
	lockdep_assert_held(&vq->mutex);
	ivhost_ask_ahead(vq, addr, len, perm);
}

/* [addr, addr + size - 1] of a ring, size >= 1; cut at 2^64. */
static struct ivhost_devtlb_range ivhost_ring_range(u64 addr, u64 size)
{
	struct ivhost_devtlb_range r = { .start = addr };

	if (check_add_overflow(addr, size - 1, &r.last))
		r.last = U64_MAX;
	return r;
}

/*
 * Translate one ring area, which may be in several pieces of userspace:
 * each step translates the rest of it into two segments, and a first
 * segment followed by a second is a whole piece.  Every piece has to
 * translate with @perm; the first missing one is asked for (one MISS),
 * the next round asks for the one after it.  *@p is the first piece.
 * Return: 0 for one piece, 1 for several, or a negative errno.
 */
static int ivhost_vq_map_ring(struct ivhost_vq *vq, u64 addr, u64 size,
			      u8 perm, void __user **p)
{
	struct iovec iov[2];
	u64 done = 0;
	int n;

	for (;;) {
		n = ivhost_translate(vq, addr + done, size - done, perm, iov,
				     ARRAY_SIZE(iov));
		if (n < 0 && n != -ENOBUFS)
			return n;
		if (!done)
			*p = iov[0].iov_base;
		if (n >= 0)
			return done || n > 1;
		done += iov[0].iov_len;
	}
}

/* One area: record whether it is split and where it is in IOVA space. */
static int ivhost_vq_map_area(struct ivhost_vq *vq, enum ivhost_ring_area area,
			      u64 addr, u64 size, u8 perm, void __user **p,
			      u8 *split)
{
	int n = ivhost_vq_map_ring(vq, addr, size, perm, p);

	if (n < 0)
		return n;
	vq->ring_iova[area] = addr;
	if (n)
		*split |= BIT(area);
	return 0;
}

/* The first error other than a miss wins over the misses. */
static int ivhost_vq_map_err(int ret, int err)
{
	return !ret || ret == -EINPROGRESS ? (err ? err : ret) : ret;
}

/**
 * ivhost_vq_tlb_map_rings() - translate the three rings
 * @vq: the vq, with the device IOTLB on
 *
 * Sizes each ring for the ring size and EVENT_IDX.  A ring may be in
 * several pieces of userspace (contiguous in IOVA space only); every
 * piece must translate, and every ring's first missing piece is asked
 * for (one MISS each) before giving up.  On success the ring pointers
 * are the translations (of the first piece of a split ring, whose
 * accesses vring_access.h translates one by one) and
 * &ivhost_vq.rings_valid is set; they stay valid until the IOTLB changes
 * under them (ivhost_vq_forget()).
 *
 * Context: the worker, under &vq->mutex.
 * Return: 0; -EINPROGRESS if a translation is missing; another negative
 * errno if a ring is unusable.
 */
int ivhost_vq_tlb_map_rings(struct ivhost_vq *vq)
	__must_hold(&vq->mutex)
{
	void __user *desc = NULL, *avail = NULL, *used = NULL;
	u8 split = 0;
	int ret;

	lockdep_assert_held(&vq->mutex);
	ret = ivhost_vq_map_area(vq, IVHOST_RING_DESC, vq->desc_addr,
				 ivhost_vq_desc_size(vq),
				 ivhost_vq_desc_perm(vq),
				 &desc, &split);
	ret = ivhost_vq_map_err(ret,
				ivhost_vq_map_area(vq, IVHOST_RING_DRIVER,
						   vq->avail_addr,
						   ivhost_vq_avail_size(vq),
						   IVHOST_PERM_RO, &avail,
						   &split));
	ret = ivhost_vq_map_err(ret,
				ivhost_vq_map_area(vq, IVHOST_RING_DEVICE,
						   vq->used_addr,
						   ivhost_vq_used_size(vq),
						   IVHOST_PERM_WO, &used,
						   &split));
	if (ret)
		return ret;
	vq->desc = desc;
	vq->avail = avail;
	vq->used = used;
	vq->ring_split = split;
	vq->rings_valid = true;
	return 0;
}

/**
 * ivhost_vq_tlb_touch() - count the vq's kept translations as used
 * @vq: the vq, with the device IOTLB on
 *
 * The rings and the last translation are used without looking them up:
 * tell the IOTLB, so that its eviction clock counts them as used.
 *
 * Context: the worker, under &vq->mutex.
 */
void ivhost_vq_tlb_touch(struct ivhost_vq *vq)
	__must_hold(&vq->mutex)
{
	struct ivhost_devtlb_range r[4] = {
		ivhost_ring_range(vq->desc_addr, ivhost_vq_desc_size(vq)),
		ivhost_ring_range(vq->avail_addr, ivhost_vq_avail_size(vq)),
		ivhost_ring_range(vq->used_addr, ivhost_vq_used_size(vq)),
		{ vq->tlbq.span.start, vq->tlbq.span.last },
	};

	lockdep_assert_held(&vq->mutex);
	ivhost_devtlb_touch(&vq->dev->tlb, r, vq->tlbq.span.perm ? 4 : 3);
}

/**
 * ivhost_dev_set_backend_features() - acknowledge backend features
 * @dev: the device
 * @features: VHOST_SET_BACKEND_FEATURES's argument
 *
 * Context: process context, under &dev->mutex, caller is the owner.
 * Return: 0, or -EOPNOTSUPP for a bit not in %IVHOST_BACKEND_FEATURES.
 */
int ivhost_dev_set_backend_features(struct ivhost_dev *dev, u64 features)
	__must_hold(&dev->mutex)
{
	lockdep_assert_held(&dev->mutex);
	if (features & ~IVHOST_BACKEND_FEATURES)
		return -EOPNOTSUPP;
	WRITE_ONCE(dev->backend_features, features);
	/* Without the feature BATCH_END is refused: drop the batch. */
	if (!(features & BIT_ULL(VHOST_BACKEND_F_IOTLB_BATCH)))
		ivhost_devtlb_batch_cancel(&dev->tlb);
	return 0;
}
EXPORT_SYMBOL_GPL(ivhost_dev_set_backend_features);

/**
 * ivhost_dev_read_iter() - read() of the device fd: one IOTLB message
 * @dev: the device
 * @to: the reader's buffer
 * @nonblock: the file is O_NONBLOCK
 *
 * Context: process context; may sleep.  Takes no device or vq mutex:
 * the vqs to wake are queued to the worker.
 * Return: as ivhost_devtlb_read().
 */
ssize_t ivhost_dev_read_iter(struct ivhost_dev *dev, struct iov_iter *to,
			     bool nonblock)
{
	bool v2 = READ_ONCE(dev->backend_features) &
		  BIT_ULL(VHOST_BACKEND_F_IOTLB_MSG_V2);
	unsigned long wake = 0;
	ssize_t ret;

	ret = ivhost_devtlb_read(&dev->tlb, to, nonblock, v2, &wake);
	if (wake)
		ivhost_dev_tlb_wake(&dev->tlb, wake);
	return ret;
}
EXPORT_SYMBOL_GPL(ivhost_dev_read_iter);

/**
 * ivhost_dev_write_iter() - write() of the device fd: one IOTLB message
 * @dev: the device
 * @from: the message
 *
 * The message is copied in first, then taken under the device mutex, so
 * it cannot race VHOST_RESET_OWNER, VHOST_SET_FEATURES or
 * VHOST_SET_BACKEND_FEATURES (it applies to the device as the caller's
 * owner set it up, or fails), and a writer whose buffer faults slowly
 * (userfaultfd, FUSE) holds no lock meanwhile.
 *
 * Context: process context; may sleep.  Takes &dev->mutex, and every
 * vq's mutex when the message removes translations.
 * Return: the message size; -EPERM if the caller is not the owner;
 * -EFAULT if VIRTIO_F_ACCESS_PLATFORM is not negotiated (there is no
 * IOTLB); otherwise as ivhost_devtlb_write().
 */
ssize_t ivhost_dev_write_iter(struct ivhost_dev *dev, struct iov_iter *from)
{
	union ivhost_devtlb_wire u;
	size_t count = iov_iter_count(from);
	size_t n = min(count, sizeof(u));
	unsigned long wake = 0;
	ssize_t ret;

	/* Checked again under the mutex; this keeps EPERM ahead of EFAULT. */
	if (READ_ONCE(dev->mm) != current->mm)
		return -EPERM;
	if (copy_from_iter(&u, n, from) != n)
		return -EFAULT;

	mutex_lock(&dev->mutex);
	ret = ivhost_dev_check_owner(dev);
	if (ret)
		goto unlock;
	ret = -EFAULT;
	if (!(dev->features & BIT_ULL(VIRTIO_F_ACCESS_PLATFORM)))
		goto unlock;
	ret = ivhost_devtlb_write_msg(&dev->tlb, &u, count,
				      dev->backend_features, &wake);
	if (wake)
		ivhost_dev_tlb_wake(&dev->tlb, wake);
unlock:
	mutex_unlock(&dev->mutex);
	return ret;
}
EXPORT_SYMBOL_GPL(ivhost_dev_write_iter);

/**
 * ivhost_dev_poll() - poll() of the device fd
 * @dev: the device
 * @file: the device file
 * @wait: the poll table
 *
 * Context: process context.
 * Return: EPOLLIN while an IOTLB message waits; always writable.
 */
__poll_t ivhost_dev_poll(struct ivhost_dev *dev, struct file *file,
			 poll_table *wait)
{
	return ivhost_devtlb_poll(&dev->tlb, file, wait);
}
EXPORT_SYMBOL_GPL(ivhost_dev_poll);

/**
 * ivhost_dev_iotlb_stats() - a device's IOTLB counters
 * @dev: the device
 * @st: where to put them
 *
 * The hits are the IOTLB's and those the vqs served from their own last
 * translation.
 *
 * Context: any process context; takes the IOTLB's lock, not the vqs'.
 */
void ivhost_dev_iotlb_stats(struct ivhost_dev *dev,
			    struct ivhost_iotlb_stats *st)
{
	unsigned int i;

	ivhost_devtlb_get_stats(&dev->tlb, st);
	for (i = 0; i < dev->nvqs; i++)
		st->hits += READ_ONCE(dev->vqs[i]->span_hits);
}

/*
 * IVHOST_GET_IOTLB_STATS: the caller's struct may be older (smaller) or
 * newer (larger) than ours; copy what both know, say how much in ->size
 * and leave the rest of the caller's memory alone (see the uapi header).
 */
static long ivhost_dev_get_iotlb_stats(struct ivhost_dev *dev,
				       void __user *argp)
{
	struct ivhost_iotlb_stats st;
	struct ivhost_ioctl_hdr hdr;

	BUILD_BUG_ON(offsetof(struct ivhost_iotlb_stats, size) !=
		     offsetof(struct ivhost_ioctl_hdr, size) ||
		     offsetof(struct ivhost_iotlb_stats, flags) !=
		     offsetof(struct ivhost_ioctl_hdr, flags));
	BUILD_BUG_ON(sizeof(st) < IVHOST_IOTLB_STATS_SIZE_VER0);

	if (copy_from_user(&hdr, argp, sizeof(hdr)))
		return -EFAULT;
	if (hdr.size < IVHOST_IOTLB_STATS_SIZE_VER0 || hdr.flags)
		return -EINVAL;
	ivhost_dev_iotlb_stats(dev, &st);
	st.size = min_t(u32, hdr.size, sizeof(st));
	st.flags = 0;
	return copy_to_user(argp, &st, st.size) ? -EFAULT : 0;
}

/**
 * ivhost_dev_unlocked_ioctl() - ioctls any holder of the fd may make
 * @dev: the device
 * @cmd: ioctl number
 * @argp: userspace argument
 *
 * Context: process context, without &dev->mutex.
 * Return: 0 or a negative errno; -ENOIOCTLCMD for other ioctls.
 */
long ivhost_dev_unlocked_ioctl(struct ivhost_dev *dev, unsigned int cmd,
			       void __user *argp)
{
	u64 features = IVHOST_BACKEND_FEATURES;

	switch (cmd) {
	case VHOST_GET_BACKEND_FEATURES:
		return copy_to_user(argp, &features, sizeof(features)) ?
		       -EFAULT : 0;
	case IVHOST_GET_IOTLB_STATS:
		return ivhost_dev_get_iotlb_stats(dev, argp);
	}
	return -ENOIOCTLCMD;
}
EXPORT_SYMBOL_GPL(ivhost_dev_unlocked_ioctl);
