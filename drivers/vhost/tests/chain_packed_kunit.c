// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests of the packed-ring chain walk (chain_packed.c).
 *
 * The oracle is a model written from the virtio 1.1 text (section 2.7)
 * and the issue-20 plan, not from the code: a chain is the list of
 * descriptors in ring order linked by NEXT ("set for all but the last"),
 * at most the queue size long, whose "Buffer ID is included in the last
 * descriptor"; an indirect table's entries are all walked and only WRITE
 * means anything in them; positions are absolute slot counts
 * (packed_kunit.h).  A small driver makes buffers available the way the
 * specification's example does, and a walker plays the ring code's
 * part.  An indirect descriptor's addr is the index of its table in the
 * test's array of tables.
 */
#include <kunit/test.h>

#include "packed_kunit.h"

/* The walker's own outcomes, besides the code's errnos. */
#define NOT_AVAIL	(-1001)
#define RUNAWAY		(-1002)
#define WALK_LIMIT	100000U

/* struct pvirtq_desc, in CPU byte order */
struct pdesc {
	u64 addr;
	u32 len;
	u16 id;
	u16 flags;
};

/**
 * struct ptable - an indirect table the walker may be sent to
 * @d: its descriptors
 * @n: how many @d holds (the walk may use fewer)
 */
struct ptable {
	const struct pdesc *d;
	u32 n;
};

/**
 * struct pwalk - the outcome of walking one chain
 * @ret: 0 for a complete chain, else the error
 * @visited: descriptors fed to the code, the rejected one included
 * @in_indirect: of which from an indirect table
 * @count: ring slots the chain took
 * @id: its buffer ID
 * @next: the position after it
 */
struct pwalk {
	int ret;
	u32 visited;
	u32 in_indirect;
	u32 count;
	u16 id;
	struct ivhost_packed_pos next;
};

static struct ivhost_desc to_desc(const struct pdesc *p)
{
	return (struct ivhost_desc){ .addr = p->addr, .len = p->len,
				     .flags = p->flags, .next = p->id };
}

/* Spec: available when AVAIL matches the wrap counter and USED does not. */
static bool model_avail(u16 flags, bool wrap)
{
	return !!(flags & F_AVAIL) == wrap && !!(flags & F_USED) == !wrap;
}

/* ----- the walker: the ring code's part ----- */

static int walk_enter(struct kunit *test, struct ivhost_packed_chain *c,
		      const struct ivhost_desc *d, const struct ptable *tables,
		      u32 ntables, const struct ptable **table)
{
	int ret = ivhost_packed_chain_enter_indirect(c, d);

	if (ret)
		return ret;
	KUNIT_ASSERT_LT(test, d->addr, (u64)ntables);
	*table = &tables[d->addr];
	KUNIT_ASSERT_LE(test, c->table_size, (*table)->n);
	KUNIT_EXPECT_EQ(test, c->table_size, d->len / DESC_SIZE);
	KUNIT_EXPECT_EQ(test, c->tidx, 0U);
	return 0;
}

static struct pwalk walk(struct kunit *test, const struct pdesc *ring,
			 u32 num, struct ivhost_packed_pos head,
			 const struct ptable *tables, u32 ntables)
{
	const struct ptable *table = NULL;
	struct ivhost_packed_chain c;
	struct pwalk w = { 0 };
	struct ivhost_desc d;

	w.ret = ivhost_packed_chain_start(&c, num, head);
	if (w.ret)
		return w;
	if (!ivhost_packed_desc_avail(ring[head.idx].flags, head.wrap)) {
		w.ret = NOT_AVAIL;
		return w;
	}
	while (w.visited < WALK_LIMIT) {
		if (c.indirect) {
			KUNIT_ASSERT_LT(test, c.tidx, c.table_size);
			d = to_desc(&table->d[c.tidx]);
			w.in_indirect++;
		} else {
			KUNIT_ASSERT_LT(test, (u32)c.pos.idx, num);
			d = to_desc(&ring[c.pos.idx]);
		}
		w.visited++;
		w.ret = ivhost_packed_chain_step(&c, &d);
		if (w.ret == IVHOST_CHAIN_INDIRECT)
			w.ret = walk_enter(test, &c, &d, tables, ntables,
					   &table);
		else if (w.ret == IVHOST_CHAIN_DONE)
			break;
		else if (w.ret == IVHOST_CHAIN_NEXT)
			w.ret = 0;
		if (w.ret)
			return w;
	}
	if (w.visited >= WALK_LIMIT) {
		w.ret = RUNAWAY;
		return w;
	}
	w.ret = 0;
	w.count = c.count;
	w.id = c.id;
	w.next = c.pos;
	return w;
}

