// SPDX-License-Identifier: GPL-2.0
/*
 * The vhost-user protocol, frontend to backend, as Debian 12's QEMU 7.2
 * speaks it (see /work/shared/reference/vhost-user.md in the project, and
 * QEMU's docs/interop/vhost-user.rst).
 *
 * A message is a 12-byte header (request, flags, size), fds in
 * SCM_RIGHTS on the header, then exactly size bytes of payload.  Every
 * request is checked before it acts: version bits, the payload size the
 * request has, the number of fds it takes, the vq index.  A request that
 * fails gets a non-zero u64 reply when the frontend waits for one
 * (NEED_REPLY under REPLY_ACK); when it does not, the connection is
 * closed, the only error a frontend can see.  Requests this backend does
 * not know are answered the same way.  Replies carry the request id,
 * flags 0x5 (version 1 and REPLY, never NEED_REPLY) and exact sizes.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/kernel.h>
#include <linux/virtio_config.h>
#include <linux/virtio_net.h>

#include "ivu.h"

enum {
	IVU_GET_FEATURES = 1,
	IVU_SET_FEATURES = 2,
	IVU_SET_OWNER = 3,
	IVU_RESET_OWNER = 4,
	IVU_SET_MEM_TABLE = 5,
	IVU_SET_LOG_BASE = 6,
	IVU_SET_LOG_FD = 7,
	IVU_SET_VRING_NUM = 8,
	IVU_SET_VRING_ADDR = 9,
	IVU_SET_VRING_BASE = 10,
	IVU_GET_VRING_BASE = 11,
	IVU_SET_VRING_KICK = 12,
	IVU_SET_VRING_CALL = 13,
	IVU_SET_VRING_ERR = 14,
	IVU_GET_PROTOCOL_FEATURES = 15,
	IVU_SET_PROTOCOL_FEATURES = 16,
	IVU_GET_QUEUE_NUM = 17,
	IVU_SET_VRING_ENABLE = 18,
	IVU_SEND_RARP = 19,
	IVU_NET_SET_MTU = 20,
	IVU_SET_BACKEND_REQ_FD = 21,
	IVU_IOTLB_MSG = 22,
};

#define IVU_VERSION		0x1U
#define IVU_VERSION_MASK	0x3U
#define IVU_REPLY		0x4U
#define IVU_NEED_REPLY		0x8U
#define IVU_VRING_IDX_MASK	0xffULL
#define IVU_VRING_NOFD		0x100ULL
#define IVU_PAYLOAD_MAX		632	/* QEMU 7.2's VHOST_USER_PAYLOAD_SIZE */

#define IVU_F_PROTOCOL_FEATURES	30

/* Protocol features (bits of GET_PROTOCOL_FEATURES). */
#define IVU_PF_MQ		0
#define IVU_PF_LOG_SHMFD	1
#define IVU_PF_RARP		2
#define IVU_PF_REPLY_ACK	3
#define IVU_PF_NET_MTU		4
#define IVU_PF_BACKEND_REQ	5
/*
 * The device IOTLB (VIRTIO_F_IOMMU_PLATFORM, IOTLB_MSG: iotlb.c) needs
 * REPLY_ACK and BACKEND_REQ; --host-notifier adds BACKEND_SEND_FD (10)
 * and HOST_NOTIFIER (11) (ivu_notifier_protocol(), notifier.c).
 */
#define IVU_PROTOCOL_FEATURES	((1ULL << IVU_PF_MQ) | \
				 (1ULL << IVU_PF_REPLY_ACK) | \
				 (1ULL << IVU_PF_NET_MTU) | \
				 (1ULL << IVU_PF_BACKEND_REQ) | \
				 IVU_MIGRATION_PROTOCOL)
/* Live migration (log.c, rarp.c). */
#define IVU_MIGRATION_PROTOCOL	((1ULL << IVU_PF_LOG_SHMFD) | \
				 (1ULL << IVU_PF_RARP))

struct ivu_hdr {
	u32 request;
	u32 flags;
	u32 size;
} __packed;

struct ivu_msg {
	struct ivu_hdr h;
	union {
		u64 u64;
		struct vhost_vring_state state;
		struct vhost_vring_addr addr;
		struct vhost_iotlb_msg iotlb;
		unsigned char raw[IVU_PAYLOAD_MAX];
	} p;
	int fds[IVU_MAX_FDS];
	unsigned int nfds;
};

