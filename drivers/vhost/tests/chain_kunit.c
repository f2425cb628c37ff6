// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests of the descriptor-chain walker (chain.c).  A small driver
 * below plays vring.c's part: it fetches descriptors from in-memory tables
 * and feeds them to the state machine.  An indirect descriptor's addr
 * field is the index of its table in the test's array of tables.
 */
#include <kunit/test.h>
#include <linux/bitmap.h>
#include <linux/prandom.h>
#include <linux/virtio_ring.h>

#include "../chain.h"

#define F_NEXT		VRING_DESC_F_NEXT
#define F_WRITE		VRING_DESC_F_WRITE
#define F_INDIRECT	VRING_DESC_F_INDIRECT
#define DESC_SIZE	((u32)sizeof(struct vring_desc))

/* A direct descriptor; the walker ignores addr and len. */
#define D(fl, nx)	{ .addr = 0x1000, .len = 64, .flags = (fl), .next = (nx) }
/* An indirect descriptor pointing at table @t of @n descriptors. */
#define IND(t, n)	{ .addr = (t), .len = (n) * DESC_SIZE, .flags = F_INDIRECT }

/* Walks longer than this mean the walker failed to stop a loop. */
#define WALK_LIMIT	100000U
#define WALK_RUNAWAY	(-1000)

/**
 * struct desc_table - a descriptor table the test walks
 * @d: the descriptors
 * @n: how many
 */
struct desc_table {
	const struct ivhost_desc *d;
	u32 n;
};

/**
 * struct walk - the outcome of walking one chain
 * @ret: 0 when the chain is complete, else the error the walker returned
 * @visited: descriptors fetched, including the one rejected
 * @in_indirect: descriptors fetched from an indirect table
 */
struct walk {
	int ret;
	unsigned int visited;
	unsigned int in_indirect;
};

static int enter_indirect(struct kunit *test, struct ivhost_chain *c,
			  const struct ivhost_desc *d,
			  const struct desc_table *tables, u32 ntables,
			  const struct desc_table **cur)
{
	int ret = ivhost_chain_enter_indirect(c, d);

	if (ret)
		return ret;
	KUNIT_ASSERT_LT(test, d->addr, (u64)ntables);
	*cur = &tables[d->addr];
	KUNIT_ASSERT_EQ(test, c->table_size, (*cur)->n);
	KUNIT_EXPECT_EQ(test, c->idx, 0);
	KUNIT_EXPECT_TRUE(test, c->indirect);
	return 0;
}

/* Walk the chain at @head of @ring the way vring.c does. */
static struct walk walk(struct kunit *test, const struct desc_table *ring,
			u32 head, const struct desc_table *tables, u32 ntables)
{
	const struct desc_table *cur = ring;
	struct walk w = { 0 };
	struct ivhost_chain c;
	const struct ivhost_desc *d;

	w.ret = ivhost_chain_start(&c, ring->n, head);
	while (!w.ret && w.visited < WALK_LIMIT) {
		KUNIT_ASSERT_LT(test, (u32)c.idx, cur->n);
		d = &cur->d[c.idx];
		w.visited++;
		w.in_indirect += c.indirect;
		w.ret = ivhost_chain_step(&c, d);
		if (w.ret == IVHOST_CHAIN_DONE)
			return w;
		if (w.ret == IVHOST_CHAIN_NEXT)
			w.ret = 0;
		else if (w.ret == IVHOST_CHAIN_INDIRECT)
			w.ret = enter_indirect(test, &c, d, tables, ntables,
					       &cur);
	}
	if (!w.ret)
		w.ret = WALK_RUNAWAY;
	return w;
}

static struct walk walk_ring(struct kunit *test, const struct ivhost_desc *d,
			     u32 n, u32 head)
{
	const struct desc_table ring = { d, n };

	return walk(test, &ring, head, NULL, 0);
}

