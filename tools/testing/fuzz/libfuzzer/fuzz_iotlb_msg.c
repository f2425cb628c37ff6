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
 * VHOST_BACKEND_F_IOTLB_BATCH; through ivhost_devtlb_write() or, as the
 * kernel device writes, copied in first and handed to
 * ivhost_devtlb_write_msg() with the uncopied bytes poisoned), rounds of simulated vqs that take
 * translations from the cache, read() of queued MISS/ACCESS_FAIL
 * messages (v1 or v2, short buffers, faults, blocking or not), poll()
 * and batch cancellation.
 *
 * The oracle is written from the documented rules (the write() errno
 * table and "The device IOTLB" of Documentation/userspace-api/ivhost.rst,
 * /work/shared/reference/vhost-abi.md):
 * the return value of every call; that nothing is applied unless the
 * whole message is valid, and that a write failing for memory (-ENOMEM)
 * changed nothing; the cache contents after each call (the reference
 * model of tlb_model.h, including eviction); that batched changes wait
 * for BATCH_END and are then applied in order; the wake-up mask each call
 * leaves behind; the counters; and the exact bytes read() returns (all
 * zero but type, iova and perm).
 *
 * The barrier is checked by what it promises, not by the range the code
 * asks for: "after any write() returns, no queue holds a translation that
 * the cache no longer has, whatever removed it".  A few simulated vqs take
 * translations from the cache, between calls and while the sync callback
 * runs, as their rounds do (the entry a vq used last, and its three
 * rings); the sync callback drops exactly what the device's
 * ivhost_vq_forget() drops, every held translation that meets
 * [start, last].  After every call, every byte of every translation still
 * held must translate, in the cache, to the same user address with at
 * least the permission it was taken for, whatever removed or changed the
 * entry (INVALIDATE, a replacing UPDATE, eviction, a batch).  Nothing
 * here predicts which range the device should sync, or when.
 *
 * FUZZ_TRACE=1 in the environment prints every operation and its result.
 */
#include "fuzz_common.h"
#include "tlb_model.h"

#include <errno.h>
#include <sanitizer/asan_interface.h>
#include <linux/poll.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/uio.h>

#include "devtlb.h"

unsigned int tools_alloc_fail;

#define MSG_SIZE	72U
#define MAX_BATCH	4096U
#define MAX_QUEUED	64U
/* Simulated vqs, and the rings each keeps translated: desc, avail, used. */
#define NVQ		4U
#define NRINGS		3U
/* Most entries one translation may use (ivhost_translate()'s iovecs). */
#define MAX_PIECES	8U
/* Lookups a round inside a callback may make, replayed on the model. */
#define MAX_PENDING	((NRINGS + 1) * MAX_PIECES)
/* Input bytes a round inside a callback may take. */
#define CB_BYTES	24U

static bool trace;