/**
 * ivu_proto_features() - the virtio features offered
 * @d: the device
 *
 * Return: the GET_FEATURES bits.  The offloads are the ones the tap's
 * vnet header carries, as vhost_net offers them.
 */
u64 ivu_proto_features(const struct ivu_dev *d)
{
	u64 f = (1ULL << VIRTIO_NET_F_CSUM) | (1ULL << VIRTIO_NET_F_GUEST_CSUM) |
		(1ULL << VIRTIO_NET_F_GUEST_TSO4) |
		(1ULL << VIRTIO_NET_F_GUEST_TSO6) |
		(1ULL << VIRTIO_NET_F_GUEST_ECN) |
		(1ULL << VIRTIO_NET_F_GUEST_UFO) |
		(1ULL << VIRTIO_NET_F_HOST_TSO4) |
		(1ULL << VIRTIO_NET_F_HOST_TSO6) |
		(1ULL << VIRTIO_NET_F_HOST_ECN) |
		(1ULL << VIRTIO_NET_F_HOST_UFO) |
		(1ULL << VIRTIO_NET_F_MRG_RXBUF) |
		(1ULL << VIRTIO_F_ANY_LAYOUT) |
		(1ULL << VIRTIO_RING_F_INDIRECT_DESC) |
		(1ULL << VIRTIO_RING_F_EVENT_IDX) |
		(1ULL << VIRTIO_F_NOTIFY_ON_EMPTY) |
		(1ULL << VHOST_F_LOG_ALL) |
		(1ULL << IVU_F_PROTOCOL_FEATURES) |
		(1ULL << VIRTIO_F_VERSION_1) |
		(1ULL << VIRTIO_F_ACCESS_PLATFORM) |
		(1ULL << VIRTIO_F_RING_PACKED);

	/* QEMU acks MQ only with the MQ protocol feature. */
	if (d->queues > 1)
		f |= 1ULL << VIRTIO_NET_F_MQ;
	return f;
}

/* Receive one message; fds beyond IVU_MAX_FDS make it invalid. */
static int ivu_msg_recv(int fd, struct ivu_msg *m)
{
	char cbuf[CMSG_SPACE(IVU_MAX_FDS * sizeof(int))];
	struct iovec iov = { &m->h, sizeof(m->h) };
	struct msghdr mh = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *c;
	ssize_t n;

	m->nfds = 0;
	n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC | MSG_WAITALL);
	for (c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		m->nfds = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		memcpy(m->fds, CMSG_DATA(c), m->nfds * sizeof(int));
	}
	if (n == 0)
		return -ECONNRESET;
	if (n != sizeof(m->h) || (mh.msg_flags & MSG_CTRUNC))
		return -EBADMSG;
	if (m->h.size > sizeof(m->p))
		return -EMSGSIZE;
	if (m->h.size && recv(fd, &m->p, m->h.size, MSG_WAITALL) !=
	    (ssize_t)m->h.size)
		return -EBADMSG;
	return 0;
}

/*
 * Send a reply, never waiting: QEMU reads each reply before its next
 * request, so a socket with no room for one belongs to a frontend that
 * does not read them; blocking on it would freeze the datapath and the
 * daemon's signals.  Its connection is closed instead.
 */
static int ivu_msg_reply(struct ivu_dev *d, const struct ivu_msg *m,
			 const void *payload, u32 size)
{
	struct {
		struct ivu_hdr h;
		unsigned char p[sizeof(struct vhost_vring_state) + 8];
	} __packed r;

	r.h.request = m->h.request;
	r.h.flags = IVU_VERSION | IVU_REPLY;
	r.h.size = size;
	memcpy(r.p, payload, size);
	if (send(d->conn_fd, &r, sizeof(r.h) + size,
		 MSG_NOSIGNAL | MSG_DONTWAIT) != (ssize_t)(sizeof(r.h) + size)) {
		ivu_log("request %u: no room for the reply, or the frontend left",
			m->h.request);
		return -EPIPE;
	}
	return 0;
}

static int ivu_reply_u64(struct ivu_dev *d, const struct ivu_msg *m, u64 v)
{
	return ivu_msg_reply(d, m, &v, sizeof(v));
}

