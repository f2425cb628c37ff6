/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by hostile_test.c and migration_test.c: a device with a
 * tap on both queues, frames injected into the tap from the host side,
 * RX buffers posted and read back by the test's guest driver, the
 * device's worker thread found by name, and a dirty log bitmap.
 *
 * Everything is static: each test binary includes this once.
 */
#ifndef IVHOST_RINGTEST_H
#define IVHOST_RINGTEST_H

#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <linux/vhost.h>
#include <linux/virtio_config.h>
#include <linux/virtio_net.h>
#include <linux/virtio_ring.h>

#include "common.h"
#include "vmm.h"

#define F(bit)		(1ULL << (bit))
#define RT_ETH_LEN	14
#define RT_PAGE		4096ULL
#define RT_BASE_FEATURES (F(VIRTIO_F_VERSION_1) |			\
			  F(VIRTIO_RING_F_INDIRECT_DESC) |		\
			  F(VHOST_NET_F_VIRTIO_NET_HDR))

/* A device with one tap as the backend of both queues. */
struct rtdev {
	struct vmm v;
	struct vmm_tap t;
	size_t hdr_len;		/* virtio-net header in guest buffers */
	pid_t owner_tid;	/* thread that called VHOST_SET_OWNER */
};

static inline void rt_init(struct rtdev *d)
{
	memset(d, 0, sizeof(*d));
	vmm_init_closed(&d->v, &d->t);
}

static inline int rt_missing(int r)
{
	return r == -ENOENT || r == -ENODEV || r == -ENXIO ||
	       r == IVHOST_NO_LAYOUT;
}

/*
 * Bring the device up with @mem_size bytes of guest memory (0: what
 * vmm_bringup() picks) and open a tap (no backend attached yet).
 */
static inline int rt_up_mem(struct rtdev *d, uint64_t want, unsigned int num,
			    size_t mem_size)
{
	int r;

	rt_init(d);
	d->owner_tid = (pid_t)syscall(SYS_gettid);
	r = vmm_bringup(&d->v, ivhost_dev_path(), want, num, mem_size);
	if (r)
		return r;
	d->hdr_len = vmm_net_hdr_len(d->v.features);
	return vmm_tap_open(&d->t, 0);
}

/* Bring the device up and open a tap (no backend attached yet). */
static inline int rt_up(struct rtdev *d, uint64_t want, unsigned int num)
{
	return rt_up_mem(d, want, num, 0);
}

static inline void rt_down(struct rtdev *d)
{
	vmm_close(&d->v);
	vmm_tap_close(&d->t);
}

/* Send a generated frame into the tap from the host: the device's RX. */
static inline int rt_inject(struct rtdev *d, uint32_t seq, size_t len)
{
	uint8_t buf[2048];

	if (len > sizeof(buf))
		return -EINVAL;
	vmm_gen_frame(seq, buf, len);
	return send(d->t.pkt_fd, buf, len, 0) == (ssize_t)len ? 0 : -errno;
}

/* The seq of a frame made by vmm_gen_frame(), or -1 if it is not one. */
static inline long rt_frame_seq(const uint8_t *p, size_t len)
{
	uint8_t want[2048];
	uint32_t seq;

	if (len < RT_ETH_LEN + 4 || len > sizeof(want))
		return -1;
	seq = (uint32_t)p[14] << 24 | (uint32_t)p[15] << 16 |
	      (uint32_t)p[16] << 8 | p[17];
	vmm_gen_frame(seq, want, len);
	return memcmp(want, p, len) ? -1 : (long)seq;
}

/* Guest address of byte @off of head @head's data slot. */
static inline uint64_t rt_slot_gpa(struct vmm_vq *q, unsigned int head,
				   size_t off)
{
	return vmm_gpa(q->v, q->slab + (size_t)head * VMM_SLOT_SIZE + off);
}

/*
 * Post one device-writable RX chain of @nseg descriptors of @seglen[i]
 * bytes each (laid out back to back in the head's slot, each segment
 * starting @gap bytes after the previous one ends), directly chained or
 * through an indirect table.  Returns the head, or -ENOSPC.
 */
static inline int rt_post_rx(struct vmm_vq *q, unsigned int nseg,
			     const uint32_t *seglen, size_t gap, int indirect)
{
	enum vmm_post_mode mode = indirect ? VMM_INDIRECT : VMM_CHAIN;
	struct vring_desc *tbl;
	unsigned int i;
	size_t off = 0;
	uint16_t idx;
	int head;

	if (!nseg || nseg > (indirect || q->packed ? VMM_MAX_SEGS : q->num))
		return -EINVAL;
	head = vmm_desc_alloc(q, indirect ? 1 : nseg);
	if (head < 0)
		return head;
	tbl = q->indirect + (size_t)head * VMM_MAX_SEGS;
	idx = vmm_post_start(q, head);
	for (i = 0; i < nseg; i++) {
		vmm_post_seg(q, tbl, mode, &idx, i, nseg,
			     rt_slot_gpa(q, head, off), seglen[i],
			     VRING_DESC_F_WRITE);
		off += seglen[i] + gap;
	}
	return vmm_post_finish(q, head, mode, nseg, vmm_gpa(q->v, tbl));
}

