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
 *   revive.{rx,tx}.ivhost_only_addr_forgets_taken (kernel device)
 *        on a ring of 8, a round takes a one-slot chain and fails before
 *        using it (-EFAULT: RX cannot write the frame's header into a
 *        buffer the VMM mapped read-only, TX its used descriptor into a
 *        read-only ring); the err eventfd fires.  SET_VRING_ADDR, the backend
 *        attached, revives the queue (as a VMM turning dirty logging on
 *        does); the driver takes the lost chain's slot back, and a chain
 *        of all 8 slots goes through, its used descriptor at the lost
 *        chain's slot, with no error.  Attaching a backend resets the
 *        taken chains anyway, so SET_VRING_BASE (backend detached) has
 *        nothing to show; over vhost-user the VMM's read-only mapping is
 *        not the backend's, so these skip there.
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

#define REVIVE_NUM	8	/* a whole-ring chain within VMM_MAX_SEGS */

FIXTURE(revive) {
	struct rtdev d;
};

FIXTURE_VARIANT(revive) {
	int qi;
};

FIXTURE_VARIANT_ADD(revive, rx) { .qi = VMM_RX, };
FIXTURE_VARIANT_ADD(revive, tx) { .qi = VMM_TX, };

FIXTURE_SETUP(revive)
{
	rt_init(&self->d);
}

FIXTURE_TEARDOWN(revive)
{
	rt_down(&self->d);
}

/* The page holding @p read-only for the VMM, so for the device, or not. */
static int page_ro(void *p, int ro)
{
	void *page = (void *)((uintptr_t)p & ~(uintptr_t)(RT_PAGE - 1));

	return mprotect(page, RT_PAGE,
			ro ? PROT_READ : PROT_READ | PROT_WRITE) ? -errno : 0;
}

/*
 * Post frame 0's one-slot chain on @qi and make read-only the page the
 * device must write for it: RX, the buffer; TX, the descriptor ring,
 * where its used descriptor goes.  The chain's ID, or -errno.
 */
static int post_doomed(struct rtdev *d, int qi, void **page)
{
	struct vmm_vq *q = &d->v.vq[qi];
	int id = qi == VMM_TX ? tx_one(d, 0) : rt_post_rx_simple(q, 2048);

	if (id < 0)
		return id;
	*page = qi == VMM_TX ? (void *)q->pdesc :
			       q->slab + (size_t)id * VMM_SLOT_SIZE;
	return page_ro(*page, 1) ?: id;
}

/*
 * The driver takes back chain @id, which the device took and lost: its
 * used descriptor never comes, its slots are free again, and the
 * driver's used position stays at its first slot, where the device's is.
 */
static void drop_lost(struct vmm_vq *q, uint16_t id)
{
	q->num_free += q->chain_len[id];
	q->chain_len[id] = 0;
	q->nsegs[id] = 0;
	q->next[id] = q->free_head;
	q->free_head = id;
	q->ids_free++;
	q->used_idx++;
}

/* Frame @seq in one chain taking every slot of the ring. */
static int post_whole_ring(struct rtdev *d, int qi, uint32_t seq)
{
	struct vmm_vq *q = &d->v.vq[qi];
	static const uint8_t hdr[32];
	uint8_t frame[2048];

	if (qi == VMM_RX) {
		if (vmm_post_rx(q, 2048, VMM_CHAIN, q->num) < 0)
			return -ENOSPC;
		return rt_inject(d, seq, pk_len(seq));
	}
	vmm_gen_frame(seq, frame, pk_len(seq));
	return vmm_post_tx(q, hdr, d->hdr_len, frame, pk_len(seq),
			   VMM_CHAIN, q->num) < 0 ? -ENOSPC : 0;
}

TEST_F_TIMEOUT(revive, ivhost_only_addr_forgets_taken, 120)
{
	struct rtdev *d = &self->d;
	int qi = variant->qi, id;
	struct vmm_vq *q;
	void *page;

	IVHOST_ONLY();
	UP(d, RT_BASE_FEATURES, REVIVE_NUM, -1);
	q = &d->v.vq[qi];
	ASSERT_EQ(0, vmm_poll_fd(q->err_fd));
	id = post_doomed(d, qi, &page);
	ASSERT_LE(0, id) TH_LOG("doomed chain: %s", strerror(-id));
	/* Only now: no round may use the chain before its page is guarded. */
	ASSERT_EQ(0, vmm_set_backend(&d->v, qi, d->t.fd));
	if (qi == VMM_RX)
		ASSERT_EQ(0, rt_inject(d, 0, pk_len(0)));
	ASSERT_EQ(0, vmm_kick(q));
	if (qi == VMM_TX)	/* sent before its used descriptor failed */
		EXPECT_TRUE(tap_got(d, 0, WAIT_MS));
	EXPECT_EQ(1, vmm_wait_fd(q->err_fd, WAIT_MS))
		TH_LOG("err eventfd not signalled");
	ASSERT_EQ(0, page_ro(page, 0));
	ASSERT_EQ(q->used_idx, vmm_used_idx(q)) TH_LOG("the chain was used");

	ASSERT_EQ(0, rt_set_addr_log(&d->v, qi, 0));
	drop_lost(q, id);
	ASSERT_EQ(0, post_whole_ring(d, qi, 1));
	ASSERT_EQ(0, vmm_kick(q));
	EXPECT_TRUE(came(d, qi, 1))
		TH_LOG("a chain of all %u slots not used: the lost one counts",
		       q->num);
	EXPECT_EQ(0, vmm_poll_fd(q->err_fd)) TH_LOG("err eventfd signalled");
}

TEST_HARNESS_MAIN
