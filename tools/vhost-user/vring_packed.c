// SPDX-License-Identifier: GPL-2.0
/*
 * Packed virtqueues in guest memory (VIRTIO_F_RING_PACKED, virtio 1.1
 * section 2.7): the counterparts of vring.c's functions, which hand a
 * packed ring here.
 *
 * SET_VRING_ADDR's three addresses are the descriptor ring (16 bytes a
 * descriptor), the driver event suppression area and the device event
 * suppression area (4 bytes each).  A chain is the descriptors at
 * consecutive ring slots from its head, wrapping at the ring's size; the
 * head's AVAIL and USED flags alone say whether it is available, and
 * they are read first, before the fence that orders the rest of the
 * chain after them.  Every field is read once into a local copy, which
 * drivers/vhost/chain_packed.c checks: a malformed chain (too long, an
 * indirect descriptor with NEXT, an indirect table of a bad size,
 * readable after writable, a buffer outside guest memory) stops the
 * ring, as on a split ring.
 *
 * A used descriptor goes in place, at the used position, which moves on
 * by as many slots as its chain took: its ID, its length, and flags
 * whose AVAIL and USED bits are the used wrap counter.  Those written in
 * one round are published together: all but the first whole as they are
 * pushed, then a release fence, then the first one's flags; the guest
 * reads them in order, so it sees none before the first.
 *
 * Notifications: the device area is ours (DISABLE while a round runs,
 * ENABLE or, with EVENT_IDX, DESC at the next position to take when the
 * ring waits); the driver area says when the guest wants an interrupt.
 * Each is read or written as one 32-bit word, as the guest does.
 *
 * With the IOTLB the three areas are IOVAs, translated at the start of a
 * round (vring.c's ivu_vring_area()), the descriptor ring for reading and
 * writing; a miss ends the round and asks ahead for the next chains'
 * buffers, as on a split ring.  Dirty logging marks the device area by
 * log_guest_addr (QEMU gives the device area's address there) and the
 * used descriptors by their pages, found through the memory table.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <linux/virtio_config.h>

#include "ivu.h"

/*
 * Where each chain taken since the frame began started (ivu_pk_unpop()):
 * a frame's chains are taken and given back on the ring's own worker.
 */
static __thread u16 ivu_pk_starts[IVU_RING_MAX];

/*
 * A packed ring's areas, in the split ring's pointers (struct ivu_vring):
 * the descriptor ring in desc, the driver area in avail, the device area
 * in used.
 */
static struct vring_packed_desc *ivu_pk_ring(const struct ivu_vring *vq)
{
	return (struct vring_packed_desc *)vq->desc;
}

static struct vring_packed_desc_event *ivu_pk_driver(const struct ivu_vring *vq)
{
	return (struct vring_packed_desc_event *)vq->avail;
}

static struct vring_packed_desc_event *ivu_pk_device(const struct ivu_vring *vq)
{
	return (struct vring_packed_desc_event *)vq->used;
}

static u16 ivu_pk_enc(struct ivhost_packed_pos p)
{
	return p.idx | (u16)p.wrap << 15;
}

static struct ivhost_packed_pos ivu_pk_dec(u16 v)
{
	struct ivhost_packed_pos p = { .idx = v & 0x7fff, .wrap = v >> 15 };

	return p;
}

static void ivu_pk_desc_read(struct ivhost_desc *out, const void *in)
{
	struct vring_packed_desc raw;

	memcpy(&raw, in, sizeof(raw));
	out->addr = le64toh(raw.addr);
	out->len = le32toh(raw.len);
	out->flags = le16toh(raw.flags);
	out->next = le16toh(raw.id);
}

/* Is the descriptor at @p available?  Its flags in @flags. */
static bool ivu_pk_avail_at(struct ivu_vring *vq, struct ivhost_packed_pos p,
			    u16 *flags)
{
	u16 f = ivu_rd16(&ivu_pk_ring(vq)[p.idx].flags);

	if (flags)
		*flags = f;
	return ivhost_packed_desc_avail(f, p.wrap);
}

