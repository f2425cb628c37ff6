// SPDX-License-Identifier: GPL-2.0
/*
 * Split-ring access: reading available chains, publishing used entries,
 * and notification suppression in both directions.
 *
 * Ring addresses are userspace addresses of the owner (the worker runs in
 * its address space); descriptor addresses are guest addresses, which go
 * through the access gate (access.c).  Indexes read from the guest are
 * bounds-checked and then clamped with array_index_nospec() before they
 * address a ring.
 *
 * Locking: every function here is called under the vq's mutex.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/export.h>
#include <linux/nospec.h>
#include <linux/uaccess.h>

#include "chain.h"
#include "ivhost.h"

static __virtio16 __user *ivhost_vq_used_event(struct ivhost_vq *vq)
{
	return &vq->avail->ring[vq->num];
}

static __virtio16 __user *ivhost_vq_avail_event(struct ivhost_vq *vq)
{
	return (__virtio16 __user *)&vq->used->ring[vq->num];
}

static int ivhost_vq_write_used_flags(struct ivhost_vq *vq, u16 flags)
{
	if (put_user(cpu_to_ivhost16(vq, flags), &vq->used->flags))
		return -EFAULT;
	vq->used_flags = flags;
	return 0;
}

/**
 * ivhost_vq_start() - pick up the ring state when a backend is attached
 * @vq: the vq, with its ring configured
 *
 * Reads used->idx, so that a device restarted with VHOST_SET_VRING_BASE
 * continues where the ring is, and clears the broken state.
 *
 * Context: the owner's thread, under &vq->mutex.
 * Return: 0, or -EFAULT if the used ring cannot be accessed.
 */
int ivhost_vq_start(struct ivhost_vq *vq)
	__must_hold(&vq->mutex)
{
	__virtio16 idx;

	lockdep_assert_held(&vq->mutex);
	if (ivhost_vq_write_used_flags(vq, vq->used_flags))
		return -EFAULT;
	if (get_user(idx, &vq->used->idx))
		return -EFAULT;
	vq->last_used_idx = ivhost16_to_cpu(vq, idx);
	vq->avail_idx = vq->last_avail_idx;
	vq->signalled_used_valid = false;
	vq->broken = false;
	return 0;
}
EXPORT_SYMBOL_GPL(ivhost_vq_start);

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

	if (get_user(raw, &vq->avail->idx))
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

		if (copy_from_user(&raw, vq->desc + i, sizeof(raw)))
			return -EFAULT;
	}
	d->addr = ivhost64_to_cpu(vq, raw.addr);
	d->len = ivhost32_to_cpu(vq, raw.len);
	d->flags = ivhost16_to_cpu(vq, raw.flags);
	d->next = ivhost16_to_cpu(vq, raw.next);
	return 0;
}

