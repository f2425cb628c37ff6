// SPDX-License-Identifier: GPL-2.0
/*
 * ivhost-net: /dev/ivhost-net, a vhost-net compatible device.
 *
 * Each open file is one device with two virtqueues, RX (0) and TX (1),
 * each with its own backend socket: a tap or a macvtap queue.  The TX
 * path takes guest frames off the TX ring and sendmsg()s them into the
 * socket; the RX path is not implemented yet, but the RX queue accepts
 * its full configuration.
 *
 * Locking: as in ivhost.h, dev->mutex then vq->mutex.  A queue's backend
 * and socket poll are changed only under its vq mutex, which the worker
 * holds for a whole round.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/file.h>
#include <linux/if_tap.h>
#include <linux/if_tun.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/net.h>
#include <linux/nospec.h>
#include <linux/slab.h>
#include <linux/socket.h>
#include <linux/uaccess.h>
#include <linux/vhost.h>
#include <linux/virtio_net.h>

#include "ivhost.h"

enum {
	IVHOST_NET_RX,
	IVHOST_NET_TX,
	IVHOST_NET_NVQS,
};

/* Work one round may do before it yields the worker. */
#define IVHOST_NET_PKT_WEIGHT	256
#define IVHOST_NET_BYTE_WEIGHT	0x80000

#define IVHOST_NET_FEATURES (BIT_ULL(VIRTIO_F_NOTIFY_ON_EMPTY) |	\
			     BIT_ULL(VIRTIO_RING_F_INDIRECT_DESC) |	\
			     BIT_ULL(VIRTIO_RING_F_EVENT_IDX) |		\
			     BIT_ULL(VHOST_NET_F_VIRTIO_NET_HDR) |	\
			     BIT_ULL(VIRTIO_F_VERSION_1))

/**
 * struct ivhost_net_queue - a virtqueue and its backend readiness
 * @vq: the virtqueue; &ivhost_vq.backend is a struct socket
 * @sock_poll: wakes the queue when its socket is ready
 * @vhost_hlen: guest header bytes the device strips (TX) or adds (RX)
 */
struct ivhost_net_queue {
	struct ivhost_vq vq;
	struct ivhost_poll sock_poll;
	size_t vhost_hlen;
};

/**
 * struct ivhost_net - one /dev/ivhost-net instance
 * @dev: the core device
 * @q: its queues, indexed by IVHOST_NET_RX and IVHOST_NET_TX
 * @vqs: pointers to the queues' vqs, for the core
 */
struct ivhost_net {
	struct ivhost_dev dev;
	struct ivhost_net_queue q[IVHOST_NET_NVQS];
	struct ivhost_vq *vqs[IVHOST_NET_NVQS];
};

static struct ivhost_net_queue *ivhost_net_queue_of(struct ivhost_vq *vq)
{
	return container_of(vq, struct ivhost_net_queue, vq);
}

/* 0 if sent or dropped by the socket, -EAGAIN to retry, -EINVAL if bad. */
static int ivhost_net_tx_one(struct ivhost_net_queue *q, struct socket *sock,
			     const struct ivhost_buf *buf)
{
	struct msghdr msg = { .msg_flags = MSG_DONTWAIT };
	size_t len = buf->out_len;
	int ret;

	if (buf->in || len < q->vhost_hlen)
		return -EINVAL;
	iov_iter_init(&msg.msg_iter, ITER_SOURCE, q->vq.iov, buf->out, len);
	iov_iter_advance(&msg.msg_iter, q->vhost_hlen);
	len -= q->vhost_hlen;

	ret = sock->ops->sendmsg(sock, &msg, len);
	if (ret == -EAGAIN || ret == -ENOMEM || ret == -ENOBUFS)
		return -EAGAIN;
	if (ret < 0)
		pr_debug("tx: frame of %zu bytes dropped: %d\n", len, ret);
	return 0;
}

