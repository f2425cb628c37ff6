// SPDX-License-Identifier: GPL-2.0
/*
 * RX path selftests: frames from the backend into the guest's RX ring.
 *
 * Frames are injected from the host side with a send-only AF_PACKET
 * socket bound to the tap: the kernel transmits them on the tap, so they
 * queue on the tap's fd, which is the device's RX backend.  The test plays
 * the guest driver (tools/testing/vmm) and checks every received frame
 * byte for byte against the generator, with its virtio-net header.
 *
 * Tests:
 *   stream.*          random frames into random RX buffer layouts, for
 *                     each header set-up (device header 12 / 10 bytes,
 *                     tap header 12 / 10, with and without MRG_RXBUF)
 *   rx.tap_offload_header, rx.tap_gso_header
 *                     csum/GSO fields from the tap reach the guest
 *   rx.ring_dry_then_refill, rx.flood_beyond_tap_queue
 *                     no buffers: frames wait in the tap; nothing lost
 *                     beyond what the tap dropped, nothing duplicated
 *   rx.frame_too_big_dropped   no MRG, buffer too small: dropped, next ok
 *   rx.no_interrupt, rx.used_event, rx.avail_event, rx.no_notify
 *                     notification suppression both ways
 *   rx.busyloop       SET/GET_VRING_BUSYLOOP_TIMEOUT, traffic with it set
 *   rx.busyloop_does_not_starve_tx  a long RX busy-poll, TX still prompt
 *   rx.mrg_frame_waits_for_enough_buffers, rx.mrg_tiny_buffers,
 *   rx.detach_reattach_base,
 *   rx.teardown_while_receiving
 *   rx.ivhost_only_num_buffers_without_mrg,
 *   rx.ivhost_only_mrg_frame_larger_than_ring_dropped,
 *   rx.ivhost_only_readable_rx_buffer_stops_queue   (see each test)
 *   rx.tap_header_longer_than_guest_header_dropped
 *                     tap vnet header 12, guest header 10: frames
 *                     dropped, buffers kept, the queue keeps running
 *   rx.ivhost_only_rx_indirect_table_too_long_stops_queue
 *   rx.af_packet_backend   AF_PACKET SOCK_RAW as RX and TX backend
 *   rx.other_fds_enotsock  other sockets and files: ENOTSOCK
 *   rx.backend_swap_under_traffic  swap taps while frames flow
 *   rx.multiqueue     IFF_MULTI_QUEUE tap, one device per queue pair
 *   macvtap.rx_tx     macvtap over a veth, both directions
 *   rx.bidir_random_100k   100,000 frames each way, random sizes and
 *                     layouts, fixed seed (IVHOST_SEED overrides)
 *   rx.perf_pps       packets per second (information only)
 */
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
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

/* Why tests that set up the tap themselves skip on vhost-user. */
#define TAP_WHY "the test configures its tap; a vhost-user backend owns it"
#include "vmm.h"

#define F(bit)		(1ULL << (bit))
#define ETH_HDR_LEN	14
#define RING_NUM	256
#define IDLE_MS		10000
#define QUIET_MS	300
#define BIGBUF		(VMM_SLOT_SIZE - 2 * VMM_MAX_SEGS * VMM_SPLIT_GAP)
#define TAP_MTU		65000
#define MAX_FRAME	(TAP_MTU + ETH_HDR_LEN)

#define BASE_FEATURES	(F(VIRTIO_F_VERSION_1) | F(VIRTIO_RING_F_INDIRECT_DESC))
#define NET_FEATURES	(BASE_FEATURES | F(VHOST_NET_F_VIRTIO_NET_HDR))
#define MRG		F(VIRTIO_NET_F_MRG_RXBUF)
#define EVIDX		F(VIRTIO_RING_F_EVENT_IDX)

/* ---- deterministic randomness ---- */

static uint64_t rng_state;

static uint32_t rnd(void)
{
	uint64_t x = rng_state;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	rng_state = x;
	return (uint32_t)(x >> 16);
}

static void rnd_seed(struct __test_metadata *_metadata, uint64_t seed)
{
	const char *e = getenv("IVHOST_SEED");

	if (e && *e)
		seed = strtoull(e, NULL, 0);
	rng_state = seed ? seed : 1;
	TH_LOG("seed 0x%llx (IVHOST_SEED overrides)", (unsigned long long)seed);
}

/* Frame lengths: mostly Ethernet-sized, some jumbo, a few near the MTU. */
static size_t frame_len(uint32_t seq)
{
	uint32_t h = seq * 0x9e3779b1u, r;

	h ^= h >> 16;
	h *= 0x85ebca6bu;
	h ^= h >> 13;
	r = h % 1000;
	h /= 1000;
	if (seq % 97 == 0)
		return (seq / 97) % 2 ? ETH_HDR_LEN : MAX_FRAME;
	if (r < 900)
		return ETH_HDR_LEN + h % (1514 - ETH_HDR_LEN + 1);
	if (r < 990)
		return ETH_HDR_LEN + h % 9000;
	return ETH_HDR_LEN + h % TAP_MTU;
}

static size_t len_60(uint32_t seq)
{
	return 60;
}

static size_t len_1514(uint32_t seq)
{
	return 1514;
}

/* ---- a device with a tap on RX (and TX) ---- */

struct rxdev {
	struct vmm v;
	struct vmm_tap t;
	int inj;		/* AF_PACKET send socket on the tap */
	size_t hdr_len;		/* header the guest sees before each frame */
	int dev_hdr;		/* the device adds it (VHOST_NET_F_VIRTIO_NET_HDR) */
	int mrg;
	long long tap_drops0;	/* the tap's tx_dropped at bring-up */
};

/*
 * Frames the tap dropped on their way to the device since bring-up.  A
 * vhost-user backend's tap outlives the test, so its counter is not 0 at
 * the start as a fresh tap's is.
 */
static long long tap_drops(struct rxdev *d)
{
	return vmm_if_stat(d->t.name, "tx_dropped") - d->tap_drops0;
}

static void rxdev_init(struct rxdev *d)
{
	memset(d, 0, sizeof(*d));
	vmm_init_closed(&d->v, &d->t);
	d->inj = -1;
}

static int dev_missing(int r)
{
	return r == -ENOENT || r == -ENODEV || r == -ENXIO ||
	       r == IVHOST_NO_LAYOUT;
}

/*
 * Bring the device up with @want; @tap_hdr: the tap has IFF_VNET_HDR of the
 * guest's header size (and @want has no VHOST_NET_F_VIRTIO_NET_HDR), else
 * the device adds the header.  The tap is the RX and TX backend.
 */
static int rxdev_up(struct rxdev *d, uint64_t want, int tap_hdr,
		    unsigned int num)
{
	int r;

	rxdev_init(d);
	r = vmm_bringup(&d->v, ivhost_dev_path(), want, num, 0);
	if (r)
		return r;
	d->hdr_len = vmm_net_hdr_len(d->v.features);
	d->dev_hdr = !!(d->v.features & F(VHOST_NET_F_VIRTIO_NET_HDR));
	d->mrg = !!(d->v.features & MRG);
	if (!tap_hdr && !d->dev_hdr)
		d->hdr_len = 0;
	r = vmm_tap_open(&d->t, tap_hdr ? (int)d->hdr_len : 0);
	if (r)
		return r;
	r = vmm_if_set_mtu(d->t.name, TAP_MTU);
	if (!r)
		r = vmm_if_set_txqlen(d->t.name, 4096);
	if (r)
		return r;
	d->tap_drops0 = vmm_if_stat(d->t.name, "tx_dropped");
	d->inj = vmm_inject_open(d->t.ifindex, 0);
	if (d->inj < 0)
		return d->inj;
	r = vmm_set_backend(&d->v, VMM_RX, d->t.fd);
	if (!r)
		r = vmm_set_backend(&d->v, VMM_TX, d->t.fd);
	return r;
}

static void rxdev_down(struct rxdev *d)
{
	vmm_close(&d->v);
	vmm_tap_close(&d->t);
	if (d->inj >= 0)
		close(d->inj);
	d->inj = -1;
}

static int inject_seq(int fd, uint32_t seq, size_t len)
{
	static uint8_t frame[MAX_FRAME];

	vmm_gen_frame(seq, frame, len);
	return vmm_inject(fd, frame, len);
}

/* Post one RX buffer; sizes and layouts random when @rand_layout. */
static int post_rx_buf(struct rxdev *d, struct vmm_vq *q, int rand_layout,
		       size_t fixed)
{
	size_t len = fixed;
	int mode = VMM_DIRECT;
	unsigned int nseg = 1;

	if (rand_layout) {
		mode = rnd() % 3;
		nseg = 1 + rnd() % VMM_MAX_SEGS;
		if (d->mrg) {
			switch (rnd() % 4) {
			case 0:
				len = 64 + rnd() % 256;
				break;
			case 1:
				len = 1536;
				break;
			case 2:
				len = 64 + rnd() % 8192;
				break;
			default:
				len = 4096 + rnd() % 60000;
				break;
			}
		} else {
			len = BIGBUF;
		}
	}
	if (mode == VMM_CHAIN && q->num_free < nseg)
		return -ENOSPC;
	return vmm_post_rx(q, len, mode, nseg);
}

/* Keep the RX ring full; returns how many were posted. */
static int fill_rx(struct rxdev *d, int rand_layout, size_t fixed)
{
	struct vmm_vq *q = &d->v.vq[VMM_RX];
	int n = 0;

	while (q->num_free >= VMM_MAX_SEGS &&
	       post_rx_buf(d, q, rand_layout, fixed) >= 0)
		n++;
	if (n)
		vmm_kick(q);
	return n;
}

/*
 * Check one received frame (header + data in @buf, @total bytes) against
 * seq.  Returns 0 or -EBADMSG with @msg filled.
 */
