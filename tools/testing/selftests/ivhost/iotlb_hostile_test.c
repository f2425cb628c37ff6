// SPDX-License-Identifier: GPL-2.0
/*
 * Hostile input to the device IOTLB (VIRTIO_F_ACCESS_PLATFORM): the
 * messages on the device fd, and queues running while the IOTLB changes
 * under them.  Each test is one item of the list of inputs that broke
 * the upstream implementation.
 *
 * Runs against $IVHOST_DEV (ivhost, and the kernel's vhost_net for
 * parity).  Where the two differ the shared test checks what both do and
 * an ivhost_only_* test checks ivhost's stricter answer:
 *   - vhost_net turns every error of a valid-looking message into
 *     EFAULT (ENOMEM from the range code included), accepts v1/v2
 *     messages of 40 bytes and more, and never checks uaddr;
 *   - vhost_net rejects INVALIDATE of size 0, ivhost takes iova 0 size 0
 *     as "everything" (as QEMU's SMMU emulation sends it);
 *   - vhost_net keeps a queue's unread misses across a backend detach.
 *
 * Over vhost-user (iotlb_common.h) the messages are IOTLB_MSG requests
 * and the misses come on the backend channel: what only a device fd has
 * (partial writes, any user address as uaddr, taking back queued misses)
 * is KERNEL_ONLY, ivhost's core behaviour is checked on ivhost-user too.
 *
 * Tests:
 *   iotlb.miss_no_leak_v1 / _v2        item 1
 *   iotlb.ivhost_only_access_fail_no_leak
 *   iotlb.short_and_split_writes      item 2
 *   iotlb.ivhost_only_short_writes_einval
 *   iotlb.degenerate_ranges           item 3
 *   iotlb.ivhost_only_degenerate_errnos
 *   iotlb.uaddr_at_user_limit         item 4
 *   iotlb.buffer_at_user_limit
 *   iotlb.ivhost_only_uaddr_limit_errnos
 *   iotlb.miss_on_last_byte_wakes     item 5
 *   iotlb.storm_lock_ordering         item 6
 *   iotlb.replace_iotlb_under_traffic item 7
 *   iotlb.reset_owner_drops_misses    item 8
 *   iotlb.ivhost_only_detach_drops_misses
 *   iotlb.reset_owner_during_updates  (wake-ups racing a worker stop)
 *   iotlb.ivhost_only_batch_dropped_with_feature
 *   iotlb.ivhost_only_batch_begin_racing_feature_drop,
 *   iotlb.ivhost_only_batch_begin_racing_reset_owner
 *        a BATCH_BEGIN held inside write() (userfaultfd) while the VMM
 *        drops IOTLB_BATCH or resets the device: no batch is left open
 *   wide.ivhost_only_tx_chain_wider_than_cache_stops_queue
 *        a TX chain needing 2049 IOTLB entries (more than the 512 a
 *        frame may use, and than the cache holds) stops the queue
 *   wide.ivhost_only_tx_chain_of_513_entries_stops   one over the bound
 *   wide.ivhost_only_tx_chain_of_512_entries_used    the bound itself
 *   iotlb.ring_head_out_of_range / ring_avail_jump   item 11
 *   bigring.desc_table_split_in_user_space
 *        a ring contiguous in IOVA space, split in user space, works
 *   splitring.avail_ring_split_in_user_space
 *   splitring.used_ring_split_in_user_space_logged
 *        the same for the avail and the used ring (a split in the memory
 *        table over vhost-user), the used ring's log marks the right GPAs
 *   splitring.indirect_table_split_in_user_space
 *        an indirect table across such a split
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <linux/userfaultfd.h>
#include <linux/vhost.h>

#include "kselftest_harness.h"
#include "harness_filter.h"
#include "iotlb_common.h"
#include <linux/ivhost.h>
#include "viommu.h"

#define RING		64
#define WAIT_MS		10000
#include <sys/mman.h>

/*
 * The end of the user address space (TASK_SIZE_MAX): 2^47 - 4096 with
 * 4-level paging, 2^56 - 4096 with 5-level paging (qemu -cpu max), where
 * an address above 2^47 can be mapped when asked for.
 */
static uint64_t user_top(void)
{
	void *want = (void *)(1ULL << 48), *p;

	p = mmap(want, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS |
		 MAP_FIXED_NOREPLACE, -1, 0);
	if (p != MAP_FAILED)
		munmap(p, 4096);
	return (p == want ? 1ULL << 56 : 1ULL << 47) - 4096;
}

#define USER_TOP	user_top()
/* IOVAs outside guest memory for mappings no buffer uses. */
#define FAR_IOVA	0x100000000000ULL
#define STORM_MS	3000
#define REPAIRED_SEQ	100

FIXTURE(iotlb) {
	struct it it;
};

/*
 * In a fixture setup: bring self->it up with @num-entry rings and @mem
 * bytes of guest memory (0: the default); skips where the device is
 * missing or lacks ACCESS_PLATFORM.
 */
#define IT_SETUP(num, mem) do {						\
	int __r;							\
									\
	rt_init(&self->it.d);						\
	__r = it_up_mem(&self->it, RT_BASE_FEATURES, (num), (mem));	\
	LAYOUT_SKIP_FIXTURE(__r, it_down(&self->it));			\
	if (rt_missing(__r))						\
		SKIP(return, "%s: %s", ivhost_dev_path(),		\
		     ivhost_strerror(__r));				\
	if (__r == -EOPNOTSUPP)						\
		SKIP(return, "%s does not offer ACCESS_PLATFORM",	\
		     ivhost_dev_path());				\
	ASSERT_EQ(0, __r) TH_LOG("bring-up: %s", strerror(-__r));	\
} while (0)

/* Setup and teardown of a fixture holding a struct it with @num-entry rings. */
#define IT_FIXTURE(name, num)						\
FIXTURE_SETUP(name)							\
{									\
	IT_SETUP((num), 0);						\
}									\
									\
FIXTURE_TEARDOWN(name)							\
{									\
	it_down(&self->it);						\
}

IT_FIXTURE(iotlb, RING)

#define MSGOK(expr) ASSERT_EQ(IT_MSG_SIZE, (expr))

/* ---- 1: MISS messages carry nothing but type, iova and perm ---- */

static void check_miss_bytes(struct __test_metadata *_metadata,
			     const uint8_t *buf, int v2)
{
	uint32_t outer;
	struct vhost_iotlb_msg m;
	int i;

	memcpy(&outer, buf, 4);
	EXPECT_EQ((uint32_t)(v2 ? VHOST_IOTLB_MSG_V2 : VHOST_IOTLB_MSG), outer);
	for (i = 4; i < 8; i++)
		EXPECT_EQ(0, buf[i]) TH_LOG("byte %d (asid/padding)", i);
	it_parse(buf, &m);
	EXPECT_EQ(VHOST_IOTLB_MISS, m.type);
	EXPECT_EQ(0ULL, m.size);
	EXPECT_EQ(0ULL, m.uaddr);
	EXPECT_TRUE(m.perm >= 1 && m.perm <= 3) TH_LOG("perm %u", m.perm);
	/* Tail padding of the inner message and the rest of the union. */
	for (i = 8 + 26; i < IT_MSG_SIZE; i++)
		EXPECT_EQ(0, buf[i]) TH_LOG("byte %d", i);
	/* Nothing written past the message. */
	for (i = IT_MSG_SIZE; i < 128; i++)
		EXPECT_EQ(0xff, buf[i]) TH_LOG("byte %d past the message", i);
}

static void miss_no_leak(struct __test_metadata *_metadata, struct it *it,
			 int v2)
{
	struct vmm_vq *q = &it->d.v.vq[VMM_TX];
	uint8_t buf[128];
	int n = 0;
	ssize_t r;

	ASSERT_EQ(0, it_set_v2(it, v2));
	ASSERT_EQ(0, it_attach(it, VMM_TX));
	ASSERT_EQ(0, it_post_tx(it, 0));
	ASSERT_TRUE(it_wait_msg(it, WAIT_MS)) TH_LOG("no MISS queued");
	for (;;) {
		memset(buf, 0xff, sizeof(buf));
		r = it_read(it, buf, sizeof(buf));
		if (r == -EAGAIN)
			break;
		ASSERT_EQ(IT_MSG_SIZE, r);
		check_miss_bytes(_metadata, buf, v2);
		if (++n >= 16)
			break;
	}
	EXPECT_LT(0, n);
	EXPECT_EQ(0, vmm_poll_fd(q->err_fd));
}

TEST_F_TIMEOUT(iotlb, miss_no_leak_v2, 60)
{
	miss_no_leak(_metadata, &self->it, 1);
}

TEST_F_TIMEOUT(iotlb, miss_no_leak_v1, 60)
{
	miss_no_leak(_metadata, &self->it, 0);
}

