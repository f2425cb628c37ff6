// SPDX-License-Identifier: GPL-2.0
/*
 * Device IOTLB traffic selftests (VIRTIO_F_ACCESS_PLATFORM).
 *
 * The test VMM plays the vIOMMU (tools/testing/vmm/viommu.c): guest memory
 * is mapped at random IOVAs in 4 KiB or 2 MiB pages, every ring and buffer
 * address the device sees is an IOVA, and a miss server thread answers
 * each MISS with an UPDATE of the page covering it, as QEMU does.
 *
 * Tests:
 *   traffic.tx, traffic.rx   frames through the IOTLB, misses served on
 *                            demand, every byte checked (4K / 2M pages)
 *   traffic.remap_under_traffic
 *                            a thread invalidates IOVA pages and points
 *                            them at other memory while TX and RX run
 *   traffic.miss_resumes_without_kick, traffic.rx_miss_resumes_without_kick
 *                            the test answers misses by hand and never
 *                            kicks again: the TX / RX queue resumes on
 *                            each UPDATE, including a miss on the last
 *                            byte of the UPDATE's range
 *   traffic.evicted_then_remapped, traffic.update_replaces_mapping
 *                            an UPDATE of a held IOVA with a new uaddr
 *                            replaces it (after eviction, and at once)
 *   traffic.invalidate_up_to_2_64
 *                            INVALIDATE iova X size 2^64 - X removes
 *                            the translations above X
 *   traffic.ivhost_only_isolation
 *                            after INVALIDATE and a remap the old memory
 *                            is never touched again
 *   traffic.ivhost_only_access_fail_ro_rx
 *                            an RX buffer mapped read-only: ACCESS_FAIL,
 *                            err eventfd, buffer untouched
 *   traffic.ivhost_only_batch_applies_at_end
 *                            an UPDATE inside BATCH_BEGIN..END is not
 *                            seen (nor counted) before BATCH_END
 *   traffic.ivhost_only_counters
 *                            IVHOST_GET_IOTLB_STATS readable, plausible
 *   perf.tx_pps, perf.rx_pps misses per 1,000 packets and packets per
 *                            second with the IOTLB on and off (info only)
 *
 * Regressions (ivhost only; each failed against the driver at b032a2e):
 *   regress.ivhost_only_split_eviction_is_a_barrier
 *                            entries evicted by INVALIDATEs that split an
 *                            entry of a full cache: a queue drops what it
 *                            kept of them, so an UPDATE alone that remaps
 *                            the buffer's IOVA is seen
 *   regress.ivhost_only_used_entries_survive_eviction
 *                            rings and buffer a queue uses every round
 *                            survive two turns of the eviction clock
 *   regress.ivhost_only_set_vring_num_grows_rings,
 *   regress.ivhost_only_set_vring_num_drops_old_translation
 *                            after SET_VRING_NUM the rings are translated
 *                            again: a MISS for the part not mapped, before
 *                            it is read or written
 *   regress.ivhost_only_ask_ahead_reports_no_access_fail
 *                            asking ahead for the next chains' buffers
 *                            queues no ACCESS_FAIL and stops nothing
 *   regress.ivhost_only_used_idx_needs_read_permission
 *                            a write-only used ring: ACCESS_FAIL for
 *                            used->idx, queue stopped
 *   regress.packed_desc_ring_needs_write_permission
 *                            packed: a read-only descriptor ring (used
 *                            descriptors go there): ACCESS_FAIL in it,
 *                            queue stopped
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <linux/virtio_config.h>
#include <linux/virtio_net.h>
#include <linux/virtio_ring.h>
#include <linux/vhost.h>

#include "kselftest_harness.h"
#include "harness_filter.h"
#include "common.h"
#include "vmm.h"
#include "viommu.h"
#include <linux/ivhost.h>

#define F(bit)		(1ULL << (bit))
#define RING_NUM	256
#define IDLE_MS		15000
#define TAP_MTU		65000
#define MAX_FRAME	(TAP_MTU + 14)
#define HDR_LEN		12
#define NSPARE		16
#define FEATURES	(F(VIRTIO_F_VERSION_1) | F(VIRTIO_RING_F_INDIRECT_DESC) | \
			 F(VHOST_NET_F_VIRTIO_NET_HDR) |		\
			 F(VIRTIO_NET_F_MRG_RXBUF) |			\
			 F(VIRTIO_RING_F_EVENT_IDX))
#define IOTLB		F(VIRTIO_F_ACCESS_PLATFORM)

/* ---- deterministic randomness ---- */

static __thread uint64_t rng_state = 88172645463325252ULL;

static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static uint64_t seed(void)
{
	const char *s = getenv("IVHOST_SEED");

	return s && *s ? strtoull(s, NULL, 0) : 20261123;
}

/* Mostly Ethernet-sized frames, some jumbo, a few up to 64 KiB. */
static size_t tx_len(uint32_t seq)
{
	uint32_t h = vmm_seq_hash(seq);

	switch (h % 100) {
	case 0:
		return 14 + (h >> 8) % (65000 - 14);
	case 1 ... 10:
		return 1515 + (h >> 8) % (9000 - 1514);
	default:
		return 60 + (h >> 8) % (1514 - 60 + 1);
	}
}

static size_t rx_len(uint32_t seq)
{
	uint32_t h = seq * 0x85ebca6bu + 7;

	h ^= h >> 15;
	h *= 0x9e3779b1u;
	h ^= h >> 13;
	if (h % 10 == 0)
		return 1515 + (h >> 8) % (9000 - 1514);
	return 60 + (h >> 8) % (1514 - 60 + 1);
}

static size_t fixed_1514(uint32_t seq)
{
	return 1514;
}

/* ---- the device under test ---- */

struct tdev {
	struct vmm v;
	struct vmm_tap t;
	struct viommu vi;
	int inj;
	int iotlb;
};

static int is_absent(int r)
{
	return r == -ENOENT || r == -ENODEV || r == -ENXIO ||
	       r == IVHOST_NO_LAYOUT;
}

/*
 * With @iotlb: ACCESS_PLATFORM, pages of 1 << @shift, miss server
 * started unless @manual.  Without: the plain vmm_bringup() path.
 * Backends attached unless @no_backend.
 */
static int tdev_up_num(struct tdev *d, int iotlb, unsigned int shift,
		       unsigned int flags, int manual, int no_backend,
		       unsigned int num)
{
	int r;

	vmm_init_closed(&d->v, &d->t);
	memset(&d->vi, 0, sizeof(d->vi));
	d->inj = -1;
	d->iotlb = iotlb;
	if (iotlb) {
		r = viommu_bringup(&d->vi, &d->v, ivhost_dev_path(),
				   FEATURES | IOTLB, num, shift, NSPARE,
				   seed(), flags);
		if (!r && !(d->v.features & IOTLB))
			r = -EOPNOTSUPP;
	} else {
		r = vmm_bringup(&d->v, ivhost_dev_path(), FEATURES, num, 0);
	}
	if (r)
		return r;
	r = vmm_tap_open(&d->t, 0);
	if (!r)
		r = vmm_if_set_mtu(d->t.name, TAP_MTU);
	if (!r)
		r = vmm_if_set_txqlen(d->t.name, 4096);
	if (r)
		return r;
	d->inj = vmm_inject_open(d->t.ifindex, 0);
	if (d->inj < 0)
		return d->inj;
	if (iotlb && !manual) {
		r = viommu_start(&d->vi);
		if (r)
			return r;
	}
	if (no_backend)
		return 0;
	if (iotlb) {
		r = viommu_map_used_rings(&d->vi);
		if (r)
			return r;
	}
	r = vmm_set_backend(&d->v, VMM_RX, d->t.fd);
	if (!r)
		r = vmm_set_backend(&d->v, VMM_TX, d->t.fd);
	return r;
}

static int tdev_up(struct tdev *d, int iotlb, unsigned int shift,
		   unsigned int flags, int manual, int no_backend)
{
	return tdev_up_num(d, iotlb, shift, flags, manual, no_backend,
			   RING_NUM);
}

static void tdev_down(struct tdev *d)
{
	if (d->iotlb)
		viommu_close(&d->vi);
	else
		vmm_close(&d->v);
	vmm_tap_close(&d->t);
	if (d->inj >= 0)
		close(d->inj);
	d->inj = -1;
}

/* What the device says, when a stream fails. */
static void dump(struct __test_metadata *_metadata, struct tdev *d)
{
	struct ivhost_iotlb_stats s;

	TH_LOG("err eventfd: rx %d tx %d; server: %lu misses %lu updates %lu unmapped %lu access fails",
	       vmm_poll_fd(d->v.vq[VMM_RX].err_fd),
	       vmm_poll_fd(d->v.vq[VMM_TX].err_fd), d->vi.misses,
	       d->vi.updates, d->vi.unmapped, d->vi.access_fails);
	if (!d->iotlb || viommu_get_stats(&d->vi, &s))
		return;
	TH_LOG("device: hits %llu misses %llu deduped %llu miss_msgs %llu updates %llu inval %llu evictions %llu fails %llu queued %llu dropped %llu entries %llu",
	       s.hits, s.misses, s.misses_deduped, s.miss_msgs, s.updates,
	       s.invalidations, s.evictions, s.access_fails, s.msgs_queued,
	       s.msgs_dropped, s.entries);
}

static int tx_stream(struct tdev *d, uint32_t first, unsigned int count,
		     size_t (*len_of)(uint32_t), struct vmm_tx_stats *st)
{
	struct vmm_tx_opts o = {
		.first_seq = first,
		.count = count,
		.len_of = len_of,
		.mode = -1,
		.hdr_len = HDR_LEN,
		.min_arrive = 14,
		.idle_timeout_ms = IDLE_MS,
	};

	if (d->iotlb)
		return viommu_tx_stream(&d->vi, &d->t, &o, st);
	return vmm_tx_stream(&d->v, &d->t, &o, st);
}