static void expect_walk(struct kunit *test, struct walk w, int ret,
			unsigned int visited)
{
	KUNIT_EXPECT_EQ(test, w.ret, ret);
	KUNIT_EXPECT_EQ(test, w.visited, visited);
}

static void start_head_bounds(struct kunit *test)
{
	struct ivhost_chain c;

	KUNIT_EXPECT_EQ(test, ivhost_chain_start(&c, 256, 0), 0);
	KUNIT_EXPECT_EQ(test, ivhost_chain_start(&c, 256, 256), -EINVAL);
	KUNIT_EXPECT_EQ(test, ivhost_chain_start(&c, 256, 0xffffffff),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, ivhost_chain_start(&c, 0, 0), -EINVAL);
	KUNIT_EXPECT_EQ(test, ivhost_chain_start(&c, 1, 1), -EINVAL);
	KUNIT_EXPECT_EQ(test, ivhost_chain_start(&c, 32768, 32767), 0);
	KUNIT_EXPECT_EQ(test, c.idx, 32767);
	KUNIT_EXPECT_EQ(test, c.table_size, 32768U);
	KUNIT_EXPECT_EQ(test, c.budget, 32768U);
	KUNIT_EXPECT_FALSE(test, c.indirect);
	KUNIT_EXPECT_FALSE(test, c.writable);
}

static void start_resets_state(struct kunit *test)
{
	const struct ivhost_desc ind = IND(0, 4);
	const struct ivhost_desc w = D(F_WRITE, 0);
	struct ivhost_chain c;

	KUNIT_ASSERT_EQ(test, ivhost_chain_start(&c, 8, 0), 0);
	KUNIT_ASSERT_EQ(test, ivhost_chain_step(&c, &ind),
			IVHOST_CHAIN_INDIRECT);
	KUNIT_ASSERT_EQ(test, ivhost_chain_enter_indirect(&c, &ind), 0);
	KUNIT_ASSERT_EQ(test, ivhost_chain_step(&c, &w), IVHOST_CHAIN_DONE);
	KUNIT_ASSERT_EQ(test, ivhost_chain_start(&c, 8, 5), 0);
	KUNIT_EXPECT_EQ(test, c.idx, 5);
	KUNIT_EXPECT_EQ(test, c.table_size, 8U);
	KUNIT_EXPECT_EQ(test, c.budget, 8U);
	KUNIT_EXPECT_FALSE(test, c.indirect);
	KUNIT_EXPECT_FALSE(test, c.writable);
}

static void single_descriptor(struct kunit *test)
{
	const struct ivhost_desc ring[] = { D(0, 0), D(F_WRITE, 0) };

	expect_walk(test, walk_ring(test, ring, 2, 0), 0, 1);
	expect_walk(test, walk_ring(test, ring, 2, 1), 0, 1);
	/* A ring of one entry holds a chain of one descriptor. */
	expect_walk(test, walk_ring(test, ring, 1, 0), 0, 1);
}

static void chain_follows_next(struct kunit *test)
{
	const struct ivhost_desc ring[] = {
		D(F_NEXT, 3), D(0, 0), D(F_NEXT, 1), D(F_NEXT, 2),
	};
	struct ivhost_chain c;

	KUNIT_ASSERT_EQ(test, ivhost_chain_start(&c, 4, 0), 0);
	KUNIT_EXPECT_EQ(test, ivhost_chain_step(&c, &ring[0]),
			IVHOST_CHAIN_NEXT);
	KUNIT_EXPECT_EQ(test, c.idx, 3);
	KUNIT_EXPECT_EQ(test, ivhost_chain_step(&c, &ring[3]),
			IVHOST_CHAIN_NEXT);
	KUNIT_EXPECT_EQ(test, c.idx, 2);
	KUNIT_EXPECT_EQ(test, ivhost_chain_step(&c, &ring[2]),
			IVHOST_CHAIN_NEXT);
	KUNIT_EXPECT_EQ(test, c.idx, 1);
	KUNIT_EXPECT_EQ(test, ivhost_chain_step(&c, &ring[1]),
			IVHOST_CHAIN_DONE);
	expect_walk(test, walk_ring(test, ring, 4, 2), 0, 2);
}

