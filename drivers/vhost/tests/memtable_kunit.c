// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests of the memory table (memtable.c): region validation, table
 * construction, lookups and guest-range translation, at the edges of the
 * 64-bit address space and against a reference model (an array scan).
 */
#include <kunit/resource.h>
#include <kunit/test.h>
#include <linux/err.h>
#include <linux/kernel.h>
#include <linux/minmax.h>
#include <linux/module.h>
#include <linux/overflow.h>
#include <linux/prandom.h>
#include <linux/uio.h>

#include "../memtable.h"

#define U64_LAST	(~0ULL)

#define REG(gpa, size, ua)						\
	{ .guest_phys_addr = (gpa), .memory_size = (size),		\
	  .userspace_addr = (ua) }

/* Tables built by build_ok() are freed when the test case ends. */
static int mt_res_init(struct kunit_resource *res, void *mt)
{
	res->data = mt;
	return 0;
}

static void mt_res_free(struct kunit_resource *res)
{
	ivhost_memtable_free(res->data);
}

static struct ivhost_memtable *build_ok(struct kunit *test,
					const struct vhost_memory_region *regs,
					u32 n)
{
	struct ivhost_memtable *mt = ivhost_memtable_build(regs, n);

	KUNIT_ASSERT_FALSE_MSG(test, IS_ERR(mt), "build failed: %ld",
			       PTR_ERR(mt));
	if (!kunit_alloc_resource(test, mt_res_init, mt_res_free, GFP_KERNEL,
				  mt)) {
		ivhost_memtable_free(mt);
		KUNIT_ASSERT_FAILURE(test, "out of memory");
	}
	KUNIT_EXPECT_EQ(test, mt->nregions, n);
	return mt;
}

/* Return the error building @regs gives, or 0 if it builds. */
static int build_err(const struct vhost_memory_region *regs, u32 n)
{
	struct ivhost_memtable *mt = ivhost_memtable_build(regs, n);

	if (IS_ERR(mt))
		return PTR_ERR(mt);
	ivhost_memtable_free(mt);
	return 0;
}

static int check(u64 gpa, u64 size, u64 uaddr)
{
	const struct vhost_memory_region r = REG(gpa, size, uaddr);

	return ivhost_region_check(&r);
}

static void expect_found(struct kunit *test, const struct ivhost_memtable *mt,
			 u64 gpa, u64 start, u64 last)
{
	const struct ivhost_region *r = ivhost_memtable_find(mt, gpa);

	KUNIT_ASSERT_NOT_NULL_MSG(test, r, "gpa %#llx not found", gpa);
	KUNIT_EXPECT_EQ_MSG(test, r->start, start, "gpa %#llx", gpa);
	KUNIT_EXPECT_EQ_MSG(test, r->last, last, "gpa %#llx", gpa);
}

static void expect_missing(struct kunit *test,
			   const struct ivhost_memtable *mt, u64 gpa)
{
	KUNIT_EXPECT_NULL_MSG(test, ivhost_memtable_find(mt, gpa),
			      "gpa %#llx", gpa);
}

static void expect_seg(struct kunit *test, const struct iovec *iov,
		       u64 uaddr, u64 len)
{
	KUNIT_EXPECT_EQ(test, (u64)(unsigned long)iov->iov_base, uaddr);
	KUNIT_EXPECT_EQ(test, (u64)iov->iov_len, len);
}

static void region_check_valid(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, check(0, 1, 0), 0);
	KUNIT_EXPECT_EQ(test, check(0x100000, 0x40000000, 0x7f0000000000), 0);
	/* The whole space but one byte, starting at 0. */
	KUNIT_EXPECT_EQ(test, check(0, U64_LAST, 0), 0);
	/* Regions ending exactly at 2^64 - 1 on either side. */
	KUNIT_EXPECT_EQ(test, check(1, U64_LAST, 0), 0);
	KUNIT_EXPECT_EQ(test, check(0, U64_LAST, 1), 0);
	KUNIT_EXPECT_EQ(test, check(U64_LAST, 1, U64_LAST), 0);
	KUNIT_EXPECT_EQ(test, check(U64_LAST - 0xfff, 0x1000, 0), 0);
}

