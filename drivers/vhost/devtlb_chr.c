// SPDX-License-Identifier: GPL-2.0
/*
 * The device fd's transport of the IOTLB messages: write() takes an
 * UPDATE, INVALIDATE or batch marker in struct vhost_msg or vhost_msg_v2
 * and hands it to ivhost_devtlb_handle(); read() hands the VMM the oldest
 * queued MISS or ACCESS_FAIL, waiting for one unless O_NONBLOCK; poll()
 * tells when one waits.  What a message means is devtlb_msg.c's
 * business, shared with ivhost-user.
 *
 * Locking: nothing here takes &ivhost_devtlb.lock but through
 * devtlb_msg.c; readers sleep on &ivhost_devtlb.wait, which the IOTLB
 * wakes when it queues a message.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/poll.h>
#include <linux/sched/signal.h>
#include <linux/uaccess.h>

#include "devtlb.h"
#include "kunit_export.h"

/**
 * ivhost_devtlb_write_msg() - take one message the VMM wrote, copied in
 * @tlb: the IOTLB
 * @u: the message's first min(@count, sizeof(*@u)) bytes
 * @count: the size of the write
 * @backend_features: the device's acknowledged backend features
 * @wake: gets the vqs whose misses the message answered, a bit per index,
 *	OR-ed in; the caller wakes them
 *
 * As ivhost_devtlb_write(), for a caller that copied the message in
 * already (the kernel device, which copies it before taking its mutex).
 *
 * Context: process context; may sleep.  The caller serialises this with
 * changes of @backend_features (the device holds its mutex).
 * Return: as ivhost_devtlb_write().
 */
ssize_t ivhost_devtlb_write_msg(struct ivhost_devtlb *tlb,
				const union ivhost_devtlb_wire *u, size_t count,
				u64 backend_features, unsigned long *wake)
{
	const struct vhost_iotlb_msg *msg;
	size_t size;
	int err;

	if (count < sizeof(u->v2.type))
		return -EINVAL;
	switch (u->v2.type) {
	case VHOST_IOTLB_MSG:
		size = sizeof(u->v1);
		msg = &u->v1.iotlb;
		break;
	case VHOST_IOTLB_MSG_V2:
		size = sizeof(u->v2);
		if (count >= size && u->v2.asid)
			return -EINVAL;
		msg = &u->v2.iotlb;
		break;
	default:
		return -EINVAL;
	}
	if (count < size)
		return -EINVAL;
	err = ivhost_devtlb_handle(tlb, msg, backend_features &
				   BIT_ULL(VHOST_BACKEND_F_IOTLB_BATCH), wake);
	return err ? err : size;
}
EXPORT_SYMBOL_IF_IVHOST_KUNIT(ivhost_devtlb_write_msg);

/**
 * ivhost_devtlb_write() - take one message the VMM wrote
 * @tlb: the IOTLB
 * @from: the bytes written, in any split across iovecs
 * @backend_features: the device's acknowledged backend features
 * @wake: gets the vqs whose misses the message answered, a bit per index,
 *	OR-ed in; the caller wakes them
 *
 * Accepts struct vhost_msg (type VHOST_IOTLB_MSG) and struct vhost_msg_v2
 * (type VHOST_IOTLB_MSG_V2, asid 0), and applies it with
 * ivhost_devtlb_handle(): a message that removes translations returns
 * only after the device's barrier (&ivhost_devtlb_ops.sync).
 *
 * Context: process context; may sleep.  The caller serialises this with
 * changes of @backend_features (the device holds its mutex).
 * Return: the size of the message taken; -EINVAL if it is short,
 * of an unknown type, or malformed (UPDATE with perm or size 0, or a
 * range that wraps past 2^64); -EFAULT if an UPDATE maps memory outside
 * the user address space or @from cannot be read; -ENOSPC if a batch is
 * full; -ENOMEM.
 */
