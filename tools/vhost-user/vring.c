// SPDX-License-Identifier: GPL-2.0
/*
 * Split virtqueues in guest memory: taking chains from the avail ring,
 * returning them on the used ring, notification suppression both ways
 * (VRING_USED_F_NO_NOTIFY / avail_event, VRING_AVAIL_F_NO_INTERRUPT /
 * used_event with VIRTIO_RING_F_EVENT_IDX).  A ring started with
 * VIRTIO_F_RING_PACKED is packed: the public functions here hand it to
 * their counterparts in vring_packed.c.
 *
 * The guest writes the rings while we read them, so every field is read
 * once into a local copy, and the copy is what gets checked and used.
 * Chains are validated by the module's drivers/vhost/chain.c.  A ring the
 * guest breaks (a head or next out of range, a loop, a buffer outside its
 * memory, an index that jumps) is stopped with a log line and an
 * interrupt on its error eventfd; it stays stopped until the frontend
 * starts it again.
 *
 * With VIRTIO_F_IOMMU_PLATFORM every guest address (the rings', the
 * descriptors', the indirect tables') is an IOVA, translated through the
 * device IOTLB (iotlb.c).  The rings are translated at the start of a
 * round and kept until the IOTLB's barrier drops them; a translation
 * that misses makes the round end with nothing taken (-EAGAIN), and the
 * ring runs again when the UPDATE arrives.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <linux/virtio_config.h>

#include "chain.h"
#include "ivu.h"

/**
 * ivu_vring_event_idx() - was VIRTIO_RING_F_EVENT_IDX acked?
 * @d: the device
 *
 * Return: true if it was.
 */
bool ivu_vring_event_idx(const struct ivu_dev *d)
{
	return d->features & (1ULL << VIRTIO_RING_F_EVENT_IDX);
}

/**
 * ivu_vring_init() - put a vq in its initial state, holding nothing
 * @vq: the vq
 * @index: its global index
 */
void ivu_vring_init(struct ivu_vring *vq, int index)
{
	memset(vq, 0, sizeof(*vq));
	vq->index = index;
	/* A packed ring's wrap counters start at 1 (virtio 1.1, 2.7.1). */
	vq->pk.avail.wrap = true;
	vq->pk.used.wrap = true;
	vq->kick_fd = -1;
	vq->call_fd = -1;
	vq->err_fd = -1;
}

/**
 * ivu_vring_clear() - drop everything a frontend gave a vq
 * @d: the device
 * @vq: the vq; back in its initial state
 */
void ivu_vring_clear(struct ivu_dev *d, struct ivu_vring *vq)
{
	ivu_vring_stop(d, vq);
	ivu_close(&vq->call_fd);
	ivu_close(&vq->err_fd);
	ivu_vring_init(vq, vq->index);
}

static void ivu_vring_signal_err(struct ivu_vring *vq)
{
	u64 one = 1;

	vq->err_due = false;
	if (vq->err_fd >= 0 && write(vq->err_fd, &one, sizeof(one)) < 0)
		ivu_dbg("vq %d: error eventfd: %m", vq->index);
}

/**
 * ivu_vring_break() - stop a ring the guest broke
 * @d: the device
 * @vq: the ring
 * @why: what was wrong, for the log
 * @arg: a number that goes with it
 */
void ivu_vring_break(struct ivu_dev *d, struct ivu_vring *vq,
		     const char *why, long arg)
{
	if (vq->broken)
		return;
	ivu_log("vq %d: %s (%ld); queue stopped until restarted",
		vq->index, why, arg);
	vq->broken = true;
	vq->more = false;
	__atomic_add_fetch(&d->stats.broken_rings, 1, __ATOMIC_RELAXED);
	/*
	 * Every round ends with a flush: chains it pushed before the break
	 * are published first, so that a frontend woken by the error sees
	 * them in the used index (what went out is still used).  The control
	 * thread leaves the signal to the ring's worker: the frontend may
	 * have made the eventfd blocking, and only a worker is interrupted
	 * (worker.c).
	 */
	if ((vq->used && vq->published_used != vq->last_used) ||
	    !ivu_on_worker())
		vq->err_due = true;
	else
		ivu_vring_signal_err(vq);
}

