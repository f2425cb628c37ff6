/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The device IOTLB of one device: the translation cache, the messages
 * waiting for the VMM to read them, and the misses still unanswered.
 */
#ifndef _IVHOST_DEVTLB_H
#define _IVHOST_DEVTLB_H

#include <linux/list.h>
#include <linux/poll.h>
#include <linux/spinlock.h>
#include <linux/uio.h>
#include <linux/vhost_types.h>
#include <linux/wait.h>
#include <linux/workqueue.h>
#include <linux/ivhost.h>

#include "iotlb.h"

/* Granule misses are deduplicated at. */
#define IVHOST_DEVTLB_MISS_SHIFT	12
/* Most unread messages kept; more are dropped and counted. */
#define IVHOST_DEVTLB_MAX_MSGS		256U
/* Most unanswered misses remembered for deduplication. */
#define IVHOST_DEVTLB_MAX_MISSES	256U
/* Most changes one batch may hold before BATCH_END. */
#define IVHOST_DEVTLB_MAX_BATCH		4096U

struct ivhost_devtlb;

/**
 * struct ivhost_devtlb_msg - a message waiting for the VMM
 * @node: link in &ivhost_devtlb.msgs
 * @vq: index of the vq that caused it
 * @msg: the message
 */
struct ivhost_devtlb_msg {
	struct list_head node;
	unsigned int vq;
	struct vhost_iotlb_msg msg;
};

/**
 * struct ivhost_devtlb_ops - what the device does for its IOTLB
 * @wake: queue the processing of the vqs in @vqs (a bit per vq index);
 *	called from the IOTLB's deferred work with no lock held, may sleep
 *	(read() and write() hand the vqs to wake to their caller instead)
 * @sync: wait until no vq round uses a translation taken before the
 *	call, and drop the vqs' cached translations of IOVAs in
 *	[start, last]; called with no lock held, may sleep
 * @check_uaddr: may an UPDATE map the user range [uaddr, uaddr + size - 1]
 *	(size >= 1, no wrap)?  The transport's decision; optional: without
 *	it, access_ok() decides (the kernel device).  Called with no lock
 *	held.
 */
struct ivhost_devtlb_ops {
	void (*wake)(struct ivhost_devtlb *tlb, unsigned long vqs);
	void (*sync)(struct ivhost_devtlb *tlb, u64 start, u64 last);
	bool (*check_uaddr)(struct ivhost_devtlb *tlb, u64 uaddr, u64 size);
};

/**
 * struct ivhost_devtlb - a device's IOTLB
 * @lock: protects everything below; innermost lock of the device
 * @cache: the translations
 * @msgs: messages for the VMM, oldest first
 * @nmsgs: entries on @msgs
 * @misses: misses not yet answered by an UPDATE
 * @nmisses: entries on @misses
 * @retry_vqs: vqs whose miss could not be queued; woken when read() makes
 *	room, or by @retry
 * @retry: wakes @retry_vqs a little later when a miss found no memory:
 *	with no message queued, no read() would
 * @batch: changes between BATCH_BEGIN and BATCH_END
 * @nbatch: entries on @batch
 * @batching: inside BATCH_BEGIN .. BATCH_END
 * @wait: readers of the device fd waiting for a message (woken whenever
 *	one is queued; a transport that does not sleep ignores it)
 * @stats: the counters
 * @ops: the device's callbacks
 */
struct ivhost_devtlb {
	spinlock_t lock;	/* see above */
	struct ivhost_iotlb cache;
	struct list_head msgs;
	u32 nmsgs;
	struct list_head misses;
	u32 nmisses;
	unsigned long retry_vqs;
	struct delayed_work retry;
	struct list_head batch;
	u32 nbatch;
	bool batching;
	wait_queue_head_t wait;
	struct ivhost_iotlb_stats stats;
	const struct ivhost_devtlb_ops *ops;
};

/**
 * struct ivhost_devtlb_span - a translation a vq keeps for itself
 * @start: first IOVA
 * @last: last IOVA
 * @uaddr: userspace address of @start
 * @perm: IVHOST_PERM_* granted; 0: nothing kept
 */
struct ivhost_devtlb_span {
	u64 start;
	u64 last;
	u64 uaddr;
	u8 perm;
};

/* Entries a frame's budget remembers, so that revisits are free. */
#define IVHOST_DEVTLB_SEEN	4

/**
 * struct ivhost_devtlb_vq - what one vq keeps of the IOTLB for itself
 * @span: the entry it translated through last
 * @budget: entries the frame in progress may still step into
 *	(ivhost_devtlb_translate()); set at the start of each frame
 * @seen: first IOVAs of the entries the frame stepped into last; one
 *	among them costs nothing again (an indirect table and the buffers
 *	it points at alternate)
 * @nseen: entries recorded in @seen so far (wrapping), 0 at frame start
 */
struct ivhost_devtlb_vq {
	struct ivhost_devtlb_span span;
	unsigned int budget;
	u64 seen[IVHOST_DEVTLB_SEEN];
	unsigned int nseen;
};