static void next_out_of_range(struct kunit *test)
{
	const struct ivhost_desc last_ok[] = { D(F_NEXT, 3), D(0, 0), D(0, 0),
					       D(0, 0) };
	const struct ivhost_desc past[] = { D(F_NEXT, 1), D(F_NEXT, 4),
					    D(0, 0), D(0, 0) };
	const struct ivhost_desc far[] = { D(F_NEXT, 0xffff) };
	const struct ivhost_desc done[] = { D(0, 0xffff) };

	expect_walk(test, walk_ring(test, last_ok, 4, 0), 0, 2);
	expect_walk(test, walk_ring(test, past, 4, 0), -EINVAL, 2);
	expect_walk(test, walk_ring(test, far, 1, 0), -EINVAL, 1);
	/* Without NEXT, the next field is not looked at. */
	expect_walk(test, walk_ring(test, done, 1, 0), 0, 1);
}

static void loop_detected(struct kunit *test)
{
	const struct ivhost_desc self[] = { D(F_NEXT, 0) };
	const struct ivhost_desc ab[] = { D(F_NEXT, 1), D(F_NEXT, 0),
					  D(0, 0), D(0, 0) };
	const struct ivhost_desc tail[] = { D(F_NEXT, 1), D(F_NEXT, 2),
					    D(F_NEXT, 3), D(F_NEXT, 1) };

	expect_walk(test, walk_ring(test, self, 1, 0), -ELOOP, 1);
	/* a -> b -> a: stopped once the ring's worth of fetches is spent. */
	expect_walk(test, walk_ring(test, ab, 4, 0), -ELOOP, 4);
	expect_walk(test, walk_ring(test, ab, 2, 1), -ELOOP, 2);
	expect_walk(test, walk_ring(test, tail, 4, 0), -ELOOP, 4);
}

/* A chain through all @n entries of a ring, optionally back to its head. */
static struct ivhost_desc *ring_chain(struct kunit *test, u32 n, bool loop)
{
	struct ivhost_desc *d;
	u32 i;

	d = kunit_kcalloc(test, n, sizeof(*d), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, d);
	for (i = 0; i < n; i++) {
		d[i].flags = F_NEXT;
		d[i].next = (i + 1) % n;
	}
	if (!loop)
		d[n - 1].flags = 0;
	return d;
}

static void chain_at_budget(struct kunit *test)
{
	static const u32 sizes[] = { 1, 2, 8, 256, 32768 };
	struct ivhost_desc *d;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		d = ring_chain(test, sizes[i], false);
		expect_walk(test, walk_ring(test, d, sizes[i], 0), 0,
			    sizes[i]);
		/* The same chain is too long for a ring one entry smaller. */
		if (sizes[i] > 1) {
			d[sizes[i] - 2].next = 0;
			expect_walk(test, walk_ring(test, d, sizes[i] - 1, 0),
				    -ELOOP, sizes[i] - 1);
		}
		d = ring_chain(test, sizes[i], true);
		expect_walk(test, walk_ring(test, d, sizes[i], 0), -ELOOP,
			    sizes[i]);
	}
}

static void step_after_budget_spent(struct kunit *test)
{
	const struct ivhost_desc d = D(0, 0);
	struct ivhost_chain c;

	KUNIT_ASSERT_EQ(test, ivhost_chain_start(&c, 1, 0), 0);
	KUNIT_EXPECT_EQ(test, ivhost_chain_step(&c, &d), IVHOST_CHAIN_DONE);
	KUNIT_EXPECT_EQ(test, c.budget, 0U);
	KUNIT_EXPECT_EQ(test, ivhost_chain_step(&c, &d), -ELOOP);
}

