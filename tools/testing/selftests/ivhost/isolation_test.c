// SPDX-License-Identifier: GPL-2.0
/*
 * Isolation under remapping (VIRTIO_F_ACCESS_PLATFORM): once the write()
 * of an INVALIDATE returns, the device neither writes to nor reads from
 * the memory the IOVA pointed at before, across 100,000 remaps while TX
 * and RX traffic run ($IVHOST_ISO_REMAPS overrides the count for quick
 * runs; $IVHOST_SEED changes the layout and the choices).
 *
 * The test VMM is the vIOMMU (tools/testing/vmm/viommu.c) with 4 KiB
 * pages; its miss server answers each MISS with an UPDATE.  A remapper
 * thread moves IOVA pages of buffers to fresh memory, one page at a time,
 * under the vIOMMU's table lock (so neither the miss server nor the guest
 * driver sees the table half changed):
 *
 *   write(INVALIDATE of the page)        the device's barrier
 *   copy the old page to a fresh one     legitimate bytes move over
 *   fill the old page with a canary      16-byte records naming the
 *                                        remap, the page and the offset
 *   point the table at the fresh page, write(UPDATE); one remap in four
 *   leaves the UPDATE to the miss server, as QEMU does
 *
 * The page moved is in one of the next buffers the device takes (which
 * it may have translated already, or be using now), in a buffer posted
 * last, in one the device has just used (whose translation it may still
 * hold), or in any posted buffer.  The remapper stays at most PACE remaps
 * per frame ahead of the traffic, which keeps both rings busy.
 *
 * The old page then waits in a quarantine (a FIFO of QUARANTINE pages,
 * which is also where fresh pages come from).  Its canary is checked
 * CHECK_LAG remaps later, again before the page is reused, and at the
 * end.
 *
 * Device writes: RX frames injected into the tap land in guest buffers.
 * A write to an old page after its INVALIDATE returned either changes
 * the canary (caught when the page is checked) or, if it came before the
 * canary was written, is missing from the fresh page (caught when the
 * frame is checked).
 *
 * Device reads: every byte of a TX buffer is derived from its IOVA and
 * the frame's sequence number (16-byte records; the headers are fixed),
 * and every byte of every frame seen on the tap is checked: canary bytes
 * in a frame are a read of an old page after its INVALIDATE returned, and
 * name the remap.
 *
 * Every byte of every received RX frame is checked as well; RX frames
 * are 16-byte records naming the frame and the offset, so bytes written
 * where they do not belong name the frame they came from.
 *
 * The test fails on any violation (printing the IOVA, the old page, the
 * offset, the bytes expected and found, and what the found bytes are),
 * on any corrupted, missing or reordered frame, and if traffic stalls.
 * It reports how many remaps met buffers posted to the device, remaps
 * per second, frames, and bytes checked.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
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
#define FEATURES	(F(VIRTIO_F_VERSION_1) | F(VIRTIO_RING_F_INDIRECT_DESC) | \
			 F(VHOST_NET_F_VIRTIO_NET_HDR) |		\
			 F(VIRTIO_NET_F_MRG_RXBUF) |			\
			 F(VIRTIO_RING_F_EVENT_IDX))
#define IOTLB		F(VIRTIO_F_ACCESS_PLATFORM)

#define REMAPS		100000	/* the hardening issue's figure */
#define RING_NUM	256
#define PS		4096
#define QUARANTINE	1024	/* pages */
#define CHECK_LAG	16	/* remaps before a retired page is checked */
#define HDR_LEN		12	/* virtio-net header, MRG_RXBUF / VERSION_1 */
#define ETH_LEN		14
#define TAP_MTU		9000
#define MAX_FRAME	(TAP_MTU + ETH_LEN)
#define MAX_SEGS	6	/* segments of one posted buffer */
#define MAX_START	12288	/* a buffer starts this far into its slot */
#define TX_WINDOW	1024	/* TX frames posted, not yet seen on the tap */
#define RX_WINDOW	192	/* RX frames injected, not yet received */
#define IDLE_MS		30000	/* traffic making no progress: stalled */
#define RECENT		8	/* buffers remembered as just posted / done */
/* What the remapper picks (of 8) */
#define PICK_NEXT	0	/* 0, 1: the next buffers the device takes */
#define PICK_POSTED	2	/* one of the buffers posted last */
#define PICK_DONE	3	/* one of the buffers the device used last */
#define PICK_ANY	4	/* 4..7: any posted buffer */
#define PACE		1	/* remaps per frame at most (plus PACE_SLACK) */
#define PACE_SLACK	64
#define PACE_MAX_US	200000	/* waiting for traffic to catch up */
#define MAX_REPORTS	8
#define REPORT_LEN	2048

#define CANARY_MAGIC	0x214e4143U	/* "CAN!" */
#define TX_MAGIC	0x44545854U	/* "TXTD" */
#define RX_MAGIC	0x44525852U	/* "RXRD" */
#define NO_REMAP	0xffffffffU	/* canary of a page never mapped */

#ifndef __printf
#define __printf(a, b)	__attribute__((format(printf, a, b)))
#endif

/* ---- small helpers ---- */

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

static unsigned long remap_target(void)
{
	const char *s = getenv("IVHOST_ISO_REMAPS");
	unsigned long n = s && *s ? strtoul(s, NULL, 0) : 0;

	return n ? n : REMAPS;
}

static long long now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
}

static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, sizeof(v));
}

static uint32_t get32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static uint32_t mix32(uint32_t a, uint32_t b)
{
	uint32_t h = a * 0x9e3779b1u ^ (b + 0x7f4a7c15u) * 0x85ebca6bu;

	h ^= h >> 15;
	h *= 0xc2b2ae35u;
	h ^= h >> 13;
	return h;
}

/* 16 bytes as hex, "??" where the frame or page ends. */
static void hex16(const uint8_t *p, size_t avail, char *out)
{
	size_t i;

	for (i = 0; i < 16; i++) {
		if (i < avail)
			sprintf(out + 3 * i, "%02x ", p[i]);
		else
			sprintf(out + 3 * i, "?? ");
	}
	out[47] = '\0';
}

/* ---- what the bytes are ---- */

/* The canary record at page offset @off of old page @pg of remap @id. */
static void canary_rec(uint8_t r[16], uint32_t id, uint32_t pg, uint32_t off)
{
	put32(r, CANARY_MAGIC);
	put32(r + 4, id);
	put32(r + 8, pg);
	put32(r + 12, off);
}

