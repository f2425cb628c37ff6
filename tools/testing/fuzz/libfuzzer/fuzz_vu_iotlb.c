// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: ivhost-user's device IOTLB (tools/vhost-user/iotlb.c:
 * ivu_iotlb_msg(), ivu_iotlb_iov(), ivu_iotlb_ptr()), over a memory table
 * of one or two memfd-backed regions mapped by the daemon's own mem.c.
 *
 * The oracle is written from the documented promise (tools/vhost-user/
 * README, "The device IOTLB"; Documentation/userspace-api/ivhost.rst,
 * "Semantics" and "Rejected IOTLB messages"), against a list of
 * intervals kept here:
 *   - an UPDATE is accepted (0) exactly when its perm is 1..3, its size
 *     is not 0, neither its IOVA nor its uaddr range wraps past 2^64 and
 *     the uaddr range lies whole in one region; it then replaces whatever
 *     it overlaps, last write wins;
 *   - an INVALIDATE is accepted exactly when it does not wrap (a range
 *     ending at 2^64 is fine) and its size is not 0, or it is iova 0 size
 *     0 (everything); it removes exactly its range;
 *   - every other type, and any message without IOMMU_PLATFORM, is
 *     refused; a refused message changes nothing;
 *   - a translation of a range every byte of which an entry allows gives
 *     segments whose bytes are, in order, the file bytes the entries'
 *     uaddrs name through the memory table (checked by content: each
 *     memfd holds random bytes, so a segment at the wrong place, or
 *     outside the regions, reads differently), each segment inside one
 *     region; an unmapped byte is a miss (-EAGAIN), a forbidden access
 *     -EACCES, a wrapping range -EFAULT; ivu_iotlb_ptr() gives the one
 *     local address when the bytes are contiguous locally, else, for
 *     reading up to VU_COPY_MAX bytes, a copy of them, else -EFAULT.
 * At most 256 operations per input: the cache (2048 entries) never
 * evicts, so the model needs no eviction.
 *
 * Input: nregions-1 (bit 0); per region: file pages, mmap_offset pages,
 * memory_size pages, uaddr (fuzz_val); then operations, a byte each
 * (sel % 8): 0-1 UPDATE, 2 INVALIDATE, 3 a raw type, 4-5 translate into
 * segments, 6 translate into a pointer, 7 flush (even) or toggle
 * IOMMU_PLATFORM (odd); operands as decoded below.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/virtio_config.h>

#include "fuzz_common.h"
#include "ivu.h"
#include "vu_stubs.h"

#define VU_PAGE		4096ULL
#define VU_MAX_OPS	256
#define VU_MAX_ENT	(3 * VU_MAX_OPS + 1)
#define VU_SEGS		64	/* entries one translation may step into */
#define VU_COPY_MAX	(1024 * 16)	/* the largest indirect table */

struct vu_region {
	int fd;
	u64 file_len, off, size, uaddr;
	unsigned char *content;
};

struct vu_ent {
	u64 start, last, uaddr;
	u8 perm;
};

static struct ivu_dev dev = { .queues = 1, .conn_fd = -1,
			      .backend_fd = -1, .epfd = -1 };
static struct vu_region reg[2];
static unsigned int nreg;
static struct vu_ent ent[VU_MAX_ENT];
static unsigned int nent;

/* ---- the model: non-overlapping closed intervals, unsorted ---- */

/* Remove [s, l] from every interval, splitting those it cuts. */
static void model_remove(u64 s, u64 l)
{
	unsigned int i, n = nent;

	for (i = 0; i < n; i++) {
		struct vu_ent e = ent[i];

		if (e.last < s || e.start > l)
			continue;
		ent[i].perm = 0;	/* dropped unless pieces remain */
		if (e.start < s) {
			ent[i] = e;
			ent[i].last = s - 1;
		}
		if (e.last > l) {
			struct vu_ent *t = ent[i].perm ? &ent[nent++] : &ent[i];

			*t = e;
			t->start = l + 1;
			t->uaddr = e.uaddr + (l + 1 - e.start);
		}
	}
	for (i = 0; i < nent; )
		if (!ent[i].perm)
			ent[i] = ent[--nent];
		else
			i++;
}