/* The guest's event suppression word: off_wrap low, flags high. */
static u32 ivu_pk_event_read(const struct vring_packed_desc_event *e)
{
	return le32toh(__atomic_load_n((const u32 *)e, __ATOMIC_RELAXED));
}

/* Write ours in one store, and log it. */
static void ivu_pk_event_write(struct ivu_dev *d, struct ivu_vring *vq,
			       u16 off_wrap, u16 flags)
{
	u32 v = (u32)off_wrap | (u32)flags << 16;

	__atomic_store_n((u32 *)ivu_pk_device(vq), htole32(v),
			 __ATOMIC_RELAXED);
	ivu_dirty_used(d, vq, ivu_pk_device(vq),
		       sizeof(struct vring_packed_desc_event));
}

static bool ivu_pk_aligned(const void *desc, const void *driver,
			   const void *device)
{
	return ivu_vring_aligned(desc, driver, device) &&
	       !((uintptr_t)driver & 3);
}

/**
 * ivu_pk_start() - start a packed ring (ivu_vring_start())
 * @d: the device
 * @vq: the ring; its size, addresses and positions (SET_VRING_BASE) set
 *
 * Return: 0, or -EINVAL if the size, a position or the addresses are
 * unusable.
 */
int ivu_pk_start(struct ivu_dev *d, struct ivu_vring *vq)
{
	const struct vhost_vring_addr *a = &vq->addr;
	struct ivu_packed *pk = &vq->pk;
	u64 n = vq->num;

	if (n > IVHOST_PACKED_NUM_MAX || pk->avail.idx >= n ||
	    pk->used.idx >= n)
		return -EINVAL;
	if ((a->desc_user_addr & 15) || (a->avail_user_addr & 3) ||
	    (a->used_user_addr & 3))
		return -EINVAL;
	vq->last_used = 0;
	vq->published_used = 0;
	pk->signalled = pk->used;
	pk->unsignalled = 0;
	pk->unpublished = 0;
	pk->npop = 0;
	if (!ivu_iotlb_on(d)) {
		vq->desc = ivu_vring_qva(d, vq, 0, a->desc_user_addr, 16 * n);
		vq->avail = ivu_vring_qva(d, vq, 1, a->avail_user_addr, 4);
		vq->used = ivu_vring_qva(d, vq, 2, a->used_user_addr, 4);
		if (!vq->desc || !vq->avail || !vq->used ||
		    !ivu_pk_aligned(vq->desc, vq->avail, vq->used)) {
			ivu_vring_unmap_rings(vq);
			return -EINVAL;
		}
	}
	vq->started = true;
	ivu_dbg("vq %d: started, packed, num %u, avail %u/%u used %u/%u",
		vq->index, vq->num, pk->avail.idx, pk->avail.wrap,
		pk->used.idx, pk->used.wrap);
	return 0;
}

/**
 * ivu_pk_rings() - translate a ready packed ring's areas
 * @d: the device, with the IOTLB on
 * @vq: a ready packed ring, its areas not translated
 *
 * Return: as ivu_vring_rings().
 */
int ivu_pk_rings(struct ivu_dev *d, struct ivu_vring *vq)
{
	const struct vhost_vring_addr *a = &vq->addr;
	void *desc, *driver, *device;
	int err;

	/* The guest reads our used descriptors in the same ring. */
	err = ivu_vring_area(d, vq, 0, a->desc_user_addr, 16ULL * vq->num,
			     IVHOST_PERM_RW, &desc);
	if (!err)
		err = ivu_vring_area(d, vq, 1, a->avail_user_addr, 4,
				     IVHOST_PERM_RO, &driver);
	if (!err)
		err = ivu_vring_area(d, vq, 2, a->used_user_addr, 4,
				     IVHOST_PERM_WO, &device);
	if (!err && !ivu_pk_aligned(desc, driver, device)) {
		ivu_vring_break(d, vq, "IOTLB maps the ring misaligned, num",
				vq->num);
		err = -EINVAL;
	}
	if (err)
		return err;
	vq->desc = desc;
	vq->avail = driver;
	vq->used = device;
	return 0;
}

