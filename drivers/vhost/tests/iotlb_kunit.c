// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests of the device IOTLB cache (iotlb.c).
 *
 * The randomized cases check the red-black tree against a reference model:
 * an array over a small address space of "units" (a unit is one byte, or
 * one page), where each unit records the id of the entry covering it, its
 * userspace address and its permissions.  Ids are handed out the way the
 * cache makes entries (one per update, one per split-off far half), so a
 * maximal run of units with the same id is exactly one cache entry.
 */
#include <kunit/test.h>
#include <linux/limits.h>
#include <linux/math64.h>
#include <linux/prandom.h>
#include <linux/slab.h>

#include "../iotlb.h"

#define BIG_LIMIT	100000U
#define MODEL_UNITS	256U

/**
 * struct model - the reference the cache is checked against
 * @base: IOVA of unit 0
 * @scale: bytes per unit
 * @next_id: last id handed out
 * @id: id of the entry covering each unit, 0 if none
 * @uaddr: userspace address of each unit's first byte
 * @perm: permissions of each unit
 */
struct model {
	u64 base;
	u64 scale;
	u32 next_id;
	u32 id[MODEL_UNITS];
	u64 uaddr[MODEL_UNITS];
	u8 perm[MODEL_UNITS];
};

static u64 unit_first(const struct model *m, u32 unit)
{
	return m->base + unit * m->scale;
}

static u64 unit_last(const struct model *m, u32 unit)
{
	/* No overflow even when the last unit ends at U64_MAX. */
	return m->base + unit * m->scale + (m->scale - 1);
}

/* Does some entry straddle both edges of units [s, l]? */
static bool model_splits(const struct model *m, u32 s, u32 l)
{
	return s > 0 && l < MODEL_UNITS - 1 && m->id[s - 1] &&
	       m->id[s - 1] == m->id[l + 1];
}

/* Remove units [s, l]; return whether anything was mapped there. */
static bool model_punch(struct model *m, u32 s, u32 l)
{
	bool hit = false;
	u32 a, old;

	if (model_splits(m, s, l)) {
		old = m->id[l + 1];
		m->next_id++;
		for (a = l + 1; a < MODEL_UNITS && m->id[a] == old; a++)
			m->id[a] = m->next_id;
	}
	for (a = s; a <= l; a++) {
		hit |= m->id[a] != 0;
		m->id[a] = 0;
		m->perm[a] = 0;
		m->uaddr[a] = 0;
	}
	return hit;
}

static bool model_update(struct model *m, u32 s, u32 l, u64 uaddr, u8 perm)
{
	bool hit = model_punch(m, s, l);
	u32 a;

	m->next_id++;
	for (a = s; a <= l; a++) {
		m->id[a] = m->next_id;
		m->uaddr[a] = uaddr + (a - s) * m->scale;
		m->perm[a] = perm;
	}
	return hit;
}

static u32 model_count(const struct model *m)
{
	u32 a, n = 0;

	for (a = 0; a < MODEL_UNITS; a++)
		if (m->id[a] && (!a || m->id[a - 1] != m->id[a]))
			n++;
	return n;
}

static bool entry_in_cache(struct ivhost_iotlb *tlb,
			   const struct ivhost_iotlb_entry *want)
{
	struct ivhost_iotlb_entry *e;

	list_for_each_entry(e, &tlb->clock, clock)
		if (e == want)
			return true;
	return false;
}

/*
 * Every entry must be exactly one run of the model with the same
 * translation.  Without eviction the cache must also hold every run.
 */
static void check_entries(struct kunit *test, struct ivhost_iotlb *tlb,
			  const struct model *m, bool evicting, u32 step)
{
	struct ivhost_iotlb_entry *e;
	u32 n = 0, s, l, a;

	list_for_each_entry(e, &tlb->clock, clock) {
		n++;
		KUNIT_ASSERT_GE_MSG(test, e->start, m->base, "step %u", step);
		KUNIT_ASSERT_LE_MSG(test, e->start, e->last, "step %u", step);
		KUNIT_ASSERT_EQ_MSG(test, (e->start - m->base) % m->scale, 0ULL,
				    "step %u", step);
		KUNIT_ASSERT_EQ_MSG(test, (e->last - m->base) % m->scale,
				    m->scale - 1, "step %u", step);
		s = div64_u64(e->start - m->base, m->scale);
		l = div64_u64(e->last - m->base, m->scale);
		KUNIT_ASSERT_LT_MSG(test, l, MODEL_UNITS, "step %u", step);
		KUNIT_ASSERT_NE_MSG(test, m->id[s], 0U, "step %u unit %u",
				    step, s);
		for (a = s; a <= l; a++)
			KUNIT_ASSERT_EQ_MSG(test, m->id[a], m->id[s],
					    "step %u unit %u", step, a);
		if (s)
			KUNIT_ASSERT_NE_MSG(test, m->id[s - 1], m->id[s],
					    "step %u unit %u", step, s);
		if (l < MODEL_UNITS - 1)
			KUNIT_ASSERT_NE_MSG(test, m->id[l + 1], m->id[s],
					    "step %u unit %u", step, l);
		KUNIT_ASSERT_EQ_MSG(test, e->uaddr, m->uaddr[s], "step %u",
				    step);
		KUNIT_ASSERT_EQ_MSG(test, e->perm, m->perm[s], "step %u",
				    step);
	}
	KUNIT_ASSERT_EQ_MSG(test, n, tlb->nentries, "step %u", step);
	if (evicting)
		KUNIT_ASSERT_LE_MSG(test, n, tlb->limit, "step %u", step);
	else
		KUNIT_ASSERT_EQ_MSG(test, n, model_count(m), "step %u", step);
}