/*
 * ACCESS_FAIL (ivhost only: vhost_net never sends one): a TX buffer in a
 * write-only mapping.  Only type, iova and perm may be non-zero.
 */
TEST_F_TIMEOUT(iotlb, ivhost_only_access_fail_no_leak, 60)
{
	struct it *it = &self->it;
	struct vmm *v = &it->d.v;
	struct vmm_vq *q = &v->vq[VMM_TX];
	uint64_t slab = vmm_gpa(v, q->slab);
	struct vhost_iotlb_msg m;
	uint8_t buf[128];
	uint32_t outer;
	int i, seen = 0;
	ssize_t r;

	IVHOST_CORE_ONLY();
	MSGOK(it_map_all(it));
	MSGOK(it_send(it, VHOST_IOTLB_UPDATE, slab, VMM_SLOT_SIZE,
		      (uintptr_t)q->slab, VHOST_ACCESS_WO));
	ASSERT_EQ(0, it_attach(it, VMM_TX));
	ASSERT_EQ(0, it_post_tx(it, 0));
	ASSERT_EQ(1, vmm_wait_fd(q->err_fd, WAIT_MS))
		TH_LOG("err eventfd not signalled");
	while (it_wait_msg(it, 100)) {
		memset(buf, 0xff, sizeof(buf));
		r = it_read(it, buf, sizeof(buf));
		if (r == -EAGAIN)
			break;
		ASSERT_EQ(IT_MSG_SIZE, r);
		memcpy(&outer, buf, 4);
		EXPECT_EQ((uint32_t)VHOST_IOTLB_MSG_V2, outer);
		it_parse(buf, &m);
		if (m.type != VHOST_IOTLB_ACCESS_FAIL)
			continue;
		seen++;
		EXPECT_EQ(slab, m.iova);
		EXPECT_EQ(VHOST_ACCESS_RO, m.perm);
		EXPECT_EQ(0ULL, m.size);
		EXPECT_EQ(0ULL, m.uaddr);
		for (i = 4; i < 8; i++)
			EXPECT_EQ(0, buf[i]) TH_LOG("byte %d", i);
		for (i = 8 + 26; i < IT_MSG_SIZE; i++)
			EXPECT_EQ(0, buf[i]) TH_LOG("byte %d", i);
		for (i = IT_MSG_SIZE; i < 128; i++)
			EXPECT_EQ(0xff, buf[i]) TH_LOG("byte %d", i);
	}
	EXPECT_EQ(1, seen);
}

/* ---- 2: short and split writes ---- */

static const size_t short_lens[] = { 0, 1, 4, 8, 16, 39, 40, 56, 71 };

TEST_F_TIMEOUT(iotlb, short_and_split_writes, 60)
{
	struct it *it = &self->it;
	struct vmm *v = &it->d.v;
	static const size_t cuts[] = { 1, 3, 5, 23, 40 };
	uint8_t buf[IT_MSG_SIZE];
	struct iovec iov[6];
	int accepted = 0, n, i;
	size_t off = 0;
	char msg[128];
	ssize_t r;

	KERNEL_ONLY("partial write()s of a message on the device fd");
	it_fill(buf, it->v2, VHOST_IOTLB_UPDATE, v->mem_gpa, v->mem_size,
		(uintptr_t)v->mem, VHOST_ACCESS_RW);
	for (i = 0; i < (int)ARRAY_SIZE(short_lens); i++) {
		r = write(v->fd, buf, short_lens[i]);
		if (r >= 0) {
			/* vhost_net takes 40 bytes as a whole message. */
			EXPECT_LE(40UL, short_lens[i]);
			accepted = 1;
		}
	}
	ASSERT_EQ(0, it_attach(it, VMM_TX));
	if (accepted) {
		/* Applied exactly: every buffer translates, no MISS. */
		ASSERT_EQ(0, it_tx_run(it, 0, 2, 0, msg, sizeof(msg)))
			TH_LOG("%s", msg);
	} else {
		/* Nothing applied: the queue asks for its rings. */
		ASSERT_EQ(0, it_post_tx(it, 0));
		ASSERT_TRUE(it_wait_msg(it, WAIT_MS)) TH_LOG("no MISS");
		while (it_read(it, buf, sizeof(buf)) > 0)
			;
	}

	/* Split INVALIDATE of everything, then a split UPDATE. */
	for (n = 0; n < 2; n++) {
		if (n == 0)
			it_fill(buf, it->v2, VHOST_IOTLB_INVALIDATE, 0,
				UINT64_MAX, 0, 0);
		else
			it_fill(buf, it->v2, VHOST_IOTLB_UPDATE, v->mem_gpa,
				v->mem_size, (uintptr_t)v->mem,
				VHOST_ACCESS_RW);
		off = 0;
		for (i = 0; i < (int)ARRAY_SIZE(cuts); i++) {
			iov[i].iov_base = buf + off;
			iov[i].iov_len = cuts[i] - off;
			off = cuts[i];
		}
		iov[i].iov_base = buf + off;
		iov[i].iov_len = IT_MSG_SIZE - off;
		r = writev(v->fd, iov, i + 1);
		ASSERT_EQ(IT_MSG_SIZE, r) TH_LOG("writev: %s",
						 strerror(errno));
	}
	/* Drop what is queued (answered by the UPDATE) and run traffic. */
	while (it_read(it, buf, sizeof(buf)) > 0)
		;
	ASSERT_EQ(0, it_tx_run(it, 10, 4, 1, msg, sizeof(msg)))
		TH_LOG("%s", msg);
}

TEST_F(iotlb, ivhost_only_short_writes_einval)
{
	struct it *it = &self->it;
	struct vmm *v = &it->d.v;
	uint8_t buf[IT_MSG_SIZE];
	int i;

	IVHOST_ONLY();
	it_fill(buf, it->v2, VHOST_IOTLB_UPDATE, v->mem_gpa, v->mem_size,
		(uintptr_t)v->mem, VHOST_ACCESS_RW);
	for (i = 0; i < (int)ARRAY_SIZE(short_lens); i++) {
		EXPECT_EQ(-1, write(v->fd, buf, short_lens[i]));
		EXPECT_EQ(EINVAL, errno) TH_LOG("len %zu", short_lens[i]);
	}
	/* A whole message whose second iovec cannot be read. */
	{
		struct iovec iov[2] = {
			{ .iov_base = buf, .iov_len = 40 },
			{ .iov_base = NULL, .iov_len = IT_MSG_SIZE - 40 },
		};

		EXPECT_EQ(-1, writev(v->fd, iov, 2));
		EXPECT_EQ(EFAULT, errno);
	}
	ASSERT_EQ(0, it_set_v2(it, 0));
	it_fill(buf, 0, VHOST_IOTLB_UPDATE, v->mem_gpa, v->mem_size,
		(uintptr_t)v->mem, VHOST_ACCESS_RW);
	for (i = 0; i < (int)ARRAY_SIZE(short_lens); i++) {
		EXPECT_EQ(-1, write(v->fd, buf, short_lens[i]));
		EXPECT_EQ(EINVAL, errno) TH_LOG("v1 len %zu", short_lens[i]);
	}
}

/* ---- 3: size 0, iova 0 size 0, the full range, wrapping ---- */

struct range_case {
	const char *name;
	uint8_t type;
	uint64_t iova, size;
	int uaddr_mem;		/* uaddr = guest memory, else 0 */
	int ivhost_err;		/* ivhost's answer: -errno or 0 (accepted) */
	int both_fail;		/* vhost_net fails it too */
};

static const struct range_case range_cases[] = {
	{ "update size 0", VHOST_IOTLB_UPDATE, VMM_GPA_BASE, 0, 1,
	  -EINVAL, 1 },
	{ "update iova 0 size 0", VHOST_IOTLB_UPDATE, 0, 0, 1, -EINVAL, 1 },
	{ "update wrapping", VHOST_IOTLB_UPDATE, 2, UINT64_MAX, 1,
	  -EINVAL, 1 },
	{ "update wrapping at the top", VHOST_IOTLB_UPDATE, UINT64_MAX, 2, 1,
	  -EINVAL, 1 },
	{ "update full range, uaddr 0", VHOST_IOTLB_UPDATE, 0, UINT64_MAX, 0,
	  -EFAULT, 0 },
	{ "update top page", VHOST_IOTLB_UPDATE, UINT64_MAX - 0xfff, 0x1000,
	  1, 0, 0 },
	{ "invalidate top page", VHOST_IOTLB_INVALIDATE, UINT64_MAX - 0xfff,
	  0x1000, 0, 0, 0 },
	/* vhost_net: a no-op. */
	{ "invalidate size 0", VHOST_IOTLB_INVALIDATE, VMM_GPA_BASE, 0, 0,
	  -EINVAL, 0 },
	{ "invalidate wrapping", VHOST_IOTLB_INVALIDATE, 2, UINT64_MAX, 0,
	  -EINVAL, 0 },
	{ "invalidate full range", VHOST_IOTLB_INVALIDATE, 0, UINT64_MAX, 0,
	  0, 0 },
	{ "invalidate last byte", VHOST_IOTLB_INVALIDATE, UINT64_MAX, 1, 0,
	  0, 0 },
	/* vhost_net: EINVAL; ivhost: everything. */
	{ "invalidate iova 0 size 0", VHOST_IOTLB_INVALIDATE, 0, 0, 0, 0, 0 },
};