/**
 * ivu_vring_aligned() - are a ring's areas aligned where they are mapped?
 * @desc: the descriptors, locally
 * @avail: the avail ring (packed: the driver area, which must also be
 *	4-byte aligned)
 * @used: the used ring (packed: the device area)
 *
 * The rings as mapped here must be aligned as the frontend's addresses
 * are: a region's (or an IOTLB entry's) offset may shift them.
 * Return: true if they are.
 */
bool ivu_vring_aligned(const void *desc, const void *avail, const void *used)
{
	return !((uintptr_t)desc & 15) && !((uintptr_t)avail & 1) &&
	       !((uintptr_t)used & 3);
}

/**
 * ivu_vring_unmap_rings() - drop a ring's local addresses
 * @vq: the ring
 *
 * Its aliases (alias.c) too.  The next round translates the rings again
 * (with the IOTLB), or a restart maps them.
 * Context: the control thread, d->lock held for writing or the ring
 * stopped; or the ring's worker for its own ring.
 */
void ivu_vring_unmap_rings(struct ivu_vring *vq)
{
	unsigned int i;

	vq->desc = NULL;
	vq->avail = NULL;
	vq->used = NULL;
	for (i = 0; i < IVU_RING_AREAS; i++)
		ivu_alias_unmap(&vq->alias[i], vq->index * IVU_RING_AREAS + i);
}

/**
 * ivu_vring_qva() - map a ring area's frontend virtual range
 * @d: the device, without the IOTLB
 * @vq: the ring
 * @area: which area (0 descriptors, 1 avail/driver, 2 used/device)
 * @qva: the area's frontend virtual address
 * @len: its length
 *
 * Return: the area in place if it is in one region, else through an
 * alias of its pieces (alias.c); NULL if neither.
 */
void *ivu_vring_qva(struct ivu_dev *d, struct ivu_vring *vq,
			   unsigned int area, u64 qva, u64 len)
{
	struct iovec seg[IVU_MAX_REGIONS];
	void *p;
	int n;

	n = ivu_mem_qva_iov(&d->mem, qva, len, seg, ARRAY_SIZE(seg));
	if (n <= 0 || ivu_alias_ring(vq, area, seg, n, &p))
		return NULL;
	return p;
}

/**
 * ivu_vring_start() - map a ring's addresses and start it
 * @d: the device
 * @vq: the ring; its kick fd just arrived
 *
 * Return: 0, or -EINVAL if the size or addresses are unusable.
 */
int ivu_vring_start(struct ivu_dev *d, struct ivu_vring *vq)
{
	const struct vhost_vring_addr *a = &vq->addr;
	u64 n = vq->num;

	ivu_vring_unmap_rings(vq);
	/*
	 * err_due stays: a break a message made before this restart is still
	 * signalled, by the ring's worker (ivu_vring_break()).
	 */
	vq->broken = false;
	vq->signalled_valid = false;
	if (!n || !vq->addr_set)
		return -EINVAL;
	vq->packed = d->features & (1ULL << VIRTIO_F_RING_PACKED);
	if (vq->packed)
		return ivu_pk_start(d, vq);
	if (n & (n - 1))
		return -EINVAL;	/* set for a packed ring */
	if ((a->desc_user_addr & 15) || (a->avail_user_addr & 1) ||
	    (a->used_user_addr & 3))
		return -EINVAL;
	if (ivu_iotlb_on(d)) {
		/* IOVAs: translated by the first round, which may miss. */
		vq->used_idx_unread = true;
		vq->started = true;
		return 0;
	}
	vq->desc = ivu_vring_qva(d, vq, 0, a->desc_user_addr, 16 * n);
	vq->avail = ivu_vring_qva(d, vq, 1, a->avail_user_addr, 6 + 2 * n);
	vq->used = ivu_vring_qva(d, vq, 2, a->used_user_addr, 6 + 8 * n);
	if (!vq->desc || !vq->avail || !vq->used ||
	    !ivu_vring_aligned(vq->desc, vq->avail, vq->used)) {
		ivu_vring_unmap_rings(vq);
		return -EINVAL;
	}
	vq->last_used = ivu_rd16(&vq->used->idx);
	vq->published_used = vq->last_used;
	vq->started = true;
	ivu_dbg("vq %d: started, num %u, avail %u used %u", vq->index,
		vq->num, vq->last_avail, vq->last_used);
	return 0;
}

/**
 * ivu_vring_stop() - stop a ring: no more processing, its kick fd closed
 * @d: the device
 * @vq: the ring
 */
