// SPDX-License-Identifier: GPL-2.0
/*
 * Dirty logging for live migration: the frontend's log (SET_LOG_BASE
 * with LOG_SHMFD), the pages the daemon writes marked in it, and
 * SET_LOG_FD's eventfd.
 *
 * The log is a bitmap in a file the frontend passes: bit n % 8 of byte
 * n / 8 stands for the guest-physical page at n * 4096.  It is on while
 * VHOST_F_LOG_ALL is acked and a log is mapped.  The frontend fetches and
 * clears the bitmap while the daemon runs, so bits are set with an
 * atomic OR, never with a plain read-modify-write.
 *
 * What is marked, as the kernel device marks it (drivers/vhost/log.c):
 * every byte written into an RX buffer, and, for a ring configured with
 * VHOST_VRING_F_LOG, every write to its used ring (entries, index,
 * flags, avail_event); packed: to its device area, and the used
 * descriptors it writes in its descriptor ring (by their local address).
 * The daemon knows what it wrote as local addresses; RX buffers are
 * logged by translating them back through the memory table (every region
 * mapping them), never by their IOVAs.  The used ring is logged at
 * log_guest_addr + offset, as the protocol says, but with the device
 * IOTLB, where log_guest_addr is an IOVA, by its local address as the
 * buffers are.  A mark comes after the write it stands for, so a frontend
 * that sees the bit copies the new data.
 *
 * The frontend is not trusted: every mark is checked against the log's
 * size.  A write that cannot be marked (outside the log, or memory the
 * memory table does not have) stops its ring, as a failed log write
 * does on the kernel device: a ring that goes on unlogged would corrupt
 * the migrated guest in silence.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/kernel.h>

#include "ivu.h"

#define IVU_LOG_PAGE		4096ULL

/* SET_LOG_BASE's payload (VhostUserLog). */
struct ivu_log_msg {
	u64 mmap_size;
	u64 mmap_offset;
};

/**
 * ivu_dirty_on() - are writes being logged?
 * @d: the device
 *
 * Return: true while VHOST_F_LOG_ALL is acked and a log is mapped.
 */
bool ivu_dirty_on(const struct ivu_dev *d)
{
	return d->dirty.bits && (d->features & (1ULL << VHOST_F_LOG_ALL));
}

static void ivu_dirty_unmap(struct ivu_dirty *l)
{
	if (!l->map)
		return;
	ivu_mem_track(NULL, 0, l->map);
	munmap(l->map, l->map_len);
	l->map = NULL;
	l->map_len = 0;
	l->bits = NULL;
	l->size = 0;
}

/**
 * ivu_dirty_reset() - drop the log and its eventfd
 * @d: the device; logging is off until a new SET_LOG_BASE
 */
void ivu_dirty_reset(struct ivu_dev *d)
{
	ivu_dirty_unmap(&d->dirty);
	if (d->dirty.efd_set)
		close(d->dirty.efd);
	d->dirty.efd_set = false;
	d->dirty.marked = false;
}

/* Map [off, off + size) of @fd; the file must hold it all. */
static int ivu_dirty_map(struct ivu_dirty *l, int fd, u64 size, u64 off)
{
	u64 page = (u64)sysconf(_SC_PAGESIZE), start = off & ~(page - 1);
	struct stat st;
	u64 end;
	void *p;

	if (!size || __builtin_add_overflow(off, size, &end) ||
	    end - start > SIZE_MAX)
		return -EINVAL;
	/* A log past the end of its file would fault at the first mark. */
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || (u64)st.st_size < end)
		return -EINVAL;
	p = mmap(NULL, end - start, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		 start);
	if (p == MAP_FAILED)
		return -errno;
	ivu_mem_track(p, end - start, NULL);
	l->map = p;
	l->map_len = end - start;
	l->bits = (u8 *)p + (off - start);
	l->size = size;
	return 0;
}

