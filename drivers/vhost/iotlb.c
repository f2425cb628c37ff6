// SPDX-License-Identifier: GPL-2.0
/*
 * The device IOTLB cache.
 *
 * Entries are closed IOVA intervals [start, last] that never overlap, so a
 * lookup finds at most one entry and the answer never depends on the
 * order updates arrived in:
 *
 *  - an UPDATE replaces whatever part of older entries it overlaps (last
 *    write wins): entries straddling its edges are trimmed or split;
 *  - an INVALIDATE removes exactly its range, trimming or splitting the
 *    entries that straddle its edges.
 *
 * A change needs at most two new entries (the update itself and the far
 * half of a split entry), which the caller allocates beforehand with
 * ivhost_iotlb_spare_alloc(), so changes never fail half-way and may run
 * under a spinlock.
 *
 * Eviction is a CLOCK (second chance) over insertion order: a lookup only
 * sets the entry's referenced bit, and eviction skips, clears and requeues
 * referenced entries, so hot mappings survive a stream of one-shot ones,
 * unlike FIFO.  Users that keep translations of their own outside the
 * cache mark what they still use with ivhost_iotlb_touch(), and learn
 * what was evicted (whatever the change that caused it) from
 * ivhost_iotlb_take_evicted(), so that they can drop it too.
 *
 * Lookups first try the entry hit last (O(1) for the common streaming
 * case), then the tree (O(log n)).
 *
 * Removed entries go to a small pool that the next change's spares come
 * from (ivhost_iotlb_spare_reserve()), so a steady map/unmap stream does
 * not allocate.
 *
 * Locking: none inside; the owner of the cache serialises every call.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/errno.h>
#include <linux/rbtree.h>
#include <linux/overflow.h>
#include <linux/slab.h>

#include "iotlb.h"
#include "kunit_export.h"
#include "trace.h"

/*
 * The tree is a plain red-black tree ordered by start.  Entries never
 * overlap, so it is ordered by last as well: a point lookup is a binary
 * descent, and the first entry meeting a range is the lowest whose last
 * reaches the range's start.  No augmented data is kept, and an entry
 * trimmed in place keeps its place.
 */
static struct ivhost_iotlb_entry *ivhost_iotlb_node(struct rb_node *n)
{
	return rb_entry_safe(n, struct ivhost_iotlb_entry, rb);
}

static void ivhost_iotlb_tree_insert(struct ivhost_iotlb *tlb,
				     struct ivhost_iotlb_entry *e)
{
	struct rb_node **link = &tlb->root.rb_node, *parent = NULL;

	while (*link) {
		parent = *link;
		if (e->start < ivhost_iotlb_node(parent)->start)
			link = &parent->rb_left;
		else
			link = &parent->rb_right;
	}
	rb_link_node(&e->rb, parent, link);
	rb_insert_color(&e->rb, &tlb->root);
}

/* The entry holding @iova, or NULL. */
static struct ivhost_iotlb_entry *ivhost_iotlb_find(struct ivhost_iotlb *tlb,
						    u64 iova)
{
	struct rb_node *n = tlb->root.rb_node;
	struct ivhost_iotlb_entry *e;

	while (n) {
		e = rb_entry(n, struct ivhost_iotlb_entry, rb);
		if (iova < e->start)
			n = n->rb_left;
		else if (iova > e->last)
			n = n->rb_right;
		else
			return e;
	}
	return NULL;
}

/* The lowest entry meeting [start, last], or NULL. */
static struct ivhost_iotlb_entry *
ivhost_iotlb_first(struct ivhost_iotlb *tlb, u64 start, u64 last)
{
	struct ivhost_iotlb_entry *e, *best = NULL;
	struct rb_node *n = tlb->root.rb_node;

	while (n) {
		e = rb_entry(n, struct ivhost_iotlb_entry, rb);
		if (e->last < start) {
			n = n->rb_right;
			continue;
		}
		if (e->start <= start)
			return e;
		best = e;
		n = n->rb_left;
	}
	return best && best->start <= last ? best : NULL;
}