static void run_range_cases(struct __test_metadata *_metadata, struct it *it,
			    int exact)
{
	const struct range_case *c;
	long long t0;
	ssize_t r;
	int i;

	for (i = 0; i < (int)ARRAY_SIZE(range_cases); i++) {
		c = &range_cases[i];
		t0 = vmm_now_ms();
		r = it_send(it, c->type, c->iova, c->size,
			    c->uaddr_mem ? (uintptr_t)it->d.v.mem : 0,
			    c->type == VHOST_IOTLB_UPDATE ? VHOST_ACCESS_RW : 0);
		EXPECT_GT(2000, vmm_now_ms() - t0) TH_LOG("%s: slow", c->name);
		if (exact) {
			EXPECT_EQ(c->ivhost_err ? c->ivhost_err : IT_MSG_SIZE, r)
				TH_LOG("%s", c->name);
		} else if (c->both_fail) {
			EXPECT_GT(0, r) TH_LOG("%s: accepted", c->name);
		} else {
			TH_LOG("%s: %zd", c->name, r);
		}
	}
}

TEST_F_TIMEOUT(iotlb, degenerate_ranges, 60)
{
	struct it *it = &self->it;
	char msg[128];

	run_range_cases(_metadata, it, 0);
	/* Whatever was accepted is dropped; the queue must still work. */
	MSGOK(it_unmap(it, 0, UINT64_MAX));
	MSGOK(it_unmap(it, UINT64_MAX, 1));
	ASSERT_EQ(0, it_server_start(it));
	ASSERT_EQ(0, it_attach(it, VMM_TX));
	ASSERT_EQ(0, it_tx_run(it, 0, 4, 0, msg, sizeof(msg)))
		TH_LOG("%s", msg);
	/* And again after the same messages with traffic running. */
	run_range_cases(_metadata, it, 0);
	MSGOK(it_unmap(it, 0, UINT64_MAX));
	MSGOK(it_unmap(it, UINT64_MAX, 1));
	ASSERT_EQ(0, it_tx_run(it, 4, 4, 0, msg, sizeof(msg)))
		TH_LOG("%s", msg);
	EXPECT_EQ(0UL, it->foreign);
}

TEST_F(iotlb, ivhost_only_degenerate_errnos)
{
	IVHOST_ONLY();
	run_range_cases(_metadata, &self->it, 1);
}

/* ---- 4: uaddr + size at the user address limit ---- */

struct limit_case {
	uint64_t uaddr, size;
	int ivhost_err;
};

#define LIMIT_CASES 9

static void limit_cases_fill(struct limit_case *limit_cases)
{
	const struct limit_case c[LIMIT_CASES] = {
	{ USER_TOP - 0x1000, 0x1000, 0 },	/* ends at the limit */
	{ USER_TOP - 1, 1, 0 },			/* last user byte */
	{ USER_TOP - 0x1000, 0x1001, -EFAULT },	/* one byte over */
	{ USER_TOP, 1, -EFAULT },
	{ USER_TOP - 1, 2, -EFAULT },
	{ USER_TOP, 0x1000, -EFAULT },
	{ UINT64_MAX - 0xfff, 0x1000, -EFAULT },
	{ UINT64_MAX, 1, -EFAULT },
	{ UINT64_MAX, 2, -EINVAL },		/* uaddr range wraps */
	};

	memcpy(limit_cases, c, sizeof(c));
}

static void run_limit_cases(struct __test_metadata *_metadata, struct it *it,
			    int exact)
{
	struct limit_case limit_cases[LIMIT_CASES];
	const struct limit_case *c;
	ssize_t r;
	int i;

	limit_cases_fill(limit_cases);
	TH_LOG("user address limit %#llx", (unsigned long long)USER_TOP);
	for (i = 0; i < LIMIT_CASES; i++) {
		c = &limit_cases[i];
		r = it_send(it, VHOST_IOTLB_UPDATE, FAR_IOVA + i * 0x10000ULL,
			    c->size, c->uaddr, VHOST_ACCESS_RW);
		if (exact) {
			EXPECT_EQ(c->ivhost_err ? c->ivhost_err : IT_MSG_SIZE, r)
				TH_LOG("uaddr %#llx size %#llx",
				       (unsigned long long)c->uaddr,
				       (unsigned long long)c->size);
		} else if (!c->ivhost_err) {
			EXPECT_EQ(IT_MSG_SIZE, r)
				TH_LOG("uaddr %#llx size %#llx: valid",
				       (unsigned long long)c->uaddr,
				       (unsigned long long)c->size);
		}
	}
}

TEST_F_TIMEOUT(iotlb, uaddr_at_user_limit, 60)
{
	KERNEL_ONLY("a uaddr outside the memory table");
	struct it *it = &self->it;
	char msg[128];

	run_limit_cases(_metadata, it, 0);
	ASSERT_EQ(0, it_server_start(it));
	ASSERT_EQ(0, it_attach(it, VMM_TX));
	ASSERT_EQ(0, it_tx_run(it, 0, 4, 0, msg, sizeof(msg)))
		TH_LOG("%s", msg);
	MSGOK(it_unmap(it, FAR_IOVA, 0x100000));
}

/* Point descriptor @h at a good frame (REPAIRED_SEQ) in its own slot. */
static void put_repaired(struct it *it, struct vmm_vq *q, int h)
{
	uint8_t *slot = q->slab + (size_t)h * VMM_SLOT_SIZE;

	memset(slot, 0, it->d.hdr_len);
	vmm_gen_frame(REPAIRED_SEQ, slot + it->d.hdr_len,
		      it_flen(REPAIRED_SEQ));
	q->desc[h] = (struct vring_desc){ vmm_gpa(&it->d.v, slot),
		it->d.hdr_len + it_flen(REPAIRED_SEQ), 0, 0 };
}

/* Start the server, attach TX, send two frames and reap them. */
static void tx_warm_up(struct __test_metadata *_metadata, struct it *it)
{
	struct vmm_vq *q = &it->d.v.vq[VMM_TX];
	char msg[128];

	ASSERT_EQ(0, it_server_start(it));
	ASSERT_EQ(0, it_attach(it, VMM_TX));
	ASSERT_EQ(0, it_tx_run(it, 0, 2, 0, msg, sizeof(msg)))
		TH_LOG("%s", msg);
	while (vmm_reap(q, NULL, NULL) == 1)
		;
}

/*
 * A frame whose IOVA maps onto the last page below the limit (valid, but
 * nothing is mapped there): the copy faults, the device reports it or
 * drops the frame, nothing crashes, and the repaired queue goes on.
 */
TEST_F_TIMEOUT(iotlb, buffer_at_user_limit, 60)
{
	struct it *it = &self->it;
	struct vmm *v = &it->d.v;
	struct vmm_vq *q = &v->vq[VMM_TX];
	uint64_t iova = FAR_IOVA + 0x100000;
	unsigned int base;
	uint16_t pos;
	char msg[128];
	int h;

	SPLIT_ONLY("split ring state");
	KERNEL_ONLY("a uaddr outside the memory table");
	tx_warm_up(_metadata, it);
	MSGOK(it_send(it, VHOST_IOTLB_UPDATE, iova, 0x1000,
		      USER_TOP - 0x1000, VHOST_ACCESS_RW));
	pos = q->avail_idx;
	h = vmm_desc_alloc(q, 1);
	ASSERT_LE(0, h);
	q->desc[h] = (struct vring_desc){ iova, 0x800, 0, 0 };
	vmm_publish(q, h);
	ASSERT_EQ(0, vmm_kick(q));
	/*
	 * ivhost stops the queue and signals the err eventfd; vhost_net
	 * (tun's batched copy) gives the chain back and retries it.
	 */
	if (vmm_wait_fd(q->err_fd, 2000) != 1)
		TH_LOG("no error reported: used %s",
		       rt_wait_used(q, pos + 1, 1000) ? "yes" : "no");

	ASSERT_EQ(0, vmm_set_backend(v, VMM_TX, -1));
	ASSERT_EQ(0, vmm_vq_get_base(v, VMM_TX, &base));
	if (base == pos) {
		/* Not consumed: turn it into a good frame. */
		put_repaired(it, q, h);
	} else {
		ASSERT_EQ((unsigned int)pos + 1, base);
	}
	ASSERT_EQ(0, vmm_vq_set_base(v, VMM_TX, base));
	ASSERT_EQ(0, it_attach(it, VMM_TX));
	while (vmm_poll_fd(q->err_fd))
		;
	ASSERT_EQ(0, vmm_kick(q));
	if (base == pos)
		ASSERT_EQ(0, it_expect_tx(it, REPAIRED_SEQ, 0, WAIT_MS, msg,
					  sizeof(msg))) TH_LOG("%s", msg);
	ASSERT_EQ(0, it_tx_run(it, 2, 4, 0, msg, sizeof(msg)))
		TH_LOG("%s", msg);
	EXPECT_EQ(0, vmm_poll_fd(q->err_fd));
}

