// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: the packed ring's logic, drivers/vhost/chain_packed.c,
 * built unmodified against the userspace shims.
 *
 * Input: the ring size (1..32768), the first ring descriptors (the rest
 * one long NEXT list), four indirect tables, then operations:
 *   0  walk the chain at a position from the input;
 *   1  a device round: walk the chain at the device's avail position
 *      and, if it is well formed, write its used descriptor at the used
 *      position the way the ring code does (so later walks meet used
 *      descriptors), then ask need_event about the slots just used;
 *   2  set the device's positions through ivhost_packed_state_decode();
 *   3  need_event on positions and an event from the input.
 * Each walk goes as the ring code goes: the head's flags through
 * ivhost_packed_desc_avail(), ivhost_packed_chain_start(), then
 * ivhost_packed_chain_step() on the descriptor at &c.pos (ring) or
 * &c.tidx (table) until DONE or an error, entering a table on
 * IVHOST_CHAIN_INDIRECT.
 *
 * The model is written from the virtio 1.1 text (2.7) and the issue-20
 * plan, in another shape than the code: positions are absolute slot
 * counts (slot t is index t mod num, wrap counter 1 on even laps); a
 * chain is first measured (the run of NEXT descriptors from the head,
 * ended by one without NEXT or by an indirect one, never longer than the
 * ring), then its elements are checked in order (an indirect descriptor
 * carries no NEXT and a table length of whole descriptors, at most
 * IVHOST_INDIRECT_MAX; all of a table's entries are walked and only
 * their WRITE counts; no readable element after a writable one); an
 * event is due when enumerating the used slots meets the event's slot.
 *
 * Checked: every fetch inside the ring or the table; the walk ends; it
 * fetches exactly the model's descriptors in order and ends with the
 * model's result, slot count, buffer ID and next position; used flags;
 * advance against slot counts; need_event; the state's bit layout and
 * bounds, and encode(decode(s)) == s.
 */
#include "fuzz_common.h"

#include <errno.h>
#include <linux/virtio_ring.h>

#include "chain_packed.h"

unsigned int tools_alloc_fail;

#define MAX_RING	IVHOST_PACKED_NUM_MAX
#define MAX_TABLES	4
#define MAX_STEPS	(MAX_RING + IVHOST_INDIRECT_MAX + 2)
#define MAX_OPS		64
#define F_AVAIL		BIT(7)	/* virtio 1.1 VIRTQ_DESC_F_AVAIL */
#define F_USED		BIT(15)	/* virtio 1.1 VIRTQ_DESC_F_USED */
#define NOT_AVAIL	(-1000)

/* struct pvirtq_desc in CPU byte order */
struct pdesc {
	u64 addr;
	u32 len;
	u16 id;
	u16 flags;
};

struct table {
	struct pdesc *d;
	u32 n;
};

/**
 * struct walk - a chain's fetches and outcome
 * @n: fetches
 * @tbl: per fetch, 0 for the ring, k for table k
 * @idx: per fetch, the slot or table entry
 * @ret: 0 for a complete chain, else the error
 * @count: ring slots taken
 * @id: buffer ID
 * @next: absolute slot after the chain
 */
struct walk {
	u32 n;
	u8 tbl[MAX_STEPS];
	u16 idx[MAX_STEPS];
	int ret;
	u32 count;
	u16 id;
	u64 next;
};

struct ring {
	u32 num;
	struct table t[1 + MAX_TABLES];
	u64 dev_avail, dev_used;	/* absolute slots */
};

static struct ivhost_packed_pos pos_of(u64 t, u32 num)
{
	return (struct ivhost_packed_pos){ .idx = t % num,
					   .wrap = !((t / num) & 1) };
}

static u64 abs_of(struct ivhost_packed_pos p, u32 num)
{
	return p.wrap ? p.idx : (u64)p.idx + num;
}

static u32 table_of(u64 addr)
{
	return 1 + addr % MAX_TABLES;
}

