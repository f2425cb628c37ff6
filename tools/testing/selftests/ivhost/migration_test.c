// SPDX-License-Identifier: GPL-2.0
/*
 * Live migration with dirty logging, against $IVHOST_DEV (ivhost, the
 * kernel's vhost_net for parity, and over vhost-user ivhost-user, where
 * the log is a memfd passed with SET_LOG_BASE and LOG_SHMFD).
 *
 * The test plays a migrating VMM.  While its guest driver moves traffic
 * both ways (frames injected into the tap for RX, frames posted for TX),
 * it turns logging on (VHOST_F_LOG_ALL, SET_LOG_BASE, SET_LOG_FD, and
 * SET_VRING_ADDR with VHOST_VRING_F_LOG and the used ring's guest-physical
 * address), copies all of guest memory into a shadow, then in rounds
 * copies every page marked dirty, fetching and clearing the bitmap a word
 * at a time with an atomic exchange.  The guest driver's own writes are
 * marked in a separate "vcpu" bitmap, as KVM would, and copied the same
 * way.  Then the guest stops, the device stops (NET_SET_BACKEND -1,
 * GET_VRING_BASE), a final pass runs, and the shadow must equal guest
 * memory byte for byte.
 *
 * Tests:
 *   migration.{paced,tight}.shadow_copy_matches
 *        the above, with rounds 150 ms apart, or back to back so that
 *        fetch-and-clear races the device's writes
 *   migration.log_marks_written_pages
 *        the bitmap marks exactly the RX buffer pages and used-ring
 *        pages the device wrote (by guest-physical address: nothing at
 *        user addresses, nothing for TX buffers it only read), and the
 *        SET_LOG_FD eventfd is signalled.
 *   iotlb_log.used_ring_by_gpa
 *        with the device IOTLB (VIRTIO_F_ACCESS_PLATFORM) the used rings
 *        sit at IOVAs of their own, above guest memory, and their
 *        log_guest_addr is that IOVA, as QEMU gives it behind a vIOMMU:
 *        the bitmap still marks exactly the guest-physical pages written
 *        (used rings, RX buffers), nothing at the IOVAs.
 *   iotlb_log.ivhost_only_unnamed_used_ring_stops
 *        with the device IOTLB the TX used ring's IOVA maps memory of the
 *        VMM that no region of the memory table names: the device could
 *        not mark its writes there, so the queue stops (err eventfd) and
 *        uses nothing, instead of going on unlogged.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <linux/vhost.h>

#include "kselftest_harness.h"
#include "harness_filter.h"
#include "iotlb_common.h"

#define RING		256
#define WAIT_MS		10000

FIXTURE(migration) {
	struct rtdev d;
	struct rt_log log;
	uint64_t *vcpu;		/* guest driver's dirty pages, by page index */
	size_t vcpu_words;
	uint8_t *shadow;
};

FIXTURE_VARIANT(migration) {
	int tight;		/* rounds back to back, no pause */
};

/* Rounds 150 ms apart, as a VMM converging on a busy guest. */
FIXTURE_VARIANT_ADD(migration, paced) {
	.tight = 0,
};

/* Fetch-and-clear as fast as it goes, racing every device write. */
FIXTURE_VARIANT_ADD(migration, tight) {
	.tight = 1,
};

FIXTURE_SETUP(migration)
{
	int r;

	memset(&self->log, 0, sizeof(self->log));
	self->log.fd = -1;
	self->log.memfd = -1;
	self->vcpu = NULL;
	self->shadow = NULL;
	r = rt_up(&self->d, RT_BASE_FEATURES, RING);
	if (rt_missing(r))
		SKIP(return, "%s: %s", ivhost_dev_path(), ivhost_strerror(r));
	ASSERT_EQ(0, r) TH_LOG("bring-up: %s", strerror(-r));
	ASSERT_EQ(0, rt_log_alloc(&self->log, rt_log_span(&self->d.v)));
	self->vcpu_words = self->d.v.mem_size / RT_PAGE / 64 + 1;
	self->vcpu = calloc(self->vcpu_words, sizeof(uint64_t));
	self->shadow = malloc(self->d.v.mem_size);
	ASSERT_NE(NULL, self->vcpu);
	ASSERT_NE(NULL, self->shadow);
}

