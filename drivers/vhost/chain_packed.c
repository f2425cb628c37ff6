// SPDX-License-Identifier: GPL-2.0
/*
 * Packed-ring logic (VIRTIO_F_RING_PACKED, virtio 1.1 section 2.7): the
 * availability test, used flags, ring positions with their wrap counters,
 * the chain walk, event suppression and the VRING_BASE state encoding.
 *
 * The rules, each enforced by a check below:
 *  - a descriptor is available when its AVAIL bit equals the wrap counter
 *    the device expects there and its USED bit does not;
 *  - a used descriptor has AVAIL and USED both equal to the device's wrap
 *    counter, and WRITE when the device wrote into the buffer;
 *  - a position moves by at most the ring size; passing the end of the
 *    ring takes it back to slot 0 and flips its wrap counter;
 *  - a ring has 1..IVHOST_PACKED_NUM_MAX slots and a head inside it;
 *  - a chain takes consecutive ring slots and no more than the ring
 *    holds: a longer one would run into its own head;
 *  - the buffer ID is the one in the chain's last ring descriptor;
 *  - an indirect descriptor carries no NEXT flag, so it ends the chain
 *    in the ring, and describes a non-empty table of whole descriptors,
 *    at most IVHOST_INDIRECT_MAX of them; the table is walked in order,
 *    all of it, and only WRITE means anything in its entries;
 *  - readable descriptors all come before writable ones (WRITE on an
 *    indirect descriptor itself means nothing);
 *  - the driver's event suppression area asks for an interrupt always
 *    (ENABLE, and the reserved value), never (DISABLE), or when the used
 *    descriptors just published cover its event position and wrap (DESC);
 *  - VRING_BASE state: last avail index in bits 0-14, its wrap counter in
 *    bit 15, used index in bits 16-30, its wrap counter in bit 31.
 *
 * Locking: none; the state belongs to the caller.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/errno.h>
#include <linux/virtio_ring.h>

#include "chain_packed.h"
#include "kunit_export.h"

#define IVHOST_PACKED_F_AVAIL	(1U << VRING_PACKED_DESC_F_AVAIL)
#define IVHOST_PACKED_F_USED	(1U << VRING_PACKED_DESC_F_USED)
#define IVHOST_PACKED_IDX_MASK	0x7fffU
#define IVHOST_PACKED_EVENT_MASK	0x3U
#define IVHOST_PACKED_DESC_SIZE	16U

/**
 * ivhost_packed_desc_avail() - is a descriptor available to the device
 * @flags: the descriptor's flags, in CPU byte order
 * @wrap: the wrap counter of the device's avail position at its slot
 *
 * Context: any.
 * Return: true if the AVAIL bit equals @wrap and the USED bit does not.
 */
bool ivhost_packed_desc_avail(u16 flags, bool wrap)
{
	bool avail = flags & IVHOST_PACKED_F_AVAIL;
	bool used = flags & IVHOST_PACKED_F_USED;

	return avail == wrap && used != wrap;
}
EXPORT_SYMBOL_IF_IVHOST_KUNIT(ivhost_packed_desc_avail);

/**
 * ivhost_packed_used_flags() - the flags of a used descriptor
 * @wrap: the wrap counter of the used position it is written at
 * @written: the device wrote into the buffer (len > 0)
 *
 * Context: any.
 * Return: AVAIL and USED set if @wrap, both clear otherwise, with
 * VRING_DESC_F_WRITE if @written.
 */
u16 ivhost_packed_used_flags(bool wrap, bool written)
{
	u16 flags = wrap ? IVHOST_PACKED_F_AVAIL | IVHOST_PACKED_F_USED : 0;

	if (written)
		flags |= VRING_DESC_F_WRITE;
	return flags;
}
EXPORT_SYMBOL_IF_IVHOST_KUNIT(ivhost_packed_used_flags);

/**
 * ivhost_packed_advance() - move a ring position forward
 * @p: the position, moved in place
 * @num: ring size
 * @n: slots to move, at most @num
 *
 * Context: any.
 */
void ivhost_packed_advance(struct ivhost_packed_pos *p, u32 num, u32 n)
{
	u32 idx = (u32)p->idx + n;

	if (idx >= num) {
		idx -= num;
		p->wrap = !p->wrap;
	}
	p->idx = idx;
}
EXPORT_SYMBOL_IF_IVHOST_KUNIT(ivhost_packed_advance);

/**
 * ivhost_packed_chain_start() - begin walking the chain at @head
 * @c: walk state to initialise
 * @num: ring size
 * @head: position of the chain's first descriptor (the device's avail
 *	position), whose flags the caller found available
 *
 * Context: any.
 * Return: 0, or -EINVAL if @num is 0 or above %IVHOST_PACKED_NUM_MAX or
 * @head is outside the ring.
 */