static void fill_pdesc(struct fuzz_in *in, struct pdesc *d)
{
	u8 f = fuzz_u8(in), sel = fuzz_u8(in), b;
	u32 n;

	d->flags = f & 7;		/* NEXT, WRITE, INDIRECT */
	d->flags |= f & 0x08 ? F_AVAIL : 0;
	d->flags |= f & 0x10 ? F_USED : 0;
	if (f & 0x80)
		d->flags |= fuzz_u16(in);	/* unknown flags too */
	d->id = sel & 1 ? fuzz_u16(in) : fuzz_u8(in);
	switch ((sel >> 1) & 7) {
	case 0:
		d->len = 0;
		break;
	case 1:
		d->len = fuzz_u32(in);
		break;
	case 2: /* a table length: near the limit or not, maybe not whole */
		b = fuzz_u8(in);
		n = b & 1 ? IVHOST_INDIRECT_MAX - 1 + (b >> 1) % 3 :
			    fuzz_u16(in) % (IVHOST_INDIRECT_MAX + 2);
		d->len = n * 16 + (b & 0x80 ? (b >> 3) & 15 : 0);
		break;
	default:
		d->len = (fuzz_u8(in) % 40) * 16;
		break;
	}
	d->addr = fuzz_u8(in);
}

/* The model's chain: its ring length, or 0 if it runs past num slots. */
static u32 model_measure(const struct ring *r, u64 head)
{
	const struct pdesc *d;
	u32 k;

	for (k = 0; k < r->num; k++) {
		d = &r->t[0].d[pos_of(head + k, r->num).idx];
		if (!(d->flags & VRING_DESC_F_NEXT) ||
		    (d->flags & VRING_DESC_F_INDIRECT))
			return k + 1;
	}
	return 0;
}

/* One element in order: 0, or the error it makes the chain. */
static int model_element(u16 flags, bool *writable)
{
	if (!(flags & VRING_DESC_F_WRITE))
		return *writable ? -EINVAL : 0;
	*writable = true;
	return 0;
}

static void model_fetch(struct walk *w, u32 tbl, u32 idx)
{
	w->tbl[w->n] = tbl;
	w->idx[w->n++] = idx;
}

static int model_table(const struct ring *r, const struct pdesc *d,
		       struct walk *w, bool *writable)
{
	u32 n, e, k = table_of(d->addr);
	int ret;

	if (d->flags & VRING_DESC_F_NEXT || !d->len || d->len % 16)
		return -EINVAL;
	n = d->len / 16;
	if (n > IVHOST_INDIRECT_MAX)
		return -E2BIG;
	if (r->t[k].n < n)
		return -ENOENT;		/* harness: no such table */
	for (e = 0; e < n; e++) {
		model_fetch(w, k, e);
		ret = model_element(r->t[k].d[e].flags, writable);
		if (ret)
			return ret;
	}
	return 0;
}

static void model_walk(const struct ring *r, struct ivhost_packed_pos head,
		       struct walk *w)
{
	u64 h = abs_of(head, r->num);
	u32 len, k, slot, last;
	bool writable = false;
	const struct pdesc *d;

	w->n = 0;
	w->ret = 0;
	if (head.idx >= r->num) {
		w->ret = -EINVAL;
		return;
	}
	d = &r->t[0].d[head.idx];
	if (!!(d->flags & F_AVAIL) != head.wrap ||
	    !!(d->flags & F_USED) == head.wrap) {
		w->ret = NOT_AVAIL;
		return;
	}
	len = model_measure(r, h);
	last = len ? len : r->num;
	for (k = 0; k < last && !w->ret; k++) {
		slot = pos_of(h + k, r->num).idx;
		d = &r->t[0].d[slot];
		model_fetch(w, 0, slot);
		if (d->flags & VRING_DESC_F_INDIRECT)
			w->ret = model_table(r, d, w, &writable);
		else
			w->ret = model_element(d->flags, &writable);
	}
	if (!w->ret && !len)
		w->ret = -ELOOP;
	w->count = last;
	w->id = d->id;
	w->next = h + last;
}

/* The code's walk, as the ring code fetches. */
static void code_walk(const struct ring *r, struct ivhost_packed_pos head,
		      struct walk *w)
{
	struct ivhost_packed_chain c;
	const struct pdesc *p;
	struct ivhost_desc d;
	u32 cur = 0, k;
	int ret;