static int check_frame(struct rxdev *d, const uint8_t *buf, ssize_t total,
		       unsigned int nbufs, uint32_t seq, size_t len,
		       char *msg, size_t msz)
{
	static uint8_t want[MAX_FRAME];
	static const uint8_t zero[12];
	size_t h = d->hdr_len;

	if (total != (ssize_t)(h + len)) {
		snprintf(msg, msz, "seq %u: got %zd bytes, want %zu + %zu",
			 seq, total, h, len);
		return -EBADMSG;
	}
	vmm_gen_frame(seq, want, len);
	if (memcmp(buf + h, want, len)) {
		snprintf(msg, msz, "seq %u (len %zu): data differs", seq, len);
		return -EBADMSG;
	}
	/* Header: all zero (no offloads on injected frames)... */
	if (memcmp(buf, zero, h < 10 ? h : 10)) {
		snprintf(msg, msz, "seq %u: header not zero", seq);
		return -EBADMSG;
	}
	/* ... and num_buffers = the used entries the frame took. */
	if (h == 12 && d->mrg && (buf[10] | buf[11] << 8) != (int)nbufs) {
		snprintf(msg, msz, "seq %u: num_buffers %u, took %u", seq,
			 buf[10] | buf[11] << 8, nbufs);
		return -EBADMSG;
	}
	/* Without MRG, num_buffers: see ivhost_only_num_buffers_without_mrg. */
	if (!d->mrg && nbufs != 1) {
		snprintf(msg, msz, "seq %u: %u buffers without MRG", seq,
			 nbufs);
		return -EBADMSG;
	}
	return 0;
}

struct rx_stats {
	unsigned int injected, received, calls;
	long long ms;
};

/*
 * Inject @count frames from @seq on (lengths from @len_of) and receive
 * them, keeping the ring full of random (or @fixed-size direct) buffers;
 * at most @window frames are outstanding, so the tap never overflows.
 */
static int rx_stream(struct rxdev *d, uint32_t seq, unsigned int count,
		     size_t (*len_of)(uint32_t), int rand_layout, size_t fixed,
		     unsigned int window, struct rx_stats *st, char *msg,
		     size_t msz)
{
	static uint8_t buf[VMM_SLOT_SIZE * 2];
	struct vmm_vq *q = &d->v.vq[VMM_RX];
	long long start = vmm_now_ms(), progress = start;
	unsigned int sent = 0, got = 0, nbufs;
	int r;

	memset(st, 0, sizeof(*st));
	fill_rx(d, rand_layout, fixed);
	while (got < count) {
		int progressed = 0;
		ssize_t n;

		while (sent < count && sent - got < window) {
			r = inject_seq(d->inj, seq + sent, len_of(seq + sent));
			if (r) {
				snprintf(msg, msz, "inject seq %u: %s",
					 seq + sent, strerror(-r));
				return r;
			}
			sent++;
			progressed = 1;
		}
		while ((n = vmm_rx_frame(q, d->mrg, buf, sizeof(buf), &nbufs,
					 IDLE_MS)) > 0) {
			r = check_frame(d, buf, n, nbufs, seq + got,
					len_of(seq + got), msg, msz);
			if (r)
				return r;
			got++;
			progressed = 1;
		}
		if (n < 0) {
			snprintf(msg, msz, "frame %u: reap error %s", got,
				 strerror((int)-n));
			return (int)n;
		}
		if (fill_rx(d, rand_layout, fixed))
			progressed = 1;
		r = vmm_idle_step(q, !!(d->v.features & EVIDX), progressed,
				  &progress, IDLE_MS, 20);
		if (r < 0) {
			snprintf(msg, msz,
				 "stalled: sent %u received %u, avail %u used %u",
				 sent, got, q->avail_idx, vmm_used_idx(q));
			return r;
		}
		st->calls += r;
	}
	st->injected = sent;
	st->received = got;
	st->ms = vmm_now_ms() - start;
	return 0;
}

/* ------------------------------------------------------------------ */

FIXTURE(stream) {
	struct rxdev d;
};

FIXTURE_VARIANT(stream) {
	uint64_t features;
	int tap_hdr;
	size_t hdr_len;
	unsigned int count;
};

/* Device adds a 12-byte header, frames span merged buffers. */
FIXTURE_VARIANT_ADD(stream, dev_hdr_mrg) {
	.features = NET_FEATURES | MRG | EVIDX,
	.hdr_len = 12,
	.count = 3000,
};

/* Device adds a 12-byte header (VERSION_1), one buffer per frame. */
FIXTURE_VARIANT_ADD(stream, dev_hdr_nomrg) {
	.features = NET_FEATURES,
	.hdr_len = 12,
	.count = 1500,
};

/* Legacy: 10-byte header from the device, no MRG. */
FIXTURE_VARIANT_ADD(stream, dev_hdr_legacy10) {
	.features = F(VIRTIO_RING_F_INDIRECT_DESC) |
		    F(VHOST_NET_F_VIRTIO_NET_HDR),
	.hdr_len = 10,
	.count = 1500,
};

/* Legacy with MRG: 12-byte header. */
FIXTURE_VARIANT_ADD(stream, dev_hdr_legacy_mrg) {
	.features = F(VIRTIO_RING_F_INDIRECT_DESC) |
		    F(VHOST_NET_F_VIRTIO_NET_HDR) | MRG,
	.hdr_len = 12,
	.count = 1500,
};

/* The tap's own 12-byte vnet header, num_buffers patched in. */
FIXTURE_VARIANT_ADD(stream, tap_hdr_mrg) {
	.features = BASE_FEATURES | MRG | EVIDX,
	.tap_hdr = 1,
	.hdr_len = 12,
	.count = 3000,
};

/* The tap's own 12-byte header (VERSION_1), no MRG. */
FIXTURE_VARIANT_ADD(stream, tap_hdr_nomrg) {
	.features = BASE_FEATURES,
	.tap_hdr = 1,
	.hdr_len = 12,
	.count = 1500,
};

/* The tap's own 10-byte header (legacy, no MRG). */
FIXTURE_VARIANT_ADD(stream, tap_hdr_legacy10) {
	.features = F(VIRTIO_RING_F_INDIRECT_DESC),
	.tap_hdr = 1,
	.hdr_len = 10,
	.count = 1500,
};

FIXTURE_SETUP(stream)
{
	int r = rxdev_up(&self->d, variant->features, variant->tap_hdr,
			 RING_NUM);

	LAYOUT_SKIP_FIXTURE(r, rxdev_down(&self->d));
	if (dev_missing(r))
		SKIP(return, "%s: %s", ivhost_dev_path(), ivhost_strerror(r));
	ASSERT_EQ(0, r) TH_LOG("bring-up: %s", strerror(-r));
	ASSERT_EQ(variant->hdr_len, self->d.hdr_len);
}

FIXTURE_TEARDOWN(stream)
{
	rxdev_down(&self->d);
}

TEST_F_TIMEOUT(stream, random_sizes_and_layouts, 300)
{
	struct rx_stats st;
	char msg[256] = "";
	int r;

	if (_metadata->skip)
		return;
	rnd_seed(_metadata, 0x5eed0001);
	r = rx_stream(&self->d, 0, variant->count, frame_len, 1, 0, 64, &st,
		      msg, sizeof(msg));
	TH_LOG("%u frames in %lld ms, %u calls", st.received, st.ms, st.calls);
	ASSERT_EQ(0, r) TH_LOG("%s", msg);
	EXPECT_EQ(0, vmm_poll_fd(self->d.v.vq[VMM_RX].err_fd));
	EXPECT_EQ(0, tap_drops(&self->d));
}

/* ------------------------------------------------------------------ */

FIXTURE(rx) {
	struct rxdev d;
};

FIXTURE_SETUP(rx)
{
	rxdev_init(&self->d);
}

FIXTURE_TEARDOWN(rx)
{
	rxdev_down(&self->d);
}

#define RX_UP(want, tap_hdr) do {					\
	int __r = rxdev_up(&self->d, (want), (tap_hdr), RING_NUM);	\
	if (dev_missing(__r))						\
		SKIP(return, "%s: %s", ivhost_dev_path(),		\
		     ivhost_strerror(__r));					\
	ASSERT_EQ(0, __r) TH_LOG("bring-up: %s", strerror(-__r));	\
} while (0)

/* Receive exactly frames [seq, seq + count) of @len_of. */
static int expect_rx(struct rxdev *d, uint32_t seq, unsigned int count,
		     size_t (*len_of)(uint32_t), char *msg, size_t msz)
{
	static uint8_t buf[VMM_SLOT_SIZE * 2];
	struct vmm_vq *q = &d->v.vq[VMM_RX];
	unsigned int i, nbufs;
	long long end;
	ssize_t n;
	int r;

	for (i = 0; i < count; i++) {
		end = vmm_now_ms() + IDLE_MS;
		while (!(n = vmm_rx_frame(q, d->mrg, buf, sizeof(buf), &nbufs,
					  IDLE_MS)) && vmm_now_ms() < end)
			usleep(500);
		if (n <= 0) {
			snprintf(msg, msz, "seq %u: %s", seq + i,
				 n ? strerror((int)-n) : "never arrived");
			return n ? (int)n : -ETIMEDOUT;
		}
		r = check_frame(d, buf, n, nbufs, seq + i, len_of(seq + i),
				msg, msz);
		if (r)
			return r;
	}
	return 0;
}

static int wait_used(struct vmm_vq *q, uint16_t idx, int timeout_ms)
{
	long long end = vmm_now_ms() + timeout_ms;

	while ((int16_t)(vmm_used_idx(q) - idx) < 0) {
		if (vmm_now_ms() > end)
			return 0;
		usleep(500);
	}
	return 1;
}

/*
 * The tap's vnet header carries offload fields: a frame sent with a
 * csum-partial header comes up with the same flags, csum_start and
 * csum_offset.
 */
