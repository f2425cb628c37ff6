// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: the IOTLB messages of the device fd,
 * drivers/vhost/devtlb_msg.c (with iotlb.c under it), built unmodified
 * against the userspace shims.
 *
 * Input: a cache limit, then operations: write() of a message (v1 or v2
 * outer type, any asid, any inner type, boundary iova/size/uaddr/perm,
 * short or long byte counts, split across up to four iovecs, a fault
 * part-way, a failing allocation, with or without
 * VHOST_BACKEND_F_IOTLB_BATCH), read() of queued MISS/ACCESS_FAIL
 * messages (v1 or v2, short buffers, faults, blocking or not), poll()
 * and batch cancellation.
 *
 * The oracle is written from the documented rules (README's write()
 * errno table, /work/shared/reference/vhost-abi.md): the return value of
 * every call; that nothing is applied unless the whole message is valid;
 * the cache contents after each call (the reference model of
 * tlb_model.h, including eviction and the entry pool); that batched
 * changes wait for BATCH_END and are then applied in order; the barrier
 * (sync) range and the wake-up mask each call leaves behind; the
 * counters; and the exact bytes read() returns (all zero but type, iova
 * and perm).
 */
#include "fuzz_common.h"
#include "tlb_model.h"

#include <errno.h>
#include <linux/poll.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/uio.h>

#include "devtlb.h"

unsigned int fuzz_alloc_fail;

#define MSG_SIZE	72U
#define MAX_BATCH	4096U
#define MAX_QUEUED	64U

/* What the device callbacks and ivhost_devtlb_answered() saw. */
static struct {
	unsigned int syncs;
	u64 sync_start;
	u64 sync_last;
	unsigned int wakes;
	unsigned long wake_mask;
	unsigned long answered_mask;
	unsigned int lost;
	u8 lost_type;
} seen;

/* Stands in for devtlb.c's: vqs waiting on a miss in [start, last]. */
static unsigned long answer_mask(u64 start, u64 last, u8 perm)
{
	return 1UL << ((start ^ last ^ perm) % 7);
}

unsigned long ivhost_devtlb_answered(struct ivhost_devtlb *tlb, u64 start,
				     u64 last, u8 perm)
{
	FUZZ_CHECK(tlb->lock.held, "answered() without the lock");
	seen.answered_mask |= answer_mask(start, last, perm);
	return answer_mask(start, last, perm);
}

/* Stands in for devtlb.c's: a read() that failed drops its message. */
unsigned long ivhost_devtlb_lost(struct ivhost_devtlb *tlb,
				 const struct vhost_iotlb_msg *msg)
{
	FUZZ_CHECK(tlb->lock.held, "lost() without the lock");
	seen.lost++;
	seen.lost_type = msg->type;
	return 0;
}

static void cb_wake(struct ivhost_devtlb *tlb, unsigned long vqs)
{
	FUZZ_CHECK(!tlb->lock.held, "wake with the lock held");
	seen.wakes++;
	seen.wake_mask |= vqs;
}

static void cb_sync(struct ivhost_devtlb *tlb, u64 start, u64 last)
{
	FUZZ_CHECK(!tlb->lock.held, "sync with the lock held");
	seen.syncs++;
	seen.sync_start = start;
	seen.sync_last = last;
}

static const struct ivhost_devtlb_ops cb_ops = {
	.wake = cb_wake,
	.sync = cb_sync,
};

struct model_op {
	bool update;
	u64 start;
	u64 last;
	u64 uaddr;
	u8 perm;
};

/* What one call should leave behind, besides the cache. */
struct model_fx {
	bool barrier;
	u64 start;
	u64 last;
	unsigned long wake;
};

struct model_msg {
	u8 type;
	u64 iova;
	u8 perm;
};

/**
 * struct model_dev - the reference device state
 * @tlb: the cache
 * @batching: between BATCH_BEGIN and BATCH_END
 * @batch: changes kept for BATCH_END
 * @nbatch: entries in @batch
 * @updates: UPDATEs applied
 * @invalidations: INVALIDATEs applied
 * @q: messages waiting for read(), oldest first
 * @nq: entries in @q
 * @retry: vqs to wake at the next read()
 */