FIXTURE_TEARDOWN(migration)
{
	rt_down(&self->d);
	rt_log_free(&self->log);
	free(self->vcpu);
	free(self->shadow);
}

struct guest {
	struct rtdev *d;
	uint64_t *vcpu;
	int stop;			/* __atomic */
	unsigned long rx_frames, tx_frames, bad;
	char msg[128];
};

/* The guest driver wrote [p, p + len): mark it, after the write. */
static void vcpu_mark(struct guest *g, const void *p, size_t len)
{
	size_t first = ((const uint8_t *)p - g->d->v.mem) / RT_PAGE;
	size_t last = ((const uint8_t *)p - g->d->v.mem + len - 1) / RT_PAGE;
	size_t i;

	for (i = first; i <= last; i++)
		__atomic_fetch_or(&g->vcpu[i / 64], 1ULL << (i % 64),
				  __ATOMIC_SEQ_CST);
}

static void vcpu_mark_ring(struct guest *g, struct vmm_vq *q)
{
	vcpu_mark(g, q->desc, vmm_ring_bytes(q, 0));
	vcpu_mark(g, q->avail, vmm_ring_bytes(q, 1));
}

static size_t rx_len(uint32_t seq)
{
	return 60 + (seq * 131) % 1440;
}

static void guest_rx(struct guest *g)
{
	struct vmm_vq *q = &g->d->v.vq[VMM_RX];
	static const uint32_t split[] = { 100, 1948 };
	uint8_t buf[4096];
	uint32_t len;
	int r, posted = 0;

	while ((r = rt_reap_rx(q, buf, sizeof(buf), &len)) == 1) {
		size_t h = g->d->hdr_len;
		long s = len > h ? rt_frame_seq(buf + h, len - h) : -1;

		if (s < 0 || len - h != rx_len(s)) {
			snprintf(g->msg, sizeof(g->msg),
				 "rx: bad frame of %u bytes", len);
			g->bad++;
		}
		g->rx_frames++;
	}
	if (r < 0)
		g->bad++;
	while (q->num_free >= 2) {
		unsigned int k = q->avail_idx % 3;

		if (k == 0)
			r = rt_post_rx_simple(q, 2048);
		else
			r = rt_post_rx(q, 2, split, 700, k == 2);
		if (r < 0)
			break;
		if (k == 2)
			vcpu_mark(g, q->indirect + (size_t)r * VMM_MAX_SEGS,
				  2 * sizeof(struct vring_desc));
		posted++;
	}
	if (posted) {
		vcpu_mark_ring(g, q);
		vmm_kick(q);
	}
}

static void guest_tx(struct guest *g, uint32_t *seq)
{
	struct vmm_vq *q = &g->d->v.vq[VMM_TX];
	static const uint8_t hdr[32];
	uint8_t frame[2048];
	int r, posted = 0;

	while ((r = vmm_reap(q, NULL, NULL)) == 1)
		g->tx_frames++;
	if (r < 0)
		g->bad++;
	while (q->num_free >= VMM_MAX_SEGS && vmm_inflight(q) < 64) {
		size_t len = rx_len(*seq);
		unsigned int nseg = vmm_tx_nseg(*seq);
		int head;

		vmm_gen_frame(*seq, frame, len);
		head = vmm_post_tx(q, hdr, g->d->hdr_len, frame, len,
				   *seq % 3, nseg);
		if (head < 0)
			break;
		vcpu_mark(g, q->slab + (size_t)head * VMM_SLOT_SIZE,
			  g->d->hdr_len + len + VMM_MAX_SEGS * VMM_SPLIT_GAP);
		vcpu_mark(g, q->indirect + (size_t)head * VMM_MAX_SEGS,
			  VMM_MAX_SEGS * sizeof(struct vring_desc));
		(*seq)++;
		posted++;
	}
	if (posted) {
		vcpu_mark_ring(g, q);
		vmm_kick(q);
	}
}