/**
 * ivu_pk_has_avail() - is the next descriptor available?
 * @vq: a ready packed ring
 *
 * Return: true if the guest made a chain available that we did not take.
 */
bool ivu_pk_has_avail(struct ivu_vring *vq)
{
	return ivu_pk_avail_at(vq, vq->pk.avail, NULL);
}

/**
 * ivu_pk_avail_since() - is the descriptor at a position available?
 * @vq: a ready packed ring
 * @pos: the position, as ivu_vring_avail_pos() gave it
 *
 * Return: true if it is.
 */
bool ivu_pk_avail_since(struct ivu_vring *vq, u16 pos)
{
	struct ivhost_packed_pos p = ivu_pk_dec(pos);

	return p.idx < vq->num && ivu_pk_avail_at(vq, p, NULL);
}

/*
 * Walk the chain at the avail position into @b; @head_flags are its
 * head's flags, read before the fence.  0, or a negative errno (-EAGAIN:
 * an IOTLB miss, the chain is taken again later).
 */
static int ivu_pk_walk(struct ivu_dev *d, struct ivu_vring *vq, u16 head_flags,
		       struct ivu_buf *b, struct ivhost_packed_chain *c)
{
	const unsigned char *table = NULL;
	struct ivhost_desc desc;
	int r, err;

	b->n_out = 0;
	b->n_in = 0;
	b->out_len = 0;
	b->in_len = 0;
	r = ivhost_packed_chain_start(c, vq->num, vq->pk.avail);
	while (r >= 0) {
		if (c->indirect) {
			ivu_pk_desc_read(&desc, table + c->tidx *
					 sizeof(struct vring_packed_desc));
		} else {
			ivu_pk_desc_read(&desc, &ivu_pk_ring(vq)[c->pos.idx]);
			if (!c->count)
				desc.flags = head_flags;	/* read once */
		}
		r = ivhost_packed_chain_step(c, &desc);
		if (r == IVHOST_CHAIN_INDIRECT) {
			r = ivhost_packed_chain_enter_indirect(c, &desc);
			if (r)
				break;
			r = ivu_vring_indirect(d, vq, &desc, &table);
			if (r)
				return r;
			continue;
		}
		if (r < 0)
			break;
		err = ivu_vring_map(d, vq, b, &desc);
		if (err)
			return err;
		if (r == IVHOST_CHAIN_DONE) {
			b->head = c->id;
			b->ndesc = c->count;
			return 0;
		}
	}
	return r;
}

/*
 * A chain missed: ask now for the first buffer of each of the next
 * IVU_ASK_AHEAD chains the guest made available (an indirect table, or
 * the head descriptor's buffer), as vring.c does for a split ring.  The
 * chains are found by their NEXT flags; a malformed one is reported when
 * the ring gets there.
 */
static void ivu_pk_ask_ahead(struct ivu_dev *d, struct ivu_vring *vq)
{
	struct ivhost_packed_pos p = vq->pk.avail;
	unsigned int chains = 0, slots;
	struct ivhost_desc desc;
	bool head = true;
	u8 perm;

	for (slots = 0; slots < vq->num && chains <= IVU_ASK_AHEAD; slots++) {
		if (head) {
			if (!ivu_pk_avail_at(vq, p, NULL))
				break;
			ivu_rmb();
		}
		ivu_pk_desc_read(&desc, &ivu_pk_ring(vq)[p.idx]);
		if (head && chains) {
			perm = (desc.flags & VRING_DESC_F_WRITE) &&
			       !(desc.flags & VRING_DESC_F_INDIRECT) ?
			       IVHOST_PERM_WO : IVHOST_PERM_RO;
			ivhost_devtlb_ask(&d->iotlb.tlb, vq->index, desc.addr,
					  desc.len, perm);
		}
		head = !(desc.flags & VRING_DESC_F_NEXT);
		chains += head;
		ivhost_packed_advance(&p, vq->num, 1);
	}
	ivu_iotlb_queued();
}