static const struct vu_ent *model_find(u64 a)
{
	unsigned int i;

	for (i = 0; i < nent; i++)
		if (ent[i].start <= a && a <= ent[i].last)
			return &ent[i];
	return NULL;
}

/* The smallest entry start above @a, or 0 if none (then nothing above). */
static bool model_next(u64 a, u64 *next)
{
	bool any = false;
	unsigned int i;

	for (i = 0; i < nent; i++)
		if (ent[i].start > a && (!any || ent[i].start < *next)) {
			*next = ent[i].start;
			any = true;
		}
	return any;
}

/* The region holding the uaddr range [u, u + len - 1] whole, or -1. */
static int region_of(u64 u, u64 len)
{
	unsigned int i;

	for (i = 0; i < nreg; i++)
		if (u >= reg[i].uaddr && len <= reg[i].size &&
		    u - reg[i].uaddr <= reg[i].size - len)
			return i;
	return -1;
}

/* ---- inputs ---- */

static u64 pick_addr(struct fuzz_in *in)
{
	u8 k = fuzz_u8(in);
	u64 near = 0;

	if (k & 0x80 && nent)
		near = k & 1 ? ent[k % nent].last + 1 : ent[k % nent].start;
	else if (k & 0x40)
		near = reg[k % nreg].uaddr;
	return fuzz_val(in, near);
}

/* A uaddr: mostly inside or next to a region. */
static u64 pick_uaddr(struct fuzz_in *in)
{
	u8 k = fuzz_u8(in);
	const struct vu_region *r = &reg[k % nreg];

	switch (k >> 5) {
	case 0:
		return fuzz_val(in, r->uaddr);
	case 1:
		return r->uaddr + r->size - fuzz_u8(in);
	default:
		return r->uaddr + fuzz_u16(in) % (r->size + 16);
	}
}

static u64 pick_len(struct fuzz_in *in)
{
	u8 k = fuzz_u8(in);

	if (k & 0x80)
		return fuzz_val(in, 0);
	return 1 + fuzz_u16(in) % (k & 0x40 ? 0x10000 : 0x2000);
}

/* ---- the operations ---- */

static int iotlb_msg(u8 type, u64 iova, u64 size, u64 uaddr, u8 perm)
{
	struct vhost_iotlb_msg m = {
		.iova = iova, .size = size, .uaddr = uaddr, .perm = perm,
		.type = type,
	};

	return ivu_iotlb_msg(&dev, &m);
}

static bool iommu_on(void)
{
	return dev.features & (1ULL << VIRTIO_F_ACCESS_PLATFORM);
}

static void op_update(struct fuzz_in *in)
{
	u64 iova = pick_addr(in), size = pick_len(in);
	u64 uaddr = pick_uaddr(in);
	u8 perm = fuzz_u8(in);
	bool ok = iommu_on() && perm >= 1 && perm <= 3 && size &&
		  iova <= ~0ULL - (size - 1) && uaddr <= ~0ULL - (size - 1) &&
		  region_of(uaddr, size) >= 0;
	int r = iotlb_msg(VHOST_IOTLB_UPDATE, iova, size, uaddr, perm);

	VU_CHECK(ok ? r == 0 : r != 0,
		 "UPDATE iova 0x%llx size 0x%llx uaddr 0x%llx perm %u: %d, documented: %s", iova, size, uaddr, perm, r,
		 ok ? "accepted" : "refused");
	if (!ok)
		return;
	model_remove(iova, iova + size - 1);
	ent[nent++] = (struct vu_ent){ iova, iova + size - 1, uaddr, perm };
}

