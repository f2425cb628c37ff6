// SPDX-License-Identifier: GPL-2.0
/*
 * ivhost-net: /dev/ivhost-net, a vhost-net compatible device.
 *
 * Each open file is one device with two virtqueues, RX (0) and TX (1),
 * each with its own backend socket: a tap or macvtap queue, or an
 * AF_PACKET SOCK_RAW socket.  The TX path (net_tx.c) takes guest frames
 * off the TX ring and sendmsg()s them into the socket; the RX path
 * (net_rx.c) recvmsg()s frames from it into the guest's RX buffers.
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
#include <net/sock.h>

#include "net.h"

#define IVHOST_NET_FEATURES (BIT_ULL(VIRTIO_F_NOTIFY_ON_EMPTY) |	\
			     BIT_ULL(VHOST_F_LOG_ALL) |			\
			     BIT_ULL(VIRTIO_RING_F_INDIRECT_DESC) |	\
			     BIT_ULL(VIRTIO_RING_F_EVENT_IDX) |		\
			     BIT_ULL(VHOST_NET_F_VIRTIO_NET_HDR) |	\
			     BIT_ULL(VIRTIO_NET_F_MRG_RXBUF) |		\
			     BIT_ULL(VIRTIO_F_VERSION_1) |		\
			     BIT_ULL(VIRTIO_F_ACCESS_PLATFORM) |	\
			     BIT_ULL(VIRTIO_F_RING_PACKED))

static struct ivhost_net_queue *ivhost_net_queue_of(struct ivhost_vq *vq)
{
	return container_of(vq, struct ivhost_net_queue, vq);
}

/**
 * ivhost_net_peek_len() - length of the frame waiting in a socket
 * @sock: the backend
 *
 * Context: the worker, under the RX vq's mutex.
 * Return: the frame's length without any socket header, or 0 if none.
 */
int ivhost_net_peek_len(struct socket *sock)
{
	struct sk_buff_head *queue = &sock->sk->sk_receive_queue;
	struct sk_buff *skb;
	unsigned long flags;
	int len = 0;

	if (sock->ops->peek_len)
		return sock->ops->peek_len(sock);
	spin_lock_irqsave(&queue->lock, flags);
	skb = skb_peek(queue);
	if (skb)
		len = skb->len;
	spin_unlock_irqrestore(&queue->lock, flags);
	return len;
}

/**
 * ivhost_net_round_ready() - get a queue's rings ready for a round
 * @q: the queue, with a backend
 *
 * With the device IOTLB a ring translation may be missing: the round
 * then ends, and the queue is woken when the VMM answers the miss.
 * Unusable rings fail the queue.
 *
 * Context: the worker, under &q->vq.mutex.
 * Return: true if the round may go on.
 */
bool ivhost_net_round_ready(struct ivhost_net_queue *q)
	__must_hold(&q->vq.mutex)
{
	int err;

	lockdep_assert_held(&q->vq.mutex);
	err = ivhost_vq_prepare(&q->vq);
	if (err && err != -EINPROGRESS)
		ivhost_vq_fail(&q->vq, err);
	return !err;
}

/**
 * ivhost_net_busy_poll() - poll for work before waiting for a kick
 * @q: the queue
 * @sock: poll this socket for a frame, or NULL to poll the avail ring
 *
 * Spins for at most the queue's VHOST_SET_VRING_BUSYLOOP_TIMEOUT, capped
 * at %IVHOST_BUSYLOOP_MAX_US, and gives up early when the worker should
 * yield the CPU, has other work queued (a kick of the other queue must
 * not wait for the timeout) or someone waits for the queue's mutex (a
 * barrier, an ioctl, a release).
 *
 * Context: the worker, under &q->vq.mutex.
 * Return: true if work arrived.
 */
bool ivhost_net_busy_poll(struct ivhost_net_queue *q, struct socket *sock)
	__must_hold(&q->vq.mutex)
{
	struct ivhost_vq *vq = &q->vq;
	u64 end;

	lockdep_assert_held(&vq->mutex);
	if (!vq->busyloop_timeout)
		return false;
	end = local_clock() + (u64)min(vq->busyloop_timeout,
				       IVHOST_BUSYLOOP_MAX_US) * NSEC_PER_USEC;
	do {
		if (sock ? ivhost_net_peek_len(sock) > 0 :
			   !ivhost_vq_avail_empty(vq))
			return true;
		if (need_resched() || !llist_empty(&vq->dev->work_list) ||
		    ivhost_vq_contended(vq))
			break;
		cpu_relax();
	} while (local_clock() < end);
	return false;
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
	sock = sock_from_file(file);
	if (sock && sock->sk->sk_family == AF_PACKET &&
	    sock->sk->sk_type == SOCK_RAW)
		return sock;
	fput(file);
	return ERR_PTR(-ENOTSOCK);
}

/*
 * Swap in @sock under the device and vq mutexes (the device's keeps the
 * worker that other queues are woken on alive); returns the socket it
 * replaced.
 */
static struct socket *ivhost_net_swap_backend(struct ivhost_net_queue *q,
					      struct socket *sock)
	__must_hold(&q->vq.mutex)
{
	struct ivhost_dev *dev = q->vq.dev;
	struct socket *old = q->vq.backend;

	lockdep_assert_held(&dev->mutex);
	lockdep_assert_held(&q->vq.mutex);
	ivhost_poll_stop(&q->sock_poll);
	q->vq.backend = sock;
	if (!old)
		return NULL;
	ivhost_vq_tlb_forget_misses(&q->vq);
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

	ivhost_vq_lock(&q->vq);
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
		ivhost_vq_lock(&q->vq);
		old = ivhost_net_swap_backend(q, NULL);
		mutex_unlock(&q->vq.mutex);
		if (old)
			fput(old->file);
	}
}

