// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests of the packed ring's positions, flags, event suppression
 * and VRING_BASE state (chain_packed.c).  The oracles come from the
 * virtio 1.1 text (section 2.7) and the issue-20 plan, not from the
 * code: positions are absolute slot counts (packed_kunit.h), and a
 * descriptor event fires when the used descriptors just written cover
 * the slot at (offset, wrap), found by enumerating those slots one by
 * one.
 */
#include <kunit/test.h>

#include "packed_kunit.h"

static void desc_avail_flags(struct kunit *test)
{
	static const u16 others[] = { 0, F_NEXT, F_WRITE, F_INDIRECT,
				      0x7f78, F_NEXT | F_WRITE | F_INDIRECT };
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(others); i++) {
		u16 o = others[i], both = o | F_AVAIL | F_USED;

		/* AVAIL = wrap, USED = !wrap: available. */
		KUNIT_EXPECT_TRUE(test, ivhost_packed_desc_avail(o | F_AVAIL,
								 true));
		KUNIT_EXPECT_TRUE(test, ivhost_packed_desc_avail(o | F_USED,
								 false));
		/* Equal bits: used (or the zeroed ring), never available. */
		KUNIT_EXPECT_FALSE(test, ivhost_packed_desc_avail(o, true));
		KUNIT_EXPECT_FALSE(test, ivhost_packed_desc_avail(o, false));
		KUNIT_EXPECT_FALSE(test, ivhost_packed_desc_avail(both, true));
		KUNIT_EXPECT_FALSE(test, ivhost_packed_desc_avail(both, false));
		/* Made available in the other lap. */
		KUNIT_EXPECT_FALSE(test, ivhost_packed_desc_avail(o | F_USED,
								  true));
		KUNIT_EXPECT_FALSE(test, ivhost_packed_desc_avail(o | F_AVAIL,
								  false));
	}
}

static void used_flags_layout(struct kunit *test)
{
	u16 used1 = ivhost_packed_used_flags(true, true);
	u16 used0 = ivhost_packed_used_flags(false, true);

	KUNIT_EXPECT_EQ(test, ivhost_packed_used_flags(true, false),
			(u16)0x8080);
	KUNIT_EXPECT_EQ(test, ivhost_packed_used_flags(true, true),
			(u16)(0x8080 | F_WRITE));
	KUNIT_EXPECT_EQ(test, ivhost_packed_used_flags(false, false), (u16)0);
	KUNIT_EXPECT_EQ(test, ivhost_packed_used_flags(false, true),
			(u16)F_WRITE);
	/* A used descriptor is available in neither lap. */
	KUNIT_EXPECT_FALSE(test, ivhost_packed_desc_avail(used1, true));
	KUNIT_EXPECT_FALSE(test, ivhost_packed_desc_avail(used0, false));
}

static void advance_table(struct kunit *test)
{
	static const struct {
		u32 num, n;
		struct ivhost_packed_pos from, to;
	} cases[] = {
		{ 8, 0, { 3, 1 }, { 3, 1 } },
		{ 8, 1, { 3, 1 }, { 4, 1 } },
		{ 8, 4, { 3, 0 }, { 7, 0 } },
		{ 8, 5, { 3, 1 }, { 0, 0 } },	/* exactly onto slot 0 */
		{ 8, 6, { 3, 0 }, { 1, 1 } },
		{ 8, 8, { 3, 1 }, { 3, 0 } },	/* a whole lap */
		{ 8, 1, { 7, 0 }, { 0, 1 } },
		{ 1, 1, { 0, 1 }, { 0, 0 } },
		{ 1, 0, { 0, 0 }, { 0, 0 } },
		{ 5, 3, { 4, 1 }, { 2, 0 } },	/* not a power of two */
		{ 32768, 1, { 32767, 1 }, { 0, 0 } },
		{ 32768, 32768, { 32767, 0 }, { 32767, 1 } },
		{ 32768, 32767, { 1, 1 }, { 0, 0 } },
	};
	struct ivhost_packed_pos p;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		p = cases[i].from;
		ivhost_packed_advance(&p, cases[i].num, cases[i].n);
		KUNIT_EXPECT_EQ_MSG(test, p.idx, cases[i].to.idx, "case %u", i);
		KUNIT_EXPECT_EQ_MSG(test, p.wrap, cases[i].to.wrap, "case %u",
				    i);
	}
}

