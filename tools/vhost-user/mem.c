// SPDX-License-Identifier: GPL-2.0
/*
 * The frontend's memory: SET_MEM_TABLE regions mapped from their fds.
 *
 * Each region is known by three addresses: the guest-physical one
 * (descriptors use it), the frontend's virtual one (SET_VRING_ADDR uses
 * it, as QEMU sends its own pointers) and ours, where we mapped it.  Two
 * tables from the module's drivers/vhost/memtable.c, built from the same
 * regions, translate the first two into the third: the module's checks
 * (no empty region, no wrap, no overlap) hold for both.
 */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/err.h>
#include <linux/kernel.h>

#include "ivu.h"

/* SET_MEM_TABLE's payload: a count, padding, then the regions. */
struct ivu_user_region {
	u64 guest_phys_addr;
	u64 memory_size;
	u64 userspace_addr;
	u64 mmap_offset;
};

#define IVU_MEM_HDR	8

/*
 * SIGBUS: a frontend can shrink a region's memfd after we mapped it, and
 * the next access past its new end faults.  The handler replaces the
 * whole region with anonymous zeroed memory, so the access completes and
 * later ones too, and counts the fault; each datapath worker stops its
 * rings when the count moves (ivu_mem_faults()).  The regions it may
 * replace are listed here, the old table's and the new one's while
 * SET_MEM_TABLE swaps them; only the control thread changes the list,
 * under d->lock held for writing, so never while a worker touches guest
 * memory, and the handler (in whichever thread faulted) sees it whole.
 */
static struct {
	char *base;
	size_t len;
} ivu_mapped[2 * IVU_MAX_REGIONS + 1];	/* + the dirty log */
static unsigned int ivu_faulted;	/* faults, counted atomically by the handler */

/*
 * The rings' aliases of guest memory (alias.c), a slot per ring area.  A
 * slot is written by the ring's worker (d->lock held for reading) or the
 * control thread, so its fields are stored atomically, the length before
 * the base, and the handler reads the base first.
 */
static struct {
	char *base;
	size_t len;
} ivu_aliased[IVU_MAX_VQ * IVU_RING_AREAS];

/**
 * ivu_mem_track_alias() - list a ring's alias for SIGBUS, or take it off
 * @slot: the ring area's slot (vq index * IVU_RING_AREAS + area)
 * @base: the alias, or NULL
 * @len: its length
 */
void ivu_mem_track_alias(unsigned int slot, void *base, size_t len)
{
	if (slot >= ARRAY_SIZE(ivu_aliased))
		return;
	if (!base) {
		__atomic_store_n(&ivu_aliased[slot].base, NULL,
				 __ATOMIC_RELEASE);
		return;
	}
	__atomic_store_n(&ivu_aliased[slot].len, len, __ATOMIC_RELAXED);
	__atomic_store_n(&ivu_aliased[slot].base, base, __ATOMIC_RELEASE);
}

/* Replace [b, b + len) with zeroed memory if it holds @a: true if so. */
static bool ivu_mem_zero_if(char *a, char *b, size_t len)
{
	/*
	 * NORESERVE: the frontend chose the size (a sparse file may be
	 * larger than memory and swap), and an accounted mapping that large
	 * would be refused: the daemon would die here.
	 */
	if (!b || a < b || a >= b + len)
		return false;
	if (mmap(b, len, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE,
		 -1, 0) != b)
		return false;
	__atomic_add_fetch(&ivu_faulted, 1, __ATOMIC_SEQ_CST);
	return true;
}

/**
 * ivu_mem_track() - list a mapping of the frontend's files for SIGBUS
 * @base: the mapping to add, or NULL to take @old off the list
 * @len: its length
 * @old: the entry to replace (NULL: a free one)
 *
 * Guest memory here; the dirty log too (log.c), whose file the frontend
 * may also shrink.
 * Context: the control thread, d->lock held for writing (so no worker
 * touches the mapping).
 */
void ivu_mem_track(void *base, size_t len, void *old)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(ivu_mapped); i++) {
		if (ivu_mapped[i].base != old)
			continue;
		ivu_mapped[i].len = len;
		ivu_mapped[i].base = base;
		return;
	}
}

