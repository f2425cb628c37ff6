// SPDX-License-Identifier: GPL-2.0
/*
 * Adversarial review of issue 14's fixes (commits 7b3fc2a..28e8f9e):
 * proofs of concept for promises of the README's "The device IOTLB"
 * section that the change does not keep.  Each test states the promise
 * it checks; a FAIL is the finding.
 *
 *   attack.ivhost_only_failed_read_during_detach_no_stale_miss
 *	"detaching a queue's backend drops the misses it queued ...
 *	nothing stale is replayed later, also when a read() failed to copy
 *	a message out meanwhile".  A read() that dequeued the queue's last
 *	MISS and then faults on the reader's buffer (userfaultfd holds it)
 *	while the backend is detached puts the MISS back: the detach
 *	dropped no queued message, so the generation did not move.
 *
 *   attack.indirect_two_entries_within_budget
 *	"one frame ... may step into at most 1024 IOTLB entries".  A TX
 *	chain whose indirect table (3 pages) and buffers (1 page) use 4
 *	entries, but 600 descriptors, is stopped with -ENOSPC: the budget
 *	counts lookups, and every descriptor costs two (the table read and
 *	the buffer alternate, so the per-vq span never hits).  vhost_net
 *	sends it.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <linux/userfaultfd.h>
#include <linux/vhost.h>

#include "kselftest_harness.h"
#include "harness_filter.h"
#include "iotlb_common.h"
#include <linux/ivhost.h>
#include "viommu.h"

#define RING		64
#define WAIT_MS		10000

FIXTURE(attack) {
	struct it it;
};

FIXTURE_SETUP(attack)
{
	int r;

	rt_init(&self->it.d);
	r = it_up(&self->it, RT_BASE_FEATURES, RING);
	if (rt_missing(r))
		SKIP(return, "%s: %s", ivhost_dev_path(), strerror(-r));
	if (r == -EOPNOTSUPP)
		SKIP(return, "%s does not offer ACCESS_PLATFORM",
		     ivhost_dev_path());
	ASSERT_EQ(0, r) TH_LOG("bring-up: %s", strerror(-r));
}

FIXTURE_TEARDOWN(attack)
{
	it_down(&self->it);
}

static int queued_msgs(struct it *it, uint64_t *n)
{
	struct ivhost_iotlb_stats st;
	int r = viommu_read_stats(&it->d.v, &st);

	if (!r)
		*n = st.msgs_queued;
	return r;
}

struct slow_read {
	int fd;
	void *buf;
	ssize_t ret;
	int err;
};

static void *slow_reader(void *arg)
{
	struct slow_read *sr = arg;

	sr->ret = read(sr->fd, sr->buf, IT_MSG_SIZE);
	sr->err = sr->ret < 0 ? errno : 0;
	return NULL;
}

TEST_F_TIMEOUT(attack, ivhost_only_failed_read_during_detach_no_stale_miss,
	       60)
{
	struct it *it = &self->it;
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register reg = {};
	struct slow_read sr = {};
	uint8_t buf[IT_MSG_SIZE];
	struct vhost_iotlb_msg m;
	struct uffd_msg um;
	struct pollfd p;
	pthread_t th;
	uint64_t n = 0;
	long psz = sysconf(_SC_PAGESIZE);
	void *page;
	int uffd;

	IVHOST_ONLY();
	uffd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (uffd < 0)
		SKIP(return, "userfaultfd: %s", strerror(errno));
	ASSERT_EQ(0, ioctl(uffd, UFFDIO_API, &api));

	/* TX attached with only its used ring mapped: MISSes queue up. */
	ASSERT_EQ(0, it_attach(it, VMM_TX));
	ASSERT_EQ(0, it_post_tx(it, 0));
	ASSERT_TRUE(it_wait_msg(it, WAIT_MS)) TH_LOG("no MISS queued");
	usleep(200 * 1000);

	/* Read (and leave unanswered) all but the last one. */
	ASSERT_EQ(0, queued_msgs(it, &n));
	ASSERT_LE(1ULL, n);
	while (n > 1) {
		ASSERT_EQ(IT_MSG_SIZE, it_read(it, buf, sizeof(buf)));
		ASSERT_EQ(0, queued_msgs(it, &n));
	}

	/* The last one goes to a buffer whose page userfaultfd holds. */
	page = mmap(NULL, psz, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, page);
	reg.range.start = (uintptr_t)page;
	reg.range.len = psz;
	reg.mode = UFFDIO_REGISTER_MODE_MISSING;
	ASSERT_EQ(0, ioctl(uffd, UFFDIO_REGISTER, &reg));
	sr.fd = it->d.v.fd;
	sr.buf = page;
	ASSERT_EQ(0, pthread_create(&th, NULL, slow_reader, &sr));

	/* The reader dequeued the MISS and now waits in copy_to_iter(). */
	p.fd = uffd;
	p.events = POLLIN;
	ASSERT_EQ(1, poll(&p, 1, WAIT_MS)) TH_LOG("reader never faulted");
	ASSERT_EQ((ssize_t)sizeof(um), read(uffd, &um, sizeof(um)));
	ASSERT_EQ(UFFD_EVENT_PAGEFAULT, um.event);
	ASSERT_EQ(0, queued_msgs(it, &n));
	EXPECT_EQ(0ULL, n);

	/* Detach: the queue's misses are stale from now on. */
	ASSERT_EQ(0, vmm_set_backend(&it->d.v, VMM_TX, -1));

	/* Make the copy fail: the page goes away, the fault is retried. */
	ASSERT_EQ(0, munmap(page, psz));
	close(uffd);
	ASSERT_EQ(0, pthread_join(th, NULL));
	EXPECT_EQ(-1, sr.ret);
	EXPECT_EQ(EFAULT, sr.err);

	/* README: nothing stale is replayed. */
	ASSERT_EQ(0, queued_msgs(it, &n));
	EXPECT_EQ(0ULL, n) TH_LOG("%llu message(s) of the detached queue are "
				  "queued again", (unsigned long long)n);
	if (it_read(it, buf, sizeof(buf)) == IT_MSG_SIZE) {
		it_parse(buf, &m);
		TH_LOG("replayed after detach: type %u iova 0x%llx perm %u",
		       m.type, (unsigned long long)m.iova, m.perm);
		EXPECT_TRUE(0) TH_LOG("stale MISS replayed");
	}
}

