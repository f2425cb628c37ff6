// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests of a device's IOTLB (devtlb.c, devtlb_msg.c): messages
 * written and read through kvec iov_iters, translations, misses and the
 * callbacks a device gets, which a fake device below records.
 */
#include <kunit/test.h>
#include <linux/delay.h>
#include <linux/bits.h>
#include <linux/slab.h>
#include <linux/uio.h>

#include "../devtlb.h"

/* A userspace address access_ok() accepts, under UML as on x86-64. */
#define UA		0x10000000ULL
/* Not a user address: above TASK_SIZE, and non-canonical on x86-64. */
#define KA		0x8000000000000000ULL
#define FEAT_BATCH	BIT_ULL(VHOST_BACKEND_F_IOTLB_BATCH)
#define MSG_SIZE	sizeof(struct vhost_msg)
#define MSG_V2_SIZE	sizeof(struct vhost_msg_v2)

/**
 * struct fake_dev - a device that records its IOTLB's callbacks
 * @tlb: the IOTLB under test
 * @wakes: calls of ->wake
 * @woken: every vq ->wake was given
 * @last_wake: the vqs of the latest ->wake
 * @syncs: calls of ->sync
 * @held: a translation a vq keeps, dropped by ->sync as a vq drops it
 */
struct fake_dev {
	struct ivhost_devtlb tlb;
	unsigned int wakes;
	unsigned long woken;
	unsigned long last_wake;
	unsigned int syncs;
	struct ivhost_devtlb_span held;
};

static struct fake_dev *to_fake(struct ivhost_devtlb *tlb)
{
	return container_of(tlb, struct fake_dev, tlb);
}

static void fake_wake(struct ivhost_devtlb *tlb, unsigned long vqs)
{
	struct fake_dev *d = to_fake(tlb);

	d->wakes++;
	d->woken |= vqs;
	d->last_wake = vqs;
}

/* What a vq does at the barrier: drop its copy if the range meets it. */
static void fake_sync(struct ivhost_devtlb *tlb, u64 start, u64 last)
{
	struct fake_dev *d = to_fake(tlb);

	d->syncs++;
	if (d->held.perm && d->held.start <= last && d->held.last >= start)
		d->held.perm = 0;
}

static const struct ivhost_devtlb_ops fake_ops = {
	.wake = fake_wake,
	.sync = fake_sync,
};

static int devtlb_test_init(struct kunit *test)
{
	struct fake_dev *d = kzalloc(sizeof(*d), GFP_KERNEL);

	if (!d)
		return -ENOMEM;
	ivhost_devtlb_init(&d->tlb, 64, &fake_ops);
	test->priv = d;
	return 0;
}

static void devtlb_test_exit(struct kunit *test)
{
	struct fake_dev *d = test->priv;

	ivhost_devtlb_reset(&d->tlb);
	kfree(d);
}

/* Messages in both layouts. */
union any_msg {
	struct vhost_msg v1;
	struct vhost_msg_v2 v2;
	u8 bytes[128];
};

static void make_msg(union any_msg *u, bool v2, u8 type, u64 iova,
		     u64 size, u64 uaddr, u8 perm)
{
	struct vhost_iotlb_msg *m = v2 ? &u->v2.iotlb : &u->v1.iotlb;

	memset(u, 0, sizeof(*u));
	if (v2)
		u->v2.type = VHOST_IOTLB_MSG_V2;
	else
		u->v1.type = VHOST_IOTLB_MSG;
	m->type = type;
	m->iova = iova;
	m->size = size;
	m->uaddr = uaddr;
	m->perm = perm;
}

static ssize_t write_kvecs(struct fake_dev *d, struct kvec *kv,
			   unsigned int nr, u64 features)
{
	unsigned long wake = 0;
	struct iov_iter it;
	size_t len = 0;
	unsigned int i;
	ssize_t ret;

	for (i = 0; i < nr; i++)
		len += kv[i].iov_len;
	iov_iter_kvec(&it, ITER_SOURCE, kv, nr, len);
	ret = ivhost_devtlb_write(&d->tlb, &it, features, &wake);
	/* The device wakes what write() hands back: count it as a wake. */
	if (wake)
		fake_wake(&d->tlb, wake);
	return ret;
}

static ssize_t write_buf(struct fake_dev *d, const void *buf, size_t len,
			 u64 features)
{
	struct kvec kv = { .iov_base = (void *)buf, .iov_len = len };

	return write_kvecs(d, &kv, 1, features);
}

static ssize_t feed(struct fake_dev *d, bool v2, u8 type, u64 iova,
		    u64 size, u64 uaddr, u8 perm, u64 features)
{
	union any_msg u;

	make_msg(&u, v2, type, iova, size, uaddr, perm);
	return write_buf(d, &u, v2 ? MSG_V2_SIZE : MSG_SIZE, features);
}

/* Valid changes as v2 messages, which must be taken whole. */
#define UPDATE(test, d, iova, size, uaddr, perm)			\
	KUNIT_ASSERT_EQ(test, feed(d, true, VHOST_IOTLB_UPDATE, iova,	\
				   size, uaddr, perm, FEAT_BATCH),	\
			(ssize_t)MSG_V2_SIZE)
#define INVALIDATE(test, d, iova, size)					\
	KUNIT_ASSERT_EQ(test, feed(d, true, VHOST_IOTLB_INVALIDATE,	\
				   iova, size, 0, 0, FEAT_BATCH),	\
			(ssize_t)MSG_V2_SIZE)

static ssize_t read_kvecs(struct fake_dev *d, struct kvec *kv,
			  unsigned int nr, bool v2)
{
	unsigned long wake = 0;
	struct iov_iter it;
	size_t len = 0;
	unsigned int i;
	ssize_t ret;

	for (i = 0; i < nr; i++)
		len += kv[i].iov_len;
	iov_iter_kvec(&it, ITER_DEST, kv, nr, len);
	ret = ivhost_devtlb_read(&d->tlb, &it, true, v2, &wake);
	if (wake)
		fake_wake(&d->tlb, wake);
	return ret;
}

static ssize_t read_buf(struct fake_dev *d, void *buf, size_t len, bool v2)
{
	struct kvec kv = { .iov_base = buf, .iov_len = len };

	return read_kvecs(d, &kv, 1, v2);
}

/*
 * Check what a read put in @buf: the message, with every byte but the
 * type, iova and perm zero, and nothing written past it.
 */
static void check_read(struct kunit *test, const union any_msg *got,
		       ssize_t ret, bool v2, u8 type, u64 iova, u8 perm)
{
	size_t size = v2 ? MSG_V2_SIZE : MSG_SIZE;
	struct vhost_iotlb_msg *m;
	union any_msg want;
	size_t i;

	KUNIT_ASSERT_EQ(test, ret, (ssize_t)size);
	memset(&want, 0, sizeof(want));
	if (v2) {
		want.v2.type = VHOST_IOTLB_MSG_V2;
		m = &want.v2.iotlb;
	} else {
		want.v1.type = VHOST_IOTLB_MSG;
		m = &want.v1.iotlb;
	}
	m->type = type;
	m->iova = iova;
	m->perm = perm;
	for (i = 0; i < size; i++)
		KUNIT_EXPECT_EQ_MSG(test, got->bytes[i], want.bytes[i],
				    "byte %zu", i);
	for (; i < sizeof(got->bytes); i++)
		KUNIT_EXPECT_EQ_MSG(test, got->bytes[i], 0xff, "byte %zu", i);
}

static void expect_msg(struct kunit *test, struct fake_dev *d, bool v2,
		       u8 type, u64 iova, u8 perm)
{
	union any_msg buf;
	ssize_t ret;

	memset(&buf, 0xff, sizeof(buf));
	ret = read_buf(d, &buf, sizeof(buf), v2);
	check_read(test, &buf, ret, v2, type, iova, perm);
}

static int xlate(struct fake_dev *d, unsigned int vq, u64 iova, u64 len,
		 u8 perm, struct iovec *iov, unsigned int max)
{
	return ivhost_devtlb_translate(&d->tlb, vq, iova, len, perm, iov,
				       max, NULL);
}

