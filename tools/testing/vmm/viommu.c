// SPDX-License-Identifier: GPL-2.0
/*
 * viommu.c - the test VMM as a vIOMMU. See viommu.h.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ring.h>

#include "viommu.h"
#include "../../../include/uapi/linux/ivhost.h"

static uint64_t vi_rnd(struct viommu *vi)
{
	uint64_t x = vi->rng;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	vi->rng = x;
	return x;
}

static size_t page_of_ptr(struct viommu *vi, const void *p)
{
	return (size_t)((const uint8_t *)p - vi->v->mem) >> vi->shift;
}

/* Pages from @p for @len bytes must get consecutive IOVA pages. */
static void join(struct viommu *vi, uint8_t *brk, const void *p, size_t len,
		 int pin)
{
	size_t first = page_of_ptr(vi, p);
	size_t last = page_of_ptr(vi, (const uint8_t *)p + len - 1), i;

	for (i = first; i <= last; i++) {
		if (i > first)
			brk[i] = 0;
		if (pin)
			vi->pinned[i] = 1;
	}
}

/* Place pages [first, first + n) at a random free run of IOVA pages. */
static int place(struct viommu *vi, size_t first, size_t n)
{
	size_t s = 0, i, tries;
	int ok = 0;

	for (tries = 0; tries < 4096 && !ok; tries++) {
		s = vi_rnd(vi) % (vi->nslots - n + 1);
		ok = 1;
		for (i = 0; i < n && ok; i++)
			ok = vi->page_of[s + i] < 0;
	}
	for (s = ok ? s : 0; !ok && s + n <= vi->nslots; s++) {
		ok = 1;
		for (i = 0; i < n && ok; i++)
			ok = vi->page_of[s + i] < 0;
		if (ok)
			break;
	}
	if (!ok)
		return -ENOSPC;
	for (i = 0; i < n; i++) {
		vi->page_of[s + i] = first + i;
		vi->slot_of[first + i] = s + i;
	}
	return 0;
}

static uint64_t iova_of_locked(struct viommu *vi, const void *p)
{
	size_t off = (const uint8_t *)p - vi->v->mem;
	size_t pg = off >> vi->shift;

	if (off >= vi->v->mem_size || vi->slot_of[pg] < 0)
		return 0;
	return vi->iova_base + ((uint64_t)vi->slot_of[pg] << vi->shift) +
	       (off & (vi->ps - 1));
}

static int64_t slot_of_iova(struct viommu *vi, uint64_t iova)
{
	uint64_t s;

	if (iova < vi->iova_base)
		return -1;
	s = (iova - vi->iova_base) >> vi->shift;
	return s < vi->nslots ? (int64_t)s : -1;
}

static void *ptr_locked(struct viommu *vi, uint64_t iova)
{
	int64_t s = slot_of_iova(vi, iova), pg;

	if (s < 0 || (pg = vi->page_of[s]) < 0)
		return NULL;
	return vi->v->mem + ((size_t)pg << vi->shift) +
	       (iova & (vi->ps - 1));
}

static int build_layout(struct viommu *vi, size_t nspare)
{
	struct vmm *v = vi->v;
	size_t mapped = vi->npages - nspare, i, j, n;
	uint8_t *brk = malloc(vi->npages);
	unsigned int qi, h;
	int r = 0;

	if (!brk)
		return -ENOMEM;
	memset(brk, 1, vi->npages);
	for (qi = 0; qi < VMM_NVQS; qi++) {
		struct vmm_vq *q = &v->vq[qi];

		join(vi, brk, q->desc, vmm_ring_bytes(q, 0), 1);
		join(vi, brk, q->avail, vmm_ring_bytes(q, 1), 1);
		join(vi, brk, q->used, vmm_ring_bytes(q, 2), 1);
		for (h = 0; h < q->num; h++) {
			join(vi, brk, q->slab + (size_t)h * VMM_SLOT_SIZE,
			     VMM_SLOT_SIZE, 0);
			join(vi, brk, q->indirect + (size_t)h * VMM_MAX_SEGS,
			     VMM_MAX_SEGS * 16, 1);
		}
	}
	for (i = 0; i < mapped && !r; i = j) {
		for (j = i + 1; j < mapped && !brk[j]; j++)
			;
		n = j - i;
		r = place(vi, i, n);
	}
	free(brk);
	if (r)
		return r;
	for (i = mapped; i < vi->npages; i++)
		vi->spare[vi->nspare++] = i;
	for (qi = 0; qi < VMM_NVQS; qi++) {
		struct vmm_vq *q = &v->vq[qi];

		vi->slot_iova[qi] = calloc(q->num, sizeof(uint64_t));
		vi->ind_iova[qi] = calloc(q->num, sizeof(uint64_t));
		if (!vi->slot_iova[qi] || !vi->ind_iova[qi])
			return -ENOMEM;
		for (h = 0; h < q->num; h++) {
			vi->slot_iova[qi][h] = iova_of_locked(vi,
				q->slab + (size_t)h * VMM_SLOT_SIZE);
			vi->ind_iova[qi][h] = iova_of_locked(vi,
				q->indirect + (size_t)h * VMM_MAX_SEGS);
		}
	}
	return 0;
}

