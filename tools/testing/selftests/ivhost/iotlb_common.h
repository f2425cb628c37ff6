/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A minimal IOTLB-capable test VMM for the ivhost selftests.
 *
 * The IOVA space is the guest-physical one: IOVA X maps onto the user
 * address of guest-physical X (vmm_hva()).  Rings and buffers already
 * carry guest-physical addresses (vmm_gpa()), so with
 * VIRTIO_F_ACCESS_PLATFORM the only change is that the ring addresses
 * given to VHOST_SET_VRING_ADDR are guest-physical too.  A MISS is
 * answered by an UPDATE of the chunk (it->chunk bytes, a page by
 * default) holding the missing byte, as QEMU answers with one vIOMMU
 * page; a server thread can do that in the background.
 *
 * On a vhost-user device (IVHOST_DEV=vhost-user:SOCKET) a message goes
 * as VHOST_USER_IOTLB_MSG (vu.c): it_send() returns the 72 bytes a
 * write() would once the backend acked it with 0, -EIO if it refused;
 * it_read() gives a MISS or ACCESS_FAIL from the backend channel in the
 * same 72-byte v2 form (the 32 bytes received at offset 8), replying 0 at
 * once to one sent with NEED_REPLY.  vhost-user has no message versions:
 * it_set_v2() only records which form it_read() fills in.
 *
 * Everything is static: each test binary includes this once.
 */
#ifndef IVHOST_IOTLB_COMMON_H
#define IVHOST_IOTLB_COMMON_H

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <sys/uio.h>
#include <linux/vhost.h>

#include "ringtest.h"

#define IT_MSG_SIZE	72	/* struct vhost_msg and vhost_msg_v2 on x86-64 */
#define IT_PAGE		4096ULL

struct it {
	struct rtdev d;
	int v2;			/* messages in struct vhost_msg_v2 */
	uint64_t chunk;		/* bytes one answer maps */
	pthread_t srv;
	int srv_on;
	volatile int stop;
	unsigned long misses;	/* MISS messages read (atomic) */
	unsigned long answers;	/* UPDATEs that answered them (atomic) */
	unsigned long foreign;	/* misses outside guest memory (atomic) */
};

/* Fill a 72-byte message; returns its size. */
static inline size_t it_fill(uint8_t *buf, int v2, uint8_t type,
			     uint64_t iova, uint64_t size, uint64_t uaddr,
			     uint8_t perm)
{
	struct vhost_iotlb_msg m;
	uint32_t t = v2 ? VHOST_IOTLB_MSG_V2 : VHOST_IOTLB_MSG;

	memset(buf, 0, IT_MSG_SIZE);
	memset(&m, 0, sizeof(m));
	m.iova = iova;
	m.size = size;
	m.uaddr = uaddr;
	m.perm = perm;
	m.type = type;
	memcpy(buf, &t, sizeof(t));
	memcpy(buf + 8, &m, sizeof(m));
	return IT_MSG_SIZE;
}

/* write() one IOTLB message: the byte count, or -errno. */
static inline ssize_t it_send(struct it *it, uint8_t type, uint64_t iova,
			      uint64_t size, uint64_t uaddr, uint8_t perm)
{
	uint8_t buf[IT_MSG_SIZE];
	ssize_t r;

	it_fill(buf, it->v2, type, iova, size, uaddr, perm);
	if (it->d.v.user) {
		r = vmm_vu_iotlb_send(&it->d.v,
				      (struct vhost_iotlb_msg *)(buf + 8));
		return r ? r : IT_MSG_SIZE;
	}
	r = write(it->d.v.fd, buf, sizeof(buf));
	return r < 0 ? -errno : r;
}

