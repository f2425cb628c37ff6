// SPDX-License-Identifier: GPL-2.0
/*
 * Packed-ring access (VIRTIO_F_RING_PACKED, virtio 1.1 section 2.7):
 * taking available chains, writing used descriptors in place, and the
 * event suppression areas in both directions.  vring.c's public
 * functions call these when the vq's ring is packed.
 *
 * The ring's memory is reached only through vring_access.h: the
 * descriptor ring (IVHOST_RING_DESC), the driver event suppression area
 * (IVHOST_RING_DRIVER) and the device's (IVHOST_RING_DEVICE), at the
 * pointers the split ring's would be (&ivhost_vq.pdesc, .driver_event,
 * .device_event share their storage).  Whether a chain is well formed,
 * and where positions go as they wrap, is chain_packed.c's to decide.
 *
 * Only the head descriptor's AVAIL/USED flags say that a chain is
 * available: they are read first, and the rest of the chain only after a
 * read barrier.  Chains are used in the order they were taken (the
 * callers publish them so), which is what lets the used position move on
 * by each chain's ring-descriptor count.
 *
 * Locking: every function here is called under the vq's mutex.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/align.h>
#include <linux/nospec.h>
#include <linux/overflow.h>
#include <linux/string.h>

#include "chain_packed.h"
#include "ivhost.h"
#include "vring_access.h"

/* On a miss, ring slots after the waiting chain's head asked for. */
#define IVHOST_PACKED_ASK_AHEAD	16

/* Move @p back by @n <= num ring slots, flipping the wrap past slot 0. */
static void ivhost_packed_retreat(struct ivhost_packed_pos *p, u32 num,
				  u32 n)
{
	if (n > p->idx) {
		p->idx = p->idx + num - n;
		p->wrap = !p->wrap;
	} else {
		p->idx -= n;
	}
}

/* The position up to which the device has seen available descriptors. */
static struct ivhost_packed_pos ivhost_packed_seen(struct ivhost_vq *vq)
{
	struct ivhost_packed_pos p = vq->avail_pos;

	ivhost_packed_advance(&p, vq->num, vq->seen_ahead);
	return p;
}

static struct vring_packed_desc __user *
ivhost_packed_slot(struct ivhost_vq *vq, u16 idx)
{
	return vq->pdesc + array_index_nospec(idx, vq->num);
}

/*
 * Whether the descriptor at @p is available to the device: 1 if so, 0 if
 * not, -EFAULT if the ring cannot be read.  Only its flags are read.
 */
static int ivhost_packed_avail_at(struct ivhost_vq *vq,
				  struct ivhost_packed_pos p)
{
	__le16 raw;

	if (p.idx >= vq->num)
		return -EINVAL;
	if (ivhost_ring_get(vq, IVHOST_RING_DESC, raw,
			    &ivhost_packed_slot(vq, p.idx)->flags))
		return -EFAULT;
	return ivhost_packed_desc_avail(le16_to_cpu(raw), p.wrap);
}

static void ivhost_packed_desc_to_cpu(const struct vring_packed_desc *raw,
				      struct ivhost_desc *d)
{
	d->addr = le64_to_cpu(raw->addr);
	d->len = le32_to_cpu(raw->len);
	d->flags = le16_to_cpu(raw->flags);
	d->next = le16_to_cpu(raw->id);
}

/* Fetch the descriptor the walk @c asks for: in the ring or the table. */
static int ivhost_packed_read_desc(struct ivhost_vq *vq,
				   const struct ivhost_packed_chain *c,
				   u64 table, struct ivhost_desc *d)
{
	struct vring_packed_desc raw;
	int err;

	if (c->indirect) {
		err = ivhost_copy_from_guest(vq, &raw,
					     table + (u64)c->tidx * sizeof(raw),
					     sizeof(raw));
	} else {
		err = ivhost_ring_read(vq, IVHOST_RING_DESC, &raw,
				       ivhost_packed_slot(vq, c->pos.idx),
				       sizeof(raw));
	}
	if (err)
		return err;
	ivhost_packed_desc_to_cpu(&raw, d);
	return 0;
}

/* An indirect table must not wrap past 2^64 as a whole. */
static int ivhost_packed_enter_indirect(struct ivhost_packed_chain *c,
					const struct ivhost_desc *d,
					u64 *table)
{
	u64 last;

	if (d->len && check_add_overflow(d->addr, (u64)d->len - 1, &last))
		return -EINVAL;
	*table = d->addr;
	return ivhost_packed_chain_enter_indirect(c, d);
}