/* ---- RX ---- */

static int post_rx_buf(struct tdev *d, struct vmm_vq *q, int rand_layout)
{
	size_t len = 1536;
	int mode = VMM_DIRECT;
	unsigned int nseg = 1;

	if (rand_layout) {
		mode = rnd() % 3;
		nseg = 1 + rnd() % 8;
		switch (rnd() % 3) {
		case 0:
			len = 64 + rnd() % 256;
			break;
		case 1:
			len = 1536;
			break;
		default:
			len = 64 + rnd() % 8192;
			break;
		}
	}
	if (mode == VMM_CHAIN && q->num_free < nseg)
		return -ENOSPC;
	if (d->iotlb)
		return viommu_post_rx(&d->vi, q, len, mode, nseg);
	return vmm_post_rx(q, len, mode, nseg);
}

static int fill_rx(struct tdev *d, int rand_layout)
{
	struct vmm_vq *q = &d->v.vq[VMM_RX];
	int n = 0;

	while (q->num_free >= VMM_MAX_SEGS &&
	       post_rx_buf(d, q, rand_layout) >= 0)
		n++;
	if (n)
		vmm_kick(q);
	return n;
}

static int check_frame(const uint8_t *buf, ssize_t total, unsigned int nbufs,
		       uint32_t seq, size_t len, char *msg, size_t msz)
{
	static __thread uint8_t want[MAX_FRAME];
	static const uint8_t zero[10];

	if (total != (ssize_t)(HDR_LEN + len)) {
		snprintf(msg, msz, "seq %u: got %zd bytes, want %d + %zu",
			 seq, total, HDR_LEN, len);
		return -EBADMSG;
	}
	vmm_gen_frame(seq, want, len);
	if (memcmp(buf + HDR_LEN, want, len)) {
		snprintf(msg, msz, "seq %u (len %zu): data differs", seq, len);
		return -EBADMSG;
	}
	if (memcmp(buf, zero, 10) || (buf[10] | buf[11] << 8) != (int)nbufs) {
		snprintf(msg, msz, "seq %u: bad header", seq);
		return -EBADMSG;
	}
	return 0;
}

struct rx_stats {
	unsigned int received;
	long long ms;
};

static int rx_stream(struct tdev *d, uint32_t seq, unsigned int count,
		     size_t (*len_of)(uint32_t), int rand_layout,
		     struct rx_stats *st, char *msg, size_t msz)
{
	static __thread uint8_t frame[MAX_FRAME], buf[VMM_SLOT_SIZE * 2];
	struct vmm_vq *q = &d->v.vq[VMM_RX];
	long long start = vmm_now_ms(), progress = start;
	unsigned int sent = 0, got = 0, nbufs, window = 128;
	int r;