/* The entry after @e if it still meets a range ending at @last. */
static struct ivhost_iotlb_entry *
ivhost_iotlb_next(struct ivhost_iotlb_entry *e, u64 last)
{
	e = ivhost_iotlb_node(rb_next(&e->rb));
	return e && e->start <= last ? e : NULL;
}

/**
 * ivhost_iotlb_init() - set up an empty cache
 * @tlb: the cache
 * @limit: most entries to keep, at least 1
 *
 * Context: any.
 */
void ivhost_iotlb_init(struct ivhost_iotlb *tlb, u32 limit)
{
	tlb->root = RB_ROOT;
	INIT_LIST_HEAD(&tlb->clock);
	INIT_LIST_HEAD(&tlb->pool);
	tlb->hint = NULL;
	tlb->nentries = 0;
	tlb->npool = 0;
	tlb->limit = max(limit, 1U);
	tlb->evictions = 0;
	tlb->evicted = false;
	tlb->id = 0;
}
EXPORT_SYMBOL_IVHOST_INTERNAL(ivhost_iotlb_init);

/* Keep an entry no longer in the tree for reuse, or free it. */
static void ivhost_iotlb_recycle(struct ivhost_iotlb *tlb,
				 struct ivhost_iotlb_entry *e)
{
	if (tlb->npool >= IVHOST_IOTLB_POOL) {
		kfree(e);
		return;
	}
	list_add(&e->clock, &tlb->pool);
	tlb->npool++;
}

static void ivhost_iotlb_remove(struct ivhost_iotlb *tlb,
				struct ivhost_iotlb_entry *e)
{
	rb_erase(&e->rb, &tlb->root);
	list_del(&e->clock);
	if (tlb->hint == e)
		tlb->hint = NULL;
	tlb->nentries--;
	ivhost_iotlb_recycle(tlb, e);
}

static void ivhost_iotlb_insert(struct ivhost_iotlb *tlb,
				struct ivhost_iotlb_entry *e)
{
	ivhost_iotlb_tree_insert(tlb, e);
	list_add_tail(&e->clock, &tlb->clock);
	tlb->nentries++;
}

/**
 * ivhost_iotlb_clear() - drop every entry, and free the pool
 * @tlb: the cache
 *
 * Context: the caller serialises access to @tlb.
 */
void ivhost_iotlb_clear(struct ivhost_iotlb *tlb)
{
	struct ivhost_iotlb_entry *e, *tmp;

	list_for_each_entry_safe(e, tmp, &tlb->clock, clock)
		ivhost_iotlb_remove(tlb, e);
	list_for_each_entry_safe(e, tmp, &tlb->pool, clock)
		kfree(e);
	INIT_LIST_HEAD(&tlb->pool);
	tlb->npool = 0;
	tlb->evicted = false;
}
EXPORT_SYMBOL_IVHOST_INTERNAL(ivhost_iotlb_clear);

/**
 * ivhost_iotlb_spare_alloc() - allocate the entries one change may need
 * @s: where to keep them; slots already holding an entry are kept
 * @gfp: allocation flags
 *
 * Context: may sleep if @gfp allows.
 * Return: 0 or -ENOMEM (then nothing is held).
 */
int ivhost_iotlb_spare_alloc(struct ivhost_iotlb_spare *s, gfp_t gfp)
{
	int i;

	for (i = 0; i < ARRAY_SIZE(s->e); i++) {
		if (s->e[i])
			continue;
		/* Every field is set when the entry is inserted. */
		s->e[i] = kmalloc(sizeof(*s->e[i]), gfp);
		if (!s->e[i])
			goto free_all;
	}
	return 0;

free_all:
	ivhost_iotlb_spare_free(s);
	return -ENOMEM;
}
EXPORT_SYMBOL_IVHOST_INTERNAL(ivhost_iotlb_spare_alloc);

