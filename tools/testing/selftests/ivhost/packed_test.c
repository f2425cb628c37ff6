// SPDX-License-Identifier: GPL-2.0
/*
 * Packed virtqueues (VIRTIO_F_RING_PACKED, virtio 1.1 section 2.7): what
 * only the packed layout has.  Every test here runs on packed rings (as
 * IVHOST_RING=packed) and SKIPs on a device that does not offer them.
 *
 * Tests:
 *   wrap.{num_100,num_256}.tx_stream / rx_stream
 *        frames both ways, direct, chained and indirect, over many turns
 *        of a ring whose size need not be a power of two: byte-exact, in
 *        order, buffer IDs as posted.
 *   packed.not_available_not_consumed
 *        a head whose AVAIL/USED flags say "not available" for the
 *        driver's wrap counter (left as the device used it a lap ago,
 *        AVAIL = USED = wrap, AVAIL != wrap) is not consumed, kicks or
 *        not; its proper flags make it go.
 *   packed.desc_event_offset
 *        with EVENT_IDX, a driver area DESC event (offset and wrap bit)
 *        gets a call when that slot is used and none before, also
 *        across the end of the ring; a wrong wrap bit gets none.
 *   packed.ring_state
 *        GET_VRING_BASE encodes both positions with their wrap counters
 *        (bits 0-14 avail, 15 its wrap, 16-30 used, 31 its wrap); a
 *        SET_VRING_BASE at a position of the second lap resumes there.
 *   packed.device_area
 *        an idle device asks for kicks: its event suppression area is
 *        not DISABLE, and with EVENT_IDX a DESC event names the next
 *        slot the driver fills.
 *   bad.*.stops_queue (ivhost's core)
 *        a malformed packed chain stops the queue: a chain running past
 *        num descriptors, INDIRECT with NEXT, indirect tables of 24, 0
 *        and 1025 * 16 bytes, readable after writable (in the ring and
 *        in a table).  The err eventfd fires, nothing behind the chain
 *        moves, GET_VRING_BASE points at it.
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

#define NFRAMES		3000

/* Send @n frames from @seq one at a time, each seen and reaped. */
static int tx_some(struct rtdev *d, uint32_t seq, unsigned int n)
{
	struct vmm_vq *q = &d->v.vq[VMM_TX];
	unsigned int i;

	for (i = 0; i < n; i++) {
		if (tx_one(d, seq + i) < 0 || vmm_kick(q) ||
		    !tap_got(d, seq + i, WAIT_MS) ||
		    !rt_wait_used(q, q->used_idx + 1, WAIT_MS) ||
		    vmm_reap(q, NULL, NULL) != 1)
			return -1;
	}
	return 0;
}

FIXTURE(wrap) {
	struct rtdev d;
};

FIXTURE_VARIANT(wrap) {
	unsigned int num;
};

FIXTURE_VARIANT_ADD(wrap, num_100) {
	.num = 100,
};

FIXTURE_VARIANT_ADD(wrap, num_256) {
	.num = 256,
};

FIXTURE_SETUP(wrap)
{
	rt_init(&self->d);
}

FIXTURE_TEARDOWN(wrap)
{
	rt_down(&self->d);
}

TEST_F_TIMEOUT(wrap, tx_stream, 300)
{
	struct vmm_tx_opts o = {
		.count = NFRAMES, .len_of = pk_len, .mode = -1,
		.idle_timeout_ms = WAIT_MS,
	};
	struct vmm_tx_stats st;

	UP(&self->d, RT_BASE_FEATURES | EVIDX, variant->num, VMM_TX);
	o.hdr_len = self->d.hdr_len;
	ASSERT_EQ(0, vmm_tx_stream(&self->d.v, &self->d.t, &o, &st))
		TH_LOG("%s", st.msg);
	EXPECT_EQ((unsigned int)NFRAMES, st.received);
	TH_LOG("%u frames, %u kicks, %u calls in %lld ms", st.received,
	       st.kicks, st.calls, st.elapsed_ms);
	EXPECT_EQ(0, vmm_poll_fd(self->d.v.vq[VMM_TX].err_fd));
}

