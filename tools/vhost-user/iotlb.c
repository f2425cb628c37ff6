// SPDX-License-Identifier: GPL-2.0
/*
 * The device IOTLB over vhost-user: the transport half of the kernel
 * device's IOTLB core (drivers/vhost/devtlb.c, devtlb_msg.c, iotlb.c,
 * compiled as they are), used when SET_FEATURES acks
 * VIRTIO_F_IOMMU_PLATFORM.
 *
 * IOTLB_MSG on the socket carries UPDATE and INVALIDATE; the core
 * validates and applies them, and the reply (REPLY_ACK) goes out once
 * the change holds.  An UPDATE's uaddr is the frontend's virtual address:
 * it must lie whole in one SET_MEM_TABLE region (the core's check_uaddr
 * hook), and is mapped through the regions each time it is used.
 *
 * The barrier: messages are handled under the write side of d->lock,
 * so no round runs while one is, and no translation survives a round but
 * the rings' own addresses, which the core's sync callback drops (they
 * are translated again at the next round), and each ring's copy of the
 * entry it translated through last (&ivu_vring.tlbq.span), which the
 * sync callback drops when the change meets it.  A frame held in an RX
 * buffer over a miss is a copy of the tap's, not a translation.  The
 * datapath workers translate concurrently, under the core's own lock,
 * except what their ring's copy covers, served without the core (as the
 * kernel device serves it: drivers/vhost/vq_iotlb.c).
 *
 * MISS and ACCESS_FAIL go out on the backend channel (SET_BACKEND_REQ_FD)
 * without NEED_REPLY, from the core's bounded, deduplicated queue: a
 * worker's round queues them and wakes the control thread, which sends
 * them without blocking: a full socket keeps them queued and the channel
 * is watched for room.  A ring that misses waits (nothing is dropped);
 * the UPDATE that answers the miss wakes it, through the core.
 *
 * The IOTLB is flushed on a new memory table, on GET_VRING_BASE, on a
 * feature change and when the frontend goes away.
 */
#include <assert.h>
#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <linux/kernel.h>
#include <linux/virtio_config.h>

#include "chain.h"
#include "ivu.h"

/*
 * Translations the cache keeps per queue pair: the kernel device's
 * default for its one pair.  Each ring may have a frame in progress of
 * IVU_FRAME_MAX_ENTRIES, the entry its copy came from (not charged to
 * the frame: ivu_iotlb_span()), its rings (up to 213 pages) and what it
 * asks ahead; all of it, for every ring of the device, fits at once, so
 * that answering one frame's misses never evicts what another still
 * needs.
 */
#define IVU_IOTLB_ENTRIES	2048
static_assert(IVU_IOTLB_ENTRIES >=
	      2 * (IVU_FRAME_MAX_ENTRIES + 1 + 213 + IVU_ASK_AHEAD),
	      "a queue pair's frames and rings fit in its share");

/* Backend request carrying an IOTLB message, and its header's size. */
#define IVU_BACKEND_IOTLB_MSG	1
#define IVU_BACKEND_HDR		12
/* QVA segments one translation may need before mapping. */
#define IVU_IOTLB_SEGS		64
/* An indirect table in several pieces is copied; the longest there is. */
#define IVU_IOTLB_COPY_MAX	(IVHOST_INDIRECT_MAX * sizeof(struct vring_desc))

static struct ivu_dev *ivu_iotlb_dev(struct ivhost_devtlb *tlb)
{
	return container_of(tlb, struct ivu_dev, iotlb.tlb);
}

/* The core's wake: the vqs' workers run another round (control thread). */
static void ivu_iotlb_wake_vqs(struct ivu_dev *d, unsigned long vqs)
{
	unsigned int i;

	for (i = 0; i < IVU_MAX_VQ; i++)
		if (vqs & (1UL << i))
			d->vq[i].more = d->vq[i].started;
}

static void ivu_iotlb_wake(struct ivhost_devtlb *tlb, unsigned long vqs)
{
	ivu_iotlb_wake_vqs(ivu_iotlb_dev(tlb), vqs);
}

static bool ivu_iotlb_meets(u64 addr, u64 len, u64 start, u64 last)
{
	return addr <= last && addr + len - 1 >= start;
}