static inline int rt_post_rx_simple(struct vmm_vq *q, uint32_t len)
{
	return rt_post_rx(q, 1, &len, 0, 0);
}

/* Walk the descriptors of chain @head, calling @fn(gpa, len, arg). */
static inline int rt_walk(struct vmm_vq *q, unsigned int head,
			  void (*fn)(uint64_t gpa, uint32_t len, void *arg),
			  void *arg)
{
	struct vring_desc *tbl = q->desc;
	unsigned int idx = head, n = 0, limit = q->num;
	struct vmm_seg segs[VMM_MAX_SEGS];
	int i, ns;

	if (q->packed) {
		ns = vmm_chain_segs(q, head, segs, VMM_MAX_SEGS);
		if (ns <= 0)
			return -ELOOP;
		for (i = 0; i < ns; i++)
			fn(segs[i].addr, segs[i].len, arg);
		return 0;
	}
	if (q->desc[head].flags & VRING_DESC_F_INDIRECT) {
		tbl = vmm_hva(q->v, q->desc[head].addr);
		if (!tbl)
			return -EFAULT;
		limit = q->desc[head].len / sizeof(*tbl);
		idx = 0;
	}
	for (;;) {
		if (idx >= limit || n++ >= limit)
			return -ELOOP;
		fn(tbl[idx].addr, tbl[idx].len, arg);
		if (!(tbl[idx].flags & VRING_DESC_F_NEXT))
			return 0;
		idx = tbl[idx].next;
	}
}

struct rt_gather {
	struct vmm *v;
	uint8_t *dst;
	size_t want, got;
};

static inline void rt_gather_fn(uint64_t gpa, uint32_t len, void *arg)
{
	struct rt_gather *g = arg;
	size_t n = len < g->want - g->got ? len : g->want - g->got;
	uint8_t *src = vmm_hva(g->v, gpa);

	if (n && src)
		memcpy(g->dst + g->got, src, n);
	g->got += n;
}

/*
 * Reap one used RX entry: copy the @len bytes the device wrote into
 * @dst (at most @size), free the chain.  Returns 1, 0 if none, -errno.
 */
static inline int rt_reap_rx(struct vmm_vq *q, uint8_t *dst, size_t size,
			     uint32_t *lenp)
{
	struct vring_used_elem e;
	struct rt_gather g = { .v = q->v, .dst = dst };

	if (!vmm_used_peek(q, &e.id, &e.len))
		return 0;
	if (e.id >= q->num || !q->chain_len[e.id])
		return -EIO;
	g.want = e.len < size ? e.len : size;
	if (rt_walk(q, e.id, rt_gather_fn, &g))
		return -EIO;
	if (g.got != g.want)
		return -EMSGSIZE;
	*lenp = e.len;
	return vmm_reap(q, NULL, NULL);
}

/* Wait until used->idx reaches @idx; 0 on timeout. */
static inline int rt_wait_used(struct vmm_vq *q, uint16_t idx, int ms)
{
	long long end = vmm_now_ms() + ms;

	while ((int16_t)(vmm_used_idx(q) - idx) < 0) {
		if (vmm_now_ms() > end)
			return 0;
		usleep(1000);
	}
	return 1;
}

/* Next frame the device transmitted into the tap, -EAGAIN on timeout. */
static inline ssize_t rt_tap_recv(struct rtdev *d, void *buf, size_t size,
				  int ms)
{
	return vmm_tap_recv(&d->t, buf, size, ms);
}

/*
 * CPU time of task @pid in ns: from schedstat, or where the kernel has no
 * CONFIG_SCHED_INFO (the debug kernel), from utime + stime in clock
 * ticks.  -1 if neither can be read.
 */