static void advance_vs_model(struct kunit *test)
{
	struct ivhost_packed_pos p, want;
	struct rnd_state rs;
	u32 round, num, n;
	u64 t;

	prandom_seed_state(&rs, 0xadu);
	for (round = 0; round < 20000; round++) {
		num = 1 + prandom_u32_state(&rs) % (round & 1 ? 32768 : 17);
		t = prandom_u32_state(&rs) % (2 * num);
		n = prandom_u32_state(&rs) % (num + 1);
		p = slot_pos(t, num);
		want = slot_pos(t + n, num);
		ivhost_packed_advance(&p, num, n);
		KUNIT_ASSERT_TRUE_MSG(test, pos_eq(p, want),
				      "num %u t %llu n %u: %u/%d", num, t, n,
				      p.idx, p.wrap);
	}
}

/* The driver's event fires if a slot written, old up to new, is it. */
static bool model_need_event(u16 off_wrap, u16 flags,
			     struct ivhost_packed_pos old,
			     struct ivhost_packed_pos new, u32 num)
{
	struct ivhost_packed_pos ev = P(off_wrap & 0x7fff, off_wrap >> 15);
	u64 t = slot_abs(old, num);
	u32 n;

	switch (flags & 3) {
	case EV_DISABLE:
		return false;
	case EV_DESC:
		break;
	default:
		return true;
	}
	for (n = 0; n < num && !pos_eq(slot_pos(t + n, num), new); n++)
		if (pos_eq(slot_pos(t + n, num), ev))
			return true;
	return false;
}

/* ----- event suppression ----- */

static u16 off_wrap(u16 idx, bool wrap)
{
	return idx | (u16)wrap << 15;
}

static void need_event_flags(struct kunit *test)
{
	const struct ivhost_packed_pos o = P(2, 1), n = P(3, 1);

	KUNIT_EXPECT_TRUE(test, ivhost_packed_need_event(0, EV_ENABLE, o, n,
							 8));
	KUNIT_EXPECT_FALSE(test, ivhost_packed_need_event(off_wrap(2, 1),
							  EV_DISABLE, o, n, 8));
	/* The reserved value: notify rather than risk a hang. */
	KUNIT_EXPECT_TRUE(test, ivhost_packed_need_event(off_wrap(5, 0), 3,
							 o, n, 8));
	/* Bits 2-15 are reserved: only bits 0-1 count. */
	KUNIT_EXPECT_FALSE(test, ivhost_packed_need_event(0, 0xfffc |
							  EV_DISABLE, o, n, 8));
	KUNIT_EXPECT_TRUE(test, ivhost_packed_need_event(0, 0xfffc, o, n, 8));
	KUNIT_EXPECT_TRUE(test, ivhost_packed_need_event(off_wrap(2, 1),
							 0x4 | EV_DESC, o, n,
							 8));
	KUNIT_EXPECT_FALSE(test, ivhost_packed_need_event(off_wrap(3, 1),
							  0x4 | EV_DESC, o, n,
							  8));
}

/* A descriptor event at (@idx, @wrap), used from @old up to @new. */
static bool desc_event(u16 idx, bool wrap, struct ivhost_packed_pos old,
		       struct ivhost_packed_pos new, u32 num)
{
	return ivhost_packed_need_event(off_wrap(idx, wrap), EV_DESC, old,
					new, num);
}

