/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The device IOTLB cache: IOVA ranges mapped onto userspace ranges, held
 * in a red-black tree of closed intervals [start, last] that never
 * overlap, ordered by start.
 */
#ifndef _IVHOST_IOTLB_H
#define _IVHOST_IOTLB_H

#include <linux/list.h>
#include <linux/rbtree.h>
#include <linux/types.h>

/* Access rights, as in struct vhost_iotlb_msg's perm. */
#define IVHOST_PERM_RO	0x1
#define IVHOST_PERM_WO	0x2
#define IVHOST_PERM_RW	(IVHOST_PERM_RO | IVHOST_PERM_WO)

/**
 * struct ivhost_iotlb_entry - one cached translation
 * @rb: node in &ivhost_iotlb.root
 * @start: first IOVA
 * @last: last IOVA (closed interval)
 * @uaddr: userspace address of @start
 * @perm: IVHOST_PERM_* the entry grants
 * @referenced: used since the eviction clock last passed it
 * @clock: position in &ivhost_iotlb.clock
 */
struct ivhost_iotlb_entry {
	struct rb_node rb;
	u64 start;
	u64 last;
	u64 uaddr;
	u8 perm;
	bool referenced;
	struct list_head clock;
};

/**
 * struct ivhost_iotlb - a set of non-overlapping translations
 * @root: the entries, by IOVA
 * @clock: the entries in eviction-clock order, oldest first
 * @pool: removed entries kept for reuse (linked by &ivhost_iotlb_entry.clock)
 * @hint: the entry a lookup hit last, or NULL
 * @nentries: number of entries
 * @npool: entries on @pool, at most IVHOST_IOTLB_POOL
 * @limit: most entries kept; inserting beyond it evicts
 * @evictions: entries evicted so far
 * @evicted: entries were evicted since ivhost_iotlb_take_evicted() last ran
 * @evicted_start: lowest IOVA evicted since then, while @evicted
 * @evicted_last: highest IOVA evicted since then, while @evicted
 * @id: the owner's number for tracepoints (never a pointer)
 *
 * A VMM that maps and unmaps a buffer per packet makes one entry live and
 * die per packet; the pool turns that into list moves under the caller's
 * lock instead of an allocation and a free per message.
 */
struct ivhost_iotlb {
	struct rb_root root;
	struct list_head clock;
	struct list_head pool;
	struct ivhost_iotlb_entry *hint;
	u32 nentries;
	u32 npool;
	u32 limit;
	u64 evictions;
	bool evicted;
	u64 evicted_start;
	u64 evicted_last;
	u32 id;
};

/*
 * Removed entries kept for reuse, per cache: a VMM mapping a ring's worth
 * of buffers, then unmapping them as they are used, allocates nothing.
 */
#define IVHOST_IOTLB_POOL	64

/**
 * struct ivhost_iotlb_spare - entries allocated ahead of a change
 * @e: up to two entries; a change uses what it needs, the rest is freed
 *
 * Allocating before touching the tree lets an update or invalidation be
 * applied whole or not at all, under a spinlock.
 */
struct ivhost_iotlb_spare {
	struct ivhost_iotlb_entry *e[2];
};

void ivhost_iotlb_init(struct ivhost_iotlb *tlb, u32 limit);
void ivhost_iotlb_clear(struct ivhost_iotlb *tlb);
int ivhost_iotlb_spare_alloc(struct ivhost_iotlb_spare *s, gfp_t gfp);
void ivhost_iotlb_spare_free(struct ivhost_iotlb_spare *s);
unsigned int ivhost_iotlb_spares_needed(struct ivhost_iotlb *tlb,
					bool update, u64 start, u64 last);
bool ivhost_iotlb_spare_reserve(struct ivhost_iotlb *tlb,
				struct ivhost_iotlb_spare *s, unsigned int n);
void ivhost_iotlb_spare_release(struct ivhost_iotlb *tlb,
				struct ivhost_iotlb_spare *s);
int ivhost_iotlb_range(u64 iova, u64 size, u64 *last);
bool ivhost_iotlb_update(struct ivhost_iotlb *tlb,
			 struct ivhost_iotlb_spare *s, u64 start, u64 last,
			 u64 uaddr, u8 perm);
bool ivhost_iotlb_invalidate(struct ivhost_iotlb *tlb,
			     struct ivhost_iotlb_spare *s, u64 start,
			     u64 last);
struct ivhost_iotlb_entry *ivhost_iotlb_lookup(struct ivhost_iotlb *tlb,
					       u64 iova);
bool ivhost_iotlb_take_evicted(struct ivhost_iotlb *tlb, u64 *start,
			       u64 *last);
void ivhost_iotlb_touch(struct ivhost_iotlb *tlb, u64 start, u64 last);

#endif /* _IVHOST_IOTLB_H */
