// SPDX-License-Identifier: GPL-2.0
/*
 * Hostile packed rings: a guest that breaks the packed-ring protocol
 * (virtio 1.1 section 2.7).  ivhost's core (ivhost, ivhost-user) stops
 * a queue on a malformed chain, as on split rings; other devices and
 * devices without VIRTIO_F_RING_PACKED skip.
 *
 * Tests:
 *   bad.{tx,rx}_*.stops_queue
 *        two good units, then a malformed chain and a good unit behind
 *        it: a chain running past num descriptors (every slot has NEXT),
 *        INDIRECT with NEXT, indirect tables of 24 and 0 bytes and of
 *        1025 entries, readable after writable in the ring and in a
 *        table.  The err eventfd fires; kicks move nothing (nothing
 *        reaches the tap, no used descriptor); GET_VRING_BASE points at
 *        the bad chain with both wrap counters.
 *   ring.rx_more_than_num
 *        mergeable RX on a ring of 4 started at slot 3: a chain of 2
 *        across the wrap, then one of 4 on wrap counter 0 running back
 *        over the first one's slots (6 slots taken of 4), and a frame
 *        they cannot hold.  Nothing is used, and once stopped
 *        GET_VRING_BASE still names slot 3 of lap 1 for both positions.
 *   ring.misaligned_driver_area_after_layout_switch (kernel device)
 *        SET_VRING_ADDR with a 2-byte aligned avail ring while split,
 *        then VIRTIO_F_RING_PACKED: the driver area must be 4-byte
 *        aligned, so attaching a backend is EINVAL.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/vhost.h>

#include "kselftest_harness.h"
#include "harness_filter.h"
#include "packed_common.h"

#define RING		64
#define TABLE_MAX	1024	/* entries an indirect table may have */

enum pbad_kind {
	PAST_NUM,
	INDIRECT_NEXT,
	INDIRECT_LEN_24,
	INDIRECT_LEN_0,
	INDIRECT_TOO_LONG,
	WRITE_THEN_READ,
	TABLE_WRITE_THEN_READ,
};

/* Ring slots the chain of @kind takes. */
static unsigned int kind_slots(struct vmm_vq *q, int kind)
{
	if (kind == PAST_NUM)
		return q->num;
	return kind == INDIRECT_NEXT || kind == WRITE_THEN_READ ? 2 : 1;
}

/* Write the next ring descriptor of the chain being posted, with
 * @flags (the head's are held back for vmm_publish()). */
static void put(struct vmm_vq *q, uint16_t *slot, uint64_t addr,
		uint32_t len, uint16_t flags)
{
	uint16_t s = *slot;

	vmm_post_seg(q, NULL, VMM_CHAIN, slot, 0, 1, addr, len, flags);
	if (s == q->head_pos)
		q->head_flags = (q->head_flags & (PF_AVAIL | PF_USED)) | flags;
	else
		q->pdesc[s].flags = (q->pdesc[s].flags &
				     (PF_AVAIL | PF_USED)) | flags;
}

/* Publish a malformed chain of @kind on @q at the driver's position. */
static int post_bad(struct rtdev *d, struct vmm_vq *q, int kind)
{
	uint16_t w = q->index == VMM_RX ? VRING_DESC_F_WRITE : 0;
	unsigned int n = kind_slots(q, kind), i, entries = 2;
	struct vring_packed_desc *t;
	uint16_t slot;
	uint64_t buf;
	int id;

	id = vmm_desc_alloc(q, n);
	if (id < 0)
		return id;
	slot = vmm_post_start(q, id);
	buf = rt_slot_gpa(q, id, 0);
	t = (struct vring_packed_desc *)(q->indirect +
					 (size_t)id * VMM_MAX_SEGS);
	if (kind == INDIRECT_TOO_LONG) {
		entries = TABLE_MAX + 1;
		t = vmm_alloc(&d->v, entries * sizeof(*t), 16);
		if (!t)
			return -ENOMEM;
	}
	/* packed table entries: addr, len, id (ignored), flags */
	for (i = 0; i < entries; i++)
		t[i] = (struct vring_packed_desc){
			.addr = buf + 128 * (i % 8), .len = 64,
			.flags = kind == TABLE_WRITE_THEN_READ ?
				 (i ? 0 : VRING_DESC_F_WRITE) : w };
	switch (kind) {
	case PAST_NUM:
		for (i = 0; i < n; i++)
			put(q, &slot, buf, 64, w | VRING_DESC_F_NEXT);
		break;
	case INDIRECT_NEXT:
		put(q, &slot, vmm_gpa(&d->v, t), 16,
		    VRING_DESC_F_INDIRECT | VRING_DESC_F_NEXT);
		put(q, &slot, buf + 1024, 64, w);
		break;
	case INDIRECT_LEN_24:
	case INDIRECT_LEN_0:
		put(q, &slot, vmm_gpa(&d->v, t), kind == INDIRECT_LEN_0 ? 0 : 24,
		    VRING_DESC_F_INDIRECT);
		break;
	case INDIRECT_TOO_LONG:
	case TABLE_WRITE_THEN_READ:
		put(q, &slot, vmm_gpa(&d->v, t), entries * sizeof(*t),
		    VRING_DESC_F_INDIRECT);
		break;
	case WRITE_THEN_READ:
		put(q, &slot, buf, 64, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT);
		put(q, &slot, buf + 1024, 64, 0);
		break;
	}
	vmm_publish(q, id);
	return id;
}