int ivhost_packed_chain_start(struct ivhost_packed_chain *c, u32 num,
			      struct ivhost_packed_pos head)
{
	if (!num || num > IVHOST_PACKED_NUM_MAX || head.idx >= num)
		return -EINVAL;
	c->num = num;
	c->pos = head;
	c->count = 0;
	c->id = 0;
	c->table_size = 0;
	c->tidx = 0;
	c->indirect = false;
	c->writable = false;
	return 0;
}
EXPORT_SYMBOL_IF_IVHOST_KUNIT(ivhost_packed_chain_start);

static int ivhost_packed_check_order(struct ivhost_packed_chain *c,
				     u16 flags)
{
	if (flags & VRING_DESC_F_WRITE) {
		c->writable = true;
		return 0;
	}
	return c->writable ? -EINVAL : 0;
}

/* An entry of an indirect table: only its WRITE flag is looked at. */
static int ivhost_packed_step_table(struct ivhost_packed_chain *c,
				    const struct ivhost_desc *d)
{
	int err = ivhost_packed_check_order(c, d->flags);

	if (err)
		return err;
	c->tidx++;
	return c->tidx < c->table_size ? IVHOST_CHAIN_NEXT : IVHOST_CHAIN_DONE;
}

/**
 * ivhost_packed_chain_step() - validate the descriptor fetched next
 * @c: walk state
 * @d: the descriptor, in CPU byte order, with the packed descriptor's
 *	ID in @d->next; fetched at &c->pos in the ring, or at entry
 *	&c->tidx of the indirect table while &c->indirect
 *
 * A ring descriptor is counted, its ID kept as the buffer ID, and
 * &c->pos moves past it.  On %IVHOST_CHAIN_NEXT, fetch the descriptor at
 * &c->pos (ring) or &c->tidx (table) next; on %IVHOST_CHAIN_INDIRECT,
 * call ivhost_packed_chain_enter_indirect() with @d.  After
 * %IVHOST_CHAIN_DONE, &c->pos follows the chain, &c->count is the
 * number of ring slots it took and &c->id its buffer ID.
 *
 * Context: any.
 * Return: an &enum ivhost_chain_step, -ELOOP if the chain would take
 * more slots than the ring has, or -EINVAL if the descriptor is an
 * indirect one with NEXT, or readable after a writable one.
 */
int ivhost_packed_chain_step(struct ivhost_packed_chain *c,
			     const struct ivhost_desc *d)
{
	int err;

	if (c->indirect)
		return ivhost_packed_step_table(c, d);

	if (c->count >= c->num)
		return -ELOOP;
	c->count++;
	c->id = d->next;
	ivhost_packed_advance(&c->pos, c->num, 1);

	if (d->flags & VRING_DESC_F_INDIRECT)
		return d->flags & VRING_DESC_F_NEXT ? -EINVAL :
						      IVHOST_CHAIN_INDIRECT;

	err = ivhost_packed_check_order(c, d->flags);
	if (err)
		return err;
	if (!(d->flags & VRING_DESC_F_NEXT))
		return IVHOST_CHAIN_DONE;
	if (c->count >= c->num)
		return -ELOOP;
	return IVHOST_CHAIN_NEXT;
}
EXPORT_SYMBOL_IF_IVHOST_KUNIT(ivhost_packed_chain_step);

/**
 * ivhost_packed_chain_enter_indirect() - continue in an indirect table
 * @c: walk state, after ivhost_packed_chain_step() returned
 *	%IVHOST_CHAIN_INDIRECT
 * @d: the indirect descriptor
 *
 * The walk goes on at entry 0 of the table @d describes and, after the
 * table's %IVHOST_CHAIN_DONE, the chain is over: the indirect descriptor
 * was its last in the ring.
 *
 * Context: any.
 * Return: 0, -EINVAL if the walk is already in a table or the table
 * length is zero or not a whole number of descriptors, or -E2BIG if it
 * holds more than %IVHOST_INDIRECT_MAX.
 */
int ivhost_packed_chain_enter_indirect(struct ivhost_packed_chain *c,
				       const struct ivhost_desc *d)
{
	u32 n;

	if (c->indirect || !d->len || d->len % IVHOST_PACKED_DESC_SIZE)
		return -EINVAL;
	n = d->len / IVHOST_PACKED_DESC_SIZE;
	if (n > IVHOST_INDIRECT_MAX)
		return -E2BIG;
	c->table_size = n;
	c->tidx = 0;
	c->indirect = true;
	return 0;
}
EXPORT_SYMBOL_IF_IVHOST_KUNIT(ivhost_packed_chain_enter_indirect);

