// SPDX-License-Identifier: GPL-2.0
/*
 * The device IOTLB of one device: translation through the cache, misses
 * and access failures reported to the VMM.
 *
 * A translation gap queues one MISS message for the first missing byte,
 * unless a miss for the same granule and access is still unanswered: then
 * the asking vq is only added to those waiting for it.  An UPDATE that
 * covers a miss wakes every vq waiting for it (ivhost_devtlb_answered()).
 * The queue of unread messages is bounded; a miss that finds it full is
 * counted, and its vq is woken to ask again once read() makes room.  A
 * miss the VMM read but left unanswered for IVHOST_DEVTLB_MISS_TTL_NS is
 * asked again by the next vq that meets it.  A
 * miss that finds no memory (the allocations cannot sleep) is asked
 * again IVHOST_DEVTLB_RETRY_MS later, so a queue never waits for a MISS
 * that was never sent.
 *
 * Locking: &ivhost_devtlb.lock, a spinlock, protects all state and is the
 * innermost lock of a device: callers may hold the device and vq mutexes,
 * and nothing here sleeps or calls back into the device under it.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/export.h>
#include <linux/log2.h>
#include <linux/slab.h>
#include <linux/timekeeping.h>

#include "devtlb.h"
#include "kunit_export.h"

#define IVHOST_DEVTLB_RETRY_MS	10

/* A miss read and unanswered this long is asked again when met again. */
#define IVHOST_DEVTLB_MISS_TTL_NS	NSEC_PER_SEC

/* Entries one ask-ahead looks at, at most. */
#define IVHOST_DEVTLB_ASK_STEPS	8

/* Numbers devices in tracepoints and debugfs. */
static atomic_t ivhost_devtlb_ids = ATOMIC_INIT(0);

#define CREATE_TRACE_POINTS
#include "trace.h"

/**
 * struct ivhost_devtlb_miss - a miss not yet answered
 * @node: link in &ivhost_devtlb.misses
 * @granule: the missing address >> IVHOST_DEVTLB_MISS_SHIFT
 * @perm: the access asked for
 * @vqs: the vqs waiting for the answer, a bit per index
 * @queued_ns: when the MISS was queued (ktime_get_ns(): the UPDATE that
 *	answers it is usually applied on another CPU)
 */
struct ivhost_devtlb_miss {
	struct list_head node;
	u64 granule;
	u8 perm;
	unsigned long vqs;
	u64 queued_ns;
};

/* Ask again for the misses that found no memory. */
static void ivhost_devtlb_retry_fn(struct work_struct *work)
{
	struct ivhost_devtlb *tlb = container_of(to_delayed_work(work),
						 struct ivhost_devtlb, retry);
	unsigned long vqs;

	spin_lock(&tlb->lock);
	vqs = tlb->retry_vqs;
	tlb->retry_vqs = 0;
	spin_unlock(&tlb->lock);
	if (vqs)
		tlb->ops->wake(tlb, vqs);
}

/**
 * ivhost_devtlb_init() - set up an empty IOTLB
 * @tlb: the IOTLB
 * @limit: most cache entries
 * @ops: the device's callbacks
 *
 * Context: process context.
 */
void ivhost_devtlb_init(struct ivhost_devtlb *tlb, u32 limit,
			const struct ivhost_devtlb_ops *ops)
{
	memset(tlb, 0, sizeof(*tlb));
	spin_lock_init(&tlb->lock);
	ivhost_iotlb_init(&tlb->cache, limit);
	INIT_LIST_HEAD(&tlb->msgs);
	INIT_LIST_HEAD(&tlb->misses);
	INIT_LIST_HEAD(&tlb->batch);
	init_waitqueue_head(&tlb->wait);
	INIT_DELAYED_WORK(&tlb->retry, ivhost_devtlb_retry_fn);
	tlb->ops = ops;
	tlb->cache.id = atomic_inc_return(&ivhost_devtlb_ids);
}
EXPORT_SYMBOL_IF_IVHOST_KUNIT(ivhost_devtlb_init);

static void ivhost_devtlb_free_msg(struct ivhost_devtlb *tlb,
				   struct ivhost_devtlb_msg *m)
	__must_hold(&tlb->lock)
{
	lockdep_assert_held(&tlb->lock);
	list_del(&m->node);
	tlb->nmsgs--;
	kfree(m);
}