struct model_dev {
	struct model_tlb tlb;
	bool batching;
	struct model_op *batch;
	u32 nbatch;
	u64 updates;
	u64 invalidations;
	struct model_msg q[MAX_QUEUED];
	u32 nq;
	unsigned long retry;
};

static void fx_widen(struct model_fx *fx, u64 start, u64 last)
{
	if (!fx->barrier || start < fx->start)
		fx->start = start;
	if (!fx->barrier || last > fx->last)
		fx->last = last;
	fx->barrier = true;
}

static void model_apply(struct model_dev *md, const struct model_op *op,
			struct model_fx *fx)
{
	md->tlb.ev_any = false;
	if (!op->update) {
		model_invalidate(&md->tlb, op->start, op->last);
		md->invalidations++;
		fx_widen(fx, op->start, op->last);
	} else {
		if (model_update(&md->tlb, op->start, op->last, op->uaddr,
				 op->perm))
			fx_widen(fx, op->start, op->last);
		md->updates++;
		fx->wake |= answer_mask(op->start, op->last, op->perm);
	}
	/* Whatever was evicted, on either path, is covered too. */
	if (md->tlb.ev_any)
		fx_widen(fx, md->tlb.ev_first, md->tlb.ev_last);
}

static u64 get64(const u8 *p)
{
	u64 v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static u32 get32(const u8 *p)
{
	u32 v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/* The rules of a change, from the errno table.  0 or -errno. */
static int model_check(const u8 *iotlb, struct model_op *op)
{
	u64 iova = get64(iotlb), size = get64(iotlb + 8);
	u64 uaddr = get64(iotlb + 16);
	u8 perm = iotlb[24];

	op->update = iotlb[25] == VHOST_IOTLB_UPDATE;
	op->uaddr = uaddr;
	op->perm = perm;
	op->start = iova;
	op->last = iova + size - 1;
	if (op->update) {
		if (perm < 1 || perm > 3 || !size)
			return -EINVAL;
		if (iova + (size - 1) < iova || uaddr + (size - 1) < uaddr)
			return -EINVAL;
		if (size > FUZZ_TASK_SIZE_MAX ||
		    uaddr > FUZZ_TASK_SIZE_MAX - size)
			return -EFAULT;
		return 0;
	}
	if (!iova && !size) {
		op->last = U64_MAX;
		return 0;
	}
	if (!size || iova + (size - 1) < iova)
		return -EINVAL;
	return 0;
}

/*
 * Expected result of a write of @count bytes (@buf holds what the VMM
 * wrote, zero-padded) of which @readable can be copied.  Updates @md and
 * @fx as the device should.  @inject: an allocation will fail.
 */
static long model_write(struct model_dev *md, const u8 *buf, size_t count,
			size_t readable, bool batch_feat, unsigned int inject,
			struct model_fx *fx)
{
	size_t n = count < MSG_SIZE ? count : MSG_SIZE;
	const u8 *iotlb = buf + 8;
	unsigned int need, held, allocs;
	struct model_op op;
	u8 seenbuf[MSG_SIZE] = {};
	u32 outer;
	int err;

	if (readable < n)
		return -EFAULT;
	memcpy(seenbuf, buf, n);
	outer = get32(seenbuf);
	if (outer != VHOST_IOTLB_MSG && outer != VHOST_IOTLB_MSG_V2)
		return -EINVAL;
	if (outer == VHOST_IOTLB_MSG_V2 && get32(seenbuf + 4))
		return -EINVAL;
	if (count < MSG_SIZE)
		return -EINVAL;
	switch (iotlb[25]) {
	case VHOST_IOTLB_UPDATE:
	case VHOST_IOTLB_INVALIDATE:
		break;
	case VHOST_IOTLB_BATCH_BEGIN:
		if (!batch_feat)
			return -EINVAL;
		md->batching = true;
		return MSG_SIZE;
	case VHOST_IOTLB_BATCH_END:
		if (!batch_feat)
			return -EINVAL;
		for (held = 0; held < md->nbatch; held++)
			model_apply(md, &md->batch[held], fx);
		md->nbatch = 0;
		md->batching = false;
		return MSG_SIZE;
	default:
		return -EINVAL;
	}
	err = model_check(iotlb, &op);
	if (err)
		return err;
	if (md->batching) {
		/* The op and its two spares are allocated first. */
		if (inject)
			return -ENOMEM;
		if (md->nbatch >= MAX_BATCH)
			return -ENOSPC;
		md->batch[md->nbatch++] = op;
		return MSG_SIZE;
	}
	need = model_needed(&md->tlb, op.update, op.start, op.last);
	if (md->tlb.npool >= need) {
		md->tlb.npool -= need;
		model_apply(md, &op, fx);
		return MSG_SIZE;
	}
	/* The pool gives what it has; the rest is allocated. */
	held = md->tlb.npool;
	md->tlb.npool = 0;
	allocs = 2 - held;
	if (inject && inject <= allocs)
		return -ENOMEM;
	model_apply(md, &op, fx);
	for (; need < 2; need++)
		model_recycle(&md->tlb);
	return MSG_SIZE;
}

static void check_tlb(struct ivhost_devtlb *tlb, struct model_dev *md)
{
	struct model_tlb *m = &md->tlb;
	struct ivhost_iotlb_entry *e;
	struct rb_node *nd;
	u32 i = 0;

	FUZZ_CHECK(!tlb->lock.held, "lock left held");
	FUZZ_CHECK(tlb->cache.nentries == m->n, "nentries %u, model %u",
		   tlb->cache.nentries, m->n);
	FUZZ_CHECK(tlb->cache.npool == m->npool, "npool %u, model %u",
		   tlb->cache.npool, m->npool);
	FUZZ_CHECK(tlb->cache.evictions == m->evictions, "evictions");
	for (nd = rb_first(&tlb->cache.root.rb_root); nd; nd = rb_next(nd)) {
		e = rb_entry(nd, struct ivhost_iotlb_entry, rb);
		FUZZ_CHECK(i < m->n && e->start == m->e[i].start &&
			   e->last == m->e[i].last &&
			   e->uaddr == m->e[i].uaddr &&
			   e->perm == m->e[i].perm,
			   "entry %u [%llx, %llx] differs from the model", i,
			   e->start, e->last);
		i++;
	}
	FUZZ_CHECK(tlb->batching == md->batching, "batching %d, model %d",
		   tlb->batching, md->batching);
	FUZZ_CHECK(tlb->nbatch == md->nbatch, "nbatch %u, model %u",
		   tlb->nbatch, md->nbatch);
	FUZZ_CHECK(tlb->stats.updates == md->updates &&
		   tlb->stats.invalidations == md->invalidations,
		   "counters %llu/%llu, model %llu/%llu", tlb->stats.updates,
		   tlb->stats.invalidations, md->updates, md->invalidations);
	FUZZ_CHECK(tlb->nmsgs == md->nq, "nmsgs %u, model %u", tlb->nmsgs,
		   md->nq);
}

static void check_fx(const struct model_fx *fx)
{
	FUZZ_CHECK(seen.syncs == fx->barrier, "%u syncs, want %d", seen.syncs,
		   fx->barrier);
	if (fx->barrier)
		FUZZ_CHECK(seen.sync_start == fx->start &&
			   seen.sync_last == fx->last,
			   "sync [%llx, %llx], want [%llx, %llx]",
			   seen.sync_start, seen.sync_last, fx->start,
			   fx->last);
	FUZZ_CHECK(seen.wakes == !!fx->wake && seen.wake_mask == fx->wake,
		   "%u wakes of %lx, want %lx", seen.wakes, seen.wake_mask,
		   fx->wake);
	memset(&seen, 0, sizeof(seen));
}

/* A value for uaddr: also at the edge of the user address space. */
static u64 get_uaddr(struct fuzz_in *in, u64 size)
{
	if ((fuzz_u8(in) & 3) == 3)
		return FUZZ_TASK_SIZE_MAX - size + (s8)fuzz_u8(in) % 3;
	return fuzz_val(in, FUZZ_TASK_SIZE_MAX);
}

/* Split @count bytes into up to four iovecs; return how many. */
static unsigned long split(struct fuzz_in *in, u8 *buf, size_t count,
			   struct iovec *iov)
{
	unsigned long k, nseg = 1 + fuzz_u8(in) % 4;
	size_t off = 0, len;

	for (k = 0; k < nseg; k++) {
		len = k == nseg - 1 ? count - off : fuzz_u8(in) % (count - off + 1);
		iov[k].iov_base = buf + off;
		iov[k].iov_len = len;
		off += len;
	}
	return nseg;
}

static void op_write(struct fuzz_in *in, struct ivhost_devtlb *tlb,
		     struct model_dev *md)
{
	u8 buf[MSG_SIZE + 16], *iotlb = buf + 8;
	struct model_fx fx = {};
	struct iov_iter it;
	struct iovec iov[4];
	u8 sel = fuzz_u8(in), sel2 = fuzz_u8(in);
	size_t count = MSG_SIZE, fault = SIZE_MAX;
	bool batch_feat = sel & 0x80;
	unsigned long wake = 0;
	unsigned int inject = 0;
	long want, got;
	u64 size;

	memset(buf, 0, sizeof(buf));
	if (sel2 & 0x80)	/* garbage in the padding: must not matter */
		memset(buf, fuzz_u8(in), sizeof(buf));
	switch (sel & 7) {
	case 0:
		memcpy(buf, &(u32){ fuzz_u32(in) }, 4);
		break;
	case 1: case 2: case 3:
		memcpy(buf, &(u32){ VHOST_IOTLB_MSG }, 4);
		break;
	default:
		memcpy(buf, &(u32){ VHOST_IOTLB_MSG_V2 }, 4);
		memcpy(buf + 4, &(u32){ sel2 & 0x40 ? fuzz_u32(in) : 0 }, 4);
		break;
	}
	switch ((sel >> 3) & 7) {
	case 0:
		iotlb[25] = fuzz_u8(in);
		break;
	case 1:
		iotlb[25] = VHOST_IOTLB_BATCH_BEGIN + fuzz_u8(in) % 2;
		break;
	case 2: case 3:
		iotlb[25] = VHOST_IOTLB_INVALIDATE;
		break;
	default:
		iotlb[25] = VHOST_IOTLB_UPDATE;
		break;
	}
	memcpy(iotlb, &(u64){ fuzz_val(in, model_edge(&md->tlb, fuzz_u8(in))) },
	       8);
	size = fuzz_val(in, 0);
	memcpy(iotlb + 8, &size, 8);
	memcpy(iotlb + 16, &(u64){ get_uaddr(in, size) }, 8);
	iotlb[24] = sel2 & 0x20 ? fuzz_u8(in) : 1 + (sel2 & 0x1f) % 3;

	if (sel2 & 0x10)
		count = fuzz_u8(in) % (MSG_SIZE + 16 + 1);
	if ((sel2 & 0xc) == 0xc)
		fault = fuzz_u8(in) % (MSG_SIZE + 1);
	if ((sel2 & 3) == 3)
		inject = 1 + fuzz_u8(in) % 3;

	fuzz_iov_iter_init(&it, iov, split(in, buf, count, iov));
	it.fault_at = fault;
	fuzz_alloc_fail = inject;
	got = ivhost_devtlb_write(tlb, &it, batch_feat ?
				  BIT_ULL(VHOST_BACKEND_F_IOTLB_BATCH) : 0,
				  &wake);
	/* The device wakes what write() hands back. */
	if (wake)
		cb_wake(tlb, wake);
	fuzz_alloc_fail = 0;
	want = model_write(md, buf, count, fault, batch_feat, inject, &fx);
	FUZZ_CHECK(got == want,
		   "write of %zu bytes (outer %u asid %u type %u iova %llx size %llx uaddr %llx perm %u, fault at %zd, alloc %u fails, batch %d/%d) = %ld, want %ld",
		   count,
		   get32(buf), get32(buf + 4), iotlb[25], get64(iotlb),
		   get64(iotlb + 8), get64(iotlb + 16), iotlb[24],
		   (ssize_t)fault, inject, batch_feat, md->batching, got,
		   want);
	check_fx(&fx);
	check_tlb(tlb, md);
}

/* Queue a message the way devtlb.c does: zeroed, then type, iova, perm. */
static void op_queue(struct fuzz_in *in, struct ivhost_devtlb *tlb,
		     struct model_dev *md)
{
	struct ivhost_devtlb_msg *m;
	struct model_msg mm;

	if (md->nq == MAX_QUEUED)
		return;
	mm.type = fuzz_u8(in) & 1 ? VHOST_IOTLB_MISS : VHOST_IOTLB_ACCESS_FAIL;
	mm.iova = fuzz_val(in, 0);
	mm.perm = 1 + fuzz_u8(in) % 3;
	m = kzalloc(sizeof(*m), GFP_KERNEL);
	m->msg.type = mm.type;
	m->msg.iova = mm.iova;
	m->msg.perm = mm.perm;
	list_add_tail(&m->node, &tlb->msgs);
	tlb->nmsgs++;
	md->q[md->nq++] = mm;
	if (fuzz_u8(in) & 1) {
		unsigned long r = 1UL << (fuzz_u8(in) % 8);

		tlb->retry_vqs |= r;
		md->retry |= r;
	}
}

static void op_read(struct fuzz_in *in, struct ivhost_devtlb *tlb,
		    struct model_dev *md)
{
	u8 out[MSG_SIZE + 16], want_buf[MSG_SIZE] = {};
	u8 sel = fuzz_u8(in);
	bool v2 = sel & 1, nonblock = !(sel & 2);
	size_t count = MSG_SIZE + 16, fault = SIZE_MAX, i;
	unsigned long wake = 0;
	struct model_fx fx = {};
	struct iov_iter it;
	struct iovec iov[4];
	long want, got;
	unsigned long retry;

	if (sel & 4)
		count = fuzz_u8(in) % (MSG_SIZE + 17);
	if ((sel & 0x18) == 0x18)
		fault = fuzz_u8(in) % MSG_SIZE;
	memset(out, 0xa5, sizeof(out));
	fuzz_iov_iter_init(&it, iov, split(in, out, count, iov));
	it.fault_at = fault;
	got = ivhost_devtlb_read(tlb, &it, nonblock, v2, &wake);
	if (wake)
		cb_wake(tlb, wake);

	if (count < MSG_SIZE)
		want = -EINVAL;
	else if (!md->nq)
		want = nonblock ? -EAGAIN : -ERESTARTSYS;
	else if (fault < MSG_SIZE)
		want = -EFAULT;	/* and the message is dropped */
	else
		want = MSG_SIZE;
	FUZZ_CHECK(got == want,
		   "read of %zu (v2 %d, nonblock %d, fault %zd, %u queued) = %ld, want %ld",
		   count, v2, nonblock,
		   (ssize_t)fault, md->nq, got, want);
	if (got == MSG_SIZE) {
		memcpy(want_buf, &(u32){ v2 ? VHOST_IOTLB_MSG_V2 :
					 VHOST_IOTLB_MSG }, 4);
		memcpy(want_buf + 8, &md->q[0].iova, 8);
		want_buf[8 + 24] = md->q[0].perm;
		want_buf[8 + 25] = md->q[0].type;
		for (i = 0; i < MSG_SIZE; i++)
			FUZZ_CHECK(out[i] == want_buf[i],
				   "byte %zu read %02x, want %02x", i, out[i],
				   want_buf[i]);
		for (; i < sizeof(out); i++)
			FUZZ_CHECK(out[i] == 0xa5, "wrote past the message");
	}
	FUZZ_CHECK(seen.lost == (got == -EFAULT), "%u lost on read = %ld",
		   seen.lost, got);
	if (got == -EFAULT)
		FUZZ_CHECK(seen.lost_type == md->q[0].type,
			   "lost type %u, want %u", seen.lost_type,
			   md->q[0].type);
	if (got == MSG_SIZE || got == -EFAULT) {
		/* Taken either way: a failed copy drops it (README). */
		memmove(md->q, md->q + 1, --md->nq * sizeof(md->q[0]));
		retry = md->retry;
		md->retry = 0;
		fx.wake = retry;
	}
	check_fx(&fx);
	FUZZ_CHECK(tlb->retry_vqs == md->retry, "retry %lx, model %lx",
		   tlb->retry_vqs, md->retry);
	check_tlb(tlb, md);
}

static void op_poll(struct ivhost_devtlb *tlb, struct model_dev *md)
{
	__poll_t want = EPOLLOUT | EPOLLWRNORM;
	poll_table pt = {};

	if (md->nq)
		want |= EPOLLIN | EPOLLRDNORM;
	FUZZ_CHECK(ivhost_devtlb_poll(tlb, NULL, &pt) == want, "poll");
}

/* Fill a batch past its limit with one valid INVALIDATE. */
static void op_fill_batch(struct ivhost_devtlb *tlb, struct model_dev *md)
{
	u8 buf[MSG_SIZE] = {};
	struct model_fx fx = {};
	struct iov_iter it;
	struct iovec iov = { buf, MSG_SIZE };
	unsigned long wake;
	unsigned int i;
	long got, want;

	if (!md->batching)
		return;
	memcpy(buf, &(u32){ VHOST_IOTLB_MSG_V2 }, 4);
	buf[8 + 25] = VHOST_IOTLB_INVALIDATE;
	buf[8 + 8] = 1;		/* size 1 at iova 0 */
	for (i = md->nbatch; i <= MAX_BATCH; i++) {
		fuzz_iov_iter_init(&it, &iov, 1);
		wake = 0;
		got = ivhost_devtlb_write(tlb, &it,
					  BIT_ULL(VHOST_BACKEND_F_IOTLB_BATCH),
					  &wake);
		if (wake)
			cb_wake(tlb, wake);
		want = model_write(md, buf, MSG_SIZE, SIZE_MAX, true, 0, &fx);
		FUZZ_CHECK(got == want, "batch write %u = %ld, want %ld", i,
			   got, want);
	}
	FUZZ_CHECK(got == -ENOSPC, "batch of %u took more", MAX_BATCH);
	check_fx(&fx);
	check_tlb(tlb, md);
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	static struct model_op batch[MAX_BATCH];
	struct fuzz_in in = { .p = data, .left = size };
	struct ivhost_devtlb_msg *m, *tmp;
	struct ivhost_devtlb tlb;
	struct model_dev md;
	unsigned int ops = 0;
	u8 lim = fuzz_u8(&in);
	u32 limit = lim & 0x80 ? 2048 : 1 + (lim & 0xf);

	memset(&tlb, 0, sizeof(tlb));
	spin_lock_init(&tlb.lock);
	ivhost_iotlb_init(&tlb.cache, limit);
	INIT_LIST_HEAD(&tlb.msgs);
	INIT_LIST_HEAD(&tlb.misses);
	INIT_LIST_HEAD(&tlb.batch);
	init_waitqueue_head(&tlb.wait);
	tlb.ops = &cb_ops;
	memset(&md, 0, sizeof(md));
	model_init(&md.tlb, limit);
	md.batch = batch;
	memset(&seen, 0, sizeof(seen));

	while (in.left && ops++ < 256) {
		u8 op = fuzz_u8(&in);

		switch (op % 16) {
		case 0 ... 9:
			op_write(&in, &tlb, &md);
			break;
		case 10:
		case 11:
			op_queue(&in, &tlb, &md);
			break;
		case 12:
		case 13:
			op_read(&in, &tlb, &md);
			break;
		case 14:
			op_poll(&tlb, &md);
			break;
		default:
			if (op & 0x10) {
				op_fill_batch(&tlb, &md);
				break;
			}
			ivhost_devtlb_batch_cancel(&tlb);
			md.batching = false;
			md.nbatch = 0;
			check_fx(&(struct model_fx){});
			check_tlb(&tlb, &md);
			break;
		}
	}

	ivhost_devtlb_batch_cancel(&tlb);
	list_for_each_entry_safe(m, tmp, &tlb.msgs, node)
		kfree(m);
	ivhost_iotlb_clear(&tlb.cache);
	model_destroy(&md.tlb);
	return 0;
}
