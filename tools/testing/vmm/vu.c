// SPDX-License-Identifier: GPL-2.0
/*
 * vu.c - the test VMM's second transport: the frontend calls of vmm.c sent
 * as vhost-user messages on a unix socket instead of ioctls on a device fd.
 *
 * vmm_open() picks it for a path "vhost-user:SOCKET".  Every vmm_ioctl()
 * of such a vmm lands in vu_ioctl(), which maps the vhost ioctl onto the
 * vhost-user request that means the same thing; an ioctl vhost-user has
 * no counterpart for fails with -ENOTTY.  VHOST_NET_SET_BACKEND has none
 * either (the backend owns its tap): attaching a backend (fd >= 0) is
 * SET_VRING_ENABLE(1), detaching it (fd -1) SET_VRING_ENABLE(0).  As a
 * tap serves both rings of a pair, attaching one ring enables its partner
 * too: a backend may start a pair only once both rings are enabled (DPDK
 * does), and a test that attaches only TX posts no RX buffers anyway.
 * GET_VRING_BASE stops a vhost-user ring, which only a kick fd starts
 * again, while the kernel device goes on at the next attach: so attaching
 * a ring stopped that way sends its kick fd again first, as QEMU does at
 * every start.
 *
 * At connect the transport does what QEMU does (vhost-user.md, section 3):
 * GET_FEATURES and, when bit 30 is offered, GET/SET_PROTOCOL_FEATURES
 * (MQ, REPLY_ACK, NET_MTU and LOG_SHMFD, those of them offered), then GET_QUEUE_NUM
 * with MQ.  With REPLY_ACK every request that has no reply of its own
 * carries NEED_REPLY, and a non-zero ack is -EIO.  Guest memory of such a
 * vmm is a memfd mapped MAP_SHARED (vmm_mem_init()); SET_MEM_TABLE passes
 * it once per region, with the region's offset into it.
 *
 * The device IOTLB (viommu.c on a vhost-user vmm): when GET_FEATURES
 * offers IOMMU_PLATFORM (bit 33), BACKEND_REQ is acked too and, as QEMU
 * does right after SET_PROTOCOL_FEATURES, a socketpair's far end goes to
 * the backend with SET_BACKEND_REQ_FD (SET_SLAVE_REQ_FD).  UPDATE and
 * INVALIDATE are IOTLB_MSG requests, always with NEED_REPLY (QEMU's
 * rule); MISS and ACCESS_FAIL come as BACKEND_IOTLB_MSG on the channel.
 * UPDATE's uaddr is this process's address of guest memory, the
 * userspace_addr space of SET_MEM_TABLE, as QEMU's is.
 *
 * Dirty logging: with LOG_SHMFD acked, vmm_vu_set_log_base() passes the
 * log as QEMU does (a memfd, its size and offset; the backend's u64 reply
 * is awaited) in place of VHOST_SET_LOG_BASE's address, and
 * VHOST_SET_LOG_FD is SET_LOG_FD with the eventfd.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <linux/vhost_types.h>

#include "vmm.h"

#define VU_VERSION		0x1
#define VU_F_REPLY		0x4
#define VU_F_NEED_REPLY		0x8
#define VU_VRING_NOFD		0x100
#define VU_F_PROTOCOL_FEATURES	30
#define VU_REPLY_TIMEOUT_MS	10000

/* The protocol features this frontend acks when they are offered. */
#define VU_WANT_PROTOCOL ((1ULL << VMM_VU_PROTOCOL_F_MQ) | \
			  (1ULL << VMM_VU_PROTOCOL_F_REPLY_ACK) | \
			  (1ULL << VMM_VU_PROTOCOL_F_NET_MTU) | \
			  (1ULL << VMM_VU_PROTOCOL_F_LOG_SHMFD))
/* ... and those the device IOTLB needs, with IOMMU_PLATFORM offered */
#define VU_IOMMU_PROTOCOL ((1ULL << VMM_VU_PROTOCOL_F_REPLY_ACK) | \
			   (1ULL << VMM_VU_PROTOCOL_F_BACKEND_REQ))

struct vu_mem_region {
	uint64_t gpa, size, uaddr, mmap_offset;
};

struct vu_mem {
	uint32_t nregions, padding;
	struct vu_mem_region r[VMM_VU_MAX_FDS];
};