static void ivhost_devtlb_free_miss(struct ivhost_devtlb *tlb,
				    struct ivhost_devtlb_miss *miss)
	__must_hold(&tlb->lock)
{
	lockdep_assert_held(&tlb->lock);
	list_del(&miss->node);
	tlb->nmisses--;
	kfree(miss);
}

/**
 * ivhost_devtlb_reset() - forget every translation, message and miss
 * @tlb: the IOTLB
 *
 * A batch in progress is abandoned.
 *
 * Context: any; takes &tlb->lock.
 */
void ivhost_devtlb_reset(struct ivhost_devtlb *tlb)
{
	struct ivhost_devtlb_miss *miss, *mtmp;
	struct ivhost_devtlb_msg *m, *tmp;

	spin_lock(&tlb->lock);
	ivhost_iotlb_clear(&tlb->cache);
	list_for_each_entry_safe(m, tmp, &tlb->msgs, node)
		ivhost_devtlb_free_msg(tlb, m);
	list_for_each_entry_safe(miss, mtmp, &tlb->misses, node)
		ivhost_devtlb_free_miss(tlb, miss);
	ivhost_devtlb_batch_drop(tlb);
	tlb->retry_vqs = 0;
	spin_unlock(&tlb->lock);
}
EXPORT_SYMBOL_IF_IVHOST_KUNIT(ivhost_devtlb_reset);

/**
 * ivhost_devtlb_destroy() - wait for the IOTLB's deferred work
 * @tlb: the IOTLB, after ivhost_devtlb_reset()
 *
 * Context: process context; not under the device mutex, which the
 * deferred work takes (through &ivhost_devtlb_ops.wake).
 */
void ivhost_devtlb_destroy(struct ivhost_devtlb *tlb)
{
	cancel_delayed_work_sync(&tlb->retry);
}

static struct ivhost_devtlb_miss *
ivhost_devtlb_find_miss(struct ivhost_devtlb *tlb, u64 granule, u8 perm)
	__must_hold(&tlb->lock)
{
	struct ivhost_devtlb_miss *miss;

	lockdep_assert_held(&tlb->lock);
	list_for_each_entry(miss, &tlb->misses, node)
		if (miss->granule == granule && miss->perm == perm)
			return miss;
	return NULL;
}

/* The vqs other than @vq waiting for the miss a MISS message reports. */
static unsigned long
ivhost_devtlb_other_waiters(struct ivhost_devtlb *tlb,
			    const struct ivhost_devtlb_msg *m, unsigned int vq)
	__must_hold(&tlb->lock)
{
	struct ivhost_devtlb_miss *miss;

	lockdep_assert_held(&tlb->lock);
	if (m->msg.type != VHOST_IOTLB_MISS)
		return 0;
	miss = ivhost_devtlb_find_miss(tlb, m->msg.iova >>
				       IVHOST_DEVTLB_MISS_SHIFT, m->msg.perm);
	return miss ? miss->vqs & ~BIT(vq) : 0;
}

/**
 * ivhost_devtlb_forget_vq() - drop what a stopped vq asked for
 * @tlb: the IOTLB
 * @vq: the vq's index
 *
 * Unread messages the vq caused are dropped, and it no longer waits for
 * any miss, so nothing stale is answered or replayed once it restarts.
 * A MISS other vqs joined while it was outstanding stays queued for
 * them: their deduplicated misses would otherwise never be sent.
 *
 * Dropping messages makes room in the queue: the vqs whose misses found
 * it full are returned, for the caller to wake so they ask again (no
 * read() may come to do it).
 *
 * Context: any; takes &tlb->lock.
 * Return: the vqs to wake, a bit per index.
 */
unsigned long ivhost_devtlb_forget_vq(struct ivhost_devtlb *tlb,
				      unsigned int vq)
{
	struct ivhost_devtlb_miss *miss, *mtmp;
	struct ivhost_devtlb_msg *m, *tmp;
	unsigned long others, wake = 0;
	bool dropped = false;

	spin_lock(&tlb->lock);
	list_for_each_entry_safe(m, tmp, &tlb->msgs, node) {
		if (m->vq != vq)
			continue;
		others = ivhost_devtlb_other_waiters(tlb, m, vq);
		if (others) {
			/* Other vqs wait for this MISS: it is theirs now. */
			m->vq = __ffs(others);
			continue;
		}
		ivhost_devtlb_free_msg(tlb, m);
		dropped = true;
	}
	list_for_each_entry_safe(miss, mtmp, &tlb->misses, node) {
		miss->vqs &= ~BIT(vq);
		if (!miss->vqs)
			ivhost_devtlb_free_miss(tlb, miss);
	}
	tlb->retry_vqs &= ~BIT(vq);
	if (dropped) {
		wake = tlb->retry_vqs;
		tlb->retry_vqs = 0;
	}
	spin_unlock(&tlb->lock);
	return wake;
}
EXPORT_SYMBOL_GPL(ivhost_devtlb_forget_vq);