void ivu_vring_stop(struct ivu_dev *d, struct ivu_vring *vq)
{
	if (vq->kick_fd >= 0) {
		ivu_unwatch(d, vq->kick_fd);
		ivu_close(&vq->kick_fd);
	}
	if (vq->started)
		ivu_notifier_stop(d, vq);
	vq->started = false;
	vq->more = false;
	ivu_vring_unmap_rings(vq);
}

/**
 * ivu_vring_ready() - can the ring be processed now?
 * @d: the device
 * @vq: the ring
 *
 * Return: true if started, mapped and not broken (enable is the caller's
 * business: a disabled ring is not processed).
 */
bool ivu_vring_ready(const struct ivu_dev *d, const struct ivu_vring *vq)
{
	return vq->started && (vq->desc || ivu_iotlb_on(d)) && !vq->broken;
}

/* A ring's translation failed: a denied access stops the ring. */
static int ivu_vring_ring_err(struct ivu_dev *d, struct ivu_vring *vq,
			      int err)
{
	if (err == -EACCES)
		ivu_vring_break(d, vq, "IOTLB denies access to the ring, num",
				vq->num);
	else if (err && err != -EAGAIN)
		ivu_vring_break(d, vq, "ring outside the IOTLB's memory, num",
				vq->num);
	return err;
}

/* Translate one ring area's IOVAs (area: 0 desc, 1 avail, 2 used). */
static int ivu_vring_ring(struct ivu_dev *d, struct ivu_vring *vq,
			  unsigned int area, u64 iova, u64 len, u8 perm,
			  void **ptr)
{
	return ivu_vring_ring_err(d, vq, ivu_iotlb_ring(d, vq, area, iova,
							len, perm, ptr));
}

/*
 * Rings, and the entry the ring's copy serves (ivu_iotlb_span()), used
 * without a lookup count as used for the IOTLB's eviction.
 */
static void ivu_vring_touch(struct ivu_dev *d, struct ivu_vring *vq)
{
	const struct vhost_vring_addr *a = &vq->addr;
	u64 n = vq->num, al = vq->packed ? 4 : 6 + 2 * n;	/* packed: */
	u64 ul = vq->packed ? 4 : 6 + 8 * n;	/* the event areas */
	const struct ivhost_devtlb_span *s = &vq->tlbq.span;
	struct ivhost_devtlb_range r[4] = {
		{ a->desc_user_addr, a->desc_user_addr + 16 * n - 1 },
		{ a->avail_user_addr, a->avail_user_addr + al - 1 },
		{ a->used_user_addr, a->used_user_addr + ul - 1 },
		{ s->start, s->last },	/* served without a lookup too */
	};

	ivhost_devtlb_touch(&d->iotlb.tlb, r, s->perm ? 4 : 3);
}

/**
 * ivu_vring_rings() - make sure a ready ring's addresses are translated
 * @d: the device
 * @vq: a ready ring
 *
 * Without the IOTLB they always are.  With it, the rings are translated
 * through the IOTLB unless the last round's translations still hold.
 *
 * Return: 0; -EAGAIN on a miss (the ring waits for the UPDATE); or a
 * negative errno when the ring was stopped.
 */
int ivu_vring_rings(struct ivu_dev *d, struct ivu_vring *vq)
{
	const struct vhost_vring_addr *a = &vq->addr;
	void *desc, *avail, *used, *idx;
	u64 n = vq->num;
	int err;

	if (vq->packed && !vq->desc)
		return ivu_pk_rings(d, vq);
	if (vq->desc) {
		if (ivu_iotlb_on(d))
			ivu_vring_touch(d, vq);
		return 0;
	}
	err = ivu_vring_ring(d, vq, 0, a->desc_user_addr, 16 * n,
			     IVHOST_PERM_RO, &desc);
	if (!err)
		err = ivu_vring_ring(d, vq, 1, a->avail_user_addr, 6 + 2 * n,
				     IVHOST_PERM_RO, &avail);
	if (!err)
		err = ivu_vring_ring(d, vq, 2, a->used_user_addr, 6 + 8 * n,
				     IVHOST_PERM_WO, &used);
	/*
	 * The used ring is checked for writing only: its index is read
	 * (once, at start) only if its mapping also allows reading.
	 */
	if (!err && vq->used_idx_unread) {
		err = ivu_iotlb_ptr(d, vq, a->used_user_addr +
				    offsetof(struct vring_used, idx),
				    sizeof(u16), IVHOST_PERM_RO, false, &idx);
		err = ivu_vring_ring_err(d, vq, err);
	}
	if (!err && !ivu_vring_aligned(desc, avail, used)) {
		ivu_vring_break(d, vq, "IOTLB maps the ring misaligned, num",
				vq->num);
		err = -EINVAL;
	}
	if (err)
		return err;
	vq->desc = desc;
	vq->avail = avail;
	vq->used = used;
	if (vq->used_idx_unread) {
		vq->last_used = ivu_rd16(&vq->used->idx);
		vq->published_used = vq->last_used;
		vq->used_idx_unread = false;
		ivu_dbg("vq %d: started, num %u, avail %u used %u (IOTLB)",
			vq->index, vq->num, vq->last_avail, vq->last_used);
	}
	return 0;
}