	memset(st, 0, sizeof(*st));
	fill_rx(d, rand_layout);
	while (got < count) {
		int progressed = 0;
		ssize_t n;

		while (sent < count && sent - got < window) {
			size_t len = len_of(seq + sent);

			vmm_gen_frame(seq + sent, frame, len);
			r = vmm_inject(d->inj, frame, len);
			if (r) {
				snprintf(msg, msz, "inject seq %u: %s",
					 seq + sent, strerror(-r));
				return r;
			}
			sent++;
			progressed = 1;
		}
		for (;;) {
			if (d->iotlb)
				n = viommu_rx_frame(&d->vi, q, 1, buf,
						    sizeof(buf), &nbufs,
						    IDLE_MS);
			else
				n = vmm_rx_frame(q, 1, buf, sizeof(buf),
						 &nbufs, IDLE_MS);
			if (n <= 0)
				break;
			r = check_frame(buf, n, nbufs, seq + got,
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
		if (fill_rx(d, rand_layout))
			progressed = 1;
		r = vmm_idle_step(q, 1, progressed, &progress,
				  IDLE_MS, 20);
		if (r < 0) {
			snprintf(msg, msz,
				 "stalled: sent %u received %u, avail %u used %u",
				 sent, got, q->avail_idx, vmm_used_idx(q));
			return r;
		}
	}
	st->received = got;
	st->ms = vmm_now_ms() - start;
	return 0;
}

/* ---- fixture ---- */

FIXTURE(traffic) {
	struct tdev d;
};

FIXTURE_VARIANT(traffic) {
	unsigned int shift;
	unsigned int flags;	/* viommu_bringup() flags */
};

FIXTURE_VARIANT_ADD(traffic, page4k) {
	.shift = VIOMMU_4K_SHIFT,
};

FIXTURE_VARIANT_ADD(traffic, page2m) {
	.shift = VIOMMU_2M_SHIFT,
};

/* struct vhost_msg (no IOTLB_MSG_V2) both ways */
FIXTURE_VARIANT_ADD(traffic, page4k_msg_v1) {
	.shift = VIOMMU_4K_SHIFT,
	.flags = VIOMMU_V1,
};

FIXTURE_SETUP(traffic)
{
	vmm_init_closed(&self->d.v, &self->d.t);
	memset(&self->d.vi, 0, sizeof(self->d.vi));
	self->d.inj = -1;
	self->d.iotlb = 0;
}

FIXTURE_TEARDOWN(traffic)
{
	tdev_down(&self->d);
}

#define UP(fl, manual, nobackend) do {				\
	int _r = tdev_up(&self->d, 1, variant->shift,			\
			 (fl) | variant->flags, manual, nobackend);	\
	if (is_absent(_r) || _r == -EOPNOTSUPP)				\
		SKIP(return, "no device IOTLB on %s: %s",		\
		     ivhost_dev_path(), ivhost_strerror(_r));			\
	ASSERT_EQ(0, _r);						\
} while (0)

TEST_F_TIMEOUT(traffic, tx, 300)
{
	struct vmm_tx_stats st;
	int r;

	UP(0, 0, 0);
	r = tx_stream(&self->d, 1, 2000, tx_len, &st);
	if (r) {
		TH_LOG("%s", st.msg);
		dump(_metadata, &self->d);
	}
	ASSERT_EQ(0, r);
	ASSERT_EQ(st.expected, st.received);
	ASSERT_LT(0ULL, (unsigned long long)self->d.vi.updates);
	ASSERT_EQ(0ULL, (unsigned long long)self->d.vi.unmapped);
	TH_LOG("%u frames, %lu misses served", st.received,
	       self->d.vi.updates);
}

TEST_F_TIMEOUT(traffic, rx, 300)
{
	struct rx_stats st;
	char msg[256] = "";
	int r;

	UP(0, 0, 0);
	rng_state = seed() | 1;
	r = rx_stream(&self->d, 100, 2000, rx_len, 1, &st, msg, sizeof(msg));
	if (r) {
		TH_LOG("%s", msg);
		dump(_metadata, &self->d);
	}
	ASSERT_EQ(0, r);
	ASSERT_LT(0ULL, (unsigned long long)self->d.vi.updates);
	ASSERT_EQ(0ULL, (unsigned long long)self->d.vi.unmapped);
	TH_LOG("%u frames, %lu misses served", st.received,
	       self->d.vi.updates);
}

/* ---- invalidate and remap while traffic runs ---- */

struct churn {
	struct tdev *d;
	volatile int stop;
	unsigned long invalidations, remaps;
	int err;
};

/* A random IOVA inside a random data slot of a random vq. */
static uint64_t random_slot_iova(struct tdev *d, uint64_t *r)
{
	struct vmm_vq *q = &d->v.vq[*r % VMM_NVQS];
	uint16_t head;

	*r ^= *r << 13;
	*r ^= *r >> 7;
	*r ^= *r << 17;
	head = *r % q->num;
	return viommu_slot_iova(&d->vi, q, head) + (*r >> 20) % VMM_SLOT_SIZE;
}

static void *churn_thread(void *arg)
{
	struct churn *c = arg;
	uint64_t r = seed() * 31 + 7;

	while (!c->stop) {
		uint64_t iova = random_slot_iova(c->d, &r);
		int e;

		if ((r & 3) && viommu_movable(&c->d->vi, iova)) {
			e = viommu_remap_iova(&c->d->vi, iova, NULL);
			if (!e)
				c->remaps++;
		} else {
			e = viommu_invalidate_iova(&c->d->vi, iova);
			if (!e)
				c->invalidations++;
		}
		if (e && e != -EPERM && e != -ENOSPC) {
			c->err = e;
			break;
		}
		usleep(200);
	}
	return NULL;
}

struct rx_job {
	struct tdev *d;
	int r;
	struct rx_stats st;
	char msg[256];
};

static void *rx_job(void *arg)
{
	struct rx_job *j = arg;

	rng_state = seed() * 3 + 1;
	j->r = rx_stream(j->d, 5000, 3000, rx_len, 1, &j->st, j->msg,
			 sizeof(j->msg));
	return NULL;
}

TEST_F_TIMEOUT(traffic, remap_under_traffic, 300)
{
	struct churn c = { .d = &self->d };
	struct rx_job j = { .d = &self->d };
	struct vmm_tx_stats st;
	pthread_t ct, rt;
	int r;

	UP(0, 0, 0);
	ASSERT_EQ(0, pthread_create(&ct, NULL, churn_thread, &c));
	ASSERT_EQ(0, pthread_create(&rt, NULL, rx_job, &j));
	r = tx_stream(&self->d, 1, 3000, tx_len, &st);
	pthread_join(rt, NULL);
	c.stop = 1;
	pthread_join(ct, NULL);
	if (r)
		TH_LOG("tx: %s", st.msg);
	if (j.r)
		TH_LOG("rx: %s", j.msg);
	TH_LOG("%lu invalidations, %lu remaps, %lu misses served",
	       c.invalidations, c.remaps, self->d.vi.updates);
	ASSERT_EQ(0, c.err);
	ASSERT_EQ(0, r);
	ASSERT_EQ(0, j.r);
	ASSERT_EQ(st.expected, st.received);
	ASSERT_LT(0ULL, (unsigned long long)c.invalidations + c.remaps);
}

/* ---- a queue waiting on a miss resumes by itself ---- */

/*
 * A head whose data slot has an IOVA page boundary with room on both
 * sides; *x is the last byte of the page before it.
 */
static int head_with_boundary(struct tdev *d, struct vmm_vq *q, size_t need,
			      uint64_t *x)
{
	size_t ps = d->vi.ps;
	unsigned int h;

	for (h = 0; h < q->num; h++) {
		uint64_t s = viommu_slot_iova(&d->vi, q, h);
		uint64_t b = (s | (ps - 1)) + 1;

		/* pages of their own, not cached with the rings */
		if (b - 1 >= s && b + need <= s + VMM_SLOT_SIZE &&
		    viommu_movable(&d->vi, b - 1) &&
		    viommu_movable(&d->vi, b)) {
			*x = b - 1;
			return h;
		}
	}
	return -1;
}

/*
 * Post one buffer by hand whose first byte is the last byte of an IOVA
 * page, kick once, then answer every miss by hand and never kick again:
 * the frame must go out (TX) or come in (RX).
 */
static void miss_resumes(struct __test_metadata *_metadata, struct tdev *d,
			 int rx)
{
	struct vmm_vq *q = &d->v.vq[rx ? VMM_RX : VMM_TX];
	uint8_t data[HDR_LEN + 600], rbuf[2048];
	struct vhost_iotlb_msg m;
	int head, last_byte_miss = 0, got = 0;
	unsigned int nbufs;
	long long end;
	uint64_t x = 0;
	ssize_t n;

	head = head_with_boundary(d, q, rx ? 1536 : sizeof(data), &x);
	ASSERT_LE(0, head);
	/* take exactly that head from the free list */
	while (q->free_head != head)
		ASSERT_LE(0, vmm_desc_alloc(q, 1));
	ASSERT_EQ(head, vmm_desc_alloc(q, 1));
	memset(data, 0, HDR_LEN);
	vmm_gen_frame(77, data + HDR_LEN, sizeof(data) - HDR_LEN);
	if (rx) {
		memset(rbuf, VMM_RX_POISON, 1536);
		ASSERT_EQ(0, viommu_write(&d->vi, x, rbuf, 1536));
		vmm_put_desc(q, head, x, 1536, VRING_DESC_F_WRITE);
	} else {
		ASSERT_EQ(0, viommu_write(&d->vi, x, data, sizeof(data)));
		vmm_put_desc(q, head, x, sizeof(data), 0);
	}
	vmm_publish(q, head);
	ASSERT_EQ(0, vmm_kick(q));
	if (rx)
		ASSERT_EQ(0, vmm_inject(d->inj, data + HDR_LEN,
					sizeof(data) - HDR_LEN));

	/* Answer each miss by hand; never kick again. */
	end = vmm_now_ms() + 20000;
	while (!got && vmm_now_ms() < end) {
		int r = viommu_recv(&d->vi, &m, 50);

		ASSERT_LE(0, r);
		if (r == 1) {
			ASSERT_EQ(VHOST_IOTLB_MISS, m.type);
			if (m.iova == x)
				last_byte_miss = 1;
			ASSERT_EQ(1, viommu_answer(&d->vi, &m));
		}
		if (rx) {
			n = viommu_rx_frame(&d->vi, q, 1, rbuf, sizeof(rbuf),
					    &nbufs, 1000);
			if (!n)
				continue;
			ASSERT_EQ(sizeof(data), (size_t)n);
			data[10] = 1;	/* num_buffers */
			ASSERT_EQ(0, memcmp(rbuf, data, n));
			got = 1;
			continue;
		}
		n = vmm_tap_recv(&d->t, rbuf, sizeof(rbuf), 0);
		if (n >= 0) {
			ASSERT_EQ(sizeof(data) - HDR_LEN, (size_t)n);
			ASSERT_EQ(0, memcmp(rbuf, data + HDR_LEN, n));
			got = 1;
		}
	}
	ASSERT_EQ(1, got);
	ASSERT_EQ(1, last_byte_miss);
	TH_LOG("%lu misses answered by hand", d->vi.updates);
}

TEST_F_TIMEOUT(traffic, miss_resumes_without_kick, 120)
{
	UP(0, 1, 0);
	miss_resumes(_metadata, &self->d, 0);
}

TEST_F_TIMEOUT(traffic, rx_miss_resumes_without_kick, 120)
{
	UP(0, 1, 0);
	miss_resumes(_metadata, &self->d, 1);
}

/* ---- ivhost-only ---- */

/* Send one 600-byte frame on the TX queue; expect it on the tap. */
static void send_one(struct __test_metadata *_metadata, struct tdev *d,
		     uint32_t seq, int *head)
{
	struct vmm_vq *q = &d->v.vq[VMM_TX];
	uint8_t hdr[HDR_LEN] = { 0 }, frame[600], rbuf[2048];
	long long end = vmm_now_ms() + 10000;
	ssize_t n = -1;

	vmm_gen_frame(seq, frame, sizeof(frame));
	*head = viommu_post_tx(&d->vi, q, hdr, sizeof(hdr), frame,
			       sizeof(frame), VMM_DIRECT, 1);
	ASSERT_LE(0, *head);
	ASSERT_EQ(0, vmm_kick(q));
	while (vmm_reap(q, NULL, NULL) != 1 && vmm_now_ms() < end)
		vmm_wait_fd(q->call_fd, 10);
	while (n < 0 && vmm_now_ms() < end)
		n = vmm_tap_recv(&d->t, rbuf, sizeof(rbuf), 100);
	ASSERT_EQ(sizeof(frame), (size_t)n);
	ASSERT_EQ(0, memcmp(rbuf, frame, n));
}

/* Point the page of @iova at a spare page with the same bytes in the
 * VMM's table only (the device is not told): the new page's address. */
static void *remap_table_only(struct viommu *vi, uint64_t iova, void **old)
{
	int64_t s = (int64_t)((iova - vi->iova_base) >> vi->shift), pg, npg;
	uint8_t *mem = vi->v->mem;

	pthread_mutex_lock(&vi->lock);
	pg = vi->page_of[s];
	if (pg < 0 || !vi->nspare) {
		pthread_mutex_unlock(&vi->lock);
		return NULL;
	}
	npg = vi->spare[--vi->nspare];
	memcpy(mem + (npg << vi->shift), mem + (pg << vi->shift), vi->ps);
	vi->page_of[s] = npg;
	vi->slot_of[npg] = s;
	vi->slot_of[pg] = -1;
	*old = mem + (pg << vi->shift);
	pthread_mutex_unlock(&vi->lock);
	return mem + (npg << vi->shift);
}

/* The same, and tell the device with an UPDATE only (no INVALIDATE
 * first). */
static int remap_without_invalidate(struct viommu *vi, uint64_t iova,
				    void **old)
{
	void *np = remap_table_only(vi, iova, old);

	if (!np)
		return -ENOSPC;
	return viommu_send(vi, VHOST_IOTLB_UPDATE,
			   iova & ~(uint64_t)(vi->ps - 1), vi->ps,
			   (uintptr_t)np, VHOST_ACCESS_RW);
}

/*
 * The device drops a translation it evicted for room: once the VMM maps
 * the IOVA elsewhere (an UPDATE into the gap the eviction left, with no
 * INVALIDATE), the device uses the new memory, whatever it kept for
 * itself about the old one.
 */
TEST_F_TIMEOUT(traffic, evicted_then_remapped, 120)
{
	uint64_t i, iova;
	void *old;
	int head, head2;

	if (variant->shift != VIOMMU_4K_SHIFT || variant->flags)
		SKIP(return, "one variant is enough");
	UP(0, 0, 0);
	send_one(_metadata, &self->d, 1, &head);
	/* Three times the default iotlb_entries of both devices, at IOVAs
	 * below the vIOMMU's window: every older entry gets evicted. */
	for (i = 0; i < 3 * 2048; i++)
		ASSERT_EQ(0, viommu_send(&self->d.vi, VHOST_IOTLB_UPDATE,
					 (i + 1) << 12, 4096,
					 (uintptr_t)self->d.v.mem,
					 VHOST_ACCESS_RO));
	iova = viommu_slot_iova(&self->d.vi, &self->d.v.vq[VMM_TX], head);
	ASSERT_EQ(0, remap_without_invalidate(&self->d.vi, iova, &old));
	memset(old, 0x5a, self->d.vi.ps);
	/* The same head again (the free list is LIFO): the same IOVA. */
	send_one(_metadata, &self->d, 2, &head2);
	ASSERT_EQ(head, head2);
	send_one(_metadata, &self->d, 3, &head2);
}

/*
 * Last write wins: an UPDATE of an IOVA the device holds a translation
 * of, with another uaddr and no INVALIDATE before it, replaces that
 * translation at once (the kernel device's semantics; QEMU relies on it
 * when a vIOMMU page is remapped without an unmap it was told of).  The
 * old memory is poisoned: a frame read from it differs.
 */
TEST_F_TIMEOUT(traffic, update_replaces_mapping, 60)
{
	uint64_t iova;
	void *old;
	int head, head2;

	if (variant->shift != VIOMMU_4K_SHIFT || variant->flags)
		SKIP(return, "one variant is enough");
	if (!ivhost_dev_is_user() && !ivhost_dev_is_ivhost())
		SKIP(return, "vhost_net keeps overlapping UPDATEs side by side "
		     "and answers the older one (a documented difference)");
	UP(0, 0, 0);
	send_one(_metadata, &self->d, 1, &head);
	iova = viommu_slot_iova(&self->d.vi, &self->d.v.vq[VMM_TX], head);
	ASSERT_EQ(0, remap_without_invalidate(&self->d.vi, iova, &old));
	memset(old, 0x5a, self->d.vi.ps);
	/* The same head again (the free list is LIFO): the same IOVA. */
	send_one(_metadata, &self->d, 2, &head2);
	ASSERT_EQ(head, head2);
}

/*
 * An INVALIDATE whose range ends at exactly 2^64 (iova + size wraps to 0,
 * as QEMU sends on a lazy DEVIOTLB flush) removes every translation from
 * its iova up: the buffer's page, pointed at other memory in the VMM's
 * table, is asked for again and read from the new memory.
 */
TEST_F_TIMEOUT(traffic, invalidate_up_to_2_64, 60)
{
	uint64_t iova, base;
	void *old;
	int head, head2;

	if (variant->shift != VIOMMU_4K_SHIFT || variant->flags)
		SKIP(return, "one variant is enough");
	UP(0, 0, 0);
	send_one(_metadata, &self->d, 1, &head);
	iova = viommu_slot_iova(&self->d.vi, &self->d.v.vq[VMM_TX], head);
	base = iova & ~(uint64_t)(self->d.vi.ps - 1);
	ASSERT_EQ(0, viommu_send(&self->d.vi, VHOST_IOTLB_INVALIDATE, base,
				 0 - base, 0, 0));
	ASSERT_NE(NULL, remap_table_only(&self->d.vi, iova, &old));
	memset(old, 0x5a, self->d.vi.ps);
	send_one(_metadata, &self->d, 2, &head2);
	ASSERT_EQ(head, head2);
	TH_LOG("%lu misses served", self->d.vi.updates);
}

/*
 * A chain waiting on a MISS has the buffers of the chains after it asked
 * for too: with 8 frames posted and nothing of theirs mapped, 8 buffer
 * MISS messages queue before the VMM answers any (vhost_net asks for one
 * at a time).
 */
TEST_F_TIMEOUT(traffic, ivhost_only_misses_ask_ahead, 120)
{
	struct vmm_vq *q = &self->d.v.vq[VMM_TX];
	uint8_t hdr[HDR_LEN] = { 0 }, frame[600], rbuf[2048];
	struct vhost_iotlb_msg m, held[64];
	unsigned int nheld = 0, got = 0, i;
	long long end;
	int r;

	IVHOST_CORE_ONLY();
	if (variant->shift != VIOMMU_4K_SHIFT || variant->flags)
		SKIP(return, "one variant is enough");
	UP(0, 1, 0);
	for (i = 0; i < 8; i++) {
		vmm_gen_frame(i, frame, sizeof(frame));
		ASSERT_LE(0, viommu_post_tx(&self->d.vi, q, hdr, sizeof(hdr),
					    frame, sizeof(frame), VMM_DIRECT,
					    1));
	}
	ASSERT_EQ(0, vmm_kick(q));
	/* Answer the rings' misses; hold the buffers' until none come. */
	while ((r = viommu_recv(&self->d.vi, &m, 1000)) == 1) {
		ASSERT_EQ(VHOST_IOTLB_MISS, m.type);
		if (!viommu_movable(&self->d.vi, m.iova)) {
			ASSERT_EQ(1, viommu_answer(&self->d.vi, &m));
			continue;
		}
		ASSERT_GT(64U, nheld);
		held[nheld++] = m;
	}
	ASSERT_EQ(0, r);
	ASSERT_EQ(8U, nheld);
	for (i = 0; i < nheld; i++)
		ASSERT_EQ(1, viommu_answer(&self->d.vi, &held[i]));
	ASSERT_EQ(0, viommu_start(&self->d.vi));
	end = vmm_now_ms() + 10000;
	while (got < 8 && vmm_now_ms() < end)
		if (vmm_tap_recv(&self->d.t, rbuf, sizeof(rbuf), 100) >= 0)
			got++;
	ASSERT_EQ(8U, got);
}

TEST_F_TIMEOUT(traffic, ivhost_only_isolation, 300)
{
	struct vmm_tx_stats st;
	struct rx_stats rs;
	char msg[256] = "";
	void *old[8];
	size_t i, k, moved = 0;
	uint64_t r = seed() * 5 + 3;
	int e;

	IVHOST_CORE_ONLY();
	UP(0, 0, 0);
	/* Warm the cache: every data page gets used. */
	ASSERT_EQ(0, tx_stream(&self->d, 1, 600, fixed_1514, &st));
	rng_state = seed() | 1;
	ASSERT_EQ(0, rx_stream(&self->d, 1, 600, rx_len, 1, &rs, msg,
			       sizeof(msg)));
	/* Move some data pages away; the old memory gets a canary. */
	for (k = 0; k < 2000 && moved < 8; k++) {
		uint64_t iova = random_slot_iova(&self->d, &r);

		if (!viommu_movable(&self->d.vi, iova))
			continue;
		e = viommu_remap_iova(&self->d.vi, iova, &old[moved]);
		if (e == -ENOSPC)
			break;
		ASSERT_EQ(0, e);
		memset(old[moved], 0x5a, self->d.vi.ps);
		moved++;
	}
	ASSERT_LT(0ULL, (unsigned long long)moved);
	ASSERT_EQ(0, tx_stream(&self->d, 10000, 1500, tx_len, &st));
	e = rx_stream(&self->d, 10000, 1500, rx_len, 1, &rs, msg,
		      sizeof(msg));
	if (e)
		TH_LOG("%s", msg);
	ASSERT_EQ(0, e);
	for (k = 0; k < moved; k++)
		for (i = 0; i < self->d.vi.ps; i++)
			if (((uint8_t *)old[k])[i] != 0x5a) {
				TH_LOG("old page %zu written at +%zu", k, i);
				ASSERT_TRUE(0);
			}
	TH_LOG("%zu pages moved, old memory untouched", moved);
}

TEST_F_TIMEOUT(traffic, ivhost_only_access_fail_ro_rx, 60)
{
	struct vmm_vq *q = &self->d.v.vq[VMM_RX];
	struct ivhost_iotlb_stats s;
	uint8_t frame[200], buf[1536];
	uint64_t slot;
	long long end;
	size_t i;
	int head;

	IVHOST_ONLY();
	UP(0, 0, 0);
	/* a head whose slot is on a page of its own, not a ring page */
	while (!viommu_movable(&self->d.vi,
			       viommu_slot_iova(&self->d.vi, q, q->free_head)))
		ASSERT_LE(0, vmm_desc_alloc(q, 1));
	head = q->free_head;
	slot = viommu_slot_iova(&self->d.vi, q, head);
	ASSERT_EQ(0, viommu_set_perm(&self->d.vi, slot, VHOST_ACCESS_RO));
	ASSERT_EQ(head, viommu_post_rx(&self->d.vi, q, sizeof(buf),
				       VMM_DIRECT, 1));
	ASSERT_EQ(0, vmm_kick(q));
	vmm_gen_frame(1, frame, sizeof(frame));
	ASSERT_EQ(0, vmm_inject(self->d.inj, frame, sizeof(frame)));
	ASSERT_EQ(1, vmm_wait_fd(q->err_fd, 10000));
	end = vmm_now_ms() + 5000;
	while (!self->d.vi.access_fails && vmm_now_ms() < end)
		usleep(1000);
	ASSERT_LT(0ULL, (unsigned long long)self->d.vi.access_fails);
	ASSERT_EQ(VHOST_IOTLB_ACCESS_FAIL, self->d.vi.last_fail.type);
	ASSERT_EQ(VHOST_ACCESS_WO, self->d.vi.last_fail.perm & VHOST_ACCESS_WO);
	ASSERT_LE(slot & ~(uint64_t)(self->d.vi.ps - 1),
		  self->d.vi.last_fail.iova);
	ASSERT_GT((slot | (self->d.vi.ps - 1)) + 1, self->d.vi.last_fail.iova);
	/* the guest buffer is untouched, nothing was used */
	ASSERT_EQ(0, viommu_read(&self->d.vi, slot, buf, sizeof(buf)));
	for (i = 0; i < sizeof(buf); i++)
		ASSERT_EQ(VMM_RX_POISON, buf[i]);
	ASSERT_EQ(0, vmm_used_idx(q));
	ASSERT_EQ(0, viommu_get_stats(&self->d.vi, &s));
	ASSERT_LT(0ULL, (unsigned long long)s.access_fails);
}

TEST_F_TIMEOUT(traffic, ivhost_only_batch_applies_at_end, 60)
{
	struct vmm_vq *q = &self->d.v.vq[VMM_TX];
	struct ivhost_iotlb_stats before, mid, after;
	struct vhost_iotlb_msg m, m2;
	uint8_t frame[300], rbuf[2048];
	struct vmm_tx_stats st;
	long long end;
	ssize_t n;
	int r;

	IVHOST_ONLY();
	UP(VIOMMU_BATCH, 1, 0);
	ASSERT_TRUE(!!(self->d.vi.backend_features &
		    (1ULL << VHOST_BACKEND_F_IOTLB_BATCH)));
	memset(frame, 0, HDR_LEN);
	vmm_gen_frame(5, frame + HDR_LEN, sizeof(frame) - HDR_LEN);
	/* a head whose data is on a page not cached with the rings */
	while (!viommu_movable(&self->d.vi,
			       viommu_slot_iova(&self->d.vi, q, q->free_head)))
		ASSERT_LE(0, vmm_desc_alloc(q, 1));
	ASSERT_LE(0, viommu_post_tx(&self->d.vi, q, NULL, 0, frame,
				    sizeof(frame), VMM_DIRECT, 1));
	ASSERT_EQ(0, vmm_kick(q));
	ASSERT_EQ(1, viommu_recv(&self->d.vi, &m, 10000));
	ASSERT_EQ(VHOST_IOTLB_MISS, m.type);
	ASSERT_EQ(0, viommu_get_stats(&self->d.vi, &before));

	ASSERT_EQ(0, viommu_send(&self->d.vi, VHOST_IOTLB_BATCH_BEGIN, 0, 0,
				 0, 0));
	ASSERT_EQ(1, viommu_answer(&self->d.vi, &m));
	/* Nothing applied: no update counted, the queue still waits. */
	r = viommu_recv(&self->d.vi, &m2, 300);
	ASSERT_LE(0, r);
	ASSERT_EQ(0, viommu_get_stats(&self->d.vi, &mid));
	ASSERT_EQ(before.updates, mid.updates);
	ASSERT_EQ(before.entries, mid.entries);
	ASSERT_EQ(0, vmm_used_idx(q));

	ASSERT_EQ(0, viommu_send(&self->d.vi, VHOST_IOTLB_BATCH_END, 0, 0,
				 0, 0));
	ASSERT_EQ(0, viommu_get_stats(&self->d.vi, &after));
	ASSERT_EQ(before.updates + 1, after.updates);
	if (r == 1)
		viommu_answer(&self->d.vi, &m2);
	/* Serve the rest; the frame goes out. */
	ASSERT_EQ(0, viommu_start(&self->d.vi));
	end = vmm_now_ms() + 10000;
	n = -1;
	while (n < 0 && vmm_now_ms() < end)
		n = vmm_tap_recv(&self->d.t, rbuf, sizeof(rbuf), 100);
	ASSERT_EQ(sizeof(frame) - HDR_LEN, (size_t)n);
	ASSERT_EQ(0, memcmp(rbuf, frame + HDR_LEN, n));
	/* and traffic flows on */
	ASSERT_EQ(0, tx_stream(&self->d, 1, 200, tx_len, &st));
}

TEST_F_TIMEOUT(traffic, ivhost_only_counters, 120)
{
	struct ivhost_iotlb_stats s, s0;
	struct vmm_tx_stats st;
	unsigned long long rtts = 0;
	unsigned int i;

	IVHOST_ONLY();
	UP(0, 0, 0);
	/* before traffic: the used rings' UPDATEs, maybe ring misses */
	ASSERT_EQ(0, viommu_get_stats(&self->d.vi, &s0));
	ASSERT_LE(s0.miss_msgs, 6ULL);
	ASSERT_LT(0ULL, (unsigned long long)s0.updates);
	ASSERT_LE(s0.entries, s0.updates);
	ASSERT_EQ(0, tx_stream(&self->d, 1, 1000, tx_len, &st));
	ASSERT_EQ(0, viommu_invalidate_iova(&self->d.vi,
		  viommu_slot_iova(&self->d.vi, &self->d.v.vq[VMM_TX], 0)));
	viommu_stop(&self->d.vi);
	ASSERT_EQ(0, viommu_get_stats(&self->d.vi, &s));
	for (i = 0; i < IVHOST_RTT_BUCKETS; i++)
		rtts += s.rtt_us[i];
	TH_LOG("hits %llu misses %llu deduped %llu miss_msgs %llu updates %llu invalidations %llu evictions %llu entries %llu queued %llu dropped %llu wait %llu us, %llu round trips",
	       s.hits, s.misses, s.misses_deduped, s.miss_msgs, s.updates,
	       s.invalidations, s.evictions, s.entries, s.msgs_queued,
	       s.msgs_dropped, s.miss_wait_ns / 1000, rtts);
	ASSERT_LT(0ULL, (unsigned long long)s.hits);
	ASSERT_LT(0ULL, (unsigned long long)s.miss_msgs);
	ASSERT_LE(s.miss_msgs, s.misses);
	ASSERT_LE(s.misses_deduped, s.misses);
	/* every MISS was read by the server and answered by one UPDATE */
	ASSERT_EQ(self->d.vi.misses + s.msgs_queued, s.miss_msgs);
	ASSERT_EQ(self->d.vi.updates + self->d.vi.manual_updates, s.updates);
	ASSERT_EQ(1ULL, (unsigned long long)s.invalidations);
	ASSERT_EQ(0ULL, (unsigned long long)s.access_fails);
	ASSERT_EQ(0ULL, (unsigned long long)s.msgs_dropped);
	ASSERT_LE(s.entries, s.updates);
	ASSERT_LT(0ULL, (unsigned long long)s.entries);
	ASSERT_LE(s.entries, 2048ULL);
	ASSERT_LE(rtts, s.miss_msgs);
	ASSERT_LT(0ULL, (unsigned long long)rtts);
	ASSERT_LT(0ULL, (unsigned long long)s.miss_wait_ns);
	/* round trips are measured on one clock across CPUs: none can be
	 * longer than the whole test (a backwards clock read as 2^64 - n) */
	ASSERT_EQ(0ULL, (unsigned long long)s.rtt_us[IVHOST_RTT_BUCKETS - 1]);
	ASSERT_GT(120ULL * 1000000000, (unsigned long long)s.miss_wait_ns);
}

/* ---- regressions found by an audit (ivhost only) ---- */

/*
 * Each test below failed against the driver at commit b032a2e and checks
 * the behaviour README documents.  They need the device IOTLB, so they
 * run on ivhost only; one bring-up (4 KiB pages) is enough for each.
 */
FIXTURE(regress) {
	struct tdev d;
};

FIXTURE_SETUP(regress)
{
	vmm_init_closed(&self->d.v, &self->d.t);
	memset(&self->d.vi, 0, sizeof(self->d.vi));
	self->d.inj = -1;
	self->d.iotlb = 0;
}

FIXTURE_TEARDOWN(regress)
{
	tdev_down(&self->d);
}

/* @num-entry rings, 4 KiB pages; miss server unless @manual. */
#define REGRESS_UP(num, manual, nobackend) do {				\
	int _r = tdev_up_num(&self->d, 1, VIOMMU_4K_SHIFT, 0, manual,	\
			     nobackend, num);				\
	if (is_absent(_r) || _r == -EOPNOTSUPP)				\
		SKIP(return, "no device IOTLB on %s: %s",		\
		     ivhost_dev_path(), ivhost_strerror(_r));			\
	ASSERT_EQ(0, _r);						\
} while (0)