TEST_F(rx, tap_offload_header)
{
	struct virtio_net_hdr_mrg_rxbuf *h;
	static uint8_t pkt[sizeof(struct virtio_net_hdr) + 200];
	static uint8_t buf[4096];
	struct virtio_net_hdr vh = {
		.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
		.gso_type = VIRTIO_NET_HDR_GSO_NONE,
		.csum_start = 34,
		.csum_offset = 6,
	};
	unsigned int off = TUN_F_CSUM, nbufs;
	int fd;
	ssize_t n;

	KERNEL_ONLY(TAP_WHY);
	RX_UP(BASE_FEATURES | MRG, 1);
	ASSERT_EQ(0, ioctl(self->d.t.fd, TUNSETOFFLOAD, off));
	fd = vmm_inject_open(self->d.t.ifindex, 1);
	ASSERT_LE(0, fd);
	memcpy(pkt, &vh, sizeof(vh));
	vmm_gen_frame(7, pkt + sizeof(vh), 200);
	/* An IPv4/UDP-looking frame. */
	pkt[sizeof(vh) + 12] = 0x08;
	pkt[sizeof(vh) + 13] = 0x00;
	ASSERT_EQ(0, vmm_inject(fd, pkt, sizeof(pkt)));
	close(fd);
	fill_rx(&self->d, 0, 2048);
	ASSERT_TRUE(wait_used(&self->d.v.vq[VMM_RX], 1, IDLE_MS));
	n = vmm_rx_frame(&self->d.v.vq[VMM_RX], 1, buf, sizeof(buf), &nbufs,
			 IDLE_MS);
	ASSERT_EQ(12 + 200, n);
	h = (void *)buf;
	EXPECT_EQ(VIRTIO_NET_HDR_F_NEEDS_CSUM, h->hdr.flags);
	EXPECT_EQ(VIRTIO_NET_HDR_GSO_NONE, h->hdr.gso_type);
	EXPECT_EQ(34, h->hdr.csum_start);
	EXPECT_EQ(6, h->hdr.csum_offset);
	EXPECT_EQ(1, h->num_buffers);
	EXPECT_EQ(0, memcmp(buf + 12, pkt + sizeof(vh), 200));
}

/*
 * The same for a TCPv4 GSO frame (TSO offload on the tap): gso_type,
 * gso_size and the csum fields reach the guest as sent, with the whole
 * 3054-byte super-frame in merged buffers.
 */
TEST_F(rx, tap_gso_header)
{
	struct virtio_net_hdr_mrg_rxbuf *h;
	enum { PAY = 3000, FL = 14 + 20 + 20 + PAY };
	static uint8_t pkt[sizeof(struct virtio_net_hdr) + FL];
	static uint8_t buf[8192];
	struct virtio_net_hdr vh = {
		.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
		.gso_type = VIRTIO_NET_HDR_GSO_TCPV4,
		.hdr_len = 54,
		.gso_size = 1000,
		.csum_start = 34,
		.csum_offset = 16,
	};
	unsigned int off = TUN_F_CSUM | TUN_F_TSO4, nbufs;
	uint8_t *f = pkt + sizeof(vh);
	int fd;
	ssize_t n;

	KERNEL_ONLY(TAP_WHY);
	RX_UP(BASE_FEATURES | MRG, 1);
	ASSERT_EQ(0, ioctl(self->d.t.fd, TUNSETOFFLOAD, off));
	fd = vmm_inject_open(self->d.t.ifindex, 1);
	ASSERT_LE(0, fd);
	memcpy(pkt, &vh, sizeof(vh));
	vmm_gen_frame(9, f, FL);
	memset(f + 12, 0, 42);
	f[12] = 0x08;			/* IPv4 */
	f[14] = 0x45;
	f[16] = (FL - 14) >> 8;
	f[17] = (FL - 14) & 0xff;
	f[20] = 0x40;			/* DF */
	f[22] = 64;
	f[23] = 6;			/* TCP */
	f[26] = 10, f[29] = 1, f[30] = 10, f[33] = 2;
	f[34] = 0x30, f[35] = 0x39;	/* ports */
	f[36] = 0x00, f[37] = 0x50;
	f[46] = 0x50;			/* doff 5 */
	f[47] = 0x10;			/* ACK */
	f[48] = 0xff;			/* window */
	ASSERT_EQ(0, vmm_inject(fd, pkt, sizeof(pkt)))
		TH_LOG("send: %s", strerror(errno));
	close(fd);
	fill_rx(&self->d, 0, 2048);
	ASSERT_TRUE(wait_used(&self->d.v.vq[VMM_RX], 1, IDLE_MS));
	n = vmm_rx_frame(&self->d.v.vq[VMM_RX], 1, buf, sizeof(buf), &nbufs,
			 IDLE_MS);
	ASSERT_EQ(12 + FL, n);
	h = (void *)buf;
	TH_LOG("flags %u gso_type %u hdr_len %u gso_size %u csum %u/%u nb %u",
	       h->hdr.flags, h->hdr.gso_type, h->hdr.hdr_len, h->hdr.gso_size,
	       h->hdr.csum_start, h->hdr.csum_offset, h->num_buffers);
	EXPECT_EQ(VIRTIO_NET_HDR_F_NEEDS_CSUM, h->hdr.flags);
	EXPECT_EQ(VIRTIO_NET_HDR_GSO_TCPV4, h->hdr.gso_type);
	EXPECT_EQ(1000, h->hdr.gso_size);
	EXPECT_EQ(34, h->hdr.csum_start);
	EXPECT_EQ(16, h->hdr.csum_offset);
	EXPECT_EQ(nbufs, h->num_buffers);
	EXPECT_EQ(2U, nbufs);
	/* The checksum field may hold the pseudo-header sum: skip it. */
	EXPECT_EQ(0, memcmp(buf + 12, f, 50));
	EXPECT_EQ(0, memcmp(buf + 12 + 52, f + 52, FL - 52));
}

/*
 * No RX buffers: injected frames wait in the tap's queue; buffers posted
 * a few at a time later receive them all, in order.
 */
TEST_F_TIMEOUT(rx, ring_dry_then_refill, 120)
{
	struct vmm_vq *q;
	char msg[256] = "";
	unsigned int i, n = 1000;

	RX_UP(NET_FEATURES | MRG | EVIDX, 0);
	q = &self->d.v.vq[VMM_RX];
	for (i = 0; i < n; i++)
		ASSERT_EQ(0, inject_seq(self->d.inj, i, len_1514(i)));
	usleep(100 * 1000);
	EXPECT_EQ(0, vmm_used_idx(q));
	/* Small batches: the device must stop and restart many times. */
	for (i = 0; i < n;) {
		unsigned int k, batch = 1 + i % 7;

		for (k = 0; k < batch; k++)
			ASSERT_LE(0, vmm_post_rx(q, 1536, VMM_DIRECT, 1));
		vmm_kick(q);
		ASSERT_EQ(0, expect_rx(&self->d, i, batch < n - i ? batch :
				       n - i, len_1514, msg, sizeof(msg)))
			TH_LOG("%s", msg);
		i += batch;
	}
	EXPECT_EQ(0, tap_drops(&self->d));
	EXPECT_EQ(0, vmm_poll_fd(q->err_fd));
}

/*
 * More frames than the tap queue holds while the ring is dry: the tap
 * drops the excess; every frame it kept arrives once, in order.
 */
TEST_F_TIMEOUT(rx, flood_beyond_tap_queue, 120)
{
	static uint8_t buf[VMM_SLOT_SIZE];
	struct vmm_vq *q;
	unsigned int i, n = 3000, got = 0, nbufs;
	long long drops, end;
	uint32_t last = 0;
	ssize_t len;

	RX_UP(NET_FEATURES | MRG | EVIDX, 0);
	q = &self->d.v.vq[VMM_RX];
	ASSERT_EQ(0, vmm_if_set_txqlen(self->d.t.name, 500));
	for (i = 0; i < n; i++)
		ASSERT_EQ(0, inject_seq(self->d.inj, i, 100));
	drops = tap_drops(&self->d);
	TH_LOG("tap dropped %lld of %u", drops, n);
	EXPECT_LT(0, drops);
	end = vmm_now_ms() + IDLE_MS;
	while (got + drops < n && vmm_now_ms() < end) {
		fill_rx(&self->d, 0, 256);
		while ((len = vmm_rx_frame(q, 1, buf, sizeof(buf), &nbufs,
					   IDLE_MS)) > 0) {
			uint32_t seq = buf[12 + 14] << 24 | buf[12 + 15] << 16 |
				       buf[12 + 16] << 8 | buf[12 + 17];
			static uint8_t want[100];

			ASSERT_EQ(12 + 100, len);
			ASSERT_TRUE(!got || seq > last)
				TH_LOG("seq %u after %u", seq, last);
			vmm_gen_frame(seq, want, 100);
			ASSERT_EQ(0, memcmp(want, buf + 12, 100));
			last = seq;
			got++;
		}
		usleep(1000);
	}
	EXPECT_EQ(n, got + drops);
	usleep(QUIET_MS * 1000);
	EXPECT_EQ(0, vmm_rx_frame(q, 1, buf, sizeof(buf), &nbufs, 0));
}

/*
 * Without MRG a frame larger than the buffer offered cannot be received:
 * it is dropped and the buffer stays for the next frame.
 */
TEST_F(rx, frame_too_big_dropped)
{
	struct vmm_vq *q;
	char msg[256] = "";

	RX_UP(NET_FEATURES, 0);
	q = &self->d.v.vq[VMM_RX];
	ASSERT_LE(0, vmm_post_rx(q, 1000, VMM_DIRECT, 1));
	vmm_kick(q);
	ASSERT_EQ(0, inject_seq(self->d.inj, 0, 1514));
	ASSERT_EQ(0, inject_seq(self->d.inj, 1, 60));
	ASSERT_EQ(0, expect_rx(&self->d, 1, 1, len_60, msg, sizeof(msg)))
		TH_LOG("%s", msg);
	EXPECT_EQ(0, vmm_poll_fd(q->err_fd));
}