static void *guest_fn(void *arg)
{
	struct guest *g = arg;
	uint32_t tx_seq = 0, rx_seq = 0;
	int i;

	while (!__atomic_load_n(&g->stop, __ATOMIC_RELAXED)) {
		guest_rx(g);
		guest_tx(g, &tx_seq);
		/* The host side: frames for the device's RX queue. */
		for (i = 0; i < 8; i++, rx_seq++)
			rt_inject(g->d, rx_seq, rx_len(rx_seq));
		usleep(2000);
	}
	return NULL;
}

/* Copy every page marked in @bits (words [first, end), page numbers
 * relative to @pfn0) into the shadow, clearing the marks.
 */
static unsigned long sync_bitmap(struct vmm *v, uint8_t *shadow,
				 uint64_t *bits, size_t first, size_t end,
				 uint64_t pfn0)
{
	unsigned long pages = 0;
	size_t w;

	for (w = first; w < end; w++) {
		uint64_t x;

		if (!__atomic_load_n(&bits[w], __ATOMIC_RELAXED))
			continue;
		x = __atomic_exchange_n(&bits[w], 0, __ATOMIC_SEQ_CST);
		while (x) {
			uint64_t pfn = w * 64 + __builtin_ctzll(x) - pfn0;

			x &= x - 1;
			if (pfn * RT_PAGE >= v->mem_size)
				continue;
			memcpy(shadow + pfn * RT_PAGE, v->mem + pfn * RT_PAGE,
			       RT_PAGE);
			pages++;
		}
	}
	return pages;
}

/* One round: the device's log, then the vcpu log. */
static unsigned long sync_round(FIXTURE_DATA(migration) *self,
				unsigned long *dev_pages)
{
	struct vmm *v = &self->d.v;
	size_t first, end;
	unsigned long n;

	rt_log_guest_words(&self->log, v, &first, &end);
	n = sync_bitmap(v, self->shadow, self->log.bits, first, end,
			v->mem_gpa / RT_PAGE);
	*dev_pages += n;
	return n + sync_bitmap(v, self->shadow, self->vcpu, 0,
			       self->vcpu_words, 0);
}

