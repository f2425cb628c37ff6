// SPDX-License-Identifier: GPL-2.0
/*
 * ivhost-bench - packets per second through a vhost-net compatible device
 * (the kernel's /dev/vhost-net or /dev/ivhost-net), one workload at a time,
 * for the side-by-side figures of tools/testing/bench/run-bench.
 *
 * The program is the VMM and the guest driver at once (tools/testing/vmm):
 * it posts buffers on one queue, kicks as a virtio driver with EVENT_IDX
 * does, reaps used entries, and counts.  Workloads:
 *
 *   w1   no IOMMU: descriptors carry guest-physical addresses;
 *   w2   VIRTIO_F_ACCESS_PLATFORM, guest memory mapped once in 2 MiB
 *        pages (every page UPDATEd before the queue starts), as DPDK in
 *        a guest;
 *   w3   4 KiB pages; the rings are mapped once, and each buffer is
 *        mapped with an UPDATE just before it is posted and INVALIDATEd
 *        just after its used entry is reaped;
 *   w3m  as w3, but the buffer is only entered in the vIOMMU's page table:
 *        the device learns it by a MISS, which a thread answers at once
 *        (what QEMU's intel-iommu does for a strict-mode Linux guest).
 *
 * The guest-side work per packet is the same for every workload: the
 * buffers are written once, and each post fills one descriptor with an
 * address taken from a table (guest-physical or IOVA).
 *
 * TX: frames of --size bytes go out through the device to a tap.  RX:
 * frames of --size bytes are sent into the tap from an AF_PACKET socket,
 * at most --window ahead of the guest, and land in posted buffers.
 *
 * A vhost-user backend (--dev vhost-user:SOCKET, e.g. ivhost-user or
 * DPDK's testpmd) owns its tap, named by --tap: TX frames are counted on
 * it, RX frames are sent into it from the same AF_PACKET socket, and the
 * daemon reads them from its tap fd as the kernel device would.  Such a
 * backend may drop frames (DPDK drops a frame for the guest whose buffer
 * missed in the IOTLB): RX then treats frames that did not come within
 * LOST_MS as lost, goes on sending, and at the end reports the frames
 * sent that never arrived (drops); TX reports those the tap did not see.
 *
 * Time is CLOCK_MONOTONIC; under QEMU -icount that is instructions, so
 * the figures repeat.  With --trace, kprobe events time how long the
 * device waits on misses: from the device queueing a MISS to its queue
 * handler running again (the worker resuming).  With --rtt (workload 4)
 * one buffer is in flight at a time, so each wait is one MISS round trip
 * with the VMM answering at once.
 *
 * Output: lines "BENCH <workload>/<dev>/<dir>/<size>/<metric> <value>".
 */
#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/virtio_config.h>
#include <linux/virtio_net.h>
#include <linux/virtio_ring.h>

#include "../vmm/vmm.h"
#include "../vmm/viommu.h"
#include "trace.h"

#define F(bit)		(1ULL << (bit))
#define HDR_LEN		12		/* virtio_net_hdr_mrg_rxbuf */
#define RX_BUF_LEN	(HDR_LEN + 1514)
#define IDLE_MS		10000
#define LOST_MS		20	/* --tap: RX frames outstanding this long are lost */

enum workload { W1, W2, W3, W3M };
static const char *const wl_name[] = { "w1", "w2", "w3", "w3m" };

struct opts {
	const char *dev;
	const char *name;	/* short device name in the keys */
	const char *tap;	/* a vhost-user backend's own tap, or NULL */
	enum workload wl;
	int rx;
	unsigned int size;
	unsigned int count;
	unsigned int warmup;
	unsigned int ring;
	unsigned int window;
	unsigned int inflight;
	int trace;		/* 1: wait_pct, 2: round trips (w4) */
	int packed;		/* packed virtqueues (VIRTIO_F_RING_PACKED) */
	uint64_t seed;
};

