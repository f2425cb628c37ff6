// SPDX-License-Identifier: GPL-2.0
/*
 * Split-ring access: reading available chains, publishing used entries,
 * and notification suppression in both directions.  With
 * VIRTIO_F_RING_PACKED the public functions hand over to vring_packed.c.
 *
 * Ring addresses are userspace addresses of the owner (the worker runs in
 * its address space); descriptor addresses are guest addresses, which go
 * through the access gate (access.c).  Indexes read from the guest are
 * bounds-checked and then clamped with array_index_nospec() before they
 * address a ring.
 *
 * With the device IOTLB, the rings are translated before a round, and a
 * chain that waits for a MISS also has the first buffers of the chains
 * after it asked for (vq_iotlb.c).
 *
 * Locking: every function here is called under the vq's mutex.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/export.h>
#include <linux/log2.h>
#include <linux/overflow.h>
#include <linux/nospec.h>
#include <linux/uaccess.h>

#include "chain.h"
#include "ivhost.h"
#include "vring_access.h"

static __virtio16 __user *ivhost_vq_used_event(struct ivhost_vq *vq)
{
	return &vq->avail->ring[vq->num];
}

static __virtio16 __user *ivhost_vq_avail_event(struct ivhost_vq *vq)
{
	return (__virtio16 __user *)&vq->used->ring[vq->num];
}

/* Log a write to the used ring, at @p, of @len bytes. */
static int ivhost_vq_log_used(struct ivhost_vq *vq, const void __user *p,
			      size_t len)
{
	if (!vq->log_base)
		return 0;
	return ivhost_log_ring(vq, IVHOST_RING_DEVICE,
			       (const u8 __user *)p -
			       (const u8 __user *)vq->used, len);
}

static int ivhost_vq_write_used_flags(struct ivhost_vq *vq, u16 flags)
{
	if (ivhost_ring_put(vq, IVHOST_RING_DEVICE, cpu_to_ivhost16(vq, flags),
			    &vq->used->flags))
		return -EFAULT;
	vq->used_flags = flags;
	return ivhost_vq_log_used(vq, &vq->used->flags,
				  sizeof(vq->used->flags));
}

/*
 * Write the used flags and read the used index through the rings.  The
 * used ring's translation was checked for writing only: with the device
 * IOTLB, the index is read only if its mapping allows reading, or the
 * VMM is told (ACCESS_FAIL, or a MISS to wait for).
 */
static int ivhost_vq_read_ring_state(struct ivhost_vq *vq)
{
	u64 idx_addr = vq->used_addr + offsetof(struct vring_used, idx);
	struct iovec iov;
	__virtio16 idx;
	int n;

	/* Packed: the state came with VHOST_SET_VRING_BASE. */
	if (ivhost_vq_packed(vq))
		return ivhost_packed_write_device_flags(vq, vq->used_flags);
	if (ivhost_vq_write_used_flags(vq, vq->used_flags))
		return -EFAULT;
	if (ivhost_vq_iotlb(vq)) {
		n = ivhost_translate(vq, idx_addr, sizeof(idx), IVHOST_PERM_RO,
				     &iov, 1);
		if (n < 0)
			return n == -ENOBUFS ? -EFAULT : n;
	}
	if (ivhost_ring_get(vq, IVHOST_RING_DEVICE, idx, &vq->used->idx))
		return -EFAULT;
	vq->last_used_idx = ivhost16_to_cpu(vq, idx);
	return 0;
}

/**
 * ivhost_vq_start() - pick up the ring state when a backend is attached
 * @vq: the vq, with its ring configured
 *
 * Reads used->idx, so that a device restarted with VHOST_SET_VRING_BASE
 * continues where the ring is, and clears the broken state.  With the
 * device IOTLB the rings are IOVAs that may not translate yet, so the
 * first round does the reading, after translating them.  A packed ring
 * has its positions from VHOST_SET_VRING_BASE; only its device area is
 * written.
 *
 * Context: the owner's thread, under &vq->mutex.
 * Return: 0, -EINVAL if a split ring's size is not a power of two or a
 * packed ring's positions lie beyond its size, or -EFAULT if the used
 * ring cannot be accessed.
 */
