// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: descriptor-chain validation, drivers/vhost/chain.c,
 * built unmodified against the userspace shims.
 *
 * Input: the ring size, a descriptor table and indirect tables, then the
 * heads of chains to walk.  Each chain is walked the way vring.c does:
 * ivhost_chain_start(), then ivhost_chain_step() on the descriptor at
 * &ivhost_chain.idx until DONE or an error, entering an indirect table on
 * IVHOST_CHAIN_INDIRECT.  The walk is checked against an independent
 * model of the rules written from chain.c's and the virtio
 * specification's text: it remembers which descriptors it visited, so a
 * loop is a revisit, not a budget running out.
 *
 * Invariants checked on every walk: every index fetched is inside its
 * table; the walk ends within table size + indirect table size steps;
 * a valid chain visits exactly the model's descriptors, in order; the
 * errno is the model's (a chain the model calls a loop may also be
 * refused with -EINVAL for an order violation met on its second lap).
 * chain.c sums no lengths (vring.c does), so there is no total to check.
 */
#include "fuzz_common.h"

#include <errno.h>
#include <linux/virtio_ring.h>

#include "chain.h"

unsigned int tools_alloc_fail;

#define MAX_RING	32768U
#define MAX_INDIRECT	4	/* distinct indirect tables per input */
#define MAX_STEPS	(MAX_RING + IVHOST_INDIRECT_MAX + 2)

/**
 * struct table - a descriptor table the walker may be pointed at
 * @d: the descriptors
 * @n: entries in @d
 */
struct table {
	struct ivhost_desc *d;
	u32 n;
};

struct walk {
	u32 n;
	u32 tbl[MAX_STEPS];	/* 0: the ring, k: indirect table k */
	u16 idx[MAX_STEPS];
};

static void fill_desc(struct fuzz_in *in, struct ivhost_desc *d, u32 tsize)
{
	u8 f = fuzz_u8(in);
	u8 sel;

	d->flags = f & 7;
	if (f & 0x80)
		d->flags |= fuzz_u16(in);	/* unknown flags too */
	sel = fuzz_u8(in);
	switch (sel & 3) {
	case 0:
		d->next = tsize ? fuzz_u8(in) % tsize : 0;
		break;
	case 1:
		d->next = fuzz_u16(in);
		break;
	default:
		d->next = (u16)(tsize + (s8)fuzz_u8(in) % 3);
		break;
	}
	switch ((sel >> 2) & 7) {
	case 0:
		d->len = 0;
		break;
	case 1:
		d->len = fuzz_u32(in);
		break;
	case 2:
		d->len = ~0U - fuzz_u8(in);
		break;
	case 3: /* an indirect table length, maybe not whole */
		if (fuzz_u8(in) & 1)	/* at the limit */
			d->len = IVHOST_INDIRECT_MAX + (s8)fuzz_u8(in) % 2;
		else
			d->len = fuzz_u16(in) % (IVHOST_INDIRECT_MAX + 2);
		d->len = d->len * 16 + (fuzz_u8(in) & 1 ? fuzz_u8(in) % 16 : 0);
		break;
	default:
		d->len = fuzz_u8(in) * 16;
		break;
	}
	d->addr = fuzz_val(in, 0);
}

/*
 * The model: the expected result (DONE is 0 here) and the descriptors a
 * valid chain visits.  A loop is reported as -ELOOP.
 */