/*
 * Take the fd of a KICK/CALL/ERR message, or -1 for NOFD.  The fd is made
 * non-blocking: the frontend chooses it, and a blocking one (an eventfd
 * at its maximum, a pipe nobody reads, a kick shared by two rings) must
 * not stall the loop on a read or write.
 */
static int ivu_vring_fd(struct ivu_msg *m, int *fd)
{
	bool nofd = m->p.u64 & IVU_VRING_NOFD;
	int fl;

	if (nofd != !m->nfds)
		return -EINVAL;
	if (!nofd) {
		fl = fcntl(m->fds[0], F_GETFL);
		if (fl < 0 || fcntl(m->fds[0], F_SETFL, fl | O_NONBLOCK))
			return -EINVAL;
	}
	*fd = nofd ? -1 : m->fds[0];
	m->nfds = 0;
	return 0;
}

static struct ivu_vring *ivu_msg_vq(struct ivu_dev *d, u32 index)
{
	return index < 2 * d->queues ? &d->vq[index] : NULL;
}

/* Were packed rings (VIRTIO_F_RING_PACKED) acked? */
static bool ivu_packed(const struct ivu_dev *d)
{
	return d->features & (1ULL << VIRTIO_F_RING_PACKED);
}

static int ivu_get_features(struct ivu_dev *d, struct ivu_msg *m)
{
	return ivu_reply_u64(d, m, ivu_proto_features(d));
}

/* After a ring's addresses or the memory changed under a started ring. */
static void ivu_vring_remap(struct ivu_dev *d, struct ivu_vring *vq)
{
	if (!vq->started)
		return;
	if (ivu_vring_start(d, vq))
		ivu_vring_break(d, vq, "ring addresses no longer mapped, num",
				vq->num);
}

static int ivu_set_features(struct ivu_dev *d, struct ivu_msg *m)
{
	bool iova = ivu_iotlb_on(d), packed = ivu_packed(d);
	u64 f = m->p.u64;
	unsigned int i;
	int err;

	if (f & ~ivu_proto_features(d))
		return -EINVAL;
	d->features = f;
	/*
	 * Guest addresses, or the rings' layout, change meaning: the rings
	 * are mapped again.
	 */
	if (iova != ivu_iotlb_on(d) || packed != ivu_packed(d))
		for (i = 0; i < 2 * d->queues; i++)
			ivu_vring_remap(d, &d->vq[i]);
	ivu_iotlb_flush(d);
	d->hdr_len = f & ((1ULL << VIRTIO_NET_F_MRG_RXBUF) |
			  (1ULL << VIRTIO_F_VERSION_1)) ? 12 : 10;
	for (i = 0; i < d->queues; i++) {
		err = ivu_tap_configure(d->tap_name, d->qp[i].tap_fd,
					d->hdr_len, f);
		if (err)
			return err;
	}
	for (i = 0; i < d->queues; i++)
		ivu_net_rearm(d, i);
	return 0;
}

static int ivu_set_owner(struct ivu_dev *d, struct ivu_msg *m)
{
	(void)m;
	if (d->owner)
		return -EBUSY;
	d->owner = true;
	return 0;
}

static int ivu_reset_owner(struct ivu_dev *d, struct ivu_msg *m)
{
	int backend_fd = d->backend_fd;
	u64 protocol = d->protocol;

	(void)m;
	ivu_iotlb_backend_closed(d);
	/* The device goes back to its initial state; the channel stays. */
	d->backend_fd = -1;
	ivu_dev_reset(d);
	d->backend_fd = backend_fd;
	d->protocol = protocol;
	return 0;
}

static int ivu_set_mem_table(struct ivu_dev *d, struct ivu_msg *m)
{
	struct ivu_mem mem = { 0 };
	unsigned int i;
	int err;

	err = ivu_mem_set(&mem, m->p.raw, m->h.size, m->fds, m->nfds);
	if (err)
		return err;
	ivu_mem_free(&d->mem);
	d->mem = mem;
	for (i = 0; i < 2 * d->queues; i++)
		ivu_vring_remap(d, &d->vq[i]);
	/* The IOTLB's uaddrs were checked against the old regions. */
	ivu_iotlb_flush(d);
	return 0;
}