int vmm_vu_send(int sock, uint32_t req, uint32_t flags, const void *payload,
		uint32_t size, const int *fds, unsigned int nfds)
{
	char cbuf[CMSG_SPACE(sizeof(int) * VMM_VU_MAX_FDS)];
	struct vmm_vu_hdr h = { .request = req, .flags = flags, .size = size };
	struct iovec iov[2] = {
		{ .iov_base = &h, .iov_len = sizeof(h) },
		{ .iov_base = (void *)payload, .iov_len = size },
	};
	struct msghdr m = { .msg_iov = iov, .msg_iovlen = size ? 2 : 1 };
	ssize_t n;

	if (nfds > VMM_VU_MAX_FDS)
		return -E2BIG;
	if (nfds) {
		struct cmsghdr *c;

		memset(cbuf, 0, sizeof(cbuf));
		m.msg_control = cbuf;
		m.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		c = CMSG_FIRSTHDR(&m);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
	}
	n = sendmsg(sock, &m, MSG_NOSIGNAL);
	if (n < 0)
		return -errno;
	return (size_t)n == sizeof(h) + size ? 0 : -EIO;
}

/* Read exactly @len bytes, waiting at most @timeout_ms for each piece. */
static int read_full(int sock, void *buf, size_t len, int timeout_ms)
{
	uint8_t *p = buf;

	while (len) {
		struct pollfd pfd = { .fd = sock, .events = POLLIN };
		ssize_t n;
		int r = poll(&pfd, 1, timeout_ms);

		if (r < 0)
			return -errno;
		if (!r)
			return -ETIMEDOUT;
		n = recv(sock, p, len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (!n)
			return -ECONNRESET;
		p += n;
		len -= n;
	}
	return 0;
}

int vmm_vu_recv(int sock, struct vmm_vu_hdr *h, void *payload, size_t size,
		int timeout_ms)
{
	uint8_t junk[256];
	size_t left;
	int r;

	r = read_full(sock, h, sizeof(*h), timeout_ms);
	if (r)
		return r;
	if (h->size <= size) {
		r = read_full(sock, payload, h->size, timeout_ms);
		return r ? r : (int)h->size;
	}
	/* too long for the caller: consume it, so the stream stays framed */
	for (left = h->size; left; ) {
		size_t c = left < sizeof(junk) ? left : sizeof(junk);

		r = read_full(sock, junk, c, timeout_ms);
		if (r)
			return r;
		left -= c;
	}
	return -EMSGSIZE;
}

int vmm_vu_peer_closed(int sock, int timeout_ms)
{
	struct pollfd pfd = { .fd = sock, .events = POLLIN };
	char c;
	int r = poll(&pfd, 1, timeout_ms);

	if (r <= 0)
		return 0;
	r = recv(sock, &c, 1, MSG_PEEK | MSG_DONTWAIT);
	return r == 0 || (r < 0 && errno == ECONNRESET);
}

int vmm_vu_connect(const char *path)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int s;

	if (strlen(path) >= sizeof(a.sun_path))
		return -ENAMETOOLONG;
	strcpy(a.sun_path, path);
	s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -errno;
	if (connect(s, (struct sockaddr *)&a, sizeof(a)) < 0) {
		int r = -errno;

		/* a socket that is there but refuses stays an error, not
		 * the -ENOENT "no such device" tests skip on */
		close(s);
		return r;
	}
	return s;
}

static int want_reply(struct vmm *v)
{
	return !!(v->vu_protocol & (1ULL << VMM_VU_PROTOCOL_F_REPLY_ACK));
}

static int vu_call_locked(struct vmm *v, uint32_t req, uint32_t flags,
			  const void *payload, uint32_t size, const int *fds,
			  unsigned int nfds, void *reply, uint32_t reply_size)
{
	struct vmm_vu_hdr h;
	uint64_t u = 0;
	int ack = !!(flags & VU_F_NEED_REPLY);
	int r;

	r = vmm_vu_send(v->fd, req, flags, payload, size, fds, nfds);
	if (r || (!reply && !ack))
		return r;
	if (!reply) {
		reply = &u;
		reply_size = sizeof(u);
	}
	r = vmm_vu_recv(v->fd, &h, reply, reply_size, VU_REPLY_TIMEOUT_MS);
	if (r < 0)
		return r;
	if (h.request != req || h.flags != (VU_VERSION | VU_F_REPLY) ||
	    h.size != reply_size)
		return -EPROTO;
	return ack && u ? -EIO : 0;
}