/* Look up byte @off of unit @a and compare with the model. */
static void check_lookup(struct kunit *test, struct ivhost_iotlb *tlb,
			 const struct model *m, u32 a, u64 off, bool evicting,
			 u32 step)
{
	u64 iova = unit_first(m, a) + off;
	struct ivhost_iotlb_entry *e = ivhost_iotlb_lookup(tlb, iova);

	if (!m->id[a]) {
		KUNIT_ASSERT_NULL_MSG(test, e, "step %u iova %llx", step, iova);
		return;
	}
	if (!e) {
		KUNIT_ASSERT_TRUE_MSG(test, evicting, "step %u iova %llx",
				      step, iova);
		return;
	}
	KUNIT_ASSERT_PTR_EQ_MSG(test, tlb->hint, e, "step %u", step);
	KUNIT_ASSERT_TRUE(test, e->referenced);
	KUNIT_ASSERT_LE_MSG(test, e->start, iova, "step %u", step);
	KUNIT_ASSERT_GE_MSG(test, e->last, iova, "step %u", step);
	KUNIT_ASSERT_EQ_MSG(test, e->uaddr + (iova - e->start),
			    m->uaddr[a] + off, "step %u iova %llx", step, iova);
	KUNIT_ASSERT_EQ_MSG(test, e->perm, m->perm[a], "step %u iova %llx",
			    step, iova);
}

static u64 rand_u64(struct rnd_state *rs)
{
	return (u64)prandom_u32_state(rs) << 32 | prandom_u32_state(rs);
}

/* A random range of units: mostly short, sometimes long. */
static void rand_units(struct rnd_state *rs, u32 *s, u32 *l)
{
	u32 len;

	*s = prandom_u32_state(rs) % MODEL_UNITS;
	if (prandom_u32_state(rs) % 4)
		len = 1 + prandom_u32_state(rs) % 16;
	else
		len = 1 + prandom_u32_state(rs) % MODEL_UNITS;
	*l = min(*s + len - 1, MODEL_UNITS - 1);
}

/*
 * Random updates, invalidations and lookups over @m's space.  With a
 * small @limit entries get evicted: those left must still match the
 * model, and lookups may miss where the model maps.
 */
static void random_vs_model(struct kunit *test, u64 base, u64 scale,
			    u32 limit, u64 seed, u32 steps)
{
	bool evicting = limit < MODEL_UNITS;
	struct ivhost_iotlb_entry *spare[2];
	struct ivhost_iotlb_spare s = {};
	struct ivhost_iotlb tlb;
	struct rnd_state rs;
	u32 step, a, b, l, i, taken, want_taken;
	bool is_update, got, want;
	struct model *m;
	u64 uaddr, off;
	u8 perm;

	m = kunit_kzalloc(test, sizeof(*m), GFP_KERNEL);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, m);
	m->base = base;
	m->scale = scale;
	ivhost_iotlb_init(&tlb, limit);
	prandom_seed_state(&rs, seed);

	for (step = 0; step < steps; step++) {
		if (prandom_u32_state(&rs) % 10 < 3) {
			for (i = 0; i < 4; i++) {
				a = prandom_u32_state(&rs) % MODEL_UNITS;
				off = rand_u64(&rs) % scale;
				check_lookup(test, &tlb, m, a, off, evicting,
					     step);
			}
			continue;
		}
		is_update = prandom_u32_state(&rs) % 3;
		rand_units(&rs, &a, &l);
		KUNIT_ASSERT_EQ(test, ivhost_iotlb_spare_alloc(&s, GFP_KERNEL),
				0);
		spare[0] = s.e[0];
		spare[1] = s.e[1];
		KUNIT_ASSERT_NOT_NULL(test, spare[0]);
		KUNIT_ASSERT_NOT_NULL(test, spare[1]);
		want_taken = model_splits(m, a, l) + is_update;
		if (is_update) {
			uaddr = (rand_u64(&rs) >> 4) & ~(scale - 1);
			perm = 1 + prandom_u32_state(&rs) % 3;
			want = model_update(m, a, l, uaddr, perm);
			got = ivhost_iotlb_update(&tlb, &s, unit_first(m, a),
						  unit_last(m, l), uaddr,
						  perm);
		} else {
			want = model_punch(m, a, l);
			got = ivhost_iotlb_invalidate(&tlb, &s,
						      unit_first(m, a),
						      unit_last(m, l));
		}
		taken = !s.e[0] + !s.e[1];
		if (!evicting) {
			KUNIT_ASSERT_EQ_MSG(test, got, want, "step %u", step);
			KUNIT_ASSERT_EQ_MSG(test, taken, want_taken,
					    "step %u", step);
			/* A spare taken is an entry now; none is lost. */
			for (i = 0; i < 2; i++) {
				if (s.e[i])
					continue;
				got = entry_in_cache(&tlb, spare[i]);
				KUNIT_ASSERT_TRUE_MSG(test, got, "step %u",
						      step);
			}
		} else {
			KUNIT_ASSERT_LE_MSG(test, taken, want_taken,
					    "step %u", step);
		}
		ivhost_iotlb_spare_free(&s);
		KUNIT_ASSERT_NULL(test, s.e[0]);
		KUNIT_ASSERT_NULL(test, s.e[1]);
		check_entries(test, &tlb, m, evicting, step);
		if (step % 64 == 63)
			for (b = 0; b < MODEL_UNITS; b++)
				check_lookup(test, &tlb, m, b, scale - 1,
					     evicting, step);
	}
	if (evicting)
		KUNIT_EXPECT_GT(test, tlb.evictions, 0ULL);
	else
		KUNIT_EXPECT_EQ(test, tlb.evictions, 0ULL);
	ivhost_iotlb_clear(&tlb);
	KUNIT_EXPECT_EQ(test, tlb.nentries, 0U);
	KUNIT_EXPECT_TRUE(test, list_empty(&tlb.clock));
	KUNIT_EXPECT_TRUE(test, RB_EMPTY_ROOT(&tlb.root));
}

/* Byte units from IOVA 0. */
static void random_vs_model_low(struct kunit *test)
{
	random_vs_model(test, 0, 1, BIG_LIMIT, 0x107b1ULL, 4000);
}