/*
 * May @vq be reconfigured (size, base)?  As the kernel device refuses
 * that only while a backend is attached, a started ring that is disabled
 * is stopped here (as GET_VRING_BASE would) and reconfigured; an enabled
 * one is busy.  Its next kick fd starts it again.
 */
static int ivu_vring_reconfigure(struct ivu_dev *d, struct ivu_vring *vq)
{
	if (!vq->started)
		return 0;
	if (vq->enabled)
		return -EBUSY;
	ivu_vring_stop(d, vq);
	ivu_net_rearm(d, vq->index / 2);
	return 0;
}

static int ivu_set_vring_num(struct ivu_dev *d, struct ivu_msg *m)
{
	struct ivu_vring *vq = ivu_msg_vq(d, m->p.state.index);
	u32 num = m->p.state.num;

	/* A packed ring's size need not be a power of two. */
	if (!vq || !num || num > IVU_RING_MAX ||
	    (!ivu_packed(d) && (num & (num - 1))))
		return -EINVAL;
	if (ivu_vring_reconfigure(d, vq))
		return -EBUSY;
	vq->num = num;
	return 0;
}

static int ivu_set_vring_addr(struct ivu_dev *d, struct ivu_msg *m)
{
	struct ivu_vring *vq = ivu_msg_vq(d, m->p.addr.index);

	if (!vq || ivu_dirty_check_addr(&m->p.addr))
		return -EINVAL;
	vq->addr = m->p.addr;
	vq->addr_set = true;
	ivu_vring_remap(d, vq);
	return 0;
}

/*
 * A packed ring's state: the avail position in bits 0-15, the used one in
 * bits 16-31, each an index with its wrap counter in the top bit (QEMU's
 * encoding, drivers/vhost/chain_packed.c); an index must be below the
 * ring's size when that is known (and is checked again at start).
 */
static int ivu_set_packed_base(struct ivu_dev *d, struct ivu_vring *vq,
			       u32 state)
{
	struct ivhost_packed_pos avail, used;

	if (ivhost_packed_state_decode(state, vq->num, &avail, &used)) {
		ivu_log("vq %d: packed ring state 0x%08x out of range (num %u)",
			vq->index, state, vq->num);
		return -EINVAL;
	}
	if (ivu_vring_reconfigure(d, vq))
		return -EBUSY;
	vq->pk.avail = avail;
	vq->pk.used = used;
	return 0;
}

static int ivu_set_vring_base(struct ivu_dev *d, struct ivu_msg *m)
{
	struct ivu_vring *vq = ivu_msg_vq(d, m->p.state.index);

	if (vq && ivu_packed(d))
		return ivu_set_packed_base(d, vq, m->p.state.num);
	if (!vq || m->p.state.num > 0xffff)
		return -EINVAL;
	if (ivu_vring_reconfigure(d, vq))
		return -EBUSY;
	vq->last_avail = m->p.state.num;
	return 0;
}

static int ivu_get_vring_base(struct ivu_dev *d, struct ivu_msg *m)
{
	struct ivu_vring *vq = ivu_msg_vq(d, m->p.state.index);
	struct vhost_vring_state s;

	if (!vq)
		return -EINVAL;
	/* Every round published what it used: last_used is used->idx. */
	if (ivu_packed(d))
		ivu_dbg("vq %d: stopped at avail %u/%u, used %u/%u (packed)",
			vq->index, vq->pk.avail.idx, vq->pk.avail.wrap,
			vq->pk.used.idx, vq->pk.used.wrap);
	else
		ivu_dbg("vq %d: stopped at avail %u, used %u", vq->index,
			vq->last_avail, vq->last_used);
	ivu_vring_stop(d, vq);
	ivu_net_rearm(d, vq->index / 2);
	ivu_iotlb_flush(d);
	s.index = vq->index;
	s.num = ivu_packed(d) ?
		ivhost_packed_state_encode(vq->pk.avail, vq->pk.used) :
		vq->last_avail;
	return ivu_msg_reply(d, m, &s, sizeof(s));
}

/* The vq of a KICK/CALL/ERR message and its fd (-1 for NOFD), or NULL. */
static struct ivu_vring *ivu_msg_vq_fd(struct ivu_dev *d, struct ivu_msg *m,
				       int *fd)
{
	struct ivu_vring *vq = ivu_msg_vq(d, m->p.u64 & IVU_VRING_IDX_MASK);

	if (!vq || ivu_vring_fd(m, fd))
		return NULL;
	return vq;
}

