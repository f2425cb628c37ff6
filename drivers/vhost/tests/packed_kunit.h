/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared by the packed-ring KUnit suites (chain_packed_kunit.c,
 * packed_ring_kunit.c): the virtio 1.1 flag values, written from the
 * specification rather than taken from the code under test, and ring
 * positions as absolute slot counts.  A position is the count of slots
 * since the start of a lap whose wrap counter is 1 (the counter is
 * "initialized to 1" and flips each time the last slot is passed), so
 * slot t is (t mod num, lap of t even).
 */
#ifndef _IVHOST_PACKED_KUNIT_H
#define _IVHOST_PACKED_KUNIT_H

#include <linux/prandom.h>
#include <linux/virtio_ring.h>

#include "../chain_packed.h"

#define F_NEXT		VRING_DESC_F_NEXT
#define F_WRITE		VRING_DESC_F_WRITE
#define F_INDIRECT	VRING_DESC_F_INDIRECT
#define F_AVAIL		BIT(7)	/* virtio 1.1: VIRTQ_DESC_F_AVAIL */
#define F_USED		BIT(15)	/* virtio 1.1: VIRTQ_DESC_F_USED */
#define DESC_SIZE	16U		/* sizeof(struct pvirtq_desc) */

#define EV_ENABLE	0U
#define EV_DISABLE	1U
#define EV_DESC		2U

static inline struct ivhost_packed_pos P(u16 idx, bool wrap)
{
	return (struct ivhost_packed_pos){ .idx = idx, .wrap = wrap };
}

/* Slot @t counted from the start of a wrap-1 lap. */
static inline struct ivhost_packed_pos slot_pos(u64 t, u32 num)
{
	return P(t % num, !((t / num) & 1));
}

static inline u64 slot_abs(struct ivhost_packed_pos p, u32 num)
{
	return p.idx + (p.wrap ? 0 : num);
}

static inline bool pos_eq(struct ivhost_packed_pos a,
			  struct ivhost_packed_pos b)
{
	return a.idx == b.idx && a.wrap == b.wrap;
}

static inline u32 rnd(struct rnd_state *rs, u32 n)
{
	return prandom_u32_state(rs) % n;
}

#endif /* _IVHOST_PACKED_KUNIT_H */