/* VRING_AVAIL_F_NO_INTERRUPT suppresses RX calls; clearing it restores. */
TEST_F(rx, no_interrupt)
{
	struct vmm_vq *q;
	char msg[256] = "";

	RX_UP(NET_FEATURES | MRG, 0);
	q = &self->d.v.vq[VMM_RX];
	vmm_no_interrupt(q, 1);
	fill_rx(&self->d, 0, 1536);
	ASSERT_EQ(0, inject_seq(self->d.inj, 0, 60));
	ASSERT_EQ(0, expect_rx(&self->d, 0, 1, len_60, msg, sizeof(msg)))
		TH_LOG("%s", msg);
	EXPECT_EQ(0, vmm_wait_fd(q->call_fd, QUIET_MS));
	vmm_no_interrupt(q, 0);
	ASSERT_EQ(0, inject_seq(self->d.inj, 1, 60));
	EXPECT_EQ(1, vmm_wait_fd(q->call_fd, IDLE_MS));
	ASSERT_EQ(0, expect_rx(&self->d, 1, 1, len_60, msg, sizeof(msg)))
		TH_LOG("%s", msg);
}

/* EVENT_IDX: a call comes only when used->idx passes used_event. */
TEST_F(rx, used_event)
{
	struct vmm_vq *q;
	char msg[256] = "";

	SPLIT_ONLY("used_event (packed: packed_test)");
	RX_UP(NET_FEATURES | MRG | EVIDX, 0);
	q = &self->d.v.vq[VMM_RX];
	fill_rx(&self->d, 0, 1536);
	/* The first call is unconditional. */
	ASSERT_EQ(0, inject_seq(self->d.inj, 0, 60));
	EXPECT_EQ(1, vmm_wait_fd(q->call_fd, IDLE_MS));
	ASSERT_EQ(0, expect_rx(&self->d, 0, 1, len_60, msg, sizeof(msg)));
	/* Call when entry 3 (the third frame from now) is used. */
	*vmm_used_event(q) = 3;
	ASSERT_EQ(0, inject_seq(self->d.inj, 1, 60));
	ASSERT_TRUE(wait_used(q, 2, IDLE_MS));
	ASSERT_EQ(0, inject_seq(self->d.inj, 2, 60));
	ASSERT_TRUE(wait_used(q, 3, IDLE_MS));
	EXPECT_EQ(0, vmm_wait_fd(q->call_fd, QUIET_MS));
	ASSERT_EQ(0, inject_seq(self->d.inj, 3, 60));
	EXPECT_EQ(1, vmm_wait_fd(q->call_fd, IDLE_MS));
	ASSERT_EQ(0, expect_rx(&self->d, 1, 3, len_60, msg, sizeof(msg)))
		TH_LOG("%s", msg);
}

/*
 * EVENT_IDX, device side: a ring that ran dry with a frame waiting asks
 * for a kick at the next buffer (avail_event = avail->idx).
 */
TEST_F(rx, avail_event)
{
	struct vmm_vq *q;
	char msg[256] = "";

	SPLIT_ONLY("avail_event (packed: packed_test)");
	RX_UP(NET_FEATURES | MRG | EVIDX, 0);
	q = &self->d.v.vq[VMM_RX];
	ASSERT_LE(0, vmm_post_rx(q, 1536, VMM_DIRECT, 1));
	ASSERT_LE(0, vmm_post_rx(q, 1536, VMM_DIRECT, 1));
	vmm_kick(q);
	ASSERT_EQ(0, inject_seq(self->d.inj, 0, 60));
	ASSERT_EQ(0, inject_seq(self->d.inj, 1, 60));
	ASSERT_EQ(0, inject_seq(self->d.inj, 2, 60));
	ASSERT_TRUE(wait_used(q, 2, IDLE_MS));
	usleep(100 * 1000);
	EXPECT_EQ(2, __atomic_load_n(vmm_avail_event(q), __ATOMIC_ACQUIRE));
	ASSERT_EQ(0, expect_rx(&self->d, 0, 2, len_60, msg, sizeof(msg)));
	ASSERT_LE(0, vmm_post_rx(q, 1536, VMM_DIRECT, 1));
	vmm_kick(q);
	ASSERT_EQ(0, expect_rx(&self->d, 2, 1, len_60, msg, sizeof(msg)))
		TH_LOG("%s", msg);
}

/*
 * Without EVENT_IDX: while the device has buffers and waits on the socket
 * it keeps VRING_USED_F_NO_NOTIFY set (no kicks needed); once the ring ran
 * dry with a frame waiting it clears it, to be kicked.
 */
TEST_F(rx, no_notify)
{
	struct vmm_vq *q;
	char msg[256] = "";

	SPLIT_ONLY("VRING_USED_F_NO_NOTIFY (packed: packed_test)");
	RX_UP(NET_FEATURES | MRG, 0);
	q = &self->d.v.vq[VMM_RX];
	ASSERT_LE(0, vmm_post_rx(q, 1536, VMM_DIRECT, 1));
	ASSERT_LE(0, vmm_post_rx(q, 1536, VMM_DIRECT, 1));
	vmm_kick(q);
	ASSERT_EQ(0, inject_seq(self->d.inj, 0, 60));
	ASSERT_TRUE(wait_used(q, 1, IDLE_MS));
	usleep(100 * 1000);
	EXPECT_EQ(VRING_USED_F_NO_NOTIFY,
		  __atomic_load_n(&q->used->flags, __ATOMIC_ACQUIRE) &
		  VRING_USED_F_NO_NOTIFY);
	ASSERT_EQ(0, inject_seq(self->d.inj, 1, 60));
	ASSERT_EQ(0, inject_seq(self->d.inj, 2, 60));
	ASSERT_TRUE(wait_used(q, 2, IDLE_MS));
	usleep(100 * 1000);
	EXPECT_EQ(0, __atomic_load_n(&q->used->flags, __ATOMIC_ACQUIRE) &
		     VRING_USED_F_NO_NOTIFY);
	ASSERT_EQ(0, expect_rx(&self->d, 0, 2, len_60, msg, sizeof(msg)));
	ASSERT_LE(0, vmm_post_rx(q, 1536, VMM_DIRECT, 1));
	vmm_kick(q);
	ASSERT_EQ(0, expect_rx(&self->d, 2, 1, len_60, msg, sizeof(msg)))
		TH_LOG("%s", msg);
}

static size_t len_9000(uint32_t seq)
{
	return 9000;
}

/*
 * MRG: a 9000-byte frame with only small buffers posted waits (the ring
 * has too few bytes); more buffers, and a kick, bring it in, spread over
 * them with num_buffers right.  With and without EVENT_IDX.
 */
TEST_F(rx, mrg_frame_waits_for_enough_buffers)
{
	unsigned int evidx, i;
	char msg[256] = "";

	for (evidx = 0; evidx < 2; evidx++) {
		struct vmm_vq *q;

		rxdev_down(&self->d);
		RX_UP(NET_FEATURES | MRG | (evidx ? EVIDX : 0), 0);
		q = &self->d.v.vq[VMM_RX];
		for (i = 0; i < 4; i++)
			ASSERT_LE(0, vmm_post_rx(q, 1024, i % 3, 2));
		vmm_kick(q);
		ASSERT_EQ(0, inject_seq(self->d.inj, 0, 9000));
		usleep(200 * 1000);
		EXPECT_EQ(0, vmm_used_idx(q));
		/* The device asks to be told about the next buffer. */
		i = 0;
		if (q->packed) {
			ASSERT_LE(0, vmm_post_rx(q, 1024, 0, 3));
			EXPECT_EQ(1, vmm_kick_needed(q));
			i = 1;
		} else if (evidx) {
			EXPECT_EQ(4, *vmm_avail_event(q));
		} else {
			EXPECT_EQ(0, q->used->flags & VRING_USED_F_NO_NOTIFY);
		}
		for (; i < 6; i++)
			ASSERT_LE(0, vmm_post_rx(q, 1024, i % 3, 3));
		vmm_kick(q);
		ASSERT_EQ(0, expect_rx(&self->d, 0, 1, len_9000, msg,
				       sizeof(msg))) TH_LOG("%s", msg);
		EXPECT_EQ(9, vmm_used_idx(q));
	}
}

/*
 * MRG with tiny buffers (16 to 40 bytes, the header always fits the
 * first): each frame spans up to ~95 chains, and one frame's used entries
 * wrap the used ring.  Byte-exact, num_buffers right.
 */
TEST_F_TIMEOUT(rx, mrg_tiny_buffers, 120)
{
	static uint8_t buf[4096];
	struct vmm_vq *q;
	unsigned int i, got = 0, nbufs;
	char msg[256] = "";
	long long end;
	ssize_t n;

	RX_UP(NET_FEATURES | MRG | EVIDX, 0);
	q = &self->d.v.vq[VMM_RX];
	rnd_seed(_metadata, 0x7177);
	for (i = 0; i < 100; i++)
		ASSERT_EQ(0, inject_seq(self->d.inj, i, len_1514(i)));
	end = vmm_now_ms() + 60000;
	while (got < 100 && vmm_now_ms() < end) {
		int posted = 0;

		while (q->num_free >= VMM_MAX_SEGS &&
		       vmm_post_rx(q, 16 + rnd() % 25, rnd() % 3,
				   1 + rnd() % 4) >= 0)
			posted++;
		if (posted)
			vmm_kick(q);
		while ((n = vmm_rx_frame(q, 1, buf, sizeof(buf), &nbufs,
					 IDLE_MS)) > 0) {
			ASSERT_EQ(0, check_frame(&self->d, buf, n, nbufs, got,
						 1514, msg, sizeof(msg)))
				TH_LOG("%s", msg);
			ASSERT_LT(30U, nbufs);
			got++;
		}
		ASSERT_LE(0, n);
		usleep(500);
	}
	EXPECT_EQ(100U, got);
	EXPECT_EQ(0, vmm_poll_fd(q->err_fd));
}

/*
 * MRG, but the whole ring cannot hold the frame: ivhost drops it, the
 * buffers stay, and the next frame uses them.  vhost_net waits for more
 * buffers that can never come, and the queue stalls behind the frame.
 */