static int set_addr(struct viommu *vi, unsigned int index)
{
	struct vmm_vq *q = &vi->v->vq[index];
	struct vhost_vring_addr a = {
		.index = index,
		.desc_user_addr = iova_of_locked(vi, q->desc),
		.used_user_addr = iova_of_locked(vi, q->used),
		.avail_user_addr = iova_of_locked(vi, q->avail),
	};

	return vmm_ioctl(vi->v, VHOST_SET_VRING_ADDR, &a);
}

int viommu_bringup(struct viommu *vi, struct vmm *v, const char *path,
		   uint64_t want, unsigned int num, unsigned int shift,
		   size_t nspare, uint64_t seed, unsigned int flags)
{
	uint64_t offered, bf = 0, wantbf = 0;
	size_t size, ps = (size_t)1 << shift;
	int r, i, fl;

	memset(vi, 0, sizeof(*vi));
	vi->v = v;
	vi->stop_fd = -1;
	vi->shift = shift;
	vi->ps = ps;
	vi->rng = seed * 0x9E3779B97F4A7C15ULL + 0x1234567;
	if (!vi->rng)
		vi->rng = 1;
	pthread_mutex_init(&vi->lock, NULL);

	r = vmm_open(v, path);
	if (r)
		return r;
	/* the device fd reads without blocking; a vhost-user socket waits
	 * for each reply (vu.c) and has its backend channel polled */
	fl = v->user ? 0 : fcntl(v->fd, F_GETFL);
	if (fl < 0 || (!v->user && fcntl(v->fd, F_SETFL, fl | O_NONBLOCK)))
		return -errno;
	if (vmm_ring_packed_wanted()) {
		/* packed rings are a virtio 1 feature: no legacy devices */
		if (!(want & (1ULL << VIRTIO_F_VERSION_1)))
			return -EPROTONOSUPPORT;
		want |= VMM_F_RING_PACKED;
	}
	r = vmm_set_owner(v);
	if (!r)
		r = vmm_get_features(v, &offered);
	if (!r)
		r = vmm_set_features(v, want & offered);
	if (!r && (want & ~offered & VMM_F_RING_PACKED))
		r = -EPROTONOSUPPORT;
	if (r)
		return r;
	if (!(flags & VIOMMU_V1))
		wantbf |= 1ULL << VHOST_BACKEND_F_IOTLB_MSG_V2;
	if (flags & VIOMMU_BATCH)
		wantbf |= 1ULL << VHOST_BACKEND_F_IOTLB_BATCH;
	if (!vmm_ioctl(v, VHOST_GET_BACKEND_FEATURES, &bf)) {
		bf &= wantbf;
		r = vmm_ioctl(v, VHOST_SET_BACKEND_FEATURES, &bf);
		if (r)
			return r;
		vi->backend_features = bf;
	}
	vi->v2 = !!(vi->backend_features &
		    (1ULL << VHOST_BACKEND_F_IOTLB_MSG_V2));

	size = 2 * (size_t)num * (VMM_SLOT_SIZE + VMM_MAX_SEGS * 16) +
	       (1 << 20) + nspare * ps;
	size = (size + ps - 1) & ~(ps - 1);
	/* rings and tables before the slabs, spares after: round up */
	size += 2 * ps;
	r = vmm_mem_init(v, size, VMM_GPA_BASE);
	if (!r)
		r = vmm_set_mem_table(v);
	if (r)
		return r;
	vi->npages = size >> shift;
	vi->nslots = 4 * vi->npages + 16;
	vi->iova_base = ((vi_rnd(vi) % 0x7ffe) + 1) << 32;
	vi->slot_of = malloc(vi->npages * sizeof(int64_t));
	vi->page_of = malloc(vi->nslots * sizeof(int64_t));
	vi->perm = malloc(vi->npages);
	vi->pinned = calloc(vi->npages, 1);
	vi->spare = malloc(vi->npages * sizeof(int64_t));
	if (!vi->slot_of || !vi->page_of || !vi->perm || !vi->pinned ||
	    !vi->spare)
		return -ENOMEM;
	memset(vi->slot_of, 0xff, vi->npages * sizeof(int64_t));
	memset(vi->page_of, 0xff, vi->nslots * sizeof(int64_t));
	memset(vi->perm, VHOST_ACCESS_RW, vi->npages);
	for (i = 0; i < VMM_NVQS; i++) {
		r = vmm_vq_init(v, i, num);
		if (r)
			return r;
	}
	if (nspare + 2 > vi->npages ||
	    v->mem_used > (vi->npages - nspare) << shift)
		return -ENOMEM;
	r = build_layout(vi, nspare);
	if (r)
		return r;
	for (i = 0; !r && i < VMM_NVQS; i++) {
		struct vmm_vq *q = &v->vq[i];

		r = vmm_vq_set_num(v, i, q->num);
		if (!r)
			r = vmm_vq_set_base(v, i, vmm_vq_base_encode(q, 0));
		if (!r)
			r = set_addr(vi, i);
		if (!r)
			r = vmm_vq_set_file(v, VHOST_SET_VRING_KICK, i,
					    q->kick_fd);
		if (!r)
			r = vmm_vq_set_file(v, VHOST_SET_VRING_CALL, i,
					    q->call_fd);
		if (!r)
			r = vmm_vq_set_file(v, VHOST_SET_VRING_ERR, i,
					    q->err_fd);
	}
	return r;
}

