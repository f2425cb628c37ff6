// SPDX-License-Identifier: GPL-2.0
/*
 * TX path selftests: the guest's TX virtqueue to a tap.
 *
 * Every test plays the guest driver with the test VMM library
 * (tools/testing/vmm) against the device named by $IVHOST_DEV, so the same
 * binary runs against ivhost and, for parity, the kernel's /dev/vhost-net.
 * What the device transmits is captured with an AF_PACKET socket bound to
 * the tap.
 *
 * What the tap does with a frame: a frame shorter than an Ethernet header
 * (14 bytes, after any virtio-net header the tap consumes) is refused by
 * tun with EINVAL; the device consumes it and it never appears.  Every
 * frame of 14 to 65535 bytes is delivered, so the streams below expect
 * exactly those, byte-exact and in order.
 *
 * Runtime: the tests are sized for software-emulated qemu; most frames of
 * the big streams are Ethernet-sized, with a few up to 64 KiB.
 *
 * Tests:
 *   stream.*              10,000 frames (2,000 legacy) of 1..65535 bytes,
 *                         direct/chained/indirect, for each header set-up
 *   tx.used_entries       used ids in order, len 0
 *   tx.call_after_used, tx.no_interrupt, tx.event_idx, tx.notify_on_empty
 *                         call eventfd and its suppression
 *   tx.detach_reattach    NET_SET_BACKEND -1 mid-burst, GET/SET_VRING_BASE,
 *                         reattach: no loss, no duplicate, across the wrap
 *   tx.close_while_running, tx.exit_while_running,
 *   tx.reset_owner_while_running
 *                         teardown under traffic, then a fresh set-up works
 *   tx.one_kick_many_frames  several rounds (weights) from one kick
 *   tx.buffers_across_regions, tx.mem_table_swap_while_running
 *                         multi-region translation, table replacement
 *   tx.ivhost_only_bad_chain_stops_queue  README's stopped-queue rule
 *   macvtap.stream        the macvtap backend (skipped without macvtap)
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/if_tun.h>
#include <linux/virtio_config.h>
#include <linux/virtio_net.h>
#include <linux/virtio_ring.h>
#include <linux/vhost.h>

#include "kselftest_harness.h"
#include "harness_filter.h"
#include "common.h"
#include "vmm.h"

#define F(bit)		(1ULL << (bit))
#define ETH_HDR_LEN	14
#define RING_NUM	256
#define IDLE_MS		10000
/* How long a notification that must not come is waited for. */
#define QUIET_MS	300

#define BASE_FEATURES	(F(VIRTIO_F_VERSION_1) | F(VIRTIO_RING_F_INDIRECT_DESC))
/* The usual set-up: the device strips the guest's virtio-net header. */
#define NET_FEATURES	(BASE_FEATURES | F(VHOST_NET_F_VIRTIO_NET_HDR))

/* Frame sizes: mostly Ethernet-sized, some jumbo, a few up to 64 KiB, and
 * every interesting edge now and then.  Deterministic in seq.
 */
static size_t mixed_len(uint32_t seq)
{
	static const size_t edge[] = {
		1, 13, 14, 15, 17, 18, 60, 64, 1500, 1514, 1518, 2048,
		4095, 4096, 4097, 9000, 16384, 32768, 65534, 65535,
	};
	uint32_t h = seq * 0x9e3779b1u;
	uint32_t r;

	if (seq % 53 == 0)
		return edge[(seq / 53) % ARRAY_SIZE(edge)];
	h ^= h >> 16;
	h *= 0x85ebca6bu;
	h ^= h >> 13;
	r = h % 1000;
	h /= 1000;
	if (r < 850)
		return ETH_HDR_LEN + h % (1514 - ETH_HDR_LEN + 1);
	if (r < 980)
		return 1 + h % 9000;
	return 1 + h % 65535;
}

/* A device under test with a tap as its TX backend. */
struct txdev {
	struct vmm v;
	struct vmm_tap t;
	size_t hdr_len;		/* virtio-net header the guest prepends */
	int outgoing;		/* capture sees frames leaving, not arriving */
};

static void txdev_init(struct txdev *d)
{
	memset(d, 0, sizeof(*d));
	vmm_init_closed(&d->v, &d->t);
}

/*
 * Bring the device up with @want & offered features and attach a fresh tap
 * to the TX queue, whose indexes start at @base, with rings of @num.  @guest_hdr: the guest
 * prepends a virtio-net header; @tap_hdr: the tap takes it (IFF_VNET_HDR),
 * otherwise the device strips it (VHOST_NET_F_VIRTIO_NET_HDR must be in
 * @want).  Returns 0, or -errno; -ENOENT / -ENODEV mean "no such device".
 */
static int txdev_up_num(struct txdev *d, uint64_t want, int guest_hdr,
			int tap_hdr, uint16_t base, unsigned int num)
{
	int r;

	txdev_init(d);
	r = vmm_bringup(&d->v, ivhost_dev_path(), want, num, 0);
	if (r)
		return r;
	d->hdr_len = guest_hdr ? vmm_net_hdr_len(d->v.features) : 0;
	r = vmm_tap_open(&d->t, tap_hdr ? (int)d->hdr_len : 0);
	if (r)
		return r;
	if (base) {
		r = vmm_vq_setup(&d->v, VMM_TX, base);
		if (r)
			return r;
	}
	return vmm_set_backend(&d->v, VMM_TX, d->t.fd);
}

static int txdev_up(struct txdev *d, uint64_t want, int guest_hdr,
		    int tap_hdr, uint16_t base)
{
	return txdev_up_num(d, want, guest_hdr, tap_hdr, base, RING_NUM);
}

static void txdev_down(struct txdev *d)
{
	vmm_close(&d->v);
	vmm_tap_close(&d->t);
}

static int dev_missing(int r)
{
	return r == -ENOENT || r == -ENODEV || r == -ENXIO ||
	       r == IVHOST_NO_LAYOUT;
}