static int ivhost_buf_append(struct ivhost_vq *vq, struct ivhost_buf *buf,
			     const struct ivhost_desc *d)
{
	unsigned int used = buf->out + buf->in;
	int n;

	n = ivhost_translate(vq, d->addr, d->len, vq->iov + used,
			     IVHOST_IOV_MAX - used);
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

static int ivhost_vq_walk(struct ivhost_vq *vq, struct ivhost_buf *buf,
			  u16 head)
{
	struct ivhost_chain c;
	struct ivhost_desc d;
	u64 table = 0;
	int ret;

	ret = ivhost_chain_start(&c, vq->num, head);
	while (ret >= 0) {
		ret = ivhost_vq_read_desc(vq, &c, table, &d);
		if (ret)
			return ret;
		ret = ivhost_chain_step(&c, &d);
		switch (ret) {
		case IVHOST_CHAIN_INDIRECT:
			ret = ivhost_chain_enter_indirect(&c, &d);
			table = d.addr;
			continue;
		case IVHOST_CHAIN_DONE:
		case IVHOST_CHAIN_NEXT:
			if (ivhost_buf_append(vq, buf, &d))
				return -EFAULT;
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
 * @buf: filled in with the chain; its segments are in &vq->iov
 *
 * On success the chain is consumed from the avail ring; hand it back with
 * ivhost_vq_unget_buf() if it cannot be processed now.
 *
 * Context: the worker, under &vq->mutex.
 * Return: 0, -EAGAIN if the ring is empty, or another negative errno if
 * the ring is malformed or unreadable; the caller then fails the vq.
 */
int ivhost_vq_get_buf(struct ivhost_vq *vq, struct ivhost_buf *buf)
	__must_hold(&vq->mutex)
{
	__virtio16 raw;
	u16 head;
	u32 slot;
	int err;

	lockdep_assert_held(&vq->mutex);
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
	if (get_user(raw, &vq->avail->ring[slot]))
		return -EFAULT;
	head = ivhost16_to_cpu(vq, raw);

	memset(buf, 0, sizeof(*buf));
	buf->head = head;
	err = ivhost_vq_walk(vq, buf, head);
	if (err)
		return err;
	vq->last_avail_idx++;
	return 0;
}
EXPORT_SYMBOL_GPL(ivhost_vq_get_buf);

/**
 * ivhost_vq_unget_buf() - return the chain taken last to the avail ring
 * @vq: the vq
 *
 * Context: the worker, under &vq->mutex.
 */
void ivhost_vq_unget_buf(struct ivhost_vq *vq)
	__must_hold(&vq->mutex)
{
	lockdep_assert_held(&vq->mutex);
	vq->last_avail_idx--;
}
EXPORT_SYMBOL_GPL(ivhost_vq_unget_buf);

/**
 * ivhost_vq_add_used() - publish one used chain
 * @vq: the vq
 * @head: head index of the chain
 * @len: bytes the device wrote into it
 *
 * Context: the worker, under &vq->mutex.
 * Return: 0, or -EFAULT if the used ring cannot be written.
 */
int ivhost_vq_add_used(struct ivhost_vq *vq, u16 head, u32 len)
	__must_hold(&vq->mutex)
{
	struct vring_used_elem __user *elem;
	u32 slot = vq->last_used_idx & (vq->num - 1);

	lockdep_assert_held(&vq->mutex);
	elem = &vq->used->ring[slot];
	if (put_user(cpu_to_ivhost32(vq, head), &elem->id) ||
	    put_user(cpu_to_ivhost32(vq, len), &elem->len))
		return -EFAULT;
	/* The entry must be visible before the index that exposes it. */
	smp_wmb();
	if (put_user(cpu_to_ivhost16(vq, vq->last_used_idx + 1),
		     &vq->used->idx))
		return -EFAULT;
	vq->last_used_idx++;
	return 0;
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
		if (get_user(raw, &vq->avail->flags))
			return true;
		return !(ivhost16_to_cpu(vq, raw) & VRING_AVAIL_F_NO_INTERRUPT);
	}

	old = vq->signalled_used;
	valid = vq->signalled_used_valid;
	vq->signalled_used = vq->last_used_idx;
	vq->signalled_used_valid = true;
	if (unlikely(!valid))
		return true;
	if (get_user(raw, ivhost_vq_used_event(vq)))
		return true;
	event = ivhost16_to_cpu(vq, raw);
	return vring_need_event(event, vq->last_used_idx, old);
}

/**
 * ivhost_vq_signal() - signal the call eventfd if the driver wants it
 * @vq: the vq, after used entries were added
 *
 * Honours VRING_AVAIL_F_NO_INTERRUPT, or the used_event index when
 * VIRTIO_RING_F_EVENT_IDX was negotiated.
 *
 * Context: the worker, under &vq->mutex.
 */
void ivhost_vq_signal(struct ivhost_vq *vq)
	__must_hold(&vq->mutex)
{
	lockdep_assert_held(&vq->mutex);
	if (vq->call_ctx && ivhost_vq_need_signal(vq))
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
	if (ivhost_has_feature(vq, VIRTIO_RING_F_EVENT_IDX))
		return;
	if (!(vq->used_flags & VRING_USED_F_NO_NOTIFY))
		ivhost_vq_write_used_flags(vq,
					   vq->used_flags | VRING_USED_F_NO_NOTIFY);
}
EXPORT_SYMBOL_GPL(ivhost_vq_disable_notify);

/**
 * ivhost_vq_enable_notify() - ask the driver to kick on new buffers
 * @vq: the vq
 *
 * Context: the worker, under &vq->mutex.
 * Return: true if buffers became available meanwhile (the caller should
 * process them rather than wait for a kick that may never come).
 */
bool ivhost_vq_enable_notify(struct ivhost_vq *vq)
	__must_hold(&vq->mutex)
{
	int err;

	lockdep_assert_held(&vq->mutex);
	if (ivhost_has_feature(vq, VIRTIO_RING_F_EVENT_IDX))
		err = put_user(cpu_to_ivhost16(vq, vq->last_avail_idx),
			       ivhost_vq_avail_event(vq));
	else
		err = ivhost_vq_write_used_flags(vq, vq->used_flags &
						 ~VRING_USED_F_NO_NOTIFY);
	if (err)
		return false;
	/* Publish the request before checking for buffers. */
	smp_mb();
	if (ivhost_vq_read_avail_idx(vq))
		return true;
	return vq->avail_idx != vq->last_avail_idx;
}
EXPORT_SYMBOL_GPL(ivhost_vq_enable_notify);