TEST_F(rx, ivhost_only_mrg_frame_larger_than_ring_dropped)
{
	struct vmm_vq *q;
	char msg[256] = "";
	int r, i;

	IVHOST_ONLY();
	rxdev_init(&self->d);
	r = rxdev_up(&self->d, NET_FEATURES | MRG, 0, 8);
	if (dev_missing(r))
		SKIP(return, "%s", ivhost_strerror(r));
	ASSERT_EQ(0, r);
	q = &self->d.v.vq[VMM_RX];
	for (i = 0; i < 8; i++)
		ASSERT_LE(0, vmm_post_rx(q, 256, VMM_DIRECT, 1));
	vmm_kick(q);
	ASSERT_EQ(0, inject_seq(self->d.inj, 0, 9000));
	ASSERT_EQ(0, inject_seq(self->d.inj, 1, 60));
	ASSERT_EQ(0, expect_rx(&self->d, 1, 1, len_60, msg, sizeof(msg)))
		TH_LOG("%s", msg);
	EXPECT_EQ(0, vmm_poll_fd(q->err_fd));
}

/*
 * Detach the RX backend with frames waiting, read the base, set it again
 * and reattach: the base is where the used ring is (no buffer consumed
 * without a frame in it), and the rest of the frames arrive.
 */
TEST_F_TIMEOUT(rx, detach_reattach_base, 120)
{
	struct vmm_vq *q;
	char msg[256] = "";
	unsigned int base, i, got = 0;

	RX_UP(NET_FEATURES | MRG | EVIDX, 0);
	q = &self->d.v.vq[VMM_RX];
	for (i = 0; i < 600; i++)
		ASSERT_EQ(0, inject_seq(self->d.inj, i, len_1514(i)));
	for (i = 0; i < 6; i++) {
		unsigned int k;

		for (k = 0; k < 40; k++)
			ASSERT_LE(0, vmm_post_rx(q, 700, k % 3, 2));
		vmm_kick(q);
		ASSERT_EQ(0, vmm_set_backend(&self->d.v, VMM_RX, -1));
		ASSERT_EQ(0, vmm_vq_get_base(&self->d.v, VMM_RX, &base));
		EXPECT_EQ(vmm_vq_used_base(q), base);
		ASSERT_EQ(0, vmm_vq_set_base(&self->d.v, VMM_RX, base));
		/* Frames already in the used ring. */
		while (q->used_idx != vmm_used_idx(q)) {
			ASSERT_EQ(0, expect_rx(&self->d, got, 1, len_1514,
					       msg, sizeof(msg)))
				TH_LOG("%s", msg);
			got++;
		}
		ASSERT_EQ(0, vmm_set_backend(&self->d.v, VMM_RX,
					     self->d.t.fd));
	}
	/* Enough buffers for the rest. */
	while (got < 600) {
		fill_rx(&self->d, 0, 1536);
		ASSERT_EQ(0, expect_rx(&self->d, got, 1, len_1514, msg,
				       sizeof(msg))) TH_LOG("%s", msg);
		got++;
	}
	EXPECT_EQ(0, vmm_poll_fd(q->err_fd));
}

/* Teardown while frames stream in: close, RESET_OWNER; then a fresh
 * set-up works.
 */
TEST_F_TIMEOUT(rx, teardown_while_receiving, 120)
{
	char msg[256] = "";
	struct rx_stats st;
	unsigned int how, i;

	for (how = 0; how < 2; how++) {
		rxdev_down(&self->d);
		RX_UP(NET_FEATURES | MRG | EVIDX, 0);
		fill_rx(&self->d, 1, 0);
		for (i = 0; i < 2000; i++)
			ASSERT_EQ(0, inject_seq(self->d.inj, i, frame_len(i)));
		usleep(2000);
		if (how == 0) {
			close(self->d.v.fd);
			self->d.v.fd = -1;
		} else {
			ASSERT_EQ(0, vmm_ioctl(&self->d.v, VHOST_RESET_OWNER,
					       NULL));
		}
	}
	rxdev_down(&self->d);
	RX_UP(NET_FEATURES | MRG | EVIDX, 0);
	rnd_seed(_metadata, 0x7ea);
	ASSERT_EQ(0, rx_stream(&self->d, 0, 300, frame_len, 1, 0, 32, &st,
			       msg, sizeof(msg))) TH_LOG("%s", msg);
}

/*
 * A readable descriptor in an RX chain breaks the ring protocol: ivhost
 * stops the queue and signals the err eventfd (vhost_net retries the same
 * chain on each kick).
 */
TEST_F(rx, ivhost_only_readable_rx_buffer_stops_queue)
{
	struct vmm_vq *q;
	int head;

	IVHOST_ONLY();
	RX_UP(NET_FEATURES | MRG, 0);
	q = &self->d.v.vq[VMM_RX];
	head = vmm_post_tx(q, NULL, 0, "0123456789abcdef", 16, VMM_DIRECT, 1);
	ASSERT_LE(0, head);
	vmm_kick(q);
	ASSERT_EQ(0, inject_seq(self->d.inj, 0, 60));
	EXPECT_EQ(1, vmm_wait_fd(q->err_fd, IDLE_MS));
	EXPECT_EQ(0, vmm_used_idx(q));
}

/* Whether the tap holds a frame the device has not taken yet. */
static int tap_has_frame(struct rxdev *d)
{
	struct pollfd p = { .fd = d->t.fd, .events = POLLIN };

	return poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}

/* Wait until the device took every frame from the tap: 1, or 0. */
static int tap_drained(struct rxdev *d, int timeout_ms)
{
	long long end = vmm_now_ms() + timeout_ms;

	while (tap_has_frame(d)) {
		if (vmm_now_ms() > end)
			return 0;
		usleep(1000);
	}
	return 1;
}

/*
 * A tap whose vnet header (12 bytes, TUNSETVNETHDRSZ) is longer than the
 * header the guest negotiated (10 bytes: no VERSION_1, no MRG_RXBUF, no
 * VHOST_NET_F_VIRTIO_NET_HDR, so the socket supplies it): every frame
 * comes out of the socket two bytes longer than the device asked for.
 * Such a frame is dropped and the buffer kept, as vhost_net does: no
 * used entry, no err eventfd, GET_VRING_BASE unchanged, and the queue
 * goes on taking (and dropping) frames.
 */
TEST_F_TIMEOUT(rx, tap_header_longer_than_guest_header_dropped, 60)
{
	struct vmm_vq *q;
	unsigned int base;
	int sz = 12;

	KERNEL_ONLY(TAP_WHY);
	RX_UP(F(VIRTIO_RING_F_INDIRECT_DESC), 1);
	q = &self->d.v.vq[VMM_RX];
	ASSERT_EQ(10U, self->d.hdr_len);
	ASSERT_EQ(0, ioctl(self->d.t.fd, TUNSETVNETHDRSZ, &sz));
	ASSERT_LE(0, vmm_post_rx(q, 1536, VMM_DIRECT, 1));
	vmm_kick(q);
	ASSERT_EQ(0, inject_seq(self->d.inj, 0, 60));
	EXPECT_EQ(1, tap_drained(&self->d, IDLE_MS))
		TH_LOG("the device never took the first frame");
	EXPECT_EQ(0, vmm_wait_fd(q->err_fd, QUIET_MS))
		TH_LOG("err eventfd signalled: the queue stopped");
	EXPECT_EQ(0, vmm_used_idx(q));
	/* The queue still runs: the next frame is taken and dropped too. */
	ASSERT_EQ(0, inject_seq(self->d.inj, 1, 60));
	EXPECT_EQ(1, tap_drained(&self->d, IDLE_MS))
		TH_LOG("the second frame stays in the tap: the queue stopped");
	EXPECT_EQ(0, vmm_wait_fd(q->err_fd, QUIET_MS));
	EXPECT_EQ(0, vmm_used_idx(q));
	ASSERT_EQ(0, vmm_set_backend(&self->d.v, VMM_RX, -1));
	ASSERT_EQ(0, vmm_vq_get_base(&self->d.v, VMM_RX, &base));
	EXPECT_EQ(vmm_vq_base_encode(q, 0), base)
		TH_LOG("the kept buffer was counted as used");
}

/*
 * An RX chain whose indirect table has more than 1024 entries is
 * malformed: the queue stops (err eventfd), as on TX, and
 * GET_VRING_BASE names the chain; the frame is not dropped for it.
 */
TEST_F(rx, ivhost_only_rx_indirect_table_too_long_stops_queue)
{
	const unsigned int n = 1025;
	struct vring_desc *tbl;
	struct vmm_vq *q;
	unsigned int base, i;
	uint8_t *data;
	int h;

	IVHOST_ONLY();
	SPLIT_ONLY("a split indirect descriptor (packed: packed_test)");
	RX_UP(NET_FEATURES | MRG, 0);
	q = &self->d.v.vq[VMM_RX];
	tbl = vmm_alloc(&self->d.v, n * sizeof(*tbl), 16);
	data = vmm_alloc(&self->d.v, n * 64, 64);
	ASSERT_NE(NULL, tbl);
	ASSERT_NE(NULL, data);
	for (i = 0; i < n; i++) {
		tbl[i].addr = vmm_gpa(&self->d.v, data + 64 * i);
		tbl[i].len = 64;
		tbl[i].flags = VRING_DESC_F_WRITE |
			       (i + 1 < n ? VRING_DESC_F_NEXT : 0);
		tbl[i].next = i + 1 < n ? i + 1 : 0;
	}
	h = vmm_desc_alloc(q, 1);
	ASSERT_LE(0, h);
	q->desc[h].addr = vmm_gpa(&self->d.v, tbl);
	q->desc[h].len = n * sizeof(*tbl);
	q->desc[h].flags = VRING_DESC_F_INDIRECT;
	q->desc[h].next = 0;
	vmm_publish(q, h);
	vmm_kick(q);
	ASSERT_EQ(0, inject_seq(self->d.inj, 0, 60));
	EXPECT_EQ(1, vmm_wait_fd(q->err_fd, IDLE_MS))
		TH_LOG("err eventfd not signalled; the frame %s",
		       tap_has_frame(&self->d) ? "waits in the tap" :
						 "was taken (dropped?)");
	EXPECT_EQ(0, vmm_used_idx(q));
	ASSERT_EQ(0, vmm_set_backend(&self->d.v, VMM_RX, -1));
	ASSERT_EQ(0, vmm_vq_get_base(&self->d.v, VMM_RX, &base));
	EXPECT_EQ(0U, base);
}