/*
 * Walk the chain whose head is at &ivhost_vq.avail_pos, already seen
 * available, descriptor by descriptor, as the split walk does.
 */
static int ivhost_packed_walk(struct ivhost_vq *vq, struct ivhost_buf *buf,
			      struct ivhost_packed_chain *c)
{
	struct ivhost_desc d;
	u64 table = 0;
	int ret;

	ret = ivhost_packed_chain_start(c, vq->num, vq->avail_pos);
	while (!ret) {
		ret = ivhost_vq_count_desc(vq) ?:
		      ivhost_packed_read_desc(vq, c, table, &d);
		if (ret)
			break;
		ret = ivhost_packed_chain_step(c, &d);
		if (ret == IVHOST_CHAIN_INDIRECT) {
			ret = ivhost_packed_enter_indirect(c, &d, &table);
		} else if (ret >= 0) {
			/* DONE ends the walk, NEXT goes on: 0 for both. */
			bool done = ret == IVHOST_CHAIN_DONE;

			ret = ivhost_buf_append(vq, buf, &d);
			if (!ret && done)
				return 0;
		}
	}
	return ret;
}

/**
 * ivhost_packed_get_buf() - take the next available packed chain
 * @vq: the vq, its ring packed
 * @buf: filled in with the chain, its buffer ID and descriptor count
 * @iov: where the chain's userspace segments go: readable ones first
 * @max: capacity of @iov
 *
 * As ivhost_vq_get_buf(); also -ENOBUFS when %IVHOST_PACKED_TAKEN_MAX
 * chains are taken already.  A chain that would make the chains taken
 * and not used cover more slots than the ring has is malformed: the
 * driver made available a slot the device had not given back (a lap
 * later, through the NEXT flags of chains already taken).
 *
 * Context: the worker, under &vq->mutex.
 * Return: as ivhost_vq_get_buf().
 */
int ivhost_packed_get_buf(struct ivhost_vq *vq, struct ivhost_buf *buf,
			  struct iovec *iov, unsigned int max)
	__must_hold(&vq->mutex)
{
	struct ivhost_packed_chain c;
	int err;

	lockdep_assert_held(&vq->mutex);
	if (vq->ntaken == IVHOST_PACKED_TAKEN_MAX)
		return -ENOBUFS;
	err = ivhost_packed_avail_at(vq, vq->avail_pos);
	if (err <= 0)
		return err ? err : -EAGAIN;
	/* The rest of the chain only after its head's flags. */
	smp_rmb();

	memset(buf, 0, sizeof(*buf));
	buf->head = vq->avail_pos.idx;
	buf->iov = iov;
	buf->max = max;
	err = ivhost_packed_walk(vq, buf, &c);
	if (err == -EINPROGRESS)
		ivhost_vq_tlb_ask_ahead(vq);
	if (err)
		return err;
	if (c.count > vq->num - vq->taken_slots)
		return -EINVAL;
	buf->id = c.id;
	buf->count = c.count;
	vq->taken[vq->ntaken++] = c.count;
	vq->taken_slots += c.count;
	vq->seen_ahead = vq->seen_ahead > c.count ? vq->seen_ahead - c.count
						  : 0;
	vq->avail_pos = c.pos;
	return 0;
}

/**
 * ivhost_packed_unget_bufs() - give back the chains taken last
 * @vq: the vq, its ring packed
 * @n: how many, at most those taken and not used
 *
 * The avail position goes back over their descriptors (and its wrap
 * counter with it); the device still counts them as seen, for
 * ivhost_packed_enable_notify().
 *
 * Context: the worker, under &vq->mutex.
 */
void ivhost_packed_unget_bufs(struct ivhost_vq *vq, unsigned int n)
	__must_hold(&vq->mutex)
{
	u32 back = 0;

	lockdep_assert_held(&vq->mutex);
	if (WARN_ON_ONCE(n > vq->ntaken))
		n = vq->ntaken;
	while (n--)
		back += vq->taken[--vq->ntaken];
	vq->taken_slots -= back;
	ivhost_packed_retreat(&vq->avail_pos, vq->num, back);
	vq->seen_ahead += back;
}

/* Log a write to the device area, at @p, of @len bytes. */
static int ivhost_packed_log_device(struct ivhost_vq *vq,
				    const void __user *p, size_t len)
{
	if (!vq->log_base)
		return 0;
	return ivhost_log_ring(vq, IVHOST_RING_DEVICE,
			       (const u8 __user *)p -
			       (const u8 __user *)vq->device_event, len);
}