TEST_F_TIMEOUT(migration, shadow_copy_matches, 180)
{
	struct guest g = { .d = &self->d, .vcpu = self->vcpu };
	struct vmm *v = &self->d.v;
	unsigned long dev_pages = 0, copied = 0, rx0, tx0;
	unsigned int rx_base, tx_base, log_signals = 0;
	long long end;
	size_t off;
	pthread_t th;
	int round;

	if (_metadata->skip)
		return;
	ASSERT_EQ(0, vmm_set_backend(v, VMM_RX, self->d.t.fd));
	ASSERT_EQ(0, vmm_set_backend(v, VMM_TX, self->d.t.fd));
	ASSERT_EQ(0, pthread_create(&th, NULL, guest_fn, &g));
	usleep(300 * 1000);

	/* 1. Logging on, while traffic runs. */
	ASSERT_EQ(0, rt_log_start(v, &self->log));
	rx0 = __atomic_load_n(&g.rx_frames, __ATOMIC_RELAXED);
	tx0 = __atomic_load_n(&g.tx_frames, __ATOMIC_RELAXED);
	/* 2. A full copy, then rounds of dirty pages. */
	memcpy(self->shadow, v->mem, v->mem_size);
	end = vmm_now_ms() + 1200;
	for (round = 0; variant->tight ? vmm_now_ms() < end : round < 8;
	     round++) {
		if (!variant->tight)
			usleep(150 * 1000);
		copied += sync_round(self, &dev_pages);
		log_signals += vmm_poll_fd(self->log.fd);
	}
	/* 3. The guest stops, then the device. */
	__atomic_store_n(&g.stop, 1, __ATOMIC_RELAXED);
	pthread_join(th, NULL);
	ASSERT_EQ(0, vmm_set_backend(v, VMM_RX, -1));
	ASSERT_EQ(0, vmm_set_backend(v, VMM_TX, -1));
	ASSERT_EQ(0, vmm_vq_get_base(v, VMM_RX, &rx_base));
	ASSERT_EQ(0, vmm_vq_get_base(v, VMM_TX, &tx_base));
	/* 4. The final pass. */
	copied += sync_round(self, &dev_pages);
	log_signals += vmm_poll_fd(self->log.fd);

	TH_LOG("%d rounds; rx %lu frames (%lu logged), tx %lu frames (%lu logged); %lu pages copied in rounds (%lu logged by the device), %u log signals",
	       round, g.rx_frames, g.rx_frames - rx0, g.tx_frames, g.tx_frames - tx0,
	       copied, dev_pages, log_signals);
	EXPECT_EQ(0UL, g.bad) TH_LOG("%s", g.msg);
	/* Traffic went on both ways while the log was on. */
	EXPECT_LT(10UL, g.rx_frames - rx0);
	EXPECT_LT(10UL, g.tx_frames - tx0);
	EXPECT_LT(0UL, dev_pages);
	EXPECT_LT(0U, log_signals);
	/* TX completes in order; RX has consumed at least what it used. */
	if (v->vq[VMM_TX].packed) {
		/* packed: avail (bits 0-15) and used (16-31) positions */
		EXPECT_EQ(tx_base & 0xffff, tx_base >> 16);
	} else {
		EXPECT_EQ(vmm_used_idx(&v->vq[VMM_TX]), tx_base);
		EXPECT_LE(0, (int16_t)(rx_base -
				       vmm_used_idx(&v->vq[VMM_RX])));
		EXPECT_GE(0, (int16_t)(rx_base - v->vq[VMM_RX].avail_idx));
	}
	EXPECT_EQ(0, vmm_poll_fd(v->vq[VMM_RX].err_fd));
	EXPECT_EQ(0, vmm_poll_fd(v->vq[VMM_TX].err_fd));

	for (off = 0; off < v->mem_size; off += RT_PAGE)
		if (memcmp(self->shadow + off, v->mem + off, RT_PAGE))
			break;
	EXPECT_EQ(v->mem_size, off)
		TH_LOG("shadow differs at gpa %#llx (rx used ring at %#llx, rx slab at %#llx, tx used ring at %#llx)",
		       (unsigned long long)(v->mem_gpa + off),
		       (unsigned long long)vmm_gpa(v, v->vq[VMM_RX].used),
		       (unsigned long long)vmm_gpa(v, v->vq[VMM_RX].slab),
		       (unsigned long long)vmm_gpa(v, v->vq[VMM_TX].used));
}

/*
 * The pages a device may write in both used rings (entries, idx, event);
 * packed: the descriptor rings (used descriptors) and the device event
 * suppression areas.
 */
static void want_used_rings(struct rt_pfns *want, struct vmm *v)
{
	struct vmm_vq *rq = &v->vq[VMM_RX], *tq = &v->vq[VMM_TX];

	if (rq->packed) {
		rt_pfns_add(want, vmm_gpa(v, rq->desc), vmm_ring_bytes(rq, 0));
		rt_pfns_add(want, vmm_gpa(v, tq->desc), vmm_ring_bytes(tq, 0));
	}
	rt_pfns_add(want, vmm_gpa(v, rq->used), vmm_ring_bytes(rq, 2) +
		    (rq->packed ? 0 : 2));
	rt_pfns_add(want, vmm_gpa(v, tq->used), vmm_ring_bytes(tq, 2) +
		    (tq->packed ? 0 : 2));
}

/* The pages of the RX chain the device used in used entry @i, the
 * next one to reap. */