int ivhost_vq_start(struct ivhost_vq *vq)
	__must_hold(&vq->mutex)
{
	int err;

	lockdep_assert_held(&vq->mutex);
	if (ivhost_vq_packed(vq)) {
		err = ivhost_packed_start(vq);
		if (err)
			return err;
	} else if (!is_power_of_2(vq->num)) {
		return -EINVAL;
	}
	vq->avail_idx = vq->last_avail_idx;
	vq->signalled_used_valid = false;
	vq->broken = false;
	if (ivhost_vq_iotlb(vq)) {
		vq->need_start = true;
		return 0;
	}
	vq->need_start = false;
	return ivhost_vq_read_ring_state(vq);
}
EXPORT_SYMBOL_GPL(ivhost_vq_start);

/**
 * ivhost_vq_set_rings() - derive the ring pointers from their addresses
 * @vq: the vq
 *
 * Without the device IOTLB the addresses are userspace addresses and are
 * used as they are; with it they are IOVAs, translated by the next round,
 * and whatever the vq kept of earlier translations is dropped.  Called
 * on every change of the ring size, addresses, features or memory table.
 *
 * Context: under &vq->mutex.
 */
void ivhost_vq_set_rings(struct ivhost_vq *vq)
	__must_hold(&vq->mutex)
{
	lockdep_assert_held(&vq->mutex);
	vq->tlbq.span.perm = 0;
	if (ivhost_vq_iotlb(vq)) {
		vq->rings_valid = false;
		return;
	}
	vq->desc = u64_to_user_ptr(vq->desc_addr);
	vq->avail = u64_to_user_ptr(vq->avail_addr);
	vq->used = u64_to_user_ptr(vq->used_addr);
	vq->ring_split = 0;
	vq->rings_valid = vq->addr_set;
}

/**
 * ivhost_vq_prepare() - make the rings usable before a round
 * @vq: the vq, with a backend
 *
 * With the device IOTLB, translates the rings if they are not (first
 * round, or the IOTLB changed since), and picks up the ring state a
 * backend attach left for the first round.  The translations stay valid
 * until the IOTLB changes, which takes the vq mutex first.
 *
 * Context: the worker, under &vq->mutex.
 * Return: 0; -EINPROGRESS if a translation is missing (the round must
 * end; the vq is woken when the VMM answers); another negative errno if
 * the rings are unusable (the caller fails the vq).
 */
int ivhost_vq_prepare(struct ivhost_vq *vq)
	__must_hold(&vq->mutex)
{
	int err;

	lockdep_assert_held(&vq->mutex);
	/* The rings' translations count as a frame of their own. */
	ivhost_vq_frame_begin(vq);
	if (!vq->rings_valid) {
		if (!ivhost_vq_iotlb(vq))
			return -EFAULT;
		err = ivhost_vq_tlb_map_rings(vq);
		if (err)
			return err;
	}
	if (vq->need_start) {
		err = ivhost_vq_read_ring_state(vq);
		if (err)
			return err;
		vq->need_start = false;
	}
	if (ivhost_vq_iotlb(vq))
		ivhost_vq_tlb_touch(vq);
	return 0;
}
EXPORT_SYMBOL_GPL(ivhost_vq_prepare);

/**
 * ivhost_vq_fail() - stop a vq whose driver broke the ring protocol
 * @vq: the vq
 * @err: what went wrong, for the debug log
 *
 * Signals the error eventfd.  The vq processes nothing more until it is
 * configured again or reset.
 *
 * Context: under &vq->mutex.
 */
void ivhost_vq_fail(struct ivhost_vq *vq, int err)
	__must_hold(&vq->mutex)
{
	lockdep_assert_held(&vq->mutex);
	pr_debug("vq %u stopped: error %d\n", vq->index, err);
	vq->broken = true;
	if (vq->err_ctx)
		eventfd_signal(vq->err_ctx, 1);
}
EXPORT_SYMBOL_GPL(ivhost_vq_fail);

static int ivhost_vq_read_avail_idx(struct ivhost_vq *vq)
{
	__virtio16 raw;
	u16 idx;

	if (ivhost_ring_get(vq, IVHOST_RING_DRIVER, raw, &vq->avail->idx))
		return -EFAULT;
	idx = ivhost16_to_cpu(vq, raw);
	/* A driver may be at most one ring ahead of the device. */
	if ((u16)(idx - vq->last_avail_idx) > vq->num)
		return -EINVAL;
	vq->avail_idx = idx;
	return 0;
}

