// SPDX-License-Identifier: GPL-2.0
/*
 * Hostile rings: a guest that breaks the split-ring protocol, or that
 * posts buffers meant to make the device work as hard as possible.
 *
 * Runs against $IVHOST_DEV (ivhost, and the kernel's vhost_net for
 * parity).  Frames for the device's RX queue are injected into the tap
 * from the host side with an AF_PACKET socket bound to it.
 *
 * Tests:
 *   hostile.*.stops_and_recovers
 *        one malformed chain per variant, on the TX or the RX queue:
 *        descriptor loops (direct, inside an indirect table), a nested
 *        indirect table, indirect lengths of 24 and 0, INDIRECT|NEXT
 *        (ivhost only: vhost_net follows NEXT), head >= num, next >= num,
 *        avail index more than the ring size ahead.  The err eventfd
 *        fires, nothing after the bad chain moves, the worker does not
 *        spin, GET_VRING_BASE points at the bad chain, and once the VMM
 *        repairs the ring and sets the queue up again traffic flows.
 *   reset.*.reset_owner_restarts
 *        the same recovery through VHOST_RESET_OWNER and a fresh set-up.
 *   stopped.ivhost_only_stays_stopped
 *        ivhost keeps a broken queue stopped (and quiet) even when the
 *        ring is repaired, until it is configured again.
 *   flood.tiny_rx_buffers
 *        1-byte RX buffers with MRG_RXBUF under a flood of frames: every
 *        frame that arrives is correct, the same device's TX queue and a
 *        second device keep moving, and the worker idles afterwards.
 *   flood.fairness
 *        a device flooded on both queues does not starve another one.
 *   zlen.zero_length_descriptors_logged
 *        RX chains with zero-length descriptors while dirty logging is
 *        on: frames arrive intact and exactly the written pages are
 *        logged.
 *   zchain.{plain,iotlb}.ivhost_only_rx_zero_length_chain_work_bounded
 *        a 32768-entry RX ring of chains of zero-length descriptors that
 *        no frame fits: an ioctl waiting for the RX queue returns in 2 s
 *        while frames come in (the device bounds the descriptors it
 *        walks per frame and per round), no soft lockup, and the frames
 *        are dropped.  ivhost only: vhost_net takes a chain that yields
 *        no buffer for an error (err eventfd) and stops taking frames.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <linux/vhost.h>

#include "kselftest_harness.h"
#include "harness_filter.h"
#include "iotlb_common.h"

#define RING		64
#define WAIT_MS		10000
#define QUIET_MS	300
/* A stopped queue's worker may use at most this much CPU per second. */
#define IDLE_CPU_NS	(150 * 1000 * 1000LL)
#define REPAIRED_SEQ	100

enum bad_kind {
	LOOP_DIRECT,
	LOOP_INDIRECT,
	NESTED_INDIRECT,
	INDIRECT_LEN_24,
	INDIRECT_LEN_0,
	INDIRECT_NEXT,
	HEAD_GE_NUM,
	NEXT_GE_NUM,
	AVAIL_JUMP,
};

static size_t flen(uint32_t seq)
{
	return 60 + (seq * 37) % 1400;
}

/* Post a TX frame with a zeroed virtio-net header, directly. */
static int post_tx(struct rtdev *d, uint32_t seq)
{
	static const uint8_t hdr[32];
	uint8_t frame[2048];

	vmm_gen_frame(seq, frame, flen(seq));
	return vmm_post_tx(&d->v.vq[VMM_TX], hdr, d->hdr_len, frame,
			   flen(seq), VMM_DIRECT, 1) < 0 ? -ENOSPC : 0;
}

/* The device sent frame @seq into the tap, and only that. */
static int expect_tx(struct rtdev *d, uint32_t seq, char *msg, size_t msz)
{
	uint8_t buf[4096], want[2048];
	ssize_t n = rt_tap_recv(d, buf, sizeof(buf), WAIT_MS);

	if (n < 0) {
		snprintf(msg, msz, "tx seq %u never arrived", seq);
		return -1;
	}
	vmm_gen_frame(seq, want, flen(seq));
	if ((size_t)n != flen(seq) || memcmp(buf, want, n)) {
		snprintf(msg, msz, "tx seq %u: got %zd bytes, wrong", seq, n);
		return -1;
	}
	return 0;
}

/* Reap the next RX entry, which must hold frame @seq. */
static int expect_rx(struct rtdev *d, uint32_t seq, char *msg, size_t msz)
{
	struct vmm_vq *q = &d->v.vq[VMM_RX];
	uint8_t buf[4096];
	uint32_t len;
	long got;
	int r;

	if (!rt_wait_used(q, q->used_idx + 1, WAIT_MS)) {
		snprintf(msg, msz, "rx seq %u never arrived", seq);
		return -1;
	}
	r = rt_reap_rx(q, buf, sizeof(buf), &len);
	if (r != 1) {
		snprintf(msg, msz, "rx seq %u: reap %d", seq, r);
		return -1;
	}
	got = len > d->hdr_len ? rt_frame_seq(buf + d->hdr_len,
					      len - d->hdr_len) : -1;
	if (len != d->hdr_len + flen(seq) || got != seq) {
		snprintf(msg, msz, "rx seq %u: got len %u seq %ld", seq, len,
			 got);
		return -1;
	}
	return 0;
}

/* One unit of good traffic on @qi: a TX frame, or an RX buffer + frame. */
static int good(struct rtdev *d, int qi, uint32_t seq)
{
	if (qi == VMM_TX)
		return post_tx(d, seq);
	if (rt_post_rx_simple(&d->v.vq[VMM_RX], 2048) < 0)
		return -ENOSPC;
	return rt_inject(d, seq, flen(seq));
}

static int expect(struct rtdev *d, int qi, uint32_t seq, char *msg,
		  size_t msz)
{
	return qi == VMM_TX ? expect_tx(d, seq, msg, msz) :
			      expect_rx(d, seq, msg, msz);
}

/*
 * Publish a malformed chain of @kind on @qi.  Returns the descriptor the
 * repair will turn into a good buffer (-1 for AVAIL_JUMP, which the
 * caller makes by moving avail->idx).
 */