/*
 * Post up to @count generated frames from @seq on (modes rotating by seq),
 * stopping early when a chain might not fit.  Returns the number posted.
 */
static int post_frames(struct txdev *d, uint32_t seq, unsigned int count,
		       size_t (*len_of)(uint32_t))
{
	static uint8_t frame[70000];
	static const uint8_t hdr[32];
	struct vmm_vq *q = &d->v.vq[VMM_TX];
	unsigned int i;
	int r;

	for (i = 0; i < count && q->num_free >= VMM_MAX_SEGS; i++, seq++) {
		size_t len = len_of(seq);

		vmm_gen_frame(seq, frame, len);
		r = vmm_post_tx(q, hdr, d->hdr_len, frame, len, seq % 3,
				vmm_tx_nseg(seq));
		if (r < 0)
			return r;
	}
	return i;
}

/* The next captured frame: vmm_tap_recv(), or for a macvtap backend the
 * frames its lower device transmits.
 */
static ssize_t capture_recv(struct txdev *d, void *buf, size_t size,
			    int timeout_ms)
{
	long long end = vmm_now_ms() + timeout_ms;

	if (!d->outgoing)
		return vmm_tap_recv(&d->t, buf, size, timeout_ms);
	for (;;) {
		struct sockaddr_ll from;
		socklen_t fl = sizeof(from);
		struct pollfd p = { .fd = d->t.pkt_fd, .events = POLLIN };
		ssize_t n = recvfrom(d->t.pkt_fd, buf, size,
				     MSG_TRUNC | MSG_DONTWAIT,
				     (struct sockaddr *)&from, &fl);
		long long left;

		if (n >= 0) {
			const uint8_t *f = buf;

			/* Only our frames: the host's own (IPv6 and such)
			 * leave through the lower device too.
			 */
			if (from.sll_pkttype != PACKET_OUTGOING || n < 14 ||
			    size < 14 || f[12] != 0x88 || f[13] != 0xb5)
				continue;
			return n;
		}
		if (errno != EAGAIN && errno != EINTR)
			return -errno;
		left = end - vmm_now_ms();
		if (left <= 0)
			return -EAGAIN;
		poll(&p, 1, (int)left);
	}
}

/*
 * Receive the frames of seq [@seq, @seq + @count) that the tap delivers,
 * checking each; returns 0, or -ETIMEDOUT / -EBADMSG with @msg filled.
 */
static int expect_frames(struct txdev *d, uint32_t seq, unsigned int count,
			 size_t (*len_of)(uint32_t), char *msg, size_t msz)
{
	static uint8_t want[70000], got[70000];
	unsigned int i;

	for (i = 0; i < count; i++, seq++) {
		size_t len = len_of(seq);
		ssize_t n;

		if (len < ETH_HDR_LEN)
			continue;
		n = capture_recv(d, got, sizeof(got), IDLE_MS);
		if (n < 0) {
			snprintf(msg, msz, "seq %u (len %zu) never arrived",
				 seq, len);
			return -ETIMEDOUT;
		}
		vmm_gen_frame(seq, want, len);
		if ((size_t)n != len || memcmp(want, got, len)) {
			snprintf(msg, msz,
				 "seq %u: want len %zu, got len %zd%s", seq,
				 len, n, (size_t)n == len ? " (bytes differ)" : "");
			return -EBADMSG;
		}
	}
	return 0;
}

/* Nothing more arrives on the tap within @ms. */
static int tap_quiet(struct txdev *d, int ms)
{
	static uint8_t buf[70000];

	return capture_recv(d, buf, sizeof(buf), ms) == -EAGAIN;
}

/* Wait until used->idx reaches @idx; 0 on timeout. */
static int wait_used(struct vmm_vq *q, uint16_t idx, int timeout_ms)
{
	long long end = vmm_now_ms() + timeout_ms;

	while ((int16_t)(vmm_used_idx(q) - idx) < 0) {
		if (vmm_now_ms() > end)
			return 0;
		usleep(1000);
	}
	return 1;
}

static int reap_all(struct vmm_vq *q)
{
	int n = 0, r;

	while ((r = vmm_reap(q, NULL, NULL)) == 1)
		n++;
	return r < 0 ? r : n;
}

/* ------------------------------------------------------------------ */
/* Streams of 10,000 frames, in each way a header can be handled.      */

FIXTURE(stream) {
	struct txdev d;
};

FIXTURE_VARIANT(stream) {
	uint64_t features;
	int guest_hdr;		/* guest prepends a virtio-net header */
	int tap_hdr;		/* ... which the tap (IFF_VNET_HDR) takes */
	unsigned int count;
	uint16_t base;		/* starting ring index */
	int ivhost_only;	/* skipped on other devices */
};

/* The device strips the guest's 12-byte header.  Starts near the index
 * wrap.
 */
FIXTURE_VARIANT_ADD(stream, vhost_hdr) {
	.features = NET_FEATURES | F(VIRTIO_RING_F_EVENT_IDX),
	.guest_hdr = 1,
	.count = 10000,
	.base = 65000,
};

/* No VHOST_NET_F_VIRTIO_NET_HDR: the header passes through the device and
 * the tap (IFF_VNET_HDR) consumes it, as QEMU sets it up.
 */
FIXTURE_VARIANT_ADD(stream, tap_vnet_hdr) {
	.features = BASE_FEATURES | F(VIRTIO_RING_F_EVENT_IDX),
	.guest_hdr = 1,
	.tap_hdr = 1,
	.count = 10000,
};

/* Legacy 10-byte header stripped by the device, plain interrupts. */
FIXTURE_VARIANT_ADD(stream, legacy_hdr) {
	.features = F(VIRTIO_RING_F_INDIRECT_DESC) |
		    F(VHOST_NET_F_VIRTIO_NET_HDR),
	.guest_hdr = 1,
	.count = 2000,
};