	w->n = 0;
	w->ret = ivhost_packed_chain_start(&c, r->num, head);
	if (w->ret)
		return;
	if (!ivhost_packed_desc_avail(r->t[0].d[head.idx].flags, head.wrap)) {
		w->ret = NOT_AVAIL;
		return;
	}
	for (;;) {
		FUZZ_CHECK(w->n < MAX_STEPS, "walk of %u fetches", w->n);
		if (c.indirect) {
			FUZZ_CHECK(c.tidx < c.table_size, "entry %u of %u",
				   c.tidx, c.table_size);
			p = &r->t[cur].d[c.tidx];
			model_fetch(w, cur, c.tidx);
		} else {
			FUZZ_CHECK(c.pos.idx < r->num, "slot %u of %u",
				   c.pos.idx, r->num);
			p = &r->t[0].d[c.pos.idx];
			model_fetch(w, 0, c.pos.idx);
		}
		d = (struct ivhost_desc){ .addr = p->addr, .len = p->len,
					  .flags = p->flags, .next = p->id };
		ret = ivhost_packed_chain_step(&c, &d);
		if (ret == IVHOST_CHAIN_NEXT)
			continue;
		if (ret == IVHOST_CHAIN_INDIRECT) {
			FUZZ_CHECK(!c.indirect && (p->flags &
						   VRING_DESC_F_INDIRECT),
				   "INDIRECT for flags %#x", p->flags);
			ret = ivhost_packed_chain_enter_indirect(&c, &d);
			k = table_of(p->addr);
			if (!ret && r->t[k].n < c.table_size)
				ret = -ENOENT;
			if (!ret) {
				cur = k;
				continue;
			}
		}
		break;
	}
	w->ret = ret == IVHOST_CHAIN_DONE ? 0 : ret;
	w->count = c.count;
	w->id = c.id;
	w->next = abs_of(c.pos, r->num);
}

static void check_walk(const struct ring *r, struct ivhost_packed_pos head,
		       struct walk *got)
{
	static struct walk want;
	u32 k;

	model_walk(r, head, &want);
	code_walk(r, head, got);
	FUZZ_CHECK(got->ret == want.ret, "chain at %u/%d (ring %u): %d, model %d",
		   head.idx, head.wrap, r->num, got->ret, want.ret);
	FUZZ_CHECK(got->n == want.n, "%u fetches, model %u", got->n, want.n);
	for (k = 0; k < got->n; k++)
		FUZZ_CHECK(got->tbl[k] == want.tbl[k] &&
			   got->idx[k] == want.idx[k],
			   "fetch %u: %u/%u, model %u/%u", k, got->tbl[k],
			   got->idx[k], want.tbl[k], want.idx[k]);
	if (got->ret)
		return;
	FUZZ_CHECK(got->count == want.count && got->id == want.id,
		   "count %u id %u, model %u %u", got->count, got->id,
		   want.count, want.id);
	/* Positions compare modulo two laps. */
	FUZZ_CHECK(got->next % (2 * r->num) == want.next % (2 * r->num),
		   "next %llu, model %llu", got->next, want.next);
}

static bool model_need_event(u16 off_wrap, u16 flags, u64 old, u64 new,
			     u32 num)
{
	struct ivhost_packed_pos p;
	u64 t;

	if ((flags & 3) == 1)
		return false;
	if ((flags & 3) != 2)
		return true;
	for (t = old; t < new; t++) {
		p = pos_of(t, num);
		if (p.idx == (off_wrap & 0x7fff) && p.wrap == off_wrap >> 15)
			return true;
	}
	return false;
}

static void check_event(struct fuzz_in *in, u32 num, u64 old, u64 new)
{
	u16 ow, flags = fuzz_u8(in) & 1 ? fuzz_u16(in) : 2;
	u8 sel = fuzz_u8(in);
	bool got;

	if (sel & 1)
		ow = fuzz_u16(in);
	else	/* near old or new, in either lap */
		ow = (((sel & 2 ? new : old) + (s8)fuzz_u8(in) % 3 + num) %
		      num) | (sel & 4) << 13;
	got = ivhost_packed_need_event(ow, flags, pos_of(old, num),
				       pos_of(new, num), num);
	FUZZ_CHECK(got == model_need_event(ow, flags, old, new, num),
		   "need_event(%#x, %#x, %llu, %llu, %u) = %d", ow, flags,
		   old, new, num, got);
}

/* A device round: the chain at dev_avail, its used descriptor. */
static void device_round(struct fuzz_in *in, struct ring *r)
{
	struct ivhost_packed_pos head = pos_of(r->dev_avail, r->num);
	struct ivhost_packed_pos used = pos_of(r->dev_used, r->num);
	static struct walk w;
	struct pdesc *u;
	u32 len;

	check_walk(r, head, &w);
	if (w.ret)
		return;
	len = fuzz_u8(in) & 1 ? 0 : fuzz_u16(in);
	u = &r->t[0].d[used.idx];
	u->id = w.id;
	u->len = len;
	u->flags = ivhost_packed_used_flags(used.wrap, len);
	FUZZ_CHECK(!!(u->flags & F_AVAIL) == used.wrap &&
		   !!(u->flags & F_USED) == used.wrap &&
		   !!(u->flags & VRING_DESC_F_WRITE) == !!len &&
		   !(u->flags & ~(F_AVAIL | F_USED | VRING_DESC_F_WRITE)),
		   "used flags %#x for wrap %d len %u", u->flags, used.wrap,
		   len);
	ivhost_packed_advance(&used, r->num, w.count);
	FUZZ_CHECK(abs_of(used, r->num) % (2 * r->num) ==
		   (r->dev_used + w.count) % (2 * r->num),
		   "advance by %u to %u/%d", w.count, used.idx, used.wrap);
	check_event(in, r->num, r->dev_used, r->dev_used + w.count);
	r->dev_used = abs_of(used, r->num);
	r->dev_avail = w.next % (2 * r->num);
}