/* Page units ending at U64_MAX. */
static void random_vs_model_top(struct kunit *test)
{
	random_vs_model(test, U64_MAX - MODEL_UNITS * 4096ULL + 1, 4096,
			BIG_LIMIT, 0x70b5ULL, 4000);
}

/* Byte units straddling 2^63. */
static void random_vs_model_mid(struct kunit *test)
{
	random_vs_model(test, (1ULL << 63) - MODEL_UNITS / 2, 1, BIG_LIMIT,
			0x3dULL, 4000);
}

/* Few entries allowed: eviction must never corrupt what is left. */
static void random_vs_model_evicting(struct kunit *test)
{
	random_vs_model(test, 0x40000, 16, 8, 0xe71cULL, 4000);
}

/* Helpers for the directed cases. */

static bool update(struct kunit *test, struct ivhost_iotlb *tlb, u64 start,
		   u64 last, u64 uaddr, u8 perm)
{
	struct ivhost_iotlb_spare s = {};
	bool ret;

	KUNIT_ASSERT_EQ(test, ivhost_iotlb_spare_alloc(&s, GFP_KERNEL), 0);
	ret = ivhost_iotlb_update(tlb, &s, start, last, uaddr, perm);
	ivhost_iotlb_spare_free(&s);
	return ret;
}

static bool invalidate(struct kunit *test, struct ivhost_iotlb *tlb,
		       u64 start, u64 last)
{
	struct ivhost_iotlb_spare s = {};
	bool ret;

	KUNIT_ASSERT_EQ(test, ivhost_iotlb_spare_alloc(&s, GFP_KERNEL), 0);
	ret = ivhost_iotlb_invalidate(tlb, &s, start, last);
	ivhost_iotlb_spare_free(&s);
	return ret;
}

/* Expect @iova to hit an entry [start, last] translating to @uaddr. */
#define EXPECT_HIT(test, tlb, iova, st, la, ua, pe) do {		\
	struct kunit *__t = (test);					\
	u64 __iova = (iova);						\
	struct ivhost_iotlb_entry *__e = ivhost_iotlb_lookup(tlb, __iova); \
									\
	KUNIT_ASSERT_NOT_NULL(__t, __e);				\
	KUNIT_EXPECT_EQ(__t, __e->start, (u64)(st));			\
	KUNIT_EXPECT_EQ(__t, __e->last, (u64)(la));			\
	KUNIT_EXPECT_EQ(__t, __e->uaddr + (__iova - __e->start),	\
			(u64)(ua));					\
	KUNIT_EXPECT_EQ(__t, __e->perm, (u8)(pe));			\
} while (0)

#define EXPECT_MISS(test, tlb, iova) \
	KUNIT_EXPECT_NULL(test, ivhost_iotlb_lookup(tlb, iova))

static void range_check(struct kunit *test)
{
	u64 last = 42;

	KUNIT_EXPECT_EQ(test, ivhost_iotlb_range(0x1000, 0, &last), -EINVAL);
	KUNIT_EXPECT_EQ(test, ivhost_iotlb_range(0, 0, &last), -EINVAL);
	KUNIT_EXPECT_EQ(test, ivhost_iotlb_range(0x1000, 0x1000, &last), 0);
	KUNIT_EXPECT_EQ(test, last, 0x1fffULL);
	KUNIT_EXPECT_EQ(test, ivhost_iotlb_range(U64_MAX, 1, &last), 0);
	KUNIT_EXPECT_EQ(test, last, U64_MAX);
	KUNIT_EXPECT_EQ(test, ivhost_iotlb_range(U64_MAX, 2, &last), -EINVAL);
	KUNIT_EXPECT_EQ(test, ivhost_iotlb_range(0, U64_MAX, &last), 0);
	KUNIT_EXPECT_EQ(test, last, U64_MAX - 1);
	KUNIT_EXPECT_EQ(test, ivhost_iotlb_range(1, U64_MAX, &last), 0);
	KUNIT_EXPECT_EQ(test, last, U64_MAX);
	KUNIT_EXPECT_EQ(test, ivhost_iotlb_range(2, U64_MAX, &last), -EINVAL);
}

static void update_and_lookup(struct kunit *test)
{
	struct ivhost_iotlb tlb;

	ivhost_iotlb_init(&tlb, BIG_LIMIT);
	EXPECT_MISS(test, &tlb, 0);
	KUNIT_EXPECT_FALSE(test, update(test, &tlb, 0x1000, 0x1fff, 0xa000,
					IVHOST_PERM_RO));
	KUNIT_EXPECT_EQ(test, tlb.nentries, 1U);
	EXPECT_MISS(test, &tlb, 0xfff);
	EXPECT_HIT(test, &tlb, 0x1000, 0x1000, 0x1fff, 0xa000,
		   IVHOST_PERM_RO);
	EXPECT_HIT(test, &tlb, 0x1fff, 0x1000, 0x1fff, 0xafff,
		   IVHOST_PERM_RO);
	EXPECT_MISS(test, &tlb, 0x2000);
	ivhost_iotlb_clear(&tlb);
	KUNIT_EXPECT_EQ(test, tlb.nentries, 0U);
	EXPECT_MISS(test, &tlb, 0x1000);
}

static void invalidate_middle_splits(struct kunit *test)
{
	struct ivhost_iotlb tlb;

	ivhost_iotlb_init(&tlb, BIG_LIMIT);
	update(test, &tlb, 0x1000, 0x1fff, 0xa000, IVHOST_PERM_RW);
	KUNIT_EXPECT_TRUE(test, invalidate(test, &tlb, 0x1400, 0x17ff));
	KUNIT_EXPECT_EQ(test, tlb.nentries, 2U);
	EXPECT_HIT(test, &tlb, 0x13ff, 0x1000, 0x13ff, 0xa3ff,
		   IVHOST_PERM_RW);
	EXPECT_MISS(test, &tlb, 0x1400);
	EXPECT_MISS(test, &tlb, 0x17ff);
	EXPECT_HIT(test, &tlb, 0x1800, 0x1800, 0x1fff, 0xa800,
		   IVHOST_PERM_RW);
	EXPECT_HIT(test, &tlb, 0x1fff, 0x1800, 0x1fff, 0xafff,
		   IVHOST_PERM_RW);
	/* Nothing left there: no change reported. */
	KUNIT_EXPECT_FALSE(test, invalidate(test, &tlb, 0x1400, 0x17ff));
	KUNIT_EXPECT_EQ(test, tlb.nentries, 2U);
	ivhost_iotlb_clear(&tlb);
}