/*
 * No header anywhere: without VHOST_NET_F_VIRTIO_NET_HDR ivhost hands the
 * socket the whole buffer, so a plain tap gets it as the frame.  vhost_net
 * instead strips sock_hlen bytes from frames that fit its batched (XDP)
 * path but not from larger ones, and stalls on a buffer shorter than
 * sock_hlen, so this is ivhost-only.
 */
FIXTURE_VARIANT_ADD(stream, ivhost_only_no_hdr) {
	.features = BASE_FEATURES | F(VIRTIO_RING_F_EVENT_IDX),
	.count = 10000,
	.ivhost_only = 1,
};

FIXTURE_SETUP(stream)
{
	int r;

	txdev_init(&self->d);
	if (variant->ivhost_only)
		IVHOST_ONLY();
	r = txdev_up(&self->d, variant->features, variant->guest_hdr,
		     variant->tap_hdr, variant->base);
	LAYOUT_SKIP_FIXTURE(r, txdev_down(&self->d));
	if (dev_missing(r))
		SKIP(return, "%s: %s", ivhost_dev_path(), ivhost_strerror(r));
	ASSERT_EQ(0, r) TH_LOG("bring-up: %s", strerror(-r));
	if (variant->guest_hdr && !variant->tap_hdr)
		ASSERT_TRUE(!!(self->d.v.features &
				 F(VHOST_NET_F_VIRTIO_NET_HDR)));
}

FIXTURE_TEARDOWN(stream)
{
	txdev_down(&self->d);
}

TEST_F_TIMEOUT(stream, mixed_sizes_and_layouts, 300)
{
	struct vmm_tx_opts o = {
		.count = variant->count,
		.len_of = mixed_len,
		.mode = -1,
		.hdr_len = self->d.hdr_len,
		.min_arrive = ETH_HDR_LEN,
		.idle_timeout_ms = IDLE_MS,
	};
	struct vmm_tx_stats st;
	int r;

	if (_metadata->skip)
		return;
	r = vmm_tx_stream(&self->d.v, &self->d.t, &o, &st);
	TH_LOG("%u frames (%u expected on the tap, %llu bytes) in %lld ms, %u kicks, %u calls, %u drops",
	       st.posted, st.expected, st.bytes_received, st.elapsed_ms,
	       st.kicks, st.calls, st.drops);
	ASSERT_EQ(0, r) TH_LOG("%s", st.msg);
	EXPECT_EQ(o.count, st.reaped);
	EXPECT_EQ(st.expected, st.received);
	EXPECT_EQ(0U, st.drops);
	EXPECT_LT(st.not_arriving, o.count / 10);
	/* The device has caught up: used->idx matches avail->idx. */
	EXPECT_EQ(self->d.v.vq[VMM_TX].avail_idx,
		  vmm_used_idx(&self->d.v.vq[VMM_TX]));
	/* Nothing ever went wrong with the ring. */
	EXPECT_EQ(0, vmm_poll_fd(self->d.v.vq[VMM_TX].err_fd));
}

/* ------------------------------------------------------------------ */
/* Single-device tests.                                                */

FIXTURE(tx) {
	struct txdev d;
};

FIXTURE_SETUP(tx)
{
	txdev_init(&self->d);
}

FIXTURE_TEARDOWN(tx)
{
	txdev_down(&self->d);
}

#define TX_UP_NUM(want, guest_hdr, tap_hdr, base, num) do {		\
	int __r = txdev_up_num(&self->d, want, guest_hdr, tap_hdr,	\
			       base, num);				\
	if (dev_missing(__r))						\
		SKIP(return, "%s: %s", ivhost_dev_path(),		\
		     ivhost_strerror(__r));					\
	ASSERT_EQ(0, __r) TH_LOG("bring-up: %s", strerror(-__r));	\
} while (0)

#define TX_UP(want, guest_hdr, tap_hdr, base)				\
	TX_UP_NUM(want, guest_hdr, tap_hdr, base, RING_NUM)

static size_t eth_len(uint32_t seq)
{
	return 60 + seq % 1455;
}

/* One frame of each layout: ids come back in order, with len 0. */
TEST_F(tx, used_entries)
{
	struct vmm_vq *q;
	int heads[3], i, r;
	uint32_t id, len;
	char msg[128];
	static uint8_t frame[2000];
	static const uint8_t hdr[12];

	TX_UP(NET_FEATURES, 1, 0, 0);
	q = &self->d.v.vq[VMM_TX];
	for (i = 0; i < 3; i++) {
		vmm_gen_frame(i, frame, eth_len(i));
		heads[i] = vmm_post_tx(q, hdr, self->d.hdr_len, frame,
				       eth_len(i), i, 3);
		ASSERT_LE(0, heads[i]);
	}
	ASSERT_EQ(0, vmm_kick(q));
	ASSERT_EQ(0, expect_frames(&self->d, 0, 3, eth_len, msg, sizeof(msg)))
		TH_LOG("%s", msg);
	ASSERT_TRUE(wait_used(q, 3, IDLE_MS));
	for (i = 0; i < 3; i++) {
		r = vmm_reap(q, &id, &len);
		ASSERT_EQ(1, r);
		EXPECT_EQ((uint32_t)heads[i], id);
		EXPECT_EQ(0U, len);
	}
	EXPECT_EQ(0, vmm_reap(q, &id, &len));
	EXPECT_TRUE(tap_quiet(&self->d, 100));
}