/* Old and new straddle the end of the ring: 6 -> 2, lap 1 -> 0. */
static void need_event_across_wrap(struct kunit *test)
{
	static const struct {
		u16 idx;
		bool wrap, want;
	} cases[] = {
		{ 5, 1, false },	/* just before old */
		{ 6, 1, true },		/* at old */
		{ 7, 1, true },
		{ 0, 0, true },		/* past the end, next lap */
		{ 1, 0, true },		/* just before new */
		{ 2, 0, false },	/* at new */
		{ 3, 0, false },
		{ 6, 0, false },	/* same slots, the other lap */
		{ 0, 1, false },
		{ 1, 1, false },
		{ 8, 0, false },	/* outside the ring */
		{ 0x7fff, 1, false },
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(cases); i++)
		KUNIT_EXPECT_EQ_MSG(test, desc_event(cases[i].idx, cases[i].wrap,
						     P(6, 1), P(2, 0), 8),
				    cases[i].want, "case %u", i);
	/* The same from lap 0 into lap 1. */
	KUNIT_EXPECT_TRUE(test, desc_event(1, 1, P(6, 0), P(2, 1), 8));
	KUNIT_EXPECT_FALSE(test, desc_event(1, 0, P(6, 0), P(2, 1), 8));
	/* Nothing published: no event. */
	KUNIT_EXPECT_FALSE(test, desc_event(6, 1, P(6, 1), P(6, 1), 8));
	/* A whole ring published, 3..7 in lap 1 then 0..2 in lap 0. */
	for (i = 0; i < 8; i++) {
		KUNIT_EXPECT_TRUE(test, desc_event(i, i >= 3, P(3, 1), P(3, 0),
						   8));
		KUNIT_EXPECT_FALSE(test, desc_event(i, i < 3, P(3, 1), P(3, 0),
						    8));
	}
	/* The largest ring, across its end. */
	KUNIT_EXPECT_TRUE(test, desc_event(0, 0, P(32767, 1), P(1, 0), 32768));
	KUNIT_EXPECT_FALSE(test, desc_event(0, 1, P(32767, 1), P(1, 0),
					    32768));
}

static void need_event_vs_model(struct kunit *test)
{
	struct ivhost_packed_pos old, new;
	u16 ow, flags;
	struct rnd_state rs;
	u32 round, num;
	u64 t;

	prandom_seed_state(&rs, 0xe7e47);
	for (round = 0; round < 20000; round++) {
		num = 1 + rnd(&rs, round % 32 ? 24 : 32768);
		t = rnd(&rs, 2 * num);
		old = slot_pos(t, num);
		new = slot_pos(t + rnd(&rs, num + 1), num);
		/* Events near old and new, sometimes out of the ring. */
		switch (rnd(&rs, 4)) {
		case 0:
			ow = prandom_u32_state(&rs);
			break;
		case 1:
			ow = off_wrap((old.idx + rnd(&rs, 3) + num - 1) % num,
				      rnd(&rs, 2));
			break;
		case 2:
			ow = off_wrap((new.idx + rnd(&rs, 3) + num - 1) % num,
				      rnd(&rs, 2));
			break;
		default:
			ow = off_wrap(rnd(&rs, num + 2), rnd(&rs, 2));
		}
		flags = rnd(&rs, 4) ? EV_DESC : prandom_u32_state(&rs);
		KUNIT_ASSERT_EQ_MSG(test,
				    ivhost_packed_need_event(ow, flags, old, new,
							     num),
				    model_need_event(ow, flags, old, new, num),
				    "num %u old %u/%d new %u/%d ev %#x fl %#x",
				    num, old.idx, old.wrap, new.idx, new.wrap,
				    ow, flags);
	}
}

/* ----- VRING_BASE state ----- */

static void state_layout(struct kunit *test)
{
	struct ivhost_packed_pos a, u;

	/* QEMU's reset state: both indexes 0, both wrap counters 1. */
	KUNIT_EXPECT_EQ(test, ivhost_packed_state_encode(P(0, 1), P(0, 1)),
			0x80008000U);
	KUNIT_EXPECT_EQ(test, ivhost_packed_state_encode(P(5, 1),
							 P(0x1234, 0)),
			0x12348005U);
	KUNIT_EXPECT_EQ(test, ivhost_packed_state_encode(P(0x7fff, 0),
							 P(0x7fff, 1)),
			0xffff7fffU);
	KUNIT_EXPECT_EQ(test, ivhost_packed_state_encode(P(0, 0), P(1, 0)),
			0x00010000U);
	KUNIT_ASSERT_EQ(test, ivhost_packed_state_decode(0x00038002U, 8, &a,
							 &u), 0);
	KUNIT_EXPECT_TRUE(test, pos_eq(a, P(2, 1)));
	KUNIT_EXPECT_TRUE(test, pos_eq(u, P(3, 0)));
	KUNIT_ASSERT_EQ(test, ivhost_packed_state_decode(0xffff7fffU, 0, &a,
							 &u), 0);
	KUNIT_EXPECT_TRUE(test, pos_eq(a, P(0x7fff, 0)));
	KUNIT_EXPECT_TRUE(test, pos_eq(u, P(0x7fff, 1)));
}