static void region_check_empty(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, check(0, 0, 0), -EINVAL);
	KUNIT_EXPECT_EQ(test, check(0x1000, 0, 0x1000), -EINVAL);
	KUNIT_EXPECT_EQ(test, check(U64_LAST, 0, U64_LAST), -EINVAL);
}

static void region_check_wrap(struct kunit *test)
{
	/* Guest range one byte past 2^64 - 1. */
	KUNIT_EXPECT_EQ(test, check(U64_LAST, 2, 0), -EINVAL);
	KUNIT_EXPECT_EQ(test, check(2, U64_LAST, 0), -EINVAL);
	KUNIT_EXPECT_EQ(test, check(U64_LAST - 0xfff, 0x1001, 0), -EINVAL);
	KUNIT_EXPECT_EQ(test, check(0x1000, U64_LAST, 0), -EINVAL);
	/* Userspace range past 2^64 - 1. */
	KUNIT_EXPECT_EQ(test, check(0, 2, U64_LAST), -EINVAL);
	KUNIT_EXPECT_EQ(test, check(0, U64_LAST, 2), -EINVAL);
	KUNIT_EXPECT_EQ(test, check(0, 0x1001, U64_LAST - 0xfff), -EINVAL);
}

static void build_empty(struct kunit *test)
{
	struct ivhost_memtable *mt = build_ok(test, NULL, 0);
	struct iovec iov[1];

	expect_missing(test, mt, 0);
	expect_missing(test, mt, U64_LAST);
	KUNIT_EXPECT_EQ(test, ivhost_memtable_translate(mt, 0, 1, iov, 1),
			-EFAULT);
	KUNIT_EXPECT_EQ(test, ivhost_memtable_translate(mt, 0, 0, iov, 1), 0);
}

static void build_rejects_invalid_region(struct kunit *test)
{
	const struct vhost_memory_region empty[] = {
		REG(0, 0x1000, 0), REG(0x2000, 0, 0x2000),
	};
	const struct vhost_memory_region wrap[] = {
		REG(0, 0x1000, 0), REG(U64_LAST - 0xfff, 0x1001, 0x10000),
	};
	const struct vhost_memory_region uwrap[] = {
		REG(0x4000, 0x1000, U64_LAST), REG(0, 0x1000, 0),
	};

	KUNIT_EXPECT_EQ(test, build_err(empty, 2), -EINVAL);
	KUNIT_EXPECT_EQ(test, build_err(wrap, 2), -EINVAL);
	KUNIT_EXPECT_EQ(test, build_err(uwrap, 2), -EINVAL);
}

static void build_rejects_overlap(struct kunit *test)
{
	const struct vhost_memory_region same[] = {
		REG(0x1000, 0x1000, 0), REG(0x1000, 0x1000, 0x10000),
	};
	const struct vhost_memory_region one_byte[] = {
		REG(0x1000, 0x1000, 0), REG(0x1fff, 0x1000, 0x10000),
	};
	const struct vhost_memory_region inside[] = {
		REG(0, 0x10000, 0), REG(0x8000, 1, 0x100000),
	};
	const struct vhost_memory_region around[] = {
		REG(0x8000, 1, 0x100000), REG(0, 0x10000, 0),
	};
	const struct vhost_memory_region top[] = {
		REG(U64_LAST, 1, 0), REG(0, 0x1000, 0),
		REG(U64_LAST - 0xfff, 0x1000, 0x10000),
	};
	const struct vhost_memory_region all[] = {
		REG(0x1234, 1, 0), REG(0, U64_LAST, 0),
	};

	KUNIT_EXPECT_EQ(test, build_err(same, 2), -EINVAL);
	KUNIT_EXPECT_EQ(test, build_err(one_byte, 2), -EINVAL);
	KUNIT_EXPECT_EQ(test, build_err(inside, 2), -EINVAL);
	KUNIT_EXPECT_EQ(test, build_err(around, 2), -EINVAL);
	KUNIT_EXPECT_EQ(test, build_err(top, 3), -EINVAL);
	KUNIT_EXPECT_EQ(test, build_err(all, 2), -EINVAL);
}