/* Queue a message for the VMM; false if the queue is full or no memory. */
static bool ivhost_devtlb_queue(struct ivhost_devtlb *tlb, unsigned int vq,
				u8 type, u64 iova, u8 perm)
	__must_hold(&tlb->lock)
{
	struct ivhost_devtlb_msg *m;

	lockdep_assert_held(&tlb->lock);
	if (tlb->nmsgs >= IVHOST_DEVTLB_MAX_MSGS)
		goto dropped;
	m = kzalloc(sizeof(*m), GFP_NOWAIT | __GFP_ACCOUNT);
	if (!m)
		goto dropped;
	m->vq = vq;
	m->msg.type = type;
	m->msg.iova = iova;
	m->msg.perm = perm;
	list_add_tail(&m->node, &tlb->msgs);
	tlb->nmsgs++;
	wake_up_interruptible_poll(&tlb->wait, EPOLLIN | EPOLLRDNORM);
	return true;

dropped:
	tlb->stats.msgs_dropped++;
	return false;
}

/* Remember a new miss, forgetting the oldest one if there are too many. */
static struct ivhost_devtlb_miss *
ivhost_devtlb_new_miss(struct ivhost_devtlb *tlb, u64 granule, u8 perm)
	__must_hold(&tlb->lock)
{
	struct ivhost_devtlb_miss *miss;

	lockdep_assert_held(&tlb->lock);
	if (tlb->nmisses >= IVHOST_DEVTLB_MAX_MISSES) {
		miss = list_first_entry(&tlb->misses,
					struct ivhost_devtlb_miss, node);
		/* Its waiters ask again once read() makes room. */
		tlb->retry_vqs |= miss->vqs;
		ivhost_devtlb_free_miss(tlb, miss);
	}
	miss = kzalloc(sizeof(*miss), GFP_NOWAIT | __GFP_ACCOUNT);
	if (!miss) {
		tlb->stats.msgs_dropped++;
		return NULL;
	}
	miss->granule = granule;
	miss->perm = perm;
	miss->queued_ns = ktime_get_ns();
	list_add_tail(&miss->node, &tlb->misses);
	tlb->nmisses++;
	return miss;
}

/* Is the MISS reporting @miss still in the queue, not yet taken? */
static bool ivhost_devtlb_miss_queued(struct ivhost_devtlb *tlb,
				      const struct ivhost_devtlb_miss *miss)
	__must_hold(&tlb->lock)
{
	struct ivhost_devtlb_msg *m;

	lockdep_assert_held(&tlb->lock);
	list_for_each_entry(m, &tlb->msgs, node)
		if (m->msg.type == VHOST_IOTLB_MISS &&
		    m->msg.iova >> IVHOST_DEVTLB_MISS_SHIFT == miss->granule &&
		    m->msg.perm == miss->perm)
			return true;
	return false;
}

/*
 * A miss the VMM read a while ago and never answered (QEMU drops a MISS
 * it cannot translate, for one): the next vq that meets it asks again,
 * rather than wait for an answer that will not come.
 */
static bool ivhost_devtlb_miss_stale(struct ivhost_devtlb *tlb,
				     const struct ivhost_devtlb_miss *miss)
	__must_hold(&tlb->lock)
{
	lockdep_assert_held(&tlb->lock);
	if (ktime_get_ns() - miss->queued_ns < IVHOST_DEVTLB_MISS_TTL_NS)
		return false;
	return !ivhost_devtlb_miss_queued(tlb, miss);
}