static int post_bad(struct rtdev *d, int qi, int kind)
{
	struct vmm_vq *q = &d->v.vq[qi];
	uint16_t w = qi == VMM_RX ? VRING_DESC_F_WRITE : 0;
	struct vring_desc *t, *desc = q->desc;
	uint64_t buf;
	int h, n;

	if (kind == AVAIL_JUMP)
		return -1;
	h = vmm_desc_alloc(q, kind == LOOP_DIRECT || kind == INDIRECT_NEXT ?
			   2 : 1);
	if (h < 0)
		return h;
	n = q->next[h];
	t = q->indirect + (size_t)h * VMM_MAX_SEGS;
	buf = rt_slot_gpa(q, h, 0);
	memset(t, 0, VMM_MAX_SEGS * sizeof(*t));
	switch (kind) {
	case LOOP_DIRECT:
		desc[h] = (struct vring_desc){ buf, 64, w | VRING_DESC_F_NEXT, n };
		desc[n] = (struct vring_desc){ buf, 64, w | VRING_DESC_F_NEXT, h };
		break;
	case LOOP_INDIRECT:
		t[0] = (struct vring_desc){ buf, 64, w | VRING_DESC_F_NEXT, 1 };
		t[1] = (struct vring_desc){ buf, 64, w | VRING_DESC_F_NEXT, 0 };
		desc[h] = (struct vring_desc){ vmm_gpa(&d->v, t), 32,
					       VRING_DESC_F_INDIRECT, 0 };
		break;
	case NESTED_INDIRECT:
		t[0] = (struct vring_desc){ vmm_gpa(&d->v, t + 8), 16,
					    VRING_DESC_F_INDIRECT, 0 };
		t[8] = (struct vring_desc){ buf, 64, w, 0 };
		desc[h] = (struct vring_desc){ vmm_gpa(&d->v, t), 16,
					       VRING_DESC_F_INDIRECT, 0 };
		break;
	case INDIRECT_LEN_24:
	case INDIRECT_LEN_0:
		t[0] = (struct vring_desc){ buf, 64, w, 0 };
		t[1] = (struct vring_desc){ buf, 64, w, 0 };
		desc[h] = (struct vring_desc){ vmm_gpa(&d->v, t),
					       kind == INDIRECT_LEN_0 ? 0 : 24,
					       VRING_DESC_F_INDIRECT, 0 };
		break;
	case INDIRECT_NEXT:
		t[0] = (struct vring_desc){ buf, 64, w, 0 };
		desc[h] = (struct vring_desc){ vmm_gpa(&d->v, t), 16,
					       VRING_DESC_F_INDIRECT |
					       VRING_DESC_F_NEXT, n };
		desc[n] = (struct vring_desc){ buf + 128, 64, w, 0 };
		break;
	case HEAD_GE_NUM:
		desc[h] = (struct vring_desc){ buf, 64, w, 0 };
		vmm_publish(q, q->num + h);
		return h;
	case NEXT_GE_NUM:
		desc[h] = (struct vring_desc){ buf, 64, w | VRING_DESC_F_NEXT,
					       q->num };
		break;
	}
	vmm_publish(q, h);
	return h;
}