static inline long long rt_task_ns(const char *pid)
{
	unsigned long long ut, st;
	char path[300], line[1024], *p;
	long long ns = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%s/schedstat", pid);
	f = fopen(path, "r");
	if (f) {
		if (fscanf(f, "%lld", &ns) != 1)
			ns = -1;
		fclose(f);
		return ns;
	}
	snprintf(path, sizeof(path), "/proc/%s/stat", pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	/* after "pid (comm) ": state and 10 more fields, then utime stime */
	if (fgets(line, sizeof(line), f) && (p = strrchr(line, ')')) &&
	    sscanf(p + 2, "%*c %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %llu %llu",
		   &ut, &st) == 2)
		ns = (long long)((ut + st) * (1000000000ULL /
					      sysconf(_SC_CLK_TCK)));
	fclose(f);
	return ns;
}

/*
 * CPU time, in ns, used so far by the worker threads of devices owned by
 * thread @tid ("ivhost-<tid>" or "vhost-<tid>"); -1 if none is found.
 */
static inline long long rt_worker_ns(pid_t tid)
{
	char a[32], b[32], path[300], comm[64];
	long long sum = -1, ns;
	struct dirent *de;
	DIR *dir;
	FILE *f;

	snprintf(a, sizeof(a), "ivhost-%d", tid);
	snprintf(b, sizeof(b), "vhost-%d", tid);
	dir = opendir("/proc");
	if (!dir)
		return -1;
	while ((de = readdir(dir))) {
		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/comm", de->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (!fgets(comm, sizeof(comm), f))
			comm[0] = 0;
		fclose(f);
		comm[strcspn(comm, "\n")] = 0;
		if (strcmp(comm, a) && strcmp(comm, b))
			continue;
		ns = rt_task_ns(de->d_name);
		if (ns >= 0)
			sum = (sum < 0 ? 0 : sum) + ns;
	}
	closedir(dir);
	return sum;
}

/* ---- dirty log ---- */

/*
 * A dirty bitmap covering guest-physical addresses up to @max_addr, in a
 * sparse mapping: pages the device never touches stay non-resident, so a
 * bit logged at a wild address (a user address, say) shows up as a
 * resident page outside the guest's part of the bitmap.  Over vhost-user
 * the bitmap is a memfd, as QEMU's log is, passed with SET_LOG_BASE.
 */
struct rt_log {
	uint64_t *bits;
	size_t bytes;
	int fd;			/* VHOST_SET_LOG_FD eventfd */
	int memfd;		/* vhost-user: the bitmap's memfd, or -1 */
};

static inline int rt_log_alloc(struct rt_log *l, uint64_t max_addr)
{
	size_t bytes = (max_addr / RT_PAGE / 8 + RT_PAGE) & ~(RT_PAGE - 1);
	int user = ivhost_dev_is_user();
	void *p;

	l->fd = -1;
	l->memfd = -1;
	if (user) {
		l->memfd = memfd_create("rt-log", MFD_CLOEXEC);
		if (l->memfd < 0 || ftruncate(l->memfd, bytes))
			return -errno;
	}
	p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_NORESERVE |
		 (user ? MAP_SHARED : MAP_PRIVATE | MAP_ANONYMOUS),
		 l->memfd, 0);
	if (p == MAP_FAILED)
		return -errno;
	l->bits = p;
	l->bytes = bytes;
	return 0;
}

static inline void rt_log_free(struct rt_log *l)
{
	if (l->bits)
		munmap(l->bits, l->bytes);
	if (l->fd >= 0)
		close(l->fd);
	if (l->memfd >= 0)
		close(l->memfd);
	l->bits = NULL;
	l->fd = -1;
	l->memfd = -1;
}

/* Highest address the log must cover for @v: its GPAs and its user
 * addresses, so that wrongly logged user addresses land in the bitmap.
 */
static inline uint64_t rt_log_span(struct vmm *v)
{
	uint64_t g = v->mem_gpa + v->mem_size;
	uint64_t u = (uintptr_t)v->mem + v->mem_size;

	return g > u ? g : u;
}

/* VHOST_SET_VRING_ADDR for @index, logging the used ring (or not). */
static inline int rt_set_addr_log(struct vmm *v, unsigned int index, int log)
{
	struct vmm_vq *q = &v->vq[index];
	struct vhost_vring_addr a = {
		.index = index,
		.flags = log ? 1u << VHOST_VRING_F_LOG : 0,
		.desc_user_addr = (uintptr_t)q->desc,
		.used_user_addr = (uintptr_t)q->used,
		.avail_user_addr = (uintptr_t)q->avail,
		.log_guest_addr = log ? vmm_gpa(v, q->used) : 0,
	};

	return vmm_ioctl(v, VHOST_SET_VRING_ADDR, &a);
}

/*
 * Turn logging on the way a VMM does at the start of migration:
 * SET_FEATURES with VHOST_F_LOG_ALL, SET_LOG_BASE (over vhost-user: the
 * memfd), SET_LOG_FD, and SET_VRING_ADDR with VHOST_VRING_F_LOG for both
 * queues.
 */