static int model_walk(struct table *t, u32 ntables, u32 ring_num, u32 head,
		      u32 indirect_of_addr(u64), struct walk *w)
{
	static u8 seen[MAX_RING];	/* >= IVHOST_INDIRECT_MAX */
	const struct ivhost_desc *d;
	bool writable = false, in_ind = false;
	u32 cur = 0, idx = head, size = ring_num, n, k;

	w->n = 0;
	if (head >= ring_num)
		return -EINVAL;
	memset(seen, 0, size);
	for (;;) {
		if (seen[idx])
			return -ELOOP;
		seen[idx] = 1;
		d = &t[cur].d[idx];
		w->tbl[w->n] = cur;
		w->idx[w->n++] = idx;
		if (d->flags & VRING_DESC_F_INDIRECT) {
			/* Only in the ring's table, and ends the ring part. */
			if (in_ind || (d->flags & VRING_DESC_F_NEXT))
				return -EINVAL;
			if (!d->len || d->len % 16)
				return -EINVAL;
			n = d->len / 16;
			if (n > IVHOST_INDIRECT_MAX)
				return -E2BIG;
			k = indirect_of_addr(d->addr);
			if (k >= ntables || t[k].n < n)
				return -ENOENT;	/* harness: no such table */
			cur = k;
			size = n;
			idx = 0;
			in_ind = true;
			memset(seen, 0, size);
			continue;
		}
		if (d->flags & VRING_DESC_F_WRITE)
			writable = true;
		else if (writable)
			return -EINVAL;
		if (!(d->flags & VRING_DESC_F_NEXT))
			return 0;
		if (d->next >= size)
			return -EINVAL;
		idx = d->next;
	}
}

static u32 indirect_of_addr(u64 addr)
{
	return 1 + (u32)(addr % MAX_INDIRECT);
}

/*
 * A looping chain refused with -EINVAL: only a readable descriptor met
 * after a writable one, on a later lap, may be the reason.
 */
static void check_late_order(struct table *t, const struct walk *w)
{
	const struct ivhost_desc *last = &t[w->tbl[w->n - 1]].d[w->idx[w->n - 1]];
	u32 k;

	FUZZ_CHECK(!(last->flags & (VRING_DESC_F_WRITE |
				    VRING_DESC_F_INDIRECT)),
		   "loop refused at a descriptor that breaks no rule");
	for (k = 0; k + 1 < w->n; k++) {
		const struct ivhost_desc *d = &t[w->tbl[k]].d[w->idx[k]];

		if ((d->flags & VRING_DESC_F_WRITE) &&
		    !(d->flags & VRING_DESC_F_INDIRECT))
			return;
	}
	fuzz_fail("loop refused with -EINVAL with nothing writable before");
}