/*
 * The core's barrier, from a message (d->lock held for writing).  No
 * round is running, so only the rings' translations and their copies of
 * an entry can still be held: those that meet [start, last] are dropped;
 * the next round translates again.
 */
static void ivu_iotlb_sync(struct ivhost_devtlb *tlb, u64 start, u64 last)
{
	struct ivu_dev *d = ivu_iotlb_dev(tlb);
	unsigned int i;

	for (i = 0; i < IVU_MAX_VQ; i++) {
		struct ivu_vring *vq = &d->vq[i];
		const struct vhost_vring_addr *a = &vq->addr;
		u64 n = vq->num;

		ivhost_devtlb_span_drop(&vq->tlbq.span, start, last);
		if (!vq->desc)
			continue;
		if (ivu_iotlb_meets(a->desc_user_addr, 16 * n, start, last) ||
		    ivu_iotlb_meets(a->avail_user_addr, 6 + 2 * n, start, last) ||
		    ivu_iotlb_meets(a->used_user_addr, 6 + 8 * n, start, last))
			ivu_vring_unmap_rings(vq);
	}
}

/* An UPDATE may map only what one memory-table region holds whole. */
static bool ivu_iotlb_check_uaddr(struct ivhost_devtlb *tlb, u64 uaddr,
				  u64 size)
{
	return ivu_mem_qva(&ivu_iotlb_dev(tlb)->mem, uaddr, size);
}

static const struct ivhost_devtlb_ops ivu_iotlb_ops = {
	.wake = ivu_iotlb_wake,
	.sync = ivu_iotlb_sync,
	.check_uaddr = ivu_iotlb_check_uaddr,
};

/**
 * ivu_iotlb_init() - set up the device's empty IOTLB
 * @d: the device, with its number of queue pairs set
 */
void ivu_iotlb_init(struct ivu_dev *d)
{
	ivhost_devtlb_init(&d->iotlb.tlb, IVU_IOTLB_ENTRIES * d->queues,
			   &ivu_iotlb_ops);
}

/**
 * ivu_iotlb_on() - are guest addresses IOVAs?
 * @d: the device
 *
 * Return: true when SET_FEATURES acked VIRTIO_F_IOMMU_PLATFORM.
 */
bool ivu_iotlb_on(const struct ivu_dev *d)
{
	return d->features & (1ULL << VIRTIO_F_ACCESS_PLATFORM);
}

/**
 * ivu_iotlb_msg() - handle a VHOST_USER_IOTLB_MSG
 * @d: the device
 * @msg: the message
 *
 * Return: 0 once the change holds (no ring uses a translation it
 * removed); -EFAULT without VIRTIO_F_IOMMU_PLATFORM, or for an UPDATE
 * whose uaddr range no region covers; otherwise as the kernel device's
 * write() (-EINVAL for a malformed message or a type the frontend does
 * not send).
 */
int ivu_iotlb_msg(struct ivu_dev *d, const struct vhost_iotlb_msg *msg)
{
	unsigned long wake = 0;
	int err;

	ivu_dbg("IOTLB type %u iova 0x%llx size 0x%llx uaddr 0x%llx perm %u",
		msg->type, msg->iova, msg->size, msg->uaddr, msg->perm);
	if (!ivu_iotlb_on(d))
		return -EFAULT;
	/* vhost-user has no IOTLB batches. */
	err = ivhost_devtlb_handle(&d->iotlb.tlb, msg, false, &wake);
	ivu_iotlb_wake_vqs(d, wake);
	return err;
}

/**
 * ivu_iotlb_flush() - forget every translation, queued message and miss
 * @d: the device
 *
 * Rings drop their translations; started ones run a round, which asks
 * again for what it needs.
 */
void ivu_iotlb_flush(struct ivu_dev *d)
{
	unsigned int i;

	ivhost_devtlb_reset(&d->iotlb.tlb);
	for (i = 0; i < IVU_MAX_VQ; i++)
		d->vq[i].tlbq.span.perm = 0;
	if (!ivu_iotlb_on(d))
		return;
	for (i = 0; i < IVU_MAX_VQ; i++)
		ivu_vring_unmap_rings(&d->vq[i]);
	ivu_iotlb_wake_vqs(d, ~0UL);
}