/**
 * ivhost_iotlb_spare_free() - free what a change left unused
 * @s: the spares
 *
 * Context: any.
 */
void ivhost_iotlb_spare_free(struct ivhost_iotlb_spare *s)
{
	int i;

	for (i = 0; i < ARRAY_SIZE(s->e); i++) {
		kfree(s->e[i]);
		s->e[i] = NULL;
	}
}
EXPORT_SYMBOL_IVHOST_INTERNAL(ivhost_iotlb_spare_free);

/**
 * ivhost_iotlb_spares_needed() - entries a change takes from its spares
 * @tlb: the cache
 * @update: an UPDATE (true) or an INVALIDATE (false) of [@start, @last]
 * @start: first IOVA
 * @last: last IOVA
 *
 * An UPDATE takes one for itself; either takes one more to split an
 * entry that reaches past both ends of the range (only one can: entries
 * never overlap).
 *
 * Context: the caller serialises access to @tlb; the answer holds while
 * it does.
 * Return: 0, 1 or 2.
 */
unsigned int ivhost_iotlb_spares_needed(struct ivhost_iotlb *tlb,
					bool update, u64 start, u64 last)
{
	struct ivhost_iotlb_entry *e;

	e = ivhost_iotlb_first(tlb, start, last);
	return update + (e && e->start < start && e->last > last);
}
EXPORT_SYMBOL_IF_IVHOST_KUNIT(ivhost_iotlb_spares_needed);

/**
 * ivhost_iotlb_spare_reserve() - fill spares from the pool
 * @tlb: the cache whose pool to use
 * @s: the spares; empty slots are filled until @s holds @n
 * @n: how many the change needs (ivhost_iotlb_spares_needed()), <= 2
 *
 * Context: the caller serialises access to @tlb.
 * Return: true if @s holds @n entries; else allocate the rest with
 * ivhost_iotlb_spare_alloc() outside the caller's lock.
 */
bool ivhost_iotlb_spare_reserve(struct ivhost_iotlb *tlb,
				struct ivhost_iotlb_spare *s, unsigned int n)
{
	struct ivhost_iotlb_entry *e;
	unsigned int held = 0;
	int i;

	for (i = 0; i < ARRAY_SIZE(s->e); i++)
		held += !!s->e[i];
	for (i = 0; i < ARRAY_SIZE(s->e) && held < n; i++) {
		if (s->e[i])
			continue;
		e = list_first_entry_or_null(&tlb->pool,
					     struct ivhost_iotlb_entry, clock);
		if (!e)
			return false;
		list_del(&e->clock);
		tlb->npool--;
		s->e[i] = e;
		held++;
	}
	return held >= n;
}
EXPORT_SYMBOL_IF_IVHOST_KUNIT(ivhost_iotlb_spare_reserve);

/**
 * ivhost_iotlb_spare_release() - give what a change left unused to the pool
 * @tlb: the cache
 * @s: the spares; emptied
 *
 * Context: the caller serialises access to @tlb.
 */
void ivhost_iotlb_spare_release(struct ivhost_iotlb *tlb,
				struct ivhost_iotlb_spare *s)
{
	int i;

	for (i = 0; i < ARRAY_SIZE(s->e); i++) {
		if (s->e[i])
			ivhost_iotlb_recycle(tlb, s->e[i]);
		s->e[i] = NULL;
	}
}
EXPORT_SYMBOL_IF_IVHOST_KUNIT(ivhost_iotlb_spare_release);

static struct ivhost_iotlb_entry *
ivhost_iotlb_spare_take(struct ivhost_iotlb_spare *s)
{
	struct ivhost_iotlb_entry *e;
	int i;

	for (i = 0; i < ARRAY_SIZE(s->e); i++) {
		e = s->e[i];
		if (e) {
			s->e[i] = NULL;
			return e;
		}
	}
	return NULL;
}