static void ivhost_devtlb_miss(struct ivhost_devtlb *tlb, unsigned int vq,
			       u64 iova, u8 perm)
	__must_hold(&tlb->lock)
{
	u64 granule = iova >> IVHOST_DEVTLB_MISS_SHIFT;
	struct ivhost_devtlb_miss *miss;
	unsigned long waiters = BIT(vq);

	lockdep_assert_held(&tlb->lock);
	tlb->stats.misses++;
	miss = ivhost_devtlb_find_miss(tlb, granule, perm);
	if (miss && !ivhost_devtlb_miss_stale(tlb, miss)) {
		tlb->stats.misses_deduped++;
		miss->vqs |= waiters;
		return;
	}
	if (miss) {
		/* Asked again below, for every vq waiting. */
		waiters |= miss->vqs;
		ivhost_devtlb_free_miss(tlb, miss);
	}
	if (tlb->nmsgs >= IVHOST_DEVTLB_MAX_MSGS) {
		/* Not at the cost of forgetting an outstanding miss. */
		tlb->stats.msgs_dropped++;
		tlb->retry_vqs |= waiters;
		return;
	}
	miss = ivhost_devtlb_new_miss(tlb, granule, perm);
	if (!miss || !ivhost_devtlb_queue(tlb, vq, VHOST_IOTLB_MISS, iova,
					  perm)) {
		/* No memory: ask again a little later. */
		if (miss)
			ivhost_devtlb_free_miss(tlb, miss);
		tlb->retry_vqs |= waiters;
		mod_delayed_work(system_wq, &tlb->retry,
				 msecs_to_jiffies(IVHOST_DEVTLB_RETRY_MS));
		return;
	}
	miss->vqs = waiters;
	tlb->stats.miss_msgs++;
	trace_ivhost_iotlb_miss(tlb->cache.id, vq, iova, perm);
}

static void ivhost_devtlb_rtt(struct ivhost_devtlb *tlb, u64 queued_ns)
	__must_hold(&tlb->lock)
{
	u64 ns = ktime_get_ns() - queued_ns;
	u64 us = div_u64(ns, NSEC_PER_USEC);
	unsigned int b = us > 1 ? ilog2(us) : 0;

	lockdep_assert_held(&tlb->lock);
	tlb->stats.miss_wait_ns += ns;
	tlb->stats.rtt_us[min_t(unsigned int, b, IVHOST_RTT_BUCKETS - 1)]++;
}

/**
 * ivhost_devtlb_answered() - settle the misses a new mapping answers
 * @tlb: the IOTLB
 * @start: first IOVA of the mapping
 * @last: last IOVA of the mapping
 * @perm: the access it grants
 *
 * Context: under &tlb->lock.
 * Return: the vqs that waited for one of the misses, a bit per index.
 */
unsigned long ivhost_devtlb_answered(struct ivhost_devtlb *tlb, u64 start,
				     u64 last, u8 perm)
	__must_hold(&tlb->lock)
{
	u64 first = start >> IVHOST_DEVTLB_MISS_SHIFT;
	u64 final = last >> IVHOST_DEVTLB_MISS_SHIFT;
	struct ivhost_devtlb_miss *miss, *tmp;
	unsigned long vqs = 0;

	lockdep_assert_held(&tlb->lock);
	list_for_each_entry_safe(miss, tmp, &tlb->misses, node) {
		if (miss->granule < first || miss->granule > final)
			continue;
		/* Wake even if @perm falls short: the vq then reports it. */
		vqs |= miss->vqs;
		ivhost_devtlb_rtt(tlb, miss->queued_ns);
		ivhost_devtlb_free_miss(tlb, miss);
	}
	return vqs;
}

/**
 * ivhost_devtlb_lost() - a queued message will never reach the VMM
 * @tlb: the IOTLB
 * @msg: the message, no longer queued
 *
 * For a MISS, forgets the miss it reported, so that the vqs waiting for
 * it ask again instead of joining a miss nobody will answer.
 *
 * Context: under &tlb->lock.
 * Return: the vqs that waited for it, a bit per index, for the caller to
 * wake.
 */
unsigned long ivhost_devtlb_lost(struct ivhost_devtlb *tlb,
				 const struct vhost_iotlb_msg *msg)
	__must_hold(&tlb->lock)
{
	struct ivhost_devtlb_miss *miss;
	unsigned long vqs;

	lockdep_assert_held(&tlb->lock);
	if (msg->type != VHOST_IOTLB_MISS)
		return 0;
	miss = ivhost_devtlb_find_miss(tlb, msg->iova >>
				       IVHOST_DEVTLB_MISS_SHIFT, msg->perm);
	if (!miss)
		return 0;
	vqs = miss->vqs;
	ivhost_devtlb_free_miss(tlb, miss);
	return vqs;
}