/* A used update is followed by a signal on the call eventfd. */
TEST_F(tx, call_after_used)
{
	struct vmm_vq *q;
	char msg[128];
	int round;

	TX_UP(NET_FEATURES, 1, 0, 0);
	q = &self->d.v.vq[VMM_TX];
	for (round = 0; round < 5; round++) {
		vmm_poll_fd(q->call_fd);
		ASSERT_EQ(1, post_frames(&self->d, round, 1, eth_len));
		ASSERT_EQ(0, vmm_kick(q));
		ASSERT_EQ(1, vmm_wait_fd(q->call_fd, IDLE_MS))
			TH_LOG("round %d: no call", round);
		/* The signal comes after the used entry is visible. */
		EXPECT_EQ(round + 1, vmm_used_idx(q));
		ASSERT_EQ(1, reap_all(q));
		ASSERT_EQ(0, expect_frames(&self->d, round, 1, eth_len, msg,
					   sizeof(msg)))
			TH_LOG("%s", msg);
	}
	/* Idle device with no EVENT_IDX: it wants kicks again. */
	EXPECT_EQ(0, vmm_notify_off(q));
}

/* VRING_AVAIL_F_NO_INTERRUPT suppresses calls (no EVENT_IDX, no
 * NOTIFY_ON_EMPTY); clearing it brings them back.
 */
TEST_F(tx, no_interrupt)
{
	struct vmm_vq *q;
	char msg[128];
	int i;

	TX_UP(NET_FEATURES, 1, 0, 0);
	q = &self->d.v.vq[VMM_TX];
	ASSERT_EQ(0ULL, self->d.v.features & F(VIRTIO_F_NOTIFY_ON_EMPTY));
	vmm_no_interrupt(q, 1);
	vmm_poll_fd(q->call_fd);
	for (i = 0; i < 8; i++) {
		ASSERT_EQ(1, post_frames(&self->d, i, 1, eth_len));
		ASSERT_EQ(0, vmm_kick(q));
		ASSERT_TRUE(wait_used(q, i + 1, IDLE_MS));
	}
	EXPECT_EQ(0, vmm_wait_fd(q->call_fd, QUIET_MS))
		TH_LOG("call despite VRING_AVAIL_F_NO_INTERRUPT");
	ASSERT_EQ(8, reap_all(q));

	vmm_no_interrupt(q, 0);
	ASSERT_EQ(1, post_frames(&self->d, 8, 1, eth_len));
	ASSERT_EQ(0, vmm_kick(q));
	EXPECT_EQ(1, vmm_wait_fd(q->call_fd, IDLE_MS));
	ASSERT_TRUE(wait_used(q, 9, IDLE_MS));
	ASSERT_EQ(1, reap_all(q));
	ASSERT_EQ(0, expect_frames(&self->d, 0, 9, eth_len, msg, sizeof(msg)))
		TH_LOG("%s", msg);
}

/* With EVENT_IDX the device signals exactly when used->idx passes the
 * driver's used_event, and asks for kicks through avail_event.
 */
TEST_F(tx, event_idx)
{
	struct vmm_vq *q;
	uint16_t u;
	char msg[128];
	int i, first;

	SPLIT_ONLY("used_event / avail_event (packed: packed_test)");
	TX_UP(NET_FEATURES | F(VIRTIO_RING_F_EVENT_IDX), 1, 0, 0);
	q = &self->d.v.vq[VMM_TX];
	ASSERT_TRUE(!!(self->d.v.features & F(VIRTIO_RING_F_EVENT_IDX)));
	/* Ask for a call on the first used entry (used_event 0). */
	__atomic_store_n(vmm_used_event(q), 0, __ATOMIC_SEQ_CST);
	vmm_poll_fd(q->call_fd);
	ASSERT_EQ(1, post_frames(&self->d, 0, 1, eth_len));
	ASSERT_EQ(0, vmm_kick(q));
	first = vmm_wait_fd(q->call_fd, IDLE_MS);
	EXPECT_EQ(1, first);
	ASSERT_TRUE(wait_used(q, 1, IDLE_MS));
	ASSERT_EQ(1, reap_all(q));

	/* Now: call when the entry at index 5 is used (idx 5 -> 6). */
	__atomic_store_n(vmm_used_event(q), 5, __ATOMIC_SEQ_CST);
	for (i = 1; i < 8; i++) {
		int want = i + 1 == 6;

		ASSERT_EQ(1, post_frames(&self->d, i, 1, eth_len));
		ASSERT_EQ(0, vmm_kick(q));
		ASSERT_TRUE(wait_used(q, i + 1, IDLE_MS));
		EXPECT_EQ(want, vmm_wait_fd(q->call_fd,
					    want ? IDLE_MS : QUIET_MS))
			TH_LOG("used idx %d: call %s", i + 1,
			       want ? "missing" : "unwanted");
		ASSERT_EQ(1, reap_all(q));
	}
	/* Idle: avail_event asks for a kick at the next avail index. */
	u = __atomic_load_n(vmm_avail_event(q), __ATOMIC_SEQ_CST);
	EXPECT_EQ(q->avail_idx, u);
	ASSERT_EQ(0, expect_frames(&self->d, 0, 8, eth_len, msg, sizeof(msg)))
		TH_LOG("%s", msg);
}

/*
 * Detach the backend in the middle of a burst, read the ring position,
 * give it back and reattach: every frame arrives exactly once, in order.
 * Also frames posted while detached wait for the reattach.
 */