/* Write one used descriptor's ID and length (not its flags) at @idx. */
static int ivhost_packed_write_elem(struct ivhost_vq *vq, u16 idx,
				    const struct ivhost_used *u)
{
	struct vring_packed_desc __user *slot = ivhost_packed_slot(vq, idx);

	if (ivhost_ring_put(vq, IVHOST_RING_DESC, cpu_to_le16(u->id),
			    &slot->id) ||
	    ivhost_ring_put(vq, IVHOST_RING_DESC, cpu_to_le32(u->len),
			    &slot->len))
		return -EFAULT;
	return 0;
}

static int ivhost_packed_write_flags(struct ivhost_vq *vq,
				     struct ivhost_packed_pos p, u32 len)
{
	u16 flags = ivhost_packed_used_flags(p.wrap, len > 0);

	return ivhost_ring_put(vq, IVHOST_RING_DESC, cpu_to_le16(flags),
			       &ivhost_packed_slot(vq, p.idx)->flags) ?
	       -EFAULT : 0;
}

/* Mark the @n used descriptors written from @p on in the dirty log. */
static int ivhost_packed_log_used(struct ivhost_vq *vq,
				  struct ivhost_packed_pos p,
				  const struct ivhost_used *heads,
				  unsigned int n)
{
	unsigned int i;
	int err;

	if (!vq->log_base)
		return 0;
	for (i = 0; i < n; i++) {
		err = ivhost_log_ring(vq, IVHOST_RING_DESC,
				      (u64)p.idx * sizeof(*vq->pdesc),
				      sizeof(*vq->pdesc));
		if (err)
			return err;
		ivhost_packed_advance(&p, vq->num, heads[i].count);
	}
	return 0;
}

/* Drop the @n oldest chains from the taken ones: they are used. */
static void ivhost_packed_forget_taken(struct ivhost_vq *vq, unsigned int n)
{
	unsigned int i;

	if (n >= vq->ntaken) {
		vq->ntaken = 0;
		vq->taken_slots = 0;
		return;
	}
	for (i = 0; i < n; i++)
		vq->taken_slots -= vq->taken[i];
	vq->ntaken -= n;
	memmove(vq->taken, vq->taken + n, vq->ntaken * sizeof(vq->taken[0]));
}

/**
 * ivhost_packed_add_used_n() - write used descriptors in place
 * @vq: the vq, its ring packed
 * @heads: buffer ID, bytes written and descriptor count of each chain,
 *	in the order the chains were taken
 * @n: number of entries in @heads
 *
 * One used descriptor per chain, at the used position, which then moves
 * on by the chain's descriptor count.  All but the first are written
 * whole, then, after a write barrier, the first one's flags, which hand
 * them all to the driver.  With dirty logging on, the written
 * descriptors are marked after that write.
 *
 * Context: the worker, under &vq->mutex.
 * Return: 0, -EINVAL if a count is 0 or over the ring size, or -EFAULT
 * if the ring or the log cannot be written.
 */
int ivhost_packed_add_used_n(struct ivhost_vq *vq,
			     const struct ivhost_used *heads, unsigned int n)
	__must_hold(&vq->mutex)
{
	struct ivhost_packed_pos first = vq->used_pos, p = first;
	unsigned int i;
	u32 slots = 0;
	int err;

	lockdep_assert_held(&vq->mutex);
	if (!n)
		return 0;
	for (i = 0; i < n; i++) {
		if (!heads[i].count || heads[i].count > vq->num)
			return -EINVAL;
		err = ivhost_packed_write_elem(vq, p.idx, &heads[i]);
		if (!err && i)
			err = ivhost_packed_write_flags(vq, p, heads[i].len);
		if (err)
			return err;
		ivhost_packed_advance(&p, vq->num, heads[i].count);
		slots += heads[i].count;
	}
	/* Every other descriptor before the flags that publish them all. */
	smp_wmb();
	err = ivhost_packed_write_flags(vq, first, heads[0].len);
	if (err)
		return err;
	vq->used_pos = p;
	vq->last_used_idx += n;
	vq->unsignalled += slots;
	ivhost_packed_forget_taken(vq, n);
	return ivhost_packed_log_used(vq, first, heads, n);
}

/**
 * ivhost_packed_write_device_flags() - write the device area's flags
 * @vq: the vq, its ring packed
 * @flags: VRING_PACKED_EVENT_FLAG_*
 *
 * Context: under &vq->mutex.
 * Return: 0, or -EFAULT if the area or the log cannot be written.
 */