static void op_invalidate(struct fuzz_in *in)
{
	u64 iova = pick_addr(in), size = pick_len(in);
	u8 perm = fuzz_u8(in);
	bool all = !iova && !size;
	bool ok = iommu_on() && (all || (size && iova <= ~0ULL - (size - 1)));
	int r = iotlb_msg(VHOST_IOTLB_INVALIDATE, iova, size, 0, perm);

	VU_CHECK(ok ? r == 0 : r != 0,
		 "INVALIDATE iova 0x%llx size 0x%llx: %d, documented: %s",
		 iova, size, r, ok ? "accepted" : "refused");
	if (ok)
		model_remove(all ? 0 : iova, all ? ~0ULL : iova + size - 1);
}

static void op_raw(struct fuzz_in *in)
{
	u8 type = fuzz_u8(in);
	u64 iova = pick_addr(in), size = pick_len(in);
	int r;

	if (type == VHOST_IOTLB_UPDATE || type == VHOST_IOTLB_INVALIDATE)
		type = VHOST_IOTLB_MISS + (type & 1) * 3;	/* MISS, ACCESS_FAIL */
	r = iotlb_msg(type, iova, size, pick_uaddr(in), fuzz_u8(in));
	VU_CHECK(r != 0, "IOTLB message of type %u accepted", type);
}

/*
 * Walk the model over [iova, iova + len - 1]: what the translation
 * must give.  *entries counts the entries stepped into.
 */
struct vu_expect {
	bool unmapped, denied, wraps;
	unsigned int entries;
};

static void expect_of(u64 iova, u64 len, u8 perm, struct vu_expect *x)
{
	u64 a = iova, last, next;
	const struct vu_ent *e;

	memset(x, 0, sizeof(*x));
	if (!len)
		return;
	if (iova > ~0ULL - (len - 1)) {
		x->wraps = true;
		return;
	}
	last = iova + len - 1;
	for (;;) {
		e = model_find(a);
		if (e) {
			x->entries++;
			if ((e->perm & perm) != perm)
				x->denied = true;
			if (e->last >= last)
				return;
			a = e->last + 1;
			continue;
		}
		x->unmapped = true;
		if (!model_next(a, &next) || next > last)
			return;
		a = next;
	}
}

/*
 * The bytes of [iova, iova + len - 1], all mapped, must be those of the
 * @n local segments, in order: compared with the memfds' contents.  The
 * segments are inside the regions' mappings unless @copied.
 */
static void check_bytes(u64 iova, u64 len, const struct iovec *iov,
			unsigned int n, bool copied)
{
	unsigned int i, s = 0;
	size_t soff = 0;
	u64 a = iova, left = len;

	for (i = 0; i < n && !copied; i++) {
		unsigned int k;
		bool inside = false;

		for (k = 0; k < nreg; k++) {
			uintptr_t b = (uintptr_t)dev.mem.map[k] + reg[k].off;
			uintptr_t p = (uintptr_t)iov[i].iov_base;

			inside |= p >= b && iov[i].iov_len <= reg[k].size &&
				  p - b <= reg[k].size - iov[i].iov_len;
		}
		VU_CHECK(inside && iov[i].iov_len,
			 "segment %u (%p, %zu) of iova 0x%llx len 0x%llx is not inside one region", i, iov[i].iov_base,
			 iov[i].iov_len, iova, len);
	}
	while (left) {
		const struct vu_ent *e = model_find(a);
		u64 u = e->uaddr + (a - e->start);
		u64 chunk = min(left, e->last - a + 1);
		int k = region_of(u, 1);
		u64 fo;

		VU_CHECK(k >= 0, "model: uaddr 0x%llx in no region", u);
		chunk = min(chunk, reg[k].uaddr + reg[k].size - u);
		fo = reg[k].off + (u - reg[k].uaddr);
		while (chunk) {
			size_t c;

			VU_CHECK(s < n, "iova 0x%llx len 0x%llx: segments end 0x%llx bytes early", iova, len, left);
			c = min((u64)(iov[s].iov_len - soff), chunk);
			VU_CHECK(!memcmp((char *)iov[s].iov_base + soff,
					 reg[k].content + fo, c),
				 "iova 0x%llx: segment %u byte %zu does not hold region %d's file offset 0x%llx (uaddr 0x%llx)",
				 a, s, soff, k, fo, u);
			soff += c;
			fo += c;
			a += c;
			u += c;
			left -= c;
			chunk -= c;
			if (soff == iov[s].iov_len) {
				s++;
				soff = 0;
			}
		}
	}
	VU_CHECK(s == n, "iova 0x%llx len 0x%llx: %u segments, bytes for %u",
		 iova, len, n, s);
}