static void readable_before_writable(struct kunit *test)
{
	const struct ivhost_desc rw[] = { D(F_NEXT, 1), D(F_NEXT | F_WRITE, 2),
					  D(F_WRITE, 0) };
	const struct ivhost_desc wr[] = { D(F_WRITE | F_NEXT, 1), D(0, 0) };
	const struct ivhost_desc wwr[] = { D(F_WRITE | F_NEXT, 1),
					   D(F_WRITE | F_NEXT, 2),
					   D(F_NEXT, 3), D(F_WRITE, 0) };
	const struct ivhost_desc rr[] = { D(F_NEXT, 1), D(0, 0) };
	const struct ivhost_desc ww[] = { D(F_WRITE | F_NEXT, 1),
					  D(F_WRITE, 0) };

	expect_walk(test, walk_ring(test, rw, 3, 0), 0, 3);
	expect_walk(test, walk_ring(test, wr, 2, 0), -EINVAL, 2);
	expect_walk(test, walk_ring(test, wwr, 4, 0), -EINVAL, 3);
	expect_walk(test, walk_ring(test, rr, 2, 0), 0, 2);
	expect_walk(test, walk_ring(test, ww, 2, 0), 0, 2);
	/* The order is checked from the head on, not from entry 0. */
	expect_walk(test, walk_ring(test, wwr, 4, 1), -EINVAL, 2);
	expect_walk(test, walk_ring(test, rw, 3, 1), 0, 2);
}

static void indirect_walk(struct kunit *test)
{
	const struct ivhost_desc ind[] = { D(F_NEXT, 2), D(F_WRITE, 0),
					   D(F_NEXT | F_WRITE, 1) };
	const struct desc_table tables[] = { { ind, 3 } };
	const struct ivhost_desc d[] = { D(F_NEXT, 1), IND(0, 3) };
	const struct desc_table ring = { d, 2 };
	struct walk w = walk(test, &ring, 0, tables, 1);

	expect_walk(test, w, 0, 5);
	KUNIT_EXPECT_EQ(test, w.in_indirect, 3U);
	/* The head itself may be the indirect descriptor. */
	w = walk(test, &ring, 1, tables, 1);
	expect_walk(test, w, 0, 4);
}

static void indirect_with_next(struct kunit *test)
{
	const struct ivhost_desc ind[] = { D(0, 0) };
	const struct desc_table tables[] = { { ind, 1 } };
	const struct ivhost_desc d[] = {
		{ .addr = 0, .len = DESC_SIZE, .flags = F_INDIRECT | F_NEXT,
		  .next = 1 },
		D(0, 0),
	};
	const struct desc_table ring = { d, 2 };

	expect_walk(test, walk(test, &ring, 0, tables, 1), -EINVAL, 1);
}

static void indirect_nested(struct kunit *test)
{
	const struct ivhost_desc inner[] = { D(0, 0) };
	const struct ivhost_desc outer[] = { D(F_NEXT, 1), IND(0, 1) };
	const struct ivhost_desc first[] = { IND(0, 1) };
	const struct desc_table tables[] = { { inner, 1 }, { outer, 2 },
					{ first, 1 } };
	const struct ivhost_desc d[] = { IND(1, 2), IND(2, 1) };
	const struct desc_table ring = { d, 2 };
	struct ivhost_chain c;

	expect_walk(test, walk(test, &ring, 0, tables, 3), -EINVAL, 3);
	expect_walk(test, walk(test, &ring, 1, tables, 3), -EINVAL, 2);

	/* Entering a table from inside one is refused as well. */
	KUNIT_ASSERT_EQ(test, ivhost_chain_start(&c, 2, 0), 0);
	KUNIT_ASSERT_EQ(test, ivhost_chain_enter_indirect(&c, &d[0]), 0);
	KUNIT_EXPECT_EQ(test, ivhost_chain_enter_indirect(&c, &d[0]),
			-EINVAL);
}