/* Turn the bad chain at ring position @pos into a good buffer. */
static void repair(struct rtdev *d, int qi, int kind, int h, uint16_t pos)
{
	struct vmm_vq *q = &d->v.vq[qi];
	uint8_t *slot;

	if (kind == AVAIL_JUMP) {
		__atomic_store_n(&q->avail->idx, q->avail_idx,
				 __ATOMIC_RELEASE);
		return;
	}
	slot = q->slab + (size_t)h * VMM_SLOT_SIZE;
	if (qi == VMM_TX) {
		memset(slot, 0, d->hdr_len);
		vmm_gen_frame(REPAIRED_SEQ, slot + d->hdr_len,
			      flen(REPAIRED_SEQ));
		q->desc[h] = (struct vring_desc){ rt_slot_gpa(q, h, 0),
			d->hdr_len + flen(REPAIRED_SEQ), 0, 0 };
	} else {
		q->desc[h] = (struct vring_desc){ rt_slot_gpa(q, h, 0), 2048,
						  VRING_DESC_F_WRITE, 0 };
	}
	if (kind == HEAD_GE_NUM)
		q->avail->ring[pos % q->num] = h;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

/*
 * The queue is stopped: kicks (and, for RX, more frames) move nothing,
 * and the worker stays idle instead of retrying in a loop.
 */
static void check_stopped(struct __test_metadata *_metadata, struct rtdev *d,
			  int qi, uint16_t pos, uint32_t *seq)
{
	struct vmm_vq *q = &d->v.vq[qi];
	long long t0, t1, start;
	uint8_t buf[4096];
	int i;

	/* the kernel's worker thread; a vhost-user backend's is not ours */
	t0 = ivhost_dev_is_user() ? 0 : rt_worker_ns(d->owner_tid);
	ASSERT_LE(0, t0) TH_LOG("worker thread of tid %d not found",
				d->owner_tid);
	start = vmm_now_ms();
	for (i = 0; i < 4; i++) {
		if (qi == VMM_RX) {
			ASSERT_EQ(0, rt_inject(d, *seq, flen(*seq)));
			(*seq)++;
		}
		ASSERT_EQ(0, vmm_kick(q));
		usleep(100 * 1000);
	}
	t1 = ivhost_dev_is_user() ? 0 : rt_worker_ns(d->owner_tid);
	TH_LOG("worker used %lld us of CPU in %lld ms while stopped",
	       (t1 - t0) / 1000, vmm_now_ms() - start);
	EXPECT_GT(IDLE_CPU_NS * (vmm_now_ms() - start) / 1000, t1 - t0);
	EXPECT_EQ(pos, vmm_used_idx(q));
	if (qi == VMM_TX)
		EXPECT_EQ(-EAGAIN, rt_tap_recv(d, buf, sizeof(buf), 10));
}

FIXTURE(hostile) {
	struct rtdev d;
};

FIXTURE_VARIANT(hostile) {
	int kind;
	int qi;
	int ivhost_only;
};

#define HOSTILE(name, k, q, only)					\
	FIXTURE_VARIANT_ADD(hostile, name) {				\
		.kind = k, .qi = q, .ivhost_only = only,		\
	}

HOSTILE(tx_loop_direct, LOOP_DIRECT, VMM_TX, 0);
HOSTILE(tx_loop_indirect, LOOP_INDIRECT, VMM_TX, 0);
HOSTILE(tx_nested_indirect, NESTED_INDIRECT, VMM_TX, 0);
HOSTILE(tx_indirect_len_24, INDIRECT_LEN_24, VMM_TX, 0);
HOSTILE(tx_indirect_len_0, INDIRECT_LEN_0, VMM_TX, 0);
HOSTILE(tx_ivhost_only_indirect_next, INDIRECT_NEXT, VMM_TX, 1);
HOSTILE(tx_head_ge_num, HEAD_GE_NUM, VMM_TX, 0);
HOSTILE(tx_next_ge_num, NEXT_GE_NUM, VMM_TX, 0);
HOSTILE(tx_avail_jump, AVAIL_JUMP, VMM_TX, 0);
HOSTILE(rx_loop_direct, LOOP_DIRECT, VMM_RX, 0);
HOSTILE(rx_loop_indirect, LOOP_INDIRECT, VMM_RX, 0);
HOSTILE(rx_nested_indirect, NESTED_INDIRECT, VMM_RX, 0);
HOSTILE(rx_indirect_len_24, INDIRECT_LEN_24, VMM_RX, 0);
HOSTILE(rx_indirect_len_0, INDIRECT_LEN_0, VMM_RX, 0);
HOSTILE(rx_ivhost_only_indirect_next, INDIRECT_NEXT, VMM_RX, 1);
HOSTILE(rx_head_ge_num, HEAD_GE_NUM, VMM_RX, 0);
HOSTILE(rx_next_ge_num, NEXT_GE_NUM, VMM_RX, 0);
HOSTILE(rx_avail_jump, AVAIL_JUMP, VMM_RX, 0);

FIXTURE_SETUP(hostile)
{
	int r;

	SPLIT_ONLY_FIXTURE("split ring structures (packed: packed_test)");
	rt_init(&self->d);
	if (variant->ivhost_only)
		IVHOST_ONLY();
	r = rt_up(&self->d, RT_BASE_FEATURES, RING);
	if (rt_missing(r))
		SKIP(return, "%s: %s", ivhost_dev_path(), ivhost_strerror(r));
	ASSERT_EQ(0, r) TH_LOG("bring-up: %s", strerror(-r));
	ASSERT_EQ(0, vmm_set_backend(&self->d.v, variant->qi, self->d.t.fd));
}

FIXTURE_TEARDOWN(hostile)
{
	rt_down(&self->d);
}

/* Two good units, then the bad chain and one good unit behind it. */
static int start_bad(struct __test_metadata *_metadata, struct rtdev *d,
		     int qi, int kind, uint32_t *seq)
{
	struct vmm_vq *q = &d->v.vq[qi];
	char msg[128];
	int h = -1;

	for (; *seq < 2; (*seq)++)
		EXPECT_EQ(0, good(d, qi, *seq));
	EXPECT_EQ(0, vmm_kick(q));
	EXPECT_EQ(0, expect(d, qi, 0, msg, sizeof(msg))) TH_LOG("%s", msg);
	EXPECT_EQ(0, expect(d, qi, 1, msg, sizeof(msg))) TH_LOG("%s", msg);
	if (qi == VMM_TX) {
		/* A frame reaches the tap before its used entry is written. */
		EXPECT_TRUE(rt_wait_used(q, 2, WAIT_MS));
		EXPECT_EQ(2, vmm_reap(q, NULL, NULL) + vmm_reap(q, NULL, NULL));
	}
	EXPECT_EQ(0, vmm_poll_fd(q->err_fd));

	h = post_bad(d, qi, kind);
	if (kind == AVAIL_JUMP && qi == VMM_RX) {
		/*
		 * The frame only after the jump: the tap wakes the worker,
		 * which could otherwise take the good buffer first, and an
		 * index num ahead of that is a full ring, not a bad one.
		 */
		EXPECT_LE(0, rt_post_rx_simple(q, 2048));
		__atomic_store_n(&q->avail->idx, q->avail_idx + q->num,
				 __ATOMIC_RELEASE);
		EXPECT_EQ(0, rt_inject(d, *seq, flen(*seq)));
		(*seq)++;
	} else {
		EXPECT_EQ(0, good(d, qi, (*seq)++));
		if (kind == AVAIL_JUMP)
			__atomic_store_n(&q->avail->idx, q->avail_idx + q->num,
					 __ATOMIC_RELEASE);
	}
	EXPECT_EQ(0, vmm_kick(q));
	EXPECT_EQ(1, vmm_wait_fd(q->err_fd, WAIT_MS))
		TH_LOG("err eventfd not signalled");
	return h;
}

TEST_F_TIMEOUT(hostile, stops_and_recovers, 120)
{
	struct rtdev *d = &self->d;
	int qi = variant->qi, kind = variant->kind, h, i;
	struct vmm_vq *q = &d->v.vq[qi];
	const uint16_t pos = 2;
	uint32_t seq = 0;
	unsigned int base;
	char msg[128];

	if (_metadata->skip)
		return;
	h = start_bad(_metadata, d, qi, kind, &seq);
	check_stopped(_metadata, d, qi, pos, &seq);

	ASSERT_EQ(0, vmm_set_backend(&d->v, qi, -1));
	ASSERT_EQ(0, vmm_vq_get_base(&d->v, qi, &base));
	EXPECT_EQ(pos, base);
	while (vmm_poll_fd(q->err_fd))
		;
	repair(d, qi, kind, h, pos);
	ASSERT_EQ(0, vmm_vq_set_base(&d->v, qi, pos));
	ASSERT_EQ(0, vmm_set_backend(&d->v, qi, d->t.fd));
	if (qi == VMM_TX) {
		if (kind != AVAIL_JUMP)
			ASSERT_EQ(0, expect_tx(d, REPAIRED_SEQ, msg, sizeof(msg)))
				TH_LOG("%s", msg);
		ASSERT_EQ(0, expect_tx(d, 2, msg, sizeof(msg)))
			TH_LOG("%s", msg);
	} else {
		/* Frames 2..seq-1 waited in the tap; give them buffers. */
		for (i = 0; i < (int)seq - 2 - (kind != AVAIL_JUMP) - 1; i++)
			ASSERT_LE(0, rt_post_rx_simple(q, 2048));
		ASSERT_EQ(0, vmm_kick(q));
		for (i = 2; i < (int)seq; i++)
			ASSERT_EQ(0, expect_rx(d, i, msg, sizeof(msg)))
				TH_LOG("%s", msg);
	}
	EXPECT_EQ(0, vmm_poll_fd(q->err_fd));
}

FIXTURE(reset) {
	struct rtdev d;
};

FIXTURE_VARIANT(reset) {
	int qi;
};

FIXTURE_VARIANT_ADD(reset, tx) { .qi = VMM_TX };
FIXTURE_VARIANT_ADD(reset, rx) { .qi = VMM_RX };

FIXTURE_SETUP(reset)
{
	int r;

	SPLIT_ONLY_FIXTURE("split ring structures (packed: packed_test)");
	r = rt_up(&self->d, RT_BASE_FEATURES, RING);
	if (rt_missing(r))
		SKIP(return, "%s: %s", ivhost_dev_path(), ivhost_strerror(r));
	ASSERT_EQ(0, r) TH_LOG("bring-up: %s", strerror(-r));
	ASSERT_EQ(0, vmm_set_backend(&self->d.v, variant->qi, self->d.t.fd));
}

FIXTURE_TEARDOWN(reset)
{
	rt_down(&self->d);
}

/* A loop stops the queue; VHOST_RESET_OWNER and a fresh set-up recover. */
TEST_F_TIMEOUT(reset, reset_owner_restarts, 120)
{
	struct rtdev *d = &self->d;
	struct vmm *v = &d->v;
	int qi = variant->qi, i;
	struct vmm_vq *q = &v->vq[qi];
	uint32_t seq = 0, first;
	char msg[128];

	if (_metadata->skip)
		return;
	start_bad(_metadata, d, qi, LOOP_DIRECT, &seq);
	ASSERT_EQ(0, vmm_ioctl(v, VHOST_RESET_OWNER, NULL));
	ASSERT_EQ(0, vmm_reown(v));
	ASSERT_EQ(0, vmm_set_backend(v, qi, d->t.fd));
	while (vmm_poll_fd(q->err_fd))
		;
	/* RX: frame 2 is still in the tap and comes first. */
	first = qi == VMM_RX ? 2 : seq;
	if (qi == VMM_RX)
		ASSERT_LE(0, rt_post_rx_simple(q, 2048));
	for (i = 0; i < 3; i++)
		ASSERT_EQ(0, good(d, qi, seq + i));
	ASSERT_EQ(0, vmm_kick(q));
	for (i = 0; i < 3; i++)
		ASSERT_EQ(0, expect(d, qi, first + i, msg, sizeof(msg)))
			TH_LOG("%s", msg);
	EXPECT_EQ(0, vmm_poll_fd(q->err_fd));
}

FIXTURE(stopped) {
	struct rtdev d;
};

FIXTURE_SETUP(stopped)
{
	int r;

	SPLIT_ONLY_FIXTURE("split ring structures (packed: packed_test)");
	rt_init(&self->d);
	IVHOST_ONLY();
	r = rt_up(&self->d, RT_BASE_FEATURES, RING);
	ASSERT_EQ(0, r) TH_LOG("bring-up: %s", strerror(-r));
	ASSERT_EQ(0, vmm_set_backend(&self->d.v, VMM_TX, self->d.t.fd));
}

FIXTURE_TEARDOWN(stopped)
{
	rt_down(&self->d);
}

/*
 * ivhost: a broken queue signals its err eventfd once and then ignores
 * kicks, even after the guest repairs the ring; VHOST_SET_VRING_ADDR
 * (reconfiguration) starts it again.  vhost_net retries the chain on
 * every kick instead.
 */
TEST_F_TIMEOUT(stopped, ivhost_only_stays_stopped, 60)
{
	struct rtdev *d = &self->d;
	struct vmm_vq *q = &d->v.vq[VMM_TX];
	uint32_t seq = 0;
	char msg[128];
	uint8_t buf[4096];
	int h;

	if (_metadata->skip)
		return;
	h = start_bad(_metadata, d, VMM_TX, NESTED_INDIRECT, &seq);
	repair(d, VMM_TX, NESTED_INDIRECT, h, 2);
	ASSERT_EQ(0, vmm_kick(q));
	EXPECT_EQ(0, vmm_wait_fd(q->err_fd, QUIET_MS));
	EXPECT_EQ(-EAGAIN, rt_tap_recv(d, buf, sizeof(buf), QUIET_MS));
	EXPECT_EQ(2, vmm_used_idx(q));
	ASSERT_EQ(0, rt_set_addr_log(&d->v, VMM_TX, 0));
	ASSERT_EQ(0, vmm_kick(q));
	ASSERT_EQ(0, expect_tx(d, REPAIRED_SEQ, msg, sizeof(msg)))
		TH_LOG("%s", msg);
	ASSERT_EQ(0, expect_tx(d, 2, msg, sizeof(msg))) TH_LOG("%s", msg);
	EXPECT_EQ(0, vmm_poll_fd(q->err_fd));
}

/* ------------------------------------------------------------------ */
/* Floods.                                                             */

#define FLOOD_RING	256
#define FLOOD_MS	3000

struct load {
	struct rtdev *d;
	int stop;		/* __atomic */
	unsigned long count;	/* __atomic: frames completed or sent */
	int err;
};

/* Keep a device's TX ring busy: post, kick, reap. */
static void *tx_load_fn(void *arg)
{
	struct load *l = arg;
	struct vmm_vq *q = &l->d->v.vq[VMM_TX];
	uint32_t seq = 1000000;

	while (!__atomic_load_n(&l->stop, __ATOMIC_RELAXED)) {
		int r, n = 0;

		while ((r = vmm_reap(q, NULL, NULL)) == 1)
			n++;
		if (r < 0)
			l->err = r;
		__atomic_add_fetch(&l->count, n, __ATOMIC_RELAXED);
		while (q->num_free > q->num / 2 && !post_tx(l->d, seq))
			seq++;
		vmm_kick(q);
		usleep(1000);
	}
	return NULL;
}

/* Inject frames into a device's tap as fast as it goes. */
static void *inject_fn(void *arg)
{
	struct load *l = arg;
	uint32_t seq = 0;

	while (!__atomic_load_n(&l->stop, __ATOMIC_RELAXED)) {
		int i;

		for (i = 0; i < 32; i++, seq++)
			if (rt_inject(l->d, seq, 60 + seq % 140))
				l->err = -errno;
		__atomic_store_n(&l->count, seq, __ATOMIC_RELAXED);
		sched_yield();
	}
	return NULL;
}

struct up_arg {
	struct rtdev *d;
	int r;
};

/* Set a device up from another thread: its worker gets another name. */
static void *up_fn(void *arg)
{
	struct up_arg *a = arg;

	a->r = rt_up(a->d, RT_BASE_FEATURES, FLOOD_RING);
	if (!a->r)
		a->r = vmm_set_backend(&a->d->v, VMM_TX, a->d->t.fd);
	return NULL;
}

FIXTURE(flood) {
	struct rtdev a, b;
};

FIXTURE_SETUP(flood)
{
	struct up_arg ua = { .d = &self->b };
	pthread_t th;
	int r;

	KERNEL_ONLY_FIXTURE("two devices with a tap each; vhost-user: one frontend");
	rt_init(&self->a);
	rt_init(&self->b);
	r = rt_up(&self->a, RT_BASE_FEATURES | F(VIRTIO_NET_F_MRG_RXBUF),
		  FLOOD_RING);
	LAYOUT_SKIP_FIXTURE(r, rt_down(&self->a));
	if (rt_missing(r))
		SKIP(return, "%s: %s", ivhost_dev_path(), ivhost_strerror(r));
	ASSERT_EQ(0, r) TH_LOG("bring-up: %s", strerror(-r));
	ASSERT_TRUE(!!(self->a.v.features & F(VIRTIO_NET_F_MRG_RXBUF)));
	ASSERT_EQ(0, vmm_set_backend(&self->a.v, VMM_RX, self->a.t.fd));
	ASSERT_EQ(0, vmm_set_backend(&self->a.v, VMM_TX, self->a.t.fd));
	ASSERT_EQ(0, pthread_create(&th, NULL, up_fn, &ua));
	pthread_join(th, NULL);
	ASSERT_EQ(0, ua.r) TH_LOG("second device: %s", strerror(-ua.r));
}

FIXTURE_TEARDOWN(flood)
{
	rt_down(&self->a);
	rt_down(&self->b);
}

/* Frames reassembled from merged RX buffers, checked as they complete. */
struct rx_asm {
	uint8_t stream[4096];
	size_t len;
	unsigned int ents, frames, bad, foreign;
	long last_seq;
	char msg[128];
};

/* Reap what is used on @q into @a; returns entries reaped or -errno. */
static int rx_asm_reap(struct rtdev *d, struct rx_asm *a)
{
	struct vmm_vq *q = &d->v.vq[VMM_RX];
	uint8_t buf[4096];
	uint32_t len;
	int r, n = 0;

	while ((r = rt_reap_rx(q, buf, sizeof(buf), &len)) == 1) {
		unsigned int nb;

		n++;
		if (a->len + len > sizeof(a->stream))
			return -EMSGSIZE;
		memcpy(a->stream + a->len, buf, len);
		a->len += len;
		a->ents++;
		if (a->len < d->hdr_len)
			continue;
		nb = a->stream[10] | a->stream[11] << 8;
		if (a->ents < nb)
			continue;
		if (a->ents > nb || !nb) {
			snprintf(a->msg, sizeof(a->msg),
				 "num_buffers %u, but %u entries", nb, a->ents);
			a->bad++;
		} else {
			size_t fl = a->len - d->hdr_len;
			const uint8_t *f = a->stream + d->hdr_len;
			long s = rt_frame_seq(f, fl);

			if (fl >= RT_ETH_LEN && (f[12] != 0x88 || f[13] != 0xb5)) {
				a->foreign++;
			} else if (s < 0 || s <= a->last_seq ||
				   fl != 60 + (size_t)s % 140) {
				snprintf(a->msg, sizeof(a->msg),
					 "frame %u: len %zu seq %ld after %ld",
					 a->frames, fl, s, a->last_seq);
				a->bad++;
			} else {
				a->last_seq = s;
			}
		}
		a->frames++;
		a->len = 0;
		a->ents = 0;
	}
	return r < 0 ? r : n;
}

static void refill_tiny(struct vmm_vq *q)
{
	while (q->num_free && rt_post_rx_simple(q, 1) >= 0)
		;
	vmm_kick(q);
}

/*
 * 1-byte RX buffers under a flood: each frame takes a chain per byte.
 * The device must bound its rounds: the same device's TX queue and a
 * second device keep moving meanwhile.
 */
TEST_F_TIMEOUT(flood, tiny_rx_buffers, 180)
{
	struct load inj = { .d = &self->a }, ta = { .d = &self->a },
		    tb = { .d = &self->b };
	struct vmm_vq *q = &self->a.v.vq[VMM_RX];
	pthread_t thi, tha, thb;
	unsigned long a0, b0, a1, b1;
	struct rx_asm *as = calloc(1, sizeof(*as));
	long long end, t0, t1, quiet;
	uint16_t seen;

	if (_metadata->skip)
		return;
	ASSERT_NE(NULL, as);
	as->last_seq = -1;
	refill_tiny(q);
	ASSERT_EQ(0, pthread_create(&tha, NULL, tx_load_fn, &ta));
	ASSERT_EQ(0, pthread_create(&thb, NULL, tx_load_fn, &tb));
	usleep(200 * 1000);
	a0 = __atomic_load_n(&ta.count, __ATOMIC_RELAXED);
	b0 = __atomic_load_n(&tb.count, __ATOMIC_RELAXED);
	ASSERT_EQ(0, pthread_create(&thi, NULL, inject_fn, &inj));
	end = vmm_now_ms() + FLOOD_MS;
	while (vmm_now_ms() < end) {
		ASSERT_LE(0, rx_asm_reap(&self->a, as));
		refill_tiny(q);
		usleep(500);
	}
	a1 = __atomic_load_n(&ta.count, __ATOMIC_RELAXED);
	b1 = __atomic_load_n(&tb.count, __ATOMIC_RELAXED);
	__atomic_store_n(&inj.stop, 1, __ATOMIC_RELAXED);
	pthread_join(thi, NULL);
	/* Drain what is still in the tap. */
	seen = vmm_used_idx(q);
	quiet = vmm_now_ms();
	while (vmm_now_ms() - quiet < 1000) {
		ASSERT_LE(0, rx_asm_reap(&self->a, as));
		refill_tiny(q);
		if (vmm_used_idx(q) != seen) {
			seen = vmm_used_idx(q);
			quiet = vmm_now_ms();
		}
		usleep(2000);
	}
	__atomic_store_n(&ta.stop, 1, __ATOMIC_RELAXED);
	__atomic_store_n(&tb.stop, 1, __ATOMIC_RELAXED);
	pthread_join(tha, NULL);
	pthread_join(thb, NULL);
	TH_LOG("%lu frames injected, %u received (%u foreign), device TX %lu, second device TX %lu during the flood",
	       inj.count, as->frames, as->foreign, a1 - a0, b1 - b0);
	EXPECT_EQ(0U, as->bad) TH_LOG("%s", as->msg);
	EXPECT_LT(20U, as->frames);
	EXPECT_LT(20UL, a1 - a0) TH_LOG("the device's TX starved");
	EXPECT_LT(20UL, b1 - b0) TH_LOG("the second device starved");
	EXPECT_EQ(0, ta.err);
	EXPECT_EQ(0, tb.err);
	EXPECT_EQ(0, vmm_poll_fd(q->err_fd));

	/* Idle now: the worker does not spin. */
	t0 = rt_worker_ns(self->a.owner_tid);
	usleep(500 * 1000);
	t1 = rt_worker_ns(self->a.owner_tid);
	ASSERT_LE(0, t0);
	TH_LOG("idle worker: %lld us of CPU in 500 ms", (t1 - t0) / 1000);
	EXPECT_GT(IDLE_CPU_NS / 2, t1 - t0);
	free(as);
}

static void refill_big(struct vmm_vq *q)
{
	while (q->num_free && rt_post_rx_simple(q, 2048) >= 0)
		;
	vmm_kick(q);
}

/* Frames completed by device b's TX queue, one at a time, in @ms. */
static unsigned int ping_tx(struct rtdev *b, int ms, uint32_t *seq)
{
	struct vmm_vq *q = &b->v.vq[VMM_TX];
	long long end = vmm_now_ms() + ms;
	unsigned int n = 0;

	while (vmm_now_ms() < end) {
		if (post_tx(b, (*seq)++))
			break;
		vmm_kick(q);
		if (!rt_wait_used(q, q->used_idx + 1, WAIT_MS))
			break;
		vmm_reap(q, NULL, NULL);
		n++;
	}
	return n;
}

/*
 * Device a is flooded on both queues (a full TX ring kept full, RX
 * frames injected as fast as they go); device b sends one frame at a
 * time.  b keeps a fair share of its unloaded rate.
 */
TEST_F_TIMEOUT(flood, fairness, 120)
{
	struct load inj = { .d = &self->a }, ta = { .d = &self->a };
	struct vmm_vq *rq = &self->a.v.vq[VMM_RX];
	unsigned int alone, loaded;
	unsigned long a0, a1, r0, r1;
	pthread_t thi, tha;
	uint32_t seq = 0;
	long long end;
	uint32_t len;
	uint8_t buf[4096];

	if (_metadata->skip)
		return;
	alone = ping_tx(&self->b, 1000, &seq);
	refill_big(rq);
	ASSERT_EQ(0, pthread_create(&tha, NULL, tx_load_fn, &ta));
	ASSERT_EQ(0, pthread_create(&thi, NULL, inject_fn, &inj));
	usleep(200 * 1000);
	a0 = __atomic_load_n(&ta.count, __ATOMIC_RELAXED);
	r0 = rq->used_idx;
	loaded = 0;
	end = vmm_now_ms() + 2000;
	while (vmm_now_ms() < end) {
		loaded += ping_tx(&self->b, 100, &seq);
		while (rt_reap_rx(rq, buf, sizeof(buf), &len) == 1)
			;
		refill_big(rq);
	}
	a1 = __atomic_load_n(&ta.count, __ATOMIC_RELAXED);
	r1 = (uint16_t)(rq->used_idx - r0);
	__atomic_store_n(&inj.stop, 1, __ATOMIC_RELAXED);
	__atomic_store_n(&ta.stop, 1, __ATOMIC_RELAXED);
	pthread_join(thi, NULL);
	pthread_join(tha, NULL);
	TH_LOG("b alone: %u frames/s; b with a flooded: %u frames/s; a: TX %lu, RX %lu in 2 s",
	       alone, loaded / 2, a1 - a0, r1);
	EXPECT_LT(20UL, a1 - a0);
	EXPECT_LT(20UL, r1);
	EXPECT_LE(alone / 10, loaded / 2) TH_LOG("device b starved");
	EXPECT_LT(0U, loaded);
}

/* ------------------------------------------------------------------ */
/* Zero-length descriptors while dirty logging is on.                  */

FIXTURE(zlen) {
	struct rtdev d;
	struct rt_log log;
};

FIXTURE_SETUP(zlen)
{
	int r;

	SPLIT_ONLY_FIXTURE("split ring structures (packed: packed_test)");
	memset(&self->log, 0, sizeof(self->log));
	self->log.fd = -1;
	self->log.memfd = -1;
	r = rt_up(&self->d, RT_BASE_FEATURES, FLOOD_RING);
	if (rt_missing(r))
		SKIP(return, "%s: %s", ivhost_dev_path(), ivhost_strerror(r));
	ASSERT_EQ(0, r) TH_LOG("bring-up: %s", strerror(-r));
	ASSERT_EQ(0, rt_log_alloc(&self->log, rt_log_span(&self->d.v)));
	ASSERT_EQ(0, rt_log_start(&self->d.v, &self->log));
	ASSERT_EQ(0, vmm_set_backend(&self->d.v, VMM_RX, self->d.t.fd));
}

FIXTURE_TEARDOWN(zlen)
{
	rt_down(&self->d);
	rt_log_free(&self->log);
}

/*
 * Over vhost-user TX runs too (the fixture's comment, below), and with
 * ivhost-user its first round (which writes its used ring's flags) runs
 * on a datapath thread, before or after the log was cleared: the pages
 * of TX's used ring that RX did not write are not this test's, and
 * their marks, if any, are dropped.
 */
static void zlen_forget_tx_used(uint64_t *bits, struct vmm *v,
				const struct rt_pfns *want)
{
	struct vmm_vq *tx = &v->vq[VMM_TX];
	uint64_t gpa = vmm_gpa(v, tx->used), pfn;
	uint64_t last = gpa + sizeof(struct vring_used) + tx->num * 8 + 2 - 1;
	unsigned int k;

	for (pfn = gpa / RT_PAGE; pfn <= last / RT_PAGE; pfn++) {
		for (k = 0; k < want->n && want->p[k] != pfn; k++)
			;
		if (k == want->n)
			__atomic_and_fetch(&bits[pfn / 64], ~(1ULL << (pfn % 64)),
					   __ATOMIC_SEQ_CST);
	}
}

TEST_F_TIMEOUT(zlen, zero_length_descriptors_logged, 120)
{
	struct rtdev *d = &self->d;
	struct vmm_vq *q = &d->v.vq[VMM_RX];
	static const uint32_t c1[] = { 0, 100, 0, 1900, 0 };
	static const uint32_t c2[] = { 0, 0, 0, 0, 0, 0, 0, 1000,
				       0, 0, 0, 0, 0, 0, 0, 1000 };
	uint32_t c3[200], len;
	struct rt_pfns *want = calloc(1, sizeof(*want));
	uint8_t buf[4096];
	char msg[160];
	unsigned int i, n = 0;
	int heads[8];

	if (_metadata->skip)
		return;
	ASSERT_NE(NULL, want);
	if (ivhost_dev_is_user()) {
		size_t first, end;

		/*
		 * Over vhost-user, attaching RX enabled TX too (vu.c), and
		 * starting it may write its used ring: what follows is the
		 * test's.
		 */
		rt_log_guest_words(&self->log, &d->v, &first, &end);
		memset(self->log.bits + first, 0, (end - first) * 8);
	}
	for (i = 0; i < ARRAY_SIZE(c3); i++)
		c3[i] = i == ARRAY_SIZE(c3) - 1 ? 2048 : 0;
	heads[n++] = rt_post_rx(q, ARRAY_SIZE(c1), c1, 3000, 0);
	heads[n++] = rt_post_rx(q, ARRAY_SIZE(c2), c2, 100, 1);
	heads[n++] = rt_post_rx(q, ARRAY_SIZE(c1), c1, 0, 1);
	heads[n++] = rt_post_rx(q, ARRAY_SIZE(c3) - 150, c3 + 150, 0, 0);
	for (i = 0; i < n; i++)
		ASSERT_LE(0, heads[i]);
	ASSERT_EQ(0, vmm_kick(q));
	while (vmm_poll_fd(self->log.fd))
		;
	for (i = 0; i < n; i++)
		ASSERT_EQ(0, rt_inject(d, i, 1000 + 150 * i));
	ASSERT_TRUE(rt_wait_used(q, n, WAIT_MS));
	/* What the device wrote: the chains' first len bytes, the used ring. */
	rt_pfns_add(want, vmm_gpa(&d->v, q->used),
		    sizeof(struct vring_used) + q->num * 8 + 2);
	for (i = 0; i < n; i++) {
		struct vring_used_elem e = q->used->ring[i];

		EXPECT_EQ((uint32_t)heads[i], e.id);
		rt_pfns_add_chain(want, q, e.id, e.len);
		ASSERT_EQ(1, rt_reap_rx(q, buf, sizeof(buf), &len));
		EXPECT_EQ(d->hdr_len + 1000 + 150 * i, len);
		EXPECT_EQ((long)i, rt_frame_seq(buf + d->hdr_len,
						len - d->hdr_len));
	}
	EXPECT_EQ(0, vmm_poll_fd(q->err_fd));
	EXPECT_EQ(1, vmm_wait_fd(self->log.fd, WAIT_MS))
		TH_LOG("log eventfd not signalled");
	if (ivhost_dev_is_user())
		zlen_forget_tx_used(self->log.bits, &d->v, want);
	EXPECT_EQ(0, rt_log_check(&self->log, &d->v, want, msg, sizeof(msg)))
		TH_LOG("%s", msg);
	free(want);
}

/* ---- work per frame is bounded ---- */

/*
 * An RX ring of 32768 entries with MRG_RXBUF whose descriptors are
 * zero-length writable buffers, linked into four chains of 8192; the
 * avail ring names them in turn, 32768 times.  No frame ever fits: the
 * device tries chain after chain for it, each a walk of 8192
 * descriptors.  It bounds the descriptors it walks for one frame (at
 * most 32768, so the fifth chain is one too many: the frame is dropped
 * like one that can never fit) and in a round, so an ioctl that waits
 * for the queue (GET_VRING_BASE, or an INVALIDATE's barrier with the
 * device IOTLB) returns within a bound while frames come in, and the
 * kernel reports no soft lockup or hung task.  Two frames first, then,
 * if those were quick, a burst of 256 (a round's worth of frames).
 *
 * Without the bound the device walks 1024 chains (the most one frame
 * may take) for each frame: 8 million descriptors, 2 to 4 s under TCG,
 * for one frame.  (Chains of all 32768 descriptors would make that 33
 * million, which on a loaded TCG host holds the queue for many minutes;
 * and so would a burst: a test must fail, not hang.)
 */
#define ZNUM		32768
#define ZCHAIN		8192
#define ZFIRST		2
#define ZBURST		256
#define ZMAX_MS		2000
#define ZWAIT_MS	60000
/* An IOVA no buffer uses: its INVALIDATE only waits for the queues. */
#define ZFAR_IOVA	0x100000000000ULL

FIXTURE(zchain) {
	struct it it;
};

FIXTURE_VARIANT(zchain) {
	int iotlb;
};

FIXTURE_VARIANT_ADD(zchain, plain) {
	.iotlb = 0,
};

FIXTURE_VARIANT_ADD(zchain, iotlb) {
	.iotlb = 1,
};

FIXTURE_SETUP(zchain)
{
	uint64_t want = RT_BASE_FEATURES | F(VIRTIO_NET_F_MRG_RXBUF);
	int r;

	SPLIT_ONLY_FIXTURE("split ring structures (packed: packed_test)");
	rt_init(&self->it.d);
	KERNEL_ONLY_FIXTURE("ivhost-only, on the kernel worker's budget");
	if (variant->iotlb)
		r = it_up(&self->it, want, ZNUM);
	else
		r = rt_up(&self->it.d, want, ZNUM);
	if (rt_missing(r))
		SKIP(return, "%s: %s", ivhost_dev_path(), ivhost_strerror(r));
	if (r == -EOPNOTSUPP)
		SKIP(return, "%s does not offer ACCESS_PLATFORM",
		     ivhost_dev_path());
	ASSERT_EQ(0, r) TH_LOG("bring-up: %s", strerror(-r));
	ASSERT_TRUE(!!(self->it.d.v.features & F(VIRTIO_NET_F_MRG_RXBUF)));
	if (variant->iotlb)
		ASSERT_EQ(IT_MSG_SIZE, it_map_all(&self->it));
}

FIXTURE_TEARDOWN(zchain)
{
	it_down(&self->it);
}

struct prober {
	struct it *it;
	int iotlb;
	volatile int stop;
	long long max_ms, calls;
	int err;
};

/* Time ioctls that wait for the RX queue's round, until told to stop. */
static void *prober(void *arg)
{
	struct prober *p = arg;
	unsigned int base;
	long long t, dt;
	int r;

	while (!p->stop) {
		t = vmm_now_ms();
		if (p->iotlb)
			r = it_unmap(p->it, ZFAR_IOVA, RT_PAGE) == IT_MSG_SIZE ?
			    0 : -EIO;
		else
			r = vmm_vq_get_base(&p->it->d.v, VMM_RX, &base);
		dt = vmm_now_ms() - t;
		if (r && !p->err)
			p->err = r;
		if (dt > p->max_ms)
			p->max_ms = dt;
		p->calls++;
		usleep(2000);
	}
	return NULL;
}

/* Whether the tap still holds a frame the device has not taken. */
static int tap_pending(struct rtdev *d)
{
	struct pollfd p = { .fd = d->t.fd, .events = POLLIN };

	return poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}

/* Kernel log lines since @fd was opened that tell of a stuck CPU/task. */
static int kmsg_lockups(int fd, char *first, size_t size)
{
	char rec[1024];
	ssize_t n;
	int found = 0;

	if (fd < 0)
		return 0;
	for (;;) {
		n = read(fd, rec, sizeof(rec) - 1);
		if (n < 0 && errno == EPIPE)
			continue;	/* overwritten records */
		if (n <= 0)
			break;
		while (n && rec[n - 1] == '\n')
			n--;
		rec[n] = 0;
		if (strstr(rec, "soft lockup") ||
		    strstr(rec, "blocked for more than") ||
		    strstr(rec, "rcu_sched self-detected stall") ||
		    strstr(rec, "rcu_preempt self-detected stall")) {
			if (!found++)
				snprintf(first, size, "%.200s",
					 strchr(rec, ';') ? strchr(rec, ';') + 1 :
							    rec);
		}
	}
	return found;
}

/* Inject @n frames and wait for the device to take them all. */
static long long zchain_frames(struct __test_metadata *_metadata,
			       struct rtdev *d, uint32_t seq, unsigned int n)
{
	long long start = vmm_now_ms();
	unsigned int i;

	for (i = 0; i < n; i++)
		EXPECT_EQ(0, rt_inject(d, seq + i, 60));
	while (tap_pending(d) && vmm_now_ms() - start < ZWAIT_MS)
		usleep(5000);
	return tap_pending(d) ? -1 : vmm_now_ms() - start;
}

TEST_F_TIMEOUT(zchain, ivhost_only_rx_zero_length_chain_work_bounded, 300)
{
	struct rtdev *d = &self->it.d;
	struct vmm_vq *q = &d->v.vq[VMM_RX];
	struct prober p = { .it = &self->it, .iotlb = variant->iotlb };
	char lockup[512] = "";
	long long one, burst = -2;
	unsigned int i;
	pthread_t th;
	int kmsg, locks;

	IVHOST_ONLY();
	for (i = 0; i < ZNUM; i++) {
		int last = i % ZCHAIN == ZCHAIN - 1;

		q->desc[i].addr = vmm_gpa(&d->v, q->slab);
		q->desc[i].len = 0;
		q->desc[i].flags = VRING_DESC_F_WRITE |
				   (last ? 0 : VRING_DESC_F_NEXT);
		q->desc[i].next = last ? 0 : i + 1;
		q->avail->ring[i] = (i % (ZNUM / ZCHAIN)) * ZCHAIN;
	}
	q->avail_idx = ZNUM;
	__atomic_store_n(&q->avail->idx, q->avail_idx, __ATOMIC_RELEASE);
	if (variant->iotlb) {
		ASSERT_EQ(0, it_attach(&self->it, VMM_RX));
	} else {
		ASSERT_EQ(0, vmm_set_backend(&d->v, VMM_RX, d->t.fd));
	}
	ASSERT_EQ(0, vmm_kick(q));
	usleep(100 * 1000);

	kmsg = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (kmsg >= 0)
		lseek(kmsg, 0, SEEK_END);
	ASSERT_EQ(0, pthread_create(&th, NULL, prober, &p));
	one = zchain_frames(_metadata, d, 0, ZFIRST);
	if (one >= 0 && one < ZMAX_MS / 4 && p.max_ms < ZMAX_MS / 4)
		burst = zchain_frames(_metadata, d, ZFIRST, ZBURST);
	usleep(200 * 1000);
	p.stop = 1;
	pthread_join(th, NULL);
	locks = kmsg_lockups(kmsg, lockup, sizeof(lockup));
	if (kmsg >= 0)
		close(kmsg);
	TH_LOG("%s: %d frames taken in %lld ms, a burst of %d in %lld ms (-2: not tried); %s took at most %lld ms (%lld calls)",
	       variant->iotlb ? "iotlb" : "plain", ZFIRST, one, ZBURST, burst,
	       variant->iotlb ? "INVALIDATE" : "GET_VRING_BASE", p.max_ms,
	       p.calls);
	EXPECT_EQ(0, p.err);
	EXPECT_GT(ZMAX_MS, p.max_ms)
		TH_LOG("an ioctl waited %lld ms for the RX queue's round",
		       p.max_ms);
	EXPECT_LE(0, one) TH_LOG("the frames were not taken within %d s",
				 ZWAIT_MS / 1000);
	EXPECT_NE(-1, burst) TH_LOG("the burst was not taken within %d s",
				    ZWAIT_MS / 1000);
	EXPECT_EQ(0, locks) TH_LOG("kernel: %s", lockup);
	EXPECT_EQ(0, vmm_used_idx(q));
	EXPECT_EQ(0, vmm_poll_fd(q->err_fd));
}

TEST_HARNESS_MAIN
