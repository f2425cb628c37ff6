/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Reference model of the device IOTLB cache (drivers/vhost/iotlb.c), for
 * the differential fuzz targets: a plain array of entries sorted by start
 * address, each with its CLOCK position as a sequence number, written
 * from the documented rules only:
 *
 *  - entries are closed intervals [start, last] that never overlap;
 *  - an UPDATE removes its range from older entries (trimming, or
 *    splitting one that straddles both edges, whose far half goes to the
 *    end of the clock), then inserts itself at the end of the clock;
 *  - an INVALIDATE removes its range the same way;
 *  - before an UPDATE inserts, CLOCK evicts down to limit - 1 entries;
 *    after an INVALIDATE, down to limit: the oldest entry is evicted
 *    unless referenced, in which case it loses the bit and goes to the
 *    end of the clock;
 *  - a lookup hit sets the entry's referenced bit, and so does a touch
 *    of any range the entry shares a byte with;
 *  - removed entries go to a pool of at most 64 kept for reuse.
 */
#ifndef _FUZZ_TLB_MODEL_H
#define _FUZZ_TLB_MODEL_H

#include "fuzz_common.h"

#define MODEL_POOL	64

struct model_entry {
	u64 start;
	u64 last;
	u64 uaddr;
	u8 perm;
	bool ref;
	u64 seq;
};

/**
 * struct model_tlb - the reference cache
 * @e: entries, sorted by start
 * @n: entries in use
 * @cap: entries allocated
 * @limit: most entries kept
 * @seq: last clock sequence number handed out
 * @evictions: entries evicted so far
 * @npool: entries the real cache's pool should hold
 */
struct model_tlb {
	struct model_entry *e;
	u32 n;
	u32 cap;
	u32 limit;
	u64 seq;
	u64 evictions;
	u32 npool;
};

static inline void model_init(struct model_tlb *m, u32 limit)
{
	memset(m, 0, sizeof(*m));
	m->limit = limit ? limit : 1;
}

static inline void model_destroy(struct model_tlb *m)
{
	free(m->e);
	m->e = NULL;
	m->n = 0;
	m->cap = 0;
}

static inline void model_recycle(struct model_tlb *m)
{
	if (m->npool < MODEL_POOL)
		m->npool++;
}

static inline void model_remove_at(struct model_tlb *m, u32 i)
{
	memmove(&m->e[i], &m->e[i + 1], (m->n - i - 1) * sizeof(m->e[0]));
	m->n--;
	model_recycle(m);
}

static inline void model_insert(struct model_tlb *m, struct model_entry ne)
{
	u32 i;

	if (m->n == m->cap) {
		m->cap = m->cap ? m->cap * 2 : 16;
		m->e = realloc(m->e, m->cap * sizeof(m->e[0]));
		if (!m->e)
			abort();
	}
	for (i = 0; i < m->n && m->e[i].start < ne.start; i++)
		;
	memmove(&m->e[i + 1], &m->e[i], (m->n - i) * sizeof(m->e[0]));
	ne.seq = ++m->seq;
	m->e[i] = ne;
	m->n++;
}

/* Entries that one change takes from its spares. */
static inline unsigned int model_needed(const struct model_tlb *m,
					bool update, u64 start, u64 last)
{
	unsigned int n = update;
	u32 i;

	for (i = 0; i < m->n; i++)
		if (m->e[i].start < start && m->e[i].last > last)
			n++;
	return n;
}

/* Remove [start, last] from every entry; true if any overlapped. */
static inline bool model_punch(struct model_tlb *m, u64 start, u64 last)
{
	struct model_entry tail;
	bool hit = false;
	u32 i = 0;

	while (i < m->n) {
		struct model_entry *e = &m->e[i];

		if (e->last < start || e->start > last) {
			i++;
			continue;
		}
		hit = true;
		if (e->start >= start && e->last <= last) {
			model_remove_at(m, i);
			continue;
		}
		if (e->start < start && e->last > last) {
			tail = *e;
			tail.start = last + 1;
			tail.uaddr = e->uaddr + (tail.start - e->start);
			e->last = start - 1;
			model_insert(m, tail);
			/* The tail sorts after e and after [start, last]. */
			i++;
			continue;
		}
		if (e->start < start) {
			e->last = start - 1;
		} else {
			e->uaddr += last + 1 - e->start;
			e->start = last + 1;
		}
		i++;
	}
	return hit;
}

static inline void model_evict_to(struct model_tlb *m, u32 keep)
{
	u32 i, oldest;

	while (m->n > keep) {
		oldest = 0;
		for (i = 1; i < m->n; i++)
			if (m->e[i].seq < m->e[oldest].seq)
				oldest = i;
		if (m->e[oldest].ref) {
			m->e[oldest].ref = false;
			m->e[oldest].seq = ++m->seq;
			continue;
		}
		model_remove_at(m, oldest);
		m->evictions++;
	}
}

static inline bool model_update(struct model_tlb *m, u64 start, u64 last,
				u64 uaddr, u8 perm)
{
	struct model_entry ne = {
		.start = start, .last = last, .uaddr = uaddr, .perm = perm,
	};
	bool hit = model_punch(m, start, last);

	model_evict_to(m, m->limit - 1);
	model_insert(m, ne);
	return hit;
}

static inline bool model_invalidate(struct model_tlb *m, u64 start, u64 last)
{
	bool hit = model_punch(m, start, last);

	model_evict_to(m, m->limit);
	return hit;
}

static inline struct model_entry *model_lookup(struct model_tlb *m, u64 iova)
{
	u32 i;

	for (i = 0; i < m->n; i++) {
		if (iova >= m->e[i].start && iova <= m->e[i].last) {
			m->e[i].ref = true;
			return &m->e[i];
		}
	}
	return NULL;
}

/*
 * ivhost_iotlb_touch(): every entry sharing at least one byte with
 * [start, last] counts as used.
 */
static inline void model_touch(struct model_tlb *m, u64 start, u64 last)
{
	u32 i;

	for (i = 0; i < m->n; i++)
		if (m->e[i].start <= last && m->e[i].last >= start)
			m->e[i].ref = true;
}

/* Every removed entry goes to the pool; clear() then empties the pool. */
static inline void model_clear(struct model_tlb *m)
{
	m->n = 0;
	m->npool = 0;
}

/* An edge of some entry, for values that land next to one. */
static inline u64 model_edge(const struct model_tlb *m, u8 sel)
{
	const struct model_entry *e;

	if (!m->n)
		return 0;
	e = &m->e[(sel >> 1) % m->n];
	return sel & 1 ? e->last : e->start;
}

#endif /* _FUZZ_TLB_MODEL_H */