int ivhost_packed_write_device_flags(struct ivhost_vq *vq, u16 flags)
	__must_hold(&vq->mutex)
{
	__le16 __user *p = &vq->device_event->flags;

	lockdep_assert_held(&vq->mutex);
	if (ivhost_ring_put(vq, IVHOST_RING_DEVICE, cpu_to_le16(flags), p))
		return -EFAULT;
	vq->used_flags = flags;
	return ivhost_packed_log_device(vq, p, sizeof(*p));
}

/*
 * NOTIFY_ON_EMPTY: no chain is left to take.  Every chain taken so far
 * was used by now (a round ends so), so none is held either.
 */
static bool ivhost_packed_empty_now(struct ivhost_vq *vq)
{
	return !vq->seen_ahead && !vq->ntaken &&
	       ivhost_packed_avail_at(vq, vq->avail_pos) == 0;
}

/**
 * ivhost_packed_need_signal() - does the driver want an interrupt now?
 * @vq: the vq, its ring packed, after used descriptors were written
 *
 * Reads the driver area: ENABLE and DISABLE decide; with EVENT_IDX, DESC
 * asks for one once the used descriptor at its offset and wrap counter
 * is written.  When more descriptors than the ring holds were used since
 * the last signal the offset is ambiguous, and the driver is signalled.
 *
 * Context: the worker, under &vq->mutex.
 * Return: true to signal the call eventfd.
 */
bool ivhost_packed_need_signal(struct ivhost_vq *vq)
	__must_hold(&vq->mutex)
{
	struct vring_packed_desc_event ev;
	struct ivhost_packed_pos old;
	u32 unsignalled;
	bool valid;
	u16 flags;

	lockdep_assert_held(&vq->mutex);
	/* Order the used descriptors' writes before reading the area. */
	smp_mb();
	if (ivhost_has_feature(vq, VIRTIO_F_NOTIFY_ON_EMPTY) &&
	    ivhost_packed_empty_now(vq))
		return true;
	if (ivhost_ring_read(vq, IVHOST_RING_DRIVER, &ev, vq->driver_event,
			     sizeof(ev)))
		return true;
	flags = le16_to_cpu(ev.flags);
	if (!ivhost_has_feature(vq, VIRTIO_RING_F_EVENT_IDX))
		return flags != VRING_PACKED_EVENT_FLAG_DISABLE;

	old = vq->signalled_pos;
	valid = vq->signalled_used_valid;
	unsignalled = vq->unsignalled;
	vq->signalled_pos = vq->used_pos;
	vq->signalled_used_valid = true;
	vq->unsignalled = 0;
	if (unlikely(!valid) || unsignalled > vq->num)
		return true;
	return ivhost_packed_need_event(le16_to_cpu(ev.off_wrap), flags, old,
					vq->used_pos, vq->num);
}

/**
 * ivhost_packed_disable_notify() - ask the driver not to kick
 * @vq: the vq, its ring packed
 *
 * Context: the worker, under &vq->mutex.
 */
void ivhost_packed_disable_notify(struct ivhost_vq *vq)
	__must_hold(&vq->mutex)
{
	lockdep_assert_held(&vq->mutex);
	if (vq->used_flags != VRING_PACKED_EVENT_FLAG_DISABLE)
		ivhost_packed_write_device_flags(vq,
						 VRING_PACKED_EVENT_FLAG_DISABLE);
}

/**
 * ivhost_packed_avail_empty() - has the driver added nothing new?
 * @vq: the vq, its ring packed
 *
 * Context: the worker, under &vq->mutex.
 * Return: true if the descriptor after those the device has seen is not
 * available; false if it is, or if it cannot be read.
 */
bool ivhost_packed_avail_empty(struct ivhost_vq *vq)
	__must_hold(&vq->mutex)
{
	int ret;

	lockdep_assert_held(&vq->mutex);
	ret = ivhost_packed_avail_at(vq, ivhost_packed_seen(vq));
	if (ret)
		return false;
	return true;
}

/* With EVENT_IDX: ask for a kick at @p, the wrap counter included. */
static int ivhost_packed_write_event(struct ivhost_vq *vq,
				     struct ivhost_packed_pos p)
{
	__le16 __user *off = &vq->device_event->off_wrap;
	u16 off_wrap = p.idx | (u16)p.wrap << VRING_PACKED_EVENT_F_WRAP_CTR;
	int err;