/* ----- the reference model, from the specification's words ----- */

/* A table entry: only WRITE matters; readable after writable is bad. */
static int model_element(u16 flags, bool *writable)
{
	if (flags & F_WRITE)
		*writable = true;
	else if (*writable)
		return -EINVAL;
	return 0;
}

static int model_table(const struct pdesc *d, u32 *entries)
{
	if (!d->len || d->len % DESC_SIZE)
		return -EINVAL;
	*entries = d->len / DESC_SIZE;
	return *entries > IVHOST_INDIRECT_MAX ? -E2BIG : 0;
}

static struct pwalk model_walk(const struct pdesc *ring, u32 num,
			       struct ivhost_packed_pos head,
			       const struct ptable *tables)
{
	struct pwalk w = { 0 };
	bool writable = false;
	u32 k, e, entries;
	u64 t0;

	if (!num || num > 32768 || head.idx >= num)
		return (struct pwalk){ .ret = -EINVAL };
	if (!model_avail(ring[head.idx].flags, head.wrap))
		return (struct pwalk){ .ret = NOT_AVAIL };
	t0 = slot_abs(head, num);
	/* The list: slots t0, t0 + 1, ... as long as NEXT says it goes on. */
	for (k = 0; ; k++) {
		const struct pdesc *d = &ring[slot_pos(t0 + k, num).idx];

		w.visited++;
		w.count = k + 1;
		w.id = d->id;
		if (d->flags & F_INDIRECT) {
			/* An indirect descriptor is never linked by NEXT. */
			if (d->flags & F_NEXT)
				return (struct pwalk){ -EINVAL, w.visited };
			w.ret = model_table(d, &entries);
			if (w.ret)
				return w;
			for (e = 0; e < entries; e++) {
				w.visited++;
				w.in_indirect++;
				w.ret = model_element(tables[d->addr].d[e].flags,
						      &writable);
				if (w.ret)
					return w;
			}
			break;
		}
		w.ret = model_element(d->flags, &writable);
		if (w.ret)
			return w;
		if (!(d->flags & F_NEXT))
			break;
		/* No list is longer than the queue size. */
		if (k + 1 == num)
			return (struct pwalk){ -ELOOP, w.visited };
	}
	w.next = slot_pos(t0 + w.count, num);
	return w;
}

/* ----- a driver following the specification's example ----- */

/**
 * struct driver - the driver's side of a ring
 * @ring: the descriptor ring
 * @num: its size
 * @avail: the next slot to make available, with the Driver Ring Wrap
 *	Counter
 * @used: the next slot to read a used descriptor at, with its counter
 * @sgs: descriptors per buffer ID, to skip over on use
 */
struct driver {
	struct pdesc *ring;
	u32 num;
	struct ivhost_packed_pos avail;
	struct ivhost_packed_pos used;
	u32 *sgs;
};

/* Make @n descriptors available as one list with buffer @id. */
static void driver_add(struct driver *drv, u32 n, u16 id, u32 nwrite)
{
	struct ivhost_packed_pos first = drv->avail;
	u16 first_flags = 0, f;
	u32 i;

	for (i = 0; i < n; i++) {
		struct pdesc *d = &drv->ring[drv->avail.idx];

		f = drv->avail.wrap ? F_AVAIL : F_USED;
		if (i + nwrite >= n)
			f |= F_WRITE;
		if (i + 1 < n)
			f |= F_NEXT;
		d->addr = 0x1000 * (i + 1);
		d->len = 64;
		d->id = i + 1 < n ? 0xdead : id;
		if (i)
			d->flags = f;
		else
			first_flags = f;
		if (++drv->avail.idx == drv->num) {
			drv->avail.idx = 0;
			drv->avail.wrap = !drv->avail.wrap;
		}
	}
	drv->sgs[id] = n;
	drv->ring[first.idx].flags = first_flags;
}