static int enter_len(u32 len)
{
	const struct ivhost_desc d = { .len = len, .flags = F_INDIRECT };
	struct ivhost_chain c;
	int ret;

	ret = ivhost_chain_start(&c, 4, 0);
	if (!ret)
		ret = ivhost_chain_step(&c, &d);
	if (ret != IVHOST_CHAIN_INDIRECT)
		return -ENOTRECOVERABLE;
	ret = ivhost_chain_enter_indirect(&c, &d);
	if (!ret && c.table_size * DESC_SIZE != len)
		return -ERANGE;
	return ret;
}

static void indirect_length(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, enter_len(0), -EINVAL);
	KUNIT_EXPECT_EQ(test, enter_len(1), -EINVAL);
	KUNIT_EXPECT_EQ(test, enter_len(8), -EINVAL);
	KUNIT_EXPECT_EQ(test, enter_len(15), -EINVAL);
	KUNIT_EXPECT_EQ(test, enter_len(17), -EINVAL);
	KUNIT_EXPECT_EQ(test, enter_len(16 * 3 + 8), -EINVAL);
	KUNIT_EXPECT_EQ(test, enter_len(16), 0);
	KUNIT_EXPECT_EQ(test, enter_len(16 * 2), 0);
	KUNIT_EXPECT_EQ(test, enter_len(16 * IVHOST_INDIRECT_MAX), 0);
	KUNIT_EXPECT_EQ(test, enter_len(16 * IVHOST_INDIRECT_MAX + 16),
			-E2BIG);
	KUNIT_EXPECT_EQ(test, enter_len(16 * IVHOST_INDIRECT_MAX + 8),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, enter_len(0xfffffff0), -E2BIG);
	KUNIT_EXPECT_EQ(test, enter_len(0xffffffff), -EINVAL);
}

/* An indirect table's budget is its own size, not the ring's. */
static void indirect_budget(struct kunit *test)
{
	const u32 n = IVHOST_INDIRECT_MAX;
	const struct ivhost_desc d[] = { D(F_NEXT, 1), IND(0, n) };
	const struct desc_table ring = { d, 2 };
	struct desc_table tables[1];
	struct ivhost_desc *ind;
	struct walk w;

	ind = ring_chain(test, n, false);
	tables[0] = (struct desc_table){ ind, n };
	w = walk(test, &ring, 0, tables, 1);
	expect_walk(test, w, 0, n + 2);
	KUNIT_EXPECT_EQ(test, w.in_indirect, n);

	/* Looping back to entry 0 is caught after n fetches in the table. */
	ind[n - 1].flags = F_NEXT;
	w = walk(test, &ring, 0, tables, 1);
	expect_walk(test, w, -ELOOP, n + 2);
	KUNIT_EXPECT_EQ(test, w.in_indirect, n);
}

static void indirect_loop_and_range(struct kunit *test)
{
	const struct ivhost_desc ab[] = { D(F_NEXT, 1), D(F_NEXT, 0) };
	const struct ivhost_desc out[] = { D(F_NEXT, 1), D(F_NEXT, 2) };
	const struct desc_table tables[] = { { ab, 2 }, { out, 2 } };
	/* Index 2 is inside the ring but outside the 2-entry table. */
	const struct ivhost_desc d[] = { IND(0, 2), IND(1, 2), D(0, 0),
					 D(0, 0) };
	const struct desc_table ring = { d, 4 };

	expect_walk(test, walk(test, &ring, 0, tables, 2), -ELOOP, 3);
	expect_walk(test, walk(test, &ring, 1, tables, 2), -EINVAL, 3);
}

static void indirect_order(struct kunit *test)
{
	const struct ivhost_desc rd[] = { D(0, 0) };
	const struct ivhost_desc wr[] = { D(F_WRITE | F_NEXT, 1), D(0, 0) };
	const struct ivhost_desc rw[] = { D(F_NEXT, 1), D(F_WRITE, 0) };
	const struct desc_table tables[] = { { rd, 1 }, { wr, 2 }, { rw, 2 } };
	/* A writable ring descriptor, then a readable one in the table. */
	const struct ivhost_desc d[] = { D(F_WRITE | F_NEXT, 1), IND(0, 1),
					 IND(1, 2), D(F_NEXT, 4), IND(2, 2) };
	const struct desc_table ring = { d, 5 };

	expect_walk(test, walk(test, &ring, 0, tables, 3), -EINVAL, 3);
	expect_walk(test, walk(test, &ring, 2, tables, 3), -EINVAL, 3);
	expect_walk(test, walk(test, &ring, 3, tables, 3), 0, 4);
}