void viommu_close(struct viommu *vi)
{
	int i;

	viommu_stop(vi);
	if (vi->v)
		vmm_close(vi->v);
	free(vi->slot_of);
	free(vi->page_of);
	free(vi->perm);
	free(vi->pinned);
	free(vi->spare);
	for (i = 0; i < VMM_NVQS; i++) {
		free(vi->slot_iova[i]);
		free(vi->ind_iova[i]);
		vi->slot_iova[i] = NULL;
		vi->ind_iova[i] = NULL;
	}
	vi->slot_of = vi->page_of = vi->spare = NULL;
	vi->perm = vi->pinned = NULL;
}

/* ---- messages ---- */

/* VIOMMU_DEBUG set: trace every message on stderr (read once). */
static int viommu_debug(void)
{
	static int debug = -1;

	if (debug < 0)
		debug = !!getenv("VIOMMU_DEBUG");
	return debug;
}

int viommu_send_locked(struct viommu *vi, uint8_t type, uint64_t iova,
		       uint64_t size, uint64_t uaddr, uint8_t perm)
{
	struct vhost_msg_v2 m;
	ssize_t n;

	memset(&m, 0, sizeof(m));
	m.type = vi->v2 ? VHOST_IOTLB_MSG_V2 : VHOST_IOTLB_MSG;
	m.iotlb.iova = iova;
	m.iotlb.size = size;
	m.iotlb.uaddr = uaddr;
	m.iotlb.perm = perm;
	m.iotlb.type = type;
	if (viommu_debug())
		fprintf(stderr, "viommu: send type %u iova 0x%llx size 0x%llx uaddr 0x%llx perm %u\n",
			type, (unsigned long long)iova,
			(unsigned long long)size, (unsigned long long)uaddr,
			perm);
	if (vi->v->user)
		return vmm_vu_iotlb_send(vi->v, &m.iotlb);
	/* struct vhost_msg has the same layout on 64-bit */
	n = write(vi->v->fd, &m, sizeof(m));
	if (n < 0)
		return -errno;
	return n == sizeof(m) ? 0 : -EIO;
}

int viommu_send(struct viommu *vi, uint8_t type, uint64_t iova,
		uint64_t size, uint64_t uaddr, uint8_t perm)
{
	int r;

	pthread_mutex_lock(&vi->lock);
	r = viommu_send_locked(vi, type, iova, size, uaddr, perm);
	pthread_mutex_unlock(&vi->lock);
	return r;
}