static void canary_fill(uint8_t *p, uint32_t id, uint32_t pg)
{
	uint32_t off;

	for (off = 0; off < PS; off += 16)
		canary_rec(p + off, id, pg, off);
}

/* First offset where page @p differs from its canary, or -1. */
static long canary_diff(const uint8_t *p, uint32_t id, uint32_t pg,
			long *last, long *nbad)
{
	uint8_t r[16];
	long first = -1;
	uint32_t off, i;

	*nbad = 0;
	for (off = 0; off < PS; off += 16) {
		canary_rec(r, id, pg, off);
		if (!memcmp(p + off, r, 16))
			continue;
		for (i = 0; i < 16; i++) {
			if (p[off + i] == r[i])
				continue;
			if (first < 0)
				first = off + i;
			*last = off + i;
			(*nbad)++;
		}
	}
	return first;
}

static const uint8_t tx_eth[ETH_LEN] = {
	0x02, 0x00, 0x00, 0x00, 0x00, 0x01,	/* dst: not the tap */
	0x02, 0x00, 0x00, 0x00, 0x00, 0x54,	/* src: TX */
	0x88, 0xb5,				/* local experimental */
};

static const uint8_t rx_eth[ETH_LEN] = {
	0x02, 0x00, 0x00, 0x00, 0x00, 0x01,
	0x02, 0x00, 0x00, 0x00, 0x00, 0x52,	/* src: RX */
	0x88, 0xb5,
};

/* The TX record at IOVA @a (16-aligned) of frame @seq. */
static void tx_rec(uint8_t r[16], uint64_t a, uint32_t seq)
{
	put32(r, TX_MAGIC);
	put32(r + 4, seq);
	put32(r + 8, (uint32_t)a);
	put32(r + 12, (uint32_t)(a >> 32));
}

/*
 * @n bytes of the TX buffer of frame @seq from buffer offset @off, which
 * lies at IOVA @iova: the virtio-net header (zero), the Ethernet header,
 * then the records of the IOVAs.
 */
static void tx_fill(uint8_t *dst, uint64_t iova, size_t off, size_t n,
		    uint32_t seq)
{
	uint64_t base = 1;	/* not 16-aligned: no record yet */
	uint8_t r[16];
	size_t i;

	for (i = 0; i < n; i++, off++, iova++) {
		if (off < HDR_LEN) {
			dst[i] = 0;
		} else if (off < HDR_LEN + ETH_LEN) {
			dst[i] = tx_eth[off - HDR_LEN];
		} else {
			if ((iova & ~15ULL) != base) {
				base = iova & ~15ULL;
				tx_rec(r, base, seq);
			}
			dst[i] = r[iova & 15];
		}
	}
}

/* RX frame @seq of @len bytes: Ethernet header, then records. */
static void rx_gen(uint8_t *f, uint32_t seq, size_t len)
{
	uint8_t r[16];
	size_t off, c;

	memcpy(f, rx_eth, len < ETH_LEN ? len : ETH_LEN);
	for (off = ETH_LEN; off < len; off += 16) {
		put32(r, RX_MAGIC);
		put32(r + 4, seq);
		put32(r + 8, (uint32_t)off);
		put32(r + 12, mix32(seq, (uint32_t)off));
		c = len - off < 16 ? len - off : 16;
		memcpy(f + off, r, c);
	}
}

/* Frame lengths: mostly Ethernet-sized, some jumbo. */
static size_t frame_len(uint32_t seq, uint32_t salt)
{
	uint32_t h = mix32(seq, salt);

	if (h % 100 < 70)
		return 60 + (h >> 8) % (1514 - 60 + 1);
	if (h % 100 < 95)
		return 1515 + (h >> 8) % (4096 - 1515 + 1);
	return 4097 + (h >> 8) % (MAX_FRAME - 4097 + 1);
}

#define TX_SALT	0x7478
#define RX_SALT	0x7278

/*
 * Name what bytes found somewhere are, trying every alignment of a record
 * within @len bytes at @p.  Returns the remap whose canary they are, or
 * -1.
 */
static long describe(const uint8_t *p, size_t len, char *out, size_t size)
{
	size_t i;

	for (i = 0; i + 16 <= len; i++) {
		uint32_t m = get32(p + i);

		if (m == CANARY_MAGIC) {
			snprintf(out, size,
				 "the canary of remap #%u (old page %u, page offset 0x%x)",
				 get32(p + i + 4), get32(p + i + 8),
				 get32(p + i + 12));
			return get32(p + i + 4);
		}
		if (m == TX_MAGIC) {
			snprintf(out, size,
				 "TX data of frame %u for IOVA 0x%llx",
				 get32(p + i + 4),
				 get32(p + i + 8) |
				 (unsigned long long)get32(p + i + 12) << 32);
			return -1;
		}
		if (m == RX_MAGIC) {
			snprintf(out, size, "RX frame %u at frame offset %u",
				 get32(p + i + 4), get32(p + i + 8));
			return -1;
		}
	}
	for (i = 0; i < len && p[i] == VMM_RX_POISON; i++)
		;
	if (len && i == len)
		snprintf(out, size, "RX poison (never written)");
	else
		snprintf(out, size, "not a record of this test");
	return -1;
}

/* ---- the test's state ---- */

struct layout {			/* one posted buffer */
	uint64_t iova[MAX_SEGS];
	uint32_t len[MAX_SEGS];
	unsigned int nseg;
	uint32_t total;
	uint32_t seq;		/* TX: its frame */
	int head;
};

struct qpage {			/* a page in quarantine */
	int64_t pg;
	uint32_t id;		/* its canary's remap, or NO_REMAP */
	long long us;		/* when it was retired */
};

struct remap_rec {
	uint64_t iova;
	int64_t old_pg, new_pg;
	long long us;
};

/* The last RECENT buffers of a vq posted, or done (one writer each). */
struct recent {
	uint64_t lo[RECENT], hi[RECENT];
	unsigned int n;
};

struct piece {			/* where received bytes came from */
	size_t foff;
	uint64_t iova;
	size_t len;
};

struct iso {
	struct vmm v;
	struct vmm_tap t;
	struct viommu vi;
	int inj;
	long long t0;		/* us */

	int stop;		/* the remaps are done: drain and end */
	int abort;		/* a violation or an error: end now */