static void invalidate_trims_and_spans(struct kunit *test)
{
	struct ivhost_iotlb tlb;

	ivhost_iotlb_init(&tlb, BIG_LIMIT);
	update(test, &tlb, 0x1000, 0x1fff, 0xa000, IVHOST_PERM_RO);
	update(test, &tlb, 0x2000, 0x2fff, 0xc000, IVHOST_PERM_WO);
	update(test, &tlb, 0x3000, 0x3fff, 0xe000, IVHOST_PERM_RW);
	/* Trims the first and last entries, removes the middle one. */
	KUNIT_EXPECT_TRUE(test, invalidate(test, &tlb, 0x1800, 0x37ff));
	KUNIT_EXPECT_EQ(test, tlb.nentries, 2U);
	EXPECT_HIT(test, &tlb, 0x17ff, 0x1000, 0x17ff, 0xa7ff,
		   IVHOST_PERM_RO);
	EXPECT_MISS(test, &tlb, 0x1800);
	EXPECT_MISS(test, &tlb, 0x2000);
	EXPECT_MISS(test, &tlb, 0x37ff);
	EXPECT_HIT(test, &tlb, 0x3800, 0x3800, 0x3fff, 0xe800,
		   IVHOST_PERM_RW);
	/* Exactly one entry. */
	KUNIT_EXPECT_TRUE(test, invalidate(test, &tlb, 0x3800, 0x3fff));
	KUNIT_EXPECT_EQ(test, tlb.nentries, 1U);
	EXPECT_MISS(test, &tlb, 0x3800);
	/* Beyond every entry. */
	KUNIT_EXPECT_TRUE(test, invalidate(test, &tlb, 0, U64_MAX));
	KUNIT_EXPECT_EQ(test, tlb.nentries, 0U);
	ivhost_iotlb_clear(&tlb);
}

static void update_middle_replaces(struct kunit *test)
{
	struct ivhost_iotlb tlb;

	ivhost_iotlb_init(&tlb, BIG_LIMIT);
	update(test, &tlb, 0x1000, 0x1fff, 0xa000, IVHOST_PERM_RW);
	KUNIT_EXPECT_TRUE(test, update(test, &tlb, 0x1400, 0x17ff, 0x50000,
				       IVHOST_PERM_RO));
	KUNIT_EXPECT_EQ(test, tlb.nentries, 3U);
	EXPECT_HIT(test, &tlb, 0x13ff, 0x1000, 0x13ff, 0xa3ff,
		   IVHOST_PERM_RW);
	EXPECT_HIT(test, &tlb, 0x1400, 0x1400, 0x17ff, 0x50000,
		   IVHOST_PERM_RO);
	EXPECT_HIT(test, &tlb, 0x17ff, 0x1400, 0x17ff, 0x503ff,
		   IVHOST_PERM_RO);
	EXPECT_HIT(test, &tlb, 0x1800, 0x1800, 0x1fff, 0xa800,
		   IVHOST_PERM_RW);

	/* Same range again: replaced in place, last write wins. */
	KUNIT_EXPECT_TRUE(test, update(test, &tlb, 0x1400, 0x17ff, 0x60000,
				       IVHOST_PERM_WO));
	KUNIT_EXPECT_EQ(test, tlb.nentries, 3U);
	EXPECT_HIT(test, &tlb, 0x1500, 0x1400, 0x17ff, 0x60100,
		   IVHOST_PERM_WO);

	/* Over all three and beyond: one entry is left. */
	KUNIT_EXPECT_TRUE(test, update(test, &tlb, 0x800, 0x27ff, 0x70000,
				       IVHOST_PERM_RO));
	KUNIT_EXPECT_EQ(test, tlb.nentries, 1U);
	EXPECT_HIT(test, &tlb, 0x1500, 0x800, 0x27ff, 0x70d00,
		   IVHOST_PERM_RO);

	/* Adjacent, not overlapping: nothing replaced. */
	KUNIT_EXPECT_FALSE(test, update(test, &tlb, 0x2800, 0x2fff, 0x90000,
					IVHOST_PERM_RO));
	KUNIT_EXPECT_FALSE(test, update(test, &tlb, 0x0, 0x7ff, 0x80000,
					IVHOST_PERM_RO));
	KUNIT_EXPECT_EQ(test, tlb.nentries, 3U);
	EXPECT_HIT(test, &tlb, 0x27ff, 0x800, 0x27ff, 0x71fff,
		   IVHOST_PERM_RO);
	EXPECT_HIT(test, &tlb, 0x2800, 0x2800, 0x2fff, 0x90000,
		   IVHOST_PERM_RO);
	EXPECT_HIT(test, &tlb, 0x7ff, 0x0, 0x7ff, 0x807ff, IVHOST_PERM_RO);
	ivhost_iotlb_clear(&tlb);
}