static void build_accepts_adjacent(struct kunit *test)
{
	/* Together these cover all 2^64 guest addresses. */
	const struct vhost_memory_region regs[] = {
		REG(U64_LAST, 1, 0x1000), REG(0, 0x1000, 0x2000),
		REG(0x1000, U64_LAST - 0x1000, 0),
	};
	struct ivhost_memtable *mt = build_ok(test, regs, ARRAY_SIZE(regs));

	expect_found(test, mt, 0, 0, 0xfff);
	expect_found(test, mt, 0xfff, 0, 0xfff);
	expect_found(test, mt, 0x1000, 0x1000, U64_LAST - 1);
	expect_found(test, mt, U64_LAST - 1, 0x1000, U64_LAST - 1);
	expect_found(test, mt, U64_LAST, U64_LAST, U64_LAST);
}

static void find_boundaries(struct kunit *test)
{
	const struct vhost_memory_region regs[] = {
		REG(0x10000, 0x10000, 0x7f0000000000),
		REG(0, 0x1000, 0x7f1000000000),
		REG(U64_LAST - 0xfff, 0x1000, 0x7f2000000000),
	};
	struct ivhost_memtable *mt = build_ok(test, regs, ARRAY_SIZE(regs));
	const struct ivhost_region *r;

	expect_found(test, mt, 0, 0, 0xfff);
	expect_found(test, mt, 0xfff, 0, 0xfff);
	expect_missing(test, mt, 0x1000);
	expect_missing(test, mt, 0xffff);
	expect_found(test, mt, 0x10000, 0x10000, 0x1ffff);
	expect_found(test, mt, 0x1ffff, 0x10000, 0x1ffff);
	expect_missing(test, mt, 0x20000);
	expect_missing(test, mt, U64_LAST - 0x1000);
	expect_found(test, mt, U64_LAST - 0xfff, U64_LAST - 0xfff, U64_LAST);
	expect_found(test, mt, U64_LAST, U64_LAST - 0xfff, U64_LAST);

	r = ivhost_memtable_find(mt, 0x18000);
	KUNIT_ASSERT_NOT_NULL(test, r);
	KUNIT_EXPECT_EQ(test, r->uaddr, 0x7f0000000000ULL);
}

static void find_whole_space_but_top(struct kunit *test)
{
	const struct vhost_memory_region regs[] = { REG(0, U64_LAST, 0) };
	struct ivhost_memtable *mt = build_ok(test, regs, 1);

	expect_found(test, mt, 0, 0, U64_LAST - 1);
	expect_found(test, mt, 1ULL << 63, 0, U64_LAST - 1);
	expect_found(test, mt, U64_LAST - 1, 0, U64_LAST - 1);
	expect_missing(test, mt, U64_LAST);
}

static void translate_single(struct kunit *test)
{
	const struct vhost_memory_region regs[] = {
		REG(0x1000, 0x1000, 0x500000),
	};
	struct ivhost_memtable *mt = build_ok(test, regs, 1);
	struct iovec iov[2];

	KUNIT_EXPECT_EQ(test, ivhost_memtable_translate(mt, 0x1000, 1, iov, 2),
			1);
	expect_seg(test, &iov[0], 0x500000, 1);
	KUNIT_EXPECT_EQ(test,
			ivhost_memtable_translate(mt, 0x1000, 0x1000, iov, 2),
			1);
	expect_seg(test, &iov[0], 0x500000, 0x1000);
	KUNIT_EXPECT_EQ(test, ivhost_memtable_translate(mt, 0x1fff, 1, iov, 2),
			1);
	expect_seg(test, &iov[0], 0x500fff, 1);
	KUNIT_EXPECT_EQ(test, ivhost_memtable_translate(mt, 0x1234, 0x10, iov,
							1), 1);
	expect_seg(test, &iov[0], 0x500234, 0x10);
}

