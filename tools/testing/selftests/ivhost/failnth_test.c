// SPDX-License-Identifier: GPL-2.0
/*
 * Fault injection: every allocation (and every user copy) in ivhost's
 * setup, IOTLB update and miss paths is failed in turn, one per run.
 *
 * For each step of a device's life, a run brings a fresh device up to
 * that step, arms /proc/self/task/<tid>/fail-nth with N, makes the one
 * call, and reads fail-nth back: 0 means the Nth fault point of the call
 * was hit and failed.  The call must then give a clean errno (ENOMEM or
 * EFAULT) or succeed; the same call without injection must succeed next,
 * and the device must then work end to end.  N counts up until a call
 * runs through without reaching the Nth fault point.
 *
 * The miss path runs in the device's worker thread, which fail-nth cannot
 * reach: there failslab's task filter is aimed at the worker instead.
 *
 * Needs a kernel with CONFIG_FAULT_INJECTION, CONFIG_FAILSLAB,
 * CONFIG_FAIL_PAGE_ALLOC and CONFIG_FAULT_INJECTION_USERCOPY (the debug
 * kernel of tools/testing/vm/debug.config); skips elsewhere.  Leaks are
 * found by the kmemleak scan the VM runner makes afterwards.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <linux/ivhost.h>

#include "kselftest_harness.h"
#include "harness_filter.h"
#include "common.h"
#include "vmm.h"
#include "viommu.h"

#define FAULT_DIR	"/sys/kernel/debug"
#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#endif
#define MAX_NTH		2000u
#define FRAME_LEN	200
#define RING		16
/* More than ivhost keeps of removed IOTLB entries (IVHOST_IOTLB_POOL). */
#define POOL_DRAIN	80

/* ---- fail-nth ---- */

static int nth_fd = -1;

static int write_str(const char *path, const char *val)
{
	int fd, r;

	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	r = write(fd, val, strlen(val)) < 0 ? -errno : 0;
	close(fd);
	return r;
}

static int fault_write(const char *attr, const char *val)
{
	char path[128];

	snprintf(path, sizeof(path), FAULT_DIR "/%s", attr);
	return write_str(path, val);
}

/*
 * Quiet fault injection that also fails sleeping allocations (failslab
 * and fail_page_alloc skip those by default), of any order.
 */
static int fault_setup(void)
{
	static const char *const quiet[][2] = {
		{ "failslab/ignore-gfp-wait", "N" },
		{ "failslab/verbose", "0" },
		{ "fail_page_alloc/ignore-gfp-wait", "N" },
		{ "fail_page_alloc/ignore-gfp-highmem", "N" },
		{ "fail_page_alloc/min-order", "0" },
		{ "fail_page_alloc/verbose", "0" },
		{ "fail_usercopy/verbose", "0" },
	};
	char path[64];
	unsigned int i;
	int r;

	snprintf(path, sizeof(path), "/proc/self/task/%ld/fail-nth",
		 (long)syscall(SYS_gettid));
	nth_fd = open(path, O_RDWR | O_CLOEXEC);
	if (nth_fd < 0)
		return -errno;
	for (i = 0; i < ARRAY_SIZE(quiet); i++) {
		r = fault_write(quiet[i][0], quiet[i][1]);
		if (r)
			return r;
	}
	return 0;
}

static void nth_arm(unsigned int n)
{
	char b[16];
	int l = snprintf(b, sizeof(b), "%u", n);

	/*
	 * Reading the value from user memory is itself a fault point: a
	 * fault left armed may fail this write.  It is spent then, and the
	 * next attempt goes through.
	 */
	while (pwrite(nth_fd, b, l, 0) != l)
		if (errno != EFAULT)
			abort();
}

/*
 * Disarm; true if the armed fault was injected.  If the call did not use
 * it, this read may (its own copy to user is a fault point): then it
 * fails, which also means the call did not.
 */
static int nth_fired(void)
{
	char b[16] = "";
	ssize_t l = pread(nth_fd, b, sizeof(b) - 1, 0);

	nth_arm(0);
	return l > 0 && atoi(b) == 0;
}

static int clean_errno(int e)
{
	return e == ENOMEM || e == EFAULT;
}

/* ---- a device, brought up step by step ---- */

struct dev {
	struct vmm v;
	struct vmm_tap t;
	struct viommu vi;
	int iommu;
};