	/* guest side, shared with the remapper (atomics) */
	int *inflight;		/* per IOVA page: posted buffers over it */
	uint64_t *hot_lo[VMM_NVQS], *hot_hi[VMM_NVQS];	/* per head */
	struct layout *bl[VMM_NVQS];			/* per head */
	struct recent posted[VMM_NVQS], done[VMM_NVQS];

	/* remapper */
	unsigned long target;
	struct remap_rec *log;
	int64_t *slot_last;	/* per IOVA page: its last remap, -1 */
	struct qpage quar[QUARANTINE];
	unsigned int qhead;	/* the oldest */
	unsigned long remaps, remaps_busy[VMM_NVQS], remaps_tried[VMM_NVQS];
	unsigned long remaps_done;	/* of buffers the device just used */
	unsigned long remaps_next;	/* of buffers the device takes next */
	unsigned long remaps_lazy;	/* UPDATE left to the miss server */
	unsigned long skipped, checks, paced_us;
	unsigned long long canary_bytes, inval_us, inval_max_us;
	long long remap_us;

	/* traffic */
	unsigned long tx_frames, rx_frames, tx_kicks, rx_kicks, rx_bufs;
	unsigned long long tx_bytes, rx_bytes;
	struct layout *txl;	/* per TX frame % TX_WINDOW */
	struct piece pieces[RING_NUM * MAX_SEGS];
	unsigned int npieces;
	uint8_t *rx_base;

	/* what went wrong */
	pthread_mutex_t rlock;
	unsigned int nviol, nerr, nreports;
	char reports[MAX_REPORTS][REPORT_LEN];
};

static int flag(int *f)
{
	return __atomic_load_n(f, __ATOMIC_ACQUIRE);
}

static void set_flag(int *f)
{
	__atomic_store_n(f, 1, __ATOMIC_RELEASE);
}

/* Record a violation (@viol) or an error; either ends the run. */
static void __printf(3, 4) report(struct iso *t, int viol, const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&t->rlock);
	if (viol)
		t->nviol++;
	else
		t->nerr++;
	if (t->nreports < MAX_REPORTS) {
		va_start(ap, fmt);
		vsnprintf(t->reports[t->nreports++], REPORT_LEN, fmt, ap);
		va_end(ap);
	}
	pthread_mutex_unlock(&t->rlock);
	set_flag(&t->abort);
}

static int64_t slot_of(struct iso *t, uint64_t iova)
{
	uint64_t s;

	if (iova < t->vi.iova_base)
		return -1;
	s = (iova - t->vi.iova_base) / PS;
	return s < t->vi.nslots ? (int64_t)s : -1;
}

/* What the remap log knows about the IOVA page of @iova. */
static void page_history(struct iso *t, uint64_t iova, char *out,
			 size_t size)
{
	int64_t s = slot_of(t, iova), id, pg;
	struct remap_rec *r;

	if (s < 0) {
		snprintf(out, size, "IOVA outside the window");
		return;
	}
	pg = __atomic_load_n(&t->vi.page_of[s], __ATOMIC_RELAXED);
	id = __atomic_load_n(&t->slot_last[s], __ATOMIC_ACQUIRE);
	if (id < 0) {
		snprintf(out, size, "IOVA page 0x%llx on page %lld, never remapped",
			 (unsigned long long)iova & ~(PS - 1ULL),
			 (long long)pg);
		return;
	}
	r = &t->log[id];
	snprintf(out, size,
		 "IOVA page 0x%llx on page %lld; its last remap #%lld moved it from old page %lld to page %lld, %lld us ago",
		 (unsigned long long)r->iova, (long long)pg, (long long)id,
		 (long long)r->old_pg, (long long)r->new_pg,
		 now_us() - t->t0 - r->us);
}

/* ---- what the guest driver is doing ---- */

static void note_recent(struct recent *r, uint64_t lo, uint64_t hi)
{
	unsigned int n = __atomic_load_n(&r->n, __ATOMIC_RELAXED);

	__atomic_store_n(&r->lo[n % RECENT], lo, __ATOMIC_RELAXED);
	__atomic_store_n(&r->hi[n % RECENT], hi, __ATOMIC_RELAXED);
	__atomic_store_n(&r->n, n + 1, __ATOMIC_RELEASE);
}

/* An IOVA in one of the last few buffers noted, or 0. */
static uint64_t pick_recent(struct recent *r)
{
	unsigned int n = __atomic_load_n(&r->n, __ATOMIC_ACQUIRE), k;
	uint64_t lo, hi;

	if (!n)
		return 0;
	k = (n - 1 - rnd() % (n < RECENT ? n : RECENT)) % RECENT;
	lo = __atomic_load_n(&r->lo[k], __ATOMIC_RELAXED);
	hi = __atomic_load_n(&r->hi[k], __ATOMIC_RELAXED);
	return lo && hi > lo ? lo + rnd() % (hi - lo) : 0;
}

static unsigned long frames_done(struct iso *t)
{
	return __atomic_load_n(&t->tx_frames, __ATOMIC_RELAXED) +
	       __atomic_load_n(&t->rx_frames, __ATOMIC_RELAXED);
}

/* ---- the remapper ---- */

/* Check quarantined page @qp against its canary. */
static void check_page(struct iso *t, struct qpage *qp, const char *when)
{
	uint8_t *p = t->v.mem + (size_t)qp->pg * PS, want[16];
	char h1[48], h2[48], what[160], hist[256];
	long first, last = 0, nbad;
	struct remap_rec *r;

	t->checks++;
	t->canary_bytes += PS;
	first = canary_diff(p, qp->id, (uint32_t)qp->pg, &last, &nbad);
	if (first < 0)
		return;
	canary_rec(want, qp->id, (uint32_t)qp->pg, first & ~15L);
	hex16(want, 16, h1);
	hex16(p + (first & ~15L), 16, h2);
	describe(p + first, PS - first < 48 ? PS - first : 48, what,
		 sizeof(what));
	if (qp->id == NO_REMAP) {
		report(t, 1,
		       "WRITE to a page never mapped: page %lld (user %p) changed at page offset 0x%lx..0x%lx (%ld bytes), found %s (%s), expected %s, %s",
		       (long long)qp->pg, (void *)p, first, last, nbad, h2,
		       what, h1, when);
		return;
	}
	r = &t->log[qp->id];
	snprintf(hist, sizeof(hist),
		 "remap #%u INVALIDATEd IOVA 0x%llx and moved it from old page %lld (user %p) to page %lld, %lld us before this check (%s)",
		 qp->id, (unsigned long long)r->iova, (long long)r->old_pg,
		 (void *)p, (long long)r->new_pg, now_us() - t->t0 - r->us,
		 when);
	report(t, 1,
	       "WRITE AFTER INVALIDATE: IOVA 0x%llx, old page %lld, page offset 0x%lx (changed: 0x%lx..0x%lx, %ld bytes): expected %s found %s (found bytes are %s); %s",
	       (unsigned long long)r->iova + first,
	       (long long)qp->pg, first, first, last, nbad, h1, h2, what,
	       hist);
}