#define IND_DESCS	600
#define IND_BUF_OFF	(32 * 1024)

TEST_F_TIMEOUT(attack, indirect_two_entries_within_budget, 60)
{
	struct it *it = &self->it;
	struct vmm *v = &it->d.v;
	struct vmm_vq *q = &v->vq[VMM_TX];
	struct vring_desc *tbl;
	uint32_t id, len;
	uint8_t *slot, *data;
	uint64_t dgpa;
	long long end;
	int head, i, used = 0, err = 0;

	/* Every MISS is answered with one 4 KiB page, as QEMU does. */
	ASSERT_EQ(0, it_server_start(it));
	ASSERT_EQ(0, it_attach(it, VMM_TX));

	head = vmm_desc_alloc(q, 1);
	ASSERT_LE(0, head);
	slot = q->slab + (size_t)head * VMM_SLOT_SIZE;
	tbl = (struct vring_desc *)slot;		/* 9600 bytes: 3 pages */
	data = slot + IND_BUF_OFF;			/* 1200 bytes: 1 page */
	ASSERT_EQ(0UL, ((uintptr_t)slot) & 4095);
	memset(data, 0, 2 * IND_DESCS);
	memset(data + it->d.hdr_len, 0xff, 6);		/* broadcast dst */
	dgpa = vmm_gpa(v, data);
	for (i = 0; i < IND_DESCS; i++) {
		tbl[i].addr = dgpa + 2 * i;
		tbl[i].len = 2;
		tbl[i].flags = i + 1 < IND_DESCS ? VRING_DESC_F_NEXT : 0;
		tbl[i].next = i + 1 < IND_DESCS ? i + 1 : 0;
	}
	vmm_post_finish(q, head, VMM_INDIRECT, IND_DESCS, vmm_gpa(v, tbl));
	ASSERT_EQ(0, vmm_kick(q));

	end = vmm_now_ms() + WAIT_MS;
	while (vmm_now_ms() < end && !used) {
		used = vmm_reap(q, &id, &len) == 1;
		if (vmm_poll_fd(q->err_fd)) {
			err = 1;
			break;
		}
		usleep(10 * 1000);
	}
	EXPECT_EQ(0, err) TH_LOG("queue stopped (err eventfd)");
	EXPECT_TRUE(used) TH_LOG("a chain touching 4 IOTLB entries was not "
				 "sent");
	EXPECT_EQ(0UL, it->foreign);
}

/*
 * VHOST_SET_FEATURES with ACCESS_PLATFORM again (QEMU does it with
 * VHOST_F_LOG_ALL at the start and end of a migration, queues running)
 * empties the IOTLB and forgets every outstanding miss, but wakes no
 * queue.  A queue that was waiting for a miss ended its round with
 * notifications disabled: no kick comes, and the UPDATE that answers
 * the miss (read before the ioctl) or maps everything (after it) finds
 * no miss to settle, so nothing wakes it.  README: "a queue waiting on
 * a miss resumes by itself when an UPDATE covers the address ... with
 * no kick".
 */
static void set_features_stall(struct __test_metadata *_metadata,
			       struct it *it, uint64_t extra)
{
	struct vmm *v = &it->d.v;
	uint8_t buf[IT_MSG_SIZE];
	char msg[128];
	int n = 0, r;

	ASSERT_EQ(0, it_attach(it, VMM_TX));
	ASSERT_EQ(0, it_post_tx(it, 0));
	ASSERT_TRUE(it_wait_msg(it, WAIT_MS)) TH_LOG("no MISS queued");
	usleep(200 * 1000);
	/* The VMM has read the MISSes and is about to answer them. */
	while (it_read(it, buf, sizeof(buf)) == IT_MSG_SIZE)
		n++;
	ASSERT_LT(0, n);

	r = vmm_set_features(v, v->features | extra);
	if (r && extra)
		SKIP(return, "SET_FEATURES with LOG_ALL: %s", strerror(-r));
	ASSERT_EQ(0, r);
	/* Answer: everything is mapped now. */
	ASSERT_EQ(IT_MSG_SIZE, it_map_all(it));
	/* Misses the queue asks again for are answered too. */
	ASSERT_EQ(0, it_server_start(it));
	/* No kick: the UPDATE alone must resume the queue. */
	EXPECT_EQ(0, it_expect_tx(it, 0, 0, 3000, msg, sizeof(msg)))
		TH_LOG("queue never resumed after SET_FEATURES: %s", msg);
	EXPECT_EQ(0, vmm_poll_fd(v->vq[VMM_TX].err_fd));
}

TEST_F_TIMEOUT(attack, set_features_again_wakes_waiting_queue, 60)
{
	set_features_stall(_metadata, &self->it, 0);
}

TEST_F_TIMEOUT(attack, set_features_log_all_wakes_waiting_queue, 60)
{
	set_features_stall(_metadata, &self->it, F(VHOST_F_LOG_ALL));
}

TEST_HARNESS_MAIN