#define TRACE(fmt, ...)							\
	do {								\
		if (trace)						\
			fprintf(stderr, fmt "\n", ##__VA_ARGS__);	\
	} while (0)

/*
 * What *wake holds before a call: write() and read() OR the vqs to wake
 * into it, and must keep what the caller had there.
 */
#define WAKE_BEFORE	(1UL << 40)

/* Stands in for devtlb.c's: vqs waiting on a miss in [start, last]. */
static unsigned long answer_mask(u64 start, u64 last, u8 perm)
{
	return 1UL << ((start ^ last ^ perm) % 7);
}

unsigned long ivhost_devtlb_answered(struct ivhost_devtlb *tlb, u64 start,
				     u64 last, u8 perm)
{
	FUZZ_CHECK(tlb->lock.held, "answered() without the lock");
	return answer_mask(start, last, perm);
}

/* Stands in for devtlb.c's: the vqs that waited for a lost message. */
static unsigned long lost_mask(u8 type, u64 iova)
{
	return 1UL << (16 + (iova ^ type) % 8);
}

/* The messages read() reported lost (a failed copy drops it). */
static struct {
	unsigned int n;
	u8 type;
	u64 iova;
	u8 perm;
} lost;

unsigned long ivhost_devtlb_lost(struct ivhost_devtlb *tlb,
				 const struct vhost_iotlb_msg *msg)
{
	FUZZ_CHECK(tlb->lock.held, "lost() without the lock");
	lost.n++;
	lost.type = msg->type;
	lost.iova = msg->iova;
	lost.perm = msg->perm;
	return lost_mask(msg->type, msg->iova);
}

struct model_op {
	bool update;
	u64 start;
	u64 last;
	u64 uaddr;
	u8 perm;
};

/* What one call should leave behind, besides the cache: the wake-up. */
struct model_fx {
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
 * @dropped: messages dropped (by a read() that could not copy one out)
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
	u64 dropped;
};

/**
 * struct held - a translation a simulated vq took from the device
 * @start: first IOVA
 * @last: last IOVA
 * @uaddr: user address of @start
 * @perm: the access it may be used for; 0: nothing held
 */
struct held {
	u64 start;
	u64 last;
	u64 uaddr;
	u8 perm;
};

/**
 * struct sim_vq - what a vq keeps from one round to the next
 * @span: the entry it used last, whole, with the entry's perm: the vq
 *	serves any access inside it from this copy (access.c)
 * @ring: its desc, avail and used rings, each one contiguous piece of
 *	user memory, with the access the ring needs
 * @rings_valid: @ring is held
 */
struct sim_vq {
	struct held span;
	struct held ring[NRINGS];
	bool rings_valid;
};

/**
 * struct sim - the vqs, and what the callbacks need to run rounds
 * @tlb: the device IOTLB under test
 * @md: the model, for IOVAs worth looking up
 * @vq: the vqs
 * @in_call: inside a call into the device: the model does not know yet
 *	what the call changed, so lookups wait in @pending
 * @pending: IOVAs looked up inside the call, in order
 * @npending: entries in @pending
 * @cb_round: a round is to run inside the next sync callback ...
 * @cb_at: ... just before vq @cb_at is synced (NVQ: after the last)
 * @cb_buf: ... with these input bytes
 * @cb_in: cursor over @cb_buf
 */
static struct {
	struct ivhost_devtlb *tlb;
	struct model_dev *md;
	struct sim_vq vq[NVQ];
	bool in_call;
	u64 pending[MAX_PENDING];
	u32 npending;
	bool cb_round;
	unsigned int cb_at;
	u8 cb_buf[CB_BYTES];
	struct fuzz_in cb_in;
} sim;

static bool held_meets(const struct held *t, u64 start, u64 last)
{
	return t->start <= last && t->last >= start;
}

/*
 * A vq's lookup of @iova found @e (or nothing).  A lookup marks the entry
 * used (CLOCK's referenced bit), so the model makes the same lookup: at
 * once between calls, where it must find the same entry, or once the
 * call it ran inside is modelled.
 */
static void sim_note_lookup(u64 iova, const struct ivhost_iotlb_entry *e)
{
	const struct model_entry *me;

	if (sim.in_call) {
		FUZZ_CHECK(sim.npending < MAX_PENDING, "harness: lookups");
		sim.pending[sim.npending++] = iova;
		return;
	}
	me = model_lookup(&sim.md->tlb, iova);
	FUZZ_CHECK(!me == !e &&
		   (!e || (me->start == e->start && me->last == e->last &&
			   me->uaddr == e->uaddr && me->perm == e->perm)),
		   "lookup of %llx found [%llx, %llx], model [%llx, %llx]",
		   iova, e ? e->start : 0, e ? e->last : 0,
		   me ? me->start : 0, me ? me->last : 0);
}

/* The lookups made inside a call, now that the model made its change. */
static void sim_replay(void)
{
	u32 i;

	for (i = 0; i < sim.npending; i++)
		model_lookup(&sim.md->tlb, sim.pending[i]);
	sim.npending = 0;
}

/*
 * Translate [iova, iova + len - 1] for @perm as a vq asks the device:
 * one lookup per entry, under the IOTLB's lock, at most MAX_PIECES
 * entries.  On success, *@entry is the last entry used and *@range the
 * whole range with @perm, or with perm 0 if its user memory is not one
 * contiguous piece.  False on a gap, an entry without @perm, a range
 * that wraps or needs too many entries.
 */
static bool sim_translate(u64 iova, u64 len, u8 perm, struct held *range,
			  struct held *entry)
{
	struct ivhost_devtlb *tlb = sim.tlb;
	struct ivhost_iotlb_entry *e;
	u64 last, x = iova, uaddr = 0;
	bool contiguous = true, ok = false;
	unsigned int pieces;

	if (!len || check_add_overflow(iova, len - 1, &last))
		return false;
	spin_lock(&tlb->lock);
	for (pieces = 0; pieces < MAX_PIECES; pieces++) {
		e = ivhost_iotlb_lookup(&tlb->cache, x);
		sim_note_lookup(x, e);
		if (!e || (e->perm & perm) != perm)
			break;
		FUZZ_CHECK(e->start <= x && x <= e->last,
			   "lookup of %llx gave [%llx, %llx]", x, e->start,
			   e->last);
		if (!pieces)
			uaddr = e->uaddr + (x - e->start);
		else if (e->uaddr + (x - e->start) != uaddr + (x - iova))
			contiguous = false;
		if (e->last >= last) {
			*entry = (struct held){ e->start, e->last, e->uaddr,
						e->perm };
			*range = (struct held){ iova, last, uaddr,
						contiguous ? perm : 0 };
			ok = true;
			break;
		}
		x = e->last + 1;
	}
	spin_unlock(&tlb->lock);
	return ok;
}

/* An IOVA for a vq to use: mostly inside an entry the model has. */
static u64 sim_iova(struct fuzz_in *in)
{
	const struct model_tlb *m = &sim.md->tlb;
	const struct model_entry *e;
	u8 sel = fuzz_u8(in);
	u64 off;

	if (!m->n || (sel & 3) == 3)
		return fuzz_val(in, model_edge(m, fuzz_u8(in)));
	e = &m->e[(sel >> 2 | (u32)fuzz_u8(in) << 6) % m->n];
	off = fuzz_val(in, 0);
	if (e->last - e->start != U64_MAX)
		off %= e->last - e->start + 1;
	return e->start + off;
}

/*
 * One round of a vq: an access through the device IOTLB, after which the
 * vq keeps the entry it used last (a failed access keeps the old one, as
 * ivhost_devtlb_translate() leaves its span alone), or the translation
 * of its three rings, which it keeps only if all three translate.
 */
static void sim_round(struct fuzz_in *in)
{
	static const u8 ring_perm[NRINGS] = {
		IVHOST_PERM_RO, IVHOST_PERM_RO, IVHOST_PERM_WO,
	};
	u8 sel = fuzz_u8(in);
	struct sim_vq *vq = &sim.vq[sel % NVQ];
	struct held range, entry;
	unsigned int r;
	u64 iova, len;

	if (!(sel & 4)) {
		iova = sim_iova(in);
		len = 1 + fuzz_u8(in);
		if (sim_translate(iova, len, sel & 8 ? IVHOST_PERM_WO :
				  IVHOST_PERM_RO, &range, &entry)) {
			vq->span = entry;
			TRACE("  vq %u holds span [%llx, %llx] -> %llx perm %u",
			      sel % NVQ, entry.start, entry.last, entry.uaddr,
			      entry.perm);
		}
		return;
	}
	vq->rings_valid = false;
	for (r = 0; r < NRINGS; r++) {
		iova = sim_iova(in);
		len = 1 + fuzz_u16(in) % 0x4000;
		if (!sim_translate(iova, len, ring_perm[r], &range, &entry) ||
		    !range.perm)
			return;
		vq->ring[r] = range;
	}
	vq->rings_valid = true;
	TRACE("  vq %u holds rings [%llx, %llx] [%llx, %llx] [%llx, %llx]",
	      sel % NVQ, vq->ring[0].start, vq->ring[0].last,
	      vq->ring[1].start, vq->ring[1].last, vq->ring[2].start,
	      vq->ring[2].last);
}

/* What the device's sync does to a vq: ivhost_vq_forget(). */
static void sim_forget(struct sim_vq *vq, u64 start, u64 last)
{
	unsigned int r;

	if (vq->span.perm && held_meets(&vq->span, start, last))
		vq->span.perm = 0;
	if (!vq->rings_valid)
		return;
	for (r = 0; r < NRINGS; r++)
		if (held_meets(&vq->ring[r], start, last))
			vq->rings_valid = false;
}

/*
 * Only the IOTLB's deferred work (devtlb.c, not built here) may call
 * ->wake: write() and read() run under the device mutex, which the
 * device's wake takes, and hand the vqs to wake to their caller.
 */
static void cb_wake(struct ivhost_devtlb *tlb, unsigned long vqs)
{
	fuzz_fail("->wake(%lx) called from write() or read() (lock %s)", vqs,
		  tlb->lock.held ? "held" : "not held");
}

/*
 * The device's barrier: vq by vq, drop what meets [start, last].  The
 * callback runs without the IOTLB's lock, so a vq may run a round
 * meanwhile, before or after it is synced itself.
 */
static void cb_sync(struct ivhost_devtlb *tlb, u64 start, u64 last)
{
	unsigned int i;

	FUZZ_CHECK(!tlb->lock.held, "sync with the lock held");
	TRACE("  sync [%llx, %llx]", start, last);
	for (i = 0; i <= NVQ; i++) {
		if (sim.cb_round && sim.cb_at == i) {
			sim.cb_round = false;
			sim_round(&sim.cb_in);
		}
		if (i < NVQ)
			sim_forget(&sim.vq[i], start, last);
	}
}

static const struct ivhost_devtlb_ops cb_ops = {
	.wake = cb_wake,
	.sync = cb_sync,
};

/*
 * The entry of the real cache that holds @iova, found without a lookup
 * (which would mark it used): the tree is ordered by start, and entries
 * never overlap (check_tlb() holds it to the model).
 */
static const struct ivhost_iotlb_entry *cache_find(struct ivhost_iotlb *c,
						   u64 iova)
{
	const struct rb_node *nd = c->root.rb_node;
	const struct ivhost_iotlb_entry *e, *below = NULL;

	while (nd) {
		e = rb_entry(nd, struct ivhost_iotlb_entry, rb);
		if (e->start <= iova) {
			below = e;
			nd = nd->rb_right;
		} else {
			nd = nd->rb_left;
		}
	}
	return below && below->last >= iova ? below : NULL;
}

/* Whether every byte of @t still translates as it did when taken. */
static bool held_intact(const struct held *t)
{
	const struct ivhost_iotlb_entry *e;
	u64 x = t->start;

	for (;;) {
		e = cache_find(&sim.tlb->cache, x);
		if (!e || e->uaddr + (x - e->start) !=
			  t->uaddr + (x - t->start) ||
		    (e->perm & t->perm) != t->perm)
			return false;
		if (e->last >= t->last)
			return true;
		x = e->last + 1;
	}
}

/*
 * Feedback for libFuzzer beyond the code's own branches: states of the
 * vqs the oracle is about, as extra counters (libFuzzer reads this
 * section after each input and keeps inputs that reach new states).
 *
 *   [0, 32)   a call of kind (UPDATE, INVALIDATE, BATCH_END, other)
 *             that evicted or not, and removed a span and/or a ring
 *             some vq held when the call began (legal: the barrier
 *             must then drop them);
 *   [32, 48)  after a call, held translations whose first entry is
 *             unreferenced (0-3+), and whether one is the clock's
 *             oldest entry: the next eviction's candidates;
 *   [48, 52)  a call of each kind evicted while some vq held anything.
 */
__attribute__((section("__libfuzzer_extra_counters"), used))
static u8 state_counters[52];

static void note_removed(const struct sim_vq *before, u8 type, bool evicted)
{
	unsigned int v, r, kind, span = 0, ring = 0;
	bool holding = false;

	for (v = 0; v < NVQ; v++) {
		holding |= before[v].span.perm || before[v].rings_valid;
		if (before[v].span.perm && !held_intact(&before[v].span))
			span = 1;
		if (!before[v].rings_valid)
			continue;
		for (r = 0; r < NRINGS; r++)
			if (!held_intact(&before[v].ring[r]))
				ring = 1;
	}
	if (!holding || (!evicted && !span && !ring))
		return;
	switch (type) {
	case VHOST_IOTLB_UPDATE:
		kind = 0;
		break;
	case VHOST_IOTLB_INVALIDATE:
		kind = 1;
		break;
	case VHOST_IOTLB_BATCH_END:
		kind = 2;
		break;
	default:
		kind = 3;
		break;
	}
	if (evicted)
		state_counters[48 + kind]++;
	if (span || ring)
		state_counters[kind * 8 + evicted * 4 + span * 2 + ring]++;
}

static void note_at_risk(void)
{
	const struct ivhost_iotlb *c = &sim.tlb->cache;
	const struct ivhost_iotlb_entry *e, *oldest;
	unsigned int v, r, n = 0, head = 0;

	oldest = list_first_entry_or_null(&c->clock,
					  struct ivhost_iotlb_entry, clock);
	for (v = 0; v < NVQ; v++) {
		for (r = 0; r <= NRINGS; r++) {
			const struct held *t = r < NRINGS ?
				&sim.vq[v].ring[r] : &sim.vq[v].span;

			if (r < NRINGS ? !sim.vq[v].rings_valid : !t->perm)
				continue;
			e = cache_find(&sim.tlb->cache, t->start);
			if (!e || e->referenced)
				continue;
			n++;
			head |= e == oldest;
		}
	}
	state_counters[32 + (n < 3 ? n : 3) + 4 * head]++;
}

/* Every byte of @t still translates as it did when vq @v took it. */
static void check_one(unsigned int v, const char *what, const struct held *t)
{
	const struct ivhost_iotlb_entry *e;
	u64 x = t->start;

	for (;;) {
		e = cache_find(&sim.tlb->cache, x);
		FUZZ_CHECK(e, "vq %u still holds %s [%llx, %llx] -> %llx perm %u after the call returned, but the cache no longer has %llx",
			   v, what, t->start, t->last, t->uaddr, t->perm, x);
		FUZZ_CHECK(e->uaddr + (x - e->start) ==
			   t->uaddr + (x - t->start),
			   "vq %u still holds %s [%llx, %llx] -> %llx after the call returned, but the cache maps %llx to %llx",
			   v, what, t->start, t->last, t->uaddr, x,
			   e->uaddr + (x - e->start));
		FUZZ_CHECK((e->perm & t->perm) == t->perm,
			   "vq %u still holds %s [%llx, %llx] perm %u after the call returned, but the cache grants %llx only perm %u",
			   v, what, t->start, t->last, t->perm, x, e->perm);
		if (e->last >= t->last)
			return;
		x = e->last + 1;
	}
}

/* No vq holds a translation that the cache no longer has. */
static void check_held(void)
{
	static const char *const ring_name[NRINGS] = {
		"its desc ring", "its avail ring", "its used ring",
	};
	unsigned int v, r;

	for (v = 0; v < NVQ; v++) {
		if (sim.vq[v].span.perm)
			check_one(v, "the span", &sim.vq[v].span);
		if (!sim.vq[v].rings_valid)
			continue;
		for (r = 0; r < NRINGS; r++)
			check_one(v, ring_name[r], &sim.vq[v].ring[r]);
	}
}

static void model_apply(struct model_dev *md, const struct model_op *op,
			struct model_fx *fx)
{
	if (!op->update) {
		model_invalidate(&md->tlb, op->start, op->last);
		md->invalidations++;
		return;
	}
	model_update(&md->tlb, op->start, op->last, op->uaddr, op->perm);
	md->updates++;
	fx->wake |= answer_mask(op->start, op->last, op->perm);
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
 * wrote, zero-padded) of which @readable can be copied, when every
 * allocation succeeds: MSG_SIZE or -errno.  *@type gets the inner type,
 * and *@op the change if it is one.  Changes nothing.
 */
static long model_expect(const struct model_dev *md, const u8 *buf,
			 size_t count, size_t readable, bool batch_feat,
			 u8 *type, struct model_op *op)
{
	size_t n = count < MSG_SIZE ? count : MSG_SIZE;
	u8 seenbuf[MSG_SIZE] = {};
	const u8 *iotlb = seenbuf + 8;
	u32 outer;
	int err;

	*type = 0;
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
	*type = iotlb[25];
	switch (*type) {
	case VHOST_IOTLB_UPDATE:
	case VHOST_IOTLB_INVALIDATE:
		break;
	case VHOST_IOTLB_BATCH_BEGIN:
	case VHOST_IOTLB_BATCH_END:
		return batch_feat ? (long)MSG_SIZE : -EINVAL;
	default:
		return -EINVAL;
	}
	err = model_check(iotlb, op);
	if (err)
		return err;
	if (md->batching && md->nbatch >= MAX_BATCH)
		return -ENOSPC;
	return MSG_SIZE;
}

/* Do what a write of @type that returned MSG_SIZE does. */
static void model_commit(struct model_dev *md, u8 type,
			 const struct model_op *op, struct model_fx *fx)
{
	u32 i;

	switch (type) {
	case VHOST_IOTLB_BATCH_BEGIN:
		md->batching = true;
		return;
	case VHOST_IOTLB_BATCH_END:
		for (i = 0; i < md->nbatch; i++)
			model_apply(md, &md->batch[i], fx);
		md->nbatch = 0;
		md->batching = false;
		return;
	}
	if (md->batching)
		md->batch[md->nbatch++] = *op;
	else
		model_apply(md, op, fx);
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
	FUZZ_CHECK(tlb->cache.npool <= MODEL_POOL, "npool %u",
		   tlb->cache.npool);
	FUZZ_CHECK(tlb->cache.evictions == m->evictions, "evictions");
	for (nd = rb_first(&tlb->cache.root); nd; nd = rb_next(nd)) {
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
	FUZZ_CHECK(tlb->stats.msgs_dropped == md->dropped,
		   "msgs_dropped %llu, model %llu", tlb->stats.msgs_dropped,
		   md->dropped);
}

/*
 * The vqs a call handed back to wake (@wake, which held WAKE_BEFORE);
 * the barrier is judged by check_held().
 */
static void check_fx(const struct model_fx *fx, unsigned long wake)
{
	FUZZ_CHECK(wake == (WAKE_BEFORE | fx->wake),
		   "vqs to wake %lx, want %lx (and %lx kept)",
		   wake & ~WAKE_BEFORE, fx->wake, WAKE_BEFORE);
}

/*
 * An IOVA for a change: anywhere, next to an entry's edge, or (selector
 * 0xc0 and up) strictly inside an entry, so that a small change splits
 * it, and splits are what make an INVALIDATE grow the cache.
 */
static u64 get_iova(struct fuzz_in *in, const struct model_tlb *m)
{
	const struct model_entry *e;
	u8 sel = fuzz_u8(in);
	u64 inner;

	if ((sel & 0xc0) != 0xc0 || !m->n)
		return fuzz_val(in, model_edge(m, sel));
	e = &m->e[(sel & 0x3f) % m->n];
	if (e->last - e->start < 2)
		return e->start;
	inner = e->last - e->start - 1;	/* IOVAs strictly inside, >= 1 */
	return e->start + 1 + fuzz_val(in, 0) % inner;
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

/*
 * A round to run inside the next sync callback, if @sel asks for one:
 * its input bytes are taken now, so that how the rest of the input
 * decodes does not depend on whether the device syncs.
 */
static void arm_cb_round(struct fuzz_in *in, u8 sel)
{
	size_t n = in->left < CB_BYTES ? in->left : CB_BYTES;

	sim.cb_round = false;
	if ((sel & 3) != 3)
		return;
	memset(sim.cb_buf, 0, sizeof(sim.cb_buf));
	memcpy(sim.cb_buf, in->p, n);
	in->p += n;
	in->left -= n;
	sim.cb_in = (struct fuzz_in){ .p = sim.cb_buf, .left = CB_BYTES };
	sim.cb_at = (sel >> 2) % (NVQ + 1);
	sim.cb_round = true;
}

/*
 * write() as the kernel device makes it (ivhost_dev_write_iter()): the
 * message copied in first, min(count, 72) bytes, into a buffer whose
 * rest is never initialised, then ivhost_devtlb_write_msg().  The bytes
 * past the copy are poisoned: the contract is that they are never read.
 */
static ssize_t write_copied(struct ivhost_devtlb *tlb,
			    struct iov_iter *from, u64 features,
			    unsigned long *wake)
{
	union ivhost_devtlb_wire *u = malloc(sizeof(*u));
	size_t count = iov_iter_count(from);
	size_t n = count < sizeof(*u) ? count : sizeof(*u);
	ssize_t ret;

	if (!u)
		abort();
	memset(u, 0xa5, sizeof(*u));
	if (copy_from_iter(u, n, from) != n) {
		free(u);
		return -EFAULT;
	}
	ASAN_POISON_MEMORY_REGION((u8 *)u + n, sizeof(*u) - n);
	ret = ivhost_devtlb_write_msg(tlb, u, count, features, wake);
	ASAN_UNPOISON_MEMORY_REGION((u8 *)u + n, sizeof(*u) - n);
	free(u);
	return ret;
}

static void op_write(struct fuzz_in *in, struct ivhost_devtlb *tlb,
		     struct model_dev *md)
{
	u8 buf[MSG_SIZE + 16], *iotlb = buf + 8;
	struct model_fx fx = {};
	struct model_op op = {};
	struct iov_iter it;
	struct iovec iov[4];
	u8 sel = fuzz_u8(in), sel2 = fuzz_u8(in), cbsel = fuzz_u8(in);
	size_t count = MSG_SIZE, fault = SIZE_MAX;
	bool batch_feat = sel & 0x80, copied;
	unsigned int inject = 0, need = 0;
	u32 pool = tlb->cache.npool;
	struct sim_vq before[NVQ];
	unsigned long wake = WAKE_BEFORE;
	u64 evictions, features;
	long want, got;
	u8 type;
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
	memcpy(iotlb, &(u64){ get_iova(in, &md->tlb) }, 8);
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
	copied = fuzz_u8(in) & 1;

	fuzz_iov_iter_init(&it, iov, split(in, buf, count, iov));
	it.fault_at = fault;
	arm_cb_round(in, cbsel);
	memcpy(before, sim.vq, sizeof(before));
	evictions = tlb->cache.evictions;
	tools_alloc_fail = inject;
	sim.in_call = true;
	features = batch_feat ? BIT_ULL(VHOST_BACKEND_F_IOTLB_BATCH) : 0;
	if (copied)
		got = write_copied(tlb, &it, features, &wake);
	else
		got = ivhost_devtlb_write(tlb, &it, features, &wake);
	sim.in_call = false;
	sim.cb_round = false;
	tools_alloc_fail = 0;
	want = model_expect(md, buf, count, fault, batch_feat, &type, &op);
	TRACE("write type %u iova %llx size %llx uaddr %llx perm %u (%zu bytes, outer %u, fault at %zd, alloc %u fails, batch %d) = %ld, want %ld",
	      iotlb[25], get64(iotlb), get64(iotlb + 8), get64(iotlb + 16),
	      iotlb[24], count, get32(buf), (ssize_t)fault, inject,
	      batch_feat, got, want);
	if (want == MSG_SIZE && (type == VHOST_IOTLB_UPDATE ||
				 type == VHOST_IOTLB_INVALIDATE) &&
	    !md->batching)
		need = model_needed(&md->tlb, op.update, op.start, op.last);
	if (got == -ENOMEM && inject &&
	    (want == MSG_SIZE || want == -ENOSPC) &&
	    (type == VHOST_IOTLB_UPDATE || type == VHOST_IOTLB_INVALIDATE)) {
		/*
		 * An allocation failed in a valid change (the errno table
		 * does not order -ENOMEM and -ENOSPC): nothing may have
		 * changed (the model stays as it is), and a change applied
		 * at once allocates only what the pool of removed entries
		 * cannot give.
		 */
		FUZZ_CHECK(md->batching || pool < need,
			   "-ENOMEM though the pool held %u entries and the change needs %u",
			   pool, need);
	} else {
		FUZZ_CHECK(got == want,
			   "write of %zu bytes (outer %u asid %u type %u iova %llx size %llx uaddr %llx perm %u, fault at %zd, alloc %u fails, batch %d/%d) = %ld, want %ld",
			   count,
			   get32(buf), get32(buf + 4), iotlb[25], get64(iotlb),
			   get64(iotlb + 8), get64(iotlb + 16), iotlb[24],
			   (ssize_t)fault, inject, batch_feat, md->batching,
			   got, want);
		if (got == MSG_SIZE)
			model_commit(md, type, &op, &fx);
	}
	sim_replay();
	check_fx(&fx, wake);
	check_tlb(tlb, md);
	note_removed(before, type, tlb->cache.evictions != evictions);
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
	TRACE("queue type %u iova %llx perm %u", mm.type, mm.iova, mm.perm);
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
	struct model_fx fx = {};
	struct iov_iter it;
	struct iovec iov[4];
	long want, got;
	unsigned long retry, wake = WAKE_BEFORE;

	if (sel & 4)
		count = fuzz_u8(in) % (MSG_SIZE + 17);
	if ((sel & 0x18) == 0x18)
		fault = fuzz_u8(in) % MSG_SIZE;
	memset(out, 0xa5, sizeof(out));
	fuzz_iov_iter_init(&it, iov, split(in, out, count, iov));
	it.fault_at = fault;
	memset(&lost, 0, sizeof(lost));
	got = ivhost_devtlb_read(tlb, &it, nonblock, v2, &wake);

	if (count < MSG_SIZE)
		want = -EINVAL;
	else if (!md->nq)
		want = nonblock ? -EAGAIN : -ERESTARTSYS;
	else if (fault < MSG_SIZE)
		want = -EFAULT;	/* and the message is dropped */
	else
		want = MSG_SIZE;
	TRACE("read of %zu (v2 %d, nonblock %d, fault %zd) = %ld, want %ld",
	      count, v2, nonblock, (ssize_t)fault, got, want);
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
	/*
	 * Documented: a message read() fails to copy out is dropped (and
	 * counted), and its queues ask again; those whose miss found the
	 * queue full ask again once read() takes a message either way.
	 */
	FUZZ_CHECK(lost.n == (got == -EFAULT) &&
		   (!lost.n || (lost.type == md->q[0].type &&
				lost.iova == md->q[0].iova &&
				lost.perm == md->q[0].perm)),
		   "read() = %ld reported %u messages lost (type %u iova %llx)",
		   got, lost.n, lost.type, lost.iova);
	if (got == MSG_SIZE || got == -EFAULT) {
		if (got == -EFAULT) {
			fx.wake |= lost_mask(md->q[0].type, md->q[0].iova);
			md->dropped++;
		}
		memmove(md->q, md->q + 1, --md->nq * sizeof(md->q[0]));
		retry = md->retry;
		md->retry = 0;
		fx.wake |= retry;
	}
	check_fx(&fx, wake);
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
	TRACE("poll");
	FUZZ_CHECK(ivhost_devtlb_poll(tlb, NULL, &pt) == want, "poll");
}

/* Fill a batch past its limit with one valid INVALIDATE. */
static void op_fill_batch(struct ivhost_devtlb *tlb, struct model_dev *md)
{
	u8 buf[MSG_SIZE] = {};
	struct model_fx fx = {};
	struct model_op op;
	struct iov_iter it;
	struct iovec iov = { buf, MSG_SIZE };
	unsigned long wake;
	unsigned int i;
	long got, want;
	u8 type;

	if (!md->batching)
		return;
	memcpy(buf, &(u32){ VHOST_IOTLB_MSG_V2 }, 4);
	buf[8 + 25] = VHOST_IOTLB_INVALIDATE;
	buf[8 + 8] = 1;		/* size 1 at iova 0 */
	for (i = md->nbatch; i <= MAX_BATCH; i++) {
		fuzz_iov_iter_init(&it, &iov, 1);
		wake = WAKE_BEFORE;
		got = ivhost_devtlb_write(tlb, &it,
					  BIT_ULL(VHOST_BACKEND_F_IOTLB_BATCH),
					  &wake);
		want = model_expect(md, buf, MSG_SIZE, SIZE_MAX, true, &type,
				    &op);
		FUZZ_CHECK(got == want, "batch write %u = %ld, want %ld", i,
			   got, want);
		if (got == MSG_SIZE)
			model_commit(md, type, &op, &fx);
		check_fx(&fx, wake);
	}
	FUZZ_CHECK(got == -ENOSPC, "batch of %u took more", MAX_BATCH);
	check_tlb(tlb, md);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *t = getenv("FUZZ_TRACE");

	(void)argc;
	(void)argv;
	trace = t && *t && strcmp(t, "0");
	return 0;
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
	memset(&sim, 0, sizeof(sim));
	sim.tlb = &tlb;
	sim.md = &md;
	TRACE("limit %u", limit);

	while (in.left && ops++ < 256) {
		u8 op = fuzz_u8(&in);

		switch (op % 16) {
		case 0 ... 7:
			op_write(&in, &tlb, &md);
			break;
		case 8:
		case 9:
			TRACE("round");
			sim_round(&in);
			check_tlb(&tlb, &md);
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
				TRACE("fill batch");
				op_fill_batch(&tlb, &md);
				break;
			}
			TRACE("batch cancel");
			ivhost_devtlb_batch_cancel(&tlb);
			md.batching = false;
			md.nbatch = 0;
			check_fx(&(struct model_fx){}, WAKE_BEFORE);
			check_tlb(&tlb, &md);
			break;
		}
		check_held();
		note_at_risk();
	}

	ivhost_devtlb_batch_cancel(&tlb);
	list_for_each_entry_safe(m, tmp, &tlb.msgs, node)
		kfree(m);
	ivhost_iotlb_clear(&tlb.cache);
	model_destroy(&md.tlb);
	return 0;
}