/* Expect [iova, iova + len) to translate to one segment at @uaddr. */
#define EXPECT_MAPS(test, d, iova, len, perm, uaddr) do {		\
	struct kunit *__t = (test);					\
	u64 __len = (len);						\
	struct iovec __iov[4];						\
									\
	KUNIT_ASSERT_EQ(__t, xlate(d, 0, iova, __len, perm, __iov, 4), 1); \
	KUNIT_EXPECT_EQ(__t, (u64)(uintptr_t)__iov[0].iov_base,	\
			(u64)(uaddr));					\
	KUNIT_EXPECT_EQ(__t, (u64)__iov[0].iov_len, __len);		\
} while (0)

static struct ivhost_iotlb_stats stats(struct fake_dev *d)
{
	struct ivhost_iotlb_stats st;

	ivhost_devtlb_get_stats(&d->tlb, &st);
	return st;
}

/* Nothing applied, nothing called back. */
static void expect_untouched(struct kunit *test, struct fake_dev *d)
{
	struct ivhost_iotlb_stats st = stats(d);

	KUNIT_EXPECT_EQ(test, st.entries, 0ULL);
	KUNIT_EXPECT_EQ(test, st.updates, 0ULL);
	KUNIT_EXPECT_EQ(test, st.invalidations, 0ULL);
	KUNIT_EXPECT_EQ(test, d->syncs, 0U);
	KUNIT_EXPECT_EQ(test, d->wakes, 0U);
}

static void write_update_v1(struct kunit *test)
{
	struct fake_dev *d = test->priv;

	KUNIT_EXPECT_EQ(test, feed(d, false, VHOST_IOTLB_UPDATE, 0x1000,
				   0x1000, UA, IVHOST_PERM_RO, 0),
			(ssize_t)MSG_SIZE);
	EXPECT_MAPS(test, d, 0x1800, 0x10, IVHOST_PERM_RO, UA + 0x800);
	KUNIT_EXPECT_EQ(test, stats(d).updates, 1ULL);
	KUNIT_EXPECT_EQ(test, stats(d).entries, 1ULL);
	/* Nothing replaced, nobody waiting. */
	KUNIT_EXPECT_EQ(test, d->syncs, 0U);
	KUNIT_EXPECT_EQ(test, d->wakes, 0U);
}

static void write_update_v2(struct kunit *test)
{
	struct fake_dev *d = test->priv;

	KUNIT_EXPECT_EQ(test, feed(d, true, VHOST_IOTLB_UPDATE, 0x1000,
				   0x1000, UA, IVHOST_PERM_RW, 0),
			(ssize_t)MSG_V2_SIZE);
	EXPECT_MAPS(test, d, 0x1000, 0x1000, IVHOST_PERM_WO, UA);
	KUNIT_EXPECT_EQ(test, stats(d).updates, 1ULL);
	KUNIT_EXPECT_EQ(test, d->syncs, 0U);

	/* Replacing it is a change the vqs must see: sync. */
	KUNIT_EXPECT_EQ(test, feed(d, true, VHOST_IOTLB_UPDATE, 0x1000,
				   0x1000, UA + 0x4000, IVHOST_PERM_RO, 0),
			(ssize_t)MSG_V2_SIZE);
	KUNIT_EXPECT_EQ(test, d->syncs, 1U);
	EXPECT_MAPS(test, d, 0x1000, 0x1000, IVHOST_PERM_RO, UA + 0x4000);
}

static void write_short(struct kunit *test)
{
	static const size_t lens[] = { 0, 1, 3, 4, 8, 40, MSG_SIZE - 1 };
	struct fake_dev *d = test->priv;
	unsigned int i, v2;
	union any_msg u;

	for (v2 = 0; v2 < 2; v2++) {
		make_msg(&u, v2, VHOST_IOTLB_UPDATE, 0x1000, 0x1000, UA,
			 IVHOST_PERM_RW);
		for (i = 0; i < ARRAY_SIZE(lens); i++)
			KUNIT_EXPECT_EQ_MSG(test, write_buf(d, &u, lens[i], 0),
					    (ssize_t)-EINVAL, "v2 %u len %zu",
					    v2, lens[i]);
	}
	expect_untouched(test, d);
}

static void write_unknown_type(struct kunit *test)
{
	static const u32 outer[] = { 0, 3, 0xffff, 0xffffffff };
	static const u8 inner[] = { 0, VHOST_IOTLB_MISS,
				    VHOST_IOTLB_ACCESS_FAIL, 7, 0xff };
	struct fake_dev *d = test->priv;
	union any_msg u;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(outer); i++) {
		make_msg(&u, true, VHOST_IOTLB_UPDATE, 0x1000, 0x1000, UA,
			 IVHOST_PERM_RW);
		u.v2.type = outer[i];
		KUNIT_EXPECT_EQ_MSG(test, write_buf(d, &u, MSG_V2_SIZE,
						    FEAT_BATCH),
				    (ssize_t)-EINVAL, "type %u", outer[i]);
	}
	for (i = 0; i < ARRAY_SIZE(inner); i++) {
		KUNIT_EXPECT_EQ_MSG(test, feed(d, false, inner[i], 0x1000,
					       0x1000, UA, IVHOST_PERM_RW,
					       FEAT_BATCH),
				    (ssize_t)-EINVAL, "type %u", inner[i]);
		KUNIT_EXPECT_EQ_MSG(test, feed(d, true, inner[i], 0x1000,
					       0x1000, UA, IVHOST_PERM_RW,
					       FEAT_BATCH),
				    (ssize_t)-EINVAL, "type %u", inner[i]);
	}
	/* Address spaces other than 0 are not ours. */
	make_msg(&u, true, VHOST_IOTLB_UPDATE, 0x1000, 0x1000, UA,
		 IVHOST_PERM_RW);
	u.v2.asid = 1;
	KUNIT_EXPECT_EQ(test, write_buf(d, &u, MSG_V2_SIZE, 0),
			(ssize_t)-EINVAL);
	expect_untouched(test, d);
	KUNIT_EXPECT_EQ(test, stats(d).msgs_queued, 0ULL);
}

static void write_malformed(struct kunit *test)
{
	static const u8 perms[] = { 0, 4, 5, 7, 0x80, 0xff };
	struct fake_dev *d = test->priv;
	unsigned int i, v2;

	for (v2 = 0; v2 < 2; v2++) {
		for (i = 0; i < ARRAY_SIZE(perms); i++)
			KUNIT_EXPECT_EQ_MSG(test,
					    feed(d, v2, VHOST_IOTLB_UPDATE,
						 0x1000, 0x1000, UA, perms[i],
						 0),
					    (ssize_t)-EINVAL, "perm %u",
					    perms[i]);
		/* Empty. */
		KUNIT_EXPECT_EQ(test, feed(d, v2, VHOST_IOTLB_UPDATE, 0x1000,
					   0, UA, IVHOST_PERM_RW, 0),
				(ssize_t)-EINVAL);
		KUNIT_EXPECT_EQ(test, feed(d, v2, VHOST_IOTLB_INVALIDATE,
					   0x1000, 0, 0, 0, 0),
				(ssize_t)-EINVAL);
		/* IOVA ranges wrapping past 2^64. */
		KUNIT_EXPECT_EQ(test, feed(d, v2, VHOST_IOTLB_UPDATE,
					   U64_MAX - 0xfff, 0x1001, UA,
					   IVHOST_PERM_RW, 0),
				(ssize_t)-EINVAL);
		KUNIT_EXPECT_EQ(test, feed(d, v2, VHOST_IOTLB_INVALIDATE,
					   U64_MAX, 2, 0, 0, 0),
				(ssize_t)-EINVAL);
		KUNIT_EXPECT_EQ(test, feed(d, v2, VHOST_IOTLB_INVALIDATE, 2,
					   U64_MAX, 0, 0, 0),
				(ssize_t)-EINVAL);
		/* A userspace range wrapping past 2^64. */
		KUNIT_EXPECT_EQ(test, feed(d, v2, VHOST_IOTLB_UPDATE, 0x1000,
					   0x2000, U64_MAX - 0xfff,
					   IVHOST_PERM_RW, 0),
				(ssize_t)-EINVAL);
		/* Memory outside the user address space. */
		KUNIT_EXPECT_EQ(test, feed(d, v2, VHOST_IOTLB_UPDATE, 0x1000,
					   0x1000, KA, IVHOST_PERM_RW, 0),
				(ssize_t)-EFAULT);
	}
	expect_untouched(test, d);
}