/*
 * Move the IOVA page holding @x to the oldest quarantined page; the old
 * page takes the canary of remap @id and joins the quarantine.
 * 0 done, 1 not a page to move, -errno.
 */
static int remap_one(struct iso *t, uint64_t x, uint32_t id, int qi,
		     int how, int lazy)
{
	struct viommu *vi = &t->vi;
	uint64_t base = x & ~(uint64_t)(PS - 1);
	struct qpage *qp = &t->quar[t->qhead];
	int64_t s = slot_of(t, base), pg, npg = qp->pg;
	long long a, b;
	int busy, r;
	uint8_t *old, *fresh;

	/* Only this thread changes the table; the lock keeps others out. */
	if (s < 0)
		return 1;
	pg = vi->page_of[s];
	if (pg < 0 || vi->pinned[pg])
		return 1;
	/* The page to reuse must still hold its canary. */
	check_page(t, qp, "checked before reuse");

	pthread_mutex_lock(&vi->lock);
	busy = __atomic_load_n(&t->inflight[s], __ATOMIC_ACQUIRE);
	a = now_us();
	r = viommu_send_locked(vi, VHOST_IOTLB_INVALIDATE, base, PS, 0, 0);
	b = now_us();
	if (r) {
		pthread_mutex_unlock(&vi->lock);
		return r;
	}
	/* From here on the device must not touch the old page. */
	old = t->v.mem + (size_t)pg * PS;
	fresh = t->v.mem + (size_t)npg * PS;
	memcpy(fresh, old, PS);
	canary_fill(old, id, (uint32_t)pg);
	vi->perm[npg] = vi->perm[pg];
	__atomic_store_n(&vi->page_of[s], npg, __ATOMIC_RELAXED);
	vi->slot_of[npg] = s;
	vi->slot_of[pg] = -1;
	if (!lazy)
		r = viommu_send_locked(vi, VHOST_IOTLB_UPDATE, base, PS,
			     (uintptr_t)fresh, vi->perm[npg]);
	pthread_mutex_unlock(&vi->lock);

	t->log[id].iova = base;
	t->log[id].old_pg = pg;
	t->log[id].new_pg = npg;
	t->log[id].us = b - t->t0;
	__atomic_store_n(&t->slot_last[s], (int64_t)id, __ATOMIC_RELEASE);
	qp->pg = pg;
	qp->id = id;
	qp->us = b - t->t0;
	t->qhead = (t->qhead + 1) % QUARANTINE;
	t->inval_us += b - a;
	if ((unsigned long long)(b - a) > t->inval_max_us)
		t->inval_max_us = b - a;
	if (busy)
		t->remaps_busy[qi]++;
	t->remaps_tried[qi]++;
	t->remaps_done += how == PICK_DONE && !busy;
	t->remaps_next += how < PICK_POSTED;
	t->remaps_lazy += lazy;
	return r;
}

/* An IOVA in one of the next few buffers the device takes, or 0. */
static uint64_t pick_next(struct iso *t, int qi)
{
	struct vmm_vq *q = &t->v.vq[qi];
	uint16_t used = vmm_used_idx(q), k = rnd() % 4, head;
	uint16_t avail = __atomic_load_n(&q->avail->idx, __ATOMIC_ACQUIRE);
	uint64_t lo, hi;

	if ((uint16_t)(avail - used) <= k)
		return 0;
	head = __atomic_load_n(&q->avail->ring[(uint16_t)(used + k) % q->num],
			       __ATOMIC_RELAXED);
	if (head >= q->num)
		return 0;
	lo = __atomic_load_n(&t->hot_lo[qi][head], __ATOMIC_RELAXED);
	hi = __atomic_load_n(&t->hot_hi[qi][head], __ATOMIC_RELAXED);
	return lo && hi > lo ? lo + rnd() % (hi - lo) : 0;
}

static void *remapper(void *arg)
{
	struct iso *t = arg;
	long long start = now_us();
	unsigned long i = 0;
	int r;

	rng_state = seed() * 7 + 3;
	while (i < t->target && !flag(&t->abort)) {
		int qi = rnd() & 1, how = rnd() % 8, lazy = !(rnd() % 4);
		struct vmm_vq *q = &t->v.vq[qi];
		unsigned int head = rnd() % q->num;
		uint64_t lo, hi, x = 0;
		long long w = 0;

		/* Not too far ahead of the traffic. */
		while (i > PACE * frames_done(t) + PACE_SLACK &&
		       w < PACE_MAX_US && !flag(&t->abort)) {
			usleep(50);
			w += 50;
		}
		t->paced_us += w;
		/*
		 * One of the next buffers the device takes (it may have
		 * translated it already, or be at it now), one posted last,
		 * one the device finished last (a translation it may still
		 * hold), or any posted buffer (or where one may go next).
		 */
		if (how < PICK_POSTED)
			x = pick_next(t, qi);
		else if (how == PICK_POSTED)
			x = pick_recent(&t->posted[qi]);
		else if (how == PICK_DONE)
			x = pick_recent(&t->done[qi]);
		if (!x) {
			how = PICK_ANY;
			lo = __atomic_load_n(&t->hot_lo[qi][head],
					     __ATOMIC_RELAXED);
			hi = __atomic_load_n(&t->hot_hi[qi][head],
					     __ATOMIC_RELAXED);
			if (lo && hi > lo)
				x = lo + rnd() % (hi - lo);
			else
				x = viommu_slot_iova(&t->vi, q, head) +
				    rnd() % (MAX_START + 4096);
		}
		r = remap_one(t, x, (uint32_t)i, qi, how, lazy);
		if (r < 0) {
			report(t, 0, "remap #%lu of IOVA 0x%llx: %s", i,
			       (unsigned long long)x, strerror(-r));
			break;
		}
		if (r) {
			t->skipped++;
			continue;
		}
		i++;
		/* the page retired CHECK_LAG remaps ago */
		if (i >= CHECK_LAG)
			check_page(t, &t->quar[(t->qhead + QUARANTINE -
						CHECK_LAG) % QUARANTINE],
				   "checked 16 remaps after its INVALIDATE");
	}
	t->remaps = i;
	t->remap_us = now_us() - start;
	set_flag(&t->stop);
	return NULL;
}