enum iotlb_step {
	STEP_UPDATE,		/* UPDATE of a new range */
	STEP_SPLIT,		/* INVALIDATE that splits an entry in three */
	STEP_BATCH,		/* UPDATE inside BATCH_BEGIN/END */
	STEP_BATCH_END,		/* BATCH_END applying the batch */
	STEP_READ,		/* read() of a queued MISS */
	NR_IOTLB_STEPS,
};

static const char *const iotlb_step_name[] = {
	"update", "split", "batch-update", "batch-end", "read-miss",
};

/* Plain bring-up, one kernel call per step; -errno of the failing call. */
static int setup_step(struct dev *d, unsigned int s)
{
	uint64_t f;

	switch (s) {
	case 0:
		/* Not vmm_open(): that would forget the guest memory. */
		d->v.fd = open(ivhost_dev_path(), O_RDWR | O_CLOEXEC);
		return d->v.fd < 0 ? -errno : 0;
	case 1:
		return vmm_set_owner(&d->v);
	case 2:
		return vmm_get_features(&d->v, &f);
	case 3:
		return vmm_set_features(&d->v, (1ULL << VIRTIO_F_VERSION_1) |
					(1ULL << VHOST_NET_F_VIRTIO_NET_HDR) |
					(1ULL << VIRTIO_RING_F_EVENT_IDX));
	case 4:
		return vmm_set_mem_table(&d->v);
	}
	s -= 5;
	if (s < 6 * VMM_NVQS) {
		unsigned int i = s / 6;
		struct vmm_vq *q = &d->v.vq[i];

		switch (s % 6) {
		case 0:
			return vmm_vq_set_num(&d->v, i, q->num);
		case 1:
			return vmm_vq_set_base(&d->v, i, 0);
		case 2:
			return vmm_vq_set_addr(&d->v, i);
		case 3:
			return vmm_vq_set_file(&d->v, VHOST_SET_VRING_KICK, i,
					       q->kick_fd);
		case 4:
			return vmm_vq_set_file(&d->v, VHOST_SET_VRING_CALL, i,
					       q->call_fd);
		case 5:
			return vmm_vq_set_file(&d->v, VHOST_SET_VRING_ERR, i,
					       q->err_fd);
		}
	}
	s -= 6 * VMM_NVQS;
	if (s < VMM_NVQS)
		return vmm_set_backend(&d->v, s, d->t.fd);
	return 1;	/* past the last step */
}

#define NR_SETUP_STEPS	(5 + 7 * VMM_NVQS)

/* The guest memory, rings and tap a plain bring-up needs (no kernel). */
static int setup_prepare(struct dev *d)
{
	int r, i;

	vmm_init_closed(&d->v, &d->t);
	for (i = 0; i < VMM_NVQS; i++) {
		d->v.vq[i].v = &d->v;
		d->v.vq[i].index = i;
	}
	r = vmm_tap_open(&d->t, 0);
	if (r)
		return r;
	r = vmm_mem_init(&d->v, VMM_NVQS * RING * (VMM_SLOT_SIZE + 4096) +
			 (1 << 20), VMM_GPA_BASE);
	for (i = 0; !r && i < VMM_NVQS; i++)
		r = vmm_vq_init(&d->v, i, RING);
	return r;
}

static void dev_close(struct dev *d)
{
	if (d->iommu)
		viommu_close(&d->vi);
	else
		vmm_close(&d->v);
	vmm_tap_close(&d->t);
	d->iommu = 0;
}

/* Post frame @seq on TX (not kicked): the head, or -errno. */
static int post_frame(struct dev *d, uint32_t seq)
{
	struct vmm_vq *q = &d->v.vq[VMM_TX];
	size_t hl = vmm_net_hdr_len(d->v.features);
	char hdr[12] = { 0 }, frame[FRAME_LEN];

	vmm_gen_frame(seq, frame, sizeof(frame));
	if (d->iommu)
		return viommu_post_tx(&d->vi, q, hdr, hl, frame, sizeof(frame),
				      VMM_DIRECT, 1);
	return vmm_post_tx(q, hdr, hl, frame, sizeof(frame), VMM_DIRECT, 1);
}

/* Frame @seq, byte-exact, on the tap within @ms: 0 or -errno. */
static int frame_seen(struct dev *d, uint32_t seq, int ms)
{
	char frame[FRAME_LEN], got[2048];
	ssize_t n;

	vmm_gen_frame(seq, frame, sizeof(frame));
	n = vmm_tap_recv(&d->t, got, sizeof(got), ms);
	if (n < 0)
		return n;
	return n == (ssize_t)sizeof(frame) && !memcmp(got, frame, n) ?
	       0 : -EIO;
}