/* The virtio-net header the guest uses with @features. */
static size_t ivhost_net_hdr_len(u64 features)
{
	if (features & (BIT_ULL(VIRTIO_NET_F_MRG_RXBUF) |
			BIT_ULL(VIRTIO_F_VERSION_1)))
		return sizeof(struct virtio_net_hdr_mrg_rxbuf);
	return sizeof(struct virtio_net_hdr);
}

/*
 * With VHOST_NET_F_VIRTIO_NET_HDR the device adds and strips the header;
 * without it the socket must (a tap with IFF_VNET_HDR of that size).
 */
static void ivhost_net_set_hlens(struct ivhost_net_queue *q, u64 features)
{
	size_t hlen = ivhost_net_hdr_len(features);

	if (features & BIT_ULL(VHOST_NET_F_VIRTIO_NET_HDR)) {
		q->vhost_hlen = hlen;
		q->sock_hlen = 0;
	} else {
		q->vhost_hlen = 0;
		q->sock_hlen = hlen;
	}
}

static long ivhost_net_set_features(struct ivhost_net *n, u64 features)
	__must_hold(&n->dev.mutex)
{
	struct ivhost_net_queue *q;
	int i, err;

	lockdep_assert_held(&n->dev.mutex);
	if (features & ~IVHOST_NET_FEATURES)
		return -EOPNOTSUPP;
	err = ivhost_dev_check_layout(&n->dev, features);
	if (err)
		return err;
	for (i = 0; i < IVHOST_NET_NVQS; i++) {
		q = &n->q[i];
		ivhost_vq_lock(&q->vq);
		ivhost_net_set_hlens(q, features);
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
		ivhost_net_set_hlens(&n->q[i], 0);
	return 0;
}

static long ivhost_net_owner_ioctl(struct ivhost_net *n, unsigned int cmd,
				   void __user *argp)
	__must_hold(&n->dev.mutex)
{
	struct vhost_vring_file backend;
	u64 features;

	lockdep_assert_held(&n->dev.mutex);
	switch (cmd) {
	case VHOST_SET_FEATURES:
		if (copy_from_user(&features, argp, sizeof(features)))
			return -EFAULT;
		return ivhost_net_set_features(n, features);
	case VHOST_SET_BACKEND_FEATURES:
		if (copy_from_user(&features, argp, sizeof(features)))
			return -EFAULT;
		return ivhost_dev_set_backend_features(&n->dev, features);
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

	lockdep_assert_held(&n->dev.mutex);
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
	}
	r = ivhost_dev_unlocked_ioctl(&n->dev, cmd, argp);
	if (r != -ENOIOCTLCMD)
		return r;

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
	n->q[IVHOST_NET_RX].heads =
		kmalloc_array(IVHOST_NET_RX_HEADS,
			      sizeof(*n->q[IVHOST_NET_RX].heads),
			      GFP_KERNEL_ACCOUNT);
	err = -ENOMEM;
	if (!n->q[IVHOST_NET_RX].heads)
		goto free_net;
	for (i = 0; i < IVHOST_NET_NVQS; i++) {
		n->vqs[i] = &n->q[i].vq;
		n->q[i].vq.handle_kick = ivhost_net_handle_kick;
	}
	err = ivhost_dev_init(&n->dev, n->vqs, IVHOST_NET_NVQS);
	if (err)
		goto free_heads;
	ivhost_poll_init(&n->q[IVHOST_NET_RX].sock_poll, ivhost_net_handle_sock,
			 EPOLLIN, &n->dev);
	ivhost_poll_init(&n->q[IVHOST_NET_TX].sock_poll, ivhost_net_handle_sock,
			 EPOLLOUT, &n->dev);
	f->private_data = n;
	return stream_open(inode, f);

free_heads:
	kfree(n->q[IVHOST_NET_RX].heads);
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
	kfree(n->q[IVHOST_NET_RX].heads);
	kvfree(n);
	return 0;
}

static ssize_t ivhost_net_read_iter(struct kiocb *iocb, struct iov_iter *to)
{
	struct ivhost_net *n = iocb->ki_filp->private_data;

	return ivhost_dev_read_iter(&n->dev, to,
				    iocb->ki_filp->f_flags & O_NONBLOCK);
}

static ssize_t ivhost_net_write_iter(struct kiocb *iocb,
				     struct iov_iter *from)
{
	struct ivhost_net *n = iocb->ki_filp->private_data;

	return ivhost_dev_write_iter(&n->dev, from);
}

static __poll_t ivhost_net_poll(struct file *f, poll_table *wait)
{
	struct ivhost_net *n = f->private_data;

	return ivhost_dev_poll(&n->dev, f, wait);
}

static const struct file_operations ivhost_net_fops = {
	.owner		= THIS_MODULE,
	.open		= ivhost_net_open,
	.release	= ivhost_net_release,
	.read_iter	= ivhost_net_read_iter,
	.write_iter	= ivhost_net_write_iter,
	.poll		= ivhost_net_poll,
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