/**
 * ivhost_devtlb_forget_sent() - forget the misses already handed over
 * @tlb: the IOTLB
 *
 * For a transport whose channel to the VMM was replaced: a MISS taken off
 * the queue went out on the old channel, and may never be answered.  The
 * misses it reported are forgotten, so that their vqs ask again (on the
 * new channel) rather than wait for them; the misses whose MISS is still
 * queued are kept, and go out on the new channel.
 *
 * Context: any; takes &tlb->lock.
 * Return: the vqs that waited for a forgotten miss, a bit per index, for
 * the caller to wake.
 */
unsigned long ivhost_devtlb_forget_sent(struct ivhost_devtlb *tlb)
{
	struct ivhost_devtlb_miss *miss, *tmp;
	unsigned long vqs = 0;

	spin_lock(&tlb->lock);
	list_for_each_entry_safe(miss, tmp, &tlb->misses, node) {
		if (ivhost_devtlb_miss_queued(tlb, miss))
			continue;
		vqs |= miss->vqs;
		ivhost_devtlb_free_miss(tlb, miss);
	}
	spin_unlock(&tlb->lock);
	return vqs;
}
EXPORT_SYMBOL_IF_IVHOST_KUNIT(ivhost_devtlb_forget_sent);

/* How many bytes from @iova on @e covers, capped at @len (>= 1). */
static u64 ivhost_devtlb_span(const struct ivhost_iotlb_entry *e, u64 iova,
			      u64 len)
{
	u64 left = e->last - iova;	/* bytes after iova, may be 2^64 - 1 */

	return left >= len - 1 ? len : left + 1;
}

static int ivhost_devtlb_add_seg(struct iovec *iov, unsigned int *n,
				 unsigned int max, u64 uaddr, u64 len)
{
	struct iovec *prev = *n ? &iov[*n - 1] : NULL;

	if (prev && (u64)(uintptr_t)prev->iov_base + prev->iov_len == uaddr) {
		prev->iov_len += len;
		return 0;
	}
	if (*n >= max)
		return -ENOBUFS;
	iov[*n].iov_base = (void __user *)(uintptr_t)uaddr;
	iov[*n].iov_len = len;
	(*n)++;
	return 0;
}

/*
 * Charge the frame for stepping into @e, unless it did lately.  Counts
 * distinct entries exactly while at most IVHOST_DEVTLB_SEEN alternate,
 * and never fewer.  False when the budget is spent.
 */
static bool ivhost_devtlb_charge(struct ivhost_devtlb_vq *q,
				 const struct ivhost_iotlb_entry *e)
{
	unsigned int i, n = min_t(unsigned int, q->nseen, IVHOST_DEVTLB_SEEN);

	for (i = 0; i < n; i++)
		if (q->seen[i] == e->start)
			return true;
	if (!q->budget)
		return false;
	q->budget--;
	q->seen[q->nseen++ % IVHOST_DEVTLB_SEEN] = e->start;
	return true;
}

/* Keep the entry a translation ended in as the vq's own copy. */
static void ivhost_devtlb_keep_span(struct ivhost_devtlb_span *span,
				    const struct ivhost_iotlb_entry *e)
{
	span->start = e->start;
	span->last = e->last;
	span->uaddr = e->uaddr;
	span->perm = e->perm;
}

/**
 * ivhost_devtlb_translate() - map an IOVA range onto userspace segments
 * @tlb: the IOTLB
 * @vq: index of the vq asking, for the miss it may wait on
 * @iova: first address
 * @len: bytes, 0 yields no segment
 * @perm: IVHOST_PERM_RO for reads, IVHOST_PERM_WO for writes
 * @iov: where to put the segments
 * @max: capacity of @iov
 * @q: if not NULL, the vq's own state: each entry the range steps into
 *	takes one from &q->budget (not again while it is among the last
 *	few the frame stepped into), and on success &q->span gets the last
 *	entry used
 *
 * On a gap, queues a MISS for the first missing byte (or joins one
 * outstanding), and the vq is woken when an UPDATE answers it.  On an
 * entry without the permission, queues an ACCESS_FAIL.
 *
 * Context: any; takes &tlb->lock.
 * Return: the number of segments; -EAGAIN on a miss, -EACCES on a
 * permission failure, -EFAULT if the range wraps past 2^64, -ENOBUFS if
 * it needs more than @max segments, or -ENOSPC if it needs more entries
 * than &q->budget has left.
 */