/* The device ignores WRITE on a descriptor that points at a table. */
static void indirect_write_flag_ignored(struct kunit *test)
{
	const struct ivhost_desc ind[] = { D(F_NEXT, 1), D(F_WRITE, 0) };
	const struct desc_table tables[] = { { ind, 2 } };
	const struct ivhost_desc d[] = {
		{ .addr = 0, .len = 2 * DESC_SIZE,
		  .flags = F_INDIRECT | F_WRITE },
	};
	const struct desc_table ring = { d, 1 };

	expect_walk(test, walk(test, &ring, 0, tables, 1), 0, 3);
}

/*
 * The reference model: a walk that remembers every descriptor it fetched
 * in the current table and calls a second fetch of one a loop.
 */
#define MODEL_RING_MAX	16U
#define MODEL_IND_MAX	8U
#define MODEL_TABLES	3U
#define MODEL_ROUNDS	20000U

struct model {
	struct ivhost_desc ring[MODEL_RING_MAX];
	struct ivhost_desc ind[MODEL_TABLES][MODEL_IND_MAX];
	struct desc_table ring_table;
	struct desc_table tables[MODEL_TABLES];
};

static int model_indirect(const struct ivhost_desc *d, bool indirect)
{
	if (indirect || (d->flags & F_NEXT) || !d->len || d->len % DESC_SIZE)
		return -EINVAL;
	return d->len / DESC_SIZE > IVHOST_INDIRECT_MAX ? -E2BIG : 0;
}

/* Return 1 to go on at d->next, 0 at the end of the chain, or -errno. */
static int model_direct(const struct ivhost_desc *d, u32 n, bool *writable)
{
	if (d->flags & F_WRITE)
		*writable = true;
	else if (*writable)
		return -EINVAL;
	if (!(d->flags & F_NEXT))
		return 0;
	return d->next < n ? 1 : -EINVAL;
}

static struct walk model_walk(const struct model *m, u32 head)
{
	DECLARE_BITMAP(seen, MODEL_RING_MAX);
	const struct desc_table *cur = &m->ring_table;
	bool writable = false, indirect = false;
	const struct ivhost_desc *d;
	struct walk w = { .ret = 1 };
	u32 idx = head;

	if (head >= cur->n)
		return (struct walk){ .ret = -EINVAL };
	bitmap_zero(seen, MODEL_RING_MAX);
	while (w.ret == 1) {
		if (__test_and_set_bit(idx, seen)) {
			w.ret = -ELOOP;
			break;
		}
		d = &cur->d[idx];
		w.visited++;
		w.in_indirect += indirect;
		if (!(d->flags & F_INDIRECT)) {
			w.ret = model_direct(d, cur->n, &writable);
			idx = d->next;
			continue;
		}
		w.ret = model_indirect(d, indirect);
		if (w.ret)
			break;
		cur = &m->tables[d->addr];
		indirect = true;
		idx = 0;
		bitmap_zero(seen, MODEL_RING_MAX);
		w.ret = 1;
	}
	return w;
}

static u32 rand_below(struct rnd_state *rs, u32 n)
{
	return prandom_u32_state(rs) % n;
}

static void rand_desc(struct rnd_state *rs, const struct model *m,
		      struct ivhost_desc *d, u32 n)
{
	static const u32 bad_len[] = {
		0, 8, DESC_SIZE + 1, (IVHOST_INDIRECT_MAX + 1) * DESC_SIZE,
	};