static int ivu_set_vring_kick(struct ivu_dev *d, struct ivu_msg *m)
{
	struct ivu_vring *vq;
	int fd, err;

	vq = ivu_msg_vq_fd(d, m, &fd);
	if (!vq)
		return -EINVAL;
	ivu_vring_stop(d, vq);
	vq->kick_fd = fd;
	if (fd >= 0) {
		err = ivu_vring_start(d, vq);
		if (err) {
			ivu_close(&vq->kick_fd);
			ivu_net_rearm(d, vq->index / 2);
			return err;
		}
		if (!(d->features & (1ULL << IVU_F_PROTOCOL_FEATURES)))
			vq->enabled = true;
		ivu_watch(d, fd, EPOLLIN, IVU_TAG(IVU_EV_KICK, vq->index));
		ivu_notifier_start(d, vq);
	}
	ivu_net_rearm(d, vq->index / 2);
	vq->more = vq->started;	/* its worker runs it */
	return 0;
}

static int ivu_set_vring_call(struct ivu_dev *d, struct ivu_msg *m)
{
	struct ivu_vring *vq;
	int fd;

	vq = ivu_msg_vq_fd(d, m, &fd);
	if (!vq)
		return -EINVAL;
	ivu_close(&vq->call_fd);
	vq->call_fd = fd;
	vq->signalled_valid = false;
	return 0;
}

static int ivu_set_vring_err(struct ivu_dev *d, struct ivu_msg *m)
{
	struct ivu_vring *vq;
	int fd;

	vq = ivu_msg_vq_fd(d, m, &fd);
	if (!vq)
		return -EINVAL;
	ivu_close(&vq->err_fd);
	vq->err_fd = fd;
	return 0;
}

static int ivu_get_protocol_features(struct ivu_dev *d, struct ivu_msg *m)
{
	return ivu_reply_u64(d, m, IVU_PROTOCOL_FEATURES |
			     ivu_notifier_protocol(d));
}

static int ivu_set_protocol_features(struct ivu_dev *d, struct ivu_msg *m)
{
	if (m->p.u64 & ~(IVU_PROTOCOL_FEATURES | ivu_notifier_protocol(d)))
		return -EINVAL;
	d->protocol = m->p.u64;
	return 0;
}

static int ivu_get_queue_num(struct ivu_dev *d, struct ivu_msg *m)
{
	return ivu_reply_u64(d, m, d->queues);
}

static int ivu_set_vring_enable(struct ivu_dev *d, struct ivu_msg *m)
{
	struct ivu_vring *vq = ivu_msg_vq(d, m->p.state.index);

	if (!vq || m->p.state.num > 1)
		return -EINVAL;
	vq->enabled = m->p.state.num;
	ivu_net_rearm(d, vq->index / 2);
	vq->more = vq->started;	/* its worker runs it */
	return 0;
}

static int ivu_net_set_mtu(struct ivu_dev *d, struct ivu_msg *m)
{
	u64 mtu = m->p.u64;

	if (mtu < 68 || mtu > 65535)
		return -EINVAL;
	d->mtu = mtu;
	return ivu_tap_set_mtu(d->tap_name, mtu);
}

static int ivu_set_backend_req_fd(struct ivu_dev *d, struct ivu_msg *m)
{
	ivu_backend_close(d);
	d->backend_fd = m->fds[0];
	m->nfds = 0;
	return 0;
}

/*
 * SET_LOG_BASE, only with LOG_SHMFD: QEMU always waits for its reply, 0
 * once the log is mapped.  A log that cannot be mapped is answered 1 and
 * the connection closed: QEMU does not look at the value, and must not
 * migrate a guest whose writes go unlogged.
 */
static int ivu_set_log_base(struct ivu_dev *d, struct ivu_msg *m)
{
	int err;

	if (!(d->protocol & (1ULL << IVU_PF_LOG_SHMFD)))
		return -EINVAL;
	err = ivu_dirty_set_base(d, m->p.raw, m->fds[0]);
	if (ivu_reply_u64(d, m, err ? 1 : 0))
		return -EPIPE;
	return err;
}