/* ----- tests ----- */

static void start_bounds(struct kunit *test)
{
	const struct pdesc w = { .len = 64, .flags = F_WRITE | F_NEXT };
	struct ivhost_packed_chain c;
	struct ivhost_desc d = to_desc(&w);

	KUNIT_EXPECT_EQ(test, ivhost_packed_chain_start(&c, 0, P(0, 1)),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, ivhost_packed_chain_start(&c, 32769, P(0, 1)),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, ivhost_packed_chain_start(&c, 8, P(8, 1)),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, ivhost_packed_chain_start(&c, 1, P(1, 0)),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, ivhost_packed_chain_start(&c, 1, P(0, 0)), 0);
	/* A used state is forgotten by the next start. */
	KUNIT_ASSERT_EQ(test, ivhost_packed_chain_start(&c, 32768,
							P(32767, 0)), 0);
	KUNIT_ASSERT_EQ(test, ivhost_packed_chain_step(&c, &d),
			IVHOST_CHAIN_NEXT);
	KUNIT_ASSERT_EQ(test, ivhost_packed_chain_start(&c, 32768,
							P(32767, 1)), 0);
	KUNIT_EXPECT_EQ(test, c.num, 32768U);
	KUNIT_EXPECT_TRUE(test, pos_eq(c.pos, P(32767, 1)));
	KUNIT_EXPECT_EQ(test, c.count, 0U);
	KUNIT_EXPECT_FALSE(test, c.indirect);
	KUNIT_EXPECT_FALSE(test, c.writable);
}

static struct pdesc *ring_alloc(struct kunit *test, u32 num)
{
	struct pdesc *r = kunit_kcalloc(test, num, sizeof(*r), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, r);
	return r;
}

static void expect_chain(struct kunit *test, struct pwalk w, u32 count,
			 u16 id, struct ivhost_packed_pos next)
{
	KUNIT_EXPECT_EQ(test, w.ret, 0);
	KUNIT_EXPECT_EQ(test, w.count, count);
	KUNIT_EXPECT_EQ(test, w.visited, count);
	KUNIT_EXPECT_EQ(test, w.id, id);
	KUNIT_EXPECT_EQ(test, w.next.idx, next.idx);
	KUNIT_EXPECT_EQ(test, w.next.wrap, next.wrap);
}

/* Lists the driver made, the last crossing the end of the ring. */
static void chain_wraps_around(struct kunit *test)
{
	u32 sgs[8] = { 0 };
	struct driver drv = { ring_alloc(test, 5), 5, P(0, 1), P(0, 1), sgs };
	struct pwalk w;

	driver_add(&drv, 3, 7, 1);
	driver_add(&drv, 2, 2, 0);
	w = walk(test, drv.ring, 5, P(0, 1), NULL, 0);
	expect_chain(test, w, 3, 7, P(3, 1));
	w = walk(test, drv.ring, 5, P(3, 1), NULL, 0);
	expect_chain(test, w, 2, 2, P(0, 0));
	/* The device used slots 0-4; the driver reuses 0-2 in lap 0. */
	drv.ring[0].flags = ivhost_packed_used_flags(true, true);
	drv.ring[3].flags = ivhost_packed_used_flags(true, false);
	driver_add(&drv, 3, 5, 2);
	KUNIT_EXPECT_TRUE(test, pos_eq(drv.avail, P(3, 0)));
	w = walk(test, drv.ring, 5, P(0, 0), NULL, 0);
	expect_chain(test, w, 3, 5, P(3, 0));
	/* Slot 3 holds a used descriptor of lap 1: nothing available. */
	KUNIT_EXPECT_EQ(test, walk(test, drv.ring, 5, P(3, 0), NULL, 0).ret,
			NOT_AVAIL);
	/* Once that is used too, a list from slot 3 across the end. */
	drv.ring[0].flags = ivhost_packed_used_flags(false, false);
	driver_add(&drv, 4, 6, 0);
	w = walk(test, drv.ring, 5, P(3, 0), NULL, 0);
	expect_chain(test, w, 4, 6, P(2, 1));
}