/* Watch the backend channel for room, or stop. */
static void ivu_iotlb_watch_out(struct ivu_dev *d, bool on)
{
	struct ivu_iotlb *t = &d->iotlb;

	if (t->out_watched == on)
		return;
	t->out_watched = on;
	ivu_backend_watch(d);	/* with the doorbells' answers */
}

/**
 * ivu_iotlb_backend_closed() - the backend channel is going away
 * @d: the device; d->backend_fd still the old channel
 *
 * A message part-sent on it is lost (the rings that wait for it ask
 * again); queued ones, and one that found the channel failing before a
 * byte of it went out, wait for the next channel (or the next flush).
 * The misses sent on it are forgotten: the frontend may never have read
 * them, and a ring waiting for one (an RX ring has no kick to run it
 * again) asks again, on the next channel.
 */
void ivu_iotlb_backend_closed(struct ivu_dev *d)
{
	struct ivu_iotlb *t = &d->iotlb;
	struct vhost_iotlb_msg msg;

	if (t->out_len) {
		/* Lost with the channel: its rings ask again. */
		memcpy(&msg, t->out + IVU_BACKEND_HDR, sizeof(msg));
		ivu_iotlb_wake_vqs(d, ivhost_devtlb_unsent(&t->tlb, &msg));
	}
	ivu_iotlb_wake_vqs(d, ivhost_devtlb_forget_sent(&t->tlb));
	if (d->backend_fd >= 0)
		ivu_iotlb_watch_out(d, false);
	d->iotlb.out_watched = false;
	d->iotlb.out_len = 0;
	d->iotlb.out_off = 0;
}

/* Send what is left of the message in @t->out: 0, -EAGAIN or -errno. */
static int ivu_iotlb_push_out(struct ivu_dev *d)
{
	struct ivu_iotlb *t = &d->iotlb;
	ssize_t n;

	while (t->out_off < t->out_len) {
		n = send(d->backend_fd, t->out + t->out_off,
			 t->out_len - t->out_off, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0)
			return errno == EWOULDBLOCK ? -EAGAIN : -errno;
		t->out_off += n;
	}
	t->out_len = 0;
	t->out_off = 0;
	return 0;
}

/* Frame @msg as a backend request, without NEED_REPLY, into @t->out. */
static void ivu_iotlb_frame(struct ivu_iotlb *t,
			    const struct vhost_iotlb_msg *msg)
{
	u32 hdr[3] = { IVU_BACKEND_IOTLB_MSG, 0x1, sizeof(*msg) };

	memcpy(t->out, hdr, sizeof(hdr));
	memcpy(t->out + IVU_BACKEND_HDR, msg, sizeof(*msg));
	t->out_len = sizeof(t->out);
	t->out_off = 0;
}

/* The channel failed: close it; the rings that wait keep waiting. */
static void ivu_iotlb_channel_error(struct ivu_dev *d, int err)
{
	ivu_log("backend channel: %s; IOTLB misses can no longer be sent",
		strerror(-err));
	ivu_backend_close(d);
}

/**
 * ivu_iotlb_send() - send the queued MISS and ACCESS_FAIL messages
 * @d: the device
 *
 * Context: the control thread, d->lock held for writing.
 * Sends until the queue is empty or the channel is full, never waiting;
 * a full channel is watched for room and this runs again.  Rings whose
 * misses found the queue full are woken to ask again.
 */