/* Returns true when the round must end. */
static bool ivhost_net_tx_next(struct ivhost_net_queue *q, struct socket *sock,
			       size_t *bytes)
{
	struct ivhost_vq *vq = &q->vq;
	struct ivhost_buf buf;
	int err;

	err = ivhost_vq_get_buf(vq, &buf);
	if (err == -EAGAIN) {
		if (!ivhost_vq_enable_notify(vq))
			return true;
		ivhost_vq_disable_notify(vq);
		return false;
	}
	if (err)
		goto fail;
	err = ivhost_net_tx_one(q, sock, &buf);
	if (err) {
		/*
		 * Not sent: the chain stays available, to retry when the
		 * socket has room, or for the VMM to find at the position
		 * VHOST_GET_VRING_BASE reports once the queue is stopped.
		 */
		ivhost_vq_unget_buf(vq);
		if (err != -EAGAIN)
			goto fail;
		ivhost_poll_start(&q->sock_poll, sock->file);
		return true;
	}
	err = ivhost_vq_add_used(vq, buf.head, 0);
	if (err)
		goto fail;
	*bytes += buf.out_len;
	return false;

fail:
	ivhost_vq_fail(vq, err);
	return true;
}

static void ivhost_net_tx(struct ivhost_net_queue *q)
{
	struct ivhost_vq *vq = &q->vq;
	u16 used_before;
	size_t bytes = 0;
	struct socket *sock;
	int pkts;

	mutex_lock(&vq->mutex);
	ivhost_poll_stop(&q->sock_poll);
	sock = vq->backend;
	if (!sock || vq->broken)
		goto unlock;

	used_before = vq->last_used_idx;
	ivhost_vq_disable_notify(vq);
	for (pkts = 0; !ivhost_net_tx_next(q, sock, &bytes); pkts++) {
		if (pkts + 1 >= IVHOST_NET_PKT_WEIGHT ||
		    bytes >= IVHOST_NET_BYTE_WEIGHT) {
			/* Yield; the rest is for the next round. */
			ivhost_work_queue(vq->dev, &vq->kick_poll.work);
			break;
		}
	}
	if (vq->last_used_idx != used_before)
		ivhost_vq_signal(vq);
unlock:
	mutex_unlock(&vq->mutex);
}

static void ivhost_net_rx(struct ivhost_net_queue *q)
{
	/* Receive is not implemented yet: leave the ring untouched. */
}

static void ivhost_net_handle_kick(struct ivhost_work *work)
{
	struct ivhost_vq *vq = container_of(work, struct ivhost_vq,
					    kick_poll.work);

	if (vq->index == IVHOST_NET_TX)
		ivhost_net_tx(ivhost_net_queue_of(vq));
	else
		ivhost_net_rx(ivhost_net_queue_of(vq));
}

static void ivhost_net_handle_sock(struct ivhost_work *work)
{
	struct ivhost_net_queue *q = container_of(work, struct ivhost_net_queue,
						  sock_poll.work);

	if (q->vq.index == IVHOST_NET_TX)
		ivhost_net_tx(q);
	else
		ivhost_net_rx(q);
}

static struct socket *ivhost_net_get_socket(int fd)
{
	struct socket *sock;
	struct file *file;

	file = fget(fd);
	if (!file)
		return ERR_PTR(-ENOTSOCK);	/* what vhost_net says */
	sock = tun_get_socket(file);
	if (!IS_ERR(sock))
		return sock;
	sock = tap_get_socket(file);
	if (!IS_ERR(sock))
		return sock;
	fput(file);
	return ERR_PTR(-ENOTSOCK);
}

/* Swap in @sock under the vq mutex; returns the socket it replaced. */
static struct socket *ivhost_net_swap_backend(struct ivhost_net_queue *q,
					      struct socket *sock)
	__must_hold(&q->vq.mutex)
{
	struct socket *old = q->vq.backend;

	lockdep_assert_held(&q->vq.mutex);
	ivhost_poll_stop(&q->sock_poll);
	q->vq.backend = sock;
	return old;
}

