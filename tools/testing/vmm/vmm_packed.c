// SPDX-License-Identifier: GPL-2.0
/*
 * vmm_packed.c - the test VMM's guest driver for packed virtqueues
 * (virtio 1.1, section 2.7).  See vmm.h; vmm.c calls these for a vq whose
 * q->packed is set.
 *
 * The driver's side of the ring: it writes the descriptors of a buffer at
 * consecutive slots from its avail position (wrapping at num, where its
 * avail wrap counter flips), every one marked available for the wrap
 * counter of its slot (AVAIL = wrap, USED = !wrap), the first one's flags
 * last with release ordering.  Buffer IDs come from a free list; the ID
 * goes into every descriptor of the chain (the device takes it from the
 * last).  The device writes one used descriptor per buffer at its used
 * position (AVAIL = USED = its wrap counter) and moves on by the number
 * of ring descriptors the buffer had, which the driver looks up by ID.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vmm.h"

#define PF_AVAIL (1 << VRING_PACKED_DESC_F_AVAIL)
#define PF_USED (1 << VRING_PACKED_DESC_F_USED)
#define WRAP_BIT (1u << VRING_PACKED_EVENT_F_WRAP_CTR)

int vmm_packed_init(struct vmm_vq *q)
{
	struct vmm *v = q->v;

	q->packed = 1;
	q->pdesc = vmm_alloc(v, 16 * (size_t)q->num, 4096);
	q->driver_event = vmm_alloc(v, sizeof(*q->driver_event), 4096);
	q->device_event = vmm_alloc(v, sizeof(*q->device_event), 4096);
	q->nsegs = calloc(q->num, sizeof(*q->nsegs));
	q->segs = calloc((size_t)q->num * VMM_MAX_SEGS, sizeof(*q->segs));
	if (!q->pdesc || !q->driver_event || !q->device_event || !q->nsegs ||
	    !q->segs)
		return -ENOMEM;
	q->desc = (struct vring_desc *)q->pdesc;
	q->avail = (struct vring_avail *)q->driver_event;
	q->used = (struct vring_used *)q->device_event;
	return 0;
}

void vmm_packed_reset(struct vmm_vq *q, unsigned int base)
{
	unsigned int i;

	memset(q->pdesc, 0, 16 * (size_t)q->num);
	memset(q->driver_event, 0, sizeof(*q->driver_event));
	memset(q->device_event, 0, sizeof(*q->device_event));
	for (i = 0; i < q->num; i++) {
		q->next[i] = (i + 1) % q->num;
		q->chain_len[i] = 0;
		q->nsegs[i] = 0;
	}
	q->free_head = 0;
	q->num_free = q->num;
	q->ids_free = q->num;
	q->avail_pos = base % q->num;
	q->used_pos = q->avail_pos;
	q->kick_pos = q->avail_pos;
	q->avail_wrap = 1;
	q->used_wrap = 1;
	q->kick_wrap = 1;
	/* buffer counters: free-running, from @base as a split ring's */
	q->avail_idx = base;
	q->used_idx = base;
}

/* @ndesc ring slots and one buffer ID for a new chain: the ID. */
int vmm_packed_desc_alloc(struct vmm_vq *q, unsigned int ndesc)
{
	uint16_t id = q->free_head;

	if (!ndesc || q->num_free < ndesc || !q->ids_free)
		return -ENOSPC;
	q->free_head = q->next[id];
	q->ids_free--;
	q->num_free -= ndesc;
	q->chain_len[id] = ndesc;
	q->nsegs[id] = 0;
	q->posting_id = id;
	q->head_pos = q->avail_pos;
	q->head_flags = 0;
	return id;
}

/* The wrap counter of ring slot @slot for the chain starting at the
 * driver's avail position: past the end of the ring it has flipped. */
static int slot_wrap(struct vmm_vq *q, uint16_t slot)
{
	return slot >= q->avail_pos ? q->avail_wrap : !q->avail_wrap;
}

static void seg_keep(struct vmm_vq *q, uint16_t id, uint64_t addr,
		     uint32_t len, uint16_t flags)
{
	if (q->nsegs[id] < VMM_MAX_SEGS) {
		struct vmm_seg *s = &q->segs[(size_t)id * VMM_MAX_SEGS +
					     q->nsegs[id]++];

		s->addr = addr;
		s->len = len;
		s->flags = flags & VRING_DESC_F_WRITE;
	}
}