static void translate_spans_adjacent(struct kunit *test)
{
	const struct vhost_memory_region regs[] = {
		REG(0x2000, 0x1000, 0x900000), REG(0x1000, 0x1000, 0x500000),
	};
	struct ivhost_memtable *mt = build_ok(test, regs, 2);
	struct iovec iov[2];

	KUNIT_EXPECT_EQ(test,
			ivhost_memtable_translate(mt, 0x1800, 0x1000, iov, 2),
			2);
	expect_seg(test, &iov[0], 0x500800, 0x800);
	expect_seg(test, &iov[1], 0x900000, 0x800);
	/* Exactly the two regions; then one byte at each side of the seam. */
	KUNIT_EXPECT_EQ(test,
			ivhost_memtable_translate(mt, 0x1000, 0x2000, iov, 2),
			2);
	expect_seg(test, &iov[0], 0x500000, 0x1000);
	expect_seg(test, &iov[1], 0x900000, 0x1000);
	KUNIT_EXPECT_EQ(test, ivhost_memtable_translate(mt, 0x1fff, 2, iov, 2),
			2);
	expect_seg(test, &iov[0], 0x500fff, 1);
	expect_seg(test, &iov[1], 0x900000, 1);
}

static void translate_gap(struct kunit *test)
{
	const struct vhost_memory_region regs[] = {
		REG(0x1000, 0x1000, 0x500000), REG(0x3000, 0x1000, 0x900000),
	};
	struct ivhost_memtable *mt = build_ok(test, regs, 2);
	struct iovec iov[4];

	/* Runs one byte past the first region into the gap. */
	KUNIT_EXPECT_EQ(test,
			ivhost_memtable_translate(mt, 0x1000, 0x1001, iov, 4),
			-EFAULT);
	/* Starts in the gap, or spans it. */
	KUNIT_EXPECT_EQ(test, ivhost_memtable_translate(mt, 0x2fff, 2, iov, 4),
			-EFAULT);
	KUNIT_EXPECT_EQ(test,
			ivhost_memtable_translate(mt, 0x1000, 0x3000, iov, 4),
			-EFAULT);
	KUNIT_EXPECT_EQ(test, ivhost_memtable_translate(mt, 0, 1, iov, 4),
			-EFAULT);
	KUNIT_EXPECT_EQ(test, ivhost_memtable_translate(mt, 0x4000, 1, iov, 4),
			-EFAULT);
	/* A zero-length range needs no memory at all. */
	KUNIT_EXPECT_EQ(test, ivhost_memtable_translate(mt, 0x2000, 0, iov, 4),
			0);
}

static void translate_top_of_space(struct kunit *test)
{
	const struct vhost_memory_region regs[] = {
		REG(U64_LAST - 0xfff, 0x1000, 0x500000),
		REG(U64_LAST - 0x1fff, 0x1000, 0x900000),
		REG(0, 0x1000, 0x700000),
	};
	struct ivhost_memtable *mt = build_ok(test, regs, 3);
	struct iovec iov[2];

	KUNIT_EXPECT_EQ(test, ivhost_memtable_translate(mt, U64_LAST, 1, iov,
							2), 1);
	expect_seg(test, &iov[0], 0x500fff, 1);
	KUNIT_EXPECT_EQ(test, ivhost_memtable_translate(mt, U64_LAST - 0x1fff,
							0x2000, iov, 2), 2);
	expect_seg(test, &iov[0], 0x900000, 0x1000);
	expect_seg(test, &iov[1], 0x500000, 0x1000);
	/* One byte past 2^64 - 1 wraps, though address 0 is mapped. */
	KUNIT_EXPECT_EQ(test, ivhost_memtable_translate(mt, U64_LAST, 2, iov,
							2), -EFAULT);
	KUNIT_EXPECT_EQ(test, ivhost_memtable_translate(mt, U64_LAST - 0xfff,
							0x1001, iov, 2),
			-EFAULT);
	KUNIT_EXPECT_EQ(test, ivhost_memtable_translate(mt, U64_LAST - 0xfff,
							U64_LAST, iov, 2),
			-EFAULT);
}

static void translate_whole_space(struct kunit *test)
{
	const struct vhost_memory_region regs[] = {
		REG(0, U64_LAST, 0), REG(U64_LAST, 1, 0x1000),
	};
	struct ivhost_memtable *mt = build_ok(test, regs, 2);
	struct iovec iov[2];

	if (sizeof(iov[0].iov_len) < sizeof(u64))
		kunit_skip(test, "iov_len narrower than 64 bits");
	KUNIT_EXPECT_EQ(test, ivhost_memtable_translate(mt, 0, U64_LAST, iov,
							2), 1);
	expect_seg(test, &iov[0], 0, U64_LAST);
	KUNIT_EXPECT_EQ(test, ivhost_memtable_translate(mt, 1, U64_LAST, iov,
							2), 2);
	expect_seg(test, &iov[0], 1, U64_LAST - 1);
	expect_seg(test, &iov[1], 0x1000, 1);
}