static void edges_at_zero_and_top(struct kunit *test)
{
	struct ivhost_iotlb tlb;

	ivhost_iotlb_init(&tlb, BIG_LIMIT);
	/* The whole space in one entry. */
	KUNIT_EXPECT_FALSE(test, update(test, &tlb, 0, U64_MAX, 0,
					IVHOST_PERM_RW));
	EXPECT_HIT(test, &tlb, 0, 0, U64_MAX, 0, IVHOST_PERM_RW);
	EXPECT_HIT(test, &tlb, U64_MAX, 0, U64_MAX, U64_MAX, IVHOST_PERM_RW);

	/* Shave off the first and the last byte. */
	KUNIT_EXPECT_TRUE(test, invalidate(test, &tlb, 0, 0));
	KUNIT_EXPECT_TRUE(test, invalidate(test, &tlb, U64_MAX, U64_MAX));
	KUNIT_EXPECT_EQ(test, tlb.nentries, 1U);
	EXPECT_MISS(test, &tlb, 0);
	EXPECT_MISS(test, &tlb, U64_MAX);
	EXPECT_HIT(test, &tlb, 1, 1, U64_MAX - 1, 1, IVHOST_PERM_RW);
	EXPECT_HIT(test, &tlb, U64_MAX - 1, 1, U64_MAX - 1, U64_MAX - 1,
		   IVHOST_PERM_RW);

	/* One byte at each end. */
	KUNIT_EXPECT_FALSE(test, update(test, &tlb, 0, 0, 0x5000,
					IVHOST_PERM_RO));
	KUNIT_EXPECT_FALSE(test, update(test, &tlb, U64_MAX, U64_MAX, 0x6000,
					IVHOST_PERM_WO));
	KUNIT_EXPECT_EQ(test, tlb.nentries, 3U);
	EXPECT_HIT(test, &tlb, 0, 0, 0, 0x5000, IVHOST_PERM_RO);
	EXPECT_HIT(test, &tlb, U64_MAX, U64_MAX, U64_MAX, 0x6000,
		   IVHOST_PERM_WO);

	/* Split the big entry in the middle, near 2^63. */
	KUNIT_EXPECT_TRUE(test, invalidate(test, &tlb, 1ULL << 63,
					   (1ULL << 63) + 0xfff));
	KUNIT_EXPECT_EQ(test, tlb.nentries, 4U);
	EXPECT_HIT(test, &tlb, (1ULL << 63) - 1, 1, (1ULL << 63) - 1,
		   (1ULL << 63) - 1, IVHOST_PERM_RW);
	EXPECT_MISS(test, &tlb, 1ULL << 63);
	EXPECT_HIT(test, &tlb, (1ULL << 63) + 0x1000, (1ULL << 63) + 0x1000,
		   U64_MAX - 1, (1ULL << 63) + 0x1000, IVHOST_PERM_RW);

	/* An update over the whole space replaces all four. */
	KUNIT_EXPECT_TRUE(test, update(test, &tlb, 0, U64_MAX, 0x10,
				       IVHOST_PERM_RO));
	KUNIT_EXPECT_EQ(test, tlb.nentries, 1U);
	EXPECT_HIT(test, &tlb, U64_MAX, 0, U64_MAX, 0xf, IVHOST_PERM_RO);

	/* An update of the top byte splits nothing and trims the end. */
	KUNIT_EXPECT_TRUE(test, update(test, &tlb, U64_MAX, U64_MAX, 0x20,
				       IVHOST_PERM_WO));
	KUNIT_EXPECT_EQ(test, tlb.nentries, 2U);
	EXPECT_HIT(test, &tlb, U64_MAX - 1, 0, U64_MAX - 1, 0xe,
		   IVHOST_PERM_RO);
	EXPECT_HIT(test, &tlb, U64_MAX, U64_MAX, U64_MAX, 0x20,
		   IVHOST_PERM_WO);
	ivhost_iotlb_clear(&tlb);
}

/* A change takes exactly the spares it needs; the rest are freed. */
static void spare_accounting(struct kunit *test)
{
	struct ivhost_iotlb_entry *e0, *e1;
	struct ivhost_iotlb_spare s = {};
	struct ivhost_iotlb tlb;

	ivhost_iotlb_init(&tlb, BIG_LIMIT);

	/* Plain update: one spare becomes the entry. */
	KUNIT_ASSERT_EQ(test, ivhost_iotlb_spare_alloc(&s, GFP_KERNEL), 0);
	e0 = s.e[0];
	e1 = s.e[1];
	ivhost_iotlb_update(&tlb, &s, 0x1000, 0x4fff, 0x1000, IVHOST_PERM_RW);
	KUNIT_EXPECT_EQ(test, !s.e[0] + !s.e[1], 1);
	KUNIT_EXPECT_TRUE(test, entry_in_cache(&tlb, s.e[0] ? e1 : e0));
	ivhost_iotlb_spare_free(&s);

	/* Invalidation of nothing: no spare used. */
	KUNIT_ASSERT_EQ(test, ivhost_iotlb_spare_alloc(&s, GFP_KERNEL), 0);
	ivhost_iotlb_invalidate(&tlb, &s, 0x8000, 0x8fff);
	KUNIT_EXPECT_NOT_NULL(test, s.e[0]);
	KUNIT_EXPECT_NOT_NULL(test, s.e[1]);
	ivhost_iotlb_spare_free(&s);

	/* Splitting invalidation: one spare is the far half. */
	KUNIT_ASSERT_EQ(test, ivhost_iotlb_spare_alloc(&s, GFP_KERNEL), 0);
	e0 = s.e[0];
	e1 = s.e[1];
	ivhost_iotlb_invalidate(&tlb, &s, 0x2000, 0x2fff);
	KUNIT_EXPECT_EQ(test, !s.e[0] + !s.e[1], 1);
	KUNIT_EXPECT_TRUE(test, entry_in_cache(&tlb, s.e[0] ? e1 : e0));
	KUNIT_EXPECT_EQ(test, tlb.nentries, 2U);
	ivhost_iotlb_spare_free(&s);

	/* Splitting update: both spares are used. */
	KUNIT_ASSERT_EQ(test, ivhost_iotlb_spare_alloc(&s, GFP_KERNEL), 0);
	e0 = s.e[0];
	e1 = s.e[1];
	ivhost_iotlb_update(&tlb, &s, 0x3400, 0x37ff, 0x9000, IVHOST_PERM_RO);
	KUNIT_EXPECT_NULL(test, s.e[0]);
	KUNIT_EXPECT_NULL(test, s.e[1]);
	KUNIT_EXPECT_TRUE(test, entry_in_cache(&tlb, e0));
	KUNIT_EXPECT_TRUE(test, entry_in_cache(&tlb, e1));
	KUNIT_EXPECT_EQ(test, tlb.nentries, 4U);
	ivhost_iotlb_spare_free(&s);

	/* Freeing twice, or freeing emptied spares, is harmless. */
	ivhost_iotlb_spare_free(&s);
	KUNIT_EXPECT_NULL(test, s.e[0]);
	KUNIT_EXPECT_NULL(test, s.e[1]);

	ivhost_iotlb_clear(&tlb);
	KUNIT_EXPECT_EQ(test, tlb.nentries, 0U);
	KUNIT_EXPECT_TRUE(test, list_empty(&tlb.clock));
}