static int ivhost_vq_read_desc(struct ivhost_vq *vq,
			       const struct ivhost_chain *c, u64 table,
			       struct ivhost_desc *d)
{
	struct vring_desc raw;
	int err;

	if (c->indirect) {
		err = ivhost_copy_from_guest(vq, &raw,
					     table + (u64)c->idx * sizeof(raw),
					     sizeof(raw));
		if (err)
			return err;
	} else {
		u32 i = array_index_nospec(c->idx, vq->num);

		if (ivhost_ring_read(vq, IVHOST_RING_DESC, &raw, vq->desc + i,
				     sizeof(raw)))
			return -EFAULT;
	}
	d->addr = ivhost64_to_cpu(vq, raw.addr);
	d->len = ivhost32_to_cpu(vq, raw.len);
	d->flags = ivhost16_to_cpu(vq, raw.flags);
	d->next = ivhost16_to_cpu(vq, raw.next);
	return 0;
}

/**
 * ivhost_buf_append() - add a descriptor's buffer to a chain's segments
 * @vq: the vq
 * @buf: the chain so far
 * @d: the descriptor, valid where it stands in the chain
 *
 * Context: the worker, under &vq->mutex.
 * Return: 0, or a negative errno as from ivhost_translate().
 */
int ivhost_buf_append(struct ivhost_vq *vq, struct ivhost_buf *buf,
		      const struct ivhost_desc *d)
{
	unsigned int used = buf->out + buf->in;
	int n;

	n = ivhost_translate(vq, d->addr, d->len,
			     d->flags & VRING_DESC_F_WRITE ? IVHOST_PERM_WO :
							     IVHOST_PERM_RO,
			     buf->iov + used, buf->max - used);
	if (n < 0)
		return n;
	if (d->flags & VRING_DESC_F_WRITE) {
		buf->in += n;
		buf->in_len += d->len;
	} else {
		buf->out += n;
		buf->out_len += d->len;
	}
	return 0;
}

/* An indirect table must not wrap past 2^64 as a whole. */
static int ivhost_vq_enter_indirect(struct ivhost_chain *c,
				    const struct ivhost_desc *d, u64 *table)
{
	u64 last;

	if (d->len && check_add_overflow(d->addr, (u64)d->len - 1, &last))
		return -EINVAL;
	*table = d->addr;
	return ivhost_chain_enter_indirect(c, d);
}

/**
 * ivhost_vq_count_desc() - count a descriptor about to be walked
 * @vq: the vq
 *
 * Every descriptor read counts against the frame's descriptor budget and
 * the round's count (ivhost_vq_frame_begin()).
 *
 * Context: the worker, under &vq->mutex.
 * Return: 0, or -ENOBUFS if the frame is out of budget.
 */
int ivhost_vq_count_desc(struct ivhost_vq *vq)
{
	if (!vq->frame_descs)
		return -ENOBUFS;
	vq->frame_descs--;
	vq->walked++;
	return 0;
}

/*
 * Walk one chain.  Every descriptor read counts against the frame's
 * descriptor budget and the round's count (ivhost_vq_frame_begin());
 * a frame out of budget gets -ENOBUFS, as one out of segments does.
 */
static int ivhost_vq_walk(struct ivhost_vq *vq, struct ivhost_buf *buf,
			  u16 head)
{
	struct ivhost_chain c;
	struct ivhost_desc d;
	u64 table = 0;
	int ret, err;

	ret = ivhost_chain_start(&c, vq->num, head);
	while (ret >= 0) {
		ret = ivhost_vq_count_desc(vq);
		if (ret)
			return ret;
		ret = ivhost_vq_read_desc(vq, &c, table, &d);
		if (ret)
			return ret;
		ret = ivhost_chain_step(&c, &d);
		switch (ret) {
		case IVHOST_CHAIN_INDIRECT:
			ret = ivhost_vq_enter_indirect(&c, &d, &table);
			continue;
		case IVHOST_CHAIN_DONE:
		case IVHOST_CHAIN_NEXT:
			err = ivhost_buf_append(vq, buf, &d);
			if (err)
				return err;
			if (ret == IVHOST_CHAIN_DONE)
				return 0;
			continue;
		}
	}
	return ret;
}