TEST_F_TIMEOUT(tx, detach_reattach, 120)
{
	struct vmm_vq *q;
	uint32_t seq = 0, sent_to = 0;
	unsigned int base;
	uint16_t start = 65400, used, done;
	char msg[128];
	int cycle, n;

	TX_UP(NET_FEATURES | F(VIRTIO_RING_F_EVENT_IDX), 1, 0, start);
	q = &self->d.v.vq[VMM_TX];
	for (cycle = 0; cycle < 8; cycle++) {
		/* A burst, and detach while the device works on it. */
		n = post_frames(&self->d, seq, 32 - cycle * 2, mixed_len);
		ASSERT_LT(0, n);
		seq += n;
		ASSERT_EQ(0, vmm_kick(q));
		if (cycle & 1)
			usleep(1000 * (cycle % 4));
		ASSERT_EQ(0, vmm_set_backend(&self->d.v, VMM_TX, -1));
		ASSERT_EQ(0, vmm_vq_get_base(&self->d.v, VMM_TX, &base));
		if (!q->packed)
			ASSERT_GT(0x10000U, base);
		used = vmm_used_idx(q);
		/* TX completes in order: what was consumed is used. */
		EXPECT_EQ(vmm_vq_used_base(q), base);
		done = (uint16_t)(used - (uint16_t)(start + sent_to));
		ASSERT_GE(seq - sent_to, done);
		/* What was consumed has reached the tap. */
		ASSERT_EQ(0, expect_frames(&self->d, sent_to, done, mixed_len,
					   msg, sizeof(msg)))
			TH_LOG("cycle %d: %s", cycle, msg);
		sent_to += done;
		ASSERT_LE(0, reap_all(q));

		/* Detached: a kick moves nothing. */
		n = post_frames(&self->d, seq, 3, mixed_len);
		ASSERT_EQ(3, n);
		seq += n;
		ASSERT_EQ(0, vmm_kick(q));
		EXPECT_TRUE(tap_quiet(&self->d, 50));
		EXPECT_EQ(used, vmm_used_idx(q));

		ASSERT_EQ(0, vmm_vq_set_base(&self->d.v, VMM_TX, base));
		ASSERT_EQ(0, vmm_set_backend(&self->d.v, VMM_TX,
					     self->d.t.fd));
		/* Reattaching restarts the queue; no kick is needed. */
		ASSERT_EQ(0, expect_frames(&self->d, sent_to, seq - sent_to,
					   mixed_len, msg, sizeof(msg)))
			TH_LOG("cycle %d after reattach: %s", cycle, msg);
		sent_to = seq;
		ASSERT_TRUE(wait_used(q, start + seq, IDLE_MS));
		ASSERT_LE(0, reap_all(q));
		EXPECT_EQ(0U, vmm_inflight(q));
	}
	TH_LOG("%u frames over 8 detach/reattach cycles", seq);
	EXPECT_TRUE(tap_quiet(&self->d, 100));
	EXPECT_EQ(0, vmm_poll_fd(q->err_fd));
}

struct spammer {
	struct txdev *d;
	int stop;		/* set with __atomic_store_n() */
	unsigned long posted;
};

/* Keep the TX ring busy: reap, post small frames, kick. */
static void *spam_fn(void *arg)
{
	struct spammer *s = arg;
	struct vmm_vq *q = &s->d->v.vq[VMM_TX];
	static const uint8_t frame[128] = { 2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0,
					    2, 0x88, 0xb5 };
	static const uint8_t hdr[32];

	while (!__atomic_load_n(&s->stop, __ATOMIC_RELAXED)) {
		reap_all(q);
		while (q->num_free &&
		       !__atomic_load_n(&s->stop, __ATOMIC_RELAXED)) {
			if (vmm_post_tx(q, hdr, s->d->hdr_len, frame, sizeof(frame),
					s->posted % 3, 2) < 0)
				break;
			s->posted++;
		}
		vmm_kick(q);
		sched_yield();
	}
	return NULL;
}

static void drain_tap(struct txdev *d)
{
	while (!tap_quiet(d, 200))
		;
}

/* After the device is gone a fresh device works with the same tap. */
static void fresh_device_works(struct __test_metadata *_metadata,
			       struct txdev *d)
{
	struct vmm_tx_opts o = {
		.first_seq = 1000,
		.count = 300,
		.len_of = eth_len,
		.mode = -1,
		.min_arrive = ETH_HDR_LEN,
		.idle_timeout_ms = IDLE_MS,
	};
	struct vmm_tx_stats st;
	int r;

	drain_tap(d);
	r = vmm_bringup(&d->v, ivhost_dev_path(), NET_FEATURES, RING_NUM, 0);
	ASSERT_EQ(0, r) TH_LOG("fresh bring-up: %s", strerror(-r));
	d->hdr_len = vmm_net_hdr_len(d->v.features);
	o.hdr_len = d->hdr_len;
	ASSERT_EQ(0, vmm_set_backend(&d->v, VMM_TX, d->t.fd));
	r = vmm_tx_stream(&d->v, &d->t, &o, &st);
	ASSERT_EQ(0, r) TH_LOG("%s", st.msg);
}

/* close() of the device fd while another thread keeps the ring busy. */
TEST_F_TIMEOUT(tx, close_while_running, 120)
{
	struct spammer s = { .d = &self->d };
	pthread_t th;
	long long end;
	int fd;

	TX_UP(NET_FEATURES, 1, 0, 0);
	ASSERT_EQ(0, pthread_create(&th, NULL, spam_fn, &s));
	end = vmm_now_ms() + IDLE_MS;
	while ((uint16_t)vmm_used_idx(&self->d.v.vq[VMM_TX]) < 2 * RING_NUM &&
	       vmm_now_ms() < end)
		usleep(1000);
	EXPECT_LE(2 * RING_NUM, vmm_used_idx(&self->d.v.vq[VMM_TX]));
	fd = self->d.v.fd;
	self->d.v.fd = -1;
	EXPECT_EQ(0, close(fd));
	usleep(100 * 1000);
	__atomic_store_n(&s.stop, 1, __ATOMIC_RELAXED);
	pthread_join(th, NULL);
	TH_LOG("%lu frames posted around the close", s.posted);
	vmm_close(&self->d.v);

	fresh_device_works(_metadata, &self->d);
}

/* The owner exits (no close) while its ring is busy. */
TEST_F_TIMEOUT(tx, exit_while_running, 120)
{
	int status;
	pid_t pid;

	TX_UP(NET_FEATURES, 1, 0, 0);
	/* The child gets its own device; the parent keeps only the tap. */
	vmm_close(&self->d.v);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct spammer s = { .d = &self->d };
		pthread_t th;

		if (vmm_bringup(&self->d.v, ivhost_dev_path(), NET_FEATURES,
				RING_NUM, 0) ||
		    vmm_set_backend(&self->d.v, VMM_TX, self->d.t.fd))
			_exit(1);
		if (pthread_create(&th, NULL, spam_fn, &s))
			_exit(2);
		while (vmm_used_idx(&self->d.v.vq[VMM_TX]) < RING_NUM)
			usleep(1000);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));

	fresh_device_works(_metadata, &self->d);
}