/* One frame out through TX, byte-exact on the tap: the device works. */
static int dev_works(struct dev *d)
{
	struct vmm_vq *q = &d->v.vq[VMM_TX];
	uint32_t id, len;
	int r, i;

	r = post_frame(d, 7);
	if (r < 0)
		return r;
	r = vmm_kick(q);
	if (!r)
		r = frame_seen(d, 7, 5000);
	if (r)
		return r;
	for (i = 0; i < 500; i++) {
		if (vmm_reap(q, &id, &len) == 1)
			return 0;
		usleep(1000);
	}
	return -ETIMEDOUT;
}

FIXTURE(failnth) {
	struct dev d;
	unsigned int runs, injected, tolerated;
};

FIXTURE_SETUP(failnth)
{
	int r;

	memset(&self->d, 0, sizeof(self->d));
	vmm_init_closed(&self->d.v, &self->d.t);
	if (access("/proc/self/fail-nth", F_OK))
		SKIP(return, "no fault injection in this kernel (fail-nth)");
	r = fault_setup();
	if (r == -ENOENT && nth_fd >= 0) {
		close(nth_fd);
		nth_fd = -1;
	}
	if (r == -ENOENT)
		SKIP(return, "no failslab/fail_page_alloc/fail_usercopy in debugfs");
	ASSERT_EQ(0, r);
}

FIXTURE_TEARDOWN(failnth)
{
	if (nth_fd >= 0) {
		nth_arm(0);
		close(nth_fd);
		nth_fd = -1;
	}
	dev_close(&self->d);
	TH_LOG("%u runs, %u faults injected, %u tolerated without an error",
	       self->runs, self->injected, self->tolerated);
}

/*
 * The 6.1 harness runs a test even when its fixture setup skipped it:
 * each test checks again.
 */
#define NEED_FAULT_INJECTION() do {					\
	if (nth_fd < 0)							\
		SKIP(return, "no fault injection in this kernel");	\
} while (0)

/*
 * Inject into bring-up step @s at fault point @n.  1: the fault was hit
 * and handled, 0: the step never reached fault point @n, -1: failure.
 */
static int inject_setup(struct __test_metadata *_metadata,
			FIXTURE_DATA(failnth) *self, unsigned int s,
			unsigned int n)
{
	struct dev *d = &self->d;
	unsigned int i;
	int r, fired;

	r = setup_prepare(d);
	if (r) {
		TH_LOG("guest memory, rings or tap: %d", r);
		return -1;
	}
	for (i = 0; i < s; i++) {
		r = setup_step(d, i);
		if (r) {
			TH_LOG("step %u failed without injection: %d", i, r);
			return -1;
		}
	}
	nth_arm(n);
	r = setup_step(d, s);
	fired = nth_fired();
	self->runs++;
	if (!fired) {
		if (r) {
			TH_LOG("step %u failed (%d) with no fault injected", s, r);
			return -1;
		}
		dev_close(d);
		return 0;
	}
	self->injected++;
	if (r && !clean_errno(-r)) {
		TH_LOG("step %u, fault %u: errno %d is not ENOMEM/EFAULT", s, n, -r);
		return -1;
	}
	self->tolerated += !r;
	/* The same call again, now without a fault, must work. */
	if (r)
		r = setup_step(d, s);
	if (r) {
		TH_LOG("step %u, fault %u: retry gave %d", s, n, r);
		return -1;
	}
	for (i = s + 1; i < NR_SETUP_STEPS; i++) {
		r = setup_step(d, i);
		if (r) {
			TH_LOG("step %u after fault %u in step %u: %d", i, n, s, r);
			return -1;
		}
	}
	r = dev_works(d);
	if (r) {
		TH_LOG("fault %u in step %u: the device then fails: %d", n, s, r);
		return -1;
	}
	dev_close(d);
	return 1;
}

TEST_F_TIMEOUT(failnth, setup_path, 1800)
{
	unsigned int s, n;
	int r;

	NEED_FAULT_INJECTION();
	for (s = 0; s < NR_SETUP_STEPS; s++) {
		for (n = 1; n < MAX_NTH; n++) {
			r = inject_setup(_metadata, self, s, n);
			ASSERT_LE(0, r);
			if (!r)
				break;
		}
		ASSERT_LT(n, MAX_NTH);
		TH_LOG("setup step %u: %u fault points", s, n - 1);
	}
}