void ivu_iotlb_send(struct ivu_dev *d)
{
	struct ivhost_devtlb *tlb = &d->iotlb.tlb;
	struct ivu_iotlb *t = &d->iotlb;
	struct vhost_iotlb_msg msg;
	unsigned long wake = 0;
	int err = 0;

	if (__atomic_exchange_n(&tlb->retry.work.pending, 0, __ATOMIC_SEQ_CST))
		/* Misses that found no memory: ask again now. */
		tlb->retry.work.func(&tlb->retry.work);
	if (d->backend_fd < 0)
		return;
	if (t->out_len)
		err = ivu_iotlb_push_out(d);
	/* Between whole messages: the host notifiers' (notifier.c). */
	if (!err)
		err = ivu_notifier_out(d);
	while (!err && ivhost_devtlb_peek(tlb, &msg)) {
		ivu_iotlb_frame(t, &msg);
		err = ivu_iotlb_push_out(d);
		if (err && !t->out_off) {
			/* Still queued: sent later, or on the next channel. */
			t->out_len = 0;
			break;
		}
		/* Sent, or partly: the rest goes out before anything else. */
		ivhost_devtlb_take(tlb, &msg, &wake);
	}
	ivu_iotlb_wake_vqs(d, wake);
	if (err && err != -EAGAIN) {
		ivu_iotlb_channel_error(d, err);
		return;
	}
	ivu_iotlb_watch_out(d, err == -EAGAIN);
}

/*
 * [iova, iova + len - 1] (len > 0) through @vq's copy of the entry it
 * used last, if that covers it with @perm, into @qva: 1 segment, or 0.
 * The copy is dropped by every change that meets it (ivu_iotlb_sync())
 * and by a flush, with no round running; as in the kernel device, a
 * frame is not charged again for it.
 */
static int ivu_iotlb_span(struct ivu_dev *d, struct ivu_vring *vq, u64 iova,
			  u64 len, u8 perm, struct iovec *qva)
{
	const struct ivhost_devtlb_span *s = &vq->tlbq.span;

	if (!ivhost_devtlb_span_covers(s, iova, len, perm))
		return 0;
	qva->iov_base = (void *)(uintptr_t)(s->uaddr + (iova - s->start));
	qva->iov_len = len;
	d->iotlb.span_hits[vq->index]++;
	return 1;
}

/* ivu_iotlb_iov(), charging the entries to @q (NULL: to no frame). */
static int ivu_iotlb_segs(struct ivu_dev *d, struct ivu_vring *vq,
			  struct ivhost_devtlb_vq *q, u64 iova, u64 len,
			  u8 perm, struct iovec *iov, unsigned int max)
{
	static __thread struct iovec qva[IVU_IOTLB_SEGS];
	unsigned int i, n = 0;
	int segs = 0, r;

	if (len)
		segs = ivu_iotlb_span(d, vq, iova, len, perm, qva);
	if (!segs)
		segs = ivhost_devtlb_translate(&d->iotlb.tlb, vq->index, iova,
					       len, perm, qva, IVU_IOTLB_SEGS,
					       q);
	if (segs == -EAGAIN || segs == -EACCES)
		ivu_iotlb_queued();	/* a MISS or ACCESS_FAIL to send */
	if (segs < 0)
		return segs;
	for (i = 0; i < (unsigned int)segs; i++) {
		if (!d->mem.by_qva)
			return -EFAULT;
		r = ivhost_memtable_translate(d->mem.by_qva,
					      (uintptr_t)qva[i].iov_base,
					      qva[i].iov_len, iov + n, max - n);
		if (r < 0)
			return r;
		n += r;
	}
	return n;
}

/**
 * ivu_iotlb_iov() - translate a guest IOVA range into local segments
 * @d: the device, with the IOTLB on
 * @vq: the ring asking (it waits for the miss, or is reported)
 * @iova: first address
 * @len: bytes; 0 gives no segment
 * @perm: IVHOST_PERM_RO to read, IVHOST_PERM_WO to write
 * @iov: where to put the segments
 * @max: room in @iov
 *
 * The entries the range steps into are charged to the frame in progress
 * (ivu_vring_frame_begin()), as the kernel device charges them.
 *
 * Return: segments stored; -EAGAIN on a miss (a MISS is queued, the ring
 * is woken by the UPDATE that answers it); -EACCES if the mapping forbids
 * the access (an ACCESS_FAIL is queued); -EFAULT if the range wraps or
 * the translation lies outside the memory table; -ENOSPC if the frame
 * steps into more entries than it may; -ENOBUFS.
 */
int ivu_iotlb_iov(struct ivu_dev *d, struct ivu_vring *vq, u64 iova, u64 len,
		  u8 perm, struct iovec *iov, unsigned int max)
{
	return ivu_iotlb_segs(d, vq, &vq->tlbq, iova, len, perm, iov, max);
}