/**
 * ivu_vring_has_avail() - are there chains we have not taken?
 * @vq: a ready ring
 *
 * Return: true if the avail index moved past what we took.
 */
bool ivu_vring_has_avail(struct ivu_vring *vq)
{
	if (vq->packed)
		return ivu_pk_has_avail(vq);
	return ivu_rd16(&vq->avail->idx) != vq->last_avail;
}

/**
 * ivu_vring_avail_pos() - where the ring takes its next chain
 * @vq: a ready ring
 *
 * Return: the next avail entry to take; packed: the next descriptor's
 * position, its index with its wrap counter in bit 15.
 */
u16 ivu_vring_avail_pos(struct ivu_vring *vq)
{
	if (vq->packed)
		return vq->pk.avail.idx | vq->pk.avail.wrap << 15;
	return vq->last_avail;
}

/**
 * ivu_vring_avail_since() - has the guest made chains available at @pos?
 * @vq: a ready ring
 * @pos: what ivu_vring_avail_pos() returned
 *
 * Return: true if the avail index moved past @pos; packed: if the
 * descriptor at @pos is available.
 */
bool ivu_vring_avail_since(struct ivu_vring *vq, u16 pos)
{
	if (vq->packed)
		return ivu_pk_avail_since(vq, pos);
	return ivu_rd16(&vq->avail->idx) != pos;
}

/**
 * ivu_vring_map() - add a descriptor's buffer to a chain's segments
 * @d: the device
 * @vq: the ring it came from
 * @b: the chain: its readable segments, or writable with
 *	VRING_DESC_F_WRITE in @desc's flags
 * @desc: the descriptor
 *
 * Return: 0; -EAGAIN on an IOTLB miss, -EACCES for an access it denies,
 * -ENOSPC for a frame in too many of its entries; else -EFAULT.
 */
int ivu_vring_map(struct ivu_dev *d, struct ivu_vring *vq, struct ivu_buf *b,
		  const struct ivhost_desc *desc)
{
	unsigned int used = b->n_out + b->n_in;
	bool wr = desc->flags & VRING_DESC_F_WRITE;
	int n;

	if (ivu_iotlb_on(d))
		n = ivu_iotlb_iov(d, vq, desc->addr, desc->len,
				  wr ? IVHOST_PERM_WO : IVHOST_PERM_RO,
				  b->iov + used, IVU_IOV_MAX - used);
	else
		n = ivu_mem_gpa_iov(&d->mem, desc->addr, desc->len,
				    b->iov + used, IVU_IOV_MAX - used);
	if (n == -EAGAIN || n == -EACCES || n == -ENOSPC)
		return n;
	if (n < 0)
		return -EFAULT;
	if (wr) {
		b->n_in += n;
		b->in_len += desc->len;
	} else {
		b->n_out += n;
		b->out_len += desc->len;
	}
	return 0;
}

static void ivu_desc_read(struct ivhost_desc *out, const void *in)
{
	struct vring_desc raw;

	memcpy(&raw, in, sizeof(raw));
	out->addr = le64toh(raw.addr);
	out->len = le32toh(raw.len);
	out->flags = le16toh(raw.flags);
	out->next = le16toh(raw.next);
}

/**
 * ivu_vring_indirect() - map the indirect table a descriptor points at
 * @d: the device
 * @vq: the ring it came from
 * @desc: the descriptor
 * @table: gets the table's local address
 *
 * Return: 0, or a negative errno (-EAGAIN on an IOTLB miss).
 */