/* The ID is the last descriptor's; the others' are not looked at. */
static void chain_id_from_last(struct kunit *test)
{
	const struct pdesc ring[] = {
		{ .id = 1, .flags = F_AVAIL | F_NEXT },
		{ .id = 2, .flags = F_AVAIL | F_NEXT },
		{ .id = 0xffff, .flags = F_AVAIL },
		{ .id = 9, .flags = F_AVAIL },
	};

	expect_chain(test, walk(test, ring, 4, P(0, 1), NULL, 0), 3, 0xffff,
		     P(3, 1));
	expect_chain(test, walk(test, ring, 4, P(3, 1), NULL, 0), 1, 9,
		     P(0, 0));
}

/* A list may take the whole ring, and not one slot more. */
static void chain_at_ring_size(struct kunit *test)
{
	static const u32 sizes[] = { 1, 2, 3, 8, 255, 32768 };
	struct ivhost_packed_chain c;
	struct ivhost_desc d;
	struct pdesc *r;
	unsigned int i;
	u32 num, k;
	bool wrap;

	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		num = sizes[i];
		r = ring_alloc(test, num);
		for (wrap = false; ; wrap = true) {
			u16 av = wrap ? F_AVAIL : F_USED;

			for (k = 0; k < num; k++)
				r[k] = (struct pdesc){ .id = k,
						       .flags = av | F_NEXT };
			/* Head at num / 2: the list ends in slot num/2 - 1. */
			r[(num / 2 + num - 1) % num].flags = av;
			expect_chain(test, walk(test, r, num, P(num / 2, wrap),
						NULL, 0),
				     num, (num / 2 + num - 1) % num,
				     P(num / 2, !wrap));
			r[(num / 2 + num - 1) % num].flags = av | F_NEXT;
			KUNIT_EXPECT_EQ(test, walk(test, r, num,
						   P(num / 2, wrap), NULL,
						   0).visited, num);
			KUNIT_EXPECT_EQ(test, walk(test, r, num,
						   P(num / 2, wrap), NULL,
						   0).ret, -ELOOP);
			if (wrap)
				break;
		}
	}
	/* Fed a ring descriptor after -ELOOP, the code says -ELOOP again. */
	d = to_desc(&(struct pdesc){ .flags = F_AVAIL });
	KUNIT_ASSERT_EQ(test, ivhost_packed_chain_start(&c, 1, P(0, 1)), 0);
	d.flags |= F_NEXT;
	KUNIT_EXPECT_EQ(test, ivhost_packed_chain_step(&c, &d), -ELOOP);
	d.flags &= ~F_NEXT;
	KUNIT_EXPECT_EQ(test, ivhost_packed_chain_step(&c, &d), -ELOOP);
}

static void readable_before_writable(struct kunit *test)
{
	const struct pdesc ring[] = {
		{ .flags = F_AVAIL | F_NEXT },
		{ .flags = F_AVAIL | F_NEXT | F_WRITE },
		{ .flags = F_AVAIL | F_WRITE, .id = 4 },
		{ .flags = F_AVAIL | F_NEXT | F_WRITE },
		{ .flags = F_AVAIL },
	};

	expect_chain(test, walk(test, ring, 5, P(0, 1), NULL, 0), 3, 4,
		     P(3, 1));
	KUNIT_EXPECT_EQ(test, walk(test, ring, 5, P(3, 1), NULL, 0).ret,
			-EINVAL);
	KUNIT_EXPECT_EQ(test, walk(test, ring, 5, P(3, 1), NULL, 0).visited,
			2U);
}

