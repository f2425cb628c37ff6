// SPDX-License-Identifier: GPL-2.0
/*
 * IOTLB messages, whatever carries them: the VMM's UPDATE, INVALIDATE
 * and batch markers are validated and applied here, and the MISS and
 * ACCESS_FAIL messages the device queued are handed to the transport
 * one at a time.  The kernel device's transport is the device fd
 * (devtlb_chr.c); ivhost-user's is the vhost-user socket
 * (tools/vhost-user/iotlb.c), which compiles this file unchanged.
 *
 * A message is checked whole before anything is applied, and every
 * entry a change may need is allocated first, so a message is applied
 * whole or not at all.  A change that removes or replaces translations
 * ends with the device's barrier: once ivhost_devtlb_handle() returns,
 * no vq round still uses the old translation.  Updates wake the vqs
 * whose misses they answer.
 *
 * Between BATCH_BEGIN and BATCH_END (with VHOST_BACKEND_F_IOTLB_BATCH),
 * changes are validated and kept aside, then applied together at
 * BATCH_END under one lock hold, with one barrier and one wake-up.
 *
 * Locking: &ivhost_devtlb.lock is held only to touch the IOTLB; the
 * barrier callback runs without it, and the vqs to wake are handed to the
 * caller.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/slab.h>
#include <linux/uaccess.h>

#include "devtlb.h"
#include "kunit_export.h"
#include "trace.h"

/**
 * struct ivhost_devtlb_op - a validated change
 * @node: link in &ivhost_devtlb.batch
 * @type: VHOST_IOTLB_UPDATE or VHOST_IOTLB_INVALIDATE
 * @start: first IOVA
 * @last: last IOVA
 * @uaddr: userspace address of @start (UPDATE)
 * @perm: permissions (UPDATE)
 * @spare: the entries the change may need
 */
struct ivhost_devtlb_op {
	struct list_head node;
	u8 type;
	u64 start;
	u64 last;
	u64 uaddr;
	u8 perm;
	struct ivhost_iotlb_spare spare;
};

/*
 * What applying changes left to do once the lock is dropped: wake the
 * vqs in @wake, and a barrier if @barrier, for the IOVAs [@start, @last].
 */
struct ivhost_devtlb_effect {
	unsigned long wake;
	bool barrier;
	u64 start;
	u64 last;
};

/* Widen the barrier to cover [start, last]. */
static void ivhost_devtlb_need_barrier(struct ivhost_devtlb_effect *fx,
				       u64 start, u64 last)
{
	if (!fx->barrier || start < fx->start)
		fx->start = start;
	if (!fx->barrier || last > fx->last)
		fx->last = last;
	fx->barrier = true;
}

/* May an UPDATE map [uaddr, uaddr + size - 1]?  The transport decides. */
static bool ivhost_devtlb_uaddr_ok(struct ivhost_devtlb *tlb, u64 uaddr,
				   u64 size)
{
	if (tlb->ops->check_uaddr)
		return tlb->ops->check_uaddr(tlb, uaddr, size);
	return access_ok(u64_to_user_ptr(uaddr), size);
}

static int ivhost_devtlb_check_update(struct ivhost_devtlb *tlb,
				      const struct vhost_iotlb_msg *msg,
				      struct ivhost_devtlb_op *op)
{
	u64 ulast;

	if (!msg->perm || msg->perm & ~IVHOST_PERM_RW)
		return -EINVAL;
	if (ivhost_iotlb_range(msg->iova, msg->size, &op->last))
		return -EINVAL;
	if (check_add_overflow(msg->uaddr, msg->size - 1, &ulast))
		return -EINVAL;
	if (!ivhost_devtlb_uaddr_ok(tlb, msg->uaddr, msg->size))
		return -EFAULT;
	op->start = msg->iova;
	op->uaddr = msg->uaddr;
	op->perm = msg->perm;
	return 0;
}

static int ivhost_devtlb_check_invalidate(const struct vhost_iotlb_msg *msg,
					  struct ivhost_devtlb_op *op)
{
	/* iova 0, size 0: everything, as QEMU's SMMU emulation asks. */
	if (!msg->iova && !msg->size) {
		op->start = 0;
		op->last = U64_MAX;
		return 0;
	}
	op->start = msg->iova;
	return ivhost_iotlb_range(msg->iova, msg->size, &op->last);
}

/* Validate a change: 0 or -errno. */
static int ivhost_devtlb_check(struct ivhost_devtlb *tlb,
			       const struct vhost_iotlb_msg *msg,
			       struct ivhost_devtlb_op *op)
{
	op->type = msg->type;
	if (msg->type == VHOST_IOTLB_UPDATE)
		return ivhost_devtlb_check_update(tlb, msg, op);
	return ivhost_devtlb_check_invalidate(msg, op);
}