struct bench {
	struct opts o;
	struct vmm v;
	struct viommu vi;
	struct vmm_tap t;
	struct vmm_vq *q;
	int iommu;
	int inj_fd;
	size_t buf_len;		/* bytes each descriptor covers */
	uint64_t *addr;		/* per head: descriptor address */
	uint8_t *frame;		/* RX: the frame injected */
	unsigned int done;	/* packets completed */
	unsigned int sent;	/* RX: frames sent into the tap */
	int lost;		/* RX: frames given up on (flow control) */
	long long drops;	/* --tap: frames sent and never seen */
	unsigned int kicks, waits;
	unsigned long misses0;
	double t0, t1;
	long long tap0;
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int fail(const char *what, int err)
{
	fprintf(stderr, "ivhost-bench: %s: %s\n", what, strerror(-err));
	return 1;
}

/* ---- address space ---- */

/* UPDATE (w2: everything; w3, w3m: the rings) before the queue starts. */
static int premap(struct bench *b)
{
	struct viommu *vi = &b->vi;
	size_t pg;
	int r;

	for (pg = 0; pg < vi->npages; pg++) {
		if (vi->slot_of[pg] < 0)
			continue;
		if (b->o.wl != W2 && !vi->pinned[pg])
			continue;
		r = viommu_update_iova(vi, vi->iova_base +
				       ((uint64_t)vi->slot_of[pg] << vi->shift));
		if (r)
			return r;
	}
	return 0;
}

/* UPDATE or INVALIDATE every page of head's buffer. */
static int map_buf(struct bench *b, uint16_t head, int map)
{
	uint64_t a = b->addr[head] & ~(uint64_t)(b->vi.ps - 1);
	uint64_t last = b->addr[head] + b->buf_len - 1;
	int r = 0;

	for (; !r && a <= last; a += b->vi.ps)
		r = map ? viommu_update_iova(&b->vi, a) :
			  viommu_invalidate_iova(&b->vi, a);
	return r;
}

static int setup_bufs(struct bench *b)
{
	struct vmm_vq *q = b->q;
	unsigned int h;

	b->addr = calloc(q->num, sizeof(*b->addr));
	if (!b->addr)
		return -ENOMEM;
	for (h = 0; h < q->num; h++) {
		uint8_t *p = q->slab + (size_t)h * VMM_SLOT_SIZE;

		b->addr[h] = b->iommu ? viommu_slot_iova(&b->vi, q, h) :
					vmm_gpa(&b->v, p);
		if (b->iommu && viommu_ptr(&b->vi, b->addr[h]) != p)
			return -EFAULT;
		memset(p, 0, HDR_LEN);
		if (!b->o.rx)
			vmm_gen_frame(h, p + HDR_LEN, b->o.size);
	}
	return 0;
}

static int bringup(struct bench *b)
{
	uint64_t want = F(VIRTIO_F_VERSION_1) | F(VIRTIO_RING_F_EVENT_IDX) |
			F(VIRTIO_NET_F_MRG_RXBUF);
	unsigned int qi = b->o.rx ? VMM_RX : VMM_TX;
	int r;

	b->iommu = b->o.wl != W1;
	vmm_ring_use(b->o.packed);
	vmm_tap_use(b->o.tap);
	if (b->iommu) {
		r = viommu_bringup(&b->vi, &b->v, b->o.dev,
				   want | F(VIRTIO_F_ACCESS_PLATFORM),
				   b->o.ring, b->o.wl == W2 ? VIOMMU_2M_SHIFT :
				   VIOMMU_4K_SHIFT, 0, b->o.seed, 0);
		if (!r && !(b->v.features & F(VIRTIO_F_ACCESS_PLATFORM)))
			r = -EOPNOTSUPP;
		if (!r)
			r = viommu_start(&b->vi);
		if (!r)
			r = premap(b);
	} else {
		r = vmm_bringup(&b->v, b->o.dev, want, b->o.ring, 0);
	}
	if (r)
		return fail("bring-up", r);
	b->q = &b->v.vq[qi];
	b->buf_len = b->o.rx ? RX_BUF_LEN : HDR_LEN + b->o.size;
	r = setup_bufs(b);
	if (r)
		return fail("buffers", r);
	r = vmm_tap_open(&b->t, HDR_LEN);
	if (r)
		return fail("tap", r);
	/* Nobody reads the tap's capture socket: close it. */
	close(b->t.pkt_fd);
	b->t.pkt_fd = -1;
	if (b->o.rx) {
		b->inj_fd = vmm_inject_open(b->t.ifindex, 0);
		if (b->inj_fd < 0)
			return fail("AF_PACKET", b->inj_fd);
		b->frame = malloc(b->o.size);
		if (!b->frame)
			return fail("frame", -ENOMEM);
		vmm_gen_frame(1, b->frame, b->o.size);
	}
	r = vmm_set_backend(&b->v, qi, b->t.fd);
	if (r)
		return fail("VHOST_NET_SET_BACKEND", r);
	b->tap0 = vmm_if_stat(b->t.name, "rx_packets");
	return 0;
}

/* ---- the guest driver ---- */

static int post(struct bench *b)
{
	struct vmm_vq *q = b->q;
	int head = vmm_desc_alloc(q, 1);
	uint16_t idx;
	int r;

	if (head < 0)
		return head;
	if (b->o.wl == W3) {
		r = map_buf(b, head, 1);
		if (r)
			return r;
	}
	/* one descriptor, in either ring layout */
	idx = vmm_post_start(q, head);
	vmm_post_seg(q, NULL, VMM_DIRECT, &idx, 0, 1, b->addr[head],
		     b->buf_len, b->o.rx ? VRING_DESC_F_WRITE : 0);
	vmm_post_finish(q, head, VMM_DIRECT, 1, 0);
	return 0;
}

/* Kick unless the device asked not to be (EVENT_IDX avail_event, or
 * the packed ring's device area for what was posted since the last
 * check). */
static void kick(struct bench *b, uint16_t old)
{
	struct vmm_vq *q = b->q;
	uint16_t ev;

	if (q->packed) {
		if (vmm_kick_needed(q)) {
			vmm_kick(q);
			b->kicks++;
		}
		q->kick_pos = q->avail_pos;
		q->kick_wrap = q->avail_wrap;
		return;
	}
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	ev = __atomic_load_n(vmm_avail_event(q), __ATOMIC_ACQUIRE);
	if ((uint16_t)(q->avail_idx - ev - 1) < (uint16_t)(q->avail_idx - old)) {
		vmm_kick(q);
		b->kicks++;
	}
}

static void mark(struct bench *b, unsigned int total)
{
	if (b->done == b->o.warmup) {
		b->t0 = now_s();
		b->misses0 = b->vi.misses;
	}
	if (b->done == total)
		b->t1 = now_s();
}

/* Reap what is used; returns entries reaped or -errno. */
static int reap(struct bench *b, unsigned int total)
{
	struct vmm_vq *q = b->q;
	uint32_t id, len;
	int n = 0, r;

	while ((r = vmm_reap(q, &id, &len)) == 1) {
		if (b->o.rx && len != HDR_LEN + b->o.size)
			return -EBADMSG;
		if (b->o.wl >= W3) {
			r = map_buf(b, id, 0);
			if (r)
				return r;
		}
		b->done++;
		n++;
		mark(b, total);
	}
	return r < 0 ? r : n;
}

/* Nothing moved: ask for a call and wait for it (at most @wait_ms). */
static int idle(struct bench *b, double *since, int wait_ms)
{
	struct vmm_vq *q = b->q;

	if (now_s() - *since > IDLE_MS / 1000.0)
		return -ETIMEDOUT;
	vmm_event_arm(q, !!(b->v.features & F(VIRTIO_RING_F_EVENT_IDX)));
	if (vmm_used_idx(q) != q->used_idx)
		return 0;
	b->waits++;
	vmm_wait_fd(q->call_fd, wait_ms);
	return 0;
}

static int run_tx(struct bench *b)
{
	unsigned int total = b->o.warmup + b->o.count, posted = 0;
	struct vmm_vq *q = b->q;
	double since = now_s();
	int r, n;

	mark(b, total);
	while (b->done < total) {
		uint16_t old = q->avail_idx;

		while (posted < total && q->num_free &&
		       vmm_inflight(q) < b->o.inflight) {
			r = post(b);
			if (r)
				return r;
			posted++;
		}
		if (q->avail_idx != old)
			kick(b, old);
		n = reap(b, total);
		if (n < 0)
			return n;
		if (n) {
			since = now_s();
			continue;
		}
		r = idle(b, &since, 100);
		if (r)
			return r;
	}
	return 0;
}

/* RX frames sent, neither received nor given up on (may be < 0: frames
 * given up on came after all)
 */
static int rx_outstanding(struct bench *b)
{
	return (int)(b->sent - b->done) - b->lost;
}

/* RX: whether one more frame may go into the tap. */
static int rx_may_send(struct bench *b, unsigned int total)
{
	int out = rx_outstanding(b);

	if ((int)b->sent - b->lost >= (int)total)
		return 0;
	return out < 0 || ((unsigned int)out < b->o.window &&
			   (unsigned int)out < b->o.inflight);
}

/*
 * --tap, RX, nothing moved: the frames outstanding for LOST_MS are given
 * up on (1), so that sending goes on; they count as drops unless they
 * come after all.
 */
static int rx_give_up(struct bench *b, double *since)
{
	if (!b->o.tap || rx_outstanding(b) <= 0 ||
	    now_s() - *since < LOST_MS / 1000.0)
		return 0;
	b->lost += rx_outstanding(b);
	*since = now_s();
	return 1;
}

/* RX, after the last figure: the frames still on their way, for at most
 * LOST_MS; those that never came are drops
 */
static int rx_drain(struct bench *b, unsigned int total)
{
	double since = now_s();
	int n;

	while (b->done < b->sent && now_s() - since < LOST_MS / 1000.0) {
		n = reap(b, total);
		if (n < 0)
			return n;
		if (n) {
			since = now_s();
			continue;
		}
		vmm_event_arm(b->q, !!(b->v.features &
				       F(VIRTIO_RING_F_EVENT_IDX)));
		if (vmm_used_idx(b->q) == b->q->used_idx)
			vmm_wait_fd(b->q->call_fd, 1);
	}
	b->drops = b->sent - b->done;
	return 0;
}

static int run_rx(struct bench *b)
{
	unsigned int total = b->o.warmup + b->o.count;
	struct vmm_vq *q = b->q;
	double since = now_s();
	int r, n;

	while (q->num_free && vmm_inflight(q) < b->o.inflight) {
		r = post(b);
		if (r)
			return r;
	}
	kick(b, 0);
	mark(b, total);
	while (b->done < total) {
		uint16_t old;
		int moved = 0;

		while (rx_may_send(b, total)) {
			r = vmm_inject(b->inj_fd, b->frame, b->o.size);
			if (r)
				return r;
			b->sent++;
			moved = 1;
		}
		n = reap(b, total);
		if (n < 0)
			return n;
		old = q->avail_idx;
		while (q->num_free && vmm_inflight(q) < b->o.inflight) {
			r = post(b);
			if (r)
				return r;
		}
		if (q->avail_idx != old)
			kick(b, old);
		if (n || moved) {
			since = now_s();
			continue;
		}
		if (rx_give_up(b, &since))
			continue;
		r = idle(b, &since, b->o.tap ? LOST_MS / 2 : 100);
		if (r)
			return r;
	}
	return b->o.tap ? rx_drain(b, total) : 0;
}

/* ---- report ---- */

static void emit(struct bench *b, const char *metric, double val)
{
	printf("BENCH %s/%s/%s/%u/%s %.3f\n",
	       b->o.trace == 2 ? "w4" : wl_name[b->o.wl], b->o.name,
	       b->o.rx ? "rx" : "tx", b->o.size, metric, val);
}

static void report(struct bench *b, const struct bench_trace_result *tr)
{
	double secs = b->t1 - b->t0;

	if (!b->o.trace) {
		emit(b, "pps", b->o.count / secs);
		if (b->iommu)
			emit(b, "miss_per_1k",
			     (b->vi.misses - b->misses0) * 1000.0 / b->o.count);
		if (b->o.tap)
			emit(b, "drops", b->drops);
	} else if (b->o.trace == 1) {
		emit(b, "wait_pct", 100.0 * tr->wait_s / secs);
	} else {
		emit(b, "rtt_p50_us", tr->p50_us);
		emit(b, "rtt_p99_us", tr->p99_us);
		emit(b, "rtt_n", tr->n);
	}
	fprintf(stderr,
		"ivhost-bench: %s %s %s %u B: %u packets in %.4f s, %u kicks, %u waits, %lu MISS, %lld dropped\n",
		wl_name[b->o.wl], b->o.name, b->o.rx ? "rx" : "tx",
		b->o.size, b->o.count, secs, b->kicks, b->waits,
		b->iommu ? b->vi.misses - b->misses0 : 0, b->drops);
}

/* --tap, TX: the frames the backend has not put on its tap after
 * LOST_MS (it may write the last ones after marking them used)
 */
static void tx_drops(struct bench *b)
{
	unsigned int total = b->o.warmup + b->o.count;
	double since = now_s();
	long long got;

	while ((got = vmm_if_stat(b->t.name, "rx_packets") - b->tap0) < total &&
	       now_s() - since < LOST_MS / 1000.0)
		usleep(1000);
	b->drops = got < total ? total - got : 0;
}

/* TX: every frame the device sent must have reached the tap (a
 * vhost-user backend's drops are reported instead)
 */
static int check_tx(struct bench *b)
{
	long long got = vmm_if_stat(b->t.name, "rx_packets") - b->tap0;
	unsigned int total = b->o.warmup + b->o.count;

	if (b->o.rx || b->o.tap || got >= total)
		return 0;
	fprintf(stderr, "ivhost-bench: the tap saw %lld of %u frames\n",
		got, total);
	return 1;
}

/* ---- main ---- */

static void usage(FILE *f)
{
	fprintf(f,
		"usage: ivhost-bench --dev PATH --name NAME --workload w1|w2|w3|w3m\n"
		"                    --dir tx|rx --size BYTES [--count N] [--warmup N]\n"
		"                    [--ring N] [--window N] [--inflight N] [--seed N]\n"
		"                    [--trace | --rtt] [--packed] [--tap NAME]\n"
		"--packed: packed virtqueues (the ring size need not be a power of 2)\n"
		"--tap NAME: the tap of a vhost-user backend (--dev vhost-user:SOCKET);\n"
		"            frames it drops are reported (drops), not failures\n");
}

static int parse(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{ "dev", required_argument, NULL, 'd' },
		{ "name", required_argument, NULL, 'n' },
		{ "workload", required_argument, NULL, 'w' },
		{ "dir", required_argument, NULL, 'D' },
		{ "size", required_argument, NULL, 's' },
		{ "count", required_argument, NULL, 'c' },
		{ "warmup", required_argument, NULL, 'u' },
		{ "ring", required_argument, NULL, 'r' },
		{ "window", required_argument, NULL, 'W' },
		{ "seed", required_argument, NULL, 'S' },
		{ "inflight", required_argument, NULL, 'i' },
		{ "trace", no_argument, NULL, 't' },
		{ "rtt", no_argument, NULL, 'R' },
		{ "packed", no_argument, NULL, 'P' },
		{ "tap", required_argument, NULL, 'T' },
		{ }
	};
	unsigned int i;
	int c;

	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'd': o->dev = optarg; break;
		case 'n': o->name = optarg; break;
		case 'w':
			for (i = 0; i < 4 && strcmp(optarg, wl_name[i]); i++)
				;
			if (i == 4)
				return -1;
			o->wl = i;
			break;
		case 'D': o->rx = !strcmp(optarg, "rx"); break;
		case 's': o->size = strtoul(optarg, NULL, 0); break;
		case 'c': o->count = strtoul(optarg, NULL, 0); break;
		case 'u': o->warmup = strtoul(optarg, NULL, 0); break;
		case 'r': o->ring = strtoul(optarg, NULL, 0); break;
		case 'W': o->window = strtoul(optarg, NULL, 0); break;
		case 'S': o->seed = strtoull(optarg, NULL, 0); break;
		case 'i': o->inflight = strtoul(optarg, NULL, 0); break;
		case 't': o->trace = 1; break;
		case 'R': o->trace = 2; o->inflight = 1; break;
		case 'P': o->packed = 1; break;
		case 'T':
			o->tap = optarg;
			break;
		default: return -1;
		}
	}
	if (optind != argc || !o->dev || o->size < 60 || o->size > 1514 ||
	    !o->count || !o->ring || (!o->packed && (o->ring & (o->ring - 1))) ||
	    !o->window || !o->inflight || (o->tap && o->trace))
		return -1;
	return 0;
}