/* A message split anywhere across kvecs is read exactly. */
static void write_split_kvecs(struct kunit *test)
{
	struct fake_dev *d = test->priv;
	u64 iova, updates = 0;
	struct kvec kv[5];
	union any_msg u;
	size_t cut, off;

	for (cut = 1; cut < MSG_V2_SIZE; cut++) {
		iova = 0x100000 + cut * 0x1000;
		make_msg(&u, true, VHOST_IOTLB_UPDATE, iova, 0x1000,
			 UA + cut * 0x10000, IVHOST_PERM_RO);
		kv[0] = (struct kvec){ .iov_base = u.bytes, .iov_len = cut };
		kv[1] = (struct kvec){ .iov_base = u.bytes + cut,
				       .iov_len = MSG_V2_SIZE - cut };
		KUNIT_EXPECT_EQ_MSG(test, write_kvecs(d, kv, 2, 0),
				    (ssize_t)MSG_V2_SIZE, "cut %zu", cut);
		updates++;
		EXPECT_MAPS(test, d, iova + 0x123, 0x10, IVHOST_PERM_RO,
			    UA + cut * 0x10000 + 0x123);
	}

	/* Five pieces, one of them empty, of a v1 message. */
	make_msg(&u, false, VHOST_IOTLB_UPDATE, 0x900000, 0x3000, UA,
		 IVHOST_PERM_WO);
	off = 0;
	kv[0] = (struct kvec){ .iov_base = u.bytes, .iov_len = 1 };
	off += 1;
	kv[1] = (struct kvec){ .iov_base = u.bytes + off, .iov_len = 0 };
	kv[2] = (struct kvec){ .iov_base = u.bytes + off, .iov_len = 13 };
	off += 13;
	kv[3] = (struct kvec){ .iov_base = u.bytes + off, .iov_len = 29 };
	off += 29;
	kv[4] = (struct kvec){ .iov_base = u.bytes + off,
			       .iov_len = MSG_SIZE - off };
	KUNIT_EXPECT_EQ(test, write_kvecs(d, kv, 5, 0), (ssize_t)MSG_SIZE);
	updates++;
	EXPECT_MAPS(test, d, 0x902fff, 1, IVHOST_PERM_WO, UA + 0x2fff);

	/* Bytes past the message are left alone, not taken. */
	make_msg(&u, true, VHOST_IOTLB_INVALIDATE, 0x900000, 0x1000, 0, 0);
	kv[0] = (struct kvec){ .iov_base = u.bytes, .iov_len = 50 };
	kv[1] = (struct kvec){ .iov_base = u.bytes + 50,
			       .iov_len = sizeof(u) - 50 };
	KUNIT_EXPECT_EQ(test, write_kvecs(d, kv, 2, 0), (ssize_t)MSG_V2_SIZE);
	EXPECT_MAPS(test, d, 0x901000, 0x2000, IVHOST_PERM_WO, UA + 0x1000);
	KUNIT_EXPECT_EQ(test, stats(d).updates, updates);
	KUNIT_EXPECT_EQ(test, stats(d).invalidations, 1ULL);
}

static void miss_read_zeroed(struct kunit *test, bool v2)
{
	struct fake_dev *d = test->priv;
	union any_msg buf;
	struct iovec iov;

	KUNIT_EXPECT_EQ(test, xlate(d, 1, 0xabcd123, 4, IVHOST_PERM_WO, &iov,
				    1), -EAGAIN);
	KUNIT_EXPECT_EQ(test, stats(d).misses, 1ULL);
	KUNIT_EXPECT_EQ(test, stats(d).miss_msgs, 1ULL);
	KUNIT_EXPECT_EQ(test, stats(d).msgs_queued, 1ULL);
	expect_msg(test, d, v2, VHOST_IOTLB_MISS, 0xabcd123, IVHOST_PERM_WO);
	KUNIT_EXPECT_EQ(test, stats(d).msgs_queued, 0ULL);
	KUNIT_EXPECT_EQ(test, read_buf(d, &buf, sizeof(buf), v2),
			(ssize_t)-EAGAIN);
}

static void miss_read_v1(struct kunit *test)
{
	miss_read_zeroed(test, false);
}

static void miss_read_v2(struct kunit *test)
{
	miss_read_zeroed(test, true);
}

/* A read into a buffer scattered over kvecs. */
static void miss_read_split(struct kunit *test)
{
	struct fake_dev *d = test->priv;
	union any_msg buf;
	struct kvec kv[3];
	struct iovec iov;

	KUNIT_EXPECT_EQ(test, xlate(d, 0, U64_MAX, 1, IVHOST_PERM_RO, &iov,
				    1), -EAGAIN);
	memset(&buf, 0xff, sizeof(buf));
	kv[0] = (struct kvec){ .iov_base = buf.bytes, .iov_len = 9 };
	kv[1] = (struct kvec){ .iov_base = buf.bytes + 9, .iov_len = 31 };
	kv[2] = (struct kvec){ .iov_base = buf.bytes + 40,
			       .iov_len = sizeof(buf) - 40 };
	check_read(test, &buf, read_kvecs(d, kv, 3, true), true,
		   VHOST_IOTLB_MISS, U64_MAX, IVHOST_PERM_RO);
}

static void read_errors(struct kunit *test)
{
	struct fake_dev *d = test->priv;
	union any_msg buf;
	struct iovec iov;

	/* Nothing queued, nonblocking. */
	KUNIT_EXPECT_EQ(test, read_buf(d, &buf, sizeof(buf), false),
			(ssize_t)-EAGAIN);
	KUNIT_EXPECT_EQ(test, read_buf(d, &buf, sizeof(buf), true),
			(ssize_t)-EAGAIN);

	/* Too small for a message: refused, and the message stays. */
	KUNIT_EXPECT_EQ(test, xlate(d, 0, 0x5000, 1, IVHOST_PERM_RO, &iov, 1),
			-EAGAIN);
	KUNIT_EXPECT_EQ(test, read_buf(d, &buf, MSG_V2_SIZE - 1, true),
			(ssize_t)-EINVAL);
	KUNIT_EXPECT_EQ(test, read_buf(d, &buf, 0, false), (ssize_t)-EINVAL);
	KUNIT_EXPECT_EQ(test, stats(d).msgs_queued, 1ULL);
	expect_msg(test, d, false, VHOST_IOTLB_MISS, 0x5000, IVHOST_PERM_RO);
}

static void poll_mask(struct kunit *test)
{
	struct fake_dev *d = test->priv;
	struct iovec iov;
	__poll_t mask;

	mask = ivhost_devtlb_poll(&d->tlb, NULL, NULL);
	KUNIT_EXPECT_EQ(test, mask, EPOLLOUT | EPOLLWRNORM);
	KUNIT_EXPECT_EQ(test, xlate(d, 0, 0x5000, 1, IVHOST_PERM_RO, &iov, 1),
			-EAGAIN);
	mask = ivhost_devtlb_poll(&d->tlb, NULL, NULL);
	KUNIT_EXPECT_EQ(test, mask,
			EPOLLOUT | EPOLLWRNORM | EPOLLIN | EPOLLRDNORM);
}