/* An error for a translation the model says fails: the right one. */
static void check_error(const struct vu_expect *x, int r, u64 iova, u64 len,
			u8 perm)
{
	if (x->entries > VU_SEGS && r < 0)
		return;
	if (x->wraps)
		VU_CHECK(r == -EFAULT, "iova 0x%llx len 0x%llx wraps: %d",
			 iova, len, r);
	else if (x->denied && !x->unmapped)
		VU_CHECK(r == -EACCES, "iova 0x%llx len 0x%llx perm %u forbidden: %d", iova, len, perm, r);
	else if (x->unmapped && !x->denied)
		VU_CHECK(r == -EAGAIN, "iova 0x%llx len 0x%llx unmapped: %d",
			 iova, len, r);
	else
		VU_CHECK(r == -EAGAIN || r == -EACCES, "iova 0x%llx len 0x%llx partly unmapped and forbidden: %d", iova, len, r);
}

static void op_iov(struct fuzz_in *in)
{
	static struct iovec iov[2 * VU_SEGS];
	u64 iova = pick_addr(in), len = pick_len(in);
	u8 perm = 1 + fuzz_u8(in) % 3;
	struct vu_expect x;
	int r;

	if (!iommu_on())
		return;
	expect_of(iova, len, perm, &x);
	ivu_vring_frame_begin(&dev.vq[0]);
	r = ivu_iotlb_iov(&dev, &dev.vq[0], iova, len, perm, iov,
			  ARRAY_SIZE(iov));
	if (!len) {
		VU_CHECK(r == 0, "len 0 gave %d", r);
		return;
	}
	if (x.wraps || x.unmapped || x.denied) {
		VU_CHECK(r < 0, "iova 0x%llx len 0x%llx perm %u: %d segments, documented: refused (unmapped %d denied %d wraps %d)",
			 iova, len, perm, r, x.unmapped, x.denied, x.wraps);
		check_error(&x, r, iova, len, perm);
		return;
	}
	if (x.entries > VU_SEGS && r < 0)
		return;
	VU_CHECK(r > 0, "iova 0x%llx len 0x%llx perm %u, mapped in %u entries: %d", iova, len, perm, x.entries, r);
	check_bytes(iova, len, iov, r, false);
}

/* How many local pieces [iova, iova + len - 1] is in. */
static int op_ptr_pieces(u64 iova, u64 len, u8 perm)
{
	static struct iovec iov[2 * VU_SEGS];

	ivu_vring_frame_begin(&dev.vq[0]);
	return ivu_iotlb_iov(&dev, &dev.vq[0], iova, len, perm, iov,
			     ARRAY_SIZE(iov));
}

static void op_ptr(struct fuzz_in *in)
{
	u64 iova = pick_addr(in), len = pick_len(in);
	u8 perm = 1 + fuzz_u8(in) % 3;
	struct vu_expect x;
	struct iovec one;
	void *p = NULL;
	int r;

	if (!iommu_on() || !len)
		return;
	expect_of(iova, len, perm, &x);
	r = ivu_iotlb_ptr(&dev, &dev.vq[0], iova, len, perm, false, &p);
	if (x.wraps || x.unmapped || x.denied) {
		VU_CHECK(r < 0, "ptr iova 0x%llx len 0x%llx perm %u: %d", iova,
			 len, perm, r);
		check_error(&x, r, iova, len, perm);
		return;
	}
	if (r == -EFAULT || (x.entries > VU_SEGS && r < 0)) {
		/*
		 * Documented when the bytes are not contiguous locally and
		 * are not copied: a write, or more than an indirect table.
		 */
		int n = op_ptr_pieces(iova, len, perm);

		VU_CHECK(n != 1, "ptr iova 0x%llx len 0x%llx: %d, but one contiguous segment", iova, len, r);
		VU_CHECK(n < 0 || perm != IVHOST_PERM_RO || len > VU_COPY_MAX,
			 "ptr iova 0x%llx len 0x%llx: %d, but %d pieces to copy",
			 iova, len, r, n);
		return;
	}
	VU_CHECK(r == 0, "ptr iova 0x%llx len 0x%llx perm %u: %d", iova, len,
		 perm, r);
	one.iov_base = p;
	one.iov_len = len;
	check_bytes(iova, len, &one, 1, op_ptr_pieces(iova, len, perm) > 1);
}