int main(int argc, char **argv)
{
	struct bench_trace_result tr = { 0 };
	struct bench b;
	int r, rc = 1;

	memset(&b, 0, sizeof(b));
	vmm_init_closed(&b.v, &b.t);
	b.inj_fd = -1;
	b.o.name = "dev";
	b.o.count = 10000;
	b.o.warmup = 500;
	b.o.ring = 256;
	b.o.window = 64;
	b.o.inflight = ~0U;
	b.o.seed = 1;
	if (parse(argc, argv, &b.o)) {
		usage(stderr);
		return 2;
	}
	if (bringup(&b))
		goto out;
	if (b.o.trace) {
		r = bench_trace_start(b.o.name, b.o.rx);
		if (r) {
			fail("kprobe events", r);
			goto out;
		}
	}
	r = b.o.rx ? run_rx(&b) : run_tx(&b);
	if (b.o.trace && !r)
		r = bench_trace_collect(b.t0, b.t1, &tr);
	if (b.o.trace)
		bench_trace_stop();
	if (r) {
		fprintf(stderr, "ivhost-bench: %u of %u packets, then: %s\n",
			b.done, b.o.warmup + b.o.count, strerror(-r));
		goto out;
	}
	if (b.o.tap && !b.o.rx)
		tx_drops(&b);
	report(&b, &tr);
	rc = check_tx(&b);
out:
	if (b.iommu)
		viommu_close(&b.vi);
	else
		vmm_close(&b.v);
	vmm_tap_close(&b.t);
	if (b.inj_fd >= 0)
		close(b.inj_fd);
	free(b.addr);
	free(b.frame);
	return rc;
}