/* ---- the guest driver ---- */

static void mark_pages(struct iso *t, const struct layout *l, int delta)
{
	unsigned int i;

	for (i = 0; i < l->nseg; i++) {
		uint64_t a = l->iova[i] & ~(uint64_t)(PS - 1);
		uint64_t end = l->iova[i] + l->len[i];

		for (; a < end; a += PS) {
			int64_t s = slot_of(t, a);

			if (s >= 0)
				__atomic_add_fetch(&t->inflight[s], delta,
						   __ATOMIC_ACQ_REL);
		}
	}
}

/*
 * Post a buffer of @total bytes on vq @qi, starting at a random offset of
 * a fresh head's data slot, in a random layout: TX frame @seq (its bytes
 * derived from their IOVAs), or an RX buffer (poisoned).  Fills *@l.
 * The head, or -ENOSPC.
 */
static int post_buf(struct iso *t, int qi, size_t total, uint32_t seq,
		    struct layout *l)
{
	static __thread uint8_t data[VMM_SLOT_SIZE];
	struct vmm_vq *q = &t->v.vq[qi];
	enum vmm_post_mode mode = rnd() % 3;
	unsigned int nseg = 1 + rnd() % MAX_SEGS, i;
	uint16_t flags = qi == VMM_RX ? VRING_DESC_F_WRITE : 0, idx;
	size_t start = rnd() % MAX_START, off = 0, soff, n;
	struct vring_desc *d = NULL;
	uint64_t slot;
	int head, r;

	if (mode == VMM_DIRECT)
		nseg = 1;
	if (nseg > total)
		nseg = total;
	if (mode == VMM_CHAIN && q->num_free < nseg)
		return -ENOSPC;
	head = vmm_desc_alloc(q, mode == VMM_CHAIN ? nseg : 1);
	if (head < 0)
		return head;
	slot = viommu_slot_iova(&t->vi, q, head);
	if (mode == VMM_INDIRECT)
		d = q->indirect + (size_t)head * VMM_MAX_SEGS;
	l->nseg = nseg;
	l->total = total;
	l->seq = seq;
	l->head = head;
	soff = start;
	idx = head;
	for (i = 0; i < nseg; i++) {
		n = total / nseg + (i < total % nseg);
		l->iova[i] = slot + soff;
		l->len[i] = n;
		if (flags)
			memset(data, VMM_RX_POISON, n);
		else
			tx_fill(data, slot + soff, off, n, seq);
		r = viommu_write(&t->vi, slot + soff, data, n);
		if (r)
			return r;
		vmm_post_seg(q, d, mode, &idx, i, nseg, slot + soff, n, flags);
		off += n;
		soff += n + VMM_SPLIT_GAP;
	}
	mark_pages(t, l, 1);
	t->bl[qi][head] = *l;
	__atomic_store_n(&t->hot_lo[qi][head], slot + start,
			 __ATOMIC_RELAXED);
	__atomic_store_n(&t->hot_hi[qi][head], slot + soff, __ATOMIC_RELAXED);
	note_recent(&t->posted[qi], slot + start, slot + soff);
	return vmm_post_finish(q, head, mode, nseg,
			       t->vi.ind_iova[qi][head]);
}

/* The device is done with @head of vq @qi. */
static void release(struct iso *t, int qi, unsigned int head)
{
	struct layout *l = &t->bl[qi][head];

	__atomic_store_n(&t->hot_lo[qi][head], 0, __ATOMIC_RELAXED);
	mark_pages(t, l, -1);
	note_recent(&t->done[qi], l->iova[0],
		    l->iova[l->nseg - 1] + l->len[l->nseg - 1]);
}

/* The IOVA of buffer offset @off of @l, or 0. */
static uint64_t layout_iova(const struct layout *l, size_t off)
{
	unsigned int i;

	for (i = 0; i < l->nseg; i++) {
		if (off < l->len[i])
			return l->iova[i] + off;
		off -= l->len[i];
	}
	return 0;
}

/* Before waiting for a call, ask for one (EVENT_IDX). */
static void want_call(struct vmm_vq *q)
{
	__atomic_store_n(vmm_used_event(q), q->used_idx, __ATOMIC_SEQ_CST);
}

static void no_progress(struct iso *t, const char *dir, const char *what)
{
	struct vmm_vq *rx = &t->v.vq[VMM_RX], *tx = &t->v.vq[VMM_TX];

	report(t, 0,
	       "%s: no progress for %d ms (%s): tx avail %u used %u, rx avail %u used %u; err eventfd rx %d tx %d; miss server: %lu misses, %lu unmapped, %lu access fails",
	       dir, IDLE_MS, what, tx->avail_idx, vmm_used_idx(tx),
	       rx->avail_idx, vmm_used_idx(rx), vmm_poll_fd(rx->err_fd),
	       vmm_poll_fd(tx->err_fd), t->vi.misses, t->vi.unmapped,
	       t->vi.access_fails);
}

/* Check TX frame @l seen on the tap as @f, @n bytes. */
/* What the tap counted of the frames the device wrote to it. */
static void tap_stats(struct iso *t, char *out, size_t size)
{
	snprintf(out, size,
		 "tap %s: rx_packets %lld rx_dropped %lld rx_frame_errors %lld rx_length_errors %lld",
		 t->t.name, vmm_if_stat(t->t.name, "rx_packets"),
		 vmm_if_stat(t->t.name, "rx_dropped"),
		 vmm_if_stat(t->t.name, "rx_frame_errors"),
		 vmm_if_stat(t->t.name, "rx_length_errors"));
}

/* Whether @f (@n bytes) is TX frame @l; its bytes go to @want. */
static int tx_matches(const struct layout *l, const uint8_t *f, ssize_t n,
		      uint8_t *want)
{
	size_t len = l->total - HDR_LEN, off = 0;
	unsigned int s;

	for (s = 0; s < l->nseg; s++) {
		tx_fill(want + off, l->iova[s], off, l->len[s], l->seq);
		off += l->len[s];
	}
	return n == (ssize_t)len && !memcmp(f, want + HDR_LEN, len);
}

/* The TX frame whose data a frame carries (its first record), or -1. */
static long tx_seq_of(const uint8_t *f, size_t n)
{
	size_t i;

	for (i = ETH_LEN; i + 8 <= n; i++)
		if (get32(f + i) == TX_MAGIC)
			return get32(f + i + 4);
	return -1;
}