static long ivhost_net_set_backend(struct ivhost_net *n, u32 index, int fd)
	__must_hold(&n->dev.mutex)
{
	struct ivhost_net_queue *q;
	struct socket *sock = NULL, *old;
	int err;

	lockdep_assert_held(&n->dev.mutex);
	if (index >= IVHOST_NET_NVQS)
		return -ENOBUFS;
	q = &n->q[array_index_nospec(index, IVHOST_NET_NVQS)];
	if (fd != -1) {
		sock = ivhost_net_get_socket(fd);
		if (IS_ERR(sock))
			return PTR_ERR(sock);
	}

	mutex_lock(&q->vq.mutex);
	if (sock && sock == q->vq.backend) {
		err = 0;
		goto unlock_put;
	}
	if (sock) {
		err = ivhost_vq_access_ok(&q->vq) ? ivhost_vq_start(&q->vq) :
						    -EFAULT;
		if (err)
			goto unlock_put;
	}
	old = ivhost_net_swap_backend(q, sock);
	mutex_unlock(&q->vq.mutex);

	if (old)
		fput(old->file);
	if (sock)
		ivhost_work_queue(&n->dev, &q->vq.kick_poll.work);
	return 0;

unlock_put:
	mutex_unlock(&q->vq.mutex);
	if (sock)
		fput(sock->file);
	return err;
}

static void ivhost_net_stop(struct ivhost_net *n)
	__must_hold(&n->dev.mutex)
{
	struct ivhost_net_queue *q;
	struct socket *old;
	int i;

	lockdep_assert_held(&n->dev.mutex);
	for (i = 0; i < IVHOST_NET_NVQS; i++) {
		q = &n->q[i];
		mutex_lock(&q->vq.mutex);
		old = ivhost_net_swap_backend(q, NULL);
		mutex_unlock(&q->vq.mutex);
		if (old)
			fput(old->file);
	}
}

static size_t ivhost_net_hdr_len(u64 features)
{
	if (!(features & BIT_ULL(VHOST_NET_F_VIRTIO_NET_HDR)))
		return 0;
	if (features & (BIT_ULL(VIRTIO_NET_F_MRG_RXBUF) |
			BIT_ULL(VIRTIO_F_VERSION_1)))
		return sizeof(struct virtio_net_hdr_mrg_rxbuf);
	return sizeof(struct virtio_net_hdr);
}

static long ivhost_net_set_features(struct ivhost_net *n, u64 features)
	__must_hold(&n->dev.mutex)
{
	struct ivhost_net_queue *q;
	int i;

	lockdep_assert_held(&n->dev.mutex);
	if (features & ~IVHOST_NET_FEATURES)
		return -EOPNOTSUPP;
	for (i = 0; i < IVHOST_NET_NVQS; i++) {
		q = &n->q[i];
		mutex_lock(&q->vq.mutex);
		q->vhost_hlen = ivhost_net_hdr_len(features);
		mutex_unlock(&q->vq.mutex);
	}
	return ivhost_dev_set_features(&n->dev, features);
}

static long ivhost_net_reset_owner(struct ivhost_net *n)
	__must_hold(&n->dev.mutex)
{
	int i;

	lockdep_assert_held(&n->dev.mutex);
	ivhost_net_stop(n);
	ivhost_dev_cleanup(&n->dev);
	for (i = 0; i < IVHOST_NET_NVQS; i++)
		n->q[i].vhost_hlen = 0;
	return 0;
}

static long ivhost_net_owner_ioctl(struct ivhost_net *n, unsigned int cmd,
				   void __user *argp)
	__must_hold(&n->dev.mutex)
{
	struct vhost_vring_file backend;
	u64 features;

	switch (cmd) {
	case VHOST_SET_FEATURES:
		if (copy_from_user(&features, argp, sizeof(features)))
			return -EFAULT;
		return ivhost_net_set_features(n, features);
	case VHOST_SET_BACKEND_FEATURES:
		if (copy_from_user(&features, argp, sizeof(features)))
			return -EFAULT;
		return features ? -EOPNOTSUPP : 0;
	case VHOST_NET_SET_BACKEND:
		if (copy_from_user(&backend, argp, sizeof(backend)))
			return -EFAULT;
		return ivhost_net_set_backend(n, backend.index, backend.fd);
	case VHOST_RESET_OWNER:
		return ivhost_net_reset_owner(n);
	}
	return ivhost_dev_ioctl(&n->dev, cmd, argp);
}