/*
 * A map/unmap stream reuses the entries it removes: what an invalidation
 * takes out comes back as the next change's spare, and the pool stays
 * bounded and is emptied by a clear.
 */
static void removed_entries_are_reused(struct kunit *test)
{
	struct ivhost_iotlb_spare s = {};
	struct ivhost_iotlb_entry *e;
	struct ivhost_iotlb tlb;
	u64 i;

	ivhost_iotlb_init(&tlb, BIG_LIMIT);
	KUNIT_EXPECT_TRUE(test, ivhost_iotlb_spare_reserve(&tlb, &s, 0));
	KUNIT_EXPECT_FALSE(test, ivhost_iotlb_spare_reserve(&tlb, &s, 1));
	KUNIT_ASSERT_EQ(test, ivhost_iotlb_spare_alloc(&s, GFP_KERNEL), 0);
	KUNIT_EXPECT_TRUE(test, ivhost_iotlb_spare_reserve(&tlb, &s, 2));
	ivhost_iotlb_update(&tlb, &s, 0x1000, 0x1fff, 0xa000, IVHOST_PERM_RW);
	ivhost_iotlb_spare_release(&tlb, &s);
	KUNIT_EXPECT_EQ(test, tlb.npool, 1U);
	e = ivhost_iotlb_lookup(&tlb, 0x1000);
	KUNIT_ASSERT_NOT_NULL(test, e);

	KUNIT_EXPECT_TRUE(test, invalidate(test, &tlb, 0x1000, 0x1fff));
	KUNIT_EXPECT_EQ(test, tlb.npool, 2U);
	/* The removed entry is the first spare handed out again. */
	KUNIT_EXPECT_TRUE(test, ivhost_iotlb_spare_reserve(&tlb, &s, 1));
	KUNIT_EXPECT_PTR_EQ(test, s.e[0], e);
	KUNIT_EXPECT_NULL(test, s.e[1]);
	KUNIT_EXPECT_EQ(test, tlb.npool, 1U);
	ivhost_iotlb_update(&tlb, &s, 0x3000, 0x3fff, 0xb000, IVHOST_PERM_RO);
	ivhost_iotlb_spare_release(&tlb, &s);
	EXPECT_HIT(test, &tlb, 0x3000, 0x3000, 0x3fff, 0xb000, IVHOST_PERM_RO);
	EXPECT_MISS(test, &tlb, 0x1000);

	for (i = 0; i < 2 * IVHOST_IOTLB_POOL; i++)
		update(test, &tlb, (i + 8) << 12, ((i + 8) << 12) + 0xfff,
		       0x100000, IVHOST_PERM_RO);
	invalidate(test, &tlb, 0, U64_MAX);
	KUNIT_EXPECT_EQ(test, tlb.nentries, 0U);
	KUNIT_EXPECT_EQ(test, tlb.npool, (u32)IVHOST_IOTLB_POOL);
	ivhost_iotlb_clear(&tlb);
	KUNIT_EXPECT_EQ(test, tlb.npool, 0U);
	KUNIT_EXPECT_TRUE(test, list_empty(&tlb.pool));
}

/* Only a range strictly inside an entry splits it: one spare more. */
static void spares_needed_counts_splits(struct kunit *test)
{
	struct ivhost_iotlb tlb;

	ivhost_iotlb_init(&tlb, BIG_LIMIT);
	KUNIT_EXPECT_EQ(test, ivhost_iotlb_spares_needed(&tlb, true, 0, 9), 1U);
	KUNIT_EXPECT_EQ(test, ivhost_iotlb_spares_needed(&tlb, false, 0, 9),
			0U);
	update(test, &tlb, 0x1000, 0x1fff, 0xa000, IVHOST_PERM_RW);
	/* Strictly inside: split. */
	KUNIT_EXPECT_EQ(test, ivhost_iotlb_spares_needed(&tlb, false, 0x1100,
							 0x11ff), 1U);
	KUNIT_EXPECT_EQ(test, ivhost_iotlb_spares_needed(&tlb, true, 0x1100,
							 0x11ff), 2U);
	/* Sharing an edge, covering it whole, or straddling: no split. */
	KUNIT_EXPECT_EQ(test, ivhost_iotlb_spares_needed(&tlb, false, 0x1000,
							 0x11ff), 0U);
	KUNIT_EXPECT_EQ(test, ivhost_iotlb_spares_needed(&tlb, false, 0x1100,
							 0x1fff), 0U);
	KUNIT_EXPECT_EQ(test, ivhost_iotlb_spares_needed(&tlb, true, 0x1000,
							 0x1fff), 1U);
	KUNIT_EXPECT_EQ(test, ivhost_iotlb_spares_needed(&tlb, false, 0x800,
							 0x2800), 0U);
	KUNIT_EXPECT_EQ(test, ivhost_iotlb_spares_needed(&tlb, true, 0x1800,
							 0x2800), 1U);
	ivhost_iotlb_clear(&tlb);
}