static void indirect_walk(struct kunit *test)
{
	/* Entries: NEXT, INDIRECT and IDs mean nothing here. */
	const struct pdesc t0[] = {
		{ .flags = 0, .id = 77 },
		{ .flags = F_NEXT | F_INDIRECT },
		{ .flags = F_WRITE },
		{ .flags = F_WRITE | F_NEXT, .id = 3 },
	};
	const struct ptable tables[] = { { t0, 4 } };
	/*
	 * A direct descriptor, then an indirect one, in one list: the spec
	 * tells drivers not to write that, the plan accepts it.
	 */
	const struct pdesc ring[] = {
		{ .flags = F_AVAIL | F_NEXT },
		/* WRITE on the indirect descriptor itself is ignored. */
		{ .flags = F_AVAIL | F_INDIRECT | F_WRITE, .len = 4 * DESC_SIZE,
		  .id = 12 },
		{ .flags = F_AVAIL | F_INDIRECT, .len = 3 * DESC_SIZE,
		  .id = 13 },
	};
	struct pwalk w;

	w = walk(test, ring, 3, P(0, 1), tables, 1);
	KUNIT_EXPECT_EQ(test, w.ret, 0);
	KUNIT_EXPECT_EQ(test, w.visited, 6U);
	KUNIT_EXPECT_EQ(test, w.in_indirect, 4U);
	KUNIT_EXPECT_EQ(test, w.count, 2U);
	KUNIT_EXPECT_EQ(test, w.id, 12);
	KUNIT_EXPECT_TRUE(test, pos_eq(w.next, P(2, 1)));
	/* Three of four entries: the walk stops at the table's end. */
	w = walk(test, ring, 3, P(2, 1), tables, 1);
	KUNIT_EXPECT_EQ(test, w.ret, 0);
	KUNIT_EXPECT_EQ(test, w.in_indirect, 3U);
	KUNIT_EXPECT_EQ(test, w.count, 1U);
	KUNIT_EXPECT_EQ(test, w.id, 13);
	KUNIT_EXPECT_TRUE(test, pos_eq(w.next, P(0, 0)));
}

static void indirect_malformed(struct kunit *test)
{
	const struct pdesc rw[] = { { .flags = F_WRITE }, { .flags = 0 } };
	const struct pdesc rd[] = { { .flags = 0 } };
	const struct ptable tables[] = { { rw, 2 }, { rd, 1 } };
	const struct pdesc ring[] = {
		{ .flags = F_AVAIL | F_INDIRECT | F_NEXT, .len = DESC_SIZE },
		{ .flags = F_AVAIL },
		{ .flags = F_AVAIL | F_INDIRECT, .len = 2 * DESC_SIZE },
		{ .flags = F_AVAIL | F_WRITE | F_NEXT },
		{ .flags = F_AVAIL | F_INDIRECT, .len = DESC_SIZE, .addr = 1 },
	};
	struct ivhost_packed_chain c;
	struct ivhost_desc d = to_desc(&ring[4]);
	struct pwalk w;

	w = walk(test, ring, 5, P(0, 1), tables, 2);
	KUNIT_EXPECT_EQ(test, w.ret, -EINVAL);
	KUNIT_EXPECT_EQ(test, w.visited, 1U);
	/* Writable, then readable, inside the table. */
	w = walk(test, ring, 5, P(2, 1), tables, 2);
	KUNIT_EXPECT_EQ(test, w.ret, -EINVAL);
	KUNIT_EXPECT_EQ(test, w.in_indirect, 2U);
	/* Writable in the ring, then readable in the table. */
	w = walk(test, ring, 5, P(3, 1), tables, 2);
	KUNIT_EXPECT_EQ(test, w.ret, -EINVAL);
	KUNIT_EXPECT_EQ(test, w.visited, 3U);
	/* A table inside a table. */
	KUNIT_ASSERT_EQ(test, ivhost_packed_chain_start(&c, 5, P(4, 1)), 0);
	KUNIT_ASSERT_EQ(test, ivhost_packed_chain_step(&c, &d),
			IVHOST_CHAIN_INDIRECT);
	KUNIT_ASSERT_EQ(test, ivhost_packed_chain_enter_indirect(&c, &d), 0);
	KUNIT_EXPECT_EQ(test, ivhost_packed_chain_enter_indirect(&c, &d),
			-EINVAL);
}