/* UPDATE the page behind IOVA slot @s: 1, 0 if unmapped, -errno. */
static int update_slot_locked(struct viommu *vi, int64_t s)
{
	int64_t pg;
	int r;

	if (s < 0 || (pg = vi->page_of[s]) < 0)
		return 0;
	r = viommu_send_locked(vi, VHOST_IOTLB_UPDATE,
			vi->iova_base + ((uint64_t)s << vi->shift), vi->ps,
			(uintptr_t)(vi->v->mem + ((size_t)pg << vi->shift)),
			vi->perm[pg]);
	return r ? r : 1;
}

static int answer_locked(struct viommu *vi, const struct vhost_iotlb_msg *m)
{
	int r;

	if (viommu_debug())
		fprintf(stderr, "viommu: msg type %u iova 0x%llx perm %u\n",
			m->type, (unsigned long long)m->iova, m->perm);

	switch (m->type) {
	case VHOST_IOTLB_MISS:
		vi->misses++;
		r = update_slot_locked(vi, slot_of_iova(vi, m->iova));
		if (r > 0)
			vi->updates++;
		else if (!r)
			vi->unmapped++;
		return r;
	case VHOST_IOTLB_ACCESS_FAIL:
		vi->access_fails++;
		vi->last_fail = *m;
		return 0;
	default:
		vi->others++;
		return 0;
	}
}

/*
 * The reply a vhost-user backend waits for (it set NEED_REPLY on the
 * message read last), sent once that message is answered, as QEMU does:
 * 0 if its UPDATE went out, 1 if not (unmapped IOVA, or never answered).
 */
static int vu_reply_locked(struct viommu *vi, int ok)
{
	if (!vi->vu_need_reply)
		return 0;
	vi->vu_need_reply = 0;
	return vmm_vu_backend_reply(vi->v, VMM_VU_BACKEND_IOTLB_MSG, !ok);
}

int viommu_answer(struct viommu *vi, const struct vhost_iotlb_msg *m)
{
	int r, rr;

	pthread_mutex_lock(&vi->lock);
	r = answer_locked(vi, m);
	rr = vu_reply_locked(vi, r > 0 || m->type == VHOST_IOTLB_ACCESS_FAIL);
	pthread_mutex_unlock(&vi->lock);
	return r < 0 ? r : rr ? rr : r;
}

/* The next message from the backend channel: 1, -EAGAIN if none. */
static int vu_read_one(struct viommu *vi, struct vhost_iotlb_msg *m,
		       int timeout_ms)
{
	int need = 0, r;

	pthread_mutex_lock(&vi->lock);
	r = vu_reply_locked(vi, 0);	/* the last one was not answered */
	pthread_mutex_unlock(&vi->lock);
	if (r)
		return r;
	r = vmm_vu_iotlb_recv(vi->v, m, &need, timeout_ms);
	if (r == 1) {
		pthread_mutex_lock(&vi->lock);
		vi->vu_need_reply = need;
		pthread_mutex_unlock(&vi->lock);
	}
	return r ? r : -EAGAIN;
}

static int read_one(struct viommu *vi, struct vhost_iotlb_msg *m)
{
	struct vhost_msg_v2 buf;
	ssize_t n;

	if (vi->v->user)
		return vu_read_one(vi, m, 0);
	n = read(vi->v->fd, &buf, sizeof(buf));

	if (n < 0)
		return -errno;
	if (n != sizeof(buf))
		return -EIO;
	*m = buf.iotlb;
	return 1;
}

int viommu_recv(struct viommu *vi, struct vhost_iotlb_msg *m, int timeout_ms)
{
	struct pollfd p = { .fd = vi->v->fd, .events = POLLIN };
	int r;

	if (vi->v->user) {
		r = vu_read_one(vi, m, timeout_ms);
		return r == -EAGAIN ? 0 : r;
	}
	for (;;) {
		r = read_one(vi, m);
		if (r != -EAGAIN)
			return r;
		r = poll(&p, 1, timeout_ms);
		if (r < 0)
			return -errno;
		if (!r)
			return 0;
	}
}