static inline int rt_log_start(struct vmm *v, struct rt_log *l)
{
	uint64_t base = (uintptr_t)l->bits;
	int r, i, fd;

	if (l->fd < 0)
		l->fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (l->fd < 0)
		return -errno;
	r = vmm_set_features(v, v->features | F(VHOST_F_LOG_ALL));
	if (!r && l->memfd >= 0)
		r = vmm_vu_set_log_base(v, l->memfd, l->bytes, 0);
	else if (!r)
		r = vmm_ioctl(v, VHOST_SET_LOG_BASE, &base);
	fd = l->fd;
	if (!r)
		r = vmm_ioctl(v, VHOST_SET_LOG_FD, &fd);
	for (i = 0; !r && i < VMM_NVQS; i++)
		r = rt_set_addr_log(v, i, 1);
	return r;
}

/* Is the bitmap page at byte offset @off resident (was it written)? */
static inline int rt_log_resident(struct rt_log *l, size_t off)
{
	unsigned char vec;

	if (mincore((uint8_t *)l->bits + (off & ~(RT_PAGE - 1)), RT_PAGE,
		    &vec))
		return 1;
	return vec & 1;
}

/* Byte range of the bitmap that covers the guest's memory. */
static inline void rt_log_guest_words(struct rt_log *l, struct vmm *v,
				      size_t *first, size_t *end)
{
	*first = v->mem_gpa / RT_PAGE / 64;
	*end = (v->mem_gpa + v->mem_size + RT_PAGE - 1) / RT_PAGE / 64 + 1;
}

/* A set of guest page numbers. */
struct rt_pfns {
	uint64_t p[4096];
	unsigned int n;
};

static inline void rt_pfns_add(struct rt_pfns *s, uint64_t gpa, uint64_t len)
{
	uint64_t pfn, i;

	if (!len)
		return;
	for (pfn = gpa / RT_PAGE; pfn <= (gpa + len - 1) / RT_PAGE; pfn++) {
		for (i = 0; i < s->n && s->p[i] != pfn; i++)
			;
		if (i == s->n && s->n < 4096)
			s->p[s->n++] = pfn;
	}
}

struct rt_pfn_walk {
	struct rt_pfns *s;
	uint64_t left;
};

static inline void rt_pfn_walk_fn(uint64_t gpa, uint32_t len, void *arg)
{
	struct rt_pfn_walk *w = arg;
	uint64_t n = len < w->left ? len : w->left;

	rt_pfns_add(w->s, gpa, n);
	w->left -= n;
}

/* Add the pages of the first @len bytes of chain @head. */
static inline void rt_pfns_add_chain(struct rt_pfns *s, struct vmm_vq *q,
				     unsigned int head, uint32_t len)
{
	struct rt_pfn_walk w = { .s = s, .left = len };

	rt_walk(q, head, rt_pfn_walk_fn, &w);
}

/*
 * Compare the log with @want: every page in @want is marked, nothing else
 * is, and no bitmap page beyond the guest's part was ever written.
 * Returns 0, or -1 with @msg filled.
 */
static inline int rt_log_check(struct rt_log *l, struct vmm *v,
			       const struct rt_pfns *want, char *msg,
			       size_t msz)
{
	size_t first, end, pages = l->bytes / RT_PAGE, i, w;
	unsigned char *vec = malloc(pages);
	unsigned int k;
	int ret = 0;

	if (!vec || mincore(l->bits, l->bytes, vec)) {
		snprintf(msg, msz, "mincore: %s", strerror(errno));
		free(vec);
		return -1;
	}
	rt_log_guest_words(l, v, &first, &end);
	for (i = 0; i < pages; i++) {
		if (!(vec[i] & 1))
			continue;
		if ((i + 1) * RT_PAGE <= first * 8 || i * RT_PAGE >= end * 8) {
			snprintf(msg, msz,
				 "bitmap page %zu (pfns from %#llx) written, outside the guest's memory",
				 i, (unsigned long long)(i * RT_PAGE * 8));
			ret = -1;
			goto out;
		}
	}
	for (w = first; w < end; w++) {
		uint64_t x = __atomic_load_n(&l->bits[w], __ATOMIC_RELAXED);

		while (x) {
			uint64_t pfn = w * 64 + __builtin_ctzll(x);

			x &= x - 1;
			for (k = 0; k < want->n && want->p[k] != pfn; k++)
				;
			if (k == want->n) {
				snprintf(msg, msz,
					 "gpa %#llx logged but never written",
					 (unsigned long long)(pfn * RT_PAGE));
				ret = -1;
				goto out;
			}
		}
	}
	for (k = 0; k < want->n; k++) {
		uint64_t pfn = want->p[k];

		if (!(l->bits[pfn / 64] & (1ULL << (pfn % 64)))) {
			snprintf(msg, msz, "gpa %#llx written but not logged",
				 (unsigned long long)(pfn * RT_PAGE));
			ret = -1;
			goto out;
		}
	}
out:
	free(vec);
	return ret;
}

#endif