static void state_decode_bounds(struct kunit *test)
{
	struct ivhost_packed_pos a = P(1, 0), u = P(2, 0);

	/* An index equal to the ring size is outside it; untouched output. */
	KUNIT_EXPECT_EQ(test, ivhost_packed_state_decode(0x00008008U, 8, &a,
							 &u), -EINVAL);
	KUNIT_EXPECT_EQ(test, ivhost_packed_state_decode(0x80080000U, 8, &a,
							 &u), -EINVAL);
	KUNIT_EXPECT_TRUE(test, pos_eq(a, P(1, 0)));
	KUNIT_EXPECT_TRUE(test, pos_eq(u, P(2, 0)));
	/* The wrap bits are not part of the index. */
	KUNIT_EXPECT_EQ(test, ivhost_packed_state_decode(0x80078007U, 8, &a,
							 &u), 0);
	KUNIT_EXPECT_TRUE(test, pos_eq(a, P(7, 1)));
	KUNIT_EXPECT_TRUE(test, pos_eq(u, P(7, 1)));
	KUNIT_EXPECT_EQ(test, ivhost_packed_state_decode(0x7fff7fffU, 32768,
							 &a, &u), 0);
	KUNIT_EXPECT_EQ(test, ivhost_packed_state_decode(0x00010000U, 1, &a,
							 &u), -EINVAL);
}

static void state_round_trip(struct kunit *test)
{
	struct ivhost_packed_pos a, u, a2, u2;
	struct rnd_state rs;
	u32 round, num, s;

	prandom_seed_state(&rs, 0x5747e);
	for (round = 0; round < 5000; round++) {
		num = 1 + rnd(&rs, 32768);
		a = P(rnd(&rs, num), rnd(&rs, 2));
		u = P(rnd(&rs, num), rnd(&rs, 2));
		s = ivhost_packed_state_encode(a, u);
		KUNIT_ASSERT_EQ(test, s, a.idx | (u32)a.wrap << 15 |
				(u32)u.idx << 16 | (u32)u.wrap << 31);
		KUNIT_ASSERT_EQ(test, ivhost_packed_state_decode(s, num, &a2,
								 &u2), 0);
		KUNIT_ASSERT_TRUE(test, pos_eq(a, a2) && pos_eq(u, u2));
		s = prandom_u32_state(&rs);
		KUNIT_ASSERT_EQ(test, ivhost_packed_state_decode(s, 0, &a2,
								 &u2), 0);
		KUNIT_ASSERT_EQ(test, ivhost_packed_state_encode(a2, u2), s);
	}
}

static struct kunit_case ivhost_packed_ring_cases[] = {
	KUNIT_CASE(desc_avail_flags),
	KUNIT_CASE(used_flags_layout),
	KUNIT_CASE(advance_table),
	KUNIT_CASE(advance_vs_model),
	KUNIT_CASE(need_event_flags),
	KUNIT_CASE(need_event_across_wrap),
	KUNIT_CASE(need_event_vs_model),
	KUNIT_CASE(state_layout),
	KUNIT_CASE(state_decode_bounds),
	KUNIT_CASE(state_round_trip),
	{}
};

static struct kunit_suite ivhost_packed_ring_suite = {
	.name = "ivhost_packed_ring",
	.test_cases = ivhost_packed_ring_cases,
};

kunit_test_suite(ivhost_packed_ring_suite);