/*
 * Segment @i of @nseg of the chain being posted (the ID the last
 * vmm_packed_desc_alloc() returned): in the indirect table @d, or at ring
 * slot *@idx, which moves on.  The head slot's flags are kept back for
 * vmm_packed_publish().
 */
void vmm_packed_post_seg(struct vmm_vq *q, struct vring_desc *d,
			 enum vmm_post_mode mode, uint16_t *idx,
			 unsigned int i, unsigned int nseg, uint64_t addr,
			 uint32_t len, uint16_t flags)
{
	uint16_t id = q->posting_id, f;
	struct vring_packed_desc *e;

	seg_keep(q, id, addr, len, flags);
	if (mode == VMM_INDIRECT) {
		/* a table of packed descriptors: only WRITE means anything */
		struct vring_packed_desc *t = (struct vring_packed_desc *)d;

		t[i].addr = addr;
		t[i].len = len;
		t[i].id = 0;
		t[i].flags = flags & VRING_DESC_F_WRITE;
		return;
	}
	e = &q->pdesc[*idx];
	f = (flags & VRING_DESC_F_WRITE) |
	    vmm_packed_avail_flags(slot_wrap(q, *idx)) |
	    (i + 1 < nseg ? VRING_DESC_F_NEXT : 0);
	e->addr = addr;
	e->len = len;
	e->id = id;
	if (*idx == q->head_pos && !i)
		q->head_flags = f;
	else
		__atomic_store_n(&e->flags, f, __ATOMIC_RELAXED);
	*idx = (*idx + 1) % q->num;
}

/* The chain in progress is one INDIRECT ring descriptor: fill it (its
 * flags wait for vmm_packed_publish()). */
void vmm_packed_finish_indirect(struct vmm_vq *q, unsigned int nseg,
				uint64_t ind_addr)
{
	struct vring_packed_desc *e = &q->pdesc[q->head_pos];

	e->addr = ind_addr;
	e->len = nseg * sizeof(struct vring_packed_desc);
	e->id = q->posting_id;
	q->head_flags = VRING_DESC_F_INDIRECT |
			vmm_packed_avail_flags(q->avail_wrap);
}

/* Advance a (slot, wrap) position by @n slots. */
static void pos_advance(uint16_t *pos, uint8_t *wrap, unsigned int n,
			unsigned int num)
{
	unsigned int p = *pos + n;

	if (p >= num) {
		p -= num;
		*wrap = !*wrap;
	}
	*pos = p;
}

/*
 * Make the chain of @head (the one just posted) available: its head
 * slot's flags last, with release ordering, so the device sees the whole
 * chain once it sees the head; then the avail position moves on by the
 * chain's descriptor count.
 */
void vmm_packed_publish(struct vmm_vq *q, uint16_t head)
{
	__atomic_store_n(&q->pdesc[q->head_pos].flags, q->head_flags,
			 __ATOMIC_RELEASE);
	pos_advance(&q->avail_pos, &q->avail_wrap, q->chain_len[head],
		    q->num);
	q->avail_idx++;
}

/* Is the descriptor at @pos used in the round of wrap counter @wrap? */
static int slot_used(struct vmm_vq *q, uint16_t pos, int wrap, uint16_t *fl)
{
	uint16_t f = __atomic_load_n(&q->pdesc[pos].flags, __ATOMIC_ACQUIRE);

	if (fl)
		*fl = f;
	return !!(f & PF_AVAIL) == wrap && !!(f & PF_USED) == wrap;
}

/* The used descriptor's length counts only with VRING_DESC_F_WRITE in
 * its flags; without, the field is reserved and a driver ignores it. */
int vmm_packed_peek(struct vmm_vq *q, uint32_t *id, uint32_t *len)
{
	uint16_t f;

	if (q->avail_idx == q->used_idx ||
	    !slot_used(q, q->used_pos, q->used_wrap, &f))
		return 0;
	*id = q->pdesc[q->used_pos].id;
	*len = f & VRING_DESC_F_WRITE ? q->pdesc[q->used_pos].len : 0;
	return 1;
}

void vmm_packed_no_interrupt(struct vmm_vq *q, int on)
{
	__atomic_store_n(&q->driver_event->flags,
			 on ? VRING_PACKED_EVENT_FLAG_DISABLE
			    : VRING_PACKED_EVENT_FLAG_ENABLE, __ATOMIC_SEQ_CST);
}