static void miss_dedup(struct kunit *test)
{
	struct fake_dev *d = test->priv;
	struct ivhost_iotlb_stats st;
	struct iovec iov;
	u64 rtts = 0;
	unsigned int i;

	/* Same page, same access: one message for both vqs. */
	KUNIT_EXPECT_EQ(test, xlate(d, 0, 0x5000, 8, IVHOST_PERM_RO, &iov, 1),
			-EAGAIN);
	KUNIT_EXPECT_EQ(test, xlate(d, 1, 0x5ff0, 8, IVHOST_PERM_RO, &iov, 1),
			-EAGAIN);
	KUNIT_EXPECT_EQ(test, xlate(d, 0, 0x5000, 8, IVHOST_PERM_RO, &iov, 1),
			-EAGAIN);
	/* Another access, or another page: messages of their own. */
	KUNIT_EXPECT_EQ(test, xlate(d, 2, 0x5000, 8, IVHOST_PERM_WO, &iov, 1),
			-EAGAIN);
	KUNIT_EXPECT_EQ(test, xlate(d, 3, 0x6000, 8, IVHOST_PERM_RO, &iov, 1),
			-EAGAIN);
	st = stats(d);
	KUNIT_EXPECT_EQ(test, st.misses, 5ULL);
	KUNIT_EXPECT_EQ(test, st.misses_deduped, 2ULL);
	KUNIT_EXPECT_EQ(test, st.miss_msgs, 3ULL);
	KUNIT_EXPECT_EQ(test, st.msgs_queued, 3ULL);
	expect_msg(test, d, true, VHOST_IOTLB_MISS, 0x5000, IVHOST_PERM_RO);
	expect_msg(test, d, true, VHOST_IOTLB_MISS, 0x5000, IVHOST_PERM_WO);
	expect_msg(test, d, true, VHOST_IOTLB_MISS, 0x6000, IVHOST_PERM_RO);

	/* Still outstanding after being read: no new message. */
	KUNIT_EXPECT_EQ(test, xlate(d, 4, 0x5800, 8, IVHOST_PERM_RO, &iov, 1),
			-EAGAIN);
	KUNIT_EXPECT_EQ(test, stats(d).msgs_queued, 0ULL);

	/* One answer wakes every vq waiting on that page, at once. */
	UPDATE(test, d, 0x5000, 0x1000, UA, IVHOST_PERM_RW);
	KUNIT_EXPECT_EQ(test, d->wakes, 1U);
	KUNIT_EXPECT_EQ(test, d->last_wake,
			BIT(0) | BIT(1) | BIT(2) | BIT(4));
	/* Two misses answered (read and write), two round trips. */
	st = stats(d);
	for (i = 0; i < IVHOST_RTT_BUCKETS; i++)
		rtts += st.rtt_us[i];
	KUNIT_EXPECT_EQ(test, rtts, 2ULL);

	/* Answered: the next miss there is news again. */
	INVALIDATE(test, d, 0x5000, 0x1000);
	KUNIT_EXPECT_EQ(test, xlate(d, 0, 0x5000, 8, IVHOST_PERM_RO, &iov, 1),
			-EAGAIN);
	KUNIT_EXPECT_EQ(test, stats(d).msgs_queued, 1ULL);
}

/* The queue holds IVHOST_DEVTLB_MAX_MSGS; a read lets a dropped miss retry. */
static void queue_bounded(struct kunit *test)
{
	struct fake_dev *d = test->priv;
	union any_msg buf;
	struct iovec iov;
	u64 i;

	for (i = 0; i < IVHOST_DEVTLB_MAX_MSGS; i++)
		KUNIT_ASSERT_EQ(test, xlate(d, 0, i << 12, 1, IVHOST_PERM_RO,
					    &iov, 1), -EAGAIN);
	KUNIT_EXPECT_EQ(test, stats(d).msgs_queued,
			(u64)IVHOST_DEVTLB_MAX_MSGS);
	KUNIT_EXPECT_EQ(test, stats(d).msgs_dropped, 0ULL);

	KUNIT_EXPECT_EQ(test, xlate(d, 3, 0x10000000, 1, IVHOST_PERM_RO,
				    &iov, 1), -EAGAIN);
	KUNIT_EXPECT_EQ(test, xlate(d, 5, 0x20000000, 1, IVHOST_PERM_RO,
				    &iov, 1), -EAGAIN);
	KUNIT_EXPECT_EQ(test, stats(d).msgs_queued,
			(u64)IVHOST_DEVTLB_MAX_MSGS);
	KUNIT_EXPECT_EQ(test, stats(d).msgs_dropped, 2ULL);
	KUNIT_EXPECT_EQ(test, stats(d).miss_msgs,
			(u64)IVHOST_DEVTLB_MAX_MSGS);
	KUNIT_EXPECT_EQ(test, d->wakes, 0U);

	/* Room again: exactly the vqs whose misses were dropped retry. */
	memset(&buf, 0xff, sizeof(buf));
	check_read(test, &buf, read_buf(d, &buf, sizeof(buf), true), true,
		   VHOST_IOTLB_MISS, 0, IVHOST_PERM_RO);
	KUNIT_EXPECT_EQ(test, d->wakes, 1U);
	KUNIT_EXPECT_EQ(test, d->last_wake, BIT(3) | BIT(5));
	/* Once. */
	expect_msg(test, d, true, VHOST_IOTLB_MISS, 0x1000, IVHOST_PERM_RO);
	KUNIT_EXPECT_EQ(test, d->wakes, 1U);

	/* The retried miss is queued now. */
	KUNIT_EXPECT_EQ(test, xlate(d, 3, 0x10000000, 1, IVHOST_PERM_RO,
				    &iov, 1), -EAGAIN);
	KUNIT_EXPECT_EQ(test, stats(d).msgs_queued,
			(u64)IVHOST_DEVTLB_MAX_MSGS - 1);
	/* And the misses still unanswered were not forgotten. */
	UPDATE(test, d, 0x2000, 0x1000, UA, IVHOST_PERM_RO);
	KUNIT_EXPECT_EQ(test, d->wakes, 2U);
	KUNIT_EXPECT_EQ(test, d->last_wake, BIT(0));
}

static void update_wakes_on_last_byte(struct kunit *test)
{
	struct fake_dev *d = test->priv;
	struct iovec iov;

	KUNIT_EXPECT_EQ(test, xlate(d, 2, 0x12345fff, 1, IVHOST_PERM_RO, &iov,
				    1), -EAGAIN);
	/* Ends just before the missing page: no answer. */
	UPDATE(test, d, 0x12340000, 0x5000, UA, IVHOST_PERM_RO);
	KUNIT_EXPECT_EQ(test, d->wakes, 0U);
	/* Its last byte is the missing one. */
	UPDATE(test, d, 0x12345000, 0x1000, UA + 0x5000, IVHOST_PERM_RO);
	KUNIT_EXPECT_EQ(test, d->wakes, 1U);
	KUNIT_EXPECT_EQ(test, d->last_wake, BIT(2));
	EXPECT_MAPS(test, d, 0x12345fff, 1, IVHOST_PERM_RO, UA + 0x5fff);

	/* A one-page range ending on the miss, mid-page. */
	KUNIT_EXPECT_EQ(test, xlate(d, 5, 0x7fff, 1, IVHOST_PERM_WO, &iov, 1),
			-EAGAIN);
	UPDATE(test, d, 0x7ff0, 0x10, UA, IVHOST_PERM_RW);
	KUNIT_EXPECT_EQ(test, d->wakes, 2U);
	KUNIT_EXPECT_EQ(test, d->last_wake, BIT(5));

	/* The top of the IOVA space. */
	KUNIT_EXPECT_EQ(test, xlate(d, 1, U64_MAX, 1, IVHOST_PERM_RO, &iov,
				    1), -EAGAIN);
	UPDATE(test, d, U64_MAX - 0xffff, 0x10000, UA, IVHOST_PERM_RO);
	KUNIT_EXPECT_EQ(test, d->wakes, 3U);
	KUNIT_EXPECT_EQ(test, d->last_wake, BIT(1));
	EXPECT_MAPS(test, d, U64_MAX, 1, IVHOST_PERM_RO, UA + 0xffff);
	KUNIT_EXPECT_EQ(test, d->syncs, 0U);
}