/* Keep the RX ring full of 1536-byte buffers of rotating layouts. */
static void rx_fill(struct vmm_vq *q, unsigned int *k)
{
	while (q->num_free >= VMM_MAX_SEGS) {
		if (vmm_post_rx(q, 1536, *k % 3, 2 + *k % 7) < 0)
			break;
		(*k)++;
	}
}

TEST_F_TIMEOUT(wrap, rx_stream, 300)
{
	unsigned int sent = 0, got = 0, k = 0, nb;
	struct rtdev *d = &self->d;
	struct vmm_vq *q;
	uint8_t buf[2048];
	long long progress;
	ssize_t n;

	UP(d, RT_BASE_FEATURES, variant->num, VMM_RX);
	q = &d->v.vq[VMM_RX];
	rx_fill(q, &k);
	ASSERT_EQ(0, vmm_kick(q));
	/* frames an earlier test left in a vhost-user backend's tap */
	usleep(200 * 1000);
	while (vmm_rx_frame(q, 0, buf, sizeof(buf), &nb, 0) > 0)
		rx_fill(q, &k);
	vmm_kick(q);
	progress = vmm_now_ms();
	while (got < NFRAMES) {
		/* a few frames in flight: the tap queue never overflows */
		for (; sent < NFRAMES && sent - got < 8; sent++)
			ASSERT_EQ(0, rt_inject(d, sent, pk_len(sent)));
		n = vmm_rx_frame(q, 0, buf, sizeof(buf), &nb, 0);
		ASSERT_LE(0, n) TH_LOG("frame %u: %zd", got, n);
		if (!n) {
			ASSERT_GT(WAIT_MS, vmm_now_ms() - progress)
				TH_LOG("stalled at %u/%u", got, sent);
			vmm_event_arm(q, 0);
			vmm_wait_fd(q->call_fd, 5);
			continue;
		}
		ASSERT_EQ(d->hdr_len + pk_len(got), (size_t)n)
			TH_LOG("frame %u: got seq %ld in %u buffers", got,
			       rt_frame_seq(buf + d->hdr_len, n - d->hdr_len),
			       nb);
		ASSERT_EQ((long)got, rt_frame_seq(buf + d->hdr_len,
						  n - d->hdr_len))
			TH_LOG("frame %u differs", got);
		got++;
		progress = vmm_now_ms();
		rx_fill(q, &k);
		vmm_kick(q);
	}
	EXPECT_EQ(0, vmm_poll_fd(q->err_fd));
}

FIXTURE(packed) {
	struct rtdev d;
};

FIXTURE_SETUP(packed)
{
	rt_init(&self->d);
}

FIXTURE_TEARDOWN(packed)
{
	rt_down(&self->d);
}

/* TX frame @seq in one descriptor, all but its head flags written
 * (vmm_post_seg() keeps those for vmm_publish()): the head, or -errno. */
static int post_held(struct rtdev *d, uint32_t seq)
{
	struct vmm_vq *q = &d->v.vq[VMM_TX];
	int head = vmm_desc_alloc(q, 1);
	uint8_t *slot;
	uint16_t idx;

	if (head < 0)
		return head;
	idx = vmm_post_start(q, head);
	slot = q->slab + (size_t)head * VMM_SLOT_SIZE;
	memset(slot, 0, d->hdr_len);
	vmm_gen_frame(seq, slot + d->hdr_len, pk_len(seq));
	vmm_post_seg(q, NULL, VMM_DIRECT, &idx, 0, 1, vmm_gpa(&d->v, slot),
		     d->hdr_len + pk_len(seq), 0);
	return head;
}

