// SPDX-License-Identifier: GPL-2.0
/*
 * ivhost-net transmit path: guest frames from the TX ring into the
 * backend socket.
 *
 * Each chain is one frame.  With VHOST_NET_F_VIRTIO_NET_HDR the device
 * strips the guest's virtio-net header; without it the whole buffer goes
 * to the socket, which consumes the header itself if it was set up for
 * one (a tap with IFF_VNET_HDR).  A frame the socket cannot take now
 * (EAGAIN) stays on the ring and the queue waits for the socket to have
 * room; a frame the socket refuses, or has no memory for, is consumed and
 * dropped.
 *
 * Locking: the round runs in the worker under the TX vq's mutex.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/socket.h>

#include "net.h"

/*
 * 0 if sent or dropped, -EAGAIN to retry when the socket has room,
 * -EINVAL if bad.  A socket out of memory (ENOMEM, ENOBUFS: a full
 * device queue behind a packet socket) drops the frame, as a NIC would:
 * its room does not come back with a poll event, so waiting for one
 * would spin.
 */
static int ivhost_net_tx_one(struct ivhost_net_queue *q, struct socket *sock,
			     const struct ivhost_buf *buf)
{
	struct msghdr msg = { .msg_flags = MSG_DONTWAIT };
	size_t len = buf->out_len;
	int ret;

	if (buf->in || len < q->vhost_hlen)
		return -EINVAL;
	iov_iter_init(&msg.msg_iter, ITER_SOURCE, buf->iov, buf->out, len);
	iov_iter_advance(&msg.msg_iter, q->vhost_hlen);
	len -= q->vhost_hlen;

	ret = sock->ops->sendmsg(sock, &msg, len);
	if (ret == -EAGAIN)
		return -EAGAIN;
	if (ret < 0)
		pr_debug("tx: frame of %zu bytes dropped: %d\n", len, ret);
	return 0;
}

/* The ring is empty: poll, or wait for a kick.  True ends the round. */
static bool ivhost_net_tx_idle(struct ivhost_net_queue *q)
{
	struct ivhost_vq *vq = &q->vq;

	if (ivhost_net_busy_poll(q, NULL))
		return false;
	if (!ivhost_vq_enable_notify(vq))
		return true;
	ivhost_vq_disable_notify(vq);
	return false;
}

/* Returns true when the round must end. */
static bool ivhost_net_tx_next(struct ivhost_net_queue *q, struct socket *sock,
			       size_t *bytes)
{
	struct ivhost_vq *vq = &q->vq;
	struct ivhost_buf buf;
	int err;

	ivhost_vq_frame_begin(vq);
	err = ivhost_vq_get_buf(vq, &buf, vq->iov, IVHOST_IOV_MAX);
	if (err == -EAGAIN)
		return ivhost_net_tx_idle(q);
	/* Waiting for the VMM to map the buffer; it wakes the queue. */
	if (err == -EINPROGRESS)
		return true;
	if (err)
		goto fail;
	err = ivhost_net_tx_one(q, sock, &buf);
	if (err) {
		/*
		 * Not sent: the chain stays available, to retry when the
		 * socket has room, or for the VMM to find at the position
		 * VHOST_GET_VRING_BASE reports once the queue is stopped.
		 */
		ivhost_vq_unget_bufs(vq, 1);
		if (err != -EAGAIN)
			goto fail;
		ivhost_poll_start(&q->sock_poll, sock->file);
		return true;
	}
	err = ivhost_vq_add_used(vq, &buf, 0);
	if (err)
		goto fail;
	*bytes += buf.out_len;
	return false;

fail:
	ivhost_vq_fail(vq, err);
	return true;
}

/**
 * ivhost_net_tx() - one transmit round
 * @q: the TX queue
 *
 * Sends frames until the ring is empty, the socket is full, or the
 * round's weights are used up; in the last case it queues itself again so
 * other work gets the worker in between.
 *
 * Context: the worker, with the owner's mm; takes &q->vq.mutex.
 */
void ivhost_net_tx(struct ivhost_net_queue *q)
{
	struct ivhost_vq *vq = &q->vq;
	u16 used_before;
	size_t bytes = 0;
	struct socket *sock;
	int pkts;

	mutex_lock(&vq->mutex);
	ivhost_poll_stop(&q->sock_poll);
	sock = vq->backend;
	if (!sock || vq->broken || !ivhost_net_round_ready(q))
		goto unlock;

	used_before = vq->last_used_idx;
	vq->walked = 0;
	ivhost_vq_disable_notify(vq);
	for (pkts = 1; !ivhost_net_tx_next(q, sock, &bytes); pkts++) {
		if (ivhost_net_weight_exceeded(vq, pkts, bytes)) {
			/* Yield; the rest is for the next round. */
			ivhost_work_queue(vq->dev, &vq->kick_poll.work);
			break;
		}
	}
	if (vq->last_used_idx != used_before) {
		ivhost_vq_signal(vq);
		ivhost_log_done(vq);
	}
unlock:
	mutex_unlock(&vq->mutex);
}