static void invalidate_splits_and_syncs(struct kunit *test)
{
	struct fake_dev *d = test->priv;
	struct iovec iov[2];

	UPDATE(test, d, 0x100000, 0x10000, UA, IVHOST_PERM_RW);
	KUNIT_EXPECT_EQ(test, d->syncs, 0U);
	INVALIDATE(test, d, 0x104000, 0x1000);
	KUNIT_EXPECT_EQ(test, d->syncs, 1U);
	KUNIT_EXPECT_EQ(test, stats(d).entries, 2ULL);
	KUNIT_EXPECT_EQ(test, stats(d).invalidations, 1ULL);
	EXPECT_MAPS(test, d, 0x103ff0, 0x10, IVHOST_PERM_RO, UA + 0x3ff0);
	EXPECT_MAPS(test, d, 0x105000, 0x10, IVHOST_PERM_RO, UA + 0x5000);
	/* Across the hole: a miss at its first byte. */
	KUNIT_EXPECT_EQ(test, xlate(d, 0, 0x103ff0, 0x20, IVHOST_PERM_RO,
				    iov, 2), -EAGAIN);
	expect_msg(test, d, true, VHOST_IOTLB_MISS, 0x104000,
		   IVHOST_PERM_RO);

	/* Invalidating nothing still syncs: ring caches may hold it. */
	INVALIDATE(test, d, 0x104000, 0x1000);
	KUNIT_EXPECT_EQ(test, d->syncs, 2U);
	KUNIT_EXPECT_EQ(test, stats(d).entries, 2ULL);
}

static void invalidate_everything(struct kunit *test)
{
	struct fake_dev *d = test->priv;
	struct iovec iov;
	u64 i;

	for (i = 0; i < 8; i++)
		UPDATE(test, d, i << 32, 0x1000, UA, IVHOST_PERM_RW);
	UPDATE(test, d, U64_MAX - 0xfff, 0x1000, UA, IVHOST_PERM_RW);
	KUNIT_EXPECT_EQ(test, stats(d).entries, 9ULL);
	KUNIT_EXPECT_EQ(test, feed(d, false, VHOST_IOTLB_INVALIDATE, 0, 0, 0,
				   0, 0), (ssize_t)MSG_SIZE);
	KUNIT_EXPECT_EQ(test, stats(d).entries, 0ULL);
	KUNIT_EXPECT_EQ(test, d->syncs, 1U);
	for (i = 0; i < 8; i++)
		KUNIT_EXPECT_EQ(test, xlate(d, 0, i << 32, 1, IVHOST_PERM_RO,
					    &iov, 1), -EAGAIN);
	KUNIT_EXPECT_EQ(test, xlate(d, 0, U64_MAX, 1, IVHOST_PERM_RO, &iov,
				    1), -EAGAIN);
}

static void batch_applied_at_end(struct kunit *test)
{
	struct fake_dev *d = test->priv;
	struct iovec iov;

	UPDATE(test, d, 0x20000, 0x1000, UA, IVHOST_PERM_RW);
	KUNIT_EXPECT_EQ(test, xlate(d, 1, 0x1000, 1, IVHOST_PERM_RO, &iov, 1),
			-EAGAIN);
	KUNIT_EXPECT_EQ(test, xlate(d, 4, 0x9000, 1, IVHOST_PERM_WO, &iov, 1),
			-EAGAIN);

	KUNIT_EXPECT_EQ(test, feed(d, false, VHOST_IOTLB_BATCH_BEGIN, 0, 0, 0,
				   0, FEAT_BATCH), (ssize_t)MSG_SIZE);
	UPDATE(test, d, 0x1000, 0x1000, UA + 0x1000, IVHOST_PERM_RO);
	UPDATE(test, d, 0x9000, 0x1000, UA + 0x9000, IVHOST_PERM_RW);
	INVALIDATE(test, d, 0x20000, 0x1000);
	/* A bad change in a batch is refused alone. */
	KUNIT_EXPECT_EQ(test, feed(d, true, VHOST_IOTLB_UPDATE, 0x3000,
				   0x1000, UA, 0, FEAT_BATCH),
			(ssize_t)-EINVAL);

	/* Nothing visible yet. */
	KUNIT_EXPECT_EQ(test, stats(d).entries, 1ULL);
	KUNIT_EXPECT_EQ(test, stats(d).updates, 1ULL);
	KUNIT_EXPECT_EQ(test, d->wakes, 0U);
	KUNIT_EXPECT_EQ(test, d->syncs, 0U);
	EXPECT_MAPS(test, d, 0x20000, 0x1000, IVHOST_PERM_RW, UA);

	KUNIT_EXPECT_EQ(test, feed(d, true, VHOST_IOTLB_BATCH_END, 0, 0, 0, 0,
				   FEAT_BATCH), (ssize_t)MSG_V2_SIZE);
	KUNIT_EXPECT_EQ(test, stats(d).entries, 2ULL);
	KUNIT_EXPECT_EQ(test, stats(d).updates, 3ULL);
	KUNIT_EXPECT_EQ(test, stats(d).invalidations, 1ULL);
	KUNIT_EXPECT_EQ(test, d->wakes, 1U);
	KUNIT_EXPECT_EQ(test, d->last_wake, BIT(1) | BIT(4));
	KUNIT_EXPECT_EQ(test, d->syncs, 1U);
	EXPECT_MAPS(test, d, 0x1000, 0x1000, IVHOST_PERM_RO, UA + 0x1000);
	EXPECT_MAPS(test, d, 0x9000, 0x1000, IVHOST_PERM_WO, UA + 0x9000);
	KUNIT_EXPECT_EQ(test, xlate(d, 0, 0x20000, 1, IVHOST_PERM_RO, &iov,
				    1), -EAGAIN);
	KUNIT_EXPECT_EQ(test, stats(d).entries, 2ULL);
	KUNIT_EXPECT_EQ(test, stats(d).miss_msgs, 3ULL);

	/* After the batch, changes apply at once again. */
	UPDATE(test, d, 0x40000, 0x1000, UA, IVHOST_PERM_RO);
	KUNIT_EXPECT_EQ(test, stats(d).entries, 3ULL);
}

static void batch_needs_feature(struct kunit *test)
{
	struct fake_dev *d = test->priv;

	KUNIT_EXPECT_EQ(test, feed(d, true, VHOST_IOTLB_BATCH_BEGIN, 0, 0, 0,
				   0, 0), (ssize_t)-EINVAL);
	/* Not batching: applied now. */
	KUNIT_EXPECT_EQ(test, feed(d, true, VHOST_IOTLB_UPDATE, 0x1000,
				   0x1000, UA, IVHOST_PERM_RO, 0),
			(ssize_t)MSG_V2_SIZE);
	KUNIT_EXPECT_EQ(test, stats(d).entries, 1ULL);
	KUNIT_EXPECT_EQ(test, feed(d, false, VHOST_IOTLB_BATCH_END, 0, 0, 0,
				   0, 0), (ssize_t)-EINVAL);
	KUNIT_EXPECT_EQ(test, stats(d).entries, 1ULL);
	KUNIT_EXPECT_EQ(test, stats(d).updates, 1ULL);
}

/* A batch the VMM can no longer end (feature dropped) is abandoned. */
static void batch_cancel(struct kunit *test)
{
	struct fake_dev *d = test->priv;

	KUNIT_EXPECT_EQ(test, feed(d, true, VHOST_IOTLB_BATCH_BEGIN, 0, 0, 0,
				   0, FEAT_BATCH), (ssize_t)MSG_V2_SIZE);
	UPDATE(test, d, 0x1000, 0x1000, UA, IVHOST_PERM_RO);
	KUNIT_EXPECT_EQ(test, stats(d).entries, 0ULL);
	ivhost_devtlb_batch_cancel(&d->tlb);
	KUNIT_EXPECT_EQ(test, feed(d, true, VHOST_IOTLB_BATCH_END, 0, 0, 0, 0,
				   0), (ssize_t)-EINVAL);
	KUNIT_EXPECT_EQ(test, stats(d).entries, 0ULL);
	/* Not batching any more: applied now. */
	KUNIT_EXPECT_EQ(test, feed(d, true, VHOST_IOTLB_UPDATE, 0x1000,
				   0x1000, UA, IVHOST_PERM_RO, 0),
			(ssize_t)MSG_V2_SIZE);
	KUNIT_EXPECT_EQ(test, stats(d).entries, 1ULL);
	/* Cancelling with no batch open does nothing. */
	ivhost_devtlb_batch_cancel(&d->tlb);
	KUNIT_EXPECT_EQ(test, stats(d).entries, 1ULL);
}