/**
 * ivu_dirty_set_base() - SET_LOG_BASE: map a new log in place of the old
 * @d: the device
 * @payload: the message's VhostUserLog (mmap_size, mmap_offset)
 * @fd: the log's file; the caller still owns it
 *
 * On failure no log is mapped (the old one is gone too): the caller
 * closes the connection rather than let the frontend migrate unlogged.
 * Return: 0, -EINVAL for a size, offset or file that cannot hold the log,
 * or mmap()'s error.
 */
int ivu_dirty_set_base(struct ivu_dev *d, const void *payload, int fd)
{
	struct ivu_log_msg m;
	int err;

	memcpy(&m, payload, sizeof(m));
	ivu_dirty_unmap(&d->dirty);
	err = ivu_dirty_map(&d->dirty, fd, m.mmap_size, m.mmap_offset);
	if (err) {
		ivu_log("dirty log: %llu bytes at offset %llu refused: %s",
			(unsigned long long)m.mmap_size,
			(unsigned long long)m.mmap_offset, strerror(-err));
		return err;
	}
	ivu_dbg("dirty log: %llu bytes at offset %llu",
		(unsigned long long)m.mmap_size,
		(unsigned long long)m.mmap_offset);
	return 0;
}

/**
 * ivu_dirty_set_fd() - SET_LOG_FD: the eventfd signalled after marks
 * @d: the device
 * @fd: the eventfd, taken over (made non-blocking by the caller)
 */
void ivu_dirty_set_fd(struct ivu_dev *d, int fd)
{
	if (d->dirty.efd_set)
		close(d->dirty.efd);
	d->dirty.efd = fd;
	d->dirty.efd_set = true;
}

/* Mark guest pages [gpa, gpa + len): 0, or -ERANGE outside the log. */
static int ivu_dirty_gpa(struct ivu_dev *d, u64 gpa, u64 len)
{
	struct ivu_dirty *l = &d->dirty;
	u64 last, pfn;

	if (!len)
		return 0;
	if (__builtin_add_overflow(gpa, len - 1, &last) ||
	    last / IVU_LOG_PAGE / 8 >= l->size)
		return -ERANGE;
	for (pfn = gpa / IVU_LOG_PAGE; pfn <= last / IVU_LOG_PAGE; pfn++)
		__atomic_fetch_or(&l->bits[pfn / 8], (u8)(1U << (pfn % 8)),
				  __ATOMIC_RELAXED);
	__atomic_store_n(&l->marked, true, __ATOMIC_RELAXED);
	__atomic_add_fetch(&l->pages, last / IVU_LOG_PAGE - gpa / IVU_LOG_PAGE + 1,
			   __ATOMIC_RELAXED);
	return 0;
}

/*
 * Mark the guest pages behind local [p, p + len), in every region that
 * maps them: 0, -ERANGE outside the log, -EFAULT if no region has them.
 */
static int ivu_dirty_local(struct ivu_dev *d, const void *p, u64 len)
{
	const struct ivhost_memtable *mt = d->mem.by_gpa;
	u64 first = (uintptr_t)p, last = first + len - 1, lo, hi, span;
	const struct ivhost_region *r;
	bool found = false;
	u32 i;
	int err;

	if (!len)
		return 0;
	for (i = 0; mt && i < mt->nregions; i++) {
		r = &mt->regions[i];
		span = r->last - r->start;	/* its size - 1: no wrap */
		if (last < r->uaddr || first > r->uaddr + span)
			continue;
		/* The written bytes' offsets in the region, [lo, hi]. */
		lo = first > r->uaddr ? first - r->uaddr : 0;
		hi = min(last - r->uaddr, span);
		err = ivu_dirty_gpa(d, r->start + lo, hi - lo + 1);
		if (err)
			return err;
		found = true;
	}
	return found ? 0 : -EFAULT;
}

static void ivu_dirty_fail(struct ivu_dev *d, struct ivu_vring *vq, int err)
{
	__atomic_add_fetch(&d->dirty.failures, 1, __ATOMIC_RELAXED);
	ivu_vring_break(d, vq, err == -ERANGE ?
			"write outside the dirty log, num" :
			"write to memory the dirty log cannot name, num",
			vq->num);
}