/*
 * Check TX frame @l seen on the tap as @f, @n bytes; frames up to
 * @posted were posted.
 */
static void tx_check(struct iso *t, const struct layout *l, const uint8_t *f,
		     ssize_t n, uint32_t posted)
{
	static __thread uint8_t want[MAX_FRAME + HDR_LEN];
	size_t len = l->total - HDR_LEN, i, o, a, nn = n;
	char h1[48], h2[48], what[320], hist[320], tap[192];
	uint64_t iova;
	long id;

	t->tx_bytes += n > 0 ? n : 0;
	if (tx_matches(l, f, n, want))
		return;
	if (nn > MAX_FRAME)
		nn = MAX_FRAME;		/* truncated */
	tap_stats(t, tap, sizeof(tap));
	/* A later frame, intact: the ones before it did not come. */
	id = tx_seq_of(f, nn);
	if (id > (long)l->seq && id < (long)posted &&
	    tx_matches(&t->txl[id % TX_WINDOW], f, n, want)) {
		report(t, 0,
		       "TX frames %u..%ld missing: the next frame on the tap was frame %ld (%zd bytes, intact); TX err eventfd %s; %s",
		       l->seq, id - 1, id, n, vmm_poll_fd(t->v.vq[VMM_TX].err_fd) ? "signalled" :
		       "quiet", tap);
		return;
	}
	tx_matches(l, f, n, want);	/* @want back to frame @l */
	for (i = 0; i < len && i < nn && f[i] == want[HDR_LEN + i]; i++)
		;
	o = HDR_LEN + i;		/* buffer offset of the first bad byte */
	iova = layout_iova(l, o);
	/* the frame offset of the record holding it */
	a = (iova & 15) <= i ? i - (iova & 15) : 0;
	hex16(want + HDR_LEN + a, len > a ? len - a : 0, h1);
	hex16(f + a, nn > a ? nn - a : 0, h2);
	id = describe(f + a, nn > a + 48 ? 48 : nn - a, what, sizeof(what));
	if (id >= 0 && (unsigned long)id < t->target) {
		struct remap_rec *r = &t->log[id];
		size_t w = strlen(what);

		snprintf(what + w, sizeof(what) - w,
			 "; remap #%ld INVALIDATEd IOVA 0x%llx and moved it from old page %lld to page %lld, %lld us before the frame was checked",
			 id, (unsigned long long)r->iova,
			 (long long)r->old_pg, (long long)r->new_pg,
			 now_us() - t->t0 - r->us);
	}
	page_history(t, iova, hist, sizeof(hist));
	report(t, id >= 0,
	       "%s: TX frame %u (%zu bytes, %u segments, head %d): %zd bytes on the tap, first bad byte at frame offset %zu, IOVA 0x%llx: expected %s found %s (found bytes are %s); now: %s; %s",
	       id >= 0 ? "READ AFTER INVALIDATE" : "TX frame corrupted", l->seq, len,
	       l->nseg, l->head, n, i, (unsigned long long)iova, h1, h2,
	       what, hist, tap);
}

static void *tx_thread(void *arg)
{
	static __thread uint8_t frame[MAX_FRAME + 64];
	struct iso *t = arg;
	struct vmm_vq *q = &t->v.vq[VMM_TX];
	struct pollfd p[2] = {
		{ .fd = q->call_fd, .events = POLLIN },
		{ .fd = t->t.pkt_fd, .events = POLLIN },
	};
	uint32_t posted = 0, seen = 0, id, ulen;
	long long progress = vmm_now_ms();
	ssize_t n;
	int r;

	rng_state = seed() * 11 + 5;
	while (!flag(&t->abort)) {
		int stopping = flag(&t->stop), progressed = 0, np = 0;

		while (!stopping && q->num_free >= MAX_SEGS &&
		       posted - seen < TX_WINDOW) {
			struct layout *l = &t->txl[posted % TX_WINDOW];

			r = post_buf(t, VMM_TX,
				     HDR_LEN + frame_len(posted, TX_SALT),
				     posted, l);
			if (r == -ENOSPC)
				break;
			if (r < 0) {
				report(t, 0, "TX post: %s", strerror(-r));
				return NULL;
			}
			posted++;
			np++;
		}
		if (np) {
			vmm_kick(q);
			t->tx_kicks++;
			progressed = 1;
		}
		while ((r = vmm_reap(q, &id, &ulen)) == 1) {
			release(t, VMM_TX, id);
			progressed = 1;
		}
		if (r < 0) {
			report(t, 0, "TX: bad used entry id %u", id);
			return NULL;
		}
		while ((n = vmm_tap_recv(&t->t, frame, sizeof(frame), 0)) >= 0) {
			if (seen == posted) {
				report(t, 0,
				       "TX: a frame of %zd bytes on the tap, none sent",
				       n);
				return NULL;
			}
			tx_check(t, &t->txl[seen % TX_WINDOW], frame, n,
				 posted);
			if (flag(&t->abort))
				return NULL;
			seen++;
			__atomic_store_n(&t->tx_frames, t->tx_frames + 1,
					 __ATOMIC_RELAXED);
			progressed = 1;
		}
		if (stopping && seen == posted && !vmm_inflight(q))
			break;
		if (progressed) {
			progress = vmm_now_ms();
			continue;
		}
		if (vmm_now_ms() - progress > IDLE_MS) {
			no_progress(t, "TX", seen == posted ? "reaping" :
				"waiting for frames on the tap");
			return NULL;
		}
		want_call(q);
		if (vmm_used_idx(q) == q->used_idx && poll(p, 2, 20) > 0)
			vmm_poll_fd(q->call_fd);
	}
	return NULL;
}

/* Copy the bytes of RX @head, noting the IOVA of each piece. */
static size_t rx_copy(void *ctx, struct vmm_vq *q, uint16_t head, void *dst,
		      size_t size)
{
	struct iso *t = ctx;
	struct layout *l = &t->bl[q->index][head];
	size_t done = 0, c;
	unsigned int i;

	for (i = 0; i < l->nseg && done < size; i++) {
		c = l->len[i] < size - done ? l->len[i] : size - done;
		if (viommu_read(&t->vi, l->iova[i], (uint8_t *)dst + done, c))
			break;
		if (t->npieces < RING_NUM * MAX_SEGS)
			t->pieces[t->npieces++] = (struct piece) {
				.foff = (uint8_t *)dst + done - t->rx_base,
				.iova = l->iova[i],
				.len = c,
			};
		done += c;
	}
	release(t, q->index, head);
	t->rx_bufs++;
	return done;
}