int ivhost_devtlb_translate(struct ivhost_devtlb *tlb, unsigned int vq,
			    u64 iova, u64 len, u8 perm, struct iovec *iov,
			    unsigned int max, struct ivhost_devtlb_vq *q)
{
	struct ivhost_iotlb_entry *e = NULL;
	unsigned int n = 0;
	u64 last, span;
	int err = 0;

	if (!len)
		return 0;
	if (check_add_overflow(iova, len - 1, &last))
		return -EFAULT;
	spin_lock(&tlb->lock);
	while (len) {
		e = ivhost_iotlb_lookup(&tlb->cache, iova);
		if (!e) {
			ivhost_devtlb_miss(tlb, vq, iova, perm);
			err = -EAGAIN;
			break;
		}
		if ((e->perm & perm) != perm) {
			tlb->stats.access_fails++;
			ivhost_devtlb_queue(tlb, vq, VHOST_IOTLB_ACCESS_FAIL,
					    iova, perm);
			err = -EACCES;
			break;
		}
		if (q && !ivhost_devtlb_charge(q, e)) {
			err = -ENOSPC;
			break;
		}
		tlb->stats.hits++;
		span = ivhost_devtlb_span(e, iova, len);
		err = ivhost_devtlb_add_seg(iov, &n, max,
					    e->uaddr + (iova - e->start), span);
		if (err)
			break;
		len -= span;
		iova += span;	/* wraps only when len is 0 */
	}
	if (!err && q && e)
		ivhost_devtlb_keep_span(&q->span, e);
	spin_unlock(&tlb->lock);
	return err ? err : n;
}
EXPORT_SYMBOL_IF_IVHOST_KUNIT(ivhost_devtlb_translate);

/**
 * ivhost_devtlb_ask() - ask ahead for a range a vq will need
 * @tlb: the IOTLB
 * @vq: index of the vq that will need it
 * @iova: first address
 * @len: bytes
 * @perm: the access it will need
 *
 * Queues a MISS for the first missing byte of the range, as a
 * translation would, but reports nothing else: a range the mapping does
 * not allow is reported (ACCESS_FAIL) only when the vq really accesses
 * it, and stops the vq then.  Looks at IVHOST_DEVTLB_ASK_STEPS entries
 * at most.
 *
 * Context: any; takes &tlb->lock.
 */
void ivhost_devtlb_ask(struct ivhost_devtlb *tlb, unsigned int vq, u64 iova,
		       u64 len, u8 perm)
{
	struct ivhost_iotlb_entry *e;
	unsigned int steps;
	u64 last;

	if (!len || check_add_overflow(iova, len - 1, &last))
		return;
	spin_lock(&tlb->lock);
	for (steps = 0; steps < IVHOST_DEVTLB_ASK_STEPS; steps++) {
		e = ivhost_iotlb_lookup(&tlb->cache, iova);
		if (!e) {
			ivhost_devtlb_miss(tlb, vq, iova, perm);
			break;
		}
		if ((e->perm & perm) != perm || e->last >= last)
			break;
		iova = e->last + 1;
	}
	spin_unlock(&tlb->lock);
}
EXPORT_SYMBOL_IF_IVHOST_KUNIT(ivhost_devtlb_ask);

/**
 * ivhost_devtlb_touch() - count the entries a vq keeps using as used
 * @tlb: the IOTLB
 * @r: the IOVA ranges the vq uses without looking them up (its rings,
 *	its last translation)
 * @n: entries in @r
 *
 * Only matters once the cache is full, when eviction starts: until then
 * nothing is done.
 *
 * Context: any; takes &tlb->lock.
 */
void ivhost_devtlb_touch(struct ivhost_devtlb *tlb,
			 const struct ivhost_devtlb_range *r, unsigned int n)
{
	unsigned int i;

	spin_lock(&tlb->lock);
	if (tlb->cache.nentries >= tlb->cache.limit)
		for (i = 0; i < n; i++)
			ivhost_iotlb_touch(&tlb->cache, r[i].start, r[i].last);
	spin_unlock(&tlb->lock);
}

/**
 * ivhost_devtlb_get_stats() - snapshot the counters
 * @tlb: the IOTLB
 * @st: where to put them
 *
 * Context: any; takes &tlb->lock.
 */
void ivhost_devtlb_get_stats(struct ivhost_devtlb *tlb,
			     struct ivhost_iotlb_stats *st)
{
	spin_lock(&tlb->lock);
	*st = tlb->stats;
	st->evictions = tlb->cache.evictions;
	st->entries = tlb->cache.nentries;
	st->msgs_queued = tlb->nmsgs;
	spin_unlock(&tlb->lock);
}
EXPORT_SYMBOL_IF_IVHOST_KUNIT(ivhost_devtlb_get_stats);