static void want_rx_chain(struct rt_pfns *want, struct vmm_vq *rq,
			  unsigned int i)
{
	struct vring_used_elem e = { 0, 0 };

	if (rq->used_idx == i && vmm_used_peek(rq, &e.id, &e.len))
		rt_pfns_add_chain(want, rq, e.id, e.len);
}

TEST_F_TIMEOUT(migration, log_marks_written_pages, 120)
{
	struct rtdev *d = &self->d;
	struct vmm *v = &d->v;
	struct vmm_vq *rq = &v->vq[VMM_RX], *tq = &v->vq[VMM_TX];
	static const uint32_t c1[] = { 100, 3000 }, c2[] = { 500, 4000 };
	static const uint8_t hdr[32];
	struct rt_pfns *want = calloc(1, sizeof(*want));
	static const size_t lens[] = { 1400, 1514, 1200 };
	uint8_t buf[4096], frame[2048];
	char msg[160];
	unsigned int i;
	uint32_t len;

	if (_metadata->skip)
		return;
	ASSERT_NE(NULL, want);
	ASSERT_EQ(0, rt_log_start(v, &self->log));
	ASSERT_EQ(0, vmm_set_backend(v, VMM_RX, d->t.fd));
	ASSERT_EQ(0, vmm_set_backend(v, VMM_TX, d->t.fd));
	ASSERT_LE(0, rt_post_rx_simple(rq, 2048));
	ASSERT_LE(0, rt_post_rx(rq, 2, c1, 1000, 0));
	ASSERT_LE(0, rt_post_rx(rq, 2, c2, 0, 1));
	ASSERT_EQ(0, vmm_kick(rq));
	for (i = 0; i < 2; i++) {
		vmm_gen_frame(i, frame, 1000);
		ASSERT_LE(0, vmm_post_tx(tq, hdr, d->hdr_len, frame, 1000,
					 i ? VMM_INDIRECT : VMM_CHAIN, 3));
	}
	ASSERT_EQ(0, vmm_kick(tq));
	for (i = 0; i < 3; i++)
		ASSERT_EQ(0, rt_inject(d, i, lens[i]));
	ASSERT_TRUE(rt_wait_used(rq, 3, WAIT_MS))
		TH_LOG("rx used %u, tx used %u, rx err %d, tx err %d",
		       vmm_used_idx(rq), vmm_used_idx(tq),
		       vmm_poll_fd(rq->err_fd), vmm_poll_fd(tq->err_fd));
	ASSERT_TRUE(rt_wait_used(tq, 2, WAIT_MS));
	/* Let the device finish its rounds (used flags, event writes). */
	usleep(200 * 1000);

	want_used_rings(want, v);
	for (i = 0; i < 3; i++) {
		want_rx_chain(want, rq, i);
		ASSERT_EQ(1, rt_reap_rx(rq, buf, sizeof(buf), &len));
		EXPECT_EQ(d->hdr_len + lens[i], len);
		EXPECT_EQ((long)i, rt_frame_seq(buf + d->hdr_len,
						len - d->hdr_len));
	}
	EXPECT_LE(1, vmm_poll_fd(self->log.fd)) TH_LOG("log eventfd quiet");
	EXPECT_EQ(0, rt_log_check(&self->log, v, want, msg, sizeof(msg)))
		TH_LOG("%s", msg);
	free(want);
}

/* The used rings' IOVAs: their guest-physical addresses, this far up. */
#define USED_IOVA_SHIFT	0x10000000ULL

/*
 * Give queue @qi's used ring an IOVA of its own (an UPDATE of its pages
 * there), and SET_VRING_ADDR with IOVAs and VHOST_VRING_F_LOG, its
 * log_guest_addr the used ring's IOVA, as QEMU sends behind a vIOMMU.
 */