TEST_F_TIMEOUT(packed, not_available_not_consumed, 120)
{
	struct rtdev *d = &self->d;
	struct vmm_vq *q;
	uint16_t bad[3];
	int head, i;

	UP(d, RT_BASE_FEATURES, 64, VMM_TX);
	q = &d->v.vq[VMM_TX];
	/* One lap: slot 0 holds the used descriptor of lap 1, wrap now 0. */
	ASSERT_EQ(0, tx_some(d, 0, q->num));
	ASSERT_EQ(0, q->avail_pos);
	ASSERT_EQ(0, q->avail_wrap);
	bad[0] = q->pdesc[0].flags & (PF_AVAIL | PF_USED);	/* stale */
	bad[1] = 0;				/* AVAIL = USED = wrap (0) */
	bad[2] = PF_AVAIL;			/* AVAIL != wrap */
	EXPECT_EQ(PF_AVAIL | PF_USED, bad[0]);
	head = post_held(d, 1000);
	ASSERT_LE(0, head);
	for (i = 0; i < 3; i++) {
		__atomic_store_n(&q->pdesc[q->head_pos].flags, bad[i],
				 __ATOMIC_RELEASE);
		ASSERT_EQ(0, vmm_kick(q));
		EXPECT_TRUE(tap_quiet(d, QUIET_MS))
			TH_LOG("flags %#x consumed as available", bad[i]);
		EXPECT_EQ(q->used_idx, vmm_used_idx(q));
	}
	vmm_publish(q, head);
	ASSERT_EQ(0, vmm_kick(q));
	EXPECT_TRUE(tap_got(d, 1000, WAIT_MS));
	ASSERT_TRUE(rt_wait_used(q, q->used_idx + 1, WAIT_MS));
	EXPECT_EQ(1, vmm_reap(q, NULL, NULL));
	EXPECT_EQ(0, vmm_poll_fd(q->err_fd));
}

/*
 * tx_some() with the driver area left at ENABLE: each frame's call is
 * waited for, so none is still on its way when the caller moves on (a
 * call raised just after the used descriptor is seen would otherwise
 * land in the next check's quiet window).
 */
static int tx_called(struct rtdev *d, uint32_t seq, unsigned int n)
{
	struct vmm_vq *q = &d->v.vq[VMM_TX];
	unsigned int i;

	for (i = 0; i < n; i++)
		if (tx_some(d, seq + i, 1) ||
		    vmm_wait_fd(q->call_fd, WAIT_MS) != 1)
			return -1;
	return 0;
}

/*
 * DESC event at @ahead buffers past the used position (direct buffers:
 * one slot each), wrap bit flipped when @bad_wrap: a call once that many
 * are used and none before (none at all for a bad wrap bit).  The driver
 * area is left at ENABLE again.
 */
static void desc_event(struct __test_metadata *_metadata, struct rtdev *d,
		       uint32_t *seq, unsigned int ahead, int bad_wrap)
{
	struct vmm_vq *q = &d->v.vq[VMM_TX];
	unsigned int pos = q->used_pos + ahead, i;
	int wrap = q->used_wrap;

	if (pos >= q->num) {
		pos -= q->num;
		wrap = !wrap;
	}
	wrap ^= !!bad_wrap;
	while (vmm_poll_fd(q->call_fd))
		;
	q->driver_event->off_wrap = pos | wrap << 15;
	__atomic_store_n(&q->driver_event->flags, VRING_PACKED_EVENT_FLAG_DESC,
			 __ATOMIC_SEQ_CST);
	for (i = 0; i < ahead; i++) {
		ASSERT_LE(0, tx_one(d, (*seq)++));
		ASSERT_EQ(0, vmm_kick(q));
		ASSERT_TRUE(tap_got(d, *seq - 1, WAIT_MS));
		ASSERT_TRUE(rt_wait_used(q, q->used_idx + i + 1, WAIT_MS));
	}
	EXPECT_EQ(0, vmm_wait_fd(q->call_fd, QUIET_MS))
		TH_LOG("call before slot %u was used", pos);
	ASSERT_LE(0, tx_one(d, (*seq)++));
	ASSERT_EQ(0, vmm_kick(q));
	ASSERT_TRUE(tap_got(d, *seq - 1, WAIT_MS));
	EXPECT_EQ(!bad_wrap, vmm_wait_fd(q->call_fd, bad_wrap ? QUIET_MS
							      : WAIT_MS))
		TH_LOG("slot %u wrap %d (%s) used: call?", pos, wrap,
		       bad_wrap ? "wrong wrap bit" : "right wrap bit");
	ASSERT_TRUE(rt_wait_used(q, q->used_idx + ahead + 1, WAIT_MS));
	for (i = 0; i <= ahead; i++)
		ASSERT_EQ(1, vmm_reap(q, NULL, NULL));
	__atomic_store_n(&q->driver_event->flags, VRING_PACKED_EVENT_FLAG_ENABLE,
			 __ATOMIC_SEQ_CST);
}