static void rx_check(struct iso *t, uint32_t seq, const uint8_t *buf,
		     ssize_t n, unsigned int nbufs)
{
	static __thread uint8_t want[HDR_LEN + MAX_FRAME];
	size_t len = frame_len(seq, RX_SALT), i, a, nn;
	char h1[48], h2[48], what[160], hist[320];
	uint64_t iova = 0;
	unsigned int k;

	memset(want, 0, HDR_LEN);
	want[10] = nbufs;
	want[11] = nbufs >> 8;
	rx_gen(want + HDR_LEN, seq, len);
	t->rx_bytes += n > 0 ? n : 0;
	if (n == (ssize_t)(HDR_LEN + len) && !memcmp(buf, want, n))
		return;
	nn = n < 0 ? 0 : n;
	if (nn > HDR_LEN + MAX_FRAME)
		nn = HDR_LEN + MAX_FRAME;	/* truncated */
	for (i = 0; i < HDR_LEN + len && i < nn && buf[i] == want[i]; i++)
		;
	for (k = 0; k < t->npieces; k++)
		if (i >= t->pieces[k].foff &&
		    i < t->pieces[k].foff + t->pieces[k].len)
			iova = t->pieces[k].iova + (i - t->pieces[k].foff);
	a = i & ~(size_t)15;
	hex16(want + a, HDR_LEN + len > a ? HDR_LEN + len - a : 0, h1);
	hex16(buf + a, nn > a ? nn - a : 0, h2);
	describe(buf + i, nn > i + 32 ? 32 : nn - i, what, sizeof(what));
	page_history(t, iova, hist, sizeof(hist));
	report(t, 0,
	       "RX frame corrupted: frame %u (%zu bytes + header, %u buffers): %zd bytes received, first bad byte at offset %zu (header included), IOVA 0x%llx: expected %s found %s (found bytes are %s); %s",
	       seq, len, nbufs, n, i, (unsigned long long)iova, h1, h2, what,
	       hist);
}

static void *rx_thread(void *arg)
{
	static __thread uint8_t frame[MAX_FRAME], buf[HDR_LEN + MAX_FRAME];
	struct iso *t = arg;
	struct vmm_vq *q = &t->v.vq[VMM_RX];
	uint32_t sent = 0, got = 0;
	long long progress = vmm_now_ms();
	unsigned int nbufs;
	struct layout l;
	ssize_t n;
	int r;

	rng_state = seed() * 13 + 9;
	t->rx_base = buf;
	while (!flag(&t->abort)) {
		int stopping = flag(&t->stop), progressed = 0, np = 0;

		while (q->num_free >= MAX_SEGS) {
			size_t len;

			switch (rnd() % 10) {
			case 0 ... 1:
				len = 64 + rnd() % 449;
				break;
			case 2:
				len = 4097 + rnd() % 8192;
				break;
			default:
				len = 1536 + rnd() % 2561;
				break;
			}
			r = post_buf(t, VMM_RX, len, 0, &l);
			if (r == -ENOSPC)
				break;
			if (r < 0) {
				report(t, 0, "RX post: %s", strerror(-r));
				return NULL;
			}
			np++;
		}
		if (np) {
			vmm_kick(q);
			t->rx_kicks++;
			progressed = 1;
		}
		while (!stopping && sent - got < RX_WINDOW) {
			size_t len = frame_len(sent, RX_SALT);

			rx_gen(frame, sent, len);
			r = vmm_inject(t->inj, frame, len);
			if (r) {
				report(t, 0, "inject RX frame %u: %s", sent,
				       strerror(-r));
				return NULL;
			}
			sent++;
			progressed = 1;
		}
		for (;;) {
			t->npieces = 0;
			n = vmm_rx_frame_via(q, 1, buf, sizeof(buf), &nbufs,
					     IDLE_MS, rx_copy, t);
			if (n <= 0)
				break;
			if (got == sent) {
				report(t, 0, "RX: a frame of %zd bytes, none injected",
				       n);
				return NULL;
			}
			rx_check(t, got, buf, n, nbufs);
			if (flag(&t->abort))
				return NULL;
			got++;
			__atomic_store_n(&t->rx_frames, t->rx_frames + 1,
					 __ATOMIC_RELAXED);
			progressed = 1;
		}
		if (n < 0) {
			report(t, 0, "RX frame %u: %s", got, strerror(-n));
			return NULL;
		}
		if (stopping && got == sent)
			break;
		if (progressed) {
			progress = vmm_now_ms();
			continue;
		}
		if (vmm_now_ms() - progress > IDLE_MS) {
			no_progress(t, "RX", "waiting for injected frames");
			return NULL;
		}
		want_call(q);
		if (vmm_used_idx(q) == q->used_idx)
			vmm_wait_fd(q->call_fd, 20);
	}
	return NULL;
}

/* ---- setup ---- */

static int iso_up(struct iso *t)
{
	struct viommu *vi = &t->vi;
	unsigned int qi;
	size_t i;
	int r;

	t->t0 = now_us();
	t->target = remap_target();
	pthread_mutex_init(&t->rlock, NULL);
	r = viommu_bringup(vi, &t->v, ivhost_dev_path(), FEATURES | IOTLB,
			   RING_NUM, VIOMMU_4K_SHIFT, QUARANTINE, seed(), 0);
	if (r)
		return r;
	if (!(t->v.features & IOTLB))
		return -EOPNOTSUPP;
	if (vi->nspare != QUARANTINE)
		return -ENOMEM;
	t->inflight = calloc(vi->nslots, sizeof(*t->inflight));
	t->slot_last = malloc(vi->nslots * sizeof(*t->slot_last));
	t->log = calloc(t->target, sizeof(*t->log));
	t->txl = calloc(TX_WINDOW, sizeof(*t->txl));
	if (!t->inflight || !t->slot_last || !t->log || !t->txl)
		return -ENOMEM;
	memset(t->slot_last, 0xff, vi->nslots * sizeof(*t->slot_last));
	for (qi = 0; qi < VMM_NVQS; qi++) {
		t->hot_lo[qi] = calloc(RING_NUM, sizeof(uint64_t));
		t->hot_hi[qi] = calloc(RING_NUM, sizeof(uint64_t));
		t->bl[qi] = calloc(RING_NUM, sizeof(struct layout));
		if (!t->hot_lo[qi] || !t->hot_hi[qi] || !t->bl[qi])
			return -ENOMEM;
	}
	/* The spare pages are the quarantine: the remapper owns them. */
	for (i = 0; i < QUARANTINE; i++) {
		t->quar[i].pg = vi->spare[i];
		t->quar[i].id = NO_REMAP;
		canary_fill(t->v.mem + (size_t)vi->spare[i] * PS, NO_REMAP,
			    (uint32_t)vi->spare[i]);
	}
	vi->nspare = 0;

	r = vmm_tap_open(&t->t, 0);
	if (!r)
		r = vmm_if_set_mtu(t->t.name, TAP_MTU);
	if (!r)
		r = vmm_if_set_txqlen(t->t.name, 4096);
	if (r)
		return r;
	t->inj = vmm_inject_open(t->t.ifindex, 0);
	if (t->inj < 0)
		return t->inj;
	r = viommu_start(vi);
	if (!r)
		r = viommu_map_used_rings(vi);
	if (!r)
		r = vmm_set_backend(&t->v, VMM_RX, t->t.fd);
	if (!r)
		r = vmm_set_backend(&t->v, VMM_TX, t->t.fd);
	return r;
}