#define PAGE		4096ULL
/* IOVAs below every vIOMMU window (those start at 4 GiB or higher): the
 * fillers one page each, the large entry from BIG_IOVA. */
#define FILL_IOVA	0x10000000ULL
#define BIG_IOVA	0x80000000ULL
#define CANARY		0x5a

/* The cache's entry limit: ivhost's iotlb_entries, at least 1088. */
static unsigned int iotlb_limit(void)
{
	char buf[32];
	unsigned long n;

	if (vmm_read_sysfs("/sys/module/ivhost/parameters/iotlb_entries", buf,
			   sizeof(buf)))
		return 2048;
	n = strtoul(buf, NULL, 10);
	return n < 1088 ? 1088 : (unsigned int)n;
}

/*
 * Fill the cache to exactly @limit entries: read-only single-page
 * fillers at FILL_IOVA and up, and among them one entry of @big_pages
 * pages at BIG_IOVA onto @big.  Returns the next free filler IOVA.
 */
static uint64_t fill_cache(struct __test_metadata *_metadata, struct tdev *d,
			   unsigned int limit, void *big, size_t big_pages)
{
	struct ivhost_iotlb_stats s;
	uint64_t iova = FILL_IOVA;
	unsigned int i, n;

	EXPECT_EQ(0, viommu_get_stats(&d->vi, &s));
	if (s.entries + 2 > limit) {
		TH_LOG("%llu entries before filling", s.entries);
		EXPECT_TRUE(0);
		return 0;
	}
	n = limit - (unsigned int)s.entries - 1;
	for (i = 0; i < n; i++, iova += PAGE) {
		if (i == n / 2)
			EXPECT_EQ(0, viommu_send(&d->vi, VHOST_IOTLB_UPDATE,
						 BIG_IOVA, big_pages * PAGE,
						 (uintptr_t)big,
						 VHOST_ACCESS_RO));
		EXPECT_EQ(0, viommu_send(&d->vi, VHOST_IOTLB_UPDATE, iova,
					 PAGE, (uintptr_t)d->v.mem,
					 VHOST_ACCESS_RO));
	}
	EXPECT_EQ(0, viommu_get_stats(&d->vi, &s));
	EXPECT_EQ((unsigned long long)limit, s.entries);
	return iova;
}