/* UPDATE: guest-physical [gpa, gpa + size) onto its user address. */
static inline ssize_t it_map(struct it *it, uint64_t gpa, uint64_t size)
{
	uint8_t *hva = vmm_hva(&it->d.v, gpa);

	if (!hva)
		return -EINVAL;
	return it_send(it, VHOST_IOTLB_UPDATE, gpa, size, (uintptr_t)hva,
		       VHOST_ACCESS_RW);
}

static inline ssize_t it_unmap(struct it *it, uint64_t iova, uint64_t size)
{
	return it_send(it, VHOST_IOTLB_INVALIDATE, iova, size, 0, 0);
}

static inline ssize_t it_map_all(struct it *it)
{
	return it_map(it, it->d.v.mem_gpa, it->d.v.mem_size);
}

static inline uint64_t it_page(const void *hva_in_guest, struct vmm *v)
{
	return vmm_gpa(v, hva_in_guest) & ~(IT_PAGE - 1);
}

/* UPDATE the pages of a queue's rings. */
static inline int it_map_rings(struct it *it, unsigned int qi)
{
	struct vmm_vq *q = &it->d.v.vq[qi];
	struct vmm *v = &it->d.v;
	ssize_t r;

	r = it_map(it, it_page(q->desc, v), IT_PAGE);
	if (r == IT_MSG_SIZE)
		r = it_map(it, it_page(q->avail, v), IT_PAGE);
	if (r == IT_MSG_SIZE)
		r = it_map(it, it_page(q->used, v), IT_PAGE);
	return r == IT_MSG_SIZE ? 0 : (int)r;
}

/* VHOST_SET_VRING_ADDR with the rings' IOVAs (guest-physical). */
static inline int it_set_addr(struct it *it, unsigned int qi)
{
	struct vmm_vq *q = &it->d.v.vq[qi];
	struct vmm *v = &it->d.v;
	struct vhost_vring_addr a = {
		.index = qi,
		.desc_user_addr = vmm_gpa(v, q->desc),
		.used_user_addr = vmm_gpa(v, q->used),
		.avail_user_addr = vmm_gpa(v, q->avail),
	};

	return vmm_ioctl(v, VHOST_SET_VRING_ADDR, &a);
}

/* Acknowledge IOTLB_MSG_V2 (or nothing). */
static inline int it_set_v2(struct it *it, int v2)
{
	uint64_t bf = v2 ? 1ULL << VHOST_BACKEND_F_IOTLB_MSG_V2 : 0;
	int r = it->d.v.user ? 0 :
		vmm_ioctl(&it->d.v, VHOST_SET_BACKEND_FEATURES, &bf);

	if (!r)
		it->v2 = v2;
	return r;
}

/*
 * Attach a backend the way QEMU does: the used ring is mapped first
 * (vhost_net reads and writes it while attaching).
 */
static inline int it_attach(struct it *it, unsigned int qi)
{
	struct vmm_vq *q = &it->d.v.vq[qi];
	ssize_t r = it_map(it, it_page(q->used, &it->d.v), IT_PAGE);

	if (r != IT_MSG_SIZE)
		return r < 0 ? (int)r : -EIO;
	return vmm_set_backend(&it->d.v, qi, it->d.t.fd);
}

/*
 * Bring a device up with ACCESS_PLATFORM and IOVA ring addresses, and
 * @mem_size bytes of guest memory (0: vmm_bringup()'s default).
 */
static inline int it_up_mem(struct it *it, uint64_t features,
			    unsigned int num, size_t mem_size)
{
	int r, i;

	memset(it, 0, sizeof(*it));
	it->chunk = IT_PAGE;
	r = rt_up_mem(&it->d, features | F(VIRTIO_F_ACCESS_PLATFORM), num,
		      mem_size);
	if (r)
		return r;
	if (!(it->d.v.features & F(VIRTIO_F_ACCESS_PLATFORM)))
		return -EOPNOTSUPP;
	if (!it->d.v.user && fcntl(it->d.v.fd, F_SETFL, O_NONBLOCK) < 0)
		return -errno;
	r = it_set_v2(it, 1);
	for (i = 0; !r && i < VMM_NVQS; i++)
		r = it_set_addr(it, i);
	return r;
}