/**
 * ivu_iotlb_local() - translate without charging a frame
 * @d: the device, with the IOTLB on
 * @vq: the ring asking
 * @iova: first address
 * @len: bytes
 * @perm: the access needed
 * @iov: where to put the local segments
 * @max: room in @iov
 *
 * For what the ring keeps translated (its rings), e.g. to log a write to
 * a used ring read through an alias by the memory it really is.
 * Return: as ivu_iotlb_iov().
 */
int ivu_iotlb_local(struct ivu_dev *d, struct ivu_vring *vq, u64 iova,
		    u64 len, u8 perm, struct iovec *iov, unsigned int max)
{
	return ivu_iotlb_segs(d, vq, NULL, iova, len, perm, iov, max);
}

/**
 * ivu_iotlb_ring() - translate a ring area into one local range
 * @d: the device, with the IOTLB on
 * @vq: the ring
 * @area: which area (0 desc, 1 avail, 2 used)
 * @iova: its first address
 * @len: its bytes, > 0
 * @perm: the access it needs
 * @ptr: gets the local address
 *
 * The entries are not charged to a frame.  An area in several pieces of
 * local memory is read and written through an alias (alias.c), dropped
 * with the ring's translation.
 *
 * Return: 0; -EINVAL if the pieces cannot be aliased (logged); otherwise
 * as ivu_iotlb_iov() (-EFAULT for -ENOBUFS).
 */
int ivu_iotlb_ring(struct ivu_dev *d, struct ivu_vring *vq, unsigned int area,
		   u64 iova, u64 len, u8 perm, void **ptr)
{
	static __thread struct iovec seg[IVU_IOTLB_SEGS];
	int n;

	n = ivu_iotlb_segs(d, vq, NULL, iova, len, perm, seg, IVU_IOTLB_SEGS);
	if (n == -ENOBUFS || n == 0)
		return -EFAULT;
	if (n < 0)
		return n;
	return ivu_alias_ring(vq, area, seg, n, ptr);
}

/* Copy @n local pieces into @buf. */
static void ivu_iotlb_gather(void *buf, const struct iovec *seg,
			     unsigned int n)
{
	unsigned char *p = buf;
	unsigned int i;

	for (i = 0; i < n; i++) {
		memcpy(p, seg[i].iov_base, seg[i].iov_len);
		p += seg[i].iov_len;
	}
}

/**
 * ivu_iotlb_ptr() - translate a guest IOVA range into one local range
 * @d: the device, with the IOTLB on
 * @vq: the ring asking
 * @iova: first address
 * @len: bytes, > 0, at most IVU_IOTLB_COPY_MAX
 * @perm: the access needed (IVHOST_PERM_RO: the range is only read)
 * @frame: part of the frame in progress (an indirect table), charged to
 *	it as ivu_iotlb_iov() does
 * @ptr: gets the local address
 *
 * A range in several pieces of local memory is copied, for reading, into
 * a buffer of the calling thread, valid until its next call.
 *
 * Return: 0; -EFAULT if the range is in more pieces than fit, or longer
 * than the buffer; otherwise as ivu_iotlb_iov().
 */
int ivu_iotlb_ptr(struct ivu_dev *d, struct ivu_vring *vq, u64 iova, u64 len,
		  u8 perm, bool frame, void **ptr)
{
	static __thread unsigned char copy[IVU_IOTLB_COPY_MAX];
	static __thread struct iovec seg[IVU_IOTLB_SEGS];
	int n;

	n = ivu_iotlb_segs(d, vq, frame ? &vq->tlbq : NULL, iova, len, perm,
			   seg, IVU_IOTLB_SEGS);
	if (n == -ENOBUFS || n == 0)
		return -EFAULT;
	if (n < 0)
		return n;
	if (n == 1) {
		*ptr = seg[0].iov_base;
		return 0;
	}
	if (perm != IVHOST_PERM_RO || len > sizeof(copy))
		return -EFAULT;
	ivu_iotlb_gather(copy, seg, n);
	*ptr = copy;
	return 0;
}