static void batch_limit(struct kunit *test)
{
	struct fake_dev *d = test->priv;
	u64 i;

	KUNIT_EXPECT_EQ(test, feed(d, true, VHOST_IOTLB_BATCH_BEGIN, 0, 0, 0,
				   0, FEAT_BATCH), (ssize_t)MSG_V2_SIZE);
	for (i = 0; i < IVHOST_DEVTLB_MAX_BATCH; i++)
		UPDATE(test, d, i << 12, 0x1000, UA, IVHOST_PERM_RO);
	KUNIT_EXPECT_EQ(test, feed(d, true, VHOST_IOTLB_UPDATE, i << 12,
				   0x1000, UA, IVHOST_PERM_RO, FEAT_BATCH),
			(ssize_t)-ENOSPC);
	KUNIT_EXPECT_EQ(test, stats(d).entries, 0ULL);
	KUNIT_EXPECT_EQ(test, feed(d, true, VHOST_IOTLB_BATCH_END, 0, 0, 0, 0,
				   FEAT_BATCH), (ssize_t)MSG_V2_SIZE);
	/* All applied; the cache keeps what its limit allows. */
	KUNIT_EXPECT_EQ(test, stats(d).updates, (u64)IVHOST_DEVTLB_MAX_BATCH);
	KUNIT_EXPECT_EQ(test, stats(d).entries, 64ULL);
	KUNIT_EXPECT_EQ(test, stats(d).evictions,
			(u64)IVHOST_DEVTLB_MAX_BATCH - 64);
	EXPECT_MAPS(test, d, (i - 1) << 12, 0x1000, IVHOST_PERM_RO, UA);
}

static void forget_vq_drops_its_messages(struct kunit *test)
{
	struct fake_dev *d = test->priv;
	struct iovec iov;

	KUNIT_EXPECT_EQ(test, xlate(d, 1, 0x1000, 1, IVHOST_PERM_RO, &iov, 1),
			-EAGAIN);
	KUNIT_EXPECT_EQ(test, xlate(d, 2, 0x2000, 1, IVHOST_PERM_RO, &iov, 1),
			-EAGAIN);
	KUNIT_EXPECT_EQ(test, xlate(d, 1, 0x3000, 1, IVHOST_PERM_WO, &iov, 1),
			-EAGAIN);
	UPDATE(test, d, 0x8000, 0x1000, UA, IVHOST_PERM_RO);
	KUNIT_EXPECT_EQ(test, xlate(d, 1, 0x8000, 1, IVHOST_PERM_WO, &iov, 1),
			-EACCES);
	KUNIT_EXPECT_EQ(test, stats(d).msgs_queued, 4ULL);

	ivhost_devtlb_forget_vq(&d->tlb, 1);
	KUNIT_EXPECT_EQ(test, stats(d).msgs_queued, 1ULL);
	expect_msg(test, d, true, VHOST_IOTLB_MISS, 0x2000, IVHOST_PERM_RO);

	/* Answering vq 1's old misses wakes nobody. */
	UPDATE(test, d, 0x1000, 0x1000, UA, IVHOST_PERM_RW);
	UPDATE(test, d, 0x3000, 0x1000, UA, IVHOST_PERM_RW);
	KUNIT_EXPECT_EQ(test, d->wakes, 0U);
	UPDATE(test, d, 0x2000, 0x1000, UA, IVHOST_PERM_RW);
	KUNIT_EXPECT_EQ(test, d->wakes, 1U);
	KUNIT_EXPECT_EQ(test, d->last_wake, BIT(2));
}

/* A MISS that another vq joined survives the first vq's departure. */
static void forget_vq_keeps_shared_miss(struct kunit *test)
{
	struct fake_dev *d = test->priv;
	struct iovec iov;

	KUNIT_EXPECT_EQ(test, xlate(d, 1, 0x1000, 1, IVHOST_PERM_RO, &iov, 1),
			-EAGAIN);
	KUNIT_EXPECT_EQ(test, xlate(d, 2, 0x1008, 1, IVHOST_PERM_RO, &iov, 1),
			-EAGAIN);
	KUNIT_EXPECT_EQ(test, stats(d).msgs_queued, 1ULL);
	ivhost_devtlb_forget_vq(&d->tlb, 1);
	KUNIT_EXPECT_EQ(test, stats(d).msgs_queued, 1ULL);
	expect_msg(test, d, true, VHOST_IOTLB_MISS, 0x1000, IVHOST_PERM_RO);
	UPDATE(test, d, 0x1000, 0x1000, UA, IVHOST_PERM_RO);
	KUNIT_EXPECT_EQ(test, d->wakes, 1U);
	KUNIT_EXPECT_EQ(test, d->last_wake, BIT(2));

	/* The message now belongs to vq 2, and goes with it. */
	KUNIT_EXPECT_EQ(test, xlate(d, 1, 0x5000, 1, IVHOST_PERM_RO, &iov, 1),
			-EAGAIN);
	KUNIT_EXPECT_EQ(test, xlate(d, 2, 0x5000, 1, IVHOST_PERM_RO, &iov, 1),
			-EAGAIN);
	ivhost_devtlb_forget_vq(&d->tlb, 1);
	KUNIT_EXPECT_EQ(test, stats(d).msgs_queued, 1ULL);
	ivhost_devtlb_forget_vq(&d->tlb, 2);
	KUNIT_EXPECT_EQ(test, stats(d).msgs_queued, 0ULL);
	/* Forgotten entirely: a new miss is sent again. */
	KUNIT_EXPECT_EQ(test, xlate(d, 2, 0x5000, 1, IVHOST_PERM_RO, &iov, 1),
			-EAGAIN);
	KUNIT_EXPECT_EQ(test, stats(d).msgs_queued, 1ULL);
}

/* A forgotten vq is not woken to retry a dropped miss either. */
static void forget_vq_clears_retry(struct kunit *test)
{
	struct fake_dev *d = test->priv;
	union any_msg buf;
	struct iovec iov;
	u64 i;

	for (i = 0; i < IVHOST_DEVTLB_MAX_MSGS; i++)
		KUNIT_ASSERT_EQ(test, xlate(d, 0, i << 12, 1, IVHOST_PERM_RO,
					    &iov, 1), -EAGAIN);
	KUNIT_EXPECT_EQ(test, xlate(d, 3, 0x10000000, 1, IVHOST_PERM_RO,
				    &iov, 1), -EAGAIN);
	KUNIT_EXPECT_EQ(test, xlate(d, 4, 0x20000000, 1, IVHOST_PERM_RO,
				    &iov, 1), -EAGAIN);
	ivhost_devtlb_forget_vq(&d->tlb, 3);
	KUNIT_EXPECT_EQ(test, read_buf(d, &buf, sizeof(buf), true),
			(ssize_t)MSG_V2_SIZE);
	KUNIT_EXPECT_EQ(test, d->wakes, 1U);
	KUNIT_EXPECT_EQ(test, d->last_wake, BIT(4));
}

static void reset_drops_everything(struct kunit *test)
{
	struct fake_dev *d = test->priv;
	struct ivhost_iotlb_stats st;
	union any_msg buf;
	struct iovec iov;

	UPDATE(test, d, 0x8000, 0x1000, UA, IVHOST_PERM_RO);
	KUNIT_EXPECT_EQ(test, xlate(d, 1, 0x1000, 1, IVHOST_PERM_RO, &iov, 1),
			-EAGAIN);
	KUNIT_EXPECT_EQ(test, xlate(d, 2, 0x8000, 1, IVHOST_PERM_WO, &iov, 1),
			-EACCES);
	KUNIT_EXPECT_EQ(test, feed(d, true, VHOST_IOTLB_BATCH_BEGIN, 0, 0, 0,
				   0, FEAT_BATCH), (ssize_t)MSG_V2_SIZE);
	UPDATE(test, d, 0x9000, 0x1000, UA, IVHOST_PERM_RO);

	ivhost_devtlb_reset(&d->tlb);
	st = stats(d);
	KUNIT_EXPECT_EQ(test, st.entries, 0ULL);
	KUNIT_EXPECT_EQ(test, st.msgs_queued, 0ULL);
	KUNIT_EXPECT_EQ(test, read_buf(d, &buf, sizeof(buf), true),
			(ssize_t)-EAGAIN);
	KUNIT_EXPECT_EQ(test, ivhost_devtlb_poll(&d->tlb, NULL, NULL),
			EPOLLOUT | EPOLLWRNORM);

	/* The batch is gone, and so is the miss: no wake-up. */
	UPDATE(test, d, 0x1000, 0x1000, UA, IVHOST_PERM_RO);
	KUNIT_EXPECT_EQ(test, stats(d).entries, 1ULL);
	KUNIT_EXPECT_EQ(test, d->wakes, 0U);
	KUNIT_EXPECT_EQ(test, xlate(d, 0, 0x9000, 1, IVHOST_PERM_RO, &iov, 1),
			-EAGAIN);
}