/**
 * ivhost_iotlb_range() - turn a message's iova and size into [iova, last]
 * @iova: first address
 * @size: bytes, at least 1
 * @last: the last address, on success
 *
 * Context: any.
 * Return: 0, or -EINVAL if @size is 0 or the range wraps past 2^64.
 */
int ivhost_iotlb_range(u64 iova, u64 size, u64 *last)
{
	if (!size)
		return -EINVAL;
	if (check_add_overflow(iova, size - 1, last))
		return -EINVAL;
	return 0;
}
EXPORT_SYMBOL_IF_IVHOST_KUNIT(ivhost_iotlb_range);

/*
 * Remove [start, last] from every entry overlapping it.  An entry that
 * covers both edges is split, which takes one spare entry.  Trimmed
 * entries stay where they are in the tree: they only shrink, and
 * nothing lies between them and their neighbours.
 */
static bool ivhost_iotlb_punch(struct ivhost_iotlb *tlb,
			       struct ivhost_iotlb_spare *s, u64 start,
			       u64 last)
{
	struct ivhost_iotlb_entry *e, *next, *tail;
	bool hit;

	e = ivhost_iotlb_first(tlb, start, last);
	hit = e;
	while (e) {
		next = ivhost_iotlb_next(e, last);
		if (e->start >= start && e->last <= last) {
			ivhost_iotlb_remove(tlb, e);
		} else if (e->start < start && e->last > last) {
			/* Keep [e->start, start - 1], add [last + 1, e->last]. */
			tail = ivhost_iotlb_spare_take(s);
			tail->start = last + 1;
			tail->last = e->last;
			tail->uaddr = e->uaddr + (tail->start - e->start);
			tail->perm = e->perm;
			tail->referenced = e->referenced;
			e->last = start - 1;
			ivhost_iotlb_insert(tlb, tail);
		} else if (e->start < start) {
			e->last = start - 1;
		} else {
			e->uaddr += last + 1 - e->start;
			e->start = last + 1;
		}
		e = next;
	}
	if (hit)
		tlb->hint = NULL;
	return hit;
}

/* Remember that [start, last] was evicted, for ivhost_iotlb_take_evicted(). */
static void ivhost_iotlb_note_evicted(struct ivhost_iotlb *tlb, u64 start,
				      u64 last)
{
	if (!tlb->evicted || start < tlb->evicted_start)
		tlb->evicted_start = start;
	if (!tlb->evicted || last > tlb->evicted_last)
		tlb->evicted_last = last;
	tlb->evicted = true;
}

/* Evict by CLOCK until at most @keep entries are left. */
static void ivhost_iotlb_evict_to(struct ivhost_iotlb *tlb, u32 keep)
{
	struct ivhost_iotlb_entry *e;

	while (tlb->nentries > keep) {
		e = list_first_entry(&tlb->clock, struct ivhost_iotlb_entry,
				     clock);
		if (e->referenced) {
			e->referenced = false;
			list_move_tail(&e->clock, &tlb->clock);
			continue;
		}
		trace_ivhost_iotlb_evict(tlb->id, e->start, e->last, e->uaddr,
					 e->perm);
		ivhost_iotlb_note_evicted(tlb, e->start, e->last);
		ivhost_iotlb_remove(tlb, e);
		tlb->evictions++;
	}
}

/**
 * ivhost_iotlb_update() - map [start, last] onto userspace at @uaddr
 * @tlb: the cache
 * @s: spares from ivhost_iotlb_spare_alloc(); what is used is taken
 * @start: first IOVA
 * @last: last IOVA, >= @start (see ivhost_iotlb_range())
 * @uaddr: userspace address of @start
 * @perm: IVHOST_PERM_* granted, not 0
 *
 * Older entries lose whatever part of them the new one overlaps.  When the
 * cache is full, the eviction clock makes room first.
 *
 * Context: the caller serialises access to @tlb.
 * Return: true if an older entry lost something to the new one.
 */