int vmm_vu_call(struct vmm *v, uint32_t req, const void *payload,
		uint32_t size, const int *fds, unsigned int nfds,
		void *reply, uint32_t reply_size)
{
	int ack = !reply && want_reply(v);
	int r;

	pthread_mutex_lock(&v->vu_lock);
	r = vu_call_locked(v, req, VU_VERSION | (ack ? VU_F_NEED_REPLY : 0),
			   payload, size, fds, nfds, reply, reply_size);
	pthread_mutex_unlock(&v->vu_lock);
	return r;
}

static int vu_get_u64(struct vmm *v, uint32_t req, uint64_t *val)
{
	return vmm_vu_call(v, req, NULL, 0, NULL, 0, val, sizeof(*val));
}

static int vu_set_u64(struct vmm *v, uint32_t req, uint64_t val)
{
	return vmm_vu_call(v, req, &val, sizeof(val), NULL, 0, NULL, 0);
}

/* SET_BACKEND_REQ_FD with the far end of a new socketpair. */
static int vu_backend_channel(struct vmm *v)
{
	int sv[2], r;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return -errno;
	r = vmm_vu_call(v, VMM_VU_SET_BACKEND_REQ_FD, NULL, 0, &sv[1], 1,
			NULL, 0);
	close(sv[1]);
	if (r) {
		close(sv[0]);
		return r;
	}
	v->vu_backend_fd = sv[0];
	return 0;
}

int vmm_vu_handshake(struct vmm *v)
{
	uint64_t f, pf;
	int r;

	r = vu_get_u64(v, VMM_VU_GET_FEATURES, &f);
	if (r)
		return r;
	v->vu_offered = f;
	if (!(f & (1ULL << VU_F_PROTOCOL_FEATURES)))
		return 0;
	r = vu_get_u64(v, VMM_VU_GET_PROTOCOL_FEATURES, &pf);
	if (r)
		return r;
	pf &= VU_WANT_PROTOCOL |
	      (v->vu_offered & (1ULL << VMM_VU_F_IOMMU_PLATFORM) ?
	       VU_IOMMU_PROTOCOL : 0);
	r = vu_set_u64(v, VMM_VU_SET_PROTOCOL_FEATURES, pf);
	if (r)
		return r;
	v->vu_protocol = pf | (1ULL << VMM_VU_PROTOCOL_NEGOTIATED);
	if (pf & (1ULL << VMM_VU_PROTOCOL_F_BACKEND_REQ)) {
		r = vu_backend_channel(v);
		if (r)
			return r;
	}
	v->vu_queues = 1;
	if (pf & (1ULL << VMM_VU_PROTOCOL_F_MQ)) {
		r = vu_get_u64(v, VMM_VU_GET_QUEUE_NUM, &f);
		if (r)
			return r;
		v->vu_queues = f;
	}
	return 0;
}

int vmm_vu_open(struct vmm *v, const char *sock_path)
{
	pthread_mutex_init(&v->vu_lock, NULL);
	v->user = 1;
	v->fd = vmm_vu_connect(sock_path);
	if (v->fd < 0)
		return v->fd;
	return vmm_vu_handshake(v);
}

/* The memfd and offset behind [uaddr, uaddr + size) of guest memory. */
static int vu_region(struct vmm *v, const struct vhost_memory_region *in,
		     struct vu_mem_region *out, int *fd)
{
	uint64_t base = (uintptr_t)v->mem;

	if (v->mem_fd < 0 || in->userspace_addr < base ||
	    in->userspace_addr - base > v->mem_size ||
	    in->memory_size > v->mem_size - (in->userspace_addr - base))
		return -EFAULT;
	out->gpa = in->guest_phys_addr;
	out->size = in->memory_size;
	out->uaddr = in->userspace_addr;
	out->mmap_offset = in->userspace_addr - base;
	*fd = v->mem_fd;
	return 0;
}

static int vu_set_mem_table(struct vmm *v, const struct vhost_memory *m)
{
	int fds[VMM_VU_MAX_FDS];
	struct vu_mem msg;
	unsigned int i;
	int r;

	if (m->nregions > VMM_VU_MAX_FDS)
		return -E2BIG;
	memset(&msg, 0, sizeof(msg));
	msg.nregions = m->nregions;
	for (i = 0; i < m->nregions; i++) {
		r = vu_region(v, &m->regions[i], &msg.r[i], &fds[i]);
		if (r)
			return r;
	}
	return vmm_vu_call(v, VMM_VU_SET_MEM_TABLE, &msg,
			   8 + sizeof(msg.r[0]) * m->nregions, fds,
			   m->nregions, NULL, 0);
}