TEST_F(iotlb, ivhost_only_uaddr_limit_errnos)
{
	IVHOST_ONLY();
	run_limit_cases(_metadata, &self->it, 1);
}

/* ---- 5: an UPDATE whose last byte answers the miss wakes the queue ---- */

TEST_F_TIMEOUT(iotlb, miss_on_last_byte_wakes, 60)
{
	struct it *it = &self->it;
	struct vmm *v = &it->d.v;
	struct vmm_vq *q = &v->vq[VMM_TX];
	uint64_t b, lo, hi, end = v->mem_gpa + v->mem_size;
	struct vhost_iotlb_msg m;
	uint8_t buf[IT_MSG_SIZE], *slot;
	const uint32_t seq = 7;
	char msg[128];
	int h;

	/* A frame at a page boundary in head 0's slot, its pages unmapped. */
	h = vmm_desc_alloc(q, 1);
	ASSERT_LE(0, h);
	slot = q->slab + (size_t)h * VMM_SLOT_SIZE + 8192;
	memset(slot, 0, it->d.hdr_len);
	vmm_gen_frame(seq, slot + it->d.hdr_len, it_flen(seq));
	b = vmm_gpa(v, slot);
	vmm_put_desc(q, h, b, it->d.hdr_len + it_flen(seq), 0);
	lo = b - IT_PAGE;
	hi = b + 2 * IT_PAGE;
	MSGOK(it_map(it, v->mem_gpa, lo - v->mem_gpa));
	MSGOK(it_map(it, hi, end - hi));
	ASSERT_EQ(0, vmm_set_backend(v, VMM_TX, it->d.t.fd));
	vmm_publish(q, h);
	ASSERT_EQ(0, vmm_kick(q));

	ASSERT_TRUE(it_wait_msg(it, WAIT_MS)) TH_LOG("no MISS for the buffer");
	ASSERT_EQ(IT_MSG_SIZE, it_read(it, buf, sizeof(buf)));
	it_parse(buf, &m);
	ASSERT_EQ(VHOST_IOTLB_MISS, m.type);
	ASSERT_EQ(b, m.iova);
	while (it_read(it, buf, sizeof(buf)) > 0)
		;	/* vhost_net may have asked twice */

	/* Map the page that ends with the missing byte; no kick. */
	MSGOK(it_map(it, b - IT_PAGE + 1, IT_PAGE));
	ASSERT_TRUE(it_wait_msg(it, WAIT_MS))
		TH_LOG("queue not woken by an UPDATE ending on its miss");
	ASSERT_EQ(IT_MSG_SIZE, it_read(it, buf, sizeof(buf)));
	it_parse(buf, &m);
	ASSERT_EQ(VHOST_IOTLB_MISS, m.type);
	ASSERT_EQ(b + 1, m.iova);
	while (it_read(it, buf, sizeof(buf)) > 0)
		;
	/* The rest, again with no kick: the frame goes out. */
	MSGOK(it_map(it, b + 1, hi - b - 1));
	ASSERT_EQ(0, it_expect_tx(it, seq, 0, WAIT_MS, msg, sizeof(msg)))
		TH_LOG("%s", msg);
}

/*
 * A descriptor table contiguous in IOVA space but not in user space (a
 * guest whose ring pages are not physically contiguous, or one that
 * crosses a memory region): a 512-entry TX ring whose second page of
 * descriptors maps onto a spare page elsewhere.  Only heads below 256
 * are used, so every descriptor read lands on the first page.
 */
FIXTURE(bigring) {
	struct it it;
};

IT_FIXTURE(bigring, 512)

TEST_F_TIMEOUT(bigring, desc_table_split_in_user_space, 60)
{
	struct it *it = &self->it;
	struct vmm *v = &it->d.v;
	struct vmm_vq *q = &v->vq[VMM_TX];
	uint64_t page1 = vmm_gpa(v, q->desc) + IT_PAGE;
	uint8_t *spare = vmm_alloc(v, IT_PAGE, IT_PAGE);
	char msg[128];

	ASSERT_NE(NULL, spare);
	/* No overlap: vhost_net would answer from the lowest UPDATE. */
	MSGOK(it_map(it, v->mem_gpa, page1 - v->mem_gpa));
	MSGOK(it_send(it, VHOST_IOTLB_UPDATE, page1, IT_PAGE,
		      (uintptr_t)spare, VHOST_ACCESS_RW));
	MSGOK(it_map(it, page1 + IT_PAGE,
		     v->mem_gpa + v->mem_size - page1 - IT_PAGE));
	ASSERT_EQ(0, it_attach(it, VMM_TX));
	ASSERT_EQ(0, it_tx_run(it, 0, 108, 0, msg, sizeof(msg)))
		TH_LOG("%s", msg);
	EXPECT_EQ(0, vmm_poll_fd(q->err_fd));
}

/*
 * The avail or used ring of a 2048-entry TX ring (both over a page long)
 * split at its second page in the device's memory, contiguous in IOVA
 * and guest-physical space.  On a device fd the page is a memfd mapped
 * twice: in place in guest memory, and elsewhere (the alias), which the
 * IOTLB maps its IOVA to and a region of its own in the memory table
 * covers; the device writes what the guest reads.  Over vhost-user the
 * memory table is cut in two regions at the page, which the backend maps
 * one by one, the way QEMU's RAM below and above a hole is.
 */
#define SPLIT_RING	2048

FIXTURE(splitring) {
	struct it it;
	struct rt_log log;
	void *alias;
	int memfd;
};

FIXTURE_SETUP(splitring)
{
	memset(&self->log, 0, sizeof(self->log));
	self->log.fd = -1;
	self->log.memfd = -1;
	self->alias = MAP_FAILED;
	self->memfd = -1;
	IT_SETUP(SPLIT_RING, 0);
}

FIXTURE_TEARDOWN(splitring)
{
	it_down(&self->it);
	rt_log_free(&self->log);
	if (self->alias != MAP_FAILED)
		munmap(self->alias, IT_PAGE);
	if (self->memfd >= 0)
		close(self->memfd);
}

/* A region of guest memory at its own user address. */
static void split_region(struct vhost_memory_region *r, uint64_t gpa,
			 uint64_t size, uint64_t uaddr)
{
	r->guest_phys_addr = gpa;
	r->memory_size = size;
	r->userspace_addr = uaddr;
}

/*
 * Split guest memory at @page (page-aligned, inside it) as the comment
 * above says, then map all of it in the IOTLB: 0 or -errno.
 */
static int split_at(FIXTURE_DATA(splitring) *self, uint8_t *page)
{
	struct vmm *v = &self->it.d.v;
	uint64_t gpa = vmm_gpa(v, page), end = v->mem_gpa + v->mem_size;
	struct {
		struct vhost_memory hdr;
		struct vhost_memory_region r[3];
	} m;
	int r;

	memset(&m, 0, sizeof(m));
	split_region(&m.r[0], v->mem_gpa, gpa - v->mem_gpa,
		     (uintptr_t)v->mem);
	if (v->user) {
		split_region(&m.r[1], gpa, end - gpa, (uintptr_t)page);
		m.hdr.nregions = 2;
	} else {
		self->memfd = memfd_create("split-ring", MFD_CLOEXEC);
		if (self->memfd < 0 ||
		    pwrite(self->memfd, page, IT_PAGE, 0) != (ssize_t)IT_PAGE)
			return -errno;
		if (mmap(page, IT_PAGE, PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_FIXED, self->memfd, 0) == MAP_FAILED)
			return -errno;
		self->alias = mmap(NULL, IT_PAGE, PROT_READ | PROT_WRITE,
				   MAP_SHARED, self->memfd, 0);
		if (self->alias == MAP_FAILED)
			return -errno;
		split_region(&m.r[1], gpa, IT_PAGE, (uintptr_t)self->alias);
		split_region(&m.r[2], gpa + IT_PAGE, end - gpa - IT_PAGE,
			     (uintptr_t)page + IT_PAGE);
		m.hdr.nregions = 3;
	}
	r = vmm_ioctl(v, VHOST_SET_MEM_TABLE, &m);
	if (r)
		return r;
	/*
	 * UPDATEs that do not overlap (vhost_net answers the lowest of
	 * overlapping ones), each inside one region (vhost-user's rule).
	 */
	if (it_map(&self->it, v->mem_gpa, gpa - v->mem_gpa) != IT_MSG_SIZE)
		return -EIO;
	if (v->user)
		return it_map(&self->it, gpa, end - gpa) == IT_MSG_SIZE ?
		       0 : -EIO;
	if (it_send(&self->it, VHOST_IOTLB_UPDATE, gpa, IT_PAGE,
		    (uintptr_t)self->alias, VHOST_ACCESS_RW) != IT_MSG_SIZE ||
	    it_map(&self->it, gpa + IT_PAGE, end - gpa - IT_PAGE) !=
	    IT_MSG_SIZE)
		return -EIO;
	return 0;
}