/* Read one message (non-blocking): its size, or -errno. */
static inline ssize_t it_read(struct it *it, void *buf, size_t size)
{
	struct vhost_iotlb_msg m;
	int need = 0, r;
	ssize_t n;

	if (!it->d.v.user) {
		n = read(it->d.v.fd, buf, size);
		return n < 0 ? -errno : n;
	}
	if (size < IT_MSG_SIZE)
		return -EINVAL;
	r = vmm_vu_iotlb_recv(&it->d.v, &m, &need, 0);
	if (r <= 0)
		return r ? r : -EAGAIN;
	if (need && vmm_vu_backend_reply(&it->d.v, VMM_VU_BACKEND_IOTLB_MSG,
					 0))
		return -EIO;
	it_fill(buf, it->v2, 0, 0, 0, 0, 0);
	memcpy((uint8_t *)buf + 8, &m, sizeof(m));
	return IT_MSG_SIZE;
}

/* Parse a message read back: the inner vhost_iotlb_msg. */
static inline void it_parse(const uint8_t *buf, struct vhost_iotlb_msg *m)
{
	memcpy(m, buf + 8, sizeof(*m));
}

/* Wait for a message to be readable; 1 yes, 0 timeout. */
static inline int it_wait_msg(struct it *it, int ms)
{
	struct pollfd p = { .fd = it->d.v.user ? it->d.v.vu_backend_fd :
				  it->d.v.fd, .events = POLLIN };

	return poll(&p, 1, ms) == 1 && (p.revents & POLLIN);
}

/* Answer every queued MISS; returns how many were read. */
static inline int it_serve(struct it *it)
{
	struct vhost_iotlb_msg m;
	uint8_t buf[IT_MSG_SIZE];
	struct vmm *v = &it->d.v;
	uint64_t start, end;
	int n = 0;

	while (it_read(it, buf, sizeof(buf)) == IT_MSG_SIZE) {
		n++;
		it_parse(buf, &m);
		if (m.type != VHOST_IOTLB_MISS)
			continue;
		__atomic_add_fetch(&it->misses, 1, __ATOMIC_RELAXED);
		if (m.iova < v->mem_gpa ||
		    m.iova - v->mem_gpa >= v->mem_size) {
			__atomic_add_fetch(&it->foreign, 1, __ATOMIC_RELAXED);
			continue;
		}
		start = m.iova & ~(it->chunk - 1);
		if (start < v->mem_gpa)
			start = v->mem_gpa;
		end = (m.iova | (it->chunk - 1)) + 1;
		if (end > v->mem_gpa + v->mem_size)
			end = v->mem_gpa + v->mem_size;
		if (it_map(it, start, end - start) == IT_MSG_SIZE)
			__atomic_add_fetch(&it->answers, 1, __ATOMIC_RELAXED);
	}
	return n;
}

static inline void *it_server(void *arg)
{
	struct it *it = arg;

	while (!it->stop) {
		it_wait_msg(it, 20);
		it_serve(it);
	}
	return NULL;
}

static inline int it_server_start(struct it *it)
{
	it->stop = 0;
	if (pthread_create(&it->srv, NULL, it_server, it))
		return -EAGAIN;
	it->srv_on = 1;
	return 0;
}

static inline void it_server_stop(struct it *it)
{
	if (!it->srv_on)
		return;
	it->stop = 1;
	pthread_join(it->srv, NULL);
	it->srv_on = 0;
}

/* Bring a device up with ACCESS_PLATFORM and IOVA ring addresses. */
static inline int it_up(struct it *it, uint64_t features, unsigned int num)
{
	return it_up_mem(it, features, num, 0);
}

static inline void it_down(struct it *it)
{
	it_server_stop(it);
	rt_down(&it->d);
}