static int vu_set_file(struct vmm *v, uint32_t req,
		       const struct vhost_vring_file *f)
{
	uint64_t u = f->index | (f->fd < 0 ? VU_VRING_NOFD : 0);

	return vmm_vu_call(v, req, &u, sizeof(u), &f->fd, f->fd < 0 ? 0 : 1,
			   NULL, 0);
}

/* SET_VRING_KICK, remembering the fd for vu_attach(). */
static int vu_set_kick(struct vmm *v, const struct vhost_vring_file *f)
{
	int r = vu_set_file(v, VMM_VU_SET_VRING_KICK, f);

	if (f->index >= VMM_NVQS)
		return r;
	v->vu_stopped &= ~(1U << f->index);
	v->vu_kicked &= ~(1U << f->index);
	if (!r && f->fd >= 0) {
		v->vu_kicked |= 1U << f->index;
		v->vu_kick_fd[f->index] = f->fd;
	}
	return r;
}

/* Attach: restart a ring GET_VRING_BASE stopped, then enable the pair. */
static int vu_attach(struct vmm *v, unsigned int index)
{
	struct vhost_vring_file k = { .index = index };

	if (index < VMM_NVQS && (v->vu_stopped & v->vu_kicked & (1U << index))) {
		k.fd = v->vu_kick_fd[index];
		if (vu_set_kick(v, &k))
			return -EIO;
	}
	if (vmm_vu_enable(v, index ^ 1, 1))
		return -EIO;
	return vmm_vu_enable(v, index, 1);
}

static int vu_state(struct vmm *v, uint32_t req, struct vhost_vring_state *s,
		    int get)
{
	return vmm_vu_call(v, req, s, sizeof(*s), NULL, 0, get ? s : NULL,
			   get ? sizeof(*s) : 0);
}

int vmm_vu_enable(struct vmm *v, unsigned int index, int enable)
{
	struct vhost_vring_state s = { .index = index, .num = !!enable };

	if (!(v->vu_protocol & (1ULL << VMM_VU_PROTOCOL_NEGOTIATED)))
		return enable ? 0 : -EOPNOTSUPP; /* rings run from the kick */
	return vu_state(v, VMM_VU_SET_VRING_ENABLE, &s, 0);
}

int vmm_vu_set_mtu(struct vmm *v, unsigned int mtu)
{
	if (!(v->vu_protocol & (1ULL << VMM_VU_PROTOCOL_F_NET_MTU)))
		return -EOPNOTSUPP;
	return vu_set_u64(v, VMM_VU_NET_SET_MTU, mtu);
}

/* SET_FEATURES with bit 30 put back when it was negotiated, as QEMU does */
static int vu_set_features(struct vmm *v, uint64_t f)
{
	if (v->vu_protocol & (1ULL << VMM_VU_PROTOCOL_NEGOTIATED))
		f |= 1ULL << VU_F_PROTOCOL_FEATURES;
	return vu_set_u64(v, VMM_VU_SET_FEATURES, f);
}

int vmm_vu_ioctl(struct vmm *v, unsigned long req, void *arg)
{
	struct vhost_vring_file *f = arg;

	switch (req) {
	case VHOST_SET_OWNER:
		return vmm_vu_call(v, VMM_VU_SET_OWNER, NULL, 0, NULL, 0,
				   NULL, 0);
	case VHOST_RESET_OWNER:
		v->vu_kicked = 0;
		v->vu_stopped = 0;
		return vmm_vu_call(v, VMM_VU_RESET_OWNER, NULL, 0, NULL, 0,
				   NULL, 0);
	case VHOST_GET_FEATURES:
		return vu_get_u64(v, VMM_VU_GET_FEATURES, arg);
	case VHOST_SET_FEATURES:
		return vu_set_features(v, *(uint64_t *)arg);
	case VHOST_SET_MEM_TABLE:
		return vu_set_mem_table(v, arg);
	case VHOST_SET_VRING_NUM:
		return vu_state(v, VMM_VU_SET_VRING_NUM, arg, 0);
	case VHOST_SET_VRING_BASE:
		return vu_state(v, VMM_VU_SET_VRING_BASE, arg, 0);
	case VHOST_GET_VRING_BASE:
		if (((struct vhost_vring_state *)arg)->index < VMM_NVQS)
			v->vu_stopped |=
				1U << ((struct vhost_vring_state *)arg)->index;
		return vu_state(v, VMM_VU_GET_VRING_BASE, arg, 1);
	case VHOST_SET_VRING_ADDR:
		return vmm_vu_call(v, VMM_VU_SET_VRING_ADDR, arg,
				   sizeof(struct vhost_vring_addr), NULL, 0,
				   NULL, 0);
	case VHOST_SET_VRING_KICK:
		return vu_set_kick(v, arg);
	case VHOST_SET_VRING_CALL:
		return vu_set_file(v, VMM_VU_SET_VRING_CALL, arg);
	case VHOST_SET_VRING_ERR:
		return vu_set_file(v, VMM_VU_SET_VRING_ERR, arg);
	case VHOST_SET_LOG_FD:
		return vmm_vu_call(v, VMM_VU_SET_LOG_FD, NULL, 0, arg,
				   *(int *)arg < 0 ? 0 : 1, NULL, 0);
	case VHOST_NET_SET_BACKEND:
		if (f->fd >= 0)
			return vu_attach(v, f->index);
		return vmm_vu_enable(v, f->index, 0);
	}
	return -ENOTTY;
}