static void translate_iov_limit(struct kunit *test)
{
	const struct vhost_memory_region regs[] = {
		REG(0x0000, 0x1000, 0x10000), REG(0x1000, 0x1000, 0x30000),
		REG(0x2000, 0x1000, 0x50000), REG(0x3000, 0x1000, 0x70000),
	};
	struct ivhost_memtable *mt = build_ok(test, regs, 4);
	struct iovec iov[4];
	int i;

	KUNIT_EXPECT_EQ(test, ivhost_memtable_translate(mt, 0, 0x4000, iov, 4),
			4);
	for (i = 0; i < 4; i++)
		expect_seg(test, &iov[i], 0x10000 + 0x20000 * i, 0x1000);
	KUNIT_EXPECT_EQ(test, ivhost_memtable_translate(mt, 0, 0x4000, iov, 3),
			-ENOBUFS);
	KUNIT_EXPECT_EQ(test, ivhost_memtable_translate(mt, 0, 0x3001, iov, 3),
			-ENOBUFS);
	KUNIT_EXPECT_EQ(test, ivhost_memtable_translate(mt, 0, 0x3000, iov, 3),
			3);
	KUNIT_EXPECT_EQ(test, ivhost_memtable_translate(mt, 0, 1, iov, 0),
			-ENOBUFS);
	KUNIT_EXPECT_EQ(test, ivhost_memtable_translate(mt, 0, 0, iov, 0), 0);
}

/* The reference model: a linear scan of the regions userspace passed. */
static int ref_find(const struct vhost_memory_region *regs, u32 n, u64 gpa)
{
	u32 i;

	for (i = 0; i < n; i++)
		if (gpa >= regs[i].guest_phys_addr &&
		    gpa - regs[i].guest_phys_addr < regs[i].memory_size)
			return i;
	return -1;
}

static int ref_translate(const struct vhost_memory_region *regs, u32 n,
			 u64 gpa, u64 len, struct iovec *iov, unsigned int max)
{
	unsigned int cnt;
	u64 chunk, last;
	int i;

	if (len && check_add_overflow(gpa, len - 1, &last))
		return -EFAULT;
	for (cnt = 0; len; cnt++, gpa += chunk, len -= chunk) {
		i = ref_find(regs, n, gpa);
		if (i < 0)
			return -EFAULT;
		if (cnt == max)
			return -ENOBUFS;
		chunk = regs[i].memory_size - (gpa - regs[i].guest_phys_addr);
		chunk = min(chunk, len);
		iov[cnt].iov_base = u64_to_user_ptr(regs[i].userspace_addr +
						    gpa -
						    regs[i].guest_phys_addr);
		iov[cnt].iov_len = chunk;
	}
	return cnt;
}

static u64 rand_u64(struct rnd_state *rs)
{
	return (u64)prandom_u32_state(rs) << 32 | prandom_u32_state(rs);
}

/* A random number of random magnitude below 2^56, log-uniform. */
static u64 rand_scaled(struct rnd_state *rs)
{
	return rand_u64(rs) >> (8 + prandom_u32_state(rs) % 56);
}

static struct vhost_memory_region rand_region(struct rnd_state *rs,
					      u64 gpa, u64 size)
{
	struct vhost_memory_region r = REG(gpa, size, rand_u64(rs));

	if (r.userspace_addr > U64_LAST - (size - 1))
		r.userspace_addr = U64_LAST - (size - 1);
	return r;
}

/*
 * Fill @regs with 1 to @max random non-overlapping regions, in random
 * order: some adjacent, some one byte, some huge, and often the last one
 * ending at 2^64 - 1.  Return how many.
 */
