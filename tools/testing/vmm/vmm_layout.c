// SPDX-License-Identifier: GPL-2.0
/*
 * vmm_layout.c - what the test VMM does differently in the two ring
 * layouts (split, and packed: vmm_packed.c), behind one interface: ring
 * sizes and state, event suppression, kicks, the pieces of a posted
 * buffer, one-descriptor buffers, peeking at the next used entry.  See
 * vmm.h.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <string.h>
#include <linux/virtio_config.h>

#include "vmm.h"

static int ring_use_packed;

void vmm_ring_use(int packed)
{
	ring_use_packed = packed;
}

int vmm_ring_packed_wanted(void)
{
	return ring_use_packed;
}

size_t vmm_ring_bytes(struct vmm_vq *q, int area)
{
	if (q->packed)
		return area ? sizeof(struct vring_packed_desc_event)
			    : 16 * (size_t)q->num;
	if (area == 1)
		return 6 + 2 * (size_t)q->num;
	return area ? 6 + 8 * (size_t)q->num : 16 * (size_t)q->num;
}

unsigned int vmm_vq_base_encode(struct vmm_vq *q, unsigned int base)
{
	unsigned int pos = base % q->num;

	if (!q->packed)
		return base;
	return pos | 1u << 15 | pos << 16 | 1u << 31;
}

void vmm_put_desc(struct vmm_vq *q, int head, uint64_t addr, uint32_t len,
		  uint16_t flags)
{
	uint16_t idx = vmm_post_start(q, head);

	if (q->packed) {
		vmm_post_seg(q, NULL, VMM_DIRECT, &idx, 0, 1, addr, len, flags);
		return;
	}
	q->desc[head] = (struct vring_desc){ addr, len, flags, 0 };
}

void vmm_event_arm(struct vmm_vq *q, int event_idx)
{
	if (q->packed)
		vmm_packed_event_arm(q, event_idx);
	else if (event_idx)
		__atomic_store_n(vmm_used_event(q), q->used_idx,
				 __ATOMIC_SEQ_CST);
}

int vmm_kick_needed(struct vmm_vq *q)
{
	uint16_t old = q->kick_pos, ev;

	if (q->packed)
		return vmm_packed_kick_needed(q);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (!(q->v->features & (1ULL << VIRTIO_RING_F_EVENT_IDX)))
		return !(__atomic_load_n(&q->used->flags, __ATOMIC_ACQUIRE) &
			 VRING_USED_F_NO_NOTIFY);
	/* the avail index at the last kick is what kick_pos keeps here */
	ev = __atomic_load_n(vmm_avail_event(q), __ATOMIC_ACQUIRE);
	return (uint16_t)(q->avail_idx - ev - 1) < (uint16_t)(q->avail_idx -
							       old);
}

int vmm_chain_segs(struct vmm_vq *q, unsigned int head, struct vmm_seg *out,
		   unsigned int max)
{
	struct vring_desc *table = q->desc;
	unsigned int i = head, n = 0, limit = q->num;

	if (head >= q->num)
		return -EINVAL;
	if (q->packed) {
		n = q->nsegs[head] < max ? q->nsegs[head] : max;
		memcpy(out, q->segs + (size_t)head * VMM_MAX_SEGS,
		       n * sizeof(*out));
		return n;
	}
	if (q->desc[head].flags & VRING_DESC_F_INDIRECT) {
		table = vmm_hva(q->v, q->desc[head].addr);
		limit = q->desc[head].len / sizeof(*table);
		i = 0;
		if (!table)
			return -EINVAL;
	}
	while (n < max && i < limit) {
		out[n].addr = table[i].addr;
		out[n].len = table[i].len;
		out[n++].flags = table[i].flags & VRING_DESC_F_WRITE;
		if (!(table[i].flags & VRING_DESC_F_NEXT) || n >= limit)
			break;
		i = table[i].next;
	}
	return n;
}

/* Copy from the pieces the driver kept for a buffer (packed rings). */
size_t vmm_rx_copy_segs(struct vmm_vq *q, uint16_t head, void *dst,
			   size_t size)
{
	struct vmm_seg segs[VMM_MAX_SEGS];
	int i, n = vmm_chain_segs(q, head, segs, VMM_MAX_SEGS);
	uint8_t *out = dst;
	size_t done = 0;

	for (i = 0; i < n && done < size; i++) {
		uint8_t *p = vmm_hva(q->v, segs[i].addr);
		size_t c = segs[i].len < size - done ? segs[i].len
						     : size - done;

		if (!p)
			break;
		memcpy(out + done, p, c);
		done += c;
	}
	return done;
}

int vmm_used_peek(struct vmm_vq *q, uint32_t *id, uint32_t *len)
{
	if (q->packed)
		return vmm_packed_peek(q, id, len);
	if (vmm_used_idx(q) == q->used_idx)
		return 0;
	*id = q->used->ring[q->used_idx % q->num].id;
	*len = q->used->ring[q->used_idx % q->num].len;
	return 1;
}