int vmm_vu_set_log_base(struct vmm *v, int fd, uint64_t size,
			uint64_t offset)
{
	uint64_t msg[2] = { size, offset }, reply = 0;
	struct vmm_vu_hdr h;
	int r;

	if (!(v->vu_protocol & (1ULL << VMM_VU_PROTOCOL_F_LOG_SHMFD)))
		return -EOPNOTSUPP;
	pthread_mutex_lock(&v->vu_lock);
	r = vmm_vu_send(v->fd, VMM_VU_SET_LOG_BASE, VU_VERSION, msg,
			sizeof(msg), &fd, 1);
	if (!r)
		r = vmm_vu_recv(v->fd, &h, &reply, sizeof(reply),
				VU_REPLY_TIMEOUT_MS);
	pthread_mutex_unlock(&v->vu_lock);
	if (r < 0)
		return r;
	/*
	 * As QEMU: the reply's id and flags count, its payload may be
	 * empty (DPDK) or a u64 (ivhost-user: non-zero is a refusal).
	 */
	if (h.request != VMM_VU_SET_LOG_BASE ||
	    h.flags != (VU_VERSION | VU_F_REPLY) || (r && r != 8))
		return -EPROTO;
	return reply ? -EIO : 0;
}

static int vu_has_iotlb(struct vmm *v)
{
	return v->user && v->vu_backend_fd >= 0 &&
	       (v->vu_protocol & (1ULL << VMM_VU_PROTOCOL_F_REPLY_ACK));
}

int vmm_vu_iotlb_send(struct vmm *v, const struct vhost_iotlb_msg *m)
{
	int r;

	if (!vu_has_iotlb(v))
		return -EOPNOTSUPP;
	pthread_mutex_lock(&v->vu_lock);
	r = vu_call_locked(v, VMM_VU_IOTLB_MSG, VU_VERSION | VU_F_NEED_REPLY,
			   m, sizeof(*m), NULL, 0, NULL, 0);
	pthread_mutex_unlock(&v->vu_lock);
	return r;
}

int vmm_vu_backend_reply(struct vmm *v, uint32_t req, uint64_t val)
{
	return vmm_vu_send(v->vu_backend_fd, req, VU_VERSION | VU_F_REPLY,
			   &val, sizeof(val), NULL, 0);
}

int vmm_vu_iotlb_recv(struct vmm *v, struct vhost_iotlb_msg *m,
		      int *need_reply, int timeout_ms)
{
	struct pollfd p = { .fd = v->vu_backend_fd, .events = POLLIN };
	struct vmm_vu_hdr h;
	int r;

	if (!vu_has_iotlb(v))
		return -EOPNOTSUPP;
	for (;;) {
		r = poll(&p, 1, timeout_ms);
		if (r < 0)
			return -errno;
		if (!r)
			return 0;
		memset(m, 0, sizeof(*m));
		r = vmm_vu_recv(v->vu_backend_fd, &h, m, sizeof(*m),
				VU_REPLY_TIMEOUT_MS);
		if (r < 0 && r != -EMSGSIZE)
			return r;
		*need_reply = !!(h.flags & VU_F_NEED_REPLY);
		if (h.request == VMM_VU_BACKEND_IOTLB_MSG &&
		    r == (int)sizeof(*m))
			return 1;
		/* not an IOTLB message we can read: refuse it, go on */
		if (*need_reply) {
			r = vmm_vu_backend_reply(v, h.request, 1);
			if (r)
				return r;
		}
	}
}
