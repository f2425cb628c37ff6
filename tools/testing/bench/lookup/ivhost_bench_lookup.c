// SPDX-License-Identifier: GPL-2.0
/**
 * DOC: IOTLB lookup benchmark (workload 5)
 *
 * Measures what one IOVA translation costs, in nanoseconds, in two
 * device-IOTLB caches: ivhost's own (ivhost_iotlb_lookup(), which tries the
 * entry it hit last before descending its red-black tree) and the kernel's
 * generic vhost IOTLB (vhost_iotlb_itree_first(), as vhost_net uses it).
 *
 * Each cache is filled with 16, 2048 or 65536 entries of one 4 KiB page,
 * placed 8 KiB apart so that none coalesce, and with a limit that evicts
 * nothing.  Two arrays of IOVAs are prepared before any timing:
 *
 *  - last: the same IOVA every time, so ivhost always hits its hint;
 *  - random: uniformly chosen cached entries, from a fixed-seed PRNG, so
 *    every run looks up the same sequence.
 *
 * A batch runs, with preemption disabled, a loop that only reads the
 * array and accumulates it, then the same loop calling the lookup, each
 * between two ktime_get_ns() reads.  The difference, divided by the
 * lookups per batch, is the batch's figure; the median of several batches
 * is reported, so an interrupt in one batch does not move it.  Nothing in
 * the timed section depends on time but the clock reads, so under QEMU's
 * -icount the figures are deterministic.
 *
 * Reading <debugfs>/ivhost_bench/lookup runs the whole benchmark and
 * returns one line per figure::
 *
 *	BENCH w5/<impl>/<entries>/<pattern>/ns <value>
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/debugfs.h>
#include <linux/err.h>
#include <linux/kernel.h>
#include <linux/ktime.h>
#include <linux/math64.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/preempt.h>
#include <linux/seq_file.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/vhost_iotlb.h>

#include "iotlb.h"

#define BENCH_BATCHES		9
#define BENCH_LOOKUPS		20000
#define BENCH_IOVA_BASE		0x100000000ULL
#define BENCH_UADDR_BASE	0x7f0000000000ULL
#define BENCH_STRIDE		SZ_8K
#define BENCH_PAGE		SZ_4K
#define BENCH_SEED		0x2545f4914f6cdd1dULL

enum bench_pattern {
	BENCH_LAST,
	BENCH_RANDOM,
	BENCH_NPATTERNS,
};

static const char * const bench_pattern_names[BENCH_NPATTERNS] = {
	[BENCH_LAST] = "last",
	[BENCH_RANDOM] = "random",
};

static const u32 bench_sizes[] = { 16, 2048, 65536 };

/**
 * struct bench_impl - one IOTLB implementation under test
 * @name: its name in the output
 * @build: allocate a cache holding @nentries pages; ERR_PTR on failure
 * @destroy: free what @build returned
 * @hit: untimed check that @iova translates correctly
 * @loop: the timed loop: look up every IOVA of the array
 */
struct bench_impl {
	const char *name;
	void *(*build)(u32 nentries);
	void (*destroy)(void *tlb);
	bool (*hit)(void *tlb, u64 iova);
	u64 (*loop)(void *tlb, const u64 *iova, u32 count);
};

/**
 * struct bench_arrays - the IOVAs looked up, one array per pattern
 * @iova: BENCH_LOOKUPS addresses for each pattern
 */
struct bench_arrays {
	u64 *iova[BENCH_NPATTERNS];
};

static DEFINE_MUTEX(bench_lock);
static struct dentry *bench_dir;
/* Where the loops' sums go, so that the compiler must compute them. */
static u64 bench_sink;

static u64 bench_entry_start(u32 i)
{
	return BENCH_IOVA_BASE + (u64)i * BENCH_STRIDE;
}

static u64 bench_entry_uaddr(u32 i)
{
	return BENCH_UADDR_BASE + (u64)i * BENCH_PAGE;
}

/* xorshift64*: small, fast and the same sequence on every run. */
static u64 bench_rand_next(u64 *state)
{
	u64 x = *state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * 0x2545f4914f6cdd1dULL;
}

static void bench_fill_last(u64 *iova, u32 nentries)
{
	u64 addr = bench_entry_start(nentries / 2) + 0x123;
	u32 i;

	for (i = 0; i < BENCH_LOOKUPS; i++)
		iova[i] = addr;
}

static void bench_fill_random(u64 *iova, u32 nentries)
{
	u64 state = BENCH_SEED;
	u64 r;
	u32 i;

	for (i = 0; i < BENCH_LOOKUPS; i++) {
		r = bench_rand_next(&state);
		iova[i] = bench_entry_start(reciprocal_scale(r >> 32, nentries)) +
			  (r & (BENCH_PAGE - 1));
	}
}

/* The baseline: the loops below without the lookup. */
static noinline u64 bench_loop_none(void *tlb, const u64 *iova, u32 count)
{
	u64 acc = 0;
	u32 i;

	for (i = 0; i < count; i++)
		acc += READ_ONCE(iova[i]);
	return acc;
}