static void op_misc(struct fuzz_in *in)
{
	u8 k = fuzz_u8(in);

	if (k & 1) {
		dev.features ^= 1ULL << VIRTIO_F_ACCESS_PLATFORM;
		return;
	}
	ivu_iotlb_flush(&dev);
	nent = 0;
}

/* ---- setup ---- */

static void fill_random(unsigned char *p, size_t n, u32 seed)
{
	u32 x = seed * 2654435761u + 1;
	size_t i;

	for (i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		p[i] = x >> 7;
	}
}

static int setup_regions(struct fuzz_in *in)
{
	struct {
		u32 n, pad;
		u64 r[2][4];
	} __packed tab = { 0 };
	int fds[2];
	unsigned int i;

	nreg = 1 + (fuzz_u8(in) & 1);
	for (i = 0; i < nreg; i++) {
		struct vu_region *r = &reg[i];
		u8 pages = 1 + (fuzz_u8(in) & 7);

		r->file_len = pages * VU_PAGE;
		r->off = (fuzz_u8(in) % pages) * VU_PAGE;
		r->size = min(r->file_len - r->off,
			      (1 + (fuzz_u8(in) & 7)) * VU_PAGE);
		r->uaddr = fuzz_val(in, i ? reg[0].uaddr + reg[0].size : 0);
		r->content = malloc(r->file_len);
		fill_random(r->content, r->file_len, i + 1);
		r->fd = memfd_create("fzvu", MFD_CLOEXEC);
		if (r->fd < 0 || ftruncate(r->fd, r->file_len) ||
		    pwrite(r->fd, r->content, r->file_len, 0) !=
		    (ssize_t)r->file_len)
			abort();
		fds[i] = r->fd;
		tab.r[i][0] = i * 0x100000000ULL;	/* guest-physical */
		tab.r[i][1] = r->size;
		tab.r[i][2] = r->uaddr;
		tab.r[i][3] = r->off;
	}
	tab.n = nreg;
	return ivu_mem_set(&dev.mem, &tab, 8 + nreg * 32, fds, nreg);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	unsigned int i;

	(void)argc;
	(void)argv;
	for (i = 0; i < IVU_MAX_VQ; i++)
		ivu_vring_init(&dev.vq[i], i);
	ivu_iotlb_init(&dev);
	return 0;
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	struct fuzz_in in = { data, size };
	unsigned int i, ops = 0;

	vu_quiet(true);
	nent = 0;
	dev.features = 1ULL << VIRTIO_F_ACCESS_PLATFORM;
	if (!setup_regions(&in)) {
		while (in.left && ops++ < VU_MAX_OPS) {
			switch (fuzz_u8(&in) % 8) {
			case 0:
			case 1:
				op_update(&in);
				break;
			case 2:
				op_invalidate(&in);
				break;
			case 3:
				op_raw(&in);
				break;
			case 4:
			case 5:
				op_iov(&in);
				break;
			case 6:
				op_ptr(&in);
				break;
			default:
				op_misc(&in);
			}
		}
	}
	dev.features = 1ULL << VIRTIO_F_ACCESS_PLATFORM;
	ivu_iotlb_flush(&dev);
	ivu_mem_free(&dev.mem);
	for (i = 0; i < nreg; i++) {
		close(reg[i].fd);
		free(reg[i].content);
	}
	vu_quiet(false);
	return 0;
}
