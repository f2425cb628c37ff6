// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: the device IOTLB cache, drivers/vhost/iotlb.c, built
 * unmodified against the userspace shims, checked operation by operation
 * against the reference model of tlb_model.h.
 *
 * Input: one byte for the entry limit, then operations (update, update
 * through ivhost_iotlb_range(), invalidate, lookup, touch, clear, spare
 * reserve/release/alloc/free), each followed by its operands.  After
 * every operation the whole cache is compared with the model: entries in
 * address order with uaddr, perm and referenced bit, the eviction clock
 * order, the counts, the pool size, and the tree's order, links and
 * red-black balance.
 */
#include "fuzz_common.h"
#include "tlb_model.h"

#include <errno.h>
#include <linux/rbtree.h>
#include <linux/slab.h>

#include "iotlb.h"

unsigned int tools_alloc_fail;

enum {
	OP_UPDATE_RANGE,
	OP_UPDATE,
	OP_INVALIDATE_RANGE,
	OP_INVALIDATE,
	OP_LOOKUP,
	OP_CLEAR,
	OP_RESERVE,
	OP_ALLOC,
	OP_TOUCH,
	OP_COUNT
};

/* Red-black colour of a node: the low bit of its parent word, 1 black. */
static bool node_black(const struct rb_node *n)
{
	return !n || (n->__rb_parent_color & 1);
}

/*
 * Check the links below @n and that every entry lies in [lo, hi] (the
 * tree is ordered by start, and entries never overlap); count them.
 * Also the red-black rules that keep a lookup O(log n) whatever order
 * a VMM maps in: no red node has a red child, and every path down holds
 * as many black nodes.  Return that black height (a NULL leaf is 1).
 */
static unsigned int check_subtree(struct rb_node *n, u32 *count, u64 lo,
				  u64 hi)
{
	struct ivhost_iotlb_entry *e;
	unsigned int lh = 1, rh = 1;

	if (!n)
		return 1;
	e = rb_entry(n, struct ivhost_iotlb_entry, rb);
	(*count)++;
	FUZZ_CHECK(*count <= 1U << 20, "tree too big or cyclic");
	FUZZ_CHECK(e->start >= lo && e->last <= hi && e->start <= e->last,
		   "entry [%llx, %llx] out of order", e->start, e->last);
	FUZZ_CHECK(node_black(n) ||
		   (node_black(n->rb_left) && node_black(n->rb_right)),
		   "red entry [%llx, %llx] has a red child", e->start, e->last);
	if (n->rb_left) {
		FUZZ_CHECK(rb_parent(n->rb_left) == n, "bad parent");
		FUZZ_CHECK(e->start > lo, "left of the lowest entry");
		lh = check_subtree(n->rb_left, count, lo, e->start - 1);
	}
	if (n->rb_right) {
		FUZZ_CHECK(rb_parent(n->rb_right) == n, "bad parent");
		FUZZ_CHECK(e->last < hi, "right of the highest entry");
		rh = check_subtree(n->rb_right, count, e->last + 1, hi);
	}
	FUZZ_CHECK(lh == rh, "black heights %u and %u below [%llx, %llx]",
		   lh, rh, e->start, e->last);
	return lh + node_black(n);
}