static int enter_len(u32 len)
{
	const struct ivhost_desc d = { .len = len,
				       .flags = F_INDIRECT | F_AVAIL };
	struct ivhost_packed_chain c;
	int ret = ivhost_packed_chain_start(&c, 4, P(0, 1));

	if (!ret)
		ret = ivhost_packed_chain_step(&c, &d);
	if (ret != IVHOST_CHAIN_INDIRECT)
		return -ENOTRECOVERABLE;
	ret = ivhost_packed_chain_enter_indirect(&c, &d);
	if (!ret && (c.table_size * DESC_SIZE != len || !c.indirect))
		return -ERANGE;
	return ret;
}

static void indirect_length(struct kunit *test)
{
	static const u32 bad[] = { 0, 1, 8, 15, 17, 16 * 3 + 8,
				   16 * IVHOST_INDIRECT_MAX + 8, 0xffffffff };
	static const u32 big[] = { 16 * IVHOST_INDIRECT_MAX + 16,
				   0xfffffff0 };
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(bad); i++)
		KUNIT_EXPECT_EQ(test, enter_len(bad[i]), -EINVAL);
	for (i = 0; i < ARRAY_SIZE(big); i++)
		KUNIT_EXPECT_EQ(test, enter_len(big[i]), -E2BIG);
	KUNIT_EXPECT_EQ(test, enter_len(16), 0);
	KUNIT_EXPECT_EQ(test, enter_len(16 * 5), 0);
	KUNIT_EXPECT_EQ(test, enter_len(16 * IVHOST_INDIRECT_MAX), 0);
}

/* The driver and the device, many laps of a ring of odd size. */
static void driver_device_laps(struct kunit *test)
{
	const u32 num = 7;
	u32 sgs[16] = { 0 };
	struct driver drv = { ring_alloc(test, num), num, P(0, 1), P(0, 1),
			      sgs };
	struct ivhost_packed_pos dev_avail = P(0, 1), dev_used = P(0, 1);
	struct pdesc *u;
	struct pwalk w;
	u32 round, n;
	u16 id;

	for (round = 0; round < 200; round++) {
		n = 1 + round % num;
		id = round % 16;
		driver_add(&drv, n, id, round % 3 ? 0 : n);
		/* The device: the list at its avail position. */
		w = walk(test, drv.ring, num, dev_avail, NULL, 0);
		expect_chain(test, w, n, id,
			     slot_pos(slot_abs(dev_avail, num) + n, num));
		/* Nothing else is available. */
		KUNIT_ASSERT_EQ(test, walk(test, drv.ring, num, w.next, NULL,
					   0).ret, NOT_AVAIL);
		dev_avail = w.next;
		u = &drv.ring[dev_used.idx];
		u->id = w.id;
		u->len = round % 3 ? 0 : 100;
		u->flags = ivhost_packed_used_flags(dev_used.wrap, u->len);
		ivhost_packed_advance(&dev_used, num, w.count);
		/* The driver: a used descriptor where it looks for one. */
		u = &drv.ring[drv.used.idx];
		KUNIT_ASSERT_EQ(test, !!(u->flags & F_USED), drv.used.wrap);
		KUNIT_ASSERT_EQ(test, !!(u->flags & F_AVAIL), drv.used.wrap);
		KUNIT_ASSERT_EQ(test, u->id, id);
		KUNIT_ASSERT_EQ(test, !!(u->flags & F_WRITE), !(round % 3));
		drv.used = slot_pos(slot_abs(drv.used, num) + sgs[u->id], num);
		KUNIT_ASSERT_TRUE(test, pos_eq(drv.used, dev_used));
	}
}

/* ----- random rings against the model ----- */

#define RAND_RING_MAX	20U
#define RAND_TABLES	3U
#define RAND_TABLE_MAX	6U
#define RAND_ROUNDS	30000U

struct rand_rings {
	struct pdesc ring[RAND_RING_MAX];
	struct pdesc ind[RAND_TABLES][RAND_TABLE_MAX];
	struct ptable tables[RAND_TABLES];
};