static void walk_one(struct table *t, u32 ntables, u32 ring_num, u32 head)
{
	static struct walk mw, rw;
	const struct ivhost_desc *d;
	struct ivhost_chain c;
	u32 cur = 0, k, tsize = ring_num, max_steps = ring_num;
	int want, ret, err;

	want = model_walk(t, ntables, ring_num, head, indirect_of_addr, &mw);
	rw.n = 0;
	ret = ivhost_chain_start(&c, ring_num, head);
	if (ret) {
		FUZZ_CHECK(ret == -EINVAL && want == -EINVAL && !mw.n,
			   "start(%u, %u) = %d", ring_num, head, ret);
		return;
	}
	FUZZ_CHECK(c.idx == head && c.table_size == ring_num,
		   "start set idx %u size %u", c.idx, c.table_size);
	for (;;) {
		FUZZ_CHECK(rw.n < max_steps, "walk of %u steps does not end",
			   rw.n);
		FUZZ_CHECK(c.idx < tsize && c.table_size == tsize,
			   "fetch index %u of a %u-entry table", c.idx, tsize);
		d = &t[cur].d[c.idx];
		rw.tbl[rw.n] = cur;
		rw.idx[rw.n++] = c.idx;
		ret = ivhost_chain_step(&c, d);
		if (ret == IVHOST_CHAIN_INDIRECT) {
			FUZZ_CHECK(d->flags & VRING_DESC_F_INDIRECT, "not indirect");
			err = ivhost_chain_enter_indirect(&c, d);
			if (err) {
				ret = err;
				break;
			}
			k = indirect_of_addr(d->addr);
			if (k >= ntables || t[k].n < c.table_size) {
				ret = -ENOENT;
				break;
			}
			FUZZ_CHECK(c.table_size == d->len / 16 && !c.idx,
				   "indirect table size %u idx %u",
				   c.table_size, c.idx);
			cur = k;
			tsize = c.table_size;
			max_steps = rw.n + tsize;
			continue;
		}
		if (ret < 0 || ret == IVHOST_CHAIN_DONE)
			break;
		FUZZ_CHECK(ret == IVHOST_CHAIN_NEXT, "step returned %d", ret);
		FUZZ_CHECK(c.idx == d->next, "next %u, went to %u", d->next,
			   c.idx);
	}
	/* The walk is the model's, at least as far as the model went. */
	for (k = 0; k < rw.n && k < mw.n; k++)
		FUZZ_CHECK(rw.tbl[k] == mw.tbl[k] && rw.idx[k] == mw.idx[k],
			   "step %u: table %u idx %u, model %u/%u", k,
			   rw.tbl[k], rw.idx[k], mw.tbl[k], mw.idx[k]);
	if (want == -ELOOP) {
		FUZZ_CHECK(ret == -ELOOP || ret == -EINVAL,
			   "looping chain at %u gave %d", head, ret);
		if (ret == -EINVAL)
			check_late_order(t, &rw);
		return;
	}
	FUZZ_CHECK(ret == want, "chain at %u (ring %u): %d, model %d", head,
		   ring_num, ret, want);
	FUZZ_CHECK(rw.n == mw.n, "visited %u descriptors, model %u", rw.n,
		   mw.n);
	for (k = 0; k < rw.n; k++)
		FUZZ_CHECK(rw.tbl[k] == mw.tbl[k] && rw.idx[k] == mw.idx[k],
			   "step %u: table %u idx %u, model %u/%u", k,
			   rw.tbl[k], rw.idx[k], mw.tbl[k], mw.idx[k]);
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	struct fuzz_in in = { .p = data, .left = size };
	struct table t[1 + MAX_INDIRECT] = {};
	u8 sel = fuzz_u8(&in);
	u32 ring_num, i, k, filled, heads;

	/* vring.c takes 1 to 32768 (VHOST_SET_VRING_NUM bounds it). */
	if ((sel & 0xc0) == 0xc0)
		ring_num = 1 + fuzz_u16(&in) % MAX_RING;
	else
		ring_num = 1 + (sel & 0x3f);
	t[0].n = ring_num;
	t[0].d = calloc(ring_num, sizeof(*t[0].d));
	filled = ring_num < 256 ? ring_num : 256;
	for (i = 0; i < filled; i++)
		fill_desc(&in, &t[0].d[i], ring_num);
	/* A far descriptor pointing back, for long walks. */
	for (i = filled; i < ring_num; i++) {
		t[0].d[i].flags = VRING_DESC_F_NEXT | (sel & 0x40 ?
						       VRING_DESC_F_WRITE : 0);
		t[0].d[i].next = (u16)((i + 1) % ring_num);
	}
	for (k = 1; k <= MAX_INDIRECT; k++) {
		t[k].n = fuzz_u8(&in) & 1 ? IVHOST_INDIRECT_MAX : fuzz_u8(&in);
		t[k].d = calloc(t[k].n + 1, sizeof(*t[k].d));
		filled = t[k].n < 32 ? t[k].n : 32;
		for (i = 0; i < filled; i++)
			fill_desc(&in, &t[k].d[i], t[k].n);
		for (i = filled; i < t[k].n; i++) {
			t[k].d[i].flags = VRING_DESC_F_NEXT;
			t[k].d[i].next = (u16)((i + 1) % t[k].n);
		}
	}
	heads = 1 + fuzz_u8(&in) % 8;
	for (i = 0; i < heads; i++) {
		u32 head = fuzz_u8(&in) & 1 ? fuzz_u16(&in) : fuzz_u8(&in);

		walk_one(t, 1 + MAX_INDIRECT, ring_num, head);
	}
	for (k = 0; k <= MAX_INDIRECT; k++)
		free(t[k].d);
	return 0;
}