int ivu_vring_indirect(struct ivu_dev *d, struct ivu_vring *vq,
		       const struct ivhost_desc *desc,
		       const unsigned char **table)
{
	void *p;
	int err;

	if (!ivu_iotlb_on(d)) {
		*table = ivu_mem_gpa(&d->mem, desc->addr, desc->len);
		return *table ? 0 : -EFAULT;
	}
	err = ivu_iotlb_ptr(d, vq, desc->addr, desc->len, IVHOST_PERM_RO, true,
			    &p);
	*table = p;
	return err;
}

/*
 * Walk the chain at @head into @b: 0, or a negative errno (-EAGAIN: an
 * IOTLB miss, the chain is taken again later).
 */
static int ivu_vring_walk(struct ivu_dev *d, struct ivu_vring *vq, u16 head,
			  struct ivu_buf *b)
{
	const unsigned char *table = (const unsigned char *)vq->desc;
	struct ivhost_chain c;
	struct ivhost_desc desc;
	int r, err;

	b->head = head;
	b->n_out = 0;
	b->n_in = 0;
	b->out_len = 0;
	b->in_len = 0;
	r = ivhost_chain_start(&c, vq->num, head);
	while (r >= 0) {
		ivu_desc_read(&desc, table + c.idx * sizeof(struct vring_desc));
		r = ivhost_chain_step(&c, &desc);
		if (r == IVHOST_CHAIN_INDIRECT) {
			r = ivhost_chain_enter_indirect(&c, &desc);
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
		if (r == IVHOST_CHAIN_DONE)
			return 0;
	}
	return r;
}

/*
 * A chain missed: ask now for the first buffer of each of the next
 * IVU_ASK_AHEAD chains the guest made available (an indirect table, or
 * the head descriptor's buffer), so that the frontend answers them all
 * in one round trip rather than one per chain.  Only MISS messages are
 * queued: a forbidden access is reported when the ring reaches it.
 */
static void ivu_vring_ask_ahead(struct ivu_dev *d, struct ivu_vring *vq,
				u16 avail_idx)
{
	u16 ahead = avail_idx - vq->last_avail;
	struct ivhost_desc desc;
	u16 i, head;
	u8 perm;

	if (ahead > IVU_ASK_AHEAD + 1)
		ahead = IVU_ASK_AHEAD + 1;
	for (i = 1; i < ahead; i++) {
		head = ivu_rd16(&vq->avail->ring[(u16)(vq->last_avail + i) &
						 (vq->num - 1)]);
		if (head >= vq->num)
			return;	/* reported when the ring gets there */
		ivu_desc_read(&desc, (const unsigned char *)vq->desc +
			      head * sizeof(struct vring_desc));
		perm = (desc.flags & VRING_DESC_F_WRITE) &&
		       !(desc.flags & VRING_DESC_F_INDIRECT) ?
		       IVHOST_PERM_WO : IVHOST_PERM_RO;
		ivhost_devtlb_ask(&d->iotlb.tlb, vq->index, desc.addr,
				  desc.len, perm);
	}
	ivu_iotlb_queued();
}

/**
 * ivu_vring_frame_begin() - a new frame begins: renew what it may take
 * @vq: the ring
 *
 * With the IOTLB, one frame (a TX chain, or the chains of one RX frame)
 * may step into at most IVU_FRAME_MAX_ENTRIES distinct entries, as on the
 * kernel device: so every frame in progress fits in the cache together
 * with the rings, and answering its misses never evicts what it needs.
 */
void ivu_vring_frame_begin(struct ivu_vring *vq)
{
	vq->tlbq.budget = IVU_FRAME_MAX_ENTRIES;
	vq->tlbq.nseen = 0;
	vq->pk.npop = 0;
}

/**
 * ivu_vring_pop_failed() - stop a ring whose chain could not be taken
 * @d: the device
 * @vq: the ring
 * @err: why: the negative errno of the walk (not -EAGAIN)
 * @head: the chain's head
 */
void ivu_vring_pop_failed(struct ivu_dev *d, struct ivu_vring *vq, int err,
			  u16 head)
{
	ivu_vring_break(d, vq, err == -EACCES ?
			"IOTLB denies the access, head" :
			err == -ENOSPC ?
			"frame in too many IOTLB entries, head" :
			err == -EFAULT ?
			"descriptor outside guest memory, head" :
			err == -ELOOP ? "descriptor loop, head" :
			"bad descriptor chain, head", head);
}

/**
 * ivu_vring_area() - translate one of a ring's areas through the IOTLB
 * @d: the device, with the IOTLB on
 * @vq: the ring
 * @area: which: 0 the descriptors, 1 the avail ring (packed: the driver
 *	area), 2 the used ring (packed: the device area)
 * @iova: the area's IOVA
 * @len: its length
 * @perm: the access needed
 * @ptr: gets its local address
 *
 * A denied access, or an area outside the IOTLB's memory, stops the ring.
 * Return: 0, -EAGAIN on a miss, or the negative errno the ring stopped for.
 */
int ivu_vring_area(struct ivu_dev *d, struct ivu_vring *vq, unsigned int area,
		   u64 iova, u64 len, u8 perm, void **ptr)
{
	return ivu_vring_ring(d, vq, area, iova, len, perm, ptr);
}

/**
 * ivu_vring_pop() - take the next chain from the avail ring
 * @d: the device
 * @vq: a ready ring
 * @b: where to put the chain
 *
 * Return: 1 with a chain in @b, 0 if the ring is empty, -EAGAIN if the
 * chain needs a translation the IOTLB does not have yet (nothing taken;
 * the UPDATE wakes the ring), or another negative errno if the guest
 * broke the ring or the IOTLB denied an access (it is then stopped), or
 * -EIO if the ring was stopped earlier in the round (a used-ring write
 * that could not be logged): a stopped ring takes nothing more.
 */
int ivu_vring_pop(struct ivu_dev *d, struct ivu_vring *vq, struct ivu_buf *b)
{
	u16 avail_idx, head;
	int err;

	if (vq->broken)
		return -EIO;
	if (vq->packed)
		return ivu_pk_pop(d, vq, b);
	avail_idx = ivu_rd16(&vq->avail->idx);
	if (avail_idx == vq->last_avail)
		return 0;
	if ((u16)(avail_idx - vq->last_avail) > vq->num) {
		ivu_vring_break(d, vq, "avail index jumped by",
				(u16)(avail_idx - vq->last_avail));
		return -EINVAL;
	}
	ivu_rmb();
	head = ivu_rd16(&vq->avail->ring[vq->last_avail & (vq->num - 1)]);
	if (head >= vq->num) {
		ivu_vring_break(d, vq, "avail head out of range", head);
		return -EINVAL;
	}
	err = ivu_vring_walk(d, vq, head, b);
	if (err == -EAGAIN) {
		ivu_vring_ask_ahead(d, vq, avail_idx);
		return err;
	}
	if (err) {
		ivu_vring_pop_failed(d, vq, err, head);
		return err;
	}
	vq->last_avail++;
	return 1;
}

/**
 * ivu_vring_unpop() - give back the last @n chains taken, unused
 * @vq: the ring
 * @n: how many
 */
void ivu_vring_unpop(struct ivu_vring *vq, unsigned int n)
{
	if (vq->packed)
		ivu_pk_unpop(vq, n);
	else
		vq->last_avail -= n;
}

/**
 * ivu_vring_push() - return a chain on the used ring (not yet visible)
 * @vq: the ring
 * @head: the chain's head (packed: its buffer ID)
 * @ndesc: packed: the ring descriptors it took (struct ivu_buf's ndesc)
 * @len: bytes written into it
 */
void ivu_vring_push(struct ivu_vring *vq, u16 head, u16 ndesc, u32 len)
{
	struct vring_used_elem *e;

	if (vq->packed) {
		ivu_pk_push(vq, head, ndesc, len);
		return;
	}
	e = &vq->used->ring[vq->last_used & (vq->num - 1)];
	e->id = htole32(head);
	e->len = htole32(len);
	vq->last_used++;
}

/* NOTIFY_ON_EMPTY acked and the guest has posted nothing we did not take. */
static bool ivu_vring_ran_empty(struct ivu_dev *d, struct ivu_vring *vq)
{
	return (d->features & (1ULL << VIRTIO_F_NOTIFY_ON_EMPTY)) &&
	       ivu_rd16(&vq->avail->idx) == vq->last_avail;
}

/*
 * Does the guest want an interrupt for the entries just published?  With
 * EVENT_IDX: if its used_event lies in (previous check, now].  With
 * NOTIFY_ON_EMPTY: also whenever the ring ran empty, suppressed or not.
 */
static bool ivu_vring_need_signal(struct ivu_dev *d, struct ivu_vring *vq)
{
	u16 old = vq->signalled_used, event;
	bool valid = vq->signalled_valid;

	/* The used index is visible before we look at what the guest wants. */
	ivu_mb();
	if (ivu_vring_ran_empty(d, vq))
		return true;
	if (!ivu_vring_event_idx(d))
		return !(ivu_rd16(&vq->avail->flags) & VRING_AVAIL_F_NO_INTERRUPT);
	event = ivu_rd16(&vq->avail->ring[vq->num]);
	vq->signalled_used = vq->published_used;
	vq->signalled_valid = true;
	return !valid || vring_need_event(event, vq->published_used, old);
}

/* Publish the pushed chains; interrupt the guest if it wants. */
static void ivu_vring_publish(struct ivu_dev *d, struct ivu_vring *vq)
{
	u64 one = 1;

	if (vq->published_used == vq->last_used)
		return;
	ivu_wmb();
	ivu_wr16(&vq->used->idx, vq->last_used);
	/* The entries and the index written, then marked (log.c). */
	ivu_dirty_used_elems(d, vq, vq->published_used,
			     vq->last_used - vq->published_used);
	ivu_dirty_used(d, vq, &vq->used->idx, sizeof(vq->used->idx));
	ivu_dirty_done(d);
	vq->published_used = vq->last_used;
	if (!ivu_vring_need_signal(d, vq))
		return;
	if (vq->call_fd >= 0 && write(vq->call_fd, &one, sizeof(one)) < 0)
		ivu_dbg("vq %d: call eventfd: %m", vq->index);
}

/**
 * ivu_vring_flush() - publish the pushed chains, interrupt if wanted, then
 * signal a break that waited for them (ivu_vring_break())
 * @d: the device
 * @vq: the ring
 */
void ivu_vring_flush(struct ivu_dev *d, struct ivu_vring *vq)
{
	if (vq->packed)
		ivu_pk_flush(d, vq);
	else
		ivu_vring_publish(d, vq);
	if (vq->err_due)
		ivu_vring_signal_err(vq);
}

/**
 * ivu_vring_notify_at() - ask the guest for a kick at avail entry @idx
 * @d: the device
 * @vq: a ready ring
 * @idx: the avail index whose entry should kick (with EVENT_IDX); an RX
 *	ring that gave back chains too small for a frame passes the index
 *	it had seen, so that only a new buffer kicks; packed: a position,
 *	as ivu_vring_avail_pos() gives it
 */
void ivu_vring_notify_at(struct ivu_dev *d, struct ivu_vring *vq, u16 idx)
{
	if (vq->packed) {
		ivu_pk_notify_at(d, vq, idx);
	} else if (ivu_vring_event_idx(d)) {
		ivu_wr16(&vq->used->ring[vq->num], idx);
		ivu_dirty_used(d, vq, &vq->used->ring[vq->num], sizeof(u16));
	} else {
		ivu_vring_notify(d, vq, true);
	}
	ivu_mb();
}

/**
 * ivu_vring_notify() - ask the guest for kicks, or tell it not to bother
 * @d: the device
 * @vq: a ready ring
 * @on: true to ask for a kick at the next avail entry
 */
void ivu_vring_notify(struct ivu_dev *d, struct ivu_vring *vq, bool on)
{
	if (vq->packed) {
		ivu_pk_notify(d, vq, on);
		return;
	}
	if (ivu_vring_event_idx(d)) {
		/* Off: leave avail_event behind; the guest stops kicking. */
		if (on) {
			ivu_wr16(&vq->used->ring[vq->num], vq->last_avail);
			ivu_dirty_used(d, vq, &vq->used->ring[vq->num],
				       sizeof(u16));
		}
	} else {
		/*
		 * The device owns used->flags, NO_NOTIFY its only bit: written,
		 * never read (with the IOTLB the ring may be write-only).
		 */
		ivu_wr16(&vq->used->flags, on ? 0 : VRING_USED_F_NO_NOTIFY);
		ivu_dirty_used(d, vq, &vq->used->flags, sizeof(u16));
	}
	/* The guest's next avail->idx is read after it can see this. */
	if (on)
		ivu_mb();
}