static u32 rand_regions(struct rnd_state *rs, struct vhost_memory_region *regs,
			u32 max)
{
	u64 next = 0, gap, room, size;
	u32 n = 0, i, j;

	while (n < max) {
		gap = prandom_u32_state(rs) % 4 ? rand_scaled(rs) : 0;
		if (U64_LAST - next < gap)
			break;
		next += gap;
		room = U64_LAST - next;
		size = rand_scaled(rs) + 1;
		if (size - 1 >= room ||
		    (n == max - 1 && prandom_u32_state(rs) % 2))
			size = room == U64_LAST ? U64_LAST : room + 1;
		regs[n++] = rand_region(rs, next, size);
		if (size - 1 >= room)
			break;
		next += size;
	}
	for (i = n; i > 1; i--) {
		j = prandom_u32_state(rs) % i;
		swap(regs[i - 1], regs[j]);
	}
	return n;
}

/* An address near a random region's edges, or anywhere. */
static u64 rand_gpa(struct rnd_state *rs,
		    const struct vhost_memory_region *regs, u32 n)
{
	const struct vhost_memory_region *r = &regs[prandom_u32_state(rs) % n];
	u64 delta = prandom_u32_state(rs) % 3;

	switch (prandom_u32_state(rs) % 5) {
	case 0:
		return r->guest_phys_addr - delta;
	case 1:
		return r->guest_phys_addr + delta;
	case 2:
		return r->guest_phys_addr + r->memory_size - 1 + delta;
	case 3:
		return r->guest_phys_addr + r->memory_size - 1 - delta;
	default:
		return prandom_u32_state(rs) % 2 ? rand_u64(rs) :
		       rand_scaled(rs);
	}
}

#define RAND_ROUNDS	200
#define RAND_REGIONS	64
#define RAND_QUERIES	256

static void expect_find_matches(struct kunit *test,
				const struct ivhost_memtable *mt,
				const struct vhost_memory_region *regs, u32 n,
				u64 gpa)
{
	const struct ivhost_region *r = ivhost_memtable_find(mt, gpa);
	int i = ref_find(regs, n, gpa);

	if (i < 0) {
		KUNIT_EXPECT_NULL_MSG(test, r, "gpa %#llx", gpa);
		return;
	}
	KUNIT_ASSERT_NOT_NULL_MSG(test, r, "gpa %#llx", gpa);
	KUNIT_EXPECT_EQ(test, r->start, regs[i].guest_phys_addr);
	KUNIT_EXPECT_EQ(test, r->last,
			regs[i].guest_phys_addr + regs[i].memory_size - 1);
	KUNIT_EXPECT_EQ(test, r->uaddr, regs[i].userspace_addr);
}

static void find_random_vs_model(struct kunit *test)
{
	struct vhost_memory_region *regs;
	struct ivhost_memtable *mt;
	struct rnd_state rs;
	u32 round, n, q;

	regs = kunit_kcalloc(test, RAND_REGIONS, sizeof(*regs), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, regs);
	for (round = 0; round < RAND_ROUNDS; round++) {
		prandom_seed_state(&rs, 0x1f0a5eedULL + round);
		n = rand_regions(&rs, regs,
				 1 + prandom_u32_state(&rs) % RAND_REGIONS);
		mt = build_ok(test, regs, n);
		expect_find_matches(test, mt, regs, n, 0);
		expect_find_matches(test, mt, regs, n, U64_LAST);
		for (q = 0; q < RAND_QUERIES; q++)
			expect_find_matches(test, mt, regs, n,
					    rand_gpa(&rs, regs, n));
	}
}

#define RAND_IOVS	4

static void expect_translate_matches(struct kunit *test,
				     const struct ivhost_memtable *mt,
				     const struct vhost_memory_region *regs,
				     u32 n, struct rnd_state *rs)
{
	struct iovec got[RAND_IOVS], want[RAND_IOVS];
	unsigned int max = prandom_u32_state(rs) % (RAND_IOVS + 1);
	u64 gpa = rand_gpa(rs, regs, n);
	u64 len = prandom_u32_state(rs) % 8 ? rand_scaled(rs) :
		  rand_u64(rs);
	int ret, i;

	ret = ref_translate(regs, n, gpa, len, want, max);
	KUNIT_ASSERT_EQ_MSG(test, ivhost_memtable_translate(mt, gpa, len, got,
							    max), ret,
			    "gpa %#llx len %#llx max %u", gpa, len, max);
	for (i = 0; i < ret; i++)
		expect_seg(test, &got[i], (unsigned long)want[i].iov_base,
			   want[i].iov_len);
}