bool ivhost_iotlb_update(struct ivhost_iotlb *tlb,
			 struct ivhost_iotlb_spare *s, u64 start, u64 last,
			 u64 uaddr, u8 perm)
{
	struct ivhost_iotlb_entry *e;
	bool replaced;

	replaced = ivhost_iotlb_punch(tlb, s, start, last);
	ivhost_iotlb_evict_to(tlb, tlb->limit - 1);
	e = ivhost_iotlb_spare_take(s);
	e->start = start;
	e->last = last;
	e->uaddr = uaddr;
	e->perm = perm;
	e->referenced = false;
	ivhost_iotlb_insert(tlb, e);
	return replaced;
}
EXPORT_SYMBOL_IVHOST_INTERNAL(ivhost_iotlb_update);

/**
 * ivhost_iotlb_invalidate() - remove exactly [start, last]
 * @tlb: the cache
 * @s: spares from ivhost_iotlb_spare_alloc(); what is used is taken
 * @start: first IOVA
 * @last: last IOVA, >= @start
 *
 * Context: the caller serialises access to @tlb.
 * Return: true if an entry lost something.
 */
bool ivhost_iotlb_invalidate(struct ivhost_iotlb *tlb,
			     struct ivhost_iotlb_spare *s, u64 start,
			     u64 last)
{
	bool hit = ivhost_iotlb_punch(tlb, s, start, last);

	/* A split may have taken the cache one past its limit. */
	ivhost_iotlb_evict_to(tlb, tlb->limit);
	return hit;
}
EXPORT_SYMBOL_IF_IVHOST_KUNIT(ivhost_iotlb_invalidate);

/**
 * ivhost_iotlb_lookup() - find the entry translating @iova
 * @tlb: the cache
 * @iova: the address
 *
 * Context: the caller serialises access to @tlb.
 * Return: the entry, or NULL on a miss.
 */
struct ivhost_iotlb_entry *ivhost_iotlb_lookup(struct ivhost_iotlb *tlb,
					       u64 iova)
{
	struct ivhost_iotlb_entry *e = tlb->hint;

	if (!e || iova < e->start || iova > e->last) {
		e = ivhost_iotlb_find(tlb, iova);
		if (!e)
			return NULL;
		tlb->hint = e;
	}
	e->referenced = true;
	return e;
}
EXPORT_SYMBOL_IVHOST_INTERNAL(ivhost_iotlb_lookup);

/**
 * ivhost_iotlb_take_evicted() - what eviction removed since the last call
 * @tlb: the cache
 * @start: gets the lowest IOVA evicted
 * @last: gets the highest IOVA evicted
 *
 * Every entry evicted since the previous call, by whichever change, lies
 * in [@start, @last].  The record is then cleared.
 *
 * Context: the caller serialises access to @tlb.
 * Return: false if nothing was evicted (@start and @last untouched).
 */
bool ivhost_iotlb_take_evicted(struct ivhost_iotlb *tlb, u64 *start,
			       u64 *last)
{
	if (!tlb->evicted)
		return false;
	*start = tlb->evicted_start;
	*last = tlb->evicted_last;
	tlb->evicted = false;
	return true;
}

/**
 * ivhost_iotlb_touch() - count the entries in a range as used
 * @tlb: the cache
 * @start: first IOVA
 * @last: last IOVA, >= @start
 *
 * For translations a user keeps outside the cache and uses without
 * looking them up: the eviction clock then passes over their entries as
 * it does over entries found by ivhost_iotlb_lookup().
 *
 * Context: the caller serialises access to @tlb.
 */
void ivhost_iotlb_touch(struct ivhost_iotlb *tlb, u64 start, u64 last)
{
	struct ivhost_iotlb_entry *e;

	for (e = ivhost_iotlb_first(tlb, start, last); e;
	     e = ivhost_iotlb_next(e, last))
		e->referenced = true;
}