static void *server(void *arg)
{
	struct viommu *vi = arg;
	struct pollfd p[2] = {
		{ .fd = vi->v->user ? vi->v->vu_backend_fd : vi->v->fd,
		  .events = POLLIN },
		{ .fd = vi->stop_fd, .events = POLLIN },
	};
	struct vhost_iotlb_msg m;

	for (;;) {
		while (read_one(vi, &m) == 1)
			viommu_answer(vi, &m);
		if (poll(p, 2, -1) < 0 && errno != EINTR)
			break;
		if (p[1].revents)
			break;
	}
	return NULL;
}

int viommu_start(struct viommu *vi)
{
	if (vi->running)
		return 0;
	vi->stop_fd = eventfd(0, EFD_CLOEXEC);
	if (vi->stop_fd < 0)
		return -errno;
	if (pthread_create(&vi->thr, NULL, server, vi)) {
		close(vi->stop_fd);
		vi->stop_fd = -1;
		return -EAGAIN;
	}
	vi->running = 1;
	return 0;
}

void viommu_stop(struct viommu *vi)
{
	uint64_t one = 1;

	if (!vi->running)
		return;
	if (write(vi->stop_fd, &one, sizeof(one)) < 0)
		(void)0;
	pthread_join(vi->thr, NULL);
	close(vi->stop_fd);
	vi->stop_fd = -1;
	vi->running = 0;
}

/* ---- the table ---- */

uint64_t viommu_iova(struct viommu *vi, const void *p)
{
	uint64_t r;

	pthread_mutex_lock(&vi->lock);
	r = iova_of_locked(vi, p);
	pthread_mutex_unlock(&vi->lock);
	return r;
}

void *viommu_ptr(struct viommu *vi, uint64_t iova)
{
	void *p;

	pthread_mutex_lock(&vi->lock);
	p = ptr_locked(vi, iova);
	pthread_mutex_unlock(&vi->lock);
	return p;
}

int64_t viommu_page_of_iova(struct viommu *vi, uint64_t iova)
{
	int64_t s, pg;

	pthread_mutex_lock(&vi->lock);
	s = slot_of_iova(vi, iova);
	pg = s < 0 ? -1 : vi->page_of[s];
	pthread_mutex_unlock(&vi->lock);
	return pg;
}

int viommu_update_iova(struct viommu *vi, uint64_t iova)
{
	int r;

	pthread_mutex_lock(&vi->lock);
	r = update_slot_locked(vi, slot_of_iova(vi, iova));
	if (r > 0)
		vi->manual_updates++;
	pthread_mutex_unlock(&vi->lock);
	return r < 0 ? r : r ? 0 : -ENOENT;
}

int viommu_invalidate_iova(struct viommu *vi, uint64_t iova)
{
	uint64_t base = iova & ~(uint64_t)(vi->ps - 1);

	return viommu_send(vi, VHOST_IOTLB_INVALIDATE, base, vi->ps, 0, 0);
}

int viommu_map_used_rings(struct viommu *vi)
{
	int i, r = 0;

	for (i = 0; !r && i < VMM_NVQS; i++) {
		struct vmm_vq *q = &vi->v->vq[i];
		/* packed: the device writes used descriptors in the ring */
		void *ring = q->packed ? (void *)q->desc : (void *)q->used;
		uint64_t first = viommu_iova(vi, ring);
		uint64_t last = first + vmm_ring_bytes(q, q->packed ? 0 : 2) +
				(q->packed ? 0 : 2) - 1;
		uint64_t a;

		if (q->packed)
			r = viommu_update_iova(vi, viommu_iova(vi, q->used));

		for (a = first & ~(uint64_t)(vi->ps - 1); !r && a <= last;
		     a += vi->ps)
			r = viommu_update_iova(vi, a);
	}
	return r;
}

int viommu_movable(struct viommu *vi, uint64_t iova)
{
	int64_t pg = viommu_page_of_iova(vi, iova);

	return pg >= 0 && !vi->pinned[pg];
}