/*
 * The promise: once a write() returns, no vq holds a translation the
 * cache no longer has.  A vq holds one entry; INVALIDATEs that split an
 * entry of a full cache evict others, the held one among them sooner or
 * later.
 */
static bool cached(struct fake_dev *d, u64 iova)
{
	struct ivhost_iotlb_entry *e;

	/* Not ivhost_iotlb_lookup(): that would count as a use. */
	list_for_each_entry(e, &d->tlb.cache.clock, clock)
		if (iova >= e->start && iova <= e->last)
			return true;
	return false;
}

static void eviction_by_invalidate_is_a_barrier(struct kunit *test)
{
	struct fake_dev *d = test->priv;
	struct ivhost_devtlb_vq q = { .budget = 1 };
	struct iovec iov;
	u64 i, big = 0x40000000;

	UPDATE(test, d, 0x1000, 0x1000, UA, IVHOST_PERM_RW);
	KUNIT_ASSERT_EQ(test, ivhost_devtlb_translate(&d->tlb, 0, 0x1000, 8,
						      IVHOST_PERM_RO, &iov, 1,
						      &q), 1);
	d->held = q.span;
	for (i = 1; i < 63; i++)
		UPDATE(test, d, 0x100000 + (i << 12), 0x1000, UA,
		       IVHOST_PERM_RW);
	UPDATE(test, d, big, 256 << 12, UA, IVHOST_PERM_RW);
	KUNIT_ASSERT_EQ(test, stats(d).entries, 64ULL);
	for (i = 0; i < 254 && cached(d, 0x1000); i += 2) {
		INVALIDATE(test, d, big + ((i + 1) << 12), 0x1000);
		if (!cached(d, 0x1000))
			KUNIT_ASSERT_EQ_MSG(test, d->held.perm, 0,
					    "evicted under a vq after %llu splits",
					    i / 2 + 1);
	}
	KUNIT_EXPECT_FALSE(test, cached(d, 0x1000));
	KUNIT_EXPECT_EQ(test, d->held.perm, 0);
}

/* Asking ahead queues a MISS for a gap, and never an ACCESS_FAIL. */
static void ask_reports_only_misses(struct kunit *test)
{
	struct fake_dev *d = test->priv;
	union any_msg buf;

	UPDATE(test, d, 0x8000, 0x1000, UA, IVHOST_PERM_RO);
	ivhost_devtlb_ask(&d->tlb, 0, 0x8010, 0x10, IVHOST_PERM_WO);
	KUNIT_EXPECT_EQ(test, stats(d).access_fails, 0ULL);
	KUNIT_EXPECT_EQ(test, read_buf(d, &buf, sizeof(buf), true),
			(ssize_t)-EAGAIN);
	ivhost_devtlb_ask(&d->tlb, 2, 0x8ff0, 0x20, IVHOST_PERM_RO);
	expect_msg(test, d, true, VHOST_IOTLB_MISS, 0x9000, IVHOST_PERM_RO);
}

/* A vq's budget bounds the entries one frame steps into. */
static void frame_budget(struct kunit *test)
{
	struct fake_dev *d = test->priv;
	struct ivhost_devtlb_vq q = { .budget = 2 };
	struct iovec iov[4];

	UPDATE(test, d, 0x10000, 0x1000, UA, IVHOST_PERM_RW);
	UPDATE(test, d, 0x11000, 0x1000, UA + 0x1000, IVHOST_PERM_RW);
	UPDATE(test, d, 0x12000, 0x1000, UA + 0x2000, IVHOST_PERM_RW);
	/* Adjacent memory merges into one segment, but three entries. */
	KUNIT_EXPECT_EQ(test, ivhost_devtlb_translate(&d->tlb, 0, 0x10000,
						      0x3000, IVHOST_PERM_RO,
						      iov, 4, &q), -ENOSPC);
	/* A new frame: entries seen by the last one count again. */
	q.budget = 3;
	q.nseen = 0;
	KUNIT_EXPECT_EQ(test, ivhost_devtlb_translate(&d->tlb, 0, 0x10000,
						      0x3000, IVHOST_PERM_RO,
						      iov, 4, &q), 1);
	KUNIT_EXPECT_EQ(test, q.budget, 0U);
	KUNIT_EXPECT_EQ(test, q.span.start, 0x12000ULL);
	/* Revisiting entries the frame stepped into costs nothing. */
	KUNIT_EXPECT_EQ(test, ivhost_devtlb_translate(&d->tlb, 0, 0x10800,
						      0x2000, IVHOST_PERM_RO,
						      iov, 4, &q), 1);
}

/* A MISS the VMM read and never answered is asked again, a while later. */
static void stale_miss_is_asked_again(struct kunit *test)
{
	struct fake_dev *d = test->priv;
	union any_msg buf;
	struct iovec iov;

	KUNIT_EXPECT_EQ(test, xlate(d, 0, 0x7000, 1, IVHOST_PERM_RO, &iov, 1),
			-EAGAIN);
	expect_msg(test, d, true, VHOST_IOTLB_MISS, 0x7000, IVHOST_PERM_RO);
	/* Soon after: the same miss, joined, not sent again. */
	KUNIT_EXPECT_EQ(test, xlate(d, 1, 0x7008, 1, IVHOST_PERM_RO, &iov, 1),
			-EAGAIN);
	KUNIT_EXPECT_EQ(test, read_buf(d, &buf, sizeof(buf), true),
			(ssize_t)-EAGAIN);
	msleep(1100);
	KUNIT_EXPECT_EQ(test, xlate(d, 1, 0x7010, 1, IVHOST_PERM_RO, &iov, 1),
			-EAGAIN);
	expect_msg(test, d, true, VHOST_IOTLB_MISS, 0x7010, IVHOST_PERM_RO);
	/* The answer wakes both queues that waited. */
	UPDATE(test, d, 0x7000, 0x1000, UA, IVHOST_PERM_RO);
	KUNIT_EXPECT_EQ(test, d->woken, 3UL);
}

/* Dropping a detached queue's messages lets the queues they crowded out ask. */
static void forget_wakes_crowded_out_queues(struct kunit *test)
{
	struct fake_dev *d = test->priv;
	struct iovec iov;
	u64 i;

	for (i = 0; i < IVHOST_DEVTLB_MAX_MSGS; i++)
		KUNIT_ASSERT_EQ(test, xlate(d, 1, i << 12, 1, IVHOST_PERM_RO,
					    &iov, 1), -EAGAIN);
	KUNIT_EXPECT_EQ(test, xlate(d, 0, 0x40000000, 1, IVHOST_PERM_RO, &iov,
				    1), -EAGAIN);
	KUNIT_EXPECT_EQ(test, stats(d).msgs_dropped, 1ULL);
	KUNIT_EXPECT_EQ(test, ivhost_devtlb_forget_vq(&d->tlb, 1), BIT(0));
	KUNIT_EXPECT_EQ(test, stats(d).msgs_queued, 0ULL);
}

/*
 * A channel replaced: the misses already sent are asked again, the ones
 * still queued are not forgotten (nor sent twice).
 */