/**
 * ivu_pk_pop() - take the next chain from a packed ring
 * @d: the device
 * @vq: a ready packed ring, not broken
 * @b: where to put the chain; b->head is its buffer ID, b->ndesc the
 *	ring descriptors it took
 *
 * Return: as ivu_vring_pop().
 */
int ivu_pk_pop(struct ivu_dev *d, struct ivu_vring *vq, struct ivu_buf *b)
{
	struct ivhost_packed_chain c;
	u16 flags;
	int err;

	if (!ivu_pk_avail_at(vq, vq->pk.avail, &flags))
		return 0;
	/* The rest of the chain is read after its head's flags. */
	ivu_rmb();
	err = ivu_pk_walk(d, vq, flags, b, &c);
	if (err == -EAGAIN) {
		ivu_pk_ask_ahead(d, vq);
		return err;
	}
	if (err) {
		ivu_vring_pop_failed(d, vq, err, vq->pk.avail.idx);
		return err;
	}
	if (vq->pk.npop < IVU_RING_MAX)
		ivu_pk_starts[vq->pk.npop] = ivu_pk_enc(vq->pk.avail);
	vq->pk.npop++;
	vq->pk.avail = c.pos;
	return 1;
}

/**
 * ivu_pk_unpop() - give back the last @n chains taken, unused
 * @vq: a packed ring
 * @n: how many, at most those taken since ivu_vring_frame_begin()
 *
 * The avail position, wrap counter included, goes back to where the
 * first of them started.
 */
void ivu_pk_unpop(struct ivu_vring *vq, unsigned int n)
{
	struct ivu_packed *pk = &vq->pk;

	if (!n || n > pk->npop || pk->npop - n >= IVU_RING_MAX)
		return;
	pk->npop -= n;
	pk->avail = ivu_pk_dec(ivu_pk_starts[pk->npop]);
}

/**
 * ivu_pk_push() - write a used descriptor (not yet visible)
 * @vq: a packed ring
 * @id: the buffer ID
 * @ndesc: the ring descriptors its chain took
 * @len: bytes written into it
 *
 * The first descriptor pushed since the last flush gets its flags there.
 */
void ivu_pk_push(struct ivu_vring *vq, u16 id, u16 ndesc, u32 len)
{
	struct ivu_packed *pk = &vq->pk;
	struct vring_packed_desc *u = &ivu_pk_ring(vq)[pk->used.idx];
	u16 flags = ivhost_packed_used_flags(pk->used.wrap, len > 0);

	ivu_wr16(&u->id, id);
	__atomic_store_n(&u->len, htole32(len), __ATOMIC_RELAXED);
	if (vq->published_used == vq->last_used) {
		pk->first = pk->used.idx;
		pk->first_flags = flags;
	} else {
		ivu_wr16(&u->flags, flags);
	}
	ivhost_packed_advance(&pk->used, vq->num, ndesc);
	pk->unsignalled += ndesc;
	pk->unpublished += ndesc;
	vq->last_used++;
}

/* Log the slots from the first unpublished used descriptor on. */
static void ivu_pk_log_used(struct ivu_dev *d, struct ivu_vring *vq)
{
	struct ivu_packed *pk = &vq->pk;
	u32 n = pk->unpublished < vq->num ? pk->unpublished : vq->num;
	u32 k = n < vq->num - pk->first ? n : vq->num - pk->first;

	ivu_dirty_ring(d, vq, 0, &ivu_pk_ring(vq)[pk->first],
		       k * sizeof(struct vring_packed_desc));
	if (n > k)
		ivu_dirty_ring(d, vq, 0, &ivu_pk_ring(vq)[0],
			       (n - k) * sizeof(struct vring_packed_desc));
}