static int seq_cmp(const void *a, const void *b)
{
	const struct model_entry *x = *(const struct model_entry * const *)a;
	const struct model_entry *y = *(const struct model_entry * const *)b;

	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static void check_all(struct ivhost_iotlb *tlb, struct model_tlb *m)
{
	const struct model_entry **byseq;
	struct ivhost_iotlb_entry *e;
	struct rb_node *n;
	struct list_head *pos;
	u32 i, count = 0;

	FUZZ_CHECK(tlb->nentries == m->n, "nentries %u, model %u",
		   tlb->nentries, m->n);
	FUZZ_CHECK(tlb->evictions == m->evictions, "evictions %llu, model %llu",
		   tlb->evictions, m->evictions);
	FUZZ_CHECK(tlb->nentries <= tlb->limit, "over the limit");
	FUZZ_CHECK(tlb->npool == m->npool, "npool %u, model %u", tlb->npool,
		   m->npool);
	FUZZ_CHECK(node_black(tlb->root.rb_node), "red root");
	check_subtree(tlb->root.rb_node, &count, 0, U64_MAX);
	FUZZ_CHECK(count == m->n, "tree holds %u, model %u", count, m->n);

	i = 0;
	for (n = rb_first(&tlb->root); n; n = rb_next(n), i++) {
		const struct model_entry *me = &m->e[i];

		e = rb_entry(n, struct ivhost_iotlb_entry, rb);
		FUZZ_CHECK(e->start == me->start && e->last == me->last &&
			   e->uaddr == me->uaddr && e->perm == me->perm &&
			   e->referenced == me->ref,
			   "entry %u: [%llx, %llx] u %llx p %u r %d, model [%llx, %llx] u %llx p %u r %d",
			   i, e->start,
			   e->last, e->uaddr, e->perm, e->referenced,
			   me->start, me->last, me->uaddr, me->perm, me->ref);
	}
	if (tlb->hint) {
		for (i = 0; i < m->n; i++)
			if (tlb->hint->start == m->e[i].start)
				break;
		FUZZ_CHECK(i < m->n && tlb->hint->last == m->e[i].last,
			   "hint points at no live entry");
	}

	/* The eviction clock lists the entries oldest first. */
	byseq = malloc((m->n + 1) * sizeof(*byseq));
	for (i = 0; i < m->n; i++)
		byseq[i] = &m->e[i];
	qsort(byseq, m->n, sizeof(*byseq), seq_cmp);
	i = 0;
	list_for_each(pos, &tlb->clock) {
		e = list_entry(pos, struct ivhost_iotlb_entry, clock);
		FUZZ_CHECK(i < m->n && e->start == byseq[i]->start,
			   "clock position %u: %llx, model %llx", i, e->start,
			   i < m->n ? byseq[i]->start : 0);
		i++;
	}
	FUZZ_CHECK(i == m->n, "clock holds %u, model %u", i, m->n);
	free(byseq);

	i = 0;
	list_for_each(pos, &tlb->pool)
		i++;
	FUZZ_CHECK(i == tlb->npool, "pool list %u, npool %u", i, tlb->npool);
}

static unsigned int spares_held(const struct ivhost_iotlb_spare *s)
{
	return !!s->e[0] + !!s->e[1];
}

/* A range from the input, start <= last. */
static void get_range(struct fuzz_in *in, struct model_tlb *m, u64 *start,
		      u64 *last)
{
	u64 a = fuzz_val(in, model_edge(m, fuzz_u8(in)));
	u64 b = fuzz_val(in, model_edge(m, fuzz_u8(in)));

	if (fuzz_u8(in) & 1)
		b = a + (b & 0xff);	/* short range; may wrap */
	*start = a < b ? a : b;
	*last = a < b ? b : a;
}

/* The range of a message: ivhost_iotlb_range() against the rules. */
static bool get_msg_range(struct fuzz_in *in, struct model_tlb *m,
			  u64 *start, u64 *last)
{
	u64 iova = fuzz_val(in, model_edge(m, fuzz_u8(in)));
	u64 size = fuzz_val(in, 0);
	bool valid = size && iova + (size - 1) >= iova;
	int err;

	*last = 0xdeadbeef;
	err = ivhost_iotlb_range(iova, size, last);
	FUZZ_CHECK(err == (valid ? 0 : -EINVAL),
		   "range(%llx, %llx) = %d", iova, size, err);
	if (!valid)
		return false;
	FUZZ_CHECK(*last == iova + size - 1, "range last %llx", *last);
	*start = iova;
	return true;
}

/*
 * ivhost_iotlb_spare_alloc() with the @fail-th allocation failing (0:
 * none): it fails with -ENOMEM holding nothing exactly when an
 * allocation failed, else fills both slots.
 */
static int alloc_spares(struct ivhost_iotlb_spare *s, unsigned int fail)
{
	bool failed;
	int err;

	tools_alloc_fail = fail;
	err = ivhost_iotlb_spare_alloc(s, GFP_KERNEL);
	failed = fail && !tools_alloc_fail;
	tools_alloc_fail = 0;
	FUZZ_CHECK(err == (failed ? -ENOMEM : 0),
		   "spare_alloc = %d, allocation %sfailed", err,
		   failed ? "" : "not ");
	FUZZ_CHECK(spares_held(s) == (failed ? 0 : 2),
		   "spare_alloc = %d holding %u", err, spares_held(s));
	return err;
}

/* Take spares for a change the way devtlb_msg.c does, or as a caller may. */
static bool get_spares(struct fuzz_in *in, struct ivhost_iotlb *tlb,
		       struct model_tlb *m, struct ivhost_iotlb_spare *s,
		       unsigned int need)
{
	u8 mode = fuzz_u8(in);
	unsigned int held, want, got;
	bool ok;
	int err;

	FUZZ_CHECK(!spares_held(s), "spares left over");
	if (mode & 4) {
		/* One slot already holds an entry from an earlier try. */
		s->e[(mode >> 3) & 1] = malloc(sizeof(struct ivhost_iotlb_entry));
	}
	held = spares_held(s);
	if (mode & 1) {
		want = need > held ? need - held : 0;
		got = want < m->npool ? want : m->npool;
		ok = ivhost_iotlb_spare_reserve(tlb, s, need);
		m->npool -= got;
		FUZZ_CHECK(ok == (held + got >= need),
			   "reserve(%u) = %d with %u held, pool %u", need, ok,
			   held, m->npool + got);
		FUZZ_CHECK(spares_held(s) == held + got, "reserve took %u",
			   spares_held(s) - held);
		if (ok)
			return true;
	}
	err = alloc_spares(s, (mode >> 4) % 4);
	if (err)
		return false;
	return true;
}

static void put_spares(struct fuzz_in *in, struct ivhost_iotlb *tlb,
		       struct model_tlb *m, struct ivhost_iotlb_spare *s)
{
	unsigned int i, held = spares_held(s);

	if (fuzz_u8(in) & 1) {
		ivhost_iotlb_spare_release(tlb, s);
		for (i = 0; i < held; i++)
			model_recycle(m);
	} else {
		ivhost_iotlb_spare_free(s);
	}
	FUZZ_CHECK(!spares_held(s), "spares not emptied");
}

static void do_change(struct fuzz_in *in, struct ivhost_iotlb *tlb,
		      struct model_tlb *m, bool update, u64 start, u64 last)
{
	struct ivhost_iotlb_spare s = {};
	unsigned int need, held;
	u64 uaddr = 0;
	u8 perm = 0;
	bool hit, mhit;

	if (update) {
		uaddr = fuzz_val(in, 0);
		perm = 1 + fuzz_u8(in) % 3;
	}
	need = ivhost_iotlb_spares_needed(tlb, update, start, last);
	FUZZ_CHECK(need == model_needed(m, update, start, last),
		   "spares_needed(%d, %llx, %llx) = %u", update, start, last,
		   need);
	if (!get_spares(in, tlb, m, &s, need)) {
		check_all(tlb, m);
		return;
	}
	held = spares_held(&s);
	if (update) {
		hit = ivhost_iotlb_update(tlb, &s, start, last, uaddr, perm);
		mhit = model_update(m, start, last, uaddr, perm);
	} else {
		hit = ivhost_iotlb_invalidate(tlb, &s, start, last);
		mhit = model_invalidate(m, start, last);
	}
	FUZZ_CHECK(hit == mhit, "%s [%llx, %llx] returned %d, model %d",
		   update ? "update" : "invalidate", start, last, hit, mhit);
	FUZZ_CHECK(spares_held(&s) == held - need,
		   "change used %u spares, needed %u",
		   held - spares_held(&s), need);
	put_spares(in, tlb, m, &s);
	check_all(tlb, m);
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	struct fuzz_in in = { .p = data, .left = size };
	struct ivhost_iotlb_spare s = {};
	struct ivhost_iotlb_entry *e;
	struct model_entry *me;
	struct ivhost_iotlb tlb;
	struct model_tlb m;
	unsigned int ops = 0, n;
	u8 lim = fuzz_u8(&in);
	u32 limit = lim & 0x80 ? (lim & 0x7f) * 4 : lim & 0x1f;
	u64 start, last;

	ivhost_iotlb_init(&tlb, limit);
	model_init(&m, limit);
	FUZZ_CHECK(tlb.limit == m.limit, "limit %u, want %u", tlb.limit,
		   m.limit);

	while (in.left && ops++ < 512) {
		switch (fuzz_u8(&in) % OP_COUNT) {
		case OP_UPDATE_RANGE:
			if (get_msg_range(&in, &m, &start, &last))
				do_change(&in, &tlb, &m, true, start, last);
			break;
		case OP_UPDATE:
			get_range(&in, &m, &start, &last);
			do_change(&in, &tlb, &m, true, start, last);
			break;
		case OP_INVALIDATE_RANGE:
			if (get_msg_range(&in, &m, &start, &last))
				do_change(&in, &tlb, &m, false, start, last);
			break;
		case OP_INVALIDATE:
			get_range(&in, &m, &start, &last);
			do_change(&in, &tlb, &m, false, start, last);
			break;
		case OP_LOOKUP:
			start = fuzz_val(&in, model_edge(&m, fuzz_u8(&in)));
			e = ivhost_iotlb_lookup(&tlb, start);
			me = model_lookup(&m, start);
			FUZZ_CHECK(!e == !me, "lookup %llx: %p, model %p",
				   start, e, me);
			if (e)
				FUZZ_CHECK(e->start == me->start &&
					   e->last == me->last &&
					   e->uaddr == me->uaddr &&
					   e->perm == me->perm,
					   "lookup %llx: wrong entry", start);
			check_all(&tlb, &m);
			break;
		case OP_CLEAR:
			ivhost_iotlb_clear(&tlb);
			model_clear(&m);
			check_all(&tlb, &m);
			break;
		case OP_RESERVE:
			/* Reserve for nothing in particular, then give back. */
			n = fuzz_u8(&in) % 3;
			if (get_spares(&in, &tlb, &m, &s, n))
				FUZZ_CHECK(spares_held(&s) >= n, "short");
			put_spares(&in, &tlb, &m, &s);
			check_all(&tlb, &m);
			break;
		case OP_ALLOC:
			alloc_spares(&s, fuzz_u8(&in) % 3);
			ivhost_iotlb_spare_free(&s);
			break;
		case OP_TOUCH:
			/* Every entry meeting the range, and no other. */
			get_range(&in, &m, &start, &last);
			ivhost_iotlb_touch(&tlb, start, last);
			model_touch(&m, start, last);
			check_all(&tlb, &m);
			break;
		}
	}
	ivhost_iotlb_clear(&tlb);
	model_clear(&m);
	check_all(&tlb, &m);
	model_destroy(&m);
	return 0;
}