/**
 * ivu_dirty_buf() - log the bytes a chain's writable part received
 * @d: the device
 * @vq: the ring the chain came from
 * @b: the chain
 * @len: bytes written, from the start of its writable part
 *
 * Call after the bytes were written.  Nothing is done unless logging is
 * on.  A write that cannot be marked stops @vq.
 * Return: 0, or a negative errno when @vq was stopped.
 */
int ivu_dirty_buf(struct ivu_dev *d, struct ivu_vring *vq,
		  const struct ivu_buf *b, size_t len)
{
	unsigned int i;
	size_t n;
	int err;

	if (!ivu_dirty_on(d))
		return 0;
	for (i = 0; i < b->n_in && len; i++) {
		const struct iovec *v = &b->iov[b->n_out + i];

		n = min(len, v->iov_len);
		len -= n;
		err = ivu_dirty_local(d, v->iov_base, n);
		if (err) {
			ivu_dirty_fail(d, vq, err);
			return err;
		}
	}
	return 0;
}

/**
 * ivu_dirty_mem() - log a write of @len bytes at local @p in guest memory
 * @d: the device
 * @vq: the ring the write was for
 * @p: where (a local address in a memory-table region)
 * @len: its length
 *
 * For a write made after its buffer was logged (num_buffers, once the
 * frame's chains are counted): the frontend may have fetched and cleared
 * the earlier mark meanwhile.  Call after the write.  A write that cannot
 * be marked stops @vq.
 * Return: 0, or a negative errno when @vq was stopped.
 */
int ivu_dirty_mem(struct ivu_dev *d, struct ivu_vring *vq, const void *p,
		  size_t len)
{
	int err;

	if (!ivu_dirty_on(d))
		return 0;
	err = ivu_dirty_local(d, p, len);
	if (err)
		ivu_dirty_fail(d, vq, err);
	return err;
}

/* The frontend address of a ring area: an IOVA, or a QVA without the IOTLB. */
static u64 ivu_dirty_area_addr(const struct ivu_vring *vq, unsigned int area)
{
	const struct vhost_vring_addr *a = &vq->addr;

	return area == 0 ? a->desc_user_addr :
	       area == 1 ? a->avail_user_addr : a->used_user_addr;
}

/*
 * A ring area read and written through an alias (alias.c): the bytes at
 * @off are marked by the guest memory they really are, found from the
 * area's frontend address as the ring was mapped.
 */
static int ivu_dirty_area_pieces(struct ivu_dev *d, struct ivu_vring *vq,
				 unsigned int area, u64 off, size_t len)
{
	u64 addr = ivu_dirty_area_addr(vq, area) + off;
	struct iovec seg[16];
	int i, n, err = 0;

	if (ivu_iotlb_on(d))
		n = ivu_iotlb_local(d, vq, addr, len, IVHOST_PERM_WO, seg,
				    ARRAY_SIZE(seg));
	else
		n = ivu_mem_qva_iov(&d->mem, addr, len, seg, ARRAY_SIZE(seg));
	if (n < 0)
		return n;
	for (i = 0; i < n && !err; i++)
		err = ivu_dirty_local(d, seg[i].iov_base, seg[i].iov_len);
	return err;
}

/**
 * ivu_dirty_used() - log a write to a ring's used ring
 * @d: the device
 * @vq: the ring, mapped
 * @p: where in its used ring the write was (a local address)
 * @len: its length
 *
 * Call after the write.  Nothing is done unless logging is on and the
 * ring was given VHOST_VRING_F_LOG.  A write that cannot be marked stops
 * @vq.
 */
void ivu_dirty_used(struct ivu_dev *d, struct ivu_vring *vq, const void *p,
		    size_t len)
{
	u64 off = (const u8 *)p - (const u8 *)vq->used, gpa;
	int err;

	if (!ivu_dirty_on(d) || !(vq->addr.flags & (1U << VHOST_VRING_F_LOG)))
		return;
	if (ivu_iotlb_on(d) && vq->alias[2].base)
		err = ivu_dirty_area_pieces(d, vq, 2, off, len);
	else if (ivu_iotlb_on(d))
		err = ivu_dirty_local(d, p, len);
	else if (__builtin_add_overflow(vq->addr.log_guest_addr, off, &gpa))
		err = -ERANGE;
	else
		err = ivu_dirty_gpa(d, gpa, len);
	if (err)
		ivu_dirty_fail(d, vq, err);
}