int vmm_packed_notify_off(struct vmm_vq *q)
{
	return (__atomic_load_n(&q->device_event->flags, __ATOMIC_ACQUIRE) &
		3) == VRING_PACKED_EVENT_FLAG_DISABLE;
}

int vmm_packed_reap(struct vmm_vq *q, uint32_t *idp, uint32_t *lenp)
{
	uint32_t id, len;
	unsigned int n;

	if (!vmm_packed_peek(q, &id, &len))
		return 0;
	if (idp)
		*idp = id;
	if (lenp)
		*lenp = len;
	if (id >= q->num || !q->chain_len[id])
		return -EIO;
	n = q->chain_len[id];
	pos_advance(&q->used_pos, &q->used_wrap, n, q->num);
	q->used_idx++;
	q->chain_len[id] = 0;
	q->nsegs[id] = 0;
	q->next[id] = q->free_head;
	q->free_head = id;
	q->ids_free++;
	q->num_free += n;
	return 1;
}

/* Walk the used buffers waiting in order at the used position: their
 * count added to used_idx; *@pos, *@wrap: where the walk ended. */
static uint16_t used_scan(struct vmm_vq *q, uint16_t *pos, uint8_t *wrap)
{
	uint16_t idx = q->used_idx;

	*pos = q->used_pos;
	*wrap = q->used_wrap;
	while (idx != q->avail_idx && slot_used(q, *pos, *wrap, NULL)) {
		uint16_t id = q->pdesc[*pos].id;

		if (id >= q->num || !q->chain_len[id])
			break;
		idx++;
		pos_advance(pos, wrap, q->chain_len[id], q->num);
	}
	return idx;
}

uint16_t vmm_packed_used_idx(struct vmm_vq *q)
{
	uint16_t pos;
	uint8_t wrap;

	return used_scan(q, &pos, &wrap);
}

unsigned int vmm_packed_used_state(struct vmm_vq *q)
{
	unsigned int s;
	uint16_t pos;
	uint8_t wrap;

	used_scan(q, &pos, &wrap);
	s = pos | (wrap ? 1u << 15 : 0);
	return s | s << 16;
}

void vmm_packed_event_arm(struct vmm_vq *q, int event_idx)
{
	uint16_t off = q->used_pos | (q->used_wrap ? WRAP_BIT : 0);

	if (event_idx) {
		__atomic_store_n(&q->driver_event->off_wrap, off,
				 __ATOMIC_RELAXED);
		__atomic_store_n(&q->driver_event->flags,
				 VRING_PACKED_EVENT_FLAG_DESC,
				 __ATOMIC_SEQ_CST);
	} else {
		__atomic_store_n(&q->driver_event->flags,
				 VRING_PACKED_EVENT_FLAG_ENABLE,
				 __ATOMIC_SEQ_CST);
	}
}

/* Ring-order distance from (@p0, @w0) forward to (@p1, @w1). */
static unsigned int pos_dist(unsigned int p0, int w0, unsigned int p1,
			     int w1, unsigned int num)
{
	/* laps alternate the wrap counter: one cycle is 2 * num slots */
	unsigned int l0 = p0 + (w0 ? 0 : num), l1 = p1 + (w1 ? 0 : num);

	return (l1 + 2 * num - l0) % (2 * num);
}

/*
 * The device event suppression area, read after making buffers
 * available from the last kick's position to the avail position: kick on
 * ENABLE, not on DISABLE, and on DESC when the slot it names was made
 * available in that stretch.
 */
int vmm_packed_kick_needed(struct vmm_vq *q)
{
	uint16_t flags, off;
	unsigned int n, d;

	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	flags = __atomic_load_n(&q->device_event->flags, __ATOMIC_ACQUIRE) & 3;
	off = __atomic_load_n(&q->device_event->off_wrap, __ATOMIC_RELAXED);
	if (flags == VRING_PACKED_EVENT_FLAG_DISABLE)
		return 0;
	if (flags != VRING_PACKED_EVENT_FLAG_DESC)
		return 1;
	n = pos_dist(q->kick_pos, q->kick_wrap, q->avail_pos, q->avail_wrap,
		     q->num);
	d = pos_dist(q->kick_pos, q->kick_wrap, off & ~WRAP_BIT,
		     !!(off & WRAP_BIT), q->num);
	return d < n;
}