static void translate_random_vs_model(struct kunit *test)
{
	struct vhost_memory_region *regs;
	struct ivhost_memtable *mt;
	struct rnd_state rs;
	u32 round, n, q;

	if (sizeof(size_t) < sizeof(u64))
		kunit_skip(test, "iov_len narrower than 64 bits");
	regs = kunit_kcalloc(test, RAND_REGIONS, sizeof(*regs), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, regs);
	for (round = 0; round < RAND_ROUNDS; round++) {
		prandom_seed_state(&rs, 0x7a4e51a7eULL + round);
		n = rand_regions(&rs, regs,
				 1 + prandom_u32_state(&rs) % RAND_REGIONS);
		mt = build_ok(test, regs, n);
		for (q = 0; q < RAND_QUERIES; q++)
			expect_translate_matches(test, mt, regs, n, &rs);
	}
}

static bool ref_overlap(const struct vhost_memory_region *regs, u32 n)
{
	u64 a_last, b_last;
	u32 i, j;

	for (i = 0; i < n; i++) {
		a_last = regs[i].guest_phys_addr + regs[i].memory_size - 1;
		for (j = i + 1; j < n; j++) {
			b_last = regs[j].guest_phys_addr +
				 regs[j].memory_size - 1;
			if (regs[i].guest_phys_addr <= b_last &&
			    regs[j].guest_phys_addr <= a_last)
				return true;
		}
	}
	return false;
}

/* Small regions crowded into a small space, so that many overlap. */
static void build_random_overlap_vs_model(struct kunit *test)
{
	struct vhost_memory_region regs[8];
	struct rnd_state rs;
	u32 round, n, i;
	int want;

	prandom_seed_state(&rs, 0x0e71a9ULL);
	for (round = 0; round < 2000; round++) {
		n = 2 + prandom_u32_state(&rs) % (ARRAY_SIZE(regs) - 1);
		for (i = 0; i < n; i++)
			regs[i] = (struct vhost_memory_region)
				REG(prandom_u32_state(&rs) % 0x1000,
				    1 + prandom_u32_state(&rs) % 0x100,
				    0x100000 * (i + 1));
		want = ref_overlap(regs, n) ? -EINVAL : 0;
		KUNIT_EXPECT_EQ_MSG(test, build_err(regs, n), want,
				    "round %u", round);
	}
}

static struct kunit_case ivhost_memtable_cases[] = {
	KUNIT_CASE(region_check_valid),
	KUNIT_CASE(region_check_empty),
	KUNIT_CASE(region_check_wrap),
	KUNIT_CASE(build_empty),
	KUNIT_CASE(build_rejects_invalid_region),
	KUNIT_CASE(build_rejects_overlap),
	KUNIT_CASE(build_accepts_adjacent),
	KUNIT_CASE(build_random_overlap_vs_model),
	KUNIT_CASE(find_boundaries),
	KUNIT_CASE(find_whole_space_but_top),
	KUNIT_CASE(find_random_vs_model),
	KUNIT_CASE(translate_single),
	KUNIT_CASE(translate_spans_adjacent),
	KUNIT_CASE(translate_gap),
	KUNIT_CASE(translate_top_of_space),
	KUNIT_CASE(translate_whole_space),
	KUNIT_CASE(translate_iov_limit),
	KUNIT_CASE(translate_random_vs_model),
	{}
};

static struct kunit_suite ivhost_memtable_suite = {
	.name = "ivhost_memtable",
	.test_cases = ivhost_memtable_cases,
};

kunit_test_suite(ivhost_memtable_suite);

MODULE_DESCRIPTION("KUnit tests for ivhost's memory table and chain walker");
MODULE_LICENSE("GPL");
/* ivhost.ko's internals the suites test (../kunit_export.h) */
MODULE_IMPORT_NS(IVHOST_KUNIT);
MODULE_IMPORT_NS(IVHOST_INTERNAL);