static int iotlb_log_used_iova(struct it *it, unsigned int qi)
{
	struct vmm *v = &it->d.v;
	struct vmm_vq *q = &v->vq[qi];
	uint64_t used = vmm_gpa(v, q->used), page = it_page(q->used, v);
	uint64_t size = (used + 6 + 8 * q->num - page + IT_PAGE - 1) &
			~(IT_PAGE - 1);
	struct vhost_vring_addr a = {
		.index = qi,
		.flags = 1u << VHOST_VRING_F_LOG,
		.desc_user_addr = vmm_gpa(v, q->desc),
		.avail_user_addr = vmm_gpa(v, q->avail),
		.used_user_addr = used + USED_IOVA_SHIFT,
		.log_guest_addr = used + USED_IOVA_SHIFT,
	};
	ssize_t r;

	r = it_send(it, VHOST_IOTLB_UPDATE, page + USED_IOVA_SHIFT, size,
		    (uintptr_t)vmm_hva(v, page), VHOST_ACCESS_RW);
	if (r != IT_MSG_SIZE)
		return r < 0 ? (int)r : -EIO;
	return vmm_ioctl(v, VHOST_SET_VRING_ADDR, &a);
}

FIXTURE(iotlb_log) {
	struct it it;
	struct rt_log log;
};

FIXTURE_SETUP(iotlb_log)
{
	int r;

	SPLIT_ONLY_FIXTURE("the used ring at an IOVA of its own");
	memset(&self->log, 0, sizeof(self->log));
	self->log.fd = -1;
	self->log.memfd = -1;
	r = it_up(&self->it, RT_BASE_FEATURES, RING);
	if (rt_missing(r) || r == -EOPNOTSUPP)
		SKIP(return, "%s: %s", ivhost_dev_path(), ivhost_strerror(r));
	ASSERT_EQ(0, r) TH_LOG("bring-up: %s", strerror(-r));
	ASSERT_GE(USED_IOVA_SHIFT, self->it.d.v.mem_size);
	ASSERT_EQ(0, rt_log_alloc(&self->log, rt_log_span(&self->it.d.v)));
}

FIXTURE_TEARDOWN(iotlb_log)
{
	it_down(&self->it);
	rt_log_free(&self->log);
}

TEST_F_TIMEOUT(iotlb_log, used_ring_by_gpa, 120)
{
	struct rtdev *d = &self->it.d;
	struct vmm *v = &d->v;
	struct vmm_vq *rq = &v->vq[VMM_RX], *tq = &v->vq[VMM_TX];
	static const uint8_t hdr[32];
	struct rt_pfns *want = calloc(1, sizeof(*want));
	uint8_t buf[4096], frame[2048];
	char msg[160];
	unsigned int i;
	uint32_t len;

	if (_metadata->skip)
		return;
	ASSERT_NE(NULL, want);
	/* Logging on (the rings' addresses are set again just below). */
	ASSERT_EQ(0, rt_log_start(v, &self->log));
	ASSERT_EQ(0, iotlb_log_used_iova(&self->it, VMM_RX));
	ASSERT_EQ(0, iotlb_log_used_iova(&self->it, VMM_TX));
	ASSERT_EQ(0, it_server_start(&self->it));
	ASSERT_EQ(0, vmm_set_backend(v, VMM_RX, d->t.fd));
	ASSERT_EQ(0, vmm_set_backend(v, VMM_TX, d->t.fd));
	/*
	 * Buffers the frames fill exactly: vhost_net logs whole buffers
	 * with the IOTLB, ivhost the bytes written; both mark these pages.
	 */
	for (i = 0; i < 2; i++)
		ASSERT_LE(0, rt_post_rx_simple(rq, d->hdr_len + 1400));
	ASSERT_EQ(0, vmm_kick(rq));
	vmm_gen_frame(0, frame, 1000);
	ASSERT_LE(0, vmm_post_tx(tq, hdr, d->hdr_len, frame, 1000,
				 VMM_CHAIN, 2));
	ASSERT_EQ(0, vmm_kick(tq));
	for (i = 0; i < 2; i++)
		ASSERT_EQ(0, rt_inject(d, i, 1400));
	ASSERT_TRUE(rt_wait_used(rq, 2, WAIT_MS))
		TH_LOG("rx used %u, rx err %d, misses %lu (%lu outside memory)",
		       vmm_used_idx(rq), vmm_poll_fd(rq->err_fd),
		       self->it.misses, self->it.foreign);
	ASSERT_TRUE(rt_wait_used(tq, 1, WAIT_MS))
		TH_LOG("tx used %u, tx err %d", vmm_used_idx(tq),
		       vmm_poll_fd(tq->err_fd));
	/* Let the device finish its rounds (used flags, event writes). */
	usleep(200 * 1000);
	it_server_stop(&self->it);

	want_used_rings(want, v);
	for (i = 0; i < 2; i++) {
		want_rx_chain(want, rq, i);
		ASSERT_EQ(1, rt_reap_rx(rq, buf, sizeof(buf), &len));
		EXPECT_EQ(d->hdr_len + 1400, len);
	}
	EXPECT_EQ(0, vmm_poll_fd(rq->err_fd));
	EXPECT_EQ(0, vmm_poll_fd(tq->err_fd));
	EXPECT_EQ(0, rt_log_check(&self->log, v, want, msg, sizeof(msg)))
		TH_LOG("%s (used rings at iova %#llx and %#llx)", msg,
		       (unsigned long long)(vmm_gpa(v, rq->used) +
					    USED_IOVA_SHIFT),
		       (unsigned long long)(vmm_gpa(v, tq->used) +
					    USED_IOVA_SHIFT));
	free(want);
}