static int ivu_set_log_fd(struct ivu_dev *d, struct ivu_msg *m)
{
	int fd, fl = fcntl(m->fds[0], F_GETFL);

	if (fl < 0 || fcntl(m->fds[0], F_SETFL, fl | O_NONBLOCK))
		return -EINVAL;
	fd = m->fds[0];
	m->nfds = 0;
	ivu_dirty_set_fd(d, fd);
	return 0;
}

/*
 * SEND_RARP: the guest's MAC in the first 6 bytes of a u64.  QEMU sends
 * it without NEED_REPLY once a migrated guest runs: an announcement the
 * tap does not take (its link down) is logged, and answered non-zero
 * only to a frontend that asks; it does not close the connection, which
 * would cost the guest its NIC for a best-effort broadcast.
 */
static int ivu_send_rarp(struct ivu_dev *d, struct ivu_msg *m)
{
	int err;

	if (!(d->protocol & (1ULL << IVU_PF_RARP)))
		return -EINVAL;
	err = ivu_rarp_send(d, m->p.raw);
	if (err)
		ivu_log("RARP announcement not sent: %s", strerror(-err));
	return m->h.flags & IVU_NEED_REPLY ? err : 0;
}

static int ivu_iotlb(struct ivu_dev *d, struct ivu_msg *m)
{
	return ivu_iotlb_msg(d, &m->p.iotlb);
}

/**
 * struct ivu_req - what a request looks like and who handles it
 * @name: for the log
 * @size: payload size, exact; -1: the handler checks it
 * @fds: fds it carries: 0, 1, -1 (any: the handler checks), -2 (0 or 1)
 * @reply: it always has a reply, sent by the handler
 * @fn: the handler: 0 or a negative errno
 */
struct ivu_req {
	const char *name;
	int size;
	int fds;
	bool reply;
	int (*fn)(struct ivu_dev *d, struct ivu_msg *m);
};