/* ---- TX traffic ---- */

static inline size_t it_flen(uint32_t seq)
{
	return 60 + (seq * 37) % 1400;
}

/* Reap what the device used, then post frame @seq and kick. */
static inline int it_post_tx(struct it *it, uint32_t seq)
{
	static const uint8_t hdr[32];
	struct vmm_vq *q = &it->d.v.vq[VMM_TX];
	uint8_t frame[2048];

	while (vmm_reap(q, NULL, NULL) == 1)
		;
	vmm_gen_frame(seq, frame, it_flen(seq));
	if (vmm_post_tx(q, hdr, it->d.hdr_len, frame, it_flen(seq),
			VMM_DIRECT, 1) < 0)
		return -ENOSPC;
	return vmm_kick(q);
}

/*
 * Wait for frame @seq on the tap.  Frames with a lower seq (left over
 * from a queue that was stopped and restarted) are skipped when @lenient.
 */
static inline int it_expect_tx(struct it *it, uint32_t seq, int lenient,
			       int ms, char *msg, size_t msz)
{
	long long end = vmm_now_ms() + ms;
	uint8_t buf[4096];
	ssize_t n;
	long got;

	for (;;) {
		int left = (int)(end - vmm_now_ms());

		if (left <= 0) {
			snprintf(msg, msz, "tx seq %u never arrived", seq);
			return -1;
		}
		n = rt_tap_recv(&it->d, buf, sizeof(buf), left);
		if (n < 0)
			continue;
		got = rt_frame_seq(buf, n);
		if (got == (long)seq && (size_t)n == it_flen(seq))
			return 0;
		if (lenient && got >= 0 && got < (long)seq)
			continue;
		snprintf(msg, msz, "tx seq %u: got %zd bytes, seq %ld", seq,
			 n, got);
		return -1;
	}
}

/* Send @count frames from @seq, each one expected before the next. */
static inline int it_tx_run(struct it *it, uint32_t seq, unsigned int count,
			    int lenient, char *msg, size_t msz)
{
	unsigned int i;

	for (i = 0; i < count; i++) {
		if (it_post_tx(it, seq + i)) {
			snprintf(msg, msz, "tx seq %u: cannot post", seq + i);
			return -1;
		}
		if (it_expect_tx(it, seq + i, lenient, 10000, msg, msz))
			return -1;
	}
	return 0;
}

/* Kick TX until the device used every posted frame; -ETIMEDOUT if not. */
static inline int it_drain(struct it *it, int ms)
{
	struct vmm_vq *q = &it->d.v.vq[VMM_TX];
	long long end = vmm_now_ms() + ms;
	uint8_t buf[4096];

	while (vmm_inflight(q)) {
		if (vmm_now_ms() > end)
			return -ETIMEDOUT;
		vmm_kick(q);
		while (rt_tap_recv(&it->d, buf, sizeof(buf), 0) >= 0)
			;
		usleep(2000);
		while (vmm_reap(q, NULL, NULL) == 1)
			;
	}
	return 0;
}

/*
 * Restart a queue the way a VMM repairs one: detach, GET_VRING_BASE,
 * SET_VRING_BASE, SET_VRING_ADDR (IOVAs), map the used ring, attach.
 * The guest's shadow indexes follow the device's base.
 */
static inline int it_restart(struct it *it, unsigned int qi)
{
	struct vmm_vq *q = &it->d.v.vq[qi];
	unsigned int base;
	int r;

	r = vmm_set_backend(&it->d.v, qi, -1);
	if (!r)
		r = vmm_vq_get_base(&it->d.v, qi, &base);
	if (!r)
		r = vmm_vq_set_base(&it->d.v, qi, base);
	if (!r)
		r = it_set_addr(it, qi);
	if (!r)
		r = it_attach(it, qi);
	while (vmm_poll_fd(q->err_fd))
		;
	return r;
}

#endif