/* Slots from the start of the wrap-1 lap, modulo two laps of @num. */
static u32 ivhost_packed_lap_pos(struct ivhost_packed_pos p, u32 num)
{
	return p.idx + (p.wrap ? 0 : num);
}

/* Slots from @from forward to @to, both on the two-lap circle. */
static u32 ivhost_packed_distance(struct ivhost_packed_pos from,
				  struct ivhost_packed_pos to, u32 num)
{
	u32 a = ivhost_packed_lap_pos(from, num);
	u32 b = ivhost_packed_lap_pos(to, num);

	return b >= a ? b - a : b + 2 * num - a;
}

/**
 * ivhost_packed_need_event() - does the driver want a used interrupt
 * @off_wrap: the driver event suppression area's desc field: event
 *	index in bits 0-14, its wrap counter in bit 15
 * @flags: the area's flags field; bits 0-1 are the event flags, the
 *	reserved bits above them are ignored
 * @old: the used position before the used descriptors just published
 * @new: the used position after them, at most @num slots after @old
 * @num: ring size
 *
 * The caller has read the area after publishing (with a full barrier
 * between); whether DESC is allowed (VIRTIO_F_RING_EVENT_IDX) is its
 * business.  An event index outside the ring never matches.
 *
 * Context: any.
 * Return: true for ENABLE and for the reserved value 3, false for
 * DISABLE, and for DESC true iff the event position (index and wrap
 * counter) lies in [@old, @new) in ring order.
 */
bool ivhost_packed_need_event(u16 off_wrap, u16 flags,
			      struct ivhost_packed_pos old,
			      struct ivhost_packed_pos new, u32 num)
{
	struct ivhost_packed_pos ev;

	switch (flags & IVHOST_PACKED_EVENT_MASK) {
	case VRING_PACKED_EVENT_FLAG_DISABLE:
		return false;
	case VRING_PACKED_EVENT_FLAG_DESC:
		break;
	default:
		return true;
	}
	ev.idx = off_wrap & IVHOST_PACKED_IDX_MASK;
	ev.wrap = off_wrap >> VRING_PACKED_EVENT_F_WRAP_CTR;
	if (ev.idx >= num)
		return false;
	return ivhost_packed_distance(old, ev, num) <
	       ivhost_packed_distance(old, new, num);
}
EXPORT_SYMBOL_IF_IVHOST_KUNIT(ivhost_packed_need_event);

static u32 ivhost_packed_pos_encode(struct ivhost_packed_pos p)
{
	return (p.idx & IVHOST_PACKED_IDX_MASK) | (u32)p.wrap << 15;
}

static struct ivhost_packed_pos ivhost_packed_pos_decode(u16 v)
{
	struct ivhost_packed_pos p = {
		.idx = v & IVHOST_PACKED_IDX_MASK,
		.wrap = v >> 15,
	};

	return p;
}

/**
 * ivhost_packed_state_encode() - a packed ring's VRING_BASE state
 * @avail: the device's last avail position
 * @used: the device's used position
 *
 * Context: any.
 * Return: @avail's index in bits 0-14 and wrap counter in bit 15,
 * @used's index in bits 16-30 and wrap counter in bit 31.
 */
u32 ivhost_packed_state_encode(struct ivhost_packed_pos avail,
			       struct ivhost_packed_pos used)
{
	return ivhost_packed_pos_encode(avail) |
	       ivhost_packed_pos_encode(used) << 16;
}
EXPORT_SYMBOL_IF_IVHOST_KUNIT(ivhost_packed_state_encode);

/**
 * ivhost_packed_state_decode() - the positions in a VRING_BASE state
 * @state: as ivhost_packed_state_encode() makes it
 * @num: ring size, or 0 if not known yet
 * @avail: the last avail position, set on success
 * @used: the used position, set on success
 *
 * Context: any.
 * Return: 0, or -EINVAL (@avail and @used untouched) if @num is not 0
 * and either index is @num or above.
 */
int ivhost_packed_state_decode(u32 state, u32 num,
			       struct ivhost_packed_pos *avail,
			       struct ivhost_packed_pos *used)
{
	struct ivhost_packed_pos a = ivhost_packed_pos_decode(state & 0xffff);
	struct ivhost_packed_pos u = ivhost_packed_pos_decode(state >> 16);

	if (num && (a.idx >= num || u.idx >= num))
		return -EINVAL;
	*avail = a;
	*used = u;
	return 0;
}
EXPORT_SYMBOL_IF_IVHOST_KUNIT(ivhost_packed_state_decode);