int viommu_remap_iova(struct viommu *vi, uint64_t iova, void **old)
{
	uint64_t base = iova & ~(uint64_t)(vi->ps - 1);
	int64_t s, pg, npg;
	int r;

	pthread_mutex_lock(&vi->lock);
	s = slot_of_iova(vi, iova);
	pg = s < 0 ? -1 : vi->page_of[s];
	r = -ENOENT;
	if (pg < 0)
		goto out;
	r = -EPERM;
	if (vi->pinned[pg])
		goto out;
	r = -ENOSPC;
	if (!vi->nspare)
		goto out;
	/* The device stops using the old page before we copy it. */
	r = viommu_send_locked(vi, VHOST_IOTLB_INVALIDATE, base, vi->ps, 0, 0);
	if (r)
		goto out;
	npg = vi->spare[0];
	memmove(vi->spare, vi->spare + 1, --vi->nspare * sizeof(int64_t));
	memcpy(vi->v->mem + ((size_t)npg << vi->shift),
	       vi->v->mem + ((size_t)pg << vi->shift), vi->ps);
	vi->perm[npg] = vi->perm[pg];
	vi->page_of[s] = npg;
	vi->slot_of[npg] = s;
	vi->slot_of[pg] = -1;
	vi->spare[vi->nspare++] = pg;
	if (old)
		*old = vi->v->mem + ((size_t)pg << vi->shift);
out:
	pthread_mutex_unlock(&vi->lock);
	return r;
}

int viommu_set_perm(struct viommu *vi, uint64_t iova, uint8_t perm)
{
	int64_t s, pg;

	pthread_mutex_lock(&vi->lock);
	s = slot_of_iova(vi, iova);
	pg = s < 0 ? -1 : vi->page_of[s];
	if (pg >= 0)
		vi->perm[pg] = perm;
	pthread_mutex_unlock(&vi->lock);
	return pg < 0 ? -ENOENT : 0;
}

/* Copy between IOVA space and a buffer, page by page; dir 1 writes. */
static int xfer(struct viommu *vi, uint64_t iova, void *buf, size_t len,
		int dir, int fill)
{
	uint8_t *b = buf;
	int r = 0;

	pthread_mutex_lock(&vi->lock);
	while (len) {
		size_t in = vi->ps - (iova & (vi->ps - 1));
		size_t c = in < len ? in : len;
		uint8_t *p = ptr_locked(vi, iova);

		if (!p) {
			r = -EFAULT;
			break;
		}
		if (dir && fill >= 0)
			memset(p, fill, c);
		else if (dir)
			memcpy(p, b, c);
		else
			memcpy(b, p, c);
		if (b)
			b += c;
		iova += c;
		len -= c;
	}
	pthread_mutex_unlock(&vi->lock);
	return r;
}

int viommu_write(struct viommu *vi, uint64_t iova, const void *src,
		 size_t len)
{
	return xfer(vi, iova, (void *)src, len, 1, -1);
}

int viommu_read(struct viommu *vi, uint64_t iova, void *dst, size_t len)
{
	return xfer(vi, iova, dst, len, 0, -1);
}

/* ---- the guest driver ---- */

uint64_t viommu_slot_iova(struct viommu *vi, struct vmm_vq *q,
			  uint16_t head)
{
	return vi->slot_iova[q->index][head];
}

/* Write the stream hdr||data from offset @off, @n bytes, at @iova. */
static int write_stream(struct viommu *vi, uint64_t iova, const uint8_t *hdr,
			size_t hdr_len, const uint8_t *data, size_t off,
			size_t n)
{
	int r = 0;

	if (off < hdr_len) {
		size_t c = hdr_len - off < n ? hdr_len - off : n;

		r = viommu_write(vi, iova, hdr + off, c);
		iova += c;
		off += c;
		n -= c;
	}
	if (!r && n)
		r = viommu_write(vi, iova, data + (off - hdr_len), n);
	return r;
}

static int post(struct viommu *vi, struct vmm_vq *q, size_t total,
		enum vmm_post_mode mode, unsigned int nseg, uint16_t flags,
		const void *hdr, size_t hdr_len, const void *data)
{
	size_t off = 0, slot_off = 0, n;
	struct vring_desc *d = NULL;
	unsigned int i;
	uint64_t slot;
	uint16_t idx;
	int head, r;

	r = vmm_post_nseg(total, mode, nseg);
	if (r < 0)
		return r;
	nseg = r;
	head = vmm_desc_alloc(q, mode == VMM_CHAIN ? nseg : 1);
	if (head < 0)
		return head;
	slot = vi->slot_iova[q->index][head];
	if (mode == VMM_INDIRECT)
		d = q->indirect + (size_t)head * VMM_MAX_SEGS;
	idx = vmm_post_start(q, head);
	for (i = 0; i < nseg; i++) {
		n = total / nseg + (i < total % nseg);
		if (flags & VRING_DESC_F_WRITE)
			r = xfer(vi, slot + slot_off, NULL, n, 1,
				 VMM_RX_POISON);
		else
			r = write_stream(vi, slot + slot_off, hdr, hdr_len,
					 data, off, n);
		if (r)
			return r;
		vmm_post_seg(q, d, mode, &idx, i, nseg, slot + slot_off, n,
			     flags);
		off += n;
		slot_off += n + VMM_SPLIT_GAP;
	}
	return vmm_post_finish(q, head, mode, nseg,
			       vi->ind_iova[q->index][head]);
}