/*
 * A long busy-poll timeout on RX must not hold up the TX queue: a TX frame
 * kicked while the RX queue polls an empty socket completes quickly.
 */
TEST_F_TIMEOUT(rx, busyloop_does_not_starve_tx, 120)
{
	struct vhost_vring_state s = { .index = VMM_RX, .num = 2000000 };
	static const uint8_t hdr[12];
	static uint8_t f[100];
	struct vmm_vq *tq;
	long long t0, worst = 0;
	int i;

	KERNEL_ONLY("VHOST_SET_VRING_BUSYLOOP_TIMEOUT");
	RX_UP(NET_FEATURES | MRG | EVIDX, 0);
	tq = &self->d.v.vq[VMM_TX];
	ASSERT_EQ(0, vmm_ioctl(&self->d.v, VHOST_SET_VRING_BUSYLOOP_TIMEOUT,
			       &s));
	fill_rx(&self->d, 0, 1536);
	for (i = 0; i < 5; i++) {
		/* Start an RX round: it polls the empty socket. */
		vmm_kick(&self->d.v.vq[VMM_RX]);
		usleep(10000);
		vmm_gen_frame(i, f, sizeof(f));
		t0 = vmm_now_ms();
		ASSERT_LE(0, vmm_post_tx(tq, hdr, 12, f, sizeof(f),
					 VMM_DIRECT, 1));
		vmm_kick(tq);
		ASSERT_TRUE(wait_used(tq, i + 1, IDLE_MS));
		if (vmm_now_ms() - t0 > worst)
			worst = vmm_now_ms() - t0;
	}
	TH_LOG("worst TX completion %lld ms with a 2 s RX busy-poll", worst);
	EXPECT_GT(500, worst);
	s.num = 0;
	ASSERT_EQ(0, vmm_ioctl(&self->d.v, VHOST_SET_VRING_BUSYLOOP_TIMEOUT,
			       &s));
}

/* Busy polling: the timeout round-trips, and traffic flows with it set. */
TEST_F_TIMEOUT(rx, busyloop, 120)
{
	struct vhost_vring_state s;
	struct rx_stats st;
	char msg[256] = "";
	int i;

	KERNEL_ONLY("VHOST_SET_VRING_BUSYLOOP_TIMEOUT");
	RX_UP(NET_FEATURES | MRG | EVIDX, 0);
	for (i = 0; i < VMM_NVQS; i++) {
		s.index = i;
		s.num = 50 + i;
		ASSERT_EQ(0, vmm_ioctl(&self->d.v,
				       VHOST_SET_VRING_BUSYLOOP_TIMEOUT, &s));
	}
	for (i = 0; i < VMM_NVQS; i++) {
		s.index = i;
		s.num = 0;
		ASSERT_EQ(0, vmm_ioctl(&self->d.v,
				       VHOST_GET_VRING_BUSYLOOP_TIMEOUT, &s));
		EXPECT_EQ(50U + i, s.num);
	}
	rnd_seed(_metadata, 0xb0551);
	ASSERT_EQ(0, rx_stream(&self->d, 0, 500, frame_len, 1, 0, 32, &st,
			       msg, sizeof(msg))) TH_LOG("%s", msg);
}

/*
 * A 12-byte header without MRG_RXBUF (VERSION_1): the virtio spec has the
 * device set num_buffers to 1.  ivhost does, for its own header and the
 * tap's; vhost_net writes 0 in its own header and leaves the two bytes of
 * a tap's header unwritten.
 */
TEST_F(rx, ivhost_only_num_buffers_without_mrg)
{
	static uint8_t buf[4096];
	unsigned int nbufs, tap_hdr;
	char msg[256] = "";
	ssize_t n;

	IVHOST_ONLY();
	for (tap_hdr = 0; tap_hdr < 2; tap_hdr++) {
		struct vmm_vq *q;

		rxdev_down(&self->d);
		RX_UP(tap_hdr ? BASE_FEATURES : NET_FEATURES, tap_hdr);
		q = &self->d.v.vq[VMM_RX];
		ASSERT_EQ(12U, self->d.hdr_len);
		fill_rx(&self->d, 0, 1536);
		ASSERT_EQ(0, inject_seq(self->d.inj, 0, 60));
		ASSERT_TRUE(wait_used(q, 1, IDLE_MS));
		n = vmm_rx_frame(q, 0, buf, sizeof(buf), &nbufs, IDLE_MS);
		ASSERT_EQ(0, check_frame(&self->d, buf, n, nbufs, 0, 60, msg,
					 sizeof(msg))) TH_LOG("%s", msg);
		EXPECT_EQ(1, buf[10] | buf[11] << 8)
			TH_LOG("tap header %u", tap_hdr);
	}
}

/* AF_PACKET SOCK_RAW bound to a tap is a backend for RX and TX. */
TEST_F_TIMEOUT(rx, af_packet_backend, 120)
{
	static uint8_t frame[2000], got[2000];
	struct sockaddr_ll sll;
	struct vmm_vq *q;
	char msg[256] = "";
	int ps, i;

	KERNEL_ONLY("an AF_PACKET socket as the backend");
	RX_UP(NET_FEATURES | MRG, 0);
	q = &self->d.v.vq[VMM_RX];
	ps = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));
	ASSERT_LE(0, ps);
	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = htons(ETH_P_ALL);
	sll.sll_ifindex = self->d.t.ifindex;
	ASSERT_EQ(0, bind(ps, (struct sockaddr *)&sll, sizeof(sll)));
	ASSERT_EQ(0, vmm_set_backend(&self->d.v, VMM_RX, ps));
	ASSERT_EQ(0, vmm_set_backend(&self->d.v, VMM_TX, ps));
	close(ps);
	fill_rx(&self->d, 0, 1536);
	/* RX: a frame written into the tap fd arrives on the interface. */
	for (i = 0; i < 50; i++) {
		vmm_gen_frame(i, frame, 1514);
		ASSERT_EQ(1514, write(self->d.t.fd, frame, 1514));
	}
	ASSERT_EQ(0, expect_rx(&self->d, 0, 50, len_1514, msg, sizeof(msg)))
		TH_LOG("%s", msg);
	/* TX: the guest's frame leaves through the tap: read it there. */
	for (i = 0; i < 50; i++) {
		static const uint8_t hdr[12];
		struct pollfd p = { .fd = self->d.t.fd, .events = POLLIN };
		ssize_t n;

		vmm_gen_frame(100 + i, frame, 1000);
		ASSERT_LE(0, vmm_post_tx(&self->d.v.vq[VMM_TX], hdr, 12, frame,
					 1000, i % 3, 3));
		vmm_kick(&self->d.v.vq[VMM_TX]);
		ASSERT_EQ(1, poll(&p, 1, IDLE_MS));
		n = read(self->d.t.fd, got, sizeof(got));
		ASSERT_EQ(1000, n);
		ASSERT_EQ(0, memcmp(frame, got, 1000));
	}
	EXPECT_EQ(0, vmm_poll_fd(q->err_fd));
	EXPECT_EQ(0, vmm_poll_fd(self->d.v.vq[VMM_TX].err_fd));
}

/* Backends other than tap, macvtap and AF_PACKET SOCK_RAW: ENOTSOCK. */
TEST_F(rx, other_fds_enotsock)
{
	int s;

	KERNEL_ONLY("the backend fd's type");
	RX_UP(NET_FEATURES, 0);
	s = socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ASSERT_LE(0, s);
	EXPECT_EQ(-ENOTSOCK, vmm_set_backend(&self->d.v, VMM_RX, s));
	close(s);
	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ASSERT_LE(0, s);
	EXPECT_EQ(-ENOTSOCK, vmm_set_backend(&self->d.v, VMM_RX, s));
	close(s);
	s = open("/dev/null", O_RDWR | O_CLOEXEC);
	EXPECT_EQ(-ENOTSOCK, vmm_set_backend(&self->d.v, VMM_RX, s));
	close(s);
}

/* The seq a generated frame carries (bytes 14..17). */
static uint32_t frame_seq(const uint8_t *f)
{
	return (uint32_t)f[14] << 24 | f[15] << 16 | f[16] << 8 | f[17];
}

/*
 * Swap the RX backend between two taps while frames flow into both: a tap
 * not attached keeps its frames queued.  In the end every frame of each
 * tap arrives once, in that tap's order.
 */