TEST_F_TIMEOUT(iotlb_log, ivhost_only_unnamed_used_ring_stops, 60)
{
	struct rtdev *d = &self->it.d;
	struct vmm *v = &d->v;
	struct vmm_vq *tq = &v->vq[VMM_TX];
	static const uint8_t hdr[32];
	uint64_t iova = 64 * USED_IOVA_SHIFT;
	struct vhost_vring_addr a = {
		.index = VMM_TX,
		.flags = 1u << VHOST_VRING_F_LOG,
		.desc_user_addr = vmm_gpa(v, tq->desc),
		.avail_user_addr = vmm_gpa(v, tq->avail),
		.used_user_addr = iova,
		.log_guest_addr = iova,
	};
	size_t size = (6 + 8 * tq->num + IT_PAGE - 1) & ~(IT_PAGE - 1);
	struct vring_used *used;
	uint8_t frame[2048];

	if (_metadata->skip)
		return;
	IVHOST_ONLY();
	/* Memory of the VMM, outside the memory table. */
	used = mmap(NULL, size, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, used);
	ASSERT_EQ(0, rt_log_start(v, &self->log));
	ASSERT_EQ(IT_MSG_SIZE, it_send(&self->it, VHOST_IOTLB_UPDATE, iova,
				       size, (uintptr_t)used,
				       VHOST_ACCESS_RW));
	ASSERT_EQ(0, vmm_ioctl(v, VHOST_SET_VRING_ADDR, &a));
	ASSERT_EQ(0, it_server_start(&self->it));
	ASSERT_EQ(0, vmm_set_backend(v, VMM_TX, d->t.fd));
	vmm_gen_frame(0, frame, 1000);
	ASSERT_LE(0, vmm_post_tx(tq, hdr, d->hdr_len, frame, 1000,
				 VMM_CHAIN, 2));
	ASSERT_EQ(0, vmm_kick(tq));
	EXPECT_EQ(1, vmm_wait_fd(tq->err_fd, WAIT_MS))
		TH_LOG("queue not stopped: used idx %u in unnamed memory",
		       __atomic_load_n(&used->idx, __ATOMIC_ACQUIRE));
	EXPECT_EQ(0, __atomic_load_n(&used->idx, __ATOMIC_ACQUIRE))
		TH_LOG("chains used, in memory the log cannot name");
	it_server_stop(&self->it);
	munmap(used, size);
}

TEST_HARNESS_MAIN