/* One good unit on @qi: a TX frame, or an RX buffer and a frame. */
static int good(struct rtdev *d, int qi, uint32_t seq)
{
	if (qi == VMM_TX)
		return tx_one(d, seq) < 0 ? -ENOSPC : 0;
	if (rt_post_rx_simple(&d->v.vq[VMM_RX], 2048) < 0)
		return -ENOSPC;
	return rt_inject(d, seq, pk_len(seq));
}

/* The unit of @seq came through (TX: on the tap; RX: in the ring). */
static int came(struct rtdev *d, int qi, uint32_t seq)
{
	struct vmm_vq *q = &d->v.vq[qi];
	uint8_t buf[4096];
	uint32_t len;

	if (qi == VMM_TX)
		return tap_got(d, seq, WAIT_MS) &&
		       rt_wait_used(q, q->used_idx + 1, WAIT_MS) &&
		       vmm_reap(q, NULL, NULL) == 1;
	return rt_wait_used(q, q->used_idx + 1, WAIT_MS) &&
	       rt_reap_rx(q, buf, sizeof(buf), &len) == 1 &&
	       len == d->hdr_len + pk_len(seq) &&
	       rt_frame_seq(buf + d->hdr_len, len - d->hdr_len) == seq;
}

FIXTURE(bad) {
	struct rtdev d;
};

FIXTURE_VARIANT(bad) {
	int kind;
	int qi;
};

#define BAD(name, k, q)							\
	FIXTURE_VARIANT_ADD(bad, name) { .kind = k, .qi = q, }

BAD(tx_past_num, PAST_NUM, VMM_TX);
BAD(tx_indirect_next, INDIRECT_NEXT, VMM_TX);
BAD(tx_indirect_len_24, INDIRECT_LEN_24, VMM_TX);
BAD(tx_indirect_len_0, INDIRECT_LEN_0, VMM_TX);
BAD(tx_indirect_too_long, INDIRECT_TOO_LONG, VMM_TX);
BAD(tx_table_write_then_read, TABLE_WRITE_THEN_READ, VMM_TX);
BAD(rx_past_num, PAST_NUM, VMM_RX);
BAD(rx_indirect_next, INDIRECT_NEXT, VMM_RX);
BAD(rx_indirect_len_24, INDIRECT_LEN_24, VMM_RX);
BAD(rx_indirect_len_0, INDIRECT_LEN_0, VMM_RX);
BAD(rx_indirect_too_long, INDIRECT_TOO_LONG, VMM_RX);
BAD(rx_write_then_read, WRITE_THEN_READ, VMM_RX);
BAD(rx_table_write_then_read, TABLE_WRITE_THEN_READ, VMM_RX);

FIXTURE_SETUP(bad)
{
	rt_init(&self->d);
}

FIXTURE_TEARDOWN(bad)
{
	rt_down(&self->d);
}

TEST_F_TIMEOUT(bad, stops_queue, 120)
{
	struct rtdev *d = &self->d;
	int qi = variant->qi, i;
	struct vmm_vq *q = &d->v.vq[qi];
	unsigned int base, want;
	uint32_t seq;

	IVHOST_CORE_ONLY();
	UP(d, RT_BASE_FEATURES, RING, qi);
	for (seq = 0; seq < 2; seq++) {
		ASSERT_EQ(0, good(d, qi, seq));
		ASSERT_EQ(0, vmm_kick(q));
		ASSERT_TRUE(came(d, qi, seq)) TH_LOG("good unit %u", seq);
	}
	ASSERT_EQ(0, vmm_poll_fd(q->err_fd));
	ASSERT_LE(0, post_bad(d, q, variant->kind));
	if (variant->kind != PAST_NUM) {
		ASSERT_EQ(0, good(d, qi, seq++));
	} else if (qi == VMM_RX) {	/* no room for a buffer: a frame */
		ASSERT_EQ(0, rt_inject(d, seq, pk_len(seq)));
	}
	ASSERT_EQ(0, vmm_kick(q));
	EXPECT_EQ(1, vmm_wait_fd(q->err_fd, WAIT_MS))
		TH_LOG("err eventfd not signalled");
	for (i = 0; i < 3; i++) {
		ASSERT_EQ(0, vmm_kick(q));
		usleep(50 * 1000);
	}
	EXPECT_EQ(2, vmm_used_idx(q)) TH_LOG("used past the bad chain");
	if (qi == VMM_TX)
		EXPECT_TRUE(tap_quiet(d, QUIET_MS));
	ASSERT_EQ(0, vmm_set_backend(&d->v, qi, -1));
	ASSERT_EQ(0, vmm_vq_get_base(&d->v, qi, &base));
	/* both positions at slot 2 of the first lap (wrap counters 1) */
	want = 2 | 1u << 15 | 2u << 16 | 1u << 31;
	EXPECT_EQ(want, base) TH_LOG("GET_VRING_BASE %#x, want %#x", base,
				    want);
}