/**
 * ivu_dirty_used_elems() - log used entries [@from, @from + @n)
 * @d: the device
 * @vq: the ring, mapped
 * @from: the first entry's used index
 * @n: how many, at most the ring's size
 */
void ivu_dirty_used_elems(struct ivu_dev *d, struct ivu_vring *vq, u16 from,
			  u16 n)
{
	u32 first = from & (vq->num - 1), k;

	n = min_t(u32, n, vq->num);
	if (!n)
		return;
	k = min_t(u32, n, vq->num - first);
	ivu_dirty_used(d, vq, &vq->used->ring[first],
		       k * sizeof(vq->used->ring[0]));
	if (n > k)
		ivu_dirty_used(d, vq, &vq->used->ring[0],
			       (n - k) * sizeof(vq->used->ring[0]));
}

/**
 * ivu_dirty_ring() - log a write to a ring's memory by its local address
 * @d: the device
 * @vq: the ring, given VHOST_VRING_F_LOG to be logged
 * @area: the ring area written (0 the descriptors, 2 the used ring)
 * @p: where the write was, inside the area's local mapping
 * @len: its length
 *
 * For the used descriptors of a packed ring, written in its descriptor
 * ring, which SET_VRING_ADDR's log_guest_addr (the device area) does not
 * name: its pages are found through the memory table, as buffers are;
 * an area read through an alias, by the memory behind each piece.
 * Call after the write.  Nothing is done unless logging is on and the
 * ring was given VHOST_VRING_F_LOG.  A write that cannot be marked stops
 * @vq.
 */
void ivu_dirty_ring(struct ivu_dev *d, struct ivu_vring *vq,
		    unsigned int area, const void *p, size_t len)
{
	const void *base = area == 0 ? (const void *)vq->desc :
			   area == 1 ? (const void *)vq->avail :
				       (const void *)vq->used;
	int err;

	if (!ivu_dirty_on(d) || !(vq->addr.flags & (1U << VHOST_VRING_F_LOG)))
		return;
	if (vq->alias[area].base)
		err = ivu_dirty_area_pieces(d, vq, area,
					    (const u8 *)p - (const u8 *)base,
					    len);
	else
		err = ivu_dirty_local(d, p, len);
	if (err)
		ivu_dirty_fail(d, vq, err);
}

/**
 * ivu_dirty_done() - signal SET_LOG_FD's eventfd if pages were marked
 * @d: the device
 */
void ivu_dirty_done(struct ivu_dev *d)
{
	u64 one = 1;

	if (!d->dirty.efd_set ||
	    !__atomic_exchange_n(&d->dirty.marked, false, __ATOMIC_RELAXED))
		return;
	if (write(d->dirty.efd, &one, sizeof(one)) < 0)
		ivu_dbg("dirty log eventfd: %m");
}

/**
 * ivu_dirty_check_addr() - may a ring be given these addresses?
 * @a: SET_VRING_ADDR's payload
 *
 * As on the kernel device, log_guest_addr must be aligned as a used ring
 * is (4 bytes), whether or not logging is asked for.
 * Return: 0, or -EINVAL for unknown flags or a misaligned log address.
 */
int ivu_dirty_check_addr(const struct vhost_vring_addr *a)
{
	if (a->flags & ~(1U << VHOST_VRING_F_LOG))
		return -EINVAL;
	return a->log_guest_addr & 3 ? -EINVAL : 0;
}

/**
 * ivu_dirty_stats() - print the log's counters
 * @d: the device
 * @f: where to
 */
void ivu_dirty_stats(const struct ivu_dev *d, FILE *f)
{
	fprintf(f, "ivhost-user: dirty-log pages %llu failures %llu\n",
		(unsigned long long)d->dirty.pages,
		(unsigned long long)d->dirty.failures);
}