static size_t big_or_eth(uint32_t seq)
{
	return seq % 25 == 7 ? 65535 - seq % 3 : eth_len(seq);
}

/*
 * A full ring posted before a single kick, with no kick after: the device
 * works through it in several rounds (packet and byte weights) without
 * needing another notification.
 */
TEST_F_TIMEOUT(tx, one_kick_many_frames, 120)
{
	unsigned int num = 1024, count = 1000;
	struct vmm_vq *q;
	char msg[128];
	int n;

	TX_UP_NUM(NET_FEATURES, 1, 0, 0, num);
	q = &self->d.v.vq[VMM_TX];
	for (n = 0; (unsigned int)n < count; n++) {
		static uint8_t frame[70000];
		static const uint8_t hdr[12];
		size_t len = big_or_eth(n);

		vmm_gen_frame(n, frame, len);
		ASSERT_LE(0, vmm_post_tx(q, hdr, self->d.hdr_len, frame, len,
					 VMM_DIRECT, 1));
	}
	ASSERT_EQ(0, vmm_kick(q));
	ASSERT_EQ(0, expect_frames(&self->d, 0, count, big_or_eth, msg,
				   sizeof(msg)))
		TH_LOG("%s", msg);
	ASSERT_TRUE(wait_used(q, count, IDLE_MS));
	EXPECT_EQ((int)count, reap_all(q));
	EXPECT_EQ(1, vmm_poll_fd(q->call_fd));
	EXPECT_TRUE(tap_quiet(&self->d, 100));
}

/*
 * Register guest memory as many regions, with boundaries inside data
 * buffers and inside indirect descriptors, so that buffers and tables
 * translate to several pieces.  @flip picks one of two cut sets.
 */
static int set_split_mem_table(struct txdev *d, int flip)
{
	struct {
		struct vhost_memory hdr;
		struct vhost_memory_region r[64];
	} m;
	struct vmm_vq *q = &d->v.vq[VMM_TX];
	size_t slab = q->slab - d->v.mem;
	size_t ind = (uint8_t *)q->indirect - d->v.mem;
	size_t cuts[63], prev = 0;
	unsigned int i, n = 0;

	for (i = 0; i < 40; i++)
		cuts[n++] = slab + (6 * i + 1 + flip) * (size_t)VMM_SLOT_SIZE +
			    1 + 97 * i;
	for (i = 0; i < 16; i++)
		cuts[n++] = ind + (16 * i + flip) * VMM_MAX_SEGS * 16 +
			    16 + 8 + i;
	memset(&m, 0, sizeof(m));
	for (i = 0; i <= n; i++) {
		size_t end = i < n ? cuts[i] : d->v.mem_size;

		m.r[i].guest_phys_addr = d->v.mem_gpa + prev;
		m.r[i].memory_size = end - prev;
		m.r[i].userspace_addr = (uintptr_t)d->v.mem + prev;
		prev = end;
	}
	m.hdr.nregions = n + 1;
	return vmm_ioctl(&d->v, VHOST_SET_MEM_TABLE, &m);
}

/* Buffers and indirect tables that cross memory regions. */
TEST_F_TIMEOUT(tx, buffers_across_regions, 120)
{
	struct vmm_tx_opts o = {
		.count = 3000,
		.len_of = mixed_len,
		.mode = -1,
		.min_arrive = ETH_HDR_LEN,
		.idle_timeout_ms = IDLE_MS,
	};
	struct vmm_tx_stats st;
	int r;

	KERNEL_ONLY("57 memory regions; vhost-user carries at most 8");
	TX_UP(NET_FEATURES | F(VIRTIO_RING_F_EVENT_IDX), 1, 0, 0);
	ASSERT_EQ(0, set_split_mem_table(&self->d, 0));
	o.hdr_len = self->d.hdr_len;
	r = vmm_tx_stream(&self->d.v, &self->d.t, &o, &st);
	ASSERT_EQ(0, r) TH_LOG("%s", st.msg);
	EXPECT_EQ(0, vmm_poll_fd(self->d.v.vq[VMM_TX].err_fd));
}

struct swapper {
	struct txdev *d;
	int stop;		/* set with __atomic_store_n() */
	unsigned int swaps, errors;
};

static void *swap_fn(void *arg)
{
	struct swapper *s = arg;

	while (!__atomic_load_n(&s->stop, __ATOMIC_RELAXED)) {
		int r;

		switch (s->swaps % 3) {
		case 0:
			r = set_split_mem_table(s->d, 0);
			break;
		case 1:
			r = set_split_mem_table(s->d, 1);
			break;
		default:
			r = vmm_set_mem_table(&s->d->v);
			break;
		}
		if (r)
			s->errors++;
		s->swaps++;
		usleep(500);
	}
	return NULL;
}

/* VHOST_SET_MEM_TABLE from another thread while a stream runs. */
TEST_F_TIMEOUT(tx, mem_table_swap_while_running, 120)
{
	struct vmm_tx_opts o = {
		.count = 3000,
		.len_of = mixed_len,
		.mode = -1,
		.min_arrive = ETH_HDR_LEN,
		.idle_timeout_ms = IDLE_MS,
	};
	struct swapper s = { .d = &self->d };
	struct vmm_tx_stats st;
	pthread_t th;
	int r;

	KERNEL_ONLY("57 memory regions; vhost-user carries at most 8");
	TX_UP(NET_FEATURES | F(VIRTIO_RING_F_EVENT_IDX), 1, 0, 0);
	o.hdr_len = self->d.hdr_len;
	ASSERT_EQ(0, pthread_create(&th, NULL, swap_fn, &s));
	r = vmm_tx_stream(&self->d.v, &self->d.t, &o, &st);
	__atomic_store_n(&s.stop, 1, __ATOMIC_RELAXED);
	pthread_join(th, NULL);
	TH_LOG("%u table swaps during the stream", s.swaps);
	ASSERT_EQ(0, r) TH_LOG("%s", st.msg);
	EXPECT_EQ(0U, s.errors);
	EXPECT_LT(2U, s.swaps);
	EXPECT_EQ(0, vmm_poll_fd(self->d.v.vq[VMM_TX].err_fd));
}