/**
 * ivhost_vq_get_buf() - take the next available chain
 * @vq: the vq
 * @buf: filled in with the chain
 * @iov: where the chain's userspace segments go: readable ones first
 * @max: capacity of @iov
 *
 * On success the chain is consumed from the avail ring; hand it back with
 * ivhost_vq_unget_bufs() if it cannot be processed now.
 *
 * Context: the worker, under &vq->mutex.
 * Return: 0, -EAGAIN if the ring is empty, -ENOBUFS if the chain needs
 * more than @max segments or the frame more descriptors than it has left
 * (ivhost_vq_frame_begin()), -EINPROGRESS while a translation is missing
 * (the vq is woken when the VMM answers), or another negative errno if
 * the ring is malformed or unreadable (-E2BIG: an indirect table over
 * %IVHOST_INDIRECT_MAX; -ENOSPC: more IOTLB entries than a frame may
 * use); the caller then fails the vq.
 */
int ivhost_vq_get_buf(struct ivhost_vq *vq, struct ivhost_buf *buf,
		      struct iovec *iov, unsigned int max)
	__must_hold(&vq->mutex)
{
	__virtio16 raw;
	u16 head;
	u32 slot;
	int err;

	lockdep_assert_held(&vq->mutex);
	if (ivhost_vq_packed(vq))
		return ivhost_packed_get_buf(vq, buf, iov, max);
	if (vq->avail_idx == vq->last_avail_idx) {
		err = ivhost_vq_read_avail_idx(vq);
		if (err)
			return err;
		if (vq->avail_idx == vq->last_avail_idx)
			return -EAGAIN;
		/* Read the ring entries only after the index. */
		smp_rmb();
	}

	slot = array_index_nospec(vq->last_avail_idx & (vq->num - 1),
				  vq->num);
	if (ivhost_ring_get(vq, IVHOST_RING_DRIVER, raw,
			    &vq->avail->ring[slot]))
		return -EFAULT;
	head = ivhost16_to_cpu(vq, raw);

	memset(buf, 0, sizeof(*buf));
	buf->head = head;
	buf->id = head;
	buf->count = 1;
	buf->iov = iov;
	buf->max = max;
	err = ivhost_vq_walk(vq, buf, head);
	if (err == -EINPROGRESS)
		ivhost_vq_tlb_ask_ahead(vq);
	if (err)
		return err;
	vq->last_avail_idx++;
	return 0;
}
EXPORT_SYMBOL_GPL(ivhost_vq_get_buf);

/**
 * ivhost_vq_unget_bufs() - return the chains taken last to the avail ring
 * @vq: the vq
 * @n: how many, at most those taken and not used
 *
 * Context: the worker, under &vq->mutex.
 */
void ivhost_vq_unget_bufs(struct ivhost_vq *vq, unsigned int n)
	__must_hold(&vq->mutex)
{
	lockdep_assert_held(&vq->mutex);
	if (ivhost_vq_packed(vq))
		ivhost_packed_unget_bufs(vq, n);
	else
		vq->last_avail_idx -= n;
}
EXPORT_SYMBOL_GPL(ivhost_vq_unget_bufs);

/* Write @n entries from used slot @first on; they must not wrap. */
static int ivhost_vq_write_used(struct ivhost_vq *vq, u32 first,
				const struct ivhost_used *heads,
				unsigned int n)
{
	struct vring_used_elem __user *elem = &vq->used->ring[first];
	unsigned int i;

	for (i = 0; i < n; i++) {
		if (ivhost_ring_put(vq, IVHOST_RING_DEVICE,
				    cpu_to_ivhost32(vq, heads[i].id),
				    &elem[i].id) ||
		    ivhost_ring_put(vq, IVHOST_RING_DEVICE,
				    cpu_to_ivhost32(vq, heads[i].len),
				    &elem[i].len))
			return -EFAULT;
	}
	return ivhost_vq_log_used(vq, elem, n * sizeof(*elem));
}