static void forget_sent_asks_again(struct kunit *test)
{
	struct fake_dev *d = test->priv;
	struct iovec iov;

	KUNIT_EXPECT_EQ(test, xlate(d, 0, 0x5000, 1, IVHOST_PERM_RO, &iov, 1),
			-EAGAIN);
	expect_msg(test, d, true, VHOST_IOTLB_MISS, 0x5000, IVHOST_PERM_RO);
	KUNIT_EXPECT_EQ(test, xlate(d, 1, 0x9000, 1, IVHOST_PERM_WO, &iov, 1),
			-EAGAIN);
	KUNIT_EXPECT_EQ(test, xlate(d, 2, 0x9008, 1, IVHOST_PERM_WO, &iov, 1),
			-EAGAIN);

	KUNIT_EXPECT_EQ(test, ivhost_devtlb_forget_sent(&d->tlb), BIT(0));
	KUNIT_EXPECT_EQ(test, stats(d).msgs_queued, 1ULL);
	/* The forgotten miss is news again; the queued one is still joined. */
	KUNIT_EXPECT_EQ(test, xlate(d, 0, 0x5008, 1, IVHOST_PERM_RO, &iov, 1),
			-EAGAIN);
	KUNIT_EXPECT_EQ(test, xlate(d, 3, 0x9010, 1, IVHOST_PERM_WO, &iov, 1),
			-EAGAIN);
	KUNIT_EXPECT_EQ(test, stats(d).msgs_queued, 2ULL);
	expect_msg(test, d, true, VHOST_IOTLB_MISS, 0x9000, IVHOST_PERM_WO);
	expect_msg(test, d, true, VHOST_IOTLB_MISS, 0x5008, IVHOST_PERM_RO);
	UPDATE(test, d, 0x9000, 0x1000, UA, IVHOST_PERM_RW);
	KUNIT_EXPECT_EQ(test, d->last_wake, BIT(1) | BIT(2) | BIT(3));
	UPDATE(test, d, 0x5000, 0x1000, UA, IVHOST_PERM_RW);
	KUNIT_EXPECT_EQ(test, d->last_wake, BIT(0));
}

static void access_fail(struct kunit *test)
{
	struct fake_dev *d = test->priv;
	struct iovec iov;

	UPDATE(test, d, 0x8000, 0x1000, UA, IVHOST_PERM_RO);
	UPDATE(test, d, 0x9000, 0x1000, UA + 0x1000, IVHOST_PERM_WO);
	EXPECT_MAPS(test, d, 0x8000, 0x1000, IVHOST_PERM_RO, UA);
	EXPECT_MAPS(test, d, 0x9000, 0x1000, IVHOST_PERM_WO, UA + 0x1000);

	KUNIT_EXPECT_EQ(test, xlate(d, 3, 0x8010, 4, IVHOST_PERM_WO, &iov, 1),
			-EACCES);
	KUNIT_EXPECT_EQ(test, stats(d).access_fails, 1ULL);
	expect_msg(test, d, true, VHOST_IOTLB_ACCESS_FAIL, 0x8010,
		   IVHOST_PERM_WO);
	/* Read-write on a write-only entry. */
	KUNIT_EXPECT_EQ(test, xlate(d, 0, 0x9ff0, 0x20, IVHOST_PERM_RW, &iov,
				    1), -EACCES);
	KUNIT_EXPECT_EQ(test, stats(d).access_fails, 2ULL);
	expect_msg(test, d, false, VHOST_IOTLB_ACCESS_FAIL, 0x9ff0,
		   IVHOST_PERM_RW);
	/* A read running from a good entry into the write-only one. */
	KUNIT_EXPECT_EQ(test, xlate(d, 0, 0x8ff0, 0x20, IVHOST_PERM_RO, &iov,
				    1), -EACCES);
	expect_msg(test, d, true, VHOST_IOTLB_ACCESS_FAIL, 0x9000,
		   IVHOST_PERM_RO);
	KUNIT_EXPECT_EQ(test, stats(d).misses, 0ULL);
	KUNIT_EXPECT_EQ(test, d->wakes, 0U);
}

static void translate_segments(struct kunit *test)
{
	struct fake_dev *d = test->priv;
	struct iovec iov[3];

	/* Adjacent entries, contiguous in userspace: one segment. */
	UPDATE(test, d, 0x1000, 0x1000, UA + 0x1000, IVHOST_PERM_RW);
	UPDATE(test, d, 0x2000, 0x1000, UA + 0x2000, IVHOST_PERM_RW);
	/* Then a discontiguous one. */
	UPDATE(test, d, 0x3000, 0x1000, UA + 0x10000, IVHOST_PERM_RW);
	KUNIT_EXPECT_EQ(test, xlate(d, 0, 0x1800, 0x2000, IVHOST_PERM_RO, iov,
				    3), 2);
	KUNIT_EXPECT_EQ(test, (u64)(uintptr_t)iov[0].iov_base, UA + 0x1800);
	KUNIT_EXPECT_EQ(test, (u64)iov[0].iov_len, 0x1800ULL);
	KUNIT_EXPECT_EQ(test, (u64)(uintptr_t)iov[1].iov_base, UA + 0x10000);
	KUNIT_EXPECT_EQ(test, (u64)iov[1].iov_len, 0x800ULL);
	KUNIT_EXPECT_EQ(test, xlate(d, 0, 0x1800, 0x2000, IVHOST_PERM_RO, iov,
				    1), -ENOBUFS);
	KUNIT_EXPECT_EQ(test, xlate(d, 0, 0x1800, 0, IVHOST_PERM_RO, iov, 1),
			0);
	KUNIT_EXPECT_EQ(test, xlate(d, 0, U64_MAX, 2, IVHOST_PERM_RO, iov, 1),
			-EFAULT);
	/* Running off the end: a miss at the first unmapped byte. */
	KUNIT_EXPECT_EQ(test, xlate(d, 0, 0x3ff0, 0x20, IVHOST_PERM_RO, iov,
				    3), -EAGAIN);
	expect_msg(test, d, true, VHOST_IOTLB_MISS, 0x4000, IVHOST_PERM_RO);
	KUNIT_EXPECT_EQ(test, stats(d).msgs_queued, 0ULL);
}

static struct kunit_case ivhost_devtlb_cases[] = {
	KUNIT_CASE(write_update_v1),
	KUNIT_CASE(write_update_v2),
	KUNIT_CASE(write_short),
	KUNIT_CASE(write_unknown_type),
	KUNIT_CASE(write_malformed),
	KUNIT_CASE(write_split_kvecs),
	KUNIT_CASE(miss_read_v1),
	KUNIT_CASE(miss_read_v2),
	KUNIT_CASE(miss_read_split),
	KUNIT_CASE(read_errors),
	KUNIT_CASE(poll_mask),
	KUNIT_CASE(miss_dedup),
	KUNIT_CASE(queue_bounded),
	KUNIT_CASE(update_wakes_on_last_byte),
	KUNIT_CASE(invalidate_splits_and_syncs),
	KUNIT_CASE(invalidate_everything),
	KUNIT_CASE(batch_applied_at_end),
	KUNIT_CASE(batch_needs_feature),
	KUNIT_CASE(batch_cancel),
	KUNIT_CASE(batch_limit),
	KUNIT_CASE(forget_vq_drops_its_messages),
	KUNIT_CASE(forget_vq_keeps_shared_miss),
	KUNIT_CASE(forget_vq_clears_retry),
	KUNIT_CASE(reset_drops_everything),
	KUNIT_CASE(access_fail),
	KUNIT_CASE(eviction_by_invalidate_is_a_barrier),
	KUNIT_CASE(ask_reports_only_misses),
	KUNIT_CASE(frame_budget),
	KUNIT_CASE(stale_miss_is_asked_again),
	KUNIT_CASE(forget_sent_asks_again),
	KUNIT_CASE(forget_wakes_crowded_out_queues),
	KUNIT_CASE(translate_segments),
	{}
};

static struct kunit_suite ivhost_devtlb_suite = {
	.name = "ivhost_devtlb",
	.init = devtlb_test_init,
	.exit = devtlb_test_exit,
	.test_cases = ivhost_devtlb_cases,
};

kunit_test_suite(ivhost_devtlb_suite);