/* ---- the IOTLB: UPDATE, INVALIDATE, batches, read() ---- */

static int iotlb_stats(struct dev *d, struct ivhost_iotlb_stats *st)
{
	return viommu_read_stats(&d->v, st);
}

/*
 * A device with the IOTLB on, a tap on both queues and the miss server
 * running; the test then owns a free IOVA window at @base.
 */
static int iotlb_bringup(struct dev *d, uint64_t *base)
{
	uint64_t want = (1ULL << VIRTIO_F_VERSION_1) |
			(1ULL << VHOST_NET_F_VIRTIO_NET_HDR) |
			(1ULL << VIRTIO_F_ACCESS_PLATFORM);
	int r;

	vmm_init_closed(&d->v, &d->t);
	r = viommu_bringup(&d->vi, &d->v, ivhost_dev_path(), want, RING,
			   VIOMMU_4K_SHIFT, 16, 1, VIOMMU_BATCH);
	d->iommu = 1;
	if (!r)
		r = vmm_tap_open(&d->t, 0);
	if (!r)
		r = vmm_set_backend(&d->v, VMM_RX, d->t.fd);
	if (!r)
		r = vmm_set_backend(&d->v, VMM_TX, d->t.fd);
	/* Far above the viommu's window: nothing else maps there. */
	*base = d->vi.iova_base + ((uint64_t)d->vi.nslots << 12) +
		(1ULL << 30);
	return r;
}

static int iotlb_send(struct dev *d, uint8_t type, uint64_t iova,
		      uint64_t size, uint64_t uaddr)
{
	return viommu_send(&d->vi, type, iova, size, uaddr, VHOST_ACCESS_RW);
}

/*
 * With the miss server stopped: post frame 9, whose buffer's page is then
 * invalidated, and kick; wait for the worker to queue its MISS.
 */
static int stall_tx(struct dev *d)
{
	struct ivhost_iotlb_stats a, b;
	int head, i;

	head = post_frame(d, 9);
	if (head < 0)
		return head;
	if (iotlb_stats(d, &a) ||
	    viommu_invalidate_iova(&d->vi, d->vi.slot_iova[VMM_TX][head]) ||
	    vmm_kick(&d->v.vq[VMM_TX]))
		return -EIO;
	for (i = 0; i < 5000; i++) {
		if (iotlb_stats(d, &b))
			return -EIO;
		if (b.miss_msgs > a.miss_msgs)
			return 0;
		usleep(1000);
	}
	return -ETIMEDOUT;
}

/*
 * What a step does before the call that is injected.  @odd: one more
 * entry taken from the pool, see below.
 */
static int iotlb_before(struct dev *d, unsigned int s, int odd,
			uint64_t base, uint64_t ua)
{
	int r;

	/*
	 * Entries removed earlier wait in a pool for reuse: use them all up,
	 * so that the change injected into has to allocate.  A change that
	 * allocates gets two and returns what it does not use, so the pool
	 * then alternates between one entry and none: the step runs both
	 * ways (@odd).
	 */
	for (r = 0; s != STEP_READ && r < POOL_DRAIN + odd; r++) {
		if (iotlb_send(d, VHOST_IOTLB_UPDATE,
			       base + ((uint64_t)(r + 16) << 12), 4096, ua))
			return -EIO;
	}
	switch (s) {
	case STEP_SPLIT:
		return iotlb_send(d, VHOST_IOTLB_UPDATE, base, 3 << 12, ua);
	case STEP_BATCH:
		return iotlb_send(d, VHOST_IOTLB_BATCH_BEGIN, 0, 0, 0);
	case STEP_BATCH_END:
		r = iotlb_send(d, VHOST_IOTLB_BATCH_BEGIN, 0, 0, 0);
		return r ? r : iotlb_send(d, VHOST_IOTLB_UPDATE, base, 4096, ua);
	case STEP_READ:
		/* A MISS queued by the worker, not yet read. */
		viommu_stop(&d->vi);
		return stall_tx(d);
	}
	return 0;
}

/* The call that is injected. */
static int iotlb_call(struct dev *d, unsigned int s, uint64_t base,
		      uint64_t ua, struct vhost_iotlb_msg *got)
{
	switch (s) {
	case STEP_UPDATE:
	case STEP_BATCH:
		return iotlb_send(d, VHOST_IOTLB_UPDATE, base, 4096, ua);
	case STEP_SPLIT:
		return iotlb_send(d, VHOST_IOTLB_INVALIDATE, base + 4096, 4096, 0);
	case STEP_BATCH_END:
		return iotlb_send(d, VHOST_IOTLB_BATCH_END, 0, 0, 0);
	case STEP_READ:
		return viommu_recv(&d->vi, got, 5000) == 1 ? 0 : -errno;
	}
	return -EINVAL;
}