static void iso_down(struct iso *t)
{
	unsigned int qi;

	viommu_close(&t->vi);
	vmm_tap_close(&t->t);
	if (t->inj >= 0)
		close(t->inj);
	t->inj = -1;
	free(t->inflight);
	free(t->slot_last);
	free(t->log);
	free(t->txl);
	for (qi = 0; qi < VMM_NVQS; qi++) {
		free(t->hot_lo[qi]);
		free(t->hot_hi[qi]);
		free(t->bl[qi]);
	}
}

FIXTURE(isolation) {
	struct iso *t;
};

FIXTURE_SETUP(isolation)
{
	self->t = calloc(1, sizeof(*self->t));
	ASSERT_NE(NULL, self->t);
	vmm_init_closed(&self->t->v, &self->t->t);
	self->t->inj = -1;
}

FIXTURE_TEARDOWN(isolation)
{
	if (!self->t)
		return;
	iso_down(self->t);
	free(self->t);
}

/*
 * TX and RX run while the remapper moves pages of posted buffers; see the
 * top of the file.  Up to 15 minutes on a slow (debug, TCG) kernel.
 */
TEST_F_TIMEOUT(isolation, remap_under_traffic, 900)
{
	struct iso *t = self->t;
	pthread_t rt, tt, xt;
	struct ivhost_iotlb_stats s;
	unsigned long busy;
	unsigned int i;
	double secs;
	int r;

	r = iso_up(t);
	if (r == -ENOENT || r == -ENODEV || r == -ENXIO || r == -EOPNOTSUPP)
		SKIP(return, "no device IOTLB on %s: %s", ivhost_dev_path(),
		     strerror(-r));
	ASSERT_EQ(0, r);

	ASSERT_EQ(0, pthread_create(&tt, NULL, tx_thread, t));
	ASSERT_EQ(0, pthread_create(&xt, NULL, rx_thread, t));
	ASSERT_EQ(0, pthread_create(&rt, NULL, remapper, t));
	pthread_join(rt, NULL);
	pthread_join(tt, NULL);
	pthread_join(xt, NULL);
	viommu_stop(&t->vi);

	/* Whatever is still in quarantine: its canary is intact. */
	for (i = 0; i < QUARANTINE; i++)
		check_page(t, &t->quar[i], "checked at the end");

	secs = t->remap_us / 1e6;
	busy = t->remaps_busy[VMM_TX] + t->remaps_busy[VMM_RX];
	TH_LOG("%s: %lu remaps in %.1f s, %.0f remaps/s", ivhost_dev_path(),
	       t->remaps, secs, secs > 0 ? t->remaps / secs : 0.0);
	TH_LOG("remaps under posted buffers: %lu (TX %lu of %lu, RX %lu of %lu)",
	       busy, t->remaps_busy[VMM_TX], t->remaps_tried[VMM_TX],
	       t->remaps_busy[VMM_RX], t->remaps_tried[VMM_RX]);
	TH_LOG("remaps of the next buffers the device takes: %lu",
	       t->remaps_next);
	TH_LOG("remaps of buffers the device had just used: %lu",
	       t->remaps_done);
	TH_LOG("remaps leaving the UPDATE to the miss server: %lu",
	       t->remaps_lazy);
	TH_LOG("INVALIDATE write(): %.0f us on average, %llu us at most",
	       t->remaps ? (double)t->inval_us / t->remaps : 0.0,
	       t->inval_max_us);
	TH_LOG("remapper waited %.1f s for traffic to catch up",
	       t->paced_us / 1e6);
	TH_LOG("TX: %lu frames, %llu bytes checked, %lu kicks", t->tx_frames,
	       t->tx_bytes, t->tx_kicks);
	TH_LOG("RX: %lu frames in %lu buffers, %llu bytes checked, %lu kicks",
	       t->rx_frames, t->rx_bufs, t->rx_bytes, t->rx_kicks);
	TH_LOG("canaries: %lu checks, %llu bytes; miss server: %lu misses",
	       t->checks, t->canary_bytes, t->vi.misses);
	if (!viommu_get_stats(&t->vi, &s)) {
		TH_LOG("device: hits %llu misses %llu miss_msgs %llu updates %llu",
		       s.hits, s.misses, s.miss_msgs, s.updates);
		TH_LOG("device: invalidations %llu evictions %llu entries %llu",
		       s.invalidations, s.evictions, s.entries);
	}
	for (i = 0; i < t->nreports; i++)
		TH_LOG("%s", t->reports[i]);
	if (t->nviol + t->nerr > t->nreports)
		TH_LOG("... and %u more", t->nviol + t->nerr - t->nreports);

	ASSERT_EQ(0U, t->nviol);
	ASSERT_EQ(0U, t->nerr);
	ASSERT_EQ(t->target, t->remaps);
	ASSERT_LT(0UL, t->tx_frames);
	ASSERT_LT(0UL, t->rx_frames);
	/* The remaps met buffers the device had been given, both ways. */
	ASSERT_LT(0UL, t->remaps_busy[VMM_TX]);
	ASSERT_LT(0UL, t->remaps_busy[VMM_RX]);
	ASSERT_EQ(0UL, t->vi.access_fails);
}

TEST_HARNESS_MAIN