TEST_F_TIMEOUT(splitring, avail_ring_split_in_user_space, 300)
{
	struct vmm_vq *q = &self->it.d.v.vq[VMM_TX];
	char msg[128];

	/* Entries 2046 and 2047 are on the second page. */
	ASSERT_EQ(0, split_at(self, (uint8_t *)q->avail + IT_PAGE));
	ASSERT_EQ(0, it_attach(&self->it, VMM_TX));
	ASSERT_EQ(0, it_tx_run(&self->it, 0, SPLIT_RING + 8, 0, msg,
			       sizeof(msg)))
		TH_LOG("%s", msg);
	EXPECT_EQ(0, vmm_poll_fd(q->err_fd));
}

/*
 * A two-entry indirect table across the split (its first descriptor on
 * one side, its second on the other): the frames it describes go out.
 * The tables the test VMM posts never cross a page, so this one is made
 * by hand, over the end of the first page of the indirect tables.
 */
TEST_F_TIMEOUT(splitring, indirect_table_split_in_user_space, 120)
{
	struct it *it = &self->it;
	struct vmm *v = &it->d.v;
	struct vmm_vq *q = &v->vq[VMM_TX];
	uint8_t *page = (uint8_t *)q->indirect + IT_PAGE, *slot;
	struct vring_desc *table = (struct vring_desc *)page - 1;
	size_t hl = it->d.hdr_len;
	char msg[128];
	uint32_t seq;
	int h;

	SPLIT_ONLY("a split indirect table built by hand");
	ASSERT_EQ(0, split_at(self, page));
	ASSERT_EQ(0, it_attach(it, VMM_TX));
	for (seq = 0; seq < 8; seq++) {
		while (vmm_reap(q, NULL, NULL) == 1)
			;
		h = vmm_desc_alloc(q, 1);
		ASSERT_LE(0, h);
		slot = q->slab + (size_t)h * VMM_SLOT_SIZE;
		memset(slot, 0, hl);
		vmm_gen_frame(seq, slot + hl, it_flen(seq));
		table[0] = (struct vring_desc){ vmm_gpa(v, slot), hl,
						VRING_DESC_F_NEXT, 1 };
		table[1] = (struct vring_desc){ vmm_gpa(v, slot) + hl,
						it_flen(seq), 0, 0 };
		q->desc[h] = (struct vring_desc){ vmm_gpa(v, table),
						  2 * sizeof(*table),
						  VRING_DESC_F_INDIRECT, 0 };
		vmm_publish(q, h);
		ASSERT_EQ(0, vmm_kick(q));
		ASSERT_EQ(0, it_expect_tx(it, seq, 0, WAIT_MS, msg,
					  sizeof(msg)))
			TH_LOG("%s", msg);
		ASSERT_EQ(0, it_drain(it, WAIT_MS));
	}
	EXPECT_EQ(0, vmm_poll_fd(q->err_fd));
}

/* Drop the marks of queue @qi's used ring. */
static void split_forget_used(uint64_t *bits, struct vmm *v, unsigned int qi)
{
	struct vmm_vq *q = &v->vq[qi];
	uint64_t gpa = vmm_gpa(v, q->used), pfn;
	uint64_t last = gpa + sizeof(struct vring_used) + q->num * 8 + 2 - 1;

	for (pfn = gpa / RT_PAGE; pfn <= last / RT_PAGE; pfn++)
		__atomic_and_fetch(&bits[pfn / 64], ~(1ULL << (pfn % 64)),
				   __ATOMIC_SEQ_CST);
}

/* VHOST_SET_VRING_ADDR with IOVAs, logging the used ring. */
static int split_set_addr_log(struct it *it, unsigned int qi)
{
	struct vmm_vq *q = &it->d.v.vq[qi];
	struct vmm *v = &it->d.v;
	struct vhost_vring_addr a = {
		.index = qi,
		.flags = 1u << VHOST_VRING_F_LOG,
		.desc_user_addr = vmm_gpa(v, q->desc),
		.used_user_addr = vmm_gpa(v, q->used),
		.avail_user_addr = vmm_gpa(v, q->avail),
		.log_guest_addr = vmm_gpa(v, q->used),
	};

	return vmm_ioctl(v, VHOST_SET_VRING_ADDR, &a);
}

/*
 * With dirty logging on: the device's writes to the used ring (its
 * flags and index on the first page, entry 511 across the split, the
 * entries after it on the second page) mark the guest-physical pages
 * written, on both sides of the split, and nothing else.
 */
TEST_F_TIMEOUT(splitring, used_ring_split_in_user_space_logged, 300)
{
	struct it *it = &self->it;
	struct vmm *v = &it->d.v;
	struct vmm_vq *q = &v->vq[VMM_TX];
	uint64_t used = vmm_gpa(v, q->used);
	static struct rt_pfns want;
	const unsigned int frames = 600;
	char msg[160];
	int i;

	SPLIT_ONLY("the split used ring's pages");

	/* Logging first: SET_FEATURES empties the IOTLB. */
	ASSERT_EQ(0, rt_log_alloc(&self->log, rt_log_span(v)));
	ASSERT_EQ(0, rt_log_start(v, &self->log));
	for (i = 0; i < VMM_NVQS; i++)
		ASSERT_EQ(0, split_set_addr_log(it, i));
	ASSERT_EQ(0, split_at(self, (uint8_t *)q->used + IT_PAGE));
	ASSERT_EQ(0, it_attach(it, VMM_TX));
	ASSERT_EQ(0, it_tx_run(it, 0, frames, 0, msg, sizeof(msg)))
		TH_LOG("%s", msg);
	EXPECT_EQ(0, vmm_poll_fd(q->err_fd));
	/* flags, idx and entries 0..frames-1: pages 0 and 1 of the ring */
	memset(&want, 0, sizeof(want));
	rt_pfns_add(&want, used, 4 + 8 * frames);
	ASSERT_EQ(2u, want.n);
	/*
	 * RX has no buffers and moves nothing, but a vhost-user backend may
	 * write its used ring's flags: those marks are not this test's.
	 */
	split_forget_used(self->log.bits, v, VMM_RX);
	EXPECT_EQ(0, rt_log_check(&self->log, v, &want, msg, sizeof(msg)))
		TH_LOG("%s", msg);
}

/* ---- 6 and 7: storms while traffic runs ---- */

struct storm {
	struct it *it;
	volatile int stop;
	unsigned int seed;
	unsigned long writes, errors, ioctls, ioctl_errors;
	int drop_ap;		/* the control thread also drops the feature */
};