/**
 * ivhost_vq_add_used_n() - publish used chains with one index update
 * @vq: the vq
 * @heads: buffer ID, bytes written and (packed) descriptor count of each
 *	chain, in CPU order, in the order the chains were taken
 * @n: number of entries in @heads, at most the ring size
 *
 * With dirty logging on, the entries are marked in the log before the
 * index that exposes them is written, and the index right after it is
 * written: every mark follows the write it stands for.  A packed ring
 * gets used descriptors in place (ivhost_packed_add_used_n()).
 *
 * Context: the worker, under &vq->mutex.
 * Return: 0, or -EFAULT if the used ring or the log cannot be written;
 * packed, also -EINVAL for a bad descriptor count.
 */
int ivhost_vq_add_used_n(struct ivhost_vq *vq,
			 const struct ivhost_used *heads, unsigned int n)
	__must_hold(&vq->mutex)
{
	u32 first = vq->last_used_idx & (vq->num - 1);
	unsigned int part = min(n, vq->num - first);
	u16 idx = vq->last_used_idx + n;
	int err;

	lockdep_assert_held(&vq->mutex);
	if (ivhost_vq_packed(vq))
		return ivhost_packed_add_used_n(vq, heads, n);
	err = ivhost_vq_write_used(vq, first, heads, part);
	if (!err && part < n)
		err = ivhost_vq_write_used(vq, 0, heads + part, n - part);
	if (err)
		return err;
	/* The entries (and their log bits) before the index that exposes them. */
	smp_wmb();
	if (ivhost_ring_put(vq, IVHOST_RING_DEVICE, cpu_to_ivhost16(vq, idx),
			    &vq->used->idx))
		return -EFAULT;
	vq->last_used_idx = idx;
	/*
	 * The index is marked only once it is written: a VMM that fetched
	 * and cleared a mark made before the write could copy the page
	 * without the new index, and nothing would mark it again.
	 */
	return ivhost_vq_log_used(vq, &vq->used->idx, sizeof(vq->used->idx));
}
EXPORT_SYMBOL_GPL(ivhost_vq_add_used_n);

/**
 * ivhost_vq_add_used() - publish one used chain
 * @vq: the vq
 * @buf: the chain, as ivhost_vq_get_buf() gave it
 * @len: bytes the device wrote into it
 *
 * Context: the worker, under &vq->mutex.
 * Return: as ivhost_vq_add_used_n().
 */
int ivhost_vq_add_used(struct ivhost_vq *vq, const struct ivhost_buf *buf,
		       u32 len)
	__must_hold(&vq->mutex)
{
	struct ivhost_used e = {
		.id = buf->id, .len = len, .count = buf->count,
	};

	lockdep_assert_held(&vq->mutex);
	return ivhost_vq_add_used_n(vq, &e, 1);
}
EXPORT_SYMBOL_GPL(ivhost_vq_add_used);

static bool ivhost_vq_need_signal(struct ivhost_vq *vq)
{
	__virtio16 raw;
	u16 old, event;
	bool valid;

	/* Order the used index write before reading the driver's wishes. */
	smp_mb();

	if (ivhost_has_feature(vq, VIRTIO_F_NOTIFY_ON_EMPTY) &&
	    vq->avail_idx == vq->last_avail_idx &&
	    !ivhost_vq_read_avail_idx(vq) &&
	    vq->avail_idx == vq->last_avail_idx)
		return true;

	if (!ivhost_has_feature(vq, VIRTIO_RING_F_EVENT_IDX)) {
		if (ivhost_ring_get(vq, IVHOST_RING_DRIVER, raw,
				    &vq->avail->flags))
			return true;
		return !(ivhost16_to_cpu(vq, raw) & VRING_AVAIL_F_NO_INTERRUPT);
	}

	old = vq->signalled_used;
	valid = vq->signalled_used_valid;
	vq->signalled_used = vq->last_used_idx;
	vq->signalled_used_valid = true;
	if (unlikely(!valid))
		return true;
	if (ivhost_ring_get(vq, IVHOST_RING_DRIVER, raw,
			    ivhost_vq_used_event(vq)))
		return true;
	event = ivhost16_to_cpu(vq, raw);
	return vring_need_event(event, vq->last_used_idx, old);
}

/**
 * ivhost_vq_signal() - signal the call eventfd if the driver wants it
 * @vq: the vq, after used entries were added
 *
 * Honours VRING_AVAIL_F_NO_INTERRUPT, or the used_event index when
 * VIRTIO_RING_F_EVENT_IDX was negotiated; packed, the driver event
 * suppression area (ivhost_packed_need_signal()).
 *
 * Context: the worker, under &vq->mutex.
 */