TEST_F_TIMEOUT(rx, backend_swap_under_traffic, 180)
{
	static uint8_t buf[VMM_SLOT_SIZE * 2], want[2048];
	struct rxdev *d = &self->d;
	struct vmm_vq *q;
	struct vmm_tap t2;
	uint32_t next[2] = { 0, 0 }, sent[2] = { 0, 0 };
	unsigned int i, nbufs, total = 4000, got = 0, swaps = 0;
	int inj[2], fds[2], cur = 0;
	long long end;
	ssize_t n;

	KERNEL_ONLY("swapping the backend fd between taps");
	RX_UP(NET_FEATURES | MRG | EVIDX, 0);
	q = &d->v.vq[VMM_RX];
	ASSERT_EQ(0, vmm_tap_open(&t2, 0));
	ASSERT_EQ(0, vmm_if_set_txqlen(t2.name, 4096));
	inj[0] = d->inj;
	inj[1] = vmm_inject_open(t2.ifindex, 0);
	ASSERT_LE(0, inj[1]);
	fds[0] = d->t.fd;
	fds[1] = t2.fd;
	rnd_seed(_metadata, 0x5a9);
	fill_rx(d, 1, 0);
	end = vmm_now_ms() + 120000;
	while (got < total && vmm_now_ms() < end) {
		/* Frames into both taps; tap 1's seqs have bit 30 set. */
		for (i = 0; i < 2; i++) {
			while (sent[i] < total / 2 &&
			       sent[i] - next[i] < 200) {
				uint32_t seq = sent[i] | (i << 30);

				ASSERT_EQ(0, inject_seq(inj[i], seq,
							len_1514(seq)));
				sent[i]++;
			}
		}
		if (rnd() % 4 == 0) {
			cur = !cur;
			ASSERT_EQ(0, vmm_set_backend(&d->v, VMM_RX, fds[cur]));
			swaps++;
		}
		while ((n = vmm_rx_frame(q, 1, buf, sizeof(buf), &nbufs,
					 IDLE_MS)) > 0) {
			uint32_t seq = frame_seq(buf + 12);
			unsigned int t = seq >> 30 & 1;

			ASSERT_EQ(12 + 1514, n);
			ASSERT_EQ(next[t] | (t << 30), seq)
				TH_LOG("tap %u: seq %#x, want %#x", t, seq,
				       next[t] | (t << 30));
			vmm_gen_frame(seq, want, 1514);
			ASSERT_EQ(0, memcmp(want, buf + 12, 1514));
			next[t]++;
			got++;
		}
		ASSERT_LE(0, n);
		fill_rx(d, 1, 0);
		usleep(200);
	}
	TH_LOG("%u frames, %u swaps", got, swaps);
	EXPECT_EQ(total, got);
	EXPECT_EQ(0, tap_drops(d));
	EXPECT_EQ(0, vmm_if_stat(t2.name, "tx_dropped"));
	EXPECT_EQ(0, vmm_poll_fd(q->err_fd));
	close(inj[1]);
	vmm_tap_close(&t2);
}

/* ------------------------------------------------------------------ */
/* Multiqueue: one tap with IFF_MULTI_QUEUE, one device per queue.     */

#define MQ_N		3
#define MQ_FRAMES	900
#define MQ_LEN		200

/* An IPv4/UDP frame whose addresses and ports vary with seq, so that the
 * tap's flow hash spreads the frames over its queues; seq at 42..45.
 */
static void mq_frame(uint32_t seq, uint8_t *f)
{
	vmm_gen_frame(seq, f, MQ_LEN);
	f[12] = 0x08;
	f[13] = 0x00;
	memset(f + 14, 0, 28);
	f[14] = 0x45;
	f[16] = (MQ_LEN - 14) >> 8;
	f[17] = (MQ_LEN - 14) & 0xff;
	f[22] = 64;
	f[23] = 17;
	f[26] = 10;
	f[29] = 1;
	f[30] = 10;
	f[31] = seq % 13;
	f[32] = seq % 251;
	f[33] = 2;
	f[34] = 0x10;
	f[35] = seq % 199;
	f[36] = 0x20;
	f[37] = 1;
	f[38] = (MQ_LEN - 34) >> 8;
	f[39] = (MQ_LEN - 34) & 0xff;
	f[42] = seq >> 24;
	f[43] = seq >> 16;
	f[44] = seq >> 8;
	f[45] = seq;
}

TEST_F_TIMEOUT(rx, multiqueue, 180)
{
	static uint8_t buf[4096], want[MQ_LEN];
	struct rxdev dq[MQ_N];
	unsigned int got = 0, per[MQ_N] = { 0 }, nbufs;
	int64_t last[MQ_N];
	struct sockaddr_ll sll;
	struct ifreq ifr;
	int i, r, inj, cap, size = 16 << 20;
	long long end;
	uint32_t seq;

	KERNEL_ONLY("one device per queue pair, each with its tap queue fd");
	for (i = 0; i < MQ_N; i++)
		rxdev_init(&dq[i]);
	for (i = 0; i < MQ_N; i++) {
		r = vmm_bringup(&dq[i].v, ivhost_dev_path(),
				NET_FEATURES | MRG | EVIDX, RING_NUM, 0);
		if (dev_missing(r))
			SKIP(goto out, "%s", ivhost_strerror(r));
		ASSERT_EQ(0, r);
		dq[i].hdr_len = 12;
		dq[i].dev_hdr = 1;
		dq[i].mrg = 1;
		dq[i].t.fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
		ASSERT_LE(0, dq[i].t.fd);
		memset(&ifr, 0, sizeof(ifr));
		snprintf(ifr.ifr_name, IFNAMSIZ, "ivmq0");
		ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_MULTI_QUEUE;
		ASSERT_EQ(0, ioctl(dq[i].t.fd, TUNSETIFF, &ifr))
			TH_LOG("TUNSETIFF: %s", strerror(errno));
		ASSERT_EQ(0, vmm_set_backend(&dq[i].v, VMM_RX, dq[i].t.fd));
		ASSERT_EQ(0, vmm_set_backend(&dq[i].v, VMM_TX, dq[i].t.fd));
		fill_rx(&dq[i], 0, 1536);
	}
	ASSERT_EQ(0, system("sysctl -qw net.ipv6.conf.ivmq0.disable_ipv6=1 "
			    ">/dev/null 2>&1; ip link set ivmq0 txqueuelen "
			    "4096 up"));
	inj = vmm_inject_open(if_nametoindex("ivmq0"), 0);
	ASSERT_LE(0, inj);
	for (seq = 0; seq < MQ_FRAMES; seq++) {
		static uint8_t f[MQ_LEN];

		mq_frame(seq, f);
		ASSERT_EQ(0, vmm_inject(inj, f, MQ_LEN));
	}
	for (i = 0; i < MQ_N; i++)
		last[i] = -1;
	end = vmm_now_ms() + IDLE_MS;
	while (got < MQ_FRAMES && vmm_now_ms() < end) {
		for (i = 0; i < MQ_N; i++) {
			ssize_t n = vmm_rx_frame(&dq[i].v.vq[VMM_RX], 1, buf,
						 sizeof(buf), &nbufs, IDLE_MS);
			uint32_t s;

			if (n <= 0)
				continue;
			if (n < 12 + 14 || buf[12 + 12] != 0x08)
				continue;	/* not ours */
			ASSERT_EQ(12 + MQ_LEN, n);
			s = frame_seq(buf + 12 + 28);
			ASSERT_LT(last[i], (int64_t)s);
			mq_frame(s, want);
			ASSERT_EQ(0, memcmp(want, buf + 12, MQ_LEN));
			last[i] = s;
			per[i]++;
			got++;
			fill_rx(&dq[i], 0, 1536);
		}
		usleep(200);
	}
	TH_LOG("per queue: %u %u %u", per[0], per[1], per[2]);
	EXPECT_EQ((unsigned int)MQ_FRAMES, got);
	for (i = 0; i < MQ_N; i++)
		EXPECT_LT(0U, per[i]);
	close(inj);

	/* TX on every queue: each device's frames leave the one tap. */
	cap = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));
	ASSERT_LE(0, cap);
	setsockopt(cap, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size));
	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = htons(ETH_P_ALL);
	sll.sll_ifindex = if_nametoindex("ivmq0");
	ASSERT_EQ(0, bind(cap, (struct sockaddr *)&sll, sizeof(sll)));
	for (i = 0; i < MQ_N; i++) {
		static const uint8_t hdr[12];
		static uint8_t f[300];
		struct pollfd p = { .fd = cap, .events = POLLIN };
		ssize_t n;

		vmm_gen_frame(1000 + i, f, 300);
		ASSERT_LE(0, vmm_post_tx(&dq[i].v.vq[VMM_TX], hdr, 12, f, 300,
					 VMM_DIRECT, 1));
		vmm_kick(&dq[i].v.vq[VMM_TX]);
		do {
			ASSERT_EQ(1, poll(&p, 1, IDLE_MS));
			n = recv(cap, buf, sizeof(buf), 0);
		} while (n >= 14 && (buf[12] != 0x88 || buf[13] != 0xb5));
		ASSERT_EQ(300, n);
		ASSERT_EQ(0, memcmp(f, buf, 300));
	}
	close(cap);
out:
	for (i = 0; i < MQ_N; i++)
		rxdev_down(&dq[i]);
}

/* ------------------------------------------------------------------ */
/* Both directions at once, random everything, checked byte for byte.  */

#define BIDIR_N 100000