static void ivhost_devtlb_op_free(struct ivhost_devtlb_op *op)
{
	ivhost_iotlb_spare_free(&op->spare);
	kfree(op);
}

/*
 * Apply one change.  The barrier covers every translation the change
 * removed, whatever removed it: the range of an INVALIDATE, what an
 * UPDATE replaced, and whatever the eviction clock took to make room on
 * either path (a split by INVALIDATE can evict too).  A vq may hold any
 * of them, and a later UPDATE into the gap would not tell it.
 */
static void ivhost_devtlb_apply(struct ivhost_devtlb *tlb,
				struct ivhost_devtlb_op *op,
				struct ivhost_devtlb_effect *fx)
	__must_hold(&tlb->lock)
{
	u64 start, last;

	lockdep_assert_held(&tlb->lock);
	if (op->type == VHOST_IOTLB_INVALIDATE) {
		trace_ivhost_iotlb_invalidate(tlb->cache.id, op->start,
					      op->last, 0, 0);
		ivhost_iotlb_invalidate(&tlb->cache, &op->spare, op->start,
					op->last);
		tlb->stats.invalidations++;
		/* Even with nothing cached: the vqs' own copies may be. */
		ivhost_devtlb_need_barrier(fx, op->start, op->last);
	} else {
		trace_ivhost_iotlb_update(tlb->cache.id, op->start, op->last,
					  op->uaddr, op->perm);
		if (ivhost_iotlb_update(&tlb->cache, &op->spare, op->start,
					op->last, op->uaddr, op->perm))
			ivhost_devtlb_need_barrier(fx, op->start, op->last);
		tlb->stats.updates++;
		fx->wake |= ivhost_devtlb_answered(tlb, op->start, op->last,
						   op->perm);
	}
	if (ivhost_iotlb_take_evicted(&tlb->cache, &start, &last))
		ivhost_devtlb_need_barrier(fx, start, last);
}

/* The barrier, once the lock is dropped; the vqs to wake go to @wake. */
static void ivhost_devtlb_finish(struct ivhost_devtlb *tlb,
				 const struct ivhost_devtlb_effect *fx,
				 unsigned long *wake)
{
	if (fx->barrier)
		tlb->ops->sync(tlb, fx->start, fx->last);
	*wake |= fx->wake;
}

/**
 * ivhost_devtlb_batch_drop() - abandon the changes of an unfinished batch
 * @tlb: the IOTLB
 *
 * Context: under &tlb->lock.
 */
void ivhost_devtlb_batch_drop(struct ivhost_devtlb *tlb)
	__must_hold(&tlb->lock)
{
	struct ivhost_devtlb_op *op, *tmp;

	lockdep_assert_held(&tlb->lock);
	list_for_each_entry_safe(op, tmp, &tlb->batch, node) {
		list_del(&op->node);
		ivhost_devtlb_op_free(op);
	}
	tlb->nbatch = 0;
	tlb->batching = false;
}

/**
 * ivhost_devtlb_batch_cancel() - abandon a batch in progress, if any
 * @tlb: the IOTLB
 *
 * For a device whose VMM no longer acknowledges
 * VHOST_BACKEND_F_IOTLB_BATCH: it could not end the batch, and every
 * later change would be kept aside for good.
 *
 * Context: any; takes &tlb->lock.
 */
void ivhost_devtlb_batch_cancel(struct ivhost_devtlb *tlb)
{
	spin_lock(&tlb->lock);
	ivhost_devtlb_batch_drop(tlb);
	spin_unlock(&tlb->lock);
}
EXPORT_SYMBOL_IF_IVHOST_KUNIT(ivhost_devtlb_batch_cancel);

static int ivhost_devtlb_batch_end(struct ivhost_devtlb *tlb,
				   unsigned long *wake)
{
	struct ivhost_devtlb_effect fx = {};
	struct ivhost_devtlb_op *op, *tmp;
	LIST_HEAD(done);

	spin_lock(&tlb->lock);
	list_for_each_entry(op, &tlb->batch, node)
		ivhost_devtlb_apply(tlb, op, &fx);
	list_splice_init(&tlb->batch, &done);
	tlb->nbatch = 0;
	tlb->batching = false;
	spin_unlock(&tlb->lock);

	list_for_each_entry_safe(op, tmp, &done, node)
		ivhost_devtlb_op_free(op);
	ivhost_devtlb_finish(tlb, &fx, wake);
	return 0;
}