void ivhost_vq_signal(struct ivhost_vq *vq)
	__must_hold(&vq->mutex)
{
	bool need;

	lockdep_assert_held(&vq->mutex);
	if (!vq->call_ctx)
		return;
	need = ivhost_vq_packed(vq) ? ivhost_packed_need_signal(vq) :
				      ivhost_vq_need_signal(vq);
	if (need)
		eventfd_signal(vq->call_ctx, 1);
}
EXPORT_SYMBOL_GPL(ivhost_vq_signal);

/**
 * ivhost_vq_disable_notify() - ask the driver not to kick
 * @vq: the vq
 *
 * Only a hint: a kick may still arrive.  With EVENT_IDX the avail event
 * is simply left behind, which has the same effect.
 *
 * Context: the worker, under &vq->mutex.
 */
void ivhost_vq_disable_notify(struct ivhost_vq *vq)
	__must_hold(&vq->mutex)
{
	lockdep_assert_held(&vq->mutex);
	if (ivhost_vq_packed(vq)) {
		ivhost_packed_disable_notify(vq);
		return;
	}
	if (ivhost_has_feature(vq, VIRTIO_RING_F_EVENT_IDX))
		return;
	if (!(vq->used_flags & VRING_USED_F_NO_NOTIFY))
		ivhost_vq_write_used_flags(vq,
					   vq->used_flags | VRING_USED_F_NO_NOTIFY);
}
EXPORT_SYMBOL_GPL(ivhost_vq_disable_notify);

/**
 * ivhost_vq_avail_empty() - has the driver added nothing new?
 * @vq: the vq
 *
 * Context: the worker, under &vq->mutex.
 * Return: true if no buffer beyond those the device has seen is
 * available; false if there is one, or if the avail index is bad (the
 * next ivhost_vq_get_buf() reports that).
 */
bool ivhost_vq_avail_empty(struct ivhost_vq *vq)
	__must_hold(&vq->mutex)
{
	u16 seen = vq->avail_idx;

	lockdep_assert_held(&vq->mutex);
	if (ivhost_vq_packed(vq))
		return ivhost_packed_avail_empty(vq);
	if (ivhost_vq_read_avail_idx(vq))
		return false;
	if (vq->avail_idx == seen)
		return true;
	/* Read the ring entries only after the index. */
	smp_rmb();
	return false;
}
EXPORT_SYMBOL_GPL(ivhost_vq_avail_empty);

/**
 * ivhost_vq_enable_notify() - ask the driver to kick on new buffers
 * @vq: the vq
 *
 * Asks for a kick once the driver makes available a buffer beyond those
 * the device has seen (&ivhost_vq.avail_idx), and checks whether it
 * already has.  A caller that gave back chains it could not use (too few
 * for a frame) therefore waits for more, not for the same ones again.
 *
 * Context: the worker, under &vq->mutex.
 * Return: true if buffers became available meanwhile (the caller should
 * process them rather than wait for a kick that may never come).
 */
bool ivhost_vq_enable_notify(struct ivhost_vq *vq)
	__must_hold(&vq->mutex)
{
	u16 seen = vq->avail_idx;
	__virtio16 __user *event;
	int err;

	lockdep_assert_held(&vq->mutex);
	if (ivhost_vq_packed(vq))
		return ivhost_packed_enable_notify(vq);
	if (ivhost_has_feature(vq, VIRTIO_RING_F_EVENT_IDX)) {
		event = ivhost_vq_avail_event(vq);
		err = ivhost_ring_put(vq, IVHOST_RING_DEVICE,
				      cpu_to_ivhost16(vq, seen), event);
		if (!err)
			err = ivhost_vq_log_used(vq, event, sizeof(*event));
	} else {
		err = ivhost_vq_write_used_flags(vq, vq->used_flags &
						 ~VRING_USED_F_NO_NOTIFY);
	}
	if (err)
		return false;
	/* Publish the request before checking for buffers. */
	smp_mb();
	if (ivhost_vq_read_avail_idx(vq))
		return true;
	return vq->avail_idx != seen;
}
EXPORT_SYMBOL_GPL(ivhost_vq_enable_notify);