static void *bench_ivhost_build(u32 nentries)
{
	struct ivhost_iotlb_spare spare;
	struct ivhost_iotlb *tlb;
	u64 start;
	u32 i;

	tlb = kzalloc(sizeof(*tlb), GFP_KERNEL);
	if (!tlb)
		return ERR_PTR(-ENOMEM);
	ivhost_iotlb_init(tlb, nentries);
	for (i = 0; i < nentries; i++) {
		if (ivhost_iotlb_spare_alloc(&spare, GFP_KERNEL))
			goto clear_tlb;
		start = bench_entry_start(i);
		ivhost_iotlb_update(tlb, &spare, start, start + BENCH_PAGE - 1,
				    bench_entry_uaddr(i), IVHOST_PERM_RW);
		ivhost_iotlb_spare_free(&spare);
		cond_resched();
	}
	return tlb;

clear_tlb:
	ivhost_iotlb_clear(tlb);
	kfree(tlb);
	return ERR_PTR(-ENOMEM);
}

static void bench_ivhost_destroy(void *tlb)
{
	ivhost_iotlb_clear(tlb);
	kfree(tlb);
}

static bool bench_ivhost_hit(void *tlb, u64 iova)
{
	struct ivhost_iotlb_entry *e = ivhost_iotlb_lookup(tlb, iova);

	return e && e->start <= iova && iova <= e->last &&
	       e->last - e->start == BENCH_PAGE - 1;
}

static noinline u64 bench_ivhost_loop(void *tlb, const u64 *iova, u32 count)
{
	u64 acc = 0;
	u32 i;

	for (i = 0; i < count; i++)
		acc += (uintptr_t)ivhost_iotlb_lookup(tlb, READ_ONCE(iova[i]));
	return acc;
}

static void *bench_vhost_build(u32 nentries)
{
	struct vhost_iotlb *tlb;
	u64 start;
	int ret;
	u32 i;

	tlb = vhost_iotlb_alloc(nentries, 0);
	if (!tlb)
		return ERR_PTR(-ENOMEM);
	for (i = 0; i < nentries; i++) {
		start = bench_entry_start(i);
		ret = vhost_iotlb_add_range(tlb, start, start + BENCH_PAGE - 1,
					    bench_entry_uaddr(i), VHOST_MAP_RW);
		if (ret)
			goto free_tlb;
		cond_resched();
	}
	return tlb;

free_tlb:
	vhost_iotlb_free(tlb);
	return ERR_PTR(ret);
}

static void bench_vhost_destroy(void *tlb)
{
	vhost_iotlb_free(tlb);
}

static bool bench_vhost_hit(void *tlb, u64 iova)
{
	struct vhost_iotlb_map *map = vhost_iotlb_itree_first(tlb, iova, iova);

	return map && map->start <= iova && iova <= map->last &&
	       map->size == BENCH_PAGE;
}

static noinline u64 bench_vhost_loop(void *tlb, const u64 *iova, u32 count)
{
	u64 acc = 0;
	u64 addr;
	u32 i;

	for (i = 0; i < count; i++) {
		addr = READ_ONCE(iova[i]);
		acc += (uintptr_t)vhost_iotlb_itree_first(tlb, addr, addr);
	}
	return acc;
}

static const struct bench_impl bench_impls[] = {
	{
		.name = "ivhost",
		.build = bench_ivhost_build,
		.destroy = bench_ivhost_destroy,
		.hit = bench_ivhost_hit,
		.loop = bench_ivhost_loop,
	},
	{
		.name = "vhost_iotlb",
		.build = bench_vhost_build,
		.destroy = bench_vhost_destroy,
		.hit = bench_vhost_hit,
		.loop = bench_vhost_loop,
	},
};

/**
 * struct bench_results - every figure, in tenths of a nanosecond
 * @tenths: by implementation, size and pattern
 */
struct bench_results {
	u64 tenths[ARRAY_SIZE(bench_impls)][ARRAY_SIZE(bench_sizes)]
		  [BENCH_NPATTERNS];
};

/* One batch: the lookup loop's time minus the baseline's, in ns. */
static s64 bench_batch(const struct bench_impl *impl, void *tlb,
		       const u64 *iova)
{
	u64 t0, t1, t2, base, full;

	preempt_disable();
	t0 = ktime_get_ns();
	base = bench_loop_none(tlb, iova, BENCH_LOOKUPS);
	t1 = ktime_get_ns();
	full = impl->loop(tlb, iova, BENCH_LOOKUPS);
	t2 = ktime_get_ns();
	preempt_enable();

	WRITE_ONCE(bench_sink, base + full);
	return (s64)(t2 - t1) - (s64)(t1 - t0);
}

static int bench_cmp_s64(const void *a, const void *b)
{
	s64 x = *(const s64 *)a, y = *(const s64 *)b;

	return x < y ? -1 : x > y;
}