static void ivu_mem_sigbus(int sig, siginfo_t *si, void *uc)
{
	char *a = si->si_addr;
	struct sigaction dfl = { .sa_handler = SIG_DFL };
	unsigned int i;

	(void)sig;
	(void)uc;
	for (i = 0; i < ARRAY_SIZE(ivu_mapped); i++)
		if (ivu_mem_zero_if(a, ivu_mapped[i].base, ivu_mapped[i].len))
			return;
	for (i = 0; i < ARRAY_SIZE(ivu_aliased); i++) {
		char *b = __atomic_load_n(&ivu_aliased[i].base,
					  __ATOMIC_ACQUIRE);

		if (ivu_mem_zero_if(a, b, __atomic_load_n(&ivu_aliased[i].len,
							  __ATOMIC_RELAXED)))
			return;
	}
	/* Not guest memory: a bug of ours; fault again and die. */
	sigaction(SIGBUS, &dfl, NULL);
}

/**
 * ivu_mem_init() - handle SIGBUS on guest memory
 *
 * SIGBUS is unblocked too: a mask is inherited across exec, and a fault
 * with it blocked kills the process whatever the handler.
 * Context: once, at start, before any region is mapped or thread made
 * (they inherit the mask).
 * Return: 0, or a negative errno.
 */
int ivu_mem_init(void)
{
	struct sigaction sa = {
		.sa_sigaction = ivu_mem_sigbus,
		.sa_flags = SA_SIGINFO,
	};
	sigset_t bus;

	sigemptyset(&bus);
	sigaddset(&bus, SIGBUS);
	if (sigaction(SIGBUS, &sa, NULL) ||
	    sigprocmask(SIG_UNBLOCK, &bus, NULL))
		return -errno;
	return 0;
}

/**
 * ivu_mem_faults() - how many times guest memory faulted (SIGBUS)
 *
 * A region whose file shrank under its mapping now reads as zeros; a
 * caller that sees the count move stops its rings, whose contents are
 * gone.
 * Context: any thread.
 * Return: the count, which only grows (modulo 2^32).
 */
unsigned int ivu_mem_faults(void)
{
	return __atomic_load_n(&ivu_faulted, __ATOMIC_SEQ_CST);
}

/**
 * ivu_mem_free() - unmap a memory table and free its lookups
 * @m: the table; left empty
 */
void ivu_mem_free(struct ivu_mem *m)
{
	u32 i;

	for (i = 0; i < m->n; i++) {
		ivu_mem_track(NULL, 0, m->map[i]);
		munmap(m->map[i], m->map_len[i]);
	}
	ivhost_memtable_free(m->by_gpa);
	ivhost_memtable_free(m->by_qva);
	memset(m, 0, sizeof(*m));
}