static void rand_desc(struct rnd_state *rs, struct pdesc *d, bool wrap)
{
	static const u32 bad_len[] = { 0, 8, DESC_SIZE + 1,
				       (IVHOST_INDIRECT_MAX + 1) * DESC_SIZE };

	d->flags = rnd(rs, 4) ? F_NEXT : 0;
	d->flags |= rnd(rs, 3) ? 0 : F_WRITE;
	d->flags |= rnd(rs, 8) ? 0 : F_INDIRECT;
	/* Mostly available in the lap of the head, now and then not. */
	if (rnd(rs, 6))
		d->flags |= wrap ? F_AVAIL : F_USED;
	else
		d->flags |= rnd(rs, 2) ? F_AVAIL : 0;
	if (!rnd(rs, 6))
		d->flags |= rnd(rs, 2) ? F_USED : 0;
	d->id = prandom_u32_state(rs);
	d->addr = rnd(rs, RAND_TABLES);
	if (rnd(rs, 8))
		d->len = (1 + rnd(rs, RAND_TABLE_MAX)) * DESC_SIZE;
	else
		d->len = bad_len[rnd(rs, ARRAY_SIZE(bad_len))];
}

static void random_vs_model(struct kunit *test)
{
	struct rand_rings *m = kunit_kzalloc(test, sizeof(*m), GFP_KERNEL);
	struct ivhost_packed_pos head;
	struct pwalk got, want;
	struct rnd_state rs;
	u32 round, num, i, t;

	KUNIT_ASSERT_NOT_NULL(test, m);
	for (t = 0; t < RAND_TABLES; t++)
		m->tables[t] = (struct ptable){ m->ind[t], RAND_TABLE_MAX };
	prandom_seed_state(&rs, 0x9acced);
	for (round = 0; round < RAND_ROUNDS; round++) {
		num = 1 + rnd(&rs, RAND_RING_MAX);
		head = P(rnd(&rs, num), rnd(&rs, 2));
		for (i = 0; i < num; i++)
			rand_desc(&rs, &m->ring[i], head.wrap);
		for (t = 0; t < RAND_TABLES; t++)
			for (i = 0; i < RAND_TABLE_MAX; i++)
				rand_desc(&rs, &m->ind[t][i], head.wrap);
		if (!rnd(&rs, 50))
			head.idx = num;
		want = model_walk(m->ring, num, head, m->tables);
		got = walk(test, m->ring, num, head, m->tables, RAND_TABLES);
		KUNIT_ASSERT_EQ_MSG(test, got.ret, want.ret, "round %u", round);
		KUNIT_ASSERT_EQ_MSG(test, got.visited, want.visited,
				    "round %u", round);
		KUNIT_ASSERT_EQ_MSG(test, got.in_indirect, want.in_indirect,
				    "round %u", round);
		if (got.ret || want.ret)
			continue;
		KUNIT_ASSERT_EQ_MSG(test, got.count, want.count, "round %u",
				    round);
		KUNIT_ASSERT_EQ_MSG(test, got.id, want.id, "round %u", round);
		KUNIT_ASSERT_TRUE_MSG(test, pos_eq(got.next, want.next),
				      "round %u", round);
	}
}

static struct kunit_case ivhost_chain_packed_cases[] = {
	KUNIT_CASE(start_bounds),
	KUNIT_CASE(chain_wraps_around),
	KUNIT_CASE(chain_id_from_last),
	KUNIT_CASE(chain_at_ring_size),
	KUNIT_CASE(readable_before_writable),
	KUNIT_CASE(indirect_walk),
	KUNIT_CASE(indirect_malformed),
	KUNIT_CASE(indirect_length),
	KUNIT_CASE(driver_device_laps),
	KUNIT_CASE(random_vs_model),
	{}
};

static struct kunit_suite ivhost_chain_packed_suite = {
	.name = "ivhost_chain_packed",
	.test_cases = ivhost_chain_packed_cases,
};

kunit_test_suite(ivhost_chain_packed_suite);