/* Keep a validated change, with its entries, for BATCH_END. */
static int ivhost_devtlb_defer(struct ivhost_devtlb *tlb,
			       const struct ivhost_devtlb_op *tmpl)
{
	struct ivhost_devtlb_op *op;
	int err;

	op = kmemdup(tmpl, sizeof(*op), GFP_KERNEL_ACCOUNT);
	if (!op)
		return -ENOMEM;
	err = ivhost_iotlb_spare_alloc(&op->spare, GFP_KERNEL_ACCOUNT);
	if (err)
		goto free_op;
	spin_lock(&tlb->lock);
	if (tlb->nbatch >= IVHOST_DEVTLB_MAX_BATCH) {
		spin_unlock(&tlb->lock);
		err = -ENOSPC;
		goto free_spares;
	}
	list_add_tail(&op->node, &tlb->batch);
	tlb->nbatch++;
	spin_unlock(&tlb->lock);
	return 0;

free_spares:
	ivhost_iotlb_spare_free(&op->spare);
free_op:
	kfree(op);
	return err;
}

/*
 * Take the spare entries a change may need, under the lock: both that
 * any change may take when the pool has them (what is unused goes back
 * after the change), else exactly what this one needs, dropping the lock
 * to allocate the rest, so that a change that needs none never fails
 * for want of memory.  The caller serialises writes (the device mutex),
 * so the batch state cannot change meanwhile.
 */
static int ivhost_devtlb_reserve(struct ivhost_devtlb *tlb,
				 struct ivhost_devtlb_op *op)
	__must_hold(&tlb->lock)
{
	bool update = op->type == VHOST_IOTLB_UPDATE;
	unsigned int need;
	int err;

	lockdep_assert_held(&tlb->lock);
	if (ivhost_iotlb_spare_reserve(&tlb->cache, &op->spare,
				       ARRAY_SIZE(op->spare.e)))
		return 0;
	for (;;) {
		need = ivhost_iotlb_spares_needed(&tlb->cache, update,
						  op->start, op->last);
		if (ivhost_iotlb_spare_reserve(&tlb->cache, &op->spare, need))
			return 0;
		spin_unlock(&tlb->lock);
		err = ivhost_iotlb_spare_alloc(&op->spare, GFP_KERNEL_ACCOUNT);
		spin_lock(&tlb->lock);
		if (err)
			return err;
	}
}

/*
 * Apply a change now, or keep it for BATCH_END.  Its spare entries come
 * from the cache's pool when it has them; only otherwise is the lock
 * dropped to allocate.
 */
static int ivhost_devtlb_change(struct ivhost_devtlb *tlb,
				const struct vhost_iotlb_msg *msg,
				unsigned long *wake)
{
	struct ivhost_devtlb_effect fx = {};
	struct ivhost_devtlb_op op = {};
	int err;

	err = ivhost_devtlb_check(tlb, msg, &op);
	if (err)
		return err;
	spin_lock(&tlb->lock);
	if (tlb->batching) {
		spin_unlock(&tlb->lock);
		return ivhost_devtlb_defer(tlb, &op);
	}
	err = ivhost_devtlb_reserve(tlb, &op);
	if (!err)
		ivhost_devtlb_apply(tlb, &op, &fx);
	ivhost_iotlb_spare_release(&tlb->cache, &op.spare);
	spin_unlock(&tlb->lock);
	if (err)
		return err;
	ivhost_devtlb_finish(tlb, &fx, wake);
	return 0;
}

/**
 * ivhost_devtlb_handle() - apply one message from the VMM
 * @tlb: the IOTLB
 * @msg: the message, as the transport received it
 * @batch: BATCH_BEGIN and BATCH_END are allowed (the transport's
 *	VHOST_BACKEND_F_IOTLB_BATCH)
 * @wake: gets the vqs whose misses the message answered, a bit per index,
 *	OR-ed in; the caller wakes them
 *
 * An UPDATE's uaddr range is checked by &ivhost_devtlb_ops.check_uaddr,
 * or by access_ok() if the device has none.  A message that removes
 * translations returns only after the device's barrier
 * (&ivhost_devtlb_ops.sync): the transport may acknowledge it then.
 *
 * Context: process context; may sleep.  The caller serialises the
 * messages of one device (the kernel device holds its mutex).
 * Return: 0 once the change holds; -EINVAL for an unknown type, a batch
 * marker without @batch, or a malformed change (UPDATE with perm or size
 * 0, or a range that wraps past 2^64); -EFAULT if the transport refuses
 * an UPDATE's uaddr range; -ENOSPC if a batch is full; -ENOMEM.
 */