/*
 * Split the large entry @n more times; *@next counts the splits so far.
 * Split k INVALIDATEs page 2k + 1 of it, cutting one page off the tail
 * left by the split before, which moves on to page 2k + 2.  In a full
 * cache each split makes one entry too many, and the CLOCK evicts one.
 */
static void split_big(struct __test_metadata *_metadata, struct tdev *d,
		      uint64_t *next, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++, (*next)++)
		ASSERT_EQ(0, viommu_send(&d->vi, VHOST_IOTLB_INVALIDATE,
					 BIG_IOVA + (2 * *next + 1) * PAGE,
					 PAGE, 0, 0));
}

static void *map_big(size_t pages)
{
	void *p = mmap(NULL, pages * PAGE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

/*
 * Post one 600-byte frame in TX head @want (the free list is LIFO, so
 * the head just reaped), kick, and check what reaches the tap: the
 * frame, not the canary of a page the IOVA no longer maps.
 */
static void send_same_head(struct __test_metadata *_metadata, struct tdev *d,
			   uint32_t seq, int want)
{
	struct vmm_vq *q = &d->v.vq[VMM_TX];
	uint8_t hdr[HDR_LEN] = { 0 }, frame[600], rbuf[2048];
	long long end = vmm_now_ms() + 10000;
	ssize_t n = -1;
	size_t i, canary = 0;
	int head;

	vmm_gen_frame(seq, frame, sizeof(frame));
	head = viommu_post_tx(&d->vi, q, hdr, sizeof(hdr), frame,
			      sizeof(frame), VMM_DIRECT, 1);
	ASSERT_EQ(want, head);
	ASSERT_EQ(0, vmm_kick(q));
	while (n < 0 && vmm_now_ms() < end)
		n = vmm_tap_recv(&d->t, rbuf, sizeof(rbuf), 100);
	ASSERT_EQ(sizeof(frame), (size_t)n) TH_LOG("frame %u not sent", seq);
	for (i = 0; i < sizeof(frame); i++)
		canary += rbuf[i] == CANARY;
	ASSERT_EQ(0, memcmp(rbuf, frame, n))
		TH_LOG("frame %u carries other bytes (%zu of %zd are the old page's canary 0x%x): the device read the page the IOVA mapped before the UPDATE",
		       seq, canary, n, CANARY);
	while (vmm_reap(q, NULL, NULL) != 1 && vmm_now_ms() < end)
		vmm_wait_fd(q->call_fd, 10);
}

/*
 * A1.  Eviction is a barrier.  The TX queue keeps the translation it used
 * last (its buffer's page).  The cache is filled, then INVALIDATEs that
 * split one large entry evict by CLOCK, two full turns, so the buffer's
 * entry goes too.  With the large entry's tail dropped there is room, so
 * an UPDATE alone (no INVALIDATE: the IOVA is unmapped as far as the
 * cache is concerned) points the buffer's IOVA page at a new page and
 * evicts nothing.  The next frame from that buffer must carry the new
 * page's bytes, never the old page's.
 */
TEST_F_TIMEOUT(regress, ivhost_only_split_eviction_is_a_barrier, 120)
{
	unsigned int limit = iotlb_limit(), nsplit = 2 * limit + 16;
	size_t big_pages = 2 * (size_t)nsplit + 2;
	struct vmm_vq *q = &self->d.v.vq[VMM_TX];
	struct ivhost_iotlb_stats s0, s1, s2;
	uint64_t buf_iova, next = 0, tail;
	void *big, *old;
	int head;

	IVHOST_ONLY();
	REGRESS_UP(RING_NUM, 0, 0);
	big = map_big(big_pages);
	ASSERT_NE(NULL, big);
	send_one(_metadata, &self->d, 1, &head);
	buf_iova = viommu_slot_iova(&self->d.vi, q, head);
	ASSERT_TRUE(viommu_movable(&self->d.vi, buf_iova));

	fill_cache(_metadata, &self->d, limit, big, big_pages);
	ASSERT_EQ(0, viommu_get_stats(&self->d.vi, &s0));
	split_big(_metadata, &self->d, &next, nsplit);
	ASSERT_EQ(0, viommu_get_stats(&self->d.vi, &s1));
	TH_LOG("limit %u: %u splits evicted %llu entries",
	       limit, nsplit, s1.evictions - s0.evictions);
	ASSERT_LE(s0.evictions + 2ULL * limit, s1.evictions);

	tail = BIG_IOVA + 2 * (uint64_t)nsplit * PAGE;
	ASSERT_EQ(0, viommu_send(&self->d.vi, VHOST_IOTLB_INVALIDATE, tail,
				 BIG_IOVA + big_pages * PAGE - tail, 0, 0));
	ASSERT_EQ(0, viommu_get_stats(&self->d.vi, &s1));
	ASSERT_GT((unsigned long long)limit, s1.entries);

	ASSERT_EQ(0, remap_without_invalidate(&self->d.vi, buf_iova, &old));
	memset(old, CANARY, self->d.vi.ps);
	ASSERT_EQ(0, viommu_get_stats(&self->d.vi, &s2));
	/* the UPDATE evicted nothing: it is no barrier of its own */
	ASSERT_EQ(s1.evictions, s2.evictions);

	send_same_head(_metadata, &self->d, 2, head);
	send_same_head(_metadata, &self->d, 3, head);
	munmap(big, big_pages * PAGE);
}

/* Whether @iova lies in the @len bytes of IOVA space from @start. */
static int in_range(uint64_t iova, uint64_t start, uint64_t len)
{
	return iova >= start && iova - start < len;
}

/*
 * A1, second part.  Entries a queue uses every round survive eviction
 * pressure: between two TX frames a quarter of the cache is evicted (by
 * splits of a large entry in a full cache), ten times over, so the
 * CLOCK turns more than twice; the TX queue's rings and its buffer are
 * used every round in between and must stay cached.  At the end an
 * UPDATE that evicts makes every queue translate afresh, and the next
 * frame must find its rings and buffer still mapped: no MISS for them.
 */
TEST_F_TIMEOUT(regress, ivhost_only_used_entries_survive_eviction, 180)
{
	unsigned int limit = iotlb_limit(), per_round = limit / 4;
	unsigned int rounds = 10, nsplit = per_round * rounds, i, used_misses = 0;
	size_t big_pages = 2 * (size_t)nsplit + 2;
	struct vmm_vq *q = &self->d.v.vq[VMM_TX];
	uint8_t hdr[HDR_LEN] = { 0 }, frame[600], rbuf[2048];
	struct ivhost_iotlb_stats s0, s1;
	uint64_t desc, avail, used, buf_iova, next = 0, fill;
	struct vhost_iotlb_msg m;
	long long end;
	ssize_t n = -1;
	void *big;
	int head, h;

	SPLIT_ONLY("split ring areas");
	IVHOST_ONLY();
	REGRESS_UP(RING_NUM, 0, 0);
	big = map_big(big_pages);
	ASSERT_NE(NULL, big);
	desc = viommu_iova(&self->d.vi, q->desc);
	avail = viommu_iova(&self->d.vi, q->avail);
	used = viommu_iova(&self->d.vi, q->used);
	send_one(_metadata, &self->d, 1, &head);
	buf_iova = viommu_slot_iova(&self->d.vi, q, head);
	fill = fill_cache(_metadata, &self->d, limit, big, big_pages);
	ASSERT_EQ(0, viommu_get_stats(&self->d.vi, &s0));
	for (i = 0; i < rounds; i++) {
		send_one(_metadata, &self->d, 10 + i, &h);
		ASSERT_EQ(head, h);
		split_big(_metadata, &self->d, &next, per_round);
	}
	ASSERT_EQ(0, viommu_get_stats(&self->d.vi, &s1));
	TH_LOG("limit %u: %u splits in %u rounds evicted %llu entries",
	       limit, nsplit, rounds, s1.evictions - s0.evictions);
	ASSERT_LE(s0.evictions + 2ULL * limit, s1.evictions);

	/* From here on the misses are answered (and counted) by hand. */
	viommu_stop(&self->d.vi);
	ASSERT_EQ(0, viommu_send(&self->d.vi, VHOST_IOTLB_UPDATE, fill, PAGE,
				 (uintptr_t)self->d.v.mem, VHOST_ACCESS_RO));
	vmm_gen_frame(99, frame, sizeof(frame));
	ASSERT_EQ(head, viommu_post_tx(&self->d.vi, q, hdr, sizeof(hdr),
				       frame, sizeof(frame), VMM_DIRECT, 1));
	ASSERT_EQ(0, vmm_kick(q));
	end = vmm_now_ms() + 10000;
	while (n < 0 && vmm_now_ms() < end) {
		while (viommu_recv(&self->d.vi, &m, 0) == 1) {
			if (m.type != VHOST_IOTLB_MISS)
				continue;
			if (in_range(m.iova, desc, 16 * q->num) ||
			    in_range(m.iova, avail, 6 + 2 * q->num) ||
			    in_range(m.iova, used, 6 + 8 * q->num) ||
			    in_range(m.iova, buf_iova & ~(PAGE - 1), PAGE)) {
				TH_LOG("MISS for 0x%llx, used by the TX queue every round",
				       (unsigned long long)m.iova);
				used_misses++;
			}
			viommu_answer(&self->d.vi, &m);
		}
		n = vmm_tap_recv(&self->d.t, rbuf, sizeof(rbuf), 20);
	}
	ASSERT_EQ(sizeof(frame), (size_t)n);
	ASSERT_EQ(0, memcmp(rbuf, frame, n));
	EXPECT_EQ(0U, used_misses)
		TH_LOG("entries the TX queue used every round were evicted");
	munmap(big, big_pages * PAGE);
}

/* ---- A2: VHOST_SET_VRING_NUM and the rings' translations ---- */

/*
 * Post one 600-byte TX frame by hand in head @head (>= 256: its
 * descriptor lies on the second page of a 512-entry table), its data in
 * the head's slot.  The slot stays unmapped until the device asks.
 */
static void post_head(struct __test_metadata *_metadata, struct tdev *d,
		      struct vmm_vq *q, uint16_t head, uint32_t seq,
		      uint8_t *frame)
{
	uint8_t data[HDR_LEN + 600];
	uint64_t slot = viommu_slot_iova(&d->vi, q, head);

	memset(data, 0, HDR_LEN);
	vmm_gen_frame(seq, frame, 600);
	memcpy(data + HDR_LEN, frame, 600);
	ASSERT_EQ(0, viommu_write(&d->vi, slot, data, sizeof(data)));
	q->desc[head].addr = slot;
	q->desc[head].len = sizeof(data);
	q->desc[head].flags = 0;
	q->desc[head].next = 0;
	q->chain_len[head] = 1;
	q->num_free--;
	vmm_publish(q, head);
}

/*
 * The TX queue runs at 512 entries with only the first page of its
 * descriptor table and of its used ring mapped (the second pages were
 * never mapped, or were invalidated).  A frame in head 300 is posted and
 * kicked.  The device must ask for the second pages (desc + 4096 and/or
 * used + 4096) before it touches them: no MISS for the frame's buffer
 * (which would mean it read descriptor 300), no frame on the tap and no
 * write to the used ring's second page (poisoned) before that MISS.
 * Once everything is answered, the frame goes out.
 */
static void expect_ring_miss(struct __test_metadata *_metadata,
			     struct tdev *d)
{
	struct vmm_vq *q = &d->v.vq[VMM_TX];
	uint64_t desc = viommu_iova(&d->vi, q->desc);
	uint64_t used = viommu_iova(&d->vi, q->used);
	uint8_t *used2 = (uint8_t *)q->used + PAGE, frame[600], rbuf[2048];
	unsigned int i, early = 0, ring_miss = 0, written = 0, sent = 0;
	struct vhost_iotlb_msg m;
	long long end;
	ssize_t n;

	memset(used2, 0xee, PAGE);
	ASSERT_EQ(0, vmm_set_backend(&d->v, VMM_TX, d->t.fd));
	post_head(_metadata, d, q, 300, 300, frame);
	ASSERT_EQ(0, vmm_kick(q));
	end = vmm_now_ms() + 5000;
	while (!ring_miss && vmm_now_ms() < end) {
		if (viommu_recv(&d->vi, &m, 20) == 1 &&
		    m.type == VHOST_IOTLB_MISS) {
			if (in_range(m.iova, desc + PAGE, PAGE) ||
			    in_range(m.iova, used + PAGE, PAGE)) {
				ring_miss = 1;
				break;
			}
			TH_LOG("MISS for 0x%llx (slot of head 300: 0x%llx) before one for the ring's second pages",
			       (unsigned long long)m.iova,
			       (unsigned long long)viommu_slot_iova(&d->vi,
								    q, 300));
			early++;
			/* answered: show where it goes without the MISS */
			viommu_answer(&d->vi, &m);
		}
		if (!sent && vmm_tap_recv(&d->t, rbuf, sizeof(rbuf), 0) >= 0)
			sent = 1;
	}
	for (i = 0; i < PAGE; i++)
		written += used2[i] != 0xee;
	EXPECT_EQ(1U, ring_miss)
		TH_LOG("no MISS for desc + 4096 (0x%llx) or used + 4096 (0x%llx) within 5 s",
		       (unsigned long long)(desc + PAGE),
		       (unsigned long long)(used + PAGE));
	EXPECT_EQ(0U, early);
	EXPECT_EQ(0U, sent) TH_LOG("head 300 was sent, its descriptor read from the unmapped page");
	EXPECT_EQ(0U, written)
		TH_LOG("%u bytes of the used ring's unmapped second page written",
		       written);
	if (!ring_miss)
		return;
	/* Answer everything from now on: the frame goes out. */
	ASSERT_EQ(1, viommu_answer(&d->vi, &m));
	ASSERT_EQ(0, viommu_start(&d->vi));
	end = vmm_now_ms() + 10000;
	n = -1;
	while (n < 0 && vmm_now_ms() < end)
		n = vmm_tap_recv(&d->t, rbuf, sizeof(rbuf), 100);
	ASSERT_EQ(sizeof(frame), (size_t)n);
	ASSERT_EQ(0, memcmp(rbuf, frame, n));
}

/*
 * num 256 with the first 4 KiB page of each ring mapped (the descriptor
 * table of 256 entries is exactly 4096 bytes), one frame sent; then the
 * backend is detached, SET_VRING_NUM 512, and the backend attached again
 * with no SET_VRING_ADDR.  The rings grew past what was translated.
 */
TEST_F_TIMEOUT(regress, ivhost_only_set_vring_num_grows_rings, 60)
{
	struct vmm_vq *q = &self->d.v.vq[VMM_TX];
	int head;

	SPLIT_ONLY("split ring areas");
	IVHOST_ONLY();
	REGRESS_UP(512, 1, 1);
	ASSERT_EQ(0, vmm_vq_set_num(&self->d.v, VMM_TX, 256));
	q->num = 256;	/* the guest's view; rings are laid out for 512 */
	ASSERT_EQ(0, viommu_update_iova(&self->d.vi,
					viommu_iova(&self->d.vi, q->desc)));
	ASSERT_EQ(0, viommu_update_iova(&self->d.vi,
					viommu_iova(&self->d.vi, q->avail)));
	ASSERT_EQ(0, viommu_update_iova(&self->d.vi,
					viommu_iova(&self->d.vi, q->used)));
	ASSERT_EQ(0, vmm_set_backend(&self->d.v, VMM_TX, self->d.t.fd));
	/* The server answers the buffer's misses; the rings are mapped. */
	ASSERT_EQ(0, viommu_start(&self->d.vi));
	send_one(_metadata, &self->d, 1, &head);
	viommu_stop(&self->d.vi);
	ASSERT_EQ(0U, (unsigned int)self->d.vi.unmapped);

	ASSERT_EQ(0, vmm_set_backend(&self->d.v, VMM_TX, -1));
	ASSERT_EQ(0, vmm_vq_set_num(&self->d.v, VMM_TX, 512));
	q->num = 512;
	expect_ring_miss(_metadata, &self->d);
}

/*
 * The same ring address, translated at 512 entries; shrunk to 128,
 * the second pages of the descriptor table and used ring invalidated
 * (outside the rings at 128 entries), and grown back to 512: the
 * translation taken at 512 must not be used again.
 */
TEST_F_TIMEOUT(regress, ivhost_only_set_vring_num_drops_old_translation, 60)
{
	struct vmm_vq *q = &self->d.v.vq[VMM_TX];
	int head;

	SPLIT_ONLY("split ring areas");
	IVHOST_ONLY();
	REGRESS_UP(512, 0, 0);
	send_one(_metadata, &self->d, 1, &head);
	viommu_stop(&self->d.vi);
	ASSERT_EQ(0, vmm_set_backend(&self->d.v, VMM_TX, -1));
	ASSERT_EQ(0, vmm_vq_set_num(&self->d.v, VMM_TX, 128));
	ASSERT_EQ(0, viommu_invalidate_iova(&self->d.vi,
			viommu_iova(&self->d.vi, q->desc) + PAGE));
	ASSERT_EQ(0, viommu_invalidate_iova(&self->d.vi,
			viommu_iova(&self->d.vi, q->used) + PAGE));
	ASSERT_EQ(0, vmm_vq_set_num(&self->d.v, VMM_TX, 512));
	expect_ring_miss(_metadata, &self->d);
}

/* ---- C3, C4: permissions ---- */

/*
 * C3.  Asking ahead reports no access failure.  Chain 0's buffer is
 * unmapped (it misses); chain 1's is mapped write-only, which a TX
 * buffer cannot use.  While chain 0 waits for its MISS to be answered,
 * the device may ask ahead for chain 1's buffer, but must not queue an
 * ACCESS_FAIL nor stop the queue for it: chain 1 is not its turn yet.
 * Once the MISS is answered chain 0 is sent, then chain 1 gets its
 * ACCESS_FAIL (perm RO) and the queue stops (err eventfd).
 */
TEST_F_TIMEOUT(regress, ivhost_only_ask_ahead_reports_no_access_fail, 60)
{
	struct vmm_vq *q = &self->d.v.vq[VMM_TX];
	uint8_t hdr[HDR_LEN] = { 0 }, f0[600], f1[600], rbuf[2048];
	struct vhost_iotlb_msg m, held = { 0 }, fail = { 0 };
	unsigned int early_fails = 0, got0 = 0, got1 = 0, have = 0;
	uint64_t s0, s1;
	long long end, quiet;
	int h0, h1;
	ssize_t n;

	IVHOST_ONLY();
	REGRESS_UP(RING_NUM, 1, 0);
	s1 = viommu_slot_iova(&self->d.vi, q, 1);
	ASSERT_EQ(0, viommu_set_perm(&self->d.vi, s1, VHOST_ACCESS_WO));
	ASSERT_EQ(0, viommu_update_iova(&self->d.vi, s1));
	vmm_gen_frame(0, f0, sizeof(f0));
	vmm_gen_frame(1, f1, sizeof(f1));
	h0 = viommu_post_tx(&self->d.vi, q, hdr, sizeof(hdr), f0, sizeof(f0),
			    VMM_DIRECT, 1);
	h1 = viommu_post_tx(&self->d.vi, q, hdr, sizeof(hdr), f1, sizeof(f1),
			    VMM_DIRECT, 1);
	ASSERT_EQ(0, h0);
	ASSERT_EQ(1, h1);
	s0 = viommu_slot_iova(&self->d.vi, q, 0);
	ASSERT_EQ(0, vmm_kick(q));

	/* Until nothing comes for 500 ms: rings answered, chain 0 held. */
	end = vmm_now_ms() + 10000;
	quiet = vmm_now_ms() + 500;
	while (vmm_now_ms() < quiet && vmm_now_ms() < end) {
		if (viommu_recv(&self->d.vi, &m, 20) != 1)
			continue;
		quiet = vmm_now_ms() + 500;
		if (m.type == VHOST_IOTLB_ACCESS_FAIL) {
			TH_LOG("ACCESS_FAIL for 0x%llx perm %u while chain 0 waits for its MISS",
			       (unsigned long long)m.iova, m.perm);
			early_fails++;
			continue;
		}
		if (in_range(m.iova, s0 & ~(PAGE - 1), PAGE)) {
			held = m;
			have = 1;
			continue;
		}
		viommu_answer(&self->d.vi, &m);
	}
	ASSERT_EQ(1U, have) TH_LOG("no MISS for chain 0's buffer");
	EXPECT_EQ(0U, early_fails);
	EXPECT_EQ(0, vmm_poll_fd(q->err_fd))
		TH_LOG("queue stopped before chain 1's turn");
	ASSERT_EQ(0, vmm_used_idx(q));

	/* Answer it: chain 0 goes out, chain 1 fails. */
	ASSERT_EQ(1, viommu_answer(&self->d.vi, &held));
	have = 0;
	end = vmm_now_ms() + 10000;
	while ((!have || !got0) && vmm_now_ms() < end) {
		if (viommu_recv(&self->d.vi, &m, 20) == 1) {
			if (m.type == VHOST_IOTLB_ACCESS_FAIL) {
				fail = m;
				have = 1;
			} else {
				viommu_answer(&self->d.vi, &m);
			}
		}
		while ((n = vmm_tap_recv(&self->d.t, rbuf, sizeof(rbuf), 0)) >= 0) {
			if (n == sizeof(f0) && !memcmp(rbuf, f0, n))
				got0 = 1;
			if (n == sizeof(f1) && !memcmp(rbuf, f1, n))
				got1 = 1;
		}
	}
	EXPECT_EQ(1U, got0) TH_LOG("chain 0 not sent");
	ASSERT_EQ(1U, have) TH_LOG("no ACCESS_FAIL for chain 1");
	EXPECT_TRUE(in_range(fail.iova, s1 & ~(PAGE - 1), PAGE))
		TH_LOG("ACCESS_FAIL for 0x%llx, chain 1's buffer is at 0x%llx",
		       (unsigned long long)fail.iova, (unsigned long long)s1);
	EXPECT_EQ(VHOST_ACCESS_RO, fail.perm);
	EXPECT_EQ(1, vmm_wait_fd(q->err_fd, 5000))
		TH_LOG("err eventfd not signalled");
	EXPECT_EQ(0U, got1);
	EXPECT_EQ(1, vmm_used_idx(q));
}

/*
 * Serve MISSes for up to 10 s until an ACCESS_FAIL comes (1, in *@fail)
 * or not (0), counting in *@sent the frames the tap got meanwhile.
 */
static int wait_access_fail(struct tdev *d, struct vhost_iotlb_msg *fail,
			    unsigned int *sent)
{
	long long end = vmm_now_ms() + 10000;
	struct vhost_iotlb_msg m;
	uint8_t rbuf[2048];

	while (vmm_now_ms() < end) {
		if (vmm_tap_recv(&d->t, rbuf, sizeof(rbuf), 0) >= 0)
			(*sent)++;
		if (viommu_recv(&d->vi, &m, 20) != 1)
			continue;
		if (m.type == VHOST_IOTLB_ACCESS_FAIL) {
			*fail = m;
			return 1;
		}
		viommu_answer(&d->vi, &m);
	}
	return 0;
}

/*
 * C4.  used->idx is read, so only through a readable translation: with
 * the used ring mapped write-only (and the other rings read-only), the
 * device queues an ACCESS_FAIL (perm RO) for used->idx (used + 2) when
 * it starts, stops the queue (err eventfd), and sends nothing.
 */
TEST_F_TIMEOUT(regress, ivhost_only_used_idx_needs_read_permission, 60)
{
	struct vmm_vq *q = &self->d.v.vq[VMM_TX];
	uint8_t hdr[HDR_LEN] = { 0 }, frame[600];
	uint64_t desc, avail, used;
	struct vhost_iotlb_msg fail = { 0 };
	unsigned int have, sent = 0;

	SPLIT_ONLY("split ring areas");
	IVHOST_ONLY();
	REGRESS_UP(RING_NUM, 1, 1);
	desc = viommu_iova(&self->d.vi, q->desc);
	avail = viommu_iova(&self->d.vi, q->avail);
	used = viommu_iova(&self->d.vi, q->used);
	ASSERT_EQ(0, viommu_set_perm(&self->d.vi, desc, VHOST_ACCESS_RO));
	ASSERT_EQ(0, viommu_set_perm(&self->d.vi, avail, VHOST_ACCESS_RO));
	ASSERT_EQ(0, viommu_set_perm(&self->d.vi, used, VHOST_ACCESS_WO));
	ASSERT_EQ(0, viommu_update_iova(&self->d.vi, desc));
	ASSERT_EQ(0, viommu_update_iova(&self->d.vi, avail));
	ASSERT_EQ(0, viommu_update_iova(&self->d.vi, used));
	vmm_gen_frame(1, frame, sizeof(frame));
	ASSERT_LE(0, viommu_post_tx(&self->d.vi, q, hdr, sizeof(hdr), frame,
				    sizeof(frame), VMM_DIRECT, 1));
	ASSERT_EQ(0, vmm_set_backend(&self->d.v, VMM_TX, self->d.t.fd));
	ASSERT_EQ(0, vmm_kick(q));
	have = wait_access_fail(&self->d, &fail, &sent);
	EXPECT_EQ(0U, sent) TH_LOG("the frame went out: the queue ran");
	ASSERT_EQ(1U, have) TH_LOG("no ACCESS_FAIL within 10 s");
	EXPECT_EQ(used + 2, fail.iova);
	EXPECT_EQ(VHOST_ACCESS_RO, fail.perm);
	EXPECT_EQ(1, vmm_wait_fd(q->err_fd, 5000))
		TH_LOG("err eventfd not signalled");
	EXPECT_EQ(0, vmm_used_idx(q));
}

/*
 * C5.  Packed: the device writes its used descriptors in the descriptor
 * ring, so it needs that ring writable.  Mapped read-only (the driver
 * and device areas as usual), the queue stops (err eventfd) with an
 * ACCESS_FAIL inside the ring's pages, and sends and uses nothing.
 */
TEST_F_TIMEOUT(regress, packed_desc_ring_needs_write_permission,
	       60)
{
	struct vmm_vq *q = &self->d.v.vq[VMM_TX];
	uint8_t hdr[HDR_LEN] = { 0 }, frame[600];
	struct vhost_iotlb_msg fail = { 0 };
	unsigned int have, sent = 0;
	uint64_t desc, first;

	IVHOST_CORE_ONLY();
	if (!ivhost_ring_packed())
		SKIP(return, "packed rings only");
	REGRESS_UP(RING_NUM, 1, 1);
	desc = viommu_iova(&self->d.vi, q->desc);
	ASSERT_EQ(0, viommu_set_perm(&self->d.vi, desc, VHOST_ACCESS_RO));
	ASSERT_EQ(0, viommu_update_iova(&self->d.vi, desc));
	vmm_gen_frame(1, frame, sizeof(frame));
	ASSERT_LE(0, viommu_post_tx(&self->d.vi, q, hdr, sizeof(hdr), frame,
				    sizeof(frame), VMM_DIRECT, 1));
	ASSERT_EQ(0, vmm_set_backend(&self->d.v, VMM_TX, self->d.t.fd));
	ASSERT_EQ(0, vmm_kick(q));
	have = wait_access_fail(&self->d, &fail, &sent);
	EXPECT_EQ(0U, sent) TH_LOG("the frame went out: the queue ran");
	ASSERT_EQ(1U, have) TH_LOG("no ACCESS_FAIL within 10 s");
	first = desc & ~(PAGE - 1);
	EXPECT_TRUE(in_range(fail.iova, first,
			     desc + 16 * q->num - first + PAGE))
		TH_LOG("ACCESS_FAIL for 0x%llx, the ring is at 0x%llx",
		       (unsigned long long)fail.iova,
		       (unsigned long long)desc);
	EXPECT_EQ(1, vmm_wait_fd(q->err_fd, 5000))
		TH_LOG("err eventfd not signalled");
	EXPECT_EQ(0, vmm_used_idx(q));
}

/* ---- performance, information only ---- */

FIXTURE(perf) {
	struct tdev d;
};

FIXTURE_SETUP(perf)
{
	vmm_init_closed(&self->d.v, &self->d.t);
	memset(&self->d.vi, 0, sizeof(self->d.vi));
	self->d.inj = -1;
}

FIXTURE_TEARDOWN(perf)
{
}

#define PERF_COUNT	10000

static void perf_one(struct __test_metadata *_metadata, struct tdev *d,
		     int rx, int iotlb, unsigned int shift)
{
	struct vmm_tx_stats st;
	struct rx_stats rs;
	char msg[256] = "";
	unsigned int pkts;
	long long ms;
	int r;

	r = tdev_up(d, iotlb, shift, 0, 0, 0);
	if (r == -EOPNOTSUPP) {
		TH_LOG("%s: no ACCESS_PLATFORM", ivhost_dev_path());
		tdev_down(d);
		return;
	}
	ASSERT_EQ(0, r);
	if (rx) {
		r = rx_stream(d, 1, PERF_COUNT, fixed_1514, 0, &rs, msg,
			      sizeof(msg));
		pkts = rs.received;
		ms = rs.ms;
	} else {
		r = tx_stream(d, 1, PERF_COUNT, fixed_1514, &st);
		pkts = st.received;
		ms = st.elapsed_ms;
	}
	if (r)
		TH_LOG("%s", rx ? msg : st.msg);
	ASSERT_EQ(0, r);
	TH_LOG("perf %s %s iotlb %s%s: %u pkts in %lld ms, %.0f pps, %.1f misses/1000 pkts",
	       ivhost_dev_path(), rx ? "RX" : "TX",
	       iotlb ? "on" : "off",
	       iotlb ? (shift == VIOMMU_2M_SHIFT ? " (2M)" : " (4K)")
		     : "",
	       pkts, ms, pkts * 1000.0 / (ms ? ms : 1),
	       iotlb ? d->vi.misses * 1000.0 / (pkts ? pkts : 1) : 0.0);
	tdev_down(d);
}

TEST_F_TIMEOUT(perf, tx_pps, 300)
{
	perf_one(_metadata, &self->d, 0, 0, 0);
	perf_one(_metadata, &self->d, 0, 1, VIOMMU_4K_SHIFT);
	perf_one(_metadata, &self->d, 0, 1, VIOMMU_2M_SHIFT);
}

TEST_F_TIMEOUT(perf, rx_pps, 300)
{
	perf_one(_metadata, &self->d, 1, 0, 0);
	perf_one(_metadata, &self->d, 1, 1, VIOMMU_4K_SHIFT);
	perf_one(_metadata, &self->d, 1, 1, VIOMMU_2M_SHIFT);
}

TEST_HARNESS_MAIN