/* Map one region, checking its sizes against the fd. */
static int ivu_mem_map_one(struct ivu_mem *m, const struct ivu_user_region *u,
			   int fd)
{
	struct vhost_memory_region r = {
		.guest_phys_addr = u->guest_phys_addr,
		.memory_size = u->memory_size,
		.userspace_addr = u->userspace_addr,
	};
	struct stat st;
	u64 end;
	void *p;

	if (ivhost_region_check(&r))
		return -EINVAL;
	if (__builtin_add_overflow(u->mmap_offset, u->memory_size, &end) ||
	    end > SIZE_MAX)
		return -EINVAL;
	/* Mapping past the end of the file would fault at first touch. */
	if (fstat(fd, &st) || (S_ISREG(st.st_mode) && (u64)st.st_size < end))
		return -EINVAL;
	p = mmap(NULL, end, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return -errno;
	ivu_mem_track(p, end, NULL);
	m->map[m->n] = p;
	m->map_len[m->n] = end;
	m->n++;
	return 0;
}

static int ivu_mem_build(struct ivu_mem *m, const struct ivu_user_region *u)
{
	struct vhost_memory_region gpa[IVU_MAX_REGIONS] = { 0 };
	struct vhost_memory_region qva[IVU_MAX_REGIONS] = { 0 };
	u32 i;

	for (i = 0; i < m->n; i++) {
		u64 local = (uintptr_t)m->map[i] + u[i].mmap_offset;

		gpa[i].guest_phys_addr = u[i].guest_phys_addr;
		qva[i].guest_phys_addr = u[i].userspace_addr;
		gpa[i].memory_size = u[i].memory_size;
		qva[i].memory_size = u[i].memory_size;
		gpa[i].userspace_addr = local;
		qva[i].userspace_addr = local;
	}
	m->by_gpa = ivhost_memtable_build(gpa, m->n);
	if (IS_ERR(m->by_gpa)) {
		m->by_gpa = NULL;
		return -EINVAL;
	}
	m->by_qva = ivhost_memtable_build(qva, m->n);
	if (IS_ERR(m->by_qva)) {
		m->by_qva = NULL;
		return -EINVAL;
	}
	return 0;
}

/**
 * ivu_mem_set() - build a memory table from a SET_MEM_TABLE message
 * @m: the table to fill; must be empty
 * @payload: the message payload
 * @size: its size
 * @fds: the message's fds, one per region; the caller still owns them
 * @nfds: their number
 *
 * On failure @m is left empty, nothing mapped.
 * Return: 0, or -EINVAL for a malformed table, or an mmap() error.
 */
int ivu_mem_set(struct ivu_mem *m, const void *payload, u32 size,
		const int *fds, unsigned int nfds)
{
	struct ivu_user_region u[IVU_MAX_REGIONS];
	u32 n, i;
	int err;

	if (size < IVU_MEM_HDR)
		return -EINVAL;
	memcpy(&n, payload, sizeof(n));
	if (!n || n > IVU_MAX_REGIONS || n != nfds ||
	    size != IVU_MEM_HDR + n * sizeof(u[0]))
		return -EINVAL;
	memcpy(u, (const char *)payload + IVU_MEM_HDR, n * sizeof(u[0]));
	for (i = 0; i < n; i++) {
		err = ivu_mem_map_one(m, &u[i], fds[i]);
		if (err)
			goto fail;
		ivu_dbg("region %u: gpa 0x%llx size 0x%llx qva 0x%llx off 0x%llx",
			i, u[i].guest_phys_addr, u[i].memory_size,
			u[i].userspace_addr, u[i].mmap_offset);
	}
	err = ivu_mem_build(m, u);
	if (!err)
		return 0;
fail:
	ivu_mem_free(m);
	return err;
}

/* One contiguous local range for [addr, addr + len) of @mt, or NULL. */
static void *ivu_mem_contig(const struct ivhost_memtable *mt, u64 addr,
			    u64 len)
{
	struct iovec iov;

	if (!mt || !len)
		return NULL;
	if (ivhost_memtable_translate(mt, addr, len, &iov, 1) != 1)
		return NULL;
	return iov.iov_base;
}

/**
 * ivu_mem_qva() - translate a frontend virtual range (a ring address)
 * @m: the table
 * @qva: frontend virtual address
 * @len: length, > 0
 *
 * Return: the local address of a range mapped whole in one region, or NULL.
 */
void *ivu_mem_qva(const struct ivu_mem *m, u64 qva, u64 len)
{
	return ivu_mem_contig(m->by_qva, qva, len);
}

/**
 * ivu_mem_gpa() - translate a guest-physical range into one local range
 * @m: the table
 * @gpa: guest-physical address
 * @len: length, > 0
 *
 * Return: the local address, or NULL if the range is not mapped whole in
 * one region.
 */
void *ivu_mem_gpa(const struct ivu_mem *m, u64 gpa, u64 len)
{
	return ivu_mem_contig(m->by_gpa, gpa, len);
}

/**
 * ivu_mem_qva_iov() - translate a frontend virtual range into segments
 * @m: the table
 * @qva: frontend virtual address
 * @len: length; 0 gives no segment
 * @iov: where to put the segments
 * @max: room in @iov
 *
 * Return: as ivu_mem_gpa_iov().
 */
int ivu_mem_qva_iov(const struct ivu_mem *m, u64 qva, u64 len,
		    struct iovec *iov, unsigned int max)
{
	if (!m->by_qva)
		return -EFAULT;
	return ivhost_memtable_translate(m->by_qva, qva, len, iov, max);
}

/**
 * ivu_mem_gpa_iov() - translate a guest-physical range into segments
 * @m: the table
 * @gpa: guest-physical address
 * @len: length; 0 gives no segment
 * @iov: where to put the segments
 * @max: room in @iov
 *
 * Return: segments stored, -EFAULT if part of the range is unmapped, or
 * -ENOBUFS if @max is too small.
 */
int ivu_mem_gpa_iov(const struct ivu_mem *m, u64 gpa, u64 len,
		    struct iovec *iov, unsigned int max)
{
	if (!m->by_gpa)
		return -EFAULT;
	return ivhost_memtable_translate(m->by_gpa, gpa, len, iov, max);
}