	d->flags = rand_below(rs, 4) ? F_NEXT : 0;
	d->flags |= rand_below(rs, 3) ? 0 : F_WRITE;
	d->flags |= rand_below(rs, 8) ? 0 : F_INDIRECT;
	/* Now and then one past the end of the table. */
	d->next = rand_below(rs, n + 1);
	d->addr = rand_below(rs, MODEL_TABLES);
	if (rand_below(rs, 8))
		d->len = m->tables[d->addr].n * DESC_SIZE;
	else
		d->len = bad_len[rand_below(rs, ARRAY_SIZE(bad_len))];
}

static void model_fill(struct rnd_state *rs, struct model *m)
{
	u32 t, i;

	m->ring_table = (struct desc_table){ m->ring,
					1 + rand_below(rs, MODEL_RING_MAX) };
	for (t = 0; t < MODEL_TABLES; t++)
		m->tables[t] = (struct desc_table){ m->ind[t],
					       1 + rand_below(rs, MODEL_IND_MAX) };
	for (i = 0; i < m->ring_table.n; i++)
		rand_desc(rs, m, &m->ring[i], m->ring_table.n);
	for (t = 0; t < MODEL_TABLES; t++)
		for (i = 0; i < m->tables[t].n; i++)
			rand_desc(rs, m, &m->ind[t][i], m->tables[t].n);
}

/*
 * Where the model sees a loop the walker may instead trip over the order
 * rule on its second lap; otherwise both must agree exactly.
 */
static void expect_same(struct kunit *test, struct walk got, struct walk want,
			u32 round)
{
	if (want.ret == -ELOOP) {
		KUNIT_EXPECT_TRUE_MSG(test,
				      got.ret == -ELOOP || got.ret == -EINVAL,
				      "round %u: %d", round, got.ret);
		KUNIT_EXPECT_GE_MSG(test, got.visited, want.visited,
				    "round %u", round);
		return;
	}
	KUNIT_EXPECT_EQ_MSG(test, got.ret, want.ret, "round %u", round);
	KUNIT_EXPECT_EQ_MSG(test, got.visited, want.visited, "round %u", round);
	KUNIT_EXPECT_EQ_MSG(test, got.in_indirect, want.in_indirect,
			    "round %u", round);
}

static void random_vs_model(struct kunit *test)
{
	struct model *m = kunit_kzalloc(test, sizeof(*m), GFP_KERNEL);
	struct walk got, want;
	struct rnd_state rs;
	u32 round, head;

	KUNIT_ASSERT_NOT_NULL(test, m);
	prandom_seed_state(&rs, 0xc4a1bULL);
	for (round = 0; round < MODEL_ROUNDS; round++) {
		model_fill(&rs, m);
		head = rand_below(&rs, m->ring_table.n + 1);
		want = model_walk(m, head);
		got = walk(test, &m->ring_table, head, m->tables,
			   MODEL_TABLES);
		expect_same(test, got, want, round);
	}
}

static struct kunit_case ivhost_chain_cases[] = {
	KUNIT_CASE(start_head_bounds),
	KUNIT_CASE(start_resets_state),
	KUNIT_CASE(single_descriptor),
	KUNIT_CASE(chain_follows_next),
	KUNIT_CASE(next_out_of_range),
	KUNIT_CASE(loop_detected),
	KUNIT_CASE(chain_at_budget),
	KUNIT_CASE(step_after_budget_spent),
	KUNIT_CASE(readable_before_writable),
	KUNIT_CASE(indirect_walk),
	KUNIT_CASE(indirect_with_next),
	KUNIT_CASE(indirect_nested),
	KUNIT_CASE(indirect_length),
	KUNIT_CASE(indirect_budget),
	KUNIT_CASE(indirect_loop_and_range),
	KUNIT_CASE(indirect_order),
	KUNIT_CASE(indirect_write_flag_ignored),
	KUNIT_CASE(random_vs_model),
	{}
};

static struct kunit_suite ivhost_chain_suite = {
	.name = "ivhost_chain",
	.test_cases = ivhost_chain_cases,
};

kunit_test_suite(ivhost_chain_suite);