/**
 * ivhost_devtlb_span_covers() - whether a vq's kept entry serves a range
 * @s: the span
 * @addr: first IOVA of the range
 * @len: its length, > 0
 * @perm: IVHOST_PERM_* the access needs
 *
 * Context: by the span's vq, under what keeps its changes out (the vq's
 * mutex in the kernel, the device lock in ivhost-user).
 * Return: true if [@addr, @addr + @len - 1] lies inside @s with @perm.
 */
static inline bool ivhost_devtlb_span_covers(const struct ivhost_devtlb_span *s,
					     u64 addr, u64 len, u8 perm)
{
	return s->perm && (s->perm & perm) == perm && addr >= s->start &&
	       addr <= s->last && len - 1 <= s->last - addr;
}

/**
 * ivhost_devtlb_span_drop() - forget a kept entry that meets a change
 * @s: the span
 * @start: first IOVA changed
 * @last: last IOVA changed
 *
 * Context: from the IOTLB's sync callback, with the span's vq not
 * translating.
 */
static inline void ivhost_devtlb_span_drop(struct ivhost_devtlb_span *s,
					   u64 start, u64 last)
{
	if (s->perm && s->start <= last && s->last >= start)
		s->perm = 0;
}

/**
 * struct ivhost_devtlb_range - a closed IOVA interval
 * @start: first IOVA
 * @last: last IOVA, >= @start
 */
struct ivhost_devtlb_range {
	u64 start;
	u64 last;
};

void ivhost_devtlb_init(struct ivhost_devtlb *tlb, u32 limit,
			const struct ivhost_devtlb_ops *ops);
void ivhost_devtlb_reset(struct ivhost_devtlb *tlb);
void ivhost_devtlb_destroy(struct ivhost_devtlb *tlb);
unsigned long ivhost_devtlb_forget_vq(struct ivhost_devtlb *tlb,
				      unsigned int vq);
int ivhost_devtlb_translate(struct ivhost_devtlb *tlb, unsigned int vq,
			    u64 iova, u64 len, u8 perm, struct iovec *iov,
			    unsigned int max, struct ivhost_devtlb_vq *q);
void ivhost_devtlb_ask(struct ivhost_devtlb *tlb, unsigned int vq, u64 iova,
		       u64 len, u8 perm);
void ivhost_devtlb_touch(struct ivhost_devtlb *tlb,
			 const struct ivhost_devtlb_range *r, unsigned int n);
void ivhost_devtlb_get_stats(struct ivhost_devtlb *tlb,
			     struct ivhost_iotlb_stats *st);

unsigned long ivhost_devtlb_answered(struct ivhost_devtlb *tlb, u64 start,
				     u64 last, u8 perm);
unsigned long ivhost_devtlb_lost(struct ivhost_devtlb *tlb,
				 const struct vhost_iotlb_msg *msg);
unsigned long ivhost_devtlb_forget_sent(struct ivhost_devtlb *tlb);

/* devtlb_msg.c: the messages, whatever the transport */
void ivhost_devtlb_batch_drop(struct ivhost_devtlb *tlb);
void ivhost_devtlb_batch_cancel(struct ivhost_devtlb *tlb);
int ivhost_devtlb_handle(struct ivhost_devtlb *tlb,
			 const struct vhost_iotlb_msg *msg, bool batch,
			 unsigned long *wake);
bool ivhost_devtlb_pending(struct ivhost_devtlb *tlb);
bool ivhost_devtlb_peek(struct ivhost_devtlb *tlb, struct vhost_iotlb_msg *msg);
bool ivhost_devtlb_take(struct ivhost_devtlb *tlb, struct vhost_iotlb_msg *msg,
			unsigned long *wake);
unsigned long ivhost_devtlb_unsent(struct ivhost_devtlb *tlb,
				   const struct vhost_iotlb_msg *msg);

/* devtlb_chr.c: the kernel device fd's transport */

/**
 * union ivhost_devtlb_wire - an IOTLB message as written to the device fd
 * @v1: struct vhost_msg (VHOST_IOTLB_MSG)
 * @v2: struct vhost_msg_v2 (VHOST_IOTLB_MSG_V2)
 */
union ivhost_devtlb_wire {
	struct vhost_msg v1;
	struct vhost_msg_v2 v2;
};

ssize_t ivhost_devtlb_write_msg(struct ivhost_devtlb *tlb,
				const union ivhost_devtlb_wire *u, size_t count,
				u64 backend_features, unsigned long *wake);
ssize_t ivhost_devtlb_read(struct ivhost_devtlb *tlb, struct iov_iter *to,
			   bool nonblock, bool v2, unsigned long *wake);
ssize_t ivhost_devtlb_write(struct ivhost_devtlb *tlb, struct iov_iter *from,
			    u64 backend_features, unsigned long *wake);
__poll_t ivhost_devtlb_poll(struct ivhost_devtlb *tlb, struct file *file,
			    poll_table *wait);

#endif /* _IVHOST_DEVTLB_H */