/* Check every lookup of @iova (warming the cache), then time it. */
static int bench_measure(const struct bench_impl *impl, void *tlb,
			 const u64 *iova, u64 *tenths)
{
	s64 delta[BENCH_BATCHES];
	u32 i;

	for (i = 0; i < BENCH_LOOKUPS; i++) {
		if (!impl->hit(tlb, iova[i])) {
			pr_err("%s: no translation for iova %#llx\n",
			       impl->name, iova[i]);
			return -EIO;
		}
	}
	for (i = 0; i < BENCH_BATCHES; i++) {
		delta[i] = bench_batch(impl, tlb, iova);
		cond_resched();
	}
	sort(delta, BENCH_BATCHES, sizeof(delta[0]), bench_cmp_s64, NULL);
	*tenths = div_u64(max_t(s64, delta[BENCH_BATCHES / 2], 0) * 10 +
			  BENCH_LOOKUPS / 2, BENCH_LOOKUPS);
	return 0;
}

/* Fill one implementation's cache with @nentries and time each pattern. */
static int bench_impl_size(const struct bench_impl *impl, u32 nentries,
			   const struct bench_arrays *arr, u64 *tenths)
{
	void *tlb;
	int p, ret = 0;

	tlb = impl->build(nentries);
	if (IS_ERR(tlb))
		return PTR_ERR(tlb);
	for (p = 0; p < BENCH_NPATTERNS && !ret; p++)
		ret = bench_measure(impl, tlb, arr->iova[p], &tenths[p]);
	impl->destroy(tlb);
	return ret;
}

static int bench_arrays_alloc(struct bench_arrays *arr)
{
	int p;

	for (p = 0; p < BENCH_NPATTERNS; p++) {
		arr->iova[p] = kvmalloc_array(BENCH_LOOKUPS, sizeof(u64),
					      GFP_KERNEL);
		if (!arr->iova[p])
			goto free_arrays;
	}
	return 0;

free_arrays:
	while (p--)
		kvfree(arr->iova[p]);
	return -ENOMEM;
}

static void bench_arrays_free(struct bench_arrays *arr)
{
	int p;

	for (p = 0; p < BENCH_NPATTERNS; p++)
		kvfree(arr->iova[p]);
}

static int bench_run_all(struct bench_results *res)
{
	struct bench_arrays arr;
	int s, i, ret;

	ret = bench_arrays_alloc(&arr);
	if (ret)
		return ret;
	for (s = 0; s < ARRAY_SIZE(bench_sizes); s++) {
		bench_fill_last(arr.iova[BENCH_LAST], bench_sizes[s]);
		bench_fill_random(arr.iova[BENCH_RANDOM], bench_sizes[s]);
		for (i = 0; i < ARRAY_SIZE(bench_impls); i++) {
			ret = bench_impl_size(&bench_impls[i], bench_sizes[s],
					      &arr, res->tenths[i][s]);
			if (ret)
				goto free_arrays;
		}
	}

free_arrays:
	bench_arrays_free(&arr);
	return ret;
}

static void bench_print(struct seq_file *m, const struct bench_results *res)
{
	u32 frac;
	u64 t;
	int i, s, p;

	for (i = 0; i < ARRAY_SIZE(bench_impls); i++)
		for (s = 0; s < ARRAY_SIZE(bench_sizes); s++)
			for (p = 0; p < BENCH_NPATTERNS; p++) {
				t = div_u64_rem(res->tenths[i][s][p], 10, &frac);
				seq_printf(m, "BENCH w5/%s/%u/%s/ns %llu.%u\n",
					   bench_impls[i].name, bench_sizes[s],
					   bench_pattern_names[p], t, frac);
			}
}

static int bench_lookup_show(struct seq_file *m, void *v)
{
	struct bench_results res;
	int ret;

	ret = mutex_lock_killable(&bench_lock);
	if (ret)
		return ret;
	ret = bench_run_all(&res);
	mutex_unlock(&bench_lock);
	if (ret)
		return ret;
	bench_print(m, &res);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(bench_lookup);

static int __init bench_init(void)
{
	struct dentry *file;

	bench_dir = debugfs_create_dir("ivhost_bench", NULL);
	if (IS_ERR(bench_dir))
		return PTR_ERR(bench_dir);
	file = debugfs_create_file("lookup", 0400, bench_dir, NULL,
				   &bench_lookup_fops);
	if (IS_ERR(file))
		goto remove_dir;
	return 0;

remove_dir:
	debugfs_remove_recursive(bench_dir);
	return PTR_ERR(file);
}

static void __exit bench_exit(void)
{
	debugfs_remove_recursive(bench_dir);
}

module_init(bench_init);
module_exit(bench_exit);

MODULE_LICENSE("GPL");
MODULE_IMPORT_NS(IVHOST_INTERNAL);
MODULE_DESCRIPTION("ivhost IOTLB lookup benchmark: ivhost vs vhost_iotlb");