#define OVL_NUM		4

FIXTURE(ring) {
	struct rtdev d;
};

FIXTURE_SETUP(ring)
{
	rt_init(&self->d);
}

FIXTURE_TEARDOWN(ring)
{
	rt_down(&self->d);
}

TEST_F_TIMEOUT(ring, rx_more_than_num, 120)
{
	/*
	 * Chain A: slots 3, 0 (head 3 available on wrap counter 1); chain
	 * B: slots 1, 2, 3, 0 (head 1 available on wrap counter 0).  Only
	 * a head's AVAIL/USED bits count; NEXT links the rest.
	 */
	static const uint16_t flags[OVL_NUM] = {
		VRING_DESC_F_WRITE,
		PF_USED | VRING_DESC_F_NEXT | VRING_DESC_F_WRITE,
		VRING_DESC_F_NEXT | VRING_DESC_F_WRITE,
		PF_AVAIL | VRING_DESC_F_NEXT | VRING_DESC_F_WRITE,
	};
	const unsigned int start = 3 | 1u << 15 | 3u << 16 | 1u << 31;
	struct rtdev *d = &self->d;
	struct vmm_vq *q;
	unsigned int base, i;

	IVHOST_CORE_ONLY();
	UP(d, RT_BASE_FEATURES | F(VIRTIO_NET_F_MRG_RXBUF), OVL_NUM, -1);
	q = &d->v.vq[VMM_RX];
	ASSERT_EQ(0, vmm_vq_set_base(&d->v, VMM_RX, start));
	for (i = 0; i < OVL_NUM; i++)
		q->pdesc[i] = (struct vring_packed_desc){
			.addr = rt_slot_gpa(q, i, 0), .len = 16, .id = i,
			.flags = flags[i] };
	__sync_synchronize();
	ASSERT_EQ(0, vmm_set_backend(&d->v, VMM_RX, d->t.fd));
	ASSERT_EQ(0, rt_inject(d, 0, 200));	/* > 6 * 16 bytes */
	ASSERT_EQ(0, vmm_kick(q));
	usleep(300 * 1000);
	ASSERT_EQ(0, vmm_kick(q));
	usleep(300 * 1000);
	for (i = 0; i < OVL_NUM; i++)
		EXPECT_EQ(flags[i], q->pdesc[i].flags)
			TH_LOG("slot %u used", i);
	ASSERT_EQ(0, vmm_set_backend(&d->v, VMM_RX, -1));
	ASSERT_EQ(0, vmm_vq_get_base(&d->v, VMM_RX, &base));
	EXPECT_EQ(start, base) TH_LOG("GET_VRING_BASE %#x, want %#x", base,
				     start);
}

TEST_F(ring, misaligned_driver_area_after_layout_switch)
{
	struct rtdev *d = &self->d;
	struct vmm_vq *q;
	struct vhost_vring_addr a;
	uint64_t packed;

	IVHOST_CORE_ONLY();
	UP(d, RT_BASE_FEATURES, RING, -1);
	if (d->v.user)
		SKIP(return, "vhost-user: no errno at attach");
	q = &d->v.vq[VMM_TX];
	packed = d->v.features;
	ASSERT_EQ(0, vmm_set_features(&d->v, packed &
				      ~F(VIRTIO_F_RING_PACKED)));
	a = (struct vhost_vring_addr){
		.index = VMM_TX,
		.desc_user_addr = (uintptr_t)q->pdesc,
		.avail_user_addr = (uintptr_t)q->driver_event + 2,
		.used_user_addr = (uintptr_t)q->device_event,
	};
	ASSERT_EQ(0, vmm_ioctl(&d->v, VHOST_SET_VRING_ADDR, &a));
	ASSERT_EQ(0, vmm_set_features(&d->v, packed));
	EXPECT_EQ(-EINVAL, vmm_set_backend(&d->v, VMM_TX, d->t.fd));
}

TEST_HARNESS_MAIN