/*
 * Post a chain the TX queue must refuse at ring position @pos (a
 * device-writable buffer, or one shorter than the virtio-net header) and
 * two good frames after it: the queue stops, its err eventfd fires, nothing
 * after the bad chain is sent, and kicks do not restart it.  The bad chain
 * is not consumed: VHOST_GET_VRING_BASE points at it.  Moving the ring
 * position past it and reattaching restarts the queue.
 * (vhost_net instead drops the bad chain without a used entry and goes on.)
 */
static void bad_chain_stops_queue(struct __test_metadata *_metadata,
				  struct txdev *d, int writable, uint16_t pos,
				  uint32_t seq)
{
	struct vmm_vq *q = &d->v.vq[VMM_TX];
	unsigned int base;
	char msg[128];
	int head;

	head = vmm_desc_alloc(q, 1);
	ASSERT_LE(0, head);
	q->desc[head].addr = vmm_gpa(&d->v,
				     q->slab + (size_t)head * VMM_SLOT_SIZE);
	q->desc[head].len = writable ? 100 : d->hdr_len - 1;
	q->desc[head].flags = writable ? VRING_DESC_F_WRITE : 0;
	q->desc[head].next = 0;
	vmm_publish(q, head);
	ASSERT_EQ(2, post_frames(d, seq, 2, eth_len));
	ASSERT_EQ(0, vmm_kick(q));
	EXPECT_EQ(1, vmm_wait_fd(q->err_fd, IDLE_MS));
	EXPECT_TRUE(tap_quiet(d, QUIET_MS));
	ASSERT_EQ(0, vmm_kick(q));
	EXPECT_TRUE(tap_quiet(d, QUIET_MS));
	EXPECT_EQ(pos, vmm_used_idx(q));

	ASSERT_EQ(0, vmm_set_backend(&d->v, VMM_TX, -1));
	ASSERT_EQ(0, vmm_vq_get_base(&d->v, VMM_TX, &base));
	EXPECT_EQ(pos, base);
	/* The VMM skips the bad chain and gives its descriptor back. */
	ASSERT_EQ(0, vmm_vq_set_base(&d->v, VMM_TX, (uint16_t)(pos + 1)));
	q->used->idx = pos + 1;
	q->used->ring[pos % q->num].id = head;
	q->used->ring[pos % q->num].len = 0;
	ASSERT_EQ(0, vmm_set_backend(&d->v, VMM_TX, d->t.fd));
	ASSERT_EQ(0, expect_frames(d, seq, 2, eth_len, msg, sizeof(msg)))
		TH_LOG("%s", msg);
	ASSERT_TRUE(wait_used(q, pos + 3, IDLE_MS));
	ASSERT_EQ(3, reap_all(q));
	EXPECT_EQ(0, vmm_poll_fd(q->err_fd));
}

TEST_F(tx, ivhost_only_bad_chain_stops_queue)
{
	struct vmm_vq *q;
	char msg[128];

	IVHOST_ONLY();
	SPLIT_ONLY("split ring state (packed: packed_test)");
	TX_UP(NET_FEATURES, 1, 0, 0);
	q = &self->d.v.vq[VMM_TX];
	ASSERT_EQ(2, post_frames(&self->d, 0, 2, eth_len));
	ASSERT_EQ(0, vmm_kick(q));
	ASSERT_EQ(0, expect_frames(&self->d, 0, 2, eth_len, msg, sizeof(msg)))
		TH_LOG("%s", msg);
	ASSERT_TRUE(wait_used(q, 2, IDLE_MS));
	ASSERT_EQ(2, reap_all(q));

	bad_chain_stops_queue(_metadata, &self->d, 1, 2, 2);
	bad_chain_stops_queue(_metadata, &self->d, 0, 5, 4);
}

/* NOTIFY_ON_EMPTY: a call when the ring runs empty, NO_INTERRUPT or not. */
TEST_F(tx, notify_on_empty)
{
	struct vmm_vq *q;
	char msg[128];

	TX_UP(NET_FEATURES | F(VIRTIO_F_NOTIFY_ON_EMPTY), 1, 0, 0);
	q = &self->d.v.vq[VMM_TX];
	ASSERT_TRUE(!!(self->d.v.features & F(VIRTIO_F_NOTIFY_ON_EMPTY)));
	vmm_no_interrupt(q, 1);
	vmm_poll_fd(q->call_fd);
	ASSERT_EQ(20, post_frames(&self->d, 0, 20, eth_len));
	ASSERT_EQ(0, vmm_kick(q));
	EXPECT_EQ(1, vmm_wait_fd(q->call_fd, IDLE_MS));
	ASSERT_TRUE(wait_used(q, 20, IDLE_MS));
	ASSERT_EQ(20, reap_all(q));
	ASSERT_EQ(0, expect_frames(&self->d, 0, 20, eth_len, msg, sizeof(msg)))
		TH_LOG("%s", msg);
}

/* VHOST_RESET_OWNER while another thread keeps the ring busy; then the
 * same fd is set up again from scratch and carries traffic.
 */