#define IVU_REQ(id, sz, nfd, rep, f) \
	[id] = { .name = #id + 4, .size = sz, .fds = nfd, .reply = rep, .fn = f }

static const struct ivu_req ivu_reqs[] = {
	IVU_REQ(IVU_GET_FEATURES, 0, 0, true, ivu_get_features),
	IVU_REQ(IVU_SET_FEATURES, 8, 0, false, ivu_set_features),
	IVU_REQ(IVU_SET_OWNER, 0, 0, false, ivu_set_owner),
	IVU_REQ(IVU_RESET_OWNER, 0, 0, false, ivu_reset_owner),
	IVU_REQ(IVU_SET_MEM_TABLE, -1, -1, false, ivu_set_mem_table),
	IVU_REQ(IVU_SET_LOG_BASE, 16, 1, true, ivu_set_log_base),
	IVU_REQ(IVU_SET_LOG_FD, 0, 1, false, ivu_set_log_fd),
	IVU_REQ(IVU_SET_VRING_NUM, 8, 0, false, ivu_set_vring_num),
	IVU_REQ(IVU_SET_VRING_ADDR, 40, 0, false, ivu_set_vring_addr),
	IVU_REQ(IVU_SET_VRING_BASE, 8, 0, false, ivu_set_vring_base),
	IVU_REQ(IVU_GET_VRING_BASE, 8, 0, true, ivu_get_vring_base),
	IVU_REQ(IVU_SET_VRING_KICK, 8, -2, false, ivu_set_vring_kick),
	IVU_REQ(IVU_SET_VRING_CALL, 8, -2, false, ivu_set_vring_call),
	IVU_REQ(IVU_SET_VRING_ERR, 8, -2, false, ivu_set_vring_err),
	IVU_REQ(IVU_GET_PROTOCOL_FEATURES, 0, 0, true,
		ivu_get_protocol_features),
	IVU_REQ(IVU_SET_PROTOCOL_FEATURES, 8, 0, false,
		ivu_set_protocol_features),
	IVU_REQ(IVU_GET_QUEUE_NUM, 0, 0, true, ivu_get_queue_num),
	IVU_REQ(IVU_SET_VRING_ENABLE, 8, 0, false, ivu_set_vring_enable),
	IVU_REQ(IVU_SEND_RARP, 8, 0, false, ivu_send_rarp),
	IVU_REQ(IVU_NET_SET_MTU, 8, 0, false, ivu_net_set_mtu),
	IVU_REQ(IVU_SET_BACKEND_REQ_FD, 0, 1, false, ivu_set_backend_req_fd),
	IVU_REQ(IVU_IOTLB_MSG, 32, 0, false, ivu_iotlb),
};

static const struct ivu_req *ivu_req_of(u32 id)
{
	if (id >= ARRAY_SIZE(ivu_reqs) || !ivu_reqs[id].fn)
		return NULL;
	return &ivu_reqs[id];
}

/* Is the message shaped as its request says?  0 or -EINVAL. */
static int ivu_msg_check(const struct ivu_req *r, const struct ivu_msg *m)
{
	if (r->size >= 0 && m->h.size != (u32)r->size)
		return -EINVAL;
	if (r->fds >= 0 && m->nfds != (unsigned int)r->fds)
		return -EINVAL;
	if (r->fds == -2 && m->nfds > 1)
		return -EINVAL;
	return 0;
}

static void ivu_msg_close_fds(struct ivu_msg *m)
{
	while (m->nfds)
		close(m->fds[--m->nfds]);
}

static int ivu_dispatch(struct ivu_dev *d, struct ivu_msg *m)
{
	const struct ivu_req *r = ivu_req_of(m->h.request);
	bool ack = m->h.flags & IVU_NEED_REPLY;
	int err;

	if ((m->h.flags & IVU_VERSION_MASK) != IVU_VERSION ||
	    (m->h.flags & IVU_REPLY)) {
		ivu_log("request %u: bad flags 0x%x", m->h.request, m->h.flags);
		return -EPROTO;
	}
	err = r ? ivu_msg_check(r, m) : -EOPNOTSUPP;
	if (!err)
		err = r->fn(d, m);
	ivu_dbg("%s%s (%u) size %u fds %u: %d", r ? r->name : "unknown request",
		ack ? " +ack" : "", m->h.request, m->h.size, m->nfds, err);
	if (err) {
		d->stats.proto_errors++;
		ivu_log("%s (%u): refused: %s", r ? r->name : "unknown request",
			m->h.request, strerror(-err));
	}
	if (r && r->reply)
		return err;	/* replied, or no reply possible: close */
	if (ack)
		return ivu_reply_u64(d, m, err ? 1 : 0);
	return err;
}

/**
 * ivu_proto_handle() - read and act on one message from the frontend
 * @d: the device, with a connected frontend
 *
 * The message is read without d->lock (a frontend that stops mid-message
 * stalls only the control thread, for at most the socket's timeout) and
 * acted on under it; the IOTLB messages queued by then are sent before
 * the lock is dropped.
 * Context: the control thread, d->lock not held.
 * Return: 0, or a negative errno when the connection must be closed.
 */
int ivu_proto_handle(struct ivu_dev *d)
{
	struct ivu_msg m;
	int err;

	err = ivu_msg_recv(d->conn_fd, &m);
	if (!err) {
		ivu_ctl_lock(d);
		err = ivu_dispatch(d, &m);
		/* What it queued goes out now, under the same lock. */
		ivu_iotlb_send(d);
		/* An IOTLB change concerns only the rings it marks. */
		if (m.h.request == IVU_IOTLB_MSG)
			ivu_ctl_unlock_marked(d);
		else
			ivu_ctl_unlock(d);
	} else if (err != -ECONNRESET) {
		ivu_log("bad message: %s", strerror(-err));
	}
	ivu_msg_close_fds(&m);
	return err;
}

/**
 * ivu_dev_reset() - drop everything a frontend gave the device
 * @d: the device; the taps stay open, unwatched until rings run again
 */
void ivu_dev_reset(struct ivu_dev *d)
{
	unsigned int i;

	for (i = 0; i < IVU_MAX_VQ; i++)
		ivu_vring_clear(d, &d->vq[i]);
	ivu_mem_free(&d->mem);
	ivu_backend_close(d);
	ivu_notifier_reset(d);
	ivu_dirty_reset(d);
	d->owner = false;
	d->features = 0;
	ivu_iotlb_flush(d);
	d->protocol = 0;
	d->hdr_len = 0;
	d->mtu = 0;
	for (i = 0; i < d->queues; i++)
		ivu_net_rearm(d, i);
}