/*
 * Does the guest want an interrupt for the descriptors just published?
 * Without EVENT_IDX: unless it disabled them.  With it: as its driver
 * area says for the positions since the last look.  With
 * NOTIFY_ON_EMPTY: also whenever the ring ran empty.
 */
static bool ivu_pk_need_signal(struct ivu_dev *d, struct ivu_vring *vq)
{
	struct ivu_packed *pk = &vq->pk;
	struct ivhost_packed_pos old = pk->signalled;
	bool valid = vq->signalled_valid;
	u32 moved = pk->unsignalled, ev;
	u16 flags;

	/* The used descriptors are visible before we look. */
	ivu_mb();
	ev = ivu_pk_event_read(ivu_pk_driver(vq));
	flags = (ev >> 16) & 3;
	pk->signalled = pk->used;
	pk->unsignalled = 0;
	vq->signalled_valid = true;
	if ((d->features & (1ULL << VIRTIO_F_NOTIFY_ON_EMPTY)) &&
	    !ivu_pk_has_avail(vq))
		return true;
	if (!ivu_vring_event_idx(d))
		return flags != VRING_PACKED_EVENT_FLAG_DISABLE;
	if (!valid || moved > vq->num)
		return true;
	return ivhost_packed_need_event(ev & 0xffff, flags, old, pk->used,
					vq->num);
}

/**
 * ivu_pk_flush() - publish the used descriptors pushed; interrupt the
 * guest if it wants
 * @d: the device
 * @vq: a packed ring
 */
void ivu_pk_flush(struct ivu_dev *d, struct ivu_vring *vq)
{
	struct ivu_packed *pk = &vq->pk;
	u64 one = 1;

	if (vq->published_used == vq->last_used)
		return;
	ivu_wmb();
	ivu_wr16(&ivu_pk_ring(vq)[pk->first].flags, pk->first_flags);
	/* Written, then marked (log.c). */
	ivu_pk_log_used(d, vq);
	ivu_dirty_done(d);
	vq->published_used = vq->last_used;
	pk->unpublished = 0;
	if (!ivu_pk_need_signal(d, vq))
		return;
	if (vq->call_fd >= 0 && write(vq->call_fd, &one, sizeof(one)) < 0)
		ivu_dbg("vq %d: call eventfd: %m", vq->index);
}

/**
 * ivu_pk_notify_at() - ask the guest for a kick at a position
 * @d: the device
 * @vq: a ready packed ring
 * @pos: the position whose descriptor should kick, as
 *	ivu_vring_avail_pos() gives it (with EVENT_IDX; without, any
 *	new descriptor kicks)
 *
 * The caller orders it before its next look at the ring.
 */
void ivu_pk_notify_at(struct ivu_dev *d, struct ivu_vring *vq, u16 pos)
{
	if (ivu_vring_event_idx(d))
		ivu_pk_event_write(d, vq, pos, VRING_PACKED_EVENT_FLAG_DESC);
	else
		ivu_pk_event_write(d, vq, pos, VRING_PACKED_EVENT_FLAG_ENABLE);
}

/**
 * ivu_pk_notify() - ask the guest for kicks, or tell it not to bother
 * @d: the device
 * @vq: a ready packed ring
 * @on: true to ask for a kick at the next descriptor
 */
void ivu_pk_notify(struct ivu_dev *d, struct ivu_vring *vq, bool on)
{
	u16 pos = ivu_pk_enc(vq->pk.avail);

	if (!on) {
		ivu_pk_event_write(d, vq, pos, VRING_PACKED_EVENT_FLAG_DISABLE);
		return;
	}
	ivu_pk_notify_at(d, vq, pos);
	/* The guest's next descriptor is read after it can see this. */
	ivu_mb();
}