TEST_F_TIMEOUT(tx, reset_owner_while_running, 120)
{
	struct vmm_tx_opts o = {
		.first_seq = 5000,
		.count = 300,
		.len_of = eth_len,
		.mode = -1,
		.min_arrive = ETH_HDR_LEN,
		.idle_timeout_ms = IDLE_MS,
	};
	struct spammer s = { .d = &self->d };
	struct vmm *v = &self->d.v;
	struct vmm_tx_stats st;
	long long end;
	pthread_t th;
	int r;

	KERNEL_ONLY("errno of the ioctls after VHOST_RESET_OWNER");
	TX_UP(NET_FEATURES, 1, 0, 0);
	ASSERT_EQ(0, pthread_create(&th, NULL, spam_fn, &s));
	end = vmm_now_ms() + IDLE_MS;
	while (vmm_used_idx(&v->vq[VMM_TX]) < RING_NUM && vmm_now_ms() < end)
		usleep(1000);
	EXPECT_EQ(0, vmm_ioctl(v, VHOST_RESET_OWNER, NULL));
	usleep(50 * 1000);
	__atomic_store_n(&s.stop, 1, __ATOMIC_RELAXED);
	pthread_join(th, NULL);
	drain_tap(&self->d);

	/* Without an owner the device refuses configuration. */
	EXPECT_EQ(-EPERM, vmm_set_mem_table(v));
	ASSERT_EQ(0, vmm_reown(v));
	ASSERT_EQ(0, vmm_set_backend(v, VMM_TX, self->d.t.fd));
	o.hdr_len = self->d.hdr_len;
	r = vmm_tx_stream(v, &self->d.t, &o, &st);
	ASSERT_EQ(0, r) TH_LOG("%s", st.msg);
}

/* ------------------------------------------------------------------ */
/* A macvtap backend: frames leave through the macvtap's lower device.  */

#define MVT_LOWER	"ivhdummy0"
#define MVT_NAME	"ivhmvt0"

FIXTURE(macvtap) {
	struct txdev d;
	char node[64];
};

FIXTURE_SETUP(macvtap)
{
	struct sockaddr_ll sll;
	int r, hdr, size = 64 << 20;
	char buf[32];

	KERNEL_ONLY_FIXTURE("a macvtap fd as the backend");
	txdev_init(&self->d);
	if (system("modprobe dummy 2>/dev/null; modprobe macvtap 2>/dev/null; "
		   "ip link add " MVT_LOWER " type dummy && "
		   "ip link add link " MVT_LOWER " name " MVT_NAME
		   " type macvtap mode bridge && "
		   "{ sysctl -qw net.ipv6.conf." MVT_LOWER ".disable_ipv6=1 "
		   "net.ipv6.conf." MVT_NAME ".disable_ipv6=1 2>/dev/null; "
		   "true; } && "
		   "ip link set " MVT_LOWER " up && "
		   "ip link set " MVT_NAME " up"))
		SKIP(return, "cannot create a macvtap");
	r = vmm_bringup(&self->d.v, ivhost_dev_path(),
			BASE_FEATURES | F(VIRTIO_RING_F_EVENT_IDX), RING_NUM, 0);
	if (dev_missing(r))
		SKIP(return, "%s: %s", ivhost_dev_path(), ivhost_strerror(r));
	ASSERT_EQ(0, r);
	self->d.hdr_len = vmm_net_hdr_len(self->d.v.features);
	self->d.outgoing = 1;

	/* The macvtap takes the header (it has IFF_VNET_HDR by default). */
	self->d.t.fd = vmm_macvtap_open(MVT_NAME, self->node,
					sizeof(self->node));
	ASSERT_LE(0, self->d.t.fd) TH_LOG("macvtap: %s",
					  strerror(-self->d.t.fd));
	hdr = self->d.hdr_len;
	ASSERT_EQ(0, ioctl(self->d.t.fd, TUNSETVNETHDRSZ, &hdr));

	ASSERT_EQ(0, vmm_read_sysfs("/sys/class/net/" MVT_LOWER "/ifindex", buf,
				sizeof(buf)));
	self->d.t.pkt_fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC,
				  htons(ETH_P_ALL));
	ASSERT_LE(0, self->d.t.pkt_fd);
	setsockopt(self->d.t.pkt_fd, SOL_SOCKET, SO_RCVBUFFORCE, &size,
		   sizeof(size));
	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = htons(ETH_P_ALL);
	sll.sll_ifindex = atoi(buf);
	ASSERT_EQ(0, bind(self->d.t.pkt_fd, (struct sockaddr *)&sll,
			  sizeof(sll)));
	ASSERT_EQ(0, vmm_set_backend(&self->d.v, VMM_TX, self->d.t.fd));
}

FIXTURE_TEARDOWN(macvtap)
{
	txdev_down(&self->d);
	if (self->node[0] == '/' && !strncmp(self->node, "/tmp/", 5))
		unlink(self->node);
	if (system("ip link del " MVT_NAME " 2>/dev/null; "
		   "ip link del " MVT_LOWER " 2>/dev/null"))
		(void)0;
}

/* Mixed frames through a macvtap, byte-exact and in order. */
TEST_F_TIMEOUT(macvtap, stream, 120)
{
	struct vmm_vq *q = &self->d.v.vq[VMM_TX];
	uint32_t seq = 0, count = 2000;
	char msg[128];
	int n;

	if (_metadata->skip)
		return;
	while (seq < count) {
		n = post_frames(&self->d, seq, count - seq < 64 ? count - seq : 64,
				mixed_len);
		ASSERT_LT(0, n);
		ASSERT_EQ(0, vmm_kick(q));
		ASSERT_EQ(0, expect_frames(&self->d, seq, n, mixed_len, msg,
					   sizeof(msg)))
			TH_LOG("%s", msg);
		seq += n;
		ASSERT_TRUE(wait_used(q, seq, IDLE_MS));
		ASSERT_EQ(n, reap_all(q));
	}
	EXPECT_TRUE(tap_quiet(&self->d, 100));
	EXPECT_EQ(0, vmm_poll_fd(q->err_fd));
}

TEST_HARNESS_MAIN