static void set_state(struct fuzz_in *in, struct ring *r)
{
	u32 s = fuzz_u32(in), num = fuzz_u8(in) & 1 ? 0 : r->num;
	struct ivhost_packed_pos a = { 7, 0 }, u = { 9, 1 };
	bool bad = num && ((s & 0x7fff) >= num || (s >> 16 & 0x7fff) >= num);
	int ret = ivhost_packed_state_decode(s, num, &a, &u);

	FUZZ_CHECK(ret == (bad ? -EINVAL : 0), "decode(%#x, %u) = %d", s, num,
		   ret);
	if (ret) {
		FUZZ_CHECK(a.idx == 7 && !a.wrap && u.idx == 9 && u.wrap,
			   "a refused decode wrote its output");
		return;
	}
	FUZZ_CHECK(a.idx == (s & 0x7fff) && a.wrap == !!(s & 0x8000) &&
		   u.idx == (s >> 16 & 0x7fff) && u.wrap == s >> 31,
		   "decode(%#x): %u/%d %u/%d", s, a.idx, a.wrap, u.idx, u.wrap);
	FUZZ_CHECK(ivhost_packed_state_encode(a, u) == s, "encode != %#x", s);
	if (num) {
		r->dev_avail = abs_of(a, num);
		r->dev_used = abs_of(u, num);
	}
}

static void op(struct fuzz_in *in, struct ring *r)
{
	u8 sel = fuzz_u8(in);
	struct ivhost_packed_pos p;
	static struct walk w;
	u64 old;

	switch (sel & 3) {
	case 0:
		p.idx = sel & 4 ? fuzz_u16(in) : fuzz_u8(in) % r->num;
		p.wrap = sel & 8;
		check_walk(r, p, &w);
		break;
	case 1:
		device_round(in, r);
		break;
	case 2:
		set_state(in, r);
		break;
	default:
		old = fuzz_u16(in) % (2 * r->num);
		check_event(in, r->num, old, old + fuzz_u16(in) % (r->num + 1));
		break;
	}
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	struct fuzz_in in = { .p = data, .left = size };
	static struct ring r;
	u8 sel = fuzz_u8(&in);
	u32 i, k, filled, ops;

	if ((sel & 0xc0) == 0xc0)
		r.num = 1 + fuzz_u16(&in) % MAX_RING;
	else
		r.num = 1 + (sel & 0x3f);
	r.t[0].n = r.num;
	r.t[0].d = calloc(r.num, sizeof(*r.t[0].d));
	filled = r.num < 256 ? r.num : 256;
	for (i = 0; i < filled; i++)
		fill_pdesc(&in, &r.t[0].d[i]);
	/* The rest: one long list, available in the first lap. */
	for (i = filled; i < r.num; i++)
		r.t[0].d[i].flags = VRING_DESC_F_NEXT | F_AVAIL |
				    (sel & 0x40 ? VRING_DESC_F_WRITE : 0);
	for (k = 1; k <= MAX_TABLES; k++) {
		r.t[k].n = fuzz_u8(&in) & 1 ? IVHOST_INDIRECT_MAX : fuzz_u8(&in);
		r.t[k].d = calloc(r.t[k].n + 1, sizeof(*r.t[k].d));
		filled = r.t[k].n < 32 ? r.t[k].n : 32;
		for (i = 0; i < filled; i++)
			fill_pdesc(&in, &r.t[k].d[i]);
		for (i = filled; i < r.t[k].n; i++)
			r.t[k].d[i].flags = sel & 0x20 ? VRING_DESC_F_WRITE : 0;
	}
	r.dev_avail = 0;
	r.dev_used = 0;
	ops = 1 + fuzz_u8(&in) % MAX_OPS;
	for (i = 0; i < ops; i++)
		op(&in, &r);
	for (k = 0; k <= MAX_TABLES; k++)
		free(r.t[k].d);
	return 0;
}