int ivhost_devtlb_handle(struct ivhost_devtlb *tlb,
			 const struct vhost_iotlb_msg *msg, bool batch,
			 unsigned long *wake)
{
	switch (msg->type) {
	case VHOST_IOTLB_UPDATE:
	case VHOST_IOTLB_INVALIDATE:
		return ivhost_devtlb_change(tlb, msg, wake);
	case VHOST_IOTLB_BATCH_BEGIN:
		if (!batch)
			return -EINVAL;
		spin_lock(&tlb->lock);
		tlb->batching = true;
		spin_unlock(&tlb->lock);
		return 0;
	case VHOST_IOTLB_BATCH_END:
		if (!batch)
			return -EINVAL;
		return ivhost_devtlb_batch_end(tlb, wake);
	}
	/* MISS and ACCESS_FAIL go the other way; the rest are unknown. */
	return -EINVAL;
}
EXPORT_SYMBOL_IF_IVHOST_KUNIT(ivhost_devtlb_handle);

/**
 * ivhost_devtlb_pending() - is a message waiting for the VMM?
 * @tlb: the IOTLB
 *
 * Context: any; lockless (a hint for poll and wait conditions).
 * Return: true if at least one MISS or ACCESS_FAIL is queued.
 */
bool ivhost_devtlb_pending(struct ivhost_devtlb *tlb)
{
	return READ_ONCE(tlb->nmsgs);
}
EXPORT_SYMBOL_IF_IVHOST_KUNIT(ivhost_devtlb_pending);

/**
 * ivhost_devtlb_peek() - copy the oldest queued message, leaving it queued
 * @tlb: the IOTLB
 * @msg: gets the message; every byte but type, iova and perm is zero
 *
 * For a transport that may find its channel full: it sends the copy,
 * and takes the message off the queue (ivhost_devtlb_take()) only once
 * it is sent.
 *
 * Context: any; takes &tlb->lock.
 * Return: true if a message was copied.
 */
bool ivhost_devtlb_peek(struct ivhost_devtlb *tlb, struct vhost_iotlb_msg *msg)
{
	struct ivhost_devtlb_msg *m;

	spin_lock(&tlb->lock);
	m = list_first_entry_or_null(&tlb->msgs, struct ivhost_devtlb_msg,
				     node);
	if (m)
		memcpy(msg, &m->msg, sizeof(*msg));
	spin_unlock(&tlb->lock);
	return m;
}
EXPORT_SYMBOL_IF_IVHOST_KUNIT(ivhost_devtlb_peek);

/**
 * ivhost_devtlb_take() - take the oldest queued message off the queue
 * @tlb: the IOTLB
 * @msg: gets the message; every byte but type, iova and perm is zero
 * @wake: gets the vqs whose misses found the queue full and may now ask
 *	again, a bit per index, OR-ed in; the caller wakes them
 *
 * Never waits.  A transport that then fails to deliver the message calls
 * ivhost_devtlb_unsent().
 *
 * Context: any; takes &tlb->lock.
 * Return: true if a message was taken; false if none is queued.
 */
bool ivhost_devtlb_take(struct ivhost_devtlb *tlb, struct vhost_iotlb_msg *msg,
			unsigned long *wake)
{
	struct ivhost_devtlb_msg *m;

	spin_lock(&tlb->lock);
	m = list_first_entry_or_null(&tlb->msgs, struct ivhost_devtlb_msg,
				     node);
	if (m) {
		list_del(&m->node);
		tlb->nmsgs--;
		*wake |= tlb->retry_vqs;
		tlb->retry_vqs = 0;
	}
	spin_unlock(&tlb->lock);
	if (!m)
		return false;
	/* memcpy, not assignment: the padding must stay zero too. */
	memcpy(msg, &m->msg, sizeof(*msg));
	kfree(m);
	return true;
}
EXPORT_SYMBOL_IF_IVHOST_KUNIT(ivhost_devtlb_take);

/**
 * ivhost_devtlb_unsent() - a taken message could not be delivered
 * @tlb: the IOTLB
 * @msg: the message ivhost_devtlb_take() gave
 *
 * It is not put back (a reset may have dropped its like meanwhile, and
 * the queue may be full again): it is counted as dropped, and the vqs
 * that waited for it ask again.
 *
 * Context: any; takes &tlb->lock.
 * Return: the vqs to wake, a bit per index.
 */
unsigned long ivhost_devtlb_unsent(struct ivhost_devtlb *tlb,
				   const struct vhost_iotlb_msg *msg)
{
	unsigned long wake;

	spin_lock(&tlb->lock);
	tlb->stats.msgs_dropped++;
	wake = ivhost_devtlb_lost(tlb, msg);
	spin_unlock(&tlb->lock);
	return wake;
}
EXPORT_SYMBOL_IF_IVHOST_KUNIT(ivhost_devtlb_unsent);