int viommu_post_tx(struct viommu *vi, struct vmm_vq *q, const void *hdr,
		   size_t hdr_len, const void *data, size_t len,
		   enum vmm_post_mode mode, unsigned int nseg)
{
	return post(vi, q, hdr_len + len, mode, nseg, 0, hdr, hdr_len, data);
}

int viommu_post_rx(struct viommu *vi, struct vmm_vq *q, size_t len,
		   enum vmm_post_mode mode, unsigned int nseg)
{
	return post(vi, q, len, mode, nseg, VRING_DESC_F_WRITE, NULL, 0, NULL);
}

/* A packed ring's buffer: the pieces the driver kept (IOVAs). */
static size_t rx_copy_segs(struct viommu *vi, struct vmm_vq *q,
			   uint16_t head, void *dst, size_t size)
{
	struct vmm_seg segs[VMM_MAX_SEGS];
	int i, n = vmm_chain_segs(q, head, segs, VMM_MAX_SEGS);
	uint8_t *out = dst;
	size_t done = 0, c;

	for (i = 0; i < n && done < size; i++) {
		c = segs[i].len < size - done ? segs[i].len : size - done;
		if (viommu_read(vi, segs[i].addr, out + done, c))
			break;
		done += c;
	}
	return done;
}

size_t viommu_rx_copy(struct viommu *vi, struct vmm_vq *q, uint16_t head,
		      void *dst, size_t size)
{
	struct vring_desc *table = q->desc, *e;
	unsigned int i = head, steps = 0, max = q->num;
	uint8_t *out = dst;
	size_t done = 0;

	if (head >= q->num)
		return 0;
	if (q->packed)
		return rx_copy_segs(vi, q, head, dst, size);
	if (q->desc[head].flags & VRING_DESC_F_INDIRECT) {
		table = q->indirect + (size_t)head * VMM_MAX_SEGS;
		max = q->desc[head].len / sizeof(*table);
		i = 0;
	}
	while (done < size && i < max && steps++ < max) {
		size_t c;

		e = &table[i];
		c = e->len < size - done ? e->len : size - done;
		if (viommu_read(vi, e->addr, out + done, c))
			break;
		done += c;
		if (!(e->flags & VRING_DESC_F_NEXT))
			break;
		i = e->next;
	}
	return done;
}

static size_t viommu_rx_copy_hook(void *ctx, struct vmm_vq *q,
				  uint16_t head, void *dst, size_t size)
{
	return viommu_rx_copy(ctx, q, head, dst, size);
}

ssize_t viommu_rx_frame(struct viommu *vi, struct vmm_vq *q, int mrg,
			void *buf, size_t size, unsigned int *nbufs,
			int timeout_ms)
{
	return vmm_rx_frame_via(q, mrg, buf, size, nbufs, timeout_ms,
				viommu_rx_copy_hook, vi);
}

static int viommu_tx_post(void *ctx, struct vmm_vq *q, const void *hdr,
			  size_t hdr_len, const void *data, size_t len,
			  enum vmm_post_mode mode, unsigned int nseg)
{
	return viommu_post_tx(ctx, q, hdr, hdr_len, data, len, mode, nseg);
}

int viommu_tx_stream(struct viommu *vi, struct vmm_tap *t,
		     const struct vmm_tx_opts *o, struct vmm_tx_stats *st)
{
	return vmm_tx_stream_via(vi->v, t, o, st, viommu_tx_post, vi);
}

int viommu_get_stats(struct viommu *vi, struct ivhost_iotlb_stats *st)
{
	return viommu_read_stats(vi->v, st);
}