	if (ivhost_ring_put(vq, IVHOST_RING_DEVICE, cpu_to_le16(off_wrap),
			    off))
		return -EFAULT;
	err = ivhost_packed_log_device(vq, off, sizeof(*off));
	if (err)
		return err;
	/* The offset before the flags that make it count. */
	smp_wmb();
	if (vq->used_flags == VRING_PACKED_EVENT_FLAG_DESC)
		return 0;
	return ivhost_packed_write_device_flags(vq,
						VRING_PACKED_EVENT_FLAG_DESC);
}

/**
 * ivhost_packed_enable_notify() - ask the driver to kick on new buffers
 * @vq: the vq, its ring packed
 *
 * As ivhost_vq_enable_notify(): with EVENT_IDX the device area asks for
 * a kick at the first descriptor the device has not seen, else it
 * enables kicks; then checks whether that descriptor is available.
 *
 * Context: the worker, under &vq->mutex.
 * Return: true if buffers became available meanwhile.
 */
bool ivhost_packed_enable_notify(struct ivhost_vq *vq)
	__must_hold(&vq->mutex)
{
	struct ivhost_packed_pos seen = ivhost_packed_seen(vq);
	u16 enable = VRING_PACKED_EVENT_FLAG_ENABLE;
	int err;

	lockdep_assert_held(&vq->mutex);
	if (ivhost_has_feature(vq, VIRTIO_RING_F_EVENT_IDX))
		err = ivhost_packed_write_event(vq, seen);
	else
		err = ivhost_packed_write_device_flags(vq, enable);
	if (err)
		return false;
	/* Publish the request before checking for buffers. */
	smp_mb();
	return ivhost_packed_avail_at(vq, seen) != 0;
}

/**
 * ivhost_packed_ask_ahead() - ask for the buffers of the next descriptors
 * @vq: the vq, its ring packed, whose chain at the avail position waits
 *	for a MISS
 *
 * The packed counterpart of ivhost_vq_tlb_ask_ahead(): where the waiting
 * chain ends is not known yet, so each available descriptor in the next
 * ring slots has its buffer (or indirect table) asked for, up to the
 * first one not available.  Only a hint: nothing here is validated or
 * reported.
 *
 * Context: the worker, under &vq->mutex.
 */
void ivhost_packed_ask_ahead(struct ivhost_vq *vq)
	__must_hold(&vq->mutex)
{
	struct ivhost_packed_pos p = vq->avail_pos;
	struct vring_packed_desc raw;
	struct ivhost_desc d;
	unsigned int i;

	lockdep_assert_held(&vq->mutex);
	for (i = 0; i < IVHOST_PACKED_ASK_AHEAD && i + 1 < vq->num; i++) {
		ivhost_packed_advance(&p, vq->num, 1);
		if (ivhost_packed_avail_at(vq, p) != 1)
			return;
		/* The descriptor only after its flags. */
		smp_rmb();
		if (ivhost_ring_read(vq, IVHOST_RING_DESC, &raw,
				     ivhost_packed_slot(vq, p.idx),
				     sizeof(raw)))
			return;
		ivhost_packed_desc_to_cpu(&raw, &d);
		ivhost_vq_tlb_ask(vq, d.addr, d.len,
				  (d.flags & VRING_DESC_F_WRITE) &&
				  !(d.flags & VRING_DESC_F_INDIRECT) ?
				  IVHOST_PERM_WO : IVHOST_PERM_RO);
	}
}

/**
 * ivhost_packed_start() - check and reset the packed ring state
 * @vq: the vq, its ring packed, a backend being attached
 *
 * The positions come from VHOST_SET_VRING_BASE (both at slot 0 with wrap
 * counters 1 when it was not called); nothing is read from the ring.
 *
 * Context: the owner's thread, under &vq->mutex.
 * Return: 0, or -EINVAL if a position lies beyond the ring size (the
 * size changed after VHOST_SET_VRING_BASE) or the driver area is not
 * 4-byte aligned (its address was set while the ring was split).
 */
int ivhost_packed_start(struct ivhost_vq *vq)
	__must_hold(&vq->mutex)
{
	lockdep_assert_held(&vq->mutex);
	if (vq->avail_pos.idx >= vq->num || vq->used_pos.idx >= vq->num ||
	    !IS_ALIGNED(vq->avail_addr, sizeof(struct vring_packed_desc_event)))
		return -EINVAL;
	vq->ntaken = 0;
	vq->taken_slots = 0;
	vq->seen_ahead = 0;
	vq->unsignalled = 0;
	vq->signalled_pos = vq->used_pos;
	return 0;
}