/* Untouched entries go in insertion order, and every eviction counts. */
static void evict_unreferenced_fifo(struct kunit *test)
{
	struct ivhost_iotlb tlb;
	u64 i;

	ivhost_iotlb_init(&tlb, 4);
	for (i = 0; i < 6; i++)
		update(test, &tlb, i << 12, (i << 12) + 0xfff, 0x100000 + i,
		       IVHOST_PERM_RO);
	KUNIT_EXPECT_EQ(test, tlb.nentries, 4U);
	KUNIT_EXPECT_EQ(test, tlb.evictions, 2ULL);
	EXPECT_MISS(test, &tlb, 0);
	EXPECT_MISS(test, &tlb, 0x1000);
	for (i = 2; i < 6; i++)
		EXPECT_HIT(test, &tlb, i << 12, i << 12, (i << 12) + 0xfff,
			   0x100000 + i, IVHOST_PERM_RO);
	ivhost_iotlb_clear(&tlb);
}

/*
 * A hot entry survives a stream of one-shot ones, where FIFO would evict
 * it as soon as it is the oldest.
 */
static void evict_clock_keeps_hot(struct kunit *test)
{
	struct ivhost_iotlb_entry *hot;
	struct ivhost_iotlb tlb;
	u64 i;

	ivhost_iotlb_init(&tlb, 4);
	for (i = 0; i < 4; i++)
		update(test, &tlb, i << 12, (i << 12) + 0xfff, i << 20,
		       IVHOST_PERM_RO);
	hot = ivhost_iotlb_lookup(&tlb, 0x10);
	KUNIT_ASSERT_NOT_NULL(test, hot);

	/* The oldest is referenced: the second oldest goes instead. */
	update(test, &tlb, 4 << 12, (4 << 12) + 0xfff, 4 << 20,
	       IVHOST_PERM_RO);
	KUNIT_EXPECT_EQ(test, tlb.evictions, 1ULL);
	KUNIT_EXPECT_EQ(test, tlb.nentries, 4U);
	EXPECT_MISS(test, &tlb, 0x1000);
	KUNIT_EXPECT_PTR_EQ(test, ivhost_iotlb_lookup(&tlb, 0x20), hot);

	for (i = 5; i < 40; i++) {
		update(test, &tlb, i << 12, (i << 12) + 0xfff, i << 20,
		       IVHOST_PERM_RO);
		KUNIT_ASSERT_PTR_EQ(test, ivhost_iotlb_lookup(&tlb, 0x30),
				    hot);
		KUNIT_ASSERT_EQ(test, tlb.nentries, 4U);
	}
	KUNIT_EXPECT_EQ(test, tlb.nentries, 4U);
	KUNIT_EXPECT_EQ(test, tlb.evictions, 36ULL);
	EXPECT_HIT(test, &tlb, 0xfff, 0, 0xfff, 0xfff, IVHOST_PERM_RO);

	/* Left alone, the hot entry becomes evictable again. */
	for (i = 40; i < 48; i++)
		update(test, &tlb, i << 12, (i << 12) + 0xfff, i << 20,
		       IVHOST_PERM_RO);
	EXPECT_MISS(test, &tlb, 0);
	KUNIT_EXPECT_EQ(test, tlb.nentries, 4U);
	KUNIT_EXPECT_EQ(test, tlb.evictions, 44ULL);
	ivhost_iotlb_clear(&tlb);
}

/* A split at the limit evicts to stay within it, and counts. */
static void evict_on_split(struct kunit *test)
{
	struct ivhost_iotlb_entry *e;
	struct ivhost_iotlb tlb;
	u32 n = 0;

	ivhost_iotlb_init(&tlb, 2);
	update(test, &tlb, 0, 0xffff, 0x100000, IVHOST_PERM_RW);
	update(test, &tlb, 0x20000, 0x2ffff, 0x200000, IVHOST_PERM_RW);
	KUNIT_EXPECT_TRUE(test, invalidate(test, &tlb, 0x8000, 0x8fff));
	KUNIT_EXPECT_EQ(test, tlb.nentries, 2U);
	KUNIT_EXPECT_EQ(test, tlb.evictions, 1ULL);
	EXPECT_MISS(test, &tlb, 0x8000);
	/* Whatever is left still translates as before. */
	list_for_each_entry(e, &tlb.clock, clock) {
		n++;
		if (e->start < 0x20000)
			KUNIT_EXPECT_EQ(test, e->uaddr - e->start, 0x100000ULL);
		else
			KUNIT_EXPECT_EQ(test, e->uaddr - e->start, 0x1e0000ULL);
	}
	KUNIT_EXPECT_EQ(test, n, 2U);

	/* Limit 1: an update splitting the only entry keeps just itself. */
	ivhost_iotlb_clear(&tlb);
	ivhost_iotlb_init(&tlb, 1);
	update(test, &tlb, 0, 0xffff, 0x100000, IVHOST_PERM_RW);
	ivhost_iotlb_lookup(&tlb, 0);
	KUNIT_EXPECT_TRUE(test, update(test, &tlb, 0x4000, 0x4fff, 0x500000,
				       IVHOST_PERM_RO));
	KUNIT_EXPECT_EQ(test, tlb.nentries, 1U);
	KUNIT_EXPECT_EQ(test, tlb.evictions, 2ULL);
	EXPECT_HIT(test, &tlb, 0x4000, 0x4000, 0x4fff, 0x500000,
		   IVHOST_PERM_RO);
	EXPECT_MISS(test, &tlb, 0);
	EXPECT_MISS(test, &tlb, 0x5000);
	ivhost_iotlb_clear(&tlb);

	/* A limit of 0 is taken as 1. */
	ivhost_iotlb_init(&tlb, 0);
	KUNIT_EXPECT_EQ(test, tlb.limit, 1U);
}