TEST_F_TIMEOUT(packed, desc_event_offset, 120)
{
	struct rtdev *d = &self->d;
	uint32_t seq = 0;

	UP(d, RT_BASE_FEATURES | EVIDX, 100, VMM_TX);
	ASSERT_TRUE(!!(d->v.features & EVIDX));
	/* the first call after set-up may come whatever the event says */
	ASSERT_EQ(0, tx_called(d, seq++, 1));
	desc_event(_metadata, d, &seq, 2, 0);
	/* up to 3 slots before the end of the ring, then across it */
	ASSERT_EQ(0, tx_called(d, seq, d->v.vq[VMM_TX].num - 3 - 4));
	seq += d->v.vq[VMM_TX].num - 7;
	desc_event(_metadata, d, &seq, 5, 0);
	desc_event(_metadata, d, &seq, 3, 1);
}

TEST_F_TIMEOUT(packed, ring_state, 120)
{
	struct rtdev *d = &self->d;
	struct vmm_vq *q;
	unsigned int base, want, pos = 70;

	UP(d, RT_BASE_FEATURES, 100, VMM_TX);
	q = &d->v.vq[VMM_TX];
	ASSERT_EQ(0, tx_some(d, 0, 150));
	ASSERT_EQ(0, vmm_set_backend(&d->v, VMM_TX, -1));
	ASSERT_EQ(0, vmm_vq_get_base(&d->v, VMM_TX, &base));
	/* 150 on a ring of 100: slot 50 of the second lap (wrap 0) */
	want = 50 | 0u << 15 | 50u << 16 | 0u << 31;
	EXPECT_EQ(want, base) TH_LOG("GET_VRING_BASE %#x, want %#x", base,
				    want);
	/* resume at slot 70 of a second lap: the driver's state to match */
	vmm_packed_reset(q, pos);
	q->avail_wrap = q->used_wrap = q->kick_wrap = 0;
	ASSERT_EQ(0, vmm_vq_set_base(&d->v, VMM_TX, pos | pos << 16));
	ASSERT_EQ(0, vmm_set_backend(&d->v, VMM_TX, d->t.fd));
	ASSERT_EQ(0, tx_some(d, 500, 60));
	EXPECT_EQ(30, q->avail_pos);
	EXPECT_EQ(1, q->avail_wrap);
	EXPECT_EQ(0, vmm_poll_fd(q->err_fd));
}

TEST_F_TIMEOUT(packed, device_area, 120)
{
	struct rtdev *d = &self->d;
	unsigned int evidx;
	struct vmm_vq *q;

	for (evidx = 0; evidx < 2; evidx++) {
		rt_down(d);
		rt_init(d);
		UP(d, RT_BASE_FEATURES | (evidx ? EVIDX : 0), 100, VMM_TX);
		q = &d->v.vq[VMM_TX];
		ASSERT_EQ(0, tx_some(d, 0, 30));
		usleep(100 * 1000);
		EXPECT_EQ(0, vmm_notify_off(q))
			TH_LOG("idle device, EVENT_IDX %u: DISABLE", evidx);
		ASSERT_LE(0, tx_one(d, 30));
		EXPECT_EQ(1, vmm_kick_needed(q))
			TH_LOG("EVENT_IDX %u: no kick wanted for slot %u "
			       "(device area flags %u off_wrap %#x)", evidx,
			       q->head_pos, q->device_event->flags,
			       q->device_event->off_wrap);
		ASSERT_EQ(0, vmm_kick(q));
		EXPECT_TRUE(tap_got(d, 30, WAIT_MS));
	}
}

TEST_HARNESS_MAIN