/* After the call: the table holds what it must. */
static int iotlb_check(struct __test_metadata *_metadata, struct dev *d,
		       unsigned int s, const struct ivhost_iotlb_stats *a,
		       const struct ivhost_iotlb_stats *b,
		       const struct vhost_iotlb_msg *got)
{
	switch (s) {
	case STEP_UPDATE:
	case STEP_BATCH_END:
		if (b->entries != a->entries + 1) {
			TH_LOG("%s: %llu entries, want %llu",
			       iotlb_step_name[s],
			       (unsigned long long)b->entries,
			       (unsigned long long)a->entries + 1);
			return -1;
		}
		return 0;
	case STEP_SPLIT:
		if (b->entries != a->entries + 1) {
			TH_LOG("split: %llu entries, want %llu",
			       (unsigned long long)b->entries,
			       (unsigned long long)a->entries + 1);
			return -1;
		}
		return 0;
	case STEP_BATCH:
		/* Held back until BATCH_END. */
		return b->entries == a->entries ? 0 : -1;
	case STEP_READ:
		if (got->type != VHOST_IOTLB_MISS) {
			TH_LOG("read: message type %u, want a MISS", got->type);
			return -1;
		}
		if (viommu_answer(&d->vi, got) != 1)
			return -1;
		/* The frame that waited for it leaves first. */
		if (frame_seen(d, 9, 5000)) {
			TH_LOG("read: the frame waiting for the MISS never left");
			return -1;
		}
		return 0;
	}
	return -1;
}

static int inject_iotlb(struct __test_metadata *_metadata,
			FIXTURE_DATA(failnth) *self, unsigned int s, int odd,
			unsigned int n)
{
	struct ivhost_iotlb_stats a, b;
	struct vhost_iotlb_msg got = { 0 };
	struct dev *d = &self->d;
	uint64_t base, ua;
	int r, fired;

	r = iotlb_bringup(d, &base);
	if (!r)
		r = viommu_start(&d->vi);
	if (!r)
		r = dev_works(d);
	if (r) {
		TH_LOG("IOTLB bring-up failed without injection: %d", r);
		return -1;
	}
	ua = (uint64_t)(uintptr_t)vmm_alloc(&d->v, 3 << 12, 4096);
	if (!ua)
		return -1;
	r = iotlb_before(d, s, odd, base, ua);
	if (!r)
		r = iotlb_stats(d, &a);
	if (r) {
		TH_LOG("%s: getting there failed without injection: %d",
		       iotlb_step_name[s], r);
		return -1;
	}
	nth_arm(n);
	r = iotlb_call(d, s, base, ua, &got);
	fired = nth_fired();
	self->runs++;
	self->injected += fired;
	self->tolerated += fired && !r;
	if (fired && r) {
		if (!clean_errno(-r)) {
			TH_LOG("%s, fault %u: errno %d is not ENOMEM/EFAULT",
			       iotlb_step_name[s], n, -r);
			return -1;
		}
		/* Nothing of a failed message may have been applied. */
		if (iotlb_stats(d, &b) || b.entries != a.entries) {
			TH_LOG("%s, fault %u: half applied (%llu -> %llu entries)",
			       iotlb_step_name[s], n,
			       (unsigned long long)a.entries,
			       (unsigned long long)b.entries);
			return -1;
		}
		r = iotlb_call(d, s, base, ua, &got);
	}
	if (r) {
		TH_LOG("%s, fault %u (%s): the call gave %d", iotlb_step_name[s],
		       n, fired ? "injected" : "none", r);
		return -1;
	}
	if (iotlb_stats(d, &b) || iotlb_check(_metadata, d, s, &a, &b, &got))
		return -1;
	if (s == STEP_BATCH &&
	    iotlb_send(d, VHOST_IOTLB_BATCH_END, 0, 0, 0))
		return -1;
	if (s == STEP_READ && viommu_start(&d->vi))
		return -1;
	/* The device still works, with the miss server running. */
	r = dev_works(d);
	if (r) {
		TH_LOG("%s, fault %u: the device then fails: %d",
		       iotlb_step_name[s], n, r);
		return -1;
	}
	dev_close(d);
	return fired;
}