/* UPDATE/INVALIDATE of pages of the TX slots the frames live in. */
static void *storm_writer(void *arg)
{
	struct storm *s = arg;
	struct it *it = s->it;
	struct vmm_vq *q = &it->d.v.vq[VMM_TX];
	uint64_t base = vmm_gpa(&it->d.v, q->slab), pg;
	unsigned int seed = __atomic_add_fetch(&s->seed, 1, __ATOMIC_RELAXED);
	ssize_t r;

	while (!s->stop) {
		pg = base + (rand_r(&seed) % (8 * VMM_SLOT_SIZE / IT_PAGE)) *
			    IT_PAGE;
		switch (rand_r(&seed) % 4) {
		case 0:
			r = it_unmap(it, pg, IT_PAGE * (1 + rand_r(&seed) % 4));
			break;
		case 1:
			r = it_unmap(it, base, 8 * VMM_SLOT_SIZE);
			break;
		default:
			r = it_map(it, pg, IT_PAGE * (1 + rand_r(&seed) % 4));
			break;
		}
		__atomic_add_fetch(&s->writes, 1, __ATOMIC_RELAXED);
		if (r != IT_MSG_SIZE)
			__atomic_add_fetch(&s->errors, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

static void storm_ioctl(struct storm *s, int r)
{
	s->ioctls++;
	if (r)
		s->ioctl_errors++;
}

/* SET_FEATURES, SET_BACKEND_FEATURES, SET_MEM_TABLE, backend swaps. */
static void *storm_control(void *arg)
{
	struct storm *s = arg;
	struct it *it = s->it;
	struct vmm *v = &it->d.v;
	uint64_t bf = it->v2 ? 1ULL << VHOST_BACKEND_F_IOTLB_MSG_V2 : 0;
	unsigned int n = 0;

	while (!s->stop) {
		if (s->drop_ap && n % 4 == 3) {
			/* Without the IOTLB the IOVAs are user addresses. */
			storm_ioctl(s, vmm_set_features(v, v->features &
					~F(VIRTIO_F_ACCESS_PLATFORM)));
			usleep(10 * 1000);
			storm_ioctl(s, vmm_set_features(v, v->features |
					F(VIRTIO_F_ACCESS_PLATFORM)));
		} else {
			storm_ioctl(s, vmm_set_features(v, v->features));
		}
		storm_ioctl(s, it_map_rings(it, VMM_TX));
		storm_ioctl(s, it_map_rings(it, VMM_RX));
		if (!v->user)	/* vhost-user has no backend features */
			storm_ioctl(s, vmm_ioctl(v,
					VHOST_SET_BACKEND_FEATURES, &bf));
		storm_ioctl(s, vmm_set_mem_table(v));
		if (!s->drop_ap && n % 2) {
			storm_ioctl(s, vmm_set_backend(v, VMM_TX, -1));
			storm_ioctl(s, it_attach(it, VMM_TX));
		}
		n++;
		usleep(20 * 1000);
	}
	return NULL;
}

/*
 * Run TX traffic for STORM_MS with @nwriters writer threads and the
 * control thread.  With @strict every frame must arrive in order within
 * WAIT_MS (no deadlock, nothing lost); otherwise frames only flow.
 */
static void storm_run(struct __test_metadata *_metadata, struct it *it,
		      int nwriters, int drop_ap, uint32_t *seqp)
{
	struct storm s = { .it = it, .drop_ap = drop_ap };
	pthread_t w[4], c;
	long long end;
	uint32_t seq = *seqp;
	uint8_t frame[4096];
	char msg[128] = "";
	int i, failed = 0;

	ASSERT_EQ(0, it_server_start(it));
	ASSERT_EQ(0, it_attach(it, VMM_TX));
	ASSERT_EQ(0, it_tx_run(it, seq, 2, 0, msg, sizeof(msg)))
		TH_LOG("%s", msg);
	seq += 2;
	for (i = 0; i < nwriters; i++)
		ASSERT_EQ(0, pthread_create(&w[i], NULL, storm_writer, &s));
	ASSERT_EQ(0, pthread_create(&c, NULL, storm_control, &s));
	end = vmm_now_ms() + STORM_MS;
	while (vmm_now_ms() < end && !failed) {
		if (drop_ap) {
			/* The queue may break: keep it busy, expect nothing. */
			if (it_post_tx(it, seq) == 0)
				seq++;
			else
				usleep(1000);
			while (rt_tap_recv(&it->d, frame, sizeof(frame),
					   0) >= 0)
				;
			continue;
		}
		if (it_post_tx(it, seq) ||
		    it_expect_tx(it, seq, 0, WAIT_MS, msg, sizeof(msg)))
			failed = 1;
		else
			seq++;
	}
	s.stop = 1;
	for (i = 0; i < nwriters; i++)
		pthread_join(w[i], NULL);
	pthread_join(c, NULL);
	TH_LOG("%u frames, %lu writes (%lu failed), %lu ioctls (%lu failed), %lu misses",
	       seq - *seqp, s.writes, s.errors, s.ioctls, s.ioctl_errors,
	       it->misses);
	EXPECT_EQ(0, failed) TH_LOG("during the storm: %s", msg);
	/* ivhost refuses writes while the feature is off (EFAULT). */
	if (!drop_ap) {
		EXPECT_EQ(0UL, s.errors);
		EXPECT_EQ(0UL, s.ioctl_errors);
	}
	*seqp = seq;
}

TEST_F_TIMEOUT(iotlb, storm_lock_ordering, 120)
{
	struct it *it = &self->it;
	uint32_t seq = 0;
	char msg[128];

	storm_run(_metadata, it, 3, 0, &seq);
	ASSERT_EQ(0, it_tx_run(it, seq, 8, 0, msg, sizeof(msg)))
		TH_LOG("after the storm: %s", msg);
}

TEST_F_TIMEOUT(iotlb, replace_iotlb_under_traffic, 120)
{
	struct it *it = &self->it;
	uint32_t seq = 0;
	char msg[128];

	storm_run(_metadata, it, 1, 1, &seq);
	/* The feature is on again; restart the queue as a VMM would. */
	ASSERT_EQ(0, it_map_rings(it, VMM_TX));
	ASSERT_EQ(0, it_restart(it, VMM_TX));
	ASSERT_EQ(0, it_drain(it, WAIT_MS))
		TH_LOG("%u frames still queued after the restart",
		       vmm_inflight(&it->d.v.vq[VMM_TX]));
	ASSERT_EQ(0, it_tx_run(it, seq + 1000, 8, 1, msg, sizeof(msg)))
		TH_LOG("after replacing the IOTLB: %s", msg);
}

/* ---- 8: stale misses do not survive a detach or a reset ---- */

/* Attach TX with nothing but its used ring mapped: misses queue up. */
static void queue_misses(struct __test_metadata *_metadata, struct it *it)
{
	ASSERT_EQ(0, it_attach(it, VMM_TX));
	ASSERT_EQ(0, it_post_tx(it, 0));
	ASSERT_TRUE(it_wait_msg(it, WAIT_MS)) TH_LOG("no MISS queued");
	/* Let the worker finish whatever it asks for. */
	usleep(200 * 1000);
}

TEST_F_TIMEOUT(iotlb, reset_owner_drops_misses, 60)
{
	struct it *it = &self->it;
	uint8_t buf[IT_MSG_SIZE];
	char msg[128];
	int i;

	KERNEL_ONLY("a MISS already written to the backend channel cannot be taken back");
	queue_misses(_metadata, it);
	ASSERT_EQ(0, vmm_ioctl(&it->d.v, VHOST_RESET_OWNER, NULL));
	EXPECT_EQ(-EAGAIN, it_read(it, buf, sizeof(buf)));
	EXPECT_FALSE(it_wait_msg(it, 100));

	/* A fresh start with the same memory works. */
	ASSERT_EQ(0, vmm_reown(&it->d.v));
	ASSERT_EQ(0, it_set_v2(it, it->v2));
	for (i = 0; i < VMM_NVQS; i++)
		ASSERT_EQ(0, it_set_addr(it, i));
	ASSERT_EQ(0, it_server_start(it));
	ASSERT_EQ(0, it_attach(it, VMM_TX));
	ASSERT_EQ(0, it_tx_run(it, 1, 4, 1, msg, sizeof(msg)))
		TH_LOG("%s", msg);
	EXPECT_EQ(0UL, it->foreign);
}

TEST_F_TIMEOUT(iotlb, ivhost_only_detach_drops_misses, 60)
{
	struct it *it = &self->it;
	uint8_t buf[IT_MSG_SIZE];
	char msg[128];

	IVHOST_ONLY();	/* as reset_owner_drops_misses */
	queue_misses(_metadata, it);
	ASSERT_EQ(0, vmm_set_backend(&it->d.v, VMM_TX, -1));
	EXPECT_EQ(-EAGAIN, it_read(it, buf, sizeof(buf)));
	EXPECT_FALSE(it_wait_msg(it, 100));

	/* Re-attached, the queue asks afresh and the frame goes out. */
	ASSERT_EQ(0, it_server_start(it));
	ASSERT_EQ(0, it_attach(it, VMM_TX));
	ASSERT_EQ(0, it_expect_tx(it, 0, 0, WAIT_MS, msg, sizeof(msg)))
		TH_LOG("%s", msg);
	ASSERT_EQ(0, it_tx_run(it, 1, 4, 0, msg, sizeof(msg)))
		TH_LOG("%s", msg);
}

/*
 * UPDATEs answering misses from another thread while the owner resets
 * the device and sets it up again: the wake-ups race with the worker
 * being stopped and restarted.
 */
struct reset_race {
	struct it *it;
	volatile int stop;
	unsigned long writes;
};

static void *reset_race_writer(void *arg)
{
	struct reset_race *rr = arg;

	while (!rr->stop) {
		it_serve(rr->it);
		it_map_all(rr->it);
		rr->writes++;
	}
	return NULL;
}

TEST_F_TIMEOUT(iotlb, reset_owner_during_updates, 120)
{
	struct it *it = &self->it;
	struct reset_race rr = { .it = it };
	pthread_t w;
	char msg[128];
	int i, q, r = 0;

	ASSERT_EQ(0, pthread_create(&w, NULL, reset_race_writer, &rr));
	for (i = 0; i < 20 && !r; i++) {
		r = it_attach(it, VMM_TX);
		if (!r)
			r = it_post_tx(it, i);
		usleep(5000);
		if (!r)
			r = vmm_ioctl(&it->d.v, VHOST_RESET_OWNER, NULL);
		if (!r)
			r = vmm_reown(&it->d.v);
		if (!r)
			r = it_set_v2(it, it->v2);
		for (q = 0; !r && q < VMM_NVQS; q++)
			r = it_set_addr(it, q);
	}
	rr.stop = 1;
	pthread_join(w, NULL);
	ASSERT_EQ(0, r) TH_LOG("round %d: %s", i, strerror(-r));
	TH_LOG("%lu UPDATE rounds", rr.writes);
	ASSERT_EQ(0, it_server_start(it));
	ASSERT_EQ(0, it_attach(it, VMM_TX));
	ASSERT_EQ(0, it_tx_run(it, 100, 4, 1, msg, sizeof(msg)))
		TH_LOG("%s", msg);
}

/*
 * ivhost only (vhost_net offers no IOTLB_BATCH): a batch left open when
 * the VMM stops acknowledging VHOST_BACKEND_F_IOTLB_BATCH is dropped, and
 * later UPDATEs apply at once instead of being kept aside for good.
 */
TEST_F_TIMEOUT(iotlb, ivhost_only_batch_dropped_with_feature, 60)
{
	struct it *it = &self->it;
	uint64_t bf = 1ULL << VHOST_BACKEND_F_IOTLB_MSG_V2 |
		      1ULL << VHOST_BACKEND_F_IOTLB_BATCH;
	char msg[128];

	IVHOST_ONLY();
	ASSERT_EQ(0, vmm_ioctl(&it->d.v, VHOST_SET_BACKEND_FEATURES, &bf));
	MSGOK(it_send(it, VHOST_IOTLB_BATCH_BEGIN, 0, 0, 0, 0));
	MSGOK(it_map_all(it));
	ASSERT_EQ(0, it_set_v2(it, 1));
	EXPECT_EQ(-EINVAL, it_send(it, VHOST_IOTLB_BATCH_END, 0, 0, 0, 0));
	MSGOK(it_map_all(it));
	ASSERT_EQ(0, it_attach(it, VMM_TX));
	/* No server: everything must translate already. */
	ASSERT_EQ(0, it_tx_run(it, 0, 2, 0, msg, sizeof(msg)))
		TH_LOG("%s", msg);
}

/* ---- a TX chain that needs more translations than a frame may use ---- */

/*
 * A frame (one TX chain) may use at most 512 IOTLB entries; a chain that
 * needs more is malformed: the queue stops and its err eventfd fires.
 * Here one descriptor's buffer spans @npages pages of IOVA space, each
 * mapped by an UPDATE of its own 4 KiB page as the device asks for it
 * (the pages are contiguous in the VMM's memory, so the translations
 * join into one segment, but each is an entry of the cache).
 */
#define WIDE_PAGES	2049
#define WIDE_OK_PAGES	512
#define WIDE_WAIT_MS	30000

FIXTURE(wide) {
	struct it it;
};

FIXTURE_SETUP(wide)
{
	size_t mem = 2 * RING * (VMM_SLOT_SIZE + VMM_MAX_SEGS * 16) +
		     (4 << 20) + (WIDE_PAGES + 1) * IT_PAGE;

	IT_SETUP(RING, mem);
}

FIXTURE_TEARDOWN(wide)
{
	it_down(&self->it);
}

struct wide_result {
	int stopped;		/* err eventfd fired */
	int used;		/* used entries the device added */
	long long ms;		/* until one of the two, or the wait ended */
	struct ivhost_iotlb_stats s;
};

/* Post the wide chain, serve misses page by page, wait for its fate. */
static void wide_chain(struct __test_metadata *_metadata, struct it *it,
		       size_t npages, struct wide_result *res)
{
	struct vmm *v = &it->d.v;
	struct vmm_vq *q = &v->vq[VMM_TX];
	uint8_t *buf = vmm_alloc(v, npages * IT_PAGE, IT_PAGE);
	long long start;
	int h;

	memset(res, 0, sizeof(*res));
	ASSERT_NE(NULL, buf);
	memset(buf, 0, it->d.hdr_len);
	vmm_gen_frame(1, buf + it->d.hdr_len, 1500);
	h = vmm_desc_alloc(q, 1);
	ASSERT_LE(0, h);
	vmm_put_desc(q, h, vmm_gpa(v, buf), (uint32_t)(npages * IT_PAGE), 0);
	ASSERT_EQ(0, it_server_start(it));
	ASSERT_EQ(0, it_attach(it, VMM_TX));
	start = vmm_now_ms();
	vmm_publish(q, h);
	ASSERT_EQ(0, vmm_kick(q));
	while (vmm_now_ms() - start < WIDE_WAIT_MS) {
		if (vmm_wait_fd(q->err_fd, 20) == 1)
			res->stopped = 1;
		res->used = vmm_used_idx(q);
		if (res->stopped || res->used)
			break;
	}
	res->ms = vmm_now_ms() - start;
	it_server_stop(it);
	ASSERT_EQ(0, viommu_read_stats(v, &res->s));
	TH_LOG("%zu pages: %s after %lld ms; %lu misses answered, %llu updates, %llu evictions, %llu entries",
	       npages, res->stopped ? "queue stopped" :
	       res->used ? "chain used" : "nothing", res->ms,
	       it->answers, res->s.updates, res->s.evictions, res->s.entries);
}

TEST_F_TIMEOUT(wide, ivhost_only_tx_chain_wider_than_cache_stops_queue, 120)
{
	struct wide_result res;

	IVHOST_ONLY();
	wide_chain(_metadata, &self->it, WIDE_PAGES, &res);
	EXPECT_EQ(1, res.stopped)
		TH_LOG("a chain needing %d entries neither stopped the queue nor finished within %d s",
		       WIDE_PAGES, WIDE_WAIT_MS / 1000);
	EXPECT_EQ(0, res.used);
}

TEST_F_TIMEOUT(wide, ivhost_only_tx_chain_of_513_entries_stops, 120)
{
	struct wide_result res;

	IVHOST_ONLY();
	wide_chain(_metadata, &self->it, WIDE_OK_PAGES + 1, &res);
	EXPECT_EQ(1, res.stopped);
	EXPECT_EQ(0, res.used);
}

TEST_F_TIMEOUT(wide, ivhost_only_tx_chain_of_512_entries_used, 120)
{
	struct wide_result res;

	IVHOST_ONLY();
	wide_chain(_metadata, &self->it, WIDE_OK_PAGES, &res);
	EXPECT_EQ(1, res.used);
	EXPECT_EQ(0, res.stopped);
}

/* ---- batching racing a feature drop or a reset ---- */

/*
 * A write() of an IOTLB message held up inside the kernel: its bytes are
 * in a page that is not there yet (userfaultfd), so the write blocks in
 * the copy from user memory, after the device looked at its backend
 * features, until the test supplies the page.  This makes the window of
 * a race as wide as the test wants, deterministically.
 */
struct stall {
	int uffd;
	uint8_t *page;
	int fd;
	pthread_t thr;
	int started;
	ssize_t ret;
	int err;
};

static void *stall_writer(void *arg)
{
	struct stall *st = arg;

	st->ret = write(st->fd, st->page, IT_MSG_SIZE);
	st->err = st->ret < 0 ? errno : 0;
	return NULL;
}

/* 0 with the write blocked in the kernel, or -errno. */
static int stall_start(struct stall *st, int fd)
{
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register reg;
	struct pollfd p;
	struct uffd_msg m;

	memset(st, 0, sizeof(*st));
	st->fd = fd;
	st->uffd = syscall(__NR_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (st->uffd < 0)
		return -errno;
	if (ioctl(st->uffd, UFFDIO_API, &api))
		return -errno;
	st->page = mmap(NULL, IT_PAGE, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (st->page == MAP_FAILED) {
		st->page = NULL;
		return -errno;
	}
	memset(&reg, 0, sizeof(reg));
	reg.range.start = (uintptr_t)st->page;
	reg.range.len = IT_PAGE;
	reg.mode = UFFDIO_REGISTER_MODE_MISSING;
	if (ioctl(st->uffd, UFFDIO_REGISTER, &reg))
		return -errno;
	if (pthread_create(&st->thr, NULL, stall_writer, st))
		return -EAGAIN;
	st->started = 1;
	p.fd = st->uffd;
	p.events = POLLIN;
	if (poll(&p, 1, 5000) != 1)
		return -ETIMEDOUT;
	if (read(st->uffd, &m, sizeof(m)) != sizeof(m))
		return -EIO;
	return m.event == UFFD_EVENT_PAGEFAULT ? 0 : -EIO;
}

/* Supply the page holding @msg; the write goes on and ends. */
static int stall_finish(struct stall *st, const uint8_t *msg)
{
	static uint8_t src[IT_PAGE] __attribute__((aligned(4096)));
	struct uffdio_copy c;
	int r = 0;

	memcpy(src, msg, IT_MSG_SIZE);
	memset(&c, 0, sizeof(c));
	c.dst = (uintptr_t)st->page;
	c.src = (uintptr_t)src;
	c.len = IT_PAGE;
	if (ioctl(st->uffd, UFFDIO_COPY, &c))
		r = -errno;
	if (st->started)
		pthread_join(st->thr, NULL);
	st->started = 0;
	return r;
}

static void stall_cleanup(struct stall *st)
{
	if (st->uffd > 0)
		close(st->uffd);	/* wakes a write still blocked */
	if (st->started)
		pthread_join(st->thr, NULL);
	if (st->page)
		munmap(st->page, IT_PAGE);
	st->uffd = -1;
	st->started = 0;
	st->page = NULL;
}

/* Start BATCH_BEGIN stalled; skip where userfaultfd is not available. */
#define STALL_BATCH_BEGIN(st, it) do {					\
	uint8_t __m[IT_MSG_SIZE];					\
	int __r;							\
									\
	it_fill(__m, (it)->v2, VHOST_IOTLB_BATCH_BEGIN, 0, 0, 0, 0);	\
	__r = stall_start((st), (it)->d.v.fd);				\
	if (__r == -ENOSYS || __r == -EPERM || __r == -EINVAL) {	\
		stall_cleanup(st);					\
		SKIP(return, "no userfaultfd: %s", strerror(-__r));	\
	}								\
	ASSERT_EQ(0, __r) TH_LOG("stalling a write: %s", strerror(-__r)); \
} while (0)

/*
 * With IOTLB_BATCH not acknowledged (any more), a change takes effect at
 * once and BATCH_END is refused: the device is not left batching.
 */
static void check_not_batching(struct __test_metadata *_metadata,
			       struct it *it)
{
	struct ivhost_iotlb_stats s0, s1, s2;
	uint64_t pg = FAR_IOVA;
	char msg[128];

	ASSERT_EQ(0, viommu_read_stats(&it->d.v, &s0));
	MSGOK(it_send(it, VHOST_IOTLB_UPDATE, pg, IT_PAGE,
		      (uintptr_t)it->d.v.mem, VHOST_ACCESS_RO));
	ASSERT_EQ(0, viommu_read_stats(&it->d.v, &s1));
	EXPECT_EQ(s0.updates + 1, s1.updates)
		TH_LOG("UPDATE not applied: kept for a batch the VMM cannot end");
	EXPECT_EQ(s0.entries + 1, s1.entries);
	MSGOK(it_unmap(it, pg, IT_PAGE));
	ASSERT_EQ(0, viommu_read_stats(&it->d.v, &s2));
	EXPECT_EQ(s1.invalidations + 1, s2.invalidations)
		TH_LOG("INVALIDATE not applied");
	EXPECT_EQ(-EINVAL, it_send(it, VHOST_IOTLB_BATCH_END, 0, 0, 0, 0));
	/* And traffic flows with every translation in place, no server. */
	MSGOK(it_map_all(it));
	ASSERT_EQ(0, it_attach(it, VMM_TX));
	ASSERT_EQ(0, it_tx_run(it, 0, 2, 0, msg, sizeof(msg)))
		TH_LOG("%s", msg);
}

/*
 * BATCH_BEGIN written while the VMM drops IOTLB_BATCH: the write looked
 * at the features before SET_BACKEND_FEATURES and applies after it.
 */
TEST_F_TIMEOUT(iotlb, ivhost_only_batch_begin_racing_feature_drop, 60)
{
	uint64_t bf = 1ULL << VHOST_BACKEND_F_IOTLB_MSG_V2 |
		      1ULL << VHOST_BACKEND_F_IOTLB_BATCH;
	struct it *it = &self->it;
	uint8_t m[IT_MSG_SIZE];
	struct stall st = { .uffd = -1 };

	IVHOST_ONLY();
	ASSERT_EQ(0, vmm_ioctl(&it->d.v, VHOST_SET_BACKEND_FEATURES, &bf));
	STALL_BATCH_BEGIN(&st, it);
	ASSERT_EQ(0, it_set_v2(it, 1));		/* IOTLB_BATCH dropped */
	it_fill(m, it->v2, VHOST_IOTLB_BATCH_BEGIN, 0, 0, 0, 0);
	ASSERT_EQ(0, stall_finish(&st, m));
	TH_LOG("the stalled BATCH_BEGIN returned %zd (%s)", st.ret,
	       st.ret < 0 ? strerror(st.err) : "ok");
	stall_cleanup(&st);
	check_not_batching(_metadata, it);
}

/*
 * BATCH_BEGIN written while the VMM resets the device and sets it up
 * again without IOTLB_BATCH: the write applies after all of it.
 */
TEST_F_TIMEOUT(iotlb, ivhost_only_batch_begin_racing_reset_owner, 60)
{
	uint64_t bf = 1ULL << VHOST_BACKEND_F_IOTLB_MSG_V2 |
		      1ULL << VHOST_BACKEND_F_IOTLB_BATCH;
	struct it *it = &self->it;
	uint8_t m[IT_MSG_SIZE];
	struct stall st = { .uffd = -1 };
	int i;

	IVHOST_ONLY();
	ASSERT_EQ(0, vmm_ioctl(&it->d.v, VHOST_SET_BACKEND_FEATURES, &bf));
	STALL_BATCH_BEGIN(&st, it);
	ASSERT_EQ(0, vmm_ioctl(&it->d.v, VHOST_RESET_OWNER, NULL));
	ASSERT_EQ(0, vmm_reown(&it->d.v));
	ASSERT_EQ(0, it_set_v2(it, 1));
	for (i = 0; i < VMM_NVQS; i++)
		ASSERT_EQ(0, it_set_addr(it, i));
	it_fill(m, it->v2, VHOST_IOTLB_BATCH_BEGIN, 0, 0, 0, 0);
	ASSERT_EQ(0, stall_finish(&st, m));
	TH_LOG("the stalled BATCH_BEGIN returned %zd (%s)", st.ret,
	       st.ret < 0 ? strerror(st.err) : "ok");
	stall_cleanup(&st);
	check_not_batching(_metadata, it);
}

/* ---- 11: ring indexes out of range with the IOTLB on ---- */

static void ring_bounds(struct __test_metadata *_metadata, struct it *it,
			int jump)
{
	struct vmm *v = &it->d.v;
	struct vmm_vq *q = &v->vq[VMM_TX];
	uint16_t pos;
	unsigned int base;
	char msg[128];
	int h;

	tx_warm_up(_metadata, it);
	EXPECT_EQ(0, vmm_poll_fd(q->err_fd));
	pos = q->avail_idx;

	h = vmm_desc_alloc(q, 1);
	ASSERT_LE(0, h);
	put_repaired(it, q, h);
	if (jump) {
		q->avail->ring[pos % q->num] = h;
		__atomic_store_n(&q->avail->idx, pos + q->num + 1,
				 __ATOMIC_RELEASE);
		q->avail_idx = pos + 1;
	} else {
		vmm_publish(q, q->num + h);
	}
	ASSERT_EQ(0, vmm_kick(q));
	EXPECT_EQ(1, vmm_wait_fd(q->err_fd, WAIT_MS))
		TH_LOG("err eventfd not signalled");
	EXPECT_EQ(pos, vmm_used_idx(q));

	/* Repair the ring and restart the queue: the frame goes out. */
	ASSERT_EQ(0, vmm_set_backend(v, VMM_TX, -1));
	ASSERT_EQ(0, vmm_vq_get_base(v, VMM_TX, &base));
	EXPECT_EQ(pos, base);
	q->avail->ring[pos % q->num] = h;
	__atomic_store_n(&q->avail->idx, q->avail_idx, __ATOMIC_RELEASE);
	ASSERT_EQ(0, vmm_vq_set_base(v, VMM_TX, pos));
	ASSERT_EQ(0, it_attach(it, VMM_TX));
	while (vmm_poll_fd(q->err_fd))
		;
	ASSERT_EQ(0, vmm_kick(q));
	ASSERT_EQ(0, it_expect_tx(it, REPAIRED_SEQ, 0, WAIT_MS, msg,
				  sizeof(msg)))
		TH_LOG("%s", msg);
	ASSERT_EQ(0, it_tx_run(it, 2, 4, 0, msg, sizeof(msg)))
		TH_LOG("%s", msg);
	EXPECT_EQ(0, vmm_poll_fd(q->err_fd));
}

TEST_F_TIMEOUT(iotlb, ring_head_out_of_range, 60)
{
	SPLIT_ONLY("split ring state");
	ring_bounds(_metadata, &self->it, 0);
}

TEST_F_TIMEOUT(iotlb, ring_avail_jump, 60)
{
	SPLIT_ONLY("split ring state");
	ring_bounds(_metadata, &self->it, 1);
}

TEST_HARNESS_MAIN