static void hint_follows_hits(struct kunit *test)
{
	struct ivhost_iotlb_entry *a, *b;
	struct ivhost_iotlb tlb;

	ivhost_iotlb_init(&tlb, BIG_LIMIT);
	update(test, &tlb, 0x1000, 0x1fff, 0xa000, IVHOST_PERM_RO);
	update(test, &tlb, 0x2000, 0x2fff, 0xb000, IVHOST_PERM_WO);
	KUNIT_EXPECT_NULL(test, tlb.hint);

	a = ivhost_iotlb_lookup(&tlb, 0x1800);
	KUNIT_ASSERT_NOT_NULL(test, a);
	KUNIT_EXPECT_PTR_EQ(test, tlb.hint, a);
	/* Hits on the hint, at both of its edges. */
	KUNIT_EXPECT_PTR_EQ(test, ivhost_iotlb_lookup(&tlb, 0x1000), a);
	KUNIT_EXPECT_PTR_EQ(test, ivhost_iotlb_lookup(&tlb, 0x1fff), a);
	KUNIT_EXPECT_PTR_EQ(test, tlb.hint, a);

	/* Just past it: the next entry, which becomes the hint. */
	b = ivhost_iotlb_lookup(&tlb, 0x2000);
	KUNIT_ASSERT_NOT_NULL(test, b);
	KUNIT_EXPECT_PTR_NE(test, b, a);
	KUNIT_EXPECT_EQ(test, b->start, 0x2000ULL);
	KUNIT_EXPECT_PTR_EQ(test, tlb.hint, b);

	/* Just before the hint: not the hint. */
	KUNIT_EXPECT_PTR_EQ(test, ivhost_iotlb_lookup(&tlb, 0x1fff), a);
	KUNIT_EXPECT_NULL(test, ivhost_iotlb_lookup(&tlb, 0xfff));
	KUNIT_EXPECT_NULL(test, ivhost_iotlb_lookup(&tlb, 0x3000));
	ivhost_iotlb_clear(&tlb);
	KUNIT_EXPECT_NULL(test, tlb.hint);
}

/* The hint never outlives or misstates its entry. */
static void hint_dropped_with_entry(struct kunit *test)
{
	struct ivhost_iotlb tlb;

	ivhost_iotlb_init(&tlb, 2);

	/* Invalidated whole. */
	update(test, &tlb, 0x1000, 0x1fff, 0xa000, IVHOST_PERM_RO);
	KUNIT_ASSERT_NOT_NULL(test, ivhost_iotlb_lookup(&tlb, 0x1000));
	invalidate(test, &tlb, 0x1000, 0x1fff);
	KUNIT_EXPECT_NULL(test, tlb.hint);
	EXPECT_MISS(test, &tlb, 0x1000);

	/* Trimmed: the hint must not answer for the part removed. */
	update(test, &tlb, 0x1000, 0x1fff, 0xa000, IVHOST_PERM_RO);
	KUNIT_ASSERT_NOT_NULL(test, ivhost_iotlb_lookup(&tlb, 0x1000));
	invalidate(test, &tlb, 0x1800, 0x1fff);
	EXPECT_MISS(test, &tlb, 0x1900);
	EXPECT_HIT(test, &tlb, 0x17ff, 0x1000, 0x17ff, 0xa7ff,
		   IVHOST_PERM_RO);

	/* Replaced by an update. */
	KUNIT_ASSERT_NOT_NULL(test, ivhost_iotlb_lookup(&tlb, 0x1000));
	update(test, &tlb, 0x1000, 0x13ff, 0xf000, IVHOST_PERM_WO);
	EXPECT_HIT(test, &tlb, 0x1000, 0x1000, 0x13ff, 0xf000,
		   IVHOST_PERM_WO);
	EXPECT_HIT(test, &tlb, 0x1400, 0x1400, 0x17ff, 0xa400,
		   IVHOST_PERM_RO);

	/* Evicted. */
	ivhost_iotlb_clear(&tlb);
	update(test, &tlb, 0x1000, 0x1fff, 0xa000, IVHOST_PERM_RO);
	update(test, &tlb, 0x2000, 0x2fff, 0xb000, IVHOST_PERM_RO);
	KUNIT_ASSERT_NOT_NULL(test, ivhost_iotlb_lookup(&tlb, 0x1000));
	KUNIT_ASSERT_NOT_NULL(test, ivhost_iotlb_lookup(&tlb, 0x2000));
	update(test, &tlb, 0x3000, 0x3fff, 0xc000, IVHOST_PERM_RO);
	update(test, &tlb, 0x4000, 0x4fff, 0xd000, IVHOST_PERM_RO);
	KUNIT_EXPECT_EQ(test, tlb.evictions, 2ULL);
	KUNIT_EXPECT_NULL(test, tlb.hint);
	EXPECT_MISS(test, &tlb, 0x2000);
	EXPECT_MISS(test, &tlb, 0x1000);

	/* Cleared. */
	KUNIT_ASSERT_NOT_NULL(test, ivhost_iotlb_lookup(&tlb, 0x4000));
	ivhost_iotlb_clear(&tlb);
	KUNIT_EXPECT_NULL(test, tlb.hint);
	EXPECT_MISS(test, &tlb, 0x4000);
}

static struct kunit_case ivhost_iotlb_cases[] = {
	KUNIT_CASE(range_check),
	KUNIT_CASE(update_and_lookup),
	KUNIT_CASE(invalidate_middle_splits),
	KUNIT_CASE(invalidate_trims_and_spans),
	KUNIT_CASE(update_middle_replaces),
	KUNIT_CASE(edges_at_zero_and_top),
	KUNIT_CASE(spare_accounting),
	KUNIT_CASE(evict_unreferenced_fifo),
	KUNIT_CASE(evict_clock_keeps_hot),
	KUNIT_CASE(evict_on_split),
	KUNIT_CASE(hint_follows_hits),
	KUNIT_CASE(removed_entries_are_reused),
	KUNIT_CASE(spares_needed_counts_splits),
	KUNIT_CASE(hint_dropped_with_entry),
	KUNIT_CASE(random_vs_model_low),
	KUNIT_CASE(random_vs_model_top),
	KUNIT_CASE(random_vs_model_mid),
	KUNIT_CASE(random_vs_model_evicting),
	{}
};

static struct kunit_suite ivhost_iotlb_suite = {
	.name = "ivhost_iotlb",
	.test_cases = ivhost_iotlb_cases,
};

kunit_test_suite(ivhost_iotlb_suite);