ssize_t ivhost_devtlb_write(struct ivhost_devtlb *tlb, struct iov_iter *from,
			    u64 backend_features, unsigned long *wake)
{
	union ivhost_devtlb_wire u = {};
	size_t count = iov_iter_count(from);
	size_t n = min(count, sizeof(u));

	if (copy_from_iter(&u, n, from) != n)
		return -EFAULT;
	return ivhost_devtlb_write_msg(tlb, &u, count, backend_features, wake);
}
EXPORT_SYMBOL_IF_IVHOST_KUNIT(ivhost_devtlb_write);

/* Take the oldest message into @msg, waiting for one unless @nonblock. */
static int ivhost_devtlb_dequeue(struct ivhost_devtlb *tlb, bool nonblock,
				 struct vhost_iotlb_msg *msg,
				 unsigned long *wake)
{
	int err;

	while (!ivhost_devtlb_take(tlb, msg, wake)) {
		if (nonblock)
			return -EAGAIN;
		err = wait_event_interruptible(tlb->wait,
					       ivhost_devtlb_pending(tlb));
		if (err)
			return err;
	}
	return 0;
}

/**
 * ivhost_devtlb_read() - hand the VMM the oldest queued message
 * @tlb: the IOTLB
 * @to: the reader's buffer
 * @nonblock: fail with -EAGAIN rather than wait
 * @v2: use struct vhost_msg_v2 (VHOST_BACKEND_F_IOTLB_MSG_V2 acknowledged)
 * @wake: gets the vqs to wake, a bit per index, OR-ed in: those whose
 *	miss found the queue full and may now ask again; the caller wakes
 *	them
 *
 * Every byte of the message other than type, iova and perm is zero.
 *
 * Context: process context; may sleep unless @nonblock.
 * Return: the message size; -EINVAL if @to cannot hold one message;
 * -EAGAIN; -ERESTARTSYS; -EFAULT (the message is dropped and counted;
 * the vqs that waited for it ask again).
 */
ssize_t ivhost_devtlb_read(struct ivhost_devtlb *tlb, struct iov_iter *to,
			   bool nonblock, bool v2, unsigned long *wake)
{
	union {
		struct vhost_msg v1;
		struct vhost_msg_v2 v2;
	} u;
	size_t size = v2 ? sizeof(u.v2) : sizeof(u.v1);
	struct vhost_iotlb_msg msg;
	int err;

	if (iov_iter_count(to) < size)
		return -EINVAL;
	err = ivhost_devtlb_dequeue(tlb, nonblock, &msg, wake);
	if (err)
		return err;

	memset(&u, 0, sizeof(u));
	/* memcpy, not assignment: the padding must stay zero too. */
	if (v2) {
		u.v2.type = VHOST_IOTLB_MSG_V2;
		memcpy(&u.v2.iotlb, &msg, sizeof(msg));
	} else {
		u.v1.type = VHOST_IOTLB_MSG;
		memcpy(&u.v1.iotlb, &msg, sizeof(msg));
	}
	if (copy_to_iter(&u, size, to) != size) {
		*wake |= ivhost_devtlb_unsent(tlb, &msg);
		return -EFAULT;
	}
	return size;
}
EXPORT_SYMBOL_IF_IVHOST_KUNIT(ivhost_devtlb_read);

/**
 * ivhost_devtlb_poll() - readiness of the device fd's message channel
 * @tlb: the IOTLB
 * @file: the device file
 * @wait: the poll table
 *
 * Context: process context.
 * Return: EPOLLIN while a message waits; always writable.
 */
__poll_t ivhost_devtlb_poll(struct ivhost_devtlb *tlb, struct file *file,
			    poll_table *wait)
{
	__poll_t mask = EPOLLOUT | EPOLLWRNORM;

	poll_wait(file, &tlb->wait, wait);
	if (ivhost_devtlb_pending(tlb))
		mask |= EPOLLIN | EPOLLRDNORM;
	return mask;
}
EXPORT_SYMBOL_IF_IVHOST_KUNIT(ivhost_devtlb_poll);