TEST_F_TIMEOUT(failnth, iotlb_path, 1800)
{
	unsigned int s, n;
	int r, odd;

	NEED_FAULT_INJECTION();
	if (!ivhost_dev_is_ivhost())
		SKIP(return, "the table checks read ivhost's counters");
	for (s = 0; s < NR_IOTLB_STEPS; s++) {
		for (odd = 0; odd < 2; odd++) {
			if (odd && s != STEP_UPDATE && s != STEP_SPLIT)
				continue;
			for (n = 1; n < MAX_NTH; n++) {
				r = inject_iotlb(_metadata, self, s, odd, n);
				ASSERT_LE(0, r);
				if (!r)
					break;
			}
			ASSERT_LT(n, MAX_NTH);
			TH_LOG("IOTLB step %s%s: %u fault points",
			       iotlb_step_name[s], odd ? " (pool odd)" : "",
			       n - 1);
		}
	}
}

/* ---- the miss path, in the worker ---- */

/* The worker thread of the device just set up (comm ivhost-<pid>). */
static int worker_pid(void)
{
	char want[32], path[300], comm[32];
	struct dirent *e;
	int found = -1;
	DIR *dir;
	FILE *f;

	snprintf(want, sizeof(want), "ivhost-%d\n", getpid());
	dir = opendir("/proc");
	if (!dir)
		return -1;
	while (found < 0 && (e = readdir(dir))) {
		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/comm", e->d_name);
		f = fopen(path, "re");
		if (!f)
			continue;
		if (fgets(comm, sizeof(comm), f) && !strcmp(comm, want))
			found = atoi(e->d_name);
		fclose(f);
	}
	closedir(dir);
	return found;
}

static int make_it_fail(int pid, int on)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/make-it-fail", pid);
	return write_str(path, on ? "1" : "0");
}

/*
 * Fail the worker's next @times slab allocations (-1: all) while a TX
 * buffer waits for a MISS; the miss must still reach the VMM once
 * allocations work again, and the frame go out.
 */
static int miss_under_failslab(struct __test_metadata *_metadata,
			       struct dev *d, const char *times)
{
	struct ivhost_iotlb_stats a, b;
	uint64_t base;
	int pid, r;

	if (iotlb_bringup(d, &base) || viommu_start(&d->vi) || dev_works(d))
		return -1;
	pid = worker_pid();
	if (pid < 0) {
		TH_LOG("no ivhost-%d worker thread", getpid());
		return -1;
	}
	if (iotlb_stats(d, &a) ||
	    fault_write("failslab/task-filter", "Y") ||
	    fault_write("failslab/interval", "1") ||
	    fault_write("failslab/space", "0") ||
	    fault_write("failslab/times", times) ||
	    fault_write("failslab/probability", "100") ||
	    make_it_fail(pid, 1))
		return -1;
	/* The next frame's buffer is invalidated, so its translation misses. */
	viommu_stop(&d->vi);
	r = post_frame(d, 9);
	if (r < 0 || viommu_invalidate_iova(&d->vi,
					    d->vi.slot_iova[VMM_TX][r]))
		return -1;
	if (vmm_kick(&d->v.vq[VMM_TX]))
		return -1;
	usleep(200 * 1000);
	if (fault_write("failslab/probability", "0") || make_it_fail(pid, 0))
		return -1;
	if (iotlb_stats(d, &b))
		return -1;
	TH_LOG("times=%s: %llu messages dropped", times,
	       (unsigned long long)(b.msgs_dropped - a.msgs_dropped));
	if (viommu_start(&d->vi))
		return -1;
	/* The stalled frame leaves without another kick, then a new one. */
	r = frame_seen(d, 9, 5000);
	if (r) {
		TH_LOG("times=%s: the waiting frame never left (%d)", times, r);
		return -1;
	}
	r = dev_works(d);
	dev_close(d);
	return r ? -1 : 0;
}

TEST_F_TIMEOUT(failnth, miss_path, 300)
{
	NEED_FAULT_INJECTION();
	if (!ivhost_dev_is_ivhost())
		SKIP(return, "the worker is found by ivhost's thread name");
	ASSERT_EQ(0, miss_under_failslab(_metadata, &self->d, "1"));
	ASSERT_EQ(0, miss_under_failslab(_metadata, &self->d, "2"));
	ASSERT_EQ(0, miss_under_failslab(_metadata, &self->d, "-1"));
}

TEST_HARNESS_MAIN