TEST_F_TIMEOUT(rx, bidir_random_100k, 600)
{
	static uint8_t frame[MAX_FRAME], got[VMM_SLOT_SIZE * 2];
	static const uint8_t hdr[12];
	struct rxdev *d = &self->d;
	struct vmm_vq *rq, *tq;
	unsigned int rx_sent = 0, rx_got = 0, tx_posted = 0, tx_got = 0;
	unsigned int nbufs, window = 64;
	long long start, progress;
	char msg[256] = "";
	int r;

	RX_UP(NET_FEATURES | MRG | EVIDX, 0);
	rq = &d->v.vq[VMM_RX];
	tq = &d->v.vq[VMM_TX];
	rnd_seed(_metadata, 0xb1d1);
	start = progress = vmm_now_ms();
	fill_rx(d, 1, 0);
	while (rx_got < BIDIR_N || tx_got < BIDIR_N) {
		int progressed = 0;
		ssize_t n;

		/* host -> guest */
		while (rx_sent < BIDIR_N && rx_sent - rx_got < window) {
			uint32_t seq = rx_sent;

			ASSERT_EQ(0, inject_seq(d->inj, seq, frame_len(seq)));
			rx_sent++;
			progressed = 1;
		}
		while ((n = vmm_rx_frame(rq, 1, got, sizeof(got), &nbufs,
					 IDLE_MS)) > 0) {
			r = check_frame(d, got, n, nbufs, rx_got,
					frame_len(rx_got), msg, sizeof(msg));
			ASSERT_EQ(0, r) TH_LOG("rx: %s", msg);
			rx_got++;
			progressed = 1;
		}
		ASSERT_LE(0, n);
		if (fill_rx(d, 1, 0))
			progressed = 1;
		/* guest -> host: seqs with bit 31 set */
		while (tx_posted < BIDIR_N && tx_posted - tx_got < window &&
		       tq->num_free >= VMM_MAX_SEGS) {
			uint32_t seq = 0x80000000u | tx_posted;
			size_t len = frame_len(tx_posted);

			vmm_gen_frame(seq, frame, len);
			ASSERT_LE(0, vmm_post_tx(tq, hdr, 12, frame, len,
						 rnd() % 3,
						 1 + rnd() % VMM_MAX_SEGS));
			tx_posted++;
			progressed = 1;
		}
		if (progressed)
			vmm_kick(tq);
		while ((r = vmm_reap(tq, NULL, NULL)) == 1)
			;
		ASSERT_LE(0, r);
		while ((n = vmm_tap_recv(&d->t, got, sizeof(got), 0)) >= 0) {
			uint32_t seq = 0x80000000u | tx_got;
			size_t len = frame_len(tx_got);

			if (n >= 14 && (got[12] != 0x88 || got[13] != 0xb5))
				continue;	/* not ours */
			vmm_gen_frame(seq, frame, len);
			ASSERT_EQ((ssize_t)len, n) TH_LOG("tx seq %u", tx_got);
			ASSERT_EQ(0, memcmp(frame, got, len))
				TH_LOG("tx seq %u differs", tx_got);
			tx_got++;
			progressed = 1;
		}
		if (progressed) {
			progress = vmm_now_ms();
			continue;
		}
		ASSERT_GT(IDLE_MS, vmm_now_ms() - progress)
			TH_LOG("stalled: rx %u/%u tx %u/%u", rx_got, rx_sent,
			       tx_got, tx_posted);
		vmm_event_arm(rq, !!(d->v.features & EVIDX));
		if (vmm_used_idx(rq) == rq->used_idx)
			vmm_wait_fd(rq->call_fd, 5);
	}
	TH_LOG("%u frames each way in %lld ms", BIDIR_N,
	       vmm_now_ms() - start);
	EXPECT_EQ(0, tap_drops(d));
	EXPECT_EQ(0, vmm_poll_fd(rq->err_fd));
	EXPECT_EQ(0, vmm_poll_fd(tq->err_fd));
}

/* ------------------------------------------------------------------ */
/* Packets per second, for information.                                */

TEST_F_TIMEOUT(rx, perf_pps, 300)
{
	static const uint8_t hdr[12];
	static uint8_t frame[1514];
	static const size_t sizes[] = { 64, 1500 };
	struct rxdev *d = &self->d;
	struct rx_stats st;
	char msg[256] = "";
	unsigned int k, i, n = 20000;

	RX_UP(NET_FEATURES | MRG | EVIDX, 0);
	for (k = 0; k < 2; k++) {
		size_t len = sizes[k];
		long long t0;
		unsigned int done = 0;

		/* TX: post, kick, reap; count frames reaped per second. */
		vmm_gen_frame(1, frame, len);
		t0 = vmm_now_ms();
		for (i = 0; done < n;) {
			while (i < n && d->v.vq[VMM_TX].num_free) {
				vmm_post_tx(&d->v.vq[VMM_TX], hdr, 12, frame,
					    len, VMM_DIRECT, 1);
				i++;
			}
			vmm_kick(&d->v.vq[VMM_TX]);
			while (vmm_reap(&d->v.vq[VMM_TX], NULL, NULL) == 1)
				done++;
			if (vmm_now_ms() - t0 > 60000)
				break;
		}
		TH_LOG("TX %zu bytes: %u frames in %lld ms: %.0f pps", len,
		       done, vmm_now_ms() - t0,
		       done * 1000.0 / (vmm_now_ms() - t0 + 1));
		/* drain what the tap captured */
		while (vmm_tap_recv(&d->t, frame, sizeof(frame), 0) >= 0)
			;
		ASSERT_EQ(0, rx_stream(d, 0, n, len == 64 ? len_60 : len_1514,
				       0, 1536, 256, &st, msg, sizeof(msg)))
			TH_LOG("%s", msg);
		TH_LOG("RX %zu bytes: %u frames in %lld ms: %.0f pps", len,
		       st.received, st.ms, st.received * 1000.0 / (st.ms + 1));
	}
}

/* ------------------------------------------------------------------ */
/* macvtap over a veth: RX from the veth peer, TX out of it.           */

#define MVT_LOWER	"ivhrxv0"
#define MVT_PEER	"ivhrxv1"
#define MVT_NAME	"ivhrxmvt0"

FIXTURE(macvtap) {
	struct rxdev d;
	char node[64];
	uint8_t mac[6];
};

FIXTURE_SETUP(macvtap)
{
	char buf[64];
	int r, hdr;

	KERNEL_ONLY_FIXTURE("a macvtap fd as the backend");
	rxdev_init(&self->d);
	if (system("modprobe veth 2>/dev/null; modprobe macvtap 2>/dev/null; "
		   "ip link add " MVT_LOWER " type veth peer name " MVT_PEER
		   " && ip link add link " MVT_LOWER " name " MVT_NAME
		   " type macvtap mode bridge && "
		   "{ sysctl -qw net.ipv6.conf." MVT_LOWER ".disable_ipv6=1 "
		   "net.ipv6.conf." MVT_PEER ".disable_ipv6=1 "
		   "net.ipv6.conf." MVT_NAME ".disable_ipv6=1 2>/dev/null; "
		   "true; } && "
		   "ip link set " MVT_LOWER " up && ip link set " MVT_PEER
		   " up && ip link set " MVT_NAME " up"))
		SKIP(return, "cannot create a macvtap over a veth");
	r = vmm_bringup(&self->d.v, ivhost_dev_path(), BASE_FEATURES | MRG,
			RING_NUM, 0);
	if (dev_missing(r))
		SKIP(return, "%s: %s", ivhost_dev_path(), ivhost_strerror(r));
	ASSERT_EQ(0, r);
	self->d.hdr_len = 12;
	self->d.mrg = 1;
	self->d.t.fd = vmm_macvtap_open(MVT_NAME, self->node,
					sizeof(self->node));
	ASSERT_LE(0, self->d.t.fd);
	hdr = 12;
	ASSERT_EQ(0, ioctl(self->d.t.fd, TUNSETVNETHDRSZ, &hdr));
	ASSERT_EQ(0, vmm_read_sysfs("/sys/class/net/" MVT_NAME "/address", buf,
				sizeof(buf)));
	ASSERT_EQ(6, sscanf(buf, "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx",
			    &self->mac[0], &self->mac[1], &self->mac[2],
			    &self->mac[3], &self->mac[4], &self->mac[5]));
	ASSERT_EQ(0, vmm_read_sysfs("/sys/class/net/" MVT_PEER "/ifindex", buf,
				sizeof(buf)));
	self->d.inj = vmm_inject_open(atoi(buf), 0);
	ASSERT_LE(0, self->d.inj);
	ASSERT_EQ(0, vmm_set_backend(&self->d.v, VMM_RX, self->d.t.fd));
	ASSERT_EQ(0, vmm_set_backend(&self->d.v, VMM_TX, self->d.t.fd));
}

FIXTURE_TEARDOWN(macvtap)
{
	rxdev_down(&self->d);
	if (!strncmp(self->node, "/tmp/", 5))
		unlink(self->node);
	if (system("ip link del " MVT_NAME " 2>/dev/null; "
		   "ip link del " MVT_LOWER " 2>/dev/null"))
		(void)0;
}

TEST_F_TIMEOUT(macvtap, rx_tx, 120)
{
	static uint8_t f[1514], buf[4096];
	static const uint8_t hdr[12];
	struct vmm_vq *q = &self->d.v.vq[VMM_RX];
	unsigned int i, nbufs;
	struct sockaddr_ll sll;
	int cap, size = 16 << 20;
	char ib[32];

	if (_metadata->skip)
		return;
	fill_rx(&self->d, 0, 1536);
	/* RX: frames to the macvtap's MAC from the veth peer. */
	for (i = 0; i < 200; i++) {
		ssize_t n;

		vmm_gen_frame(i, f, 1000);
		memcpy(f, self->mac, 6);
		ASSERT_EQ(0, vmm_inject(self->d.inj, f, 1000));
		ASSERT_TRUE(wait_used(q, q->used_idx + 1, IDLE_MS))
			TH_LOG("frame %u never arrived", i);
		n = vmm_rx_frame(q, 1, buf, sizeof(buf), &nbufs, IDLE_MS);
		ASSERT_EQ(1012, n);
		ASSERT_EQ(0, memcmp(buf + 12, f, 1000));
		fill_rx(&self->d, 0, 1536);
	}
	/* TX: the guest's frames come out of the veth peer. */
	ASSERT_EQ(0, vmm_read_sysfs("/sys/class/net/" MVT_PEER "/ifindex", ib,
				sizeof(ib)));
	cap = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));
	ASSERT_LE(0, cap);
	setsockopt(cap, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size));
	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = htons(ETH_P_ALL);
	sll.sll_ifindex = atoi(ib);
	ASSERT_EQ(0, bind(cap, (struct sockaddr *)&sll, sizeof(sll)));
	for (i = 0; i < 100; i++) {
		struct pollfd p = { .fd = cap, .events = POLLIN };
		ssize_t n;

		vmm_gen_frame(500 + i, f, 800);
		memcpy(f + 6, self->mac, 6);
		ASSERT_LE(0, vmm_post_tx(&self->d.v.vq[VMM_TX], hdr, 12, f,
					 800, i % 3, 2));
		vmm_kick(&self->d.v.vq[VMM_TX]);
		do {
			ASSERT_EQ(1, poll(&p, 1, IDLE_MS));
			n = recv(cap, buf, sizeof(buf), 0);
		} while (n >= 14 && (buf[12] != 0x88 || buf[13] != 0xb5));
		ASSERT_EQ(800, n);
		ASSERT_EQ(0, memcmp(f, buf, 800));
		while (vmm_reap(&self->d.v.vq[VMM_TX], NULL, NULL) == 1)
			;
	}
	close(cap);
}

TEST_HARNESS_MAIN
