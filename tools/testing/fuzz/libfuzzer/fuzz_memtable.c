// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: the memory table, drivers/vhost/memtable.c, built
 * unmodified against the userspace shims, checked against a model that
 * is a plain array searched linearly.
 *
 * Input: regions (guest address, size, user address, biased to the
 * boundaries), then lookups and translations.  Checked: which tables
 * build (a region that is empty or wraps on either side is -EINVAL, so
 * is one overlapping an earlier region) and with what errno, that a
 * failed allocation is -ENOMEM, that ivhost_memtable_find() finds the one
 * region holding an address or none, and that
 * ivhost_memtable_translate() splits a range at region edges into the
 * same segments as the model, or fails with the model's errno.
 */
#include "fuzz_common.h"

#include <errno.h>
#include <linux/slab.h>

#include "memtable.h"

unsigned int tools_alloc_fail;

#define MAX_REGIONS	16
#define MAX_IOV		8

static bool wraps(u64 a, u64 size)
{
	return a + (size - 1) < a;
}

static int model_build(const struct vhost_memory_region *r, u32 n)
{
	u64 li, lj;
	u32 i, j;

	for (i = 0; i < n; i++) {
		if (!r[i].memory_size || wraps(r[i].guest_phys_addr,
					       r[i].memory_size) ||
		    wraps(r[i].userspace_addr, r[i].memory_size))
			return -EINVAL;
		li = r[i].guest_phys_addr + r[i].memory_size - 1;
		for (j = 0; j < i; j++) {
			lj = r[j].guest_phys_addr + r[j].memory_size - 1;
			if (r[i].guest_phys_addr <= lj &&
			    r[j].guest_phys_addr <= li)
				return -EINVAL;
		}
	}
	return 0;
}

static const struct vhost_memory_region *
model_find(const struct vhost_memory_region *r, u32 n, u64 gpa)
{
	u32 i;

	for (i = 0; i < n; i++)
		if (gpa >= r[i].guest_phys_addr &&
		    gpa - r[i].guest_phys_addr < r[i].memory_size)
			return &r[i];
	return NULL;
}

static int model_translate(const struct vhost_memory_region *r, u32 n,
			   u64 gpa, u64 len, struct iovec *iov,
			   unsigned int max)
{
	const struct vhost_memory_region *reg;
	unsigned int k = 0;
	u64 in_reg;

	if (!len)
		return 0;
	if (wraps(gpa, len))
		return -EFAULT;
	while (len) {
		reg = model_find(r, n, gpa);
		if (!reg)
			return -EFAULT;
		if (k == max)
			return -ENOBUFS;
		in_reg = reg->memory_size - (gpa - reg->guest_phys_addr);
		iov[k].iov_base = (void *)(uintptr_t)(reg->userspace_addr +
						      (gpa - reg->guest_phys_addr));
		iov[k].iov_len = len < in_reg ? len : in_reg;
		len -= iov[k].iov_len;
		gpa += iov[k].iov_len;
		k++;
	}
	return k;
}

/* An address near some region's edge, or anywhere. */
static u64 get_addr(struct fuzz_in *in, const struct vhost_memory_region *r,
		    u32 n)
{
	u8 sel = fuzz_u8(in);
	u64 near = 0;

	if (n) {
		near = r[(sel >> 1) % n].guest_phys_addr;
		if (sel & 1)
			near += r[(sel >> 1) % n].memory_size;
	}
	return fuzz_val(in, near);
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	struct fuzz_in in = { .p = data, .left = size };
	struct vhost_memory_region r[MAX_REGIONS];
	struct iovec iov[MAX_IOV], miov[MAX_IOV];
	const struct vhost_memory_region *mr;
	const struct ivhost_region *reg;
	struct ivhost_memtable *mt;
	u32 n = fuzz_u8(&in) % (MAX_REGIONS + 1), i, ops = 0;
	unsigned int max;
	u64 gpa, len;
	int want, got, k;
	bool fail;

	memset(r, 0, sizeof(r));
	for (i = 0; i < n; i++) {
		r[i].guest_phys_addr = get_addr(&in, r, i);
		r[i].memory_size = fuzz_val(&in, 0);
		r[i].userspace_addr = fuzz_val(&in, 0);
		/* Mostly regions that pass, to get to the lookups. */
		if (fuzz_u8(&in) & 1 && !r[i].memory_size)
			r[i].memory_size = 1;
	}
	for (i = 0; i < n; i++) {
		want = r[i].memory_size && !wraps(r[i].guest_phys_addr,
						  r[i].memory_size) &&
		       !wraps(r[i].userspace_addr, r[i].memory_size) ?
		       0 : -EINVAL;
		FUZZ_CHECK(ivhost_region_check(&r[i]) == want,
			   "region_check(%llx, %llx, %llx)",
			   r[i].guest_phys_addr, r[i].memory_size,
			   r[i].userspace_addr);
	}

	/* The table is one allocation: failing it must fail the build. */
	fail = fuzz_u8(&in) == 0xff;
	tools_alloc_fail = fail;
	mt = ivhost_memtable_build(r, n);
	tools_alloc_fail = 0;
	if (fail) {
		FUZZ_CHECK(mt == ERR_PTR(-ENOMEM), "no -ENOMEM");
		return 0;
	}
	want = model_build(r, n);
	FUZZ_CHECK(IS_ERR(mt) ? PTR_ERR(mt) == want : !want,
		   "build of %u regions: %ld, model %d", n,
		   IS_ERR(mt) ? PTR_ERR(mt) : 0L, want);
	if (IS_ERR(mt))
		return 0;
	FUZZ_CHECK(mt->nregions == n, "nregions %u", mt->nregions);

	while (in.left && ops++ < 256) {
		gpa = get_addr(&in, r, n);
		if (fuzz_u8(&in) & 1) {
			reg = ivhost_memtable_find(mt, gpa);
			mr = model_find(r, n, gpa);
			FUZZ_CHECK(!reg == !mr, "find(%llx): %p, model %p", gpa,
				   reg, mr);
			if (reg)
				FUZZ_CHECK(reg->start == mr->guest_phys_addr &&
					   reg->last == mr->guest_phys_addr +
					   mr->memory_size - 1 &&
					   reg->uaddr == mr->userspace_addr,
					   "find(%llx): wrong region", gpa);
			continue;
		}
		len = fuzz_val(&in, 0);
		max = fuzz_u8(&in) % (MAX_IOV + 1);
		memset(iov, 0xa5, sizeof(iov));
		got = ivhost_memtable_translate(mt, gpa, len, iov, max);
		want = model_translate(r, n, gpa, len, miov, max);
		FUZZ_CHECK(got == want,
			   "translate(%llx, %llx, max %u) = %d, model %d",
			   gpa, len, max, got, want);
		for (k = 0; k < got; k++)
			FUZZ_CHECK(iov[k].iov_base == miov[k].iov_base &&
				   iov[k].iov_len == miov[k].iov_len,
				   "segment %d: %p+%zx, model %p+%zx", k,
				   iov[k].iov_base, iov[k].iov_len,
				   miov[k].iov_base, miov[k].iov_len);
	}
	ivhost_memtable_free(mt);
	return 0;
}