static long ivhost_net_locked_ioctl(struct ivhost_net *n, unsigned int cmd,
				    void __user *argp)
	__must_hold(&n->dev.mutex)
{
	int err;

	switch (cmd) {
	case VHOST_SET_FEATURES:
	case VHOST_SET_BACKEND_FEATURES:
	case VHOST_NET_SET_BACKEND:
	case VHOST_RESET_OWNER:
		err = ivhost_dev_check_owner(&n->dev);
		if (err)
			return err;
		break;
	}
	return ivhost_net_owner_ioctl(n, cmd, argp);
}

static long ivhost_net_ioctl(struct file *f, unsigned int cmd,
			     unsigned long arg)
{
	struct ivhost_net *n = f->private_data;
	void __user *argp = (void __user *)arg;
	u64 features;
	long r;

	switch (cmd) {
	case VHOST_GET_FEATURES:
		features = IVHOST_NET_FEATURES;
		return copy_to_user(argp, &features, sizeof(features)) ?
		       -EFAULT : 0;
	case VHOST_GET_BACKEND_FEATURES:
		features = 0;
		return copy_to_user(argp, &features, sizeof(features)) ?
		       -EFAULT : 0;
	}

	mutex_lock(&n->dev.mutex);
	r = ivhost_net_locked_ioctl(n, cmd, argp);
	mutex_unlock(&n->dev.mutex);
	return r == -ENOIOCTLCMD ? -ENOTTY : r;
}

static int ivhost_net_open(struct inode *inode, struct file *f)
{
	struct ivhost_net *n;
	int i, err;

	n = kvzalloc(sizeof(*n), GFP_KERNEL_ACCOUNT);
	if (!n)
		return -ENOMEM;
	for (i = 0; i < IVHOST_NET_NVQS; i++) {
		n->vqs[i] = &n->q[i].vq;
		n->q[i].vq.handle_kick = ivhost_net_handle_kick;
	}
	err = ivhost_dev_init(&n->dev, n->vqs, IVHOST_NET_NVQS);
	if (err)
		goto free_net;
	ivhost_poll_init(&n->q[IVHOST_NET_RX].sock_poll, ivhost_net_handle_sock,
			 EPOLLIN, &n->dev);
	ivhost_poll_init(&n->q[IVHOST_NET_TX].sock_poll, ivhost_net_handle_sock,
			 EPOLLOUT, &n->dev);
	f->private_data = n;
	return stream_open(inode, f);

free_net:
	kvfree(n);
	return err;
}

static int ivhost_net_release(struct inode *inode, struct file *f)
{
	struct ivhost_net *n = f->private_data;

	mutex_lock(&n->dev.mutex);
	ivhost_net_stop(n);
	ivhost_dev_cleanup(&n->dev);
	mutex_unlock(&n->dev.mutex);
	ivhost_dev_free(&n->dev);
	kvfree(n);
	return 0;
}

static const struct file_operations ivhost_net_fops = {
	.owner		= THIS_MODULE,
	.open		= ivhost_net_open,
	.release	= ivhost_net_release,
	.unlocked_ioctl	= ivhost_net_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.llseek		= noop_llseek,
};

static struct miscdevice ivhost_net_misc = {
	.minor	= MISC_DYNAMIC_MINOR,
	.name	= "ivhost-net",
	.fops	= &ivhost_net_fops,
};

module_misc_device(ivhost_net_misc);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("The ivhost developers");
MODULE_DESCRIPTION("ivhost-net: a vhost-net compatible device with a device IOTLB");
